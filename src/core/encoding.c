/* encoding.c — base64 (RFC 4648, padded or not) and hex codecs (see crypto.h). These are plain
 * encodings, not crypto primitives, so they are written here directly. */
#include "core/crypto.h"

#include <string.h>

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int om_base64_encode(const uint8_t *in, size_t n, char *out, size_t outsz, bool nopad)
{
    size_t full = n / 3, rem = n % 3;
    size_t need = 4 * full + (rem ? (nopad ? rem + 1 : 4) : 0);
    size_t o = 0;
    if (need >= outsz || need > (size_t)0x7fffffff) return -1;
    for (size_t i = 0; i < full; i++) {
        uint32_t v = (uint32_t)in[3 * i] << 16 | (uint32_t)in[3 * i + 1] << 8 | in[3 * i + 2];
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = b64_alphabet[v & 63];
    }
    if (rem) {
        const uint8_t *t = in + 3 * full;
        uint32_t v = (uint32_t)t[0] << 16 | (rem == 2 ? (uint32_t)t[1] << 8 : 0);
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        if (rem == 2) out[o++] = b64_alphabet[(v >> 6) & 63];
        if (!nopad) {
            out[o++] = '=';
            if (rem == 1) out[o++] = '=';
        }
    }
    out[o] = '\0';
    return (int)o;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

int om_base64_decode(const char *in, size_t n, uint8_t *out, size_t outsz)
{
    uint32_t acc = 0;
    size_t nchars = 0, o = 0, npad = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        int v;
        if (is_space(c)) continue;
        if (c == '=') {
            npad++;
            continue;
        }
        if (npad) /* data after padding */
            return -1;
        v = b64_value(c);
        if (v < 0) return -1;
        acc = acc << 6 | (uint32_t)v;
        nchars++;
        if (nchars % 4 == 0) {
            if (o + 3 > outsz || o + 3 > (size_t)0x7fffffff) return -1;
            out[o++] = (uint8_t)(acc >> 16);
            out[o++] = (uint8_t)(acc >> 8);
            out[o++] = (uint8_t)acc;
            acc = 0;
        }
    }
    switch (nchars % 4) {
    case 0:
        if (npad) return -1;
        break;
    case 1: /* 6 bits cannot make a byte */
        return -1;
    case 2: /* 12 bits: one byte, 4 bits of padding */
        if ((npad != 0 && npad != 2) || o + 1 > outsz) return -1;
        out[o++] = (uint8_t)(acc >> 4);
        break;
    case 3: /* 18 bits: two bytes, 2 bits of padding */
        if ((npad != 0 && npad != 1) || o + 2 > outsz) return -1;
        out[o++] = (uint8_t)(acc >> 10);
        out[o++] = (uint8_t)(acc >> 2);
        break;
    }
    return (int)o;
}

void om_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int om_hex_decode(const char *in, size_t inlen, uint8_t *out, size_t n)
{
    if (inlen != 2 * n) return -1;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value(in[2 * i]), lo = hex_value(in[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}
