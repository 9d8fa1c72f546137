/* config_daemon.c — RunAsDaemon and ConnLimit (config_daemon.h). The daemon steps follow tor's
 * start_daemon/finish_daemon (src/lib/process/daemon.c): a pipe tells the foreground process
 * whether the background one got going, so `onionmesh --RunAsDaemon 1` returns 0 only when it
 * did. */
#include "core/config_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/log.h"

static bool start_called, finish_called;
static int ready_fd = -1; /* the background process's end of the pipe */

int om_config_fd_limit(int64_t need, uint64_t *limit, char *err, size_t errlen)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return om_errf(err, errlen, "cannot read the open-file limit: %s", strerror(errno));
    if (rl.rlim_cur != rl.rlim_max) {
        struct rlimit want = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &want) == 0) rl.rlim_cur = rl.rlim_max;
    }
    if (limit) *limit = (uint64_t)rl.rlim_cur;
    if (rl.rlim_cur != RLIM_INFINITY && need > 0 && (uint64_t)need > (uint64_t)rl.rlim_cur)
        return om_errf(err, errlen,
                       "ConnLimit is %lld but only %llu file descriptors are available (ulimit "
                       "-Hn); lower ConnLimit or raise the limit",
                       (long long)need, (unsigned long long)rl.rlim_cur);
    return 0;
}

bool om_daemon_started(void)
{
    return start_called;
}

/* The foreground process: wait for the background one's '.' (or the pipe's end). */
static void foreground_wait(int fd)
{
    char c;
    bool ok = false;
    ssize_t r;
    while ((r = read(fd, &c, 1)) != 0) {
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) break;
        if (c == '.') ok = true;
    }
    if (!ok)
        fprintf(stderr, "onionmesh: the background process exited before it was ready (see "
                        "the log)\n");
    fflush(NULL);
    _exit(ok ? 0 : 1);
}

int om_daemon_start(char *err, size_t errlen)
{
    if (start_called) return 0;
    int fds[2];
    if (pipe(fds) < 0) return om_errf(err, errlen, "pipe failed: %s", strerror(errno));
    fflush(NULL); /* nothing buffered twice */
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return om_errf(err, errlen, "fork failed: %s", strerror(errno));
    }
    if (pid > 0) {
        close(fds[1]);
        foreground_wait(fds[0]); /* does not return */
    }
    close(fds[0]);
    start_called = true;
    ready_fd = fds[1];
    (void)setsid(); /* away from the controlling terminal */
    /* Fork again so the session leader exits and we can never regain a controlling terminal
     * (Stevens, as tor). _exit: no atexit handlers of the caller run twice. */
    pid = fork();
    if (pid < 0) {
        om_err("fork failed: %s", strerror(errno));
        _exit(1);
    }
    if (pid > 0) _exit(0);
    return 0;
}

int om_daemon_finish(const char *dir)
{
    if (!start_called || finish_called) return 0;
    finish_called = true;
    if (!dir || chdir(dir) < 0) {
        if (dir) om_warn("RunAsDaemon: cannot change to %s (%s); using /", dir, strerror(errno));
        if (chdir("/") < 0) om_warn("RunAsDaemon: cannot change to /: %s", strerror(errno));
    }
    int nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (nullfd < 0) {
        om_err("RunAsDaemon: cannot open /dev/null: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    if (dup2(nullfd, 0) < 0 || dup2(nullfd, 1) < 0 || dup2(nullfd, 2) < 0) {
        om_err("RunAsDaemon: dup2 failed: %s", strerror(errno));
        close(nullfd);
        return -1;
    }
    if (nullfd > 2) close(nullfd);
    char c = '.';
    if (write(ready_fd, &c, 1) != 1)
        om_warn("RunAsDaemon: could not tell the parent: %s", strerror(errno));
    close(ready_fd);
    ready_fd = -1;
    om_notice("Running in the background as process %ld", (long)getpid());
    return 0;
}
