/* test_bridges.c — Bridge lines (op/bridge_conf.h) in tor's syntax, well-formed and malformed;
 * the transport check (op_options.h); a bridge's descriptor taken as first hop (op/bridges.h,
 * on tor 0.4.9's own descriptor in tests/data); path selection after a fixed first hop (the
 * bridge, its family and itself never chosen again). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crypto.h"
#include "op/bridge_conf.h"
#include "op/bridges.h"
#include "op/op_options.h"
#include "op/path.h"
#include "or/bridge_line.h"
#include "snapshot_load.h"
#include "test.h"

#ifndef OM_TEST_DATA_DIR
#define OM_TEST_DATA_DIR "tests/data"
#endif

#define FP  "5802D7CAC6341FBF255AB2D618CA33B15E8C4E72"
#define FP2 "0123456789ABCDEF0123456789ABCDEF01234567"

static void test_plain_lines(void)
{
    om_bridge_conf_t b;
    char err[256];
    uint8_t want[20];
    om_test_unhex(FP, want, 20);
    CHECK_MSG(om_bridge_conf_parse("127.0.0.1:9001 " FP, &b, err, sizeof err) == 0, "%s", err);
    CHECK(!strcmp(b.transport, "") && !strcmp(b.host, "127.0.0.1") && b.port == 9001);
    CHECK_MEM(b.rsa_fp, want, 20);
    CHECK_EQ_INT(b.n_args, 0);
    /* tor joins the words after the address: spaced groups, as tor prints fingerprints. */
    CHECK_MSG(om_bridge_conf_parse("  10.1.2.3:443\t5802 D7CA C634 1FBF 255A B2D6 18CA 33B1 5E8C "
                                   "4E72  ",
                                   &b, err, sizeof err) == 0,
              "%s", err);
    CHECK(!strcmp(b.host, "10.1.2.3") && b.port == 443);
    CHECK_MEM(b.rsa_fp, want, 20);
    /* "$HEX", lower case, and tor's default port 443. */
    CHECK_MSG(om_bridge_conf_parse("127.0.0.2 $5802d7cac6341fbf255ab2d618ca33b15e8c4e72", &b, err,
                                   sizeof err) == 0,
              "%s", err);
    CHECK(b.port == 443 && !strcmp(b.host, "127.0.0.2"));
    CHECK_MEM(b.rsa_fp, want, 20);
    char d[128];
    om_bridge_conf_describe(&b, d, sizeof d);
    CHECK_MSG(!strcmp(d, "127.0.0.2:443 " FP), "%s", d);
}

static void test_transport_lines(void)
{
    om_bridge_conf_t b;
    char err[256];
    CHECK_MSG(om_bridge_conf_parse(
                  "websocket 127.0.0.1:8080 " FP " url=ws://127.0.0.1:8080/path?a=b front=", &b,
                  err, sizeof err) == 0,
              "%s", err);
    CHECK(!strcmp(b.transport, "websocket") && b.port == 8080);
    CHECK_EQ_INT(b.n_args, 2);
    CHECK(!strcmp(om_bridge_conf_arg(&b, "url"), "ws://127.0.0.1:8080/path?a=b"));
    CHECK(!strcmp(om_bridge_conf_arg(&b, "front"), ""));
    CHECK(om_bridge_conf_arg(&b, "nope") == NULL);
    char d[128];
    om_bridge_conf_describe(&b, d, sizeof d);
    CHECK_MSG(!strcmp(d, "websocket 127.0.0.1:8080 " FP), "%s", d);
    CHECK(om_bridge_conf_parse("obfs_4 127.0.0.1:1 " FP, &b, err, sizeof err) == 0);
    CHECK(!strcmp(b.transport, "obfs_4") && b.n_args == 0);
}

