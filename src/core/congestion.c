/* congestion.c — proposal 324 congestion control (TOR_VEGAS, the cwnd/RTT BDP estimator,
 * RFC 3742 limited slow start), its ntor-v3 negotiation extensions, and XON/XOFF stream flow
 * control, with tor 0.4.9's parameter defaults. Section numbers below are proposal 324's. */
#include "core/congestion.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/onion_handshake.h"

typedef unsigned __int128 u128;

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}
static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}
/* Results that do not fit are saturated: they only arise from absurd parameters or clocks. */
static uint64_t sat_u64(u128 v)
{
    return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

/* ================================================================== parameters (6.5) */

typedef struct {
    const char *name;
    size_t off;
    int32_t def, min, max;
} param_def_t;

#define PDEF(n, f, d, lo, hi)                                                                      \
    {                                                                                              \
        n, offsetof(om_cc_params_t, f), d, lo, hi                                                  \
    }
/* Defaults and ranges as tor 0.4.9 passes them to networkstatus_get_param. */
static const param_def_t param_defs[] = {
    PDEF("cc_alg", alg, OM_CC_ALG_VEGAS, 0, 3),
    PDEF("cc_sendme_inc", sendme_inc, 31, 1, 254),
    PDEF("cc_cwnd_init", cwnd_init, 4 * 31, 31, 10000),
    PDEF("cc_cwnd_min", cwnd_min, 4 * 31, 31, 1000),
    PDEF("cc_cwnd_max", cwnd_max, INT32_MAX, 500, INT32_MAX),
    PDEF("cc_cwnd_inc", cwnd_inc, 1, 1, 1000),
    PDEF("cc_cwnd_inc_pct_ss", cwnd_inc_pct_ss, 100, 1, 500),
    PDEF("cc_cwnd_inc_rate", cwnd_inc_rate, 31, 1, 250),
    PDEF("cc_cwnd_full_gap", cwnd_full_gap, 4, 0, INT16_MAX),
    PDEF("cc_cwnd_full_minpct", cwnd_full_minpct, 25, 0, 100),
    PDEF("cc_cwnd_full_per_cwnd", cwnd_full_per_cwnd, 1, 0, 1),
    PDEF("cc_bwe_min", bwe_min, 5, 2, 20),
    PDEF("cc_ewma_cwnd_pct", ewma_cwnd_pct, 50, 1, 255),
    PDEF("cc_ewma_max", ewma_max, 10, 2, INT32_MAX),
    PDEF("cc_ewma_ss", ewma_ss, 2, 2, INT32_MAX),
    PDEF("cc_rtt_reset_pct", rtt_reset_pct, 100, 0, 100),
    PDEF("cc_ss_max", ss_max, 5000, 500, INT32_MAX),
    /* Exit circuits: 3 hops, OUTBUF_CELLS = 62 per hop. */
    PDEF("cc_vegas_alpha_exit", vegas_alpha_exit, 3 * 62, 0, 1000),
    PDEF("cc_vegas_beta_exit", vegas_beta_exit, 4 * 62, 0, 1000),
    PDEF("cc_vegas_gamma_exit", vegas_gamma_exit, 3 * 62, 0, 1000),
    PDEF("cc_vegas_delta_exit", vegas_delta_exit, 5 * 62, 0, INT32_MAX),
    PDEF("cc_sscap_exit", sscap_exit, 600, 100, INT32_MAX),
    PDEF("cc_vegas_alpha_onion", vegas_alpha_onion, 3 * 62, 0, 1000),
    PDEF("cc_vegas_beta_onion", vegas_beta_onion, 6 * 62, 0, 1000),
    PDEF("cc_vegas_gamma_onion", vegas_gamma_onion, 4 * 62, 0, 1000),
    PDEF("cc_vegas_delta_onion", vegas_delta_onion, 7 * 62, 0, INT32_MAX),
    PDEF("cc_sscap_onion", sscap_onion, 475, 100, INT32_MAX),
    PDEF("cc_xoff_client", xoff_client, 500, 1, 10000),
    PDEF("cc_xoff_exit", xoff_exit, 500, 1, 10000),
    PDEF("cc_xon_rate", xon_rate, 500, 1, 5000),
    PDEF("cc_xon_change_pct", xon_change_pct, 25, 1, 99),
    PDEF("cc_xon_ewma_cnt", xon_ewma_cnt, 2, 2, 100),
};
#define N_PARAM_DEFS (sizeof param_defs / sizeof param_defs[0])

static int32_t *param_field(om_cc_params_t *p, const param_def_t *d)
{
    return (int32_t *)((char *)p + d->off);
}

/* tor 0.4.9 knows only the fixed windows and Vegas; anything else falls back to the default. */
static void fix_alg(om_cc_params_t *p)
{
    if (p->alg != OM_CC_ALG_FIXED && p->alg != OM_CC_ALG_VEGAS) p->alg = OM_CC_ALG_VEGAS;
}

void om_cc_params_default(om_cc_params_t *p)
{
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < N_PARAM_DEFS; i++)
        *param_field(p, &param_defs[i]) = param_defs[i].def;
}

