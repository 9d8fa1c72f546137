/* test_dir_engine.c — the directory engine (src/dir/dir_engine.c, dir_policy.c, dir_store.c,
 * dir_deflate.c) driven by a fake in-memory fetcher that serves the real tor 0.4.9 test-network
 * documents (tests/data/testnet-snapshot) under an injected clock: the dir-spec 5.1 / 4 refresh
 * windows and retry delays; certificates -> consensus -> microdescriptors end to end as a client
 * and as a cache (with the ns flavour and the compressed forms made once); a failing fetcher
 * (backoff per kind, next source, get() refusing); a microdescriptor that does not hash to a
 * listed digest; loading documents from a cache. The consensus acceptance rules are in
 * test_dir_engine_rules.c. */
#include <stdlib.h>
#include <string.h>

#include "core/dir_fetch.h"
#include "dir/dir_deflate.h"
#include "dir/dir_policy.h"
#include "dir_engine_fake.h"
#include "test.h"

/* ---------------------------------------------------------------- policy */

static void test_refresh_windows(void)
{
    time_t lo, hi;
    /* dir-spec 5.1's example: valid 1:00, fresh until 2:00, valid until 4:00: a client fetches
     * between 2:45 and 3:50 (3/4 of the hour after 2:00, then 7/8 of the 75 minutes left). */
    om_dir_refresh_window(3600, 7200, 14400, false, &lo, &hi);
    CHECK_EQ_INT(lo, 7200 + 2700);
    CHECK_EQ_INT(hi, 9900 + (14400 - 9900) * 7 / 8);
    CHECK_EQ_INT(hi, 13837); /* 3:50:37 */
    /* A cache: 2 minutes after fresh-until, within half an interval. */
    om_dir_refresh_window(3600, 7200, 14400, true, &lo, &hi);
    CHECK_EQ_INT(lo, 7200 + 120);
    CHECK_EQ_INT(hi, 7320 + 1800);
    /* The test network's 20 s interval (valid 40 s): client [55 s, 59 s), cache [41 s, 51 s). */
    om_dir_refresh_window(SNAP_VA, SNAP_FU, SNAP_VU, false, &lo, &hi);
    CHECK_EQ_INT(lo - SNAP_VA, 35);
    CHECK_EQ_INT(hi - SNAP_VA, 39);
    om_dir_refresh_window(SNAP_VA, SNAP_FU, SNAP_VU, true, &lo, &hi);
    CHECK_EQ_INT(lo - SNAP_VA, 21);
    CHECK_EQ_INT(hi - SNAP_VA, 31);
    /* Every choice falls in the window, never while the consensus is fresh, always before it
     * expires; both ends are reached. */
    bool got_lo = false, got_hi = false;
    for (uint32_t r = 0; r < 5000; r++) {
        time_t t = om_dir_refresh_time(3600, 7200, 14400, false, r * 2654435761u);
        CHECK(t >= 9900 && t < 13837 && t > 7200 && t < 14400);
        got_lo |= t == 9900;
        got_hi |= t == 13836;
    }
    CHECK(got_lo && got_hi);
    /* Degenerate intervals still give a 1 s window after fresh-until and before valid-until. */
    om_dir_refresh_window(100, 101, 103, true, &lo, &hi);
    CHECK(lo > 101 && hi <= 103 && hi - lo >= 1);
}

static void test_tolerance_and_retry_rules(void)
{
    CHECK(om_dir_live(100, 200, 100) && om_dir_live(100, 200, 200) && !om_dir_live(100, 200, 99));
    CHECK(om_dir_reasonably_live(100000, 200000, 100000 - 86400));
    CHECK(!om_dir_reasonably_live(100000, 200000, 100000 - 86401));
    CHECK(om_dir_reasonably_live(100000, 200000, 200000 + 86400));
    CHECK(!om_dir_reasonably_live(100000, 200000, 200000 + 86401));
    static const long want[] = {0, 1, 2, 4, 8, 16, 30, 30, 30};
    for (int f = 0; f < 9; f++)
        CHECK_EQ_INT(om_dir_retry_delay(f), want[f]);
    /* tor's warn_early_consensus: more than dist + 60 s early. */
    CHECK_EQ_INT(om_dir_clock_behind(10000, 4, 10000 - 64), 0);
    CHECK_EQ_INT(om_dir_clock_behind(10000, 4, 10000 - 65), 61);
    CHECK_EQ_INT(om_dir_clock_behind(10000, 4, 10000 - 7200), 7196);
}

/* ---------------------------------------------------------------- end to end */

