/* config_log.c — the Log option (`man tor` Log: "[domain,...]minSeverity[-maxSeverity] ...
 * stderr|stdout|syslog|file FILENAME") and applying the logging options to log.h: one sink per
 * Log line, RunAsDaemon's rules for stdout/stderr, SafeLogging and ProtocolWarnings. */
#include "core/config_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int parse_severity(const char *s, size_t n, om_log_level_t *out)
{
    static const char *const names[] = {"debug", "info", "notice", "warn", "err"};
    for (int i = 0; i < 5; i++) {
        if (strlen(names[i]) == n && !strncasecmp(s, names[i], n)) {
            *out = (om_log_level_t)i;
            return 0;
        }
    }
    return -1;
}

/* The severities at the start of a Log value; *pp is left at the destination. */
static int parse_severities(const char **pp, om_log_spec_t *out, char *reason)
{
    const char *p = *pp;
    bool any = false, any_plain = false;
    om_log_level_t best_plain = OM_LOG_ERR, best_any = OM_LOG_ERR, max_plain = OM_LOG_ERR;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *tok = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        size_t tl = (size_t)(p - tok);
        if (!tl) break;
        const char *sev = tok;
        bool dom = false;
        if (*tok == '[') {
            const char *close = memchr(tok, ']', tl);
            if (!close) {
                om_cfg_seterr(reason, REASON_LEN, "unclosed [domain] in \"%.*s\"", (int)tl, tok);
                return -1;
            }
            dom = true;
            sev = close + 1;
        }
        size_t sl = (size_t)(tok + tl - sev);
        const char *dash = memchr(sev, '-', sl);
        om_log_level_t lo, hi = OM_LOG_ERR;
        if (parse_severity(sev, dash ? (size_t)(dash - sev) : sl, &lo) < 0 ||
            (dash && parse_severity(dash + 1, (size_t)(sev + sl - dash - 1), &hi) < 0)) {
            if (dom || !any) {
                om_cfg_seterr(reason, REASON_LEN,
                              "\"%.*s\" is not a severity (debug, info, notice, "
                              "warn, err) or a range like notice-err",
                              (int)tl, tok);
                return -1;
            }
            p = tok; /* the destination */
            break;
        }
        if (lo > hi) {
            om_cfg_seterr(reason, REASON_LEN, "severity range \"%.*s\" is backwards", (int)sl, sev);
            return -1;
        }
        any = true;
        if (lo <= best_any) best_any = lo;
        if (dom) {
            out->has_domains = true;
        } else if (!any_plain || lo < best_plain) {
            any_plain = true;
            best_plain = lo;
            max_plain = hi;
        }
    }
    if (!any) {
        om_cfg_seterr(reason, REASON_LEN, "missing severity");
        return -1;
    }
    out->min = any_plain ? best_plain : best_any;
    out->max = any_plain ? max_plain : OM_LOG_ERR;
    *pp = p;
    return 0;
}

/* "stderr", "stdout", "syslog" or "file NAME". */
static int parse_destination(const char *dest, om_log_spec_t *out, char *reason)
{
    size_t dl = strcspn(dest, " \t");
    const char *rest = dest + dl;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (dl == 4 && !strncasecmp(dest, "file", 4)) {
        if (!*rest) {
            om_cfg_seterr(reason, REASON_LEN, "\"file\" needs a file name");
            return -1;
        }
        char *path = om_cfg_expand_home(rest);
        if (!path) {
            om_cfg_seterr(reason, REASON_LEN, "can't expand \"%s\": $HOME is not set", rest);
            return -1;
        }
        size_t plen = strlen(path);
        if (plen >= sizeof out->path) {
            free(path);
            om_cfg_seterr(reason, REASON_LEN, "log file name is too long");
            return -1;
        }
        memcpy(out->path, path, plen + 1);
        free(path);
        out->dest = OM_LOG_DEST_FILE;
        return 0;
    }
    if (*rest) {
        om_cfg_seterr(reason, REASON_LEN, "unexpected \"%s\" after the destination", rest);
        return -1;
    }
    if (dl == 6 && !strncasecmp(dest, "stderr", 6))
        out->dest = OM_LOG_DEST_STDERR;
    else if (dl == 6 && !strncasecmp(dest, "stdout", 6))
        out->dest = OM_LOG_DEST_STDOUT;
    else if (dl == 6 && !strncasecmp(dest, "syslog", 6))
        out->dest = OM_LOG_DEST_SYSLOG;
    else if (dl == 0) {
        om_cfg_seterr(reason, REASON_LEN,
                      "missing destination (stderr, stdout, syslog or file NAME)");
        return -1;
    } else {
        om_cfg_seterr(reason, REASON_LEN,
                      "\"%.*s\" is not a log destination (stderr, stdout, syslog or "
                      "file NAME)",
                      (int)dl, dest);
        return -1;
    }
    return 0;
}

