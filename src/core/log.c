/* log.c — onionmesh logging: tor-style timestamped "[severity] message" lines. */
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

static om_log_level_t log_level = OM_LOG_NOTICE;
static int log_level_inited;
static FILE *log_fp;

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
    if (log_level_inited) return;
    log_level_inited = 1;
    int l = om_log_level_from_string(getenv("OM_LOG"));
    if (l >= 0) log_level = (om_log_level_t)l;
}

void om_log_set_level(om_log_level_t level)
{
    log_level_inited = 1;
    log_level = level;
}

om_log_level_t om_log_get_level(void)
{
    log_init_from_env();
    return log_level;
}

int om_log_set_file(const char *path)
{
    if (log_fp) fclose(log_fp);
    log_fp = NULL;
    if (!path) return 0;
    log_fp = fopen(path, "a");
    return log_fp ? 0 : -1;
}

void om_logv(om_log_level_t level, const char *fmt, va_list ap)
{
    log_init_from_env();
    if (level < log_level) return;
    FILE *out = log_fp ? log_fp : stderr;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%b %d %H:%M:%S", &tm);
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    fprintf(out, "%s.%03d [%s] %s\n", ts, (int)(tv.tv_usec / 1000), level_names[level], line);
    fflush(out);
}

void om_log(om_log_level_t level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    om_logv(level, fmt, ap);
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
