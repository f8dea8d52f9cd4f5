/* tasks.c -- routing tasks in Redis: creating them (task_new.lua), shared by
 * the route role (escalated items) and the serve role (chats, callbacks), and
 * one function per step of their life (offer, refuse, accept, finish,
 * abandon, overflow, chat messages), each building its keys with
 * store/keys.c and its arguments, so that no role counts them.
 *
 * A web chat is created held (state "new", out of its queue) and queued by
 * its customer's first message, in the same script that keeps the message
 * (chat_message.lua): no agent is ever offered a chat with nothing in it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "core/item.h"
#include "core/mem.h"
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
    long long now = ctx_now_ms();
    struct rt_queue q = {.aging = qc->aging};
    struct rt_task t = {.priority = priority, .enqueued = now};
    char tkey[STORE_KEY_LEN], wkey[STORE_KEY_LEN], skey[STORE_KEY_LEN], akey[STORE_KEY_LEN],
        prio[16], nows[32], order[64], due[32], max[16];
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
                          store_key_queue_stats(skey, sizeof skey, queue),
                          store_key_queue_arrivals(akey, sizeof akey, queue), KEY_CHATS_LIVE};
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

/* A conversation's open task is known after reading it: a call in two steps
 * (store/twostep.c), so that chat_inbound.lua is passed that task's keys. */
#define INBOUND_KEYS 7
#define INBOUND_ARGS 10
struct inbound {
    struct store_twostep base;
    char keys[INBOUND_KEYS][STORE_KEY_LEN];
    char arrivals[STORE_KEY_LEN];   /* the chat queue's, after the two keys read */
    char *args[INBOUND_ARGS];   /* owned copies */
};

static ctx_err inbound_read(struct rconn *rc, struct store_twostep *t, rconn_reply_cb cb)
{
    struct inbound *in = (struct inbound *)t;
    return rconn_cmd(rc, cb, t, "GET %s", in->keys[0]);
}

static ctx_err inbound_call(struct rconn *rc, struct store_twostep *t, const redisReply *rep,
                            rconn_reply_cb cb)
{
    struct inbound *in = (struct inbound *)t;
    const char *cur = rep->type == REDIS_REPLY_STRING ? rep->str : "";
    char ckey[STORE_KEY_LEN], cmkey[STORE_KEY_LEN];
    char keep[STORE_NUM_LEN];
    const char *keys[INBOUND_KEYS + 3], *args[INBOUND_ARGS + 2];
    for (size_t i = 0; i < INBOUND_KEYS; i++)
        keys[i] = in->keys[i];
    keys[INBOUND_KEYS] = store_key_task(ckey, sizeof ckey, cur);
    keys[INBOUND_KEYS + 1] = store_key_chat_messages(cmkey, sizeof cmkey, cur);
    keys[INBOUND_KEYS + 2] = in->arrivals;
    for (size_t i = 0; i < INBOUND_ARGS; i++)
        args[i] = in->args[i];
    args[INBOUND_ARGS] = cur;
    args[INBOUND_ARGS + 1] = store_lld(keep, (long long)(t->st->cfg->retention.tasks * 1000));
    return STORE_EVAL(rc, t->st, SCRIPT_CHAT_INBOUND, cb, t, keys, args);
}

static void inbound_release(struct rconn *rc, redisReply *rep, struct store_twostep *t)
{
    (void)rc;
    (void)rep;
    for (size_t i = 0; i < INBOUND_ARGS; i++)
        free(((struct inbound *)t)->args[i]);
}

