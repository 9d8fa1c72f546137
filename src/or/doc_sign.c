/* doc_sign.c — objects, base64 and the closing router-sig-ed25519 / router-signature pair of the
 * documents a relay signs (dir-spec 1.2, 1.3, 2.1.1, 2.1.2); see doc_sign.h. */
#include "or/doc_sign.h"

#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"

int om_doc_put_block(FILE *f, const char *type, const uint8_t *data, size_t len)
{
    size_t cap = (len + 2) / 3 * 4 + 1;
    char *b = malloc(cap);
    if (!b || om_base64_encode(data, len, b, cap, false) < 0) {
        free(b);
        return -1;
    }
    fprintf(f, "-----BEGIN %s-----\n", type);
    size_t n = strlen(b);
    for (size_t i = 0; i < n; i += 64)
        fprintf(f, "%.*s\n", (int)(n - i < 64 ? n - i : 64), b + i);
    fprintf(f, "-----END %s-----\n", type);
    free(b);
    return 0;
}

void om_doc_b64_nopad(const uint8_t *in, size_t n, char *out, size_t outsz)
{
    om_base64_encode(in, n, out, outsz, true);
}

int om_doc_sign(FILE *f, char *const *doc, const size_t *doclen, const om_relay_keys_t *k,
                uint8_t signed_sha1[20])
{
    fprintf(f, "router-sig-ed25519 ");
    if (fflush(f) != 0) return -1;
    /* dir-spec 2.1.1 "router-sig-ed25519": SHA256(prefix || the document up to and including
     * "router-sig-ed25519 "), signed by the signing key the identity-ed25519 cert certifies. */
    size_t plen = strlen(OM_DOC_ED_SIG_PREFIX);
    uint8_t *m = malloc(plen + *doclen), h[32], sig[256];
    if (!m) return -1;
    memcpy(m, OM_DOC_ED_SIG_PREFIX, plen);
    memcpy(m + plen, *doc, *doclen);
    int r = om_sha256(m, plen + *doclen, h);
    free(m);
    if (r < 0 || om_ed25519_sign(&k->ed_sign, h, sizeof h, sig) < 0) return -1;
    char b64[128];
    om_doc_b64_nopad(sig, OM_ED25519_SIG_LEN, b64, sizeof b64);
    fprintf(f, "%s\nrouter-signature\n", b64);
    if (fflush(f) != 0) return -1;
    /* dir-spec 1.3: the identity key's PKCS#1 v1.5 signature of SHA1(document up to and
     * including "router-signature\n"). */
    uint8_t h1[20];
    size_t sl = sizeof sig;
    if (om_sha1((const uint8_t *)*doc, *doclen, h1) < 0 ||
        om_rsa_sign_raw(k->rsa_id, h1, sizeof h1, sig, &sl) < 0)
        return -1;
    if (signed_sha1) memcpy(signed_sha1, h1, sizeof h1);
    return om_doc_put_block(f, "SIGNATURE", sig, sl);
}
