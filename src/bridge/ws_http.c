/* ws_http.c — X-Forwarded-For and Origin checks for the WebSocket upgrade (ws_http.h). */
#include "bridge/ws_http.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* [b, e) without surrounding whitespace. */
static void trim(const char **b, const char **e)
{
    while (*b < *e && is_space(**b))
        (*b)++;
    while (*e > *b && is_space((*e)[-1]))
        (*e)--;
}

int om_ws_xff_client(const char *hdr, size_t hdrlen, char *out, size_t outsz)
{
    if (!hdr || !out || outsz < 48) return -1;
    const char *end = hdr + hdrlen;
    const char *b = end;
    while (b > hdr && b[-1] != ',')
        b--;
    const char *e = end;
    trim(&b, &e);
    char a[64];
    size_t n = (size_t)(e - b);
    if (n == 0 || n >= sizeof a) return -1;
    memcpy(a, b, n);
    a[n] = 0;
    char *addr = a;
    if (a[0] == '[') { /* "[v6]" or "[v6]:port" */
        char *rb = strchr(a, ']');
        if (!rb) return -1;
        *rb = 0;
        addr = a + 1;
    } else if (strchr(a, '.')) { /* "v4" or "v4:port" */
        char *colon = strchr(a, ':');
        if (colon) *colon = 0;
    }
    unsigned char buf[16];
    if (inet_pton(AF_INET, addr, buf) == 1) {
        snprintf(out, outsz, "%s:0", addr);
        return 0;
    }
    if (inet_pton(AF_INET6, addr, buf) == 1) {
        char norm[INET6_ADDRSTRLEN];
        if (!inet_ntop(AF_INET6, buf, norm, sizeof norm)) return -1;
        snprintf(out, outsz, "[%s]:0", norm);
        return 0;
    }
    return -1;
}

bool om_ws_origin_allowed(const char *list, const char *origin, size_t len)
{
    if (!list || !*list) return true;
    if (!origin) return false;
    const char *ob = origin, *oe = origin + len;
    trim(&ob, &oe);
    const char *p = list;
    while (*p) {
        const char *q = strchr(p, ',');
        const char *b = p, *e = q ? q : p + strlen(p);
        trim(&b, &e);
        if (e > b && (size_t)(e - b) == (size_t)(oe - ob) &&
            strncasecmp(b, ob, (size_t)(e - b)) == 0)
            return true;
        if (!q) break;
        p = q + 1;
    }
    return false;
}
