/* test_certs_verify.c — unit tests for identity.c (a generated relay identity and its CERTS
 * cell) and certs_verify.c (a client's validation of a responder's CERTS cell, tor-spec 4.2). */
#include "test.h"

#include <time.h>

#include "core/cert.h"

#define DAY (24L * 3600)

static om_identity_t g_id;
static bool g_have_id;
static uint8_t g_tls_hash[32];

static const om_identity_t *identity(void)
{
    if (!g_have_id) {
        if (om_identity_generate(&g_id) != 0) return NULL;
        om_sha256(g_id.tls_cert, g_id.tls_cert_len, g_tls_hash);
        g_have_id = true;
    }
    return &g_id;
}

/* A certs list built by hand from the identity's pieces; tests replace entries. */
typedef struct {
    om_certs_list_t l;
    uint8_t link[OM_ED_CERT_MAX_LEN];
} certs_t;

static int make_link_cert(const om_ed25519_keypair_t *signer, const uint8_t hash[32],
                          uint8_t key_type, time_t expires, uint8_t *out)
{
    return om_ed_cert_create(OM_CERTTYPE_ED_SIGN_LINK, key_type, hash, signer, false, expires, out,
                             OM_ED_CERT_MAX_LEN);
}

static int build(certs_t *c, const om_identity_t *id)
{
    memset(c, 0, sizeof *c);
    int n = make_link_cert(&id->ed_sign, g_tls_hash, OM_CERT_KEYTYPE_SHA256_X509,
                           time(NULL) + 2 * DAY, c->link);
    if (n < 0) return -1;
    c->l.certs[0] = (om_certs_entry_t){2, (uint16_t)id->rsa_id_cert_len, id->rsa_id_cert};
    c->l.certs[1] = (om_certs_entry_t){4, (uint16_t)id->ed_id_sign_cert_len, id->ed_id_sign_cert};
    c->l.certs[2] = (om_certs_entry_t){5, (uint16_t)n, c->link};
    c->l.certs[3] = (om_certs_entry_t){7, (uint16_t)id->rsa_ed_crosscert_len, id->rsa_ed_crosscert};
    c->l.n = 4;
    return 0;
}

static void set_entry(certs_t *c, uint8_t type, const uint8_t *body, size_t len)
{
    for (size_t i = 0; i < c->l.n; i++) {
        if (c->l.certs[i].type == type) {
            c->l.certs[i].body = body;
            c->l.certs[i].len = (uint16_t)len;
        }
    }
}

/* Verifies and expects failure with `want` as a substring of the error. */
static bool fails_with(const certs_t *c, const uint8_t *tls_hash, time_t now, const char *want,
                       char *err, size_t errlen)
{
    om_peer_identity_t peer;
    err[0] = 0;
    if (om_certs_verify_responder(&c->l, tls_hash, now, &peer, err, errlen) != -1) return false;
    return strstr(err, want) != NULL;
}

#define CHECK_FAILS(c, hash, now, want)                                                            \
    do {                                                                                           \
        char err_[256];                                                                            \
        CHECK_MSG(fails_with((c), (hash), (now), (want), err_, sizeof err_),                       \
                  "expected error containing \"%s\", got \"%s\"", (want), err_);                   \
    } while (0)

/* A real responder's CERTS cell body: Debian's tor 0.4.9.11 running as a relay on 127.0.0.1
 * (fingerprint E913BFBAFF31B9CDAE1D440C3CA4D9A908712D96, Ed25519 identity
 * 7qVRVAws5nN5zmjlFq/MWwrnSrf52r1KAAMgguht56M), captured after a VERSIONS exchange at unix time
 * 1795337611. It holds types 1 (the TLS certificate itself), 2, 4, 5, 7. */
