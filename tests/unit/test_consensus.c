/* test_consensus.c — unit tests for consensus.c and consensus_verify.c on the testnet snapshot
 * (tests/data/testnet-snapshot: both flavours of a consensus made by three tor 0.4.9.11
 * authorities, their key certificates): every header field, router and footer value against
 * independently read values; signature verification with real keys; forged, missing, duplicate
 * and foreign signatures; any changed byte of the signed portion; expiry; malformed, truncated
 * and reordered documents; the router limit; and parse time of a synthetic 7000-router
 * consensus. */
#include "test.h"

#include <time.h>

#include "core/crypto.h"
#include "core/dir_fetch.h"
#include "dir/consensus.h"
#include "dir/netdoc.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static char *load(const char *name, size_t *len)
{
    char rel[256];
    snprintf(rel, sizeof rel, "testnet-snapshot/%s", name);
    return om_test_read_data(rel, len);
}

/* Parse from an exactly-sized heap copy (ASan sees any over-read). */
static om_consensus_t *parse(const char *t, size_t len, char *err, size_t errlen)
{
    char *copy = malloc(len ? len : 1);
    memcpy(copy, t, len);
    om_consensus_t *c = om_consensus_parse(copy, len, err, errlen);
    free(copy);
    return c;
}

/* The DirAuthority v3idents from the torrc (README), not from the consensus. */
static uint8_t trusted[3][20];
static om_authcert_t **certs;
static size_t n_certs;
static const time_t VALID_AFTER = 1795338860; /* 2026-11-22 09:14:20 (calendar.timegm) */

static int setup(void)
{
    static bool done;
    if (done) return certs ? 0 : -1;
    done = true;
    om_test_unhex("2294432174E7CF2BB0914A509C1E955DCA35EB6E", trusted[0], 20);
    om_test_unhex("7CBA18A8EED044F5DA4D43D8439C66F0E94519E8", trusted[1], 20);
    om_test_unhex("44BDAE19610F6045A72216FD5608EE0858B4515D", trusted[2], 20);
    size_t len;
    char *k = load("keys-all", &len), err[256];
    if (!k) return -1;
    certs = om_authcert_parse_many(k, len, &n_certs, err, sizeof err);
    free(k);
    return certs ? 0 : -1;
}

static int verify(const om_consensus_t *c, time_t now, char *err, size_t errlen)
{
    return om_consensus_verify(c, certs, n_certs, (const uint8_t(*)[20])trusted, 3, now, 0, err,
                               errlen);
}

/* Replace the nth occurrence of from by to; malloc'd NUL-terminated, *len set; NULL if absent. */
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

/* The text of the signature block of the authority with this hex identity. */
static char *sig_block(const char *text, const char *idhex)
{
    const char *s = strstr(text, "\ndirectory-signature ");
    while (s) {
        const char *nl = strchr(s + 1, '\n');
        const char *end = strstr(s + 1, "-----END SIGNATURE-----\n");
        if (memmem(s, (size_t)(nl - s), idhex, 40)) {
            size_t n = (size_t)(end + 24 - (s + 1));
            char *b = malloc(n + 1);
            memcpy(b, s + 1, n);
            b[n] = '\0';
            return b;
        }
        s = strstr(s + 1, "\ndirectory-signature ");
    }
    return NULL;
}

/* text with the signature block of idhex removed. */
static char *without_sig(const char *text, const char *idhex, size_t *len)
{
    char *b = sig_block(text, idhex);
    if (!b) return NULL;
    char *r = replace_nth(text, b, "", 0, len);
    free(b);
    return r;
}

/* Change one base64 character in the signature object of idhex. */
static char *forge_sig(const char *text, const char *idhex, size_t *len)
{
    char *b = sig_block(text, idhex);
    if (!b) return NULL;
    char *f = strdup(b);
    char *body = strstr(f, "-----BEGIN SIGNATURE-----\n") + 26 + 30;
    *body = *body == 'A' ? 'B' : 'A';
    char *r = replace_nth(text, b, f, 0, len);
    free(b);
    free(f);
    return r;
}

#define AUTH0 "2294432174E7CF2BB0914A509C1E955DCA35EB6E"
#define AUTH1 "7CBA18A8EED044F5DA4D43D8439C66F0E94519E8"
#define AUTH2 "44BDAE19610F6045A72216FD5608EE0858B4515D"

/* The six nodes, from their DataDirectory/fingerprint files (README), in consensus order. */
static const struct {
    const char *nick, *fp;
    uint16_t or_port, dir_port;
    bool authority;
} nodes[6] = {
    {"relay0", "2329B119FCBADBD19AD3DF95E835948D7E092F6F", 27120, 0, false},
    {"relay2", "32E95B50FA6F0926FDE6D8FD25C0B950CCAB1743", 27122, 0, false},
    {"auth1", "33D43D370A7653677265526CDC5B7E4654E1248F", 27101, 27111, true},
    {"auth0", "6EAA0E29C8438B78B85EAE6B2CD5CB9E6BC8574F", 27100, 27110, true},
    {"relay1", "8C601AA9FA4F8789501DC17E76F0842018CC6F48", 27121, 0, false},
    {"auth2", "D6347C81FDB6024AE0C0B6F63C4AA31D4ECFF466", 27102, 27112, true},
};

/* Values read from the document text line by line, independently of the parser. */
static void scan_router_values(const char *text, uint32_t bw[6], char m64[6][64])
{
    int r = -1;
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (!strncmp(l, "r ", 2))
            r++;
        else if (r >= 0 && r < 6 && !strncmp(l, "w Bandwidth=", 12))
            bw[r] = (uint32_t)strtoul(l + 12, NULL, 10);
        else if (r >= 0 && r < 6 && !strncmp(l, "m ", 2))
            sscanf(l + 2, "%63s", m64[r]);
    }
}

