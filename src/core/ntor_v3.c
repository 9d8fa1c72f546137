/* ntor_v3.c — the ntor-v3 circuit handshake (proposal 332; tor-spec "The ntor-v3 handshake"),
 * client and relay, with its encrypted extension messages, and the CREATE2 extension-list codec.
 * Instantiation (proposal 332 A.1): H(s,t) = SHA3-256(ENCAP(t) | s),
 * MAC(k,m,t) = SHA3-256(ENCAP(t) | ENCAP(k) | m), KDF(s,t) = SHAKE-256(ENCAP(t) | s),
 * ENC = AES-256-CTR with a zero IV, ENCAP(s) = htonll(len(s)) | s. See onion_handshake.h. */
#include "core/onion_handshake.h"

#include <string.h>

#define PROTOID     "ntor3-curve25519-sha3_256-1"
#define PROTOID_LEN (sizeof(PROTOID) - 1)
#define T_MSGKDF    PROTOID ":kdf_phase1"
#define T_MSGMAC    PROTOID ":msg_mac"
#define T_KEY_SEED  PROTOID ":key_seed"
#define T_VERIFY    PROTOID ":verify"
#define T_FINAL     PROTOID ":kdf_final"
#define T_AUTH      PROTOID ":auth_final"

#define ENC_KEY_LEN 32
#define MAC_KEY_LEN 32
/* After ENC_KEY, the kdf_final stream gives Df Db Kf Kb (72) then KH (20). */
#define FINAL_KEYS_LEN (OM_RELAY_KEY_MATERIAL_LEN + 20)

/* A bounded byte builder for hash/KDF inputs. Overflow is sticky and makes the result unusable.
 * Largest input: the relay's auth_input, 8+38 + 5*32 + 32 + 8+OM_NTOR3_MAX_MSG + 27 + 6. */
typedef struct {
    uint8_t b[1024];
    size_t n;
    int overflow;
} buf_t;

