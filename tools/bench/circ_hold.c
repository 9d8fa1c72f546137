/* circ_hold.c — circ-hold: open one link to a relay and hold N one-hop circuits on it, for
 * measuring a relay's memory per open circuit (tools/bench/bench-relay).
 * Usage: circ-hold HOST:PORT FINGERPRINT N [--seconds S] [--rate R] [--batches B]
 * Connects as a client (no AUTHENTICATE), verifies the relay's RSA identity, then sends CREATE_FAST
 * (default; tor and onionmesh relays accept it from clients) at R per second (default 100: relays
 * refuse bursts, onionmesh beyond 200 CREATEs per link per second, with DESTROY RESOURCELIMIT,
 * and circuits refused that way are retried). When every circuit is built or has failed it prints
 *   circ-hold: created K of N circuits (F failed) in T s
 *   circ-hold: holding
 * and keeps the link and the circuits open until S seconds have passed (default: until SIGTERM or
 * SIGINT), then prints how many were still open. With --batches B, each SIGUSR1 received while
 * holding opens N more (up to B*N), printing the same two lines (counts are totals) each time.
 * Circuits unanswered 120 s after the link opened count as failed. Exit status 0 if all N were
 * created. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/channel.h"
#include "core/circuit.h"
#include "core/crypto.h"
#include "core/log.h"

#define MAX_RETRIES 5

static struct event_base *base;
static om_channel_t *chan;
static int n_want, batch, batches = 1, n_sent, n_built, n_failed, n_retry_pending, n_closed_after;
static int rate = 100, htype = OM_HANDSHAKE_TYPE_FAST, holding, link_open, link_closed;
#define ANSWER_TIMEOUT_US 120000000u
static double hold_seconds = -1;
static uint64_t t_start;
static char last_reason[300];
static om_hop_target_t target;
static struct event *tick_ev, *hold_ev, *sig_term, *sig_int, *sig_usr1;

typedef struct {
    int built, retries;
} slot_t;

static void try_create(slot_t *s);

static void c_built(om_circuit_t *circ, void *arg)
{
    (void)circ;
    ((slot_t *)arg)->built = 1;
    n_built++;
}

static void c_closed(om_circuit_t *circ, const char *reason, void *arg)
{
    slot_t *s = arg;
    (void)circ;
    snprintf(last_reason, sizeof last_reason, "%s", reason);
    if (s->built) {
        n_closed_after++;
        n_built--;
        s->built = 0;
        return;
    }
    if (strstr(reason, "RESOURCELIMIT") && s->retries < MAX_RETRIES && !link_closed) {
        s->retries++;
        n_retry_pending++; /* sent again by the next tick */
        s->built = -1;
        return;
    }
    n_failed++;
}

static slot_t *slots;

static void try_create(slot_t *s)
{
    om_circ_callbacks_t cb = {.on_built = c_built, .on_closed = c_closed, .arg = s};
    s->built = 0;
    if (!om_circuit_create(chan, htype, &target, &cb)) {
        snprintf(last_reason, sizeof last_reason, "could not send the create cell");
        n_failed++;
    }
}

static void finish(void)
{
    printf("circ-hold: %d circuits still open at exit (%d closed by the relay while held%s%s)\n",
           n_built, n_closed_after, n_closed_after ? "; last: " : "",
           n_closed_after ? last_reason : "");
    fflush(stdout);
    event_base_loopbreak(base);
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    finish();
}

static void on_more(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (!holding || n_want + batch > batch * batches) return;
    n_want += batch;
    holding = 0;
    t_start = om_now_usec();
}

static void on_hold_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    finish();
}

