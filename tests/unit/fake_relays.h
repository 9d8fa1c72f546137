/* fake_relays.h — a fake three-relay path over the in-memory link for client-side tests
 * (test_hostile_client.c, test_conflux.c): the test plays guard, middle and exit of each circuit
 * (CREATE_FAST to the first, EXTEND2 with ntor — or ntor-v3 granting congestion control to the
 * exit — to the others, one layer of relay crypto per hop), records what each hop recognized,
 * and sends relay messages from any hop towards the client. */
#ifndef OM_TEST_FAKE_RELAYS_H
#define OM_TEST_FAKE_RELAYS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/circuit.h"
#include "core/onion_handshake.h"
#include "core/relay_bodies.h"
#include "core/sendme.h"
#include "mem_link.h"

#define HOPS 3

#define CC_INC 31 /* the exit's sendme_inc (tor's cc_sendme_inc) */

typedef struct {
    uint32_t id;
    int hops; /* established */
    om_relay_crypto_t rc[HOPS];
    int n; /* messages recognized, other than EXTEND2 */
    uint8_t hop[256], cmd[256];
    uint16_t stream[256];
    int data_at_exit;       /* DATA cells recognized at the last hop */
    uint8_t digest_100[20]; /* the last hop's forward digest after the 100th */
    uint8_t dig[128][20];   /* ... after DATA cell i + 1 (the first 128) */
    bool cc;                /* the exit granted congestion control (ntor-v3 extension) */
    bool destroyed;
    uint8_t cfx_body[OM_RELAY_PAYLOAD_LEN]; /* the last conflux message's body (any hop) */
    uint16_t cfx_len;
} fcirc_t;

extern om_mem_link_t fr_link;
extern fcirc_t fcs[8];
extern int n_fcs;
extern om_x25519_keypair_t onion[HOPS];
extern uint8_t rid[HOPS][20];
extern uint8_t ed_id[HOPS][32];

/* hop sends a relay message towards the origin */
int fsend(fcirc_t *f, int hop, uint8_t command, uint16_t stream, const void *body, size_t len);
fcirc_t *fc_of(uint32_t id);
/* The relays read everything the client sent, answering handshakes. */
void pump(void);
/* The last message fcirc got (command, stream) at hop, since index from; -1 if none. */
int find_msg(const fcirc_t *f, int from, int hop, uint8_t command);

typedef struct {
    om_circuit_t *circ;
    fcirc_t *f;
    bool built, closed;
    char why[128];
} ccirc_t;

typedef struct {
    om_stream_t *s;
    uint16_t id;
    int connected, ends, resolved;
    uint8_t end_reason;
    uint8_t data[4096];
    size_t len;
} cstream_t;

extern const om_stream_callbacks_t stream_cb; /* the cstream_t callbacks (arg: the cstream_t) */
bool setup(void);
void teardown(void);
bool build(ccirc_t *c, uint8_t min_sendme_version);
/* cc: the exit hop over ntor-v3, asked for congestion control with tor's default parameters. */
bool build_ex(ccirc_t *c, uint8_t min_sendme_version, bool cc);
/* A stream on c (BEGIN seen at the exit); false if not. */
bool begin(ccirc_t *c, cstream_t *cs);
int connected_body(uint8_t *b);
/* A new stream on c: CONNECTED, "<tag>" in two DATA cells, END DONE from the exit; NULL if the
 * client saw exactly that. */
const char *stream_works(ccirc_t *c, const char *tag);

/* needs test.h */
#define CHECK_WORKS(c, tag)                                                                        \
    do {                                                                                           \
        const char *w_ = stream_works((c), (tag));                                                 \
        CHECK_MSG(w_ == NULL, "%s: %s (%s)", #c, w_, (c)->why);                                    \
    } while (0)

#endif
