/* config_units.c — the scalar value types of the configuration engine: tor's memory units
 * (`man tor` BandwidthRate) and time units (the interval options), and the parsing of STRING,
 * PATH, BOOL, AUTOBOOL, INT, DOUBLE, INTERVAL and MEMUNIT values within an option's range. */
#include "core/config_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const char *unit;
    uint64_t mult;
} unit_t;

static const unit_t memory_units[] = {
    {"", 1},
    {"b", 1},
    {"byte", 1},
    {"bytes", 1},
    {"kb", 1ull << 10},
    {"kbyte", 1ull << 10},
    {"kbytes", 1ull << 10},
    {"kilobyte", 1ull << 10},
    {"kilobytes", 1ull << 10},
    {"kbit", 1ull << 7},
    {"kbits", 1ull << 7},
    {"kilobit", 1ull << 7},
    {"kilobits", 1ull << 7},
    {"m", 1ull << 20},
    {"mb", 1ull << 20},
    {"mbyte", 1ull << 20},
    {"mbytes", 1ull << 20},
    {"megabyte", 1ull << 20},
    {"megabytes", 1ull << 20},
    {"mbit", 1ull << 17},
    {"mbits", 1ull << 17},
    {"megabit", 1ull << 17},
    {"megabits", 1ull << 17},
    {"gb", 1ull << 30},
    {"gbyte", 1ull << 30},
    {"gbytes", 1ull << 30},
    {"gigabyte", 1ull << 30},
    {"gigabytes", 1ull << 30},
    {"gbit", 1ull << 27},
    {"gbits", 1ull << 27},
    {"gigabit", 1ull << 27},
    {"gigabits", 1ull << 27},
    {"tb", 1ull << 40},
    {"tbyte", 1ull << 40},
    {"tbytes", 1ull << 40},
    {"terabyte", 1ull << 40},
    {"terabytes", 1ull << 40},
    {"tbit", 1ull << 37},
    {"tbits", 1ull << 37},
    {"terabit", 1ull << 37},
    {"terabits", 1ull << 37},
    {NULL, 0},
};

static const unit_t time_units[] = {
    {"", 1},
    {"second", 1},
    {"seconds", 1},
    {"minute", 60},
    {"minutes", 60},
    {"hour", 3600},
    {"hours", 3600},
    {"day", 86400},
    {"days", 86400},
    {"week", 7 * 86400},
    {"weeks", 7 * 86400},
    {"month", 2629728}, /* 30.437 days, as tor */
    {"months", 2629728},
    {NULL, 0},
};

