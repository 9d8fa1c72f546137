/* test_cell.c — unit tests for cell.c: fixed and variable cells at both circuit-ID widths, exact
 * wire bytes, framing of a byte stream, and rejection of malformed input. */
#include "test.h"
#include "core/cell.h"

static void test_command_names(void)
{
    static const uint8_t known[] = {0, 1,  2,  3,  4,   5,   6,   7,   8,
                                    9, 10, 11, 12, 128, 129, 130, 131, 132};
    for (size_t i = 0; i < sizeof known; i++)
        CHECK_MSG(strcmp(om_cell_command_name(known[i]), "UNKNOWN") != 0, "command %u unnamed",
                  known[i]);
    CHECK(!strcmp(om_cell_command_name(OM_CELL_CREATE2), "CREATE2"));
    CHECK(!strcmp(om_cell_command_name(OM_CELL_VERSIONS), "VERSIONS"));
    CHECK(!strcmp(om_cell_command_name(OM_CELL_PADDING_NEGOTIATE), "PADDING_NEGOTIATE"));
    CHECK(!strcmp(om_cell_command_name(OM_CELL_AUTH_CHALLENGE), "AUTH_CHALLENGE"));
    CHECK(!strcmp(om_cell_command_name(OM_CELL_AUTHORIZE), "AUTHORIZE"));
    CHECK(!strcmp(om_cell_command_name(13), "UNKNOWN"));
    CHECK(!strcmp(om_cell_command_name(127), "UNKNOWN"));
    CHECK(!strcmp(om_cell_command_name(133), "UNKNOWN"));
    CHECK(!strcmp(om_cell_command_name(255), "UNKNOWN"));
}

static void test_destroy_reason_names(void)
{
    for (unsigned r = 0; r <= 12; r++)
        CHECK_MSG(strcmp(om_destroy_reason_name((uint8_t)r), "UNKNOWN") != 0, "reason %u", r);
    CHECK(!strcmp(om_destroy_reason_name(OM_DESTROY_NONE), "NONE"));
    CHECK(!strcmp(om_destroy_reason_name(OM_DESTROY_CHANNEL_CLOSED), "CHANNEL_CLOSED"));
    CHECK(!strcmp(om_destroy_reason_name(OM_DESTROY_NOSUCHSERVICE), "NOSUCHSERVICE"));
    CHECK(!strcmp(om_destroy_reason_name(13), "UNKNOWN"));
    CHECK(!strcmp(om_destroy_reason_name(255), "UNKNOWN"));
}

static void test_is_var_and_widths(void)
{
    for (int proto = 0; proto <= 5; proto++) {
        if (proto == 1 || proto == 2) continue;
        CHECK(om_cell_command_is_var(OM_CELL_VERSIONS, proto));
        CHECK(om_cell_command_is_var(OM_CELL_VPADDING, proto));
        CHECK(om_cell_command_is_var(OM_CELL_CERTS, proto));
        CHECK(om_cell_command_is_var(255, proto));
        CHECK(!om_cell_command_is_var(OM_CELL_RELAY, proto));
        CHECK(!om_cell_command_is_var(OM_CELL_NETINFO, proto));
        CHECK(!om_cell_command_is_var(127, proto));
    }
    CHECK(om_cell_command_is_var(OM_CELL_VERSIONS, 2));
    CHECK(!om_cell_command_is_var(OM_CELL_CERTS, 2));
    CHECK(!om_cell_command_is_var(OM_CELL_VERSIONS, 1));
    CHECK_EQ_INT(om_circ_id_len(0), 2);
    CHECK_EQ_INT(om_circ_id_len(3), 2);
    CHECK_EQ_INT(om_circ_id_len(4), 4);
    CHECK_EQ_INT(om_circ_id_len(5), 4);
    CHECK_EQ_INT(om_cell_wire_len(0), 512);
    CHECK_EQ_INT(om_cell_wire_len(3), 512);
    CHECK_EQ_INT(om_cell_wire_len(4), 514);
    CHECK_EQ_INT(om_cell_wire_len(5), 514);
}

static void test_fixed_wire_bytes_narrow(void)
{
    om_cell_t c = {.circ_id = 0x1234, .command = OM_CELL_DESTROY};
    c.payload[0] = OM_DESTROY_REQUESTED;
    uint8_t out[OM_CELL_MAX_LEN];
    memset(out, 0xAA, sizeof out);
    CHECK_EQ_INT(om_cell_pack(&c, 3, out), 512);
    uint8_t want[4];
    om_test_unhex("12 34 04 03", want, sizeof want);
    CHECK_MEM(out, want, 4);
    for (size_t i = 4; i < 512; i++)
        CHECK_MSG(out[i] == 0, "byte %zu not zero", i);
    CHECK_EQ_INT(out[512], 0xAA); /* nothing written past the cell */
}

