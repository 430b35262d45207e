/*
 * Fuzzes the configuration loader, dm_config_load(), on a fuzzed file.
 *
 * The file is written to a private directory that also holds what seeds
 * may point at by relative paths: a webhook secret ("webhook.secret"), an
 * SMTP password ("smtp.password") and the templates ("templates", a copy
 * of the tree's etc/templates, given by DM_FUZZ_TEMPLATES or found from
 * the source directory compiled in).
 */
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

static char dir[] = "/tmp/dm-fuzz-config-XXXXXX";
static char path[sizeof dir + 32];

static void write_file(const char *name, const char *text)
{
    char p[sizeof dir + 64];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
        abort();
    chmod(p, 0600);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    if (mkdtemp(dir) == NULL)
        abort();
    write_file("webhook.secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n");
    write_file("smtp.password", "hunter2\n");
    const char *templates = getenv("DM_FUZZ_TEMPLATES");
    char link[sizeof dir + 32];
    snprintf(link, sizeof link, "%s/templates", dir);
    if (symlink(templates ? templates : DM_SOURCE_DIR "/etc/templates", link) != 0)
        abort();
    snprintf(path, sizeof path, "%s/dormant.conf", dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
    char err[1024] = "";
    struct dm_config *cfg = dm_config_load(path, err, sizeof err);
    if (cfg == NULL) {
        /* One line, naming the file. */
        FUZZ_ASSERT(err[0] != '\0' && strchr(err, '\n') == NULL);
        FUZZ_ASSERT(strncmp(err, path, strlen(path)) == 0);
        return 0;
    }
    FUZZ_ASSERT(cfg->database.conninfo && cfg->source.table && cfg->http.public_url);
    FUZZ_ASSERT(cfg->http.listen_port >= 0 && cfg->http.listen_port < 65536);
    FUZZ_ASSERT(cfg->limits.batch_size > 0);
    struct dm_log_settings ls = dm_config_log_settings(cfg, "fuzz");
    (void)ls;
    dm_config_free(cfg);
    return 0;
}
