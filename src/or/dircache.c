/* dircache.c — fetching, verifying and keeping directory documents for a relay's directory cache,
 * and answering tor clients' directory GETs (dir-spec 4 and 6) from them. */
#include "or/dircache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <zlib.h>

#include "core/crypto.h"
#include "core/log.h"
#include "dir/authcert.h"
#include "dir/consensus.h"

#define FETCH_TIMEOUT_S    30
#define RETRY_S            5
#define MAX_DOC            (16u * 1024 * 1024)
#define MAX_MD_PER_REQUEST 92 /* tor's DIR_MAX_MICRODESC_DOWNLOAD */
#define CLOCK_SKEW         (24 * 3600L)

typedef struct {
    uint8_t digest[32];
    char *text;
    size_t len;
} md_entry_t;

typedef struct {
    char *text;
    size_t len;
    time_t fresh_until, valid_until;
} doc_t;

struct om_dircache {
    struct event_base *base;
    om_dir_authority_t *auths;
    size_t n_auths;
    size_t next_auth;
    char *certs_text;
    size_t certs_len;
    om_authcert_t **certs;
    size_t n_certs;
    doc_t cons_md, cons_ns;
    om_consensus_t *md_parsed; /* the microdesc consensus held: which microdescs we want */
    md_entry_t *mds;
    size_t n_mds, cap_mds;
    size_t n_sorted;       /* mds[0, n_sorted) is sorted by digest; the rest is a new batch */
    uint8_t (*wanted)[32]; /* the consensus's microdescriptor digests, sorted */
    size_t n_wanted;
    char *own_desc;
    struct event *timer;
    int step; /* 0 certs, 1 md consensus, 2 ns consensus, 3 microdescs, 4 idle */
    bool fetching;
};

static void schedule(om_dircache_t *d, int seconds);

/* ---------------------------------------------------------------- HTTP GET to an authority */

typedef void (*got_fn)(om_dircache_t *d, int code, const char *body, size_t len);
typedef struct {
    om_dircache_t *d;
    struct evhttp_connection *conn;
    got_fn got;
} get_t;

static void free_conn(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evhttp_connection_free(arg);
}

static void on_get(struct evhttp_request *req, void *arg)
{
    get_t *g = arg;
    om_dircache_t *d = g->d;
    int code = req ? evhttp_request_get_response_code(req) : 0;
    char *body = NULL;
    size_t len = 0;
    if (code == 200) {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        len = evbuffer_get_length(in);
        if (len > MAX_DOC) {
            code = -1;
        } else if ((body = malloc(len + 1)) != NULL) {
            evbuffer_remove(in, body, len);
            body[len] = 0;
        }
    }
    event_base_once(d->base, -1, EV_TIMEOUT, free_conn, g->conn, NULL);
    d->fetching = false;
    g->got(d, body ? code : (code == 200 ? -1 : code), body, len);
    free(body);
    free(g);
}

static int http_get(om_dircache_t *d, const char *path, got_fn got)
{
    const om_dir_authority_t *a = &d->auths[d->next_auth % d->n_auths];
    get_t *g = calloc(1, sizeof *g);
    if (!g) return -1;
    g->d = d;
    g->got = got;
    g->conn = evhttp_connection_base_new(d->base, NULL, a->ipv4, a->dir_port);
    struct evhttp_request *req = g->conn ? evhttp_request_new(on_get, g) : NULL;
    if (!req) {
        if (g->conn) evhttp_connection_free(g->conn);
        free(g);
        return -1;
    }
    evhttp_connection_set_timeout(g->conn, FETCH_TIMEOUT_S);
    char host[64];
    snprintf(host, sizeof host, "%s:%u", a->ipv4, a->dir_port);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", host);
    if (evhttp_make_request(g->conn, req, EVHTTP_REQ_GET, path) < 0) {
        evhttp_connection_free(g->conn);
        free(g);
        return -1;
    }
    d->fetching = true;
    om_debug("Directory cache: GET %.100s from %s:%u", path, a->ipv4, a->dir_port);
    return 0;
}