static void test_fixed_wire_bytes_wide(void)
{
    om_cell_t c = {.circ_id = 0x80000001u, .command = OM_CELL_CREATE_FAST};
    for (int i = 0; i < 20; i++)
        c.payload[i] = (uint8_t)(0x10 + i);
    uint8_t out[OM_CELL_MAX_LEN];
    CHECK_EQ_INT(om_cell_pack(&c, 4, out), 514);
    uint8_t want[25];
    om_test_unhex("80000001 05 101112131415161718191a1b1c1d1e1f20212223", want, sizeof want);
    CHECK_MEM(out, want, sizeof want);
    for (size_t i = 25; i < 514; i++)
        CHECK(out[i] == 0);
}

static void test_fixed_roundtrip_both_widths(void)
{
    static const int protos[] = {0, 3, 4, 5};
    for (size_t k = 0; k < 4; k++) {
        int proto = protos[k];
        om_cell_t c = {.circ_id = proto >= 4 ? 0xDEADBEEFu : 0xBEEF, .command = OM_CELL_RELAY};
        for (int i = 0; i < OM_CELL_PAYLOAD_LEN; i++)
            c.payload[i] = (uint8_t)(i * 7 + 3);
        uint8_t buf[OM_CELL_MAX_LEN];
        int n = om_cell_pack(&c, proto, buf);
        CHECK_EQ_INT(n, (int)om_cell_wire_len(proto));
        om_cell_t d;
        memset(&d, 0, sizeof d);
        CHECK_EQ_INT(om_cell_unpack(&d, proto, buf, (size_t)n), 0);
        CHECK_EQ_INT(d.circ_id, c.circ_id);
        CHECK_EQ_INT(d.command, c.command);
        CHECK_MEM(d.payload, c.payload, OM_CELL_PAYLOAD_LEN);
    }
}

static void test_fixed_rejects(void)
{
    om_cell_t c = {.circ_id = 0x10000, .command = OM_CELL_PADDING};
    uint8_t buf[OM_CELL_MAX_LEN] = {0};
    CHECK_EQ_INT(om_cell_pack(&c, 3, buf), -1); /* circ_id too large for 2 bytes */
    CHECK_EQ_INT(om_cell_pack(&c, 0, buf), -1);
    CHECK_EQ_INT(om_cell_pack(&c, 4, buf), 514);
    c.circ_id = 0xFFFF;
    CHECK_EQ_INT(om_cell_pack(&c, 3, buf), 512);
    c.command = OM_CELL_CERTS; /* variable-length command */
    CHECK_EQ_INT(om_cell_pack(&c, 3, buf), -1);
    c.command = OM_CELL_VERSIONS;
    CHECK_EQ_INT(om_cell_pack(&c, 4, buf), -1);
    c.command = OM_CELL_PADDING;
    CHECK_EQ_INT(om_cell_pack(&c, -1, buf), -1);

    om_cell_t d;
    memset(buf, 0, sizeof buf);
    CHECK_EQ_INT(om_cell_unpack(&d, 3, buf, 511), -1);
    CHECK_EQ_INT(om_cell_unpack(&d, 3, buf, 513), -1);
    CHECK_EQ_INT(om_cell_unpack(&d, 4, buf, 512), -1);
    CHECK_EQ_INT(om_cell_unpack(&d, 4, buf, 514), 0);
    buf[2] = OM_CELL_VERSIONS;
    CHECK_EQ_INT(om_cell_unpack(&d, 3, buf, 512), -1);
    buf[2] = 0;
    buf[4] = 200;
    CHECK_EQ_INT(om_cell_unpack(&d, 4, buf, 514), -1);
}

