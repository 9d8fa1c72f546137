/* descriptor.h — a relay's server descriptor (dir-spec 2.1.1, "Server descriptor format"), built
 * from its keys and signed with Ed25519 (router-sig-ed25519) and RSA (router-signature), in the
 * order and form tor 0.4.9 writes it, for upload to the directory authorities (POST /tor/); it
 * names the extra-info document (extra_info.h) uploaded with it by digest. */
#ifndef OM_OR_DESCRIPTOR_H
#define OM_OR_DESCRIPTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "or/relay_keys.h"

typedef struct {
    const char *nickname;
    char address[64]; /* IPv4 dotted quad */
    uint16_t or_port, dir_port;
    const char *platform;          /* "onionmesh 0.1.0 on Linux" */
    const char *proto;             /* the "proto" line's value: what this relay really supports */
    const char *contact;           /* NULL: no contact line */
    const char *family;            /* "family" line's value ("$HEX $HEX"), NULL or "": none */
    const char *exit_policy;       /* policy lines, each ending in '\n' ("reject *:*\n") */
    const char *extra_info_digest; /* "extra-info-digest" value (om_extra_info_digest_value);
                                      NULL: we upload no extra-info document */
    uint64_t bw_avg, bw_burst, bw_observed; /* bytes per second */
    time_t published;
    long uptime;
    bool include_tap;            /* onion-key + onion-key-crosscert (publish-dummy-tap-key) */
    bool tunnelled_dir_server;   /* we answer BEGIN_DIR */
    int onion_key_lifetime_days; /* ntor-onion-key-crosscert expiry; 0: 28 */
} om_desc_params_t;

/* The signed descriptor (malloc'd, NUL-terminated), or NULL with err. */
char *om_relay_descriptor_build(const om_relay_keys_t *k, const om_desc_params_t *p, char *err,
                                size_t errlen);

#endif