static void check_common(const om_consensus_t *c, const char *text)
{
    CHECK_EQ_INT(c->consensus_method, 35);
    CHECK_EQ_INT(c->valid_after, VALID_AFTER);
    CHECK_EQ_INT(c->fresh_until, VALID_AFTER + 20);
    CHECK_EQ_INT(c->valid_until, VALID_AFTER + 40);
    CHECK_EQ_INT(c->vote_delay, 4);
    CHECK_EQ_INT(c->dist_delay, 4);
    CHECK_EQ_INT(c->known_flags, OM_RS_AUTHORITY | OM_RS_EXIT | OM_RS_FAST | OM_RS_GUARD |
                                     OM_RS_HSDIR | OM_RS_NOEDCONSENSUS | OM_RS_RUNNING |
                                     OM_RS_STABLE | OM_RS_STALEDESC | OM_RS_SYBIL | OM_RS_V2DIR |
                                     OM_RS_VALID);
    /* required-client-protocols Cons=2 Desc=2 FlowCtrl=1 Link=4 Microdesc=2 Relay=2 */
    CHECK(c->has_required_client_proto && c->has_recommended_client_proto);
    CHECK(c->has_required_relay_proto && c->has_recommended_relay_proto);
    CHECK_EQ_INT(c->required_client_proto.cons, 1 << 2);
    CHECK_EQ_INT(c->required_client_proto.flowctrl, 1 << 1);
    CHECK_EQ_INT(c->required_client_proto.link, 1 << 4);
    CHECK_EQ_INT(c->required_client_proto.relay, 1 << 2);
    CHECK_EQ_INT(c->required_client_proto.linkauth, 0);
    CHECK_EQ_INT(c->recommended_relay_proto.linkauth, 1 << 3);
    CHECK_EQ_INT(c->recommended_relay_proto.relay, (1 << 2) | (1 << 3) | (1 << 4));
    CHECK_EQ_INT(c->recommended_client_proto.hsintro, 1 << 4);
    /* params AuthDirMaxServersPerAddr=0 bwweightscale=10000 cc_alg=2 circwindow=1000
     * dirdocs_negative=-7 */
    CHECK_EQ_INT(c->n_params, 5);
    CHECK(strcmp(c->params[0].name, "AuthDirMaxServersPerAddr") == 0);
    CHECK_EQ_INT(om_consensus_param(c, "cc_alg", 0, 0, 10), 2);
    CHECK_EQ_INT(om_consensus_param(c, "circwindow", 500, 100, 1000), 1000);
    CHECK_EQ_INT(om_consensus_param(c, "circwindow", 500, 100, 800), 800);
    CHECK_EQ_INT(om_consensus_param(c, "bwweightscale", 1, 1, INT32_MAX), 10000);
    CHECK_EQ_INT(om_consensus_param(c, "AuthDirMaxServersPerAddr", 9, 0, 100), 0);
    CHECK_EQ_INT(om_consensus_param(c, "dirdocs_negative", 0, -100, 100), -7);
    CHECK_EQ_INT(om_consensus_param(c, "dirdocs_negative", 0, 0, 100), 0);
    CHECK_EQ_INT(om_consensus_param(c, "absent", 42, 0, 100), 42);
    CHECK_EQ_INT(om_consensus_param(c, "absent", 420, 0, 100), 100);
    /* shared-rand-previous-value 0 zxJao+gB...; shared-rand-current-value 3 9XFOi2/G... */
    uint8_t v[32];
    CHECK_EQ_INT(om_base64_decode("zxJao+gBmFMSezvz/VXkEWEQJD5b/z+7AXNCGoLFVW0=", 44, v, 32), 32);
    CHECK(c->has_srv_previous);
    CHECK_EQ_INT(c->srv_previous_reveals, 0);
    CHECK_MEM(c->srv_previous, v, 32);
    CHECK_EQ_INT(om_base64_decode("9XFOi2/GwJgKiGd6KpKhBfx9ODDqYZfZgwQjcSDbpsc=", 44, v, 32), 32);
    CHECK(c->has_srv_current);
    CHECK_EQ_INT(c->srv_current_reveals, 3);
    CHECK_MEM(c->srv_current, v, 32);
    /* Authority section: sorted by identity, as the document lists them. */
    CHECK_EQ_INT(c->n_dir_sources, 3);
    static const char *ds_nick[3] = {"auth0", "auth2", "auth1"};
    static const int ds_idx[3] = {0, 2, 1};
    for (int i = 0; i < 3; i++) {
        CHECK(strcmp(c->dir_sources[i].nickname, ds_nick[i]) == 0);
        CHECK_MEM(c->dir_sources[i].identity, trusted[ds_idx[i]], 20);
        CHECK_EQ_INT(c->dir_sources[i].dir_port, 27110 + ds_idx[i]);
        CHECK_EQ_INT(c->dir_sources[i].or_port, 27100 + ds_idx[i]);
        CHECK(c->dir_sources[i].has_vote_digest);
    }
    /* Routers. */
    CHECK_EQ_INT(c->n_routers, 6);
    uint32_t bw[6] = {0};
    char m64[6][64] = {{0}};
    scan_router_values(text, bw, m64);
    for (int i = 0; i < 6; i++) {
        const om_routerstatus_t *r = &c->routers[i];
        uint8_t fp[20];
        om_test_unhex(nodes[i].fp, fp, 20);
        CHECK_MSG(strcmp(r->nickname, nodes[i].nick) == 0, "router %d is %s", i, r->nickname);
        CHECK_MEM(r->rsa_id, fp, 20);
        CHECK_MEM(r->ipv4, "\x7f\x00\x00\x01", 4);
        CHECK_EQ_INT(r->or_port, nodes[i].or_port);
        CHECK_EQ_INT(r->dir_port, nodes[i].dir_port);
        uint32_t want = OM_RS_EXIT | OM_RS_FAST | OM_RS_GUARD | OM_RS_HSDIR | OM_RS_RUNNING |
                        OM_RS_STABLE | OM_RS_V2DIR | OM_RS_VALID;
        if (nodes[i].authority) want |= OM_RS_AUTHORITY;
        CHECK_EQ_INT(r->flags, want);
        CHECK(strcmp(r->version, "Tor 0.4.9.11") == 0);
        CHECK(r->has_proto);
        CHECK_EQ_INT(r->proto.relay, 0x7c); /* Relay=2-6 */
        CHECK_EQ_INT(r->proto.conflux, 1 << 1);
        CHECK_EQ_INT(r->bandwidth, bw[i]);
        CHECK(r->bandwidth > 0);
        CHECK(r->bw_unmeasured);
        CHECK_EQ_INT(r->has_ipv6, i == 1); /* relay2: a [::1]:27125 */
        CHECK(om_consensus_find(c, fp) == r);
        CHECK(r->md == NULL);
    }
    CHECK_MEM(c->routers[1].ipv6, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16);
    CHECK_EQ_INT(c->routers[1].ipv6_port, 27125);
    uint8_t none[20] = {0};
    CHECK(om_consensus_find(c, none) == NULL);
    memset(none, 0xff, 20);
    CHECK(om_consensus_find(c, none) == NULL);
    /* Footer: bandwidth-weights Wbd=3333 Wbe=0 ... Wmm=10000 (19 weights). */
    CHECK_EQ_INT(c->n_bw_weights, 19);
    CHECK_EQ_INT(om_consensus_bw_weight(c, "Wbd", -1), 3333);
    CHECK_EQ_INT(om_consensus_bw_weight(c, "Wbe", -1), 0);
    CHECK_EQ_INT(om_consensus_bw_weight(c, "Wgg", -1), 10000);
    CHECK_EQ_INT(om_consensus_bw_weight(c, "Wmm", -1), 10000);
    CHECK_EQ_INT(om_consensus_bw_weight(c, "Wxx", -1), -1);
    /* Signatures, in document order auth0, auth2, auth1; signing keys as in keys-all. */
    CHECK_EQ_INT(c->n_sigs, 3);
    static const char *skd[3] = {"90C0964EEBD60297D51D9E48CB2C0E82F09114EE",
                                 "036CF102C56C3844E64DAA1D5F0CDC8C09C25CB2",
                                 "2292356A18475C41D8463805093F7F722B273AF5"};
    for (int i = 0; i < 3; i++) {
        uint8_t d[20];
        CHECK_MEM(c->sigs[i].identity, trusted[ds_idx[i]], 20);
        om_test_unhex(skd[i], d, 20);
        CHECK_MEM(c->sigs[i].signing_key_digest, d, 20);
        CHECK_EQ_INT(c->sigs[i].siglen, 256);
    }
    /* The signed portion: through the space after the first "directory-signature". */
    const char *first = strstr(text, "\ndirectory-signature ");
    CHECK(first != NULL);
    size_t signed_len = (size_t)(first + 1 + strlen("directory-signature ") - text);
    CHECK_EQ_INT(c->signed_len, signed_len);
    uint8_t d1[20], d256[32];
    om_sha1((const uint8_t *)text, signed_len, d1);
    om_sha256((const uint8_t *)text, signed_len, d256);
    CHECK_MEM(c->signed_digest_sha1, d1, 20);
    CHECK_MEM(c->signed_digest_sha256, d256, 32);
}

