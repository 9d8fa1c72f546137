/* router_desc_sig.h — checks a server descriptor's RSA signature (dir-spec 2.1.1
 * "router-signature") against the identity a client pinned: what a bridge client needs to use a
 * descriptor that came over a channel nobody authenticated (a WebSocket bridge's HTTP side). */
#ifndef OM_DIR_ROUTER_DESC_SIG_H
#define OM_DIR_ROUTER_DESC_SIG_H

#include <stddef.h>
#include <stdint.h>

/* 0 if text[0..len) is one descriptor whose signing-key hashes to want_fp (SHA-1 of its DER) and
 * whose last item, router-signature, is that key's PKCS#1 v1.5 signature (no DigestInfo) over
 * the SHA-1 of everything from "router" through the NL after "router-signature". Otherwise -1
 * with err ("signed by another identity", "bad signature", "items after router-signature"...). */
int om_router_desc_verify(const char *text, size_t len, const uint8_t want_fp[20], char *err,
                          size_t errlen);

#endif
