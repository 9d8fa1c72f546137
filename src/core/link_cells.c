/* link_cells.c — link handshake cell bodies (see link_cells.h): VERSIONS, NETINFO,
 * AUTH_CHALLENGE, the CERTS entry list, PADDING_NEGOTIATE, and address text helpers. */
#include "core/link_cells.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* ---- VERSIONS (tor-spec 4.1) ---- */

int om_versions_parse(om_versions_t *out, const uint8_t *body, size_t len)
{
    if (!out || (!body && len)) return -1;
    if (len % 2) return -1; /* "not well-formed (for example, ... an odd number of bytes)" */
    out->n = 0;
    for (size_t i = 0; i + 1 < len && out->n < OM_VERSIONS_MAX; i += 2)
        out->versions[out->n++] = get_u16(body + i);
    return 0;
}

om_var_cell_t *om_versions_cell(uint16_t lo, uint16_t hi)
{
    if (lo > hi || (size_t)(hi - lo) + 1 > OM_VAR_CELL_MAX_PAYLOAD / 2) return NULL;
    size_t n = (size_t)(hi - lo) + 1;
    om_var_cell_t *c = om_var_cell_new(OM_CELL_VERSIONS, 0, (uint16_t)(2 * n));
    if (!c) return NULL;
    for (size_t i = 0; i < n; i++)
        put_u16(c->payload + 2 * i, (uint16_t)(lo + i));
    return c;
}

int om_versions_negotiate(const om_versions_t *peer, uint16_t lo, uint16_t hi)
{
    int best = 0;
    if (!peer) return 0;
    for (size_t i = 0; i < peer->n && i < OM_VERSIONS_MAX; i++) {
        uint16_t v = peer->versions[i];
        if (v >= lo && v <= hi && v > best) best = v;
    }
    return best;
}

/* ---- addresses ---- */

const char *om_addr_to_string(const om_addr_t *a, char *out, size_t outsz)
{
    if (!a || !out || outsz == 0) return NULL;
    int af;
    if (a->type == 4)
        af = AF_INET;
    else if (a->type == 6)
        af = AF_INET6;
    else
        return NULL;
    if (outsz > (size_t)INET6_ADDRSTRLEN) outsz = INET6_ADDRSTRLEN;
    return inet_ntop(af, a->addr, out, (socklen_t)outsz);
}

int om_addr_from_string(om_addr_t *a, const char *s)
{
    if (!a || !s) return -1;
    om_addr_t tmp;
    memset(&tmp, 0, sizeof tmp);
    if (inet_pton(AF_INET, s, tmp.addr) == 1) {
        tmp.type = 4;
        *a = tmp;
        return 0;
    }
    /* IPv6, optionally in brackets as in "[::1]". */
    char buf[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        if (n - 2 >= sizeof buf) return -1;
        memcpy(buf, s + 1, n - 2);
        buf[n - 2] = 0;
        s = buf;
    }
    if (inet_pton(AF_INET6, s, tmp.addr) == 1) {
        tmp.type = 6;
        *a = tmp;
        return 0;
    }
    return -1;
}

/* ---- NETINFO (tor-spec 4.5) ---- */

/* One ATYPE/ALEN/AVAL triple at p[0..len). Returns bytes consumed, or -1 if truncated. An
 * unrecognized type, or a recognized one with the wrong ALEN, is kept as type 0 ("the provided
 * address should be ignored") and skipped by its length. */
static int netinfo_addr_parse(om_addr_t *a, const uint8_t *p, size_t len)
{
    if (len < 2) return -1;
    uint8_t type = p[0], alen = p[1];
    if (len - 2 < alen) return -1;
    memset(a, 0, sizeof *a);
    if ((type == 4 && alen == 4) || (type == 6 && alen == 16)) {
        a->type = type;
        memcpy(a->addr, p + 2, alen);
    }
    return 2 + alen;
}

