/* Message templates: the shipped set, rendering, fallbacks, load checks. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "template.h"
#include "testlib.h"

#define SHIPPED DM_SOURCE_DIR "/etc/templates"

START_TEST(test_shipped_templates_pass_the_load_check)
{
    char err[512] = "";
    ck_assert_msg(dm_template_check_dir(SHIPPED, err, sizeof err), "%s", err);
}
END_TEST

/* English and French exist for every type, and the French is accented
 * UTF-8, not ASCII transliteration. */
START_TEST(test_english_and_french_for_every_type)
{
    bool accented = false;
    for (size_t i = 0; i < dm_n_message_types; i++) {
        const char *locales[] = {"en", "fr"};
        for (size_t l = 0; l < 2; l++) {
            char path[512];
            snprintf(path, sizeof path, "%s/%s/%s.txt", SHIPPED, locales[l], dm_message_types[i]);
            char *text = dm_read_file(path, NULL);
            ck_assert_msg(text != NULL, "missing %s", path);
            ck_assert_msg(strncmp(text, "Subject: ", 9) == 0, "%s: no Subject line", path);
            ck_assert_msg(strstr(text, "\n\n") != NULL, "%s: no blank line after Subject", path);
            if (l == 1 && (strstr(text, "\xc3\xa9") || strstr(text, "\xc3\xa0")))
                accented = true;
            free(text);
        }
    }
    ck_assert(accented);
}
END_TEST

START_TEST(test_render_french_request)
{
    const struct dm_template_var vars[] = {
        {"confirm_url", "https://x.example/c/TOKEN"},
        {"deadline_date", "28 d\xc3\xa9"
                          "cembre 2026"},
        {"last_activity_date", "1er octobre 2024"},
        {"subscriber_id", "42"},
    };
    char *subject = NULL, *body = NULL, err[256];
    ck_assert(dm_template_render(SHIPPED, "fr", "confirmation.requested", vars, 4, &subject, &body,
                                 err, sizeof err));
    ck_assert_ptr_null(strchr(subject, '\n'));
    ck_assert_ptr_nonnull(strstr(subject, "abonnement"));
    ck_assert_ptr_nonnull(strstr(body, "https://x.example/c/TOKEN"));
    ck_assert_ptr_nonnull(strstr(body, "28 d\xc3\xa9"
                                       "cembre 2026"));
    ck_assert_ptr_nonnull(strstr(body, "42"));
    ck_assert_ptr_null(strstr(body, "{{"));
    free(subject);
    free(body);
}
END_TEST

/* Regional French uses French; unknown and malformed locales use English. */
START_TEST(test_locale_fallbacks)
{
    const struct {
        const char *locale;
        const char *word; /* expected in the subject */
    } cases[] = {
        {"fr", "abonnement"},   {"fr_CA", "abonnement"},   {"fr-BE", "abonnement"},
        {"de", "subscription"}, {"../fr", "subscription"}, {NULL, "subscription"},
        {"", "subscription"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *subject = NULL, *body = NULL, err[256];
        ck_assert(dm_template_render(SHIPPED, cases[i].locale, "confirmation.requested", NULL, 0,
                                     &subject, &body, err, sizeof err));
        ck_assert_msg(strstr(subject, cases[i].word) != NULL, "%s: %s",
                      cases[i].locale ? cases[i].locale : "(null)", subject);
        free(subject);
        free(body);
    }
}
END_TEST

static char *copy_shipped(void)
{
    char *dir = dm_test_tmpdir();
    char sub[512];
    snprintf(sub, sizeof sub, "%s/en", dir);
    mkdir(sub, 0700);
    for (size_t i = 0; i < dm_n_message_types; i++) {
        char path[512], name[256];
        snprintf(path, sizeof path, "%s/en/%s.txt", SHIPPED, dm_message_types[i]);
        char *text = dm_read_file(path, NULL);
        snprintf(name, sizeof name, "%s.txt", dm_message_types[i]);
        free(dm_test_write_file(sub, name, text));
        free(text);
    }
    return dir;
}

START_TEST(test_unknown_placeholder_rejected_at_load)
{
    char *dir = copy_shipped();
    char sub[512], err[512] = "";
    snprintf(sub, sizeof sub, "%s/fr", dir);
    mkdir(sub, 0700);
    free(dm_test_write_file(sub, "subscription.confirmed.txt",
                            "Subject: Bonjour\n\nVotre code : {{coupon_code}}\n"));
    ck_assert(!dm_template_check_dir(dir, err, sizeof err));
    ck_assert_msg(strstr(err, "fr/subscription.confirmed.txt") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "coupon_code") != NULL, "%s", err);
    dm_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_missing_subject_or_english_rejected)
{
    char *dir = copy_shipped();
    char sub[512], err[512] = "";
    snprintf(sub, sizeof sub, "%s/en", dir);
    free(dm_test_write_file(sub, "subscriber.erased.txt", "Hello {{subscriber_id}}\n"));
    ck_assert(!dm_template_check_dir(dir, err, sizeof err));
    ck_assert_msg(strstr(err, "Subject") != NULL, "%s", err);
    snprintf(sub, sizeof sub, "%s/en/subscriber.erased.txt", dir);
    unlink(sub);
    ck_assert(!dm_template_check_dir(dir, err, sizeof err));
    ck_assert_msg(strstr(err, "subscriber.erased.txt") != NULL, "%s", err);
    dm_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_readable_dates)
{
    const struct {
        const char *iso, *locale, *want;
    } cases[] = {
        {"2026-12-28T23:00:00Z", "en", "28 December 2026"},
        {"2026-12-28T23:00:00Z", "fr",
         "28 d\xc3\xa9"
         "cembre 2026"},
        {"2024-10-01T20:11:00Z", "fr_CA", "1er octobre 2024"},
        {"2024-08-15T00:00:00Z", "fr", "15 ao\xc3\xbbt 2024"},
        {"2024-02-03T00:00:00Z", "pt", "3 February 2024"},
        {"2024-02-03T00:00:00Z", NULL, "3 February 2024"},
        {"yesterday", "en", ""},
        {NULL, "en", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        bool ok = dm_template_readable_date(cases[i].iso, cases[i].locale, out, sizeof out);
        ck_assert_str_eq(out, cases[i].want);
        ck_assert(ok == (cases[i].want[0] != '\0'));
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("template");
    TCase *tc = tcase_create("template");
    tcase_add_test(tc, test_shipped_templates_pass_the_load_check);
    tcase_add_test(tc, test_english_and_french_for_every_type);
    tcase_add_test(tc, test_render_french_request);
    tcase_add_test(tc, test_locale_fallbacks);
    tcase_add_test(tc, test_unknown_placeholder_rejected_at_load);
    tcase_add_test(tc, test_missing_subject_or_english_rejected);
    tcase_add_test(tc, test_readable_dates);
    suite_add_tcase(s, tc);
    return dm_test_run(s);
}
