/* fuzz_ordb_meta.c — libFuzzer target for ORDB's metadata record (ordb_meta.c) and the Merkle
 * tree over leaves (ordb_tree.c): the input is parsed as a record; what parses must encode back
 * to the same bytes, have a name, and have its signature checked without crashing; the input is
 * also taken as a list of 32-byte leaves, its root computed and compared with the record's.
 * Invariants: re-encoding is the identity, fields within their limits, nothing reads past its
 * input (ASan), nothing crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ordb/ordb_meta.h"
#include "ordb/ordb_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    om_ordb_meta_t m;
    uint8_t out[OM_ORDB_META_MAX], name[32];
    char err[96];
    if (om_ordb_meta_parse(data, size, &m, err, sizeof err) == 0) {
        if (m.chunk != OM_ORDB_CHUNK || !m.piece_chunks || m.piece_chunks > 4096 ||
            m.size > OM_ORDB_SIZE_MAX || strlen(m.media_type) > OM_ORDB_TYPE_MAX)
            abort();
        long n = om_ordb_meta_encode(&m, out, sizeof out);
        if (n != (long)size || memcmp(out, data, size) != 0) abort();
        if (om_ordb_meta_name(&m, name) != 0) abort();
        (void)om_ordb_meta_verify(&m);
        (void)om_ordb_pieces(&m);
    }
    size_t leaves = size / 32;
    if (leaves && leaves <= 4096) {
        uint8_t root[32];
        if (om_ordb_root((const uint8_t(*)[32])data, leaves, root) != 0) abort();
        om_ordb_meta_t t = {.kind = 1, .chunk = OM_ORDB_CHUNK, .piece_chunks = 1};
        t.size = (uint64_t)leaves * OM_ORDB_CHUNK;
        memcpy(t.root, root, 32);
        if (!om_ordb_leaves_ok(&t, (const uint8_t(*)[32])data, leaves)) abort();
    }
    return 0;
}
