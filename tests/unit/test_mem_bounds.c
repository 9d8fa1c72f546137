/* test_mem_bounds.c — the relay's memory stays bounded under hostile peers: a peer that sends bad
 * CREATE2 cells without reading makes the relay stop reading from it once 256 KiB of DESTROYs wait
 * (channel backpressure) and it resumes when the peer reads; the link manager bounds half-open
 * inbound links, counts every link's buffers and closes the fattest link dropping its output;
 * the MaxMemInQueues policy (or_oom.c) frees the largest source's worst items until under 90% of
 * the limit; om_inflate refuses a real compression bomb (16 MiB of zeros in ~16 KiB) well inside
 * its size limit, and still inflates a document of an ordinary ratio. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <zlib.h>

#include "core/channel_int.h"
#include "core/crypto.h"
#include "core/dir_fetch.h"
#include "core/linkmgr.h"
#include "mem_link.h"
#include "or/or_oom.h"
#include "or_fixture.h"
#include "test.h"

/* ---------------------------------------------------------------- a CREATE2 flood */

/* CREATE_FAST (the fixture relay has no onion keys): the first few make circuits (CREATED_FAST),
 * the rest pass the circuit limit (DESTROY) — each answered directly on the link, as a bad
 * CREATE2 is. */
static void flood_create(om_cell_t *c, uint32_t id)
{
    memset(c, 0, sizeof *c);
    c->circ_id = id;
    c->command = OM_CELL_CREATE_FAST;
}

static void test_create2_flood_without_reading(void)
{
    fix_relay_t r;
    CHECK(fix_relay_start(&r, NULL, NULL));
    om_channel_t *chan = r.link.chan;
    om_cell_t c;
    for (uint32_t i = 0; i < 4000; i++) { /* 2 MB of CREATE2; we read none of the answers */
        flood_create(&c, 0x80000000u | (i + 1));
        CHECK(om_mem_link_feed(&r.link, &c) == 0);
    }
    size_t out = om_channel_outbuf_len(chan);
    CHECK_MSG(out <= OM_CHAN_OUTBUF_PAUSE + OM_CELL_LEN_WIDE, "%zu bytes wait for the peer", out);
    CHECK(om_channel_read_paused(chan));
    CHECK(!om_channel_is_closing(chan));
    /* The peer reads: the relay reads again, and answers every CREATE2 in the end. */
    unsigned answers = 0;
    for (int guard = 0; guard < 100000; guard++) {
        int t = om_mem_link_take(&r.link, &c);
        if (t == 0) break;
        if (t == 1 && (c.command == OM_CELL_DESTROY || c.command == OM_CELL_CREATED_FAST))
            answers++;
    }
    CHECK_EQ_INT(answers, 4000);
    CHECK(!om_channel_read_paused(chan));
    fix_relay_stop(&r);
}

/* ---------------------------------------------------------------- the link manager */

typedef struct {
    om_transport_t base;
    struct evbuffer *out;
    int *freed, *discarded;
} fake_t;

static struct evbuffer *fake_output(om_transport_t *t)
{
    return ((fake_t *)t)->out;
}

static void fake_discard(om_transport_t *t)
{
    fake_t *f = (fake_t *)t;
    evbuffer_drain(f->out, evbuffer_get_length(f->out));
    (*f->discarded)++;
}

static void fake_free(om_transport_t *t)
{
    fake_t *f = (fake_t *)t;
    (*f->freed)++;
    evbuffer_free(f->out);
    free(f);
}

static const struct om_transport_ops fake_ops = {
    .name = "fake", .output = fake_output, .discard_output = fake_discard, .free = fake_free};

static fake_t *fake_new(int *freed, int *discarded)
{
    fake_t *f = calloc(1, sizeof *f);
    f->base.ops = &fake_ops;
    f->out = evbuffer_new();
    f->freed = freed;
    f->discarded = discarded;
    snprintf(f->base.peer, sizeof f->base.peer, "127.0.0.2:1234");
    return f;
}

static void test_linkmgr_half_open_and_buffers(void)
{
    struct event_base *base = event_base_new();
    static om_identity_t id; /* only its presence matters: no handshake runs */
    om_linkmgr_opts_t o = {.identity = &id};
    om_linkmgr_t *m = om_linkmgr_new(base, &o, NULL);
    CHECK(base && m);
    int freed = 0, discarded = 0;
    fake_t *fat = NULL;
    for (int i = 0; i < OM_LINKMGR_MAX_HALF_OPEN + 88; i++) {
        fake_t *f = fake_new(&freed, &discarded);
        if (i == 7) fat = f;
        om_linkmgr_accept(m, &f->base);
    }
    CHECK_EQ_INT(om_linkmgr_count_half_open(m), OM_LINKMGR_MAX_HALF_OPEN);
    CHECK_EQ_INT(freed, 88); /* refused at once */
    static uint8_t junk[300000];
    evbuffer_add(fat->out, junk, sizeof junk);
    CHECK_EQ_INT(om_linkmgr_buffered(m), sizeof junk);
    CHECK_EQ_INT(om_linkmgr_close_fattest(m), sizeof junk);
    CHECK_EQ_INT(discarded, 1);
    CHECK_EQ_INT(om_linkmgr_buffered(m), 0);
    CHECK_EQ_INT(om_linkmgr_count_half_open(m), OM_LINKMGR_MAX_HALF_OPEN - 1);
    CHECK_EQ_INT(om_linkmgr_close_fattest(m), 0); /* nobody holds anything */
    om_linkmgr_free(m);
    event_base_loop(base, EVLOOP_NONBLOCK); /* deferred frees */
    CHECK_EQ_INT(freed, OM_LINKMGR_MAX_HALF_OPEN + 88);
    event_base_free(base);
}

