/* test_channel.c — unit tests for channel.c and transport_tls.c, in process over real TLS on
 * 127.0.0.1: our initiator against our responder (protocol 5, identity verified, wrong identity
 * refused, CREATE_FAST answered, cells both ways), the circuit-ID high-bit rule, and hostile
 * peers (a raw TLS or TCP client in a thread) that must close only their own link while a
 * well-behaved link opened alongside keeps working; handshake cells out of order on both sides
 * (a second CERTS, an AUTH_CHALLENGE twice or from the initiator, NETINFO before CERTS; the
 * initiator's side against a hostile TLS responder in a thread); handshake-timeout behaviour. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "core/channel_int.h"
#include "core/channel.h"
#include "core/cert.h"
#include "core/circuit.h"
#include "core/crypto.h"
#include "core/link_cells.h"
#include "core/log.h"
#include "core/onion_handshake.h"
#include "test.h"
#include "test_loop.h"

static struct event_base *base;
static om_identity_t ident;
static int ident_ok;
static om_tls_server_ctx_t *tls_ctx;
static struct evconnlistener *listener;
static uint16_t listen_port;
static SSL_CTX *raw_ctx; /* the hostile clients' TLS context */

static void spin(int ms)
{
    om_test_spin(base, ms);
}

/* Run the event loop until cond holds or ms pass. */
#define WAIT_FOR(cond, ms) OM_TEST_WAIT_FOR(base, cond, ms)

/* ---------------------------------------------------------------- responder side */

/* One accepted link. Slots are never reused, so callbacks of a link a failed test left behind
 * still land in valid memory. */
typedef struct {
    om_channel_t *chan; /* NULL once closed */
    uint16_t peer_port;
    int opened, closed;
    char reason[300];
    int n_unclaimed;
    om_cell_t last_unclaimed;
    bool answer_create_fast;
} srv_link_t;

#define MAX_LINKS 64
static srv_link_t srv[MAX_LINKS];
static atomic_int n_srv;
static bool answer_create_fast_next; /* the next accepted link answers CREATE_FAST */

static void srv_open(om_channel_t *c, void *arg)
{
    (void)c;
    ((srv_link_t *)arg)->opened = 1;
}

static void srv_close(om_channel_t *c, const char *reason, void *arg)
{
    srv_link_t *s = arg;
    (void)c;
    s->closed = 1;
    s->chan = NULL;
    snprintf(s->reason, sizeof s->reason, "%s", reason);
}

static void srv_unclaimed(om_channel_t *c, const om_cell_t *cell, void *arg)
{
    srv_link_t *s = arg;
    s->n_unclaimed++;
    s->last_unclaimed = *cell;
    if (s->answer_create_fast && cell->command == OM_CELL_CREATE_FAST) {
        /* tor-spec 5.1.5: CREATED_FAST = Y | KH. */
        om_cell_t r = {.circ_id = cell->circ_id, .command = OM_CELL_CREATED_FAST};
        memset(r.payload, 0, sizeof r.payload);
        om_handshake_keys_t keys;
        if (om_fast_server(cell->payload, r.payload, &keys) == 0) om_channel_send_cell(c, &r);
        om_memwipe(&keys, sizeof keys);
    }
}

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int sl,
                      void *arg)
{
    (void)lis;
    (void)sl;
    (void)arg;
    int i = atomic_load(&n_srv);
    if (i >= MAX_LINKS) {
        evutil_closesocket(fd);
        return;
    }
    srv_link_t *s = &srv[i];
    memset(s, 0, sizeof *s);
    struct sockaddr_in *sin = (struct sockaddr_in *)sa;
    s->peer_port = ntohs(sin->sin_port);
    s->answer_create_fast = answer_create_fast_next;
    char peer[64];
    snprintf(peer, sizeof peer, "127.0.0.1:%u", (unsigned)s->peer_port);
    om_transport_t *t = om_tls_accept(base, tls_ctx, fd, peer);
    om_chan_callbacks_t cb = {
        .on_open = srv_open, .on_close = srv_close, .on_unclaimed_cell = srv_unclaimed, .arg = s};
    s->chan = t ? om_channel_new_responder(base, t, &ident, &cb) : NULL;
    if (!s->chan) {
        if (t)
            t->ops->free(t);
        else
            evutil_closesocket(fd);
        s->closed = 1;
        snprintf(s->reason, sizeof s->reason, "test: could not set up the responder");
    }
    atomic_store(&n_srv, i + 1);
}

/* The responder link accepted since index `since` from that client port: the kernel reuses
 * ephemeral ports, so an earlier test's (closed) link may have had the same one. */
static srv_link_t *srv_by_port(uint16_t port, int since)
{
    for (int i = atomic_load(&n_srv) - 1; i >= since; i--)
        if (srv[i].peer_port == port) return &srv[i];
    return NULL;
}

/* ---------------------------------------------------------------- initiator side */

typedef struct {
    om_channel_t *chan; /* NULL once closed or freed */
    int opened, closed;
    char reason[300];
    int n_unclaimed;
    om_cell_t last_unclaimed;
    srv_link_t *peer; /* the responder end of this link */
} cli_link_t;

static cli_link_t cli[MAX_LINKS];
static int n_cli;

static void cli_open(om_channel_t *c, void *arg)
{
    (void)c;
    ((cli_link_t *)arg)->opened = 1;
}

static void cli_close(om_channel_t *c, const char *reason, void *arg)
{
    cli_link_t *l = arg;
    (void)c;
    l->closed = 1;
    l->chan = NULL;
    snprintf(l->reason, sizeof l->reason, "%s", reason);
}

static void cli_unclaimed(om_channel_t *c, const om_cell_t *cell, void *arg)
{
    cli_link_t *l = arg;
    (void)c;
    l->n_unclaimed++;
    l->last_unclaimed = *cell;
}

/* Start a link to our listener and run the loop until the initiator has opened or closed, and
 * (if it opened) the responder has too. NULL if no slot is left or the connect failed at once. */
static cli_link_t *connect_link(const uint8_t *rsa_fp, const uint8_t *ed_id)
{
    if (n_cli >= MAX_LINKS) return NULL;
    cli_link_t *l = &cli[n_cli++];
    memset(l, 0, sizeof *l);
    int before = atomic_load(&n_srv);
    om_chan_callbacks_t cb = {
        .on_open = cli_open, .on_close = cli_close, .on_unclaimed_cell = cli_unclaimed, .arg = l};
    l->chan = om_channel_connect(base, "127.0.0.1", listen_port, rsa_fp, ed_id, &cb);
    if (!l->chan) return NULL;
    WAIT_FOR(l->opened || l->closed, 15000);
    if (atomic_load(&n_srv) > before) l->peer = &srv[before];
    if (l->opened && l->peer) WAIT_FOR(l->peer->opened || l->peer->closed, 5000);
    return l;
}

/* Close the initiator end and wait until the responder end has noticed. */
static void close_link(cli_link_t *l)
{
    if (!l) return;
    if (l->chan) {
        om_channel_free(l->chan); /* no on_close for the owner's own free */
        l->chan = NULL;
        l->closed = 1;
    }
    if (l->peer) WAIT_FOR(l->peer->closed, 5000);
    spin(5); /* run the deferred frees */
}

/* Both ends open, and one cell each way gets through: the initiator sends CREATE_FAST on a new
 * circuit ID (reaching the responder's on_unclaimed_cell); the responder sends DESTROY on a
 * circuit ID the initiator registered (reaching that circuit's callback). Returns "" or what
 * failed. */
static int destroy_seen;
static uint32_t destroy_circ;
static void cli_circ_cb(om_channel_t *c, const om_cell_t *cell, void *arg)
{
    (void)c;
    (void)arg;
    if (cell->command == OM_CELL_DESTROY) {
        destroy_seen++;
        destroy_circ = cell->circ_id;
    }
}