ctx_err store_chat_inbound(struct rconn *rc, struct store *st, const struct store_inbound *m,
                           rconn_reply_cb cb, void *priv)
{
    struct inbound *in = store_twostep_new(
        sizeof *in, &(struct store_twostep){.st = st, .read = inbound_read, .call = inbound_call,
                                            .release = inbound_release, .cb = cb, .priv = priv});
    store_key_conversation(in->keys[0], STORE_KEY_LEN, m->network, m->chat, m->chat_len);
    store_key_queue_waiting(in->keys[1], STORE_KEY_LEN, m->queue);
    snprintf(in->keys[2], STORE_KEY_LEN, "%s", KEY_ROUTING_EVENTS);
    store_key_queue_stats(in->keys[3], STORE_KEY_LEN, m->queue);
    snprintf(in->keys[4], STORE_KEY_LEN, "%s", KEY_AGENT_EVENTS);
    store_key_task(in->keys[5], STORE_KEY_LEN, m->task);
    store_key_chat_messages(in->keys[6], STORE_KEY_LEN, m->task);
    store_key_queue_arrivals(in->arrivals, sizeof in->arrivals, m->queue);
    char nows[STORE_NUM_LEN], order[STORE_NUM_LEN], due[STORE_NUM_LEN];
    const char *args[INBOUND_ARGS] = {
        m->task, m->queue, store_lld(nows, m->now), store_dbl(order, m->order),
        store_lld(due, m->sla_due), m->created, m->item, m->message, m->name ? m->name : "",
        m->lang ? m->lang : ""};
    for (size_t i = 0; i < INBOUND_ARGS; i++)
        in->args[i] = ctx_strdup(args[i]);
    return store_twostep_start(rc, &in->base);
}

ctx_err store_route_snapshot(struct rconn *rc, struct store *st, const char *queue, int head,
                             int most_agents, long long since, rconn_reply_cb cb, void *priv)
{
    char wkey[STORE_KEY_LEN], h[STORE_NUM_LEN], m[STORE_NUM_LEN], v[STORE_NUM_LEN];
    const char *keys[] = {store_key_queue_waiting(wkey, sizeof wkey, queue), KEY_AGENTS_READY,
                          KEY_AGENTS_LOG, KEY_AGENTS_CHANGES};
    const char *args[] = {store_lld(h, head), KEY_TASK_PREFIX, KEY_AGENT_PREFIX,
                          store_lld(m, most_agents), store_lld(v, since)};
    return STORE_EVAL(rc, st, SCRIPT_ROUTE_SNAPSHOT, cb, priv, keys, args);
}

ctx_err store_route_index(struct rconn *rc, struct store *st, const char *const *queues,
                          size_t n, rconn_reply_cb cb, void *priv)
{
    const char *keys[] = {KEY_AGENTS, KEY_AGENTS_READY, KEY_QUEUES_LIVE, KEY_OFFERS};
    const char **args = ctx_calloc(3 + n, sizeof *args);
    args[0] = KEY_AGENT_PREFIX;
    args[1] = KEY_TASK_PREFIX;
    args[2] = KEY_QUEUE_PREFIX;
    for (size_t i = 0; i < n; i++)
        args[3 + i] = queues[i];
    ctx_err e = store_eval(rc, st, SCRIPT_ROUTE_INDEX, cb, priv, keys, CTX_ARRAY_LEN(keys), args,
                           3 + n);
    free(args);
    return e;
}

#define OFFER_FIXED_KEYS 7
#define OFFER_FIXED_ARGS 3

ctx_err store_offers(struct rconn *rc, struct store *st, const char *queue,
                     const char *const *tasks, const char *const *agents, size_t n,
                     long long now, long long expires, long long refusal_hold,
                     rconn_reply_cb cb, void *priv)
{
    if (!n)
        return CTX_EINVAL;
    size_t nkeys = OFFER_FIXED_KEYS + 3 * n, nargs = OFFER_FIXED_ARGS + 2 * n;
    char wkey[STORE_KEY_LEN], akey[STORE_KEY_LEN], nows[STORE_NUM_LEN], exp[STORE_NUM_LEN],
        hold[STORE_NUM_LEN];
    char (*k)[STORE_KEY_LEN] = ctx_malloc(3 * n * sizeof *k);
    const char **keys = ctx_malloc(nkeys * sizeof *keys), **args = ctx_malloc(nargs * sizeof *args);
    keys[0] = store_key_queue_waiting(wkey, sizeof wkey, queue);
    keys[1] = KEY_OFFERS;
    keys[2] = KEY_ROUTING_EVENTS;
    keys[3] = KEY_AGENT_EVENTS;
    keys[4] = KEY_AGENTS_READY;
    keys[5] = KEY_QUEUES_LIVE;
    keys[6] = store_key_queue_arrivals(akey, sizeof akey, queue);
    args[0] = store_lld(nows, now);
    args[1] = store_lld(exp, expires);
    args[2] = store_lld(hold, refusal_hold);
    for (size_t i = 0; i < n; i++) {
        keys[OFFER_FIXED_KEYS + 3 * i] = store_key_task(k[3 * i], STORE_KEY_LEN, tasks[i]);
        keys[OFFER_FIXED_KEYS + 3 * i + 1] = store_key_agent(k[3 * i + 1], STORE_KEY_LEN, agents[i]);
        keys[OFFER_FIXED_KEYS + 3 * i + 2] =
            store_key_agent_tasks(k[3 * i + 2], STORE_KEY_LEN, agents[i]);
        args[OFFER_FIXED_ARGS + 2 * i] = tasks[i];
        args[OFFER_FIXED_ARGS + 2 * i + 1] = agents[i];
    }
    ctx_err e = store_eval(rc, st, SCRIPT_OFFER, cb, priv, keys, nkeys, args, nargs);
    free(k);
    free(keys);
    free(args);
    return e;
}

