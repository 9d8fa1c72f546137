/* test_microdesc.c — unit tests for microdesc.c on the testnet snapshot's six microdescriptors
 * (tor 0.4.9.11, consensus method 35): digests recomputed independently and matched to the
 * consensus m lines, ntor keys, Ed25519 ids against the relays' own fingerprint-ed25519 files,
 * family and family-ids, p/p6 summaries; the policy summary parser and matcher including its
 * conservative truncation; malformed and truncated input. */
#include "test.h"

#include "core/crypto.h"
#include "dir/consensus.h"
#include "dir/microdesc.h"
#include "dir/netdoc.h"

static char *load(const char *name, size_t *len)
{
    char rel[256];
    snprintf(rel, sizeof rel, "testnet-snapshot/%s", name);
    return om_test_read_data(rel, len);
}

static om_microdesc_t *parse(const char *t, size_t len, size_t *n, char *err, size_t errlen)
{
    char *copy = malloc(len ? len : 1);
    memcpy(copy, t, len);
    om_microdesc_t *m = om_microdesc_parse_many(copy, len, n, err, errlen);
    free(copy);
    return m;
}

/* Relay identities and Ed25519 ids from the nodes' DataDirectory files (README). */
static const struct {
    const char *nick, *fp, *ed64;
} nodes[6] = {
    {"auth0", "6EAA0E29C8438B78B85EAE6B2CD5CB9E6BC8574F",
     "32oQv/XbpAKfGcfUUN2dGGI3t/Eok5Zo3mBLrQmpgvA"},
    {"auth1", "33D43D370A7653677265526CDC5B7E4654E1248F",
     "uy94w9+Sy0SPUuhGDeI2s2NcZ2duOCo1nFj5IBjqgH8"},
    {"auth2", "D6347C81FDB6024AE0C0B6F63C4AA31D4ECFF466",
     "YugPljNOmkvqhRHJ47vaVi0ECtGvlqZrtJd6+qyulCU"},
    {"relay0", "2329B119FCBADBD19AD3DF95E835948D7E092F6F",
     "rRnupWOhFGnPMbxGAsQRGtxfiyCRimE3Eajg+/SOFgk"},
    {"relay1", "8C601AA9FA4F8789501DC17E76F0842018CC6F48",
     "rrp5b38hOqUkaMPw6nUcqNendtDuy5JiqesRC+z3oIM"},
    {"relay2", "32E95B50FA6F0926FDE6D8FD25C0B950CCAB1743",
     "irPPznMwOQvaqWtRDgW8zWsaQssPSmRIS5/uNv+hCKY"},
};

/* The snapshot parsed and joined: md_of[i] is nodes[i]'s microdesc. */
typedef struct {
    char *mdtext, *ctext;
    size_t mdlen, clen, n;
    om_microdesc_t *mds;
    om_consensus_t *c;
    const om_microdesc_t *md_of[6];
} snap_t;

static int snap_load(snap_t *s)
{
    char err[256];
    memset(s, 0, sizeof *s);
    s->mdtext = load("microdescs", &s->mdlen);
    s->ctext = load("consensus-microdesc", &s->clen);
    if (!s->mdtext || !s->ctext) return -1;
    s->mds = parse(s->mdtext, s->mdlen, &s->n, err, sizeof err);
    s->c = om_consensus_parse(s->ctext, s->clen, err, sizeof err);
    if (!s->mds || !s->c) {
        fprintf(stderr, "# %s\n", err);
        return -1;
    }
    if (om_consensus_attach_microdescs(s->c, s->mds, s->n) != 6) return -1;
    for (int i = 0; i < 6; i++) {
        uint8_t fp[20];
        om_test_unhex(nodes[i].fp, fp, 20);
        const om_routerstatus_t *r = om_consensus_find(s->c, fp);
        if (!r || !r->md || strcmp(r->nickname, nodes[i].nick)) return -1;
        s->md_of[i] = r->md;
    }
    return 0;
}

static void snap_free(snap_t *s)
{
    om_consensus_free(s->c);
    om_microdesc_free_array(s->mds, s->n);
    free(s->mdtext);
    free(s->ctext);
}

