/* Email: RFC 5322 messages from templates, sent through libcurl's SMTP. */
#include "email.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "domain.h"
#include "strbuf.h"
#include "template.h"

/* One SMTP transaction being made. */
struct dm_email_request {
    CURL *easy;
    struct curl_slist *rcpt;
    char *message;
    size_t len, off; /* message length and how much curl has read */
    char from_addr[320];
    char command[16]; /* the last SMTP command sent: "MAIL", "RCPT", "DATA" */
    char reply[256];  /* the server's last reply line to it, CR LF removed */
    bool quitting;    /* QUIT sent: its "221 Bye" is not the reply kept */
};

static bool has_line_break(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

bool dm_email_address_ok(const char *addr)
{
    const char *at = strchr(addr, '@');
    if (at == NULL || at == addr || at[1] == '\0' || strchr(at + 1, '@') != NULL)
        return false;
    if (strlen(addr) > 254)
        return false;
    for (const unsigned char *p = (const unsigned char *)addr; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>' || *p == ',' || *p == '"' ||
            *p == '(' || *p == ')' || *p == '\\')
            return false;
    return true;
}

bool dm_email_parse_from(const char *from, char *addr, size_t addrlen, char *domain,
                         size_t domainlen)
{
    const char *lt = strrchr(from, '<');
    const char *start = from, *end = from + strlen(from);
    if (lt != NULL) {
        const char *gt = strchr(lt, '>');
        if (gt == NULL)
            return false;
        start = lt + 1;
        end = gt;
    }
    while (start < end && *start == ' ')
        start++;
    while (end > start && end[-1] == ' ')
        end--;
    size_t n = (size_t)(end - start);
    if (n == 0 || n >= addrlen)
        return false;
    memcpy(addr, start, n);
    addr[n] = '\0';
    if (!dm_email_address_ok(addr))
        return false;
    snprintf(domain, domainlen, "%s", strchr(addr, '@') + 1);
    return true;
}

static bool plain_ascii(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            return false;
    return true;
}

/* Length of the UTF-8 sequence starting with byte c (1 for stray bytes). */
static size_t utf8_len(unsigned char c)
{
    if (c >= 0xf0 && c < 0xf8)
        return 4;
    if (c >= 0xe0)
        return c < 0xf0 ? 3 : 1;
    if (c >= 0xc0)
        return 2;
    return 1;
}

/* Longest header value sent as is: with "Subject: " and CRLF, well within
 * RFC 5322's 998 octets a line. Longer ones are encoded, hence folded. */
#define MAX_PLAIN_HEADER 900

char *dm_email_encode_header(const char *text)
{
    struct dm_strbuf b = {0};
    /* "=?UTF-8?B?" + "?=" is 12 characters; 75 - 12 = 63 of base64, which
     * is 45 bytes of input (15 groups of 3 bytes -> 60 characters). */
    const size_t max_chunk = 45;
    const unsigned char *p = (const unsigned char *)text;
    size_t n = strlen(text);

    dm_strbuf_add(&b, "", 0);
    if (plain_ascii(text) && n <= MAX_PLAIN_HEADER) {
        dm_strbuf_str(&b, text);
        return b.s;
    }
    size_t i = 0;
    bool first = true;
    while (i < n) {
        size_t chunk = 0;
        while (i + chunk < n) {
            size_t l = utf8_len(p[i + chunk]);
            if (l > n - i - chunk) /* a sequence cut short by the end of the text */
                l = n - i - chunk;
            if (chunk + l > max_chunk)
                break;
            chunk += l;
        }
        if (chunk == 0) /* a malformed run longer than a chunk: cut it */
            chunk = n - i < max_chunk ? n - i : max_chunk;
        unsigned char enc[4 * 16 + 4];
        int el = EVP_EncodeBlock(enc, p + i, (int)chunk);
        if (!first)
            dm_strbuf_str(&b, "\r\n ");
        dm_strbuf_str(&b, "=?UTF-8?B?");
        dm_strbuf_add(&b, (const char *)enc, (size_t)el);
        dm_strbuf_str(&b, "?=");
        first = false;
        i += chunk;
    }
    return b.s;
}

char *dm_email_quoted_printable(const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    struct dm_strbuf b = {0};
    size_t col = 0;

    dm_strbuf_add(&b, "", 0);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue;
        if (*p == '\n') {
            dm_strbuf_str(&b, "\r\n");
            col = 0;
            continue;
        }
        char tok[4];
        size_t tl;
        bool at_eol = p[1] == '\0' || p[1] == '\n' || (p[1] == '\r' && p[2] == '\n');
        if ((*p >= 33 && *p <= 126 && *p != '=') || ((*p == ' ' || *p == '\t') && !at_eol)) {
            tok[0] = (char)*p;
            tl = 1;
        } else {
            tok[0] = '=';
            tok[1] = hex[*p >> 4];
            tok[2] = hex[*p & 15];
            tl = 3;
        }
        /* Keep each line at 76 characters, the soft break's "=" included. */
        if (col + tl > 75) {
            dm_strbuf_str(&b, "=\r\n");
            col = 0;
        }
        dm_strbuf_add(&b, tok, tl);
        col += tl;
    }
    return b.s;
}