/* params, or tor's defaults in *def if params is NULL. */
static const om_cc_params_t *params_or_default(const om_cc_params_t *params, om_cc_params_t *def)
{
    if (params) return params;
    om_cc_params_default(def);
    return def;
}

void om_cc_params_load(om_cc_params_t *p, om_cc_param_lookup_fn lookup, void *arg)
{
    om_cc_params_default(p);
    if (!lookup) return;
    for (size_t i = 0; i < N_PARAM_DEFS; i++) {
        const param_def_t *d = &param_defs[i];
        int32_t v = lookup(arg, d->name, d->def, d->min, d->max);
        *param_field(p, d) = v < d->min ? d->min : v > d->max ? d->max : v;
    }
    fix_alg(p);
}

int om_cc_params_set(om_cc_params_t *p, const char *name, int32_t value)
{
    for (size_t i = 0; i < N_PARAM_DEFS; i++) {
        const param_def_t *d = &param_defs[i];
        if (strcmp(d->name, name) != 0) continue;
        *param_field(p, d) = value < d->min ? d->min : value > d->max ? d->max : value;
        fix_alg(p);
        return 0;
    }
    return -1;
}

bool om_cc_params_enabled(const om_cc_params_t *p)
{
    return p->alg != OM_CC_ALG_FIXED;
}

/* ======================================================================== the sender */

/* CWND_UPDATE_RATE (3.3): SENDMEs between steady-state updates; every SENDME in slow start.
 * 0 (small windows with a high cc_cwnd_inc_rate) also means every SENDME. */
static uint64_t cwnd_update_rate(const om_cc_t *cc)
{
    if (cc->in_slow_start) return 1;
    uint64_t d = cc->cwnd_inc_rate * cc->sendme_inc;
    return (cc->cwnd + d / 2) / d;
}

/* SENDME_PER_CWND (3.3), rounded. */
static uint64_t sendme_per_cwnd(const om_cc_t *cc)
{
    return (cc->cwnd + cc->sendme_inc / 2) / cc->sendme_inc;
}

/* N of the N-EWMA of RTT (2.1.2). */
static uint64_t n_ewma_count(const om_cc_t *cc)
{
    uint64_t n;
    if (cc->in_slow_start)
        n = cc->ewma_ss;
    else
        n = min_u64(sat_u64((u128)cwnd_update_rate(cc) * cc->ewma_cwnd_pct / 100), cc->ewma_max);
    return max_u64(n, 2);
}

/* N_EWMA = (2*curr + (N-1)*prev) / (N+1), in that order for identical rounding (2.1.2);
 * the first sample is taken as is. */
static uint64_t n_count_ewma(uint64_t curr, uint64_t prev, uint64_t n)
{
    if (prev == 0) return curr;
    return sat_u64(((u128)2 * curr + (u128)(n - 1) * prev) / ((u128)n + 1));
}

/* A weighted average of a and b giving pct_max percent to the larger one (cc_rtt_reset_pct). */
static uint64_t percent_max_mix(uint64_t a, uint64_t b, uint64_t pct_max)
{
    uint64_t hi = max_u64(a, b), lo = min_u64(a, b);
    if (pct_max > 100) return hi;
    return sat_u64((u128)pct_max * hi / 100 + (u128)(100 - pct_max) * lo / 100);
}

/* cc_cwnd_max is applied last, after the algorithm, as tor does. We also apply cc_cwnd_min
 * outside steady state (tor does only there), which matters only for parameter sets with
 * gamma or cc_cwnd_init below cc_cwnd_min; should cc_cwnd_min exceed cc_cwnd_max, the maximum
 * wins, as in tor. */
