/* store_internal.h -- what the files of store/ share and nobody else sees:
 * calling a script with its keys and arguments counted by the compiler, and
 * numbers formatted the one way the scripts parse them. */
#ifndef CTX_STORE_INTERNAL_H
#define CTX_STORE_INTERNAL_H

#include <stdio.h>
#include "core/buf.h"
#include "store/store.h"

#define STORE_NUM_LEN 32

/* v as a decimal integer, in b. */
static inline const char *store_lld(char b[STORE_NUM_LEN], long long v)
{
    snprintf(b, STORE_NUM_LEN, "%lld", v);
    return b;
}

/* v with all its digits (order scores), in b. */
static inline const char *store_dbl(char b[STORE_NUM_LEN], double v)
{
    snprintf(b, STORE_NUM_LEN, "%.17g", v);
    return b;
}

/* EVALSHA `script` with keys[0..nkeys) then args[0..nargs). */
ctx_err store_eval(struct rconn *rc, struct store *st, enum store_script script,
                   rconn_reply_cb cb, void *priv, const char *const *keys, size_t nkeys,
                   const char *const *args, size_t nargs);

/* The same, with both lists as arrays whose lengths the compiler knows. */
#define STORE_EVAL(rc, st, script, cb, priv, keys, args) \
    store_eval(rc, st, script, cb, priv, keys, CTX_ARRAY_LEN(keys), args, CTX_ARRAY_LEN(args))

/* A call in two steps (store/twostep.c): read sends the read with `step`
 * as its callback, call sends the script with the keys named from the read's
 * reply, with `step`; cb and priv get the script's reply (NULL: lost, or a
 * step could not be sent). release (optional) frees what the context owns,
 * before cb; the context itself is freed after. */
struct store_twostep {
    struct store *st;
    ctx_err (*read)(struct rconn *rc, struct store_twostep *t, rconn_reply_cb step);
    ctx_err (*call)(struct rconn *rc, struct store_twostep *t, const redisReply *read,
                    rconn_reply_cb step);
    void (*release)(struct rconn *rc, redisReply *r, struct store_twostep *t);
    rconn_reply_cb cb;
    void *priv;
    int tries;
};
/* A zeroed context of `size` bytes that starts with a copy of base (never
 * NULL: core/mem.h). */
void *store_twostep_new(size_t size, const struct store_twostep *base);
/* Sends the read; on failure (nothing sent, cb not called) releases and
 * frees t. */
ctx_err store_twostep_start(struct rconn *rc, struct store_twostep *t);

/* tag.lua's trend record for a tagged item (store/trends.c): its series
 * ("all", "brand:acme"...; at most STORE_TREND_MAX_SERIES, each once),
 * whether each is split by sentiment and complaint, and the record pushed
 * to the pending counts (store/KEYS.md "Trend counters"; free it with
 * buf_free()). n == 0: not counted. */
#define STORE_TREND_MAX_SERIES 64
#define STORE_SERIES_LEN 200
struct store_trend_args {
    size_t n;
    char series[STORE_TREND_MAX_SERIES][STORE_SERIES_LEN];
    bool split[STORE_TREND_MAX_SERIES];
    struct buf record;
};
void store_trend_args(struct store_trend_args *a, const struct store_tagged *t,
                      const struct config_trends *cfg, long long now);

/* Take or renew the lease `key` for ms as owner (store/lease.c, lease.lua):
 * the reply is 1 when owner holds it, else 0. */
ctx_err store_lease(struct rconn *rc, struct store *st, const char *key, const char *owner,
                    long long ms, rconn_reply_cb cb, void *priv);

/* Send `cmd key rest[0] ... rest[n-1]` (n <= 16). */
ctx_err store_cmd_key(struct rconn *rc, rconn_reply_cb cb, void *priv, const char *cmd,
                      const char *key, const char *const *rest, size_t n);

/* One read sent to every item shard, merged into one reply of the shape a
 * shard answers (store/fanout.c). Send each shard's command with
 * store_fanout_reply as the callback and store_fanout_arm(f) as its priv,
 * then store_fanout_sent(f, what the send returned); store_fanout_end()
 * after the last: CTX_OK, or an error when nothing was sent (then cb is
 * never called). cb gets the merged reply, NULL when any shard's was lost,
 * or the first error. */
enum store_merge {
    STORE_MERGE_CONCAT,     /* the arrays one after the other (HGETALL: readers add up) */
    STORE_MERGE_SUM,        /* integers added */
    STORE_MERGE_SCORES_UP,  /* member, score pairs: each member once, its highest score,
                               ascending (ZRANGEBYSCORE ... WITHSCORES) */
    STORE_MERGE_TOP,        /* the same, descending, members only, at most `limit` */
    STORE_MERGE_ALERTS,     /* alerts_read.lua: the state, each run's counts added */
    STORE_MERGE_FIGURES,    /* group_figures.lua: counts added, the oldest ages */
    STORE_MERGE_QUERY,      /* query.lua with scores: the newest `limit` of all, without
                               their scores, after the newest last id */
};
struct store_fanout;
struct store_fanout *store_fanout_new(unsigned n, enum store_merge how, long limit,
                                      rconn_reply_cb cb, void *priv);
void *store_fanout_arm(struct store_fanout *f);
void store_fanout_reply(struct rconn *rc, redisReply *r, void *priv);
void store_fanout_sent(struct store_fanout *f, ctx_err e);
ctx_err store_fanout_end(struct rconn *rc, struct store_fanout *f);

#endif
