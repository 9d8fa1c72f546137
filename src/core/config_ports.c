/* config_ports.c — PORT values of the configuration engine (`man tor` SocksPort, ORPort,
 * DirPort, ControlPort): "[address:]port|auto|0 [flags]" with the flag words of the option's
 * kind (SOCKS, server, control). Which flags a role honours is the role's table's business. */
#include "core/config_internal.h"

#include <string.h>
#include <strings.h>

typedef struct {
    const char *name;
    uint32_t bits;
} flag_name_t;

static const flag_name_t socks_flags[] = {
    {"IsolateClientAddr", OM_PORT_ISOLATE_CLIENT_ADDR},
    {"IsolateSOCKSAuth", OM_PORT_ISOLATE_SOCKS_AUTH},
    {"IsolateClientProtocol", OM_PORT_ISOLATE_CLIENT_PROTOCOL},
    {"IsolateDestPort", OM_PORT_ISOLATE_DEST_PORT},
    {"IsolateDestAddr", OM_PORT_ISOLATE_DEST_ADDR},
    {"KeepAliveIsolateSOCKSAuth", OM_PORT_KEEPALIVE_ISOLATE_SOCKS_AUTH},
    {"IPv4Traffic", OM_PORT_IPV4_TRAFFIC},
    {"IPv6Traffic", OM_PORT_IPV6_TRAFFIC},
    {"PreferIPv6", OM_PORT_PREFER_IPV6},
    {"DNSRequest", OM_PORT_DNS_REQUEST},
    {"OnionTraffic", OM_PORT_ONION_TRAFFIC},
    {"CacheIPv4DNS", OM_PORT_CACHE_IPV4_DNS},
    {"CacheIPv6DNS", OM_PORT_CACHE_IPV6_DNS},
    {"CacheDNS", OM_PORT_CACHE_IPV4_DNS | OM_PORT_CACHE_IPV6_DNS},
    {"UseIPv4Cache", OM_PORT_USE_IPV4_CACHE},
    {"UseIPv6Cache", OM_PORT_USE_IPV6_CACHE},
    {"UseDNSCache", OM_PORT_USE_IPV4_CACHE | OM_PORT_USE_IPV6_CACHE},
    {"PreferIPv6Automap", OM_PORT_PREFER_IPV6_AUTOMAP},
    {"PreferSOCKSNoAuth", OM_PORT_PREFER_SOCKS_NO_AUTH},
    {"ExtendedErrors", OM_PORT_EXTENDED_ERRORS},
    {"GroupWritable", 0}, /* unix sockets only */
    {"WorldWritable", 0},
    {NULL, 0},
};

static const flag_name_t server_flags[] = {
    {"NoAdvertise", OM_PORT_NO_ADVERTISE},
    {"NoListen", OM_PORT_NO_LISTEN},
    {"IPv4Only", OM_PORT_IPV4_ONLY},
    {"IPv6Only", OM_PORT_IPV6_ONLY},
    {NULL, 0},
};

static const flag_name_t control_flags[] = {
    {"GroupWritable", 0},
    {"WorldWritable", 0},
    {"RelaxDirModeCheck", 0},
    {NULL, 0},
};

#define SOCKS_DEFAULT_FLAGS                                                                        \
    (OM_PORT_ISOLATE_CLIENT_ADDR | OM_PORT_ISOLATE_SOCKS_AUTH | OM_PORT_IPV4_TRAFFIC |             \
     OM_PORT_DNS_REQUEST | OM_PORT_ONION_TRAFFIC | OM_PORT_PREFER_IPV6_AUTOMAP)

/* One flag word; 1 if recognized. */
static bool apply_port_flag(const flag_name_t *table, const char *w, om_port_t *p)
{
    for (const flag_name_t *f = table; f->name; f++) {
        if (!strcasecmp(w, f->name)) {
            p->flags |= f->bits;
            p->explicit_flags |= f->bits;
            return true;
        }
    }
    if (!strncasecmp(w, "No", 2)) {
        for (const flag_name_t *f = table; f->name; f++) {
            if (!strcasecmp(w + 2, f->name)) {
                p->flags &= ~f->bits;
                p->explicit_flags |= f->bits;
                return true;
            }
        }
    }
    return false;
}

/* "[address:]port" or "[[IPv6]:]port" (not "0"): the address into p, the port text into
 * portbuf. */
