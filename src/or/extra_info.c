/* extra_info.c — builds and signs the relay's extra-info document (dir-spec 2.1.2) and its
 * digests for the server descriptor's "extra-info-digest" line (dir-spec 2.1.1). */
#include "or/extra_info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/log.h"
#include "dir/netdoc.h"
#include "or/doc_sign.h"

int om_extra_info_build(const om_relay_keys_t *k, const char *nickname, time_t published,
                        om_extra_info_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char *doc = NULL;
    size_t doclen = 0;
    FILE *f = open_memstream(&doc, &doclen);
    if (!f) return om_errf(err, errlen, "out of memory");
    char fp[41], when[32];
    om_hex_encode(k->rsa_fp, 20, fp);
    om_netdoc_format_time(published, when, sizeof when);
    /* "extra-info" Nickname Fingerprint (upper-case hex, no spaces); "identity-ed25519" as in
     * the server descriptor (the same identity -> signing key certificate); "published". */
    fprintf(f, "extra-info %s %s\n", nickname, fp);
    fprintf(f, "identity-ed25519\n");
    if (om_doc_put_block(f, "ED25519 CERT", k->sign_cert, k->sign_cert_len) < 0) goto fail;
    fprintf(f, "published %s\n", when);
    if (om_doc_sign(f, &doc, &doclen, k, out->sha1) < 0) goto fail;
    if (fclose(f) != 0) {
        f = NULL;
        goto fail;
    }
    f = NULL;
    if (om_sha256((const uint8_t *)doc, doclen, out->sha256) < 0) goto fail;
    out->doc = doc;
    out->len = doclen;
    return 0;
fail:
    if (f) fclose(f);
    free(doc);
    memset(out, 0, sizeof *out);
    return om_errf(err, errlen, "could not build or sign the extra-info document");
}

void om_extra_info_digest_value(const om_extra_info_t *ei, char out[OM_EXTRA_INFO_DIGEST_VALUE_LEN])
{
    om_hex_encode(ei->sha1, sizeof ei->sha1, out);
    out[40] = ' ';
    om_doc_b64_nopad(ei->sha256, sizeof ei->sha256, out + 41, OM_EXTRA_INFO_DIGEST_VALUE_LEN - 41);
}

void om_extra_info_free(om_extra_info_t *ei)
{
    free(ei->doc);
    memset(ei, 0, sizeof *ei);
}
