/* Configuration loading: the shipped sample, every default, every error class. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static char *dir;

static void setup(void)
{
    dir = dm_test_tmpdir();
}

static void teardown(void)
{
    dm_test_rmtree(dir);
    free(dir);
}

/* Writes text as dir/dormant.conf and loads it. */
static struct dm_config *load_text(const char *text, char *err, size_t errlen)
{
    char *path = dm_test_write_file(dir, "dormant.conf", text);
    struct dm_config *cfg = dm_config_load(path, err, errlen);
    free(path);
    return cfg;
}

#define MINIMAL                                                                                    \
    "database = { conninfo = \"dbname=x\"; };\n"                                                   \
    "source = { table = \"public.subscribers\"; };\n"

START_TEST(test_shipped_sample_loads)
{
    char err[1024] = "";
    struct dm_config *cfg = dm_config_load(DM_SOURCE_DIR "/etc/dormant.conf", err, sizeof err);
    ck_assert_msg(cfg != NULL, "etc/dormant.conf: %s", err);
    ck_assert_str_eq(cfg->database.conninfo, "dbname=subscriptions");
    ck_assert_str_eq(cfg->source.table, "public.subscribers");
    dm_config_free(cfg);
}
END_TEST

START_TEST(test_defaults)
{
    char err[1024] = "";
    struct dm_config *cfg = load_text(MINIMAL, err, sizeof err);
    ck_assert_msg(cfg != NULL, "%s", err);

    ck_assert_str_eq(cfg->database.schema, "dormant");
    ck_assert_str_eq(cfg->source.id, "id");
    ck_assert_str_eq(cfg->source.email, "email");
    ck_assert_str_eq(cfg->source.created_at, "created_at");
    ck_assert_str_eq(cfg->source.last_activity_at, "last_activity_at");
    ck_assert_str_eq(cfg->source.locale, "");
    ck_assert_str_eq(cfg->source.eligible, "");
    ck_assert_str_eq(cfg->source.billing.column, "billing_status");
    ck_assert_str_eq(cfg->source.billing.active, "active");
    ck_assert_str_eq(cfg->source.billing.suspended, "suspended");

    ck_assert_int_eq(cfg->policy.inactive_after.months, 24);
    ck_assert_int_eq(cfg->policy.never_active_after.months, 12);
    ck_assert(cfg->policy.never_active_after.set);
    ck_assert_int_eq(cfg->policy.min_account_age.days, 30);
    ck_assert_int_eq(cfg->policy.confirm_within.days, 30);
    ck_assert_int_eq(cfg->policy.reminders.n, 2);
    ck_assert_int_eq(cfg->policy.reminders.items[0].days, 7);
    ck_assert_int_eq(cfg->policy.reminders.items[1].days, 1);
    ck_assert(!cfg->policy.erase_after.set);
    ck_assert_int_eq(cfg->policy.erase_columns.n, 1);
    ck_assert_str_eq(cfg->policy.erase_columns.items[0], "email");

    ck_assert_int_eq(cfg->limits.poll_interval.usec, INT64_C(60000000));
    ck_assert_int_eq(cfg->limits.batch_size, 1000);
    ck_assert_int_eq(cfg->limits.max_requests_per_day, 100000);
    ck_assert_int_eq(cfg->limits.max_activity_lag.days, 1);
    ck_assert_int_eq(cfg->limits.keep_messages.days, 90);
    ck_assert(cfg->limits.max_backlog_fraction > 0.0499 &&
              cfg->limits.max_backlog_fraction < 0.0501);

    ck_assert_str_eq(cfg->http.listen, "127.0.0.1:8470");
    ck_assert_str_eq(cfg->http.listen_host, "127.0.0.1");
    ck_assert_int_eq(cfg->http.listen_port, 8470);
    ck_assert_str_eq(cfg->http.public_url, "https://account.example.com/dormant");
    ck_assert_int_eq(cfg->http.trusted_proxies.n, 2);
    ck_assert_str_eq(cfg->http.trusted_proxies.items[0], "127.0.0.1");
    ck_assert_str_eq(cfg->http.trusted_proxies.items[1], "::1");

    ck_assert_str_eq(cfg->webhook.url, "");
    ck_assert_str_eq(cfg->webhook.secret_file, DM_SYSCONFDIR "/webhook.secret");
    ck_assert_ptr_null(cfg->webhook.secret);
    ck_assert_int_eq(cfg->webhook.timeout.usec, INT64_C(15000000));
    ck_assert_int_eq(cfg->webhook.concurrency, 16);
    ck_assert_int_eq(cfg->webhook.retry.n, 9);
    ck_assert_int_eq(cfg->webhook.retry.items[0].usec, INT64_C(5000000));
    ck_assert_int_eq(cfg->webhook.retry.items[8].usec, INT64_C(24) * 3600 * 1000000);

    ck_assert_str_eq(cfg->email.smtp_url, "");
    ck_assert_str_eq(cfg->email.from, "Example <no-reply@example.com>");
    ck_assert_str_eq(cfg->email.username, "");
    ck_assert_str_eq(cfg->email.password_file, "");
    ck_assert_int_eq(cfg->email.starttls, DM_STARTTLS_REQUIRED);
    ck_assert_str_eq(cfg->email.templates, DM_DATADIR "/templates");
    ck_assert_int_eq(cfg->email.retry.n, 6);
    ck_assert_int_eq(cfg->email.retry.items[0].usec, INT64_C(300000000));

    ck_assert_int_eq(cfg->log.level, DM_LOG_INFO);
    ck_assert_str_eq(cfg->log.destination, "stderr");
    ck_assert_int_eq(cfg->log.format, DM_LOG_LOGFMT);
    ck_assert(!cfg->dry_run);
    dm_config_free(cfg);
}
END_TEST

