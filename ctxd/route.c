/* route.c -- the route role: tasks become offers.
 *
 * The role is three parts on one loop and one Redis. Here: its start and
 * stop, the wake-ups, and the routing pass. escalate.c turns tagged items
 * into tasks (consumer group "route"); route_timers.c runs the 250 ms
 * housekeeping tick (offer timeouts, wrap-up ends, presence grace,
 * overflow, chats left). Both end by asking for a pass.
 *
 * Wake-ups: the routing events stream (anything queued, refused, finished
 * or an agent's state change) is followed on a connection of its own with
 * a blocking read; any event but our own offers runs a pass now. The tick
 * runs one too, for callbacks coming due and wake-ups missed.
 *
 * A pass, per queue: route_snapshot.lua reads the head of the line and the
 * agents free to take work that changed since the last pass (route_agents.c
 * keeps our copy of the ready agents, and the scripts log every change, so
 * a pass costs what changed, not what the center holds); routing_decide() (pure,
 * routing/decide.c) pairs them; one offer.lua call commits all the pairs,
 * re-checking each atomically: two round trips per queue and pass.
 * Several routers may run against one Redis: a pair another router got to
 * first is refused by offer.lua and simply skipped. Passes do not overlap:
 * one asked for while one runs is run once after it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "ctxd/route_internal.h"
#include "routing/routing.h"

#define HEAD 256                /* tasks per queue and pass, at most */
#define MAX_AGENTS 1024         /* agents read per queue and pass, at most: four per task */

const struct config_queue *route_queue_cfg(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nqueues; i++)
        if (strcmp(cfg->queues[i].name, name) == 0)
            return &cfg->queues[i];
    return NULL;
}

/* ---- a routing pass ---- */

static void pass_step(struct route_role *r)
{
    if (--r->pass_pending)
        return;
    r->pass_running = false;
    metrics_observe(TIMING_ROUTE_PASS, (double)(uv_hrtime() - r->pass_t0) / 1e9);
    if (r->pass_again && !r->stopping) {
        r->pass_again = false;
        if (r->pass_lost) {
            /* another router took some of what we decided on: it is working
             * the same head; let it, and come back a little later rather than
             * deciding on that head again at once -- 1-2 ms, doubling with
             * each pass in a row that lost some (up to 64 ms), so that one of
             * two routers racing for one line soon leaves it to the other */
            r->pass_lost = false;
            if (r->lost_streak < 6)
                r->lost_streak++;
            route_pass_later(r, (1u << r->lost_streak) / 2 + uv_hrtime() % 2 + 1);
        } else {
            r->lost_streak = 0;
            route_pass(r);
        }
    }
}

/* The offers of one queue's pass are committed by one offer.lua call; its
 * reply has one {1 or 0, reason} per pair, in order. */
static void on_offers(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct route_role *r = priv;
    if (rep && rep->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < rep->elements; i++) {
            const redisReply *e = rep->element[i];
            if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
                e->element[0]->type == REDIS_REPLY_INTEGER && e->element[0]->integer == 1) {
                r->offers_made++;
                /* more may be ready behind the head just offered: the next
                 * pass runs now, not when an accept wakes us */
                r->pass_again = true;
            } else {
                r->offers_lost++;   /* someone else got there first: fine */
                r->pass_again = true;
                r->pass_lost = true;
            }
        }
    } else if (rep && rep->type == REDIS_REPLY_ERROR) {
        log_error("route: offer: %s", rep->str);
    }
    pass_step(r);
}

