/* retention.c -- the retention sweeper, run with the analyze or the route
 * role: every retention.sweep_every it trims what cannot expire by key
 * (what can is given a TTL by the script that writes it; docs/operations.md,
 * "Retention"):
 *
 *   1. the items of open tasks are given `items` more from now, so none
 *      vanishes under an agent (read in routing by retain_open.lua, then
 *      extended in the items domain by retain_extend.lua);
 *   2. once that is done, ctx:{i}:idx:all loses the items published more
 *      than `items` ago, and with them the hashes stored before retention
 *      existed (no TTL);
 *   3. the other indexes and the seen-sets, found by SCAN, are trimmed by
 *      score: a bounded number of SCAN steps per sweep, the cursor kept
 *      between sweeps, so a large key space costs each sweep the same;
 *   4. each stream is trimmed to its MINID, never past an entry one of its
 *      consumer groups has not been delivered or still has pending.
 *
 * With item_shards, steps 2 to 4 run in every shard (each shard's index,
 * keys and streams are its own), and step 1 extends each item in its shard.
 *
 * Every step is idempotent; a lease (ctx:{c}:lease:retention, taken or
 * renewed at each sweep, lasting three sweeps) lets one process at a time do them,
 * and another takes over when its holder stops. Sweeps never overlap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "ctxd/roles.h"

#define SCAN_STEPS 32           /* SCAN calls (COUNT 1000) per kind and sweep */
#define ITEMS_LIMIT 1000        /* entries of the index of all items per call ... */
#define ITEMS_ROUNDS 20         /* ... and calls per sweep */

struct retention;

struct scan {
    struct retention *r;
    enum store_retain_scan what;
    unsigned shard;
    char cursor[32];            /* where the pass goes on ("0": a new pass) */
    int steps;
};

/* One shard's index of all items: calls in this sweep. */
struct items_lane {
    struct retention *r;
    unsigned shard;
    int rounds;
};

struct retention {
    const struct config *cfg;
    struct store *st;
    struct rconn *rc;
    uv_timer_t *timer;
    char owner[200];
    bool sweeping, stopping;
    unsigned pending;           /* commands of this sweep in flight */
    long long now;
    unsigned nshards;
    struct items_lane items[STORE_SHARDS_MAX];  /* the index of all items, per shard */
    struct scan scans[2 * STORE_SHARDS_MAX];   /* indexes and seen-sets, per shard */
    struct {
        long long items, indexes, seen, extended, entries;
        unsigned failed;
    } did;
    unsigned long long sweeps;
};

static void sweep_done(struct retention *r)
{
    r->sweeping = false;
    r->sweeps++;
    if (r->stopping) {          /* its replies lost to the stop, not failed */
        log_debug("retention: sweep %llu cut short by the stop", r->sweeps);
        return;
    }
    if (r->did.items || r->did.indexes || r->did.seen || r->did.entries || r->did.failed)
        log_info("retention: sweep %llu: %lld items left the index, %lld other index entries, "
                 "%lld seen ids, %lld stream entries trimmed; %lld items of open tasks "
                 "extended%s", r->sweeps, r->did.items, r->did.indexes, r->did.seen,
                 r->did.entries, r->did.extended, r->did.failed ? "; some steps failed" : "");
    else
        log_debug("retention: sweep %llu: nothing to trim (%lld items of open tasks extended)",
                  r->sweeps, r->did.extended);
}

/* One command of the sweep answered (or lost). */
static void step_done(struct retention *r)
{
    if (--r->pending == 0)
        sweep_done(r);
}

/* Counts a command as sent, or the failure to send it. */
static void sent(struct retention *r, ctx_err e)
{
    if (e)
        r->did.failed++;
    else
        r->pending++;
}

static long long count_of(struct retention *r, const redisReply *rep, const char *what)
{
    if (rep && rep->type == REDIS_REPLY_INTEGER)
        return rep->integer;
    if (rep && rep->type == REDIS_REPLY_ERROR)
        log_error("retention: %s: %s", what, rep->str);
    r->did.failed++;
    return 0;
}

static void on_items(struct rconn *rc, redisReply *rep, void *priv);

/* The items stored without an expiry are forgotten only once the open tasks'
 * items have theirs: not at all in a sweep where that failed. */
static void on_extended(struct rconn *rc, redisReply *rep, void *priv)
{
    struct retention *r = priv;
    bool ok = rep && rep->type == REDIS_REPLY_INTEGER;
    r->did.extended += count_of(r, rep, "open tasks' items");
    for (unsigned i = 0; ok && !r->stopping && i < r->nshards; i++)
        sent(r, store_retain_items(rc, r->st, i, r->now, ITEMS_LIMIT, on_items, &r->items[i]));
    step_done(r);
}

static void on_items(struct rconn *rc, redisReply *rep, void *priv)
{
    struct items_lane *it = priv;
    struct retention *r = it->r;
    long long n = count_of(r, rep, "the index of all items");
    r->did.items += n;
    if (n == ITEMS_LIMIT && ++it->rounds < ITEMS_ROUNDS && !r->stopping)
        sent(r, store_retain_items(rc, r->st, it->shard, r->now, ITEMS_LIMIT, on_items, it));
    step_done(r);
}

static void on_key(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct scan *s = priv;
    long long n = count_of(s->r, rep, s->what == STORE_SCAN_INDEXES ? "index" : "seen-set");
    if (s->what == STORE_SCAN_INDEXES)
        s->r->did.indexes += n;
    else
        s->r->did.seen += n;
    step_done(s->r);
}

