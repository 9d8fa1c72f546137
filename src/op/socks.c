/* socks.c — SOCKS4/4a/5 request parser and reply encoders for the SOCKS port (see socks.h).
 * Every read of client input is checked against len before it happens; a message is only
 * consumed once it is complete. */
#include "op/socks.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/crypto.h"
#include "core/relay_msg.h"

enum {
    PH_START = 0,   /* first byte decides SOCKS4 / SOCKS5 / HTTP */
    PH_V5_GREETING, /* version identifier / method selection (RFC 1928 3) */
    PH_V5_AUTH,     /* we selected 0x02: RFC 1929 sub-negotiation is mandatory */
    PH_V5_REQUEST,  /* request (RFC 1928 4); an RFC 1929 message is still allowed first */
    PH_V4,          /* SOCKS4 / SOCKS4a request */
    PH_DONE,
    PH_FAILED,
};

/* Tor's answer to an HTTP request on its SOCKS port is a 501 page (socks-extensions
 * "HTTP-resistance"); this is ours. */
static const char http_501[] =
    "HTTP/1.0 501 onionmesh is not an HTTP Proxy\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Connection: close\r\n"
    "\r\n"
    "<html>\n<head><title>This is a SOCKS proxy, not an HTTP proxy</title></head>\n"
    "<body>\n<h1>This is a SOCKS proxy, not an HTTP proxy.</h1>\n"
    "<p>Your application sent an HTTP request to onionmesh's SOCKS port. That does not work: this\n"
    "port only speaks SOCKS4a and SOCKS5.</p>\n"
    "<p>Configure the application to use a SOCKS5 proxy at this address, and let the proxy\n"
    "resolve hostnames (\"socks5h\", \"remote DNS\"), instead of an HTTP proxy.</p>\n"
    "</body>\n</html>\n";

_Static_assert(sizeof http_501 - 1 <= OM_SOCKS_REPLY_MAX, "HTTP 501 page fits the reply buffer");

void om_socks_state_init(om_socks_state_t *st)
{
    memset(st, 0, sizeof *st);
    st->phase = PH_START;
}

void om_socks_state_clear(om_socks_state_t *st)
{
    om_memwipe(st, sizeof *st);
    st->phase = PH_FAILED;
}

const char *om_socks_err_name(int err)
{
    switch (err) {
    case OM_SOCKS_ERR_VERSION:
        return "unknown protocol version";
    case OM_SOCKS_ERR_HTTP:
        return "HTTP request on the SOCKS port";
    case OM_SOCKS_ERR_NO_METHOD:
        return "no acceptable SOCKS5 authentication method";
    case OM_SOCKS_ERR_AUTH:
        return "bad username/password message";
    case OM_SOCKS_ERR_MALFORMED:
        return "malformed SOCKS5 request";
    case OM_SOCKS_ERR_COMMAND:
        return "unsupported command";
    case OM_SOCKS_ERR_ATYP:
        return "unsupported address type";
    case OM_SOCKS_ERR_HOSTNAME:
        return "invalid hostname";
    case OM_SOCKS_ERR_TOO_LONG:
        return "SOCKS4 user id or hostname too long";
    case OM_SOCKS_ERR_PORT:
        return "port 0";
    case OM_SOCKS_ERR_ADDRESS:
        return "SOCKS4 destination 0.0.0.0";
    case OM_SOCKS_ERR_STATE:
        return "request already parsed or failed";
    default:
        return "unknown error";
    }
}

/* ---- destination checks ---- */

static bool is_ipv4_literal(const char *s)
{
    struct in_addr a;
    return inet_pton(AF_INET, s, &a) == 1;
}

static bool is_ipv6_literal(const char *s)
{
    struct in6_addr a;
    return inet_pton(AF_INET6, s, &a) == 1;
}

/* A hostname in tor's loose sense (not RFC 1123: '_' is allowed, labels may end in '-'). */
static bool hostname_labels_ok(const char *s, size_t len)
{
    if (len > 0 && s[len - 1] == '.') len--; /* one final dot is allowed */
    if (len == 0) return false;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok || (label == 0 && c == '-')) return false;
        label++;
    }
    return label > 0;
}

