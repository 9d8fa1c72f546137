/* dos_options.h — the relay's denial-of-service options with tor's names and defaults (tor's
 * dos_options.inc, `man tor` "DENIAL OF SERVICE MITIGATION OPTIONS", plus tor 0.4.9's
 * DoSStreamCreation*): an option table registered beside the relay's, and the typed
 * om_dos_options_t. Each value says "ask the consensus" the way tor does: "auto" (-1) for the
 * Enabled options and DoSRefuseSingleHopClientRendezvous, 0 for every number; dos_params.h turns
 * them into the values in force. */
#ifndef OM_OR_DOS_OPTIONS_H
#define OM_OR_DOS_OPTIONS_H

#include <stdint.h>

#include "core/config.h"

extern const om_config_table_t om_dos_config_table;

typedef struct {
    int cc_enabled; /* DoSCircuitCreationEnabled: -1 auto, 0, 1 */
    uint32_t cc_min_connections, cc_rate, cc_burst;
    int cc_defense_type;            /* 0: consensus; 1 none, 2 refuse */
    int64_t cc_defense_time_period; /* seconds */
    int conn_enabled;               /* DoSConnectionEnabled */
    uint32_t conn_max_concurrent;
    int conn_defense_type; /* 1 none, 2 close */
    uint32_t conn_connect_rate, conn_connect_burst;
    int64_t conn_connect_defense_time_period;
    int stream_enabled; /* DoSStreamCreationEnabled */
    uint32_t stream_rate, stream_burst;
    int stream_defense_type;    /* 1 none, 2 refuse the stream, 3 close the circuit */
    int refuse_single_hop_rend; /* DoSRefuseSingleHopClientRendezvous: -1 auto, 0, 1 */
} om_dos_options_t;

/* From a validated configuration holding om_dos_config_table. */
void om_dos_options_from_config(const om_config_t *cfg, om_dos_options_t *o);
/* Everything "ask the consensus" (what an empty torrc gives). */
void om_dos_options_defaults(om_dos_options_t *o);

#endif
