/* exit_policy.c — tor's exit policies (exit_policy.h). Behaviour follows tor 0.4.9: the parser
 * as router_parse_addr_policy_item_from_string + tor_addr_parse_mask_ports, the relay's policy
 * as policies_parse_exit_policy_from_options, the matching as compare_tor_addr_to_addr_policy,
 * the output as policy_write_item / policy_summarize. */
#include "or/exit_policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

/* tor's private_nets: expanded for "private", and ignored by the summary's reject count. */
static const char *const private_nets[] = {
    "0.0.0.0/8", "169.254.0.0/16", "127.0.0.0/8", "192.168.0.0/16", "10.0.0.0/8", "172.16.0.0/12",
    "[::]/8",    "[fc00::]/7",     "[fe80::]/10", "[fec0::]/10",    "[ff00::]/8", "[::]/127",
};
#define N_PRIVATE (sizeof private_nets / sizeof private_nets[0])

#define DEFAULT_EXIT_POLICY                                                                        \
    "reject *:25,reject *:119,reject *:135-139,reject *:445,reject *:563,reject *:1214,"           \
    "reject *:4661-4666,reject *:6346-6429,reject *:6699,reject *:6881-6999,accept *:*"

/* ReducedExitPolicy as tor 0.4.9 has it (18080-18081 and 18089 are newer than 0.4.7). */
#define REDUCED_EXIT_POLICY                                                                        \
    "accept *:20-23,accept *:43,accept *:53,accept *:79-81,accept *:88,accept *:110,"              \
    "accept *:143,accept *:194,accept *:220,accept *:389,accept *:443,accept *:464,"               \
    "accept *:465,accept *:531,accept *:543-544,accept *:554,accept *:563,accept *:587,"           \
    "accept *:636,accept *:706,accept *:749,accept *:873,accept *:902-904,accept *:981,"           \
    "accept *:989-995,accept *:1194,accept *:1220,accept *:1293,accept *:1500,"                    \
    "accept *:1533,accept *:1677,accept *:1723,accept *:1755,accept *:1863,"                       \
    "accept *:2082-2083,accept *:2086-2087,accept *:2095-2096,accept *:2102-2104,"                 \
    "accept *:3128,accept *:3389,accept *:3690,accept *:4321,accept *:4643,accept *:5050,"         \
    "accept *:5190,accept *:5222-5223,accept *:5228,accept *:5900,accept *:6660-6669,"             \
    "accept *:6679,accept *:6697,accept *:8000,accept *:8008,accept *:8074,accept *:8080,"         \
    "accept *:8082,accept *:8087-8088,accept *:8232-8233,accept *:8332-8333,accept *:8443,"        \
    "accept *:8888,accept *:9418,accept *:9999,accept *:10000,accept *:11371,"                     \
    "accept *:18080-18081,accept *:18089,accept *:19294,"                                          \
    "accept *:19638,accept *:50002,accept *:64738,reject *:*"

/* tor's MAX_ADDRESS_LENGTH for an ADDR[/MASK][:PORTS] argument. */
#define MAX_PATTERN_LEN 80

static int addr_len(int family)
{
    return family == AF_INET6 ? 16 : 4;
}
static int addr_bits(int family)
{
    return family == AF_INET6 ? 128 : 32;
}

/* ------------------------------------------------------------------------------------------ */
/* Rule list */

static int push(om_exit_policy_t *p, const om_exit_rule_t *r)
{
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 32;
        om_exit_rule_t *nr = realloc(p->rules, nc * sizeof *nr);
        if (!nr) return -1;
        p->rules = nr;
        p->cap = nc;
    }
    p->rules[p->n++] = *r;
    return 0;
}

static void del_keep_order(om_exit_policy_t *p, size_t i)
{
    memmove(p->rules + i, p->rules + i + 1, (p->n - i - 1) * sizeof *p->rules);
    p->n--;
}

void om_exit_policy_free(om_exit_policy_t *p)
{
    if (!p) return;
    free(p->rules);
    memset(p, 0, sizeof *p);
}

void om_exit_policy_options_init(om_exit_policy_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->exit_relay = -1;
    o->reject_private = true;
}

/* ------------------------------------------------------------------------------------------ */
/* Addresses */

