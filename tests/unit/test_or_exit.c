/* test_or_exit.c — the exit's refusals (src/or/or_exit.c) over an in-memory link: a client's
 * one-hop circuit to a relay whose stream layer has the exit registered, and BEGIN cells that
 * must be refused before any connection is attempted: on a circuit whose previous hop proved no
 * relay identity (END TORPROTOCOL), from a relay our consensus does not list (END
 * TORPROTOCOL), to an address the exit policy rejects (END EXITPOLICY), and to an IPv6 address
 * when the client did not set IPv6-OK (END EXITPOLICY). Each refusal has a control case that
 * differs only in what is checked and is not refused at once. Only 127.0.0.1 and ::1 are
 * targets, on a port where nothing listens. */
#include <stdio.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/channel_int.h"
#include "core/log.h"
#include "core/relay_bodies.h"
#include "or/dircache.h"
#include "or/exit_policy.h"
#include "or/or_exit.h"
#include "or_fixture.h"
#include "test.h"

#define PORT 9 /* discard: nothing listens on it here */

typedef struct {
    fix_relay_t r;
    fix_client_t c;
    om_or_exit_t *x;
    om_dircache_t *dc;
    char resolv[64];
} exit_fix_t;

/* A relay with an exit under `policy` (lines), its client's circuit. verified: the client's
 * link proved a relay identity (as a relay's AUTHENTICATE would). with_dircache: an empty
 * directory cache (it lists no relay). */
static bool exit_start(exit_fix_t *f, const char *const *policy, size_t n, bool ipv6, bool verified,
                       bool with_dircache)
{
    char err[256];
    memset(f, 0, sizeof *f);
    if (!fix_relay_start(&f->r, NULL, NULL)) return false;
    snprintf(f->resolv, sizeof f->resolv, "/tmp/om-test-or-exit-%d.conf", (int)getpid());
    FILE *rf = fopen(f->resolv, "w");
    if (!rf) return false;
    fputs("nameserver 127.0.0.1\n", rf);
    fclose(rf);
    om_exit_policy_t p;
    memset(&p, 0, sizeof p);
    if (om_exit_policy_parse(&p, policy, n, err, sizeof err) < 0) return false;
    if (with_dircache) f->dc = om_dircache_new(f->r.base, NULL, 0);
    f->x = om_or_exit_new(f->r.base, &p, f->resolv, ipv6, f->dc, err, sizeof err);
    om_exit_policy_free(&p);
    if (!f->x || om_or_exit_register(f->x, f->r.streams) < 0) return false;
    if (verified) {
        f->r.link.chan->peer_verified = true;
        memset(f->r.link.chan->peer.rsa_fp, 0x42, 20);
    }
    return fix_client_create(&f->r, &f->c, FIX_CIRC);
}

/* The streams go first (they point into the exit), the event base last (the exit's DNS and
 * the cache have events on it): fix_relay_stop frees a base it is given, so it is not. */
static void exit_stop(exit_fix_t *f)
{
    struct event_base *base = f->r.base;
    f->r.base = NULL;
    fix_relay_stop(&f->r);
    if (f->x) om_or_exit_free(f->x);
    if (f->dc) om_dircache_free(f->dc);
    if (base) event_base_free(base);
    unlink(f->resolv);
}

/* BEGIN host:PORT with flags; the END reason sent at once, or -1 if none was. */
static int begin_end_reason(exit_fix_t *f, const char *host, uint32_t flags)
{
    om_begin_t b;
    memset(&b, 0, sizeof b);
    snprintf(b.host, sizeof b.host, "%s", host);
    b.port = PORT;
    b.flags = flags;
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    int n = om_begin_encode(&b, body, sizeof body);
    if (n < 0 ||
        fix_client_send(&f->r, &f->c, OM_RELAY_BEGIN, FIX_STREAM, body, (size_t)n, false) < 0)
        return -2;
    uint8_t reason = 0;
    bool destroyed = false;
    int ends = fix_drain(&f->r, &f->c, OM_RELAY_END, &destroyed, &reason);
    if (destroyed) return -3;
    return ends ? reason : -1;
}

static const char *const accept_all[] = {"accept *:*"};

static void test_first_hop_refused(void)
{
    exit_fix_t f;
    CHECK(exit_start(&f, accept_all, 1, false, false, false));
    int r = begin_end_reason(&f, "127.0.0.1", 0);
    exit_stop(&f);
    CHECK_EQ_INT(r, OM_END_TORPROTOCOL);
}

static void test_unknown_relay_refused(void)
{
    exit_fix_t f;
    CHECK(exit_start(&f, accept_all, 1, false, true, true));
    int r = begin_end_reason(&f, "127.0.0.1", 0);
    exit_stop(&f);
    CHECK_EQ_INT(r, OM_END_TORPROTOCOL);
    /* Control: the same relay, no consensus to consult: the exit tries to connect. */
    CHECK(exit_start(&f, accept_all, 1, false, true, false));
    r = begin_end_reason(&f, "127.0.0.1", 0);
    exit_stop(&f);
    CHECK_EQ_INT(r, -1);
}

static void test_policy_refused(void)
{
    static const char *const policy[] = {"reject 127.0.0.1:9", "accept *:*"};
    exit_fix_t f;
    CHECK(exit_start(&f, policy, 2, false, true, false));
    int r = begin_end_reason(&f, "127.0.0.1", 0);
    exit_stop(&f);
    CHECK_EQ_INT(r, OM_END_EXITPOLICY);
    /* Control: another loopback address is not rejected by that rule. */
    CHECK(exit_start(&f, policy, 2, false, true, false));
    r = begin_end_reason(&f, "127.0.0.2", 0);
    exit_stop(&f);
    CHECK_EQ_INT(r, -1);
}

static void test_ipv6_needs_ipv6_ok(void)
{
    exit_fix_t f;
    CHECK(exit_start(&f, accept_all, 1, true, true, false));
    int r = begin_end_reason(&f, "::1", 0);
    exit_stop(&f);
    CHECK_EQ_INT(r, OM_END_EXITPOLICY);
    /* Control: with IPv6-OK the exit tries to connect. */
    CHECK(exit_start(&f, accept_all, 1, true, true, false));
    r = begin_end_reason(&f, "::1", OM_BEGIN_FLAG_IPV6_OK);
    exit_stop(&f);
    CHECK_EQ_INT(r, -1);
    /* Not an IPv6 exit: refused even with IPv6-OK. */
    CHECK(exit_start(&f, accept_all, 1, false, true, false));
    r = begin_end_reason(&f, "::1", OM_BEGIN_FLAG_IPV6_OK);
    exit_stop(&f);
    CHECK_EQ_INT(r, OM_END_EXITPOLICY);
}

static const om_test_t tests[] = {
    OM_TEST(test_first_hop_refused),
    OM_TEST(test_unknown_relay_refused),
    OM_TEST(test_policy_refused),
    OM_TEST(test_ipv6_needs_ipv6_ok),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    if (!getenv("OM_LOG")) om_log_set_level(OM_LOG_WARN);
    return om_test_main("or_exit", tests, argc, argv);
}
