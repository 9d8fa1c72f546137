/* netdoc.c — dir-spec 1.2 document meta-format tokenizer and value parsers (see netdoc.h). */
#include "dir/netdoc.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/crypto.h"

void om_netdoc_init(om_netdoc_iter_t *it, const char *doc, size_t len)
{
    it->doc = doc;
    it->len = doc ? len : 0;
    it->pos = 0;
    it->line_no = 1;
    it->err[0] = '\0';
}

__attribute__((format(printf, 3, 4))) static int fail(om_netdoc_iter_t *it, size_t line,
                                                      const char *fmt, ...)
{
    int off = snprintf(it->err, sizeof it->err, "line %zu: ", line);
    va_list ap;
    va_start(ap, fmt);
    if (off > 0 && (size_t)off < sizeof it->err)
        vsnprintf(it->err + off, sizeof it->err - (size_t)off, fmt, ap);
    va_end(ap);
    return -1;
}

static bool is_kw_start(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_kw_char(unsigned char c)
{
    return is_kw_start(c) || c == '-';
}

static bool is_b64_char(unsigned char c)
{
    return is_kw_start(c) || c == '+' || c == '/' || c == '=';
}

/* "RSA PUBLIC KEY": keywords separated by single spaces (dir-spec 1.2 BeginLine). */
static bool valid_obj_type(const char *p, size_t n)
{
    if (n == 0 || n > OM_NETDOC_MAX_OBJ_TYPE || !is_kw_start((unsigned char)p[0])) return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == ' ') {
            if (i + 1 >= n || !is_kw_start((unsigned char)p[i + 1])) return false;
        } else if (!is_kw_char(c)) {
            return false;
        }
    }
    return true;
}

static bool at_prefix(const char *d, size_t n, size_t pos, const char *lit, size_t litlen)
{
    return pos <= n && n - pos >= litlen && memcmp(d + pos, lit, litlen) == 0;
}

#define BEGIN_LIT "-----BEGIN "
#define END_LIT   "-----END "
#define DASH5     "-----"

/* Parse the object starting at it->pos (a "-----BEGIN " line). */
static int next_object(om_netdoc_iter_t *it, om_netdoc_item_t *item, size_t *pos_io,
                       size_t *line_io)
{
    const char *d = it->doc;
    size_t n = it->len, bs = *pos_io, line = *line_io;
    const char *nl = memchr(d + bs, '\n', n - bs);
    if (!nl) return fail(it, line, "object BEGIN line without end of line");
    size_t be = (size_t)(nl - d);
    size_t bl = be - bs;
    if (bl > 11 + OM_NETDOC_MAX_OBJ_TYPE + 5 || bl < 11 + 1 + 5 ||
        memcmp(d + be - 5, DASH5, 5) != 0)
        return fail(it, line, "malformed object BEGIN line");
    const char *type = d + bs + 11;
    size_t tl = bl - 11 - 5;
    if (!valid_obj_type(type, tl)) return fail(it, line, "malformed object type");
    size_t pos = be + 1;
    line++;
    size_t body = pos;
    for (;;) {
        if (pos >= n) return fail(it, line, "object without END line");
        const char *lnl = memchr(d + pos, '\n', n - pos);
        size_t le = lnl ? (size_t)(lnl - d) : n;
        if (le - bs > OM_NETDOC_MAX_OBJECT)
            return fail(it, line, "object longer than %d bytes", OM_NETDOC_MAX_OBJECT);
        if (at_prefix(d, le, pos, END_LIT, 9)) {
            if (le - pos != 9 + tl + 5 || memcmp(d + pos + 9, type, tl) != 0 ||
                memcmp(d + le - 5, DASH5, 5) != 0)
                return fail(it, line, "object END line does not match its BEGIN line");
            item->has_object = true;
            item->obj_type = om_span(type, tl);
            item->obj_body = om_span(d + body, pos - body);
            *pos_io = lnl ? le + 1 : le;
            *line_io = line + 1;
            return 0;
        }
        for (size_t i = pos; i < le; i++)
            if (!is_b64_char((unsigned char)d[i]))
                return fail(it, line, "bad character 0x%02x in object", (unsigned char)d[i]);
        if (!lnl) return fail(it, line, "object without END line");
        pos = le + 1;
        line++;
    }
}

