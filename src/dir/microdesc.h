/* microdesc.h — microdescriptors (dir-spec 3.3): a relay's ntor onion key, Ed25519 identity,
 * family, and exit-policy summaries ("p" / "p6"), identified by the SHA-256 digest of their
 * text. Parsed from untrusted text with bounds checks. */
#ifndef OM_DIR_MICRODESC_H
#define OM_DIR_MICRODESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit policy summary (dir-spec 3.4.1 "p"): accept or reject a list of port ranges. */
#define OM_POLICY_MAX_RANGES 64
typedef struct {
    bool present;
    bool accept; /* "accept" list, else "reject" list */
    uint16_t n;
    uint16_t lo[OM_POLICY_MAX_RANGES], hi[OM_POLICY_MAX_RANGES];
} om_policy_summary_t;
int om_policy_summary_parse(const char *s, size_t len, om_policy_summary_t *out);
/* True if the summary allows exits to this port (absent summary: reject all). */
bool om_policy_summary_allows(const om_policy_summary_t *p, uint16_t port);

struct om_microdesc {
    uint8_t digest[32]; /* SHA-256 of the whole text, from "onion-key" or first line to the end */
    bool has_ntor;
    uint8_t ntor_key[32];
    bool has_ed;
    uint8_t ed_id[32];
    char family[512];   /* raw "family" line arguments ("" if none) */
    om_policy_summary_t p4, p6;
};

/* Parse concatenated microdescriptors (as served at /tor/micro/d/...). Each one's digest is
 * computed over its exact text. Returns a malloc'd array of *n structs or NULL with err. A
 * malformed one makes the call fail. */
struct om_microdesc *om_microdesc_parse_many(const char *text, size_t len, size_t *n, char *err,
                                             size_t errlen);

#endif