static void test_digests(void)
{
    snap_t s;
    CHECK(snap_load(&s) == 0);
    CHECK_EQ_INT(s.n, 6);
    /* Independently: each microdesc is the text from one "onion-key" line to the next. */
    const char *starts[7];
    size_t k = 0;
    for (const char *p = s.mdtext; (p = strstr(p, "onion-key\n")) != NULL; p++)
        if ((p == s.mdtext || p[-1] == '\n') && k < 6) starts[k++] = p;
    CHECK_EQ_INT(k, 6);
    starts[6] = s.mdtext + s.mdlen;
    for (size_t i = 0; i < 6; i++) {
        uint8_t d[32];
        om_sha256((const uint8_t *)starts[i], (size_t)(starts[i + 1] - starts[i]), d);
        CHECK_MEM(s.mds[i].digest, d, 32);
    }
    /* Each equals the m line of one router: read the m lines from the consensus text. */
    int matched = 0;
    for (const char *l = strstr(s.ctext, "\nm "); l; l = strstr(l + 1, "\nm ")) {
        char b64[64];
        uint8_t d[32];
        CHECK_EQ_INT(sscanf(l + 3, "%63s", b64), 1);
        CHECK_EQ_INT(om_base64_decode(b64, strlen(b64), d, 32), 32);
        for (size_t i = 0; i < 6; i++)
            matched += memcmp(s.mds[i].digest, d, 32) == 0;
    }
    CHECK_EQ_INT(matched, 6);
    for (size_t r = 0; r < s.c->n_routers; r++)
        CHECK_MEM(s.c->routers[r].md->digest, s.c->routers[r].md_digest, 32);
    snap_free(&s);
}

static void test_keys_and_ids(void)
{
    snap_t s;
    CHECK(snap_load(&s) == 0);
    for (int i = 0; i < 6; i++) {
        const om_microdesc_t *m = s.md_of[i];
        uint8_t ed[32];
        CHECK_EQ_INT(om_base64_decode(nodes[i].ed64, strlen(nodes[i].ed64), ed, 32), 32);
        CHECK(m->has_ed);
        CHECK_MEM(m->ed_id, ed, 32);
        CHECK(m->has_ntor);
        CHECK(!om_mem_is_zero(m->ntor_key, 32));
    }
    /* relay0's ntor-onion-key, read from the text. */
    const char *at = strstr(s.mdtext, "ntor-onion-key 9JmgFCDJ");
    CHECK(at != NULL);
    char b64[64];
    uint8_t k[32];
    sscanf(at + 15, "%63s", b64);
    CHECK_EQ_INT(om_base64_decode(b64, strlen(b64), k, 32), 32);
    CHECK_MEM(s.md_of[3]->ntor_key, k, 32);
    snap_free(&s);
}

static void test_family(void)
{
    snap_t s;
    CHECK(snap_load(&s) == 0);
    const om_microdesc_t *a0 = s.md_of[0], *r0 = s.md_of[3], *r1 = s.md_of[4], *r2 = s.md_of[5];
    CHECK(strcmp(r0->family, "$2329B119FCBADBD19AD3DF95E835948D7E092F6F "
                             "$8C601AA9FA4F8789501DC17E76F0842018CC6F48") == 0);
    CHECK(strcmp(r1->family, r0->family) == 0);
    CHECK(strcmp(r0->family_ids, "ed25519:42Tgf4QUEAX6RoFR6KqwC9k7eriKAW/PL7UCZ34ztJY") == 0);
    CHECK(!r0->family_truncated && !r0->family_ids_truncated);
    CHECK(strcmp(r2->family, "") == 0 && strcmp(r2->family_ids, "") == 0);
    uint8_t id0[20], id1[20], id2[20];
    om_test_unhex(nodes[3].fp, id0, 20);
    om_test_unhex(nodes[4].fp, id1, 20);
    om_test_unhex(nodes[5].fp, id2, 20);
    CHECK(om_microdesc_family_lists(r0, id1));
    CHECK(om_microdesc_family_lists(r1, id0));
    CHECK(om_microdesc_family_lists(r0, id0));
    CHECK(!om_microdesc_family_lists(r0, id2));
    CHECK(!om_microdesc_family_lists(r2, id0));
    CHECK(om_microdesc_share_family_id(r0, r1));
    CHECK(!om_microdesc_share_family_id(r0, r2));
    CHECK(!om_microdesc_share_family_id(r2, r2));
    CHECK(!om_microdesc_share_family_id(a0, r0));
    snap_free(&s);
}

