/* congestion.h — RTT-based congestion control and stream flow control (proposal 324; tor-spec
 * "Congestion control" / "Flow control"), as tor 0.4.9 runs it: TOR_VEGAS with RFC 3742 limited
 * slow start and the cwnd/RTT BDP estimator, negotiated with the ntor-v3 extensions (request
 * type 1, response type 2 carrying sendme_inc), and XON/XOFF stream flow control. Pure state
 * machines: no I/O, no allocation, the caller passes monotonic time in microseconds (om_now_usec).
 * How circuit.c drives them: doc/congestion-control.md. */
#ifndef OM_CORE_CONGESTION_H
#define OM_CORE_CONGESTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ consensus parameters */

#define OM_CC_ALG_FIXED 0 /* the old fixed windows (circwindow / 100-cell SENDMEs) */
#define OM_CC_ALG_VEGAS 2

/* Every cc_* consensus parameter tor 0.4.9 reads (prop 324 6.5, param-spec), with tor 0.4.9's
 * defaults and ranges (om_cc_params_default). Units: cells unless said otherwise. */
typedef struct {
    int32_t alg;                /* cc_alg: 2 (Vegas); 0 disables; other values -> 2 */
    int32_t sendme_inc;         /* cc_sendme_inc: 31 [1, 254] cells acked per SENDME */
    int32_t cwnd_init;          /* cc_cwnd_init: 124 [31, 10000] */
    int32_t cwnd_min;           /* cc_cwnd_min: 124 [31, 1000] */
    int32_t cwnd_max;           /* cc_cwnd_max: INT32_MAX [500, INT32_MAX] */
    int32_t cwnd_inc;           /* cc_cwnd_inc: 1 [1, 1000] steady-state step */
    int32_t cwnd_inc_pct_ss;    /* cc_cwnd_inc_pct_ss: 100 [1, 500] % of sendme_inc per ack */
    int32_t cwnd_inc_rate;      /* cc_cwnd_inc_rate: 31 [1, 250] */
    int32_t cwnd_full_gap;      /* cc_cwnd_full_gap: 4 [0, 32767] sendme_incs */
    int32_t cwnd_full_minpct;   /* cc_cwnd_full_minpct: 25 [0, 100] */
    int32_t cwnd_full_per_cwnd; /* cc_cwnd_full_per_cwnd: 1 [0, 1] */
    int32_t bwe_min;            /* cc_bwe_min: 5 [2, 20] (read by tor, unused by Vegas) */
    int32_t ewma_cwnd_pct;      /* cc_ewma_cwnd_pct: 50 [1, 255] */
    int32_t ewma_max;           /* cc_ewma_max: 10 [2, INT32_MAX] */
    int32_t ewma_ss;            /* cc_ewma_ss: 2 [2, INT32_MAX] */
    int32_t rtt_reset_pct;      /* cc_rtt_reset_pct: 100 [0, 100] */
    int32_t ss_max;             /* cc_ss_max: 5000 [500, INT32_MAX] */
    int32_t vegas_alpha_exit;   /* cc_vegas_alpha_exit: 186 [0, 1000] */
    int32_t vegas_beta_exit;    /* cc_vegas_beta_exit: 248 [0, 1000] */
    int32_t vegas_gamma_exit;   /* cc_vegas_gamma_exit: 186 [0, 1000] */
    int32_t vegas_delta_exit;   /* cc_vegas_delta_exit: 310 [0, INT32_MAX] */
    int32_t sscap_exit;         /* cc_sscap_exit: 600 [100, INT32_MAX] */
    int32_t vegas_alpha_onion;  /* cc_vegas_alpha_onion: 186 */
    int32_t vegas_beta_onion;   /* cc_vegas_beta_onion: 372 */
    int32_t vegas_gamma_onion;  /* cc_vegas_gamma_onion: 248 */
    int32_t vegas_delta_onion;  /* cc_vegas_delta_onion: 434 */
    int32_t sscap_onion;        /* cc_sscap_onion: 475 */
    int32_t xoff_client;        /* cc_xoff_client: 500 [1, 10000] x OM_FLOW_XOFF_UNIT bytes */
    int32_t xoff_exit;          /* cc_xoff_exit: 500 [1, 10000] x OM_FLOW_XOFF_UNIT bytes */
    int32_t xon_rate;           /* cc_xon_rate: 500 [1, 5000] x OM_FLOW_XON_UNIT bytes */
    int32_t xon_change_pct;     /* cc_xon_change_pct: 25 [1, 99] */
    int32_t xon_ewma_cnt;       /* cc_xon_ewma_cnt: 2 [2, 100] */
} om_cc_params_t;

