/* channel_handshake.c — a Tor link's in-protocol handshake (tor-spec 4.1-4.5) as initiator or
 * responder: VERSIONS, CERTS (verified as tor-spec 4.2 says), AUTH_CHALLENGE, the AUTHENTICATE
 * exchange of an authenticating initiator with the SLOG/CLOG handshake logs (4.4), NETINFO, and
 * the step to OPEN. Cells reach it from channel.c's reader. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "core/channel.h"
#include "core/channel_int.h"
#include "core/crypto.h"
#include "core/log.h"

/* ---------------------------------------------------------------- handshake logs */

/* tor-spec 4.4.2: SLOG and CLOG are SHA-256 digests of the bytes each side sent during the
 * handshake. Both are kept as cells go out and come in, and dropped once used. */
void om_chan_hs_record(om_digest_t *d, const uint8_t *wire, size_t n)
{
    if (d) om_digest_update(d, wire, n);
}

/* The digest so far into out, then drop it. -1 if there is none. */
static int hs_take(om_digest_t **d, uint8_t out[32])
{
    int r = *d ? om_digest_peek(*d, out, 32) : -1;
    om_digest_free(*d);
    *d = NULL;
    return r;
}

void om_chan_hs_drop(om_channel_t *chan)
{
    om_digest_free(chan->hs_sent);
    om_digest_free(chan->hs_received);
    chan->hs_sent = chan->hs_received = NULL;
}

/* ---------------------------------------------------------------- handshake */

int om_chan_send_versions(om_channel_t *chan)
{
    om_var_cell_t *v = om_versions_cell(OM_LINK_PROTO_MIN, OM_LINK_PROTO_MAX);
    if (!v) return -1;
    int r = om_chan_send_var(chan, v);
    om_var_cell_free(v);
    return r;
}

static void peer_addr(om_channel_t *chan, om_addr_t *a)
{
    char host[64];
    snprintf(host, sizeof host, "%s", chan->peer_desc);
    char *colon = strrchr(host, ':');
    if (colon) *colon = 0;
    char *h = host;
    if (*h == '[') {
        h++;
        char *rb = strchr(h, ']');
        if (rb) *rb = 0;
    }
    if (om_addr_from_string(a, h) < 0) memset(a, 0, sizeof *a);
}

static int send_netinfo(om_channel_t *chan)
{
    om_netinfo_t ni;
    memset(&ni, 0, sizeof ni);
    /* tor-spec 4.5: a client need not reveal its clock or addresses; a relay (a responder, or an
     * initiator that authenticates) sends the current time and the address it advertises. */
    bool relay = chan->role == OM_CHAN_RESPONDER || chan->authenticate;
    ni.timestamp = relay ? (uint32_t)time(NULL) : 0;
    peer_addr(chan, &ni.other);
    ni.n_my_addrs = 0;
    if (relay && chan->identity && chan->identity->my_addr.type) {
        ni.my_addrs[0] = chan->identity->my_addr;
        ni.n_my_addrs = 1;
    }
    om_cell_t c = {.circ_id = 0, .command = OM_CELL_NETINFO};
    if (om_netinfo_encode(&ni, c.payload) < 0) return -1;
    return om_chan_send_fixed(chan, &c);
}

static void channel_opened(om_channel_t *chan)
{
    chan->state = OM_CHAN_OPEN;
    chan->timings.open = om_now_usec();
    if (chan->timeout_ev) event_del(chan->timeout_ev);
    om_chan_hs_drop(chan);
    om_info("Link %s %s open (link protocol %d%s)", chan->role == OM_CHAN_INITIATOR ? "to" : "from",
            om_safe_str(chan->peer_desc), chan->link_proto,
            chan->authenticate || chan->peer_authenticated ? ", authenticated relay link" : "");
    if (chan->cb.on_open) chan->cb.on_open(chan, chan->cb.arg);
}

