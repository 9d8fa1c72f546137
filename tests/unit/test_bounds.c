/* test_bounds.c — length fields that point past the end of the input, each given to its parser in
 * a heap buffer of exactly the input's size: the parser must refuse the input, and under ASan
 * (tools/run-tests runs every unit test so) any read past the end fails the test even where the
 * parser would refuse the input anyway. These are the cases where a missing bound check changes
 * only what is read, not the answer (tools/mutations.txt marks them "ASan"). */
#include "core/cert.h"
#include "core/log.h"
#include "test.h"

/* A copy of in[0..len) in a heap block of exactly len bytes. */
static uint8_t *exact(const uint8_t *in, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (p) memcpy(p, in, len);
    return p;
}

/* cert-spec 2.1: an Ed25519 certificate whose first extension claims 65 bytes where none are
 * left before the signature, followed (per N_EXTENSIONS) by a second extension: skipping the
 * first would put the second's header just past the end of the certificate. */
static void test_ed_cert_extension_past_end(void)
{
    uint8_t raw[40 + 4 + 64];
    memset(raw, 0, sizeof raw);
    raw[0] = 1;  /* VERSION */
    raw[1] = 4;  /* CERT_TYPE */
    raw[6] = 1;  /* CERT_KEY_TYPE */
    raw[39] = 2; /* N_EXTENSIONS */
    raw[40] = 0; /* ExtLength 65: the 64 signature bytes and one more */
    raw[41] = 65;
    raw[42] = 0x42; /* an unknown type, no flags */
    uint8_t *in = exact(raw, sizeof raw);
    CHECK(in != NULL);
    om_ed_cert_t c;
    int r = om_ed_cert_parse(&c, in, sizeof raw);
    free(in);
    CHECK_EQ_INT(r, -1);
}

static const om_test_t tests[] = {
    OM_TEST(test_ed_cert_extension_past_end),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    if (!getenv("OM_LOG")) om_log_set_level(OM_LOG_WARN);
    return om_test_main("bounds", tests, argc, argv);
}
