/* fuzz_certs_verify.c — libFuzzer target: a CERTS cell body, parsed with om_certs_list_parse and
 * checked both as a responder's (om_certs_verify_responder) and as an authenticating
 * initiator's (om_certs_verify_initiator). As a real tor relay does, the responder seeds carry
 * the TLS certificate itself as their type 1 entry; its SHA-256 is the "TLS certificate" the
 * verifier compares type 5 against (zeros if there is none). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cert.h"

#define FUZZ_NOW ((time_t)1795340000) /* 2026-11-22, when the seed corpus was made */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    om_certs_list_t l;
    om_peer_identity_t peer;
    uint8_t tls_hash[32];
    char err[256];
    if (om_certs_list_parse(&l, data, size) != 0) return 0;
    memset(tls_hash, 0, sizeof tls_hash);
    const om_certs_entry_t *e1 = om_certs_list_find(&l, OM_CERTTYPE_RSA_LINK);
    if (e1) om_sha256(e1->body, e1->len, tls_hash);
    memset(&peer, 0, sizeof peer);
    err[0] = 0;
    int rv = om_certs_verify_responder(&l, tls_hash, FUZZ_NOW, &peer, err, sizeof err);
    if (rv == 0) {
        /* Success implies the structural checks held. */
        if (peer.rsa_bits != 1024 || om_certs_list_count(&l, 2) != 1 ||
            om_certs_list_count(&l, 4) != 1 || om_certs_list_count(&l, 5) != 1 ||
            om_certs_list_count(&l, 7) != 1)
            abort();
    } else if (rv != -1 || strncmp(err, "CERTS: ", 7) != 0) {
        abort(); /* every failure names itself */
    }
    memset(&peer, 0, sizeof peer);
    err[0] = 0;
    rv = om_certs_verify_initiator(&l, FUZZ_NOW, &peer, err, sizeof err);
    if (rv == 0) {
        if (peer.rsa_bits != 1024 || om_certs_list_count(&l, 2) != 1 ||
            om_certs_list_count(&l, 4) != 1 || om_certs_list_count(&l, 6) != 1 ||
            om_certs_list_count(&l, 7) != 1)
            abort();
    } else if (rv != -1 || strncmp(err, "CERTS: ", 7) != 0) {
        abort();
    }
    return 0;
}
