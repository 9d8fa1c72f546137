/* ws_http.h — the HTTP upgrade fields the WebSocket server reads itself (network input):
 * X-Forwarded-For (the client address a trusted reverse proxy reports) and Origin against the
 * configured allow-list. Pure functions, bounds-checked; fuzzed by tests/fuzz/fuzz_ws_http.c. */
#ifndef OM_BRIDGE_WS_HTTP_H
#define OM_BRIDGE_WS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* The client address a reverse proxy appended to X-Forwarded-For: the LAST comma-separated
 * element (earlier ones come from the client and prove nothing), trimmed, a numeric IPv4 or
 * IPv6 address (brackets and an IPv4 ":port" allowed). Writes "1.2.3.4:0" or "[::1]:0" (the
 * link's peer form, port unknown). 0, or -1 if the header has no usable address. */
int om_ws_xff_client(const char *hdr, size_t hdrlen, char *out, size_t outsz);

/* Is origin (the Origin header, length len) in list (comma-separated origins such as
 * "https://example.org,https://a.example:8443"; whitespace around items ignored; compared
 * case-insensitively, exactly otherwise)? An empty or NULL list allows every origin. */
bool om_ws_origin_allowed(const char *list, const char *origin, size_t len);

#endif
