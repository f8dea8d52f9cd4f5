/* store.c -- connections and scripts; the key layout is in store.h and
 * KEYS.md. The Lua sources live beside this file (the .lua files of store/) and are
 * embedded at build time as lua_<name> strings. */
#include <stdlib.h>
#include "store/store.h"

extern const char lua_add_raw[], lua_tag[], lua_query[];

ctx_err store_new(uv_loop_t *loop, const struct config *cfg, struct store **out)
{
    struct store *st = calloc(1, sizeof *st);
    if (!st)
        return CTX_ENOMEM;
    st->loop = loop;
    st->cfg = cfg;
    st->scripts[SCRIPT_ADD_RAW] = (struct rscript){.name = "add_raw", .body = lua_add_raw};
    st->scripts[SCRIPT_TAG] = (struct rscript){.name = "tag", .body = lua_tag};
    st->scripts[SCRIPT_QUERY] = (struct rscript){.name = "query", .body = lua_query};
    for (int i = 0; i < SCRIPT_COUNT; i++)
        rscript_init(&st->scripts[i]);
    *out = st;
    return CTX_OK;
}

ctx_err store_conn_new(struct store *st, const char *name, rconn_state_cb cb, void *priv,
                       struct rconn **out)
{
    /* 15 s: longer than any BLOCK this project issues (at most 5 s) */
    ctx_err e = rconn_new(st->loop, st->cfg->redis_host, st->cfg->redis_port, name, 15, cb,
                          priv, out);
    if (!e)
        rconn_set_scripts(*out, st->scripts, SCRIPT_COUNT);
    return e;
}

void store_free(struct store *st)
{
    if (!st)
        return;
    free(st);
}
