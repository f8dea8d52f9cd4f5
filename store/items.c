/* items.c -- collected and tagged items in Redis: adding raw items
 * (add_raw.lua), storing tagged ones with their indexes (tag.lua), querying
 * them (query.lua), the near-duplicate fingerprint lists, dead letters and
 * the sources' poll state. Each function builds its keys (store/keys.c) and
 * arguments; the index keys of an item are named here only. With item
 * shards, an item's keys are those of its shard (store_item_shard()), and a
 * query runs in every shard, merged (store/fanout.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/store_internal.h"

ctx_err store_add_raw_in(struct rconn *rc, struct store *st, unsigned shard, const char *source,
                         const char *const *ids, const char *const *jsons, size_t n,
                         rconn_reply_cb cb, void *priv)
{
    if (n == 0 || n > STORE_ADD_RAW_MAX)
        return CTX_EINVAL;
    char skey[STORE_KEY_LEN], raw[STORE_KEY_LEN], now[STORE_NUM_LEN];
    const char *keys[] = {store_key_seen_in(skey, sizeof skey, shard, source),
                          store_key_sharded(raw, sizeof raw, shard, KEYN_RAW)};
    /* add_raw.lua's arguments: the first item, the cap and the time, the others */
    const char *args[2 * STORE_ADD_RAW_MAX + 2];
    size_t na = 0;
    args[na++] = ids[0];
    args[na++] = jsons[0];
    args[na++] = RAW_STREAM_CAP;
    args[na++] = store_lld(now, ctx_now_ms());
    for (size_t i = 1; i < n; i++) {
        args[na++] = ids[i];
        args[na++] = jsons[i];
    }
    return store_eval(rc, st, SCRIPT_ADD_RAW, cb, priv, keys, CTX_ARRAY_LEN(keys), args, na);
}

ctx_err store_tag(struct rconn *rc, struct store *st, const struct store_tagged *t,
                  rconn_reply_cb cb, void *priv)
{
    struct store_trend_args *ta = ctx_malloc(sizeof *ta);
    store_trend_args(ta, t, st && st->cfg ? &st->cfg->trends : NULL, ctx_now_ms());
    size_t nidx = 3 + t->nbrands + t->ntopics + t->nreasons;
    size_t nk = 3 + nidx + (ta->n ? 1 : 0);
    char (*k)[STORE_KEY_LEN] = ctx_calloc(nk, sizeof *k);
    const char **keys = ctx_calloc(nk, sizeof *keys);
    size_t n = 0;
    /* every key in the shard of the raw stream the entry came from */
    unsigned sh = t->shard;
    keys[n] = store_key_sharded(k[n], sizeof k[n], sh, KEYN_RAW), n++;
    keys[n] = store_key_item_in(k[n], sizeof k[n], sh, t->id), n++;
    keys[n] = store_key_sharded(k[n], sizeof k[n], sh, KEYN_TAGGED), n++;
    keys[n] = store_key_sharded(k[n], sizeof k[n], sh, KEYN_IDX_ALL), n++;
    keys[n] = store_key_index_in(k[n], sizeof k[n], sh, "sentiment", t->sentiment), n++;
    keys[n] = store_key_index_in(k[n], sizeof k[n], sh, "complaint",
                                 t->complaint ? "true" : "false"), n++;
    for (size_t i = 0; i < t->nbrands; i++, n++)
        keys[n] = store_key_index_in(k[n], sizeof k[n], sh, "brand", t->brands[i]);
    for (size_t i = 0; i < t->ntopics; i++, n++)
        keys[n] = store_key_index_in(k[n], sizeof k[n], sh, "topic", t->topics[i]);
    for (size_t i = 0; i < t->nreasons; i++, n++)
        keys[n] = store_key_index_in(k[n], sizeof k[n], sh, "reason", t->reasons[i]);
    /* retention: the hash goes `items` after it is tagged (or published, if later); an
     * item published longer ago than that is kept out of the indexes */
    long long now = ctx_now_ms(), keep = (long long)(st->cfg->retention.items * 1000);
    long long at = keep ? (t->published > now ? t->published : now) + keep : 0;
    /* the trend counters: the pending list and the item's record */
    size_t na = 10;
    const char **args = ctx_calloc(na, sizeof *args);
    char score[STORE_NUM_LEN], nidx_s[STORE_NUM_LEN];
    char ats[STORE_NUM_LEN], floor[STORE_NUM_LEN];
    const char *fixed[] = {GROUP_ANALYZE, t->sid, t->id, t->json, store_lld(score, t->published),
                           TAGGED_STREAM_CAP, store_lld(nidx_s, (long long)nidx),
                           store_lld(ats, at), store_lld(floor, keep ? now - keep : 0)};
    memcpy(args, fixed, sizeof fixed);
    if (ta->n) {
        keys[n] = store_key_sharded(k[n], sizeof k[n], sh, KEYN_TREND_PENDING), n++;
        args[9] = buf_str(&ta->record);
    } else {
        na = CTX_ARRAY_LEN(fixed);
    }
    ctx_err e = store_eval(rc, st, SCRIPT_TAG, cb, priv, keys, n, args, na);
    free(args);
    free(k);
    free(keys);
    buf_free(&ta->record);
    free(ta);
    return e;
}

