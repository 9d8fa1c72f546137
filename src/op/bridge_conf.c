/* bridge_conf.c — parsing a Bridge line (bridge_conf.h), following tor's parse_bridge_line
 * (src/app/config/config.c) where it is stricter than the man page: the first word is a
 * transport if it is a C identifier; the address must be numeric (IPv4: onionmesh's client
 * reaches relays over IPv4); KEY=VALUE only with a transport. */
#include "op/bridge_conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"

#define MAX_WORDS 32

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static bool is_c_identifier(const char *s)
{
    if (!*s || !(isalpha((unsigned char)*s) || *s == '_')) return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_')) return false;
    return true;
}

/* KEY=VALUE with a non-empty key of [A-Za-z0-9_-] (tor: string_is_key_value, key non-empty). */
static bool is_key_value(const char *s)
{
    const char *eq = strchr(s, '=');
    if (!eq || eq == s) return false;
    for (const char *p = s; p < eq; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-')) return false;
    return true;
}

static int parse_addrport(const char *s, om_bridge_conf_t *out, char *err, size_t errlen)
{
    if (s[0] == '[' || strchr(s, ':') != strrchr(s, ':'))
        return fail(err, errlen,
                    "\"%s\": onionmesh's client reaches bridges over IPv4 only (no IPv6 address)",
                    s);
    const char *colon = strchr(s, ':');
    size_t hl = colon ? (size_t)(colon - s) : strlen(s);
    char host[16];
    struct in_addr a;
    if (hl == 0) return fail(err, errlen, "\"%s\": expected IPV4[:PORT]", s);
    if (hl < sizeof host) {
        memcpy(host, s, hl);
        host[hl] = 0;
    }
    if (hl >= sizeof host || inet_pton(AF_INET, host, &a) != 1)
        return fail(err, errlen, "\"%s\": the address must be a numeric IPv4 address", s);
    unsigned long port = 443; /* tor's default for Bridge lines */
    if (colon) {
        char *end;
        const char *p = colon + 1;
        if (!isdigit((unsigned char)*p)) return fail(err, errlen, "\"%s\": bad port", s);
        port = strtoul(p, &end, 10);
        if (*end || port == 0 || port > 65535)
            return fail(err, errlen, "\"%s\": port must be 1..65535", s);
    }
    snprintf(out->host, sizeof out->host, "%s", host);
    out->port = (uint16_t)port;
    return 0;
}

static int parse_fp(const char *hex, om_bridge_conf_t *out, char *err, size_t errlen)
{
    if (hex[0] == '$') hex++;
    if (strlen(hex) != 40 || om_hex_decode(hex, 40, out->rsa_fp, 20) < 0)
        return fail(err, errlen,
                    "\"%s\": the fingerprint must be 40 hex digits (the bridge's RSA identity)",
                    hex);
    return 0;
}

static int add_arg(const char *kv, om_bridge_conf_t *out, char *err, size_t errlen)
{
    if (!is_key_value(kv)) return fail(err, errlen, "\"%s\": expected KEY=VALUE", kv);
    if (out->n_args >= OM_BRIDGE_MAX_ARGS) return fail(err, errlen, "too many KEY=VALUE arguments");
    const char *eq = strchr(kv, '=');
    size_t kl = (size_t)(eq - kv), vl = strlen(eq + 1);
    if (kl > OM_BRIDGE_KEY_MAX || vl > OM_BRIDGE_VALUE_MAX)
        return fail(err, errlen, "\"%.40s...\": key or value too long", kv);
    om_bridge_arg_t *a = &out->args[out->n_args++];
    memcpy(a->key, kv, kl);
    a->key[kl] = 0;
    memcpy(a->value, eq + 1, vl + 1);
    return 0;
}

/* Split on spaces and tabs into words (pointers into buf). */
static size_t split(char *buf, char **w, size_t max)
{
    size_t n = 0;
    for (char *p = buf; *p && n < max;) {
        p += strspn(p, " \t\r\n");
        if (!*p) break;
        w[n++] = p;
        p += strcspn(p, " \t\r\n");
        if (*p) *p++ = 0;
    }
    return n;
}

#define NTOR_KEY_ARG "ntor-onion-key="

static int parse_ntor_key(const char *b64, om_bridge_conf_t *out, char *err, size_t errlen)
{
    if (out->has_ntor_key) return fail(err, errlen, "ntor-onion-key given twice");
    if (om_base64_decode(b64, strlen(b64), out->ntor_key, sizeof out->ntor_key) != 32)
        return fail(err, errlen, "\"%.60s\": ntor-onion-key must be 32 bytes in base64", b64);
    out->has_ntor_key = true;
    return 0;
}

static bool is_ntor_key_arg(const char *w)
{
    return strncmp(w, NTOR_KEY_ARG, strlen(NTOR_KEY_ARG)) == 0;
}

static int parse_rest(char **w, size_t n, om_bridge_conf_t *out, char *err, size_t errlen)
{
    if (!out->transport[0]) {
        /* tor joins the remaining words: "AAAA BBBB ..." is a fingerprint. */
        char fp[64] = "";
        size_t len = 0;
        for (; n && is_ntor_key_arg(w[n - 1]); n--) /* our extension, after the fingerprint */
            if (parse_ntor_key(w[n - 1] + strlen(NTOR_KEY_ARG), out, err, errlen) < 0) return -1;
        for (size_t i = 0; i < n; i++) {
            if (strchr(w[i], '='))
                return fail(err, errlen,
                            "\"%s\": KEY=VALUE arguments are for a transport; this line names "
                            "none",
                            w[i]);
            size_t l = strlen(w[i]);
            if (len + l >= sizeof fp) return fail(err, errlen, "fingerprint too long");
            memcpy(fp + len, w[i], l + 1);
            len += l;
        }
        return parse_fp(fp, out, err, errlen);
    }
    if (is_key_value(w[0]))
        return fail(err, errlen, "\"%s\": expected the bridge's fingerprint before arguments",
                    w[0]);
    if (parse_fp(w[0], out, err, errlen) < 0) return -1;
    for (size_t i = 1; i < n; i++) {
        if (add_arg(w[i], out, err, errlen) < 0) return -1;
        if (is_ntor_key_arg(w[i]) &&
            parse_ntor_key(w[i] + strlen(NTOR_KEY_ARG), out, err, errlen) < 0)
            return -1;
    }
    return 0;
}

int om_bridge_conf_parse(const char *line, om_bridge_conf_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t len = strlen(line);
    if (len > OM_BRIDGE_LINE_MAX) return fail(err, errlen, "line too long");
    char *buf = malloc(len + 1);
    if (!buf) return fail(err, errlen, "%s", "out of memory");
    memcpy(buf, line, len + 1);
    char *w[MAX_WORDS + 1];
    size_t n = split(buf, w, MAX_WORDS + 1), i = 0;
    int rc = 0;
    if (n > MAX_WORDS)
        rc = fail(err, errlen, "too many words");
    else if (n == 0)
        rc = fail(err, errlen, "expected [TRANSPORT] IPV4[:PORT] FINGERPRINT [KEY=VALUE ...]");
    if (rc == 0 && is_c_identifier(w[0])) {
        if (strlen(w[0]) > OM_BRIDGE_TRANSPORT_MAX)
            rc = fail(err, errlen, "\"%s\": transport name too long", w[0]);
        else
            snprintf(out->transport, sizeof out->transport, "%s", w[i++]);
    }
    if (rc == 0 && i >= n) rc = fail(err, errlen, "no address");
    if (rc == 0) rc = parse_addrport(w[i++], out, err, errlen);
    if (rc == 0 && i >= n)
        rc = fail(err, errlen,
                  "no fingerprint; onionmesh needs it to authenticate the bridge (its RSA "
                  "identity, 40 hex digits)");
    if (rc == 0) rc = parse_rest(w + i, n - i, out, err, errlen);
    free(buf);
    if (rc < 0) memset(out, 0, sizeof *out);
    return rc;
}

const char *om_bridge_conf_arg(const om_bridge_conf_t *b, const char *key)
{
    for (size_t i = 0; i < b->n_args; i++)
        if (!strcmp(b->args[i].key, key)) return b->args[i].value;
    return NULL;
}

void om_bridge_conf_describe(const om_bridge_conf_t *b, char *out, size_t outlen)
{
    char hex[41];
    om_hex_encode(b->rsa_fp, 20, hex);
    snprintf(out, outlen, "%s%s%s:%u %s", b->transport, b->transport[0] ? " " : "", b->host,
             b->port, hex);
}
