/* tools/dht-client/dht_client.c — onionmesh-dht: the DHT's C API (src/dht/dht.h) from the command
 * line, over an onion proxy of its own (its torrc: DataDirectory, DirAuthority lines ...), so
 * that queries leave through 3-hop circuits:
 *   onionmesh-dht -f TORRC [--timeout S] [--alpha N] provide KEYHEX RELAY_DATA_DIR [CLAIMED_FP]
 *       announce that the relay whose keys are in RELAY_DATA_DIR/keys provides KEYHEX (the
 *       record is signed with that relay's Ed25519 identity); prints "stored at N of M nodes".
 *       CLAIMED_FP (tests): name another relay as the provider, a record nodes must refuse
 *   onionmesh-dht -f TORRC [--timeout S] [--alpha N] find KEYHEX
 *       prints "provider FINGERPRINT expires UNIXTIME" for each provider found
 * --alpha N: queries in flight per lookup (1..16, default 3). The lookup counts go to stderr.
 * Exit status 0 on success (stored at one node at least / a provider found), 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "dht/dht.h"
#include "op/circpool.h"
#include "op/op.h"
#include "op/op_config.h"
#include "op/op_options.h"
#include "or/relay_keys.h"

typedef struct {
    struct event_base *base;
    om_op_t *op;
    om_dht_t *dht;
    bool provide, started;
    uint8_t key[20];
    om_relay_keys_t keys;
    uint8_t claimed[20];
    int rc, alpha;
    struct event *poll;
} app_t;

static void *get_circ(void *arg, const uint8_t node[20],
                      void (*cb)(om_circuit_t *circ, const char *err, void *cbarg), void *cbarg)
{
    app_t *a = arg;
    om_circpool_t *pool = om_op_circpool(a->op);
    return om_circpool_get_to(pool, node, "onionmesh-dht", cb, cbarg);
}

static void cancel_circ(void *arg, void *handle)
{
    app_t *a = arg;
    om_circpool_cancel(om_op_circpool(a->op), handle);
}

static const om_consensus_t *consensus(void *arg)
{
    return om_op_consensus(((app_t *)arg)->op);
}

static void found(void *arg, const om_dht_record_t *recs, size_t n, const char *err)
{
    app_t *a = arg;
    for (size_t i = 0; i < n; i++) {
        char hex[41];
        om_hex_encode(recs[i].value, 20, hex);
        printf("provider %s expires %llu\n", hex, (unsigned long long)recs[i].expires);
    }
    if (!n) printf("no provider: %s\n", err ? err : "none");
    a->rc = n ? 0 : 1;
    event_base_loopbreak(a->base);
}

static void stored(void *arg, unsigned accepted, unsigned asked, const char *err)
{
    app_t *a = arg;
    printf("stored at %u of %u nodes%s%s\n", accepted, asked, err ? ": " : "", err ? err : "");
    a->rc = accepted ? 0 : 1;
    event_base_loopbreak(a->base);
}

/* Once the OP has a circuit (bootstrap 100) and a consensus: run the command. */
static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
    app_t *a = arg;
    (void)fd;
    (void)what;
    if (a->started || om_op_bootstrap_percent(a->op) < 100 || !om_op_consensus(a->op)) return;
    a->started = true;
    om_dht_params_t p = {.base = a->base,
                         .get_circ = get_circ,
                         .cancel_circ = cancel_circ,
                         .consensus = consensus,
                         .arg = a,
                         .alpha = a->alpha};
    a->dht = om_dht_new(&p);
    int r = !a->dht      ? -1
            : a->provide ? om_dht_provide(a->dht, a->key, &a->keys.ed_id, a->claimed, stored, a)
                         : om_dht_find_providers(a->dht, a->key, found, a);
    if (r < 0) {
        fprintf(stderr, "onionmesh-dht: could not start the %s\n", a->provide ? "store" : "lookup");
        event_base_loopbreak(a->base);
    }
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    app_t *a = arg;
    fprintf(stderr, "onionmesh-dht: timed out (%s)\n",
            a->started ? "the DHT did not answer" : "the onion proxy did not bootstrap");
    event_base_loopbreak(a->base);
}

