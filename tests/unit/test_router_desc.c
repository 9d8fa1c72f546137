/* test_router_desc.c — unit tests for router_desc.c on a real server descriptor made by Debian's
 * tor 0.4.9.11 (tests/data/tor-0.4.9-server-descriptor.txt, a throwaway test relay on 127.0.0.1)
 * and on malformed variants of it: missing router line, bad ports, mismatched fingerprint, bad
 * base64, missing END marker, and truncation every 37 bytes; and the dir-spec 1.2 rules of the
 * shared tokenizer (netdoc.h) it is built on: "router" first, items read at most once, no
 * malformed line anywhere in the document. */
#include "test.h"

#include "core/crypto.h"
#include "dir/router_desc.h"
#include "dir/router_desc_sig.h"

#ifndef OM_TEST_DATA_DIR
#define OM_TEST_DATA_DIR "tests/data"
#endif

/* The relay's DataDirectory/fingerprint and DataDirectory/fingerprint-ed25519 files, as tor
 * wrote them when it made the saved descriptor. */
static const char fingerprint_file[] = "chantestrelay 5802D7CAC6341FBF255AB2D618CA33B15E8C4E72\n";
static const char fingerprint_ed25519_file[] =
    "chantestrelay aNGUkimwoAAxd61KSHFCs6Oj9I3qXKzXMKCLN9Dy/sk\n";
/* The same Ed25519 identity and the descriptor's ntor-onion-key, decoded independently. */
static const char ed_id_hex[] = "68d1949229b0a0003177ad4a487142b3a3a3f48dea5cacd730a08b37d0f2fec9";
static const char ntor_key_hex[] =
    "97ad76f7e2bdccfa122c07e16ef0fb3928242dc32f8d86953930942dfebcff35";

static char *desc; /* the saved descriptor, NUL-terminated */
static size_t desc_len;

static char *load_descriptor(size_t *len)
{
    const char *dir = getenv("OM_TEST_DATA_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tor-0.4.9-server-descriptor.txt",
             dir && *dir ? dir : OM_TEST_DATA_DIR);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "# cannot open %s (set OM_TEST_DATA_DIR)\n", path);
        return NULL;
    }
    char *buf = malloc(65536);
    size_t n = buf ? fread(buf, 1, 65535, f) : 0;
    fclose(f);
    if (!buf || n == 0) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* A malloc'd copy of desc with the first occurrence of `from` replaced by `to`. */
static char *replaced(const char *from, const char *to, size_t *len)
{
    const char *at = strstr(desc, from);
    if (!at) return NULL;
    size_t fl = strlen(from), tl = strlen(to), pre = (size_t)(at - desc);
    size_t n = desc_len - fl + tl;
    char *out = malloc(n + 1);
    if (!out) return NULL;
    memcpy(out, desc, pre);
    memcpy(out + pre, to, tl);
    memcpy(out + pre + tl, at + fl, desc_len - pre - fl);
    out[n] = 0;
    *len = n;
    return out;
}

/* Parse desc with `from` replaced by `to`; returns the parser's result and copies its error. */
static int parse_replaced(const char *from, const char *to, char *err, size_t errlen)
{
    size_t n;
    char *t = replaced(from, to, &n);
    if (!t) {
        snprintf(err, errlen, "test bug: '%s' not in the descriptor", from);
        return 99;
    }
    om_router_desc_t d;
    err[0] = 0;
    int rc = om_router_desc_parse(t, n, &d, err, errlen);
    free(t);
    return rc;
}

#define CHECK_REJECTED(from, to, want_err)                                                         \
    do {                                                                                           \
        char e_[160];                                                                              \
        int rc_ = parse_replaced((from), (to), e_, sizeof e_);                                     \
        CHECK_MSG(rc_ == -1, "accepted (rc %d, %s) after replacing '%.60s' by '%.60s'", rc_, e_,   \
                  (from), (to));                                                                   \
        CHECK_MSG(strstr(e_, (want_err)) != NULL, "error '%s', expected '%s'", e_, (want_err));    \
    } while (0)

