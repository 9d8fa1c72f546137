/* log.c — onionmesh logging: tor-style timestamped "[severity] message" lines to a set of sinks
 * (stderr by default; files, stdout, syslog as the Log option says), SafeLogging's scrubbing and
 * ProtocolWarnings' severity. */
#include "core/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>

#define MAX_SINKS 16

typedef enum { SINK_STDERR, SINK_STDOUT, SINK_FILE, SINK_SYSLOG } sink_kind_t;

typedef struct {
    sink_kind_t kind;
    om_log_level_t min, max;
    FILE *fp; /* SINK_FILE */
} sink_t;

/* The log settings are the process's (as tor's): instances of the engine on several threads share
 * them. The minimum level is atomic (read on every call); the sinks are changed and written under
 * one mutex. */
static _Atomic int log_level = OM_LOG_NOTICE;
static atomic_bool log_level_inited;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
/* configured: false = the default single stderr sink (sinks[] unused). */
static bool configured;
static sink_t sinks[MAX_SINKS];
static size_t n_sinks;
static bool syslog_open;
/* Atomic: embedded onion proxies may start on several threads (each sets them). */
static _Atomic int safe_logging = OM_SAFELOG_ALL;
static atomic_bool protocol_warnings;

static const char *const level_names[] = {"debug", "info", "notice", "warn", "err"};

int om_log_level_from_string(const char *s)
{
    for (int i = 0; i < 5; i++)
        if (s && !strcasecmp(s, level_names[i])) return i;
    if (s && !strcasecmp(s, "warning")) return OM_LOG_WARN;
    return -1;
}

static void log_init_from_env(void)
{
    if (atomic_load(&log_level_inited)) return;
    int l = om_log_level_from_string(getenv("OM_LOG"));
    bool was = false;
    /* Only the first caller sets the level from the environment (a racing om_log_set_level wins).
     */
    if (atomic_compare_exchange_strong(&log_level_inited, &was, true) && l >= 0)
        atomic_store(&log_level, l);
}

void om_log_set_level(om_log_level_t level)
{
    atomic_store(&log_level_inited, true);
    atomic_store(&log_level, (int)level);
}

om_log_level_t om_log_get_level(void)
{
    log_init_from_env();
    return (om_log_level_t)atomic_load(&log_level);
}

static void clear_sinks_locked(void)
{
    for (size_t i = 0; i < n_sinks; i++)
        if (sinks[i].kind == SINK_FILE && sinks[i].fp) fclose(sinks[i].fp);
    n_sinks = 0;
    configured = true;
    if (syslog_open) {
        closelog();
        syslog_open = false;
    }
}

void om_log_clear_sinks(void)
{
    pthread_mutex_lock(&log_mu);
    clear_sinks_locked();
    pthread_mutex_unlock(&log_mu);
}

void om_log_reset(void)
{
    pthread_mutex_lock(&log_mu);
    clear_sinks_locked();
    configured = false;
    pthread_mutex_unlock(&log_mu);
    atomic_store(&log_level, OM_LOG_NOTICE);
    atomic_store(&log_level_inited, false);
}

static int add_sink_locked(sink_kind_t kind, om_log_level_t min, om_log_level_t max, FILE *fp)
{
    if (!configured) {
        n_sinks = 0;
        configured = true;
    }
    if (n_sinks >= MAX_SINKS) {
        if (fp) fclose(fp);
        return -1;
    }
    sinks[n_sinks++] = (sink_t){.kind = kind, .min = min, .max = max, .fp = fp};
    return 0;
}

static int add_sink(sink_kind_t kind, om_log_level_t min, om_log_level_t max, FILE *fp)
{
    pthread_mutex_lock(&log_mu);
    int r = add_sink_locked(kind, min, max, fp);
    pthread_mutex_unlock(&log_mu);
    return r;
}

int om_log_add_file(om_log_level_t min, om_log_level_t max, const char *path)
{
    FILE *fp = fopen(path, "a");
    if (!fp) return -1;
    return add_sink(SINK_FILE, min, max, fp);
}

int om_log_add_stderr(om_log_level_t min, om_log_level_t max)
{
    return add_sink(SINK_STDERR, min, max, NULL);
}

