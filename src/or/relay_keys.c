/* relay_keys.c — a relay's key files in DataDirectory/keys (tor's names and formats, see
 * relay_keys.h): load or create, rotate on tor's schedule, fingerprint files. */
#include "or/relay_keys.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/log.h"

#define TAG_LEN 32 /* tor's tagged files: "== type: tag ==" NUL-padded to 32 bytes */

static void path_of(const om_relay_keys_t *k, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", k->keys_dir, name);
}

/* Write atomically (temp file + rename), mode 0600. */
static int write_file(const char *path, const void *data, size_t len)
{
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    const uint8_t *p = data;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)w;
    }
    if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Read a whole small file (up to cap bytes). Returns its length, -1 if absent (errno ENOENT) or
 * unreadable, -2 if larger than cap. */
static ssize_t read_file(const char *path, uint8_t *buf, size_t cap, time_t *mtime)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return -1;
    }
    if (mtime) *mtime = st.st_mtime;
    if ((size_t)st.st_size > cap) {
        close(fd);
        return -2;
    }
    size_t off = 0;
    while (off < cap) {
        ssize_t r = read(fd, buf + off, cap - off);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            close(fd);
            return -1;
        }
        if (r == 0) break;
        off += (size_t)r;
    }
    close(fd);
    return (ssize_t)off;
}

/* tor's crypto_write_tagged_contents_to_file: "== TYPE: TAG ==" padded with NULs to 32 bytes. */
static int write_tagged(const om_relay_keys_t *k, const char *name, const char *type,
                        const char *tag, const uint8_t *data, size_t len)
{
    uint8_t buf[TAG_LEN + 512];
    char path[600];
    if (len > sizeof buf - TAG_LEN) return -1;
    memset(buf, 0, TAG_LEN);
    snprintf((char *)buf, TAG_LEN, "== %s: %s ==", type, tag);
    memcpy(buf + TAG_LEN, data, len);
    path_of(k, name, path, sizeof path);
    int r = write_file(path, buf, TAG_LEN + len);
    om_memwipe(buf, sizeof buf);
    return r;
}

/* Read a tagged file: 1 with the body in out (*len), 0 if absent, -1 if malformed. */
static int read_tagged(const om_relay_keys_t *k, const char *name, const char *type,
                       const char *tag, uint8_t *out, size_t *len, time_t *mtime)
{
    uint8_t buf[TAG_LEN + 512];
    char path[600], want[TAG_LEN];
    path_of(k, name, path, sizeof path);
    ssize_t n = read_file(path, buf, sizeof buf, mtime);
    if (n == -1 && errno == ENOENT) return 0;
    memset(want, 0, sizeof want);
    snprintf(want, sizeof want, "== %s: %s ==", type, tag);
    if (n < TAG_LEN || memcmp(buf, want, TAG_LEN) != 0 || (size_t)n - TAG_LEN > *len) {
        om_memwipe(buf, sizeof buf);
        return -1;
    }
    *len = (size_t)n - TAG_LEN;
    memcpy(out, buf + TAG_LEN, *len);
    om_memwipe(buf, sizeof buf);
    return 1;
}

/* ---------------------------------------------------------------- RSA (PEM) */

static int write_rsa(const om_relay_keys_t *k, const char *name, const om_rsa_t *key)
{
    char path[600];
    path_of(k, name, path, sizeof path);
    BIO *b = BIO_new(BIO_s_mem());
    if (!b) return -1;
    /* tor writes the traditional PKCS#1 form ("BEGIN RSA PRIVATE KEY"). */
    int ok =
        PEM_write_bio_PrivateKey_traditional(b, om_rsa_evp_pkey(key), NULL, NULL, 0, NULL, NULL);
    char *data = NULL;
    long len = ok ? BIO_get_mem_data(b, &data) : -1;
    int r = len > 0 ? write_file(path, data, (size_t)len) : -1;
    if (len > 0) OPENSSL_cleanse(data, (size_t)len);
    BIO_free(b);
    return r;
}

/* 1 loaded, 0 absent, -1 malformed (or not a 1024-bit RSA key). */
static int read_rsa(const om_relay_keys_t *k, const char *name, om_rsa_t **out)
{
    uint8_t buf[4096];
    char path[600];
    path_of(k, name, path, sizeof path);
    ssize_t n = read_file(path, buf, sizeof buf, NULL);
    if (n == -1 && errno == ENOENT) return 0;
    if (n <= 0) return -1;
    BIO *b = BIO_new_mem_buf(buf, (int)n);
    EVP_PKEY *pk = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    om_memwipe(buf, sizeof buf);
    if (!pk) return -1;
    om_rsa_t *r = om_rsa_wrap_evp_pkey(pk);
    EVP_PKEY_free(pk); /* om_rsa_wrap_evp_pkey took its own reference */
    if (!r || om_rsa_bits(r) != 1024 || !om_rsa_has_private(r)) {
        om_rsa_free(r);
        return -1;
    }
    *out = r;
    return 1;
}

