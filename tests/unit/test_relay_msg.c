/* test_relay_msg.c — unit tests for relay_msg.c: relay header wire bytes and bounds, relay
 * payload padding (tor-spec 6.1), command and END reason names, and the dispatch table. */
#include "test.h"
#include "core/relay_msg.h"

static void test_command_names(void)
{
    for (unsigned c = 1; c <= 44; c++) {
        bool named = (c >= 1 && c <= 22) || (c >= 32 && c <= 44);
        const char *n = om_relay_command_name((uint8_t)c);
        CHECK_MSG(named == (strcmp(n, "UNKNOWN") != 0), "relay command %u: %s", c, n);
    }
    CHECK(!strcmp(om_relay_command_name(OM_RELAY_BEGIN_DIR), "BEGIN_DIR"));
    CHECK(!strcmp(om_relay_command_name(OM_RELAY_EXTENDED2), "EXTENDED2"));
    CHECK(!strcmp(om_relay_command_name(OM_RELAY_XOFF), "XOFF"));
    CHECK(!strcmp(om_relay_command_name(43), "XOFF"));
    CHECK(!strcmp(om_relay_command_name(44), "XON"));
    CHECK(!strcmp(om_relay_command_name(OM_RELAY_INTRODUCE_ACK), "INTRODUCE_ACK"));
    CHECK(!strcmp(om_relay_command_name(0), "UNKNOWN"));
    CHECK(!strcmp(om_relay_command_name(45), "UNKNOWN"));
    CHECK(!strcmp(om_relay_command_name(255), "UNKNOWN"));
}

static void test_end_reason_names(void)
{
    for (unsigned r = 1; r <= 14; r++)
        CHECK_MSG(strcmp(om_end_reason_name((uint8_t)r), "UNKNOWN") != 0, "reason %u", r);
    CHECK(!strcmp(om_end_reason_name(OM_END_DONE), "DONE"));
    CHECK(!strcmp(om_end_reason_name(OM_END_EXITPOLICY), "EXITPOLICY"));
    CHECK(!strcmp(om_end_reason_name(OM_END_NOTDIRECTORY), "NOTDIRECTORY"));
    CHECK(!strcmp(om_end_reason_name(0), "UNKNOWN"));
    CHECK(!strcmp(om_end_reason_name(15), "UNKNOWN"));
    CHECK(!strcmp(om_end_reason_name(255), "UNKNOWN"));
}

static void test_header_wire_bytes(void)
{
    om_relay_header_t h = {.command = OM_RELAY_BEGIN,
                           .recognized = 0,
                           .stream_id = 0x1234,
                           .digest = {0xaa, 0xbb, 0xcc, 0xdd},
                           .length = 0x10};
    uint8_t p[OM_CELL_PAYLOAD_LEN];
    memset(p, 0x77, sizeof p);
    om_relay_header_pack(&h, p);
    uint8_t want[12];
    om_test_unhex("01 0000 1234 aabbccdd 0010 77", want, sizeof want);
    CHECK_MEM(p, want, 12); /* byte 11 untouched */
    om_relay_header_t d;
    CHECK_EQ_INT(om_relay_header_unpack(&d, p), 0);
    CHECK_EQ_INT(d.command, OM_RELAY_BEGIN);
    CHECK_EQ_INT(d.recognized, 0);
    CHECK_EQ_INT(d.stream_id, 0x1234);
    CHECK_MEM(d.digest, h.digest, 4);
    CHECK_EQ_INT(d.length, 0x10);
    /* Non-zero recognized (a cell still encrypted for another hop) round trips too. */
    h.recognized = 0xBEEF;
    h.command = OM_RELAY_EXTEND2;
    om_relay_header_pack(&h, p);
    CHECK_EQ_INT(p[1], 0xBE);
    CHECK_EQ_INT(p[2], 0xEF);
    CHECK_EQ_INT(om_relay_header_unpack(&d, p), 0);
    CHECK_EQ_INT(d.recognized, 0xBEEF);
}

