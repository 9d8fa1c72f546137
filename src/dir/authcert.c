/* authcert.c — directory authority key certificates, dir-spec 3.1 (see authcert.h). */
#include "dir/authcert.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir/netdoc.h"
#include "core/log.h"

#define MAX_KEY_DER 2048 /* DER of an 8192-bit public key is ~1.1 KB */
#define MAX_SIG     1024 /* 8192-bit signature */

static om_rsa_t *object_key(const om_netdoc_item_t *it)
{
    uint8_t der[MAX_KEY_DER];
    if (!om_netdoc_obj_is(it, "RSA PUBLIC KEY")) return NULL;
    int n = om_netdoc_object_decode(it, der, sizeof der);
    if (n <= 0) return NULL;
    om_rsa_t *k = om_rsa_from_public_der(der, (size_t)n);
    if (k && (om_rsa_bits(k) < 1024 || om_rsa_bits(k) > 8192)) {
        om_rsa_free(k);
        return NULL;
    }
    return k;
}

enum { K_VERSION, K_ADDRESS, K_FP, K_IDKEY, K_PUB, K_EXP, K_SIGNKEY, K_CROSS, K_CERT, K_N };
static const char *const kw_names[K_N] = {
    "dir-key-certificate-version", "dir-address",     "fingerprint",     "dir-identity-key",
    "dir-key-published",           "dir-key-expires", "dir-signing-key", "dir-key-crosscert",
    "dir-key-certification",
};

/* Parse and verify one certificate starting at it's current item. */
static int parse_one(om_netdoc_iter_t *it, om_authcert_t *c, char *err, size_t errlen)
{
    om_netdoc_item_t item, items[K_N];
    int counts[K_N] = {0};
    size_t start = 0;
    bool first = true;
    char *e = err;
    for (;;) {
        int r = om_netdoc_next(it, &item);
        if (r < 0) return om_errf(e, errlen, "authcert: %s", it->err);
        if (r == 0) return om_errf(e, errlen, "authcert: truncated (no dir-key-certification)");
        int k;
        for (k = 0; k < K_N; k++)
            if (om_netdoc_kw_is(&item, kw_names[k])) break;
        if (first) {
            if (k != K_VERSION)
                return om_errf(e, errlen,
                               "authcert: line %zu: expected dir-key-certificate-version",
                               item.line_no);
            start = item.start;
            first = false;
        }
        if (k == K_N) {
            /* dir-spec 3.1: certificates contain only dir-* items and "fingerprint"; unknown
             * dir-* items are ignored for forward compatibility, anything else is refused. */
            if (!om_span_starts(item.kw, "dir-"))
                return om_errf(e, errlen, "authcert: line %zu: unexpected item '%.*s'",
                               item.line_no, (int)(item.kw.len > 40 ? 40 : item.kw.len), item.kw.p);
            continue;
        }
        if (++counts[k] > 1)
            return om_errf(e, errlen, "authcert: line %zu: %s appears twice", item.line_no,
                           kw_names[k]);
        bool wants_obj = k == K_IDKEY || k == K_SIGNKEY || k == K_CROSS || k == K_CERT;
        if (item.has_object != wants_obj)
            return om_errf(e, errlen, "authcert: line %zu: %s %s an object", item.line_no,
                           kw_names[k], wants_obj ? "lacks" : "has");
        if (wants_obj && item.n_args != 0)
            return om_errf(e, errlen, "authcert: line %zu: %s takes no arguments", item.line_no,
                           kw_names[k]);
        items[k] = item;
        if (k == K_CERT) break;
    }
    for (int k = 0; k < K_N; k++)
        if (k != K_ADDRESS && counts[k] == 0)
            return om_errf(e, errlen, "authcert: missing %s", kw_names[k]);

    om_span_t a[4];
    if (om_netdoc_split(items[K_VERSION].args, a, 1) < 1 || !om_span_eq(a[0], "3"))
        return om_errf(e, errlen, "authcert: unsupported dir-key-certificate-version");
    if (om_netdoc_split(items[K_FP].args, a, 1) < 1 || om_netdoc_hex_exact(a[0], c->v3ident, 20))
        return om_errf(e, errlen, "authcert: malformed fingerprint");
    if (om_netdoc_split(items[K_PUB].args, a, 2) < 2 ||
        om_netdoc_parse_time(a[0], a[1], &c->published) < 0)
        return om_errf(e, errlen, "authcert: malformed dir-key-published");
    if (om_netdoc_split(items[K_EXP].args, a, 2) < 2 ||
        om_netdoc_parse_time(a[0], a[1], &c->expires) < 0)
        return om_errf(e, errlen, "authcert: malformed dir-key-expires");
    if (c->expires < c->published)
        return om_errf(e, errlen, "authcert: dir-key-expires before dir-key-published");
    if (counts[K_ADDRESS]) {
        if (om_netdoc_split(items[K_ADDRESS].args, a, 1) < 1)
            return om_errf(e, errlen, "authcert: malformed dir-address");
        const char *colon = memchr(a[0].p, ':', a[0].len);
        uint32_t port;
        if (!colon ||
            om_netdoc_parse_ipv4(om_span(a[0].p, (size_t)(colon - a[0].p)), c->dir_ipv4) < 0 ||
            om_netdoc_parse_u32(om_span(colon + 1, a[0].len - (size_t)(colon - a[0].p) - 1), 65535,
                                &port) < 0)
            return om_errf(e, errlen, "authcert: malformed dir-address");
        c->dir_port = (uint16_t)port;
        c->has_dir_address = true;
    }

    char hex[41];
    om_hex_encode(c->v3ident, 20, hex);
    c->identity_key = object_key(&items[K_IDKEY]);
    if (!c->identity_key) return om_errf(e, errlen, "authcert %s: bad dir-identity-key", hex);
    c->signing_key = object_key(&items[K_SIGNKEY]);
    if (!c->signing_key) return om_errf(e, errlen, "authcert %s: bad dir-signing-key", hex);
    uint8_t fp[20];
    if (om_rsa_fingerprint(c->identity_key, fp) < 0 || !om_mem_eq_ct(fp, c->v3ident, 20))
        return om_errf(e, errlen, "authcert %s: fingerprint does not match dir-identity-key", hex);
    if (om_rsa_fingerprint(c->signing_key, c->signing_digest) < 0)
        return om_errf(e, errlen, "authcert %s: cannot hash dir-signing-key", hex);

    uint8_t sig[MAX_SIG];
    int sl;
    if (!om_netdoc_obj_is(&items[K_CROSS], "ID SIGNATURE") &&
        !om_netdoc_obj_is(&items[K_CROSS], "SIGNATURE"))
        return om_errf(e, errlen, "authcert %s: dir-key-crosscert object type", hex);
    sl = om_netdoc_object_decode(&items[K_CROSS], sig, sizeof sig);
    if (sl <= 0 || om_rsa_verify_raw(c->signing_key, sig, (size_t)sl, c->v3ident, 20) < 0)
        return om_errf(e, errlen, "authcert %s: bad dir-key-crosscert signature", hex);

    /* dir-spec 1.3: SHA-1 from the initial item through the NL after the signature keyword. */
    uint8_t d[20];
    const om_netdoc_item_t *ci = &items[K_CERT];
    if (!om_netdoc_obj_is(ci, "SIGNATURE"))
        return om_errf(e, errlen, "authcert %s: dir-key-certification object type", hex);
    sl = om_netdoc_object_decode(ci, sig, sizeof sig);
    if (sl <= 0 || om_sha1((const uint8_t *)it->doc + start, ci->line_end - start, d) < 0 ||
        om_rsa_verify_raw(c->identity_key, sig, (size_t)sl, d, 20) < 0)
        return om_errf(e, errlen, "authcert %s: bad dir-key-certification signature", hex);
    return 0;
}

