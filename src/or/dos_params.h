/* dos_params.h — the DoS mitigation's values in force, decided as tor's dos.c get_param_*
 * functions do: a torrc value that is set (not "auto", not 0) wins, otherwise the consensus
 * parameter of the same name (dir-spec "params", clamped to tor's range), otherwise tor's
 * default (dos.h: every defense disabled; 3 circuits/s, burst 90, 3 connections, refuse, 1 hour;
 * 100 connections, close, 20/s, burst 40, 24 hours; 100 streams/s, burst 300, refuse). Resolved
 * at start and again on each new consensus. */
#ifndef OM_OR_DOS_PARAMS_H
#define OM_OR_DOS_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/congestion.h"
#include "or/dos_options.h"

enum { OM_DOS_CC_DEFENSE_NONE = 1, OM_DOS_CC_DEFENSE_REFUSE = 2 };
enum { OM_DOS_CONN_DEFENSE_NONE = 1, OM_DOS_CONN_DEFENSE_CLOSE = 2 };
enum {
    OM_DOS_STREAM_DEFENSE_NONE = 1,
    OM_DOS_STREAM_DEFENSE_REFUSE = 2,
    OM_DOS_STREAM_DEFENSE_CLOSE_CIRCUIT = 3,
};

typedef struct {
    bool cc_enabled;
    uint32_t cc_min_connections, cc_rate, cc_burst;
    int cc_defense_type;
    int32_t cc_defense_time_period;
    bool conn_enabled;
    uint32_t conn_max_concurrent;
    int conn_defense_type;
    uint32_t conn_connect_rate, conn_connect_burst;
    int32_t conn_connect_defense_time_period;
    bool stream_enabled;
    uint32_t stream_rate, stream_burst;
    int stream_defense_type;
    bool refuse_single_hop_rend;
} om_dos_params_t;

/* lookup: the consensus's parameters (om_cc_param_lookup_fn; NULL: none, tor's defaults). */
void om_dos_params_resolve(om_dos_params_t *p, const om_dos_options_t *o,
                           om_cc_param_lookup_fn lookup, void *arg);

#endif
