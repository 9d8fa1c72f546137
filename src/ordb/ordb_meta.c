/* ordb_meta.c — the metadata record's byte layout (doc/ordb.md, "Metadata record"), its
 * signature and the file's name (ordb_meta.h). */
#include "ordb/ordb_meta.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* RFC 6838 restricted-name characters, and one '/' between two non-empty parts. */
static bool media_type_ok(const char *t, size_t n)
{
    size_t slash = 0, at = 0;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (c == '/') {
            slash++;
            at = i;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("!#$&-^_.+", c)))
            return false;
    }
    return slash == 1 && at > 0 && at + 1 < n;
}

static bool fields_ok(const om_ordb_meta_t *m, size_t type_len, char *err, size_t errlen)
{
    const char *why = NULL;
    if (m->kind != OM_ORDB_KIND_FILE)
        why = "unknown kind";
    else if (m->chunk != OM_ORDB_CHUNK)
        why = "chunk size is not 498";
    else if (m->piece_chunks == 0 || m->piece_chunks > OM_ORDB_PIECE_CHUNKS_MAX)
        why = "piece size out of range";
    else if (m->size > OM_ORDB_SIZE_MAX)
        why = "file too large";
    else if (type_len == 0 || type_len > OM_ORDB_TYPE_MAX ||
             !media_type_ok(m->media_type, type_len))
        why = "bad media type";
    if (why && err) snprintf(err, errlen, "%s", why);
    return !why;
}

/* Everything before the signature. */
static long encode_unsigned(const om_ordb_meta_t *m, uint8_t *out, size_t cap)
{
    size_t tl = strnlen(m->media_type, sizeof m->media_type);
    size_t n = OM_ORDB_META_FIXED - 64 + tl;
    if (!fields_ok(m, tl, NULL, 0) || cap < n) return -1;
    uint8_t *p = out;
    memcpy(p, OM_ORDB_MAGIC, 4);
    p[4] = OM_ORDB_VERSION;
    p[5] = m->kind;
    put64(p + 6, m->size);
    put16(p + 14, m->chunk);
    put16(p + 16, m->piece_chunks);
    memcpy(p + 18, m->root, 32);
    memcpy(p + 50, m->publisher, 32);
    put64(p + 82, m->created);
    p[90] = (uint8_t)tl;
    memcpy(p + 91, m->media_type, tl);
    return (long)n;
}

long om_ordb_meta_encode(const om_ordb_meta_t *m, uint8_t *out, size_t cap)
{
    long n = encode_unsigned(m, out, cap);
    if (n < 0 || cap < (size_t)n + 64) return -1;
    memcpy(out + n, m->sig, 64);
    return n + 64;
}

int om_ordb_meta_parse(const uint8_t *p, size_t len, om_ordb_meta_t *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    const char *why = NULL;
    if (len < OM_ORDB_META_FIXED)
        why = "truncated record";
    else if (memcmp(p, OM_ORDB_MAGIC, 4))
        why = "not an ORDB record";
    else if (p[4] != OM_ORDB_VERSION)
        why = "unknown version";
    else if (len != (size_t)OM_ORDB_META_FIXED + p[90])
        why = len < (size_t)OM_ORDB_META_FIXED + p[90] ? "truncated record"
                                                       : "bytes after the record";
    if (why) {
        if (err) snprintf(err, errlen, "%s", why);
        return -1;
    }
    m->kind = p[5];
    m->size = get64(p + 6);
    m->chunk = get16(p + 14);
    m->piece_chunks = get16(p + 16);
    memcpy(m->root, p + 18, 32);
    memcpy(m->publisher, p + 50, 32);
    m->created = get64(p + 82);
    size_t tl = p[90];
    if (tl > OM_ORDB_TYPE_MAX) {
        if (err) snprintf(err, errlen, "bad media type");
        return -1;
    }
    memcpy(m->media_type, p + 91, tl);
    m->media_type[tl] = 0;
    if (memchr(m->media_type, 0, tl)) {
        if (err) snprintf(err, errlen, "bad media type");
        return -1;
    }
    memcpy(m->sig, p + 91 + tl, 64);
    return fields_ok(m, tl, err, errlen) ? 0 : -1;
}

/* The bytes the signature covers: the prefix, then the record before the signature. */
static long signed_part(const om_ordb_meta_t *m, uint8_t *out, size_t cap)
{
    size_t pl = strlen(OM_ORDB_SIG_PREFIX);
    if (cap < pl) return -1;
    memcpy(out, OM_ORDB_SIG_PREFIX, pl);
    long n = encode_unsigned(m, out + pl, cap - pl);
    return n < 0 ? -1 : (long)pl + n;
}

int om_ordb_meta_sign(om_ordb_meta_t *m, const om_ed25519_keypair_t *kp)
{
    uint8_t buf[sizeof OM_ORDB_SIG_PREFIX + OM_ORDB_META_MAX];
    memcpy(m->publisher, kp->pub, 32);
    long n = signed_part(m, buf, sizeof buf);
    return n < 0 ? -1 : om_ed25519_sign(kp, buf, (size_t)n, m->sig);
}

int om_ordb_meta_verify(const om_ordb_meta_t *m)
{
    uint8_t buf[sizeof OM_ORDB_SIG_PREFIX + OM_ORDB_META_MAX];
    long n = signed_part(m, buf, sizeof buf);
    return n < 0 ? -1 : om_ed25519_verify(m->publisher, buf, (size_t)n, m->sig);
}

int om_ordb_meta_name(const om_ordb_meta_t *m, uint8_t name[OM_ORDB_NAME_LEN])
{
    uint8_t buf[OM_ORDB_META_MAX];
    long n = om_ordb_meta_encode(m, buf, sizeof buf);
    return n < 0 ? -1 : om_sha256(buf, (size_t)n, name);
}

uint64_t om_ordb_piece_bytes(const om_ordb_meta_t *m)
{
    return (uint64_t)m->chunk * m->piece_chunks;
}

uint64_t om_ordb_pieces(const om_ordb_meta_t *m)
{
    uint64_t pb = om_ordb_piece_bytes(m);
    return pb ? (m->size + pb - 1) / pb : 0;
}
