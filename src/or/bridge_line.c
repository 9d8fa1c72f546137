/* bridge_line.c — a bridge relay's bridge line (bridge_line.h): logged and written to
 * DataDirectory/bridge-line, as tor's bridges log theirs for their operator. */
#include "or/bridge_line.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/crypto.h"
#include "core/log.h"

void om_bridge_line_format(const char *address, uint16_t or_port, const uint8_t rsa_fp[20],
                           char *out, size_t outlen)
{
    char hex[41];
    for (int i = 0; i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02X", rsa_fp[i]);
    snprintf(out, outlen, "Bridge %s:%u %s", address, or_port, hex);
}

int om_bridge_line_publish(const char *data_dir, const char *address, uint16_t or_port,
                           const uint8_t rsa_fp[20])
{
    char line[128], path[600], tmp[610];
    om_bridge_line_format(address, or_port, rsa_fp, line, sizeof line);
    om_notice("Your bridge line (also in %s/bridge-line): %s", data_dir, line);
    snprintf(path, sizeof path, "%s/bridge-line", data_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s\n", line) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        om_warn("Could not write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int om_bridge_line_format_ws(const char *address, uint16_t port, const uint8_t rsa_fp[20],
                             const char *url, const uint8_t ntor_pub[32], char *out, size_t outlen)
{
    char tls[128], key[64];
    om_bridge_line_format(address, port, rsa_fp, tls, sizeof tls);
    if (om_base64_encode(ntor_pub, 32, key, sizeof key, true) < 0) return -1;
    /* "Bridge ADDR:PORT FP" -> "Bridge websocket ADDR:PORT FP url=... ntor-onion-key=..." */
    int n = snprintf(out, outlen, "Bridge websocket %s url=%s ntor-onion-key=%s",
                     tls + strlen("Bridge "), url, key);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int om_bridge_line_publish_ws(const char *data_dir, const char *address, uint16_t port,
                              const uint8_t rsa_fp[20], const char *url, const uint8_t ntor_pub[32],
                              bool append)
{
    char line[768], path[600];
    if (om_bridge_line_format_ws(address, port, rsa_fp, url, ntor_pub, line, sizeof line) < 0)
        return -1;
    om_notice("Your WebSocket bridge line (also in %s/bridge-line): %s", data_dir, line);
    snprintf(path, sizeof path, "%s/bridge-line", data_dir);
    FILE *f = fopen(path, append ? "a" : "w");
    if (!f || fprintf(f, "%s\n", line) < 0 || fclose(f) != 0) {
        om_warn("Could not write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
