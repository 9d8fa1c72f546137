/* config_parse.c — the configuration file syntax (`man tor`, THE CONFIGURATION FILE FORMAT):
 * entries, comments, C-style quoted values, backslash continuations, `%include`, "+Option" and
 * "/Option"; files are read at the file precedence level. */
#include "core/config_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

typedef struct {
    char *buf;
    size_t len, cap;
} sbuf_t;

static void sb_putc(sbuf_t *b, char c)
{
    if (b->len + 2 > b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->buf = om_cfg_realloc(b->buf, b->cap);
    }
    b->buf[b->len++] = c;
    b->buf[b->len] = '\0';
}

static char *sb_take(sbuf_t *b)
{
    if (!b->buf) return om_cfg_strdup("");
    char *r = b->buf;
    b->buf = NULL;
    b->len = b->cap = 0;
    return r;
}

/* Backslash-newline (also before CRLF): length of the sequence, or 0. */
static size_t continuation_at(const char *p)
{
    if (p[0] != '\\') return 0;
    if (p[1] == '\n') return 2;
    if (p[1] == '\r' && p[2] == '\n') return 3;
    return 0;
}

/* A C-style quoted string starting at *pp (the opening quote). */
static int unquote(const char **pp, sbuf_t *out, char *reason)
{
    const char *p = *pp + 1;
    for (;;) {
        char c = *p;
        if (!c || c == '\n') {
            om_cfg_seterr(reason, REASON_LEN, "unterminated quoted string");
            return -1;
        }
        if (c == '"') break;
        if (c != '\\') {
            sb_putc(out, c);
            p++;
            continue;
        }
        p++;
        int v;
        switch (*p) {
        case 'n':
            v = '\n';
            p++;
            break;
        case 't':
            v = '\t';
            p++;
            break;
        case 'r':
            v = '\r';
            p++;
            break;
        case '\\':
            v = '\\';
            p++;
            break;
        case '"':
            v = '"';
            p++;
            break;
        case '\'':
            v = '\'';
            p++;
            break;
        case 'x':
            if (om_cfg_hexval(p[1]) < 0 || om_cfg_hexval(p[2]) < 0) {
                om_cfg_seterr(reason, REASON_LEN, "invalid \\x escape in quoted string");
                return -1;
            }
            v = om_cfg_hexval(p[1]) * 16 + om_cfg_hexval(p[2]);
            p += 3;
            break;
        default:
            if (*p >= '0' && *p <= '7') {
                v = 0;
                for (int k = 0; k < 3 && *p >= '0' && *p <= '7'; k++, p++)
                    v = v * 8 + (*p - '0');
                if (v > 255) {
                    om_cfg_seterr(reason, REASON_LEN, "invalid octal escape in quoted string");
                    return -1;
                }
                break;
            }
            om_cfg_seterr(reason, REASON_LEN, "invalid escape sequence in quoted string");
            return -1;
        }
        if (v == 0) {
            om_cfg_seterr(reason, REASON_LEN, "NUL escape in quoted string");
            return -1;
        }
        sb_putc(out, (char)v);
    }
    *pp = p + 1;
    return 0;
}

/* Next "keyword value" entry. 1 = entry, 0 = end, -1 = error (reason; *entry_line set). */
static int next_entry(const char **pp, unsigned *lineno, char **key, char **val,
                      unsigned *entry_line, char *reason)
{
    const char *p = *pp;
    *key = *val = NULL;
    for (;;) {
        while (om_cfg_is_space(*p)) {
            if (*p == '\n') (*lineno)++;
            p++;
        }
        if (*p == '#') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        break;
    }
    *entry_line = *lineno;
    if (!*p) {
        *pp = p;
        return 0;
    }
    const char *k = p;
    while (*p && !om_cfg_is_space(*p) && *p != '#' && !continuation_at(p))
        p++;
    *key = om_cfg_strndup(k, (size_t)(p - k));
    while (*p == ' ' || *p == '\t')
        p++;
    sbuf_t sb = {0};
    if (*p == '"') {
        if (unquote(&p, &sb, reason) < 0) {
            free(sb.buf);
            free(*key);
            *key = NULL;
            return -1;
        }
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (*p == '#')
            while (*p && *p != '\n')
                p++;
        if (*p && *p != '\n') {
            free(sb.buf);
            free(*key);
            *key = NULL;
            om_cfg_seterr(reason, REASON_LEN, "unexpected text after the quoted string");
            return -1;
        }
        *val = sb_take(&sb);
    } else {
        while (*p && *p != '\n') {
            size_t c = continuation_at(p);
            if (c) {
                p += c;
                (*lineno)++;
                /* Lines starting with '#' inside a continued entry are comments. */
                for (;;) {
                    const char *q = p;
                    while (*q == ' ' || *q == '\t')
                        q++;
                    if (*q != '#') break;
                    while (*q && *q != '\n')
                        q++;
                    if (*q == '\n') {
                        q++;
                        (*lineno)++;
                    }
                    p = q;
                }
                continue;
            }
            if (*p == '#') {
                while (*p && *p != '\n')
                    p++;
                break;
            }
            sb_putc(&sb, *p++);
        }
        char *raw = sb_take(&sb);
        *val = om_cfg_trimmed_dup(raw, strlen(raw));
        free(raw);
    }
    if (*p == '\n') {
        p++;
        (*lineno)++;
    }
    *pp = p;
    return 1;
}

