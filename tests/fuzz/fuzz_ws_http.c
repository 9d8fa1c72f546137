/* fuzz_ws_http.c — libFuzzer target: the HTTP upgrade fields the WebSocket server reads itself
 * (src/bridge/ws_http.c): X-Forwarded-For and Origin against an allow-list. The first byte
 * splits the input into an allow-list and a header value. A parsed client address must be a
 * short "addr:0" / "[v6]:0" string; a listed origin must be allowed. The header value is also
 * a request path for the static files of WebSocketWebRoot (ws_static.c) under a scratch root
 * holding index.html and a directory: whatever it serves lies inside that root. */
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/ws_http.h"
#include "bridge/ws_static.h"

static char root[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(root, sizeof root, "/tmp/om-fuzz-static-XXXXXX");
    if (!mkdtemp(root)) abort();
    char p[128];
    snprintf(p, sizeof p, "%s/index.html", root);
    FILE *f = fopen(p, "w");
    if (!f) abort();
    fputs("<p>root</p>", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/d", root);
    mkdir(p, 0700);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t cut = data[0] < size - 1 ? data[0] : size - 1;
    data++;
    size--;
    char *list = malloc(cut + 1);
    char *hdr = malloc(size - cut + 1);
    if (!list || !hdr) abort();
    memcpy(list, data, cut);
    list[cut] = 0;
    memcpy(hdr, data + cut, size - cut);
    hdr[size - cut] = 0;
    size_t ll = strlen(list); /* the configured list is a C string */
    char out[64];
    if (om_ws_xff_client(hdr, size - cut, out, sizeof out) == 0) {
        size_t n = strlen(out);
        if (n < 3 || n >= sizeof out || strcmp(out + n - 2, ":0") != 0) abort();
    }
    (void)om_ws_origin_allowed(list, hdr, strlen(hdr));
    /* An origin that is an exact item of the list (no commas or outer blanks) is allowed. */
    if (*hdr && !strchr(hdr, ',') && hdr[0] != ' ' && hdr[0] != '\t' &&
        hdr[strlen(hdr) - 1] != ' ' && hdr[strlen(hdr) - 1] != '\t') {
        size_t hl = strlen(hdr);
        char *l2 = malloc(ll + hl + 2);
        if (!l2) abort();
        memcpy(l2, list, ll);
        l2[ll] = ',';
        memcpy(l2 + ll + 1, hdr, hl + 1);
        if (!om_ws_origin_allowed(l2, hdr, hl)) abort();
        free(l2);
    }
    char *body = NULL;
    size_t blen = 0;
    const char *ctype = NULL;
    int html = 0;
    unsigned st = om_ws_static_get(root, hdr, &body, &blen, &ctype, &html);
    if (st == 200 && (!body || strcmp(body, "<p>root</p>") != 0 || !html)) abort();
    if (st != 200 && body) abort();
    free(body);
    free(list);
    free(hdr);
    return 0;
}