/* Load a 1024-bit RSA key, or make and write one if the file is absent. Returns 1 if created,
 * 0 if loaded, -1 with err. */
static int load_or_create_rsa(const om_relay_keys_t *k, const char *name, om_rsa_t **out, char *err,
                              size_t errlen)
{
    int r = read_rsa(k, name, out);
    if (r < 0)
        return om_errf(err, errlen, "%s/%s: not a 1024-bit RSA private key in PEM", k->keys_dir,
                       name);
    if (r == 1) return 0;
    *out = om_rsa_generate(1024);
    if (!*out || write_rsa(k, name, *out) < 0)
        return om_errf(err, errlen, "cannot write %s/%s", k->keys_dir, name);
    return 1;
}

/* ---------------------------------------------------------------- Ed25519 */

/* tor's 64-byte secret key: SHA-512 of the seed with the scalar half clamped (RFC 8032 5.1.5). */
static int ed_expand(const uint8_t seed[32], uint8_t out[64])
{
    unsigned int len = 0;
    if (EVP_Digest(seed, 32, out, &len, EVP_sha512(), NULL) != 1 || len != 64) return -1;
    out[0] &= 248;
    out[31] &= 127;
    out[31] |= 64;
    return 0;
}

/* tag: tor's "type0" for the master key, "type4" for the signing key (its certificate type). */
static int write_ed_secret(const om_relay_keys_t *k, const char *name, const char *tag,
                           const om_ed25519_keypair_t *kp)
{
    uint8_t ext[64];
    char seedname[128];
    if (ed_expand(kp->seed, ext) < 0) return -1;
    int r = write_tagged(k, name, "ed25519v1-secret", tag, ext, sizeof ext);
    om_memwipe(ext, sizeof ext);
    snprintf(seedname, sizeof seedname, "%s.seed", name);
    if (r == 0) r = write_tagged(k, seedname, "onionmesh-ed25519-seed", "type0", kp->seed, 32);
    return r;
}

/* 1 loaded, 0 absent, -1 malformed, -2 tor's file without our seed. */
static int read_ed_secret(const om_relay_keys_t *k, const char *name, const char *tag,
                          om_ed25519_keypair_t *kp)
{
    uint8_t seed[32], ext[64], ext2[64];
    size_t n = sizeof seed, n2 = sizeof ext;
    char seedname[128];
    snprintf(seedname, sizeof seedname, "%s.seed", name);
    int r = read_tagged(k, seedname, "onionmesh-ed25519-seed", "type0", seed, &n, NULL);
    int t = read_tagged(k, name, "ed25519v1-secret", tag, ext, &n2, NULL);
    int res;
    if (r == 0)
        res = t == 0 ? 0 : -2;
    else if (r < 0 || n != 32 || om_ed25519_from_seed(kp, seed) < 0)
        res = -1;
    else if (t == 1 && (n2 != 64 || ed_expand(seed, ext2) < 0 || memcmp(ext, ext2, 64) != 0))
        res = -1; /* the two files disagree */
    else
        res = 1;
    om_memwipe(seed, sizeof seed);
    om_memwipe(ext, sizeof ext);
    om_memwipe(ext2, sizeof ext2);
    return res;
}

static int new_signing_key(om_relay_keys_t *k, time_t now)
{
    om_ed25519_keypair_t sign;
    uint8_t cert[sizeof k->sign_cert];
    if (om_ed25519_keygen(&sign) < 0) return -1;
    time_t expires = now + OM_SIGNING_KEY_LIFETIME;
    int n = om_ed_cert_create(OM_CERTTYPE_ED_ID_SIGN, OM_CERT_KEYTYPE_ED25519, sign.pub, &k->ed_id,
                              true, expires, cert, sizeof cert);
    if (n < 0 || write_ed_secret(k, "ed25519_signing_secret_key", "type4", &sign) < 0 ||
        write_tagged(k, "ed25519_signing_cert", "ed25519v1-cert", "type4", cert, (size_t)n) < 0) {
        om_memwipe(&sign, sizeof sign);
        return -1;
    }
    om_memwipe(&k->ed_sign, sizeof k->ed_sign);
    k->ed_sign = sign;
    memcpy(k->sign_cert, cert, (size_t)n);
    k->sign_cert_len = (size_t)n;
    /* ed-cert expiry is in hours (cert-spec 2.1): what the certificate says counts. */
    om_ed_cert_t c;
    k->sign_cert_expires =
        om_ed_cert_parse(&c, cert, (size_t)n) == 0 ? (time_t)c.expiration_hours * 3600 : expires;
    om_memwipe(&sign, sizeof sign);
    return 0;
}

