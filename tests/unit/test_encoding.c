/* test_encoding.c — unit tests for encoding.c: RFC 4648 section 10 base64 vectors, unpadded and
 * whitespace-laden input, invalid characters, output buffers too small; hex. */
#include "test.h"
#include "core/crypto.h"

/* RFC 4648 section 10 */
static const char *const rfc_in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const rfc_out[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
static const char *const rfc_nopad[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};

static void test_base64_encode_rfc4648(void)
{
    char out[16];
    for (int i = 0; i < 7; i++) {
        size_t n = strlen(rfc_in[i]);
        int r = om_base64_encode((const uint8_t *)rfc_in[i], n, out, sizeof out, false);
        CHECK_EQ_INT(r, (int)strlen(rfc_out[i]));
        CHECK(strcmp(out, rfc_out[i]) == 0);
        r = om_base64_encode((const uint8_t *)rfc_in[i], n, out, sizeof out, true);
        CHECK_EQ_INT(r, (int)strlen(rfc_nopad[i]));
        CHECK(strcmp(out, rfc_nopad[i]) == 0);
    }
}

static void test_base64_decode_rfc4648(void)
{
    uint8_t out[16];
    for (int i = 0; i < 7; i++) {
        int r = om_base64_decode(rfc_out[i], strlen(rfc_out[i]), out, sizeof out);
        CHECK_EQ_INT(r, (int)strlen(rfc_in[i]));
        CHECK_MEM(out, rfc_in[i], (size_t)r);
        r = om_base64_decode(rfc_nopad[i], strlen(rfc_nopad[i]), out, sizeof out);
        CHECK_EQ_INT(r, (int)strlen(rfc_in[i]));
        CHECK_MEM(out, rfc_in[i], (size_t)r);
    }
}

static void test_base64_whitespace(void)
{
    uint8_t out[16];
    const char *in = " Zm9v\nYm\r\nFy\t ";
    int r = om_base64_decode(in, strlen(in), out, sizeof out);
    CHECK_EQ_INT(r, 6);
    CHECK_MEM(out, "foobar", 6);
    in = "Zm9vYg=\n=\n";
    r = om_base64_decode(in, strlen(in), out, sizeof out);
    CHECK_EQ_INT(r, 4);
    CHECK_MEM(out, "foob", 4);
    CHECK_EQ_INT(om_base64_decode("  \n", 3, out, sizeof out), 0);
}

static void test_base64_invalid(void)
{
    uint8_t out[16];
    const char *bad[] = {
        "Zm9v*mFy", /* invalid character */
        "Zm9vY",    /* 6 leftover bits */
        "Zg=",      /* wrong amount of padding */
        "Zg===",    /* too much padding */
        "Zm8==",    /* too much padding */
        "Zm9v=",    /* padding after a full group */
        "Zg==Zg==", /* data after padding */
        "Zm9-",     /* base64url alphabet is not accepted */
        "====",     /* padding only */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(om_base64_decode(bad[i], strlen(bad[i]), out, sizeof out) == -1,
                  "accepted \"%s\"", bad[i]);
    /* embedded NUL is an invalid character, not a terminator */
    CHECK_EQ_INT(om_base64_decode("Zm\0v", 4, out, sizeof out), -1);
}

static void test_base64_output_too_small(void)
{
    char enc[9];
    uint8_t dec[6];
    /* "foobar" encodes to 8 chars + NUL */
    CHECK_EQ_INT(om_base64_encode((const uint8_t *)"foobar", 6, enc, 8, false), -1);
    CHECK_EQ_INT(om_base64_encode((const uint8_t *)"foobar", 6, enc, 9, false), 8);
    CHECK_EQ_INT(om_base64_encode((const uint8_t *)"", 0, enc, 0, false), -1);
    CHECK_EQ_INT(om_base64_encode((const uint8_t *)"f", 1, enc, 3, true), 2);
    CHECK_EQ_INT(om_base64_encode((const uint8_t *)"f", 1, enc, 3, false), -1);
    /* decoding: exact fit works, one short fails, for every tail length */
    CHECK_EQ_INT(om_base64_decode("Zm9vYmFy", 8, dec, 6), 6);
    CHECK_EQ_INT(om_base64_decode("Zm9vYmFy", 8, dec, 5), -1);
    CHECK_EQ_INT(om_base64_decode("Zm9vYmE", 7, dec, 5), 5);
    CHECK_EQ_INT(om_base64_decode("Zm9vYmE", 7, dec, 4), -1);
    CHECK_EQ_INT(om_base64_decode("Zm9vYg", 6, dec, 4), 4);
    CHECK_EQ_INT(om_base64_decode("Zm9vYg", 6, dec, 3), -1);
}

static void test_base64_roundtrip_binary(void)
{
    uint8_t in[256], dec[256];
    char enc[400];
    for (int i = 0; i < 256; i++)
        in[i] = (uint8_t)(255 - i);
    for (size_t n = 0; n <= 256; n += 17) {
        for (int nopad = 0; nopad < 2; nopad++) {
            int e = om_base64_encode(in, n, enc, sizeof enc, nopad);
            CHECK(e >= 0);
            CHECK_EQ_INT(strlen(enc), (size_t)e);
            int d = om_base64_decode(enc, (size_t)e, dec, sizeof dec);
            CHECK_EQ_INT(d, (int)n);
            CHECK_MEM(dec, in, n);
        }
    }
    /* a 32-byte ed25519 key encodes to 43 chars unpadded, as in tor's documents */
    CHECK_EQ_INT(om_base64_encode(in, 32, enc, sizeof enc, true), 43);
}

static void test_hex(void)
{
    const uint8_t in[] = {0x00, 0x01, 0xab, 0xcd, 0xef, 0xff};
    char out[13];
    uint8_t dec[6];
    om_hex_encode(in, sizeof in, out);
    CHECK(strcmp(out, "0001ABCDEFFF") == 0);
    om_hex_encode(in, 0, out);
    CHECK_EQ_INT(out[0], 0);
    CHECK_EQ_INT(om_hex_decode("0001ABCDEFFF", 12, dec, 6), 0);
    CHECK_MEM(dec, in, 6);
    CHECK_EQ_INT(om_hex_decode("0001abcdefff", 12, dec, 6), 0);
    CHECK_MEM(dec, in, 6);
    CHECK_EQ_INT(om_hex_decode("0001ABCDEFF", 11, dec, 6), -1);    /* odd/short */
    CHECK_EQ_INT(om_hex_decode("0001ABCDEFFF00", 14, dec, 6), -1); /* too long */
    CHECK_EQ_INT(om_hex_decode("0001ABCDEFFG", 12, dec, 6), -1);   /* bad digit */
    CHECK_EQ_INT(om_hex_decode("0001AB DEFFF", 12, dec, 6), -1);   /* space */
    CHECK_EQ_INT(om_hex_decode("", 0, dec, 0), 0);
}

static const om_test_t tests[] = {
    OM_TEST(test_base64_encode_rfc4648),
    OM_TEST(test_base64_decode_rfc4648),
    OM_TEST(test_base64_whitespace),
    OM_TEST(test_base64_invalid),
    OM_TEST(test_base64_output_too_small),
    OM_TEST(test_base64_roundtrip_binary),
    OM_TEST(test_hex),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("encoding", tests, argc, argv);
}
