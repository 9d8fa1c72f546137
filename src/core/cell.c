/* cell.c — cell codec (see cell.h): fixed and variable-length cells on the wire, command and
 * DESTROY-reason names, and framing of a link's input stream (tor-spec section 3). */
#include "core/cell.h"

#include <stdlib.h>
#include <string.h>

static const char *const cell_command_names[] = {
    [OM_CELL_PADDING] = "PADDING",
    [OM_CELL_CREATE] = "CREATE",
    [OM_CELL_CREATED] = "CREATED",
    [OM_CELL_RELAY] = "RELAY",
    [OM_CELL_DESTROY] = "DESTROY",
    [OM_CELL_CREATE_FAST] = "CREATE_FAST",
    [OM_CELL_CREATED_FAST] = "CREATED_FAST",
    [OM_CELL_VERSIONS] = "VERSIONS",
    [OM_CELL_NETINFO] = "NETINFO",
    [OM_CELL_RELAY_EARLY] = "RELAY_EARLY",
    [OM_CELL_CREATE2] = "CREATE2",
    [OM_CELL_CREATED2] = "CREATED2",
    [OM_CELL_PADDING_NEGOTIATE] = "PADDING_NEGOTIATE",
};

static const char *const var_command_names[] = {
    [OM_CELL_VPADDING - 128] = "VPADDING",
    [OM_CELL_CERTS - 128] = "CERTS",
    [OM_CELL_AUTH_CHALLENGE - 128] = "AUTH_CHALLENGE",
    [OM_CELL_AUTHENTICATE - 128] = "AUTHENTICATE",
    [OM_CELL_AUTHORIZE - 128] = "AUTHORIZE",
};

