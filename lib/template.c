/* Message templates: templates/<locale>/<type>.txt and .html with {{placeholders}}. */
#include "template.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "localdate.h"
#include "strbuf.h"

const char *const dm_template_placeholders[] = {
    "subscriber_id",
    "confirm_url",
    "deadline",
    "deadline_date",
    "deadline_time",
    "last_activity_at",
    "last_activity_date",
    "rule",
    "reason",
    "type",
    NULL,
};

const char *const dm_template_rules[] = {"inactive", "never_active", NULL};
const char *const dm_template_reasons[] = {"no_answer", "declined", NULL};

/* The names only templates/mail.html may use: the message's language, its
 * subject, and {{{content}}}, the HTML part of the type (not escaped). */
static const char *const layout_names[] = {"lang", "subject", "content", NULL};

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

static bool in_list(const char *const *list, const char *name, size_t len)
{
    for (const char *const *p = list; *p; p++)
        if (strlen(*p) == len && strncmp(*p, name, len) == 0)
            return true;
    return false;
}

/* A name a section may test: a placeholder, rule_<rule> or reason_<reason>. */
static bool known_name(const char *const *names, const char *name, size_t len, bool section)
{
    if (in_list(names, name, len))
        return true;
    if (!section)
        return false;
    if (len > 5 && strncmp(name, "rule_", 5) == 0)
        return in_list(dm_template_rules, name + 5, len - 5);
    if (len > 7 && strncmp(name, "reason_", 7) == 0)
        return in_list(dm_template_reasons, name + 7, len - 7);
    return false;
}

/* One {{tag}} found in a template. */
struct tag {
    const char *open;  /* the first "{" */
    const char *after; /* just past the closing braces */
    char kind;         /* '#', '^', '/', '{' (raw) or 0 (a value) */
    const char *name;
    size_t len;
};

/* Finds the next tag in [p, end); false when there is none. A tag that
 * is never closed ends the search (reported by the load check). */
static bool next_tag(const char *p, const char *end, struct tag *t)
{
    for (; p + 1 < end; p++) {
        if (p[0] != '{' || p[1] != '{')
            continue;
        t->open = p;
        const char *n = p + 2;
        t->kind = (n < end && strchr("#^/{", *n) && *n) ? *n : 0;
        if (t->kind)
            n++;
        const char *close = NULL;
        for (const char *q = n; q + 1 < end; q++)
            if (q[0] == '}' && q[1] == '}') {
                close = q;
                break;
            }
        if (close == NULL)
            return false;
        t->name = n;
        t->len = (size_t)(close - n);
        t->after = close + 2;
        if (t->kind == '{' && t->after < end && *t->after == '}')
            t->after++;
        return true;
    }
    return false;
}

/* A section tag alone on its line (at the start of the text or after a
 * line break, followed by one) takes the line break with it. */
static const char *standalone_end(const char *text, const struct tag *t, const char *end)
{
    if ((t->open == text || t->open[-1] == '\n') && t->after < end && *t->after == '\n')
        return t->after + 1;
    return t->after;
}

/* Checks one template's tags: known names, balanced sections. */
static bool check_text(const char *path, const char *text, const char *const *names, char *err,
                       size_t errlen)
{
    const char *end = text + strlen(text);
    const char *stack[8];
    size_t slen[8], depth = 0;
    struct tag t;

    for (const char *p = text; next_tag(p, end, &t); p = t.after) {
        bool section = t.kind == '#' || t.kind == '^' || t.kind == '/';
        if (!known_name(names, t.name, t.len, section) ||
            (t.kind == '{' && names != layout_names)) {
            snprintf(err, errlen, "template %s: unknown placeholder {{%.*s}}", path, (int)t.len,
                     t.name);
            return false;
        }
        if (t.kind == '#' || t.kind == '^') {
            for (size_t i = 0; i < depth; i++)
                if (slen[i] == t.len && strncmp(stack[i], t.name, t.len) == 0) {
                    snprintf(err, errlen, "template %s: {{#%.*s}} inside itself", path, (int)t.len,
                             t.name);
                    return false;
                }
            if (depth == sizeof stack / sizeof stack[0]) {
                snprintf(err, errlen, "template %s: sections nested too deep", path);
                return false;
            }
            stack[depth] = t.name;
            slen[depth++] = t.len;
        } else if (t.kind == '/') {
            if (depth == 0 || slen[depth - 1] != t.len ||
                strncmp(stack[depth - 1], t.name, t.len) != 0) {
                snprintf(err, errlen, "template %s: {{/%.*s}} closes no open section", path,
                         (int)t.len, t.name);
                return false;
            }
            depth--;
        }
    }
    if (depth > 0) {
        snprintf(err, errlen, "template %s: {{#%.*s}} is never closed", path, (int)slen[depth - 1],
                 stack[depth - 1]);
        return false;
    }
    return true;
}