static void test_header_length_bounds(void)
{
    uint8_t p[OM_CELL_PAYLOAD_LEN] = {0};
    om_relay_header_t d;
    p[9] = 498 >> 8;
    p[10] = 498 & 0xff;
    CHECK_EQ_INT(om_relay_header_unpack(&d, p), 0);
    CHECK_EQ_INT(d.length, 498);
    p[10] = 499 & 0xff;
    CHECK_EQ_INT(om_relay_header_unpack(&d, p), -1);
    p[9] = 0xff;
    p[10] = 0xff;
    CHECK_EQ_INT(om_relay_header_unpack(&d, p), -1);
    p[9] = 0x02; /* 512 */
    p[10] = 0x00;
    CHECK_EQ_INT(om_relay_header_unpack(&d, p), -1);
}

static void test_payload_build(void)
{
    uint8_t p[OM_CELL_PAYLOAD_LEN], q[OM_CELL_PAYLOAD_LEN];
    memset(p, 0xEE, sizeof p);
    CHECK_EQ_INT(om_relay_payload_build(p, OM_RELAY_DATA, 7, (const uint8_t *)"hello", 5), 0);
    uint8_t want[20];
    om_test_unhex("02 0000 0007 00000000 0005 68656c6c6f 00000000", want, sizeof want);
    CHECK_MEM(p, want, 20);
    om_relay_header_t h;
    CHECK_EQ_INT(om_relay_header_unpack(&h, p), 0);
    CHECK_EQ_INT(h.length, 5);
    /* The rest is random: not all zero, and different from a second build. */
    bool any = false;
    for (size_t i = 20; i < OM_CELL_PAYLOAD_LEN; i++)
        any = any || p[i] != 0;
    CHECK(any);
    CHECK_EQ_INT(om_relay_payload_build(q, OM_RELAY_DATA, 7, (const uint8_t *)"hello", 5), 0);
    CHECK_MEM(q, p, 20);
    CHECK(memcmp(q + 20, p + 20, OM_CELL_PAYLOAD_LEN - 20) != 0);
}

static void test_payload_build_edges(void)
{
    uint8_t body[OM_RELAY_PAYLOAD_LEN + 1];
    memset(body, 0x5C, sizeof body);
    uint8_t p[OM_CELL_PAYLOAD_LEN];
    /* Full body: no padding at all. */
    CHECK_EQ_INT(om_relay_payload_build(p, OM_RELAY_DATA, 1, body, 498), 0);
    CHECK_EQ_INT(p[9], 0x01);
    CHECK_EQ_INT(p[10], 0xF2);
    CHECK_MEM(p + 11, body, 498);
    /* Fewer than 4 padding bytes: all zero. */
    memset(p, 0xEE, sizeof p);
    CHECK_EQ_INT(om_relay_payload_build(p, OM_RELAY_DATA, 1, body, 496), 0);
    CHECK_EQ_INT(p[507], 0);
    CHECK_EQ_INT(p[508], 0);
    memset(p, 0xEE, sizeof p);
    CHECK_EQ_INT(om_relay_payload_build(p, OM_RELAY_DATA, 1, body, 494), 0);
    CHECK(p[505] == 0 && p[506] == 0 && p[507] == 0 && p[508] == 0);
    /* Too long. */
    CHECK_EQ_INT(om_relay_payload_build(p, OM_RELAY_DATA, 1, body, 499), -1);
    CHECK_EQ_INT(om_relay_payload_build(p, OM_RELAY_DATA, 1, body, 100000), -1);
    CHECK_EQ_INT(om_relay_payload_build(p, OM_RELAY_DATA, 1, NULL, 3), -1);
    /* Empty body: control message with stream 0. */
    memset(p, 0xEE, sizeof p);
    CHECK_EQ_INT(om_relay_payload_build(p, OM_RELAY_DROP, 0, NULL, 0), 0);
    uint8_t want[15];
    om_test_unhex("0a 0000 0000 00000000 0000 00000000", want, sizeof want);
    CHECK_MEM(p, want, 15);
}

