/* test_socks.c — unit tests for socks.c (parser and reply encoders: every request form byte-exact,
 * malformed and truncated input, input fed byte by byte, pipelined data after the request) and
 * socks_server.c in process with real TCP clients on 127.0.0.1 (good and bad clients side by
 * side, optimistic data, the byte pipe, backpressure, the connection limit, timeouts, hostile
 * framing next to a good client: one byte per write, over-long SOCKS4a fields, 0 methods,
 * unknown command, empty credentials, .invalid, garbage before the stream is connected). The
 * hostname rules were checked against Debian's tor 0.4.9.11 SOCKS port. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "core/crypto.h"
#include "core/relay_msg.h"
#include "op/socks.h"
#include "op/socks_server.h"
#include "test.h"

/* ------------------------------------------------------------------ parser driver */

/* Feed input to the parser the way the server does: keep what was not consumed, parse again
 * after every STEP, collect every reply. bytewise feeds one byte at a time. After DONE or an
 * error the rest of the input is appended unparsed, so leftover counts the bytes after the
 * request. */
typedef struct {
    int result;
    int nsteps;
    uint8_t replies[4096];
    size_t rlen;
    size_t leftover;
    om_socks_request_t req;
} run_t;

static run_t R;

static void run_ex(const uint8_t *in, size_t len, bool bytewise, bool prefer_no_auth)
{
    static uint8_t buf[8192];
    size_t blen = 0;
    om_socks_state_t st;
    om_socks_state_init(&st);
    st.prefer_no_auth = prefer_no_auth;
    memset(&R, 0, sizeof R);
    R.result = OM_SOCKS_NEED_MORE;
    size_t pos = 0;
    bool finished = false;
    while (pos < len && !finished) {
        size_t chunk = bytewise ? 1 : len - pos;
        memcpy(buf + blen, in + pos, chunk);
        blen += chunk;
        pos += chunk;
        for (;;) {
            uint8_t reply[OM_SOCKS_REPLY_MAX];
            size_t consumed = 12345, rlen = 12345;
            int r = om_socks_parse(&st, buf, blen, &consumed, &R.req, reply, &rlen);
            if (consumed > blen || rlen > OM_SOCKS_REPLY_MAX) abort();
            memcpy(R.replies + R.rlen, reply, rlen);
            R.rlen += rlen;
            memmove(buf, buf + consumed, blen - consumed);
            blen -= consumed;
            R.result = r;
            if (r == OM_SOCKS_STEP) {
                R.nsteps++;
                continue;
            }
            if (r != OM_SOCKS_NEED_MORE) finished = true;
            break;
        }
    }
    R.leftover = blen + (len - pos);
    /* Once finished, the parser only says so. */
    if (finished) {
        size_t consumed, rlen;
        uint8_t reply[OM_SOCKS_REPLY_MAX];
        if (om_socks_parse(&st, buf, blen, &consumed, &R.req, reply, &rlen) != OM_SOCKS_ERR_STATE ||
            consumed != 0 || rlen != 0)
            R.result = 99;
    }
    om_socks_state_clear(&st);
}

/* Run both in one piece and byte by byte; the two must agree. Returns false if they differ. */
static bool run_both(const uint8_t *in, size_t len)
{
    run_ex(in, len, true, false);
    run_t a = R;
    run_ex(in, len, false, false);
    return a.result == R.result && a.rlen == R.rlen && memcmp(a.replies, R.replies, R.rlen) == 0 &&
           a.leftover == R.leftover && a.nsteps == R.nsteps &&
           memcmp(&a.req, &R.req, sizeof a.req) == 0;
}

static size_t hx(const char *hex, uint8_t *out)
{
    return om_test_unhex(hex, out, 2048);
}

/* Check R.replies against hex. */
#define CHECK_REPLIES(hex)                                                                         \
    do {                                                                                           \
        uint8_t exp_[2048];                                                                        \
        size_t n_ = hx(hex, exp_);                                                                 \
        CHECK_EQ_INT(R.rlen, n_);                                                                  \
        CHECK_MEM(R.replies, exp_, n_);                                                            \
    } while (0)

/* Build and run: hex of the whole client input. */
#define RUN(hex)                                                                                   \
    do {                                                                                           \
        uint8_t in_[2048];                                                                         \
        size_t n_ = hx(hex, in_);                                                                  \
        CHECK(run_both(in_, n_));                                                                  \
    } while (0)

/* "example.com" */
#define EXAMPLE_COM "6578616d706c652e636f6d"

/* ------------------------------------------------------------------ SOCKS5 requests */

static void test_v5_connect_hostname(void)
{
    RUN("050100"
        "05010003"
        "0b" EXAMPLE_COM "0050");
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
    CHECK_EQ_INT(R.nsteps, 1);
    CHECK_REPLIES("0500");
    CHECK_EQ_INT(R.leftover, 0);
    CHECK_EQ_INT(R.req.version, 5);
    CHECK_EQ_INT(R.req.command, OM_SOCKS_CMD_CONNECT);
    CHECK_EQ_INT(R.req.atyp, OM_SOCKS_ATYP_HOSTNAME);
    CHECK(strcmp(R.req.host, "example.com") == 0);
    CHECK_EQ_INT(R.req.port, 80);
    CHECK(!R.req.has_auth);
    CHECK_EQ_INT(R.req.username_len, 0);
}

static void test_v5_userpass_ipv4(void)
{
    /* Client offers both: we pick 0x02 (as tor does, so isolation works). */
    RUN("05020002"
        "010475736572"
        "0470617373"
        "05010001c000020101bb");
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
    CHECK_EQ_INT(R.nsteps, 2);
    CHECK_REPLIES("0502"
                  "0100");
    CHECK_EQ_INT(R.req.atyp, OM_SOCKS_ATYP_IPV4);
    CHECK(strcmp(R.req.host, "192.0.2.1") == 0);
    CHECK_MEM(R.req.addr, "\xc0\x00\x02\x01", 4);
    CHECK_EQ_INT(R.req.port, 443);
    CHECK(R.req.has_auth);
    CHECK_EQ_INT(R.req.username_len, 4);
    CHECK_MEM(R.req.username, "user", 5);
    CHECK_EQ_INT(R.req.password_len, 4);
    CHECK_MEM(R.req.password, "pass", 5);
}

static void test_v5_ipv6(void)
{
    RUN("050100"
        "05010004"
        "20010db8000000000000000000000001"
        "1f90");
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
    CHECK_EQ_INT(R.req.atyp, OM_SOCKS_ATYP_IPV6);
    CHECK(strcmp(R.req.host, "2001:db8::1") == 0);
    CHECK_EQ_INT(R.req.addr[0], 0x20);
    CHECK_EQ_INT(R.req.addr[15], 0x01);
    CHECK_EQ_INT(R.req.port, 8080);
}

static void test_v5_prefer_no_auth(void)
{
    uint8_t in[64];
    size_t n = hx("05020002"
                  "05010003"
                  "0b" EXAMPLE_COM "0050",
                  in);
    run_ex(in, n, false, true);
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
    CHECK_REPLIES("0500");
    /* Only 0x02 offered: chosen even when no-auth is preferred. */
    n = hx("050102"
           "01017501"
           "70"
           "05010003"
           "0b" EXAMPLE_COM "0050",
           in);
    run_ex(in, n, true, true);
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
    CHECK_REPLIES("0502"
                  "0100");
    CHECK_MEM(R.req.username, "u", 2);
    CHECK_MEM(R.req.password, "p", 2);
}

