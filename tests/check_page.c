/* The confirmation pages: every shipped language complete, the layout,
 * language choice, fallbacks, and the deadline as the reader reads it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "page.h"
#include "testlib.h"

#define SHIPPED DM_SOURCE_DIR "/etc/templates"

static const char *const shipped[] = {"en", "fr", "de", "es"};

/* Every page exists in every shipped language: a whole document in that
 * language, with the style sheet inline, and nothing left unexpanded. */
START_TEST(test_every_page_in_every_language)
{
    struct dm_pages *pages = dm_pages_load(SHIPPED);
    for (size_t l = 0; l < sizeof shipped / sizeof shipped[0]; l++) {
        ck_assert_str_eq(dm_pages_language(pages, shipped[l]), shipped[l]);
        for (int p = 0; p < DM_PAGE_COUNT; p++) {
            char *html = dm_page_render(pages, shipped[l], (enum dm_page)p, "2026-12-28T23:30:00Z",
                                        "Europe/Paris");
            char lang[32];
            snprintf(lang, sizeof lang, "<html lang=\"%s\">", shipped[l]);
            ck_assert_msg(strncmp(html, "<!DOCTYPE html>", 15) == 0, "%s %d", shipped[l], p);
            ck_assert_msg(strstr(html, lang) != NULL, "%s page %d: %.200s", shipped[l], p, html);
            ck_assert_msg(strstr(html, "<title>") != NULL &&
                              strstr(html, "<title></title>") == NULL,
                          "%s page %d has no title", shipped[l], p);
            ck_assert_msg(strstr(html, "<h1>") != NULL, "%s page %d", shipped[l], p);
            ck_assert_msg(strstr(html, "button.keep{") != NULL, "%s page %d: no style", shipped[l],
                          p);
            ck_assert_msg(strstr(html, "{{") == NULL, "%s page %d", shipped[l], p);
            free(html);
        }
    }
    dm_pages_free(pages);
}
END_TEST

/* The question states the deadline in the zone and the page's language: a
 * midnight in Paris as the day that ends there, with its last minute. */
START_TEST(test_deadline_in_zone_and_language)
{
    struct dm_pages *pages = dm_pages_load(SHIPPED);
    const struct {
        const char *lang, *want, *time;
    } cases[] = {
        {"de", "Montag, 28. Dezember 2026", "23:59"},
        {"fr",
         "lundi 28 d\xc3\xa9"
         "cembre 2026",
         "23:59"},
        {"es", "lunes, 28 de diciembre de 2026", "23:59"},
        {"en", "Monday, 28 December 2026", "11:59"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *html = dm_page_render(pages, cases[i].lang, DM_PAGE_ASK, "2026-12-28T23:00:00Z",
                                    "Europe/Paris");
        ck_assert_msg(strstr(html, cases[i].want) != NULL, "%s", cases[i].lang);
        ck_assert_msg(strstr(html, cases[i].time) != NULL, "%s", cases[i].lang);
        free(html);
    }
    dm_pages_free(pages);
}
END_TEST

START_TEST(test_language_choice)
{
    struct dm_pages *pages = dm_pages_load(SHIPPED);
    const struct {
        const char *tag, *want;
    } subscriber[] = {
        {"fr", "fr"}, {"fr_CA", "fr"}, {"FR-be", "fr"}, {"de-AT", "de"},
        {"pt", "en"}, {"frx", "en"},   {"", "en"},      {NULL, "en"},
    };
    for (size_t i = 0; i < sizeof subscriber / sizeof subscriber[0]; i++)
        ck_assert_str_eq(dm_pages_language(pages, subscriber[i].tag), subscriber[i].want);
    const struct {
        const char *header, *want;
    } browser[] = {
        {"fr-CA,en;q=0.5", "fr"},
        {"pt, es;q=0.8", "es"},
        {"en-GB, de", "en"},
        {"pt, it", "en"},
        {"", "en"},
        {NULL, "en"},
    };
    for (size_t i = 0; i < sizeof browser / sizeof browser[0]; i++)
        ck_assert_str_eq(dm_pages_negotiate(pages, browser[i].header), browser[i].want);
    dm_pages_free(pages);
}
END_TEST

/* A language with only some pages: the rest are English; a directory
 * without even English pages still answers every page. Values are escaped. */
START_TEST(test_fallbacks_and_layout)
{
    char *dir = dm_test_tmpdir();
    char sub[512];
    snprintf(sub, sizeof sub, "%s/it", dir);
    mkdir(sub, 0700);
    free(dm_test_write_file(dir, "page.css", "main{color:#123}"));
    free(dm_test_write_file(dir, "page-layout.html",
                            "<!DOCTYPE html><html lang=\"{{lang}}\"><title>{{title}}</title>"
                            "<style>{{style}}</style><main>{{{content}}}</main></html>\n"));
    free(dm_test_write_file(sub, "kept.html",
                            "Title: Grazie\n\n<h1>Grazie</h1><p>{{deadline_date}}</p>\n"));
    struct dm_pages *pages = dm_pages_load(dir);
    char *html = dm_page_render(pages, "it", DM_PAGE_KEPT, NULL, NULL);
    ck_assert_str_eq(html, "<!DOCTYPE html><html lang=\"it\"><title>Grazie</title>"
                           "<style>main{color:#123}</style><main><h1>Grazie</h1><p></p></main>"
                           "</html>\n");
    free(html);
    for (int p = 0; p < DM_PAGE_COUNT; p++) {
        html = dm_page_render(pages, "it", (enum dm_page)p, NULL, NULL);
        ck_assert_ptr_nonnull(strstr(html, "<h1>"));
        if (p != DM_PAGE_KEPT)
            ck_assert_ptr_nonnull(strstr(html, "lang=\"en\""));
        free(html);
    }
    dm_pages_free(pages);
    dm_test_rmtree(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("page");
    TCase *tc = tcase_create("page");
    tcase_add_test(tc, test_every_page_in_every_language);
    tcase_add_test(tc, test_deadline_in_zone_and_language);
    tcase_add_test(tc, test_language_choice);
    tcase_add_test(tc, test_fallbacks_and_layout);
    suite_add_tcase(s, tc);
    return dm_test_run(s);
}
