/* config.h — onionmesh's configuration engine: torrc-style "Option value" lines from a file
 * (`-f FILE`), the environment (ONIONMESH_<OPTION>) and the command line (`--Option value`),
 * checked against option tables that the roles register. The engine knows no role: it owns the
 * syntax, the value types and units, ports, precedence, help and dump, and one "general" table
 * of options every role shares (DataDirectory, Log, SafeLogging, RunAsDaemon, DirAuthority,
 * TestingTorNetwork ...). Each role declares its options in its own table (src/op/op_config.c,
 * src/or/relay_options.c) and turns the checked configuration into its own typed struct.
 *
 * Typical use (main):
 *     om_config_t *cfg = om_config_new();              // with the general tables
 *     om_op_config_register(cfg, err, sizeof err);     // each role adds its table
 *     om_relay_config_register(cfg, err, sizeof err);
 *     om_config_command_t cmd;
 *     if (om_config_parse_argv(cfg, argc, argv, &cmd, err, sizeof err) < 0 ||
 *         om_config_validate(cfg, err, sizeof err) < 0) { fprintf(stderr, "%s\n", err); ... }
 *     om_config_apply_logging(cfg);
 *     om_op_options_from_config(cfg, &op_opts, ...);   // typed struct per role
 *     om_config_free(cfg);
 *
 * Precedence (twelve-factor style; each level overrides the ones below, whatever order they are
 * read in):
 *     command line  >  environment  >  configuration file  >  defaults
 * A level that sets a repeatable option (SocksPort, Log, ExitPolicy ...) replaces all lines of
 * the levels below; several lines of one level accumulate ("+Option" appends to the lines below,
 * "/Option" clears them).
 *
 * Environment: ONIONMESH_<OPTION>=value, the option name in any case (ONIONMESH_SOCKSPORT=9150,
 * ONIONMESH_DataDirectory=/var/lib/om). A repeatable option takes several values in one variable
 * separated by newlines or ';' (ONIONMESH_SOCKSPORT='9150;127.0.0.1:9151 IsolateSOCKSAuth');
 * comma lists (ExitNodes ...) use commas as in the file. An unknown ONIONMESH_ variable is an
 * error, as an unknown option in the file is.
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
 * command-line errors as "command line: reason" and environment errors as
 * "environment: ONIONMESH_X: reason". Warnings go to the log (log.h). */
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
/* Prefix of the environment variables read as options. */
#define OM_CONFIG_ENV_PREFIX "ONIONMESH_"
/* Most tables one configuration holds (general, authority, op, relay, and later bridge, ordb,
 * dht ...). */
#define OM_CONFIG_MAX_TABLES 12

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
    OM_PORT_ISOLATE_SOCKS_AUTH = 1u << 1,  /* default on; the OP's IsolateSOCKSAuth sets it */
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
    OM_LOG_DEST_SYSLOG,
    OM_LOG_DEST_FILE,
} om_log_dest_t;

typedef struct {
    om_log_level_t min, max; /* "notice" = notice..err; "info-warn" = info..warn */
    bool has_domains;        /* some severity had a [domain,...] selector (onionmesh has no log
                                domains: such a severity applies to every message) */
    om_log_dest_t dest;
    char path[1024]; /* OM_LOG_DEST_FILE */
} om_log_spec_t;

/* ---- Option tables (what a role registers) ---- */

/* A value being assigned, for check functions: the number parsed from it (INT, BOOL, AUTOBOOL,
 * INTERVAL, MEMUNIT in i; DOUBLE in d) and room for one parsed object (PORT: the om_port_t, with
 * has_obj false for "0"; other options with obj_size set fill it and set has_obj). */
typedef struct {
    int64_t i;
    double d;
    void *obj;
    bool has_obj;
} om_config_value_t;

/* Further parsing or restriction of one value (for CSV: of one item), after the type's own
 * parsing. where names the source for warnings ("my.conf:3"). 0, or -1 with a reason. */
typedef int (*om_config_check_fn)(const char *value, om_config_value_t *v, const char *where,
                                  char *reason, size_t reasonlen);

/* Option flags. */
enum {
    OM_OPT_AUTHORITY_ONLY = 1u << 0, /* accepted and ignored (directory authorities' options) */
    OM_OPT_REFUSED = 1u << 1,        /* known but not supported: any value is an error (the help
                                        text says why) */
    OM_OPT_LAST_WINS = 1u << 2,      /* CSV: a new line replaces the previous one */
    OM_OPT_PORT_SOCKS = 1u << 3,     /* PORT kinds: SOCKS flags, default address 127.0.0.1 */
    OM_OPT_PORT_SERVER = 1u << 4,    /* server flags (NoAdvertise ...), default 0.0.0.0 */
    OM_OPT_PORT_IPV4_ONLY = 1u << 5, /* with PORT_SERVER: IPv4 addresses only (DirPort) */
    OM_OPT_PORT_CONTROL = 1u << 6,   /* control-port flags, default 127.0.0.1 */
};

