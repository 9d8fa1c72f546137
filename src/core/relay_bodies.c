/* relay_bodies.c — encoders and bounds-checked decoders of relay message bodies (see
 * relay_bodies.h; tor-spec 5.1.2 EXTEND2, 6.2 BEGIN/CONNECTED, 6.4 RESOLVED). */
#include "core/relay_bodies.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---------------------------------------------------------------- BEGIN */

int om_begin_encode(const om_begin_t *b, uint8_t *out, size_t outsz)
{
    size_t hl = strnlen(b->host, sizeof b->host);
    if (hl == 0 || hl > OM_MAX_HOSTNAME_LEN || b->port == 0) return -1;
    char addr[OM_MAX_HOSTNAME_LEN + 3];
    bool v6 = memchr(b->host, ':', hl) != NULL;
    int n = snprintf(addr, sizeof addr, v6 ? "[%s]" : "%s", b->host);
    if (n < 0 || (size_t)n >= sizeof addr) return -1;
    /* tor-spec 6.2: ADDRESS ':' PORT NUL, lower case. */
    char port[8];
    int pl = snprintf(port, sizeof port, ":%u", (unsigned)b->port);
    size_t need = (size_t)n + (size_t)pl + 1 + 4;
    if (need > outsz || need > OM_RELAY_PAYLOAD_LEN) return -1;
    for (int i = 0; i < n; i++)
        out[i] = (uint8_t)tolower((unsigned char)addr[i]);
    memcpy(out + n, port, (size_t)pl);
    out[n + pl] = 0;
    put32(out + n + pl + 1, b->flags);
    return (int)need;
}

int om_begin_parse(om_begin_t *b, const uint8_t *body, size_t len)
{
    memset(b, 0, sizeof *b);
    const uint8_t *nul = memchr(body, 0, len);
    if (!nul) return -1;
    size_t al = (size_t)(nul - body);
    const uint8_t *colon = NULL;
    for (size_t i = al; i > 0; i--)
        if (body[i - 1] == ':') {
            colon = body + i - 1;
            break;
        }
    if (!colon || colon == body) return -1;
    size_t hl = (size_t)(colon - body);
    const uint8_t *h = body;
    bool bracketed = h[0] == '[';
    if (bracketed) {
        if (hl < 3 || h[hl - 1] != ']') return -1;
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl > OM_MAX_HOSTNAME_LEN) return -1;
    /* tor-spec 6.2: brackets only around an IPv6 address, and an IPv6 address only in them. */
    bool has_colon = memchr(h, ':', hl) != NULL;
    if (bracketed != has_colon) return -1;
    for (size_t i = 0; i < hl; i++)
        if (h[i] < 0x21 || h[i] > 0x7e || h[i] == '[' || h[i] == ']') return -1;
    memcpy(b->host, h, hl);
    b->host[hl] = 0;
    size_t pl = al - (size_t)(colon + 1 - body);
    if (pl == 0 || pl > 5) return -1;
    unsigned port = 0;
    for (size_t i = 0; i < pl; i++) {
        uint8_t c = colon[1 + i];
        if (c < '0' || c > '9') return -1;
        port = port * 10 + (unsigned)(c - '0');
    }
    if (port == 0 || port > 65535) return -1;
    b->port = (uint16_t)port;
    size_t rest = len - al - 1;
    if (rest >= 4) b->flags = get32(nul + 1);
    return 0;
}

/* ---------------------------------------------------------------- CONNECTED */

int om_connected_parse(om_connected_t *c, const uint8_t *body, size_t len)
{
    memset(c, 0, sizeof *c);
    if (len == 0) return 0; /* BEGIN_DIR, or an exit that sent no address */
    if (len < 4) return -1;
    if (get32(body) != 0) {
        if (len < 8) return -1;
        c->addr.type = 4;
        memcpy(c->addr.addr, body, 4);
        c->ttl = get32(body + 4);
        return 0;
    }
    if (len < 4 + 1 + 16 + 4 || body[4] != 6) return -1;
    c->addr.type = 6;
    memcpy(c->addr.addr, body + 5, 16);
    c->ttl = get32(body + 21);
    return 0;
}

int om_connected_encode(const om_connected_t *c, uint8_t *out, size_t outsz)
{
    if (c->addr.type == 4) {
        if (outsz < 8) return -1;
        memcpy(out, c->addr.addr, 4);
        put32(out + 4, c->ttl);
        return 8;
    }
    if (c->addr.type == 6) {
        if (outsz < 25) return -1;
        memset(out, 0, 4);
        out[4] = 6;
        memcpy(out + 5, c->addr.addr, 16);
        put32(out + 21, c->ttl);
        return 25;
    }
    return 0;
}

/* ---------------------------------------------------------------- RESOLVED */

