/* fuzz_dir_store.c — libFuzzer target: what the directory engine's store does with network
 * bodies (src/dir/dir_store.c): a /tor/keys/ answer (om_dir_store_add_certs, which splits it into
 * certificates), and a /tor/micro/d/ answer (om_dir_store_add_mds, which splits it at "onion-key"
 * lines, hashes, parses and, as a cache, compresses each piece) with every piece's digest wanted.
 * Checks: the counts agree, each microdescriptor held hashes to its digest and is a piece of the
 * input, and the held deflate chunks joined in one zlib stream inflate to the held texts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/dir_fetch.h"
#include "dir/dir_deflate.h"
#include "dir/dir_store.h"

static int cmp32(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* Digests of the pieces that start at lines "onion-key" (the rule the store applies). */
static size_t piece_digests(const char *t, size_t len, struct om_dir_wanted **out)
{
    size_t cap = 16, n = 0, start = (size_t)-1;
    struct om_dir_wanted *w = calloc(cap, sizeof *w);
    for (size_t i = 0; w && i <= len; i++) {
        bool at_md = i < len && (i == 0 || t[i - 1] == '\n') && len - i >= 9 &&
                     !memcmp(t + i, "onion-key", 9) &&
                     (len - i == 9 || t[i + 9] == '\n' || t[i + 9] == ' ' || t[i + 9] == '\t');
        if (!at_md && i < len) continue;
        if (start != (size_t)-1) {
            if (n == cap) {
                struct om_dir_wanted *g = realloc(w, 2 * cap * sizeof *w);
                if (!g) break;
                w = g;
                cap *= 2;
            }
            memset(&w[n], 0, sizeof w[n]);
            om_sha256((const uint8_t *)t + start, i - start, w[n++].digest);
        }
        start = i;
    }
    if (n) qsort(w, n, sizeof *w, cmp32);
    *out = w;
    return n;
}

static void check_mds(const char *text, size_t size)
{
    om_dir_store_t st;
    if (om_dir_store_init(&st, true, NULL, 0) < 0) return;
    st.n_wanted = piece_digests(text, size, &st.wanted);
    om_dir_mds_taken_t t;
    if (om_dir_store_add_mds(&st, text, size, NULL, 0, &t) == 0) {
        if (t.n > t.n_seen || t.n != st.n_mds) abort();
        size_t total = 0;
        const om_dir_chunk_t **chunks = malloc((st.n_mds ? st.n_mds : 1) * sizeof *chunks);
        for (size_t i = 0; i < st.n_mds; i++) {
            uint8_t dg[32];
            const om_dir_md_t *m = &st.mds[i];
            om_sha256((const uint8_t *)m->text, m->len, dg);
            if (memcmp(dg, m->digest, 32) || !memmem(text, size, m->text, m->len)) abort();
            if (i && memcmp(st.mds[i - 1].digest, m->digest, 32) >= 0) abort();
            chunks[i] = &m->chunk;
            total += m->len;
        }
        uint8_t *z = NULL, *plain = NULL;
        size_t zlen = 0, plen = 0;
        if (chunks && st.n_mds && om_dir_chunks_join(chunks, st.n_mds, &z, &zlen) == 0) {
            if (om_inflate(z, zlen, total + 1, &plain, &plen) < 0 || plen != total) abort();
            size_t off = 0;
            for (size_t i = 0; i < st.n_mds; i++) {
                if (memcmp(plain + off, st.mds[i].text, st.mds[i].len)) abort();
                off += st.mds[i].len;
            }
        }
        free(z);
        free(plain);
        free(chunks);
        free(t.mds);
        free(t.text);
    }
    om_dir_store_clear(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so a read past the end is caught. */
    char *text = malloc(size ? size : 1);
    if (!text) return 0;
    memcpy(text, data, size);
    check_mds(text, size);
    om_dir_store_t st;
    uint8_t any[1][20] = {{0}};
    char err[256];
    if (size >= 20) memcpy(any[0], data, 20);
    if (om_dir_store_init(&st, true, (const uint8_t(*)[20])any, 1) == 0) {
        err[0] = 0;
        int r = om_dir_store_add_certs(&st, text, size, 1795338860, err, sizeof err);
        if (r < 0 && !err[0]) abort();
        if (r >= 0 && (size_t)r != st.n_certs) abort();
        om_dir_store_clear(&st);
    }
    free(text);
    return 0;
}
