/* The confirmation pages: their templates per language, which language a
 * visitor gets, and the page rendered. */
#include "page.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "localdate.h"
#include "log.h"
#include "strbuf.h"
#include "template.h"

/* Languages with their own page directory that we keep at most. */
#define MAX_LANGUAGES 32

static const char *const page_files[DM_PAGE_COUNT] = {
    "page.html",        "kept.html",    "paused.html",     "notfound.html",
    "unavailable.html", "toomany.html", "badrequest.html",
};

/* Used when templates/page-layout.html is missing. */
static const char layout_builtin[] =
    "<!DOCTYPE html>\n<html lang=\"{{lang}}\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>{{title}}</title>\n<style>{{style}}</style>\n</head>\n<body>\n<main>\n"
    "{{{content}}}\n</main>\n</body>\n</html>\n";

/* Used when even the English file is missing, so the page always answers. */
static const char *const page_builtin[DM_PAGE_COUNT] = {
    "Title: Do you want to keep your subscription?\n\n"
    "<h1>Do you want to keep your subscription?</h1>\n<p>If you do nothing, billing stops on "
    "{{deadline_date}} at {{deadline_time}}.</p>\n<form method=\"post\"><input type=\"hidden\" "
    "name=\"action\" value=\"keep\"><button type=\"submit\">Keep my subscription</button></form>\n"
    "<form method=\"post\"><input type=\"hidden\" name=\"action\" value=\"pause\"><button "
    "type=\"submit\">Pause billing now</button></form>\n",
    "Title: Your subscription continues\n\n<h1>Thank you: your subscription continues</h1>\n",
    "Title: Billing is paused\n\n<h1>Billing is paused</h1>\n",
    "Title: Link not valid\n\n<h1>This link is not valid</h1>\n",
    "Title: Please try again later\n\n<h1>Please try again later</h1>\n",
    "Title: Too many attempts\n\n<h1>Too many attempts</h1>\n",
    "Title: Something went wrong\n\n<h1>Something went wrong</h1>\n",
};

/* The pages of one language; NULL entries fall back to English. */
struct page_set {
    char lang[17]; /* the directory's name: "en", "pt_BR" */
    char *text[DM_PAGE_COUNT];
};

struct dm_pages {
    struct page_set sets[MAX_LANGUAGES]; /* sets[0] is English, always complete */
    size_t n;
};

/* True for a directory name that can be a language: "en", "fr", "pt-BR". */
static bool language_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 16)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '-' || *p == '_'))
            return false;
    return true;
}

/* One page file made whole: its content set in the layout, the style
 * sheet inline, {{deadline_date}} and {{deadline_time}} left for rendering. */
static char *compose(const char *raw, const char *lang, const char *layout, const char *style)
{
    if (strncasecmp(raw, "<!DOCTYPE", 9) == 0) {
        const struct dm_subst whole[] = {{"{{style}}", style}};
        return dm_subst(raw, whole, 1);
    }
    char title[512] = "";
    const char *content = raw;
    if (strncmp(raw, "Title: ", 7) == 0) {
        size_t n = strcspn(raw + 7, "\r\n");
        snprintf(title, sizeof title, "%.*s", (int)n, raw + 7);
        content = raw + 7 + n;
        while (*content == '\r' || *content == '\n')
            content++;
    }
    char bcp47[17];
    snprintf(bcp47, sizeof bcp47, "%s", lang);
    for (char *p = bcp47; *p; p++)
        if (*p == '_')
            *p = '-';
    struct dm_strbuf body = {0};
    dm_strbuf_str(&body, content);
    while (body.len > 0 && (body.s[body.len - 1] == '\n' || body.s[body.len - 1] == '\r'))
        body.s[--body.len] = '\0';
    const struct dm_subst parts[] = {
        {"{{lang}}", bcp47}, {"{{title}}", title}, {"{{{content}}}", body.s}, {"{{style}}", style}};
    char *page = dm_subst(layout, parts, sizeof parts / sizeof parts[0]);
    free(body.s);
    return page;
}