static const char *hfield(const redisReply *h, const char *name)
{
    for (size_t i = 0; h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
        if (h->element[i]->str && strcmp(h->element[i]->str, name) == 0)
            return h->element[i + 1]->str;
    return NULL;
}

struct snap_ctx {
    struct route_role *r;
    const struct config_queue *qc;
};

static void on_snapshot(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct snap_ctx *sc = priv;
    struct route_role *r = sc->r;
    const struct config_queue *qc = sc->qc;
    free(sc);
    long long now = ctx_now_ms();
    if (!rep || !route_agents_apply(r->ready, rep, now)) {
        if (rep && rep->type == REDIS_REPLY_ERROR)
            log_error("route: snapshot of %s: %s", qc->name, rep->str);
        pass_step(r);
        return;
    }
    const redisReply *tr = rep->element[0];
    size_t nt = tr->type == REDIS_REPLY_ARRAY ? tr->elements : 0;
    struct rt_agent *agents = nt ? ctx_calloc(MAX_AGENTS, sizeof *agents) : NULL;
    size_t na = nt ? route_agents_copy(r->ready, agents, MAX_AGENTS) : 0;
    if (!nt || !na) {
        free(agents);
        pass_step(r);
        return;
    }
    struct rt_queue q;
    char names[RT_MAX_SKILLS][64];
    routing_queue_from_config(qc, &q, names);
    struct rt_task *tasks = ctx_calloc(nt, sizeof *tasks);
    json_t **refused = ctx_calloc(nt, sizeof *refused);
    const char **refused_ids = ctx_calloc(nt * 64, sizeof *refused_ids);
    struct rt_offer *offers = ctx_calloc(nt, sizeof *offers);
    size_t kept = 0;
    /* refusals are forgotten after a while, so a task refused by
     * everyone is offered again rather than waiting forever */
    long long forget = (long long)(qc->offer_timeout * 3000) > 10000
                           ? (long long)(qc->offer_timeout * 3000) : 10000;
    for (size_t i = 0; i < nt; i++) {
        /* id, channel, priority, arrived, order, lang, refused, not_before, need */
        const char *f[9];
        if (route_fields(tr->element[i], f, 9) != 9)
            continue;
        if (atoll(f[7]) > now)
            continue;       /* a callback not due yet */
        struct rt_task *t = &tasks[kept];
        t->id = f[0];
        if (!*t->id || channel_parse(f[1], &t->channel))
            continue;
        t->priority = atoi(f[2]);
        t->enqueued = atoll(f[3]);
        t->lang = *f[5] ? f[5] : NULL;
        refused[kept] = json_loads(*f[6] ? f[6] : "{}", 0, NULL);
        t->refused = &refused_ids[kept * 64];
        const char *ak;
        json_t *av;
        json_object_foreach(refused[kept], ak, av) {
            if (t->nrefused < 64 && now - json_integer_value(av) < forget)
                t->refused[t->nrefused++] = ak;
        }
        kept++;
    }
    size_t n = routing_decide(&q, tasks, kept, agents, na, now, offers, kept);
    if (n) {
        const char **tids = ctx_calloc(n, sizeof *tids), **aids = ctx_calloc(n, sizeof *aids);
        for (size_t i = 0; i < n; i++) {
            tids[i] = tasks[offers[i].task].id;
            aids[i] = agents[offers[i].agent].id;
            log_debug("route: offering %s to %s", tids[i], aids[i]);
        }
        r->pass_pending++;
        if (store_offers(r->cmd, r->st, qc->name, tids, aids, n, now,
                         now + (long long)(qc->offer_timeout * 1000), forget, on_offers, r))
            r->pass_pending--;
        free(tids);
        free(aids);
    }
    for (size_t i = 0; i < nt; i++)
        json_decref(refused[i]);
    free(tasks);
    free(agents);
    free(refused);
    free(refused_ids);
    free(offers);
    pass_step(r);
}

void route_pass(struct route_role *r)
{
    if (r->pass_running) {
        r->pass_again = true;   /* coalesce: one more pass after this one */
        return;
    }
    if (!rconn_up(r->cmd) || r->stopping)
        return;
    r->pass_running = true;
    r->pass_t0 = uv_hrtime();
    r->pass_pending = 1;
    for (size_t i = 0; i < r->cfg->nqueues; i++) {
        struct snap_ctx *sc = ctx_malloc(sizeof *sc);
        sc->r = r;
        sc->qc = &r->cfg->queues[i];
        r->pass_pending++;
        if (store_route_snapshot(r->cmd, r->st, sc->qc->name, HEAD, MAX_AGENTS,
                                 route_agents_since(r->ready, ctx_now_ms()), on_snapshot, sc)) {
            r->pass_pending--;
            free(sc);
        }
    }
    pass_step(r);
}

/* ---- wake-ups: follow the routing events ---- */

static void wake_read(struct route_role *r);

static void on_wake(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct route_role *r = priv;
    r->wake_reading = false;
    if (!rep)
        return;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
        rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 2) {
        const redisReply *entries = rep->element[0]->element[1];
        bool wake = false;
        for (size_t i = 0; i < entries->elements; i++) {
            const redisReply *e = entries->element[i];
            if (e->type != REDIS_REPLY_ARRAY || !e->element[0]->str)
                continue;
            snprintf(r->wake_last, sizeof r->wake_last, "%s", e->element[0]->str);
            const char *type = hfield(e->element[1], "type");
            /* our own offers wake nobody; everything else may free or need an agent */
            if (!type || strcmp(type, "offered") != 0)
                wake = true;
        }
        if (wake)
            route_pass(r);
    }
    wake_read(r);
}

