/* transport_tls.c — the TLS transport for links (tor-spec 2): OpenSSL driven by our own glue over
 * one libevent socket bufferevent. Tor authenticates peers in-protocol (CERTS cells), so TLS
 * itself verifies nothing; this file only reports certificate digests and exports keying
 * material.
 *
 * Design: the socket bufferevent (`under`) does the I/O (rate-limit group, up to TLS_READ_MAX
 * per read, write watermarks). The SSL object's BIO is a small BIO_METHOD that reads ciphertext
 * straight out of under's input evbuffer and appends ciphertext to under's output evbuffer (one
 * copy each way; a memory-BIO pair would add one more). Around it:
 *  - reading: every record already received is decrypted in one batch, with SSL_read_ex into
 *    space reserved in the plaintext input evbuffer (up to TLS_IN_CHUNK per reservation, many
 *    records per reservation), the error queue checked once per batch, then read_cb once.
 *  - writing: the channel appends cells to a plaintext output evbuffer. Whole 16 KiB records are
 *    encrypted as soon as 16 KiB are queued (so om_channel_outbuf_len stays small unless the
 *    socket is really backlogged, as the relay scheduler expects); the rest is encrypted once per
 *    loop turn by an event made active when output is added. Encryption stops while under's
 *    output holds TLS_UNDER_HIGH_WATER bytes and resumes when it drains below the low mark.
 *  - SSL_MODE_RELEASE_BUFFERS stays: an idle link holds no record buffers (~17 KB each way
 *    otherwise). Freeing them once per batch with SSL_free_buffers instead measured no better
 *    (middle relay 4.97 vs 4.87 CPU-s/GB, within noise), nor did read_ahead.
 * This replaces libevent's bufferevent_openssl filter, which called ERR_clear_error around every
 * SSL call, read plaintext 4 KiB per SSL_read and wrote one record per cell-sized chain. */
#include "core/transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/crypto.h"
#include "core/log.h"

/* Plaintext output at or below this many bytes calls the drain callback (the writer, i.e. the
 * channel and the relay scheduler, may queue more). */
#define TLS_OUT_LOW_WATER (32 * 1024)
/* Ciphertext the socket may have queued before we stop encrypting, so a backlogged link shows
 * in om_channel_outbuf_len and the relay's scheduler (src/or/or_sched.c) decides which circuit's
 * cells go next. Encryption resumes below the low mark. */
#define TLS_UNDER_LOW_WATER  (64 * 1024)
#define TLS_UNDER_HIGH_WATER (256 * 1024)
/* Bytes the socket bufferevent reads per event-loop turn (libevent's default is 16 KiB). */
#define TLS_READ_MAX (128 * 1024)
/* Largest TLS record plaintext: one SSL_write each. */
#define TLS_RECORD (16 * 1024)
/* Plaintext space reserved per batch of SSL_read calls (less than 64 KiB so that libevent's
 * chain, with its header, is one 64 KiB allocation). */
#define TLS_IN_CHUNK (64 * 1024 - 256)

#define TLS_LINGER_SECONDS 10

typedef struct {
    om_transport_t base;
    struct bufferevent *under; /* the socket */
    SSL *ssl;                  /* its BIO is tls_bio_method() over under's buffers */
    struct evbuffer *in;       /* plaintext for read_cb */
    struct evbuffer *out;      /* plaintext from the channel, to encrypt */
    struct event *kick;        /* active: encrypt queued output, resume reading */
    int kicked;                /* kick is active */
    int connected;             /* TLS handshake done */
    int reading;               /* set_reading */
    int dead;                  /* EOF or error reported: no more I/O */
    int failed;                /* an error, not EOF: nothing more can be sent either */
    int eof_pending;           /* the socket hit EOF while reading was off */
    int out_drained;           /* output drained since the last drain_cb */
    int busy;                  /* inside one of our libevent callbacks */
    int free_pending;          /* free was called while busy */
    char error[300];           /* an error found where it cannot be reported; reported by kick */
    struct event *linger;      /* lingering close: the deadline */
} tls_transport_t;

