/* onion_handshake.h — circuit-creation handshakes: ntor (tor-spec 5.1.4, CREATE2 type 2),
 * ntor-v3 (proposal 332 / tor-spec "ntor-v3", CREATE2 type 3, with its encrypted extension
 * messages), and CREATE_FAST (tor-spec 5.1.5, KDF-TOR). Client and server sides. Each successful
 * handshake yields key material for relay_crypto (Df Db Kf Kb, 72 bytes) and, where the handshake
 * has one, KH. Secrets held in state structs are wiped by the _clear functions. */
#ifndef OM_CORE_ONION_HANDSHAKE_H
#define OM_CORE_ONION_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"
#include "core/relay_crypto.h"

#define OM_HANDSHAKE_TYPE_TAP     0
#define OM_HANDSHAKE_TYPE_FAST    1 /* only inside CREATE_FAST; never in CREATE2 */
#define OM_HANDSHAKE_TYPE_NTOR    2
#define OM_HANDSHAKE_TYPE_NTOR_V3 3

#define OM_NTOR_ONIONSKIN_LEN 84 /* ID(20) B(32) X(32) */
#define OM_NTOR_REPLY_LEN     64 /* Y(32) AUTH(32) */
#define OM_FAST_LEN           20

/* Output of every handshake. */
typedef struct {
    uint8_t keys[OM_RELAY_KEY_MATERIAL_LEN]; /* Df Db Kf Kb */
    uint8_t kh[20];                          /* KH (ntor: from HKDF; fast: first 20 of KDF-TOR) */
} om_handshake_keys_t;

/* ---- ntor ---- */
typedef struct {
    uint8_t router_id[20]; /* RSA identity digest of the relay */
    uint8_t B[32];         /* relay's ntor onion key */
    om_x25519_keypair_t x; /* our ephemeral */
} om_ntor_client_t;
/* Fills onionskin[84]. */
int om_ntor_client_create(om_ntor_client_t *st, const uint8_t router_id[20], const uint8_t B[32],
                          uint8_t onionskin[OM_NTOR_ONIONSKIN_LEN]);
/* Checks the relay's reply (Y, AUTH; replylen must be OM_NTOR_REPLY_LEN). Returns 0 and fills
 * out (keys via HKDF-SHA256 per tor-spec 5.2.2: Df Db Kf Kb, then KH), or -1 (bad length, bad
 * AUTH, degenerate DH). */
int om_ntor_client_finish(om_ntor_client_t *st, const uint8_t *reply, size_t replylen,
                          om_handshake_keys_t *out);
void om_ntor_client_clear(om_ntor_client_t *st);
/* Server: given our identity digest and onion key pair(s) — the current and optionally the
 * previous one (keys[0..nkeys)) — answer an onionskin. Selects the key whose public part matches
 * B in the onionskin; -1 if none matches or the router ID is not ours. */
int om_ntor_server(const uint8_t router_id[20], const om_x25519_keypair_t *keys, size_t nkeys,
                   const uint8_t onionskin[OM_NTOR_ONIONSKIN_LEN], uint8_t reply[OM_NTOR_REPLY_LEN],
                   om_handshake_keys_t *out);
/* Same, with a caller-chosen ephemeral y (for the spec's test vectors and benchmarks). */
int om_ntor_server_with_y(const uint8_t router_id[20], const om_x25519_keypair_t *keys,
                          size_t nkeys, const uint8_t onionskin[OM_NTOR_ONIONSKIN_LEN],
                          const om_x25519_keypair_t *y, uint8_t reply[OM_NTOR_REPLY_LEN],
                          om_handshake_keys_t *out);

/* ---- ntor-v3 ----
 * The client's message to the relay and the relay's reply each carry an encrypted, authenticated
 * "extension" body (proposal 332 / tor-spec "ntor-v3": a list of extensions, e.g. the
 * congestion-control request, type 1). The bodies are opaque bytes here; om_ntor3_ext_* encode /
 * parse the list. Key material: the SHAKE-256 "kdf_final" stream starts with the 32-byte key that
 * encrypts the relay's message; the 92 bytes after it are Df Db Kf Kb (-> keys) then KH (-> kh). */
#define OM_NTOR3_MAX_MSG            400 /* largest plaintext client/server message accepted */
#define OM_NTOR3_MAX_VERIFICATION   64
#define OM_NTOR3_ONIONSKIN_OVERHEAD 128 /* ID(32) B(32) X(32) MAC(32), plus len(msg) */
#define OM_NTOR3_REPLY_OVERHEAD     64  /* Y(32) AUTH(32), plus len(msg) */
/* The verification string tor (onion_crypto.c) and arti use for CREATE2/EXTEND2. */
#define OM_NTOR3_CIRC_VERIFICATION     "circuit extend"
#define OM_NTOR3_CIRC_VERIFICATION_LEN 14
typedef struct {
    uint8_t id[32];        /* relay's Ed25519 identity */
    uint8_t B[32];         /* relay's ntor onion key */
    om_x25519_keypair_t x; /* our ephemeral */
    uint8_t bx[32];        /* EXP(B, x), kept for phase 2 */
    uint8_t verification[OM_NTOR3_MAX_VERIFICATION];
    size_t verification_len;
    uint8_t msg_mac[32]; /* MAC of our message, bound into the reply */
} om_ntor3_client_t;
/* verification: context both sides bind (OM_NTOR3_CIRC_VERIFICATION for circuit extension;
 * at most OM_NTOR3_MAX_VERIFICATION bytes). client_msg: the plaintext extension list to send (at
 * most OM_NTOR3_MAX_MSG bytes). onionskin gets the CREATE2 body (HDATA); *len in: capacity, out:
 * used (OM_NTOR3_ONIONSKIN_OVERHEAD + client_msg_len). */