static void handle_versions(om_channel_t *chan, const om_var_cell_t *vc)
{
    om_versions_t v;
    if (om_versions_parse(&v, vc->payload, vc->payload_len) < 0) {
        om_channel_close(chan, "VERSIONS: malformed cell (%u bytes)", vc->payload_len);
        return;
    }
    int proto = om_versions_negotiate(&v, OM_LINK_PROTO_MIN, OM_LINK_PROTO_MAX);
    if (!proto) {
        om_channel_close(chan, "VERSIONS: no link protocol in common (we speak %d-%d)",
                         OM_LINK_PROTO_MIN, OM_LINK_PROTO_MAX);
        return;
    }
    chan->link_proto = proto;
    chan->timings.versions = om_now_usec();
    if (chan->role == OM_CHAN_INITIATOR) {
        chan->state = OM_CHAN_WAIT_CERTS;
        return;
    }
    /* Responder (tor-spec 4): VERSIONS, CERTS, AUTH_CHALLENGE, NETINFO. */
    om_var_cell_t *certs = om_identity_certs_cell(chan->identity);
    om_auth_challenge_t ac;
    memset(&ac, 0, sizeof ac);
    om_rand_bytes(ac.challenge, sizeof ac.challenge);
    ac.n_methods = 1;
    ac.methods[0] = OM_AUTHTYPE_ED25519_SHA256_RFC5705;
    chan->auth_challenge = ac;
    om_var_cell_t *acc = om_auth_challenge_cell(&ac);
    int r = om_chan_send_versions(chan);
    if (r == 0 && certs) r = om_chan_send_var(chan, certs);
    if (r == 0 && acc) r = om_chan_send_var(chan, acc);
    /* SLOG covers what we sent up to and including AUTH_CHALLENGE, not NETINFO (tor-spec
     * 4.4.2; tor stops its digest before NETINFO too). */
    if (r == 0) r = hs_take(&chan->hs_sent, chan->hs_slog);
    if (r == 0) r = send_netinfo(chan);
    om_var_cell_free(certs);
    om_var_cell_free(acc);
    if (r < 0 || !certs || !acc) {
        om_channel_close(chan, "internal error sending our handshake cells");
        return;
    }
    chan->state = OM_CHAN_WAIT_NETINFO;
}

static void hexstr(const uint8_t *b, size_t n, char *out)
{
    om_hex_encode(b, n, out);
}

/* Keep a copy of a CERTS cell's body and parse it into peer_certs_raw. 0, or -1 (closed). */
static int keep_peer_certs(om_channel_t *chan, const om_var_cell_t *vc)
{
    free(chan->peer_certs_buf);
    chan->peer_certs_buf = malloc(vc->payload_len ? vc->payload_len : 1);
    if (!chan->peer_certs_buf) {
        om_channel_close(chan, "out of memory");
        return -1;
    }
    memcpy(chan->peer_certs_buf, vc->payload, vc->payload_len);
    chan->peer_certs_len = vc->payload_len;
    if (om_certs_list_parse(&chan->peer_certs_raw, chan->peer_certs_buf, chan->peer_certs_len) <
        0) {
        om_channel_close(chan, "CERTS: malformed cell");
        return -1;
    }
    return 0;
}

/* Responder: an initiator that authenticates sends CERTS (types 2, 4, 6, 7) and AUTHENTICATE
 * after our AUTH_CHALLENGE (tor-spec 4.4). Its CERTS only claims an identity; AUTHENTICATE
 * proves it. */
static void handle_initiator_certs(om_channel_t *chan, const om_var_cell_t *vc)
{
    if (chan->state != OM_CHAN_WAIT_NETINFO) {
        om_channel_close(chan, "CERTS: unexpected in state %s", om_chan_state_name(chan->state));
        return;
    }
    if (chan->got_initiator_certs) {
        om_channel_close(chan, "CERTS: sent twice");
        return;
    }
    chan->timings.certs = om_now_usec();
    if (keep_peer_certs(chan, vc) < 0) return;
    char err[256] = "";
    if (om_certs_verify_initiator(&chan->peer_certs_raw, time(NULL), &chan->initiator_claim, err,
                                  sizeof err) < 0) {
        om_channel_close(chan, "%s", err[0] ? err : "CERTS: verification failed");
        return;
    }
    chan->got_initiator_certs = true;
    om_debug("Link from %s: initiator's CERTS verified; waiting for AUTHENTICATE",
             om_safe_str(chan->peer_desc));
}