static void clamp_cwnd(om_cc_t *cc)
{
    if (cc->cwnd < cc->cwnd_min) cc->cwnd = cc->cwnd_min;
    if (cc->cwnd > cc->cwnd_max) cc->cwnd = cc->cwnd_max;
}

int om_cc_init_path(om_cc_t *cc, const om_cc_params_t *params, uint8_t sendme_inc,
                    om_cc_path_t path)
{
    om_cc_params_t def;
    if (!cc || sendme_inc == 0) return -1;
    params = params_or_default(params, &def);
    memset(cc, 0, sizeof *cc);
    cc->sendme_inc = sendme_inc;
    cc->cwnd = (uint64_t)params->cwnd_init;
    cc->cwnd_min = (uint64_t)params->cwnd_min;
    cc->cwnd_max = (uint64_t)params->cwnd_max;
    cc->cwnd_inc = (uint64_t)params->cwnd_inc;
    cc->cwnd_inc_pct_ss = (uint64_t)params->cwnd_inc_pct_ss;
    cc->cwnd_inc_rate = (uint64_t)params->cwnd_inc_rate;
    cc->full_gap = (uint64_t)params->cwnd_full_gap;
    cc->full_minpct = (uint64_t)params->cwnd_full_minpct;
    cc->full_per_cwnd = params->cwnd_full_per_cwnd != 0;
    cc->ewma_cwnd_pct = (uint64_t)params->ewma_cwnd_pct;
    cc->ewma_max = (uint64_t)params->ewma_max;
    cc->ewma_ss = (uint64_t)params->ewma_ss;
    cc->rtt_reset_pct = (uint64_t)params->rtt_reset_pct;
    cc->ss_max = (uint64_t)params->ss_max;
    if (path == OM_CC_PATH_ONION) {
        cc->alpha = (uint64_t)params->vegas_alpha_onion;
        cc->beta = (uint64_t)params->vegas_beta_onion;
        cc->gamma = (uint64_t)params->vegas_gamma_onion;
        cc->delta = (uint64_t)params->vegas_delta_onion;
        cc->ss_cap = (uint64_t)params->sscap_onion;
    } else {
        cc->alpha = (uint64_t)params->vegas_alpha_exit;
        cc->beta = (uint64_t)params->vegas_beta_exit;
        cc->gamma = (uint64_t)params->vegas_gamma_exit;
        cc->delta = (uint64_t)params->vegas_delta_exit;
        cc->ss_cap = (uint64_t)params->sscap_exit;
    }
    /* Guard the divisions against hand-built parameter sets outside the consensus ranges. */
    if (cc->cwnd_inc_rate == 0) cc->cwnd_inc_rate = 1;
    if (cc->ewma_cwnd_pct == 0) cc->ewma_cwnd_pct = 1;
    clamp_cwnd(cc);
    cc->in_slow_start = true;
    cc->next_cc_event = cwnd_update_rate(cc);
    return 0;
}

int om_cc_init(om_cc_t *cc, const om_cc_params_t *params, uint8_t sendme_inc)
{
    return om_cc_init_path(cc, params, sendme_inc, OM_CC_PATH_EXIT);
}

bool om_cc_next_cell_triggers_sendme(const om_cc_t *cc)
{
    /* The other end answers every sendme_inc-th DATA cell; inflight counts modulo sendme_inc
     * the same as the total sent, as every SENDME takes exactly sendme_inc off it. */
    return (cc->inflight + 1) % cc->sendme_inc == 0;
}

bool om_cc_can_send(const om_cc_t *cc)
{
    if (cc->inflight >= cc->cwnd) return false;
    if (cc->pending_n >= OM_CC_MAX_PENDING && om_cc_next_cell_triggers_sendme(cc)) return false;
    return true;
}

uint64_t om_cc_package_window(const om_cc_t *cc)
{
    return cc->inflight >= cc->cwnd ? 0 : cc->cwnd - cc->inflight;
}

