/* identity.c — a relay's keys and certificates (RSA-1024 and Ed25519 identities, signing key,
 * TLS link key, Ed25519 AUTHENTICATE key) and the CERTS cells it presents: as a responder types
 * 2, 4, 5, 7 (tor-spec 4.2), as an authenticating initiator types 2, 4, 6, 7 (tor-spec 4.4). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cert.h"

#define DAY                  (24L * 60 * 60)
#define RSA_ID_CERT_LIFETIME (365 * DAY) /* tor's IDENTITY_CERT_LIFETIME */
#define ED_SIGNING_LIFETIME  (30 * DAY)  /* tor's default SigningKeyLifetime */
#define CROSSCERT_LIFETIME   (180 * DAY)
#define TLS_CERT_LIFETIME    (365 * DAY)
#define LINK_CERT_LIFETIME   (2 * DAY) /* tor's TestingLinkCertLifetime default */
#define AUTH_CERT_LIFETIME   (2 * DAY) /* tor's TestingAuthKeyLifetime default */
#define TLS_KEY_BITS         2048      /* tor's RSA_LINK_KEY_BITS */

/* A random host name like tor's crypto_random_hostname(8, 20, "www.", suffix): base32 letters. */
static int random_hostname(char *out, size_t outsz, const char *suffix)
{
    static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
    uint8_t r[21];
    if (om_rand_bytes(r, sizeof r) != 0) return -1;
    size_t n = 8 + r[0] % 13; /* 8..20 characters */
    if (outsz < 4 + n + strlen(suffix) + 1) return -1;
    memcpy(out, "www.", 4);
    for (size_t i = 0; i < n; i++)
        out[4 + i] = b32[r[1 + i] & 31];
    strcpy(out + 4 + n, suffix);
    om_memwipe(r, sizeof r);
    return 0;
}

/* Everything but the identity keys: type 2 and 7 certificates, the TLS link key + cert and the
 * AUTHENTICATE key. */
static int identity_finish(om_identity_t *id, time_t now)
{
    char cn_id[40], cn_tls[40];
    if (om_rsa_fingerprint(id->rsa_id, id->rsa_fp) != 0) return -1;
    if (om_ed25519_keygen(&id->ed_auth) != 0) return -1;
    /* Type 2: self-signed X.509 over the RSA identity key. */
    if (random_hostname(cn_id, sizeof cn_id, ".com") != 0) /* tor: www.*.com */
        return -1;
    id->rsa_id_cert =
        om_x509_create_self_signed(id->rsa_id, cn_id, RSA_ID_CERT_LIFETIME, &id->rsa_id_cert_len);
    if (!id->rsa_id_cert) return -1;

    /* Type 7: RSA identity -> Ed25519 identity. */
    int n = om_rsa_crosscert_create(id->rsa_id, id->ed_id.pub, now + CROSSCERT_LIFETIME,
                                    id->rsa_ed_crosscert, sizeof id->rsa_ed_crosscert);
    if (n < 0) return -1;
    id->rsa_ed_crosscert_len = (size_t)n;

    /* TLS link key and its self-issued certificate. */
    id->tls_key = om_rsa_generate(TLS_KEY_BITS);
    if (!id->tls_key || random_hostname(cn_tls, sizeof cn_tls, ".net") != 0) return -1;
    id->tls_cert = om_x509_create(id->tls_key, cn_tls, id->tls_key, cn_tls, TLS_CERT_LIFETIME,
                                  &id->tls_cert_len);
    return id->tls_cert ? 0 : -1;
}

int om_identity_generate(om_identity_t *id)
{
    if (!id) return -1;
    memset(id, 0, sizeof *id);
    time_t now = time(NULL);

    id->rsa_id = om_rsa_generate(1024);
    if (!id->rsa_id) goto fail;
    if (om_ed25519_keygen(&id->ed_id) != 0 || om_ed25519_keygen(&id->ed_sign) != 0) goto fail;

    /* Type 4: identity -> signing key, carrying the identity in the signed-with-key extension. */
    int n = om_ed_cert_create(OM_CERTTYPE_ED_ID_SIGN, OM_CERT_KEYTYPE_ED25519, id->ed_sign.pub,
                              &id->ed_id, true, now + ED_SIGNING_LIFETIME, id->ed_id_sign_cert,
                              sizeof id->ed_id_sign_cert);
    if (n < 0) goto fail;
    id->ed_id_sign_cert_len = (size_t)n;
    if (identity_finish(id, now) != 0) goto fail;
    return 0;
fail:
    om_identity_free(id);
    return -1;
}

