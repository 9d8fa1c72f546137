/* log.h — onionmesh logging: tor-style "[severity] message" lines to stderr or a file. */
#ifndef OM_CORE_LOG_H
#define OM_CORE_LOG_H

#include <stdarg.h>
#include <stddef.h>

typedef enum {
    OM_LOG_DEBUG = 0,
    OM_LOG_INFO,
    OM_LOG_NOTICE,
    OM_LOG_WARN,
    OM_LOG_ERR
} om_log_level_t;

/* Minimum severity that is written (default NOTICE; env OM_LOG=debug|info|notice|warn|err). */
void om_log_set_level(om_log_level_t level);
om_log_level_t om_log_get_level(void);
/* Parse "debug", "info", ... ; returns -1 if unknown. */
int om_log_level_from_string(const char *s);
/* Send log lines to this file (append) instead of stderr; NULL restores stderr. */
int om_log_set_file(const char *path);

void om_log(om_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void om_logv(om_log_level_t level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define om_debug(...)  om_log(OM_LOG_DEBUG, __VA_ARGS__)
#define om_info(...)   om_log(OM_LOG_INFO, __VA_ARGS__)
#define om_notice(...) om_log(OM_LOG_NOTICE, __VA_ARGS__)
#define om_warn(...)   om_log(OM_LOG_WARN, __VA_ARGS__)
#define om_err(...)    om_log(OM_LOG_ERR, __VA_ARGS__)

/* Format a reason into err (if err and errlen are non-zero) and return -1: the error-out-parameter
 * convention of the parsers and loaders ("return om_errf(err, errlen, "bad %s", what);"). */
int om_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
