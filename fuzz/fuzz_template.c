/*
 * Fuzzes the template renderer: dm_template_expand() with a fuzzed text and
 * fuzzed values, escaped and not, dm_template_render() on a fuzzed
 * template (both parts) with a fuzzed locale and deadline, and
 * dm_localdate_format() on a fuzzed date.
 *
 * Input: TEMPLATE NUL VALUE NUL DATE (missing parts are "").
 */
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "localdate.h"
#include "template.h"

static char dir[] = "/tmp/dm-fuzz-template-XXXXXX";
static char path[2][sizeof dir + 64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char sub[sizeof dir + 8];
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(sub, sizeof sub, "%s/en", dir);
    if (mkdir(sub, 0700) != 0)
        abort();
    snprintf(path[0], sizeof path[0], "%s/en/subscription.suspended.txt", dir);
    snprintf(path[1], sizeof path[1], "%s/en/subscription.suspended.html", dir);
    char layout[sizeof dir + 16];
    snprintf(layout, sizeof layout, "%s/mail.html", dir);
    FILE *f = fopen(layout, "w");
    if (f == NULL)
        abort();
    fputs("<html lang=\"{{lang}}\"><title>{{subject}}</title>{{{content}}}</html>\n", f);
    fclose(f);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text, *rest;
    fuzz_split(data, size, &text, &rest);
    const char *value = rest;
    const char *date = rest + strlen(rest);
    if ((size_t)(date - text) < size)
        date++;

    const struct dm_template_var vars[] = {
        {"link", value},
        {"deadline", value},
        {"deadline_date", NULL},
        {"name", ""},
    };
    char *plain = dm_template_expand(text, vars, 4, false);
    char *html = dm_template_expand(text, vars, 4, true);
    /* Escaped values never bring markup ({{{name}}} is the raw form, by
     * design: the mail layout sets the HTML part with it). */
    if (strpbrk(text, "<>\"'&") == NULL && strstr(text, "{{{") == NULL)
        FUZZ_ASSERT(strpbrk(html, "<>\"'") == NULL);
    free(plain);
    free(html);

    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(path[i], "w");
        if (f == NULL)
            abort();
        fwrite(text, 1, strlen(text), f);
        fclose(f);
    }
    const struct dm_template_var mvars[] = {
        {"confirm_url", value},
        {"deadline", date},
        {"last_activity_at", date},
        {"subscriber_id", "42"},
    };
    struct dm_message m = {0};
    char err[256];
    if (dm_template_render(dir, value, "UTC", "subscription.suspended", mvars, 4, &m, err,
                           sizeof err)) {
        FUZZ_ASSERT(m.subject == NULL || strchr(m.subject, '\n') == NULL ||
                    strchr(value, '\n') != NULL || strchr(date, '\n') != NULL);
        dm_message_free(&m);
    }

    char out[128];
    if (dm_localdate_format(date, value, "Europe/Paris", DM_DATE_LONG, out, sizeof out))
        FUZZ_ASSERT(out[0] != '\0');
    free(text);
    return 0;
}
