/* test_config.c — unit tests for the configuration engine with every role's table registered
 * (as main does): defaults, file/command-line precedence, every value type, DirAuthority and the
 * default authorities, error messages, %include, continuations, validation, help, dump and the
 * sample configuration. test_config_roles.c, test_config_log.c and test_config_daemon.c test
 * the rest. */
#include "test.h"
#include "core/config.h"
#include "op/op_config.h"
#include "bridge/ws_options.h"
#include "or/relay_options.h"

#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/om-test-config-XXXXXX");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(1);
        }
    }
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

/* A configuration with every role's table, as main makes it. */
static om_config_t *cfg_new(void)
{
    om_config_t *cfg = om_config_new();
    char e[256];
    if (!cfg || om_op_config_register(cfg, e, sizeof e) < 0 ||
        om_relay_config_register(cfg, e, sizeof e) < 0 ||
        om_ws_config_register(cfg, e, sizeof e) < 0) {
        fprintf(stderr, "cfg_new: %s\n", e);
        exit(1);
    }
    return cfg;
}

static const om_port_t *socks_ports(const om_config_t *cfg, size_t *n)
{
    return om_config_ports(cfg, "SocksPort", n);
}

/* Parse text into a fresh config; returns rc, err in errbuf. */
static char errbuf[1024];
static int parse(om_config_t *cfg, const char *text)
{
    errbuf[0] = '\0';
    return om_config_parse_string(cfg, text, "my.conf", errbuf, sizeof errbuf);
}

/* Parse a one-line config and expect failure; returns the error. */
static const char *parse_err(const char *text)
{
    om_config_t *cfg = cfg_new();
    int rc = parse(cfg, text);
    om_config_free(cfg);
    return rc < 0 ? errbuf : NULL;
}

static bool parses(const char *text)
{
    om_config_t *cfg = cfg_new();
    int rc = parse(cfg, text);
    om_config_free(cfg);
    return rc == 0;
}

static const char *const testnet_auth =
    "DirAuthority auth0 orport=5000 no-v2 v3ident=E2A2AF570166665D738736D0DD58169CC61D8A8B "
    "127.0.0.1:7000 4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0\n";

/* ---- defaults ---- */

static void test_defaults(void)
{
    om_config_t *cfg = cfg_new();
    CHECK(cfg);
    const char *home = getenv("HOME");
    if (home && *home) {
        char want[512];
        snprintf(want, sizeof want, "%s/.onionmesh", home);
        CHECK(om_config_get_string(cfg, "DataDirectory"));
        CHECK(!strcmp(om_config_get_string(cfg, "datadirectory"), want));
    }
    size_t n;
    const om_port_t *sp = socks_ports(cfg, &n);
    CHECK_EQ_INT(n, 1);
    CHECK(!strcmp(sp[0].addr, "127.0.0.1"));
    CHECK_EQ_INT(sp[0].port, 9050);
    CHECK(sp[0].flags & OM_PORT_ISOLATE_SOCKS_AUTH);
    CHECK(sp[0].flags & OM_PORT_ISOLATE_CLIENT_ADDR);
    CHECK(!om_config_is_set(cfg, "SocksPort"));
    CHECK_EQ_INT(om_config_get_bool(cfg, "RunAsDaemon"), 0);
    CHECK_EQ_INT(om_config_get_bool(cfg, "ExitRelay"), -1);
    CHECK_EQ_INT(om_config_get_bool(cfg, "UseMicrodescriptors"), -1);
    CHECK_EQ_INT(om_config_get_bool(cfg, "ClientUseIPv4"), 1);
    CHECK_EQ_INT(om_config_get_bool(cfg, "ClientUseIPv6"), 0); /* tor's default */
    CHECK_EQ_INT(om_config_get_int(cfg, "MaxCircuitDirtiness"), 600);
    CHECK_EQ_INT(om_config_get_int(cfg, "NewCircuitPeriod"), 30);
    CHECK_EQ_INT(om_config_get_int(cfg, "CircuitBuildTimeout"), 60);
    CHECK_EQ_INT(om_config_get_int(cfg, "BandwidthRate"), 1 << 30);
    CHECK_EQ_INT(om_config_get_int(cfg, "ConnLimit"), 1000);
    CHECK_EQ_INT(om_config_get_int(cfg, "V3AuthNIntervalsValid"), 3);
    CHECK(om_config_get_double(cfg, "PathsNeededToBuildCircuits") == -1.0);
    CHECK(!strcmp(om_config_get_string(cfg, "Nickname"), "Unnamed"));
    CHECK(!strcmp(om_config_get_string(cfg, "SafeLogging"), "1"));
    CHECK(om_config_get_string(cfg, "ContactInfo") == NULL);
    om_config_get_lines(cfg, "ExitPolicy", &n);
    CHECK_EQ_INT(n, 0);
    om_config_get_lines(cfg, "PublishServerDescriptor", &n);
    CHECK_EQ_INT(n, 1);
    CHECK(!om_relay_configured(cfg));
    om_config_ports(cfg, "ControlPort", &n);
    CHECK_EQ_INT(n, 0);
    CHECK(om_config_validate(cfg, errbuf, sizeof errbuf) == 0);
    CHECK_EQ_INT(om_config_option_type(cfg, "socksport"), OM_CONF_PORT);
    CHECK_EQ_INT(om_config_option_type(cfg, "NoSuchOption"), -1);
    om_config_free(cfg);
}

static void test_default_authorities(void)
{
    om_config_t *cfg = cfg_new();
    size_t n;
    const om_dir_authority_t *a = om_config_dir_authorities(cfg, &n);
    CHECK_EQ_INT(n, 10);
    size_t v3 = 0, bridges = 0;
    uint8_t zero[20] = {0};
    for (size_t i = 0; i < n; i++) {
        CHECK(a[i].nickname[0]);
        CHECK(a[i].dir_port && a[i].or_port);
        CHECK(memcmp(a[i].rsa_fp, zero, 20) != 0);
        if (a[i].is_bridge) {
            bridges++;
            CHECK(!a[i].has_v3ident);
        } else {
            CHECK_MSG(a[i].has_v3ident, "%s has no v3ident", a[i].nickname);
            CHECK(memcmp(a[i].v3ident, zero, 20) != 0);
            v3++;
        }
    }
    CHECK_EQ_INT(v3, 9);
    CHECK_EQ_INT(bridges, 1);
    /* moria1 as tor 0.4.9 ships it: fingerprint written as 40 hex digits. */
    uint8_t fp[20], id[20];
    om_test_unhex("1A25C6358DB91342AA51720A5038B72742732498", fp, 20);
    om_test_unhex("F533C81CEF0BC0267857C99B2F471ADF249FA232", id, 20);
    CHECK(!strcmp(a[0].nickname, "moria1"));
    CHECK(!strcmp(a[0].ipv4, "128.31.0.39"));
    CHECK_EQ_INT(a[0].dir_port, 9231);
    CHECK_EQ_INT(a[0].or_port, 9201);
    CHECK_MEM(a[0].rsa_fp, fp, 20);
    CHECK_MEM(a[0].v3ident, id, 20);
    /* tor26: fingerprint in groups of four, IPv6 ORPort. */
    om_test_unhex("FAA4BCA4A6AC0FB4CA2F8AD5A11D9E122BA894F6", fp, 20);
    CHECK(!strcmp(a[1].nickname, "tor26"));
    CHECK_MEM(a[1].rsa_fp, fp, 20);
    CHECK(a[1].has_ipv6);
    CHECK(!strcmp(a[1].ipv6, "2a02:16a8:662:2203::1"));
    CHECK_EQ_INT(a[1].ipv6_or_port, 443);
    om_config_free(cfg);
}

/* ---- DirAuthority ---- */

