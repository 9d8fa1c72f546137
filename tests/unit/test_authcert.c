/* test_authcert.c — unit tests for authcert.c: the three real key certificates of the testnet
 * snapshot (tests/data/testnet-snapshot/keys-all, tor-gencert from tor 0.4.9.11), their
 * identities cross-checked against the torrc DirAuthority lines and the consensus signatures;
 * tampered fingerprints, certifications and crosscerts; expiry reporting; truncation at every
 * offset; and certificates built here with fresh keys to reach each rule independently
 * (missing/duplicate items, unknown items, object types, key sizes). */
#include "test.h"

#include "core/crypto.h"
#include "dir/authcert.h"
#include "dir/netdoc.h"

static char *load(const char *name, size_t *len)
{
    char rel[256];
    snprintf(rel, sizeof rel, "testnet-snapshot/%s", name);
    return om_test_read_data(rel, len);
}

/* From the DirAuthority lines in the README (the torrc), in keys-all order. */
static const char *const v3ident_hex[3] = {
    "2294432174E7CF2BB0914A509C1E955DCA35EB6E",
    "7CBA18A8EED044F5DA4D43D8439C66F0E94519E8",
    "44BDAE19610F6045A72216FD5608EE0858B4515D",
};
/* The signing-key digests on the consensus's directory-signature lines for each authority. */
static const char *const signing_hex[3] = {
    "90C0964EEBD60297D51D9E48CB2C0E82F09114EE",
    "2292356A18475C41D8463805093F7F722B273AF5",
    "036CF102C56C3844E64DAA1D5F0CDC8C09C25CB2",
};

/* Replace the n-th (0-based) occurrence of `from` in text with `to`; malloc'd, or NULL. */
static char *replace_nth(const char *text, const char *from, const char *to, int nth, size_t *len)
{
    const char *at = text;
    for (int i = 0;; i++) {
        at = strstr(at, from);
        if (!at) return NULL;
        if (i == nth) break;
        at++;
    }
    size_t fl = strlen(from), tl = strlen(to), pre = (size_t)(at - text);
    size_t n = strlen(text) - fl + tl;
    char *out = malloc(n + 1);
    memcpy(out, text, pre);
    memcpy(out + pre, to, tl);
    strcpy(out + pre + tl, at + fl);
    *len = n;
    return out;
}

/* Change one base64 character in the middle of the object that follows `kw` (nth occurrence)
 * to a different base64 character, keeping the object decodable. */
static char *flip_object(const char *text, const char *kw, int nth, size_t *len)
{
    const char *at = text;
    for (int i = 0; i <= nth; i++) {
        at = strstr(at, kw);
        if (!at) return NULL;
        at += strlen(kw);
    }
    const char *body = strstr(at, "-----\n");
    if (!body) return NULL;
    body += 6 + 20; /* inside the first base64 line */
    size_t pos = (size_t)(body - text);
    char *out = strdup(text);
    out[pos] = out[pos] == 'A' ? 'B' : 'A';
    *len = strlen(out);
    return out;
}

static om_authcert_t **parse(const char *t, size_t len, size_t *n, char *err, size_t errlen)
{
    /* An exactly-sized copy so ASan sees over-reads. */
    char *copy = malloc(len ? len : 1);
    memcpy(copy, t, len);
    om_authcert_t **c = om_authcert_parse_many(copy, len, n, err, errlen);
    free(copy);
    return c;
}

