/* consensus.h — the network-status consensus (dir-spec 3.4.1) in both flavours: "ns" and
 * "microdesc" (dir-spec 3.9.2): header (times, params, known-flags, protocols, shared random
 * values), authority section, router status entries, footer bandwidth weights and signatures;
 * verification of the signatures against directory authority key certificates (authcert.h);
 * subprotocol version lists (tor-spec 9, protover.c). Parsed from untrusted text with bounds
 * checks; see consensus.c for the exact rules. */
#ifndef OM_DIR_CONSENSUS_H
#define OM_DIR_CONSENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dir/authcert.h"

/* Router status flags (dir-spec 3.4.1 "s" line). Unknown flags are ignored. */
#define OM_RS_AUTHORITY     (1u << 0)
#define OM_RS_BADEXIT       (1u << 1)
#define OM_RS_EXIT          (1u << 2)
#define OM_RS_FAST          (1u << 3)
#define OM_RS_GUARD         (1u << 4)
#define OM_RS_HSDIR         (1u << 5)
#define OM_RS_MIDDLEONLY    (1u << 6)
#define OM_RS_NOEDCONSENSUS (1u << 7)
#define OM_RS_STABLE        (1u << 8)
#define OM_RS_STALEDESC     (1u << 9)
#define OM_RS_RUNNING       (1u << 10)
#define OM_RS_VALID         (1u << 11)
#define OM_RS_V2DIR         (1u << 12)
#define OM_RS_SYBIL         (1u << 13)

/* Subprotocol versions (tor-spec 9, "pr" and "*-protocols" lines): a bitmask of versions 0..63
 * per protocol (tor's limit is 63). */
typedef struct {
    uint64_t link, linkauth, relay, flowctrl, cons, desc, dircache, microdesc, hsdir, hsintro,
        hsrend, padding, conflux;
    /* "OnionMeshDht": a relay serving onionmesh's DHT (doc/dht.md, "Membership"); tor's
     * authorities carry unknown names from a descriptor's "proto" line into "pr" verbatim. */
    uint64_t onionmesh_dht;
    bool unknown; /* a protocol name not listed above appeared with at least one version */
} om_protover_t;
/* Parse "Cons=1-2 Desc=1-2 Link=3-5 ..." into masks (entries separated by spaces or tabs;
 * "Name=" with no versions is allowed; a name listed twice gets the union). Returns 0, or -1 if
 * malformed: bad name, missing '=', version > 63, empty or reversed range. */
int om_protover_parse(const char *s, size_t len, om_protover_t *out);
/* True if every version in need is in have, and need names no unknown protocol (use with
 * required-*-protocols: need = the consensus's list, have = what we implement). */
bool om_protover_covers(const om_protover_t *have, const om_protover_t *need);

typedef struct om_microdesc om_microdesc_t;

typedef struct {
    char nickname[20];
    uint8_t rsa_id[20];      /* "r" identity (base64 in the document) */
    uint8_t desc_digest[20]; /* "r" descriptor digest: ns flavour only (zero in microdesc) */
    uint8_t md_digest[32];   /* "m" line: SHA-256 of the microdescriptor (microdesc flavour) */
    time_t published;        /* ignored by clients; tor 0.4.9 puts 2038-01-01 in md consensus */
    uint8_t ipv4[4];
    uint16_t or_port;
    uint16_t dir_port;
    bool has_ipv6;
    uint8_t ipv6[16];
    uint16_t ipv6_port; /* first IPv6 "a" line */
    uint32_t flags;     /* OM_RS_* */
    uint32_t bandwidth; /* "w Bandwidth=" in kilobytes/s (0 if no w line) */
    bool bw_unmeasured;
    bool has_proto;
    om_protover_t proto; /* "pr" line */
    char version[48];    /* "v" line, e.g. "Tor 0.4.9.11" (truncated if longer) */
    om_microdesc_t *md;  /* filled in when the microdescriptor is known (not owned) */
} om_routerstatus_t;

typedef enum { OM_SIG_SHA1 = 1, OM_SIG_SHA256 = 2 } om_sig_alg_t;

typedef struct {
    om_sig_alg_t alg;
    uint8_t identity[20]; /* authority v3 identity (SHA1 of its identity key) */
    uint8_t signing_key_digest[20];
    uint8_t sig[512];
    size_t siglen;
} om_consensus_sig_t;

typedef struct {
    char name[64];
    int32_t value;
} om_consensus_param_t;