ctx_err store_refuse(struct rconn *rc, struct store *st, const char *task, const char *agent,
                     const char *queue, long long now, const char *why, int max_no_answer,
                     rconn_reply_cb cb, void *priv)
{
    char tkey[STORE_KEY_LEN], akey[STORE_KEY_LEN], wkey[STORE_KEY_LEN], atkey[STORE_KEY_LEN];
    char arkey[STORE_KEY_LEN], nows[STORE_NUM_LEN], maxna[STORE_NUM_LEN];
    const char *keys[] = {store_key_task(tkey, sizeof tkey, task),
                          store_key_agent(akey, sizeof akey, agent), KEY_OFFERS,
                          store_key_queue_waiting(wkey, sizeof wkey, queue),
                          store_key_agent_tasks(atkey, sizeof atkey, agent), KEY_ROUTING_EVENTS,
                          KEY_AGENT_EVENTS, KEY_AGENTS_READY, KEY_AGENTS, KEY_QUEUES_LIVE,
                          store_key_queue_arrivals(arkey, sizeof arkey, queue)};
    const char *args[] = {task, agent, store_lld(nows, now), why,
                          store_lld(maxna, max_no_answer)};
    return STORE_EVAL(rc, st, SCRIPT_REFUSE, cb, priv, keys, args);
}

ctx_err store_accept(struct rconn *rc, struct store *st, const char *task, const char *agent,
                     const char *queue, long long now, const char *name, rconn_reply_cb cb,
                     void *priv)
{
    char tkey[STORE_KEY_LEN], akey[STORE_KEY_LEN], skey[STORE_KEY_LEN], nows[STORE_NUM_LEN];
    const char *keys[] = {store_key_task(tkey, sizeof tkey, task),
                          store_key_agent(akey, sizeof akey, agent), KEY_OFFERS,
                          KEY_ROUTING_EVENTS, KEY_AGENT_EVENTS,
                          store_key_queue_stats(skey, sizeof skey, queue), KEY_CHAT_EVENTS,
                          KEY_AGENTS_READY, KEY_AGENTS, KEY_QUEUES_LIVE};
    const char *args[] = {task, agent, store_lld(nows, now), name};
    return STORE_EVAL(rc, st, SCRIPT_ACCEPT, cb, priv, keys, args);
}

ctx_err store_finish(struct rconn *rc, struct store *st, const char *task, const char *agent,
                     long long now, double wrapup, const char *to_queue, double order,
                     rconn_reply_cb cb, void *priv)
{
    char tkey[STORE_KEY_LEN], akey[STORE_KEY_LEN], atkey[STORE_KEY_LEN], twkey[STORE_KEY_LEN];
    char mkey[STORE_KEY_LEN], arkey[STORE_KEY_LEN], keep[STORE_NUM_LEN];
    char nows[STORE_NUM_LEN], wrap[STORE_NUM_LEN], ord[STORE_NUM_LEN];
    snprintf(wrap, sizeof wrap, "%g", wrapup);
    const char *keys[] = {store_key_task(tkey, sizeof tkey, task),
                          store_key_agent(akey, sizeof akey, agent),
                          store_key_agent_tasks(atkey, sizeof atkey, agent), KEY_ROUTING_EVENTS,
                          KEY_AGENT_EVENTS, KEY_CHAT_EVENTS, KEY_WRAPUPS,
                          store_key_queue_waiting(twkey, sizeof twkey, to_queue),
                          store_key_chat_messages(mkey, sizeof mkey, task), KEY_AGENTS_READY,
                          KEY_AGENTS, KEY_QUEUES_LIVE,
                          store_key_queue_arrivals(arkey, sizeof arkey, to_queue)};
    const char *args[] = {task, agent, store_lld(nows, now), to_queue ? "transferred" : "done",
                          wrap, to_queue ? to_queue : "", store_dbl(ord, order),
                          store_lld(keep, (long long)(st->cfg->retention.tasks * 1000))};
    return STORE_EVAL(rc, st, SCRIPT_FINISH, cb, priv, keys, args);
}

