/* router_desc.h — reads the fields a client needs to reach a relay from a server descriptor
 * (dir-spec 2.1.1): router line, RSA identity ("signing-key"), fingerprint, Ed25519 master key,
 * ntor onion key, platform, family. Parsed with the shared tokenizer (netdoc.h). Signature
 * verification of whole descriptors is not done here. */
#ifndef OM_DIR_ROUTER_DESC_H
#define OM_DIR_ROUTER_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char nickname[20];
    char address[46];
    uint16_t or_port;
    uint16_t dir_port;
    uint8_t rsa_fp[20]; /* SHA1 of the signing-key (RSA identity) DER */
    bool has_ed;
    uint8_t ed_id[32]; /* master-key-ed25519 */
    bool has_ntor;
    uint8_t ntor_key[32]; /* ntor-onion-key */
    char platform[128];
    char family[1024]; /* "family" arguments ("" if none), cut at an entry if longer */
    bool family_truncated;
} om_router_desc_t;

/* Parse the descriptor in text[0..len) (it must start with its "router" item). The document must
 * be well-formed up to its end (dir-spec 1.2, netdoc.h); the items read here may appear at most
 * once; "router" and "signing-key" are required, the others optional. Returns 0, or -1 with err
 * set (e.g. "no router line", "fingerprint line does not match signing-key"). */
int om_router_desc_parse(const char *text, size_t len, om_router_desc_t *out, char *err,
                         size_t errlen);

#endif