struct om_tls_server_ctx {
    SSL_CTX *ctx;
};

/* Process-wide, immutable once made (pthread_once): the client SSL_CTX every instance's
 * outbound links share, and the BIO method. No other state is shared between instances. */
static SSL_CTX *client_ctx;
static BIO_METHOD *bio_method;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

/* ---------------------------------------------------------------- the BIO */

static int tls_bio_write(BIO *b, const char *data, int len)
{
    tls_transport_t *tt = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len <= 0) return 0;
    if (evbuffer_add(bufferevent_get_output(tt->under), data, (size_t)len) < 0) return -1;
    return len;
}

static int tls_bio_read(BIO *b, char *data, int len)
{
    tls_transport_t *tt = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len <= 0) return 0;
    /* Never EOF here: the socket's EOF is reported by under's event callback once every record
     * already received has been read (so a peer may close without close_notify). */
    int n = evbuffer_remove(bufferevent_get_input(tt->under), data, (size_t)len);
    if (n <= 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    return n;
}

static int tls_bio_puts(BIO *b, const char *s)
{
    return tls_bio_write(b, s, (int)strlen(s));
}

static long tls_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    tls_transport_t *tt = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_PENDING:
        return tt ? (long)evbuffer_get_length(bufferevent_get_input(tt->under)) : 0;
    case BIO_CTRL_WPENDING:
        return 0;
    default:
        return 0;
    }
}

static int tls_bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void tls_init_once(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "onionmesh evbuffer");
    if (m) {
        BIO_meth_set_write(m, tls_bio_write);
        BIO_meth_set_read(m, tls_bio_read);
        BIO_meth_set_puts(m, tls_bio_puts);
        BIO_meth_set_ctrl(m, tls_bio_ctrl);
        BIO_meth_set_create(m, tls_bio_create);
        bio_method = m;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx) {
        /* tor-spec 2: TLS 1.2 or later; tor 0.4.9 negotiates TLS 1.3. */
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
        client_ctx = ctx;
    }
}

static BIO_METHOD *tls_bio_method(void)
{
    pthread_once(&tls_once, tls_init_once);
    return bio_method;
}

/* ---------------------------------------------------------------- the ops */

