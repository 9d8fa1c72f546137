/* fuzz_bridge.c — libFuzzer target: a Bridge line (om_bridge_conf_parse: the input up to its
 * first newline) and, when it parses, the bridge's descriptor as a bridge client takes it from
 * the network (om_bridges_take_descriptor: the rest of the input, exact-size buffer). Checks that
 * every parsed field is NUL-terminated and in range, that a failure always says why, and that a
 * descriptor is taken only for the identity the line pins. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "op/bridge_conf.h"
#include "op/bridges.h"

static void check_conf(const om_bridge_conf_t *b)
{
    if (strnlen(b->transport, sizeof b->transport) == sizeof b->transport ||
        strnlen(b->host, sizeof b->host) == sizeof b->host || b->host[0] == 0 || b->port == 0 ||
        b->n_args > OM_BRIDGE_MAX_ARGS)
        abort();
    for (size_t i = 0; i < b->n_args; i++)
        if (b->args[i].key[0] == 0 ||
            strnlen(b->args[i].key, sizeof b->args[i].key) == sizeof b->args[i].key ||
            strnlen(b->args[i].value, sizeof b->args[i].value) == sizeof b->args[i].value)
            abort();
    if (b->n_args && !b->transport[0]) abort(); /* arguments only with a transport */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t ll = nl ? (size_t)(nl - data) : size;
    char *line = malloc(ll + 1);
    if (!line) return 0;
    memcpy(line, data, ll);
    line[ll] = 0;
    om_bridge_conf_t b;
    char err[256];
    err[0] = 0;
    int r = om_bridge_conf_parse(line, &b, err, sizeof err);
    free(line);
    if (r != 0) {
        if (r != -1 || err[0] == 0 || strnlen(err, sizeof err) == sizeof err) abort();
        return 0;
    }
    check_conf(&b);
    size_t dl = nl ? size - ll - 1 : 0;
    char *desc = malloc(dl ? dl : 1);
    if (!desc) return 0;
    if (dl) memcpy(desc, nl + 1, dl);
    om_routerstatus_t rs;
    om_microdesc_t md;
    err[0] = 0;
    r = om_bridges_take_descriptor(&b, desc, dl, &rs, &md, err, sizeof err);
    free(desc);
    if (r == 0) {
        if (memcmp(rs.rsa_id, b.rsa_fp, 20) != 0 || rs.md != &md || !md.has_ntor ||
            rs.or_port != b.port || strnlen(rs.nickname, sizeof rs.nickname) == sizeof rs.nickname)
            abort();
    } else if (r != -1 || err[0] == 0) {
        abort();
    }
    return 0;
}
