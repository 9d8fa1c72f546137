/* dir_engine.h — the directory engine shared by the onion proxy and the relay's directory cache.
 * It owns the directory documents (authority key certificates, the consensus, microdescriptors:
 * dir_store.h), their verification, freshness and refresh schedule (dir-spec 5.1 for clients,
 * dir-spec 4 for caches), the clock-skew tolerance (dir_policy.h), which directory source to ask
 * and when to retry. It does not fetch: the role passes a fetcher (om_dir_fetcher_t) — the OP one
 * that speaks HTTP over BEGIN_DIR on one-hop circuits, the relay one that speaks HTTP to the
 * authorities' DirPorts — and hears about accepted documents through om_dir_events_t.
 *
 * What is fetched, in order of priority, one request at a time:
 *  1. key certificates (/tor/keys/all) while fewer than a majority of the trusted authorities
 *     have a usable one, or after a consensus failed verification;
 *  2. the microdesc consensus (/tor/status-vote/current/consensus-microdesc) while none is held,
 *     the one held is not live, or its refresh time has come;
 *  3. the microdescriptors it lists that are missing (/tor/micro/d/D1-D2-..., in batches);
 *  4. a cache only: the ns consensus (/tor/status-vote/current/consensus), same rules as 2.
 * Each kind retries on its own backoff after failures (om_dir_retry_delay), from the next
 * source. Sources: the authorities, in a random rotating order; a client that has a live
 * consensus and was told om_dir_engine_use_caches asks a random directory cache (a Running,
 * Valid, V2Dir relay whose microdescriptor is held) instead (dir-spec 5.1). */
#ifndef OM_DIR_DIR_ENGINE_H
#define OM_DIR_DIR_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dir/consensus.h"
#include "dir/dir_store.h"
#include "dir/microdesc.h"

struct event_base;

/* A directory source: an authority, or a directory cache from the consensus. */
typedef struct {
    char nickname[32];
    char address[46];  /* IPv4 literal */
    uint16_t or_port;  /* BEGIN_DIR fetchers connect here */
    uint16_t dir_port; /* DirPort fetchers connect here */
    uint8_t rsa_fp[20];
    bool is_authority;
    bool has_v3ident; /* authorities: trusted to sign the consensus with this v3 identity */
    uint8_t v3ident[20];
} om_dirsrv_t;

/* Called exactly once per request that get() accepted (never from within get(), never after
 * cancel()): the HTTP status and the body (decompressed; need not be NUL-terminated), or status
 * 0 and err when no answer came. */
typedef void (*om_dir_fetch_done_fn)(void *ctx, int status, const char *body, size_t len,
                                     const char *err);

/* The fetcher: "GET this path from this directory source, call me back with status + body". */
typedef struct {
    /* Start the request; returns a handle for cancel, or NULL if it could not be started (done
     * will not be called). path is a dir-spec 4 path without ".z"; the fetcher may ask for the
     * compressed form. Bodies larger than max_body must fail. */
    void *(*get)(void *arg, const om_dirsrv_t *srv, const char *path, size_t max_body,
                 om_dir_fetch_done_fn done, void *ctx);
    void (*cancel)(void *arg, void *handle);
    /* Optional: nothing more to fetch for now (close connections kept for reuse). */
    void (*idle)(void *arg);
    void *arg;
} om_dir_fetcher_t;

typedef enum {
    OM_DIR_CERTS = 0,
    OM_DIR_CONSENSUS_MD = 1,
    OM_DIR_MICRODESCS = 2,
    OM_DIR_CONSENSUS_NS = 3,
    OM_DIR_N_KINDS = 4,
} om_dir_kind_t;

/* What the role hears about (every member may be NULL). from_cache: the document came from
 * om_dir_engine_load, not from the network. */
