/* or_streams.c — the last hop's streams on a relay: BEGIN_DIR served from the directory cache
 * (tor-spec 6.2: CONNECTED, then the HTTP exchange, then END DONE), BEGIN/RESOLVE refused with
 * END EXITPOLICY (no exit yet), windows and authenticated SENDMEs (tor-spec 7.3, 7.4, proposal
 * 289) for what we send and what we receive, END handling. */
#include "or/or_streams.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define CIRC_WINDOW_START   1000
#define CIRC_WINDOW_INC     100
#define STREAM_WINDOW_START 500
#define STREAM_WINDOW_INC   50
#define SENDME_DIGESTS_MAX  (CIRC_WINDOW_START / CIRC_WINDOW_INC)

typedef struct stream {
    struct stream *next;
    uint16_t id;
    int package_window, deliver_window;
    char req[OM_DIRCACHE_MAX_REQUEST];
    size_t req_len;
    uint8_t *resp;
    size_t resp_len, resp_off;
} stream_t;

typedef struct {
    stream_t *streams;
    unsigned n_streams;
    int package_window, deliver_window;
    uint8_t sendme_digests[SENDME_DIGESTS_MAX][20];
    int n_sendme_digests;
} circ_state_t;

struct om_or_streams {
    om_dircache_t *dircache;
    om_or_streams_stats_t st;
};

om_or_streams_t *om_or_streams_new(om_dircache_t *dircache)
{
    om_or_streams_t *s = calloc(1, sizeof *s);
    if (s) s->dircache = dircache;
    return s;
}

void om_or_streams_free(om_or_streams_t *s)
{
    free(s);
}

void om_or_streams_stats(const om_or_streams_t *s, om_or_streams_stats_t *out)
{
    *out = s->st;
}

static circ_state_t *state_of(om_or_circ_t *circ)
{
    if (!circ->stream_state) {
        circ_state_t *cs = calloc(1, sizeof *cs);
        if (!cs) return NULL;
        cs->package_window = CIRC_WINDOW_START;
        cs->deliver_window = CIRC_WINDOW_START;
        circ->stream_state = cs;
    }
    return circ->stream_state;
}

static stream_t *find_stream(circ_state_t *cs, uint16_t id)
{
    for (stream_t *s = cs->streams; s; s = s->next)
        if (s->id == id) return s;
    return NULL;
}

static void stream_free(circ_state_t *cs, stream_t *s)
{
    for (stream_t **pp = &cs->streams; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            cs->n_streams--;
            break;
        }
    free(s->resp);
    free(s);
}

static void send_end(om_or_circ_t *circ, uint16_t id, uint8_t reason)
{
    om_or_circ_send_back(circ, OM_RELAY_END, id, &reason, 1);
}

/* Send what the windows allow of each stream's response; END DONE when one is all sent. */
static void pump(om_or_circ_t *circ, circ_state_t *cs)
{
    stream_t *s = cs->streams;
    while (s && cs->package_window > 0) {
        stream_t *next = s->next;
        while (s->resp && s->resp_off < s->resp_len && s->package_window > 0 &&
               cs->package_window > 0) {
            size_t n = s->resp_len - s->resp_off;
            if (n > OM_RELAY_PAYLOAD_LEN) n = OM_RELAY_PAYLOAD_LEN;
            if (om_or_circ_send_back(circ, OM_RELAY_DATA, s->id, s->resp + s->resp_off, n) < 0)
                return;
            s->resp_off += n;
            s->package_window--;
            cs->package_window--;
            /* Proposal 289: the client answers every 100th DATA cell with a SENDME carrying
             * the digest of that cell. */
            if (cs->package_window % CIRC_WINDOW_INC == 0 &&
                cs->n_sendme_digests < SENDME_DIGESTS_MAX)
                om_relay_crypto_last_digest_back(&circ->crypto,
                                                 cs->sendme_digests[cs->n_sendme_digests++]);
        }
        if (s->resp && s->resp_off == s->resp_len) {
            send_end(circ, s->id, OM_END_DONE);
            stream_free(cs, s);
        }
        s = next;
    }
}

static int circuit_sendme(om_or_circ_t *circ, circ_state_t *cs, const uint8_t *body, size_t len)
{
    /* tor-spec 7.3.1: version 1 carries the digest of our DATA cell that triggered it. */
    if (cs->n_sendme_digests == 0 || cs->package_window + CIRC_WINDOW_INC > CIRC_WINDOW_START) {
        om_info("Circuit %u: unexpected circuit SENDME (window %d)", circ->p_circ_id,
                cs->package_window);
        return -1;
    }
    if (len >= 3 && body[0] == 1) {
        size_t dlen = (size_t)body[1] << 8 | body[2];
        if (dlen < 20 || len < 3 + dlen || !om_mem_eq_ct(cs->sendme_digests[0], body + 3, 20)) {
            om_info("Circuit %u: SENDME with a wrong digest", circ->p_circ_id);
            return -1;
        }
    }
    memmove(cs->sendme_digests[0], cs->sendme_digests[1], (size_t)(cs->n_sendme_digests - 1) * 20);
    cs->n_sendme_digests--;
    cs->package_window += CIRC_WINDOW_INC;
    pump(circ, cs);
    return 0;
}

/* A DATA cell for us: count it against the circuit's deliver window, sending SENDME v1. */
static void note_delivered(om_or_circ_t *circ, circ_state_t *cs)
{
    if (--cs->deliver_window <= CIRC_WINDOW_START - CIRC_WINDOW_INC) {
        uint8_t body[3 + 20] = {1, 0, 20};
        om_relay_crypto_last_digest_fwd(&circ->crypto, body + 3);
        om_or_circ_send_back(circ, OM_RELAY_SENDME, 0, body, sizeof body);
        cs->deliver_window += CIRC_WINDOW_INC;
    }
}

