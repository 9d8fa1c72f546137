/* test_relay_keys.c — src/or/relay_keys.c: keys created on first start with mode 0600 in a 0700
 * directory, the same identity after a reload, tor's file formats, rotation of the ntor key with
 * a grace period, signing key renewal, refusal of malformed and tor-made files. (That tor itself
 * reads these files is tests/interop/relay-keys-test.sh.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>

#include "core/cert.h"
#include "core/crypto.h"
#include "or/relay_keys.h"
#include "test.h"

static char dir[64];

static void fresh_dir(void)
{
    if (dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) { /* best effort */
        }
    }
    snprintf(dir, sizeof dir, "/tmp/om-relay-keys-XXXXXX");
    if (!mkdtemp(dir)) dir[0] = 0;
}

static int mode_of(const char *name)
{
    char p[256];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static long size_of(const char *name)
{
    char p[256];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static void test_create_then_reload_same_identity(void)
{
    fresh_dir();
    CHECK(dir[0]);
    om_relay_keys_t a, b;
    char err[256];
    time_t now = time(NULL);
    CHECK_MSG(om_relay_keys_load(&a, dir, now, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(mode_of("keys"), 0700);
    static const char *const files[] = {"secret_id_key",
                                        "ed25519_master_id_secret_key",
                                        "ed25519_master_id_secret_key.seed",
                                        "ed25519_master_id_public_key",
                                        "ed25519_signing_secret_key",
                                        "ed25519_signing_cert",
                                        "secret_onion_key_ntor",
                                        "secret_onion_key"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char n[128];
        snprintf(n, sizeof n, "keys/%s", files[i]);
        CHECK_MSG(mode_of(n) == 0600, "%s mode %o", files[i], mode_of(n));
    }
    /* tor's sizes: 32-byte tag + 64 (secret), + 32 (public), + 64 (ntor secret + public) */
    CHECK_EQ_INT(size_of("keys/ed25519_master_id_secret_key"), 96);
    CHECK_EQ_INT(size_of("keys/ed25519_master_id_public_key"), 64);
    CHECK_EQ_INT(size_of("keys/secret_onion_key_ntor"), 96);
    CHECK(om_rsa_bits(a.rsa_id) == 1024 && om_rsa_bits(a.tap) == 1024);
    CHECK(a.sign_cert_expires > now + 29 * 86400);
    CHECK(!a.has_ntor_old);

    CHECK_MSG(om_relay_keys_load(&b, dir, now + 60, err, sizeof err) == 0, "%s", err);
    CHECK(memcmp(a.rsa_fp, b.rsa_fp, 20) == 0);
    CHECK(memcmp(a.ed_id.pub, b.ed_id.pub, 32) == 0);
    CHECK(memcmp(a.ed_id.seed, b.ed_id.seed, 32) == 0);
    CHECK(memcmp(a.ed_sign.pub, b.ed_sign.pub, 32) == 0);
    CHECK(memcmp(a.ntor.pub, b.ntor.pub, 32) == 0 && memcmp(a.ntor.sec, b.ntor.sec, 32) == 0);
    CHECK(a.sign_cert_len == b.sign_cert_len &&
          memcmp(a.sign_cert, b.sign_cert, a.sign_cert_len) == 0);

    /* The signing certificate verifies under the master key and certifies the signing key. */
    om_ed_cert_t c;
    char why[128];
    CHECK(om_ed_cert_parse(&c, b.sign_cert, b.sign_cert_len) == 0);
    CHECK(c.cert_type == OM_CERTTYPE_ED_ID_SIGN);
    CHECK(memcmp(c.certified_key, b.ed_sign.pub, 32) == 0);
    CHECK_MSG(om_ed_cert_verify(&c, b.ed_id.pub, now, why, sizeof why) == 0, "%s", why);

    /* The link identity built from them carries the same identities. */
    om_identity_t id;
    CHECK(om_relay_keys_link_identity(&b, &id) == 0);
    CHECK(memcmp(id.rsa_fp, b.rsa_fp, 20) == 0 && memcmp(id.ed_id.pub, b.ed_id.pub, 32) == 0);
    om_identity_free(&id);

    CHECK(om_relay_keys_write_fingerprints(&b, dir, "keytest") == 0);
    char p[256], line[128], hex[41], b64[44];
    snprintf(p, sizeof p, "%s/fingerprint", dir);
    FILE *f = fopen(p, "r");
    CHECK(f && fgets(line, sizeof line, f));
    fclose(f);
    om_hex_encode(b.rsa_fp, 20, hex);
    char want[128];
    snprintf(want, sizeof want, "keytest %s\n", hex);
    CHECK_MSG(strcmp(line, want) == 0, "fingerprint file: %s", line);
    om_relay_ed25519_b64(b.ed_id.pub, b64);
    CHECK(strlen(b64) == 43);
    char spaced[50];
    om_relay_fingerprint_spaced(b.rsa_fp, spaced);
    CHECK(strlen(spaced) == 49 && spaced[4] == ' ' && memcmp(spaced, hex, 4) == 0);
    om_relay_keys_free(&a);
    om_relay_keys_free(&b);
}

static void test_ntor_rotation_and_grace(void)
{
    fresh_dir();
    om_relay_keys_t k, r;
    char err[256];
    time_t t0 = time(NULL);
    CHECK(om_relay_keys_load(&k, dir, t0, err, sizeof err) == 0);
    uint8_t first[32];
    memcpy(first, k.ntor.pub, 32);
    k.ntor_created = t0; /* the file's mtime; pin it for the arithmetic below */
    CHECK_EQ_INT(om_relay_keys_maintain(&k, t0 + 27 * 86400, 0, 0, err, sizeof err), 0);
    int ch = om_relay_keys_maintain(&k, t0 + 28 * 86400, 0, 0, err, sizeof err);
    CHECK_EQ_INT(ch & OM_KEYS_CHANGED_NTOR, OM_KEYS_CHANGED_NTOR);
    CHECK(memcmp(k.ntor.pub, first, 32) != 0);
    CHECK(k.has_ntor_old && memcmp(k.ntor_old.pub, first, 32) == 0);
    CHECK_EQ_INT(mode_of("keys/secret_onion_key_ntor.old"), 0600);
    /* A restart in the grace period still has both keys. */
    CHECK(om_relay_keys_load(&r, dir, t0 + 29 * 86400, err, sizeof err) == 0);
    CHECK(r.has_ntor_old && memcmp(r.ntor_old.pub, first, 32) == 0);
    CHECK(memcmp(r.ntor.pub, k.ntor.pub, 32) == 0);
    om_relay_keys_free(&r);
    /* After the grace period the old key is gone, from memory and disk. */
    om_relay_keys_maintain(&k, t0 + 28 * 86400 + 6 * 86400, 0, 0, err, sizeof err);
    CHECK(k.has_ntor_old);
    om_relay_keys_maintain(&k, t0 + 28 * 86400 + 7 * 86400, 0, 0, err, sizeof err);
    CHECK(!k.has_ntor_old);
    CHECK_EQ_INT(mode_of("keys/secret_onion_key_ntor.old"), -1);
    om_relay_keys_free(&k);
}

static void test_signing_key_renewed(void)
{
    fresh_dir();
    om_relay_keys_t k, r;
    char err[256];
    time_t t0 = time(NULL);
    CHECK(om_relay_keys_load(&k, dir, t0, err, sizeof err) == 0);
    uint8_t first[32];
    memcpy(first, k.ed_sign.pub, 32);
    CHECK_EQ_INT(om_relay_keys_maintain(&k, t0 + 20 * 86400, 0, 0, err, sizeof err) &
                     OM_KEYS_CHANGED_SIGNING,
                 0);
    /* A load when the certificate is about to expire makes a new one right away. */
    CHECK(om_relay_keys_load(&r, dir, k.sign_cert_expires - 3600, err, sizeof err) == 0);
    CHECK(memcmp(r.ed_sign.pub, first, 32) != 0);
    CHECK(memcmp(r.ed_id.pub, k.ed_id.pub, 32) == 0);
    om_relay_keys_free(&r);
    int ch = om_relay_keys_maintain(&k, k.sign_cert_expires - 3600, 0, 0, err, sizeof err);
    CHECK(ch >= 0 && (ch & OM_KEYS_CHANGED_SIGNING));
    CHECK(memcmp(k.ed_sign.pub, first, 32) != 0);
    om_relay_keys_free(&k);
}

static void write_raw(const char *name, const void *data, size_t n)
{
    char p[256];
    snprintf(p, sizeof p, "%s/keys/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

static void test_bad_files_refused(void)
{
    om_relay_keys_t k;
    char err[256];
    time_t now = time(NULL);
    /* A truncated RSA key. */
    fresh_dir();
    CHECK(om_relay_keys_load(&k, dir, now, err, sizeof err) == 0);
    om_relay_keys_free(&k);
    write_raw("secret_id_key", "-----BEGIN RSA PRIVATE KEY-----\nMIIC\n", 37);
    CHECK(om_relay_keys_load(&k, dir, now, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "secret_id_key"), "%s", err);
    /* An ntor file whose public half does not match its secret. */
    fresh_dir();
    CHECK(om_relay_keys_load(&k, dir, now, err, sizeof err) == 0);
    om_relay_keys_free(&k);
    uint8_t nt[96];
    memset(nt, 0, sizeof nt);
    snprintf((char *)nt, 32, "== c25519v1: onion ==");
    memset(nt + 32, 7, 64);
    write_raw("secret_onion_key_ntor", nt, sizeof nt);
    CHECK(om_relay_keys_load(&k, dir, now, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "secret_onion_key_ntor"), "%s", err);
    /* Wrong tag. */
    snprintf((char *)nt, 32, "== c25519v1: other ==");
    write_raw("secret_onion_key_ntor", nt, sizeof nt);
    CHECK(om_relay_keys_load(&k, dir, now, err, sizeof err) == -1);
    /* A tor-made master key (no seed file): a clear refusal, not a new identity. */
    fresh_dir();
    CHECK(om_relay_keys_load(&k, dir, now, err, sizeof err) == 0);
    om_relay_keys_free(&k);
    char p[256];
    snprintf(p, sizeof p, "%s/keys/ed25519_master_id_secret_key.seed", dir);
    CHECK(unlink(p) == 0);
    CHECK(om_relay_keys_load(&k, dir, now, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "made by tor"), "%s", err);
}

/* The ntor key's secret is the Ed25519 scalar of its seed, so the Ed25519 public key of the seed
 * is the Edwards form of the ntor public key: u = (1 + y) / (1 - y) mod 2^255 - 19 (RFC 7748
 * 4.1). That is the key tor derives to check ntor-onion-key-crosscert. */
static void test_ntor_key_is_edwards_twin_of_seed(void)
{
    fresh_dir();
    om_relay_keys_t k;
    char err[256];
    CHECK(om_relay_keys_load(&k, dir, time(NULL), err, sizeof err) == 0);
    om_ed25519_keypair_t ed;
    CHECK(om_ed25519_from_seed(&ed, k.ntor_seed) == 0);
    uint8_t ybe[32], ube[32], want_be[32];
    for (int i = 0; i < 32; i++)
        ybe[i] = ed.pub[31 - i];
    ybe[0] &= 0x7f; /* drop the sign bit */
    BN_CTX *bc = BN_CTX_new();
    BIGNUM *p = BN_new(), *y = BN_bin2bn(ybe, 32, NULL), *num = BN_new(), *den = BN_new(),
           *u = BN_new();
    CHECK(bc && p && y && num && den && u);
    BN_set_bit(p, 255);
    BN_sub_word(p, 19);
    BN_copy(num, y);
    BN_add_word(num, 1);
    BN_one(den);
    BN_mod_sub(den, den, y, p, bc);
    CHECK(BN_mod_inverse(den, den, p, bc));
    BN_mod_mul(u, num, den, p, bc);
    CHECK(BN_bn2binpad(u, ube, 32) == 32);
    for (int i = 0; i < 32; i++)
        want_be[i] = k.ntor.pub[31 - i];
    bool same = memcmp(ube, want_be, 32) == 0;
    BN_free(p);
    BN_free(y);
    BN_free(num);
    BN_free(den);
    BN_free(u);
    BN_CTX_free(bc);
    CHECK(same);
    /* A key without its seed file (tor's) is replaced at load; the old one stays for the grace
     * period. */
    uint8_t first[32];
    memcpy(first, k.ntor.pub, 32);
    om_relay_keys_free(&k);
    char path[256];
    snprintf(path, sizeof path, "%s/keys/secret_onion_key_ntor.seed", dir);
    CHECK(unlink(path) == 0);
    CHECK(om_relay_keys_load(&k, dir, time(NULL), err, sizeof err) == 0);
    CHECK(memcmp(k.ntor.pub, first, 32) != 0);
    CHECK(k.has_ntor_old && memcmp(k.ntor_old.pub, first, 32) == 0);
    om_relay_keys_free(&k);
}

static const om_test_t tests[] = {
    OM_TEST(test_ntor_key_is_edwards_twin_of_seed),
    OM_TEST(test_create_then_reload_same_identity),
    OM_TEST(test_ntor_rotation_and_grace),
    OM_TEST(test_signing_key_renewed),
    OM_TEST(test_bad_files_refused),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    int r = om_test_main("relay_keys", tests, argc, argv);
    fresh_dir(); /* removes the last one */
    rmdir(dir);
    return r;
}
