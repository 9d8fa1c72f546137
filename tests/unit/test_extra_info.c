/* test_extra_info.c — src/or/extra_info.c and the server descriptor's "extra-info-digest"
 * (dir-spec 2.1.1, 2.1.2). The checks here first run on a real pair made by Debian's tor 0.4.9.11
 * (tests/data/tor-0.4.9-extra-info.txt and the server descriptor that names it,
 * tor-0.4.9-extra-info-router.txt: a throwaway relay of a private test network), so the digest
 * rule and the signature checks are tor's, then on documents built from fresh keys: same items
 * in the same order, both signatures valid (and invalid after a one-byte change), and the
 * descriptor's extra-info-digest equal to the document's SHA-1 and SHA-256. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cert.h"
#include "core/crypto.h"
#include "dir/router_desc.h"
#include "dir/netdoc.h"
#include "or/descriptor.h"
#include "or/extra_info.h"
#include "or/relay_keys.h"
#include "test.h"

#define ED_PREFIX "Tor router descriptor signature v1" /* dir-spec 2.1.1 */

static char dir[64];

/* ---------------------------------------------------------------- independent checkers */

/* The item with keyword kw (the first one), or false. */
static bool find_item(const char *doc, size_t len, const char *kw, om_netdoc_item_t *out)
{
    om_netdoc_iter_t it;
    om_netdoc_init(&it, doc, len);
    while (om_netdoc_next(&it, out) == 1)
        if (om_netdoc_kw_is(out, kw)) return true;
    return false;
}

/* The keywords of doc in order, space-separated, into out; -1 if the tokenizer refuses it. */
static int keywords(const char *doc, size_t len, char *out, size_t outsz)
{
    om_netdoc_iter_t it;
    om_netdoc_item_t item;
    size_t off = 0;
    int r;
    out[0] = 0;
    om_netdoc_init(&it, doc, len);
    while ((r = om_netdoc_next(&it, &item)) == 1)
        off += (size_t)snprintf(out + off, outsz > off ? outsz - off : 0, "%s%.*s", off ? " " : "",
                                (int)item.kw.len, item.kw.p);
    return r;
}

static int failf(char *why, size_t whylen, const char *what, const char *detail)
{
    snprintf(why, whylen, "%.40s%.80s", what, detail ? detail : "");
    return -1;
}

/* Checks both closing signatures of a relay document whose first item is first_kw, as an
 * authority does: identity-ed25519 is a valid identity -> signing key certificate (at the
 * document's published time); router-sig-ed25519 is that signing key's signature of
 * SHA256(prefix || doc up to and including "router-sig-ed25519 "); router-signature, the last
 * item, is rsa's PKCS#1 signature of SHA1(doc up to and including "router-signature\n"). */
static int verify_doc(const char *doc, size_t len, const char *first_kw, const om_rsa_t *rsa,
                      char *why, size_t whylen)
{
    om_netdoc_iter_t it;
    om_netdoc_item_t item;
    om_netdoc_init(&it, doc, len);
    if (om_netdoc_next(&it, &item) != 1 || !om_netdoc_kw_is(&item, first_kw))
        return failf(why, whylen, "does not start with ", first_kw);
    om_ed_cert_t cert;
    uint8_t buf[OM_ED_CERT_MAX_LEN];
    bool have_cert = false, ed_ok = false;
    time_t published = 0;
    int r;
    while ((r = om_netdoc_next(&it, &item)) == 1) {
        if (om_netdoc_kw_is(&item, "identity-ed25519")) {
            int n = om_netdoc_object_decode(&item, buf, sizeof buf);
            have_cert = n > 0 && om_ed_cert_parse(&cert, buf, (size_t)n) == 0;
        } else if (om_netdoc_kw_is(&item, "published")) {
            om_span_t a[2];
            if (om_netdoc_split(item.args, a, 2) != 2 ||
                om_netdoc_parse_time(a[0], a[1], &published) < 0)
                return failf(why, whylen, "bad published line", NULL);
        } else if (om_netdoc_kw_is(&item, "router-sig-ed25519")) {
            char e[128];
            if (!have_cert || om_ed_cert_verify(&cert, NULL, published, e, sizeof e) < 0)
                return failf(why, whylen, "identity-ed25519: ", have_cert ? e : "none");
            size_t signed_len = item.start + strlen("router-sig-ed25519 ");
            size_t pl = strlen(ED_PREFIX);
            uint8_t *m = malloc(pl + signed_len), h[32], sig[64];
            if (!m) return -1;
            memcpy(m, ED_PREFIX, pl);
            memcpy(m + pl, doc, signed_len);
            om_sha256(m, pl + signed_len, h);
            free(m);
            if (om_netdoc_b64_exact(item.args, sig, 64) < 0 ||
                om_ed25519_verify(cert.certified_key, h, 32, sig) < 0)
                return failf(why, whylen, "router-sig-ed25519 does not verify", NULL);
            ed_ok = true;
        } else if (om_netdoc_kw_is(&item, "router-signature")) {
            uint8_t h[20], sig[512];
            om_sha1((const uint8_t *)doc, item.line_end, h);
            int sl = om_netdoc_object_decode(&item, sig, sizeof sig);
            if (sl <= 0 || om_rsa_verify_raw(rsa, sig, (size_t)sl, h, sizeof h) < 0)
                return failf(why, whylen, "router-signature does not verify", NULL);
            if (item.end != len) return failf(why, whylen, "items after router-signature", NULL);
            if (!ed_ok) return failf(why, whylen, "no router-sig-ed25519", NULL);
            return 0;
        }
    }
    return failf(why, whylen, r < 0 ? it.err : "no router-signature", NULL);
}

