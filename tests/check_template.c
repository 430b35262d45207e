/* Message templates: the shipped set, rendering, fallbacks, load checks. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "localdate.h"
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
        const char *locales[] = {"en", "fr", "de", "es"};
        for (size_t l = 0; l < 4; l++) {
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
    struct dm_message m;
    ck_assert(dm_template_render(SHIPPED, "fr", "UTC", "confirmation.requested", vars, 4, &m, err,
                                 sizeof err));
    subject = m.subject;
    body = m.text;
    ck_assert_ptr_null(strchr(subject, '\n'));
    ck_assert_ptr_nonnull(strstr(subject, "abonnement"));
    ck_assert_ptr_nonnull(strstr(body, "https://x.example/c/TOKEN"));
    ck_assert_ptr_nonnull(strstr(body, "28 d\xc3\xa9"
                                       "cembre 2026"));
    ck_assert_ptr_nonnull(strstr(body, "42"));
    ck_assert_ptr_null(strstr(body, "{{"));
    ck_assert_ptr_nonnull(strstr(m.html, "<html lang=\"fr\">"));
    ck_assert_ptr_nonnull(strstr(m.html, "href=\"https://x.example/c/TOKEN\""));
    dm_message_free(&m);
}
END_TEST

/* Regional French uses French; unknown and malformed locales use English. */
START_TEST(test_locale_fallbacks)
{
    const struct {
        const char *locale;
        const char *word; /* expected in the subject */
    } cases[] = {
        {"fr", "abonnement"},      {"fr_CA", "abonnement"},
        {"fr-BE", "abonnement"},   {"de", "Abo"},
        {"es-MX", "suscripci"},    {"pt", "subscription"},
        {"../fr", "subscription"}, {NULL, "subscription"},
        {"", "subscription"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256];
        struct dm_message m;
        ck_assert(dm_template_render(SHIPPED, cases[i].locale, NULL, "confirmation.requested", NULL,
                                     0, &m, err, sizeof err));
        ck_assert_msg(strstr(m.subject, cases[i].word) != NULL, "%s: %s",
                      cases[i].locale ? cases[i].locale : "(null)", m.subject);
        dm_message_free(&m);
    }
}
END_TEST

static void copy_file(const char *from, const char *todir, const char *name)
{
    char *text = dm_read_file(from, NULL);
    ck_assert_msg(text != NULL, "%s", from);
    free(dm_test_write_file(todir, name, text));
    free(text);
}