static const char TOR049_CERTS_BODY[] =
    "0501023f3082023b308201a4a00302010202086d9c621816bc77c4300d06092a864886f70d01010b05003021"
    "311f301d06035504030c167777772e717068336c6570737176626132662e636f6d301e170d32363039313630"
    "30303030305a170d3237303431373030303030305a301b3119301706035504030c107777772e756c366a6835"
    "68742e6e657430820122300d06092a864886f70d01010105000382010f003082010a0282010100dd3b44c25f"
    "ad4098f92168309b799dffa69fe4734691d2fe7f8d40339157f17e3d725fc8c1c2cc984444f561a85ca642a3"
    "1e63c60441b8ee4ca28dc2b8cf68998de02b419d589977076ae7bde1bfa26136f4c1e1dc574a954547428f4a"
    "d9314f164569bfd72159c04cc041406bbee0c6135d4d749421050fdb789b28037211de047a5b63cb055bc680"
    "423658fdea914ec63bd85b01d927335540b15e28760a2e13ba614881be49ca0c0d02b94ef51b0bef1d7cae48"
    "ccb1a3f29de570bafe93b36bc5535f3bbcc46ba467c7ceeffc2814e872502d32f65b79eac9f7dd2877d2baf0"
    "482e2e99040c5cb8cffae7e55f09391df9728758d4d6bd0be3a60fce6fe58b0203010001300d06092a864886"
    "f70d01010b050003818100aab78c8aa39f99dacdf12b81ab641afe975486074bded97d0e007bedd9f56d00df"
    "31daaf62d710df5cd8c70de2334624e3c602fe886df09339aec5a510ed885c91279ea4b23164901c280db448"
    "7faca4fbe64c22a7b6fa971c5d3557d25ba61052bb45de97166b81076342781c3280c54a67226f8e01ae1bbe"
    "f4420d5549d1a90201c1308201bd30820126a0030201020208639dd4706b0ba393300d06092a864886f70d01"
    "010b05003021311f301d06035504030c167777772e717068336c6570737176626132662e636f6d301e170d32"
    "36303232363030303030305a170d3237303232363030303030305a3021311f301d06035504030c167777772e"
    "717068336c6570737176626132662e636f6d30819f300d06092a864886f70d010101050003818d0030818902"
    "818100d4ac0a6106553c98d89dbc85dd937cbab1d4be49e2e74209f67f9814b01361b90e51b40066889304e5"
    "4d702d5f51bc84f84709115b48bc46815038ddd31120fcadc7940474ce83c26ece047900ee9da7e153f26601"
    "66f7a0600f5285e9071773cb4a2bf27ba198675d3ec6355059b6dfe0b2748cd96332d443baa46f3c90a53302"
    "03010001300d06092a864886f70d01010b05000381810022b6f263809e2a7236ff5d372ea4d6c7df90d9b4d9"
    "beb005834e87b83a6b2819daa29d32d4a425b6445a8446d16b135fb1e7c64e6f378815f3cf7cb5996a6fe385"
    "d2b62cad0e276ae7d248ee3cebfda44253dcba7ef13ad0d9f0504110cdb70057e8b64fbdf62e8b75ad1a2a87"
    "55d405f9b661f70ceffe6342f3e8d689f6795104008c010400079ee10174bf1bc9f175b1a64cb215bd43b65c"
    "9dd6a1c243c9e7c6d640fcce9034a805720100200400eea551540c2ce67379ce68e516afcc5b0ae74ab7f9da"
    "bd4a00032082e86de7a3f5de96c1e680ed2792b358e383202265d46925b3cfe1b48a4f00aac777847ca7874e"
    "e8eff60176e555c7aa7f6adb6153159dc85ad201040c0ff67b87542fde0a050068010500079c4103b3ab3e2e"
    "7b8a19c960c404ad6a086014e8cc628ddacaed6daa9653360405f544006800e96ef7024a36d495cb04236a61"
    "37c2254af35a524145cb81d768fbfa229fb89014c465c11a207f8a45c1f2c27b16ac1430a7158b9bd8dc732a"
    "5180c478030700a5eea551540c2ce67379ce68e516afcc5b0ae74ab7f9dabd4a00032082e86de7a30007acf1"
    "809b10abb1272bcd3654249b92bee9b547b61beb47be33f429205c1adf4458eb902f0c83f8dae0100b3c33be"
    "a9c890261c83eccc8ba73a513b704aa28e6ee3dc8445c702b784bd9dcc5a79f3395dd2803df415d0a63d613c"
    "a6c96025f2d8c54e0fe8a8761f0f33b2b66f975817f9b648694be5044f8f719570500163f0c9202396";
