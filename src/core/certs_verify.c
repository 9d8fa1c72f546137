/* certs_verify.c — a client's check of a responder's CERTS cell for an Ed25519-capable relay
 * (tor-spec 4.2, "To authenticate the responder as having a given Ed25519,RSA identity key
 * combination"), with the details of tor 0.4.9's or_handshake_certs_ed25519_ok. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/cert.h"
#include "core/log.h"

int om_certs_verify_responder(const om_certs_list_t *certs, const uint8_t tls_cert_sha256[32],
                              time_t now, om_peer_identity_t *out, char *err, size_t errlen)
{
    char why[128];
    om_rsa_t *rsa = NULL;
    om_ed_cert_t id_sign_c, sign_link_c;
    om_ed_cert_t *id_sign = &id_sign_c, *sign_link = &sign_link_c;
    om_rsa_crosscert_t cc;
    om_peer_identity_t peer;
    int rv = -1;

    if (!certs || !tls_cert_sha256) return om_errf(err, errlen, "CERTS: no certificates to verify");
    if (certs->n > OM_CERTS_MAX) return om_errf(err, errlen, "CERTS: too many certificates");
    memset(&peer, 0, sizeof peer);

    /* "A CERTS cell may have no more than one certificate of each CertType" (types 1-7 are
     * the ones tor knows; unknown types are ignored). */
    for (uint8_t t = OM_CERTTYPE_RSA_LINK; t <= OM_CERTTYPE_RSA_ED_CROSS; t++) {
        if (om_certs_list_count(certs, t) > 1)
            return om_errf(err, errlen, "CERTS: duplicate type %u certificate", t);
    }
    static const uint8_t required[] = {OM_CERTTYPE_RSA_ID, OM_CERTTYPE_ED_ID_SIGN,
                                       OM_CERTTYPE_ED_SIGN_LINK, OM_CERTTYPE_RSA_ED_CROSS};
    for (size_t i = 0; i < sizeof required; i++) {
        if (om_certs_list_count(certs, required[i]) != 1)
            return om_errf(err, errlen, "CERTS: missing type %u certificate", required[i]);
    }
    const om_certs_entry_t *e2 = om_certs_list_find(certs, OM_CERTTYPE_RSA_ID);
    const om_certs_entry_t *e4 = om_certs_list_find(certs, OM_CERTTYPE_ED_ID_SIGN);
    const om_certs_entry_t *e5 = om_certs_list_find(certs, OM_CERTTYPE_ED_SIGN_LINK);
    const om_certs_entry_t *e7 = om_certs_list_find(certs, OM_CERTTYPE_RSA_ED_CROSS);
    if (!e2 || !e4 || !e5 || !e7) return om_errf(err, errlen, "CERTS: missing certificate");

    /* Type 2: valid, correctly self-signed, and the certified key is RSA-1024. */
    rsa = om_x509_rsa_check(e2->body, e2->len, true, now, why, sizeof why);
    if (!rsa) return om_errf(err, errlen, "CERTS: type 2 RSA identity certificate invalid: %s", why);
    peer.rsa_bits = om_rsa_bits(rsa);
    if (peer.rsa_bits != 1024) {
        om_errf(err, errlen, "CERTS: type 2 identity key is RSA-%d, not RSA-1024", peer.rsa_bits);
        goto out;
    }
    if (om_rsa_fingerprint(rsa, peer.rsa_fp) != 0) {
        om_errf(err, errlen, "CERTS: cannot compute the RSA identity fingerprint");
        goto out;
    }

    /* Type 7: the RSA identity cross-certifies the Ed25519 identity. */
    if (om_rsa_crosscert_parse(&cc, e7->body, e7->len) != 0) {
        om_errf(err, errlen, "CERTS: type 7 RSA->Ed25519 cross-certificate malformed");
        goto out;
    }
    if (om_rsa_crosscert_verify(&cc, rsa, now, why, sizeof why) != 0) {
        om_errf(err, errlen, "CERTS: type 7 RSA->Ed25519 cross-certificate invalid: %s", why);
        goto out;
    }
    memcpy(peer.ed_id, cc.ed_key, 32);
    peer.crosscert_expires_hours = cc.expiration_hours;

    /* Type 4: the Ed25519 identity certifies the signing key. Tor requires the identity to be
     * carried in the signed-with-key extension; it must be the cross-certified key. */
    if (om_ed_cert_parse(id_sign, e4->body, e4->len) != 0) {
        om_errf(err, errlen, "CERTS: type 4 Ed25519 identity->signing certificate malformed");
        goto out;
    }
    if (id_sign->cert_type != OM_CERTTYPE_ED_ID_SIGN) {
        om_errf(err, errlen, "CERTS: type 4 certificate has CERT_TYPE %u", id_sign->cert_type);
        goto out;
    }
    if (id_sign->key_type != OM_CERT_KEYTYPE_ED25519) {
        om_errf(err, errlen, "CERTS: type 4 certificate does not certify an Ed25519 key");
        goto out;
    }
    if (!id_sign->has_signing_key) {
        om_errf(err, errlen, "CERTS: type 4 certificate lacks the signed-with-key extension");
        goto out;
    }
    if (!om_mem_eq_ct(id_sign->signing_key, peer.ed_id, 32)) {
        om_errf(err, errlen,
             "CERTS: type 4 certificate's Ed25519 identity is not the one the type 7 "
             "cross-certificate certifies");
        goto out;
    }
    if (om_ed_cert_verify(id_sign, peer.ed_id, now, why, sizeof why) != 0) {
        om_errf(err, errlen, "CERTS: type 4 Ed25519 identity->signing certificate invalid: %s", why);
        goto out;
    }
    memcpy(peer.ed_sign, id_sign->certified_key, 32);
    peer.ed_id_sign_expires_hours = id_sign->expiration_hours;

    /* Type 5: the signing key certifies SHA-256 of the TLS certificate. */
    if (om_ed_cert_parse(sign_link, e5->body, e5->len) != 0) {
        om_errf(err, errlen, "CERTS: type 5 signing->link certificate malformed");
        goto out;
    }
    if (sign_link->cert_type != OM_CERTTYPE_ED_SIGN_LINK) {
        om_errf(err, errlen, "CERTS: type 5 certificate has CERT_TYPE %u", sign_link->cert_type);
        goto out;
    }
    /* cert-spec A.4: key type 3 (SHA256 of X.509); tor before 0.4.5.1-alpha wrote 01 here and
     * implementations SHOULD accept it, inferring the type from CERT_TYPE. */
    if (sign_link->key_type != OM_CERT_KEYTYPE_SHA256_X509 &&
        sign_link->key_type != OM_CERT_KEYTYPE_ED25519) {
        om_errf(err, errlen, "CERTS: type 5 certificate has certified-key type %u, not SHA256-of-X509",
             sign_link->key_type);
        goto out;
    }
    if (om_ed_cert_verify(sign_link, peer.ed_sign, now, why, sizeof why) != 0) {
        om_errf(err, errlen, "CERTS: type 5 signing->link certificate invalid: %s", why);
        goto out;
    }
    if (!om_mem_eq_ct(sign_link->certified_key, tls_cert_sha256, 32)) {
        om_errf(err, errlen, "CERTS: type 5 certificate does not match the TLS link certificate");
        goto out;
    }
    peer.sign_link_expires_hours = sign_link->expiration_hours;

    if (out) *out = peer;
    rv = 0;
out:
    om_rsa_free(rsa);
    return rv;
}
