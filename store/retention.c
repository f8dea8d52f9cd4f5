/* retention.c -- the store's side of retention: what the sweeper
 * (ctxd/retention.c) trims, and how, for what cannot expire by key.
 *
 * Hashes and lists expire where they are written (tag.lua, finish.lua,
 * abandon.lua, reply_settle.lua, chat_inbound.lua, the simhash pushes).
 * What holds many things of different ages -- the indexes, the seen-sets,
 * the streams -- is trimmed here, by age: every step is idempotent and
 * cheap when there is nothing to do, so a sweep that runs twice, or in two
 * processes, does no harm (the lease only saves the work).
 *
 * A stream is trimmed with XTRIM MINID, never past what one of its consumer
 * groups still needs: store_retain_minid() (pure) lowers the cutoff to the
 * entry after each group's last delivered id and to its oldest pending
 * entry. The groups are read first (XINFO GROUPS, then XPENDING for a group
 * with entries pending) and the trim sent after: in between a group can only
 * move forward (deliveries raise last-delivered-id, acks shrink the pending
 * list, claims keep ids), so what was computed stays safe. A stream whose
 * consumers' group does not exist yet (the analyze role never ran) is left
 * whole: its entries are work not yet done.
 *
 * Every script here touches one domain (store/KEYS.md, "Hash tags"): the
 * lease is control's ({c}) and alone; the items of open tasks are found in
 * routing ({r}) and extended in the pipeline ({i}), so that step is two
 * calls; the indexes and seen-sets are the pipeline's, and every trim of a
 * stream is a command on that stream alone. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "core/mem.h"
#include "store/store_internal.h"

/* ---- pure: stream ids and MINID --------------------------------------- */

