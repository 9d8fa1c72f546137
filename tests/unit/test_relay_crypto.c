/* test_relay_crypto.c — unit tests for relay_crypto.c: key layout (tor-spec 5.2), layered
 * encryption over a 3-hop circuit in both directions (5.5), recognition and digest rollback
 * (6.1), tampering. */
#include "test.h"
#include "core/relay_crypto.h"

#define NHOPS 3

typedef struct {
    om_relay_crypto_t client[NHOPS]; /* the origin's state for each hop */
    om_relay_crypto_t relay[NHOPS];  /* each relay's state for its hop */
    uint8_t keys[NHOPS][OM_RELAY_KEY_MATERIAL_LEN];
} circ_t;

static int circ_init(circ_t *c)
{
    for (int i = 0; i < NHOPS; i++) {
        for (int j = 0; j < OM_RELAY_KEY_MATERIAL_LEN; j++)
            c->keys[i][j] = (uint8_t)(31 * i + 7 * j + 1);
        if (om_relay_crypto_init(&c->client[i], c->keys[i]) < 0 ||
            om_relay_crypto_init(&c->relay[i], c->keys[i]) < 0)
            return -1;
    }
    return 0;
}

static void circ_clear(circ_t *c)
{
    for (int i = 0; i < NHOPS; i++) {
        om_relay_crypto_clear(&c->client[i]);
        om_relay_crypto_clear(&c->relay[i]);
    }
}

static void make_payload(uint8_t p[OM_CELL_PAYLOAD_LEN], uint8_t cmd, uint16_t stream, int seq)
{
    memset(p, 0, OM_CELL_PAYLOAD_LEN);
    p[0] = cmd;
    p[3] = (uint8_t)(stream >> 8);
    p[4] = (uint8_t)stream;
    p[9] = 0;
    p[10] = 100;
    for (int i = 11; i < OM_CELL_PAYLOAD_LEN; i++)
        p[i] = (uint8_t)(seq * 13 + i);
}

/* Origin sends to hop `dst`; returns the hop that recognized it (or -1), and copies the
 * recognized plaintext into `got`. `tamper_at` >= 0 flips a byte in transit before hop 0. */
static int send_forward(circ_t *c, int dst, const uint8_t plain[OM_CELL_PAYLOAD_LEN],
                        uint8_t got[OM_CELL_PAYLOAD_LEN], int tamper_at)
{
    uint8_t cell[OM_CELL_PAYLOAD_LEN];
    memcpy(cell, plain, sizeof cell);
    om_relay_crypto_set_digest_fwd(&c->client[dst], cell);
    for (int i = dst; i >= 0; i--)
        om_relay_crypto_encrypt_fwd(&c->client[i], cell);
    if (tamper_at >= 0) cell[tamper_at] ^= 0x20;
    for (int i = 0; i < NHOPS; i++) {
        om_relay_crypto_decrypt_fwd(&c->relay[i], cell);
        if (om_relay_crypto_check_fwd(&c->relay[i], cell)) {
            memcpy(got, cell, OM_CELL_PAYLOAD_LEN);
            return i;
        }
    }
    return -1;
}

/* Hop `src` sends toward the origin; returns the hop the origin attributes it to, or -1. */
static int send_backward(circ_t *c, int src, const uint8_t plain[OM_CELL_PAYLOAD_LEN],
                         uint8_t got[OM_CELL_PAYLOAD_LEN], int tamper_at)
{
    uint8_t cell[OM_CELL_PAYLOAD_LEN];
    memcpy(cell, plain, sizeof cell);
    om_relay_crypto_set_digest_back(&c->relay[src], cell);
    for (int i = src; i >= 0; i--)
        om_relay_crypto_encrypt_back(&c->relay[i], cell);
    if (tamper_at >= 0) cell[tamper_at] ^= 0x20;
    for (int i = 0; i < NHOPS; i++) {
        om_relay_crypto_decrypt_back(&c->client[i], cell);
        if (om_relay_crypto_check_back(&c->client[i], cell)) {
            memcpy(got, cell, OM_CELL_PAYLOAD_LEN);
            return i;
        }
    }
    return -1;
}

/* The recognized plaintext equals what was sent, except the digest field which now holds the
 * first 4 bytes of the sender's running digest. */
static bool same_but_digest(const uint8_t *a, const uint8_t *b)
{
    return a[0] == b[0] && memcmp(a + 1, b + 1, 4) == 0 &&
           memcmp(a + 9, b + 9, OM_CELL_PAYLOAD_LEN - 9) == 0;
}

/* Key material layout Df | Db | Kf | Kb and the digest rule, checked against direct
 * computations rather than against the other side of the same code. */
