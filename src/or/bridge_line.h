/* bridge_line.h — a bridge relay's own bridge line (BridgeRelay 1): "Bridge ADDR:PORT
 * FINGERPRINT" in tor's torrc syntax (tor(1), Bridge), logged at start and written to
 * DataDirectory/bridge-line for the operator to hand to users. */
#ifndef OM_OR_BRIDGE_LINE_H
#define OM_OR_BRIDGE_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "Bridge 127.0.0.1:9001 HEX40" (no newline) into out. */
void om_bridge_line_format(const char *address, uint16_t or_port, const uint8_t rsa_fp[20],
                           char *out, size_t outlen);
/* Log the line (notice) and write it, with a newline, to data_dir/bridge-line (mode 0644,
 * replaced atomically). 0, or -1 (logged) when the file cannot be written. */
int om_bridge_line_publish(const char *data_dir, const char *address, uint16_t or_port,
                           const uint8_t rsa_fp[20]);

/* A relay with a WebSocketPort: the line for it, "Bridge websocket ADDR:PORT HEX40 url=URL
 * ntor-onion-key=BASE64" (src/bridge/ws_bridge_transport.c), logged and written to
 * data_dir/bridge-line: after the TLS line BridgeRelay wrote there (append), else alone. The ntor
 * key is the current one: it changes with the onion key's rotation (doc/bridges.md). 0 or -1
 * (logged). */
int om_bridge_line_publish_ws(const char *data_dir, const char *address, uint16_t port,
                              const uint8_t rsa_fp[20], const char *url, const uint8_t ntor_pub[32],
                              bool append);
/* That line (no newline) into out; -1 if it does not fit. */
int om_bridge_line_format_ws(const char *address, uint16_t port, const uint8_t rsa_fp[20],
                             const char *url, const uint8_t ntor_pub[32], char *out, size_t outlen);
#endif