/* Compare the first mbits bits of two addresses of one family: 0 if equal. */
static int masked_cmp(const om_exit_addr_t *a, const om_exit_addr_t *b, int mbits)
{
    if (a->family != b->family) return a->family < b->family ? -1 : 1;
    int max = addr_bits(a->family);
    if (mbits > max) mbits = max;
    int bytes = mbits / 8, left = mbits % 8;
    int r = bytes ? memcmp(a->bytes, b->bytes, (size_t)bytes) : 0;
    if (r || !left) return r;
    unsigned x = a->bytes[bytes] >> (8 - left), y = b->bytes[bytes] >> (8 - left);
    return x == y ? 0 : (x < y ? -1 : 1);
}

static bool addr_is_null(const om_exit_addr_t *a)
{
    if (a->family != AF_INET && a->family != AF_INET6) return true;
    for (int i = 0; i < addr_len(a->family); i++)
        if (a->bytes[i]) return false;
    return true;
}

static bool is_v4_mapped(const om_exit_addr_t *a)
{
    static const uint8_t pre[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return a->family == AF_INET6 && !memcmp(a->bytes, pre, 12);
}

static uint32_t v4h(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* tor's tor_addr_is_public_for_reject: not null, not internal (tor_addr_is_internal, not for
 * listening), not multicast (tor's test: 224/8 and ff00::/8). */
static bool public_for_reject(const om_exit_addr_t *a)
{
    if (addr_is_null(a)) return false;
    const uint8_t *b = a->bytes;
    bool v4 = a->family == AF_INET || is_v4_mapped(a);
    if (v4) {
        uint32_t h = v4h(a->family == AF_INET ? b : b + 12);
        if ((h & 0xff000000u) == 0x0a000000u || (h & 0xff000000u) == 0 ||
            (h & 0xff000000u) == 0x7f000000u || (h & 0xffc00000u) == 0x64400000u ||
            (h & 0xffff0000u) == 0xa9fe0000u || (h & 0xfff00000u) == 0xac100000u ||
            (h & 0xffff0000u) == 0xc0a80000u)
            return false;
    } else {
        uint32_t w0 = v4h(b);
        if ((w0 & 0xfe000000u) == 0xfc000000u || (w0 & 0xffc00000u) == 0xfe800000u ||
            (w0 & 0xffc00000u) == 0xfec00000u)
            return false;
        static const uint8_t z[15];
        if (!memcmp(b, z, 15) && (b[15] & 0xfe) == 0) return false;
    }
    if (a->family == AF_INET) return (b[0]) != 0xe0;
    return b[0] != 0xff;
}

int om_exit_addr_parse(om_exit_addr_t *out, const char *s)
{
    char buf[64];
    size_t n = strlen(s);
    memset(out, 0, sizeof *out);
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        if (n - 2 >= sizeof buf) return -1;
        memcpy(buf, s + 1, n - 2);
        buf[n - 2] = '\0';
        if (inet_pton(AF_INET6, buf, out->bytes) != 1) return -1;
        out->family = AF_INET6;
        return 0;
    }
    if (inet_pton(AF_INET, s, out->bytes) == 1) {
        out->family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out->bytes) == 1) {
        out->family = AF_INET6;
        return 0;
    }
    memset(out, 0, sizeof *out);
    return -1;
}

