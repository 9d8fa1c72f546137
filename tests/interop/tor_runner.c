/* tor_runner.c — starts Debian's tor on loopback for interop tests (see tor_runner.h). */
#include "tor_runner.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 16
static pid_t started[MAX_PROCS];
static int n_started;
static int atexit_done;

static void kill_all(void)
{
    for (int i = 0; i < n_started; i++)
        if (started[i] > 0) {
            kill(started[i], SIGTERM);
            waitpid(started[i], NULL, 0);
            started[i] = 0;
        }
}

uint16_t om_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof sin;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &l) < 0) {
        if (fd >= 0) close(fd);
        return 0;
    }
    close(fd);
    return ntohs(sin.sin_port);
}

const char *om_tor_version(void)
{
    static char v[128];
    if (v[0]) return v;
    FILE *p = popen("tor --version 2>/dev/null", "r");
    if (!p) return "";
    if (!fgets(v, sizeof v, p)) v[0] = 0;
    pclose(p);
    v[strcspn(v, "\n")] = 0;
    return v;
}

int om_tor_start(om_tor_proc_t *t, const char *name, int relay, const char *extra)
{
    memset(t, 0, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/om-tor-%s-XXXXXX", name);
    if (!mkdtemp(t->dir)) return -1;
    char data[300];
    snprintf(data, sizeof data, "%s/data", t->dir);
    mkdir(data, 0700);
    snprintf(t->torrc, sizeof t->torrc, "%s/torrc", t->dir);
    snprintf(t->log, sizeof t->log, "%s/tor.log", t->dir);
    FILE *f = fopen(t->torrc, "w");
    if (!f) return -1;
    /* A DirAuthority on loopback that does not exist: tor never reaches for the public network's
     * authorities. Its fingerprints are placeholders. */
    uint16_t fake_auth = om_free_port();
    fprintf(f,
            "DataDirectory %s\n"
            "Log notice file %s\n"
            "SocksPort 0\n"
            "TestingTorNetwork 1\n"
            "PathsNeededToBuildCircuits 0.67\n"
            "DirAuthority fakeauth orport=%u no-v2 v3ident=%s 127.0.0.1:%u %s\n"
            "RunAsDaemon 0\n"
            "ProtocolWarnings 1\n"
            "SafeLogging 0\n"
            "Nickname %s\n",
            data, t->log, (unsigned)fake_auth, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            (unsigned)fake_auth, "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", name);
    if (relay) {
        t->or_port = om_free_port();
        t->dir_port = om_free_port();
        fprintf(f,
                "ORPort 127.0.0.1:%u\n"
                "DirPort 127.0.0.1:%u\n"
                "Address 127.0.0.1\n"
                "AssumeReachable 1\n"
                "PublishServerDescriptor 0\n"
                "ContactInfo onionmesh-interop-test\n",
                (unsigned)t->or_port, (unsigned)t->dir_port);
        /* The link handshake at debug level, e.g. tor's "Got an AUTHENTICATE cell on ...: Looks
         * good." (channeltls.c), which only a debug log shows. */
        snprintf(t->hs_log, sizeof t->hs_log, "%s/handshake.log", t->dir);
        fprintf(f, "Log [handshake]debug file %s\n", t->hs_log);
        if (relay == 2)
            fputs("ExitRelay 1\nExitPolicy accept 127.0.0.0/8:*\nExitPolicyRejectPrivate 0\n", f);
        else
            fputs("ExitRelay 0\n", f);
    }
    if (extra) fputs(extra, f);
    /* OM_TOR_DEBUG_LOG=1 adds an info-level log (tor-info.log) for debugging a failure. */
    if (getenv("OM_TOR_DEBUG_LOG")) fprintf(f, "Log info file %s/tor-info.log\n", t->dir);
    fclose(f);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        char out[320];
        snprintf(out, sizeof out, "%s/stdout", t->dir);
        FILE *o = freopen(out, "w", stdout);
        (void)o;
        dup2(1, 2);
        execlp("tor", "tor", "-f", t->torrc, (char *)NULL);
        _exit(127);
    }
    t->pid = pid;
    if (n_started < MAX_PROCS) started[n_started++] = pid;
    if (!atexit_done) {
        atexit(kill_all);
        atexit_done = 1;
    }
    return 0;
}

void om_tor_stop(om_tor_proc_t *t)
{
    if (t->pid > 0) {
        kill(t->pid, SIGTERM);
        waitpid(t->pid, NULL, 0);
        for (int i = 0; i < n_started; i++)
            if (started[i] == t->pid) started[i] = 0;
        t->pid = 0;
    }
}

char *om_http_get_local(uint16_t port, const char *path, size_t *len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return NULL;
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
        close(fd);
        return NULL;
    }
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return NULL;
    }
    size_t cap = 65536, used = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (used == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) break;
            buf = nb;
        }
        ssize_t r = read(fd, buf + used, cap - used);
        if (r <= 0) break;
        used += (size_t)r;
    }
    close(fd);
    buf[used] = 0;
    char *body = strstr(buf, "\r\n\r\n");
    if (used < 12 || strncmp(buf + 9, "200", 3) || !body) {
        free(buf);
        return NULL;
    }
    body += 4;
    size_t bl = used - (size_t)(body - buf);
    memmove(buf, body, bl + 1);
    if (len) *len = bl;
    return buf;
}

char *om_tor_wait_descriptor(om_tor_proc_t *t, int timeout_s)
{
    time_t end = time(NULL) + timeout_s;
    while (time(NULL) < end) {
        int st;
        if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
            fprintf(stderr, "tor exited early; see %s\n", t->log);
            t->pid = 0;
            return NULL;
        }
        char *d = om_http_get_local(t->dir_port, "/tor/server/authority", NULL);
        if (d) return d;
        usleep(250 * 1000);
    }
    return NULL;
}

int om_tor_log_count(const char *path, const char *const *needles)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        int all = 1;
        for (const char *const *w = needles; *w && all; w++)
            all = strstr(line, *w) != NULL;
        n += all;
    }
    fclose(f);
    return n;
}

int om_tor_log_contains(const om_tor_proc_t *t, const char *needle)
{
    const char *const needles[] = {needle, NULL};
    return om_tor_log_count(t->log, needles) > 0;
}

uint64_t om_now_usec(void);

int om_test_run_until(struct event_base *base, const int *flag, int timeout_s)
{
    uint64_t end = om_now_usec() + (uint64_t)timeout_s * 1000000u;
    while (!*flag && om_now_usec() < end) {
        struct timeval tv = {0, 50000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
    return *flag;
}

typedef struct {
    const uint8_t *body;
    size_t len;
} http_body_t;

static void http_cb(struct evhttp_request *req, void *arg)
{
    http_body_t *b = arg;
    struct evbuffer *out = evbuffer_new();
    evbuffer_add_reference(out, b->body, b->len, NULL, NULL);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/octet-stream");
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

struct evhttp *om_test_http_server(struct event_base *base, const uint8_t *body, size_t len,
                                   uint16_t *port)
{
    struct evhttp *h = evhttp_new(base);
    static http_body_t b; /* one server per test binary */
    b.body = body;
    b.len = len;
    evhttp_set_gencb(h, http_cb, &b);
    for (int tries = 0; tries < 5; tries++) {
        *port = om_free_port();
        if (evhttp_bind_socket(h, "127.0.0.1", *port) == 0) return h;
    }
    evhttp_free(h);
    return NULL;
}
