/* or_exit.c — the exit stream service (tor-spec 6.2-6.4), registered in the relay's stream
 * layer for BEGIN and RESOLVE: BEGIN checked (previous hop a known relay, address family flags,
 * exit policy before and after resolution), hostnames resolved with evdns, the TCP connection as
 * a bufferevent (optimistic data queued before it connects), CONNECTED with the address, the
 * server's bytes sent as DATA while the windows allow (reading paused otherwise), the client's
 * DATA written to the server (the stream layer sends stream SENDMEs or XON/XOFF as our output
 * drains), END reasons from socket errors, RESOLVE/RESOLVED (forward and reverse). */
#include "or/or_exit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "core/log.h"
#include "core/channel.h"
#include "or/exit_share.h"
#include "or/or_circuit.h"
#include "or/stream_service.h"

#define ANSWER_TTL        60 /* seconds we tell clients to cache an answer (tor clips to 60-?) */
#define SENDME_OUTBUF_MAX (10 * OM_RELAY_PAYLOAD_LEN) /* tor's connection_outbuf_too_full */
#define LINGER_TIMEOUT_S  30

struct om_or_exit {
    struct event_base *base;
    struct evdns_base *dns;
    om_exit_policy_t policy;
    bool ipv6_exit;
    om_dircache_t *dircache;
    om_exit_share_t *share; /* each client's share of the connections (exit_share.h) */
    om_or_exit_stats_t st;
};

/* The exit's state of one stream. */
typedef struct exit_stream {
    om_or_exit_t *x;
    om_or_stream_t *s;
    om_begin_t begin;
    struct bufferevent *bev;
    om_exit_share_entry_t *share; /* the share this stream's connection counts against */
    struct exit_dns *dns;         /* pending lookup */
    bool connected;               /* CONNECTED sent */
    bool target_eof;              /* the server closed: END DONE once its bytes are sent */
    size_t last_outlen;           /* output buffered towards the server after our last look */
} exit_stream_t;

typedef struct exit_dns {
    exit_stream_t *s; /* NULL once the stream is gone */
    struct evdns_getaddrinfo_request *req;
    struct evdns_request *rev;
} exit_dns_t;