int om_ntor3_client_create(om_ntor3_client_t *st, const uint8_t id[32], const uint8_t B[32],
                           const uint8_t *verification, size_t verification_len,
                           const uint8_t *client_msg, size_t client_msg_len, uint8_t *onionskin,
                           size_t *len);
/* Same with a fixed ephemeral (test vectors). */
int om_ntor3_client_create_with_x(om_ntor3_client_t *st, const uint8_t id[32], const uint8_t B[32],
                                  const om_x25519_keypair_t *x, const uint8_t *verification,
                                  size_t verification_len, const uint8_t *client_msg,
                                  size_t client_msg_len, uint8_t *onionskin, size_t *len);
/* Verifies the CREATED2 body (HDATA); on success writes the relay's decrypted message into
 * server_msg (*server_msg_len in: capacity, out: used) and the keys (Df Db Kf Kb + KH).
 * -1 on a short/oversize reply, bad AUTH, degenerate DH or too small a server_msg buffer. */
int om_ntor3_client_finish(om_ntor3_client_t *st, const uint8_t *reply, size_t replylen,
                           uint8_t *server_msg, size_t *server_msg_len, om_handshake_keys_t *out);
void om_ntor3_client_clear(om_ntor3_client_t *st);

/* Server side, split so the relay can inspect the client's message before answering:
 * step 1 decrypts and authenticates the client message; step 2 builds the reply.
 * The state holds secrets until om_ntor3_server_reply or om_ntor3_server_clear wipes it. */
typedef struct {
    uint8_t id[32];
    uint8_t B[32];
    uint8_t X[32];
    uint8_t xb[32]; /* EXP(X, b) */
    uint8_t msg_mac[32];
    uint8_t verification[OM_NTOR3_MAX_VERIFICATION];
    size_t verification_len;
    int ready; /* set by a successful om_ntor3_server_recv */
} om_ntor3_server_t;
/* id: our Ed25519 identity; keys[0..nkeys): our onion key pairs (current, then older ones).
 * Fails (-1) if the onionskin is shorter than OM_NTOR3_ONIONSKIN_OVERHEAD, its message is longer
 * than OM_NTOR3_MAX_MSG or *client_msg_len, NODEID is not ours, no key matches KEYID, the DH is
 * degenerate or the MAC is wrong. On success client_msg gets the plaintext (*client_msg_len in:
 * capacity, out: used). */
int om_ntor3_server_recv(om_ntor3_server_t *st, const uint8_t id[32],
                         const om_x25519_keypair_t *keys, size_t nkeys, const uint8_t *verification,
                         size_t verification_len, const uint8_t *onionskin, size_t onionskin_len,
                         uint8_t *client_msg, size_t *client_msg_len);
/* y NULL: a fresh ephemeral. reply gets the CREATED2 body (*replylen in: capacity, out: used =
 * OM_NTOR3_REPLY_OVERHEAD + server_msg_len). Wipes st whether or not it succeeds. */
int om_ntor3_server_reply(om_ntor3_server_t *st, const om_x25519_keypair_t *y,
                          const uint8_t *server_msg, size_t server_msg_len, uint8_t *reply,
                          size_t *replylen, om_handshake_keys_t *out);
void om_ntor3_server_clear(om_ntor3_server_t *st);

/* ntor-v3 extension lists (tor-spec "ntor-v3" / CREATE2 extensions; tor's trunnel
 * "trn_extension"): N(1) then N x {type(1) len(1) body}. Congestion control (proposal 324):
 * request type 1 (empty body); response type 2 with sendme_inc(1). */
#define OM_NTOR3_EXT_CC_REQUEST  1
#define OM_NTOR3_EXT_CC_RESPONSE 2
typedef struct {
    uint8_t type;
    uint8_t len;
    const uint8_t *body; /* points into the parsed message */
} om_ntor3_ext_t;
#define OM_NTOR3_EXT_MAX 16
/* exts must hold OM_NTOR3_EXT_MAX entries. -1 if the list is empty/truncated, has trailing
 * bytes, or more than OM_NTOR3_EXT_MAX extensions; else 0 with *n set. */
int om_ntor3_ext_parse(const uint8_t *msg, size_t len, om_ntor3_ext_t *exts, size_t *n);
/* *len in: capacity, out: used. -1 if n > 255 or out is too small. */
int om_ntor3_ext_encode(const om_ntor3_ext_t *exts, size_t n, uint8_t *out, size_t *len);
/* The first extension of the given type (later duplicates are to be ignored), or NULL. */
const om_ntor3_ext_t *om_ntor3_ext_find(const om_ntor3_ext_t *exts, size_t n, uint8_t type);

/* ---- CREATE_FAST ---- */
typedef struct {
    uint8_t x[OM_FAST_LEN];
} om_fast_client_t;
int om_fast_client_create(om_fast_client_t *st, uint8_t x_out[OM_FAST_LEN]);
/* reply = Y(20) | KH(20) (CREATED_FAST body; replylen must be 40). -1 if KH mismatches. */
int om_fast_client_finish(om_fast_client_t *st, const uint8_t *reply, size_t replylen,
                          om_handshake_keys_t *out);
int om_fast_server(const uint8_t x[OM_FAST_LEN], uint8_t reply[2 * OM_FAST_LEN],
                   om_handshake_keys_t *out);
void om_fast_client_clear(om_fast_client_t *st);

#endif