int om_netinfo_parse(om_netinfo_t *out, const uint8_t *payload, size_t len)
{
    if (!out || (!payload && len)) return -1;
    memset(out, 0, sizeof *out);
    if (len < 4) return -1;
    out->timestamp = (uint32_t)payload[0] << 24 | (uint32_t)payload[1] << 16 |
                     (uint32_t)payload[2] << 8 | payload[3];
    size_t off = 4;
    int r = netinfo_addr_parse(&out->other, payload + off, len - off);
    if (r < 0) return -1;
    off += (size_t)r;
    if (off >= len) return -1;
    uint8_t n = payload[off++];
    for (unsigned i = 0; i < n; i++) {
        om_addr_t a;
        r = netinfo_addr_parse(&a, payload + off, len - off);
        if (r < 0) return -1;
        off += (size_t)r;
        if (out->n_my_addrs < OM_NETINFO_MAX_ADDRS) out->my_addrs[out->n_my_addrs++] = a;
    }
    /* Any bytes after this are padding and ignored. */
    return 0;
}

static size_t netinfo_addr_encode(const om_addr_t *a, uint8_t *p)
{
    uint8_t alen = a->type == 4 ? 4 : a->type == 6 ? 16 : 0;
    p[0] = alen ? a->type : 0;
    p[1] = alen;
    memcpy(p + 2, a->addr, alen);
    return 2 + (size_t)alen;
}

int om_netinfo_encode(const om_netinfo_t *in, uint8_t payload[OM_CELL_PAYLOAD_LEN])
{
    if (!in || !payload || in->n_my_addrs > OM_NETINFO_MAX_ADDRS) return -1;
    /* At most 4 + 18 + 1 + 8 * 18 = 167 bytes: always fits. */
    memset(payload, 0, OM_CELL_PAYLOAD_LEN);
    payload[0] = (uint8_t)(in->timestamp >> 24);
    payload[1] = (uint8_t)(in->timestamp >> 16);
    payload[2] = (uint8_t)(in->timestamp >> 8);
    payload[3] = (uint8_t)in->timestamp;
    size_t off = 4;
    off += netinfo_addr_encode(&in->other, payload + off);
    payload[off++] = in->n_my_addrs;
    for (unsigned i = 0; i < in->n_my_addrs; i++)
        off += netinfo_addr_encode(&in->my_addrs[i], payload + off);
    return 0;
}

/* ---- AUTH_CHALLENGE (tor-spec 4.3) ---- */

int om_auth_challenge_parse(om_auth_challenge_t *out, const uint8_t *body, size_t len)
{
    if (!out || (!body && len)) return -1;
    memset(out, 0, sizeof *out);
    if (len < OM_AUTH_CHALLENGE_LEN + 2) return -1;
    memcpy(out->challenge, body, OM_AUTH_CHALLENGE_LEN);
    uint16_t n = get_u16(body + OM_AUTH_CHALLENGE_LEN);
    size_t off = OM_AUTH_CHALLENGE_LEN + 2;
    if ((len - off) / 2 < n) return -1; /* methods truncated */
    for (uint16_t i = 0; i < n; i++) {
        if (out->n_methods < OM_AUTH_METHODS_MAX)
            out->methods[out->n_methods++] = get_u16(body + off);
        off += 2;
    }
    /* "Initiators MUST ignore unexpected bytes at the end of the cell." */
    return 0;
}

om_var_cell_t *om_auth_challenge_cell(const om_auth_challenge_t *in)
{
    if (!in || in->n_methods > OM_AUTH_METHODS_MAX) return NULL;
    om_var_cell_t *c = om_var_cell_new(OM_CELL_AUTH_CHALLENGE, 0,
                                       (uint16_t)(OM_AUTH_CHALLENGE_LEN + 2 + 2 * in->n_methods));
    if (!c) return NULL;
    memcpy(c->payload, in->challenge, OM_AUTH_CHALLENGE_LEN);
    put_u16(c->payload + OM_AUTH_CHALLENGE_LEN, in->n_methods);
    for (unsigned i = 0; i < in->n_methods; i++)
        put_u16(c->payload + OM_AUTH_CHALLENGE_LEN + 2 + 2 * i, in->methods[i]);
    return c;
}

