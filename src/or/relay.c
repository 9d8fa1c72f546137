/* relay.c — the relay role's top level: takes its typed options (relay_options.h), loads its keys,
 * listens on the ORPort (TLS, link responder), runs circuits, builds and uploads the descriptor
 * with its extra-info document (on start, when keys change, every 18 hours as tor does) and
 * maintains its keys hourly. */
#include "or/relay.h"

#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "core/log.h"
#include "core/listener_tls.h"
#include "core/transport.h"
#include "or/bandwidth.h"
#include "or/descriptor.h"
#include "or/dircache.h"
#include "or/or_circuit.h"
#include "or/exit_policy.h"
#include "or/extra_info.h"
#include "or/or_exit.h"
#include "or/or_oom.h"
#include "core/linkmgr.h"
#include "or/or_streams.h"
#include "or/svc_dir.h"
#include "or/bridge_line.h"
#include "or/publish.h"
#include "or/reachability.h"
#include "or/relay_dos.h"
#include "or/relay_keys.h"
#include "core/config_daemon.h"

#define REPUBLISH_INTERVAL_S (18 * 3600) /* tor's FORCE_REGENERATE_DESCRIPTOR_INTERVAL */
#define MAINTAIN_INTERVAL_S  3600
/* Links are capped by the open-file limit, as tor's max_sockets is (ConnLimit is the least it
 * accepts; tor keeps ULIMIT_BUFFER = 32 descriptors back): the limit, less the exit's pool of
 * server connections and a reserve for listeners, directory fetches and logs; at most 60 000,
 * below the per-address table's 65 536 entries (dos_addr.c never evicts an address that holds
 * a link). */
#define LINK_FD_RESERVE 256
#define MIN_LINKS       256
#define MAX_LINKS_CAP   60000u
#define MAX_CIRCUITS    65536
/* What we really implement, in tor's protocol names (dir-spec "proto"): link protocols 4-5 with
 * Ed25519 link authentication, CREATE2/EXTEND2 with ntor and ntor-v3 (Relay=2 and 4; not
 * Relay=3, extending over IPv6), consensus and descriptor formats; as a directory cache BEGIN_DIR
 * with consensus and microdescriptor downloads (DirCache=1; 2 is consensus diffs); as an exit
 * authenticated SENDMEs (FlowCtrl=1) and congestion control with XON/XOFF (FlowCtrl=2); with
 * DHTServer, onionmesh's DHT (OnionMeshDht=1, doc/dht.md "Membership"). */
static void relay_proto(const om_relay_t *r, char *out, size_t outsz);
static unsigned link_cap(void);

struct om_relay {
    struct event_base *base;
    const om_relay_options_t *opt;
    char data_dir[512];
    char nickname[32];
    char address[64];
    uint16_t or_port;
    om_relay_keys_t keys;
    bool keys_loaded;
    om_identity_t identity;
    bool identity_ok;
    om_tls_server_ctx_t *tls;
    om_tls_listener_t *listener;
    om_linkmgr_t *links;
    om_or_circuits_t *circuits;
    om_dircache_t *dircache;
    om_or_exit_t *exit;
    om_relay_bw_t *bw;
    uint64_t published_bw; /* observed bandwidth in the last descriptor we uploaded */
    om_exit_policy_t policy;
    char *policy_lines; /* descriptor form */
    om_or_streams_t *streams;
    om_svc_dir_t *svc_dir;
    om_or_sched_t *sched;
    om_or_oom_t *oom; /* MaxMemInQueues over cells, link buffers, directory streams */
    struct event *maintain_ev, *publish_ev, *bw_ev;
    time_t started, last_publish;
    bool publish;
    bool reachable;      /* our ORPort was found reachable (or AssumeReachable 1) */
    om_reach_t *reach;   /* the self-test, while AssumeReachable is 0 */
    om_relay_dos_t *dos; /* DoS mitigation and heartbeat (relay_dos.h) */
    char *own_desc;      /* the descriptor we last built */
    void (*desc_cb)(void *arg, const char *desc);
    void *desc_cb_arg;
    void (*hb_extra)(void *arg, char *line, size_t len); /* a stream service's heartbeat line */
    void *hb_extra_arg;
};

