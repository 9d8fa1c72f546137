/* or_fixture.c — see or_fixture.h: a relay's circuit and stream layers over the in-memory link,
 * and a client's one-hop circuit to it. */
#include "or_fixture.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/onion_handshake.h"
#include "core/congestion.h"
#include "core/relay_bodies.h"

static void on_unclaimed(om_channel_t *chan, const om_cell_t *cell, void *arg)
{
    fix_relay_t *r = arg;
    om_or_circuits_unclaimed_cell(r->circs, chan, cell);
}

/* The stream layer's three entry points, with the relay as their argument (for cc_sendme_inc). */
static int stream_handler(om_or_circ_t *circ, const om_relay_header_t *hdr, const uint8_t *body,
                          bool early, void *arg)
{
    fix_relay_t *r = arg;
    if (r->cc_sendme_inc && !circ->stream_state && !circ->cc_sendme_inc &&
        (circ->cc_params = malloc(sizeof *circ->cc_params))) {
        om_cc_params_load(circ->cc_params, NULL, NULL);
        circ->cc_sendme_inc = r->cc_sendme_inc;
    }
    return om_or_streams_handle(circ, hdr, body, early, r->streams);
}

static void on_circ_free(om_or_circ_t *circ, void *arg)
{
    om_or_streams_circ_free(circ, ((fix_relay_t *)arg)->streams);
}

static void on_writable(om_or_circ_t *circ, void *arg)
{
    om_or_streams_writable(circ, ((fix_relay_t *)arg)->streams);
}

static bool grant_cc(void *arg, om_cc_params_t *out)
{
    om_cc_params_load(out, NULL, NULL);
    return ((fix_relay_t *)arg)->cc_grant;
}

static bool relay_start(fix_relay_t *r, om_linkmgr_t *links, om_relay_keys_t *keys,
                        bool allow_private, unsigned max_circuits)
{
    memset(r, 0, sizeof *r);
    r->links = links;
    r->keys = keys;
    r->base = event_base_new();
    r->sched = om_or_sched_new(0, om_or_circ_oom, NULL);
    r->streams = om_or_streams_new(NULL, NULL);
    if (!r->base || !r->sched || !r->streams) return false;
    om_or_circ_params_t p = {
        .keys = keys,
        .links = links,
        .allow_private_extend = allow_private,
        .max_circuits = max_circuits,
        .stream_handler = stream_handler,
        .on_circ_free = on_circ_free,
        .stream_arg = r,
        .sched = r->sched,
        .on_writable = on_writable,
        .base = r->base,
        .cc_params = grant_cc,
        .cc_arg = r,
    };
    r->circs = om_or_circuits_new(&p);
    om_chan_callbacks_t cb = {.on_unclaimed_cell = on_unclaimed, .arg = r};
    return r->circs && om_mem_link_open(&r->link, r->base, OM_CHAN_RESPONDER, &cb);
}

bool fix_relay_start(fix_relay_t *r, om_linkmgr_t *links, om_relay_keys_t *keys)
{
    return relay_start(r, links, keys, true, 16);
}

bool fix_relay_start_public(fix_relay_t *r, om_linkmgr_t *links, om_relay_keys_t *keys)
{
    return relay_start(r, links, keys, false, 16);
}

bool fix_relay_start_limit(fix_relay_t *r, om_linkmgr_t *links, om_relay_keys_t *keys,
                           unsigned max_circuits)
{
    return relay_start(r, links, keys, true, max_circuits);
}

void fix_relay_stop(fix_relay_t *r)
{
    for (int i = 0; i < r->n_clients; i++) {
        om_relay_crypto_clear(&r->clients[i]->crypto);
        om_sendme_clear(&r->clients[i]->fc);
    }
    om_or_circuits_free(r->circs);
    om_or_streams_free(r->streams);
    if (r->link.base) om_mem_link_close(&r->link);
    om_or_sched_free(r->sched);
    if (r->base) event_base_free(r->base);
}

bool fix_client_create(fix_relay_t *r, fix_client_t *c, uint32_t id)
{
    memset(c, 0, sizeof *c);
    c->id = id;
    om_sendme_init(&c->fc, 0);
    if (r->n_clients >= (int)(sizeof r->clients / sizeof r->clients[0])) return false;
    r->clients[r->n_clients++] = c;
    om_fast_client_t fc;
    uint8_t x[OM_FAST_LEN];
    om_cell_t cell = {.circ_id = id, .command = OM_CELL_CREATE_FAST}, reply;
    memset(cell.payload, 0, sizeof cell.payload);
    if (om_fast_client_create(&fc, x) < 0) return false;
    memcpy(cell.payload, x, sizeof x);
    om_handshake_keys_t keys;
    bool ok = om_mem_link_feed(&r->link, &cell) == 0 && om_mem_link_take(&r->link, &reply) == 1 &&
              reply.circ_id == id && reply.command == OM_CELL_CREATED_FAST &&
              om_fast_client_finish(&fc, reply.payload, 2 * OM_FAST_LEN, &keys) == 0 &&
              om_relay_crypto_init(&c->crypto, keys.keys) == 0;
    om_fast_client_clear(&fc);
    return ok;
}

