/* fanout.c -- one read sent to every item shard, answered as one reply.
 *
 * With item_shards > 1 a trend bucket, the series registry or an alert
 * judge's input is spread over the shards (store/KEYS.md "Item shards"). A
 * read of them sends the same command to each shard, keeps a copy of each
 * reply (hiredis frees its own once the callback returns) and, when the last
 * is in, gives the caller one reply of the shape a single shard answers, so
 * the readers (ws/trends.c, ctxd/alerts.c) do not know there are shards. A
 * lost reply makes the whole answer lost (NULL), an error the first error. */
#include <stdlib.h>
#include <string.h>
#include "core/mem.h"
#include "store/store_internal.h"

struct store_fanout {
    enum store_merge how;
    long limit;
    rconn_reply_cb cb;
    void *priv;
    unsigned left;              /* replies to wait for, + 1 while sending */
    bool sent, lost;
    redisReply *error;          /* the first error reply (a copy) */
    redisReply **reps;          /* copies of the shards' replies, in arrival order */
    size_t nreps;
};

static redisReply *reply_new(int type)
{
    redisReply *r = ctx_calloc(1, sizeof *r);
    r->type = type;
    return r;
}

static redisReply *reply_str(const char *s, size_t len, int type)
{
    redisReply *r = reply_new(type);
    r->len = len;
    r->str = ctx_malloc(len + 1);
    memcpy(r->str, s, len);
    r->str[len] = '\0';
    return r;
}

static redisReply *reply_copy(const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY) {
        redisReply *c = r->str ? reply_str(r->str, r->len, r->type) : reply_new(r->type);
        c->integer = r->integer;
        return c;
    }
    redisReply *c = reply_new(REDIS_REPLY_ARRAY);
    c->elements = r->elements;
    c->element = r->elements ? ctx_calloc(r->elements, sizeof *c->element) : NULL;
    for (size_t i = 0; i < r->elements; i++)
        c->element[i] = reply_copy(r->element[i]);
    return c;
}

static void reply_free(redisReply *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
        reply_free(r->element[i]);
    free(r->element);
    free(r->str);
    free(r);
}

static void array_push(redisReply *a, redisReply *e)
{
    a->element = ctx_realloc(a->element, (a->elements + 1) * sizeof *a->element);
    a->element[a->elements++] = e;
}

/* member, score pairs of every reply: each member once with its highest score */
struct scored {
    const redisReply *member;
    double score;
};

static int by_score_up(const void *a, const void *b)
{
    double x = ((const struct scored *)a)->score, y = ((const struct scored *)b)->score;
    return x < y ? -1 : x > y;
}

static int by_score_down(const void *a, const void *b)
{
    return by_score_up(b, a);
}

static redisReply *merge_scored(struct store_fanout *f)
{
    size_t cap = 0, n = 0;
    for (size_t i = 0; i < f->nreps; i++)
        if (f->reps[i]->type == REDIS_REPLY_ARRAY)
            cap += f->reps[i]->elements / 2;
    struct scored *v = ctx_calloc(cap ? cap : 1, sizeof *v);
    for (size_t i = 0; i < f->nreps; i++) {
        const redisReply *r = f->reps[i];
        for (size_t k = 0; r->type == REDIS_REPLY_ARRAY && k + 1 < r->elements; k += 2) {
            const redisReply *m = r->element[k];
            double s = r->element[k + 1]->str ? strtod(r->element[k + 1]->str, NULL) : 0;
            size_t j;
            for (j = 0; j < n; j++)         /* a few hundred series at most */
                if (v[j].member->len == m->len && memcmp(v[j].member->str, m->str, m->len) == 0)
                    break;
            if (j == n)
                v[n++] = (struct scored){m, s};
            else if (s > v[j].score)
                v[j].score = s;
        }
    }
    bool top = f->how == STORE_MERGE_TOP;
    qsort(v, n, sizeof *v, top ? by_score_down : by_score_up);
    redisReply *out = reply_new(REDIS_REPLY_ARRAY);
    for (size_t j = 0; j < n && (!top || f->limit <= 0 || (long)j < f->limit); j++) {
        array_push(out, reply_copy(v[j].member));
        if (!top) {
            char s[STORE_NUM_LEN];
            store_dbl(s, v[j].score);
            array_push(out, reply_str(s, strlen(s), REDIS_REPLY_STRING));
        }
    }
    free(v);
    return out;
}