static struct evbuffer *tls_output(om_transport_t *t)
{
    return ((tls_transport_t *)t)->out;
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

static void kick(tls_transport_t *tt)
{
    if (tt->kicked || !tt->kick) return;
    tt->kicked = 1;
    event_active(tt->kick, EV_TIMEOUT, 1);
}

static void tls_set_reading(om_transport_t *t, int enabled)
{
    tls_transport_t *tt = (tls_transport_t *)t;
    tt->reading = enabled != 0;
    if (tt->dead) return;
    if (enabled) {
        bufferevent_enable(tt->under, EV_READ);
        /* Records (or plaintext, or an EOF) that arrived while reading was off: from the loop,
         * not from inside the caller. */
        kick(tt);
    } else {
        bufferevent_disable(tt->under, EV_READ);
    }
}

static int tls_set_rate_limit_group(om_transport_t *t, struct bufferevent_rate_limit_group *g)
{
    /* The socket: the limit counts bytes on the wire. NULL: leave it. */
    tls_transport_t *tt = (tls_transport_t *)t;
    if (!g) return bufferevent_remove_from_rate_limit_group(tt->under);
    return bufferevent_add_to_rate_limit_group(tt->under, g);
}

static size_t tls_buffered(om_transport_t *t)
{
    tls_transport_t *tt = (tls_transport_t *)t;
    return evbuffer_get_length(tt->in) + evbuffer_get_length(tt->out) +
           evbuffer_get_length(bufferevent_get_input(tt->under)) +
           evbuffer_get_length(bufferevent_get_output(tt->under));
}

/* Nothing queued is sent any more, and the close that follows does not linger. */
static void tls_discard_output(om_transport_t *t)
{
    tls_transport_t *tt = (tls_transport_t *)t;
    evbuffer_drain(tt->out, evbuffer_get_length(tt->out));
    struct evbuffer *uout = bufferevent_get_output(tt->under);
    evbuffer_drain(uout, evbuffer_get_length(uout));
    evbuffer_drain(tt->in, evbuffer_get_length(tt->in));
    tt->failed = 1; /* tls_close frees at once */
}

/* ---------------------------------------------------------------- errors and events */

/* SSL_get_error needs an empty error queue. ERR_clear_error walks all 16 slots of the queue
 * (1.2% of a middle relay's CPU even once per batch); peeking first is much cheaper and the
 * queue is nearly always empty. */
static void clear_errors(void)
{
    if (ERR_peek_error()) ERR_clear_error();
}

/* The first OpenSSL error queued, else the socket's errno. */
static void describe_error(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();
    if (e) {
        char ebuf[256];
        ERR_error_string_n(e, ebuf, sizeof ebuf);
        snprintf(buf, len, "TLS error: %s", ebuf);
    } else {
        int err = EVUTIL_SOCKET_ERROR();
        snprintf(buf, len, "%s", err ? evutil_socket_error_to_string(err) : "connection closed");
    }
}

/* Report EOF or an error once; no I/O afterwards. */
static void report(tls_transport_t *tt, int ev, const char *why)
{
    if (tt->dead) return;
    tt->dead = 1;
    tt->failed = ev == OM_TRANSPORT_ERROR;
    bufferevent_disable(tt->under, EV_READ);
    if (tt->base.event_cb) tt->base.event_cb(&tt->base, ev, why, tt->base.cb_arg);
}

static void report_tls_error(tls_transport_t *tt)
{
    char why[300];
    describe_error(why, sizeof why);
    report(tt, OM_TRANSPORT_ERROR, why);
}

/* Encrypt queued output, a record of up to TLS_RECORD bytes per SSL_write, while at least
 * min_len bytes are queued and (unless all) the socket's output is below the high mark. An
 * error is kept in tt->error (the caller may be the channel, inside a send). */
static void encrypt_output(tls_transport_t *tt, size_t min_len, int all)
{
    struct evbuffer *uout = bufferevent_get_output(tt->under);
    int cleared = 0;
    for (;;) {
        size_t len = evbuffer_get_length(tt->out);
        if (len == 0 || len < min_len || tt->error[0]) break;
        if (!all && evbuffer_get_length(uout) >= TLS_UNDER_HIGH_WATER) break;
        size_t n = len < TLS_RECORD ? len : TLS_RECORD;
        struct evbuffer_iovec v;
        unsigned char tmp[TLS_RECORD];
        const void *p = tmp;
        if (evbuffer_peek(tt->out, (ev_ssize_t)n, NULL, &v, 1) >= 1 && v.iov_len >= n)
            p = v.iov_base;
        else
            evbuffer_copyout(tt->out, tmp, n);
        if (!cleared) {
            clear_errors();
            cleared = 1;
        }
        size_t w = 0;
        if (SSL_write_ex(tt->ssl, p, n, &w) != 1 || w == 0) {
            describe_error(tt->error, sizeof tt->error);
            kick(tt);
            break;
        }
        evbuffer_drain(tt->out, w);
        tt->out_drained = 1;
    }
}

/* The channel added output: whole records go now, the rest once per loop turn (kick). */
static void out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    tls_transport_t *tt = arg;
    if (!info->n_added || !tt->connected || tt->dead) return;
    if (evbuffer_get_length(buf) >= TLS_RECORD) encrypt_output(tt, TLS_RECORD, 0);
    if (evbuffer_get_length(buf) || tt->out_drained) kick(tt); /* and drain_cb from there */
}

