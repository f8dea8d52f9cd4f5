/* control.c -- commands to every running ctxd through the ctx:{c}:control
 * stream (`ctxctl rules reload` adds {"cmd": "reload-rules"}). Each process
 * follows the stream from its start (store/follow.c): old commands are not
 * replayed, and none is missed across a Redis restart. */
#include <stdlib.h>
#include "core/mem.h"
#include "ctxd/roles.h"

struct control {
    struct follower *f;
    control_cb cb;
    void *priv;
};

static void on_entry(const char *id, const redisReply *fields, void *priv)
{
    (void)id;
    struct control *c = priv;
    const char *cmd = stream_field(fields, "cmd");
    if (cmd)
        c->cb(cmd, c->priv);
}

ctx_err control_start(struct store *st, control_cb cb, void *priv, struct control **out)
{
    struct control *c = ctx_calloc(1, sizeof *c);
    c->cb = cb;
    c->priv = priv;
    ctx_err e = follower_start(st, KEY_CONTROL, on_entry, c, &c->f);
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
    follower_stop(c->f);
    free(c);
}
