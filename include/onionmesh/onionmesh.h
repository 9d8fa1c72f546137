/* onionmesh.h — the public C API for embedding onionmesh in another program: run an onion proxy
 * on the caller's libevent loop, configured with the same torrc-style text `onionmesh -f` reads.
 * Link with the onionmesh libraries (omop, omdir, omcore) and their pkg-config dependencies. */
#ifndef ONIONMESH_ONIONMESH_H
#define ONIONMESH_ONIONMESH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
typedef struct onionmesh onionmesh_t;

/* "0.1.0" */
const char *onionmesh_version(void);

/* Start an onion proxy on `base` from configuration text (e.g. "SocksPort 127.0.0.1:auto\n
 * DataDirectory /var/lib/app/onionmesh\n"; DirAuthority lines for a private network; tor's option
 * names). The text is all there is: the general options and the client's (`onionmesh --help`
 * lists both); the process's ONIONMESH_* environment variables are not read, and relay options
 * are unknown here. RunAsDaemon 1 is refused (the host program owns its process). Bootstrapping
 * runs on the loop. Returns NULL with err set if the configuration is invalid or the SOCKS port
 * cannot be opened. */
onionmesh_t *onionmesh_start(struct event_base *base, const char *config_text, char *err,
                             size_t errlen);
/* The SOCKS port actually bound (useful with "auto"), 0 if none. */
uint16_t onionmesh_socks_port(const onionmesh_t *om);
/* Bootstrap progress, 0..100 (100: a circuit has been built). */
int onionmesh_bootstrap_percent(const onionmesh_t *om);
/* Stop and free everything (closes circuits, links and the SOCKS port). */
void onionmesh_stop(onionmesh_t *om);

#ifdef __cplusplus
}
#endif

#endif