#define TOR049_CERTS_NOW 1795337611
static const char TOR049_TLS_SHA256[] =
    "b3ab3e2e7b8a19c960c404ad6a086014e8cc628ddacaed6daa9653360405f544";
static const char TOR049_RSA_FP[] = "E913BFBAFF31B9CDAE1D440C3CA4D9A908712D96";
static const char TOR049_ED_ID[] =
    "eea551540c2ce67379ce68e516afcc5b0ae74ab7f9dabd4a00032082e86de7a3";

static void test_real_tor_certs(void)
{
    static uint8_t body[2000];
    uint8_t tls_hash[32], h[32], fp[20], ed[32];
    char err[256] = "";
    size_t n = om_test_unhex(TOR049_CERTS_BODY, body, sizeof body);
    om_test_unhex(TOR049_TLS_SHA256, tls_hash, sizeof tls_hash);
    om_test_unhex(TOR049_RSA_FP, fp, sizeof fp);
    om_test_unhex(TOR049_ED_ID, ed, sizeof ed);
    CHECK_EQ_INT(n, 1449);
    om_certs_list_t l;
    CHECK(om_certs_list_parse(&l, body, n) == 0);
    CHECK_EQ_INT(l.n, 5);
    /* The type 1 certificate is the one tor presented in TLS. */
    const om_certs_entry_t *e1 = om_certs_list_find(&l, 1);
    CHECK(e1 != NULL);
    CHECK(om_sha256(e1->body, e1->len, h) == 0);
    CHECK_MEM(h, tls_hash, 32);

    om_peer_identity_t peer;
    int rv = om_certs_verify_responder(&l, tls_hash, TOR049_CERTS_NOW, &peer, err, sizeof err);
    CHECK_MSG(rv == 0, "real tor CERTS rejected: %s", err);
    CHECK_MEM(peer.rsa_fp, fp, 20);
    CHECK_MEM(peer.ed_id, ed, 32);
    CHECK_EQ_INT(peer.rsa_bits, 1024);

    /* tor 0.4.9 writes CERT_KEY_TYPE 3 in its type 5 certificate, with no extension. */
    om_ed_cert_t c;
    const om_certs_entry_t *e5 = om_certs_list_find(&l, 5);
    CHECK(e5 && om_ed_cert_parse(&c, e5->body, e5->len) == 0);
    CHECK_EQ_INT(c.key_type, OM_CERT_KEYTYPE_SHA256_X509);
    CHECK(!c.has_signing_key);
    CHECK_MEM(c.certified_key, tls_hash, 32);
    CHECK_MEM(c.encoded, e5->body, e5->len);

    /* Its link certificate lives ~2 days; a week later the cell no longer verifies. */
    CHECK(om_certs_verify_responder(&l, tls_hash, TOR049_CERTS_NOW + 7 * DAY, &peer, err,
                                    sizeof err) == -1);
    CHECK_MSG(strstr(err, "type 5") && strstr(err, "expired"), "err = %s", err);
    /* Wrong TLS certificate. */
    h[0] ^= 1;
    CHECK(om_certs_verify_responder(&l, h, TOR049_CERTS_NOW, &peer, err, sizeof err) == -1);
    CHECK(strstr(err, "does not match the TLS link certificate") != NULL);
    /* Without a TLS link (a WebSocket, doc/bridge.md) the chain alone is checked: the same
     * identities, and expiry still applies. */
    memset(&peer, 0, sizeof peer);
    CHECK_MSG(om_certs_verify_responder_unbound(&l, TOR049_CERTS_NOW, &peer, err, sizeof err) == 0,
              "%s", err);
    CHECK_MEM(peer.rsa_fp, fp, 20);
    CHECK_MEM(peer.ed_id, ed, 32);
    CHECK(om_certs_verify_responder_unbound(&l, TOR049_CERTS_NOW + 7 * DAY, &peer, err,
                                            sizeof err) == -1);
    /* Every truncation of the body either fails to parse or fails to verify. */
    for (size_t len = 0; len < n; len++) {
        if (om_certs_list_parse(&l, body, len) != 0) continue;
        CHECK_MSG(
            om_certs_verify_responder(&l, tls_hash, TOR049_CERTS_NOW, &peer, err, sizeof err) == -1,
            "truncated to %zu verified", len);
        CHECK_MSG(om_certs_verify_responder_unbound(&l, TOR049_CERTS_NOW, &peer, err, sizeof err) ==
                      -1,
                  "truncated to %zu verified without TLS", len);
    }
}