bool fix_client_create_cc(fix_relay_t *r, fix_client_t *c, uint32_t id, uint8_t *sendme_inc)
{
    memset(c, 0, sizeof *c);
    c->id = id;
    *sendme_inc = 0;
    om_sendme_init(&c->fc, 0);
    if (!r->keys || r->n_clients >= (int)(sizeof r->clients / sizeof r->clients[0])) return false;
    r->clients[r->n_clients++] = c;
    uint8_t req[8], smsg[OM_NTOR3_MAX_MSG];
    size_t req_len = sizeof req, smsg_len = sizeof smsg;
    size_t hlen = OM_CELL_PAYLOAD_LEN - 4;
    om_cell_t cell = {.circ_id = id, .command = OM_CELL_CREATE2}, reply;
    memset(cell.payload, 0, sizeof cell.payload);
    om_ntor3_client_t st;
    if (om_cc_ext_request_encode(req, &req_len) < 0 ||
        om_ntor3_client_create(
            &st, r->keys->ed_id.pub, r->keys->ntor.pub, (const uint8_t *)OM_NTOR3_CIRC_VERIFICATION,
            OM_NTOR3_CIRC_VERIFICATION_LEN, req, req_len, cell.payload + 4, &hlen) < 0)
        return false;
    cell.payload[1] = OM_HANDSHAKE_TYPE_NTOR_V3;
    cell.payload[2] = (uint8_t)(hlen >> 8);
    cell.payload[3] = (uint8_t)hlen;
    om_handshake_keys_t keys;
    om_cc_params_t p;
    om_cc_params_default(&p);
    bool ok = om_mem_link_feed(&r->link, &cell) == 0 && om_mem_link_take(&r->link, &reply) == 1 &&
              reply.circ_id == id && reply.command == OM_CELL_CREATED2 &&
              om_ntor3_client_finish(&st, reply.payload + 2,
                                     (size_t)(reply.payload[0] << 8 | reply.payload[1]), smsg,
                                     &smsg_len, &keys) == 0 &&
              om_cc_ext_response_parse(smsg, smsg_len, p.sendme_inc, sendme_inc) >= 0 &&
              om_relay_crypto_init(&c->crypto, keys.keys) == 0;
    om_ntor3_client_clear(&st);
    return ok;
}

int fix_client_send(fix_relay_t *r, fix_client_t *c, uint8_t command, uint16_t stream,
                    const void *body, size_t len, bool early)
{
    om_cell_t cell = {.circ_id = c->id, .command = early ? OM_CELL_RELAY_EARLY : OM_CELL_RELAY};
    if (om_relay_payload_build(cell.payload, command, stream, body, len) < 0) return -1;
    om_relay_crypto_set_digest_fwd(&c->crypto, cell.payload);
    om_relay_crypto_encrypt_fwd(&c->crypto, cell.payload);
    return om_mem_link_feed(&r->link, &cell);
}

int fix_client_begin(fix_relay_t *r, fix_client_t *c, const char *host, uint16_t port)
{
    om_begin_t b;
    memset(&b, 0, sizeof b);
    snprintf(b.host, sizeof b.host, "%s", host);
    b.port = port;
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    int n = om_begin_encode(&b, body, sizeof body);
    return n < 0 ? -1 : fix_client_send(r, c, OM_RELAY_BEGIN, FIX_STREAM, body, (size_t)n, false);
}

int fix_client_recv(fix_relay_t *r, fix_client_t *c, om_relay_header_t *h, uint8_t *body,
                    uint8_t *reason)
{
    om_cell_t cell;
    int t = om_mem_link_take(&r->link, &cell);
    if (t <= 0) return t;
    if (cell.circ_id != c->id) return -1;
    if (cell.command == OM_CELL_DESTROY) {
        if (reason) *reason = cell.payload[0];
        return 2;
    }
    if (cell.command != OM_CELL_RELAY) return -1;
    om_relay_crypto_decrypt_back(&c->crypto, cell.payload);
    if (!om_relay_crypto_check_back(&c->crypto, cell.payload) ||
        om_relay_header_unpack(h, cell.payload) < 0)
        return -1;
    memcpy(body, cell.payload + OM_RELAY_HEADER_LEN, h->length);
    if (h->command != OM_RELAY_DATA) return 1;
    om_relay_crypto_last_digest_back(&c->crypto, c->last_digest);
    if (!c->no_sendmes && om_sendme_note_delivered(&c->fc) == 1) {
        uint8_t sb[OM_SENDME_V1_BODY_LEN];
        fix_client_send(r, c, OM_RELAY_SENDME, 0, sb, om_sendme_build_v1(sb, c->last_digest),
                        false);
    }
    return 1;
}

int fix_drain(fix_relay_t *r, fix_client_t *c, uint8_t command, bool *destroyed,
              uint8_t *end_reason)
{
    om_relay_header_t h;
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    int n = 0, t;
    while ((t = fix_client_recv(r, c, &h, body, NULL)) != 0) {
        if (t == 2 && destroyed) *destroyed = true;
        if (t != 1) continue;
        if (h.command == command) n++;
        if (h.command == OM_RELAY_END && end_reason) *end_reason = body[0];
    }
    return n;
}
