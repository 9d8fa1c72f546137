/* fuzz_exit_policy.c — libFuzzer target: ExitPolicy values through the parser and a relay's
 * policy build (src/or/exit_policy.c). The first input byte picks the options (ExitRelay,
 * ExitPolicyRejectPrivate, IPv6Exit, ReducedExitPolicy, BridgeRelay), the rest is split at '\n'
 * into ExitPolicy lines. Checked: every output is well formed, the rules written out parse back
 * into a policy that decides the same for addresses and ports taken from the input, the summary
 * fits tor's limit, and decisions are one of the four results. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "or/exit_policy.h"

#define MAX_LINES 16

static void check_result(om_exit_result_t r)
{
    if (r != OM_EXIT_ACCEPTED && r != OM_EXIT_PROBABLY_ACCEPTED && r != OM_EXIT_PROBABLY_REJECTED &&
        r != OM_EXIT_REJECTED)
        abort();
}

/* The lines format() wrote, parsed back one rule per ExitPolicy value. */
static void reparse(const char *text, om_exit_policy_t *out)
{
    char *copy = strdup(text);
    if (!copy) abort();
    const char *lines[OM_EXIT_POLICY_MAX_RULES + 64];
    size_t n = 0;
    for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (n == sizeof lines / sizeof lines[0]) abort();
        lines[n++] = l;
    }
    char err[256];
    memset(out, 0, sizeof *out);
    /* "accept *:80" is read back as two rules (both families); the callers compare one family. */
    if (om_exit_policy_parse(out, lines, n, err, sizeof err) < 0) abort();
    free(copy);
}

/* Addresses and ports from the input bytes: the same decisions from both policies. */
static void same_decisions(const om_exit_policy_t *a, const om_exit_policy_t *b, int family,
                           const uint8_t *data, size_t size)
{
    for (size_t off = 0; off + 18 <= size && off < 18 * 32; off += 18) {
        om_exit_addr_t x = {.family = family};
        memcpy(x.bytes, data + off, family == AF_INET ? 4 : 16);
        uint16_t port = (uint16_t)(data[off + 16] << 8 | data[off + 17]);
        om_exit_result_t ra = om_exit_policy_check(a, &x, port);
        om_exit_result_t rb = om_exit_policy_check(b, &x, port);
        check_result(ra);
        if (ra != rb) abort();
        check_result(om_exit_policy_check(a, NULL, port));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        om_log_set_level(OM_LOG_ERR);
        quiet = 1;
    }
    if (size < 1) return 0;
    uint8_t flags = data[0];
    char *text = malloc(size);
    if (!text) return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';

    const char *lines[MAX_LINES];
    size_t n = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && n < MAX_LINES;
         l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;

    om_exit_policy_options_t o;
    om_exit_policy_options_init(&o);
    o.lines = lines;
    o.n_lines = flags & 0x80 ? 0 : n;
    o.exit_relay = (flags & 3) == 3 ? -1 : (flags & 1);
    o.reject_private = !(flags & 4);
    o.ipv6_exit = flags & 8;
    o.reduced_exit_policy = flags & 16;
    o.bridge_relay = flags & 32;
    om_exit_addr_t own[2] = {{.family = AF_INET, .bytes = {198, 51, 100, 7}},
                             {.family = AF_INET6, .bytes = {0x20, 0x01, 0x0d, 0xb8, [15] = 5}}};
    o.own_addrs = own;
    o.n_own_addrs = flags & 64 ? 2 : 0;

    char err[256] = "";
    om_exit_policy_t p;
    if (om_exit_policy_build(&p, &o, err, sizeof err) < 0) {
        if (!err[0] || strlen(err) >= sizeof err) abort();
    } else {
        if (p.n > OM_EXIT_POLICY_MAX_RULES + 200) abort();
        for (size_t i = 0; i < p.n; i++) {
            const om_exit_rule_t *r = &p.rules[i];
            int bits = r->addr.family == AF_INET6 ? 128 : 32;
            if ((r->addr.family != AF_INET && r->addr.family != AF_INET6) || r->maskbits > bits ||
                r->port_min < 1 || r->port_min > r->port_max)
                abort();
        }
        char *v4 = om_exit_policy_format(&p, true, false);
        char *v6 = om_exit_policy_format(&p, false, true);
        char *desc = om_exit_policy_descriptor_lines(&p);
        if (!v4 || !v6 || !desc || desc[strlen(desc) - 1] != '\n') abort();
        om_exit_policy_t b4, b6;
        reparse(v4, &b4);
        reparse(v6, &b6);
        same_decisions(&p, &b4, AF_INET, data, size);
        same_decisions(&p, &b6, AF_INET6, data, size);
        om_exit_policy_free(&b4);
        om_exit_policy_free(&b6);
        char sum[OM_EXIT_POLICY_SUMMARY_MAX + 8];
        for (int f = 0; f < 2; f++) {
            if (om_exit_policy_summary(&p, f ? AF_INET6 : AF_INET, sum, sizeof sum) < 0) abort();
            if (strncmp(sum, "accept ", 7) && strncmp(sum, "reject ", 7)) abort();
            if (strlen(sum) > OM_EXIT_POLICY_SUMMARY_MAX + 7) abort();
        }
        if (om_exit_policy_is_reject_star(&p, AF_UNSPEC) && strcmp(desc, "reject *:*\n")) abort();
        free(v4);
        free(v6);
        free(desc);
    }
    om_exit_policy_free(&p);

    /* The whole input as one ExitPolicy value, appended to a policy. */
    om_exit_policy_t q = {0};
    const char *one[1] = {(const char *)text};
    memcpy(text, data + 1, size - 1); /* undo strtok's NULs; text[size - 1] stays '\0' */
    if (om_exit_policy_parse(&q, one, 1, err, sizeof err) == 0)
        check_result(om_exit_policy_check(&q, NULL, 80));
    om_exit_policy_free(&q);
    free(text);
    return 0;
}