/* ---------------------------------------------------------------- the real descriptor */

static void test_real_descriptor_fields(void)
{
    CHECK_MSG(desc, "tests/data/tor-0.4.9-server-descriptor.txt not found");
    om_router_desc_t d;
    char err[128] = "";
    CHECK_MSG(om_router_desc_parse(desc, desc_len, &d, err, sizeof err) == 0, "%s", err);
    CHECK(strcmp(d.nickname, "chantestrelay") == 0);
    CHECK(strcmp(d.address, "127.0.0.1") == 0);
    CHECK_EQ_INT(d.or_port, 39567);
    CHECK_EQ_INT(d.dir_port, 0); /* tor 0.4.9 no longer advertises a DirPort */
    CHECK(strcmp(d.platform, "Tor 0.4.9.11 on Linux") == 0);
}

static void test_real_descriptor_rsa_fingerprint_matches_file(void)
{
    CHECK(desc);
    om_router_desc_t d;
    char err[128] = "";
    CHECK_MSG(om_router_desc_parse(desc, desc_len, &d, err, sizeof err) == 0, "%s", err);
    /* The fingerprint file is "nickname HEX". */
    const char *sp = strchr(fingerprint_file, ' ');
    CHECK(sp && strncmp(fingerprint_file, d.nickname, (size_t)(sp - fingerprint_file)) == 0);
    uint8_t want[20];
    CHECK_EQ_INT(om_test_unhex(sp + 1, want, sizeof want), 20);
    CHECK_MEM(d.rsa_fp, want, 20);
}

static void test_real_descriptor_ed25519_identity_matches_file(void)
{
    CHECK(desc);
    om_router_desc_t d;
    char err[128] = "";
    CHECK_MSG(om_router_desc_parse(desc, desc_len, &d, err, sizeof err) == 0, "%s", err);
    CHECK(d.has_ed);
    uint8_t want[32];
    CHECK_EQ_INT(om_test_unhex(ed_id_hex, want, sizeof want), 32);
    CHECK_MEM(d.ed_id, want, 32);
    /* ...which is what the relay's fingerprint-ed25519 file says (unpadded base64). */
    char b64[64];
    CHECK(om_base64_encode(d.ed_id, 32, b64, sizeof b64, true) > 0);
    const char *sp = strchr(fingerprint_ed25519_file, ' ');
    CHECK(sp);
    CHECK(strncmp(sp + 1, b64, strlen(b64)) == 0 && sp[1 + strlen(b64)] == '\n');
}

static void test_real_descriptor_ntor_key(void)
{
    CHECK(desc);
    om_router_desc_t d;
    char err[128] = "";
    CHECK_MSG(om_router_desc_parse(desc, desc_len, &d, err, sizeof err) == 0, "%s", err);
    CHECK(d.has_ntor);
    uint8_t want[32];
    CHECK_EQ_INT(om_test_unhex(ntor_key_hex, want, sizeof want), 32);
    CHECK_MEM(d.ntor_key, want, 32);
}

/* The parser reads only text[0..len): a copy with no NUL and no slack is enough (ASan checks). */
static void test_not_nul_terminated(void)
{
    CHECK(desc);
    char *copy = malloc(desc_len);
    CHECK(copy);
    memcpy(copy, desc, desc_len);
    om_router_desc_t d;
    char err[128] = "";
    int rc = om_router_desc_parse(copy, desc_len, &d, err, sizeof err);
    free(copy);
    CHECK_MSG(rc == 0, "%s", err);
    CHECK_EQ_INT(d.or_port, 39567);
}

/* ---------------------------------------------------------------- malformed variants */