static void test_client_end_to_end(void)
{
    fake_fetcher_t f;
    fake_events_t ev;
    fake_load_snapshot(&f);
    CHECK(f.certs && f.cons_md && f.mds);
    fake_now_value = SNAP_VA + 5;
    om_dir_engine_t *e = fake_engine(&f, &ev, false);
    CHECK(e);
    int served = fake_run(e, &f, 20);
    const om_dir_store_t *st = om_dir_engine_store(e);
    /* certificates, the consensus, then the microdescriptors in one batch; nothing else. */
    CHECK_EQ_INT(served, 3);
    CHECK(!strcmp(f.paths[0], "/tor/keys/all"));
    CHECK(!strcmp(f.paths[1], "/tor/status-vote/current/consensus-microdesc"));
    CHECK(!strncmp(f.paths[2], "/tor/micro/d/", 13));
    CHECK(f.srvs[0].is_authority && !memcmp(f.srvs[0].rsa_fp, f.srvs[2].rsa_fp, 20));
    CHECK_EQ_INT(om_dir_store_usable_certs(st, fake_now_value), 3);
    CHECK_EQ_INT(ev.certs_changed, 1);
    CHECK_EQ_INT(ev.consensus_changed, 1);
    CHECK_EQ_INT(ev.last_relays, 6);
    CHECK_EQ_INT(ev.last_valid_after, SNAP_VA);
    CHECK_EQ_INT(ev.mds_added, 6);
    CHECK(!ev.last_from_cache);
    CHECK(om_dir_engine_live(e, OM_DIR_CONSENSUS_MD));
    CHECK_EQ_INT(st->n_mds, 6);
    CHECK_EQ_INT(om_dir_store_missing_mds(st, NULL, 0, 255), 0);
    /* A client keeps no texts, no compressed forms, and no ns flavour. */
    CHECK(!st->mds[0].text && !st->cons[OM_DIR_FLAV_MD].z && !st->cons[OM_DIR_FLAV_NS].text);
    /* Idle until the refresh time, in dir-spec 5.1's client window. */
    CHECK_EQ_INT(f.idles, 1);
    time_t at = om_dir_engine_refresh_at(e, OM_DIR_CONSENSUS_MD);
    CHECK_MSG(at >= SNAP_VA + 35 && at < SNAP_VA + 39, "refresh at va+%lld",
              (long long)(at - SNAP_VA));
    CHECK_EQ_INT(om_dir_engine_wakeup(e), at);
    CHECK_EQ_INT(om_dir_engine_clock_behind(e), 0);
    /* At the refresh time the consensus is asked for again. */
    fake_now_value = at;
    om_dir_engine_step(e);
    CHECK(f.pending && !strcmp(fake_last_path(&f), "/tor/status-vote/current/consensus-microdesc"));
    om_dir_engine_free(e);
    CHECK_EQ_INT(f.cancels, 1);
    fake_free(&f);
}

/* inflate(z) == text */
static int same_inflated(const uint8_t *z, size_t zlen, const char *text, size_t len)
{
    uint8_t *plain = NULL;
    size_t plen = 0;
    int ok = om_inflate(z, zlen, 1 << 24, &plain, &plen) == 0 && plen == len &&
             !memcmp(plain, text, len);
    free(plain);
    return ok;
}

static void test_cache_end_to_end(void)
{
    fake_fetcher_t f;
    fake_events_t ev;
    fake_load_snapshot(&f);
    fake_now_value = SNAP_VA + 5;
    om_dir_engine_t *e = fake_engine(&f, &ev, true);
    CHECK(e);
    CHECK_RET(fake_run(e, &f, 20), 4);
    CHECK(!strcmp(f.paths[3], "/tor/status-vote/current/consensus"));
    const om_dir_store_t *st = om_dir_engine_store(e);
    const om_dir_doc_t *md = &st->cons[OM_DIR_FLAV_MD], *ns = &st->cons[OM_DIR_FLAV_NS];
    /* The documents as fetched, and their compressed forms, made when they were accepted. */
    CHECK(md->len == f.cons_md_len && !memcmp(md->text, f.cons_md, md->len));
    CHECK(ns->len == f.cons_ns_len && !memcmp(ns->text, f.cons_ns, ns->len));
    CHECK(md->z && same_inflated(md->z, md->zlen, md->text, md->len));
    CHECK(ns->z && same_inflated(ns->z, ns->zlen, ns->text, ns->len));
    CHECK(st->certs_doc.len == f.certs_len && !memcmp(st->certs_doc.text, f.certs, f.certs_len));
    CHECK(st->certs_doc.z &&
          same_inflated(st->certs_doc.z, st->certs_doc.zlen, f.certs, f.certs_len));
    /* Each microdescriptor's chunk; chunks joined in any order make one valid stream. */
    CHECK_EQ_INT(st->n_mds, 6);
    const om_dir_chunk_t *chunks[6];
    size_t total = 0;
    char all[16384];
    for (int i = 0; i < 6; i++) {
        const om_dir_md_t *m = &st->mds[5 - i];
        CHECK(m->text && m->chunk.data && m->chunk.text_len == m->len);
        chunks[i] = &m->chunk;
        memcpy(all + total, m->text, m->len);
        total += m->len;
    }
    uint8_t *z;
    size_t zlen;
    CHECK(om_dir_chunks_join(chunks, 6, &z, &zlen) == 0);
    CHECK(same_inflated(z, zlen, all, total));
    free(z);
    /* A cache refreshes in dir-spec 4's window, right after fresh-until. */
    time_t at = om_dir_engine_refresh_at(e, OM_DIR_CONSENSUS_MD);
    CHECK(at >= SNAP_VA + 21 && at < SNAP_VA + 31);
    om_dir_engine_free(e);
    fake_free(&f);
}

