/* socks_server.c — the SOCKS port: evconnlistener, per-connection bufferevent and state machine
 * (handshake -> waiting for the OP's reply -> byte pipe -> flushing before close). See
 * socks_server.h for the contract with the OP. */
#include "op/socks_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "core/crypto.h"
#include "core/log.h"

#define DEFAULT_MAX_CONNS         1000
#define DEFAULT_HANDSHAKE_MS      60000
#define DEFAULT_LINGER_MS         10000
#define DEFAULT_IN_LIMIT          (64 * 1024)
#define DEFAULT_OUT_LOW_WATERMARK (16 * 1024)
#define ACCEPT_PAUSE_MS           1000
/* Bytes of input handed to the parser at once: more than any one SOCKS message. */
#define PARSE_WINDOW 1024
_Static_assert(PARSE_WINDOW >= OM_SOCKS_MAX_MSG, "parse window holds a whole message");

enum {
    CS_HANDSHAKE,  /* running the SOCKS handshake */
    CS_WAIT_REPLY, /* request handed to the OP; waiting for its answer */
    CS_PIPE,       /* CONNECT answered: bytes flow both ways */
    CS_LINGER,     /* closing: flushing output, discarding input */
};

struct om_socks_conn {
    om_socks_server_t *srv;
    om_socks_conn_t *prev, *next;
    struct bufferevent *bev;
    struct event *timer; /* handshake deadline, then linger deadline */
    struct event *kick;  /* deferred on_data */
    int state;
    bool op_owned;       /* the OP holds this handle */
    bool reading_wanted; /* the OP's om_socks_conn_set_reading */
    bool peer_eof;
    int busy;  /* depth of our callbacks running on this conn */
    bool dead; /* free once busy drops to 0 */
    om_socks_state_t ps;
    om_socks_request_t req;
    void *ctx;
    char peer[64];
};

struct om_socks_server {
    struct event_base *base;
    struct evconnlistener *lev;
    struct event *accept_pause;
    om_socks_server_callbacks_t cb;
    om_socks_server_opts_t opts;
    om_socks_conn_t *conns;
    unsigned nconns;
    uint16_t port;
};

static void set_timer_ms(struct event *ev, unsigned ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    evtimer_add(ev, &tv);
}

/* ---- connection lifetime ---- */

static void conn_free(om_socks_conn_t *c)
{
    om_socks_server_t *srv = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    srv->nconns--;
    event_free(c->timer);
    event_free(c->kick);
    bufferevent_free(c->bev);
    om_socks_state_clear(&c->ps);
    om_memwipe(&c->req, sizeof c->req);
    free(c);
}

/* Mark for freeing; frees now unless one of our callbacks is running on c. */
static void conn_kill(om_socks_conn_t *c)
{
    if (c->dead) return;
    c->dead = true;
    c->op_owned = false;
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    evtimer_del(c->timer);
    event_del(c->kick);
    if (c->busy == 0) conn_free(c);
}

static void conn_enter(om_socks_conn_t *c)
{
    c->busy++;
}

static void conn_leave(om_socks_conn_t *c)
{
    if (--c->busy == 0 && c->dead) conn_free(c);
}

/* Stop serving: discard input, flush output (bounded by the linger timeout), then free. The OP
 * no longer holds the handle. */
static void conn_linger(om_socks_conn_t *c)
{
    if (c->dead || c->state == CS_LINGER) {
        c->op_owned = false;
        return;
    }
    c->state = CS_LINGER;
    c->op_owned = false;
    event_del(c->kick);
    struct evbuffer *in = bufferevent_get_input(c->bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        conn_kill(c);
        return;
    }
    /* Keep reading (and discarding) so the client's unread bytes do not turn our close into a
     * reset that could destroy the reply; call the write callback once the output is empty. */
    bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    bufferevent_enable(c->bev, c->peer_eof ? EV_WRITE : EV_READ | EV_WRITE);
    set_timer_ms(c->timer, c->srv->opts.linger_timeout_ms);
}

/* The connection ended by itself (EOF, error, timeout, server freed). */
static void conn_lost(om_socks_conn_t *c)
{
    if (c->op_owned) {
        c->op_owned = false;
        if (c->srv->cb.on_close) c->srv->cb.on_close(c, c->srv->cb.arg);
    }
    conn_kill(c);
}

static void send_bytes(om_socks_conn_t *c, const uint8_t *p, size_t n)
{
    if (n > 0 && bufferevent_write(c->bev, p, n) != 0)
        om_warn("socks %s: cannot queue reply", om_safe_str_client(c->peer));
}

/* ---- data path ---- */

