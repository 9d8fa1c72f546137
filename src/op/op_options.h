/* op_options.h — the onion proxy's options from a parsed configuration. */
#ifndef OM_OP_OP_OPTIONS_H
#define OM_OP_OP_OPTIONS_H

#include <stddef.h>

#include "core/config.h"
#include "op/op.h"

/* Fill o from cfg (after om_config_validate). Returns 0, or -1 with err (a bad node list). */
int om_op_options_from_config(const om_config_t *cfg, om_op_options_t *o, char *err, size_t errlen);

#endif
