/* dht_msg.c — the DHT's wire format (dht_msg.h; byte layouts in doc/dht.md): frames, messages
 * and records, parsed with every length checked against what is left and every count against
 * its limit; bytes after a message or a record are an error, as are unknown versions. */
#include "dht/dht_msg.h"

#include <stdio.h>
#include <string.h>

/* A cursor over input: every read checks what is left and latches the first shortfall. */
typedef struct {
    const uint8_t *p;
    size_t left;
    int bad;
} rd_t;

static const uint8_t *take(rd_t *r, size_t n)
{
    if (r->bad || n > r->left) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *q = r->p;
    r->p += n;
    r->left -= n;
    return q;
}

static uint64_t get_be(rd_t *r, size_t n)
{
    const uint8_t *q = take(r, n);
    uint64_t v = 0;
    for (size_t i = 0; q && i < n; i++)
        v = v << 8 | q[i];
    return v;
}

static void copy(rd_t *r, void *dst, size_t n)
{
    const uint8_t *q = take(r, n);
    if (q) memcpy(dst, q, n);
}

/* A writer: out of room latches bad. */
typedef struct {
    uint8_t *p;
    size_t left;
    int bad;
} wr_t;

static void put(wr_t *w, const void *src, size_t n)
{
    if (w->bad || n > w->left) {
        w->bad = 1;
        return;
    }
    memcpy(w->p, src, n);
    w->p += n;
    w->left -= n;
}

static void put_be(wr_t *w, uint64_t v, size_t n)
{
    uint8_t b[8];
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    put(w, b, n);
}

static int fail(char *err, size_t errlen, const char *what)
{
    if (err && errlen) snprintf(err, errlen, "%s", what);
    return -1;
}

long om_dht_frame_next(const uint8_t *buf, size_t len, const uint8_t **body, size_t *body_len)
{
    if (len < OM_DHT_FRAME_HDR) return 0;
    size_t n = (size_t)buf[0] << 8 | buf[1];
    if (n == 0 || n > OM_DHT_MSG_MAX) return -1;
    if (len - OM_DHT_FRAME_HDR < n) return 0;
    *body = buf + OM_DHT_FRAME_HDR;
    *body_len = n;
    return (long)(OM_DHT_FRAME_HDR + n);
}

/* ---------------------------------------------------------------- records */

static void record_fields(const om_dht_record_t *r, wr_t *w)
{
    put_be(w, OM_DHT_VERSION, 1);
    put_be(w, r->kind, 1);
    put(w, r->key, OM_DHT_ID_LEN);
    put(w, r->publisher, OM_DHT_PUB_LEN);
    put_be(w, r->created, 8);
    put_be(w, r->expires, 8);
    put_be(w, r->value_len, 2);
    put(w, r->value, r->value_len);
}

long om_dht_record_signed_part(const om_dht_record_t *r, uint8_t *out, size_t cap)
{
    if (r->value_len > OM_DHT_VALUE_MAX) return -1;
    wr_t w = {out, cap, 0};
    put(&w, OM_DHT_RECORD_SIG_PREFIX, sizeof OM_DHT_RECORD_SIG_PREFIX - 1);
    record_fields(r, &w);
    return w.bad ? -1 : (long)(cap - w.left);
}

long om_dht_record_encode(const om_dht_record_t *r, uint8_t *out, size_t cap)
{
    if (r->value_len > OM_DHT_VALUE_MAX) return -1;
    wr_t w = {out, cap, 0};
    record_fields(r, &w);
    put(&w, r->sig, OM_DHT_SIG_LEN);
    return w.bad ? -1 : (long)(cap - w.left);
}

static int record_read(rd_t *r, om_dht_record_t *rec, char *err, size_t errlen)
{
    if (get_be(r, 1) != OM_DHT_VERSION && !r->bad) return fail(err, errlen, "record version");
    rec->kind = (uint8_t)get_be(r, 1);
    copy(r, rec->key, OM_DHT_ID_LEN);
    copy(r, rec->publisher, OM_DHT_PUB_LEN);
    rec->created = get_be(r, 8);
    rec->expires = get_be(r, 8);
    size_t vlen = (size_t)get_be(r, 2);
    if (r->bad) return fail(err, errlen, "truncated record");
    if (vlen > OM_DHT_VALUE_MAX) return fail(err, errlen, "record value over 512 bytes");
    rec->value_len = (uint16_t)vlen;
    copy(r, rec->value, vlen);
    copy(r, rec->sig, OM_DHT_SIG_LEN);
    if (r->bad) return fail(err, errlen, "truncated record");
    return 0;
}

int om_dht_record_parse(const uint8_t *p, size_t len, om_dht_record_t *rec, char *err,
                        size_t errlen)
{
    rd_t r = {p, len, 0};
    if (record_read(&r, rec, err, errlen) < 0) return -1;
    if (r.left) return fail(err, errlen, "bytes after the record");
    return 0;
}

/* ---------------------------------------------------------------- messages */

