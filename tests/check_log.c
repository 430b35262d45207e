/* Logging: level filtering, logfmt and JSON escaping, redaction. */
#include "testlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "template.h"

static char *dir;
static char *logpath;

static void setup(void)
{
    dir = dm_test_tmpdir();
    size_t n = strlen(dir) + 16;
    logpath = malloc(n);
    snprintf(logpath, n, "%s/test.log", dir);
}

static void teardown(void)
{
    dm_log_shutdown();
    dm_test_rmtree(dir);
    free(dir);
    free(logpath);
}

static void log_to_file(enum dm_log_level level, enum dm_log_format format)
{
    char err[256];
    struct dm_log_settings s = {.level = level, .format = format, .destination = logpath};
    ck_assert_msg(dm_log_configure(&s, err, sizeof err), "%s", err);
}

static char *log_contents(void)
{
    char *text = dm_read_file(logpath, NULL);
    ck_assert_ptr_nonnull(text);
    return text;
}

START_TEST(test_levels_filter)
{
    log_to_file(DM_LOG_WARNING, DM_LOG_LOGFMT);
    dm_log_error("an error", DM_I("n", 1));
    dm_log_warning("a warning");
    dm_log_info("some info");
    dm_log_debug("some debug");
    char *text = log_contents();
    ck_assert_ptr_nonnull(strstr(text, "level=error msg=\"an error\" n=1"));
    ck_assert_ptr_nonnull(strstr(text, "level=warning msg=\"a warning\""));
    ck_assert_ptr_null(strstr(text, "some info"));
    ck_assert_ptr_null(strstr(text, "some debug"));
    free(text);

    dm_log_force_debug(true);
    dm_log_debug("forced debug");
    dm_log_force_debug(false);
    text = log_contents();
    ck_assert_ptr_nonnull(strstr(text, "forced debug"));
    free(text);
}
END_TEST

static int evaluated;

static int count_evaluation(void)
{
    return ++evaluated;
}

START_TEST(test_disabled_level_evaluates_nothing)
{
    log_to_file(DM_LOG_ERROR, DM_LOG_LOGFMT);
    evaluated = 0;
    dm_log_debug("never", DM_I("n", count_evaluation()));
    ck_assert_int_eq(evaluated, 0);
    dm_log_error("always", DM_I("n", count_evaluation()));
    ck_assert_int_eq(evaluated, 1);
}
END_TEST

START_TEST(test_errno_preserved)
{
    log_to_file(DM_LOG_INFO, DM_LOG_LOGFMT);
    errno = ENOENT;
    dm_log_info("x", DM_S("a", "b"));
    ck_assert_int_eq(errno, ENOENT);
    errno = EACCES;
    dm_logf(DM_LOG_INFO, "formatted %d", 42);
    ck_assert_int_eq(errno, EACCES);
    char *text = log_contents();
    ck_assert_ptr_nonnull(strstr(text, "msg=\"formatted 42\""));
    free(text);
}
END_TEST

/* Escaping cases: a value and how each format must render it. */
struct escape_case {
    const char *value;
    const char *logfmt;
    const char *json;
};

static const struct escape_case escapes[] = {
    {"plain", "k=plain", "\"k\":\"plain\""},
    {"two words", "k=\"two words\"", "\"k\":\"two words\""},
    {"say \"hi\"", "k=\"say \\\"hi\\\"\"", "\"k\":\"say \\\"hi\\\"\""},
    {"line1\nline2", "k=\"line1\\nline2\"", "\"k\":\"line1\\nline2\""},
    {"tab\there", "k=\"tab\\there\"", "\"k\":\"tab\\there\""},
    {"back\\slash", "k=\"back\\\\slash\"", "\"k\":\"back\\\\slash\""},
    {"a=b", "k=\"a=b\"", "\"k\":\"a=b\""},
    {"", "k=\"\"", "\"k\":\"\""},
    {"bell\a", "k=\"bell\\u0007\"", "\"k\":\"bell\\u0007\""},
};

START_TEST(test_escaping)
{
    const struct escape_case *c = &escapes[_i];
    char line[1024];
    const struct dm_field fields[] = {DM_S("k", c->value), {0}};

    dm_log_format_line(line, sizeof line, DM_LOG_LOGFMT, "T", DM_LOG_INFO, "m", fields);
    ck_assert_msg(strstr(line, c->logfmt) != NULL, "logfmt: %s lacks %s", line, c->logfmt);
    ck_assert_ptr_null(strchr(line, '\n'));
    dm_log_format_line(line, sizeof line, DM_LOG_JSON, "T", DM_LOG_INFO, "m", fields);
    ck_assert_msg(strstr(line, c->json) != NULL, "json: %s lacks %s", line, c->json);
    ck_assert_ptr_null(strchr(line, '\n'));
}
END_TEST

