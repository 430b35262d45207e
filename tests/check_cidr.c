/* http.trusted_proxies: addresses and networks, IPv4 seen through IPv6. */
#include "testlib.h"

#include <sys/socket.h>

#include "cidr.h"

struct contains_case {
    const char *range;
    const char *addr;
    bool in;
};

static const struct contains_case contains_cases[] = {
    {"127.0.0.1", "127.0.0.1", true},
    {"127.0.0.1", "127.0.0.2", false},
    {"127.0.0.1", "::ffff:127.0.0.1", true}, /* IPv4 client on an IPv6 socket */
    {"::ffff:127.0.0.1", "127.0.0.1", true},
    {"::1", "::1", true},
    {"::1", "127.0.0.1", false},
    {"10.0.0.0/8", "10.200.3.4", true},
    {"10.0.0.0/8", "11.0.0.1", false},
    {"192.0.2.0/25", "192.0.2.127", true},
    {"192.0.2.0/25", "192.0.2.128", false},
    {"192.0.2.7/0", "203.0.113.1", true},
    {"fd00::/8", "fd12:3456::1", true},
    {"fd00::/8", "fe80::1", false},
    {"2001:db8::/33", "2001:db8:7fff::1", true},
    {"2001:db8::/33", "2001:db8:8000::1", false},
    {"10.0.0.0/8", "not-an-address", false},
    {"10.0.0.0/8", "", false},
};

START_TEST(test_contains)
{
    const struct contains_case *c = &contains_cases[_i];
    struct dm_cidr r;
    ck_assert_msg(dm_cidr_parse(c->range, &r), "%s", c->range);
    ck_assert_msg(dm_cidr_contains(&r, c->addr) == c->in, "%s in %s", c->addr, c->range);
}
END_TEST

START_TEST(test_parse)
{
    struct dm_cidr r;
    ck_assert(dm_cidr_parse("192.0.2.1", &r));
    ck_assert_int_eq(r.family, AF_INET);
    ck_assert_int_eq(r.bits, 32);
    ck_assert(dm_cidr_parse("2001:db8::/32", &r));
    ck_assert_int_eq(r.family, AF_INET6);
    ck_assert_int_eq(r.bits, 32);
    static const char *const bad[] = {"",          "proxy.local", "10.0.0.0/33",
                                      "10.0.0.0/", "10.0.0.0/x",  "10.0.0.0/-1",
                                      "::1/129",   "/8",          "10.0.0.0/8/8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!dm_cidr_parse(bad[i], &r), "accepted \"%s\"", bad[i]);
    ck_assert(dm_cidr_is_address("::ffff:10.1.2.3"));
    ck_assert(!dm_cidr_is_address("10.1.2.3:80"));
}
END_TEST

static Suite *cidr_suite(void)
{
    Suite *s = suite_create("cidr");
    TCase *tc = tcase_create("ranges");
    tcase_add_loop_test(tc, test_contains, 0,
                        (int)(sizeof contains_cases / sizeof contains_cases[0]));
    tcase_add_test(tc, test_parse);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return dm_test_run(cidr_suite());
}