/* Abandoning names the task's queue and agent, which only the task knows:
 * a call in two steps (store/twostep.c). */
struct abandon {
    struct store_twostep base;
    char task[STORE_KEY_LEN], queue[STORE_KEY_LEN];
    long long now;
};

static ctx_err abandon_read(struct rconn *rc, struct store_twostep *t, rconn_reply_cb cb)
{
    struct abandon *a = (struct abandon *)t;
    static const char *const fields[] = {"queue", "agent"};
    return store_task_fields(rc, t->st, a->task, fields, CTX_ARRAY_LEN(fields), cb, t);
}

static ctx_err abandon_call(struct rconn *rc, struct store_twostep *t, const redisReply *rep,
                            rconn_reply_cb cb)
{
    struct abandon *a = (struct abandon *)t;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2)
        return CTX_EREDIS;
    const char *tq = rep->element[0]->str ? rep->element[0]->str : "",
               *agent = rep->element[1]->str ? rep->element[1]->str : "";
    char tkey[STORE_KEY_LEN], skey[STORE_KEY_LEN], wkey[STORE_KEY_LEN], akey[STORE_KEY_LEN],
        atkey[STORE_KEY_LEN], mkey[STORE_KEY_LEN], arkey[STORE_KEY_LEN], nows[STORE_NUM_LEN],
        keep[STORE_NUM_LEN];
    const char *keys[] = {store_key_task(tkey, sizeof tkey, a->task), KEY_OFFERS,
                          KEY_ROUTING_EVENTS, KEY_AGENT_EVENTS,
                          store_key_queue_stats(skey, sizeof skey, a->queue),
                          store_key_queue_waiting(wkey, sizeof wkey, tq),
                          store_key_agent(akey, sizeof akey, agent),
                          store_key_agent_tasks(atkey, sizeof atkey, agent),
                          store_key_chat_messages(mkey, sizeof mkey, a->task), KEY_AGENTS_READY,
                          KEY_AGENTS, KEY_QUEUES_LIVE,
                          store_key_queue_arrivals(arkey, sizeof arkey, tq)};
    const char *args[] = {a->task, store_lld(nows, a->now), tq, agent,
                          store_lld(keep, (long long)(t->st->cfg->retention.tasks * 1000))};
    return STORE_EVAL(rc, t->st, SCRIPT_ABANDON, cb, t, keys, args);
}

static void abandon_release(struct rconn *rc, redisReply *rep, struct store_twostep *t)
{
    if (rep)                    /* answered: no longer among the chats left, or live */
        store_chat_gone(rc, t->st, ((struct abandon *)t)->task);
}

ctx_err store_abandon(struct rconn *rc, struct store *st, const char *task, const char *queue,
                      long long now, rconn_reply_cb cb, void *priv)
{
    struct abandon *a = store_twostep_new(
        sizeof *a, &(struct store_twostep){.st = st, .read = abandon_read, .call = abandon_call,
                                           .release = abandon_release, .cb = cb, .priv = priv});
    a->now = now;
    snprintf(a->task, sizeof a->task, "%s", task);
    snprintf(a->queue, sizeof a->queue, "%s", queue ? queue : "");
    return store_twostep_start(rc, &a->base);
}

/* The tasks that may overflow are read first (the head of the line), so
 * that overflow.lua is passed their keys (store/twostep.c; the script
 * passes over one no longer waiting there). */
#define OVERFLOW_HEAD 200
struct overflow {
    struct store_twostep base;
    char wkey[STORE_KEY_LEN], tokey[STORE_KEY_LEN], to[STORE_KEY_LEN];
    char skey[STORE_KEY_LEN], toskey[STORE_KEY_LEN];     /* the two queues' stats */
    char akey[STORE_KEY_LEN], toakey[STORE_KEY_LEN];     /* and arrivals */
    char before[STORE_NUM_LEN], boost[STORE_NUM_LEN], unit[STORE_NUM_LEN], now[STORE_NUM_LEN];
};