/* One authority entry of the authority section (dir-spec 3.4.1 "dir-source"). */
typedef struct {
    char nickname[32];    /* "-legacy" entries keep the suffix */
    uint8_t identity[20]; /* v3 identity */
    uint8_t ipv4[4];
    uint16_t dir_port, or_port;
    bool has_vote_digest;
} om_dir_source_t;

#define OM_CONSENSUS_MAX_ROUTERS     20000
#define OM_CONSENSUS_MAX_SIGS        16
#define OM_CONSENSUS_MAX_PARAMS      256
#define OM_CONSENSUS_MAX_BW_WEIGHTS  64
#define OM_CONSENSUS_MAX_AUTHORITIES 32
#define OM_CONSENSUS_MAX_SIZE        (64u * 1024 * 1024) /* longer documents are refused */

typedef struct {
    bool microdesc_flavor;
    int consensus_method; /* 1 if the line is absent */
    time_t valid_after, fresh_until, valid_until;
    int vote_delay, dist_delay;
    uint32_t known_flags;                                 /* OM_RS_* named in "known-flags" */
    om_consensus_param_t params[OM_CONSENSUS_MAX_PARAMS]; /* sorted by name */
    size_t n_params;
    om_consensus_param_t bw_weights[OM_CONSENSUS_MAX_BW_WEIGHTS]; /* "bandwidth-weights" */
    size_t n_bw_weights;
    bool has_required_client_proto, has_recommended_client_proto;
    bool has_required_relay_proto, has_recommended_relay_proto;
    om_protover_t required_client_proto, recommended_client_proto;
    om_protover_t required_relay_proto, recommended_relay_proto;
    bool has_srv_previous, has_srv_current; /* shared random values (srv-spec) */
    uint8_t srv_previous[32], srv_current[32];
    uint32_t srv_previous_reveals, srv_current_reveals;
    om_dir_source_t dir_sources[OM_CONSENSUS_MAX_AUTHORITIES];
    size_t n_dir_sources;
    om_routerstatus_t *routers; /* sorted by rsa_id (checked) */
    size_t n_routers;
    om_consensus_sig_t sigs[OM_CONSENSUS_MAX_SIGS]; /* with a recognised algorithm */
    size_t n_sigs;
    size_t signed_len; /* the signed portion: text[0, signed_len), dir-spec 3.4.1 footer */
    uint8_t signed_digest_sha256[32];
    uint8_t signed_digest_sha1[20];
} om_consensus_t;

/* Parse a consensus document (either flavour). NULL with err on malformed input. The text must
 * start with "network-status-version"; votes and unknown flavours are refused. */
om_consensus_t *om_consensus_parse(const char *text, size_t len, char *err, size_t errlen);
void om_consensus_free(om_consensus_t *c);
/* A copy that owns its own router array (each router's md pointer cleared), or NULL. */
om_consensus_t *om_consensus_dup(const om_consensus_t *c);

/* dir-spec 3.4.1 / 5.x: valid if more than half of the n_trusted trusted authorities (their v3
 * identity digests) have a good signature by a key certificate among certs that is current at
 * `now` (see om_authcert_check_time). Each authority counts once however many signatures it
 * has; signatures by untrusted identities and with unknown algorithms are ignored. Also checks
 * that now is within [valid_after - skew, valid_until + skew]. Returns 0, or -1 with err, e.g.
 * "consensus: only 1 of 3 trusted authorities signed validly, need 2 (bad signature by auth1
 * 7CBA...; no certificate for 44BD...)" or "consensus: expired at 2026-11-22 09:05:20 ...". */
int om_consensus_verify(const om_consensus_t *c, om_authcert_t *const *certs, size_t n_certs,
                        const uint8_t (*trusted)[20], size_t n_trusted, time_t now, long skew,
                        char *err, size_t errlen);

/* Parameter lookup with default and clamping (dir-spec 3.4.1 "params", param-spec). */
int32_t om_consensus_param(const om_consensus_t *c, const char *name, int32_t def, int32_t min,
                           int32_t max);
/* "bandwidth-weights" value (e.g. "Wgg"), or def if absent. */
int32_t om_consensus_bw_weight(const om_consensus_t *c, const char *name, int32_t def);
/* Binary search by RSA identity (routers are sorted by identity in a consensus). */
const om_routerstatus_t *om_consensus_find(const om_consensus_t *c, const uint8_t rsa_id[20]);
/* Point each router's md at the microdescriptor among mds[0..n) whose digest equals its m-line
 * digest (O((routers + n) log routers)); routers without one keep their current md. Returns the
 * number of routers that got one. The mds must outlive the consensus's use of them. */
size_t om_consensus_attach_microdescs(om_consensus_t *c, om_microdesc_t *mds, size_t n);

#endif
