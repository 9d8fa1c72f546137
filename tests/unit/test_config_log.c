/* test_config_log.c — the logging options as they act: one sink per Log line with its severity
 * range, SafeLogging's "[scrubbed]" (om_safe_str / om_safe_str_client, and the SOCKS server's
 * real log line about a bad client), ProtocolWarnings' severity (om_log_protocol), and
 * RunAsDaemon skipping stdout/stderr sinks. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/config.h"
#include "core/log.h"
#include "op/socks_server.h"
#include "test.h"

static char dir[64];

static const char *path_in(const char *name)
{
    static char buf[8][256];
    static int k;
    k = (k + 1) % 8;
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/om-test-cfglog-XXXXXX");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            exit(1);
        }
    }
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 65536);
    if (f && buf) {
        size_t n = fread(buf, 1, 65535, f);
        buf[n] = '\0';
    }
    if (f) fclose(f);
    return buf;
}

/* Back to the defaults every test starts from. */
static void log_defaults(void)
{
    om_log_reset();
    om_log_set_safe_logging(OM_SAFELOG_ALL);
    om_log_set_protocol_warnings(false);
}

/* A configuration from text, validated, its logging applied. */
static int apply(const char *text)
{
    om_config_t *cfg = om_config_new();
    char err[512];
    int rc = om_config_parse_string(cfg, text, "test", err, sizeof err);
    if (rc == 0) rc = om_config_apply_logging(cfg);
    if (rc < 0) fprintf(stderr, "# %s\n", err);
    om_config_free(cfg);
    return rc;
}

static void test_safe_str(void)
{
    log_defaults();
    /* Default, as tor: SafeLogging 1 scrubs both kinds. */
    CHECK(!strcmp(om_safe_str("10.1.2.3"), OM_SCRUBBED));
    CHECK(!strcmp(om_safe_str_client("example.com"), OM_SCRUBBED));
    om_log_set_safe_logging(OM_SAFELOG_RELAY);
    CHECK(!strcmp(om_safe_str("10.1.2.3"), OM_SCRUBBED));
    CHECK(!strcmp(om_safe_str_client("example.com"), "example.com"));
    om_log_set_safe_logging(OM_SAFELOG_NONE);
    CHECK(!strcmp(om_safe_str("10.1.2.3"), "10.1.2.3"));
    CHECK(!strcmp(om_safe_str_client("example.com"), "example.com"));
    /* From the configuration. */
    CHECK(apply("SafeLogging relay\n") == 0);
    CHECK_EQ_INT(om_log_get_safe_logging(), OM_SAFELOG_RELAY);
    CHECK(apply("SafeLogging 0\n") == 0);
    CHECK_EQ_INT(om_log_get_safe_logging(), OM_SAFELOG_NONE);
    CHECK(apply("") == 0);
    CHECK_EQ_INT(om_log_get_safe_logging(), OM_SAFELOG_ALL);
    log_defaults();
}