/* ---------------------------------------------------------------- MaxMemInQueues */

typedef struct {
    size_t items[8];
    int n;
} fake_src_t;

static size_t src_bytes(void *arg)
{
    fake_src_t *s = arg;
    size_t t = 0;
    for (int i = 0; i < s->n; i++)
        t += s->items[i];
    return t;
}

static size_t src_reclaim(void *arg)
{
    fake_src_t *s = arg;
    if (!s->n) return 0;
    return s->items[--s->n];
}

static void test_oom_frees_largest_source_first(void)
{
    om_or_oom_t *o = om_or_oom_new(NULL, 1000);
    fake_src_t a = {{100, 100}, 2}, b = {{300, 300, 300}, 3};
    om_or_mem_source_t sa = {"a", src_bytes, src_reclaim, &a};
    om_or_mem_source_t sb = {"b", src_bytes, src_reclaim, &b};
    CHECK(o && om_or_oom_add(o, &sa) == 0 && om_or_oom_add(o, &sb) == 0);
    CHECK_EQ_INT(om_or_oom_check(o), 300); /* 1100 > 1000: one of b's to 800 (< 900) */
    CHECK_EQ_INT(a.n, 2);
    CHECK_EQ_INT(b.n, 2);
    CHECK_EQ_INT(om_or_oom_check(o), 0); /* under the limit: nothing */
    CHECK_EQ_INT(om_or_oom_total(o), 800);
    CHECK_EQ_INT(om_or_oom_other(o), 600);
    om_or_oom_free(o);
}

/* ---------------------------------------------------------------- compression bombs */

static uint8_t *deflate_all(const uint8_t *in, size_t len, size_t *zlen)
{
    uLongf cap = compressBound((uLong)len);
    uint8_t *z = malloc(cap);
    if (!z || compress2(z, &cap, in, (uLong)len, 9) != Z_OK) {
        free(z);
        return NULL;
    }
    *zlen = cap;
    return z;
}

static void test_inflate_refuses_bomb(void)
{
    size_t n = 16u << 20, zlen = 0;
    uint8_t *zeros = calloc(1, n);
    CHECK(zeros);
    uint8_t *z = deflate_all(zeros, n, &zlen);
    free(zeros);
    CHECK(z && zlen < n / 500); /* a real bomb: over 500 to 1 */
    uint8_t *out = NULL;
    size_t outlen = 0;
    CHECK_EQ_INT(om_inflate(z, zlen, 32u << 20, &out, &outlen), -1); /* within the size limit */
    CHECK(out == NULL);
    free(z);
    CHECK(om_is_compression_bomb(1000, 64 * 1024 + 1 /* 65 to 1 */));
    CHECK(!om_is_compression_bomb(1000, 25000));
    CHECK(!om_is_compression_bomb(10, 60000)); /* under 64 KiB out: never */
}

static void test_inflate_ordinary_ratio(void)
{
    /* Text of base64 digits compresses about 4 to 3, like signatures and keys do. */
    size_t n = 400000, zlen = 0;
    char *text = malloc(n + 1); /* the last block's NUL */
    uint8_t rnd[300];
    CHECK(text);
    for (size_t off = 0; off < n; off += 400) {
        om_rand_bytes(rnd, sizeof rnd);
        om_base64_encode(rnd, sizeof rnd, text + off, 401, false);
    }
    uint8_t *z = deflate_all((const uint8_t *)text, n, &zlen);
    CHECK(z);
    uint8_t *out = NULL;
    size_t outlen = 0;
    CHECK_EQ_INT(om_inflate(z, zlen, 16u << 20, &out, &outlen), 0);
    CHECK_EQ_INT(outlen, n);
    CHECK(memcmp(out, text, n) == 0);
    free(out);
    free(z);
    free(text);
}

static const om_test_t tests[] = {
    OM_TEST(test_create2_flood_without_reading),  OM_TEST(test_linkmgr_half_open_and_buffers),
    OM_TEST(test_oom_frees_largest_source_first), OM_TEST(test_inflate_refuses_bomb),
    OM_TEST(test_inflate_ordinary_ratio),         {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("mem_bounds", tests, argc, argv);
}
