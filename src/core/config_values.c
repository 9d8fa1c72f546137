/* config_values.c — value checks the configuration engine offers to every table: IPv4/IPv6
 * address patterns (`man tor` ExitPolicy), relay nicknames and fingerprints, host names, tor
 * routerset items and MyFamily items, and DirAuthority lines (`man tor` DirAuthority). */
#include "core/config_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool om_config_legal_nickname(const char *s, size_t n)
{
    if (n == 0 || n > OM_CONFIG_NICKNAME_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i])) return false;
    return true;
}

/* "*" | N | N-M, ports 0..65535. */
static int parse_port_range(const char *s, char *reason, size_t reasonlen)
{
    if (!strcmp(s, "*")) return 0;
    const char *dash = strchr(s, '-');
    unsigned long lo, hi;
    if (dash) {
        char *a = om_cfg_strndup(s, (size_t)(dash - s));
        bool ok = om_cfg_parse_ulong(a, 65535, &lo) && om_cfg_parse_ulong(dash + 1, 65535, &hi);
        free(a);
        if (!ok) {
            om_cfg_seterr(reason, reasonlen, "\"%s\" is not a port range", s);
            return -1;
        }
        if (lo > hi) {
            om_cfg_seterr(reason, reasonlen, "port range \"%s\" is backwards", s);
            return -1;
        }
        return 0;
    }
    if (!om_cfg_parse_ulong(s, 65535, &lo)) {
        om_cfg_seterr(reason, reasonlen, "\"%s\" is not a port", s);
        return -1;
    }
    return 0;
}

int om_config_parse_addr_pattern(const char *s, bool allow_private, int *family, char *reason,
                                 size_t reasonlen)
{
    char *addr = NULL;
    const char *rest; /* after the address: "", "/mask...", ":ports" */
    *family = 0;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close) {
            om_cfg_seterr(reason, reasonlen, "\"%s\": missing ']'", s);
            return -1;
        }
        addr = om_cfg_strndup(s + 1, (size_t)(close - s - 1));
        rest = close + 1;
        if (om_cfg_parse_ip(addr, NULL, 0) != 6) {
            om_cfg_seterr(reason, reasonlen, "\"%s\" is not an IPv6 address", addr);
            free(addr);
            return -1;
        }
        *family = 6;
    } else {
        size_t n = strcspn(s, "/:");
        addr = om_cfg_strndup(s, n);
        rest = s + n;
        if (!strcmp(addr, "*")) {
            *family = 0;
        } else if (!strcmp(addr, "*4")) {
            *family = 4;
        } else if (!strcmp(addr, "*6")) {
            *family = 6;
        } else if (allow_private && !strcasecmp(addr, "private")) {
            *family = 0;
        } else if (om_cfg_parse_ip(addr, NULL, 0) == 4) {
            *family = 4;
        } else {
            om_cfg_seterr(reason, reasonlen, "\"%s\" is not an address pattern", s);
            free(addr);
            return -1;
        }
    }
    bool wildcard = addr[0] == '*' || !strcasecmp(addr, "private");
    free(addr);
    if (*rest == '/') {
        size_t n = strcspn(rest + 1, ":");
        char *mask = om_cfg_strndup(rest + 1, n);
        unsigned long bits;
        bool ok = !wildcard && (om_cfg_parse_ulong(mask, *family == 6 ? 128 : 32, &bits) ||
                                (*family == 4 && om_cfg_parse_ip(mask, NULL, 0) == 4));
        if (!ok) om_cfg_seterr(reason, reasonlen, "bad mask \"/%s\" in \"%s\"", mask, s);
        free(mask);
        if (!ok) return -1;
        rest += 1 + n;
    }
    if (*rest == ':') return parse_port_range(rest + 1, reason, reasonlen);
    if (*rest) {
        om_cfg_seterr(reason, reasonlen, "\"%s\" is not an address pattern", s);
        return -1;
    }
    return 0;
}

/* DirAuthority (`man tor`: "DirAuthority [nickname] [flags] ipv4address:dirport fingerprint") */