static const char *exchange_cells(cli_link_t *l)
{
    static char why[200];
    if (!l || !l->chan || !l->opened || l->closed) return "initiator end is not open";
    srv_link_t *s = l->peer;
    if (!s || !s->chan || !s->opened || s->closed) return "responder end is not open";
    if (l->chan->state != OM_CHAN_OPEN || s->chan->state != OM_CHAN_OPEN)
        return "a channel is not in state open";
    uint32_t id = om_channel_alloc_circ_id(l->chan);
    om_cell_t c = {.circ_id = id, .command = OM_CELL_CREATE_FAST};
    memset(c.payload, 0, sizeof c.payload);
    om_rand_bytes(c.payload, OM_FAST_LEN);
    int before = s->n_unclaimed;
    if (om_channel_send_cell(l->chan, &c) != 0) return "initiator could not send";
    WAIT_FOR(s->n_unclaimed > before, 5000);
    if (s->n_unclaimed != before + 1 || s->last_unclaimed.circ_id != id ||
        s->last_unclaimed.command != OM_CELL_CREATE_FAST ||
        memcmp(s->last_unclaimed.payload, c.payload, OM_CELL_PAYLOAD_LEN) != 0) {
        snprintf(why, sizeof why, "responder did not get the CREATE_FAST (%d cells)",
                 s->n_unclaimed - before);
        return why;
    }
    if (om_channel_register_circ(l->chan, id, cli_circ_cb, NULL) != 0)
        return "could not register the circuit";
    destroy_seen = 0;
    om_cell_t d = {.circ_id = id, .command = OM_CELL_DESTROY};
    memset(d.payload, 0, sizeof d.payload);
    d.payload[0] = OM_DESTROY_FINISHED;
    if (om_channel_send_cell(s->chan, &d) != 0) return "responder could not send";
    WAIT_FOR(destroy_seen, 5000);
    om_channel_unregister_circ(l->chan, id);
    if (destroy_seen != 1 || destroy_circ != id)
        return "initiator's circuit did not get the DESTROY";
    return "";
}

/* ---------------------------------------------------------------- raw (hostile) clients */

/* Complete cells in a responder's output: VERSIONS (2-byte circuit ID), then protocol-5 cells.
 * -1 if the first bytes are not a VERSIONS cell. */
static int count_responder_cells(const uint8_t *p, size_t len)
{
    size_t clen;
    bool var;
    if (len < 5) return 0;
    if (p[2] != OM_CELL_VERSIONS) return -1;
    if (om_cell_frame(p, len, 0, &clen, &var) != 1) return 0;
    int n = 1;
    for (size_t off = clen; off < len; off += clen, n++)
        if (om_cell_frame(p + off, len - off, 5, &clen, &var) != 1) break;
    return n;
}

typedef struct {
    /* what to do */
    bool tls;            /* TLS handshake first (else raw TCP bytes) */
    const uint8_t *data; /* bytes to send once connected */
    size_t len;
    bool close_after_send; /* then close our end (EOF to the server) */
    const uint8_t *data2;  /* sent once the responder's VERSIONS, CERTS, AUTH_CHALLENGE and */
    size_t len2;           /* NETINFO have all arrived (TLS only) */
    int hold_ms;           /* how long to wait for the server to close on us */
    /* what happened */
    atomic_int connected;
    uint16_t local_port;
    bool tls_ok;
    bool server_closed; /* the server ended the connection before hold_ms */
    uint8_t got[8192];  /* what the server sent (decrypted) */
    size_t got_len;
    pthread_t thread;
    atomic_int done;
    int srv_before; /* responder links accepted before this client started */
} raw_client_t;

#define SRV_OF(rc) srv_by_port((rc)->local_port, (rc)->srv_before)

static void *raw_client_main(void *arg)
{
    raw_client_t *rc = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_port = htons(listen_port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    SSL *ssl = NULL;
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) goto out;
    struct sockaddr_in me;
    socklen_t ml = sizeof me;
    getsockname(fd, (struct sockaddr *)&me, &ml);
    rc->local_port = ntohs(me.sin_port);
    atomic_store(&rc->connected, 1);
    struct timeval tv = {rc->hold_ms / 1000, (rc->hold_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (rc->tls) {
        ssl = SSL_new(raw_ctx);
        if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1) goto out;
        rc->tls_ok = true;
        if (rc->len && SSL_write(ssl, rc->data, (int)rc->len) != (int)rc->len) goto out;
        while (rc->data2 && count_responder_cells(rc->got, rc->got_len) >= 0 &&
               count_responder_cells(rc->got, rc->got_len) < 4) {
            int n = SSL_read(ssl, rc->got + rc->got_len, (int)(sizeof rc->got - rc->got_len));
            if (n <= 0) goto out;
            rc->got_len += (size_t)n;
        }
        if (rc->data2 && SSL_write(ssl, rc->data2, (int)rc->len2) != (int)rc->len2) goto out;
        if (rc->close_after_send) {
            SSL_shutdown(ssl); /* close_notify */
            shutdown(fd, SHUT_WR);
        }
    } else {
        if (rc->len && send(fd, rc->data, rc->len, MSG_NOSIGNAL) != (ssize_t)rc->len) goto out;
        if (rc->close_after_send) shutdown(fd, SHUT_WR);
    }
    /* Read whatever the server sends until it closes, or hold_ms of silence. */
    for (;;) {
        uint8_t buf[4096];
        int n;
        errno = 0;
        if (ssl)
            n = SSL_read(ssl, buf, sizeof buf);
        else
            n = (int)recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            size_t room = sizeof rc->got - rc->got_len;
            size_t k = (size_t)n < room ? (size_t)n : room;
            memcpy(rc->got + rc->got_len, buf, k);
            rc->got_len += k;
            continue;
        }
        rc->server_closed = !(errno == EAGAIN || errno == EWOULDBLOCK);
        break;
    }
out:
    if (ssl) SSL_free(ssl);
    if (fd >= 0) close(fd);
    atomic_store(&rc->done, 1);
    return NULL;
}

static int raw_client_start(raw_client_t *rc)
{
    rc->srv_before = atomic_load(&n_srv);
    return pthread_create(&rc->thread, NULL, raw_client_main, rc) == 0 ? 0 : -1;
}

/* Wait (running the loop) for the client thread to finish, then join it. */
static void raw_client_finish(raw_client_t *rc, int ms)
{
    WAIT_FOR(atomic_load(&rc->done), ms);
    if (!atomic_load(&rc->done)) {
        fprintf(stderr, "# raw client thread stuck; waiting for it\n");
        while (!atomic_load(&rc->done))
            spin(50);
    }
    pthread_join(rc->thread, NULL);
}

/* ---------------------------------------------------------------- tests: a normal link */