static void test_generated_identity(void)
{
    const om_identity_t *id = identity();
    CHECK(id != NULL);
    CHECK_EQ_INT(om_rsa_bits(id->rsa_id), 1024);
    CHECK_EQ_INT(om_rsa_bits(id->tls_key), 2048);
    uint8_t fp[20];
    CHECK(om_rsa_fingerprint(id->rsa_id, fp) == 0);
    CHECK_MEM(fp, id->rsa_fp, 20);
    char err[128];
    time_t now = time(NULL);

    /* Type 4: identity -> signing, with the identity embedded, ~30 days. */
    om_ed_cert_t c;
    CHECK(om_ed_cert_parse(&c, id->ed_id_sign_cert, id->ed_id_sign_cert_len) == 0);
    CHECK_EQ_INT(c.cert_type, 4);
    CHECK(c.has_signing_key);
    CHECK_MEM(c.signing_key, id->ed_id.pub, 32);
    CHECK_MEM(c.certified_key, id->ed_sign.pub, 32);
    CHECK(om_ed_cert_verify(&c, id->ed_id.pub, now, err, sizeof err) == 0);
    CHECK((time_t)c.expiration_hours * 3600 >= now + 29 * DAY);
    CHECK((time_t)c.expiration_hours * 3600 <= now + 31 * DAY);

    /* Type 7 over the Ed25519 identity. */
    om_rsa_crosscert_t cc;
    CHECK(om_rsa_crosscert_parse(&cc, id->rsa_ed_crosscert, id->rsa_ed_crosscert_len) == 0);
    CHECK_MEM(cc.ed_key, id->ed_id.pub, 32);
    CHECK(om_rsa_crosscert_verify(&cc, id->rsa_id, now, err, sizeof err) == 0);

    /* Type 2 self-signed over the RSA identity; the TLS certificate is self-signed too. */
    om_rsa_t *k =
        om_x509_rsa_check(id->rsa_id_cert, id->rsa_id_cert_len, true, now, err, sizeof err);
    CHECK(k != NULL);
    CHECK(om_rsa_fingerprint(k, fp) == 0);
    CHECK_MEM(fp, id->rsa_fp, 20);
    om_rsa_free(k);
    k = om_x509_rsa_check(id->tls_cert, id->tls_cert_len, true, now, err, sizeof err);
    CHECK(k != NULL);
    CHECK_EQ_INT(om_rsa_bits(k), 2048);
    om_rsa_free(k);
}

static void test_certs_cell_verifies(void)
{
    const om_identity_t *id = identity();
    CHECK(id != NULL);
    om_var_cell_t *cell = om_identity_certs_cell(id);
    CHECK(cell != NULL);
    CHECK_EQ_INT(cell->command, OM_CELL_CERTS);
    om_certs_list_t l;
    CHECK(om_certs_list_parse(&l, cell->payload, cell->payload_len) == 0);
    CHECK_EQ_INT(l.n, 4);
    CHECK_EQ_INT(l.certs[0].type, 2);
    CHECK_EQ_INT(l.certs[1].type, 4);
    CHECK_EQ_INT(l.certs[2].type, 5);
    CHECK_EQ_INT(l.certs[3].type, 7);
    CHECK_EQ_INT(l.certs[0].len, id->rsa_id_cert_len);
    CHECK_MEM(l.certs[0].body, id->rsa_id_cert, id->rsa_id_cert_len);

    /* The type 5 certificate certifies the TLS certificate's SHA-256, key type 3. */
    om_ed_cert_t c;
    CHECK(om_ed_cert_parse(&c, l.certs[2].body, l.certs[2].len) == 0);
    CHECK_EQ_INT(c.cert_type, 5);
    CHECK_EQ_INT(c.key_type, OM_CERT_KEYTYPE_SHA256_X509);
    CHECK_MEM(c.certified_key, g_tls_hash, 32);

    om_peer_identity_t peer;
    char err[256] = "";
    time_t now = time(NULL);
    int rv = om_certs_verify_responder(&l, g_tls_hash, now, &peer, err, sizeof err);
    CHECK_MSG(rv == 0, "verify failed: %s", err);
    CHECK_MEM(peer.rsa_fp, id->rsa_fp, 20);
    CHECK_MEM(peer.ed_id, id->ed_id.pub, 32);
    CHECK_MEM(peer.ed_sign, id->ed_sign.pub, 32);
    CHECK_EQ_INT(peer.rsa_bits, 1024);
    CHECK((time_t)peer.sign_link_expires_hours * 3600 > now);
    CHECK((time_t)peer.ed_id_sign_expires_hours * 3600 > now);
    CHECK((time_t)peer.crosscert_expires_hours * 3600 > now);

    /* Extra unknown-type entries and extra types 1/3/6 (single) do not matter. */
    uint8_t junk[3] = {1, 2, 3};
    l.certs[l.n++] = (om_certs_entry_t){0x42, 3, junk};
    l.certs[l.n++] = (om_certs_entry_t){6, 3, junk};
    CHECK(om_certs_verify_responder(&l, g_tls_hash, now, &peer, err, sizeof err) == 0);
    om_var_cell_free(cell);
}