/* onionmesh's one extension: the bridge's ntor key on the line (plain or transport). */
#define NTOR_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
static void test_ntor_key_argument(void)
{
    om_bridge_conf_t b;
    char err[256];
    uint8_t want[32];
    for (int i = 0; i < 32; i++)
        want[i] = (uint8_t)i;
    CHECK_MSG(om_bridge_conf_parse("127.0.0.1:9001 " FP " ntor-onion-key=" NTOR_B64, &b, err,
                                   sizeof err) == 0,
              "%s", err);
    CHECK(b.has_ntor_key && b.n_args == 0); /* not a transport argument on a plain line */
    CHECK_MEM(b.ntor_key, want, 32);
    CHECK_MSG(om_bridge_conf_parse("127.0.0.1:9001 5802 D7CA C634 1FBF 255A B2D6 18CA 33B1 5E8C "
                                   "4E72 ntor-onion-key=" NTOR_B64 "=",
                                   &b, err, sizeof err) == 0,
              "%s", err);
    CHECK(b.has_ntor_key && !memcmp(b.ntor_key, want, 32));
    CHECK_MSG(om_bridge_conf_parse("websocket 127.0.0.1:80 " FP
                                   " url=ws://h/ ntor-onion-key=" NTOR_B64,
                                   &b, err, sizeof err) == 0,
              "%s", err);
    CHECK(b.has_ntor_key && b.n_args == 2 && !memcmp(b.ntor_key, want, 32));
    CHECK(om_bridge_conf_parse("127.0.0.1:9001 " FP, &b, err, sizeof err) == 0 && !b.has_ntor_key);
    static const char *const bad[] = {
        "127.0.0.1:9001 " FP " ntor-onion-key=AAEC",
        "127.0.0.1:9001 " FP " ntor-onion-key=",
        "127.0.0.1:9001 " FP " ntor-onion-key=" NTOR_B64 "AAAA",
        "127.0.0.1:9001 " FP " ntor-onion-key=" NTOR_B64 " ntor-onion-key=" NTOR_B64,
        "127.0.0.1:9001 " FP " ntor-onion-key=!!!!",
        "websocket 127.0.0.1:9001 " FP " ntor-onion-key=AAEC",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_MSG(om_bridge_conf_parse(bad[i], &b, err, sizeof err) < 0, "accepted %s", bad[i]);
        CHECK_MSG(strstr(err, "ntor-onion-key") != NULL, "%s: %s", bad[i], err);
    }
}

