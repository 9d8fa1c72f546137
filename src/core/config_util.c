/* config_util.c — the configuration engine's string helpers: allocation that aborts on OOM,
 * trimming, hex, decimal, word splitting, "~/" expansion, IP literals, choice lists and the
 * "did you mean" suggestion for unknown option names. */
#include "core/config_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void om_cfg_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void oom(void)
{
    fprintf(stderr, "onionmesh: out of memory\n");
    abort();
}

char *om_cfg_strdup(const char *s)
{
    char *r = strdup(s);
    if (!r) oom();
    return r;
}

char *om_cfg_strndup(const char *s, size_t n)
{
    char *r = strndup(s, n);
    if (!r) oom();
    return r;
}

void *om_cfg_realloc(void *p, size_t n)
{
    void *r = realloc(p, n ? n : 1);
    if (!r) oom();
    return r;
}

bool om_cfg_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

char *om_cfg_trimmed_dup(const char *s, size_t n)
{
    while (n && om_cfg_is_space(*s))
        s++, n--;
    while (n && om_cfg_is_space(s[n - 1]))
        n--;
    return om_cfg_strndup(s, n);
}

int om_cfg_hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Exactly 2*n hex digits in s[0..2n) -> out. */
int om_cfg_hex_decode(const char *s, size_t slen, uint8_t *out, size_t n)
{
    if (slen != 2 * n) return -1;
    for (size_t i = 0; i < n; i++) {
        int hi = om_cfg_hexval(s[2 * i]), lo = om_cfg_hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

bool om_cfg_all_digits(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return false;
    return true;
}

/* Decimal 0..max, digits only. */
bool om_cfg_parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
    if (!om_cfg_all_digits(s) || strlen(s) > 10) return false;
    unsigned long v = strtoul(s, NULL, 10);
    if (v > max) return false;
    *out = v;
    return true;
}

/* Split on whitespace into a NULL-terminated array of fresh strings. */
char **om_cfg_split_ws(const char *s, size_t *n_out)
{
    char **v = NULL;
    size_t n = 0;
    while (*s) {
        while (*s && om_cfg_is_space(*s))
            s++;
        if (!*s) break;
        const char *b = s;
        while (*s && !om_cfg_is_space(*s))
            s++;
        v = om_cfg_realloc(v, (n + 2) * sizeof *v);
        v[n++] = om_cfg_strndup(b, (size_t)(s - b));
    }
    if (!v) v = om_cfg_realloc(NULL, sizeof *v);
    v[n] = NULL;
    *n_out = n;
    return v;
}

void om_cfg_free_strv(char **v)
{
    if (!v) return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

/* "~" and "~/x" -> $HOME, $HOME/x. Others copied. NULL if ~ can't be expanded. */
char *om_cfg_expand_home(const char *path)
{
    if (path[0] != '~' || (path[1] && path[1] != '/')) return om_cfg_strdup(path);
    const char *home = getenv("HOME");
    if (!home || !*home) return NULL;
    size_t n = strlen(home) + strlen(path) + 1;
    char *r = om_cfg_realloc(NULL, n);
    snprintf(r, n, "%s%s", home, path + 1);
    return r;
}

/* Numeric IPv4 (4) or IPv6 (6) literal; canonical text into out (may be NULL). 0 if neither. */
int om_cfg_parse_ip(const char *s, char *out, size_t outlen)
{
    unsigned char buf[16];
    if (inet_pton(AF_INET, s, buf) == 1) {
        if (out) inet_ntop(AF_INET, buf, out, (socklen_t)outlen);
        return 4;
    }
    if (inet_pton(AF_INET6, s, buf) == 1) {
        if (out) inet_ntop(AF_INET6, buf, out, (socklen_t)outlen);
        return 6;
    }
    return 0;
}

bool om_cfg_in_choices(const char *choices, const char *v)
{
    size_t vl = strlen(v);
    for (const char *c = choices; *c;) {
        size_t l = strcspn(c, "|");
        if (l == vl && !strncasecmp(c, v, l)) return true;
        c += l;
        if (*c == '|') c++;
    }
    return false;
}

/* Case-insensitive Levenshtein distance (names up to 63 characters). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return SIZE_MAX;
    size_t prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            size_t best = prev[j - 1] + cost;
            if (prev[j] + 1 < best) best = prev[j] + 1;
            if (cur[j - 1] + 1 < best) best = cur[j - 1] + 1;
            cur[j] = best;
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}

void om_cfg_suggestion(const om_config_t *cfg, const char *name, const char *prefix, bool upper,
                       char *out, size_t outlen)
{
    out[0] = '\0';
    size_t best = SIZE_MAX;
    const char *best_name = NULL;
    for (size_t i = 0; i < cfg->n_vals; i++) {
        size_t d = edit_distance(name, cfg->vals[i].def->name);
        if (d < best) {
            best = d;
            best_name = cfg->vals[i].def->name;
        }
    }
    size_t len = strlen(name);
    size_t limit = len / 3 > 2 ? len / 3 : 2;
    if (!best_name || best > limit) return;
    char shown[80];
    snprintf(shown, sizeof shown, "%s", best_name);
    for (char *p = shown; upper && *p; p++)
        *p = (char)toupper((unsigned char)*p);
    snprintf(out, outlen, " (did you mean \"%s%s\"?)", prefix ? prefix : "", shown);
}
