/* follow.c -- follow a stream from this process's start: every entry added
 * after the follower first connected is handed to the callback, in order,
 * including across Redis restarts (it resumes from the last id it saw).
 * Used for commands to every ctxd (ctx:{c}:control) and for the frames each
 * serve node delivers to its own websocket clients (agent and chat events). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/mem.h"
#include "store/store.h"

struct follower {
    struct rconn *rc;
    char key[128];
    char last[48];
    bool have_last, reading;
    follow_cb cb;
    void *priv;
};

const char *stream_field(const redisReply *fields, const char *name)
{
    for (size_t i = 0; fields && fields->type == REDIS_REPLY_ARRAY && i + 1 < fields->elements;
         i += 2)
        if (fields->element[i]->str && strcmp(fields->element[i]->str, name) == 0)
            return fields->element[i + 1]->str;
    return NULL;
}

static void read_next(struct follower *f);

static void on_read(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct follower *f = priv;
    f->reading = false;
    if (!rep)
        return;                             /* lost: on_state resumes */
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
        rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 2) {
        const redisReply *entries = rep->element[0]->element[1];
        for (size_t i = 0; i < entries->elements; i++) {
            const redisReply *e = entries->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || !e->element[0]->str)
                continue;
            snprintf(f->last, sizeof f->last, "%s", e->element[0]->str);
            f->cb(e->element[0]->str, e->element[1], f->priv);
        }
    }
    read_next(f);
}

static void read_next(struct follower *f)
{
    if (f->reading || !f->have_last || !rconn_up(f->rc))
        return;
    if (rconn_cmd(f->rc, on_read, f, "XREAD COUNT 500 BLOCK 5000 STREAMS %s %s", f->key,
                  f->last) == CTX_OK)
        f->reading = true;
}

static void on_last(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct follower *f = priv;
    if (!rep || rep->type != REDIS_REPLY_ARRAY)
        return;
    if (!f->have_last) {
        if (rep->elements > 0 && rep->element[0]->type == REDIS_REPLY_ARRAY &&
            rep->element[0]->elements > 0 && rep->element[0]->element[0]->str)
            snprintf(f->last, sizeof f->last, "%s", rep->element[0]->element[0]->str);
        else
            snprintf(f->last, sizeof f->last, "0-0");
        f->have_last = true;
    }
    read_next(f);
}

static void on_state(struct rconn *rc, bool up, void *priv)
{
    struct follower *f = priv;
    if (!up)
        return;
    if (f->have_last)
        read_next(f);
    else
        rconn_cmd(rc, on_last, f, "XREVRANGE %s + - COUNT 1", f->key);
}

ctx_err follower_start(struct store *st, const char *key, follow_cb cb, void *priv,
                       struct follower **out)
{
    struct follower *f = ctx_calloc(1, sizeof *f);
    snprintf(f->key, sizeof f->key, "%s", key);
    f->cb = cb;
    f->priv = priv;
    ctx_err e = store_conn_new(st, key, on_state, f, &f->rc);
    if (e) {
        free(f);
        return e;
    }
    *out = f;
    return CTX_OK;
}

bool follower_ready(const struct follower *f)
{
    return f && f->have_last;
}

const char *follower_last(const struct follower *f)
{
    return f->last;
}

void follower_stop(struct follower *f)
{
    if (!f)
        return;
    rconn_free(f->rc);
    free(f);
}