/* Encrypt what the socket takes; tell the writer when output is low. */
static void flush_output(tls_transport_t *tt)
{
    if (!tt->connected || tt->dead) return;
    encrypt_output(tt, 1, 0);
    if (tt->error[0]) {
        char why[300];
        memcpy(why, tt->error, sizeof why);
        report(tt, OM_TRANSPORT_ERROR, why);
        return;
    }
    if (tt->out_drained && evbuffer_get_length(tt->out) <= TLS_OUT_LOW_WATER) {
        tt->out_drained = 0;
        if (tt->base.drain_cb) tt->base.drain_cb(&tt->base, tt->base.cb_arg);
    }
}

/* Decrypt every record received so far into tt->in, then hand it to read_cb. */
static void process_input(tls_transport_t *tt)
{
    if (!tt->connected || tt->dead || !tt->reading || tt->free_pending) return;
    struct evbuffer *uin = bufferevent_get_input(tt->under);
    int err = 0;
    clear_errors();
    for (;;) {
        /* Room for what may be decrypted: at most the ciphertext, plus a record OpenSSL holds. */
        size_t want = evbuffer_get_length(uin) + (SSL_has_pending(tt->ssl) ? TLS_RECORD : 0);
        if (want == 0) break;
        if (want > TLS_IN_CHUNK) want = TLS_IN_CHUNK;
        struct evbuffer_iovec v;
        if (evbuffer_reserve_space(tt->in, (ev_ssize_t)want, &v, 1) != 1) {
            err = -1;
            break;
        }
        size_t filled = 0;
        while (filled < v.iov_len) {
            size_t n = 0;
            if (SSL_read_ex(tt->ssl, (char *)v.iov_base + filled, v.iov_len - filled, &n) == 1) {
                filled += n;
                continue;
            }
            err = SSL_get_error(tt->ssl, 0);
            break;
        }
        v.iov_len = filled;
        evbuffer_commit_space(tt->in, &v, 1);
        if (err) break;
    }
    if (evbuffer_get_length(tt->in) && tt->base.read_cb)
        tt->base.read_cb(&tt->base, tt->in, tt->base.cb_arg);
    if (err == 0 || err == SSL_ERROR_WANT_READ || tt->dead || tt->free_pending) return;
    if (err == SSL_ERROR_ZERO_RETURN)
        report(tt, OM_TRANSPORT_EOF, "connection closed by peer");
    else if (err == -1)
        report(tt, OM_TRANSPORT_ERROR, "out of memory");
    else
        report_tls_error(tt);
}

static void handshake(tls_transport_t *tt)
{
    clear_errors();
    int r = SSL_do_handshake(tt->ssl);
    if (r != 1) {
        int e = SSL_get_error(tt->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
        report_tls_error(tt);
        return;
    }
    tt->connected = 1;
    om_debug("TLS to %s up (%s, %s)", om_safe_str(tt->base.peer), SSL_get_version(tt->ssl),
             SSL_get_cipher_name(tt->ssl));
    if (tt->base.event_cb)
        tt->base.event_cb(&tt->base, OM_TRANSPORT_CONNECTED, "connected", tt->base.cb_arg);
    /* Records that came with the handshake's last flight; output queued meanwhile. */
    process_input(tt);
    flush_output(tt);
}

static void tls_close(tls_transport_t *tt);

/* Every libevent callback of ours ends here: a free requested meanwhile happens now. */
static void leave(tls_transport_t *tt)
{
    if (--tt->busy == 0 && tt->free_pending) tls_close(tt);
}

static void under_read_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    tls_transport_t *tt = arg;
    tt->busy++;
    if (!tt->connected)
        handshake(tt);
    else
        process_input(tt);
    flush_output(tt);
    leave(tt);
}

/* The socket's output fell below TLS_UNDER_LOW_WATER. */
static void under_write_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    tls_transport_t *tt = arg;
    tt->busy++;
    if (evbuffer_get_length(tt->out)) flush_output(tt);
    leave(tt);
}