int om_resolved_parse(om_resolved_t *r, const uint8_t *body, size_t len)
{
    memset(r, 0, sizeof *r);
    size_t off = 0;
    while (off < len) {
        if (len - off < 2) return -1;
        uint8_t type = body[off], vl = body[off + 1];
        if (len - off < 2u + vl + 4u) return -1;
        if ((type == OM_RESOLVED_IPV4 && vl != 4) || (type == OM_RESOLVED_IPV6 && vl != 16))
            return -1;
        if (r->n < OM_RESOLVED_MAX_ANSWERS) {
            om_resolved_answer_t *a = &r->answers[r->n++];
            a->type = type;
            a->len = vl;
            memcpy(a->value, body + off + 2, vl);
            a->ttl = get32(body + off + 2 + vl);
        }
        off += 2u + vl + 4u;
    }
    return r->n ? 0 : -1;
}

int om_resolved_encode(const om_resolved_t *r, uint8_t *out, size_t outsz)
{
    size_t off = 0;
    for (size_t i = 0; i < r->n; i++) {
        const om_resolved_answer_t *a = &r->answers[i];
        if (off + 2u + a->len + 4u > outsz || off + 2u + a->len + 4u > OM_RELAY_PAYLOAD_LEN)
            return -1;
        out[off] = a->type;
        out[off + 1] = a->len;
        memcpy(out + off + 2, a->value, a->len);
        put32(out + off + 2 + a->len, a->ttl);
        off += 2u + a->len + 4u;
    }
    return (int)off;
}

/* ---------------------------------------------------------------- EXTEND2 */

int om_extend2_encode(const om_extend2_t *e, uint8_t *out, size_t outsz)
{
    size_t need = 1 + (e->has_ipv4 ? 8 : 0) + (e->has_rsa_id ? 22 : 0) + (e->has_ed_id ? 34 : 0) +
                  (e->has_ipv6 ? 20 : 0) + 4 + e->hlen;
    if (need > outsz || need > OM_RELAY_PAYLOAD_LEN || e->hlen > sizeof e->hdata) return -1;
    size_t off = 1;
    uint8_t n = 0;
    /* tor-spec 5.1.2: send specifiers in the order [00], [02], [03], [01]. */
    if (e->has_ipv4) {
        out[off++] = OM_LS_IPV4;
        out[off++] = 6;
        memcpy(out + off, e->ipv4, 4);
        put16(out + off + 4, e->ipv4_port);
        off += 6;
        n++;
    }
    if (e->has_rsa_id) {
        out[off++] = OM_LS_LEGACY_ID;
        out[off++] = 20;
        memcpy(out + off, e->rsa_id, 20);
        off += 20;
        n++;
    }
    if (e->has_ed_id) {
        out[off++] = OM_LS_ED25519_ID;
        out[off++] = 32;
        memcpy(out + off, e->ed_id, 32);
        off += 32;
        n++;
    }
    if (e->has_ipv6) {
        out[off++] = OM_LS_IPV6;
        out[off++] = 18;
        memcpy(out + off, e->ipv6, 16);
        put16(out + off + 16, e->ipv6_port);
        off += 18;
        n++;
    }
    out[0] = n;
    put16(out + off, e->htype);
    put16(out + off + 2, e->hlen);
    memcpy(out + off + 4, e->hdata, e->hlen);
    return (int)(off + 4 + e->hlen);
}

int om_extend2_parse(om_extend2_t *e, const uint8_t *body, size_t len)
{
    memset(e, 0, sizeof *e);
    if (len < 1) return -1;
    size_t off = 1;
    for (unsigned i = 0; i < body[0]; i++) {
        if (len - off < 2) return -1;
        uint8_t type = body[off], sl = body[off + 1];
        const uint8_t *s = body + off + 2;
        if (len - off - 2 < sl) return -1;
        switch (type) {
        case OM_LS_IPV4:
            if (sl != 6) return -1;
            if (!e->has_ipv4) {
                e->has_ipv4 = true;
                memcpy(e->ipv4, s, 4);
                e->ipv4_port = get16(s + 4);
            }
            break;
        case OM_LS_IPV6:
            if (sl != 18) return -1;
            if (!e->has_ipv6) {
                e->has_ipv6 = true;
                memcpy(e->ipv6, s, 16);
                e->ipv6_port = get16(s + 16);
            }
            break;
        case OM_LS_LEGACY_ID:
            if (sl != 20 || e->has_rsa_id) return -1;
            e->has_rsa_id = true;
            memcpy(e->rsa_id, s, 20);
            break;
        case OM_LS_ED25519_ID:
            if (sl != 32 || e->has_ed_id) return -1;
            e->has_ed_id = true;
            memcpy(e->ed_id, s, 32);
            break;
        default:
            break; /* unrecognized specifiers are ignored */
        }
        off += 2u + sl;
    }
    if (len - off < 4) return -1;
    e->htype = get16(body + off);
    e->hlen = get16(body + off + 2);
    off += 4;
    if (e->hlen > len - off || e->hlen > sizeof e->hdata) return -1;
    memcpy(e->hdata, body + off, e->hlen);
    return 0;
}

int om_created2_parse(const uint8_t *body, size_t len, const uint8_t **hdata, size_t *hlen)
{
    if (len < 2) return -1;
    size_t hl = get16(body);
    if (hl > len - 2) return -1;
    *hdata = body + 2;
    *hlen = hl;
    return 0;
}
