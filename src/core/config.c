/* config.c — torrc-style configuration (see config.h): the option table, typed value parsers
 * (ports, intervals, memory units, DirAuthority, Log, ExitPolicy, node lists), the file and
 * command-line readers, validation, logging setup, help and dump. Syntax and semantics follow
 * `man tor` (tor 0.4.9), "THE CONFIGURATION FILE FORMAT" and the per-option entries. */
#include "core/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------------------------------ */
/* Small helpers */

#define REASON_LEN 512

__attribute__((format(printf, 3, 4))) static void seterr(char *err, size_t errlen, const char *fmt,
                                                         ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static char *xstrdup(const char *s)
{
    char *r = strdup(s);
    if (!r) {
        fprintf(stderr, "onionmesh: out of memory\n");
        abort();
    }
    return r;
}

static char *xstrndup(const char *s, size_t n)
{
    char *r = strndup(s, n);
    if (!r) {
        fprintf(stderr, "onionmesh: out of memory\n");
        abort();
    }
    return r;
}

static void *xrealloc(void *p, size_t n)
{
    void *r = realloc(p, n ? n : 1);
    if (!r) {
        fprintf(stderr, "onionmesh: out of memory\n");
        abort();
    }
    return r;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Copy of s[0..n) without leading and trailing whitespace. */
static char *trimmed_dup(const char *s, size_t n)
{
    while (n && is_space(*s))
        s++, n--;
    while (n && is_space(s[n - 1]))
        n--;
    return xstrndup(s, n);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Exactly 2*n hex digits in s[0..2n) -> out. */
static int hex_decode(const char *s, size_t slen, uint8_t *out, size_t n)
{
    if (slen != 2 * n) return -1;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static bool all_digits(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return false;
    return true;
}

/* Decimal 0..max, digits only. */
static bool parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
    if (!all_digits(s) || strlen(s) > 10) return false;
    unsigned long v = strtoul(s, NULL, 10);
    if (v > max) return false;
    *out = v;
    return true;
}

/* tor relay nickname: 1..19 of [A-Za-z0-9]. */
static bool legal_nickname(const char *s, size_t n)
{
    if (n == 0 || n > OM_CONFIG_NICKNAME_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i])) return false;
    return true;
}

/* Split on whitespace into a NULL-terminated array of fresh strings. */
static char **split_ws(const char *s, size_t *n_out)
{
    char **v = NULL;
    size_t n = 0;
    while (*s) {
        while (*s && is_space(*s))
            s++;
        if (!*s) break;
        const char *b = s;
        while (*s && !is_space(*s))
            s++;
        v = xrealloc(v, (n + 2) * sizeof *v);
        v[n++] = xstrndup(b, (size_t)(s - b));
    }
    if (!v) v = xrealloc(NULL, sizeof *v);
    v[n] = NULL;
    *n_out = n;
    return v;
}

static void free_strv(char **v)
{
    if (!v) return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

/* "~" and "~/x" -> $HOME, $HOME/x. Others copied. NULL if ~ can't be expanded. */
static char *expand_home(const char *path)
{
    if (path[0] != '~' || (path[1] && path[1] != '/')) return xstrdup(path);
    const char *home = getenv("HOME");
    if (!home || !*home) return NULL;
    size_t n = strlen(home) + strlen(path) + 1;
    char *r = xrealloc(NULL, n);
    snprintf(r, n, "%s%s", home, path + 1);
    return r;
}

/* ------------------------------------------------------------------------------------------ */
/* Units (tor's unit tables: `man tor` BandwidthRate and the interval options) */

typedef struct {
    const char *unit;
    uint64_t mult;
} unit_t;

static const unit_t memory_units[] = {
    {"", 1},
    {"b", 1},
    {"byte", 1},
    {"bytes", 1},
    {"kb", 1ull << 10},
    {"kbyte", 1ull << 10},
    {"kbytes", 1ull << 10},
    {"kilobyte", 1ull << 10},
    {"kilobytes", 1ull << 10},
    {"kbit", 1ull << 7},
    {"kbits", 1ull << 7},
    {"kilobit", 1ull << 7},
    {"kilobits", 1ull << 7},
    {"m", 1ull << 20},
    {"mb", 1ull << 20},
    {"mbyte", 1ull << 20},
    {"mbytes", 1ull << 20},
    {"megabyte", 1ull << 20},
    {"megabytes", 1ull << 20},
    {"mbit", 1ull << 17},
    {"mbits", 1ull << 17},
    {"megabit", 1ull << 17},
    {"megabits", 1ull << 17},
    {"gb", 1ull << 30},
    {"gbyte", 1ull << 30},
    {"gbytes", 1ull << 30},
    {"gigabyte", 1ull << 30},
    {"gigabytes", 1ull << 30},
    {"gbit", 1ull << 27},
    {"gbits", 1ull << 27},
    {"gigabit", 1ull << 27},
    {"gigabits", 1ull << 27},
    {"tb", 1ull << 40},
    {"tbyte", 1ull << 40},
    {"tbytes", 1ull << 40},
    {"terabyte", 1ull << 40},
    {"terabytes", 1ull << 40},
    {"tbit", 1ull << 37},
    {"tbits", 1ull << 37},
    {"terabit", 1ull << 37},
    {"terabits", 1ull << 37},
    {NULL, 0},
};

static const unit_t time_units[] = {
    {"", 1},
    {"second", 1},
    {"seconds", 1},
    {"minute", 60},
    {"minutes", 60},
    {"hour", 3600},
    {"hours", 3600},
    {"day", 86400},
    {"days", 86400},
    {"week", 7 * 86400},
    {"weeks", 7 * 86400},
    {"month", 2629728}, /* 30.437 days, as tor */
    {"months", 2629728},
    {NULL, 0},
};

/* "<number>[ ]<unit>": a non-negative decimal, possibly with a fraction; result <= INT64_MAX. */
static int parse_units(const char *s, const unit_t *units, uint64_t *out)
{
    const char *p = s;
    if (!isdigit((unsigned char)*p)) return -1;
    uint64_t iv = 0;
    bool overflow = false;
    while (isdigit((unsigned char)*p)) {
        unsigned d = (unsigned)(*p - '0');
        if (iv > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            iv = iv * 10 + d;
        p++;
    }
    bool use_float = false;
    double dv = 0;
    if (*p == '.') {
        char *end;
        errno = 0;
        dv = strtod(s, &end);
        if (errno || end == s || !isfinite(dv)) return -1;
        p = end;
        use_float = true;
    } else if (overflow) {
        return -1;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    for (const unit_t *u = units; u->unit; u++) {
        if (strcasecmp(u->unit, p) != 0) continue;
        if (use_float) {
            double r = dv * (double)u->mult;
            if (!(r >= 0) || r >= 9223372036854775807.0) return -1;
            *out = (uint64_t)r;
        } else {
            if (iv && u->mult > (uint64_t)INT64_MAX / iv) return -1;
            *out = iv * u->mult;
        }
        return 0;
    }
    return -1;
}

int om_config_parse_interval(const char *s, int64_t *seconds)
{
    uint64_t v;
    if (parse_units(s, time_units, &v) < 0 || v > INT_MAX) return -1;
    *seconds = (int64_t)v;
    return 0;
}

int om_config_parse_memunit(const char *s, uint64_t *bytes)
{
    return parse_units(s, memory_units, bytes);
}

/* ------------------------------------------------------------------------------------------ */
/* Addresses */

/* Numeric IPv4 (4) or IPv6 (6) literal; canonical text into out (may be NULL). 0 if neither. */
static int parse_ip(const char *s, char *out, size_t outlen)
{
    unsigned char buf[16];
    if (inet_pton(AF_INET, s, buf) == 1) {
        if (out) inet_ntop(AF_INET, buf, out, (socklen_t)outlen);
        return 4;
    }
    if (inet_pton(AF_INET6, s, buf) == 1) {
        if (out) inet_ntop(AF_INET6, buf, out, (socklen_t)outlen);
        return 6;
    }
    return 0;
}

static bool is_loopback(const om_port_t *p)
{
    if (p->family == 4) return strncmp(p->addr, "127.", 4) == 0;
    return strcmp(p->addr, "::1") == 0;
}

/* "*" | N | N-M, ports 0..65535. */
static int parse_port_range(const char *s, char *reason)
{
    if (!strcmp(s, "*")) return 0;
    const char *dash = strchr(s, '-');
    unsigned long lo, hi;
    if (dash) {
        char *a = xstrndup(s, (size_t)(dash - s));
        bool ok = parse_ulong(a, 65535, &lo) && parse_ulong(dash + 1, 65535, &hi);
        free(a);
        if (!ok) {
            seterr(reason, REASON_LEN, "\"%s\" is not a port range", s);
            return -1;
        }
        if (lo > hi) {
            seterr(reason, REASON_LEN, "port range \"%s\" is backwards", s);
            return -1;
        }
        return 0;
    }
    if (!parse_ulong(s, 65535, &lo)) {
        seterr(reason, REASON_LEN, "\"%s\" is not a port", s);
        return -1;
    }
    return 0;
}

/* Address pattern of exit policies and node lists (`man tor` ExitPolicy):
 * ADDR[/MASK][:PORT] with ADDR = * | *4 | *6 | private | IPv4 | [IPv6]. *family gets 4, 6 or 0
 * (both). */
static int parse_addr_pattern(const char *s, bool allow_private, int *family, char *reason)
{
    char *addr = NULL;
    const char *rest; /* after the address: "", "/mask...", ":ports" */
    *family = 0;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close) {
            seterr(reason, REASON_LEN, "\"%s\": missing ']'", s);
            return -1;
        }
        addr = xstrndup(s + 1, (size_t)(close - s - 1));
        rest = close + 1;
        if (parse_ip(addr, NULL, 0) != 6) {
            seterr(reason, REASON_LEN, "\"%s\" is not an IPv6 address", addr);
            free(addr);
            return -1;
        }
        *family = 6;
    } else {
        size_t n = strcspn(s, "/:");
        addr = xstrndup(s, n);
        rest = s + n;
        if (!strcmp(addr, "*")) {
            *family = 0;
        } else if (!strcmp(addr, "*4")) {
            *family = 4;
        } else if (!strcmp(addr, "*6")) {
            *family = 6;
        } else if (allow_private && !strcasecmp(addr, "private")) {
            *family = 0;
        } else if (parse_ip(addr, NULL, 0) == 4) {
            *family = 4;
        } else {
            seterr(reason, REASON_LEN, "\"%s\" is not an address pattern", s);
            free(addr);
            return -1;
        }
    }
    bool wildcard = addr[0] == '*' || !strcasecmp(addr, "private");
    free(addr);
    if (*rest == '/') {
        size_t n = strcspn(rest + 1, ":");
        char *mask = xstrndup(rest + 1, n);
        unsigned long bits;
        bool ok = !wildcard && (parse_ulong(mask, *family == 6 ? 128 : 32, &bits) ||
                                (*family == 4 && parse_ip(mask, NULL, 0) == 4));
        if (!ok) seterr(reason, REASON_LEN, "bad mask \"/%s\" in \"%s\"", mask, s);
        free(mask);
        if (!ok) return -1;
        rest += 1 + n;
    }
    if (*rest == ':') return parse_port_range(rest + 1, reason);
    if (*rest) {
        seterr(reason, REASON_LEN, "\"%s\" is not an address pattern", s);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Option table */

typedef struct om_config_opt opt_def_t;

typedef struct {
    int64_t i;
    double d;
    void *obj; /* room for one parsed object (port, authority) */
    bool has_obj;
} parsed_t;

/* Extra parsing or restriction of one value (for CSV: of one item). Writes a reason. */
typedef int (*check_fn)(const char *value, parsed_t *p, const char *where, char *reason);

enum {
    OPT_AUTHORITY_ONLY = 1u << 0, /* accepted and ignored: onionmesh is not an authority */
    OPT_UNUSED = 1u << 1,         /* accepted, not used yet */
    OPT_LAST_WINS = 1u << 2,      /* CSV: a new line replaces the previous one */
    OPT_PORT_SOCKS = 1u << 3,
    OPT_PORT_OR = 1u << 4,
    OPT_PORT_DIR = 1u << 5,
    OPT_PORT_CONTROL = 1u << 6,
    OPT_DEFAULT_AUTHS = 1u << 7, /* default lines: default_authorities.inc */
};

struct om_config_opt {
    const char *name;
    om_conf_type_t type;
    const char *def;         /* default value text, NULL for none */
    const char *testing_def; /* default under TestingTorNetwork 1, NULL if unchanged */
    int64_t min, max;        /* INT, INTERVAL (s), MEMUNIT (bytes), DOUBLE */
    unsigned flags;
    const char *choices; /* STRING/CSV items: "a|b|c", case-insensitive */
    check_fn check;
    size_t obj_size;
    const char *args; /* help: argument synopsis; NULL = from the type */
    const char *help;
};

static const char *const default_authorities[] = {
#include "default_authorities.inc"
    NULL,
};

static int check_dirauth(const char *value, parsed_t *p, const char *where, char *reason);
static int check_log(const char *value, parsed_t *p, const char *where, char *reason);
static int check_exitpolicy(const char *value, parsed_t *p, const char *where, char *reason);
static int check_address(const char *value, parsed_t *p, const char *where, char *reason);
static int check_nickname(const char *value, parsed_t *p, const char *where, char *reason);
static int check_routerset_item(const char *value, parsed_t *p, const char *where, char *reason);
static int check_family_item(const char *value, parsed_t *p, const char *where, char *reason);
static int check_controlport(const char *value, parsed_t *p, const char *where, char *reason);
static int check_microdescs(const char *value, parsed_t *p, const char *where, char *reason);
static int check_extrainfo(const char *value, parsed_t *p, const char *where, char *reason);

#define I64MAX INT64_MAX
#define IMAX   INT_MAX
#define NODES  "node,node,..."

/* clang-format off */
static const opt_def_t opts[] = {
    /* General */
    {"DataDirectory", OM_CONF_PATH, "~/.onionmesh", NULL, 0, 0, 0, NULL, NULL, 0, "DIR",
     "Where onionmesh keeps keys, state and cached directory documents."},
    {"Log", OM_CONF_LINELIST, NULL, NULL, 0, 0, 0, NULL, check_log, 0,
     "minSeverity[-maxSeverity] stderr|stdout|syslog|file FILENAME",
     "Where log messages go and from which severity (debug, info, notice, warn, err)."},
    {"RunAsDaemon", OM_CONF_BOOL, "0", NULL, 0, 1, 0, NULL, NULL, 0, NULL,
     "If 1, fork and run in the background."},
    {"SafeLogging", OM_CONF_STRING, "1", NULL, 0, 0, 0, "0|1|relay", NULL, 0, "0|1|relay",
     "Scrub addresses and other sensitive strings from log messages."},
    {"ProtocolWarnings", OM_CONF_BOOL, "0", NULL, 0, 1, 0, NULL, NULL, 0, NULL,
     "If 1, log protocol violations by other parties at warn severity instead of info."},
    {"ConnLimit", OM_CONF_INT, "1000", NULL, 1, IMAX, 0, NULL, NULL, 0, "NUM",
     "Refuse to start with fewer file descriptors than this available."},
    {"MaxMemInQueues", OM_CONF_MEMUNIT, "0", NULL, 0, I64MAX, 0, NULL, NULL, 0, NULL,
     "Memory threshold for queued cells before circuits are killed (0 = pick from RAM)."},
    {"DirAuthority", OM_CONF_LINELIST, NULL, NULL, 0, 0, OPT_DEFAULT_AUTHS, NULL, check_dirauth,
     sizeof(om_dir_authority_t), "[nickname] [flags] ipv4address:dirport fingerprint",
     "A directory authority to trust (repeatable); replaces the public network's list."},
    {"TestingTorNetwork", OM_CONF_BOOL, "0", NULL, 0, 1, 0, NULL, NULL, 0, NULL,
     "Testing network defaults (needs your own DirAuthority lines)."},
    {"ControlPort", OM_CONF_PORT, NULL, NULL, 0, 0, OPT_PORT_CONTROL, NULL, check_controlport,
     sizeof(om_port_t), "0", "Controller port; onionmesh has none yet, so only 0 is accepted."},
    {"GeoIPFile", OM_CONF_PATH, "/usr/share/tor/geoip", NULL, 0, 0, OPT_UNUSED, NULL, NULL, 0,
     "FILENAME", "IPv4 GeoIP database (accepted for torrc compatibility, unused)."},
    {"GeoIPv6File", OM_CONF_PATH, "/usr/share/tor/geoip6", NULL, 0, 0, OPT_UNUSED, NULL, NULL, 0,
     "FILENAME", "IPv6 GeoIP database (accepted for torrc compatibility, unused)."},

    /* Client (OP) */
    {"SocksPort", OM_CONF_PORT, "9050", NULL, 0, 0, OPT_PORT_SOCKS, NULL, NULL, sizeof(om_port_t),
     "[address:]port|auto|0 [flags] [isolation flags]",
     "Listen for SOCKS connections here (repeatable; address defaults to 127.0.0.1)."},
    {"IsolateSOCKSAuth", OM_CONF_BOOL, "1", NULL, 0, 1, 0, NULL, NULL, 0, NULL,
     "Default of the SocksPort IsolateSOCKSAuth flag: separate circuits per SOCKS username."},
    {"EntryNodes", OM_CONF_CSV, NULL, NULL, 0, 0, 0, NULL, check_routerset_item, 0, NODES,
     "Nodes to use as first hop ($fingerprint, nickname, {cc}, address pattern)."},
    {"MiddleNodes", OM_CONF_CSV, NULL, NULL, 0, 0, 0, NULL, check_routerset_item, 0, NODES,
     "Nodes to use as middle hops."},
    {"ExitNodes", OM_CONF_CSV, NULL, NULL, 0, 0, 0, NULL, check_routerset_item, 0, NODES,
     "Nodes to use as exit."},
    {"ExcludeNodes", OM_CONF_CSV, NULL, NULL, 0, 0, 0, NULL, check_routerset_item, 0, NODES,
     "Nodes never to use in circuits."},
    {"StrictNodes", OM_CONF_BOOL, "0", NULL, 0, 1, 0, NULL, NULL, 0, NULL,
     "If 1, ExcludeNodes is a requirement, not a preference."},
    {"NumEntryGuards", OM_CONF_INT, "0", NULL, 0, IMAX, 0, NULL, NULL, 0, "NUM",
     "Number of entry guards to use (0 = from the consensus, default 1)."},
    {"CircuitBuildTimeout", OM_CONF_INTERVAL, "60 seconds", NULL, 1, IMAX, 0, NULL, NULL, 0, NULL,
     "Give up on a circuit not built within this time (initial value if learning)."},
    {"LearnCircuitBuildTimeout", OM_CONF_BOOL, "1", NULL, 0, 1, 0, NULL, NULL, 0, NULL,
     "If 1, learn the circuit build timeout from observed build times."},
    {"MaxCircuitDirtiness", OM_CONF_INTERVAL, "10 minutes", NULL, 1, IMAX, 0, NULL, NULL, 0, NULL,
     "Attach new streams only to circuits first used less than this long ago."},
    {"NewCircuitPeriod", OM_CONF_INTERVAL, "30 seconds", NULL, 1, IMAX, 0, NULL, NULL, 0, NULL,
     "Every this often, consider building a new circuit."},
    {"PathsNeededToBuildCircuits", OM_CONF_DOUBLE, "-1", NULL, -1, 1, 0, NULL, NULL, 0, "NUM",
     "Fraction of paths (0.25..0.95) needed before building circuits; -1 = consensus/0.6."},
    {"ClientUseIPv4", OM_CONF_BOOL, "1", NULL, 0, 1, 0, NULL, NULL, 0, NULL,
     "If 1, connect to guards and directories over IPv4."},
    {"ClientUseIPv6", OM_CONF_BOOL, "1", NULL, 0, 1, 0, NULL, NULL, 0, NULL,
     "If 1, connect to guards and directories over IPv6 when they have it."},
    {"CongestionControl", OM_CONF_AUTOBOOL, "auto", NULL, 0, 1, 0, NULL, NULL, 0, "0|1|auto",
     "Ask exits for congestion control (proposal 324): auto = as the consensus's cc_alg says "
     "(tor's behaviour), 0 = never (fixed windows), 1 = always. An onionmesh option."},
    {"UseMicrodescriptors", OM_CONF_AUTOBOOL, "auto", NULL, 0, 1, 0, NULL, check_microdescs, 0,
     "1|auto", "Use microdescriptors (onionmesh always does: 1 or auto)."},
    {"DownloadExtraInfo", OM_CONF_BOOL, "0", NULL, 0, 1, 0, NULL, check_extrainfo, 0, "0",
     "Download extra-info documents (not supported: 0 only)."},

    /* Relay (OR) */
    {"ORPort", OM_CONF_PORT, NULL, NULL, 0, 0, OPT_PORT_OR, NULL, NULL, sizeof(om_port_t),
     "[address:]port|auto [flags]", "Run as a relay, accepting OR connections here."},
    {"Address", OM_CONF_LINELIST, NULL, NULL, 0, 0, 0, NULL, check_address, 0, "address",
     "This relay's public IPv4/IPv6 address or host name (at most one of each)."},
    {"Nickname", OM_CONF_STRING, "Unnamed", NULL, 0, 0, 0, NULL, check_nickname, 0, "name",
     "The relay's nickname: 1-19 characters [A-Za-z0-9]."},
    {"ContactInfo", OM_CONF_STRING, NULL, NULL, 0, 0, 0, NULL, NULL, 0, "email_address",
     "Contact information published in the relay's descriptor."},
    {"MyFamily", OM_CONF_CSV, NULL, NULL, 0, 0, 0, NULL, check_family_item, 0,
     "fingerprint,fingerprint,...", "Relays run by the same operator (lines are merged)."},
    {"ExitRelay", OM_CONF_AUTOBOOL, "auto", NULL, 0, 1, 0, NULL, NULL, 0, NULL,
     "Whether to allow exit traffic (auto: exit only if an ExitPolicy is set)."},
    {"ExitPolicy", OM_CONF_LINELIST, NULL, NULL, 0, 0, 0, NULL, check_exitpolicy, 0,
     "policy,policy,...", "Exit policy: accept[6]|reject[6] ADDR[/MASK][:PORT] items."},
    {"ExitPolicyRejectPrivate", OM_CONF_BOOL, "1", "0", 0, 1, 0, NULL, NULL, 0, NULL,
     "Reject private networks and our own addresses at the start of the exit policy."},
    {"IPv6Exit", OM_CONF_BOOL, "0", NULL, 0, 1, 0, NULL, NULL, 0, NULL,
     "Allow exit connections to IPv6 addresses (the exit policy still applies)."},
    {"ReducedExitPolicy", OM_CONF_BOOL, "0", NULL, 0, 1, 0, NULL, NULL, 0, NULL,
     "Use tor's reduced exit policy instead of its default exit policy."},
    {"ServerDNSResolvConfFile", OM_CONF_PATH, NULL, NULL, 0, 0, 0, NULL, NULL, 0, "filename",
     "resolv.conf-style file naming the nameservers an exit uses (default: the system's)."},
    {"PublishServerDescriptor", OM_CONF_CSV, "1", NULL, 0, 0, OPT_LAST_WINS, "0|1|v3|bridge",
     NULL, 0, "0|1|v3|bridge,...", "Which directory authorities to publish our descriptor to."},
    {"AssumeReachable", OM_CONF_BOOL, "0", "1", 0, 1, 0, NULL, NULL, 0, NULL,
     "Skip self-reachability tests and publish immediately."},
    {"BandwidthRate", OM_CONF_MEMUNIT, "1 GB", NULL, 0, I64MAX, 0, NULL, NULL, 0, NULL,
     "Average bandwidth limit per direction, bytes per second."},
    {"BandwidthBurst", OM_CONF_MEMUNIT, "1 GB", NULL, 0, I64MAX, 0, NULL, NULL, 0, NULL,
     "Token bucket size for BandwidthRate."},
    {"RelayBandwidthRate", OM_CONF_MEMUNIT, "0", NULL, 0, I64MAX, 0, NULL, NULL, 0, NULL,
     "Bandwidth limit for relayed traffic only (0 = none)."},
    {"RelayBandwidthBurst", OM_CONF_MEMUNIT, "0", NULL, 0, I64MAX, 0, NULL, NULL, 0, NULL,
     "Token bucket size for RelayBandwidthRate."},
    {"DirPort", OM_CONF_PORT, NULL, NULL, 0, 0, OPT_PORT_DIR, NULL, NULL, sizeof(om_port_t),
     "[address:]port|auto [flags]", "Serve directory documents over HTTP here (IPv4 only)."},
    {"DirCache", OM_CONF_BOOL, "1", NULL, 0, 1, 0, NULL, NULL, 0, NULL,
     "If 1 (and a relay), cache directory documents and serve them to clients."},

    /* Directory authority options: accepted and ignored so test-network torrcs load. */
    {"TestingDirAuthVoteExit", OM_CONF_CSV, NULL, NULL, 0, 0, OPT_AUTHORITY_ONLY, NULL,
     check_routerset_item, 0, NODES, "Authorities only (ignored)."},
    {"TestingDirAuthVoteGuard", OM_CONF_CSV, NULL, NULL, 0, 0, OPT_AUTHORITY_ONLY, NULL,
     check_routerset_item, 0, NODES, "Authorities only (ignored)."},
    {"TestingDirAuthVoteHSDir", OM_CONF_CSV, NULL, NULL, 0, 0, OPT_AUTHORITY_ONLY, NULL,
     check_routerset_item, 0, NODES, "Authorities only (ignored)."},
    {"TestingMinExitFlagThreshold", OM_CONF_MEMUNIT, "0", NULL, 0, I64MAX, OPT_AUTHORITY_ONLY,
     NULL, NULL, 0, NULL, "Authorities only (ignored)."},
    {"V3AuthNIntervalsValid", OM_CONF_INT, "3", NULL, 2, IMAX, OPT_AUTHORITY_ONLY, NULL, NULL, 0,
     "NUM", "Authorities only (ignored)."},
};
/* clang-format on */

#define N_OPTS (sizeof opts / sizeof opts[0])

enum { ORIGIN_DEFAULT = 0, ORIGIN_FILE = 1, ORIGIN_CMDLINE = 2 };
enum { MODE_SET, MODE_APPEND, MODE_CLEAR };

typedef struct {
    int origin;
    int64_t i;
    double d;
    char *s; /* scalar: the value (PATH: expanded); NULL if none */
    char **lines;
    size_t n_lines;
    uint8_t *objs;
    size_t n_objs;
} val_t;

struct om_config {
    val_t vals[N_OPTS];
    char *config_file;
};

static bool is_list_type(om_conf_type_t t)
{
    return t == OM_CONF_PORT || t == OM_CONF_LINELIST || t == OM_CONF_CSV;
}

static int find_option(const char *name)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (!strcasecmp(opts[i].name, name)) return (int)i;
    return -1;
}

int om_config_option_type(const char *name)
{
    int i = find_option(name);
    return i < 0 ? -1 : (int)opts[i].type;
}

/* Case-insensitive Levenshtein distance (names up to 63 characters). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return SIZE_MAX;
    size_t prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            size_t best = prev[j - 1] + cost;
            if (prev[j] + 1 < best) best = prev[j] + 1;
            if (cur[j - 1] + 1 < best) best = cur[j - 1] + 1;
            cur[j] = best;
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}

/* " (did you mean \"X\"?)" or "". */
static void suggestion(const char *name, char *out, size_t outlen)
{
    out[0] = '\0';
    size_t best = SIZE_MAX;
    const char *best_name = NULL;
    for (size_t i = 0; i < N_OPTS; i++) {
        size_t d = edit_distance(name, opts[i].name);
        if (d < best) {
            best = d;
            best_name = opts[i].name;
        }
    }
    size_t len = strlen(name);
    size_t limit = len / 3 > 2 ? len / 3 : 2;
    if (best_name && best <= limit) snprintf(out, outlen, " (did you mean \"%s\"?)", best_name);
}

/* ------------------------------------------------------------------------------------------ */
/* Ports (`man tor` SocksPort, ORPort, DirPort, ControlPort) */

typedef struct {
    const char *name;
    uint32_t bits;
} flag_name_t;

static const flag_name_t socks_flags[] = {
    {"IsolateClientAddr", OM_PORT_ISOLATE_CLIENT_ADDR},
    {"IsolateSOCKSAuth", OM_PORT_ISOLATE_SOCKS_AUTH},
    {"IsolateClientProtocol", OM_PORT_ISOLATE_CLIENT_PROTOCOL},
    {"IsolateDestPort", OM_PORT_ISOLATE_DEST_PORT},
    {"IsolateDestAddr", OM_PORT_ISOLATE_DEST_ADDR},
    {"KeepAliveIsolateSOCKSAuth", OM_PORT_KEEPALIVE_ISOLATE_SOCKS_AUTH},
    {"IPv4Traffic", OM_PORT_IPV4_TRAFFIC},
    {"IPv6Traffic", OM_PORT_IPV6_TRAFFIC},
    {"PreferIPv6", OM_PORT_PREFER_IPV6},
    {"DNSRequest", OM_PORT_DNS_REQUEST},
    {"OnionTraffic", OM_PORT_ONION_TRAFFIC},
    {"CacheIPv4DNS", OM_PORT_CACHE_IPV4_DNS},
    {"CacheIPv6DNS", OM_PORT_CACHE_IPV6_DNS},
    {"CacheDNS", OM_PORT_CACHE_IPV4_DNS | OM_PORT_CACHE_IPV6_DNS},
    {"UseIPv4Cache", OM_PORT_USE_IPV4_CACHE},
    {"UseIPv6Cache", OM_PORT_USE_IPV6_CACHE},
    {"UseDNSCache", OM_PORT_USE_IPV4_CACHE | OM_PORT_USE_IPV6_CACHE},
    {"PreferIPv6Automap", OM_PORT_PREFER_IPV6_AUTOMAP},
    {"PreferSOCKSNoAuth", OM_PORT_PREFER_SOCKS_NO_AUTH},
    {"ExtendedErrors", OM_PORT_EXTENDED_ERRORS},
    {"GroupWritable", 0}, /* unix sockets only */
    {"WorldWritable", 0},
    {NULL, 0},
};

static const flag_name_t server_flags[] = {
    {"NoAdvertise", OM_PORT_NO_ADVERTISE},
    {"NoListen", OM_PORT_NO_LISTEN},
    {"IPv4Only", OM_PORT_IPV4_ONLY},
    {"IPv6Only", OM_PORT_IPV6_ONLY},
    {NULL, 0},
};

static const flag_name_t control_flags[] = {
    {"GroupWritable", 0},
    {"WorldWritable", 0},
    {"RelaxDirModeCheck", 0},
    {NULL, 0},
};

#define SOCKS_DEFAULT_FLAGS                                                                        \
    (OM_PORT_ISOLATE_CLIENT_ADDR | OM_PORT_ISOLATE_SOCKS_AUTH | OM_PORT_IPV4_TRAFFIC |             \
     OM_PORT_DNS_REQUEST | OM_PORT_ONION_TRAFFIC | OM_PORT_PREFER_IPV6_AUTOMAP)

/* One flag word; 1 if recognized. */
static bool apply_port_flag(const flag_name_t *table, const char *w, om_port_t *p)
{
    for (const flag_name_t *f = table; f->name; f++) {
        if (!strcasecmp(w, f->name)) {
            p->flags |= f->bits;
            p->explicit_flags |= f->bits;
            return true;
        }
    }
    if (!strncasecmp(w, "No", 2)) {
        for (const flag_name_t *f = table; f->name; f++) {
            if (!strcasecmp(w + 2, f->name)) {
                p->flags &= ~f->bits;
                p->explicit_flags |= f->bits;
                return true;
            }
        }
    }
    return false;
}

/* "[address:]port|auto|0 [flags]" for option d. *has_obj false for "0". */
static int parse_port_value(const opt_def_t *d, int isolate_socks_auth, const char *value,
                            om_port_t *p, bool *has_obj, const char *where, char *reason)
{
    memset(p, 0, sizeof *p);
    p->session_group = -1;
    p->family = 4;
    bool socks = d->flags & OPT_PORT_SOCKS, control = d->flags & OPT_PORT_CONTROL;
    snprintf(p->addr, sizeof p->addr, "%s", (socks || control) ? "127.0.0.1" : "0.0.0.0");
    if (socks) {
        p->flags = SOCKS_DEFAULT_FLAGS;
        if (!isolate_socks_auth) p->flags &= ~(uint32_t)OM_PORT_ISOLATE_SOCKS_AUTH;
    }
    *has_obj = false;

    size_t nw;
    char **w = split_ws(value, &nw);
    int rc = -1;
    const char *ap = w[0];
    char portbuf[16] = "";
    if (!strncasecmp(ap, "unix:", 5)) {
        seterr(reason, REASON_LEN, "unix sockets (\"%s\") are not supported", ap);
        goto out;
    }
    if (!strcmp(ap, "0")) {
        rc = 0; /* disabled */
        goto out;
    }
    if (!strcasecmp(ap, "auto") || all_digits(ap)) {
        snprintf(portbuf, sizeof portbuf, "%.15s", ap);
    } else {
        /* address:port */
        char host[OM_CONFIG_ADDR_LEN + 2];
        const char *colon;
        if (ap[0] == '[') {
            const char *close = strchr(ap, ']');
            if (!close || (size_t)(close - ap - 1) >= sizeof host) {
                seterr(reason, REASON_LEN, "\"%s\" is not [address]:port", ap);
                goto out;
            }
            memcpy(host, ap + 1, (size_t)(close - ap - 1));
            host[close - ap - 1] = '\0';
            colon = close + 1;
            if (*colon != ':') {
                seterr(reason, REASON_LEN, "\"%s\" has an address but no port", ap);
                goto out;
            }
            if (parse_ip(host, p->addr, sizeof p->addr) != 6) {
                seterr(reason, REASON_LEN, "\"%s\" is not an IPv6 address", host);
                goto out;
            }
            p->family = 6;
        } else {
            colon = strchr(ap, ':');
            if (!colon) {
                seterr(reason, REASON_LEN, "\"%s\" is not a port", ap);
                goto out;
            }
            if (strchr(colon + 1, ':')) {
                seterr(reason, REASON_LEN, "\"%s\": IPv6 addresses need [brackets]", ap);
                goto out;
            }
            size_t hl = (size_t)(colon - ap);
            if (hl >= sizeof host) {
                seterr(reason, REASON_LEN, "\"%.*s\" is not an IP address", (int)hl, ap);
                goto out;
            }
            memcpy(host, ap, hl);
            host[hl] = '\0';
            if (!strcasecmp(host, "localhost")) {
                snprintf(p->addr, sizeof p->addr, "127.0.0.1");
            } else if (parse_ip(host, p->addr, sizeof p->addr) != 4) {
                seterr(reason, REASON_LEN, "\"%s\" is not an IP address", host);
                goto out;
            }
        }
        snprintf(portbuf, sizeof portbuf, "%.15s", colon + 1);
        if (!strcmp(portbuf, "0")) {
            seterr(reason, REASON_LEN, "\"%s\": port 0 with an address", ap);
            goto out;
        }
    }
    unsigned long port;
    if (!strcasecmp(portbuf, "auto")) {
        p->is_auto = true;
    } else if (parse_ulong(portbuf, 65535, &port) && port > 0) {
        p->port = (uint16_t)port;
    } else {
        seterr(reason, REASON_LEN, "\"%s\" is not a port", ap);
        goto out;
    }

    const flag_name_t *table = socks ? socks_flags : control ? control_flags : server_flags;
    for (size_t i = 1; i < nw; i++) {
        const char *f = w[i];
        unsigned long grp;
        if (socks && !strncasecmp(f, "SessionGroup=", 13)) {
            if (!parse_ulong(f + 13, INT32_MAX, &grp)) {
                seterr(reason, REASON_LEN, "bad SessionGroup \"%s\"", f + 13);
                goto out;
            }
            p->session_group = (int32_t)grp;
        } else if (socks && !strcasecmp(f, "OnionTrafficOnly")) {
            p->flags |= OM_PORT_ONION_TRAFFIC;
            p->flags &=
                ~(uint32_t)(OM_PORT_DNS_REQUEST | OM_PORT_IPV4_TRAFFIC | OM_PORT_IPV6_TRAFFIC);
            p->explicit_flags |= OM_PORT_ONION_TRAFFIC | OM_PORT_DNS_REQUEST |
                                 OM_PORT_IPV4_TRAFFIC | OM_PORT_IPV6_TRAFFIC;
        } else if (!apply_port_flag(table, f, p)) {
            /* tor warns and continues on unknown port flags; so do we. */
            om_warn("%s: %s: unrecognized flag \"%s\" (ignored)", where, d->name, f);
        }
    }
    if ((p->flags & OM_PORT_NO_ADVERTISE) && (p->flags & OM_PORT_NO_LISTEN)) {
        seterr(reason, REASON_LEN, "NoAdvertise and NoListen together");
        goto out;
    }
    if ((p->flags & OM_PORT_IPV4_ONLY) && (p->flags & OM_PORT_IPV6_ONLY)) {
        seterr(reason, REASON_LEN, "IPv4Only and IPv6Only together");
        goto out;
    }
    if ((p->flags & OM_PORT_IPV6_ONLY) && !strcmp(p->addr, "0.0.0.0")) {
        snprintf(p->addr, sizeof p->addr, "::");
        p->family = 6;
    }
    if ((d->flags & OPT_PORT_DIR) && p->family != 4) {
        seterr(reason, REASON_LEN, "DirPort can only be IPv4");
        goto out;
    }
    *has_obj = true;
    rc = 0;
out:
    free_strv(w);
    return rc;
}

static int check_controlport(const char *value, parsed_t *p, const char *where, char *reason)
{
    (void)value;
    (void)where;
    if (p->has_obj) {
        seterr(reason, REASON_LEN, "onionmesh has no control port yet; only 0 is accepted");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* DirAuthority (`man tor`: "DirAuthority [nickname] [flags] ipv4address:dirport fingerprint") */

static int parse_dirauth(const char *value, om_dir_authority_t *a, const char *where, char *reason)
{
    memset(a, 0, sizeof *a);
    a->weight = 1.0;
    size_t n;
    char **w = split_ws(value, &n);
    size_t i = 0;
    int rc = -1;
    if (n == 0) {
        seterr(reason, REASON_LEN, "empty DirAuthority line");
        goto out;
    }
    if (legal_nickname(w[0], strlen(w[0]))) {
        snprintf(a->nickname, sizeof a->nickname, "%s", w[0]);
        i++;
    }
    for (; i < n && !isdigit((unsigned char)w[i][0]); i++) {
        const char *f = w[i];
        unsigned long v;
        if (!strcasecmp(f, "bridge")) {
            a->is_bridge = true;
        } else if (!strcasecmp(f, "no-v2")) {
            a->no_v2 = true;
        } else if (!strcasecmp(f, "hs") || !strcasecmp(f, "no-hs") || !strcasecmp(f, "v1")) {
            /* obsolete flags tor still accepts */
        } else if (!strncasecmp(f, "orport=", 7)) {
            if (!parse_ulong(f + 7, 65535, &v) || v == 0) {
                seterr(reason, REASON_LEN, "bad orport \"%s\"", f + 7);
                goto out;
            }
            a->or_port = (uint16_t)v;
        } else if (!strncasecmp(f, "weight=", 7)) {
            char *end;
            errno = 0;
            double wt = strtod(f + 7, &end);
            if (errno || end == f + 7 || *end || !(wt >= 0) || !isfinite(wt)) {
                seterr(reason, REASON_LEN, "bad weight \"%s\"", f + 7);
                goto out;
            }
            a->weight = wt;
        } else if (!strncasecmp(f, "v3ident=", 8)) {
            if (hex_decode(f + 8, strlen(f + 8), a->v3ident, 20) < 0) {
                seterr(reason, REASON_LEN, "v3ident \"%s\" is not 40 hex digits", f + 8);
                goto out;
            }
            a->has_v3ident = true;
        } else if (!strncasecmp(f, "ipv6=", 5)) {
            const char *s = f + 5;
            const char *close = s[0] == '[' ? strchr(s, ']') : NULL;
            char host[OM_CONFIG_ADDR_LEN];
            if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof host) {
                seterr(reason, REASON_LEN, "ipv6= wants [address]:port, not \"%s\"", s);
                goto out;
            }
            memcpy(host, s + 1, (size_t)(close - s - 1));
            host[close - s - 1] = '\0';
            if (parse_ip(host, a->ipv6, sizeof a->ipv6) != 6 ||
                !parse_ulong(close + 2, 65535, &v) || v == 0) {
                seterr(reason, REASON_LEN, "ipv6= wants [address]:port, not \"%s\"", s);
                goto out;
            }
            a->has_ipv6 = true;
            a->ipv6_or_port = (uint16_t)v;
        } else {
            /* tor warns and ignores unknown flags */
            om_warn("%s: DirAuthority: unrecognized flag \"%s\" (ignored)", where, f);
        }
    }
    if (n - i < 2) {
        seterr(reason, REASON_LEN, "needs ipv4address:dirport and a fingerprint");
        goto out;
    }
    const char *colon = strchr(w[i], ':');
    char host[16];
    unsigned long dp;
    if (!colon || (size_t)(colon - w[i]) >= sizeof host) {
        seterr(reason, REASON_LEN, "\"%s\" is not ipv4address:dirport", w[i]);
        goto out;
    }
    memcpy(host, w[i], (size_t)(colon - w[i]));
    host[colon - w[i]] = '\0';
    if (parse_ip(host, a->ipv4, sizeof a->ipv4) != 4) {
        seterr(reason, REASON_LEN, "\"%s\" is not an IPv4 address", host);
        goto out;
    }
    if (!parse_ulong(colon + 1, 65535, &dp) || dp == 0) {
        seterr(reason, REASON_LEN, "\"%s\" is not a port", colon + 1);
        goto out;
    }
    a->dir_port = (uint16_t)dp;
    /* Fingerprint: the rest, spaces removed ("9695 DFC3 ..." or 40 hex digits). */
    char fp[41];
    size_t fl = 0;
    for (size_t j = i + 1; j < n; j++) {
        size_t l = strlen(w[j]);
        if (fl + l > 40) {
            fl = 41;
            break;
        }
        memcpy(fp + fl, w[j], l);
        fl += l;
    }
    if (fl != 40 || hex_decode(fp, 40, a->rsa_fp, 20) < 0) {
        seterr(reason, REASON_LEN, "fingerprint is not 40 hex digits");
        goto out;
    }
    rc = 0;
out:
    free_strv(w);
    return rc;
}

int om_config_parse_dir_authority(const char *value, om_dir_authority_t *out, char *err,
                                  size_t errlen)
{
    char reason[REASON_LEN];
    if (parse_dirauth(value, out, "config", reason) < 0) {
        seterr(err, errlen, "%s", reason);
        return -1;
    }
    return 0;
}

static int check_dirauth(const char *value, parsed_t *p, const char *where, char *reason)
{
    if (parse_dirauth(value, p->obj, where, reason) < 0) return -1;
    p->has_obj = true;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Log (`man tor` Log: "[domain,...]minSeverity[-maxSeverity] ... stderr|stdout|syslog|file F") */

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

static int parse_log(const char *value, om_log_spec_t *out, char *reason)
{
    memset(out, 0, sizeof *out);
    const char *p = value;
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
                seterr(reason, REASON_LEN, "unclosed [domain] in \"%.*s\"", (int)tl, tok);
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
                seterr(reason, REASON_LEN,
                       "\"%.*s\" is not a severity (debug, info, notice, "
                       "warn, err) or a range like notice-err",
                       (int)tl, tok);
                return -1;
            }
            p = tok; /* the destination */
            break;
        }
        if (lo > hi) {
            seterr(reason, REASON_LEN, "severity range \"%.*s\" is backwards", (int)sl, sev);
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
        seterr(reason, REASON_LEN, "missing severity");
        return -1;
    }
    out->min = any_plain ? best_plain : best_any;
    out->max = any_plain ? max_plain : OM_LOG_ERR;
    const char *dest = p;
    size_t dl = strcspn(dest, " \t");
    const char *rest = dest + dl;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (dl == 4 && !strncasecmp(dest, "file", 4)) {
        if (!*rest) {
            seterr(reason, REASON_LEN, "\"file\" needs a file name");
            return -1;
        }
        char *path = expand_home(rest);
        if (!path) {
            seterr(reason, REASON_LEN, "can't expand \"%s\": $HOME is not set", rest);
            return -1;
        }
        size_t plen = strlen(path);
        if (plen >= sizeof out->path) {
            free(path);
            seterr(reason, REASON_LEN, "log file name is too long");
            return -1;
        }
        memcpy(out->path, path, plen + 1);
        free(path);
        out->dest = OM_LOG_DEST_FILE;
        return 0;
    }
    if (*rest) {
        seterr(reason, REASON_LEN, "unexpected \"%s\" after the destination", rest);
        return -1;
    }
    if (dl == 6 && !strncasecmp(dest, "stderr", 6))
        out->dest = OM_LOG_DEST_STDERR;
    else if (dl == 6 && !strncasecmp(dest, "stdout", 6))
        out->dest = OM_LOG_DEST_STDOUT;
    else if (dl == 6 && !strncasecmp(dest, "syslog", 6))
        out->dest = OM_LOG_DEST_SYSLOG;
    else if (dl == 0) {
        seterr(reason, REASON_LEN, "missing destination (stderr, stdout, syslog or file NAME)");
        return -1;
    } else {
        seterr(reason, REASON_LEN,
               "\"%.*s\" is not a log destination (stderr, stdout, syslog or "
               "file NAME)",
               (int)dl, dest);
        return -1;
    }
    return 0;
}

int om_config_parse_log(const char *value, om_log_spec_t *out, char *err, size_t errlen)
{
    char reason[REASON_LEN];
    if (parse_log(value, out, reason) < 0) {
        seterr(err, errlen, "%s", reason);
        return -1;
    }
    return 0;
}

static int check_log(const char *value, parsed_t *p, const char *where, char *reason)
{
    (void)p;
    (void)where;
    om_log_spec_t spec;
    return parse_log(value, &spec, reason);
}

/* ------------------------------------------------------------------------------------------ */
/* Other per-option checks */

static int check_exitpolicy(const char *value, parsed_t *p, const char *where, char *reason)
{
    (void)p;
    int rc = 0;
    char *copy = xstrdup(value);
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        while (is_space(*item))
            item++;
        size_t il = strlen(item);
        while (il && is_space(item[il - 1]))
            item[--il] = '\0';
        if (!il) continue; /* blank items are skipped, as tor */
        size_t kl = strcspn(item, " \t");
        bool v6 = false;
        if (kl == 6 && !strncasecmp(item, "accept", 6)) {
        } else if (kl == 6 && !strncasecmp(item, "reject", 6)) {
        } else if (kl == 7 &&
                   (!strncasecmp(item, "accept6", 7) || !strncasecmp(item, "reject6", 7))) {
            v6 = true;
        } else {
            seterr(reason, REASON_LEN, "\"%s\": expected accept, reject, accept6 or reject6", item);
            rc = -1;
            break;
        }
        const char *pat = item + kl;
        while (*pat == ' ' || *pat == '\t')
            pat++;
        if (!*pat) {
            seterr(reason, REASON_LEN, "\"%s\": missing address pattern", item);
            rc = -1;
            break;
        }
        int fam;
        if (parse_addr_pattern(pat, true, &fam, reason) < 0) {
            rc = -1;
            break;
        }
        if (v6 && fam == 4)
            om_warn("%s: ExitPolicy: IPv4 address in \"%s\" ignored (use accept/reject)", where,
                    item);
    }
    free(copy);
    return rc;
}

static int check_address(const char *value, parsed_t *p, const char *where, char *reason)
{
    (void)p;
    (void)where;
    char buf[OM_CONFIG_ADDR_LEN + 2];
    size_t n = strlen(value);
    if (value[0] == '[' && n >= 2 && value[n - 1] == ']' && n - 2 < sizeof buf) {
        memcpy(buf, value + 1, n - 2);
        buf[n - 2] = '\0';
        if (parse_ip(buf, NULL, 0) == 6) return 0;
    }
    if (parse_ip(value, NULL, 0)) return 0;
    bool ok = n <= 253 && value[0] != '-' && value[0] != '.';
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)value[i]) || value[i] == '-' || value[i] == '.';
    if (!ok) {
        seterr(reason, REASON_LEN, "\"%s\" is not an IP address or host name", value);
        return -1;
    }
    return 0;
}

