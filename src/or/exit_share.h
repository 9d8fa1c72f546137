/* exit_share.h — each client's share of the exit's outbound connections. The exit holds at most
 * OM_OR_EXIT_MAX_CONNECTIONS server connections at once (or_exit.h); without shares one client
 * could hold all of them. A share is keyed by the client address of the circuit's previous hop
 * when that hop is a client link (accepted, not authenticated as a relay), and by the circuit
 * otherwise (the usual case at an exit: the previous hop is a middle relay, which carries many
 * clients, so its address would be the wrong key); each key holds at most OM_EXIT_SHARE_MAX
 * connections. Entries exist only while they hold connections. */
#ifndef OM_OR_EXIT_SHARE_H
#define OM_OR_EXIT_SHARE_H

#include <stdbool.h>
#include <stddef.h>

#include "or/or_circuit.h"

#define OM_EXIT_SHARE_MAX 128 /* of OM_OR_EXIT_MAX_CONNECTIONS (4096): 1/32 */

typedef struct om_exit_share om_exit_share_t;
typedef struct om_exit_share_entry om_exit_share_entry_t;

/* max_per_key 0: OM_EXIT_SHARE_MAX. */
om_exit_share_t *om_exit_share_new(unsigned max_per_key);
void om_exit_share_free(om_exit_share_t *s);
/* One more connection for circ's key: true and *slot set, or false (the key's share is used up,
 * or no memory). */
bool om_exit_share_take(om_exit_share_t *s, const om_or_circ_t *circ, om_exit_share_entry_t **slot);
/* Give back the connection held in *slot (if any) and clear it. */
void om_exit_share_put(om_exit_share_t *s, om_exit_share_entry_t **slot);
/* Keys holding connections now. */
size_t om_exit_share_keys(const om_exit_share_t *s);

#endif
