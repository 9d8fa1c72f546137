/* main.c — the onionmesh program: parses the command line and starts the configured roles. */
#include <stdio.h>
#include <string.h>

#include "core/log.h"

static void usage(FILE *out)
{
    fprintf(out, "Usage: onionmesh [--version] [--help]\n"
                 "onionmesh is a Tor implementation (OP, OR, WebSocket bridge, ORDB, DHT).\n"
                 "This build provides the core cell engine and link handshake; see\n"
                 "onionmesh-probe HOST:PORT [FINGERPRINT] to handshake with a relay.\n");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--version")) {
            printf("onionmesh %s\n", OM_VERSION);
            return 0;
        }
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        fprintf(stderr, "onionmesh: unknown option '%s'\n", argv[i]);
        usage(stderr);
        return 1;
    }
    usage(stdout);
    return 0;
}
