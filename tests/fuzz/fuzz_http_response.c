/* fuzz_http_response.c — libFuzzer target: om_http_response_parse on arbitrary bytes (with the
 * invariants of a parsed header checked), then om_inflate on the body (or on the whole input when
 * it is not an HTTP response) with a small output limit, cross-checked against a tinier limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/dir_fetch.h"

#define MAX_OUT  4096
#define TINY_OUT 64

static void check_inflate(const uint8_t *in, size_t len)
{
    uint8_t *out = NULL, *out2 = NULL;
    size_t outlen = 0, outlen2 = 0;
    int r = om_inflate(in, len, MAX_OUT, &out, &outlen);
    if (r != 0 && r != -1) abort();
    if (r == 0 && (outlen > MAX_OUT || out[outlen] != 0)) abort();
    /* The same input under a smaller limit: the same bytes if they fit, refused if not. */
    int r2 = om_inflate(in, len, TINY_OUT, &out2, &outlen2);
    if (r2 == 0 && (outlen2 > TINY_OUT || out2[outlen2] != 0)) abort();
    if (r == 0 && outlen <= TINY_OUT && (r2 != 0 || outlen2 != outlen || memcmp(out, out2, outlen)))
        abort();
    if (r == 0 && outlen > TINY_OUT && r2 != -1) abort();
    if (r2 == 0 && (r != 0 || outlen != outlen2)) abort();
    if (r == 0) free(out);
    if (r2 == 0) free(out2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    om_http_response_t resp;
    int r = om_http_response_parse(data, size, &resp);
    if (r != 0 && r != 1 && r != -1) abort();
    if (r == 1 && size >= OM_HTTP_MAX_HEADER)
        abort(); /* "need more" is only allowed below the limit */
    if (r == 0) {
        if (resp.header_len < 4 || resp.header_len > size || resp.header_len > OM_HTTP_MAX_HEADER)
            abort();
        if (memcmp(data + resp.header_len - 4, "\r\n\r\n", 4) != 0) abort();
        if (resp.status < 0 || resp.status > 999) abort();
        size_t rl = strnlen(resp.reason, sizeof resp.reason);
        if (rl == sizeof resp.reason) abort();
        for (size_t i = 0; i < rl; i++)
            if ((unsigned char)resp.reason[i] < 0x20 || (unsigned char)resp.reason[i] > 0x7e)
                abort();
        /* The header alone (nothing after the blank line) parses the same. */
        om_http_response_t again;
        if (om_http_response_parse(data, resp.header_len, &again) != 0 ||
            again.header_len != resp.header_len || again.status != resp.status ||
            again.encoding != resp.encoding || again.content_length != resp.content_length ||
            again.has_content_length != resp.has_content_length ||
            strcmp(again.reason, resp.reason) != 0)
            abort();
        check_inflate(data + resp.header_len, size - resp.header_len);
    } else {
        check_inflate(data, size);
    }
    return 0;
}