static void under_event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    tls_transport_t *tt = arg;
    tt->busy++;
    if (what & BEV_EVENT_CONNECTED) {
        handshake(tt); /* the client's first flight */
    } else if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
        if (tt->connected && !tt->reading) {
            tt->eof_pending = 1; /* reported when reading resumes */
        } else {
            process_input(tt); /* records before the close: the peer may skip close_notify */
            report(tt, OM_TRANSPORT_EOF, "connection closed by peer");
        }
    } else {
        char why[300];
        int err = EVUTIL_SOCKET_ERROR(); /* a socket error: OpenSSL's queue is not about it */
        if (what & BEV_EVENT_TIMEOUT)
            snprintf(why, sizeof why, "timeout");
        else
            snprintf(why, sizeof why, "%s",
                     err ? evutil_socket_error_to_string(err) : "connection closed");
        report(tt, OM_TRANSPORT_ERROR, why);
    }
    leave(tt);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    tls_transport_t *tt = arg;
    tt->kicked = 0;
    tt->busy++;
    if (tt->error[0]) {
        char why[300];
        memcpy(why, tt->error, sizeof why);
        report(tt, OM_TRANSPORT_ERROR, why);
    }
    if (tt->reading) {
        process_input(tt);
        if (tt->eof_pending && tt->reading && !tt->free_pending)
            report(tt, OM_TRANSPORT_EOF, "connection closed by peer");
    }
    flush_output(tt);
    leave(tt);
}

/* ---------------------------------------------------------------- closing */

static void tls_free_now(tls_transport_t *tt)
{
    if (tt->linger) event_free(tt->linger);
    if (tt->kick) event_free(tt->kick);
    if (tt->under) {
        bufferevent_setcb(tt->under, NULL, NULL, NULL, NULL);
        bufferevent_free(tt->under); /* closes the socket */
    }
    SSL_free(tt->ssl); /* and its BIO */
    if (tt->out) evbuffer_free(tt->out);
    if (tt->in) evbuffer_free(tt->in);
    free(tt);
}

static void linger_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    tls_free_now(arg); /* the deadline: give up on the rest */
}

static void linger_write_cb(struct bufferevent *bev, void *arg)
{
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) tls_free_now(arg);
}

static void linger_event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    (void)what;
    tls_free_now(arg); /* error or EOF: give up on the rest */
}

/* Lingering close: cells queued before the close (a DESTROY, an END) still reach the peer,
 * followed by close_notify; the socket closes when its output is flushed (or at the deadline). */
static void tls_close(tls_transport_t *tt)
{
    if (tt->kick) event_del(tt->kick);
    bufferevent_disable(tt->under, EV_READ);
    if (!tt->connected || tt->failed) {
        tls_free_now(tt);
        return;
    }
    evbuffer_remove_cb(tt->out, out_cb, tt);
    tt->error[0] = 0;
    size_t unsent =
        evbuffer_get_length(tt->out) + evbuffer_get_length(bufferevent_get_output(tt->under));
    encrypt_output(tt, 1, 1);
    clear_errors();
    SSL_shutdown(tt->ssl); /* close_notify; we do not wait for the peer's */
    if (unsent == 0 || tt->error[0]) {
        tls_free_now(tt);
        return;
    }
    struct timeval tv = {TLS_LINGER_SECONDS, 0};
    tt->linger = evtimer_new(bufferevent_get_base(tt->under), linger_timeout_cb, tt);
    if (!tt->linger || event_add(tt->linger, &tv) < 0) {
        tls_free_now(tt);
        return;
    }
    bufferevent_setwatermark(tt->under, EV_WRITE, 0, 0);
    bufferevent_setcb(tt->under, NULL, linger_write_cb, linger_event_cb, tt);
    bufferevent_enable(tt->under, EV_WRITE);
}

