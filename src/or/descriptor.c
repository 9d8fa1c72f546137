/* descriptor.c — builds and signs a relay's server descriptor (dir-spec 2.1.1) the way tor 0.4.9
 * lays it out: router, identity-ed25519, master-key-ed25519, platform, proto, published,
 * fingerprint, uptime, bandwidth, [extra-info-digest], [onion-key], signing-key,
 * [onion-key-crosscert], ntor-onion-key-crosscert, [contact], ntor-onion-key, exit policy,
 * [tunnelled-dir-server], router-sig-ed25519, router-signature (objects and signatures:
 * doc_sign.c). */
#include "or/descriptor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cert.h"
#include "core/crypto.h"
#include "core/log.h"
#include "dir/netdoc.h"
#include "or/doc_sign.h"

/* dir-spec "onion-key-crosscert": the TAP key's PKCS#1 signature (no DigestInfo) over
 * SHA1(RSA identity key) || Ed25519 identity key. */
static int tap_crosscert(const om_relay_keys_t *k, uint8_t *sig, size_t *siglen)
{
    uint8_t data[20 + 32];
    memcpy(data, k->rsa_fp, 20);
    memcpy(data + 20, k->ed_id.pub, 32);
    return om_rsa_sign_raw(k->tap, data, sizeof data, sig, siglen);
}

/* dir-spec "ntor-onion-key-crosscert": an Ed25519 certificate (type 0A) of the Ed25519 identity,
 * signed by the Ed25519 form of the ntor key, and that key's sign bit. relay_keys.c makes the ntor
 * secret the scalar of an Ed25519 seed, so the seed's key is that form. */
static int ntor_crosscert(const om_relay_keys_t *k, time_t expires, uint8_t *out, size_t outsz,
                          int *signbit)
{
    om_ed25519_keypair_t ntor_ed;
    if (om_ed25519_from_seed(&ntor_ed, k->ntor_seed) < 0) return -1;
    *signbit = ntor_ed.pub[31] >> 7;
    int n = om_ed_cert_create(OM_CERTTYPE_NTOR_CROSS, OM_CERT_KEYTYPE_ED25519, k->ed_id.pub,
                              &ntor_ed, false, expires, out, outsz);
    om_memwipe(&ntor_ed, sizeof ntor_ed);
    return n;
}

char *om_relay_descriptor_build(const om_relay_keys_t *k, const om_desc_params_t *p, char *err,
                                size_t errlen)
{
    char *doc = NULL, *id_pem = NULL, *tap_pem = NULL;
    size_t doclen = 0;
    FILE *f = open_memstream(&doc, &doclen);
    if (!f) {
        om_errf(err, errlen, "out of memory");
        return NULL;
    }
    char b64[128], fp[50], when[32];
    om_netdoc_format_time(p->published, when, sizeof when);

    fprintf(f, "router %s %s %u 0 %u\n", p->nickname, p->address, p->or_port, p->dir_port);
    fprintf(f, "identity-ed25519\n");
    if (om_doc_put_block(f, "ED25519 CERT", k->sign_cert, k->sign_cert_len) < 0) goto fail;
    om_doc_b64_nopad(k->ed_id.pub, 32, b64, sizeof b64);
    fprintf(f, "master-key-ed25519 %s\n", b64);
    fprintf(f, "platform %s\n", p->platform);
    fprintf(f, "proto %s\n", p->proto);
    fprintf(f, "published %s\n", when);
    om_relay_fingerprint_spaced(k->rsa_fp, fp);
    fprintf(f, "fingerprint %s\n", fp);
    fprintf(f, "uptime %ld\n", p->uptime);
    fprintf(f, "bandwidth %llu %llu %llu\n", (unsigned long long)p->bw_avg,
            (unsigned long long)p->bw_burst, (unsigned long long)p->bw_observed);
    if (p->extra_info_digest) fprintf(f, "extra-info-digest %s\n", p->extra_info_digest);
    if (p->include_tap) {
        tap_pem = om_rsa_public_pem(k->tap);
        if (!tap_pem) goto fail;
        fprintf(f, "onion-key\n%s", tap_pem);
    }
    id_pem = om_rsa_public_pem(k->rsa_id);
    if (!id_pem) goto fail;
    fprintf(f, "signing-key\n%s", id_pem);
    if (p->include_tap) {
        uint8_t sig[256];
        size_t sl = sizeof sig;
        if (tap_crosscert(k, sig, &sl) < 0) goto fail;
        fprintf(f, "onion-key-crosscert\n");
        if (om_doc_put_block(f, "CROSSCERT", sig, sl) < 0) goto fail;
    }
    uint8_t cc[OM_ED_CERT_MAX_LEN];
    int signbit = 0;
    int days =
        p->onion_key_lifetime_days > 0 ? p->onion_key_lifetime_days : OM_ONION_KEY_ROTATION_DAYS;
    int ccl = ntor_crosscert(k, p->published + (time_t)days * 86400, cc, sizeof cc, &signbit);
    if (ccl < 0) goto fail;
    fprintf(f, "ntor-onion-key-crosscert %d\n", signbit);
    if (om_doc_put_block(f, "ED25519 CERT", cc, (size_t)ccl) < 0) goto fail;
    if (p->contact) fprintf(f, "contact %s\n", p->contact);
    om_doc_b64_nopad(k->ntor.pub, 32, b64, sizeof b64);
    fprintf(f, "ntor-onion-key %s\n", b64);
    if (p->family && *p->family) fprintf(f, "family %s\n", p->family);
    fputs(p->exit_policy ? p->exit_policy : "reject *:*\n", f);
    if (p->tunnelled_dir_server) fprintf(f, "tunnelled-dir-server\n");
    if (om_doc_sign(f, &doc, &doclen, k, NULL) < 0) goto fail;
    if (fclose(f) != 0) {
        f = NULL;
        goto fail;
    }
    free(id_pem);
    free(tap_pem);
    return doc;
fail:
    if (f) fclose(f);
    free(doc);
    free(id_pem);
    free(tap_pem);
    om_errf(err, errlen, "could not build or sign the descriptor");
    return NULL;
}
