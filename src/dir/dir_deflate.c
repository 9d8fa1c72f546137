/* dir_deflate.c — deflate chunks and their assembly into zlib streams (see dir_deflate.h). */
#include "dir/dir_deflate.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

int om_dir_chunk_make(const char *text, size_t len, om_dir_chunk_t *out)
{
    memset(out, 0, sizeof *out);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    /* Raw deflate (negative window bits): the zlib header and trailer come with the join. */
    if (deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    size_t cap = deflateBound(&zs, (uLong)len) + 16;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        deflateEnd(&zs);
        return -1;
    }
    zs.next_in = (Bytef *)(uintptr_t)text;
    zs.avail_in = (uInt)len;
    int r;
    do {
        if (zs.total_out == cap) {
            uint8_t *g = realloc(buf, cap * 2);
            if (!g) break;
            buf = g;
            cap *= 2;
        }
        zs.next_out = buf + zs.total_out;
        zs.avail_out = (uInt)(cap - zs.total_out);
        /* Z_SYNC_FLUSH ends on a byte boundary with an empty stored block, not a final one. */
        r = deflate(&zs, Z_SYNC_FLUSH);
    } while (r == Z_OK && (zs.avail_in > 0 || zs.avail_out == 0));
    bool ok = (r == Z_OK || r == Z_BUF_ERROR) && zs.avail_in == 0 && zs.avail_out > 0;
    size_t n = zs.total_out;
    deflateEnd(&zs);
    if (!ok) {
        free(buf);
        return -1;
    }
    out->data = buf;
    out->len = n;
    out->text_len = len;
    out->adler = (uint32_t)adler32(adler32(0L, Z_NULL, 0), (const Bytef *)text, (uInt)len);
    return 0;
}

void om_dir_chunk_free(om_dir_chunk_t *c)
{
    if (!c) return;
    free(c->data);
    memset(c, 0, sizeof *c);
}

int om_dir_chunks_join(const om_dir_chunk_t *const *chunks, size_t n, uint8_t **out, size_t *outlen)
{
    /* RFC 1950: CMF 0x78 (deflate, 32 KiB window), FLG 0x9c (default level, check bits). */
    static const uint8_t head[2] = {0x78, 0x9c};
    /* RFC 1951: an empty final block with fixed Huffman codes (BFINAL 1, BTYPE 01, EOB). */
    static const uint8_t last[2] = {0x03, 0x00};
    size_t total = sizeof head + sizeof last + 4;
    for (size_t i = 0; i < n; i++)
        total += chunks[i]->len;
    uint8_t *buf = malloc(total);
    if (!buf) return -1;
    size_t off = 0;
    memcpy(buf, head, sizeof head);
    off += sizeof head;
    uLong adler = adler32(0L, Z_NULL, 0);
    for (size_t i = 0; i < n; i++) {
        memcpy(buf + off, chunks[i]->data, chunks[i]->len);
        off += chunks[i]->len;
        adler = adler32_combine(adler, chunks[i]->adler, (z_off_t)chunks[i]->text_len);
    }
    memcpy(buf + off, last, sizeof last);
    off += sizeof last;
    buf[off++] = (uint8_t)(adler >> 24);
    buf[off++] = (uint8_t)(adler >> 16);
    buf[off++] = (uint8_t)(adler >> 8);
    buf[off++] = (uint8_t)adler;
    *out = buf;
    *outlen = off;
    return 0;
}
