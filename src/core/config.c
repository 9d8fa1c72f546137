/* config.c — the configuration engine's store (see config.h): registered tables and their
 * values, assignment with the precedence levels (default < file < environment < command line),
 * defaults and TestingTorNetwork's changed defaults, the getters, and om_config_validate's
 * order (the engine's own checks, then each table's). Syntax, units, ports, help and the general
 * options live in the other config_*.c files. */
#include "core/config_internal.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Largest parsed object a table's option may ask room for (om_config_option_t.obj_size). */
#define MAX_OBJ_SIZE 1024

bool om_cfg_is_list_type(om_conf_type_t t)
{
    return t == OM_CONF_PORT || t == OM_CONF_LINELIST || t == OM_CONF_CSV;
}

int om_cfg_find(const om_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_vals; i++)
        if (!strcasecmp(cfg->vals[i].def->name, name)) return (int)i;
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Values */

static void val_clear(val_t *v)
{
    free(v->s);
    v->s = NULL;
    for (size_t i = 0; i < v->n_lines; i++)
        free(v->lines[i]);
    free(v->lines);
    v->lines = NULL;
    v->n_lines = 0;
    free(v->objs);
    v->objs = NULL;
    v->n_objs = 0;
    v->i = 0;
    v->d = 0;
}

static void val_push_line(val_t *v, const char *line)
{
    v->lines = om_cfg_realloc(v->lines, (v->n_lines + 2) * sizeof *v->lines);
    v->lines[v->n_lines++] = om_cfg_strdup(line);
    v->lines[v->n_lines] = NULL;
}

static void val_push_obj(val_t *v, const void *obj)
{
    v->objs = om_cfg_realloc(v->objs, (v->n_objs + 1) * v->obj_size);
    memcpy(v->objs + v->n_objs * v->obj_size, obj, v->obj_size);
    v->n_objs++;
}

static bool testing_network(const om_config_t *cfg)
{
    int t = om_cfg_find(cfg, "TestingTorNetwork");
    return t >= 0 && cfg->vals[t].i == 1;
}

