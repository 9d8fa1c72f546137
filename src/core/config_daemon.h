/* config_daemon.h — the process side of the general options: RunAsDaemon (fork into the
 * background as tor's start_daemon/finish_daemon do) and ConnLimit (the open-file limit). */
#ifndef OM_CORE_CONFIG_DAEMON_H
#define OM_CORE_CONFIG_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Raise the open-file soft limit to the hard limit (as tor does) and check that at least need
 * descriptors are available. 0, or -1 with err ("ConnLimit is 5000 but only 1024 file
 * descriptors are available"). *limit (may be NULL) receives the limit in effect. */
int om_config_fd_limit(int64_t need, uint64_t *limit, char *err, size_t errlen);

/* RunAsDaemon, step 1 (before the event loop and the listeners exist; libevent bases don't
 * survive fork): fork, start a new session and fork again. Returns 0 in the background
 * process. The foreground process never returns: it waits until the background process calls
 * om_daemon_finish (then exits 0) or exits without calling it (then says so on stderr and
 * exits 1). -1 with err if pipe() or fork() fails. Calls after the first do nothing. */
int om_daemon_start(char *err, size_t errlen);
/* RunAsDaemon, step 2 (once the roles started): change to dir ("/" if NULL or it fails), point
 * stdin, stdout and stderr at /dev/null and tell the foreground process to exit 0. 0, or -1 if
 * /dev/null can't be opened. Does nothing without om_daemon_start. */
int om_daemon_finish(const char *dir);
/* True in a process that called om_daemon_start. */
bool om_daemon_started(void);

#endif