static int parse_address_port(const char *ap, om_port_t *p, char *portbuf, size_t portlen,
                              char *reason)
{
    if (!strcasecmp(ap, "auto") || om_cfg_all_digits(ap)) {
        snprintf(portbuf, portlen, "%.15s", ap);
        return 0;
    }
    char host[OM_CONFIG_ADDR_LEN + 2];
    const char *colon;
    if (ap[0] == '[') {
        const char *close = strchr(ap, ']');
        if (!close || (size_t)(close - ap - 1) >= sizeof host)
            return om_errf(reason, REASON_LEN, "\"%s\" is not [address]:port", ap);
        memcpy(host, ap + 1, (size_t)(close - ap - 1));
        host[close - ap - 1] = '\0';
        colon = close + 1;
        if (*colon != ':')
            return om_errf(reason, REASON_LEN, "\"%s\" has an address but no port", ap);
        if (om_cfg_parse_ip(host, p->addr, sizeof p->addr) != 6)
            return om_errf(reason, REASON_LEN, "\"%s\" is not an IPv6 address", host);
        p->family = 6;
    } else {
        colon = strchr(ap, ':');
        if (!colon) return om_errf(reason, REASON_LEN, "\"%s\" is not a port", ap);
        if (strchr(colon + 1, ':'))
            return om_errf(reason, REASON_LEN, "\"%s\": IPv6 addresses need [brackets]", ap);
        size_t hl = (size_t)(colon - ap);
        if (hl >= sizeof host)
            return om_errf(reason, REASON_LEN, "\"%.*s\" is not an IP address", (int)hl, ap);
        memcpy(host, ap, hl);
        host[hl] = '\0';
        if (!strcasecmp(host, "localhost"))
            snprintf(p->addr, sizeof p->addr, "127.0.0.1");
        else if (om_cfg_parse_ip(host, p->addr, sizeof p->addr) != 4)
            return om_errf(reason, REASON_LEN, "\"%s\" is not an IP address", host);
    }
    snprintf(portbuf, portlen, "%.15s", colon + 1);
    if (!strcmp(portbuf, "0"))
        return om_errf(reason, REASON_LEN, "\"%s\": port 0 with an address", ap);
    return 0;
}

/* The flag words after the port, then the rules between flags. */
static int parse_flags(const om_config_option_t *d, char **w, size_t nw, om_port_t *p,
                       const char *where, char *reason)
{
    bool socks = d->flags & OM_OPT_PORT_SOCKS, control = d->flags & OM_OPT_PORT_CONTROL;
    const flag_name_t *table = socks ? socks_flags : control ? control_flags : server_flags;
    for (size_t i = 1; i < nw; i++) {
        const char *f = w[i];
        unsigned long grp;
        if (socks && !strncasecmp(f, "SessionGroup=", 13)) {
            if (!om_cfg_parse_ulong(f + 13, INT32_MAX, &grp))
                return om_errf(reason, REASON_LEN, "bad SessionGroup \"%s\"", f + 13);
            p->session_group = (int32_t)grp;
        } else if (socks && !strcasecmp(f, "OnionTrafficOnly")) {
            p->flags |= OM_PORT_ONION_TRAFFIC;
            p->flags &=
                ~(uint32_t)(OM_PORT_DNS_REQUEST | OM_PORT_IPV4_TRAFFIC | OM_PORT_IPV6_TRAFFIC);
            p->explicit_flags |= OM_PORT_ONION_TRAFFIC | OM_PORT_DNS_REQUEST |
                                 OM_PORT_IPV4_TRAFFIC | OM_PORT_IPV6_TRAFFIC;
        } else if (!apply_port_flag(table, f, p)) {
            /* tor warns and continues on unknown port flags; so do we. */
            om_warn("%s: %s: unrecognized flag \"%s\" (ignored)", where, d->name, f);
        }
    }
    if ((p->flags & OM_PORT_NO_ADVERTISE) && (p->flags & OM_PORT_NO_LISTEN))
        return om_errf(reason, REASON_LEN, "NoAdvertise and NoListen together");
    if ((p->flags & OM_PORT_IPV4_ONLY) && (p->flags & OM_PORT_IPV6_ONLY))
        return om_errf(reason, REASON_LEN, "IPv4Only and IPv6Only together");
    if ((p->flags & OM_PORT_IPV6_ONLY) && !strcmp(p->addr, "0.0.0.0")) {
        snprintf(p->addr, sizeof p->addr, "::");
        p->family = 6;
    }
    if ((d->flags & OM_OPT_PORT_IPV4_ONLY) && p->family != 4)
        return om_errf(reason, REASON_LEN, "%s can only be IPv4", d->name);
    return 0;
}

/* "[address:]port|auto|0 [flags]" for option d. *has_obj false for "0". */
int om_cfg_parse_port(const om_config_option_t *d, const char *value, om_port_t *p, bool *has_obj,
                      const char *where, char *reason)
{
    memset(p, 0, sizeof *p);
    p->session_group = -1;
    p->family = 4;
    bool socks = d->flags & OM_OPT_PORT_SOCKS, control = d->flags & OM_OPT_PORT_CONTROL;
    snprintf(p->addr, sizeof p->addr, "%s", (socks || control) ? "127.0.0.1" : "0.0.0.0");
    if (socks) p->flags = SOCKS_DEFAULT_FLAGS;
    *has_obj = false;

    size_t nw;
    char **w = om_cfg_split_ws(value, &nw);
    int rc = -1;
    const char *ap = w[0];
    char portbuf[16] = "";
    unsigned long port;
    if (!strncasecmp(ap, "unix:", 5)) {
        om_cfg_seterr(reason, REASON_LEN, "unix sockets (\"%s\") are not supported", ap);
    } else if (!strcmp(ap, "0")) {
        rc = 0; /* disabled */
    } else if (parse_address_port(ap, p, portbuf, sizeof portbuf, reason) < 0) {
        /* reason set */
    } else if (!strcasecmp(portbuf, "auto")) {
        p->is_auto = true;
        rc = 1;
    } else if (om_cfg_parse_ulong(portbuf, 65535, &port) && port > 0) {
        p->port = (uint16_t)port;
        rc = 1;
    } else {
        om_cfg_seterr(reason, REASON_LEN, "\"%s\" is not a port", ap);
    }
    if (rc == 1) {
        rc = parse_flags(d, w, nw, p, where, reason);
        *has_obj = rc == 0;
    }
    om_cfg_free_strv(w);
    return rc;
}
