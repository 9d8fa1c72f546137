/* relay_msg.c — relay header, relay payload building, relay command and END reason names, and
 * the relay command dispatch table (see relay_msg.h; tor-spec 6.1 and 6.3). */
#include "core/relay_msg.h"

#include <string.h>

#include "core/crypto.h"

static const char *const relay_command_names[] = {
    [OM_RELAY_BEGIN] = "BEGIN",
    [OM_RELAY_DATA] = "DATA",
    [OM_RELAY_END] = "END",
    [OM_RELAY_CONNECTED] = "CONNECTED",
    [OM_RELAY_SENDME] = "SENDME",
    [OM_RELAY_EXTEND] = "EXTEND",
    [OM_RELAY_EXTENDED] = "EXTENDED",
    [OM_RELAY_TRUNCATE] = "TRUNCATE",
    [OM_RELAY_TRUNCATED] = "TRUNCATED",
    [OM_RELAY_DROP] = "DROP",
    [OM_RELAY_RESOLVE] = "RESOLVE",
    [OM_RELAY_RESOLVED] = "RESOLVED",
    [OM_RELAY_BEGIN_DIR] = "BEGIN_DIR",
    [OM_RELAY_EXTEND2] = "EXTEND2",
    [OM_RELAY_EXTENDED2] = "EXTENDED2",
    [OM_RELAY_CONNECT_UDP] = "CONNECT_UDP",
    [OM_RELAY_CONNECTED_UDP] = "CONNECTED_UDP",
    [OM_RELAY_DATAGRAM] = "DATAGRAM",
    [OM_RELAY_CONFLUX_LINK] = "CONFLUX_LINK",
    [OM_RELAY_CONFLUX_LINKED] = "CONFLUX_LINKED",
    [OM_RELAY_CONFLUX_LINKED_ACK] = "CONFLUX_LINKED_ACK",
    [OM_RELAY_CONFLUX_SWITCH] = "CONFLUX_SWITCH",
    [OM_RELAY_ESTABLISH_INTRO] = "ESTABLISH_INTRO",
    [OM_RELAY_ESTABLISH_RENDEZVOUS] = "ESTABLISH_RENDEZVOUS",
    [OM_RELAY_INTRODUCE1] = "INTRODUCE1",
    [OM_RELAY_INTRODUCE2] = "INTRODUCE2",
    [OM_RELAY_RENDEZVOUS1] = "RENDEZVOUS1",
    [OM_RELAY_RENDEZVOUS2] = "RENDEZVOUS2",
    [OM_RELAY_INTRO_ESTABLISHED] = "INTRO_ESTABLISHED",
    [OM_RELAY_RENDEZVOUS_ESTABLISHED] = "RENDEZVOUS_ESTABLISHED",
    [OM_RELAY_INTRODUCE_ACK] = "INTRODUCE_ACK",
    [OM_RELAY_PADDING_NEGOTIATE] = "PADDING_NEGOTIATE",
    [OM_RELAY_PADDING_NEGOTIATED] = "PADDING_NEGOTIATED",
    [OM_RELAY_XOFF] = "XOFF",
    [OM_RELAY_XON] = "XON",
};