/* ---------------------------------------------------------------- failures */

static void test_fetch_failure_backoff(void)
{
    fake_fetcher_t f;
    fake_events_t ev;
    fake_load_snapshot(&f);
    fake_now_value = SNAP_VA + 1;
    om_dir_engine_t *e = fake_engine(&f, &ev, false);
    om_dir_engine_step(e);
    CHECK(f.pending && !strcmp(fake_last_path(&f), "/tor/keys/all"));
    /* Each failure doubles the wait, and the next attempt goes to the next authority. */
    static const int waits[] = {1, 2, 4, 8};
    for (int i = 0; i < 4; i++) {
        const om_dirsrv_t prev = *fake_last_srv(&f);
        fake_fail(&f, "connection refused");
        CHECK_EQ_INT(om_dir_engine_wakeup(e), fake_now_value);
        om_dir_engine_step(e);
        CHECK_MSG(!f.pending, "retried at once after failure %d", i + 1);
        CHECK_EQ_INT(om_dir_engine_wakeup(e), fake_now_value + waits[i]);
        fake_now_value += waits[i] - 1;
        om_dir_engine_step(e);
        CHECK(!f.pending);
        fake_now_value += 1;
        om_dir_engine_step(e);
        CHECK(f.pending && !strcmp(fake_last_path(&f), "/tor/keys/all"));
        CHECK_MSG(memcmp(fake_last_srv(&f)->rsa_fp, prev.rsa_fp, 20) != 0,
                  "retry %d went to the same source", i + 1);
    }
    /* An HTTP error is a failure too; then a success resets the delay. */
    f.done(f.ctx, 503, NULL, 0, NULL);
    CHECK_EQ_INT(om_dir_engine_wakeup(e), fake_now_value);
    fake_now_value += 16;
    om_dir_engine_step(e);
    fake_serve(&f);
    om_dir_engine_step(e);
    CHECK(f.pending && !strcmp(fake_last_path(&f), "/tor/status-vote/current/consensus-microdesc"));
    fake_fail(&f, "timeout");
    om_dir_engine_step(e);
    CHECK_EQ_INT(om_dir_engine_wakeup(e), fake_now_value + 1); /* consensus: its own count */
    /* A fetcher that cannot even start the request: also a failure with backoff. */
    fake_now_value += 1;
    f.refuse_next = true;
    om_dir_engine_step(e);
    CHECK(!f.pending);
    om_dir_engine_step(e);
    CHECK_EQ_INT(om_dir_engine_wakeup(e), fake_now_value + 2);
    fake_now_value += 2;
    CHECK(fake_run(e, &f, 10) >= 2); /* consensus, microdescriptors (and maybe a refresh) */
    CHECK_EQ_INT(ev.mds_added, 6);
    om_dir_engine_free(e);
    fake_free(&f);
}

/* Replace the first occurrence of from by to in a malloc'd copy. */
static char *edit(const char *t, size_t len, const char *from, const char *to, size_t *outlen)
{
    const char *at = strstr(t, from);
    if (!at) return NULL;
    size_t fl = strlen(from), tl = strlen(to), pre = (size_t)(at - t);
    char *out = malloc(len - fl + tl + 1);
    memcpy(out, t, pre);
    memcpy(out + pre, to, tl);
    memcpy(out + pre + tl, at + fl, len - pre - fl + 1);
    *outlen = len - fl + tl;
    return out;
}