static void test_versions_exact_bytes(void)
{
    om_var_cell_t *v = om_var_cell_new(OM_CELL_VERSIONS, 0, 6);
    CHECK(v != NULL);
    uint8_t body[6] = {0, 3, 0, 4, 0, 5};
    memcpy(v->payload, body, 6);
    uint8_t want[11];
    om_test_unhex("00 00 07 00 06 00 03 00 04 00 05", want, sizeof want);
    uint8_t out[32];
    for (int proto = 0; proto <= 5; proto++) {
        if (proto == 1 || proto == 2) continue;
        /* The VERSIONS cell we send always has a 2-byte circuit ID. */
        CHECK_EQ_INT(om_var_cell_wire_len(v, proto), 11);
        int n = om_var_cell_pack(v, proto, out);
        if (n != 11) {
            om_var_cell_free(v);
            CHECK_EQ_INT(n, 11);
        }
        if (memcmp(out, want, 11) != 0) {
            om_var_cell_free(v);
            CHECK_MEM(out, want, 11);
        }
    }
    om_var_cell_free(v);
    om_var_cell_t *u = om_var_cell_unpack(want, sizeof want, 0);
    CHECK(u != NULL);
    int ok = u->command == OM_CELL_VERSIONS && u->circ_id == 0 && u->payload_len == 6 &&
             !memcmp(u->payload, body, 6);
    om_var_cell_free(u);
    CHECK(ok);
}

static void test_var_roundtrip_both_widths(void)
{
    static const int protos[] = {3, 4, 5};
    for (size_t k = 0; k < 3; k++) {
        int proto = protos[k];
        om_var_cell_t *c = om_var_cell_new(OM_CELL_CERTS, proto >= 4 ? 0x01020304u : 0x0102, 300);
        CHECK(c != NULL);
        for (int i = 0; i < 300; i++)
            c->payload[i] = (uint8_t)(i ^ 0x5A);
        uint8_t buf[400];
        size_t wl = om_var_cell_wire_len(c, proto);
        int n = om_var_cell_pack(c, proto, buf);
        om_var_cell_t *d = n > 0 ? om_var_cell_unpack(buf, (size_t)n, proto) : NULL;
        int ok = d && (size_t)n == wl && wl == (proto >= 4 ? 307u : 305u) &&
                 d->circ_id == c->circ_id && d->command == c->command && d->payload_len == 300 &&
                 !memcmp(d->payload, c->payload, 300);
        int hdr_ok = proto >= 4 ? !memcmp(buf, "\x01\x02\x03\x04\x81\x01\x2c", 7)
                                : !memcmp(buf, "\x01\x02\x81\x01\x2c", 5);
        om_var_cell_free(c);
        om_var_cell_free(d);
        CHECK_MSG(ok, "round trip at link protocol %d", proto);
        CHECK_MSG(hdr_ok, "header bytes at link protocol %d", proto);
    }
}

static void test_var_empty_payload(void)
{
    om_var_cell_t *c = om_var_cell_new(OM_CELL_VPADDING, 0, 0);
    CHECK(c != NULL);
    uint8_t buf[8];
    int n = om_var_cell_pack(c, 4, buf);
    om_var_cell_free(c);
    CHECK_EQ_INT(n, 7);
    uint8_t want[7] = {0, 0, 0, 0, 128, 0, 0};
    CHECK_MEM(buf, want, 7);
    om_var_cell_t *d = om_var_cell_unpack(buf, 7, 4);
    CHECK(d != NULL);
    int ok = d->command == OM_CELL_VPADDING && d->payload_len == 0;
    om_var_cell_free(d);
    CHECK(ok);
}

static void test_var_rejects(void)
{
    uint8_t buf[64];
    /* Packing: a fixed command, a circuit ID too large for 2 bytes. */
    om_var_cell_t *c = om_var_cell_new(OM_CELL_RELAY, 0, 4);
    CHECK(c != NULL);
    int r1 = om_var_cell_pack(c, 4, buf);
    c->command = OM_CELL_CERTS;
    c->circ_id = 0x10000;
    int r2 = om_var_cell_pack(c, 3, buf);
    int r3 = om_var_cell_pack(c, 4, buf);
    c->command = OM_CELL_VERSIONS; /* always narrow, so circ_id 0x10000 does not fit */
    int r4 = om_var_cell_pack(c, 4, buf);
    om_var_cell_free(c);
    CHECK_EQ_INT(r1, -1);
    CHECK_EQ_INT(r2, -1);
    CHECK_EQ_INT(r3, 11);
    CHECK_EQ_INT(r4, -1);

    /* Unpacking. */
    uint8_t certs[] = {0, 0, 0, 1, 129, 0, 3, 1, 2, 3};
    om_var_cell_t *d = om_var_cell_unpack(certs, sizeof certs, 4);
    CHECK(d != NULL);
    om_var_cell_free(d);
    CHECK(om_var_cell_unpack(certs, sizeof certs - 1, 4) == NULL); /* truncated */
    uint8_t longer[11];
    memcpy(longer, certs, sizeof certs);
    longer[10] = 0;
    CHECK(om_var_cell_unpack(longer, sizeof longer, 4) == NULL); /* trailing byte */
    CHECK(om_var_cell_unpack(certs, 6, 4) == NULL);              /* header cut */
    CHECK(om_var_cell_unpack(certs, 0, 4) == NULL);
    CHECK(om_var_cell_unpack(certs + 2, sizeof certs - 2, 0) == NULL); /* CERTS before VERSIONS */
    uint8_t certs3[] = {0, 1, 129, 0, 3, 1, 2, 3};
    d = om_var_cell_unpack(certs3, sizeof certs3, 3);
    CHECK(d != NULL);
    om_var_cell_free(d);
    uint8_t fixedcmd[] = {0, 1, 3, 0, 0};
    CHECK(om_var_cell_unpack(fixedcmd, sizeof fixedcmd, 3) == NULL);
    uint8_t versions_bad_len[] = {0, 0, 7, 0, 4, 0, 3};
    CHECK(om_var_cell_unpack(versions_bad_len, sizeof versions_bad_len, 0) == NULL);
}