static void test_snapshot_certs(void)
{
    size_t len, n = 0;
    char *t = load("keys-all", &len), err[256] = "";
    CHECK(t != NULL);
    om_authcert_t **c = parse(t, len, &n, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    CHECK_EQ_INT(n, 3);
    for (int i = 0; i < 3; i++) {
        uint8_t want[20];
        om_test_unhex(v3ident_hex[i], want, 20);
        CHECK_MEM(c[i]->v3ident, want, 20);
        om_test_unhex(signing_hex[i], want, 20);
        CHECK_MEM(c[i]->signing_digest, want, 20);
        CHECK_EQ_INT(om_rsa_bits(c[i]->identity_key), 3072);
        CHECK_EQ_INT(om_rsa_bits(c[i]->signing_key), 2048);
        CHECK(c[i]->has_dir_address);
        CHECK_MEM(c[i]->dir_ipv4, "\x7f\x00\x00\x01", 4);
        CHECK_EQ_INT(c[i]->dir_port, 27110 + i);
        uint8_t fp[20];
        CHECK_EQ_INT(om_rsa_fingerprint(c[i]->identity_key, fp), 0);
        CHECK_MEM(fp, c[i]->v3ident, 20);
    }
    /* dir-key-published 2026-11-22 09:02:34, dir-key-expires 2027-11-22 09:02:34 (timegm). */
    CHECK_EQ_INT(c[0]->published, 1795338154LL);
    CHECK_EQ_INT(c[0]->expires, 1795338154LL + 365 * 86400);
    CHECK_EQ_INT(c[2]->published, 1795338157LL);
    om_authcert_free_array(c, n);
    free(t);
}

static void test_check_time(void)
{
    size_t len, n = 0;
    char *t = load("keys-all", &len), err[256] = "";
    CHECK(t != NULL);
    om_authcert_t **c = parse(t, len, &n, err, sizeof err);
    CHECK(c != NULL);
    time_t va = 1795338860; /* the snapshot consensus's valid-after */
    CHECK_EQ_INT(om_authcert_check_time(c[0], va, 0, err, sizeof err), 0);
    CHECK_EQ_INT(om_authcert_check_time(c[0], c[0]->expires, 0, err, sizeof err), 0);
    CHECK_EQ_INT(om_authcert_check_time(c[0], c[0]->expires + 1, 0, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "expired at 2027-11-22 09:02:34") != NULL, "%s", err);
    CHECK(strstr(err, v3ident_hex[0]) != NULL);
    CHECK_EQ_INT(om_authcert_check_time(c[0], c[0]->expires + 3600, 3600, err, sizeof err), 0);
    CHECK_EQ_INT(om_authcert_check_time(c[0], c[0]->published - 10, 0, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "published in the future") != NULL, "%s", err);
    CHECK_EQ_INT(om_authcert_check_time(c[0], c[0]->published - 10, 60, err, sizeof err), 0);
    om_authcert_free_array(c, n);
    free(t);
}

static void expect_reject(const char *t, size_t len, const char *needle)
{
    size_t n = 99;
    char err[256] = "";
    om_authcert_t **c = parse(t, len, &n, err, sizeof err);
    if (c || n != 0 || !strstr(err, needle)) {
        snprintf(om_test_reason, sizeof om_test_reason, "parsed=%d n=%zu err='%s' want '%s'",
                 c != NULL, n, err, needle);
        om_test_failed_flag = 1;
    }
    om_authcert_free_array(c, n);
}

static void test_tampered_snapshot(void)
{
    size_t len, ml;
    char *t = load("keys-all", &len);
    CHECK(t != NULL);
    char *m;
    /* Another authority's fingerprint on auth0's certificate. */
    m = replace_nth(t, "fingerprint 2294432174E7CF2BB0914A509C1E955DCA35EB6E",
                    "fingerprint 7CBA18A8EED044F5DA4D43D8439C66F0E94519E8", 0, &ml);
    CHECK(m != NULL);
    expect_reject(m, ml, "fingerprint does not match dir-identity-key");
    free(m);
    /* One base64 character of a signature changed, in each of the three certificates. */
    for (int i = 0; i < 3; i++) {
        m = flip_object(t, "dir-key-certification\n", i, &ml);
        CHECK(m != NULL);
        expect_reject(m, ml, "bad dir-key-certification signature");
        free(m);
        m = flip_object(t, "dir-key-crosscert\n", i, &ml);
        CHECK(m != NULL);
        expect_reject(m, ml, "bad dir-key-crosscert signature");
        free(m);
    }
    /* A signed byte changed: the address. */
    m = replace_nth(t, "dir-address 127.0.0.1:27111", "dir-address 127.0.0.2:27111", 0, &ml);
    CHECK(m != NULL);
    expect_reject(m, ml, "bad dir-key-certification signature");
    free(m);
    /* auth1's crosscert on auth0's certificate. */
    {
        const char *c0 = strstr(t, "dir-key-crosscert\n");
        const char *c1 = strstr(c0 + 1, "dir-key-crosscert\n");
        const char *e0 = strstr(c0, "dir-key-certification\n");
        const char *e1 = strstr(c1, "dir-key-certification\n");
        size_t pre = (size_t)(c0 - t), l1 = (size_t)(e1 - c1);
        char *s = malloc(len + 1024);
        memcpy(s, t, pre);
        memcpy(s + pre, c1, l1);
        strcpy(s + pre + l1, e0);
        expect_reject(s, strlen(s), "bad dir-key-crosscert signature");
        free(s);
    }
    /* The signing key swapped for the identity key: the crosscert no longer verifies. */
    {
        const char *ik = strstr(t, "dir-identity-key\n") + strlen("dir-identity-key\n");
        const char *ike = strstr(ik, "dir-signing-key\n");
        const char *sk = strstr(t, "dir-signing-key\n") + strlen("dir-signing-key\n");
        const char *ske = strstr(sk, "dir-key-crosscert");
        char *s = malloc(len + 2048);
        size_t o = 0;
        memcpy(s, t, (size_t)(sk - t));
        o = (size_t)(sk - t);
        memcpy(s + o, ik, (size_t)(ike - ik));
        o += (size_t)(ike - ik);
        strcpy(s + o, ske);
        expect_reject(s, strlen(s), "bad dir-key-crosscert signature");
        free(s);
    }
    free(t);
}

static void test_truncated_everywhere(void)
{
    size_t len;
    char *t = load("keys-all", &len);
    CHECK(t != NULL);
    const char *b1 = strstr(t + 1, "dir-key-certificate-version");
    const char *b2 = strstr(b1 + 1, "dir-key-certificate-version");
    size_t ends[3] = {(size_t)(b1 - t), (size_t)(b2 - t), len}; /* after each cert's NL */
    for (size_t cut = 0; cut < len; cut++) {
        size_t n = 0;
        char err[256];
        om_authcert_t **c = parse(t, cut, &n, err, sizeof err);
        size_t want = 0;
        for (int k = 0; k < 3; k++)
            if (cut == ends[k] || cut == ends[k] - 1) /* the final NL may be missing */
                want = (size_t)k + 1;
        CHECK_MSG((c != NULL) == (want != 0) && n == want, "cut %zu: parsed=%d n=%zu", cut,
                  c != NULL, n);
        om_authcert_free_array(c, n);
    }
    free(t);
}

static void test_malformed_bytes(void)
{
    size_t len;
    char *t = load("keys-all", &len);
    CHECK(t != NULL);
    /* NUL bytes anywhere. */
    for (size_t pos = 0; pos < len; pos += 97) {
        char *m = malloc(len);
        memcpy(m, t, len);
        m[pos] = '\0';
        expect_reject(m, len, "authcert");
        free(m);
        if (om_test_failed_flag) break;
    }
    size_t ml;
    char *m = replace_nth(t, "-----BEGIN RSA PUBLIC KEY-----\nMIIB",
                          "-----BEGIN RSA PUBLIC KEY-----\nMI*B", 0, &ml);
    expect_reject(m, ml, "bad character 0x2a");
    free(m);
    m = replace_nth(t, "-----END ID SIGNATURE-----", "-----END SIGNATURE-----", 0, &ml);
    expect_reject(m, ml, "does not match");
    free(m);
    m = replace_nth(t, "dir-key-certificate-version 3", "dir-key-certificate-version 4", 1, &ml);
    expect_reject(m, ml, "unsupported dir-key-certificate-version");
    free(m);
    m = replace_nth(t, "dir-key-expires 2027-11-22 09:02:34", "dir-key-expires 2027-11-31 09:02:34",
                    0, &ml);
    expect_reject(m, ml, "malformed dir-key-expires");
    free(m);
    /* A huge line. */
    size_t big = OM_NETDOC_MAX_LINE + 100;
    char *h = malloc(len + big + 32);
    size_t o = (size_t)sprintf(h, "dir-x-padding ");
    memset(h + o, 'x', big);
    o += big;
    h[o++] = '\n';
    memcpy(h + o, t, len);
    expect_reject(h, o + len, "longer than");
    free(h);
    expect_reject("", 0, "no certificate");
    expect_reject("\n\n", 2, "no certificate");
    expect_reject("fingerprint 2294432174E7CF2BB0914A509C1E955DCA35EB6E\n", 53,
                  "expected dir-key-certificate-version");
    free(t);
}

/* ---- certificates built here ---- */

static om_rsa_t *id_key, *sign_key, *small_key;

static void setup_keys(void)
{
    if (!id_key) id_key = om_rsa_generate(1024);
    if (!sign_key) sign_key = om_rsa_generate(1024);
    if (!small_key) small_key = om_rsa_generate(512);
}

static size_t append_b64_object(char *out, const char *type, const uint8_t *data, size_t n)
{
    char b64[1400];
    int bl = om_base64_encode(data, n, b64, sizeof b64, false);
    size_t o = (size_t)sprintf(out, "-----BEGIN %s-----\n", type);
    for (int i = 0; i < bl; i += 64) {
        int take = bl - i < 64 ? bl - i : 64;
        memcpy(out + o, b64 + i, (size_t)take);
        o += (size_t)take;
        out[o++] = '\n';
    }
    o += (size_t)sprintf(out + o, "-----END %s-----\n", type);
    return o;
}

typedef struct {
    const char *version;    /* default "3" */
    const char *published;  /* default "2026-01-01 00:00:00" */
    const char *expires;    /* default "2026-07-01 00:00:00" */
    const char *extra;      /* inserted after dir-key-expires (a full line with NL) */
    const char *cross_type; /* default "ID SIGNATURE" */
    om_rsa_t *identity;     /* default id_key */
    om_rsa_t *cross_signer; /* default sign_key */
    bool omit_fingerprint, omit_published, omit_crosscert, twice_fingerprint;
    const char *idkey_args; /* arguments on the dir-identity-key line */
} spec_t;

/* A signed certificate in out (>= 8 KiB); returns its length. */
static size_t build_cert(char *out, const spec_t *s)
{
    om_rsa_t *idk = s->identity ? s->identity : id_key;
    uint8_t fp[20];
    char hex[41];
    om_rsa_fingerprint(idk, fp);
    om_hex_encode(fp, 20, hex);
    char *idpem = om_rsa_public_pem(idk), *skpem = om_rsa_public_pem(sign_key);
    size_t o = 0;
    o +=
        (size_t)sprintf(out + o, "dir-key-certificate-version %s\n", s->version ? s->version : "3");
    o += (size_t)sprintf(out + o, "dir-address 10.0.0.1:9030\n");
    if (!s->omit_fingerprint) o += (size_t)sprintf(out + o, "fingerprint %s\n", hex);
    if (s->twice_fingerprint) o += (size_t)sprintf(out + o, "fingerprint %s\n", hex);
    if (!s->omit_published)
        o += (size_t)sprintf(out + o, "dir-key-published %s\n",
                             s->published ? s->published : "2026-01-01 00:00:00");
    o += (size_t)sprintf(out + o, "dir-key-expires %s\n",
                         s->expires ? s->expires : "2026-07-01 00:00:00");
    if (s->extra) o += (size_t)sprintf(out + o, "%s", s->extra);
    o += (size_t)sprintf(out + o, "dir-identity-key%s%s\n%s", s->idkey_args ? " " : "",
                         s->idkey_args ? s->idkey_args : "", idpem);
    o += (size_t)sprintf(out + o, "dir-signing-key\n%s", skpem);
    if (!s->omit_crosscert) {
        uint8_t sig[512];
        size_t sl = 0;
        om_rsa_sign_raw(s->cross_signer ? s->cross_signer : sign_key, fp, 20, sig, &sl);
        o += (size_t)sprintf(out + o, "dir-key-crosscert\n");
        o += append_b64_object(out + o, s->cross_type ? s->cross_type : "ID SIGNATURE", sig, sl);
    }
    o += (size_t)sprintf(out + o, "dir-key-certification\n");
    uint8_t d[20], sig[512];
    size_t sl = 0;
    om_sha1((const uint8_t *)out, o, d);
    om_rsa_sign_raw(idk, d, 20, sig, &sl);
    o += append_b64_object(out + o, "SIGNATURE", sig, sl);
    free(idpem);
    free(skpem);
    return o;
}

static void test_built_certs(void)
{
    setup_keys();
    CHECK(id_key && sign_key && small_key);
    char buf[8192], err[256];
    size_t n, len;
    spec_t s;

    memset(&s, 0, sizeof s);
    len = build_cert(buf, &s);
    om_authcert_t **c = parse(buf, len, &n, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    CHECK_EQ_INT(n, 1);
    uint8_t fp[20];
    om_rsa_fingerprint(id_key, fp);
    CHECK_MEM(c[0]->v3ident, fp, 20);
    om_rsa_fingerprint(sign_key, fp);
    CHECK_MEM(c[0]->signing_digest, fp, 20);
    CHECK_EQ_INT(c[0]->dir_port, 9030);
    /* Expired: the caller's check reports it (2026-07-01 00:00:00 = 1782864000). */
    CHECK_EQ_INT(c[0]->expires, 1782864000LL);
    CHECK_EQ_INT(om_authcert_check_time(c[0], 1782864000 + 86400, 300, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "expired at 2026-07-01 00:00:00") != NULL, "%s", err);
    om_authcert_free_array(c, n);

    /* Accepted variants: crosscert object "SIGNATURE"; an unknown dir-* item. */
    memset(&s, 0, sizeof s);
    s.cross_type = "SIGNATURE";
    len = build_cert(buf, &s);
    c = parse(buf, len, &n, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    om_authcert_free_array(c, n);
    memset(&s, 0, sizeof s);
    s.extra = "dir-future-item 1 2 3\n";
    len = build_cert(buf, &s);
    c = parse(buf, len, &n, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    om_authcert_free_array(c, n);

    /* Rejected though correctly signed. */
    memset(&s, 0, sizeof s);
    s.extra = "r relay0 IymxGfy629Ga09+V6DWUjX4JL28\n";
    len = build_cert(buf, &s);
    expect_reject(buf, len, "unexpected item 'r'");
    memset(&s, 0, sizeof s);
    s.extra = "directory-footer\n";
    len = build_cert(buf, &s);
    expect_reject(buf, len, "unexpected item 'directory-footer'");
    memset(&s, 0, sizeof s);
    s.cross_type = "RSA SIGNATURE";
    len = build_cert(buf, &s);
    expect_reject(buf, len, "dir-key-crosscert object type");
    memset(&s, 0, sizeof s);
    s.cross_signer = id_key;
    len = build_cert(buf, &s);
    expect_reject(buf, len, "bad dir-key-crosscert signature");
    memset(&s, 0, sizeof s);
    s.omit_fingerprint = true;
    len = build_cert(buf, &s);
    expect_reject(buf, len, "missing fingerprint");
    memset(&s, 0, sizeof s);
    s.omit_published = true;
    len = build_cert(buf, &s);
    expect_reject(buf, len, "missing dir-key-published");
    memset(&s, 0, sizeof s);
    s.omit_crosscert = true;
    len = build_cert(buf, &s);
    expect_reject(buf, len, "missing dir-key-crosscert");
    memset(&s, 0, sizeof s);
    s.twice_fingerprint = true;
    len = build_cert(buf, &s);
    expect_reject(buf, len, "fingerprint appears twice");
    memset(&s, 0, sizeof s);
    s.version = "4";
    len = build_cert(buf, &s);
    expect_reject(buf, len, "unsupported dir-key-certificate-version");
    memset(&s, 0, sizeof s);
    s.expires = "2025-12-31 23:59:59";
    len = build_cert(buf, &s);
    expect_reject(buf, len, "dir-key-expires before dir-key-published");
    memset(&s, 0, sizeof s);
    s.idkey_args = "extra";
    len = build_cert(buf, &s);
    expect_reject(buf, len, "dir-identity-key takes no arguments");
    memset(&s, 0, sizeof s);
    s.identity = small_key; /* 512-bit identity: below the 1024-bit minimum */
    len = build_cert(buf, &s);
    expect_reject(buf, len, "bad dir-identity-key");
    memset(&s, 0, sizeof s);
    s.extra = "fingerprint-extra\n-----BEGIN X-----\nAAAA\n-----END X-----\n";
    len = build_cert(buf, &s);
    expect_reject(buf, len, "unexpected item 'fingerprint-extra'");

    /* Two built certificates in a row, then the real ones: 5 in one call. */
    size_t t_len;
    char *t = load("keys-all", &t_len);
    CHECK(t != NULL);
    char *all = malloc(2 * 8192 + t_len);
    memset(&s, 0, sizeof s);
    size_t o = build_cert(all, &s);
    all[o++] = '\n';
    o += build_cert(all + o, &s);
    memcpy(all + o, t, t_len);
    o += t_len;
    c = parse(all, o, &n, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    CHECK_EQ_INT(n, 5);
    om_authcert_free_array(c, n);
    free(all);
    free(t);
}

/* Random single-byte changes never crash, and a change that still parses (e.g. unused base64
 * padding bits) yields the same identities. */
static void test_random_mutations(void)
{
    size_t len;
    char *t = load("keys-all", &len);
    CHECK(t != NULL);
    uint32_t seed = 12345;
    for (int i = 0; i < 600; i++) {
        seed = seed * 1103515245u + 12345u;
        size_t pos = (seed >> 8) % len;
        seed = seed * 1103515245u + 12345u;
        char *m = malloc(len);
        memcpy(m, t, len);
        m[pos] = (char)(seed >> 16);
        size_t n = 0;
        char err[256];
        om_authcert_t **c = om_authcert_parse_many(m, len, &n, err, sizeof err);
        if (c) {
            CHECK_EQ_INT(n, 3);
            for (int k = 0; k < 3; k++) {
                uint8_t want[20];
                om_test_unhex(v3ident_hex[k], want, 20);
                CHECK_MEM(c[k]->v3ident, want, 20);
            }
        }
        om_authcert_free_array(c, n);
        free(m);
    }
    free(t);
}

static const om_test_t tests[] = {
    OM_TEST(test_snapshot_certs),    OM_TEST(test_check_time),
    OM_TEST(test_tampered_snapshot), OM_TEST(test_truncated_everywhere),
    OM_TEST(test_malformed_bytes),   OM_TEST(test_built_certs),
    OM_TEST(test_random_mutations),  {NULL, NULL},
};

int main(int argc, char **argv)
{
    int r = om_test_main("authcert", tests, argc, argv);
    om_rsa_free(id_key);
    om_rsa_free(sign_key);
    om_rsa_free(small_key);
    return r;
}