/* True when an ASCII display name must be a quoted-string (RFC 5322
 * 3.2.3: specials and characters outside atext). */
static bool needs_quotes(const char *name)
{
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && strchr(" !#$%&'*+-/=?^_`{|}~", *p) == NULL)
            return true;
    return false;
}

/* The From header: a non-ASCII display name encoded, an ASCII one quoted
 * when it needs it, then the address as dm_email_parse_from() found it
 * (nothing else of from is copied raw, so nothing there can make a line too
 * long or 8-bit). */
static char *encode_from(const char *from, const char *addr)
{
    struct dm_strbuf b = {0};
    const char *lt = strrchr(from, '<');
    if (lt == NULL) {
        dm_strbuf_str(&b, addr);
        return b.s;
    }
    size_t nl = (size_t)(lt - from);
    while (nl > 0 && from[nl - 1] == ' ')
        nl--;
    char *name = strndup(from, nl);
    if (name == NULL)
        abort();
    if (nl >= 2 && name[0] == '"' && name[nl - 1] == '"') {
        memmove(name, name + 1, nl - 2);
        name[nl - 2] = '\0';
    }
    if (name[0] != '\0') {
        /* Long names go encoded: encoded words fold, a quoted-string does not. */
        if (!plain_ascii(name) || strlen(name) > 200) {
            char *enc = dm_email_encode_header(name);
            dm_strbuf_str(&b, enc);
            free(enc);
        } else if (needs_quotes(name)) {
            dm_strbuf_str(&b, "\"");
            for (const char *p = name; *p; p++) {
                if (*p == '"' || *p == '\\')
                    dm_strbuf_str(&b, "\\");
                dm_strbuf_add(&b, p, 1);
            }
            dm_strbuf_str(&b, "\"");
        } else {
            dm_strbuf_str(&b, name);
        }
        dm_strbuf_str(&b, " ");
    }
    dm_strbuf_printf(&b, "<%s>", addr);
    free(name);
    return b.s;
}

