/* test_config_daemon.c — RunAsDaemon and ConnLimit: om_daemon_start/om_daemon_finish in a forked
 * test process (the foreground exits 0 once the background process is ready, 1 if it died first;
 * the background process has its own session and /dev/null as stdin/stdout/stderr), and the
 * onionmesh program itself with RunAsDaemon 1 (returns 0, the background process serves and logs
 * to its file, stops on SIGTERM; a start-up failure makes the command exit 1; relative paths and
 * stderr logs are refused or skipped), and the ConnLimit file-descriptor check. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "core/config_daemon.h"
#include "test.h"

#ifndef OM_ONIONMESH_BIN
#define OM_ONIONMESH_BIN "build/onionmesh"
#endif

extern char **environ;

static char dir[64];

static void make_dir(void)
{
    if (dir[0]) return;
    snprintf(dir, sizeof dir, "/tmp/om-test-daemon-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
}

static const char *path_in(const char *name)
{
    static char buf[8][256];
    static int k;
    k = (k + 1) % 8;
    make_dir();
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *buf = calloc(1, 65536);
    size_t n = buf ? fread(buf, 1, 65535, f) : 0;
    (void)n;
    fclose(f);
    return buf;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

/* Wait for a child up to ms milliseconds: its exit status, or -1 (killed if still running). */
static int wait_exit(pid_t pid, int ms)
{
    int st;
    for (int i = 0; i < ms / 10; i++) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

/* Poll until the file holds needle (up to ms). */
static bool wait_text(const char *path, const char *needle, int ms)
{
    for (int i = 0; i < ms / 20; i++) {
        char *t = read_text(path);
        bool found = t && strstr(t, needle);
        free(t);
        if (found) return true;
        usleep(20000);
    }
    return false;
}

static bool is_dev_null(int fd)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat("/dev/null", &b) == 0 && S_ISCHR(a.st_mode) &&
           a.st_rdev == b.st_rdev;
}

/* ---- the mechanism, in a forked test process ---- */

static void test_daemon_start_finish(void)
{
    const char *marks = path_in("marks");
    unlink(marks);
    pid_t fg = fork();
    CHECK(fg >= 0);
    if (fg == 0) {
        char err[128];
        if (om_daemon_start(err, sizeof err) < 0) _exit(7);
        /* The background process. */
        FILE *f = fopen(marks, "w");
        if (!f) _exit(8);
        fprintf(f, "pid %ld sid %ld started %d\n", (long)getpid(), (long)getsid(0),
                om_daemon_started());
        fflush(f);
        if (om_daemon_finish("/") < 0) _exit(9);
        char cwd[PATH_MAX];
        fprintf(f, "null %d %d %d cwd %s\n", is_dev_null(0), is_dev_null(1), is_dev_null(2),
                getcwd(cwd, sizeof cwd) ? cwd : "?");
        fclose(f);
        _exit(0);
    }
    /* The foreground exits 0 once the background process called om_daemon_finish. */
    CHECK_RET(wait_exit(fg, 5000), 0);
    CHECK(wait_text(marks, "cwd /", 5000));
    char *t = read_text(marks);
    CHECK(t);
    long pid = 0, sid = 0;
    int started = 0, n0 = 0, n1 = 0, n2 = 0;
    int got =
        sscanf(t, "pid %ld sid %ld started %d\nnull %d %d %d", &pid, &sid, &started, &n0, &n1, &n2);
    free(t);
    CHECK_EQ_INT(got, 6);
    CHECK(pid != fg && pid != getpid()); /* a new process */
    CHECK(sid != getsid(0));             /* in its own session */
    CHECK(started == 1);
    CHECK(n0 == 1 && n1 == 1 && n2 == 1); /* no terminal left behind */
}

static void test_daemon_dies_before_ready(void)
{
    pid_t fg = fork();
    CHECK(fg >= 0);
    if (fg == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2); /* the foreground's message is expected */
        char err[128];
        if (om_daemon_start(err, sizeof err) < 0) _exit(7);
        _exit(3); /* the background process fails before om_daemon_finish */
    }
    CHECK_RET(wait_exit(fg, 5000), 1);
}

/* ---- ConnLimit ---- */

static void test_fd_limit(void)
{
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    uint64_t lim = 0;
    char err[256] = "";
    CHECK(om_config_fd_limit(10, &lim, err, sizeof err) == 0);
    CHECK(lim >= 10);
    /* The soft limit was raised to the hard one, as tor does. */
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    CHECK(rl.rlim_cur == rl.rlim_max || rl.rlim_max == RLIM_INFINITY);
    if (rl.rlim_max != RLIM_INFINITY) {
        CHECK(om_config_fd_limit((int64_t)rl.rlim_max + 1, NULL, err, sizeof err) < 0);
        CHECK_MSG(strstr(err, "ConnLimit is") && strstr(err, "file descriptors are available"),
                  "%s", err);
    }
}

/* ---- the onionmesh program ---- */

