/* guards.c — entry guards (guard-spec, basics): a sampled set chosen by guard weight, used in
 * order (the first usable ones are the primary guards), failures backed off, the set persisted
 * as JSON (cJSON) in DataDirectory/state.json, mode 0600, written atomically. */
#include "op/guards.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/crypto.h"
#include "core/log.h"
#include "op/nodesel.h"

#define RETRY_PRIMARY_S (10 * 60)
#define RETRY_OTHER_S   (60 * 60)
#define SAMPLE_TARGET   6

int om_guards_init(om_guards_t *g, const char *state_path, int n_primary)
{
    memset(g, 0, sizeof *g);
    g->n_primary = n_primary > 0 ? n_primary : 1;
    if (!state_path) return 0;
    snprintf(g->state_path, sizeof g->state_path, "%s", state_path);
    FILE *f = fopen(state_path, "r");
    if (!f) return 0;
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cJSON *root = cJSON_Parse(buf);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "guards");
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (g->n_sampled >= OM_GUARDS_MAX_SAMPLED) break;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
        om_guard_t *gd = &g->sampled[g->n_sampled];
        memset(gd, 0, sizeof *gd);
        if (!cJSON_IsString(id) ||
            om_hex_decode(id->valuestring, strlen(id->valuestring), gd->rsa_id, 20) < 0)
            continue;
        const cJSON *v;
        if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(it, "nickname")))
            snprintf(gd->nickname, sizeof gd->nickname, "%s", v->valuestring);
        if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(it, "added")))
            gd->added = (time_t)v->valuedouble;
        if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(it, "unreachable_since")))
            gd->unreachable_since = (time_t)v->valuedouble;
        if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(it, "failures")))
            gd->failures = v->valueint;
        gd->confirmed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "confirmed"));
        g->n_sampled++;
    }
    if (root && g->n_sampled)
        om_info("Loaded %zu entry guards from %s", g->n_sampled, state_path);
    else if (!root)
        om_warn("Ignoring unreadable guard state in %s", state_path);
    cJSON_Delete(root);
    return 0;
}

int om_guards_save(om_guards_t *g)
{
    if (!g->state_path[0]) return 0;
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "guards");
    for (size_t i = 0; i < g->n_sampled; i++) {
        const om_guard_t *gd = &g->sampled[i];
        char hex[41];
        om_hex_encode(gd->rsa_id, 20, hex);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", hex);
        cJSON_AddStringToObject(o, "nickname", gd->nickname);
        cJSON_AddNumberToObject(o, "added", (double)gd->added);
        cJSON_AddNumberToObject(o, "unreachable_since", (double)gd->unreachable_since);
        cJSON_AddNumberToObject(o, "failures", gd->failures);
        cJSON_AddBoolToObject(o, "confirmed", gd->confirmed);
        cJSON_AddItemToArray(arr, o);
    }
    char *txt = cJSON_Print(root);
    cJSON_Delete(root);
    if (!txt) return -1;
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", g->state_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int r = -1;
    if (fd >= 0) {
        size_t len = strlen(txt);
        r = write(fd, txt, len) == (ssize_t)len ? 0 : -1;
        if (close(fd) < 0) r = -1;
        if (r == 0) r = rename(tmp, g->state_path);
    }
    free(txt);
    g->dirty = false;
    return r;
}

static om_guard_t *find(om_guards_t *g, const uint8_t id[20])
{
    for (size_t i = 0; i < g->n_sampled; i++)
        if (!memcmp(g->sampled[i].rsa_id, id, 20)) return &g->sampled[i];
    return NULL;
}

typedef struct {
    om_guards_t *g;
    const om_nodeset_t *entry, *exclude;
} sample_ctx_t;

static bool sample_ok(const om_routerstatus_t *rs, void *arg)
{
    sample_ctx_t *s = arg;
    if (!om_node_usable(rs) || !(rs->flags & OM_RS_GUARD) || find(s->g, rs->rsa_id)) return false;
    if (s->exclude && om_nodeset_contains(s->exclude, rs)) return false;
    if (s->entry && !om_nodeset_empty(s->entry) && !om_nodeset_contains(s->entry, rs)) return false;
    return true;
}