/* One quoted-printable UTF-8 part's headers and body. */
static void add_part(struct dm_strbuf *b, const char *type, const char *text)
{
    char *qp = dm_email_quoted_printable(text);
    dm_strbuf_printf(b,
                     "Content-Type: %s; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                     type);
    dm_strbuf_str(b, qp);
    if (b->len < 2 || strcmp(b->s + b->len - 2, "\r\n") != 0)
        dm_strbuf_str(b, "\r\n");
    free(qp);
}

/* Quoted-printable never writes "=_", so no part can contain this. */
#define BOUNDARY "=_dormant_alternative"

char *dm_email_build(const struct dm_email_fields *f, char *err, size_t errlen)
{
    if (!dm_email_address_ok(f->to)) {
        snprintf(err, errlen, "the recipient address is not usable");
        return NULL;
    }
    if (has_line_break(f->from) || has_line_break(f->subject) || has_line_break(f->date) ||
        has_line_break(f->message_id)) {
        snprintf(err, errlen, "a header value contains a line break");
        return NULL;
    }
    char addr[320], domain[256];
    if (!dm_email_parse_from(f->from, addr, sizeof addr, domain, sizeof domain)) {
        snprintf(err, errlen, "the From address is not usable");
        return NULL;
    }
    struct dm_strbuf b = {0};
    char *from = encode_from(f->from, addr);
    char *subject = dm_email_encode_header(f->subject);

    dm_strbuf_str(&b, "Date: ");
    dm_strbuf_str(&b, f->date);
    dm_strbuf_str(&b, "\r\nFrom: ");
    dm_strbuf_str(&b, from);
    dm_strbuf_str(&b, "\r\nTo: ");
    dm_strbuf_str(&b, f->to);
    dm_strbuf_str(&b, "\r\nSubject: ");
    dm_strbuf_str(&b, subject);
    dm_strbuf_str(&b, "\r\nMessage-ID: <");
    dm_strbuf_str(&b, f->message_id);
    dm_strbuf_str(&b, ">\r\nMIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n");
    if (f->html == NULL) {
        add_part(&b, "text/plain", f->body);
    } else {
        dm_strbuf_str(&b, "Content-Type: multipart/alternative; boundary=\"" BOUNDARY "\"\r\n"
                          "\r\n--" BOUNDARY "\r\n");
        add_part(&b, "text/plain", f->body);
        dm_strbuf_str(&b, "--" BOUNDARY "\r\n");
        add_part(&b, "text/html", f->html);
        dm_strbuf_str(&b, "--" BOUNDARY "--\r\n");
    }
    free(from);
    free(subject);
    return b.s;
}

/* CURLOPT_READFUNCTION: hands curl the message. */
static size_t read_message(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct dm_email_request *r = userdata;
    size_t room = size * nitems, left = r->len - r->off;
    size_t n = left < room ? left : room;
    memcpy(buf, r->message + r->off, n);
    r->off += n;
    return n;
}

/* Blanks what could be an address in a server's reply: "<…>" and any
 * word with an "@". */
static void scrub(char *s)
{
    char *w = s;
    for (char *p = s; *p;) {
        if (*p == '<') {
            char *gt = strchr(p, '>');
            if (gt != NULL) {
                memcpy(w, "<...>", 5);
                w += 5;
                p = gt + 1;
                continue;
            }
        }
        size_t word = strcspn(p, " \t<");
        if (word > 0 && memchr(p, '@', word) != NULL) {
            memcpy(w, "...", 3);
            w += 3;
            p += word;
            continue;
        }
        if (word == 0)
            word = 1;
        memmove(w, p, word);
        w += word;
        p += word;
    }
    *w = '\0';
}

/* CURLOPT_DEBUGFUNCTION: remembers the last command sent (its verb only:
 * AUTH carries credentials) and the server's last reply to it. */
static int watch_dialogue(CURL *easy, curl_infotype type, char *data, size_t size, void *userdata)
{
    struct dm_email_request *r = userdata;
    if (type == CURLINFO_HEADER_OUT) {
        size_t n = strcspn(data, " :\r\n");
        if (n > size)
            n = size;
        if (n >= sizeof r->command)
            n = sizeof r->command - 1;
        if (n == 4 && strncasecmp(data, "QUIT", 4) == 0) {
            r->quitting = true; /* keep what the failing command got */
            return 0;
        }
        memcpy(r->command, data, n);
        r->command[n] = '\0';
        r->reply[0] = '\0';
    } else if (type == CURLINFO_HEADER_IN && !r->quitting) {
        size_t n = size < sizeof r->reply - 1 ? size : sizeof r->reply - 1;
        memcpy(r->reply, data, n);
        r->reply[n] = '\0';
        r->reply[strcspn(r->reply, "\r\n")] = '\0';
    }
    return 0;
}

struct dm_email_request *dm_email_request_new(const struct dm_config *cfg, const char *rcpt,
                                              const char *message, char *err, size_t errlen)
{
    struct dm_email_request *r = calloc(1, sizeof *r);
    char domain[256];

    if (r == NULL)
        abort();
    if (!dm_email_parse_from(cfg->email.from, r->from_addr, sizeof r->from_addr, domain,
                             sizeof domain)) {
        snprintf(err, errlen, "email.from has no usable address");
        goto fail;
    }
    if (!dm_email_address_ok(rcpt)) {
        snprintf(err, errlen, "the recipient address is not usable");
        goto fail;
    }
    char angle[330];
    snprintf(angle, sizeof angle, "<%s>", rcpt);
    r->rcpt = curl_slist_append(NULL, angle);
    r->message = strdup(message);
    r->easy = curl_easy_init();
    if (r->rcpt == NULL || r->message == NULL || r->easy == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    r->len = strlen(message);
    char mail_from[330];
    snprintf(mail_from, sizeof mail_from, "<%s>", r->from_addr);

    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_URL, cfg->email.smtp_url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, mail_from);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, r->rcpt);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_message);
    curl_easy_setopt(e, CURLOPT_READDATA, r);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->len);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)DM_EMAIL_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, watch_dialogue);
    curl_easy_setopt(e, CURLOPT_DEBUGDATA, r);
    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    switch (cfg->email.starttls) {
    case DM_STARTTLS_REQUIRED:
        curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
        break;
    case DM_STARTTLS_OPPORTUNISTIC:
        curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
        break;
    case DM_STARTTLS_NEVER:
        curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_NONE);
        break;
    }
    if (cfg->email.username[0] != '\0') {
        curl_easy_setopt(e, CURLOPT_USERNAME, cfg->email.username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, cfg->email.password);
    }
    return r;
fail:
    dm_email_request_free(r);
    return NULL;
}

CURL *dm_email_easy(struct dm_email_request *r)
{
    return r->easy;
}

/* The commands whose refusal is about the operator's setup, not about
 * the recipient: the greeting, TLS, the login and the sender. */
