/* dht_service.c — a relay's DHT node (dht_service.h): streams to "dht.onionmesh.invalid" carry
 * frames (doc/dht.md, "Transport"); each complete request is answered by dht_server.c in arrival
 * order, the answers sent as the stream's windows allow. A malformed frame or message ends its
 * stream (END TORPROTOCOL), never the circuit. The routing table is rebuilt from every new
 * consensus (doc/dht.md, "Membership") and saved; records expire on the 10 s tick. */
#include "dht/dht_service.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/log.h"
#include "dht/dht_server.h"
#include "dht/dht_store.h"

#define TICK_S 10

typedef struct dht_stream {
    struct dht_stream *next, *prev;
    om_or_stream_t *s;
    om_or_circ_t *circ;
    uint8_t *in; /* frames read, not yet answered */
    size_t in_len, in_cap;
    uint8_t *out; /* answers not yet sent: out[out_off..out_len) */
    size_t out_len, out_off, out_cap;
    time_t last;
} dht_stream_t;

struct om_dht_service {
    om_dht_service_params_t p;
    om_dht_table_t table;
    om_dht_store_t *store;
    time_t consensus_valid_after; /* of the consensus the table was built from */
    char *table_path;
    dht_stream_t *streams;
    struct event *tick;
    om_dht_service_stats_t st;
    om_dht_msg_t req, resp; /* scratch: a message is ~10 KB */
};

static void ds_unlink_free(om_dht_service_t *v, dht_stream_t *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else
        v->streams = d->next;
    if (d->next) d->next->prev = d->prev;
    v->st.streams--;
    free(d->in);
    free(d->out);
    free(d);
}

/* Send what is waiting, as far as the windows allow. */
static void ds_pull(void *arg, om_or_stream_t *s);

static bool out_append(dht_stream_t *d, const uint8_t *p, size_t n)
{
    if (d->out_off && d->out_off == d->out_len) d->out_off = d->out_len = 0;
    if (d->out_len + n > d->out_cap) {
        size_t cap = d->out_len + n;
        uint8_t *g = realloc(d->out, cap);
        if (!g) return false;
        d->out = g;
        d->out_cap = cap;
    }
    memcpy(d->out + d->out_len, p, n);
    d->out_len += n;
    return true;
}

/* ADD_PROVIDER: the record's publisher is the identity of the relay it names. */
static bool publisher_ok(const om_dht_service_t *v, const om_dht_msg_t *m)
{
    if (m->type != OM_DHT_ADD_PROVIDER || !v->p.ed_of) return true;
    const om_dht_record_t *r = &m->records[0];
    uint8_t ed[OM_DHT_PUB_LEN];
    return r->kind == OM_DHT_KIND_PROVIDER && r->value_len == OM_DHT_ID_LEN &&
           v->p.ed_of(v->p.arg, r->value, ed) && !memcmp(ed, r->publisher, OM_DHT_PUB_LEN);
}

/* Answer the complete requests read, while the answers waiting stay under their bound. false:
 * the stream was ended. */
static bool answer_frames(om_dht_service_t *v, dht_stream_t *d)
{
    size_t used = 0;
    while (d->out_len - d->out_off < OM_DHT_STREAM_OUT_MAX) {
        const uint8_t *body;
        size_t blen;
        long took = om_dht_frame_next(d->in + used, d->in_len - used, &body, &blen);
        if (took == 0) break;
        char err[128] = "bad frame length";
        if (took < 0 || om_dht_msg_parse(body, blen, &v->req, err, sizeof err) < 0) {
            v->st.malformed++;
            om_log_protocol("DHT stream %u on circuit %u: %s; closing the stream",
                            om_or_stream_id(d->s), om_or_stream_circ_id(d->s), err);
            om_or_stream_end(d->s, OM_END_TORPROTOCOL, NULL, 0); /* release frees d */
            return false;
        }
        used += (size_t)took;
        v->st.requests++;
        if (v->req.type >= OM_DHT_PING && v->req.type <= OM_DHT_ADD_PROVIDER)
            v->st.by_type[v->req.type - 1]++;
        if (!publisher_ok(v, &v->req)) {
            memset(&v->resp, 0, offsetof(om_dht_msg_t, records));
            v->resp.type = OM_DHT_ADDED;
            v->resp.id = v->req.id;
            v->resp.code = OM_DHT_ADDED_BAD_RECORD;
        } else {
            om_dht_server_answer(&v->table, v->store, &v->req, (uint64_t)time(NULL), &v->resp);
        }
        if (v->resp.type == OM_DHT_ADDED && v->resp.code == OM_DHT_ADDED_OK) v->st.stored++;
        uint8_t frame[OM_DHT_FRAME_HDR + OM_DHT_MSG_MAX];
        long n = om_dht_msg_encode(&v->resp, frame, sizeof frame);
        if (n < 0 || !out_append(d, frame, (size_t)n)) {
            om_or_stream_end(d->s, OM_END_RESOURCELIMIT, NULL, 0);
            return false;
        }
    }
    memmove(d->in, d->in + used, d->in_len - used);
    d->in_len -= used;
    return true;
}

