/* doc_sign.h — what the documents a relay signs have in common (the server descriptor, dir-spec
 * 2.1.1, and the extra-info document, 2.1.2): objects in "-----BEGIN TYPE-----" blocks (dir-spec
 * 1.2), unpadded base64, and the two closing signatures, router-sig-ed25519 (by the Ed25519
 * signing key) and router-signature (by the RSA identity key, dir-spec 1.3), appended to a
 * document being written to an open_memstream. */
#ifndef OM_OR_DOC_SIGN_H
#define OM_OR_DOC_SIGN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "or/relay_keys.h"

/* dir-spec 2.1.1 "router-sig-ed25519": the prefix hashed before the document. */
#define OM_DOC_ED_SIG_PREFIX "Tor router descriptor signature v1"

/* "-----BEGIN TYPE-----", base64 in 64-column lines, "-----END TYPE-----". 0 or -1. */
int om_doc_put_block(FILE *f, const char *type, const uint8_t *data, size_t len);
/* Base64 without '=' padding (keys and signatures on keyword lines). */
void om_doc_b64_nopad(const uint8_t *in, size_t n, char *out, size_t outsz);

/* Closes a document written so far to f, an open_memstream over *doc / *doclen: writes
 * "router-sig-ed25519 SIG" (SIG: Ed25519 over SHA-256(prefix || document up to and including
 * "router-sig-ed25519 ")), then "router-signature" and the RSA identity key's PKCS#1 signature
 * of the SHA-1 of the document up to and including "router-signature\n". signed_sha1 (may be
 * NULL) receives that SHA-1. f stays open. 0 or -1. */
int om_doc_sign(FILE *f, char *const *doc, const size_t *doclen, const om_relay_keys_t *k,
                uint8_t signed_sha1[20]);

#endif