int om_cc_note_data_sent(om_cc_t *cc, uint64_t now_usec)
{
    if (!om_cc_next_cell_triggers_sendme(cc)) {
        cc->inflight++;
        return 0;
    }
    if (cc->pending_n >= OM_CC_MAX_PENDING) return -1;
    cc->pending[(cc->pending_head + cc->pending_n) % OM_CC_MAX_PENDING] = now_usec;
    cc->pending_n++;
    cc->inflight++;
    return 1;
}

void om_cc_set_chan_blocked(om_cc_t *cc, bool blocked)
{
    cc->chan_blocked = blocked;
}

/* 2.1.1: is this RTT sample a clock stall or jump rather than a measurement? */
static bool rtt_stalled_or_jumped(om_cc_t *cc, uint64_t old_rtt, uint64_t new_rtt)
{
    const u128 ratio = 5000;
    if (new_rtt == 0) {
        cc->clock_stalled = true;
        return true;
    }
    /* Until slow start is over and an average exists, any non-zero sample is used. */
    if (cc->in_slow_start || old_rtt == 0) return false;
    /* Much smaller: a stall only if a zero sample was seen and nothing sane since. */
    if ((u128)old_rtt > (u128)new_rtt * ratio) return cc->clock_stalled;
    /* Much larger: a forward jump (or a suspended peer); skip it, without caching. */
    if ((u128)new_rtt > (u128)old_rtt * ratio) return true;
    cc->clock_stalled = false;
    return false;
}

/* 2.1: RTT from the oldest queued send time; min/EWMA/max; RTT_min reset at cwnd_min (3.1.2).
 * Returns the sample, or 0 if it was not used. */
static uint64_t update_rtt(om_cc_t *cc, uint64_t now_usec)
{
    uint64_t sent = cc->pending[cc->pending_head];
    cc->pending_head = (cc->pending_head + 1) % OM_CC_MAX_PENDING;
    cc->pending_n--;
    uint64_t rtt = now_usec >= sent ? now_usec - sent : 0; /* a clock going back: a stall */
    if (rtt_stalled_or_jumped(cc, cc->ewma_rtt_usec, rtt)) {
        cc->n_clock_stalls++;
        return 0;
    }
    cc->last_rtt_usec = rtt;
    cc->ewma_rtt_usec = n_count_ewma(rtt, cc->ewma_rtt_usec, n_ewma_count(cc));
    if (rtt > cc->max_rtt_usec) cc->max_rtt_usec = rtt;
    if (cc->min_rtt_usec == 0) {
        cc->min_rtt_usec = cc->ewma_rtt_usec;
    } else if (cc->cwnd == cc->cwnd_min && !cc->in_slow_start) {
        /* Stuck at the minimum window: the old minimum may have been abnormally low. */
        cc->min_rtt_usec = percent_max_mix(cc->ewma_rtt_usec, cc->min_rtt_usec, cc->rtt_reset_pct);
        cc->n_rtt_resets++;
    } else if (cc->ewma_rtt_usec < cc->min_rtt_usec) {
        cc->min_rtt_usec = cc->ewma_rtt_usec; /* the EWMA, to average out other traffic */
    }
    return rtt;
}

/* 3.1.2: BDP = cwnd * RTT_min / RTT_ewma, and the blocked-channel signal. Returns whether the
 * congestion algorithm should run this time. */
static bool update_bdp(om_cc_t *cc, uint64_t rtt)
{
    bool blocked = cc->chan_blocked;
    if (cc->ewma_rtt_usec == 0) {
        /* The clock has never given a usable RTT: take the window itself as the estimate. */
        cc->bdp = cc->cwnd;
        cc->blocked_seen = blocked;
        return blocked;
    }
    cc->bdp = sat_u64((u128)cc->cwnd * cc->min_rtt_usec / cc->ewma_rtt_usec);
    if (blocked != cc->blocked_seen) {
        /* Blocking and unblocking are immediate signals: update the window now. */
        cc->blocked_seen = blocked;
        cc->next_cc_event = 0;
    }
    return blocked || rtt != 0;
}

/* RFC 3742 limited slow start increment (3.3). */
static uint64_t ss_inc(const om_cc_t *cc)
{
    if (cc->cwnd <= cc->ss_cap) return (cc->cwnd_inc_pct_ss * cc->sendme_inc + 50) / 100;
    return max_u64(sat_u64(((u128)cc->sendme_inc * cc->ss_cap + cc->cwnd) / (2 * (u128)cc->cwnd)),
                   1);
}

