/* ntor.c — the ntor circuit handshake (tor-spec 5.1.4), client and server, with its
 * KDF-RFC5869 key expansion (tor-spec 5.2.2). See onion_handshake.h. */
#include "core/onion_handshake.h"

#include <string.h>

#define PROTOID     "ntor-curve25519-sha256-1"
#define PROTOID_LEN (sizeof(PROTOID) - 1)
#define T_MAC       PROTOID ":mac"
#define T_KEY       PROTOID ":key_extract"
#define T_VERIFY    PROTOID ":verify"
#define M_EXPAND    PROTOID ":key_expand"

/* Df Db Kf Kb (72) then KH (20): tor-spec 5.2.2. */
#define NTOR_KEY_OUT_LEN (OM_RELAY_KEY_MATERIAL_LEN + 20)

/* secret_input = EXP1 | EXP2 | ID | B | X | Y | PROTOID */
#define SECRET_INPUT_LEN (32 + 32 + 20 + 32 + 32 + 32 + PROTOID_LEN)
/* auth_input = verify | ID | B | Y | X | PROTOID | "Server" */
#define AUTH_INPUT_LEN (32 + 20 + 32 + 32 + 32 + PROTOID_LEN + 6)

static uint8_t *put(uint8_t *p, const void *src, size_t n)
{
    memcpy(p, src, n);
    return p + n;
}

/* Everything after the two DH outputs is common to both sides: from secret_input compute
 * AUTH and the keys (tor-spec 5.1.4). */
static int ntor_derive(const uint8_t exp1[32], const uint8_t exp2[32], const uint8_t id[20],
                       const uint8_t B[32], const uint8_t X[32], const uint8_t Y[32],
                       uint8_t auth[32], om_handshake_keys_t *out)
{
    uint8_t si[SECRET_INPUT_LEN], ai[AUTH_INPUT_LEN];
    uint8_t key_seed[32], verify[32], keys[NTOR_KEY_OUT_LEN];
    int rv = -1;

    uint8_t *p = si;
    p = put(p, exp1, 32);
    p = put(p, exp2, 32);
    p = put(p, id, 20);
    p = put(p, B, 32);
    p = put(p, X, 32);
    p = put(p, Y, 32);
    put(p, PROTOID, PROTOID_LEN);

    /* H(x, t) is HMAC-SHA256 with message x and key t. */
    if (om_hmac_sha256((const uint8_t *)T_KEY, sizeof(T_KEY) - 1, si, sizeof si, key_seed) < 0 ||
        om_hmac_sha256((const uint8_t *)T_VERIFY, sizeof(T_VERIFY) - 1, si, sizeof si, verify) < 0)
        goto done;

    p = ai;
    p = put(p, verify, 32);
    p = put(p, id, 20);
    p = put(p, B, 32);
    p = put(p, Y, 32);
    p = put(p, X, 32);
    p = put(p, PROTOID, PROTOID_LEN);
    put(p, "Server", 6);
    if (om_hmac_sha256((const uint8_t *)T_MAC, sizeof(T_MAC) - 1, ai, sizeof ai, auth) < 0)
        goto done;

    /* KDF-RFC5869: HKDF-Expand with PRK = KEY_SEED, info = m_expand (tor-spec 5.2.2). */
    if (om_hkdf_sha256_expand(key_seed, sizeof key_seed, (const uint8_t *)M_EXPAND,
                              sizeof(M_EXPAND) - 1, keys, sizeof keys) < 0)
        goto done;
    memcpy(out->keys, keys, OM_RELAY_KEY_MATERIAL_LEN);
    memcpy(out->kh, keys + OM_RELAY_KEY_MATERIAL_LEN, sizeof out->kh);
    rv = 0;
done:
    om_memwipe(si, sizeof si);
    om_memwipe(ai, sizeof ai);
    om_memwipe(key_seed, sizeof key_seed);
    om_memwipe(verify, sizeof verify);
    om_memwipe(keys, sizeof keys);
    return rv;
}

