/* In-process counters behind /metrics and the pass summary. */
#include "metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "dormant.h"

const char *const dm_transition_names[DM_T_COUNT] = {
    "requested", "reminded",    "confirmed", "declined",        "resumed",
    "suspended", "reactivated", "erased",    "delivery_failed", "withdrawn",
};
const char *const dm_delivery_outcome_names[DM_DLV_COUNT] = {"delivered", "retry", "dead"};
const char *const dm_guard_names[DM_GUARD_COUNT] = {"stale_activity", "backlog", "rate"};
const char *const dm_outbox_state_names[DM_OUTBOX_STATE_COUNT] = {"pending", "delivered", "dead"};

/* Writes the HELP and TYPE lines of one family. */
static void family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP dormant_%s %s\n# TYPE dormant_%s %s\n", name, help, name, type);
}

char *dm_metrics_render(const struct dm_metrics *m, const struct dm_metrics_scrape *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        abort();

    family(f, "build_info", "gauge", "Version of this dormantd; always 1.");
    fprintf(f, "dormant_build_info{version=\"%s\"} 1\n", DM_VERSION);

    family(f, "transitions_total", "counter",
           "Lifecycle transitions performed by this process, by kind.");
    for (int i = 0; i < DM_T_COUNT; i++)
        fprintf(f, "dormant_transitions_total{kind=\"%s\"} %" PRIu64 "\n", dm_transition_names[i],
                m->transitions[i]);

    family(f, "deliveries_total", "counter",
           "Delivery attempts by this process, by channel and outcome.");
    for (int c = 0; c < DM_CH_COUNT; c++)
        for (int o = 0; o < DM_DLV_COUNT; o++)
            fprintf(f, "dormant_deliveries_total{channel=\"%s\",outcome=\"%s\"} %" PRIu64 "\n",
                    dm_channel_names[c], dm_delivery_outcome_names[o], m->deliveries[c][o]);

    family(f, "passes_total", "counter", "Passes completed by this process.");
    fprintf(f, "dormant_passes_total %" PRIu64 "\n", m->passes);
    family(f, "pass_failures_total", "counter", "Passes that ended in an error.");
    fprintf(f, "dormant_pass_failures_total %" PRIu64 "\n", m->pass_failures);
    family(f, "last_pass_duration_seconds", "gauge", "Duration of the last completed pass.");
    fprintf(f, "dormant_last_pass_duration_seconds %.6f\n", m->last_pass_seconds);
    family(f, "last_pass_timestamp_seconds", "gauge",
           "When the last pass ended, in Unix seconds (0: none yet).");
    fprintf(f, "dormant_last_pass_timestamp_seconds %.3f\n", m->last_pass_unix);

    family(f, "guard_tripped", "gauge", "1 while a safety guard holds the pass back, by guard.");
    for (int g = 0; g < DM_GUARD_COUNT; g++)
        fprintf(f, "dormant_guard_tripped{guard=\"%s\"} %d\n", dm_guard_names[g],
                m->guards[g] ? 1 : 0);

    family(f, "paused", "gauge", "1 while work done to subscribers is paused.");
    fprintf(f, "dormant_paused %d\n", s->paused ? 1 : 0);
    family(f, "poll_interval_seconds", "gauge",
           "limits.poll_interval in force; a pass is due at least this often.");
    fprintf(f, "dormant_poll_interval_seconds %.3f\n", s->poll_interval_seconds);
    family(f, "leader", "gauge", "1 while this process holds the scanning lease.");
    fprintf(f, "dormant_leader %d\n", m->leader ? 1 : 0);
    family(f, "endpoint_disabled", "gauge",
           "1 while this process does not deliver on the channel (webhook after 410 Gone, "
           "until reload); its messages wait.");
    fprintf(f, "dormant_endpoint_disabled{channel=\"webhook\"} %d\n",
            m->endpoint_disabled[DM_CH_WEBHOOK] ? 1 : 0);

    family(f, "database_up", "gauge", "1 while the connection is up, by connection.");
    fprintf(f, "dormant_database_up{connection=\"pass\"} %d\n", m->db_up ? 1 : 0);
    fprintf(f, "dormant_database_up{connection=\"http\"} %d\n", s->http_up ? 1 : 0);

    if (s->counted) {
        family(f, "accounts", "gauge", "Subscribers in the lifecycle, by state.");
        for (int i = 0; i < DM_ACCOUNT_STATE_COUNT; i++)
            fprintf(f, "dormant_accounts{state=\"%s\"} %" PRId64 "\n", dm_account_state_names[i],
                    s->accounts[i]);
        family(f, "outbox_messages", "gauge", "Messages in the outbox, by delivery state.");
        for (int i = 0; i < DM_OUTBOX_STATE_COUNT; i++)
            fprintf(f, "dormant_outbox_messages{state=\"%s\"} %" PRId64 "\n",
                    dm_outbox_state_names[i], s->outbox[i]);
    }
    if (fclose(f) != 0 || buf == NULL)
        abort();
    return buf;
}