static void test_key_layout(void)
{
    uint8_t keys[OM_RELAY_KEY_MATERIAL_LEN], cell[OM_CELL_PAYLOAD_LEN], ref[OM_CELL_PAYLOAD_LEN];
    uint8_t buf[20 + OM_CELL_PAYLOAD_LEN], h[20];
    om_relay_crypto_t rc;
    for (int i = 0; i < OM_RELAY_KEY_MATERIAL_LEN; i++)
        keys[i] = (uint8_t)(0xA0 ^ i);
    CHECK_EQ_INT(om_relay_crypto_init(&rc, keys), 0);

    /* forward: digest = SHA1(Df | payload with digest zeroed)[:4], then AES-CTR(Kf, IV 0) */
    make_payload(cell, 2, 7, 1);
    om_relay_crypto_set_digest_fwd(&rc, cell);
    memcpy(buf, keys, 20);
    make_payload(buf + 20, 2, 7, 1);
    CHECK_EQ_INT(om_sha1(buf, sizeof buf, h), 0);
    CHECK_MEM(cell + 5, h, 4);
    memcpy(ref, cell, sizeof ref);
    om_relay_crypto_encrypt_fwd(&rc, cell);
    om_aes_t *kf = om_aes128_ctr_new(keys + 40, NULL);
    CHECK(kf != NULL);
    CHECK_EQ_INT(om_aes_crypt(kf, ref, ref, sizeof ref), 0);
    om_aes_free(kf);
    CHECK_MEM(cell, ref, sizeof ref);
    uint8_t last[20];
    om_relay_crypto_last_digest_fwd(&rc, last);
    CHECK_MEM(last, h, 20);

    /* backward: Db at offset 20, Kb at offset 56 */
    make_payload(cell, 4, 0, 2);
    om_relay_crypto_set_digest_back(&rc, cell);
    memcpy(buf, keys + 20, 20);
    make_payload(buf + 20, 4, 0, 2);
    CHECK_EQ_INT(om_sha1(buf, sizeof buf, h), 0);
    CHECK_MEM(cell + 5, h, 4);
    memcpy(ref, cell, sizeof ref);
    om_relay_crypto_encrypt_back(&rc, cell);
    om_aes_t *kb = om_aes128_ctr_new(keys + 56, NULL);
    CHECK(kb != NULL);
    CHECK_EQ_INT(om_aes_crypt(kb, ref, ref, sizeof ref), 0);
    om_aes_free(kb);
    CHECK_MEM(cell, ref, sizeof ref);
    om_relay_crypto_last_digest_back(&rc, last);
    CHECK_MEM(last, h, 20);
    om_relay_crypto_clear(&rc);
    CHECK(rc.fwd_cipher == NULL && rc.scratch == NULL);
}

static void test_three_hops_both_ways(void)
{
    circ_t c;
    uint8_t plain[OM_CELL_PAYLOAD_LEN], got[OM_CELL_PAYLOAD_LEN];
    CHECK_EQ_INT(circ_init(&c), 0);
    /* an interleaving of cells to and from every hop, several rounds */
    for (int round = 0; round < 20; round++) {
        for (int hop = 0; hop < NHOPS; hop++) {
            int dst = (hop + round) % NHOPS;
            make_payload(plain, 2, (uint16_t)(round + 1), round * 3 + hop);
            CHECK_EQ_INT(send_forward(&c, dst, plain, got, -1), dst);
            CHECK(same_but_digest(got, plain));
            make_payload(plain, 2, (uint16_t)(round + 1), 1000 + round * 3 + hop);
            CHECK_EQ_INT(send_backward(&c, dst, plain, got, -1), dst);
            CHECK(same_but_digest(got, plain));
        }
    }
    /* both sides agree on the running digests (SENDME v1 uses them) */
    for (int i = 0; i < NHOPS; i++) {
        uint8_t a[20], b[20];
        om_relay_crypto_last_digest_fwd(&c.client[i], a);
        om_relay_crypto_last_digest_fwd(&c.relay[i], b);
        CHECK_MEM(a, b, 20);
        om_relay_crypto_last_digest_back(&c.client[i], a);
        om_relay_crypto_last_digest_back(&c.relay[i], b);
        CHECK_MEM(a, b, 20);
    }
    circ_clear(&c);
}