int om_ntor_client_create(om_ntor_client_t *st, const uint8_t router_id[20], const uint8_t B[32],
                          uint8_t onionskin[OM_NTOR_ONIONSKIN_LEN])
{
    memset(st, 0, sizeof *st);
    if (om_x25519_keygen(&st->x) < 0) return -1;
    memcpy(st->router_id, router_id, 20);
    memcpy(st->B, B, 32);
    /* NODEID(20) KEYID(32) = B, CLIENT_KP(32) */
    memcpy(onionskin, router_id, 20);
    memcpy(onionskin + 20, B, 32);
    memcpy(onionskin + 52, st->x.pub, 32);
    return 0;
}

int om_ntor_client_finish(om_ntor_client_t *st, const uint8_t *reply, size_t replylen,
                          om_handshake_keys_t *out)
{
    if (!reply || replylen != OM_NTOR_REPLY_LEN) return -1;
    const uint8_t *Y = reply, *auth = reply + 32;
    uint8_t yx[32], bx[32], expect[32];
    om_handshake_keys_t keys;
    int rv = -1;

    /* Both EXP results must be non-degenerate (om_x25519 rejects all-zero output). */
    if (om_x25519(yx, st->x.sec, Y) < 0 || om_x25519(bx, st->x.sec, st->B) < 0) goto done;
    if (ntor_derive(yx, bx, st->router_id, st->B, st->x.pub, Y, expect, &keys) < 0) goto done;
    if (!om_mem_eq_ct(expect, auth, 32)) goto done;
    *out = keys;
    rv = 0;
done:
    om_memwipe(yx, sizeof yx);
    om_memwipe(bx, sizeof bx);
    om_memwipe(&keys, sizeof keys);
    return rv;
}

void om_ntor_client_clear(om_ntor_client_t *st)
{
    om_x25519_forget(st->x.sec);
    om_memwipe(st, sizeof *st);
}

int om_ntor_server_with_y(const uint8_t router_id[20], const om_x25519_keypair_t *keys,
                          size_t nkeys, const uint8_t onionskin[OM_NTOR_ONIONSKIN_LEN],
                          const om_x25519_keypair_t *y, uint8_t reply[OM_NTOR_REPLY_LEN],
                          om_handshake_keys_t *out)
{
    const uint8_t *id = onionskin, *B = onionskin + 20, *X = onionskin + 52;
    const om_x25519_keypair_t *kp = NULL;
    uint8_t xy[32], xb[32], auth[32];
    om_handshake_keys_t k;
    int rv = -1;

    if (!om_mem_eq_ct(id, router_id, 20)) return -1;
    for (size_t i = 0; i < nkeys; i++) {
        if (om_mem_eq_ct(keys[i].pub, B, 32)) {
            kp = &keys[i];
            break;
        }
    }
    if (!kp) return -1;

    if (om_x25519(xy, y->sec, X) < 0 || om_x25519(xb, kp->sec, X) < 0) goto done;
    if (ntor_derive(xy, xb, router_id, kp->pub, X, y->pub, auth, &k) < 0) goto done;
    memcpy(reply, y->pub, 32);
    memcpy(reply + 32, auth, 32);
    *out = k;
    rv = 0;
done:
    om_memwipe(xy, sizeof xy);
    om_memwipe(xb, sizeof xb);
    om_memwipe(&k, sizeof k);
    return rv;
}

int om_ntor_server(const uint8_t router_id[20], const om_x25519_keypair_t *keys, size_t nkeys,
                   const uint8_t onionskin[OM_NTOR_ONIONSKIN_LEN], uint8_t reply[OM_NTOR_REPLY_LEN],
                   om_handshake_keys_t *out)
{
    om_x25519_keypair_t y;
    if (om_x25519_keygen(&y) < 0) return -1;
    int rv = om_ntor_server_with_y(router_id, keys, nkeys, onionskin, &y, reply, out);
    om_x25519_forget(y.sec);
    om_memwipe(&y, sizeof y);
    return rv;
}
