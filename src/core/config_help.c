/* config_help.c — the configuration engine's output: --help (usage, command-line flags,
 * precedence, then each registered table's options) and the dump of the effective
 * configuration in torrc syntax (which parses back to the same configuration). */
#include "core/config_internal.h"

#include <stdarg.h>
#include <string.h>

static const char *type_args(om_conf_type_t t)
{
    switch (t) {
    case OM_CONF_BOOL:
        return "0|1";
    case OM_CONF_AUTOBOOL:
        return "0|1|auto";
    case OM_CONF_INT:
        return "NUM";
    case OM_CONF_DOUBLE:
        return "NUM";
    case OM_CONF_INTERVAL:
        return "N seconds|minutes|hours|days|weeks";
    case OM_CONF_MEMUNIT:
        return "N bytes|KBytes|MBytes|GBytes|TBytes|KBits|MBits|GBits|TBits";
    case OM_CONF_PATH:
        return "FILENAME";
    case OM_CONF_CSV:
        return "item,item,...";
    case OM_CONF_PORT:
        return "[address:]port|auto|0";
    default:
        return "VALUE";
    }
}

/* text as lines of at most 100 columns, each indented by 6. */
static void print_wrapped(FILE *out, const char *text)
{
    const size_t width = 100 - 6;
    while (*text) {
        size_t n = strlen(text);
        if (n > width) {
            n = width;
            while (n > 0 && text[n] != ' ')
                n--;
            if (n == 0) n = strcspn(text, " ");
        }
        fprintf(out, "      %.*s\n", (int)n, text);
        text += n;
        while (*text == ' ')
            text++;
    }
}

__attribute__((format(printf, 4, 5))) static size_t add(char *buf, size_t off, size_t cap,
                                                        const char *fmt, ...)
{
    if (off >= cap) return off;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + off, cap - off, fmt, ap);
    va_end(ap);
    return n < 0 ? off : off + (size_t)n;
}

static void print_option(FILE *out, const om_config_option_t *d)
{
    char t[1024];
    size_t off = add(t, 0, sizeof t, "%s", d->help);
    if (d->flags & OM_OPT_AUTHORITY_ONLY)
        off = add(t, off, sizeof t, " (Directory authorities only: accepted and ignored.)");
    if (d->flags & OM_OPT_REFUSED)
        off = add(t, off, sizeof t, " (Refused: any line with this option is an error.)");
    else if (d->def_lines)
        off = add(t, off, sizeof t, " (Default: %s)", d->def_lines[0] ? "built-in list" : "none");
    else if (d->def)
        off = add(t, off, sizeof t, " (Default: %s)", d->def);
    if (d->testing_def) off = add(t, off, sizeof t, " (TestingTorNetwork: %s)", d->testing_def);
    if (om_cfg_is_list_type(d->type) && !(d->flags & OM_OPT_LAST_WINS))
        add(t, off, sizeof t, " [repeatable]");
    fprintf(out, "  %s %s\n", d->name, d->args ? d->args : type_args(d->type));
    print_wrapped(out, t);
}

void om_config_print_help(const om_config_t *cfg, FILE *out)
{
    fprintf(out,
            "Usage: onionmesh [-f FILE] [--Option value ...]\n"
            "       onionmesh --help | --version | --verify-config | --list-fingerprint\n"
            "\n"
            "Command-line flags:\n"
            "  -f FILE, --torrc-file FILE  read the configuration from FILE (torrc syntax)\n"
            "  --ignore-missing-torrc      treat a missing -f FILE as empty\n"
            "  --verify-config             check the configuration and exit\n"
            "  --list-fingerprint          print this relay's identity fingerprint and exit\n"
            "  -h, --help                  this help\n"
            "  --version                   print the version and exit\n"
            "  --Option value              set an option; --+Option value appends to a\n"
            "                              repeatable option, --/Option clears it\n"
            "\n"
            "Where options come from (each level overrides the ones below it):\n"
            "  1. the command line          --SocksPort 9150\n"
            "  2. the environment           ONIONMESH_SOCKSPORT=9150 (ONIONMESH_ and the option\n"
            "                               name in any case); a repeatable option takes several\n"
            "                               values separated by newlines or ';':\n"
            "                               ONIONMESH_SOCKSPORT='9150;9151 IsolateSOCKSAuth'\n"
            "  3. the configuration file    -f FILE: \"Option value\" lines, %%include FILE\n"
            "  4. the defaults shown below\n"
            "A level that sets a repeatable option replaces all the lines of the levels below.\n");
    for (size_t t = 0; t < cfg->n_tables; t++) {
        const om_config_table_t *tab = cfg->tables[t];
        fprintf(out, "\n%s (names are case-insensitive):\n", tab->title);
        for (size_t i = 0; i < tab->n_options; i++)
            print_option(out, &tab->options[i]);
    }
}

/* A value as torrc text: bare when safe, otherwise a C-style quoted string. */
static void put_value(FILE *out, const char *s)
{
    size_t n = strlen(s);
    bool quote = n == 0 || om_cfg_is_space(s[0]) || om_cfg_is_space(s[n - 1]) || s[0] == '"' ||
                 s[n - 1] == '\\';
    for (size_t i = 0; !quote && i < n; i++)
        quote = s[i] == '#' || s[i] == '\n' || (unsigned char)s[i] < 0x20;
    if (!quote) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p == '\r')
            fputs("\\r", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void dump_option(FILE *out, const om_config_option_t *d, const val_t *v, const char *prefix)
{
    if (!om_cfg_is_list_type(d->type)) {
        if (!v->s) return;
        fprintf(out, "%s%s ", prefix, d->name);
        if (d->type == OM_CONF_DOUBLE) {
            char buf[64];
            snprintf(buf, sizeof buf, "%.17g", v->d);
            fputs(buf, out);
        } else {
            put_value(out, v->s);
        }
        fputc('\n', out);
        return;
    }
    if (d->type == OM_CONF_CSV) {
        if (!v->n_lines) return;
        fprintf(out, "%s%s ", prefix, d->name);
        for (size_t i = 0; i < v->n_lines; i++)
            fprintf(out, "%s%s", i ? "," : "", v->lines[i]);
        fputc('\n', out);
        return;
    }
    if (v->origin > ORIGIN_DEFAULT && v->n_lines == 0) {
        fprintf(out, "/%s\n", d->name); /* cleared */
        return;
    }
    for (size_t i = 0; i < v->n_lines; i++) {
        fprintf(out, "%s%s ", prefix, d->name);
        put_value(out, v->lines[i]);
        fputc('\n', out);
    }
}

void om_config_dump(const om_config_t *cfg, FILE *out)
{
    fprintf(out, "# onionmesh configuration (options at their default are commented out)\n");
    for (size_t i = 0; i < cfg->n_vals; i++) {
        const val_t *v = &cfg->vals[i];
        dump_option(out, v->def, v, v->origin > ORIGIN_DEFAULT ? "" : "# ");
    }
}
