/* route.c -- the route role: tagged items become tasks, tasks become offers.
 *
 * Three inputs wake the router: the tagged stream (consumer group "route":
 * escalation rules turn an item into a social task, idempotently keyed by
 * the item id), the routing events stream (anything queued, refused,
 * finished or an agent's state change: run a pass now), and a 250 ms timer
 * (offer timeouts, wrap-up ends, agents past their presence grace).
 *
 * A pass, per queue: route_snapshot.lua reads the head of the line and the
 * agents free to take work; routing_decide() (pure, routing/decide.c)
 * pairs them; offer.lua commits each pair after re-checking it atomically.
 * Several routers may run against one Redis: a pair another router got to
 * first is refused by offer.lua and simply skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "core/clock.h"
#include "collectors/collectors.h"
#include "core/log.h"
#include "ctxd/roles.h"
#include "routing/routing.h"

#define HEAD 64                 /* tasks per queue and pass */
#define MAX_AGENTS 2048

struct route_role {
    uv_loop_t *loop;
    const struct config *cfg;
    struct store *st;
    struct rconn *cmd, *wake;
    struct group_reader *tagged;   /* ctx:items:tagged, group "route" */
    uv_timer_t *tick, *soon;
    bool pass_running, pass_again;
    unsigned pass_pending;      /* snapshots or offers in flight */
    char wake_last[48];
    bool wake_reading, stopping;
    unsigned inflight;
    unsigned long long offers_made, offers_lost, tasks_created;
    unsigned long long ticks;
};

static const struct config_queue *queue_cfg(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nqueues; i++)
        if (strcmp(cfg->queues[i].name, name) == 0)
            return &cfg->queues[i];
    return NULL;
}

/* ---- tasks ---- */

/* ---- escalation: the tagged stream, group "route" ---- */


static void on_task_made(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct route_role *r = priv;
    if (rep && ((rep->type == REDIS_REPLY_INTEGER && rep->integer == 1) ||
                (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
                 rep->element[1]->integer == 1)))
        r->tasks_created++;
    else if (rep && rep->type == REDIS_REPLY_ERROR)
        log_warn("route: task not created: %s", rep->str);
    if (--r->inflight == 0 && !r->stopping)
        group_reader_done(r->tagged);
}

static const char *chat_queue(const struct config *cfg)
{
    if (cfg->chat_queue)
        return cfg->chat_queue;
    for (size_t i = 0; i < cfg->nqueues; i++)
        if (cfg->queues[i].channels.n == 0 || strlist_has(&cfg->queues[i].channels, "chat"))
            return cfg->queues[i].name;
    return NULL;
}

/* A message of a one-to-one conversation on a network: it joins the
 * conversation's open chat task or opens one (chat_inbound.lua). */
static void conversation_message(struct route_role *r, const struct item *it, const char *lang)
{
    const char *queue = chat_queue(r->cfg);
    const struct config_queue *qc = queue ? queue_cfg(r->cfg, queue) : NULL;
    if (!qc || !it->reply_network || !it->reply_ref) {
        log_warn("route: %s is a private conversation but no queue takes chats", it->id);
        return;
    }
    long long now = ctx_now_ms();
    size_t chat_len = strcspn(it->reply_ref, ":");     /* ref is "<chat>:<message>" */
    char id[200], created[CTX_TIME_LEN];
    snprintf(id, sizeof id, "chat:%s:%.*s:%lld", it->reply_network, (int)chat_len, it->reply_ref,
             now);
    struct rt_queue q = {.aging = qc->aging};
    struct rt_task t = {.enqueued = now};
    ctx_time_format(now / 1000, created);
    const char *name = it->author.name ? it->author.name : it->author.handle;
    json_t *m = json_pack("{s:s,s:s?,s:s,s:s?}", "from", "customer", "name", name, "text",
                          it->text ? it->text : "", "at", it->published);
    char *mj = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    struct store_inbound in = {
        .network = it->reply_network, .chat = it->reply_ref, .chat_len = chat_len, .task = id,
        .queue = qc->name, .now = now, .sla_due = now + (long long)(qc->sla * 1000),
        .order = routing_order(&q, &t), .created = created, .item = it->id,
        .message = mj ? mj : "{}", .name = name, .lang = lang};
    r->inflight++;
    if (store_chat_inbound(r->cmd, r->st, &in, on_task_made, r))
        r->inflight--;
    free(mj);
}