static ctx_err overflow_read(struct rconn *rc, struct store_twostep *t, rconn_reply_cb cb)
{
    struct overflow *o = (struct overflow *)t;
    return rconn_cmd(rc, cb, t, "ZRANGE %s 0 %d", o->wkey, OVERFLOW_HEAD - 1);
}

static ctx_err overflow_call(struct rconn *rc, struct store_twostep *t, const redisReply *rep,
                             rconn_reply_cb cb)
{
    struct overflow *o = (struct overflow *)t;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements > OVERFLOW_HEAD)
        return CTX_EREDIS;
    size_t n = rep->elements;
    char (*k)[STORE_KEY_LEN] = ctx_calloc(n + 1, sizeof *k);
    const char *keys[7 + OVERFLOW_HEAD] = {o->wkey, o->tokey, KEY_ROUTING_EVENTS, o->skey,
                                           o->toskey, o->akey, o->toakey};
    const char *args[5 + OVERFLOW_HEAD] = {o->before, o->to, o->boost, o->unit, o->now};
    for (size_t i = 0; i < n; i++) {
        const char *id = rep->element[i]->str ? rep->element[i]->str : "";
        keys[7 + i] = store_key_task(k[i], STORE_KEY_LEN, id);
        args[5 + i] = id;
    }
    ctx_err e = store_eval(rc, t->st, SCRIPT_OVERFLOW, cb, t, keys, 7 + n, args, 5 + n);
    free(k);
    return e;
}

ctx_err store_overflow(struct rconn *rc, struct store *st, const char *queue,
                       const char *to_queue, long long before, int boost, double unit,
                       long long now, rconn_reply_cb cb, void *priv)
{
    struct overflow *o = store_twostep_new(
        sizeof *o, &(struct store_twostep){.st = st, .read = overflow_read,
                                           .call = overflow_call, .cb = cb, .priv = priv});
    store_key_queue_waiting(o->wkey, sizeof o->wkey, queue);
    store_key_queue_waiting(o->tokey, sizeof o->tokey, to_queue ? to_queue : queue);
    store_key_queue_stats(o->skey, sizeof o->skey, queue);
    store_key_queue_stats(o->toskey, sizeof o->toskey, to_queue ? to_queue : queue);
    store_key_queue_arrivals(o->akey, sizeof o->akey, queue);
    store_key_queue_arrivals(o->toakey, sizeof o->toakey, to_queue ? to_queue : queue);
    snprintf(o->to, sizeof o->to, "%s", to_queue ? to_queue : "");
    store_lld(o->before, before);
    store_lld(o->boost, boost);
    store_dbl(o->unit, unit);
    store_lld(o->now, now);
    return store_twostep_start(rc, &o->base);
}

ctx_err store_chat_message(struct rconn *rc, struct store *st, const char *task,
                           const char *queue, const char *agent, const char *message,
                           long long now, rconn_reply_cb cb, void *priv)
{
    char tkey[STORE_KEY_LEN], mkey[STORE_KEY_LEN], wkey[STORE_KEY_LEN], skey[STORE_KEY_LEN],
        akey[STORE_KEY_LEN], nows[STORE_NUM_LEN];
    const char *keys[] = {store_key_task(tkey, sizeof tkey, task),
                          store_key_chat_messages(mkey, sizeof mkey, task), KEY_AGENT_EVENTS,
                          KEY_CHAT_EVENTS, KEY_ROUTING_EVENTS,
                          store_key_queue_waiting(wkey, sizeof wkey, queue),
                          store_key_queue_stats(skey, sizeof skey, queue),
                          store_key_queue_arrivals(akey, sizeof akey, queue)};
    const char *args[] = {task, agent ? "agent" : "customer", agent ? agent : "", message,
                          store_lld(nows, now), queue ? queue : ""};
    return STORE_EVAL(rc, st, SCRIPT_CHAT_MESSAGE, cb, priv, keys, args);
}

ctx_err store_task_fields(struct rconn *rc, struct store *st, const char *task,
                          const char *const *fields, size_t n, rconn_reply_cb cb, void *priv)
{
    (void)st;
    char tkey[STORE_KEY_LEN];
    return store_cmd_key(rc, cb, priv, "HMGET", store_key_task(tkey, sizeof tkey, task), fields,
                         n);
}
