/* fuzz_link_cells.c — libFuzzer target: the link handshake body parsers (VERSIONS, NETINFO,
 * AUTH_CHALLENGE, CERTS entry list, PADDING_NEGOTIATE; first byte selects) on arbitrary bytes,
 * with re-encode round trips: what parses must encode back to the same bytes (or, where the
 * parser normalizes or drops data, to something that parses to the same value). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/link_cells.h"

static void check_addr(const om_addr_t *a)
{
    char buf[64];
    const char *s = om_addr_to_string(a, buf, sizeof buf);
    if (a->type == 4 || a->type == 6) {
        om_addr_t b;
        if (!s || om_addr_from_string(&b, s) != 0 || b.type != a->type ||
            memcmp(b.addr, a->addr, a->type == 4 ? 4 : 16) != 0)
            abort();
    } else if (s) {
        abort();
    }
}

static bool addr_eq(const om_addr_t *a, const om_addr_t *b)
{
    if (a->type != b->type) return false;
    size_t n = a->type == 4 ? 4 : a->type == 6 ? 16 : 0;
    return memcmp(a->addr, b->addr, n) == 0;
}

static void fuzz_versions(const uint8_t *d, size_t n)
{
    om_versions_t v;
    if (om_versions_parse(&v, d, n) != 0) {
        if (n % 2 == 0) abort();
        return;
    }
    if (n % 2 || v.n > OM_VERSIONS_MAX ||
        v.n != (n / 2 < OM_VERSIONS_MAX ? n / 2 : OM_VERSIONS_MAX))
        abort();
    for (size_t i = 0; i < v.n; i++)
        if (v.versions[i] != (uint16_t)(d[2 * i] << 8 | d[2 * i + 1])) abort();
    int best = om_versions_negotiate(&v, OM_LINK_PROTO_MIN, OM_LINK_PROTO_MAX);
    if (best != 0 && (best < OM_LINK_PROTO_MIN || best > OM_LINK_PROTO_MAX)) abort();
    if (v.n >= 1) {
        /* A single-version cell built from the first entry parses back to it. */
        om_var_cell_t *c = om_versions_cell(v.versions[0], v.versions[0]);
        om_versions_t w;
        if (!c || om_versions_parse(&w, c->payload, c->payload_len) != 0 || w.n != 1 ||
            w.versions[0] != v.versions[0])
            abort();
        om_var_cell_free(c);
    }
}

static void fuzz_netinfo(const uint8_t *d, size_t n)
{
    om_netinfo_t ni, again;
    if (om_netinfo_parse(&ni, d, n) != 0) return;
    if (ni.n_my_addrs > OM_NETINFO_MAX_ADDRS) abort();
    check_addr(&ni.other);
    for (unsigned i = 0; i < ni.n_my_addrs; i++)
        check_addr(&ni.my_addrs[i]);
    uint8_t payload[OM_CELL_PAYLOAD_LEN];
    if (om_netinfo_encode(&ni, payload) != 0) abort();
    if (om_netinfo_parse(&again, payload, sizeof payload) != 0) abort();
    if (again.timestamp != ni.timestamp || !addr_eq(&again.other, &ni.other) ||
        again.n_my_addrs != ni.n_my_addrs)
        abort();
    for (unsigned i = 0; i < ni.n_my_addrs; i++)
        if (!addr_eq(&again.my_addrs[i], &ni.my_addrs[i])) abort();
}

static void fuzz_auth_challenge(const uint8_t *d, size_t n)
{
    om_auth_challenge_t ac, again;
    if (om_auth_challenge_parse(&ac, d, n) != 0) return;
    if (ac.n_methods > OM_AUTH_METHODS_MAX) abort();
    uint16_t wire_n = (uint16_t)(d[32] << 8 | d[33]);
    if (n < 34 + 2 * (size_t)wire_n) abort();
    om_var_cell_t *c = om_auth_challenge_cell(&ac);
    if (!c) abort();
    if (om_auth_challenge_parse(&again, c->payload, c->payload_len) != 0 ||
        memcmp(&again, &ac, sizeof ac) != 0)
        abort();
    /* With no more methods than are kept, the encoding is the input without trailing bytes. */
    if (wire_n <= OM_AUTH_METHODS_MAX &&
        (c->payload_len != 34 + 2 * (size_t)wire_n || memcmp(c->payload, d, c->payload_len) != 0))
        abort();
    for (unsigned i = 0; i < ac.n_methods; i++)
        if (!om_auth_challenge_has_method(&ac, ac.methods[i])) abort();
    om_var_cell_free(c);
}

static void fuzz_certs(const uint8_t *d, size_t n)
{
    om_certs_list_t l;
    if (om_certs_list_parse(&l, d, n) != 0) return;
    if (l.n > OM_CERTS_MAX || l.n != d[0]) abort();
    size_t used = 1;
    for (size_t i = 0; i < l.n; i++) {
        if (l.certs[i].body != d + used + 3 || l.certs[i].type != d[used]) abort();
        used += 3 + (size_t)l.certs[i].len;
        if (used > n) abort();
        const om_certs_entry_t *e = om_certs_list_find(&l, l.certs[i].type);
        if (!e || e > &l.certs[i] || om_certs_list_count(&l, l.certs[i].type) == 0) abort();
    }
    om_var_cell_t *c = om_certs_list_cell(&l);
    if (!c || c->payload_len != used || memcmp(c->payload, d, used) != 0) abort();
    om_var_cell_free(c);
}

static void fuzz_padding_negotiate(const uint8_t *d, size_t n)
{
    om_padding_negotiate_t p;
    if (om_padding_negotiate_parse(&p, d, n) != 0) return;
    uint8_t payload[OM_CELL_PAYLOAD_LEN];
    if (n < 6 || om_padding_negotiate_encode(&p, payload) != 0 || memcmp(payload, d, 6) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t which = data[0];
    data++;
    size--;
    /* Copy to an exact-size heap buffer so ASan catches any read past the end. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    switch (which % 5) {
    case 0:
        fuzz_versions(buf, size);
        break;
    case 1:
        fuzz_netinfo(buf, size);
        break;
    case 2:
        fuzz_auth_challenge(buf, size);
        break;
    case 3:
        fuzz_certs(buf, size);
        break;
    default:
        fuzz_padding_negotiate(buf, size);
        break;
    }
    free(buf);
    return 0;
}
