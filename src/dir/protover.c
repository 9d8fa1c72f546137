/* protover.c — subprotocol version lists, tor-spec 9 "Subprotocol versioning" (consensus.h). */
#include <string.h>

#include "dir/consensus.h"
#include "dir/netdoc.h"

#define MAX_PROTO_NAME 100 /* as in tor */
#define MAX_VERSION    63

static uint64_t *slot(om_protover_t *p, const char *name, size_t n)
{
    static const struct {
        const char *name;
        size_t off;
    } names[] = {
        {"Link", offsetof(om_protover_t, link)},
        {"LinkAuth", offsetof(om_protover_t, linkauth)},
        {"Relay", offsetof(om_protover_t, relay)},
        {"FlowCtrl", offsetof(om_protover_t, flowctrl)},
        {"Cons", offsetof(om_protover_t, cons)},
        {"Desc", offsetof(om_protover_t, desc)},
        {"DirCache", offsetof(om_protover_t, dircache)},
        {"Microdesc", offsetof(om_protover_t, microdesc)},
        {"HSDir", offsetof(om_protover_t, hsdir)},
        {"HSIntro", offsetof(om_protover_t, hsintro)},
        {"HSRend", offsetof(om_protover_t, hsrend)},
        {"Padding", offsetof(om_protover_t, padding)},
        {"Conflux", offsetof(om_protover_t, conflux)},
        {"OnionMeshDht", offsetof(om_protover_t, onionmesh_dht)},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == n && memcmp(names[i].name, name, n) == 0)
            return (uint64_t *)((char *)p + names[i].off);
    return NULL;
}

static bool name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* "1-2,4" into a mask. */
static int parse_versions(const char *s, size_t n, uint64_t *mask)
{
    uint64_t m = 0;
    size_t i = 0;
    while (i < n) {
        size_t st = i;
        while (i < n && s[i] != ',')
            i++;
        om_span_t item = om_span(s + st, i - st);
        const char *dash = memchr(item.p, '-', item.len);
        uint32_t lo, hi;
        if (dash) {
            size_t dl = (size_t)(dash - item.p);
            if (om_netdoc_parse_u32(om_span(item.p, dl), MAX_VERSION, &lo) < 0 ||
                om_netdoc_parse_u32(om_span(dash + 1, item.len - dl - 1), MAX_VERSION, &hi) < 0 ||
                lo > hi)
                return -1;
        } else {
            if (om_netdoc_parse_u32(item, MAX_VERSION, &lo) < 0) return -1;
            hi = lo;
        }
        for (uint32_t v = lo; v <= hi; v++)
            m |= (uint64_t)1 << v;
        if (i < n) { /* a ',' must be followed by another range */
            i++;
            if (i == n) return -1;
        }
    }
    *mask = m;
    return 0;
}

int om_protover_parse(const char *s, size_t len, om_protover_t *out)
{
    memset(out, 0, sizeof *out);
    om_span_t rest = om_span(s, len), e;
    while (om_netdoc_next_arg(&rest, &e)) {
        const char *eq = memchr(e.p, '=', e.len);
        if (!eq) return -1;
        size_t nl = (size_t)(eq - e.p);
        if (nl == 0 || nl > MAX_PROTO_NAME) return -1;
        for (size_t i = 0; i < nl; i++)
            if (!name_char(e.p[i])) return -1;
        uint64_t mask;
        if (parse_versions(eq + 1, e.len - nl - 1, &mask) < 0) return -1;
        uint64_t *dst = slot(out, e.p, nl);
        if (dst)
            *dst |= mask;
        else if (mask)
            out->unknown = true;
    }
    return 0;
}

bool om_protover_covers(const om_protover_t *have, const om_protover_t *need)
{
    if (need->unknown) return false;
#define COVERS(f)                                                                                  \
    do {                                                                                           \
        if (need->f & ~have->f) return false;                                                      \
    } while (0)
    COVERS(link);
    COVERS(linkauth);
    COVERS(relay);
    COVERS(flowctrl);
    COVERS(cons);
    COVERS(desc);
    COVERS(dircache);
    COVERS(microdesc);
    COVERS(onionmesh_dht);
    COVERS(hsdir);
    COVERS(hsintro);
    COVERS(hsrend);
    COVERS(padding);
    COVERS(conflux);
#undef COVERS
    return true;
}
