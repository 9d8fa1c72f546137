/* relay_options.h — the relay (OR) role's options: its option table (ORPort, Address, Nickname,
 * ExitPolicy, BandwidthRate, DirCache, MaxMemInQueues ...) registered in a configuration, and
 * the typed om_relay_options_t filled once from the validated configuration, which is all the
 * relay reads. */
#ifndef OM_OR_RELAY_OPTIONS_H
#define OM_OR_RELAY_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "or/dos_options.h"

extern const om_config_table_t om_relay_config_table;

/* om_config_register(cfg, &om_relay_config_table, ...) and the DoS options' table
 * (om_dos_config_table). */
int om_relay_config_register(om_config_t *cfg, char *err, size_t errlen);
/* True if cfg has the relay table and an ORPort: onionmesh runs as a relay. */
bool om_relay_configured(const om_config_t *cfg);

typedef struct {
    char data_dir[512]; /* DataDirectory */
    bool testing;       /* TestingTorNetwork */
    om_port_t or_port;  /* the ORPort (a relay has exactly one) */
    char address[256];  /* Address: IPv4 literal or host name; "" = guess */
    char nickname[OM_CONFIG_NICKNAME_MAX + 1];
    char *contact_info; /* ContactInfo; NULL if unset */
    char **my_family;   /* MyFamily items */
    size_t n_my_family;
    int exit_relay;     /* ExitRelay: -1 auto, 0, 1 */
    char **exit_policy; /* ExitPolicy lines, in order */
    size_t n_exit_policy;
    bool exit_policy_reject_private; /* ExitPolicyRejectPrivate */
    bool ipv6_exit;                  /* IPv6Exit */
    bool reduced_exit_policy;        /* ReducedExitPolicy */
    char *server_dns_resolv_conf;    /* ServerDNSResolvConfFile; NULL: the system's */
    bool publish_server_descriptor;  /* PublishServerDescriptor is not 0 */
    bool assume_reachable;           /* AssumeReachable */
    bool bridge_relay; /* BridgeRelay: serve bridge users, upload nothing to the authorities */
    uint64_t bandwidth_rate, bandwidth_burst;             /* BandwidthRate/Burst, bytes */
    uint64_t relay_bandwidth_rate, relay_bandwidth_burst; /* 0: no separate limit */
    bool dir_cache;                                       /* DirCache */
    bool dht_server;                                      /* DHTServer */
    uint64_t max_mem_in_queues; /* MaxMemInQueues, bytes; 0 = pick from RAM */
    om_dir_authority_t *auths;  /* DirAuthority (or the defaults) */
    size_t n_auths;
    om_dos_options_t dos;     /* DoS* (dos_options.h) */
    int64_t heartbeat_period; /* HeartbeatPeriod, seconds; 0: none */
} om_relay_options_t;

/* Fill o from a validated cfg with an ORPort (o owns copies: free with om_relay_options_clear).
 * 0, or -1 with err. */
int om_relay_options_from_config(const om_config_t *cfg, om_relay_options_t *o, char *err,
                                 size_t errlen);
void om_relay_options_clear(om_relay_options_t *o);

#endif