static void test_tampered_not_recognized(void)
{
    circ_t c;
    uint8_t plain[OM_CELL_PAYLOAD_LEN], got[OM_CELL_PAYLOAD_LEN];
    CHECK_EQ_INT(circ_init(&c), 0);
    make_payload(plain, 2, 5, 1);
    CHECK_EQ_INT(send_forward(&c, 2, plain, got, -1), 2);
    /* a flipped data bit: recognized stays 0 at hop 2 but the digest fails */
    make_payload(plain, 2, 5, 2);
    CHECK_EQ_INT(send_forward(&c, 2, plain, got, 200), -1);
    make_payload(plain, 2, 5, 3);
    CHECK_EQ_INT(send_backward(&c, 1, plain, got, 300), -1);
    /* a flipped digest-field bit */
    make_payload(plain, 2, 5, 4);
    CHECK_EQ_INT(send_forward(&c, 0, plain, got, 6), -1);
    circ_clear(&c);
}

/* The client's digest state still includes the tampered cells, so after tampering the circuit
 * is dead in that direction (as in tor, which closes it). Here we check the other property:
 * a relay that fails a check leaves its own digest untouched. */
static void test_rollback_on_unrecognized(void)
{
    circ_t c;
    uint8_t plain[OM_CELL_PAYLOAD_LEN], got[OM_CELL_PAYLOAD_LEN], cell[OM_CELL_PAYLOAD_LEN];
    uint8_t before[20], after[20];
    CHECK_EQ_INT(circ_init(&c), 0);
    make_payload(plain, 2, 9, 1);
    CHECK_EQ_INT(send_forward(&c, 0, plain, got, -1), 0);

    /* A cell that decrypts at hop 0 to recognized == 0 with a wrong digest (a cell meant for a
     * later hop that happens to look recognized, P = 2^-16 in real life). The client only
     * encrypts it, without touching its own running digest. */
    make_payload(cell, 2, 9, 2);
    cell[5] = 0xde, cell[6] = 0xad, cell[7] = 0xbe, cell[8] = 0xef;
    memcpy(plain, cell, sizeof cell);
    om_relay_crypto_encrypt_fwd(&c.client[0], cell);
    om_relay_crypto_last_digest_fwd(&c.relay[0], before);
    om_relay_crypto_decrypt_fwd(&c.relay[0], cell);
    CHECK(!om_relay_crypto_check_fwd(&c.relay[0], cell));
    CHECK_MEM(cell, plain, sizeof cell); /* payload left exactly as decrypted */
    om_relay_crypto_last_digest_fwd(&c.relay[0], after);
    CHECK_MEM(before, after, 20);

    /* later cells still work, in both directions, several times */
    for (int i = 0; i < 5; i++) {
        make_payload(plain, 2, 9, 10 + i);
        CHECK_EQ_INT(send_forward(&c, 0, plain, got, -1), 0);
        CHECK(same_but_digest(got, plain));
        CHECK_EQ_INT(send_forward(&c, 2, plain, got, -1), 2);
    }

    /* same on the origin side, backward */
    make_payload(cell, 3, 9, 3);
    cell[5] = 1;
    memcpy(plain, cell, sizeof cell);
    om_relay_crypto_encrypt_back(&c.relay[0], cell);
    om_relay_crypto_decrypt_back(&c.client[0], cell);
    CHECK(!om_relay_crypto_check_back(&c.client[0], cell));
    CHECK_MEM(cell, plain, sizeof cell);
    make_payload(plain, 2, 9, 20);
    CHECK_EQ_INT(send_backward(&c, 0, plain, got, -1), 0);
    CHECK(same_but_digest(got, plain));
    circ_clear(&c);
}

/* A hop's first cell, built by hand: the digest field holds SHA1(Df | payload with the digest
 * field zeroed)[:4] over the payload exactly as given (recognized included), so a nonzero
 * recognized field does not spoil the digest. `flip` >= 0 then changes that byte of the digest
 * field. The cell is encrypted with the sender's Kf and decrypted by the receiver, whose
 * check_fwd result is returned. */
static bool first_cell_checks(om_relay_crypto_t *sender, om_relay_crypto_t *receiver,
                              const uint8_t keys[OM_RELAY_KEY_MATERIAL_LEN],
                              const uint8_t plain[OM_CELL_PAYLOAD_LEN], int flip)
{
    uint8_t buf[20 + OM_CELL_PAYLOAD_LEN], h[20], cell[OM_CELL_PAYLOAD_LEN];
    memcpy(buf, keys, 20); /* Df */
    memcpy(buf + 20, plain, OM_CELL_PAYLOAD_LEN);
    memset(buf + 20 + 5, 0, 4);
    if (om_sha1(buf, sizeof buf, h) < 0) return true; /* fails the caller's CHECK(!...) */
    memcpy(cell, plain, sizeof cell);
    memcpy(cell + 5, h, 4);
    if (flip >= 0) cell[5 + flip] ^= 0x01;
    om_relay_crypto_encrypt_fwd(sender, cell);
    om_relay_crypto_decrypt_fwd(receiver, cell);
    return om_relay_crypto_check_fwd(receiver, cell);
}

