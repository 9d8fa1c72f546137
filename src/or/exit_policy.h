/* exit_policy.h — a relay's exit policy as tor 0.4.9 builds, applies and publishes it: the
 * ExitPolicy option's syntax (`man tor`, dir-spec 2.1.3 "Exit policy format"), the effective
 * policy of a relay (ExitRelay, ExitPolicyRejectPrivate with the relay's own addresses,
 * IPv6Exit, ReducedExitPolicy, tor's default policy appended, redundant rules removed), the
 * decision for a stream (first matching rule; "probably" answers for a hostname), and the
 * policy as a server descriptor writes it (accept/reject lines, "ipv6-policy" summary).
 *
 * It owns the parsed rules only: it reads no configuration and opens nothing. The configuration
 * passes the option values in, the relay its published addresses.
 *
 * Typical use (a relay):
 *     om_exit_policy_options_t o;
 *     om_exit_policy_options_init(&o);              // tor's defaults
 *     o.lines = values; o.n_lines = n;               // every ExitPolicy line, in order
 *     o.exit_relay = -1;                             // ExitRelay auto
 *     o.own_addrs = &published; o.n_own_addrs = 1;
 *     om_exit_policy_t pol;
 *     if (om_exit_policy_build(&pol, &o, err, sizeof err) < 0) ... err ...
 *     om_exit_policy_check(&pol, &addr, 443) == OM_EXIT_ACCEPTED ...
 *     char *lines = om_exit_policy_descriptor_lines(&pol);   // om_desc_params_t.exit_policy
 *     om_exit_policy_free(&pol);
 *
 * Differences from tor 0.4.9, on purpose (each is accepted by tor, refused here): an empty
 * mask ("1.2.3.4/:80", tor reads /0), text between "]" and "/" or ":" ("[::1]x:80", tor ignores
 * it), text after a port range ("80-90x", tor ignores it), an "opt " prefix.
 * ExitPolicyRejectLocalInterfaces (the machine's interface addresses and OutboundBindAddress) is
 * not done here: pass such addresses in own_addrs. */
#ifndef OM_OR_EXIT_POLICY_H
#define OM_OR_EXIT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Most rules a parsed ExitPolicy may hold, after "*" (2 rules) and "private" (12) are
 * expanded. tor has no limit; this bounds memory and the summary's work. */
#define OM_EXIT_POLICY_MAX_RULES 4096
/* Longest summary after "accept "/"reject ", as tor (MAX_EXITPOLICY_SUMMARY_LEN). */
#define OM_EXIT_POLICY_SUMMARY_MAX 1000

/* An IPv4 or IPv6 address: family AF_INET (bytes[0..3]) or AF_INET6 (bytes[0..15]), network
 * byte order. */
typedef struct {
    int family;
    uint8_t bytes[16];
} om_exit_addr_t;

/* One rule: the addresses addr/maskbits of its family, ports port_min..port_max. */
typedef struct {
    bool accept;
    uint8_t maskbits; /* 0 (every address of the family) .. 32 or 128 */
    uint16_t port_min, port_max;
    om_exit_addr_t addr; /* as written: bits past the mask are kept, as tor keeps them */
} om_exit_rule_t;

/* Rules in order; the first that matches decides. Zero-initialised = empty (accepts all). */
typedef struct {
    om_exit_rule_t *rules;
    size_t n, cap;
} om_exit_policy_t;

/* tor's addr_policy_result_t. */
typedef enum {
    OM_EXIT_ACCEPTED,
    OM_EXIT_PROBABLY_ACCEPTED, /* an unknown address or port that some rule may reject */
    OM_EXIT_PROBABLY_REJECTED, /* ... that some rule may accept */
    OM_EXIT_REJECTED,
} om_exit_result_t;

/* What tor reads from its options to build a relay's policy. */
typedef struct {
    const char *const *lines; /* ExitPolicy values in order (each may hold "rule, rule, ...") */
    size_t n_lines;           /* 0: ExitPolicy is not set */
    int exit_relay;           /* ExitRelay: 1, 0, or -1 (auto: an exit only if ExitPolicy,
                                 ReducedExitPolicy or IPv6Exit is set) */
    bool reject_private;      /* ExitPolicyRejectPrivate (default 1) */
    bool ipv6_exit;           /* IPv6Exit (default 0: "reject *6:*" first) */
    bool reduced_exit_policy; /* ReducedExitPolicy (default 0) */
    bool bridge_relay;        /* BridgeRelay: no default policy, "reject *:*" appended instead */
    const om_exit_addr_t *own_addrs; /* the relay's published addresses (public ones are
                                        rejected when reject_private; IPv6 only with ipv6_exit) */
    size_t n_own_addrs;
} om_exit_policy_options_t;

