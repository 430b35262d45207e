/* Asks the configured SMTP server whether it offers STARTTLS. */
#include "smtp_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"

/* Connects to host:port within timeout_ms; the socket, or -1. */
static int connect_to(const char *host, const char *port, int timeout_ms)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    int fd = -1;
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int soerr = 0;
            socklen_t len = sizeof soerr;
            if (errno != EINPROGRESS || poll(&p, 1, timeout_ms) != 1 ||
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
                close(fd);
                fd = -1;
            }
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* Reads one whole SMTP reply (up to the line "NNN text") into buf. */
static bool read_reply(int fd, int timeout_ms, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (;;) {
        /* A complete reply ends with a line whose 4th character is a space. */
        char *line = buf, *nl;
        while ((nl = strstr(line, "\r\n")) != NULL) {
            if (nl - line >= 3 && (nl - line == 3 || line[3] == ' '))
                return true;
            line = nl + 2;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (used + 1 >= len || poll(&p, 1, timeout_ms) != 1)
            return false;
        ssize_t n = read(fd, buf + used, len - 1 - used);
        if (n <= 0)
            return false;
        used += (size_t)n;
        buf[used] = '\0';
    }
}

static bool say(int fd, const char *s)
{
    size_t n = strlen(s);
    return write(fd, s, n) == (ssize_t)n;
}

enum dm_smtp_probe dm_smtp_probe(const struct dm_config *cfg, int timeout_ms, char *err,
                                 size_t errlen)
{
    const char *u = cfg->email.smtp_url;
    err[0] = '\0';
    if (cfg->email.starttls != DM_STARTTLS_REQUIRED || strncmp(u, "smtp://", 7) != 0)
        return DM_PROBE_OK;
    /* smtp://[user@]host[:port][/...]; a bracketed IPv6 literal too. */
    char host[256], port[16] = "25";
    const char *h = u + 7, *at = strchr(h, '@'), *end = h + strcspn(h, "/?");
    if (at != NULL && at < end)
        h = at + 1;
    const char *colon = NULL;
    if (*h == '[') {
        const char *close = memchr(h, ']', (size_t)(end - h));
        if (close == NULL)
            return DM_PROBE_UNREACHABLE;
        snprintf(host, sizeof host, "%.*s", (int)(close - h - 1), h + 1);
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        snprintf(host, sizeof host, "%.*s", (int)((colon ? colon : end) - h), h);
    }
    if (colon != NULL)
        snprintf(port, sizeof port, "%.*s", (int)(end - colon - 1), colon + 1);

    int fd = connect_to(host, port, timeout_ms);
    if (fd < 0) {
        snprintf(err, errlen, "cannot reach the SMTP server %s:%s to check email.starttls", host,
                 port);
        return DM_PROBE_UNREACHABLE;
    }
    char reply[8192];
    enum dm_smtp_probe result = DM_PROBE_UNREACHABLE;
    snprintf(err, errlen, "the SMTP server %s:%s did not answer EHLO; email.starttls unchecked",
             host, port);
    if (read_reply(fd, timeout_ms, reply, sizeof reply) && strncmp(reply, "220", 3) == 0 &&
        say(fd, "EHLO dormant.invalid\r\n") && read_reply(fd, timeout_ms, reply, sizeof reply) &&
        strncmp(reply, "250", 3) == 0) {
        bool tls = false;
        for (char *line = reply; *line; line = strstr(line, "\r\n") ? strstr(line, "\r\n") + 2 : "")
            if (strlen(line) >= 12 && strncasecmp(line + 4, "STARTTLS", 8) == 0)
                tls = true;
        if (tls) {
            result = DM_PROBE_OK;
            err[0] = '\0';
        } else {
            result = DM_PROBE_NO_STARTTLS;
            snprintf(err, errlen,
                     "email.starttls is \"required\" but the SMTP server %s:%s does not offer "
                     "STARTTLS: every message would fail (\"Requested SSL level failed\"); "
                     "enable TLS on the server, use smtps://, or set email.starttls = \"never\" "
                     "for a relay on this host",
                     host, port);
        }
        (void)say(fd, "QUIT\r\n");
    }
    close(fd);
    return result;
}