static void escalate_entry(struct route_role *r, const redisReply *e)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || !e->element[0]->str)
        return;
    const char *sid = e->element[0]->str, *payload = NULL;
    const redisReply *f = e->element[1];
    for (size_t i = 0; f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements; i += 2)
        if (f->element[i]->str && strcmp(f->element[i]->str, "item") == 0)
            payload = f->element[i + 1]->str;
    json_t *j = payload ? json_loads(payload, 0, NULL) : NULL;
    struct item it;
    struct tags tags = {0};
    int rule = -1;
    bool pending = false;       /* not acked: read again after a reconnection */
    if (j && item_from_json(j, &it) == CTX_OK) {
        bool conv = it.conversation && strcmp(it.conversation, "private") == 0;
        if (tags_from_json(json_object_get(j, "tags"), &tags) != CTX_OK) {
            log_error("route: out of memory reading the tags of %s; left pending", it.id);
            pending = true;
        } else if (conv) {
            conversation_message(r, &it, it.lang);
        } else {
            rule = escalation_match(r->cfg, &tags, it.lang, it.author.followers,
                                    tags.duplicate_of != NULL);
        }
        if (rule >= 0) {
            const struct config_escalation *esc = &r->cfg->escalation[rule];
            char id[600];
            snprintf(id, sizeof id, "social:%s", it.id);
            json_t *extra = json_pack("{s:s,s:s?,s:s?}", "item", it.id, "lang", it.lang,
                                      "rule", esc->name);
            r->inflight++;
            if (store_task_new(r->cmd, r->st, r->cfg, id, "social", esc->queue, esc->priority,
                               extra, on_task_made, r))
                r->inflight--;
            json_decref(extra);
        }
        item_clear(&it);
    }
    tags_clear(&tags);
    json_decref(j);
    /* acked after the task script is queued on the same connection: in order */
    if (!pending)
        store_tagged_ack(r->cmd, r->st, sid);
}

static void on_tagged(const redisReply *entries, void *priv)
{
    struct route_role *r = priv;
    r->inflight = 1;            /* held while the batch is being sent */
    for (size_t i = 0; i < entries->elements; i++)
        escalate_entry(r, entries->element[i]);
    if (--r->inflight == 0 && !r->stopping)
        group_reader_done(r->tagged);
}

/* ---- a routing pass ---- */

static void pass_start(struct route_role *r);

static void pass_step(struct route_role *r)
{
    if (--r->pass_pending)
        return;
    r->pass_running = false;
    if (r->pass_again && !r->stopping) {
        r->pass_again = false;
        pass_start(r);
    }
}

/* Ids are held whole (a flexible member, as long as they come): a task id
 * cut to a buffer would name another task, and that offer would never time
 * out. */
struct offer_ctx {
    struct route_role *r;
    const char *agent;          /* in text, after the task id */
    char text[];                /* task id, NUL, agent id, NUL */
};

static struct offer_ctx *offer_ctx_new(struct route_role *r, const char *task,
                                       const char *agent)
{
    size_t tl = strlen(task), al = strlen(agent);
    struct offer_ctx *o = malloc(sizeof *o + tl + al + 2);
    if (!o)
        return NULL;
    o->r = r;
    memcpy(o->text, task, tl + 1);
    memcpy(o->text + tl + 1, agent, al + 1);
    o->agent = o->text + tl + 1;
    return o;
}

static void on_offer(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct offer_ctx *o = priv;
    struct route_role *r = o->r;
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
        rep->element[0]->type == REDIS_REPLY_INTEGER) {
        if (rep->element[0]->integer == 1) {
            r->offers_made++;
            log_debug("route: %s offered to %s", o->text, o->agent);
        } else {
            r->offers_lost++;   /* someone else got there first: fine */
            r->pass_again = true;
        }
    } else if (rep && rep->type == REDIS_REPLY_ERROR) {
        log_error("route: offer: %s", rep->str);
    }
    free(o);
    pass_step(r);
}