static void ds_pull(void *arg, om_or_stream_t *s)
{
    om_dht_service_t *v = arg;
    dht_stream_t *d = om_or_stream_state(s);
    if (!d) return;
    for (;;) {
        while (d->out_off < d->out_len && om_or_stream_can_send(s)) {
            size_t n = d->out_len - d->out_off;
            if (n > OM_RELAY_PAYLOAD_LEN) n = OM_RELAY_PAYLOAD_LEN;
            if (om_or_stream_send_data(s, d->out + d->out_off, n) < 0) break;
            d->out_off += n;
        }
        size_t waiting = d->out_len - d->out_off;
        if (waiting >= OM_DHT_STREAM_OUT_MAX || !d->in_len) break;
        size_t before = d->in_len;
        if (!answer_frames(v, d)) return;
        if (d->in_len == before) break; /* only part of a frame left */
    }
    /* What we hold for the client: its SENDMEs wait while this is large (stream_service.h). */
    om_or_stream_edge_buffered(s, d->in_len + (d->out_len - d->out_off));
}

static void ds_begin(void *arg, om_or_stream_t *s, const om_begin_t *b)
{
    om_dht_service_t *v = arg;
    (void)b;
    om_or_circ_t *circ = om_or_stream_circ(s);
    unsigned on_circ = 0;
    for (const dht_stream_t *d = v->streams; d; d = d->next)
        on_circ += d->circ == circ;
    dht_stream_t *d = NULL;
    if (on_circ < OM_DHT_STREAMS_PER_CIRC && v->st.streams < OM_DHT_STREAMS_MAX)
        d = calloc(1, sizeof *d);
    om_or_stream_set_state(s, d);
    if (!d) {
        v->st.refused++;
        om_or_stream_end(s, OM_END_RESOURCELIMIT, NULL, 0);
        return;
    }
    d->s = s;
    d->circ = circ;
    d->last = time(NULL);
    d->next = v->streams;
    if (v->streams) v->streams->prev = d;
    v->streams = d;
    v->st.streams++;
    v->st.streams_opened++;
    /* tor-spec 6.2: CONNECTED with no address (no connection was made anywhere). */
    om_or_stream_send(s, OM_RELAY_CONNECTED, NULL, 0);
}

static void ds_data(void *arg, om_or_stream_t *s, const uint8_t *data, size_t len)
{
    om_dht_service_t *v = arg;
    dht_stream_t *d = om_or_stream_state(s);
    if (!d) return;
    if (d->in_len + len > OM_DHT_STREAM_IN_MAX) {
        v->st.refused++;
        om_log_protocol("DHT stream %u on circuit %u: more than %d bytes of requests waiting; "
                        "closing the stream",
                        om_or_stream_id(s), om_or_stream_circ_id(s), OM_DHT_STREAM_IN_MAX);
        om_or_stream_end(s, OM_END_RESOURCELIMIT, NULL, 0);
        return;
    }
    if (d->in_len + len > d->in_cap) {
        size_t cap = d->in_cap ? d->in_cap : 512;
        while (cap < d->in_len + len)
            cap *= 2;
        if (cap > OM_DHT_STREAM_IN_MAX) cap = OM_DHT_STREAM_IN_MAX;
        uint8_t *g = realloc(d->in, cap);
        if (!g) {
            om_or_stream_end(s, OM_END_RESOURCELIMIT, NULL, 0);
            return;
        }
        d->in = g;
        d->in_cap = cap;
    }
    memcpy(d->in + d->in_len, data, len);
    d->in_len += len;
    d->last = time(NULL);
    ds_pull(v, s);
}

static void ds_release(void *arg, om_or_stream_t *s)
{
    dht_stream_t *d = om_or_stream_state(s);
    if (d) ds_unlink_free(arg, d);
}

void om_dht_service_entry(om_dht_service_t *v, om_stream_service_t *out)
{
    memset(out, 0, sizeof *out);
    out->name = "dht";
    out->command = OM_RELAY_BEGIN;
    out->hostname = OM_DHT_HOSTNAME;
    out->begin = ds_begin;
    out->data = ds_data;
    out->pull = ds_pull;
    out->release = ds_release;
    out->arg = v;
}

/* ---------------------------------------------------------------- table, timer */

