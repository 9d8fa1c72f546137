/* config.h — onionmesh configuration, torrc-style: a table of typed options read from a file
 * (`-f FILE`) and the command line (`--Option value`, which wins), with tor's option names.
 *
 * Typical use (main):
 *     om_config_t *cfg = om_config_new();
 *     om_config_command_t cmd;
 *     char err[512];
 *     if (om_config_parse_argv(cfg, argc, argv, &cmd, err, sizeof err) < 0 ||
 *         (cmd != OM_CONFIG_CMD_HELP && cmd != OM_CONFIG_CMD_VERSION &&
 *          om_config_validate(cfg, err, sizeof err) < 0)) { fprintf(stderr, "%s\n", err); ... }
 *     om_config_apply_logging(cfg);
 *     ... om_config_get_string(cfg, "DataDirectory"), om_config_socks_ports(cfg, &n) ...
 *     om_config_free(cfg);
 *
 * File syntax (as tor's `man tor`, THE CONFIGURATION FILE FORMAT): one "Keyword value" per line,
 * keywords case-insensitive; '#' starts a comment; a value may be a C-style quoted string; a
 * backslash at the end of a line continues the entry on the next line (lines inside such an
 * entry that start with '#' are comments); `%include FILE` reads another file in place (files
 * only, no directories or wildcards; relative paths are taken from the including file's
 * directory; at most OM_CONFIG_MAX_INCLUDE_DEPTH levels). A keyword prefixed with '+' appends to
 * a repeatable option instead of replacing it; '/' clears it. An empty value is an error, except
 * for repeatable options, where it resets the option to its default.
 *
 * Errors are written to err as "SOURCE:LINE: reason", e.g.
 *     my.conf:12: unknown option "SocksPrt" (did you mean "SocksPort"?)
 *     my.conf:3: SocksPort: "99999" is not a port
 * and command-line errors as "command line: reason". Warnings go to the log (log.h). */
#ifndef OM_CORE_CONFIG_H
#define OM_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/log.h"

/* %include nesting limit (a file that includes itself fails at this depth). */
#define OM_CONFIG_MAX_INCLUDE_DEPTH 8
/* Largest configuration file read (bytes). */
#define OM_CONFIG_MAX_FILE_SIZE (4u << 20)
/* Room for a numeric IPv4 or IPv6 address (INET6_ADDRSTRLEN). */
#define OM_CONFIG_ADDR_LEN 46
/* tor relay nicknames: 1..19 characters [A-Za-z0-9]. */
#define OM_CONFIG_NICKNAME_MAX 19

typedef struct om_config om_config_t;

/* Option value types. */
typedef enum {
    OM_CONF_STRING,   /* free text (some options restrict it to a few choices) */
    OM_CONF_PATH,     /* file name; a leading "~/" is expanded with $HOME */
    OM_CONF_BOOL,     /* 0 or 1 */
    OM_CONF_AUTOBOOL, /* 0, 1 or auto (-1) */
    OM_CONF_INT,      /* integer within the option's range */
    OM_CONF_DOUBLE,   /* decimal number within the option's range */
    OM_CONF_PORT,     /* repeatable "[address:]port|auto|0 [flags]" */
    OM_CONF_INTERVAL, /* "30 seconds", "2 hours", "1.5 days" ... stored as seconds */
    OM_CONF_MEMUNIT,  /* "8 GB", "512 MB", "100 KBits" ... stored as bytes */
    OM_CONF_LINELIST, /* repeatable line (DirAuthority, ExitPolicy, Log ...) */
    OM_CONF_CSV,      /* comma-separated items; repeated lines are spliced together */
} om_conf_type_t;

/* What the command line asked for (flags for main to act on). */
typedef enum {
    OM_CONFIG_CMD_RUN = 0,
    OM_CONFIG_CMD_HELP,             /* -h, --help: print om_config_print_help, exit 0 */
    OM_CONFIG_CMD_VERSION,          /* --version */
    OM_CONFIG_CMD_VERIFY_CONFIG,    /* --verify-config: validate, report, exit */
    OM_CONFIG_CMD_LIST_FINGERPRINT, /* --list-fingerprint: print the relay's fingerprint, exit */
} om_config_command_t;

/* ---- Ports (SocksPort, ORPort, DirPort, ControlPort) ---- */

