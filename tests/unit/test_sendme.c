/* test_sendme.c — the flow-control module both circuit ends use (src/core/sendme.c): package
 * windows and the digest FIFO, SENDME validation as tor 0.4.9's sendme_is_valid (versions,
 * sendme_accept_min_version, DATA_LEN, outstanding digests), the deliver side, congestion control
 * hooks, and stream windows / XON-XOFF. */
#include "core/relay_msg.h"
#include "core/sendme.h"
#include "test.h"

/* Send n DATA cells; each recorded digest slot gets digest = the cell's number. Returns how many
 * slots were asked for. */
static int package(om_sendme_t *s, int n, int *counter)
{
    int slots = 0;
    for (int i = 0; i < n; i++) {
        uint8_t *slot = om_sendme_note_packaged(s, 1000 + (uint64_t)*counter);
        (*counter)++;
        if (slot) {
            memset(slot, 0, 20);
            memcpy(slot, counter, sizeof *counter);
            slots++;
        }
    }
    return slots;
}

static size_t v1(uint8_t *out, int digest_of)
{
    uint8_t d[20] = {0};
    memcpy(d, &digest_of, sizeof digest_of);
    return om_sendme_build_v1(out, d);
}

static void test_fixed_window_and_digests(void)
{
    om_sendme_t s;
    om_sendme_init(&s, 0);
    int n = 0;
    /* tor-spec 7.3: 1000 cells, then nothing until a SENDME; a digest kept every 100th cell. */
    CHECK_EQ_INT(package(&s, 1000, &n), 10);
    CHECK(!om_sendme_can_package(&s));
    uint8_t body[OM_SENDME_V1_BODY_LEN];
    const char *why = NULL;
    /* The first SENDME authenticates the 100th cell. */
    CHECK_RET(om_sendme_process(&s, body, v1(body, 100), 0, &why), 0);
    CHECK(om_sendme_can_package(&s));
    CHECK_EQ_INT(s.package_window, 100);
    /* The next one must carry the 200th cell's digest: the 300th's is refused. */
    CHECK_RET(om_sendme_process(&s, body, v1(body, 300), 0, &why), -1);
    CHECK(strstr(why, "digest") != NULL);
}

static void test_sendme_versions(void)
{
    uint8_t body[32];
    const char *why = NULL;
    int n = 0;
    om_sendme_t s;
    om_sendme_init(&s, 0);
    package(&s, 300, &n);
    /* Version 0 (empty body) is accepted by default and pops a digest all the same. */
    CHECK_RET(om_sendme_process(&s, NULL, 0, 0, &why), 0);
    CHECK_EQ_INT(s.dig_n, 2);
    /* Version 0 with a DATA_LEN and bytes: accepted (tor's trunnel ignores them). */
    memcpy(body, "\x00\x00\x02xy", 5);
    CHECK_RET(om_sendme_process(&s, body, 5, 0, &why), 0);
    /* Unknown versions and malformed bodies close the circuit. */
    om_sendme_init(&s, 0);
    package(&s, 100, &n);
    memcpy(body, "\x02\x00\x14", 3);
    memset(body + 3, 0, 20);
    CHECK_RET(om_sendme_process(&s, body, 23, 0, &why), -1);
    CHECK_RET(om_sendme_process(&s, body, 1, 0, &why), -1); /* truncated header */
    CHECK_RET(om_sendme_process(&s, (const uint8_t *)"\x01\x00\x13", 3, 0, &why), -1);
    uint8_t long_v1[3 + 21] = {1, 0, 21};
    CHECK_RET(om_sendme_process(&s, long_v1, sizeof long_v1, 0, &why), -1); /* DATA_LEN 21 */
    uint8_t short_v1[3 + 19] = {1, 0, 20};
    CHECK_RET(om_sendme_process(&s, short_v1, sizeof short_v1, 0, &why), -1); /* truncated */
    /* Version 1 carries exactly 20 digest bytes: DATA_LEN 21 or 19 is refused even when the
     * first 20 bytes are the right digest. */
    for (int dl = 19; dl <= 21; dl += 2) {
        om_sendme_init(&s, 0);
        n = 0;
        package(&s, 100, &n);
        uint8_t v1body[3 + 21] = {0};
        v1(v1body, 100);
        v1body[2] = (uint8_t)dl;
        CHECK_RET(om_sendme_process(&s, v1body, sizeof v1body, 0, &why), -1);
        CHECK_MSG(strstr(why, "unparseable"), "DATA_LEN %d: %s", dl, why);
    }
    /* sendme_accept_min_version 1 (as the public consensus sets it): version 0 refused. */
    om_sendme_init(&s, 1);
    package(&s, 100, &n);
    CHECK_RET(om_sendme_process(&s, NULL, 0, 0, &why), -1);
    CHECK(strstr(why, "sendme_accept_min_version") != NULL);
}