static unsigned link_cap(void)
{
    uint64_t limit = 0;
    char err[160];
    if (om_config_fd_limit(0, &limit, err, sizeof err) < 0) limit = 0;
    uint64_t reserved = OM_OR_EXIT_MAX_CONNECTIONS + LINK_FD_RESERVE;
    uint64_t cap = limit > reserved + MIN_LINKS ? limit - reserved : MIN_LINKS;
    if (cap > MAX_LINKS_CAP) cap = MAX_LINKS_CAP;
    om_info("Accepting up to %llu links (open-file limit %llu)", (unsigned long long)cap,
            (unsigned long long)limit);
    return (unsigned)cap;
}

static void relay_proto(const om_relay_t *r, char *out, size_t outsz)
{
    snprintf(out, outsz, "Cons=1-2 Desc=1-2 %s%sLink=4-5 LinkAuth=3 Microdesc=1-2 %sRelay=2,4",
             r->dircache ? "DirCache=1 " : "", r->exit ? "FlowCtrl=1-2 " : "",
             r->opt->dht_server ? "OnionMeshDht=1 " : "");
}

int om_relay_add_stream_service(om_relay_t *r, const om_stream_service_t *svc)
{
    return om_or_streams_add_service(r->streams, svc);
}

int om_relay_add_mem_source(om_relay_t *r, const om_or_mem_source_t *src)
{
    return om_or_oom_add(r->oom, src);
}

void om_relay_set_heartbeat_line(om_relay_t *r, void (*fn)(void *arg, char *line, size_t len),
                                 void *arg)
{
    r->hb_extra = fn;
    r->hb_extra_arg = arg;
}

const om_consensus_t *om_relay_consensus(const om_relay_t *r)
{
    const om_dir_store_t *st = r->dircache ? om_dircache_store(r->dircache) : NULL;
    return st ? st->md_consensus : NULL;
}

bool om_relay_node_ed_id(const om_relay_t *r, const uint8_t fp[20], uint8_t ed[32])
{
    const om_dir_store_t *st = r->dircache ? om_dircache_store(r->dircache) : NULL;
    const om_consensus_t *c = st ? st->md_consensus : NULL;
    const om_routerstatus_t *rs = c ? om_consensus_find(c, fp) : NULL;
    const om_dir_md_t *md =
        rs && !(rs->flags & OM_RS_NOEDCONSENSUS) ? om_dir_store_find_md(st, rs->md_digest) : NULL;
    if (!md || !md->text) return false;
    size_t n = 0;
    char err[128];
    om_microdesc_t *m = om_microdesc_parse_many(md->text, md->len, &n, err, sizeof err);
    bool ok = m && n == 1 && m->has_ed;
    if (ok) memcpy(ed, m->ed_id, 32);
    if (m) om_microdesc_free_array(m, n);
    return ok;
}

const uint8_t *om_relay_rsa_fp(const om_relay_t *r)
{
    return r->keys.rsa_fp;
}

uint16_t om_relay_or_port(const om_relay_t *r)
{
    return r->or_port;
}

void om_relay_set_descriptor_cb(om_relay_t *r, void (*fn)(void *arg, const char *desc), void *arg)
{
    r->desc_cb = fn;
    r->desc_cb_arg = arg;
    if (fn && r->own_desc) fn(arg, r->own_desc);
}

void om_relay_set_extra_bytes(om_relay_t *r, void (*fn)(void *, uint64_t *, uint64_t *), void *arg)
{
    om_relay_bw_set_extra(r->bw, fn, arg);
}

om_linkmgr_t *om_relay_links(om_relay_t *r)
{
    return r->links;
}

void om_relay_bridge_facts(const om_relay_t *r, om_relay_bridge_facts_t *out)
{
    out->address = r->address;
    out->data_dir = r->data_dir;
    memcpy(out->rsa_fp, r->keys.rsa_fp, 20);
    memcpy(out->ntor_pub, r->keys.ntor.pub, 32);
    out->bridge_relay = r->opt->bridge_relay;
}

/* ---------------------------------------------------------------- links and circuits glue */