/* dir-spec 2.1.1 "extra-info-digest" value for the document ei: upper-case hex SHA-1 of ei up to
 * and including "router-signature\n", a space, unpadded base64 SHA-256 of all of ei. */
static int expected_digest(const char *ei, size_t len, char *out, size_t outsz)
{
    om_netdoc_item_t sig;
    if (!find_item(ei, len, "router-signature", &sig)) return -1;
    uint8_t h1[20], h256[32];
    char hex[41], b64[48];
    om_sha1((const uint8_t *)ei, sig.line_end, h1);
    om_sha256((const uint8_t *)ei, len, h256);
    om_hex_encode(h1, 20, hex);
    om_base64_encode(h256, 32, b64, sizeof b64, true);
    snprintf(out, outsz, "%s %s", hex, b64);
    return 0;
}

static bool item_args_eq(const char *doc, size_t len, const char *kw, const char *want)
{
    om_netdoc_item_t item;
    return find_item(doc, len, kw, &item) && om_span_eq(item.args, want);
}

/* The RSA identity key from a server descriptor's signing-key. */
static om_rsa_t *signing_key_of(const char *desc, size_t len)
{
    om_netdoc_item_t item;
    uint8_t der[512];
    if (!find_item(desc, len, "signing-key", &item)) return NULL;
    int n = om_netdoc_object_decode(&item, der, sizeof der);
    return n > 0 ? om_rsa_from_public_der(der, (size_t)n) : NULL;
}

/* ---------------------------------------------------------------- tor's own pair */

static char *tor_ei, *tor_desc;
static size_t tor_ei_len, tor_desc_len;

static void test_tor_digest_rule(void)
{
    CHECK_MSG(tor_ei && tor_desc, "tests/data/tor-0.4.9-extra-info*.txt not found");
    char want[128];
    CHECK(expected_digest(tor_ei, tor_ei_len, want, sizeof want) == 0);
    CHECK_MSG(item_args_eq(tor_desc, tor_desc_len, "extra-info-digest", want),
              "tor's descriptor does not name %s", want);
}

static void test_tor_signatures_verify(void)
{
    CHECK(tor_ei && tor_desc);
    om_rsa_t *rsa = signing_key_of(tor_desc, tor_desc_len);
    CHECK(rsa);
    char why[128] = "";
    int r1 = verify_doc(tor_ei, tor_ei_len, "extra-info", rsa, why, sizeof why);
    int r2 = verify_doc(tor_desc, tor_desc_len, "router", rsa, why, sizeof why);
    /* One changed byte (the published second) breaks both signatures. */
    char *bad = strdup(tor_ei);
    char *pub = bad ? strstr(bad, "\npublished ") : NULL;
    if (pub) pub[strlen("\npublished 2026-11-30 22:51:4")] ^= 1;
    int r3 = pub ? verify_doc(bad, tor_ei_len, "extra-info", rsa, why, sizeof why) : 0;
    free(bad);
    om_rsa_free(rsa);
    CHECK_MSG(r1 == 0 && r2 == 0, "%s", why);
    CHECK(pub && r3 < 0);
}