/* The items of one CSV value, checked; all of them or none are added. */
static int assign_csv(val_t *v, const char *value, bool replace, bool keep, int origin,
                      om_config_value_t *p, const char *where, char *why)
{
    const om_config_option_t *d = v->def;
    char *copy = om_cfg_strdup(value);
    char **items = NULL;
    size_t n = 0;
    int rc = 0;
    char *save = NULL;
    for (char *it = strtok_r(copy, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
        char *t = om_cfg_trimmed_dup(it, strlen(it));
        if (!*t) {
            free(t);
            continue;
        }
        items = om_cfg_realloc(items, (n + 1) * sizeof *items);
        items[n++] = t;
        if (d->choices && !om_cfg_in_choices(d->choices, t)) {
            om_cfg_seterr(why, REASON_LEN, "\"%s\" is not one of %s", t, d->choices);
            rc = -1;
            break;
        }
        if (d->check && d->check(t, p, where, why, REASON_LEN) < 0) {
            rc = -1;
            break;
        }
    }
    free(copy);
    if (rc == 0 && n == 0) {
        om_cfg_seterr(why, REASON_LEN, "no items in \"%s\"", value);
        rc = -1;
    }
    if (rc == 0 && keep) {
        if (replace) val_clear(v);
        for (size_t i = 0; i < n; i++)
            val_push_line(v, items[i]);
        if (origin > v->origin) v->origin = origin;
    }
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
    return rc;
}

int om_cfg_assign(om_config_t *cfg, size_t idx, const char *value, int origin, int mode,
                  const char *where, char *reason)
{
    val_t *v = &cfg->vals[idx];
    const om_config_option_t *d = v->def;
    char why[REASON_LEN] = "";
    bool list = om_cfg_is_list_type(d->type);
    /* A lower level never replaces what a higher one set (the value is still checked). */
    bool keep = origin >= v->origin;

    if (origin > ORIGIN_DEFAULT && (d->flags & OM_OPT_REFUSED)) {
        om_cfg_seterr(reason, REASON_LEN, "%s: not supported by onionmesh: %s", d->name, d->help);
        return -1;
    }
    if (origin > ORIGIN_DEFAULT && (d->flags & OM_OPT_AUTHORITY_ONLY))
        om_info("%s: %s is for directory authorities only; accepted and ignored", where, d->name);

    if (mode == MODE_CLEAR) {
        if (!keep) return 0;
        if (list) {
            val_clear(v);
            v->origin = origin;
        } else {
            om_cfg_reset_default(cfg, idx, testing_network(cfg));
        }
        return 0;
    }
    if (!*value) {
        if (list) {
            if (keep) om_cfg_reset_default(cfg, idx, testing_network(cfg));
            return 0; /* an empty value resets a repeatable option */
        }
        om_cfg_seterr(reason, REASON_LEN, "%s: option needs a value", d->name);
        return -1;
    }

    alignas(max_align_t) uint8_t objbuf[MAX_OBJ_SIZE];
    om_config_value_t p = {.obj = objbuf};

    if (!list) {
        char *text = NULL;
        if (om_cfg_parse_scalar(d, value, &p, &text, why) < 0 ||
            (d->check && d->check(value, &p, where, why, sizeof why) < 0)) {
            free(text);
            om_cfg_seterr(reason, REASON_LEN, "%s: %s", d->name, why);
            return -1;
        }
        if (!keep) {
            free(text);
            return 0;
        }
        free(v->s);
        v->s = text;
        v->i = p.i;
        v->d = p.d;
        v->origin = origin;
        return 0;
    }

    /* Lists: parse everything first so a bad value changes nothing. A level's first line
     * replaces the lines of the levels below. */
    bool replace = mode == MODE_SET && (v->origin < origin || (d->flags & OM_OPT_LAST_WINS));
    if (d->type == OM_CONF_CSV) {
        if (assign_csv(v, value, replace, keep, origin, &p, where, why) < 0) {
            om_cfg_seterr(reason, REASON_LEN, "%s: %s", d->name, why);
            return -1;
        }
        return 0;
    }
    if (d->type == OM_CONF_PORT &&
        om_cfg_parse_port(d, value, (om_port_t *)objbuf, &p.has_obj, where, why) < 0) {
        om_cfg_seterr(reason, REASON_LEN, "%s: %s", d->name, why);
        return -1;
    }
    if (d->check && d->check(value, &p, where, why, sizeof why) < 0) {
        om_cfg_seterr(reason, REASON_LEN, "%s: %s", d->name, why);
        return -1;
    }
    if (!keep) return 0;
    if (replace) val_clear(v);
    val_push_line(v, value);
    if (p.has_obj) val_push_obj(v, objbuf);
    if (origin > v->origin) v->origin = origin;
    return 0;
}

void om_cfg_reset_default(om_config_t *cfg, size_t idx, bool testing)
{
    val_t *v = &cfg->vals[idx];
    const om_config_option_t *d = v->def;
    char reason[REASON_LEN];
    val_clear(v);
    v->origin = ORIGIN_DEFAULT;
    if (d->def_lines) {
        for (size_t i = 0; d->def_lines[i]; i++) {
            if (om_cfg_assign(cfg, idx, d->def_lines[i], ORIGIN_DEFAULT, MODE_APPEND, "default",
                              reason) < 0) {
                om_err("config: bad default for %s: %s", d->name, reason);
                abort();
            }
        }
        return;
    }
    const char *def = (testing && d->testing_def) ? d->testing_def : d->def;
    if (!def) return;
    if (om_cfg_assign(cfg, idx, def, ORIGIN_DEFAULT, MODE_APPEND, "default", reason) < 0) {
        if (d->type == OM_CONF_PATH) return; /* "~/..." without $HOME: no default */
        om_err("config: bad default: %s", reason);
        abort();
    }
    v->origin = ORIGIN_DEFAULT;
}

/* ------------------------------------------------------------------------------------------ */
/* Lifecycle and tables */

om_config_t *om_config_new(void)
{
    om_config_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return NULL;
    char err[256];
    if (om_config_register(cfg, &om_config_general_table, err, sizeof err) < 0 ||
        om_config_register(cfg, &om_config_authority_table, err, sizeof err) < 0) {
        om_err("config: %s", err);
        abort();
    }
    return cfg;
}

void om_config_free(om_config_t *cfg)
{
    if (!cfg) return;
    for (size_t i = 0; i < cfg->n_vals; i++)
        val_clear(&cfg->vals[i]);
    free(cfg->vals);
    free(cfg->config_file);
    free(cfg);
}

bool om_config_has_table(const om_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_tables; i++)
        if (!strcmp(cfg->tables[i]->name, name)) return true;
    return false;
}

bool om_config_has_option(const om_config_t *cfg, const char *name)
{
    return om_cfg_find(cfg, name) >= 0;
}