bool om_socks_hostname_ok(const char *host, size_t len)
{
    if (len == 0 || len > OM_SOCKS_MAX_HOSTNAME || memchr(host, 0, len)) return false;
    char buf[OM_SOCKS_MAX_HOSTNAME + 1];
    memcpy(buf, host, len);
    buf[len] = 0;
    if (len > 2 && buf[0] == '[' && buf[len - 1] == ']') {
        buf[len - 1] = 0;
        return is_ipv6_literal(buf + 1);
    }
    return is_ipv4_literal(buf) || is_ipv6_literal(buf) || hostname_labels_ok(buf, len);
}

bool om_socks_host_is_onion(const char *host)
{
    size_t n = strlen(host);
    if (n > 0 && host[n - 1] == '.') n--;
    static const char suffix[] = ".onion";
    size_t k = sizeof suffix - 1;
    if (n < k) return false;
    for (size_t i = 0; i < k; i++) {
        char c = host[n - k + i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != suffix[i]) return false;
    }
    return true;
}

/* ---- replies written by the parser ---- */

static size_t v5_error(uint8_t *reply, uint8_t code)
{
    return om_socks_reply_error(reply, OM_SOCKS_REPLY_MAX, 5, code);
}

static size_t v4_reject(uint8_t *reply)
{
    return om_socks_reply_error(reply, OM_SOCKS_REPLY_MAX, 4, OM_SOCKS5_GENERAL_FAILURE);
}

static int fail(om_socks_state_t *st, int err)
{
    st->phase = PH_FAILED;
    om_memwipe(st->username, sizeof st->username);
    om_memwipe(st->password, sizeof st->password);
    return err;
}

/* Fill the request's credentials from the state (SOCKS5), then wipe them from the state. */
static void take_credentials(om_socks_state_t *st, om_socks_request_t *req)
{
    req->has_auth = st->have_auth;
    req->username_len = st->username_len;
    req->password_len = st->password_len;
    memcpy(req->username, st->username, st->username_len);
    req->username[st->username_len] = 0;
    memcpy(req->password, st->password, st->password_len);
    req->password[st->password_len] = 0;
    om_memwipe(st->username, sizeof st->username);
    om_memwipe(st->password, sizeof st->password);
}

/* ---- SOCKS5 ---- */

/* RFC 1928 3: VER=5 NMETHODS METHODS[NMETHODS]. Reply VER METHOD. */
static int parse_v5_greeting(om_socks_state_t *st, const uint8_t *in, size_t len, size_t *consumed,
                             uint8_t *reply, size_t *replylen)
{
    if (len < 2) return OM_SOCKS_NEED_MORE;
    size_t n = in[1];
    reply[0] = 5;
    reply[1] = 0xFF; /* no acceptable methods */
    if (n == 0) {
        *replylen = 2;
        return fail(st, OM_SOCKS_ERR_NO_METHOD);
    }
    if (len < 2 + n) return OM_SOCKS_NEED_MORE;
    bool have_none = memchr(in + 2, 0x00, n) != NULL;
    bool have_userpass = memchr(in + 2, 0x02, n) != NULL;
    /* Like tor (socks-extensions 1.1, PreferSOCKSNoAuth), choose username/password when offered so
     * stream isolation by credentials works, unless configured to prefer no-auth. */
    if (have_userpass && !(have_none && st->prefer_no_auth)) {
        st->method = 0x02;
        st->phase = PH_V5_AUTH;
    } else if (have_none) {
        st->method = 0x00;
        st->phase = PH_V5_REQUEST;
    } else {
        *replylen = 2;
        return fail(st, OM_SOCKS_ERR_NO_METHOD);
    }
    reply[1] = st->method;
    *replylen = 2;
    *consumed = 2 + n;
    return OM_SOCKS_STEP;
}

/* RFC 1929 2: VER=1 ULEN UNAME PLEN PASSWD; reply VER=1 STATUS. Tor accepts empty fields and any
 * values (they only isolate streams). Proposal 351 (tor 0.4.9): a username starting "<torS0X>"
 * is an extension; tor accepts exactly "<torS0X>0" (format 0: the password is the isolation
 * string) and refuses other forms, and so do we. */