/* tor-spec 6.1: a cell is ours only if recognized == 0 *and* the digest matches. Here the
 * digest really matches (computed over the cell with its nonzero recognized field), so only
 * the recognized check can reject it; the same construction with recognized == 0 is accepted. */
static void test_nonzero_recognized_rejected_with_matching_digest(void)
{
    uint8_t keys[OM_RELAY_KEY_MATERIAL_LEN], plain[OM_CELL_PAYLOAD_LEN];
    om_relay_crypto_t snd, rcv;
    for (int i = 0; i < OM_RELAY_KEY_MATERIAL_LEN; i++)
        keys[i] = (uint8_t)(0x5C + 3 * i);
    static const uint8_t recognized[][2] = {{0, 1}, {1, 0}, {0x80, 0}, {0xff, 0xff}};
    for (size_t k = 0; k < sizeof recognized / sizeof recognized[0]; k++) {
        CHECK_EQ_INT(om_relay_crypto_init(&snd, keys), 0);
        CHECK_EQ_INT(om_relay_crypto_init(&rcv, keys), 0);
        make_payload(plain, 2, 9, 30 + (int)k);
        plain[1] = recognized[k][0];
        plain[2] = recognized[k][1];
        bool got = first_cell_checks(&snd, &rcv, keys, plain, -1);
        /* the running digest did not move: a proper cell is the receiver's first still */
        uint8_t before[20], ref[20];
        om_relay_crypto_last_digest_fwd(&rcv, before);
        om_relay_crypto_last_digest_fwd(&snd, ref);
        plain[1] = plain[2] = 0;
        bool control = first_cell_checks(&snd, &rcv, keys, plain, -1);
        om_relay_crypto_clear(&snd);
        om_relay_crypto_clear(&rcv);
        CHECK_MSG(!got, "recognized %02x%02x accepted", recognized[k][0], recognized[k][1]);
        CHECK_MEM(before, ref, 20);
        CHECK(control);
    }
}

/* All 4 bytes of the digest field count: a digest differing in any one byte (the 3rd and 4th
 * included) is rejected, and leaves the receiver ready for the correct cell. */
static void test_digest_every_byte_compared(void)
{
    uint8_t keys[OM_RELAY_KEY_MATERIAL_LEN], plain[OM_CELL_PAYLOAD_LEN];
    om_relay_crypto_t snd, rcv;
    for (int i = 0; i < OM_RELAY_KEY_MATERIAL_LEN; i++)
        keys[i] = (uint8_t)(0x33 ^ (7 * i));
    CHECK_EQ_INT(om_relay_crypto_init(&snd, keys), 0);
    CHECK_EQ_INT(om_relay_crypto_init(&rcv, keys), 0);
    make_payload(plain, 2, 4, 40);
    bool wrong_ok[4];
    for (int b = 0; b < 4; b++)
        wrong_ok[b] = first_cell_checks(&snd, &rcv, keys, plain, b);
    bool right_ok = first_cell_checks(&snd, &rcv, keys, plain, -1);
    om_relay_crypto_clear(&snd);
    om_relay_crypto_clear(&rcv);
    for (int b = 0; b < 4; b++)
        CHECK_MSG(!wrong_ok[b], "digest differing in byte %d accepted", b + 1);
    CHECK(right_ok);
}

/* A tampered cell (the sender's digest advanced, the receiver's not) leaves the two sides out
 * of step: every later cell to that hop fails, which is why tor closes the circuit. */
static void test_tamper_desyncs_hop(void)
{
    circ_t c;
    uint8_t plain[OM_CELL_PAYLOAD_LEN], got[OM_CELL_PAYLOAD_LEN];
    CHECK_EQ_INT(circ_init(&c), 0);
    make_payload(plain, 2, 1, 1);
    CHECK_EQ_INT(send_forward(&c, 1, plain, got, 100), -1);
    CHECK_EQ_INT(send_forward(&c, 1, plain, got, -1), -1);
    /* other hops are unaffected */
    CHECK_EQ_INT(send_forward(&c, 0, plain, got, -1), 0);
    CHECK_EQ_INT(send_backward(&c, 1, plain, got, -1), 1);
    circ_clear(&c);
}

static const om_test_t tests[] = {
    OM_TEST(test_key_layout),
    OM_TEST(test_three_hops_both_ways),
    OM_TEST(test_tampered_not_recognized),
    OM_TEST(test_rollback_on_unrecognized),
    OM_TEST(test_tamper_desyncs_hop),
    OM_TEST(test_nonzero_recognized_rejected_with_matching_digest),
    OM_TEST(test_digest_every_byte_compared),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("relay_crypto", tests, argc, argv);
}