static void on_unclaimed(om_channel_t *chan, const om_cell_t *cell, void *arg)
{
    om_relay_t *r = arg;
    om_or_circuits_unclaimed_cell(r->circuits, chan, cell);
}

static void on_link_closed(om_channel_t *chan, const char *reason, void *arg)
{
    om_relay_t *r = arg;
    (void)reason;
    om_or_circuits_link_closed(r->circuits, chan);
    om_or_sched_link_closed(r->sched, chan);
}

/* The heartbeat's numbers (heartbeat.h). */
static void heartbeat_status(void *arg, om_heartbeat_status_t *st)
{
    om_relay_t *r = arg;
    om_or_circ_stats_t cs;
    om_or_circuits_stats(r->circuits, &cs);
    st->uptime = (long)(time(NULL) - r->started);
    st->circuits = cs.circuits;
    om_relay_bw_totals(r->bw, &st->bytes_read, &st->bytes_written);
    st->links = om_linkmgr_count(r->links);
    st->links_inbound = om_linkmgr_count_inbound(r->links);
    if (r->hb_extra) r->hb_extra(r->hb_extra_arg, st->dht, sizeof st->dht);
}

/* ---------------------------------------------------------------- publication */

static void publish_done(unsigned accepted, unsigned total, void *arg)
{
    (void)arg;
    om_info("Descriptor upload finished: %u of %u authorities answered 2xx", accepted, total);
}

/* Proposal 324: an exit grants congestion control with the consensus's parameters when its
 * cc_alg is on (tor 0.4.9's default is Vegas). */
static int32_t cc_lookup(void *arg, const char *name, int32_t def, int32_t min, int32_t max)
{
    return om_dircache_param(arg, name, def, min, max);
}

static bool cc_params_cb(void *arg, om_cc_params_t *out)
{
    om_relay_t *r = arg;
    if (!r->exit) return false;
    om_cc_params_load(out, cc_lookup, r->dircache);
    return om_cc_params_enabled(out);
}

/* BandwidthRate/Burst, or RelayBandwidthRate/Burst where set and lower (bytes/s, bytes). */
static void bw_config(const om_relay_options_t *o, uint64_t *rate, uint64_t *burst)
{
    uint64_t ra = o->bandwidth_rate, bu = o->bandwidth_burst;
    uint64_t rr = o->relay_bandwidth_rate, rb = o->relay_bandwidth_burst;
    if (rr > 0 && rr < ra) ra = rr;
    if (rb > 0 && rb < bu) bu = rb;
    *rate = ra;
    *burst = bu > ra ? bu : ra;
}

/* MyFamily as the descriptor's "family" value: fingerprints as "$HEX" upper-case, nicknames as
 * given, without ourselves, sorted (as tor writes it). */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void family_line(const om_relay_t *r, char *out, size_t outsz)
{
    size_t n = r->opt->n_my_family;
    char *const *items = r->opt->my_family;
    char own[41];
    om_hex_encode(r->keys.rsa_fp, 20, own);
    char(*norm)[64] = calloc(n ? n : 1, 64);
    const char **sorted = calloc(n ? n : 1, sizeof *sorted);
    size_t k = 0;
    out[0] = 0;
    for (size_t i = 0; norm && sorted && i < n; i++) {
        const char *it = items[i][0] == '$' ? items[i] + 1 : items[i];
        size_t len = strcspn(it, "=~");
        if (len == 40 && strspn(it, "0123456789abcdefABCDEF") >= 40) {
            norm[k][0] = '$';
            for (size_t j = 0; j < 40; j++)
                norm[k][1 + j] = (char)toupper((unsigned char)it[j]);
            norm[k][41] = 0;
            if (!strcmp(norm[k] + 1, own)) continue;
        } else {
            snprintf(norm[k], 64, "%s", items[i]);
        }
        sorted[k] = norm[k];
        k++;
    }
    if (sorted) qsort(sorted, k, sizeof *sorted, cmp_str);
    for (size_t i = 0, off = 0; i < k; i++)
        off += (size_t)snprintf(out + off, outsz > off ? outsz - off : 0, "%s%s", i ? " " : "",
                                sorted[i]);
    free(norm);
    free(sorted);
}

