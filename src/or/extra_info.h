/* extra_info.h — a relay's extra-info document (dir-spec 2.1.2, "Extra-info document format"),
 * uploaded with its server descriptor, which names it by digest in "extra-info-digest" (dir-spec
 * 2.1.1). Laid out as a tor 0.4.9 relay without statistics writes it: extra-info,
 * identity-ed25519, published, router-sig-ed25519, router-signature. We collect no bandwidth
 * history and no geoip/dirreq/cell/exit statistics, so none of those lines appear. */
#ifndef OM_OR_EXTRA_INFO_H
#define OM_OR_EXTRA_INFO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "or/relay_keys.h"

typedef struct {
    char *doc; /* the signed document, malloc'd, NUL-terminated */
    size_t len;
    /* dir-spec 2.1.1 "extra-info-digest": SHA-1 of the document up to and including
     * "router-signature\n" (what the RSA signature signs), SHA-256 of the whole document. */
    uint8_t sha1[20];
    uint8_t sha256[32];
} om_extra_info_t;

/* "extra-info-digest"'s value: 40 upper-case hex digits, a space, 43 unpadded base64 chars. */
#define OM_EXTRA_INFO_DIGEST_VALUE_LEN (40 + 1 + 43 + 1)

/* Builds and signs the document for the relay with keys k and nickname; published must be the
 * server descriptor's "published" time (dir-spec 2.1.2). Returns 0, or -1 with err. */
int om_extra_info_build(const om_relay_keys_t *k, const char *nickname, time_t published,
                        om_extra_info_t *out, char *err, size_t errlen);
void om_extra_info_digest_value(const om_extra_info_t *ei,
                                char out[OM_EXTRA_INFO_DIGEST_VALUE_LEN]);
void om_extra_info_free(om_extra_info_t *ei);

#endif