/* "<number>[ ]<unit>": a non-negative decimal, possibly with a fraction; result <= INT64_MAX. */
static int parse_units(const char *s, const unit_t *units, uint64_t *out)
{
    const char *p = s;
    if (!isdigit((unsigned char)*p)) return -1;
    uint64_t iv = 0;
    bool overflow = false;
    while (isdigit((unsigned char)*p)) {
        unsigned d = (unsigned)(*p - '0');
        if (iv > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            iv = iv * 10 + d;
        p++;
    }
    bool use_float = false;
    double dv = 0;
    if (*p == '.') {
        char *end;
        errno = 0;
        dv = strtod(s, &end);
        if (errno || end == s || !isfinite(dv)) return -1;
        p = end;
        use_float = true;
    } else if (overflow) {
        return -1;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    for (const unit_t *u = units; u->unit; u++) {
        if (strcasecmp(u->unit, p) != 0) continue;
        if (use_float) {
            double r = dv * (double)u->mult;
            if (!(r >= 0) || r >= 9223372036854775807.0) return -1;
            *out = (uint64_t)r;
        } else {
            if (iv && u->mult > (uint64_t)INT64_MAX / iv) return -1;
            *out = iv * u->mult;
        }
        return 0;
    }
    return -1;
}

int om_config_parse_interval(const char *s, int64_t *seconds)
{
    uint64_t v;
    if (parse_units(s, time_units, &v) < 0 || v > INT_MAX) return -1;
    *seconds = (int64_t)v;
    return 0;
}

int om_config_parse_memunit(const char *s, uint64_t *bytes)
{
    return parse_units(s, memory_units, bytes);
}

/* INT and DOUBLE within the option's range. */
static int parse_number(const om_config_option_t *d, const char *value, om_config_value_t *p,
                        char *reason)
{
    char *end;
    errno = 0;
    if (d->type == OM_CONF_INT) {
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end || om_cfg_is_space(value[0]) || value[0] == '+')
            return om_errf(reason, REASON_LEN, "\"%s\" is not an integer", value);
        if (v < d->min || v > d->max)
            return om_errf(reason, REASON_LEN, "%lld is out of range (%lld to %lld)", v,
                           (long long)d->min, (long long)d->max);
        p->i = v;
        return 0;
    }
    double v = strtod(value, &end);
    if (errno || end == value || *end || !isfinite(v) || om_cfg_is_space(value[0]))
        return om_errf(reason, REASON_LEN, "\"%s\" is not a number", value);
    if (v < (double)d->min || v > (double)d->max)
        return om_errf(reason, REASON_LEN, "%s is out of range (%lld to %lld)", value,
                       (long long)d->min, (long long)d->max);
    p->d = v;
    return 0;
}

/* INTERVAL and MEMUNIT within the option's range. */
static int parse_unit_value(const om_config_option_t *d, const char *value, om_config_value_t *p,
                            char *reason)
{
    if (d->type == OM_CONF_INTERVAL) {
        int64_t v;
        if (om_config_parse_interval(value, &v) < 0)
            return om_errf(
                reason, REASON_LEN,
                "\"%s\" is not a time interval (N seconds|minutes|hours|days|weeks|months)", value);
        if (v < d->min || v > d->max)
            return om_errf(reason, REASON_LEN, "\"%s\" is out of range (%lld to %lld seconds)",
                           value, (long long)d->min, (long long)d->max);
        p->i = v;
        return 0;
    }
    uint64_t v;
    if (om_config_parse_memunit(value, &v) < 0)
        return om_errf(reason, REASON_LEN,
                       "\"%s\" is not an amount of memory (N bytes|KBytes|MBytes|GBytes|TBytes|"
                       "KBits|MBits|GBits|TBits)",
                       value);
    if ((int64_t)v < d->min || (int64_t)v > d->max)
        return om_errf(reason, REASON_LEN, "\"%s\" is out of range", value);
    p->i = (int64_t)v;
    return 0;
}

/* Parse a scalar value of option d; fills *p and *text (the stored text). */
int om_cfg_parse_scalar(const om_config_option_t *d, const char *value, om_config_value_t *p,
                        char **text, char *reason)
{
    *text = NULL;
    switch (d->type) {
    case OM_CONF_STRING:
        if (d->choices && !om_cfg_in_choices(d->choices, value))
            return om_errf(reason, REASON_LEN, "\"%s\" is not one of %s", value, d->choices);
        break;
    case OM_CONF_PATH:
        if (!(*text = om_cfg_expand_home(value)))
            return om_errf(reason, REASON_LEN, "can't expand \"%s\": $HOME is not set", value);
        break;
    case OM_CONF_BOOL:
        if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
            return om_errf(reason, REASON_LEN, "\"%s\" is not 0 or 1", value);
        p->i = value[0] - '0';
        break;
    case OM_CONF_AUTOBOOL:
        if (!strcasecmp(value, "auto"))
            p->i = -1;
        else if (!strcmp(value, "0") || !strcmp(value, "1"))
            p->i = value[0] - '0';
        else
            return om_errf(reason, REASON_LEN, "\"%s\" is not 0, 1 or auto", value);
        break;
    case OM_CONF_INT:
    case OM_CONF_DOUBLE:
        if (parse_number(d, value, p, reason) < 0) return -1;
        break;
    case OM_CONF_INTERVAL:
    case OM_CONF_MEMUNIT:
        if (parse_unit_value(d, value, p, reason) < 0) return -1;
        break;
    default:
        return -1;
    }
    if (!*text) *text = om_cfg_strdup(value);
    return 0;
}
