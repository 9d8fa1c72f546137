/* fake_relays.c — the fake three-relay path of fake_relays.h: answering CREATE_FAST and
 * EXTEND2 (ntor, ntor-v3 with the congestion control extension), recording what each hop
 * recognized, and the client-side helpers (build, begin, stream_works). */
#include "fake_relays.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conflux.h"

om_mem_link_t fr_link;
fcirc_t fcs[8];
int n_fcs;
om_x25519_keypair_t onion[HOPS];
uint8_t rid[HOPS][20];
uint8_t ed_id[HOPS][32];

/* An ntor-v3 EXTEND2 to the exit: answer it as tor's exit does, granting congestion control with
 * sendme_inc 31 when the client's extension list asks for it (proposal 324 10.3). */
static int answer_ntor3(fcirc_t *f, int hop, const om_extend2_t *e, uint8_t *reply, size_t *rl,
                        om_handshake_keys_t *keys)
{
    om_ntor3_server_t st;
    uint8_t cmsg[OM_NTOR3_MAX_MSG], smsg[8] = {0};
    size_t cmsg_len = sizeof cmsg, smsg_len = 1;
    if (om_ntor3_server_recv(
            &st, ed_id[hop + 1], &onion[hop + 1], 1, (const uint8_t *)OM_NTOR3_CIRC_VERIFICATION,
            OM_NTOR3_CIRC_VERIFICATION_LEN, e->hdata, e->hlen, cmsg, &cmsg_len) < 0)
        return -1;
    if (cmsg_len && om_cc_ext_request_parse(cmsg, cmsg_len) == 1) {
        smsg_len = sizeof smsg;
        if (om_cc_ext_response_encode(CC_INC, smsg, &smsg_len) < 0) return -1;
        f->cc = true;
    }
    return om_ntor3_server_reply(&st, NULL, smsg, smsg_len, reply, rl, keys);
}

fcirc_t *fc_of(uint32_t id)
{
    for (int i = 0; i < n_fcs; i++)
        if (fcs[i].id == id) return &fcs[i];
    return NULL;
}

/* hop sends a relay message towards the origin */
int fsend(fcirc_t *f, int hop, uint8_t command, uint16_t stream, const void *body, size_t len)
{
    om_cell_t c = {.circ_id = f->id, .command = OM_CELL_RELAY};
    if (om_relay_payload_build(c.payload, command, stream, body, len) < 0) return -1;
    om_relay_crypto_set_digest_back(&f->rc[hop], c.payload);
    for (int i = hop; i >= 0; i--)
        om_relay_crypto_encrypt_back(&f->rc[i], c.payload);
    return om_mem_link_feed(&fr_link, &c);
}

static void answer_extend2(fcirc_t *f, int hop, const uint8_t *body, size_t len)
{
    om_extend2_t *e = calloc(1, sizeof *e);
    uint8_t reply[OM_RELAY_PAYLOAD_LEN];
    size_t rl = sizeof reply - 2;
    om_handshake_keys_t keys;
    if (!e || hop + 1 >= HOPS || om_extend2_parse(e, body, len) < 0) {
        free(e);
        return;
    }
    int ok = -1;
    if (e->htype == OM_HANDSHAKE_TYPE_NTOR && e->hlen == OM_NTOR_ONIONSKIN_LEN) {
        ok = om_ntor_server(rid[hop + 1], &onion[hop + 1], 1, e->hdata, reply + 2, &keys);
        rl = OM_NTOR_REPLY_LEN;
    } else if (e->htype == OM_HANDSHAKE_TYPE_NTOR_V3) {
        ok = answer_ntor3(f, hop, e, reply + 2, &rl, &keys);
    }
    if (ok == 0 && om_relay_crypto_init(&f->rc[hop + 1], keys.keys) == 0) {
        f->hops++;
        reply[0] = (uint8_t)(rl >> 8);
        reply[1] = (uint8_t)rl;
        fsend(f, hop, OM_RELAY_EXTENDED2, 0, reply, 2 + rl);
    }
    free(e);
}