static void on_scan(struct rconn *rc, redisReply *rep, void *priv)
{
    struct scan *s = priv;
    struct retention *r = s->r;
    /* [next cursor, [keys]] */
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
        rep->element[0]->type == REDIS_REPLY_STRING &&
        rep->element[1]->type == REDIS_REPLY_ARRAY) {
        const redisReply *keys = rep->element[1];
        for (size_t i = 0; i < keys->elements && !r->stopping; i++)
            if (keys->element[i]->type == REDIS_REPLY_STRING)
                sent(r, store_retain_key(rc, r->st, s->what, keys->element[i]->str, r->now,
                                         on_key, s));
        snprintf(s->cursor, sizeof s->cursor, "%s", rep->element[0]->str);
        if (strcmp(s->cursor, "0") != 0 && ++s->steps < SCAN_STEPS && !r->stopping)
            sent(r, store_retain_scan(rc, r->st, s->what, s->shard, s->cursor, on_scan, s));
    } else {
        if (rep && rep->type == REDIS_REPLY_ERROR)
            log_error("retention: SCAN: %s", rep->str);
        r->did.failed++;
        snprintf(s->cursor, sizeof s->cursor, "0");
    }
    step_done(r);
}

static void on_trimmed(long long n, void *priv)
{
    struct retention *r = priv;
    if (n < 0)
        r->did.failed++;
    else
        r->did.entries += n;
    step_done(r);
}

static void sweep(struct retention *r)
{
    const struct config_retention *keep = &r->cfg->retention;
    struct rconn *rc = r->rc;
    r->now = ctx_now_ms();
    memset(&r->did, 0, sizeof r->did);
    for (unsigned i = 0; i < r->nshards; i++)
        r->items[i].rounds = 0;
    r->pending = 1;             /* held until every first step is sent */
    if (keep->items > 0)        /* then the index of all items (on_extended) */
        sent(r, store_retain_open(rc, r->st, r->now, on_extended, r));
    for (unsigned k = 0; k < 2 * r->nshards; k++) {
        struct scan *s = &r->scans[k];
        if (s->what == STORE_SCAN_INDEXES ? keep->items > 0 : keep->seen > 0) {
            s->steps = 0;
            sent(r, store_retain_scan(rc, r->st, s->what, s->shard, s->cursor, on_scan, s));
        }
    }
    for (size_t i = 0; i < store_retain_nstreams(); i++)
        for (unsigned sh = 0; sh < (store_retain_stream_sharded(i) ? r->nshards : 1); sh++)
            if (store_retain_stream_ms(r->st, i) > 0)
                sent(r, store_retain_stream(rc, r->st, i, sh, r->now, on_trimmed, r));
    step_done(r);
}

static void on_lease(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct retention *r = priv;
    if (rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1 && !r->stopping) {
        sweep(r);
        return;
    }
    if (rep && rep->type == REDIS_REPLY_ERROR)
        log_error("retention: lease: %s", rep->str);
    r->sweeping = false;        /* another process sweeps, or Redis is away */
}

static void tick(uv_timer_t *t)
{
    struct retention *r = t->data;
    if (r->sweeping || r->stopping || !rconn_up(r->rc))
        return;
    long long lease = (long long)(r->cfg->retention.sweep_every * 3000);
    if (store_retain_lease(r->rc, r->st, "retention", r->owner, lease < 1000 ? 1000 : lease,
                           on_lease, r) == CTX_OK)
        r->sweeping = true;
}

ctx_err retention_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
                        struct retention **out)
{
    struct retention *r = ctx_calloc(1, sizeof *r);
    r->cfg = cfg;
    r->st = st;
    char consumer[128];
    store_consumer_name(cfg, consumer, sizeof consumer);
    snprintf(r->owner, sizeof r->owner, "%s:%d", consumer, (int)getpid());
    r->nshards = store_shards(st);
    for (unsigned k = 0; k < 2 * r->nshards; k++) {
        r->scans[k] = (struct scan){.r = r, .what = k % 2 ? STORE_SCAN_SEEN : STORE_SCAN_INDEXES,
                                    .shard = k / 2};
        snprintf(r->scans[k].cursor, sizeof r->scans[k].cursor, "0");
    }
    for (unsigned i = 0; i < r->nshards; i++) {
        r->items[i].r = r;
        r->items[i].shard = i;
    }
    ctx_err e = store_conn_new(st, "retention", NULL, NULL, &r->rc);
    if (e) {
        free(r);
        return e;
    }
    r->timer = ctx_malloc(sizeof *r->timer);
    uv_timer_init(loop, r->timer);
    r->timer->data = r;
    uint64_t every = (uint64_t)(cfg->retention.sweep_every * 1000);
    uv_timer_start(r->timer, tick, every, every ? every : 1);
    const struct config_retention *k = &cfg->retention;
    log_info("retention: items %gs, tasks %gs, replies %gs, seen %gs, simhash %gs, "
             "events %gs, dead letters %gs (0: kept); sweeping every %gs", k->items, k->tasks,
             k->replies, k->seen, k->simhash, k->events, k->dead, k->sweep_every);
    *out = r;
    return CTX_OK;
}

static void timer_free(uv_handle_t *h)
{
    free(h);
}

void retention_stop(struct retention *r)
{
    if (!r)
        return;
    r->stopping = true;
    rconn_free(r->rc);          /* a sweep in flight is called back now, and ends */
    uv_close((uv_handle_t *)r->timer, timer_free);
    free(r);
}