static void test_v5_auth_variants(void)
{
    /* Empty username and password (tor accepts them, against RFC 1929). */
    RUN("050102"
        "010000"
        "05010003"
        "0b" EXAMPLE_COM "0050");
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
    CHECK_REPLIES("0502"
                  "0100");
    CHECK(R.req.has_auth);
    CHECK_EQ_INT(R.req.username_len, 0);
    CHECK_EQ_INT(R.req.password_len, 0);
    /* Username/password although no-auth was selected (tor's extension). */
    RUN("050100"
        "0101610162"
        "05010003"
        "0b" EXAMPLE_COM "0050");
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
    CHECK_REPLIES("0500"
                  "0100");
    CHECK(R.req.has_auth);
    CHECK_MEM(R.req.username, "a", 2);
    /* 255-byte username and password; a NUL inside is kept. */
    uint8_t in[1024];
    size_t n = hx("050102", in);
    in[n++] = 1;
    in[n++] = 255;
    for (int i = 0; i < 255; i++)
        in[n++] = (uint8_t)(i == 7 ? 0 : 'u');
    in[n++] = 255;
    for (int i = 0; i < 255; i++)
        in[n++] = 'p';
    n += hx("05010003"
            "0b" EXAMPLE_COM "0050",
            in + n);
    CHECK(run_both(in, n));
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
    CHECK_EQ_INT(R.req.username_len, 255);
    CHECK_EQ_INT(R.req.password_len, 255);
    CHECK_EQ_INT(R.req.username[7], 0);
    CHECK_EQ_INT(R.req.username[254], 'u');
    CHECK_EQ_INT(R.req.password[254], 'p');
    /* Proposal 351: "<torS0X>0" is accepted, any other "<torS0X>" username refused with 01 01. */
    static const struct {
        const char *user;
        int ok;
    } cases[] = {{"<torS0X>0", 1}, {"<torS0X>1", 0}, {"<torS0X>", 0},  {"<torS0X>0x", 0},
                 {"<torS0X", 1},   {"<TORS0X>1", 1}, {"x<torS0X>1", 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        n = hx("050102", in);
        size_t ul = strlen(cases[i].user);
        in[n++] = 1;
        in[n++] = (uint8_t)ul;
        memcpy(in + n, cases[i].user, ul);
        n += ul;
        n += hx("0169", in + n);
        n += hx("05010003"
                "0b" EXAMPLE_COM "0050",
                in + n);
        CHECK(run_both(in, n));
        if (cases[i].ok) {
            CHECK_MSG(R.result == OM_SOCKS_DONE, "%s refused", cases[i].user);
            CHECK_REPLIES("0502"
                          "0100");
        } else {
            CHECK_MSG(R.result == OM_SOCKS_ERR_AUTH, "%s accepted", cases[i].user);
            CHECK_REPLIES("0502"
                          "0101");
        }
    }
}

static void test_v5_resolve(void)
{
    RUN("050100"
        "05f00003"
        "0b" EXAMPLE_COM "0000");
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
    CHECK_EQ_INT(R.req.command, OM_SOCKS_CMD_RESOLVE);
    CHECK(strcmp(R.req.host, "example.com") == 0);
    CHECK_EQ_INT(R.req.port, 0);
    /* RESOLVE_PTR of an IPv4 address, binary and as text. */
    RUN("050100"
        "05f1000101020304"
        "0000");
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
    CHECK_EQ_INT(R.req.command, OM_SOCKS_CMD_RESOLVE_PTR);
    CHECK(strcmp(R.req.host, "1.2.3.4") == 0);
    RUN("050100"
        "05f10003"
        "07312e322e332e34"
        "0000");
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
    CHECK(strcmp(R.req.host, "1.2.3.4") == 0);
    /* RESOLVE_PTR of a name: address type not supported. */
    RUN("050100"
        "05f10003"
        "0b" EXAMPLE_COM "0000");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_ATYP);
    CHECK_REPLIES("0500"
                  "05080001000000000000");
}

static void test_v5_bad_commands(void)
{
    /* BIND, UDP ASSOCIATE, unknown: 0x07 command not supported. */
    static const char *cmds[] = {"02", "03", "09", "f2", "00"};
    for (size_t i = 0; i < 5; i++) {
        char hex[256];
        snprintf(hex, sizeof hex,
                 "050100"
                 "05%s0003"
                 "0b" EXAMPLE_COM "0050",
                 cmds[i]);
        RUN(hex);
        CHECK_EQ_INT(R.result, OM_SOCKS_ERR_COMMAND);
        CHECK_REPLIES("0500"
                      "05070001000000000000");
    }
}

static void test_v5_malformed(void)
{
    /* Unknown address type. */
    RUN("050100"
        "0501000501020304"
        "0050");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_ATYP);
    CHECK_REPLIES("0500"
                  "05080001000000000000");
    /* Reserved byte not zero. */
    RUN("050100"
        "05010103"
        "0b" EXAMPLE_COM "0050");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_MALFORMED);
    CHECK_REPLIES("0500"
                  "05010001000000000000");
    /* Wrong version in the request. */
    RUN("050100"
        "04010003"
        "0b" EXAMPLE_COM "0050");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_MALFORMED);
    CHECK_REPLIES("0500"
                  "05010001000000000000");
    /* Zero-length hostname. */
    RUN("050100"
        "05010003"
        "00"
        "0050");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_HOSTNAME);
    CHECK_REPLIES("0500"
                  "05010001000000000000");
    /* NUL inside the hostname. */
    RUN("050100"
        "05010003"
        "0b6578616d006c652e636f6d"
        "0050");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_HOSTNAME);
    CHECK_REPLIES("0500"
                  "05010001000000000000");
    /* Space inside the hostname. */
    RUN("050100"
        "05010003"
        "0b657861206d706c2e636f6d"
        "0050");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_HOSTNAME);
    CHECK_REPLIES("0500"
                  "05010001000000000000");
    /* CONNECT to port 0. */
    RUN("050100"
        "05010003"
        "0b" EXAMPLE_COM "0000");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_PORT);
    CHECK_REPLIES("0500"
                  "05010001000000000000");
    /* Greeting: no acceptable method, zero methods. */
    RUN("050101");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_NO_METHOD);
    CHECK_REPLIES("05ff");
    RUN("0500");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_NO_METHOD);
    CHECK_REPLIES("05ff");
    RUN("05030180fe");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_NO_METHOD);
    /* RFC 1929 message with the wrong version after 0x02 was selected. */
    RUN("050102"
        "0201750170");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_AUTH);
    CHECK_REPLIES("0502"
                  "0101");
    /* Skipping the mandatory sub-negotiation. */
    RUN("050102"
        "05010003"
        "0b" EXAMPLE_COM "0050");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_AUTH);
    CHECK_REPLIES("0502"
                  "0101");
    /* A second RFC 1929 message is not accepted as a request. */
    RUN("050102"
        "0101750170"
        "0101750170");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_MALFORMED);
    CHECK_REPLIES("0502"
                  "0100"
                  "05010001000000000000");
}

static void test_v5_truncated(void)
{
    /* Every strict prefix of a valid exchange leaves the parser waiting, with only the replies
     * of completed steps sent. */
    uint8_t in[128];
    size_t n = hx("05020002"
                  "010475736572"
                  "0470617373"
                  "05010003"
                  "0b" EXAMPLE_COM "0050",
                  in);
    for (size_t k = 0; k < n; k++) {
        run_ex(in, k, false, false);
        CHECK_MSG(R.result == OM_SOCKS_NEED_MORE || (R.result == OM_SOCKS_STEP),
                  "prefix %zu: result %d", k, R.result);
        size_t want = k >= 4 + 11 ? 4 : k >= 4 ? 2 : 0;
        CHECK_MSG(R.rlen == want, "prefix %zu: %zu reply bytes", k, R.rlen);
    }
    run_ex(in, n, false, false);
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
}

