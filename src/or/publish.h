/* publish.h — uploading the relay's server descriptor and extra-info document to every directory
 * authority (dir-spec 2.1, 3.1: "POST /tor/" over HTTP to the authority's DirPort; as tor does,
 * one body: the descriptor followed by the extra-info document), logging each answer. */
#ifndef OM_OR_PUBLISH_H
#define OM_OR_PUBLISH_H

#include <stddef.h>

#include "core/config.h"

struct event_base;

/* Upload desc (the signed descriptor text) followed by extra_info (its extra-info document, or
 * NULL: none), both copied, to every authority that is not a bridge authority. Each answer is
 * logged: notice for "accepted" (2xx), warn with the authority's reason otherwise. done (may be
 * NULL) runs once when every upload finished, with the number answered 2xx. Returns the number of
 * uploads started. */
typedef void (*om_publish_done_cb)(unsigned accepted, unsigned total, void *arg);
int om_publish_descriptor(struct event_base *base, const om_dir_authority_t *auths, size_t n,
                          const char *desc, const char *extra_info, om_publish_done_cb done,
                          void *arg);

#endif
