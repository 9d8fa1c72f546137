/* config_internal.h — what the configuration engine's files (config*.c in src/core) share: the
 * stored values, the precedence levels, string helpers. Not for use outside the engine. */
#ifndef OM_CORE_CONFIG_INTERNAL_H
#define OM_CORE_CONFIG_INTERNAL_H

#include "core/config.h"

#define REASON_LEN 512

/* Precedence levels (config.h): a value from a level never replaces one from a higher level. */
enum { ORIGIN_DEFAULT = 0, ORIGIN_FILE = 1, ORIGIN_ENV = 2, ORIGIN_CMDLINE = 3 };
/* How a line applies: "Option", "+Option", "/Option". */
enum { MODE_SET, MODE_APPEND, MODE_CLEAR };

typedef struct {
    const om_config_option_t *def;
    const om_config_table_t *table;
    int origin;
    int64_t i;
    double d;
    char *s; /* scalar: the value (PATH: expanded); NULL if none */
    char **lines;
    size_t n_lines;
    uint8_t *objs;
    size_t n_objs;
    size_t obj_size;
} val_t;

struct om_config {
    const om_config_table_t *tables[OM_CONFIG_MAX_TABLES];
    size_t n_tables;
    val_t *vals;
    size_t n_vals;
    char *config_file;
};

/* config_util.c */
__attribute__((format(printf, 3, 4))) void om_cfg_seterr(char *err, size_t errlen, const char *fmt,
                                                         ...);
char *om_cfg_strdup(const char *s);
char *om_cfg_strndup(const char *s, size_t n);
void *om_cfg_realloc(void *p, size_t n);
bool om_cfg_is_space(char c);
char *om_cfg_trimmed_dup(const char *s, size_t n);
int om_cfg_hexval(char c);
int om_cfg_hex_decode(const char *s, size_t slen, uint8_t *out, size_t n);
bool om_cfg_all_digits(const char *s);
bool om_cfg_parse_ulong(const char *s, unsigned long max, unsigned long *out);
char **om_cfg_split_ws(const char *s, size_t *n_out);
void om_cfg_free_strv(char **v);
char *om_cfg_expand_home(const char *path);
int om_cfg_parse_ip(const char *s, char *out, size_t outlen);
bool om_cfg_in_choices(const char *choices, const char *v);
/* " (did you mean \"X\"?)" (with prefix before X, e.g. "ONIONMESH_") or "". */
void om_cfg_suggestion(const om_config_t *cfg, const char *name, const char *prefix, bool upper,
                       char *out, size_t outlen);

/* config.c */
int om_cfg_find(const om_config_t *cfg, const char *name);
/* Assign one value to option idx at level origin. reason gets "Name: why" on failure. where
 * names the source for warnings ("my.conf:3", "command line"). */
int om_cfg_assign(om_config_t *cfg, size_t idx, const char *value, int origin, int mode,
                  const char *where, char *reason);
/* Back to the default value (testing: TestingTorNetwork's default where there is one). */
void om_cfg_reset_default(om_config_t *cfg, size_t idx, bool testing);
bool om_cfg_is_list_type(om_conf_type_t t);
val_t *om_cfg_val(om_config_t *cfg, const char *name);

/* config_units.c */
int om_cfg_parse_scalar(const om_config_option_t *d, const char *value, om_config_value_t *p,
                        char **text, char *reason);

/* config_ports.c: "[address:]port|auto|0 [flags]" for a PORT option. */
int om_cfg_parse_port(const om_config_option_t *d, const char *value, om_port_t *p, bool *has_obj,
                      const char *where, char *reason);

/* config_values.c: a DirAuthority line (reason: REASON_LEN). */
int om_cfg_parse_dirauth(const char *value, om_dir_authority_t *a, const char *where, char *reason);

/* config_log.c: a Log line (reason: REASON_LEN). */
int om_cfg_parse_log(const char *value, om_log_spec_t *out, char *reason);

/* config_parse.c */
int om_cfg_parse_text(om_config_t *cfg, const char *text, const char *source, const char *basedir,
                      int depth, char *err, size_t errlen);

#endif
