/* control.c -- commands to every running ctxd through the ctx:control
 * stream (`ctxctl rules reload` adds {"cmd": "reload-rules"}).
 *
 * Each process follows the stream with XREAD BLOCK from the last id it has
 * seen, on a connection of its own; it starts from the stream's end, so
 * old commands are not replayed at start-up, and resumes from its last id
 * after a Redis restart, so none is missed while the process runs. */
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "ctxd/roles.h"

struct control {
    struct rconn *rc;
    char last[48];
    bool have_last, reading;
    control_cb cb;
    void *priv;
};

static void read_next(struct control *c);

static void on_read(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct control *c = priv;
    c->reading = false;
    if (!rep)
        return;                             /* lost: on_state resumes */
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
        rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 2) {
        const redisReply *entries = rep->element[0]->element[1];
        for (size_t i = 0; i < entries->elements; i++) {
            const redisReply *e = entries->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || !e->element[0]->str)
                continue;
            snprintf(c->last, sizeof c->last, "%s", e->element[0]->str);
            const redisReply *f = e->element[1];
            for (size_t k = 0; f->type == REDIS_REPLY_ARRAY && k + 1 < f->elements; k += 2)
                if (f->element[k]->str && strcmp(f->element[k]->str, "cmd") == 0 &&
                    f->element[k + 1]->str)
                    c->cb(f->element[k + 1]->str, c->priv);
        }
    }
    read_next(c);
}

static void read_next(struct control *c)
{
    if (c->reading || !c->have_last || !rconn_up(c->rc))
        return;
    if (rconn_cmd(c->rc, on_read, c, "XREAD BLOCK 5000 STREAMS %s %s", KEY_CONTROL, c->last) ==
        CTX_OK)
        c->reading = true;
}

static void on_last(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct control *c = priv;
    if (!rep || rep->type != REDIS_REPLY_ARRAY)
        return;
    if (rep->elements > 0 && rep->element[0]->type == REDIS_REPLY_ARRAY &&
        rep->element[0]->elements > 0 && rep->element[0]->element[0]->str)
        snprintf(c->last, sizeof c->last, "%s", rep->element[0]->element[0]->str);
    else
        snprintf(c->last, sizeof c->last, "0-0");
    c->have_last = true;
    read_next(c);
}

static void on_state(struct rconn *rc, bool up, void *priv)
{
    struct control *c = priv;
    if (!up)
        return;
    if (c->have_last)
        read_next(c);
    else
        rconn_cmd(rc, on_last, c, "XREVRANGE %s + - COUNT 1", KEY_CONTROL);
}

ctx_err control_start(struct store *st, control_cb cb, void *priv, struct control **out)
{
    struct control *c = calloc(1, sizeof *c);
    if (!c)
        return CTX_ENOMEM;
    c->cb = cb;
    c->priv = priv;
    ctx_err e = store_conn_new(st, "control", on_state, c, &c->rc);
    if (e) {
        free(c);
        return e;
    }
    *out = c;
    return CTX_OK;
}

void control_stop(struct control *c)
{
    if (!c)
        return;
    rconn_free(c->rc);
    free(c);
}