static void deliver_data(om_socks_conn_t *c)
{
    if (!c->op_owned || c->req.command != OM_SOCKS_CMD_CONNECT || !c->srv->cb.on_data) return;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    if (evbuffer_get_length(in) == 0) return;
    c->srv->cb.on_data(c, in, c->srv->cb.arg);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
    om_socks_conn_t *c = arg;
    conn_enter(c);
    if (c->state == CS_WAIT_REPLY || c->state == CS_PIPE) deliver_data(c);
    conn_leave(c);
}

static void request_complete(om_socks_conn_t *c)
{
    om_socks_server_t *srv = c->srv;
    c->state = CS_WAIT_REPLY;
    evtimer_del(c->timer);
    om_socks_state_clear(&c->ps);
    om_debug("socks %s: SOCKS%u request, command 0x%02x", om_safe_str_client(c->peer),
             c->req.version, c->req.command);

    if (!srv->opts.pass_onion && c->req.atyp == OM_SOCKS_ATYP_HOSTNAME &&
        om_socks_host_is_onion(c->req.host)) {
        /* We do not reach onion services (yet): host unreachable, not tor's extended codes. */
        uint8_t r[OM_SOCKS_ENCODED_MAX];
        send_bytes(c, r,
                   om_socks_reply_error(r, sizeof r, c->req.version, OM_SOCKS5_HOST_UNREACHABLE));
        conn_linger(c);
        return;
    }
    c->op_owned = true;
    if (srv->cb.on_request) srv->cb.on_request(c, &c->req, srv->cb.arg);
    if (c->dead || !c->op_owned || c->state != CS_WAIT_REPLY) {
        /* Answered (or closed) inside on_request; a CONNECT answered there sees its optimistic
         * data through the kick scheduled by reply_connected. */
        return;
    }
    if (c->req.command == OM_SOCKS_CMD_CONNECT) {
        deliver_data(c);
    } else {
        struct evbuffer *in = bufferevent_get_input(c->bev);
        evbuffer_drain(in, evbuffer_get_length(in));
    }
}

static void process_handshake(om_socks_conn_t *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    for (;;) {
        size_t n = evbuffer_get_length(in);
        if (n == 0) return;
        size_t take = n < PARSE_WINDOW ? n : PARSE_WINDOW;
        const uint8_t *data = evbuffer_pullup(in, (ev_ssize_t)take);
        if (!data) {
            conn_kill(c);
            return;
        }
        uint8_t reply[OM_SOCKS_REPLY_MAX];
        size_t consumed = 0, rlen = 0;
        int r = om_socks_parse(&c->ps, data, take, &consumed, &c->req, reply, &rlen);
        if (consumed) evbuffer_drain(in, consumed);
        send_bytes(c, reply, rlen);
        if (r == OM_SOCKS_NEED_MORE) return;
        if (r == OM_SOCKS_STEP) continue;
        if (r == OM_SOCKS_DONE) {
            request_complete(c);
            return;
        }
        om_log_protocol("socks %s: refused: %s", om_safe_str_client(c->peer), om_socks_err_name(r));
        conn_linger(c);
        return;
    }
}

/* ---- bufferevent callbacks ---- */