static void test_dirauthority_testnet(void)
{
    om_config_t *cfg = cfg_new();
    CHECK(parse(cfg, testnet_auth) == 0);
    CHECK(parse(cfg, "DirAuthority auth1 orport=5001 no-v2 "
                     "v3ident=0123456789ABCDEF0123456789ABCDEF01234567 "
                     "127.0.0.1:7001 4D9F 0E6F B32A 1B1A 1C0C F5A5 F1D6 3FA2 F9A6 A4F1\n") == 0);
    size_t n;
    const om_dir_authority_t *a = om_config_dir_authorities(cfg, &n);
    CHECK_EQ_INT(n, 2); /* replaced the defaults */
    uint8_t fp[20], id[20];
    om_test_unhex("4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0", fp, 20);
    om_test_unhex("E2A2AF570166665D738736D0DD58169CC61D8A8B", id, 20);
    CHECK(!strcmp(a[0].nickname, "auth0"));
    CHECK(!strcmp(a[0].ipv4, "127.0.0.1"));
    CHECK_EQ_INT(a[0].dir_port, 7000);
    CHECK_EQ_INT(a[0].or_port, 5000);
    CHECK(a[0].no_v2 && !a[0].is_bridge && !a[0].has_ipv6);
    CHECK(a[0].has_v3ident);
    CHECK_MEM(a[0].rsa_fp, fp, 20);
    CHECK_MEM(a[0].v3ident, id, 20);
    CHECK(a[0].weight == 1.0);
    om_test_unhex("4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F1", fp, 20);
    CHECK_MEM(a[1].rsa_fp, fp, 20);
    CHECK_EQ_INT(a[1].or_port, 5001);
    om_config_free(cfg);
}

