/* test_embed.c — the public embedding API (include/onionmesh/onionmesh.h): an OP started from
 * configuration text on our own event loop opens its SOCKS port ("auto"), answers a SOCKS5
 * greeting, reports bootstrap progress, refuses bad configuration with the reason (relay
 * options and RunAsDaemon included), applies Log and SafeLogging (the destination a SOCKS
 * client asks for is "[scrubbed]" in the log unless SafeLogging says otherwise), and stops. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/log.h"
#include "onionmesh/onionmesh.h"
#include "test.h"

static void run_loop(struct event_base *base, int ms)
{
    struct timeval tv = {0, ms * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

static void test_start_socks_auto_and_stop(void)
{
    char dir[] = "/tmp/om-embed-XXXXXX";
    CHECK(mkdtemp(dir));
    /* An authority nobody listens on (loopback): bootstrap cannot finish, the proxy still runs. */
    char conf[1024];
    snprintf(conf, sizeof conf,
             "SocksPort 127.0.0.1:auto\nDataDirectory %s/data\nTestingTorNetwork 1\n"
             "DirAuthority a orport=1 no-v2 v3ident=%s 127.0.0.1:1 %s\n",
             dir, "0000000000000000000000000000000000000001",
             "0000000000000000000000000000000000000002");
    struct event_base *base = event_base_new();
    char err[256] = "";
    onionmesh_t *om = onionmesh_start(base, conf, err, sizeof err);
    CHECK_MSG(om, "start failed: %s", err);
    uint16_t port = onionmesh_socks_port(om);
    CHECK(port != 0);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0);
    CHECK(write(fd, "\x05\x01\x00", 3) == 3);
    run_loop(base, 100);
    uint8_t reply[2] = {0};
    CHECK(read(fd, reply, 2) == 2);
    CHECK(reply[0] == 5 && reply[1] == 0);
    close(fd);
    run_loop(base, 100);
    int pct = onionmesh_bootstrap_percent(om);
    CHECK(pct >= 0 && pct < 100);
    onionmesh_stop(om);
    run_loop(base, 50);
    event_base_free(base);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    CHECK(!strcmp(onionmesh_version(), OM_VERSION));
}

static void test_bad_config_refused_with_reason(void)
{
    struct event_base *base = event_base_new();
    char err[256] = "";
    onionmesh_t *om = onionmesh_start(base, "SocksPrt 9050\n", err, sizeof err);
    CHECK(!om);
    CHECK_MSG(strstr(err, "SocksPrt") != NULL, "err: %s", err);
    om = onionmesh_start(base, "SocksPort 99999\n", err, sizeof err);
    CHECK(!om);
    CHECK_MSG(strstr(err, "99999") != NULL, "err: %s", err);
    /* Only the general and the client's options: no relay here, no daemon. */
    om = onionmesh_start(base, "ORPort 9001\n", err, sizeof err);
    CHECK(!om);
    CHECK_MSG(!strcmp(err, "config:1: unknown option \"ORPort\""), "err: %s", err);
    om = onionmesh_start(base, "RunAsDaemon 1\n", err, sizeof err);
    CHECK(!om);
    CHECK_MSG(strstr(err, "RunAsDaemon: an embedded onion proxy runs in its host's process"),
              "err: %s", err);
    event_base_free(base);
}

/* A SOCKS5 CONNECT to secret.example:80 through an embedded OP logging at debug to logf with
 * this SafeLogging value; returns the log. */
static char *connect_log(const char *dir, const char *safelogging)
{
    char logf[128], conf[1024];
    snprintf(logf, sizeof logf, "%s/om-%s.log", dir, safelogging);
    snprintf(conf, sizeof conf,
             "SocksPort 127.0.0.1:auto\nDataDirectory %s/data\nTestingTorNetwork 1\n"
             "DirAuthority a orport=1 no-v2 v3ident=%s 127.0.0.1:1 %s\n"
             "Log debug file %s\nSafeLogging %s\n",
             dir, "0000000000000000000000000000000000000001",
             "0000000000000000000000000000000000000002", logf, safelogging);
    struct event_base *base = event_base_new();
    char err[256] = "";
    onionmesh_t *om = onionmesh_start(base, conf, err, sizeof err);
    if (om) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sin = {.sin_family = AF_INET,
                                  .sin_port = htons(onionmesh_socks_port(om)),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        static const char req[] = "\x05\x01\x00\x05\x01\x00\x03\x0esecret.example\x00\x50";
        if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
            write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1))
            run_loop(base, 100);
        close(fd);
        run_loop(base, 20);
        onionmesh_stop(om);
        run_loop(base, 20);
    }
    event_base_free(base);
    om_log_reset(); /* the Log line was the process's */
    om_log_set_safe_logging(OM_SAFELOG_ALL);
    FILE *f = fopen(logf, "r");
    if (!f) return NULL;
    char *buf = calloc(1, 65536);
    if (buf && fread(buf, 1, 65535, f) == 0) buf[0] = '\0';
    fclose(f);
    return buf;
}

static void test_safe_logging_scrubs_destinations(void)
{
    char dir[] = "/tmp/om-embed-XXXXXX";
    CHECK(mkdtemp(dir));
    char *scrubbed = connect_log(dir, "1"), *relay = connect_log(dir, "relay");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    bool ok1 = scrubbed && strstr(scrubbed, "request from [scrubbed]: CONNECT [scrubbed]:80") &&
               !strstr(scrubbed, "secret.example");
    /* "relay" scrubs only what a relay sees; our own client's destination is kept. */
    bool ok2 = relay && strstr(relay, ": CONNECT secret.example:80") &&
               strstr(relay, "request from 127.0.0.1:");
    free(scrubbed);
    free(relay);
    CHECK(ok1);
    CHECK(ok2);
}

static const om_test_t tests[] = {
    OM_TEST(test_start_socks_auto_and_stop),
    OM_TEST(test_bad_config_refused_with_reason),
    OM_TEST(test_safe_logging_scrubs_destinations),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("embed", tests, argc, argv);
}