static ctx_err query_in(struct rconn *rc, struct store *st, unsigned sh,
                        const struct store_query *q, rconn_reply_cb cb, void *priv)
{
    /* keys: the tagged stream, then one index per filter given */
    static const char *const dims[] = {"brand", "topic", "sentiment", "complaint", "reason"};
    const char *vals[] = {q->brand, q->topic, q->sentiment, q->complaint, q->reason};
    char idx[1 + CTX_ARRAY_LEN(dims)][STORE_KEY_LEN], prefix[STORE_KEY_LEN];
    const char *keys[1 + CTX_ARRAY_LEN(dims)];
    size_t n = 0;
    keys[n] = store_key_sharded(idx[n], sizeof idx[n], sh, KEYN_TAGGED), n++;
    for (size_t i = 0; i < CTX_ARRAY_LEN(dims); i++)
        if (vals[i] && vals[i][0])
            keys[n] = store_key_index_in(idx[n], sizeof idx[n], sh, dims[i], vals[i]), n++;
    if (n == 1)
        keys[n] = store_key_sharded(idx[n], sizeof idx[n], sh, KEYN_IDX_ALL), n++;
    store_key_sharded(prefix, sizeof prefix, sh, KEYN_ITEM_PREFIX);
    char lim[STORE_NUM_LEN];
    const char *args[] = {"+inf", q->min, store_lld(lim, q->limit),
                          q->brand ? q->brand : "", q->topic ? q->topic : "",
                          q->sentiment ? q->sentiment : "", q->complaint ? q->complaint : "",
                          q->reason ? q->reason : "", prefix,
                          store_shards(st) > 1 ? "1" : "0"};
    return store_eval(rc, st, SCRIPT_QUERY, cb, priv, keys, n, args, CTX_ARRAY_LEN(args));
}

ctx_err store_query(struct rconn *rc, struct store *st, const struct store_query *q,
                    rconn_reply_cb cb, void *priv)
{
    unsigned n = store_shards(st);
    if (n == 1)
        return query_in(rc, st, 0, q, cb, priv);
    /* each shard's newest `limit`, then the newest `limit` of them all */
    struct store_fanout *f = store_fanout_new(n, STORE_MERGE_QUERY, q->limit, cb, priv);
    for (unsigned s = 0; s < n; s++)
        store_fanout_sent(f, query_in(rc, st, s, q, store_fanout_reply, store_fanout_arm(f)));
    return store_fanout_end(rc, f);
}

/* A band's list is only ever touched alone, so it may live in any shard: the
 * bands are spread over the shards (band mod N) rather than all adding to
 * shard 0's master, which also holds the alerts and the sources. */
static char *simhash_key(char *buf, size_t len, struct store *st, unsigned band)
{
    return store_key_simhash_in(buf, len, band % store_shards(st), band);
}

ctx_err store_simhash_band(struct rconn *rc, struct store *st, unsigned band, int keep,
                           rconn_reply_cb cb, void *priv)
{
    char key[STORE_KEY_LEN];
    return rconn_cmd(rc, cb, priv, "LRANGE %s 0 %d", simhash_key(key, sizeof key, st, band),
                     keep - 1);
}

void store_simhash_add(struct rconn *rc, struct store *st, unsigned band, const char *entry,
                       int keep)
{
    char key[STORE_KEY_LEN];
    simhash_key(key, sizeof key, st, band);
    rconn_cmd(rc, NULL, NULL, "LPUSH %s %s", key, entry);
    rconn_cmd(rc, NULL, NULL, "LTRIM %s 0 %d", key, keep - 1);
    /* retention: a band list goes `simhash` after its last push */
    long long ms = (long long)(st->cfg->retention.simhash * 1000);
    if (ms > 0)
        rconn_cmd(rc, NULL, NULL, "PEXPIRE %s %lld", key, ms);
}

