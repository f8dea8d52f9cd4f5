/* streams.c -- the fixed-name streams and sorted sets the roles read and
 * acknowledge by hand: acks of the consumer groups, the routing wake-up
 * read, the monitor's catch-up pages, and the time-ordered sets the router
 * sweeps (offers, wrap-ups, disconnected agents, chats left). The key names
 * and groups stay here; callers say which thing and which entry. */
#include <stdlib.h>
#include "core/mem.h"
#include "store/store_internal.h"

void store_raw_ack(struct rconn *rc, struct store *st, unsigned shard, const char *sid)
{
    (void)st;
    char raw[STORE_KEY_LEN];
    rconn_cmd(rc, NULL, NULL, "XACK %s %s %s", store_key_sharded(raw, sizeof raw, shard, KEYN_RAW),
              GROUP_ANALYZE, sid);
}

void store_tagged_ack(struct rconn *rc, struct store *st, unsigned shard, const char *sid)
{
    (void)st;
    char tagged[STORE_KEY_LEN];
    rconn_cmd(rc, NULL, NULL, "XACK %s %s %s",
              store_key_sharded(tagged, sizeof tagged, shard, KEYN_TAGGED), GROUP_ROUTE, sid);
}

void store_route_group_create(struct rconn *rc, struct store *st)
{
    /* every shard's: a router that starts later misses nothing tagged in between */
    char tagged[STORE_KEY_LEN];
    for (unsigned s = 0; s < store_shards(st); s++)
        rconn_cmd(rc, NULL, NULL, "XGROUP CREATE %s %s $ MKSTREAM",
                  store_key_sharded(tagged, sizeof tagged, s, KEYN_TAGGED), GROUP_ROUTE);
}

void store_outbox_drop(struct rconn *rc, struct store *st, const char *sid)
{
    (void)st;
    rconn_cmd(rc, NULL, NULL, "XACK %s %s %s", KEY_OUTBOX, GROUP_POST, sid);
    rconn_cmd(rc, NULL, NULL, "XDEL %s %s", KEY_OUTBOX, sid);
}

ctx_err store_tagged_page(struct rconn *rc, struct store *st, unsigned shard, const char *after,
                          int count, rconn_reply_cb cb, void *priv)
{
    (void)st;
    char tagged[STORE_KEY_LEN];
    return rconn_cmd(rc, cb, priv, "XRANGE %s %s + COUNT %d",
                     store_key_sharded(tagged, sizeof tagged, shard, KEYN_TAGGED), after, count);
}

ctx_err store_routing_wait(struct rconn *rc, struct store *st, const char *after,
                           rconn_reply_cb cb, void *priv)
{
    (void)st;
    return rconn_cmd(rc, cb, priv, "XREAD COUNT 200 BLOCK 5000 STREAMS %s %s",
                     KEY_ROUTING_EVENTS, after);
}

ctx_err store_chat_typing(struct rconn *rc, struct store *st, const char *task,
                          const char *name, rconn_reply_cb cb, void *priv)
{
    (void)st;
    return rconn_cmd(rc, cb, priv, "XADD %s MAXLEN ~ 100000 * task %s type typing name %s",
                     KEY_CHAT_EVENTS, task, name);
}

ctx_err store_due(struct rconn *rc, struct store *st, enum store_due which, long long until,
                  rconn_reply_cb cb, void *priv)
{
    (void)st;
    static const char *const keys[] = {
        [STORE_DUE_OFFERS] = KEY_OFFERS, [STORE_DUE_WRAPUPS] = KEY_WRAPUPS,
        [STORE_DUE_DISCONNECTED] = KEY_DISCONNECTED, [STORE_DUE_CHATS_LEFT] = KEY_CHATS_LEFT};
    if ((size_t)which >= CTX_ARRAY_LEN(keys))
        return CTX_EINVAL;
    return rconn_cmd(rc, cb, priv, "ZRANGEBYSCORE %s -inf %lld LIMIT 0 100", keys[which], until);
}

void store_offer_forget(struct rconn *rc, struct store *st, const char *task)
{
    (void)st;
    rconn_cmd(rc, NULL, NULL, "ZREM %s %s", KEY_OFFERS, task);
}

/* A chat is in chats:live while a node holds its customer's connection and
 * in chats:left once the customer dropped: left is written before live is
 * cleared, so a node that dies in between leaves it in both, which the
 * sweep settles (chats_live_sweep.lua adds to left only what is not there). */
void store_chat_left(struct rconn *rc, struct store *st, const char *task, long long now)
{
    (void)st;
    rconn_cmd(rc, NULL, NULL, "ZADD %s NX %lld %s", KEY_CHATS_LEFT, now, task);
    rconn_cmd(rc, NULL, NULL, "ZREM %s %s", KEY_CHATS_LIVE, task);
}

void store_chat_back(struct rconn *rc, struct store *st, const char *task, long long now)
{
    (void)st;
    rconn_cmd(rc, NULL, NULL, "ZADD %s %lld %s", KEY_CHATS_LIVE, now, task);
    rconn_cmd(rc, NULL, NULL, "ZREM %s %s", KEY_CHATS_LEFT, task);
}

void store_chat_gone(struct rconn *rc, struct store *st, const char *task)
{
    (void)st;
    rconn_cmd(rc, NULL, NULL, "ZREM %s %s", KEY_CHATS_LEFT, task);
    rconn_cmd(rc, NULL, NULL, "ZREM %s %s", KEY_CHATS_LIVE, task);
}

ctx_err store_chats_beat(struct rconn *rc, struct store *st, const char *const *tasks, size_t n,
                         long long now)
{
    (void)st;
    if (n == 0)
        return CTX_OK;
    char nows[STORE_NUM_LEN];
    store_lld(nows, now);
    const char **argv = ctx_malloc((3 + 2 * n) * sizeof *argv);
    argv[0] = "ZADD";
    argv[1] = KEY_CHATS_LIVE;
    argv[2] = "XX";
    for (size_t i = 0; i < n; i++) {
        argv[3 + 2 * i] = nows;
        argv[4 + 2 * i] = tasks[i];
    }
    ctx_err e = rconn_cmdargv(rc, NULL, NULL, (int)(3 + 2 * n), argv, NULL);
    free(argv);
    return e;
}

ctx_err store_chats_live_sweep(struct rconn *rc, struct store *st, long long now,
                               long long stale_ms, rconn_reply_cb cb, void *priv)
{
    char nows[STORE_NUM_LEN], stale[STORE_NUM_LEN];
    const char *keys[] = {KEY_CHATS_LIVE, KEY_CHATS_LEFT};
    const char *args[] = {store_lld(nows, now), store_lld(stale, stale_ms), "100"};
    return STORE_EVAL(rc, st, SCRIPT_CHATS_LIVE_SWEEP, cb, priv, keys, args);
}
