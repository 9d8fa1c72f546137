/* fuzz_ed_cert.c — libFuzzer target: the certificate parsers on arbitrary bytes — Ed25519
 * certificates (cert-spec 2.1), the RSA->Ed25519 cross-certificate (cert-spec 2.3) and X.509
 * RSA certificates (om_x509_rsa_check) — with invariants on what parses and the verifiers run
 * on the result (they must fail cleanly, never crash). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cert.h"

#define FUZZ_NOW ((time_t)1795340000) /* 2026-11-22, when the seed corpus was made */

static om_rsa_t *g_rsa;
static om_ed_cert_t g_cert;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[128];
    if (!g_rsa) g_rsa = om_rsa_generate(1024); /* kept for the whole run */

    /* Ed25519 certificate. */
    if (om_ed_cert_parse(&g_cert, data, size) == 0) {
        if (g_cert.encoded_len != size || g_cert.signed_len + 64 != size ||
            memcmp(g_cert.encoded, data, size) != 0 || g_cert.version != 1 ||
            memcmp(g_cert.signature, data + size - 64, 64) != 0 ||
            memcmp(g_cert.certified_key, data + 7, 32) != 0)
            abort();
        bool expired = om_ed_cert_expired(&g_cert, FUZZ_NOW);
        int rv = om_ed_cert_verify(&g_cert, NULL, FUZZ_NOW, err, sizeof err);
        if (rv == 0 && (expired || !g_cert.has_signing_key || g_cert.has_unknown_critical_ext))
            abort();
        uint8_t key[32];
        memset(key, 0x5a, sizeof key);
        rv = om_ed_cert_verify(&g_cert, key, FUZZ_NOW, err, sizeof err);
        if (rv == 0 && (expired || g_cert.has_unknown_critical_ext)) abort();
    }

    /* RSA -> Ed25519 cross-certificate. */
    om_rsa_crosscert_t cc;
    if (om_rsa_crosscert_parse(&cc, data, size) == 0) {
        if (cc.encoded_len != size || size != 37 + cc.siglen || cc.siglen != data[36] ||
            memcmp(cc.ed_key, data, 32) != 0 || memcmp(cc.sig, data + 37, cc.siglen) != 0)
            abort();
        if (g_rsa) (void)om_rsa_crosscert_verify(&cc, g_rsa, FUZZ_NOW, err, sizeof err);
    }

    /* X.509 */
    for (int self = 0; self < 2; self++) {
        om_rsa_t *k = om_x509_rsa_check(data, size, self, FUZZ_NOW, err, sizeof err);
        if (k) {
            if (om_rsa_bits(k) < 1024) abort();
            om_rsa_free(k);
        }
    }
    return 0;
}
