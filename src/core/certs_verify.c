/* certs_verify.c — checking a peer's CERTS cell on an Ed25519 link (tor-spec 4.2): a client's
 * check of a responder ("To authenticate the responder as having a given Ed25519,RSA identity key
 * combination") and a relay's check of an authenticating initiator ("To authenticate the
 * initiator as having a given Ed25519,RSA identity key combination"), with the details of tor
 * 0.4.9's or_handshake_certs_ed25519_ok. Both share the chain RSA id (2) -> Ed25519 id (7) ->
 * signing key (4); they differ in the last certificate: type 5 (TLS link) or type 6 (auth key). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/cert.h"
#include "core/log.h"

/* Checks the certificates both roles need and the last one of `last_type` (5 or 6), filling
 * peer; the caller checks what the last certificate certifies. */
static int verify_chain(const om_certs_list_t *certs, uint8_t last_type, time_t now,
                        om_peer_identity_t *peer, om_ed_cert_t *last, char *err, size_t errlen)
{
    char why[128];
    om_rsa_t *rsa = NULL;
    om_ed_cert_t id_sign_c;
    om_ed_cert_t *id_sign = &id_sign_c;
    om_rsa_crosscert_t cc;
    int rv = -1;

    if (!certs) return om_errf(err, errlen, "CERTS: no certificates to verify");
    if (certs->n > OM_CERTS_MAX) return om_errf(err, errlen, "CERTS: too many certificates");
    memset(peer, 0, sizeof *peer);

    /* "A CERTS cell may have no more than one certificate of each CertType" (types 1-7 are
     * the ones tor knows; unknown types are ignored). */
    for (uint8_t t = OM_CERTTYPE_RSA_LINK; t <= OM_CERTTYPE_RSA_ED_CROSS; t++) {
        if (om_certs_list_count(certs, t) > 1)
            return om_errf(err, errlen, "CERTS: duplicate type %u certificate", t);
    }
    const uint8_t required[] = {OM_CERTTYPE_RSA_ID, OM_CERTTYPE_ED_ID_SIGN, last_type,
                                OM_CERTTYPE_RSA_ED_CROSS};
    for (size_t i = 0; i < sizeof required; i++) {
        if (om_certs_list_count(certs, required[i]) != 1)
            return om_errf(err, errlen, "CERTS: missing type %u certificate", required[i]);
    }
    const om_certs_entry_t *e2 = om_certs_list_find(certs, OM_CERTTYPE_RSA_ID);
    const om_certs_entry_t *e4 = om_certs_list_find(certs, OM_CERTTYPE_ED_ID_SIGN);
    const om_certs_entry_t *el = om_certs_list_find(certs, last_type);
    const om_certs_entry_t *e7 = om_certs_list_find(certs, OM_CERTTYPE_RSA_ED_CROSS);
    if (!e2 || !e4 || !el || !e7) return om_errf(err, errlen, "CERTS: missing certificate");

    /* Type 2: valid, correctly self-signed, and the certified key is RSA-1024. */
    rsa = om_x509_rsa_check(e2->body, e2->len, true, now, why, sizeof why);
    if (!rsa)
        return om_errf(err, errlen, "CERTS: type 2 RSA identity certificate invalid: %s", why);
    peer->rsa_bits = om_rsa_bits(rsa);
    if (peer->rsa_bits != 1024) {
        om_errf(err, errlen, "CERTS: type 2 identity key is RSA-%d, not RSA-1024", peer->rsa_bits);
        goto out;
    }
    if (om_rsa_fingerprint(rsa, peer->rsa_fp) != 0 ||
        om_rsa_digest256(rsa, peer->rsa_id_sha256) != 0) {
        om_errf(err, errlen, "CERTS: cannot compute the RSA identity digests");
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
    memcpy(peer->ed_id, cc.ed_key, 32);
    peer->crosscert_expires_hours = cc.expiration_hours;

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
    if (!om_mem_eq_ct(id_sign->signing_key, peer->ed_id, 32)) {
        om_errf(err, errlen,
                "CERTS: type 4 certificate's Ed25519 identity is not the one the type 7 "
                "cross-certificate certifies");
        goto out;
    }
    if (om_ed_cert_verify(id_sign, peer->ed_id, now, why, sizeof why) != 0) {
        om_errf(err, errlen, "CERTS: type 4 Ed25519 identity->signing certificate invalid: %s",
                why);
        goto out;
    }
    memcpy(peer->ed_sign, id_sign->certified_key, 32);
    peer->ed_id_sign_expires_hours = id_sign->expiration_hours;

    /* Type 5 or 6: signed by the signing key. */
    const char *what = last_type == OM_CERTTYPE_ED_SIGN_LINK ? "signing->link" : "signing->auth";
    if (om_ed_cert_parse(last, el->body, el->len) != 0) {
        om_errf(err, errlen, "CERTS: type %u %s certificate malformed", last_type, what);
        goto out;
    }
    if (last->cert_type != last_type) {
        om_errf(err, errlen, "CERTS: type %u certificate has CERT_TYPE %u", last_type,
                last->cert_type);
        goto out;
    }
    if (om_ed_cert_verify(last, peer->ed_sign, now, why, sizeof why) != 0) {
        om_errf(err, errlen, "CERTS: type %u %s certificate invalid: %s", last_type, what, why);
        goto out;
    }
    peer->sign_link_expires_hours = last->expiration_hours;
    rv = 0;
out:
    om_rsa_free(rsa);
    return rv;
}

int om_certs_verify_responder(const om_certs_list_t *certs, const uint8_t tls_cert_sha256[32],
                              time_t now, om_peer_identity_t *out, char *err, size_t errlen)
{
    om_peer_identity_t peer;
    om_ed_cert_t sign_link;
    if (!tls_cert_sha256) return om_errf(err, errlen, "CERTS: no TLS certificate to match");
    if (verify_chain(certs, OM_CERTTYPE_ED_SIGN_LINK, now, &peer, &sign_link, err, errlen) != 0)
        return -1;
    /* cert-spec A.4: key type 3 (SHA256 of X.509); tor before 0.4.5.1-alpha wrote 01 here and
     * implementations SHOULD accept it, inferring the type from CERT_TYPE. */
    if (sign_link.key_type != OM_CERT_KEYTYPE_SHA256_X509 &&
        sign_link.key_type != OM_CERT_KEYTYPE_ED25519)
        return om_errf(err, errlen,
                       "CERTS: type 5 certificate has certified-key type %u, not SHA256-of-X509",
                       sign_link.key_type);
    if (!om_mem_eq_ct(sign_link.certified_key, tls_cert_sha256, 32))
        return om_errf(err, errlen,
                       "CERTS: type 5 certificate does not match the TLS link certificate");
    if (out) *out = peer;
    return 0;
}

int om_certs_verify_responder_unbound(const om_certs_list_t *certs, time_t now,
                                      om_peer_identity_t *out, char *err, size_t errlen)
{
    om_peer_identity_t peer;
    om_ed_cert_t sign_link;
    if (verify_chain(certs, OM_CERTTYPE_ED_SIGN_LINK, now, &peer, &sign_link, err, errlen) != 0)
        return -1;
    if (out) *out = peer;
    return 0;
}

int om_certs_verify_initiator(const om_certs_list_t *certs, time_t now, om_peer_identity_t *out,
                              char *err, size_t errlen)
{
    om_peer_identity_t peer;
    om_ed_cert_t sign_auth;
    if (verify_chain(certs, OM_CERTTYPE_ED_SIGN_AUTH, now, &peer, &sign_auth, err, errlen) != 0)
        return -1;
    /* The certified key is the Ed25519 key that signs AUTHENTICATE (tor-spec 4.4.2). */
    if (sign_auth.key_type != OM_CERT_KEYTYPE_ED25519)
        return om_errf(err, errlen,
                       "CERTS: type 6 certificate has certified-key type %u, not Ed25519",
                       sign_auth.key_type);
    memcpy(peer.ed_auth, sign_auth.certified_key, 32);
    if (out) *out = peer;
    return 0;
}
