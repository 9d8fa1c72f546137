/* relay_crypto.c — tor1 relay cell crypto (see relay_crypto.h): key layout (tor-spec 5.2),
 * per-hop layered AES-CTR (5.5) and the running-digest / 'recognized' rules (6.1).
 * Hot path: no allocation by this file per cell (rc->scratch, the digest check's work state, is
 * made once, on the first cell that might be ours). */
#include "core/relay_crypto.h"

#include <string.h>

/* Relay header offsets (tor-spec 6.1): command(1) recognized(2) stream(2) digest(4) length(2). */
#define RC_RECOGNIZED_OFF 1
#define RC_DIGEST_OFF     5
#define RC_DIGEST_LEN     4

/* Key material offsets, tor-spec 5.2: Df | Db | Kf | Kb. */
#define RC_DF_OFF 0
#define RC_DB_OFF OM_SHA1_LEN
#define RC_KF_OFF (2 * OM_SHA1_LEN)
#define RC_KB_OFF (2 * OM_SHA1_LEN + OM_AES128_KEY_LEN)

static om_digest_t *seeded_sha1(const uint8_t seed[OM_SHA1_LEN])
{
    om_digest_t *d = om_digest_new(OM_DIGEST_SHA1);
    if (d && om_digest_update(d, seed, OM_SHA1_LEN) < 0) {
        om_digest_free(d);
        return NULL;
    }
    return d;
}

int om_relay_crypto_init(om_relay_crypto_t *rc, const uint8_t keys[OM_RELAY_KEY_MATERIAL_LEN])
{
    memset(rc, 0, sizeof *rc);
    rc->fwd_digest = seeded_sha1(keys + RC_DF_OFF);
    rc->back_digest = seeded_sha1(keys + RC_DB_OFF);
    rc->scratch = NULL; /* made on the first recognized-looking cell: see check_digest */
    rc->fwd_cipher = om_aes128_ctr_new(keys + RC_KF_OFF, NULL);
    rc->back_cipher = om_aes128_ctr_new(keys + RC_KB_OFF, NULL);
    if (!rc->fwd_digest || !rc->back_digest || !rc->fwd_cipher || !rc->back_cipher) {
        om_relay_crypto_clear(rc);
        return -1;
    }
    return 0;
}

void om_relay_crypto_clear(om_relay_crypto_t *rc)
{
    om_aes_free(rc->fwd_cipher);
    om_aes_free(rc->back_cipher);
    om_digest_free(rc->fwd_digest);
    om_digest_free(rc->back_digest);
    om_digest_free(rc->scratch);
    memset(rc, 0, sizeof *rc);
}

/* tor-spec 6.1, sending: recognized = 0, digest field = 0, add the whole payload to the running
 * digest, then put its first 4 bytes in the digest field. */
static void set_digest(om_digest_t *running, uint8_t payload[OM_CELL_PAYLOAD_LEN])
{
    memset(payload + RC_RECOGNIZED_OFF, 0, 2);
    memset(payload + RC_DIGEST_OFF, 0, RC_DIGEST_LEN);
    om_digest_update(running, payload, OM_CELL_PAYLOAD_LEN);
    om_digest_peek(running, payload + RC_DIGEST_OFF, RC_DIGEST_LEN);
}

/* tor-spec 6.1, receiving: a cell is ours when recognized == 0 and the digest field equals the
 * running digest over the payload with that field zeroed. The candidate state is computed in
 * rc->scratch (a copy of the running digest); on a match the two are swapped, so the running
 * digest moves forward, and on a mismatch the running digest is simply left untouched. The
 * payload is returned unchanged in both cases (it may still have to be forwarded). */
static bool check_digest(om_relay_crypto_t *rc, om_digest_t **running,
                         uint8_t payload[OM_CELL_PAYLOAD_LEN])
{
    uint8_t received[RC_DIGEST_LEN], computed[RC_DIGEST_LEN];
    bool match;
    if (payload[RC_RECOGNIZED_OFF] != 0 || payload[RC_RECOGNIZED_OFF + 1] != 0) return false;
    /* The scratch state exists only once a cell with recognized == 0 arrived: a middle relay's
     * circuits (which see such cells about once in 65536 unless addressed) never pay its
     * ~320 bytes. */
    if (!rc->scratch && !(rc->scratch = om_digest_new(OM_DIGEST_SHA1))) return false;
    memcpy(received, payload + RC_DIGEST_OFF, RC_DIGEST_LEN);
    memset(payload + RC_DIGEST_OFF, 0, RC_DIGEST_LEN);
    match = om_digest_assign(rc->scratch, *running) == 0 &&
            om_digest_update(rc->scratch, payload, OM_CELL_PAYLOAD_LEN) == 0 &&
            om_digest_peek(rc->scratch, computed, RC_DIGEST_LEN) == 0 &&
            om_mem_eq_ct(received, computed, RC_DIGEST_LEN);
    memcpy(payload + RC_DIGEST_OFF, received, RC_DIGEST_LEN);
    if (match) {
        om_digest_t *t = *running;
        *running = rc->scratch;
        rc->scratch = t;
    }
    return match;
}

/* ---- origin side ---- */

void om_relay_crypto_set_digest_fwd(om_relay_crypto_t *rc, uint8_t payload[OM_CELL_PAYLOAD_LEN])
{
    set_digest(rc->fwd_digest, payload);
}

void om_relay_crypto_encrypt_fwd(om_relay_crypto_t *rc, uint8_t payload[OM_CELL_PAYLOAD_LEN])
{
    om_aes_crypt(rc->fwd_cipher, payload, payload, OM_CELL_PAYLOAD_LEN);
}

void om_relay_crypto_decrypt_back(om_relay_crypto_t *rc, uint8_t payload[OM_CELL_PAYLOAD_LEN])
{
    om_aes_crypt(rc->back_cipher, payload, payload, OM_CELL_PAYLOAD_LEN);
}

bool om_relay_crypto_check_back(om_relay_crypto_t *rc, uint8_t payload[OM_CELL_PAYLOAD_LEN])
{
    return check_digest(rc, &rc->back_digest, payload);
}

/* ---- relay side ---- */

void om_relay_crypto_decrypt_fwd(om_relay_crypto_t *rc, uint8_t payload[OM_CELL_PAYLOAD_LEN])
{
    om_aes_crypt(rc->fwd_cipher, payload, payload, OM_CELL_PAYLOAD_LEN);
}

bool om_relay_crypto_check_fwd(om_relay_crypto_t *rc, uint8_t payload[OM_CELL_PAYLOAD_LEN])
{
    return check_digest(rc, &rc->fwd_digest, payload);
}

void om_relay_crypto_set_digest_back(om_relay_crypto_t *rc, uint8_t payload[OM_CELL_PAYLOAD_LEN])
{
    set_digest(rc->back_digest, payload);
}

void om_relay_crypto_encrypt_back(om_relay_crypto_t *rc, uint8_t payload[OM_CELL_PAYLOAD_LEN])
{
    om_aes_crypt(rc->back_cipher, payload, payload, OM_CELL_PAYLOAD_LEN);
}

void om_relay_crypto_last_digest_fwd(const om_relay_crypto_t *rc, uint8_t out[20])
{
    om_digest_peek(rc->fwd_digest, out, OM_SHA1_LEN);
}

void om_relay_crypto_last_digest_back(const om_relay_crypto_t *rc, uint8_t out[20])
{
    om_digest_peek(rc->back_digest, out, OM_SHA1_LEN);
}
