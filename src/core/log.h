/* log.h — onionmesh logging: tor-style "[severity] message" lines to one or more sinks (stderr,
 * stdout, files, syslog), the scrubbing of sensitive strings (SafeLogging) and the severity of
 * other parties' protocol violations (ProtocolWarnings). */
#ifndef OM_CORE_LOG_H
#define OM_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
    OM_LOG_DEBUG = 0,
    OM_LOG_INFO,
    OM_LOG_NOTICE,
    OM_LOG_WARN,
    OM_LOG_ERR
} om_log_level_t;

/* Minimum severity that is written at all (default NOTICE; env OM_LOG=debug|info|notice|warn|
 * err). Sinks added with om_log_add_* have their own ranges on top of it. */
void om_log_set_level(om_log_level_t level);
om_log_level_t om_log_get_level(void);
/* Parse "debug", "info", ... ; returns -1 if unknown. */
int om_log_level_from_string(const char *s);
/* Send log lines to this file (append) instead of stderr; NULL restores stderr. Replaces every
 * sink added with om_log_add_*. */
int om_log_set_file(const char *path);

/* ---- Sinks (the Log option: one sink per line) ---- */

/* Drop every sink: nothing is written until one is added (om_log_reset goes back to stderr). */
void om_log_clear_sinks(void);
/* Back to the default: one stderr sink, level from $OM_LOG or notice. */
void om_log_reset(void);
/* Add a sink for severities min..max. -1 if the file can't be opened (errno set). */
int om_log_add_file(om_log_level_t min, om_log_level_t max, const char *path);
int om_log_add_stderr(om_log_level_t min, om_log_level_t max);
int om_log_add_stdout(om_log_level_t min, om_log_level_t max);
int om_log_add_syslog(om_log_level_t min, om_log_level_t max);
/* Number of sinks in use (the default stderr sink counts as one). */
size_t om_log_n_sinks(void);

void om_log(om_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void om_logv(om_log_level_t level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define om_debug(...)  om_log(OM_LOG_DEBUG, __VA_ARGS__)
#define om_info(...)   om_log(OM_LOG_INFO, __VA_ARGS__)
#define om_notice(...) om_log(OM_LOG_NOTICE, __VA_ARGS__)
#define om_warn(...)   om_log(OM_LOG_WARN, __VA_ARGS__)
#define om_err(...)    om_log(OM_LOG_ERR, __VA_ARGS__)

/* ---- SafeLogging (`man tor` SafeLogging): "[scrubbed]" instead of addresses ---- */

typedef enum {
    OM_SAFELOG_NONE = 0,  /* SafeLogging 0: log everything */
    OM_SAFELOG_ALL = 1,   /* SafeLogging 1 (the default): scrub all sensitive strings */
    OM_SAFELOG_RELAY = 2, /* SafeLogging relay: scrub what we see as a relay, keep our own
                             client activity */
} om_safe_logging_t;

#define OM_SCRUBBED "[scrubbed]"

void om_log_set_safe_logging(om_safe_logging_t mode);
om_safe_logging_t om_log_get_safe_logging(void);
/* Our own client activity (the OP's SOCKS clients and the destinations they ask for): s, or
 * "[scrubbed]" with SafeLogging 1 (tor's safe_str_client). */
const char *om_safe_str_client(const char *s);
/* Anything else sensitive, such as other people's traffic seen as a relay (peers on the
 * ORPort, exit destinations): s, or "[scrubbed]" unless SafeLogging is 0 (tor's safe_str). */
const char *om_safe_str(const char *s);

/* ---- ProtocolWarnings: protocol violations by other parties ---- */

void om_log_set_protocol_warnings(bool on);
bool om_log_get_protocol_warnings(void);
/* Log a protocol violation by a peer (malformed cell, bad SOCKS request ...): at warn severity
 * with ProtocolWarnings 1, at info otherwise (tor's LOG_PROTOCOL_WARN). */
void om_log_protocol(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Format a reason into err (if err and errlen are non-zero) and return -1: the error-out-parameter
 * convention of the parsers and loaders ("return om_errf(err, errlen, "bad %s", what);"). */
int om_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