int om_cfg_parse_log(const char *value, om_log_spec_t *out, char *reason)
{
    memset(out, 0, sizeof *out);
    const char *p = value;
    if (parse_severities(&p, out, reason) < 0) return -1;
    return parse_destination(p, out, reason);
}

int om_config_parse_log(const char *value, om_log_spec_t *out, char *err, size_t errlen)
{
    char reason[REASON_LEN];
    if (om_cfg_parse_log(value, out, reason) < 0) {
        om_cfg_seterr(err, errlen, "%s", reason);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Applying the logging options */

static const char *const dest_names[] = {"stderr", "stdout", "syslog", "file"};

static void apply_safe_logging(const om_general_options_t *g)
{
    om_log_set_safe_logging(g->safe_logging);
    om_log_set_protocol_warnings(g->protocol_warnings);
}

/* As tor: say so when the log may hold sensitive information. */
static void warn_if_unsafe(const om_general_options_t *g, om_log_level_t lowest)
{
    if (g->safe_logging != OM_SAFELOG_ALL || lowest < OM_LOG_NOTICE)
        om_warn("Your log may contain sensitive information - %s. Don't log unless it serves an "
                "important reason. Overwrite the log afterwards.",
                g->safe_logging != OM_SAFELOG_ALL && lowest < OM_LOG_NOTICE
                    ? "you disabled SafeLogging, and you're logging more than \"notice\""
                : g->safe_logging != OM_SAFELOG_ALL ? "you disabled SafeLogging"
                                                    : "you're logging more than \"notice\"");
}

int om_config_apply_logging(const om_config_t *cfg)
{
    om_general_options_t g;
    om_config_general_options(cfg, &g);
    apply_safe_logging(&g);
    size_t n;
    const char *const *lines = om_config_get_lines(cfg, "Log", &n);
    if (n == 0 && !g.run_as_daemon) { /* log.h's default: stderr */
        warn_if_unsafe(&g, om_log_get_level());
        return 0;
    }
    om_log_spec_t specs[16];
    size_t ns = 0;
    for (size_t i = 0; i < n && ns < 16; i++) {
        if (om_config_parse_log(lines[i], &specs[ns], NULL, 0) < 0) continue; /* checked when set */
        if (g.run_as_daemon &&
            (specs[ns].dest == OM_LOG_DEST_STDERR || specs[ns].dest == OM_LOG_DEST_STDOUT)) {
            /* tor: "Can't log to stdout with RunAsDaemon set; skipping" */
            fprintf(stderr,
                    "onionmesh: can't log to %s with RunAsDaemon set; skipping \"Log %s\"\n",
                    dest_names[specs[ns].dest], lines[i]);
            continue;
        }
        ns++;
    }
    if (n > 16) fprintf(stderr, "onionmesh: only the first 16 Log lines are used\n");
    om_log_clear_sinks();
    int rc = 0;
    om_log_level_t lowest = OM_LOG_ERR;
    for (size_t i = 0; i < ns; i++) {
        const om_log_spec_t *s = &specs[i];
        int r = s->dest == OM_LOG_DEST_FILE     ? om_log_add_file(s->min, s->max, s->path)
                : s->dest == OM_LOG_DEST_STDOUT ? om_log_add_stdout(s->min, s->max)
                : s->dest == OM_LOG_DEST_SYSLOG ? om_log_add_syslog(s->min, s->max)
                                                : om_log_add_stderr(s->min, s->max);
        if (r < 0) {
            fprintf(stderr, "onionmesh: cannot open log file \"%s\": %s\n", s->path,
                    strerror(errno));
            rc = -1;
            continue;
        }
        if (s->min < lowest) lowest = s->min;
    }
    om_log_set_level(lowest);
    if (ns == 0 && g.run_as_daemon)
        fprintf(stderr, "onionmesh: RunAsDaemon without a Log file or syslog line: nothing will "
                        "be logged\n");
    warn_if_unsafe(&g, lowest);
    return rc;
}