static void take_relay(fcirc_t *f, om_cell_t *c)
{
    for (int h = 0; h < f->hops; h++) {
        om_relay_crypto_decrypt_fwd(&f->rc[h], c->payload);
        if (!om_relay_crypto_check_fwd(&f->rc[h], c->payload)) continue;
        om_relay_header_t rh;
        if (om_relay_header_unpack(&rh, c->payload) < 0) return;
        if (rh.command == OM_RELAY_EXTEND2) {
            answer_extend2(f, h, c->payload + OM_RELAY_HEADER_LEN, rh.length);
            return;
        }
        if (rh.command == OM_RELAY_DATA && h == HOPS - 1) {
            if (f->data_at_exit < 128)
                om_relay_crypto_last_digest_fwd(&f->rc[h], f->dig[f->data_at_exit]);
            if (++f->data_at_exit == 100) om_relay_crypto_last_digest_fwd(&f->rc[h], f->digest_100);
        }
        if (rh.command >= OM_RELAY_CONFLUX_LINK && rh.command <= OM_RELAY_CONFLUX_SWITCH) {
            f->cfx_len = rh.length;
            memcpy(f->cfx_body, c->payload + OM_RELAY_HEADER_LEN, rh.length);
        }
        if (f->n < 256) {
            f->hop[f->n] = (uint8_t)h;
            f->cmd[f->n] = rh.command;
            f->stream[f->n] = rh.stream_id;
            f->n++;
        }
        return;
    }
}

/* The relays read everything the client sent, answering handshakes. */
void pump(void)
{
    om_cell_t c;
    event_base_loop(fr_link.base, EVLOOP_NONBLOCK);
    while (om_mem_link_take(&fr_link, &c) == 1) {
        fcirc_t *f = fc_of(c.circ_id);
        if (c.command == OM_CELL_CREATE_FAST && !f && n_fcs < 8) {
            f = &fcs[n_fcs++];
            memset(f, 0, sizeof *f);
            f->id = c.circ_id;
            om_cell_t r = {.circ_id = c.circ_id, .command = OM_CELL_CREATED_FAST};
            memset(r.payload, 0, sizeof r.payload);
            om_handshake_keys_t keys;
            if (om_fast_server(c.payload, r.payload, &keys) == 0 &&
                om_relay_crypto_init(&f->rc[0], keys.keys) == 0) {
                f->hops = 1;
                om_mem_link_feed(&fr_link, &r);
            }
        } else if (f && c.command == OM_CELL_DESTROY) {
            f->destroyed = true;
        } else if (f && (c.command == OM_CELL_RELAY || c.command == OM_CELL_RELAY_EARLY)) {
            take_relay(f, &c);
        }
        event_base_loop(fr_link.base, EVLOOP_NONBLOCK);
    }
}

/* The last message fcirc got (command, stream) at hop, since index from; -1 if none. */
int find_msg(const fcirc_t *f, int from, int hop, uint8_t command)
{
    for (int i = f->n - 1; i >= from; i--)
        if (f->hop[i] == hop && f->cmd[i] == command) return f->stream[i];
    return -1;
}

/* ---------------------------------------------------------------- the client */

static void c_built(om_circuit_t *circ, void *arg)
{
    (void)circ;
    ((ccirc_t *)arg)->built = true;
}

static void c_closed(om_circuit_t *circ, const char *why, void *arg)
{
    (void)circ;
    ccirc_t *c = arg;
    c->closed = true;
    snprintf(c->why, sizeof c->why, "%s", why);
}

static void s_connected(om_stream_t *s, void *arg)
{
    (void)s;
    ((cstream_t *)arg)->connected++;
}

static void s_data(om_stream_t *s, const uint8_t *d, size_t n, void *arg)
{
    (void)s;
    cstream_t *cs = arg;
    if (cs->len + n <= sizeof cs->data) memcpy(cs->data + cs->len, d, n);
    cs->len += n;
}

static void s_resolved(om_stream_t *s, const uint8_t *b, size_t n, void *arg)
{
    (void)s;
    (void)b;
    (void)n;
    cstream_t *cs = arg;
    cs->resolved++;
    cs->s = NULL;
}

static void s_end(om_stream_t *s, uint8_t reason, const char *why, void *arg)
{
    (void)s;
    (void)why;
    cstream_t *cs = arg;
    cs->ends++;
    cs->end_reason = reason;
    cs->s = NULL;
}

bool setup(void)
{
    n_fcs = 0;
    for (int i = 0; i < HOPS; i++) {
        if (om_x25519_keygen(&onion[i]) < 0) return false;
        memset(rid[i], 0x10 + i, 20);
        memset(ed_id[i], 0x30 + i, 32);
    }
    return om_mem_link_open(&fr_link, NULL, OM_CHAN_INITIATOR, NULL);
}