/* ---------------------------------------------------------------- curve25519 onion keys */

static int write_ntor(const om_relay_keys_t *k, const char *name, const om_x25519_keypair_t *kp)
{
    uint8_t b[64];
    memcpy(b, kp->sec, 32);
    memcpy(b + 32, kp->pub, 32);
    int r = write_tagged(k, name, "c25519v1", "onion", b, sizeof b);
    om_memwipe(b, sizeof b);
    return r;
}

static int read_ntor(const om_relay_keys_t *k, const char *name, om_x25519_keypair_t *kp,
                     time_t *mtime)
{
    uint8_t b[64], pub[32];
    size_t n = sizeof b;
    int r = read_tagged(k, name, "c25519v1", "onion", b, &n, mtime);
    if (r <= 0) return r;
    /* The stored public half must be the secret's (a torn or edited file otherwise). */
    if (n != 64 || om_x25519_pub_from_sec(b, pub) < 0 || memcmp(pub, b + 32, 32) != 0) {
        om_memwipe(b, sizeof b);
        return -1;
    }
    memcpy(kp->sec, b, 32);
    memcpy(kp->pub, b + 32, 32);
    om_memwipe(b, sizeof b);
    return 1;
}

/* An ntor key whose secret is the scalar of an Ed25519 key (clamped SHA-512 of a seed, RFC 8032
 * 5.1.5): X25519 clamps the same way, so it is an ordinary curve25519 key, and the Ed25519 key of
 * that seed is exactly the one tor derives from it for the descriptor's ntor-onion-key-crosscert
 * (the Edwards form of the same point, dir-spec "ntor-onion-key-crosscert"; the sign bit is the
 * top bit of its public key). OpenSSL signs Ed25519 only from a seed, so this is how the
 * crosscert can be made with EVP: keep the seed (secret_onion_key_ntor.seed). */
static int ntor_keygen(om_x25519_keypair_t *kp, uint8_t seed[32])
{
    uint8_t ext[64];
    if (om_rand_bytes(seed, 32) != 0 || ed_expand(seed, ext) < 0) return -1;
    memcpy(kp->sec, ext, 32);
    om_memwipe(ext, sizeof ext);
    return om_x25519_pub_from_sec(kp->sec, kp->pub);
}

static bool ntor_seed_matches(const uint8_t seed[32], const om_x25519_keypair_t *kp)
{
    uint8_t ext[64];
    bool ok = ed_expand(seed, ext) == 0 && om_mem_eq_ct(ext, kp->sec, 32);
    om_memwipe(ext, sizeof ext);
    return ok;
}

/* Make a new current ntor key; the current one (if any) becomes secret_onion_key_ntor.old. The
 * old key is written first, so a crash in between never loses the key clients still use. */
static int rotate_ntor(om_relay_keys_t *k, bool have_current, time_t now)
{
    om_x25519_keypair_t fresh;
    uint8_t seed[32];
    int r = -1;
    if (ntor_keygen(&fresh, seed) < 0) goto out;
    if (have_current && write_ntor(k, "secret_onion_key_ntor.old", &k->ntor) < 0) goto out;
    if (write_ntor(k, "secret_onion_key_ntor", &fresh) < 0 ||
        write_tagged(k, "secret_onion_key_ntor.seed", "onionmesh-ed25519-seed", "ntor", seed, 32) <
            0)
        goto out;
    if (have_current) {
        if (k->has_ntor_old) om_x25519_forget(k->ntor_old.sec);
        k->ntor_old = k->ntor;
        k->has_ntor_old = true;
        k->ntor_old_retired = now;
    }
    k->ntor = fresh;
    memcpy(k->ntor_seed, seed, 32);
    k->ntor_created = now;
    r = 0;
out:
    om_memwipe(&fresh, sizeof fresh);
    om_memwipe(seed, sizeof seed);
    return r;
}

/* ---------------------------------------------------------------- public */

