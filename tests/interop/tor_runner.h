/* tor_runner.h — starts and stops Debian's tor for interop tests: a private data directory,
 * free loopback ports, a DirAuthority line on 127.0.0.1 (never the public network), and
 * readiness checks. Every process it starts is killed at exit. */
#ifndef OM_TEST_TOR_RUNNER_H
#define OM_TEST_TOR_RUNNER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    char dir[256]; /* temp directory holding torrc, data/, log */
    char torrc[300];
    char log[300];
    char hs_log[300]; /* relays: handshake messages down to debug (tor's "handshake" domain) */
    uint16_t or_port;
    uint16_t dir_port;
} om_tor_proc_t;

/* A free TCP port on 127.0.0.1 (bind to 0 and release). */
uint16_t om_free_port(void);
/* "Tor version 0.4.9.11." line of `tor --version`, or "" if tor is missing. */
const char *om_tor_version(void);
/* Start tor with the common private-network options plus `extra` torrc lines.
 * relay 1: adds ORPort/DirPort/Address/AssumeReachable/PublishServerDescriptor 0;
 * relay 2: the same as an exit to 127.0.0.0/8. */
int om_tor_start(om_tor_proc_t *t, const char *name, int relay, const char *extra);
void om_tor_stop(om_tor_proc_t *t);
/* Plain HTTP GET on 127.0.0.1:port; returns malloc'd body (NUL-terminated) if status 200. */
char *om_http_get_local(uint16_t port, const char *path, size_t *len);
/* Wait until the relay serves its own descriptor on its DirPort (or timeout). Returns the
 * descriptor text (malloc'd) or NULL. */
char *om_tor_wait_descriptor(om_tor_proc_t *t, int timeout_s);
/* Run the event loop until *flag is set or timeout_s passes; returns *flag. */
struct event_base;
int om_test_run_until(struct event_base *base, const int *flag, int timeout_s);
/* A local HTTP server (libevent evhttp) on 127.0.0.1 serving `body` at every path. */
struct evhttp;
struct evhttp *om_test_http_server(struct event_base *base, const uint8_t *body, size_t len,
                                   uint16_t *port);
/* True if the tor log contains `needle`. */
int om_tor_log_contains(const om_tor_proc_t *t, const char *needle);
/* How many lines of a log file (e.g. t->hs_log) contain every one of the needles (NULL-ended). */
int om_tor_log_count(const char *path, const char *const *needles);

#endif
