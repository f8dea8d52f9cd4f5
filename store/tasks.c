/* tasks.c -- creating routing tasks in Redis (task_new.lua), shared by the
 * route role (escalated items) and the serve role (chats, callbacks).
 *
 * A web chat is created held (state "new", out of its queue) and queued by
 * its customer's first message, in the same script that keeps the message
 * (chat_message.lua): no agent is ever offered a chat with nothing in it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include "core/item.h"
#include "routing/routing.h"
#include "store/store_internal.h"

static ctx_err task_new(struct rconn *rc, struct store *st, const struct config *cfg,
                        const char *id, const char *channel, const char *queue, int priority,
                        json_t *extra, bool held, rconn_reply_cb cb, void *priv)
{
    const struct config_queue *qc = NULL;
    for (size_t i = 0; i < cfg->nqueues; i++)
        if (strcmp(cfg->queues[i].name, queue) == 0)
            qc = &cfg->queues[i];
    if (!qc)
        return CTX_ENOTFOUND;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    long long now = (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    struct rt_queue q = {.aging = qc->aging};
    struct rt_task t = {.priority = priority, .enqueued = now};
    char tkey[STORE_KEY_LEN], wkey[STORE_KEY_LEN], skey[STORE_KEY_LEN], prio[16], nows[32],
        order[64], due[32], max[16];
    char created[CTX_TIME_LEN];
    snprintf(prio, sizeof prio, "%d", priority);
    snprintf(nows, sizeof nows, "%lld", now);
    snprintf(order, sizeof order, "%.17g", routing_order(&q, &t));
    snprintf(due, sizeof due, "%lld", now + (long long)(qc->sla * 1000));
    snprintf(max, sizeof max, "%d", qc->max_length);
    ctx_time_format(now / 1000, created);
    char *ex = extra ? json_dumps(extra, JSON_COMPACT) : NULL;
    const char *keys[] = {store_key_task(tkey, sizeof tkey, id),
                          store_key_queue_waiting(wkey, sizeof wkey, queue), KEY_ROUTING_EVENTS,
                          store_key_queue_stats(skey, sizeof skey, queue)};
    const char *args[] = {id, channel, queue, prio, nows, order, due, created, max,
                          ex ? ex : "{}", held ? "1" : "0"};
    ctx_err e = STORE_EVAL(rc, st, SCRIPT_TASK_NEW, cb, priv, keys, args);
    free(ex);
    return e;
}

ctx_err store_task_new(struct rconn *rc, struct store *st, const struct config *cfg,
                       const char *id, const char *channel, const char *queue, int priority,
                       json_t *extra, rconn_reply_cb cb, void *priv)
{
    return task_new(rc, st, cfg, id, channel, queue, priority, extra, false, cb, priv);
}

ctx_err store_chat_open(struct rconn *rc, struct store *st, const struct config *cfg,
                        const char *id, const char *queue, json_t *extra, rconn_reply_cb cb,
                        void *priv)
{
    return task_new(rc, st, cfg, id, "chat", queue, 0, extra, true, cb, priv);
}
