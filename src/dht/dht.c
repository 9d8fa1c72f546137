/* dht.c — the DHT client (dht.h): each query is one stream to dht.onionmesh.invalid on a circuit
 * whose last hop is the node asked (one request frame, one answer frame, then END DONE), with a
 * timeout; lookups (dht_lookup.c) are seeded with the members of the consensus closest to the key
 * and only ever learn names of members (addresses and keys come from the consensus, never from a
 * node); answers' records are checked (signature, times, kind, the publisher bound to the
 * providing relay in the consensus) before anyone sees them. Provided keys are republished. */
#include "dht/dht.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/log.h"
#include "dir/microdesc.h"
#include "dht/dht_lookup.h"
#include "dht/dht_record.h"
#include "dht/dht_service.h"
#include "dht/dht_table.h"

enum { OP_FIND, OP_PROVIDE };

typedef struct provided {
    uint8_t key[OM_DHT_ID_LEN], fp[OM_DHT_ID_LEN];
    om_ed25519_keypair_t id;
} provided_t;

typedef struct op {
    struct op *next;
    om_dht_t *d;
    int kind;
    bool storing; /* PROVIDE: the lookup is over, ADD_PROVIDER went out */
    uint8_t key[OM_DHT_ID_LEN];
    om_dht_lookup_t l;
    int pending;         /* queries out */
    om_dht_record_t rec; /* PROVIDE: the signed record */
    unsigned accepted, asked;
    om_dht_record_t found[OM_DHT_MAX_RECORDS]; /* FIND: distinct providers */
    size_t n_found;
    om_dht_providers_cb find_cb;
    om_dht_provide_cb provide_cb;
    void *arg;
} op_t;

typedef struct query {
    struct query *next;
    op_t *op;
    uint8_t node[OM_DHT_ID_LEN];
    uint8_t type; /* of the request */
    void *circ_h;
    om_stream_t *st;
    uint8_t *req;
    size_t req_len;
    uint8_t in[OM_DHT_FRAME_HDR + OM_DHT_MSG_MAX];
    size_t in_len;
    struct event *timer;
} query_t;

struct om_dht {
    om_dht_params_t p;
    op_t *ops;
    query_t *queries;
    provided_t *provided;
    size_t n_provided;
    struct event *republish;
    om_dht_stats_t st;
    uint32_t next_id;
    om_dht_msg_t msg; /* scratch */
};

static const uint8_t no_self[OM_DHT_ID_LEN];

bool om_dht_is_member(const om_routerstatus_t *rs)
{
    return (rs->flags & OM_RS_RUNNING) && (rs->proto.onionmesh_dht & 2);
}

bool om_dht_provider_ok(const om_consensus_t *c, const om_dht_record_t *r)
{
    if (r->kind != OM_DHT_KIND_PROVIDER || r->value_len != OM_DHT_ID_LEN || !c) return false;
    const om_routerstatus_t *rs = om_consensus_find(c, r->value);
    return rs && rs->md && rs->md->has_ed && !(rs->flags & OM_RS_NOEDCONSENSUS) &&
           !memcmp(rs->md->ed_id, r->publisher, OM_DHT_PUB_LEN);
}

static const om_consensus_t *consensus(const om_dht_t *d)
{
    return d->p.consensus ? d->p.consensus(d->p.arg) : NULL;
}

/* ---------------------------------------------------------------- queries */

static void op_step(op_t *o);

static void query_free(om_dht_t *d, query_t *q)
{
    for (query_t **pp = &d->queries; *pp; pp = &(*pp)->next)
        if (*pp == q) {
            *pp = q->next;
            break;
        }
    if (q->circ_h) d->p.cancel_circ(d->p.arg, q->circ_h);
    if (q->st) om_stream_close(q->st, OM_END_DONE);
    if (q->timer) event_free(q->timer);
    free(q->req);
    free(q);
}

