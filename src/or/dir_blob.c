/* dir_blob.c — reference-counted immutable blobs and per-document slots (see dir_blob.h). The
 * event loop is the only thread touching them: plain counters. */
#include "or/dir_blob.h"

#include <stdlib.h>
#include <string.h>

struct om_dir_blob {
    unsigned refs;
    size_t len;
    uint8_t data[];
};

om_dir_blob_t *om_dir_blob_alloc(size_t len)
{
    if (len > SIZE_MAX - sizeof(om_dir_blob_t)) return NULL;
    om_dir_blob_t *b = malloc(sizeof *b + len);
    if (!b) return NULL;
    b->refs = 1;
    b->len = len;
    return b;
}

om_dir_blob_t *om_dir_blob_new(const void *data, size_t len)
{
    om_dir_blob_t *b = om_dir_blob_alloc(len);
    if (b && len) memcpy(b->data, data, len);
    return b;
}

uint8_t *om_dir_blob_wdata(om_dir_blob_t *b)
{
    return b->data;
}

const uint8_t *om_dir_blob_data(const om_dir_blob_t *b)
{
    return b->data;
}

size_t om_dir_blob_len(const om_dir_blob_t *b)
{
    return b ? b->len : 0;
}

unsigned om_dir_blob_refs(const om_dir_blob_t *b)
{
    return b ? b->refs : 0;
}

om_dir_blob_t *om_dir_blob_ref(om_dir_blob_t *b)
{
    if (b) b->refs++;
    return b;
}

void om_dir_blob_unref(om_dir_blob_t *b)
{
    if (b && --b->refs == 0) free(b);
}

om_dir_blob_t *om_dir_blob_slot_get(om_dir_blob_slot_t *s, uint64_t gen, const void *data,
                                    size_t len)
{
    if (!s->blob || s->gen != gen) {
        om_dir_blob_t *b = om_dir_blob_new(data, len);
        if (!b) return NULL;
        om_dir_blob_unref(s->blob);
        s->blob = b;
        s->gen = gen;
    }
    return om_dir_blob_ref(s->blob);
}

void om_dir_blob_slot_clear(om_dir_blob_slot_t *s)
{
    om_dir_blob_unref(s->blob);
    s->blob = NULL;
}
