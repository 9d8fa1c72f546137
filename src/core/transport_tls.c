/* transport_tls.c — the TLS transport for links (tor-spec 2): OpenSSL over libevent's
 * bufferevent_openssl, as a filter over a socket bufferevent. Tor authenticates peers
 * in-protocol (CERTS cells), so TLS itself verifies nothing; this file only reports certificate
 * digests and exports keying material.
 *
 * Why a filter: a socket-based bufferevent_openssl reads one TLS record per event-loop turn (tor
 * relays send ~4 KB records: 8 cells), two read() calls each. Over a socket bufferevent that
 * reads up to TLS_READ_MAX per turn, the filter decrypts every record already received, so the
 * channel sees many cells per callback: fewer system calls and wake-ups per byte, and SENDMEs
 * go out sooner (the exit's congestion control measures that delay as RTT). */
#include "core/transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/crypto.h"
#include "core/log.h"

/* Output above this many bytes stops the writer (channel) from queuing more; below the low
 * mark the drain callback resumes it. */
#define TLS_OUT_LOW_WATER    (32 * 1024)
#define TLS_UNDER_LOW_WATER  (64 * 1024)
#define TLS_UNDER_HIGH_WATER (256 * 1024)
/* Bytes the socket bufferevent reads per event-loop turn (libevent's default is 16 KiB). */
#define TLS_READ_MAX (128 * 1024)

typedef struct {
    om_transport_t base;
    struct bufferevent *bev;   /* the TLS filter */
    struct bufferevent *under; /* the socket below it (freed with bev) */
    SSL *ssl;
    int connected;
    int linger_polls_left; /* lingering close gives up when this reaches 0 */
    struct event *linger;  /* lingering close: polls until the socket's output is flushed */
} tls_transport_t;

struct om_tls_server_ctx {
    SSL_CTX *ctx;
};

static SSL_CTX *client_ctx;

/* A socket bufferevent (fd -1: to be connected) with the TLS filter on top, in state. */
static struct bufferevent *tls_bev_new(struct event_base *base, evutil_socket_t fd, SSL *ssl,
                                       enum bufferevent_ssl_state state,
                                       struct bufferevent **under_out)
{
    struct bufferevent *under = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!under) return NULL;
    bufferevent_set_max_single_read(under, TLS_READ_MAX);
    struct bufferevent *bev = bufferevent_openssl_filter_new(
        base, under, ssl, state, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (!bev) {
        bufferevent_free(under);
        return NULL;
    }
    /* Bytes the socket may have queued before the TLS layer keeps further output in its own
     * buffer: so a backlogged link shows in om_channel_outbuf_len and the relay's scheduler
     * (src/or/or_sched.c) decides which circuit's cells go next. Resumes below the low mark. */
    bufferevent_setwatermark(under, EV_WRITE, TLS_UNDER_LOW_WATER, TLS_UNDER_HIGH_WATER);
    *under_out = under;
    return bev;
}

static struct evbuffer *tls_output(om_transport_t *t)
{
    return bufferevent_get_output(((tls_transport_t *)t)->bev);
}

static int cert_sha256(X509 *x, uint8_t out[32])
{
    if (!x) return -1;
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);
    if (len <= 0) return -1;
    int r = om_sha256(der, (size_t)len, out);
    OPENSSL_free(der);
    return r;
}

static int tls_peer_cert_sha256(om_transport_t *t, uint8_t out[32])
{
    X509 *x = SSL_get1_peer_certificate(((tls_transport_t *)t)->ssl);
    int r = cert_sha256(x, out);
    X509_free(x);
    return r;
}

static int tls_own_cert_sha256(om_transport_t *t, uint8_t out[32])
{
    return cert_sha256(SSL_get_certificate(((tls_transport_t *)t)->ssl), out);
}

static int tls_export(om_transport_t *t, uint8_t *out, size_t outlen, const char *label,
                      const uint8_t *context, size_t contextlen)
{
    SSL *ssl = ((tls_transport_t *)t)->ssl;
    return SSL_export_keying_material(ssl, out, outlen, label, strlen(label), context, contextlen,
                                      context != NULL) == 1
               ? 0
               : -1;
}

