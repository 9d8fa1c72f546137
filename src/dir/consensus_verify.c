/* consensus_verify.c — consensus signature verification, dir-spec 3.4.1 "directory-signature"
 * and the client rule that more than half of the trusted authorities must have signed (see
 * consensus.h). Signatures are PKCS#1 v1.5 without DigestInfo over the SHA-1 or SHA-256 digest
 * of the signed portion (om_rsa_verify_raw). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/crypto.h"
#include "dir/consensus.h"
#include "dir/netdoc.h"
#include "core/log.h"

/* "auth1 7CBA18A8..." or just the hex when the consensus has no dir-source for it. */
static void authority_name(const om_consensus_t *c, const uint8_t id[20], char *buf, size_t n)
{
    char hex[41];
    om_hex_encode(id, 20, hex);
    for (size_t i = 0; i < c->n_dir_sources; i++)
        if (!memcmp(c->dir_sources[i].identity, id, 20)) {
            snprintf(buf, n, "%s %s", c->dir_sources[i].nickname, hex);
            return;
        }
    snprintf(buf, n, "%s", hex);
}

static const om_authcert_t *find_cert(om_authcert_t *const *certs, size_t n_certs,
                                      const om_consensus_sig_t *s)
{
    for (size_t i = 0; i < n_certs; i++)
        if (certs[i] && !memcmp(certs[i]->v3ident, s->identity, 20) &&
            !memcmp(certs[i]->signing_digest, s->signing_key_digest, 20))
            return certs[i];
    return NULL;
}

enum verdict { V_NO_SIG, V_NO_CERT, V_CERT_EXPIRED, V_BAD_SIG, V_GOOD };

int om_consensus_verify(const om_consensus_t *c, om_authcert_t *const *certs, size_t n_certs,
                        const uint8_t (*trusted)[20], size_t n_trusted, time_t now, long skew,
                        char *err, size_t errlen)
{
    char t1[32], t2[32];
    if (!c || !trusted || n_trusted == 0)
        return om_errf(err, errlen, "consensus: no trusted authorities");
    if (skew < 0) skew = 0;
    if (now < c->valid_after && c->valid_after - now > skew) {
        om_netdoc_format_time(c->valid_after, t1, sizeof t1);
        om_netdoc_format_time(now, t2, sizeof t2);
        return om_errf(err, errlen, "consensus: not valid until %s (now %s, allowed skew %lds)", t1,
                       t2, skew);
    }
    if (now > c->valid_until && now - c->valid_until > skew) {
        om_netdoc_format_time(c->valid_until, t1, sizeof t1);
        om_netdoc_format_time(now, t2, sizeof t2);
        return om_errf(err, errlen, "consensus: expired at %s (now %s, allowed skew %lds)", t1, t2,
                       skew);
    }

    size_t n_unique = 0, good = 0;
    char problems[768];
    size_t plen = 0;
    problems[0] = '\0';
    for (size_t t = 0; t < n_trusted; t++) {
        bool dup = false;
        for (size_t u = 0; u < t; u++)
            if (!memcmp(trusted[u], trusted[t], 20)) dup = true;
        if (dup) continue; /* a trusted identity listed twice counts once */
        n_unique++;
        enum verdict v = V_NO_SIG;
        for (size_t i = 0; i < c->n_sigs && v != V_GOOD; i++) {
            const om_consensus_sig_t *s = &c->sigs[i];
            if (memcmp(s->identity, trusted[t], 20)) continue;
            const om_authcert_t *cert = find_cert(certs, n_certs, s);
            if (!cert) {
                if (v < V_NO_CERT) v = V_NO_CERT;
                continue;
            }
            if (om_authcert_check_time(cert, now, skew, NULL, 0) < 0) {
                if (v < V_CERT_EXPIRED) v = V_CERT_EXPIRED;
                continue;
            }
            const uint8_t *d =
                s->alg == OM_SIG_SHA256 ? c->signed_digest_sha256 : c->signed_digest_sha1;
            size_t dl = s->alg == OM_SIG_SHA256 ? 32 : 20;
            if (om_rsa_verify_raw(cert->signing_key, s->sig, s->siglen, d, dl) == 0)
                v = V_GOOD;
            else
                v = V_BAD_SIG;
        }
        if (v == V_GOOD) {
            good++;
            continue;
        }
        char name[64];
        authority_name(c, trusted[t], name, sizeof name);
        const char *why = v == V_BAD_SIG        ? "forged or bad signature by"
                          : v == V_NO_CERT      ? "no certificate for the signing key of"
                          : v == V_CERT_EXPIRED ? "expired certificate of"
                                                : "no signature from";
        if (plen < sizeof problems) {
            int w = snprintf(problems + plen, sizeof problems - plen, "%s%s %s", plen ? "; " : "",
                             why, name);
            if (w > 0) plen += (size_t)w;
        }
    }
    size_t need = n_unique / 2 + 1;
    if (good >= need) return 0;
    return om_errf(err, errlen,
                   "consensus: only %zu of %zu trusted authorities signed validly, need %zu (%s)",
                   good, n_unique, need, problems);
}