static void test_frame_before_negotiation(void)
{
    uint8_t v[11];
    om_test_unhex("00 00 07 00 06 00 03 00 04 00 05", v, sizeof v);
    size_t cl = 99;
    bool var = false;
    /* Not enough bytes even for the command. */
    CHECK_EQ_INT(om_cell_frame(v, 0, 0, &cl, &var), 0);
    CHECK_EQ_INT(cl, 0);
    CHECK_EQ_INT(om_cell_frame(v, 2, 0, &cl, &var), 0);
    /* Command known, length not yet. */
    CHECK_EQ_INT(om_cell_frame(v, 4, 0, &cl, &var), 0);
    CHECK_EQ_INT(cl, 0);
    /* Length known, body incomplete. */
    CHECK_EQ_INT(om_cell_frame(v, 5, 0, &cl, &var), 0);
    CHECK_EQ_INT(cl, 11);
    CHECK_EQ_INT(om_cell_frame(v, 10, 0, &cl, &var), 0);
    CHECK_EQ_INT(cl, 11);
    CHECK_EQ_INT(om_cell_frame(v, 11, 0, &cl, &var), 1);
    CHECK_EQ_INT(cl, 11);
    CHECK(var);
    /* Before negotiation only VERSIONS, VPADDING and AUTHORIZE are allowed (tor-spec 4). */
    uint8_t netinfo[3] = {0, 0, OM_CELL_NETINFO};
    CHECK_EQ_INT(om_cell_frame(netinfo, 3, 0, &cl, &var), -1);
    uint8_t certs[5] = {0, 0, OM_CELL_CERTS, 0, 0};
    CHECK_EQ_INT(om_cell_frame(certs, 5, 0, &cl, &var), -1);
    uint8_t vpad[5] = {0, 0, OM_CELL_VPADDING, 0, 0};
    CHECK_EQ_INT(om_cell_frame(vpad, 5, 0, &cl, &var), 1);
    CHECK(var);
    uint8_t authz[6] = {0, 0, OM_CELL_AUTHORIZE, 0, 1, 9};
    CHECK_EQ_INT(om_cell_frame(authz, 6, 0, &cl, &var), 1);
    CHECK_EQ_INT(cl, 6);
    /* A VERSIONS cell framed with a 4-byte circuit ID before negotiation: the third byte is
     * taken as the command (0), which is not VERSIONS. */
    uint8_t wide_versions[] = {0, 0, 0, 0, 7, 0, 2, 0, 4};
    CHECK_EQ_INT(om_cell_frame(wide_versions, sizeof wide_versions, 0, &cl, &var), -1);
    CHECK_EQ_INT(om_cell_frame(v, 11, -1, &cl, &var), -1);
}