static void test_v5_hostname_255(void)
{
    uint8_t in[600];
    size_t n = hx("050100"
                  "05010003ff",
                  in);
    for (int i = 0; i < 255; i++)
        in[n++] = (i % 10 == 9) ? '.' : 'a';
    in[n - 1] = 'z';
    in[n++] = 0x01;
    in[n++] = 0xbb;
    CHECK(run_both(in, n));
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
    CHECK_EQ_INT(strlen(R.req.host), 255);
    CHECK_EQ_INT(R.req.port, 443);
}

static void test_v5_pipelined(void)
{
    /* Greeting, auth, request and the first bytes of HTTP in one write: the data is left. */
    static const char data[] = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
    uint8_t in[256];
    size_t n = hx("05020002"
                  "0101610162"
                  "05010003"
                  "0b" EXAMPLE_COM "0050",
                  in);
    memcpy(in + n, data, sizeof data - 1);
    CHECK(run_both(in, n + sizeof data - 1));
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
    CHECK_REPLIES("0502"
                  "0100");
    CHECK_EQ_INT(R.leftover, sizeof data - 1);

    /* The parser itself: one call per step over the whole buffer, consumed exact. */
    om_socks_state_t st;
    om_socks_state_init(&st);
    om_socks_request_t req;
    uint8_t reply[OM_SOCKS_REPLY_MAX];
    size_t consumed, rlen, off = 0;
    CHECK_EQ_INT(om_socks_parse(&st, in, n, &consumed, &req, reply, &rlen), OM_SOCKS_STEP);
    CHECK_EQ_INT(consumed, 4);
    off += consumed;
    CHECK_EQ_INT(om_socks_parse(&st, in + off, n - off, &consumed, &req, reply, &rlen),
                 OM_SOCKS_STEP);
    CHECK_EQ_INT(consumed, 5);
    off += consumed;
    CHECK_EQ_INT(
        om_socks_parse(&st, in + off, n + sizeof data - 1 - off, &consumed, &req, reply, &rlen),
        OM_SOCKS_DONE);
    CHECK_EQ_INT(consumed, 18);
    CHECK_EQ_INT(rlen, 0);
    off += consumed;
    CHECK_EQ_INT(off, n);
    om_socks_state_clear(&st);
}

/* ------------------------------------------------------------------ SOCKS4 / 4a */

static void test_v4_connect(void)
{
    RUN("04010050"
        "01020304"
        "616c69636500");
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
    CHECK_EQ_INT(R.rlen, 0);
    CHECK_EQ_INT(R.req.version, 4);
    CHECK_EQ_INT(R.req.command, OM_SOCKS_CMD_CONNECT);
    CHECK_EQ_INT(R.req.atyp, OM_SOCKS_ATYP_IPV4);
    CHECK(!R.req.socks4a);
    CHECK(strcmp(R.req.host, "1.2.3.4") == 0);
    CHECK_EQ_INT(R.req.port, 80);
    CHECK(R.req.has_auth);
    CHECK_EQ_INT(R.req.username_len, 5);
    CHECK_MEM(R.req.username, "alice", 6);
    /* Empty user id: no credentials; data after the request is left. */
    RUN("04010050"
        "01020304"
        "00"
        "68656c6c6f");
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
    CHECK(!R.req.has_auth);
    CHECK_EQ_INT(R.leftover, 5);
}

static void test_v4a(void)
{
    RUN("040101bb"
        "00000001"
        "626f6200" EXAMPLE_COM "00"
        "4745");
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
    CHECK(R.req.socks4a);
    CHECK_EQ_INT(R.req.atyp, OM_SOCKS_ATYP_HOSTNAME);
    CHECK(strcmp(R.req.host, "example.com") == 0);
    CHECK_EQ_INT(R.req.port, 443);
    CHECK_MEM(R.req.username, "bob", 4);
    CHECK_EQ_INT(R.leftover, 2);
    /* tor's RESOLVE in SOCKS4a, port 0 allowed. */
    RUN("04f00000"
        "000000ff"
        "00" EXAMPLE_COM "00");
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
    CHECK_EQ_INT(R.req.command, OM_SOCKS_CMD_RESOLVE);
    CHECK_EQ_INT(R.req.port, 0);
    /* SOCKS4 RESOLVE of an address. */
    RUN("04f00000"
        "01020304"
        "00");
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
    CHECK(strcmp(R.req.host, "1.2.3.4") == 0);
    /* 255-byte user id and 255-byte hostname: the longest request. */
    uint8_t in[600];
    size_t n = hx("04010050"
                  "00000001",
                  in);
    memset(in + n, 'u', 255);
    n += 255;
    in[n++] = 0;
    memset(in + n, 'h', 255);
    n += 255;
    in[n++] = 0;
    CHECK_EQ_INT(n, OM_SOCKS_MAX_MSG);
    CHECK(run_both(in, n));
    CHECK_EQ_INT(R.result, OM_SOCKS_DONE);
    CHECK_EQ_INT(strlen(R.req.host), 255);
    CHECK_EQ_INT(R.req.username_len, 255);
}

static void test_v4_malformed(void)
{
    /* BIND, RESOLVE_PTR and unknown commands: rejected 0x5B. */
    RUN("04020050"
        "01020304"
        "00");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_COMMAND);
    CHECK_REPLIES("005b000000000000");
    RUN("04f10050"
        "01020304"
        "00");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_COMMAND);
    CHECK_REPLIES("005b000000000000");
    /* Destination 0.0.0.0, port 0. */
    RUN("04010050"
        "00000000"
        "00");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_ADDRESS);
    CHECK_REPLIES("005b000000000000");
    RUN("04010000"
        "01020304"
        "00");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_PORT);
    CHECK_REPLIES("005b000000000000");
    /* SOCKS4a: empty hostname, space in it. */
    RUN("04010050"
        "00000001"
        "00"
        "00");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_HOSTNAME);
    CHECK_REPLIES("005b000000000000");
    RUN("04010050"
        "00000001"
        "00"
        "612062"
        "00");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_HOSTNAME);
    CHECK_REPLIES("005b000000000000");
    /* User id of 256 bytes: refused as soon as 256 bytes without a NUL are in (also byte by
     * byte, without waiting for more). */
    uint8_t in[1200];
    size_t n = hx("04010050"
                  "01020304",
                  in);
    memset(in + n, 'u', 256);
    CHECK(run_both(in, n + 256));
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_TOO_LONG);
    CHECK_REPLIES("005b000000000000");
    CHECK(run_both(in, n + 255));
    CHECK_EQ_INT(R.result, OM_SOCKS_NEED_MORE);
    /* SOCKS4a hostname of 256 bytes. */
    n = hx("04010050"
           "00000001"
           "7500",
           in);
    memset(in + n, 'h', 256);
    in[n + 256] = 0;
    CHECK(run_both(in, n + 257));
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_TOO_LONG);
    CHECK_REPLIES("005b000000000000");
    /* Truncated: every prefix of a 4a request waits without replying. */
    n = hx("040101bb"
           "00000001"
           "626f6200" EXAMPLE_COM "00",
           in);
    for (size_t k = 0; k < n; k++) {
        run_ex(in, k, false, false);
        CHECK_EQ_INT(R.result, OM_SOCKS_NEED_MORE);
        CHECK_EQ_INT(R.rlen, 0);
    }
}

/* ------------------------------------------------------------------ other protocols */

