/* router_desc.c — extracts a relay's address and keys from a server descriptor (dir-spec 2.1.1).
 * Lines are "keyword args"; objects are PEM-style blocks. Everything is bounds-checked. */
#include "core/router_desc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"

/* Find line starting with keyword followed by space or end of line. Returns pointer to the
 * arguments (after the space) and sets *arglen, or NULL. */
static const char *find_kw(const char *text, size_t len, const char *kw, size_t *arglen)
{
    size_t kl = strlen(kw);
    const char *end = text + len;
    const char *line = text;
    while (line < end) {
        const char *le = memchr(line, '\n', (size_t)(end - line));
        if (!le) le = end;
        if ((size_t)(le - line) >= kl && !memcmp(line, kw, kl) &&
            (line + kl == le || line[kl] == ' ')) {
            const char *a = line + kl;
            if (a < le) a++;
            *arglen = (size_t)(le - a);
            return a;
        }
        line = le + 1;
    }
    return NULL;
}

/* The PEM object following the keyword's line: returns the base64 body span. */
static const char *find_object(const char *text, size_t len, const char *kw, const char *type,
                               size_t *bodylen)
{
    size_t al;
    const char *a = find_kw(text, len, kw, &al);
    if (!a) return NULL;
    const char *end = text + len;
    const char *p = a + al;
    if (p < end) p++;
    char begin[64], endm[64];
    snprintf(begin, sizeof begin, "-----BEGIN %s-----\n", type);
    snprintf(endm, sizeof endm, "-----END %s-----", type);
    size_t bl = strlen(begin);
    if ((size_t)(end - p) < bl || memcmp(p, begin, bl)) return NULL;
    p += bl;
    size_t el = strlen(endm);
    for (const char *q = p; q + el <= end; q++)
        if (!memcmp(q, endm, el)) {
            *bodylen = (size_t)(q - p);
            return p;
        }
    return NULL;
}

static int fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -1;
}

int om_router_desc_parse(const char *text, size_t len, om_router_desc_t *out, char *err,
                         size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t al;
    const char *a = find_kw(text, len, "router", &al);
    if (!a) return fail(err, errlen, "no router line");
    char line[256];
    if (al >= sizeof line) return fail(err, errlen, "router line too long");
    memcpy(line, a, al);
    line[al] = 0;
    unsigned orp, sp, dp;
    char nick[64], addr[64];
    if (sscanf(line, "%63s %63s %u %u %u", nick, addr, &orp, &sp, &dp) != 5 || orp > 65535 ||
        dp > 65535 || strlen(nick) >= sizeof out->nickname || strlen(addr) >= sizeof out->address)
        return fail(err, errlen, "malformed router line");
    char c[256]; /* %u wraps ("4294976297" = 2^32 + 9001) and takes signs: insist on canon form */
    if (snprintf(c, sizeof c, "%s %s %u %u %u", nick, addr, orp, sp, dp) < 0 || strcmp(c, line))
        return fail(err, errlen, "malformed router line");
    snprintf(out->nickname, sizeof out->nickname, "%s", nick);
    snprintf(out->address, sizeof out->address, "%s", addr);
    out->or_port = (uint16_t)orp;
    out->dir_port = (uint16_t)dp;

    size_t bl;
    const char *b64 = find_object(text, len, "signing-key", "RSA PUBLIC KEY", &bl);
    if (!b64) return fail(err, errlen, "no signing-key (RSA identity) object");
    uint8_t der[600];
    int dl = om_base64_decode(b64, bl, der, sizeof der);
    if (dl <= 0) return fail(err, errlen, "bad base64 in signing-key");
    om_rsa_t *k = om_rsa_from_public_der(der, (size_t)dl);
    if (!k) return fail(err, errlen, "signing-key is not an RSA public key");
    om_rsa_fingerprint(k, out->rsa_fp);
    om_rsa_free(k);

    a = find_kw(text, len, "fingerprint", &al);
    if (a) {
        char hex[64];
        size_t h = 0;
        for (size_t i = 0; i < al && h < sizeof hex - 1; i++)
            if (a[i] != ' ') hex[h++] = a[i];
        uint8_t fp[20];
        if (om_hex_decode(hex, h, fp, 20) < 0)
            return fail(err, errlen, "malformed fingerprint line");
        if (memcmp(fp, out->rsa_fp, 20))
            return fail(err, errlen, "fingerprint line does not match signing-key");
    }
    a = find_kw(text, len, "master-key-ed25519", &al);
    if (a) {
        if (om_base64_decode(a, al, out->ed_id, 32) != 32)
            return fail(err, errlen, "malformed master-key-ed25519");
        out->has_ed = true;
    }
    a = find_kw(text, len, "ntor-onion-key", &al);
    if (a) {
        if (om_base64_decode(a, al, out->ntor_key, 32) != 32)
            return fail(err, errlen, "malformed ntor-onion-key");
        out->has_ntor = true;
    }
    a = find_kw(text, len, "platform", &al);
    if (a) {
        size_t n = al < sizeof out->platform - 1 ? al : sizeof out->platform - 1;
        memcpy(out->platform, a, n);
        out->platform[n] = 0;
    }
    return 0;
}