/* TOR_VEGAS, once per SENDME (3.3). */
static void vegas_on_sendme(om_cc_t *cc, uint64_t now_usec)
{
    if (cc->next_cc_event) cc->next_cc_event--;
    if (cc->next_cwnd_event) cc->next_cwnd_event--;

    uint64_t rtt = update_rtt(cc, now_usec);
    if (!update_bdp(cc, rtt)) goto acked; /* clock stall or jump: no update this round */

    uint64_t queue_use = cc->bdp > cc->cwnd ? 0 : cc->cwnd - cc->bdp;

    /* "cwnd full" with slack for SENDMEs processed in a burst, and a low-water reset. */
    if (cc->inflight + cc->full_gap * cc->sendme_inc >= cc->cwnd)
        cc->cwnd_full = true;
    else if ((u128)100 * cc->inflight < (u128)cc->full_minpct * cc->cwnd)
        cc->cwnd_full = false;

    if (cc->in_slow_start) {
        if (queue_use < cc->gamma && !cc->blocked_seen) {
            if (cc->cwnd_full) {
                uint64_t inc = ss_inc(cc);
                cc->cwnd += inc;
                /* Below what steady state would add in a window: slow start is pointless. */
                if ((u128)inc * sendme_per_cwnd(cc) <= (u128)cc->cwnd_inc * cc->cwnd_inc_rate)
                    cc->in_slow_start = false;
            }
        } else {
            /* Queue delay appeared (or the channel blocked): leave slow start at BDP + gamma. */
            cc->cwnd = cc->bdp + cc->gamma;
            cc->in_slow_start = false;
        }
        if (cc->cwnd >= cc->ss_max) {
            cc->cwnd = cc->ss_max;
            cc->in_slow_start = false;
        }
    } else if (cc->next_cc_event == 0) {
        if (queue_use > cc->delta) {
            uint64_t target = cc->bdp + cc->delta;
            cc->cwnd = target > cc->cwnd_inc ? target - cc->cwnd_inc : 0;
        } else if (queue_use > cc->beta || cc->blocked_seen) {
            cc->cwnd = cc->cwnd > cc->cwnd_inc ? cc->cwnd - cc->cwnd_inc : 0;
        } else if (cc->cwnd_full && queue_use < cc->alpha) {
            cc->cwnd += cc->cwnd_inc;
        }
        cc->cwnd = max_u64(cc->cwnd, cc->cwnd_min);
    }

    if (cc->next_cwnd_event == 0) cc->next_cwnd_event = sendme_per_cwnd(cc);
    if (cc->next_cc_event == 0) cc->next_cc_event = cwnd_update_rate(cc);
    /* Forget "full" once per cwnd worth of SENDMEs, or once per update. */
    if (cc->full_per_cwnd ? cc->next_cwnd_event == sendme_per_cwnd(cc)
                          : cc->next_cc_event == cwnd_update_rate(cc))
        cc->cwnd_full = false;

acked:
    cc->inflight = cc->inflight >= cc->sendme_inc ? cc->inflight - cc->sendme_inc : 0;
    clamp_cwnd(cc);
}

int om_cc_note_sendme_received(om_cc_t *cc, uint64_t now_usec)
{
    if (cc->pending_n == 0) return -1;
    cc->n_sendmes++;
    vegas_on_sendme(cc, now_usec);
    return 0;
}

void om_cc_format(const om_cc_t *cc, char *buf, size_t len)
{
    if (!buf || !len) return;
    snprintf(buf, len,
             "SS=%d CWND=%" PRIu64 " INFL=%" PRIu64 " RTT=%" PRIu64 " MIN_RTT=%" PRIu64
             " BDP=%" PRIu64,
             cc->in_slow_start ? 1 : 0, cc->cwnd, cc->inflight, cc->ewma_rtt_usec / 1000,
             cc->min_rtt_usec / 1000, cc->bdp);
}

/* ======================================================== ntor-v3 extensions (10.3) */

int om_cc_ext_request_encode(uint8_t *out, size_t *len)
{
    om_ntor3_ext_t ext = {.type = OM_NTOR3_EXT_CC_REQUEST, .len = 0, .body = NULL};
    return om_ntor3_ext_encode(&ext, 1, out, len);
}

