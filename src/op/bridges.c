/* bridges.c — the OP's bridges (bridges.h): per Bridge line, its transport's factory, a link to
 * the bridge pinned to its fingerprint, a one-hop circuit and a BEGIN_DIR fetch of
 * /tor/server/authority.z, the descriptor's checks, and the routerstatus the circuit pool and
 * the directory client use as first hop. A bridge on a transport that is not confidential
 * (WebSocket) whose ntor key is not known, from its line or because that key failed, is first
 * asked for its descriptor by the transport's own means (descriptor_fetch: plain HTTP on the
 * same port), accepted only with a valid signature of the pinned identity. A failed fetch is
 * retried (tor's bridge descriptor download schedule starts at a few seconds; we retry after
 * RETRY_S), a known descriptor is fetched again every REFETCH_S. */
#include "op/bridges.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/circuit.h"
#include "core/crypto.h"
#include "core/dir_fetch.h"
#include "core/log.h"
#include "dir/microdesc.h"
#include "dir/router_desc.h"
#include "dir/router_desc_sig.h"

#define RETRY_S      10
#define REFETCH_S    (3 * 3600)
#define MAX_DESC_LEN (64 * 1024) /* a server descriptor is a few KB */

typedef struct bridge {
    struct om_bridges *owner;
    om_bridge_conf_t conf;
    const om_bridge_transport_t *transport; /* NULL: plain TLS */
    const om_transport_factory_t *factory;
    char name[128]; /* for logs */
    void *chan_req;
    void *http_req;     /* the transport's own descriptor fetch */
    bool line_key_bad;  /* a circuit with the line's ntor-onion-key failed */
    bool line_key_used; /* the circuit in progress uses it */
    om_circuit_t *circ;
    struct event *timer;
    bool known;
    om_routerstatus_t rs;
    om_microdesc_t md;
} bridge_t;

struct om_bridges {
    om_bridges_params_t p;
    bridge_t *b;
    size_t n;
};

static void fetch_start(bridge_t *br);

int om_bridges_take_descriptor(const om_bridge_conf_t *conf, const char *text, size_t len,
                               om_routerstatus_t *rs, om_microdesc_t *md, char *err, size_t errlen)
{
    om_router_desc_t d;
    char e[200];
    if (om_router_desc_parse(text, len, &d, e, sizeof e) < 0) {
        snprintf(err, errlen, "unparseable descriptor: %s", e);
        return -1;
    }
    if (memcmp(d.rsa_fp, conf->rsa_fp, 20) != 0) {
        snprintf(err, errlen, "the descriptor is of another relay than the Bridge line names");
        return -1;
    }
    if (!d.has_ntor) {
        snprintf(err, errlen, "the descriptor has no ntor-onion-key");
        return -1;
    }
    memset(md, 0, sizeof *md);
    md->has_ntor = true;
    memcpy(md->ntor_key, d.ntor_key, 32);
    md->has_ed = d.has_ed;
    /* Its declared family: path selection keeps the bridge's family out of its circuits. */
    snprintf(md->family, sizeof md->family, "%s", d.family);
    md->family_truncated = d.family_truncated;
    memcpy(md->ed_id, d.ed_id, 32);
    memset(rs, 0, sizeof *rs);
    snprintf(rs->nickname, sizeof rs->nickname, "%s", d.nickname);
    memcpy(rs->rsa_id, conf->rsa_fp, 20);
    /* The address of the Bridge line, not the descriptor's: that is where we reach it. */
    unsigned a[4];
    if (sscanf(conf->host, "%u.%u.%u.%u", &a[0], &a[1], &a[2], &a[3]) == 4)
        for (int i = 0; i < 4; i++)
            rs->ipv4[i] = (uint8_t)a[i];
    rs->or_port = conf->port;
    rs->flags = OM_RS_RUNNING | OM_RS_VALID | OM_RS_GUARD | OM_RS_FAST | OM_RS_STABLE;
    rs->md = md;
    return 0;
}

/* ---------------------------------------------------------------- fetching */

static void schedule(bridge_t *br, int seconds)
{
    struct timeval tv = {seconds, 0};
    if (br->timer) evtimer_add(br->timer, &tv);
}

static void drop_circ(bridge_t *br, const char *why)
{
    om_circuit_t *c = br->circ;
    if (!c) return;
    br->circ = NULL;
    om_circuit_detach(c);
    om_circuit_close(c, OM_DESTROY_FINISHED, why);
}

static void fetch_failed(bridge_t *br, const char *why)
{
    om_warn("Could not fetch the descriptor of bridge %s: %s; retrying in %d s", br->name, why,
            RETRY_S);
    drop_circ(br, "bridge descriptor fetch failed");
    schedule(br, RETRY_S);
}