static int check_nickname(const char *value, parsed_t *p, const char *where, char *reason)
{
    (void)p;
    (void)where;
    if (!legal_nickname(value, strlen(value))) {
        seterr(reason, REASON_LEN, "\"%s\": nicknames are 1 to 19 characters, only [a-zA-Z0-9]",
               value);
        return -1;
    }
    return 0;
}

/* "$HEX40", "HEX40", optionally followed by "=nickname" or "~nickname". */
static bool is_fingerprint_item(const char *s)
{
    if (*s == '$') s++;
    uint8_t tmp[20];
    if (strlen(s) < 40 || hex_decode(s, 40, tmp, 20) < 0) return false;
    s += 40;
    if (!*s) return true;
    return (*s == '=' || *s == '~') && legal_nickname(s + 1, strlen(s + 1));
}

static int check_routerset_item(const char *value, parsed_t *p, const char *where, char *reason)
{
    (void)p;
    (void)where;
    if (is_fingerprint_item(value)) return 0;
    size_t n = strlen(value);
    if (value[0] == '{') {
        if (n == 4 && value[3] == '}' &&
            ((isalpha((unsigned char)value[1]) && isalnum((unsigned char)value[2])) ||
             (value[1] == '?' && value[2] == '?')))
            return 0;
        seterr(reason, REASON_LEN, "\"%s\" is not a {country code}", value);
        return -1;
    }
    if (value[0] != '$' && legal_nickname(value, n)) return 0;
    int fam;
    char tmp[REASON_LEN];
    if (value[0] != '$' && parse_addr_pattern(value, false, &fam, tmp) == 0) return 0;
    seterr(reason, REASON_LEN,
           "\"%s\" is not a $fingerprint, nickname, {country code} or address pattern", value);
    return -1;
}