int om_cc_ext_request_parse(const uint8_t *msg, size_t len)
{
    om_ntor3_ext_t exts[OM_NTOR3_EXT_MAX];
    size_t n = 0;
    if (om_ntor3_ext_parse(msg, len, exts, &n) < 0) return -1;
    return om_ntor3_ext_find(exts, n, OM_NTOR3_EXT_CC_REQUEST) ? 1 : 0;
}

int om_cc_ext_response_encode(uint8_t sendme_inc, uint8_t *out, size_t *len)
{
    om_ntor3_ext_t ext = {.type = OM_NTOR3_EXT_CC_RESPONSE, .len = 1, .body = &sendme_inc};
    return om_ntor3_ext_encode(&ext, 1, out, len);
}

int om_cc_ext_response_parse(const uint8_t *msg, size_t len, int32_t cc_sendme_inc,
                             uint8_t *sendme_inc)
{
    om_ntor3_ext_t exts[OM_NTOR3_EXT_MAX];
    size_t n = 0;
    if (om_ntor3_ext_parse(msg, len, exts, &n) < 0) return -1;
    const om_ntor3_ext_t *e = om_ntor3_ext_find(exts, n, OM_NTOR3_EXT_CC_RESPONSE);
    if (!e) return 0;
    /* The body is trunnel's trn_extension_field_cc: sendme_inc(1); tor ignores what follows. */
    if (e->len < 1) return -1;
    int32_t v = e->body[0];
    if (v == 0 || v > cc_sendme_inc + 1 || v < cc_sendme_inc - 1) return -1;
    if (sendme_inc) *sendme_inc = (uint8_t)v;
    return 1;
}

/* ============================================================ XON / XOFF bodies (4.1) */

int om_xoff_encode(uint8_t *out, size_t outsz)
{
    if (!out || outsz < OM_XOFF_BODY_LEN) return -1;
    out[0] = OM_FLOW_VERSION;
    return OM_XOFF_BODY_LEN;
}

int om_xoff_parse(const uint8_t *body, size_t len)
{
    if (!body || len < OM_XOFF_BODY_LEN || body[0] != OM_FLOW_VERSION) return -1;
    return 0;
}

int om_xon_encode(uint32_t kbps_ewma, uint8_t *out, size_t outsz)
{
    if (!out || outsz < OM_XON_BODY_LEN) return -1;
    out[0] = OM_FLOW_VERSION;
    out[1] = (uint8_t)(kbps_ewma >> 24);
    out[2] = (uint8_t)(kbps_ewma >> 16);
    out[3] = (uint8_t)(kbps_ewma >> 8);
    out[4] = (uint8_t)kbps_ewma;
    return OM_XON_BODY_LEN;
}

int om_xon_parse(const uint8_t *body, size_t len, uint32_t *kbps_ewma)
{
    if (!body || len < OM_XON_BODY_LEN || body[0] != OM_FLOW_VERSION) return -1;
    if (kbps_ewma)
        *kbps_ewma =
            (uint32_t)body[1] << 24 | (uint32_t)body[2] << 16 | (uint32_t)body[3] << 8 | body[4];
    return 0;
}

/* ============================================== flow control, receiving side (4.1.1-2) */

void om_flow_recv_init(om_flow_recv_t *fs, const om_cc_params_t *params, bool exit_side)
{
    om_cc_params_t def;
    params = params_or_default(params, &def);
    memset(fs, 0, sizeof *fs);
    fs->xoff_limit =
        (uint64_t)(exit_side ? params->xoff_exit : params->xoff_client) * OM_FLOW_XOFF_UNIT;
    fs->xon_rate_bytes = (uint64_t)params->xon_rate * OM_FLOW_XON_UNIT;
    fs->xon_change_pct = (uint32_t)params->xon_change_pct;
    fs->xon_ewma_cnt = (uint32_t)params->xon_ewma_cnt;
}

/* The drain rate over the current period, kB/s (1000 bytes per second); 0 if not measurable.
 * As tor does, the byte count is that of the previous period (the current one on the first). */
static uint32_t drain_rate(const om_flow_recv_t *fs, uint64_t now_usec)
{
    uint64_t delta = now_usec - fs->drain_start;
    if (delta == 0) return 0;
    uint64_t bytes = fs->prev_drained_bytes;
    if (bytes > INT32_MAX / 1000 || bytes / delta > INT32_MAX / 1000) return INT32_MAX;
    uint64_t r = bytes * 1000 / delta; /* bytes/usec * 1e6 / 1000 */
    return r ? (uint32_t)r : 1;
}