static void read_cb(struct bufferevent *bev, void *arg)
{
    om_socks_conn_t *c = arg;
    conn_enter(c);
    struct evbuffer *in = bufferevent_get_input(bev);
    switch (c->state) {
    case CS_HANDSHAKE:
        process_handshake(c);
        break;
    case CS_WAIT_REPLY:
    case CS_PIPE:
        if (c->req.command == OM_SOCKS_CMD_CONNECT)
            deliver_data(c);
        else
            evbuffer_drain(in, evbuffer_get_length(in)); /* nothing follows a RESOLVE */
        break;
    default:
        evbuffer_drain(in, evbuffer_get_length(in));
        break;
    }
    conn_leave(c);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    om_socks_conn_t *c = arg;
    conn_enter(c);
    if (c->state == CS_LINGER) {
        if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) conn_kill(c);
    } else if (c->state == CS_PIPE && c->op_owned && c->srv->cb.on_drain) {
        c->srv->cb.on_drain(c, c->srv->cb.arg);
    }
    conn_leave(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    om_socks_conn_t *c = arg;
    conn_enter(c);
    if (what & BEV_EVENT_ERROR) {
        om_debug("socks %s: %s", om_safe_str_client(c->peer),
                 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        conn_lost(c);
    } else if (what & BEV_EVENT_EOF) {
        c->peer_eof = true;
        if (c->state == CS_LINGER)
            bufferevent_disable(bev, EV_READ); /* a half-closed client may still read */
        else
            conn_lost(c);
    }
    conn_leave(c);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    om_socks_conn_t *c = arg;
    conn_enter(c);
    if (c->state == CS_HANDSHAKE)
        om_info("socks %s: handshake timed out", om_safe_str_client(c->peer));
    conn_lost(c);
    conn_leave(c);
}

/* ---- listener ---- */

static void format_peer(const struct sockaddr *sa, char *out, size_t outsz)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
        port = ntohs(s4->sin_port);
        snprintf(out, outsz, "%s:%u", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
        port = ntohs(s6->sin6_port);
        snprintf(out, outsz, "[%s]:%u", ip, port);
    } else {
        snprintf(out, outsz, "?");
    }
}

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    om_socks_server_t *srv = arg;
    if (srv->nconns >= srv->opts.max_conns) {
        om_info("socks: %u connections open (the limit); refusing a new one", srv->nconns);
        evutil_closesocket(fd);
        return;
    }
    om_socks_conn_t *c = calloc(1, sizeof *c);
    struct bufferevent *bev =
        c ? bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    if (!bev) {
        free(c);
        evutil_closesocket(fd);
        return;
    }
    c->srv = srv;
    c->bev = bev;
    c->timer = evtimer_new(srv->base, timer_cb, c);
    c->kick = event_new(srv->base, -1, 0, kick_cb, c);
    if (!c->timer || !c->kick) {
        if (c->timer) event_free(c->timer);
        if (c->kick) event_free(c->kick);
        bufferevent_free(bev);
        free(c);
        return;
    }
    c->state = CS_HANDSHAKE;
    c->reading_wanted = true;
    om_socks_state_init(&c->ps);
    c->ps.prefer_no_auth = srv->opts.prefer_no_auth;
    format_peer(sa, c->peer, sizeof c->peer);
    c->next = srv->conns;
    if (srv->conns) srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;

    bufferevent_setcb(bev, read_cb, write_cb, event_cb, c);
    bufferevent_setwatermark(bev, EV_READ, 0, OM_SOCKS_SERVER_HANDSHAKE_INBUF);
    bufferevent_setwatermark(bev, EV_WRITE, srv->opts.out_low_watermark, 0);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    set_timer_ms(c->timer, srv->opts.handshake_timeout_ms);
}

static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    om_socks_server_t *srv = arg;
    evconnlistener_enable(srv->lev);
}

static void accept_error_cb(struct evconnlistener *lev, void *arg)
{
    om_socks_server_t *srv = arg;
    int e = EVUTIL_SOCKET_ERROR();
    om_warn("socks: accept failed: %s", evutil_socket_error_to_string(e));
    /* Out of descriptors or memory: stop accepting for a moment rather than spin. */
    evconnlistener_disable(lev);
    set_timer_ms(srv->accept_pause, ACCEPT_PAUSE_MS);
}

static bool is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a)) return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}

om_socks_server_t *om_socks_server_new_opts(struct event_base *base, const char *addr,
                                            uint16_t port, const om_socks_server_callbacks_t *cb,
                                            const om_socks_server_opts_t *opts)
{
    if (!base || !cb) return NULL;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sslen;
    if (!addr) addr = "127.0.0.1";
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        sslen = sizeof *s4;
    } else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        sslen = sizeof *s6;
    } else {
        om_warn("socks: listen address %s is not an IP address", addr);
        return NULL;
    }
    om_socks_server_opts_t o = {0};
    if (opts) o = *opts;
    if (!is_loopback((struct sockaddr *)&ss) && !o.allow_non_loopback) {
        om_warn("socks: refusing to listen on non-loopback address %s", addr);
        return NULL;
    }
    if (!o.max_conns) o.max_conns = DEFAULT_MAX_CONNS;
    if (!o.handshake_timeout_ms) o.handshake_timeout_ms = DEFAULT_HANDSHAKE_MS;
    if (!o.linger_timeout_ms) o.linger_timeout_ms = DEFAULT_LINGER_MS;
    if (!o.in_limit) o.in_limit = DEFAULT_IN_LIMIT;
    if (!o.out_low_watermark) o.out_low_watermark = DEFAULT_OUT_LOW_WATERMARK;

    om_socks_server_t *srv = calloc(1, sizeof *srv);
    if (!srv) return NULL;
    srv->base = base;
    srv->cb = *cb;
    srv->opts = o;
    srv->accept_pause = evtimer_new(base, accept_resume_cb, srv);
    srv->lev = evconnlistener_new_bind(
        base, accept_cb, srv, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, -1,
        (struct sockaddr *)&ss, (int)sslen);
    if (!srv->lev || !srv->accept_pause) {
        om_warn("socks: cannot listen on %s port %u: %s", addr, port, strerror(errno));
        if (srv->lev) evconnlistener_free(srv->lev);
        if (srv->accept_pause) event_free(srv->accept_pause);
        free(srv);
        return NULL;
    }
    evconnlistener_set_error_cb(srv->lev, accept_error_cb);
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (getsockname(evconnlistener_get_fd(srv->lev), (struct sockaddr *)&bound, &blen) == 0)
        srv->port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                                     : ((struct sockaddr_in6 *)&bound)->sin6_port);
    om_notice("SOCKS listener on %s port %u", addr, srv->port);
    return srv;
}