/* "ipv6=[address]:orport". */
static int parse_dirauth_ipv6(const char *s, om_dir_authority_t *a, char *reason)
{
    const char *close = s[0] == '[' ? strchr(s, ']') : NULL;
    char host[OM_CONFIG_ADDR_LEN];
    unsigned long v;
    if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof host)
        return om_errf(reason, REASON_LEN, "ipv6= wants [address]:port, not \"%s\"", s);
    memcpy(host, s + 1, (size_t)(close - s - 1));
    host[close - s - 1] = '\0';
    if (om_cfg_parse_ip(host, a->ipv6, sizeof a->ipv6) != 6 ||
        !om_cfg_parse_ulong(close + 2, 65535, &v) || v == 0)
        return om_errf(reason, REASON_LEN, "ipv6= wants [address]:port, not \"%s\"", s);
    a->has_ipv6 = true;
    a->ipv6_or_port = (uint16_t)v;
    return 0;
}

/* One flag word of a DirAuthority line. */
static int parse_dirauth_flag(const char *f, om_dir_authority_t *a, const char *where, char *reason)
{
    unsigned long v;
    if (!strcasecmp(f, "bridge")) {
        a->is_bridge = true;
    } else if (!strcasecmp(f, "no-v2")) {
        a->no_v2 = true;
    } else if (!strcasecmp(f, "hs") || !strcasecmp(f, "no-hs") || !strcasecmp(f, "v1")) {
        /* obsolete flags tor still accepts */
    } else if (!strncasecmp(f, "orport=", 7)) {
        if (!om_cfg_parse_ulong(f + 7, 65535, &v) || v == 0)
            return om_errf(reason, REASON_LEN, "bad orport \"%s\"", f + 7);
        a->or_port = (uint16_t)v;
    } else if (!strncasecmp(f, "weight=", 7)) {
        char *end;
        errno = 0;
        double wt = strtod(f + 7, &end);
        if (errno || end == f + 7 || *end || !(wt >= 0) || !isfinite(wt))
            return om_errf(reason, REASON_LEN, "bad weight \"%s\"", f + 7);
        a->weight = wt;
    } else if (!strncasecmp(f, "v3ident=", 8)) {
        if (om_cfg_hex_decode(f + 8, strlen(f + 8), a->v3ident, 20) < 0)
            return om_errf(reason, REASON_LEN, "v3ident \"%s\" is not 40 hex digits", f + 8);
        a->has_v3ident = true;
    } else if (!strncasecmp(f, "ipv6=", 5)) {
        return parse_dirauth_ipv6(f + 5, a, reason);
    } else {
        /* tor warns and ignores unknown flags */
        om_warn("%s: DirAuthority: unrecognized flag \"%s\" (ignored)", where, f);
    }
    return 0;
}

/* "ipv4address:dirport" and the fingerprint words after it. */
static int parse_dirauth_address(char **w, size_t n, om_dir_authority_t *a, char *reason)
{
    const char *colon = strchr(w[0], ':');
    char host[16];
    unsigned long dp;
    if (!colon || (size_t)(colon - w[0]) >= sizeof host)
        return om_errf(reason, REASON_LEN, "\"%s\" is not ipv4address:dirport", w[0]);
    memcpy(host, w[0], (size_t)(colon - w[0]));
    host[colon - w[0]] = '\0';
    if (om_cfg_parse_ip(host, a->ipv4, sizeof a->ipv4) != 4)
        return om_errf(reason, REASON_LEN, "\"%s\" is not an IPv4 address", host);
    if (!om_cfg_parse_ulong(colon + 1, 65535, &dp) || dp == 0)
        return om_errf(reason, REASON_LEN, "\"%s\" is not a port", colon + 1);
    a->dir_port = (uint16_t)dp;
    /* Fingerprint: the rest, spaces removed ("9695 DFC3 ..." or 40 hex digits). */
    char fp[41];
    size_t fl = 0;
    for (size_t j = 1; j < n; j++) {
        size_t l = strlen(w[j]);
        if (fl + l > 40) {
            fl = 41;
            break;
        }
        memcpy(fp + fl, w[j], l);
        fl += l;
    }
    if (fl != 40 || om_cfg_hex_decode(fp, 40, a->rsa_fp, 20) < 0)
        return om_errf(reason, REASON_LEN, "fingerprint is not 40 hex digits");
    return 0;
}