static int check_family_item(const char *value, parsed_t *p, const char *where, char *reason)
{
    (void)p;
    (void)where;
    if (is_fingerprint_item(value) || (value[0] != '$' && legal_nickname(value, strlen(value))))
        return 0;
    seterr(reason, REASON_LEN, "\"%s\" is not a $fingerprint or nickname", value);
    return -1;
}

static int check_microdescs(const char *value, parsed_t *p, const char *where, char *reason)
{
    (void)value;
    (void)where;
    if (p->i == 0) {
        seterr(reason, REASON_LEN, "onionmesh always uses microdescriptors (1 or auto)");
        return -1;
    }
    return 0;
}

static int check_extrainfo(const char *value, parsed_t *p, const char *where, char *reason)
{
    (void)value;
    (void)where;
    if (p->i != 0) {
        seterr(reason, REASON_LEN, "onionmesh does not download extra-info documents (0 only)");
        return -1;
    }
    return 0;
}

static bool in_choices(const char *choices, const char *v)
{
    size_t vl = strlen(v);
    for (const char *c = choices; *c;) {
        size_t l = strcspn(c, "|");
        if (l == vl && !strncasecmp(c, v, l)) return true;
        c += l;
        if (*c == '|') c++;
    }
    return false;
}

/* ------------------------------------------------------------------------------------------ */
/* Values */