void store_raw_dead(struct rconn *rc, struct store *st, unsigned shard, const char *sid,
                    const char *why, const char *payload)
{
    (void)st;
    char dead[STORE_KEY_LEN], raw[STORE_KEY_LEN];
    store_key_sharded(dead, sizeof dead, shard, KEYN_DEAD);
    store_key_sharded(raw, sizeof raw, shard, KEYN_RAW);
    /* in order on one connection: the ack only follows a stored dead letter */
    rconn_cmd(rc, NULL, NULL, "XADD %s MAXLEN ~ 10000 * raw_id %s reason %s payload %s",
              dead, sid, why, payload ? payload : "");
    rconn_cmd(rc, NULL, NULL, "XACK %s %s %s", raw, GROUP_ANALYZE, sid);
    rconn_cmd(rc, NULL, NULL, "XDEL %s %s", raw, sid);
}

ctx_err store_source_set(struct rconn *rc, struct store *st, const char *source,
                         const char *const *fv, size_t n)
{
    (void)st;
    char key[STORE_KEY_LEN];
    if (n == 0 || n % 2)
        return CTX_EINVAL;
    return store_cmd_key(rc, NULL, NULL, "HSET", store_key_source(key, sizeof key, source), fv,
                         n);
}

ctx_err store_source_incr(struct rconn *rc, struct store *st, const char *source,
                          const char *field, long long by)
{
    (void)st;
    char key[STORE_KEY_LEN];
    return rconn_cmd(rc, NULL, NULL, "HINCRBY %s %s %lld",
                     store_key_source(key, sizeof key, source), field, by);
}

/* An item's JSON with item shards: its shard by its id first; if it is not
 * there, the other shards one by one, since an item stored before
 * item_shards was raised stays in the shard of the old count (store/KEYS.md
 * "Item shards": raising the count is an operator step, and a miss costs a
 * round trip per shard). */
struct item_lookup {
    struct store *st;
    rconn_reply_cb cb;
    void *priv;
    unsigned home, tried, n;
    char id[];
};

static ctx_err item_lookup_next(struct rconn *rc, struct item_lookup *l);

static void on_item_json(struct rconn *rc, redisReply *rep, void *priv)
{
    struct item_lookup *l = priv;
    if (rep && rep->type == REDIS_REPLY_NIL && l->tried < l->n &&
        item_lookup_next(rc, l) == CTX_OK)
        return;
    l->cb(rc, rep, l->priv);
    free(l);
}

static ctx_err item_lookup_next(struct rconn *rc, struct item_lookup *l)
{
    /* home, then home+1, home+2... (mod n) */
    unsigned shard = (l->home + l->tried++) % l->n;
    char key[STORE_KEY_LEN];
    return rconn_cmd(rc, on_item_json, l, "HGET %s json",
                     store_key_item_in(key, sizeof key, shard, l->id));
}

ctx_err store_item_json(struct rconn *rc, struct store *st, const char *id, rconn_reply_cb cb,
                        void *priv)
{
    size_t len = strlen(id ? id : "");
    struct item_lookup *l = ctx_calloc(1, sizeof *l + len + 1);
    l->st = st;
    l->cb = cb;
    l->priv = priv;
    l->n = store_shards(st);
    l->home = store_item_shard(id, l->n);
    memcpy(l->id, id ? id : "", len);
    ctx_err e = item_lookup_next(rc, l);
    if (e)
        free(l);
    return e;
}

/* Every ctxd sharing a Redis must cut items alike, or some write where
 * others never read: the first to come up records its count, and one whose
 * count differs says so on each connection (store/KEYS.md "Item shards"). */
static void on_shards_recorded(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    unsigned n = (unsigned)(uintptr_t)priv;
    if (rep && rep->type == REDIS_REPLY_STRING && strtoul(rep->str, NULL, 10) != n)
        log_error("item_shards is %u here but %s in %s, set by the first ctxd: every ctxd "
                  "sharing a Redis needs the same (after changing it on purpose, SET the key "
                  "to the new count)", n, rep->str, KEY_ITEM_SHARDS);
}

void store_shards_check(struct rconn *rc, struct store *st)
{
    unsigned n = store_shards(st);
    rconn_cmd(rc, on_shards_recorded, (void *)(uintptr_t)n, "SET %s %u NX GET",
              KEY_ITEM_SHARDS, n);
}