int om_config_register(om_config_t *cfg, const om_config_table_t *t, char *err, size_t errlen)
{
    if (om_config_has_table(cfg, t->name))
        return om_errf(err, errlen, "option table \"%s\" is registered already", t->name);
    if (cfg->n_tables >= OM_CONFIG_MAX_TABLES)
        return om_errf(err, errlen, "no room for option table \"%s\"", t->name);
    for (size_t i = 0; i < t->n_options; i++) {
        const om_config_option_t *o = &t->options[i];
        int k = om_cfg_find(cfg, o->name);
        if (k >= 0)
            return om_errf(err, errlen, "option %s of table \"%s\" is in table \"%s\" already",
                           o->name, t->name, cfg->vals[k].table->name);
        for (size_t j = 0; j < i; j++)
            if (!strcasecmp(t->options[j].name, o->name))
                return om_errf(err, errlen, "option %s twice in table \"%s\"", o->name, t->name);
        if (o->obj_size > MAX_OBJ_SIZE || !o->help)
            return om_errf(err, errlen, "option %s of table \"%s\": bad definition", o->name,
                           t->name);
    }
    cfg->tables[cfg->n_tables++] = t;
    size_t first = cfg->n_vals;
    cfg->vals = om_cfg_realloc(cfg->vals, (first + t->n_options) * sizeof *cfg->vals);
    for (size_t i = 0; i < t->n_options; i++) {
        val_t *v = &cfg->vals[first + i];
        memset(v, 0, sizeof *v);
        v->def = &t->options[i];
        v->table = t;
        v->obj_size = v->def->type == OM_CONF_PORT ? sizeof(om_port_t) : v->def->obj_size;
    }
    cfg->n_vals += t->n_options;
    bool testing = testing_network(cfg);
    for (size_t i = 0; i < t->n_options; i++)
        om_cfg_reset_default(cfg, first + i, testing);
    return 0;
}

int om_config_option_type(const om_config_t *cfg, const char *name)
{
    int i = om_cfg_find(cfg, name);
    return i < 0 ? -1 : (int)cfg->vals[i].def->type;
}

const char *om_config_file(const om_config_t *cfg)
{
    return cfg->config_file;
}

/* ------------------------------------------------------------------------------------------ */
/* Getters */

static const val_t *need(const om_config_t *cfg, const char *name, unsigned type_mask)
{
    int i = om_cfg_find(cfg, name);
    if (i < 0 || !(type_mask & (1u << cfg->vals[i].def->type))) {
        om_err("config: %s option \"%s\" asked for%s", i < 0 ? "unregistered" : "", name,
               i < 0 ? "" : " with the wrong type");
        abort();
    }
    return &cfg->vals[i];
}

#define T(x) (1u << (x))

val_t *om_cfg_val(om_config_t *cfg, const char *name)
{
    return (val_t *)need(cfg, name, ~0u);
}

bool om_config_is_set(const om_config_t *cfg, const char *name)
{
    return need(cfg, name, ~0u)->origin > ORIGIN_DEFAULT;
}

int om_config_get_bool(const om_config_t *cfg, const char *name)
{
    return (int)need(cfg, name, T(OM_CONF_BOOL) | T(OM_CONF_AUTOBOOL))->i;
}

int64_t om_config_get_int(const om_config_t *cfg, const char *name)
{
    return need(cfg, name,
                T(OM_CONF_INT) | T(OM_CONF_BOOL) | T(OM_CONF_AUTOBOOL) | T(OM_CONF_INTERVAL) |
                    T(OM_CONF_MEMUNIT))
        ->i;
}

double om_config_get_double(const om_config_t *cfg, const char *name)
{
    return need(cfg, name, T(OM_CONF_DOUBLE))->d;
}

const char *om_config_get_string(const om_config_t *cfg, const char *name)
{
    return need(cfg, name, T(OM_CONF_STRING) | T(OM_CONF_PATH))->s;
}

const char *const *om_config_get_lines(const om_config_t *cfg, const char *name, size_t *n)
{
    const val_t *v = need(cfg, name, T(OM_CONF_LINELIST) | T(OM_CONF_CSV) | T(OM_CONF_PORT));
    *n = v->n_lines;
    static const char *const empty[] = {NULL};
    return v->lines ? (const char *const *)v->lines : empty;
}

const om_port_t *om_config_ports(const om_config_t *cfg, const char *name, size_t *n)
{
    const val_t *v = need(cfg, name, T(OM_CONF_PORT));
    *n = v->n_objs;
    return (const om_port_t *)v->objs;
}

om_port_t *om_config_ports_mutable(om_config_t *cfg, const char *name, size_t *n)
{
    const val_t *v = need(cfg, name, T(OM_CONF_PORT));
    *n = v->n_objs;
    return (om_port_t *)v->objs;
}

