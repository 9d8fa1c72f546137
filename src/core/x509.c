/* x509.c — X.509 certificates through OpenSSL: checking an RSA certificate from a CERTS cell
 * (tor-spec 4.2 types 1-3) and creating the self-signed identity and TLS link certificates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "core/cert.h"

/* Tor's clock-skew tolerances for X.509 lifetimes (tor's lib/tls/x509.h): a certificate may
 * claim to start up to 30 days in the future and may have expired up to 2 days ago. */
#define X509_PAST_SLOP   (2L * 24 * 60 * 60)
#define X509_FUTURE_SLOP (30L * 24 * 60 * 60)

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen) snprintf(err, errlen, "%s", msg);
}

om_rsa_t *om_x509_rsa_check(const uint8_t *der, size_t len, bool must_be_self_signed, time_t now,
                            char *err, size_t errlen)
{
    X509 *x = NULL;
    om_rsa_t *rsa = NULL;
    if (!der || len == 0 || len > 65535) {
        set_err(err, errlen, "X.509 certificate missing or too long");
        return NULL;
    }
    const unsigned char *p = der;
    x = d2i_X509(NULL, &p, (long)len);
    if (!x) {
        set_err(err, errlen, "X.509 certificate does not parse");
        goto out;
    }
    if ((size_t)(p - der) != len) {
        set_err(err, errlen, "X.509 certificate has trailing bytes");
        goto out;
    }
    EVP_PKEY *pk = X509_get0_pubkey(x);
    if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
        set_err(err, errlen, "X.509 certificate key is not RSA");
        goto out;
    }
    if (EVP_PKEY_get_bits(pk) < 1024) { /* tor refuses keys below 1024 bits */
        set_err(err, errlen, "X.509 certificate RSA key is shorter than 1024 bits");
        goto out;
    }
    if (must_be_self_signed && X509_verify(x, pk) != 1) {
        set_err(err, errlen, "X.509 certificate is not correctly self-signed");
        goto out;
    }
    /* tor-spec 4.2: certificates have validAfter and validUntil dates and are not expired. */
    const ASN1_TIME *nb = X509_get0_notBefore(x);
    const ASN1_TIME *na = X509_get0_notAfter(x);
    if (!nb || !na) {
        set_err(err, errlen, "X.509 certificate lacks validity dates");
        goto out;
    }
    time_t t_future = now + X509_FUTURE_SLOP;
    time_t t_past = now - X509_PAST_SLOP;
    int c1 = X509_cmp_time(nb, &t_future);
    int c2 = X509_cmp_time(na, &t_past);
    if (c1 == 0 || c2 == 0) {
        set_err(err, errlen, "X.509 certificate has malformed validity dates");
        goto out;
    }
    if (c1 > 0) {
        set_err(err, errlen, "X.509 certificate is not yet valid");
        goto out;
    }
    if (c2 < 0) {
        set_err(err, errlen, "X.509 certificate has expired");
        goto out;
    }
    rsa = om_rsa_wrap_evp_pkey(pk);
    if (!rsa) set_err(err, errlen, "X.509 certificate key could not be used");
out:
    X509_free(x);
    if (!rsa) ERR_clear_error(); /* do not let failed parses pile up in OpenSSL's error queue */
    return rsa;
}

static int set_cn(X509_NAME *name, const char *cn)
{
    return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                      0) == 1
               ? 0
               : -1;
}

uint8_t *om_x509_create(const om_rsa_t *subject_key, const char *subject_cn,
                        const om_rsa_t *issuer_key, const char *issuer_cn, long lifetime,
                        size_t *len)
{
    X509 *x = NULL;
    X509_NAME *sn = NULL, *in = NULL;
    ASN1_INTEGER *serial = NULL;
    uint8_t *der = NULL;
    uint8_t serial_bytes[8];

    if (!subject_key || !issuer_key || !subject_cn || !issuer_cn || !len || lifetime <= 0)
        return NULL;
    EVP_PKEY *spk = om_rsa_evp_pkey(subject_key);
    EVP_PKEY *ipk = om_rsa_evp_pkey(issuer_key);
    if (!spk || !ipk || !om_rsa_has_private(issuer_key)) return NULL;

    x = X509_new();
    sn = X509_NAME_new();
    in = X509_NAME_new();
    if (!x || !sn || !in) goto out;
    if (X509_set_version(x, 2) != 1) /* X.509 v3 */
        goto out;
    /* A random positive 63-bit serial, as tor uses a random serial number. */
    if (om_rand_bytes(serial_bytes, sizeof serial_bytes) != 0) goto out;
    serial_bytes[0] &= 0x7f;
    uint64_t s = 0;
    for (size_t i = 0; i < sizeof serial_bytes; i++)
        s = (s << 8) | serial_bytes[i];
    serial = ASN1_INTEGER_new();
    if (!serial || ASN1_INTEGER_set_uint64(serial, s) != 1 || X509_set_serialNumber(x, serial) != 1)
        goto out;
    if (set_cn(sn, subject_cn) != 0 || set_cn(in, issuer_cn) != 0 ||
        X509_set_subject_name(x, sn) != 1 || X509_set_issuer_name(x, in) != 1)
        goto out;
    /* Valid from the start of yesterday (tolerates peers whose clocks run a little slow). */
    time_t now = time(NULL);
    time_t start = now - 86400;
    start -= start % 86400;
    if (!X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &start) ||
        !X509_time_adj_ex(X509_getm_notAfter(x), 0, lifetime, &now))
        goto out;
    if (X509_set_pubkey(x, spk) != 1) goto out;
    if (X509_sign(x, ipk, EVP_sha256()) <= 0) goto out;
    int n = i2d_X509(x, NULL);
    if (n <= 0) goto out;
    der = malloc((size_t)n);
    if (!der) goto out;
    unsigned char *p = der;
    if (i2d_X509(x, &p) != n) {
        free(der);
        der = NULL;
        goto out;
    }
    *len = (size_t)n;
out:
    if (!der) ERR_clear_error();
    ASN1_INTEGER_free(serial);
    X509_NAME_free(sn);
    X509_NAME_free(in);
    X509_free(x);
    return der;
}

uint8_t *om_x509_create_self_signed(const om_rsa_t *key, const char *common_name, long lifetime,
                                    size_t *len)
{
    return om_x509_create(key, common_name, key, common_name, lifetime, len);
}
