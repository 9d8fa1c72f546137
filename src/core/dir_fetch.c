/* dir_fetch.c — HTTP/1.0 directory requests over BEGIN_DIR streams, the response parser and
 * zlib/gzip inflation for directory bodies (dir-spec 4: "Content-Encoding: deflate" is zlib). */
#include "core/dir_fetch.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "core/log.h"

static const uint8_t *find_crlfcrlf(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i + 3 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
            return buf + i;
    return NULL;
}

int om_http_response_parse(const uint8_t *buf, size_t len, om_http_response_t *out)
{
    memset(out, 0, sizeof *out);
    size_t scan = len < OM_HTTP_MAX_HEADER ? len : OM_HTTP_MAX_HEADER;
    const uint8_t *end = find_crlfcrlf(buf, scan);
    if (!end) return len >= OM_HTTP_MAX_HEADER ? -1 : 1;
    out->header_len = (size_t)(end - buf) + 4;
    /* Status line: HTTP/1.x SP 3DIGIT [SP reason] CRLF */
    const char *p = (const char *)buf;
    const char *hend = (const char *)end;
    const char *eol = memchr(p, '\r', (size_t)(hend - p) + 1);
    if (!eol || eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') ||
        p[8] != ' ')
        return -1;
    if (!isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
        !isdigit((unsigned char)p[11]))
        return -1;
    out->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    if (eol - p > 12) {
        if (p[12] != ' ') return -1;
        size_t rl = (size_t)(eol - (p + 13));
        if (rl >= sizeof out->reason) rl = sizeof out->reason - 1;
        memcpy(out->reason, p + 13, rl);
        out->reason[rl] = 0;
        for (size_t i = 0; i < rl; i++)
            if (!isprint((unsigned char)out->reason[i])) out->reason[i] = '?';
    }
    /* Header lines "Name: value" */
    const char *line = eol + 2;
    while (line < hend) {
        const char *le = line;
        while (le < hend && *le != '\r')
            le++;
        const char *colon = memchr(line, ':', (size_t)(le - line));
        if (!colon || colon == line) return -1;
        size_t nlen = (size_t)(colon - line);
        const char *v = colon + 1;
        while (v < le && (*v == ' ' || *v == '\t'))
            v++;
        size_t vlen = (size_t)(le - v);
        if (nlen == 16 && !strncasecmp(line, "Content-Encoding", 16)) {
            if (vlen == 8 && !strncasecmp(v, "identity", 8))
                out->encoding = OM_ENC_IDENTITY;
            else if ((vlen == 7 && !strncasecmp(v, "deflate", 7)) ||
                     (vlen == 6 && !strncasecmp(v, "x-zlib", 6)))
                out->encoding = OM_ENC_DEFLATE;
            else if (vlen == 4 && !strncasecmp(v, "gzip", 4))
                out->encoding = OM_ENC_GZIP;
            else
                out->encoding = OM_ENC_OTHER;
        } else if (nlen == 14 && !strncasecmp(line, "Content-Length", 14)) {
            size_t cl = 0;
            if (vlen == 0 || vlen > 12) return -1;
            for (size_t i = 0; i < vlen; i++) {
                if (!isdigit((unsigned char)v[i])) return -1;
                cl = cl * 10 + (size_t)(v[i] - '0');
            }
            out->has_content_length = true;
            out->content_length = cl;
        }
        line = le + 2;
    }
    return 0;
}

bool om_is_compression_bomb(size_t in_consumed, size_t out_produced)
{
    if (out_produced < OM_BOMB_CHECK_AFTER) return false;
    return in_consumed == 0 || out_produced / in_consumed > OM_MAX_UNCOMPRESSION_FACTOR;
}

int om_inflate(const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *outlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (max > SIZE_MAX / 4) /* "no limit" (SIZE_MAX): keep max + 1 and cap * 2 from wrapping */
        max = SIZE_MAX / 4;
    /* 15 + 32: zlib or gzip header, auto-detected. */
    if (inflateInit2(&zs, 15 + 32) != Z_OK) return -1;
    size_t cap = len * 4 + 1024;
    if (cap > max + 1) cap = max + 1;
    uint8_t *buf = malloc(cap + 1);
    if (!buf) {
        inflateEnd(&zs);
        return -1;
    }
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    size_t used = 0;
    int r;
    do {
        if (used == cap) {
            if (cap > max) {
                free(buf);
                inflateEnd(&zs);
                return -1;
            }
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            uint8_t *nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                inflateEnd(&zs);
                return -1;
            }
            buf = nb;
            cap = ncap;
        }
        zs.next_out = buf + used;
        zs.avail_out = (uInt)(cap - used);
        r = inflate(&zs, Z_NO_FLUSH);
        used = cap - zs.avail_out;
        if (om_is_compression_bomb(len - zs.avail_in, used)) {
            om_log_protocol("Refusing a compressed document: %zu bytes inflate to more than %zu "
                            "(a compression bomb)",
                            len - zs.avail_in, used);
            r = Z_DATA_ERROR;
            break;
        }
        if (r == Z_BUF_ERROR && zs.avail_in == 0) break; /* truncated input */
    } while (r == Z_OK || (r == Z_BUF_ERROR && used == cap));
    inflateEnd(&zs);
    if (r != Z_STREAM_END || used > max) {
        free(buf);
        return -1;
    }
    buf[used] = 0;
    *out = buf;
    *outlen = used;
    return 0;
}

