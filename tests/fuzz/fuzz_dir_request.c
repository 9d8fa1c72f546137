/* fuzz_dir_request.c — libFuzzer target: the HTTP request-head parser a relay's directory cache
 * runs on BEGIN_DIR stream data (om_dircache_parse_request), fed whole and byte by byte as a
 * stream would deliver it; a parsed path must be printable, start with '/', and parsing the
 * consumed head alone must give the same answer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "or/dircache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[1024];
    const char *req = (const char *)data;
    int r = om_dircache_parse_request(req, size, path, sizeof path);
    if (r > 0) {
        if ((size_t)r > size || path[0] != '/') abort();
        for (const char *p = path; *p; p++)
            if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) abort();
        char path2[1024];
        if (om_dircache_parse_request(req, (size_t)r, path2, sizeof path2) != r ||
            strcmp(path, path2) != 0)
            abort();
    }
    /* Incremental delivery: the first prefix with a verdict must agree with the whole input. */
    for (size_t n = 0; n <= size && n <= 64; n++) {
        int rn = om_dircache_parse_request(req, n, path, sizeof path);
        if (rn > 0 && rn != r) abort();
    }
    return 0;
}