static void test_swapped_tls_hash(void)
{
    certs_t c;
    CHECK(identity() && build(&c, identity()) == 0);
    time_t now = time(NULL);
    uint8_t other[32];
    memcpy(other, g_tls_hash, 32);
    other[31] ^= 1;
    CHECK_FAILS(&c, other, now,
                "CERTS: type 5 certificate does not match the TLS link certificate");
    /* A type 5 that certifies some other certificate, correctly signed. */
    int n = make_link_cert(&identity()->ed_sign, other, 3, now + DAY, c.link);
    CHECK(n > 0);
    CHECK_FAILS(&c, g_tls_hash, now, "does not match the TLS link certificate");
}

static void test_missing_types(void)
{
    static const uint8_t types[] = {2, 4, 5, 7};
    time_t now = time(NULL);
    for (size_t t = 0; t < sizeof types; t++) {
        certs_t c;
        CHECK(identity() && build(&c, identity()) == 0);
        size_t j = 0;
        for (size_t i = 0; i < c.l.n; i++)
            if (c.l.certs[i].type != types[t]) c.l.certs[j++] = c.l.certs[i];
        c.l.n = j;
        char want[64];
        snprintf(want, sizeof want, "CERTS: missing type %u certificate", types[t]);
        CHECK_FAILS(&c, g_tls_hash, now, want);
    }
    certs_t empty;
    memset(&empty, 0, sizeof empty);
    CHECK_FAILS(&empty, g_tls_hash, now, "missing type 2");
}

static void test_duplicate_types(void)
{
    time_t now = time(NULL);
    for (uint8_t t = 1; t <= 7; t++) {
        certs_t c;
        CHECK(identity() && build(&c, identity()) == 0);
        /* A second copy of an existing entry, or two of an optional type. */
        om_certs_entry_t e = c.l.certs[0];
        for (size_t i = 0; i < c.l.n; i++)
            if (c.l.certs[i].type == t) e = c.l.certs[i];
        e.type = t;
        c.l.certs[c.l.n++] = e;
        if (t == 1 || t == 3 || t == 6) c.l.certs[c.l.n++] = e;
        char want[64];
        snprintf(want, sizeof want, "CERTS: duplicate type %u certificate", t);
        CHECK_FAILS(&c, g_tls_hash, now, want);
    }
}

