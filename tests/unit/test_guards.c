/* test_guards.c — entry guards on a real tor 0.4.9 test-network snapshot: sampling, stable
 * choice, persistence across a restart (state.json, mode 0600), failure back-off, success, and a
 * guard that leaves the consensus. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "op/guards.h"
#include "snapshot_load.h"
#include "test.h"

static char state_path[256];

static void fresh_state(void)
{
    snprintf(state_path, sizeof state_path, "/tmp/om-test-guards-%d.json", (int)getpid());
    unlink(state_path);
}

static void test_sample_pick_and_persist(void)
{
    fresh_state();
    om_nodelist_t nl;
    memset(&nl, 0, sizeof nl);
    CHECK(snap_load(&nl, 1) == 0);
    om_guards_t g;
    CHECK(om_guards_init(&g, state_path, 0) == 0);
    CHECK_EQ_INT(g.n_sampled, 0);
    om_guards_update(&g, &nl, NULL, NULL);
    CHECK(g.n_sampled >= 1);
    const om_routerstatus_t *first = om_guards_pick(&g, &nl, NULL, NULL);
    CHECK(first && (first->flags & OM_RS_GUARD));
    /* The same guard again and again (primary guard), not a new one per circuit. */
    for (int i = 0; i < 20; i++)
        CHECK(om_guards_pick(&g, &nl, NULL, NULL) == first);
    om_guards_note_success(&g, first->rsa_id);
    CHECK(om_guards_save(&g) == 0);
    struct stat st;
    CHECK(stat(state_path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    /* "Restart": a new guard set from the same file picks the same guard. */
    om_guards_t g2;
    CHECK(om_guards_init(&g2, state_path, 0) == 0);
    CHECK_EQ_INT(g2.n_sampled, g.n_sampled);
    CHECK(g2.sampled[0].confirmed);
    om_guards_update(&g2, &nl, NULL, NULL);
    CHECK(om_guards_pick(&g2, &nl, NULL, NULL) == first);
    unlink(state_path);
    om_nodelist_clear(&nl);
}

static void test_failure_backoff_and_success(void)
{
    fresh_state();
    om_nodelist_t nl;
    memset(&nl, 0, sizeof nl);
    CHECK(snap_load(&nl, 1) == 0);
    om_guards_t g;
    om_guards_init(&g, state_path, 0);
    om_guards_update(&g, &nl, NULL, NULL);
    CHECK(g.n_sampled >= 2);
    const om_routerstatus_t *a = om_guards_pick(&g, &nl, NULL, NULL);
    om_guards_note_failure(&g, a->rsa_id);
    const om_routerstatus_t *b = om_guards_pick(&g, &nl, NULL, NULL);
    CHECK(b && b != a);
    /* Success on the first guard makes it the choice again. */
    om_guards_note_success(&g, a->rsa_id);
    CHECK(om_guards_pick(&g, &nl, NULL, NULL) == a);
    unlink(state_path);
    om_nodelist_clear(&nl);
}

static void test_guard_leaving_consensus_not_used(void)
{
    fresh_state();
    om_nodelist_t nl;
    memset(&nl, 0, sizeof nl);
    CHECK(snap_load(&nl, 1) == 0);
    om_guards_t g;
    om_guards_init(&g, state_path, 0);
    om_guards_update(&g, &nl, NULL, NULL);
    const om_routerstatus_t *a = om_guards_pick(&g, &nl, NULL, NULL);
    CHECK(a);
    uint8_t id[20];
    memcpy(id, a->rsa_id, 20);
    /* The next consensus says it is not Running. */
    ((om_routerstatus_t *)a)->flags &= ~OM_RS_RUNNING;
    om_guards_update(&g, &nl, NULL, NULL);
    const om_routerstatus_t *b = om_guards_pick(&g, &nl, NULL, NULL);
    CHECK(b && memcmp(b->rsa_id, id, 20) != 0);
    /* It stays in the sample (it may come back). */
    bool kept = false;
    for (size_t i = 0; i < g.n_sampled; i++)
        kept |= !memcmp(g.sampled[i].rsa_id, id, 20) && !g.sampled[i].listed;
    CHECK(kept);
    unlink(state_path);
    om_nodelist_clear(&nl);
}

static void test_corrupt_state_file_is_ignored(void)
{
    fresh_state();
    FILE *f = fopen(state_path, "w");
    CHECK(f);
    fputs("{\"guards\": [ {\"id\": \"nothex\"}, 17, ", f);
    fclose(f);
    om_guards_t g;
    CHECK(om_guards_init(&g, state_path, 0) == 0);
    CHECK_EQ_INT(g.n_sampled, 0);
    unlink(state_path);
}

static const om_test_t tests[] = {
    OM_TEST(test_sample_pick_and_persist),
    OM_TEST(test_failure_backoff_and_success),
    OM_TEST(test_guard_leaving_consensus_not_used),
    OM_TEST(test_corrupt_state_file_is_ignored),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("guards", tests, argc, argv);
}
