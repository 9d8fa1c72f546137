/* dht_server.c — a DHT node's answers to requests (dht_server.h). A PROVIDERS answer takes as
 * many records as fit one message next to the closest nodes. */
#include "dht/dht_server.h"

#include <stddef.h>
#include <string.h>

static void closest_nodes(const om_dht_table_t *t, const uint8_t target[OM_DHT_ID_LEN],
                          om_dht_msg_t *resp)
{
    om_dht_node_t near[OM_DHT_K];
    resp->n_nodes = om_dht_table_closest(t, target, near, OM_DHT_K);
    for (size_t i = 0; i < resp->n_nodes; i++)
        memcpy(resp->nodes[i], near[i].id, OM_DHT_ID_LEN);
}

void om_dht_server_answer(const om_dht_table_t *t, om_dht_store_t *s, const om_dht_msg_t *req,
                          uint64_t now, om_dht_msg_t *resp)
{
    memset(resp, 0, offsetof(om_dht_msg_t, records));
    resp->id = req->id;
    switch (req->type) {
    case OM_DHT_PING:
        resp->type = OM_DHT_PONG;
        memcpy(resp->target, t->self, OM_DHT_ID_LEN);
        break;
    case OM_DHT_FIND_NODE:
        resp->type = OM_DHT_NODES;
        closest_nodes(t, req->target, resp);
        break;
    case OM_DHT_GET_PROVIDERS: {
        resp->type = OM_DHT_PROVIDERS;
        closest_nodes(t, req->target, resp);
        size_t room = OM_DHT_MSG_MAX - (6 + 1 + 1 + resp->n_nodes * OM_DHT_ID_LEN);
        size_t n = om_dht_store_get(s, req->target, now, resp->records, OM_DHT_MAX_RECORDS);
        size_t used = 0, keep = 0;
        while (keep < n) {
            size_t len = 2 + OM_DHT_RECORD_FIXED + resp->records[keep].value_len;
            if (used + len > room) break;
            used += len;
            keep++;
        }
        resp->n_records = keep;
        break;
    }
    case OM_DHT_ADD_PROVIDER:
        resp->type = OM_DHT_ADDED;
        resp->code = (uint8_t)om_dht_store_add(s, &req->records[0], now);
        break;
    default:
        resp->type = OM_DHT_ERROR;
        resp->code = OM_DHT_ERR_UNKNOWN_TYPE;
    }
}