/* A new table from the consensus: every Running relay listing OnionMeshDht (but us). */
static void refill_table(om_dht_service_t *v, const om_consensus_t *c, time_t now)
{
    om_dht_table_init(&v->table, v->p.self);
    for (size_t i = 0; i < c->n_routers; i++) {
        const om_routerstatus_t *rs = &c->routers[i];
        if (!(rs->flags & OM_RS_RUNNING) || !(rs->proto.onionmesh_dht & 2)) continue;
        uint8_t ping[OM_DHT_ID_LEN];
        om_dht_table_seen(&v->table, rs->rsa_id, (uint64_t)now, ping); /* full buckets: kept */
    }
    v->consensus_valid_after = c->valid_after;
    om_info("DHT: %zu nodes in the routing table from the consensus of %ld",
            om_dht_table_size(&v->table), (long)c->valid_after);
    if (v->table_path && om_dht_table_save(&v->table, v->table_path) < 0)
        om_warn("DHT: could not save the routing table to %s", v->table_path);
}

void om_dht_service_tick(om_dht_service_t *v, time_t now)
{
    const om_consensus_t *c = v->p.consensus ? v->p.consensus(v->p.arg) : NULL;
    if (c && c->valid_after != v->consensus_valid_after) refill_table(v, c, now);
    for (dht_stream_t *d = v->streams, *next; d; d = next) {
        next = d->next;
        if (d->last + OM_DHT_STREAM_IDLE_S < now && d->out_off == d->out_len) {
            v->st.idle_closed++;
            om_or_stream_end(d->s, OM_END_DONE, NULL, 0);
        }
    }
    om_dht_store_expire(v->store, (uint64_t)now);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    om_dht_service_tick(arg, time(NULL));
}

om_dht_service_t *om_dht_service_new(const om_dht_service_params_t *p)
{
    om_dht_service_t *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->p = *p;
    v->store = om_dht_store_new(0, 0, 0);
    if (!v->store) goto fail;
    om_dht_table_init(&v->table, p->self);
    if (p->data_dir) {
        size_t n = strlen(p->data_dir) + sizeof "/dht-table";
        if (!(v->table_path = malloc(n))) goto fail;
        snprintf(v->table_path, n, "%s/dht-table", p->data_dir);
        if (om_dht_table_load(&v->table, v->table_path) == 0)
            om_info("DHT: %zu nodes in the routing table from %s", om_dht_table_size(&v->table),
                    v->table_path);
    }
    if (p->base) {
        v->tick = event_new(p->base, -1, EV_PERSIST, tick_cb, v);
        struct timeval tv = {TICK_S, 0};
        if (!v->tick || event_add(v->tick, &tv) < 0) goto fail;
    }
    om_dht_service_tick(v, time(NULL));
    return v;
fail:
    om_dht_service_free(v);
    return NULL;
}

void om_dht_service_free(om_dht_service_t *v)
{
    if (!v) return;
    /* The relay frees its streams (and calls release) before its services go. */
    while (v->streams)
        ds_unlink_free(v, v->streams);
    if (v->tick) event_free(v->tick);
    om_dht_store_free(v->store);
    free(v->table_path);
    free(v);
}

const om_dht_table_t *om_dht_service_table(const om_dht_service_t *v)
{
    return &v->table;
}

/* ---------------------------------------------------------------- memory, stats */

static size_t stream_bytes(const dht_stream_t *d)
{
    return sizeof *d + d->in_cap + d->out_cap;
}

size_t om_dht_service_bytes(void *arg)
{
    om_dht_service_t *v = arg;
    size_t n = om_dht_store_bytes(v->store);
    for (const dht_stream_t *d = v->streams; d; d = d->next)
        n += stream_bytes(d);
    return n;
}

size_t om_dht_service_reclaim(void *arg)
{
    om_dht_service_t *v = arg;
    dht_stream_t *worst = NULL;
    for (dht_stream_t *d = v->streams; d; d = d->next)
        if (!worst || stream_bytes(d) > stream_bytes(worst)) worst = d;
    if (worst && stream_bytes(worst) > sizeof *worst) {
        size_t n = stream_bytes(worst);
        v->st.reclaimed++;
        om_or_stream_end(worst->s, OM_END_RESOURCELIMIT, NULL, 0);
        return n;
    }
    return om_dht_store_reclaim(v->store);
}

void om_dht_service_stats(const om_dht_service_t *v, om_dht_service_stats_t *out)
{
    *out = v->st;
    out->table_nodes = om_dht_table_size(&v->table);
    out->records = om_dht_store_count(v->store);
}

void om_dht_service_heartbeat(void *arg, char *line, size_t len)
{
    om_dht_service_stats_t st;
    om_dht_service_stats(arg, &st);
    snprintf(line, len,
             "%zu nodes in the routing table, %zu records stored; %llu requests answered "
             "(%llu lookups, %llu stores accepted, %llu malformed, %llu refused) on %llu streams",
             st.table_nodes, st.records, (unsigned long long)st.requests,
             (unsigned long long)(st.by_type[1] + st.by_type[2]), (unsigned long long)st.stored,
             (unsigned long long)st.malformed, (unsigned long long)st.refused,
             (unsigned long long)st.streams_opened);
}