static int usage(void)
{
    fprintf(stderr,
            "usage: onionmesh-dht -f TORRC [--timeout S] [--alpha N] provide KEYHEX RELAY_DATA_DIR "
            "[CLAIMED_FP]\n"
            "       onionmesh-dht -f TORRC [--timeout S] [--alpha N] find KEYHEX\n");
    return 2;
}

static int start_op(app_t *a, const char *torrc)
{
    char err[512];
    om_config_t *cfg = om_config_new();
    om_op_options_t opt;
    int rc = -1;
    if (cfg && om_op_config_register(cfg, err, sizeof err) == 0 &&
        om_config_load_file(cfg, torrc, err, sizeof err) == 0 &&
        om_config_validate(cfg, err, sizeof err) == 0 &&
        om_op_options_from_config(cfg, &opt, err, sizeof err) == 0 &&
        om_config_apply_logging(cfg) == 0 && (a->op = om_op_start(a->base, &opt, err, sizeof err)))
        rc = 0;
    else
        fprintf(stderr, "onionmesh-dht: %s\n", cfg ? err : "out of memory");
    om_config_free(cfg);
    return rc;
}

int main(int argc, char **argv)
{
    const char *torrc = NULL;
    int timeout_s = 120, alpha = 0, i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (!strcmp(argv[i], "-f"))
            torrc = argv[i + 1];
        else if (!strcmp(argv[i], "--timeout"))
            timeout_s = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--alpha"))
            alpha = atoi(argv[i + 1]);
        else
            return usage();
    }
    app_t a = {.rc = 1, .alpha = alpha};
    if (!torrc || i + 2 > argc || timeout_s <= 0 || alpha < 0 || alpha > 16) return usage();
    a.provide = !strcmp(argv[i], "provide");
    if ((!a.provide && strcmp(argv[i], "find")) || (a.provide && i + 3 != argc && i + 4 != argc) ||
        (!a.provide && i + 2 != argc) || strlen(argv[i + 1]) != 40 ||
        om_hex_decode(argv[i + 1], 40, a.key, 20) < 0)
        return usage();
    char err[512];
    if (a.provide && om_relay_keys_load(&a.keys, argv[i + 2], time(NULL), err, sizeof err) < 0) {
        fprintf(stderr, "onionmesh-dht: %s\n", err);
        return 1;
    }
    if (a.provide) memcpy(a.claimed, a.keys.rsa_fp, 20);
    if (a.provide && i + 4 == argc &&
        (strlen(argv[i + 3]) != 40 || om_hex_decode(argv[i + 3], 40, a.claimed, 20) < 0))
        return usage();
    a.base = event_base_new();
    if (!a.base || start_op(&a, torrc) < 0) return 1;
    a.poll = event_new(a.base, -1, EV_PERSIST, poll_cb, &a);
    struct event *t = evtimer_new(a.base, timeout_cb, &a);
    struct timeval tp = {0, 200000}, tt = {timeout_s, 0};
    event_add(a.poll, &tp);
    evtimer_add(t, &tt);
    event_base_dispatch(a.base);
    if (a.dht) {
        om_dht_stats_t st;
        om_dht_stats(a.dht, &st);
        fprintf(stderr,
                "onionmesh-dht: %llu lookups (%llu succeeded), %llu queries (%llu failed), %llu "
                "records rejected\n",
                (unsigned long long)st.lookups, (unsigned long long)st.lookups_ok,
                (unsigned long long)st.queries, (unsigned long long)st.query_failures,
                (unsigned long long)st.records_rejected);
    }
    om_dht_free(a.dht);
    om_op_free(a.op);
    /* Circuits and links are freed from deferred events after they close: let those run. */
    for (int k = 0; k < 4; k++)
        event_base_loop(a.base, EVLOOP_NONBLOCK);
    event_free(a.poll);
    event_free(t);
    event_base_free(a.base);
    if (a.provide) om_relay_keys_free(&a.keys);
    return a.rc;
}
