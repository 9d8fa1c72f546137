/* dos.c — the relay's DoS mitigation policy (see dos.h; tor's dos.c). */
#include "or/dos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/log.h"
#include "or/dos_relays.h"

#define REFUSAL_LOG_INTERVAL 60 /* seconds between notices about closed connections */

struct om_dos {
    om_dos_config_t cfg;
    om_dos_params_t p;
    om_dos_table_t *table;
    om_dos_relays_t relays;
    om_dos_stats_t st;
    time_t refused_logged; /* the last notice about closed connections */
    uint64_t refused;      /* closed since that notice */
};

static time_t now_of(const om_dos_t *d)
{
    return d->cfg.now ? d->cfg.now(d->cfg.now_arg) : time(NULL);
}

om_dos_t *om_dos_new(const om_dos_config_t *cfg)
{
    om_dos_t *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->cfg = *cfg;
    time_t expiry = cfg->idle_expiry ? cfg->idle_expiry : OM_DOS_TABLE_DEFAULT_EXPIRY;
    if (!(d->table = om_dos_table_new(cfg->max_entries, expiry))) {
        free(d);
        return NULL;
    }
    om_dos_reload(d);
    return d;
}

void om_dos_free(om_dos_t *d)
{
    if (!d) return;
    om_dos_table_free(d->table);
    om_dos_relays_clear(&d->relays);
    free(d);
}

void om_dos_reload(om_dos_t *d)
{
    om_dos_params_resolve(&d->p, &d->cfg.opt, d->cfg.lookup, d->cfg.lookup_arg);
}

void om_dos_set_relays(om_dos_t *d, const om_consensus_t *c, const om_dir_authority_t *auths,
                       size_t n_auths)
{
    if (om_dos_relays_build(&d->relays, c, auths, n_auths) < 0)
        om_warn("DoS mitigation: out of memory building the set of relay addresses");
}

const om_dos_params_t *om_dos_params(const om_dos_t *d)
{
    return &d->p;
}

bool om_dos_chan_is_client(const om_channel_t *chan)
{
    return chan && om_channel_role(chan) == OM_CHAN_RESPONDER &&
           !om_channel_peer_authenticated(chan);
}

/* now + period + a random 1 .. period/2 seconds (tor's cc_mark_client, conn_mark_client). */
static time_t mark_until(time_t now, int32_t period)
{
    uint32_t r = 0;
    om_rand_bytes((uint8_t *)&r, sizeof r);
    uint32_t half = (uint32_t)period / 2;
    return now + period + (half > 1 ? 1 + (time_t)(r % half) : 1);
}

/* The table entry for a client address that is not a known relay's; NULL otherwise. */
static om_dos_entry_t *client_entry(om_dos_t *d, const char *peer, time_t now, bool create)
{
    om_dos_addr_t a;
    if (om_dos_addr_parse(&a, peer) < 0 || om_dos_relays_contains(&d->relays, &a)) return NULL;
    return om_dos_table_get(d->table, &a, now, create);
}

/* ---------------------------------------------------------------- connections */

static void note_refused(om_dos_t *d, const char *peer, const char *why, time_t now)
{
    d->refused++;
    if (now - d->refused_logged < REFUSAL_LOG_INTERVAL) return;
    om_notice("DoS mitigation: closed %llu connection%s from client addresses over the limits "
              "since the last notice; the latest from %s (%s)",
              (unsigned long long)d->refused, d->refused == 1 ? "" : "s", om_safe_str(peer), why);
    d->refused_logged = now;
    d->refused = 0;
}

/* tor: dos_conn_addr_get_defense_type at accept, conn_update_on_connect once counted. */
om_link_verdict_t om_dos_conn_accept(void *arg, const char *peer)
{
    om_dos_t *d = arg;
    if (!d->p.cc_enabled && !d->p.conn_enabled) return OM_LINK_ACCEPT;
    time_t now = now_of(d);
    om_dos_entry_t *e = client_entry(d, peer, now, true);
    if (!e) return OM_LINK_ACCEPT;
    bool close = d->p.conn_defense_type == OM_DOS_CONN_DEFENSE_CLOSE;
    if (d->p.conn_enabled) {
        if (e->conn_marked_until >= now) {
            d->st.conn_connect_rejected++;
            if (close) {
                note_refused(d, peer, "marked for its connect rate", now);
                return OM_LINK_REFUSE;
            }
        } else {
            e->conn_marked_until = 0;
        }
        if (e->concurrent >= d->p.conn_max_concurrent) {
            d->st.conn_rejected++;
            if (close) {
                note_refused(d, peer, "too many concurrent connections", now);
                return OM_LINK_REFUSE;
            }
        }
    }
    e->concurrent++;
    uint32_t left =
        om_dos_bucket_take(&e->connect, d->p.conn_connect_rate, d->p.conn_connect_burst, now);
    if (left == 0 && e->conn_marked_until == 0) {
        e->conn_marked_until = mark_until(now, d->p.conn_connect_defense_time_period);
        d->st.conn_marked_addrs++;
        om_info("DoS mitigation: %s exceeded the connect rate; marked", om_safe_str(peer));
    }
    return OM_LINK_ACCEPT_TRACKED;
}