static void test_parse_microdesc_flavour(void)
{
    CHECK(setup() == 0);
    size_t len;
    char *t = load("consensus-microdesc", &len), err[256] = "";
    CHECK(t != NULL);
    om_consensus_t *c = parse(t, len, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    CHECK(c->microdesc_flavor);
    check_common(c, t);
    if (!om_test_failed_flag) {
        uint32_t bw[6] = {0};
        char m64[6][64] = {{0}};
        scan_router_values(t, bw, m64);
        for (int i = 0; i < 6; i++) {
            uint8_t d[32];
            CHECK_EQ_INT(strlen(m64[i]), 43);
            CHECK_EQ_INT(om_base64_decode(m64[i], 43, d, 32), 32);
            CHECK_MEM(c->routers[i].md_digest, d, 32);
            CHECK(om_mem_is_zero(c->routers[i].desc_digest, 20));
            CHECK_EQ_INT(c->routers[i].published, 2145916800LL); /* 2038-01-01 00:00:00 */
        }
        for (int i = 0; i < 3; i++)
            CHECK_EQ_INT(c->sigs[i].alg, OM_SIG_SHA256);
    }
    om_consensus_free(c);
    free(t);
}

static void test_parse_ns_flavour(void)
{
    CHECK(setup() == 0);
    size_t len;
    char *t = load("consensus", &len), err[256] = "";
    CHECK(t != NULL);
    om_consensus_t *c = parse(t, len, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    CHECK(!c->microdesc_flavor);
    check_common(c, t);
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(c->sigs[i].alg, OM_SIG_SHA1);
    /* r relay0 IymxGfy629Ga09+V6DWUjX4JL28 j7UbQ8SavGxkkPFMJ1SG0wKlCFo 2026-11-22 09:04:44 ... */
    uint8_t d[20];
    CHECK_EQ_INT(om_base64_decode("j7UbQ8SavGxkkPFMJ1SG0wKlCFo", 27, d, 20), 20);
    CHECK_MEM(c->routers[0].desc_digest, d, 20);
    CHECK_EQ_INT(c->routers[0].published, 1795338284LL); /* 2026-11-22 09:04:44 */
    for (int i = 0; i < 6; i++) {
        CHECK(!om_mem_is_zero(c->routers[i].desc_digest, 20));
        CHECK(om_mem_is_zero(c->routers[i].md_digest, 32));
    }
    om_consensus_free(c);
    free(t);
}

static void test_compressed_download(void)
{
    size_t zlen, len;
    char *z = load("consensus-microdesc.z", &zlen), *t = load("consensus-microdesc", &len);
    CHECK(z && t);
    uint8_t *out = NULL;
    size_t outlen = 0;
    CHECK_EQ_INT(om_inflate((const uint8_t *)z, zlen, 1 << 20, &out, &outlen), 0);
    CHECK_EQ_INT(outlen, len);
    CHECK_MEM(out, t, len);
    char err[256];
    om_consensus_t *c = om_consensus_parse((const char *)out, outlen, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    CHECK_EQ_INT(c->n_routers, 6);
    om_consensus_free(c);
    free(out);
    free(z);
    free(t);
}

static void test_verify_snapshot(void)
{
    CHECK(setup() == 0);
    const char *files[2] = {"consensus-microdesc", "consensus"};
    for (int f = 0; f < 2; f++) {
        size_t len;
        char *t = load(files[f], &len), err[512] = "";
        CHECK(t != NULL);
        om_consensus_t *c = parse(t, len, err, sizeof err);
        CHECK_MSG(c != NULL, "%s", err);
        CHECK_MSG(verify(c, VALID_AFTER, err, sizeof err) == 0, "%s: %s", files[f], err);
        CHECK_EQ_INT(verify(c, c->valid_until, err, sizeof err), 0);
        /* Two certificates of three still make a majority; one does not. */
        CHECK_EQ_INT(om_consensus_verify(c, certs, 2, (const uint8_t(*)[20])trusted, 3, VALID_AFTER,
                                         0, err, sizeof err),
                     0);
        CHECK_EQ_INT(om_consensus_verify(c, certs, 1, (const uint8_t(*)[20])trusted, 3, VALID_AFTER,
                                         0, err, sizeof err),
                     -1);
        CHECK_MSG(strstr(err, "only 1 of 3") && strstr(err, "no certificate") &&
                      strstr(err, "auth2 " AUTH2),
                  "%s", err);
        CHECK_EQ_INT(om_consensus_verify(c, NULL, 0, (const uint8_t(*)[20])trusted, 3, VALID_AFTER,
                                         0, err, sizeof err),
                     -1);
        /* More trusted authorities than signers: 3 of 5 is a majority, 3 of 6 is not. */
        uint8_t six[6][20];
        memcpy(six, trusted, sizeof trusted);
        memset(six[3], 0x11, 20);
        memset(six[4], 0x22, 20);
        memset(six[5], 0x33, 20);
        CHECK_EQ_INT(om_consensus_verify(c, certs, n_certs, (const uint8_t(*)[20])six, 5,
                                         VALID_AFTER, 0, err, sizeof err),
                     0);
        CHECK_EQ_INT(om_consensus_verify(c, certs, n_certs, (const uint8_t(*)[20])six, 6,
                                         VALID_AFTER, 0, err, sizeof err),
                     -1);
        CHECK_MSG(strstr(err, "only 3 of 6 trusted authorities signed validly, need 4") &&
                      strstr(err, "no signature from 1111111111111111111111111111111111111111"),
                  "%s", err);
        /* A trusted identity listed twice counts once. */
        uint8_t dup[4][20];
        memcpy(dup[0], trusted[0], 20);
        memcpy(dup[1], trusted[0], 20);
        memcpy(dup[2], six[3], 20);
        memcpy(dup[3], six[4], 20);
        CHECK_EQ_INT(om_consensus_verify(c, certs, n_certs, (const uint8_t(*)[20])dup, 4,
                                         VALID_AFTER, 0, err, sizeof err),
                     -1);
        CHECK_MSG(strstr(err, "only 1 of 3"), "%s", err);
        om_consensus_free(c);
        free(t);
    }
}

static void test_expiry(void)
{
    CHECK(setup() == 0);
    size_t len;
    char *t = load("consensus-microdesc", &len), err[512] = "";
    CHECK(t != NULL);
    om_consensus_t *c = parse(t, len, err, sizeof err);
    CHECK(c != NULL);
    CHECK_EQ_INT(om_consensus_verify(c, certs, n_certs, (const uint8_t(*)[20])trusted, 3,
                                     c->valid_until + 60, 60, err, sizeof err),
                 0);
    CHECK_EQ_INT(om_consensus_verify(c, certs, n_certs, (const uint8_t(*)[20])trusted, 3,
                                     c->valid_until + 61, 60, err, sizeof err),
                 -1);
    CHECK_MSG(strstr(err, "consensus: expired at 2026-11-22 09:15:00"), "%s", err);
    CHECK_EQ_INT(verify(c, VALID_AFTER - 1, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "not valid until 2026-11-22 09:14:20"), "%s", err);
    CHECK_EQ_INT(om_consensus_verify(c, certs, n_certs, (const uint8_t(*)[20])trusted, 3,
                                     VALID_AFTER - 300, 300, err, sizeof err),
                 0);
    om_consensus_free(c);
    free(t);
}

static void test_forged_signatures(void)
{
    CHECK(setup() == 0);
    size_t len, l1, l2;
    char *t = load("consensus-microdesc", &len), err[512] = "";
    CHECK(t != NULL);
    char *one = forge_sig(t, AUTH1, &l1);
    CHECK(one != NULL);
    om_consensus_t *c = parse(one, l1, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err); /* still well-formed */
    /* 2 of 3 valid: still a majority. */
    CHECK_MSG(verify(c, VALID_AFTER, err, sizeof err) == 0, "%s", err);
    /* With a fourth trusted authority (that did not sign), 2 of 4 is not more than half. */
    uint8_t four[4][20];
    memcpy(four, trusted, sizeof trusted);
    memset(four[3], 0x44, 20);
    CHECK_EQ_INT(om_consensus_verify(c, certs, n_certs, (const uint8_t(*)[20])four, 4, VALID_AFTER,
                                     0, err, sizeof err),
                 -1);
    CHECK_MSG(strstr(err, "only 2 of 4") && strstr(err, "forged or bad signature by auth1 " AUTH1),
              "%s", err);
    om_consensus_free(c);
    /* Two forged of three. */
    char *two = forge_sig(one, AUTH2, &l2);
    c = parse(two, l2, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    CHECK_EQ_INT(verify(c, VALID_AFTER, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "only 1 of 3") && strstr(err, "bad signature by auth1 " AUTH1) &&
                  strstr(err, "bad signature by auth2 " AUTH2) && !strstr(err, "auth0"),
              "%s", err);
    om_consensus_free(c);
    free(two);
    /* One forged, one removed. */
    char *rem = without_sig(one, AUTH0, &l2);
    c = parse(rem, l2, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    CHECK_EQ_INT(c->n_sigs, 2);
    CHECK_EQ_INT(verify(c, VALID_AFTER, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "no signature from auth0") && strstr(err, "bad signature by auth1"), "%s",
              err);
    om_consensus_free(c);
    free(rem);
    free(one);
    free(t);
}

/* Any changed byte of the signed portion makes the document malformed or the signatures bad. */
static void test_tampered_signed_portion(void)
{
    CHECK(setup() == 0);
    size_t len;
    char *t = load("consensus-microdesc", &len), err[512] = "";
    CHECK(t != NULL);
    size_t signed_len = (size_t)(strstr(t, "\ndirectory-signature ") + 21 - t);
    size_t parsed = 0;
    char *m = malloc(len);
    for (size_t pos = 0; pos < signed_len; pos++) {
        memcpy(m, t, len);
        m[pos] = (char)(m[pos] ^ (m[pos] == '\n' ? 0x2a : 0x01));
        om_consensus_t *c = om_consensus_parse(m, len, err, sizeof err);
        if (c) {
            parsed++;
            CHECK_MSG(verify(c, VALID_AFTER, err, sizeof err) == -1, "byte %zu changed: verified",
                      pos);
            /* Bad signatures, or a changed time that moves the validity window. */
            CHECK_MSG(strstr(err, "only 0 of 3") || strstr(err, "valid until") ||
                          strstr(err, "expired at"),
                      "byte %zu: %s", pos, err);
            om_consensus_free(c);
        }
    }
    free(m);
    CHECK(parsed > signed_len / 4); /* most changes still parse: the signatures catch them */
    /* A router's port. */
    size_t ml;
    m = replace_nth(t, "127.0.0.1 27120 0", "127.0.0.1 27129 0", 0, &ml);
    om_consensus_t *c = parse(m, ml, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    CHECK_EQ_INT(c->routers[0].or_port, 27129);
    CHECK_EQ_INT(verify(c, VALID_AFTER, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "bad signature by auth0") && strstr(err, "bad signature by auth1") &&
                  strstr(err, "bad signature by auth2"),
              "%s", err);
    om_consensus_free(c);
    free(m);
    free(t);
}

static void test_foreign_and_duplicate_signatures(void)
{
    CHECK(setup() == 0);
    size_t len, ml, l2;
    char *t = load("consensus-microdesc", &len), err[512] = "";
    CHECK(t != NULL);
    char *b0 = sig_block(t, AUTH0);
    CHECK(b0 != NULL);
    /* A signature by an unknown authority, and one with an unknown algorithm, are ignored. */
    char *foreign = replace_nth(b0, AUTH0, "00112233445566778899AABBCCDDEEFF00112233", 0, &ml);
    char *unknown_alg = replace_nth(b0, "sha256", "sha3-256", 0, &ml);
    char *doc = malloc(len + 2 * strlen(b0) + 64);
    CHECK(doc && foreign && unknown_alg);
    sprintf(doc, "%s%s%s", t, foreign, unknown_alg);
    om_consensus_t *c = parse(doc, strlen(doc), err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    CHECK_EQ_INT(c->n_sigs, 4);
    CHECK_MSG(verify(c, VALID_AFTER, err, sizeof err) == 0, "%s", err);
    om_consensus_free(c);
    /* Only auth0's signature, repeated three times, plus the foreign one: counts once. */
    char *w1 = without_sig(t, AUTH1, &ml);
    char *w2 = without_sig(w1, AUTH2, &l2);
    sprintf(doc, "%s%s%s%s", w2, b0, b0, foreign);
    c = parse(doc, strlen(doc), err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    CHECK_EQ_INT(c->n_sigs, 4);
    CHECK_EQ_INT(verify(c, VALID_AFTER, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "only 1 of 3"), "%s", err);
    om_consensus_free(c);
    /* The full document with auth0's signature repeated still verifies. */
    sprintf(doc, "%s%s", t, b0);
    c = parse(doc, strlen(doc), err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    CHECK_EQ_INT(verify(c, VALID_AFTER, err, sizeof err), 0);
    om_consensus_free(c);
    free(w1);
    free(w2);
    free(doc);
    free(foreign);
    free(unknown_alg);
    free(b0);
    free(t);
}

/* A signature is counted for the authority it names only if the certificate of its signing key
 * belongs to that authority: auth0's signature block relabelled as auth1's (auth0's signing-key
 * digest kept, so only the certificate's identity tells them apart) must not make auth0's one
 * key count twice. */
static void test_relabelled_signature_not_counted(void)
{
    CHECK(setup() == 0);
    size_t len, ml, l2;
    char *t = load("consensus-microdesc", &len), err[512] = "";
    CHECK(t != NULL);
    char *b0 = sig_block(t, AUTH0);
    char *as1 = b0 ? replace_nth(b0, AUTH0, AUTH1, 0, &ml) : NULL;
    char *as2 = b0 ? replace_nth(b0, AUTH0, AUTH2, 0, &ml) : NULL;
    char *w1 = without_sig(t, AUTH1, &ml);
    char *w2 = w1 ? without_sig(w1, AUTH2, &l2) : NULL;
    char *doc = malloc(len + 3 * (b0 ? strlen(b0) : 0) + 64);
    CHECK(b0 && as1 && as2 && w2 && doc);
    /* auth0's genuine signature plus the same one claiming to be auth1's: 1 of 3, not 2. */
    sprintf(doc, "%s%s", w2, as1);
    om_consensus_t *c = parse(doc, strlen(doc), err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    CHECK_EQ_INT(c->n_sigs, 2);
    CHECK_EQ_INT(verify(c, VALID_AFTER, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "only 1 of 3") &&
                  strstr(err, "no certificate for the signing key of auth1 " AUTH1),
              "%s", err);
    om_consensus_free(c);
    /* ... and claiming to be both others': still 1 of 3. */
    sprintf(doc, "%s%s%s", w2, as1, as2);
    c = parse(doc, strlen(doc), err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    CHECK_EQ_INT(c->n_sigs, 3);
    CHECK_EQ_INT(verify(c, VALID_AFTER, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "only 1 of 3"), "%s", err);
    om_consensus_free(c);
    /* The relabelled block does not spoil the genuine ones: the full document with it appended
     * still verifies. */
    sprintf(doc, "%s%s", t, as1);
    c = parse(doc, strlen(doc), err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    CHECK_MSG(verify(c, VALID_AFTER, err, sizeof err) == 0, "%s", err);
    om_consensus_free(c);
    free(doc);
    free(w1);
    free(w2);
    free(as1);
    free(as2);
    free(b0);
    free(t);
}

static void test_truncated_everywhere(void)
{
    const char *files[2] = {"consensus-microdesc", "consensus"};
    for (int f = 0; f < 2; f++) {
        size_t len;
        char *t = load(files[f], &len), err[256];
        CHECK(t != NULL);
        /* A document cut right after a complete signature block is still complete. */
        size_t ok_cut[8], n_ok = 0;
        for (const char *e = strstr(t, "-----END SIGNATURE-----\n"); e && n_ok < 8;
             e = strstr(e + 1, "-----END SIGNATURE-----\n"))
            ok_cut[n_ok++] = (size_t)(e + 24 - t);
        CHECK_EQ_INT(n_ok, 3);
        CHECK_EQ_INT(ok_cut[2], len);
        for (size_t cut = 0; cut < len; cut++) {
            bool ok = false;
            for (size_t k = 0; k < n_ok; k++)
                ok |= cut == ok_cut[k] || cut == ok_cut[k] - 1;
            om_consensus_t *c = parse(t, cut, err, sizeof err);
            CHECK_MSG((c != NULL) == ok, "%s cut at %zu: parsed=%d (%s)", files[f], cut, c != NULL,
                      c ? "" : err);
            om_consensus_free(c);
        }
        free(t);
    }
}

static void expect_reject(const char *doc, size_t len, const char *needle)
{
    char err[256] = "";
    om_consensus_t *c = parse(doc, len, err, sizeof err);
    if (c || !strstr(err, needle)) {
        snprintf(om_test_reason, sizeof om_test_reason, "parsed=%d err='%s' want '%s'", c != NULL,
                 err, needle);
        om_test_failed_flag = 1;
    }
    om_consensus_free(c);
}

/* Replace and expect a rejection mentioning needle. */
static void reject_edit(const char *t, const char *from, const char *to, int nth,
                        const char *needle)
{
    size_t ml;
    char *m = replace_nth(t, from, to, nth, &ml);
    if (!m) {
        snprintf(om_test_reason, sizeof om_test_reason, "test edit '%s' not found", from);
        om_test_failed_flag = 1;
        return;
    }
    expect_reject(m, ml, needle);
    free(m);
}

static void accept_edit(const char *t, const char *from, const char *to, int nth)
{
    size_t ml;
    char err[256] = "";
    char *m = replace_nth(t, from, to, nth, &ml);
    om_consensus_t *c = m ? parse(m, ml, err, sizeof err) : NULL;
    if (!c) {
        snprintf(om_test_reason, sizeof om_test_reason, "edit '%.30s' rejected: %s", from, err);
        om_test_failed_flag = 1;
    }
    om_consensus_free(c);
    free(m);
}

static void test_malformed(void)
{
    size_t len;
    char *t = load("consensus-microdesc", &len);
    CHECK(t != NULL);
#define RJ(from, to, needle) reject_edit(t, from, to, 0, needle)
    /* Start, flavour, type. */
    RJ("network-status-version 3 microdesc", "network-status-version 4 microdesc",
       "unsupported network-status-version");
    RJ("network-status-version 3 microdesc", "network-status-version 3 foo", "unsupported flavour");
    RJ("network-status-version 3 microdesc\n", "\nnetwork-status-version 3 microdesc\n",
       "does not start with");
    RJ("vote-status consensus", "vote-status vote", "not a consensus");
    RJ("network-status-version 3 microdesc\n", "x-first 1\nnetwork-status-version 3 microdesc\n",
       "does not start with");
    RJ("consensus-method 35", "consensus-method 35\nnetwork-status-version 3", "second network");
    /* Missing required items. */
    RJ("known-flags ", "x-known-flags ", "missing known-flags");
    RJ("vote-status consensus\n", "", "missing vote-status");
    RJ("valid-after ", "x-valid-after ", "missing valid-after");
    RJ("voting-delay 4 4\n", "", "missing voting-delay");
    RJ("directory-footer\n", "", "directory-signature before directory-footer");
    RJ("s Exit Fast Guard HSDir Running Stable V2Dir Valid\n", "", "no s line");
    RJ("\nm ", "\nx-m ", "no m line");
    /* Bad values. */
    RJ("valid-after 2026-11-22 09:14:20", "valid-after 2026-11-22 09:14:40", "out of order");
    RJ("fresh-until 2026-11-22 09:14:40", "fresh-until 2026-11-22 09:15:01", "out of order");
    RJ("valid-until 2026-11-22", "valid-until 2026-13-22", "malformed valid-until");
    RJ("voting-delay 4 4", "voting-delay 4", "malformed voting-delay");
    RJ("consensus-method 35", "consensus-method x", "malformed consensus-method");
    RJ("r relay0 IymxGfy629Ga09+V6DWUjX4JL28", "r relay0 IymxGfy629Ga09*V6DWUjX4JL28",
       "malformed r line");
    RJ("r relay0 IymxGfy629Ga09+V6DWUjX4JL28", "r relay0 IymxGfy629Ga09+V6DWUjX4JL2",
       "malformed r line");
    RJ("r relay0 ", "r relay_0 ", "malformed r line");
    RJ("127.0.0.1 27120 0", "127.0.0.1 27120", "malformed r line");
    RJ("127.0.0.1 27120 0", "127.0.0.1 65536 0", "malformed r line");
    RJ("127.0.0.1 27120 0", "127.0.0.256 27120 0", "malformed r line");
    RJ("\nm ", "\nm A", "malformed m line");
    RJ("w Bandwidth=", "w Bandwidth=x", "bad Bandwidth");
    RJ("w Bandwidth=", "w Bandwidth=4294967296 Foo=", "bad Bandwidth");
    RJ("a [::1]:27125", "a [::1]", "malformed a line");
    RJ("pr Conflux=1", "pr Conflux=x", "malformed pr line");
    RJ("s Exit Fast", "s Weird Exit Fast", "flag 'Weird' not in known-flags");
    RJ("s Exit Fast", "s BadExit Exit Fast", "flag 'BadExit' not in known-flags");
    RJ("params AuthDirMaxServersPerAddr=0 bwweightscale=10000",
       "params bwweightscale=10000 AuthDirMaxServersPerAddr=0", "malformed params");
    RJ("cc_alg=2", "cc_alg=2 cc_alg=3", "malformed params");
    RJ("cc_alg=2", "cc_alg=2147483648", "malformed params");
    RJ("cc_alg=2", "cc_alg", "malformed params");
    RJ("shared-rand-current-value 3 ", "shared-rand-current-value 3 AAAA", "shared-rand-current");
    RJ("dir-source auth0 2294432174E7CF2BB0914A509C1E955DCA35EB6E",
       "dir-source auth0 2294432174E7CF2BB0914A509C1E955DCA35EB6", "malformed dir-source");
    RJ("vote-digest ", "vote-digest XY", "malformed vote-digest");
    RJ("Wbd=3333", "Wbd=x", "malformed bandwidth-weights");
    RJ("-----END SIGNATURE-----", "-----END SIGNATURE----", "does not match");
    RJ("directory-signature sha256 2294432174E7CF2BB0914A509C1E955DCA35EB6E",
       "directory-signature sha256 2294432174E7CF2BB0914A509C1E955DCA35EB6E\n"
       "-----BEGIN SIGNATURE-----\n-----END SIGNATURE-----\ndirectory-signature sha256 X",
       "malformed directory-signature");
    RJ("-----BEGIN SIGNATURE-----", "-----BEGIN ID SIGNATURE-----", "does not match");
    /* Order. */
    RJ("dir-source auth0", "params x=1\ndir-source auth0", "params appears twice");
    RJ("contact dirdocs-testnet@example.invalid\n",
       "contact dirdocs-testnet@example.invalid\nclient-versions \n", "after the preamble");
    RJ("\nr relay2 ",
       "\ndir-source a 2294432174E7CF2BB0914A509C1E955DCA35EB6E 1.2.3.4 1.2.3.4 1 "
       "2\nr relay2 ",
       "dir-source among router entries");
    RJ("\nr relay2 ", "\nknown-flags Exit\nr relay2 ", "known-flags among router entries");
    RJ("directory-footer\n",
       "directory-footer\nr relay9 IymxGfy629Ga09+V6DWUjX4JL28 2038-01-01 "
       "00:00:00 127.0.0.1 1 0\n",
       "router entry after directory-footer");
    RJ("directory-footer\n", "directory-footer\ndirectory-footer\n", "misplaced directory-footer");
    RJ("dir-source auth0", "directory-footer\ndir-source auth0", "misplaced directory-footer");
    RJ("-----END SIGNATURE-----\n", "-----END SIGNATURE-----\nbandwidth-weights Wbd=1\n",
       "only signatures may follow");
    RJ("bandwidth-weights", "bandwidth-weights Wxx=1\nbandwidth-weights", "second bandwidth");
    RJ("directory-footer\n", "directory-footer\nparams a=1\n", "params in the footer");
    /* Sorting: swap the first two router entries; repeat one. */
    {
        const char *r0 = strstr(t, "\nr relay0 ") + 1, *r1 = strstr(t, "\nr relay2 ") + 1;
        const char *r2 = strstr(t, "\nr auth1 ") + 1;
        size_t l0 = (size_t)(r1 - r0), l1 = (size_t)(r2 - r1), pre = (size_t)(r0 - t);
        char *m = malloc(len + l0 + 1);
        memcpy(m, t, pre);
        memcpy(m + pre, r1, l1);
        memcpy(m + pre + l1, r0, l0);
        strcpy(m + pre + l0 + l1, r2);
        expect_reject(m, strlen(m), "not sorted by identity");
        memcpy(m, t, pre + l0);
        memcpy(m + pre + l0, r0, l0);
        strcpy(m + pre + 2 * l0, r1);
        expect_reject(m, strlen(m), "not sorted by identity");
        free(m);
    }
    /* Objects where none belongs. */
    RJ("w Bandwidth=", "s Exit\n-----BEGIN X-----\nAA==\n-----END X-----\nw Bandwidth=",
       "unexpected object");
    /* NUL bytes, a huge line, unknown bytes. */
    for (size_t pos = 0; pos < len; pos += 331) {
        char *m = malloc(len);
        memcpy(m, t, len);
        m[pos] = '\0';
        expect_reject(m, len, "NUL byte");
        free(m);
    }
    {
        size_t big = OM_NETDOC_MAX_LINE + 10;
        char *h = malloc(len + big + 16);
        const char *at = strstr(t, "dir-source");
        size_t pre = (size_t)(at - t);
        memcpy(h, t, pre);
        memcpy(h + pre, "x-pad ", 6);
        memset(h + pre + 6, 'x', big);
        h[pre + 6 + big] = '\n';
        memcpy(h + pre + 7 + big, at, len - pre);
        expect_reject(h, len + big + 7, "longer than");
        free(h);
    }
    RJ("client-versions ", "client-versions \x01", "control character");
    /* At most 64 known flags (12 real ones + 52 invented pass, + 53 fail). */
    {
        char extra[1024];
        size_t o = 0;
        for (int i = 0; i < 53; i++)
            o += (size_t)sprintf(extra + o, " X%02d", i);
        strcpy(extra + o, "\nrecommended-client");
        accept_edit(t, "\nrecommended-client", extra + 4, 0);
        RJ("\nrecommended-client", extra, "malformed known-flags");
    }
    expect_reject("", 0, "empty");
    {
        char err[256] = "";
        /* The length is checked before any byte is read. */
        CHECK(om_consensus_parse(t, (size_t)OM_CONSENSUS_MAX_SIZE + 1, err, sizeof err) == NULL);
        CHECK_MSG(strstr(err, "larger than"), "%s", err);
    }
#undef RJ
    free(t);
}

static void test_tolerated(void)
{
    size_t len;
    char *t = load("consensus-microdesc", &len);
    CHECK(t != NULL);
    /* Unknown items anywhere before the signatures, unknown flags listed in known-flags,
     * unknown w keywords, IPv4 "a" lines, missing optional lines, an unknown algorithm. */
    accept_edit(t, "known-flags ",
                "x-future 1 2\n-----BEGIN X-----\nAAAA\n-----END X-----\n"
                "known-flags ",
                0);
    accept_edit(t, "\nm ", "\nid ed25519 none\nstats wfu=1\nx-router-item\nm ", 0);
    accept_edit(t, "directory-footer\n", "directory-footer\nx-footer 1\n", 0);
    accept_edit(t, "Valid\nrecommended", "Valid Weird\nrecommended", 0);
    size_t ml;
    char *m = replace_nth(t, "Valid\nrecommended", "Valid Weird\nrecommended", 0, &ml);
    accept_edit(m, "s Exit Fast", "s Exit Fast Weird", 0);
    free(m);
    accept_edit(t, "w Bandwidth=", "w Future=7 Bandwidth=", 0);
    accept_edit(t, "a [::1]:27125", "a 1.2.3.4:5\na [::1]:27125\na [::2]:1", 0);
    accept_edit(t, "consensus-method 35\n", "", 0);
    accept_edit(t, "params AuthDirMaxServersPerAddr=0",
                "params AVeryLongParameterNameThatIsLonge"
                "rThanSixtyFourCharactersInTotalXX=5 "
                "AuthDirMaxServersPerAddr=0",
                0);
    accept_edit(t, "directory-signature sha256", "directory-signature sha3-256", 0);
    free(t);
}

/* A consensus with n routers of distinct identities: the snapshot's header and footer around
 * generated entries (its signatures do not cover this). Returns malloc'd text. */
static char *synthetic(size_t n, size_t *out_len)
{
    size_t len;
    char *t = load("consensus-microdesc", &len);
    if (!t) return NULL;
    const char *first_r = strstr(t, "\nr ") + 1, *footer = strstr(t, "directory-footer\n");
    size_t head = (size_t)(first_r - t), foot = len - (size_t)(footer - t);
    size_t cap = head + foot + n * 400;
    char *out = malloc(cap);
    size_t o = head;
    memcpy(out, t, head);
    for (size_t i = 0; i < n; i++) {
        uint8_t id[20] = {0}, md[32];
        char id64[40], md64[60];
        id[0] = (uint8_t)(i >> 16);
        id[1] = (uint8_t)(i >> 8);
        id[2] = (uint8_t)i;
        memset(id + 3, 0x5a, 17);
        om_sha256(id, 20, md);
        om_base64_encode(id, 20, id64, sizeof id64, true);
        om_base64_encode(md, 32, md64, sizeof md64, true);
        o += (size_t)snprintf(out + o, cap - o,
                              "r n%zu %s 2038-01-01 00:00:00 10.%zu.%zu.%zu 9001 0\n"
                              "m %s\n"
                              "s Exit Fast Guard HSDir Running Stable V2Dir Valid\n"
                              "v Tor 0.4.9.11\n"
                              "pr Conflux=1 Cons=1-2 Desc=1-4 DirCache=2 FlowCtrl=1-2 HSDir=2 "
                              "HSIntro=4-5 HSRend=1-2 Link=3-5 LinkAuth=3 Microdesc=1-3 "
                              "Padding=2 Relay=2-6\n"
                              "w Bandwidth=%zu\n",
                              i, id64, (i >> 16) & 255, (i >> 8) & 255, i & 255, md64, 1000 + i);
    }
    memcpy(out + o, footer, foot);
    o += foot;
    free(t);
    *out_len = o;
    return out;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_large_consensus(void)
{
    CHECK(setup() == 0);
    size_t len;
    char *t = synthetic(7000, &len), err[256] = "";
    CHECK(t != NULL);
    double best = 1e9;
    om_consensus_t *c = NULL;
    for (int rep = 0; rep < 3; rep++) {
        om_consensus_free(c);
        double t0 = now_ms();
        c = om_consensus_parse(t, len, err, sizeof err);
        double dt = now_ms() - t0;
        if (dt < best) best = dt;
        CHECK_MSG(c != NULL, "%s", err);
    }
    CHECK_EQ_INT(c->n_routers, 7000);
    for (size_t i = 0; i < 7000; i += 997) {
        CHECK(om_consensus_find(c, c->routers[i].rsa_id) == &c->routers[i]);
        CHECK_EQ_INT(c->routers[i].bandwidth, 1000 + i);
        CHECK_EQ_INT(c->routers[i].flags & OM_RS_GUARD, OM_RS_GUARD);
    }
    /* Its signatures are the snapshot's: they do not cover these routers. */
    CHECK_EQ_INT(verify(c, VALID_AFTER, err, sizeof err), -1);
    om_consensus_free(c);

    size_t slen;
    char *s = load("consensus-microdesc", &slen);
    double t0 = now_ms();
    for (int rep = 0; rep < 20; rep++) {
        c = om_consensus_parse(s, slen, err, sizeof err);
        om_consensus_free(c);
    }
    double snap = (now_ms() - t0) / 20;
    c = om_consensus_parse(s, slen, err, sizeof err);
    t0 = now_ms();
    CHECK_EQ_INT(verify(c, VALID_AFTER, err, sizeof err), 0);
    double ver = now_ms() - t0;
    om_consensus_free(c);
    free(s);
    printf("# consensus parse: snapshot (6 routers, %zu bytes) %.3f ms, verify %.3f ms; "
           "synthetic 7000 routers (%zu bytes) %.1f ms%s\n",
           slen, snap, ver, len, best, SANITIZED ? " (sanitized build)" : "");
    if (!SANITIZED) CHECK_MSG(best < 100.0, "7000-router parse took %.1f ms", best);
    free(t);
}

static void test_router_limit(void)
{
    size_t len;
    char err[256] = "";
    char *t = synthetic(OM_CONSENSUS_MAX_ROUTERS, &len);
    CHECK(t != NULL);
    om_consensus_t *c = om_consensus_parse(t, len, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    CHECK_EQ_INT(c->n_routers, OM_CONSENSUS_MAX_ROUTERS);
    om_consensus_free(c);
    free(t);
    t = synthetic(OM_CONSENSUS_MAX_ROUTERS + 1, &len);
    CHECK(t != NULL);
    c = om_consensus_parse(t, len, err, sizeof err);
    CHECK(c == NULL);
    CHECK_MSG(strstr(err, "more than 20000 routers"), "%s", err);
    free(t);
}

static void test_too_many_signatures(void)
{
    size_t len;
    char *t = load("consensus-microdesc", &len), err[256];
    CHECK(t != NULL);
    char *b0 = sig_block(t, AUTH0);
    size_t bl = strlen(b0);
    char *doc = malloc(len + 16 * bl + 1);
    strcpy(doc, t);
    for (int i = 0; i < 13; i++) /* 3 + 13 = 16: the limit */
        strcat(doc, b0);
    om_consensus_t *c = parse(doc, strlen(doc), err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    CHECK_EQ_INT(c->n_sigs, 16);
    om_consensus_free(c);
    strcat(doc, b0);
    c = parse(doc, strlen(doc), err, sizeof err);
    CHECK(c == NULL);
    CHECK_MSG(strstr(err, "more than 16 signatures"), "%s", err);
    free(doc);
    free(b0);
    free(t);
}

static const om_test_t tests[] = {
    OM_TEST(test_parse_microdesc_flavour),
    OM_TEST(test_parse_ns_flavour),
    OM_TEST(test_compressed_download),
    OM_TEST(test_verify_snapshot),
    OM_TEST(test_expiry),
    OM_TEST(test_forged_signatures),
    OM_TEST(test_relabelled_signature_not_counted),
    OM_TEST(test_tampered_signed_portion),
    OM_TEST(test_foreign_and_duplicate_signatures),
    OM_TEST(test_truncated_everywhere),
    OM_TEST(test_malformed),
    OM_TEST(test_tolerated),
    OM_TEST(test_large_consensus),
    OM_TEST(test_router_limit),
    OM_TEST(test_too_many_signatures),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    int r = om_test_main("consensus", tests, argc, argv);
    om_authcert_free_array(certs, n_certs);
    return r;
}
