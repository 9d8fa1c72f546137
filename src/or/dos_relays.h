/* dos_relays.h — the addresses of the relays in our consensus and of the configured directory
 * authorities, for the DoS mitigation's exemption (tor's nodelist_probably_contains_address:
 * connections from a known relay's address are never counted or refused, since circuits may
 * re-enter the network through an exit). A sorted array rebuilt on each new consensus. */
#ifndef OM_OR_DOS_RELAYS_H
#define OM_OR_DOS_RELAYS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "dir/consensus.h"
#include "or/dos_addr.h"

typedef struct {
    om_dos_addr_t *addrs; /* sorted, without duplicates */
    size_t n;
} om_dos_relays_t;

/* Replace the set with the IPv4 and IPv6 addresses of c's routers (c may be NULL) and of auths.
 * 0, or -1 on allocation failure (the set is then left as it was). */
int om_dos_relays_build(om_dos_relays_t *s, const om_consensus_t *c,
                        const om_dir_authority_t *auths, size_t n_auths);
bool om_dos_relays_contains(const om_dos_relays_t *s, const om_dos_addr_t *a);
void om_dos_relays_clear(om_dos_relays_t *s);

#endif