int om_netdoc_next(om_netdoc_iter_t *it, om_netdoc_item_t *item)
{
    const char *d = it->doc;
    size_t n = it->len, pos = it->pos, line = it->line_no;
    memset(item, 0, sizeof *item);
    while (pos < n && d[pos] == '\n') {
        pos++;
        line++;
    }
    it->pos = pos;
    it->line_no = line;
    if (pos >= n) return 0;

    const char *nl = memchr(d + pos, '\n', n - pos);
    size_t le = nl ? (size_t)(nl - d) : n;
    if (le - pos > OM_NETDOC_MAX_LINE)
        return fail(it, line, "line longer than %d bytes", OM_NETDOC_MAX_LINE);
    size_t k = pos;
    if (!is_kw_start((unsigned char)d[k])) {
        if (d[k] == '-') return fail(it, line, "object or '-' where a keyword was expected");
        return fail(it, line, "bad keyword character 0x%02x", (unsigned char)d[k]);
    }
    while (k < le && is_kw_char((unsigned char)d[k]))
        k++;
    if (k < le && d[k] != ' ' && d[k] != '\t')
        return fail(it, line, "bad keyword character 0x%02x", (unsigned char)d[k]);
    size_t a = k;
    while (a < le && (d[a] == ' ' || d[a] == '\t'))
        a++;
    size_t nargs = 0, last = a;
    bool in_arg = false;
    for (size_t i = a; i < le; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c == ' ' || c == '\t') {
            in_arg = false;
            continue;
        }
        if (c < 0x20 || c == 0x7f) return fail(it, line, "control character 0x%02x", c);
        if (!in_arg) {
            if (++nargs > OM_NETDOC_MAX_ARGS)
                return fail(it, line, "more than %d arguments", OM_NETDOC_MAX_ARGS);
            in_arg = true;
        }
        last = i + 1;
    }
    item->kw = om_span(d + pos, k - pos);
    item->args = om_span(d + a, last - a);
    item->n_args = nargs;
    item->start = pos;
    item->line_no = line;
    item->line_end = nl ? le + 1 : le;
    size_t p = item->line_end, l = line + 1;
    if (nl && at_prefix(d, n, p, BEGIN_LIT, 11)) {
        if (next_object(it, item, &p, &l) < 0) return -1;
    }
    item->end = p;
    it->pos = p;
    it->line_no = l;
    return 1;
}

bool om_span_eq(om_span_t s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && (n == 0 || memcmp(s.p, lit, n) == 0);
}

bool om_span_starts(om_span_t s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.len >= n && (n == 0 || memcmp(s.p, prefix, n) == 0);
}

bool om_netdoc_kw_is(const om_netdoc_item_t *item, const char *kw)
{
    return om_span_eq(item->kw, kw);
}

bool om_netdoc_obj_is(const om_netdoc_item_t *item, const char *type)
{
    return item->has_object && om_span_eq(item->obj_type, type);
}

bool om_netdoc_next_arg(om_span_t *rest, om_span_t *arg)
{
    const char *p = rest->p, *e = rest->p + rest->len;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= e) {
        rest->p = e;
        rest->len = 0;
        return false;
    }
    const char *s = p;
    while (p < e && *p != ' ' && *p != '\t')
        p++;
    *arg = om_span(s, (size_t)(p - s));
    rest->p = p;
    rest->len = (size_t)(e - p);
    return true;
}

size_t om_netdoc_split(om_span_t s, om_span_t *out, size_t max)
{
    size_t count = 0;
    om_span_t a;
    while (om_netdoc_next_arg(&s, &a)) {
        if (count < max) out[count] = a;
        count++;
    }
    return count;
}

int om_netdoc_object_decode(const om_netdoc_item_t *item, uint8_t *out, size_t outsz)
{
    if (!item->has_object || item->obj_body.len == 0) return -1;
    return om_base64_decode(item->obj_body.p, item->obj_body.len, out, outsz);
}

/* ---- values ---- */

