/* The Prometheus rendering: every family present, values right, promtool content. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dormant.h"
#include "metrics.h"

static char *render_sample(bool counted)
{
    struct dm_metrics m;
    struct dm_metrics_scrape s;
    memset(&m, 0, sizeof m);
    memset(&s, 0, sizeof s);
    m.transitions[DM_T_CONFIRMED] = 7;
    m.deliveries[DM_CH_EMAIL][DM_DLV_DEAD] = 2;
    m.passes = 3;
    m.last_pass_seconds = 1.25;
    m.guards[DM_GUARD_BACKLOG] = true;
    m.db_up = true;
    s.counted = counted;
    s.accounts[DM_ACCOUNT_PENDING] = 42;
    s.outbox[DM_OUTBOX_DEAD] = 5;
    s.paused = true;
    s.http_up = true;
    s.poll_interval_seconds = 60;
    return dm_metrics_render(&m, &s);
}

START_TEST(test_values)
{
    char *text = render_sample(true);
    static const char *const lines[] = {
        "dormant_transitions_total{kind=\"confirmed\"} 7\n",
        "dormant_deliveries_total{channel=\"email\",outcome=\"dead\"} 2\n",
        "dormant_passes_total 3\n",
        "dormant_last_pass_duration_seconds 1.250000\n",
        "dormant_guard_tripped{guard=\"backlog\"} 1\n",
        "dormant_guard_tripped{guard=\"rate\"} 0\n",
        "dormant_paused 1\n",
        "dormant_poll_interval_seconds 60.000\n",
        "dormant_database_up{connection=\"pass\"} 1\n",
        "dormant_accounts{state=\"pending\"} 42\n",
        "dormant_outbox_messages{state=\"dead\"} 5\n",
        "# TYPE dormant_transitions_total counter\n",
        "# TYPE dormant_accounts gauge\n",
        "dormant_build_info{version=\"" DM_VERSION "\"} 1\n",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        ck_assert_msg(strstr(text, lines[i]) != NULL, "missing: %s", lines[i]);
    free(text);

    /* Without the database, no made-up counts. */
    text = render_sample(false);
    ck_assert_ptr_null(strstr(text, "dormant_accounts"));
    ck_assert_ptr_null(strstr(text, "dormant_outbox_messages"));
    ck_assert_ptr_nonnull(strstr(text, "dormant_transitions_total"));
    free(text);
}
END_TEST

/* Feeds text to promtool check metrics; returns its exit status (-1: no promtool). */
static int promtool(const char *text)
{
    if (system("command -v promtool >/dev/null 2>&1") != 0)
        return -1;
    char *dir = dm_test_tmpdir();
    char *path = dm_test_write_file(dir, "metrics.txt", text);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "promtool check metrics < '%s' > '%s.out' 2>&1", path, path);
    int st = system(cmd);
    snprintf(cmd, sizeof cmd, "cat '%s.out' >&2", path);
    if (st != 0 && system(cmd) != 0)
        fprintf(stderr, "cannot show promtool's output\n");
    dm_test_rmtree(dir);
    free(path);
    free(dir);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

START_TEST(test_promtool)
{
    for (int counted = 0; counted < 2; counted++) {
        char *text = render_sample(counted);
        int st = promtool(text);
        free(text);
        if (st == -1) {
            dm_test_skip_notice("test_promtool (promtool not installed)");
            return;
        }
        ck_assert_int_eq(st, 0);
    }
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("render");

    tcase_add_test(tc, test_values);
    tcase_add_test(tc, test_promtool);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return dm_test_run(metrics_suite());
}