/* tor's defaults: not set, ExitRelay auto, ExitPolicyRejectPrivate 1, the rest 0. */
void om_exit_policy_options_init(om_exit_policy_options_t *o);

/* Parse ExitPolicy values as tor does and append their rules to *p (lines in order, each split
 * at ','; blank items skipped; "*" gives an IPv4 and an IPv6 rule, "private" tor's 12
 * networks). On error nothing is appended, err says which item and why, and -1 is returned. An
 * accept6/reject6 rule with an IPv4 address (or "private", or "*4") is skipped with a warning in
 * the log, as tor skips it. */
int om_exit_policy_parse(om_exit_policy_t *p, const char *const *lines, size_t n_lines, char *err,
                         size_t errlen);

/* The effective policy of a relay, as tor's policies_parse_exit_policy_from_options: *out is
 * initialised here (free it with om_exit_policy_free, also after an error). Not an exit
 * (ExitRelay 0, or auto with nothing set): "reject *4:*, reject *6:*". Otherwise: "reject *6:*"
 * unless ipv6_exit; with reject_private the private networks and own public addresses; the
 * ExitPolicy rules; tor's reduced or default policy (ending in accept *:*) or, for a bridge,
 * reject *:*; then tor's removal of rules that can never decide. ExitPolicy errors are reported
 * whatever ExitRelay says. */
int om_exit_policy_build(om_exit_policy_t *out, const om_exit_policy_options_t *o, char *err,
                         size_t errlen);

/* Replace *p with "reject *4:*, reject *6:*" (not an exit). */
int om_exit_policy_set_reject_all(om_exit_policy_t *p);

void om_exit_policy_free(om_exit_policy_t *p);

/* tor's compare_tor_addr_to_addr_policy. Known address and port: ACCEPTED or REJECTED by the
 * first matching rule (none: ACCEPTED). addr NULL = not known yet (a hostname), port 0 = not
 * known: ACCEPTED/REJECTED when a rule for every address (or every port) decides before any
 * narrower rule of the other action could, else PROBABLY_ACCEPTED/PROBABLY_REJECTED; both
 * unknown: REJECTED. As in tor, a NULL address meets every rule of both families: a relay
 * policy without IPv6Exit starts with "reject *6:*" and so REJECTS every hostname. To ask about
 * a hostname that will resolve to one family, pass 0.0.0.0 or :: (family set, bytes zero):
 * only that family's rules are considered (tor has no such question). */
om_exit_result_t om_exit_policy_check(const om_exit_policy_t *p, const om_exit_addr_t *addr,
                                      uint16_t port);

/* True if the policy surely rejects every address of family (AF_INET, AF_INET6) at every port;
 * AF_UNSPEC: of both families (tor's policy_is_reject_star with default_reject 1). */
bool om_exit_policy_is_reject_star(const om_exit_policy_t *p, int family);

/* Address helpers: "1.2.3.4", "2001:db8::1" or "[2001:db8::1]"; a sockaddr_in/in6. -1 if not. */
int om_exit_addr_parse(om_exit_addr_t *out, const char *s);
int om_exit_addr_from_sockaddr(om_exit_addr_t *out, const struct sockaddr *sa);

/* The rules one per line as tor's policy_dump_to_string writes them ("accept 1.2.3.0/24:80",
 * "reject *:25", "accept6 [2001:db8::]/32:443", each ending in '\n'), the IPv4 and/or IPv6
 * ones. malloc'd; NULL if out of memory. */
char *om_exit_policy_format(const om_exit_policy_t *p, bool ipv4, bool ipv6);

/* The port summary of the family's rules as tor's policy_summarize ("accept 80,443",
 * "reject 25,119", "reject 1-65535" when nothing is accepted, "accept 1-65535" when nothing is
 * rejected); rejects of tor's private networks are not counted. 0, or -1 if buf is too small
 * (OM_EXIT_POLICY_SUMMARY_MAX + 8 is always enough). */
int om_exit_policy_summary(const om_exit_policy_t *p, int family, char *buf, size_t buflen);

/* The policy as a server descriptor carries it (tor's router_dump_router_to_string): "reject
 * *:*\n" if it rejects everything, else its IPv4 rules as om_exit_policy_format; then
 * "ipv6-policy SUMMARY\n" unless the IPv6 summary is "reject 1-65535". malloc'd; NULL if out of
 * memory. */
char *om_exit_policy_descriptor_lines(const om_exit_policy_t *p);

#endif