static void begin_dir(om_or_streams_t *m, om_or_circ_t *circ, circ_state_t *cs, uint16_t id)
{
    if (!m->dircache || !om_dircache_ready(m->dircache)) {
        send_end(circ, id, OM_END_NOTDIRECTORY);
        return;
    }
    if (cs->n_streams >= OM_OR_MAX_STREAMS_PER_CIRC) {
        send_end(circ, id, OM_END_RESOURCELIMIT);
        return;
    }
    stream_t *s = calloc(1, sizeof *s);
    if (!s) {
        send_end(circ, id, OM_END_RESOURCELIMIT);
        return;
    }
    s->id = id;
    s->package_window = STREAM_WINDOW_START;
    s->deliver_window = STREAM_WINDOW_START;
    s->next = cs->streams;
    cs->streams = s;
    cs->n_streams++;
    /* tor-spec 6.2: BEGIN_DIR is answered with an empty CONNECTED. */
    om_or_circ_send_back(circ, OM_RELAY_CONNECTED, id, NULL, 0);
}

static void stream_data(om_or_streams_t *m, om_or_circ_t *circ, circ_state_t *cs, stream_t *s,
                        const uint8_t *body, size_t len)
{
    if (--s->deliver_window <= STREAM_WINDOW_START - STREAM_WINDOW_INC) {
        om_or_circ_send_back(circ, OM_RELAY_SENDME, s->id, NULL, 0);
        s->deliver_window += STREAM_WINDOW_INC;
    }
    if (s->resp) return; /* already answering: HTTP/1.0, one request per stream */
    if (s->req_len + len > sizeof s->req) {
        om_info("Circuit %u stream %u: directory request longer than %d bytes", circ->p_circ_id,
                s->id, OM_DIRCACHE_MAX_REQUEST);
        send_end(circ, s->id, OM_END_TORPROTOCOL);
        stream_free(cs, s);
        return;
    }
    memcpy(s->req + s->req_len, body, len);
    s->req_len += len;
    char path[1024];
    int r = om_dircache_parse_request(s->req, s->req_len, path, sizeof path);
    if (r == 0) return;
    if (r < 0) {
        static const char bad[] = "HTTP/1.0 400 Bad request\r\n\r\n";
        s->resp = malloc(sizeof bad - 1);
        if (s->resp) {
            memcpy(s->resp, bad, sizeof bad - 1);
            s->resp_len = sizeof bad - 1;
        }
    } else {
        s->resp = om_dircache_answer(m->dircache, path, &s->resp_len);
        m->st.dir_requests++;
        om_debug("Circuit %u stream %u: directory GET %.100s -> %zu bytes", circ->p_circ_id, s->id,
                 path, s->resp_len);
    }
    if (!s->resp) {
        send_end(circ, s->id, OM_END_INTERNAL);
        stream_free(cs, s);
        return;
    }
    m->st.dir_bytes += s->resp_len;
    pump(circ, cs);
}

int om_or_streams_handle(om_or_circ_t *circ, const om_relay_header_t *hdr, const uint8_t *body,
                         bool early, void *arg)
{
    om_or_streams_t *m = arg;
    (void)early;
    circ_state_t *cs = state_of(circ);
    if (!cs) return -1;
    stream_t *s = hdr->stream_id ? find_stream(cs, hdr->stream_id) : NULL;
    switch (hdr->command) {
    case OM_RELAY_BEGIN_DIR:
        if (!hdr->stream_id || s) {
            om_info("Circuit %u: BEGIN_DIR with stream ID %u %s", circ->p_circ_id, hdr->stream_id,
                    s ? "already in use" : "(zero)");
            return -1;
        }
        begin_dir(m, circ, cs, hdr->stream_id);
        return 0;
    case OM_RELAY_BEGIN:
    case OM_RELAY_RESOLVE:
        /* Not an exit: tor-spec 6.2 END EXITPOLICY (tor's non-exits answer so). */
        m->st.refused_begin++;
        send_end(circ, hdr->stream_id, OM_END_EXITPOLICY);
        return 0;
    case OM_RELAY_DATA:
        if (!hdr->stream_id) return -1;
        note_delivered(circ, cs);
        if (s) stream_data(m, circ, cs, s, body, hdr->length);
        return 0; /* data for a stream we closed (half-closed): dropped */
    case OM_RELAY_END:
        if (s) stream_free(cs, s);
        return 0;
    case OM_RELAY_SENDME:
        if (!hdr->stream_id) return circuit_sendme(circ, cs, body, hdr->length);
        if (s) {
            if (s->package_window + STREAM_WINDOW_INC > STREAM_WINDOW_START) {
                om_info("Circuit %u stream %u: unexpected stream SENDME", circ->p_circ_id, s->id);
                return -1;
            }
            s->package_window += STREAM_WINDOW_INC;
            pump(circ, cs);
        }
        return 0;
    default:
        om_debug("Circuit %u: ignoring relay command %s", circ->p_circ_id,
                 om_relay_command_name(hdr->command));
        return 0;
    }
}

void om_or_streams_circ_free(om_or_circ_t *circ, void *arg)
{
    (void)arg;
    circ_state_t *cs = circ->stream_state;
    if (!cs) return;
    while (cs->streams)
        stream_free(cs, cs->streams);
    free(cs);
    circ->stream_state = NULL;
}
