/* dir_forge.h — test helper: throwaway directory authorities (identity and signing RSA keys,
 * their dir-spec 3.1 key certificates) that re-sign the snapshot's microdesc consensus with other
 * validity times (dir-spec 3.4.1 signatures over the document through the first
 * "directory-signature "), so tests can hold consensuses from several voting periods. */
#ifndef OM_TEST_DIR_FORGE_H
#define OM_TEST_DIR_FORGE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "dir/dir_engine.h"
#include "dir/netdoc.h"
#include "test.h"

#define FORGE_N 3
typedef struct {
    om_rsa_t *id[FORGE_N], *sk[FORGE_N];
    uint8_t v3ident[FORGE_N][20], skdigest[FORGE_N][20];
    char *certs; /* the three certificates, concatenated */
    size_t certs_len;
} forge_t;

/* Append "-----BEGIN type-----", base64 of data in 64-column lines, "-----END type-----". */
static inline size_t forge_block(char *out, size_t cap, const char *type, const uint8_t *data,
                                 size_t n)
{
    char b64[2048];
    int bl = om_base64_encode(data, n, b64, sizeof b64, false);
    size_t off = (size_t)snprintf(out, cap, "-----BEGIN %s-----\n", type);
    for (int i = 0; bl > 0 && i < bl; i += 64)
        off += (size_t)snprintf(out + off, cap - off, "%.*s\n", bl - i < 64 ? bl - i : 64, b64 + i);
    off += (size_t)snprintf(out + off, cap - off, "-----END %s-----\n", type);
    return off;
}

/* One certificate of authority i, published at `published`, valid a year. */
static inline size_t forge_cert(const forge_t *g, int i, time_t published, char *out, size_t cap)
{
    char hex[41], t1[32], t2[32];
    om_hex_encode(g->v3ident[i], 20, hex);
    om_netdoc_format_time(published, t1, sizeof t1);
    om_netdoc_format_time(published + 365 * 86400, t2, sizeof t2);
    char *idpem = om_rsa_public_pem(g->id[i]), *skpem = om_rsa_public_pem(g->sk[i]);
    size_t off = (size_t)snprintf(out, cap,
                                  "dir-key-certificate-version 3\nfingerprint %s\n"
                                  "dir-key-published %s\ndir-key-expires %s\n"
                                  "dir-identity-key\n%sdir-signing-key\n%sdir-key-crosscert\n",
                                  hex, t1, t2, idpem, skpem);
    free(idpem);
    free(skpem);
    uint8_t sig[512], d[20];
    size_t sl = sizeof sig;
    om_rsa_sign_raw(g->sk[i], g->v3ident[i], 20, sig, &sl);
    off += forge_block(out + off, cap - off, "ID SIGNATURE", sig, sl);
    off += (size_t)snprintf(out + off, cap - off, "dir-key-certification\n");
    om_sha1((const uint8_t *)out, off, d);
    sl = sizeof sig;
    om_rsa_sign_raw(g->id[i], d, 20, sig, &sl);
    off += forge_block(out + off, cap - off, "SIGNATURE", sig, sl);
    return off;
}

static inline int forge_init(forge_t *g, time_t published)
{
    memset(g, 0, sizeof *g);
    g->certs = malloc(FORGE_N * 8192);
    if (!g->certs) return -1;
    for (int i = 0; i < FORGE_N; i++) {
        g->id[i] = om_rsa_generate(1024);
        g->sk[i] = om_rsa_generate(1024);
        if (!g->id[i] || !g->sk[i]) return -1;
        om_rsa_fingerprint(g->id[i], g->v3ident[i]);
        om_rsa_fingerprint(g->sk[i], g->skdigest[i]);
        g->certs_len += forge_cert(g, i, published, g->certs + g->certs_len, 8192);
    }
    return 0;
}

static inline void forge_free(forge_t *g)
{
    for (int i = 0; i < FORGE_N; i++) {
        om_rsa_free(g->id[i]);
        om_rsa_free(g->sk[i]);
    }
    free(g->certs);
    memset(g, 0, sizeof *g);
}

/* The forged authorities as engine sources. */
static inline void forge_authorities(const forge_t *g, om_dirsrv_t out[FORGE_N])
{
    memset(out, 0, FORGE_N * sizeof *out);
    for (int i = 0; i < FORGE_N; i++) {
        snprintf(out[i].nickname, sizeof out[i].nickname, "forged%d", i);
        snprintf(out[i].address, sizeof out[i].address, "127.0.0.1");
        out[i].or_port = (uint16_t)(29100 + i);
        out[i].dir_port = (uint16_t)(29110 + i);
        memcpy(out[i].rsa_fp, g->v3ident[i], 20);
        memcpy(out[i].v3ident, g->v3ident[i], 20);
        out[i].has_v3ident = true;
    }
}

/* Replace the argument line "kw ..." (first one) in *t by "kw <time>". */
static inline void forge_set_time(char *t, const char *kw, time_t when)
{
    char *p = strstr(t, kw);
    if (!p) return;
    char val[32];
    om_netdoc_format_time(when, val, sizeof val);
    memcpy(p + strlen(kw) + 1, val, 19); /* same length: "YYYY-MM-DD HH:MM:SS" */
}

/* The snapshot microdesc consensus (template) moved by `shift` seconds and signed by the first
 * n_sign forged authorities. Malloc'd, *len set. */
static inline char *forge_consensus(const forge_t *g, const char *tmpl, time_t shift, int n_sign,
                                    size_t *len)
{
    const char *sigs = strstr(tmpl, "\ndirectory-signature ");
    if (!sigs) return NULL;
    size_t body = (size_t)(sigs - tmpl) + 1, cap = body + 8192;
    char *t = malloc(cap);
    if (!t) return NULL;
    memcpy(t, tmpl, body);
    t[body] = '\0';
    forge_set_time(t, "\nvalid-after", SNAP_VA + shift);
    forge_set_time(t, "\nfresh-until", SNAP_FU + shift);
    forge_set_time(t, "\nvalid-until", SNAP_VU + shift);
    /* The signed portion ends with the first "directory-signature " (dir-spec 3.4.1). */
    size_t off = body;
    memcpy(t + off, "directory-signature ", 20);
    uint8_t d[32];
    om_sha256((const uint8_t *)t, off + 20, d);
    for (int i = 0; i < n_sign; i++) {
        char id[41], sk[41];
        om_hex_encode(g->v3ident[i], 20, id);
        om_hex_encode(g->skdigest[i], 20, sk);
        off += (size_t)snprintf(t + off, cap - off, "directory-signature sha256 %s %s\n", id, sk);
        uint8_t sig[512];
        size_t sl = sizeof sig;
        om_rsa_sign_raw(g->sk[i], d, 32, sig, &sl);
        off += forge_block(t + off, cap - off, "SIGNATURE", sig, sl);
    }
    *len = off;
    return t;
}

#endif