static void test_link_opens_proto5_identity_verified(void)
{
    CHECK(ident_ok);
    cli_link_t *l = connect_link(ident.rsa_fp, ident.ed_id.pub);
    CHECK(l);
    CHECK_MSG(l->opened, "initiator did not open: %s", l->reason);
    CHECK(l->peer);
    CHECK_MSG(l->peer->opened, "responder did not open: %s", l->peer->reason);
    om_channel_t *c = l->chan, *r = l->peer->chan;
    CHECK(c && r);
    CHECK_EQ_INT(c->link_proto, 5);
    CHECK_EQ_INT(r->link_proto, 5);
    CHECK_EQ_INT(c->state, OM_CHAN_OPEN);
    CHECK_EQ_INT(r->state, OM_CHAN_OPEN);
    CHECK(c->peer_verified);
    CHECK_MEM(c->peer.rsa_fp, ident.rsa_fp, 20);
    CHECK_MEM(c->peer.ed_id, ident.ed_id.pub, 32);
    CHECK_MEM(c->peer.ed_sign, ident.ed_sign.pub, 32);
    CHECK_EQ_INT(c->peer.rsa_bits, 1024);
    /* The responder offered the Ed25519 authentication method. */
    CHECK(om_auth_challenge_has_method(&c->auth_challenge, OM_AUTHTYPE_ED25519_SHA256_RFC5705));
    CHECK(c->timings.transport_up && c->timings.versions && c->timings.certs &&
          c->timings.auth_challenge && c->timings.netinfo && c->timings.open);
    /* NETINFO: each side names the other's address; the responder sends its clock, the client
     * does not reveal its own (tor-spec 4.5). */
    CHECK_EQ_INT(c->peer_netinfo.other.type, 4);
    CHECK(!memcmp(c->peer_netinfo.other.addr, "\x7f\x00\x00\x01", 4));
    CHECK_EQ_INT(r->peer_netinfo.other.type, 4);
    CHECK(!memcmp(r->peer_netinfo.other.addr, "\x7f\x00\x00\x01", 4));
    CHECK(c->peer_netinfo.timestamp != 0);
    CHECK_EQ_INT(r->peer_netinfo.timestamp, 0);
    /* The handshake timer is disarmed once open. */
    CHECK(!event_pending(c->timeout_ev, EV_TIMEOUT, NULL));
    CHECK(!event_pending(r->timeout_ev, EV_TIMEOUT, NULL));
    /* The TLS layer: the initiator saw the responder's link certificate, and both ends export
     * the same RFC 5705 keying material. */
    uint8_t h_peer[32], h_want[32], h_own[32];
    CHECK(c->transport->ops->peer_cert_sha256(c->transport, h_peer) == 0);
    CHECK(om_sha256(ident.tls_cert, ident.tls_cert_len, h_want) == 0);
    CHECK_MEM(h_peer, h_want, 32);
    CHECK(r->transport->ops->own_cert_sha256(r->transport, h_own) == 0);
    CHECK_MEM(h_own, h_want, 32);
    uint8_t ctx[32] = {1, 2, 3}, k1[32], k2[32];
    const char *label = "EXPORTER FOR TOR TLS CLIENT BINDING AUTH0003";
    CHECK(c->transport->ops->export_keying_material(c->transport, k1, 32, label, ctx, 32) == 0);
    CHECK(r->transport->ops->export_keying_material(r->transport, k2, 32, label, ctx, 32) == 0);
    CHECK_MEM(k1, k2, 32);
    const char *why = exchange_cells(l);
    CHECK_MSG(!why[0], "%s", why);
    /* The initiator closes: the responder hears EOF. */
    srv_link_t *s = l->peer;
    close_link(l);
    CHECK_MSG(s->closed && strstr(s->reason, "closed"), "responder: closed %d, %s", s->closed,
              s->reason);
}

static void test_link_without_expected_identity(void)
{
    CHECK(ident_ok);
    cli_link_t *l = connect_link(NULL, NULL);
    CHECK(l);
    CHECK_MSG(l->opened, "%s", l->reason);
    /* Still verified: the CERTS chain is checked whatever the caller expects. */
    CHECK(l->chan->peer_verified);
    CHECK_MEM(l->chan->peer.rsa_fp, ident.rsa_fp, 20);
    close_link(l);
}

static void test_wrong_rsa_fingerprint_closes(void)
{
    CHECK(ident_ok);
    uint8_t wrong[20];
    memcpy(wrong, ident.rsa_fp, 20);
    wrong[19] ^= 0x80;
    cli_link_t *l = connect_link(wrong, ident.ed_id.pub);
    CHECK(l);
    CHECK(!l->opened);
    CHECK_MSG(l->closed && strstr(l->reason, "identity mismatch") && strstr(l->reason, "RSA"),
              "reason: %s", l->reason);
    /* The reason names both fingerprints. */
    char hex[41];
    om_hex_encode(ident.rsa_fp, 20, hex);
    CHECK_MSG(strstr(l->reason, hex), "reason: %s", l->reason);
    /* The responder end goes away too, without ever opening. */
    CHECK(l->peer);
    WAIT_FOR(l->peer->closed, 5000);
    CHECK(l->peer->closed && !l->peer->opened);
    spin(5);
}

static void test_wrong_ed25519_identity_closes(void)
{
    CHECK(ident_ok);
    uint8_t wrong[32];
    memcpy(wrong, ident.ed_id.pub, 32);
    wrong[0] ^= 1;
    cli_link_t *l = connect_link(ident.rsa_fp, wrong);
    CHECK(l);
    CHECK(!l->opened);
    CHECK_MSG(l->closed && strstr(l->reason, "identity mismatch") && strstr(l->reason, "Ed25519"),
              "reason: %s", l->reason);
    if (l->peer) WAIT_FOR(l->peer->closed, 5000);
    spin(5);
}

/* Nothing listens: the connect fails and on_close says so. */
static void test_connect_refused(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sin;
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
          getsockname(fd, (struct sockaddr *)&sin, &sl) == 0);
    uint16_t dead = ntohs(sin.sin_port);
    close(fd); /* bound, never listened, now closed: connecting is refused */
    CHECK(n_cli < MAX_LINKS);
    cli_link_t *l = &cli[n_cli++];
    memset(l, 0, sizeof *l);
    om_chan_callbacks_t cb = {.on_open = cli_open, .on_close = cli_close, .arg = l};
    l->chan = om_channel_connect(base, "127.0.0.1", dead, NULL, NULL, &cb);
    if (l->chan) WAIT_FOR(l->closed, 5000);
    CHECK_MSG(!l->chan && l->closed && !l->opened && strstr(l->reason, "could not connect"),
              "closed %d, reason %s", l->closed, l->reason);
    /* Not a numeric address: refused at once. */
    CHECK(om_channel_connect(base, "localhost", dead, NULL, NULL, &cb) == NULL);
    spin(5);
}

/* ---------------------------------------------------------------- tests: circuits */

typedef struct {
    int built, closed;
    char reason[300];
} circ_ctx_t;

static void c_built(om_circuit_t *circ, void *arg)
{
    (void)circ;
    ((circ_ctx_t *)arg)->built = 1;
}

static void c_closed(om_circuit_t *circ, const char *reason, void *arg)
{
    circ_ctx_t *x = arg;
    (void)circ;
    x->closed = 1;
    snprintf(x->reason, sizeof x->reason, "%s", reason);
}

static circ_ctx_t circ_ctx; /* outlives the test function, like the circuit */

