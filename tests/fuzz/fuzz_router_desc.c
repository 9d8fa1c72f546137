/* fuzz_router_desc.c — libFuzzer target: om_router_desc_parse on arbitrary text (no NUL
 * terminator, exact-size buffer), checking that every field of a successful parse is
 * NUL-terminated and in range and that a failure always says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dir/router_desc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so a read past the end of the text is caught. */
    char *text = malloc(size ? size : 1);
    if (!text) return 0;
    memcpy(text, data, size);
    om_router_desc_t d;
    char err[128];
    err[0] = 0;
    int r = om_router_desc_parse(text, size, &d, err, sizeof err);
    if (r == 0) {
        if (strnlen(d.nickname, sizeof d.nickname) == sizeof d.nickname ||
            strnlen(d.address, sizeof d.address) == sizeof d.address ||
            strnlen(d.platform, sizeof d.platform) == sizeof d.platform ||
            strnlen(d.family, sizeof d.family) == sizeof d.family)
            abort();
        if (d.nickname[0] == 0 || d.address[0] == 0) abort();
        /* The router line it came from is in the text. */
        if (!memmem(text, size, d.nickname, strlen(d.nickname))) abort();
    } else if (r != -1 || err[0] == 0 || strnlen(err, sizeof err) == sizeof err) {
        abort();
    }
    free(text);
    return 0;
}
