/* test_config_roles.c — option tables and precedence: registering a table (its options become
 * known, checked, validated, listed in --help and the dump; duplicates are refused), the
 * precedence levels (defaults < file < ONIONMESH_* environment < command line, whatever the
 * order they are read in), each role's typed options (om_relay_options_t, om_op_options_t), and
 * the values onionmesh refuses because it does not implement them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "op/op_config.h"
#include "op/op_options.h"
#include "or/relay_options.h"
#include "test.h"

static char errbuf[1024];
static char tmpconf[64];

static om_config_t *cfg_all(void)
{
    om_config_t *cfg = om_config_new();
    if (!cfg || om_op_config_register(cfg, errbuf, sizeof errbuf) < 0 ||
        om_relay_config_register(cfg, errbuf, sizeof errbuf) < 0) {
        fprintf(stderr, "cfg_all: %s\n", errbuf);
        exit(1);
    }
    return cfg;
}

/* ---- registering a table ---- */

static int demo_check(const char *value, om_config_value_t *v, const char *where, char *reason,
                      size_t reasonlen)
{
    (void)v;
    (void)where;
    if (strchr(value, 'x')) return om_errf(reason, reasonlen, "no x in \"%s\"", value);
    return 0;
}

static int demo_validate(om_config_t *cfg, char *err, size_t errlen)
{
    if (om_config_get_int(cfg, "DemoPeers") > 3 && !om_config_is_set(cfg, "DemoNames"))
        return om_errf(err, errlen, "DemoPeers above 3 needs DemoNames");
    return 0;
}

static const om_config_option_t demo_options[] = {
    {.name = "DemoPeers",
     .type = OM_CONF_INT,
     .def = "2",
     .min = 0,
     .max = 10,
     .args = "NUM",
     .help = "How many demo peers."},
    {.name = "DemoNames",
     .type = OM_CONF_CSV,
     .check = demo_check,
     .args = "name,...",
     .help = "Names of the demo peers."},
};
static const om_config_table_t demo_table = {
    .name = "demo",
    .title = "Demo role options",
    .options = demo_options,
    .n_options = 2,
    .validate = demo_validate,
};

static const om_config_option_t clash_options[] = {
    {.name = "datadirectory", .type = OM_CONF_PATH, .help = "Clashes with the general one."},
};
static const om_config_table_t clash_table = {
    .name = "clash", .title = "Clash", .options = clash_options, .n_options = 1};

static void test_register_table(void)
{
    om_config_t *cfg = om_config_new();
    CHECK(!om_config_has_option(cfg, "DemoPeers"));
    CHECK(om_config_parse_string(cfg, "DemoPeers 3\n", "a.conf", errbuf, sizeof errbuf) < 0);
    CHECK(!strcmp(errbuf, "a.conf:1: unknown option \"DemoPeers\""));
    CHECK(om_config_register(cfg, &demo_table, errbuf, sizeof errbuf) == 0);
    CHECK(om_config_has_table(cfg, "demo") && om_config_has_option(cfg, "demopeers"));
    CHECK_EQ_INT(om_config_get_int(cfg, "DemoPeers"), 2); /* the table's default */
    CHECK_EQ_INT(om_config_option_type(cfg, "DemoNames"), OM_CONF_CSV);
    /* Parsing, the table's check and "did you mean" over the new names. */
    CHECK(om_config_parse_string(cfg, "DemoPeers 11\n", "a.conf", errbuf, sizeof errbuf) < 0);
    CHECK(!strcmp(errbuf, "a.conf:1: DemoPeers: 11 is out of range (0 to 10)"));
    CHECK(om_config_parse_string(cfg, "DemoNames a,bx\n", "a.conf", errbuf, sizeof errbuf) < 0);
    CHECK(!strcmp(errbuf, "a.conf:1: DemoNames: no x in \"bx\""));
    CHECK(om_config_parse_string(cfg, "DemoPeer 1\n", "a.conf", errbuf, sizeof errbuf) < 0);
    CHECK(!strcmp(errbuf, "a.conf:1: unknown option \"DemoPeer\" (did you mean \"DemoPeers\"?)"));
    /* The table's validate runs with the general checks. */
    CHECK(om_config_parse_string(cfg, "DemoPeers 5\n", "a.conf", errbuf, sizeof errbuf) == 0);
    CHECK(om_config_validate(cfg, errbuf, sizeof errbuf) < 0);
    CHECK(!strcmp(errbuf, "DemoPeers above 3 needs DemoNames"));
    CHECK(om_config_parse_string(cfg, "DemoNames a,b\n", "a.conf", errbuf, sizeof errbuf) == 0);
    CHECK(om_config_validate(cfg, errbuf, sizeof errbuf) == 0);
    /* Help and dump list it. */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    om_config_print_help(cfg, f);
    om_config_dump(cfg, f);
    fclose(f);
    bool listed = strstr(buf, "\nDemo role options (names are case-insensitive):\n  DemoPeers NUM\n"
                              "      How many demo peers. (Default: 2)\n") &&
                  strstr(buf, "\nDemoPeers 5\n") && strstr(buf, "\nDemoNames a,b\n");
    free(buf);
    CHECK(listed);
    /* Twice, or a name another table has: refused. */
    CHECK(om_config_register(cfg, &demo_table, errbuf, sizeof errbuf) < 0);
    CHECK(!strcmp(errbuf, "option table \"demo\" is registered already"));
    CHECK(om_config_register(cfg, &clash_table, errbuf, sizeof errbuf) < 0);
    CHECK(
        !strcmp(errbuf, "option datadirectory of table \"clash\" is in table \"general\" already"));
    CHECK(!om_config_has_table(cfg, "clash"));
    om_config_free(cfg);
}

