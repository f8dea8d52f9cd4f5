/* twostep.c -- script calls whose keys are named by data (a task's queue,
 * the agent a token belongs to), or that need data of another hash tag's
 * slot (the item a reply answers: store/KEYS.md). A script is passed the
 * keys it touches, and touches one slot, so such a call is two steps: read
 * the data, then call the script with the keys named from it, or with the
 * data. The script checks that the data still holds and answers STALE if
 * not, and both steps run again, up to STORE_TWOSTEP_TRIES times. The caller embeds struct store_twostep first in
 * its own context (see store_internal.h). */
#include <stdlib.h>
#include <string.h>
#include "core/mem.h"
#include "store/store_internal.h"

#define STORE_TWOSTEP_TRIES 3

static void on_read(struct rconn *rc, redisReply *r, void *priv);

static void end(struct rconn *rc, redisReply *r, struct store_twostep *t)
{
    if (t->release)
        t->release(rc, r, t);
    if (t->cb)
        t->cb(rc, r, t->priv);
    free(t);
}

static void on_called(struct rconn *rc, redisReply *r, void *priv)
{
    struct store_twostep *t = priv;
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "STALE", 5) == 0 &&
        ++t->tries < STORE_TWOSTEP_TRIES && t->read(rc, t, on_read) == CTX_OK)
        return;
    end(rc, r, t);
}

static void on_read(struct rconn *rc, redisReply *r, void *priv)
{
    struct store_twostep *t = priv;
    if (!r || r->type == REDIS_REPLY_ERROR || t->call(rc, t, r, on_called) != CTX_OK)
        end(rc, NULL, t);
}

void *store_twostep_new(size_t size, const struct store_twostep *base)
{
    struct store_twostep *t = ctx_calloc(1, size);
    *t = *base;
    return t;
}

ctx_err store_twostep_start(struct rconn *rc, struct store_twostep *t)
{
    t->tries = 0;
    ctx_err e = t->read(rc, t, on_read);
    if (e) {
        if (t->release)
            t->release(rc, NULL, t);
        free(t);
    }
    return e;
}
