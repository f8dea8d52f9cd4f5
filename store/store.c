/* store.c -- connections and scripts; the key layout is in store.h and
 * KEYS.md. The Lua sources live beside this file (the .lua files of store/) and are
 * embedded at build time as lua_<name> strings. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include "core/hash.h"
#include "store/store.h"

extern const char lua_add_raw[], lua_tag[], lua_query[], lua_reply_enqueue[],
    lua_reply_settle[], lua_reply_due[], lua_task_new[], lua_route_snapshot[], lua_offer[],
    lua_accept[], lua_refuse[], lua_finish[], lua_agent_state[], lua_presence[],
    lua_requeue_agent[], lua_abandon[], lua_chat_message[], lua_queue_stats[],
    lua_agents_list[], lua_overflow[], lua_chat_inbound[], lua_token_role[], lua_presence_sweep[];

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
    st->scripts[SCRIPT_REPLY_ENQUEUE] =
        (struct rscript){.name = "reply_enqueue", .body = lua_reply_enqueue};
    st->scripts[SCRIPT_REPLY_SETTLE] =
        (struct rscript){.name = "reply_settle", .body = lua_reply_settle};
    st->scripts[SCRIPT_REPLY_DUE] = (struct rscript){.name = "reply_due", .body = lua_reply_due};
    static const struct { enum store_script id; const char *name; const char *body; } more[] = {
        {SCRIPT_TASK_NEW, "task_new", lua_task_new},
        {SCRIPT_ROUTE_SNAPSHOT, "route_snapshot", lua_route_snapshot},
        {SCRIPT_OFFER, "offer", lua_offer},
        {SCRIPT_ACCEPT, "accept", lua_accept},
        {SCRIPT_REFUSE, "refuse", lua_refuse},
        {SCRIPT_FINISH, "finish", lua_finish},
        {SCRIPT_AGENT_STATE, "agent_state", lua_agent_state},
        {SCRIPT_PRESENCE, "presence", lua_presence},
        {SCRIPT_REQUEUE_AGENT, "requeue_agent", lua_requeue_agent},
        {SCRIPT_ABANDON, "abandon", lua_abandon},
        {SCRIPT_CHAT_MESSAGE, "chat_message", lua_chat_message},
        {SCRIPT_QUEUE_STATS, "queue_stats", lua_queue_stats},
        {SCRIPT_AGENTS_LIST, "agents_list", lua_agents_list},
        {SCRIPT_OVERFLOW, "overflow", lua_overflow},
        {SCRIPT_CHAT_INBOUND, "chat_inbound", lua_chat_inbound},
        {SCRIPT_TOKEN_ROLE, "token_role", lua_token_role},
        {SCRIPT_PRESENCE_SWEEP, "presence_sweep", lua_presence_sweep},
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(more); i++)
        st->scripts[more[i].id] = (struct rscript){.name = more[i].name, .body = more[i].body};
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

void store_consumer_name(const struct config *cfg, char *out, size_t outlen)
{
    if (cfg->consumer) {
        snprintf(out, outlen, "%s", cfg->consumer);
        return;
    }
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    snprintf(out, outlen, "%s-%d", host, (int)getpid());
}

ctx_err store_token_role(struct rconn *rc, struct store *st, const char *token,
                         rconn_reply_cb cb, void *priv)
{
    char sha256[65], sha1[41], k256[90], k1[70];
    ctx_sha256_hex(token, strlen(token), sha256);
    ctx_sha1_hex(token, strlen(token), sha1);
    snprintf(k256, sizeof k256, KEY_AGENT_TOKEN "%s", sha256);
    snprintf(k1, sizeof k1, KEY_AGENT_TOKEN "%s", sha1);
    const char *argv[] = {k256, k1};
    return rconn_eval(rc, &st->scripts[SCRIPT_TOKEN_ROLE], cb, priv, 2, 2, argv, NULL);
}
