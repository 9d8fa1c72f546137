/* socks.h — the SOCKS wire protocol of the onion proxy's SOCKS port, with no I/O: an incremental,
 * bounds-checked parser of what a client sends (SOCKS4, SOCKS4a, SOCKS5 with RFC 1929
 * username/password, tor's RESOLVE/RESOLVE_PTR extensions, and the HTTP-request check), and
 * encoders of the replies. Specs: RFC 1928, RFC 1929, the SOCKS4 and SOCKS4A protocol documents,
 * and tor's socks-extensions (spec.torproject.org/socks-extensions). Where a client's request is
 * refused, the parser says why (an OM_SOCKS_ERR_* code) and writes the error reply the protocol
 * has for it; the caller sends that reply and closes. */
#ifndef OM_OP_SOCKS_H
#define OM_OP_SOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Commands (RFC 1928 4; socks-extensions "Name lookup"). */
#define OM_SOCKS_CMD_CONNECT     0x01
#define OM_SOCKS_CMD_BIND        0x02
#define OM_SOCKS_CMD_UDP         0x03
#define OM_SOCKS_CMD_RESOLVE     0xF0
#define OM_SOCKS_CMD_RESOLVE_PTR 0xF1

/* SOCKS5 address types (RFC 1928 5). */
#define OM_SOCKS_ATYP_IPV4     0x01
#define OM_SOCKS_ATYP_HOSTNAME 0x03
#define OM_SOCKS_ATYP_IPV6     0x04

/* SOCKS5 reply codes (RFC 1928 6). */
#define OM_SOCKS5_SUCCEEDED          0x00
#define OM_SOCKS5_GENERAL_FAILURE    0x01
#define OM_SOCKS5_NOT_ALLOWED        0x02
#define OM_SOCKS5_NET_UNREACHABLE    0x03
#define OM_SOCKS5_HOST_UNREACHABLE   0x04
#define OM_SOCKS5_CONN_REFUSED       0x05
#define OM_SOCKS5_TTL_EXPIRED        0x06
#define OM_SOCKS5_CMD_NOT_SUPPORTED  0x07
#define OM_SOCKS5_ATYP_NOT_SUPPORTED 0x08

/* SOCKS4 reply codes. */
#define OM_SOCKS4_GRANTED  0x5A
#define OM_SOCKS4_REJECTED 0x5B

/* Answer types for om_socks_reply_resolved: the RELAY_RESOLVED types of tor-spec 6.4. */
#define OM_SOCKS_ANSWER_HOSTNAME        0x00
#define OM_SOCKS_ANSWER_IPV4            0x04
#define OM_SOCKS_ANSWER_IPV6            0x06
#define OM_SOCKS_ANSWER_ERROR_TRANSIENT 0xF0
#define OM_SOCKS_ANSWER_ERROR           0xF1

/* Limits. A hostname is 1..255 bytes in every form (SOCKS5's length byte; SOCKS4a is held to the
 * same); a SOCKS4 user id is at most 255 bytes. The longest message a client can send in one
 * step is a SOCKS4a request: 8 + 255 + 1 + 255 + 1 bytes. */
#define OM_SOCKS_MAX_HOSTNAME 255
#define OM_SOCKS_MAX_USERID   255
#define OM_SOCKS_MAX_CRED     255
#define OM_SOCKS_MAX_MSG      520
/* Room the caller must give om_socks_parse for a reply (the HTTP 501 page is the longest). */
#define OM_SOCKS_REPLY_MAX 1024
/* Room an encoder needs at most: a SOCKS5 reply with a 255-byte hostname. */
#define OM_SOCKS_ENCODED_MAX (4 + 1 + 255 + 2)

/* A complete client request. host is NUL-terminated text: the hostname as the client gave it, or
 * the IPv4 ("192.0.2.1") / IPv6 ("2001:db8::1", no brackets) address when the client sent one in
 * binary (atyp IPv4/IPv6; SOCKS4 without 4a); addr then holds the raw bytes (4 or 16).
 * Credentials (SOCKS5 RFC 1929 username/password, or the SOCKS4 user id as username with an
 * empty password) are only for stream isolation; has_auth says the client sent some, even if
 * empty. They may contain any byte, so use the lengths. */
typedef struct {
    uint8_t version; /* 4 or 5 */
    uint8_t command; /* OM_SOCKS_CMD_CONNECT / _RESOLVE / _RESOLVE_PTR */
    uint8_t atyp;    /* how the address came: OM_SOCKS_ATYP_* (SOCKS4a: HOSTNAME) */
    bool socks4a;
    char host[OM_SOCKS_MAX_HOSTNAME + 1];
    uint8_t addr[16];
    uint16_t port; /* 0 only for RESOLVE / RESOLVE_PTR */
    bool has_auth;
    uint8_t username_len, password_len;
    uint8_t username[OM_SOCKS_MAX_CRED + 1]; /* NUL-terminated too, for convenience */
    uint8_t password[OM_SOCKS_MAX_CRED + 1];
} om_socks_request_t;

/* Parser state for one client connection. Initialise with om_socks_state_init; clear with
 * om_socks_state_clear (wipes any credentials it holds). */
typedef struct {
    uint8_t phase;       /* internal */
    uint8_t method;      /* SOCKS5 method we selected (0x00 or 0x02) */
    bool prefer_no_auth; /* like tor's PreferSOCKSNoAuth: pick 0x00 when both are offered */
    bool have_auth;
    uint8_t username_len, password_len;
    uint8_t username[OM_SOCKS_MAX_CRED];
    uint8_t password[OM_SOCKS_MAX_CRED];
} om_socks_state_t;

