/* ordb_tree.h — an ORDB file's pieces and their Merkle tree (doc/ordb.md, "Pieces and the
 * tree"): a piece is piece_chunks chunks of 498 bytes (the last piece may be shorter); its leaf is
 * SHA-256(0x00 || piece); the root is RFC 6962's Merkle Tree Hash over the leaves (interior nodes
 * SHA-256(0x01 || left || right), the left subtree the largest power of two below the count). A
 * client first gets the leaves (32 bytes per piece) from any source and checks them against the
 * signed root; then every piece is checked against its leaf as it arrives, so one bad chunk is
 * caught in its piece and that piece fetched again elsewhere. */
#ifndef OM_ORDB_TREE_H
#define OM_ORDB_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ordb/ordb_meta.h"

/* A piece's leaf hash. 0 or -1. */
int om_ordb_leaf(const uint8_t *piece, size_t len, uint8_t out[32]);
/* The Merkle Tree Hash of n leaves (n 0: SHA-256 of nothing, as RFC 6962). 0 or -1. */
int om_ordb_root(const uint8_t (*leaves)[32], size_t n, uint8_t out[32]);
/* Do these n leaves belong to m (count and root)? */
bool om_ordb_leaves_ok(const om_ordb_meta_t *m, const uint8_t (*leaves)[32], size_t n);
/* Is piece `index` (len bytes) the one m's leaves name (its length included)? */
bool om_ordb_piece_ok(const om_ordb_meta_t *m, const uint8_t (*leaves)[32], uint64_t index,
                      const uint8_t *piece, size_t len);

/* Read the file at path and hash its pieces: *leaves (malloc'd, one per piece), *n, *size.
 * 0, or -1 with err (unreadable, over OM_ORDB_SIZE_MAX). */
int om_ordb_hash_file(const char *path, uint16_t piece_chunks, uint8_t (**leaves)[32], size_t *n,
                      uint64_t *size, char *err, size_t errlen);

#endif