/* The answer m (NULL: the query failed) for o's lookup or store. */
static void op_answer(op_t *o, const uint8_t node[OM_DHT_ID_LEN], uint8_t type,
                      const om_dht_msg_t *m)
{
    om_dht_t *d = o->d;
    const om_consensus_t *c = consensus(d);
    o->pending--;
    if (!m) d->st.query_failures++;
    if (type == OM_DHT_ADD_PROVIDER) {
        o->accepted += m && m->type == OM_DHT_ADDED && m->code == OM_DHT_ADDED_OK;
        return;
    }
    if (!m || (m->type != OM_DHT_NODES && m->type != OM_DHT_PROVIDERS)) {
        om_dht_lookup_failed(&o->l, node);
        return;
    }
    uint8_t named[OM_DHT_MAX_NODES][OM_DHT_ID_LEN];
    size_t n = 0;
    for (size_t i = 0; i < m->n_nodes; i++) {
        const om_routerstatus_t *rs = c ? om_consensus_find(c, m->nodes[i]) : NULL;
        if (rs && om_dht_is_member(rs)) memcpy(named[n++], m->nodes[i], OM_DHT_ID_LEN);
    }
    om_dht_lookup_answer(&o->l, node, (const uint8_t(*)[OM_DHT_ID_LEN])named, n);
    for (size_t i = 0; i < m->n_records && o->kind == OP_FIND; i++) {
        const om_dht_record_t *r = &m->records[i];
        char err[96] = "";
        if (memcmp(r->key, o->key, OM_DHT_ID_LEN) ||
            om_dht_record_check(r, (uint64_t)time(NULL), err, sizeof err) != OM_DHT_ADDED_OK ||
            !om_dht_provider_ok(c, r)) {
            d->st.records_rejected++;
            om_info("DHT: a record from %02X%02X... rejected: %s", node[0], node[1],
                    err[0] ? err : "key or publisher does not match");
            continue;
        }
        bool dup = false;
        for (size_t k = 0; k < o->n_found && !dup; k++)
            dup = !memcmp(o->found[k].value, r->value, OM_DHT_ID_LEN);
        if (!dup && o->n_found < OM_DHT_MAX_RECORDS) o->found[o->n_found++] = *r;
    }
}

/* The query's end: its answer (m) or failure (NULL); then the op moves on. */
static void query_end(query_t *q, const om_dht_msg_t *m)
{
    op_t *o = q->op;
    uint8_t node[OM_DHT_ID_LEN];
    memcpy(node, q->node, sizeof node);
    uint8_t type = q->type;
    query_free(o->d, q);
    op_answer(o, node, type, m);
    op_step(o);
}

static void q_connected(om_stream_t *s, void *arg)
{
    query_t *q = arg;
    if (om_stream_write(s, q->req, q->req_len) != (ssize_t)q->req_len) {
        q->st = NULL;
        om_stream_close(s, OM_END_MISC);
        query_end(q, NULL);
    }
}

static void q_data(om_stream_t *s, const uint8_t *data, size_t len, void *arg)
{
    query_t *q = arg;
    om_dht_t *d = q->op->d;
    const uint8_t *body = NULL;
    size_t blen = 0;
    long took = -1; /* more than one frame: a bad answer */
    if (len <= sizeof q->in - q->in_len) {
        memcpy(q->in + q->in_len, data, len);
        q->in_len += len;
        took = om_dht_frame_next(q->in, q->in_len, &body, &blen);
        if (took == 0) return;
    }
    char err[96] = "bad frame";
    bool ok = took > 0 && (size_t)took == q->in_len &&
              om_dht_msg_parse(body, blen, &d->msg, err, sizeof err) == 0 &&
              d->msg.id == ((uint32_t)q->req[4] << 24 | (uint32_t)q->req[5] << 16 |
                            (uint32_t)q->req[6] << 8 | q->req[7]);
    if (!ok) om_info("DHT: a bad answer from %02X%02X...: %s", q->node[0], q->node[1], err);
    q->st = NULL;
    om_stream_close(s, OM_END_DONE);
    query_end(q, ok ? &d->msg : NULL);
}

static void q_end(om_stream_t *s, uint8_t reason, const char *why, void *arg)
{
    query_t *q = arg;
    (void)s;
    om_info("DHT: the stream to %02X%02X... ended before the answer (reason %u%s%s)", q->node[0],
            q->node[1], reason, why ? ": " : "", why ? why : "");
    q->st = NULL; /* the circuit layer forgets it */
    query_end(q, NULL);
}

static void q_circ(om_circuit_t *circ, const char *err, void *arg)
{
    query_t *q = arg;
    q->circ_h = NULL;
    if (!circ) {
        om_info("DHT: no circuit to %02X%02X...: %s", q->node[0], q->node[1], err);
        query_end(q, NULL);
        return;
    }
    om_stream_callbacks_t cb = {
        .on_connected = q_connected, .on_data = q_data, .on_end = q_end, .arg = q};
    q->st = om_stream_begin(circ, OM_DHT_HOSTNAME, OM_DHT_PORT, 0, &cb);
    if (!q->st) query_end(q, NULL);
}

static void q_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    query_t *q = arg;
    om_info("DHT: no answer from %02X%02X... in time", q->node[0], q->node[1]);
    query_end(q, NULL);
}