static bool operator_command(const char *command)
{
    static const char *const cmds[] = {"", "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", NULL};
    for (const char *const *c = cmds; *c; c++)
        if (strcasecmp(command, *c) == 0)
            return true;
    return false;
}

enum dm_email_outcome dm_email_result(struct dm_email_request *r, CURLcode rc, char *cause,
                                      size_t causelen)
{
    long code = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_OK) {
        snprintf(cause, causelen, "SMTP %ld", code);
        return DM_EMAIL_SENT;
    }
    int reply_code = 0;
    const char *after = strlen(r->reply) > 4 ? r->reply + 4 : "";
    if (sscanf(r->reply, "%3d", &reply_code) == 1 && reply_code >= 400 && reply_code < 600) {
        code = reply_code;
        /* "550-5.1.1 text" (the last line of a multi-line reply) reads as one. */
        char text[256];
        snprintf(text, sizeof text, "%s", after);
        scrub(text);
        snprintf(cause, causelen, "%s: SMTP %ld %s", r->command[0] ? r->command : "connect", code,
                 text);
    } else if (code >= 400 && code < 600) {
        snprintf(cause, causelen, "SMTP %ld: %s", code, curl_easy_strerror(rc));
    } else {
        snprintf(cause, causelen, "%s",
                 rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : curl_easy_strerror(rc));
    }
    if (rc == CURLE_LOGIN_DENIED || rc == CURLE_USE_SSL_FAILED)
        return DM_EMAIL_OPERATOR;
    if (code < 500 || code >= 600)
        return DM_EMAIL_RETRY;
    /* An enhanced status code of class 5.7 is security or policy: relaying
     * denied, authentication required, sender not allowed. */
    if (operator_command(r->command) || code == 530 || code == 535 || code == 538 ||
        strncmp(after, "5.7.", 4) == 0)
        return DM_EMAIL_OPERATOR;
    return DM_EMAIL_REJECTED;
}

void dm_email_request_free(struct dm_email_request *r)
{
    if (r == NULL)
        return;
    if (r->easy)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->rcpt);
    free(r->message);
    free(r);
}

struct dm_email_request *dm_email_prepare(const struct dm_config *cfg,
                                          const struct dm_email_message *m,
                                          enum dm_email_prep *prep, char *cause, size_t causelen)
{
    char err[200], from_addr[320], domain[256], msgid[320];
    struct dm_email_request *req = NULL;

    cause[0] = '\0';
    if (strcmp(m->type, "subscription.used_while_suspended") == 0) {
        /* Addressed to the application (webhook, outbox), not the subscriber. */
        *prep = DM_EMAIL_NONE;
        return NULL;
    }
    if (m->to == NULL || m->to[0] == '\0') {
        /* Informational messages to someone without an address (erased)
         * have no one to reach; a request or reminder must not count as
         * delivered without reaching anyone. */
        bool required = strcmp(m->type, dm_message_types[DM_MSG_REQUESTED]) == 0 ||
                        strcmp(m->type, dm_message_types[DM_MSG_REMINDER]) == 0;
        *prep = required ? DM_EMAIL_UNSENDABLE : DM_EMAIL_NONE;
        snprintf(cause, causelen, "no email address in the payload");
        return NULL;
    }
    if (!dm_email_address_ok(m->to)) {
        *prep = DM_EMAIL_UNSENDABLE;
        snprintf(cause, causelen, "unusable email address");
        return NULL;
    }
    struct dm_message msg = {0};
    char *message = NULL;
    *prep = DM_EMAIL_NOT_NOW;
    if (!dm_template_render(cfg->email.templates, m->locale, cfg->email.timezone, m->type, m->vars,
                            m->nvars, &msg, err, sizeof err)) {
        snprintf(cause, causelen, "%s", err);
        goto out;
    }
    if (!dm_email_parse_from(cfg->email.from, from_addr, sizeof from_addr, domain, sizeof domain)) {
        snprintf(cause, causelen, "email.from has no usable address");
        goto out;
    }
    snprintf(msgid, sizeof msgid, "dormant.%s@%s", m->id, domain);
    const struct dm_email_fields f = {
        .from = cfg->email.from,
        .to = m->to,
        .subject = msg.subject,
        .body = msg.text,
        .html = msg.html,
        .date = m->date,
        .message_id = msgid,
    };
    message = dm_email_build(&f, err, sizeof err);
    if (message == NULL) {
        *prep = DM_EMAIL_UNSENDABLE;
        snprintf(cause, causelen, "%s", err);
        goto out;
    }
    req = dm_email_request_new(cfg, m->to, message, err, sizeof err);
    if (req == NULL) {
        snprintf(cause, causelen, "%s", err);
        goto out;
    }
    *prep = DM_EMAIL_READY;
out:
    dm_message_free(&msg);
    free(message);
    return req;
}