/* Port flags, as the words after the port in `man tor` (SocksPort, ORPort). */
enum {
    OM_PORT_ISOLATE_CLIENT_ADDR = 1u << 0, /* default on (SocksPort) */
    OM_PORT_ISOLATE_SOCKS_AUTH = 1u << 1,  /* default: the IsolateSOCKSAuth option (1) */
    OM_PORT_ISOLATE_CLIENT_PROTOCOL = 1u << 2,
    OM_PORT_ISOLATE_DEST_PORT = 1u << 3,
    OM_PORT_ISOLATE_DEST_ADDR = 1u << 4,
    OM_PORT_KEEPALIVE_ISOLATE_SOCKS_AUTH = 1u << 5,
    OM_PORT_IPV4_TRAFFIC = 1u << 6, /* default on */
    OM_PORT_IPV6_TRAFFIC = 1u << 7,
    OM_PORT_PREFER_IPV6 = 1u << 8,
    OM_PORT_DNS_REQUEST = 1u << 9,    /* default on */
    OM_PORT_ONION_TRAFFIC = 1u << 10, /* default on */
    OM_PORT_CACHE_IPV4_DNS = 1u << 11,
    OM_PORT_CACHE_IPV6_DNS = 1u << 12,
    OM_PORT_USE_IPV4_CACHE = 1u << 13,
    OM_PORT_USE_IPV6_CACHE = 1u << 14,
    OM_PORT_PREFER_IPV6_AUTOMAP = 1u << 15, /* default on */
    OM_PORT_PREFER_SOCKS_NO_AUTH = 1u << 16,
    OM_PORT_EXTENDED_ERRORS = 1u << 17,
    OM_PORT_NO_ADVERTISE = 1u << 20, /* ORPort/DirPort */
    OM_PORT_NO_LISTEN = 1u << 21,
    OM_PORT_IPV4_ONLY = 1u << 22,
    OM_PORT_IPV6_ONLY = 1u << 23,
};

typedef struct {
    char addr[OM_CONFIG_ADDR_LEN]; /* numeric, IPv6 without brackets; default per option */
    int family;                    /* 4 or 6 */
    uint16_t port;                 /* 0 when is_auto */
    bool is_auto;                  /* "auto": pick a free port */
    uint32_t flags;                /* OM_PORT_* in effect */
    uint32_t explicit_flags;       /* OM_PORT_* written on the line (set or cleared with No...) */
    int32_t session_group;         /* SessionGroup=N, or -1 */
} om_port_t;

/* ---- Directory authorities ---- */

typedef struct {
    char nickname[OM_CONFIG_NICKNAME_MAX + 1]; /* "" when the line has none */
    char ipv4[16];                             /* dotted quad */
    uint16_t dir_port;
    uint16_t or_port; /* 0 when no orport= flag */
    uint8_t rsa_fp[20];
    bool has_v3ident;
    uint8_t v3ident[20]; /* v3 signing-key (authority identity) fingerprint */
    bool is_bridge;      /* "bridge": the bridge authority, not a v3 authority */
    bool no_v2;
    double weight; /* weight=N, default 1.0 */
    bool has_ipv6;
    char ipv6[OM_CONFIG_ADDR_LEN];
    uint16_t ipv6_or_port;
} om_dir_authority_t;

/* ---- Log lines ---- */

typedef enum {
    OM_LOG_DEST_STDERR,
    OM_LOG_DEST_STDOUT,
    OM_LOG_DEST_SYSLOG, /* accepted; onionmesh writes these to stderr */
    OM_LOG_DEST_FILE,
} om_log_dest_t;

typedef struct {
    om_log_level_t min, max; /* "notice" = notice..err; "info-warn" = info..warn */
    bool has_domains;        /* some severity had a [domain,...] selector (not supported; kept) */
    om_log_dest_t dest;
    char path[1024]; /* OM_LOG_DEST_FILE */
} om_log_spec_t;

/* ---- Lifecycle and loading ---- */

/* A configuration holding every option's default. NULL on allocation failure. */
om_config_t *om_config_new(void);
void om_config_free(om_config_t *cfg);

/* Read a configuration file (as `-f path`). 0 on success; -1 with err "path:line: reason". */
int om_config_load_file(om_config_t *cfg, const char *path, char *err, size_t errlen);
/* Parse configuration text; source_name names it in errors (and %include paths are relative to
 * the current directory). */
int om_config_parse_string(om_config_t *cfg, const char *text, const char *source_name, char *err,
                           size_t errlen);
