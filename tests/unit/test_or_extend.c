/* test_or_extend.c — EXTEND2 at a relay (src/or/or_circuit.c) over the in-memory link: when the
 * link manager fails the request before returning (its link table is full), the circuit is torn
 * down (DESTROY CONNECTFAILED to the client) and nothing touches it afterwards (ASan reported a
 * heap-use-after-free here before the fix); the relay's other circuits keep working. Also the
 * EXTEND2 refusals that close a circuit: not in RELAY_EARLY, no RSA identity, to ourselves, to a
 * private address when the relay is not in a test network. */
#include <event2/event.h>

#include "core/crypto.h"
#include "core/linkmgr.h"
#include "core/log.h"
#include "or_fixture.h"
#include "or/relay_keys.h"
#include "test.h"
#include "test_loop.h"

static uint8_t peer_fp[20];

/* An EXTEND2 body to 127.0.0.1:port, identity peer_fp, with a 84-byte ntor handshake. */
static size_t extend2_body(uint8_t *out, uint16_t port, bool with_rsa, const uint8_t *rsa)
{
    om_extend2_t e;
    memset(&e, 0, sizeof e);
    e.has_ipv4 = true;
    e.ipv4[0] = 127;
    e.ipv4[3] = 1;
    e.ipv4_port = port;
    e.has_rsa_id = with_rsa;
    memcpy(e.rsa_id, rsa, 20);
    e.htype = 2;
    e.hlen = 84;
    om_rand_bytes(e.hdata, 84);
    int n = om_extend2_encode(&e, out, OM_RELAY_PAYLOAD_LEN);
    return n < 0 ? 0 : (size_t)n;
}

static void ignore_link(om_channel_t *chan, const char *err, void *arg)
{
    (void)chan;
    (void)err;
    (void)arg;
}

/* The DESTROY the client got on c, or -1. */
static int destroy_reason(fix_relay_t *r, fix_client_t *c)
{
    om_relay_header_t h;
    uint8_t body[OM_RELAY_PAYLOAD_LEN], reason = 0;
    int t;
    while ((t = fix_client_recv(r, c, &h, body, &reason)) != 0)
        if (t == 2) return reason;
    return -1;
}

static void test_extend_fails_before_returning(void)
{
    om_relay_keys_t keys;
    memset(&keys, 0, sizeof keys);
    om_rand_bytes(keys.rsa_fp, 20);
    om_rand_bytes(peer_fp, 20);
    fix_relay_t r;
    /* A link table of one, taken by a link still connecting (its loop never runs): the next
     * request fails before om_linkmgr_get returns. */
    struct event_base *b = event_base_new();
    om_linkmgr_opts_t lo = {.max_links = 1};
    om_linkmgr_t *links = om_linkmgr_new(b, &lo, NULL);
    CHECK(fix_relay_start(&r, links, &keys));
    uint8_t someone[20];
    om_rand_bytes(someone, 20);
    void *pending = om_linkmgr_get(links, "127.0.0.1", 9, someone, NULL, ignore_link, NULL);
    CHECK(pending != NULL);
    CHECK_EQ_INT(om_linkmgr_count(links), 1);
    fix_client_t a, other;
    CHECK(fix_client_create(&r, &a, FIX_CIRC));
    CHECK(fix_client_create(&r, &other, FIX_CIRC + 1));
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    size_t n = extend2_body(body, 9001, true, peer_fp);
    CHECK(n > 0);
    CHECK_RET(fix_client_send(&r, &a, OM_RELAY_EXTEND2, 0, body, n, true), 0);
    CHECK_EQ_INT(destroy_reason(&r, &a), OM_DESTROY_CONNECTFAILED);
    om_or_circ_stats_t st;
    om_or_circuits_stats(r.circs, &st);
    CHECK_EQ_INT(st.circuits, 1);
    CHECK_EQ_INT(st.extend_failures, 1);
    /* The other circuit still answers: a BEGIN_DIR gets END NOTDIRECTORY (no service). */
    CHECK_RET(fix_client_send(&r, &other, OM_RELAY_BEGIN_DIR, 3, NULL, 0, false), 0);
    uint8_t reason = 0;
    CHECK_EQ_INT(fix_drain(&r, &other, OM_RELAY_END, NULL, &reason), 1);
    CHECK_EQ_INT(reason, OM_END_NOTDIRECTORY);
    om_linkmgr_cancel(links, pending);
    fix_relay_stop(&r);
    om_linkmgr_free(links);
    om_test_spin(b, 10); /* the links' deferred frees */
    event_base_free(b);
}