/* Send m (its ID set here) to node for o. */
static void query_start(op_t *o, const uint8_t node[OM_DHT_ID_LEN], om_dht_msg_t *m)
{
    om_dht_t *d = o->d;
    query_t *q = calloc(1, sizeof *q);
    m->id = ++d->next_id;
    uint8_t frame[OM_DHT_FRAME_HDR + OM_DHT_MSG_MAX];
    long n = q ? om_dht_msg_encode(m, frame, sizeof frame) : -1;
    if (n > 0) q->req = malloc((size_t)n);
    if (q && d->p.base) q->timer = evtimer_new(d->p.base, q_timeout, q);
    o->pending++;
    d->st.queries++;
    if (!q || !q->req || !q->timer) {
        if (q) {
            if (q->timer) event_free(q->timer);
            free(q->req);
            free(q);
        }
        op_answer(o, node, m->type, NULL);
        return;
    }
    memcpy(q->req, frame, (size_t)n);
    q->req_len = (size_t)n;
    q->op = o;
    q->type = m->type;
    memcpy(q->node, node, OM_DHT_ID_LEN);
    q->next = d->queries;
    d->queries = q;
    struct timeval tv = {d->p.query_timeout_s, 0};
    evtimer_add(q->timer, &tv);
    q->circ_h = d->p.get_circ(d->p.arg, node, q_circ, q);
}

/* ---------------------------------------------------------------- operations */

static void op_free(om_dht_t *d, op_t *o)
{
    for (op_t **pp = &d->ops; *pp; pp = &(*pp)->next)
        if (*pp == o) {
            *pp = o->next;
            break;
        }
    free(o);
}

static void op_finish(op_t *o)
{
    om_dht_t *d = o->d;
    if (o->kind == OP_FIND) {
        d->st.lookups_ok += o->n_found > 0;
        if (o->find_cb)
            o->find_cb(o->arg, o->found, o->n_found, o->n_found ? NULL : "no provider found");
    } else {
        d->st.lookups_ok += o->accepted > 0;
        om_info("DHT: provider record stored at %u of %u nodes", o->accepted, o->asked);
        if (o->provide_cb)
            o->provide_cb(o->arg, o->accepted, o->asked,
                          o->accepted ? NULL : "no node accepted the record");
    }
    op_free(d, o);
}

static void op_step(op_t *o)
{
    om_dht_t *d = o->d;
    if (o->storing) {
        if (!o->pending) op_finish(o);
        return;
    }
    bool enough = o->kind == OP_FIND && o->n_found > 0;
    if (!enough && !om_dht_lookup_done(&o->l)) {
        uint8_t next[16][OM_DHT_ID_LEN]; /* the lookup keeps alpha (at most 16) in flight */
        size_t n = om_dht_lookup_next(&o->l, next, sizeof next / sizeof next[0]);
        for (size_t i = 0; i < n; i++) {
            memset(&d->msg, 0, offsetof(om_dht_msg_t, records));
            d->msg.type = o->kind == OP_FIND ? OM_DHT_GET_PROVIDERS : OM_DHT_FIND_NODE;
            memcpy(d->msg.target, o->key, OM_DHT_ID_LEN);
            query_start(o, next[i], &d->msg);
        }
    }
    if (o->pending) return;
    if (o->kind == OP_FIND) {
        op_finish(o);
        return;
    }
    /* PROVIDE: the lookup is over; store at the closest that answered. */
    uint8_t near[OM_DHT_K][OM_DHT_ID_LEN];
    size_t n = om_dht_lookup_result(&o->l, near, OM_DHT_K);
    o->storing = true;
    o->asked = (unsigned)n;
    for (size_t i = 0; i < n; i++) {
        memset(&d->msg, 0, offsetof(om_dht_msg_t, records));
        d->msg.type = OM_DHT_ADD_PROVIDER;
        d->msg.n_records = 1;
        d->msg.records[0] = o->rec;
        query_start(o, near[i], &d->msg);
    }
    if (!o->pending) op_finish(o);
}

/* A new lookup for key, seeded with the members of the consensus closest to it. */
static op_t *op_new(om_dht_t *d, int kind, const uint8_t key[OM_DHT_ID_LEN])
{
    const om_consensus_t *c = consensus(d);
    if (!c) return NULL;
    op_t *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    om_dht_table_t *t = malloc(sizeof *t); /* the members as a table: its closest-node sort */
    if (!t) {
        free(o);
        return NULL;
    }
    uint8_t self[OM_DHT_ID_LEN];
    for (size_t i = 0; i < OM_DHT_ID_LEN; i++)
        self[i] = (uint8_t)~key[i]; /* farthest from the key: every bucket near it has room */
    om_dht_table_init(t, self);
    for (size_t i = 0; i < c->n_routers; i++) {
        uint8_t ping[OM_DHT_ID_LEN];
        if (om_dht_is_member(&c->routers[i])) om_dht_table_seen(t, c->routers[i].rsa_id, 0, ping);
    }
    om_dht_node_t near[OM_DHT_VALUE_K];
    size_t n = om_dht_table_closest(t, key, near, OM_DHT_VALUE_K);
    free(t);
    uint8_t seeds[OM_DHT_VALUE_K][OM_DHT_ID_LEN];
    for (size_t i = 0; i < n; i++)
        memcpy(seeds[i], near[i].id, OM_DHT_ID_LEN);
    o->d = d;
    o->kind = kind;
    memcpy(o->key, key, OM_DHT_ID_LEN);
    om_dht_lookup_init(&o->l, no_self, key, d->p.alpha, kind == OP_FIND ? OM_DHT_VALUE_K : OM_DHT_K,
                       (const uint8_t(*)[OM_DHT_ID_LEN])seeds, n);
    o->next = d->ops;
    d->ops = o;
    d->st.lookups++;
    return o;
}

