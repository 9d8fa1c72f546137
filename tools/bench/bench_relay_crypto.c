/* bench_relay_crypto.c — throughput of one layer of tor1 relay crypto on 509-byte cell payloads:
 * the sending side (set digest + encrypt) and the receiving side (decrypt + recognized check),
 * each timed on its own in CPU time. Usage: bench-relay-crypto [seconds] (default 3, min 2).
 * Prints "relay-crypto-send/recv: X MB/s" and "relay-crypto: X MB/s" (payload bytes per CPU second
 * averaged over both sides; each side does one AES-CTR and one SHA-1 pass over the payload). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/relay_crypto.h"

#define BATCH 256

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 3.0;
    static uint8_t cells[BATCH][OM_CELL_PAYLOAD_LEN];
    uint8_t keys[OM_RELAY_KEY_MATERIAL_LEN], tmpl[OM_CELL_PAYLOAD_LEN];
    om_relay_crypto_t client, relay, middle;
    double t_send = 0, t_recv = 0, t_mid = 0, t0;
    unsigned long long ncells = 0, nmid = 0, bad = 0;

    if (secs < 2.0) secs = 2.0;
    if (om_rand_bytes(keys, sizeof keys) < 0 || om_relay_crypto_init(&client, keys) < 0 ||
        om_relay_crypto_init(&relay, keys) < 0 || om_relay_crypto_init(&middle, keys) < 0) {
        fprintf(stderr, "init failed\n");
        return 1;
    }
    memset(tmpl, 0, sizeof tmpl);
    tmpl[0] = 2; /* RELAY_DATA */
    tmpl[4] = 1;
    tmpl[9] = (498 >> 8) & 0xff;
    tmpl[10] = 498 & 0xff;
    om_rand_bytes(tmpl + 11, sizeof tmpl - 11);

    /* Send and receive, batch by batch, until both sides have used `secs` of CPU time. */
    while (t_send + t_recv < 2 * secs) {
        for (int i = 0; i < BATCH; i++)
            memcpy(cells[i], tmpl, OM_CELL_PAYLOAD_LEN);
        t0 = cpu_now();
        for (int i = 0; i < BATCH; i++) {
            om_relay_crypto_set_digest_fwd(&client, cells[i]);
            om_relay_crypto_encrypt_fwd(&client, cells[i]);
        }
        t_send += cpu_now() - t0;
        t0 = cpu_now();
        for (int i = 0; i < BATCH; i++) {
            om_relay_crypto_decrypt_fwd(&relay, cells[i]);
            if (!om_relay_crypto_check_fwd(&relay, cells[i])) bad++;
        }
        t_recv += cpu_now() - t0;
        ncells += BATCH;
    }
    if (bad) {
        fprintf(stderr, "%llu cells not recognized: bug\n", bad);
        return 1;
    }

    /* A middle relay: decrypt + check of cells that are not for it (recognized != 0). */
    while (t_mid < secs / 2) {
        t0 = cpu_now();
        for (int i = 0; i < BATCH; i++) {
            om_relay_crypto_decrypt_fwd(&middle, cells[i]);
            cells[i][1] |= 1;
            if (om_relay_crypto_check_fwd(&middle, cells[i])) bad++;
        }
        t_mid += cpu_now() - t0;
        nmid += BATCH;
    }

    double mb = (double)ncells * OM_CELL_PAYLOAD_LEN / 1e6;
    printf("cells: %llu x %d bytes, cpu: send %.2f s, recv %.2f s\n", ncells, OM_CELL_PAYLOAD_LEN,
           t_send, t_recv);
    printf("relay-crypto-send: %.1f MB/s\n", mb / t_send);
    printf("relay-crypto-recv: %.1f MB/s\n", mb / t_recv);
    printf("relay-crypto-middle: %.1f MB/s\n", (double)nmid * OM_CELL_PAYLOAD_LEN / 1e6 / t_mid);
    printf("relay-crypto: %.1f MB/s\n", 2 * mb / (t_send + t_recv));
    om_relay_crypto_clear(&client);
    om_relay_crypto_clear(&relay);
    om_relay_crypto_clear(&middle);
    return bad ? 1 : 0;
}
