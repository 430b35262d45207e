/* Standard Webhooks 1.0: signed POSTs of outbox messages. */
#include "webhook.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "interval.h"

/* One POST being made. */
struct dm_webhook_request {
    CURL *easy;
    struct curl_slist *headers;
    char *body;
};

bool dm_webhook_sign(const unsigned char *key, size_t keylen, const char *id, const char *timestamp,
                     const char *body, size_t bodylen, char out[DM_WEBHOOK_SIG_SIZE])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    size_t il = strlen(id), tl = strlen(timestamp);
    size_t n = il + 1 + tl + 1 + bodylen;
    unsigned char *msg = malloc(n);

    if (msg == NULL)
        return false;
    memcpy(msg, id, il);
    msg[il] = '.';
    memcpy(msg + il + 1, timestamp, tl);
    msg[il + 1 + tl] = '.';
    memcpy(msg + il + tl + 2, body, bodylen);
    bool ok = HMAC(EVP_sha256(), key, (int)keylen, msg, n, mac, &maclen) != NULL;
    free(msg);
    if (!ok)
        return false;
    memcpy(out, "v1,", 3);
    /* 32 bytes encode to 44 characters plus the NUL: fits in 64 - 3. */
    EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)maclen);
    return true;
}

/* The answer's body is not needed: swallow it. */
static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    return size * nmemb;
}

struct dm_webhook_request *dm_webhook_request_new(const struct dm_config *cfg, const char *id,
                                                  int64_t timestamp, const char *body)
{
    struct dm_webhook_request *r = calloc(1, sizeof *r);
    char ts[32], sig[DM_WEBHOOK_SIG_SIZE], line[160];

    if (r == NULL)
        return NULL;
    r->body = strdup(body);
    r->easy = curl_easy_init();
    if (r->body == NULL || r->easy == NULL)
        goto fail;
    snprintf(ts, sizeof ts, "%" PRId64, timestamp);
    if (!dm_webhook_sign(cfg->webhook.secret, cfg->webhook.secret_len, id, ts, r->body,
                         strlen(r->body), sig))
        goto fail;
    const char *hdrs[4];
    char h_id[128], h_ts[64], h_sig[DM_WEBHOOK_SIG_SIZE + 32];
    snprintf(h_id, sizeof h_id, "webhook-id: %s", id);
    snprintf(h_ts, sizeof h_ts, "webhook-timestamp: %s", ts);
    snprintf(h_sig, sizeof h_sig, "webhook-signature: %s", sig);
    hdrs[0] = "Content-Type: application/json";
    hdrs[1] = h_id;
    hdrs[2] = h_ts;
    hdrs[3] = h_sig;
    for (size_t i = 0; i < 4; i++) {
        struct curl_slist *n = curl_slist_append(r->headers, hdrs[i]);
        if (n == NULL)
            goto fail;
        r->headers = n;
    }
    /* Expect: 100-continue would cost a round trip on every larger body. */
    snprintf(line, sizeof line, "Expect:");
    struct curl_slist *n = curl_slist_append(r->headers, line);
    if (n == NULL)
        goto fail;
    r->headers = n;

    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_URL, cfg->webhook.url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(r->body));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "dormant/" DM_VERSION);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)dm_interval_ms(&cfg->webhook.timeout));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    return r;
fail:
    dm_webhook_request_free(r);
    return NULL;
}

CURL *dm_webhook_easy(struct dm_webhook_request *r)
{
    return r->easy;
}

enum dm_webhook_outcome dm_webhook_result(struct dm_webhook_request *r, CURLcode rc, long *status,
                                          int64_t *retry_after_s, char *cause, size_t causelen)
{
    long code = 0;

    *retry_after_s = -1;
    *status = 0;
    if (rc != CURLE_OK) {
        /* curl's generic text for the code: its detailed message could
         * name the URL, which may carry a token. */
        snprintf(cause, causelen, "%s",
                 rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : curl_easy_strerror(rc));
        return DM_WH_RETRY;
    }
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
    *status = code;
    if (code >= 200 && code < 300) {
        snprintf(cause, causelen, "HTTP %ld", code);
        return DM_WH_DELIVERED;
    }
    snprintf(cause, causelen, "HTTP %ld", code);
    if (code == 410)
        return DM_WH_GONE;
    if (code == 429 || code == 503) {
        curl_off_t ra = -1;
        if (curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
            *retry_after_s = (int64_t)ra;
    }
    return DM_WH_RETRY;
}

void dm_webhook_request_free(struct dm_webhook_request *r)
{
    if (r == NULL)
        return;
    if (r->easy)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    free(r->body);
    free(r);
}
