/* test_ws_msg.c — unit tests for the WebSocket bridge's parsers of network input: cells inside
 * messages (src/bridge/ws_msg.c: whole cells only, VERSIONS first with a narrow circuit ID,
 * the size cap), X-Forwarded-For and the Origin allow-list (ws_http.c), bridge URLs, and the
 * WebSocket options (ws_options.c: what they accept and refuse, the server options they give). */
#include "test.h"
#include "bridge/ws_http.h"
#include "bridge/ws_msg.h"
#include "bridge/ws_options.h"
#include "bridge/ws_relay.h"
#include "bridge/ws_transport.h"
#include "or/relay_options.h"

static const uint8_t versions[] = {0, 0, 7, 0, 4, 0, 4, 0, 5};

/* A fixed cell at link protocol 4+: 4-byte circuit ID, command, 509 bytes. */
static size_t fixed_cell(uint8_t *out, uint32_t circ, uint8_t cmd)
{
    memset(out, 0, 514);
    out[0] = (uint8_t)(circ >> 24);
    out[1] = (uint8_t)(circ >> 16);
    out[2] = (uint8_t)(circ >> 8);
    out[3] = (uint8_t)circ;
    out[4] = cmd;
    return 514;
}

static size_t var_cell(uint8_t *out, uint8_t cmd, uint16_t len)
{
    memset(out, 0, 7 + (size_t)len);
    out[4] = cmd;
    out[5] = (uint8_t)(len >> 8);
    out[6] = (uint8_t)len;
    return 7 + (size_t)len;
}

static void test_versions_then_cells(void)
{
    om_ws_scan_t st = {0};
    char err[128];
    static uint8_t buf[OM_WS_MSG_MAX + 16];
    CHECK(om_ws_msg_check(&st, versions, sizeof versions, err, sizeof err) == 0);
    CHECK(st.versions_done);
    size_t n = fixed_cell(buf, 0x80000001u, 2 /* CREATE2 */);
    n += var_cell(buf + n, 129 /* CERTS */, 300);
    n += fixed_cell(buf + n, 5, 3);
    CHECK(om_ws_msg_check(&st, buf, n, err, sizeof err) == 0);
}

static void test_first_must_be_versions(void)
{
    om_ws_scan_t st = {0};
    char err[128];
    uint8_t buf[600];
    size_t n = fixed_cell(buf, 1, 2);
    CHECK(om_ws_msg_check(&st, buf, n, err, sizeof err) == -1);
    CHECK(strstr(err, "VERSIONS") != NULL);
    CHECK(!st.versions_done);
    /* VERSIONS with a 4-byte circuit ID is not the narrow form. */
    uint8_t wide[] = {0, 0, 0, 0, 7, 0, 2, 0, 4};
    CHECK(om_ws_msg_check(&st, wide, sizeof wide, err, sizeof err) == -1);
}

static void test_empty_partial_oversized(void)
{
    om_ws_scan_t st = {0};
    char err[128];
    static uint8_t buf[OM_WS_MSG_MAX + 600];
    CHECK(om_ws_msg_check(&st, buf, 0, err, sizeof err) == -1);
    CHECK(strstr(err, "empty") != NULL);
    /* VERSIONS cut short. */
    CHECK(om_ws_msg_check(&st, versions, 8, err, sizeof err) == -1);
    CHECK(strstr(err, "partial") != NULL);
    CHECK(om_ws_msg_check(&st, versions, 2, err, sizeof err) == -1);
    CHECK(om_ws_msg_check(&st, versions, sizeof versions, err, sizeof err) == 0);
    /* A whole cell and a piece of the next. */
    size_t n = fixed_cell(buf, 7, 3);
    CHECK(om_ws_msg_check(&st, buf, n + 100, err, sizeof err) == -1);
    CHECK(strstr(err, "partial") != NULL);
    CHECK(om_ws_msg_check(&st, buf, n - 1, err, sizeof err) == -1);
    /* A variable cell claiming 65535 bytes in a small message. */
    n = var_cell(buf, 130, 10);
    buf[5] = 0xff;
    buf[6] = 0xff;
    CHECK(om_ws_msg_check(&st, buf, n, err, sizeof err) == -1);
    /* Over the cap, even if made of whole cells. */
    size_t m = 0;
    while (m + 514 <= OM_WS_MSG_MAX + 514)
        m += fixed_cell(buf + m, 9, 3);
    CHECK(m > OM_WS_MSG_MAX);
    CHECK(om_ws_msg_check(&st, buf, m, err, sizeof err) == -1);
    CHECK(strstr(err, "cap") != NULL);
    /* A failed message leaves the state as it was. */
    CHECK(st.versions_done);
}

