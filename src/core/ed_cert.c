/* ed_cert.c — Ed25519 certificates (cert-spec 2.1, extensions 2.2) and the RSA->Ed25519
 * cross-certificate (cert-spec 2.3): parsing with bounds checks, verification, creation. */
#include <stdio.h>
#include <string.h>

#include "core/cert.h"

/* cert-spec 2.1 fixed parts: VERSION(1) CERT_TYPE(1) EXPIRATION_DATE(4) CERT_KEY_TYPE(1)
 * CERTIFIED_KEY(32) N_EXTENSIONS(1) ... SIGNATURE(64). */
#define ED_CERT_HEADER_LEN  40
#define ED_CERT_SIG_LEN     64
#define ED_CERT_EXT_HDR_LEN 4 /* ExtLength(2) ExtType(1) ExtFlags(1) */

/* cert-spec 2.3 */
#define CROSSCERT_PREFIX     "Tor TLS RSA/Ed25519 cross-certificate"
#define CROSSCERT_SIGNED_LEN 36 /* ED25519_KEY(32) EXPIRATION_DATE(4) */

static uint32_t get_u32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen) snprintf(err, errlen, "%s", msg);
}

/* Hours since the epoch, rounded up, as tor does (CEIL_DIV(expires, 3600)). */
static int expiry_hours(time_t expires, uint32_t *out)
{
    if (expires < 0) return -1;
    uint64_t h = ((uint64_t)expires + 3599) / 3600;
    if (h > UINT32_MAX) return -1;
    *out = (uint32_t)h;
    return 0;
}

/* Tor's rule (torcert.c): a certificate expiring at hour H is valid while H*3600 >= now. */
static bool hours_expired(uint32_t hours, time_t now)
{
    return (int64_t)hours * 3600 < (int64_t)now;
}

/* ---- Ed25519 certificates ---- */

int om_ed_cert_parse(om_ed_cert_t *out, const uint8_t *in, size_t len)
{
    if (!out || !in) return -1;
    memset(out, 0, sizeof *out);
    if (len < ED_CERT_HEADER_LEN + ED_CERT_SIG_LEN || len > OM_ED_CERT_MAX_LEN) return -1;
    out->version = in[0];
    if (out->version != 1) /* cert-spec 2.1: VERSION is [01]; other layouts are unknown */
        return -1;
    out->cert_type = in[1];
    out->expiration_hours = get_u32(in + 2);
    out->key_type = in[6];
    memcpy(out->certified_key, in + 7, 32);
    unsigned n_ext = in[39];

    const size_t body_end = len - ED_CERT_SIG_LEN; /* extensions must end exactly here */
    size_t off = ED_CERT_HEADER_LEN;
    for (unsigned i = 0; i < n_ext; i++) {
        if (body_end - off < ED_CERT_EXT_HDR_LEN) return -1; /* truncated extension header */
        size_t ext_len = ((size_t)in[off] << 8) | in[off + 1];
        uint8_t ext_type = in[off + 2];
        uint8_t ext_flags = in[off + 3];
        off += ED_CERT_EXT_HDR_LEN;
        if (body_end - off < ext_len)
            return -1; /* cert-spec 2.1: a truncated extension makes the certificate invalid */
        if (ext_type == OM_CERTEXT_SIGNED_WITH_KEY) {
            /* cert-spec 2.2.1: ExtLength = 32; at most one (tor rejects a second one). */
            if (ext_len != 32 || out->has_signing_key) return -1;
            out->has_signing_key = true;
            memcpy(out->signing_key, in + off, 32);
        } else if (ext_flags & OM_CERTEXT_FLAG_AFFECTS_VALIDATION) {
            out->has_unknown_critical_ext = true;
        }
        off += ext_len;
    }
    if (off != body_end) return -1; /* bytes between the extensions and the signature */
    memcpy(out->signature, in + body_end, ED_CERT_SIG_LEN);
    out->signed_len = body_end;
    memcpy(out->encoded, in, len);
    out->encoded_len = len;
    return 0;
}

bool om_ed_cert_expired(const om_ed_cert_t *c, time_t now)
{
    return hours_expired(c->expiration_hours, now);
}

int om_ed_cert_verify(const om_ed_cert_t *c, const uint8_t *signing_pub, time_t now, char *err,
                      size_t errlen)
{
    char buf[64];
    if (!c || c->encoded_len < ED_CERT_HEADER_LEN + ED_CERT_SIG_LEN ||
        c->signed_len + ED_CERT_SIG_LEN != c->encoded_len) {
        set_err(err, errlen, "certificate not parsed");
        return -1;
    }
    if (c->version != 1) {
        snprintf(buf, sizeof buf, "unsupported certificate version %u", c->version);
        set_err(err, errlen, buf);
        return -1;
    }
    if (c->has_unknown_critical_ext) {
        set_err(err, errlen, "certificate has an unknown extension that affects validation");
        return -1;
    }
    const uint8_t *key = signing_pub;
    if (!key) {
        if (!c->has_signing_key) {
            set_err(err, errlen, "no signing key given and none embedded in the certificate");
            return -1;
        }
        key = c->signing_key;
    } else if (c->has_signing_key && !om_mem_eq_ct(c->signing_key, signing_pub, 32)) {
        /* cert-spec 2.2.1: the extension MUST match the key used to sign the certificate. */
        set_err(err, errlen, "signed-with-key extension does not match the signing key");
        return -1;
    }
    if (om_ed_cert_expired(c, now)) {
        set_err(err, errlen, "certificate expired");
        return -1;
    }
    if (om_ed25519_verify(key, c->encoded, c->signed_len, c->signature) != 0) {
        set_err(err, errlen, "certificate signature is invalid");
        return -1;
    }
    return 0;
}