/* Every 100 ms: send up to rate/10 creates (retries first), and see whether all are done. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (link_closed) {
        printf("circ-hold: link closed: %s\n", last_reason);
        fflush(stdout);
        event_base_loopbreak(base);
        return;
    }
    if (!link_open) return;
    int budget = rate / 10 > 0 ? rate / 10 : 1;
    for (int i = 0; i < n_sent && budget > 0 && n_retry_pending > 0; i++)
        if (slots[i].built == -1) {
            n_retry_pending--;
            budget--;
            try_create(&slots[i]);
        }
    while (budget-- > 0 && n_sent < n_want)
        try_create(&slots[n_sent++]);
    int pending = n_want - n_built - n_failed - n_closed_after;
    if (!holding && n_sent == n_want && n_retry_pending == 0 &&
        (pending <= 0 || om_now_usec() - t_start > ANSWER_TIMEOUT_US)) {
        holding = 1;
        if (pending > 0) {
            n_failed += pending;
            snprintf(last_reason, sizeof last_reason, "%d unanswered after %u s", pending,
                     ANSWER_TIMEOUT_US / 1000000u);
        }
        printf("circ-hold: created %d of %d circuits (%d failed%s%s) in %.1f s\n", n_built, n_want,
               n_failed, n_failed ? "; last: " : "", n_failed ? last_reason : "",
               (double)(om_now_usec() - t_start) / 1e6);
        printf("circ-hold: holding\n");
        fflush(stdout);
        if (hold_seconds >= 0 && n_want == batch * batches) {
            struct timeval tv = {
                (time_t)hold_seconds,
                (suseconds_t)((hold_seconds - (double)(time_t)hold_seconds) * 1e6)};
            hold_ev = evtimer_new(base, on_hold_done, NULL);
            evtimer_add(hold_ev, &tv);
        }
    }
}

static void l_open(om_channel_t *c, void *arg)
{
    (void)c;
    (void)arg;
    link_open = 1;
    t_start = om_now_usec();
}

static void l_close(om_channel_t *c, const char *reason, void *arg)
{
    (void)c;
    (void)arg;
    link_closed = 1;
    snprintf(last_reason, sizeof last_reason, "%s", reason);
    chan = NULL;
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
            "Usage: circ-hold HOST:PORT FINGERPRINT N [--seconds S] [--rate R] [--batches B]\n"
            "  HOST a numeric IPv4 address, FINGERPRINT the relay's RSA identity (hex),\n"
            "  N one-hop CREATE_FAST circuits, R creates per second (default 100),\n"
            "  S seconds to hold them (default: until SIGTERM/SIGINT); B: each SIGUSR1\n"
            "  opens N more, up to B*N.\n");
}

int main(int argc, char **argv)
{
    const char *pos[3] = {NULL, NULL, NULL};
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            hold_seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--batches") && i + 1 < argc)
            batches = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
            rate = atoi(argv[++i]);
        else if (argv[i][0] == '-' || npos == 3) {
            usage();
            return 2;
        } else
            pos[npos++] = argv[i];
    }
    char host[64];
    const char *colon = pos[0] ? strrchr(pos[0], ':') : NULL;
    batch = n_want = pos[2] ? atoi(pos[2]) : 0;
    uint8_t fp[20];
    if (npos != 3 || !colon || (size_t)(colon - pos[0]) >= sizeof host || n_want <= 0 ||
        batches < 1 || n_want > OM_CHAN_MAX_CIRCUITS / batches || rate <= 0 ||
        parse_fingerprint(pos[1], fp) < 0) {
        usage();
        return 2;
    }
    memcpy(host, pos[0], (size_t)(colon - pos[0]));
    host[colon - pos[0]] = 0;
    long port = strtol(colon + 1, NULL, 10);
    if (port <= 0 || port > 65535) {
        usage();
        return 2;
    }
    slots = calloc((size_t)n_want * (size_t)batches, sizeof *slots);
    if (!slots) return 1;
    memset(&target, 0, sizeof target);
    memcpy(target.rsa_fp, fp, 20);
    om_log_set_level(OM_LOG_WARN);
    signal(SIGPIPE, SIG_IGN);
    base = event_base_new();
    om_chan_callbacks_t cb = {.on_open = l_open, .on_close = l_close};
    chan = om_channel_connect(base, host, (uint16_t)port, fp, NULL, &cb);
    if (!chan) {
        printf("circ-hold: cannot connect to %s:%ld\n", host, port);
        return 1;
    }
    struct timeval tick = {0, 100000};
    tick_ev = event_new(base, -1, EV_PERSIST, on_tick, NULL);
    event_add(tick_ev, &tick);
    sig_term = evsignal_new(base, SIGTERM, on_signal, NULL);
    sig_int = evsignal_new(base, SIGINT, on_signal, NULL);
    event_add(sig_term, NULL);
    event_add(sig_int, NULL);
    sig_usr1 = evsignal_new(base, SIGUSR1, on_more, NULL);
    event_add(sig_usr1, NULL);
    event_base_dispatch(base);
    int ok = holding && n_failed == 0;
    /* Exit without tearing the circuits down one by one: the relay frees them when the link
     * closes with the process. */
    return ok ? 0 : 1;
}
