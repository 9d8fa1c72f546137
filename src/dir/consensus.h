/* consensus.h — the microdescriptor-flavoured network-status consensus (dir-spec 3.4.1, and
 * the "microdesc" flavour of dir-spec 3.9.2): parsed header parameters, router status entries,
 * footer bandwidth weights and signatures; verification of the signatures against directory
 * authority key certificates (authcert.h). Parsed from untrusted text with bounds checks. */
#ifndef OM_DIR_CONSENSUS_H
#define OM_DIR_CONSENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dir/authcert.h"

/* Router status flags (dir-spec 3.4.1 "s" line). */
#define OM_RS_AUTHORITY   (1u << 0)
#define OM_RS_BADEXIT     (1u << 1)
#define OM_RS_EXIT        (1u << 2)
#define OM_RS_FAST        (1u << 3)
#define OM_RS_GUARD       (1u << 4)
#define OM_RS_HSDIR       (1u << 5)
#define OM_RS_MIDDLEONLY  (1u << 6)
#define OM_RS_NOEDCONSENSUS (1u << 7)
#define OM_RS_STABLE      (1u << 8)
#define OM_RS_STALEDESC   (1u << 9)
#define OM_RS_RUNNING     (1u << 10)
#define OM_RS_VALID       (1u << 11)
#define OM_RS_V2DIR       (1u << 12)

/* Subprotocol versions (tor-spec 9, "pr" line): a bitmask of versions 0..31 per protocol. */
typedef struct {
    uint32_t link, linkauth, relay, flowctrl, cons, desc, dircache, microdesc, hsdir, hsintro,
        hsrend, padding, conflux;
} om_protover_t;
/* Parse "Cons=1-2 Desc=1-2 Link=3-5 ..." into masks; unknown names are ignored. -1 if malformed. */
int om_protover_parse(const char *s, size_t len, om_protover_t *out);

typedef struct om_microdesc om_microdesc_t;

typedef struct {
    char nickname[20];
    uint8_t rsa_id[20];       /* "r" identity (base64 in the document) */
    uint8_t md_digest[32];    /* "m" line: SHA-256 of the microdescriptor */
    time_t published;
    uint8_t ipv4[4];
    uint16_t or_port;
    uint16_t dir_port;
    bool has_ipv6;
    uint8_t ipv6[16];
    uint16_t ipv6_port;       /* "a" line */
    uint32_t flags;           /* OM_RS_* */
    uint32_t bandwidth;       /* "w Bandwidth=" in kilobytes/s */
    bool bw_unmeasured;
    om_protover_t proto;      /* "pr" line */
    char version[48];         /* "v" line, e.g. "Tor 0.4.9.11" */
    om_microdesc_t *md;       /* filled in when the microdescriptor is known (not owned) */
} om_routerstatus_t;

typedef enum { OM_SIG_SHA1 = 1, OM_SIG_SHA256 = 2 } om_sig_alg_t;

typedef struct {
    om_sig_alg_t alg;
    uint8_t identity[20];     /* authority v3 identity (SHA1 of its identity key) */
    uint8_t signing_key_digest[20];
    uint8_t sig[512];
    size_t siglen;
} om_consensus_sig_t;

typedef struct {
    char name[32];
    int32_t value;
} om_consensus_param_t;

#define OM_CONSENSUS_MAX_ROUTERS 20000
#define OM_CONSENSUS_MAX_SIGS 16
#define OM_CONSENSUS_MAX_PARAMS 128

typedef struct {
    bool microdesc_flavor;
    int consensus_method;
    time_t valid_after, fresh_until, valid_until;
    int vote_delay, dist_delay;
    om_consensus_param_t params[OM_CONSENSUS_MAX_PARAMS];
    size_t n_params;
    om_consensus_param_t bw_weights[32]; /* "bandwidth-weights Wbd=... " */
    size_t n_bw_weights;
    om_protover_t required_client_proto, recommended_client_proto;
    om_protover_t required_relay_proto, recommended_relay_proto;
    om_routerstatus_t *routers;
    size_t n_routers;
    om_consensus_sig_t sigs[OM_CONSENSUS_MAX_SIGS];
    size_t n_sigs;
    uint8_t signed_digest_sha256[32]; /* over the signed portion, dir-spec 3.4.1 footer */
    uint8_t signed_digest_sha1[20];
} om_consensus_t;

/* Parse a consensus document (either flavour). NULL with err on malformed input. */
om_consensus_t *om_consensus_parse(const char *text, size_t len, char *err, size_t errlen);
void om_consensus_free(om_consensus_t *c);

/* dir-spec 3.4.1 / 3.6: valid if more than half of the `n_trusted` trusted authorities (their v3
 * identity digests) have a good signature by a current key certificate among certs. Also checks
 * that now is within [valid_after - skew, valid_until + skew]. Returns 0, or -1 with err (e.g.
 * "consensus: only 1 of 3 authorities signed validly (forged signature by 0123...)"). */
int om_consensus_verify(const om_consensus_t *c, om_authcert_t *const *certs, size_t n_certs,
                        const uint8_t (*trusted)[20], size_t n_trusted, time_t now, long skew,
                        char *err, size_t errlen);

/* Parameter lookup with default and clamping (dir-spec 3.4.1 "params"). */
int32_t om_consensus_param(const om_consensus_t *c, const char *name, int32_t def, int32_t min,
                           int32_t max);
/* "bandwidth-weights" value (e.g. "Wgg"), or def if absent. */
int32_t om_consensus_bw_weight(const om_consensus_t *c, const char *name, int32_t def);
/* Binary search by RSA identity (routers are sorted by identity in a consensus). */
const om_routerstatus_t *om_consensus_find(const om_consensus_t *c, const uint8_t rsa_id[20]);

#endif
