/* dir_deflate.h — the compressed forms a directory cache serves for ".z" requests (dir-spec 6.2:
 * zlib/deflate, "Content-Encoding: deflate"), made once per document when it is accepted, never
 * per request. A document is compressed into a "chunk": raw deflate blocks that end byte-aligned
 * and are not final, with the Adler-32 of the text. Chunks of independently compressed documents
 * concatenate into one valid stream, so an answer listing many microdescriptors is assembled from
 * their stored chunks: zlib header, the chunks, an empty final block, the combined Adler-32
 * (RFC 1950/1951). */
#ifndef OM_DIR_DIR_DEFLATE_H
#define OM_DIR_DIR_DEFLATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *data; /* raw deflate, byte-aligned, no final block (malloc'd) */
    size_t len;
    uint32_t adler; /* Adler-32 of the uncompressed text */
    size_t text_len;
} om_dir_chunk_t;

/* Compress text[0..len) into *out. Returns 0 or -1 (out of memory; *out is then zeroed). */
int om_dir_chunk_make(const char *text, size_t len, om_dir_chunk_t *out);
void om_dir_chunk_free(om_dir_chunk_t *c);

/* A complete zlib stream of the chunks' texts in order, malloc'd into *out / *outlen.
 * Returns 0 or -1. */
int om_dir_chunks_join(const om_dir_chunk_t *const *chunks, size_t n, uint8_t **out,
                       size_t *outlen);

#endif