static void test_create_fast_reaches_responder(void)
{
    CHECK(ident_ok);
    answer_create_fast_next = true;
    cli_link_t *l = connect_link(ident.rsa_fp, ident.ed_id.pub);
    answer_create_fast_next = false;
    CHECK(l && l->opened && l->peer && l->peer->opened);
    srv_link_t *s = l->peer;
    memset(&circ_ctx, 0, sizeof circ_ctx);
    om_circ_callbacks_t cb = {.on_built = c_built, .on_closed = c_closed, .arg = &circ_ctx};
    om_circuit_t *circ = om_circuit_create(l->chan, OM_HANDSHAKE_TYPE_FAST, NULL, &cb);
    CHECK(circ);
    uint32_t id = om_circuit_id(circ);
    WAIT_FOR(s->n_unclaimed >= 1, 5000);
    CHECK_EQ_INT(s->n_unclaimed, 1);
    CHECK_EQ_INT(s->last_unclaimed.command, OM_CELL_CREATE_FAST);
    CHECK_EQ_INT(s->last_unclaimed.circ_id, id);
    CHECK(s->last_unclaimed.circ_id & 0x80000000u); /* initiator's IDs have the high bit */
    CHECK(!om_mem_is_zero(s->last_unclaimed.payload, OM_FAST_LEN)); /* X */
    /* The responder answered CREATED_FAST (Y | KH): the circuit is built (KH checked). */
    WAIT_FOR(circ_ctx.built || circ_ctx.closed, 5000);
    CHECK_MSG(circ_ctx.built && !circ_ctx.closed, "circuit: %s", circ_ctx.reason);
    /* Closing sends DESTROY(FINISHED) on the same ID. */
    om_circuit_close(circ, OM_DESTROY_FINISHED, "test done");
    WAIT_FOR(s->n_unclaimed >= 2, 5000);
    CHECK_EQ_INT(s->n_unclaimed, 2);
    CHECK_EQ_INT(s->last_unclaimed.command, OM_CELL_DESTROY);
    CHECK_EQ_INT(s->last_unclaimed.circ_id, id);
    CHECK_EQ_INT(s->last_unclaimed.payload[0], OM_DESTROY_FINISHED);
    CHECK(circ_ctx.closed);
    close_link(l);
}

/* A circuit still building when its link closes hears about it (synthesized DESTROY). */
static circ_ctx_t circ_ctx2;
static void test_link_close_closes_circuits(void)
{
    CHECK(ident_ok);
    cli_link_t *l = connect_link(ident.rsa_fp, ident.ed_id.pub);
    CHECK(l && l->opened && l->peer && l->peer->opened);
    memset(&circ_ctx2, 0, sizeof circ_ctx2);
    om_circ_callbacks_t cb = {.on_built = c_built, .on_closed = c_closed, .arg = &circ_ctx2};
    CHECK(om_circuit_create(l->chan, OM_HANDSHAKE_TYPE_FAST, NULL, &cb)); /* never answered */
    srv_link_t *s = l->peer;
    WAIT_FOR(s->n_unclaimed >= 1, 5000);
    /* The responder drops the link: the initiator's circuit closes with the link's reason. */
    om_channel_close(s->chan, "test: responder goes away");
    WAIT_FOR(l->closed && circ_ctx2.closed, 5000);
    CHECK(l->closed);
    CHECK_MSG(circ_ctx2.closed && !circ_ctx2.built, "built %d closed %d", circ_ctx2.built,
              circ_ctx2.closed);
    CHECK_MSG(strstr(circ_ctx2.reason, "link closed") || strstr(circ_ctx2.reason, "channel"),
              "circuit reason: %s", circ_ctx2.reason);
    spin(5);
}

/* Cells queued just before a close still reach the peer: the responder sends DESTROY and closes
 * the link in the same callback; the initiator must see that DESTROY (reason FINISHED) before
 * the link goes, not only the CHANNEL_CLOSED one it synthesizes when the link closes. */
static int flush_destroys;
static uint8_t flush_reasons[4];
static void flush_circ_cb(om_channel_t *c, const om_cell_t *cell, void *arg)
{
    (void)c;
    (void)arg;
    if (cell->command == OM_CELL_DESTROY && flush_destroys < 4)
        flush_reasons[flush_destroys++] = cell->payload[0];
}

static void test_cells_sent_before_close_are_delivered(void)
{
    CHECK(ident_ok);
    cli_link_t *l = connect_link(ident.rsa_fp, ident.ed_id.pub);
    CHECK(l && l->opened && l->peer && l->peer->opened);
    uint32_t id = om_channel_alloc_circ_id(l->chan);
    flush_destroys = 0;
    CHECK(om_channel_register_circ(l->chan, id, flush_circ_cb, NULL) == 0);
    om_cell_t d = {.circ_id = id, .command = OM_CELL_DESTROY};
    memset(d.payload, 0, sizeof d.payload);
    d.payload[0] = OM_DESTROY_FINISHED;
    CHECK(om_channel_send_cell(l->peer->chan, &d) == 0);
    om_channel_close(l->peer->chan, "test: close right after a DESTROY");
    WAIT_FOR(l->closed, 5000);
    CHECK(l->closed);
    spin(5);
    CHECK_MSG(flush_destroys >= 1 && flush_reasons[0] == OM_DESTROY_FINISHED,
              "the DESTROY queued before the close was lost (%d DESTROYs, first reason %d; link "
              "reason '%.100s')",
              flush_destroys, flush_destroys ? flush_reasons[0] : -1, l->reason);
}

/* tor-spec 5.1.1: with 4-byte circuit IDs the link's initiator picks IDs with the high bit set,
 * the responder IDs with it clear; never 0. */
static void test_circ_id_high_bit_on_open_links(void)
{
    CHECK(ident_ok);
    cli_link_t *l = connect_link(ident.rsa_fp, ident.ed_id.pub);
    CHECK(l && l->opened && l->peer && l->peer->opened);
    om_channel_t *c = l->chan, *r = l->peer->chan;
    uint32_t or_c = 0, or_r = 0;
    for (int i = 0; i < 2000; i++) {
        uint32_t a = om_channel_alloc_circ_id(c), b = om_channel_alloc_circ_id(r);
        CHECK_MSG(a & 0x80000000u, "initiator picked %08x", a);
        CHECK_MSG(b != 0 && !(b & 0x80000000u), "responder picked %08x", b);
        or_c |= a;
        or_r |= b;
    }
    /* ...and the other 31 bits are random (each set at least once in 2000 draws). */
    CHECK_EQ_INT(or_c, 0xffffffffu);
    CHECK_EQ_INT(or_r, 0x7fffffffu);
    /* A responder-picked ID reaches the initiator's on_unclaimed_cell, high bit clear. */
    uint32_t id = om_channel_alloc_circ_id(r);
    om_cell_t cell = {.circ_id = id, .command = OM_CELL_CREATE_FAST};
    memset(cell.payload, 0x42, sizeof cell.payload);
    CHECK(om_channel_send_cell(r, &cell) == 0);
    WAIT_FOR(l->n_unclaimed, 5000);
    CHECK_EQ_INT(l->n_unclaimed, 1);
    CHECK_EQ_INT(l->last_unclaimed.circ_id, id);
    close_link(l);
}

/* The same rule on 2-byte IDs (link protocol 3), and the registration table's rules, on channel
 * structs that are not connected to anything. */
