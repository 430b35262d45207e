/* Message templates: templates/<locale>/<type>.txt with {{placeholders}}. */
#include "template.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "strbuf.h"

const char *const dm_template_placeholders[] = {
    "subscriber_id",
    "confirm_url",
    "deadline",
    "deadline_date",
    "last_activity_at",
    "last_activity_date",
    "rule",
    "type",
    NULL,
};

char *dm_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "re");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (f == NULL)
        return NULL;
    for (;;) {
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static bool known_placeholder(const char *name, size_t len)
{
    for (const char *const *p = dm_template_placeholders; *p; p++)
        if (strlen(*p) == len && strncmp(*p, name, len) == 0)
            return true;
    return false;
}

/* Checks one template file's shape and placeholders. */
static bool check_file(const char *path, char *err, size_t errlen)
{
    char *text = dm_read_file(path, NULL);
    if (text == NULL) {
        snprintf(err, errlen, "template %s: %s", path, strerror(errno));
        return false;
    }
    bool ok = true;
    if (strncmp(text, "Subject: ", 9) != 0) {
        snprintf(err, errlen, "template %s: the first line must be \"Subject: ...\"", path);
        ok = false;
    }
    for (const char *p = strstr(text, "{{"); ok && p; p = strstr(p + 2, "{{")) {
        const char *name = p + 2;
        const char *end = strstr(name, "}}");
        if (end == NULL) {
            snprintf(err, errlen, "template %s: unclosed {{", path);
            ok = false;
            break;
        }
        if (!known_placeholder(name, (size_t)(end - name))) {
            snprintf(err, errlen, "template %s: unknown placeholder {{%.*s}}", path,
                     (int)(end - name), name);
            ok = false;
        }
    }
    free(text);
    return ok;
}

/* A locale directory name we accept: "en", "fr", "pt_BR", "pt-BR". */
static bool plain_locale(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 16)
        return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return false;
    return true;
}

bool dm_template_check_dir(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    DIR *d = opendir(dir);

    if (d == NULL) {
        snprintf(err, errlen, "email.templates %s: %s", dir, strerror(errno));
        return false;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < dm_n_message_types; i++) {
        snprintf(path, sizeof path, "%s/en/%s.txt", dir, dm_message_types[i]);
        ok = check_file(path, err, errlen);
    }
    struct dirent *de;
    while (ok && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !plain_locale(de->d_name))
            continue;
        for (size_t i = 0; ok && i < dm_n_message_types; i++) {
            struct stat st;
            snprintf(path, sizeof path, "%s/%s/%s.txt", dir, de->d_name, dm_message_types[i]);
            if (stat(path, &st) == 0)
                ok = check_file(path, err, errlen);
        }
    }
    closedir(d);
    return ok;
}

static void buf_add_html(struct dm_strbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            dm_strbuf_add(b, "&amp;", 5);
            break;
        case '<':
            dm_strbuf_add(b, "&lt;", 4);
            break;
        case '>':
            dm_strbuf_add(b, "&gt;", 4);
            break;
        case '"':
            dm_strbuf_add(b, "&quot;", 6);
            break;
        case '\'':
            dm_strbuf_add(b, "&#39;", 5);
            break;
        default:
            dm_strbuf_add(b, s, 1);
        }
    }
}

char *dm_template_expand(const char *text, const struct dm_template_var *vars, size_t nvars,
                         bool escape_html)
{
    struct dm_strbuf b = {0};
    const char *p = text;

    dm_strbuf_add(&b, "", 0);
    for (;;) {
        const char *open = strstr(p, "{{");
        const char *close = open ? strstr(open + 2, "}}") : NULL;
        if (close == NULL) {
            dm_strbuf_add(&b, p, strlen(p));
            break;
        }
        dm_strbuf_add(&b, p, (size_t)(open - p));
        const char *name = open + 2;
        size_t nlen = (size_t)(close - name);
        for (size_t i = 0; i < nvars; i++) {
            if (strlen(vars[i].name) == nlen && strncmp(vars[i].name, name, nlen) == 0) {
                const char *v = vars[i].value ? vars[i].value : "";
                if (escape_html)
                    buf_add_html(&b, v);
                else
                    dm_strbuf_add(&b, v, strlen(v));
                break;
            }
        }
        p = close + 2;
    }
    return b.s;
}

bool dm_template_render(const char *dir, const char *locale, const char *type,
                        const struct dm_template_var *vars, size_t nvars, char **subject,
                        char **body, char *err, size_t errlen)
{
    char path[4096];
    char *text = NULL;

    if (locale != NULL && plain_locale(locale)) {
        snprintf(path, sizeof path, "%s/%s/%s.txt", dir, locale, type);
        text = dm_read_file(path, NULL);
        size_t lang = strcspn(locale, "_-");
        if (text == NULL && locale[lang] != '\0') {
            snprintf(path, sizeof path, "%s/%.*s/%s.txt", dir, (int)lang, locale, type);
            text = dm_read_file(path, NULL);
        }
    }
    if (text == NULL) {
        snprintf(path, sizeof path, "%s/en/%s.txt", dir, type);
        text = dm_read_file(path, NULL);
    }
    if (text == NULL) {
        snprintf(err, errlen, "template %s: %s", path, strerror(errno));
        return false;
    }
    char *nl = strchr(text, '\n');
    const char *rest = nl ? nl + 1 : "";
    if (nl)
        *nl = '\0';
    while (*rest == '\n' || *rest == '\r')
        rest++;
    char *subj_line = text + (strncmp(text, "Subject: ", 9) == 0 ? 9 : 0);
    size_t sl = strlen(subj_line);
    if (sl > 0 && subj_line[sl - 1] == '\r')
        subj_line[sl - 1] = '\0';
    *subject = dm_template_expand(subj_line, vars, nvars, false);
    *body = dm_template_expand(rest, vars, nvars, false);
    free(text);
    return true;
}

bool dm_template_readable_date(const char *iso, const char *locale, char *out, size_t len)
{
    static const char *const en[] = {"January",   "February", "March",    "April",
                                     "May",       "June",     "July",     "August",
                                     "September", "October",  "November", "December"};
    static const char *const fr[] = {"janvier",   "février", "mars",     "avril",
                                     "mai",       "juin",    "juillet",  "août",
                                     "septembre", "octobre", "novembre", "décembre"};
    int y, m, day;

    if (len > 0)
        out[0] = '\0';
    if (iso == NULL || sscanf(iso, "%4d-%2d-%2d", &y, &m, &day) != 3 || m < 1 || m > 12 ||
        day < 1 || day > 31)
        return false;
    bool french = locale != NULL && strncmp(locale, "fr", 2) == 0 &&
                  (locale[2] == '\0' || locale[2] == '_' || locale[2] == '-');
    if (french)
        snprintf(out, len, "%d%s %s %d", day, day == 1 ? "er" : "", fr[m - 1], y);
    else
        snprintf(out, len, "%d %s %d", day, en[m - 1], y);
    return true;
}
