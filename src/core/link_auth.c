/* link_auth.c — AUTHENTICATE cells of auth method 3, Ed25519-SHA256-RFC5705 (tor-spec 4.4.2):
 * the body an authenticating initiator signs, its bounds-checked parser, and the responder's
 * check that recomputes every field for its own view of the link and verifies SIG with the
 * authentication key of the initiator's type 6 certificate. */
#include "core/link_auth.h"

#include <stddef.h>
#include <string.h>

#include "core/crypto.h"
#include "core/log.h"

#define AUTH_HDR_LEN 4 /* AuthType(2) AuthLen(2), tor-spec 4.4 */

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* TYPE..RAND in wire order (the part SIG covers when there are no extra bytes). */
static void encode_signed(const om_auth3_t *a, uint8_t out[OM_AUTH3_SIGNED_LEN])
{
    uint8_t *p = out;
    memcpy(p, a->type, 8);
    p += 8;
    const uint8_t *fields[] = {a->cid,  a->sid,  a->cid_ed, a->sid_ed,
                               a->slog, a->clog, a->scert,  a->tlssecrets};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++, p += 32)
        memcpy(p, fields[i], 32);
    memcpy(p, a->rand, OM_AUTH3_RAND_LEN);
}

int om_link_auth_bind_tls(om_auth3_t *a, om_transport_t *t, bool responder, char *err,
                          size_t errlen)
{
    memcpy(a->type, OM_AUTH3_TYPE, 8);
    /* SCERT: the responder's TLS link certificate. */
    int r =
        responder ? t->ops->own_cert_sha256(t, a->scert) : t->ops->peer_cert_sha256(t, a->scert);
    if (r != 0)
        return om_errf(err, errlen, "AUTHENTICATE: no responder TLS certificate on this link");
    /* TLSSECRETS: RFC 5705 exporter, 32 bytes, context CID (what tor does; see link_auth.h). */
    if (!t->ops->export_keying_material ||
        t->ops->export_keying_material(t, a->tlssecrets, 32, OM_AUTH3_EXPORTER_LABEL, a->cid,
                                       sizeof a->cid) != 0)
        return om_errf(err, errlen, "AUTHENTICATE: the transport cannot export keying material");
    return 0;
}

int om_link_auth_sign(om_auth3_t *a, const om_ed25519_keypair_t *auth_key)
{
    uint8_t buf[OM_AUTH3_SIGNED_LEN];
    /* tor-spec 4.4.1: RAND is random; old tors put a timestamp first, new ones must not. */
    if (om_rand_bytes(a->rand, sizeof a->rand) != 0) return -1;
    encode_signed(a, buf);
    return om_ed25519_sign(auth_key, buf, sizeof buf, a->sig);
}

int om_link_auth_encode(const om_auth3_t *a, uint8_t *out, size_t outsz)
{
    if (!a || !out || outsz < AUTH_HDR_LEN + OM_AUTH3_BODY_LEN) return -1;
    put_u16(out, OM_AUTHTYPE_ED25519_SHA256_RFC5705);
    put_u16(out + 2, OM_AUTH3_BODY_LEN);
    encode_signed(a, out + AUTH_HDR_LEN);
    memcpy(out + AUTH_HDR_LEN + OM_AUTH3_SIGNED_LEN, a->sig, 64);
    return AUTH_HDR_LEN + OM_AUTH3_BODY_LEN;
}

int om_link_auth_parse(om_auth3_t *out, const uint8_t *payload, size_t len, char *err,
                       size_t errlen)
{
    if (!out || (!payload && len)) return om_errf(err, errlen, "AUTHENTICATE: nothing to parse");
    memset(out, 0, sizeof *out);
    if (len < AUTH_HDR_LEN)
        return om_errf(err, errlen, "AUTHENTICATE: cell too short (%zu bytes)", len);
    uint16_t type = (uint16_t)(payload[0] << 8 | payload[1]);
    size_t alen = (size_t)(payload[2] << 8 | payload[3]);
    if (alen > len - AUTH_HDR_LEN)
        return om_errf(err, errlen,
                       "AUTHENTICATE: authenticator truncated (AuthLen %zu, %zu bytes)", alen,
                       len - AUTH_HDR_LEN);
    if (type != OM_AUTHTYPE_ED25519_SHA256_RFC5705)
        return om_errf(err, errlen, "AUTHENTICATE: AuthType %u is not Ed25519-SHA256-RFC5705 (3)",
                       type);
    if (alen < OM_AUTH3_BODY_LEN)
        return om_errf(err, errlen, "AUTHENTICATE: authenticator too short (%zu bytes, need %d)",
                       alen, OM_AUTH3_BODY_LEN);
    const uint8_t *p = payload + AUTH_HDR_LEN;
    memcpy(out->type, p, 8);
    p += 8;
    uint8_t *fields[] = {out->cid,  out->sid,  out->cid_ed, out->sid_ed,
                         out->slog, out->clog, out->scert,  out->tlssecrets};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++, p += 32)
        memcpy(fields[i], p, 32);
    memcpy(out->rand, p, OM_AUTH3_RAND_LEN);
    out->signed_part = payload + AUTH_HDR_LEN;
    out->signed_len = alen - 64;
    memcpy(out->sig, payload + AUTH_HDR_LEN + alen - 64, 64);
    return 0;
}

