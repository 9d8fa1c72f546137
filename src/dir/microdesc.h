/* microdesc.h — microdescriptors (dir-spec 3.3): a relay's ntor onion key, Ed25519 identity,
 * family, family IDs, and exit-policy summaries ("p" / "p6"), identified by the SHA-256 digest
 * of their text. Parsed from untrusted text with bounds checks. Every struct here is a plain
 * value (no pointers): copying one with '=' or memcpy is safe. */
#ifndef OM_DIR_MICRODESC_H
#define OM_DIR_MICRODESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit policy summary (dir-spec 3.4.1 "p", 3.8.2): accept or reject a sorted list of disjoint
 * port ranges. Tor's summaries are at most 1000 characters (up to ~260 ranges); the common
 * reduced exit policy has 68 ranges. A summary with more than OM_POLICY_MAX_RANGES ranges is
 * stored conservatively (truncated = true): as an accept list of its first OM_POLICY_MAX_RANGES
 * allowed ranges, so it never allows a port the relay rejects, but may miss some it allows. */
#define OM_POLICY_MAX_RANGES 96
#define OM_POLICY_MAX_LEN    2048 /* longer "p" arguments are refused */
typedef struct {
    bool present;
    bool accept;    /* "accept" list, else "reject" list */
    bool truncated; /* see above */
    uint16_t n;
    uint16_t lo[OM_POLICY_MAX_RANGES], hi[OM_POLICY_MAX_RANGES]; /* ascending, disjoint */
} om_policy_summary_t;
/* Parse "accept 80,443,6660-6669" (the arguments of a "p" line; extra arguments after the port
 * list are ignored). Returns 0 or -1 if malformed: not accept/reject, empty list, port 0 or
 * > 65535, lo > hi, ranges not ascending or overlapping, more than 1024 ranges, longer than
 * OM_POLICY_MAX_LEN. */
int om_policy_summary_parse(const char *s, size_t len, om_policy_summary_t *out);
/* True if the summary allows exits to this port (absent summary: reject all; port 0: false). */
bool om_policy_summary_allows(const om_policy_summary_t *p, uint16_t port);

/* Longer "family" / "family-ids" lines are cut at an entry boundary and flagged truncated. */
#define OM_MICRODESC_FAMILY_LEN     1024
#define OM_MICRODESC_FAMILY_IDS_LEN 256

struct om_microdesc {
    uint8_t digest[32]; /* SHA-256 of its text: from "onion-key" to the next one or the end */
    bool has_ntor;      /* always true for a parsed microdesc ("ntor-onion-key" is required) */
    uint8_t ntor_key[32];
    bool has_ed; /* "id ed25519" (ignore it if the consensus says NoEdConsensus) */
    uint8_t ed_id[32];
    char family[OM_MICRODESC_FAMILY_LEN];         /* "family" arguments ("" if none) */
    char family_ids[OM_MICRODESC_FAMILY_IDS_LEN]; /* "family-ids" arguments (method 35) */
    bool family_truncated, family_ids_truncated;
    om_policy_summary_t p4; /* "p"; absent means reject all */
    om_policy_summary_t p6; /* "p6"; absent means reject all */
};

/* Parse concatenated microdescriptors (as served at /tor/micro/d/...). Each one's digest is
 * computed over its exact text. A malformed one makes the call fail with err. Returns a
 * malloc'd array of *n structs (release with free() or om_microdesc_free_array), or NULL. */
#define OM_MICRODESC_MAX_PER_DOC 20000 /* more are refused (~2 KB each in memory) */
struct om_microdesc *om_microdesc_parse_many(const char *text, size_t len, size_t *n, char *err,
                                             size_t errlen);
void om_microdesc_free_array(struct om_microdesc *a, size_t n);

/* True if md's "family" lists the relay with this RSA identity as "$HEX" (40 hex digits, either
 * case, optionally followed by "=nick" or "~nick"), or if md's family was truncated (then we
 * cannot tell, and answer conservatively). Path selection treats two relays as one family if
 * each lists the other, or if they share a family ID (om_microdesc_share_family_id, also true
 * when either list was truncated and both are non-empty). */
bool om_microdesc_family_lists(const struct om_microdesc *md, const uint8_t rsa_id[20]);
bool om_microdesc_share_family_id(const struct om_microdesc *a, const struct om_microdesc *b);

#endif
