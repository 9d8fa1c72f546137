/* dos_relays.c — the set of known relay addresses (see dos_relays.h). */
#include "or/dos_relays.h"

#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
    return om_dos_addr_cmp(a, b);
}

static void add4(om_dos_addr_t *v, size_t *n, const uint8_t ip[4])
{
    om_dos_addr_t a = {.family = 4};
    memcpy(a.a, ip, 4);
    v[(*n)++] = a;
}

static void add6(om_dos_addr_t *v, size_t *n, const uint8_t ip[16])
{
    om_dos_addr_t a = {.family = 6};
    memcpy(a.a, ip, 16);
    v[(*n)++] = a;
}

int om_dos_relays_build(om_dos_relays_t *s, const om_consensus_t *c,
                        const om_dir_authority_t *auths, size_t n_auths)
{
    size_t nr = c ? c->n_routers : 0, n = 0;
    om_dos_addr_t *v = malloc((2 * nr + 2 * n_auths + 1) * sizeof *v);
    if (!v) return -1;
    for (size_t i = 0; i < nr; i++) {
        add4(v, &n, c->routers[i].ipv4);
        if (c->routers[i].has_ipv6) add6(v, &n, c->routers[i].ipv6);
    }
    for (size_t i = 0; i < n_auths; i++) {
        om_dos_addr_t a;
        if (om_dos_addr_parse(&a, auths[i].ipv4) == 0) v[n++] = a;
        if (auths[i].has_ipv6 && om_dos_addr_parse(&a, auths[i].ipv6) == 0) v[n++] = a;
    }
    qsort(v, n, sizeof *v, cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!k || !om_dos_addr_eq(&v[k - 1], &v[i])) v[k++] = v[i];
    free(s->addrs);
    s->addrs = v;
    s->n = k;
    return 0;
}

bool om_dos_relays_contains(const om_dos_relays_t *s, const om_dos_addr_t *a)
{
    return s->n && bsearch(a, s->addrs, s->n, sizeof *s->addrs, cmp) != NULL;
}

void om_dos_relays_clear(om_dos_relays_t *s)
{
    free(s->addrs);
    s->addrs = NULL;
    s->n = 0;
}
