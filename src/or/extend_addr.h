/* extend_addr.h — where a relay connects to extend a circuit: the address an EXTEND2's link
 * specifiers give (tor-spec 5.1.2: IPv4 [00] and/or IPv6 [01], the first of each type), the
 * IPv4 one when it is usable, else the IPv6 one; and which destinations count as private
 * (refused unless private extends are allowed, as tor's ExtendAllowPrivateAddresses under
 * TestingTorNetwork). Pure functions: no I/O, no logging. */
#ifndef OM_OR_EXTEND_ADDR_H
#define OM_OR_EXTEND_ADDR_H

#include <stdbool.h>
#include <stdint.h>

#include <netinet/in.h>

#include "core/relay_bodies.h"

typedef enum {
    OM_EXTEND_ADDR_OK,      /* dest is set */
    OM_EXTEND_ADDR_NONE,    /* no IPv4 or IPv6 link specifier with a non-zero port */
    OM_EXTEND_ADDR_PRIVATE, /* only private addresses given, and private extends are refused */
} om_extend_addr_result_t;

typedef struct {
    int family;                  /* AF_INET or AF_INET6 */
    char host[INET6_ADDRSTRLEN]; /* numeric; IPv6 without brackets (what om_tls_connect takes) */
    uint16_t port;
} om_extend_dest_t;

/* Choose the address to connect to for e (a parsed EXTEND2): its IPv4 address if it has one with
 * a non-zero port that is not private (or allow_private), otherwise its IPv6 address under the
 * same conditions. */
om_extend_addr_result_t om_extend_choose_addr(const om_extend2_t *e, bool allow_private,
                                              om_extend_dest_t *dest);

/* 0/8, 10/8, 127/8, 169.254/16, 172.16/12, 192.168/16, and 224/3 (multicast and reserved). */
bool om_extend_ipv4_is_private(const uint8_t a[4]);
/* ::/96 (unspecified, loopback, IPv4-compatible) and ::ffff:0:0/96 (IPv4-mapped) and the NAT64
 * prefix 64:ff9b::/96 by their embedded IPv4 address; fc00::/7 (unique local), fe80::/10
 * (link-local), fec0::/10 (site-local), ff00::/8 (multicast). */
bool om_extend_ipv6_is_private(const uint8_t a[16]);

#endif