static void tls_describe(om_transport_t *t, char *buf, size_t len)
{
    SSL *ssl = ((tls_transport_t *)t)->ssl;
    snprintf(buf, len, "%s %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
}

static void tls_set_reading(om_transport_t *t, int enabled)
{
    tls_transport_t *tt = (tls_transport_t *)t;
    if (enabled)
        bufferevent_enable(tt->bev, EV_READ);
    else
        bufferevent_disable(tt->bev, EV_READ);
}

static void tls_free_now(tls_transport_t *tt)
{
    if (tt->linger) event_free(tt->linger);
    if (tt->bev) {
        bufferevent_setcb(tt->bev, NULL, NULL, NULL, NULL);
        /* BEV_OPT_CLOSE_ON_FREE also frees the SSL object. */
        SSL_set_shutdown(tt->ssl, SSL_RECEIVED_SHUTDOWN);
        SSL_shutdown(tt->ssl);
        bufferevent_free(tt->bev);
    }
    free(tt);
}

/* Lingering close: cells queued before the close (a DESTROY, an END) still reach the peer —
 * through the TLS filter and then out of the socket bufferevent below it. */
static size_t tls_unsent(tls_transport_t *tt)
{
    return evbuffer_get_length(bufferevent_get_output(tt->bev)) +
           (tt->under ? evbuffer_get_length(bufferevent_get_output(tt->under)) : 0);
}

#define TLS_LINGER_SECONDS   10
#define TLS_LINGER_POLL_USEC 5000

static void linger_poll_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    tls_transport_t *tt = arg;
    if (tls_unsent(tt) == 0 || --tt->linger_polls_left <= 0) {
        tls_free_now(tt);
        return;
    }
    struct timeval tv = {0, TLS_LINGER_POLL_USEC};
    event_add(tt->linger, &tv);
}

static void linger_event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    (void)what;
    tls_free_now(arg); /* error, EOF or the write timeout: give up on the rest */
}

static void tls_free(om_transport_t *t)
{
    tls_transport_t *tt = (tls_transport_t *)t;
    if (!tt) return;
    tt->base.read_cb = NULL;
    tt->base.event_cb = NULL;
    tt->base.drain_cb = NULL;
    /* Leave any rate-limit group now: its owner may free it before a lingering close ends (or
     * before libevent finalizes a freed bufferevent). */
    if (tt->under) bufferevent_remove_from_rate_limit_group(tt->under);
    if (!tt->bev || !tt->connected || tls_unsent(tt) == 0) {
        tls_free_now(tt);
        return;
    }
    tt->linger_polls_left = TLS_LINGER_SECONDS * 1000000 / TLS_LINGER_POLL_USEC;
    struct timeval tv = {TLS_LINGER_SECONDS, 0};
    bufferevent_disable(tt->bev, EV_READ);
    bufferevent_setwatermark(tt->bev, EV_WRITE, 0, 0);
    bufferevent_setcb(tt->bev, NULL, NULL, linger_event_cb, tt);
    bufferevent_set_timeouts(tt->bev, NULL, &tv);
    bufferevent_enable(tt->bev, EV_WRITE);
    /* Poll until the filter and the socket below it have sent everything (or the deadline). */
    tt->linger = evtimer_new(bufferevent_get_base(tt->bev), linger_poll_cb, tt);
    if (!tt->linger) {
        tls_free_now(tt);
        return;
    }
    struct timeval poll = {0, TLS_LINGER_POLL_USEC};
    event_add(tt->linger, &poll);
}

static int tls_set_rate_limit_group(om_transport_t *t, struct bufferevent_rate_limit_group *g)
{
    /* The socket below the TLS filter: the limit counts bytes on the wire. NULL: leave it. */
    tls_transport_t *tt = (tls_transport_t *)t;
    if (!g) return bufferevent_remove_from_rate_limit_group(tt->under);
    return bufferevent_add_to_rate_limit_group(tt->under, g);
}

static const struct om_transport_ops tls_ops = {
    .name = "tls",
    .output = tls_output,
    .peer_cert_sha256 = tls_peer_cert_sha256,
    .own_cert_sha256 = tls_own_cert_sha256,
    .export_keying_material = tls_export,
    .describe = tls_describe,
    .set_reading = tls_set_reading,
    .set_rate_limit_group = tls_set_rate_limit_group,
    .free = tls_free,
};

static void tls_read_cb(struct bufferevent *bev, void *arg)
{
    tls_transport_t *tt = arg;
    if (tt->base.read_cb) tt->base.read_cb(&tt->base, bufferevent_get_input(bev), tt->base.cb_arg);
}

static void tls_write_cb(struct bufferevent *bev, void *arg)
{
    tls_transport_t *tt = arg;
    (void)bev;
    if (tt->base.drain_cb) tt->base.drain_cb(&tt->base, tt->base.cb_arg);
}

static void describe_error(tls_transport_t *tt, short what, char *buf, size_t len)
{
    unsigned long e = bufferevent_get_openssl_error(tt->bev);
    if (e) {
        char ebuf[256];
        ERR_error_string_n(e, ebuf, sizeof ebuf);
        snprintf(buf, len, "TLS error: %s", ebuf);
    } else if (what & BEV_EVENT_TIMEOUT) {
        snprintf(buf, len, "timeout");
    } else {
        int err = EVUTIL_SOCKET_ERROR();
        snprintf(buf, len, "%s", err ? evutil_socket_error_to_string(err) : "connection closed");
    }
}

