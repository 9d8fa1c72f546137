/* dircache.h — the relay's directory cache (dir-spec 4, "directory caches"): the shared
 * directory engine (dir/dir_engine.h) fetches the authorities' key certificates, both consensus
 * flavours and the microdescriptors they list from the authorities' DirPorts and keeps them only
 * after verifying them (a consensus must be newer than the one held, usable within the clock
 * tolerance of dir/dir_policy.h, and carry valid signatures by more than half the configured
 * authorities; each microdescriptor must hash to a digest the consensus lists), refreshing them
 * as each consensus goes stale; this module answers the HTTP GETs tor clients send over
 * BEGIN_DIR streams. */
#ifndef OM_OR_DIRCACHE_H
#define OM_OR_DIRCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <time.h>

#include "core/config.h"
#include "dir/dir_store.h"

struct event_base;
typedef struct om_dircache om_dircache_t;

om_dircache_t *om_dircache_new(struct event_base *base, const om_dir_authority_t *auths,
                               size_t n_auths);
/* The same with the clock the cache judges documents by (tests; NULL: time()). */
om_dircache_t *om_dircache_new_with_clock(struct event_base *base, const om_dir_authority_t *auths,
                                          size_t n_auths, time_t (*now)(void *), void *now_arg);
/* The documents held (read-only). */
const om_dir_store_t *om_dircache_store(const om_dircache_t *d);
void om_dircache_free(om_dircache_t *d);
/* True while a verified microdesc consensus usable within the clock tolerance is held (we
 * advertise tunnelled-dir-server and answer BEGIN_DIR then). */
bool om_dircache_ready(const om_dircache_t *d);

/* A consensus parameter (dir-spec "params") of the consensus we hold, clamped; def without one
 * (d may be NULL). */
int32_t om_dircache_param(const om_dircache_t *d, const char *name, int32_t def, int32_t min,
                          int32_t max);
/* fn(arg, c) each time a new microdesc consensus c is held (the relay re-reads its consensus
 * parameters and relay addresses then). One listener; NULL to stop. */
void om_dircache_on_consensus(om_dircache_t *d, void (*fn)(void *arg, const om_consensus_t *c),
                              void *arg);
/* True if the relay with this RSA identity is in the consensus we hold. */
bool om_dircache_knows_relay(const om_dircache_t *d, const uint8_t rsa_id[20]);

/* Our own server descriptor, served at /tor/server/authority (bridge users ask for it). */
void om_dircache_set_own_descriptor(om_dircache_t *d, const char *desc);

/* Largest HTTP request head accepted on a BEGIN_DIR stream. */
#define OM_DIRCACHE_MAX_REQUEST 8192

/* Parse an HTTP request head (dir-spec 6: "GET /path HTTP/1.0", headers, blank line) in
 * req[0..len). Returns 0 if more bytes are needed, -1 on a malformed or too long request, or the
 * length of the head; *path gets the request path (NUL-terminated, at most pathsz bytes). */
int om_dircache_parse_request(const char *req, size_t len, char *path, size_t pathsz);
/* The HTTP response for a GET of path: status line and headers in head, the body (NULL for a
 * 404) by reference — a document is one blob per version and form shared by every stream
 * serving it (deflated when the path ends in ".z", from forms made once per document); a
 * microdescriptor list, a blob of its own. 404 for what we do not hold or serve, and for a
 * consensus outside the clock tolerance (as tor). 0, or -1 if out of memory. */
struct om_dir_blob;
typedef struct {
    char head[192];
    size_t head_len;
    struct om_dir_blob *body;
} om_dircache_reply_t;
int om_dircache_reply(om_dircache_t *d, const char *path, om_dircache_reply_t *out);
void om_dircache_reply_clear(om_dircache_reply_t *r); /* drops the body's reference */
/* Bytes of the blobs of the current documents' versions (held for answers). */
size_t om_dircache_shared_bytes(const om_dircache_t *d);
/* The same response flattened into one malloc'd buffer (tests); *outlen set. */
uint8_t *om_dircache_answer(om_dircache_t *d, const char *path, size_t *outlen);

#endif
