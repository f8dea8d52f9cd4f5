/* dead.c -- dead letters, for ctxctl dead: reading them, putting them back
 * on the stream they came from (dead_replay.lua: copy and delete in one
 * step, so a letter is never both replayed and kept, nor lost), and
 * dropping them.
 *
 * ctxctl talks to Redis with blocking hiredis calls, so these take a
 * redisContext and return the reply (the caller frees it; NULL when the
 * connection failed, the error in c->errstr). The keys come from the pipe
 * table of health.c, the script from the table the Makefile generates:
 * ctxctl names neither. Two shapes of letter exist (store/KEYS.md):
 * store/group.c's (dead_from, dead_id, dead_deliveries, then the entry's
 * own fields) and the analyze role's for a raw entry that was not an item
 * (raw_id, reason, payload); store_dead_letter_read() reads both. */
#include <stdlib.h>
#include <string.h>
#include "core/mem.h"
#include "store/store_internal.h"

redisReply *store_dead_range(redisContext *c, enum store_pipe p, unsigned shard, const char *from,
                             const char *to, long count)
{
    if (!store_pipe_info(p))
        return NULL;
    char stream[STORE_KEY_LEN], dead[STORE_KEY_LEN];
    store_pipe_keys(p, shard, stream, dead);
    return redisCommand(c, "XRANGE %s %s %s COUNT %ld", dead, from, to, count);
}

/* `cmd` then the pipe's keys and args, then ids: EVALSHA/EVAL and XDEL. */
static redisReply *with_ids(redisContext *c, const char *const *head, size_t nhead,
                            const char *const *ids, size_t n)
{
    const char **argv = ctx_calloc(nhead + n, sizeof *argv);
    memcpy(argv, head, nhead * sizeof *argv);
    memcpy(argv + nhead, ids, n * sizeof *argv);
    redisReply *r = redisCommandArgv(c, (int)(nhead + n), argv, NULL);
    free(argv);
    return r;
}

redisReply *store_dead_replay(redisContext *c, enum store_pipe p, unsigned shard,
                              const char *const *ids, size_t n)
{
    const struct store_pipe_info *pi = store_pipe_info(p);
    if (!pi)
        return NULL;
    char stream[STORE_KEY_LEN], dead[STORE_KEY_LEN];
    store_pipe_keys(p, shard, stream, dead);
    struct rscript s = {.body = store_scripts[SCRIPT_DEAD_REPLAY].body};
    rscript_init(&s);
    const char *head[] = {"EVALSHA", s.sha, "2", dead, stream, pi->cap};
    redisReply *r = with_ids(c, head, CTX_ARRAY_LEN(head), ids, n);
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(r);
        head[0] = "EVAL";       /* not loaded yet: send it (Redis keeps it) */
        head[1] = s.body;
        r = with_ids(c, head, CTX_ARRAY_LEN(head), ids, n);
    }
    return r;
}

redisReply *store_dead_drop(redisContext *c, enum store_pipe p, unsigned shard,
                            const char *const *ids, size_t n)
{
    if (!store_pipe_info(p))
        return NULL;
    char stream[STORE_KEY_LEN], dead[STORE_KEY_LEN];
    store_pipe_keys(p, shard, stream, dead);
    const char *head[] = {"XDEL", dead};
    return with_ids(c, head, CTX_ARRAY_LEN(head), ids, n);
}

void store_dead_letter_read(enum store_pipe p, unsigned shard, const redisReply *fields,
                            struct store_dead_letter *out)
{
    const struct store_pipe_info *pi = store_pipe_info(p);
    memset(out, 0, sizeof *out);
    char dead[STORE_KEY_LEN];
    if (pi)
        store_pipe_keys(p, shard, out->from_buf, dead);
    const char *dl = stream_field(fields, "dead_deliveries");
    if (stream_field(fields, "dead_from")) {
        out->from = stream_field(fields, "dead_from");
        out->entry_id = stream_field(fields, "dead_id");
        out->deliveries = dl ? atoll(dl) : 0;
        out->id = stream_field(fields, "id");
        out->payload = stream_field(fields, "item");
    } else {                    /* the analyze role's: a raw entry that was not an item */
        out->from = pi ? out->from_buf : NULL;
        out->entry_id = stream_field(fields, "raw_id");
        out->reason = stream_field(fields, "reason");
        out->payload = stream_field(fields, "payload");
    }
}