static void learned(bridge_t *br, const om_routerstatus_t *rs, const om_microdesc_t *md,
                    const char *how)
{
    br->md = *md;
    br->rs = *rs;
    br->rs.md = &br->md;
    bool first = !br->known;
    br->known = true;
    om_notice("Learned the descriptor of bridge %s (%s, ntor key known) %s%s", br->name,
              rs->nickname, how, first ? "; using it as first hop" : "");
    schedule(br, REFETCH_S);
    if (br->owner->p.on_ready) br->owner->p.on_ready(br->owner->p.arg);
}

/* The transport's own fetch (no circuit): the body is trusted only with the pinned identity's
 * signature (dir-spec 2.1.1 router-signature). */
static void http_desc_done(void *arg, int status, const char *body, size_t len, const char *err)
{
    bridge_t *br = arg;
    br->http_req = NULL;
    char why[256];
    om_routerstatus_t rs;
    om_microdesc_t md;
    if (status != 200) {
        if (status)
            snprintf(why, sizeof why, "HTTP status %d from its %s port", status,
                     br->transport->name);
        else
            snprintf(why, sizeof why, "%s", err ? err : "no answer");
        fetch_failed(br, why);
    } else if (om_router_desc_verify(body, len, br->conf.rsa_fp, why, sizeof why) < 0 ||
               om_bridges_take_descriptor(&br->conf, body, len, &rs, &md, why, sizeof why) < 0) {
        fetch_failed(br, why);
    } else {
        learned(br, &rs, &md, "from its WebSocket port (signature checked)");
    }
}

static void desc_done(int status, const uint8_t *body, size_t len, const char *err, void *arg)
{
    bridge_t *br = arg;
    char why[256];
    if (status != 200) {
        if (status)
            snprintf(why, sizeof why, "HTTP status %d", status);
        else
            snprintf(why, sizeof why, "%s", err ? err : "no answer");
        fetch_failed(br, why);
        return;
    }
    om_routerstatus_t rs;
    om_microdesc_t md;
    if (om_bridges_take_descriptor(&br->conf, (const char *)body, len, &rs, &md, why, sizeof why) <
        0) {
        fetch_failed(br, why);
        return;
    }
    drop_circ(br, "bridge descriptor fetched");
    learned(br, &rs, &md, "over BEGIN_DIR");
}

static void circ_built(om_circuit_t *circ, void *arg)
{
    bridge_t *br = arg;
    if (om_dir_fetch(circ, "/tor/server/authority.z", MAX_DESC_LEN, desc_done, br) < 0)
        fetch_failed(br, "could not open a BEGIN_DIR stream");
}

static void circ_closed(om_circuit_t *circ, const char *reason, void *arg)
{
    bridge_t *br = arg;
    (void)circ;
    br->circ = NULL;
    if (br->line_key_used && !br->known && br->transport && br->transport->descriptor_fetch) {
        /* Perhaps the bridge rotated its ntor key since the line was written: ask it. */
        br->line_key_bad = true;
        om_warn("Bridge %s: a circuit with the Bridge line's ntor-onion-key failed (%s); asking "
                "the bridge for its descriptor",
                br->name, reason);
        drop_circ(br, "bridge circuit failed");
        schedule(br, 0);
        return;
    }
    fetch_failed(br, reason);
}

/* The link is open and proved the pinned identity. A bridge whose ntor key we know (from its
 * descriptor, or from the Bridge line's ntor-onion-key=) gets an ntor CREATE2; otherwise, and only
 * over a confidential transport, CREATE_FAST (tor's bridge clients do the same:
 * should_use_create_fast_for_circuit without an onion key). */
static void chan_ready(om_channel_t *chan, const char *err, void *arg)
{
    bridge_t *br = arg;
    br->chan_req = NULL;
    if (!chan) {
        fetch_failed(br, err ? err : "no link");
        return;
    }
    om_circ_callbacks_t cb = {.on_built = circ_built, .on_closed = circ_closed, .arg = br};
    br->line_key_used = false;
    if (br->known || (br->conf.has_ntor_key && !br->line_key_bad)) {
        /* The key from its descriptor, else the one the Bridge line gives (a wrong one fails
         * the handshake: the bridge cannot answer for a key it does not hold). */
        om_hop_target_t t;
        memset(&t, 0, sizeof t);
        memcpy(t.rsa_fp, br->conf.rsa_fp, 20);
        memcpy(t.ntor_key, br->known ? br->md.ntor_key : br->conf.ntor_key, 32);
        t.handshake_type = OM_HANDSHAKE_TYPE_NTOR;
        om_info("Fetching the descriptor of bridge %s over an ntor circuit (key from %s)", br->name,
                br->known ? "its descriptor" : "the Bridge line");
        br->line_key_used = !br->known;
        br->circ = om_circuit_create(chan, OM_HANDSHAKE_TYPE_NTOR, &t, &cb);
    } else if (!br->transport || br->transport->confidential) {
        om_info("Fetching the descriptor of bridge %s over a CREATE_FAST circuit (its ntor key is "
                "not known yet)",
                br->name);
        br->circ = om_circuit_create(chan, OM_HANDSHAKE_TYPE_FAST, NULL, &cb);
    } else {
        om_warn("Bridge %s: transport %s does not encrypt the link and its ntor key is not known "
                "(give it as ntor-onion-key=BASE64 on the Bridge line): not using it",
                br->name, br->transport->name);
        return;
    }
    if (!br->circ) fetch_failed(br, "could not send a CREATE cell");
}

