/* Email message building: addresses, RFC 2047 headers, quoted-printable. */
#include <check.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "email.h"
#include "template.h"
#include "testlib.h"

START_TEST(test_addresses)
{
    const struct {
        const char *addr;
        bool ok;
    } cases[] = {
        {"ana@example.com", true},
        {"a.b+tag@sub.example.org", true},
        {"", false},
        {"ana", false},
        {"@example.com", false},
        {"ana@", false},
        {"ana@b@c", false},
        {"ana @example.com", false},
        {"ana@example.com\r\nBcc: eve@example.com", false},
        {"<ana@example.com>", false},
        {"ana@example.com,eve@example.com", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(dm_email_address_ok(cases[i].addr) == cases[i].ok, "%s", cases[i].addr);
}
END_TEST

START_TEST(test_parse_from)
{
    char addr[128], domain[128];
    ck_assert(dm_email_parse_from("Example <no-reply@example.com>", addr, sizeof addr, domain,
                                  sizeof domain));
    ck_assert_str_eq(addr, "no-reply@example.com");
    ck_assert_str_eq(domain, "example.com");
    ck_assert(
        dm_email_parse_from("bot@mail.example.org", addr, sizeof addr, domain, sizeof domain));
    ck_assert_str_eq(domain, "mail.example.org");
    ck_assert(!dm_email_parse_from("Example <nowhere>", addr, sizeof addr, domain, sizeof domain));
    ck_assert(!dm_email_parse_from("Example <a@b", addr, sizeof addr, domain, sizeof domain));
}
END_TEST

/* Decodes one "=?UTF-8?B?...?=" word into out; returns its length. */
static int decode_word(const char *w, size_t wl, unsigned char *out)
{
    ck_assert(wl > 12);
    ck_assert(strncmp(w, "=?UTF-8?B?", 10) == 0);
    ck_assert(strncmp(w + wl - 2, "?=", 2) == 0);
    int n = EVP_DecodeBlock(out, (const unsigned char *)w + 10, (int)(wl - 12));
    ck_assert_int_ge(n, 0);
    if (w[wl - 3] == '=')
        n--;
    if (w[wl - 4] == '=')
        n--;
    return n;
}

/* True when s[0..n) is whole UTF-8 sequences. */
static bool whole_utf8(const unsigned char *s, int n)
{
    int i = 0;
    while (i < n) {
        int l = s[i] < 0x80 ? 1 : s[i] >= 0xf0 ? 4 : s[i] >= 0xe0 ? 3 : 2;
        if (i + l > n)
            return false;
        for (int k = 1; k < l; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
        i += l;
    }
    return true;
}

START_TEST(test_header_encoding)
{
    char *plain = dm_email_encode_header("Do you still want your subscription?");
    ck_assert_str_eq(plain, "Do you still want your subscription?");
    free(plain);

    const char *fr = "Rappel : conserver votre abonnement ? Merci de r\xc3\xa9pondre avant le 28 "
                     "d\xc3\xa9"
                     "cembre 2026 \xe2\x80\x94 \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
    char *enc = dm_email_encode_header(fr);
    /* Folded encoded-words of at most 75 characters, each whole UTF-8,
     * that decode back to the subject. */
    unsigned char decoded[1024];
    size_t dl = 0;
    int words = 0;
    for (char *w = enc; *w;) {
        size_t wl = strcspn(w, "\r");
        ck_assert_int_le(wl, 75);
        unsigned char part[256];
        int n = decode_word(w, wl, part);
        ck_assert(whole_utf8(part, n));
        memcpy(decoded + dl, part, (size_t)n);
        dl += (size_t)n;
        words++;
        w += wl;
        if (*w) {
            ck_assert(strncmp(w, "\r\n ", 3) == 0);
            w += 3;
        }
    }
    decoded[dl] = '\0';
    ck_assert_int_gt(words, 1);
    ck_assert_str_eq((char *)decoded, fr);
    free(enc);
}
END_TEST

/* Found by fuzz_email: a text ending inside a UTF-8 sequence made the
 * encoder read past its end (the NUL and beyond) into the last word. */
START_TEST(test_header_encoding_cut_sequence)
{
    const char *texts[] = {"caf\xc3", "\xe2\x80", "abc \xf0\x9f\x98", "\xc3"};
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        size_t n = strlen(texts[t]);
        char *exact = malloc(n + 1); /* no slack for the over-read to hide in */
        memcpy(exact, texts[t], n + 1);
        char *enc = dm_email_encode_header(exact);
        unsigned char part[256];
        int dl = decode_word(enc, strlen(enc), part);
        ck_assert_int_eq(dl, (int)n);
        ck_assert(memcmp(part, texts[t], n) == 0);
        free(enc);
        free(exact);
    }
}
END_TEST

/* Found by fuzz_email: a From with raw bytes around its address, or a long
 * ASCII header, made lines over RFC 5322's 998 octets (and 8-bit headers). */
START_TEST(test_header_lines_bounded)
{
    char subject[2001], err[256];
    memset(subject, 'a', sizeof subject - 1);
    subject[sizeof subject - 1] = '\0';
    struct dm_email_fields f = {
        .from = "Example <no-reply@example.com> \xff\xff trailing",
        .to = "ana@example.com",
        .subject = subject,
        .body = "Hello\n",
        .date = "Sat, 28 Nov 2026 23:00:00 +0000",
        .message_id = "dormant.1@example.com",
    };
    char *msg = dm_email_build(&f, err, sizeof err);
    ck_assert_ptr_nonnull(msg);
    for (const char *line = msg; *line;) {
        const char *end = strstr(line, "\r\n");
        ck_assert_ptr_nonnull(end);
        ck_assert_int_le(end - line, 998);
        line = end + 2;
    }
    ck_assert_ptr_nonnull(strstr(msg, "\r\nFrom: Example <no-reply@example.com>\r\n"));
    ck_assert_ptr_null(strchr(msg, '\xff'));
    free(msg);

    f.from = "<\xb1\xbb no address";
    ck_assert_ptr_null(dm_email_build(&f, err, sizeof err));
    ck_assert_str_eq(err, "the From address is not usable");
}
END_TEST

/* Undoes quoted-printable. */
static char *qp_decode(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    while (*s) {
        if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
            s += 3;
        } else if (s[0] == '=') {
            unsigned v;
            ck_assert(sscanf(s + 1, "%2X", &v) == 1);
            *o++ = (char)v;
            s += 3;
        } else if (s[0] == '\r' && s[1] == '\n') {
            *o++ = '\n';
            s += 2;
        } else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    return out;
}

START_TEST(test_quoted_printable)
{
    const char *text =
        "Bonjour,\n\nVous n'avez pas utilis\xc3\xa9 votre abonnement = 1er.\n"
        "trailing space \n"
        "https://account.example.com/dormant/c/"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n";
    char *qp = dm_email_quoted_printable(text);
    ck_assert_ptr_nonnull(strstr(qp, "utilis=C3=A9"));
    ck_assert_ptr_nonnull(strstr(qp, "abonnement =3D 1er"));
    ck_assert_ptr_nonnull(strstr(qp, "space=20\r\n"));
    ck_assert_ptr_null(strstr(qp, "\n\n"));
    for (const char *line = qp; *line;) {
        size_t l = strcspn(line, "\r");
        ck_assert_int_le(l, 76);
        for (size_t i = 0; i < l; i++)
            ck_assert((unsigned char)line[i] < 0x80);
        line += l;
        if (*line)
            line += 2;
    }
    char *back = qp_decode(qp);
    ck_assert_str_eq(back, text);
    free(back);
    free(qp);
}
END_TEST

START_TEST(test_build_message)
{
    char err[256];
    const struct dm_email_fields f = {
        .from = "Caf\xc3\xa9 Cin\xc3\xa9ma <no-reply@example.com>",
        .to = "ana@example.com",
        .subject = "Souhaitez-vous conserver votre abonnement\xc2\xa0?",
        .body = "Bonjour,\nVoici le lien : https://x.example/c/T\n",
        .date = "Sat, 28 Nov 2026 23:00:00 +0000",
        .message_id = "dormant.42@example.com",
    };
    char *m = dm_email_build(&f, err, sizeof err);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(strstr(m, "Date: Sat, 28 Nov 2026 23:00:00 +0000\r\n"));
    ck_assert_ptr_nonnull(strstr(m, "From: =?UTF-8?B?"));
    ck_assert_ptr_nonnull(strstr(m, " <no-reply@example.com>\r\n"));
    ck_assert_ptr_nonnull(strstr(m, "\r\nTo: ana@example.com\r\n"));
    ck_assert_ptr_nonnull(strstr(m, "\r\nSubject: =?UTF-8?B?"));
    ck_assert_ptr_nonnull(strstr(m, "\r\nMessage-ID: <dormant.42@example.com>\r\n"));
    ck_assert_ptr_nonnull(strstr(m, "\r\nMIME-Version: 1.0\r\n"));
    ck_assert_ptr_nonnull(strstr(m, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
    ck_assert_ptr_nonnull(strstr(m, "\r\nContent-Transfer-Encoding: quoted-printable\r\n"));
    ck_assert_ptr_nonnull(strstr(m, "\r\n\r\nBonjour,\r\nVoici le lien : https://x.example/c/T"));
    for (const unsigned char *p = (const unsigned char *)m; *p; p++) {
        ck_assert(*p < 0x80);
        if (*p == '\n')
            ck_assert(p > (const unsigned char *)m && p[-1] == '\r');
    }
    free(m);

    /* No header injection through any field. */
    struct dm_email_fields bad = f;
    bad.subject = "Hi\r\nBcc: eve@example.com";
    ck_assert_ptr_null(dm_email_build(&bad, err, sizeof err));
    bad = f;
    bad.to = "ana@example.com\nBcc: eve@example.com";
    ck_assert_ptr_null(dm_email_build(&bad, err, sizeof err));
    ck_assert_ptr_null(strstr(err, "ana@"));
}
END_TEST

/* The From display name: quoted when RFC 5322 needs it, escaped inside. */
START_TEST(test_from_display_names)
{
    const struct {
        const char *from, *want;
    } cases[] = {
        {"Dormant, Inc. <no-reply@example.com>",
         "From: \"Dormant, Inc.\" <no-reply@example.com>\r\n"},
        {"Example <no-reply@example.com>", "From: Example <no-reply@example.com>\r\n"},
        {"\"Dormant, Inc.\" <no-reply@example.com>",
         "From: \"Dormant, Inc.\" <no-reply@example.com>\r\n"},
        {"Ana \\ \"Bo\" <no-reply@example.com>",
         "From: \"Ana \\\\ \\\"Bo\\\"\" <no-reply@example.com>\r\n"},
        {"no-reply@example.com", "From: no-reply@example.com\r\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256];
        const struct dm_email_fields f = {
            .from = cases[i].from,
            .to = "ana@example.com",
            .subject = "Hi",
            .body = "x\n",
            .date = "Sat, 28 Nov 2026 23:00:00 +0000",
            .message_id = "dormant.1@example.com",
        };
        char *m = dm_email_build(&f, err, sizeof err);
        ck_assert_msg(strstr(m, cases[i].want) != NULL, "case %zu: %s", i, m);
        free(m);
    }
}
END_TEST

/* Text and HTML: one multipart/alternative, the HTML last, both UTF-8 QP. */
START_TEST(test_build_alternative)
{
    char err[256];
    const struct dm_email_fields f = {
        .from = "Example <no-reply@example.com>",
        .to = "ana@example.com",
        .subject = "Hi",
        .body = "Bonjour \xc3\xa0 vous\n",
        .html = "<p>Bonjour \xc3\xa0 <a href=\"https://x.example/c/T?a=1&amp;b=2\">vous</a></p>\n",
        .date = "Sat, 28 Nov 2026 23:00:00 +0000",
        .message_id = "dormant.1@example.com",
    };
    char *m = dm_email_build(&f, err, sizeof err);
    ck_assert_ptr_nonnull(m);
    const char *alt = strstr(m, "Content-Type: multipart/alternative; boundary=\"");
    ck_assert_ptr_nonnull(alt);
    const char *text = strstr(m, "Content-Type: text/plain; charset=utf-8\r\n");
    const char *html = strstr(m, "Content-Type: text/html; charset=utf-8\r\n");
    ck_assert(text != NULL && html != NULL && alt < text && text < html);
    ck_assert_ptr_nonnull(strstr(text, "Bonjour =C3=A0 vous"));
    ck_assert_ptr_nonnull(strstr(html, "href=3D\"https://x.example/c/T?a=3D1&amp;b=3D2\""));
    /* The boundary appears only as delimiters: opening, between, closing. */
    char boundary[128];
    ck_assert(sscanf(alt, "Content-Type: multipart/alternative; boundary=\"%127[^\"]", boundary) ==
              1);
    int n = 0;
    for (const char *p = strstr(m, boundary); p; p = strstr(p + 1, boundary))
        n++;
    ck_assert_int_eq(n, 4);
    char closing[160];
    snprintf(closing, sizeof closing, "\r\n--%s--\r\n", boundary);
    ck_assert_ptr_nonnull(strstr(m, closing));
    free(m);
}
END_TEST

/* Preparing an outbox message: who gets nothing, who cannot be reached, and
 * a real message otherwise. */
START_TEST(test_prepare)
{
    struct dm_config cfg = {0};
    cfg.email.smtp_url = "smtp://127.0.0.1:1";
    cfg.email.from = "Example <no-reply@example.com>";
    cfg.email.username = cfg.email.password = cfg.email.password_file = "";
    cfg.email.templates = DM_SOURCE_DIR "/etc/templates";
    cfg.email.timezone = "UTC";
    const struct dm_template_var vars[] = {
        {"subscriber_id", "7"},
        {"confirm_url", "https://x.example/c/TOKEN"},
        {"deadline", "2026-12-29T00:00:00Z"},
        {"type", "confirmation.requested"},
    };
    struct dm_email_message m = {.id = "42",
                                 .type = "confirmation.requested",
                                 .to = "user7@example.com",
                                 .locale = "en",
                                 .date = "Sun, 29 Nov 2026 07:00:00 +0000",
                                 .vars = vars,
                                 .nvars = sizeof vars / sizeof vars[0]};
    enum dm_email_prep prep;
    char cause[200];
    struct dm_email_request *r = dm_email_prepare(&cfg, &m, &prep, cause, sizeof cause);
    ck_assert_msg(prep == DM_EMAIL_READY, "%s", cause);
    ck_assert_ptr_nonnull(r);
    dm_email_request_free(r);

    m.to = "";
    ck_assert_ptr_null(dm_email_prepare(&cfg, &m, &prep, cause, sizeof cause));
    ck_assert_int_eq(prep, DM_EMAIL_UNSENDABLE); /* a request must reach someone */
    ck_assert_str_eq(cause, "no email address in the payload");
    m.type = "subscription.suspended";
    ck_assert_ptr_null(dm_email_prepare(&cfg, &m, &prep, cause, sizeof cause));
    ck_assert_int_eq(prep, DM_EMAIL_NONE); /* a notice to someone erased */
    m.to = "two@at@example.com";
    ck_assert_ptr_null(dm_email_prepare(&cfg, &m, &prep, cause, sizeof cause));
    ck_assert_int_eq(prep, DM_EMAIL_UNSENDABLE);
    ck_assert_ptr_null(strstr(cause, "two@at"));
    m.type = "subscription.used_while_suspended"; /* for the application */
    ck_assert_ptr_null(dm_email_prepare(&cfg, &m, &prep, cause, sizeof cause));
    ck_assert_int_eq(prep, DM_EMAIL_NONE);
    m.type = "confirmation.requested";
    m.to = "user7@example.com";
    cfg.email.from = "nobody";
    ck_assert_ptr_null(dm_email_prepare(&cfg, &m, &prep, cause, sizeof cause));
    ck_assert_int_eq(prep, DM_EMAIL_NOT_NOW);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("email");
    TCase *tc = tcase_create("email");
    tcase_add_test(tc, test_addresses);
    tcase_add_test(tc, test_parse_from);
    tcase_add_test(tc, test_header_encoding);
    tcase_add_test(tc, test_header_encoding_cut_sequence);
    tcase_add_test(tc, test_header_lines_bounded);
    tcase_add_test(tc, test_quoted_printable);
    tcase_add_test(tc, test_build_message);
    tcase_add_test(tc, test_from_display_names);
    tcase_add_test(tc, test_build_alternative);
    tcase_add_test(tc, test_prepare);
    suite_add_tcase(s, tc);
    return dm_test_run(s);
}