static void test_http_and_junk(void)
{
    static const char *reqs[] = {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "POST /x HTTP/1.0\r\n",
                                 "HEAD / HTTP/1.1\r\n", "CONNECT example.com:443 HTTP/1.1\r\n",
                                 "PUT / HTTP/1.1\r\n"};
    for (size_t i = 0; i < 5; i++) {
        run_ex((const uint8_t *)reqs[i], strlen(reqs[i]), true, false);
        CHECK_EQ_INT(R.result, OM_SOCKS_ERR_HTTP);
        CHECK(R.rlen > 100 && R.rlen <= OM_SOCKS_REPLY_MAX);
        CHECK(memcmp(R.replies, "HTTP/1.0 501 ", 13) == 0);
        R.replies[R.rlen] = 0;
        CHECK(strstr((char *)R.replies, "\r\n\r\n<html>") != NULL);
        CHECK(strstr((char *)R.replies, "not an HTTP proxy") != NULL);
        CHECK(strstr((char *)R.replies, "SOCKS") != NULL);
    }
    RUN("06010050");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_VERSION);
    CHECK_EQ_INT(R.rlen, 0);
    RUN("00");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_VERSION);
    RUN("01");
    CHECK_EQ_INT(R.result, OM_SOCKS_ERR_VERSION);
    /* Nothing at all. */
    om_socks_state_t st;
    om_socks_state_init(&st);
    size_t consumed, rlen;
    uint8_t reply[OM_SOCKS_REPLY_MAX];
    om_socks_request_t req;
    CHECK_EQ_INT(om_socks_parse(&st, NULL, 0, &consumed, &req, reply, &rlen), OM_SOCKS_NEED_MORE);
    CHECK_EQ_INT(consumed, 0);
    CHECK_EQ_INT(rlen, 0);
    CHECK(strcmp(om_socks_err_name(OM_SOCKS_ERR_HTTP), "unknown error") != 0);
    CHECK(strcmp(om_socks_err_name(-999), "unknown error") == 0);
}