/* alerts_read.lua's {state, per run nil or its counts}: the state a shard
 * has (only shard 0 keeps one), each run's counts added bucket by bucket */
static redisReply *merge_alerts(struct store_fanout *f)
{
    redisReply *out = NULL;
    for (size_t i = 0; i < f->nreps; i++) {
        const redisReply *r = f->reps[i];
        if (r->type != REDIS_REPLY_ARRAY)
            continue;
        if (!out) {
            out = reply_copy(r);
            continue;
        }
        if (r->elements && r->element[0]->type == REDIS_REPLY_STRING &&
            out->elements && out->element[0]->type != REDIS_REPLY_STRING) {
            reply_free(out->element[0]);
            out->element[0] = reply_copy(r->element[0]);
        }
        for (size_t k = 1; k < r->elements && k < out->elements; k++) {
            const redisReply *run = r->element[k];
            redisReply *sum = out->element[k];
            if (run->type != REDIS_REPLY_ARRAY)
                continue;
            if (sum->type != REDIS_REPLY_ARRAY) {
                reply_free(sum);
                out->element[k] = reply_copy(run);
                continue;
            }
            for (size_t b = 0; b < run->elements && b < sum->elements; b++)
                sum->element[b]->integer += run->element[b]->integer;
        }
    }
    return out ? out : reply_new(REDIS_REPLY_NIL);
}

/* query.lua's {last tagged id, json, score, json, score...} of each shard:
 * the newest `limit` items of all, newest first, after the newest of the
 * last ids (each shard's stream ids are its master's clock: the newest is
 * the time the answer reaches; docs/monitor.md says how `since` uses it) */
struct hit {
    const redisReply *json;
    double score;
    size_t order;               /* shard, then place in its answer: a stable sort */
};

static int hit_newest_first(const void *a, const void *b)
{
    const struct hit *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static redisReply *merge_query(struct store_fanout *f)
{
    size_t cap = 0, n = 0;
    for (size_t i = 0; i < f->nreps; i++)
        if (f->reps[i]->type == REDIS_REPLY_ARRAY)
            cap += f->reps[i]->elements / 2;
    struct hit *h = ctx_calloc(cap ? cap : 1, sizeof *h);
    const redisReply *last = NULL;
    unsigned long long last_ms = 0, last_seq = 0;
    for (size_t i = 0; i < f->nreps; i++) {
        const redisReply *r = f->reps[i];
        if (r->type != REDIS_REPLY_ARRAY || r->elements < 1)
            continue;
        unsigned long long ms, seq;
        if (r->element[0]->str && store_stream_id_parse(r->element[0]->str, &ms, &seq) == 0 &&
            (!last || ms > last_ms || (ms == last_ms && seq > last_seq))) {
            last = r->element[0];
            last_ms = ms;
            last_seq = seq;
        }
        for (size_t k = 1; k + 1 < r->elements; k += 2)
            h[n++] = (struct hit){r->element[k],
                                  r->element[k + 1]->str ? strtod(r->element[k + 1]->str, NULL)
                                                         : 0,
                                  i * 100000 + k};
    }
    qsort(h, n, sizeof *h, hit_newest_first);
    redisReply *out = reply_new(REDIS_REPLY_ARRAY);
    array_push(out, last ? reply_copy(last) : reply_str("0-0", 3, REDIS_REPLY_STRING));
    for (size_t j = 0; j < n && (f->limit <= 0 || (long)j < f->limit); j++)
        array_push(out, reply_copy(h[j].json));
    free(h);
    return out;
}

/* group_figures.lua's {exists, length, dead, lag, pending, consumers, oldest
 * pending age, oldest unread age} of each shard's stream and group: the group
 * exists when every shard's does, counts add up (a lag Redis cannot tell in
 * one shard cannot be told for all), consumers are the most any shard has
 * (the same processes read every shard), ages are the oldest. */
static redisReply *merge_figures(struct store_fanout *f)
{
    long long v[8] = {1, 0, 0, 0, 0, 0, -1, -1};
    for (size_t i = 0; i < f->nreps; i++) {
        const redisReply *r = f->reps[i];
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 8)
            return reply_copy(r);       /* not figures: the reader says so */
        long long w[8];
        for (size_t k = 0; k < 8; k++)
            w[k] = r->element[k]->integer;
        bool empty = w[0] == 0 && w[1] == 0;    /* no stream in this shard yet */
        if (!empty && w[0] == 0)
            v[0] = 0;
        v[1] += w[1];
        v[2] += w[2];
        if (!empty)
            v[3] = v[3] < 0 || w[3] < 0 ? -1 : v[3] + w[3];
        v[4] += w[4];
        v[5] = w[5] > v[5] ? w[5] : v[5];
        v[6] = w[6] > v[6] ? w[6] : v[6];
        v[7] = w[7] > v[7] ? w[7] : v[7];
    }
    redisReply *out = reply_new(REDIS_REPLY_ARRAY);
    for (size_t k = 0; k < 8; k++) {
        redisReply *e = reply_new(REDIS_REPLY_INTEGER);
        e->integer = v[k];
        array_push(out, e);
    }
    return out;
}