static void test_md_not_listed_is_dropped(void)
{
    fake_fetcher_t f;
    fake_events_t ev;
    fake_load_snapshot(&f);
    fake_now_value = SNAP_VA + 1;
    om_dir_engine_t *e = fake_engine(&f, &ev, false);
    CHECK_RET(fake_run(e, &f, 2), 2); /* certificates, consensus */
    om_dir_engine_step(e);
    CHECK(f.pending && !strncmp(fake_last_path(&f), "/tor/micro/d/", 13));
    /* The server answers with all six, relay1's with another exit policy: it no longer hashes
     * to the digest the consensus lists for relay1. */
    size_t blen;
    char *body = edit(f.mds, f.mds_len, "p reject 25,119,6000-6100", "p accept 1-65535", &blen);
    CHECK(body);
    f.pending = false;
    f.done(f.ctx, 200, body, blen, NULL);
    const om_dir_store_t *st = om_dir_engine_store(e);
    CHECK_EQ_INT(st->n_mds, 5);
    CHECK_EQ_INT(ev.mds_added, 5);
    uint8_t missing[2][32], relay1[32];
    CHECK_EQ_INT(om_dir_store_missing_mds(st, missing, 2, 255), 1);
    CHECK_EQ_INT(om_base64_decode("wb6JLqttkA3LcoJAM+dahYquC670bmqTRok5kTlERyU", 43, relay1, 32),
                 32);
    CHECK_MEM(missing[0], relay1, 32);
    /* It is asked for again; servers that keep sending the altered one count as lacking it (a
     * failure: backoff, next source), and after OM_DIR_MD_MAX_MISSES of them it is no longer
     * asked for until the next consensus. */
    for (int i = 0; i < OM_DIR_MD_MAX_MISSES - 1; i++) {
        om_dir_engine_step(e);
        CHECK_MSG(f.pending && !strncmp(fake_last_path(&f), "/tor/micro/d/", 13), "round %d", i);
        CHECK_EQ_INT(strlen(fake_last_path(&f)), 13 + 43); /* just the one missing */
        f.pending = false;
        f.done(f.ctx, 200, body, blen, NULL);
        CHECK_EQ_INT(st->n_mds, 5);
        fake_now_value += om_dir_retry_delay(i + 1);
    }
    om_dir_engine_step(e);
    CHECK(!f.pending);
    CHECK_EQ_INT(om_dir_engine_wakeup(e), om_dir_engine_refresh_at(e, OM_DIR_CONSENSUS_MD));
    free(body);
    om_dir_engine_free(e);
    fake_free(&f);
}

/* ---------------------------------------------------------------- the role's own cache */

static void test_load_from_cache(void)
{
    fake_fetcher_t f;
    fake_events_t ev;
    fake_load_snapshot(&f);
    fake_now_value = SNAP_VA + 1;
    om_dir_engine_t *e = fake_engine(&f, &ev, false);
    size_t seen = 0, taken = 0;
    /* Microdescriptors without a consensus: none is listed yet. */
    CHECK_EQ_INT(om_dir_engine_load(e, OM_DIR_MICRODESCS, f.mds, f.mds_len, &seen, &taken), -1);
    CHECK(seen == 6 && taken == 0);
    CHECK_EQ_INT(om_dir_engine_load(e, OM_DIR_CERTS, f.certs, f.certs_len, NULL, NULL), 0);
    CHECK_EQ_INT(om_dir_engine_load(e, OM_DIR_CONSENSUS_MD, f.cons_md, f.cons_md_len, NULL, NULL),
                 0);
    CHECK(ev.last_from_cache && ev.consensus_changed == 1);
    CHECK_EQ_INT(om_dir_engine_load(e, OM_DIR_MICRODESCS, f.mds, f.mds_len, &seen, &taken), 0);
    CHECK(seen == 6 && taken == 6 && ev.last_from_cache);
    /* Everything is held and fresh: nothing to fetch until the refresh time. */
    om_dir_engine_step(e);
    CHECK_EQ_INT(f.n_reqs, 0);
    CHECK_EQ_INT(om_dir_engine_wakeup(e), om_dir_engine_refresh_at(e, OM_DIR_CONSENSUS_MD));
    /* A cached consensus with a changed byte in its signed part is refused. */
    om_dir_engine_t *e2 = fake_engine(&f, &ev, false);
    size_t len;
    char *forged = edit(f.cons_md, f.cons_md_len, "w Bandwidth=", "w Bandwidth=7", &len);
    CHECK(om_dir_engine_load(e2, OM_DIR_CERTS, f.certs, f.certs_len, NULL, NULL) == 0);
    CHECK_EQ_INT(om_dir_engine_load(e2, OM_DIR_CONSENSUS_MD, forged, len, NULL, NULL), -1);
    CHECK(!om_dir_engine_consensus(e2));
    free(forged);
    om_dir_engine_free(e2);
    om_dir_engine_free(e);
    fake_free(&f);
}

static const om_test_t tests[] = {
    OM_TEST(test_refresh_windows),       OM_TEST(test_tolerance_and_retry_rules),
    OM_TEST(test_client_end_to_end),     OM_TEST(test_cache_end_to_end),
    OM_TEST(test_fetch_failure_backoff), OM_TEST(test_md_not_listed_is_dropped),
    OM_TEST(test_load_from_cache),       {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("dir_engine", tests, argc, argv);
}