static const char *const destroy_reason_names[] = {
    [OM_DESTROY_NONE] = "NONE",
    [OM_DESTROY_PROTOCOL] = "PROTOCOL",
    [OM_DESTROY_INTERNAL] = "INTERNAL",
    [OM_DESTROY_REQUESTED] = "REQUESTED",
    [OM_DESTROY_HIBERNATING] = "HIBERNATING",
    [OM_DESTROY_RESOURCELIMIT] = "RESOURCELIMIT",
    [OM_DESTROY_CONNECTFAILED] = "CONNECTFAILED",
    [OM_DESTROY_OR_IDENTITY] = "OR_IDENTITY",
    [OM_DESTROY_CHANNEL_CLOSED] = "CHANNEL_CLOSED",
    [OM_DESTROY_FINISHED] = "FINISHED",
    [OM_DESTROY_TIMEOUT] = "TIMEOUT",
    [OM_DESTROY_DESTROYED] = "DESTROYED",
    [OM_DESTROY_NOSUCHSERVICE] = "NOSUCHSERVICE",
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

const char *om_cell_command_name(uint8_t command)
{
    const char *n = NULL;
    if (command < N_ELEMS(cell_command_names))
        n = cell_command_names[command];
    else if (command >= 128 && (size_t)(command - 128) < N_ELEMS(var_command_names))
        n = var_command_names[command - 128];
    return n ? n : "UNKNOWN";
}

const char *om_destroy_reason_name(uint8_t reason)
{
    if (reason < N_ELEMS(destroy_reason_names) && destroy_reason_names[reason])
        return destroy_reason_names[reason];
    return "UNKNOWN";
}

/* tor-spec 3: on link protocol 1 no cell is variable-length; on 2 only VERSIONS; on 3 and later
 * (and before negotiation, where only the wire format matters) VERSIONS and commands >= 128. */
bool om_cell_command_is_var(uint8_t command, int link_proto)
{
    if (link_proto == 1) return false;
    if (link_proto == 2) return command == OM_CELL_VERSIONS;
    return command == OM_CELL_VERSIONS || command >= 128;
}

int om_circ_id_len(int link_proto)
{
    return link_proto >= 4 ? 4 : 2;
}

size_t om_cell_wire_len(int link_proto)
{
    return link_proto >= 4 ? OM_CELL_LEN_WIDE : OM_CELL_LEN_NARROW;
}

static bool circ_id_fits(uint32_t circ_id, int width)
{
    return width == 4 || circ_id <= 0xFFFFu;
}

static void put_circ_id(uint8_t *out, uint32_t circ_id, int width)
{
    if (width == 4) {
        out[0] = (uint8_t)(circ_id >> 24);
        out[1] = (uint8_t)(circ_id >> 16);
        out[2] = (uint8_t)(circ_id >> 8);
        out[3] = (uint8_t)circ_id;
    } else {
        out[0] = (uint8_t)(circ_id >> 8);
        out[1] = (uint8_t)circ_id;
    }
}

static uint32_t get_circ_id(const uint8_t *in, int width)
{
    if (width == 4)
        return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
    return (uint32_t)in[0] << 8 | in[1];
}

int om_cell_pack(const om_cell_t *cell, int link_proto, uint8_t *out)
{
    if (!cell || !out || link_proto < 0) return -1;
    int w = om_circ_id_len(link_proto);
    if (!circ_id_fits(cell->circ_id, w) || om_cell_command_is_var(cell->command, link_proto))
        return -1;
    put_circ_id(out, cell->circ_id, w);
    out[w] = cell->command;
    memcpy(out + w + 1, cell->payload, OM_CELL_PAYLOAD_LEN);
    return (int)om_cell_wire_len(link_proto);
}

int om_cell_unpack(om_cell_t *cell, int link_proto, const uint8_t *in, size_t len)
{
    if (!cell || !in || link_proto < 0 || len != om_cell_wire_len(link_proto)) return -1;
    int w = om_circ_id_len(link_proto);
    if (om_cell_command_is_var(in[w], link_proto)) return -1;
    cell->circ_id = get_circ_id(in, w);
    cell->command = in[w];
    memcpy(cell->payload, in + w + 1, OM_CELL_PAYLOAD_LEN);
    return 0;
}

/* tor-spec 3 and 4.1: before negotiation (link_proto 0) the only acceptable cell is a VERSIONS
 * cell with a 2-byte circuit ID; afterwards cells use the negotiated circuit-ID width. */
bool om_cell_allowed_before_versions(uint8_t command)
{
    return command == OM_CELL_VERSIONS || command == OM_CELL_VPADDING ||
           command == OM_CELL_AUTHORIZE;
}

int om_cell_frame(const uint8_t *in, size_t len, int link_proto, size_t *cell_len, bool *is_var)
{
    if (!in && len) return -1;
    if (link_proto < 0) return -1;
    size_t w = (size_t)om_circ_id_len(link_proto);
    if (cell_len) *cell_len = 0;
    if (len < w + 1) return 0;
    uint8_t command = in[w];
    /* tor-spec 4: the first cell must be VERSIONS, VPADDING or AUTHORIZE. */
    if (link_proto == 0 && !om_cell_allowed_before_versions(command)) return -1;
    bool var = om_cell_command_is_var(command, link_proto);
    if (is_var) *is_var = var;
    size_t need;
    if (var) {
        if (len < w + 3) return 0;
        need = w + 3 + ((size_t)in[w + 1] << 8 | in[w + 2]);
    } else {
        need = om_cell_wire_len(link_proto);
    }
    if (cell_len) *cell_len = need;
    return len >= need ? 1 : 0;
}

om_var_cell_t *om_var_cell_new(uint8_t command, uint32_t circ_id, uint16_t payload_len)
{
    om_var_cell_t *c = calloc(1, sizeof(*c) + payload_len);
    if (!c) return NULL;
    c->command = command;
    c->circ_id = circ_id;
    c->payload_len = payload_len;
    return c;
}

void om_var_cell_free(om_var_cell_t *cell)
{
    free(cell);
}

/* The circuit-ID width om_var_cell_pack uses: the first VERSIONS cell is always narrow. */
static int var_pack_width(const om_var_cell_t *cell, int link_proto)
{
    return cell->command == OM_CELL_VERSIONS ? 2 : om_circ_id_len(link_proto);
}

size_t om_var_cell_wire_len(const om_var_cell_t *cell, int link_proto)
{
    if (!cell) return 0;
    return (size_t)var_pack_width(cell, link_proto) + 3 + cell->payload_len;
}

int om_var_cell_pack(const om_var_cell_t *cell, int link_proto, uint8_t *out)
{
    if (!cell || !out || link_proto < 0) return -1;
    if (cell->command != OM_CELL_VERSIONS && cell->command < 128) return -1;
    int w = var_pack_width(cell, link_proto);
    if (!circ_id_fits(cell->circ_id, w)) return -1;
    put_circ_id(out, cell->circ_id, w);
    out[w] = cell->command;
    out[w + 1] = (uint8_t)(cell->payload_len >> 8);
    out[w + 2] = (uint8_t)cell->payload_len;
    memcpy(out + w + 3, cell->payload, cell->payload_len);
    return w + 3 + cell->payload_len;
}

om_var_cell_t *om_var_cell_unpack(const uint8_t *in, size_t len, int link_proto)
{
    if (!in || link_proto < 0) return NULL;
    size_t w = (size_t)om_circ_id_len(link_proto);
    if (len < w + 3) return NULL;
    uint8_t command = in[w];
    if (!om_cell_command_is_var(command, link_proto)) return NULL;
    if (link_proto == 0 && !om_cell_allowed_before_versions(command)) return NULL;
    uint16_t plen = (uint16_t)(in[w + 1] << 8 | in[w + 2]);
    if (len != w + 3 + plen) return NULL;
    om_var_cell_t *c = om_var_cell_new(command, get_circ_id(in, (int)w), plen);
    if (!c) return NULL;
    memcpy(c->payload, in + w + 3, plen);
    return c;
}
