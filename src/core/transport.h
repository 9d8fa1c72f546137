/* transport.h — a link's byte transport, as the channel sees it: an input callback with a
 * libevent evbuffer, an output evbuffer to append cells to, and the few facts the link
 * handshake needs from the layer below (the peer's and our own certificate digests, an RFC 5705
 * keying-material exporter). TLS implements it now (transport_tls.c); WebSocket frames (the
 * bridge) implement it later. The channel never assumes a TLS socket. */
#ifndef OM_CORE_TRANSPORT_H
#define OM_CORE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bufferevent_rate_limit_group;
struct evbuffer;
struct event_base;

typedef struct om_transport om_transport_t;

enum om_transport_event {
    OM_TRANSPORT_CONNECTED = 1, /* ready: handshake of the transport (TLS) done */
    OM_TRANSPORT_EOF = 2,       /* peer closed */
    OM_TRANSPORT_ERROR = 3,     /* connect/TLS/socket error; `why` says which */
};

typedef void (*om_transport_read_cb)(om_transport_t *t, struct evbuffer *input, void *arg);
typedef void (*om_transport_event_cb)(om_transport_t *t, int event, const char *why, void *arg);
/* Called when the output buffer has drained below the low-water mark (flow control). */
typedef void (*om_transport_drain_cb)(om_transport_t *t, void *arg);

struct om_transport_ops {
    const char *name; /* "tls", "websocket" */
    /* No TLS link to the relay under this transport (WebSocket, doc/bridge.md): the peer's
     * CERTS chain is checked without matching its type 5 certificate to a TLS certificate, and
     * AUTHENTICATE cannot be made or checked (no certificate digests, no exporter). */
    bool unbound;
    struct evbuffer *(*output)(om_transport_t *t);
    /* SHA-256 of the DER certificate the peer presented / we presented; -1 if none. */
    int (*peer_cert_sha256)(om_transport_t *t, uint8_t out[32]);
    int (*own_cert_sha256)(om_transport_t *t, uint8_t out[32]);
    /* RFC 5705 exporter (tor-spec 4.4.2 uses label "EXPORTER FOR TOR TLS CLIENT BINDING AUTH0003").
     */
    int (*export_keying_material)(om_transport_t *t, uint8_t *out, size_t outlen, const char *label,
                                  const uint8_t *context, size_t contextlen);
    /* One-line description of the transport session, e.g. "TLSv1.3 TLS_AES_256_GCM_SHA384". */
    void (*describe)(om_transport_t *t, char *buf, size_t len);
    /* Stop/start reading (backpressure). */
    void (*set_reading)(om_transport_t *t, int enabled);
    /* Put the transport's socket under a libevent rate-limit group (token buckets shared by many
     * links; the group also counts their bytes); g NULL takes it out again. NULL if the
     * transport cannot. */
    int (*set_rate_limit_group)(om_transport_t *t, struct bufferevent_rate_limit_group *g);
    /* Bytes held in every buffer of the transport (plaintext and wire, both ways); NULL: the
     * output evbuffer's length is all. */
    size_t (*buffered)(om_transport_t *t);
    /* Drop every byte not yet sent (before free: no lingering close). NULL if it cannot. */
    void (*discard_output)(om_transport_t *t);
    /* Flush pending output then close; callbacks are not called after free. */
    void (*free)(om_transport_t *t);
};

struct om_transport {
    const struct om_transport_ops *ops;
    om_transport_read_cb read_cb;
    om_transport_event_cb event_cb;
    om_transport_drain_cb drain_cb;
    void *cb_arg;
    char peer[64]; /* "127.0.0.1:9001" for logs */
};

static inline void om_transport_set_callbacks(om_transport_t *t, om_transport_read_cb r,
                                              om_transport_event_cb e, om_transport_drain_cb d,
                                              void *arg)
{
    t->read_cb = r;
    t->event_cb = e;
    t->drain_cb = d;
    t->cb_arg = arg;
}

/* ---- TLS (transport_tls.c) ---- */
struct om_identity_s;
/* Connect to host:port (numeric address) and run a TLS client handshake. The CONNECTED event
 * fires when TLS is up. Certificates are not checked by TLS: tor authenticates in-protocol. */
om_transport_t *om_tls_connect(struct event_base *base, const char *host, uint16_t port);
/* The same with Nagle's algorithm left on (no TCP_NODELAY), as tor leaves it on its OR
 * connections: a client's SENDMEs then reach the exit paced as tor's client's do, which is what
 * the exit's congestion control (prop 324 Vegas) is tuned to; see om_linkmgr_tls_client_factory. */
om_transport_t *om_tls_connect_nagle(struct event_base *base, const char *host, uint16_t port);
/* A TLS server transport on an accepted socket fd, presenting the given certificate/key
 * (DER certificate, the EVP_PKEY of om_rsa_t). */
typedef struct om_tls_server_ctx om_tls_server_ctx_t;
om_tls_server_ctx_t *om_tls_server_ctx_new(const uint8_t *cert_der, size_t cert_len,
                                           void *evp_pkey);
void om_tls_server_ctx_free(om_tls_server_ctx_t *ctx);
om_transport_t *om_tls_accept(struct event_base *base, om_tls_server_ctx_t *ctx, int fd,
                              const char *peer_desc);

#endif
