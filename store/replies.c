/* replies.c -- agents' replies to items, on their way to the networks
 * (reply_enqueue.lua, reply_settle.lua, reply_due.lua; ctx:reply:<id> and the
 * outbox). A reply id is the idempotency key sent to the network, so it is
 * made once, here, from the system's randomness. */
#include <stdio.h>
#include "core/clock.h"
#include "core/date.h"
#include "core/id.h"
#include "store/store_internal.h"

ctx_err store_reply_id(char *buf, size_t len)
{
    return ctx_random_id("rep-", 12, buf, len);
}

ctx_err store_reply_enqueue(struct rconn *rc, struct store *st, const char *reply,
                            const char *item, const char *text, const char *agent,
                            rconn_reply_cb cb, void *priv)
{
    char rkey[STORE_KEY_LEN], ikey[STORE_KEY_LEN], now[CTX_TIME_LEN];
    ctx_time_format(ctx_now_s(), now);
    const char *keys[] = {store_key_reply(rkey, sizeof rkey, reply),
                          store_key_item(ikey, sizeof ikey, item), KEY_OUTBOX, KEY_REPLY_EVENTS,
                          KEY_AGENT_EVENTS};
    const char *args[] = {reply, item, text, agent ? agent : "", now};
    return STORE_EVAL(rc, st, SCRIPT_REPLY_ENQUEUE, cb, priv, keys, args);
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