bool om_auth_challenge_has_method(const om_auth_challenge_t *ac, uint16_t method)
{
    if (!ac) return false;
    for (unsigned i = 0; i < ac->n_methods && i < OM_AUTH_METHODS_MAX; i++)
        if (ac->methods[i] == method) return true;
    return false;
}

/* ---- CERTS entry list (tor-spec 4.2) ---- */

int om_certs_list_parse(om_certs_list_t *out, const uint8_t *body, size_t len)
{
    if (!out || (!body && len)) return -1;
    memset(out, 0, sizeof *out);
    if (len < 1) return -1;
    uint8_t n = body[0];
    if (n > OM_CERTS_MAX) return -1;
    size_t off = 1;
    for (unsigned i = 0; i < n; i++) {
        if (len - off < 3) return -1;
        uint16_t clen = get_u16(body + off + 1);
        if (len - off - 3 < clen) return -1;
        out->certs[i].type = body[off];
        out->certs[i].len = clen;
        out->certs[i].body = body + off + 3;
        off += 3 + (size_t)clen;
    }
    out->n = n;
    /* "Any extra octets at the end of a CERTS cell MUST be ignored." */
    return 0;
}

om_var_cell_t *om_certs_list_cell(const om_certs_list_t *in)
{
    if (!in || in->n > OM_CERTS_MAX) return NULL;
    size_t total = 1;
    for (size_t i = 0; i < in->n; i++) {
        if (!in->certs[i].body && in->certs[i].len) return NULL;
        total += 3 + (size_t)in->certs[i].len;
    }
    if (total > OM_VAR_CELL_MAX_PAYLOAD) return NULL;
    om_var_cell_t *c = om_var_cell_new(OM_CELL_CERTS, 0, (uint16_t)total);
    if (!c) return NULL;
    c->payload[0] = (uint8_t)in->n;
    size_t off = 1;
    for (size_t i = 0; i < in->n; i++) {
        const om_certs_entry_t *e = &in->certs[i];
        c->payload[off] = e->type;
        put_u16(c->payload + off + 1, e->len);
        if (e->len) memcpy(c->payload + off + 3, e->body, e->len);
        off += 3 + (size_t)e->len;
    }
    return c;
}

const om_certs_entry_t *om_certs_list_find(const om_certs_list_t *l, uint8_t type)
{
    if (!l) return NULL;
    for (size_t i = 0; i < l->n && i < OM_CERTS_MAX; i++)
        if (l->certs[i].type == type) return &l->certs[i];
    return NULL;
}

size_t om_certs_list_count(const om_certs_list_t *l, uint8_t type)
{
    size_t k = 0;
    if (!l) return 0;
    for (size_t i = 0; i < l->n && i < OM_CERTS_MAX; i++)
        if (l->certs[i].type == type) k++;
    return k;
}

/* ---- PADDING_NEGOTIATE (tor-spec 7.2, padding-spec 2.5) ---- */

#define PADNEG_LEN 6

static bool padneg_valid(uint8_t version, uint8_t command)
{
    return version == 0 && (command == 1 || command == 2);
}

int om_padding_negotiate_parse(om_padding_negotiate_t *out, const uint8_t *payload, size_t len)
{
    if (!out || (!payload && len)) return -1;
    memset(out, 0, sizeof *out);
    if (len < PADNEG_LEN || !padneg_valid(payload[0], payload[1])) return -1;
    out->version = payload[0];
    out->command = payload[1];
    out->ito_low_ms = get_u16(payload + 2);
    out->ito_high_ms = get_u16(payload + 4);
    return 0;
}

int om_padding_negotiate_encode(const om_padding_negotiate_t *in,
                                uint8_t payload[OM_CELL_PAYLOAD_LEN])
{
    if (!in || !payload || !padneg_valid(in->version, in->command)) return -1;
    memset(payload, 0, OM_CELL_PAYLOAD_LEN);
    payload[0] = in->version;
    payload[1] = in->command;
    put_u16(payload + 2, in->ito_low_ms);
    put_u16(payload + 4, in->ito_high_ms);
    return 0;
}