static void publish_now(om_relay_t *r)
{
    /* tor publishes only once it knows its ORPort is reachable (decide_if_publishable_server).
     * A bridge builds its descriptor at once, for its users only (served by the dircache). */
    if (!r->opt->bridge_relay && (!r->publish || !r->reachable)) return;
    char err[512];
    time_t now = time(NULL);
    char platform[96];
    snprintf(platform, sizeof platform, "onionmesh %s on Linux", OM_VERSION);
    uint64_t rate, burst;
    bw_config(r->opt, &rate, &burst);
    uint64_t observed = r->bw ? om_relay_bw_observed(r->bw) : 0;
    char proto[128], family[2048];
    relay_proto(r, proto, sizeof proto);
    family_line(r, family, sizeof family);
    om_desc_params_t p = {
        .nickname = r->nickname,
        .or_port = r->or_port,
        .platform = platform,
        .proto = proto,
        .contact = r->opt->contact_info,
        .family = family,
        .exit_policy = r->policy_lines ? r->policy_lines : "reject *:*\n",
        .bw_avg = rate,
        .bw_burst = burst,
        .bw_observed = observed,
        .published = now,
        .uptime = (long)(now - r->started),
        .include_tap = true,
        .tunnelled_dir_server = r->dircache != NULL,
    };
    snprintf(p.address, sizeof p.address, "%s", r->address);
    /* The extra-info document first: the descriptor names it by digest (dir-spec 2.1.1). Both
     * carry the same published time (dir-spec 2.1.2). */
    om_extra_info_t ei;
    char ei_digest[OM_EXTRA_INFO_DIGEST_VALUE_LEN];
    if (om_extra_info_build(&r->keys, r->nickname, now, &ei, err, sizeof err) == 0) {
        om_extra_info_digest_value(&ei, ei_digest);
        p.extra_info_digest = ei_digest;
    } else {
        om_warn("Could not build our extra-info document (%s): uploading the descriptor alone",
                err);
    }
    char *desc = om_relay_descriptor_build(&r->keys, &p, err, sizeof err);
    if (!desc) {
        om_warn("Could not build our descriptor: %s", err);
        om_extra_info_free(&ei);
        return;
    }
    if (r->dircache) om_dircache_set_own_descriptor(r->dircache, desc);
    free(r->own_desc);
    r->own_desc = strdup(desc);
    if (r->desc_cb) r->desc_cb(r->desc_cb_arg, desc);
    size_t n = r->opt->n_auths;
    const om_dir_authority_t *auths = r->opt->auths;
    if (!r->publish || r->opt->bridge_relay) {
        free(desc);
        om_extra_info_free(&ei);
        r->last_publish = now;
        return;
    }
    int started = om_publish_descriptor(r->base, auths, n, desc, ei.doc, publish_done, r);
    om_info("Uploading our descriptor (%zu bytes) and extra-info document (%zu bytes) to %d "
            "authorities",
            strlen(desc), ei.len, started);
    free(desc);
    om_extra_info_free(&ei);
    r->last_publish = now;
    r->published_bw = observed;
}

static void maintain_cb(evutil_socket_t fd, short what, void *arg)
{
    om_relay_t *r = arg;
    (void)fd;
    (void)what;
    char err[512];
    int changed = om_relay_keys_maintain(&r->keys, time(NULL), 0, 0, err, sizeof err);
    if (changed < 0) {
        om_warn("Key maintenance failed: %s", err);
        return;
    }
    if (changed & OM_KEYS_CHANGED_NTOR)
        om_notice("Rotated our ntor onion key; the previous one stays valid for %d days",
                  OM_ONION_KEY_GRACE_DAYS);
    if (changed & OM_KEYS_CHANGED_SIGNING) {
        om_notice("Renewed our Ed25519 signing key");
        om_identity_t fresh;
        if (om_relay_keys_link_identity(&r->keys, &fresh) == 0) {
            /* Links being set up keep a pointer to the identity: update in place. */
            fresh.my_addr = r->identity.my_addr;
            om_identity_free(&r->identity);
            r->identity = fresh;
        }
    }
    if (changed || time(NULL) - r->last_publish >= REPUBLISH_INTERVAL_S) publish_now(r);
}

