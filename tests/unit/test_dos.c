/* test_dos.c — unit tests for the relay's DoS mitigation: the token buckets (dos_bucket.c), the
 * bounded per-address table (dos_addr.c: eviction, expiry, memory), the known-relay exemption
 * (dos_relays.c), torrc vs consensus vs tor's defaults (dos_params.c, dos_options.c through the
 * relay's configuration), each defense of the policy (dos.c: connections, circuit creation,
 * streams, single-hop rendezvous) on an injected clock, the heartbeat's formats and the exit's
 * per-client shares (exit_share.c). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/channel_int.h"
#include "core/log.h"
#include "core/config.h"
#include "or/dos.h"
#include "or/dos_relays.h"
#include "or/exit_share.h"
#include "or/heartbeat.h"
#include "or/relay_options.h"
#include "test.h"

static time_t clock_now = 1000000;

static time_t test_clock(void *arg)
{
    (void)arg;
    return clock_now;
}

/* ---------------------------------------------------------------- buckets */

static void test_bucket_refill(void)
{
    om_dos_bucket_t b = {0};
    CHECK_RET(om_dos_bucket_take(&b, 3, 10, 100), 9); /* starts full */
    for (int i = 0; i < 9; i++)
        om_dos_bucket_take(&b, 3, 10, 100);
    CHECK_EQ_INT(b.tokens, 0);
    CHECK_RET(om_dos_bucket_take(&b, 3, 10, 100), 0); /* stays at 0 */
    om_dos_bucket_refill(&b, 3, 10, 102);             /* 2 s * 3/s */
    CHECK_EQ_INT(b.tokens, 6);
    om_dos_bucket_refill(&b, 3, 10, 200); /* capped at the burst */
    CHECK_EQ_INT(b.tokens, 10);
    b.tokens = 0;
    om_dos_bucket_refill(&b, 3, 10, 150); /* clock went backwards: full */
    CHECK_EQ_INT(b.tokens, 10);
    om_dos_bucket_refill(&b, 3, 4, 150); /* a lower burst caps at once */
    CHECK_EQ_INT(b.tokens, 4);
    b.tokens = 0;
    om_dos_bucket_refill(&b, UINT32_MAX, 7, 150 + 100000); /* no overflow */
    CHECK_EQ_INT(b.tokens, 7);
}

/* ---------------------------------------------------------------- addresses and the table */

static void test_addr_parse(void)
{
    om_dos_addr_t a, b;
    char s[64];
    CHECK_RET(om_dos_addr_parse(&a, "127.0.0.2:9001"), 0);
    CHECK_EQ_INT(a.family, 4);
    om_dos_addr_format(&a, s, sizeof s);
    CHECK(!strcmp(s, "127.0.0.2"));
    CHECK_RET(om_dos_addr_parse(&b, "127.0.0.2"), 0);
    CHECK(om_dos_addr_eq(&a, &b));
    CHECK_RET(om_dos_addr_parse(&a, "[2001:db8::1]:443"), 0);
    CHECK_EQ_INT(a.family, 6);
    CHECK_RET(om_dos_addr_parse(&b, "2001:db8::1"), 0);
    CHECK(om_dos_addr_eq(&a, &b));
    CHECK_RET(om_dos_addr_parse(&a, "[::1"), -1);
    CHECK_RET(om_dos_addr_parse(&a, "example.com:80"), -1);
    CHECK_RET(om_dos_addr_parse(&a, ""), -1);
    CHECK_RET(om_dos_addr_parse(&a, NULL), -1);
}

static om_dos_addr_t v4(uint8_t last)
{
    om_dos_addr_t a = {.family = 4, .a = {10, 0, 0, last}};
    return a;
}

