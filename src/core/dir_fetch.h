/* dir_fetch.h — HTTP/1.0 directory requests over a BEGIN_DIR stream (tor-spec 6.2.1,
 * dir-spec 4), the bounded HTTP response parser they use, and zlib/gzip decompression of
 * directory bodies. */
#ifndef OM_CORE_DIR_FETCH_H
#define OM_CORE_DIR_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/circuit.h"

#define OM_HTTP_MAX_HEADER 16384

typedef enum { OM_ENC_IDENTITY, OM_ENC_DEFLATE, OM_ENC_GZIP, OM_ENC_OTHER } om_http_encoding_t;

typedef struct {
    int status;      /* e.g. 200 */
    char reason[64]; /* "OK" */
    om_http_encoding_t encoding;
    bool has_content_length;
    size_t content_length;
    size_t header_len; /* bytes up to and including the blank line */
} om_http_response_t;

/* Parse the status line and headers at the start of buf. Returns 0 when complete (header_len
 * set), 1 if the header is not complete yet, -1 if malformed or larger than OM_HTTP_MAX_HEADER. */
int om_http_response_parse(const uint8_t *buf, size_t len, om_http_response_t *out);

/* Compression bombs (tor's tor_compress_is_compression_bomb, src/lib/compress/compress.c): once
 * more than OM_BOMB_CHECK_AFTER bytes have come out, the output may be at most
 * OM_MAX_UNCOMPRESSION_FACTOR times the input consumed so far. */
#define OM_BOMB_CHECK_AFTER         (64 * 1024)
#define OM_MAX_UNCOMPRESSION_FACTOR 25
bool om_is_compression_bomb(size_t in_consumed, size_t out_produced);

/* Decompress zlib or gzip data (auto-detected); refuses output larger than max and compression
 * bombs (checked as the output grows, so a bomb never gets far). Returns 0 and a malloc'd
 * NUL-terminated buffer, or -1. */
int om_inflate(const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *outlen);

/* Fetch `path` (e.g. "/tor/server/authority") over a new BEGIN_DIR stream on circ. cb is called
 * once: status 0 and err set on failure; otherwise the HTTP status and the (decompressed) body. */
typedef void (*om_dir_fetch_cb)(int status, const uint8_t *body, size_t len, const char *err,
                                void *arg);
int om_dir_fetch(om_circuit_t *circ, const char *path, size_t max_body, om_dir_fetch_cb cb,
                 void *arg);

#endif