om_socks_server_t *om_socks_server_new(struct event_base *base, const char *addr, uint16_t port,
                                       const om_socks_server_callbacks_t *cb)
{
    return om_socks_server_new_opts(base, addr, port, cb, NULL);
}

void om_socks_server_free(om_socks_server_t *srv)
{
    if (!srv) return;
    evconnlistener_free(srv->lev);
    srv->lev = NULL;
    while (srv->conns) {
        om_socks_conn_t *c = srv->conns;
        c->busy++;
        if (c->op_owned) {
            c->op_owned = false;
            if (srv->cb.on_close) srv->cb.on_close(c, srv->cb.arg);
        }
        c->busy--;
        if (srv->conns == c) conn_free(c); /* on_close may have closed others, never c itself */
    }
    event_free(srv->accept_pause);
    free(srv);
}

uint16_t om_socks_server_port(const om_socks_server_t *srv)
{
    return srv->port;
}

unsigned om_socks_server_nconns(const om_socks_server_t *srv)
{
    return srv->nconns;
}

/* ---- the OP's side of a connection ---- */

const om_socks_request_t *om_socks_conn_request(const om_socks_conn_t *conn)
{
    return &conn->req;
}

void om_socks_conn_set_ctx(om_socks_conn_t *conn, void *ctx)
{
    conn->ctx = ctx;
}

void *om_socks_conn_ctx(const om_socks_conn_t *conn)
{
    return conn->ctx;
}

const char *om_socks_conn_peer(const om_socks_conn_t *conn)
{
    return conn->peer;
}

int om_socks_conn_reply_connected(om_socks_conn_t *c, uint8_t bound_atyp, const uint8_t *bound_addr,
                                  uint16_t bound_port)
{
    if (!c->op_owned || c->state != CS_WAIT_REPLY || c->req.command != OM_SOCKS_CMD_CONNECT)
        return -1;
    uint8_t r[OM_SOCKS_ENCODED_MAX];
    size_t n = om_socks_reply_connect(r, sizeof r, c->req.version, OM_SOCKS5_SUCCEEDED, bound_atyp,
                                      bound_addr, bound_port);
    if (n == 0) return -1;
    send_bytes(c, r, n);
    c->state = CS_PIPE;
    bufferevent_setwatermark(c->bev, EV_READ, 0, c->srv->opts.in_limit);
    if (c->reading_wanted) bufferevent_enable(c->bev, EV_READ);
    /* Optimistic data the OP left in the buffer: offer it again from the event loop. */
    if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
        event_active(c->kick, EV_TIMEOUT, 0);
    return 0;
}

void om_socks_conn_reply_error(om_socks_conn_t *c, uint8_t socks5_code)
{
    if (!c->op_owned) return;
    if (c->state == CS_WAIT_REPLY) {
        uint8_t r[OM_SOCKS_ENCODED_MAX];
        if (socks5_code == OM_SOCKS5_SUCCEEDED) socks5_code = OM_SOCKS5_GENERAL_FAILURE;
        send_bytes(c, r, om_socks_reply_error(r, sizeof r, c->req.version, socks5_code));
    }
    conn_linger(c);
}

void om_socks_conn_reply_resolved(om_socks_conn_t *c, uint8_t answer_type, const uint8_t *value,
                                  size_t value_len, uint32_t ttl)
{
    if (!c->op_owned) return;
    if (c->state == CS_WAIT_REPLY) {
        uint8_t r[OM_SOCKS_ENCODED_MAX];
        send_bytes(c, r,
                   om_socks_reply_resolved(r, sizeof r, c->req.version, answer_type, value,
                                           value_len, ttl));
    }
    conn_linger(c);
}

int om_socks_conn_write(om_socks_conn_t *c, const void *data, size_t len)
{
    if (!c->op_owned || c->state != CS_PIPE) return -1;
    return len == 0 ? 0 : bufferevent_write(c->bev, data, len);
}

size_t om_socks_conn_output_len(const om_socks_conn_t *c)
{
    return evbuffer_get_length(bufferevent_get_output(c->bev));
}

struct evbuffer *om_socks_conn_input(om_socks_conn_t *c)
{
    return bufferevent_get_input(c->bev);
}

void om_socks_conn_set_reading(om_socks_conn_t *c, bool on)
{
    c->reading_wanted = on;
    if (!c->op_owned || (c->state != CS_WAIT_REPLY && c->state != CS_PIPE)) return;
    if (on)
        bufferevent_enable(c->bev, EV_READ);
    else
        bufferevent_disable(c->bev, EV_READ);
}

void om_socks_conn_close(om_socks_conn_t *c)
{
    if (!c->op_owned) return;
    conn_linger(c);
}
