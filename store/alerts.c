/* alerts.c -- the store side of spike alerts (ctxd/alerts.c judges, ws/alerts.c
 * lists): the trend buckets the detector reads, its state, the alerts
 * stream (also the push stream every serve node follows), the counts for
 * /metrics, and the lease that lets one process judge at a time. All keys
 * are in {i}, next to the counters they read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/store.h"
#include "core/mem.h"
#include "store/store_internal.h"

ctx_err store_alerts_lease(struct rconn *rc, struct store *st, const char *owner,
                           long long ttl_ms, rconn_reply_cb cb, void *priv)
{
    return store_lease(rc, st, KEY_ALERTS_LEASE, owner, ttl_ms, cb, priv);
}

ctx_err store_alerts_series(struct rconn *rc, struct store *st, long long since_ms, int limit,
                            rconn_reply_cb cb, void *priv)
{
    unsigned n = store_shards(st);
    if (n == 1)
        return rconn_cmd(rc, cb, priv, "ZREVRANGEBYSCORE %s +inf %lld LIMIT 0 %d",
                         KEY_TREND_SERIES, since_ms, limit);
    /* the registry is per shard: each shard's newest `limit`, merged, the newest `limit` */
    struct store_fanout *f = store_fanout_new(n, STORE_MERGE_TOP, limit, cb, priv);
    char key[STORE_KEY_LEN];
    for (unsigned s = 0; s < n; s++)
        store_fanout_sent(f, rconn_cmd(rc, store_fanout_reply, store_fanout_arm(f),
                                       "ZREVRANGEBYSCORE %s +inf %lld WITHSCORES LIMIT 0 %d",
                                       store_key_sharded(key, sizeof key, s, KEYN_TREND_SERIES),
                                       since_ms, limit));
    return store_fanout_end(rc, f);
}

/* alerts_read.lua in one shard: the state key is shard 0's only (the judge's
 * state is kept there); another shard is passed its own name for it, which
 * holds nothing, so the script stays in one slot. */
static ctx_err alerts_read_in(struct rconn *rc, struct store *st, unsigned shard,
                              const char *series, const struct store_trend_seg *segs, size_t n,
                              rconn_reply_cb cb, void *priv);

ctx_err store_alerts_read(struct rconn *rc, struct store *st, const char *series,
                          const struct store_trend_seg *segs, size_t n, rconn_reply_cb cb,
                          void *priv)
{
    unsigned shards = store_shards(st);
    if (shards == 1)
        return alerts_read_in(rc, st, 0, series, segs, n, cb, priv);
    struct store_fanout *f = store_fanout_new(shards, STORE_MERGE_ALERTS, 0, cb, priv);
    for (unsigned s = 0; s < shards; s++)
        store_fanout_sent(f, alerts_read_in(rc, st, s, series, segs, n, store_fanout_reply,
                                            store_fanout_arm(f)));
    return store_fanout_end(rc, f);
}

static ctx_err alerts_read_in(struct rconn *rc, struct store *st, unsigned shard,
                              const char *series, const struct store_trend_seg *segs, size_t n,
                              rconn_reply_cb cb, void *priv)
{
    size_t nkeys = n + 1, nargs = 1 + 2 * n;
    const char **keys = ctx_calloc(nkeys, sizeof *keys), **args = ctx_calloc(nargs, sizeof *args);
    char (*kb)[STORE_KEY_LEN] = ctx_calloc(n ? n : 1, sizeof *kb);
    char (*ab)[24] = ctx_calloc(2 * n + 1, sizeof *ab);
    char state[STORE_KEY_LEN];
    keys[0] = store_key_sharded(state, sizeof state, shard, "alerts:state");
    args[0] = series;
    for (size_t i = 0; i < n; i++) {
        const struct store_trend_seg *s = &segs[i];
        long long unit = s->bucket == STORE_TREND_MINUTE ? 60000LL
                         : s->bucket == STORE_TREND_HOUR ? 3600000LL : 86400000LL;
        keys[i + 1] = store_key_trend_in(kb[i], sizeof kb[i], shard, s->bucket, series,
                                         s->first * unit);
        snprintf(ab[2 * i], sizeof ab[0], "%lld", s->first);
        snprintf(ab[2 * i + 1], sizeof ab[0], "%lld", s->last);
        args[1 + 2 * i] = ab[2 * i];
        args[2 + 2 * i] = ab[2 * i + 1];
    }
    ctx_err e = store_eval(rc, st, SCRIPT_ALERTS_READ, cb, priv, keys, nkeys, args, nargs);
    free(keys);
    free(args);
    free(kb);
    free(ab);
    return e;
}

ctx_err store_alerts_apply(struct rconn *rc, struct store *st, const char *series,
                           long long minute, const char *state, const char *alert,
                           rconn_reply_cb cb, void *priv)
{
    char m[24];
    snprintf(m, sizeof m, "%lld", minute);
    const char *keys[] = {KEY_ALERTS_STATE, KEY_ALERTS, KEY_ALERTS_COUNT};
    const char *args[] = {series, m, state, alert ? alert : "", ALERTS_STREAM_CAP};
    return STORE_EVAL(rc, st, SCRIPT_ALERTS_APPLY, cb, priv, keys, args);
}

ctx_err store_alerts_list(struct rconn *rc, struct store *st, long long since_ms, int limit,
                          rconn_reply_cb cb, void *priv)
{
    (void)st;
    return rconn_cmd(rc, cb, priv, "XREVRANGE %s + %lld COUNT %d", KEY_ALERTS,
                     since_ms < 0 ? 0 : since_ms, limit);
}

ctx_err store_alerts_counts(struct rconn *rc, struct store *st, rconn_reply_cb cb, void *priv)
{
    (void)st;
    return rconn_cmd(rc, cb, priv, "HGETALL %s", KEY_ALERTS_COUNT);
}