typedef struct {
    const char *name; /* tor's spelling; matched case-insensitively */
    om_conf_type_t type;
    const char *def;              /* default value text; NULL for none */
    const char *const *def_lines; /* repeatable options: default lines (NULL-terminated) */
    const char *testing_def;      /* default under TestingTorNetwork 1; NULL if unchanged */
    int64_t min, max;             /* INT, INTERVAL (s), MEMUNIT (bytes), DOUBLE */
    unsigned flags;               /* OM_OPT_* */
    const char *choices;          /* STRING/CSV items: "a|b|c", case-insensitive */
    om_config_check_fn check;     /* NULL: the type's parsing only */
    size_t obj_size;              /* room check needs in om_config_value_t.obj */
    const char *args;             /* help: argument synopsis; NULL = from the type */
    const char *help;             /* help: what the option does (one or two sentences) */
} om_config_option_t;

/* Cross-option checks and adjustments of a table, run by om_config_validate. 0, or -1 with err. */
typedef int (*om_config_validate_fn)(om_config_t *cfg, char *err, size_t errlen);

typedef struct {
    const char *name;  /* unique: "general", "op", "relay", later "bridge", "ordb", "dht" */
    const char *title; /* help heading: "Client (onion proxy) options" */
    const om_config_option_t *options;
    size_t n_options;
    om_config_validate_fn validate; /* NULL: none */
} om_config_table_t;

/* ---- Lifecycle and loading ---- */

/* A configuration holding the general tables (om_config_general_tables) at their defaults.
 * NULL on allocation failure. */
om_config_t *om_config_new(void);
void om_config_free(om_config_t *cfg);

/* Add a role's table; its options get their defaults. -1 with err if the table (by name) or one
 * of its option names is registered already, or there is no room. Register before loading. The
 * table must outlive cfg (static tables). */
int om_config_register(om_config_t *cfg, const om_config_table_t *table, char *err, size_t errlen);
/* True if a table of that name is registered. */
bool om_config_has_table(const om_config_t *cfg, const char *name);
/* True if cfg knows the option (some registered table has it). */
bool om_config_has_option(const om_config_t *cfg, const char *name);

/* Read a configuration file (as `-f path`). 0 on success; -1 with err "path:line: reason". */
int om_config_load_file(om_config_t *cfg, const char *path, char *err, size_t errlen);
/* Parse configuration text at the file level; source_name names it in errors (and %include
 * paths are relative to the current directory). */
int om_config_parse_string(om_config_t *cfg, const char *text, const char *source_name, char *err,
                           size_t errlen);
/* Read the ONIONMESH_<OPTION> variables of envp (NULL-terminated "NAME=value" strings; NULL
 * means this process's environment) at the environment level. */
int om_config_load_env(om_config_t *cfg, char *const *envp, char *err, size_t errlen);
/* Set one option at the command-line level (replaces the lower levels' lines of a repeatable
 * option). */
int om_config_set(om_config_t *cfg, const char *name, const char *value, char *err, size_t errlen);

/* Parse the command line: `-f FILE` (or --torrc-file), --ignore-missing-torrc, -h/--help,
 * --version, --verify-config, --list-fingerprint, and `--Option value` / `Option value`
 * (also `--+Option value` to append and `--/Option` to clear). Every option needs a value, as in
 * tor. Reads the file, then the environment (envp; NULL = this process's), then applies the
 * command-line options. With --help or --version nothing is read. *cmd receives the command.
 * 0 ok, -1 with err. */
int om_config_parse_args(om_config_t *cfg, int argc, char **argv, char *const *envp,
                         om_config_command_t *cmd, char *err, size_t errlen);
/* om_config_parse_args with this process's environment. */
int om_config_parse_argv(om_config_t *cfg, int argc, char **argv, om_config_command_t *cmd,
                         char *err, size_t errlen);
/* The -f file given to om_config_parse_argv, or NULL. */
const char *om_config_file(const om_config_t *cfg);

/* Cross-option checks after loading, as tor's options_validate: applies TestingTorNetwork's
 * changed defaults, runs the general checks (DataDirectory, DirAuthority, "Port 0" together
 * with other ports, RunAsDaemon with relative paths ...) and then each table's validate in
 * registration order. Logs warnings for risky but legal settings. 0 ok, -1 with err. */
int om_config_validate(om_config_t *cfg, char *err, size_t errlen);

/* Point log.h at the configured Log lines (every line is a sink with its severity range; stdout
 * and stderr lines are skipped under RunAsDaemon, as tor does, and with RunAsDaemon and no
 * other line nothing is logged), and set SafeLogging and ProtocolWarnings. With no Log line and
 * no RunAsDaemon, log.h keeps its default (stderr, $OM_LOG or notice). -1 if a log file can't be
 * opened (reported on stderr; the other sinks are kept). */
