/* listener_tls.c — a TLS listener feeding the link manager (see listener_tls.h). */
#include "core/listener_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/listener.h>

#include "core/log.h"

struct om_tls_listener {
    struct event_base *base;
    struct evconnlistener *lis;
    om_tls_server_ctx_t *ctx;
    om_linkmgr_t *links;
    uint16_t port;
};

void om_sockaddr_format(const struct sockaddr *sa, char *out, size_t outsz)
{
    char ip[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
        snprintf(out, outsz, "%s:%u", ip, ntohs(sin->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
        snprintf(out, outsz, "[%s]:%u", ip, ntohs(sin6->sin6_port));
    } else {
        snprintf(out, outsz, "?");
    }
}

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
    om_tls_listener_t *l = arg;
    (void)lis;
    (void)socklen;
    char peer[64];
    om_sockaddr_format(sa, peer, sizeof peer);
    om_transport_t *t = om_tls_accept(l->base, l->ctx, fd, peer);
    if (!t) {
        evutil_closesocket(fd);
        return;
    }
    om_linkmgr_accept(l->links, t);
}

om_tls_listener_t *om_tls_listener_new(struct event_base *base, const char *addr, uint16_t port,
                                       om_tls_server_ctx_t *ctx, om_linkmgr_t *links, char *err,
                                       size_t errlen)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    if (addr && strchr(addr, ':')) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1) goto bad;
        sl = sizeof *s6;
    } else {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        if (inet_pton(AF_INET, addr && addr[0] ? addr : "0.0.0.0", &s4->sin_addr) != 1) goto bad;
        sl = sizeof *s4;
    }
    om_tls_listener_t *l = calloc(1, sizeof *l);
    if (!l) {
        om_errf(err, errlen, "out of memory");
        return NULL;
    }
    *l = (om_tls_listener_t){.base = base, .ctx = ctx, .links = links, .port = port};
    l->lis = evconnlistener_new_bind(base, on_accept, l, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                     128, (struct sockaddr *)&ss, (int)sl);
    if (!l->lis) {
        om_errf(err, errlen, "could not listen on %s:%u: %s", addr && addr[0] ? addr : "0.0.0.0",
                port, strerror(errno));
        free(l);
        return NULL;
    }
    struct sockaddr_storage bound;
    socklen_t bl = sizeof bound;
    if (getsockname(evconnlistener_get_fd(l->lis), (struct sockaddr *)&bound, &bl) == 0)
        l->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                    : ((struct sockaddr_in *)&bound)->sin_port);
    return l;
bad:
    om_errf(err, errlen, "%s is not a numeric address to listen on", addr);
    return NULL;
}

void om_tls_listener_free(om_tls_listener_t *l)
{
    if (!l) return;
    if (l->lis) evconnlistener_free(l->lis);
    free(l);
}

uint16_t om_tls_listener_port(const om_tls_listener_t *l)
{
    return l->port;
}