static void run_loop(struct event_base *base, int ms)
{
    struct timeval tv = {0, ms * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

/* A SOCKS client that sends a bad greeting to a real SOCKS server; returns its log. */
static char *bad_socks_client_log(const char *conf, uint16_t *client_port)
{
    const char *logf = path_in("socks.log");
    unlink(logf);
    char text[600];
    snprintf(text, sizeof text, "Log info file %s\n%s", logf, conf);
    if (apply(text) < 0) return NULL;
    struct event_base *base = event_base_new();
    om_socks_server_callbacks_t cb = {0};
    om_socks_server_t *srv = om_socks_server_new(base, "127.0.0.1", 0, &cb);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_port = htons(srv ? om_socks_server_port(srv) : 1),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sin;
    if (srv && connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
        getsockname(fd, (struct sockaddr *)&sin, &sl) == 0 && write(fd, "\x09\x01\x00", 3) == 3)
        run_loop(base, 100);
    *client_port = ntohs(sin.sin_port);
    close(fd);
    run_loop(base, 20);
    if (srv) om_socks_server_free(srv);
    event_base_free(base);
    log_defaults();
    return slurp(logf);
}

static void test_socks_server_scrubs_its_client(void)
{
    uint16_t port;
    char peer[32];
    /* SafeLogging 1 and ProtocolWarnings 1: "[scrubbed]" at warn. */
    char *l = bad_socks_client_log("SafeLogging 1\nProtocolWarnings 1\n", &port);
    CHECK(l);
    snprintf(peer, sizeof peer, "127.0.0.1:%u", port);
    bool scrubbed = strstr(l, "[warn] socks [scrubbed]: refused: ") && !strstr(l, peer);
    free(l);
    CHECK(scrubbed);
    /* SafeLogging relay keeps our own client's address; ProtocolWarnings 0: info. */
    l = bad_socks_client_log("SafeLogging relay\n", &port);
    CHECK(l);
    char want[80];
    snprintf(want, sizeof want, "[info] socks 127.0.0.1:%u: refused: ", port);
    bool plain = strstr(l, want) && !strstr(l, "[scrubbed]");
    free(l);
    CHECK(plain);
}

static void test_protocol_warnings(void)
{
    log_defaults();
    const char *logf = path_in("proto.log");
    unlink(logf);
    char text[300];
    snprintf(text, sizeof text, "Log notice file %s\n", logf);
    CHECK(apply(text) == 0);
    CHECK(!om_log_get_protocol_warnings());
    om_log_protocol("peer sent a malformed cell (%d)", 1); /* info: below the sink */
    snprintf(text, sizeof text, "Log notice file %s\nProtocolWarnings 1\n", logf);
    CHECK(apply(text) == 0);
    CHECK(om_log_get_protocol_warnings());
    om_log_protocol("peer sent a malformed cell (%d)", 2);
    log_defaults();
    char *l = slurp(logf);
    CHECK(l);
    bool ok =
        !strstr(l, "malformed cell (1)") && strstr(l, "[warn] peer sent a malformed cell (2)");
    free(l);
    CHECK(ok);
}

static void test_log_lines_are_sinks(void)
{
    log_defaults();
    const char *a = path_in("a.log"), *b = path_in("b.log");
    unlink(a);
    unlink(b);
    char text[600];
    snprintf(text, sizeof text, "Log notice-warn file %s\nLog debug-info file %s\n", a, b);
    CHECK(apply(text) == 0);
    CHECK_EQ_INT(om_log_n_sinks(), 2);
    CHECK_EQ_INT(om_log_get_level(), OM_LOG_DEBUG);
    om_debug("sink-test debug");
    om_notice("sink-test notice");
    om_err("sink-test err");
    log_defaults();
    char *la = slurp(a), *lb = slurp(b);
    bool ok = la && lb && strstr(la, "[notice] sink-test notice") &&
              !strstr(la, "sink-test debug") && !strstr(la, "sink-test err") &&
              strstr(lb, "[debug] sink-test debug") && !strstr(lb, "sink-test notice") &&
              !strstr(lb, "sink-test err");
    free(la);
    free(lb);
    CHECK(ok);
}

static void test_daemon_skips_std_streams(void)
{
    log_defaults();
    const char *f = path_in("d.log");
    char text[600];
    snprintf(text, sizeof text,
             "RunAsDaemon 1\nLog notice stderr\nLog info stdout\nLog info file %s\n", f);
    CHECK(apply(text) == 0);
    CHECK_EQ_INT(om_log_n_sinks(), 1); /* only the file */
    CHECK(apply("RunAsDaemon 1\n") == 0);
    CHECK_EQ_INT(om_log_n_sinks(), 0); /* nothing logged, as tor */
    CHECK(apply("Log notice stderr\n") == 0);
    CHECK_EQ_INT(om_log_n_sinks(), 1);
    log_defaults();
}

static void cleanup(void)
{
    if (!dir[0]) return;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

static const om_test_t tests[] = {
    OM_TEST(test_safe_str),
    OM_TEST(test_socks_server_scrubs_its_client),
    OM_TEST(test_protocol_warnings),
    OM_TEST(test_log_lines_are_sinks),
    OM_TEST(test_daemon_skips_std_streams),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    atexit(cleanup);
    return om_test_main("config_log", tests, argc, argv);
}
