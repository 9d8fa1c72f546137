/* test_ordb.c — src/ordb's content naming (doc/ordb.md): the metadata record's layout byte by byte
 * at its offsets, encoded and parsed back, every truncation and one byte more refused, bad
 * fields refused (magic, version, kind, chunk size, piece size, media type); the signature over
 * every field (a flipped bit anywhere fails it, another key fails it); the name is the record's
 * SHA-256; RFC 6962's Merkle Tree Hash (the empty tree, one leaf, and the split rule for 2, 3, 5
 * and 7 leaves computed here by hand); a file's pieces hashed from disk (a short last piece),
 * each piece accepted against its leaf and refused with one bit flipped or the wrong length, and
 * leaves that do not add up to the root refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ordb/ordb_meta.h"
#include "ordb/ordb_tree.h"
#include "test.h"

static void sample(om_ordb_meta_t *m, om_ed25519_keypair_t *kp)
{
    memset(m, 0, sizeof *m);
    m->kind = OM_ORDB_KIND_FILE;
    m->size = 1234567;
    m->chunk = OM_ORDB_CHUNK;
    m->piece_chunks = 512;
    m->created = 1800000000;
    for (int i = 0; i < 32; i++)
        m->root[i] = (uint8_t)(i * 3);
    snprintf(m->media_type, sizeof m->media_type, "video/mp4");
    om_ed25519_keygen(kp);
    CHECK(om_ordb_meta_sign(m, kp) == 0);
}

static void test_layout_and_roundtrip(void)
{
    om_ed25519_keypair_t kp;
    om_ordb_meta_t m, back;
    sample(&m, &kp);
    uint8_t b[OM_ORDB_META_MAX + 1];
    long n = om_ordb_meta_encode(&m, b, sizeof b);
    CHECK_EQ_INT(n, OM_ORDB_META_FIXED + 9);
    CHECK(!memcmp(b, "ORDB", 4) && b[4] == 1 && b[5] == 1);
    CHECK(b[6] == 0 && b[10] == 0 && b[11] == 0x12 && b[12] == 0xd6 && b[13] == 0x87); /* 1234567 */
    CHECK(b[14] == 0x01 && b[15] == 0xf2);                                             /* 498 */
    CHECK(b[16] == 0x02 && b[17] == 0x00);                                             /* 512 */
    CHECK(!memcmp(b + 18, m.root, 32) && !memcmp(b + 50, kp.pub, 32));
    CHECK(b[82] == 0 && b[86] == 0x6b && b[87] == 0x49 && b[88] == 0xd2 && b[89] == 0); /* time */
    CHECK(b[90] == 9 && !memcmp(b + 91, "video/mp4", 9) && !memcmp(b + 100, m.sig, 64));
    char err[96];
    CHECK(om_ordb_meta_parse(b, (size_t)n, &back, err, sizeof err) == 0);
    CHECK(!memcmp(&back, &m, sizeof m));
    CHECK(om_ordb_meta_verify(&back) == 0);
    for (long k = 0; k < n; k++)
        CHECK(om_ordb_meta_parse(b, (size_t)k, &back, err, sizeof err) < 0);
    b[n] = 0;
    CHECK(om_ordb_meta_parse(b, (size_t)n + 1, &back, err, sizeof err) < 0);
    CHECK(strstr(err, "bytes after") != NULL);
    /* The name: SHA-256 of the record. */
    uint8_t name[32], want[32];
    CHECK(om_ordb_meta_name(&m, name) == 0 && om_sha256(b, (size_t)n, want) == 0);
    CHECK(!memcmp(name, want, 32));
    CHECK_EQ_INT(om_ordb_pieces(&m), 5); /* 1234567 bytes in pieces of 254976 */
}

static void test_bad_fields(void)
{
    om_ed25519_keypair_t kp;
    om_ordb_meta_t m, back;
    sample(&m, &kp);
    uint8_t b[OM_ORDB_META_MAX];
    long n = om_ordb_meta_encode(&m, b, sizeof b);
    struct {
        size_t off;
        uint8_t v;
    } bad[] = {{0, 'X'}, {4, 2},  {5, 2},    {15, 0xf3}, {16, 0},
               {17, 0},  {17, 1}, {91, ' '}, {96, ';'},  {96, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t c[OM_ORDB_META_MAX];
        memcpy(c, b, (size_t)n);
        c[bad[i].off] = bad[i].v;
        if (bad[i].off == 17 && bad[i].v == 0) c[16] = 0;    /* piece_chunks 0 */
        if (bad[i].off == 17 && bad[i].v == 1) c[16] = 0x10; /* 4097 */
        CHECK_MSG(om_ordb_meta_parse(c, (size_t)n, &back, NULL, 0) < 0, "offset %zu", bad[i].off);
    }
    /* A media type without '/' or with two. */
    const char *types[] = {"video", "a/b/c", "/mp4", "video/", ""};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        om_ordb_meta_t t = m;
        snprintf(t.media_type, sizeof t.media_type, "%s", types[i]);
        CHECK_MSG(om_ordb_meta_encode(&t, b, sizeof b) < 0, "%s", types[i]);
    }
    m.size = OM_ORDB_SIZE_MAX + 1;
    CHECK(om_ordb_meta_encode(&m, b, sizeof b) < 0);
}