/* om_socks_parse results. */
enum {
    OM_SOCKS_NEED_MORE = 0, /* nothing complete yet; call again with more bytes */
    OM_SOCKS_STEP = 1,      /* a handshake step (SOCKS5 method selection or RFC 1929 auth) is
                               done: send the reply, then call again with the rest of the input */
    OM_SOCKS_DONE = 2,      /* *req holds the complete request; no reply (the caller answers
                               once it knows the outcome) */
};

/* om_socks_parse errors: the connection must be closed after sending the reply, if any. */
enum {
    OM_SOCKS_ERR_VERSION = -1,   /* first byte is not SOCKS4/5 nor an HTTP method; no reply */
    OM_SOCKS_ERR_HTTP = -2,      /* an HTTP request: the reply is an HTTP 501 page */
    OM_SOCKS_ERR_NO_METHOD = -3, /* SOCKS5 greeting offers neither 0x00 nor 0x02: 05 FF */
    OM_SOCKS_ERR_AUTH = -4,      /* bad RFC 1929 message, or a "<torS0X>" username other than
                                    format 0 (prop 351): reply 01 01 */
    OM_SOCKS_ERR_MALFORMED = -5, /* SOCKS5 request: wrong version or reserved byte: 0x01 */
    OM_SOCKS_ERR_COMMAND = -6,   /* BIND, UDP ASSOCIATE or unknown command: 0x07 / 0x5B */
    OM_SOCKS_ERR_ATYP = -7,      /* unknown address type, or RESOLVE_PTR of a non-address: 0x08 */
    OM_SOCKS_ERR_HOSTNAME = -8,  /* empty hostname, NUL in it, or not a valid name/address: 0x01 /
                                    0x5B */
    OM_SOCKS_ERR_TOO_LONG = -9,  /* SOCKS4 user id or SOCKS4a hostname over 255 bytes: 0x5B */
    OM_SOCKS_ERR_PORT = -10,     /* CONNECT to port 0: 0x01 / 0x5B */
    OM_SOCKS_ERR_ADDRESS = -11,  /* SOCKS4 destination 0.0.0.0: 0x5B */
    OM_SOCKS_ERR_STATE = -12,    /* called after DONE or an error */
};

void om_socks_state_init(om_socks_state_t *st);
void om_socks_state_clear(om_socks_state_t *st);

/* Parse what the client sent so far. in/len is all unprocessed input (the caller keeps bytes
 * that were not consumed and passes them again with more). On return *consumed says how many
 * leading bytes of in were used (0 when more are needed), and *replylen how many bytes of reply
 * (which must have room for OM_SOCKS_REPLY_MAX) to send to the client (0 for none). Returns an
 * OM_SOCKS_NEED_MORE/STEP/DONE value, or a negative OM_SOCKS_ERR_*. Bytes after a complete
 * request are not consumed: they are the client's optimistic data. */
int om_socks_parse(om_socks_state_t *st, const uint8_t *in, size_t len, size_t *consumed,
                   om_socks_request_t *req, uint8_t *reply, size_t *replylen);

/* A short name of an OM_SOCKS_ERR_* code, for logs. */
const char *om_socks_err_name(int err);

/* Validate a destination as tor does before using it: an IPv4 or IPv6 literal (IPv6 optionally in
 * brackets), or a hostname of dot-separated labels of letters, digits, '-' and '_', no label
 * empty or starting with '-', an optional final '.'. len is the byte length (NUL inside fails). */
bool om_socks_hostname_ok(const char *host, size_t len);

/* True if host (NUL-terminated) names an onion service: ends in ".onion" (any case), with an
 * optional final '.'. */
bool om_socks_host_is_onion(const char *host);

/* ---- reply encoders. Each returns the reply length, or 0 if outsz is too small or an argument
 * is invalid. version is 4 or 5. code is always a SOCKS5 reply code (OM_SOCKS5_*): SOCKS4
 * replies carry 0x5A for OM_SOCKS5_SUCCEEDED and 0x5B for anything else. ---- */

/* Reply to CONNECT (success or error). bound_atyp is OM_SOCKS_ATYP_IPV4 or _IPV6 with bound_addr
 * (4 or 16 bytes) and bound_port, or 0 / NULL for an all-zero IPv4 address and port, as tor
 * sends. SOCKS4 can only carry IPv4 (an IPv6 bound address is sent as zeros). */
size_t om_socks_reply_connect(uint8_t *out, size_t outsz, uint8_t version, uint8_t code,
                              uint8_t bound_atyp, const uint8_t *bound_addr, uint16_t bound_port);

/* Reply to an error at the request stage: om_socks_reply_connect with a zero address. */
size_t om_socks_reply_error(uint8_t *out, size_t outsz, uint8_t version, uint8_t code);

/* Reply to RESOLVE / RESOLVE_PTR with an answer of the RELAY_RESOLVED type answer_type
 * (OM_SOCKS_ANSWER_*): IPv4 (4 bytes) and IPv6 (16) for RESOLVE, HOSTNAME (1..255 bytes) for
 * RESOLVE_PTR, the address in the reply's bound address with port 0 (socks-extensions 2). An
 * error type, or an answer SOCKS4 cannot carry (IPv6, hostname), gives a failure: SOCKS5 0x04 host
 * unreachable, SOCKS4 0x5B. ttl is accepted for the caller's symmetry with RELAY_RESOLVED; SOCKS
 * has no field for it. */
size_t om_socks_reply_resolved(uint8_t *out, size_t outsz, uint8_t version, uint8_t answer_type,
                               const uint8_t *value, size_t value_len, uint32_t ttl);

/* The SOCKS5 reply code for a RELAY_END reason (tor-spec 6.3), as tor maps them. 0 (no reason)
 * maps to success; unknown reasons to general failure. */
uint8_t om_socks5_code_from_end_reason(uint8_t end_reason);

#endif