/* ---- precedence ---- */

static void write_conf(const char *text)
{
    if (!tmpconf[0]) {
        snprintf(tmpconf, sizeof tmpconf, "/tmp/om-test-roles-XXXXXX");
        int fd = mkstemp(tmpconf);
        if (fd < 0) exit(1);
        close(fd);
    }
    FILE *f = fopen(tmpconf, "w");
    if (!f) exit(1);
    fputs(text, f);
    fclose(f);
}

static const char *const file_text = "SocksPort 9100\n"
                                     "Nickname FromFile\n"
                                     "ConnLimit 10\n"
                                     "ExitPolicy accept *:80\n"
                                     "NumEntryGuards 1\n";

/* Parse with the file above, envp and extra argv. */
static om_config_t *load(char *const *envp, char **extra, int nextra)
{
    om_config_t *cfg = cfg_all();
    char *argv[16] = {"onionmesh", "-f", tmpconf};
    int argc = 3;
    for (int i = 0; i < nextra && argc < 15; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    om_config_command_t cmd;
    if (om_config_parse_args(cfg, argc, argv, envp, &cmd, errbuf, sizeof errbuf) < 0) {
        om_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static void test_env_precedence(void)
{
    write_conf(file_text);
    char *no_env[] = {NULL};
    /* defaults < file */
    om_config_t *cfg = load(no_env, NULL, 0);
    CHECK(cfg);
    size_t n;
    const om_port_t *sp = om_config_ports(cfg, "SocksPort", &n);
    CHECK(n == 1 && sp[0].port == 9100);
    CHECK(!strcmp(om_config_get_string(cfg, "Nickname"), "FromFile"));
    CHECK_EQ_INT(om_config_get_int(cfg, "ConnLimit"), 10);
    CHECK_EQ_INT(om_config_get_int(cfg, "CircuitBuildTimeout"), 60); /* default */
    om_config_free(cfg);

    /* file < environment (names in any case; repeatable values split on ';' and newlines). */
    char *env[] = {"PATH=/usr/bin",
                   "ONIONMESH_SOCKSPORT=9200; 127.0.0.1:9201 IsolateSOCKSAuth",
                   "ONIONMESH_nickname=FromEnv",
                   "ONIONMESH_ConnLimit=20",
                   "ONIONMESH_EXITPOLICY=accept *:443\nreject *:*",
                   "ONIONMESH_CIRCUITBUILDTIMEOUT=2 minutes",
                   "OM_LOG=notice",
                   NULL};
    cfg = load(env, NULL, 0);
    CHECK_MSG(cfg, "%.300s", errbuf);
    sp = om_config_ports(cfg, "SocksPort", &n);
    CHECK(n == 2 && sp[0].port == 9200 && sp[1].port == 9201);
    CHECK(!strcmp(om_config_get_string(cfg, "Nickname"), "FromEnv"));
    CHECK_EQ_INT(om_config_get_int(cfg, "ConnLimit"), 20);
    CHECK_EQ_INT(om_config_get_int(cfg, "CircuitBuildTimeout"), 120);
    const char *const *l = om_config_get_lines(cfg, "ExitPolicy", &n);
    CHECK(n == 2 && !strcmp(l[0], "accept *:443") && !strcmp(l[1], "reject *:*"));
    CHECK_EQ_INT(om_config_get_int(cfg, "NumEntryGuards"), 1); /* the file's, env says nothing */
    om_config_free(cfg);

    /* environment < command line */
    char *args[] = {"--ConnLimit", "30", "--SocksPort", "9300", "--+ExitPolicy", "accept *:22"};
    cfg = load(env, args, 6);
    CHECK_MSG(cfg, "%.300s", errbuf);
    CHECK_EQ_INT(om_config_get_int(cfg, "ConnLimit"), 30);
    sp = om_config_ports(cfg, "SocksPort", &n);
    CHECK(n == 1 && sp[0].port == 9300);
    CHECK(!strcmp(om_config_get_string(cfg, "Nickname"), "FromEnv"));
    l = om_config_get_lines(cfg, "ExitPolicy", &n); /* "+" appends to the environment's lines */
    CHECK(n == 3 && !strcmp(l[2], "accept *:22"));
    om_config_free(cfg);

    /* The order of reading does not matter: a file read after the environment loses. */
    cfg = cfg_all();
    CHECK(om_config_load_env(cfg, env, errbuf, sizeof errbuf) == 0);
    CHECK(om_config_set(cfg, "NumEntryGuards", "4", errbuf, sizeof errbuf) == 0);
    CHECK(om_config_load_file(cfg, tmpconf, errbuf, sizeof errbuf) == 0);
    CHECK_EQ_INT(om_config_get_int(cfg, "ConnLimit"), 20);
    CHECK_EQ_INT(om_config_get_int(cfg, "NumEntryGuards"), 4);
    sp = om_config_ports(cfg, "SocksPort", &n);
    CHECK(n == 2 && sp[0].port == 9200);
    om_config_free(cfg);

    /* An empty repeatable variable resets to the default; errors name the variable. */
    char *env2[] = {"ONIONMESH_SOCKSPORT=", NULL};
    cfg = load(env2, NULL, 0);
    CHECK(cfg);
    sp = om_config_ports(cfg, "SocksPort", &n);
    CHECK(n == 1 && sp[0].port == 9050);
    om_config_free(cfg);
    char *env3[] = {"ONIONMESH_SOCKSPRT=9050", NULL};
    CHECK(!load(env3, NULL, 0));
    CHECK(!strcmp(errbuf, "environment: ONIONMESH_SOCKSPRT: no such option (did you mean "
                          "\"ONIONMESH_SOCKSPORT\"?)"));
    char *env4[] = {"ONIONMESH_SOCKSPORT=9050;99999", NULL};
    CHECK(!load(env4, NULL, 0));
    CHECK(!strcmp(errbuf, "environment: ONIONMESH_SOCKSPORT: SocksPort: \"99999\" is not a port"));
    char *env5[] = {"ONIONMESH_NICKNAME=", NULL};
    CHECK(!load(env5, NULL, 0));
    CHECK(!strcmp(errbuf, "environment: ONIONMESH_NICKNAME: Nickname: option needs a value"));
    /* --help reads nothing (the broken environment is not looked at). */
    cfg = cfg_all();
    char *argv[] = {"onionmesh", "--help", NULL};
    om_config_command_t cmd;
    CHECK(om_config_parse_args(cfg, 2, argv, env3, &cmd, errbuf, sizeof errbuf) == 0);
    CHECK_EQ_INT(cmd, OM_CONFIG_CMD_HELP);
    om_config_free(cfg);
}

/* ---- typed options ---- */

static const char *const testnet_auth =
    "DirAuthority auth0 orport=5000 no-v2 v3ident=E2A2AF570166665D738736D0DD58169CC61D8A8B "
    "127.0.0.1:7000 4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0\n";

static om_config_t *validated(const char *text)
{
    om_config_t *cfg = cfg_all();
    if (om_config_parse_string(cfg, text, "t.conf", errbuf, sizeof errbuf) < 0 ||
        om_config_validate(cfg, errbuf, sizeof errbuf) < 0) {
        om_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static void test_relay_typed_options(void)
{
    char text[2048];
    snprintf(text, sizeof text,
             "TestingTorNetwork 1\n%sDataDirectory /tmp/om-relay-x\nORPort 127.0.0.1:9001\n"
             "Address 127.0.0.1\nNickname Relay7\nContactInfo ops@example.org\n"
             "MyFamily $E2A2AF570166665D738736D0DD58169CC61D8A8B,friend\nExitRelay 1\n"
             "ExitPolicy accept *:80\nExitPolicy reject *:*\nIPv6Exit 1\n"
             "PublishServerDescriptor 0\nBandwidthRate 1 MB\nBandwidthBurst 2 MB\n"
             "RelayBandwidthRate 512 KB\nDirCache 0\nMaxMemInQueues 300 MB\n",
             testnet_auth);
    om_config_t *cfg = validated(text);
    CHECK_MSG(cfg, "%.300s", errbuf);
    CHECK(om_relay_configured(cfg));
    om_relay_options_t o;
    CHECK(om_relay_options_from_config(cfg, &o, errbuf, sizeof errbuf) == 0);
    om_config_free(cfg); /* the struct owns its copies */
    bool ok = !strcmp(o.data_dir, "/tmp/om-relay-x") && o.testing && o.or_port.port == 9001 &&
              !strcmp(o.or_port.addr, "127.0.0.1") && !strcmp(o.address, "127.0.0.1") &&
              !strcmp(o.nickname, "Relay7") && o.contact_info &&
              !strcmp(o.contact_info, "ops@example.org") && o.n_my_family == 2 &&
              !strcmp(o.my_family[1], "friend") && o.exit_relay == 1 && o.n_exit_policy == 2 &&
              !strcmp(o.exit_policy[1], "reject *:*") && o.ipv6_exit && !o.reduced_exit_policy &&
              !o.exit_policy_reject_private /* TestingTorNetwork's default */ &&
              o.assume_reachable /* likewise */ && !o.publish_server_descriptor &&
              o.bandwidth_rate == 1u << 20 && o.bandwidth_burst == 2u << 20 &&
              o.relay_bandwidth_rate == 512u << 10 &&
              o.relay_bandwidth_burst == 512u << 10 /* validate: burst = rate */ && !o.dir_cache &&
              o.max_mem_in_queues == 300u << 20 && o.n_auths == 1 && o.auths[0].or_port == 5000 &&
              !o.server_dns_resolv_conf && !o.bridge_relay;
    om_relay_options_clear(&o);
    CHECK(ok);
    CHECK(o.exit_policy == NULL && o.n_exit_policy == 0);

    /* No ORPort: not a relay, and no relay options. */
    snprintf(text, sizeof text, "TestingTorNetwork 1\n%s", testnet_auth);
    cfg = validated(text);
    CHECK(cfg);
    CHECK(!om_relay_configured(cfg));
    CHECK(om_relay_options_from_config(cfg, &o, errbuf, sizeof errbuf) < 0);
    om_config_free(cfg);
    /* Without the relay table (the embedding API) nothing is a relay. */
    cfg = om_config_new();
    CHECK(!om_relay_configured(cfg));
    om_config_free(cfg);
}

static void test_op_typed_options(void)
{
    char text[2048];
    snprintf(
        text, sizeof text,
        "TestingTorNetwork 1\n%sDataDirectory /tmp/om-op-x\nSocksPort 127.0.0.1:9150 "
        "NoIsolateSOCKSAuth\nNewCircuitPeriod 45 seconds\nMaxCircuitDirtiness 5 minutes\n"
        "CircuitBuildTimeout 30\nExitNodes relayone,$E2A2AF570166665D738736D0DD58169CC61D8A8B\n"
        "StrictNodes 1\nCongestionControl 0\nConnLimit 77\nNumEntryGuards 2\nUseBridges 1\n"
        "Bridge 127.0.0.1:9001 0123456789ABCDEF0123456789ABCDEF01234567\n"
        "Bridge websocket 127.0.0.2:80 0123456789ABCDEF0123456789ABCDEF01234567 url=ws://h/\n",
        testnet_auth);
    om_config_t *cfg = validated(text);
    CHECK_MSG(cfg, "%.300s", errbuf);
    om_op_options_t o;
    CHECK(om_op_options_from_config(cfg, &o, errbuf, sizeof errbuf) == 0);
    CHECK(om_op_wanted(cfg, false));
    CHECK(!om_op_wanted(cfg, true) == !om_config_is_set(cfg, "SocksPort"));
    om_config_free(cfg);
    CHECK(!strcmp(o.data_dir, "/tmp/om-op-x") && o.socks_enabled && o.socks_port == 9150);
    CHECK(!o.isolate_socks_auth);
    CHECK_EQ_INT(o.new_circuit_period_s, 45);
    CHECK_EQ_INT(o.max_circuit_dirtiness_s, 300);
    CHECK_EQ_INT(o.circuit_build_timeout_s, 30);
    CHECK(o.path.exit_nodes.n_nick == 1 && o.path.exit_nodes.n_fp == 1 && o.path.strict_nodes);
    CHECK(o.congestion_control == 0 && o.max_socks_conns == 77 && o.num_entry_guards == 2);
    CHECK(o.n_auths == 1 && o.testing && !o.path.enforce_distinct_subnets);
    CHECK(o.use_bridges && o.n_bridges == 2 && o.bridges[0].port == 9001 &&
          !strcmp(o.bridges[1].transport, "websocket") && o.bridges[1].n_args == 1);
    /* A relay runs an OP only with an explicit SocksPort. */
    snprintf(text, sizeof text, "TestingTorNetwork 1\n%sORPort 9001\n", testnet_auth);
    cfg = validated(text);
    CHECK(cfg);
    CHECK(!om_op_wanted(cfg, om_relay_configured(cfg)));
    om_config_free(cfg);
}

/* ---- refused: what onionmesh does not implement ---- */

static void test_refused_options(void)
{
    static const struct {
        const char *text, *err;
    } refused[] = {
        {"GeoIPFile /usr/share/tor/geoip\n",
         "t.conf:1: GeoIPFile: not supported by onionmesh: onionmesh has no GeoIP database"},
        {"GeoIPv6File /x\n", "t.conf:1: GeoIPv6File: not supported by onionmesh"},
        {"ExitNodes {us}\n", "ExitNodes: \"{us}\": country codes need GeoIP"},
        {"ExcludeNodes 10.0.0.0/8\n", "take $fingerprints and nicknames, not address patterns"},
        {"SocksPort 9050 IsolateDestPort\n",
         "SocksPort: of tor's SocksPort flags onionmesh implements only (No)IsolateSOCKSAuth"},
        {"SocksPort 9050 SessionGroup=3\n", "implements only (No)IsolateSOCKSAuth"},
        {"SocksPort 9050\nSocksPort 9051\n", "SocksPort: 2 listeners configured"},
        {"LearnCircuitBuildTimeout 1\n", "does not learn circuit build timeouts"},
        {"ClientUseIPv4 0\n", "reaches relays over IPv4 only (1 only)"},
        {"ClientUseIPv6 1\n", "reaches relays over IPv4 only (0 only)"},
        {"ORPort 9001\nORPort 9002\n", "ORPort: 2 listeners configured"},
        {"ORPort 9001 NoAdvertise\n", "ORPort: flags (NoAdvertise"},
        {"ORPort 9001\nAddress [2001:db8::1]\n", "publish an IPv4 address only"},
        {"ORPort 9001\nAddress 10.0.0.1\nAddress 10.0.0.2\n", "Address: 2 lines"},
        {"DirPort 9030\n", "there is no DirPort (0 only)"},
        {"PublishServerDescriptor bridge\n", "an onionmesh bridge (BridgeRelay 1) uploads"},
        {"ORPort 9001\nBridgeRelay 1\nDirCache 0\n", "BridgeRelay is 1 but DirCache is 0"},
        {"UseBridges 1\n", "UseBridges is 1 but no Bridge line"},
        {"Bridge 127.0.0.1:1\n", "Bridge: no fingerprint"},
        {"Bridge 127.0.0.1:1 0123456789ABCDEF0123456789ABCDEF01234567 k=v\n",
         "KEY=VALUE arguments are for a transport"},
        {"UseMicrodescriptors 0\n", "always uses microdescriptors"},
        {"DownloadExtraInfo 1\n", "does not download extra-info"},
        {"ControlPort 9051\n", "only 0 is accepted"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        om_config_t *cfg = validated(refused[i].text);
        if (cfg) om_config_free(cfg);
        CHECK_MSG(!cfg, "accepted %s", refused[i].text);
        CHECK_MSG(strstr(errbuf, refused[i].err), "%.100s: got \"%.300s\"", refused[i].text,
                  errbuf);
    }
    /* What onionmesh does do stays accepted. */
    om_config_t *cfg = validated("SocksPort 9050 NoIsolateSOCKSAuth NoIsolateClientAddr\n"
                                 "ExitNodes $E2A2AF570166665D738736D0DD58169CC61D8A8B~x,name\n"
                                 "ORPort 9001\nDirPort 0\nPublishServerDescriptor v3\n"
                                 "UseMicrodescriptors auto\nTestingDirAuthVoteExit {us}\n"
                                 "BridgeRelay 1\nUseBridges 1\nBridge websocket 127.0.0.1:80 "
                                 "0123456789ABCDEF0123456789ABCDEF01234567 url=ws://h/p\n");
    CHECK_MSG(cfg, "%.300s", errbuf);
    om_config_free(cfg);
}

static void cleanup(void)
{
    if (tmpconf[0]) unlink(tmpconf);
}

static const om_test_t tests[] = {
    OM_TEST(test_register_table),      OM_TEST(test_env_precedence),
    OM_TEST(test_relay_typed_options), OM_TEST(test_op_typed_options),
    OM_TEST(test_refused_options),     {NULL, NULL},
};

int main(int argc, char **argv)
{
    atexit(cleanup);
    return om_test_main("config_roles", tests, argc, argv);
}
