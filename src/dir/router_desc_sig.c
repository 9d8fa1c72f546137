/* router_desc_sig.c — a server descriptor's RSA signature against a pinned identity
 * (router_desc_sig.h; dir-spec 2.1.1: "router-signature ... a signature of the PKCS1-padded hash
 * of the entire server descriptor, taken from the beginning of the router line, through the
 * newline after the router-signature line"). The Ed25519 signature (router-sig-ed25519) is not
 * checked here: the RSA identity is what a Bridge line pins. */
#include "dir/router_desc_sig.h"

#include <string.h>

#include "core/crypto.h"
#include "core/log.h"
#include "dir/netdoc.h"

#define MAX_KEY_DER                                                                                \
    600 /* a 1024-bit RSA public key is 140 bytes of DER; tor's identity is 1024                   \
         */
#define MAX_SIG 512

int om_router_desc_verify(const char *text, size_t len, const uint8_t want_fp[20], char *err,
                          size_t errlen)
{
    om_netdoc_iter_t it;
    om_netdoc_item_t item;
    om_netdoc_init(&it, text, len);
    om_rsa_t *key = NULL;
    uint8_t sig[MAX_SIG];
    int sl = -1, r, n = 0;
    size_t signed_end = 0;
    const char *why = NULL;
    while (!why && (r = om_netdoc_next(&it, &item)) == 1) {
        if (n++ == 0 && !om_netdoc_kw_is(&item, "router"))
            why = "does not start with router";
        else if (sl >= 0)
            why = "items after router-signature";
        else if (om_netdoc_kw_is(&item, "signing-key")) {
            uint8_t der[MAX_KEY_DER], fp[20];
            int dl = om_netdoc_obj_is(&item, "RSA PUBLIC KEY")
                         ? om_netdoc_object_decode(&item, der, sizeof der)
                         : -1;
            if (key)
                why = "two signing-key items";
            else if (dl <= 0 || !(key = om_rsa_from_public_der(der, (size_t)dl)))
                why = "signing-key is not an RSA public key";
            else if (om_rsa_fingerprint(key, fp) < 0 || memcmp(fp, want_fp, 20) != 0)
                why = "signed by another identity than the pinned one";
        } else if (om_netdoc_kw_is(&item, "router-signature")) {
            signed_end = item.line_end;
            sl = om_netdoc_obj_is(&item, "SIGNATURE")
                     ? om_netdoc_object_decode(&item, sig, sizeof sig)
                     : -1;
            if (sl <= 0) why = "router-signature has no SIGNATURE object";
        }
    }
    if (!why && r < 0) why = it.err;
    if (!why && !key) why = "no signing-key";
    if (!why && sl < 0) why = "no router-signature";
    uint8_t d[OM_SHA1_LEN];
    if (!why && (om_sha1((const uint8_t *)text, signed_end, d) < 0 ||
                 om_rsa_verify_raw(key, sig, (size_t)sl, d, sizeof d) < 0))
        why = "bad signature";
    om_rsa_free(key);
    return why ? om_errf(err, errlen, "descriptor: %s", why) : 0;
}