int om_link_auth_verify(const om_auth3_t *got, const om_auth3_t *expected,
                        const uint8_t auth_key[32], char *err, size_t errlen)
{
    if (!got || !expected || !auth_key || !got->signed_part)
        return om_errf(err, errlen, "AUTHENTICATE: nothing to verify");
    /* tor-spec 4.4.2: "a responder checks that all fields from TYPE through TLSSECRETS contain
     * their unique correct values ... and then verifies the signature". */
    if (!om_mem_eq_ct(got->type, expected->type, 8))
        return om_errf(err, errlen, "AUTHENTICATE: TYPE is not \"%s\"", OM_AUTH3_TYPE);
    static const struct {
        size_t off;
        const char *what;
    } checks[] = {
        {offsetof(om_auth3_t, cid), "CID does not match the initiator's RSA identity"},
        {offsetof(om_auth3_t, sid), "SID does not match our RSA identity"},
        {offsetof(om_auth3_t, cid_ed), "CID_ED does not match the initiator's Ed25519 identity"},
        {offsetof(om_auth3_t, sid_ed), "SID_ED does not match our Ed25519 identity"},
        {offsetof(om_auth3_t, slog), "SLOG does not match what the responder sent"},
        {offsetof(om_auth3_t, clog), "CLOG does not match what the initiator sent"},
        {offsetof(om_auth3_t, scert), "SCERT does not match the responder's TLS certificate"},
        {offsetof(om_auth3_t, tlssecrets), "TLSSECRETS does not match this TLS session"},
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        const uint8_t *g = (const uint8_t *)got + checks[i].off;
        const uint8_t *e = (const uint8_t *)expected + checks[i].off;
        if (!om_mem_eq_ct(g, e, 32))
            return om_errf(err, errlen, "AUTHENTICATE: %s", checks[i].what);
    }
    if (om_ed25519_verify(auth_key, got->signed_part, got->signed_len, got->sig) != 0)
        return om_errf(err, errlen,
                       "AUTHENTICATE: Ed25519 signature is not valid under the type 6 "
                       "authentication key");
    return 0;
}

om_var_cell_t *om_link_auth_initiator_cell(om_transport_t *t, const om_identity_t *me,
                                           const om_peer_identity_t *responder,
                                           const uint8_t slog[32], const uint8_t clog[32],
                                           const om_link_auth_test_hooks_t *hooks, char *err,
                                           size_t errlen)
{
    om_auth3_t a;
    uint8_t payload[AUTH_HDR_LEN + OM_AUTH3_BODY_LEN + 64];
    memset(&a, 0, sizeof a);
    if (!t || !me || !me->rsa_id || !responder || !slog || !clog) {
        om_errf(err, errlen, "AUTHENTICATE: missing link state");
        return NULL;
    }
    if (om_rsa_digest256(me->rsa_id, a.cid) != 0) {
        om_errf(err, errlen, "AUTHENTICATE: cannot digest our RSA identity");
        return NULL;
    }
    memcpy(a.sid, responder->rsa_id_sha256, 32);
    memcpy(a.cid_ed, me->ed_id.pub, 32);
    memcpy(a.sid_ed, responder->ed_id, 32);
    memcpy(a.slog, slog, 32);
    memcpy(a.clog, clog, 32);
    if (om_link_auth_bind_tls(&a, t, false, err, errlen) != 0) return NULL;
    if (hooks && hooks->before_sign) hooks->before_sign(&a, hooks->arg);
    if (om_link_auth_sign(&a, &me->ed_auth) != 0) {
        om_errf(err, errlen, "AUTHENTICATE: signing failed");
        return NULL;
    }
    int n = om_link_auth_encode(&a, payload, sizeof payload);
    om_var_cell_t *vc = NULL;
    if (n > 0) {
        size_t len = (size_t)n;
        if (hooks && hooks->after_encode)
            hooks->after_encode(payload, &len, sizeof payload, hooks->arg);
        if (len > sizeof payload) len = sizeof payload;
        vc = om_var_cell_new(OM_CELL_AUTHENTICATE, 0, (uint16_t)len);
        if (vc) memcpy(vc->payload, payload, len);
    }
    om_memwipe(&a, sizeof a);
    if (!vc) om_errf(err, errlen, "AUTHENTICATE: out of memory");
    return vc;
}

int om_link_auth_check(const uint8_t *payload, size_t len, om_transport_t *t,
                       const om_identity_t *me, const om_peer_identity_t *initiator,
                       const uint8_t slog[32], const uint8_t clog[32], char *err, size_t errlen)
{
    om_auth3_t got, want;
    if (!t || !me || !me->rsa_id || !initiator || !slog || !clog)
        return om_errf(err, errlen, "AUTHENTICATE: missing link state");
    if (om_link_auth_parse(&got, payload, len, err, errlen) != 0) return -1;
    /* What an honest initiator on this link must have sent (tor-spec 4.4.2). */
    memset(&want, 0, sizeof want);
    memcpy(want.cid, initiator->rsa_id_sha256, 32);
    if (om_rsa_digest256(me->rsa_id, want.sid) != 0)
        return om_errf(err, errlen, "AUTHENTICATE: cannot digest our RSA identity");
    memcpy(want.cid_ed, initiator->ed_id, 32);
    memcpy(want.sid_ed, me->ed_id.pub, 32);
    memcpy(want.slog, slog, 32);
    memcpy(want.clog, clog, 32);
    if (om_link_auth_bind_tls(&want, t, true, err, errlen) != 0) return -1;
    return om_link_auth_verify(&got, &want, initiator->ed_auth, err, errlen);
}