int om_exit_addr_from_sockaddr(om_exit_addr_t *out, const struct sockaddr *sa)
{
    memset(out, 0, sizeof *out);
    if (!sa) return -1;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        out->family = AF_INET;
        memcpy(out->bytes, &in->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        out->family = AF_INET6;
        memcpy(out->bytes, &in6->sin6_addr, 16);
        return 0;
    }
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing one item: "accept|reject|accept6|reject6 PATTERN" */

/* A decimal number as tor's tor_parse_long reads it (strtol, base 10: an optional sign, then
 * digits), the whole of s, within lo..hi. */
static bool parse_num(const char *s, long lo, long hi, long *out)
{
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    if (!isdigit((unsigned char)*p)) return false;
    long v = 0;
    for (; isdigit((unsigned char)*p); p++) {
        if (v > 100000) return false; /* far out of any range here */
        v = v * 10 + (*p - '0');
    }
    if (*p) return false;
    if (neg) v = -v;
    if (v < lo || v > hi) return false;
    *out = v;
    return true;
}

/* tor's parse_port_range: "" or "*" = 1-65535, "N", "N-M" with 1 <= N <= M <= 65535. */
static int parse_ports(const char *s, uint16_t *lo, uint16_t *hi, char *err, size_t errlen)
{
    if (!s || !*s || !strcmp(s, "*")) {
        *lo = 1;
        *hi = 65535;
        return 0;
    }
    char buf[MAX_PATTERN_LEN + 1];
    snprintf(buf, sizeof buf, "%s", s);
    char *dash = strchr(buf, '-');
    /* A leading '-' is a sign (and so out of range), as strtol reads it. */
    if (dash == buf) dash = strchr(buf + 1, '-');
    if (dash) *dash = '\0';
    long a, b;
    if (!parse_num(buf, 1, 65535, &a) || (dash && !parse_num(dash + 1, 1, 65535, &b)))
        return om_errf(err, errlen, "malformed port \"%s\" (ports are 1-65535: N, N-M or *)", s);
    if (!dash) b = a;
    if (a > b) return om_errf(err, errlen, "port range \"%s\" ends before it starts", s);
    *lo = (uint16_t)a;
    *hi = (uint16_t)b;
    return 0;
}

/* Number of leading one bits of a contiguous IPv4 netmask, or -1. */
static int mask_bits(uint32_t m)
{
    for (int i = 0; i <= 32; i++)
        if (m == (i ? ~((i == 32 ? 0u : (1u << (32 - i))) - 1) : 0u)) return i;
    return -1;
}

typedef enum { ANY_NONE, ANY_BOTH, ANY_4, ANY_6 } any_t;

/* tor_addr_parse_mask_ports with TAPMP_EXTENDED_STAR (v6_star: TAPMP_STAR_IPV6_ONLY). */
static int parse_pattern(const char *s, bool v6_star, om_exit_rule_t *r, any_t *any, char *err,
                         size_t errlen)
{
    if (strlen(s) > MAX_PATTERN_LEN) return om_errf(err, errlen, "address pattern too long");
    char base[MAX_PATTERN_LEN + 1];
    strcpy(base, s);
    char *address = base, *rbracket = NULL;
    if (*address == '[') {
        address++;
        rbracket = strchr(address, ']');
        if (!rbracket) return om_errf(err, errlen, "no closing ']' after the IPv6 address");
    }
    char *mask = strchr(rbracket ? rbracket : address, '/');
    char *port = strchr(mask ? mask : (rbracket ? rbracket : address), ':');
    if (port) *port++ = '\0';
    if (mask) *mask++ = '\0';
    if (rbracket) {
        if (rbracket[1]) return om_errf(err, errlen, "unexpected text after ']'");
        *rbracket = '\0';
    }

    *any = ANY_NONE;
    memset(&r->addr, 0, sizeof r->addr);
    if (!strcmp(address, "*") && !rbracket) {
        *any = v6_star ? ANY_6 : ANY_BOTH;
        r->addr.family = v6_star ? AF_INET6 : AF_INET;
    } else if (!strcmp(address, "*4") && !rbracket) {
        *any = ANY_4;
        r->addr.family = AF_INET;
    } else if (!strcmp(address, "*6") && !rbracket) {
        *any = ANY_6;
        r->addr.family = AF_INET6;
    } else if (inet_pton(AF_INET6, address, r->addr.bytes) == 1) {
        r->addr.family = AF_INET6;
    } else if (inet_pton(AF_INET, address, r->addr.bytes) == 1) {
        r->addr.family = AF_INET;
    } else {
        return om_errf(err, errlen, "malformed IP address \"%s\"", address);
    }

    int bits;
    if (mask) {
        long v;
        struct in_addr m4;
        if (parse_num(mask, -1000, 1000, &v)) {
            if (v < 0 || v > 128 || (r->addr.family == AF_INET && v > 32))
                return om_errf(err, errlen, "bad number of mask bits (%ld)", v);
            bits = (int)v;
        } else if (inet_pton(AF_INET, mask, &m4) == 1) {
            bits = mask_bits(ntohl(m4.s_addr));
            if (bits < 0) return om_errf(err, errlen, "IPv4 mask \"%s\" is not a prefix", mask);
        } else {
            return om_errf(err, errlen, "malformed mask \"/%s\"", mask);
        }
        if (is_v4_mapped(&r->addr)) {
            /* tor maps masks of ::ffff:a.b.c.d onto 96-128 bits (and /128 onto /96). */
            if (bits > 32 && bits < 96)
                return om_errf(err, errlen, "bad mask bits %d for a v4-mapped IPv6 address", bits);
            bits = 96 + bits % 32;
        }
        if (*any != ANY_NONE)
            return om_errf(err, errlen, "a mask cannot follow a wildcard address");
    } else {
        bits = *any != ANY_NONE ? 0 : addr_bits(r->addr.family);
    }
    r->maskbits = (uint8_t)bits;
    return parse_ports(port, &r->port_min, &r->port_max, err, errlen);
}

static int parse_private(const om_exit_rule_t *proto, om_exit_policy_t *out);

/* Parse one item and append its rules to out. Returns 0, 1 (skipped with a warning) or -1. */
static int parse_item(const char *item, om_exit_policy_t *out, char *err, size_t errlen)
{
    const char *s = item;
    while (isspace((unsigned char)*s))
        s++;
    size_t kl = 0;
    while (s[kl] && !isspace((unsigned char)s[kl]))
        kl++;
    bool accept, six;
    if (kl == 6 && !strncmp(s, "accept", 6)) {
        accept = true, six = false;
    } else if (kl == 6 && !strncmp(s, "reject", 6)) {
        accept = false, six = false;
    } else if (kl == 7 && !strncmp(s, "accept6", 7)) {
        accept = true, six = true;
    } else if (kl == 7 && !strncmp(s, "reject6", 7)) {
        accept = false, six = true;
    } else {
        return om_errf(err, errlen, "expected accept, reject, accept6 or reject6");
    }
    const char *arg = s + kl;
    while (isspace((unsigned char)*arg))
        arg++;
    size_t al = 0;
    while (arg[al] && !isspace((unsigned char)arg[al]))
        al++;
    const char *rest = arg + al;
    while (isspace((unsigned char)*rest))
        rest++;
    if (!al) return om_errf(err, errlen, "missing address pattern");
    if (*rest) return om_errf(err, errlen, "one address pattern expected, found more");
    if (al > MAX_PATTERN_LEN) return om_errf(err, errlen, "address pattern too long");
    char pat[MAX_PATTERN_LEN + 1];
    memcpy(pat, arg, al);
    pat[al] = '\0';

    om_exit_rule_t r = {.accept = accept};
    if (!strncmp(pat, "private", 7)) {
        if (pat[7] != ':') return om_errf(err, errlen, "\"private\" must be followed by :PORTS");
        if (parse_ports(pat + 8, &r.port_min, &r.port_max, err, errlen) < 0) return -1;
        if (six) {
            /* tor 0.4.9 drops it: "private" is not an IPv6 address. */
            om_warn("ExitPolicy: \"%s\" ignored: accept6/reject6 need an IPv6 address (use "
                    "accept/reject private for both families)",
                    item);
            return 1;
        }
        return parse_private(&r, out) < 0 ? om_errf(err, errlen, "out of memory") : 0;
    }
    any_t any = ANY_NONE;
    if (parse_pattern(pat, six, &r, &any, err, errlen) < 0) return -1;
    if (six && r.addr.family != AF_INET6) {
        om_warn("ExitPolicy: \"%s\" ignored: accept6/reject6 need an IPv6 address (use "
                "accept/reject with IPv4 addresses)",
                item);
        return 1;
    }
    if (any == ANY_BOTH) {
        /* "*" is an IPv4 and an IPv6 wildcard (tor's policy_expand_unspec). */
        om_exit_rule_t r6 = r;
        r6.addr.family = AF_INET6;
        if (push(out, &r) < 0 || push(out, &r6) < 0) return om_errf(err, errlen, "out of memory");
        return 0;
    }
    return push(out, &r) < 0 ? om_errf(err, errlen, "out of memory") : 0;
}

/* Parse one of tor's fixed "ADDR/BITS" network strings (cannot fail on the built-in list). */
static void private_net(size_t i, om_exit_addr_t *a, uint8_t *bits)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%s", private_nets[i]);
    char *slash = strchr(buf, '/');
    *slash = '\0';
    *bits = (uint8_t)atoi(slash + 1);
    om_exit_addr_parse(a, buf);
}

