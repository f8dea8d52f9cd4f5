/* route_timers.c -- the route role's housekeeping, on one 250 ms tick.
 *
 * Each tick, while the command connection is up:
 * - offers past their deadline are refused as "timed_out" (refuse.lua): the
 *   task goes back to its place in line, and an agent who let
 *   max_no_answer offers time out in a row is set away;
 * - agents whose wrap-up is over end it (agent_state.lua, "wrapup-end");
 * - agents disconnected for longer than presence_grace go offline and
 *   their tasks go back to their queues (requeue_agent.lua);
 * - queues with overflow_after move their long waiters to the overflow
 *   queue or up in priority (overflow.lua);
 * - every fourth tick (1 s): connections of nodes that stopped beating are
 *   swept (presence_sweep.lua: agents'; chats_live_sweep.lua: customers',
 *   who count as left since their last beat), and web chats whose customer
 *   left without coming back within presence_grace are abandoned
 *   (abandon.lua);
 * - then a routing pass (callbacks coming due, wake-ups missed), and the
 *   tagged stream is poked.
 * What comes due is read with store_due(); each item found is one script.
 * A script that may have freed an agent or a task runs a pass when it
 * answers. Nothing here decides who takes what: that is the pass (route.c). */
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "ctxd/route_internal.h"
#include "routing/routing.h"

struct hk_ctx {
    struct route_role *r;
    int kind;                   /* 1 wrap-ups over, 2 presence grace over */
};

static void on_hk_done(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct route_role *r = priv;
    if (rep && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOT_", 4) != 0)
        log_warn("route: %s", rep->str);
    else if (rep)
        route_pass(r);          /* capacity may have freed up */
}

static void on_due(struct rconn *rc, redisReply *rep, void *priv)
{
    struct hk_ctx *h = priv;
    struct route_role *r = h->r;
    int kind = h->kind;
    free(h);
    if (!rep || rep->type != REDIS_REPLY_ARRAY)
        return;
    long long now = ctx_now_ms(), grace = (long long)(r->cfg->presence_grace * 1000);
    for (size_t i = 0; i < rep->elements; i++) {
        const char *id = rep->element[i]->str;
        if (!id)
            continue;
        if (kind == 1)                  /* wrap-up over */
            store_agent_state(rc, r->st, id, "wrapup-end", now, on_hk_done, r);
        else if (kind == 2)             /* presence grace over */
            store_requeue_agent(rc, r->st, id, now, grace, on_hk_done, r);
    }
}

/* Ids are held whole: a task id cut to a buffer would name another task. */
struct timeout_ctx {
    struct route_role *r;
    char task[];
};

static void on_offer_task(struct rconn *rc, redisReply *rep, void *priv)
{
    struct timeout_ctx *t = priv;
    struct route_role *r = t->r;
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 && rep->element[0]->str &&
        rep->element[1]->str && *rep->element[0]->str) {
        const char *agent = rep->element[0]->str, *queue = rep->element[1]->str;
        const struct config_queue *qc = route_queue_cfg(r->cfg, queue);
        store_refuse(rc, r->st, t->task, agent, queue, ctx_now_ms(), "timed_out",
                     qc ? qc->max_no_answer : 3, on_hk_done, r);
    } else if (rep && rep->type == REDIS_REPLY_ARRAY) {
        store_offer_forget(rc, r->st, t->task);   /* stale entry */
    }
    free(t);
}

static void on_expired(struct rconn *rc, redisReply *rep, void *priv)
{
    struct route_role *r = priv;
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
        if (!rep->element[i]->str)
            continue;
        size_t len = strlen(rep->element[i]->str);
        struct timeout_ctx *t = ctx_malloc(sizeof *t + len + 1);
        t->r = r;
        memcpy(t->task, rep->element[i]->str, len + 1);
        static const char *const fields[] = {"agent", "queue"};
        if (store_task_fields(rc, r->st, t->task, fields, CTX_ARRAY_LEN(fields), on_offer_task,
                              t))
            free(t);
    }
}

