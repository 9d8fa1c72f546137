/* dir_blob.h — immutable, reference-counted byte blobs for the directory cache's answers: a
 * document is served by reference (each BEGIN_DIR stream holds a reference, not a copy), one blob
 * per document version and form (plain or deflated), made on the first request for it and freed
 * when the last stream serving it ends. */
#ifndef OM_OR_DIR_BLOB_H
#define OM_OR_DIR_BLOB_H

#include <stddef.h>
#include <stdint.h>

typedef struct om_dir_blob om_dir_blob_t;

/* A blob of len bytes (one reference), to be filled through om_dir_blob_wdata before it is
 * shared; NULL if out of memory. */
om_dir_blob_t *om_dir_blob_alloc(size_t len);
om_dir_blob_t *om_dir_blob_new(const void *data, size_t len);
uint8_t *om_dir_blob_wdata(om_dir_blob_t *b);
const uint8_t *om_dir_blob_data(const om_dir_blob_t *b);
size_t om_dir_blob_len(const om_dir_blob_t *b);
unsigned om_dir_blob_refs(const om_dir_blob_t *b);
om_dir_blob_t *om_dir_blob_ref(om_dir_blob_t *b);
void om_dir_blob_unref(om_dir_blob_t *b); /* NULL: nothing */

/* The blob of one document's current version: made from data when gen differs from the one held
 * (the held blob lives on while streams reference it). Returns a new reference, or NULL. */
typedef struct {
    om_dir_blob_t *blob;
    uint64_t gen;
} om_dir_blob_slot_t;
om_dir_blob_t *om_dir_blob_slot_get(om_dir_blob_slot_t *s, uint64_t gen, const void *data,
                                    size_t len);
void om_dir_blob_slot_clear(om_dir_blob_slot_t *s);

#endif
