/* listener_tls.h — the accept side of links over TLS: a listening socket (an ORPort) whose
 * accepted connections become TLS server transports handed to a link manager
 * (om_linkmgr_accept), which runs the responder handshake. Another transport (the bridge's
 * WebSocket) has a listener of its own feeding the same om_linkmgr_accept. */
#ifndef OM_CORE_LISTENER_TLS_H
#define OM_CORE_LISTENER_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "core/linkmgr.h"
#include "core/transport.h"

struct event_base;
struct sockaddr;
typedef struct om_tls_listener om_tls_listener_t;

/* Listen on addr:port (numeric IPv4 or IPv6; "" = 0.0.0.0; port 0 = any free one). ctx and
 * links must outlive the listener. NULL with err ("could not listen on ...: reason"). */
om_tls_listener_t *om_tls_listener_new(struct event_base *base, const char *addr, uint16_t port,
                                       om_tls_server_ctx_t *ctx, om_linkmgr_t *links, char *err,
                                       size_t errlen);
void om_tls_listener_free(om_tls_listener_t *l);
/* The port bound. */
uint16_t om_tls_listener_port(const om_tls_listener_t *l);

/* "1.2.3.4:9001" / "[::1]:9001" for an IPv4 / IPv6 socket address ("?" otherwise). */
void om_sockaddr_format(const struct sockaddr *sa, char *out, size_t outsz);

#endif