static const char *hfield(const redisReply *h, const char *name)
{
    for (size_t i = 0; h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
        if (h->element[i]->str && strcmp(h->element[i]->str, name) == 0)
            return h->element[i + 1]->str;
    return NULL;
}

static long long hnum(const redisReply *h, const char *name)
{
    const char *v = hfield(h, name);
    return v ? atoll(v) : 0;
}

/* Skills and languages are stored as JSON: {"billing":80} and ["en","ru"]. */
struct agent_mem {
    json_t *skills, *langs;
};

static void agent_from_hash(const redisReply *h, struct rt_agent *a, struct agent_mem *m)
{
    memset(a, 0, sizeof *a);
    a->id = hfield(h, "id");
    a->state = AG_AVAILABLE;    /* the snapshot holds available agents only */
    for (int c = 0; c < CH_COUNT; c++) {
        char k[32];
        snprintf(k, sizeof k, "cap:%s", channel_name((enum channel)c));
        a->capacity[c] = (int)hnum(h, k);
        snprintf(k, sizeof k, "load:%s", channel_name((enum channel)c));
        a->load[c] = (int)hnum(h, k);
    }
    a->callback_blocks_chat = hnum(h, "callback_blocks_chat") != 0;
    a->offers = (int)hnum(h, "offers");
    a->idle_since = hnum(h, "idle_since");
    a->last_offer = hnum(h, "last_offer");
    a->handled = hnum(h, "handled");
    const char *sk = hfield(h, "skills"), *lg = hfield(h, "langs");
    m->skills = sk ? json_loads(sk, 0, NULL) : NULL;
    m->langs = lg ? json_loads(lg, 0, NULL) : NULL;
    const char *k;
    json_t *v;
    json_object_foreach(m->skills, k, v) {
        if (a->nskills == RT_MAX_SKILLS)
            break;
        a->skills[a->nskills].name = k;
        a->skills[a->nskills++].level = (int)json_integer_value(v);
    }
    size_t i;
    json_array_foreach(m->langs, i, v) {
        if (a->nlangs < RT_MAX_LANGS && json_is_string(v))
            a->langs[a->nlangs++] = json_string_value(v);
    }
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
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
        if (rep && rep->type == REDIS_REPLY_ERROR)
            log_error("route: snapshot of %s: %s", qc->name, rep->str);
        pass_step(r);
        return;
    }
    const redisReply *tr = rep->element[0], *ar = rep->element[1];
    size_t nt = tr->elements, na = ar->elements < MAX_AGENTS ? ar->elements : MAX_AGENTS;
    if (!nt || !na) {
        pass_step(r);
        return;
    }
    long long now = ctx_now_ms();
    struct rt_queue q;
    char names[RT_MAX_SKILLS][64];
    routing_queue_from_config(qc, &q, names);
    struct rt_task *tasks = calloc(nt, sizeof *tasks);
    struct rt_agent *agents = calloc(na, sizeof *agents);
    struct agent_mem *mem = calloc(na, sizeof *mem);
    json_t **refused = calloc(nt, sizeof *refused);
    const char **refused_ids = calloc(nt * 64, sizeof *refused_ids);
    struct rt_offer *offers = calloc(nt, sizeof *offers);
    size_t n = 0, kept = 0;
    long long forget = 10000;
    if (tasks && agents && mem && refused && refused_ids && offers) {
        /* refusals are forgotten after a while, so a task refused by
         * everyone is offered again rather than waiting forever */
        forget = (long long)(qc->offer_timeout * 3000) > 10000
                     ? (long long)(qc->offer_timeout * 3000) : 10000;
        for (size_t i = 0; i < nt; i++) {
            const redisReply *f = tr->element[i];
            if (f->type != REDIS_REPLY_ARRAY || f->elements < 9)
                continue;
            if (atoll(f->element[7]->str ? f->element[7]->str : "0") > now)
                continue;       /* a callback not due yet */
            struct rt_task *t = &tasks[kept];
            t->id = f->element[0]->str;
            if (!t->id || channel_parse(f->element[1]->str ? f->element[1]->str : "", &t->channel))
                continue;
            t->priority = atoi(f->element[2]->str ? f->element[2]->str : "0");
            t->enqueued = atoll(f->element[3]->str ? f->element[3]->str : "0");
            t->lang = f->element[5]->str && *f->element[5]->str ? f->element[5]->str : NULL;
            refused[kept] = json_loads(f->element[6]->str ? f->element[6]->str : "{}", 0, NULL);
            t->refused = &refused_ids[kept * 64];
            const char *ak;
            json_t *av;
            json_object_foreach(refused[kept], ak, av) {
                if (t->nrefused < 64 && now - json_integer_value(av) < forget)
                    t->refused[t->nrefused++] = ak;
            }
            kept++;
        }
        for (size_t i = 0; i < na; i++)
            agent_from_hash(ar->element[i], &agents[i], &mem[i]);
        n = routing_decide(&q, tasks, kept, agents, na, now, offers, kept);
    }
    for (size_t i = 0; i < n; i++) {
        const struct rt_task *t = &tasks[offers[i].task];
        const struct rt_agent *a = &agents[offers[i].agent];
        struct offer_ctx *o = offer_ctx_new(r, t->id, a->id);
        if (!o)
            break;
        r->pass_pending++;
        if (store_offer(r->cmd, r->st, t->id, a->id, qc->name, now,
                        now + (long long)(qc->offer_timeout * 1000), forget, on_offer, o)) {
            r->pass_pending--;
            free(o);
        }
    }
    for (size_t i = 0; mem && i < na; i++) {
        json_decref(mem[i].skills);
        json_decref(mem[i].langs);
    }
    for (size_t i = 0; refused && i < nt; i++)
        json_decref(refused[i]);
    free(tasks);
    free(agents);
    free(mem);
    free(refused);
    free(refused_ids);
    free(offers);
    pass_step(r);
}