/* tor (check_descriptor_bandwidth_changed): republish when the observed bandwidth went from or to
 * zero, or changed by more than a factor of two and the last upload is 3 hours old. */
static void bw_check_cb(evutil_socket_t fd, short what, void *arg)
{
    om_relay_t *r = arg;
    (void)fd;
    (void)what;
    uint64_t cur = om_relay_bw_observed(r->bw), prev = r->published_bw;
    bool changed = (prev == 0) != (cur == 0) || cur > prev * 2 || cur < prev / 2;
    if (changed && (prev == 0 || time(NULL) - r->last_publish >= 3 * 3600)) {
        om_info("Observed bandwidth now %llu bytes/s (published %llu): uploading a new descriptor",
                (unsigned long long)cur, (unsigned long long)prev);
        publish_now(r);
    }
}

static void publish_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    publish_now(arg);
}

/* ---------------------------------------------------------------- start-up */

/* The IPv4 address to publish: Address (literal or resolved once), else the ORPort's bind address,
 * else the first non-loopback IPv4 address of an interface. */
static int find_address(om_relay_t *r, const om_port_t *orp, char *err, size_t errlen)
{
    const char *a = r->opt->address[0] ? r->opt->address : NULL;
    struct in_addr in;
    if (a && *a) {
        if (inet_pton(AF_INET, a, &in) == 1) {
            inet_ntop(AF_INET, &in, r->address, sizeof r->address);
            return 0;
        }
        struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
        if (getaddrinfo(a, NULL, &hints, &res) != 0 || !res)
            return om_errf(err, errlen, "Address %s: could not resolve it to an IPv4 address", a);
        inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, r->address,
                  sizeof r->address);
        freeaddrinfo(res);
        return 0;
    }
    if (orp->family == 4 && strcmp(orp->addr, "0.0.0.0") != 0) {
        snprintf(r->address, sizeof r->address, "%s", orp->addr);
        return 0;
    }
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) == 0) {
        for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
            struct in_addr ia = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
            if ((ntohl(ia.s_addr) >> 24) == 127) continue;
            inet_ntop(AF_INET, &ia, r->address, sizeof r->address);
            break;
        }
        freeifaddrs(ifs);
    }
    if (!r->address[0])
        return om_errf(err, errlen, "could not find an IPv4 address to publish: set Address");
    om_notice("Guessed our IP address as %s (set Address to override)", r->address);
    return 0;
}

static int open_listener(om_relay_t *r, const om_port_t *orp, char *err, size_t errlen)
{
    char why[256];
    r->listener =
        om_tls_listener_new(r->base, orp->addr, orp->port, r->tls, r->links, why, sizeof why);
    if (!r->listener) return om_errf(err, errlen, "ORPort: %s", why);
    r->or_port = om_tls_listener_port(r->listener);
    return 0;
}

/* The exit policy from ExitRelay, ExitPolicy, ExitPolicyRejectPrivate, IPv6Exit and
 * ReducedExitPolicy as tor builds it (our own address rejected too); an exit if it accepts
 * anything. */
static int setup_exit(om_relay_t *r, char *err, size_t errlen)
{
    om_exit_policy_options_t o;
    om_exit_policy_options_init(&o);
    o.lines = (const char *const *)r->opt->exit_policy;
    o.n_lines = r->opt->n_exit_policy;
    o.exit_relay = r->opt->exit_relay;
    o.reject_private = r->opt->exit_policy_reject_private;
    o.ipv6_exit = r->opt->ipv6_exit;
    o.reduced_exit_policy = r->opt->reduced_exit_policy;
    o.bridge_relay = r->opt->bridge_relay;
    om_exit_addr_t own;
    if (om_exit_addr_parse(&own, r->address) == 0) {
        o.own_addrs = &own;
        o.n_own_addrs = 1;
    }
    if (om_exit_policy_build(&r->policy, &o, err, errlen) < 0) return -1;
    r->policy_lines = om_exit_policy_descriptor_lines(&r->policy);
    if (!r->policy_lines) return om_errf(err, errlen, "out of memory");
    if (om_exit_policy_is_reject_star(&r->policy, AF_UNSPEC)) return 0;
    r->exit = om_or_exit_new(r->base, &r->policy, r->opt->server_dns_resolv_conf, o.ipv6_exit,
                             r->dircache, err, errlen);
    if (!r->exit) return -1;
    om_notice("Exit relay: policy %.*s", (int)strcspn(r->policy_lines, "\n"), r->policy_lines);
    return 0;
}