START_TEST(test_values_and_relative_paths)
{
    char err[1024] = "";
    char *secret =
        dm_test_write_file(dir, "hook.secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n");
    free(secret);
    struct dm_config *cfg = load_text(
        MINIMAL "policy = { reminders = [ \"1 day\", \"7 days\", \"3 days\" ];"
                " never_active_after = \"\"; erase_after = \"1 year\"; };\n"
                "webhook = { url = \"https://hooks.example.com/x\";"
                " secret_file = \"hook.secret\"; };\n"
                "log = { destination = \"dormant.log\"; format = \"json\";"
                " level = \"debug\"; };\n"
                "http = { listen = \"[::1]:9000\"; public_url = \"https://a.example/d/\"; };\n"
                "dry_run = true;\n",
        err, sizeof err);
    ck_assert_msg(cfg != NULL, "%s", err);
    /* Reminders come back longest offset first. */
    ck_assert_int_eq(cfg->policy.reminders.n, 3);
    ck_assert_int_eq(cfg->policy.reminders.items[0].days, 7);
    ck_assert_int_eq(cfg->policy.reminders.items[1].days, 3);
    ck_assert_int_eq(cfg->policy.reminders.items[2].days, 1);
    ck_assert(!cfg->policy.never_active_after.set);
    ck_assert(cfg->policy.erase_after.set);
    ck_assert_int_eq(cfg->webhook.secret_len, 24);
    ck_assert_ptr_nonnull(strstr(cfg->webhook.secret_file, dir));
    ck_assert_ptr_nonnull(strstr(cfg->log.destination, dir));
    ck_assert_int_eq(cfg->log.format, DM_LOG_JSON);
    ck_assert_int_eq(cfg->log.level, DM_LOG_DEBUG);
    ck_assert_str_eq(cfg->http.listen_host, "::1");
    ck_assert_int_eq(cfg->http.listen_port, 9000);
    ck_assert_str_eq(cfg->http.public_url, "https://a.example/d");
    ck_assert(cfg->dry_run);
    dm_config_free(cfg);
}
END_TEST

/* One broken file: its text, the line the error must name, and a word the
 * message must contain. */
struct error_case {
    const char *text;
    int line;
    const char *needle;
};

static const struct error_case errors[] = {
    /* syntax */
    {MINIMAL "policy = { inactive_after = \"2 years\" \n};\nlimits = {", 5, "syntax"},
    /* unknown keys, at every depth */
    {MINIMAL "bogus = 1;\n", 3, "unknown key bogus"},
    {MINIMAL "policy = {\n inactive_afterr = \"2 years\"; };\n", 4, "policy.inactive_afterr"},
    {"database = { conninfo = \"dbname=x\"; };\nsource = { table = \"t\";\n"
     " billing = { colum = \"b\"; }; };\n",
     3, "source.billing.colum"},
    /* missing required keys */
    {"source = { table = \"t\"; };\n", 0, "database"},
    {"database = {\n schema = \"d\"; };\nsource = { table = \"t\"; };\n", 1, "database.conninfo"},
    {"database = { conninfo = \"dbname=x\"; };\nsource = {\n id = \"id\"; };\n", 2, "source.table"},
    /* wrong types */
    {MINIMAL "limits = {\n batch_size = \"many\"; };\n", 4, "integer"},
    {MINIMAL "dry_run = 1;\n", 3, "true or false"},
    {MINIMAL "policy = {\n inactive_after = 730; };\n", 4, "duration"},
    {MINIMAL "policy = {\n reminders = \"7 days\"; };\n", 4, "list"},
    {MINIMAL "log = {\n level = \"loud\"; };\n", 4, "log.level"},
    /* out of range */
    {MINIMAL "limits = {\n batch_size = 0; };\n", 4, "out of range"},
    {MINIMAL "limits = {\n max_backlog_fraction = 1.5; };\n", 4, "out of range"},
    {MINIMAL "webhook = {\n concurrency = 100000; };\n", 4, "out of range"},
    {MINIMAL "policy = { confirm_within = \"3 days\";\n reminders = [ \"7 days\" ]; };\n", 4,
     "shorter than policy.confirm_within"},
    {MINIMAL "http = {\n listen = \"localhost\"; };\n", 4, "http.listen"},
    {MINIMAL "http = { trusted_proxies = [\n \"proxy.local\" ]; };\n", 4,
     "http.trusted_proxies[0]"},
    {MINIMAL "http = { trusted_proxies = [ \"10.0.0.1\",\n \"10.0.0.0/33\" ]; };\n", 4,
     "not an address or a network"},
    {MINIMAL "http = {\n trusted_proxies = \"10.0.0.1\"; };\n", 4, "list of strings"},
    /* bad durations */
    {MINIMAL "policy = {\n inactive_after = \"2 yeers\"; };\n", 4, "unknown unit"},
    {MINIMAL "limits = {\n poll_interval = \"0 seconds\"; };\n", 4, "longer than zero"},
    {MINIMAL "limits = {\n keep_messages = \"0 days\"; };\n", 4, "longer than zero"},
    {MINIMAL "policy = {\n confirm_within = \"\"; };\n", 4, "must not be empty"},
    /* unreadable and malformed secret files */
    {MINIMAL "webhook = { url = \"https://h.example/\";\n secret_file = \"missing.secret\"; };\n",
     4, "missing.secret"},
    {MINIMAL "webhook = { url = \"https://h.example/\";\n secret_file = \"bad.secret\"; };\n", 4,
     "whsec_"},
    {MINIMAL "email = { smtp_url = \"smtp://127.0.0.1:25\";\n password_file = \"nope\"; };\n", 4,
     "email.password_file"},
    /* a value with a line break: the message stays one line (fuzz_config) */
    {MINIMAL "policy = {\n min_account_age = \"1 week\\n;\"; };\n", 4, "\"1 week?;\""},
    /* mapping sanity */
    {MINIMAL "policy = {\n erase_columns = [ \"id\" ]; };\n", 4, "erase_columns"},
};