static void test_policies_from_snapshot(void)
{
    snap_t s;
    CHECK(snap_load(&s) == 0);
    const om_microdesc_t *r0 = s.md_of[3], *r1 = s.md_of[4], *r2 = s.md_of[5];
    /* relay0: p accept 80,443,6660-6669 */
    CHECK(r0->p4.present && r0->p4.accept && r0->p4.n == 3);
    CHECK(om_policy_summary_allows(&r0->p4, 80));
    CHECK(om_policy_summary_allows(&r0->p4, 443));
    CHECK(om_policy_summary_allows(&r0->p4, 6660));
    CHECK(om_policy_summary_allows(&r0->p4, 6669));
    CHECK(!om_policy_summary_allows(&r0->p4, 6670));
    CHECK(!om_policy_summary_allows(&r0->p4, 22));
    CHECK(!r0->p6.present);
    CHECK(!om_policy_summary_allows(&r0->p6, 80)); /* absent p6: reject all */
    /* relay1: p reject 25,119,6000-6100 */
    CHECK(r1->p4.present && !r1->p4.accept && r1->p4.n == 3);
    CHECK(om_policy_summary_allows(&r1->p4, 80));
    CHECK(om_policy_summary_allows(&r1->p4, 24));
    CHECK(!om_policy_summary_allows(&r1->p4, 25));
    CHECK(!om_policy_summary_allows(&r1->p4, 119));
    CHECK(!om_policy_summary_allows(&r1->p4, 6000));
    CHECK(!om_policy_summary_allows(&r1->p4, 6050));
    CHECK(!om_policy_summary_allows(&r1->p4, 6100));
    CHECK(om_policy_summary_allows(&r1->p4, 6101));
    CHECK(om_policy_summary_allows(&r1->p4, 65535));
    CHECK(!om_policy_summary_allows(&r1->p4, 0));
    /* relay2: p accept 80,443; p6 accept 80,443 */
    CHECK(r2->p6.present && r2->p6.accept && r2->p6.n == 2);
    CHECK(om_policy_summary_allows(&r2->p6, 443));
    CHECK(!om_policy_summary_allows(&r2->p6, 8080));
    CHECK(!om_policy_summary_allows(&r2->p4, 6667));
    CHECK(!om_policy_summary_allows(NULL, 80));
    snap_free(&s);
}

static int pparse(const char *s, om_policy_summary_t *p)
{
    return om_policy_summary_parse(s, strlen(s), p);
}