const om_dir_authority_t *om_config_dir_authorities(const om_config_t *cfg, size_t *n)
{
    const val_t *v = need(cfg, "DirAuthority", T(OM_CONF_LINELIST));
    *n = v->n_objs;
    return (const om_dir_authority_t *)v->objs;
}

int om_config_adjust(om_config_t *cfg, const char *name, const char *value, char *err,
                     size_t errlen)
{
    val_t *v = om_cfg_val(cfg, name);
    if (om_cfg_is_list_type(v->def->type)) return om_errf(err, errlen, "%s is a list", name);
    char why[REASON_LEN];
    char *text = NULL;
    alignas(max_align_t) uint8_t objbuf[MAX_OBJ_SIZE];
    om_config_value_t p = {.obj = objbuf};
    if (om_cfg_parse_scalar(v->def, value, &p, &text, why) < 0) {
        free(text);
        return om_errf(err, errlen, "%s: %s", name, why);
    }
    free(v->s);
    v->s = text;
    v->i = p.i;
    v->d = p.d;
    return 0;
}

void om_config_general_options(const om_config_t *cfg, om_general_options_t *g)
{
    memset(g, 0, sizeof *g);
    g->data_dir = om_config_get_string(cfg, "DataDirectory");
    g->run_as_daemon = om_config_get_bool(cfg, "RunAsDaemon") == 1;
    const char *sl = om_config_get_string(cfg, "SafeLogging");
    g->safe_logging = !strcasecmp(sl, "0")       ? OM_SAFELOG_NONE
                      : !strcasecmp(sl, "relay") ? OM_SAFELOG_RELAY
                                                 : OM_SAFELOG_ALL;
    g->protocol_warnings = om_config_get_bool(cfg, "ProtocolWarnings") == 1;
    g->conn_limit = om_config_get_int(cfg, "ConnLimit");
    g->testing = om_config_get_bool(cfg, "TestingTorNetwork") == 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Validation: the engine's own rules, then each table's validate in registration order. */

/* tor refuses "X 0" together with other X lines: contradictory. */
static int check_port_conflicts(om_config_t *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->n_vals; i++) {
        const val_t *v = &cfg->vals[i];
        if (v->def->type != OM_CONF_PORT || !v->n_objs || v->n_lines <= v->n_objs) continue;
        return om_errf(err, errlen,
                       "%s: nonzero ports together with \"%s 0\"; did you mean to disable %s or "
                       "not?",
                       v->def->name, v->def->name, v->def->name);
    }
    return 0;
}

/* RunAsDaemon moves to DataDirectory (as tor's finish_daemon): relative paths would then name
 * other files, so tor refuses them with RunAsDaemon. */
static int check_relative_paths(om_config_t *cfg, char *err, size_t errlen)
{
    if (om_config_get_bool(cfg, "RunAsDaemon") != 1) return 0;
    for (size_t i = 0; i < cfg->n_vals; i++) {
        const val_t *v = &cfg->vals[i];
        if (v->def->type == OM_CONF_PATH && v->s && v->s[0] != '/')
            return om_errf(err, errlen,
                           "%s \"%s\" is a relative path; RunAsDaemon is not compatible with "
                           "relative paths",
                           v->def->name, v->s);
    }
    size_t n;
    const char *const *logs = om_config_get_lines(cfg, "Log", &n);
    for (size_t i = 0; i < n; i++) {
        om_log_spec_t s;
        if (om_config_parse_log(logs[i], &s, NULL, 0) == 0 && s.dest == OM_LOG_DEST_FILE &&
            s.path[0] != '/')
            return om_errf(err, errlen,
                           "Log file \"%s\" is a relative path; RunAsDaemon is not compatible "
                           "with relative paths",
                           s.path);
    }
    return 0;
}

int om_config_validate(om_config_t *cfg, char *err, size_t errlen)
{
    /* TestingTorNetwork changes some defaults (`man tor` TestingTorNetwork). */
    bool testing = testing_network(cfg);
    for (size_t i = 0; i < cfg->n_vals; i++)
        if (cfg->vals[i].def->testing_def && cfg->vals[i].origin == ORIGIN_DEFAULT)
            om_cfg_reset_default(cfg, i, testing);
    if (check_port_conflicts(cfg, err, errlen) < 0 || check_relative_paths(cfg, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < cfg->n_tables; i++)
        if (cfg->tables[i]->validate && cfg->tables[i]->validate(cfg, err, errlen) < 0) return -1;
    return 0;
}
