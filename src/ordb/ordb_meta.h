/* ordb_meta.h — an ORDB file's metadata record (doc/ordb.md, "Content naming"): what the file
 * is (size, media type), how it is cut (498-byte chunks, one relay payload; pieces of a number of
 * chunks), the SHA-256 Merkle root over its pieces (ordb_tree.h), and its publisher's Ed25519
 * key and signature. The file's NAME is the SHA-256 of the whole record; its first 160 bits are
 * the DHT key (doc/dht.md). A pure codec over untrusted bytes: bounds-checked, no allocation. */
#ifndef OM_ORDB_META_H
#define OM_ORDB_META_H

#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"

#define OM_ORDB_MAGIC      "ORDB"
#define OM_ORDB_VERSION    1
#define OM_ORDB_CHUNK      498 /* one relay cell's payload (509 - 11) */
#define OM_ORDB_TYPE_MAX   127 /* media type bytes */
#define OM_ORDB_NAME_LEN   32
#define OM_ORDB_SIG_PREFIX "onionmesh-ordb-meta-v1"
#define OM_ORDB_META_FIXED (4 + 1 + 1 + 8 + 2 + 2 + 32 + 32 + 8 + 1 + 64)
#define OM_ORDB_META_MAX   (OM_ORDB_META_FIXED + OM_ORDB_TYPE_MAX)
/* Pieces: at least 1 chunk, at most 4096 (about 2 MB); the tool's default is 512 (249 KiB). */
#define OM_ORDB_PIECE_CHUNKS_MAX     4096
#define OM_ORDB_PIECE_CHUNKS_DEFAULT 512
/* Files up to 2^40 bytes (1 TiB). */
#define OM_ORDB_SIZE_MAX (1ull << 40)

enum { OM_ORDB_KIND_FILE = 1 };

typedef struct {
    uint8_t kind;                          /* OM_ORDB_KIND_FILE */
    uint64_t size;                         /* bytes */
    uint16_t chunk;                        /* OM_ORDB_CHUNK */
    uint16_t piece_chunks;                 /* chunks per piece */
    uint8_t root[32];                      /* Merkle root over the pieces (ordb_tree.h) */
    uint8_t publisher[32];                 /* Ed25519 public key */
    uint64_t created;                      /* seconds since 1970 */
    char media_type[OM_ORDB_TYPE_MAX + 1]; /* "type/subtype", NUL-terminated */
    uint8_t sig[64];
} om_ordb_meta_t;

/* The record's bytes: its length, or -1 (a field out of range, cap too small). */
long om_ordb_meta_encode(const om_ordb_meta_t *m, uint8_t *out, size_t cap);
/* A record from untrusted bytes: 0, or -1 with err. The signature is not checked here
 * (om_ordb_meta_verify). */
int om_ordb_meta_parse(const uint8_t *p, size_t len, om_ordb_meta_t *m, char *err, size_t errlen);
/* Set m->publisher from kp and sign every other field. 0 or -1. */
int om_ordb_meta_sign(om_ordb_meta_t *m, const om_ed25519_keypair_t *kp);
/* 0 if the signature verifies, -1 if not. */
int om_ordb_meta_verify(const om_ordb_meta_t *m);
/* NAME = SHA-256 of the encoded record. 0 or -1. */
int om_ordb_meta_name(const om_ordb_meta_t *m, uint8_t name[OM_ORDB_NAME_LEN]);
/* Bytes per piece, and the number of pieces (0 for an empty file). */
uint64_t om_ordb_piece_bytes(const om_ordb_meta_t *m);
uint64_t om_ordb_pieces(const om_ordb_meta_t *m);

#endif