/* Run onionmesh with argv (NULL-terminated, argv[0] omitted); stdout+stderr to out. */
static pid_t spawn_om(const char *const *args, const char *out)
{
    char *argv[16];
    size_t n = 0;
    argv[n++] = (char *)OM_ONIONMESH_BIN;
    for (size_t i = 0; args[i] && n < 15; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid = -1;
    if (posix_spawn(&pid, OM_ONIONMESH_BIN, &fa, NULL, argv, environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

static void write_conf(const char *conf, const char *extra)
{
    char text[2048];
    snprintf(text, sizeof text,
             "DataDirectory %s\nTestingTorNetwork 1\n"
             "DirAuthority a orport=1 no-v2 v3ident=0000000000000000000000000000000000000001 "
             "127.0.0.1:1 0000000000000000000000000000000000000002\n"
             "RunAsDaemon 1\n%s",
             path_in("data"), extra);
    write_text(conf, text);
}

static void test_program_runs_in_background(void)
{
    CHECK_MSG(access(OM_ONIONMESH_BIN, X_OK) == 0, "no %s", OM_ONIONMESH_BIN);
    const char *conf = path_in("bg.conf"), *log = path_in("bg.log"), *out = path_in("bg.out");
    char extra[600];
    snprintf(extra, sizeof extra, "SocksPort 127.0.0.1:auto\nLog notice stderr\nLog info file %s\n",
             log);
    write_conf(conf, extra);
    unlink(log);
    const char *args[] = {"-f", conf, NULL};
    pid_t fg = spawn_om(args, out);
    CHECK(fg > 0);
    CHECK_RET(wait_exit(fg, 10000), 0); /* the command returns once the daemon is up */
    char *o = read_text(out);
    bool skipped = o && strstr(o, "can't log to stderr with RunAsDaemon set");
    free(o);
    CHECK(skipped);
    CHECK(wait_text(log, "Running in the background as process", 5000));
    char *t = read_text(log);
    CHECK(t);
    const char *m = strstr(t, "Running in the background as process ");
    long pid = m ? strtol(m + strlen("Running in the background as process "), NULL, 10) : 0;
    bool opened = strstr(t, "Opened Socks listener on 127.0.0.1:") != NULL;
    free(t);
    CHECK(pid > 0 && pid != fg);
    CHECK(opened);
    CHECK(kill((pid_t)pid, 0) == 0); /* still running after the command returned */
    char link[64], target[PATH_MAX] = "", cwd[PATH_MAX] = "", data[PATH_MAX];
    snprintf(link, sizeof link, "/proc/%ld/fd/2", pid);
    ssize_t l = readlink(link, target, sizeof target - 1);
    target[l > 0 ? l : 0] = '\0';
    snprintf(link, sizeof link, "/proc/%ld/cwd", pid);
    l = readlink(link, cwd, sizeof cwd - 1);
    cwd[l > 0 ? l : 0] = '\0';
    CHECK(realpath(path_in("data"), data));
    kill((pid_t)pid, SIGTERM);
    CHECK_MSG(!strcmp(target, "/dev/null"), "stderr is %s", target);
    CHECK_MSG(!strcmp(cwd, data), "cwd %s", cwd); /* as tor: DataDirectory */
    CHECK(wait_text(log, "Caught signal 15, exiting cleanly.", 5000));
    bool gone = false;
    for (int i = 0; i < 250 && !gone; i++, usleep(20000))
        gone = kill((pid_t)pid, 0) < 0 && errno == ESRCH;
    CHECK(gone);
}

static void test_program_start_failure_exits_1(void)
{
    /* A SOCKS port that is taken: the background process can't start, the command says so. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sin;
    CHECK(bind(s, (struct sockaddr *)&sin, sizeof sin) == 0 && listen(s, 1) == 0);
    CHECK(getsockname(s, (struct sockaddr *)&sin, &sl) == 0);
    const char *conf = path_in("busy.conf"), *log = path_in("busy.log"), *out = path_in("busy.out");
    char extra[600];
    snprintf(extra, sizeof extra, "SocksPort 127.0.0.1:%u\nLog notice file %s\n",
             ntohs(sin.sin_port), log);
    write_conf(conf, extra);
    const char *args[] = {"-f", conf, NULL};
    pid_t fg = spawn_om(args, out);
    int rc = fg > 0 ? wait_exit(fg, 10000) : -2;
    close(s);
    CHECK_EQ_INT(rc, 1);
    char *o = read_text(out), *t = read_text(log);
    bool said = o && strstr(o, "the background process exited before it was ready");
    bool logged = t && strstr(t, "Could not start the onion proxy");
    free(o);
    free(t);
    CHECK(said);
    CHECK(logged);
}

static void test_program_refuses(void)
{
    const char *conf = path_in("rel.conf"), *out = path_in("rel.out");
    write_conf(conf, "Log notice file relative.log\n");
    const char *args[] = {"-f", conf, "--verify-config", NULL};
    pid_t pid = spawn_om(args, out);
    CHECK_RET(wait_exit(pid, 10000), 1);
    char *o = read_text(out);
    bool said = o && strstr(o, "Log file \"relative.log\" is a relative path; RunAsDaemon is not "
                               "compatible with relative paths");
    free(o);
    CHECK(said);
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 1000000000) {
        const char *a2[] = {"-f",          conf,         "--RunAsDaemon",   "0", "--/Log",
                            "--ConnLimit", "1000000000", "--verify-config", NULL};
        pid = spawn_om(a2, out);
        CHECK_RET(wait_exit(pid, 10000), 1);
        o = read_text(out);
        said = o && strstr(o, "ConnLimit is 1000000000 but only");
        free(o);
        CHECK(said);
    }
}

static void cleanup(void)
{
    if (!dir[0]) return;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

static const om_test_t tests[] = {
    OM_TEST(test_daemon_start_finish),
    OM_TEST(test_daemon_dies_before_ready),
    OM_TEST(test_fd_limit),
    OM_TEST(test_program_runs_in_background),
    OM_TEST(test_program_start_failure_exits_1),
    OM_TEST(test_program_refuses),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    atexit(cleanup);
    return om_test_main("config_daemon", tests, argc, argv);
}