static void test_policy_parser(void)
{
    om_policy_summary_t p;
    CHECK_EQ_INT(pparse("accept 1-65535", &p), 0);
    CHECK(om_policy_summary_allows(&p, 1) && om_policy_summary_allows(&p, 65535));
    CHECK_EQ_INT(pparse("reject 1-65535", &p), 0);
    CHECK(!om_policy_summary_allows(&p, 1) && !om_policy_summary_allows(&p, 65535));
    CHECK_EQ_INT(pparse("accept 80,81,443 future-arg", &p), 0); /* adjacent ranges are fine */
    CHECK_EQ_INT(p.n, 3);
    CHECK(om_policy_summary_allows(&p, 81));
    CHECK_EQ_INT(pparse("reject\t22", &p), 0);
    CHECK(!om_policy_summary_allows(&p, 22) && om_policy_summary_allows(&p, 23));
    static const char *bad[] = {
        "accept",        "accept 0",
        "accept 5-3",    "accept 80,80",
        "accept 80,79",  "accept 1-100,50",
        "accept 65536",  "allow 80",
        "accept 80,",    "accept ,80",
        "accept 80-",    "accept -80",
        "accept 8x",     "",
        "Accept 80",     "accept 1-2-3",
        "accept 80,,90",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(pparse(bad[i], &p) == -1, "accepted '%s'", bad[i]);
    CHECK(!p.present);

    /* More ranges than stored: an accept list keeps its first OM_POLICY_MAX_RANGES. */
    char buf[4096];
    size_t o = (size_t)sprintf(buf, "accept ");
    for (int i = 1; i <= 200; i++)
        o += (size_t)sprintf(buf + o, "%s%d", i > 1 ? "," : "", 2 * i);
    CHECK_EQ_INT(pparse(buf, &p), 0);
    CHECK(p.truncated && p.accept);
    CHECK_EQ_INT(p.n, OM_POLICY_MAX_RANGES);
    CHECK(om_policy_summary_allows(&p, 2));
    CHECK(om_policy_summary_allows(&p, 2 * OM_POLICY_MAX_RANGES));
    CHECK(!om_policy_summary_allows(&p, 2 * OM_POLICY_MAX_RANGES + 2)); /* conservative */
    CHECK(!om_policy_summary_allows(&p, 3));
    /* A long reject list becomes a subset of its complement. */
    buf[0] = 'r';
    memcpy(buf, "reject", 6);
    CHECK_EQ_INT(pparse(buf, &p), 0);
    CHECK(p.truncated && p.accept);
    CHECK_EQ_INT(p.n, OM_POLICY_MAX_RANGES);
    CHECK(om_policy_summary_allows(&p, 1));
    CHECK(!om_policy_summary_allows(&p, 2));
    CHECK(om_policy_summary_allows(&p, 3));
    CHECK(om_policy_summary_allows(&p, 2 * OM_POLICY_MAX_RANGES - 1));
    CHECK(!om_policy_summary_allows(&p, 2 * OM_POLICY_MAX_RANGES + 1)); /* allowed, dropped */
    CHECK(!om_policy_summary_allows(&p, 1000));
    /* A reject list with few gaps keeps every one of them, up to 65535. */
    CHECK_EQ_INT(pparse("reject 1-79,81-442,444-65534", &p), 0);
    CHECK(!p.truncated && !p.accept);
    /* 1025 ranges, or more than OM_POLICY_MAX_LEN characters: refused. */
    char *big = malloc(20000);
    o = (size_t)sprintf(big, "accept ");
    for (int i = 1; i <= 1025; i++)
        o += (size_t)sprintf(big + o, "%s%d", i > 1 ? "," : "", 3 * i);
    CHECK_EQ_INT(om_policy_summary_parse(big, o, &p), -1);
    o = (size_t)sprintf(big, "accept 1");
    memset(big + o, ' ', 2100);
    big[o + 2100] = 'x';
    CHECK_EQ_INT(om_policy_summary_parse(big, o + 2101, &p), -1);
    free(big);
}

static void expect_reject(const char *doc, size_t len, const char *needle)
{
    size_t n = 99;
    char err[256] = "";
    om_microdesc_t *m = parse(doc, len, &n, err, sizeof err);
    if (m || n != 0 || !strstr(err, needle)) {
        snprintf(om_test_reason, sizeof om_test_reason, "parsed=%d err='%s' want '%s'", m != NULL,
                 err, needle);
        om_test_failed_flag = 1;
    }
    free(m);
}

static void reject_str(const char *doc, const char *needle)
{
    expect_reject(doc, strlen(doc), needle);
}

static const char md_ok[] = "onion-key\n"
                            "ntor-onion-key ujKle8WyfBYJw4XpuMS5qtGL2qiNFA1mQEWRfjB8ER0\n"
                            "p accept 80\n";

static void test_malformed(void)
{
    size_t n;
    char err[256];
    om_microdesc_t *m = parse(md_ok, strlen(md_ok), &n, err, sizeof err);
    CHECK_MSG(m != NULL, "%s", err); /* no TAP key, no id, no p6: fine */
    CHECK_EQ_INT(n, 1);
    CHECK(!m[0].has_ed && m[0].has_ntor && m[0].p4.present && !m[0].p6.present);
    free(m);
    reject_str("onion-key\np accept 80\n", "no ntor-onion-key");
    reject_str("onion-key\nntor-onion-key ujKle8WyfBYJw4XpuMS5qtGL2qiNFA1mQEWRfjB8ER0\n"
               "ntor-onion-key ujKle8WyfBYJw4XpuMS5qtGL2qiNFA1mQEWRfjB8ER0\n",
               "more than one ntor-onion-key");
    reject_str("onion-key\nntor-onion-key ujKle8WyfBYJw4XpuMS5qtGL2qiNFA1mQEWRfjB8ER\n",
               "bad ntor-onion-key");
    reject_str("onion-key\nntor-onion-key\n", "bad ntor-onion-key");
    reject_str("p accept 80\nonion-key\n", "expected onion-key");
    reject_str("onion-key extra\nntor-onion-key ujKle8WyfBYJw4XpuMS5qtGL2qiNFA1mQEWRfjB8ER0\n",
               "takes no arguments");
    reject_str("onion-key\n-----BEGIN ED25519 CERT-----\nAAAA\n-----END ED25519 CERT-----\n"
               "ntor-onion-key ujKle8WyfBYJw4XpuMS5qtGL2qiNFA1mQEWRfjB8ER0\n",
               "bad onion-key object");
    reject_str("onion-key\n-----BEGIN RSA PUBLIC KEY-----\nAAAA\n", "without END");
    reject_str("onion-key\n-----BEGIN RSA PUBLIC KEY-----\nA\n-----END RSA PUBLIC KEY-----\n",
               "bad onion-key object");
    reject_str("onion-key\nntor-onion-key ujKle8WyfBYJw4XpuMS5qtGL2qiNFA1mQEWRfjB8ER0\n"
               "p accept 0\n",
               "bad p line");
    reject_str("onion-key\nntor-onion-key ujKle8WyfBYJw4XpuMS5qtGL2qiNFA1mQEWRfjB8ER0\n"
               "p6 reject 2-1\n",
               "bad p6 line");
    reject_str("onion-key\nntor-onion-key ujKle8WyfBYJw4XpuMS5qtGL2qiNFA1mQEWRfjB8ER0\n"
               "p accept 80\np accept 443\n",
               "appears twice");
    reject_str("onion-key\nntor-onion-key ujKle8WyfBYJw4XpuMS5qtGL2qiNFA1mQEWRfjB8ER0\n"
               "id ed25519 YugPljNOmkvqhRHJ47vaVi0ECtGvlqZrtJd6+qyulC\n",
               "bad ed25519 id");
    reject_str("onion-key\nntor-onion-key ujKle8WyfBYJw4XpuMS5qtGL2qiNFA1mQEWRfjB8ER0\n"
               "id ed25519 YugPljNOmkvqhRHJ47vaVi0ECtGvlqZrtJd6+qyulCU\n"
               "id ed25519 YugPljNOmkvqhRHJ47vaVi0ECtGvlqZrtJd6+qyulCU\n",
               "appears twice");
    reject_str("onion-key\nntor-onion-key ujKle8WyfBYJw4XpuMS5qtGL2qiNFA1mQEWRfjB8ER0\n"
               "id rsa1024 AAAA\n",
               "bad rsa1024 id");
    reject_str("onion-key\nntor-onion-key ujKle8WyfBYJw4XpuMS5qtGL2qiNFA1mQEWRfjB8ER0\nid\n",
               "bad id line");
    reject_str("onion-key\nntor-onion-key ujKle8WyfBYJw4XpuMS5qtGL2qiNFA1mQEWRfjB8ER0\n"
               "family $A\n-----BEGIN X-----\nAAAA\n-----END X-----\n",
               "unexpected object");
    reject_str("onion-key\nntor-onion-key ujKle8WyfBYJw4XpuMS5qtGL2qiNFA1mQEWRfjB8ER0\n"
               "family a\nfamily b\n",
               "appears twice");
    reject_str("", "no microdescriptor");
    reject_str("\n\n", "no microdescriptor");
    reject_str("@last-listed 2026-01-01 00:00:00\nonion-key\n", "keyword character 0x40");
    static const char nul[] =
        "onion-key\nntor-onion-key ujKle8WyfBYJw4XpuMS5\0qiNFA1mQEWRfjB8ER0\n";
    expect_reject(nul, sizeof nul - 1, "NUL byte");
    /* A huge line. */
    size_t big = OM_NETDOC_MAX_LINE + 1;
    char *h = malloc(big + 64);
    size_t o = (size_t)sprintf(h, "onion-key\nx-pad ");
    memset(h + o, 'x', big);
    expect_reject(h, o + big, "longer than");
    free(h);
    /* Unknown items, unknown id types, "a" and "pr" lines are ignored. */
    static const char extra[] = "onion-key\n"
                                "ntor-onion-key ujKle8WyfBYJw4XpuMS5qtGL2qiNFA1mQEWRfjB8ER0=\n"
                                "a [::1]:9001\n"
                                "x-future 1\n-----BEGIN X-----\nAAAA\n-----END X-----\n"
                                "pr Link=1-5\n"
                                "id rsa1024 IymxGfy629Ga09+V6DWUjX4JL28\n"
                                "id curve448 whatever\n"
                                "id curve448 twice-is-fine-for-unknown-types\n";
    m = parse(extra, sizeof extra - 1, &n, err, sizeof err);
    CHECK_MSG(m != NULL, "%s", err);
    free(m);
}

static void test_truncated_everywhere(void)
{
    size_t len, n0;
    char *t = load("microdescs", &len), err[256];
    CHECK(t != NULL);
    om_microdesc_t *full = parse(t, len, &n0, err, sizeof err);
    CHECK(full != NULL);
    size_t ok = 0;
    for (size_t cut = 0; cut < len; cut++) {
        size_t n = 0;
        om_microdesc_t *m = parse(t, cut, &n, err, sizeof err);
        if (m) {
            ok++;
            CHECK(n >= 1 && n <= n0);
            /* All but the (possibly cut) last one are unchanged. */
            for (size_t i = 0; i + 1 < n; i++)
                CHECK_MEM(m[i].digest, full[i].digest, 32);
        }
        free(m);
    }
    CHECK(ok > 0 && ok < len / 2);
    free(full);
    free(t);
}

static void test_long_family(void)
{
    char *doc = malloc(8192);
    size_t o = (size_t)sprintf(doc, "onion-key\n"
                                    "ntor-onion-key ujKle8WyfBYJw4XpuMS5qtGL2qiNFA1mQEWRfjB8ER0\n"
                                    "family");
    for (int i = 0; i < 60; i++)
        o += (size_t)sprintf(doc + o, " $%040X", i + 1);
    o += (size_t)sprintf(doc + o, "\nfamily-ids");
    for (int i = 0; i < 10; i++)
        o += (size_t)sprintf(doc + o, " ed25519:%043d", i);
    doc[o++] = '\n';
    size_t n;
    char err[256];
    om_microdesc_t *m = parse(doc, o, &n, err, sizeof err);
    CHECK_MSG(m != NULL, "%s", err);
    CHECK(m[0].family_truncated && m[0].family_ids_truncated);
    size_t fl = strlen(m[0].family);
    CHECK(fl < OM_MICRODESC_FAMILY_LEN && fl > OM_MICRODESC_FAMILY_LEN - 45);
    CHECK_EQ_INT(fl % 42, 41); /* whole "$HEX" entries separated by spaces */
    uint8_t unrelated[20];
    memset(unrelated, 0xee, 20);
    CHECK(om_microdesc_family_lists(&m[0], unrelated)); /* cannot tell: conservative */
    om_microdesc_t other;
    memset(&other, 0, sizeof other);
    strcpy(other.family_ids, "ed25519:other");
    CHECK(om_microdesc_share_family_id(&m[0], &other));
    /* The structs are plain values: a copy outlives the array. */
    om_microdesc_t copy = m[0];
    om_microdesc_free_array(m, n);
    CHECK_EQ_INT(strlen(copy.family), fl);
    free(doc);
}

static const om_test_t tests[] = {
    OM_TEST(test_digests),
    OM_TEST(test_keys_and_ids),
    OM_TEST(test_family),
    OM_TEST(test_policies_from_snapshot),
    OM_TEST(test_policy_parser),
    OM_TEST(test_malformed),
    OM_TEST(test_truncated_everywhere),
    OM_TEST(test_long_family),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("microdesc", tests, argc, argv);
}
