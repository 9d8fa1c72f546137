/* op_options.h — the onion proxy's typed options (om_op_options_t, op/op.h) from a configuration
 * that holds the OP's table (op/op_config.h) and has been validated. */
#ifndef OM_OP_OP_OPTIONS_H
#define OM_OP_OP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "op/op.h"

/* Fill o from cfg (after om_config_validate). Returns 0, or -1 with err (a bad node list). */
int om_op_options_from_config(const om_config_t *cfg, om_op_options_t *o, char *err, size_t errlen);
/* The transports Bridge lines may name besides plain TLS (kept in o; the array must outlive the
 * OP). -1 with err if a Bridge line names a transport not among them. */
int om_op_options_set_transports(om_op_options_t *o, const om_bridge_transport_t *t, size_t n,
                                 char *err, size_t errlen);
/* Whether to run an OP: always without a relay; with a relay only when SocksPort was set
 * explicitly to a port (tor relays usually run with SocksPort 0). */
bool om_op_wanted(const om_config_t *cfg, bool relay);

#endif
