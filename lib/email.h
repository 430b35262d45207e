/* Email: RFC 5322 messages from templates, sent through libcurl's SMTP. */
#ifndef DM_EMAIL_H
#define DM_EMAIL_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "dormant.h"

struct dm_config;
struct dm_email_request;

/* How long one SMTP transaction may take, connection included. */
#define DM_EMAIL_TIMEOUT_MS 60000

/* The parts of one message; every string UTF-8, none containing CR or LF
 * except body. */
struct dm_email_fields {
    const char *from;       /* From: as configured, "Name <addr>" or "addr" */
    const char *to;         /* the recipient's bare address */
    const char *subject;    /* unencoded; RFC 2047-encoded here when not ASCII */
    const char *body;       /* the text/plain part, "\n" or "\r\n" line ends */
    const char *html;       /* the text/html part; NULL sends text only */
    const char *date;       /* RFC 5322 date-time, "Sat, 28 Nov 2026 23:00:00 +0000" */
    const char *message_id; /* without angle brackets: "dormant.42@example.com" */
};

/* True when addr looks like a bare address we can put in To: and RCPT TO:
 * one "@", no spaces, angle brackets or control characters. */
bool dm_email_address_ok(const char *addr);

/* Extracts the bare address and its domain from a From value such as
 * "Example <no-reply@example.com>" or "no-reply@example.com". */
bool dm_email_parse_from(const char *from, char *addr, size_t addrlen, char *domain,
                         size_t domainlen) DM_MUST_CHECK;

/* A header value: as is when printable ASCII of at most 900 characters,
 * otherwise RFC 2047 "=?UTF-8?B?...?=" encoded-words of at most 75
 * characters, folded with CRLF SP and never splitting a UTF-8 sequence.
 * Newly allocated. */
char *dm_email_encode_header(const char *text);

/* Quoted-printable (RFC 2045) of text with CRLF line ends and lines of at
 * most 76 characters. Newly allocated. */
char *dm_email_quoted_printable(const char *text);

/* The whole message, headers and encoded body, CRLF line ends: a
 * multipart/alternative of the text and then the HTML part (the one mail
 * clients prefer comes last, RFC 2046), both UTF-8 quoted-printable. A
 * display name in From is quoted when it holds RFC 5322 specials
 * ("Dormant, Inc." -> "\"Dormant, Inc.\""). NULL (with err) when a field is
 * unfit (an address or header with a line break). */
char *dm_email_build(const struct dm_email_fields *f, char *err, size_t errlen);

struct dm_template_var;

/* One outbox message, as the email channel needs it. */
struct dm_email_message {
    const char *id;   /* outbox id: Message-ID "dormant.<id>@<From's domain>" */
    const char *type; /* message type, which picks the template */
    const char *to;   /* the address the source holds now; NULL or "" when none */
    const char *locale;
    const char *date;                   /* RFC 5322 date-time of the attempt */
    const struct dm_template_var *vars; /* what the templates may use */
    size_t nvars;
};

/* What dm_email_prepare() found. */
enum dm_email_prep {
    DM_EMAIL_READY,      /* a transaction to start */
    DM_EMAIL_NONE,       /* nothing to send, and nothing is owed: the
                            channel counts as done (a message to the
                            application; a notice to someone erased) */
    DM_EMAIL_UNSENDABLE, /* a request or reminder with no usable address:
                            permanent */
    DM_EMAIL_NOT_NOW,    /* the templates or the From cannot make it now: retry */
};

/*
 * Renders m from email.templates in its locale and email.timezone, builds
 * the message and prepares its transaction (dm_email_request_new). Returns
 * the request when prep is DM_EMAIL_READY, else NULL with cause (loggable:
 * no address in it) saying why.
 */
struct dm_email_request *dm_email_prepare(const struct dm_config *cfg,
                                          const struct dm_email_message *m,
                                          enum dm_email_prep *prep, char *cause, size_t causelen);

/* How one SMTP transaction ended. */
enum dm_email_outcome {
    DM_EMAIL_SENT,     /* 250 after the message data */
    DM_EMAIL_RETRY,    /* connection failure, timeout, 4xx */
    DM_EMAIL_OPERATOR, /* refused for the operator's reasons: STARTTLS, AUTH,
                          the sender (MAIL FROM), relaying or policy (5.7.x, 530);
                          retried without end, never the subscriber's fault */
    DM_EMAIL_REJECTED, /* 5xx to the recipient or the data: permanent */
};

/*
 * Prepares one SMTP transaction to cfg->email.smtp_url: MAIL FROM the
 * From address, RCPT TO rcpt, DATA message (copied); STARTTLS per
 * email.starttls, AUTH when username is set, certificates verified.
 */
struct dm_email_request *dm_email_request_new(const struct dm_config *cfg, const char *rcpt,
                                              const char *message, char *err, size_t errlen);

CURL *dm_email_easy(struct dm_email_request *r);

/* Classifies the finished transaction. cause gets the server's last reply
 * and the command it answered ("RCPT TO: SMTP 550 5.1.1 <…>: unknown"), or
 * curl's reason when the server said nothing; addresses in the reply are
 * blanked, so cause can be logged. */
enum dm_email_outcome dm_email_result(struct dm_email_request *r, CURLcode rc, char *cause,
                                      size_t causelen);

void dm_email_request_free(struct dm_email_request *r);

#endif