/* ---------------------------------------------------------------- ours */

static om_relay_keys_t keys;
static bool keys_ok;

static void test_layout_as_tor(void)
{
    CHECK(keys_ok && tor_ei);
    time_t t = 1795000000; /* 2026-11-18 11:06:40 */
    om_extra_info_t ei;
    char err[256];
    CHECK_MSG(om_extra_info_build(&keys, "omtest", t, &ei, err, sizeof err) == 0, "%s", err);
    char ours[512], tors[512];
    CHECK_EQ_INT(keywords(ei.doc, ei.len, ours, sizeof ours), 0);
    CHECK_EQ_INT(keywords(tor_ei, tor_ei_len, tors, sizeof tors), 0);
    CHECK_MSG(strcmp(ours, tors) == 0, "ours: %.200s; tor's: %.200s", ours, tors);
    CHECK_EQ_INT(strlen(ei.doc), ei.len);
    CHECK(ei.len < 50000); /* dir-spec 2.1 */
    char hex[41], want[128], when[32];
    om_hex_encode(keys.rsa_fp, 20, hex);
    snprintf(want, sizeof want, "omtest %s", hex);
    CHECK(item_args_eq(ei.doc, ei.len, "extra-info", want));
    om_netdoc_format_time(t, when, sizeof when);
    CHECK(item_args_eq(ei.doc, ei.len, "published", when));
    /* identity-ed25519 carries our identity -> signing key certificate. */
    om_netdoc_item_t item;
    uint8_t cert[OM_ED_CERT_MAX_LEN];
    CHECK(find_item(ei.doc, ei.len, "identity-ed25519", &item));
    CHECK(om_netdoc_obj_is(&item, "ED25519 CERT"));
    CHECK_EQ_INT(om_netdoc_object_decode(&item, cert, sizeof cert), keys.sign_cert_len);
    CHECK_MEM(cert, keys.sign_cert, keys.sign_cert_len);
    om_extra_info_free(&ei);
}

static void test_signatures_verify(void)
{
    CHECK(keys_ok);
    om_extra_info_t ei;
    char err[256], why[128] = "";
    CHECK_MSG(om_extra_info_build(&keys, "omtest", time(NULL), &ei, err, sizeof err) == 0, "%s",
              err);
    CHECK_MSG(verify_doc(ei.doc, ei.len, "extra-info", keys.rsa_id, why, sizeof why) == 0, "%s",
              why);
    /* Any changed byte before the signatures is caught: the nickname, and the last byte the
     * RSA signature covers (the NL of "router-signature"). */
    ei.doc[strlen("extra-info o")] ^= 1;
    CHECK(verify_doc(ei.doc, ei.len, "extra-info", keys.rsa_id, why, sizeof why) < 0);
    CHECK(strstr(why, "router-sig-ed25519"));
    ei.doc[strlen("extra-info o")] ^= 1;
    om_netdoc_item_t sig;
    CHECK(find_item(ei.doc, ei.len, "router-signature", &sig));
    ei.doc[sig.line_end - 1] = ' ';
    CHECK(verify_doc(ei.doc, ei.len, "extra-info", keys.rsa_id, why, sizeof why) < 0);
    om_extra_info_free(&ei);
}

static om_desc_params_t desc_params(time_t t)
{
    om_desc_params_t p = {
        .nickname = "omtest",
        .or_port = 9001,
        .platform = "onionmesh test on Linux",
        .proto = "Cons=1-2 Desc=1-2 Link=4-5 LinkAuth=3 Microdesc=1-2 Relay=2,4",
        .exit_policy = "reject *:*\n",
        .bw_avg = 1 << 20,
        .bw_burst = 2 << 20,
        .published = t,
        .uptime = 10,
        .include_tap = true,
    };
    snprintf(p.address, sizeof p.address, "127.0.0.1");
    return p;
}