int om_cfg_parse_dirauth(const char *value, om_dir_authority_t *a, const char *where, char *reason)
{
    memset(a, 0, sizeof *a);
    a->weight = 1.0;
    size_t n;
    char **w = om_cfg_split_ws(value, &n);
    size_t i = 0;
    int rc = -1;
    if (n == 0) {
        om_cfg_seterr(reason, REASON_LEN, "empty DirAuthority line");
        goto out;
    }
    if (om_config_legal_nickname(w[0], strlen(w[0]))) {
        snprintf(a->nickname, sizeof a->nickname, "%s", w[0]);
        i++;
    }
    for (; i < n && !isdigit((unsigned char)w[i][0]); i++)
        if (parse_dirauth_flag(w[i], a, where, reason) < 0) goto out;
    if (n - i < 2) {
        om_cfg_seterr(reason, REASON_LEN, "needs ipv4address:dirport and a fingerprint");
        goto out;
    }
    rc = parse_dirauth_address(w + i, n - i, a, reason);
out:
    om_cfg_free_strv(w);
    return rc;
}

int om_config_parse_dir_authority(const char *value, om_dir_authority_t *out, char *err,
                                  size_t errlen)
{
    char reason[REASON_LEN];
    if (om_cfg_parse_dirauth(value, out, "config", reason) < 0) {
        om_cfg_seterr(err, errlen, "%s", reason);
        return -1;
    }
    return 0;
}

/* ---- Check functions for tables ---- */

int om_config_check_address(const char *value, om_config_value_t *v, const char *where,
                            char *reason, size_t reasonlen)
{
    (void)v;
    (void)where;
    char buf[OM_CONFIG_ADDR_LEN + 2];
    size_t n = strlen(value);
    if (value[0] == '[' && n >= 2 && value[n - 1] == ']' && n - 2 < sizeof buf) {
        memcpy(buf, value + 1, n - 2);
        buf[n - 2] = '\0';
        if (om_cfg_parse_ip(buf, NULL, 0) == 6) return 0;
    }
    if (om_cfg_parse_ip(value, NULL, 0)) return 0;
    bool ok = n <= 253 && value[0] != '-' && value[0] != '.';
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)value[i]) || value[i] == '-' || value[i] == '.';
    if (!ok) {
        om_cfg_seterr(reason, reasonlen, "\"%s\" is not an IP address or host name", value);
        return -1;
    }
    return 0;
}

int om_config_check_nickname(const char *value, om_config_value_t *v, const char *where,
                             char *reason, size_t reasonlen)
{
    (void)v;
    (void)where;
    if (!om_config_legal_nickname(value, strlen(value))) {
        om_cfg_seterr(reason, reasonlen,
                      "\"%s\": nicknames are 1 to 19 characters, only [a-zA-Z0-9]", value);
        return -1;
    }
    return 0;
}

bool om_config_is_fingerprint_item(const char *s)
{
    if (*s == '$') s++;
    uint8_t tmp[20];
    if (strlen(s) < 40 || om_cfg_hex_decode(s, 40, tmp, 20) < 0) return false;
    s += 40;
    if (!*s) return true;
    return (*s == '=' || *s == '~') && om_config_legal_nickname(s + 1, strlen(s + 1));
}

int om_config_check_routerset_item(const char *value, om_config_value_t *v, const char *where,
                                   char *reason, size_t reasonlen)
{
    (void)v;
    (void)where;
    if (om_config_is_fingerprint_item(value)) return 0;
    size_t n = strlen(value);
    if (value[0] == '{') {
        if (n == 4 && value[3] == '}' &&
            ((isalpha((unsigned char)value[1]) && isalnum((unsigned char)value[2])) ||
             (value[1] == '?' && value[2] == '?')))
            return 0;
        om_cfg_seterr(reason, reasonlen, "\"%s\" is not a {country code}", value);
        return -1;
    }
    if (value[0] != '$' && om_config_legal_nickname(value, n)) return 0;
    int fam;
    char tmp[REASON_LEN];
    if (value[0] != '$' && om_config_parse_addr_pattern(value, false, &fam, tmp, sizeof tmp) == 0)
        return 0;
    om_cfg_seterr(reason, reasonlen,
                  "\"%s\" is not a $fingerprint, nickname, {country code} or address pattern",
                  value);
    return -1;
}

int om_config_check_family_item(const char *value, om_config_value_t *v, const char *where,
                                char *reason, size_t reasonlen)
{
    (void)v;
    (void)where;
    if (om_config_is_fingerprint_item(value) ||
        (value[0] != '$' && om_config_legal_nickname(value, strlen(value))))
        return 0;
    om_cfg_seterr(reason, reasonlen, "\"%s\" is not a $fingerprint or nickname", value);
    return -1;
}
