/* health.c -- the pipeline's streams as one table (stream, consumer group,
 * dead letters), how far each group is behind (group_figures.lua, for
 * /metrics and /healthz), and the pure decision of what is too far.
 *
 * The figures come from Redis, so they are the same on every node: XINFO
 * GROUPS' lag (entries not read yet), XPENDING (read, not acknowledged),
 * and the ages of the oldest pending and the oldest unread entry, taken
 * from their ids on Redis' own clock. The age of the oldest unread entry
 * is what shows a group nobody reads (every analyzer stopped): nothing is
 * pending then, and the lag may be unknown once entries were deleted. A
 * group that was never created (no analyzer ever ran) has read nothing:
 * its stream's entries all count as unread. */
#include <stdio.h>
#include <string.h>
#include "store/store_internal.h"

static const struct store_pipe_info pipes[STORE_PIPE_COUNT] = {
    [STORE_PIPE_RAW] = {KEY_RAW, GROUP_ANALYZE, KEY_DEAD, RAW_STREAM_CAP},
    [STORE_PIPE_TAGGED] = {KEY_TAGGED, GROUP_ROUTE, KEY_TAGGED_DEAD, TAGGED_STREAM_CAP},
    [STORE_PIPE_OUTBOX] = {KEY_OUTBOX, GROUP_POST, KEY_OUTBOX_DEAD, OUTBOX_STREAM_CAP},
};

const struct store_pipe_info *store_pipe_info(enum store_pipe p)
{
    return (unsigned)p < STORE_PIPE_COUNT ? &pipes[p] : NULL;
}

enum store_pipe store_pipe_find(const char *name)
{
    for (int p = 0; p < STORE_PIPE_COUNT; p++)
        if (strcmp(name, pipes[p].stream) == 0 || strcmp(name, pipes[p].dead) == 0 ||
            strcmp(name, pipes[p].group) == 0)
            return (enum store_pipe)p;
    return STORE_PIPE_COUNT;
}

/* The raw and tagged streams are one per item shard (the table names shard
 * 0's): their figures are every shard's, added up (store/fanout.c). */
static ctx_err figures_in(struct rconn *rc, struct store *st, enum store_pipe p, unsigned shard,
                          rconn_reply_cb cb, void *priv)
{
    const struct store_pipe_info *pi = store_pipe_info(p);
    char stream[STORE_KEY_LEN], dead[STORE_KEY_LEN];
    const char *keys[] = {pi->stream, pi->dead};
    if (p != STORE_PIPE_OUTBOX) {
        keys[0] = store_key_sharded(stream, sizeof stream, shard,
                                    p == STORE_PIPE_RAW ? KEYN_RAW : KEYN_TAGGED);
        keys[1] = store_key_sharded(dead, sizeof dead, shard,
                                    p == STORE_PIPE_RAW ? KEYN_DEAD : KEYN_TAGGED_DEAD);
    }
    const char *args[] = {pi->group};
    return STORE_EVAL(rc, st, SCRIPT_GROUP_FIGURES, cb, priv, keys, args);
}

unsigned store_pipe_shards(enum store_pipe p, unsigned n)
{
    return p == STORE_PIPE_OUTBOX || n < 1 ? 1 : n;
}

void store_pipe_keys(enum store_pipe p, unsigned shard, char *stream, char *dead)
{
    const struct store_pipe_info *pi = store_pipe_info(p);
    if (p == STORE_PIPE_OUTBOX || !pi) {
        snprintf(stream, STORE_KEY_LEN, "%s", pi ? pi->stream : "");
        snprintf(dead, STORE_KEY_LEN, "%s", pi ? pi->dead : "");
        return;
    }
    bool raw = p == STORE_PIPE_RAW;
    store_key_sharded(stream, STORE_KEY_LEN, shard, raw ? KEYN_RAW : KEYN_TAGGED);
    store_key_sharded(dead, STORE_KEY_LEN, shard, raw ? KEYN_DEAD : KEYN_TAGGED_DEAD);
}

enum store_pipe store_pipe_find_shard(const char *name, unsigned n, int *shard)
{
    *shard = -1;
    enum store_pipe p = store_pipe_find(name);
    if (p != STORE_PIPE_COUNT)
        return p;
    for (int q = STORE_PIPE_RAW; q <= STORE_PIPE_TAGGED; q++)
        for (unsigned s = 1; s < n; s++) {
            char stream[STORE_KEY_LEN], dead[STORE_KEY_LEN];
            store_pipe_keys((enum store_pipe)q, s, stream, dead);
            if (strcmp(name, stream) == 0 || strcmp(name, dead) == 0) {
                *shard = (int)s;
                return (enum store_pipe)q;
            }
        }
    return STORE_PIPE_COUNT;
}

ctx_err store_group_figures(struct rconn *rc, struct store *st, enum store_pipe p,
                            rconn_reply_cb cb, void *priv)
{
    if (!store_pipe_info(p))
        return CTX_EINVAL;
    unsigned n = store_pipe_shards(p, store_shards(st));
    if (n == 1)
        return figures_in(rc, st, p, 0, cb, priv);
    struct store_fanout *f = store_fanout_new(n, STORE_MERGE_FIGURES, 0, cb, priv);
    for (unsigned s = 0; s < n; s++)
        store_fanout_sent(f, figures_in(rc, st, p, s, store_fanout_reply, store_fanout_arm(f)));
    return store_fanout_end(rc, f);
}

ctx_err store_group_figures_shard(struct rconn *rc, struct store *st, enum store_pipe p,
                                  unsigned shard, rconn_reply_cb cb, void *priv)
{
    if (!store_pipe_info(p) || shard >= store_pipe_shards(p, store_shards(st)))
        return CTX_EINVAL;
    return figures_in(rc, st, p, shard, cb, priv);
}

ctx_err store_group_figures_read(const redisReply *rep, struct store_group_figures *out)
{
    memset(out, 0, sizeof *out);
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 8)
        return CTX_EREDIS;
    long long v[8];
    for (size_t i = 0; i < 8; i++) {
        if (rep->element[i]->type != REDIS_REPLY_INTEGER)
            return CTX_EREDIS;
        v[i] = rep->element[i]->integer;
    }
    *out = (struct store_group_figures){
        .group = v[0] == 1, .length = v[1], .dead = v[2], .lag = v[3], .pending = v[4],
        .consumers = v[5], .oldest_pending = v[6] < 0 ? -1 : (double)v[6] / 1000,
        .oldest_unread = v[7] < 0 ? -1 : (double)v[7] / 1000,
    };
    return CTX_OK;
}

unsigned store_health_check(const struct store_group_figures *f,
                            const struct config_health *limits, bool required)
{
    unsigned bad = 0;
    if (!f->group && !required)
        return 0;
    if (f->lag > limits->max_lag)
        bad |= 1u << STORE_HEALTH_LAG;
    if (f->oldest_pending > limits->max_pending_age)
        bad |= 1u << STORE_HEALTH_PENDING_AGE;
    if (f->oldest_unread > limits->max_pending_age)
        bad |= 1u << STORE_HEALTH_UNREAD_AGE;
    return bad;
}

const char *store_health_check_name(enum store_health_check c)
{
    static const char *const names[STORE_HEALTH_COUNT] = {
        [STORE_HEALTH_LAG] = "lag",
        [STORE_HEALTH_PENDING_AGE] = "oldest_pending",
        [STORE_HEALTH_UNREAD_AGE] = "oldest_unread",
    };
    return (unsigned)c < STORE_HEALTH_COUNT ? names[c] : "?";
}
