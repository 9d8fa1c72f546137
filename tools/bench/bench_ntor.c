/* bench_ntor.c — server-side ntor handshakes per CPU second (om_ntor_server: a fresh ephemeral,
 * two X25519 and the HMAC/HKDF work of tor-spec 5.1.4). Usage: bench-ntor [seconds] (default 3,
 * min 2). Prints "ntor-server: X hs/s". Client onionskins are made beforehand and checked
 * against the server's replies, so the timed loop measures the server alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/onion_handshake.h"

#define NSKINS 64

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 3.0;
    uint8_t router_id[20], skins[NSKINS][OM_NTOR_ONIONSKIN_LEN], reply[OM_NTOR_REPLY_LEN];
    om_ntor_client_t clients[NSKINS];
    om_x25519_keypair_t onion_key;
    om_handshake_keys_t skeys, ckeys;
    unsigned long long n = 0;
    double t = 0, t0;

    if (secs < 2.0) secs = 2.0;
    if (om_rand_bytes(router_id, sizeof router_id) < 0 || om_x25519_keygen(&onion_key) < 0)
        return 1;
    for (int i = 0; i < NSKINS; i++) {
        if (om_ntor_client_create(&clients[i], router_id, onion_key.pub, skins[i]) < 0) {
            fprintf(stderr, "client create failed\n");
            return 1;
        }
    }
    /* correctness: every client accepts its reply and derives the same keys */
    for (int i = 0; i < NSKINS; i++) {
        if (om_ntor_server(router_id, &onion_key, 1, skins[i], reply, &skeys) < 0 ||
            om_ntor_client_finish(&clients[i], reply, sizeof reply, &ckeys) < 0 ||
            memcmp(&skeys, &ckeys, sizeof skeys) != 0) {
            fprintf(stderr, "handshake %d failed\n", i);
            return 1;
        }
        om_ntor_client_clear(&clients[i]);
    }
    while (t < secs) {
        t0 = cpu_now();
        for (int i = 0; i < NSKINS; i++) {
            if (om_ntor_server(router_id, &onion_key, 1, skins[i], reply, &skeys) < 0) {
                fprintf(stderr, "server handshake failed\n");
                return 1;
            }
        }
        t += cpu_now() - t0;
        n += NSKINS;
    }
    om_memwipe(&skeys, sizeof skeys);
    om_memwipe(&onion_key, sizeof onion_key);
    printf("handshakes: %llu, cpu: %.2f s\n", n, t);
    printf("ntor-server: %.0f hs/s\n", (double)n / t);
    return 0;
}