static void test_extend_refusals(void)
{
    om_relay_keys_t keys;
    memset(&keys, 0, sizeof keys);
    om_rand_bytes(keys.rsa_fp, 20);
    struct event_base *b = event_base_new();
    om_linkmgr_t *links = om_linkmgr_new(b, NULL, NULL);
    fix_relay_t r;
    CHECK(fix_relay_start(&r, links, &keys));
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    struct {
        bool early, with_rsa;
        const uint8_t *rsa;
        const char *what;
    } cases[] = {
        {false, true, peer_fp, "not in RELAY_EARLY"},
        {true, false, peer_fp, "without an RSA identity"},
        {true, true, keys.rsa_fp, "to ourselves"},
    };
    fix_client_t c[3];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(fix_client_create(&r, &c[i], FIX_CIRC + (uint32_t)i));
        size_t n = extend2_body(body, 9001, cases[i].with_rsa, cases[i].rsa);
        CHECK_RET(fix_client_send(&r, &c[i], OM_RELAY_EXTEND2, 0, body, n, cases[i].early), 0);
        CHECK_MSG(destroy_reason(&r, &c[i]) == OM_DESTROY_PROTOCOL, "EXTEND2 %s not refused",
                  cases[i].what);
    }
    CHECK_EQ_INT(om_linkmgr_count(links), 0);
    fix_relay_stop(&r);
    om_linkmgr_free(links);
    om_test_spin(b, 10); /* the links' deferred frees */
    event_base_free(b);
}

/* Without TestingTorNetwork an EXTEND2 to a private address (127.0.0.1 here) is refused:
 * DESTROY CONNECTFAILED, and no extend (no link) is attempted. (This link manager's connects
 * fail at once, which would also end in CONNECTFAILED: the extend counter tells them apart.) */
static void test_extend_private_refused(void)
{
    om_relay_keys_t keys;
    memset(&keys, 0, sizeof keys);
    om_rand_bytes(keys.rsa_fp, 20);
    om_rand_bytes(peer_fp, 20);
    struct event_base *b = event_base_new();
    om_linkmgr_t *links = om_linkmgr_new(b, NULL, NULL);
    fix_relay_t r;
    fix_client_t c;
    CHECK(fix_relay_start_public(&r, links, &keys));
    CHECK(fix_client_create(&r, &c, FIX_CIRC));
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    size_t n = extend2_body(body, 9001, true, peer_fp);
    CHECK_RET(fix_client_send(&r, &c, OM_RELAY_EXTEND2, 0, body, n, true), 0);
    int reason = destroy_reason(&r, &c);
    om_or_circ_stats_t st;
    om_or_circuits_stats(r.circs, &st);
    unsigned attempted = om_linkmgr_count(links) + (unsigned)st.extends;
    fix_relay_stop(&r);
    om_linkmgr_free(links);
    om_test_spin(b, 10);
    event_base_free(b);
    CHECK_EQ_INT(attempted, 0);
    CHECK_EQ_INT(reason, OM_DESTROY_CONNECTFAILED);
}

static const om_test_t tests[] = {
    OM_TEST(test_extend_fails_before_returning),
    OM_TEST(test_extend_refusals),
    OM_TEST(test_extend_private_refused),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    if (!getenv("OM_LOG")) om_log_set_level(OM_LOG_WARN);
    return om_test_main("or_extend", tests, argc, argv);
}
