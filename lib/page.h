/* The confirmation pages: their templates per language, which language a
 * visitor gets, and the page rendered. */
#ifndef DM_PAGE_H
#define DM_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "dormant.h"

/* The pages a subscriber can see; one file each under templates/<locale>/. */
enum dm_page {
    DM_PAGE_ASK,         /* page.html: the question, with the two buttons */
    DM_PAGE_KEPT,        /* kept.html: after "keep" */
    DM_PAGE_PAUSED,      /* paused.html: after "pause" */
    DM_PAGE_NOTFOUND,    /* notfound.html: unknown, used, expired or erased link */
    DM_PAGE_UNAVAILABLE, /* unavailable.html: database unreachable, try again later */
    DM_PAGE_TOOMANY,     /* toomany.html: too many failed attempts from this address */
    DM_PAGE_BADREQUEST,  /* badrequest.html: a form we cannot understand (a bad action=) */
    DM_PAGE_COUNT,
};

/* Every language's pages, read once per load; immutable after. */
struct dm_pages;

/*
 * Reads the pages of every language directory of the templates directory
 * dir. A page file is "Title: ..." on its first line, a blank line, then
 * the content of <main>, set in templates/page-layout.html (the language,
 * the title and the shared style sheet templates/page.css, put inline: the
 * Content-Security-Policy allows inline styles only). A file that starts
 * with "<!DOCTYPE" is a whole page of its own (the format before the
 * layout). A page missing in a language is the English one; a page missing
 * in English is a built-in one, so every page always answers. Never fails;
 * logs what it could not read.
 */
struct dm_pages *dm_pages_load(const char *dir);

void dm_pages_free(struct dm_pages *pages);

/*
 * The language (a directory name, "fr") whose pages serve the locale tag
 * tag ("fr", "fr-CA", "FR", "fr_CA"): the first that is a prefix of it at a
 * subtag boundary; "en" when none is, or tag is NULL. Points into pages.
 */
const char *dm_pages_language(const struct dm_pages *pages, const char *tag);

/* The first language of an Accept-Language header ("fr-CA,en;q=0.5") that
 * has pages; "en" otherwise (the header's q-values are not weighed: browsers
 * send them in order). */
const char *dm_pages_negotiate(const struct dm_pages *pages, const char *accept_language);

/*
 * Page p in language lang (from dm_pages_language), newly allocated, with
 * {{deadline_date}} and {{deadline_time}} the moment deadline (ISO 8601
 * UTC, or NULL for pages that show none) in time zone tz and the page's
 * language, HTML-escaped.
 */
char *dm_page_render(const struct dm_pages *pages, const char *lang, enum dm_page p,
                     const char *deadline, const char *tz);

#endif