int om_dht_find_providers(om_dht_t *d, const uint8_t key[OM_DHT_ID_LEN], om_dht_providers_cb cb,
                          void *arg)
{
    op_t *o = op_new(d, OP_FIND, key);
    if (!o) return -1;
    o->find_cb = cb;
    o->arg = arg;
    op_step(o);
    return 0;
}

static int provide_once(om_dht_t *d, const provided_t *pv, om_dht_provide_cb cb, void *arg)
{
    op_t *o = op_new(d, OP_PROVIDE, pv->key);
    if (!o) return -1;
    o->provide_cb = cb;
    o->arg = arg;
    uint64_t now = (uint64_t)time(NULL);
    o->rec.kind = OM_DHT_KIND_PROVIDER;
    memcpy(o->rec.key, pv->key, OM_DHT_ID_LEN);
    o->rec.created = now;
    o->rec.expires = now + OM_DHT_RECORD_LIFETIME;
    o->rec.value_len = OM_DHT_ID_LEN;
    memcpy(o->rec.value, pv->fp, OM_DHT_ID_LEN);
    if (om_dht_record_sign(&o->rec, &pv->id) < 0) {
        op_free(d, o);
        return -1;
    }
    op_step(o);
    return 0;
}

int om_dht_provide(om_dht_t *d, const uint8_t key[OM_DHT_ID_LEN],
                   const om_ed25519_keypair_t *relay_id, const uint8_t relay_fp[OM_DHT_ID_LEN],
                   om_dht_provide_cb cb, void *arg)
{
    provided_t *pv = NULL;
    for (size_t i = 0; i < d->n_provided && !pv; i++)
        if (!memcmp(d->provided[i].key, key, OM_DHT_ID_LEN)) pv = &d->provided[i];
    if (!pv) {
        if (d->n_provided >= OM_DHT_MAX_PROVIDED) return -1;
        provided_t *g = realloc(d->provided, (d->n_provided + 1) * sizeof *g);
        if (!g) return -1;
        d->provided = g;
        pv = &d->provided[d->n_provided++];
    }
    memcpy(pv->key, key, OM_DHT_ID_LEN);
    memcpy(pv->fp, relay_fp, OM_DHT_ID_LEN);
    pv->id = *relay_id;
    return provide_once(d, pv, cb, arg);
}

void om_dht_unprovide(om_dht_t *d, const uint8_t key[OM_DHT_ID_LEN])
{
    for (size_t i = 0; i < d->n_provided; i++)
        if (!memcmp(d->provided[i].key, key, OM_DHT_ID_LEN)) {
            d->provided[i] = d->provided[--d->n_provided];
            return;
        }
}

static void republish_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    om_dht_t *d = arg;
    for (size_t i = 0; i < d->n_provided; i++)
        if (provide_once(d, &d->provided[i], NULL, NULL) == 0) d->st.republished++;
}

om_dht_t *om_dht_new(const om_dht_params_t *p)
{
    om_dht_t *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->p = *p;
    if (d->p.alpha <= 0) d->p.alpha = OM_DHT_ALPHA;
    if (d->p.query_timeout_s <= 0) d->p.query_timeout_s = OM_DHT_QUERY_TIMEOUT_S;
    om_rand_bytes((uint8_t *)&d->next_id, sizeof d->next_id);
    if (p->base) {
        d->republish = event_new(p->base, -1, EV_PERSIST, republish_cb, d);
        struct timeval tv = {OM_DHT_REPUBLISH_S, 0};
        if (!d->republish || event_add(d->republish, &tv) < 0) {
            om_dht_free(d);
            return NULL;
        }
    }
    return d;
}

void om_dht_free(om_dht_t *d)
{
    if (!d) return;
    while (d->queries)
        query_free(d, d->queries);
    while (d->ops)
        op_free(d, d->ops);
    if (d->republish) event_free(d->republish);
    if (d->provided) om_memwipe(d->provided, d->n_provided * sizeof *d->provided);
    free(d->provided);
    free(d);
}

void om_dht_stats(const om_dht_t *d, om_dht_stats_t *out)
{
    *out = d->st;
    out->provided = (unsigned)d->n_provided;
}