/* A templates directory with the shipped English messages and layout. */
static char *copy_shipped(void)
{
    char *dir = dm_test_tmpdir();
    char sub[512], path[512], name[256];
    snprintf(sub, sizeof sub, "%s/en", dir);
    mkdir(sub, 0700);
    copy_file(SHIPPED "/mail.html", dir, "mail.html");
    for (size_t i = 0; i < dm_n_message_types; i++) {
        for (int html = 0; html < 2; html++) {
            snprintf(name, sizeof name, "%s.%s", dm_message_types[i], html ? "html" : "txt");
            snprintf(path, sizeof path, "%s/en/%s", SHIPPED, name);
            copy_file(path, sub, name);
        }
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

START_TEST(test_request_without_link_rejected)
{
    char *dir = copy_shipped();
    char sub[512], err[512] = "";
    snprintf(sub, sizeof sub, "%s/en", dir);
    free(dm_test_write_file(sub, "confirmation.reminder.txt",
                            "Subject: Still there?\n\nReply to this e-mail.\n"));
    ck_assert(!dm_template_check_dir(dir, err, sizeof err));
    ck_assert_msg(strstr(err, "en/confirmation.reminder.txt") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "{{confirm_url}}") != NULL, "%s", err);
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

/* Dates in the zone asked and the language asked, from ICU's data. */
START_TEST(test_local_dates)
{
    const struct {
        const char *iso, *locale, *tz;
        enum dm_date_style style;
        const char *want;
    } cases[] = {
        {"2026-12-28T23:30:00Z", "en", "UTC", DM_DATE_LONG, "28 December 2026"},
        {"2026-12-28T23:30:00Z", "en", "Europe/Paris", DM_DATE_LONG, "29 December 2026"},
        {"2026-12-28T23:30:00Z", "en", "America/New_York", DM_DATE_FULL,
         "Monday, 28 December 2026"},
        {"2026-12-28T23:30:00Z", "en-US", "Europe/Paris", DM_DATE_LONG, "December 29, 2026"},
        {"2026-12-28T23:30:00Z", "fr", "Europe/Paris", DM_DATE_FULL,
         "mardi 29 d\xc3\xa9"
         "cembre 2026"},
        {"2026-12-28T23:30:00Z", "de", "Europe/Berlin", DM_DATE_FULL,
         "Dienstag, 29. Dezember 2026"},
        {"2026-12-28T23:30:00Z", "es", "Europe/Madrid", DM_DATE_LONG, "29 de diciembre de 2026"},
        {"2026-12-28T23:30:00Z", "de", "Europe/Berlin", DM_TIME_SHORT, "00:30"},
        {"2024-08-15T12:00:00Z", "pt_BR", "America/Sao_Paulo", DM_DATE_LONG,
         "15 de agosto de 2024"},
        {"2024-02-03T00:00:00Z", NULL, NULL, DM_DATE_LONG, "3 February 2024"},
        {"2024-02-03T00:00:00Z", "../x", NULL, DM_DATE_LONG, "3 February 2024"},
        {"2024-02-03", "en", NULL, DM_DATE_LONG, ""},
        {"yesterday", "en", NULL, DM_DATE_LONG, ""},
        {NULL, "en", NULL, DM_DATE_LONG, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[128];
        bool ok = dm_localdate_format(cases[i].iso, cases[i].locale, cases[i].tz, cases[i].style,
                                      out, sizeof out);
        ck_assert_msg(strcmp(out, cases[i].want) == 0, "case %zu: %s", i, out);
        ck_assert(ok == (cases[i].want[0] != '\0'));
    }
    ck_assert(dm_localdate_zone_ok("Europe/Paris"));
    ck_assert(dm_localdate_zone_ok("UTC"));
    ck_assert(!dm_localdate_zone_ok("Europe/Atlantis"));
    ck_assert(!dm_localdate_zone_ok(""));
}
END_TEST

/* A deadline is stated as the last moment inside it (promise 3): the day
 * that ends at a local midnight and its last minute; anything else to its
 * last second. */
START_TEST(test_deadline_stated)
{
    const struct {
        const char *iso, *locale, *tz, *date, *time;
    } cases[] = {
        /* Midnight in Paris ends Monday 28 December there. */
        {"2026-12-28T23:00:00Z", "en", "Europe/Paris", "Monday, 28 December 2026",
         "11:59\xe2\x80\xafpm"},
        {"2026-12-28T23:00:00Z", "de", "Europe/Paris", "Montag, 28. Dezember 2026", "23:59"},
        /* The same instant is not a midnight in UTC: stated to the second. */
        {"2026-12-28T23:00:00Z", "de", "UTC", "Montag, 28. Dezember 2026", "22:59:59"},
        /* Midnight UTC ends the day before; a half-hour zone's own midnight. */
        {"2026-12-29T00:00:00Z", "fr", "UTC",
         "lundi 28 d\xc3\xa9"
         "cembre 2026",
         "23:59"},
        {"2026-07-01T02:30:00Z", "en", "America/St_Johns", "Tuesday, 30 June 2026",
         "11:59\xe2\x80\xafpm"},
        {"2026-12-28T14:32:07Z", "en", "UTC", "Monday, 28 December 2026", "2:32:06\xe2\x80\xafpm"},
        {"not a time", "en", "UTC", "", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char date[128], time[64];
        bool ok = dm_localdate_deadline(cases[i].iso, cases[i].locale, cases[i].tz, date,
                                        sizeof date, time, sizeof time);
        ck_assert_msg(strcmp(date, cases[i].date) == 0, "case %zu: %s", i, date);
        ck_assert_msg(strcmp(time, cases[i].time) == 0, "case %zu: %s", i, time);
        ck_assert(ok == (cases[i].date[0] != '\0'));
    }
}
END_TEST

/* Sections: by value, by rule, by reason, inverted, standalone lines. */
START_TEST(test_sections)
{
    const struct dm_template_var vars[] = {
        {"rule", "never_active"},
        {"reason", "declined"},
        {"deadline_date", ""},
        {"subscriber_id", "<7>"},
    };
    const struct {
        const char *text, *want;
        bool html;
    } cases[] = {
        {"a{{#rule_never_active}}N{{/rule_never_active}}{{^rule_never_active}}I"
         "{{/rule_never_active}}b",
         "aNb", false},
        {"{{#reason_no_answer}}late{{/reason_no_answer}}{{#reason_declined}}asked"
         "{{/reason_declined}}",
         "asked", false},
        {"x\n{{#deadline_date}}\nby {{deadline_date}}\n{{/deadline_date}}\n{{^deadline_date}}\n"
         "soon\n{{/deadline_date}}\ny\n",
         "x\nsoon\ny\n", false},
        {"{{#subscriber_id}}n {{subscriber_id}}{{/subscriber_id}}", "n &lt;7&gt;", true},
        {"{{#rule_inactive}}{{subscriber_id}}{{/rule_inactive}}", "", false},
        {"{{missing}}.", ".", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = dm_template_expand(cases[i].text, vars, 4, cases[i].html);
        ck_assert_msg(strcmp(out, cases[i].want) == 0, "case %zu: [%s]", i, out);
        free(out);
    }
}
END_TEST

/* Sections are checked at load: unknown rules, unbalanced tags. */
START_TEST(test_bad_sections_rejected_at_load)
{
    const char *bad[] = {
        "Subject: x\n\n{{#rule_sleepy}}a{{/rule_sleepy}}\n",
        "Subject: x\n\n{{#reason_late}}a{{/reason_late}}\n",
        "Subject: x\n\n{{#rule_inactive}}a\n",
        "Subject: x\n\n{{#rule_inactive}}a{{/rule_never_active}}\n",
        "Subject: x\n\n{{{subscriber_id}}}\n",
        "Subject: x\n\n{{subscriber_id\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *dir = copy_shipped();
        char sub[512], err[512] = "";
        snprintf(sub, sizeof sub, "%s/en", dir);
        free(dm_test_write_file(sub, "subscription.confirmed.txt", bad[i]));
        ck_assert_msg(!dm_template_check_dir(dir, err, sizeof err), "case %zu accepted", i);
        ck_assert_msg(strstr(err, "subscription.confirmed.txt") != NULL, "%s", err);
        dm_test_rmtree(dir);
        free(dir);
    }
}
END_TEST

/* A language needs both parts; English and the layout must exist. */
START_TEST(test_html_part_required)
{
    char *dir = copy_shipped();
    char sub[512], path[512], err[512] = "";
    ck_assert_msg(dm_template_check_dir(dir, err, sizeof err), "%s", err);
    snprintf(sub, sizeof sub, "%s/de", dir);
    mkdir(sub, 0700);
    free(dm_test_write_file(sub, "subscription.confirmed.txt", "Subject: Danke\n\nDanke.\n"));
    ck_assert(!dm_template_check_dir(dir, err, sizeof err));
    ck_assert_msg(strstr(err, "de/subscription.confirmed.html") != NULL, "%s", err);
    free(dm_test_write_file(sub, "subscription.confirmed.html", "<p>Danke.</p>\n"));
    ck_assert_msg(dm_template_check_dir(dir, err, sizeof err), "%s", err);
    snprintf(path, sizeof path, "%s/mail.html", dir);
    unlink(path);
    ck_assert(!dm_template_check_dir(dir, err, sizeof err));
    ck_assert_msg(strstr(err, "mail.html") != NULL, "%s", err);
    dm_test_rmtree(dir);
    free(dir);
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
    tcase_add_test(tc, test_request_without_link_rejected);
    tcase_add_test(tc, test_missing_subject_or_english_rejected);
    tcase_add_test(tc, test_local_dates);
    tcase_add_test(tc, test_deadline_stated);
    tcase_add_test(tc, test_sections);
    tcase_add_test(tc, test_bad_sections_rejected_at_load);
    tcase_add_test(tc, test_html_part_required);
    suite_add_tcase(s, tc);
    return dm_test_run(s);
}
