/* test_embed.c — the public embedding API (include/onionmesh/onionmesh.h): an OP started from
 * configuration text on our own event loop opens its SOCKS port ("auto"), answers a SOCKS5
 * greeting, reports bootstrap progress, refuses bad configuration with the reason, and stops. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

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
    event_base_free(base);
}

static const om_test_t tests[] = {
    OM_TEST(test_start_socks_auto_and_stop),
    OM_TEST(test_bad_config_refused_with_reason),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("embed", tests, argc, argv);
}
