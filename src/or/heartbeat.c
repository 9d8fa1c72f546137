/* heartbeat.c — the relay's periodic status notice (see heartbeat.h). */
#include "or/heartbeat.h"

#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "core/log.h"

struct om_heartbeat {
    struct event *ev;
    om_heartbeat_status_fn status;
    void *arg;
};

void om_heartbeat_format_uptime(long secs, char *out, size_t outsz)
{
    long days = secs / 86400;
    int hours = (int)((secs - days * 86400) / 3600);
    int minutes = (int)((secs - days * 86400 - hours * 3600) / 60);
    if (days == 0)
        snprintf(out, outsz, "%d:%02d hours", hours, minutes);
    else
        snprintf(out, outsz, "%ld day%s %d:%02d hours", days, days == 1 ? "" : "s", hours, minutes);
}

void om_heartbeat_format_bytes(uint64_t bytes, char *out, size_t outsz)
{
    if (bytes < (1u << 20))
        snprintf(out, outsz, "%llu kB", (unsigned long long)(bytes >> 10));
    else if (bytes < (1u << 30))
        snprintf(out, outsz, "%.2f MB", (double)bytes / (1 << 20));
    else
        snprintf(out, outsz, "%.2f GB", (double)bytes / (1 << 30));
}

void om_heartbeat_log(om_heartbeat_t *h)
{
    om_heartbeat_status_t st = {0};
    h->status(h->arg, &st);
    char up[64], sent[32], rcvd[32];
    om_heartbeat_format_uptime(st.uptime, up, sizeof up);
    om_heartbeat_format_bytes(st.bytes_written, sent, sizeof sent);
    om_heartbeat_format_bytes(st.bytes_read, rcvd, sizeof rcvd);
    om_notice("Heartbeat: Tor's uptime is %s, with %u circuits open. I've sent %s and received "
              "%s. %u links open (%u inbound).",
              up, st.circuits, sent, rcvd, st.links, st.links_inbound);
    om_notice("Heartbeat: DoS mitigation since startup: %s.", st.dos);
    if (st.dht[0]) om_notice("Heartbeat: DHT: %s.", st.dht);
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    om_heartbeat_log(arg);
}

om_heartbeat_t *om_heartbeat_new(struct event_base *base, long period_s,
                                 om_heartbeat_status_fn status, void *arg)
{
    if (period_s <= 0) return NULL;
    om_heartbeat_t *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->status = status;
    h->arg = arg;
    h->ev = event_new(base, -1, EV_PERSIST, tick, h);
    struct timeval tv = {period_s, 0};
    if (!h->ev || event_add(h->ev, &tv) < 0) {
        om_heartbeat_free(h);
        return NULL;
    }
    return h;
}

void om_heartbeat_free(om_heartbeat_t *h)
{
    if (!h) return;
    if (h->ev) event_free(h->ev);
    free(h);
}
