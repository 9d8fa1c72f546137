/* descgen.c — onionmesh-descgen: load (or create) a relay's keys in DATA_DIR and print its
 * signed server descriptor, for inspection and for tests that hand it to tor's authorities
 * (curl --data-binary @desc http://AUTH_DIRPORT/tor/). The relay role uploads by itself once it
 * runs; this tool is the same code path without a running relay.
 * Usage: onionmesh-descgen DATA_DIR NICKNAME ADDRESS ORPORT [PROTO] [EXIT_POLICY_LINE ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "or/descriptor.h"
#include "or/relay_keys.h"

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s DATA_DIR NICKNAME ADDRESS ORPORT [PROTO] [POLICY ...]\n",
                argv[0]);
        return 2;
    }
    char err[512];
    om_relay_keys_t k;
    time_t now = time(NULL);
    if (om_relay_keys_load(&k, argv[1], now, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    char policy[2048] = "";
    for (int i = 6; i < argc; i++) {
        strncat(policy, argv[i], sizeof policy - strlen(policy) - 2);
        strcat(policy, "\n");
    }
    om_desc_params_t p = {
        .nickname = argv[2],
        .or_port = (uint16_t)atoi(argv[4]),
        .platform = "onionmesh " OM_VERSION " on Linux",
        .proto =
            argc > 5 ? argv[5] : "Cons=1-2 Desc=1-2 Link=4-5 LinkAuth=3 Microdesc=1-2 Relay=2-4",
        .exit_policy = policy[0] ? policy : "reject *:*\n",
        .bw_avg = 1073741824,
        .bw_burst = 1073741824,
        .published = now,
        .include_tap = true,
    };
    snprintf(p.address, sizeof p.address, "%s", argv[3]);
    char *d = om_relay_descriptor_build(&k, &p, err, sizeof err);
    om_relay_keys_free(&k);
    if (!d) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    fputs(d, stdout);
    free(d);
    return 0;
}
