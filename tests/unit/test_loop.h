/* test_loop.h — for unit tests that drive a libevent loop: run it for a while, wait (running it)
 * until a condition holds, and listen on a free 127.0.0.1 port. Header-only, so the harness
 * library needs no libevent. */
#ifndef OM_TEST_LOOP_H
#define OM_TEST_LOOP_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "core/channel.h" /* om_now_usec */

/* Run the loop for ms milliseconds. */
static inline void om_test_spin(struct event_base *b, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_base_loopexit(b, &tv);
    event_base_dispatch(b);
}

/* Run the loop until cond holds or ms pass. */
#define OM_TEST_WAIT_FOR(b, cond, ms)                                                              \
    do {                                                                                           \
        uint64_t end_ = om_now_usec() + (uint64_t)(ms)*1000u;                                      \
        while (!(cond) && om_now_usec() < end_)                                                    \
            om_test_spin((b), 5);                                                                  \
    } while (0)

/* A listener on 127.0.0.1 at a free port (*port), or NULL. */
static inline struct evconnlistener *
om_test_listen_loopback(struct event_base *b, evconnlistener_cb cb, void *arg, uint16_t *port)
{
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct evconnlistener *l =
        evconnlistener_new_bind(b, cb, arg, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
                                (struct sockaddr *)&sin, sizeof sin);
    socklen_t sl = sizeof sin;
    if (l && getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sin, &sl) == 0)
        *port = ntohs(sin.sin_port);
    return l;
}

#endif