int om_log_add_stdout(om_log_level_t min, om_log_level_t max)
{
    return add_sink(SINK_STDOUT, min, max, NULL);
}

int om_log_add_syslog(om_log_level_t min, om_log_level_t max)
{
    pthread_mutex_lock(&log_mu);
    if (!syslog_open) {
        openlog("onionmesh", LOG_PID | LOG_NDELAY, LOG_DAEMON);
        syslog_open = true;
    }
    int r = add_sink_locked(SINK_SYSLOG, min, max, NULL);
    pthread_mutex_unlock(&log_mu);
    return r;
}

size_t om_log_n_sinks(void)
{
    pthread_mutex_lock(&log_mu);
    size_t n = configured ? n_sinks : 1;
    pthread_mutex_unlock(&log_mu);
    return n;
}

int om_log_set_file(const char *path)
{
    FILE *fp = path ? fopen(path, "a") : NULL;
    if (path && !fp) return -1;
    pthread_mutex_lock(&log_mu);
    clear_sinks_locked();
    configured = path != NULL;
    int r = fp ? add_sink_locked(SINK_FILE, OM_LOG_DEBUG, OM_LOG_ERR, fp) : 0;
    pthread_mutex_unlock(&log_mu);
    return r;
}

static void write_line(FILE *out, const char *ts, int ms, om_log_level_t level, const char *line)
{
    fprintf(out, "%s.%03d [%s] %s\n", ts, ms, level_names[level], line);
    fflush(out);
}

static void write_sinks_locked(om_log_level_t level, const char *ts, int ms, const char *line);

void om_logv(om_log_level_t level, const char *fmt, va_list ap)
{
    log_init_from_env();
    if ((int)level < atomic_load(&log_level)) return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%b %d %H:%M:%S", &tm);
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    int ms = (int)(tv.tv_usec / 1000);
    pthread_mutex_lock(&log_mu);
    write_sinks_locked(level, ts, ms, line);
    pthread_mutex_unlock(&log_mu);
}

static void write_sinks_locked(om_log_level_t level, const char *ts, int ms, const char *line)
{
    if (!configured) {
        write_line(stderr, ts, ms, level, line);
        return;
    }
    static const int prio[] = {LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING, LOG_ERR};
    for (size_t i = 0; i < n_sinks; i++) {
        const sink_t *s = &sinks[i];
        if (level < s->min || level > s->max) continue;
        switch (s->kind) {
        case SINK_STDERR:
            write_line(stderr, ts, ms, level, line);
            break;
        case SINK_STDOUT:
            write_line(stdout, ts, ms, level, line);
            break;
        case SINK_FILE:
            write_line(s->fp, ts, ms, level, line);
            break;
        case SINK_SYSLOG:
            syslog(prio[level], "[%s] %s", level_names[level], line);
            break;
        }
    }
}

void om_log(om_log_level_t level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    om_logv(level, fmt, ap);
    va_end(ap);
}

/* ---- SafeLogging ---- */

void om_log_set_safe_logging(om_safe_logging_t mode)
{
    atomic_store_explicit(&safe_logging, (int)mode, memory_order_relaxed);
}

om_safe_logging_t om_log_get_safe_logging(void)
{
    return (om_safe_logging_t)atomic_load_explicit(&safe_logging, memory_order_relaxed);
}

const char *om_safe_str_client(const char *s)
{
    if (om_log_get_safe_logging() == OM_SAFELOG_ALL) return OM_SCRUBBED;
    return s ? s : "(null)";
}

const char *om_safe_str(const char *s)
{
    if (om_log_get_safe_logging() != OM_SAFELOG_NONE) return OM_SCRUBBED;
    return s ? s : "(null)";
}

/* ---- ProtocolWarnings ---- */

void om_log_set_protocol_warnings(bool on)
{
    atomic_store_explicit(&protocol_warnings, on, memory_order_relaxed);
}

bool om_log_get_protocol_warnings(void)
{
    return atomic_load_explicit(&protocol_warnings, memory_order_relaxed);
}

void om_log_protocol(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    om_logv(om_log_get_protocol_warnings() ? OM_LOG_WARN : OM_LOG_INFO, fmt, ap);
    va_end(ap);
}

int om_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}