int om_config_apply_logging(const om_config_t *cfg);

/* ---- Getters (by option name, case-insensitive). Asking for an option no registered table
 * has, or with the wrong type, is a programming error: it is logged and aborts. A role reads
 * its own table and the general one, once, into its typed options struct. ---- */

/* True if the file, environment or command line set the option (not just its default). */
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
/* Parsed listeners of a PORT option. "0" lines produce no entry: "SocksPort 0" gives n == 0. */
const om_port_t *om_config_ports(const om_config_t *cfg, const char *name, size_t *n);
/* The same, writable: for a table's validate (e.g. applying a default flag). */
om_port_t *om_config_ports_mutable(om_config_t *cfg, const char *name, size_t *n);
/* Parsed DirAuthority lines, or the public network's authorities if none was given. */
const om_dir_authority_t *om_config_dir_authorities(const om_config_t *cfg, size_t *n);

/* For a table's validate: replace a scalar's value as tor does when it adjusts a setting (keeps
 * where it came from; dump shows the new value). -1 with err if value does not parse. */
int om_config_adjust(om_config_t *cfg, const char *name, const char *value, char *err,
                     size_t errlen);

/* ---- The general options, typed (for main and the roles) ---- */

typedef struct {
    const char *data_dir;           /* DataDirectory, expanded; valid while cfg lives */
    bool run_as_daemon;             /* RunAsDaemon */
    om_safe_logging_t safe_logging; /* SafeLogging */
    bool protocol_warnings;         /* ProtocolWarnings */
    int64_t conn_limit;             /* ConnLimit */
    bool testing;                   /* TestingTorNetwork */
} om_general_options_t;

void om_config_general_options(const om_config_t *cfg, om_general_options_t *g);

/* ---- Parsers and checks shared with the roles' tables and tests. Each returns 0 or -1. ---- */

/* A DirAuthority value (`man tor`: "[nickname] [flags] ipv4address:dirport fingerprint"). */
int om_config_parse_dir_authority(const char *value, om_dir_authority_t *out, char *err,
                                  size_t errlen);
/* A Log value ("notice stderr", "info file /path", "notice-err file /x"). */
int om_config_parse_log(const char *value, om_log_spec_t *out, char *err, size_t errlen);
/* "N unit" with tor's time units (seconds..months; no unit = seconds); fractions allowed. */
int om_config_parse_interval(const char *s, int64_t *seconds);
/* "N unit" with tor's memory units (bytes, KB, KBytes, MBits, GB, TB ...; no unit = bytes). */
int om_config_parse_memunit(const char *s, uint64_t *bytes);
/* An address pattern of exit policies and node lists (`man tor` ExitPolicy):
 * ADDR[/MASK][:PORT] with ADDR = * | *4 | *6 | private (if allow_private) | IPv4 | [IPv6].
 * *family gets 4, 6 or 0 (both). */
int om_config_parse_addr_pattern(const char *s, bool allow_private, int *family, char *reason,
                                 size_t reasonlen);
/* Check functions for tables: a relay nickname; an IP address or host name; "$fingerprint" or
 * nickname (MyFamily items); any tor routerset item ($fingerprint, nickname, {cc}, address
 * pattern). */
int om_config_check_nickname(const char *value, om_config_value_t *v, const char *where,
                             char *reason, size_t reasonlen);
int om_config_check_address(const char *value, om_config_value_t *v, const char *where,
                            char *reason, size_t reasonlen);
int om_config_check_family_item(const char *value, om_config_value_t *v, const char *where,
                                char *reason, size_t reasonlen);
int om_config_check_routerset_item(const char *value, om_config_value_t *v, const char *where,
                                   char *reason, size_t reasonlen);
/* True for "$HEX40" / "HEX40", optionally followed by "=nickname" or "~nickname". */
bool om_config_is_fingerprint_item(const char *s);
/* True for a legal relay nickname s[0..n). */
bool om_config_legal_nickname(const char *s, size_t n);

/* ---- Introspection and output ---- */

/* Help: the usage, command-line flags and precedence, then every registered table's options
 * with their arguments, default and help text. */
void om_config_print_help(const om_config_t *cfg, FILE *out);
/* The effective configuration in torrc syntax: options that were set as lines, defaults as
 * "# Name value" comments. Parsing the output gives back the same configuration. */
void om_config_dump(const om_config_t *cfg, FILE *out);
/* Type of a registered option; -1 if cfg has no such option. */
int om_config_option_type(const om_config_t *cfg, const char *name);

/* The general tables om_config_new registers: "general" (options every role shares) and
 * "authority" (directory-authority options, accepted and ignored). */
extern const om_config_table_t om_config_general_table;
extern const om_config_table_t om_config_authority_table;

#endif
