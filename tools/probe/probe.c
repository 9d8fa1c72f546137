/* probe.c — onionmesh-probe: handshake with any Tor relay and report what it proved.
 * Usage: onionmesh-probe HOST:PORT [FINGERPRINT] [--ed25519 KEY] [--no-circuits]
 *                        [--extend-ipv6 [ADDR]:PORT RSA_FP ED25519 NTOR_KEY]
 * Prints the TLS session, the negotiated link protocol, each certificate of the relay's CERTS
 * cell and whether it verified, the relay's identities, NETINFO, and the time of each step;
 * then (unless --no-circuits) builds one-hop circuits with CREATE_FAST, CREATE2-ntor and
 * CREATE2-ntor-v3, fetching the relay's own descriptor over BEGIN_DIR for its ntor key. With
 * --extend-ipv6 it also builds a two-hop circuit: CREATE_FAST to the probed relay, then EXTEND2
 * (tor-spec 5.1.2) with only IPv6, RSA and Ed25519 link specifiers to the relay given, and
 * fetches that relay's own descriptor at hop 2 over BEGIN_DIR to check its identities; the exit
 * status is 1 if any of that fails. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/cert.h"
#include "core/channel.h"
#include "core/circuit.h"
#include "core/crypto.h"
#include "core/dir_fetch.h"
#include "core/log.h"
#include "dir/router_desc.h"

static struct event_base *base;
static int link_done, link_open;
static char link_reason[300];
static om_router_desc_t desc;
static int have_desc;

static double ms(uint64_t a, uint64_t b)
{
    return a && b && b >= a ? (double)(b - a) / 1000.0 : -1.0;
}

static void print_step(const char *what, const char *detail, double t)
{
    if (t >= 0)
        printf("  %-16s %-58s %8.2f ms\n", what, detail, t);
    else
        printf("  %-16s %s\n", what, detail);
}

static const char *fmt_hours(uint32_t hours, char *buf, size_t len)
{
    time_t t = (time_t)hours * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:00 UTC", &tm);
    return buf;
}

/* Print each certificate of the CERTS cell with its own verification result, following the
 * chain of tor-spec 4.2: RSA id (2) -> cross-cert (7) -> Ed25519 id -> (4) signing -> (5) TLS. */
static void print_certs(om_channel_t *chan)
{
    const om_certs_list_t *l = om_channel_peer_certs(chan);
    time_t now = time(NULL);
    char err[256], when[40], line[160];
    printf("  CERTS            %zu certificates\n", l->n);
    om_rsa_t *rsa = NULL;
    uint8_t ed_id[32], ed_sign[32];
    int have_ed = 0, have_sign = 0;
    const om_certs_entry_t *e2 = om_certs_list_find(l, OM_CERTTYPE_RSA_ID);
    if (e2) {
        rsa = om_x509_rsa_check(e2->body, e2->len, true, now, err, sizeof err);
        snprintf(line, sizeof line, "type 2 RSA identity X.509 (%d bits)",
                 rsa ? om_rsa_bits(rsa) : 0);
        printf("    %-52s %s\n", line, rsa ? "verified (self-signed, in date)" : err);
    }
    const om_certs_entry_t *e7 = om_certs_list_find(l, OM_CERTTYPE_RSA_ED_CROSS);
    if (e7) {
        om_rsa_crosscert_t cc;
        int ok = om_rsa_crosscert_parse(&cc, e7->body, e7->len) == 0;
        if (!ok)
            snprintf(err, sizeof err, "malformed");
        else if (!rsa)
            snprintf(err, sizeof err, "no RSA identity to check it with");
        else
            ok = om_rsa_crosscert_verify(&cc, rsa, now, err, sizeof err) == 0;
        if (ok) {
            memcpy(ed_id, cc.ed_key, 32);
            have_ed = 1;
        }
        printf("    %-52s %s%s%s\n", "type 7 RSA -> Ed25519 cross-certificate",
               ok ? "verified, expires " : err,
               ok ? fmt_hours(cc.expiration_hours, when, sizeof when) : "", "");
    }
    const om_certs_entry_t *e4 = om_certs_list_find(l, OM_CERTTYPE_ED_ID_SIGN);
    if (e4) {
        om_ed_cert_t *c = malloc(sizeof *c);
        int ok = c && om_ed_cert_parse(c, e4->body, e4->len) == 0;
        if (!ok)
            snprintf(err, sizeof err, "malformed");
        else
            ok = om_ed_cert_verify(c, have_ed ? ed_id : NULL, now, err, sizeof err) == 0;
        if (ok) {
            memcpy(ed_sign, c->certified_key, 32);
            have_sign = 1;
        }
        printf("    %-52s %s%s\n", "type 4 Ed25519 identity -> signing key",
               ok ? "verified, expires " : err,
               ok ? fmt_hours(c->expiration_hours, when, sizeof when) : "");
        free(c);
    }
    const om_certs_entry_t *e5 = om_certs_list_find(l, OM_CERTTYPE_ED_SIGN_LINK);
    if (e5) {
        om_ed_cert_t *c = malloc(sizeof *c);
        uint8_t tls[32];
        int ok = c && om_ed_cert_parse(c, e5->body, e5->len) == 0;
        if (!ok)
            snprintf(err, sizeof err, "malformed");
        else if (!have_sign)
            snprintf(err, sizeof err, "no verified signing key"), ok = 0;
        else if ((ok = om_ed_cert_verify(c, ed_sign, now, err, sizeof err) == 0)) {
            ok = om_channel_transport(chan)->ops->peer_cert_sha256(om_channel_transport(chan),
                                                                   tls) == 0 &&
                 !memcmp(tls, c->certified_key, 32);
            if (!ok) snprintf(err, sizeof err, "does not match the TLS certificate");
        }
        printf("    %-52s %s%s\n", "type 5 signing key -> TLS link certificate",
               ok ? "verified, expires " : err,
               ok ? fmt_hours(c->expiration_hours, when, sizeof when) : "");
        free(c);
    }
    for (size_t i = 0; i < l->n; i++) {
        uint8_t t = l->certs[i].type;
        if (t != 2 && t != 4 && t != 5 && t != 7)
            printf(
                "    type %u (%u bytes)                                     not used by clients\n",
                t, l->certs[i].len);
    }
    om_rsa_free(rsa);
}

