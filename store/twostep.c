/* twostep.c -- script calls whose keys are named by data (a task's queue,
 * the agent a token belongs to). Redis Cluster routes a script by the keys
 * it is passed, so such a call is two steps: read the data, then call the
 * script with the keys named from it. The script checks that the data still
 * holds and answers STALE if not, and both steps run again, up to
 * STORE_TWOSTEP_TRIES times. The caller embeds struct store_twostep first in
 * its own context (see store_internal.h). */
#include <string.h>
#include "store/store_internal.h"

#define STORE_TWOSTEP_TRIES 3

static void on_read(struct rconn *rc, redisReply *r, void *priv);

static void on_called(struct rconn *rc, redisReply *r, void *priv)
{
    struct store_twostep *t = priv;
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "STALE", 5) == 0 &&
        ++t->tries < STORE_TWOSTEP_TRIES && t->read(rc, t, on_read) == CTX_OK)
        return;
    t->end(rc, r, t);
}

static void on_read(struct rconn *rc, redisReply *r, void *priv)
{
    struct store_twostep *t = priv;
    if (!r || r->type == REDIS_REPLY_ERROR || t->call(rc, t, r, on_called) != CTX_OK)
        t->end(rc, NULL, t);
}

ctx_err store_twostep_start(struct rconn *rc, struct store_twostep *t)
{
    t->tries = 0;
    return t->read(rc, t, on_read);
}