/* Reads templates/<lang>/<page> for one language; true when any file was found. */
static bool load_set(const char *dir, const char *lang, const char *layout, const char *style,
                     struct page_set *set)
{
    char path[4096];
    bool any = false;
    memset(set, 0, sizeof *set);
    snprintf(set->lang, sizeof set->lang, "%s", lang);
    for (int p = 0; p < DM_PAGE_COUNT; p++) {
        snprintf(path, sizeof path, "%s/%s/%s", dir, lang, page_files[p]);
        char *raw = dm_read_file(path, NULL);
        if (raw == NULL)
            continue;
        set->text[p] = compose(raw, lang, layout, style);
        free(raw);
        any = true;
    }
    return any;
}

struct dm_pages *dm_pages_load(const char *dir)
{
    struct dm_pages *pages = calloc(1, sizeof *pages);
    char path[4096];
    if (pages == NULL)
        abort();
    snprintf(path, sizeof path, "%s/page.css", dir);
    char *style = dm_read_file(path, NULL);
    snprintf(path, sizeof path, "%s/page-layout.html", dir);
    char *layout = dm_read_file(path, NULL);
    const char *css = style ? style : "", *frame = layout ? layout : layout_builtin;
    if (!load_set(dir, "en", frame, css, &pages->sets[0]))
        dm_log_warning("no English page templates: using the built-in pages",
                       DM_S("templates", dir));
    for (int p = 0; p < DM_PAGE_COUNT; p++)
        if (pages->sets[0].text[p] == NULL)
            pages->sets[0].text[p] = compose(page_builtin[p], "en", frame, css);
    pages->n = 1;
    DIR *dh = opendir(dir);
    struct dirent *de;
    while (dh && (de = readdir(dh)) != NULL && pages->n < MAX_LANGUAGES)
        if (language_name(de->d_name) && strcmp(de->d_name, "en") != 0 &&
            load_set(dir, de->d_name, frame, css, &pages->sets[pages->n]))
            pages->n++;
    if (dh)
        closedir(dh);
    free(style);
    free(layout);
    return pages;
}

void dm_pages_free(struct dm_pages *pages)
{
    if (pages == NULL)
        return;
    for (size_t i = 0; i < pages->n; i++)
        for (int p = 0; p < DM_PAGE_COUNT; p++)
            free(pages->sets[i].text[p]);
    free(pages);
}

static const struct page_set *set_for(const struct dm_pages *pages, const char *tag)
{
    for (size_t i = 0; tag != NULL && i < pages->n; i++) {
        size_t n = strlen(pages->sets[i].lang);
        if (strncasecmp(tag, pages->sets[i].lang, n) == 0 &&
            (tag[n] == '\0' || tag[n] == '-' || tag[n] == '_' || tag[n] == ';' || tag[n] == ',' ||
             tag[n] == ' '))
            return &pages->sets[i];
    }
    return &pages->sets[0];
}

const char *dm_pages_language(const struct dm_pages *pages, const char *tag)
{
    return set_for(pages, tag)->lang;
}

const char *dm_pages_negotiate(const struct dm_pages *pages, const char *accept_language)
{
    for (const char *p = accept_language; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const struct page_set *s = set_for(pages, p);
        if (s != &pages->sets[0] || strncasecmp(p, "en", 2) == 0)
            return s->lang;
        p = strchr(p, ',');
    }
    return pages->sets[0].lang;
}

char *dm_page_render(const struct dm_pages *pages, const char *lang, enum dm_page p,
                     const char *deadline, const char *tz)
{
    const struct page_set *set = set_for(pages, lang);
    const char *text = set->text[p] ? set->text[p] : pages->sets[0].text[p];
    char date[128] = "", time[64] = "";
    if (deadline != NULL)
        dm_localdate_deadline(deadline, set->lang, tz, date, sizeof date, time, sizeof time);
    const struct dm_template_var vars[] = {{"deadline_date", date}, {"deadline_time", time}};
    return dm_template_expand(text, vars, 2, true);
}