START_TEST(test_error_table)
{
    const struct error_case *c = &errors[_i];
    char err[1024] = "", prefix[600];
    char *bad = dm_test_write_file(dir, "bad.secret", "not-a-webhook-secret\n");
    free(bad);

    struct dm_config *cfg = load_text(c->text, err, sizeof err);
    ck_assert_msg(cfg == NULL, "case %d loaded but should fail", _i);
    if (c->line > 0)
        snprintf(prefix, sizeof prefix, "%s/dormant.conf:%d: ", dir, c->line);
    else
        snprintf(prefix, sizeof prefix, "%s/dormant.conf: ", dir);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
                  "case %d: \"%s\" should start with \"%s\"", _i, err, prefix);
    ck_assert_msg(strstr(err, c->needle) != NULL, "case %d: \"%s\" should mention \"%s\"", _i, err,
                  c->needle);
    ck_assert_msg(strchr(err, '\n') == NULL, "case %d: one line only", _i);
}
END_TEST

START_TEST(test_missing_file)
{
    char err[1024] = "";
    ck_assert_ptr_null(dm_config_load("/nonexistent/dormant.conf", err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/dormant.conf: cannot read"));
}
END_TEST

START_TEST(test_conninfo_password_not_echoed)
{
    char err[1024] = "";
    struct dm_config *cfg = load_text("database = { conninfo = \"password=hunter2 ===\"; };\n"
                                      "source = { table = \"t\"; };\n",
                                      err, sizeof err);
    ck_assert_ptr_null(cfg);
    ck_assert_ptr_nonnull(strstr(err, "database.conninfo"));
    ck_assert_ptr_null(strstr(err, "hunter2"));
}
END_TEST

/* The whsec_ decoder takes canonical base64 only: fuzz_whsec found '='
 * inside the text accepted (decoded as zero bits) by EVP_DecodeBlock(). */
START_TEST(test_whsec_strict)
{
    const struct {
        const char *text;
        int len; /* -1 = rejected */
    } cases[] = {
        {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 24},
        {"whsec_AAAAAAAAAAAAAAAAAAAAAA==", 16},
        {"whsec_AAAAAAAAAAAAAAAAAAA==A==", -1}, /* fuzz/corpus/whsec/regress-padding-inside */
        {"whsec_AAAAAAAAAAAAAAAAAAAAAB==", -1}, /* non-zero bits in the padding */
        {"whsec_AAAAAAAAAAAAAAAAAAAA\tAA==", -1},
        {"whsec_AAAAAAAAAAAAAAAAAAAAAA=A", -1},
        {"whsec_AAAAAAAAAAAAAAAAAAAA", -1}, /* 15 bytes */
        {"whsec_", -1},
        {"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char *key = NULL;
        size_t len = 0;
        bool ok = dm_config_decode_whsec(cases[i].text, &key, &len);
        ck_assert_msg(ok == (cases[i].len >= 0), "%s", cases[i].text);
        if (ok)
            ck_assert_int_eq((int)len, cases[i].len);
        free(key);
    }
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("load");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_shipped_sample_loads);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_values_and_relative_paths);
    tcase_add_loop_test(tc, test_error_table, 0, (int)(sizeof errors / sizeof errors[0]));
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_conninfo_password_not_echoed);
    tcase_add_test(tc, test_whsec_strict);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return dm_test_run(config_suite());
}