static const char *const end_reason_names[] = {
    [OM_END_MISC] = "MISC",
    [OM_END_RESOLVEFAILED] = "RESOLVEFAILED",
    [OM_END_CONNECTREFUSED] = "CONNECTREFUSED",
    [OM_END_EXITPOLICY] = "EXITPOLICY",
    [OM_END_DESTROY] = "DESTROY",
    [OM_END_DONE] = "DONE",
    [OM_END_TIMEOUT] = "TIMEOUT",
    [OM_END_NOROUTE] = "NOROUTE",
    [OM_END_HIBERNATING] = "HIBERNATING",
    [OM_END_INTERNAL] = "INTERNAL",
    [OM_END_RESOURCELIMIT] = "RESOURCELIMIT",
    [OM_END_CONNRESET] = "CONNRESET",
    [OM_END_TORPROTOCOL] = "TORPROTOCOL",
    [OM_END_NOTDIRECTORY] = "NOTDIRECTORY",
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

const char *om_relay_command_name(uint8_t command)
{
    if (command < N_ELEMS(relay_command_names) && relay_command_names[command])
        return relay_command_names[command];
    return "UNKNOWN";
}

const char *om_end_reason_name(uint8_t reason)
{
    if (reason < N_ELEMS(end_reason_names) && end_reason_names[reason])
        return end_reason_names[reason];
    return "UNKNOWN";
}

/* tor-spec 6.1: command(1) recognized(2) stream_id(2) digest(4) length(2), big-endian. */
void om_relay_header_pack(const om_relay_header_t *h, uint8_t payload[OM_CELL_PAYLOAD_LEN])
{
    payload[0] = h->command;
    payload[1] = (uint8_t)(h->recognized >> 8);
    payload[2] = (uint8_t)h->recognized;
    payload[3] = (uint8_t)(h->stream_id >> 8);
    payload[4] = (uint8_t)h->stream_id;
    memcpy(payload + 5, h->digest, 4);
    payload[9] = (uint8_t)(h->length >> 8);
    payload[10] = (uint8_t)h->length;
}

int om_relay_header_unpack(om_relay_header_t *h, const uint8_t payload[OM_CELL_PAYLOAD_LEN])
{
    h->command = payload[0];
    h->recognized = (uint16_t)(payload[1] << 8 | payload[2]);
    h->stream_id = (uint16_t)(payload[3] << 8 | payload[4]);
    memcpy(h->digest, payload + 5, 4);
    h->length = (uint16_t)(payload[9] << 8 | payload[10]);
    return h->length > OM_RELAY_PAYLOAD_LEN ? -1 : 0;
}

int om_relay_payload_build(uint8_t payload[OM_CELL_PAYLOAD_LEN], uint8_t command,
                           uint16_t stream_id, const uint8_t *body, size_t bodylen)
{
    if (!payload || bodylen > OM_RELAY_PAYLOAD_LEN || (!body && bodylen)) return -1;
    /* The body may already sit in payload (e.g. built in place at offset 11): memmove first. */
    if (bodylen) memmove(payload + OM_RELAY_HEADER_LEN, body, bodylen);
    om_relay_header_t h = {.command = command, .stream_id = stream_id, .length = (uint16_t)bodylen};
    om_relay_header_pack(&h, payload);
    /* tor-spec 6.1: four zero bytes, then random bytes (all zero if fewer than 4 fit). */
    size_t pad_off = OM_RELAY_HEADER_LEN + bodylen;
    size_t pad = OM_CELL_PAYLOAD_LEN - pad_off;
    size_t zeros = pad < 4 ? pad : 4;
    memset(payload + pad_off, 0, zeros);
    if (pad > zeros && om_rand_bytes(payload + pad_off + zeros, pad - zeros) != 0) {
        memset(payload + pad_off + zeros, 0, pad - zeros);
        return -1;
    }
    return 0;
}

void om_relay_dispatch_init(om_relay_dispatch_t *t)
{
    memset(t, 0, sizeof *t);
}

int om_relay_dispatch_set(om_relay_dispatch_t *t, uint8_t command, om_relay_handler_fn fn,
                          void *arg)
{
    if (!t || !fn || t->fn[command]) return -1;
    t->fn[command] = fn;
    t->arg[command] = arg;
    return 0;
}

int om_relay_dispatch(const om_relay_dispatch_t *t, void *ctx, const om_relay_header_t *hdr,
                      const uint8_t *body)
{
    if (!t || !hdr) return -2;
    if (hdr->length > OM_RELAY_PAYLOAD_LEN) return -1;
    om_relay_handler_fn fn = t->fn[hdr->command];
    if (!fn) return -2;
    return fn(ctx, hdr, body, t->arg[hdr->command]);
}
