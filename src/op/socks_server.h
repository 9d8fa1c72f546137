/* socks_server.h — the onion proxy's SOCKS port: a libevent listener (loopback unless told
 * otherwise) and one object per client connection that runs the SOCKS handshake (socks.h),
 * hands the complete request to the OP, sends the OP's answer, and after a successful CONNECT
 * becomes a byte pipe with backpressure. Bad input, a slow handshake or too many connections
 * close only the connection concerned.
 *
 * Lifetime of a connection handle (om_socks_conn_t *), as the OP sees it: it is valid from
 * on_request until the first of
 *   - om_socks_conn_close(), om_socks_conn_reply_error() or om_socks_conn_reply_resolved()
 *     (the server flushes what is queued for the client, then closes; no on_close follows);
 *   - on_close() returning (the client closed, a read/write error, or the server was freed).
 * Every function below may be called from inside any callback, including on the conn the
 * callback is about. */
#ifndef OM_OP_SOCKS_SERVER_H
#define OM_OP_SOCKS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "op/socks.h"

struct event_base;
struct evbuffer;

typedef struct om_socks_server om_socks_server_t;
typedef struct om_socks_conn om_socks_conn_t;

typedef struct {
    /* A complete request. Answer now or later with om_socks_conn_reply_*. For CONNECT, bytes the
     * client sent after its request (optimistic data) stay in the input buffer and are offered
     * to on_data right after on_request returns. req stays valid as om_socks_conn_request(). */
    void (*on_request)(om_socks_conn_t *conn, const om_socks_request_t *req, void *arg);
    /* CONNECT requests only: client bytes are waiting in `in` (both before and after the reply).
     * Drain what you take (evbuffer_remove / evbuffer_drain); what you leave stays there,
     * counted against the input limit (reading pauses while it is full), and is offered again
     * with the next bytes, or fetch it later with om_socks_conn_input(). */
    void (*on_data)(om_socks_conn_t *conn, struct evbuffer *in, void *arg);
    /* The connection ended without the OP closing it (client EOF, error, server freed). After
     * this returns the handle is gone. */
    void (*on_close)(om_socks_conn_t *conn, void *arg);
    /* Optional: after a successful CONNECT, the output to the client drained to at most
     * out_low_watermark bytes (a write completed). */
    void (*on_drain)(om_socks_conn_t *conn, void *arg);
    void *arg;
} om_socks_server_callbacks_t;

typedef struct {
    bool allow_non_loopback;       /* refuse a non-loopback listen address unless set */
    unsigned max_conns;            /* concurrent connections (tor's ConnLimit-like); 0: 1000 */
    unsigned handshake_timeout_ms; /* from accept to a complete request; 0: 60000 */
    unsigned linger_timeout_ms;    /* how long a closing connection may take to flush; 0: 10000 */
    size_t in_limit;               /* input bytes buffered before reading pauses; 0: 64 KiB.
                                      Before and while waiting for the reply the limit is
                                      OM_SOCKS_SERVER_HANDSHAKE_INBUF instead. */
    size_t out_low_watermark;      /* on_drain threshold; 0: 16 KiB */
    bool pass_onion;               /* hand .onion requests to on_request; if false (default) they
                                      are answered 0x04 host unreachable / 0x5B at once */
    bool prefer_no_auth;           /* tor's PreferSOCKSNoAuth */
} om_socks_server_opts_t;

/* Input buffered while the handshake runs and until the OP replies: 1 KiB + the longest message. */
#define OM_SOCKS_SERVER_HANDSHAKE_INBUF (1024 + OM_SOCKS_MAX_MSG)

/* Listen on addr (an IPv4 or IPv6 literal; NULL means 127.0.0.1) and port (0: any free port, see
 * om_socks_server_port). cb is copied. Returns NULL if addr is not a loopback address (unless
 * opts->allow_non_loopback) or the bind fails. opts may be NULL for the defaults. */
om_socks_server_t *om_socks_server_new(struct event_base *base, const char *addr, uint16_t port,
                                       const om_socks_server_callbacks_t *cb);
om_socks_server_t *om_socks_server_new_opts(struct event_base *base, const char *addr,
                                            uint16_t port, const om_socks_server_callbacks_t *cb,
                                            const om_socks_server_opts_t *opts);
/* Close the listener and every connection; on_close is called for each connection the OP holds. */
void om_socks_server_free(om_socks_server_t *srv);
uint16_t om_socks_server_port(const om_socks_server_t *srv);
/* Connections open now (all states, including ones flushing before close). */
unsigned om_socks_server_nconns(const om_socks_server_t *srv);

/* The request (valid while the handle is). */
const om_socks_request_t *om_socks_conn_request(const om_socks_conn_t *conn);
/* A pointer of the OP's own, e.g. its stream. */
void om_socks_conn_set_ctx(om_socks_conn_t *conn, void *ctx);
void *om_socks_conn_ctx(const om_socks_conn_t *conn);
/* "127.0.0.1:54321", for logs. */
const char *om_socks_conn_peer(const om_socks_conn_t *conn);

/* CONNECT succeeded: send the success reply (bound address as om_socks_reply_connect; 0/NULL for
 * zeros) and start piping. Returns 0, or -1 if the request was not a pending CONNECT. */
int om_socks_conn_reply_connected(om_socks_conn_t *conn, uint8_t bound_atyp,
                                  const uint8_t *bound_addr, uint16_t bound_port);
/* The request failed with a SOCKS5 reply code (SOCKS4 clients get 0x5B): send it and close. */
void om_socks_conn_reply_error(om_socks_conn_t *conn, uint8_t socks5_code);
/* Answer RESOLVE / RESOLVE_PTR (as om_socks_reply_resolved) and close. */
void om_socks_conn_reply_resolved(om_socks_conn_t *conn, uint8_t answer_type, const uint8_t *value,
                                  size_t value_len, uint32_t ttl);

/* Queue bytes for the client (after reply_connected). Returns 0 or -1. */
int om_socks_conn_write(om_socks_conn_t *conn, const void *data, size_t len);
/* Bytes queued for the client and not yet written to the socket. */
size_t om_socks_conn_output_len(const om_socks_conn_t *conn);
/* The client input buffer (bytes the OP left there). */
struct evbuffer *om_socks_conn_input(om_socks_conn_t *conn);
/* Pause (false) or resume (true) reading from the client. */
void om_socks_conn_set_reading(om_socks_conn_t *conn, bool on);
/* Flush what is queued, then close. No on_close follows. */
void om_socks_conn_close(om_socks_conn_t *conn);

#endif