static void test_hostname_rules(void)
{
    /* Accepted / refused by tor 0.4.9.11's SOCKS5 parser (probed; names refused later by its
     * address policy, like "localhost", are accepted here). */
    static const struct {
        const char *h;
        bool ok;
    } t[] = {
        {"example.com", 1},
        {"a.com.", 1},
        {"exa_mple.com", 1},
        {"a-", 1},
        {"a.b-", 1},
        {"1.2.3.4", 1},
        {"1.2.3.999", 1},
        {"a_b-c.D", 1},
        {"2001:db8::1", 1},
        {"[2001:db8::1]", 1},
        {"::1", 1},
        {"x", 1},
        {"a..b", 0},
        {"-a.com", 0},
        {"a.com..", 0},
        {".a.com", 0},
        {"\xc3\xa9.com", 0},
        {"[2001:db8::1", 0},
        {"2001:db8::1]", 0},
        {"ab:cd", 0},
        {"[1.2.3.4]", 0},
        {"exa mple.com", 0},
        {".", 0},
        {"[]", 0},
        {"a.-b", 0},
        {"a/b", 0},
        {"a\tb", 0},
        {"foo.onion", 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        CHECK_MSG(om_socks_hostname_ok(t[i].h, strlen(t[i].h)) == t[i].ok, "%s", t[i].h);
    CHECK(!om_socks_hostname_ok("", 0));
    CHECK(!om_socks_hostname_ok("ab\0cd", 5));
    char big[300];
    memset(big, 'a', sizeof big);
    CHECK(om_socks_hostname_ok(big, 255));
    CHECK(!om_socks_hostname_ok(big, 256));

    CHECK(om_socks_host_is_onion("abc.onion"));
    CHECK(om_socks_host_is_onion("x.y.ONION"));
    CHECK(om_socks_host_is_onion("abc.onion."));
    CHECK(!om_socks_host_is_onion("onion"));
    CHECK(!om_socks_host_is_onion("abc.onion.com"));
    CHECK(!om_socks_host_is_onion("abconion"));
    CHECK(om_socks_host_is_onion(".onion"));
}

/* ------------------------------------------------------------------ encoders */

#define CHECK_ENC(n, buf, hex)                                                                     \
    do {                                                                                           \
        uint8_t e_[512];                                                                           \
        size_t en_ = hx(hex, e_);                                                                  \
        CHECK_EQ_INT((n), en_);                                                                    \
        CHECK_MEM(buf, e_, en_);                                                                   \
    } while (0)

static void test_reply_connect(void)
{
    uint8_t b[OM_SOCKS_ENCODED_MAX];
    static const uint8_t v4[4] = {192, 0, 2, 7};
    uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
    v6[15] = 9;
    CHECK_ENC(om_socks_reply_connect(b, sizeof b, 5, 0, 0, NULL, 0), b, "05000001000000000000");
    CHECK_ENC(om_socks_reply_connect(b, sizeof b, 5, 0, OM_SOCKS_ATYP_IPV4, v4, 443), b,
              "05000001c000020701bb");
    CHECK_ENC(om_socks_reply_connect(b, sizeof b, 5, 0, OM_SOCKS_ATYP_IPV6, v6, 80), b,
              "05000004"
              "20010db8000000000000000000000009"
              "0050");
    CHECK_ENC(om_socks_reply_connect(b, sizeof b, 5, OM_SOCKS5_CONN_REFUSED, 0, NULL, 0), b,
              "05050001000000000000");
    CHECK_ENC(om_socks_reply_connect(b, sizeof b, 4, 0, 0, NULL, 0), b, "005a000000000000");
    CHECK_ENC(om_socks_reply_connect(b, sizeof b, 4, 0, OM_SOCKS_ATYP_IPV4, v4, 443), b,
              "005a01bbc0000207");
    CHECK_ENC(om_socks_reply_connect(b, sizeof b, 4, 0, OM_SOCKS_ATYP_IPV6, v6, 80), b,
              "005a000000000000");
    CHECK_ENC(om_socks_reply_connect(b, sizeof b, 4, OM_SOCKS5_TTL_EXPIRED, 0, NULL, 0), b,
              "005b000000000000");
    CHECK_ENC(om_socks_reply_error(b, sizeof b, 5, OM_SOCKS5_NOT_ALLOWED), b,
              "05020001000000000000");
    CHECK_ENC(om_socks_reply_error(b, sizeof b, 4, OM_SOCKS5_NOT_ALLOWED), b, "005b000000000000");
    /* Bad arguments and short buffers. */
    CHECK_EQ_INT(om_socks_reply_connect(b, sizeof b, 6, 0, 0, NULL, 0), 0);
    CHECK_EQ_INT(om_socks_reply_connect(b, sizeof b, 5, 0, OM_SOCKS_ATYP_HOSTNAME, v4, 0), 0);
    CHECK_EQ_INT(om_socks_reply_connect(b, sizeof b, 5, 0, OM_SOCKS_ATYP_IPV4, NULL, 0), 0);
    CHECK_EQ_INT(om_socks_reply_connect(b, 9, 5, 0, 0, NULL, 0), 0);
    CHECK_EQ_INT(om_socks_reply_connect(b, 21, 5, 0, OM_SOCKS_ATYP_IPV6, v6, 0), 0);
    CHECK_EQ_INT(om_socks_reply_connect(b, 7, 4, 0, 0, NULL, 0), 0);
}

static void test_reply_resolved(void)
{
    uint8_t b[OM_SOCKS_ENCODED_MAX];
    static const uint8_t v4[4] = {93, 184, 216, 34};
    uint8_t v6[16] = {0x26, 0x06, 0x28, 0x00};
    v6[15] = 0x46;
    CHECK_ENC(om_socks_reply_resolved(b, sizeof b, 5, OM_SOCKS_ANSWER_IPV4, v4, 4, 300), b,
              "050000015db8d8220000");
    CHECK_ENC(om_socks_reply_resolved(b, sizeof b, 5, OM_SOCKS_ANSWER_IPV6, v6, 16, 300), b,
              "05000004"
              "26062800000000000000000000000046"
              "0000");
    CHECK_ENC(om_socks_reply_resolved(b, sizeof b, 5, OM_SOCKS_ANSWER_HOSTNAME,
                                      (const uint8_t *)"example.com", 11, 60),
              b,
              "05000003"
              "0b" EXAMPLE_COM "0000");
    CHECK_ENC(om_socks_reply_resolved(b, sizeof b, 5, OM_SOCKS_ANSWER_ERROR, NULL, 0, 0), b,
              "05040001000000000000");
    CHECK_ENC(om_socks_reply_resolved(b, sizeof b, 5, OM_SOCKS_ANSWER_ERROR_TRANSIENT, NULL, 0, 0),
              b, "05040001000000000000");
    /* An answer whose length does not fit its type is a failure. */
    CHECK_ENC(om_socks_reply_resolved(b, sizeof b, 5, OM_SOCKS_ANSWER_IPV4, v4, 3, 0), b,
              "05040001000000000000");
    CHECK_ENC(om_socks_reply_resolved(b, sizeof b, 5, OM_SOCKS_ANSWER_HOSTNAME, v4, 0, 0), b,
              "05040001000000000000");
    CHECK_ENC(om_socks_reply_resolved(b, sizeof b, 4, OM_SOCKS_ANSWER_IPV4, v4, 4, 0), b,
              "005a00005db8d822");
    CHECK_ENC(om_socks_reply_resolved(b, sizeof b, 4, OM_SOCKS_ANSWER_IPV6, v6, 16, 0), b,
              "005b000000000000");
    CHECK_ENC(om_socks_reply_resolved(b, sizeof b, 4, OM_SOCKS_ANSWER_ERROR, NULL, 0, 0), b,
              "005b000000000000");
    /* 255-byte name fits OM_SOCKS_ENCODED_MAX exactly; a short buffer fails. */
    uint8_t name[255];
    memset(name, 'n', sizeof name);
    CHECK_EQ_INT(om_socks_reply_resolved(b, sizeof b, 5, OM_SOCKS_ANSWER_HOSTNAME, name, 255, 0),
                 OM_SOCKS_ENCODED_MAX);
    CHECK_EQ_INT(b[4], 255);
    CHECK_EQ_INT(om_socks_reply_resolved(b, 17, 5, OM_SOCKS_ANSWER_HOSTNAME,
                                         (const uint8_t *)"example.com", 11, 0),
                 0);
    CHECK_EQ_INT(om_socks_reply_resolved(b, sizeof b, 3, OM_SOCKS_ANSWER_IPV4, v4, 4, 0), 0);
}

static void test_end_reason_map(void)
{
    static const struct {
        uint8_t reason, code;
    } t[] = {
        {0, 0x00},
        {OM_END_MISC, 0x01},
        {OM_END_RESOLVEFAILED, 0x04},
        {OM_END_CONNECTREFUSED, 0x05},
        {OM_END_EXITPOLICY, 0x02},
        {OM_END_DESTROY, 0x01},
        {OM_END_DONE, 0x05},
        {OM_END_TIMEOUT, 0x06},
        {OM_END_NOROUTE, 0x04},
        {OM_END_HIBERNATING, 0x01},
        {OM_END_INTERNAL, 0x01},
        {OM_END_RESOURCELIMIT, 0x01},
        {OM_END_CONNRESET, 0x05},
        {OM_END_TORPROTOCOL, 0x01},
        {OM_END_NOTDIRECTORY, 0x01},
        {15, 0x01},
        {255, 0x01},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        CHECK_MSG(om_socks5_code_from_end_reason(t[i].reason) == t[i].code, "reason %u",
                  t[i].reason);
}

/* ------------------------------------------------------------------ server, in process */

static struct event_base *base;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What the OP callbacks saw. Behaviour switches say how the fake OP answers. */
typedef struct {
    int n_request, n_data, n_close, n_drain;
    om_socks_request_t last_req;
    om_socks_conn_t *conn;
    uint8_t data[1 << 16];
    size_t datalen;
    bool take_data;        /* drain on_data input into data[] */
    int answer_in_request; /* 0: later; 1: reply_connected; 2: reply_error(0x05); 3: resolve */
} op_t;

static op_t op;

static void op_reset(void)
{
    memset(&op, 0, sizeof op);
    op.take_data = true;
}

static void cb_request(om_socks_conn_t *conn, const om_socks_request_t *req, void *arg)
{
    op_t *o = arg;
    o->n_request++;
    o->last_req = *req;
    o->conn = conn;
    if (om_socks_conn_request(conn) != req) abort();
    if (o->answer_in_request == 1) {
        om_socks_conn_reply_connected(conn, 0, NULL, 0);
    } else if (o->answer_in_request == 2) {
        om_socks_conn_reply_error(conn, OM_SOCKS5_CONN_REFUSED);
        o->conn = NULL;
    } else if (o->answer_in_request == 3) {
        static const uint8_t a[4] = {198, 51, 100, 9};
        om_socks_conn_reply_resolved(conn, OM_SOCKS_ANSWER_IPV4, a, 4, 60);
        o->conn = NULL;
    }
}

static void cb_data(om_socks_conn_t *conn, struct evbuffer *in, void *arg)
{
    op_t *o = arg;
    o->n_data++;
    if (!o->take_data) return;
    size_t n = evbuffer_get_length(in);
    if (n > sizeof o->data - o->datalen) n = sizeof o->data - o->datalen;
    evbuffer_remove(in, o->data + o->datalen, n);
    o->datalen += n;
}

static void cb_close(om_socks_conn_t *conn, void *arg)
{
    op_t *o = arg;
    o->n_close++;
    if (o->conn == conn) o->conn = NULL;
}

static void cb_drain(om_socks_conn_t *conn, void *arg)
{
    op_t *o = arg;
    o->n_drain++;
}

static const om_socks_server_callbacks_t callbacks = {cb_request, cb_data, cb_close, cb_drain, &op};

static void spin(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

#define WAIT_FOR(cond, ms)                                                                         \
    do {                                                                                           \
        uint64_t end_ = now_ms() + (ms);                                                           \
        while (!(cond) && now_ms() < end_)                                                         \
            spin(2);                                                                               \
    } while (0)

static int client_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static bool client_send_hex(int fd, const char *hex)
{
    uint8_t b[2048];
    size_t n = hx(hex, b);
    return send(fd, b, n, MSG_NOSIGNAL) == (ssize_t)n;
}

/* Read until want bytes arrived, the peer closed, or ms passed, running the server's loop
 * meanwhile. *eof says whether the server closed. */
static size_t client_recv(int fd, uint8_t *buf, size_t want, int ms, bool *eof)
{
    size_t got = 0;
    bool closed = false;
    uint64_t end = now_ms() + (uint64_t)ms;
    while (got < want && !closed && now_ms() < end) {
        spin(1);
        ssize_t r = recv(fd, buf + got, want - got, MSG_DONTWAIT);
        if (r > 0)
            got += (size_t)r;
        else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            closed = true;
    }
    if (eof) *eof = closed;
    return got;
}

/* True if the server closes the connection (after any bytes already checked) within ms. */
static bool client_sees_eof(int fd, int ms)
{
    uint8_t b[4096];
    bool eof = false;
    uint64_t end = now_ms() + (uint64_t)ms;
    while (!eof && now_ms() < end)
        client_recv(fd, b, sizeof b, 20, &eof);
    return eof;
}

#define CHECK_RECV(fd, hex)                                                                        \
    do {                                                                                           \
        uint8_t exp_[2048], got_[2048];                                                            \
        size_t n_ = hx(hex, exp_);                                                                 \
        size_t g_ = client_recv(fd, got_, n_, 2000, NULL);                                         \
        CHECK_EQ_INT(g_, n_);                                                                      \
        CHECK_MEM(got_, exp_, n_);                                                                 \
    } while (0)

static om_socks_server_t *start(const om_socks_server_opts_t *opts)
{
    op_reset();
    return om_socks_server_new_opts(base, "127.0.0.1", 0, &callbacks, opts);
}

static void test_server_connect_pipe(void)
{
    om_socks_server_t *srv = start(NULL);
    CHECK(srv);
    uint16_t port = om_socks_server_port(srv);
    CHECK(port != 0);
    int fd = client_connect(port);
    CHECK(fd >= 0);
    CHECK(client_send_hex(fd, "05020002"));
    CHECK_RECV(fd, "0502");
    CHECK(client_send_hex(fd, "01"
                              "05616c696365"
                              "06736563726574"));
    CHECK_RECV(fd, "0100");
    /* The request and optimistic data in one segment. */
    CHECK(client_send_hex(fd, "05010003"
                              "0b" EXAMPLE_COM "01bb"
                              "68656c6c6f"));
    WAIT_FOR(op.n_request == 1 && op.datalen == 5, 2000);
    CHECK_EQ_INT(op.n_request, 1);
    CHECK(strcmp(op.last_req.host, "example.com") == 0);
    CHECK_EQ_INT(op.last_req.port, 443);
    CHECK_EQ_INT(op.last_req.version, 5);
    CHECK_MEM(op.last_req.username, "alice", 6);
    CHECK_MEM(op.last_req.password, "secret", 7);
    CHECK_EQ_INT(op.datalen, 5);
    CHECK_MEM(op.data, "hello", 5);
    CHECK(op.conn != NULL);
    CHECK(strncmp(om_socks_conn_peer(op.conn), "127.0.0.1:", 10) == 0);
    int ctx;
    om_socks_conn_set_ctx(op.conn, &ctx);
    CHECK(om_socks_conn_ctx(op.conn) == &ctx);
    /* No write before the reply; a second answer is refused after the first. */
    CHECK_EQ_INT(om_socks_conn_write(op.conn, "x", 1), -1);
    CHECK_EQ_INT(om_socks_conn_reply_connected(op.conn, 0, NULL, 0), 0);
    CHECK_EQ_INT(om_socks_conn_reply_connected(op.conn, 0, NULL, 0), -1);
    CHECK_RECV(fd, "05000001000000000000");
    /* The pipe, both ways. */
    CHECK(client_send_hex(fd, "70696e67"));
    WAIT_FOR(op.datalen == 9, 2000);
    CHECK_MEM(op.data + 5, "ping", 4);
    CHECK_EQ_INT(om_socks_conn_write(op.conn, "pong", 4), 0);
    CHECK_RECV(fd, "706f6e67");
    /* Backpressure: paused reading holds the client's bytes back. */
    om_socks_conn_set_reading(op.conn, false);
    int nd = op.n_data;
    CHECK(client_send_hex(fd, "6d6f7265"));
    spin(50);
    CHECK_EQ_INT(op.n_data, nd);
    om_socks_conn_set_reading(op.conn, true);
    WAIT_FOR(op.datalen == 13, 2000);
    CHECK_MEM(op.data + 9, "more", 4);
    /* A large write drains and reports it. */
    static uint8_t big[200000];
    memset(big, 'z', sizeof big);
    CHECK_EQ_INT(om_socks_conn_write(op.conn, big, sizeof big), 0);
    CHECK(om_socks_conn_output_len(op.conn) > 0);
    static uint8_t rbuf[sizeof big];
    CHECK_EQ_INT(client_recv(fd, rbuf, sizeof rbuf, 5000, NULL), sizeof big);
    CHECK(memcmp(rbuf, big, sizeof big) == 0);
    WAIT_FOR(op.n_drain > 0, 1000);
    CHECK(op.n_drain > 0);
    CHECK_EQ_INT(om_socks_conn_output_len(op.conn), 0);
    /* The client closes: on_close, and the connection is gone. */
    close(fd);
    WAIT_FOR(op.n_close == 1, 2000);
    CHECK_EQ_INT(op.n_close, 1);
    CHECK(op.conn == NULL);
    CHECK_EQ_INT(om_socks_server_nconns(srv), 0);
    om_socks_server_free(srv);
}

static void test_server_bad_then_good(void)
{
    om_socks_server_t *srv = start(NULL);
    CHECK(srv);
    uint16_t port = om_socks_server_port(srv);
    /* A bad client (BIND) and a good one open at the same time. */
    int bad = client_connect(port), good = client_connect(port);
    CHECK(bad >= 0 && good >= 0);
    CHECK(client_send_hex(bad, "050100"
                               "05020003"
                               "0b" EXAMPLE_COM "0050"));
    CHECK_RECV(bad, "0500"
                    "05070001000000000000");
    CHECK(client_sees_eof(bad, 2000));
    CHECK_EQ_INT(op.n_request, 0);
    /* The good one is a SOCKS4a client with pipelined data. */
    CHECK(client_send_hex(good, "04010050"
                                "00000001"
                                "7500" EXAMPLE_COM "00"
                                "4745"));
    WAIT_FOR(op.n_request == 1 && op.datalen == 2, 2000);
    CHECK_EQ_INT(op.n_request, 1);
    CHECK_EQ_INT(op.last_req.version, 4);
    CHECK(op.last_req.socks4a);
    CHECK(strcmp(op.last_req.host, "example.com") == 0);
    CHECK_EQ_INT(op.last_req.port, 80);
    CHECK_MEM(op.last_req.username, "u", 2);
    CHECK_MEM(op.data, "GE", 2);
    /* The OP fails it: 0x5B and close, no on_close. */
    om_socks_conn_reply_error(op.conn, om_socks5_code_from_end_reason(OM_END_CONNECTREFUSED));
    CHECK_RECV(good, "005b000000000000");
    CHECK(client_sees_eof(good, 2000));
    CHECK_EQ_INT(op.n_close, 0);
    close(bad);
    close(good);
    /* An HTTP client gets the 501 page, then EOF. */
    int web = client_connect(port);
    CHECK(web >= 0);
    static const char get[] = "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n";
    CHECK(send(web, get, sizeof get - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof get - 1));
    uint8_t page[OM_SOCKS_REPLY_MAX + 1];
    bool eof = false;
    size_t n = client_recv(web, page, sizeof page - 1, 2000, &eof);
    if (!eof) eof = client_sees_eof(web, 2000);
    CHECK(eof);
    CHECK(n > 13);
    page[n] = 0;
    CHECK(strncmp((char *)page, "HTTP/1.0 501 ", 13) == 0);
    close(web);
    /* A junk client: closed without a reply. */
    int junk = client_connect(port);
    CHECK(client_send_hex(junk, "ff00ff00"));
    CHECK(client_recv(junk, page, 1, 2000, &eof) == 0 && eof);
    close(junk);
    /* .onion: answered 0x04 without reaching the OP. */
    int onion = client_connect(port);
    CHECK(client_send_hex(onion, "050100"
                                 "05010003"
                                 "09666f6f2e6f6e696f6e"
                                 "0050"));
    CHECK_RECV(onion, "0500"
                      "05040001000000000000");
    CHECK(client_sees_eof(onion, 2000));
    CHECK_EQ_INT(op.n_request, 1);
    close(onion);
    /* And the server still serves: a RESOLVE answered inside on_request. */
    op.answer_in_request = 3;
    int res = client_connect(port);
    CHECK(client_send_hex(res, "050100"
                               "05f00003"
                               "0b" EXAMPLE_COM "0000"));
    CHECK_RECV(res, "0500"
                    "05000001c63364090000");
    CHECK(client_sees_eof(res, 2000));
    CHECK_EQ_INT(op.n_request, 2);
    CHECK_EQ_INT(op.last_req.command, OM_SOCKS_CMD_RESOLVE);
    close(res);
    /* CONNECT refused inside on_request, optimistic data and all. */
    op.answer_in_request = 2;
    int ref = client_connect(port);
    CHECK(client_send_hex(ref, "050100"
                               "05010003"
                               "0b" EXAMPLE_COM "0050"
                               "41414141"));
    CHECK_RECV(ref, "0500"
                    "05050001000000000000");
    CHECK(client_sees_eof(ref, 2000));
    close(ref);
    /* CONNECT accepted inside on_request: the optimistic data still reaches on_data. */
    op.answer_in_request = 1;
    op.datalen = 0;
    int acc = client_connect(port);
    CHECK(client_send_hex(acc, "050100"
                               "05010003"
                               "0b" EXAMPLE_COM "0050"
                               "42424242"));
    CHECK_RECV(acc, "0500"
                    "05000001000000000000");
    WAIT_FOR(op.datalen == 4, 2000);
    CHECK_MEM(op.data, "BBBB", 4);
    /* The OP closes after writing: the client gets the bytes, then EOF. */
    CHECK_EQ_INT(om_socks_conn_write(op.conn, "bye", 3), 0);
    om_socks_conn_close(op.conn);
    CHECK_RECV(acc, "627965");
    CHECK(client_sees_eof(acc, 2000));
    close(acc);
    WAIT_FOR(om_socks_server_nconns(srv) == 0, 2000);
    CHECK_EQ_INT(om_socks_server_nconns(srv), 0);
    om_socks_server_free(srv);
}

static void test_server_optimistic_held(void)
{
    /* The OP leaves optimistic data in the buffer until the stream is up; it is offered again
     * after reply_connected, and nothing is lost. */
    om_socks_server_t *srv = start(NULL);
    CHECK(srv);
    op.take_data = false;
    int fd = client_connect(om_socks_server_port(srv));
    CHECK(client_send_hex(fd, "04010050"
                              "01020304"
                              "00"
                              "6f707469"));
    WAIT_FOR(op.n_request == 1 && op.n_data >= 1, 2000);
    CHECK_EQ_INT(op.n_data, 1);
    CHECK_EQ_INT(evbuffer_get_length(om_socks_conn_input(op.conn)), 4);
    op.take_data = true;
    int nd = op.n_data;
    static const uint8_t bound[4] = {10, 0, 0, 1};
    CHECK_EQ_INT(om_socks_conn_reply_connected(op.conn, OM_SOCKS_ATYP_IPV4, bound, 8080), 0);
    CHECK_RECV(fd, "005a1f900a000001");
    WAIT_FOR(op.datalen == 4, 2000);
    CHECK(op.n_data > nd);
    CHECK_MEM(op.data, "opti", 4);
    /* Server freed with the connection open: on_close. */
    om_socks_server_free(srv);
    CHECK_EQ_INT(op.n_close, 1);
    CHECK(client_sees_eof(fd, 2000));
    close(fd);
}

static void test_server_limits(void)
{
    om_socks_server_opts_t o = {.max_conns = 2, .handshake_timeout_ms = 300};
    om_socks_server_t *srv = start(&o);
    CHECK(srv);
    uint16_t port = om_socks_server_port(srv);
    uint64_t t0 = now_ms(); /* before the server can have accepted a or b */
    int a = client_connect(port), b = client_connect(port);
    CHECK(a >= 0 && b >= 0);
    WAIT_FOR(om_socks_server_nconns(srv) == 2, 2000);
    CHECK_EQ_INT(om_socks_server_nconns(srv), 2);
    /* The third is accepted by the kernel and closed at once. */
    int c = client_connect(port);
    CHECK(c >= 0);
    uint8_t buf[16];
    bool eof = false;
    CHECK_EQ_INT(client_recv(c, buf, 1, 2000, &eof), 0);
    CHECK(eof);
    CHECK_EQ_INT(om_socks_server_nconns(srv), 2);
    close(c);
    /* a sends half a greeting and stalls; both time out (no reply, just closed). */
    CHECK(client_send_hex(a, "05"));
    CHECK(client_sees_eof(a, 3000));
    CHECK(now_ms() - t0 >= 290);
    CHECK(client_sees_eof(b, 3000));
    WAIT_FOR(om_socks_server_nconns(srv) == 0, 2000);
    CHECK_EQ_INT(om_socks_server_nconns(srv), 0);
    close(a);
    close(b);
    /* Room again: a good client gets through. */
    int d = client_connect(port);
    CHECK(client_send_hex(d, "050100"));
    CHECK_RECV(d, "0500");
    CHECK(client_send_hex(d, "05010003"
                             "0b" EXAMPLE_COM "0050"));
    WAIT_FOR(op.n_request == 1, 2000);
    CHECK_EQ_INT(op.n_request, 1);
    /* Waiting for the OP is not limited by the handshake timeout. */
    spin(500);
    CHECK(op.conn != NULL);
    CHECK_EQ_INT(op.n_close, 0);
    CHECK_EQ_INT(om_socks_conn_reply_connected(op.conn, 0, NULL, 0), 0);
    CHECK_RECV(d, "05000001000000000000");
    close(d);
    WAIT_FOR(op.n_close == 1, 2000);
    CHECK_EQ_INT(op.n_close, 1);
    om_socks_server_free(srv);
}

static void test_server_listen_addresses(void)
{
    op_reset();
    om_socks_server_t *s = om_socks_server_new(base, "0.0.0.0", 0, &callbacks);
    CHECK(s == NULL);
    s = om_socks_server_new(base, "192.0.2.1", 0, &callbacks);
    CHECK(s == NULL);
    s = om_socks_server_new(base, "localhost", 0, &callbacks);
    CHECK(s == NULL);
    s = om_socks_server_new(base, NULL, 0, &callbacks);
    CHECK(s != NULL);
    om_socks_server_free(s);
    s = om_socks_server_new(base, "127.0.0.2", 0, &callbacks);
    CHECK(s != NULL);
    om_socks_server_free(s);
    om_socks_server_opts_t o = {.allow_non_loopback = true};
    s = om_socks_server_new_opts(base, "0.0.0.0", 0, &callbacks, &o);
    CHECK(s != NULL);
    CHECK(om_socks_server_port(s) != 0);
    om_socks_server_free(s);
    /* ::1 if the machine has IPv6. */
    s = om_socks_server_new(base, "::1", 0, &callbacks);
    if (s) om_socks_server_free(s);
    s = om_socks_server_new(base, "::", 0, &callbacks);
    CHECK(s == NULL);
}

static void test_server_many_bytes_handshake(void)
{
    /* A client streaming garbage that looks like a SOCKS4 user id is cut off at the limit. */
    om_socks_server_t *srv = start(NULL);
    CHECK(srv);
    int fd = client_connect(om_socks_server_port(srv));
    uint8_t junk[4096];
    memset(junk, 'u', sizeof junk);
    memcpy(junk, "\x04\x01\x00\x50\x01\x02\x03\x04", 8);
    CHECK(send(fd, junk, sizeof junk, MSG_NOSIGNAL) > 0);
    CHECK_RECV(fd, "005b000000000000");
    CHECK(client_sees_eof(fd, 2000));
    CHECK_EQ_INT(op.n_request, 0);
    close(fd);
    om_socks_server_free(srv);
}

/* Send hex one byte per write, running the server's loop between bytes (every split). */
static bool client_send_bytewise(int fd, const char *hex)
{
    uint8_t b[2048];
    size_t n = hx(hex, b);
    for (size_t i = 0; i < n; i++) {
        if (send(fd, b + i, 1, MSG_NOSIGNAL) != 1) return false;
        spin(1);
    }
    return true;
}

/* One refused client: its reply (hex), then EOF; nothing reaches the OP. */
#define CHECK_REFUSED(port, in_hex, reply_hex)                                                     \
    do {                                                                                           \
        int fd_ = client_connect(port);                                                            \
        int nr_ = op.n_request;                                                                    \
        CHECK(fd_ >= 0 && client_send_hex(fd_, in_hex));                                           \
        CHECK_RECV(fd_, reply_hex);                                                                \
        CHECK_MSG(client_sees_eof(fd_, 2000), "no EOF after %.60s", in_hex);                       \
        CHECK_EQ_INT(op.n_request, nr_);                                                           \
        close(fd_);                                                                                \
    } while (0)

/* Hostile SOCKS framing at the server, each closing only its own connection with tor's reply
 * (checked against tor 0.4.9's proto_socks.c: 0x5B for SOCKS4, 05 FF for no acceptable method,
 * 05 07 for an unknown command) while a client that opened first finishes its CONNECT and pipes
 * data afterwards: a SOCKS4a request whose user id or hostname has no NUL within 255 bytes, a
 * SOCKS5 greeting with 0 methods, an unknown command. Accepted as tor accepts them: a whole
 * SOCKS5 exchange and its data sent one byte per write (every boundary split); empty username
 * and password; a ".invalid" name (a normal hostname to tor's parse_extended_hostname, left to
 * the exit); garbage after the request before the stream is connected (held as the stream's
 * first data, as tor holds what the application sent early). (.onion names are answered 0x04
 * here: test_server_bad_then_good.) */
static void test_server_hostile_framing(void)
{
    om_socks_server_t *srv = start(NULL);
    CHECK(srv);
    uint16_t port = om_socks_server_port(srv);
    int early = client_connect(port);
    CHECK(early >= 0 && client_send_hex(early, "050100"));
    CHECK_RECV(early, "0500");
    /* refused, each with its reply */
    uint8_t in[600];
    char hex[1300];
    size_t n = hx("04010050"
                  "01020304",
                  in);
    memset(in + n, 'u', 300);
    om_hex_encode(in, n + 300, hex);
    CHECK_REFUSED(port, hex, "005b000000000000");
    n = hx("04010050"
           "00000001"
           "7500",
           in);
    memset(in + n, 'h', 300);
    om_hex_encode(in, n + 300, hex);
    CHECK_REFUSED(port, hex, "005b000000000000");
    CHECK_REFUSED(port, "0500", "05ff");
    CHECK_REFUSED(port,
                  "050100"
                  "05090003"
                  "0b" EXAMPLE_COM "0050",
                  "0500"
                  "05070001000000000000");
    /* one byte at a time: greeting, auth with empty fields, a .invalid name, data */
    int slow = client_connect(port);
    CHECK(slow >= 0);
    op.datalen = 0;
    CHECK(client_send_bytewise(slow, "050102"
                                     "010000"
                                     "05010003"
                                     "0f6578616d706c652e696e76616c6964"
                                     "0050"
                                     "736c6f77"));
    CHECK_RECV(slow, "0502"
                     "0100");
    WAIT_FOR(op.n_request == 1 && op.datalen == 4, 2000);
    CHECK_EQ_INT(op.n_request, 1);
    CHECK(strcmp(op.last_req.host, "example.invalid") == 0);
    CHECK(op.last_req.has_auth && op.last_req.username_len == 0 && op.last_req.password_len == 0);
    CHECK_MEM(op.data, "slow", 4);
    om_socks_conn_t *slow_conn = op.conn;
    /* garbage after the request, before the stream is connected: it is the stream's data */
    int junk = client_connect(port);
    op.datalen = 0;
    CHECK(junk >= 0 && client_send_hex(junk, "050100"
                                             "05010003"
                                             "0b" EXAMPLE_COM "0050"
                                             "ff00ff0005"));
    CHECK_RECV(junk, "0500");
    WAIT_FOR(op.n_request == 2 && op.datalen == 5, 2000);
    CHECK(client_send_hex(junk, "0401"));
    WAIT_FOR(op.datalen == 7, 2000);
    CHECK_MEM(op.data, "\xff\x00\xff\x00\x05\x04\x01", 7);
    CHECK(!client_sees_eof(junk, 50));
    CHECK_EQ_INT(om_socks_conn_reply_connected(op.conn, 0, NULL, 0), 0);
    CHECK_RECV(junk, "05000001000000000000");
    om_socks_conn_close(op.conn);
    CHECK(client_sees_eof(junk, 2000));
    close(junk);
    /* the first client, still mid-handshake through all of this, and the slow one still work */
    op.datalen = 0;
    CHECK(client_send_hex(early, "05010003"
                                 "0b" EXAMPLE_COM "0050"));
    WAIT_FOR(op.n_request == 3, 2000);
    CHECK_EQ_INT(op.n_request, 3);
    CHECK_EQ_INT(om_socks_conn_reply_connected(op.conn, 0, NULL, 0), 0);
    CHECK_RECV(early, "05000001000000000000");
    CHECK(client_send_hex(early, "6f6b"));
    WAIT_FOR(op.datalen == 2, 2000);
    CHECK_MEM(op.data, "ok", 2);
    CHECK_EQ_INT(om_socks_conn_write(op.conn, "yes", 3), 0);
    CHECK_RECV(early, "796573");
    CHECK_EQ_INT(om_socks_conn_reply_connected(slow_conn, 0, NULL, 0), 0);
    CHECK_RECV(slow, "05000001000000000000");
    CHECK_EQ_INT(om_socks_server_nconns(srv), 2);
    close(early);
    close(slow);
    WAIT_FOR(om_socks_server_nconns(srv) == 0, 2000);
    om_socks_server_free(srv);
}

static const om_test_t tests[] = {
    OM_TEST(test_v5_connect_hostname),
    OM_TEST(test_v5_userpass_ipv4),
    OM_TEST(test_v5_ipv6),
    OM_TEST(test_v5_prefer_no_auth),
    OM_TEST(test_v5_auth_variants),
    OM_TEST(test_v5_resolve),
    OM_TEST(test_v5_bad_commands),
    OM_TEST(test_v5_malformed),
    OM_TEST(test_v5_truncated),
    OM_TEST(test_v5_hostname_255),
    OM_TEST(test_v5_pipelined),
    OM_TEST(test_v4_connect),
    OM_TEST(test_v4a),
    OM_TEST(test_v4_malformed),
    OM_TEST(test_http_and_junk),
    OM_TEST(test_hostname_rules),
    OM_TEST(test_reply_connect),
    OM_TEST(test_reply_resolved),
    OM_TEST(test_end_reason_map),
    OM_TEST(test_server_connect_pipe),
    OM_TEST(test_server_bad_then_good),
    OM_TEST(test_server_optimistic_held),
    OM_TEST(test_server_limits),
    OM_TEST(test_server_listen_addresses),
    OM_TEST(test_server_many_bytes_handshake),
    OM_TEST(test_server_hostile_framing),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    base = event_base_new();
    if (!base) return 1;
    int r = om_test_main("socks", tests, argc, argv);
    event_base_free(base);
    return r;
}
