/* op_config.h — the onion proxy's option table (SocksPort, EntryNodes, CircuitBuildTimeout,
 * CongestionControl ...), registered in a configuration by whoever runs an OP (main, the
 * embedding API). op_options.h turns the checked configuration into om_op_options_t. */
#ifndef OM_OP_OP_CONFIG_H
#define OM_OP_OP_CONFIG_H

#include <stddef.h>

#include "core/config.h"

extern const om_config_table_t om_op_config_table;

/* om_config_register(cfg, &om_op_config_table, ...). */
int om_op_config_register(om_config_t *cfg, char *err, size_t errlen);

#endif