static void test_malformed_lines(void)
{
    static const struct {
        const char *line, *why;
    } bad[] = {
        {"", "expected"},
        {" \t ", "expected"},
        {"127.0.0.1:9001", "no fingerprint"},
        {"websocket", "no address"},
        {"websocket 127.0.0.1:80", "no fingerprint"},
        {"127.0.0.1:0 " FP, "port"},
        {"127.0.0.1:65536 " FP, "port"},
        {"127.0.0.1:99999999999999999999 " FP, "port"},
        {"127.0.0.1:abc " FP, "port"},
        {"127.0.0.1: " FP, "port"},
        {"127.0.0.1:-1 " FP, "port"},
        {"127.0.0.1:80x " FP, "port"},
        {"300.0.0.1:80 " FP, "IPv4"},
        {"bridge.example.com:80 " FP, "IPv4"},
        {"1.2.3:80 " FP, "IPv4"},
        {":80 " FP, "IPV4"},
        {"[::1]:80 " FP, "IPv4 only"},
        {"::1 " FP, "IPv4 only"},
        {"127.0.0.1:80 5802D7CA", "40 hex"},
        {"127.0.0.1:80 " FP "00", "40 hex"},
        {"127.0.0.1:80 5802D7CAC6341FBF255AB2D618CA33B15E8C4E7G", "40 hex"},
        {"127.0.0.1:80 " FP " k=v", "for a transport"},
        {"127.0.0.1:80 k=v", "for a transport"},
        {"websocket 127.0.0.1:80 url=ws://x/ " FP, "fingerprint before"},
        {"websocket 127.0.0.1:80 5802", "40 hex"},
        {"websocket 127.0.0.1:80 " FP " =v", "KEY=VALUE"},
        {"websocket 127.0.0.1:80 " FP " novalue", "KEY=VALUE"},
        {"websocket 127.0.0.1:80 " FP " k!y=v", "KEY=VALUE"},
        {"websocket 127.0.0.1:80 " FP " " FP, "KEY=VALUE"},
        {"websocket 127.0.0.1:80 " FP " a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9", "too many"},
        {"websocket 127.0.0.1:80 " FP " kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk=v", "too long"},
        {"abcdefghijklmnopqrstuvwxyzabcdefg 127.0.0.1:80 " FP, "too long"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        om_bridge_conf_t b;
        char err[256] = "";
        CHECK_MSG(om_bridge_conf_parse(bad[i].line, &b, err, sizeof err) < 0, "accepted \"%s\"",
                  bad[i].line);
        CHECK_MSG(strstr(err, bad[i].why) != NULL, "\"%s\": %s", bad[i].line, err);
        CHECK(b.transport[0] == 0 && b.port == 0); /* nothing half-filled */
    }
    /* A value just over the limit, words over the limit, a line over the limit. */
    char line[OM_BRIDGE_LINE_MAX + 64];
    om_bridge_conf_t b;
    char err[256];
    int n = snprintf(line, sizeof line, "t 127.0.0.1:80 " FP " v=");
    memset(line + n, 'x', OM_BRIDGE_VALUE_MAX + 1);
    line[n + OM_BRIDGE_VALUE_MAX + 1] = 0;
    CHECK(om_bridge_conf_parse(line, &b, err, sizeof err) < 0 && strstr(err, "too long"));
    line[n + OM_BRIDGE_VALUE_MAX] = 0; /* exactly the limit */
    CHECK_MSG(om_bridge_conf_parse(line, &b, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(strlen(om_bridge_conf_arg(&b, "v")), OM_BRIDGE_VALUE_MAX);
    n = snprintf(line, sizeof line, "127.0.0.1:80");
    for (int i = 0; i < 40; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, " A");
    CHECK(om_bridge_conf_parse(line, &b, err, sizeof err) < 0 && strstr(err, "too many words"));
    memset(line, ' ', sizeof line - 1);
    line[sizeof line - 1] = 0;
    CHECK(om_bridge_conf_parse(line, &b, err, sizeof err) < 0 && strstr(err, "too long"));
}

static const om_transport_factory_t *fake_factory_new(const om_bridge_conf_t *b, char *err,
                                                      size_t errlen)
{
    (void)b;
    (void)err;
    (void)errlen;
    return &om_linkmgr_tls_client_factory;
}

static void test_transports_checked(void)
{
    om_op_options_t o;
    om_op_options_defaults(&o);
    char err[300];
    CHECK(om_bridge_conf_parse("127.0.0.1:1 " FP, &o.bridges[0], err, sizeof err) == 0);
    CHECK(om_bridge_conf_parse("websocket 127.0.0.1:2 " FP " url=ws://x/", &o.bridges[1], err,
                               sizeof err) == 0);
    o.n_bridges = 2;
    /* No transport table: plain TLS only; the websocket line is refused, with its name. */
    CHECK(om_op_options_set_transports(&o, NULL, 0, err, sizeof err) < 0);
    CHECK_MSG(strstr(err, "no transport called \"websocket\"") != NULL, "%s", err);
    static const om_bridge_transport_t ws[] = {
        {.name = "websocket", .factory_new = fake_factory_new},
    };
    CHECK_MSG(om_op_options_set_transports(&o, ws, 1, err, sizeof err) == 0, "%s", err);
    CHECK(o.transports == ws && o.n_transports == 1);
}

static char *load_descriptor(size_t *len)
{
    const char *dir = getenv("OM_TEST_DATA_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tor-0.4.9-server-descriptor.txt",
             dir && *dir ? dir : OM_TEST_DATA_DIR);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(65536);
    size_t n = buf ? fread(buf, 1, 65535, f) : 0;
    fclose(f);
    if (buf) buf[n] = 0;
    *len = n;
    return buf;
}

static void test_descriptor_taken(void)
{
    size_t len;
    char *desc = load_descriptor(&len);
    CHECK_MSG(desc && len, "tests/data/tor-0.4.9-server-descriptor.txt not found");
    om_bridge_conf_t c;
    char err[256];
    CHECK(om_bridge_conf_parse("127.0.0.5:7000 " FP, &c, err, sizeof err) == 0);
    om_routerstatus_t rs;
    om_microdesc_t md;
    int rc = om_bridges_take_descriptor(&c, desc, len, &rs, &md, err, sizeof err);
    uint8_t zero[32] = {0};
    bool ok = rc == 0 && rs.md == &md && md.has_ntor && memcmp(md.ntor_key, zero, 32) != 0 &&
              md.has_ed && !strcmp(rs.nickname, "chantestrelay") && rs.or_port == 7000 &&
              rs.ipv4[0] == 127 && rs.ipv4[3] == 5 && (rs.flags & OM_RS_RUNNING) &&
              om_node_usable(&rs) && !om_node_supports_ntor_v3(&rs);
    /* Another identity than the line pins; a truncated descriptor. */
    CHECK(om_bridge_conf_parse("127.0.0.5:7000 " FP2, &c, err, sizeof err) == 0);
    int rc_other = om_bridges_take_descriptor(&c, desc, len, &rs, &md, err, sizeof err);
    bool other_msg = strstr(err, "another relay") != NULL;
    int rc_cut = om_bridges_take_descriptor(&c, desc, len / 2, &rs, &md, err, sizeof err);
    /* Its declared family goes into its microdescriptor (path selection reads it there). */
    CHECK(om_bridge_conf_parse("127.0.0.5:7000 " FP, &c, err, sizeof err) == 0);
    char *fam = malloc(len + 64);
    const char *at = fam ? strstr(desc, "\nplatform ") : NULL;
    int rc_fam = -1;
    uint8_t member[20];
    om_test_unhex(FP2, member, 20);
    if (at) {
        size_t pre = (size_t)(at - desc) + 1;
        memcpy(fam, desc, pre);
        int k = snprintf(fam + pre, 64, "family $%s\n", FP2);
        memcpy(fam + pre + (size_t)k, desc + pre, len - pre);
        rc_fam = om_bridges_take_descriptor(&c, fam, len + (size_t)k, &rs, &md, err, sizeof err);
    }
    free(fam);
    free(desc);
    CHECK_MSG(rc_fam == 0, "%s", err);
    CHECK(om_microdesc_family_lists(&md, member) && !md.family_truncated);
    CHECK_MSG(ok, "descriptor not taken as expected (rc %d: %s)", rc, err);
    CHECK(rc_other < 0 && other_msg);
    CHECK(rc_cut < 0);
}

/* The snapshot's relay0 and relay1 declare each other as family: with relay0 as the fixed
 * first hop, neither it nor relay1 is ever middle or exit. */
static void test_path_after_bridge(void)
{
    om_nodelist_t nl;
    memset(&nl, 0, sizeof nl);
    snap_load(&nl, 1);
    om_guards_t g;
    om_guards_init(&g, NULL, 0);
    om_path_opts_t o;
    memset(&o, 0, sizeof o);
    const om_routerstatus_t *bridge = NULL;
    for (size_t i = 0; nl.consensus && i < nl.consensus->n_routers; i++)
        if (!strcmp(nl.consensus->routers[i].nickname, "relay0"))
            bridge = &nl.consensus->routers[i];
    bool ok = bridge != NULL;
    char err[200] = "";
    for (int k = 0; ok && k < 300; k++) {
        om_path_request_t req = {.port = 443, .first = bridge};
        const om_routerstatus_t *p[3];
        ok = om_path_select(&nl, &g, &o, &req, p, err, sizeof err) == 0 && p[0] == bridge;
        for (int h = 1; ok && h < 3; h++)
            ok = strcmp(p[h]->nickname, "relay0") != 0 && strcmp(p[h]->nickname, "relay1") != 0;
    }
    size_t sampled = g.n_sampled;
    om_nodelist_clear(&nl);
    CHECK_MSG(ok, "a path reused the bridge or its family (%s)", err);
    CHECK_EQ_INT(sampled, 0); /* no guard was sampled: the bridge is the entry */
}

/* A bridge relay's own line (BridgeRelay 1): the format tor's users paste, and the file. */
static void test_relay_bridge_line(void)
{
    uint8_t fp[20];
    om_test_unhex(FP, fp, 20);
    char line[128];
    om_bridge_line_format("127.0.0.1", 9001, fp, line, sizeof line);
    CHECK_MSG(!strcmp(line, "Bridge 127.0.0.1:9001 " FP), "%s", line);
    /* What we write, our own client parses back to the same bridge. */
    om_bridge_conf_t b;
    char err[200];
    CHECK(om_bridge_conf_parse(line + 7, &b, err, sizeof err) == 0);
    CHECK(b.port == 9001 && !memcmp(b.rsa_fp, fp, 20));
    char dir[] = "/tmp/om-test-bridge-line-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    int rc = om_bridge_line_publish(dir, "127.0.0.1", 9001, fp);
    char path[128], got[128] = "";
    snprintf(path, sizeof path, "%s/bridge-line", dir);
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(got, sizeof got, f)) got[0] = 0;
        fclose(f);
    }
    unlink(path);
    rmdir(dir);
    CHECK(rc == 0);
    CHECK_MSG(!strcmp(got, "Bridge 127.0.0.1:9001 " FP "\n"), "%s", got);
}

static const om_test_t tests[] = {
    OM_TEST(test_plain_lines),
    OM_TEST(test_transport_lines),
    OM_TEST(test_malformed_lines),
    OM_TEST(test_ntor_key_argument),
    OM_TEST(test_transports_checked),
    OM_TEST(test_descriptor_taken),
    OM_TEST(test_path_after_bridge),
    OM_TEST(test_relay_bridge_line),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("bridges", tests, argc, argv);
}