static void test_circ_id_rules_unconnected(void)
{
    om_channel_t *c = calloc(1, sizeof *c);
    CHECK(c);
    static const int protos[] = {3, 4, 5};
    for (size_t p = 0; p < 3; p++) {
        for (int role = 0; role < 2; role++) {
            c->role = role ? OM_CHAN_RESPONDER : OM_CHAN_INITIATOR;
            c->link_proto = protos[p];
            bool wide = protos[p] >= 4;
            uint32_t hi = wide ? 0x80000000u : 0x8000u, max = wide ? 0xffffffffu : 0xffffu;
            for (int i = 0; i < 1000; i++) {
                uint32_t id = om_channel_alloc_circ_id(c);
                if (id == 0 || id > max || (role == 0) != ((id & hi) != 0)) {
                    free(c);
                    CHECK_MSG(0, "proto %d %s picked %x", protos[p],
                              role ? "responder" : "initiator", id);
                }
            }
        }
    }
    /* Registration: 0 and duplicates are refused; at most OM_CHAN_MAX_CIRCUITS at once. */
    c->role = OM_CHAN_RESPONDER;
    c->link_proto = 3;
    int r0 = om_channel_register_circ(c, 0, cli_circ_cb, NULL);
    int r1 = om_channel_register_circ(c, 5, cli_circ_cb, NULL);
    int r2 = om_channel_register_circ(c, 5, cli_circ_cb, NULL);
    int filled = 1;
    for (uint32_t id = 6; filled < OM_CHAN_MAX_CIRCUITS; id++)
        filled += om_channel_register_circ(c, id, cli_circ_cb, NULL) == 0;
    int over = om_channel_register_circ(c, 60000, cli_circ_cb, NULL);
    /* A full table still never hands out a registered ID (5..8196 are all taken). */
    int clash = 0;
    for (int i = 0; i < 5000; i++) {
        uint32_t id = om_channel_alloc_circ_id(c);
        clash += id >= 5 && id < 5 + (uint32_t)OM_CHAN_MAX_CIRCUITS;
    }
    om_channel_unregister_circ(c, 5);
    int again = om_channel_register_circ(c, 60000, cli_circ_cb, NULL);
    int count = (int)c->circs_count;
    /* Churn: register and unregister many distinct IDs; lookups stay right. */
    om_channel_unregister_circ(c, 60000);
    for (uint32_t i = 0; i < 50000; i++) {
        uint32_t id = 0x10000u + i;
        if (om_channel_register_circ(c, id, cli_circ_cb, NULL) != 0 ||
            om_channel_register_circ(c, id, cli_circ_cb, NULL) != -1) {
            clash += 1000000;
            break;
        }
        om_channel_unregister_circ(c, id);
    }
    int count_after = (int)c->circs_count;
    free(c->circs);
    free(c);
    CHECK_EQ_INT(r0, -1);
    CHECK_EQ_INT(r1, 0);
    CHECK_EQ_INT(r2, -1);
    CHECK_EQ_INT(filled, OM_CHAN_MAX_CIRCUITS);
    CHECK_EQ_INT(over, -1);
    CHECK_EQ_INT(clash, 0);
    CHECK_EQ_INT(again, 0);
    CHECK_EQ_INT(count, OM_CHAN_MAX_CIRCUITS);
    CHECK_EQ_INT(count_after, OM_CHAN_MAX_CIRCUITS - 1);
}

/* Sending on a channel that is not open is refused. */
static void test_send_before_open_refused(void)
{
    CHECK(ident_ok);
    CHECK(n_cli < MAX_LINKS);
    cli_link_t *l = &cli[n_cli++];
    memset(l, 0, sizeof *l);
    om_chan_callbacks_t cb = {.on_open = cli_open, .on_close = cli_close, .arg = l};
    l->chan = om_channel_connect(base, "127.0.0.1", listen_port, NULL, NULL, &cb);
    CHECK(l->chan);
    om_cell_t cell = {.circ_id = 0x80000001u, .command = OM_CELL_CREATE_FAST};
    memset(cell.payload, 0, sizeof cell.payload);
    CHECK_EQ_INT(om_channel_send_cell(l->chan, &cell), -1);
    CHECK(om_circuit_create(l->chan, OM_HANDSHAKE_TYPE_FAST, NULL, NULL) == NULL);
    int before = atomic_load(&n_srv);
    WAIT_FOR(l->opened || l->closed, 10000);
    CHECK(l->opened);
    if (atomic_load(&n_srv) > before) l->peer = &srv[before];
    CHECK(l->peer);
    WAIT_FOR(l->peer->opened || l->peer->closed, 5000);
    close_link(l);
}

/* ---------------------------------------------------------------- tests: hostile peers */

/* Open a well-behaved link, let a raw client send `data` to the responder, and check that the
 * responder closes that link only (reason containing want), while the well-behaved link stays
 * open and keeps carrying cells both ways. */
static void hostile_case2(bool tls, const uint8_t *data, size_t len, const uint8_t *data2,
                          size_t len2, bool close_after, const char *want, raw_client_t *rc)
{
    cli_link_t *good = connect_link(ident.rsa_fp, ident.ed_id.pub);
    CHECK(good && good->opened && good->peer && good->peer->opened);

    memset(rc, 0, sizeof *rc);
    rc->tls = tls;
    rc->data = data;
    rc->len = len;
    rc->close_after_send = close_after;
    rc->data2 = data2;
    rc->len2 = len2;
    rc->hold_ms = 5000;
    CHECK(raw_client_start(rc) == 0);
    WAIT_FOR(atomic_load(&rc->connected) && SRV_OF(rc), 5000);
    srv_link_t *bad = atomic_load(&rc->connected) ? SRV_OF(rc) : NULL;
    if (bad) WAIT_FOR(bad->closed, 5000);
    raw_client_finish(rc, 10000);
    CHECK_MSG(bad, "the responder never accepted the raw client");
    CHECK_MSG(bad->closed, "the responder kept the hostile link open (state %s)",
              bad->chan ? om_chan_state_name(bad->chan->state) : "?");
    CHECK_MSG(!bad->opened, "the hostile link opened");
    CHECK_MSG(strstr(bad->reason, want), "reason '%s', expected '%s'", bad->reason, want);
    if (tls) CHECK(rc->tls_ok);
    if (!close_after) CHECK_MSG(rc->server_closed, "the responder did not drop the connection");

    /* The other link is unaffected. */
    spin(20);
    CHECK_MSG(!good->closed && !good->peer->closed, "good link closed: %.150s / %.150s",
              good->reason, good->peer->reason);
    const char *why = exchange_cells(good);
    CHECK_MSG(!why[0], "good link after the hostile one: %s", why);
    close_link(good);
}

static void hostile_case(bool tls, const uint8_t *data, size_t len, bool close_after,
                         const char *want, raw_client_t *rc)
{
    hostile_case2(tls, data, len, NULL, 0, close_after, want, rc);
}

static raw_client_t rc; /* static: a thread writes into it */

static void test_hostile_garbage_instead_of_versions(void)
{
    CHECK(ident_ok);
    static const uint8_t junk[] = "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    hostile_case(true, junk, sizeof junk - 1, false, "waiting for VERSIONS", &rc);
    if (om_test_failed_flag) return;
    /* What the responder said to it: nothing (it speaks only after a VERSIONS cell). */
    CHECK_EQ_INT(rc.got_len, 0);
    CHECK(strstr(SRV_OF(&rc)->reason, "malformed"));
}

static void test_hostile_versions_without_common_version(void)
{
    CHECK(ident_ok);
    /* VERSIONS (circ 0, cmd 7, length 4): versions 1 and 2 only. */
    static const uint8_t v12[] = {0, 0, 7, 0, 4, 0, 1, 0, 2};
    hostile_case(true, v12, sizeof v12, false, "no link protocol in common", &rc);
    if (om_test_failed_flag) return;
    CHECK_EQ_INT(rc.got_len, 0);
}

static void test_hostile_malformed_versions(void)
{
    CHECK(ident_ok);
    static const uint8_t odd[] = {0, 0, 7, 0, 3, 0, 4, 0}; /* odd length body */
    hostile_case(true, odd, sizeof odd, false, "VERSIONS: malformed", &rc);
}

static void test_hostile_var_cell_before_versions(void)
{
    CHECK(ident_ok);
    /* CERTS (cmd 129) with an empty list, before any VERSIONS. */
    static const uint8_t certs[] = {0, 0, 129, 0, 1, 0};
    hostile_case(true, certs, sizeof certs, false, "waiting for VERSIONS", &rc);
}

static void test_hostile_fixed_cell_first(void)
{
    CHECK(ident_ok);
    /* A 512-byte NETINFO cell (2-byte circuit ID) instead of VERSIONS. */
    static uint8_t netinfo[512];
    memset(netinfo, 0, sizeof netinfo);
    netinfo[2] = OM_CELL_NETINFO;
    hostile_case(true, netinfo, sizeof netinfo, false, "waiting for VERSIONS", &rc);
    if (om_test_failed_flag) return;
    /* ...and a CREATE_FAST, as if the link were already open. */
    static uint8_t create[512];
    memset(create, 0, sizeof create);
    create[0] = 0x80;
    create[1] = 0x01;
    create[2] = OM_CELL_CREATE_FAST;
    hostile_case(true, create, sizeof create, false, "waiting for VERSIONS", &rc);
}

