/* fuzz_ntor3_ext.c — libFuzzer target: om_ntor3_ext_parse on arbitrary bytes, and
 * om_ntor3_server_recv (then om_ntor3_server_reply on success) on arbitrary onionskins for a
 * fixed relay identity and onion key. The first input byte selects how the rest is used:
 * bit 0 set → the onionskin's NODEID/KEYID are forced to the relay's, so the fuzzer reaches the
 * DH and MAC paths rather than stopping at the key lookup; bit 1 set → the rest is used as the
 * client message of a complete, valid handshake (client, relay, client), which must succeed,
 * deliver the message and agree on keys. */
#include <stdint.h>
#include <string.h>

#include "core/onion_handshake.h"

static const uint8_t relay_id[32] = {
    0x9f, 0xad, 0x2a, 0xf2, 0x87, 0xef, 0x94, 0x26, 0x32, 0x83, 0x3d, 0x21, 0xf9, 0x46, 0xc6, 0x26,
    0x0c, 0x33, 0xfa, 0xe6, 0x17, 0x2b, 0x60, 0x00, 0x6e, 0x86, 0xe4, 0xa6, 0x91, 0x17, 0x53, 0xa2};
static const uint8_t relay_b[32] = {
    0x40, 0x51, 0xda, 0xa5, 0x92, 0x1c, 0xfa, 0x2a, 0x1c, 0x27, 0xb0, 0x84, 0x51, 0x32, 0x49, 0x19,
    0x53, 0x8e, 0x79, 0xe7, 0x88, 0xa8, 0x1b, 0x38, 0xcb, 0xed, 0x09, 0x7a, 0x5d, 0xff, 0x45, 0x4a};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static om_x25519_keypair_t key;
    static int have_key;
    if (!have_key) {
        memcpy(key.sec, relay_b, 32);
        if (om_x25519_pub_from_sec(key.sec, key.pub) < 0) return 0;
        have_key = 1;
    }

    om_ntor3_ext_t exts[OM_NTOR3_EXT_MAX];
    size_t n = 0;
    if (om_ntor3_ext_parse(data, size, exts, &n) == 0) {
        /* Re-encoding a parsed list reproduces the input exactly. */
        uint8_t out[1 + OM_NTOR3_EXT_MAX * 257];
        size_t len = sizeof out;
        if (om_ntor3_ext_encode(exts, n, out, &len) != 0 || len != size ||
            memcmp(out, data, size) != 0)
            __builtin_trap();
        (void)om_ntor3_ext_find(exts, n, OM_NTOR3_EXT_CC_REQUEST);
    }

    if (size < 1) return 0;
    uint8_t skin[1024];
    size_t skin_len = size - 1 > sizeof skin ? sizeof skin : size - 1;
    memcpy(skin, data + 1, skin_len);
    if ((data[0] & 1) && skin_len >= 64) {
        memcpy(skin, relay_id, 32);
        memcpy(skin + 32, key.pub, 32);
    }

    if ((data[0] & 2) && skin_len <= OM_NTOR3_MAX_MSG) {
        om_ntor3_client_t c;
        om_ntor3_server_t s;
        uint8_t cskin[OM_NTOR3_ONIONSKIN_OVERHEAD + OM_NTOR3_MAX_MSG], got[OM_NTOR3_MAX_MSG];
        uint8_t reply[OM_NTOR3_REPLY_OVERHEAD + OM_NTOR3_MAX_MSG];
        size_t clen = sizeof cskin, glen = sizeof got, rlen = sizeof reply;
        om_handshake_keys_t ck, sk;
        const uint8_t *v = (const uint8_t *)OM_NTOR3_CIRC_VERIFICATION;
        if (om_ntor3_client_create(&c, relay_id, key.pub, v, OM_NTOR3_CIRC_VERIFICATION_LEN,
                                   data + 1, skin_len, cskin, &clen) != 0 ||
            om_ntor3_server_recv(&s, relay_id, &key, 1, v, OM_NTOR3_CIRC_VERIFICATION_LEN, cskin,
                                 clen, got, &glen) != 0 ||
            glen != skin_len || memcmp(got, data + 1, glen) != 0 ||
            om_ntor3_server_reply(&s, NULL, data + 1, skin_len, reply, &rlen, &sk) != 0)
            __builtin_trap();
        glen = sizeof got;
        if (om_ntor3_client_finish(&c, reply, rlen, got, &glen, &ck) != 0 || glen != skin_len ||
            memcmp(got, data + 1, glen) != 0 || memcmp(ck.keys, sk.keys, sizeof ck.keys) != 0)
            __builtin_trap();
        om_ntor3_client_clear(&c);
        return 0;
    }

    om_ntor3_server_t st;
    uint8_t msg[OM_NTOR3_MAX_MSG];
    size_t msg_len = sizeof msg;
    if (om_ntor3_server_recv(&st, relay_id, &key, 1, (const uint8_t *)OM_NTOR3_CIRC_VERIFICATION,
                             OM_NTOR3_CIRC_VERIFICATION_LEN, skin, skin_len, msg, &msg_len) == 0) {
        uint8_t reply[OM_NTOR3_REPLY_OVERHEAD + OM_NTOR3_MAX_MSG];
        size_t rlen = sizeof reply;
        om_handshake_keys_t keys;
        (void)om_ntor3_server_reply(&st, NULL, msg, msg_len, reply, &rlen, &keys);
    }
    om_ntor3_server_clear(&st);
    return 0;
}
