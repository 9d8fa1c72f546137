/* link_auth.h — link authentication with AUTHENTICATE cells, auth method 3
 * "Ed25519-SHA256-RFC5705" (tor-spec 4.4, 4.4.2): the initiator's body (build and sign), its
 * parser, and the responder's check (every field recomputed, signature under the type 6 key).
 * The handshake logs (SLOG/CLOG) are kept by the channel; this module only uses them. */
#ifndef OM_CORE_LINK_AUTH_H
#define OM_CORE_LINK_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cell.h"
#include "core/cert.h"
#include "core/transport.h"

#define OM_AUTH3_TYPE "AUTH0003"
/* TYPE(8) CID SID CID_ED SID_ED SLOG CLOG SCERT TLSSECRETS (8 x 32) RAND(24): what SIG covers. */
#define OM_AUTH3_SIGNED_LEN     (8 + 8 * 32 + 24)
#define OM_AUTH3_BODY_LEN       (OM_AUTH3_SIGNED_LEN + 64) /* 352: + the Ed25519 SIG */
#define OM_AUTH3_RAND_LEN       24
#define OM_AUTH3_EXPORTER_LABEL "EXPORTER FOR TOR TLS CLIENT BINDING AUTH0003"

/* The Authentication field of an AUTHENTICATE cell of AuthType 3 (tor-spec 4.4.2). */
typedef struct {
    uint8_t type[8];        /* "AUTH0003" */
    uint8_t cid[32];        /* SHA-256 of the initiator's RSA identity key (PKCS#1 DER) */
    uint8_t sid[32];        /* SHA-256 of the responder's RSA identity key */
    uint8_t cid_ed[32];     /* initiator's Ed25519 identity */
    uint8_t sid_ed[32];     /* responder's Ed25519 identity */
    uint8_t slog[32];       /* SHA-256 of the responder's bytes through AUTH_CHALLENGE */
    uint8_t clog[32];       /* SHA-256 of the initiator's bytes before AUTHENTICATE */
    uint8_t scert[32];      /* SHA-256 of the responder's TLS certificate */
    uint8_t tlssecrets[32]; /* RFC 5705 exporter output */
    uint8_t rand[OM_AUTH3_RAND_LEN];
    uint8_t sig[64];
    /* Set by om_link_auth_parse: the bytes SIG covers (into the parsed buffer), TYPE through
     * RAND plus any extra bytes before SIG. */
    const uint8_t *signed_part;
    size_t signed_len;
} om_auth3_t;

/* Fill TYPE, SCERT and TLSSECRETS for this link; the caller has set CID (used as the exporter's
 * context, as tor does: tor-spec says the initiator's Ed25519 key, but tor 0.4.9 passes CID and
 * the spec is being corrected, torspec issue 270). responder: whether we are the responder (our
 * own TLS certificate is SCERT) or the initiator (the peer's). 0, or -1 with err. */
int om_link_auth_bind_tls(om_auth3_t *a, om_transport_t *t, bool responder, char *err,
                          size_t errlen);
/* Pick RAND and sign TYPE..RAND with the initiator's authentication key. 0 or -1. */
int om_link_auth_sign(om_auth3_t *a, const om_ed25519_keypair_t *auth_key);
/* The AUTHENTICATE cell payload: AuthType 3, AuthLen 352, the body. out holds at least
 * 4 + OM_AUTH3_BODY_LEN bytes. Returns the payload length or -1. */
int om_link_auth_encode(const om_auth3_t *a, uint8_t *out, size_t outsz);
/* Parse an AUTHENTICATE cell payload (tor-spec 4.4): AuthType(2) AuthLen(2) Authentication.
 * AuthLen beyond the payload is truncated (malformed); AuthType must be 3; Authentication holds
 * at least TYPE..RAND and a 64-byte SIG at its end, with any bytes between RAND and SIG kept in
 * the signed part ("The server MUST ignore any extra bytes in the signed data after the RAND
 * field"; tor 0.4.9 sends none). Bytes after Authentication are ignored. out->signed_part
 * points into payload. 0, or -1 with err starting "AUTHENTICATE: ". */
int om_link_auth_parse(om_auth3_t *out, const uint8_t *payload, size_t len, char *err,
                       size_t errlen);
/* Compare TYPE..TLSSECRETS of got with expected field by field (the first wrong one is named in
 * err), then check SIG over got->signed_part under auth_key. 0 or -1. */
int om_link_auth_verify(const om_auth3_t *got, const om_auth3_t *expected,
                        const uint8_t auth_key[32], char *err, size_t errlen);

/* Tests only: hooks the channel applies to the AUTHENTICATE it sends as initiator, to make a
 * wrong one: before_sign changes fields (then signed correctly), after_encode the payload (len
 * may shrink or grow up to cap). Either may be NULL. */
typedef struct {
    void (*before_sign)(om_auth3_t *a, void *arg);
    void (*after_encode)(uint8_t *payload, size_t *len, size_t cap, void *arg);
    void *arg;
} om_link_auth_test_hooks_t;

/* Initiator (tor-spec 4.4): the AUTHENTICATE cell for this link. me: our identity (RSA and
 * Ed25519 identities, auth key); responder: what the responder's CERTS proved; slog/clog: the
 * handshake logs. hooks may be NULL. NULL with err on failure. */
om_var_cell_t *om_link_auth_initiator_cell(om_transport_t *t, const om_identity_t *me,
                                           const om_peer_identity_t *responder,
                                           const uint8_t slog[32], const uint8_t clog[32],
                                           const om_link_auth_test_hooks_t *hooks, char *err,
                                           size_t errlen);
/* Responder: check an AUTHENTICATE cell payload from an initiator whose CERTS proved `initiator`
 * (om_certs_verify_initiator, which fills its auth key). slog: SHA-256 of what we sent through
 * AUTH_CHALLENGE; clog: of what we received before AUTHENTICATE. 0, or -1 with err. */
int om_link_auth_check(const uint8_t *payload, size_t len, om_transport_t *t,
                       const om_identity_t *me, const om_peer_identity_t *initiator,
                       const uint8_t slog[32], const uint8_t clog[32], char *err, size_t errlen);

#endif