static void test_hostile_truncated_then_eof(void)
{
    CHECK(ident_ok);
    /* The first 7 bytes of a 11-byte VERSIONS cell, then close_notify and FIN. */
    static const uint8_t part[] = {0, 0, 7, 0, 6, 0, 3};
    hostile_case(true, part, sizeof part, true, "closed", &rc);
    if (om_test_failed_flag) return;
    CHECK_EQ_INT(rc.got_len, 0);
    /* A complete VERSIONS, then EOF in the middle of the rest of the handshake. */
    static const uint8_t v5[] = {0, 0, 7, 0, 2, 0, 5, 0, 0, 0};
    hostile_case(true, v5, sizeof v5, true, "closed", &rc);
}

/* After a good VERSIONS the responder sends VERSIONS, CERTS, AUTH_CHALLENGE, NETINFO (tor-spec 4);
 * then garbage with the negotiated framing closes the link. */
static void test_hostile_garbage_after_versions(void)
{
    CHECK(ident_ok);
    static const uint8_t v345[] = {0, 0, 7, 0, 6, 0, 3, 0, 4, 0, 5};
    /* Then a fixed cell with the 4-byte circuit ID of protocol 5, command CREATED (unexpected
     * before NETINFO). */
    static uint8_t created[514];
    memset(created, 0, sizeof created);
    created[4] = OM_CELL_CREATED;
    hostile_case2(true, v345, sizeof v345, created, sizeof created, false,
                  "unexpected in state waiting for NETINFO", &rc);
    if (om_test_failed_flag) return;
    /* Walk what the responder sent: VERSIONS (2-byte circ ID), then protocol-5 cells. */
    const uint8_t *p = rc.got;
    size_t left = rc.got_len;
    static const uint8_t want_versions[] = {0, 0, 7, 0, 6, 0, 3, 0, 4, 0, 5};
    CHECK_MSG(left >= sizeof want_versions && !memcmp(p, want_versions, sizeof want_versions),
              "responder's first %zu bytes are not VERSIONS 3-5", left);
    p += sizeof want_versions;
    left -= sizeof want_versions;
    uint8_t cmds[8];
    int n = 0;
    while (left && n < 8) {
        size_t clen;
        bool var;
        CHECK_EQ_INT(om_cell_frame(p, left, 5, &clen, &var), 1);
        cmds[n++] = p[4];
        p += clen;
        left -= clen;
    }
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(cmds[0], OM_CELL_CERTS);
    CHECK_EQ_INT(cmds[1], OM_CELL_AUTH_CHALLENGE);
    CHECK_EQ_INT(cmds[2], OM_CELL_NETINFO);
}

/* A raw client that completes the handshake itself: `first` (e.g. VPADDING) and VERSIONS 3-5,
 * then, once the responder's four cells are in, a protocol-5 NETINFO. The responder must open
 * the link at protocol 5. */
static void raw_handshake_case(const uint8_t *first, size_t first_len)
{
    static uint8_t hello[64];
    static const uint8_t v345[] = {0, 0, 7, 0, 6, 0, 3, 0, 4, 0, 5};
    if (first_len + sizeof v345 > sizeof hello) CHECK(0);
    if (first_len) memcpy(hello, first, first_len);
    memcpy(hello + first_len, v345, sizeof v345);
    /* NETINFO (tor-spec 4.5): circ 0 (4 bytes), cmd 8, time 0, other = 4/4/127.0.0.1, 0 addrs. */
    static uint8_t netinfo[514];
    memset(netinfo, 0, sizeof netinfo);
    netinfo[4] = OM_CELL_NETINFO;
    static const uint8_t other[] = {4, 4, 127, 0, 0, 1, 0};
    memcpy(netinfo + 5 + 4, other, sizeof other);
    memset(&rc, 0, sizeof rc);
    rc.tls = true;
    rc.data = hello;
    rc.len = first_len + sizeof v345;
    rc.data2 = netinfo;
    rc.len2 = sizeof netinfo;
    rc.hold_ms = 3000;
    CHECK(raw_client_start(&rc) == 0);
    WAIT_FOR(atomic_load(&rc.connected) && SRV_OF(&rc), 5000);
    srv_link_t *s = atomic_load(&rc.connected) ? SRV_OF(&rc) : NULL;
    if (s) WAIT_FOR(s->opened || s->closed, 5000);
    int opened = s && s->opened, proto = s && s->chan ? s->chan->link_proto : 0;
    if (s && s->chan) om_channel_close(s->chan, "test done");
    raw_client_finish(&rc, 10000);
    CHECK(s);
    CHECK_MSG(opened && !strstr(s->reason, "malformed"),
              "the responder did not open the link (reason '%s')", s->reason);
    CHECK_EQ_INT(proto, 5);
    CHECK_EQ_INT(count_responder_cells(rc.got, rc.got_len), 4);
}

static void test_raw_client_handshake_opens(void)
{
    CHECK(ident_ok);
    raw_handshake_case(NULL, 0);
}

/* tor-spec 4: "the first cell must be VERSIONS, VPADDING, or AUTHORIZE" (tor accepts both before
 * VERSIONS: command_allowed_before_handshake). */
static void test_vpadding_before_versions_allowed(void)
{
    CHECK(ident_ok);
    static const uint8_t vpad[] = {0, 0, OM_CELL_VPADDING, 0, 4, 0xde, 0xad, 0xbe, 0xef};
    raw_handshake_case(vpad, sizeof vpad);
}

static void test_authorize_before_versions_allowed(void)
{
    CHECK(ident_ok);
    static const uint8_t authz[] = {0, 0, OM_CELL_AUTHORIZE, 0, 2, 1, 2};
    raw_handshake_case(authz, sizeof authz);
}

/* Bytes that are not TLS at all: the TLS handshake fails and only that link closes. */
static void test_hostile_not_tls(void)
{
    CHECK(ident_ok);
    static uint8_t junk[600];
    memset(junk, 'A', sizeof junk);
    hostile_case(false, junk, sizeof junk, false, "TLS", &rc);
}

/* A var cell announcing 65535 bytes of payload and sending only a few, then EOF: the responder
 * waits for the rest (no crash, no huge allocation up front) and closes on EOF. */
static void test_hostile_huge_var_length_then_eof(void)
{
    CHECK(ident_ok);
    static const uint8_t big[] = {0, 0, 7, 0xff, 0xff, 0, 3, 0, 4};
    hostile_case(true, big, sizeof big, true, "closed", &rc);
}

/* ---------------------------------------------------------------- tests: handshake cells out of
 * order */

/* Append cell (protocol-5 framing) to buf at *n. */
static void put_var(uint8_t *buf, size_t *n, om_var_cell_t *vc)
{
    if (vc) *n += (size_t)om_var_cell_pack(vc, 5, buf + *n);
    om_var_cell_free(vc);
}

static void put_netinfo(uint8_t *buf, size_t *n)
{
    static const uint8_t other[] = {4, 4, 127, 0, 0, 1, 0};
    memset(buf + *n, 0, 514);
    buf[*n + 4] = OM_CELL_NETINFO;
    memcpy(buf + *n + 5 + 4, other, sizeof other);
    *n += 514;
}