START_TEST(test_json_shape)
{
    char line[1024];
    const struct dm_field fields[] = {DM_I("requested", 12),
                                      DM_B("paused", false),
                                      DM_D("ratio", 0.5),
                                      DM_S("msg2", "say \"x\"\n"),
                                      {0}};
    dm_log_format_line(line, sizeof line, DM_LOG_JSON, "2026-11-28T23:00:00.000Z", DM_LOG_INFO,
                       "pass done", fields);
    ck_assert_str_eq(line, "{\"ts\":\"2026-11-28T23:00:00.000Z\",\"level\":\"info\",\"msg\":\"pass "
                           "done\",\"requested\":12,\"paused\":false,\"ratio\":0.5,\"msg2\":\"say "
                           "\\\"x\\\"\\n\"}");
    dm_log_format_line(line, sizeof line, DM_LOG_LOGFMT, "2026-11-28T23:00:00.000Z", DM_LOG_INFO,
                       "pass done", fields);
    ck_assert_str_eq(line, "ts=2026-11-28T23:00:00.000Z level=info msg=\"pass done\" requested=12 "
                           "paused=false ratio=0.5 msg2=\"say \\\"x\\\"\\n\"");
}
END_TEST

START_TEST(test_conninfo_password_never_logged)
{
    char err[1024];
    char *conf = dm_test_write_file(
        dir, "dormant.conf",
        "database = { conninfo = \"host=db.example user=dormant password=s3cr3t-Pa55 dbname=x\"; "
        "};\nsource = { table = \"t\"; };\n");
    struct dm_config *cfg = dm_config_load(conf, err, sizeof err);
    ck_assert_msg(cfg != NULL, "%s", err);
    log_to_file(DM_LOG_DEBUG, DM_LOG_LOGFMT);
    dm_config_register_secrets(cfg);
    /* Simulate the ways a secret might slip into a line: a libpq error
     * quoting the connection string, a message, a formatted message. */
    dm_log_error("database unreachable", DM_S("error", cfg->database.conninfo));
    dm_log_error(cfg->database.conninfo);
    dm_logf(DM_LOG_ERROR, "connecting with %s", cfg->database.conninfo);
    log_to_file(DM_LOG_DEBUG, DM_LOG_JSON);
    dm_log_error("json too", DM_S("error", cfg->database.conninfo));
    char *text = log_contents();
    ck_assert_ptr_null(strstr(text, "s3cr3t-Pa55"));
    ck_assert_ptr_nonnull(strstr(text, "password=[redacted]"));
    free(text);
    dm_config_free(cfg);
    free(conf);
}
END_TEST

START_TEST(test_email_addresses_redacted)
{
    log_to_file(DM_LOG_DEBUG, DM_LOG_LOGFMT);
    dm_log_error("smtp rejected",
                 DM_S("error", "550 5.1.1 <ana.maria@example.com>: Recipient address rejected"));
    dm_log_error("duplicate", DM_S("error", "Key (email)=(bob@example.org) already exists."));
    dm_log_info("not an address", DM_S("note", "user @ home"));
    char *text = log_contents();
    ck_assert_ptr_null(strstr(text, "ana.maria"));
    ck_assert_ptr_null(strstr(text, "example.com"));
    ck_assert_ptr_null(strstr(text, "bob@"));
    ck_assert_ptr_nonnull(strstr(text, "Recipient address rejected"));
    ck_assert_ptr_nonnull(strstr(text, "[redacted-email]"));
    ck_assert_ptr_nonnull(strstr(text, "user @ home"));
    free(text);
}
END_TEST

START_TEST(test_reopen_after_rotation)
{
    char rotated[600];
    log_to_file(DM_LOG_INFO, DM_LOG_LOGFMT);
    dm_log_info("before rotation");
    snprintf(rotated, sizeof rotated, "%s.1", logpath);
    ck_assert_int_eq(rename(logpath, rotated), 0);
    dm_log_reopen();
    dm_log_info("after rotation");
    char *text = log_contents();
    ck_assert_ptr_nonnull(strstr(text, "after rotation"));
    ck_assert_ptr_null(strstr(text, "before rotation"));
    free(text);
}
END_TEST

START_TEST(test_unopenable_destination_keeps_previous)
{
    char err[256] = "";
    log_to_file(DM_LOG_INFO, DM_LOG_LOGFMT);
    struct dm_log_settings bad = {.level = DM_LOG_DEBUG, .destination = "/nonexistent/dir/x.log"};
    ck_assert(!dm_log_configure(&bad, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/dir/x.log"));
    dm_log_info("still here");
    dm_log_debug("debug stays off");
    char *text = log_contents();
    ck_assert_ptr_nonnull(strstr(text, "still here"));
    ck_assert_ptr_null(strstr(text, "debug stays off"));
    free(text);
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_levels_filter);
    tcase_add_test(tc, test_disabled_level_evaluates_nothing);
    tcase_add_test(tc, test_errno_preserved);
    tcase_add_loop_test(tc, test_escaping, 0, (int)(sizeof escapes / sizeof escapes[0]));
    tcase_add_test(tc, test_json_shape);
    tcase_add_test(tc, test_conninfo_password_never_logged);
    tcase_add_test(tc, test_email_addresses_redacted);
    tcase_add_test(tc, test_reopen_after_rotation);
    tcase_add_test(tc, test_unopenable_destination_keeps_previous);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return dm_test_run(log_suite());
}