static void test_crosscert_wrong_rsa_key(void)
{
    const om_identity_t *id = identity();
    certs_t c;
    uint8_t cc[512];
    CHECK(id && build(&c, id) == 0);
    time_t now = time(NULL);
    om_rsa_t *other = om_rsa_generate(1024);
    CHECK(other != NULL);
    int n = om_rsa_crosscert_create(other, id->ed_id.pub, now + DAY, cc, sizeof cc);
    om_rsa_free(other);
    CHECK(n > 0);
    set_entry(&c, 7, cc, (size_t)n);
    CHECK_FAILS(&c, g_tls_hash, now, "CERTS: type 7 RSA->Ed25519 cross-certificate invalid");
    CHECK_FAILS(&c, g_tls_hash, now, "not valid under the RSA identity key");

    /* Correctly signed, but for another Ed25519 identity than the one type 4 is signed by. */
    om_ed25519_keypair_t ed;
    CHECK(om_ed25519_keygen(&ed) == 0);
    n = om_rsa_crosscert_create(id->rsa_id, ed.pub, now + DAY, cc, sizeof cc);
    CHECK(n > 0);
    set_entry(&c, 7, cc, (size_t)n);
    CHECK_FAILS(&c, g_tls_hash, now, "is not the one the type 7 cross-certificate certifies");

    /* Expired cross-certificate. */
    n = om_rsa_crosscert_create(id->rsa_id, id->ed_id.pub, now - 2 * 3600, cc, sizeof cc);
    CHECK(n > 0);
    set_entry(&c, 7, cc, (size_t)n);
    CHECK_FAILS(&c, g_tls_hash, now, "cross-certificate expired");

    /* Malformed cross-certificate. */
    set_entry(&c, 7, cc, 40);
    CHECK_FAILS(&c, g_tls_hash, now, "type 7 RSA->Ed25519 cross-certificate malformed");
}

static void test_expired_type4(void)
{
    const om_identity_t *id = identity();
    certs_t c;
    uint8_t t4[256];
    CHECK(id && build(&c, id) == 0);
    time_t now = time(NULL);
    int n =
        om_ed_cert_create(4, 1, id->ed_sign.pub, &id->ed_id, true, now - 3 * 3600, t4, sizeof t4);
    CHECK(n > 0);
    set_entry(&c, 4, t4, (size_t)n);
    CHECK_FAILS(&c, g_tls_hash, now, "CERTS: type 4 Ed25519 identity->signing certificate invalid");
    CHECK_FAILS(&c, g_tls_hash, now, "expired");
    /* The same checks pass when "now" is before the expiry. */
    om_peer_identity_t peer;
    char err[256];
    CHECK(om_certs_verify_responder(&c.l, g_tls_hash, now - 4 * 3600, &peer, err, sizeof err) == 0);

    /* Type 4 signed by the wrong key (embedding the right identity) fails on its signature. */
    om_ed25519_keypair_t evil;
    CHECK(om_ed25519_keygen(&evil) == 0);
    n = om_ed_cert_create(4, 1, id->ed_sign.pub, &evil, true, now + DAY, t4, sizeof t4);
    CHECK(n == 140);
    memcpy(t4 + 44, id->ed_id.pub, 32); /* claim the real identity in the extension */
    set_entry(&c, 4, t4, (size_t)n);
    CHECK_FAILS(&c, g_tls_hash, now,
                "type 4 Ed25519 identity->signing certificate invalid: "
                "certificate signature is invalid");

    /* Type 4 without the signed-with-key extension: tor requires it. */
    n = om_ed_cert_create(4, 1, id->ed_sign.pub, &id->ed_id, false, now + DAY, t4, sizeof t4);
    set_entry(&c, 4, t4, (size_t)n);
    CHECK_FAILS(&c, g_tls_hash, now, "lacks the signed-with-key extension");

    /* A type-6 certificate in the type-4 slot. */
    n = om_ed_cert_create(6, 1, id->ed_sign.pub, &id->ed_id, true, now + DAY, t4, sizeof t4);
    set_entry(&c, 4, t4, (size_t)n);
    CHECK_FAILS(&c, g_tls_hash, now, "type 4 certificate has CERT_TYPE 6");

    /* Garbage. */
    set_entry(&c, 4, t4, 50);
    CHECK_FAILS(&c, g_tls_hash, now, "type 4 Ed25519 identity->signing certificate malformed");
}