static void test_table_bound_and_eviction(void)
{
    om_dos_table_t *t = om_dos_table_new(4, 600);
    CHECK(t);
    om_dos_table_stats_t st;
    om_dos_table_stats(t, &st);
    size_t empty_bytes = st.bytes;
    for (uint8_t i = 1; i <= 4; i++) {
        om_dos_addr_t a = v4(i);
        om_dos_entry_t *e = om_dos_table_get(t, &a, 100 + i, true);
        CHECK(e);
        if (i != 1) e->concurrent = 1; /* only 10.0.0.1 can go */
    }
    om_dos_table_stats(t, &st);
    CHECK_EQ_INT(st.entries, 4);
    CHECK_EQ_INT(st.bytes, empty_bytes + 4 * sizeof(om_dos_entry_t));
    om_dos_addr_t a5 = v4(5), a1 = v4(1);
    CHECK(om_dos_table_get(t, &a5, 200, true)); /* evicts 10.0.0.1, the only idle one */
    CHECK(!om_dos_table_get(t, &a1, 200, false));
    om_dos_table_stats(t, &st);
    CHECK_EQ_INT(st.entries, 4);
    CHECK_EQ_INT(st.evicted, 1);
    /* Full of entries with connections (a5 too): a new address is not tracked. */
    om_dos_table_get(t, &a5, 200, false)->concurrent = 1;
    CHECK(!om_dos_table_get(t, &a1, 201, true));
    om_dos_table_stats(t, &st);
    CHECK_EQ_INT(st.untracked, 1);
    CHECK_EQ_INT(st.entries, 4);
    om_dos_table_free(t);
}

static void test_table_eviction_prefers_unmarked_lru(void)
{
    om_dos_table_t *t = om_dos_table_new(3, 600);
    CHECK(t);
    om_dos_addr_t a1 = v4(1), a2 = v4(2), a3 = v4(3), a4 = v4(4), a5 = v4(5);
    om_dos_table_get(t, &a1, 100, true)->cc_marked_until = 5000; /* oldest, but marked */
    om_dos_table_get(t, &a2, 101, true);
    om_dos_table_get(t, &a3, 102, true);
    om_dos_table_get(t, &a2, 103, false); /* a2 used again: a3 is the LRU unmarked one */
    CHECK(om_dos_table_get(t, &a4, 104, true));
    CHECK(!om_dos_table_get(t, &a3, 104, false));
    CHECK(om_dos_table_get(t, &a1, 104, false));
    CHECK(om_dos_table_get(t, &a2, 104, false));
    om_dos_table_free(t);
    /* Only marked entries without connections left: the oldest marked one goes. */
    t = om_dos_table_new(2, 600);
    om_dos_table_get(t, &a1, 100, true)->cc_marked_until = 5000;
    om_dos_table_get(t, &a2, 101, true)->conn_marked_until = 5000;
    CHECK(om_dos_table_get(t, &a5, 102, true));
    CHECK(!om_dos_table_get(t, &a1, 102, false));
    CHECK(om_dos_table_get(t, &a2, 102, false));
    om_dos_table_free(t);
}

static void test_table_expiry(void)
{
    om_dos_table_t *t = om_dos_table_new(16, 600);
    CHECK(t);
    om_dos_addr_t a1 = v4(1), a2 = v4(2), a3 = v4(3), a4 = v4(4);
    om_dos_table_get(t, &a1, 1000, true);
    om_dos_table_get(t, &a2, 1000, true)->concurrent = 2;
    om_dos_table_get(t, &a3, 1000, true)->cc_marked_until = 2000;
    om_dos_table_get(t, &a4, 1500, true);
    CHECK_RET(om_dos_table_expire(t, 1599), 0); /* nothing idle for 600 s yet */
    CHECK_RET(om_dos_table_expire(t, 1600), 1); /* a1 only: a2 has connections, a3 a mark */
    CHECK(!om_dos_table_get(t, &a1, 1600, false));
    CHECK_RET(om_dos_table_expire(t, 2101), 2); /* a3's mark ran out, and a4 is idle now */
    CHECK(om_dos_table_get(t, &a2, 2101, false));
    om_dos_table_stats_t st;
    om_dos_table_stats(t, &st);
    CHECK_EQ_INT(st.entries, 1);
    CHECK_EQ_INT(st.expired, 3);
    om_dos_table_free(t);
}

/* ---------------------------------------------------------------- parameters */

/* A consensus with some DoS parameters: every lookup goes through here. */
static int32_t fake_params(void *arg, const char *name, int32_t def, int32_t min, int32_t max)
{
    (void)arg;
    int32_t v = def;
    if (!strcmp(name, "DoSCircuitCreationEnabled")) v = 1;
    if (!strcmp(name, "DoSCircuitCreationBurst")) v = 50;
    if (!strcmp(name, "DoSConnectionMaxConcurrentCount")) v = 0;       /* clamped to 1 */
    if (!strcmp(name, "DoSStreamCreationDefenseType")) v = 9;          /* clamped to 3 */
    if (!strcmp(name, "DoSConnectionConnectDefenseTimePeriod")) v = 2; /* clamped to 10 */
    return v < min ? min : v > max ? max : v;
}

