/* Structured logging: logfmt or JSON lines to stderr, syslog or a file. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

enum dest_kind {
    DEST_STDERR,
    DEST_SYSLOG,
    DEST_FILE,
};

#define MAX_SECRETS  16
#define LINE_MAX_LEN 8192

/*
 * The logger is the one piece of process-wide state outside the daemon's
 * context: every module logs, and threading a handle through each call
 * would buy nothing. It is only touched from the event loop's thread.
 */
static struct {
    enum dm_log_level level;
    enum dm_log_format format;
    bool force_debug;
    enum dest_kind kind;
    int fd;       /* DEST_FILE: open descriptor; otherwise -1 */
    char *path;   /* DEST_FILE: the path, for reopening */
    bool journal; /* stderr is the journal: prefix lines with <N> */
    char *secrets[MAX_SECRETS];
    size_t n_secrets;
} lg = {.level = DM_LOG_INFO, .format = DM_LOG_LOGFMT, .kind = DEST_STDERR, .fd = -1};

static const char *const level_names[] = {"error", "warning", "info", "debug"};
static const int syslog_prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

const char *dm_log_level_name(enum dm_log_level level)
{
    return level_names[level];
}

bool dm_log_level_parse(const char *s, enum dm_log_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum dm_log_level)i;
            return true;
        }
    }
    return false;
}

/* True when stderr is the stream systemd's journal gave us (JOURNAL_STREAM
 * holds "device:inode" of it), so a "<N>" prefix sets the priority. */
