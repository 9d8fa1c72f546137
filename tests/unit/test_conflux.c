/* test_conflux.c — conflux (conflux.h, proposal 329): the CONFLUX_LINK/LINKED and SWITCH body
 * codec (round trip, malformed bodies refused) and the set of multiplexed relay commands against
 * tor 0.4.9's conflux_should_multiplex. The circuit-level cases (linking over the fake relays,
 * reordering, hostile exits) are not here yet. */
#include <string.h>

#include "core/conflux.h"
#include "core/relay_msg.h"
#include "test.h"

static void fill_link(om_cfx_link_t *l, uint8_t ux)
{
    for (int i = 0; i < OM_CFX_NONCE_LEN; i++)
        l->nonce[i] = (uint8_t)(0xa0 + i);
    l->last_seq_sent = 0x0102030405060708ull;
    l->last_seq_recv = 0xfffffffffffffffeull;
    l->desired_ux = ux;
}

static void test_link_round_trip(void)
{
    for (uint8_t ux = 0; ux <= OM_CFX_UX_LOW_MEM_THROUGHPUT; ux++) {
        om_cfx_link_t a, b;
        fill_link(&a, ux);
        uint8_t body[OM_CFX_LINK_BODY_LEN + 8];
        CHECK_RET(om_cfx_link_encode(&a, body, sizeof body), OM_CFX_LINK_BODY_LEN);
        /* version 1, nonce, two big-endian u64, desired_ux */
        CHECK_EQ_INT(body[0], 1);
        CHECK_MEM(body + 1, a.nonce, OM_CFX_NONCE_LEN);
        CHECK_EQ_INT(body[33], 0x01);
        CHECK_EQ_INT(body[40], 0x08);
        CHECK_EQ_INT(body[41], 0xff);
        CHECK_EQ_INT(body[48], 0xfe);
        CHECK_EQ_INT(body[49], ux);
        memset(&b, 0x55, sizeof b);
        CHECK_RET(om_cfx_link_parse(&b, body, OM_CFX_LINK_BODY_LEN), 0);
        CHECK_MEM(b.nonce, a.nonce, OM_CFX_NONCE_LEN);
        CHECK(b.last_seq_sent == a.last_seq_sent);
        CHECK(b.last_seq_recv == a.last_seq_recv);
        CHECK_EQ_INT(b.desired_ux, ux);
    }
}

static void test_link_encode_refuses(void)
{
    om_cfx_link_t a;
    uint8_t body[OM_CFX_LINK_BODY_LEN];
    fill_link(&a, OM_CFX_UX_HIGH_THROUGHPUT);
    CHECK_RET(om_cfx_link_encode(&a, body, OM_CFX_LINK_BODY_LEN - 1), -1);
    fill_link(&a, 5);
    CHECK_RET(om_cfx_link_encode(&a, body, sizeof body), -1);
}

static void test_link_parse_refuses(void)
{
    om_cfx_link_t a, b;
    uint8_t body[OM_CFX_LINK_BODY_LEN + 1];
    fill_link(&a, OM_CFX_UX_HIGH_THROUGHPUT);
    CHECK_RET(om_cfx_link_encode(&a, body, sizeof body), OM_CFX_LINK_BODY_LEN);
    body[OM_CFX_LINK_BODY_LEN] = 0;
    /* wrong lengths */
    CHECK_RET(om_cfx_link_parse(&b, body, 0), -1);
    CHECK_RET(om_cfx_link_parse(&b, body, 1), -1);
    CHECK_RET(om_cfx_link_parse(&b, body, OM_CFX_LINK_BODY_LEN - 1), -1);
    CHECK_RET(om_cfx_link_parse(&b, body, OM_CFX_LINK_BODY_LEN + 1), -1);
    /* versions other than 1 */
    body[0] = 0;
    CHECK_RET(om_cfx_link_parse(&b, body, OM_CFX_LINK_BODY_LEN), -1);
    body[0] = 2;
    CHECK_RET(om_cfx_link_parse(&b, body, OM_CFX_LINK_BODY_LEN), -1);
    body[0] = 1;
    CHECK_RET(om_cfx_link_parse(&b, body, OM_CFX_LINK_BODY_LEN), 0);
    /* desired_ux beyond LOW_MEM_THROUGHPUT */
    for (int ux = 5; ux < 256; ux++) {
        body[49] = (uint8_t)ux;
        CHECK_MSG(om_cfx_link_parse(&b, body, OM_CFX_LINK_BODY_LEN) == -1, "ux %d accepted", ux);
    }
}

static void test_switch_parse(void)
{
    static const uint8_t body[] = {0x80, 0x01, 0x02, 0xff, 0x77};
    uint32_t rel = 0;
    CHECK_RET(om_cfx_switch_parse(&rel, body, 4), 0);
    CHECK(rel == 0x800102ffu);
    rel = 0;
    CHECK_RET(om_cfx_switch_parse(&rel, body, 5), 0); /* trailing bytes are not looked at */
    CHECK(rel == 0x800102ffu);
    for (size_t n = 0; n < 4; n++) {
        rel = 12345;
        CHECK_MSG(om_cfx_switch_parse(&rel, body, n) == -1, "%zu-byte SWITCH accepted", n);
        CHECK(rel == 12345);
    }
}

static void test_multiplexed_list(void)
{
    /* tor 0.4.9 conflux.c conflux_should_multiplex(): true for these, false otherwise (the
     * conflux commands themselves, SENDME, the EXTEND family, BEGIN_DIR, onion-service and
     * padding commands, and unknown ones). */
    static const uint8_t yes[] = {OM_RELAY_BEGIN,     OM_RELAY_DATA,    OM_RELAY_END,
                                  OM_RELAY_CONNECTED, OM_RELAY_RESOLVE, OM_RELAY_RESOLVED,
                                  OM_RELAY_XOFF,      OM_RELAY_XON};
    for (int c = 0; c < 256; c++) {
        bool want = memchr(yes, c, sizeof yes) != NULL;
        CHECK_MSG(om_cfx_multiplexed((uint8_t)c) == want, "command %d multiplexed %d, want %d", c,
                  !want, want);
    }
    CHECK(!om_cfx_multiplexed(OM_RELAY_CONFLUX_SWITCH));
    CHECK(!om_cfx_multiplexed(OM_RELAY_SENDME));
    CHECK(!om_cfx_multiplexed(OM_RELAY_BEGIN_DIR));
}

static const om_test_t tests[] = {
    OM_TEST(test_link_round_trip),    OM_TEST(test_link_encode_refuses),
    OM_TEST(test_link_parse_refuses), OM_TEST(test_switch_parse),
    OM_TEST(test_multiplexed_list),   {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("conflux", tests, argc, argv);
}