int om_ed_cert_create(uint8_t cert_type, uint8_t key_type, const uint8_t certified_key[32],
                      const om_ed25519_keypair_t *signer, bool include_signer_ext, time_t expires,
                      uint8_t *out, size_t outsz)
{
    uint32_t hours;
    if (!certified_key || !signer || !out || expiry_hours(expires, &hours) < 0) return -1;
    size_t total =
        ED_CERT_HEADER_LEN + (include_signer_ext ? ED_CERT_EXT_HDR_LEN + 32 : 0) + ED_CERT_SIG_LEN;
    if (outsz < total) return -1;
    out[0] = 1;
    out[1] = cert_type;
    put_u32(out + 2, hours);
    out[6] = key_type;
    memcpy(out + 7, certified_key, 32);
    out[39] = include_signer_ext ? 1 : 0;
    size_t off = ED_CERT_HEADER_LEN;
    if (include_signer_ext) {
        out[off] = 0;
        out[off + 1] = 32;
        out[off + 2] = OM_CERTEXT_SIGNED_WITH_KEY;
        out[off + 3] = 0; /* tor sets no flags on this extension */
        memcpy(out + off + 4, signer->pub, 32);
        off += ED_CERT_EXT_HDR_LEN + 32;
    }
    if (om_ed25519_sign(signer, out, off, out + off) != 0) return -1;
    return (int)total;
}

/* ---- RSA -> Ed25519 cross-certificate (cert-spec 2.3) ---- */

int om_rsa_crosscert_parse(om_rsa_crosscert_t *out, const uint8_t *in, size_t len)
{
    if (!out || !in) return -1;
    memset(out, 0, sizeof *out);
    if (len < CROSSCERT_SIGNED_LEN + 1) return -1;
    size_t siglen = in[CROSSCERT_SIGNED_LEN];
    /* SIGLEN bytes of signature end the certificate; tor rejects trailing bytes. */
    if (len != CROSSCERT_SIGNED_LEN + 1 + siglen || siglen == 0 || len > sizeof out->encoded)
        return -1;
    memcpy(out->ed_key, in, 32);
    out->expiration_hours = get_u32(in + 32);
    out->siglen = siglen;
    memcpy(out->sig, in + CROSSCERT_SIGNED_LEN + 1, siglen);
    out->signed_len = CROSSCERT_SIGNED_LEN;
    memcpy(out->encoded, in, len);
    out->encoded_len = len;
    return 0;
}

static int crosscert_digest(const uint8_t signed_part[CROSSCERT_SIGNED_LEN], uint8_t d[32])
{
    uint8_t msg[sizeof CROSSCERT_PREFIX - 1 + CROSSCERT_SIGNED_LEN];
    memcpy(msg, CROSSCERT_PREFIX, sizeof CROSSCERT_PREFIX - 1);
    memcpy(msg + sizeof CROSSCERT_PREFIX - 1, signed_part, CROSSCERT_SIGNED_LEN);
    return om_sha256(msg, sizeof msg, d);
}

int om_rsa_crosscert_verify(const om_rsa_crosscert_t *c, const om_rsa_t *rsa_id, time_t now,
                            char *err, size_t errlen)
{
    uint8_t d[32];
    if (!c || !rsa_id || c->encoded_len < CROSSCERT_SIGNED_LEN + 1) {
        set_err(err, errlen, "cross-certificate not parsed");
        return -1;
    }
    if (hours_expired(c->expiration_hours, now)) {
        set_err(err, errlen, "cross-certificate expired");
        return -1;
    }
    if (crosscert_digest(c->encoded, d) != 0 ||
        om_rsa_verify_raw(rsa_id, c->sig, c->siglen, d, sizeof d) != 0) {
        set_err(err, errlen, "cross-certificate signature is not valid under the RSA identity key");
        return -1;
    }
    return 0;
}

int om_rsa_crosscert_create(const om_rsa_t *rsa_id, const uint8_t ed_key[32], time_t expires,
                            uint8_t *out, size_t outsz)
{
    uint32_t hours;
    uint8_t d[32];
    uint8_t sig[512];
    size_t siglen = sizeof sig;
    if (!rsa_id || !ed_key || !out || expiry_hours(expires, &hours) < 0) return -1;
    int bits = om_rsa_bits(rsa_id);
    /* SIGLEN is one byte: keys over 2040 bits cannot sign a cross-certificate. */
    if (bits <= 0 || (bits + 7) / 8 > 255 || (size_t)(bits + 7) / 8 > sizeof sig) return -1;
    if (outsz < CROSSCERT_SIGNED_LEN + 1 + (size_t)(bits + 7) / 8) return -1;
    memcpy(out, ed_key, 32);
    put_u32(out + 32, hours);
    if (crosscert_digest(out, d) != 0 || om_rsa_sign_raw(rsa_id, d, sizeof d, sig, &siglen) != 0)
        return -1;
    if (siglen == 0 || siglen > 255 || outsz < CROSSCERT_SIGNED_LEN + 1 + siglen) return -1;
    out[CROSSCERT_SIGNED_LEN] = (uint8_t)siglen;
    memcpy(out + CROSSCERT_SIGNED_LEN + 1, sig, siglen);
    return (int)(CROSSCERT_SIGNED_LEN + 1 + siglen);
}
