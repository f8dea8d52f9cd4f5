/* agents.c -- agents in Redis: login tokens, state, presence of their
 * connections, and the lists the supervisors read. One function per script
 * (agent_state.lua, presence.lua, presence_sweep.lua, requeue_agent.lua,
 * agents_list.lua, queue_stats.lua, token_role.lua) and per plain read;
 * each builds its keys (store/keys.c) and arguments, so no role counts them. */
#include <stdlib.h>
#include <string.h>
#include "core/hash.h"
#include "core/mem.h"
#include "store/store_internal.h"

/* The agent a token names is known after reading it: a call in two steps
 * (store/twostep.c), so that token_role.lua is passed the agent's hash. */
struct token_role {
    struct store_twostep base;
    char k256[STORE_KEY_LEN], k1[STORE_KEY_LEN];  /* agent-token:<sha256>, ...:<sha1> */
    char sha256[65];
};

static ctx_err token_read(struct rconn *rc, struct store_twostep *t, rconn_reply_cb cb)
{
    struct token_role *tr = (struct token_role *)t;
    return rconn_cmd(rc, cb, t, "MGET %s %s", tr->k256, tr->k1);
}

static ctx_err token_call(struct rconn *rc, struct store_twostep *t, const redisReply *rep,
                          rconn_reply_cb cb)
{
    struct token_role *tr = (struct token_role *)t;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2)
        return CTX_EREDIS;
    const char *id = rep->element[0]->str ? rep->element[0]->str
                                          : rep->element[1]->str ? rep->element[1]->str : "";
    char akey[STORE_KEY_LEN];
    const char *keys[] = {tr->k256, tr->k1, store_key_agent(akey, sizeof akey, id)};
    const char *args[] = {id, tr->sha256};
    return STORE_EVAL(rc, t->st, SCRIPT_TOKEN_ROLE, cb, t, keys, args);
}

ctx_err store_token_role(struct rconn *rc, struct store *st, const char *token,
                         rconn_reply_cb cb, void *priv)
{
    struct token_role *tr = store_twostep_new(
        sizeof *tr, &(struct store_twostep){.st = st, .read = token_read, .call = token_call,
                                            .cb = cb, .priv = priv});
    char sha1[41];
    ctx_sha256_hex(token, strlen(token), tr->sha256);
    ctx_sha1_hex(token, strlen(token), sha1);
    store_key_agent_token(tr->k256, sizeof tr->k256, tr->sha256);
    store_key_agent_token(tr->k1, sizeof tr->k1, sha1);
    return store_twostep_start(rc, &tr->base);
}

ctx_err store_agent_state(struct rconn *rc, struct store *st, const char *agent,
                          const char *state, long long now, rconn_reply_cb cb, void *priv)
{
    char akey[STORE_KEY_LEN], ckey[STORE_KEY_LEN], nows[STORE_NUM_LEN];
    const char *keys[] = {store_key_agent(akey, sizeof akey, agent), KEY_AGENT_EVENTS,
                          KEY_ROUTING_EVENTS, KEY_WRAPUPS,
                          store_key_agent_conns(ckey, sizeof ckey, agent), KEY_AGENTS_READY,
                          KEY_AGENTS};
    const char *args[] = {agent, state, store_lld(nows, now)};
    return STORE_EVAL(rc, st, SCRIPT_AGENT_STATE, cb, priv, keys, args);
}

ctx_err store_presence(struct rconn *rc, struct store *st, const char *agent, const char *what,
                       const char *conn, long long now, long long stale_ms, rconn_reply_cb cb,
                       void *priv)
{
    char akey[STORE_KEY_LEN], ckey[STORE_KEY_LEN], nows[STORE_NUM_LEN], stale[STORE_NUM_LEN];
    const char *keys[] = {store_key_agent(akey, sizeof akey, agent), KEY_DISCONNECTED,
                          KEY_ROUTING_EVENTS, store_key_agent_conns(ckey, sizeof ckey, agent)};
    const char *args[] = {agent, what, store_lld(nows, now), conn, store_lld(stale, stale_ms)};
    return STORE_EVAL(rc, st, SCRIPT_PRESENCE, cb, priv, keys, args);
}

/* The agents to sweep are read first, so that presence_sweep.lua is passed
 * each one's keys (store/twostep.c; the script passes over one that left). */
struct sweep {
    struct store_twostep base;
    long long now, stale_ms;
};

static ctx_err sweep_read(struct rconn *rc, struct store_twostep *t, rconn_reply_cb cb)
{
    return rconn_cmd(rc, cb, t, "SMEMBERS %s", KEY_AGENTS);
}