void om_cc_params_default(om_cc_params_t *p);
/* A consensus lookup with tor's networkstatus_get_param contract: the named parameter's value
 * clamped to [min, max], or def if absent. om_consensus_param (src/dir/consensus.h) fits with a
 * one-line adapter (arg = the consensus). */
typedef int32_t (*om_cc_param_lookup_fn)(void *arg, const char *name, int32_t def, int32_t min,
                                         int32_t max);
/* Defaults, then every cc_* parameter from lookup (which may be NULL: defaults only). */
void om_cc_params_load(om_cc_params_t *p, om_cc_param_lookup_fn lookup, void *arg);
/* Override one parameter by its consensus name ("cc_cwnd_min"), clamped to its range as tor
 * does. -1 if the name is not a cc_* parameter. */
int om_cc_params_set(om_cc_params_t *p, const char *name, int32_t value);
/* Whether clients should negotiate congestion control at all (cc_alg != 0; prop 324 10.1). */
bool om_cc_params_enabled(const om_cc_params_t *p);

/* --------------------------------------------------------- sender (the hop CC runs with) */

/* Vegas thresholds by path type (prop 324 6.5.3): exit circuits and onion-service circuits. */
typedef enum { OM_CC_PATH_EXIT = 0, OM_CC_PATH_ONION = 1 } om_cc_path_t;

/* SENDME-triggering cells whose SENDME is still outstanding, at most. Bounds the effective
 * window at OM_CC_MAX_PENDING * sendme_inc cells (7936 for 31; cc_ss_max is 5000). A caller
 * keeping the proposal-289 SENDME digests must have room for this many. */
#define OM_CC_MAX_PENDING 256

typedef struct {
    /* negotiated / consensus values, fixed at init */
    uint32_t sendme_inc;
    uint64_t cwnd_min, cwnd_max, cwnd_inc, cwnd_inc_pct_ss, cwnd_inc_rate;
    uint64_t full_gap, full_minpct;
    bool full_per_cwnd;
    uint64_t ewma_cwnd_pct, ewma_max, ewma_ss, rtt_reset_pct;
    uint64_t alpha, beta, gamma, delta, ss_cap, ss_max;
    /* congestion state */
    uint64_t cwnd;     /* congestion window, cells */
    uint64_t inflight; /* DATA cells sent and not yet acked by a SENDME */
    uint64_t bdp;      /* cwnd * min_rtt / ewma_rtt: Vegas' BDP estimate, cells */
    uint64_t min_rtt_usec, ewma_rtt_usec, max_rtt_usec, last_rtt_usec;
    uint64_t next_cc_event;   /* SENDMEs until the next steady-state cwnd update */
    uint64_t next_cwnd_event; /* SENDMEs until the next "once per cwnd" reset */
    bool in_slow_start;
    bool cwnd_full;     /* the window was (nearly) used up since the last reset */
    bool chan_blocked;  /* input: the link towards the first hop is not taking cells */
    bool blocked_seen;  /* chan_blocked as seen at the last SENDME */
    bool clock_stalled; /* a zero RTT was seen and no sane RTT since (prop 324 2.1.1) */
    /* FIFO of send times of SENDME-triggering cells */
    uint64_t pending[OM_CC_MAX_PENDING];
    uint32_t pending_head, pending_n;
    /* counters, for logs */
    uint64_t n_sendmes, n_rtt_resets, n_clock_stalls;
} om_cc_t;

/* Exit-path thresholds. params NULL: defaults. sendme_inc: the negotiated value (from the
 * exit's CC response); 0 is refused (-1). The window starts at cc_cwnd_init, kept within
 * [cc_cwnd_min, cc_cwnd_max] (as it is after every SENDME). */
int om_cc_init(om_cc_t *cc, const om_cc_params_t *params, uint8_t sendme_inc);
int om_cc_init_path(om_cc_t *cc, const om_cc_params_t *params, uint8_t sendme_inc,
                    om_cc_path_t path);
/* May one more DATA cell be sent? inflight < cwnd (and the timestamp FIFO has room). This
 * replaces the fixed circuit package window (prop 324 3: cells cease when cwnd - inflight <= 0). */
bool om_cc_can_send(const om_cc_t *cc);
/* cwnd - inflight, 0 if negative (what tor reports as the package window). */
uint64_t om_cc_package_window(const om_cc_t *cc);
/* True iff the next DATA cell sent will be the one whose receipt makes the other end send a
 * SENDME (so its digest must be kept for the authenticated SENDME, proposal 289). */
bool om_cc_next_cell_triggers_sendme(const om_cc_t *cc);
/* Account one DATA cell just sent at now_usec. Returns 1 if it triggers a SENDME (its time was
 * queued for the RTT), 0 if not, -1 if the FIFO is full (the caller ignored om_cc_can_send). */
