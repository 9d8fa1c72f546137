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
/* Checks the relay's reply (Y, AUTH). Returns 0 and fills out, or -1 (bad AUTH / degenerate). */
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
 * "extension" body (proposal 332 / tor-spec: a list of extensions, e.g. the congestion-control
 * request, type 2). The bodies are opaque bytes here; om_ntor3_ext_* encode/parse the list. */
#define OM_NTOR3_MAX_MSG 400
typedef struct {
    uint8_t id[32];        /* relay's Ed25519 identity */
    uint8_t B[32];         /* relay's ntor onion key */
    om_x25519_keypair_t x; /* our ephemeral */
    uint8_t verification[64];
    size_t verification_len;
    uint8_t msg_mac[32]; /* MAC of our message, bound into the reply */
} om_ntor3_client_t;
/* verification: protocol-specific context both sides bind (empty for circuit extension).
 * client_msg: the plaintext extension list to send. onionskin gets the CREATE2 body; *len in:
 * capacity, out: used. */
int om_ntor3_client_create(om_ntor3_client_t *st, const uint8_t id[32], const uint8_t B[32],
                           const uint8_t *verification, size_t verification_len,
                           const uint8_t *client_msg, size_t client_msg_len, uint8_t *onionskin,
                           size_t *len);
/* Same with a fixed ephemeral (test vectors). */
int om_ntor3_client_create_with_x(om_ntor3_client_t *st, const uint8_t id[32], const uint8_t B[32],
                                  const om_x25519_keypair_t *x, const uint8_t *verification,
                                  size_t verification_len, const uint8_t *client_msg,
                                  size_t client_msg_len, uint8_t *onionskin, size_t *len);
/* Verifies the CREATED2 body; on success writes the relay's decrypted message into server_msg
 * (*server_msg_len in: capacity, out: used) and the keys. out_keylen bytes of key material are
 * derived (72 for tor1). */
int om_ntor3_client_finish(om_ntor3_client_t *st, const uint8_t *reply, size_t replylen,
                           uint8_t *server_msg, size_t *server_msg_len, om_handshake_keys_t *out);
void om_ntor3_client_clear(om_ntor3_client_t *st);

/* Server side, split so the relay can inspect the client's message before answering:
 * step 1 decrypts and authenticates the client message; step 2 builds the reply. */
typedef struct {
    uint8_t secret_seed_state[256]; /* opaque to callers */
    size_t state_len;
} om_ntor3_server_t;
int om_ntor3_server_recv(om_ntor3_server_t *st, const uint8_t id[32],
                         const om_x25519_keypair_t *keys, size_t nkeys,
                         const uint8_t *verification, size_t verification_len,
                         const uint8_t *onionskin, size_t onionskin_len, uint8_t *client_msg,
                         size_t *client_msg_len);
/* y NULL: a fresh ephemeral. */
int om_ntor3_server_reply(om_ntor3_server_t *st, const om_x25519_keypair_t *y,
                          const uint8_t *server_msg, size_t server_msg_len, uint8_t *reply,
                          size_t *replylen, om_handshake_keys_t *out);
void om_ntor3_server_clear(om_ntor3_server_t *st);

/* ntor-v3 extension lists (tor-spec "CREATE2 extensions"): N(1) then N x {type(1) len(1) body}.
 * Congestion-control request: type 1 (empty body); response: type 2 with sendme_inc(1). */
#define OM_NTOR3_EXT_CC_REQUEST  1
#define OM_NTOR3_EXT_CC_RESPONSE 2
typedef struct {
    uint8_t type;
    uint8_t len;
    const uint8_t *body;
} om_ntor3_ext_t;
#define OM_NTOR3_EXT_MAX 16
int om_ntor3_ext_parse(const uint8_t *msg, size_t len, om_ntor3_ext_t *exts, size_t *n);
int om_ntor3_ext_encode(const om_ntor3_ext_t *exts, size_t n, uint8_t *out, size_t *len);

/* ---- CREATE_FAST ---- */
typedef struct {
    uint8_t x[OM_FAST_LEN];
} om_fast_client_t;
int om_fast_client_create(om_fast_client_t *st, uint8_t x_out[OM_FAST_LEN]);
/* reply = Y(20) | KH(20) (CREATED_FAST body). -1 if KH mismatches. */
int om_fast_client_finish(om_fast_client_t *st, const uint8_t *reply, size_t replylen,
                          om_handshake_keys_t *out);
int om_fast_server(const uint8_t x[OM_FAST_LEN], uint8_t reply[2 * OM_FAST_LEN],
                   om_handshake_keys_t *out);
void om_fast_client_clear(om_fast_client_t *st);

#endif