static bool rate_changed(const om_flow_recv_t *fs)
{
    if (!fs->ewma_rate_last_sent) return false;
    uint64_t last = fs->ewma_rate_last_sent, now = fs->ewma_drain_rate;
    return now > (100 + (uint64_t)fs->xon_change_pct) * last / 100 ||
           now < (100 - (uint64_t)fs->xon_change_pct) * last / 100;
}

static om_flow_action_t send_xon(om_flow_recv_t *fs, uint32_t *xon_kbps)
{
    fs->ewma_rate_last_sent = fs->ewma_drain_rate;
    fs->xoff_sent = false;
    fs->n_xon_sent++;
    if (xon_kbps) *xon_kbps = fs->ewma_drain_rate;
    return OM_FLOW_SEND_XON;
}

static om_flow_action_t decide_xon(om_flow_recv_t *fs, size_t n_written, size_t buffered,
                                   uint64_t now_usec, uint32_t *xon_kbps)
{
    /* A clock that went backwards is not trusted for this sample (tor: monotime unreliable). */
    bool clock_ok = now_usec >= fs->last_now;
    if (clock_ok) fs->last_now = now_usec;
    uint32_t nw = n_written > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)n_written;

    if (!clock_ok) {
        fs->draining = false;
        fs->drained_bytes = 0;
    } else if (!fs->draining && buffered > 0) {
        /* Data is accumulating: start timing the drain. */
        fs->draining = true;
        fs->drain_start = now_usec;
        fs->drained_bytes = 0;
    }

    /* Only bytes written while a drain period runs count towards its rate (as tor): bytes that
     * passed through an empty buffer say nothing about how fast the edge drains. */
    if (fs->draining) {
        if (fs->drained_bytes >= UINT32_MAX - nw) {
            /* Keep the count in range: halve it and move the start halfway to now. */
            fs->drained_bytes /= 2;
            fs->drain_start = now_usec - (now_usec - fs->drain_start) / 2;
        }
        fs->drained_bytes += nw;
    }

    if (fs->draining && fs->drained_bytes >= fs->xon_rate_bytes) {
        if (fs->prev_drained_bytes == 0) fs->prev_drained_bytes = fs->drained_bytes;
        uint32_t rate = drain_rate(fs, now_usec);
        fs->prev_drained_bytes = fs->drained_bytes;
        if (rate) {
            fs->ewma_drain_rate =
                (uint32_t)n_count_ewma(rate, fs->ewma_drain_rate, fs->xon_ewma_cnt);
            /* A new sample at most every cc_xon_rate cells' worth of bytes. */
            fs->drained_bytes = 0;
            fs->draining = false;
        }
    }

    om_flow_action_t act = OM_FLOW_NONE;
    if (!fs->xoff_sent) {
        if (clock_ok && rate_changed(fs))
            act = send_xon(fs, xon_kbps); /* advisory: the rate moved */
    } else if (buffered == 0) {
        act = send_xon(fs, xon_kbps); /* drained after an XOFF */
    }

    if (buffered == 0) {
        fs->draining = false;
        /* Empty for cc_xon_rate cells' worth of writes: the edge is faster than we measured. */
        if (fs->drained_bytes >= fs->xon_rate_bytes && fs->ewma_rate_last_sent) {
            uint64_t doubled = 2 * (uint64_t)fs->ewma_drain_rate;
            fs->ewma_drain_rate = doubled > INT32_MAX ? INT32_MAX : (uint32_t)doubled;
            fs->prev_drained_bytes = fs->drained_bytes;
            fs->drained_bytes = 0;
        }
    }
    return act;
}