om_or_exit_t *om_or_exit_new(struct event_base *base, const om_exit_policy_t *policy,
                             const char *resolv_conf, bool ipv6_exit, om_dircache_t *dircache,
                             char *err, size_t errlen)
{
    om_or_exit_t *x = calloc(1, sizeof *x);
    if (!x) {
        om_errf(err, errlen, "out of memory");
        return NULL;
    }
    x->base = base;
    x->ipv6_exit = ipv6_exit;
    x->dircache = dircache;
    x->policy.rules = malloc((policy->n ? policy->n : 1) * sizeof *policy->rules);
    if (!x->policy.rules) {
        free(x);
        om_errf(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(x->policy.rules, policy->rules, policy->n * sizeof *policy->rules);
    x->policy.n = x->policy.cap = policy->n;
    x->share = om_exit_share_new(0);
    x->dns = x->share ? evdns_base_new(base, 0) : NULL;
    const char *rc = resolv_conf ? resolv_conf : "/etc/resolv.conf";
    int r = x->dns ? evdns_base_resolv_conf_parse(x->dns, DNS_OPTIONS_ALL, rc) : -1;
    if (r != 0 || evdns_base_count_nameservers(x->dns) == 0) {
        om_errf(err, errlen, "no usable nameserver in %s (ServerDNSResolvConfFile)", rc);
        om_or_exit_free(x);
        return NULL;
    }
    return x;
}

void om_or_exit_free(om_or_exit_t *x)
{
    if (!x) return;
    if (x->dns) evdns_base_free(x->dns, 1);
    om_exit_share_free(x->share);
    om_exit_policy_free(&x->policy);
    free(x);
}

void om_or_exit_stats(const om_or_exit_t *x, om_or_exit_stats_t *out)
{
    *out = x->st;
}

/* tor-spec 6.3 END reasons for socket errors (tor's errno_to_stream_end_reason). */
static uint8_t end_reason_for_errno(int e)
{
    switch (e) {
    case ECONNREFUSED:
        return OM_END_CONNECTREFUSED;
    case ECONNRESET:
    case EPIPE:
        return OM_END_CONNRESET;
    case ETIMEDOUT:
        return OM_END_TIMEOUT;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EHOSTDOWN:
        return OM_END_NOROUTE;
    case ENOBUFS:
    case EMFILE:
    case ENFILE:
        return OM_END_RESOURCELIMIT;
    default:
        return OM_END_MISC;
    }
}

static om_exit_addr_t to_exit_addr(const struct sockaddr *sa)
{
    om_exit_addr_t a;
    memset(&a, 0, sizeof a);
    om_exit_addr_from_sockaddr(&a, sa);
    return a;
}

/* END EXITPOLICY carries the address and a TTL (tor-spec 6.3). */
static void end_exitpolicy(exit_stream_t *s, const struct sockaddr *sa)
{
    uint8_t extra[20];
    size_t n = 0;
    if (sa && sa->sa_family == AF_INET) {
        memcpy(extra, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        n = 4;
    } else if (sa && sa->sa_family == AF_INET6) {
        memcpy(extra, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        n = 16;
    }
    if (n) {
        uint32_t ttl = htonl(ANSWER_TTL);
        memcpy(extra + n, &ttl, 4);
        n += 4;
    }
    om_info("Circuit %u stream %u: %s:%u refused by our exit policy", om_or_stream_circ_id(s->s),
            om_or_stream_id(s->s), om_safe_str(s->begin.host), s->begin.port);
    s->x->st.refused_policy++;
    om_or_stream_end(s->s, OM_END_EXITPOLICY, extra, n);
}

/* ---------------------------------------------------------------- the server connection */

/* Our output towards the server drained: the stream layer may send stream SENDMEs (or XON). */
static void exit_drained(exit_stream_t *s)
{
    if (!s->bev) return;
    size_t now = evbuffer_get_length(bufferevent_get_output(s->bev));
    size_t written = s->last_outlen > now ? s->last_outlen - now : 0;
    s->last_outlen = now;
    om_or_stream_edge_drained(s->s, written, now);
}

static void exit_pull(exit_stream_t *s)
{
    if (!s->bev || !s->connected) return;
    struct evbuffer *in = bufferevent_get_input(s->bev);
    uint8_t buf[OM_RELAY_PAYLOAD_LEN];
    while (evbuffer_get_length(in) > 0 && om_or_stream_can_send(s->s)) {
        int n = evbuffer_copyout(in, buf, sizeof buf);
        if (n <= 0 || om_or_stream_send_data(s->s, buf, (size_t)n) < 0) break;
        evbuffer_drain(in, (size_t)n);
    }
    if (s->target_eof && evbuffer_get_length(in) == 0) {
        om_or_stream_end(s->s, OM_END_DONE, NULL, 0);
        return;
    }
    /* Out of window: stop reading, so TCP pushes back on the server (tor-spec 7.4). */
    if (om_or_stream_can_send(s->s) && !s->target_eof)
        bufferevent_enable(s->bev, EV_READ);
    else
        bufferevent_disable(s->bev, EV_READ);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    (void)bev;
    exit_pull(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    exit_drained(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    exit_stream_t *s = arg;
    om_or_exit_t *x = s->x;
    if (what & BEV_EVENT_CONNECTED) {
        s->connected = true;
        x->st.connected++;
        bufferevent_set_timeouts(bev, NULL, NULL);
        /* tor-spec 6.2: CONNECTED with the address we connected to and a TTL. */
        om_connected_t c;
        memset(&c, 0, sizeof c);
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        if (getpeername(bufferevent_getfd(bev), (struct sockaddr *)&ss, &sl) == 0) {
            if (ss.ss_family == AF_INET) {
                c.addr.type = 4;
                memcpy(c.addr.addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
            } else if (ss.ss_family == AF_INET6) {
                c.addr.type = 6;
                memcpy(c.addr.addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
            }
        }
        c.ttl = ANSWER_TTL;
        uint8_t body[32];
        int n = om_connected_encode(&c, body, sizeof body);
        om_or_stream_send(s->s, OM_RELAY_CONNECTED, body, n > 0 ? (size_t)n : 0);
        om_debug("Circuit %u stream %u: connected to %s:%u", om_or_stream_circ_id(s->s),
                 om_or_stream_id(s->s), om_safe_str(s->begin.host), s->begin.port);
        exit_pull(s);
        return;
    }
    if (what & BEV_EVENT_EOF) {
        s->target_eof = true;
        if (!s->connected) {
            om_or_stream_end(s->s, OM_END_CONNECTREFUSED, NULL, 0);
            return;
        }
        exit_pull(s);
        return;
    }
    if (what & BEV_EVENT_TIMEOUT) {
        x->st.connect_failed += !s->connected;
        om_or_stream_end(s->s, OM_END_TIMEOUT, NULL, 0);
        return;
    }
    if (what & BEV_EVENT_ERROR) {
        int e = EVUTIL_SOCKET_ERROR();
        x->st.connect_failed += !s->connected;
        om_debug("Circuit %u stream %u: %s:%u: %s", om_or_stream_circ_id(s->s),
                 om_or_stream_id(s->s), om_safe_str(s->begin.host), s->begin.port,
                 evutil_socket_error_to_string(e));
        om_or_stream_end(s->s, end_reason_for_errno(e), NULL, 0);
    }
}

static void connect_to(exit_stream_t *s, struct sockaddr *sa, socklen_t sl)
{
    om_or_exit_t *x = s->x;
    om_exit_addr_t a = to_exit_addr(sa);
    if (om_exit_policy_check(&x->policy, &a, s->begin.port) != OM_EXIT_ACCEPTED) {
        end_exitpolicy(s, sa);
        return;
    }
    struct timeval tv = {OM_OR_EXIT_CONNECT_TIMEOUT_S, 0};
    bufferevent_set_timeouts(s->bev, NULL, &tv);
    if (bufferevent_socket_connect(s->bev, sa, (int)sl) < 0) {
        x->st.connect_failed++;
        om_or_stream_end(s->s, end_reason_for_errno(errno), NULL, 0);
    }
}

/* Which of the addresses to use, by the BEGIN flags (tor-spec 6.2) and IPv6Exit. */
static bool family_ok(const exit_stream_t *s, int family)
{
    if (family == AF_INET) return !(s->begin.flags & OM_BEGIN_FLAG_IPV4_NOT_OK);
    if (family == AF_INET6) return s->x->ipv6_exit && (s->begin.flags & OM_BEGIN_FLAG_IPV6_OK);
    return false;
}

static void begin_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
    exit_dns_t *d = arg;
    exit_stream_t *s = d->s;
    if (!s) { /* the stream went away while we waited */
        if (res) evutil_freeaddrinfo(res);
        free(d);
        return;
    }
    s->dns = NULL;
    free(d);
    struct evutil_addrinfo *pick = NULL;
    bool v6_first = s->begin.flags & OM_BEGIN_FLAG_IPV6_PREFERRED;
    for (int pass = 0; pass < 2 && !pick; pass++) {
        int fam = (pass == 0) == v6_first ? AF_INET6 : AF_INET;
        for (struct evutil_addrinfo *ai = result == 0 ? res : NULL; ai; ai = ai->ai_next)
            if (ai->ai_family == fam && family_ok(s, fam)) {
                pick = ai;
                break;
            }
    }
    if (!pick) {
        s->x->st.resolve_failed++;
        om_debug("Circuit %u stream %u: could not resolve %s (%s)", om_or_stream_circ_id(s->s),
                 om_or_stream_id(s->s), om_safe_str(s->begin.host),
                 result ? evutil_gai_strerror(result) : "no usable address");
        if (res) evutil_freeaddrinfo(res);
        om_or_stream_end(s->s, OM_END_RESOLVEFAILED, NULL, 0);
        return;
    }
    struct sockaddr_storage ss;
    socklen_t sl = (socklen_t)pick->ai_addrlen;
    memcpy(&ss, pick->ai_addr, sl);
    evutil_freeaddrinfo(res);
    if (ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&ss)->sin_port = htons(s->begin.port);
    else
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons(s->begin.port);
    connect_to(s, (struct sockaddr *)&ss, sl);
}

/* tor (connection_exit_begin_conn): no streams on a circuit whose previous hop is a client (we
 * would be a one-hop proxy) or a relay missing from our consensus. The previous hop proved its
 * identity by AUTHENTICATE on a link it opened, or by CERTS on one we opened. */
static bool from_known_relay(const om_or_exit_t *x, const om_or_stream_t *os, const char **why)
{
    const om_or_circ_t *circ = om_or_stream_circ(os);
    const om_peer_identity_t *id = circ->p_chan ? om_channel_peer_identity(circ->p_chan) : NULL;
    if (!id) {
        *why = "on the first hop of a circuit";
        return false;
    }
    if (x->dircache && !om_dircache_knows_relay(x->dircache, id->rsa_fp)) {
        *why = "from an unknown relay";
        return false;
    }
    return true;
}

/* A new exit stream (BEGIN or RESOLVE): its state, or NULL after END. */
static exit_stream_t *exit_stream_new(om_or_exit_t *x, om_or_stream_t *os, const om_begin_t *b)
{
    exit_stream_t *s = calloc(1, sizeof *s);
    om_or_stream_set_state(os, s);
    if (!s) {
        om_or_stream_end(os, OM_END_RESOURCELIMIT, NULL, 0);
        return NULL;
    }
    s->x = x;
    s->s = os;
    s->begin = *b;
    return s;
}

static void exit_begin(void *arg, om_or_stream_t *os, const om_begin_t *b)
{
    om_or_exit_t *x = arg;
    x->st.begins++;
    const char *why = NULL;
    if (!from_known_relay(x, os, &why)) {
        om_info("Circuit %u: refusing to open a stream %s", om_or_stream_circ_id(os), why);
        x->st.refused_client++;
        om_or_stream_end(os, OM_END_TORPROTOCOL, NULL, 0);
        return;
    }
    if (x->st.open >= OM_OR_EXIT_MAX_CONNECTIONS) {
        om_or_stream_end(os, OM_END_RESOURCELIMIT, NULL, 0);
        return;
    }
    exit_stream_t *s = exit_stream_new(x, os, b);
    if (!s) return;
    if (!om_exit_share_take(x->share, om_or_stream_circ(os), &s->share)) {
        x->st.refused_share++;
        om_or_stream_end(s->s, OM_END_RESOURCELIMIT, NULL, 0);
        return;
    }
    /* The connection exists from now on, so optimistic data (DATA before CONNECTED) queues in
     * its output buffer until it connects. */
    s->bev = bufferevent_socket_new(x->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!s->bev) {
        om_or_stream_end(s->s, OM_END_RESOURCELIMIT, NULL, 0);
        return;
    }
    x->st.open++;
    bufferevent_setcb(s->bev, on_read, on_write, on_event, s);
    bufferevent_disable(s->bev, EV_READ);

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, s->begin.host, &s4->sin_addr) == 1) {
        if (!family_ok(s, AF_INET)) {
            om_or_stream_end(s->s, OM_END_EXITPOLICY, NULL, 0);
            return;
        }
        s4->sin_family = AF_INET;
        s4->sin_port = htons(s->begin.port);
        connect_to(s, (struct sockaddr *)s4, sizeof *s4);
        return;
    }
    if (inet_pton(AF_INET6, s->begin.host, &s6->sin6_addr) == 1) {
        if (!family_ok(s, AF_INET6)) {
            om_or_stream_end(s->s, OM_END_EXITPOLICY, NULL, 0);
            return;
        }
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(s->begin.port);
        connect_to(s, (struct sockaddr *)s6, sizeof *s6);
        return;
    }
    /* A host name: if no address could pass the policy for this port, say so without a lookup
     * (tor's policy_is_reject_star check). */
    om_exit_addr_t any4 = {.family = AF_INET}, any6 = {.family = AF_INET6};
    bool maybe = om_exit_policy_check(&x->policy, &any4, s->begin.port) != OM_EXIT_REJECTED ||
                 om_exit_policy_check(&x->policy, &any6, s->begin.port) != OM_EXIT_REJECTED;
    if (!maybe) {
        end_exitpolicy(s, NULL);
        return;
    }
    exit_dns_t *d = calloc(1, sizeof *d);
    if (!d) {
        om_or_stream_end(s->s, OM_END_RESOURCELIMIT, NULL, 0);
        return;
    }
    d->s = s;
    s->dns = d;
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    /* NULL if the callback already ran (then s may be gone: do not touch it). */
    struct evdns_getaddrinfo_request *req =
        evdns_getaddrinfo(x->dns, s->begin.host, NULL, &hints, begin_resolved, d);
    if (req) d->req = req;
}

static void exit_data(void *arg, om_or_stream_t *os, const uint8_t *data, size_t len)
{
    (void)arg;
    exit_stream_t *s = om_or_stream_state(os);
    if (!s->bev) return;
    bufferevent_write(s->bev, data, len);
    /* Stream SENDMEs once it is small again; with CC, XOFF while it stays large (prop 324 4). */
    s->last_outlen = evbuffer_get_length(bufferevent_get_output(s->bev));
    om_or_stream_edge_buffered(os, s->last_outlen);
}

/* ---------------------------------------------------------------- RESOLVE */

static void send_resolved(exit_stream_t *s, const om_resolved_t *r)
{
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    int n = om_resolved_encode(r, body, sizeof body);
    om_or_stream_send(s->s, OM_RELAY_RESOLVED, body, n > 0 ? (size_t)n : 0);
    om_or_stream_finish(s->s); /* RESOLVED ends the stream (tor-spec 6.4) */
}

static void resolve_error(exit_stream_t *s, bool transient)
{
    om_resolved_t r;
    memset(&r, 0, sizeof r);
    r.n = 1;
    r.answers[0].type = transient ? OM_RESOLVED_ERROR_TRANSIENT : OM_RESOLVED_ERROR_NONTRANSIENT;
    r.answers[0].len = 0;
    r.answers[0].ttl = ANSWER_TTL;
    send_resolved(s, &r);
}

static void forward_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
    exit_dns_t *d = arg;
    exit_stream_t *s = d->s;
    free(d);
    if (!s) {
        if (res) evutil_freeaddrinfo(res);
        return;
    }
    s->dns = NULL;
    om_resolved_t r;
    memset(&r, 0, sizeof r);
    for (struct evutil_addrinfo *ai = result == 0 ? res : NULL; ai && r.n < OM_RESOLVED_MAX_ANSWERS;
         ai = ai->ai_next) {
        om_resolved_answer_t *a = &r.answers[r.n];
        if (ai->ai_family == AF_INET) {
            a->type = OM_RESOLVED_IPV4;
            a->len = 4;
            memcpy(a->value, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
        } else if (ai->ai_family == AF_INET6) {
            a->type = OM_RESOLVED_IPV6;
            a->len = 16;
            memcpy(a->value, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
        } else {
            continue;
        }
        a->ttl = ANSWER_TTL;
        r.n++;
    }
    if (res) evutil_freeaddrinfo(res);
    if (!r.n) {
        s->x->st.resolve_failed++;
        resolve_error(s, result != EVUTIL_EAI_NONAME && result != 0);
        return;
    }
    send_resolved(s, &r);
}

static void reverse_resolved(int result, char type, int count, int ttl, void *addresses, void *arg)
{
    exit_dns_t *d = arg;
    exit_stream_t *s = d->s;
    free(d);
    (void)ttl;
    if (!s) return;
    s->dns = NULL;
    if (result != DNS_ERR_NONE || type != DNS_PTR || count < 1) {
        resolve_error(s, result != DNS_ERR_NOTEXIST && result != DNS_ERR_NONE);
        return;
    }
    const char *name = ((const char *const *)addresses)[0];
    om_resolved_t r;
    memset(&r, 0, sizeof r);
    size_t n = strlen(name);
    if (n > 255) n = 255;
    r.n = 1;
    r.answers[0].type = OM_RESOLVED_HOSTNAME;
    r.answers[0].len = (uint8_t)n;
    memcpy(r.answers[0].value, name, n);
    r.answers[0].ttl = ANSWER_TTL;
    send_resolved(s, &r);
}

/* "4.3.2.1.in-addr.arpa" -> 1.2.3.4 */
static bool parse_in_addr_arpa(const char *host, struct in_addr *out)
{
    unsigned a, b, c, d;
    char tail[32];
    if (sscanf(host, "%u.%u.%u.%u.%31s", &a, &b, &c, &d, tail) != 5 ||
        strcasecmp(tail, "in-addr.arpa") != 0 || a > 255 || b > 255 || c > 255 || d > 255)
        return false;
    out->s_addr = htonl(d << 24 | c << 16 | b << 8 | a);
    return true;
}

static void exit_resolve(void *arg, om_or_stream_t *os, const om_begin_t *b)
{
    om_or_exit_t *x = arg;
    exit_stream_t *s = exit_stream_new(x, os, b);
    if (!s) return;
    exit_dns_t *d = calloc(1, sizeof *d);
    if (!d) {
        resolve_error(s, true);
        return;
    }
    d->s = s;
    s->dns = d;
    struct in_addr in;
    if (parse_in_addr_arpa(s->begin.host, &in)) {
        d->rev = evdns_base_resolve_reverse(x->dns, &in, 0, reverse_resolved, d);
        if (!d->rev) { /* failed without calling back */
            s->dns = NULL;
            free(d);
            resolve_error(s, true);
        }
        return;
    }
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct evdns_getaddrinfo_request *req =
        evdns_getaddrinfo(x->dns, s->begin.host, NULL, &hints, forward_resolved, d);
    if (req) d->req = req;
}

/* ---------------------------------------------------------------- teardown */

static void linger_free(struct bufferevent *bev)
{
    bufferevent_free(bev);
}

static void linger_write(struct bufferevent *bev, void *arg)
{
    (void)arg;
    linger_free(bev);
}

static void linger_event(struct bufferevent *bev, short what, void *arg)
{
    (void)what;
    (void)arg;
    linger_free(bev);
}

/* Drop the lookup and the server connection of a stream. */
static void release_conn(exit_stream_t *s)
{
    if (s->dns) {
        exit_dns_t *d = s->dns;
        s->dns = NULL;
        d->s = NULL; /* the callback frees d when it runs (cancelled or answered) */
        if (d->req)
            evdns_getaddrinfo_cancel(d->req);
        else if (d->rev)
            evdns_cancel_request(s->x->dns, d->rev);
    }
    om_exit_share_put(s->x->share, &s->share);
    if (!s->bev) return;
    s->x->st.open--;
    struct bufferevent *bev = s->bev;
    s->bev = NULL;
    if (s->connected && evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
        /* The client ended the stream: what it sent still reaches the server (tor flushes
         * before closing), then the connection closes; bounded by a timeout. */
        bufferevent_disable(bev, EV_READ);
        bufferevent_setcb(bev, NULL, linger_write, linger_event, NULL);
        struct timeval tv = {LINGER_TIMEOUT_S, 0};
        bufferevent_set_timeouts(bev, NULL, &tv);
        return;
    }
    bufferevent_free(bev);
}

static void exit_release(void *arg, om_or_stream_t *os)
{
    (void)arg;
    exit_stream_t *s = om_or_stream_state(os);
    if (!s) return;
    release_conn(s);
    free(s);
}

static void exit_pull_svc(void *arg, om_or_stream_t *os)
{
    (void)arg;
    exit_pull(om_or_stream_state(os));
}

int om_or_exit_register(om_or_exit_t *x, om_or_streams_t *streams)
{
    om_stream_service_t begin = {
        .name = "exit",
        .command = OM_RELAY_BEGIN,
        .begin = exit_begin,
        .data = exit_data,
        .pull = exit_pull_svc,
        .release = exit_release,
        .arg = x,
    };
    om_stream_service_t resolve = begin;
    resolve.command = OM_RELAY_RESOLVE;
    resolve.begin = exit_resolve;
    return om_or_streams_add_service(streams, &begin) < 0 ||
                   om_or_streams_add_service(streams, &resolve) < 0
               ? -1
               : 0;
}
