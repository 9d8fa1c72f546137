/* netdoc.h — a bounds-checked tokenizer for the directory document meta-format (dir-spec 1.2):
 * a document is a sequence of items, each a keyword line ("Keyword [args] NL") optionally
 * followed by one object ("-----BEGIN TYPE-----" NL base64 lines "-----END TYPE-----" NL).
 * The iterator never reads outside [doc, doc + len) and never copies or allocates: items are
 * spans into the document. Shared by every directory document parser (consensus, key
 * certificates, microdescriptors, and later descriptors). */
#ifndef OM_DIR_NETDOC_H
#define OM_DIR_NETDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Limits. A longer keyword line, a bigger object or more arguments make the document malformed.
 * 128 KiB objects and 512 arguments per line are tor's own limits (parsecommon). */
#define OM_NETDOC_MAX_LINE     (128 * 1024)
#define OM_NETDOC_MAX_OBJECT   (128 * 1024)
#define OM_NETDOC_MAX_ARGS     512
#define OM_NETDOC_MAX_OBJ_TYPE 64 /* "RSA PUBLIC KEY", "ED25519 CERT", ... */

/* A span of bytes inside a document (not NUL-terminated). */
typedef struct {
    const char *p;
    size_t len;
} om_span_t;

typedef struct {
    om_span_t kw;   /* the keyword */
    om_span_t args; /* the rest of the keyword line after the keyword and its whitespace,
                       trailing whitespace removed (len 0 if none) */
    size_t n_args;  /* number of whitespace-separated arguments in args */
    bool has_object;
    om_span_t obj_type; /* "RSA PUBLIC KEY" (between "-----BEGIN " and "-----") */
    om_span_t obj_body; /* the base64 lines between the BEGIN and END lines, newlines included */
    size_t start;       /* offset of the item's first byte (the keyword) in the document */
    size_t line_end;    /* offset just past the keyword line's NL (or the end of the document) */
    size_t end;         /* offset just past the item: after the END line's NL, or = line_end */
    size_t line_no;     /* 1-based line number of the keyword line, for error messages */
} om_netdoc_item_t;

typedef struct {
    const char *doc;
    size_t len;
    size_t pos;
    size_t line_no;
    char err[128]; /* why om_netdoc_next returned -1 */
} om_netdoc_iter_t;

void om_netdoc_init(om_netdoc_iter_t *it, const char *doc, size_t len);

/* The next item. Returns 1 with *item filled, 0 at the end of the document, -1 if the document
 * is malformed at this point (it->err names the line and the problem). Blank lines between
 * items are skipped (dir-spec 1.2: Document ::= (Item | NL)+). Rejected: NUL and control bytes
 * other than TAB anywhere in a keyword line, keywords not matching [A-Za-z0-9][A-Za-z0-9-]*,
 * lines longer than OM_NETDOC_MAX_LINE, more than OM_NETDOC_MAX_ARGS arguments, objects whose
 * BEGIN/END lines are malformed or do not match, objects without an END line, objects longer
 * than OM_NETDOC_MAX_OBJECT, and object lines with characters outside the base64 alphabet.
 * The final line may lack its NL. After -1 the iterator stays at the bad item. */
int om_netdoc_next(om_netdoc_iter_t *it, om_netdoc_item_t *item);

/* ---- helpers over spans ---- */
static inline om_span_t om_span(const char *p, size_t len)
{
    om_span_t s = {p, len};
    return s;
}
bool om_span_eq(om_span_t s, const char *lit); /* exact match with a C string */
bool om_span_starts(om_span_t s, const char *prefix);
bool om_netdoc_kw_is(const om_netdoc_item_t *item, const char *kw);
bool om_netdoc_obj_is(const om_netdoc_item_t *item, const char *type);

/* Split on runs of SP/TAB. Stores up to max spans in out and returns the number of arguments
 * (which may exceed max: only the first max are stored). */
size_t om_netdoc_split(om_span_t s, om_span_t *out, size_t max);
/* The next argument from *rest (advancing it); false when none is left. */
bool om_netdoc_next_arg(om_span_t *rest, om_span_t *arg);

/* Base64 object body into out. Returns the decoded length or -1 (bad base64, too big). */
int om_netdoc_object_decode(const om_netdoc_item_t *item, uint8_t *out, size_t outsz);

/* ---- value parsers (strict; -1 on any deviation) ---- */
/* "YYYY-MM-DD" and "HH:MM:SS" (UTC) into a time_t. Years 1970..9999. */
int om_netdoc_parse_time(om_span_t date, om_span_t hms, time_t *out);
/* Format t as "YYYY-MM-DD HH:MM:SS" (buf >= 20 bytes). */
void om_netdoc_format_time(time_t t, char *buf, size_t bufsz);
/* Decimal without sign or leading '+', at most max. */
int om_netdoc_parse_u32(om_span_t s, uint32_t max, uint32_t *out);
/* Optional '-', decimal, within int32. */
int om_netdoc_parse_i32(om_span_t s, int32_t *out);
/* Dotted-quad IPv4 address, each part 0..255 without leading zeros. */
int om_netdoc_parse_ipv4(om_span_t s, uint8_t out[4]);
/* IPv6 address in brackets followed by ":port", as in "a" lines: "[2001:db8::1]:9001". */
int om_netdoc_parse_ipv6_port(om_span_t s, uint8_t addr[16], uint16_t *port);
/* Base64 (with or without '=' padding) that decodes to exactly n bytes. */
int om_netdoc_b64_exact(om_span_t s, uint8_t *out, size_t n);
/* Hex (either case) of exactly n bytes. */
int om_netdoc_hex_exact(om_span_t s, uint8_t *out, size_t n);
/* Relay nickname: 1..19 characters of [A-Za-z0-9] (dir-spec 2.1.1). */
bool om_netdoc_is_nickname(om_span_t s);
/* Copy a family-style argument list ("$HEX $HEX ...") into dst[cap] (NUL-terminated), cut at an
 * entry boundary if it does not fit; *truncated says whether it was. */
void om_netdoc_copy_list(char *dst, size_t cap, om_span_t args, bool *truncated);

#endif