/* MaxMemInQueues over everything a peer can make us hold (or_oom.h). */
static int setup_oom(om_relay_t *r)
{
    r->oom = om_or_oom_new(r->base, om_or_sched_max_bytes(r->sched));
    if (!r->oom || om_or_oom_add_sched(r->oom, r->sched) < 0 ||
        om_or_oom_add_links(r->oom, r->links) < 0)
        return -1;
    om_or_mem_source_t dir = {.name = "dir",
                              .bytes = om_svc_dir_pending_bytes,
                              .reclaim = om_svc_dir_reclaim,
                              .arg = r->svc_dir};
    return r->svc_dir ? om_or_oom_add(r->oom, &dir) : 0;
}

/* The stream layer and its services: BEGIN_DIR from the directory cache, BEGIN and RESOLVE by the
 * exit (each only if configured). */
static int setup_streams(om_relay_t *r, char *err, size_t errlen)
{
    r->streams = om_or_streams_new(cc_lookup, r->dircache);
    if (!r->streams) return om_errf(err, errlen, "out of memory");
    if (r->dircache) {
        om_stream_service_t dir;
        if (!(r->svc_dir = om_svc_dir_new(r->base, r->dircache)))
            return om_errf(err, errlen, "out of memory");
        om_svc_dir_service(r->svc_dir, &dir);
        if (om_or_streams_add_service(r->streams, &dir) < 0)
            return om_errf(err, errlen, "could not register the directory stream service");
    }
    om_or_streams_set_gate(r->streams, om_relay_dos_stream_gate, om_relay_dos_policy(r->dos));
    if (r->exit && om_or_exit_register(r->exit, r->streams) < 0)
        return om_errf(err, errlen, "could not register the exit stream services");
    return 0;
}

/* A random running relay of the consensus we hold, neither us nor `exclude`, with its
 * microdescriptor (ntor key, Ed25519 identity): a hop of the self-test's circuit. */
static bool pick_hop(void *arg, const uint8_t *exclude, om_hop_target_t *t)
{
    om_relay_t *r = arg;
    const om_dir_store_t *st = r->dircache ? om_dircache_store(r->dircache) : NULL;
    const om_consensus_t *c = st ? st->md_consensus : NULL;
    if (!c || !c->n_routers) return false;
    uint32_t start;
    om_rand_bytes((uint8_t *)&start, sizeof start);
    for (size_t k = 0; k < c->n_routers; k++) {
        const om_routerstatus_t *rs = &c->routers[(start + k) % c->n_routers];
        if (!memcmp(rs->rsa_id, r->keys.rsa_fp, 20) || !(rs->flags & OM_RS_RUNNING) ||
            (exclude && !memcmp(rs->rsa_id, exclude, 20)))
            continue;
        const om_dir_md_t *md = om_dir_store_find_md(st, rs->md_digest);
        size_t n = 0;
        char err[128];
        om_microdesc_t *m =
            md && md->text ? om_microdesc_parse_many(md->text, md->len, &n, err, sizeof err) : NULL;
        if (m && n == 1) {
            memset(t, 0, sizeof *t);
            memcpy(t->rsa_fp, rs->rsa_id, 20);
            memcpy(t->ipv4, rs->ipv4, 4);
            t->or_port = rs->or_port;
            memcpy(t->ntor_key, m->ntor_key, 32);
            t->has_ed = m->has_ed;
            memcpy(t->ed_id, m->ed_id, 32);
            t->handshake_type = t->has_ed ? OM_HANDSHAKE_TYPE_NTOR_V3 : OM_HANDSHAKE_TYPE_NTOR;
        }
        if (m) om_microdesc_free_array(m, n);
        if (m && n == 1) return true;
    }
    return false;
}

static void found_reachable(void *arg)
{
    om_relay_t *r = arg;
    r->reachable = true;
    if (!r->opt->bridge_relay) publish_now(r); /* a bridge served its descriptor already */
}

