/* link_cells.h — bodies of the link-handshake cells: VERSIONS (tor-spec 4.1), AUTH_CHALLENGE
 * (4.3), NETINFO (4.5), PADDING_NEGOTIATE (padding-spec 2.2), and the CERTS cell's list of
 * (type, body) entries (4.2; the certificates themselves are in cert.h). Every parser checks
 * bounds and returns -1 on malformed input. */
#ifndef OM_CORE_LINK_CELLS_H
#define OM_CORE_LINK_CELLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cell.h"

#define OM_LINK_PROTO_MIN 3
#define OM_LINK_PROTO_MAX 5

/* ---- VERSIONS ---- */
#define OM_VERSIONS_MAX 64
typedef struct {
    uint16_t versions[OM_VERSIONS_MAX];
    size_t n;
} om_versions_t;
/* Body is a list of 2-byte versions; an odd length is malformed. More than OM_VERSIONS_MAX
 * entries: the extras are ignored (not an error). */
int om_versions_parse(om_versions_t *out, const uint8_t *body, size_t len);
/* Builds a VERSIONS var cell listing versions lo..hi. */
om_var_cell_t *om_versions_cell(uint16_t lo, uint16_t hi);
/* Highest version in both [lo,hi] and the peer's list, or 0 if none. */
int om_versions_negotiate(const om_versions_t *peer, uint16_t lo, uint16_t hi);

/* ---- addresses (NETINFO, EXTEND2 link specifiers, CONNECTED) ---- */
typedef struct {
    uint8_t type; /* 4 = IPv4, 6 = IPv6, 0 = none / unrecognized */
    uint8_t addr[16];
} om_addr_t;
/* "127.0.0.1" / "::1" text form; out at least 46 bytes. Returns out, or NULL if the type is
 * not 4 or 6 or out is too small. */
const char *om_addr_to_string(const om_addr_t *a, char *out, size_t outsz);
/* Parses a dotted-quad IPv4 or an IPv6 address (optionally in brackets). 0 or -1. */
int om_addr_from_string(om_addr_t *a, const char *s);

/* ---- NETINFO ---- */
#define OM_NETINFO_MAX_ADDRS 8
typedef struct {
    uint32_t timestamp;
    om_addr_t other;    /* the address the sender sees us at */
    uint8_t n_my_addrs; /* how many are in my_addrs: the first OM_NETINFO_MAX_ADDRS present */
    om_addr_t my_addrs[OM_NETINFO_MAX_ADDRS];
} om_netinfo_t;
/* Parses a NETINFO fixed-cell payload (509 bytes). Unknown address types, and types 4/6 with
 * the wrong length ("should be ignored"), are kept as type 0 and skipped by their length. A
 * truncated address or a missing NMYADDR is malformed; bytes after the last address are ignored.
 * Every address is bounds-checked even when only the first OM_NETINFO_MAX_ADDRS are kept. */
int om_netinfo_parse(om_netinfo_t *out, const uint8_t *payload, size_t len);
/* Fills a 509-byte payload (zero-padded). A type-0 address is sent as type 0, length 0.
 * -1 if n_my_addrs > OM_NETINFO_MAX_ADDRS. */
int om_netinfo_encode(const om_netinfo_t *in, uint8_t payload[OM_CELL_PAYLOAD_LEN]);

/* ---- AUTH_CHALLENGE ---- */
#define OM_AUTH_CHALLENGE_LEN              32
#define OM_AUTH_METHODS_MAX                16
#define OM_AUTHTYPE_RSA_SHA256_TLSSECRET   1
#define OM_AUTHTYPE_ED25519_SHA256_RFC5705 3
typedef struct {
    uint8_t challenge[OM_AUTH_CHALLENGE_LEN];
    uint16_t n_methods;                    /* how many are in methods (<= OM_AUTH_METHODS_MAX) */
    uint16_t methods[OM_AUTH_METHODS_MAX]; /* the first OM_AUTH_METHODS_MAX listed */
} om_auth_challenge_t;
/* Challenge(32) N_Methods(2) Methods(2*N). Truncated methods are malformed; trailing bytes are
 * ignored (tor-spec 4.3). */
int om_auth_challenge_parse(om_auth_challenge_t *out, const uint8_t *body, size_t len);
/* NULL if n_methods > OM_AUTH_METHODS_MAX. */
om_var_cell_t *om_auth_challenge_cell(const om_auth_challenge_t *in);
bool om_auth_challenge_has_method(const om_auth_challenge_t *ac, uint16_t method);

/* ---- CERTS cell framing (the certificates themselves: cert.h) ---- */
#define OM_CERTS_MAX 16
typedef struct {
    uint8_t type;
    uint16_t len;
    const uint8_t *body; /* points into the parsed buffer */
} om_certs_entry_t;
typedef struct {
    size_t n;
    om_certs_entry_t certs[OM_CERTS_MAX];
} om_certs_list_t;
/* N(1) then N x {type(1) len(2) body(len)}; a truncated entry is malformed; more than
 * OM_CERTS_MAX entries is malformed. Bytes after the N-th entry are ignored (tor-spec 4.2: "Any
 * extra octets at the end of a CERTS cell MUST be ignored", which tor 0.4.9 also does). */
int om_certs_list_parse(om_certs_list_t *out, const uint8_t *body, size_t len);
om_var_cell_t *om_certs_list_cell(const om_certs_list_t *in);
/* The entry of that type, or NULL. Duplicates of one type are rejected by the verifier. */
const om_certs_entry_t *om_certs_list_find(const om_certs_list_t *l, uint8_t type);
size_t om_certs_list_count(const om_certs_list_t *l, uint8_t type);

/* ---- PADDING_NEGOTIATE (tor-spec 7.2, padding-spec 2.5) ----
 * Only version 0 with command 1 (stop) or 2 (start) is valid (as tor's parser); trailing
 * payload bytes are ignored. */
typedef struct {
    uint8_t version; /* 0 */
    uint8_t command; /* 1 = stop, 2 = start */
    uint16_t ito_low_ms;
    uint16_t ito_high_ms;
} om_padding_negotiate_t;
int om_padding_negotiate_parse(om_padding_negotiate_t *out, const uint8_t *payload, size_t len);
int om_padding_negotiate_encode(const om_padding_negotiate_t *in,
                                uint8_t payload[OM_CELL_PAYLOAD_LEN]);

#endif
