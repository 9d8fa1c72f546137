/* dir_store.h — the directory documents the engine holds, and the rules for taking new ones:
 * authority key certificates (dir-spec 3.1), the consensus in the microdesc flavour and, for a
 * cache, the ns flavour (dir-spec 3.4.1), and the microdescriptors the microdesc consensus lists
 * (dir-spec 3.3). A consensus is taken only if it parses, has the expected flavour, is newer
 * (valid-after) than the one held, is signed by more than half of the trusted authorities with
 * current certificates, and is usable within OM_DIR_TOLERANCE (dir_policy.h). A microdescriptor
 * is taken only if it hashes to a digest the held consensus lists and parses. A cache also keeps
 * each document's text and its compressed form (dir_deflate.h), made here once. Internal to the
 * engine (dir_engine.c); tests use it directly. */
#ifndef OM_DIR_DIR_STORE_H
#define OM_DIR_DIR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dir/authcert.h"
#include "dir/consensus.h"
#include "dir/dir_deflate.h"
#include "dir/microdesc.h"

/* A document as held: its text and, in a cache, its zlib stream (both malloc'd). */
typedef struct {
    char *text;
    size_t len;
    uint8_t *z;
    size_t zlen;
    time_t valid_after, fresh_until, valid_until; /* consensuses only */
    int dist_delay;                               /* consensuses only: "voting-delay" DistSeconds */
    uint64_t gen; /* changes with every text installed or cleared (caches of served forms) */
} om_dir_doc_t;

/* A microdescriptor as held: its digest; in a cache also its text and deflate chunk. */
typedef struct {
    uint8_t digest[32];
    char *text;
    size_t len;
    om_dir_chunk_t chunk;
} om_dir_md_t;

typedef enum { OM_DIR_FLAV_MD = 0, OM_DIR_FLAV_NS = 1 } om_dir_flavour_t;

typedef struct {
    bool cache; /* keep texts and compressed forms */
    uint8_t (*trusted)[20];
    size_t n_trusted;
    om_authcert_t **certs;
    char **cert_texts;
    size_t *cert_lens;
    size_t n_certs;
    om_dir_doc_t certs_doc;       /* every held certificate, concatenated */
    om_dir_doc_t cons[2];         /* by om_dir_flavour_t; text NULL when none is held */
    om_consensus_t *md_consensus; /* the parsed microdesc consensus held (or NULL) */
    om_dir_md_t *mds;             /* sorted by digest */
    size_t n_mds;
    struct om_dir_wanted {
        uint8_t digest[32];
        uint8_t misses; /* answers from servers that lacked it */
    } * wanted;         /* the md consensus's digests, sorted */
    size_t n_wanted;
} om_dir_store_t;

typedef enum {
    OM_DIR_TAKEN = 0,     /* accepted and installed */
    OM_DIR_NOT_NEWER = 1, /* valid, but not newer than what is held: kept ours */
    OM_DIR_REFUSED = -1,  /* malformed, wrong flavour, badly signed or unusable: err says why */
} om_dir_verdict_t;

/* trusted: the v3 identities of the authorities allowed to sign. 0 or -1 (out of memory). */
int om_dir_store_init(om_dir_store_t *st, bool cache, const uint8_t (*trusted)[20], size_t n);
void om_dir_store_clear(om_dir_store_t *st);

/* Certificates (a /tor/keys/ document): parsed and verified (authcert.h); those of untrusted
 * authorities and those expired beyond the tolerance are dropped; the others are added unless
 * held already. Returns the number added, or -1 with err. */
int om_dir_store_add_certs(om_dir_store_t *st, const char *text, size_t len, time_t now, char *err,
                           size_t errlen);
/* Trusted authorities with a certificate usable at now. */
size_t om_dir_store_usable_certs(const om_dir_store_t *st, time_t now);
/* More than half of the trusted authorities have a usable certificate (dir-spec 3.4.1). */
bool om_dir_store_have_certs(const om_dir_store_t *st, time_t now);

/* Offer a consensus of flavour fl (rules above). The microdesc flavour is kept parsed
 * (md_consensus); microdescriptors it no longer lists are dropped. */
om_dir_verdict_t om_dir_store_offer_consensus(om_dir_store_t *st, om_dir_flavour_t fl,
                                              const char *text, size_t len, time_t now, char *err,
                                              size_t errlen);

/* The microdescriptors in text (concatenated, as served at /tor/micro/d/) that hash to a wanted
 * digest, parse, and are not held yet are taken. out gets their parses (malloc'd array, free()
 * it; NULL if none) and their texts, concatenated (malloc'd, NUL-terminated; NULL if none).
 * requested (may be NULL) lists the digests asked for: each still not held counts a miss.
 * Returns 0, or -1 if out of memory or the text holds more than OM_MICRODESC_MAX_PER_DOC. */
typedef struct {
    om_microdesc_t *mds;
    size_t n;      /* taken */
    size_t n_seen; /* microdescriptors in the text */
    char *text;
    size_t len;
} om_dir_mds_taken_t;
int om_dir_store_add_mds(om_dir_store_t *st, const char *text, size_t len,
                         const uint8_t (*requested)[32], size_t n_requested,
                         om_dir_mds_taken_t *out);
/* Wanted digests not held and missed fewer than max_misses times, up to max (into out, which
 * may be NULL to count). */
size_t om_dir_store_missing_mds(const om_dir_store_t *st, uint8_t (*out)[32], size_t max,
                                unsigned max_misses);
const om_dir_md_t *om_dir_store_find_md(const om_dir_store_t *st, const uint8_t digest[32]);
bool om_dir_store_has_md(const om_dir_store_t *st, const uint8_t digest[32]);

#endif