static void on_open(om_channel_t *c, void *arg)
{
    (void)c;
    (void)arg;
    link_open = 1;
    link_done = 1;
}

static void on_close(om_channel_t *c, const char *reason, void *arg)
{
    (void)arg;
    snprintf(link_reason, sizeof link_reason, "%s", reason);
    if (!link_open && om_channel_peer_certs(c)->n) print_certs(c);
    link_done = 1;
}

static void run_until(const int *flag, int timeout_s)
{
    uint64_t end = om_now_usec() + (uint64_t)timeout_s * 1000000u;
    while (!*flag && om_now_usec() < end) {
        struct timeval tv = {0, 50000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
}

typedef struct {
    int done, built, fetched, status, closed; /* closed: freed after p_closed */
    const char *path;
    uint64_t t0, t_built, t_fetched;
    char reason[320];
    char *body;
    size_t len;
} probe_circ_t;

static void p_fetch(int status, const uint8_t *body, size_t len, const char *err, void *arg)
{
    probe_circ_t *p = arg;
    p->fetched = 1;
    p->status = status;
    p->t_fetched = om_now_usec();
    if (err) snprintf(p->reason, sizeof p->reason, "%s", err);
    if (body) {
        p->body = malloc(len + 1);
        memcpy(p->body, body, len);
        p->body[len] = 0;
        p->len = len;
    }
    p->done = 1;
}

static void p_built(om_circuit_t *circ, void *arg)
{
    probe_circ_t *p = arg;
    p->built = 1;
    p->t_built = om_now_usec();
    if (!p->path || om_dir_fetch(circ, p->path, 4 << 20, p_fetch, p) < 0) p->done = 1;
}

static void p_closed(om_circuit_t *circ, const char *reason, void *arg)
{
    probe_circ_t *p = arg;
    (void)circ;
    if (!p->done) snprintf(p->reason, sizeof p->reason, "%s", reason);
    p->done = 1;
    p->closed = 1;
}

static void probe_circuit(om_channel_t *chan, int type, const char *name, const char *path)
{
    probe_circ_t p;
    memset(&p, 0, sizeof p);
    p.path = path;
    om_hop_target_t t;
    memset(&t, 0, sizeof t);
    memcpy(t.rsa_fp, om_channel_peer_identity(chan)->rsa_fp, 20);
    memcpy(t.ed_id, om_channel_peer_identity(chan)->ed_id, 32);
    t.has_ed = true;
    if (type != OM_HANDSHAKE_TYPE_FAST) {
        if (!have_desc || !desc.has_ntor) {
            print_step(name, "skipped: no ntor key (descriptor not fetched)", -1);
            return;
        }
        memcpy(t.ntor_key, desc.ntor_key, 32);
    }
    om_circ_callbacks_t cb = {.on_built = p_built, .on_closed = p_closed, .arg = &p};
    p.t0 = om_now_usec();
    om_circuit_t *circ = om_circuit_create(chan, type, &t, &cb);
    if (!circ) {
        print_step(name, "could not send the create cell", -1);
        return;
    }
    run_until(&p.done, 20);
    char detail[400];
    if (!p.built) {
        snprintf(detail, sizeof detail, "FAILED: %s", p.reason[0] ? p.reason : "timeout");
        print_step(name, detail, -1);
    } else {
        print_step(name, "circuit built", ms(p.t0, p.t_built));
        if (path) {
            if (p.fetched && p.status == 200) {
                snprintf(detail, sizeof detail, "GET %s: %zu bytes", path, p.len);
                print_step("  BEGIN_DIR", detail, ms(p.t_built, p.t_fetched));
                char err[128];
                if (!have_desc && om_router_desc_parse(p.body, p.len, &desc, err, sizeof err) == 0)
                    have_desc = 1;
            } else {
                snprintf(detail, sizeof detail, "GET %s: %s (HTTP %d)", path,
                         p.reason[0] ? p.reason : "no answer", p.status);
                print_step("  BEGIN_DIR", detail, -1);
            }
        }
        om_circuit_close(circ, OM_DESTROY_FINISHED, "probe done");
    }
    free(p.body);
}

/* Two hops, the second reached over IPv6 only (hop = its identities, ntor key and [ADDR]:PORT).
 * Returns 0 if EXTENDED2 came and hop 2 served its own descriptor with those identities. */
static int probe_extend(om_channel_t *chan, const om_hop_target_t *hop)
{
    static const char path[] = "/tor/server/authority";
    om_hop_target_t p2[2];
    memset(p2, 0, sizeof p2);
    memcpy(p2[0].rsa_fp, om_channel_peer_identity(chan)->rsa_fp, 20);
    memcpy(p2[0].ed_id, om_channel_peer_identity(chan)->ed_id, 32);
    p2[0].has_ed = true;
    p2[0].handshake_type = OM_HANDSHAKE_TYPE_FAST;
    p2[1] = *hop;
    const char *name = "EXTEND2 IPv6";
    char addr[INET6_ADDRSTRLEN], detail[400];
    inet_ntop(AF_INET6, hop->ipv6, addr, sizeof addr);
    probe_circ_t p;
    memset(&p, 0, sizeof p);
    p.path = path;
    om_circ_callbacks_t cb = {.on_built = p_built, .on_closed = p_closed, .arg = &p};
    p.t0 = om_now_usec();
    om_circuit_t *circ = om_circuit_build(chan, p2, 2, &cb);
    if (!circ) {
        print_step(name, "could not send CREATE_FAST", -1);
        return -1;
    }
    run_until(&p.done, 30);
    int rc = -1;
    if (!p.built) {
        snprintf(detail, sizeof detail, "FAILED to [%s]:%u: %s", addr, hop->ipv6_port,
                 p.reason[0] ? p.reason : "timeout");
        print_step(name, detail, -1);
        free(p.body);
        return -1;
    }
    snprintf(detail, sizeof detail, "EXTENDED2: hop 2 at [%s]:%u (ntor-v3), circuit built", addr,
             hop->ipv6_port);
    print_step(name, detail, ms(p.t0, p.t_built));
    om_router_desc_t d;
    char err[128] = "", hex[41], want[41];
    om_hex_encode(hop->rsa_fp, 20, want);
    if (!p.fetched || p.status != 200) {
        snprintf(detail, sizeof detail, "hop 2 GET %s: %s (HTTP %d)", path,
                 p.reason[0] ? p.reason : "no answer", p.status);
        print_step("  BEGIN_DIR", detail, -1);
    } else if (om_router_desc_parse(p.body, p.len, &d, err, sizeof err) < 0) {
        snprintf(detail, sizeof detail, "hop 2 GET %s: %zu bytes, not a descriptor: %s", path,
                 p.len, err);
        print_step("  BEGIN_DIR", detail, -1);
    } else {
        om_hex_encode(d.rsa_fp, 20, hex);
        bool ed_ok = d.has_ed && !memcmp(d.ed_id, hop->ed_id, 32);
        char orline[96];
        snprintf(orline, sizeof orline, "\nor-address [%s]:%u\n", addr, hop->ipv6_port);
        snprintf(detail, sizeof detail, "hop 2 GET %s: %s %s, Ed25519 %s, or-address [%s]:%u %s",
                 path, d.nickname, hex, ed_ok ? "matches" : "DIFFERS", addr, hop->ipv6_port,
                 strstr(p.body, orline) ? "listed" : "not listed");
        print_step("  BEGIN_DIR", detail, ms(p.t_built, p.t_fetched));
        if (strcmp(hex, want) != 0)
            printf("  hop 2            FINGERPRINT MISMATCH: expected %s\n", want);
        else if (ed_ok)
            rc = 0;
    }
    if (rc == 0) printf("  hop 2            relay %s proved over the IPv6-only extend\n", want);
    if (!p.closed) om_circuit_close(circ, OM_DESTROY_FINISHED, "probe done");
    free(p.body);
    return rc;
}

static int parse_hostport(const char *s, char *host, size_t hl, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon) return -1;
    size_t n = (size_t)(colon - s);
    const char *h = s;
    if (*h == '[' && n >= 2 && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    if (n == 0 || n >= hl) return -1;
    memcpy(host, h, n);
    host[n] = 0;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p <= 0 || p > 65535) return -1;
    *port = (uint16_t)p;
    return 0;
}

static int parse_fingerprint(const char *s, uint8_t out[20])
{
    char hex[64];
    size_t n = 0;
    for (; *s; s++) {
        if (*s == ' ' || *s == '$') continue;
        if (n >= sizeof hex - 1) return -1;
        hex[n++] = *s;
    }
    return om_hex_decode(hex, n, out, 20);
}

static void usage(void)
{
    fprintf(stderr,
            "Usage: onionmesh-probe HOST:PORT [FINGERPRINT] [--ed25519 KEY] [--no-circuits]\n"
            "                       [--extend-ipv6 [ADDR]:PORT RSA_FP ED25519 NTOR_KEY]\n"
            "  HOST is a numeric IPv4 or [IPv6] address; FINGERPRINT the relay's RSA identity\n"
            "  (40 hex digits, spaces and $ allowed); KEY its Ed25519 identity (base64).\n"
            "  --extend-ipv6: a two-hop circuit through the probed relay to the relay at the\n"
            "  IPv6 ADDR:PORT (EXTEND2 with IPv6 and identity link specifiers only), given its\n"
            "  RSA fingerprint, Ed25519 identity and ntor onion key (base64).\n");
}

/* The --extend-ipv6 arguments into hop (ntor-v3, IPv6 only). */
static int parse_extend_ipv6(char **a, om_hop_target_t *hop)
{
    char host[64];
    memset(hop, 0, sizeof *hop);
    if (a[0][0] != '[' || parse_hostport(a[0], host, sizeof host, &hop->ipv6_port) < 0 ||
        inet_pton(AF_INET6, host, hop->ipv6) != 1) {
        fprintf(stderr, "onionmesh-probe: '%s' is not [IPV6]:PORT\n", a[0]);
        return -1;
    }
    if (parse_fingerprint(a[1], hop->rsa_fp) < 0) {
        fprintf(stderr, "onionmesh-probe: '%s' is not a 40-hex-digit fingerprint\n", a[1]);
        return -1;
    }
    if (om_base64_decode(a[2], strlen(a[2]), hop->ed_id, 32) != 32 ||
        om_base64_decode(a[3], strlen(a[3]), hop->ntor_key, 32) != 32) {
        fprintf(stderr, "onionmesh-probe: the Ed25519 identity and the ntor key are 32 bytes "
                        "in base64\n");
        return -1;
    }
    hop->has_ed = true;
    hop->has_ipv6 = true;
    hop->ipv6_only = true;
    hop->handshake_type = OM_HANDSHAKE_TYPE_NTOR_V3;
    return 0;
}

int main(int argc, char **argv)
{
    const char *target = NULL, *fp_arg = NULL, *ed_arg = NULL;
    int circuits = 1, extend = 0;
    om_hop_target_t hop2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--ed25519") && i + 1 < argc)
            ed_arg = argv[++i];
        else if (!strcmp(argv[i], "--extend-ipv6") && i + 4 < argc) {
            if (parse_extend_ipv6(argv + i + 1, &hop2) < 0) return 2;
            extend = 1;
            i += 4;
        } else if (!strcmp(argv[i], "--no-circuits"))
            circuits = 0;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage();
            return 0;
        } else if (argv[i][0] == '-') {
            usage();
            return 2;
        } else if (!target)
            target = argv[i];
        else if (!fp_arg)
            fp_arg = argv[i];
        else {
            usage();
            return 2;
        }
    }
    char host[64];
    uint16_t port;
    if (!target || parse_hostport(target, host, sizeof host, &port) < 0) {
        usage();
        return 2;
    }
    uint8_t fp[20], ed[32];
    if (fp_arg && parse_fingerprint(fp_arg, fp) < 0) {
        fprintf(stderr, "onionmesh-probe: '%s' is not a 40-hex-digit fingerprint\n", fp_arg);
        return 2;
    }
    if (ed_arg && om_base64_decode(ed_arg, strlen(ed_arg), ed, sizeof ed) != 32) {
        fprintf(stderr, "onionmesh-probe: '%s' is not a base64 Ed25519 key\n", ed_arg);
        return 2;
    }
    om_log_set_level(OM_LOG_WARN);
    base = event_base_new();
    printf("onionmesh-probe %s -> %s:%u\n", OM_VERSION, host, port);
    om_chan_callbacks_t cb = {.on_open = on_open, .on_close = on_close};
    om_channel_t *chan =
        om_channel_connect(base, host, port, fp_arg ? fp : NULL, ed_arg ? ed : NULL, &cb);
    if (!chan) {
        printf("  cannot connect to %s:%u\n", host, port);
        return 1;
    }
    const om_chan_timings_t *tm = om_channel_timings(chan);
    run_until(&link_done, OM_CHAN_HANDSHAKE_TIMEOUT_S + 2);
    if (!link_open) {
        printf("  LINK FAILED: %s\n", link_reason[0] ? link_reason : "timeout");
        return 1;
    }
    char d[200];
    om_channel_transport(chan)->ops->describe(om_channel_transport(chan), d, sizeof d);
    print_step("TCP+TLS", d, ms(tm->start, tm->transport_up));
    snprintf(d, sizeof d, "link protocol %d (we offer %d-%d)", om_channel_link_proto(chan),
             OM_LINK_PROTO_MIN, OM_LINK_PROTO_MAX);
    print_step("VERSIONS", d, ms(tm->transport_up, tm->versions));
    print_step("CERTS", "received and verified (chain below)", ms(tm->versions, tm->certs));
    print_certs(chan);
    char hex[41], b64[64];
    om_hex_encode(om_channel_peer_identity(chan)->rsa_fp, 20, hex);
    om_base64_encode(om_channel_peer_identity(chan)->ed_id, 32, b64, sizeof b64, true);
    printf("  identity         RSA %s\n                   Ed25519 %s\n", hex, b64);
    if (fp_arg || ed_arg)
        printf("  expected         %s%s matched\n", fp_arg ? "RSA fingerprint" : "",
               ed_arg ? (fp_arg ? " and Ed25519 identity" : "Ed25519 identity") : "");
    else
        printf("  expected         (no fingerprint given: identity proven, not compared)\n");
    snprintf(d, sizeof d, "%u method(s):%s", om_channel_auth_challenge(chan)->n_methods,
             om_auth_challenge_has_method(om_channel_auth_challenge(chan), 3)
                 ? " Ed25519-SHA256-RFC5705"
                 : "");
    print_step("AUTH_CHALLENGE", d, ms(tm->certs, tm->auth_challenge));
    char a1[64], a2[64];
    time_t rt = om_channel_peer_netinfo(chan)->timestamp;
    struct tm rtm;
    gmtime_r(&rt, &rtm);
    char rts[32];
    strftime(rts, sizeof rts, "%Y-%m-%d %H:%M:%S", &rtm);
    snprintf(d, sizeof d, "relay clock %s UTC (skew %+ld s), sees us as %s, relay at %s", rts,
             (long)(rt - time(NULL)),
             om_addr_to_string(&om_channel_peer_netinfo(chan)->other, a1, sizeof a1),
             om_channel_peer_netinfo(chan)->n_my_addrs
                 ? om_addr_to_string(&om_channel_peer_netinfo(chan)->my_addrs[0], a2, sizeof a2)
                 : "(none)");
    print_step("NETINFO", d, ms(tm->auth_challenge ? tm->auth_challenge : tm->certs, tm->netinfo));
    print_step("link open", "total handshake", ms(tm->start, tm->open));
    if (circuits) {
        probe_circuit(chan, OM_HANDSHAKE_TYPE_FAST, "CREATE_FAST", "/tor/server/authority");
        if (have_desc)
            printf("  descriptor       %s at %s:%u, %s\n", desc.nickname, desc.address,
                   desc.or_port, desc.platform);
        probe_circuit(chan, OM_HANDSHAKE_TYPE_NTOR, "CREATE2 ntor", NULL);
        probe_circuit(chan, OM_HANDSHAKE_TYPE_NTOR_V3, "CREATE2 ntor-v3", NULL);
    }
    int rc = extend && probe_extend(chan, &hop2) < 0 ? 1 : 0;
    om_channel_free(chan);
    struct timeval tv = {0, 20000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
    event_base_free(base);
    return rc;
}