static void pass_start(struct route_role *r)
{
    if (r->pass_running) {
        r->pass_again = true;   /* coalesce: one more pass after this one */
        return;
    }
    if (!rconn_up(r->cmd) || r->stopping)
        return;
    r->pass_running = true;
    r->pass_pending = 1;
    for (size_t i = 0; i < r->cfg->nqueues; i++) {
        struct snap_ctx *sc = malloc(sizeof *sc);
        if (!sc)
            break;
        sc->r = r;
        sc->qc = &r->cfg->queues[i];
        r->pass_pending++;
        if (store_route_snapshot(r->cmd, r->st, sc->qc->name, HEAD, on_snapshot, sc)) {
            r->pass_pending--;
            free(sc);
        }
    }
    pass_step(r);
}

/* ---- housekeeping on the tick: timeouts, wrap-ups, presence ---- */

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
        pass_start(r);          /* capacity may have freed up */
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

struct timeout_ctx {
    struct route_role *r;
    char task[];                /* whole, however long (see offer_ctx) */
};

static void on_offer_task(struct rconn *rc, redisReply *rep, void *priv)
{
    struct timeout_ctx *t = priv;
    struct route_role *r = t->r;
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 && rep->element[0]->str &&
        rep->element[1]->str && *rep->element[0]->str) {
        const char *agent = rep->element[0]->str, *queue = rep->element[1]->str;
        const struct config_queue *qc = queue_cfg(r->cfg, queue);
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
        struct timeout_ctx *t = malloc(sizeof *t + len + 1);
        if (!t)
            break;
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
        const struct config_queue *to = qc->overflow_queue ? queue_cfg(r->cfg, qc->overflow_queue)
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
        store_abandon(rc, r->st, task, chat_queue(r->cfg), ctx_now_ms(), NULL, NULL);
    }
}

static void tick_fire(uv_timer_t *tm)
{
    struct route_role *r = tm->data;
    if (!rconn_up(r->cmd))
        return;
    long long now = ctx_now_ms();
    store_due(r->cmd, r->st, STORE_DUE_OFFERS, now, on_expired, r);
    struct hk_ctx *w = malloc(sizeof *w), *p = malloc(sizeof *p);
    if (w) {
        *w = (struct hk_ctx){r, 1};
        if (store_due(r->cmd, r->st, STORE_DUE_WRAPUPS, now, on_due, w))
            free(w);
    }
    if (p) {
        *p = (struct hk_ctx){r, 2};
        if (store_due(r->cmd, r->st, STORE_DUE_DISCONNECTED,
                      now - (long long)(r->cfg->presence_grace * 1000), on_due, p))
            free(p);
    }
    overflow(r, now);
    if (++r->ticks % 4 == 0) {  /* every 1 s: connections of nodes that stopped beating */
        store_presence_sweep(r->cmd, r->st, now, (long long)(r->cfg->presence_timeout * 1000),
                             NULL, NULL);
        store_due(r->cmd, r->st, STORE_DUE_CHATS_LEFT,
                  now - (long long)(r->cfg->presence_grace * 1000), on_left_chats, r);
    }
    pass_start(r);              /* callbacks coming due, missed wake-ups */
    group_reader_poke(r->tagged);
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
            pass_start(r);
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

static void on_wake_state(struct rconn *rc, bool up, void *priv)
{
    (void)rc;
    struct route_role *r = priv;
    if (up) {
        pass_start(r);
        wake_read(r);
    }
}

/* "$": items tagged before routing was ever configured stay monitored only
 * (the analyze role creates the group too, before its first tagged item). */
static const struct group_opts tagged_group = {
    .name = "route", .stream = KEY_TAGGED, .group = GROUP_ROUTE, .start_id = "$", .count = 64,
};

ctx_err route_role_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
                         struct route_role **out)
{
    struct route_role *r = calloc(1, sizeof *r);
    if (!r)
        return CTX_ENOMEM;
    r->loop = loop;
    r->cfg = cfg;
    r->st = st;
    snprintf(r->wake_last, sizeof r->wake_last, "$");
    r->tick = malloc(sizeof *r->tick);
    if (!r->tick) {
        free(r);
        return CTX_ENOMEM;
    }
    uv_timer_init(loop, r->tick);
    r->tick->data = r;
    uv_timer_start(r->tick, tick_fire, 250, 250);
    ctx_err e = store_conn_new(st, "route", NULL, NULL, &r->cmd);
    if (!e)
        e = group_reader_start(st, &tagged_group, on_tagged, r, &r->tagged);
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

static void handle_free(uv_handle_t *h)
{
    free(h);
}

void route_role_stop(struct route_role *r)
{
    if (!r)
        return;
    r->stopping = true;
    rconn_free(r->wake);
    group_reader_stop(r->tagged);
    rconn_free(r->cmd);
    uv_close((uv_handle_t *)r->tick, handle_free);
    free(r);
}
