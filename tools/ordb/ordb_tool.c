/* tools/ordb/ordb_tool.c — onionmesh-ordb: ORDB files without a running relay (doc/ordb.md).
 *   onionmesh-ordb add FILE [--data-dir DIR] [--type MEDIA/TYPE] [--piece-chunks N]
 *       hashes FILE's pieces, signs its metadata record with the publisher key
 *       DIR/ordb_publisher_ed25519 (32-byte seed, created 0600 if missing; DIR defaults to
 *       ~/.onionmesh), writes FILE.ordb (the record and the leaves) and prints the NAME (64 hex
 *       digits), then the pieces and the hashing rate on stderr.
 *   onionmesh-ordb check FILE.ordb FILE
 *       checks the record's signature, the leaves against its root and every piece of FILE
 *       against its leaf; prints the NAME and "ok", or the first bad piece; the rate on stderr.
 * FILE.ordb: LEN (2 bytes, big-endian), the record (LEN bytes), then 32 bytes per piece. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto.h"
#include "ordb/ordb_meta.h"
#include "ordb/ordb_tree.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The publisher key in dir (created if missing). 0 or -1 (message printed). */
static int load_key(const char *dir, om_ed25519_keypair_t *kp)
{
    char path[1024];
    int w = snprintf(path, sizeof path, "%s/ordb_publisher_ed25519", dir);
    if (w < 0 || (size_t)w >= sizeof path) {
        fprintf(stderr, "onionmesh-ordb: data directory name too long\n");
        return -1;
    }
    uint8_t seed[32];
    FILE *f = fopen(path, "rb");
    if (f) {
        size_t n = fread(seed, 1, sizeof seed, f);
        fclose(f);
        if (n != sizeof seed) {
            fprintf(stderr, "onionmesh-ordb: %s: not a 32-byte key\n", path);
            return -1;
        }
        return om_ed25519_from_seed(kp, seed);
    }
    mkdir(dir, 0700);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || om_ed25519_keygen(kp) < 0 || write(fd, kp->seed, 32) != 32) {
        fprintf(stderr, "onionmesh-ordb: cannot create %s: %s\n", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    fprintf(stderr, "onionmesh-ordb: new publisher key in %s\n", path);
    return 0;
}

static void print_name(const om_ordb_meta_t *m)
{
    uint8_t name[32];
    char hex[65];
    om_ordb_meta_name(m, name);
    om_hex_encode(name, 32, hex);
    for (char *c = hex; *c; c++)
        if (*c >= 'A' && *c <= 'F') *c = (char)(*c - 'A' + 'a'); /* names are lowercase hex */
    printf("%s\n", hex);
}

static int add(const char *file, const char *dir, const char *type, int piece_chunks)
{
    om_ordb_meta_t m = {.kind = OM_ORDB_KIND_FILE,
                        .chunk = OM_ORDB_CHUNK,
                        .piece_chunks = (uint16_t)piece_chunks,
                        .created = (uint64_t)time(NULL)};
    snprintf(m.media_type, sizeof m.media_type, "%s", type);
    om_ed25519_keypair_t kp;
    if (load_key(dir, &kp) < 0) return 1;
    uint8_t(*leaves)[32];
    size_t n;
    char err[256];
    double t0 = now_s();
    if (om_ordb_hash_file(file, m.piece_chunks, &leaves, &n, &m.size, err, sizeof err) < 0) {
        fprintf(stderr, "onionmesh-ordb: %s\n", err);
        return 1;
    }
    double secs = now_s() - t0;
    uint8_t rec[OM_ORDB_META_MAX];
    long rl = -1;
    if (om_ordb_root((const uint8_t(*)[32])leaves, n, m.root) == 0 &&
        om_ordb_meta_sign(&m, &kp) == 0)
        rl = om_ordb_meta_encode(&m, rec, sizeof rec);
    om_memwipe(&kp, sizeof kp);
    char out[1100];
    snprintf(out, sizeof out, "%.1000s.ordb", file);
    FILE *f = rl > 0 ? fopen(out, "wb") : NULL;
    uint8_t len[2] = {(uint8_t)(rl >> 8), (uint8_t)rl};
    bool ok = f && fwrite(len, 1, 2, f) == 2 && fwrite(rec, 1, (size_t)rl, f) == (size_t)rl &&
              fwrite(leaves, 32, n, f) == n;
    if (f && fclose(f) != 0) ok = false;
    free(leaves);
    if (!ok) {
        fprintf(stderr, "onionmesh-ordb: %s\n", rl < 0 ? "bad media type" : "cannot write");
        return 1;
    }
    print_name(&m);
    fprintf(stderr, "%s: %llu bytes, %zu pieces of %llu bytes, hashed at %.0f MB/s; wrote %s\n",
            file, (unsigned long long)m.size, n, (unsigned long long)om_ordb_piece_bytes(&m),
            secs > 0 ? (double)m.size / secs / 1e6 : 0.0, out);
    return 0;
}

static int check(const char *meta_path, const char *file)
{
    FILE *f = fopen(meta_path, "rb");
    uint8_t len[2], rec[OM_ORDB_META_MAX];
    om_ordb_meta_t m;
    char err[256] = "unreadable";
    size_t rl = 0;
    if (!f || fread(len, 1, 2, f) != 2 || (rl = (size_t)(len[0] << 8 | len[1])) > sizeof rec ||
        fread(rec, 1, rl, f) != rl || om_ordb_meta_parse(rec, rl, &m, err, sizeof err) < 0 ||
        om_ordb_meta_verify(&m) < 0) {
        fprintf(stderr, "onionmesh-ordb: %s: %s\n", meta_path, f ? err : strerror(errno));
        if (f) fclose(f);
        return 1;
    }
    uint64_t pieces = om_ordb_pieces(&m);
    uint8_t(*leaves)[32] = malloc((pieces ? pieces : 1) * 32);
    bool ok = leaves && fread(leaves, 32, pieces, f) == pieces && fgetc(f) == EOF &&
              om_ordb_leaves_ok(&m, (const uint8_t(*)[32])leaves, pieces);
    fclose(f);
    if (!ok) {
        fprintf(stderr, "onionmesh-ordb: %s: the leaves do not match the signed root\n", meta_path);
        free(leaves);
        return 1;
    }
    FILE *d = fopen(file, "rb");
    size_t pb = (size_t)om_ordb_piece_bytes(&m);
    uint8_t *buf = malloc(pb);
    double t0 = now_s();
    uint64_t i = 0, total = 0;
    for (size_t got; d && buf && i <= pieces && (got = fread(buf, 1, pb, d)) > 0; i++) {
        total += got;
        if (!om_ordb_piece_ok(&m, (const uint8_t(*)[32])leaves, i, buf, got)) break;
    }
    double secs = now_s() - t0;
    ok = d && i == pieces && total == m.size;
    if (d) fclose(d);
    free(buf);
    free(leaves);
    print_name(&m);
    if (!ok) {
        printf("bad piece %llu\n", (unsigned long long)i);
        return 1;
    }
    printf("ok\n");
    fprintf(stderr, "%llu pieces verified at %.0f MB/s\n", (unsigned long long)pieces,
            secs > 0 ? (double)total / secs / 1e6 : 0.0);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: onionmesh-ordb add FILE [--data-dir DIR] [--type MEDIA/TYPE] "
                    "[--piece-chunks N]\n       onionmesh-ordb check FILE.ordb FILE\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "check")) return check(argv[2], argv[3]);
    if (argc < 3 || strcmp(argv[1], "add") || (argc - 3) % 2) return usage();
    char home[1024];
    snprintf(home, sizeof home, "%s/.onionmesh", getenv("HOME") ? getenv("HOME") : ".");
    const char *dir = home, *type = "application/octet-stream";
    int pc = OM_ORDB_PIECE_CHUNKS_DEFAULT;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--data-dir"))
            dir = argv[i + 1];
        else if (!strcmp(argv[i], "--type"))
            type = argv[i + 1];
        else if (!strcmp(argv[i], "--piece-chunks"))
            pc = atoi(argv[i + 1]);
        else
            return usage();
    }
    if (pc < 1 || pc > OM_ORDB_PIECE_CHUNKS_MAX) return usage();
    return add(argv[2], dir, type, pc);
}