static void val_clear(val_t *v)
{
    free(v->s);
    v->s = NULL;
    for (size_t i = 0; i < v->n_lines; i++)
        free(v->lines[i]);
    free(v->lines);
    v->lines = NULL;
    v->n_lines = 0;
    free(v->objs);
    v->objs = NULL;
    v->n_objs = 0;
    v->i = 0;
    v->d = 0;
}

static void val_push_line(val_t *v, const char *line)
{
    v->lines = xrealloc(v->lines, (v->n_lines + 2) * sizeof *v->lines);
    v->lines[v->n_lines++] = xstrdup(line);
    v->lines[v->n_lines] = NULL;
}

static void val_push_obj(val_t *v, const void *obj, size_t sz)
{
    v->objs = xrealloc(v->objs, (v->n_objs + 1) * sz);
    memcpy(v->objs + v->n_objs * sz, obj, sz);
    v->n_objs++;
}

/* Parse a scalar value of option d; fills *p and *text (the stored text). */
static int parse_scalar(const opt_def_t *d, const char *value, parsed_t *p, char **text,
                        char *reason)
{
    *text = NULL;
    switch (d->type) {
    case OM_CONF_STRING:
        if (d->choices && !in_choices(d->choices, value)) {
            seterr(reason, REASON_LEN, "\"%s\" is not one of %s", value, d->choices);
            return -1;
        }
        break;
    case OM_CONF_PATH: {
        char *e = expand_home(value);
        if (!e) {
            seterr(reason, REASON_LEN, "can't expand \"%s\": $HOME is not set", value);
            return -1;
        }
        *text = e;
        break;
    }
    case OM_CONF_BOOL:
        if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0) {
            seterr(reason, REASON_LEN, "\"%s\" is not 0 or 1", value);
            return -1;
        }
        p->i = value[0] - '0';
        break;
    case OM_CONF_AUTOBOOL:
        if (!strcasecmp(value, "auto")) {
            p->i = -1;
        } else if (!strcmp(value, "0") || !strcmp(value, "1")) {
            p->i = value[0] - '0';
        } else {
            seterr(reason, REASON_LEN, "\"%s\" is not 0, 1 or auto", value);
            return -1;
        }
        break;
    case OM_CONF_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end || is_space(value[0]) || value[0] == '+') {
            seterr(reason, REASON_LEN, "\"%s\" is not an integer", value);
            return -1;
        }
        if (v < d->min || v > d->max) {
            seterr(reason, REASON_LEN, "%lld is out of range (%lld to %lld)", v, (long long)d->min,
                   (long long)d->max);
            return -1;
        }
        p->i = v;
        break;
    }
    case OM_CONF_DOUBLE: {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (errno || end == value || *end || !isfinite(v) || is_space(value[0])) {
            seterr(reason, REASON_LEN, "\"%s\" is not a number", value);
            return -1;
        }
        if (v < (double)d->min || v > (double)d->max) {
            seterr(reason, REASON_LEN, "%s is out of range (%lld to %lld)", value,
                   (long long)d->min, (long long)d->max);
            return -1;
        }
        p->d = v;
        break;
    }
    case OM_CONF_INTERVAL: {
        int64_t v;
        if (om_config_parse_interval(value, &v) < 0) {
            seterr(reason, REASON_LEN,
                   "\"%s\" is not a time interval (N seconds|minutes|hours|days|weeks|months)",
                   value);
            return -1;
        }
        if (v < d->min || v > d->max) {
            seterr(reason, REASON_LEN, "\"%s\" is out of range (%lld to %lld seconds)", value,
                   (long long)d->min, (long long)d->max);
            return -1;
        }
        p->i = v;
        break;
    }
    case OM_CONF_MEMUNIT: {
        uint64_t v;
        if (om_config_parse_memunit(value, &v) < 0) {
            seterr(reason, REASON_LEN,
                   "\"%s\" is not an amount of memory (N bytes|KBytes|MBytes|GBytes|TBytes|"
                   "KBits|MBits|GBits|TBits)",
                   value);
            return -1;
        }
        if ((int64_t)v < d->min || (int64_t)v > d->max) {
            seterr(reason, REASON_LEN, "\"%s\" is out of range", value);
            return -1;
        }
        p->i = (int64_t)v;
        break;
    }
    default:
        return -1;
    }
    if (!*text) *text = xstrdup(value);
    return 0;
}

