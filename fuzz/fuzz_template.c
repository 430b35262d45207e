/*
 * Fuzzes the template renderer: dm_template_expand() with a fuzzed text and
 * fuzzed values, escaped and not, dm_template_render() on a fuzzed
 * template file, and dm_template_readable_date().
 *
 * Input: TEMPLATE NUL VALUE NUL DATE (missing parts are "").
 */
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "template.h"

static char dir[] = "/tmp/dm-fuzz-template-XXXXXX";
static char path[sizeof dir + 64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char sub[sizeof dir + 8];
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(sub, sizeof sub, "%s/en", dir);
    if (mkdir(sub, 0700) != 0)
        abort();
    snprintf(path, sizeof path, "%s/en/subscription.suspended.txt", dir);
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
    /* Escaped values never bring markup. */
    if (strpbrk(text, "<>\"'&") == NULL)
        FUZZ_ASSERT(strpbrk(html, "<>\"'") == NULL);
    free(plain);
    free(html);

    FILE *f = fopen(path, "w");
    if (f == NULL)
        abort();
    fwrite(text, 1, strlen(text), f);
    fclose(f);
    char *subject = NULL, *body = NULL, err[256];
    if (dm_template_render(dir, value, "subscription.suspended", vars, 4, &subject, &body, err,
                           sizeof err)) {
        FUZZ_ASSERT(strchr(subject, '\n') == NULL || strchr(value, '\n') != NULL);
        free(subject);
        free(body);
    }

    char out[64];
    if (dm_template_readable_date(date, value, out, sizeof out))
        FUZZ_ASSERT(out[0] != '\0');
    free(text);
    return 0;
}
