/* test_link_auth.c — unit tests for link_auth.c, the initiator CERTS check in certs_verify.c and
 * the AUTHENTICATE exchange in channel.c (tor-spec 4.2, 4.4.2): the body's codec and field
 * checks on their own; then our authenticating initiator and our responder over real TLS on
 * 127.0.0.1 (the responder learns which relay the link is from, handshake logs are dropped once
 * open), a client link staying unauthenticated, and tampered AUTHENTICATE cells and bad
 * initiator CERTS each refused with their reason while a good link alongside stays open. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "core/channel_int.h"
#include "core/channel.h"
#include "core/crypto.h"
#include "core/link_auth.h"
#include "core/log.h"
#include "test.h"
#include "test_loop.h"

static struct event_base *base;
static om_identity_t srv_id, cli_id; /* the responder's and the authenticating initiator's */
static int ids_ok;
static om_tls_server_ctx_t *tls_ctx;
static struct evconnlistener *listener;
static uint16_t listen_port;

static void spin(int ms)
{
    om_test_spin(base, ms);
}

#define WAIT_FOR(cond, ms) OM_TEST_WAIT_FOR(base, cond, ms)

/* ---------------------------------------------------------------- the body on its own */

/* A signed body with arbitrary field values, encoded into payload; returns its length. */
static int sample_body(om_auth3_t *a, const om_ed25519_keypair_t *k, uint8_t *payload, size_t sz)
{
    memset(a, 0, sizeof *a);
    memcpy(a->type, OM_AUTH3_TYPE, 8);
    uint8_t *fields[] = {a->cid,  a->sid,  a->cid_ed, a->sid_ed,
                         a->slog, a->clog, a->scert,  a->tlssecrets};
    for (size_t i = 0; i < 8; i++)
        memset(fields[i], (int)(0x11 * (i + 1)), 32);
    if (om_link_auth_sign(a, k) != 0) return -1;
    return om_link_auth_encode(a, payload, sz);
}

static void test_body_roundtrip(void)
{
    om_ed25519_keypair_t k;
    om_auth3_t a, b;
    uint8_t p[512];
    char err[200] = "";
    CHECK(om_ed25519_keygen(&k) == 0);
    int n = sample_body(&a, &k, p, sizeof p);
    CHECK_EQ_INT(n, 4 + OM_AUTH3_BODY_LEN);
    CHECK_EQ_INT(OM_AUTH3_BODY_LEN, 352);
    CHECK(p[0] == 0 && p[1] == 3 && p[2] == 0x01 && p[3] == 0x60); /* AuthType 3, AuthLen 352 */
    CHECK_MEM(p + 4, "AUTH0003", 8);
    CHECK_MSG(om_link_auth_parse(&b, p, (size_t)n, err, sizeof err) == 0, "%s", err);
    CHECK(b.signed_part == p + 4);
    CHECK_EQ_INT(b.signed_len, OM_AUTH3_SIGNED_LEN);
    CHECK_MEM(b.slog, a.slog, 32);
    CHECK_MEM(b.tlssecrets, a.tlssecrets, 32);
    CHECK_MEM(b.rand, a.rand, 24);
    CHECK_MEM(b.sig, a.sig, 64);
    CHECK_MSG(om_link_auth_verify(&b, &a, k.pub, err, sizeof err) == 0, "%s", err);
    /* Bytes after the Authentication field are ignored (tor-spec 4.4). */
    memset(p + n, 0xee, 20);
    CHECK(om_link_auth_parse(&b, p, (size_t)n + 20, err, sizeof err) == 0);
    CHECK(om_link_auth_verify(&b, &a, k.pub, err, sizeof err) == 0);
}

