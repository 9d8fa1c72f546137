/* create_fast.c — the CREATE_FAST/CREATED_FAST handshake (tor-spec 5.1.5) and its KDF-TOR key
 * layout (tor-spec 5.2.1): K = KDF-TOR(X | Y) = KH | Df | Db | Kf | Kb. See onion_handshake.h. */
#include "core/onion_handshake.h"

#include <string.h>

#define FAST_KEY_OUT_LEN (20 + OM_RELAY_KEY_MATERIAL_LEN)

/* K0 = X | Y; the first 20 bytes of K are KH, the next 72 Df Db Kf Kb. */
static int fast_derive(const uint8_t x[OM_FAST_LEN], const uint8_t y[OM_FAST_LEN],
                       om_handshake_keys_t *out)
{
    uint8_t k0[2 * OM_FAST_LEN], k[FAST_KEY_OUT_LEN];
    memcpy(k0, x, OM_FAST_LEN);
    memcpy(k0 + OM_FAST_LEN, y, OM_FAST_LEN);
    int rv = om_kdf_tor(k0, sizeof k0, k, sizeof k);
    if (rv == 0) {
        memcpy(out->kh, k, 20);
        memcpy(out->keys, k + 20, OM_RELAY_KEY_MATERIAL_LEN);
    }
    om_memwipe(k0, sizeof k0);
    om_memwipe(k, sizeof k);
    return rv < 0 ? -1 : 0;
}

int om_fast_client_create(om_fast_client_t *st, uint8_t x_out[OM_FAST_LEN])
{
    if (om_rand_bytes(st->x, OM_FAST_LEN) < 0) return -1;
    memcpy(x_out, st->x, OM_FAST_LEN);
    return 0;
}

int om_fast_client_finish(om_fast_client_t *st, const uint8_t *reply, size_t replylen,
                          om_handshake_keys_t *out)
{
    if (!reply || replylen != 2 * OM_FAST_LEN) return -1;
    om_handshake_keys_t k;
    int rv = -1;
    if (fast_derive(st->x, reply, &k) == 0 && om_mem_eq_ct(k.kh, reply + OM_FAST_LEN, 20)) {
        *out = k;
        rv = 0;
    }
    om_memwipe(&k, sizeof k);
    return rv;
}

int om_fast_server(const uint8_t x[OM_FAST_LEN], uint8_t reply[2 * OM_FAST_LEN],
                   om_handshake_keys_t *out)
{
    uint8_t y[OM_FAST_LEN];
    if (om_rand_bytes(y, sizeof y) < 0) return -1;
    if (fast_derive(x, y, out) < 0) {
        om_memwipe(y, sizeof y);
        return -1;
    }
    memcpy(reply, y, OM_FAST_LEN);
    memcpy(reply + OM_FAST_LEN, out->kh, 20);
    om_memwipe(y, sizeof y);
    return 0;
}

void om_fast_client_clear(om_fast_client_t *st)
{
    om_memwipe(st, sizeof *st);
}