static void reset_default(om_config_t *cfg, size_t idx);

static int opt_index(const opt_def_t *d)
{
    return (int)(d - opts);
}

/* Assign one value to option idx. reason gets "Name: why" on failure. where names the source
 * for warnings ("my.conf:3", "command line"). */
static int assign(om_config_t *cfg, size_t idx, const char *value, int origin, int mode,
                  const char *where, char *reason)
{
    const opt_def_t *d = &opts[idx];
    val_t *v = &cfg->vals[idx];
    char why[REASON_LEN] = "";
    bool list = is_list_type(d->type);

    if (origin > ORIGIN_DEFAULT && (d->flags & (OPT_AUTHORITY_ONLY | OPT_UNUSED)))
        om_info("%s: %s is %s; accepted and ignored", where, d->name,
                (d->flags & OPT_AUTHORITY_ONLY) ? "for directory authorities only"
                                                : "not used by onionmesh yet");

    if (mode == MODE_CLEAR) {
        if (list) {
            val_clear(v);
            v->origin = origin;
        } else {
            reset_default(cfg, idx);
        }
        return 0;
    }
    if (!*value) {
        if (list) {
            reset_default(cfg, idx); /* an empty value resets a repeatable option */
            return 0;
        }
        seterr(reason, REASON_LEN, "%s: option needs a value", d->name);
        return -1;
    }

    uint8_t objbuf[sizeof(om_port_t) > sizeof(om_dir_authority_t) ? sizeof(om_port_t)
                                                                  : sizeof(om_dir_authority_t)];
    parsed_t p = {.obj = objbuf};

    if (!list) {
        char *text = NULL;
        if (parse_scalar(d, value, &p, &text, why) < 0 ||
            (d->check && d->check(value, &p, where, why) < 0)) {
            free(text);
            seterr(reason, REASON_LEN, "%s: %s", d->name, why);
            return -1;
        }
        free(v->s);
        v->s = text;
        v->i = p.i;
        v->d = p.d;
        v->origin = origin;
        return 0;
    }

    /* Lists: parse everything first so a bad value changes nothing. */
    bool replace = mode == MODE_SET && (v->origin < origin || (d->flags & OPT_LAST_WINS));
    if (d->type == OM_CONF_CSV) {
        char *copy = xstrdup(value);
        char **items = NULL;
        size_t n = 0;
        int rc = 0;
        char *save = NULL;
        for (char *it = strtok_r(copy, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
            char *t = trimmed_dup(it, strlen(it));
            if (!*t) {
                free(t);
                continue;
            }
            items = xrealloc(items, (n + 1) * sizeof *items);
            items[n++] = t;
            if (d->choices && !in_choices(d->choices, t)) {
                seterr(why, sizeof why, "\"%s\" is not one of %s", t, d->choices);
                rc = -1;
                break;
            }
            if (d->check && d->check(t, &p, where, why) < 0) {
                rc = -1;
                break;
            }
        }
        free(copy);
        if (rc == 0 && n == 0) {
            seterr(why, sizeof why, "no items in \"%s\"", value);
            rc = -1;
        }
        if (rc == 0) {
            if (replace) val_clear(v);
            for (size_t i = 0; i < n; i++)
                val_push_line(v, items[i]);
            if (origin > v->origin) v->origin = origin;
        }
        for (size_t i = 0; i < n; i++)
            free(items[i]);
        free(items);
        if (rc < 0) seterr(reason, REASON_LEN, "%s: %s", d->name, why);
        return rc;
    }

    if (d->type == OM_CONF_PORT) {
        int iso = (int)cfg->vals[find_option("IsolateSOCKSAuth")].i;
        if (parse_port_value(d, iso, value, (om_port_t *)objbuf, &p.has_obj, where, why) < 0) {
            seterr(reason, REASON_LEN, "%s: %s", d->name, why);
            return -1;
        }
    }
    if (d->check && d->check(value, &p, where, why) < 0) {
        seterr(reason, REASON_LEN, "%s: %s", d->name, why);
        return -1;
    }
    if (replace) val_clear(v);
    val_push_line(v, value);
    if (p.has_obj) val_push_obj(v, objbuf, d->obj_size);
    if (origin > v->origin) v->origin = origin;
    return 0;
}

/* Back to the default value (or, under TestingTorNetwork, the testing default). */
static void reset_default_to(om_config_t *cfg, size_t idx, bool testing)
{
    const opt_def_t *d = &opts[idx];
    val_t *v = &cfg->vals[idx];
    char reason[REASON_LEN];
    val_clear(v);
    v->origin = ORIGIN_DEFAULT;
    if (d->flags & OPT_DEFAULT_AUTHS) {
        for (size_t i = 0; default_authorities[i]; i++) {
            if (assign(cfg, idx, default_authorities[i], ORIGIN_DEFAULT, MODE_APPEND, "default",
                       reason) < 0) {
                om_err("bad default authority: %s", reason);
                abort();
            }
        }
        return;
    }
    const char *def = (testing && d->testing_def) ? d->testing_def : d->def;
    if (!def) return;
    if (assign(cfg, idx, def, ORIGIN_DEFAULT, MODE_APPEND, "default", reason) < 0) {
        if (d->type == OM_CONF_PATH) return; /* "~/..." without $HOME: no default */
        om_err("bad default: %s", reason);
        abort();
    }
    v->origin = ORIGIN_DEFAULT;
}

static void reset_default(om_config_t *cfg, size_t idx)
{
    int t = find_option("TestingTorNetwork");
    bool testing = (size_t)t != idx && cfg->vals[t].i == 1;
    reset_default_to(cfg, idx, testing);
}

/* ------------------------------------------------------------------------------------------ */
/* Lifecycle */

om_config_t *om_config_new(void)
{
    om_config_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return NULL;
    /* IsolateSOCKSAuth and TestingTorNetwork first: other defaults read them. */
    int first[2] = {find_option("IsolateSOCKSAuth"), find_option("TestingTorNetwork")};
    for (int k = 0; k < 2; k++)
        reset_default_to(cfg, (size_t)first[k], false);
    for (size_t i = 0; i < N_OPTS; i++)
        if ((int)i != first[0] && (int)i != first[1]) reset_default_to(cfg, i, false);
    return cfg;
}

void om_config_free(om_config_t *cfg)
{
    if (!cfg) return;
    for (size_t i = 0; i < N_OPTS; i++)
        val_clear(&cfg->vals[i]);
    free(cfg->config_file);
    free(cfg);
}

/* ------------------------------------------------------------------------------------------ */
/* File syntax (`man tor`, THE CONFIGURATION FILE FORMAT) */

typedef struct {
    char *buf;
    size_t len, cap;
} sbuf_t;

static void sb_putc(sbuf_t *b, char c)
{
    if (b->len + 2 > b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->buf = xrealloc(b->buf, b->cap);
    }
    b->buf[b->len++] = c;
    b->buf[b->len] = '\0';
}

static char *sb_take(sbuf_t *b)
{
    if (!b->buf) return xstrdup("");
    char *r = b->buf;
    b->buf = NULL;
    b->len = b->cap = 0;
    return r;
}

/* Backslash-newline (also before CRLF): length of the sequence, or 0. */
static size_t continuation_at(const char *p)
{
    if (p[0] != '\\') return 0;
    if (p[1] == '\n') return 2;
    if (p[1] == '\r' && p[2] == '\n') return 3;
    return 0;
}

/* A C-style quoted string starting at *pp (the opening quote). */
static int unquote(const char **pp, sbuf_t *out, char *reason)
{
    const char *p = *pp + 1;
    for (;;) {
        char c = *p;
        if (!c || c == '\n') {
            seterr(reason, REASON_LEN, "unterminated quoted string");
            return -1;
        }
        if (c == '"') break;
        if (c != '\\') {
            sb_putc(out, c);
            p++;
            continue;
        }
        p++;
        int v;
        switch (*p) {
        case 'n':
            v = '\n';
            p++;
            break;
        case 't':
            v = '\t';
            p++;
            break;
        case 'r':
            v = '\r';
            p++;
            break;
        case '\\':
            v = '\\';
            p++;
            break;
        case '"':
            v = '"';
            p++;
            break;
        case '\'':
            v = '\'';
            p++;
            break;
        case 'x':
            if (hexval(p[1]) < 0 || hexval(p[2]) < 0) {
                seterr(reason, REASON_LEN, "invalid \\x escape in quoted string");
                return -1;
            }
            v = hexval(p[1]) * 16 + hexval(p[2]);
            p += 3;
            break;
        default:
            if (*p >= '0' && *p <= '7') {
                v = 0;
                for (int k = 0; k < 3 && *p >= '0' && *p <= '7'; k++, p++)
                    v = v * 8 + (*p - '0');
                if (v > 255) {
                    seterr(reason, REASON_LEN, "invalid octal escape in quoted string");
                    return -1;
                }
                break;
            }
            seterr(reason, REASON_LEN, "invalid escape sequence in quoted string");
            return -1;
        }
        if (v == 0) {
            seterr(reason, REASON_LEN, "NUL escape in quoted string");
            return -1;
        }
        sb_putc(out, (char)v);
    }
    *pp = p + 1;
    return 0;
}

/* Next "keyword value" entry. 1 = entry, 0 = end, -1 = error (reason; *entry_line set). */
static int next_entry(const char **pp, unsigned *lineno, char **key, char **val,
                      unsigned *entry_line, char *reason)
{
    const char *p = *pp;
    *key = *val = NULL;
    for (;;) {
        while (is_space(*p)) {
            if (*p == '\n') (*lineno)++;
            p++;
        }
        if (*p == '#') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        break;
    }
    *entry_line = *lineno;
    if (!*p) {
        *pp = p;
        return 0;
    }
    const char *k = p;
    while (*p && !is_space(*p) && *p != '#' && !continuation_at(p))
        p++;
    *key = xstrndup(k, (size_t)(p - k));
    while (*p == ' ' || *p == '\t')
        p++;
    sbuf_t sb = {0};
    if (*p == '"') {
        if (unquote(&p, &sb, reason) < 0) {
            free(sb.buf);
            free(*key);
            *key = NULL;
            return -1;
        }
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (*p == '#')
            while (*p && *p != '\n')
                p++;
        if (*p && *p != '\n') {
            free(sb.buf);
            free(*key);
            *key = NULL;
            seterr(reason, REASON_LEN, "unexpected text after the quoted string");
            return -1;
        }
        *val = sb_take(&sb);
    } else {
        while (*p && *p != '\n') {
            size_t c = continuation_at(p);
            if (c) {
                p += c;
                (*lineno)++;
                /* Lines starting with '#' inside a continued entry are comments. */
                for (;;) {
                    const char *q = p;
                    while (*q == ' ' || *q == '\t')
                        q++;
                    if (*q != '#') break;
                    while (*q && *q != '\n')
                        q++;
                    if (*q == '\n') {
                        q++;
                        (*lineno)++;
                    }
                    p = q;
                }
                continue;
            }
            if (*p == '#') {
                while (*p && *p != '\n')
                    p++;
                break;
            }
            sb_putc(&sb, *p++);
        }
        char *raw = sb_take(&sb);
        *val = trimmed_dup(raw, strlen(raw));
        free(raw);
    }
    if (*p == '\n') {
        p++;
        (*lineno)++;
    }
    *pp = p;
    return 1;
}

static int parse_text(om_config_t *cfg, const char *text, const char *source, const char *basedir,
                      int depth, char *err, size_t errlen);

/* Read a whole configuration file. NULL with reason on failure. */
static char *read_conf_file(const char *path, char *reason)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        seterr(reason, REASON_LEN, "cannot read \"%s\": %s", path, strerror(errno));
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        seterr(reason, REASON_LEN, "\"%s\" is a directory (only files can be included)", path);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        seterr(reason, REASON_LEN, "cannot read \"%s\": %s", path, strerror(errno));
        return NULL;
    }
    sbuf_t sb = {0};
    char chunk[4096];
    size_t n;
    bool bad = false;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (memchr(chunk, '\0', n)) {
            seterr(reason, REASON_LEN, "\"%s\" contains a NUL byte", path);
            bad = true;
            break;
        }
        if (sb.len + n > OM_CONFIG_MAX_FILE_SIZE) {
            seterr(reason, REASON_LEN, "\"%s\" is larger than %u bytes", path,
                   OM_CONFIG_MAX_FILE_SIZE);
            bad = true;
            break;
        }
        for (size_t i = 0; i < n; i++)
            sb_putc(&sb, chunk[i]);
    }
    if (!bad && ferror(f)) {
        seterr(reason, REASON_LEN, "cannot read \"%s\": %s", path, strerror(errno));
        bad = true;
    }
    fclose(f);
    if (bad) {
        free(sb.buf);
        return NULL;
    }
    return sb_take(&sb);
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return NULL;
    if (slash == path) return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