static int mkdir_private(const char *path)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST) return -1;
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) return -1;
    if ((st.st_mode & 077) && chmod(path, 0700) < 0) return -1;
    return 0;
}

int om_relay_keys_load(om_relay_keys_t *k, const char *data_dir, time_t now, char *err,
                       size_t errlen)
{
    memset(k, 0, sizeof *k);
    if (!data_dir || !*data_dir) return om_errf(err, errlen, "no DataDirectory");
    if (mkdir_private(data_dir) < 0)
        return om_errf(err, errlen, "cannot create or use %s: %s", data_dir, strerror(errno));
    snprintf(k->keys_dir, sizeof k->keys_dir, "%s/keys", data_dir);
    if (mkdir_private(k->keys_dir) < 0)
        return om_errf(err, errlen, "cannot create or use %s: %s", k->keys_dir, strerror(errno));
    int created = 0;

    /* RSA identity */
    int r = load_or_create_rsa(k, "secret_id_key", &k->rsa_id, err, errlen);
    if (r < 0) goto bad;
    created += r;
    om_rsa_fingerprint(k->rsa_id, k->rsa_fp);

    /* Ed25519 master identity */
    r = read_ed_secret(k, "ed25519_master_id_secret_key", "type0", &k->ed_id);
    if (r == -2) {
        om_errf(
            err, errlen,
            "%s/ed25519_master_id_secret_key was made by tor: tor keeps only the expanded key and "
            "OpenSSL signs from the 32-byte seed, so onionmesh cannot use it (use a fresh "
            "DataDirectory)",
            k->keys_dir);
        goto bad;
    }
    if (r < 0) {
        om_errf(err, errlen, "%s/ed25519_master_id_secret_key: malformed", k->keys_dir);
        goto bad;
    }
    if (r == 0) {
        if (om_ed25519_keygen(&k->ed_id) < 0 ||
            write_ed_secret(k, "ed25519_master_id_secret_key", "type0", &k->ed_id) < 0) {
            om_errf(err, errlen, "cannot write %s/ed25519_master_id_secret_key", k->keys_dir);
            goto bad;
        }
        created++;
    }
    if (write_tagged(k, "ed25519_master_id_public_key", "ed25519v1-public", "type0", k->ed_id.pub,
                     32) < 0) {
        om_errf(err, errlen, "cannot write %s/ed25519_master_id_public_key", k->keys_dir);
        goto bad;
    }

    /* Signing key + certificate: must be ours, signed by the master key, and not expiring. */
    uint8_t cert[sizeof k->sign_cert];
    size_t cl = sizeof cert;
    r = read_ed_secret(k, "ed25519_signing_secret_key", "type4", &k->ed_sign);
    int rc =
        r == 1 ? read_tagged(k, "ed25519_signing_cert", "ed25519v1-cert", "type4", cert, &cl, NULL)
               : 0;
    om_ed_cert_t c;
    char why[128];
    bool usable = r == 1 && rc == 1 && om_ed_cert_parse(&c, cert, cl) == 0 &&
                  c.cert_type == OM_CERTTYPE_ED_ID_SIGN &&
                  memcmp(c.certified_key, k->ed_sign.pub, 32) == 0 &&
                  om_ed_cert_verify(&c, k->ed_id.pub, now, why, sizeof why) == 0 &&
                  (time_t)c.expiration_hours * 3600 > now + OM_SIGNING_KEY_SLOP;
    if (usable) {
        memcpy(k->sign_cert, cert, cl);
        k->sign_cert_len = cl;
        k->sign_cert_expires = (time_t)c.expiration_hours * 3600;
    } else {
        if (r == 1 || rc != 0)
            om_notice("Making a new Ed25519 signing key: the one in %s is missing, expiring or "
                      "does not match the identity",
                      k->keys_dir);
        if (new_signing_key(k, now) < 0) {
            om_errf(err, errlen, "cannot write the signing key in %s", k->keys_dir);
            goto bad;
        }
    }

    /* ntor onion keys */
    r = read_ntor(k, "secret_onion_key_ntor", &k->ntor, &k->ntor_created);
    if (r < 0) {
        om_errf(err, errlen, "%s/secret_onion_key_ntor: malformed", k->keys_dir);
        goto bad;
    }
    time_t old_mtime = 0;
    int ro = read_ntor(k, "secret_onion_key_ntor.old", &k->ntor_old, &old_mtime);
    if (ro == 1) {
        k->has_ntor_old = true;
        k->ntor_old_retired = old_mtime; /* written when it was retired */
    }
    size_t sl = sizeof k->ntor_seed;
    bool seeded = r == 1 &&
                  read_tagged(k, "secret_onion_key_ntor.seed", "onionmesh-ed25519-seed", "ntor",
                              k->ntor_seed, &sl, NULL) == 1 &&
                  sl == 32 && ntor_seed_matches(k->ntor_seed, &k->ntor);
    if (!seeded) {
        /* First start, or a key without its seed (made by tor, or a torn rotation): a new one.
         * The one we had stays usable for the grace period. */
        if (r == 1)
            om_notice("The ntor onion key in %s has no matching seed file; making a new one",
                      k->keys_dir);
        if (rotate_ntor(k, r == 1, now) < 0) {
            om_errf(err, errlen, "cannot write %s/secret_onion_key_ntor", k->keys_dir);
            goto bad;
        }
    }

    /* TAP key: publication only (proposal 350). */
    if (load_or_create_rsa(k, "secret_onion_key", &k->tap, err, errlen) < 0) goto bad;
    if (created) om_notice("Created new relay identity keys in %s", k->keys_dir);
    return 0;
bad:
    om_relay_keys_free(k);
    return -1;
}

