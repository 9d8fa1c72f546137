/* relay_bodies.h — bodies of relay messages (tor-spec 5.1.2, 6.2, 6.3, 6.4): BEGIN, CONNECTED,
 * END, RESOLVE/RESOLVED, EXTEND2 (link specifiers) and EXTENDED2. Encoders and bounds-checked
 * decoders, shared by the OP (client side) and the OR (relay side). */
#ifndef OM_CORE_RELAY_BODIES_H
#define OM_CORE_RELAY_BODIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/link_cells.h"
#include "core/relay_msg.h"

/* ---- BEGIN (6.2) ---- */
#define OM_BEGIN_FLAG_IPV6_OK        (1u << 0)
#define OM_BEGIN_FLAG_IPV4_NOT_OK    (1u << 1)
#define OM_BEGIN_FLAG_IPV6_PREFERRED (1u << 2)
#define OM_MAX_HOSTNAME_LEN          255
typedef struct {
    char host[OM_MAX_HOSTNAME_LEN + 1]; /* hostname, dotted quad, or IPv6 without brackets */
    uint16_t port;
    uint32_t flags;
} om_begin_t;
/* ADDRPORT NUL FLAGS; hostnames are lower-cased. Returns body length or -1. */
int om_begin_encode(const om_begin_t *b, uint8_t *out, size_t outsz);
int om_begin_parse(om_begin_t *b, const uint8_t *body, size_t len);

/* ---- CONNECTED (6.2) ---- */
typedef struct {
    om_addr_t addr; /* type 0 if the body was empty (BEGIN_DIR) */
    uint32_t ttl;
} om_connected_t;
int om_connected_parse(om_connected_t *c, const uint8_t *body, size_t len);
int om_connected_encode(const om_connected_t *c, uint8_t *out, size_t outsz);

/* ---- RESOLVED (6.4) ---- */
#define OM_RESOLVED_HOSTNAME           0x00
#define OM_RESOLVED_IPV4               0x04
#define OM_RESOLVED_IPV6               0x06
#define OM_RESOLVED_ERROR_TRANSIENT    0xF0
#define OM_RESOLVED_ERROR_NONTRANSIENT 0xF1
#define OM_RESOLVED_MAX_ANSWERS        16
typedef struct {
    uint8_t type;
    uint8_t len;
    uint8_t value[255];
    uint32_t ttl;
} om_resolved_answer_t;
typedef struct {
    size_t n;
    om_resolved_answer_t answers[OM_RESOLVED_MAX_ANSWERS];
} om_resolved_t;
int om_resolved_parse(om_resolved_t *r, const uint8_t *body, size_t len);
int om_resolved_encode(const om_resolved_t *r, uint8_t *out, size_t outsz);

/* ---- EXTEND2 (5.1.2) ---- */
#define OM_LS_IPV4       0
#define OM_LS_IPV6       1
#define OM_LS_LEGACY_ID  2
#define OM_LS_ED25519_ID 3
typedef struct {
    bool has_ipv4;
    uint8_t ipv4[4];
    uint16_t ipv4_port;
    bool has_ipv6;
    uint8_t ipv6[16];
    uint16_t ipv6_port;
    bool has_rsa_id;
    uint8_t rsa_id[20];
    bool has_ed_id;
    uint8_t ed_id[32];
    uint16_t htype;
    uint16_t hlen;
    uint8_t hdata[OM_RELAY_PAYLOAD_LEN];
} om_extend2_t;
/* Link specifiers in the order [00] [02] [03] [01] (5.1.2). Returns body length or -1. */
int om_extend2_encode(const om_extend2_t *e, uint8_t *out, size_t outsz);
/* Unknown specifiers are ignored; a duplicate identity specifier is malformed; only the first
 * IPv4 / IPv6 is used. */
int om_extend2_parse(om_extend2_t *e, const uint8_t *body, size_t len);

/* ---- EXTENDED2 / CREATED2 body: HLEN(2) HDATA ---- */
/* Sets *hdata and *hlen to point into body. */
int om_created2_parse(const uint8_t *body, size_t len, const uint8_t **hdata, size_t *hlen);

#endif
