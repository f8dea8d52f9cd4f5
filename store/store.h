/* store.h -- Redis as the system of record: key layout, Lua scripts and
 * connections (store/KEYS.md documents every key).
 *
 * A store owns one command connection shared by every role of the process;
 * a role that issues blocking reads (XREADGROUP/XREAD ... BLOCK) asks for a
 * connection of its own with store_conn_new(), since a blocked connection
 * answers nothing else. Scripts are loaded on each connection as it comes
 * up and called by SHA. */
#ifndef CTX_STORE_H
#define CTX_STORE_H

#include <stdbool.h>
#include <uv.h>
#include "core/config.h"
#include "core/redis.h"

#define KEY_RAW          "ctx:items:raw"      /* stream: collected, untagged */
#define KEY_TAGGED       "ctx:items:tagged"   /* stream: tagged items, in order */
#define KEY_ITEM_PREFIX  "ctx:item:"          /* hash per item: json, sid */
#define KEY_SEEN_PREFIX  "ctx:seen:"          /* set per source: item ids seen */
#define KEY_SOURCE_PREFIX "ctx:source:"       /* hash per source: poll state */
#define KEY_IDX_ALL      "ctx:idx:all"        /* zset: item ids by published ms */
#define KEY_IDX_PREFIX   "ctx:idx:"           /* zsets: sentiment:<l>, brand:<b>, topic:<t> */
#define GROUP_ANALYZE    "analyze"

#define RAW_STREAM_CAP    "1000000"
#define TAGGED_STREAM_CAP "100000"

enum store_script { SCRIPT_ADD_RAW, SCRIPT_TAG, SCRIPT_QUERY, SCRIPT_COUNT };

struct store {
    uv_loop_t *loop;
    const struct config *cfg;
    struct rscript scripts[SCRIPT_COUNT];
};

ctx_err store_new(uv_loop_t *loop, const struct config *cfg, struct store **out);
void store_free(struct store *st);

/* A further connection (for blocking reads), with the scripts loaded. */
ctx_err store_conn_new(struct store *st, const char *name, rconn_state_cb cb, void *priv,
                       struct rconn **out);

#endif
