/* Growing strings and @KEY@ substitution. */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

START_TEST(test_strbuf_grows)
{
    struct dm_strbuf b = {0};
    for (int i = 0; i < 1000; i++)
        dm_strbuf_str(&b, "abc");
    dm_strbuf_printf(&b, "[%d]", 42);
    ck_assert_uint_eq(b.len, 3000 + 4);
    ck_assert_uint_eq(strlen(b.s), b.len);
    ck_assert_str_eq(b.s + 3000, "[42]");
    free(b.s);
}
END_TEST

/* A template, and what it must become with the pairs below. */
struct subst_case {
    const char *tmpl;
    const char *want;
};

static const struct dm_subst pairs[] = {
    {"@S@", "\"dormant\""},
    {"@T@", "bigint"},
    {"@TABLE@", "\"public\".\"subscribers\""},
    {"{{style}}", "a{b:\"c\"}"},
};

static const struct subst_case cases[] = {
    {"", ""},
    {"no placeholders", "no placeholders"},
    {"SELECT 1 FROM @S@.account", "SELECT 1 FROM \"dormant\".account"},
    {"@S@@T@", "\"dormant\"bigint"},
    {"id @T@, t @TABLE@", "id bigint, t \"public\".\"subscribers\""},
    {"user@example.com @ @@ @X@", "user@example.com @ @@ @X@"},
    {"trailing @", "trailing @"},
    {"<style>{{style}}</style>{{other}}", "<style>a{b:\"c\"}</style>{{other}}"},
};

START_TEST(test_subst_table)
{
    char *out = dm_subst(cases[_i].tmpl, pairs, sizeof pairs / sizeof pairs[0]);
    ck_assert_str_eq(out, cases[_i].want);
    free(out);
}
END_TEST

static Suite *strbuf_suite(void)
{
    Suite *s = suite_create("strbuf");
    TCase *tc = tcase_create("strbuf");
    tcase_add_test(tc, test_strbuf_grows);
    tcase_add_loop_test(tc, test_subst_table, 0, (int)(sizeof cases / sizeof cases[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return dm_test_run(strbuf_suite());
}