/* ---------------------------------------------------------------- fetching */

typedef struct {
    om_dir_fetch_cb cb;
    void *arg;
    char *request;
    uint8_t *buf;
    size_t len, cap, max;
    bool done;
} dir_req_t;

static void dir_finish(dir_req_t *r, int status, const uint8_t *body, size_t len, const char *err)
{
    if (r->done) return;
    r->done = true;
    r->cb(status, body, len, err, r->arg);
}

/* Give up on the request: report err, send END, free (om_stream_close suppresses on_end). */
static void dir_abort(dir_req_t *r, om_stream_t *s, uint8_t reason, const char *err)
{
    dir_finish(r, 0, NULL, 0, err);
    om_stream_close(s, reason);
    free(r->request);
    free(r->buf);
    free(r);
}

static void dir_on_connected(om_stream_t *s, void *arg)
{
    dir_req_t *r = arg;
    size_t n = strlen(r->request);
    if (om_stream_write(s, (const uint8_t *)r->request, n) != (ssize_t)n)
        dir_abort(r, s, OM_END_INTERNAL, "could not send the HTTP request");
}

static void dir_on_data(om_stream_t *s, const uint8_t *data, size_t len, void *arg)
{
    dir_req_t *r = arg;
    if (r->done) return;
    if (r->len + len > r->max + OM_HTTP_MAX_HEADER) {
        dir_abort(r, s, OM_END_RESOURCELIMIT, "directory response too large");
        return;
    }
    if (r->len + len > r->cap) {
        size_t ncap = r->cap ? r->cap : 8192;
        while (ncap < r->len + len)
            ncap *= 2;
        uint8_t *nb = realloc(r->buf, ncap);
        if (!nb) {
            dir_abort(r, s, OM_END_RESOURCELIMIT, "out of memory");
            return;
        }
        r->buf = nb;
        r->cap = ncap;
    }
    memcpy(r->buf + r->len, data, len);
    r->len += len;
}

static void dir_on_end(om_stream_t *s, uint8_t reason, const char *why, void *arg)
{
    dir_req_t *r = arg;
    (void)s;
    if (!r->done) {
        om_http_response_t resp;
        int pr = r->len ? om_http_response_parse(r->buf, r->len, &resp) : 1;
        if (reason != OM_END_DONE && r->len == 0) {
            char e[128];
            snprintf(e, sizeof e, "stream ended before any answer: %s", why);
            dir_finish(r, 0, NULL, 0, e);
        } else if (pr != 0) {
            dir_finish(r, 0, NULL, 0,
                       pr < 0 ? "malformed HTTP response" : "truncated HTTP response");
        } else {
            const uint8_t *body = r->buf + resp.header_len;
            size_t blen = r->len - resp.header_len;
            if (resp.has_content_length && resp.content_length != blen) {
                dir_finish(r, 0, NULL, 0, "HTTP body length does not match Content-Length");
            } else if (resp.encoding == OM_ENC_DEFLATE || resp.encoding == OM_ENC_GZIP) {
                uint8_t *plain;
                size_t plen;
                if (om_inflate(body, blen, r->max, &plain, &plen) < 0) {
                    dir_finish(r, 0, NULL, 0, "could not decompress the directory response");
                } else {
                    dir_finish(r, resp.status, plain, plen, NULL);
                    free(plain);
                }
            } else if (resp.encoding == OM_ENC_OTHER) {
                dir_finish(r, 0, NULL, 0, "unsupported Content-Encoding");
            } else {
                dir_finish(r, resp.status, body, blen, NULL);
            }
        }
    }
    free(r->request);
    free(r->buf);
    free(r);
}

int om_dir_fetch(om_circuit_t *circ, const char *path, size_t max_body, om_dir_fetch_cb cb,
                 void *arg)
{
    if (!path || path[0] != '/' || strpbrk(path, "\r\n ")) return -1;
    dir_req_t *r = calloc(1, sizeof *r);
    if (!r) return -1;
    r->cb = cb;
    r->arg = arg;
    r->max = max_body;
    /* dir-spec 4: tor sends HTTP/1.0 requests; the Host header is not needed over BEGIN_DIR. */
    size_t plen = strlen(path);
    if (plen > OM_HTTP_MAX_HEADER) {
        free(r);
        return -1;
    }
    r->request = malloc(plen + 32);
    if (!r->request) {
        free(r);
        return -1;
    }
    snprintf(r->request, plen + 32, "GET %s HTTP/1.0\r\n\r\n", path);
    om_stream_callbacks_t scb = {
        .on_connected = dir_on_connected, .on_data = dir_on_data, .on_end = dir_on_end, .arg = r};
    if (!om_stream_begin_dir(circ, &scb)) {
        free(r->request);
        free(r);
        return -1;
    }
    return 0;
}