static void test_prefix(void)
{
    om_ws_scan_t st = {0};
    static uint8_t buf[3 * OM_WS_MSG_MAX];
    size_t n = 0;
    memcpy(buf, versions, sizeof versions);
    n += sizeof versions;
    for (int i = 0; i < 40; i++)
        n += fixed_cell(buf + n, 1, 3);
    long p = om_ws_msg_prefix(&st, buf, n, OM_WS_MSG_MAX);
    CHECK(p > 0 && p <= OM_WS_MSG_MAX);
    CHECK_EQ_INT((p - (long)sizeof versions) % 514, 0);
    CHECK(st.versions_done);
    /* Incomplete first cell: nothing yet. */
    CHECK_EQ_INT(om_ws_msg_prefix(&st, buf + sizeof versions, 300, OM_WS_MSG_MAX), 0);
    /* A variable cell larger than a message can never go. */
    size_t v = var_cell(buf, 130, 20000);
    CHECK_EQ_INT(om_ws_msg_prefix(&st, buf, v, OM_WS_MSG_MAX), -1);
    CHECK_EQ_INT(om_ws_msg_prefix(&st, buf, 7, OM_WS_MSG_MAX), -1);
}

static void test_xff(void)
{
    char out[64];
    const char *h = "10.0.0.1, 192.0.2.7";
    CHECK(om_ws_xff_client(h, strlen(h), out, sizeof out) == 0);
    CHECK(!strcmp(out, "192.0.2.7:0"));
    h = "spoofed, [2001:db8::1]:443";
    CHECK(om_ws_xff_client(h, strlen(h), out, sizeof out) == 0);
    CHECK(!strcmp(out, "[2001:db8::1]:0"));
    h = "2001:DB8::2";
    CHECK(om_ws_xff_client(h, strlen(h), out, sizeof out) == 0);
    CHECK(!strcmp(out, "[2001:db8::2]:0"));
    h = "127.0.0.2:5555 ";
    CHECK(om_ws_xff_client(h, strlen(h), out, sizeof out) == 0);
    CHECK(!strcmp(out, "127.0.0.2:0"));
    const char *bad[] = {"",          " ",    "1.2.3.4,",  "unknown",
                         "1.2.3.4.5", "[::1", "999.1.1.1", "1.2.3.4, evil.example"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(om_ws_xff_client(bad[i], strlen(bad[i]), out, sizeof out) == -1, "'%s'", bad[i]);
    char big[200];
    memset(big, '1', sizeof big);
    CHECK(om_ws_xff_client(big, sizeof big, out, sizeof out) == -1);
}

static void test_origin(void)
{
    const char *list = "https://a.example, https://B.example:8443";
    CHECK(om_ws_origin_allowed(list, "https://a.example", 17));
    CHECK(om_ws_origin_allowed(list, "https://b.example:8443", 22));
    CHECK(!om_ws_origin_allowed(list, "https://a.example.evil", 22));
    CHECK(!om_ws_origin_allowed(list, "https://a.exampl", 16));
    CHECK(!om_ws_origin_allowed(list, "null", 4));
    CHECK(!om_ws_origin_allowed(list, "", 0));
    CHECK(om_ws_origin_allowed("", "https://x", 9));
    CHECK(om_ws_origin_allowed(NULL, "https://x", 9));
    CHECK(!om_ws_origin_allowed(",,", "", 0));
}

static void test_url(void)
{
    bool tls;
    char host[64], path[64];
    uint16_t port;
    CHECK(om_ws_url_parse("ws://127.0.0.1:8080/secret", &tls, host, sizeof host, &port, path,
                          sizeof path) == 0);
    CHECK(!tls && !strcmp(host, "127.0.0.1") && port == 8080 && !strcmp(path, "/secret"));
    CHECK(om_ws_url_parse("wss://[::1]/", &tls, host, sizeof host, &port, path, sizeof path) == 0);
    CHECK(tls && !strcmp(host, "::1") && port == 443 && !strcmp(path, "/"));
    CHECK(om_ws_url_parse("ws://h.example", &tls, host, sizeof host, &port, path, sizeof path) ==
          0);
    CHECK(port == 80 && !strcmp(path, "/"));
    const char *bad[] = {"http://x/",     "ws://",       "ws://:80/",  "ws://x:0/",
                         "ws://x:65536/", "ws://x:80a/", "ws://[::1/", "ws://[::1]x/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(om_ws_url_parse(bad[i], &tls, host, sizeof host, &port, path, sizeof path) == -1,
                  "'%s'", bad[i]);
}

/* A configuration with the relay's and the bridge's tables from text; 0 or -1 (err). */
static int conf(const char *text, om_config_t **out, char *err, size_t errlen)
{
    om_config_t *cfg = om_config_new();
    *out = cfg;
    if (!cfg || om_relay_config_register(cfg, err, errlen) < 0 ||
        om_ws_config_register(cfg, err, errlen) < 0)
        return -1;
    if (om_config_parse_string(cfg, text, "t.conf", err, errlen) < 0) return -1;
    return om_config_validate(cfg, err, errlen);
}

static void test_options(void)
{
    char err[300];
    om_config_t *cfg;
    CHECK(conf("WebSocketPort 9002\n", &cfg, err, sizeof err) < 0);
    CHECK_MSG(strstr(err, "needs an ORPort"), "%s", err);
    om_config_free(cfg);
    CHECK(conf("ORPort 9001\nWebSocketPort 9002\nWebSocketTLSCert /etc/hostname\n", &cfg, err,
               sizeof err) < 0);
    CHECK_MSG(strstr(err, "go together"), "%s", err);
    om_config_free(cfg);
    CHECK(conf("ORPort 9001\nWebSocketPort 9002\nWebSocketTLSCert /nonexistent\n"
               "WebSocketTLSKey /nonexistent\n",
               &cfg, err, sizeof err) < 0);
    CHECK_MSG(strstr(err, "cannot read"), "%s", err);
    om_config_free(cfg);
    CHECK(conf("ORPort 9001\nWebSocketPort 9002\nWebSocketPath secret\n", &cfg, err, sizeof err) <
          0);
    om_config_free(cfg);
    CHECK(conf("ORPort 9001\nWebSocketPort 9002 NoAdvertise\n", &cfg, err, sizeof err) < 0);
    om_config_free(cfg);
    CHECK(conf("ORPort 9001\nWebSocketPort 9002\nWebSocketWebRoot /etc/hostname\n", &cfg, err,
               sizeof err) < 0);
    CHECK_MSG(strstr(err, "WebSocketWebRoot") && strstr(err, "not a readable directory"), "%s",
              err);
    om_config_free(cfg);
    CHECK(conf("ORPort 9001\n", &cfg, err, sizeof err) == 0);
    CHECK(!om_ws_configured(cfg));
    om_config_free(cfg);
    CHECK_MSG(conf("ORPort 9001\nWebSocketPort 127.0.0.1:9002\nWebSocketPort [::1]:auto\n"
                   "WebSocketPath /s3cret\nWebSocketTrustForwardedFor 1\n"
                   "WebSocketOrigins https://a.example\nWebSocketPingInterval 30 seconds\n"
                   "WebSocketWebRoot /tmp\n",
                   &cfg, err, sizeof err) == 0,
              "%s", err);
    CHECK(om_ws_configured(cfg));
    om_ws_server_opts_t o;
    CHECK(om_ws_options_from_config(cfg, &o, err, sizeof err) == 0);
    CHECK_EQ_INT(o.n_ports, 2);
    CHECK(!strcmp(o.ports[0].addr, "127.0.0.1") && o.ports[0].port == 9002);
    CHECK(!strcmp(o.ports[1].addr, "::1") && o.ports[1].port == 0);
    CHECK(!strcmp(o.path, "/s3cret") && o.trust_xff && !strcmp(o.origins, "https://a.example"));
    CHECK(!o.tls_cert && !o.tls_key);
    CHECK_EQ_INT(o.ping_s, 30);
    CHECK_EQ_INT(o.idle_s, 150);
    CHECK(o.web_root && !strcmp(o.web_root, "/tmp"));
    om_config_free(cfg);
}

/* onionmesh.json: the line and the v3 authorities (not a bridge authority), hex identities. */
static void test_client_json(void)
{
    om_dir_authority_t a[2];
    memset(a, 0, sizeof a);
    snprintf(a[0].nickname, sizeof a[0].nickname, "auth0");
    a[0].has_v3ident = true;
    for (int i = 0; i < 20; i++)
        a[0].v3ident[i] = (uint8_t)(0xA0 + i);
    snprintf(a[1].nickname, sizeof a[1].nickname, "bridgeauth");
    a[1].is_bridge = true;
    char *j = om_ws_relay_client_json("Bridge websocket 1.2.3.4:80 \"FP\"", a, 2, true);
    CHECK(j);
    CHECK_MSG(j && !strcmp(j, "{\"bridgeLine\":\"Bridge websocket 1.2.3.4:80 \\\"FP\\\"\","
                              "\"authorities\":[{\"nickname\":\"auth0\",\"v3ident\":"
                              "\"A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3\"}],"
                              "\"testingNetwork\":true}"),
              "%s", j ? j : "(null)");
    free(j);
}

static const om_test_t tests[] = {
    {"versions_then_cells", test_versions_then_cells},
    {"first_must_be_versions", test_first_must_be_versions},
    {"empty_partial_oversized", test_empty_partial_oversized},
    {"prefix", test_prefix},
    {"xff", test_xff},
    {"origin", test_origin},
    {"url", test_url},
    {"options", test_options},
    {"client_json", test_client_json},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("ws_msg", tests, argc, argv);
}