/* Read a whole configuration file. NULL with reason on failure. */
static char *read_conf_file(const char *path, char *reason)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        om_cfg_seterr(reason, REASON_LEN, "cannot read \"%s\": %s", path, strerror(errno));
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        om_cfg_seterr(reason, REASON_LEN, "\"%s\" is a directory (only files can be included)",
                      path);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        om_cfg_seterr(reason, REASON_LEN, "cannot read \"%s\": %s", path, strerror(errno));
        return NULL;
    }
    sbuf_t sb = {0};
    char chunk[4096];
    size_t n;
    bool bad = false;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (memchr(chunk, '\0', n)) {
            om_cfg_seterr(reason, REASON_LEN, "\"%s\" contains a NUL byte", path);
            bad = true;
            break;
        }
        if (sb.len + n > OM_CONFIG_MAX_FILE_SIZE) {
            om_cfg_seterr(reason, REASON_LEN, "\"%s\" is larger than %u bytes", path,
                          OM_CONFIG_MAX_FILE_SIZE);
            bad = true;
            break;
        }
        for (size_t i = 0; i < n; i++)
            sb_putc(&sb, chunk[i]);
    }
    if (!bad && ferror(f)) {
        om_cfg_seterr(reason, REASON_LEN, "cannot read \"%s\": %s", path, strerror(errno));
        bad = true;
    }
    fclose(f);
    if (bad) {
        free(sb.buf);
        return NULL;
    }
    return sb_take(&sb);
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return NULL;
    if (slash == path) return om_cfg_strdup("/");
    return om_cfg_strndup(path, (size_t)(slash - path));
}

static int load_file_at(om_config_t *cfg, const char *path, int depth, char *err, size_t errlen)
{
    char reason[REASON_LEN];
    char *text = read_conf_file(path, reason);
    if (!text) {
        om_cfg_seterr(err, errlen, "%s", reason);
        return -1;
    }
    char *dir = dir_of(path);
    int rc = om_cfg_parse_text(cfg, text, path, dir, depth, err, errlen);
    free(dir);
    free(text);
    return rc;
}

/* "%include FILE" at where: the file, relative to basedir, read in place. */
static int include_file(om_config_t *cfg, const char *val, const char *where, const char *basedir,
                        int depth, char *err, size_t errlen)
{
    if (!*val) return om_errf(err, errlen, "%s: %%include needs a file name", where);
    if (depth + 1 > OM_CONFIG_MAX_INCLUDE_DEPTH)
        return om_errf(err, errlen, "%s: %%include nested more than %d deep (an include loop?)",
                       where, OM_CONFIG_MAX_INCLUDE_DEPTH);
    char *ex = om_cfg_expand_home(val);
    if (!ex) return om_errf(err, errlen, "%s: can't expand \"%s\": $HOME is not set", where, val);
    char *path;
    if (ex[0] != '/' && basedir) {
        size_t n = strlen(basedir) + strlen(ex) + 2;
        path = om_cfg_realloc(NULL, n);
        snprintf(path, n, "%s/%s", basedir, ex);
        free(ex);
    } else {
        path = ex;
    }
    char reason[REASON_LEN];
    char *text = read_conf_file(path, reason);
    int rc;
    if (!text) {
        rc = om_errf(err, errlen, "%s: %%include: %s", where, reason);
    } else {
        char *dir = dir_of(path);
        rc = om_cfg_parse_text(cfg, text, path, dir, depth + 1, err, errlen);
        free(dir);
        free(text);
    }
    free(path);
    return rc;
}

/* One "[+|/]Option value" entry at the file level. */
static int option_entry(om_config_t *cfg, const char *key, const char *val, const char *where,
                        char *err, size_t errlen)
{
    const char *name = key;
    int mode = MODE_SET;
    if (*name == '+' || *name == '/') {
        mode = *name == '+' ? MODE_APPEND : MODE_CLEAR;
        name++;
    }
    int idx = om_cfg_find(cfg, name);
    if (idx < 0) {
        char sug[128];
        om_cfg_suggestion(cfg, name, NULL, false, sug, sizeof sug);
        return om_errf(err, errlen, "%s: unknown option \"%s\"%s", where, name, sug);
    }
    char reason[REASON_LEN];
    if (om_cfg_assign(cfg, (size_t)idx, val, ORIGIN_FILE, mode, where, reason) < 0)
        return om_errf(err, errlen, "%s: %s", where, reason);
    return 0;
}

int om_cfg_parse_text(om_config_t *cfg, const char *text, const char *source, const char *basedir,
                      int depth, char *err, size_t errlen)
{
    const char *p = text;
    unsigned lineno = 1, entry_line = 1;
    char *key, *val;
    char reason[REASON_LEN];
    char where[256];
    int r;
    while ((r = next_entry(&p, &lineno, &key, &val, &entry_line, reason)) > 0) {
        snprintf(where, sizeof where, "%s:%u", source, entry_line);
        int rc;
        if (key[0] != '%')
            rc = option_entry(cfg, key, val, where, err, errlen);
        else if (strcasecmp(key, "%include") != 0)
            rc = om_errf(err, errlen, "%s: unknown directive \"%s\"", where, key);
        else
            rc = include_file(cfg, val, where, basedir, depth, err, errlen);
        free(key);
        free(val);
        if (rc < 0) return -1;
    }
    if (r < 0) {
        om_cfg_seterr(err, errlen, "%s:%u: %s", source, entry_line, reason);
        return -1;
    }
    return 0;
}

int om_config_load_file(om_config_t *cfg, const char *path, char *err, size_t errlen)
{
    return load_file_at(cfg, path, 0, err, errlen);
}

int om_config_parse_string(om_config_t *cfg, const char *text, const char *source_name, char *err,
                           size_t errlen)
{
    return om_cfg_parse_text(cfg, text, source_name ? source_name : "(string)", NULL, 0, err,
                             errlen);
}