typedef struct {
    void *arg;
    /* A request for kind is about to go to srv. */
    void (*fetching)(void *arg, om_dir_kind_t kind, const om_dirsrv_t *srv);
    /* An answer for kind arrived (before it is checked). */
    void (*received)(void *arg, om_dir_kind_t kind, int status, size_t len);
    /* The held certificates changed: text is all of them, concatenated. */
    void (*certs_changed)(void *arg, const char *text, size_t len, bool from_cache);
    /* A new consensus is held. c is the parsed microdesc consensus (NULL for the ns flavour),
     * owned by the engine; text is the document. */
    void (*consensus_changed)(void *arg, om_dir_kind_t kind, const om_consensus_t *c,
                              const char *text, size_t len, bool from_cache);
    /* Microdescriptors were taken: their parses, and text (each one's text, concatenated). */
    void (*mds_added)(void *arg, const om_microdesc_t *mds, size_t n, const char *text, size_t len,
                      bool from_cache);
} om_dir_events_t;

typedef struct {
    bool cache; /* a directory cache (dir-spec 4): also the ns flavour, texts and compressed
                   forms kept for serving, the cache refresh schedule, authorities only */
    struct event_base *base;
    const om_dirsrv_t *auths; /* copied; those with has_v3ident are the trusted signers */
    size_t n_auths;
    om_dir_fetcher_t fetcher;
    om_dir_events_t events;
    time_t (*now)(void *arg); /* the clock (NULL: time()) */
    void *now_arg;
    /* A client's only directory source (its bridge, UseBridges): every request goes there,
     * never to the authorities or caches; the authorities stay the trusted signers. NULL:
     * none. Copied. */
    const om_dirsrv_t *only_source;
    size_t md_batch; /* microdescriptors per request (0: 92, tor's DIR_MAX_MICRODESC_DOWNLOAD) */
} om_dir_engine_config_t;

typedef struct om_dir_engine om_dir_engine_t;

#define OM_DIR_MAX_DOC (16u << 20) /* larger answers are refused */
#define OM_DIR_MD_MAX_MISSES                                                                       \
    3 /* a microdescriptor this many servers lacked is not asked                                   \
         for again until the next consensus */

om_dir_engine_t *om_dir_engine_new(const om_dir_engine_config_t *cfg);
/* Cancels the request in flight (without calling back). */
void om_dir_engine_free(om_dir_engine_t *e);
/* Offer a document read from the role's own cache (kind: certs, a consensus, or
 * microdescriptors), under the same rules as fetched ones. Returns 0 if taken, -1 if refused
 * (logged "Rejected the ... from the cache: why"); for microdescriptors *n_seen / *n_taken (may
 * be NULL) get how many the text held and how many were taken. */
int om_dir_engine_load(om_dir_engine_t *e, om_dir_kind_t kind, const char *text, size_t len,
                       size_t *n_seen, size_t *n_taken);
/* Start fetching (on the event loop). */
void om_dir_engine_start(om_dir_engine_t *e);
/* Decide and start the next request now if one is due (the timer's work; tests call it). */
void om_dir_engine_step(om_dir_engine_t *e);
/* When the engine wants to step next: 0 while a request is in flight. */
time_t om_dir_engine_wakeup(const om_dir_engine_t *e);
/* A client may fetch from directory caches once it has enough directory information. */
void om_dir_engine_use_caches(om_dir_engine_t *e, bool yes);

/* ---- what is held ---- */
const om_dir_store_t *om_dir_engine_store(const om_dir_engine_t *e);
/* The microdesc consensus held (NULL if none). */
const om_consensus_t *om_dir_engine_consensus(const om_dir_engine_t *e);
/* The held consensus of this kind (OM_DIR_CONSENSUS_MD/NS) is live / usable at the engine's
 * clock. */
bool om_dir_engine_live(const om_dir_engine_t *e, om_dir_kind_t kind);
bool om_dir_engine_usable(const om_dir_engine_t *e, om_dir_kind_t kind);
/* When the held consensus of this kind will be replaced (dir-spec 5.1 / 4), 0 if none. */
time_t om_dir_engine_refresh_at(const om_dir_engine_t *e, om_dir_kind_t kind);
/* Seconds our clock seemed behind when the last consensus was taken (0: not noticeably). */
long om_dir_engine_clock_behind(const om_dir_engine_t *e);
time_t om_dir_engine_now(const om_dir_engine_t *e);

#endif