static int parse_v5_auth(om_socks_state_t *st, const uint8_t *in, size_t len, size_t *consumed,
                         uint8_t *reply, size_t *replylen)
{
    if (len < 2) return OM_SOCKS_NEED_MORE;
    if (in[0] != 0x01) {
        reply[0] = 0x01;
        reply[1] = 0x01;
        *replylen = 2;
        return fail(st, OM_SOCKS_ERR_AUTH);
    }
    size_t ulen = in[1];
    if (len < 2 + ulen + 1) return OM_SOCKS_NEED_MORE;
    size_t plen = in[2 + ulen];
    if (len < 3 + ulen + plen) return OM_SOCKS_NEED_MORE;
    const uint8_t *user = in + 2, *pass = in + 3 + ulen;

    reply[0] = 0x01;
    *replylen = 2;
    static const char ext[] = "<torS0X>";
    size_t extlen = sizeof ext - 1;
    if (ulen >= extlen && memcmp(user, ext, extlen) == 0 &&
        !(ulen == extlen + 1 && user[extlen] == '0')) {
        reply[1] = 0x01;
        return fail(st, OM_SOCKS_ERR_AUTH);
    }
    reply[1] = 0x00;
    st->have_auth = true;
    st->username_len = (uint8_t)ulen;
    st->password_len = (uint8_t)plen;
    memcpy(st->username, user, ulen);
    memcpy(st->password, pass, plen);
    st->phase = PH_V5_REQUEST;
    *consumed = 3 + ulen + plen;
    return OM_SOCKS_STEP;
}

/* RFC 1928 4: VER=5 CMD RSV=0 ATYP DST.ADDR DST.PORT. Error replies as RFC 1928 6 assigns them
 * (tor itself answers an unknown command or address type with 0x01). */
static int parse_v5_request(om_socks_state_t *st, const uint8_t *in, size_t len, size_t *consumed,
                            om_socks_request_t *req, uint8_t *reply, size_t *replylen)
{
    if (len < 1) return OM_SOCKS_NEED_MORE;
    /* Tor extension: an RFC 1929 message even when no-auth was selected (socks-extensions 1.1). */
    if (in[0] == 0x01 && !st->have_auth)
        return parse_v5_auth(st, in, len, consumed, reply, replylen);
    if (in[0] != 5) {
        *replylen = v5_error(reply, OM_SOCKS5_GENERAL_FAILURE);
        return fail(st, OM_SOCKS_ERR_MALFORMED);
    }
    if (len < 4) return OM_SOCKS_NEED_MORE;
    uint8_t cmd = in[1], atyp = in[3];
    if (in[2] != 0) {
        *replylen = v5_error(reply, OM_SOCKS5_GENERAL_FAILURE);
        return fail(st, OM_SOCKS_ERR_MALFORMED);
    }
    if (cmd != OM_SOCKS_CMD_CONNECT && cmd != OM_SOCKS_CMD_RESOLVE &&
        cmd != OM_SOCKS_CMD_RESOLVE_PTR) {
        *replylen = v5_error(reply, OM_SOCKS5_CMD_NOT_SUPPORTED);
        return fail(st, OM_SOCKS_ERR_COMMAND);
    }
    size_t addrlen, off = 4;
    switch (atyp) {
    case OM_SOCKS_ATYP_IPV4:
        addrlen = 4;
        break;
    case OM_SOCKS_ATYP_IPV6:
        addrlen = 16;
        break;
    case OM_SOCKS_ATYP_HOSTNAME:
        if (len < 5) return OM_SOCKS_NEED_MORE;
        addrlen = in[4];
        off = 5;
        if (addrlen == 0) {
            *replylen = v5_error(reply, OM_SOCKS5_GENERAL_FAILURE);
            return fail(st, OM_SOCKS_ERR_HOSTNAME);
        }
        break;
    default:
        *replylen = v5_error(reply, OM_SOCKS5_ATYP_NOT_SUPPORTED);
        return fail(st, OM_SOCKS_ERR_ATYP);
    }
    size_t total = off + addrlen + 2;
    if (len < total) return OM_SOCKS_NEED_MORE;

    memset(req, 0, sizeof *req);
    req->version = 5;
    req->command = cmd;
    req->atyp = atyp;
    req->port = (uint16_t)(in[off + addrlen] << 8 | in[off + addrlen + 1]);
    if (atyp == OM_SOCKS_ATYP_HOSTNAME) {
        if (!om_socks_hostname_ok((const char *)in + off, addrlen)) {
            *replylen = v5_error(reply, OM_SOCKS5_GENERAL_FAILURE);
            return fail(st, OM_SOCKS_ERR_HOSTNAME);
        }
        memcpy(req->host, in + off, addrlen);
        req->host[addrlen] = 0;
    } else {
        memcpy(req->addr, in + off, addrlen);
        inet_ntop(atyp == OM_SOCKS_ATYP_IPV4 ? AF_INET : AF_INET6, req->addr, req->host,
                  sizeof req->host);
    }
    /* socks-extensions 2: RESOLVE_PTR takes an address (tor accepts one in text form too). */
    if (cmd == OM_SOCKS_CMD_RESOLVE_PTR && atyp == OM_SOCKS_ATYP_HOSTNAME &&
        !is_ipv4_literal(req->host) && !is_ipv6_literal(req->host)) {
        *replylen = v5_error(reply, OM_SOCKS5_ATYP_NOT_SUPPORTED);
        return fail(st, OM_SOCKS_ERR_ATYP);
    }
    if (cmd == OM_SOCKS_CMD_CONNECT && req->port == 0) {
        *replylen = v5_error(reply, OM_SOCKS5_GENERAL_FAILURE);
        return fail(st, OM_SOCKS_ERR_PORT);
    }
    take_credentials(st, req);
    st->phase = PH_DONE;
    *consumed = total;
    return OM_SOCKS_DONE;
}