static void fetch_failed(om_dircache_t *d, const char *what, int code)
{
    const om_dir_authority_t *a = &d->auths[d->next_auth % d->n_auths];
    om_info("Directory cache: fetching %s from %s:%u failed (%d); trying the next authority", what,
            a->ipv4, a->dir_port, code);
    d->next_auth++;
    schedule(d, RETRY_S);
}

/* ---------------------------------------------------------------- documents */

static void got_certs(om_dircache_t *d, int code, const char *body, size_t len)
{
    if (code != 200) return fetch_failed(d, "key certificates", code);
    char err[256];
    size_t n = 0;
    om_authcert_t **certs = om_authcert_parse_many(body, len, &n, err, sizeof err);
    if (!certs) {
        om_warn("Directory cache: authority certificates refused: %s", err);
        return fetch_failed(d, "key certificates", -1);
    }
    om_authcert_free_array(d->certs, d->n_certs);
    free(d->certs_text);
    d->certs = certs;
    d->n_certs = n;
    d->certs_text = malloc(len + 1);
    if (d->certs_text) memcpy(d->certs_text, body, len + 1);
    d->certs_len = d->certs_text ? len : 0;
    d->step = 1;
    schedule(d, 0);
}

static int verify_consensus(om_dircache_t *d, const char *body, size_t len, om_consensus_t **out,
                            char *err, size_t errlen)
{
    om_consensus_t *c = om_consensus_parse(body, len, err, errlen);
    if (!c) return -1;
    uint8_t(*trusted)[20] = calloc(d->n_auths ? d->n_auths : 1, 20);
    size_t nt = 0;
    for (size_t i = 0; trusted && i < d->n_auths; i++)
        if (d->auths[i].has_v3ident) memcpy(trusted[nt++], d->auths[i].v3ident, 20);
    int r = trusted ? om_consensus_verify(c, d->certs, d->n_certs, (const uint8_t(*)[20])trusted,
                                          nt, time(NULL), 60, err, errlen)
                    : -1;
    free(trusted);
    if (r < 0) {
        om_consensus_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

static void keep_doc(doc_t *doc, const char *body, size_t len, const om_consensus_t *c)
{
    char *t = malloc(len + 1);
    if (!t) return;
    memcpy(t, body, len + 1);
    free(doc->text);
    doc->text = t;
    doc->len = len;
    doc->fresh_until = c->fresh_until;
    doc->valid_until = c->valid_until;
}

/* Both md_entry_t and a wanted digest start with the 32-byte digest. */
static int cmp_digest(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

static void got_md_consensus(om_dircache_t *d, int code, const char *body, size_t len)
{
    if (code != 200) return fetch_failed(d, "the microdesc consensus", code);
    char err[512];
    om_consensus_t *c = NULL;
    if (verify_consensus(d, body, len, &c, err, sizeof err) < 0) {
        om_warn("Directory cache: microdesc consensus refused: %s", err);
        /* Perhaps signed by a key we lack: refetch the certificates first. */
        d->step = 0;
        return fetch_failed(d, "the microdesc consensus", -1);
    }
    if (!c->microdesc_flavor) {
        om_consensus_free(c);
        return fetch_failed(d, "the microdesc consensus (wrong flavour)", -1);
    }
    uint8_t(*wanted)[32] = malloc((c->n_routers ? c->n_routers : 1) * sizeof *wanted);
    if (!wanted) {
        om_consensus_free(c);
        return fetch_failed(d, "the microdesc consensus (out of memory)", -1);
    }
    for (size_t i = 0; i < c->n_routers; i++)
        memcpy(wanted[i], c->routers[i].md_digest, 32);
    if (c->n_routers) qsort(wanted, c->n_routers, sizeof *wanted, cmp_digest);
    free(d->wanted);
    d->wanted = wanted;
    d->n_wanted = c->n_routers;
    keep_doc(&d->cons_md, body, len, c);
    om_consensus_free(d->md_parsed);
    d->md_parsed = c;
    om_info("Directory cache: holding a verified microdesc consensus (%zu relays)", c->n_routers);
    d->step = 2;
    schedule(d, 0);
}

static void got_ns_consensus(om_dircache_t *d, int code, const char *body, size_t len)
{
    char err[512];
    om_consensus_t *c = NULL;
    if (code == 200 && verify_consensus(d, body, len, &c, err, sizeof err) == 0 &&
        !c->microdesc_flavor)
        keep_doc(&d->cons_ns, body, len, c);
    else if (code == 200)
        om_warn("Directory cache: ns consensus refused: %s", c ? "wrong flavour" : err);
    om_consensus_free(c);
    d->step = 3;
    schedule(d, 0);
}

static md_entry_t *md_find(om_dircache_t *d, const uint8_t digest[32])
{
    /* bsearch/qsort must not see a NULL array, even with 0 elements (UBSan: nonnull). */
    md_entry_t *e =
        d->n_sorted ? bsearch(digest, d->mds, d->n_sorted, sizeof *d->mds, cmp_digest) : NULL;
    for (size_t i = d->n_sorted; !e && i < d->n_mds; i++)
        if (!memcmp(d->mds[i].digest, digest, 32)) e = &d->mds[i];
    return e;
}

static bool md_wanted(const om_dircache_t *d, const uint8_t digest[32])
{
    return d->n_wanted && bsearch(digest, d->wanted, d->n_wanted, 32, cmp_digest) != NULL;
}

/* Split concatenated microdescriptors at each line starting "onion-key" and keep those whose
 * SHA-256 the consensus lists (dir-spec 3.3: the digest covers the text up to the next one). */
static void got_mds(om_dircache_t *d, int code, const char *body, size_t len)
{
    if (code != 200) return fetch_failed(d, "microdescriptors", code);
    size_t kept = 0;
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *next = p;
        do {
            const char *nl = memchr(next, '\n', (size_t)(end - next));
            next = nl ? nl + 1 : end;
        } while (next < end && strncmp(next, "onion-key", 9) != 0);
        if (strncmp(p, "onion-key", 9) == 0) {
            uint8_t dg[32];
            size_t n = (size_t)(next - p);
            if (om_sha256((const uint8_t *)p, n, dg) == 0 && md_wanted(d, dg) && !md_find(d, dg)) {
                if (d->n_mds == d->cap_mds) {
                    size_t nc = d->cap_mds ? d->cap_mds * 2 : 64;
                    md_entry_t *g = realloc(d->mds, nc * sizeof *g);
                    if (!g) break;
                    d->mds = g;
                    d->cap_mds = nc;
                }
                md_entry_t *e = &d->mds[d->n_mds];
                e->text = malloc(n);
                if (e->text) {
                    memcpy(e->text, p, n);
                    memcpy(e->digest, dg, 32);
                    e->len = n;
                    d->n_mds++;
                    kept++;
                }
            }
        }
        p = next;
    }
    if (d->n_mds) qsort(d->mds, d->n_mds, sizeof *d->mds, cmp_digest);
    d->n_sorted = d->n_mds;
    om_info("Directory cache: kept %zu microdescriptors (%zu held)", kept, d->n_mds);
    schedule(d, 0);
}

/* Forget microdescriptors the current consensus no longer lists; fetch missing ones. */
static int fetch_missing_mds(om_dircache_t *d)
{
    size_t w = 0;
    for (size_t i = 0; i < d->n_mds; i++) {
        if (md_wanted(d, d->mds[i].digest))
            d->mds[w++] = d->mds[i];
        else
            free(d->mds[i].text);
    }
    d->n_mds = d->n_sorted = w; /* order kept */
    char path[64 + MAX_MD_PER_REQUEST * 44];
    size_t off = (size_t)snprintf(path, sizeof path, "/tor/micro/d/");
    unsigned n = 0;
    for (size_t i = 0; d->md_parsed && i < d->md_parsed->n_routers && n < MAX_MD_PER_REQUEST; i++) {
        const uint8_t *dg = d->md_parsed->routers[i].md_digest;
        if (md_find(d, dg)) continue;
        char b64[48];
        om_base64_encode(dg, 32, b64, sizeof b64, true);
        off += (size_t)snprintf(path + off, sizeof path - off, "%s%s", n ? "-" : "", b64);
        n++;
    }
    if (!n) return 0;
    return http_get(d, path, got_mds) == 0 ? 1 : -1;
}

static void step_cb(evutil_socket_t fd, short what, void *arg)
{
    om_dircache_t *d = arg;
    (void)fd;
    (void)what;
    if (d->fetching || !d->n_auths) return;
    int r = 0;
    switch (d->step) {
    case 0:
        r = http_get(d, "/tor/keys/all", got_certs);
        break;
    case 1:
        r = http_get(d, "/tor/status-vote/current/consensus-microdesc", got_md_consensus);
        break;
    case 2:
        r = http_get(d, "/tor/status-vote/current/consensus", got_ns_consensus);
        break;
    case 3: {
        int m = fetch_missing_mds(d);
        if (m > 0) return;
        r = m;
        if (m == 0) {
            /* All held: next round when this consensus goes stale (tor caches fetch right
             * after fresh-until), at least every 10 s, at most hourly. */
            d->step = 1;
            long wait = (long)(d->cons_md.fresh_until - time(NULL)) + 2;
            schedule(d, wait < 10 ? 10 : wait > 3600 ? 3600 : (int)wait);
            return;
        }
        break;
    }
    default:
        return;
    }
    if (r < 0) fetch_failed(d, "a directory document", -1);
}

static void schedule(om_dircache_t *d, int seconds)
{
    struct timeval tv = {seconds, 0};
    event_add(d->timer, &tv);
}

om_dircache_t *om_dircache_new(struct event_base *base, const om_dir_authority_t *auths,
                               size_t n_auths)
{
    om_dircache_t *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->base = base;
    d->auths = calloc(n_auths ? n_auths : 1, sizeof *auths);
    d->timer = event_new(base, -1, 0, step_cb, d);
    if (!d->auths || !d->timer) {
        om_dircache_free(d);
        return NULL;
    }
    for (size_t i = 0; i < n_auths; i++)
        if (!auths[i].is_bridge && auths[i].dir_port) d->auths[d->n_auths++] = auths[i];
    schedule(d, 0);
    return d;
}

void om_dircache_free(om_dircache_t *d)
{
    if (!d) return;
    if (d->timer) event_free(d->timer);
    free(d->auths);
    free(d->certs_text);
    free(d->own_desc);
    om_authcert_free_array(d->certs, d->n_certs);
    free(d->cons_md.text);
    free(d->cons_ns.text);
    om_consensus_free(d->md_parsed);
    for (size_t i = 0; i < d->n_mds; i++)
        free(d->mds[i].text);
    free(d->mds);
    free(d->wanted);
    free(d);
}

void om_dircache_set_own_descriptor(om_dircache_t *d, const char *desc)
{
    char *c = strdup(desc);
    if (!c) return;
    free(d->own_desc);
    d->own_desc = c;
}

int32_t om_dircache_param(const om_dircache_t *d, const char *name, int32_t def, int32_t min,
                          int32_t max)
{
    if (!d || !d->md_parsed) return def < min ? min : def > max ? max : def;
    return om_consensus_param(d->md_parsed, name, def, min, max);
}

bool om_dircache_knows_relay(const om_dircache_t *d, const uint8_t rsa_id[20])
{
    return d && d->md_parsed && om_consensus_find(d->md_parsed, rsa_id) != NULL;
}

bool om_dircache_ready(const om_dircache_t *d)
{
    return d && d->cons_md.text && time(NULL) < d->cons_md.valid_until;
}

/* ---------------------------------------------------------------- answering */

int om_dircache_parse_request(const char *req, size_t len, char *path, size_t pathsz)
{
    size_t scan = len < OM_DIRCACHE_MAX_REQUEST ? len : OM_DIRCACHE_MAX_REQUEST;
    const char *end = NULL;
    for (size_t i = 0; i + 3 < scan; i++)
        if (!memcmp(req + i, "\r\n\r\n", 4)) {
            end = req + i + 4;
            break;
        }
    if (!end) return len >= OM_DIRCACHE_MAX_REQUEST ? -1 : 0;
    if (len < 4 || memcmp(req, "GET ", 4) != 0) return -1;
    const char *p = req + 4;
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    const char *crlf = memchr(p, '\r', (size_t)(end - p));
    if (!sp || !crlf || sp > crlf || sp == p || *p != '/') return -1;
    if ((size_t)(crlf - sp) < 9 || memcmp(sp + 1, "HTTP/1.", 7) != 0) return -1;
    size_t plen = (size_t)(sp - p);
    if (plen + 1 > pathsz) return -1;
    for (size_t i = 0; i < plen; i++)
        if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f) return -1;
    memcpy(path, p, plen);
    path[plen] = 0;
    return (int)(end - req);
}

static uint8_t *response(int code, const char *reason, const char *body, size_t blen, bool z,
                         size_t *outlen)
{
    uint8_t *zbody = NULL;
    uLongf zlen = 0;
    if (z && blen) {
        zlen = compressBound((uLong)blen);
        zbody = malloc(zlen);
        if (!zbody || compress2(zbody, &zlen, (const Bytef *)body, (uLong)blen, 6) != Z_OK) {
            free(zbody);
            return NULL;
        }
        body = (const char *)zbody;
        blen = zlen;
    }
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.0 %d %s\r\nDate: %s\r\nContent-Type: text/plain\r\n%s\r\n", code,
                      reason, date, z && blen ? "Content-Encoding: deflate\r\n" : "");
    uint8_t *out = malloc((size_t)hl + blen);
    if (out) {
        memcpy(out, head, (size_t)hl);
        if (blen) memcpy(out + hl, body, blen);
        *outlen = (size_t)hl + blen;
    }
    free(zbody);
    return out;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

uint8_t *om_dircache_answer(om_dircache_t *d, const char *path_in, size_t *outlen)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", path_in);
    size_t pl = strlen(path);
    bool z = pl > 2 && !strcmp(path + pl - 2, ".z");
    if (z) path[pl - 2] = 0;
    time_t now = time(NULL);
    const doc_t *doc = NULL;
    if (has_prefix(path, "/tor/status-vote/current/consensus-microdesc") &&
        (path[44] == 0 || path[44] == '/'))
        doc = &d->cons_md;
    else if (has_prefix(path, "/tor/status-vote/current/consensus") &&
             (path[34] == 0 || path[34] == '/'))
        doc = &d->cons_ns;
    if (doc) {
        if (!doc->text || now >= doc->valid_until)
            return response(404, "Consensus not found", NULL, 0, false, outlen);
        return response(200, "OK", doc->text, doc->len, z, outlen);
    }
    if (has_prefix(path, "/tor/keys/")) {
        if (!d->certs_text) return response(404, "Not found", NULL, 0, false, outlen);
        /* Every certificate we hold (a few at most): the client keeps the ones it asked for. */
        return response(200, "OK", d->certs_text, d->certs_len, z, outlen);
    }
    if (!strcmp(path, "/tor/server/authority") && d->own_desc)
        return response(200, "OK", d->own_desc, strlen(d->own_desc), z, outlen);
    if (has_prefix(path, "/tor/micro/d/")) {
        size_t cap = 0, len = 0;
        char *body = NULL;
        for (char *tok = strtok(path + 13, "-"); tok; tok = strtok(NULL, "-")) {
            uint8_t dg[33];
            if (strlen(tok) != 43 || om_base64_decode(tok, 43, dg, sizeof dg) != 32) continue;
            md_entry_t *e = md_find(d, dg);
            if (!e) continue;
            if (len + e->len > cap) {
                size_t nc = (len + e->len) * 2;
                char *g = realloc(body, nc);
                if (!g) break;
                body = g;
                cap = nc;
            }
            memcpy(body + len, e->text, e->len);
            len += e->len;
        }
        uint8_t *r = len ? response(200, "OK", body, len, z, outlen)
                         : response(404, "Not found", NULL, 0, false, outlen);
        free(body);
        return r;
    }
    return response(404, "Not found", NULL, 0, false, outlen);
}
