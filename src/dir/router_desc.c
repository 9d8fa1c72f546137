/* router_desc.c — the fields of a server descriptor (dir-spec 2.1.1) a client needs to reach a
 * relay, read with the shared dir-spec 1.2 tokenizer (netdoc.h): every item is bounds-checked
 * there; here each value is checked strictly. */
#include "dir/router_desc.h"

#include <stdio.h>
#include <string.h>

#include "core/crypto.h"
#include "core/log.h"
#include "dir/netdoc.h"

#define MAX_KEY_DER 2048

enum { K_ROUTER, K_SIGNING, K_FP, K_ED, K_NTOR, K_PLATFORM, K_FAMILY, K_N };
static const char *const kw_names[K_N] = {
    "router",         "signing-key", "fingerprint", "master-key-ed25519",
    "ntor-onion-key", "platform",    "family",
};

/* dir-spec 2.1.1: "router" nickname address ORPort SOCKSPort DirPort */
static int parse_router(const om_netdoc_item_t *it, om_router_desc_t *out, char *err, size_t errlen)
{
    om_span_t a[6];
    uint32_t orp, sp, dp;
    if (om_netdoc_split(it->args, a, 6) != 5 || !om_netdoc_is_nickname(a[0]) ||
        om_netdoc_parse_ipv4(a[1], (uint8_t[4]){0}) < 0 ||
        om_netdoc_parse_u32(a[2], 65535, &orp) < 0 || om_netdoc_parse_u32(a[3], 65535, &sp) < 0 ||
        om_netdoc_parse_u32(a[4], 65535, &dp) < 0)
        return om_errf(err, errlen, "malformed router line");
    snprintf(out->nickname, sizeof out->nickname, "%.*s", (int)a[0].len, a[0].p);
    snprintf(out->address, sizeof out->address, "%.*s", (int)a[1].len, a[1].p);
    out->or_port = (uint16_t)orp;
    out->dir_port = (uint16_t)dp;
    return 0;
}

/* The RSA identity: SHA-1 of the signing-key's DER is the relay's fingerprint. */
static int parse_signing_key(const om_netdoc_item_t *it, om_router_desc_t *out, char *err,
                             size_t errlen)
{
    if (!om_netdoc_obj_is(it, "RSA PUBLIC KEY"))
        return om_errf(err, errlen, "no signing-key (RSA identity) object");
    uint8_t der[MAX_KEY_DER];
    int dl = om_netdoc_object_decode(it, der, sizeof der);
    if (dl <= 0) return om_errf(err, errlen, "bad base64 in signing-key");
    om_rsa_t *k = om_rsa_from_public_der(der, (size_t)dl);
    if (!k) return om_errf(err, errlen, "signing-key is not an RSA public key");
    int r = om_rsa_fingerprint(k, out->rsa_fp);
    om_rsa_free(k);
    return r < 0 ? om_errf(err, errlen, "signing-key cannot be hashed") : 0;
}

/* dir-spec 2.1.1: "fingerprint" followed by 10 groups of 4 hex digits. */
static int parse_fingerprint(const om_netdoc_item_t *it, uint8_t fp[20], char *err, size_t errlen)
{
    om_span_t a[11];
    char hex[41];
    if (om_netdoc_split(it->args, a, 11) != 10)
        return om_errf(err, errlen, "malformed fingerprint line");
    for (int i = 0; i < 10; i++) {
        if (a[i].len != 4) return om_errf(err, errlen, "malformed fingerprint line");
        memcpy(hex + 4 * i, a[i].p, 4);
    }
    if (om_netdoc_hex_exact(om_span(hex, 40), fp, 20) < 0)
        return om_errf(err, errlen, "malformed fingerprint line");
    return 0;
}

/* A single base64 argument of exactly 32 bytes (with or without padding). */
static int parse_key32(const om_netdoc_item_t *it, uint8_t out[32], const char *what, char *err,
                       size_t errlen)
{
    om_span_t a[2];
    if (om_netdoc_split(it->args, a, 2) < 1 || om_netdoc_b64_exact(a[0], out, 32) < 0)
        return om_errf(err, errlen, "malformed %s", what);
    return 0;
}

static int parse_item(int k, const om_netdoc_item_t *it, om_router_desc_t *out, uint8_t fp[20],
                      char *err, size_t errlen)
{
    switch (k) {
    case K_ROUTER:
        return parse_router(it, out, err, errlen);
    case K_SIGNING:
        return parse_signing_key(it, out, err, errlen);
    case K_FP:
        return parse_fingerprint(it, fp, err, errlen);
    case K_ED:
        out->has_ed = true;
        return parse_key32(it, out->ed_id, "master-key-ed25519", err, errlen);
    case K_NTOR:
        out->has_ntor = true;
        return parse_key32(it, out->ntor_key, "ntor-onion-key", err, errlen);
    case K_FAMILY:
        om_netdoc_copy_list(out->family, sizeof out->family, it->args, &out->family_truncated);
        return 0;
    default: {
        size_t n =
            it->args.len < sizeof out->platform - 1 ? it->args.len : sizeof out->platform - 1;
        memcpy(out->platform, it->args.p, n);
        out->platform[n] = '\0';
        return 0;
    }
    }
}

int om_router_desc_parse(const char *text, size_t len, om_router_desc_t *out, char *err,
                         size_t errlen)
{
    memset(out, 0, sizeof *out);
    om_netdoc_iter_t it;
    om_netdoc_item_t item;
    int seen[K_N] = {0};
    uint8_t fp[20];
    om_netdoc_init(&it, text, len);
    for (;;) {
        int r = om_netdoc_next(&it, &item);
        if (r < 0 && item.kw.len)
            return om_errf(err, errlen, "malformed %.*s item: %s",
                           (int)(item.kw.len > 40 ? 40 : item.kw.len), item.kw.p, it.err);
        if (r < 0) return om_errf(err, errlen, "malformed descriptor: %s", it.err);
        if (r == 0) break;
        int k = 0;
        while (k < K_N && !om_netdoc_kw_is(&item, kw_names[k]))
            k++;
        /* dir-spec 2.1.1: the descriptor starts with its "router" item. */
        if (!seen[K_ROUTER] && k != K_ROUTER) return om_errf(err, errlen, "no router line");
        if (k == K_N) continue; /* items we do not read */
        if (seen[k]++) return om_errf(err, errlen, "%s appears twice", kw_names[k]);
        if (parse_item(k, &item, out, fp, err, errlen) < 0) return -1;
    }
    if (!seen[K_ROUTER]) return om_errf(err, errlen, "no router line");
    if (!seen[K_SIGNING]) return om_errf(err, errlen, "no signing-key (RSA identity) object");
    if (seen[K_FP] && memcmp(fp, out->rsa_fp, 20) != 0)
        return om_errf(err, errlen, "fingerprint line does not match signing-key");
    return 0;
}
