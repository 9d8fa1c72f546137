/* reachability.c — the relay's ORPort self-test (see reachability.h): one test circuit at a
 * time through two random relays the caller picks, the last hop ourselves at our advertised
 * address; success once, retries every minute, a warning after 20 minutes. */
#include "or/reachability.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/circuit.h"
#include "core/log.h"

#define RETRY_S         60
#define NO_HOP_RETRY_S  5
#define ATTEMPT_TIMEOUT 60
#define WARN_AFTER_S    (20 * 60) /* tor: TIMEOUT_UNTIL_UNREACHABILITY_COMPLAINT */

struct om_reach {
    om_reach_params_t p;
    char address[64];
    void *link_wait;
    om_circuit_t *circ;
    om_hop_target_t hops[2]; /* this attempt's first two hops */
    struct event *timer;     /* retry, or the attempt's timeout */
    time_t started;
    bool confirmed, warned;
    om_reach_stats_t st;
};

static void attempt(om_reach_t *r);

static void schedule(om_reach_t *r, int seconds)
{
    struct timeval tv = {seconds, 0};
    evtimer_add(r->timer, &tv);
}

static void attempt_failed(om_reach_t *r, const char *why)
{
    r->st.failures++;
    om_info("ORPort self-test failed: %s", why);
    if (!r->warned && time(NULL) - r->started >= WARN_AFTER_S) {
        r->warned = true;
        om_warn("Your server has not managed to confirm reachability for its ORPort(s) at "
                "%s:%u. Relays do not publish descriptors until their ORPort is reachable. "
                "Please check your firewalls, ports, address, /etc/hosts file, etc.",
                r->address, r->p.or_port);
    }
    schedule(r, RETRY_S);
}

static void circ_built(om_circuit_t *circ, void *arg)
{
    om_reach_t *r = arg;
    r->circ = NULL;
    evtimer_del(r->timer);
    om_circuit_detach(circ);
    om_circuit_close(circ, OM_DESTROY_FINISHED, "self-test done");
    if (r->confirmed) return;
    r->confirmed = true;
    om_notice("Self-testing indicates your ORPort %s:%u is reachable from the outside. "
              "Excellent. Publishing server descriptor.",
              r->address, r->p.or_port);
    if (r->p.on_reachable) r->p.on_reachable(r->p.arg);
}

static void circ_closed(om_circuit_t *circ, const char *reason, void *arg)
{
    om_reach_t *r = arg;
    (void)circ;
    r->circ = NULL;
    evtimer_del(r->timer);
    attempt_failed(r, reason);
}

/* Our own hop: the address and keys we publish (ntor-v3 needs the Ed25519 identity). */
static void own_target(const om_reach_t *r, om_hop_target_t *t)
{
    const om_relay_keys_t *k = r->p.keys;
    memset(t, 0, sizeof *t);
    memcpy(t->rsa_fp, k->rsa_fp, 20);
    t->has_ed = true;
    memcpy(t->ed_id, k->ed_id.pub, 32);
    memcpy(t->ntor_key, k->ntor.pub, 32);
    inet_pton(AF_INET, r->address, t->ipv4);
    t->or_port = r->p.or_port;
    t->handshake_type = OM_HANDSHAKE_TYPE_NTOR_V3;
}

static void link_ready(om_channel_t *chan, const char *err, void *arg)
{
    om_reach_t *r = arg;
    r->link_wait = NULL;
    if (!chan) {
        evtimer_del(r->timer);
        attempt_failed(r, err);
        return;
    }
    om_hop_target_t path[3];
    path[0] = r->hops[0];
    path[1] = r->hops[1];
    own_target(r, &path[2]);
    om_circ_callbacks_t cb = {.on_built = circ_built, .on_closed = circ_closed, .arg = r};
    r->circ = om_circuit_build(chan, path, 3, &cb);
    if (!r->circ) {
        evtimer_del(r->timer);
        attempt_failed(r, "could not start the test circuit");
    }
}

/* The attempt's time is up, or the retry delay is over. */
static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    om_reach_t *r = arg;
    (void)fd;
    (void)what;
    if (r->confirmed) return;
    if (r->link_wait || r->circ) {
        if (r->link_wait) om_linkmgr_cancel(r->p.links, r->link_wait);
        r->link_wait = NULL;
        if (r->circ) {
            om_circuit_detach(r->circ);
            om_circuit_close(r->circ, OM_DESTROY_FINISHED, "self-test timed out");
            r->circ = NULL;
        }
        attempt_failed(r, "timed out");
        return;
    }
    attempt(r);
}

static void attempt(om_reach_t *r)
{
    if (!r->p.pick_hop(r->p.arg, NULL, &r->hops[0]) ||
        !r->p.pick_hop(r->p.arg, r->hops[0].rsa_fp, &r->hops[1])) {
        om_debug("ORPort self-test: not two relays known yet to test through");
        schedule(r, NO_HOP_RETRY_S);
        return;
    }
    char host[INET_ADDRSTRLEN];
    const om_hop_target_t *first = &r->hops[0];
    inet_ntop(AF_INET, first->ipv4, host, sizeof host);
    r->st.attempts++;
    om_info("ORPort self-test: a circuit through %s:%u and one more relay back to %s:%u", host,
            first->or_port, r->address, r->p.or_port);
    schedule(r, ATTEMPT_TIMEOUT);
    void *h = om_linkmgr_get(r->p.links, host, first->or_port, first->rsa_fp,
                             first->has_ed ? first->ed_id : NULL, link_ready, r);
    if (h) r->link_wait = h;
}

om_reach_t *om_reach_start(const om_reach_params_t *p)
{
    om_reach_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->p = *p;
    snprintf(r->address, sizeof r->address, "%s", p->address);
    r->p.address = r->address;
    r->started = time(NULL);
    r->timer = evtimer_new(p->base, timer_cb, r);
    if (!r->timer || !p->pick_hop) {
        om_reach_free(r);
        return NULL;
    }
    attempt(r);
    return r;
}

void om_reach_free(om_reach_t *r)
{
    if (!r) return;
    if (r->link_wait) om_linkmgr_cancel(r->p.links, r->link_wait);
    if (r->circ) {
        om_circuit_detach(r->circ);
        om_circuit_close(r->circ, OM_DESTROY_FINISHED, "shutting down");
    }
    if (r->timer) event_free(r->timer);
    free(r);
}

bool om_reach_confirmed(const om_reach_t *r)
{
    return r && r->confirmed;
}

void om_reach_stats(const om_reach_t *r, om_reach_stats_t *out)
{
    *out = r->st;
}