static om_var_cell_t *auth_challenge(void)
{
    om_auth_challenge_t ac = {.n_methods = 1, .methods = {OM_AUTHTYPE_ED25519_SHA256_RFC5705}};
    om_rand_bytes(ac.challenge, sizeof ac.challenge);
    return om_auth_challenge_cell(&ac);
}

/* The responder's side, tor's channeltls.c: an initiator's second CERTS ("Received a bad CERTS
 * cell: We already got one") and an AUTH_CHALLENGE from the initiator ("We didn't originate this
 * connection") close that link; the initiator's CERTS here are valid ones (a relay's, as an
 * authenticating initiator sends them). */
static void test_hostile_initiator_handshake_cells(void)
{
    CHECK(ident_ok);
    static const uint8_t v345[] = {0, 0, 7, 0, 6, 0, 3, 0, 4, 0, 5};
    static uint8_t b[8192];
    size_t n = 0;
    put_var(b, &n, om_identity_initiator_certs_cell(&ident));
    put_var(b, &n, om_identity_initiator_certs_cell(&ident));
    put_netinfo(b, &n);
    hostile_case2(true, v345, sizeof v345, b, n, false, "CERTS: sent twice", &rc);
    if (om_test_failed_flag) return;
    n = 0;
    put_var(b, &n, auth_challenge());
    put_netinfo(b, &n);
    hostile_case2(true, v345, sizeof v345, b, n, false, "AUTH_CHALLENGE: unexpected", &rc);
    if (om_test_failed_flag) return;
    /* control: one CERTS, then NETINFO, opens the link (unauthenticated) */
    n = 0;
    put_var(b, &n, om_identity_initiator_certs_cell(&ident));
    put_netinfo(b, &n);
    memset(&rc, 0, sizeof rc);
    rc.tls = true, rc.data = v345, rc.len = sizeof v345, rc.data2 = b, rc.len2 = n;
    rc.hold_ms = 3000;
    CHECK(raw_client_start(&rc) == 0);
    WAIT_FOR(atomic_load(&rc.connected) && SRV_OF(&rc), 5000);
    srv_link_t *sl = atomic_load(&rc.connected) ? SRV_OF(&rc) : NULL;
    if (sl) WAIT_FOR(sl->opened || sl->closed, 5000);
    bool opened = sl && sl->opened && !sl->closed;
    if (sl && sl->chan) om_channel_close(sl->chan, "test done");
    raw_client_finish(&rc, 10000);
    CHECK_MSG(opened, "one CERTS then NETINFO did not open (%s)", sl ? sl->reason : "?");
}

/* A hostile responder: a TLS server with our identity's certificate (so its CERTS verify), in a
 * thread, that reads the initiator's VERSIONS and sends `script`, then waits for EOF. */
typedef struct {
    int lfd;
    uint16_t port;
    const uint8_t *script;
    size_t len;
    bool server_eof; /* the initiator closed on it */
    pthread_t thread;
    atomic_int done;
} raw_server_t;

static SSL_CTX *raw_srv_ctx;

static void *raw_server_main(void *arg)
{
    raw_server_t *rs = arg;
    int fd = accept(rs->lfd, NULL, NULL);
    SSL *ssl = NULL;
    uint8_t buf[4096];
    struct timeval tv = {5, 0};
    if (fd < 0) goto out;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssl = SSL_new(raw_srv_ctx);
    if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) goto out;
    if (SSL_read(ssl, buf, sizeof buf) <= 0) goto out; /* the initiator's VERSIONS */
    if (SSL_write(ssl, rs->script, (int)rs->len) != (int)rs->len) goto out;
    while (SSL_read(ssl, buf, sizeof buf) > 0) {
    }
    rs->server_eof = !(errno == EAGAIN || errno == EWOULDBLOCK);
out:
    if (ssl) SSL_free(ssl);
    if (fd >= 0) close(fd);
    atomic_store(&rs->done, 1);
    return NULL;
}

static bool raw_server_ctx(void)
{
    if (raw_srv_ctx) return true;
    const uint8_t *p = ident.tls_cert;
    X509 *x = d2i_X509(NULL, &p, (long)ident.tls_cert_len);
    raw_srv_ctx = SSL_CTX_new(TLS_server_method());
    bool ok = x && raw_srv_ctx && SSL_CTX_use_certificate(raw_srv_ctx, x) == 1 &&
              SSL_CTX_use_PrivateKey(raw_srv_ctx, om_rsa_evp_pkey(ident.tls_key)) == 1;
    X509_free(x);
    return ok;
}

/* Our initiator against a responder that sends script after VERSIONS: the initiator closes with
 * a reason containing want; a good link opened afterwards works. */
static const char *hostile_responder_case(const uint8_t *script, size_t len, const char *want)
{
    static char why[400];
    static raw_server_t rs;
    memset(&rs, 0, sizeof rs);
    rs.script = script, rs.len = len;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sin;
    rs.lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (!raw_server_ctx() || rs.lfd < 0 || bind(rs.lfd, (struct sockaddr *)&sin, sizeof sin) ||
        listen(rs.lfd, 1) || getsockname(rs.lfd, (struct sockaddr *)&sin, &sl) ||
        pthread_create(&rs.thread, NULL, raw_server_main, &rs)) {
        if (rs.lfd >= 0) close(rs.lfd);
        return "could not start the raw server";
    }
    rs.port = ntohs(sin.sin_port);
    cli_link_t *l = n_cli < MAX_LINKS ? &cli[n_cli++] : NULL;
    if (!l) return "no link slot";
    memset(l, 0, sizeof *l);
    om_chan_callbacks_t cb = {.on_open = cli_open, .on_close = cli_close, .arg = l};
    l->chan = om_channel_connect(base, "127.0.0.1", rs.port, ident.rsa_fp, ident.ed_id.pub, &cb);
    WAIT_FOR(l->closed || l->opened, 10000);
    WAIT_FOR(atomic_load(&rs.done), 8000);
    bool closed = l->closed, opened = l->opened, eof = rs.server_eof;
    if (l->chan) om_channel_free(l->chan), l->chan = NULL;
    pthread_join(rs.thread, NULL);
    close(rs.lfd);
    snprintf(why, sizeof why, "%s", "");
    if (opened || !closed)
        snprintf(why, sizeof why, "the initiator %s", opened ? "opened" : "stayed open");
    else if (!strstr(l->reason, want))
        snprintf(why, sizeof why, "reason '%s', expected '%s'", l->reason, want);
    else if (!eof)
        snprintf(why, sizeof why, "the initiator did not drop the connection");
    if (why[0]) return why;
    cli_link_t *good = connect_link(ident.rsa_fp, ident.ed_id.pub);
    const char *w = exchange_cells(good);
    if (w[0]) snprintf(why, sizeof why, "good link afterwards: %s", w);
    close_link(good);
    return why;
}

/* The initiator's side, tor's channeltls.c: a second CERTS ("We already got one"), a second
 * AUTH_CHALLENGE ("We already received one") and NETINFO before CERTS ("Got a NETINFO cell from
 * server, but no authentication. Closing the connection.") close the link to that responder;
 * the responder's own VERSIONS, CERTS, AUTH_CHALLENGE, NETINFO (control) open it. */
