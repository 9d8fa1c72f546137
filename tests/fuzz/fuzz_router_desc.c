/* fuzz_router_desc.c — libFuzzer target: om_router_desc_parse and om_router_desc_verify (the
 * signature check a bridge client runs on a descriptor from an unauthenticated channel) on
 * arbitrary text (no NUL terminator, exact-size buffer), checking that every field of a
 * successful parse is NUL-terminated and in range and that a failure always says why. When the
 * parse succeeds the verification is asked for the descriptor's own fingerprint, so it gets as
 * far as the signature. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dir/router_desc.h"
#include "dir/router_desc_sig.h"

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
    uint8_t fp[20] = {0};
    if (r == 0) memcpy(fp, d.rsa_fp, 20);
    err[0] = 0;
    int v = om_router_desc_verify(text, size, fp, err, sizeof err);
    if (v != 0 && (v != -1 || err[0] == 0 || strnlen(err, sizeof err) == sizeof err)) abort();
    if (v == 0 && r != 0) abort(); /* a verified descriptor parses */
    free(text);
    return 0;
}