static int load_file_at(om_config_t *cfg, const char *path, int depth, char *err, size_t errlen)
{
    char reason[REASON_LEN];
    char *text = read_conf_file(path, reason);
    if (!text) {
        seterr(err, errlen, "%s", reason);
        return -1;
    }
    char *dir = dir_of(path);
    int rc = parse_text(cfg, text, path, dir, depth, err, errlen);
    free(dir);
    free(text);
    return rc;
}

static int parse_text(om_config_t *cfg, const char *text, const char *source, const char *basedir,
                      int depth, char *err, size_t errlen)
{
    const char *p = text;
    unsigned lineno = 1, entry_line = 1;
    char *key, *val;
    char reason[REASON_LEN];
    char where[256];
    int r;
    while ((r = next_entry(&p, &lineno, &key, &val, &entry_line, reason)) > 0) {
        snprintf(where, sizeof where, "%s:%u", source, entry_line);
        int rc = 0;
        if (key[0] == '%') {
            if (strcasecmp(key, "%include") != 0) {
                seterr(err, errlen, "%s: unknown directive \"%s\"", where, key);
                rc = -1;
            } else if (!*val) {
                seterr(err, errlen, "%s: %%include needs a file name", where);
                rc = -1;
            } else if (depth + 1 > OM_CONFIG_MAX_INCLUDE_DEPTH) {
                seterr(err, errlen, "%s: %%include nested more than %d deep (an include loop?)",
                       where, OM_CONFIG_MAX_INCLUDE_DEPTH);
                rc = -1;
            } else {
                char *ex = expand_home(val);
                char *path = NULL;
                if (!ex) {
                    seterr(err, errlen, "%s: can't expand \"%s\": $HOME is not set", where, val);
                    rc = -1;
                } else if (ex[0] != '/' && basedir) {
                    size_t n = strlen(basedir) + strlen(ex) + 2;
                    path = xrealloc(NULL, n);
                    snprintf(path, n, "%s/%s", basedir, ex);
                } else {
                    path = xstrdup(ex);
                }
                free(ex);
                if (path) {
                    char *text2 = read_conf_file(path, reason);
                    if (!text2) {
                        seterr(err, errlen, "%s: %%include: %s", where, reason);
                        rc = -1;
                    } else {
                        char *dir = dir_of(path);
                        rc = parse_text(cfg, text2, path, dir, depth + 1, err, errlen);
                        free(dir);
                        free(text2);
                    }
                    free(path);
                }
            }
        } else {
            const char *name = key;
            int mode = MODE_SET;
            if (*name == '+' || *name == '/') {
                mode = *name == '+' ? MODE_APPEND : MODE_CLEAR;
                name++;
            }
            int idx = find_option(name);
            if (idx < 0) {
                char sug[128];
                suggestion(name, sug, sizeof sug);
                seterr(err, errlen, "%s: unknown option \"%s\"%s", where, name, sug);
                rc = -1;
            } else if (assign(cfg, (size_t)idx, val, ORIGIN_FILE, mode, where, reason) < 0) {
                seterr(err, errlen, "%s: %s", where, reason);
                rc = -1;
            }
        }
        free(key);
        free(val);
        if (rc < 0) return -1;
    }
    if (r < 0) {
        seterr(err, errlen, "%s:%u: %s", source, entry_line, reason);
        return -1;
    }
    return 0;
}

