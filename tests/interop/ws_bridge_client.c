/* ws_bridge_client.c — the interop check's client for a WebSocket bridge (doc/bridge.md), built
 * from the engine's API: a link through om_ws_client_factory to the bridge's URL with its RSA
 * identity pinned (CERTS), a one-hop CREATE2 ntor circuit to it (its ntor key given), BEGIN_DIR
 * fetches of the microdesc consensus and of two relays' microdescriptors through it, then a
 * 3-hop circuit bridge -> MIDDLE -> EXIT (ntor) and an HTTP/1.0 GET through the exit; prints the
 * body's SHA-256 and size. URL "tls:PORT" does the same over the relay's TLS ORPort at
 * 127.0.0.1:PORT instead (the rate to compare with). Usage:
 *   om-ws-bridge-client URL BRIDGE_FP NTOR_B64 MIDDLE_FP EXIT_FP HTTP_PORT PATH */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "bridge/ws_transport.h"
#include "core/channel.h"
#include "core/circuit.h"
#include "core/crypto.h"
#include "core/dir_fetch.h"
#include "core/linkmgr.h"
#include "core/log.h"
#include "core/onion_handshake.h"
#include "dir/consensus.h"
#include "dir/microdesc.h"

static struct event_base *base;

static void wait_for(int *flag, int seconds)
{
    struct timeval tv = {0, 20000};
    for (int i = 0; i < seconds * 50 && !*flag; i++) {
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
}

typedef struct {
    int done;
    om_channel_t *chan;
    char err[300];
} link_t;

static void got_link(om_channel_t *chan, const char *err, void *arg)
{
    link_t *l = arg;
    l->done = 1;
    l->chan = chan;
    if (err) snprintf(l->err, sizeof l->err, "%s", err);
}

typedef struct {
    int done, built;
    char why[300];
} circ_t;

static void c_built(om_circuit_t *c, void *arg)
{
    (void)c;
    ((circ_t *)arg)->built = ((circ_t *)arg)->done = 1;
}

static void c_closed(om_circuit_t *c, const char *why, void *arg)
{
    (void)c;
    circ_t *x = arg;
    x->done = 1;
    snprintf(x->why, sizeof x->why, "%s", why);
}

typedef struct {
    int done, status;
    uint8_t *body;
    size_t len;
    char err[200];
} fetch_t;

static void fetched(int status, const uint8_t *body, size_t len, const char *err, void *arg)
{
    fetch_t *f = arg;
    f->done = 1;
    f->status = status;
    if (err) snprintf(f->err, sizeof f->err, "%s", err);
    if (body && len && (f->body = malloc(len + 1))) {
        memcpy(f->body, body, len);
        f->body[len] = 0;
        f->len = len;
    }
}

static int fetch(om_circuit_t *circ, const char *path, fetch_t *f)
{
    memset(f, 0, sizeof *f);
    if (om_dir_fetch(circ, path, 16 << 20, fetched, f) < 0) return -1;
    wait_for(&f->done, 60);
    if (!f->done || f->status != 200 || !f->body) {
        fprintf(stderr, "fetch %s: status %d %s\n", path, f->status, f->err);
        return -1;
    }
    return 0;
}

typedef struct {
    int ended;
    uint8_t *buf;
    size_t len, cap;
} http_t;

static void h_connected(om_stream_t *s, void *arg)
{
    (void)arg;
    const char *req = (const char *)((http_t *)arg)->buf;
    om_stream_write(s, (const uint8_t *)req, strlen(req));
    ((http_t *)arg)->len = 0;
}

static void h_data(om_stream_t *s, const uint8_t *d, size_t n, void *arg)
{
    (void)s;
    http_t *h = arg;
    if (h->len + n > h->cap) {
        h->cap = (h->len + n) * 2;
        h->buf = realloc(h->buf, h->cap);
    }
    memcpy(h->buf + h->len, d, n);
    h->len += n;
}

static void h_end(om_stream_t *s, uint8_t r, const char *why, void *arg)
{
    (void)s;
    (void)r;
    (void)why;
    ((http_t *)arg)->ended = 1;
}

static int hop(const om_consensus_t *c, const om_microdesc_t *mds, size_t n, const char *fp_hex,
               om_hop_target_t *t)
{
    uint8_t fp[20];
    if (om_hex_decode(fp_hex, 40, fp, 20) < 0) return -1;
    const om_routerstatus_t *rs = om_consensus_find(c, fp);
    if (!rs) return -1;
    memset(t, 0, sizeof *t);
    memcpy(t->rsa_fp, fp, 20);
    memcpy(t->ipv4, rs->ipv4, 4);
    t->or_port = rs->or_port;
    t->handshake_type = OM_HANDSHAKE_TYPE_NTOR;
    for (size_t i = 0; i < n; i++)
        if (!memcmp(mds[i].digest, rs->md_digest, 32)) {
            memcpy(t->ntor_key, mds[i].ntor_key, 32);
            return 0;
        }
    return -1;
}

static int run(char **argv)
{
    om_linkmgr_t *m = om_linkmgr_new(base, NULL, NULL);
    uint8_t bfp[20];
    om_hop_target_t path[3];
    memset(path, 0, sizeof path);
    if (om_hex_decode(argv[2], 40, bfp, 20) < 0 ||
        om_base64_decode(argv[3], strlen(argv[3]), path[0].ntor_key, 32) != 32) {
        fprintf(stderr, "bad fingerprint or ntor key\n");
        return 1;
    }
    link_t l = {0};
    if (!strncmp(argv[1], "tls:", 4))
        om_linkmgr_get_via(m, &om_linkmgr_tls_client_factory, "127.0.0.1",
                           (uint16_t)atoi(argv[1] + 4), bfp, NULL, got_link, &l);
    else
        om_linkmgr_get_via(m, om_ws_client_factory(), argv[1], 0, bfp, NULL, got_link, &l);
    wait_for(&l.done, 30);
    if (!l.chan) {
        fprintf(stderr, "link: %s\n", l.done ? l.err : "timeout");
        return 1;
    }
    printf("ok - link over %s: CERTS proved the pinned identity, protocol %d\n", argv[1],
           om_channel_link_proto(l.chan));
    memcpy(path[0].rsa_fp, bfp, 20);
    path[0].handshake_type = OM_HANDSHAKE_TYPE_NTOR;
    circ_t c1 = {0};
    om_circ_callbacks_t cb = {.on_built = c_built, .on_closed = c_closed, .arg = &c1};
    om_circuit_t *dirc = om_circuit_build(l.chan, path, 1, &cb);
    wait_for(&c1.done, 30);
    if (!c1.built) {
        fprintf(stderr, "one-hop circuit: %s\n", c1.why);
        return 1;
    }
    printf("ok - CREATE2 ntor to the bridge\n");
    fetch_t fc, fm;
    if (fetch(dirc, "/tor/status-vote/current/consensus-microdesc", &fc) < 0) return 1;
    char err[200];
    om_consensus_t *cons = om_consensus_parse((char *)fc.body, fc.len, err, sizeof err);
    if (!cons) {
        fprintf(stderr, "consensus: %s\n", err);
        return 1;
    }
    printf("ok - BEGIN_DIR consensus over the bridge: %zu bytes, %zu routers\n", fc.len,
           cons->n_routers);
    char mpath[300] = "/tor/micro/d/";
    for (int i = 4; i <= 5; i++) {
        uint8_t fp[20];
        const om_routerstatus_t *rs =
            om_hex_decode(argv[i], 40, fp, 20) == 0 ? om_consensus_find(cons, fp) : NULL;
        if (!rs) {
            fprintf(stderr, "relay %s not in the consensus\n", argv[i]);
            return 1;
        }
        char b64[64];
        om_base64_encode(rs->md_digest, 32, b64, sizeof b64, true);
        if (i == 5) strcat(mpath, "-");
        strcat(mpath, b64);
    }
    if (fetch(dirc, mpath, &fm) < 0) return 1;
    size_t nmd = 0;
    om_microdesc_t *mds = om_microdesc_parse_many((char *)fm.body, fm.len, &nmd, err, sizeof err);
    if (!mds || hop(cons, mds, nmd, argv[4], &path[1]) < 0 ||
        hop(cons, mds, nmd, argv[5], &path[2]) < 0) {
        fprintf(stderr, "microdescriptors: %s\n", mds ? "relay missing" : err);
        return 1;
    }
    printf("ok - BEGIN_DIR microdescriptors over the bridge (%zu)\n", nmd);
    circ_t c3 = {0};
    cb.arg = &c3;
    om_circuit_t *circ = om_circuit_build(l.chan, path, 3, &cb);
    wait_for(&c3.done, 60);
    if (!c3.built) {
        fprintf(stderr, "3-hop circuit: %s\n", c3.why);
        return 1;
    }
    printf("ok - 3-hop circuit bridge -> %.8s -> %.8s\n", argv[4], argv[5]);
    char req[600];
    snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", argv[7]);
    http_t h = {.buf = (uint8_t *)strdup(req)};
    h.cap = strlen(req) + 1;
    om_stream_callbacks_t scb = {
        .on_connected = h_connected, .on_data = h_data, .on_end = h_end, .arg = &h};
    uint64_t t0 = om_now_usec();
    if (!om_stream_begin(circ, "127.0.0.1", (uint16_t)atoi(argv[6]), 0, &scb)) return 1;
    wait_for(&h.ended, 600);
    double secs = (double)(om_now_usec() - t0) / 1e6;
    const uint8_t *b = h.buf ? (const uint8_t *)memmem(h.buf, h.len, "\r\n\r\n", 4) : NULL;
    if (!b) {
        fprintf(stderr, "no HTTP response (%zu bytes)\n", h.len);
        return 1;
    }
    b += 4;
    size_t blen = h.len - (size_t)(b - h.buf);
    uint8_t dig[32];
    char hex[65];
    om_sha256(b, blen, dig);
    om_hex_encode(dig, 32, hex);
    printf("body %zu bytes sha256 %s in %.2f s (%.1f MB/s)\n", blen, hex, secs, blen / secs / 1e6);
    free(h.buf);
    free(fc.body);
    free(fm.body);
    om_microdesc_free_array(mds, nmd);
    om_consensus_free(cons);
    om_linkmgr_free(m);
    int never = 0;
    wait_for(&never, 1); /* the link manager's deferred frees */
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: %s URL BRIDGE_FP NTOR_B64 MIDDLE_FP EXIT_FP HTTP_PORT PATH\n",
                argv[0]);
        return 2;
    }
    base = event_base_new();
    int rc = run(argv);
    event_base_free(base);
    om_ws_client_shutdown();
    return rc;
}
