/* two_instances.c — instances of the engine are independent (issue 9): two onion proxies embedded
 * in one process through the public API (include/onionmesh/onionmesh.h), each on its own event
 * loop in its own thread, bootstrap from the same private Tor network, and each fetches a page
 * through its own SOCKS port and its own circuits; then one is stopped (everything freed) and the
 * other still fetches. Run by network-test.sh against Debian's tor:
 *     om-two-instances DIRAUTH_LINES_FILE WORKDIR HTTP_PORT PATH EXPECTED_FILE
 * Prints "ok - NAME" / "not ok - NAME: why" lines; exits 0 only if all passed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "onionmesh/onionmesh.h"

typedef struct {
    int n;
    char conf[8192];
    pthread_t thread;
    atomic_int percent, port, stopped, stop_req;
    char err[512];
} inst_t;

static void poll_cb(evutil_socket_t fd, short what, void *arg);

typedef struct {
    inst_t *in;
    onionmesh_t *om;
    struct event_base *base;
} loop_t;

static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
    loop_t *l = arg;
    (void)fd;
    (void)what;
    atomic_store(&l->in->percent, onionmesh_bootstrap_percent(l->om));
    if (atomic_load(&l->in->stop_req)) event_base_loopbreak(l->base);
}

/* One instance: its own event base, started from configuration text, run until asked to stop. */
static void *run(void *arg)
{
    inst_t *in = arg;
    loop_t l = {.in = in, .base = event_base_new()};
    l.om = l.base ? onionmesh_start(l.base, in->conf, in->err, sizeof in->err) : NULL;
    if (!l.om) {
        atomic_store(&in->stopped, 1);
        if (l.base) event_base_free(l.base);
        return NULL;
    }
    atomic_store(&in->port, onionmesh_socks_port(l.om));
    struct event *ev = event_new(l.base, -1, EV_PERSIST, poll_cb, &l);
    struct timeval tv = {0, 100000};
    event_add(ev, &tv);
    event_base_dispatch(l.base);
    event_free(ev);
    onionmesh_stop(l.om);
    event_base_free(l.base);
    atomic_store(&in->stopped, 1);
    return NULL;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, r;
    do {
        if (n + 65536 > cap) {
            char *nb = realloc(buf, cap = (n + 65536) * 2);
            if (!nb) break;
            buf = nb;
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
    } while (r > 0);
    fclose(f);
    *len = n;
    return buf;
}

/* GET path from 127.0.0.1:http_port through the SOCKS5 proxy at socks_port; the body, or NULL. */
static char *fetch(int socks_port, int http_port, const char *path, size_t *len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)socks_port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval to = {60, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &to, sizeof to);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) goto fail;
    uint8_t req[64] = {5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1};
    req[11] = (uint8_t)(http_port >> 8);
    req[12] = (uint8_t)http_port;
    char http[512];
    int hl = snprintf(http, sizeof http, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    uint8_t rep[12];
    if (write(fd, req, 13) != 13 || read(fd, rep, 2) != 2 || rep[1] != 0) goto fail;
    if (recv(fd, rep, 10, MSG_WAITALL) != 10 || rep[1] != 0) goto fail; /* CONNECT reply */
    if (write(fd, http, (size_t)hl) != hl) goto fail;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    ssize_t r;
    while (buf && (r = read(fd, buf + n, cap - n)) > 0) {
        n += (size_t)r;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    close(fd);
    char *body = buf ? memmem(buf, n, "\r\n\r\n", 4) : NULL;
    if (!body) {
        free(buf);
        return NULL;
    }
    body += 4;
    *len = n - (size_t)(body - buf);
    memmove(buf, body, *len);
    return buf;
fail:
    if (fd >= 0) close(fd);
    return NULL;
}

static int failed;
static void report(int ok, const char *name, const char *why)
{
    if (ok)
        printf("ok - two_instances/%s\n", name);
    else
        printf("not ok - two_instances/%s: %s\n", name, why);
    failed |= !ok;
    fflush(stdout);
}

static int fetch_ok(inst_t *in, int http_port, const char *path, const char *want, size_t wlen)
{
    size_t len = 0;
    char *got = fetch(atomic_load(&in->port), http_port, path, &len);
    int ok = got && len == wlen && memcmp(got, want, len) == 0;
    free(got);
    return ok;
}

typedef struct {
    inst_t *in;
    int http_port;
    const char *path, *want;
    size_t wlen;
    int ok;
} fetch_job_t;

static void *fetch_thread(void *arg)
{
    fetch_job_t *j = arg;
    j->ok = fetch_ok(j->in, j->http_port, j->path, j->want, j->wlen);
    return NULL;
}

static int wait_until(atomic_int *v, int want, int seconds)
{
    for (int i = 0; i < seconds * 10 && atomic_load(v) < want; i++)
        usleep(100000);
    return atomic_load(v) >= want;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s DIRAUTH_LINES WORKDIR HTTP_PORT PATH EXPECTED_FILE\n", argv[0]);
        return 2;
    }
    size_t alen, wlen;
    char *auths = read_all(argv[1], &alen);
    char *want = read_all(argv[5], &wlen);
    int http_port = atoi(argv[3]);
    if (!auths || !want) return 2;
    static inst_t in[2];
    for (int i = 0; i < 2; i++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/instance%d", argv[2], i);
        mkdir(dir, 0700);
        in[i].n = i;
        snprintf(in[i].conf, sizeof in[i].conf,
                 "SocksPort 127.0.0.1:auto\nDataDirectory %s\nTestingTorNetwork 1\n"
                 "PathsNeededToBuildCircuits 0.67\n%.*s\n",
                 dir, (int)alen, auths);
        pthread_create(&in[i].thread, NULL, run, &in[i]);
    }
    int boot = wait_until(&in[0].percent, 100, 240) && wait_until(&in[1].percent, 100, 240);
    char why[1200];
    snprintf(why, sizeof why, "bootstrap %d%% and %d%% (%s%s)", atomic_load(&in[0].percent),
             atomic_load(&in[1].percent), in[0].err, in[1].err);
    report(boot, "both_bootstrap_on_their_own_loops", why);
    if (boot) {
        report(atomic_load(&in[0].port) != atomic_load(&in[1].port), "own_socks_ports",
               "same port");
        report(fetch_ok(&in[0], http_port, argv[4], want, wlen), "first_fetches_byte_exact",
               "wrong or no body");
        report(fetch_ok(&in[1], http_port, argv[4], want, wlen), "second_fetches_byte_exact",
               "wrong or no body");
        /* Both at once, from two threads of ours against their two loops. */
        fetch_job_t jobs[2];
        pthread_t th[2];
        for (int i = 0; i < 2; i++) {
            jobs[i] = (fetch_job_t){&in[i], http_port, argv[4], want, wlen, 0};
            pthread_create(&th[i], NULL, fetch_thread, &jobs[i]);
        }
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        report(jobs[0].ok && jobs[1].ok, "both_fetch_at_once_byte_exact", "wrong or no body");
        atomic_store(&in[0].stop_req, 1);
        report(wait_until(&in[0].stopped, 1, 30), "first_stops", "did not stop");
        report(fetch_ok(&in[1], http_port, argv[4], want, wlen),
               "second_fetches_after_first_stopped", "wrong or no body");
    }
    for (int i = 0; i < 2; i++) {
        atomic_store(&in[i].stop_req, 1);
        pthread_join(in[i].thread, NULL);
    }
    free(auths);
    free(want);
    return failed;
}
