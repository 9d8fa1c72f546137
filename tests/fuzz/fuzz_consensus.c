/* fuzz_consensus.c — libFuzzer target: consensus parsing (both flavours) of arbitrary bytes;
 * when a document parses, structural invariants (sorted routers, bounds, lookups), then
 * signature verification against the testnet snapshot's authority certificates (loaded once from
 * tests/data/testnet-snapshot/keys-all; $OM_TEST_DATA_DIR overrides) at its valid-after and
 * after its valid-until (which must fail). The input is also fed to the protover parser. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir/authcert.h"
#include "dir/consensus.h"

static om_authcert_t **certs;
static size_t n_certs;
static uint8_t trusted[3][20];

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 16);
    size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    fclose(f);
    if (!buf || n == 0) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static void load_certs(void)
{
    static const char *const rel[] = {"tests/data", "../tests/data", "../../tests/data"};
    char path[1024];
    const char *env = getenv("OM_TEST_DATA_DIR");
    size_t len = 0;
    char *t = NULL;
    if (env && *env) {
        snprintf(path, sizeof path, "%s/testnet-snapshot/keys-all", env);
        t = read_all(path, &len);
    }
    for (size_t i = 0; !t && i < sizeof rel / sizeof rel[0]; i++) {
        snprintf(path, sizeof path, "%s/testnet-snapshot/keys-all", rel[i]);
        t = read_all(path, &len);
    }
    if (!t) { /* relative to this source file */
        snprintf(path, sizeof path, "%s", __FILE__);
        char *slash = strrchr(path, '/');
        if (slash) {
            snprintf(slash, sizeof path - (size_t)(slash - path),
                     "/../data/testnet-snapshot/keys-all");
            t = read_all(path, &len);
        }
    }
    if (t) {
        char err[256];
        certs = om_authcert_parse_many(t, len, &n_certs, err, sizeof err);
        free(t);
    }
    if (!certs)
        fprintf(stderr, "fuzz_consensus: snapshot certificates not found; verifying without\n");
    static const uint8_t ids[3][20] = {
        {0x22, 0x94, 0x43, 0x21, 0x74, 0xE7, 0xCF, 0x2B, 0xB0, 0x91,
         0x4A, 0x50, 0x9C, 0x1E, 0x95, 0x5D, 0xCA, 0x35, 0xEB, 0x6E},
        {0x7C, 0xBA, 0x18, 0xA8, 0xEE, 0xD0, 0x44, 0xF5, 0xDA, 0x4D,
         0x43, 0xD8, 0x43, 0x9C, 0x66, 0xF0, 0xE9, 0x45, 0x19, 0xE8},
        {0x44, 0xBD, 0xAE, 0x19, 0x61, 0x0F, 0x60, 0x45, 0xA7, 0x22,
         0x16, 0xFD, 0x56, 0x08, 0xEE, 0x08, 0x58, 0xB4, 0x51, 0x5D},
    };
    memcpy(trusted, ids, sizeof ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        init = true;
        load_certs();
    }
    om_protover_t pv;
    if (om_protover_parse((const char *)data, size, &pv) == 0 &&
        om_protover_covers(&pv, &pv) == pv.unknown) /* covers itself unless it names unknowns */
        abort();

    char err[512];
    om_consensus_t *c = om_consensus_parse((const char *)data, size, err, sizeof err);
    if (!c) return 0;
    if (c->n_routers > OM_CONSENSUS_MAX_ROUTERS || c->n_sigs > OM_CONSENSUS_MAX_SIGS ||
        c->n_params > OM_CONSENSUS_MAX_PARAMS || c->signed_len > size || c->signed_len < 20 ||
        memcmp(data + c->signed_len - 20, "directory-signature ", 20) != 0 ||
        !(c->valid_after < c->fresh_until && c->fresh_until <= c->valid_until))
        abort();
    for (size_t i = 0; i < c->n_routers; i++) {
        if (i && memcmp(c->routers[i - 1].rsa_id, c->routers[i].rsa_id, 20) >= 0) abort();
        if (om_consensus_find(c, c->routers[i].rsa_id) != &c->routers[i]) abort();
    }
    for (size_t i = 1; i < c->n_params; i++)
        if (strcmp(c->params[i - 1].name, c->params[i].name) >= 0) abort();
    for (size_t i = 0; i < c->n_params; i++)
        if (om_consensus_param(c, c->params[i].name, 0, INT32_MIN, INT32_MAX) != c->params[i].value)
            abort();
    (void)om_consensus_bw_weight(c, "Wgg", 10000);
    (void)om_consensus_verify(c, certs, n_certs, (const uint8_t(*)[20])trusted, 3, c->valid_after,
                              0, err, sizeof err);
    if (c->valid_until < INT64_MAX - 1000 &&
        om_consensus_verify(c, certs, n_certs, (const uint8_t(*)[20])trusted, 3, c->valid_until + 1,
                            0, err, sizeof err) == 0)
        abort();
    om_consensus_free(c);
    return 0;
}