static int parse_u64(const char *s, size_t n, unsigned long long *out)
{
    if (n == 0 || n > 20)
        return -1;
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (~0ULL - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int store_stream_id_parse(const char *s, unsigned long long *ms, unsigned long long *seq)
{
    if (!s)
        return -1;
    const char *dash = strchr(s, '-');
    size_t n = dash ? (size_t)(dash - s) : strlen(s);
    if (parse_u64(s, n, ms))
        return -1;
    *seq = 0;
    return dash ? parse_u64(dash + 1, strlen(dash + 1), seq) : 0;
}

struct sid {
    unsigned long long ms, seq;
};

static bool sid_less(struct sid a, struct sid b)
{
    return a.ms < b.ms || (a.ms == b.ms && a.seq < b.seq);
}

int store_retain_minid(long long cutoff_ms, const struct store_group_state *g, size_t n,
                       char out[STORE_ID_LEN])
{
    struct sid min = {cutoff_ms > 0 ? (unsigned long long)cutoff_ms : 0, 0}, x;
    for (size_t i = 0; i < n; i++) {
        if (store_stream_id_parse(g[i].last_delivered, &x.ms, &x.seq))
            return -1;
        /* keep what follows the last delivered entry */
        if (x.seq == ~0ULL)
            x.ms++, x.seq = 0;
        else
            x.seq++;
        if (sid_less(x, min))
            min = x;
        if (g[i].oldest_pending && g[i].oldest_pending[0]) {
            if (store_stream_id_parse(g[i].oldest_pending, &x.ms, &x.seq))
                return -1;
            if (sid_less(x, min))
                min = x;
        }
    }
    snprintf(out, STORE_ID_LEN, "%llu-%llu", min.ms, min.seq);
    return 0;
}

/* ---- the lease, open tasks' items, the indexes, the seen-sets ---------- */

static long long keep_ms(double seconds)
{
    return (long long)(seconds * 1000);
}

ctx_err store_retain_lease(struct rconn *rc, struct store *st, const char *what,
                           const char *owner, long long ms, rconn_reply_cb cb, void *priv)
{
    char key[STORE_KEY_LEN];
    return store_lease(rc, st, store_key_lease(key, sizeof key, what), owner, ms, cb, priv);
}

/* The open tasks are routing's ({r}), their items the pipeline's ({i}): a
 * call in two steps (store/twostep.c). retain_open.lua reads the item ids of
 * the open tasks, then retain_extend.lua is passed those items' hashes. A
 * task's item never changes, so there is nothing to re-check; a task opened
 * in between is seen by the next sweep. */
struct open {
    struct store_twostep base;
    char at[STORE_NUM_LEN];
};

static ctx_err open_read(struct rconn *rc, struct store_twostep *t, rconn_reply_cb cb)
{
    const struct config *cfg = t->st->cfg;
    size_t nk = 2 + cfg->nqueues;
    char (*k)[STORE_KEY_LEN] = ctx_calloc(cfg->nqueues + 1, sizeof *k);
    const char **keys = ctx_calloc(nk, sizeof *keys);
    keys[0] = KEY_OFFERS;
    keys[1] = KEY_AGENTS;
    for (size_t i = 0; i < cfg->nqueues; i++)
        keys[2 + i] = store_key_queue_waiting(k[i], STORE_KEY_LEN, cfg->queues[i].name);
    const char *args[] = {KEY_TASK_PREFIX, KEY_AGENT_PREFIX};
    ctx_err e = store_eval(rc, t->st, SCRIPT_RETAIN_OPEN, cb, t, keys, nk, args,
                           CTX_ARRAY_LEN(args));
    free(k);
    free(keys);
    return e;
}

/* retain_extend.lua on the items of `shard` among the n ids (every id when
 * there is one shard). */
static ctx_err extend_in(struct rconn *rc, struct open *o, const redisReply *rep,
                         unsigned shard, rconn_reply_cb cb, void *priv)
{
    struct store *st = o->base.st;
    unsigned shards = store_shards(st);
    size_t n = rep->elements, room = 0, nk = 0;
    for (size_t i = 0; i < n; i++)
        room += 64 + rep->element[i]->len;
    char *names = ctx_malloc(room + 1), *at = names;
    const char **keys = ctx_calloc(n + 1, sizeof *keys);
    for (size_t i = 0; i < n; i++) {
        const char *id = rep->element[i]->str;
        if (store_item_shard(id, shards) != shard)
            continue;
        size_t len = 64 + rep->element[i]->len;     /* any shard's domain + "item:" + id */
        keys[nk++] = store_key_item_in(at, len, shard, id);
        at += len;
    }
    const char *args[] = {o->at};
    ctx_err e = store_eval(rc, st, SCRIPT_RETAIN_EXTEND, cb, priv, keys, nk, args,
                           CTX_ARRAY_LEN(args));
    free(names);
    free(keys);
    return e;
}

static ctx_err open_call(struct rconn *rc, struct store_twostep *t, const redisReply *rep,
                         rconn_reply_cb cb)
{
    struct open *o = (struct open *)t;
    if (rep->type != REDIS_REPLY_ARRAY)
        return CTX_EREDIS;
    for (size_t i = 0; i < rep->elements; i++)
        if (rep->element[i]->type != REDIS_REPLY_STRING)
            return CTX_EREDIS;
    unsigned n = store_shards(t->st);
    if (n == 1)
        return extend_in(rc, o, rep, 0, cb, t);
    /* an item's hash is in its shard: one call per shard, the counts added
     * (an item stored under a smaller item_shards is not found: KEYS.md) */
    struct store_fanout *f = store_fanout_new(n, STORE_MERGE_SUM, 0, cb, t);
    for (unsigned s = 0; s < n; s++)
        store_fanout_sent(f, extend_in(rc, o, rep, s, store_fanout_reply, store_fanout_arm(f)));
    return store_fanout_end(rc, f);
}

ctx_err store_retain_open(struct rconn *rc, struct store *st, long long now, rconn_reply_cb cb,
                          void *priv)
{
    struct open *o = store_twostep_new(
        sizeof *o, &(struct store_twostep){.st = st, .read = open_read, .call = open_call,
                                           .cb = cb, .priv = priv});
    store_lld(o->at, now + keep_ms(st->cfg->retention.items));
    return store_twostep_start(rc, &o->base);
}

ctx_err store_retain_items(struct rconn *rc, struct store *st, unsigned shard, long long now,
                           int limit, rconn_reply_cb cb, void *priv)
{
    char cut[STORE_NUM_LEN], lim[STORE_NUM_LEN], all[STORE_KEY_LEN], prefix[STORE_KEY_LEN];
    const char *keys[] = {store_key_sharded(all, sizeof all, shard, KEYN_IDX_ALL)};
    const char *args[] = {store_lld(cut, now - keep_ms(st->cfg->retention.items)),
                          store_lld(lim, limit),
                          store_key_sharded(prefix, sizeof prefix, shard, KEYN_ITEM_PREFIX)};
    return STORE_EVAL(rc, st, SCRIPT_RETAIN_ITEMS, cb, priv, keys, args);
}

/* From the builders, with "*" for the variable parts: in a MATCH pattern
 * only * ? [ ] and \\ are special, so the tag's braces match themselves. */
const char *store_retain_pattern(enum store_retain_scan what, char *buf, size_t len)
{
    return store_retain_pattern_in(what, 0, buf, len);
}

const char *store_retain_pattern_in(enum store_retain_scan what, unsigned shard, char *buf,
                                    size_t len)
{
    if (what == STORE_SCAN_INDEXES)     /* every index but ctx:{i}:idx:all */
        return store_key_index_in(buf, len, shard, "*", "*");
    return store_key_seen_in(buf, len, shard, "*");
}

/* The pattern's {tag} sends SCAN to the shard's master (core/redis.c); on
 * one Redis the shards' patterns differ by their tag, so each SCAN finds
 * its own shard's keys only. */
ctx_err store_retain_scan(struct rconn *rc, struct store *st, enum store_retain_scan what,
                          unsigned shard, const char *cursor, rconn_reply_cb cb, void *priv)
{
    (void)st;
    char pattern[STORE_KEY_LEN];
    return rconn_cmd(rc, cb, priv, "SCAN %s MATCH %s COUNT 1000", cursor,
                     store_retain_pattern_in(what, shard, pattern, sizeof pattern));
}

ctx_err store_retain_key(struct rconn *rc, struct store *st, enum store_retain_scan what,
                         const char *key, long long now, rconn_reply_cb cb, void *priv)
{
    const struct config_retention *r = &st->cfg->retention;
    char a[STORE_NUM_LEN], b[STORE_NUM_LEN];
    if (what == STORE_SCAN_INDEXES)
        return rconn_cmd(rc, cb, priv, "ZREMRANGEBYSCORE %s -inf (%lld", key,
                         now - keep_ms(r->items));
    const char *keys[] = {key};
    const char *args[] = {store_lld(a, now), store_lld(b, keep_ms(r->seen))};
    return STORE_EVAL(rc, st, SCRIPT_RETAIN_SEEN, cb, priv, keys, args);
}

/* ---- the streams ------------------------------------------------------ */

#define KEEP(field) offsetof(struct config_retention, field)

static const struct {
    const char *key;
    size_t keep;            /* offset of its retention in struct config_retention */
    const char *group;      /* a group that must exist before anything goes, or NULL */
    bool group_if_routing;  /* ... only when queues are configured */
    const char *sharded;    /* an item shard's stream: its KEYN_ name (key is shard 0's) */
} streams[] = {
    {KEY_RAW, KEEP(items), GROUP_ANALYZE, false, KEYN_RAW},
    {KEY_TAGGED, KEEP(items), GROUP_ROUTE, true, KEYN_TAGGED},
    {KEY_OUTBOX, KEEP(replies), GROUP_POST, false, NULL},
    {KEY_ROUTING_EVENTS, KEEP(events), NULL, false, NULL},
    {KEY_AGENT_EVENTS, KEEP(events), NULL, false, NULL},
    {KEY_CHAT_EVENTS, KEEP(events), NULL, false, NULL},
    {KEY_REPLY_EVENTS, KEEP(events), NULL, false, NULL},
    {KEY_CONTROL, KEEP(events), NULL, false, NULL},
    {KEY_DEAD, KEEP(dead), NULL, false, KEYN_DEAD},
    {KEY_TAGGED_DEAD, KEEP(dead), NULL, false, KEYN_TAGGED_DEAD},
    {KEY_OUTBOX_DEAD, KEEP(dead), NULL, false, NULL},
};

bool store_retain_stream_sharded(size_t i)
{
    return i < CTX_ARRAY_LEN(streams) && streams[i].sharded;
}

size_t store_retain_nstreams(void)
{
    return CTX_ARRAY_LEN(streams);
}

const char *store_retain_stream_name(size_t i)
{
    return i < CTX_ARRAY_LEN(streams) ? streams[i].key : NULL;
}

long long store_retain_stream_ms(const struct store *st, size_t i)
{
    if (i >= CTX_ARRAY_LEN(streams))
        return 0;
    return keep_ms(*(const double *)((const char *)&st->cfg->retention + streams[i].keep));
}

/* One stream's trim in flight: its groups as read, then the pending reads. */
struct trim {
    struct store *st;
    char key[STORE_KEY_LEN];
    const char *need;               /* the group that must exist, or NULL */
    long long cutoff;
    store_trim_cb cb;
    void *priv;
    struct store_group_state *g;
    char (*ids)[2][STORE_ID_LEN];   /* g[i]'s last delivered and oldest pending */
    char (*names)[200];
    size_t n;
    size_t *asked, nasked, next;    /* groups whose oldest pending was asked, in order */
    unsigned waiting;
    bool failed;
};

static void trim_end(struct trim *t, long long trimmed)
{
    t->cb(trimmed, t->priv);
    free(t->g);
    free(t->ids);
    free(t->names);
    free(t->asked);
    free(t);
}

static void on_xtrim(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct trim *t = priv;
    if (rep && rep->type == REDIS_REPLY_ERROR)
        log_error("retention: XTRIM %s: %s", t->key, rep->str);
    trim_end(t, rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1);
}

static void trim_send(struct rconn *rc, struct trim *t)
{
    char minid[STORE_ID_LEN];
    if (t->failed || store_retain_minid(t->cutoff, t->g, t->n, minid)) {
        if (!t->failed)
            log_error("retention: %s: a group's ids cannot be read; not trimmed", t->key);
        trim_end(t, -1);
        return;
    }
    if (rconn_cmd(rc, on_xtrim, t, "XTRIM %s MINID = %s", t->key, minid))
        trim_end(t, -1);
}

static void on_pending(struct rconn *rc, redisReply *rep, void *priv)
{
    struct trim *t = priv;
    size_t i = t->asked[t->next++];
    /* XPENDING's summary: [count, oldest id, newest id, consumers] */
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2) {
        const redisReply *oldest = rep->element[1];
        if (oldest->type == REDIS_REPLY_STRING)
            snprintf(t->ids[i][1], STORE_ID_LEN, "%s", oldest->str);
    } else {
        if (rep && rep->type == REDIS_REPLY_ERROR)
            log_error("retention: XPENDING %s %s: %s", t->key, t->names[i], rep->str);
        t->failed = true;
    }
    if (--t->waiting == 0)
        trim_send(rc, t);
}

static const char *field(const redisReply *h, const char *name)
{
    for (size_t i = 0; h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
        if (h->element[i]->str && strcmp(h->element[i]->str, name) == 0)
            return h->element[i + 1]->type == REDIS_REPLY_STRING ? h->element[i + 1]->str : NULL;
    return NULL;
}

static long long field_int(const redisReply *h, const char *name)
{
    for (size_t i = 0; h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
        if (h->element[i]->str && strcmp(h->element[i]->str, name) == 0)
            return h->element[i + 1]->type == REDIS_REPLY_INTEGER ? h->element[i + 1]->integer
                                                                  : -1;
    return -1;
}

static void on_groups(struct rconn *rc, redisReply *rep, void *priv)
{
    struct trim *t = priv;
    if (!rep) {
        trim_end(t, -1);
        return;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        bool none = strstr(rep->str, "no such key") != NULL;   /* nothing to trim */
        if (!none)
            log_error("retention: XINFO GROUPS %s: %s", t->key, rep->str);
        trim_end(t, none ? 0 : -1);
        return;
    }
    if (rep->type != REDIS_REPLY_ARRAY) {
        trim_end(t, -1);
        return;
    }
    size_t n = rep->elements;
    t->g = ctx_calloc(n + 1, sizeof *t->g);
    t->ids = ctx_calloc(n + 1, sizeof *t->ids);
    t->names = ctx_calloc(n + 1, sizeof *t->names);
    t->asked = ctx_calloc(n + 1, sizeof *t->asked);
    bool found = !t->need;
    for (size_t i = 0; i < n; i++) {
        const redisReply *h = rep->element[i];
        const char *name = field(h, "name"), *last = field(h, "last-delivered-id");
        if (!name || !last) {
            log_error("retention: XINFO GROUPS %s: a group without name or last-delivered-id",
                      t->key);
            trim_end(t, -1);
            return;
        }
        found = found || strcmp(name, t->need) == 0;
        snprintf(t->names[i], sizeof t->names[i], "%s", name);
        snprintf(t->ids[i][0], STORE_ID_LEN, "%s", last);
        t->g[i].last_delivered = t->ids[i][0];
        t->g[i].oldest_pending = t->ids[i][1];
        if (field_int(h, "pending") != 0)    /* some, or unknown: ask */
            t->asked[t->nasked++] = i;
    }
    t->n = n;
    if (!found) {
        log_debug("retention: %s: group %s does not exist yet; not trimmed", t->key, t->need);
        trim_end(t, 0);
        return;
    }
    for (size_t k = 0; k < t->nasked; k++) {
        if (rconn_cmd(rc, on_pending, t, "XPENDING %s %s", t->key, t->names[t->asked[k]])) {
            t->failed = true;
            t->nasked = k;      /* those sent are answered; the rest never will be */
            break;
        }
        t->waiting++;
    }
    if (t->waiting == 0)
        trim_send(rc, t);
}

ctx_err store_retain_stream(struct rconn *rc, struct store *st, size_t i, unsigned shard,
                            long long now, store_trim_cb cb, void *priv)
{
    long long keep = store_retain_stream_ms(st, i);
    if (keep <= 0)
        return CTX_EINVAL;
    struct trim *t = ctx_calloc(1, sizeof *t);
    t->st = st;
    if (streams[i].sharded)
        store_key_sharded(t->key, sizeof t->key, shard, streams[i].sharded);
    else
        snprintf(t->key, sizeof t->key, "%s", streams[i].key);
    t->need = streams[i].group_if_routing && !st->cfg->nqueues ? NULL : streams[i].group;
    t->cutoff = now - keep;
    t->cb = cb;
    t->priv = priv;
    ctx_err e = rconn_cmd(rc, on_groups, t, "XINFO GROUPS %s", t->key);
    if (e)
        free(t);
    return e;
}