int om_cc_note_data_sent(om_cc_t *cc, uint64_t now_usec);
/* A circuit SENDME (already authenticated by the caller) arrived at now_usec: RTT from the
 * oldest queued send time, inflight -= sendme_inc, then the Vegas update. -1, with no state
 * change, if no send time is queued: a SENDME we did not ask for (protocol violation). */
int om_cc_note_sendme_received(om_cc_t *cc, uint64_t now_usec);
/* Optional congestion signal (prop 324 3.3): the channel to the first hop has more queued than
 * it should. Read at the next SENDME; a change forces a cwnd update then. */
void om_cc_set_chan_blocked(om_cc_t *cc, bool blocked);

static inline uint64_t om_cc_cwnd(const om_cc_t *cc)
{
    return cc->cwnd;
}
static inline uint64_t om_cc_inflight(const om_cc_t *cc)
{
    return cc->inflight;
}
static inline bool om_cc_in_slow_start(const om_cc_t *cc)
{
    return cc->in_slow_start;
}
static inline uint64_t om_cc_min_rtt_usec(const om_cc_t *cc)
{
    return cc->min_rtt_usec;
}
static inline uint64_t om_cc_ewma_rtt_usec(const om_cc_t *cc)
{
    return cc->ewma_rtt_usec;
}
/* "SS=1 CWND=124 INFL=31 RTT=80 MIN_RTT=75 BDP=116" (RTTs in ms, like tor's CIRC_BW event). */
void om_cc_format(const om_cc_t *cc, char *buf, size_t len);

/* ------------------------------------------------------------------ delivery side */

/* With CC the receiving end sends one circuit SENDME per sendme_inc DATA cells (instead of one
 * per 100): true iff the data_cells_received-th DATA cell (counting from 1 on this hop) is one
 * that must be answered with a SENDME right away. Equivalent to tor's deliver window starting at
 * 1000 and a SENDME whenever it falls to 1000 - sendme_inc. */
static inline bool om_cc_recv_should_sendme(uint64_t data_cells_received, uint32_t sendme_inc)
{
    return sendme_inc && data_cells_received && data_cells_received % sendme_inc == 0;
}

/* -------------------------------------------------- ntor-v3 negotiation (prop 324 10.3) */

/* The whole extension list a client puts in its ntor-v3 message to ask for CC:
 * N=1, {type 1, len 0} = 01 01 00. *len in: capacity, out: used (3). */
int om_cc_ext_request_encode(uint8_t *out, size_t *len);
/* The exit's decrypted ntor-v3 reply message. cc_sendme_inc: our consensus's value. Returns 1
 * with *sendme_inc set when the first type-2 extension carries a sendme_inc within +/- 1 of
 * cc_sendme_inc (tor 0.4.9, bug 40569; 0 is never valid); 0 if the list has no type-2
 * extension (the exit declined: use fixed windows); -1 (close the circuit) on a malformed list,
 * an empty type-2 body or an out-of-range value. Later duplicates and unknown types are ignored
 * (prop 324 10.3). A reply with type 2 to a handshake that did not request CC must be rejected
 * by the caller (10.5). */
int om_cc_ext_response_parse(const uint8_t *msg, size_t len, int32_t cc_sendme_inc,
                             uint8_t *sendme_inc);
/* Relay side, for completeness: 1 if a client's list asks for CC, 0 if not, -1 if malformed. */
int om_cc_ext_request_parse(const uint8_t *msg, size_t len);
/* The exit's reply list: N=1, {type 2, len 1, sendme_inc} (02 is the type). */
int om_cc_ext_response_encode(uint8_t sendme_inc, uint8_t *out, size_t *len);

/* ------------------------------------------------- stream flow control (prop 324 4) */

#define OM_FLOW_VERSION  0
#define OM_XOFF_BODY_LEN 1 /* version */
#define OM_XON_BODY_LEN  5 /* version, kbps_ewma (u32, 1000 bytes/s units; 0 = unlimited) */
/* tor 0.4.9 counts cc_xoff_* in 488-byte units and cc_xon_rate in 498-byte units (the smallest
 * and largest relay message payloads it knows). */
#define OM_FLOW_XOFF_UNIT 488
#define OM_FLOW_XON_UNIT  498
/* tor 0.4.9 waits this long with the buffer over the XOFF limit before sending XOFF. */
#define OM_FLOW_XOFF_GRACE_USEC 5000
/* Bytes past which a growing buffer is treated as not draining (32 cells of tor's). */
#define OM_FLOW_BURST_BYTES (32 * OM_FLOW_XOFF_UNIT)

