/* exitpolicy.c — onionmesh-exitpolicy: print the exit policy a relay with these options would
 * have (src/or/exit_policy.c), as tor's GETINFO exit-policy/full lists it ("reject *:*" if it
 * rejects everything), then "--", then the lines its server descriptor carries. For checking a
 * policy by hand and for tests/interop/exit-policy-test.sh, which compares both with tor.
 * Usage: onionmesh-exitpolicy [OPTION VALUE]...  with tor's option names: ExitPolicy (repeatable,
 * in order), ExitRelay (0|1|auto), ExitPolicyRejectPrivate, IPv6Exit, ReducedExitPolicy,
 * BridgeRelay (0|1), Address (repeatable: the relay's published addresses). Exit status 1 and
 * the reason on stderr if the policy does not parse. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "or/exit_policy.h"

#define MAX_ARGS 64

int main(int argc, char **argv)
{
    om_exit_policy_options_t o;
    om_exit_policy_options_init(&o);
    const char *lines[MAX_ARGS];
    om_exit_addr_t addrs[MAX_ARGS];
    size_t nl = 0, na = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i] + (argv[i][0] == '-' && argv[i][1] == '-' ? 2 : 0),
                   *v = argv[i + 1];
        bool on = !strcmp(v, "1");
        if (!strcasecmp(k, "ExitPolicy") && nl < MAX_ARGS) {
            lines[nl++] = v;
        } else if (!strcasecmp(k, "ExitRelay")) {
            o.exit_relay = !strcasecmp(v, "auto") ? -1 : on;
        } else if (!strcasecmp(k, "ExitPolicyRejectPrivate")) {
            o.reject_private = on;
        } else if (!strcasecmp(k, "IPv6Exit")) {
            o.ipv6_exit = on;
        } else if (!strcasecmp(k, "ReducedExitPolicy")) {
            o.reduced_exit_policy = on;
        } else if (!strcasecmp(k, "BridgeRelay")) {
            o.bridge_relay = on;
        } else if (!strcasecmp(k, "Address") && na < MAX_ARGS &&
                   om_exit_addr_parse(&addrs[na], v) == 0) {
            na++;
        } else {
            fprintf(stderr, "%s: unknown option or bad value: %s %s\n", argv[0], argv[i], v);
            return 2;
        }
    }
    if (argc % 2 == 0) {
        fprintf(stderr, "usage: %s [OPTION VALUE]...\n", argv[0]);
        return 2;
    }
    o.lines = lines;
    o.n_lines = nl;
    o.own_addrs = addrs;
    o.n_own_addrs = na;
    char err[256];
    om_exit_policy_t p;
    if (om_exit_policy_build(&p, &o, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        om_exit_policy_free(&p);
        return 1;
    }
    /* tor's GETINFO exit-policy/full answers "reject *:*" for a policy that rejects all. */
    char *full = om_exit_policy_is_reject_star(&p, AF_UNSPEC)
                     ? strdup("reject *:*\n")
                     : om_exit_policy_format(&p, true, true);
    char *desc = om_exit_policy_descriptor_lines(&p);
    int rc = full && desc ? 0 : 1;
    if (!rc) printf("%s--\n%s", full, desc);
    free(full);
    free(desc);
    om_exit_policy_free(&p);
    return rc;
}