static void test_signature(void)
{
    om_ed25519_keypair_t kp, other;
    om_ordb_meta_t m, back;
    sample(&m, &kp);
    uint8_t b[OM_ORDB_META_MAX];
    long n = om_ordb_meta_encode(&m, b, sizeof b);
    int flipped = 0;
    for (long i = 0; i < n; i++) {
        uint8_t c[OM_ORDB_META_MAX];
        memcpy(c, b, (size_t)n);
        c[i] ^= 0x01;
        if (om_ordb_meta_parse(c, (size_t)n, &back, NULL, 0) < 0) continue; /* refused earlier */
        flipped++;
        CHECK_MSG(om_ordb_meta_verify(&back) < 0, "bit flipped at %ld still verifies", i);
    }
    CHECK(flipped > 150);
    om_ed25519_keygen(&other);
    memcpy(m.publisher, other.pub, 32);
    CHECK(om_ordb_meta_verify(&m) < 0);
}

static void h01(const uint8_t *l, const uint8_t *r, uint8_t out[32])
{
    uint8_t buf[65];
    buf[0] = 1;
    memcpy(buf + 1, l, 32);
    memcpy(buf + 33, r, 32);
    om_sha256(buf, 65, out);
}

static void test_merkle(void)
{
    uint8_t out[32], want[32];
    /* RFC 6962: the empty tree is SHA-256 of nothing; a leaf is SHA-256(0x00 || data). */
    static const uint8_t empty_tree[32] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
                                           0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
                                           0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
                                           0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
    static const uint8_t empty_leaf[32] = {0x6e, 0x34, 0x0b, 0x9c, 0xff, 0xb3, 0x7a, 0x98,
                                           0x9c, 0xa5, 0x44, 0xe6, 0xbb, 0x78, 0x0a, 0x2c,
                                           0x78, 0x90, 0x1d, 0x3f, 0xb3, 0x37, 0x38, 0x76,
                                           0x85, 0x11, 0xa3, 0x06, 0x17, 0xaf, 0xa0, 0x1d};
    CHECK(om_ordb_root(NULL, 0, out) == 0 && !memcmp(out, empty_tree, 32));
    CHECK(om_ordb_leaf((const uint8_t *)"", 0, out) == 0 && !memcmp(out, empty_leaf, 32));
    uint8_t l[7][32];
    for (int i = 0; i < 7; i++) {
        uint8_t d = (uint8_t)i;
        om_ordb_leaf(&d, 1, l[i]);
    }
    const uint8_t(*L)[32] = (const uint8_t(*)[32])l;
    CHECK(om_ordb_root(L, 1, out) == 0 && !memcmp(out, l[0], 32));
    uint8_t a01[32], a23[32], a0123[32], a012[32], a45[32], a456[32];
    h01(l[0], l[1], a01);
    CHECK(om_ordb_root(L, 2, out) == 0 && !memcmp(out, a01, 32));
    h01(a01, l[2], a012);
    CHECK(om_ordb_root(L, 3, out) == 0 && !memcmp(out, a012, 32));
    h01(l[2], l[3], a23);
    h01(a01, a23, a0123);
    h01(a0123, l[4], want);
    CHECK(om_ordb_root(L, 5, out) == 0 && !memcmp(out, want, 32));
    h01(l[4], l[5], a45);
    h01(a45, l[6], a456);
    h01(a0123, a456, want);
    CHECK(om_ordb_root(L, 7, out) == 0 && !memcmp(out, want, 32));
}

static void test_file_pieces(void)
{
    char path[] = "/tmp/om-ordb-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    size_t pb = OM_ORDB_CHUNK * 4, size = 3 * pb + 100;
    uint8_t *data = malloc(size);
    for (size_t i = 0; i < size; i++)
        data[i] = (uint8_t)(i * 13 + 7);
    CHECK(write(fd, data, size) == (ssize_t)size);
    close(fd);
    uint8_t(*leaves)[32];
    size_t n;
    uint64_t got;
    char err[128];
    CHECK(om_ordb_hash_file(path, 4, &leaves, &n, &got, err, sizeof err) == 0);
    CHECK(n == 4 && got == size);
    om_ordb_meta_t m = {.kind = 1, .size = size, .chunk = OM_ORDB_CHUNK, .piece_chunks = 4};
    const uint8_t(*L)[32] = (const uint8_t(*)[32])leaves;
    CHECK(om_ordb_root(L, n, m.root) == 0);
    CHECK(om_ordb_leaves_ok(&m, L, n));
    CHECK(!om_ordb_leaves_ok(&m, L, n - 1));
    for (size_t i = 0; i < n; i++) {
        size_t len = i + 1 < n ? pb : 100;
        uint8_t want[32];
        om_ordb_leaf(data + i * pb, len, want);
        CHECK(!memcmp(want, leaves[i], 32));
        CHECK(om_ordb_piece_ok(&m, L, i, data + i * pb, len));
        data[i * pb + len / 2] ^= 0x40;
        CHECK(!om_ordb_piece_ok(&m, L, i, data + i * pb, len));
        data[i * pb + len / 2] ^= 0x40;
        CHECK(!om_ordb_piece_ok(&m, L, i, data + i * pb, len - 1));
    }
    CHECK(!om_ordb_piece_ok(&m, L, n, data, 100));
    leaves[1][0] ^= 1;
    CHECK(!om_ordb_leaves_ok(&m, L, n));
    free(leaves);
    free(data);
    unlink(path);
    CHECK(om_ordb_hash_file("/nonexistent/x", 4, &leaves, &n, &got, err, sizeof err) < 0);
    CHECK(strstr(err, "/nonexistent/x") != NULL);
}

static const om_test_t tests[] = {
    OM_TEST(test_layout_and_roundtrip),
    OM_TEST(test_bad_fields),
    OM_TEST(test_signature),
    OM_TEST(test_merkle),
    OM_TEST(test_file_pieces),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("ordb", tests, argc, argv);
}
