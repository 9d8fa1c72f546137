/* dht_msg.h — the DHT's wire format (doc/dht.md, "Messages" and "Records"): the framing of
 * messages on a DHT stream, the request and response messages, and signed provider records.
 * Pure codecs over network input: bounds-checked, no I/O, no allocation; signing and checking
 * a record's signature and times is dht_record.c's. */
#ifndef OM_DHT_MSG_H
#define OM_DHT_MSG_H

#include <stddef.h>
#include <stdint.h>

#define OM_DHT_VERSION     1
#define OM_DHT_ID_LEN      20   /* node IDs and keys: 160 bits (RSA identity fingerprints) */
#define OM_DHT_MSG_MAX     4096 /* largest message body */
#define OM_DHT_FRAME_HDR   2    /* LEN before each body */
#define OM_DHT_MAX_NODES   20   /* node IDs in one NODES / PROVIDERS */
#define OM_DHT_MAX_RECORDS 16   /* records in one PROVIDERS */
#define OM_DHT_VALUE_MAX   512
#define OM_DHT_PUB_LEN     32
#define OM_DHT_SIG_LEN     64
/* A record without its value: VERSION KIND KEY PUBLISHER CREATED EXPIRES VLEN ... SIGNATURE. */
#define OM_DHT_RECORD_FIXED (1 + 1 + OM_DHT_ID_LEN + OM_DHT_PUB_LEN + 8 + 8 + 2 + OM_DHT_SIG_LEN)
#define OM_DHT_RECORD_MAX   (OM_DHT_RECORD_FIXED + OM_DHT_VALUE_MAX)

typedef enum {
    OM_DHT_PING = 0x01,
    OM_DHT_FIND_NODE = 0x02,
    OM_DHT_GET_PROVIDERS = 0x03,
    OM_DHT_ADD_PROVIDER = 0x04,
    OM_DHT_PONG = 0x81,
    OM_DHT_NODES = 0x82,
    OM_DHT_PROVIDERS = 0x83,
    OM_DHT_ADDED = 0x84,
    OM_DHT_ERROR = 0xff,
} om_dht_type_t;

/* Record kinds. A provider record's value is the providing relay's RSA fingerprint. */
enum { OM_DHT_KIND_PROVIDER = 1 };

/* ADDED statuses and ERROR codes. */
enum {
    OM_DHT_ADDED_OK = 0,
    OM_DHT_ADDED_BAD_RECORD = 1, /* malformed, bad signature, value not allowed for its kind */
    OM_DHT_ADDED_EXPIRED = 2,    /* expired, or created in the future */
    OM_DHT_ADDED_TOO_LONG = 3,   /* expires more than OM_DHT_MAX_LIFETIME after created */
    OM_DHT_ADDED_LIMIT = 4,      /* too many records for this key or this publisher */
};
enum { OM_DHT_ERR_MALFORMED = 1, OM_DHT_ERR_UNKNOWN_TYPE = 2, OM_DHT_ERR_BUSY = 3 };

typedef struct {
    uint8_t kind;
    uint8_t key[OM_DHT_ID_LEN];
    uint8_t publisher[OM_DHT_PUB_LEN]; /* Ed25519 public key */
    uint64_t created, expires;         /* seconds since 1970 */
    uint16_t value_len;
    uint8_t value[OM_DHT_VALUE_MAX];
    uint8_t sig[OM_DHT_SIG_LEN];
} om_dht_record_t;

typedef struct {
    uint8_t type; /* om_dht_type_t */
    uint32_t id;  /* the request's; its response carries the same */
    /* FIND_NODE: the target; GET_PROVIDERS: the key; PONG: the responder's node ID. */
    uint8_t target[OM_DHT_ID_LEN];
    uint8_t code; /* ADDED: status; ERROR: code */
    size_t n_nodes;
    uint8_t nodes[OM_DHT_MAX_NODES][OM_DHT_ID_LEN];
    size_t n_records; /* PROVIDERS: up to OM_DHT_MAX_RECORDS; ADD_PROVIDER: 1 */
    om_dht_record_t records[OM_DHT_MAX_RECORDS];
} om_dht_msg_t;

/* The next frame in buf[0..len): 0 if it is not complete yet; the bytes it takes (LEN + body,
 * with *body and *body_len set) if it is; -1 if LEN is 0 or over OM_DHT_MSG_MAX (close the
 * stream). */
long om_dht_frame_next(const uint8_t *buf, size_t len, const uint8_t **body, size_t *body_len);

/* A message body: 0, or -1 with err ("truncated NODES", "bytes after the message", ...). A
 * record's signature is not checked here (om_dht_record_check). */
int om_dht_msg_parse(const uint8_t *body, size_t len, om_dht_msg_t *m, char *err, size_t errlen);
/* The frame (LEN, then the body) of m into out: its length, or -1 if m does not fit out or
 * breaks a limit. */
long om_dht_msg_encode(const om_dht_msg_t *m, uint8_t *out, size_t cap);

/* A record's bytes: 0, or -1 with err. */
int om_dht_record_parse(const uint8_t *p, size_t len, om_dht_record_t *r, char *err, size_t errlen);
/* Its bytes (signature included): the length, or -1. */
long om_dht_record_encode(const om_dht_record_t *r, uint8_t *out, size_t cap);
/* The bytes its signature covers: OM_DHT_RECORD_SIG_PREFIX, then every byte before the
 * signature. The length, or -1. */
#define OM_DHT_RECORD_SIG_PREFIX "onionmesh-dht-record-v1"
long om_dht_record_signed_part(const om_dht_record_t *r, uint8_t *out, size_t cap);

#endif