static redisReply *merge(struct store_fanout *f)
{
    switch (f->how) {
    case STORE_MERGE_SUM: {
        redisReply *out = reply_new(REDIS_REPLY_INTEGER);
        for (size_t i = 0; i < f->nreps; i++)
            out->integer += f->reps[i]->integer;
        return out;
    }
    case STORE_MERGE_SCORES_UP:
    case STORE_MERGE_TOP:
        return merge_scored(f);
    case STORE_MERGE_ALERTS:
        return merge_alerts(f);
    case STORE_MERGE_QUERY:
        return merge_query(f);
    case STORE_MERGE_FIGURES:
        return merge_figures(f);
    case STORE_MERGE_CONCAT:
        break;
    }
    redisReply *out = reply_new(REDIS_REPLY_ARRAY);
    for (size_t i = 0; i < f->nreps; i++)
        for (size_t k = 0; f->reps[i]->type == REDIS_REPLY_ARRAY && k < f->reps[i]->elements; k++)
            array_push(out, reply_copy(f->reps[i]->element[k]));
    return out;
}

static void finish(struct rconn *rc, struct store_fanout *f)
{
    if (f->cb) {
        if (f->lost) {
            f->cb(rc, NULL, f->priv);
        } else if (f->error) {
            f->cb(rc, f->error, f->priv);
        } else {
            redisReply *m = merge(f);
            f->cb(rc, m, f->priv);
            reply_free(m);
        }
    }
    for (size_t i = 0; i < f->nreps; i++)
        reply_free(f->reps[i]);
    free(f->reps);
    reply_free(f->error);
    free(f);
}

struct store_fanout *store_fanout_new(unsigned n, enum store_merge how, long limit,
                                      rconn_reply_cb cb, void *priv)
{
    struct store_fanout *f = ctx_calloc(1, sizeof *f);
    f->how = how;
    f->limit = limit;
    f->cb = cb;
    f->priv = priv;
    f->left = 1;
    f->reps = ctx_calloc(n ? n : 1, sizeof *f->reps);
    return f;
}

void store_fanout_reply(struct rconn *rc, redisReply *r, void *priv)
{
    struct store_fanout *f = priv;
    if (!r)
        f->lost = true;
    else if (r->type == REDIS_REPLY_ERROR && !f->error)
        f->error = reply_copy(r);
    else if (r->type != REDIS_REPLY_ERROR)
        f->reps[f->nreps++] = reply_copy(r);
    if (--f->left == 0)
        finish(rc, f);
}

void *store_fanout_arm(struct store_fanout *f)
{
    f->left++;                  /* before the send: a reply can never find f freed */
    return f;
}

void store_fanout_sent(struct store_fanout *f, ctx_err e)
{
    if (e) {
        f->left--;              /* held by the caller still: never 0 here */
        f->lost = true;
        return;
    }
    f->sent = true;
}

ctx_err store_fanout_end(struct rconn *rc, struct store_fanout *f)
{
    if (!f->sent) {             /* nothing went: the caller is told now, cb never */
        f->cb = NULL;
        finish(rc, f);
        return CTX_EREDIS;
    }
    if (--f->left == 0)
        finish(rc, f);
    return CTX_OK;
}