static void handle_authenticate(om_channel_t *chan, const om_var_cell_t *vc)
{
    if (chan->role != OM_CHAN_RESPONDER || chan->state != OM_CHAN_WAIT_NETINFO) {
        om_channel_close(chan, "AUTHENTICATE: unexpected in state %s",
                         om_chan_state_name(chan->state));
        return;
    }
    if (chan->peer_authenticated) {
        om_channel_close(chan, "AUTHENTICATE: sent twice");
        return;
    }
    if (!chan->got_initiator_certs) {
        om_channel_close(chan, "AUTHENTICATE: no CERTS cell came before it");
        return;
    }
    /* CLOG: everything the initiator sent before this cell (the read loop leaves it out). */
    uint8_t clog[32];
    if (hs_take(&chan->hs_received, clog) < 0) {
        om_channel_close(chan, "AUTHENTICATE: internal error (no handshake log)");
        return;
    }
    char err[256] = "";
    if (om_link_auth_check(vc->payload, vc->payload_len, chan->transport, chan->identity,
                           &chan->initiator_claim, chan->hs_slog, clog, err, sizeof err) < 0) {
        om_channel_close(chan, "%s", err[0] ? err : "AUTHENTICATE: verification failed");
        return;
    }
    chan->peer = chan->initiator_claim;
    chan->peer_authenticated = true;
    chan->peer_verified = true;
    char fp[41], ed[64];
    om_hex_encode(chan->peer.rsa_fp, 20, fp);
    om_base64_encode(chan->peer.ed_id, 32, ed, sizeof ed, true);
    om_info("Link from %s: initiator authenticated as relay %s (Ed25519 %s)",
            om_safe_str(chan->peer_desc), fp, ed);
}

static void handle_certs(om_channel_t *chan, const om_var_cell_t *vc)
{
    if (chan->role == OM_CHAN_RESPONDER) {
        handle_initiator_certs(chan, vc);
        return;
    }
    if (chan->state != OM_CHAN_WAIT_CERTS) {
        om_channel_close(chan, "CERTS: unexpected in state %s", om_chan_state_name(chan->state));
        return;
    }
    chan->timings.certs = om_now_usec();
    if (keep_peer_certs(chan, vc) < 0) return;
    uint8_t tls_hash[32];
    char err[256] = "";
    int r;
    if (chan->transport->ops->unbound) { /* WebSocket: no TLS certificate to match */
        r = om_certs_verify_responder_unbound(&chan->peer_certs_raw, time(NULL), &chan->peer, err,
                                              sizeof err);
    } else if (chan->transport->ops->peer_cert_sha256(chan->transport, tls_hash) < 0) {
        om_channel_close(chan, "CERTS: the peer presented no TLS certificate");
        return;
    } else {
        r = om_certs_verify_responder(&chan->peer_certs_raw, tls_hash, time(NULL), &chan->peer, err,
                                      sizeof err);
    }
    if (r < 0) {
        om_channel_close(chan, "%s", err[0] ? err : "CERTS: verification failed");
        return;
    }
    char got[65], want[65];
    if (chan->expect_rsa && !om_mem_eq_ct(chan->expected_rsa_fp, chan->peer.rsa_fp, 20)) {
        hexstr(chan->peer.rsa_fp, 20, got);
        hexstr(chan->expected_rsa_fp, 20, want);
        om_channel_close(chan, "identity mismatch: expected RSA fingerprint %s, relay proved %s",
                         want, got);
        return;
    }
    if (chan->expect_ed && !om_mem_eq_ct(chan->expected_ed_id, chan->peer.ed_id, 32)) {
        char gotb[64], wantb[64];
        om_base64_encode(chan->peer.ed_id, 32, gotb, sizeof gotb, true);
        om_base64_encode(chan->expected_ed_id, 32, wantb, sizeof wantb, true);
        om_channel_close(chan, "identity mismatch: expected Ed25519 identity %s, relay proved %s",
                         wantb, gotb);
        return;
    }
    chan->peer_verified = true;
    chan->state = OM_CHAN_WAIT_AUTH_CHALLENGE;
}

/* Initiator that authenticates, on the responder's AUTH_CHALLENGE (whose CERTS we verified
 * already, as tor-spec 4.4 requires): CERTS, then AUTHENTICATE. */
static void send_authentication(om_channel_t *chan)
{
    if (!om_auth_challenge_has_method(&chan->auth_challenge, OM_AUTHTYPE_ED25519_SHA256_RFC5705)) {
        om_channel_close(chan, "AUTH_CHALLENGE: the responder does not offer "
                               "Ed25519-SHA256-RFC5705 (method 3); cannot authenticate");
        return;
    }
    /* SLOG: what the responder sent through AUTH_CHALLENGE (this cell was the last recorded). */
    uint8_t slog[32], clog[32];
    if (hs_take(&chan->hs_received, slog) < 0) {
        om_channel_close(chan, "AUTHENTICATE: internal error (no handshake log)");
        return;
    }
    om_var_cell_t *certs = om_identity_initiator_certs_cell(chan->identity);
    int r = certs ? om_chan_send_var(chan, certs) : -1;
    om_var_cell_free(certs);
    /* CLOG: what we sent so far, VERSIONS and CERTS. */
    if (r < 0 || hs_take(&chan->hs_sent, clog) < 0) {
        om_channel_close(chan, "internal error sending our CERTS");
        return;
    }
    char err[256] = "";
    om_var_cell_t *auth =
        om_link_auth_initiator_cell(chan->transport, chan->identity, &chan->peer, slog, clog,
                                    chan->auth_test_hooks, err, sizeof err);
    r = auth ? om_chan_send_var(chan, auth) : -1;
    om_var_cell_free(auth);
    if (r < 0) {
        om_channel_close(chan, "%s", err[0] ? err : "internal error sending AUTHENTICATE");
        return;
    }
    om_debug("Link to %s: sent CERTS and AUTHENTICATE (Ed25519-SHA256-RFC5705)",
             om_safe_str(chan->peer_desc));
}

