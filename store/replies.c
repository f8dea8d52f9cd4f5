/* replies.c -- agents' replies to items, on their way to the networks
 * (reply_enqueue.lua, reply_settle.lua, reply_due.lua; the reply hashes and
 * the outbox, in the routing domain of store/KEYS.md). A reply id is the
 * idempotency key sent to the network, so it is made once, here, from the
 * system's randomness. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "core/date.h"
#include "core/id.h"
#include "core/mem.h"
#include "store/store_internal.h"

ctx_err store_reply_id(char *buf, size_t len)
{
    return ctx_random_id("rep-", 12, buf, len);
}

/* The reply and the outbox are in the routing slot, the item in the items'
 * (store/KEYS.md): its JSON is read first and handed to reply_enqueue.lua,
 * a call in two steps (store/twostep.c). A stored item never changes, so
 * the script has nothing to check again. */
#define ENQUEUE_ARGS 5
struct enqueue {
    struct store_twostep base;
    char *args[ENQUEUE_ARGS];   /* owned copies: reply, item, text, agent, now */
};

static ctx_err enqueue_read(struct rconn *rc, struct store_twostep *t, rconn_reply_cb cb)
{
    return store_read(rc, t->st, STORE_ITEM_JSON, ((struct enqueue *)t)->args[1], cb, t);
}

static ctx_err enqueue_call(struct rconn *rc, struct store_twostep *t, const redisReply *rep,
                            rconn_reply_cb cb)
{
    struct enqueue *q = (struct enqueue *)t;
    char rkey[STORE_KEY_LEN];
    const char *keys[] = {store_key_reply(rkey, sizeof rkey, q->args[0]), KEY_OUTBOX,
                          KEY_REPLY_EVENTS, KEY_AGENT_EVENTS};
    const char *args[] = {q->args[0], q->args[1], q->args[2], q->args[3], q->args[4],
                          rep->type == REDIS_REPLY_STRING ? rep->str : ""};
    return STORE_EVAL(rc, t->st, SCRIPT_REPLY_ENQUEUE, cb, t, keys, args);
}

static void enqueue_release(struct rconn *rc, redisReply *rep, struct store_twostep *t)
{
    (void)rc;
    (void)rep;
    for (size_t i = 0; i < ENQUEUE_ARGS; i++)
        free(((struct enqueue *)t)->args[i]);
}

ctx_err store_reply_enqueue(struct rconn *rc, struct store *st, const char *reply,
                            const char *item, const char *text, const char *agent,
                            rconn_reply_cb cb, void *priv)
{
    struct enqueue *q = store_twostep_new(
        sizeof *q, &(struct store_twostep){.st = st, .read = enqueue_read,
                                           .call = enqueue_call, .release = enqueue_release,
                                           .cb = cb, .priv = priv});
    char now[CTX_TIME_LEN];
    ctx_time_format(ctx_now_s(), now);
    const char *args[ENQUEUE_ARGS] = {reply, item, text, agent ? agent : "", now};
    for (size_t i = 0; i < ENQUEUE_ARGS; i++)
        q->args[i] = ctx_strdup(args[i]);
    return store_twostep_start(rc, &q->base);
}

ctx_err store_reply_settle(struct rconn *rc, struct store *st, const char *sid,
                           const char *reply, const char *status, const char *ref,
                           const char *error, long long due, rconn_reply_cb cb, void *priv)
{
    char key[STORE_KEY_LEN], now[CTX_TIME_LEN], dues[STORE_NUM_LEN], keep[STORE_NUM_LEN];
    ctx_time_format(ctx_now_s(), now);
    const char *keys[] = {store_key_reply(key, sizeof key, reply), KEY_OUTBOX,
                          KEY_OUTBOX_DELAYED, KEY_REPLY_EVENTS, KEY_AGENT_EVENTS};
    const char *args[] = {GROUP_POST, sid, reply, status, ref ? ref : "", error ? error : "",
                          now, store_lld(dues, due),
                          store_lld(keep, (long long)(st->cfg->retention.replies * 1000))};
    return STORE_EVAL(rc, st, SCRIPT_REPLY_SETTLE, cb, priv, keys, args);
}

ctx_err store_reply_due(struct rconn *rc, struct store *st, long long now, rconn_reply_cb cb,
                        void *priv)
{
    char nows[STORE_NUM_LEN];
    const char *keys[] = {KEY_OUTBOX_DELAYED, KEY_OUTBOX};
    const char *args[] = {store_lld(nows, now)};
    return STORE_EVAL(rc, st, SCRIPT_REPLY_DUE, cb, priv, keys, args);
}

ctx_err store_reply_posting(struct rconn *rc, struct store *st, const char *reply,
                            rconn_reply_cb cb, void *priv)
{
    (void)st;
    char key[STORE_KEY_LEN];
    store_key_reply(key, sizeof key, reply);
    rconn_cmd(rc, NULL, NULL, "HSET %s status posting", key);
    return rconn_cmd(rc, cb, priv, "HINCRBY %s attempts 1", key);
}
