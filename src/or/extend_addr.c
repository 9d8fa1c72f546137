/* extend_addr.c — the address a relay connects to for an EXTEND2 (tor-spec 5.1.2) and the
 * private-destination rule for IPv4 and IPv6. */
#include "or/extend_addr.h"

#include <string.h>

#include <arpa/inet.h>

bool om_extend_ipv4_is_private(const uint8_t a[4])
{
    return a[0] == 0 || a[0] == 10 || a[0] == 127 || (a[0] == 169 && a[1] == 254) ||
           (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) || a[0] >= 224;
}

bool om_extend_ipv6_is_private(const uint8_t a[16])
{
    static const uint8_t compat[12] = {0};
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};
    /* An IPv6 address standing for an IPv4 one reaches what that IPv4 address reaches (:: and
     * ::1 are 0.0.0.0 and 0.0.0.1 here: private). */
    if (!memcmp(a, compat, 12) || !memcmp(a, mapped, 12) || !memcmp(a, nat64, 12))
        return om_extend_ipv4_is_private(a + 12);
    return (a[0] & 0xfe) == 0xfc ||                   /* fc00::/7 */
           (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || /* fe80::/10 */
           (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) || /* fec0::/10 */
           a[0] == 0xff;                              /* ff00::/8 */
}

om_extend_addr_result_t om_extend_choose_addr(const om_extend2_t *e, bool allow_private,
                                              om_extend_dest_t *dest)
{
    bool v4 = e->has_ipv4 && e->ipv4_port != 0;
    bool v6 = e->has_ipv6 && e->ipv6_port != 0;
    if (!v4 && !v6) return OM_EXTEND_ADDR_NONE;
    memset(dest, 0, sizeof *dest);
    if (v4 && (allow_private || !om_extend_ipv4_is_private(e->ipv4))) {
        dest->family = AF_INET;
        inet_ntop(AF_INET, e->ipv4, dest->host, sizeof dest->host);
        dest->port = e->ipv4_port;
        return OM_EXTEND_ADDR_OK;
    }
    if (v6 && (allow_private || !om_extend_ipv6_is_private(e->ipv6))) {
        dest->family = AF_INET6;
        inet_ntop(AF_INET6, e->ipv6, dest->host, sizeof dest->host);
        dest->port = e->ipv6_port;
        return OM_EXTEND_ADDR_OK;
    }
    return OM_EXTEND_ADDR_PRIVATE;
}