static bool stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;

    if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
        return false;
    if (fstat(STDERR_FILENO, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

bool dm_log_configure(const struct dm_log_settings *s, char *err, size_t errlen)
{
    enum dest_kind kind = DEST_FILE;
    int fd = -1;

    if (s->destination == NULL || strcmp(s->destination, "stderr") == 0) {
        kind = DEST_STDERR;
    } else if (strcmp(s->destination, "syslog") == 0) {
        kind = DEST_SYSLOG;
    } else {
        fd = open(s->destination, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0) {
            snprintf(err, errlen, "cannot open log file %s: %s", s->destination, strerror(errno));
            return false;
        }
    }
    if (lg.kind == DEST_SYSLOG && kind != DEST_SYSLOG)
        closelog();
    if (kind == DEST_SYSLOG && lg.kind != DEST_SYSLOG)
        openlog(s->ident ? s->ident : "dormant", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    if (lg.fd >= 0)
        close(lg.fd);
    free(lg.path);
    lg.path = kind == DEST_FILE ? strdup(s->destination) : NULL;
    lg.fd = fd;
    lg.kind = kind;
    lg.level = s->level;
    lg.format = s->format;
    lg.journal = kind == DEST_STDERR && stderr_is_journal();
    return true;
}

void dm_log_reopen(void)
{
    if (lg.kind != DEST_FILE || lg.path == NULL)
        return;
    int fd = open(lg.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        dm_log_error("cannot reopen log file", DM_S("path", lg.path),
                     DM_S("error", strerror(errno)));
        return;
    }
    close(lg.fd);
    lg.fd = fd;
}

void dm_log_force_debug(bool on)
{
    lg.force_debug = on;
}

void dm_log_add_secret(const char *secret)
{
    if (secret == NULL || secret[0] == '\0' || lg.n_secrets == MAX_SECRETS)
        return;
    char *copy = strdup(secret);
    if (copy != NULL)
        lg.secrets[lg.n_secrets++] = copy;
}

void dm_log_forget_secrets(void)
{
    for (size_t i = 0; i < lg.n_secrets; i++)
        free(lg.secrets[i]);
    lg.n_secrets = 0;
}

void dm_log_shutdown(void)
{
    dm_log_forget_secrets();
    if (lg.fd >= 0)
        close(lg.fd);
    lg.fd = -1;
    free(lg.path);
    lg.path = NULL;
    if (lg.kind == DEST_SYSLOG)
        closelog();
    lg.kind = DEST_STDERR;
}

bool dm_log_enabled(enum dm_log_level level)
{
    return lg.force_debug || level <= lg.level;
}

/* Characters that end a word when looking for an e-mail address. */
static bool is_word_break(char c)
{
    return c == '\0' || c == ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '(' ||
           c == ')' || c == ',' || c == ';' || c == '=' || c == '\n' || c == '\t' || c == '\\';
}

/*
 * Copies in to out (NUL-terminated, at most outlen) with registered secrets
 * and anything shaped like an e-mail address replaced. Values in log lines
 * come from error messages of PostgreSQL, libcurl and the SMTP server, which
 * may quote data back; this is the last line of defence, not the first.
 */
static void redact(const char *in, char *out, size_t outlen)
{
    static const char email_mark[] = "[redacted-email]";
    static const char secret_mark[] = "[redacted]";
    size_t o = 0;

    if (outlen == 0)
        return;
    for (const char *p = in; *p != '\0' && o + 1 < outlen;) {
        bool matched = false;
        for (size_t i = 0; i < lg.n_secrets; i++) {
            size_t n = strlen(lg.secrets[i]);
            if (strncmp(p, lg.secrets[i], n) == 0) {
                size_t m = strlen(secret_mark);
                if (o + m >= outlen)
                    m = outlen - o - 1;
                memcpy(out + o, secret_mark, m);
                o += m;
                p += n;
                matched = true;
                break;
            }
        }
        if (matched)
            continue;
        if (*p == '@' && p > in && !is_word_break(p[-1]) && !is_word_break(p[1])) {
            /* Back up over the local part already copied, then skip the domain. */
            while (o > 0 && !is_word_break(out[o - 1]))
                o--;
            p++;
            while (!is_word_break(*p))
                p++;
            size_t m = strlen(email_mark);
            if (o + m >= outlen)
                m = outlen - o - 1;
            memcpy(out + o, email_mark, m);
            o += m;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
}

/* Appending writer over a fixed buffer; output is truncated, never overrun. */
struct sink {
    char *buf;
    size_t len;
    size_t used;
};

static void put(struct sink *s, const char *str, size_t n)
{
    if (s->used >= s->len)
        return;
    size_t room = s->len - s->used - 1;
    if (n > room)
        n = room;
    memcpy(s->buf + s->used, str, n);
    s->used += n;
    s->buf[s->used] = '\0';
}

static void puts_(struct sink *s, const char *str)
{
    put(s, str, strlen(str));
}

static bool logfmt_needs_quotes(const char *v)
{
    if (*v == '\0')
        return true;
    for (const char *p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
            return true;
    }
    return false;
}

/* Writes a string value escaped for logfmt (quoted when needed) or JSON
 * (always quoted); control characters become \n, \t or \u00XX. */
static void put_string(struct sink *s, enum dm_log_format f, const char *raw)
{
    char v[2048];
    redact(raw ? raw : "", v, sizeof v);
    bool quote = f == DM_LOG_JSON || logfmt_needs_quotes(v);
    if (quote)
        put(s, "\"", 1);
    for (const char *p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(s, esc, 2);
        } else if (c == '\n') {
            put(s, "\\n", 2);
        } else if (c == '\r') {
            put(s, "\\r", 2);
        } else if (c == '\t') {
            put(s, "\\t", 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(s, esc, 6);
        } else {
            put(s, (const char *)p, 1);
        }
    }
    if (quote)
        put(s, "\"", 1);
}

static void put_key(struct sink *s, enum dm_log_format f, const char *key, bool first)
{
    if (f == DM_LOG_JSON) {
        if (!first)
            put(s, ",", 1);
        put_string(s, f, key);
        put(s, ":", 1);
    } else {
        if (!first)
            put(s, " ", 1);
        puts_(s, key);
        put(s, "=", 1);
    }
}

size_t dm_log_format_line(char *buf, size_t len, enum dm_log_format format, const char *ts,
                          enum dm_log_level level, const char *msg, const struct dm_field *fields)
{
    struct sink s = {buf, len, 0};
    char num[64];

    if (len > 0)
        buf[0] = '\0';
    if (format == DM_LOG_JSON)
        put(&s, "{", 1);
    put_key(&s, format, "ts", true);
    put_string(&s, format, ts);
    put_key(&s, format, "level", false);
    put_string(&s, format, level_names[level]);
    put_key(&s, format, "msg", false);
    put_string(&s, format == DM_LOG_LOGFMT ? DM_LOG_JSON : format, msg); /* msg always quoted */
    for (const struct dm_field *f = fields; f != NULL && f->key != NULL; f++) {
        put_key(&s, format, f->key, false);
        switch (f->type) {
        case DM_FIELD_STR:
            put_string(&s, format, f->s);
            break;
        case DM_FIELD_INT:
            snprintf(num, sizeof num, "%lld", f->i);
            puts_(&s, num);
            break;
        case DM_FIELD_DBL:
            snprintf(num, sizeof num, "%.6g", f->d);
            puts_(&s, num);
            break;
        case DM_FIELD_BOOL:
            puts_(&s, f->i ? "true" : "false");
            break;
        case DM_FIELD_END:
            break;
        }
    }
    if (format == DM_LOG_JSON)
        put(&s, "}", 1);
    return s.used;
}

static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

void dm_log_emit(enum dm_log_level level, const char *msg, const struct dm_field *fields)
{
    int saved_errno = errno;
    char ts[40], line[LINE_MAX_LEN];
    struct timespec now;
    struct tm tm;
    size_t off = 0;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03ldZ", now.tv_nsec / 1000000);

    if (lg.kind == DEST_STDERR && lg.journal)
        off = (size_t)snprintf(line, sizeof line, "<%d>", syslog_prio[level]);
    size_t used = off + dm_log_format_line(line + off, sizeof line - off - 1, lg.format, ts, level,
                                           msg, fields);
    if (lg.kind == DEST_SYSLOG) {
        syslog(syslog_prio[level], "%s", line);
    } else {
        line[used++] = '\n';
        write_all(lg.kind == DEST_FILE ? lg.fd : STDERR_FILENO, line, used);
    }
    errno = saved_errno;
}

void dm_logf(enum dm_log_level level, const char *fmt, ...)
{
    if (!dm_log_enabled(level))
        return;
    int saved_errno = errno;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    errno = saved_errno;
    dm_log_emit(level, msg, NULL);
}
