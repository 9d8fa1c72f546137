/* ws_static.h — the files a WebSocketPort serves over plain HTTP from WebSocketWebRoot (the
 * browser client's page, doc/web.md): path mapping without escapes from the root, content types,
 * and the response headers a page of ours carries (a Content-Security-Policy without
 * 'unsafe-eval', nosniff). Pure file-system reads, no lws: called on the lws thread. */
#ifndef OM_BRIDGE_WS_STATIC_H
#define OM_BRIDGE_WS_STATIC_H

#include <stddef.h>

#define OM_WS_STATIC_MAX_FILE (16u << 20) /* larger files are not served */
/* The policy of every HTML page: scripts, workers and connections (ws:, wss: to this origin's
 * host included) from this origin only; no eval, no plugins, no framing by others. */
#define OM_WS_STATIC_CSP                                                                           \
    "default-src 'self'; script-src 'self'; worker-src 'self'; connect-src 'self' ws: wss:; "      \
    "img-src 'self' data: blob:; style-src 'self'; object-src 'none'; base-uri 'none'; "           \
    "frame-ancestors 'none'; form-action 'self'"

/* The file uri names under root ("/" and directories: their index.html; the query, if any,
 * ignored): 200 with a malloc'd body and its type; 404 for a path that does not name a regular
 * readable file inside root (after resolving symbolic links), a segment starting with '.', a
 * byte outside printable ASCII; 413 for a file over OM_WS_STATIC_MAX_FILE. *html is set for
 * text/html (the caller adds OM_WS_STATIC_CSP). */
unsigned om_ws_static_get(const char *root, const char *uri, char **body, size_t *len,
                          const char **ctype, int *html);

#endif