void om_dos_conn_closed(void *arg, const char *peer)
{
    om_dos_t *d = arg;
    om_dos_addr_t a;
    if (om_dos_addr_parse(&a, peer) < 0) return;
    om_dos_entry_t *e = om_dos_table_get(d->table, &a, now_of(d), false);
    if (e && e->concurrent) e->concurrent--;
}

/* ---------------------------------------------------------------- circuits */

/* tor: dos_cc_new_create_cell, then dos_cc_get_defense_type (command.c). */
bool om_dos_cc_create(om_dos_t *d, const om_channel_t *chan)
{
    if (!d->p.cc_enabled || !om_dos_chan_is_client(chan)) return false;
    time_t now = now_of(d);
    om_dos_entry_t *e = client_entry(d, om_channel_peer_desc(chan), now, false);
    if (!e) return false;
    uint32_t left = om_dos_bucket_take(&e->cc, d->p.cc_rate, d->p.cc_burst, now);
    if (left == 0 && e->concurrent >= d->p.cc_min_connections) {
        if (e->cc_marked_until == 0) {
            d->st.cc_marked_addrs++;
            om_info("DoS mitigation: circuit creation flood from %s; marked",
                    om_safe_str(om_channel_peer_desc(chan)));
        }
        /* A marked address that keeps at it stays marked longer (as tor). */
        e->cc_marked_until = mark_until(now, d->p.cc_defense_time_period);
    }
    if (e->cc_marked_until < now) return false;
    d->st.cc_rejected++;
    return d->p.cc_defense_type == OM_DOS_CC_DEFENSE_REFUSE;
}

/* ---------------------------------------------------------------- streams, rendezvous */

int om_dos_stream_begin(om_dos_t *d, om_dos_bucket_t *b)
{
    if (!d->p.stream_enabled) return OM_DOS_STREAM_DEFENSE_NONE;
    om_dos_bucket_refill(b, d->p.stream_rate, d->p.stream_burst, now_of(d));
    if (b->tokens > 0) {
        b->tokens--;
        return OM_DOS_STREAM_DEFENSE_NONE;
    }
    d->st.stream_rejected++;
    return d->p.stream_defense_type;
}

bool om_dos_refuse_single_hop_rend(om_dos_t *d, const om_channel_t *p_chan)
{
    if (!d->p.refuse_single_hop_rend || !om_dos_chan_is_client(p_chan)) return false;
    d->st.single_hop_refused++;
    return true;
}

/* ---------------------------------------------------------------- upkeep, reports */

void om_dos_housekeeping(om_dos_t *d)
{
    om_dos_table_expire(d->table, now_of(d));
}

void om_dos_stats(const om_dos_t *d, om_dos_stats_t *out)
{
    *out = d->st;
    om_dos_table_stats(d->table, &out->table);
}

void om_dos_heartbeat_line(const om_dos_t *d, char *out, size_t outsz)
{
    const om_dos_stats_t *s = &d->st;
    size_t off = 0;
#define ADD(...) off += (size_t)snprintf(out + off, outsz > off ? outsz - off : 0, __VA_ARGS__)
    if (d->p.cc_enabled)
        ADD("%llu circuits rejected, %llu marked addresses", (unsigned long long)s->cc_rejected,
            (unsigned long long)s->cc_marked_addrs);
    else
        ADD("[DoSCircuitCreationEnabled disabled]");
    if (d->p.conn_enabled)
        ADD(", %llu same address concurrent connections rejected, %llu connections rejected",
            (unsigned long long)s->conn_rejected, (unsigned long long)s->conn_connect_rejected);
    else
        ADD(", [DoSConnectionEnabled disabled]");
    if (d->p.refuse_single_hop_rend)
        ADD(", %llu single hop clients refused", (unsigned long long)s->single_hop_refused);
    else
        ADD(", [DoSRefuseSingleHopClientRendezvous disabled]");
    if (d->p.stream_enabled)
        ADD(", %llu stream rejected", (unsigned long long)s->stream_rejected);
    else
        ADD(", [DoSStreamCreationEnabled disabled]");
#undef ADD
}