static void wake_read(struct route_role *r)
{
    if (r->wake_reading || r->stopping || !rconn_up(r->wake))
        return;
    if (store_routing_wait(r->wake, r->st, r->wake_last, on_wake, r) == CTX_OK)
        r->wake_reading = true;
}

/* The ready agents set (and, on a Redis from before them, the queues' live
 * counts and arrivals) is made again once the command connection is up
 * (store/KEYS.md): from then on the scripts keep them, and the first pass
 * runs after it. */
static void on_indexed(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct route_role *r = priv;
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
        rep->element[0]->type == REDIS_REPLY_INTEGER &&
        rep->element[1]->type == REDIS_REPLY_INTEGER)
        log_info("route: %lld agents ready%s", rep->element[0]->integer,
                 rep->element[1]->integer ? "; queue counts and arrivals built" : "");
    else if (rep && rep->type == REDIS_REPLY_ERROR)
        log_error("route: ready agents: %s", rep->str);
    route_pass(r);
}

static void on_cmd_state(struct rconn *rc, bool up, void *priv)
{
    struct route_role *r = priv;
    if (!up || r->stopping)
        return;
    /* another Redis, maybe, or one that went back: our copy of the agents
     * is read again in full */
    route_agents_forget(r->ready);
    const char **names = ctx_calloc(r->cfg->nqueues + 1, sizeof *names);
    for (size_t i = 0; i < r->cfg->nqueues; i++)
        names[i] = r->cfg->queues[i].name;
    store_route_index(rc, r->st, names, r->cfg->nqueues, on_indexed, r);
    free(names);
}

static void on_wake_state(struct rconn *rc, bool up, void *priv)
{
    (void)rc;
    struct route_role *r = priv;
    if (up) {
        route_pass(r);
        wake_read(r);
    }
}
ctx_err route_role_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
                         struct route_role **out)
{
    struct route_role *r = ctx_calloc(1, sizeof *r);
    r->loop = loop;
    r->cfg = cfg;
    r->st = st;
    snprintf(r->wake_last, sizeof r->wake_last, "$");
    r->ready = route_agents_new();
    route_timers_start(r);
    ctx_err e = store_conn_new(st, "route", on_cmd_state, r, &r->cmd);
    if (!e)
        e = escalate_start(r);
    if (!e)
        e = store_conn_new(st, "route-wake", on_wake_state, r, &r->wake);
    if (e) {
        route_role_stop(r);
        return e;
    }
    log_info("route: %zu queues, %zu escalation rules", cfg->nqueues, cfg->nescalation);
    *out = r;
    return CTX_OK;
}

void route_role_stop(struct route_role *r)
{
    if (!r)
        return;
    r->stopping = true;
    rconn_free(r->wake);
    escalate_stop(r);
    rconn_free(r->cmd);         /* scripts in flight are called back: the lanes still exist */
    escalate_free(r);
    route_timers_stop(r);
    route_agents_free(r->ready);
    free(r);
}
