/* config_cmdline.c — the configuration's upper precedence levels: the environment
 * (ONIONMESH_<OPTION>=value) and the command line (`-f FILE`, the command flags, `--Option
 * value`), and om_config_set. See config.h for the precedence and the environment's syntax. */
#include "core/config_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

int om_config_set(om_config_t *cfg, const char *name, const char *value, char *err, size_t errlen)
{
    char reason[REASON_LEN];
    int idx = om_cfg_find(cfg, name);
    if (idx < 0) {
        char sug[128];
        om_cfg_suggestion(cfg, name, NULL, false, sug, sizeof sug);
        return om_errf(err, errlen, "unknown option \"%s\"%s", name, sug);
    }
    if (om_cfg_assign(cfg, (size_t)idx, value ? value : "", ORIGIN_CMDLINE, MODE_SET,
                      "command line", reason) < 0)
        return om_errf(err, errlen, "%s", reason);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Environment */

/* One ONIONMESH_<name>=value variable. A repeatable option's value is split on newlines and
 * ';'; the first piece replaces the lower levels' lines, the others are added to it. */
static int env_var(om_config_t *cfg, const char *var, const char *name, const char *value,
                   char *err, size_t errlen)
{
    char where[160], reason[REASON_LEN];
    snprintf(where, sizeof where, "environment: %s", var);
    int idx = om_cfg_find(cfg, name);
    if (idx < 0) {
        char sug[160];
        om_cfg_suggestion(cfg, name, OM_CONFIG_ENV_PREFIX, true, sug, sizeof sug);
        return om_errf(err, errlen, "%s: no such option%s", where, sug);
    }
    if (!om_cfg_is_list_type(cfg->vals[idx].def->type)) {
        char *v = om_cfg_trimmed_dup(value, strlen(value));
        int rc = om_cfg_assign(cfg, (size_t)idx, v, ORIGIN_ENV, MODE_SET, where, reason);
        free(v);
        return rc < 0 ? om_errf(err, errlen, "%s: %s", where, reason) : 0;
    }
    int rc = 0;
    size_t pieces = 0;
    for (const char *p = value; rc == 0 && *p;) {
        size_t n = strcspn(p, "\n;");
        char *v = om_cfg_trimmed_dup(p, n);
        if (*v) {
            rc = om_cfg_assign(cfg, (size_t)idx, v, ORIGIN_ENV, MODE_SET, where, reason);
            pieces++;
        }
        free(v);
        p += n;
        if (*p) p++;
    }
    if (rc == 0 && pieces == 0) /* empty: back to the default, as an empty line in the file */
        rc = om_cfg_assign(cfg, (size_t)idx, "", ORIGIN_ENV, MODE_SET, where, reason);
    return rc < 0 ? om_errf(err, errlen, "%s: %s", where, reason) : 0;
}

int om_config_load_env(om_config_t *cfg, char *const *envp, char *err, size_t errlen)
{
    if (!envp) envp = environ;
    size_t plen = strlen(OM_CONFIG_ENV_PREFIX);
    for (size_t i = 0; envp && envp[i]; i++) {
        const char *e = envp[i];
        const char *eq = strchr(e, '=');
        if (strncmp(e, OM_CONFIG_ENV_PREFIX, plen) != 0 || !eq || eq == e + plen) continue;
        char *var = om_cfg_strndup(e, (size_t)(eq - e));
        int rc = env_var(cfg, var, var + plen, eq + 1, err, errlen);
        free(var);
        if (rc < 0) return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Command line */

typedef struct {
    int idx, mode;
    const char *value;
} cmd_op_t;

typedef struct {
    cmd_op_t *ops;
    size_t n_ops;
    const char *file;
    bool ignore_missing;
    om_config_command_t cmd;
} cmdline_t;

/* One "--Option value" (or "Option value", "--+Option value", "--/Option") at argv[*i]. */
static int option_arg(const om_config_t *cfg, int argc, char **argv, int *i, cmdline_t *cl,
                      char *err, size_t errlen)
{
    const char *a = argv[*i];
    const char *s = a;
    if (*s == '-') s++;
    if (*s == '-') s++;
    int mode = MODE_SET;
    if (*s == '+' || *s == '/') {
        mode = *s == '+' ? MODE_APPEND : MODE_CLEAR;
        s++;
    }
    int idx = om_cfg_find(cfg, s);
    if (idx < 0) {
        char sug[128];
        om_cfg_suggestion(cfg, s, NULL, false, sug, sizeof sug);
        return om_errf(err, errlen, "command line: unknown option \"%s\"%s", a, sug);
    }
    const char *value = "";
    if (mode != MODE_CLEAR) {
        if (*i + 1 >= argc)
            return om_errf(err, errlen, "command line: option \"%s\" needs a value", a);
        value = argv[++*i];
    }
    cl->ops[cl->n_ops++] = (cmd_op_t){idx, mode, value};
    return 0;
}

static int read_argv(const om_config_t *cfg, int argc, char **argv, cmdline_t *cl, char *err,
                     size_t errlen)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-f") || !strcmp(a, "--torrc-file")) {
            if (i + 1 >= argc) return om_errf(err, errlen, "command line: %s needs a file name", a);
            cl->file = argv[++i];
        } else if (!strcmp(a, "--ignore-missing-torrc")) {
            cl->ignore_missing = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            cl->cmd = OM_CONFIG_CMD_HELP;
        } else if (!strcmp(a, "--version")) {
            if (cl->cmd != OM_CONFIG_CMD_HELP) cl->cmd = OM_CONFIG_CMD_VERSION;
        } else if (!strcmp(a, "--verify-config")) {
            if (cl->cmd == OM_CONFIG_CMD_RUN) cl->cmd = OM_CONFIG_CMD_VERIFY_CONFIG;
        } else if (!strcmp(a, "--list-fingerprint")) {
            if (cl->cmd == OM_CONFIG_CMD_RUN) cl->cmd = OM_CONFIG_CMD_LIST_FINGERPRINT;
        } else if (option_arg(cfg, argc, argv, &i, cl, err, errlen) < 0) {
            return -1;
        }
    }
    return 0;
}