int om_config_load_file(om_config_t *cfg, const char *path, char *err, size_t errlen)
{
    return load_file_at(cfg, path, 0, err, errlen);
}

int om_config_parse_string(om_config_t *cfg, const char *text, const char *source_name, char *err,
                           size_t errlen)
{
    return parse_text(cfg, text, source_name ? source_name : "(string)", NULL, 0, err, errlen);
}

int om_config_set(om_config_t *cfg, const char *name, const char *value, char *err, size_t errlen)
{
    char reason[REASON_LEN];
    int idx = find_option(name);
    if (idx < 0) {
        char sug[128];
        suggestion(name, sug, sizeof sug);
        seterr(err, errlen, "unknown option \"%s\"%s", name, sug);
        return -1;
    }
    if (assign(cfg, (size_t)idx, value ? value : "", ORIGIN_CMDLINE, MODE_SET, "command line",
               reason) < 0) {
        seterr(err, errlen, "%s", reason);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Command line */

const char *om_config_file(const om_config_t *cfg)
{
    return cfg->config_file;
}

int om_config_parse_argv(om_config_t *cfg, int argc, char **argv, om_config_command_t *cmd,
                         char *err, size_t errlen)
{
    typedef struct {
        int idx, mode;
        const char *value;
    } op_t;
    op_t *ops = calloc((size_t)(argc > 0 ? argc : 1), sizeof *ops);
    if (!ops) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    size_t nops = 0;
    const char *file = NULL;
    bool ignore_missing = false;
    om_config_command_t c = OM_CONFIG_CMD_RUN;
    int rc = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-f") || !strcmp(a, "--torrc-file")) {
            if (i + 1 >= argc) {
                seterr(err, errlen, "command line: %s needs a file name", a);
                goto out;
            }
            file = argv[++i];
        } else if (!strcmp(a, "--ignore-missing-torrc")) {
            ignore_missing = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            c = OM_CONFIG_CMD_HELP;
        } else if (!strcmp(a, "--version")) {
            if (c != OM_CONFIG_CMD_HELP) c = OM_CONFIG_CMD_VERSION;
        } else if (!strcmp(a, "--verify-config")) {
            if (c == OM_CONFIG_CMD_RUN) c = OM_CONFIG_CMD_VERIFY_CONFIG;
        } else if (!strcmp(a, "--list-fingerprint")) {
            if (c == OM_CONFIG_CMD_RUN) c = OM_CONFIG_CMD_LIST_FINGERPRINT;
        } else {
            const char *s = a;
            if (*s == '-') s++;
            if (*s == '-') s++;
            int mode = MODE_SET;
            if (*s == '+' || *s == '/') {
                mode = *s == '+' ? MODE_APPEND : MODE_CLEAR;
                s++;
            }
            int idx = find_option(s);
            if (idx < 0) {
                char sug[128];
                suggestion(s, sug, sizeof sug);
                seterr(err, errlen, "command line: unknown option \"%s\"%s", a, sug);
                goto out;
            }
            const char *value = "";
            if (mode != MODE_CLEAR) {
                if (i + 1 >= argc) {
                    seterr(err, errlen, "command line: option \"%s\" needs a value", a);
                    goto out;
                }
                value = argv[++i];
            }
            ops[nops++] = (op_t){idx, mode, value};
        }
    }
    if (cmd) *cmd = c;
    if (c == OM_CONFIG_CMD_HELP || c == OM_CONFIG_CMD_VERSION) {
        rc = 0;
        goto out;
    }
    if (file) {
        free(cfg->config_file);
        cfg->config_file = xstrdup(file);
        struct stat st;
        if (!(ignore_missing && stat(file, &st) < 0 && errno == ENOENT) &&
            om_config_load_file(cfg, file, err, errlen) < 0)
            goto out;
    }
    for (size_t k = 0; k < nops; k++) {
        char reason[REASON_LEN];
        if (assign(cfg, (size_t)ops[k].idx, ops[k].value, ORIGIN_CMDLINE, ops[k].mode,
                   "command line", reason) < 0) {
            seterr(err, errlen, "command line: %s", reason);
            goto out;
        }
    }
    rc = 0;
out:
    free(ops);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Getters */

static const opt_def_t *need(const char *name, unsigned type_mask)
{
    int i = find_option(name);
    if (i < 0 || !(type_mask & (1u << opts[i].type))) {
        om_err("config: %s option \"%s\" asked for with the wrong type", i < 0 ? "unknown" : "",
               name);
        abort();
    }
    return &opts[i];
}

#define T(x) (1u << (x))

bool om_config_is_set(const om_config_t *cfg, const char *name)
{
    const opt_def_t *d = need(name, ~0u);
    return cfg->vals[opt_index(d)].origin > ORIGIN_DEFAULT;
}

int om_config_get_bool(const om_config_t *cfg, const char *name)
{
    const opt_def_t *d = need(name, T(OM_CONF_BOOL) | T(OM_CONF_AUTOBOOL));
    return (int)cfg->vals[opt_index(d)].i;
}

int64_t om_config_get_int(const om_config_t *cfg, const char *name)
{
    const opt_def_t *d = need(name, T(OM_CONF_INT) | T(OM_CONF_BOOL) | T(OM_CONF_AUTOBOOL) |
                                        T(OM_CONF_INTERVAL) | T(OM_CONF_MEMUNIT));
    return cfg->vals[opt_index(d)].i;
}

double om_config_get_double(const om_config_t *cfg, const char *name)
{
    const opt_def_t *d = need(name, T(OM_CONF_DOUBLE));
    return cfg->vals[opt_index(d)].d;
}

const char *om_config_get_string(const om_config_t *cfg, const char *name)
{
    const opt_def_t *d = need(name, T(OM_CONF_STRING) | T(OM_CONF_PATH));
    return cfg->vals[opt_index(d)].s;
}

const char *const *om_config_get_lines(const om_config_t *cfg, const char *name, size_t *n)
{
    const opt_def_t *d = need(name, T(OM_CONF_LINELIST) | T(OM_CONF_CSV) | T(OM_CONF_PORT));
    const val_t *v = &cfg->vals[opt_index(d)];
    *n = v->n_lines;
    static const char *const empty[] = {NULL};
    return v->lines ? (const char *const *)v->lines : empty;
}

const om_port_t *om_config_ports(const om_config_t *cfg, const char *name, size_t *n)
{
    const opt_def_t *d = need(name, T(OM_CONF_PORT));
    const val_t *v = &cfg->vals[opt_index(d)];
    *n = v->n_objs;
    return (const om_port_t *)v->objs;
}

const om_port_t *om_config_socks_ports(const om_config_t *cfg, size_t *n)
{
    return om_config_ports(cfg, "SocksPort", n);
}

const om_dir_authority_t *om_config_dir_authorities(const om_config_t *cfg, size_t *n)
{
    const val_t *v = &cfg->vals[find_option("DirAuthority")];
    *n = v->n_objs;
    return (const om_dir_authority_t *)v->objs;
}

bool om_config_is_relay(const om_config_t *cfg)
{
    size_t n;
    om_config_ports(cfg, "ORPort", &n);
    return n > 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Validation (cross-option rules, as tor's options_validate) */

static val_t *V(om_config_t *cfg, const char *name)
{
    return &cfg->vals[find_option(name)];
}

/* Replace a numeric scalar (keeping its text in step for dump). */
static void set_num(om_config_t *cfg, const char *name, int64_t i, const char *unit)
{
    val_t *v = V(cfg, name);
    char buf[64];
    snprintf(buf, sizeof buf, "%lld%s%s", (long long)i, unit ? " " : "", unit ? unit : "");
    free(v->s);
    v->s = xstrdup(buf);
    v->i = i;
}

int om_config_validate(om_config_t *cfg, char *err, size_t errlen)
{
    bool testing = V(cfg, "TestingTorNetwork")->i == 1;

    /* TestingTorNetwork changes some defaults (`man tor` TestingTorNetwork). */
    for (size_t i = 0; i < N_OPTS; i++)
        if (opts[i].testing_def && cfg->vals[i].origin == ORIGIN_DEFAULT)
            reset_default_to(cfg, i, testing);

    if (testing && V(cfg, "DirAuthority")->origin == ORIGIN_DEFAULT) {
        seterr(err, errlen,
               "TestingTorNetwork may only be set together with your own "
               "DirAuthority lines");
        return -1;
    }
    if (!testing && V(cfg, "DirAuthority")->origin > ORIGIN_DEFAULT)
        om_warn("DirAuthority lines replace the public network's authorities: this makes you "
                "look different from other clients");
    size_t nauth;
    const om_dir_authority_t *auths = om_config_dir_authorities(cfg, &nauth);
    size_t nv3 = 0;
    for (size_t i = 0; i < nauth; i++)
        if (auths[i].has_v3ident && !auths[i].is_bridge) nv3++;
    if (nv3 == 0) {
        seterr(err, errlen, "no v3 directory authority: give a DirAuthority line with v3ident=");
        return -1;
    }

    const char *dd = V(cfg, "DataDirectory")->s;
    if (!dd || !*dd) {
        seterr(err, errlen,
               "DataDirectory is not set (and $HOME is unknown, so ~/.onionmesh "
               "can't be used)");
        return -1;
    }

    /* Ports: "X 0" with other X lines is contradictory (tor refuses it). */
    static const char *const port_opts[] = {"SocksPort", "ORPort", "DirPort", "ControlPort"};
    for (size_t k = 0; k < 4; k++) {
        val_t *v = V(cfg, port_opts[k]);
        if (v->n_objs > 0 && v->n_lines > v->n_objs) {
            seterr(err, errlen,
                   "%s: nonzero ports together with \"%s 0\"; did you mean to "
                   "disable %s or not?",
                   port_opts[k], port_opts[k], port_opts[k]);
            return -1;
        }
    }
    bool iso = V(cfg, "IsolateSOCKSAuth")->i == 1;
    val_t *sv = V(cfg, "SocksPort");
    om_port_t *sp = (om_port_t *)sv->objs;
    for (size_t i = 0; i < sv->n_objs; i++) {
        if (!(sp[i].explicit_flags & OM_PORT_ISOLATE_SOCKS_AUTH)) {
            if (iso)
                sp[i].flags |= OM_PORT_ISOLATE_SOCKS_AUTH;
            else
                sp[i].flags &= ~(uint32_t)OM_PORT_ISOLATE_SOCKS_AUTH;
        }
        if (!is_loopback(&sp[i]))
            om_warn("SocksPort on public address %s: other people on the Internet might find it "
                    "and use it as an open proxy; SOCKS is unencrypted and unauthenticated",
                    sp[i].addr);
    }

    if (V(cfg, "ClientUseIPv4")->i == 0 && V(cfg, "ClientUseIPv6")->i == 0) {
        seterr(err, errlen,
               "ClientUseIPv4 0 and ClientUseIPv6 0: onionmesh could not connect "
               "to anything; set at least one to 1");
        return -1;
    }

    /* Bandwidth (`man tor` BandwidthRate, RelayBandwidthRate). */
    static const char *const bw_opts[] = {"BandwidthRate", "BandwidthBurst", "RelayBandwidthRate",
                                          "RelayBandwidthBurst"};
    for (size_t k = 0; k < 4; k++) {
        if (V(cfg, bw_opts[k])->i > INT32_MAX) {
            seterr(err, errlen, "%s must be at most %d bytes", bw_opts[k], INT32_MAX);
            return -1;
        }
    }
    if (V(cfg, "BandwidthBurst")->i < V(cfg, "BandwidthRate")->i) {
        seterr(err, errlen, "BandwidthBurst must be at least equal to BandwidthRate");
        return -1;
    }
    int64_t rr = V(cfg, "RelayBandwidthRate")->i, rb = V(cfg, "RelayBandwidthBurst")->i;
    if (rr && !rb) set_num(cfg, "RelayBandwidthBurst", rb = rr, "bytes");
    if (rb && !rr) set_num(cfg, "RelayBandwidthRate", rr = rb, "bytes");
    if (rb < rr) {
        seterr(err, errlen, "RelayBandwidthBurst must be at least equal to RelayBandwidthRate");
        return -1;
    }
    if (om_config_is_relay(cfg)) {
        const int64_t min_bw = 76800; /* 75 KBytes, `man tor` BandwidthRate */
        if (V(cfg, "BandwidthRate")->i < min_bw || (rr && rr < min_bw)) {
            seterr(err, errlen,
                   "a relay's BandwidthRate (and RelayBandwidthRate, if set) must "
                   "be at least 75 KBytes");
            return -1;
        }
        if (V(cfg, "MyFamily")->n_lines && !V(cfg, "ContactInfo")->s)
            om_warn("MyFamily is set but ContactInfo is not; set ContactInfo too");
    }

    /* Values tor adjusts with a warning. */
    const int64_t max_dirty = 30 * 86400;
    if (V(cfg, "MaxCircuitDirtiness")->i > max_dirty) {
        om_warn("MaxCircuitDirtiness is too high; using 30 days");
        set_num(cfg, "MaxCircuitDirtiness", max_dirty, "seconds");
    }
    val_t *pn = V(cfg, "PathsNeededToBuildCircuits");
    if (pn->d >= 0 && (pn->d < 0.25 || pn->d > 0.95)) {
        double nd = pn->d < 0.25 ? 0.25 : 0.95;
        om_warn("PathsNeededToBuildCircuits %g is outside 0.25..0.95; using %g", pn->d, nd);
        pn->d = nd;
        char buf[32];
        snprintf(buf, sizeof buf, "%g", nd);
        free(pn->s);
        pn->s = xstrdup(buf);
    }
    if (V(cfg, "CircuitBuildTimeout")->i < 10 && V(cfg, "LearnCircuitBuildTimeout")->i == 0)
        om_warn("CircuitBuildTimeout is shorter than the recommended minimum (10 seconds) and "
                "LearnCircuitBuildTimeout is 0; if circuits fail, raise it");
    int64_t mm = V(cfg, "MaxMemInQueues")->i;
    if (mm && mm < (256ll << 20) && !testing)
        om_warn("MaxMemInQueues is set to a low value; if onionmesh doesn't work, this may be "
                "why");
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Logging */

int om_config_apply_logging(const om_config_t *cfg)
{
    size_t n;
    const char *const *lines = om_config_get_lines(cfg, "Log", &n);
    if (n == 0) return 0;
    om_log_spec_t best, cur;
    bool have = false;
    size_t best_i = 0;
    for (size_t i = 0; i < n; i++) {
        if (om_config_parse_log(lines[i], &cur, NULL, 0) < 0)
            continue; /* can't happen: checked when set */
        if (!have || cur.min < best.min) {
            best = cur;
            best_i = i;
            have = true;
        }
    }
    if (!have) return 0;
    int rc = 0;
    if (best.dest == OM_LOG_DEST_FILE) {
        if (om_log_set_file(best.path) < 0) {
            fprintf(stderr, "onionmesh: cannot open log file \"%s\": %s\n", best.path,
                    strerror(errno));
            rc = -1;
        }
    } else if (best.dest == OM_LOG_DEST_STDOUT) {
        if (om_log_set_file("/dev/stdout") < 0) om_log_set_file(NULL);
    } else {
        om_log_set_file(NULL);
    }
    om_log_set_level(best.min);
    if (best.dest == OM_LOG_DEST_SYSLOG)
        om_notice("Log ... syslog: onionmesh logs to stderr instead");
    if (n > 1)
        om_info("%zu Log lines: onionmesh logs to one destination, using \"Log %s\"", n,
                lines[best_i]);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Help and dump */

static const char *type_args(om_conf_type_t t)
{
    switch (t) {
    case OM_CONF_BOOL:
        return "0|1";
    case OM_CONF_AUTOBOOL:
        return "0|1|auto";
    case OM_CONF_INT:
        return "NUM";
    case OM_CONF_DOUBLE:
        return "NUM";
    case OM_CONF_INTERVAL:
        return "N seconds|minutes|hours|days|weeks";
    case OM_CONF_MEMUNIT:
        return "N bytes|KBytes|MBytes|GBytes|TBytes|KBits|MBits|GBits|TBits";
    case OM_CONF_PATH:
        return "FILENAME";
    case OM_CONF_CSV:
        return "item,item,...";
    case OM_CONF_PORT:
        return "[address:]port|auto|0";
    default:
        return "VALUE";
    }
}

void om_config_print_help(FILE *out)
{
    fprintf(out,
            "Usage: onionmesh [-f FILE] [--Option value ...]\n"
            "       onionmesh --help | --version | --verify-config | --list-fingerprint\n"
            "\n"
            "Command-line flags:\n"
            "  -f FILE, --torrc-file FILE  read the configuration from FILE (torrc syntax)\n"
            "  --ignore-missing-torrc      treat a missing -f FILE as empty\n"
            "  --verify-config             check the configuration and exit\n"
            "  --list-fingerprint          print this relay's identity fingerprint and exit\n"
            "  -h, --help                  this help\n"
            "  --version                   print the version and exit\n"
            "  --Option value              set an option (wins over the file); --+Option value\n"
            "                              appends to a repeatable option, --/Option clears it\n"
            "\n"
            "Options (\"Option value\" lines in the file; names are case-insensitive):\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        const opt_def_t *d = &opts[i];
        fprintf(out, "  %s %s\n      %s", d->name, d->args ? d->args : type_args(d->type), d->help);
        if (d->flags & OPT_DEFAULT_AUTHS)
            fprintf(out, " (Default: the public Tor network's authorities)");
        else if (d->def)
            fprintf(out, " (Default: %s)", d->def);
        if (is_list_type(d->type) && !(d->flags & OPT_LAST_WINS)) fprintf(out, " [repeatable]");
        fputc('\n', out);
    }
}

/* A value as torrc text: bare when safe, otherwise a C-style quoted string. */
static void put_value(FILE *out, const char *s)
{
    size_t n = strlen(s);
    bool quote = n == 0 || is_space(s[0]) || is_space(s[n - 1]) || s[0] == '"' || s[n - 1] == '\\';
    for (size_t i = 0; !quote && i < n; i++)
        quote = s[i] == '#' || s[i] == '\n' || (unsigned char)s[i] < 0x20;
    if (!quote) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p == '\r')
            fputs("\\r", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void dump_option(FILE *out, const opt_def_t *d, const val_t *v, const char *prefix)
{
    if (!is_list_type(d->type)) {
        if (!v->s) return;
        fprintf(out, "%s%s ", prefix, d->name);
        if (d->type == OM_CONF_DOUBLE) {
            char buf[64];
            snprintf(buf, sizeof buf, "%.17g", v->d);
            fputs(buf, out);
        } else {
            put_value(out, v->s);
        }
        fputc('\n', out);
        return;
    }
    if (d->type == OM_CONF_CSV) {
        if (!v->n_lines) return;
        fprintf(out, "%s%s ", prefix, d->name);
        for (size_t i = 0; i < v->n_lines; i++)
            fprintf(out, "%s%s", i ? "," : "", v->lines[i]);
        fputc('\n', out);
        return;
    }
    if (v->origin > ORIGIN_DEFAULT && v->n_lines == 0) {
        fprintf(out, "/%s\n", d->name); /* cleared */
        return;
    }
    for (size_t i = 0; i < v->n_lines; i++) {
        fprintf(out, "%s%s ", prefix, d->name);
        put_value(out, v->lines[i]);
        fputc('\n', out);
    }
}

void om_config_dump(const om_config_t *cfg, FILE *out)
{
    fprintf(out, "# onionmesh configuration (options at their default are commented out)\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        const val_t *v = &cfg->vals[i];
        dump_option(out, &opts[i], v, v->origin > ORIGIN_DEFAULT ? "" : "# ");
    }
}