static void tls_free(om_transport_t *t)
{
    tls_transport_t *tt = (tls_transport_t *)t;
    if (!tt) return;
    tt->base.read_cb = NULL;
    tt->base.event_cb = NULL;
    tt->base.drain_cb = NULL;
    tt->reading = 0;
    /* Leave any rate-limit group now: its owner may free it before a lingering close ends (or
     * before libevent finalizes a freed bufferevent). */
    if (tt->under) bufferevent_remove_from_rate_limit_group(tt->under);
    if (tt->busy) {
        tt->free_pending = 1; /* in one of our callbacks: close when it returns */
        return;
    }
    tls_close(tt);
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
    .buffered = tls_buffered,
    .discard_output = tls_discard_output,
    .free = tls_free,
};

/* ---------------------------------------------------------------- setup */

/* Cells are small and latency matters (handshakes are several round trips): no Nagle. */
static void set_nodelay(evutil_socket_t fd)
{
    int one = 1;
    if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* A transport over a socket bufferevent (fd -1: to be connected); takes ssl. */
static tls_transport_t *tls_new(struct event_base *base, evutil_socket_t fd, SSL *ssl,
                                const char *peer)
{
    tls_transport_t *tt = calloc(1, sizeof *tt);
    BIO *bio = NULL;
    BIO_METHOD *m = tls_bio_method();
    if (!tt || !m) goto fail;
    tt->base.ops = &tls_ops;
    tt->ssl = ssl;
    tt->reading = 1;
    snprintf(tt->base.peer, sizeof tt->base.peer, "%s", peer);
    tt->under = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    tt->in = evbuffer_new();
    tt->out = evbuffer_new();
    tt->kick = event_new(base, -1, 0, kick_cb, tt);
    bio = BIO_new(m);
    if (!tt->under || !tt->in || !tt->out || !tt->kick || !bio) goto fail;
    BIO_set_data(bio, tt);
    SSL_set_bio(ssl, bio, bio);
    bio = NULL;
    bufferevent_set_max_single_read(tt->under, TLS_READ_MAX);
    bufferevent_setwatermark(tt->under, EV_WRITE, TLS_UNDER_LOW_WATER, TLS_UNDER_HIGH_WATER);
    bufferevent_setcb(tt->under, under_read_cb, under_write_cb, under_event_cb, tt);
    evbuffer_add_cb(tt->out, out_cb, tt);
    bufferevent_enable(tt->under, EV_READ | EV_WRITE);
    return tt;
fail:
    BIO_free(bio);
    if (tt) {
        tt->ssl = ssl;
        tls_free_now(tt);
    } else {
        SSL_free(ssl);
    }
    return NULL;
}

static SSL_CTX *get_client_ctx(void)
{
    pthread_once(&tls_once, tls_init_once);
    return client_ctx;
}

static om_transport_t *tls_connect(struct event_base *base, const char *host, uint16_t port,
                                   bool nodelay)
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
    SSL_set_connect_state(ssl);
    char peer[64];
    snprintf(peer, sizeof peer, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
    tls_transport_t *tt = tls_new(base, -1, ssl, peer);
    if (!tt) return NULL;
    if (bufferevent_socket_connect(tt->under, (struct sockaddr *)&ss, (int)sslen) < 0) {
        om_warn("TLS connect to %s failed at once", om_safe_str(peer));
        tls_free_now(tt);
        return NULL;
    }
    if (nodelay) set_nodelay(bufferevent_getfd(tt->under));
    return &tt->base;
}

om_transport_t *om_tls_connect(struct event_base *base, const char *host, uint16_t port)
{
    return tls_connect(base, host, port, true);
}

om_transport_t *om_tls_connect_nagle(struct event_base *base, const char *host, uint16_t port)
{
    return tls_connect(base, host, port, false);
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
    SSL_set_accept_state(ssl);
    set_nodelay(fd);
    tls_transport_t *tt = tls_new(base, fd, ssl, peer_desc ? peer_desc : "?");
    return tt ? &tt->base : NULL;
}