static int read_nodes(rd_t *r, om_dht_msg_t *m, char *err, size_t errlen)
{
    size_t n = (size_t)get_be(r, 1);
    if (r->bad) return fail(err, errlen, "truncated node list");
    if (n > OM_DHT_MAX_NODES) return fail(err, errlen, "more than 20 nodes");
    for (size_t i = 0; i < n; i++)
        copy(r, m->nodes[i], OM_DHT_ID_LEN);
    if (r->bad) return fail(err, errlen, "truncated node list");
    m->n_nodes = n;
    return 0;
}

static int read_records(rd_t *r, om_dht_msg_t *m, char *err, size_t errlen)
{
    size_t n = (size_t)get_be(r, 1);
    if (r->bad) return fail(err, errlen, "truncated record list");
    if (n > OM_DHT_MAX_RECORDS) return fail(err, errlen, "more than 16 records");
    for (size_t i = 0; i < n; i++) {
        size_t rlen = (size_t)get_be(r, 2);
        const uint8_t *q = take(r, rlen);
        if (!q) return fail(err, errlen, "truncated record list");
        if (om_dht_record_parse(q, rlen, &m->records[i], err, errlen) < 0) return -1;
    }
    m->n_records = n;
    return 0;
}

int om_dht_msg_parse(const uint8_t *body, size_t len, om_dht_msg_t *m, char *err, size_t errlen)
{
    memset(m, 0, offsetof(om_dht_msg_t, records));
    rd_t r = {body, len, 0};
    if (len > OM_DHT_MSG_MAX) return fail(err, errlen, "message over 4096 bytes");
    uint64_t version = get_be(&r, 1);
    m->type = (uint8_t)get_be(&r, 1);
    m->id = (uint32_t)get_be(&r, 4);
    if (r.bad) return fail(err, errlen, "truncated message header");
    if (version != OM_DHT_VERSION) return fail(err, errlen, "unknown DHT version");
    switch (m->type) {
    case OM_DHT_PING:
        break;
    case OM_DHT_FIND_NODE:
    case OM_DHT_GET_PROVIDERS:
    case OM_DHT_PONG:
        copy(&r, m->target, OM_DHT_ID_LEN);
        break;
    case OM_DHT_ADD_PROVIDER:
        if (record_read(&r, &m->records[0], err, errlen) < 0) return -1;
        m->n_records = 1;
        break;
    case OM_DHT_NODES:
        if (read_nodes(&r, m, err, errlen) < 0) return -1;
        break;
    case OM_DHT_PROVIDERS:
        if (read_records(&r, m, err, errlen) < 0 || read_nodes(&r, m, err, errlen) < 0) return -1;
        break;
    case OM_DHT_ADDED:
    case OM_DHT_ERROR:
        m->code = (uint8_t)get_be(&r, 1);
        break;
    default:
        return fail(err, errlen, "unknown message type");
    }
    if (r.bad) return fail(err, errlen, "truncated message");
    if (r.left) return fail(err, errlen, "bytes after the message");
    return 0;
}

static void write_nodes(wr_t *w, const om_dht_msg_t *m)
{
    put_be(w, m->n_nodes, 1);
    for (size_t i = 0; i < m->n_nodes; i++)
        put(w, m->nodes[i], OM_DHT_ID_LEN);
}

long om_dht_msg_encode(const om_dht_msg_t *m, uint8_t *out, size_t cap)
{
    if (m->n_nodes > OM_DHT_MAX_NODES || m->n_records > OM_DHT_MAX_RECORDS) return -1;
    if (cap < OM_DHT_FRAME_HDR) return -1;
    wr_t w = {out + OM_DHT_FRAME_HDR, cap - OM_DHT_FRAME_HDR, 0};
    put_be(&w, OM_DHT_VERSION, 1);
    put_be(&w, m->type, 1);
    put_be(&w, m->id, 4);
    switch (m->type) {
    case OM_DHT_PING:
        break;
    case OM_DHT_FIND_NODE:
    case OM_DHT_GET_PROVIDERS:
    case OM_DHT_PONG:
        put(&w, m->target, OM_DHT_ID_LEN);
        break;
    case OM_DHT_ADD_PROVIDER:
        if (m->n_records != 1 || m->records[0].value_len > OM_DHT_VALUE_MAX) return -1;
        record_fields(&m->records[0], &w);
        put(&w, m->records[0].sig, OM_DHT_SIG_LEN);
        break;
    case OM_DHT_NODES:
        write_nodes(&w, m);
        break;
    case OM_DHT_PROVIDERS:
        put_be(&w, m->n_records, 1);
        for (size_t i = 0; i < m->n_records; i++) {
            const om_dht_record_t *rec = &m->records[i];
            if (rec->value_len > OM_DHT_VALUE_MAX) return -1;
            put_be(&w, OM_DHT_RECORD_FIXED + rec->value_len, 2);
            record_fields(rec, &w);
            put(&w, rec->sig, OM_DHT_SIG_LEN);
        }
        write_nodes(&w, m);
        break;
    case OM_DHT_ADDED:
    case OM_DHT_ERROR:
        put_be(&w, m->code, 1);
        break;
    default:
        return -1;
    }
    size_t n = cap - OM_DHT_FRAME_HDR - w.left;
    if (w.bad || n > OM_DHT_MSG_MAX) return -1;
    out[0] = (uint8_t)(n >> 8);
    out[1] = (uint8_t)n;
    return (long)(OM_DHT_FRAME_HDR + n);
}