/* Encoders return the body length or -1 if out is too small. Parsers: 0, or -1 on a short body
 * or a version other than 0 (a protocol violation, prop 324 4.1). Bytes after the fields are
 * ignored, as tor's trunnel parsers do. */
int om_xoff_encode(uint8_t *out, size_t outsz);
int om_xoff_parse(const uint8_t *body, size_t len);
int om_xon_encode(uint32_t kbps_ewma, uint8_t *out, size_t outsz);
int om_xon_parse(const uint8_t *body, size_t len, uint32_t *kbps_ewma);

typedef enum { OM_FLOW_NONE = 0, OM_FLOW_SEND_XOFF, OM_FLOW_SEND_XON } om_flow_action_t;

/* Receiving side of one stream: data that came off the circuit and waits in our buffer towards
 * the edge (the SOCKS application for a client). The functions return what to send; when they
 * return OM_FLOW_SEND_XOFF / _XON the caller must send it (XON with *xon_kbps) at once — the
 * state already assumes it went out. */
typedef struct {
    uint64_t xoff_limit;     /* bytes */
    uint64_t xon_rate_bytes; /* bytes between drain-rate samples */
    uint32_t xon_change_pct, xon_ewma_cnt;
    bool xoff_sent;
    bool grace_armed; /* over the limit since grace_start */
    uint64_t grace_start;
    bool draining; /* measuring a drain period since drain_start */
    uint64_t drain_start;
    uint32_t drained_bytes, prev_drained_bytes;
    uint32_t ewma_drain_rate;     /* kB/s */
    uint32_t ewma_rate_last_sent; /* kB/s in our last XON; 0 if none */
    uint64_t last_now;
    uint64_t n_xoff_sent, n_xon_sent;
} om_flow_recv_t;

/* exit_side: the buffer feeds an exit's TCP connection (cc_xoff_exit) rather than a local
 * application (cc_xoff_client). params NULL: defaults. */
void om_flow_recv_init(om_flow_recv_t *fs, const om_cc_params_t *params, bool exit_side);
/* After a DATA cell's bytes were appended: buffered = bytes now waiting. XOFF once the buffer has
 * stayed above the limit for OM_FLOW_XOFF_GRACE_USEC; or an advisory XON if the drain rate moved
 * by more than cc_xon_change_pct. */
om_flow_action_t om_flow_note_buffered(om_flow_recv_t *fs, size_t buffered, uint64_t now_usec,
                                       uint32_t *xon_kbps);
/* After n_written bytes were written to the edge: buffered = bytes still waiting. XON once the
 * buffer is empty after an XOFF (with the measured drain rate), or an advisory XON. */
om_flow_action_t om_flow_note_drained(om_flow_recv_t *fs, size_t n_written, size_t buffered,
                                      uint64_t now_usec, uint32_t *xon_kbps);

/* Sending side of one stream: what the other end told us. */
typedef enum {
    OM_FLOW_MSG_OK = 0,
    OM_FLOW_MSG_SUSPICIOUS = 1,
    OM_FLOW_MSG_MALFORMED = -1
} om_flow_msg_t;
typedef struct {
    bool xoff_received;             /* stop reading from the edge */
    uint32_t rate_kbps;             /* last XON's advisory rate; 0 = unlimited */
    uint64_t xoff_limit, xon_limit; /* bytes: the other end's thresholds, for sanity checks */
    uint32_t total_bytes_xmit, num_xoff_recv, num_xon_recv;
} om_flow_send_t;
/* onion: the stream runs to an onion service (its XOFF limit is cc_xoff_client); else an exit. */
void om_flow_send_init(om_flow_send_t *fs, const om_cc_params_t *params, bool onion);
/* len bytes of stream data were packaged into DATA cells. */
void om_flow_send_note_sent(om_flow_send_t *fs, size_t len);
/* A RELAY_XOFF / RELAY_XON for this stream. MALFORMED: bad body (close the circuit, prop 324 4.1).
 * SUSPICIOUS: well-formed but more XOFF/XON than the bytes we sent can explain, or a second XOFF
 * (prop 324 4.1.4 dropmark limits; tor logs and goes on, and so may the caller). A duplicate XOFF
 * changes nothing; otherwise XOFF stops and XON resumes reading, and XON records its rate. */
om_flow_msg_t om_flow_on_xoff(om_flow_send_t *fs, const uint8_t *body, size_t len);
om_flow_msg_t om_flow_on_xon(om_flow_send_t *fs, const uint8_t *body, size_t len);
static inline bool om_flow_may_read(const om_flow_send_t *fs)
{
    return !fs->xoff_received;
}
/* The XON's advisory rate in bytes per second, 0 if unlimited (the caller may ignore it). */
uint64_t om_flow_rate_bytes_per_sec(const om_flow_send_t *fs);

#endif