static ctx_err sweep_call(struct rconn *rc, struct store_twostep *t, const redisReply *rep,
                          rconn_reply_cb cb)
{
    struct sweep *sw = (struct sweep *)t;
    if (rep->type != REDIS_REPLY_ARRAY)
        return CTX_EREDIS;
    size_t n = rep->elements;
    char (*k)[STORE_KEY_LEN] = ctx_calloc(2 * n + 1, sizeof *k);
    const char **keys = ctx_calloc(3 + 2 * n, sizeof *keys);
    const char **args = ctx_calloc(2 + n, sizeof *args);
    char nows[STORE_NUM_LEN], stale[STORE_NUM_LEN];
    keys[0] = KEY_AGENTS;
    keys[1] = KEY_DISCONNECTED;
    keys[2] = KEY_ROUTING_EVENTS;
    args[0] = store_lld(nows, sw->now);
    args[1] = store_lld(stale, sw->stale_ms);
    for (size_t i = 0; i < n; i++) {
        const char *id = rep->element[i]->str ? rep->element[i]->str : "";
        keys[3 + 2 * i] = store_key_agent(k[2 * i], STORE_KEY_LEN, id);
        keys[4 + 2 * i] = store_key_agent_conns(k[2 * i + 1], STORE_KEY_LEN, id);
        args[2 + i] = id;
    }
    ctx_err e = store_eval(rc, t->st, SCRIPT_PRESENCE_SWEEP, cb, t, keys, 3 + 2 * n, args,
                           2 + n);
    free(k);
    free(keys);
    free(args);
    return e;
}

ctx_err store_presence_sweep(struct rconn *rc, struct store *st, long long now,
                             long long stale_ms, rconn_reply_cb cb, void *priv)
{
    struct sweep *sw = store_twostep_new(
        sizeof *sw, &(struct store_twostep){.st = st, .read = sweep_read, .call = sweep_call,
                                            .cb = cb, .priv = priv});
    sw->now = now;
    sw->stale_ms = stale_ms;
    return store_twostep_start(rc, &sw->base);
}

ctx_err store_requeue_agent(struct rconn *rc, struct store *st, const char *agent,
                            long long now, long long grace_ms, rconn_reply_cb cb, void *priv)
{
    char akey[STORE_KEY_LEN], atkey[STORE_KEY_LEN], ckey[STORE_KEY_LEN], nows[STORE_NUM_LEN],
        grace[STORE_NUM_LEN];
    const char *keys[] = {store_key_agent(akey, sizeof akey, agent),
                          store_key_agent_tasks(atkey, sizeof atkey, agent), KEY_OFFERS,
                          KEY_DISCONNECTED, KEY_ROUTING_EVENTS, KEY_CHAT_EVENTS,
                          store_key_agent_conns(ckey, sizeof ckey, agent), KEY_AGENTS_READY,
                          KEY_QUEUES_LIVE};
    const char *args[] = {agent, store_lld(nows, now), store_lld(grace, grace_ms),
                          KEY_TASK_PREFIX, KEY_QUEUE_PREFIX};
    return STORE_EVAL(rc, st, SCRIPT_REQUEUE_AGENT, cb, priv, keys, args);
}

ctx_err store_agents_list(struct rconn *rc, struct store *st, rconn_reply_cb cb, void *priv)
{
    const char *keys[] = {KEY_AGENTS};
    const char *args[] = {KEY_AGENT_PREFIX, KEY_TASK_PREFIX};
    return STORE_EVAL(rc, st, SCRIPT_AGENTS_LIST, cb, priv, keys, args);
}

ctx_err store_queue_stats(struct rconn *rc, struct store *st, const char *const *queues,
                          size_t n, rconn_reply_cb cb, void *priv)
{
    /* keys: the live counts, then each queue's stats, waiting line and
     * arrivals; args: the queue names */
    char (*k)[STORE_KEY_LEN] = ctx_calloc(3 * n + 1, sizeof *k);
    const char **keys = ctx_calloc(1 + 3 * n, sizeof *keys);
    const char **args = ctx_calloc(n + 1, sizeof *args);
    keys[0] = KEY_QUEUES_LIVE;
    for (size_t i = 0; i < n; i++) {
        keys[1 + 3 * i] = store_key_queue_stats(k[3 * i], STORE_KEY_LEN, queues[i]);
        keys[2 + 3 * i] = store_key_queue_waiting(k[3 * i + 1], STORE_KEY_LEN, queues[i]);
        keys[3 + 3 * i] = store_key_queue_arrivals(k[3 * i + 2], STORE_KEY_LEN, queues[i]);
        args[i] = queues[i];
    }
    ctx_err e = store_eval(rc, st, SCRIPT_QUEUE_STATS, cb, priv, keys, 1 + 3 * n, args, n);
    free(k);
    free(keys);
    free(args);
    return e;
}