int om_config_parse_args(om_config_t *cfg, int argc, char **argv, char *const *envp,
                         om_config_command_t *cmd, char *err, size_t errlen)
{
    cmdline_t cl = {.cmd = OM_CONFIG_CMD_RUN};
    cl.ops = calloc((size_t)(argc > 0 ? argc : 1), sizeof *cl.ops);
    if (!cl.ops) return om_errf(err, errlen, "out of memory");
    int rc = -1;
    if (read_argv(cfg, argc, argv, &cl, err, errlen) < 0) goto out;
    if (cmd) *cmd = cl.cmd;
    if (cl.cmd == OM_CONFIG_CMD_HELP || cl.cmd == OM_CONFIG_CMD_VERSION) {
        rc = 0;
        goto out;
    }
    if (cl.file) {
        free(cfg->config_file);
        cfg->config_file = om_cfg_strdup(cl.file);
        struct stat st;
        if (!(cl.ignore_missing && stat(cl.file, &st) < 0 && errno == ENOENT) &&
            om_config_load_file(cfg, cl.file, err, errlen) < 0)
            goto out;
    }
    if (om_config_load_env(cfg, envp, err, errlen) < 0) goto out;
    for (size_t k = 0; k < cl.n_ops; k++) {
        char reason[REASON_LEN];
        if (om_cfg_assign(cfg, (size_t)cl.ops[k].idx, cl.ops[k].value, ORIGIN_CMDLINE,
                          cl.ops[k].mode, "command line", reason) < 0) {
            om_cfg_seterr(err, errlen, "command line: %s", reason);
            goto out;
        }
    }
    rc = 0;
out:
    free(cl.ops);
    return rc;
}

int om_config_parse_argv(om_config_t *cfg, int argc, char **argv, om_config_command_t *cmd,
                         char *err, size_t errlen)
{
    return om_config_parse_args(cfg, argc, argv, NULL, cmd, err, errlen);
}