void om_guards_update(om_guards_t *g, const om_nodelist_t *nl, const om_nodeset_t *entry,
                      const om_nodeset_t *exclude)
{
    const om_consensus_t *c = nl->consensus;
    if (!c) return;
    size_t usable = 0;
    for (size_t i = 0; i < g->n_sampled; i++) {
        const om_routerstatus_t *rs = om_consensus_find(c, g->sampled[i].rsa_id);
        g->sampled[i].listed = rs && om_node_usable(rs) && (rs->flags & OM_RS_GUARD) &&
                               !(exclude && om_nodeset_contains(exclude, rs));
        usable += g->sampled[i].listed;
    }
    int nprim = om_consensus_param(c, "guard-n-primary-guards-to-use", 1, 1, 10);
    if (g->n_primary < nprim) g->n_primary = nprim;
    /* guard-spec: grow the sample until enough of it is usable. */
    sample_ctx_t sc = {g, entry, exclude};
    while (usable < SAMPLE_TARGET && g->n_sampled < OM_GUARDS_MAX_SAMPLED) {
        const om_routerstatus_t *rs = om_path_choose_weighted(nl, OM_POS_GUARD, sample_ok, &sc);
        if (!rs) break;
        om_guard_t *gd = &g->sampled[g->n_sampled++];
        memset(gd, 0, sizeof *gd);
        memcpy(gd->rsa_id, rs->rsa_id, 20);
        snprintf(gd->nickname, sizeof gd->nickname, "%s", rs->nickname);
        gd->added = time(NULL);
        gd->listed = true;
        usable++;
        g->dirty = true;
        om_info("Added %s to the entry guard sample", rs->nickname);
    }
    if (g->dirty) om_guards_save(g);
}

const om_routerstatus_t *om_guards_pick(om_guards_t *g, const om_nodelist_t *nl,
                                        om_guard_filter_fn ok, void *arg)
{
    const om_consensus_t *c = nl->consensus;
    if (!c) return NULL;
    time_t now = time(NULL);
    /* Pass 1: guards not backing off, in order (the first ones are the primary guards).
     * Pass 2: if all are backing off, the first acceptable one anyway (tor retries primary
     * guards when nothing else works). */
    for (int pass = 0; pass < 2; pass++) {
        int rank = 0;
        for (size_t i = 0; i < g->n_sampled; i++) {
            om_guard_t *gd = &g->sampled[i];
            if (!gd->listed) continue;
            const om_routerstatus_t *rs = om_consensus_find(c, gd->rsa_id);
            if (!rs) continue;
            int retry = rank < g->n_primary ? RETRY_PRIMARY_S : RETRY_OTHER_S;
            rank++;
            if (pass == 0 && gd->unreachable_since && gd->last_tried + retry > now) continue;
            if (ok && !ok(rs, arg)) continue;
            gd->last_tried = now;
            return rs;
        }
    }
    return NULL;
}

void om_guards_note_success(om_guards_t *g, const uint8_t rsa_id[20])
{
    om_guard_t *gd = find(g, rsa_id);
    if (!gd) return;
    bool changed = !gd->confirmed || gd->unreachable_since || gd->failures;
    gd->confirmed = true;
    gd->unreachable_since = 0;
    gd->failures = 0;
    if (changed) om_guards_save(g);
}

void om_guards_note_failure(om_guards_t *g, const uint8_t rsa_id[20])
{
    om_guard_t *gd = find(g, rsa_id);
    if (!gd) return;
    gd->failures++;
    gd->last_tried = time(NULL);
    if (!gd->unreachable_since) gd->unreachable_since = gd->last_tried;
    om_info("Entry guard %s marked unreachable (%d failures)", gd->nickname, gd->failures);
    om_guards_save(g);
}
