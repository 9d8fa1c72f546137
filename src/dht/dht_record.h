/* dht_record.h — what makes a DHT record acceptable (doc/dht.md, "Records"): its publisher's
 * Ed25519 signature, its times against our clock, and the value its kind allows. Used by the
 * node storing a record and by the client reading one (neither trusts the other). */
#ifndef OM_DHT_RECORD_H
#define OM_DHT_RECORD_H

#include <stdint.h>

#include "core/crypto.h"
#include "dht/dht_msg.h"

/* Longest lifetime a record may claim (expires - created), and how far in the future its
 * creation time may be (clock skew). */
#define OM_DHT_MAX_LIFETIME (24 * 3600)
#define OM_DHT_MAX_SKEW     600

/* Fill r->publisher from kp and sign r (every other field set). 0 or -1. */
int om_dht_record_sign(om_dht_record_t *r, const om_ed25519_keypair_t *kp);

/* OM_DHT_ADDED_OK if r may be stored or used at time now, else the ADDED status saying why (with
 * err): BAD_RECORD (bad signature, unknown kind, a provider value that is not 20 bytes),
 * EXPIRED (expired, or created more than OM_DHT_MAX_SKEW ahead of now), TOO_LONG. */
int om_dht_record_check(const om_dht_record_t *r, uint64_t now, char *err, size_t errlen);

#endif
