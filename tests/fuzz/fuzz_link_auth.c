/* fuzz_link_auth.c — libFuzzer target: an AUTHENTICATE cell payload (tor-spec 4.4), parsed with
 * om_link_auth_parse and checked with om_link_auth_verify. A parse either fails with an
 * "AUTHENTICATE: " reason or yields a signed part inside the input that re-encodes to the same
 * bytes; verification never accepts a signature under a key nobody holds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/link_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    om_auth3_t a, want;
    char err[256] = "";
    if (om_link_auth_parse(&a, data, size, err, sizeof err) != 0) {
        if (strncmp(err, "AUTHENTICATE: ", 14) != 0) abort(); /* every failure names itself */
        return 0;
    }
    size_t alen = (size_t)data[2] << 8 | data[3];
    if (size < 4 + alen || alen < OM_AUTH3_BODY_LEN || a.signed_part != data + 4 ||
        a.signed_len + 64 != alen || memcmp(a.type, data + 4, 8) != 0 ||
        memcmp(a.sig, data + 4 + alen - 64, 64) != 0)
        abort();
    if (alen == OM_AUTH3_BODY_LEN) {
        uint8_t out[4 + OM_AUTH3_BODY_LEN];
        if (om_link_auth_encode(&a, out, sizeof out) != (int)sizeof out ||
            memcmp(out, data, sizeof out) != 0)
            abort();
    }
    /* Every field as expected: only the signature decides, under an all-0x42 public key. */
    static const uint8_t key[32] = {0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
                                    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
                                    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
                                    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42};
    want = a;
    memcpy(want.type, OM_AUTH3_TYPE, 8);
    err[0] = 0;
    int rv = om_link_auth_verify(&a, &want, key, err, sizeof err);
    if (rv != -1 || strncmp(err, "AUTHENTICATE: ", 14) != 0) abort();
    return 0;
}
