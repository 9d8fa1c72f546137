/* relay_crypto.h — the "tor1" relay cell encryption (tor-spec 5.2, 5.5, 6.1): per hop one
 * AES-128-CTR stream and one running SHA-1 digest in each direction; setting and checking the
 * 4-byte digest and the "recognized" field. Works in place on the 509-byte cell payload. */
#ifndef OM_CORE_RELAY_CRYPTO_H
#define OM_CORE_RELAY_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cell.h"
#include "core/crypto.h"

/* Key material layout for tor1: Df(20) Db(20) Kf(16) Kb(16) = 72 bytes, then KH (20) where the
 * handshake provides it. */
#define OM_RELAY_KEY_MATERIAL_LEN 72

typedef struct {
    om_aes_t *fwd_cipher;     /* Kf: client->exit direction */
    om_aes_t *back_cipher;    /* Kb */
    om_digest_t *fwd_digest;  /* seeded with Df */
    om_digest_t *back_digest; /* seeded with Db */
    om_digest_t *scratch;     /* candidate state for the recognized check (swapped in on a match;
                                 NULL until the first cell with recognized == 0) */
} om_relay_crypto_t;

/* Initialise from 72 bytes of key material (Df Db Kf Kb). is_client selects nothing for now but
 * documents which side owns it. Returns 0 or -1. Wipes nothing of the caller's buffer. */
int om_relay_crypto_init(om_relay_crypto_t *rc, const uint8_t keys[OM_RELAY_KEY_MATERIAL_LEN]);
void om_relay_crypto_clear(om_relay_crypto_t *rc);

/* ---- origin (client) side, for one hop of its circuit ----
 * Outbound: set the digest of a cell originated by us and destined to this hop:
 * update fwd_digest over the payload with the digest field zeroed, write its first 4 bytes. */
void om_relay_crypto_set_digest_fwd(om_relay_crypto_t *rc, uint8_t payload[OM_CELL_PAYLOAD_LEN]);
/* Encrypt one layer in the forward direction. */
void om_relay_crypto_encrypt_fwd(om_relay_crypto_t *rc, uint8_t payload[OM_CELL_PAYLOAD_LEN]);
/* Inbound: decrypt one layer in the backward direction. */
void om_relay_crypto_decrypt_back(om_relay_crypto_t *rc, uint8_t payload[OM_CELL_PAYLOAD_LEN]);
/* After decrypting: true if recognized==0 and the digest matches back_digest (which is then
 * updated); false leaves back_digest unchanged. */
bool om_relay_crypto_check_back(om_relay_crypto_t *rc, uint8_t payload[OM_CELL_PAYLOAD_LEN]);

/* ---- relay (OR) side, for its hop of a circuit ---- */
void om_relay_crypto_decrypt_fwd(om_relay_crypto_t *rc, uint8_t payload[OM_CELL_PAYLOAD_LEN]);
bool om_relay_crypto_check_fwd(om_relay_crypto_t *rc, uint8_t payload[OM_CELL_PAYLOAD_LEN]);
void om_relay_crypto_set_digest_back(om_relay_crypto_t *rc, uint8_t payload[OM_CELL_PAYLOAD_LEN]);
void om_relay_crypto_encrypt_back(om_relay_crypto_t *rc, uint8_t payload[OM_CELL_PAYLOAD_LEN]);

/* The 20-byte running digest after the last cell set/checked in a direction (authenticated
 * SENDME v1, proposal 289, uses the digest of the cell that triggered it). */
void om_relay_crypto_last_digest_fwd(const om_relay_crypto_t *rc, uint8_t out[20]);
void om_relay_crypto_last_digest_back(const om_relay_crypto_t *rc, uint8_t out[20]);

#endif
