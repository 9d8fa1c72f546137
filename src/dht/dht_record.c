/* dht_record.c — signing and checking DHT records (dht_record.h): Ed25519 over the record's
 * signed part (dht_msg.c), then the times and the kind's rules. */
#include "dht/dht_record.h"

#include <stdio.h>
#include <string.h>

int om_dht_record_sign(om_dht_record_t *r, const om_ed25519_keypair_t *kp)
{
    uint8_t buf[sizeof OM_DHT_RECORD_SIG_PREFIX + OM_DHT_RECORD_MAX];
    memcpy(r->publisher, kp->pub, OM_DHT_PUB_LEN);
    long n = om_dht_record_signed_part(r, buf, sizeof buf);
    if (n < 0) return -1;
    return om_ed25519_sign(kp, buf, (size_t)n, r->sig);
}

static int bad(int status, char *err, size_t errlen, const char *what)
{
    if (err && errlen) snprintf(err, errlen, "%s", what);
    return status;
}

int om_dht_record_check(const om_dht_record_t *r, uint64_t now, char *err, size_t errlen)
{
    if (r->kind != OM_DHT_KIND_PROVIDER)
        return bad(OM_DHT_ADDED_BAD_RECORD, err, errlen, "unknown record kind");
    if (r->value_len != OM_DHT_ID_LEN)
        return bad(OM_DHT_ADDED_BAD_RECORD, err, errlen, "provider value is not a fingerprint");
    uint8_t buf[sizeof OM_DHT_RECORD_SIG_PREFIX + OM_DHT_RECORD_MAX];
    long n = om_dht_record_signed_part(r, buf, sizeof buf);
    if (n < 0 || om_ed25519_verify(r->publisher, buf, (size_t)n, r->sig) < 0)
        return bad(OM_DHT_ADDED_BAD_RECORD, err, errlen, "bad signature");
    if (r->expires <= r->created)
        return bad(OM_DHT_ADDED_BAD_RECORD, err, errlen, "expires before it was created");
    if (r->expires - r->created > OM_DHT_MAX_LIFETIME)
        return bad(OM_DHT_ADDED_TOO_LONG, err, errlen, "lifetime over 24 hours");
    if (r->expires <= now) return bad(OM_DHT_ADDED_EXPIRED, err, errlen, "expired");
    if (r->created > now + OM_DHT_MAX_SKEW)
        return bad(OM_DHT_ADDED_EXPIRED, err, errlen, "created in the future");
    return OM_DHT_ADDED_OK;
}
