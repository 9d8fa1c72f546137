/* fuzz_socks.c — libFuzzer target: the SOCKS parser driven as the server drives it (input split
 * into chunks, parsing again after every handshake step), with the request it yields checked
 * field by field and re-encoded against the bytes it came from; the reply encoders, hostname
 * check and END-reason map on arbitrary arguments. The first input byte picks the chunk size
 * and PreferSOCKSNoAuth. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "op/socks.h"

static void check_request(const om_socks_request_t *req, const uint8_t *msg, size_t n)
{
    if (req->version != 4 && req->version != 5) abort();
    if (req->command != OM_SOCKS_CMD_CONNECT && req->command != OM_SOCKS_CMD_RESOLVE &&
        req->command != OM_SOCKS_CMD_RESOLVE_PTR)
        abort();
    if (req->command == OM_SOCKS_CMD_CONNECT && req->port == 0) abort();
    size_t hl = strnlen(req->host, sizeof req->host);
    if (hl == 0 || hl >= sizeof req->host) abort();
    if (req->username[req->username_len] != 0 || req->password[req->password_len] != 0) abort();
    if (!req->has_auth && (req->username_len || req->password_len)) abort();

    uint8_t re[OM_SOCKS_MAX_MSG];
    size_t k = 0;
    if (req->version == 5) {
        /* VER CMD RSV ATYP ADDR PORT, rebuilt from the request, equals what was consumed. */
        re[k++] = 5;
        re[k++] = req->command;
        re[k++] = 0;
        re[k++] = req->atyp;
        if (req->atyp == OM_SOCKS_ATYP_HOSTNAME) {
            if (!om_socks_hostname_ok(req->host, hl)) abort();
            re[k++] = (uint8_t)hl;
            memcpy(re + k, req->host, hl);
            k += hl;
        } else {
            size_t al = req->atyp == OM_SOCKS_ATYP_IPV4   ? 4
                        : req->atyp == OM_SOCKS_ATYP_IPV6 ? 16
                                                          : 0;
            if (al == 0) abort();
            uint8_t a[16];
            if (inet_pton(al == 4 ? AF_INET : AF_INET6, req->host, a) != 1 ||
                memcmp(a, req->addr, al) != 0)
                abort();
            memcpy(re + k, req->addr, al);
            k += al;
        }
        if (req->command == OM_SOCKS_CMD_RESOLVE_PTR && req->atyp == OM_SOCKS_ATYP_HOSTNAME) {
            uint8_t a[16];
            if (inet_pton(AF_INET, req->host, a) != 1 && inet_pton(AF_INET6, req->host, a) != 1)
                abort();
        }
        re[k++] = (uint8_t)(req->port >> 8);
        re[k++] = (uint8_t)req->port;
        if (k != n || memcmp(re, msg, n) != 0) abort();
    } else {
        /* VN CD PORT IP USERID NUL [HOST NUL] */
        if (req->command == OM_SOCKS_CMD_RESOLVE_PTR) abort();
        if (n < 9 || msg[0] != 4 || msg[1] != req->command) abort();
        if ((msg[2] << 8 | msg[3]) != req->port) abort();
        if (req->has_auth != (req->username_len > 0)) abort();
        if (memcmp(msg + 8, req->username, req->username_len + 1u) != 0) abort();
        size_t tail = 8 + req->username_len + 1u;
        if (req->socks4a) {
            if (msg[4] || msg[5] || msg[6] || !msg[7]) abort();
            if (!om_socks_hostname_ok(req->host, hl)) abort();
            if (n != tail + hl + 1 || memcmp(msg + tail, req->host, hl + 1) != 0) abort();
        } else {
            if (n != tail || memcmp(msg + 4, req->addr, 4) != 0) abort();
        }
    }
}

static void fuzz_encoders(const uint8_t *d, size_t n)
{
    if (n < 6) return;
    uint8_t out[OM_SOCKS_ENCODED_MAX + 8];
    size_t outsz = d[0] % (sizeof out + 1);
    uint8_t version = (uint8_t)(3 + (d[1] & 3));
    const uint8_t *val = d + 6;
    size_t vl = n - 6;
    size_t r = om_socks_reply_connect(out, outsz, version, d[2], d[3] % 6, vl >= 16 ? val : NULL,
                                      (uint16_t)(d[4] << 8 | d[5]));
    if (r > outsz || r > OM_SOCKS_ENCODED_MAX) abort();
    if (r && version == 5 && (out[0] != 5 || out[1] != d[2])) abort();
    if (r && version == 4 && (out[0] != 0 || (out[1] != 0x5A && out[1] != 0x5B))) abort();
    r = om_socks_reply_resolved(out, outsz, version, d[3], vl ? val : NULL, vl, 0);
    if (r > outsz || r > OM_SOCKS_ENCODED_MAX) abort();
    if (r && version == 5 && out[0] != 5) abort();
    (void)om_socks5_code_from_end_reason(d[2]);
    (void)om_socks_hostname_ok((const char *)val, vl);
    char s[OM_SOCKS_MAX_HOSTNAME + 1];
    size_t sl = vl < sizeof s - 1 ? vl : sizeof s - 1;
    memcpy(s, val, sl);
    s[sl] = 0;
    (void)om_socks_host_is_onion(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t flags = data[0];
    const uint8_t *in = data + 1;
    size_t len = size - 1;
    size_t chunk = (flags >> 1) ? (flags >> 1) : len;

    om_socks_state_t st;
    om_socks_state_init(&st);
    st.prefer_no_auth = flags & 1;
    static uint8_t buf[4096];
    size_t blen = 0, pos = 0;
    int steps = 0;
    bool finished = false;
    while (pos < len && !finished) {
        size_t c = len - pos < chunk ? len - pos : chunk;
        if (blen + c > sizeof buf) break;
        memcpy(buf + blen, in + pos, c);
        blen += c;
        pos += c;
        for (;;) {
            om_socks_request_t req;
            uint8_t reply[OM_SOCKS_REPLY_MAX];
            size_t consumed = (size_t)-1, rlen = (size_t)-1;
            int r = om_socks_parse(&st, buf, blen, &consumed, &req, reply, &rlen);
            if (consumed > blen || rlen > OM_SOCKS_REPLY_MAX) abort();
            if (r == OM_SOCKS_NEED_MORE) {
                if (consumed || rlen) abort();
                /* Waiting is only allowed while a message can still complete. */
                if (blen > OM_SOCKS_MAX_MSG) abort();
                break;
            }
            if (r == OM_SOCKS_STEP) {
                /* Method selection (2 bytes) or RFC 1929 status (2 bytes). */
                if (consumed == 0 || rlen != 2 || ++steps > 2) abort();
            } else if (r == OM_SOCKS_DONE) {
                if (consumed == 0 || rlen != 0) abort();
                check_request(&req, buf, consumed);
                finished = true;
            } else if (r < 0 && r >= OM_SOCKS_ERR_ADDRESS) {
                if (strcmp(om_socks_err_name(r), "unknown error") == 0) abort();
                finished = true;
            } else {
                abort();
            }
            memmove(buf, buf + consumed, blen - consumed);
            blen -= consumed;
            if (finished) break;
        }
    }
    if (finished) {
        size_t consumed, rlen;
        om_socks_request_t req;
        uint8_t reply[OM_SOCKS_REPLY_MAX];
        if (om_socks_parse(&st, buf, blen, &consumed, &req, reply, &rlen) != OM_SOCKS_ERR_STATE)
            abort();
    }
    om_socks_state_clear(&st);
    fuzz_encoders(in, len);
    return 0;
}