static void test_no_router_line(void)
{
    CHECK(desc);
    CHECK_REJECTED("router chantestrelay 127.0.0.1 39567 0 0\n", "", "no router line");
    /* "router-sig-ed25519" and "router-signature" are not the router line. */
    CHECK_REJECTED("router chantestrelay", "routerx chantestrelay", "no router line");
    om_router_desc_t d;
    char err[128] = "";
    CHECK_EQ_INT(om_router_desc_parse("", 0, &d, err, sizeof err), -1);
    CHECK(strstr(err, "no router line"));
}

static void test_bad_router_line(void)
{
    CHECK(desc);
    const char *line = "router chantestrelay 127.0.0.1 39567 0 0\n";
    static const char *bad[] = {
        "router chantestrelay 127.0.0.1 70000 0 0\n",     /* ORPort > 65535 */
        "router chantestrelay 127.0.0.1 39567 0 65536\n", /* DirPort > 65535 */
        "router chantestrelay 127.0.0.1 -1 0 0\n",        /* negative */
        "router chantestrelay 127.0.0.1 abc 0 0\n",       /* not a number */
        "router chantestrelay 127.0.0.1 39567 0\n",       /* a field missing */
        "router chantestrelay 127.0.0.1\n",
        "router\n",
        "router chantestrelayXXXXXXXXXXXXXXXX 127.0.0.1 39567 0 0\n", /* nickname > 19 chars */
        "router chantestrelay 127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1 39567 0 0\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_REJECTED(line, bad[i], "malformed router line");
    /* A router line longer than any valid one is refused without overflowing anything. */
    char *longline = malloc(4096);
    CHECK(longline);
    memcpy(longline, "router ", 7);
    memset(longline + 7, 'A', 4000);
    memcpy(longline + 4007, " 127.0.0.1 1 0 0\n", 18);
    char e[160];
    int rc = parse_replaced(line, longline, e, sizeof e);
    free(longline);
    CHECK_EQ_INT(rc, -1);
    CHECK(strstr(e, "router line"));
}

/* Port numbers that wrap around in a 32-bit conversion must not turn into valid ports:
 * 4294976297 = 2^32 + 9001, -4294967295 = 1 - 2^32. tor refuses both (range-checked parse). */
static void test_router_line_ports_do_not_wrap(void)
{
    CHECK(desc);
    const char *line = "router chantestrelay 127.0.0.1 39567 0 0\n";
    CHECK_REJECTED(line, "router chantestrelay 127.0.0.1 4294976297 0 0\n",
                   "malformed router line");
    CHECK_REJECTED(line, "router chantestrelay 127.0.0.1 -4294967295 0 0\n",
                   "malformed router line");
    CHECK_REJECTED(line, "router chantestrelay 127.0.0.1 39567 0 4294967296\n",
                   "malformed router line");
}

static void test_fingerprint_line_must_match_signing_key(void)
{
    CHECK(desc);
    const char *fp = "fingerprint 5802 D7CA C634 1FBF 255A B2D6 18CA 33B1 5E8C 4E72";
    CHECK_REJECTED(fp, "fingerprint 5802 D7CA C634 1FBF 255A B2D6 18CA 33B1 5E8C 4E73",
                   "fingerprint line does not match signing-key");
    CHECK_REJECTED(fp, "fingerprint 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000",
                   "does not match");
    CHECK_REJECTED(fp, "fingerprint 5802 D7CA C634 1FBF 255A B2D6 18CA 33B1 5E8C 4E7",
                   "malformed fingerprint line");
    CHECK_REJECTED(fp, "fingerprint 5802 D7CA C634 1FBF 255A B2D6 18CA 33B1 5E8C 4E7Z",
                   "malformed fingerprint line");
    CHECK_REJECTED(fp, "fingerprint", "malformed fingerprint line");
    /* The relay's onion key presented as its identity: the fingerprint no longer matches. */
    const char *sk = "MIGJAoGBANrsGHr321QaVI3//OMTnDdBLX62C7S1eOnngXsXodff7Ydfl24PVP5R\n"
                     "/RuSYnG3sLPlO+VLoMKdpXpgSuOQJgLnwXQEAl+z7dzQCJaCgKAF/E0ZsBUcypWA\n"
                     "1yVaydKvls6hIlLsM1KZ+NQJWD5JrO6bER+8YrOFALoPoiLdd5DNAgMBAAE=\n";
    const char *onion = "MIGJAoGBAKL/yBZYr0RGylE4HCb0cRAjUqi5FTgyfoOkPyZmMhaunlGaCZSYxtGr\n"
                        "pR77u/9H3AiFB+T7bPcsX2fNwG8HNsGGez+s4hNDRWM4ImG7zWOIPddEosqdm2xJ\n"
                        "UrISk5plIa5aR44SYy3oUJyEfxdj5n8w8PPUv7kzDoM5ZbdHZnUbAgMBAAE=\n";
    CHECK_REJECTED(sk, onion, "fingerprint line does not match signing-key");
}

/* Without a fingerprint line (it is optional) the identity comes from signing-key alone. */
static void test_fingerprint_line_optional(void)
{
    CHECK(desc);
    size_t n;
    char *t = replaced("fingerprint 5802", "xfingerprint 5802", &n);
    CHECK(t);
    om_router_desc_t d;
    char err[128] = "";
    int rc = om_router_desc_parse(t, n, &d, err, sizeof err);
    free(t);
    CHECK_MSG(rc == 0, "%s", err);
    uint8_t want[20];
    om_test_unhex("5802D7CAC6341FBF255AB2D618CA33B15E8C4E72", want, sizeof want);
    CHECK_MEM(d.rsa_fp, want, 20);
}

static void test_bad_base64_in_keys(void)
{
    CHECK(desc);
    /* signing-key body */
    CHECK_REJECTED("MIGJAoGBANrsGHr321QaVI3", "MIGJAoGBANrs!Hr321QaVI3", "signing-key");
    CHECK_REJECTED("MIGJAoGBANrsGHr321QaVI3", "@@@@", "signing-key");
    /* valid base64 that is not an RSA key */
    CHECK_REJECTED("MIGJAoGBANrsGHr321QaVI3//OMTnDdBLX62C7S1eOnngXsXodff7Ydfl24PVP5R\n"
                   "/RuSYnG3sLPlO+VLoMKdpXpgSuOQJgLnwXQEAl+z7dzQCJaCgKAF/E0ZsBUcypWA\n"
                   "1yVaydKvls6hIlLsM1KZ+NQJWD5JrO6bER+8YrOFALoPoiLdd5DNAgMBAAE=\n",
                   "AAAAAAAAAAAAAAAA\n", "signing-key");
    /* master-key-ed25519 */
    CHECK_REJECTED("master-key-ed25519 aNGUkimwoAAxd61K", "master-key-ed25519 aNGUkimwoAAx*61K",
                   "malformed master-key-ed25519");
    CHECK_REJECTED("master-key-ed25519 aNGUkimwoAAxd61KSHFCs6Oj9I3qXKzXMKCLN9Dy/sk",
                   "master-key-ed25519 aNGUkimwoAAxd61KSHFCs6Oj9I3qXKzXMKCLN9Dy", /* 30 bytes */
                   "malformed master-key-ed25519");
    CHECK_REJECTED("master-key-ed25519 aNGUkimwoAAxd61KSHFCs6Oj9I3qXKzXMKCLN9Dy/sk",
                   "master-key-ed25519 aNGUkimwoAAxd61KSHFCs6Oj9I3qXKzXMKCLN9Dy/skAAAA", /* 35 */
                   "malformed master-key-ed25519");
    CHECK_REJECTED("master-key-ed25519 aNGUkimwoAAxd61KSHFCs6Oj9I3qXKzXMKCLN9Dy/sk",
                   "master-key-ed25519", "malformed master-key-ed25519");
    /* ntor-onion-key */
    CHECK_REJECTED("ntor-onion-key l6129+K9", "ntor-onion-key l6129-K9",
                   "malformed ntor-onion-key");
    CHECK_REJECTED("ntor-onion-key l6129+K9zPoSLAfhbvD7OSgkLcMvjYaVOTCULf68/zU",
                   "ntor-onion-key l6129+K9zPoSLAfhbvD7OSgkLcMvjYaVOTCULf68", /* 31 bytes */
                   "malformed ntor-onion-key");
}

static void test_missing_end_marker(void)
{
    CHECK(desc);
    /* The signing-key object never ends: the next END is another object's. */
    CHECK_REJECTED("AgMBAAE=\n-----END RSA PUBLIC KEY-----\nonion-key-crosscert",
                   "AgMBAAE=\nonion-key-crosscert", "signing-key");
    /* A BEGIN marker of the wrong type is not the object either. */
    CHECK_REJECTED("signing-key\n-----BEGIN RSA PUBLIC KEY-----",
                   "signing-key\n-----BEGIN RSA PRIVATE KEY-----", "signing-key");
    /* No object at all after the keyword. */
    CHECK_REJECTED("signing-key\n-----BEGIN RSA PUBLIC KEY-----", "signing-key\n", "signing-key");
}

/* Cut the descriptor every 37 bytes: the parser must not crash and must either refuse the prefix
 * or return exactly the fields the whole descriptor has (a prefix can lack the later optional
 * lines, never carry a wrong value). */
static void test_truncated_every_37_bytes(void)
{
    CHECK(desc);
    om_router_desc_t full;
    char err[128];
    CHECK(om_router_desc_parse(desc, desc_len, &full, err, sizeof err) == 0);
    int parsed = 0, refused = 0;
    for (size_t cut = 0; cut < desc_len; cut += 37) {
        char *p = malloc(cut ? cut : 1);
        CHECK(p);
        memcpy(p, desc, cut);
        om_router_desc_t d;
        err[0] = 0;
        int rc = om_router_desc_parse(p, cut, &d, err, sizeof err);
        free(p);
        if (rc != 0) {
            CHECK_MSG(rc == -1 && err[0], "cut at %zu: rc %d without an error", cut, rc);
            refused++;
            continue;
        }
        parsed++;
        CHECK_MSG(!strcmp(d.nickname, full.nickname) && !strcmp(d.address, full.address) &&
                      d.or_port == full.or_port && d.dir_port == full.dir_port,
                  "cut at %zu: router line differs", cut);
        CHECK_MSG(!memcmp(d.rsa_fp, full.rsa_fp, 20), "cut at %zu: RSA fingerprint differs", cut);
        CHECK_MSG(!d.has_ed || !memcmp(d.ed_id, full.ed_id, 32), "cut at %zu: ed25519 differs",
                  cut);
        CHECK_MSG(!d.has_ntor || !memcmp(d.ntor_key, full.ntor_key, 32), "cut at %zu: ntor differs",
                  cut);
        CHECK_MSG(!strcmp(d.platform, full.platform), "cut at %zu: platform differs", cut);
    }
    /* Both outcomes occur: early cuts lack the signing-key, late ones have everything needed. */
    CHECK(refused > 0 && parsed > 0);
}

/* The parser runs on the shared tokenizer: the whole document must be well-formed, "router" comes
 * first (dir-spec 2.1.1), and the items read appear at most once. */
static void test_document_rules(void)
{
    CHECK(desc);
    /* A line that is not an item, after everything the parser needs. */
    CHECK_REJECTED("router-signature\n", "router-signature\n%%% not an item\n", "malformed");
    /* A control character in a keyword line. */
    CHECK_REJECTED("platform Tor 0.4.9.11 on Linux", "platform Tor 0.4.9.11\x01 on Linux",
                   "control character");
    /* Something before the router line. */
    CHECK_REJECTED("router chantestrelay", "uptime 5\nrouter chantestrelay", "no router line");
    /* Items read here, twice. */
    CHECK_REJECTED("platform Tor", "platform x\nplatform Tor", "platform appears twice");
    CHECK_REJECTED("router chantestrelay 127.0.0.1 39567 0 0\n",
                   "router chantestrelay 127.0.0.1 39567 0 0\n"
                   "router chantestrelay 127.0.0.1 39567 0 0\n",
                   "router appears twice");
    /* The router line's address is an IPv4 address. */
    CHECK_REJECTED("router chantestrelay 127.0.0.1 ", "router chantestrelay localhost ",
                   "malformed router line");
}

/* ---------------------------------------------------------------- the RSA signature */

static int verify_replaced(const char *from, const char *to, const uint8_t fp[20], char *err,
                           size_t errlen)
{
    size_t n;
    char *t = replaced(from, to, &n);
    if (!t) return snprintf(err, errlen, "test bug: '%s' not in the descriptor", from), 99;
    int rc = om_router_desc_verify(t, n, fp, err, errlen);
    free(t);
    return rc;
}

/* tor's own signature verifies against the fingerprint tor wrote; every change to a signed byte,
 * another pinned identity, a changed signature and anything after the signature are refused. */
static void test_signature(void)
{
    CHECK(desc);
    uint8_t fp[20], other[20];
    CHECK_EQ_INT(om_test_unhex(strchr(fingerprint_file, ' ') + 1, fp, sizeof fp), 20);
    char err[160] = "";
    CHECK_MSG(om_router_desc_verify(desc, desc_len, fp, err, sizeof err) == 0, "%s", err);
    memcpy(other, fp, 20);
    other[19] ^= 1;
    CHECK(om_router_desc_verify(desc, desc_len, other, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "another identity"), "%s", err);
    /* a signed byte: the ntor key's first character; the first byte of the signed part; the
     * router-signature line itself (signed through its NL) */
    const char *edits[][2] = {{"ntor-onion-key ", "ntor-onion-key  "},
                              {"router chantestrelay", "router chantestrelaz"},
                              {"router-signature\n", "router-signature \n"}};
    for (size_t i = 0; i < 3; i++) {
        int rc = verify_replaced(edits[i][0], edits[i][1], fp, err, sizeof err);
        CHECK_MSG(rc == -1 && strstr(err, "bad signature"), "edit %zu: rc %d %s", i, rc, err);
    }
    CHECK_EQ_INT(verify_replaced("-----BEGIN SIGNATURE-----\nz", "-----BEGIN SIGNATURE-----\ny", fp,
                                 err, sizeof err),
                 -1);
    CHECK_EQ_INT(verify_replaced("-----END SIGNATURE-----\n", "-----END SIGNATURE-----\nx y\n", fp,
                                 err, sizeof err),
                 -1);
    CHECK_MSG(strstr(err, "after router-signature"), "%s", err);
    CHECK_EQ_INT(om_router_desc_verify(desc, (size_t)(strstr(desc, "router-signature") - desc), fp,
                                       err, sizeof err),
                 -1);
    CHECK_MSG(strstr(err, "no router-signature"), "%s", err);
}

static const om_test_t tests[] = {
    OM_TEST(test_real_descriptor_fields),
    OM_TEST(test_real_descriptor_rsa_fingerprint_matches_file),
    OM_TEST(test_real_descriptor_ed25519_identity_matches_file),
    OM_TEST(test_real_descriptor_ntor_key),
    OM_TEST(test_not_nul_terminated),
    OM_TEST(test_no_router_line),
    OM_TEST(test_bad_router_line),
    OM_TEST(test_router_line_ports_do_not_wrap),
    OM_TEST(test_fingerprint_line_must_match_signing_key),
    OM_TEST(test_fingerprint_line_optional),
    OM_TEST(test_bad_base64_in_keys),
    OM_TEST(test_missing_end_marker),
    OM_TEST(test_truncated_every_37_bytes),
    OM_TEST(test_document_rules),
    OM_TEST(test_signature),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    desc = load_descriptor(&desc_len);
    int r = om_test_main("router_desc", tests, argc, argv);
    free(desc);
    return r;
}