/* Set one option as the command line would (replaces the file's lines of a repeatable option). */
int om_config_set(om_config_t *cfg, const char *name, const char *value, char *err, size_t errlen);

/* Parse the command line: `-f FILE` (or --torrc-file), --ignore-missing-torrc, -h/--help,
 * --version, --verify-config, --list-fingerprint, and `--Option value` / `Option value`
 * (also `--+Option value` to append and `--/Option` to clear). Every option needs a value, as in
 * tor. The file is read first, then the command-line options are applied over it. With --help
 * or --version nothing is read. *cmd receives the command. 0 ok, -1 with err. */
int om_config_parse_argv(om_config_t *cfg, int argc, char **argv, om_config_command_t *cmd,
                         char *err, size_t errlen);
/* The -f file given to om_config_parse_argv, or NULL. */
const char *om_config_file(const om_config_t *cfg);

/* Cross-option checks after loading, as tor's options_validate: applies TestingTorNetwork's
 * changed defaults, resolves DataDirectory, bandwidth burst/rate, port conflicts ...
 * Logs warnings for risky but legal settings (public SocksPort address, ...). 0 ok, -1 with err. */
int om_config_validate(om_config_t *cfg, char *err, size_t errlen);

/* Point log.h at the configured Log line: with several, the most verbose one wins (log.h has one
 * sink); with none, log.h is left alone (OM_LOG still works). -1 if the log file can't be
 * opened (reported on stderr). */
int om_config_apply_logging(const om_config_t *cfg);

/* ---- Getters (by option name, case-insensitive). Asking for an unknown option or the wrong
 * type is a programming error: it is logged and aborts. ---- */

/* True if the file or command line set the option (not just its default). */
bool om_config_is_set(const om_config_t *cfg, const char *name);
/* BOOL: 0/1. AUTOBOOL: 0, 1 or -1 (auto). */
int om_config_get_bool(const om_config_t *cfg, const char *name);
/* INT, BOOL, AUTOBOOL, INTERVAL (seconds), MEMUNIT (bytes). */
int64_t om_config_get_int(const om_config_t *cfg, const char *name);
double om_config_get_double(const om_config_t *cfg, const char *name);
/* STRING, PATH (with ~ expanded). NULL when unset without a default. */
const char *om_config_get_string(const om_config_t *cfg, const char *name);
/* LINELIST lines, CSV items, PORT lines; *n receives the count (array valid until the option
 * changes). */
const char *const *om_config_get_lines(const om_config_t *cfg, const char *name, size_t *n);

/* Parsed listeners of a PORT option ("SocksPort", "ORPort", "DirPort", "ControlPort").
 * "0" lines produce no entry: "SocksPort 0" gives n == 0. */
const om_port_t *om_config_ports(const om_config_t *cfg, const char *name, size_t *n);
const om_port_t *om_config_socks_ports(const om_config_t *cfg, size_t *n);
/* Parsed DirAuthority lines, or the public network's authorities if none was given. */
const om_dir_authority_t *om_config_dir_authorities(const om_config_t *cfg, size_t *n);
/* True if an ORPort is configured (onionmesh runs as a relay). */
bool om_config_is_relay(const om_config_t *cfg);

/* ---- Parsers shared with tests and other modules. Each returns 0 or -1 with err. ---- */

/* A DirAuthority value (`man tor`: "[nickname] [flags] ipv4address:dirport fingerprint"). */
int om_config_parse_dir_authority(const char *value, om_dir_authority_t *out, char *err,
                                  size_t errlen);
/* A Log value ("notice stderr", "info file /path", "notice-err file /x"). */
int om_config_parse_log(const char *value, om_log_spec_t *out, char *err, size_t errlen);
/* "N unit" with tor's time units (seconds..months; no unit = seconds); fractions allowed. */
int om_config_parse_interval(const char *s, int64_t *seconds);
/* "N unit" with tor's memory units (bytes, KB, KBytes, MBits, GB, TB ...; no unit = bytes). */
int om_config_parse_memunit(const char *s, uint64_t *bytes);

/* ---- Introspection and output ---- */

/* Option help: every option with its arguments, default and one-line help; and the command-line
 * flags. */
void om_config_print_help(FILE *out);
/* The effective configuration in torrc syntax: options that were set as lines, defaults as
 * "# Name value" comments. Parsing the output gives back the same configuration. */
void om_config_dump(const om_config_t *cfg, FILE *out);
/* Type of a known option; -1 if there is no such option. */
int om_config_option_type(const char *name);

#endif