/* The ORPort self-test (AssumeReachable 0); false if it cannot run (no consensus kept). */
static bool start_self_test(om_relay_t *r)
{
    om_reach_params_t rp = {.base = r->base,
                            .links = r->links,
                            .keys = &r->keys,
                            .address = r->address,
                            .or_port = r->or_port,
                            .pick_hop = pick_hop,
                            .on_reachable = found_reachable,
                            .arg = r};
    if (!r->dircache) {
        om_warn("AssumeReachable 0 needs the consensus to choose a relay to test our ORPort "
                "through, and DirCache 0 keeps none: set DirCache 1 or AssumeReachable 1");
        return false;
    }
    r->reach = om_reach_start(&rp);
    return true;
}

/* With AssumeReachable 0, the ORPort self-test (reachability.c) runs first and the descriptor is
 * uploaded once it succeeds; with 1 (TestingTorNetwork's default), at once. A bridge serves its
 * descriptor at once and runs the self-test only to tell its operator, as tor's bridges do. */
static void start_publication(om_relay_t *r)
{
    if (r->opt->bridge_relay) {
        om_notice("BridgeRelay is 1: serving our descriptor to bridge users only, not uploading "
                  "it to the directory authorities");
        om_bridge_line_publish(r->data_dir, r->address, r->or_port, r->keys.rsa_fp);
        r->publish_ev = event_new(r->base, -1, 0, publish_cb, r); /* build it once the loop runs */
        struct timeval now = {0, 0};
        if (r->publish_ev) event_add(r->publish_ev, &now);
        r->reachable = r->opt->assume_reachable;
        if (!r->reachable) start_self_test(r);
        return;
    }
    if (!r->publish) {
        om_notice("PublishServerDescriptor is 0: not uploading our descriptor");
        return;
    }
    r->reachable = r->opt->assume_reachable;
    if (!r->reachable) {
        if (!start_self_test(r)) om_warn("Not uploading our descriptor");
        return;
    }
    /* First upload once the loop runs (the listener is up by then). */
    r->publish_ev = event_new(r->base, -1, 0, publish_cb, r);
    struct timeval now = {0, 0};
    if (r->publish_ev) event_add(r->publish_ev, &now);
}

/* Key maintenance hourly, the bandwidth check each minute, and the first publication. */
static void start_timers(om_relay_t *r)
{
    r->maintain_ev = event_new(r->base, -1, EV_PERSIST, maintain_cb, r);
    struct timeval tv = {MAINTAIN_INTERVAL_S, 0};
    if (r->maintain_ev) event_add(r->maintain_ev, &tv);
    r->bw_ev = event_new(r->base, -1, EV_PERSIST, bw_check_cb, r);
    struct timeval minute = {60, 0};
    if (r->bw_ev) event_add(r->bw_ev, &minute);
    start_publication(r);
}