om_authcert_t **om_authcert_parse_many(const char *text, size_t len, size_t *n, char *err,
                                       size_t errlen)
{
    om_netdoc_iter_t it;
    om_authcert_t **arr = NULL;
    size_t cnt = 0;
    *n = 0;
    if (!text || memchr(text, '\0', len)) {
        om_errf(err, errlen, "authcert: NUL byte in document");
        return NULL;
    }
    om_netdoc_init(&it, text, len);
    for (;;) {
        /* Skip blank lines to see whether another certificate follows. */
        while (it.pos < len && text[it.pos] == '\n') {
            it.pos++;
            it.line_no++;
        }
        if (it.pos >= len) break;
        if (cnt == OM_AUTHCERT_MAX_PER_DOC) {
            om_errf(err, errlen, "authcert: more than %d certificates", OM_AUTHCERT_MAX_PER_DOC);
            goto bad;
        }
        om_authcert_t **na = realloc(arr, (cnt + 1) * sizeof *arr);
        if (!na) {
            om_errf(err, errlen, "authcert: out of memory");
            goto bad;
        }
        arr = na;
        arr[cnt] = calloc(1, sizeof **arr);
        if (!arr[cnt]) {
            om_errf(err, errlen, "authcert: out of memory");
            goto bad;
        }
        cnt++;
        if (parse_one(&it, arr[cnt - 1], err, errlen) < 0) goto bad;
    }
    if (cnt == 0) {
        om_errf(err, errlen, "authcert: no certificate");
        return NULL;
    }
    *n = cnt;
    return arr;
bad:
    om_authcert_free_array(arr, cnt);
    return NULL;
}

int om_authcert_check_time(const om_authcert_t *c, time_t now, long skew, char *err, size_t errlen)
{
    char hex[41], when[32];
    om_hex_encode(c->v3ident, 20, hex);
    if (now > c->expires && now - c->expires > skew) {
        om_netdoc_format_time(c->expires, when, sizeof when);
        return om_errf(err, errlen, "authcert %s: expired at %s", hex, when);
    }
    if (c->published > now && c->published - now > skew) {
        om_netdoc_format_time(c->published, when, sizeof when);
        return om_errf(err, errlen, "authcert %s: published in the future (%s)", hex, when);
    }
    return 0;
}

void om_authcert_free(om_authcert_t *c)
{
    if (!c) return;
    om_rsa_free(c->identity_key);
    om_rsa_free(c->signing_key);
    free(c);
}

void om_authcert_free_array(om_authcert_t **a, size_t n)
{
    if (!a) return;
    for (size_t i = 0; i < n; i++)
        om_authcert_free(a[i]);
    free(a);
}