static void test_params_defaults(void)
{
    om_dos_options_t o;
    om_dos_options_defaults(&o);
    om_dos_params_t p;
    om_dos_params_resolve(&p, &o, NULL, NULL);
    CHECK(!p.cc_enabled && !p.conn_enabled && !p.stream_enabled && !p.refuse_single_hop_rend);
    CHECK_EQ_INT(p.cc_min_connections, 3);
    CHECK_EQ_INT(p.cc_rate, 3);
    CHECK_EQ_INT(p.cc_burst, 90);
    CHECK_EQ_INT(p.cc_defense_type, OM_DOS_CC_DEFENSE_REFUSE);
    CHECK_EQ_INT(p.cc_defense_time_period, 3600);
    CHECK_EQ_INT(p.conn_max_concurrent, 100);
    CHECK_EQ_INT(p.conn_defense_type, OM_DOS_CONN_DEFENSE_CLOSE);
    CHECK_EQ_INT(p.conn_connect_rate, 20);
    CHECK_EQ_INT(p.conn_connect_burst, 40);
    CHECK_EQ_INT(p.conn_connect_defense_time_period, 24 * 3600);
    CHECK_EQ_INT(p.stream_rate, 100);
    CHECK_EQ_INT(p.stream_burst, 300);
    CHECK_EQ_INT(p.stream_defense_type, OM_DOS_STREAM_DEFENSE_REFUSE);
}

static void test_params_consensus_and_torrc(void)
{
    om_dos_options_t o;
    om_dos_options_defaults(&o);
    om_dos_params_t p;
    om_dos_params_resolve(&p, &o, fake_params, NULL); /* auto: the consensus decides */
    CHECK(p.cc_enabled);
    CHECK(!p.conn_enabled);
    CHECK_EQ_INT(p.cc_burst, 50);
    CHECK_EQ_INT(p.cc_rate, 3);
    CHECK_EQ_INT(p.conn_max_concurrent, 1);
    CHECK_EQ_INT(p.stream_defense_type, 3);
    CHECK_EQ_INT(p.conn_connect_defense_time_period, 10);
    o.cc_enabled = 0; /* torrc wins over the consensus */
    o.conn_enabled = 1;
    o.cc_burst = 7;
    o.stream_defense_type = 1;
    om_dos_params_resolve(&p, &o, fake_params, NULL);
    CHECK(!p.cc_enabled);
    CHECK(p.conn_enabled);
    CHECK_EQ_INT(p.cc_burst, 7);
    CHECK_EQ_INT(p.stream_defense_type, 1);
}

