/* Message templates: templates/<locale>/<type>.txt and .html with {{placeholders}}. */
#ifndef DM_TEMPLATE_H
#define DM_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "domain.h" /* dm_message_types: one template per type */
#include "dormant.h"

/*
 * The template language (README "Templates"), a small subset of Mustache:
 *
 *   {{name}}              the value of a placeholder (HTML-escaped in .html)
 *   {{#name}}…{{/name}}   the text between, only when name has a value
 *   {{^name}}…{{/name}}   the text between, only when name has none
 *   {{#rule_R}}…          true when the message's rule is R
 *   {{#reason_R}}…        true when the message's reason is R
 *
 * A section tag alone on its line takes its line break with it. Sections
 * of different names nest; a name does not nest inside itself. Unknown
 * names, rules, reasons and unbalanced sections are refused at load.
 */

/* The placeholders a template may name. */
extern const char *const dm_template_placeholders[];

/* The values of data.rule and data.reason a section may test. */
extern const char *const dm_template_rules[];
extern const char *const dm_template_reasons[];

/* One placeholder's value for rendering. */
struct dm_template_var {
    const char *name;
    const char *value; /* NULL or "" counts as no value */
};

/* One rendered message, each part newly allocated. */
struct dm_message {
    char *subject; /* one line, unencoded UTF-8 */
    char *text;    /* the text/plain part */
    char *html;    /* the text/html part: templates/mail.html around <type>.html */
};

/*
 * Checks a templates directory: "en/<type>.txt" and "en/<type>.html" exist
 * for every message type, every "<locale>/<type>.txt" found has its .html
 * beside it and starts with a "Subject: " line, "mail.html" exists, and
 * every template names only known placeholders in balanced sections, and
 * the request's and the reminder's carry {{confirm_url}}. On failure writes a one-line reason
 * (naming the file) to err.
 */
bool dm_template_check_dir(const char *dir, char *err, size_t errlen) DM_MUST_CHECK;

/*
 * Renders one message of type for a subscriber whose locale is locale:
 * templates/<locale>/<type>.txt and .html (then the language part of a
 * regional locale, "fr" for "fr_CA" or "fr-CA"; English when neither has
 * the files or the locale is not a plain language tag), the HTML part set
 * in templates/mail.html. The ISO timestamps "deadline" and
 * "last_activity_at" in vars are also shown as deadline_date (with the
 * day's name), deadline_time and last_activity_date, in time zone tz and
 * in the language of the template used (the subscriber's own regional
 * form when it is of that language). A variable missing from vars has no
 * value. Returns false (with err) when a file cannot be read.
 */
bool dm_template_render(const char *dir, const char *locale, const char *tz, const char *type,
                        const struct dm_template_var *vars, size_t nvars, struct dm_message *out,
                        char *err, size_t errlen) DM_MUST_CHECK;

void dm_message_free(struct dm_message *m);

/* Expands the template language in text with vars; newly allocated.
 * escape_html escapes values (not the text). Used for pages as well. */
char *dm_template_expand(const char *text, const struct dm_template_var *vars, size_t nvars,
                         bool escape_html);

/* Reads a whole file into a new NUL-terminated buffer, or NULL with errno. */
char *dm_read_file(const char *path, size_t *len);

#endif