static int parse_private(const om_exit_rule_t *proto, om_exit_policy_t *out)
{
    for (size_t i = 0; i < N_PRIVATE; i++) {
        om_exit_rule_t r = *proto;
        private_net(i, &r.addr, &r.maskbits);
        if (push(out, &r) < 0) return -1;
    }
    return 0;
}

int om_exit_policy_parse(om_exit_policy_t *p, const char *const *lines, size_t n_lines, char *err,
                         size_t errlen)
{
    om_exit_policy_t tmp = {0};
    for (size_t li = 0; li < n_lines; li++) {
        const char *line = lines[li] ? lines[li] : "";
        const char *start = line;
        for (;;) {
            const char *comma = strchr(start, ',');
            size_t len = comma ? (size_t)(comma - start) : strlen(start);
            while (len && isspace((unsigned char)*start))
                start++, len--;
            while (len && isspace((unsigned char)start[len - 1]))
                len--;
            if (len) {
                char *item = malloc(len + 1);
                if (!item) {
                    om_exit_policy_free(&tmp);
                    return om_errf(err, errlen, "out of memory");
                }
                memcpy(item, start, len);
                item[len] = '\0';
                char why[160] = "";
                int r = parse_item(item, &tmp, why, sizeof why);
                if (r < 0) om_errf(err, errlen, "ExitPolicy \"%.120s\": %s", item, why);
                free(item);
                if (r < 0) {
                    om_exit_policy_free(&tmp);
                    return -1;
                }
                if (tmp.n > OM_EXIT_POLICY_MAX_RULES) {
                    om_exit_policy_free(&tmp);
                    return om_errf(err, errlen, "ExitPolicy: more than %d rules",
                                   OM_EXIT_POLICY_MAX_RULES);
                }
            }
            if (!comma) break;
            start = comma + 1;
        }
    }
    for (size_t i = 0; i < tmp.n; i++)
        if (push(p, &tmp.rules[i]) < 0) {
            om_exit_policy_free(&tmp);
            return om_errf(err, errlen, "out of memory");
        }
    om_exit_policy_free(&tmp);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Building a relay's policy */

/* Append a built-in policy string (cannot fail to parse). */
static int append_string(om_exit_policy_t *p, const char *s)
{
    const char *lines[1] = {s};
    return om_exit_policy_parse(p, lines, 1, NULL, 0);
}

/* tor's addr_policy_covers: b is never reached past a (whatever either one says). */
static bool covers(const om_exit_rule_t *a, const om_exit_rule_t *b)
{
    if (a->addr.family != b->addr.family) return false;
    if (a->maskbits > b->maskbits) return false;
    if (masked_cmp(&a->addr, &b->addr, a->maskbits)) return false;
    return a->port_min <= b->port_min && a->port_max >= b->port_max;
}

/* tor's addr_policy_intersects. */
static bool intersects(const om_exit_rule_t *a, const om_exit_rule_t *b)
{
    int minbits = a->maskbits < b->maskbits ? a->maskbits : b->maskbits;
    if (masked_cmp(&a->addr, &b->addr, minbits)) return false;
    return !(a->port_max < b->port_min || b->port_max < a->port_min);
}

static bool all_ports(const om_exit_rule_t *r)
{
    return r->port_min <= 1 && r->port_max == 65535;
}

/* tor's exit_policy_remove_redundancies, its three steps. */
static void remove_redundancies(om_exit_policy_t *p)
{
    /* 1: nothing of a family after that family's catch-all. */
    bool kill4 = false, kill6 = false;
    for (size_t i = 0; i < p->n; i++) {
        const om_exit_rule_t *r = &p->rules[i];
        bool v6 = r->addr.family == AF_INET6;
        if (v6 ? kill6 : kill4) {
            del_keep_order(p, i--);
            continue;
        }
        if (r->maskbits == 0 && all_ports(r)) {
            if (v6)
                kill6 = true;
            else
                kill4 = true;
        }
    }
    /* 2: a later rule covered by an earlier one never decides. */
    for (size_t i = 0; i + 1 < p->n; i++)
        for (size_t j = i + 1; j < p->n; j++)
            if (covers(&p->rules[i], &p->rules[j])) del_keep_order(p, j--);
    /* 3: a rule covered by a later one of the same action, with no rule of the other action
     * in between that overlaps it, decides nothing the later one would not. */
    for (size_t i = 0; i + 1 < p->n; i++) {
        for (size_t j = i + 1; j < p->n; j++) {
            const om_exit_rule_t *a = &p->rules[i], *b = &p->rules[j];
            if (a->accept != b->accept) {
                if (intersects(a, b)) break;
            } else if (covers(b, a)) {
                del_keep_order(p, i);
                i--; /* wraps at 0; the loop's i++ brings it back */
                break;
            }
        }
    }
}

int om_exit_policy_set_reject_all(om_exit_policy_t *p)
{
    p->n = 0;
    return append_string(p, "reject *4:*,reject *6:*");
}

int om_exit_policy_build(om_exit_policy_t *out, const om_exit_policy_options_t *o, char *err,
                         size_t errlen)
{
    memset(out, 0, sizeof *out);
    om_exit_policy_t user = {0};
    if (om_exit_policy_parse(&user, o->lines, o->n_lines, err, errlen) < 0) return -1;

    bool nothing_set =
        o->n_lines == 0 && o->exit_relay == -1 && !o->reduced_exit_policy && !o->ipv6_exit;
    int rc = 0;
    if (o->exit_relay == 0 || nothing_set) {
        rc = om_exit_policy_set_reject_all(out);
        goto done;
    }
    if (!o->ipv6_exit) rc |= append_string(out, "reject *6:*");
    if (o->reject_private) {
        rc |= append_string(out, "reject private:*");
        /* The relay's own public addresses (tor: policies_parse_exit_policy_reject_private). */
        for (size_t i = 0; i < o->n_own_addrs; i++) {
            const om_exit_addr_t *a = &o->own_addrs[i];
            if (!public_for_reject(a)) continue;
            if (a->family == AF_INET6 && !is_v4_mapped(a) && !o->ipv6_exit) continue;
            om_exit_rule_t r = {.accept = false,
                                .maskbits = (uint8_t)addr_bits(a->family),
                                .port_min = 1,
                                .port_max = 65535,
                                .addr = *a};
            rc |= push(out, &r);
        }
    }
    remove_redundancies(out); /* tor does so here too: duplicate own addresses go */
    for (size_t i = 0; i < user.n; i++)
        rc |= push(out, &user.rules[i]);
    if (o->bridge_relay)
        rc |= append_string(out, "reject *4:*,reject *6:*");
    else
        rc |=
            append_string(out, o->reduced_exit_policy ? REDUCED_EXIT_POLICY : DEFAULT_EXIT_POLICY);
    remove_redundancies(out);
done:
    om_exit_policy_free(&user);
    if (rc) return om_errf(err, errlen, "ExitPolicy: out of memory");
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Decisions */

om_exit_result_t om_exit_policy_check(const om_exit_policy_t *p, const om_exit_addr_t *addr,
                                      uint16_t port)
{
    bool known = addr && !addr_is_null(addr);
    if (!known && port == 0) return OM_EXIT_REJECTED;
    /* An all-zero address of a family: an unknown address of that family (our extension). */
    int only =
        !known && addr && (addr->family == AF_INET || addr->family == AF_INET6) ? addr->family : 0;
    bool maybe_accept = false, maybe_reject = false;
    for (size_t i = 0; p && i < p->n; i++) {
        const om_exit_rule_t *r = &p->rules[i];
        bool addr_match, port_match, definite;
        if (only && r->addr.family != only) continue;
        if (known) {
            addr_match = !masked_cmp(addr, &r->addr, r->maskbits);
            if (!addr_match) continue;
            if (port) {
                if (port < r->port_min || port > r->port_max) continue;
                return r->accept ? OM_EXIT_ACCEPTED : OM_EXIT_REJECTED;
            }
            definite = all_ports(r);
        } else {
            port_match = r->port_min <= port && port <= r->port_max;
            if (!port_match) continue;
            definite = r->maskbits == 0;
        }
        if (definite) {
            if (r->accept) return maybe_reject ? OM_EXIT_PROBABLY_ACCEPTED : OM_EXIT_ACCEPTED;
            return maybe_accept ? OM_EXIT_PROBABLY_REJECTED : OM_EXIT_REJECTED;
        }
        if (r->accept)
            maybe_accept = true;
        else
            maybe_reject = true;
    }
    return maybe_reject ? OM_EXIT_PROBABLY_ACCEPTED : OM_EXIT_ACCEPTED;
}

static bool reject_star_family(const om_exit_policy_t *p, int family)
{
    for (size_t i = 0; i < p->n; i++) {
        const om_exit_rule_t *r = &p->rules[i];
        if (r->addr.family != family) continue;
        if (r->accept) return false;
        if (r->maskbits == 0 && all_ports(r)) return true;
    }
    return true;
}

bool om_exit_policy_is_reject_star(const om_exit_policy_t *p, int family)
{
    if (family == AF_UNSPEC)
        return reject_star_family(p, AF_INET) && reject_star_family(p, AF_INET6);
    return reject_star_family(p, family);
}

/* ------------------------------------------------------------------------------------------ */
/* Output */

/* tor's policy_write_item(format_for_desc = 1). */
static void write_rule(const om_exit_rule_t *r, char *buf, size_t len)
{
    bool v6 = r->addr.family == AF_INET6;
    char a[INET6_ADDRSTRLEN + 2] = "*";
    if (r->maskbits) {
        char t[INET6_ADDRSTRLEN];
        inet_ntop(r->addr.family, r->addr.bytes, t, sizeof t);
        snprintf(a, sizeof a, v6 ? "[%s]" : "%s", t);
    }
    int n = snprintf(buf, len, "%s%s %s", r->accept ? "accept" : "reject", v6 ? "6" : "", a);
    if (r->maskbits && r->maskbits < addr_bits(r->addr.family))
        n += snprintf(buf + n, len - (size_t)n, "/%d", r->maskbits);
    if (all_ports(r))
        snprintf(buf + n, len - (size_t)n, ":*");
    else if (r->port_min == r->port_max)
        snprintf(buf + n, len - (size_t)n, ":%u", r->port_min);
    else
        snprintf(buf + n, len - (size_t)n, ":%u-%u", r->port_min, r->port_max);
}

#define RULE_BUF 96

char *om_exit_policy_format(const om_exit_policy_t *p, bool ipv4, bool ipv6)
{
    char *s = malloc(p->n * RULE_BUF + 1), *w = s;
    if (!s) return NULL;
    *w = '\0';
    for (size_t i = 0; i < p->n; i++) {
        bool v6 = p->rules[i].addr.family == AF_INET6;
        if (v6 ? !ipv6 : !ipv4) continue;
        write_rule(&p->rules[i], w, RULE_BUF);
        w += strlen(w);
        *w++ = '\n';
        *w = '\0';
    }
    return s;
}

/* The summary: ports cut into pieces at every rule's bounds; each piece is accepted once an
 * accept of every address reaches it before rejects of more than tor's cutoff did (IPv4: more
 * than 2^25 addresses, two /8s; IPv6: more than 2^48 /64s, one /16; private networks and IPv6
 * rules narrower than /64 are not counted). */
static bool is_private_net(const om_exit_rule_t *r)
{
    for (size_t i = 0; i < N_PRIVATE; i++) {
        om_exit_addr_t a;
        uint8_t bits;
        private_net(i, &a, &bits);
        if (a.family == r->addr.family && bits == r->maskbits &&
            !memcmp(a.bytes, r->addr.bytes, (size_t)addr_len(a.family)))
            return true;
    }
    return false;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int append_range(char *buf, size_t len, size_t *off, uint32_t lo, uint32_t hi)
{
    int n = lo == hi ? snprintf(buf + *off, len - *off, "%s%u", *off ? "," : "", lo)
                     : snprintf(buf + *off, len - *off, "%s%u-%u", *off ? "," : "", lo, hi);
    if (n < 0 || (size_t)n >= len - *off) return -1;
    *off += (size_t)n;
    return 0;
}

int om_exit_policy_summary(const om_exit_policy_t *p, int family, char *buf, size_t buflen)
{
    bool v6 = family == AF_INET6;
    uint64_t cutoff = v6 ? (UINT64_C(1) << 48) : (UINT64_C(1) << 25);
    int scale = v6 ? 64 : 0, abits = v6 ? 128 : 32;
    /* Piece starts: 1, each counted rule's port_min and port_max + 1. */
    uint32_t *cut = malloc((2 * p->n + 2) * sizeof *cut);
    if (!cut) return -1;
    size_t nc = 0;
    cut[nc++] = 1;
    for (size_t i = 0; i < p->n; i++) {
        const om_exit_rule_t *r = &p->rules[i];
        if (r->addr.family != family) continue;
        cut[nc++] = r->port_min;
        cut[nc++] = (uint32_t)r->port_max + 1;
    }
    qsort(cut, nc, sizeof *cut, cmp_u32);
    size_t u = 0;
    for (size_t i = 0; i < nc; i++)
        if (cut[i] <= 65535 && (u == 0 || cut[i] != cut[u - 1])) cut[u++] = cut[i];
    nc = u;
    bool *acc = calloc(nc, sizeof *acc);
    if (!acc) {
        free(cut);
        return -1;
    }
    for (size_t k = 0; k < nc; k++) {
        uint32_t port = cut[k];
        uint64_t rejects = 0;
        for (size_t i = 0; i < p->n && !acc[k]; i++) {
            const om_exit_rule_t *r = &p->rules[i];
            if (r->addr.family != family || port < r->port_min || port > r->port_max) continue;
            if (r->accept) {
                if (r->maskbits == 0 && rejects <= cutoff) acc[k] = true;
            } else if (!is_private_net(r) && r->maskbits <= abits - scale) {
                int sh = abits - scale - r->maskbits;
                uint64_t c = sh >= 64 ? UINT64_MAX : UINT64_C(1) << sh;
                rejects = rejects > UINT64_MAX - c ? UINT64_MAX : rejects + c;
            }
        }
    }
    size_t alen = 0, rlen = 0, cap = nc * 12 + 16; /* "65535-65535," at most per piece */
    char *as = malloc(cap), *rs = malloc(cap);
    int rc = -1;
    if (!as || !rs) goto out;
    as[0] = rs[0] = '\0';
    for (size_t k = 0; k < nc;) {
        size_t e = k;
        while (e + 1 < nc && acc[e + 1] == acc[k])
            e++;
        uint32_t hi = e + 1 < nc ? cut[e + 1] - 1 : 65535;
        if (append_range(acc[k] ? as : rs, cap, acc[k] ? &alen : &rlen, cut[k], hi) < 0) goto out;
        k = e + 1;
    }
    const char *pre, *body;
    if (!alen) {
        pre = "reject", body = "1-65535";
    } else if (!rlen) {
        pre = "accept", body = "1-65535";
    } else if (rlen > OM_EXIT_POLICY_SUMMARY_MAX - 7 && alen > OM_EXIT_POLICY_SUMMARY_MAX - 7) {
        /* Both too long: the accepts, cut at the last ',' that fits (as tor). */
        char *c = as + (OM_EXIT_POLICY_SUMMARY_MAX - 7);
        while (c > as && *c != ',')
            c--;
        *c = '\0';
        pre = "accept", body = as;
    } else if (rlen < alen) {
        pre = "reject", body = rs;
    } else {
        pre = "accept", body = as;
    }
    int n = snprintf(buf, buflen, "%s %s", pre, body);
    rc = n >= 0 && (size_t)n < buflen ? 0 : -1;
out:
    free(as);
    free(rs);
    free(acc);
    free(cut);
    return rc;
}

char *om_exit_policy_descriptor_lines(const om_exit_policy_t *p)
{
    char sum[OM_EXIT_POLICY_SUMMARY_MAX + 16];
    if (om_exit_policy_summary(p, AF_INET6, sum, sizeof sum) < 0) return NULL;
    char *v4 =
        om_exit_policy_is_reject_star(p, AF_UNSPEC) ? NULL : om_exit_policy_format(p, true, false);
    const char *lines = v4 && *v4 ? v4 : "reject *:*\n";
    bool six = strcmp(sum, "reject 1-65535") != 0;
    size_t n = strlen(lines) + (six ? strlen(sum) + 14 : 0) + 1;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s%s%s%s", lines, six ? "ipv6-policy " : "", six ? sum : "",
                 six ? "\n" : "");
    free(v4);
    return out;
}