static void handle_auth_challenge(om_channel_t *chan, const om_var_cell_t *vc)
{
    if (chan->role != OM_CHAN_INITIATOR || chan->state != OM_CHAN_WAIT_AUTH_CHALLENGE) {
        om_channel_close(chan, "AUTH_CHALLENGE: unexpected in state %s",
                         om_chan_state_name(chan->state));
        return;
    }
    if (om_auth_challenge_parse(&chan->auth_challenge, vc->payload, vc->payload_len) < 0) {
        om_channel_close(chan, "AUTH_CHALLENGE: malformed cell");
        return;
    }
    chan->timings.auth_challenge = om_now_usec();
    chan->state = OM_CHAN_WAIT_NETINFO;
    if (chan->authenticate) send_authentication(chan);
}

void om_chan_handle_netinfo(om_channel_t *chan, const om_cell_t *c)
{
    if (chan->role == OM_CHAN_INITIATOR && chan->state == OM_CHAN_WAIT_CERTS) {
        om_channel_close(chan, "NETINFO before CERTS: the responder did not authenticate");
        return;
    }
    if (chan->authenticate && chan->state == OM_CHAN_WAIT_AUTH_CHALLENGE) {
        om_channel_close(chan, "NETINFO before AUTH_CHALLENGE: cannot authenticate to the "
                               "responder");
        return;
    }
    if (chan->state != OM_CHAN_WAIT_NETINFO && chan->state != OM_CHAN_WAIT_AUTH_CHALLENGE) {
        om_channel_close(chan, "NETINFO: unexpected in state %s", om_chan_state_name(chan->state));
        return;
    }
    if (om_netinfo_parse(&chan->peer_netinfo, c->payload, OM_CELL_PAYLOAD_LEN) < 0) {
        om_channel_close(chan, "NETINFO: malformed cell");
        return;
    }
    chan->timings.netinfo = om_now_usec();
    if (chan->role == OM_CHAN_RESPONDER && chan->got_initiator_certs && !chan->peer_authenticated)
        om_log_protocol("Link from %s: initiator sent CERTS but no AUTHENTICATE; the link is "
                        "unauthenticated (a client)",
                        om_safe_str(chan->peer_desc));
    if (chan->role == OM_CHAN_INITIATOR && send_netinfo(chan) < 0) {
        om_channel_close(chan, "internal error sending NETINFO");
        return;
    }
    channel_opened(chan);
}

void om_chan_handle_var_cell(om_channel_t *chan, const om_var_cell_t *vc)
{
    if (vc->command == OM_CELL_VPADDING || vc->command == OM_CELL_AUTHORIZE)
        return; /* padding; AUTHORIZE is reserved (tor-spec 4) and ignored */
    if (chan->state == OM_CHAN_WAIT_VERSIONS) {
        if (vc->command != OM_CELL_VERSIONS) {
            om_channel_close(chan, "expected VERSIONS, got %s", om_cell_command_name(vc->command));
            return;
        }
        handle_versions(chan, vc);
        return;
    }
    switch (vc->command) {
    case OM_CELL_CERTS:
        handle_certs(chan, vc);
        return;
    case OM_CELL_AUTH_CHALLENGE:
        handle_auth_challenge(chan, vc);
        return;
    case OM_CELL_AUTHENTICATE:
        handle_authenticate(chan, vc);
        return;
    case OM_CELL_VERSIONS:
        om_channel_close(chan, "VERSIONS: sent twice");
        return;
    default:
        if (chan->state == OM_CHAN_OPEN) {
            om_debug("Link %s: ignoring var cell %s", om_safe_str(chan->peer_desc),
                     om_cell_command_name(vc->command));
            return;
        }
        break;
    }
    om_channel_close(chan, "%s: unexpected in state %s", om_cell_command_name(vc->command),
                     om_chan_state_name(chan->state));
}