om_relay_t *om_relay_start(struct event_base *base, const om_relay_options_t *opt, char *err,
                           size_t errlen)
{
    const om_port_t *ports = &opt->or_port;
    om_relay_t *r = calloc(1, sizeof *r);
    if (!r) {
        om_errf(err, errlen, "out of memory");
        return NULL;
    }
    r->base = base;
    r->opt = opt;
    r->started = time(NULL);
    snprintf(r->data_dir, sizeof r->data_dir, "%s", opt->data_dir);
    snprintf(r->nickname, sizeof r->nickname, "%s", opt->nickname[0] ? opt->nickname : "Unnamed");
    r->publish = opt->publish_server_descriptor;
    if (find_address(r, &ports[0], err, errlen) < 0) goto fail;
    if (om_relay_keys_load(&r->keys, r->data_dir, time(NULL), err, errlen) < 0) goto fail;
    r->keys_loaded = true;
    om_relay_keys_write_fingerprints(&r->keys, r->data_dir, r->nickname);
    if (om_relay_keys_link_identity(&r->keys, &r->identity) < 0) {
        om_errf(err, errlen, "could not make our TLS link key and certificates");
        goto fail;
    }
    r->identity_ok = true;
    if (om_addr_from_string(&r->identity.my_addr, r->address) < 0)
        memset(&r->identity.my_addr, 0, sizeof r->identity.my_addr);
    r->tls = om_tls_server_ctx_new(r->identity.tls_cert, r->identity.tls_cert_len,
                                   om_rsa_evp_pkey(r->identity.tls_key));
    if (!r->tls) {
        om_errf(err, errlen, "could not set up TLS for the ORPort");
        goto fail;
    }
    uint64_t rate, burst;
    bw_config(opt, &rate, &burst);
    r->bw = om_relay_bw_new(base, rate, burst);
    if (!r->bw) {
        om_errf(err, errlen, "could not set up the bandwidth buckets");
        goto fail;
    }
    if (opt->dir_cache) r->dircache = om_dircache_new(base, opt->auths, opt->n_auths);
    if (!(r->dos = om_relay_dos_new(base, opt, r->dircache, heartbeat_status, r))) {
        om_errf(err, errlen, "out of memory");
        goto fail;
    }
    om_linkmgr_owner_t owner = {
        .on_unclaimed_cell = on_unclaimed, .on_link_closed = on_link_closed, .arg = r};
    om_linkmgr_opts_t lo = {.identity = &r->identity,
                            .max_links = link_cap(),
                            .accept_filter = om_relay_dos_accept_filter(r->dos)};
    r->links = om_linkmgr_new(base, &lo, &owner);
    if (r->links) om_linkmgr_set_rate_limit_group(r->links, om_relay_bw_group(r->bw));
    if (setup_exit(r, err, errlen) < 0) goto fail;
    if (setup_streams(r, err, errlen) < 0) goto fail;
    r->sched = om_or_sched_new(opt->max_mem_in_queues, om_or_circ_oom, NULL);
    if (!r->sched) {
        om_errf(err, errlen, "out of memory");
        goto fail;
    }
    om_or_circ_params_t cp = {
        .keys = &r->keys,
        .links = r->links,
        .allow_private_extend = opt->testing,
        .max_circuits = MAX_CIRCUITS,
        .stream_handler = om_or_streams_handle,
        .on_circ_free = om_or_streams_circ_free,
        .stream_arg = r->streams,
        .cc_params = cc_params_cb,
        .cc_arg = r,
        .sched = r->sched,
        .on_writable = om_or_streams_writable,
        .base = base,
        .dos = om_relay_dos_policy(r->dos),
    };
    r->circuits = om_or_circuits_new(&cp);
    if (!r->links || !r->circuits || !r->streams || setup_oom(r) < 0) {
        om_errf(err, errlen, "out of memory");
        goto fail;
    }
    if (open_listener(r, &ports[0], err, errlen) < 0) goto fail;
    char spaced[50], ed[44];
    om_relay_fingerprint_spaced(r->keys.rsa_fp, spaced);
    om_relay_ed25519_b64(r->keys.ed_id.pub, ed);
    om_notice("Relay %s (%s, Ed25519 %s) listening on ORPort %s:%u, publishing %s:%u", r->nickname,
              spaced, ed, ports[0].addr, r->or_port, r->address, r->or_port);
    start_timers(r);
    return r;
fail:
    om_relay_free(r);
    return NULL;
}

void om_relay_free(om_relay_t *r)
{
    if (!r) return;
    free(r->own_desc);
    if (r->maintain_ev) event_free(r->maintain_ev);
    if (r->publish_ev) event_free(r->publish_ev);
    if (r->bw_ev) event_free(r->bw_ev);
    om_reach_free(r->reach);
    om_tls_listener_free(r->listener);
    om_or_oom_free(r->oom);
    om_or_circuits_free(r->circuits);
    om_linkmgr_free(r->links);
    om_or_sched_free(r->sched);
    om_relay_bw_free(r->bw);
    om_or_streams_free(r->streams);
    om_svc_dir_free(r->svc_dir);
    om_or_exit_free(r->exit);
    om_exit_policy_free(&r->policy);
    free(r->policy_lines);
    om_relay_dos_free(r->dos);
    om_dircache_free(r->dircache);
    om_tls_server_ctx_free(r->tls);
    if (r->identity_ok) om_identity_free(&r->identity);
    if (r->keys_loaded) om_relay_keys_free(&r->keys);
    free(r);
}