om_flow_action_t om_flow_note_buffered(om_flow_recv_t *fs, size_t buffered, uint64_t now_usec,
                                       uint32_t *xon_kbps)
{
    om_flow_action_t act = OM_FLOW_NONE;
    if (buffered > fs->xoff_limit) {
        if (!fs->xoff_sent) {
            if (!fs->grace_armed) {
                /* tor 0.4.9: give the edge 5 ms to flush before declaring it stuck. */
                fs->grace_armed = true;
                fs->grace_start = now_usec;
            } else if (now_usec > fs->grace_start &&
                       now_usec - fs->grace_start > OM_FLOW_XOFF_GRACE_USEC) {
                fs->grace_armed = false;
                fs->xoff_sent = true;
                fs->n_xoff_sent++;
                fs->ewma_drain_rate = 0; /* a rate that led to XOFF is wrong; measure afresh */
                act = OM_FLOW_SEND_XOFF;
            }
        }
    } else {
        fs->grace_armed = false;
    }
    /* Past a burst, writes only happen when the edge unblocks: look at the rate now too. */
    if (buffered > OM_FLOW_BURST_BYTES) {
        om_flow_action_t a2 = decide_xon(fs, 0, buffered, now_usec, xon_kbps);
        if (act == OM_FLOW_NONE) act = a2;
    }
    return act;
}

om_flow_action_t om_flow_note_drained(om_flow_recv_t *fs, size_t n_written, size_t buffered,
                                      uint64_t now_usec, uint32_t *xon_kbps)
{
    return decide_xon(fs, n_written, buffered, now_usec, xon_kbps);
}

/* =============================================== flow control, sending side (4.1.4) */

#define FLOW_COUNT_SCALE_AT 200                 /* XON / XOFF counts halved here */
#define FLOW_XMIT_SCALE_AT  (10u * 1024 * 1024) /* and at this many bytes sent */

void om_flow_send_init(om_flow_send_t *fs, const om_cc_params_t *params, bool onion)
{
    om_cc_params_t def;
    params = params_or_default(params, &def);
    memset(fs, 0, sizeof *fs);
    fs->xoff_limit =
        (uint64_t)(onion ? params->xoff_client : params->xoff_exit) * OM_FLOW_XOFF_UNIT;
    fs->xon_limit = min_u64(fs->xoff_limit, (uint64_t)params->xon_rate * OM_FLOW_XON_UNIT);
}

static void flow_scale_down(om_flow_send_t *fs)
{
    fs->total_bytes_xmit /= 2;
    fs->num_xoff_recv /= 2;
    fs->num_xon_recv /= 2;
}

void om_flow_send_note_sent(om_flow_send_t *fs, size_t len)
{
    if (len > FLOW_XMIT_SCALE_AT / 2) len = FLOW_XMIT_SCALE_AT / 2;
    if (fs->total_bytes_xmit >= FLOW_XMIT_SCALE_AT - len) flow_scale_down(fs);
    fs->total_bytes_xmit += (uint32_t)len;
}

om_flow_msg_t om_flow_on_xoff(om_flow_send_t *fs, const uint8_t *body, size_t len)
{
    if (om_xoff_parse(body, len) < 0) return OM_FLOW_MSG_MALFORMED;
    if (fs->xoff_received) return OM_FLOW_MSG_SUSPICIOUS;
    if (fs->num_xoff_recv == FLOW_COUNT_SCALE_AT) flow_scale_down(fs);
    fs->num_xoff_recv++;
    fs->xoff_received = true;
    /* An XOFF needs at least an XOFF limit's worth of our data behind it (dropmark defence). */
    if ((uint64_t)fs->total_bytes_xmit < fs->xoff_limit * fs->num_xoff_recv)
        return OM_FLOW_MSG_SUSPICIOUS;
    return OM_FLOW_MSG_OK;
}

om_flow_msg_t om_flow_on_xon(om_flow_send_t *fs, const uint8_t *body, size_t len)
{
    uint32_t kbps;
    if (om_xon_parse(body, len, &kbps) < 0) return OM_FLOW_MSG_MALFORMED;
    if (fs->num_xon_recv == FLOW_COUNT_SCALE_AT) flow_scale_down(fs);
    fs->num_xon_recv++;
    fs->rate_kbps = kbps;
    fs->xoff_received = false;
    if ((uint64_t)fs->total_bytes_xmit < fs->xon_limit * fs->num_xon_recv)
        return OM_FLOW_MSG_SUSPICIOUS;
    return OM_FLOW_MSG_OK;
}

uint64_t om_flow_rate_bytes_per_sec(const om_flow_send_t *fs)
{
    uint64_t r = (uint64_t)fs->rate_kbps * 1000;
    return r > INT32_MAX ? 0 : r;
}