static void test_hostile_responder_handshake_cells(void)
{
    CHECK(ident_ok);
    static const uint8_t v5[] = {0, 0, 7, 0, 2, 0, 5};
    static uint8_t b[8192];
    size_t n;
    const char *w;
#define SCRIPT_START() (memcpy(b, v5, sizeof v5), n = sizeof v5)
    SCRIPT_START();
    put_var(b, &n, om_identity_certs_cell(&ident));
    put_var(b, &n, om_identity_certs_cell(&ident));
    put_var(b, &n, auth_challenge());
    put_netinfo(b, &n);
    w = hostile_responder_case(b, n, "CERTS: unexpected in state");
    CHECK_MSG(!w[0], "CERTS twice: %s", w);
    SCRIPT_START();
    put_var(b, &n, om_identity_certs_cell(&ident));
    put_var(b, &n, auth_challenge());
    put_var(b, &n, auth_challenge());
    put_netinfo(b, &n);
    w = hostile_responder_case(b, n, "AUTH_CHALLENGE: unexpected in state");
    CHECK_MSG(!w[0], "AUTH_CHALLENGE twice: %s", w);
    SCRIPT_START();
    put_netinfo(b, &n);
    put_var(b, &n, om_identity_certs_cell(&ident));
    w = hostile_responder_case(b, n, "NETINFO before CERTS");
    CHECK_MSG(!w[0], "NETINFO before CERTS: %s", w);
    /* control: the proper sequence opens (the raw server then sees our NETINFO, not EOF) */
    SCRIPT_START();
    put_var(b, &n, om_identity_certs_cell(&ident));
    put_var(b, &n, auth_challenge());
    put_netinfo(b, &n);
    w = hostile_responder_case(b, n, "-");
    CHECK_MSG(strstr(w, "the initiator opened") != NULL, "the proper sequence: %s", w);
#undef SCRIPT_START
}

/* ---------------------------------------------------------------- tests: handshake timeout */

/* The real timeout is OM_CHAN_HANDSHAKE_TIMEOUT_S (30 s). The channel's timer is armed while
 * the handshake runs; here it is re-armed to fire after 200 ms so the test does not wait 30 s. */
static void timeout_case(bool tls, om_chan_state_t want_state, const char *want_reason)
{
    cli_link_t *good = connect_link(ident.rsa_fp, ident.ed_id.pub);
    CHECK(good && good->opened && good->peer && good->peer->opened);
    memset(&rc, 0, sizeof rc);
    rc.tls = tls;
    rc.hold_ms = 8000; /* says nothing; waits for the server to give up */
    CHECK(raw_client_start(&rc) == 0);
    WAIT_FOR(atomic_load(&rc.connected) && SRV_OF(&rc), 5000);
    srv_link_t *s = atomic_load(&rc.connected) ? SRV_OF(&rc) : NULL;
    if (s && tls) WAIT_FOR(s->closed || (s->chan && s->chan->state == want_state), 5000);
    bool armed = false, right_state = false;
    if (s && s->chan) {
        right_state = s->chan->state == want_state;
        armed = event_pending(s->chan->timeout_ev, EV_TIMEOUT, NULL);
        struct timeval tv = {0, 200000};
        event_add(s->chan->timeout_ev, &tv);
        WAIT_FOR(s->closed, 3000);
    }
    raw_client_finish(&rc, 10000);
    CHECK(s);
    CHECK_MSG(right_state, "hostile link not in state %s", om_chan_state_name(want_state));
    CHECK_MSG(armed, "no handshake timer armed in state %s", om_chan_state_name(want_state));
    CHECK_MSG(s->closed && strstr(s->reason, "handshake timed out") &&
                  strstr(s->reason, want_reason),
              "closed %d, reason '%s'", s->closed, s->reason);
    CHECK_MSG(rc.server_closed, "the responder did not drop the silent connection");
    CHECK_MSG(!good->closed && !good->peer->closed, "good link closed");
    /* An open link ignores its timer, even if it fires. */
    struct timeval tv = {0, 1000};
    event_add(good->chan->timeout_ev, &tv);
    event_add(good->peer->chan->timeout_ev, &tv);
    spin(50);
    CHECK_MSG(!good->closed && !good->peer->closed,
              "an open link closed on its timer: %.150s / %.150s", good->reason,
              good->peer->reason);
    const char *why = exchange_cells(good);
    CHECK_MSG(!why[0], "%s", why);
    close_link(good);
}

static void test_handshake_timeout_after_tls(void)
{
    CHECK(ident_ok);
    timeout_case(true, OM_CHAN_WAIT_VERSIONS, "waiting for VERSIONS");
}

static void test_handshake_timeout_before_tls(void)
{
    CHECK(ident_ok);
    timeout_case(false, OM_CHAN_CONNECTING, "connecting");
}

/* ---------------------------------------------------------------- main */

static void close_everything(void)
{
    for (int i = 0; i < n_cli; i++)
        if (cli[i].chan) {
            om_channel_free(cli[i].chan);
            cli[i].chan = NULL;
        }
    int n = atomic_load(&n_srv);
    for (int i = 0; i < n; i++)
        if (srv[i].chan) {
            om_channel_t *c = srv[i].chan;
            srv[i].chan = NULL;
            om_channel_free(c);
        }
    for (int i = 0; i < 10; i++)
        spin(5);
}

static const om_test_t tests[] = {
    OM_TEST(test_link_opens_proto5_identity_verified),
    OM_TEST(test_link_without_expected_identity),
    OM_TEST(test_wrong_rsa_fingerprint_closes),
    OM_TEST(test_wrong_ed25519_identity_closes),
    OM_TEST(test_connect_refused),
    OM_TEST(test_create_fast_reaches_responder),
    OM_TEST(test_link_close_closes_circuits),
    OM_TEST(test_cells_sent_before_close_are_delivered),
    OM_TEST(test_circ_id_high_bit_on_open_links),
    OM_TEST(test_circ_id_rules_unconnected),
    OM_TEST(test_send_before_open_refused),
    OM_TEST(test_hostile_garbage_instead_of_versions),
    OM_TEST(test_hostile_versions_without_common_version),
    OM_TEST(test_hostile_malformed_versions),
    OM_TEST(test_hostile_var_cell_before_versions),
    OM_TEST(test_hostile_fixed_cell_first),
    OM_TEST(test_hostile_truncated_then_eof),
    OM_TEST(test_hostile_garbage_after_versions),
    OM_TEST(test_hostile_not_tls),
    OM_TEST(test_raw_client_handshake_opens),
    OM_TEST(test_vpadding_before_versions_allowed),
    OM_TEST(test_authorize_before_versions_allowed),
    OM_TEST(test_hostile_huge_var_length_then_eof),
    OM_TEST(test_hostile_initiator_handshake_cells),
    OM_TEST(test_hostile_responder_handshake_cells),
    OM_TEST(test_handshake_timeout_after_tls),
    OM_TEST(test_handshake_timeout_before_tls),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    if (!getenv("OM_LOG"))
        om_log_set_level(OM_LOG_WARN); /* the hostile tests close links on purpose */
    base = event_base_new();
    raw_ctx = SSL_CTX_new(TLS_client_method());
    if (raw_ctx) {
        SSL_CTX_set_min_proto_version(raw_ctx, TLS1_2_VERSION);
        SSL_CTX_set_verify(raw_ctx, SSL_VERIFY_NONE, NULL);
    }
    if (base && raw_ctx && om_identity_generate(&ident) == 0) {
        tls_ctx = om_tls_server_ctx_new(ident.tls_cert, ident.tls_cert_len,
                                        om_rsa_evp_pkey(ident.tls_key));
        listener = tls_ctx ? om_test_listen_loopback(base, on_accept, NULL, &listen_port) : NULL;
        if (listener) {
            ident_ok = 1;
        } else {
            fprintf(stderr, "# could not set up the TLS listener\n");
        }
    }
    int r = om_test_main("channel", tests, argc, argv);
    close_everything();
    if (listener) evconnlistener_free(listener);
    om_tls_server_ctx_free(tls_ctx);
    if (ident_ok) om_identity_free(&ident);
    SSL_CTX_free(raw_ctx);
    SSL_CTX_free(raw_srv_ctx);
    if (base) event_base_free(base);
    return r;
}