static void test_payload_build_in_place(void)
{
    uint8_t p[OM_CELL_PAYLOAD_LEN];
    memset(p, 0, sizeof p);
    for (int i = 0; i < 100; i++)
        p[OM_RELAY_HEADER_LEN + i] = (uint8_t)i;
    CHECK_EQ_INT(om_relay_payload_build(p, OM_RELAY_DATA, 9, p + OM_RELAY_HEADER_LEN, 100), 0);
    for (int i = 0; i < 100; i++)
        CHECK(p[OM_RELAY_HEADER_LEN + i] == (uint8_t)i);
    /* Overlapping, body starting before the body offset. */
    uint8_t src[20];
    for (int i = 0; i < 20; i++)
        p[i] = src[i] = (uint8_t)(0xA0 + i);
    CHECK_EQ_INT(om_relay_payload_build(p, OM_RELAY_DATA, 9, p, 20), 0);
    CHECK_MEM(p + OM_RELAY_HEADER_LEN, src, 20);
    CHECK_EQ_INT(p[0], OM_RELAY_DATA);
}

/* ---- dispatch ---- */

static int calls;
static int handler_a(void *ctx, const om_relay_header_t *hdr, const uint8_t *body, void *arg)
{
    calls++;
    if (ctx != (void *)0x1 || arg != (void *)0x2 || hdr->command != OM_RELAY_DATA) return -100;
    return body && body[0] == 'x' ? 0 : -1;
}
static int handler_b(void *ctx, const om_relay_header_t *hdr, const uint8_t *body, void *arg)
{
    calls += 10;
    return -1;
}

static void test_dispatch(void)
{
    om_relay_dispatch_t t;
    om_relay_dispatch_init(&t);
    CHECK_EQ_INT(om_relay_dispatch_set(&t, OM_RELAY_DATA, handler_a, (void *)0x2), 0);
    CHECK_EQ_INT(om_relay_dispatch_set(&t, OM_RELAY_END, handler_b, NULL), 0);
    /* Collisions are rejected and do not replace the first handler. */
    CHECK_EQ_INT(om_relay_dispatch_set(&t, OM_RELAY_DATA, handler_b, NULL), -1);
    CHECK_EQ_INT(om_relay_dispatch_set(&t, OM_RELAY_DATA, handler_a, (void *)0x2), -1);
    CHECK_EQ_INT(om_relay_dispatch_set(&t, 200, NULL, NULL), -1);
    calls = 0;
    om_relay_header_t h = {.command = OM_RELAY_DATA, .length = 1};
    CHECK_EQ_INT(om_relay_dispatch(&t, (void *)0x1, &h, (const uint8_t *)"x"), 0);
    CHECK_EQ_INT(om_relay_dispatch(&t, (void *)0x1, &h, (const uint8_t *)"y"), -1);
    CHECK_EQ_INT(calls, 2);
    h.command = OM_RELAY_END;
    CHECK_EQ_INT(om_relay_dispatch(&t, NULL, &h, NULL), -1);
    CHECK_EQ_INT(calls, 12);
    h.command = OM_RELAY_BEGIN; /* nothing registered */
    CHECK_EQ_INT(om_relay_dispatch(&t, NULL, &h, NULL), -2);
    h.command = 255;
    CHECK_EQ_INT(om_relay_dispatch(&t, NULL, &h, NULL), -2);
    h.command = OM_RELAY_DATA;
    h.length = 499; /* malformed: handler not called */
    CHECK_EQ_INT(om_relay_dispatch(&t, (void *)0x1, &h, (const uint8_t *)"x"), -1);
    CHECK_EQ_INT(calls, 12);
    /* Every command slot, including 0 and 255, can be registered once. */
    om_relay_dispatch_init(&t);
    for (unsigned c = 0; c < 256; c++)
        CHECK_EQ_INT(om_relay_dispatch_set(&t, (uint8_t)c, handler_b, NULL), 0);
    for (unsigned c = 0; c < 256; c++)
        CHECK_EQ_INT(om_relay_dispatch_set(&t, (uint8_t)c, handler_a, NULL), -1);
}

static const om_test_t tests[] = {
    OM_TEST(test_command_names),
    OM_TEST(test_end_reason_names),
    OM_TEST(test_header_wire_bytes),
    OM_TEST(test_header_length_bounds),
    OM_TEST(test_payload_build),
    OM_TEST(test_payload_build_edges),
    OM_TEST(test_payload_build_in_place),
    OM_TEST(test_dispatch),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("relay_msg", tests, argc, argv);
}