static void test_frame_after_negotiation(void)
{
    uint8_t buf[600] = {0};
    size_t cl = 0;
    bool var = true;
    /* Fixed cell at link 3: 512 bytes. */
    buf[2] = OM_CELL_NETINFO;
    CHECK_EQ_INT(om_cell_frame(buf, 3, 3, &cl, &var), 0);
    CHECK_EQ_INT(cl, 512);
    CHECK(!var);
    CHECK_EQ_INT(om_cell_frame(buf, 511, 3, &cl, &var), 0);
    CHECK_EQ_INT(om_cell_frame(buf, 512, 3, &cl, &var), 1);
    CHECK_EQ_INT(cl, 512);
    CHECK_EQ_INT(om_cell_frame(buf, 600, 3, &cl, &var), 1); /* more data behind it */
    CHECK_EQ_INT(cl, 512);
    /* Fixed cell at link 4: 514 bytes, command at offset 4. */
    memset(buf, 0, sizeof buf);
    buf[4] = OM_CELL_RELAY;
    CHECK_EQ_INT(om_cell_frame(buf, 4, 4, &cl, &var), 0);
    CHECK_EQ_INT(om_cell_frame(buf, 513, 4, &cl, &var), 0);
    CHECK_EQ_INT(cl, 514);
    CHECK_EQ_INT(om_cell_frame(buf, 514, 5, &cl, &var), 1);
    CHECK_EQ_INT(cl, 514);
    CHECK(!var);
    /* Variable cell at link 4. */
    memset(buf, 0, sizeof buf);
    buf[4] = OM_CELL_AUTH_CHALLENGE;
    buf[5] = 0x00;
    buf[6] = 0x26; /* 38 */
    CHECK_EQ_INT(om_cell_frame(buf, 6, 4, &cl, &var), 0);
    CHECK_EQ_INT(om_cell_frame(buf, 7, 4, &cl, &var), 0);
    CHECK_EQ_INT(cl, 45);
    CHECK(var);
    CHECK_EQ_INT(om_cell_frame(buf, 44, 4, &cl, &var), 0);
    CHECK_EQ_INT(om_cell_frame(buf, 45, 4, &cl, &var), 1);
    CHECK_EQ_INT(cl, 45);
    /* Maximum variable length. */
    buf[5] = 0xFF;
    buf[6] = 0xFF;
    CHECK_EQ_INT(om_cell_frame(buf, 7, 4, &cl, &var), 0);
    CHECK_EQ_INT(cl, 7 + 65535);
    /* NULL outputs are allowed. */
    CHECK_EQ_INT(om_cell_frame(buf, 7, 4, NULL, NULL), 0);
}

/* A link's input as a stream: our VERSIONS (narrow), then CERTS and a fixed cell at link 4. */
static void test_frame_stream(void)
{
    uint8_t stream[11 + 10 + 514];
    size_t off = 0;
    off += om_test_unhex("00 00 07 00 06 00 03 00 04 00 05", stream, sizeof stream);
    off += om_test_unhex("00 00 00 00 81 00 03 01 00 00", stream + off, sizeof stream - off);
    om_cell_t c = {.circ_id = 0x80000002u, .command = OM_CELL_CREATED_FAST};
    memset(c.payload, 0x33, sizeof c.payload);
    CHECK_EQ_INT(om_cell_pack(&c, 4, stream + off), 514);
    off += 514;

    int proto = 0, ncells = 0, nvar = 0;
    size_t pos = 0;
    while (pos < off) {
        size_t cl;
        bool var;
        int r = om_cell_frame(stream + pos, off - pos, proto, &cl, &var);
        CHECK_EQ_INT(r, 1);
        if (var) {
            om_var_cell_t *v = om_var_cell_unpack(stream + pos, cl, proto);
            CHECK(v != NULL);
            int cmd = v->command;
            om_var_cell_free(v);
            if (cmd == OM_CELL_VERSIONS) proto = 4;
            nvar++;
        } else {
            om_cell_t d;
            CHECK_EQ_INT(om_cell_unpack(&d, proto, stream + pos, cl), 0);
            CHECK_EQ_INT(d.circ_id, 0x80000002u);
            CHECK_MEM(d.payload, c.payload, OM_CELL_PAYLOAD_LEN);
        }
        ncells++;
        pos += cl;
    }
    CHECK_EQ_INT(ncells, 3);
    CHECK_EQ_INT(nvar, 2);
    CHECK_EQ_INT(pos, off);
}

static const om_test_t tests[] = {
    OM_TEST(test_command_names),
    OM_TEST(test_destroy_reason_names),
    OM_TEST(test_is_var_and_widths),
    OM_TEST(test_fixed_wire_bytes_narrow),
    OM_TEST(test_fixed_wire_bytes_wide),
    OM_TEST(test_fixed_roundtrip_both_widths),
    OM_TEST(test_fixed_rejects),
    OM_TEST(test_versions_exact_bytes),
    OM_TEST(test_var_roundtrip_both_widths),
    OM_TEST(test_var_empty_payload),
    OM_TEST(test_var_rejects),
    OM_TEST(test_frame_before_negotiation),
    OM_TEST(test_frame_after_negotiation),
    OM_TEST(test_frame_stream),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("cell", tests, argc, argv);
}
