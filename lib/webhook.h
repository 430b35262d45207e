/* Standard Webhooks 1.0: signed POSTs of outbox messages. */
#ifndef DM_WEBHOOK_H
#define DM_WEBHOOK_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dormant.h"

struct dm_config;
struct dm_webhook_request;

/* Room for "v1," and the base64 of a SHA-256 MAC, NUL included. */
#define DM_WEBHOOK_SIG_SIZE 64

/*
 * Writes the webhook-signature value "v1,<base64 HMAC-SHA256>" of
 * "<id>.<timestamp>.<body>" under key (the decoded whsec_ bytes) into out.
 */
bool dm_webhook_sign(const unsigned char *key, size_t keylen, const char *id, const char *timestamp,
                     const char *body, size_t bodylen, char out[DM_WEBHOOK_SIG_SIZE]) DM_MUST_CHECK;

/* How one POST ended. */
enum dm_webhook_outcome {
    DM_WH_DELIVERED, /* 2xx */
    DM_WH_RETRY,     /* anything else: try again later */
    DM_WH_GONE,      /* 410: the endpoint asks not to be called again */
};

/*
 * Prepares one POST of body to cfg->webhook.url with the headers
 * webhook-id (id), webhook-timestamp (Unix seconds), webhook-signature and
 * Content-Type: application/json; timeout webhook.timeout, TLS verified, no
 * redirects followed. The body is copied. Start it with dm_webhook_easy()
 * and dm_transfers_add().
 */
struct dm_webhook_request *dm_webhook_request_new(const struct dm_config *cfg, const char *id,
                                                  int64_t timestamp, const char *body);

CURL *dm_webhook_easy(struct dm_webhook_request *r);

/*
 * Classifies the finished transfer (rc from curl). cause gets a short
 * reason fit for logs and last_error ("HTTP 503", "timeout"), never the
 * URL; *retry_after_s the server's Retry-After on 429 and 503 (seconds,
 * -1 when absent).
 */
enum dm_webhook_outcome dm_webhook_result(struct dm_webhook_request *r, CURLcode rc, long *status,
                                          int64_t *retry_after_s, char *cause, size_t causelen);

/* Frees the request and its easy handle. */
void dm_webhook_request_free(struct dm_webhook_request *r);

#endif