/* Queues with overflow_after: tasks waiting longer move to the overflow
 * queue, or up in priority (overflow.lua). */
static void overflow(struct route_role *r, long long now)
{
    for (size_t i = 0; i < r->cfg->nqueues; i++) {
        const struct config_queue *qc = &r->cfg->queues[i];
        if (qc->overflow_after <= 0 || (!qc->overflow_queue && qc->overflow_priority <= 0))
            continue;
        const struct config_queue *to = qc->overflow_queue
                                            ? route_queue_cfg(r->cfg, qc->overflow_queue)
                                            : qc;
        struct rt_queue q = {.aging = to->aging};
        struct rt_task p0 = {.priority = 0}, p1 = {.priority = 1};
        store_overflow(r->cmd, r->st, qc->name, qc->overflow_queue ? to->name : NULL,
                       now - (long long)(qc->overflow_after * 1000), qc->overflow_priority,
                       routing_order(&q, &p0) - routing_order(&q, &p1), now, NULL, NULL);
    }
}

/* Web chats whose customer dropped without ending them and did not come
 * back (resume) within presence_grace: the customer left (abandon.lua). */
static void on_left_chats(struct rconn *rc, redisReply *rep, void *priv)
{
    struct route_role *r = priv;
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
        const char *task = rep->element[i]->str;
        if (!task)
            continue;
        store_abandon(rc, r->st, task, config_chat_queue(r->cfg), ctx_now_ms(), NULL, NULL);
    }
}

static void tick_fire(uv_timer_t *tm)
{
    struct route_role *r = tm->data;
    if (!rconn_up(r->cmd))
        return;
    long long now = ctx_now_ms();
    store_due(r->cmd, r->st, STORE_DUE_OFFERS, now, on_expired, r);
    struct hk_ctx *w = ctx_malloc(sizeof *w), *p = ctx_malloc(sizeof *p);
    *w = (struct hk_ctx){r, 1};
    if (store_due(r->cmd, r->st, STORE_DUE_WRAPUPS, now, on_due, w))
        free(w);
    *p = (struct hk_ctx){r, 2};
    if (store_due(r->cmd, r->st, STORE_DUE_DISCONNECTED,
                  now - (long long)(r->cfg->presence_grace * 1000), on_due, p))
        free(p);
    overflow(r, now);
    if (++r->ticks % 4 == 0) {  /* every 1 s: connections of nodes that stopped beating */
        store_presence_sweep(r->cmd, r->st, now, (long long)(r->cfg->presence_timeout * 1000),
                             NULL, NULL);
        store_chats_live_sweep(r->cmd, r->st, now,
                               (long long)(r->cfg->presence_timeout * 1000), NULL, NULL);
        store_due(r->cmd, r->st, STORE_DUE_CHATS_LEFT,
                  now - (long long)(r->cfg->presence_grace * 1000), on_left_chats, r);
    }
    route_pass(r);              /* callbacks coming due, missed wake-ups */
    group_reader_poke(r->tagged);
}

static void again_fire(uv_timer_t *tm)
{
    route_pass(tm->data);
}

void route_pass_later(struct route_role *r, uint64_t ms)
{
    if (!r->stopping && !uv_is_active((uv_handle_t *)r->again))
        uv_timer_start(r->again, again_fire, ms, 0);
}

void route_timers_start(struct route_role *r)
{
    r->tick = ctx_malloc(sizeof *r->tick);
    uv_timer_init(r->loop, r->tick);
    r->tick->data = r;
    uv_timer_start(r->tick, tick_fire, 250, 250);
    r->again = ctx_malloc(sizeof *r->again);
    uv_timer_init(r->loop, r->again);
    r->again->data = r;
}

static void handle_free(uv_handle_t *h)
{
    free(h);
}

void route_timers_stop(struct route_role *r)
{
    uv_close((uv_handle_t *)r->tick, handle_free);
    uv_close((uv_handle_t *)r->again, handle_free);
}