/* Checks one template file: its tags, and the Subject line of a .txt. */
static bool check_file(const char *path, const char *const *names, bool subject, char *err,
                       size_t errlen)
{
    char *text = dm_read_file(path, NULL);
    if (text == NULL) {
        snprintf(err, errlen, "template %s: %s", path, strerror(errno));
        return false;
    }
    bool ok = true;
    if (subject && strncmp(text, "Subject: ", 9) != 0) {
        snprintf(err, errlen, "template %s: the first line must be \"Subject: ...\"", path);
        ok = false;
    }
    /* An unclosed "{{" anywhere is an error, even after the last good tag. */
    struct tag t;
    const char *p = text, *end = text + strlen(text);
    while (ok && next_tag(p, end, &t))
        p = t.after;
    if (ok && strstr(p, "{{") != NULL) {
        snprintf(err, errlen, "template %s: unclosed {{", path);
        ok = false;
    }
    if (ok)
        ok = check_text(path, text, names, err, errlen);
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

/* A request or a reminder without the link asks a question nobody can
 * answer: the subscriber would be suspended for not clicking. */
static bool has_link(const char *path, const char *type, char *err, size_t errlen)
{
    if (strcmp(type, "confirmation.requested") != 0 && strcmp(type, "confirmation.reminder") != 0)
        return true;
    char *text = dm_read_file(path, NULL);
    bool ok = text != NULL && strstr(text, "{{confirm_url}}") != NULL;
    free(text);
    if (!ok)
        snprintf(err, errlen,
                 "template %s: no {{confirm_url}}: the subscriber could not answer and would be "
                 "suspended",
                 path);
    return ok;
}

/* Checks <dir>/<locale>/<type>.txt and .html; the English pair must exist. */
static bool check_pair(const char *dir, const char *locale, const char *type, char *err,
                       size_t errlen)
{
    char txt[4096], html[4096];
    struct stat st;

    snprintf(txt, sizeof txt, "%s/%s/%s.txt", dir, locale, type);
    snprintf(html, sizeof html, "%s/%s/%s.html", dir, locale, type);
    if (strcmp(locale, "en") != 0 && stat(txt, &st) != 0) {
        if (stat(html, &st) == 0) {
            snprintf(err, errlen, "template %s has no %s.txt beside it", html, type);
            return false;
        }
        return true;
    }
    return check_file(txt, dm_template_placeholders, true, err, errlen) &&
           check_file(html, dm_template_placeholders, false, err, errlen) &&
           has_link(txt, type, err, errlen) && has_link(html, type, err, errlen);
}

bool dm_template_check_dir(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    DIR *d = opendir(dir);

    if (d == NULL) {
        snprintf(err, errlen, "email.templates %s: %s", dir, strerror(errno));
        return false;
    }
    snprintf(path, sizeof path, "%s/mail.html", dir);
    bool ok = check_file(path, layout_names, false, err, errlen);
    for (size_t i = 0; ok && i < dm_n_message_types; i++)
        ok = check_pair(dir, "en", dm_message_types[i], err, errlen);
    struct dirent *de;
    while (ok && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !plain_locale(de->d_name) || strcmp(de->d_name, "en") == 0)
            continue;
        for (size_t i = 0; ok && i < dm_n_message_types; i++)
            ok = check_pair(dir, de->d_name, dm_message_types[i], err, errlen);
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

/* What the expansion is given. */
struct scope {
    const struct dm_template_var *vars;
    size_t nvars;
    bool escape_html;
};

static const char *lookup(const struct scope *sc, const char *name, size_t len)
{
    for (size_t i = 0; i < sc->nvars; i++)
        if (strlen(sc->vars[i].name) == len && strncmp(sc->vars[i].name, name, len) == 0)
            return sc->vars[i].value;
    return NULL;
}

/* Whether a section shows: the name has a value, or names the rule or
 * reason the message has. */
static bool truthy(const struct scope *sc, const char *name, size_t len)
{
    const char *v;
    if (len > 5 && strncmp(name, "rule_", 5) == 0 && (v = lookup(sc, "rule", 4)) != NULL)
        return strlen(v) == len - 5 && strncmp(v, name + 5, len - 5) == 0;
    if (len > 7 && strncmp(name, "reason_", 7) == 0 && (v = lookup(sc, "reason", 6)) != NULL)
        return strlen(v) == len - 7 && strncmp(v, name + 7, len - 7) == 0;
    v = lookup(sc, name, len);
    return v != NULL && v[0] != '\0';
}

/* The "{{/name}}" that closes the section opened by t, or NULL. */
static bool find_close(const struct tag *open, const char *end, struct tag *close)
{
    for (const char *p = open->after; next_tag(p, end, close); p = close->after)
        if (close->kind == '/' && close->len == open->len &&
            strncmp(close->name, open->name, open->len) == 0)
            return true;
    return false;
}

static void expand_into(struct dm_strbuf *b, const char *text, const char *end,
                        const struct scope *sc)
{
    const char *p = text;
    struct tag t, c;

    while (next_tag(p, end, &t)) {
        dm_strbuf_add(b, p, (size_t)(t.open - p));
        p = t.after;
        switch (t.kind) {
        case '#':
        case '^':
            if (!find_close(&t, end, &c))
                continue; /* refused at load; shown as nothing */
            if (truthy(sc, t.name, t.len) == (t.kind == '#'))
                expand_into(b, standalone_end(text, &t, end), c.open, sc);
            p = standalone_end(text, &c, end);
            break;
        case '/':
            break;
        default: {
            const char *v = lookup(sc, t.name, t.len);
            if (v == NULL)
                break;
            if (sc->escape_html && t.kind != '{')
                buf_add_html(b, v);
            else
                dm_strbuf_str(b, v);
        }
        }
    }
    dm_strbuf_add(b, p, (size_t)(end - p));
}

char *dm_template_expand(const char *text, const struct dm_template_var *vars, size_t nvars,
                         bool escape_html)
{
    struct dm_strbuf b = {0};
    const struct scope sc = {vars, nvars, escape_html};

    dm_strbuf_add(&b, "", 0);
    expand_into(&b, text, text + strlen(text), &sc);
    return b.s;
}

/* Reads <dir>/<lang>/<type>.txt for the first of locale, its language and
 * "en" that has it; used names the directory it came from. */
static char *read_localized(const char *dir, const char *locale, const char *type, char *used,
                            size_t usedlen, char *err, size_t errlen)
{
    char path[4096];
    char *text = NULL;

    if (locale != NULL && plain_locale(locale)) {
        snprintf(used, usedlen, "%s", locale);
        snprintf(path, sizeof path, "%s/%s/%s.txt", dir, used, type);
        text = dm_read_file(path, NULL);
        size_t lang = strcspn(locale, "_-");
        if (text == NULL && locale[lang] != '\0') {
            snprintf(used, usedlen, "%.*s", (int)lang, locale);
            snprintf(path, sizeof path, "%s/%s/%s.txt", dir, used, type);
            text = dm_read_file(path, NULL);
        }
    }
    if (text == NULL) {
        snprintf(used, usedlen, "en");
        snprintf(path, sizeof path, "%s/en/%s.txt", dir, type);
        text = dm_read_file(path, NULL);
    }
    if (text == NULL)
        snprintf(err, errlen, "template %s: %s", path, strerror(errno));
    return text;
}

/* The locale dates are written in: the subscriber's own (regional) one
 * when it is of the template's language, else the template's. */
static const char *date_locale(const char *locale, const char *used)
{
    size_t n = strlen(used);
    if (locale != NULL && plain_locale(locale) && strncasecmp(locale, used, n) == 0 &&
        (locale[n] == '\0' || locale[n] == '_' || locale[n] == '-'))
        return locale;
    return used;
}

bool dm_template_render(const char *dir, const char *locale, const char *tz, const char *type,
                        const struct dm_template_var *vars, size_t nvars, struct dm_message *out,
                        char *err, size_t errlen)
{
    char used[32], path[4096];
    char deadline_date[128], deadline_time[64], activity_date[128];
    char *text, *fragment = NULL, *layout = NULL;

    memset(out, 0, sizeof *out);
    text = read_localized(dir, locale, type, used, sizeof used, err, errlen);
    if (text == NULL)
        return false;
    snprintf(path, sizeof path, "%s/%s/%s.html", dir, used, type);
    fragment = dm_read_file(path, NULL);
    if (fragment == NULL) {
        snprintf(err, errlen, "template %s: %s", path, strerror(errno));
        goto fail;
    }
    snprintf(path, sizeof path, "%s/mail.html", dir);
    layout = dm_read_file(path, NULL);
    if (layout == NULL) {
        snprintf(err, errlen, "template %s: %s", path, strerror(errno));
        goto fail;
    }

    /* The caller's values, then the dates shown from them. */
    struct dm_template_var all[32];
    size_t n = 0;
    for (size_t i = 0; i < nvars && n < 28; i++)
        all[n++] = vars[i];
    const struct scope given = {vars, nvars, false};
    const char *dloc = date_locale(locale, used);
    const char *deadline = lookup(&given, "deadline", 8);
    const char *activity = lookup(&given, "last_activity_at", 16);
    dm_localdate_deadline(deadline, dloc, tz, deadline_date, sizeof deadline_date, deadline_time,
                          sizeof deadline_time);
    dm_localdate_format(activity, dloc, tz, DM_DATE_LONG, activity_date, sizeof activity_date);
    all[n++] = (struct dm_template_var){"deadline_date", deadline_date};
    all[n++] = (struct dm_template_var){"deadline_time", deadline_time};
    all[n++] = (struct dm_template_var){"last_activity_date", activity_date};

    /* The text: "Subject: ..." on the first line, a blank line, the body. */
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
    out->subject = dm_template_expand(subj_line, all, n, false);
    out->text = dm_template_expand(rest, all, n, false);
    char *content = dm_template_expand(fragment, all, n, true);
    const struct dm_template_var frame[] = {
        {"lang", used}, {"subject", out->subject}, {"content", content}};
    out->html = dm_template_expand(layout, frame, 3, true);
    free(content);
    free(text);
    free(fragment);
    free(layout);
    return true;
fail:
    free(text);
    free(fragment);
    free(layout);
    return false;
}

void dm_message_free(struct dm_message *m)
{
    free(m->subject);
    free(m->text);
    free(m->html);
    memset(m, 0, sizeof *m);
}