static void b_add(buf_t *b, const void *p, size_t n)
{
    if (n == 0) return;
    if (b->overflow || n > sizeof b->b - b->n) {
        b->overflow = 1;
        return;
    }
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void b_add_u64(buf_t *b, uint64_t v)
{
    uint8_t e[8];
    for (int i = 7; i >= 0; i--) {
        e[i] = (uint8_t)v;
        v >>= 8;
    }
    b_add(b, e, 8);
}

/* ENCAP(s) = htonll(len(s)) | s */
static void b_add_encap(buf_t *b, const void *p, size_t n)
{
    b_add_u64(b, n);
    b_add(b, p, n);
}

/* Start an input with the tweak: ENCAP(t). */
static void b_init(buf_t *b, const char *tweak)
{
    b->n = 0;
    b->overflow = 0;
    b_add_encap(b, tweak, strlen(tweak));
}

static void b_wipe(buf_t *b)
{
    om_memwipe(b->b, b->n);
    b->n = 0;
}

static int b_sha3(buf_t *b, uint8_t out[32])
{
    int rv = b->overflow ? -1 : om_sha3_256(b->b, b->n, out);
    b_wipe(b);
    return rv < 0 ? -1 : 0;
}

static int b_shake(buf_t *b, uint8_t *out, size_t outlen)
{
    int rv = b->overflow ? -1 : om_shake256(b->b, b->n, out, outlen);
    b_wipe(b);
    return rv < 0 ? -1 : 0;
}

/* In-place AES-256-CTR with a zero IV (both directions). */
static int aes256_ctr(const uint8_t key[32], uint8_t *data, size_t n)
{
    static const uint8_t zero_iv[16];
    if (n == 0) return 0;
    om_aes_t *c = om_aes256_ctr_new(key, zero_iv);
    if (!c) return -1;
    int rv = om_aes_crypt(c, data, data, n);
    om_aes_free(c);
    return rv < 0 ? -1 : 0;
}

/* phase1_keys = KDF_msgkdf(DH | ID | X | B | PROTOID | ENCAP(VER)) = ENC_K1 | MAC_K1 */
static int phase1_keys(const uint8_t dh[32], const uint8_t id[32], const uint8_t X[32],
                       const uint8_t B[32], const uint8_t *ver, size_t verlen,
                       uint8_t keys[ENC_KEY_LEN + MAC_KEY_LEN])
{
    buf_t b;
    b_init(&b, T_MSGKDF);
    b_add(&b, dh, 32);
    b_add(&b, id, 32);
    b_add(&b, X, 32);
    b_add(&b, B, 32);
    b_add(&b, PROTOID, PROTOID_LEN);
    b_add_encap(&b, ver, verlen);
    return b_shake(&b, keys, ENC_KEY_LEN + MAC_KEY_LEN);
}

/* msg_mac = MAC_msgmac(MAC_K1, ID | B | X | MSG) */
static int msg_mac(const uint8_t mac_key[MAC_KEY_LEN], const uint8_t id[32], const uint8_t B[32],
                   const uint8_t X[32], const uint8_t *msg, size_t msglen, uint8_t out[32])
{
    buf_t b;
    b_init(&b, T_MSGMAC);
    b_add_encap(&b, mac_key, MAC_KEY_LEN);
    b_add(&b, id, 32);
    b_add(&b, B, 32);
    b_add(&b, X, 32);
    b_add(&b, msg, msglen);
    return b_sha3(&b, out);
}

/* Phase 2, common to both sides. secret_input = DH1 | DH2 | ID | B | X | Y | PROTOID |
 * ENCAP(VER); key_seed and verify from it; AUTH over
 * verify | ID | B | Y | X | MAC | ENCAP(encrypted server msg) | PROTOID | "Server";
 * final = KDF_final(key_seed): ENC_KEY (32) then Df Db Kf Kb KH. */
typedef struct {
    const uint8_t *dh1, *dh2, *id, *B, *X, *Y, *mac, *ver;
    size_t verlen;
} phase2_in_t;

static int phase2_seed(const phase2_in_t *in, uint8_t key_seed[32], uint8_t verify[32])
{
    buf_t b;
    int rv = 0;
    for (int pass = 0; pass < 2; pass++) {
        b_init(&b, pass == 0 ? T_KEY_SEED : T_VERIFY);
        b_add(&b, in->dh1, 32);
        b_add(&b, in->dh2, 32);
        b_add(&b, in->id, 32);
        b_add(&b, in->B, 32);
        b_add(&b, in->X, 32);
        b_add(&b, in->Y, 32);
        b_add(&b, PROTOID, PROTOID_LEN);
        b_add_encap(&b, in->ver, in->verlen);
        if (b_sha3(&b, pass == 0 ? key_seed : verify) < 0) rv = -1;
    }
    return rv;
}

static int phase2_auth(const phase2_in_t *in, const uint8_t verify[32], const uint8_t *emsg,
                       size_t emsglen, uint8_t auth[32])
{
    buf_t b;
    b_init(&b, T_AUTH);
    b_add(&b, verify, 32);
    b_add(&b, in->id, 32);
    b_add(&b, in->B, 32);
    b_add(&b, in->Y, 32);
    b_add(&b, in->X, 32);
    b_add(&b, in->mac, 32);
    b_add_encap(&b, emsg, emsglen);
    b_add(&b, PROTOID, PROTOID_LEN);
    b_add(&b, "Server", 6);
    return b_sha3(&b, auth);
}

static int phase2_final(const uint8_t key_seed[32], uint8_t enc_key[ENC_KEY_LEN],
                        om_handshake_keys_t *out)
{
    uint8_t raw[ENC_KEY_LEN + FINAL_KEYS_LEN];
    buf_t b;
    b_init(&b, T_FINAL);
    b_add(&b, key_seed, 32);
    int rv = b_shake(&b, raw, sizeof raw);
    if (rv == 0) {
        memcpy(enc_key, raw, ENC_KEY_LEN);
        memcpy(out->keys, raw + ENC_KEY_LEN, OM_RELAY_KEY_MATERIAL_LEN);
        memcpy(out->kh, raw + ENC_KEY_LEN + OM_RELAY_KEY_MATERIAL_LEN, 20);
    }
    om_memwipe(raw, sizeof raw);
    return rv;
}

/* ---- client ---- */

int om_ntor3_client_create_with_x(om_ntor3_client_t *st, const uint8_t id[32], const uint8_t B[32],
                                  const om_x25519_keypair_t *x, const uint8_t *verification,
                                  size_t verification_len, const uint8_t *client_msg,
                                  size_t client_msg_len, uint8_t *onionskin, size_t *len)
{
    uint8_t k1[ENC_KEY_LEN + MAC_KEY_LEN];
    int rv = -1;

    memset(st, 0, sizeof *st);
    if (verification_len > OM_NTOR3_MAX_VERIFICATION || client_msg_len > OM_NTOR3_MAX_MSG ||
        (verification_len && !verification) || (client_msg_len && !client_msg) || !len ||
        *len < OM_NTOR3_ONIONSKIN_OVERHEAD + client_msg_len)
        return -1;

    memcpy(st->id, id, 32);
    memcpy(st->B, B, 32);
    st->x = *x;
    if (verification_len) memcpy(st->verification, verification, verification_len);
    st->verification_len = verification_len;

    /* Bx = EXP(B, x); must not be degenerate. */
    if (om_x25519(st->bx, st->x.sec, B) < 0) goto done;
    if (phase1_keys(st->bx, id, st->x.pub, B, verification, verification_len, k1) < 0) goto done;

    /* NODEID(32) KEYID(32) CLIENT_PK(32) MSG(len CM) MAC(32) */
    uint8_t *msg = onionskin + 96;
    if (client_msg_len)
        memmove(msg, client_msg, client_msg_len); /* first: client_msg may alias onionskin */
    memcpy(onionskin, id, 32);
    memcpy(onionskin + 32, B, 32);
    memcpy(onionskin + 64, st->x.pub, 32);
    if (aes256_ctr(k1, msg, client_msg_len) < 0) goto done;
    if (msg_mac(k1 + ENC_KEY_LEN, id, B, st->x.pub, msg, client_msg_len, st->msg_mac) < 0)
        goto done;
    memcpy(msg + client_msg_len, st->msg_mac, 32);
    *len = OM_NTOR3_ONIONSKIN_OVERHEAD + client_msg_len;
    rv = 0;
done:
    om_memwipe(k1, sizeof k1);
    if (rv < 0) om_ntor3_client_clear(st);
    return rv;
}

int om_ntor3_client_create(om_ntor3_client_t *st, const uint8_t id[32], const uint8_t B[32],
                           const uint8_t *verification, size_t verification_len,
                           const uint8_t *client_msg, size_t client_msg_len, uint8_t *onionskin,
                           size_t *len)
{
    om_x25519_keypair_t x;
    if (om_x25519_keygen(&x) < 0) return -1;
    int rv = om_ntor3_client_create_with_x(st, id, B, &x, verification, verification_len,
                                           client_msg, client_msg_len, onionskin, len);
    om_memwipe(&x, sizeof x);
    return rv;
}

int om_ntor3_client_finish(om_ntor3_client_t *st, const uint8_t *reply, size_t replylen,
                           uint8_t *server_msg, size_t *server_msg_len, om_handshake_keys_t *out)
{
    if (!reply || replylen < OM_NTOR3_REPLY_OVERHEAD || !server_msg_len) return -1;
    size_t mlen = replylen - OM_NTOR3_REPLY_OVERHEAD;
    if (mlen > OM_NTOR3_MAX_MSG || mlen > *server_msg_len || (mlen && !server_msg)) return -1;

    const uint8_t *Y = reply, *auth = reply + 32, *emsg = reply + 64;
    uint8_t yx[32], key_seed[32], verify[32], expect[32], enc_key[ENC_KEY_LEN];
    om_handshake_keys_t keys;
    int rv = -1;

    if (om_x25519(yx, st->x.sec, Y) < 0) goto done;
    phase2_in_t in = {yx,          st->bx,           st->id,
                      st->B,       st->x.pub,        Y,
                      st->msg_mac, st->verification, st->verification_len};
    if (phase2_seed(&in, key_seed, verify) < 0 || phase2_auth(&in, verify, emsg, mlen, expect) < 0)
        goto done;
    if (!om_mem_eq_ct(expect, auth, 32)) goto done;
    if (phase2_final(key_seed, enc_key, &keys) < 0) goto done;
    if (mlen) memmove(server_msg, emsg, mlen);
    if (aes256_ctr(enc_key, server_msg, mlen) < 0) {
        om_memwipe(server_msg, mlen);
        goto done;
    }
    *server_msg_len = mlen;
    *out = keys;
    rv = 0;
done:
    om_memwipe(yx, sizeof yx);
    om_memwipe(key_seed, sizeof key_seed);
    om_memwipe(verify, sizeof verify);
    om_memwipe(enc_key, sizeof enc_key);
    om_memwipe(&keys, sizeof keys);
    return rv;
}

void om_ntor3_client_clear(om_ntor3_client_t *st)
{
    om_x25519_forget(st->x.sec);
    om_memwipe(st, sizeof *st);
}

/* ---- relay ---- */

int om_ntor3_server_recv(om_ntor3_server_t *st, const uint8_t id[32],
                         const om_x25519_keypair_t *keys, size_t nkeys, const uint8_t *verification,
                         size_t verification_len, const uint8_t *onionskin, size_t onionskin_len,
                         uint8_t *client_msg, size_t *client_msg_len)
{
    memset(st, 0, sizeof *st);
    if (!onionskin || onionskin_len < OM_NTOR3_ONIONSKIN_OVERHEAD || !client_msg_len ||
        verification_len > OM_NTOR3_MAX_VERIFICATION || (verification_len && !verification))
        return -1;
    size_t mlen = onionskin_len - OM_NTOR3_ONIONSKIN_OVERHEAD;
    if (mlen > OM_NTOR3_MAX_MSG || mlen > *client_msg_len || (mlen && !client_msg)) return -1;

    const uint8_t *nodeid = onionskin, *B = onionskin + 32, *X = onionskin + 64;
    const uint8_t *emsg = onionskin + 96, *mac = onionskin + 96 + mlen;
    const om_x25519_keypair_t *kp = NULL;
    uint8_t k1[ENC_KEY_LEN + MAC_KEY_LEN], expect[32];
    int rv = -1;

    if (!om_mem_eq_ct(nodeid, id, 32)) return -1;
    for (size_t i = 0; i < nkeys; i++) {
        if (om_mem_eq_ct(keys[i].pub, B, 32)) {
            kp = &keys[i];
            break;
        }
    }
    if (!kp) return -1;

    if (om_x25519(st->xb, kp->sec, X) < 0) goto done;
    if (phase1_keys(st->xb, id, X, B, verification, verification_len, k1) < 0) goto done;
    if (msg_mac(k1 + ENC_KEY_LEN, id, B, X, emsg, mlen, expect) < 0) goto done;
    if (!om_mem_eq_ct(expect, mac, 32)) goto done;
    /* Save what phase 2 needs before decrypting: client_msg may alias the onionskin. */
    memcpy(st->id, id, 32);
    memcpy(st->B, B, 32);
    memcpy(st->X, X, 32);
    memcpy(st->msg_mac, mac, 32);
    if (verification_len) memcpy(st->verification, verification, verification_len);
    st->verification_len = verification_len;
    if (mlen) memmove(client_msg, emsg, mlen);
    if (aes256_ctr(k1, client_msg, mlen) < 0) {
        om_memwipe(client_msg, mlen);
        goto done;
    }
    *client_msg_len = mlen;
    st->ready = 1;
    rv = 0;
done:
    om_memwipe(k1, sizeof k1);
    if (rv < 0) om_ntor3_server_clear(st);
    return rv;
}

int om_ntor3_server_reply(om_ntor3_server_t *st, const om_x25519_keypair_t *y,
                          const uint8_t *server_msg, size_t server_msg_len, uint8_t *reply,
                          size_t *replylen, om_handshake_keys_t *out)
{
    om_x25519_keypair_t yk;
    uint8_t xy[32], key_seed[32], verify[32], enc_key[ENC_KEY_LEN], auth[32];
    om_handshake_keys_t keys;
    int rv = -1;

    memset(&yk, 0, sizeof yk);
    if (!st->ready || server_msg_len > OM_NTOR3_MAX_MSG || (server_msg_len && !server_msg) ||
        !reply || !replylen || *replylen < OM_NTOR3_REPLY_OVERHEAD + server_msg_len)
        goto done;
    if (y)
        yk = *y;
    else if (om_x25519_keygen(&yk) < 0)
        goto done;

    if (om_x25519(xy, yk.sec, st->X) < 0) goto done;
    phase2_in_t in = {xy,
                      st->xb,
                      st->id,
                      st->B,
                      st->X,
                      yk.pub,
                      st->msg_mac,
                      st->verification,
                      st->verification_len};
    if (phase2_seed(&in, key_seed, verify) < 0 || phase2_final(key_seed, enc_key, &keys) < 0)
        goto done;

    /* Y(32) AUTH(32) MSG */
    uint8_t *emsg = reply + OM_NTOR3_REPLY_OVERHEAD;
    if (server_msg_len) memmove(emsg, server_msg, server_msg_len);
    if (aes256_ctr(enc_key, emsg, server_msg_len) < 0) goto done;
    if (phase2_auth(&in, verify, emsg, server_msg_len, auth) < 0) goto done;
    memcpy(reply, yk.pub, 32);
    memcpy(reply + 32, auth, 32);
    *replylen = OM_NTOR3_REPLY_OVERHEAD + server_msg_len;
    *out = keys;
    rv = 0;
done:
    if (!y) om_x25519_forget(yk.sec);
    om_memwipe(&yk, sizeof yk);
    om_memwipe(xy, sizeof xy);
    om_memwipe(key_seed, sizeof key_seed);
    om_memwipe(verify, sizeof verify);
    om_memwipe(enc_key, sizeof enc_key);
    om_memwipe(&keys, sizeof keys);
    om_ntor3_server_clear(st);
    return rv;
}

void om_ntor3_server_clear(om_ntor3_server_t *st)
{
    om_memwipe(st, sizeof *st);
}

/* ---- extension lists: N(1) then N x {TYPE(1) LEN(1) BODY(LEN)} ---- */

int om_ntor3_ext_parse(const uint8_t *msg, size_t len, om_ntor3_ext_t *exts, size_t *n)
{
    if (!msg || len < 1 || !exts || !n) return -1;
    size_t count = msg[0], off = 1;
    if (count > OM_NTOR3_EXT_MAX) return -1;
    for (size_t i = 0; i < count; i++) {
        if (len - off < 2) return -1;
        uint8_t type = msg[off], flen = msg[off + 1];
        off += 2;
        if (len - off < flen) return -1;
        exts[i].type = type;
        exts[i].len = flen;
        exts[i].body = msg + off;
        off += flen;
    }
    if (off != len) return -1;
    *n = count;
    return 0;
}

int om_ntor3_ext_encode(const om_ntor3_ext_t *exts, size_t n, uint8_t *out, size_t *len)
{
    if (n > 255 || !out || !len || (n && !exts)) return -1;
    size_t need = 1;
    for (size_t i = 0; i < n; i++) {
        if (exts[i].len && !exts[i].body) return -1;
        need += 2 + (size_t)exts[i].len;
    }
    if (need > *len) return -1;
    size_t off = 0;
    out[off++] = (uint8_t)n;
    for (size_t i = 0; i < n; i++) {
        out[off++] = exts[i].type;
        out[off++] = exts[i].len;
        if (exts[i].len) memcpy(out + off, exts[i].body, exts[i].len);
        off += exts[i].len;
    }
    *len = off;
    return 0;
}

const om_ntor3_ext_t *om_ntor3_ext_find(const om_ntor3_ext_t *exts, size_t n, uint8_t type)
{
    for (size_t i = 0; i < n; i++)
        if (exts[i].type == type) return &exts[i];
    return NULL;
}