static void test_type5_wrong_signer(void)
{
    const om_identity_t *id = identity();
    certs_t c;
    CHECK(id && build(&c, id) == 0);
    time_t now = time(NULL);
    /* Signed by the identity key instead of the signing key. */
    int n = make_link_cert(&id->ed_id, g_tls_hash, 3, now + DAY, c.link);
    CHECK(n > 0);
    CHECK_FAILS(&c, g_tls_hash, now,
                "CERTS: type 5 signing->link certificate invalid: "
                "certificate signature is invalid");
    /* Signed by a stranger that names itself in the extension. */
    om_ed25519_keypair_t evil;
    CHECK(om_ed25519_keygen(&evil) == 0);
    n = om_ed_cert_create(5, 3, g_tls_hash, &evil, true, now + DAY, c.link, sizeof c.link);
    set_entry(&c, 5, c.link, (size_t)n);
    CHECK_FAILS(&c, g_tls_hash, now, "type 5 signing->link certificate invalid");
    /* Expired type 5. */
    n = make_link_cert(&id->ed_sign, g_tls_hash, 3, now - 2 * 3600, c.link);
    set_entry(&c, 5, c.link, (size_t)n);
    CHECK_FAILS(&c, g_tls_hash, now,
                "type 5 signing->link certificate invalid: certificate expired");
    /* Certified-key type 2 (SHA256 of an RSA key) is not a TLS certificate digest. */
    n = make_link_cert(&id->ed_sign, g_tls_hash, 2, now + DAY, c.link);
    set_entry(&c, 5, c.link, (size_t)n);
    CHECK_FAILS(&c, g_tls_hash, now, "certified-key type 2");
    /* Key type 01, as tor before 0.4.5.1-alpha wrote it, is accepted (cert-spec A.4). */
    n = make_link_cert(&id->ed_sign, g_tls_hash, 1, now + DAY, c.link);
    set_entry(&c, 5, c.link, (size_t)n);
    om_peer_identity_t peer;
    char err[256];
    CHECK_MSG(om_certs_verify_responder(&c.l, g_tls_hash, now, &peer, err, sizeof err) == 0,
              "err = %s", err);
}

static void test_rsa2048_identity(void)
{
    const om_identity_t *id = identity();
    certs_t c;
    CHECK(id && build(&c, id) == 0);
    om_rsa_t *big = om_rsa_generate(2048);
    CHECK(big != NULL);
    size_t len = 0;
    uint8_t *der = om_x509_create_self_signed(big, "www.bigkey.net", 365 * DAY, &len);
    om_rsa_free(big);
    CHECK(der != NULL);
    set_entry(&c, 2, der, len);
    char err[256];
    bool ok = fails_with(&c, g_tls_hash, time(NULL),
                         "type 2 identity key is RSA-2048, not RSA-1024", err, sizeof err);
    free(der);
    CHECK_MSG(ok, "err = %s", err);
}

/* An authenticating initiator's type 6 certificate must certify an Ed25519 key (the one that
 * signs AUTHENTICATE): the same chain with key type 3 (a TLS certificate digest) is refused. */
static void test_type6_key_type(void)
{
    const om_identity_t *id = identity();
    certs_t c;
    CHECK(id && build(&c, id) == 0);
    time_t now = time(NULL);
    om_peer_identity_t peer;
    char err[256];
    for (uint8_t kt = OM_CERT_KEYTYPE_ED25519; kt <= OM_CERT_KEYTYPE_SHA256_X509; kt += 2) {
        int n = om_ed_cert_create(OM_CERTTYPE_ED_SIGN_AUTH, kt, id->ed_auth.pub, &id->ed_sign,
                                  false, now + DAY, c.link, sizeof c.link);
        CHECK(n > 0);
        c.l.certs[2] = (om_certs_entry_t){OM_CERTTYPE_ED_SIGN_AUTH, (uint16_t)n, c.link};
        err[0] = 0;
        int r = om_certs_verify_initiator(&c.l, now, &peer, err, sizeof err);
        if (kt == OM_CERT_KEYTYPE_ED25519) {
            CHECK_MSG(r == 0 && !memcmp(peer.ed_auth, id->ed_auth.pub, 32), "err = %s", err);
        } else {
            CHECK_EQ_INT(r, -1);
            CHECK_MSG(strstr(err, "certified-key type 3, not Ed25519"), "err = %s", err);
        }
    }
}

/* An X.509 identity certificate for an RSA key under 1024 bits is refused by the X.509 check
 * itself (tor refuses such keys), before the RSA-1024 rule. */