static int digits(const char *p, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (y >= 1). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = y / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int om_netdoc_parse_time(om_span_t date, om_span_t hms, time_t *out)
{
    unsigned y, mo, d, h, mi, s;
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (date.len != 10 || hms.len != 8 || date.p[4] != '-' || date.p[7] != '-' || hms.p[2] != ':' ||
        hms.p[5] != ':')
        return -1;
    if (digits(date.p, 4, &y) || digits(date.p + 5, 2, &mo) || digits(date.p + 8, 2, &d) ||
        digits(hms.p, 2, &h) || digits(hms.p + 3, 2, &mi) || digits(hms.p + 6, 2, &s))
        return -1;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60) return -1;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap)) return -1;
    int64_t t = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + mi * 60 + s;
    if ((int64_t)(time_t)t != t) return -1;
    *out = (time_t)t;
    return 0;
}

void om_netdoc_format_time(time_t t, char *buf, size_t bufsz)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, bufsz, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(buf, bufsz, "(time %lld)", (long long)t);
}

int om_netdoc_parse_u32(om_span_t s, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    if (s.len == 0 || s.len > 10) return -1;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9') return -1;
        v = v * 10 + (uint64_t)(s.p[i] - '0');
    }
    if (v > max) return -1;
    *out = (uint32_t)v;
    return 0;
}

int om_netdoc_parse_i32(om_span_t s, int32_t *out)
{
    bool neg = s.len > 0 && s.p[0] == '-';
    uint32_t mag;
    om_span_t m = neg ? om_span(s.p + 1, s.len - 1) : s;
    if (om_netdoc_parse_u32(m, neg ? 2147483648u : 2147483647u, &mag) < 0) return -1;
    *out = neg ? (int32_t)(-(int64_t)mag) : (int32_t)mag;
    return 0;
}

int om_netdoc_parse_ipv4(om_span_t s, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        size_t st = i;
        unsigned v = 0;
        while (i < s.len && s.p[i] >= '0' && s.p[i] <= '9' && i - st < 3)
            v = v * 10 + (unsigned)(s.p[i++] - '0');
        size_t nd = i - st;
        if (nd == 0 || v > 255 || (nd > 1 && s.p[st] == '0')) return -1;
        out[part] = (uint8_t)v;
        if (part < 3) {
            if (i >= s.len || s.p[i] != '.') return -1;
            i++;
        }
    }
    return i == s.len ? 0 : -1;
}

int om_netdoc_parse_ipv6_port(om_span_t s, uint8_t addr[16], uint16_t *port)
{
    char buf[64];
    if (s.len < 4 || s.p[0] != '[') return -1;
    const char *close = memchr(s.p, ']', s.len);
    if (!close) return -1;
    size_t al = (size_t)(close - s.p - 1);
    size_t rest = s.len - al - 2;
    if (al == 0 || al >= sizeof buf || rest < 2 || close[1] != ':') return -1;
    memcpy(buf, s.p + 1, al);
    buf[al] = '\0';
    if (inet_pton(AF_INET6, buf, addr) != 1) return -1;
    uint32_t p;
    if (om_netdoc_parse_u32(om_span(close + 2, rest - 1), 65535, &p) < 0 || p == 0) return -1;
    *port = (uint16_t)p;
    return 0;
}

int om_netdoc_b64_exact(om_span_t s, uint8_t *out, size_t n)
{
    /* Encoded length: ceil(4n/3) unpadded, 4*ceil(n/3) padded. */
    size_t unpadded = (4 * n + 2) / 3, padded = 4 * ((n + 2) / 3);
    if (s.len != unpadded && s.len != padded) return -1;
    int r = om_base64_decode(s.p, s.len, out, n);
    return r == (int)n ? 0 : -1;
}

int om_netdoc_hex_exact(om_span_t s, uint8_t *out, size_t n)
{
    return om_hex_decode(s.p, s.len, out, n);
}

bool om_netdoc_is_nickname(om_span_t s)
{
    if (s.len < 1 || s.len > 19) return false;
    for (size_t i = 0; i < s.len; i++)
        if (!is_kw_start((unsigned char)s.p[i])) return false;
    return true;
}

void om_netdoc_copy_list(char *dst, size_t cap, om_span_t args, bool *truncated)
{
    size_t n = args.len;
    *truncated = false;
    if (n >= cap) {
        *truncated = true;
        n = cap - 1;
        while (n > 0 && args.p[n] != ' ' && args.p[n] != '\t')
            n--;
        while (n > 0 && (args.p[n - 1] == ' ' || args.p[n - 1] == '\t'))
            n--;
    }
    memcpy(dst, args.p, n);
    dst[n] = '\0';
}
