/* nodelist.h — the OP's view of the network: the current verified consensus joined with the
 * microdescriptors it lists (by SHA-256 digest), and the predicates path selection uses. */
#ifndef OM_OP_NODELIST_H
#define OM_OP_NODELIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dir/consensus.h"
#include "dir/microdesc.h"

typedef struct {
    om_consensus_t *consensus; /* owned */
    om_microdesc_t *mds;       /* owned array; routers[i].md points into it */
    size_t n_mds, cap_mds;
} om_nodelist_t;

/* Usable for circuits at all: Running, Valid, has a microdescriptor with an ntor key. */
bool om_node_usable(const om_routerstatus_t *rs);
/* Supports congestion control (FlowCtrl=2) over ntor-v3. */
bool om_node_supports_cc(const om_routerstatus_t *rs);
bool om_node_supports_conflux(const om_routerstatus_t *rs);
/* Supports ntor-v3 circuit handshakes (Relay=4 in the "pr" line) and has an Ed25519 id. */
bool om_node_supports_ntor_v3(const om_routerstatus_t *rs);
/* Exit policy summary (microdescriptor "p"/"p6") allows this port (0: any port allowed by it). */
bool om_node_allows_exit_port(const om_routerstatus_t *rs, uint16_t port, bool ipv6);

/* Replace the consensus (takes ownership); microdescriptors that the new consensus still lists
 * are kept and re-linked. */
void om_nodelist_set_consensus(om_nodelist_t *nl, om_consensus_t *c);
/* Add parsed microdescriptors (copied); links them to routers whose m-line digest matches.
 * Returns how many were new and listed. */
size_t om_nodelist_add_mds(om_nodelist_t *nl, const om_microdesc_t *mds, size_t n);
/* Routers listed in the consensus whose microdescriptor is missing (digests, up to max). */
size_t om_nodelist_missing_mds(const om_nodelist_t *nl, uint8_t (*digests)[32], size_t max);
/* Fraction (0..1) of usable-for-paths bandwidth for which we have microdescriptors (tor's
 * "PathsNeededToBuildCircuits" measure, simplified: by guard/middle/exit bandwidth). */
double om_nodelist_path_fraction(const om_nodelist_t *nl);
void om_nodelist_clear(om_nodelist_t *nl);

#endif