int om_relay_keys_maintain(om_relay_keys_t *k, time_t now, int rotation_days, int grace_days,
                           char *err, size_t errlen)
{
    if (rotation_days <= 0) rotation_days = OM_ONION_KEY_ROTATION_DAYS;
    if (grace_days <= 0) grace_days = OM_ONION_KEY_GRACE_DAYS;
    int changed = 0;
    if (now - k->ntor_created >= (time_t)rotation_days * 86400) {
        if (rotate_ntor(k, true, now) < 0)
            return om_errf(err, errlen, "cannot write the rotated ntor key in %s", k->keys_dir);
        om_notice("Rotated the ntor onion key (the previous one is accepted for %d more days)",
                  grace_days);
        changed |= OM_KEYS_CHANGED_NTOR;
    }
    if (k->has_ntor_old && now - k->ntor_old_retired >= (time_t)grace_days * 86400) {
        char path[600];
        path_of(k, "secret_onion_key_ntor.old", path, sizeof path);
        unlink(path);
        om_x25519_forget(k->ntor_old.sec);
        om_memwipe(&k->ntor_old, sizeof k->ntor_old);
        k->has_ntor_old = false;
    }
    if (k->sign_cert_expires - now <= OM_SIGNING_KEY_SLOP) {
        if (new_signing_key(k, now) < 0)
            return om_errf(err, errlen, "cannot renew the signing key in %s", k->keys_dir);
        om_notice("Renewed the Ed25519 signing key");
        changed |= OM_KEYS_CHANGED_SIGNING;
    }
    return changed;
}

void om_relay_fingerprint_spaced(const uint8_t fp[20], char *out)
{
    char hex[41];
    om_hex_encode(fp, 20, hex);
    size_t o = 0;
    for (int i = 0; i < 40; i += 4) {
        if (i) out[o++] = ' ';
        memcpy(out + o, hex + i, 4);
        o += 4;
    }
    out[o] = 0;
}

void om_relay_ed25519_b64(const uint8_t pub[32], char *out)
{
    om_base64_encode(pub, 32, out, 44, true);
}

int om_relay_keys_write_fingerprints(const om_relay_keys_t *k, const char *data_dir,
                                     const char *nickname)
{
    char path[600], line[160], hex[41], b64[44];
    om_hex_encode(k->rsa_fp, 20, hex);
    snprintf(path, sizeof path, "%s/fingerprint", data_dir);
    int n = snprintf(line, sizeof line, "%s %s\n", nickname, hex);
    if (write_file(path, line, (size_t)n) < 0) return -1;
    om_relay_ed25519_b64(k->ed_id.pub, b64);
    snprintf(path, sizeof path, "%s/fingerprint-ed25519", data_dir);
    n = snprintf(line, sizeof line, "%s %s\n", nickname, b64);
    return write_file(path, line, (size_t)n);
}

int om_relay_keys_link_identity(const om_relay_keys_t *k, om_identity_t *id)
{
    return om_identity_from_keys(id, k->rsa_id, &k->ed_id, &k->ed_sign, k->sign_cert,
                                 k->sign_cert_len);
}

void om_relay_keys_free(om_relay_keys_t *k)
{
    if (!k) return;
    om_rsa_free(k->rsa_id);
    om_rsa_free(k->tap);
    om_x25519_forget(k->ntor.sec);
    if (k->has_ntor_old) om_x25519_forget(k->ntor_old.sec);
    om_memwipe(k, sizeof *k);
}