static void test_body_extra_signed_bytes(void)
{
    /* "The server MUST ignore any extra bytes in the signed data after the RAND field": 16 extra
     * bytes between RAND and SIG, covered by SIG, are accepted. */
    om_ed25519_keypair_t k;
    om_auth3_t a, b;
    uint8_t p[512];
    char err[200] = "";
    CHECK(om_ed25519_keygen(&k) == 0);
    int n = sample_body(&a, &k, p, sizeof p);
    CHECK(n > 0);
    uint8_t body[OM_AUTH3_SIGNED_LEN + 16];
    memcpy(body, p + 4, OM_AUTH3_SIGNED_LEN);
    memset(body + OM_AUTH3_SIGNED_LEN, 0x5a, 16);
    p[2] = 0x01, p[3] = 0x70; /* AuthLen 368 */
    memcpy(p + 4, body, sizeof body);
    CHECK(om_ed25519_sign(&k, body, sizeof body, p + 4 + sizeof body) == 0);
    CHECK_MSG(om_link_auth_parse(&b, p, 4 + sizeof body + 64, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(b.signed_len, sizeof body);
    CHECK_MSG(om_link_auth_verify(&b, &a, k.pub, err, sizeof err) == 0, "%s", err);
}

static void test_body_parse_errors(void)
{
    om_ed25519_keypair_t k;
    om_auth3_t a, b;
    uint8_t p[512];
    char err[200];
    CHECK(om_ed25519_keygen(&k) == 0);
    int n = sample_body(&a, &k, p, sizeof p);
    CHECK(n > 0);
    CHECK(om_link_auth_parse(&b, p, 3, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "AUTHENTICATE: cell too short"), "%s", err);
    CHECK(om_link_auth_parse(&b, p, (size_t)n - 1, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "AUTHENTICATE: authenticator truncated"), "%s", err);
    CHECK(om_link_auth_parse(&b, p, 4, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "truncated"), "%s", err);
    p[1] = 1;
    CHECK(om_link_auth_parse(&b, p, (size_t)n, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "AuthType 1 is not Ed25519-SHA256-RFC5705"), "%s", err);
    p[1] = 3;
    p[3] = 0x5f; /* AuthLen 351: one byte short of TYPE..RAND + SIG */
    CHECK(om_link_auth_parse(&b, p, (size_t)n, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "authenticator too short (351 bytes, need 352)"), "%s", err);
    p[2] = 0, p[3] = 0;
    CHECK(om_link_auth_parse(&b, p, (size_t)n, err, sizeof err) == -1);
}

static void test_body_each_field_checked(void)
{
    om_ed25519_keypair_t k, other;
    om_auth3_t a, b, want;
    uint8_t p[512];
    char err[200];
    CHECK(om_ed25519_keygen(&k) == 0 && om_ed25519_keygen(&other) == 0);
    int n = sample_body(&a, &k, p, sizeof p);
    CHECK(n > 0);
    CHECK(om_link_auth_parse(&b, p, (size_t)n, err, sizeof err) == 0);
    static const struct {
        size_t off;
        const char *name;
    } f[] = {{offsetof(om_auth3_t, type), "TYPE"},
             {offsetof(om_auth3_t, cid), "CID "},
             {offsetof(om_auth3_t, sid), "SID "},
             {offsetof(om_auth3_t, cid_ed), "CID_ED"},
             {offsetof(om_auth3_t, sid_ed), "SID_ED"},
             {offsetof(om_auth3_t, slog), "SLOG"},
             {offsetof(om_auth3_t, clog), "CLOG"},
             {offsetof(om_auth3_t, scert), "SCERT"},
             {offsetof(om_auth3_t, tlssecrets), "TLSSECRETS"}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        want = a;
        ((uint8_t *)&want)[f[i].off + 3] ^= 0x40;
        err[0] = 0;
        CHECK(om_link_auth_verify(&b, &want, k.pub, err, sizeof err) == -1);
        CHECK_MSG(strncmp(err, "AUTHENTICATE: ", 14) == 0 && strstr(err, f[i].name), "field %s: %s",
                  f[i].name, err);
    }
    /* RAND is not compared, only signed. */
    want = a;
    want.rand[0] ^= 1;
    CHECK(om_link_auth_verify(&b, &want, k.pub, err, sizeof err) == 0);
    CHECK(om_link_auth_verify(&b, &a, other.pub, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "Ed25519 signature is not valid"), "%s", err);
    b.sig[10] ^= 1;
    CHECK(om_link_auth_verify(&b, &a, k.pub, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "Ed25519 signature is not valid"), "%s", err);
}

/* ---------------------------------------------------------------- the initiator's CERTS */

static om_certs_list_t parsed_certs(om_var_cell_t *vc)
{
    om_certs_list_t l;
    memset(&l, 0, sizeof l);
    if (vc) om_certs_list_parse(&l, vc->payload, vc->payload_len);
    return l;
}

static void test_initiator_certs_verify(void)
{
    CHECK(ids_ok);
    om_var_cell_t *vc = om_identity_initiator_certs_cell(&cli_id);
    CHECK(vc);
    om_certs_list_t l = parsed_certs(vc);
    om_peer_identity_t p;
    char err[200] = "";
    int r = om_certs_verify_initiator(&l, time(NULL), &p, err, sizeof err);
    om_certs_list_t l2 = l;
    CHECK_MSG(r == 0, "%s", err);
    CHECK_EQ_INT(l.n, 4);
    CHECK(om_certs_list_find(&l, OM_CERTTYPE_ED_SIGN_AUTH) != NULL);
    CHECK(om_certs_list_find(&l, OM_CERTTYPE_ED_SIGN_LINK) == NULL);
    CHECK_MEM(p.rsa_fp, cli_id.rsa_fp, 20);
    CHECK_MEM(p.ed_id, cli_id.ed_id.pub, 32);
    CHECK_MEM(p.ed_auth, cli_id.ed_auth.pub, 32);
    uint8_t d[32];
    CHECK(om_rsa_digest256(cli_id.rsa_id, d) == 0);
    CHECK_MEM(p.rsa_id_sha256, d, 32);
    /* The type 6 certificate lives 2 days, like tor's. */
    CHECK(p.sign_link_expires_hours * 3600LL >= (long long)time(NULL) + 47 * 3600);
    CHECK(p.sign_link_expires_hours * 3600LL <= (long long)time(NULL) + 49 * 3600);
    /* ...and expires. */
    CHECK(om_certs_verify_initiator(&l, time(NULL) + 3 * 86400, &p, err, sizeof err) == -1);
    CHECK_MSG(strstr(err, "CERTS: type 6"), "%s", err);
    /* A responder's CERTS (type 5, no type 6) is not an initiator's. */
    om_var_cell_t *rc = om_identity_certs_cell(&cli_id);
    om_certs_list_t lr = parsed_certs(rc);
    r = om_certs_verify_initiator(&lr, time(NULL), &p, err, sizeof err);
    om_var_cell_free(rc);
    CHECK(r == -1);
    CHECK_MSG(strstr(err, "CERTS: missing type 6 certificate"), "%s", err);
    /* Duplicate type 6. */
    l2.certs[l2.n++] = *om_certs_list_find(&l, OM_CERTTYPE_ED_SIGN_AUTH);
    r = om_certs_verify_initiator(&l2, time(NULL), &p, err, sizeof err);
    CHECK(r == -1);
    CHECK_MSG(strstr(err, "CERTS: duplicate type 6 certificate"), "%s", err);
    /* The type 6 certificate under a different signing key. */
    uint8_t bad6[OM_ED_CERT_MAX_LEN];
    om_ed25519_keypair_t stranger;
    CHECK(om_ed25519_keygen(&stranger) == 0);
    int n6 =
        om_ed_cert_create(OM_CERTTYPE_ED_SIGN_AUTH, OM_CERT_KEYTYPE_ED25519, cli_id.ed_auth.pub,
                          &stranger, false, time(NULL) + 86400, bad6, sizeof bad6);
    CHECK(n6 > 0);
    l2 = l;
    for (size_t i = 0; i < l2.n; i++)
        if (l2.certs[i].type == OM_CERTTYPE_ED_SIGN_AUTH) {
            l2.certs[i].body = bad6;
            l2.certs[i].len = (uint16_t)n6;
        }
    r = om_certs_verify_initiator(&l2, time(NULL), &p, err, sizeof err);
    CHECK(r == -1);
    CHECK_MSG(strstr(err, "CERTS: type 6 signing->auth certificate invalid"), "%s", err);
    /* A type 6 slot holding a certificate of another CERT_TYPE. */
    n6 = om_ed_cert_create(OM_CERTTYPE_ED_SIGN_LINK, OM_CERT_KEYTYPE_ED25519, cli_id.ed_auth.pub,
                           &cli_id.ed_sign, false, time(NULL) + 86400, bad6, sizeof bad6);
    CHECK(n6 > 0);
    for (size_t i = 0; i < l2.n; i++)
        if (l2.certs[i].type == OM_CERTTYPE_ED_SIGN_AUTH) l2.certs[i].len = (uint16_t)n6;
    r = om_certs_verify_initiator(&l2, time(NULL), &p, err, sizeof err);
    om_var_cell_free(vc);
    CHECK(r == -1);
    CHECK_MSG(strstr(err, "CERTS: type 6 certificate has CERT_TYPE 5"), "%s", err);
}

/* ---------------------------------------------------------------- links over TLS */

typedef struct {
    om_channel_t *chan; /* NULL once closed */
    int opened, closed;
    char reason[300];
} end_t;

static void end_open(om_channel_t *c, void *arg)
{
    (void)c;
    ((end_t *)arg)->opened = 1;
}

static void end_close(om_channel_t *c, const char *reason, void *arg)
{
    end_t *e = arg;
    (void)c;
    e->closed = 1;
    e->chan = NULL;
    snprintf(e->reason, sizeof e->reason, "%s", reason);
}

/* Slots are never reused, so a callback of a link a failed test left behind lands in valid
 * memory. Link i's responder end is srv_end[i] (links are started one at a time). */
#define MAX_LINKS 32
static end_t srv_end[MAX_LINKS], cli_end[MAX_LINKS];
static int n_srv, n_cli;

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int sl,
                      void *arg)
{
    (void)lis, (void)sa, (void)sl, (void)arg;
    if (n_srv >= MAX_LINKS) {
        evutil_closesocket(fd);
        return;
    }
    end_t *e = &srv_end[n_srv++];
    om_transport_t *t = om_tls_accept(base, tls_ctx, fd, "127.0.0.1:test");
    om_chan_callbacks_t cb = {.on_open = end_open, .on_close = end_close, .arg = e};
    e->chan = t ? om_channel_new_responder(base, t, &srv_id, &cb) : NULL;
    if (!e->chan) {
        if (t)
            t->ops->free(t);
        else
            evutil_closesocket(fd);
        e->closed = 1;
        snprintf(e->reason, sizeof e->reason, "test: could not set up the responder");
    }
}

typedef struct {
    end_t *cli, *srv;
} link_t;

/* Start a link (authenticating as `me` unless NULL, with hooks) and run the loop until both
 * ends have opened or one has closed and the other noticed. */
static link_t start_link(const om_identity_t *me, const om_link_auth_test_hooks_t *hooks)
{
    link_t l = {NULL, NULL};
    if (n_cli >= MAX_LINKS || n_srv != n_cli) return l;
    end_t *c = &cli_end[n_cli++];
    om_chan_callbacks_t cb = {.on_open = end_open, .on_close = end_close, .arg = c};
    c->chan = om_channel_connect_auth(base, "127.0.0.1", listen_port, srv_id.rsa_fp,
                                      srv_id.ed_id.pub, me, &cb);
    if (!c->chan) return l;
    c->chan->auth_test_hooks = hooks; /* before the TLS handshake has even started */
    l.cli = c;
    WAIT_FOR(n_srv == n_cli, 5000);
    if (n_srv != n_cli) return l;
    l.srv = &srv_end[n_srv - 1];
    WAIT_FOR((c->opened || c->closed) && (l.srv->opened || l.srv->closed), 15000);
    /* A responder that refuses the initiator closes after the initiator opened. */
    WAIT_FOR(!(c->opened && l.srv->closed && !c->closed), 5000);
    return l;
}

static void end_link(link_t l)
{
    if (l.cli && l.cli->chan) {
        om_channel_free(l.cli->chan);
        l.cli->chan = NULL;
    }
    if (l.srv) WAIT_FOR(l.srv->closed, 5000);
    spin(5);
}

static bool both_open(link_t l)
{
    return l.cli && l.srv && l.cli->opened && !l.cli->closed && l.srv->opened && !l.srv->closed &&
           l.cli->chan->state == OM_CHAN_OPEN && l.srv->chan->state == OM_CHAN_OPEN;
}

static void test_authenticated_link(void)
{
    CHECK(ids_ok);
    link_t l = start_link(&cli_id, NULL);
    CHECK_MSG(both_open(l), "link did not open: initiator '%.150s', responder '%.150s'",
              l.cli ? l.cli->reason : "-", l.srv ? l.srv->reason : "-");
    om_channel_t *s = l.srv->chan, *c = l.cli->chan;
    CHECK(s->peer_authenticated && s->peer_verified);
    CHECK_MEM(s->peer.rsa_fp, cli_id.rsa_fp, 20);
    CHECK_MEM(s->peer.ed_id, cli_id.ed_id.pub, 32);
    CHECK(c->peer_verified && !c->peer_authenticated);
    CHECK_MEM(c->peer.rsa_fp, srv_id.rsa_fp, 20);
    CHECK_EQ_INT(c->link_proto, 5);
    /* The handshake logs are gone once the link is open. */
    CHECK(!s->hs_sent && !s->hs_received && !c->hs_sent && !c->hs_received);
    /* Cells flow both ways on the authenticated link. */
    om_cell_t cell = {.circ_id = om_channel_alloc_circ_id(c), .command = OM_CELL_PADDING};
    memset(cell.payload, 0, sizeof cell.payload);
    CHECK(om_channel_send_cell(c, &cell) == 0 && om_channel_send_cell(s, &cell) == 0);
    spin(20);
    CHECK(both_open(l));
    end_link(l);
}

static void test_client_link_unauthenticated(void)
{
    CHECK(ids_ok);
    link_t l = start_link(NULL, NULL);
    CHECK_MSG(both_open(l), "link did not open: '%.150s' / '%.150s'", l.cli ? l.cli->reason : "-",
              l.srv ? l.srv->reason : "-");
    CHECK(!l.srv->chan->peer_authenticated && !l.srv->chan->peer_verified);
    CHECK(om_mem_is_zero(l.srv->chan->peer.rsa_fp, 20));
    CHECK(!l.srv->chan->hs_sent && !l.srv->chan->hs_received);
    end_link(l);
}

/* ---- tampering: each refused with its reason; a good link alongside stays up */

typedef enum {
    T_BAD_SIG,
    T_SLOG,
    T_CLOG,
    T_TLSSECRETS,
    T_SCERT,
    T_CID_ED,
    T_TYPE_FIELD,
    T_AUTHTYPE,
    T_TRUNCATED,
    T_SHORT,
} tamper_t;

static void tamper_before_sign(om_auth3_t *a, void *arg)
{
    switch (*(tamper_t *)arg) {
    case T_SLOG:
        a->slog[0] ^= 1;
        break;
    case T_CLOG:
        a->clog[31] ^= 0x80;
        break;
    case T_TLSSECRETS:
        a->tlssecrets[5] ^= 1;
        break;
    case T_SCERT:
        a->scert[9] ^= 1;
        break;
    case T_CID_ED:
        a->cid_ed[0] ^= 1;
        break;
    case T_TYPE_FIELD:
        memcpy(a->type, "AUTH0001", 8);
        break;
    default:
        break;
    }
}

static void tamper_after_encode(uint8_t *p, size_t *len, size_t cap, void *arg)
{
    (void)cap;
    switch (*(tamper_t *)arg) {
    case T_BAD_SIG:
        p[4 + OM_AUTH3_SIGNED_LEN + 7] ^= 0x10;
        break;
    case T_AUTHTYPE:
        p[1] = 1;
        break;
    case T_TRUNCATED:
        *len = 200;
        break;
    case T_SHORT:
        p[2] = 0, p[3] = 100; /* AuthLen 100 */
        *len = 104;
        break;
    default:
        break;
    }
}

static const char *tamper_case(tamper_t kind, const char *want)
{
    static char why[700];
    static tamper_t arg;
    arg = kind;
    static const om_link_auth_test_hooks_t hooks = {tamper_before_sign, tamper_after_encode, &arg};
    link_t good = start_link(&cli_id, NULL);
    if (!both_open(good)) return "the good link did not open";
    link_t bad = start_link(&cli_id, &hooks);
    const char *r = "";
    if (!bad.srv)
        r = "the tampered link never reached the responder";
    else if (!bad.srv->closed)
        r = "the responder kept the tampered link open";
    else if (bad.srv->opened)
        r = "the responder opened the tampered link";
    else if (!strstr(bad.srv->reason, want)) {
        snprintf(why, sizeof why, "responder's reason '%s', expected '%s'", bad.srv->reason, want);
        r = why;
    } else if (bad.cli && !bad.cli->closed)
        r = "the initiator did not notice its link closing";
    else if (!both_open(good) || !good.srv->chan->peer_authenticated)
        r = "the good link alongside did not stay open";
    end_link(bad);
    end_link(good);
    return r;
}

#define TAMPER_TEST(fn, kind, want)                                                                \
    static void fn(void)                                                                           \
    {                                                                                              \
        CHECK(ids_ok);                                                                             \
        const char *r_ = tamper_case(kind, want);                                                  \
        CHECK_MSG(!r_[0], "%s", r_);                                                               \
    }

TAMPER_TEST(test_tampered_bad_signature, T_BAD_SIG, "AUTHENTICATE: Ed25519 signature is not valid")
TAMPER_TEST(test_tampered_slog, T_SLOG, "AUTHENTICATE: SLOG does not match")
TAMPER_TEST(test_tampered_clog, T_CLOG, "AUTHENTICATE: CLOG does not match")
TAMPER_TEST(test_tampered_tlssecrets, T_TLSSECRETS, "AUTHENTICATE: TLSSECRETS does not match")
TAMPER_TEST(test_tampered_scert, T_SCERT, "AUTHENTICATE: SCERT does not match")
TAMPER_TEST(test_tampered_cid_ed, T_CID_ED, "AUTHENTICATE: CID_ED does not match")
TAMPER_TEST(test_tampered_type_field, T_TYPE_FIELD, "AUTHENTICATE: TYPE is not \"AUTH0003\"")
TAMPER_TEST(test_tampered_auth_type, T_AUTHTYPE,
            "AUTHENTICATE: AuthType 1 is not Ed25519-SHA256-RFC5705")
TAMPER_TEST(test_tampered_truncated, T_TRUNCATED, "AUTHENTICATE: authenticator truncated")
TAMPER_TEST(test_tampered_too_short, T_SHORT, "AUTHENTICATE: authenticator too short")

/* An initiator whose CERTS is bad is refused at CERTS. The identity is a shallow copy of cli_id
 * (never freed) with one certificate spoiled. */
static const char *bad_certs_case(const om_identity_t *bad_id, const char *want)
{
    static char why[700];
    link_t good = start_link(&cli_id, NULL);
    if (!both_open(good)) return "the good link did not open";
    link_t bad = start_link(bad_id, NULL);
    const char *r = "";
    if (!bad.srv || !bad.srv->closed || bad.srv->opened)
        r = "the responder did not refuse the link";
    else if (!strstr(bad.srv->reason, want)) {
        snprintf(why, sizeof why, "responder's reason '%s', expected '%s'", bad.srv->reason, want);
        r = why;
    } else if (!both_open(good))
        r = "the good link alongside did not stay open";
    end_link(bad);
    end_link(good);
    return r;
}

static void test_bad_initiator_certs_refused(void)
{
    CHECK(ids_ok);
    om_identity_t bad = cli_id;
    bad.ed_id_sign_cert[bad.ed_id_sign_cert_len - 3] ^= 1; /* type 4 signature */
    const char *r = bad_certs_case(&bad, "CERTS: type 4 Ed25519 identity->signing certificate "
                                         "invalid");
    CHECK_MSG(!r[0], "%s", r);
    bad = cli_id;
    bad.rsa_ed_crosscert[3] ^= 1; /* type 7 certifies another Ed25519 key */
    r = bad_certs_case(&bad, "CERTS: type 7 RSA->Ed25519 cross-certificate invalid");
    CHECK_MSG(!r[0], "%s", r);
    bad = cli_id;
    bad.ed_sign = srv_id.ed_sign; /* type 6 signed by a key the type 4 does not certify */
    r = bad_certs_case(&bad, "CERTS: type 6 signing->auth certificate invalid");
    CHECK_MSG(!r[0], "%s", r);
}

/* The auth key's certificate is fine but the AUTHENTICATE is signed by another key. */
static void test_wrong_auth_key_refused(void)
{
    CHECK(ids_ok);
    static om_identity_t bad;
    bad = cli_id;
    /* Sign with a fresh auth key but present srv_id's (type 6 certifies bad.ed_auth.pub: keep
     * the public half, replace the secret). */
    om_ed25519_keypair_t other;
    CHECK(om_ed25519_keygen(&other) == 0);
    memcpy(bad.ed_auth.seed, other.seed, 32);
    const char *r = bad_certs_case(&bad, "AUTHENTICATE: Ed25519 signature is not valid");
    CHECK_MSG(!r[0], "%s", r);
}

static const om_test_t tests[] = {
    OM_TEST(test_body_roundtrip),
    OM_TEST(test_body_extra_signed_bytes),
    OM_TEST(test_body_parse_errors),
    OM_TEST(test_body_each_field_checked),
    OM_TEST(test_initiator_certs_verify),
    OM_TEST(test_authenticated_link),
    OM_TEST(test_client_link_unauthenticated),
    OM_TEST(test_tampered_bad_signature),
    OM_TEST(test_tampered_slog),
    OM_TEST(test_tampered_clog),
    OM_TEST(test_tampered_tlssecrets),
    OM_TEST(test_tampered_scert),
    OM_TEST(test_tampered_cid_ed),
    OM_TEST(test_tampered_type_field),
    OM_TEST(test_tampered_auth_type),
    OM_TEST(test_tampered_truncated),
    OM_TEST(test_tampered_too_short),
    OM_TEST(test_bad_initiator_certs_refused),
    OM_TEST(test_wrong_auth_key_refused),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    if (!getenv("OM_LOG")) om_log_set_level(OM_LOG_WARN); /* links are refused on purpose */
    base = event_base_new();
    if (base && om_identity_generate(&srv_id) == 0 && om_identity_generate(&cli_id) == 0) {
        tls_ctx = om_tls_server_ctx_new(srv_id.tls_cert, srv_id.tls_cert_len,
                                        om_rsa_evp_pkey(srv_id.tls_key));
        listener = tls_ctx ? om_test_listen_loopback(base, on_accept, NULL, &listen_port) : NULL;
        if (listener) {
            ids_ok = 1;
        } else {
            fprintf(stderr, "# could not set up the TLS listener\n");
        }
    }
    int r = om_test_main("link_auth", tests, argc, argv);
    for (int i = 0; i < n_cli; i++)
        if (cli_end[i].chan) om_channel_free(cli_end[i].chan);
    for (int i = 0; i < n_srv; i++)
        if (srv_end[i].chan) om_channel_free(srv_end[i].chan);
    for (int i = 0; i < 10; i++)
        spin(5);
    if (listener) evconnlistener_free(listener);
    om_tls_server_ctx_free(tls_ctx);
    om_identity_free(&srv_id);
    om_identity_free(&cli_id);
    if (base) event_base_free(base);
    return r;
}
