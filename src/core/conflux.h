/* conflux.h — the client side of conflux (proposal 329, tor-spec "Conflux"): two or more
 * circuits to one exit linked into a set (CONFLUX_LINK / LINKED / LINKED_ACK with a shared
 * nonce), over which the exit spreads the stream cells it sends; each leg keeps its own
 * congestion control and SENDMEs, and the client puts the multiplexed cells back in order by
 * their sequence numbers (SWITCH moves a leg's count forward) before the streams see them.
 * Streams live on the set's primary leg and we send only on it, so we never send SWITCH. */
#ifndef OM_CORE_CONFLUX_H
#define OM_CORE_CONFLUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/circuit.h"

#define OM_CFX_NONCE_LEN     32
#define OM_CFX_LINK_BODY_LEN 50 /* version, nonce, last_seqno_sent, last_seqno_recv, desired_ux */
#define OM_CFX_SWITCH_LEN    4
#define OM_CFX_MAX_LEGS      4
/* Cells held out of order per set before the set is given up (tor bounds them by its OOM
 * handler; one set here is at most this many relay cells, about 8 MB). */
#define OM_CFX_MAX_OOO 16384
/* Cells held out of order by all sets of the process together (about 34 MB): past it the set
 * holding the most closes (tor counts its OOO queues in its OOM handler, which kills circuits). */
#define OM_CFX_MAX_OOO_TOTAL 65536

enum { /* desired_ux (trunnel conflux.trunnel) */
       OM_CFX_UX_NO_OPINION = 0,
       OM_CFX_UX_MIN_LATENCY = 1,
       OM_CFX_UX_LOW_MEM_LATENCY = 2,
       OM_CFX_UX_HIGH_THROUGHPUT = 3,
       OM_CFX_UX_LOW_MEM_THROUGHPUT = 4
};

typedef struct {
    uint8_t nonce[OM_CFX_NONCE_LEN];
    uint64_t last_seq_sent, last_seq_recv;
    uint8_t desired_ux;
} om_cfx_link_t;

/* CONFLUX_LINK / CONFLUX_LINKED body (version 1). encode: bytes written or -1; parse: 0, or -1
 * for a wrong length, an unknown version or desired_ux. */
int om_cfx_link_encode(const om_cfx_link_t *l, uint8_t *out, size_t cap);
int om_cfx_link_parse(om_cfx_link_t *l, const uint8_t *body, size_t len);
/* CONFLUX_SWITCH body: the relative sequence number. 0, or -1 if shorter than 4 bytes. */
int om_cfx_switch_parse(uint32_t *rel_seq, const uint8_t *body, size_t len);
/* tor's conflux_should_multiplex: commands that count in the set's sequence numbers. */
bool om_cfx_multiplexed(uint8_t relay_command);

typedef struct om_cfx_set om_cfx_set_t;
/* A leg's LINKED arrived and was accepted (LINKED_ACK sent). */
typedef void (*om_cfx_linked_fn)(om_cfx_set_t *set, om_circuit_t *leg, void *arg);

/* Start a set on primary (open, congestion control negotiated with its last hop): sends LINK on
 * it with a fresh nonce and desired_ux. The set belongs to its legs; it ends when the primary
 * closes (the other legs are closed then) or a linked leg closes (the whole set closes: cells in
 * flight on it are lost). NULL on error. */
om_cfx_set_t *om_cfx_start(om_circuit_t *primary, uint8_t desired_ux, om_cfx_linked_fn fn,
                           void *arg);
/* Add another open circuit to the same exit: sends LINK on it. 0 or -1. */
int om_cfx_add_leg(om_cfx_set_t *set, om_circuit_t *leg);
/* Legs that linked, and legs in the set. */
int om_cfx_n_linked(const om_cfx_set_t *set);
int om_cfx_n_legs(const om_cfx_set_t *set);
om_circuit_t *om_cfx_primary(const om_cfx_set_t *set);

typedef struct {
    uint64_t delivered, queued_ooo, max_ooo, switches;
} om_cfx_stats_t;
void om_cfx_stats(const om_cfx_set_t *set, om_cfx_stats_t *out);

/* Cells all sets hold out of order now, and the process-wide limit (0: OM_CFX_MAX_OOO_TOTAL;
 * tests lower it). */
size_t om_cfx_ooo_total(void);
void om_cfx_set_ooo_total_limit(size_t cells);

#endif
