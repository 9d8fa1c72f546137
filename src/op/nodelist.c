/* nodelist.c — the OP's node list: the verified consensus joined with its microdescriptors by
 * digest, and the predicates path selection uses (usable, ntor-v3 support, exit ports). */
#include "op/nodelist.h"

#include <stdlib.h>
#include <string.h>

bool om_node_usable(const om_routerstatus_t *rs)
{
    return (rs->flags & OM_RS_RUNNING) && (rs->flags & OM_RS_VALID) && rs->md && rs->md->has_ntor;
}

bool om_node_supports_ntor_v3(const om_routerstatus_t *rs)
{
    /* tor-spec 9.3: Relay=4 — the ntor-v3 handshake and its extensions. */
    return rs->has_proto && (rs->proto.relay & (1ull << 4)) && rs->md && rs->md->has_ed;
}

bool om_node_supports_cc(const om_routerstatus_t *rs)
{
    /* Prop 324 10.1: FlowCtrl=2 — congestion control negotiated in ntor-v3. */
    return om_node_supports_ntor_v3(rs) && (rs->proto.flowctrl & (1ull << 2));
}

bool om_node_supports_conflux(const om_routerstatus_t *rs)
{
    /* tor-spec 9 "Conflux=1": the exit links circuits into conflux sets (proposal 329). */
    return om_node_supports_cc(rs) && (rs->proto.conflux & (1ull << 1));
}

bool om_node_allows_exit_port(const om_routerstatus_t *rs, uint16_t port, bool ipv6)
{
    if (!rs->md) return false;
    const om_policy_summary_t *p = ipv6 ? &rs->md->p6 : &rs->md->p4;
    if (!p->present) return false;
    if (port == 0) /* "an exit" for prebuilt circuits: as tor, one usable for web ports */
        return om_policy_summary_allows(p, 80) || om_policy_summary_allows(p, 443);
    return om_policy_summary_allows(p, port);
}

static int md_cmp(const void *a, const void *b)
{
    return memcmp(((const om_microdesc_t *)a)->digest, ((const om_microdesc_t *)b)->digest, 32);
}

static om_microdesc_t *md_find(const om_nodelist_t *nl, const uint8_t digest[32])
{
    if (!nl->n_mds) return NULL;
    om_microdesc_t key;
    memcpy(key.digest, digest, 32);
    return bsearch(&key, nl->mds, nl->n_mds, sizeof *nl->mds, md_cmp);
}

/* Point every router at its microdescriptor (mds sorted by digest). */
static void relink(om_nodelist_t *nl)
{
    if (!nl->consensus) return;
    for (size_t i = 0; i < nl->consensus->n_routers; i++) {
        om_routerstatus_t *rs = &nl->consensus->routers[i];
        rs->md = md_find(nl, rs->md_digest);
    }
}

static bool listed(const om_consensus_t *c, const uint8_t digest[32])
{
    for (size_t i = 0; i < c->n_routers; i++)
        if (!memcmp(c->routers[i].md_digest, digest, 32)) return true;
    return false;
}

void om_nodelist_set_consensus(om_nodelist_t *nl, om_consensus_t *c)
{
    if (nl->consensus) om_consensus_free(nl->consensus);
    nl->consensus = c;
    /* Keep only the microdescriptors the new consensus lists. */
    size_t w = 0;
    for (size_t i = 0; i < nl->n_mds; i++)
        if (listed(c, nl->mds[i].digest)) nl->mds[w++] = nl->mds[i];
    nl->n_mds = w;
    relink(nl);
}

size_t om_nodelist_add_mds(om_nodelist_t *nl, const om_microdesc_t *mds, size_t n)
{
    if (!nl->consensus) return 0;
    size_t added = 0;
    for (size_t i = 0; i < n; i++) {
        if (md_find(nl, mds[i].digest) || !listed(nl->consensus, mds[i].digest)) continue;
        if (nl->n_mds == nl->cap_mds) {
            size_t ncap = nl->cap_mds ? nl->cap_mds * 2 : 64;
            om_microdesc_t *nm = realloc(nl->mds, ncap * sizeof *nm);
            if (!nm) break;
            nl->mds = nm;
            nl->cap_mds = ncap;
        }
        nl->mds[nl->n_mds++] = mds[i];
        /* Keep sorted for lookups (insertion: batches are small next to the table). */
        size_t j = nl->n_mds - 1;
        while (j > 0 && md_cmp(&nl->mds[j - 1], &nl->mds[j]) > 0) {
            om_microdesc_t t = nl->mds[j];
            nl->mds[j] = nl->mds[j - 1];
            nl->mds[j - 1] = t;
            j--;
        }
        added++;
    }
    relink(nl);
    return added;
}

size_t om_nodelist_missing_mds(const om_nodelist_t *nl, uint8_t (*digests)[32], size_t max)
{
    if (!nl->consensus) return 0;
    size_t n = 0;
    for (size_t i = 0; i < nl->consensus->n_routers; i++) {
        const om_routerstatus_t *rs = &nl->consensus->routers[i];
        if (rs->md) continue;
        if (digests && n < max) memcpy(digests[n], rs->md_digest, 32);
        n++;
        if (digests && n >= max) break;
    }
    return n;
}

double om_nodelist_path_fraction(const om_nodelist_t *nl)
{
    /* path-spec 2.2 / tor's PathsNeededToBuildCircuits: the product of the fractions of guard,
     * middle and exit bandwidth for which we have microdescriptors (equal weights here). */
    if (!nl->consensus) return 0;
    double have[3] = {0}, all[3] = {0};
    for (size_t i = 0; i < nl->consensus->n_routers; i++) {
        const om_routerstatus_t *rs = &nl->consensus->routers[i];
        if (!(rs->flags & OM_RS_RUNNING) || !(rs->flags & OM_RS_VALID)) continue;
        double bw = rs->bandwidth ? rs->bandwidth : 1;
        bool md = rs->md && rs->md->has_ntor;
        int pos[3] = {(rs->flags & OM_RS_GUARD) != 0, 1,
                      (rs->flags & OM_RS_EXIT) && !(rs->flags & OM_RS_BADEXIT)};
        for (int k = 0; k < 3; k++)
            if (pos[k]) {
                all[k] += bw;
                if (md) have[k] += bw;
            }
    }
    double f = 1;
    for (int k = 0; k < 3; k++)
        f *= all[k] > 0 ? have[k] / all[k] : 0;
    return f;
}

void om_nodelist_clear(om_nodelist_t *nl)
{
    if (nl->consensus) om_consensus_free(nl->consensus);
    free(nl->mds);
    memset(nl, 0, sizeof *nl);
}