static void test_descriptor_names_extra_info(void)
{
    CHECK(keys_ok && tor_desc);
    time_t t = time(NULL);
    om_extra_info_t ei;
    char err[256], why[128] = "";
    CHECK_MSG(om_extra_info_build(&keys, "omtest", t, &ei, err, sizeof err) == 0, "%s", err);
    char value[OM_EXTRA_INFO_DIGEST_VALUE_LEN], want[128];
    om_extra_info_digest_value(&ei, value);
    CHECK(expected_digest(ei.doc, ei.len, want, sizeof want) == 0);
    CHECK_MSG(strcmp(value, want) == 0, "builder says %s, the document's digests are %s", value,
              want);
    om_desc_params_t p = desc_params(t);
    p.extra_info_digest = value;
    char *desc = om_relay_descriptor_build(&keys, &p, err, sizeof err);
    CHECK_MSG(desc, "%s", err);
    size_t dl = strlen(desc);
    /* The descriptor names the document, in the place tor puts the line (after bandwidth)... */
    bool named = item_args_eq(desc, dl, "extra-info-digest", want);
    char ours[1024], tors[1024];
    int k1 = keywords(desc, dl, ours, sizeof ours),
        k2 = keywords(tor_desc, tor_desc_len, tors, sizeof tors);
    /* ...carries the same published time and identity certificate... */
    om_netdoc_item_t a, b;
    bool same_pub = find_item(desc, dl, "published", &a) &&
                    find_item(ei.doc, ei.len, "published", &b) && a.args.len == b.args.len &&
                    memcmp(a.args.p, b.args.p, a.args.len) == 0;
    bool same_cert = find_item(desc, dl, "identity-ed25519", &a) &&
                     find_item(ei.doc, ei.len, "identity-ed25519", &b) &&
                     a.end - a.start == b.end - b.start &&
                     memcmp(desc + a.start, ei.doc + b.start, a.end - a.start) == 0;
    /* ...is still a valid signed descriptor, and our descriptor parser reads it. */
    int v = verify_doc(desc, dl, "router", keys.rsa_id, why, sizeof why);
    om_router_desc_t rd;
    int pr = om_router_desc_parse(desc, dl, &rd, err, sizeof err);
    free(desc);
    om_extra_info_free(&ei);
    CHECK_MSG(named, "no extra-info-digest %s", want);
    CHECK(k1 == 0 && k2 == 0);
    CHECK_MSG(strstr(ours, "bandwidth extra-info-digest onion-key signing-key") &&
                  strstr(tors, "bandwidth extra-info-digest onion-key signing-key"),
              "ours: %.400s", ours);
    CHECK(same_pub && same_cert);
    CHECK_MSG(v == 0, "%s", why);
    CHECK_MSG(pr == 0, "%s", err);
    CHECK(memcmp(rd.rsa_fp, keys.rsa_fp, 20) == 0);
}

static void test_descriptor_without_extra_info(void)
{
    CHECK(keys_ok);
    om_desc_params_t p = desc_params(time(NULL));
    char err[256], why[128] = "";
    char *desc = om_relay_descriptor_build(&keys, &p, err, sizeof err);
    CHECK_MSG(desc, "%s", err);
    om_netdoc_item_t item;
    bool has = find_item(desc, strlen(desc), "extra-info-digest", &item);
    int v = verify_doc(desc, strlen(desc), "router", keys.rsa_id, why, sizeof why);
    free(desc);
    CHECK(!has);
    CHECK_MSG(v == 0, "%s", why);
}

static const om_test_t tests[] = {
    OM_TEST(test_tor_digest_rule),
    OM_TEST(test_tor_signatures_verify),
    OM_TEST(test_layout_as_tor),
    OM_TEST(test_signatures_verify),
    OM_TEST(test_descriptor_names_extra_info),
    OM_TEST(test_descriptor_without_extra_info),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    tor_ei = om_test_read_data("tor-0.4.9-extra-info.txt", &tor_ei_len);
    tor_desc = om_test_read_data("tor-0.4.9-extra-info-router.txt", &tor_desc_len);
    snprintf(dir, sizeof dir, "/tmp/om-extra-info-XXXXXX");
    char err[256];
    if (mkdtemp(dir)) {
        keys_ok = om_relay_keys_load(&keys, dir, time(NULL), err, sizeof err) == 0;
        if (!keys_ok) fprintf(stderr, "# keys: %s\n", err);
    }
    int r = om_test_main("extra_info", tests, argc, argv);
    if (keys_ok) om_relay_keys_free(&keys);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (dir[0] && system(cmd) != 0) { /* best effort */
    }
    free(tor_ei);
    free(tor_desc);
    return r;
}
