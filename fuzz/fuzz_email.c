/*
 * Fuzzes the e-mail header encoder and the message builder:
 * dm_email_encode_header(), dm_email_quoted_printable(), dm_email_build(),
 * dm_email_parse_from() and dm_email_address_ok().
 *
 * Input: SUBJECT NUL FROM NUL TO NUL BODY (missing parts are "").
 * Checked: encoded headers decode back to the input, in encoded-words of
 * at most 75 characters that never split a UTF-8 sequence; quoted-printable
 * decodes back to the body with CRLF line ends, in lines of at most 76
 * characters; a built message has CRLF line ends, lines within RFC 5322's
 * 998 and exactly the headers dm_email_build() writes.
 */
#include <openssl/evp.h>
#include <stdbool.h>

#include "email.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return 0;
}

static bool printable_ascii(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            return false;
    return true;
}

/* Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF). */
static bool valid_utf8(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        size_t l;
        unsigned lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            l = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            l = 3;
            lo = c == 0xe0 ? 0xa0 : 0x80;
            hi = c == 0xed ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
            l = 4;
            lo = c == 0xf0 ? 0x90 : 0x80;
            hi = c == 0xf4 ? 0x8f : 0xbf;
        } else {
            return false;
        }
        if (i + l > n || p[i + 1] < lo || p[i + 1] > hi)
            return false;
        for (size_t k = 2; k < l; k++)
            if (p[i + k] < 0x80 || p[i + k] > 0xbf)
                return false;
        i += l;
    }
    return true;
}

static void check_header(const char *text)
{
    char *enc = dm_email_encode_header(text);
    size_t n = strlen(text);
    FUZZ_ASSERT(enc != NULL);
    if (printable_ascii(text) && n <= 900) {
        FUZZ_ASSERT(strcmp(enc, text) == 0);
        free(enc);
        return;
    }
    bool utf8 = valid_utf8((const unsigned char *)text, n);
    unsigned char *dec = malloc(n + 64);
    size_t dl = 0;
    if (dec == NULL)
        abort();
    for (char *w = enc;;) {
        char *end = strstr(w, "\r\n ");
        size_t wl = end ? (size_t)(end - w) : strlen(w);
        FUZZ_ASSERT(wl <= 75 && wl >= 12);
        FUZZ_ASSERT(strncmp(w, "=?UTF-8?B?", 10) == 0 && strncmp(w + wl - 2, "?=", 2) == 0);
        size_t bl = wl - 12;
        FUZZ_ASSERT(bl % 4 == 0 && bl > 0);
        unsigned char chunk[64];
        int cl = EVP_DecodeBlock(chunk, (const unsigned char *)w + 10, (int)bl);
        FUZZ_ASSERT(cl >= 0);
        if (w[10 + bl - 1] == '=')
            cl--;
        if (w[10 + bl - 2] == '=')
            cl--;
        FUZZ_ASSERT(dl + (size_t)cl <= n);
        if (utf8)
            FUZZ_ASSERT(valid_utf8(chunk, (size_t)cl));
        memcpy(dec + dl, chunk, (size_t)cl);
        dl += (size_t)cl;
        if (end == NULL)
            break;
        w = end + 3;
    }
    FUZZ_ASSERT(dl == n && memcmp(dec, text, n) == 0);
    free(dec);
    free(enc);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void check_qp(const char *body)
{
    char *qp = dm_email_quoted_printable(body);
    size_t n = strlen(body);
    /* The body with every bare LF made CRLF. */
    char *want = malloc(2 * n + 1), *got = malloc(strlen(qp) + 1);
    size_t wl = 0, gl = 0;
    if (want == NULL || got == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (body[i] == '\n' && (i == 0 || body[i - 1] != '\r'))
            want[wl++] = '\r';
        want[wl++] = body[i];
    }
    size_t col = 0;
    for (const char *p = qp; *p; p++) {
        if (p[0] == '\r') {
            FUZZ_ASSERT(p[1] == '\n');
            FUZZ_ASSERT(col <= 76);
            col = 0;
            got[gl++] = '\r';
            got[gl++] = '\n';
            p++;
            continue;
        }
        FUZZ_ASSERT((*p >= 33 && *p <= 126) || *p == ' ' || *p == '\t');
        col++;
        if (*p == '=') {
            if (p[1] == '\r') {
                FUZZ_ASSERT(p[2] == '\n');
                FUZZ_ASSERT(col <= 76);
                col = 0;
                p += 2;
                continue;
            }
            int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
            FUZZ_ASSERT(hi >= 0 && lo >= 0);
            got[gl++] = (char)(hi * 16 + lo);
            col += 2;
            p += 2;
            continue;
        }
        got[gl++] = *p;
    }
    FUZZ_ASSERT(col <= 76);
    FUZZ_ASSERT(gl == wl && memcmp(got, want, wl) == 0);
    free(want);
    free(got);
    free(qp);
}

static void check_message(const char *msg)
{
    size_t headers = 0;
    bool in_headers = true;
    for (const char *line = msg; *line;) {
        const char *end = strstr(line, "\r\n");
        FUZZ_ASSERT(end != NULL); /* ends with CRLF */
        size_t l = (size_t)(end - line);
        FUZZ_ASSERT(memchr(line, '\n', l) == NULL && memchr(line, '\r', l) == NULL);
        FUZZ_ASSERT(l <= 998);
        if (in_headers) {
            if (l == 0)
                in_headers = false;
            else if (line[0] != ' ' && line[0] != '\t')
                headers++;
        }
        line = end + 2;
    }
    FUZZ_ASSERT(!in_headers && headers == 9);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *subject, *rest;
    fuzz_split(data, size, &subject, &rest);
    char *from = rest;
    char *to = from + strlen(from);
    if ((size_t)(to - subject) < size)
        to++;
    char *body = to + strlen(to);
    if ((size_t)(body - subject) < size)
        body++;

    check_header(subject);
    check_qp(body);

    char addr[320], domain[256];
    if (dm_email_parse_from(from, addr, sizeof addr, domain, sizeof domain)) {
        FUZZ_ASSERT(dm_email_address_ok(addr));
        FUZZ_ASSERT(strchr(addr, '@') && strcmp(strchr(addr, '@') + 1, domain) == 0);
    }
    if (dm_email_address_ok(to))
        FUZZ_ASSERT(strpbrk(to, " <>\r\n") == NULL && strchr(to, '@'));

    struct dm_email_fields f = {
        .from = from,
        .to = to,
        .subject = subject,
        .body = body,
        .date = "Sat, 28 Nov 2026 23:00:00 +0000",
        .message_id = "dormant.42@example.com",
    };
    char err[256];
    char *msg = dm_email_build(&f, err, sizeof err);
    if (msg) {
        check_message(msg);
        free(msg);
    }
    free(subject);
    return 0;
}