void teardown(void)
{
    om_cfx_set_ooo_total_limit(0); /* a test that lowered it and failed early */
    om_mem_link_close(&fr_link);
    for (int i = 0; i < n_fcs; i++)
        for (int h = 0; h < HOPS; h++)
            om_relay_crypto_clear(&fcs[i].rc[h]);
}

bool build(ccirc_t *c, uint8_t min_sendme_version)
{
    return build_ex(c, min_sendme_version, false);
}

/* cc: the exit hop over ntor-v3, asked for congestion control with tor's default parameters. */
bool build_ex(ccirc_t *c, uint8_t min_sendme_version, bool cc)
{
    memset(c, 0, sizeof *c);
    om_hop_target_t path[HOPS];
    memset(path, 0, sizeof path);
    for (int i = 0; i < HOPS; i++) {
        memcpy(path[i].rsa_fp, rid[i], 20);
        memcpy(path[i].ntor_key, onion[i].pub, 32);
        path[i].ipv4[0] = 127, path[i].ipv4[3] = 1;
        path[i].or_port = (uint16_t)(9001 + i);
        path[i].handshake_type = i ? OM_HANDSHAKE_TYPE_NTOR : OM_HANDSHAKE_TYPE_FAST;
        memcpy(path[i].ed_id, ed_id[i], 32);
    }
    if (cc) {
        path[HOPS - 1].handshake_type = OM_HANDSHAKE_TYPE_NTOR_V3;
        path[HOPS - 1].flowctrl_cc = true;
        path[HOPS - 1].has_ed = true;
    }
    static om_cc_params_t ccp;
    om_cc_params_default(&ccp);
    om_circ_callbacks_t cb = {.on_built = c_built, .on_closed = c_closed, .arg = c};
    om_circ_flow_params_t fp = {.cc = cc ? &ccp : NULL,
                                .sendme_accept_min_version = min_sendme_version};
    c->circ = om_circuit_build_flow(fr_link.chan, path, HOPS, &cb, &fp);
    if (!c->circ) return false;
    pump();
    c->f = fc_of(om_circuit_id(c->circ));
    return c->built && c->f && c->f->hops == HOPS && c->f->cc == cc &&
           om_circuit_cc_active(c->circ) == cc;
}

const om_stream_callbacks_t stream_cb = {
    .on_connected = s_connected, .on_data = s_data, .on_resolved = s_resolved, .on_end = s_end};

bool begin(ccirc_t *c, cstream_t *cs)
{
    memset(cs, 0, sizeof *cs);
    om_stream_callbacks_t cb = stream_cb;
    cb.arg = cs;
    int from = c->f->n;
    cs->s = om_stream_begin(c->circ, "example.com", 80, 0, &cb);
    if (!cs->s) return false;
    pump();
    int id = find_msg(c->f, from, HOPS - 1, OM_RELAY_BEGIN);
    cs->id = (uint16_t)id;
    return id > 0 && id == om_stream_id(cs->s);
}

int connected_body(uint8_t *b)
{
    om_connected_t ok = {.addr = {.type = 4, .addr = {93, 184, 216, 34}}, .ttl = 300};
    return om_connected_encode(&ok, b, OM_RELAY_PAYLOAD_LEN);
}

/* A new stream on c: CONNECTED, "<tag>" in two DATA cells, END DONE from the exit; NULL if the
 * client saw exactly that. */
const char *stream_works(ccirc_t *c, const char *tag)
{
    cstream_t cs;
    if (c->closed) return "circuit closed";
    if (!begin(c, &cs)) return "no BEGIN at the exit";
    uint8_t b[OM_RELAY_PAYLOAD_LEN];
    size_t tl = strlen(tag), half = tl / 2;
    uint8_t done = OM_END_DONE;
    fsend(c->f, HOPS - 1, OM_RELAY_CONNECTED, cs.id, b, (size_t)connected_body(b));
    fsend(c->f, HOPS - 1, OM_RELAY_DATA, cs.id, tag, half);
    fsend(c->f, HOPS - 1, OM_RELAY_DATA, cs.id, tag + half, tl - half);
    fsend(c->f, HOPS - 1, OM_RELAY_END, cs.id, &done, 1);
    pump();
    if (cs.connected != 1) return "not connected once";
    if (cs.len != tl || memcmp(cs.data, tag, tl)) return "data not byte for byte";
    if (cs.ends != 1 || cs.end_reason != OM_END_DONE) return "no END DONE";
    return c->closed ? "circuit closed" : NULL;
}