static void fetch_start(bridge_t *br)
{
    if (br->chan_req || br->circ || br->http_req) return;
    if (!br->known && (!br->conf.has_ntor_key || br->line_key_bad) && br->transport &&
        !br->transport->confidential && br->transport->descriptor_fetch) {
        om_info("Fetching the descriptor of bridge %s from its %s port", br->name,
                br->transport->name);
        br->http_req = br->transport->descriptor_fetch(br->factory, br->owner->p.base, MAX_DESC_LEN,
                                                       http_desc_done, br);
        if (!br->http_req) fetch_failed(br, "could not start the descriptor fetch");
        return;
    }
    void *h = om_linkmgr_get_via(br->owner->p.links, br->factory, br->conf.host, br->conf.port,
                                 br->conf.rsa_fp, br->known && br->md.has_ed ? br->md.ed_id : NULL,
                                 chan_ready, br);
    if (h) br->chan_req = h;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fetch_start(arg);
}

/* ---------------------------------------------------------------- lifecycle */

static const om_bridge_transport_t *find_transport(const om_bridges_params_t *p, const char *name)
{
    for (size_t i = 0; i < p->n_transports; i++)
        if (!strcmp(p->transports[i].name, name)) return &p->transports[i];
    return NULL;
}

static int setup_bridge(om_bridges_t *bs, bridge_t *br, const om_bridge_conf_t *c, char *err,
                        size_t errlen)
{
    br->owner = bs;
    br->conf = *c;
    om_bridge_conf_describe(c, br->name, sizeof br->name);
    if (c->transport[0]) {
        br->transport = find_transport(&bs->p, c->transport);
        if (!br->transport) {
            snprintf(err, errlen,
                     "Bridge %s: there is no transport called \"%s\" in this onionmesh (known: "
                     "none for plain TLS%s%s)",
                     br->name, c->transport, bs->p.n_transports ? ", " : "",
                     bs->p.n_transports ? bs->p.transports[0].name : "");
            return -1;
        }
        char e[200] = "";
        br->factory = br->transport->factory_new(c, e, sizeof e);
        if (!br->factory) {
            snprintf(err, errlen, "Bridge %s: %s", br->name, e);
            return -1;
        }
    } else if (c->n_args) {
        snprintf(err, errlen, "Bridge %s: KEY=VALUE arguments need a transport", br->name);
        return -1;
    } else {
        br->factory = &om_linkmgr_tls_client_factory;
    }
    br->timer = evtimer_new(bs->p.base, timer_cb, br);
    return br->timer ? 0 : -1;
}

om_bridges_t *om_bridges_new(const om_bridges_params_t *p, char *err, size_t errlen)
{
    if (!p->n_bridges) {
        snprintf(err, errlen, "UseBridges is 1 but no Bridge line is given");
        return NULL;
    }
    om_bridges_t *bs = calloc(1, sizeof *bs);
    if (!bs || !(bs->b = calloc(p->n_bridges, sizeof *bs->b))) {
        free(bs);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    bs->p = *p;
    bs->p.bridges = NULL;
    for (size_t i = 0; i < p->n_bridges; i++, bs->n++)
        if (setup_bridge(bs, &bs->b[i], &p->bridges[i], err, errlen) < 0) {
            bs->n++;
            om_bridges_free(bs);
            return NULL;
        }
    for (size_t i = 0; i < bs->n; i++)
        schedule(&bs->b[i], 0);
    return bs;
}

void om_bridges_free(om_bridges_t *bs)
{
    if (!bs) return;
    for (size_t i = 0; i < bs->n; i++) {
        bridge_t *br = &bs->b[i];
        if (br->chan_req) om_linkmgr_cancel(bs->p.links, br->chan_req);
        if (br->http_req) br->transport->descriptor_cancel(br->http_req);
        drop_circ(br, "shutting down");
        if (br->timer) event_free(br->timer);
        if (br->transport && br->transport->factory_free && br->factory)
            br->transport->factory_free(br->factory);
    }
    free(bs->b);
    free(bs);
}

bool om_bridges_first_hop(const om_bridges_t *bs, const om_routerstatus_t **rs,
                          const om_transport_factory_t **factory)
{
    for (size_t i = 0; bs && i < bs->n; i++)
        if (bs->b[i].known) {
            *rs = &bs->b[i].rs;
            *factory = bs->b[i].factory;
            return true;
        }
    return false;
}
