/* group.c -- one consumer of a stream's consumer group, on a connection of
 * its own (XREADGROUP blocks it), shared by the analyze role (raw items),
 * the route role (tagged items) and the outbox (replies).
 *
 * After every (re)connection it creates the group if needed and first
 * re-reads its own pending entries (id 0): entries read but not finished
 * before a crash or a Redis restart are handed over again. Then it blocks
 * for new ones (">"). One batch at a time: the owner gets the entries and
 * calls group_reader_done() once it has finished with all of them (acked,
 * or left pending to be read again). With claiming on, entries another
 * consumer left pending for a minute are taken over (XAUTOCLAIM) and read
 * as our own pending ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "store/store.h"

#define CLAIM_EVERY_MS 30000
#define CLAIM_IDLE_MS  60000

struct group_reader {
    struct rconn *rc;
    struct group_opts o;
    char consumer[128];
    group_batch_cb cb;
    void *priv;
    bool pending_phase;         /* reading our own pending entries (id 0) */
    bool reading;               /* a read or a batch is in flight */
    bool stopping;
    uv_timer_t *retry, *claim;
};

static void read_next(struct group_reader *g);

static void retry_fire(uv_timer_t *t)
{
    struct group_reader *g = t->data;
    g->reading = false;
    read_next(g);
}

static void on_read(struct rconn *rc, redisReply *rep, void *priv)
{
    struct group_reader *g = priv;
    if (!rep) {                 /* connection lost: on_state starts again */
        g->reading = false;
        return;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        if (strncmp(rep->str, "NOGROUP", 7) == 0)   /* the stream was deleted */
            rconn_cmd(rc, NULL, NULL, "XGROUP CREATE %s %s %s MKSTREAM", g->o.stream,
                      g->o.group, g->o.start_id);
        else
            log_error("%s: XREADGROUP: %s", g->o.name, rep->str);
        uv_timer_start(g->retry, retry_fire, 500, 0);
        return;
    }
    /* reply: [[stream, [entries...]]], or nil when BLOCK timed out */
    const redisReply *entries = NULL;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
        rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 2)
        entries = rep->element[0]->element[1];
    if (!entries || entries->elements == 0) {
        g->pending_phase = false;   /* our backlog is done: now new entries */
        g->reading = false;
        read_next(g);
        return;
    }
    g->cb(entries, g->priv);    /* the owner calls group_reader_done() */
}

static void read_next(struct group_reader *g)
{
    if (g->reading || g->stopping || !rconn_up(g->rc))
        return;
    g->reading = true;
    ctx_err e = g->pending_phase
        ? rconn_cmd(g->rc, on_read, g, "XREADGROUP GROUP %s %s COUNT %d STREAMS %s 0",
                    g->o.group, g->consumer, g->o.count, g->o.stream)
        : rconn_cmd(g->rc, on_read, g, "XREADGROUP GROUP %s %s COUNT %d BLOCK 2000 STREAMS %s >",
                    g->o.group, g->consumer, g->o.count, g->o.stream);
    if (e)
        g->reading = false;
}

void group_reader_done(struct group_reader *g)
{
    g->reading = false;
    read_next(g);
}

void group_reader_poke(struct group_reader *g)
{
    read_next(g);
}

static void on_group(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct group_reader *g = priv;
    if (rep && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "BUSYGROUP", 9) != 0)
        log_error("%s: XGROUP CREATE: %s", g->o.name, rep->str);
    g->pending_phase = true;
    g->reading = false;
    read_next(g);
}

static void on_state(struct rconn *rc, bool up, void *priv)
{
    struct group_reader *g = priv;
    if (!up || g->stopping)
        return;
    if (g->o.on_up)
        g->o.on_up(rc, g->priv);
    rconn_cmd(rc, on_group, g, "XGROUP CREATE %s %s %s MKSTREAM", g->o.stream, g->o.group,
              g->o.start_id);
}

static void on_claimed(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct group_reader *g = priv;
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2 &&
        rep->element[1]->type == REDIS_REPLY_ARRAY && rep->element[1]->elements > 0) {
        log_info("%s: claimed %zu entries left pending by other consumers", g->o.name,
                 rep->element[1]->elements);
        g->pending_phase = true;    /* they are ours now: the next read takes them */
    }
}

static void claim_fire(uv_timer_t *t)
{
    struct group_reader *g = t->data;
    rconn_cmd(g->rc, on_claimed, g, "XAUTOCLAIM %s %s %s %d 0-0 COUNT 100 JUSTID", g->o.stream,
              g->o.group, g->consumer, CLAIM_IDLE_MS);
}

static void handle_free(uv_handle_t *h)
{
    free(h);
}

ctx_err group_reader_start(struct store *st, const struct group_opts *o, group_batch_cb cb,
                           void *priv, struct group_reader **out)
{
    struct group_reader *g = calloc(1, sizeof *g);
    if (!g)
        return CTX_ENOMEM;
    g->o = *o;
    g->cb = cb;
    g->priv = priv;
    store_consumer_name(st->cfg, g->consumer, sizeof g->consumer);
    g->retry = malloc(sizeof *g->retry);
    g->claim = malloc(sizeof *g->claim);
    if (!g->retry || !g->claim) {
        free(g->retry);
        free(g->claim);
        free(g);
        return CTX_ENOMEM;
    }
    uv_timer_init(st->loop, g->retry);
    uv_timer_init(st->loop, g->claim);
    g->retry->data = g->claim->data = g;
    if (o->claim)
        uv_timer_start(g->claim, claim_fire, CLAIM_EVERY_MS, CLAIM_EVERY_MS);
    ctx_err e = store_conn_new(st, o->name, on_state, g, &g->rc);
    if (e) {
        group_reader_stop(g);
        return e;
    }
    log_info("%s: consumer %s in group %s of %s", o->name, g->consumer, o->group, o->stream);
    *out = g;
    return CTX_OK;
}

void group_reader_stop(struct group_reader *g)
{
    if (!g)
        return;
    g->stopping = true;
    rconn_free(g->rc);          /* an in-flight read is called back with NULL */
    uv_close((uv_handle_t *)g->retry, handle_free);
    uv_close((uv_handle_t *)g->claim, handle_free);
    free(g);
}