static void test_dirauthority_forms(void)
{
    om_dir_authority_t a;
    char err[256];
    /* No nickname, bridge, weight, ipv6. */
    CHECK(om_config_parse_dir_authority(
              "bridge weight=2.5 ipv6=[2001:db8::1]:9001 orport=9001 10.0.0.1:80 "
              "4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0",
              &a, err, sizeof err) == 0);
    /* "bridge" first is taken as a nickname, as tor does. */
    CHECK(!strcmp(a.nickname, "bridge"));
    CHECK(!a.is_bridge);
    CHECK(a.weight == 2.5);
    CHECK(a.has_ipv6 && a.ipv6_or_port == 9001 && !strcmp(a.ipv6, "2001:db8::1"));
    CHECK(om_config_parse_dir_authority("orport=9001 bridge 10.0.0.1:80 "
                                        "4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0",
                                        &a, err, sizeof err) == 0);
    CHECK(a.nickname[0] == '\0' && a.is_bridge && !a.has_v3ident);
    /* Unknown flags are warned about and ignored, as tor. */
    CHECK(om_config_parse_dir_authority("x bogus=1 10.0.0.1:80 "
                                        "4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0",
                                        &a, err, sizeof err) == 0);

    static const char *const bad[] = {
        "auth0 127.0.0.1:7000 4D9F0E6F",                                   /* short fp */
        "auth0 127.0.0.1:7000 4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0AA", /* long fp */
        "auth0 127.0.0.1:7000 4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4FG",   /* not hex */
        "auth0 127.0.0.1 4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0",        /* no port */
        "auth0 127.0.0.1:0 4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0",      /* port 0 */
        "auth0 127.0.0.1:70000 4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0",  /* port range */
        "auth0 1.2.3:7000 4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0",       /* not IPv4 */
        "auth0 v3ident=ABCD 127.0.0.1:7000 4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0",
        "auth0 orport=x 127.0.0.1:7000 4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0",
        "auth0 orport=0 127.0.0.1:7000 4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0",
        "auth0 weight=-1 127.0.0.1:7000 4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0",
        "auth0 ipv6=2001:db8::1:9001 127.0.0.1:7000 4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0",
        "auth0 ipv6=[1.2.3.4]:9001 127.0.0.1:7000 4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0",
        "auth0 127.0.0.1:7000",
        "auth0",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(om_config_parse_dir_authority(bad[i], &a, err, sizeof err) < 0, "accepted \"%s\"",
                  bad[i]);
    const char *e = parse_err("DirAuthority auth0 127.0.0.1:7000 4D9F\n");
    CHECK(e && !strcmp(e, "my.conf:1: DirAuthority: fingerprint is not 40 hex digits"));
}

/* ---- file and command line ---- */

static void test_file_and_argv_precedence(void)
{
    const char *conf = tmp_path("prec.conf");
    write_file(conf, "# test\n"
                     "SocksPort 9100\n"
                     "SocksPort 9101\n"
                     "Nickname FromFile\n"
                     "ExitNodes exitone\n"
                     "RunAsDaemon 1\n"
                     "ExitPolicy accept *:80\n");
    om_config_t *cfg = cfg_new();
    char *argv[] = {"onionmesh",  "-f",         (char *)conf, "--SocksPort",
                    "9200",       "--nickname", "FromArgv",   "--+ExitPolicy",
                    "reject *:*", "-SocksPort", "9201",       NULL};
    om_config_command_t cmd = OM_CONFIG_CMD_HELP;
    CHECK(om_config_parse_argv(cfg, 11, argv, &cmd, errbuf, sizeof errbuf) == 0);
    CHECK_EQ_INT(cmd, OM_CONFIG_CMD_RUN);
    CHECK(!strcmp(om_config_file(cfg), conf));
    size_t n;
    const om_port_t *sp = socks_ports(cfg, &n);
    /* The command line's SocksPort lines replace the file's. */
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(sp[0].port, 9200);
    CHECK_EQ_INT(sp[1].port, 9201);
    CHECK(!strcmp(om_config_get_string(cfg, "Nickname"), "FromArgv"));
    CHECK_EQ_INT(om_config_get_bool(cfg, "RunAsDaemon"), 1);
    const char *const *l = om_config_get_lines(cfg, "ExitNodes", &n);
    CHECK(n == 1 && !strcmp(l[0], "exitone"));
    l = om_config_get_lines(cfg, "ExitPolicy", &n);
    CHECK(n == 2 && !strcmp(l[0], "accept *:80") && !strcmp(l[1], "reject *:*"));
    om_config_free(cfg);

    /* --/Option clears; "+Option" in a file appends to the default. */
    cfg = cfg_new();
    char *argv2[] = {"onionmesh", "-f", (char *)conf, "--/SocksPort", NULL};
    CHECK(om_config_parse_argv(cfg, 4, argv2, &cmd, errbuf, sizeof errbuf) == 0);
    socks_ports(cfg, &n);
    CHECK_EQ_INT(n, 0);
    om_config_free(cfg);
    cfg = cfg_new();
    CHECK(parse(cfg, "+SocksPort 9100\n") == 0);
    sp = socks_ports(cfg, &n);
    CHECK(n == 2 && sp[0].port == 9050 && sp[1].port == 9100);
    om_config_free(cfg);

    /* om_config_set behaves like the command line. */
    cfg = cfg_new();
    CHECK(om_config_load_file(cfg, conf, errbuf, sizeof errbuf) == 0);
    CHECK(om_config_set(cfg, "SocksPort", "9300", errbuf, sizeof errbuf) == 0);
    sp = socks_ports(cfg, &n);
    CHECK(n == 1 && sp[0].port == 9300);
    CHECK(om_config_set(cfg, "SockPort", "1", errbuf, sizeof errbuf) < 0);
    CHECK(!strcmp(errbuf, "unknown option \"SockPort\" (did you mean \"SocksPort\"?)"));
    om_config_free(cfg);
}

static void test_argv_commands(void)
{
    om_config_command_t cmd;
    /* --help and --version don't read the file (it doesn't exist). */
    char *a1[] = {"onionmesh", "-f", "/nonexistent/x.conf", "--help", NULL};
    om_config_t *cfg = cfg_new();
    CHECK(om_config_parse_argv(cfg, 4, a1, &cmd, errbuf, sizeof errbuf) == 0);
    CHECK_EQ_INT(cmd, OM_CONFIG_CMD_HELP);
    char *a2[] = {"onionmesh", "--version", "-f", "/nonexistent/x.conf", NULL};
    CHECK(om_config_parse_argv(cfg, 4, a2, &cmd, errbuf, sizeof errbuf) == 0);
    CHECK_EQ_INT(cmd, OM_CONFIG_CMD_VERSION);
    char *a3[] = {"onionmesh", "--verify-config", "-f", "/nonexistent/x.conf", NULL};
    CHECK(om_config_parse_argv(cfg, 4, a3, &cmd, errbuf, sizeof errbuf) < 0);
    CHECK(strstr(errbuf, "/nonexistent/x.conf") && strstr(errbuf, "No such file"));
    char *a4[] = {"onionmesh", "--ignore-missing-torrc", "--list-fingerprint",
                  "-f",        "/nonexistent/x.conf",    NULL};
    CHECK(om_config_parse_argv(cfg, 5, a4, &cmd, errbuf, sizeof errbuf) == 0);
    CHECK_EQ_INT(cmd, OM_CONFIG_CMD_LIST_FINGERPRINT);
    char *a5[] = {"onionmesh", "--verify-config", NULL};
    CHECK(om_config_parse_argv(cfg, 2, a5, &cmd, errbuf, sizeof errbuf) == 0);
    CHECK_EQ_INT(cmd, OM_CONFIG_CMD_VERIFY_CONFIG);
    om_config_free(cfg);

    /* Options need a value, as in tor. */
    cfg = cfg_new();
    char *b1[] = {"onionmesh", "--RunAsDaemon", NULL};
    CHECK(om_config_parse_argv(cfg, 2, b1, &cmd, errbuf, sizeof errbuf) < 0);
    CHECK(!strcmp(errbuf, "command line: option \"--RunAsDaemon\" needs a value"));
    char *b2[] = {"onionmesh", "--RunAsDaemon", "--SocksPort", NULL};
    CHECK(om_config_parse_argv(cfg, 3, b2, &cmd, errbuf, sizeof errbuf) < 0);
    CHECK(!strcmp(errbuf, "command line: RunAsDaemon: \"--SocksPort\" is not 0 or 1"));
    char *b3[] = {"onionmesh", "--SocksPrt", "9050", NULL};
    CHECK(om_config_parse_argv(cfg, 3, b3, &cmd, errbuf, sizeof errbuf) < 0);
    CHECK(!strcmp(errbuf,
                  "command line: unknown option \"--SocksPrt\" (did you mean \"SocksPort\"?)"));
    char *b4[] = {"onionmesh", "-f", NULL};
    CHECK(om_config_parse_argv(cfg, 2, b4, &cmd, errbuf, sizeof errbuf) < 0);
    /* Bare "Option value" works too, as in tor; values may start with '-'. */
    char *b5[] = {"onionmesh", "PathsNeededToBuildCircuits", "-1", "ConnLimit", "50", NULL};
    CHECK(om_config_parse_argv(cfg, 5, b5, &cmd, errbuf, sizeof errbuf) == 0);
    CHECK_EQ_INT(om_config_get_int(cfg, "ConnLimit"), 50);
    om_config_free(cfg);
}

/* ---- value types ---- */

static void test_bool_int_double_string(void)
{
    om_config_t *cfg = cfg_new();
    CHECK(parse(cfg, "RunAsDaemon 1\nStrictNodes 0\nExitRelay auto\nNumEntryGuards 3\n"
                     "PathsNeededToBuildCircuits 0.67\nSafeLogging relay\n"
                     "ContactInfo Random Person <nobody AT example dot com>\n") == 0);
    CHECK_EQ_INT(om_config_get_bool(cfg, "RunAsDaemon"), 1);
    CHECK(om_config_is_set(cfg, "StrictNodes"));
    CHECK_EQ_INT(om_config_get_bool(cfg, "ExitRelay"), -1);
    CHECK_EQ_INT(om_config_get_int(cfg, "NumEntryGuards"), 3);
    CHECK(fabs(om_config_get_double(cfg, "PathsNeededToBuildCircuits") - 0.67) < 1e-12);
    CHECK(!strcmp(om_config_get_string(cfg, "SafeLogging"), "relay"));
    CHECK(!strcmp(om_config_get_string(cfg, "ContactInfo"),
                  "Random Person <nobody AT example dot com>"));
    om_config_free(cfg);

    const char *e = parse_err("\n\nRunAsDaemon yes\n");
    CHECK(e && !strcmp(e, "my.conf:3: RunAsDaemon: \"yes\" is not 0 or 1"));
    CHECK(parse_err("RunAsDaemon 2\n"));
    CHECK(parse_err("ExitRelay maybe\n"));
    e = parse_err("NumEntryGuards -1\n");
    CHECK(e && !strcmp(e, "my.conf:1: NumEntryGuards: -1 is out of range (0 to 2147483647)"));
    CHECK(parse_err("NumEntryGuards 3x\n"));
    CHECK(parse_err("NumEntryGuards 99999999999999999999999\n"));
    CHECK(parse_err("ConnLimit 0\n"));
    CHECK(parse_err("V3AuthNIntervalsValid 1\n"));
    CHECK(parse_err("PathsNeededToBuildCircuits 2\n"));
    CHECK(parse_err("PathsNeededToBuildCircuits abc\n"));
    CHECK(parse_err("PathsNeededToBuildCircuits nan\n"));
    CHECK(parse_err("SafeLogging 2\n"));
    /* Restricted options. */
    CHECK(parses("UseMicrodescriptors 1\nUseMicrodescriptors auto\nDownloadExtraInfo 0\n"));
    CHECK(parse_err("UseMicrodescriptors 0\n"));
    CHECK(parse_err("DownloadExtraInfo 1\n"));
    CHECK(parses("ControlPort 0\n"));
    e = parse_err("ControlPort 9051\n");
    CHECK(e && strstr(e, "my.conf:1: ControlPort: ") && strstr(e, "only 0"));
    /* Nickname */
    CHECK(parses("Nickname abcdefghij0123456789\n") == false); /* 20 characters */
    CHECK(parses("Nickname abcdefghij012345678\n"));
    CHECK(parse_err("Nickname bad-name\n"));
    /* Empty value: an error for single options. */
    e = parse_err("Nickname\n");
    CHECK(e && !strcmp(e, "my.conf:1: Nickname: option needs a value"));
    e = parse_err("Nickname   # just a comment\n");
    CHECK(e && !strcmp(e, "my.conf:1: Nickname: option needs a value"));
}

static void test_interval(void)
{
    static const struct {
        const char *s;
        int64_t v;
    } ok[] = {
        {"30 seconds", 30}, {"30", 30},           {"1 second", 1},     {"2 hours", 7200},
        {"1 day", 86400},   {"1 week", 604800},   {"1.5 minutes", 90}, {"10MINUTES", 600},
        {"3 days", 259200}, {"1 month", 2629728}, {"0 seconds", 0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t v = -1;
        CHECK_MSG(om_config_parse_interval(ok[i].s, &v) == 0, "rejected \"%s\"", ok[i].s);
        CHECK_MSG(v == ok[i].v, "\"%s\" = %lld", ok[i].s, (long long)v);
    }
    static const char *const bad[] = {"",         "seconds",  "5 parsecs", "-1 seconds",
                                      "1e3",      "1,5 days", "100 years", "99999999 weeks",
                                      " 5 hours", "5 hours x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v;
        CHECK_MSG(om_config_parse_interval(bad[i], &v) < 0, "accepted \"%s\"", bad[i]);
    }
    om_config_t *cfg = cfg_new();
    CHECK(parse(cfg, "MaxCircuitDirtiness 1 hour\nNewCircuitPeriod 15\n") == 0);
    CHECK_EQ_INT(om_config_get_int(cfg, "MaxCircuitDirtiness"), 3600);
    CHECK_EQ_INT(om_config_get_int(cfg, "NewCircuitPeriod"), 15);
    om_config_free(cfg);
    const char *e = parse_err("CircuitBuildTimeout 5 parsecs\n");
    CHECK(e &&
          !strncmp(e, "my.conf:1: CircuitBuildTimeout: \"5 parsecs\" is not a time interval", 66));
    CHECK(parse_err("CircuitBuildTimeout 0 seconds\n")); /* below the minimum */
    /* tor clamps MaxCircuitDirtiness to 30 days in validation. */
    cfg = cfg_new();
    CHECK(parse(cfg, "MaxCircuitDirtiness 100 days\n") == 0);
    CHECK(om_config_validate(cfg, errbuf, sizeof errbuf) == 0);
    CHECK_EQ_INT(om_config_get_int(cfg, "MaxCircuitDirtiness"), 30 * 86400);
    om_config_free(cfg);
}

static void test_memunit(void)
{
    static const struct {
        const char *s;
        uint64_t v;
    } ok[] = {
        {"8 GB", 8ull << 30},
        {"512 MB", 512ull << 20},
        {"100 KBytes", 102400},
        {"100 KBits", 12800},
        {"1 TB", 1ull << 40},
        {"1.5 GB", 3ull << 29},
        {"1000", 1000},
        {"1000 bytes", 1000},
        {"1 byte", 1},
        {"2 MBits", 2ull << 17},
        {"75 kilobytes", 76800},
        {"3 gigabits", 3ull << 27},
        {"1 terabit", 1ull << 37},
        {"10m", 10ull << 20},
        {"0", 0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t v = 1;
        CHECK_MSG(om_config_parse_memunit(ok[i].s, &v) == 0, "rejected \"%s\"", ok[i].s);
        CHECK_MSG(v == ok[i].v, "\"%s\" = %llu", ok[i].s, (unsigned long long)v);
    }
    static const char *const bad[] = {
        "",        "GB",     "10 furlongs",         "-5 MB", "1 PB", "5 G B", "99999999999999 TB",
        "0x10 MB", "1e9 GB", "18446744073709551616"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v;
        CHECK_MSG(om_config_parse_memunit(bad[i], &v) < 0, "accepted \"%s\"", bad[i]);
    }
    om_config_t *cfg = cfg_new();
    CHECK(parse(cfg, "MaxMemInQueues 512 MB\nBandwidthRate 2 MBytes\n") == 0);
    CHECK_EQ_INT(om_config_get_int(cfg, "MaxMemInQueues"), 512 << 20);
    CHECK_EQ_INT(om_config_get_int(cfg, "BandwidthRate"), 2 << 20);
    om_config_free(cfg);
    const char *e = parse_err("MaxMemInQueues 8 GiB\n");
    CHECK(e && strstr(e, "my.conf:1: MaxMemInQueues: \"8 GiB\" is not an amount of memory"));
}

static void test_ports(void)
{
    om_config_t *cfg = cfg_new();
    CHECK(parse(cfg, "SocksPort 127.0.0.1:9050 IsolateSOCKSAuth\n"
                     "SocksPort 9150 NoIsolateSOCKSAuth IsolateDestPort SessionGroup=7\n"
                     "SocksPort [::1]:9250 OnionTrafficOnly\n"
                     "SocksPort auto\n"
                     "SocksPort localhost:auto IPv6Traffic PreferIPv6 NoIsolateClientAddr\n") == 0);
    size_t n;
    const om_port_t *p = socks_ports(cfg, &n);
    CHECK_EQ_INT(n, 5);
    CHECK(!strcmp(p[0].addr, "127.0.0.1") && p[0].family == 4 && p[0].port == 9050);
    CHECK(p[0].flags & OM_PORT_ISOLATE_SOCKS_AUTH);
    CHECK(p[0].explicit_flags & OM_PORT_ISOLATE_SOCKS_AUTH);
    CHECK(!strcmp(p[1].addr, "127.0.0.1") && p[1].port == 9150);
    CHECK(!(p[1].flags & OM_PORT_ISOLATE_SOCKS_AUTH));
    CHECK(p[1].flags & OM_PORT_ISOLATE_DEST_PORT);
    CHECK_EQ_INT(p[1].session_group, 7);
    CHECK_EQ_INT(p[0].session_group, -1);
    CHECK(!strcmp(p[2].addr, "::1") && p[2].family == 6 && p[2].port == 9250);
    CHECK(p[2].flags & OM_PORT_ONION_TRAFFIC);
    CHECK(!(p[2].flags & (OM_PORT_IPV4_TRAFFIC | OM_PORT_DNS_REQUEST | OM_PORT_IPV6_TRAFFIC)));
    CHECK(p[3].is_auto && p[3].port == 0 && !strcmp(p[3].addr, "127.0.0.1"));
    CHECK(p[4].is_auto && (p[4].flags & OM_PORT_IPV6_TRAFFIC) &&
          (p[4].flags & OM_PORT_PREFER_IPV6) && !(p[4].flags & OM_PORT_ISOLATE_CLIENT_ADDR));
    om_config_free(cfg);

    /* ORPort: default address 0.0.0.0, server flags (parsed; the relay refuses them). */
    cfg = cfg_new();
    CHECK(parse(cfg, "ORPort 9001\nORPort [2001:db8::5]:9001 NoListen\nORPort 443 IPv6Only "
                     "NoAdvertise\nDirPort 0\n") == 0);
    p = om_config_ports(cfg, "ORPort", &n);
    CHECK_EQ_INT(n, 3);
    CHECK(!strcmp(p[0].addr, "0.0.0.0") && p[0].port == 9001 && p[0].flags == 0);
    CHECK(!strcmp(p[1].addr, "2001:db8::5") && (p[1].flags & OM_PORT_NO_LISTEN));
    CHECK(!strcmp(p[2].addr, "::") && p[2].family == 6 && (p[2].flags & OM_PORT_NO_ADVERTISE));
    CHECK(om_relay_configured(cfg));
    om_config_ports(cfg, "DirPort", &n);
    CHECK_EQ_INT(n, 0);
    om_config_free(cfg);
    const char *e = parse_err("DirPort 127.0.0.1:9030\n");
    CHECK(e && strstr(e, "my.conf:1: DirPort: ") && strstr(e, "there is no DirPort (0 only)"));

    /* "0" disables. */
    cfg = cfg_new();
    CHECK(parse(cfg, "SocksPort 0\nORPort 0\n") == 0);
    socks_ports(cfg, &n);
    CHECK_EQ_INT(n, 0);
    CHECK(!om_relay_configured(cfg));
    om_config_free(cfg);

    e = parse_err("# c\n\nSocksPort 99999\n");
    CHECK(e && !strcmp(e, "my.conf:3: SocksPort: \"99999\" is not a port"));
    static const char *const bad[] = {
        "SocksPort 1.2.3.4\n",
        "SocksPort 127.0.0.1:0\n",
        "SocksPort 127.0.0.1:65536\n",
        "SocksPort ::1:9050\n",
        "SocksPort [::1]\n",
        "SocksPort [::1:9050\n",
        "SocksPort 256.0.0.1:9050\n",
        "SocksPort example.com:9050\n",
        "SocksPort unix:/tmp/sock\n",
        "SocksPort -5\n",
        "SocksPort 9050 SessionGroup=x\n",
        "ORPort 9001 NoAdvertise NoListen\n",
        "ORPort 9001 IPv4Only IPv6Only\n",
        "DirPort [::1]:9030\n",
        "SocksPort 127.0.0.1:\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(parse_err(bad[i]), "accepted %s", bad[i]);
    /* Unknown flags are warned about and ignored, as tor does. */
    CHECK(parses("SocksPort 9050 NoSuchFlag\n"));

    /* The IsolateSOCKSAuth option sets the default flag (applied by the OP's validate). */
    cfg = cfg_new();
    CHECK(parse(cfg, "SocksPort 9050\nIsolateSOCKSAuth 0\n") == 0);
    CHECK(om_config_validate(cfg, errbuf, sizeof errbuf) == 0);
    p = socks_ports(cfg, &n);
    CHECK(n == 1 && !(p[0].flags & OM_PORT_ISOLATE_SOCKS_AUTH));
    om_config_free(cfg);
    cfg = cfg_new();
    CHECK(parse(cfg, "SocksPort 9051 IsolateSOCKSAuth\nIsolateSOCKSAuth 0\n") == 0);
    CHECK(om_config_validate(cfg, errbuf, sizeof errbuf) == 0);
    p = socks_ports(cfg, &n);
    CHECK(n == 1 && (p[0].flags & OM_PORT_ISOLATE_SOCKS_AUTH));
    om_config_free(cfg);
}

static void test_csv_and_linelists(void)
{
    om_config_t *cfg = cfg_new();
    static const char *const text =
        "TestingDirAuthVoteExit $4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0, {us},nick1\n"
        "TestingDirAuthVoteExit 4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0~foo,{??}, "
        "10.0.0.0/8\n"
        "ExitNodes $4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0, exit1,nick1\n"
        "ExcludeNodes ,,badrelay,\n"
        "MyFamily $4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0,friend\n"
        "MyFamily $E2A2AF570166665D738736D0DD58169CC61D8A8B\n"
        "PublishServerDescriptor v3\n"
        "PublishServerDescriptor 0\n";
    CHECK(parse(cfg, text) == 0);
    size_t n;
    const char *const *l = om_config_get_lines(cfg, "TestingDirAuthVoteExit", &n);
    CHECK_EQ_INT(n, 6); /* lines spliced together, as tor 0.4.9 */
    CHECK(!strcmp(l[0], "$4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0"));
    CHECK(!strcmp(l[1], "{us}"));
    CHECK(!strcmp(l[2], "nick1"));
    CHECK(!strcmp(l[5], "10.0.0.0/8"));
    l = om_config_get_lines(cfg, "ExitNodes", &n);
    CHECK(n == 3 && !strcmp(l[1], "exit1"));
    l = om_config_get_lines(cfg, "ExcludeNodes", &n);
    CHECK(n == 1 && !strcmp(l[0], "badrelay"));
    om_config_get_lines(cfg, "MyFamily", &n);
    CHECK_EQ_INT(n, 3);
    l = om_config_get_lines(cfg, "PublishServerDescriptor", &n);
    CHECK(n == 1 && !strcmp(l[0], "0")); /* last line wins */
    om_config_get_lines(cfg, "MiddleNodes", &n);
    CHECK_EQ_INT(n, 0);
    om_config_free(cfg);

    static const char *const bad[] = {
        "ExitNodes $AAAA\n",
        "ExitNodes {usa}\n",
        "ExitNodes bad-name!\n",
        "ExitNodes 1.2.3.*\n",
        "ExitNodes ,\n",
        "EntryNodes abcdefghijklmnopqrstu\n",
        "MyFamily bad!\n",
        "MyFamily {us}\n",
        "PublishServerDescriptor v2\n",
        "ExitNodes 10.0.0.0/33\n",
        "TestingDirAuthVoteExit {usa}\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(parse_err(bad[i]), "accepted %s", bad[i]);

    /* ExitPolicy */
    CHECK(parses("ExitPolicy accept *:80,accept *:443,reject *:*\n"
                 "ExitPolicy reject private:*, accept 18.7.22.69:*,reject 18.0.0.0/8:*\n"
                 "ExitPolicy reject6 [FC00::]/7:*,accept6 [C000::]/3:1-1024\n"
                 "ExitPolicy accept 10.0.0.0/255.0.0.0:6660-6669,accept *4:25,reject *6\n"
                 "ExitPolicy accept *:80,\n"));
    static const char *const badpol[] = {
        "ExitPolicy allow *:80\n",
        "ExitPolicy accept 1.2.3.4/33:80\n",
        "ExitPolicy accept [::1]/64:80-70\n",
        "ExitPolicy accept *:99999\n",
        "ExitPolicy accept\n",
        "ExitPolicy accept 1.2.3:80\n",
        "ExitPolicy accept [::1:80\n",
        "ExitPolicy accept *:80x\n",
    };
    for (size_t i = 0; i < sizeof badpol / sizeof badpol[0]; i++)
        CHECK_MSG(parse_err(badpol[i]), "accepted %s", badpol[i]);

    /* Address: one IPv4 address or host name (the relay publishes IPv4 only). */
    CHECK(parses("Address 203.0.113.5\n"));
    CHECK(parses("Address relay.example.com\n"));
    CHECK(parse_err("Address bad_host!\n"));

    /* An empty value resets a repeatable option to its default. */
    cfg = cfg_new();
    CHECK(parse(cfg, "ExitPolicy accept *:80\nSocksPort 9100\nExitPolicy\nSocksPort\n") == 0);
    om_config_get_lines(cfg, "ExitPolicy", &n);
    CHECK_EQ_INT(n, 0);
    const om_port_t *p = socks_ports(cfg, &n);
    CHECK(n == 1 && p[0].port == 9050);
    CHECK(!om_config_is_set(cfg, "SocksPort"));
    om_config_free(cfg);
}

static void test_log(void)
{
    om_log_spec_t s;
    char err[256];
    CHECK(om_config_parse_log("notice stderr", &s, err, sizeof err) == 0);
    CHECK(s.min == OM_LOG_NOTICE && s.max == OM_LOG_ERR && s.dest == OM_LOG_DEST_STDERR);
    CHECK(om_config_parse_log("info file /var/log/x y.log", &s, err, sizeof err) == 0);
    CHECK(s.min == OM_LOG_INFO && s.dest == OM_LOG_DEST_FILE &&
          !strcmp(s.path, "/var/log/x y.log"));
    CHECK(om_config_parse_log("notice-err file /x", &s, err, sizeof err) == 0);
    CHECK(s.min == OM_LOG_NOTICE && s.max == OM_LOG_ERR && !strcmp(s.path, "/x"));
    CHECK(om_config_parse_log("debug-warn STDOUT", &s, err, sizeof err) == 0);
    CHECK(s.min == OM_LOG_DEBUG && s.max == OM_LOG_WARN && s.dest == OM_LOG_DEST_STDOUT);
    CHECK(om_config_parse_log("[handshake]debug [~net,~mm]info notice stdout", &s, err,
                              sizeof err) == 0);
    CHECK(s.min == OM_LOG_NOTICE && s.has_domains);
    CHECK(om_config_parse_log("warn syslog", &s, err, sizeof err) == 0);
    CHECK(s.dest == OM_LOG_DEST_SYSLOG);
    static const char *const bad[] = {
        "foo stderr", "notice file",       "notice nowhere",      "err-notice stderr",  "notice",
        "stderr",     "[net debug stderr", "notice stderr extra", "notice-bogus stderr"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(om_config_parse_log(bad[i], &s, err, sizeof err) < 0, "accepted \"%s\"", bad[i]);
    const char *e = parse_err("Log notice nowhere\n");
    CHECK(e && !strncmp(e, "my.conf:1: Log: \"nowhere\" is not a log destination", 50));

    /* Applying: the most verbose line wins. */
    const char *logf = tmp_path("om.log");
    char text[1200];
    snprintf(text, sizeof text, "Log notice stderr\nLog info file %s\n", logf);
    om_config_t *cfg = cfg_new();
    CHECK(parse(cfg, text) == 0);
    om_log_level_t saved = om_log_get_level();
    CHECK(om_config_apply_logging(cfg) == 0);
    CHECK_EQ_INT(om_log_get_level(), OM_LOG_INFO);
    om_info("config-test-marker %d", 42);
    om_debug("config-test-hidden");
    om_log_set_file(NULL);
    om_log_set_level(saved);
    om_config_free(cfg);
    FILE *f = fopen(logf, "r");
    CHECK(f);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    CHECK(strstr(buf, "[info] config-test-marker 42"));
    CHECK(!strstr(buf, "config-test-hidden"));

    cfg = cfg_new();
    CHECK(parse(cfg, "Log notice file /nonexistent-dir/x/om.log\n") == 0);
    CHECK(om_config_apply_logging(cfg) < 0);
    om_log_set_file(NULL);
    om_log_set_level(saved);
    om_config_free(cfg);
}

/* ---- syntax ---- */

static void test_syntax(void)
{
    om_config_t *cfg = cfg_new();
    CHECK(parse(cfg, "   # leading comment\n"
                     "\tsocksport    9100   # trailing comment\n"
                     "NICKNAME Alice\r\n"
                     "ExitPolicy accept *:80,\\\n"
                     "# a comment line inside the entry\n"
                     "  accept *:443,\\\n"
                     "  reject *:*\n"
                     "ContactInfo \"a \\\"b\\\" #c\\x41\\101\"   # comment\n"
                     "Address relay.example.com") == 0); /* no final newline */
    size_t n;
    const om_port_t *p = socks_ports(cfg, &n);
    CHECK(n == 1 && p[0].port == 9100);
    CHECK(!strcmp(om_config_get_string(cfg, "Nickname"), "Alice"));
    const char *const *l = om_config_get_lines(cfg, "ExitPolicy", &n);
    CHECK_EQ_INT(n, 1);
    CHECK_MSG(!strcmp(l[0], "accept *:80,  accept *:443,  reject *:*"), "got \"%s\"", l[0]);
    CHECK(!strcmp(om_config_get_string(cfg, "ContactInfo"), "a \"b\" #cAA"));
    l = om_config_get_lines(cfg, "Address", &n);
    CHECK(n == 1 && !strcmp(l[0], "relay.example.com"));
    om_config_free(cfg);

    /* The line number of an error is the entry's first line, counting continued lines. */
    const char *e = parse_err("ExitPolicy accept *:80,\\\n  accept *:443\n"
                              "ContactInfo a\\\n b\nSocksPort 99999\n");
    CHECK_MSG(e && !strcmp(e, "my.conf:5: SocksPort: \"99999\" is not a port"), "got %s", e);
    e = parse_err("ExitPolicy accept *:80,\\\n  allow *:443\n");
    CHECK(e && !strncmp(e, "my.conf:1: ExitPolicy: ", 23));
    e = parse_err("Nickname ok\n\n\n\nContactInfo \"unterminated\n");
    CHECK(e && !strcmp(e, "my.conf:5: unterminated quoted string"));
    CHECK(parse_err("ContactInfo \"bad \\q escape\"\n"));
    CHECK(parse_err("ContactInfo \"nul \\x00\"\n"));
    CHECK(parse_err("ContactInfo \"x\" trailing\n"));

    e = parse_err("Nickname x\n\n\n\n\n\n\n\n\n\n\nSocksPrt 9050\n");
    CHECK(e && !strcmp(e, "my.conf:12: unknown option \"SocksPrt\" (did you mean \"SocksPort\"?)"));
    e = parse_err("ExitNode {us}\n");
    CHECK(e && !strcmp(e, "my.conf:1: unknown option \"ExitNode\" (did you mean \"ExitNodes\"?)"));
    e = parse_err("Frobnicate 1\n");
    CHECK(e && !strcmp(e, "my.conf:1: unknown option \"Frobnicate\""));
    e = parse_err("%frob x\n");
    CHECK(e && !strcmp(e, "my.conf:1: unknown directive \"%frob\""));
    /* A bad line leaves earlier options set and the failing one unchanged. */
    cfg = cfg_new();
    CHECK(parse(cfg, "ExitNodes relayus\nExitNodes relayde,$AAAA\n") < 0);
    om_config_get_lines(cfg, "ExitNodes", &n);
    CHECK_EQ_INT(n, 1);
    om_config_free(cfg);
}

static void test_include(void)
{
    char inc[512], sub[512], main_conf[512], loop[512];
    snprintf(inc, sizeof inc, "%s", tmp_path("inc.conf"));
    snprintf(sub, sizeof sub, "%s", tmp_path("sub"));
    snprintf(main_conf, sizeof main_conf, "%s", tmp_path("main.conf"));
    snprintf(loop, sizeof loop, "%s", tmp_path("loop.conf"));
    mkdir(sub, 0700);
    char subinc[600];
    snprintf(subinc, sizeof subinc, "%s/deeper.conf", sub);
    write_file(subinc, "Nickname Deep\n");
    write_file(inc, "ExitNodes relayde\n%include sub/deeper.conf\nRunAsDaemon 1\n");
    write_file(main_conf, "ExitNodes relayus\n%include inc.conf\nConnLimit 77\n");
    om_config_t *cfg = cfg_new();
    CHECK_MSG(om_config_load_file(cfg, main_conf, errbuf, sizeof errbuf) == 0, "%.400s", errbuf);
    size_t n;
    const char *const *l = om_config_get_lines(cfg, "ExitNodes", &n);
    CHECK(n == 2 && !strcmp(l[0], "relayus") && !strcmp(l[1], "relayde"));
    CHECK(!strcmp(om_config_get_string(cfg, "Nickname"), "Deep"));
    CHECK_EQ_INT(om_config_get_bool(cfg, "RunAsDaemon"), 1);
    CHECK_EQ_INT(om_config_get_int(cfg, "ConnLimit"), 77);
    om_config_free(cfg);

    /* Errors in an included file name that file and its line. */
    write_file(inc, "\nNickname bad!name\n");
    cfg = cfg_new();
    CHECK(om_config_load_file(cfg, main_conf, errbuf, sizeof errbuf) < 0);
    char want[700];
    snprintf(want, sizeof want, "%s:2: Nickname: ", inc);
    CHECK_MSG(!strncmp(errbuf, want, strlen(want)), "got %.400s", errbuf);
    om_config_free(cfg);

    /* A file including itself stops at the depth limit. */
    write_file(loop, "Nickname Loop\n%include loop.conf\n");
    cfg = cfg_new();
    CHECK(om_config_load_file(cfg, loop, errbuf, sizeof errbuf) < 0);
    snprintf(want, sizeof want, "%s:2: %%include nested more than %d deep", loop,
             OM_CONFIG_MAX_INCLUDE_DEPTH);
    CHECK_MSG(!strncmp(errbuf, want, strlen(want)), "got %.400s", errbuf);
    om_config_free(cfg);

    /* Exactly the limit is fine: a chain of OM_CONFIG_MAX_INCLUDE_DEPTH includes. */
    char name[64], next[64], text[600];
    for (int i = 0; i <= OM_CONFIG_MAX_INCLUDE_DEPTH; i++) {
        snprintf(name, sizeof name, "chain%d.conf", i);
        snprintf(next, sizeof next, "chain%d.conf", i + 1);
        if (i < OM_CONFIG_MAX_INCLUDE_DEPTH)
            snprintf(text, sizeof text, "%%include %s\n", next);
        else
            snprintf(text, sizeof text, "ConnLimit 5\n");
        write_file(tmp_path(name), text);
    }
    cfg = cfg_new();
    CHECK_MSG(om_config_load_file(cfg, tmp_path("chain0.conf"), errbuf, sizeof errbuf) == 0,
              "%.400s", errbuf);
    CHECK_EQ_INT(om_config_get_int(cfg, "ConnLimit"), 5);
    om_config_free(cfg);
    /* One more level fails. */
    snprintf(text, sizeof text, "%%include chain0.conf\n");
    write_file(tmp_path("chainm1.conf"), text);
    cfg = cfg_new();
    CHECK(om_config_load_file(cfg, tmp_path("chainm1.conf"), errbuf, sizeof errbuf) < 0);
    CHECK(strstr(errbuf, "nested more than"));
    om_config_free(cfg);

    /* Directories and missing files are errors. */
    snprintf(text, sizeof text, "%%include %s\n", sub);
    CHECK(parse_err(text) && strstr(errbuf, "is a directory"));
    CHECK(parse_err("\n%include /nonexistent/om.conf\n") &&
          !strncmp(errbuf, "my.conf:2: %include: cannot read \"/nonexistent/om.conf\"", 55));
    CHECK(parse_err("%include\n"));
}

/* ---- validation ---- */

static int validate_text(const char *text)
{
    om_config_t *cfg = cfg_new();
    errbuf[0] = '\0';
    int rc = parse(cfg, text);
    if (rc == 0) rc = om_config_validate(cfg, errbuf, sizeof errbuf);
    om_config_free(cfg);
    return rc;
}

static void test_validate(void)
{
    CHECK(validate_text("TestingTorNetwork 1\n") < 0);
    CHECK(strstr(errbuf, "TestingTorNetwork"));
    char text[2048];
    snprintf(text, sizeof text, "TestingTorNetwork 1\n%s", testnet_auth);
    om_config_t *cfg = cfg_new();
    CHECK(parse(cfg, text) == 0);
    CHECK_EQ_INT(om_config_get_bool(cfg, "AssumeReachable"), 0);
    CHECK(om_config_validate(cfg, errbuf, sizeof errbuf) == 0);
    /* TestingTorNetwork's changed defaults; explicit settings are kept. */
    CHECK_EQ_INT(om_config_get_bool(cfg, "AssumeReachable"), 1);
    CHECK_EQ_INT(om_config_get_bool(cfg, "ExitPolicyRejectPrivate"), 0);
    CHECK(!om_config_is_set(cfg, "AssumeReachable"));
    om_config_free(cfg);
    snprintf(text, sizeof text, "TestingTorNetwork 1\nExitPolicyRejectPrivate 1\n%s", testnet_auth);
    cfg = cfg_new();
    CHECK(parse(cfg, text) == 0 && om_config_validate(cfg, errbuf, sizeof errbuf) == 0);
    CHECK_EQ_INT(om_config_get_bool(cfg, "ExitPolicyRejectPrivate"), 1);
    om_config_free(cfg);

    CHECK(validate_text("BandwidthRate 2 MB\nBandwidthBurst 1 MB\n") < 0);
    CHECK(strstr(errbuf, "BandwidthBurst"));
    CHECK(validate_text("BandwidthRate 1.5 GB\n") < 0); /* burst defaults to 1 GB */
    CHECK(validate_text("BandwidthRate 3 GB\nBandwidthBurst 3 GB\n") < 0);
    CHECK(validate_text("ORPort 9001\nBandwidthRate 50 KB\nBandwidthBurst 50 KB\n") < 0);
    CHECK(validate_text("ORPort 9001\nBandwidthRate 100 KB\n") == 0);
    CHECK(validate_text("RelayBandwidthRate 2 MB\nRelayBandwidthBurst 1 MB\n") < 0);
    cfg = cfg_new();
    CHECK(parse(cfg, "RelayBandwidthRate 2 MB\n") == 0);
    CHECK(om_config_validate(cfg, errbuf, sizeof errbuf) == 0);
    CHECK_EQ_INT(om_config_get_int(cfg, "RelayBandwidthBurst"), 2 << 20);
    om_config_free(cfg);

    CHECK(validate_text("SocksPort 9050\nSocksPort 0\n") < 0);
    CHECK(strstr(errbuf, "SocksPort"));
    /* The client connects over IPv4 only: the other settings are refused. */
    CHECK(validate_text("ClientUseIPv4 0\nClientUseIPv6 0\n") < 0);
    CHECK(validate_text("ClientUseIPv4 0\n") < 0);
    CHECK(strstr(errbuf, "ClientUseIPv4: onionmesh's client reaches relays over IPv4 only"));
    CHECK(validate_text("ClientUseIPv6 1\n") < 0);
    CHECK(validate_text("ClientUseIPv4 1\nClientUseIPv6 0\n") == 0);
    /* DirAuthority lines without any v3 authority are useless for a client. */
    CHECK(validate_text("DirAuthority b1 bridge 10.0.0.1:80 "
                        "4D9F0E6FB32A1B1A1C0CF5A5F1D63FA2F9A6A4F0\n") < 0);
    CHECK(validate_text("SocksPort 0.0.0.0:9050\n") == 0); /* a warning, as tor */
    cfg = cfg_new();
    CHECK(parse(cfg, "PathsNeededToBuildCircuits 0.1\n") == 0);
    CHECK(om_config_validate(cfg, errbuf, sizeof errbuf) == 0);
    CHECK(om_config_get_double(cfg, "PathsNeededToBuildCircuits") == 0.25);
    om_config_free(cfg);
}

/* A tor test-network relay torrc (tools/testnet's options, authority options included) loads
 * and validates here too. */
static void test_testnet_torrc(void)
{
    char text[4096];
    snprintf(text, sizeof text,
             "DataDirectory %s\n"
             "Log notice file %s\n"
             "SocksPort 0\n"
             "TestingTorNetwork 1\n"
             "PathsNeededToBuildCircuits 0.67\n"
             "%s"
             "RunAsDaemon 0\n"
             "ProtocolWarnings 1\n"
             "SafeLogging 0\n"
             "Nickname relay0\n"
             "ORPort 127.0.0.1:5001\n"
             "DirPort 0\n"
             "Address 127.0.0.1\n"
             "AssumeReachable 1\n"
             "PublishServerDescriptor 0\n"
             "ExitRelay 0\n"
             "ContactInfo onionmesh-interop-test\n"
             "Log info file %s\n"
             "TestingDirAuthVoteExit *\n"
             "TestingDirAuthVoteGuard *\n"
             "TestingDirAuthVoteHSDir *\n"
             "TestingMinExitFlagThreshold 0\n"
             "V3AuthNIntervalsValid 2\n"
             "UseMicrodescriptors 1\n"
             "DownloadExtraInfo 0\n"
             "ControlPort 0\n"
             "DirCache 1\n",
             tmp_path("dd"), tmp_path("notice.log"), testnet_auth, tmp_path("info.log"));
    om_config_t *cfg = cfg_new();
    CHECK_MSG(parse(cfg, text) == 0, "%.400s", errbuf);
    CHECK_MSG(om_config_validate(cfg, errbuf, sizeof errbuf) == 0, "%.400s", errbuf);
    CHECK(om_relay_configured(cfg));
    CHECK(!strcmp(om_config_get_string(cfg, "DataDirectory"), tmp_path("dd")));
    CHECK_EQ_INT(om_config_get_bool(cfg, "ExitRelay"), 0);
    size_t n;
    socks_ports(cfg, &n);
    CHECK_EQ_INT(n, 0);
    om_config_dir_authorities(cfg, &n);
    CHECK_EQ_INT(n, 1);
    om_config_free(cfg);
}

/* ---- output ---- */

static char *dump_to_string(const om_config_t *cfg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    om_config_dump(cfg, f);
    fclose(f);
    return buf;
}

static void test_dump_roundtrip(void)
{
    om_config_t *cfg = cfg_new();
    CHECK(parse(cfg, "SocksPort 127.0.0.1:9150 NoIsolateSOCKSAuth\nSocksPort 9151\n"
                     "Nickname Bob\nContactInfo \"x # y \\\"z\\\"\"\nExitNodes relayus,relayde\n"
                     "ExitPolicy accept *:80\nExitPolicy reject *:*\n"
                     "MaxCircuitDirtiness 5 minutes\nBandwidthRate 2 MB\nBandwidthBurst 3 MB\n"
                     "PathsNeededToBuildCircuits 0.5\nLog info stderr\nExitRelay 1\n"
                     "DataDirectory /tmp/om-data\n/ORPort\n") == 0);
    char *d1 = dump_to_string(cfg);
    CHECK(strstr(d1, "\nNickname Bob\n"));
    CHECK(strstr(d1, "\nContactInfo \"x # y \\\"z\\\"\"\n"));
    CHECK(strstr(d1, "\n# ConnLimit 1000\n"));
    CHECK(strstr(d1, "\n# DirAuthority moria1 "));
    om_config_t *cfg2 = cfg_new();
    int rc = parse(cfg2, d1);
    char *d2 = dump_to_string(cfg2);
    bool same = !strcmp(d1, d2);
    CHECK_EQ_INT(om_config_get_int(cfg2, "MaxCircuitDirtiness"), 300);
    CHECK(!strcmp(om_config_get_string(cfg2, "ContactInfo"), "x # y \"z\""));
    free(d1);
    free(d2);
    om_config_free(cfg);
    om_config_free(cfg2);
    CHECK_MSG(rc == 0, "%.400s", errbuf);
    CHECK(same);
}

static const char *const all_options[] = {"DataDirectory",
                                          "SocksPort",
                                          "DirAuthority",
                                          "TestingTorNetwork",
                                          "Log",
                                          "RunAsDaemon",
                                          "EntryNodes",
                                          "ExitNodes",
                                          "MiddleNodes",
                                          "ExcludeNodes",
                                          "StrictNodes",
                                          "IsolateSOCKSAuth",
                                          "NumEntryGuards",
                                          "CircuitBuildTimeout",
                                          "LearnCircuitBuildTimeout",
                                          "MaxCircuitDirtiness",
                                          "NewCircuitPeriod",
                                          "PathsNeededToBuildCircuits",
                                          "SafeLogging",
                                          "ClientUseIPv6",
                                          "ClientUseIPv4",
                                          "MaxMemInQueues",
                                          "ConnLimit",
                                          "ControlPort",
                                          "Nickname",
                                          "ORPort",
                                          "Address",
                                          "ExitPolicy",
                                          "ExitPolicyRejectPrivate",
                                          "ExitRelay",
                                          "ContactInfo",
                                          "PublishServerDescriptor",
                                          "AssumeReachable",
                                          "RelayBandwidthRate",
                                          "RelayBandwidthBurst",
                                          "BandwidthRate",
                                          "BandwidthBurst",
                                          "MyFamily",
                                          "DirPort",
                                          "DirCache",
                                          "ProtocolWarnings",
                                          "TestingDirAuthVoteExit",
                                          "TestingDirAuthVoteGuard",
                                          "TestingDirAuthVoteHSDir",
                                          "TestingMinExitFlagThreshold",
                                          "V3AuthNIntervalsValid",
                                          "UseMicrodescriptors",
                                          "DownloadExtraInfo",
                                          "GeoIPFile",
                                          "GeoIPv6File",
                                          "CongestionControl",
                                          "IPv6Exit",
                                          "ReducedExitPolicy",
                                          "ServerDNSResolvConfFile",
                                          "WebSocketPort",
                                          "WebSocketPath",
                                          "WebSocketTLSCert",
                                          "WebSocketTLSKey",
                                          "WebSocketTrustForwardedFor",
                                          "WebSocketOrigins",
                                          "WebSocketPingInterval",
                                          "WebSocketIdleTimeout",
                                          "--verify-config",
                                          "--list-fingerprint"};

static void test_help(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    om_config_t *cfg = cfg_new();
    om_config_print_help(cfg, f);
    fclose(f);

    bool ok = true;
    const char *missing = "";
    for (size_t i = 0; i < sizeof all_options / sizeof all_options[0]; i++) {
        char pat[64];
        snprintf(pat, sizeof pat, "%s ", all_options[i]);
        if (!strstr(buf, pat)) {
            ok = false;
            missing = all_options[i];
        }
        if (all_options[i][0] != '-' && om_config_option_type(cfg, all_options[i]) < 0) {
            ok = false;
            missing = all_options[i];
        }
    }
    /* The help text is wrapped: compare with runs of whitespace as one space. */
    size_t k = 0;
    for (size_t j = 0; buf[j]; j++)
        if (!(buf[j] == ' ' || buf[j] == '\n') || (k && buf[k - 1] != ' '))
            buf[k++] = buf[j] == '\n' ? ' ' : buf[j];
    buf[k] = '\0';
    bool precedence = strstr(buf, "ONIONMESH_SOCKSPORT=9150") && strstr(buf, "the command line") &&
                      strstr(buf, "the environment") &&
                      strstr(buf, "Client (onion proxy) options") &&
                      strstr(buf, "Relay (onion router) options") &&
                      strstr(buf, "V3AuthNIntervalsValid NUM Authorities: voting intervals a "
                                  "consensus is valid for. (Directory authorities only: accepted "
                                  "and ignored.)") &&
                      strstr(buf, "GeoIPFile FILENAME onionmesh has no GeoIP database") &&
                      strstr(buf, "(Refused: any line with this option is an error.)");
    free(buf);
    om_config_free(cfg);
    CHECK_MSG(ok, "help/table lacks %s", missing);
    CHECK(precedence);
}

/* doc/onionmesh.conf.sample loads and validates, documents every option, and stays valid with
 * every "#Option value" example uncommented. */
static void test_sample_config(void)
{
    const char *sample = OM_TEST_DATA_DIR "/../../doc/onionmesh.conf.sample";
    om_config_t *cfg = cfg_new();
    CHECK_MSG(om_config_load_file(cfg, sample, errbuf, sizeof errbuf) == 0, "%.400s", errbuf);
    CHECK_MSG(om_config_validate(cfg, errbuf, sizeof errbuf) == 0, "%.400s", errbuf);
    CHECK(!om_relay_configured(cfg));
    om_config_free(cfg);

    FILE *f = fopen(sample, "r");
    CHECK(f);
    char *text = NULL;
    size_t cap = 0;
    FILE *m = open_memstream(&text, &cap);
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        bool example = line[0] == '#' &&
                       ((line[1] >= 'A' && line[1] <= 'Z') || (line[1] >= 'a' && line[1] <= 'z'));
        fputs(example ? line + 1 : line, m);
    }
    fclose(f);
    fclose(m);
    const char *missing = NULL;
    for (size_t i = 0; i < sizeof all_options / sizeof all_options[0]; i++) {
        /* Refused options are documented in "##" comments: they can't be uncommented. */
        if (all_options[i][0] == '-' || !strncmp(all_options[i], "GeoIP", 5)) continue;
        /* Files that must exist: documented in "##" lines. */
        if (!strncmp(all_options[i], "WebSocketTLS", 12)) continue;
        char pat[80];
        snprintf(pat, sizeof pat, "\n%s ", all_options[i]);
        if (!strstr(text, pat)) missing = all_options[i];
    }
    cfg = cfg_new();
    int rc = om_config_parse_string(cfg, text, "uncommented sample", errbuf, sizeof errbuf);
    if (rc == 0) rc = om_config_validate(cfg, errbuf, sizeof errbuf);
    bool relay = om_relay_configured(cfg);
    size_t n;
    socks_ports(cfg, &n);
    om_config_free(cfg);
    free(text);
    CHECK_MSG(!missing, "sample does not document %s", missing);
    CHECK_MSG(rc == 0, "%.400s", errbuf);
    CHECK(relay);
    CHECK_EQ_INT(n, 1);
}

static void cleanup(void)
{
    if (tmpdir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

static const om_test_t tests[] = {
    OM_TEST(test_defaults),
    OM_TEST(test_default_authorities),
    OM_TEST(test_dirauthority_testnet),
    OM_TEST(test_dirauthority_forms),
    OM_TEST(test_file_and_argv_precedence),
    OM_TEST(test_argv_commands),
    OM_TEST(test_bool_int_double_string),
    OM_TEST(test_interval),
    OM_TEST(test_memunit),
    OM_TEST(test_ports),
    OM_TEST(test_csv_and_linelists),
    OM_TEST(test_log),
    OM_TEST(test_syntax),
    OM_TEST(test_include),
    OM_TEST(test_validate),
    OM_TEST(test_testnet_torrc),
    OM_TEST(test_dump_roundtrip),
    OM_TEST(test_help),
    OM_TEST(test_sample_config),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    atexit(cleanup);
    return om_test_main("config", tests, argc, argv);
}