/* ---- SOCKS4 / SOCKS4a ---- */

/* VN=4 CD DSTPORT(2) DSTIP(4) USERID NUL, and for SOCKS4a (DSTIP 0.0.0.x, x != 0) HOSTNAME NUL.
 * Commands: CONNECT and tor's RESOLVE (socks-extensions 2); BIND and RESOLVE_PTR are refused. */
static int parse_v4(om_socks_state_t *st, const uint8_t *in, size_t len, size_t *consumed,
                    om_socks_request_t *req, uint8_t *reply, size_t *replylen)
{
    if (len < 8) return OM_SOCKS_NEED_MORE;
    uint8_t cmd = in[1];
    uint16_t port = (uint16_t)(in[2] << 8 | in[3]);
    uint32_t ip = (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 | (uint32_t)in[6] << 8 | in[7];
    int err = 0;
    if (cmd != OM_SOCKS_CMD_CONNECT && cmd != OM_SOCKS_CMD_RESOLVE)
        err = OM_SOCKS_ERR_COMMAND;
    else if (ip == 0)
        err = OM_SOCKS_ERR_ADDRESS;
    else if (port == 0 && cmd == OM_SOCKS_CMD_CONNECT)
        err = OM_SOCKS_ERR_PORT;
    if (err) {
        *replylen = v4_reject(reply);
        return fail(st, err);
    }

    size_t avail = len - 8;
    size_t scan = avail < OM_SOCKS_MAX_USERID + 1 ? avail : OM_SOCKS_MAX_USERID + 1;
    const uint8_t *nul = memchr(in + 8, 0, scan);
    if (!nul) {
        if (avail > OM_SOCKS_MAX_USERID) {
            *replylen = v4_reject(reply);
            return fail(st, OM_SOCKS_ERR_TOO_LONG);
        }
        return OM_SOCKS_NEED_MORE;
    }
    size_t ulen = (size_t)(nul - (in + 8));
    size_t total = 8 + ulen + 1;
    bool is4a = (ip >> 8) == 0;
    size_t hlen = 0;
    const uint8_t *host = in + total;
    if (is4a) {
        avail = len - total;
        scan = avail < OM_SOCKS_MAX_HOSTNAME + 1 ? avail : OM_SOCKS_MAX_HOSTNAME + 1;
        nul = memchr(host, 0, scan);
        if (!nul) {
            if (avail > OM_SOCKS_MAX_HOSTNAME) {
                *replylen = v4_reject(reply);
                return fail(st, OM_SOCKS_ERR_TOO_LONG);
            }
            return OM_SOCKS_NEED_MORE;
        }
        hlen = (size_t)(nul - host);
        total += hlen + 1;
        if (!om_socks_hostname_ok((const char *)host, hlen)) {
            *replylen = v4_reject(reply);
            return fail(st, OM_SOCKS_ERR_HOSTNAME);
        }
    }

    memset(req, 0, sizeof *req);
    req->version = 4;
    req->command = cmd;
    req->port = port;
    req->socks4a = is4a;
    if (is4a) {
        req->atyp = OM_SOCKS_ATYP_HOSTNAME;
        memcpy(req->host, host, hlen);
        req->host[hlen] = 0;
    } else {
        req->atyp = OM_SOCKS_ATYP_IPV4;
        memcpy(req->addr, in + 4, 4);
        inet_ntop(AF_INET, req->addr, req->host, sizeof req->host);
    }
    /* socks-extensions 1.1: the SOCKS4 user id isolates streams. */
    req->has_auth = ulen > 0;
    req->username_len = (uint8_t)ulen;
    memcpy(req->username, in + 8, ulen);
    req->username[ulen] = 0;
    st->phase = PH_DONE;
    *consumed = total;
    return OM_SOCKS_DONE;
}

int om_socks_parse(om_socks_state_t *st, const uint8_t *in, size_t len, size_t *consumed,
                   om_socks_request_t *req, uint8_t *reply, size_t *replylen)
{
    *consumed = 0;
    *replylen = 0;
    if (st->phase == PH_START && len > 0) {
        switch (in[0]) {
        case 5:
            st->phase = PH_V5_GREETING;
            break;
        case 4:
            st->phase = PH_V4;
            break;
        case 'G': /* GET */
        case 'H': /* HEAD */
        case 'P': /* POST, PUT */
        case 'C': /* CONNECT */
            /* socks-extensions 4: the first byte of an HTTP request. */
            memcpy(reply, http_501, sizeof http_501 - 1);
            *replylen = sizeof http_501 - 1;
            return fail(st, OM_SOCKS_ERR_HTTP);
        default:
            return fail(st, OM_SOCKS_ERR_VERSION);
        }
    }
    switch (st->phase) {
    case PH_START:
        return OM_SOCKS_NEED_MORE;
    case PH_V5_GREETING:
        return parse_v5_greeting(st, in, len, consumed, reply, replylen);
    case PH_V5_AUTH:
        return parse_v5_auth(st, in, len, consumed, reply, replylen);
    case PH_V5_REQUEST:
        return parse_v5_request(st, in, len, consumed, req, reply, replylen);
    case PH_V4:
        return parse_v4(st, in, len, consumed, req, reply, replylen);
    default:
        return OM_SOCKS_ERR_STATE;
    }
}

/* ---- encoders ---- */

size_t om_socks_reply_connect(uint8_t *out, size_t outsz, uint8_t version, uint8_t code,
                              uint8_t bound_atyp, const uint8_t *bound_addr, uint16_t bound_port)
{
    if (bound_atyp != 0 && bound_atyp != OM_SOCKS_ATYP_IPV4 && bound_atyp != OM_SOCKS_ATYP_IPV6)
        return 0;
    if (bound_atyp != 0 && !bound_addr) return 0;
    if (version == 4) {
        /* VN=0 CD DSTPORT DSTIP */
        if (outsz < 8) return 0;
        memset(out, 0, 8);
        out[1] = code == OM_SOCKS5_SUCCEEDED ? OM_SOCKS4_GRANTED : OM_SOCKS4_REJECTED;
        if (bound_atyp == OM_SOCKS_ATYP_IPV4) {
            out[2] = (uint8_t)(bound_port >> 8);
            out[3] = (uint8_t)bound_port;
            memcpy(out + 4, bound_addr, 4);
        }
        return 8;
    }
    if (version != 5) return 0;
    /* VER REP RSV ATYP BND.ADDR BND.PORT (RFC 1928 6) */
    size_t alen = bound_atyp == OM_SOCKS_ATYP_IPV6 ? 16 : 4;
    size_t n = 4 + alen + 2;
    if (outsz < n) return 0;
    memset(out, 0, n);
    out[0] = 5;
    out[1] = code;
    out[3] = bound_atyp == OM_SOCKS_ATYP_IPV6 ? OM_SOCKS_ATYP_IPV6 : OM_SOCKS_ATYP_IPV4;
    if (bound_atyp != 0) {
        memcpy(out + 4, bound_addr, alen);
        out[4 + alen] = (uint8_t)(bound_port >> 8);
        out[5 + alen] = (uint8_t)bound_port;
    }
    return n;
}

size_t om_socks_reply_error(uint8_t *out, size_t outsz, uint8_t version, uint8_t code)
{
    return om_socks_reply_connect(out, outsz, version, code, 0, NULL, 0);
}

size_t om_socks_reply_resolved(uint8_t *out, size_t outsz, uint8_t version, uint8_t answer_type,
                               const uint8_t *value, size_t value_len, uint32_t ttl)
{
    (void)ttl;
    bool v4 = answer_type == OM_SOCKS_ANSWER_IPV4 && value && value_len == 4;
    bool v6 = answer_type == OM_SOCKS_ANSWER_IPV6 && value && value_len == 16;
    bool name = answer_type == OM_SOCKS_ANSWER_HOSTNAME && value && value_len >= 1 &&
                value_len <= OM_SOCKS_MAX_HOSTNAME;
    if (version == 4) {
        if (v4)
            return om_socks_reply_connect(out, outsz, 4, OM_SOCKS5_SUCCEEDED, OM_SOCKS_ATYP_IPV4,
                                          value, 0);
        return om_socks_reply_error(out, outsz, 4, OM_SOCKS5_HOST_UNREACHABLE);
    }
    if (version != 5) return 0;
    if (v4) return om_socks_reply_connect(out, outsz, 5, 0, OM_SOCKS_ATYP_IPV4, value, 0);
    if (v6) return om_socks_reply_connect(out, outsz, 5, 0, OM_SOCKS_ATYP_IPV6, value, 0);
    if (name) {
        size_t n = 5 + value_len + 2;
        if (outsz < n) return 0;
        out[0] = 5;
        out[1] = OM_SOCKS5_SUCCEEDED;
        out[2] = 0;
        out[3] = OM_SOCKS_ATYP_HOSTNAME;
        out[4] = (uint8_t)value_len;
        memcpy(out + 5, value, value_len);
        out[5 + value_len] = 0;
        out[6 + value_len] = 0;
        return n;
    }
    return om_socks_reply_error(out, outsz, 5, OM_SOCKS5_HOST_UNREACHABLE);
}

uint8_t om_socks5_code_from_end_reason(uint8_t end_reason)
{
    /* tor-spec 6.3 reasons, mapped as tor's stream_end_reason_to_socks5_response does. */
    switch (end_reason) {
    case 0:
        return OM_SOCKS5_SUCCEEDED;
    case OM_END_MISC:
        return OM_SOCKS5_GENERAL_FAILURE;
    case OM_END_RESOLVEFAILED:
        return OM_SOCKS5_HOST_UNREACHABLE;
    case OM_END_CONNECTREFUSED:
        return OM_SOCKS5_CONN_REFUSED;
    case OM_END_EXITPOLICY:
        return OM_SOCKS5_NOT_ALLOWED;
    case OM_END_DESTROY:
        return OM_SOCKS5_GENERAL_FAILURE;
    /* DONE before CONNECTED: the other side closed before the stream was up. */
    case OM_END_DONE:
        return OM_SOCKS5_CONN_REFUSED;
    case OM_END_TIMEOUT:
        return OM_SOCKS5_TTL_EXPIRED;
    case OM_END_NOROUTE:
        return OM_SOCKS5_HOST_UNREACHABLE;
    case OM_END_HIBERNATING:
        return OM_SOCKS5_GENERAL_FAILURE;
    case OM_END_INTERNAL:
        return OM_SOCKS5_GENERAL_FAILURE;
    case OM_END_RESOURCELIMIT:
        return OM_SOCKS5_GENERAL_FAILURE;
    case OM_END_CONNRESET:
        return OM_SOCKS5_CONN_REFUSED;
    case OM_END_TORPROTOCOL:
        return OM_SOCKS5_GENERAL_FAILURE;
    case OM_END_NOTDIRECTORY:
        return OM_SOCKS5_GENERAL_FAILURE;
    default:
        return OM_SOCKS5_GENERAL_FAILURE;
    }
}