static void tls_event_cb(struct bufferevent *bev, short what, void *arg)
{
    tls_transport_t *tt = arg;
    (void)bev;
    if (what & BEV_EVENT_CONNECTED) {
        tt->connected = 1;
        om_debug("TLS to %s up (%s, %s)", tt->base.peer, SSL_get_version(tt->ssl),
                 SSL_get_cipher_name(tt->ssl));
        if (tt->base.event_cb)
            tt->base.event_cb(&tt->base, OM_TRANSPORT_CONNECTED, "connected", tt->base.cb_arg);
        return;
    }
    char why[300];
    int ev = OM_TRANSPORT_ERROR;
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
        ev = OM_TRANSPORT_EOF;
        snprintf(why, sizeof why, "connection closed by peer");
    } else {
        describe_error(tt, what, why, sizeof why);
    }
    if (tt->base.event_cb) tt->base.event_cb(&tt->base, ev, why, tt->base.cb_arg);
}

/* Cells are small and latency matters (handshakes are several round trips): no Nagle. */
static void set_nodelay(evutil_socket_t fd)
{
    int one = 1;
    if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static tls_transport_t *tls_wrap(struct bufferevent *bev, struct bufferevent *under, SSL *ssl,
                                 const char *peer)
{
    tls_transport_t *tt = calloc(1, sizeof *tt);
    if (!tt) return NULL;
    tt->base.ops = &tls_ops;
    tt->bev = bev;
    tt->under = under;
    tt->ssl = ssl;
    snprintf(tt->base.peer, sizeof tt->base.peer, "%s", peer);
    bufferevent_setcb(bev, tls_read_cb, tls_write_cb, tls_event_cb, tt);
    bufferevent_setwatermark(bev, EV_WRITE, TLS_OUT_LOW_WATER, 0);
    /* Permit partial writes; tor relays run with large records. */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    return tt;
}

static SSL_CTX *get_client_ctx(void)
{
    if (client_ctx) return client_ctx;
    client_ctx = SSL_CTX_new(TLS_client_method());
    if (!client_ctx) return NULL;
    /* tor-spec 2: TLS 1.2 or later; tor 0.4.9 negotiates TLS 1.3. */
    SSL_CTX_set_min_proto_version(client_ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(client_ctx, SSL_MODE_RELEASE_BUFFERS);
    return client_ctx;
}

om_transport_t *om_tls_connect(struct event_base *base, const char *host, uint16_t port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sslen;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        sslen = sizeof *sin;
    } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        sslen = sizeof *sin6;
    } else {
        om_warn("TLS connect: '%s' is not a numeric address", host);
        return NULL;
    }
    SSL_CTX *ctx = get_client_ctx();
    if (!ctx) return NULL;
    SSL *ssl = SSL_new(ctx);
    if (!ssl) return NULL;
    struct bufferevent *under = NULL;
    struct bufferevent *bev = tls_bev_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, &under);
    if (!bev) {
        SSL_free(ssl);
        return NULL;
    }
    char peer[64];
    snprintf(peer, sizeof peer, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
    tls_transport_t *tt = tls_wrap(bev, under, ssl, peer);
    if (!tt) {
        bufferevent_free(bev);
        return NULL;
    }
    if (bufferevent_socket_connect(under, (struct sockaddr *)&ss, (int)sslen) < 0) {
        om_warn("TLS connect to %s failed at once", peer);
        tls_free(&tt->base);
        return NULL;
    }
    set_nodelay(bufferevent_getfd(under));
    return &tt->base;
}

om_tls_server_ctx_t *om_tls_server_ctx_new(const uint8_t *cert_der, size_t cert_len, void *evp_pkey)
{
    const unsigned char *p = cert_der;
    X509 *x = d2i_X509(NULL, &p, (long)cert_len);
    if (!x) return NULL;
    om_tls_server_ctx_t *sc = calloc(1, sizeof *sc);
    if (!sc) {
        X509_free(x);
        return NULL;
    }
    sc->ctx = SSL_CTX_new(TLS_server_method());
    if (!sc->ctx || SSL_CTX_set_min_proto_version(sc->ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_use_certificate(sc->ctx, x) != 1 ||
        SSL_CTX_use_PrivateKey(sc->ctx, (EVP_PKEY *)evp_pkey) != 1 ||
        SSL_CTX_check_private_key(sc->ctx) != 1) {
        X509_free(x);
        om_tls_server_ctx_free(sc);
        return NULL;
    }
    X509_free(x);
    SSL_CTX_set_verify(sc->ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(sc->ctx, SSL_MODE_RELEASE_BUFFERS);
    return sc;
}

void om_tls_server_ctx_free(om_tls_server_ctx_t *sc)
{
    if (!sc) return;
    SSL_CTX_free(sc->ctx);
    free(sc);
}

om_transport_t *om_tls_accept(struct event_base *base, om_tls_server_ctx_t *sc, int fd,
                              const char *peer_desc)
{
    SSL *ssl = SSL_new(sc->ctx);
    if (!ssl) return NULL;
    struct bufferevent *under = NULL;
    struct bufferevent *bev = tls_bev_new(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, &under);
    if (!bev) {
        SSL_free(ssl);
        return NULL;
    }
    set_nodelay(fd);
    tls_transport_t *tt = tls_wrap(bev, under, ssl, peer_desc ? peer_desc : "?");
    if (!tt) bufferevent_free(bev);
    return tt ? &tt->base : NULL;
}
