/* fuzz_microdesc.c — libFuzzer target: microdescriptor parsing of arbitrary bytes (digests,
 * keys, family, policy summaries), with invariants on what comes back; the input is also parsed
 * as a bare "p" policy summary and matched against ports. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dir/microdesc.h"

static void check_policy(const om_policy_summary_t *p)
{
    if (!p->present) {
        if (om_policy_summary_allows(p, 80)) abort();
        return;
    }
    if (p->n == 0 || p->n > OM_POLICY_MAX_RANGES || (p->truncated && !p->accept)) abort();
    for (size_t i = 0; i < p->n; i++) {
        if (p->lo[i] == 0 || p->lo[i] > p->hi[i] || (i && p->lo[i] <= p->hi[i - 1])) abort();
        /* Binary search agrees with the ranges. */
        if (om_policy_summary_allows(p, p->lo[i]) != p->accept ||
            om_policy_summary_allows(p, p->hi[i]) != p->accept)
            abort();
    }
    if (om_policy_summary_allows(p, 0)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    om_policy_summary_t ps;
    if (om_policy_summary_parse((const char *)data, size, &ps) == 0) check_policy(&ps);

    size_t n = 0;
    char err[256];
    struct om_microdesc *m = om_microdesc_parse_many((const char *)data, size, &n, err, sizeof err);
    if (!m) {
        if (n != 0) abort();
        return 0;
    }
    if (n == 0) abort();
    for (size_t i = 0; i < n; i++) {
        if (!m[i].has_ntor || strlen(m[i].family) >= sizeof m[i].family ||
            strlen(m[i].family_ids) >= sizeof m[i].family_ids)
            abort();
        check_policy(&m[i].p4);
        check_policy(&m[i].p6);
        (void)om_microdesc_family_lists(&m[i], m[i].ed_id);
        (void)om_microdesc_share_family_id(&m[i], &m[n - 1 - i]);
    }
    om_microdesc_free_array(m, n);
    return 0;
}