int om_identity_from_keys(om_identity_t *id, const om_rsa_t *rsa_id,
                          const om_ed25519_keypair_t *ed_id, const om_ed25519_keypair_t *ed_sign,
                          const uint8_t *sign_cert, size_t sign_cert_len)
{
    if (!id || !rsa_id || !ed_id || !ed_sign || !sign_cert ||
        sign_cert_len > sizeof id->ed_id_sign_cert)
        return -1;
    memset(id, 0, sizeof *id);
    size_t dl = 0;
    uint8_t *der = om_rsa_private_der(rsa_id, &dl);
    if (!der) return -1;
    id->rsa_id = om_rsa_from_private_der(der, dl);
    om_memwipe(der, dl);
    free(der);
    if (!id->rsa_id) goto fail;
    id->ed_id = *ed_id;
    id->ed_sign = *ed_sign;
    memcpy(id->ed_id_sign_cert, sign_cert, sign_cert_len);
    id->ed_id_sign_cert_len = sign_cert_len;
    if (identity_finish(id, time(NULL)) != 0) goto fail;
    return 0;
fail:
    om_identity_free(id);
    return -1;
}

/* A CERTS cell of types 2, 4, 7 and a fresh certificate by the signing key of `cert_type` (5 or
 * 6) over `certified` (key_type). */
static om_var_cell_t *certs_cell(const om_identity_t *id, uint8_t cert_type, uint8_t key_type,
                                 const uint8_t certified[32], long lifetime)
{
    uint8_t fresh_cert[OM_ED_CERT_MAX_LEN];
    int n = om_ed_cert_create(cert_type, key_type, certified, &id->ed_sign, false,
                              time(NULL) + lifetime, fresh_cert, sizeof fresh_cert);
    if (n < 0) return NULL;

    om_certs_list_t l;
    memset(&l, 0, sizeof l);
    l.certs[0] =
        (om_certs_entry_t){OM_CERTTYPE_RSA_ID, (uint16_t)id->rsa_id_cert_len, id->rsa_id_cert};
    l.certs[1] = (om_certs_entry_t){OM_CERTTYPE_ED_ID_SIGN, (uint16_t)id->ed_id_sign_cert_len,
                                    id->ed_id_sign_cert};
    l.certs[2] = (om_certs_entry_t){cert_type, (uint16_t)n, fresh_cert};
    l.certs[3] = (om_certs_entry_t){OM_CERTTYPE_RSA_ED_CROSS, (uint16_t)id->rsa_ed_crosscert_len,
                                    id->rsa_ed_crosscert};
    l.n = 4;
    return om_certs_list_cell(&l);
}

om_var_cell_t *om_identity_certs_cell(const om_identity_t *id)
{
    uint8_t tls_hash[32];
    if (!id || !id->rsa_id_cert || !id->tls_cert || id->rsa_id_cert_len > 65535) return NULL;
    if (om_sha256(id->tls_cert, id->tls_cert_len, tls_hash) != 0) return NULL;
    /* Type 5: signing key -> SHA-256 of the TLS certificate (CERT_KEY_TYPE 3, cert-spec A.4). */
    return certs_cell(id, OM_CERTTYPE_ED_SIGN_LINK, OM_CERT_KEYTYPE_SHA256_X509, tls_hash,
                      LINK_CERT_LIFETIME);
}

om_var_cell_t *om_identity_initiator_certs_cell(const om_identity_t *id)
{
    if (!id || !id->rsa_id_cert || id->rsa_id_cert_len > 65535) return NULL;
    /* Type 6: signing key -> Ed25519 AUTHENTICATE key (tor-spec 4.2, 4.4.2). */
    return certs_cell(id, OM_CERTTYPE_ED_SIGN_AUTH, OM_CERT_KEYTYPE_ED25519, id->ed_auth.pub,
                      AUTH_CERT_LIFETIME);
}

void om_identity_free(om_identity_t *id)
{
    if (!id) return;
    om_rsa_free(id->rsa_id);
    om_rsa_free(id->tls_key);
    free(id->rsa_id_cert);
    free(id->tls_cert);
    om_memwipe(id, sizeof *id);
}