static void test_sendme_without_data(void)
{
    om_sendme_t s;
    const char *why = NULL;
    om_sendme_init(&s, 0);
    uint8_t body[OM_SENDME_V1_BODY_LEN];
    CHECK_RET(om_sendme_process(&s, body, v1(body, 100), 0, &why), -1);
    CHECK(strstr(why, "without outstanding") != NULL);
    CHECK_RET(om_sendme_process(&s, NULL, 0, 0, &why), -1); /* v0 too: no digest to pop */
}

static void test_deliver_side(void)
{
    om_sendme_t s;
    om_sendme_init(&s, 0);
    int due = 0;
    for (int i = 1; i <= 1000; i++) {
        int r = om_sendme_note_delivered(&s);
        CHECK(r >= 0);
        if (r == 1) {
            CHECK_EQ_INT(i % 100, 0); /* exactly on every 100th cell */
            due++;
        }
    }
    CHECK_EQ_INT(due, 10);
    /* Nothing is withheld at circuit level, so the window never runs out... */
    CHECK_EQ_INT(s.deliver_window, 1000);
    /* ...unless a caller fails to send what was due: then the 1001st cell is a violation. */
    s.recv_inc = 1000 + 1; /* a SENDME never becomes due */
    for (int i = 0; i < 1000; i++)
        CHECK_RET(om_sendme_note_delivered(&s), 0);
    CHECK_RET(om_sendme_note_delivered(&s), -1);
}

static void test_congestion_control_hooks(void)
{
    om_sendme_t s;
    om_sendme_init(&s, 0);
    CHECK_RET(om_sendme_enable_cc(&s, NULL, 0, OM_CC_PATH_EXIT), -1); /* sendme_inc 0 */
    CHECK(!om_sendme_cc_active(&s));
    CHECK_RET(om_sendme_enable_cc(&s, NULL, 31, OM_CC_PATH_EXIT), 0);
    CHECK(om_sendme_cc_active(&s));
    CHECK(om_sendme_cc_params(&s) != NULL);
    /* The window is Vegas' cwnd (cc_cwnd_init 124): 124 cells, a digest every 31st. */
    int n = 0;
    int slots = 0;
    while (om_sendme_can_package(&s) && n < 2000)
        slots += package(&s, 1, &n);
    CHECK_EQ_INT(n, 124);
    CHECK_EQ_INT(slots, 4);
    uint8_t body[OM_SENDME_V1_BODY_LEN];
    const char *why = NULL;
    CHECK_RET(om_sendme_process(&s, body, v1(body, 31), 50000, &why), 0);
    CHECK(om_sendme_can_package(&s));
    CHECK_EQ_INT(om_cc_inflight(om_sendme_cc(&s)), 124 - 31);
    CHECK_RET(om_sendme_process(&s, body, v1(body, 31), 60000, &why), -1); /* expects 62 */
    /* Delivery: a SENDME every sendme_inc cells. */
    int due = 0;
    for (int i = 1; i <= 93; i++)
        due += om_sendme_note_delivered(&s) == 1;
    CHECK_EQ_INT(due, 3);
    om_sendme_clear(&s);
    CHECK(!om_sendme_cc_active(&s));
}

