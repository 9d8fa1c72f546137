/* ordb_tree.c — pieces, leaves and the RFC 6962 Merkle Tree Hash of an ORDB file
 * (ordb_tree.h). Hashing is OpenSSL's SHA-256 through core/crypto.h. */
#include "ordb/ordb_tree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hash2(uint8_t prefix, const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
                 uint8_t out[32])
{
    om_digest_t *d = om_digest_new(OM_DIGEST_SHA256);
    int rc = d && om_digest_update(d, &prefix, 1) == 0 && om_digest_update(d, a, an) == 0 &&
                     (!bn || om_digest_update(d, b, bn) == 0) && om_digest_peek(d, out, 32) == 0
                 ? 0
                 : -1;
    om_digest_free(d);
    return rc;
}

int om_ordb_leaf(const uint8_t *piece, size_t len, uint8_t out[32])
{
    return hash2(0x00, piece, len, NULL, 0, out);
}

/* RFC 6962 2.1: MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of
 * two below n; a single leaf is its own hash (the leaf hashes are given). */
static int mth(const uint8_t (*l)[32], size_t n, uint8_t out[32])
{
    if (n == 1) {
        memcpy(out, l[0], 32);
        return 0;
    }
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    uint8_t left[32], right[32];
    if (mth(l, k, left) < 0 || mth(l + k, n - k, right) < 0) return -1;
    return hash2(0x01, left, 32, right, 32, out);
}

int om_ordb_root(const uint8_t (*leaves)[32], size_t n, uint8_t out[32])
{
    static const uint8_t nothing[1];
    return n ? mth(leaves, n, out) : om_sha256(nothing, 0, out);
}

bool om_ordb_leaves_ok(const om_ordb_meta_t *m, const uint8_t (*leaves)[32], size_t n)
{
    uint8_t root[32];
    return n == om_ordb_pieces(m) && om_ordb_root(leaves, n, root) == 0 &&
           om_mem_eq_ct(root, m->root, 32);
}

bool om_ordb_piece_ok(const om_ordb_meta_t *m, const uint8_t (*leaves)[32], uint64_t index,
                      const uint8_t *piece, size_t len)
{
    uint64_t pieces = om_ordb_pieces(m), pb = om_ordb_piece_bytes(m);
    if (index >= pieces) return false;
    uint64_t want = index + 1 < pieces ? pb : m->size - index * pb;
    uint8_t leaf[32];
    return len == want && om_ordb_leaf(piece, len, leaf) == 0 &&
           om_mem_eq_ct(leaf, leaves[index], 32);
}

int om_ordb_hash_file(const char *path, uint16_t piece_chunks, uint8_t (**leaves)[32], size_t *n,
                      uint64_t *size, char *err, size_t errlen)
{
    *leaves = NULL;
    *n = 0;
    *size = 0;
    if (errlen) err[0] = 0;
    if (piece_chunks == 0 || piece_chunks > OM_ORDB_PIECE_CHUNKS_MAX) {
        snprintf(err, errlen, "piece size out of range");
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t pb = (size_t)OM_ORDB_CHUNK * piece_chunks, cap = 0;
    uint8_t *buf = malloc(pb);
    uint8_t(*l)[32] = NULL;
    int rc = buf ? 0 : -1;
    for (size_t got; rc == 0 && (got = fread(buf, 1, pb, f)) > 0;) {
        if ((*size += got) > OM_ORDB_SIZE_MAX) {
            snprintf(err, errlen, "%s: larger than 1 TiB", path);
            rc = -1;
            break;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            uint8_t(*g)[32] = realloc(l, cap * sizeof *l);
            if (!g) {
                rc = -1;
                break;
            }
            l = g;
        }
        rc = om_ordb_leaf(buf, got, l[(*n)++]);
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = -1;
    } else if (rc < 0 && !err[0]) {
        snprintf(err, errlen, "out of memory");
    }
    fclose(f);
    free(buf);
    if (rc < 0) {
        free(l);
        *n = 0;
        return -1;
    }
    *leaves = l;
    return 0;
}
