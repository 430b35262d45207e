/* Message templates: templates/<locale>/<type>.txt with {{placeholders}}. */
#ifndef DM_TEMPLATE_H
#define DM_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "domain.h" /* dm_message_types: one template per type */
#include "dormant.h"

/* The placeholders a template may name. */
extern const char *const dm_template_placeholders[];

/* One placeholder's value for rendering. */
struct dm_template_var {
    const char *name;
    const char *value;
};

/*
 * Checks a templates directory: "en/<type>.txt" exists for every message
 * type, and every template of every locale found there starts with a
 * "Subject: " line and names only known placeholders. On failure writes a
 * one-line reason (naming the file) to err.
 */
bool dm_template_check_dir(const char *dir, char *err, size_t errlen) DM_MUST_CHECK;

/*
 * Renders templates/<locale>/<type>.txt (then the language part of a
 * regional locale, "fr" for "fr_CA" or "fr-CA"; English when neither has
 * the file or the locale is not a plain language tag) into a newly allocated subject and
 * body. Unknown placeholders were rejected at load; a variable missing from
 * vars renders empty. Returns false (with err) when the file cannot be read.
 */
bool dm_template_render(const char *dir, const char *locale, const char *type,
                        const struct dm_template_var *vars, size_t nvars, char **subject,
                        char **body, char *err, size_t errlen) DM_MUST_CHECK;

/* Expands {{name}} in text with vars; newly allocated. Unknown names stay
 * empty. Used for pages as well as messages. escape_html escapes values. */
char *dm_template_expand(const char *text, const struct dm_template_var *vars, size_t nvars,
                         bool escape_html);

/*
 * Writes an ISO 8601 UTC timestamp ("2026-12-28T23:00:00Z", as found in
 * payloads) as a date a reader understands in locale: "28 December 2026",
 * "28 décembre 2026" (English for locales without month names here).
 * Writes "" and returns false when iso is not such a timestamp.
 */
bool dm_template_readable_date(const char *iso, const char *locale, char *out, size_t len);

/* Reads a whole file into a new NUL-terminated buffer, or NULL with errno. */
char *dm_read_file(const char *path, size_t *len);

#endif