static void test_options_from_torrc(void)
{
    char err[256];
    om_config_t *cfg = om_config_new();
    CHECK(cfg);
    CHECK(om_relay_config_register(cfg, err, sizeof err) == 0);
    CHECK_MSG(om_config_parse_string(cfg,
                                     "ORPort 9001\nDoSCircuitCreationEnabled 1\n"
                                     "DoSCircuitCreationBurst 12\nDoSConnectionEnabled auto\n"
                                     "DoSConnectionConnectDefenseTimePeriod 2 hours\n"
                                     "DoSStreamCreationDefenseType 3\nHeartbeatPeriod 10 minutes\n",
                                     "t.conf", err, sizeof err) == 0,
              "%s", err);
    CHECK(om_config_parse_string(cfg, "DoSStreamCreationDefenseType 4\n", "t.conf", err,
                                 sizeof err) < 0);
    CHECK(om_config_parse_string(cfg, "DoSConnectionEnabled maybe\n", "t.conf", err, sizeof err) <
          0);
    CHECK_MSG(om_config_validate(cfg, err, sizeof err) == 0, "%s", err);
    om_relay_options_t o;
    CHECK_MSG(om_relay_options_from_config(cfg, &o, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(o.dos.cc_enabled, 1);
    CHECK_EQ_INT(o.dos.cc_burst, 12);
    CHECK_EQ_INT(o.dos.cc_rate, 0);
    CHECK_EQ_INT(o.dos.conn_enabled, -1);
    CHECK_EQ_INT(o.dos.refuse_single_hop_rend, -1);
    CHECK_EQ_INT(o.dos.conn_connect_defense_time_period, 7200);
    CHECK_EQ_INT(o.dos.stream_defense_type, 3);
    CHECK_EQ_INT(o.heartbeat_period, 1800); /* raised: not a testing network */
    om_relay_options_clear(&o);
    om_config_free(cfg);
}

/* ---------------------------------------------------------------- the policy */

static om_dos_t *policy(void (*tune)(om_dos_options_t *o))
{
    om_dos_config_t c = {.now = test_clock};
    om_dos_options_defaults(&c.opt);
    if (tune) tune(&c.opt);
    return om_dos_new(&c);
}

static om_channel_t *client_chan(const char *peer, bool relay)
{
    om_channel_t *ch = calloc(1, sizeof *ch);
    if (!ch) exit(1);
    ch->role = OM_CHAN_RESPONDER;
    ch->peer_authenticated = relay;
    snprintf(ch->peer_desc, sizeof ch->peer_desc, "%s", peer);
    return ch;
}

static void conn_small(om_dos_options_t *o)
{
    o->conn_enabled = 1;
    o->conn_max_concurrent = 3;
    o->conn_connect_burst = 100;
}

static void test_conn_concurrent_limit(void)
{
    om_dos_t *d = policy(conn_small);
    CHECK(d);
    for (int i = 0; i < 3; i++)
        CHECK_RET(om_dos_conn_accept(d, "127.0.0.2:4000"), OM_LINK_ACCEPT_TRACKED);
    CHECK_RET(om_dos_conn_accept(d, "127.0.0.2:4001"), OM_LINK_REFUSE);
    CHECK_RET(om_dos_conn_accept(d, "127.0.0.3:4000"), OM_LINK_ACCEPT_TRACKED); /* another one */
    om_dos_conn_closed(d, "127.0.0.2:4000");
    CHECK_RET(om_dos_conn_accept(d, "127.0.0.2:4002"), OM_LINK_ACCEPT_TRACKED);
    om_dos_stats_t st;
    om_dos_stats(d, &st);
    CHECK_EQ_INT(st.conn_rejected, 1);
    CHECK_EQ_INT(st.table.entries, 2);
    om_dos_free(d);
}

static void conn_none(om_dos_options_t *o)
{
    conn_small(o);
    o->conn_defense_type = OM_DOS_CONN_DEFENSE_NONE;
}

static void test_conn_defense_none_counts_only(void)
{
    om_dos_t *d = policy(conn_none);
    CHECK(d);
    for (int i = 0; i < 5; i++)
        CHECK_RET(om_dos_conn_accept(d, "127.0.0.2:4000"), OM_LINK_ACCEPT_TRACKED);
    om_dos_stats_t st;
    om_dos_stats(d, &st);
    CHECK_EQ_INT(st.conn_rejected, 2);
    om_dos_free(d);
}

static void conn_rate(om_dos_options_t *o)
{
    o->conn_enabled = 1;
    o->conn_connect_rate = 1;
    o->conn_connect_burst = 4;
    o->conn_connect_defense_time_period = 100;
}

static void test_conn_connect_rate_marks(void)
{
    om_dos_t *d = policy(conn_rate);
    CHECK(d);
    for (int i = 0; i < 4; i++) { /* the 4th empties the bucket and marks the address */
        CHECK_RET(om_dos_conn_accept(d, "127.0.0.2:1"), OM_LINK_ACCEPT_TRACKED);
        om_dos_conn_closed(d, "127.0.0.2:1");
    }
    CHECK_RET(om_dos_conn_accept(d, "127.0.0.2:1"), OM_LINK_REFUSE);
    clock_now += 100; /* marked for 100 s + 1..50 s */
    CHECK_RET(om_dos_conn_accept(d, "127.0.0.2:1"), OM_LINK_REFUSE);
    clock_now += 51;
    CHECK_RET(om_dos_conn_accept(d, "127.0.0.2:1"), OM_LINK_ACCEPT_TRACKED);
    om_dos_stats_t st;
    om_dos_stats(d, &st);
    CHECK_EQ_INT(st.conn_connect_rejected, 2);
    CHECK_EQ_INT(st.conn_marked_addrs, 1);
    om_dos_free(d);
}

static uint8_t router_ip[4] = {127, 0, 0, 5};

static void test_relay_addresses_exempt(void)
{
    om_dos_t *d = policy(conn_small);
    CHECK(d);
    om_routerstatus_t rs[2]; /* two relays on one address: one entry in the set */
    memset(rs, 0, sizeof rs);
    memcpy(rs[0].ipv4, router_ip, 4);
    memcpy(rs[1].ipv4, router_ip, 4);
    om_consensus_t c;
    memset(&c, 0, sizeof c);
    c.routers = rs;
    c.n_routers = 2;
    om_dir_authority_t auth;
    memset(&auth, 0, sizeof auth);
    snprintf(auth.ipv4, sizeof auth.ipv4, "127.0.0.9");
    om_dos_set_relays(d, &c, &auth, 1);
    for (int i = 0; i < 10; i++) {
        CHECK_RET(om_dos_conn_accept(d, "127.0.0.5:1"), OM_LINK_ACCEPT);
        CHECK_RET(om_dos_conn_accept(d, "127.0.0.9:1"), OM_LINK_ACCEPT);
    }
    om_dos_stats_t st;
    om_dos_stats(d, &st);
    CHECK_EQ_INT(st.table.entries, 0);
    CHECK_EQ_INT(st.conn_rejected, 0);
    om_dos_relays_t set = {0};
    om_dos_addr_t a = v4(1);
    CHECK(!om_dos_relays_contains(&set, &a));
    CHECK(om_dos_relays_build(&set, &c, &auth, 1) == 0);
    CHECK_EQ_INT(set.n, 2);
    om_dos_relays_clear(&set);
    om_dos_free(d);
}

static void cc_on(om_dos_options_t *o)
{
    o->cc_enabled = 1;
    o->cc_defense_time_period = 60;
}

/* n CREATE cells on ch; how many were refused. */
static int creates(om_dos_t *d, om_channel_t *ch, int n)
{
    int refused = 0;
    for (int i = 0; i < n; i++)
        refused += om_dos_cc_create(d, ch);
    return refused;
}

static void test_cc_needs_min_connections(void)
{
    om_dos_t *d = policy(cc_on);
    CHECK(d);
    om_channel_t *ch = client_chan("127.0.0.2:5000", false);
    CHECK_RET(creates(d, ch, 200), 0); /* no connection counted: no entry, nothing counted */
    om_dos_conn_accept(d, "127.0.0.2:5000");
    om_dos_conn_accept(d, "127.0.0.2:5001");
    CHECK_RET(creates(d, ch, 200), 0); /* 2 connections < 3 */
    om_dos_conn_accept(d, "127.0.0.2:5002");
    clock_now += 1000; /* the bucket refills */
    CHECK_RET(creates(d, ch, 89), 0);
    CHECK_RET(creates(d, ch, 1), 1); /* the 90th empties the burst: marked, refused */
    CHECK_RET(creates(d, ch, 10), 10);
    clock_now += 5; /* still marked even with tokens back */
    CHECK_RET(creates(d, ch, 1), 1);
    om_dos_stats_t st;
    om_dos_stats(d, &st);
    CHECK_EQ_INT(st.cc_marked_addrs, 1);
    CHECK_EQ_INT(st.cc_rejected, 12);
    clock_now += 91; /* past 60 + up to 30 s */
    CHECK_RET(creates(d, ch, 1), 0);
    om_channel_t *relay = client_chan("127.0.0.2:5003", true); /* authenticated: not a client */
    clock_now += 1;
    CHECK_RET(creates(d, relay, 500), 0);
    free(relay);
    free(ch);
    om_dos_free(d);
}

static void cc_none(om_dos_options_t *o)
{
    cc_on(o);
    o->cc_defense_type = OM_DOS_CC_DEFENSE_NONE;
    o->cc_burst = 5;
}

static void test_cc_defense_none(void)
{
    om_dos_t *d = policy(cc_none);
    CHECK(d);
    om_channel_t *ch = client_chan("127.0.0.7:5000", false);
    for (int i = 0; i < 3; i++)
        om_dos_conn_accept(d, "127.0.0.7:5000");
    CHECK_RET(creates(d, ch, 20), 0);
    om_dos_stats_t st;
    om_dos_stats(d, &st);
    CHECK_EQ_INT(st.cc_marked_addrs, 1);
    CHECK_EQ_INT(st.cc_rejected, 16); /* counted from the 5th on, never refused */
    char line[256];
    om_dos_heartbeat_line(d, line, sizeof line);
    CHECK_MSG(strstr(line, "16 circuits rejected, 1 marked addresses") &&
                  strstr(line, "[DoSConnectionEnabled disabled]") &&
                  strstr(line, "[DoSStreamCreationEnabled disabled]"),
              "%s", line);
    free(ch);
    om_dos_free(d);
}

static int stream_defense = OM_DOS_STREAM_DEFENSE_REFUSE;

static void stream_on(om_dos_options_t *o)
{
    o->stream_enabled = 1;
    o->stream_rate = 2;
    o->stream_burst = 3;
    o->stream_defense_type = stream_defense;
}

static void test_stream_rate(void)
{
    for (stream_defense = 1; stream_defense <= 3; stream_defense++) {
        om_dos_t *d = policy(stream_on);
        CHECK(d);
        om_dos_bucket_t circ_a = {0}, circ_b = {0};
        for (int i = 0; i < 3; i++)
            CHECK_RET(om_dos_stream_begin(d, &circ_a), OM_DOS_STREAM_DEFENSE_NONE);
        CHECK_RET(om_dos_stream_begin(d, &circ_a), stream_defense);
        CHECK_RET(om_dos_stream_begin(d, &circ_b), OM_DOS_STREAM_DEFENSE_NONE); /* per circuit */
        clock_now += 1;
        CHECK_RET(om_dos_stream_begin(d, &circ_a), OM_DOS_STREAM_DEFENSE_NONE);
        CHECK_RET(om_dos_stream_begin(d, &circ_a), OM_DOS_STREAM_DEFENSE_NONE);
        CHECK_RET(om_dos_stream_begin(d, &circ_a), stream_defense);
        om_dos_stats_t st;
        om_dos_stats(d, &st);
        CHECK_EQ_INT(st.stream_rejected, 2);
        om_dos_free(d);
    }
    om_dos_t *off = policy(NULL);
    om_dos_bucket_t b = {0};
    for (int i = 0; i < 1000; i++)
        CHECK_RET(om_dos_stream_begin(off, &b), OM_DOS_STREAM_DEFENSE_NONE);
    om_dos_free(off);
}

static void rend_on(om_dos_options_t *o)
{
    o->refuse_single_hop_rend = 1;
}

static void test_single_hop_rendezvous(void)
{
    om_dos_t *d = policy(rend_on), *off = policy(NULL);
    CHECK(d && off);
    om_channel_t *client = client_chan("127.0.0.2:1", false),
                 *relay = client_chan("1.2.3.4:1", true);
    CHECK(om_dos_refuse_single_hop_rend(d, client));
    CHECK(!om_dos_refuse_single_hop_rend(d, relay));
    CHECK(!om_dos_refuse_single_hop_rend(off, client));
    char line[256];
    om_dos_heartbeat_line(d, line, sizeof line);
    CHECK_MSG(strstr(line, "1 single hop clients refused"), "%s", line);
    free(client);
    free(relay);
    om_dos_free(d);
    om_dos_free(off);
}

/* ---------------------------------------------------------------- heartbeat, exit shares */

static void test_heartbeat_formats(void)
{
    char s[64];
    om_heartbeat_format_uptime(2 * 3600 + 5 * 60 + 59, s, sizeof s);
    CHECK(!strcmp(s, "2:05 hours"));
    om_heartbeat_format_uptime(86400 + 600, s, sizeof s);
    CHECK(!strcmp(s, "1 day 0:10 hours"));
    om_heartbeat_format_uptime(3 * 86400 + 3600, s, sizeof s);
    CHECK(!strcmp(s, "3 days 1:00 hours"));
    om_heartbeat_format_bytes(512 * 1024 + 100, s, sizeof s);
    CHECK(!strcmp(s, "512 kB"));
    om_heartbeat_format_bytes(3 * 1024 * 1024 / 2, s, sizeof s);
    CHECK(!strcmp(s, "1.50 MB"));
    om_heartbeat_format_bytes(2ull << 30, s, sizeof s);
    CHECK(!strcmp(s, "2.00 GB"));
}

static void hb_status(void *arg, om_heartbeat_status_t *st)
{
    st->uptime = 3600;
    snprintf(st->dos, sizeof st->dos, "nothing");
    if (arg) snprintf(st->dht, sizeof st->dht, "%s", (const char *)arg);
}

/* The heartbeat's lines as logged: the DHT's third line only when a service gives one. */
static void test_heartbeat_lines(void)
{
    char path[] = "/tmp/om-hb-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    struct event_base *b = event_base_new();
    for (int with = 0; with < 2; with++) {
        om_log_reset();
        CHECK(om_log_add_file(OM_LOG_NOTICE, OM_LOG_ERR, path) == 0);
        om_heartbeat_t *h =
            om_heartbeat_new(b, 3600, hb_status, with ? "9 nodes in the routing table" : NULL);
        CHECK(h);
        om_heartbeat_log(h);
        om_heartbeat_free(h);
        om_log_reset();
        FILE *f = fopen(path, "r");
        char text[4096] = "";
        size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
        text[n] = 0;
        if (f) fclose(f);
        CHECK(strstr(text, "Heartbeat: DoS mitigation since startup: nothing.") != NULL);
        CHECK((strstr(text, "Heartbeat: DHT: 9 nodes in the routing table.") != NULL) == with);
        CHECK(truncate(path, 0) == 0);
    }
    event_base_free(b);
    unlink(path);
}

static void test_exit_share(void)
{
    om_exit_share_t *s = om_exit_share_new(3);
    CHECK(s);
    om_channel_t *middle = client_chan("10.1.1.1:9001", true);
    om_channel_t *client = client_chan("127.0.0.2:5000", false);
    om_channel_t *client2 = client_chan("127.0.0.2:5001", false);
    om_or_circ_t c1 = {.p_chan = middle}, c2 = {.p_chan = middle};
    om_or_circ_t c3 = {.p_chan = client}, c4 = {.p_chan = client2};
    om_exit_share_entry_t *slots[8] = {0};
    for (int i = 0; i < 3; i++)
        CHECK(om_exit_share_take(s, &c1, &slots[i]));
    om_exit_share_entry_t *extra = NULL;
    CHECK(!om_exit_share_take(s, &c1, &extra));   /* c1's share is used up */
    CHECK(om_exit_share_take(s, &c2, &slots[3])); /* another circuit through the same relay */
    CHECK(om_exit_share_take(s, &c3, &slots[4]));
    CHECK(om_exit_share_take(s, &c4, &slots[5]));
    CHECK(om_exit_share_take(s, &c3, &slots[6]));
    CHECK(!om_exit_share_take(s, &c4, &extra)); /* one client address: one share */
    CHECK_EQ_INT(om_exit_share_keys(s), 3);
    om_exit_share_put(s, &slots[0]);
    CHECK(slots[0] == NULL);
    om_exit_share_put(s, &slots[0]); /* twice: nothing */
    CHECK(om_exit_share_take(s, &c1, &slots[0]));
    for (int i = 0; i < 7; i++)
        om_exit_share_put(s, &slots[i]);
    CHECK_EQ_INT(om_exit_share_keys(s), 0);
    om_exit_share_free(s);
    free(middle);
    free(client);
    free(client2);
}

static const om_test_t tests[] = {
    {"bucket_refill", test_bucket_refill},
    {"addr_parse", test_addr_parse},
    {"table_bound_and_eviction", test_table_bound_and_eviction},
    {"table_eviction_prefers_unmarked_lru", test_table_eviction_prefers_unmarked_lru},
    {"table_expiry", test_table_expiry},
    {"params_defaults", test_params_defaults},
    {"params_consensus_and_torrc", test_params_consensus_and_torrc},
    {"options_from_torrc", test_options_from_torrc},
    {"conn_concurrent_limit", test_conn_concurrent_limit},
    {"conn_defense_none_counts_only", test_conn_defense_none_counts_only},
    {"conn_connect_rate_marks", test_conn_connect_rate_marks},
    {"relay_addresses_exempt", test_relay_addresses_exempt},
    {"cc_needs_min_connections", test_cc_needs_min_connections},
    {"cc_defense_none", test_cc_defense_none},
    {"stream_rate", test_stream_rate},
    {"single_hop_rendezvous", test_single_hop_rendezvous},
    {"heartbeat_formats", test_heartbeat_formats},
    {"heartbeat_lines", test_heartbeat_lines},
    {"exit_share", test_exit_share},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    if (!getenv("OM_LOG")) om_log_set_level(OM_LOG_WARN);
    return om_test_main("dos", tests, argc, argv);
}