static void test_short_rsa_key(void)
{
    const om_identity_t *id = identity();
    certs_t c;
    CHECK(id && build(&c, id) == 0);
    om_rsa_t *small = om_rsa_generate(768);
    CHECK(small != NULL);
    size_t len = 0;
    uint8_t *der = om_x509_create_self_signed(small, "www.smallkey.net", 365 * DAY, &len);
    om_rsa_free(small);
    CHECK(der != NULL);
    char why[128];
    om_rsa_t *k = om_x509_rsa_check(der, len, true, time(NULL), why, sizeof why);
    set_entry(&c, 2, der, len);
    char err[256];
    bool ok = fails_with(&c, g_tls_hash, time(NULL), "shorter than 1024 bits", err, sizeof err);
    free(der);
    om_rsa_free(k);
    CHECK(k == NULL);
    CHECK_MSG(ok, "err = %s", err);
}

static void test_bad_type2(void)
{
    const om_identity_t *id = identity();
    certs_t c;
    CHECK(id && build(&c, id) == 0);
    time_t now = time(NULL);
    /* Identity certificate issued by another key. */
    om_rsa_t *other = om_rsa_generate(1024);
    CHECK(other != NULL);
    size_t len = 0;
    uint8_t *der = om_x509_create(id->rsa_id, "www.a.net", other, "www.b.net", DAY, &len);
    om_rsa_free(other);
    CHECK(der != NULL);
    set_entry(&c, 2, der, len);
    char err[256];
    bool ok =
        fails_with(&c, g_tls_hash, now, "type 2 RSA identity certificate invalid", err, sizeof err);
    ok = ok && strstr(err, "self-signed") != NULL;
    free(der);
    CHECK_MSG(ok, "err = %s", err);
    /* Truncated identity certificate. */
    CHECK(build(&c, id) == 0);
    set_entry(&c, 2, id->rsa_id_cert, id->rsa_id_cert_len - 1);
    CHECK_FAILS(&c, g_tls_hash, now, "type 2 RSA identity certificate invalid");
    /* Another relay's (valid) identity certificate: the cross-certificate does not verify. */
    om_identity_t other_id;
    CHECK(om_identity_generate(&other_id) == 0);
    CHECK(build(&c, id) == 0);
    set_entry(&c, 2, other_id.rsa_id_cert, other_id.rsa_id_cert_len);
    ok = fails_with(&c, g_tls_hash, now, "type 7 RSA->Ed25519 cross-certificate invalid", err,
                    sizeof err);
    om_identity_free(&other_id);
    CHECK_MSG(ok, "err = %s", err);
    /* Far in the future every certificate has expired; the X.509 one is checked first. */
    CHECK(build(&c, id) == 0);
    CHECK_FAILS(&c, g_tls_hash, now + 400 * DAY,
                "type 2 RSA identity certificate invalid: X.509 "
                "certificate has expired");
}

static void test_identity_free(void)
{
    om_identity_t id;
    CHECK(om_identity_generate(&id) == 0);
    om_identity_free(&id);
    CHECK(id.rsa_id == NULL && id.tls_cert == NULL);
    CHECK(om_mem_is_zero(id.ed_id.seed, 32) && om_mem_is_zero(id.ed_sign.seed, 32));
    om_identity_free(NULL);
}

static void cleanup(void)
{
    if (g_have_id) om_identity_free(&g_id);
    g_have_id = false;
}

static const om_test_t tests[] = {
    OM_TEST(test_real_tor_certs),
    OM_TEST(test_generated_identity),
    OM_TEST(test_certs_cell_verifies),
    OM_TEST(test_swapped_tls_hash),
    OM_TEST(test_missing_types),
    OM_TEST(test_duplicate_types),
    OM_TEST(test_crosscert_wrong_rsa_key),
    OM_TEST(test_expired_type4),
    OM_TEST(test_type5_wrong_signer),
    OM_TEST(test_rsa2048_identity),
    OM_TEST(test_type6_key_type),
    OM_TEST(test_short_rsa_key),
    OM_TEST(test_bad_type2),
    OM_TEST(test_identity_free),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    int rv = om_test_main("certs_verify", tests, argc, argv);
    cleanup();
    return rv;
}
