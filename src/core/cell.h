/* cell.h — the Tor cell codec (tor-spec section 3): fixed-length and variable-length cells,
 * command numbers and names, wire framing for link protocols 3 (2-byte circuit IDs) and 4-5
 * (4-byte circuit IDs). Pure functions over byte buffers; no I/O, no allocation per fixed cell. */
#ifndef OM_CORE_CELL_H
#define OM_CORE_CELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OM_CELL_PAYLOAD_LEN     509
#define OM_CELL_LEN_NARROW      512 /* link protocol <= 3, and every VERSIONS cell */
#define OM_CELL_LEN_WIDE        514 /* link protocol >= 4 */
#define OM_CELL_MAX_LEN         514
#define OM_VAR_CELL_HDR_NARROW  5 /* circid(2) command(1) length(2) */
#define OM_VAR_CELL_HDR_WIDE    7 /* circid(4) command(1) length(2) */
#define OM_VAR_CELL_MAX_PAYLOAD 65535

/* Cell commands, tor-spec 3. */
enum om_cell_command {
    OM_CELL_PADDING = 0,
    OM_CELL_CREATE = 1,
    OM_CELL_CREATED = 2,
    OM_CELL_RELAY = 3,
    OM_CELL_DESTROY = 4,
    OM_CELL_CREATE_FAST = 5,
    OM_CELL_CREATED_FAST = 6,
    OM_CELL_VERSIONS = 7,
    OM_CELL_NETINFO = 8,
    OM_CELL_RELAY_EARLY = 9,
    OM_CELL_CREATE2 = 10,
    OM_CELL_CREATED2 = 11,
    OM_CELL_PADDING_NEGOTIATE = 12,
    OM_CELL_VPADDING = 128,
    OM_CELL_CERTS = 129,
    OM_CELL_AUTH_CHALLENGE = 130,
    OM_CELL_AUTHENTICATE = 131,
    OM_CELL_AUTHORIZE = 132,
};

/* DESTROY / TRUNCATED reasons, tor-spec 5.4. */
enum om_destroy_reason {
    OM_DESTROY_NONE = 0,
    OM_DESTROY_PROTOCOL = 1,
    OM_DESTROY_INTERNAL = 2,
    OM_DESTROY_REQUESTED = 3,
    OM_DESTROY_HIBERNATING = 4,
    OM_DESTROY_RESOURCELIMIT = 5,
    OM_DESTROY_CONNECTFAILED = 6,
    OM_DESTROY_OR_IDENTITY = 7,
    OM_DESTROY_CHANNEL_CLOSED = 8,
    OM_DESTROY_FINISHED = 9,
    OM_DESTROY_TIMEOUT = 10,
    OM_DESTROY_DESTROYED = 11,
    OM_DESTROY_NOSUCHSERVICE = 12,
};

/* A fixed-length cell, decoded. circ_id is 2 or 4 bytes on the wire. */
typedef struct {
    uint32_t circ_id;
    uint8_t command;
    uint8_t payload[OM_CELL_PAYLOAD_LEN];
} om_cell_t;

/* A variable-length cell (VERSIONS, VPADDING, CERTS, AUTH_CHALLENGE, AUTHENTICATE, AUTHORIZE). */
typedef struct {
    uint32_t circ_id;
    uint8_t command;
    uint16_t payload_len;
    uint8_t payload[]; /* payload_len bytes */
} om_var_cell_t;

const char *om_cell_command_name(uint8_t command); /* "CREATE2", or "UNKNOWN" */
const char *om_destroy_reason_name(uint8_t reason);

/* True if command is variable-length under this link protocol (tor-spec 3: VERSIONS, and
 * every command >= 128; on the historical link protocol 2 only VERSIONS, on 1 none).
 * link_proto 0 means "not yet negotiated": the wire format is that of protocol 3, but
 * om_cell_frame / om_var_cell_unpack accept only VERSIONS there. */
bool om_cell_command_is_var(uint8_t command, int link_proto);
/* tor-spec 4: VERSIONS, VPADDING and AUTHORIZE may come before VERSIONS is negotiated. */
bool om_cell_allowed_before_versions(uint8_t command);
/* Circuit-ID width in bytes for a link protocol: 2 for 0..3, 4 for >= 4. */
int om_circ_id_len(int link_proto);
/* Length of a fixed cell on the wire (512 or 514). */
size_t om_cell_wire_len(int link_proto);

/* Encode a fixed cell; out must hold om_cell_wire_len(link_proto) bytes. Returns bytes written
 * or -1 (circ_id does not fit the width, or the command is a variable-length one). */
int om_cell_pack(const om_cell_t *cell, int link_proto, uint8_t *out);
/* Decode one fixed cell from exactly om_cell_wire_len(link_proto) bytes. Returns 0 or -1 (wrong
 * length, or a variable-length command). */
int om_cell_unpack(om_cell_t *cell, int link_proto, const uint8_t *in, size_t len);

/* Framing: given the first len bytes of a link's input, decide what the next cell is.
 * Returns 1 and sets *cell_len (whole cell on the wire) and *is_var if a complete cell is
 * available; 0 if more bytes are needed (and *cell_len is set when the size is already known);
 * -1 if the input is malformed. link_proto 0 = before VERSIONS negotiation (only VERSIONS, and
 * narrow 2-byte circuit IDs, are acceptable; anything else is -1). */
int om_cell_frame(const uint8_t *in, size_t len, int link_proto, size_t *cell_len, bool *is_var);

/* Variable cells: allocate (payload zeroed), encode, decode. */
om_var_cell_t *om_var_cell_new(uint8_t command, uint32_t circ_id, uint16_t payload_len);
void om_var_cell_free(om_var_cell_t *cell);
size_t om_var_cell_wire_len(const om_var_cell_t *cell, int link_proto);
/* out must hold om_var_cell_wire_len bytes. VERSIONS always uses a 2-byte circuit ID (link_proto
 * is ignored for it: we only ever send the first, pre-negotiation VERSIONS cell). Returns bytes
 * written or -1 (command not variable-length, circ_id too large for the width). */
int om_var_cell_pack(const om_var_cell_t *cell, int link_proto, uint8_t *out);
/* Decode exactly one variable cell occupying all of in[0..len), as framed by om_cell_frame with
 * the same link_proto: the circuit-ID width is link_proto's for every command, VERSIONS included
 * (tor-spec 4.1: a later VERSIONS cell uses the negotiated width; pass 0 for the first one).
 * Returns NULL if malformed (wrong length, fixed-length command, non-VERSIONS at link_proto 0). */
om_var_cell_t *om_var_cell_unpack(const uint8_t *in, size_t len, int link_proto);

#endif