static void test_stream_windows(void)
{
    om_stream_flow_t f;
    const char *why = NULL;
    om_stream_flow_init(&f, NULL, true);
    CHECK(!f.cc);
    for (int i = 0; i < 500; i++) {
        CHECK(om_stream_flow_can_package(&f));
        om_stream_flow_note_packaged(&f, 498);
    }
    CHECK(!om_stream_flow_can_package(&f));
    CHECK_RET(om_stream_flow_process_sendme(&f, &why), 0);
    CHECK_EQ_INT(f.package_window, 50);
    for (int i = 0; i < 9; i++)
        CHECK_RET(om_stream_flow_process_sendme(&f, &why), 0);
    CHECK_RET(om_stream_flow_process_sendme(&f, &why), -1); /* beyond 500 */
    /* Receiving: 50 cells make one SENDME due; withheld ones add up; 501 without any is a
     * violation (tor: "conn deliver_window below 0"). */
    for (int i = 0; i < 120; i++)
        CHECK_RET(om_stream_flow_note_delivered(&f), 0);
    CHECK_RET(om_stream_flow_take_due_sendmes(&f), 2);
    CHECK_RET(om_stream_flow_take_due_sendmes(&f), 0);
    om_stream_flow_init(&f, NULL, true);
    for (int i = 0; i < 500; i++)
        CHECK_RET(om_stream_flow_note_delivered(&f), 0);
    CHECK_RET(om_stream_flow_note_delivered(&f), -1);
}

static void test_stream_flow_with_cc(void)
{
    om_sendme_t hop;
    om_sendme_init(&hop, 0);
    CHECK_RET(om_sendme_enable_cc(&hop, NULL, 31, OM_CC_PATH_EXIT), 0);
    om_stream_flow_t f;
    const char *why = NULL;
    om_stream_flow_init(&f, &hop, false);
    CHECK(f.cc);
    for (int i = 0; i < 2000; i++) /* no stream window with CC */
        CHECK_RET(om_stream_flow_note_delivered(&f), 0);
    CHECK_RET(om_stream_flow_take_due_sendmes(&f), 0);
    CHECK_RET(om_stream_flow_process_sendme(&f, &why), -1); /* stream SENDME with CC */
    om_stream_flow_note_packaged(&f, 498 * 600);
    bool ignored = true;
    uint8_t xoff[OM_XOFF_BODY_LEN];
    CHECK(om_xoff_encode(xoff, sizeof xoff) > 0);
    CHECK_RET(om_stream_flow_on_xon_xoff(&f, OM_RELAY_XOFF, xoff, sizeof xoff, &ignored),
              OM_FLOW_MSG_OK);
    CHECK(!ignored);
    CHECK(!om_stream_flow_can_package(&f));
    uint8_t bad[1] = {7}; /* version 7 */
    CHECK_RET(om_stream_flow_on_xon_xoff(&f, OM_RELAY_XON, bad, 1, &ignored),
              OM_FLOW_MSG_MALFORMED);
    /* Without CC, XON/XOFF are ignored (tor logs "Got XOFF on invalid stream?"). */
    om_stream_flow_t w;
    om_stream_flow_init(&w, NULL, false);
    CHECK_RET(om_stream_flow_on_xon_xoff(&w, OM_RELAY_XOFF, xoff, sizeof xoff, &ignored),
              OM_FLOW_MSG_OK);
    CHECK(ignored);
    CHECK(om_stream_flow_can_package(&w));
    om_sendme_clear(&hop);
}

static const om_test_t tests[] = {
    OM_TEST(test_fixed_window_and_digests), OM_TEST(test_sendme_versions),
    OM_TEST(test_sendme_without_data),      OM_TEST(test_deliver_side),
    OM_TEST(test_congestion_control_hooks), OM_TEST(test_stream_windows),
    OM_TEST(test_stream_flow_with_cc),      {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("sendme", tests, argc, argv);
}
