/* agent.c -- /ws/agent (subprotocol ctx.agent.v1): the agent console's
 * connection.
 *
 * The first frame must be {"type":"hello","token":…}; the token's SHA-1
 * finds the agent (ctx:agent-token:<sha1>). Then the agent sends state,
 * accept, reject, reply, transfer, callback and done; each is one Lua
 * script (the .lua files of store/) that checks the task is really offered or assigned
 * to this agent, so a stale or forged frame gets {"type":"error"} and
 * changes nothing. Frames to agents come from the ctx:agent-events stream,
 * which every serve node follows, so an offer made by a router anywhere
 * reaches the agent wherever it is connected; offers and assignments are
 * sent with the task and its item (or the chat so far). On hello the
 * agent also gets back every task it holds, so a reconnecting console
 * picks up where it was. Bad frames get an error and the connection stays. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/hash.h"
#include "core/clock.h"
#include "routing/routing.h"
#include "store/store.h"
#include "ws/ws_internal.h"

#define MAX_RX 65536

struct asess;

struct asess {
    struct lws *wsi;
    struct agents *ag;
    struct asess *prev, *next;
    struct wref *ref;
    struct outq q;
    struct buf rx;
    bool rx_too_big;
    bool authed, authing;
    struct strlist early;       /* frames that arrived while hello was being checked */
    char agent[72];
    char name[128];
    bool supervisor;
    bool watching;              /* hello "as":"supervisor": watches, takes no tasks */
    char conn[160];             /* this connection's id in the agent's conns zset */
};

struct agents {
    struct serve *s;
    struct follower *events;
    struct asess *sessions;
    unsigned n;
    uv_timer_t *stats_timer;    /* queue_stats for supervisors, every 2 s */
    uv_timer_t *beat_timer;     /* presence heartbeats for the agents connected here */
    char node[128];             /* this process, in connection ids */
    unsigned long long conn_seq;
    json_t *queues;             /* the last queue figures, waiting for the agents' */
    bool stats_running;
};

size_t agent_pss_size(void)
{
    return sizeof(struct asess);
}

unsigned agents_connected(const struct agents *a)
{
    return a ? a->n : 0;
}

static struct wref *ref_take(struct asess *s)
{
    return wref_take(s->ref);
}

static struct asess *ref_drop(struct wref *r)
{
    return wref_drop(r);
}

static void err(struct asess *s, const char *code, const char *msg)
{
    outq_error(&s->q, s->wsi, code, msg);
}

/* An error about one task names it, so a console can show it in the right tab. */
static void err_task(struct asess *s, const char *code, const char *msg, const char *task)
{
    outq_json(&s->q, s->wsi, json_pack("{s:s,s:s,s:s,s:s}", "type", "error", "code", code,
                                       "message", msg, "task", task));
}

/* ---- frames with a task: the task hash, its item or chat history ---- */

struct task_frame {
    struct wref *ref;
    struct store *st;
    char type[16];
    json_t *extra;              /* fields added to the frame */
    json_t *task;
};

static json_t *hash_json(const redisReply *h)
{
    json_t *o = json_object();
    for (size_t i = 0; h && h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
        if (h->element[i]->str && h->element[i + 1]->str)
            json_object_set_new(o, h->element[i]->str, json_string(h->element[i + 1]->str));
    return o;
}

static void task_frame_send(struct task_frame *tf, json_t *item, json_t *history)
{
    struct asess *s = ref_drop(tf->ref);
    if (s) {
        json_t *f = json_pack("{s:s,s:O}", "type", tf->type, "task", tf->task);
        json_object_set_new(f, "item", item ? item : json_null());
        if (history)
            json_object_set_new(f, "history", history);
        json_object_update(f, tf->extra);
        outq_json(&s->q, s->wsi, f);
    } else {
        json_decref(item);
        json_decref(history);
    }
    json_decref(tf->extra);
    json_decref(tf->task);
    free(tf);
}

static void on_task_history(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    json_t *h = json_array();
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
        json_t *m = rep->element[i]->str ? json_loads(rep->element[i]->str, 0, NULL) : NULL;
        if (m)
            json_array_append_new(h, m);
    }
    task_frame_send(priv, NULL, h);
}

static void on_task_item(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    json_t *item = rep && rep->type == REDIS_REPLY_STRING ? json_loads(rep->str, 0, NULL) : NULL;
    task_frame_send(priv, item, NULL);
}

static void on_task_hash(struct rconn *rc, redisReply *rep, void *priv)
{
    struct task_frame *tf = priv;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements == 0) {
        ref_drop(tf->ref);
        json_decref(tf->extra);
        free(tf);
        return;
    }
    tf->task = hash_json(rep);
    json_object_del(tf->task, "refused");
    const char *ch = json_string_value(json_object_get(tf->task, "channel"));
    const char *item = json_string_value(json_object_get(tf->task, "item"));
    const char *id = json_string_value(json_object_get(tf->task, "id"));
    ctx_err e = CTX_EINVAL;
    if (ch && strcmp(ch, "chat") == 0 && id)
        e = store_read(rc, tf->st, STORE_CHAT_HISTORY, id, on_task_history, tf);
    else if (item)
        e = store_read(rc, tf->st, STORE_ITEM_JSON, item, on_task_item, tf);
    if (e)
        task_frame_send(tf, NULL, NULL);
}

static void send_task(struct asess *s, const char *type, const char *task, json_t *extra)
{
    struct task_frame *tf = calloc(1, sizeof *tf);
    if (!tf) {
        json_decref(extra);
        return;
    }
    tf->ref = ref_take(s);
    tf->st = s->ag->s->st;
    snprintf(tf->type, sizeof tf->type, "%s", type);
    tf->extra = extra ? extra : json_object();
    if (store_read(s->ag->s->cmd, s->ag->s->st, STORE_TASK, task, on_task_hash, tf)) {
        ref_drop(tf->ref);
        json_decref(tf->extra);
        free(tf);
    }
}

/* ---- events from any node, for the agents connected here ---- */

static void on_event(const char *id, const redisReply *f, void *priv)
{
    (void)id;
    struct agents *ag = priv;
    const char *agent = stream_field(f, "agent"), *type = stream_field(f, "type");
    if (!agent || !type)
        return;
    for (struct asess *s = ag->sessions; s; s = s->next) {
        if (!s->authed || strcmp(s->agent, agent) != 0)
            continue;
        const char *task = stream_field(f, "task");
        if ((strcmp(type, "offer") == 0 || strcmp(type, "assigned") == 0) && task) {
            json_t *extra = json_object();
            const char *exp = stream_field(f, "expires");
            if (exp) {
                double in = (double)(atoll(exp) - ctx_now_ms()) / 1000.0;
                json_object_set_new(extra, "expires_in", json_real(in > 0 ? in : 0));
            }
            send_task(s, type, task, extra);
            continue;
        }
        json_t *fr = json_pack("{s:s}", "type", type);
        static const char *const keys[] = {"task", "reason", "state", "until", "reply",
                                           "item", "status", "error", "ref"};
        for (size_t k = 0; k < CTX_ARRAY_LEN(keys); k++) {
            const char *v = stream_field(f, keys[k]);
            if (v && *v)
                json_object_set_new(fr, keys[k], json_string(v));
        }
        const char *msg = stream_field(f, "message");
        json_t *m = msg ? json_loads(msg, 0, NULL) : NULL;
        if (m)
            json_object_set_new(fr, "message", m);
        outq_json(&s->q, s->wsi, fr);
    }
}

/* Presence of one connection (presence.lua): 'connect', 'beat', 'disconnect'. */
static void presence(struct asess *s, const char *what)
{
    struct serve *sv = s->ag->s;
    store_presence(sv->cmd, sv->st, s->agent, what, s->conn, ctx_now_ms(),
                   (long long)(sv->cfg->presence_timeout * 1000), NULL, NULL);
}

static void beat_fire(uv_timer_t *t)
{
    struct agents *ag = t->data;
    for (struct asess *s = ag->sessions; s; s = s->next)
        if (s->authed && !s->watching)
            presence(s, "beat");
}

/* ---- queue_stats for supervisors: the figures of /api/queues and
 * /api/agents pushed every 2 s while a supervisor is connected ---- */

static void on_stats_agents(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct agents *ag = priv;
    ag->stats_running = false;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || !ag->queues)
        return;
    json_t *agents = agents_json(rep);
    json_t *frame = json_pack("{s:s,s:O,s:o}", "type", "queue_stats", "queues", ag->queues,
                              "agents", agents);
    char *text = json_dumps(frame, CTX_JSON_FLAGS);
    json_decref(frame);
    json_decref(ag->queues);
    ag->queues = NULL;
    for (struct asess *s = ag->sessions; text && s; s = s->next)
        if (s->authed && s->supervisor)
            outq_text(&s->q, s->wsi, text, strlen(text));
    free(text);
}

static void on_stats_queues(struct rconn *rc, redisReply *rep, void *priv)
{
    struct agents *ag = priv;
    if (!rep || rep->type != REDIS_REPLY_ARRAY) {
        ag->stats_running = false;
        return;
    }
    json_decref(ag->queues);
    ag->queues = queues_json(ag->s->cfg, rep);
    if (store_agents_list(rc, ag->s->st, on_stats_agents, ag))
        ag->stats_running = false;
}

static void stats_fire(uv_timer_t *t)
{
    struct agents *ag = t->data;
    bool any = false;
    for (struct asess *s = ag->sessions; s && !any; s = s->next)
        any = s->authed && s->supervisor;
    if (!any || ag->stats_running)
        return;
    ag->stats_running = true;
    if (queue_stats_eval(ag->s, on_stats_queues, ag))
        ag->stats_running = false;
}

ctx_err agents_new(struct serve *s, struct agents **out)
{
    struct agents *ag = calloc(1, sizeof *ag);
    if (!ag || !(ag->stats_timer = malloc(sizeof *ag->stats_timer))) {
        free(ag);
        return CTX_ENOMEM;
    }
    ag->s = s;
    uv_timer_init(s->loop, ag->stats_timer);
    ag->stats_timer->data = ag;
    uv_timer_start(ag->stats_timer, stats_fire, 2000, 2000);
    store_consumer_name(s->cfg, ag->node, sizeof ag->node);
    if (!(ag->beat_timer = malloc(sizeof *ag->beat_timer))) {
        agents_free(ag);
        return CTX_ENOMEM;
    }
    uv_timer_init(s->loop, ag->beat_timer);
    ag->beat_timer->data = ag;
    /* three beats per presence_timeout: one lost beat does not count a connection gone */
    uint64_t beat = (uint64_t)(s->cfg->presence_timeout * 1000 / 3);
    uv_timer_start(ag->beat_timer, beat_fire, beat, beat);
    ctx_err e = follower_start(s->st, KEY_AGENT_EVENTS, on_event, ag, &ag->events);
    if (e) {
        agents_free(ag);
        return e;
    }
    *out = ag;
    return CTX_OK;
}

static void handle_free(uv_handle_t *h)
{
    free(h);
}

void agents_free(struct agents *ag)
{
    if (!ag)
        return;
    follower_stop(ag->events);
    uv_close((uv_handle_t *)ag->stats_timer, handle_free);
    if (ag->beat_timer)
        uv_close((uv_handle_t *)ag->beat_timer, handle_free);
    json_decref(ag->queues);
    free(ag);
}

/* ---- requests: look the task up, then run its script ---- */

enum op { OP_STATE, OP_ACCEPT, OP_REJECT, OP_DONE, OP_TRANSFER, OP_REPLY, OP_CALLBACK,
          OP_TYPING };

struct req {
    struct wref *ref;
    enum op op;
    char agent[72], name[128];
    char task[256];
    char arg[320];              /* state, queue, phone or a new task id */
    char *text;
};

/* The request's session, or NULL once it has closed. */
static struct asess *req_sess(const struct req *q)
{
    return q->ref->p;
}

static void req_end(struct req *q)
{
    ref_drop(q->ref);
    free(q->text);
    free(q);
}

/* The end of a request: an error naming the task, or an acknowledgement
 * ({"type":"ok","op":"done","task":…}) so a console knows it took. */
static void on_script(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    static const char *const op_names[] = {
        [OP_STATE] = "state", [OP_ACCEPT] = "accept", [OP_REJECT] = "reject", [OP_DONE] = "done",
        [OP_TRANSFER] = "transfer", [OP_REPLY] = "reply", [OP_CALLBACK] = "callback",
        [OP_TYPING] = "typing",
    };
    struct req *q = priv;
    struct asess *s = req_sess(q);
    if (s) {
        json_t *f = NULL;
        if (!rep || rep->type == REDIS_REPLY_ERROR) {
            char code[32] = "unavailable";
            const char *msg = "redis is away; try again";
            if (rep) {
                const char *sp = strchr(rep->str, ' ');
                snprintf(code, sizeof code, "%.*s", sp ? (int)(sp - rep->str) : 31, rep->str);
                for (char *c = code; *c; c++)
                    *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
                msg = sp ? sp + 1 : rep->str;
            }
            f = json_pack("{s:s,s:s,s:s}", "type", "error", "code", code, "message", msg);
        } else if (q->op == OP_CALLBACK) {
            f = json_pack("{s:s,s:s,s:s}", "type", "callback_queued", "task", q->arg,
                          "parent", q->task);
        } else if (q->op != OP_STATE && q->op != OP_ACCEPT && q->op != OP_TYPING) {
            /* state and accept are answered by their own frames (state, assigned) */
            f = json_pack("{s:s,s:s}", "type", "ok", "op", op_names[q->op]);
            if (q->op == OP_REPLY && q->arg[0])
                json_object_set_new(f, "reply", json_string(q->arg));
        }
        if (f && q->task[0])
            json_object_set_new(f, "task", json_string(q->task));
        if (f && q->op != OP_CALLBACK)
            json_object_set_new(f, "op", json_string(op_names[q->op]));
        if (f)
            outq_json(&s->q, s->wsi, f);
    }
    req_end(q);
}

static const struct config_queue *queue_cfg(const struct config *cfg, const char *name)
{
    for (size_t i = 0; name && i < cfg->nqueues; i++)
        if (strcmp(cfg->queues[i].name, name) == 0)
            return &cfg->queues[i];
    return NULL;
}

/* Queue the agent's text as a reply to `item` on its network (outbox). */
static ctx_err enqueue_reply(struct rconn *rc, struct serve *sv, struct req *q, const char *item)
{
    char rid[64];
    if (store_reply_id(rid, sizeof rid) != CTX_OK)
        return CTX_EIO;
    snprintf(q->arg, sizeof q->arg, "%s", rid);
    return store_reply_enqueue(rc, sv->st, rid, item, q->text, q->agent, on_script, q);
}

static void run_op(struct rconn *rc, struct req *q, const redisReply *t)
{
    struct serve *sv = req_sess(q) ? req_sess(q)->ag->s : NULL;
    if (!sv) {
        req_end(q);
        return;
    }
    const char *queue = stream_field(t, "queue"), *channel = stream_field(t, "channel");
    const struct config_queue *qc = queue_cfg(sv->cfg, queue);
    long long now = ctx_now_ms();
    ctx_err e = CTX_OK;
    if (!channel) {
        struct asess *s = req_sess(q);
        err_task(s, "no_task", "no such task", q->task);
        req_end(q);
        return;
    }
    switch (q->op) {
    case OP_ACCEPT: {
        e = store_accept(rc, sv->st, q->task, q->agent, queue, now, q->name, on_script, q);
        break;
    }
    case OP_REJECT:
        e = store_refuse(rc, sv->st, q->task, q->agent, queue, now, "rejected",
                         qc ? qc->max_no_answer : 3, on_script, q);
        break;
    case OP_DONE:
    case OP_TRANSFER: {
        const struct config_queue *to = q->op == OP_TRANSFER ? queue_cfg(sv->cfg, q->arg) : NULL;
        if (q->op == OP_TRANSFER && !to) {
            err_task(req_sess(q), "bad_queue", "no such queue", q->task);
            req_end(q);
            return;
        }
        struct rt_queue rq = {.aging = to ? to->aging : 0};
        const char *pr = stream_field(t, "priority"), *arr = stream_field(t, "arrived");
        struct rt_task rt = {.priority = pr ? atoi(pr) : 0, .enqueued = arr ? atoll(arr) : 0};
        e = store_finish(rc, sv->st, q->task, q->agent, now, qc ? qc->wrapup : 0.0,
                         to ? to->name : NULL, routing_order(&rq, &rt), on_script, q);
        break;
    }
    case OP_REPLY:
        if (strcmp(channel, "chat") == 0) {
            char at[CTX_TIME_LEN];
            ctx_time_format(ctx_now_ms() / 1000, at);
            json_t *m = json_pack("{s:s,s:s,s:s,s:s}", "from", "agent", "name", q->name,
                                  "text", q->text, "at", at);
            char *mj = json_dumps(m, JSON_COMPACT);
            json_decref(m);
            const char *origin = stream_field(t, "origin"), *item = stream_field(t, "item");
            bool network = origin && strcmp(origin, "network") == 0 && item;
            /* a chat on a network (Telegram): kept in the history, and posted */
            e = store_chat_message(rc, sv->st, q->task, queue, q->agent, mj ? mj : "{}", now,
                                   network ? NULL : on_script, network ? NULL : q);
            free(mj);
            if (!e && network)
                e = enqueue_reply(rc, sv, q, item);
        } else {
            const char *item = stream_field(t, "item"), *st = stream_field(t, "state"),
                       *ag = stream_field(t, "agent");
            if (!item || !st || strcmp(st, "assigned") || !ag || strcmp(ag, q->agent)) {
                err_task(req_sess(q), "not_assigned",
                         "this task is not assigned to you", q->task);
                req_end(q);
                return;
            }
            e = enqueue_reply(rc, sv, q, item);
        }
        break;
    case OP_CALLBACK: {
        const char *cbq = sv->cfg->callback_queue;
        for (size_t i = 0; !cbq && i < sv->cfg->nqueues; i++)
            if (strlist_has(&sv->cfg->queues[i].channels, "callback") ||
                sv->cfg->queues[i].channels.n == 0)
                cbq = sv->cfg->queues[i].name;
        if (!cbq) {
            err_task(req_sess(q), "no_queue", "no queue takes callbacks", q->task);
            req_end(q);
            return;
        }
        char id[300];
        snprintf(id, sizeof id, "callback:%s:%lld", q->task, ctx_now_ms());
        json_t *extra = json_pack("{s:s,s:s,s:s?}", "phone", q->text, "parent", q->task,
                                  "item", stream_field(t, "item"));
        snprintf(q->arg, sizeof q->arg, "%s", id);
        e = store_task_new(rc, sv->st, sv->cfg, id, "callback", cbq, 0, extra, on_script, q);
        json_decref(extra);
        break;
    }
    case OP_TYPING: {           /* the customer sees "… is typing": no state changes */
        const char *st = stream_field(t, "state"), *ag = stream_field(t, "agent");
        if (strcmp(channel, "chat") || !st || strcmp(st, "assigned") || !ag ||
            strcmp(ag, q->agent)) {
            err_task(req_sess(q), "not_assigned", "this chat is not assigned to you", q->task);
            req_end(q);
            return;
        }
        e = store_chat_typing(rc, sv->st, q->task, q->name, on_script, q);
        break;
    }
    case OP_STATE:
        break;
    }
    if (e) {
        if (req_sess(q))
            err_task(req_sess(q), "unavailable", "redis is away; try again", q->task);
        req_end(q);
    }
}

static void on_task_fields(struct rconn *rc, redisReply *rep, void *priv)
{
    struct req *q = priv;
    if (!req_sess(q) || !rep || rep->type != REDIS_REPLY_ARRAY) {
        if (req_sess(q))
            err_task(req_sess(q), "unavailable", "redis is away; try again", q->task);
        req_end(q);
        return;
    }
    run_op(rc, q, rep);
}

static void start_op(struct asess *s, enum op op, const char *task, const char *arg,
                     const char *text)
{
    struct req *q = calloc(1, sizeof *q);
    if (!q)
        return;
    q->ref = ref_take(s);
    q->op = op;
    snprintf(q->agent, sizeof q->agent, "%s", s->agent);
    snprintf(q->name, sizeof q->name, "%s", s->name);
    snprintf(q->task, sizeof q->task, "%s", task ? task : "");
    snprintf(q->arg, sizeof q->arg, "%s", arg ? arg : "");
    q->text = text ? strdup(text) : NULL;
    struct rconn *rc = s->ag->s->cmd;
    ctx_err e;
    if (op == OP_STATE) {
        e = store_agent_state(rc, s->ag->s->st, s->agent, q->arg, ctx_now_ms(), on_script, q);
    } else {
        e = store_read(rc, s->ag->s->st, STORE_TASK, q->task, on_task_fields, q);
    }
    if (e) {
        err(s, "unavailable", "redis is away; try again");
        req_end(q);
    }
}

/* ---- hello ---- */

static void handle(struct asess *s, const char *text, size_t len);

static void on_tasks_back(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct asess *s = ref_drop(priv);
    if (!s || !rep || rep->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i < rep->elements; i++)
        if (rep->element[i]->str)
            send_task(s, "resume", rep->element[i]->str, NULL);
}

static void on_agent(struct rconn *rc, redisReply *rep, void *priv)
{
    struct asess *s = ref_drop(priv);
    if (!s)
        return;
    s->authing = false;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements == 0) {
        strlist_clear(&s->early);
        outq_json(&s->q, s->wsi, json_pack("{s:s,s:s,s:s}", "type", "error", "code", "auth",
                                           "message", "unknown token"));
        s->q.close_when_sent = true;
        lws_callback_on_writable(s->wsi);
        return;
    }
    json_t *a = hash_json(rep);
    const char *role = json_string_value(json_object_get(a, "role"));
    if (role && strcmp(role, "viewer") == 0) {
        json_decref(a);
        strlist_clear(&s->early);
        outq_json(&s->q, s->wsi, json_pack("{s:s,s:s,s:s}", "type", "error", "code", "auth",
                                           "message", "a viewer token cannot take tasks"));
        s->q.close_when_sent = true;
        lws_callback_on_writable(s->wsi);
        return;
    }
    s->supervisor = role && strcmp(role, "supervisor") == 0;
    if (s->watching && !s->supervisor) {
        json_decref(a);
        strlist_clear(&s->early);
        outq_json(&s->q, s->wsi, json_pack("{s:s,s:s,s:s}", "type", "error", "code", "auth",
                                           "message", "this token is not a supervisor's"));
        s->q.close_when_sent = true;
        lws_callback_on_writable(s->wsi);
        return;
    }
    snprintf(s->agent, sizeof s->agent, "%s", json_string_value(json_object_get(a, "id")));
    const char *name = json_string_value(json_object_get(a, "name"));
    snprintf(s->name, sizeof s->name, "%s", name ? name : s->agent);
    s->authed = true;
    json_object_del(a, "token_sha");
    static const char *const js[] = {"skills", "langs"};
    for (size_t i = 0; i < CTX_ARRAY_LEN(js); i++) {
        json_t *v = json_loads(json_string_value(json_object_get(a, js[i])) ?: "null",
                               JSON_DECODE_ANY, NULL);
        json_object_set_new(a, js[i], v ? v : json_null());
    }
    if (s->watching) {          /* a supervisor's view: no presence, no tasks */
        outq_json(&s->q, s->wsi, json_pack("{s:s,s:o,s:b}", "type", "welcome", "agent", a,
                                           "watching", 1));
    } else {
        snprintf(s->conn, sizeof s->conn, "%s:%llu", s->ag->node, ++s->ag->conn_seq);
        presence(s, "connect");
        if (strcmp(json_string_value(json_object_get(a, "state")) ?: "", "offline") == 0)
            json_object_set_new(a, "state", json_string("away"));
        outq_json(&s->q, s->wsi, json_pack("{s:s,s:o}", "type", "welcome", "agent", a));
        store_read(rc, s->ag->s->st, STORE_AGENT_TASKS, s->agent, on_tasks_back, ref_take(s));
    }
    /* a client may send before it has seen the welcome: those frames now */
    struct strlist early = s->early;
    memset(&s->early, 0, sizeof s->early);
    for (size_t i = 0; i < early.n; i++)
        handle(s, early.v[i], strlen(early.v[i]));
    strlist_clear(&early);
}

static void on_token(struct rconn *rc, redisReply *rep, void *priv)
{
    struct asess *s = ref_drop(priv);
    if (!s)
        return;
    /* token_role.lua: {id, role, name} or nil */
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
        rep->element[0]->type != REDIS_REPLY_STRING) {
        on_agent(rc, NULL, ref_take(s));
        return;
    }
    if (store_read(rc, s->ag->s->st, STORE_AGENT, rep->element[0]->str, on_agent, ref_take(s))) {
        wref_drop(s->ref);
        s->authing = false;     /* or every later frame would wait for it */
        strlist_clear(&s->early);
        err(s, "unavailable", "redis is away; try again");
    }
}

static void hello(struct asess *s, const char *token)
{
    s->authing = true;
    if (store_token_role(s->ag->s->cmd, s->ag->s->st, token, on_token, ref_take(s))) {
        wref_drop(s->ref);
        s->authing = false;
        err(s, "unavailable", "redis is away; try again");
    }
}

/* ---- the protocol ---- */

static void handle(struct asess *s, const char *text, size_t len)
{
    if (s->authing) {           /* hello is being checked: keep the frame for after */
        if (s->early.n < 32 && memchr(text, '\0', len) == NULL)
            strlist_add(&s->early, text);
        else
            err(s, "too_early", "wait for the welcome");
        return;
    }
    json_error_t je;
    json_t *m = json_loadb(text, len, 0, &je);
    const char *type = json_string_value(json_object_get(m, "type"));
    const char *task = json_string_value(json_object_get(m, "task"));
    if (!m) {
        err(s, "bad_json", je.text);
    } else if (!json_is_object(m) || !type) {
        err(s, "bad_message", "a message is a JSON object with a \"type\"");
    } else if (strcmp(type, "ping") == 0) {
        outq_json(&s->q, s->wsi, json_pack("{s:s}", "type", "pong"));
    } else if (!s->authed) {
        const char *token = json_string_value(json_object_get(m, "token"));
        if (strcmp(type, "hello") != 0 || !token || !*token || strlen(token) > 256) {
            outq_json(&s->q, s->wsi, json_pack("{s:s,s:s,s:s}", "type", "error", "code", "auth",
                                               "message", "say hello with your token first"));
            s->q.close_when_sent = true;
            lws_callback_on_writable(s->wsi);
        } else if (!s->authing) {
            const char *as = json_string_value(json_object_get(m, "as"));
            s->watching = as && strcmp(as, "supervisor") == 0;
            hello(s, token);
        }
    } else if (s->watching) {
        err(s, "watching", "a supervisor's view takes no tasks; log in to the console for that");
    } else if (strcmp(type, "state") == 0) {
        const char *st = json_string_value(json_object_get(m, "state"));
        if (!st || (strcmp(st, "available") && strcmp(st, "away")))
            err(s, "bad_state", "state is available or away");
        else
            start_op(s, OP_STATE, NULL, st, NULL);
    } else {
        static const struct { const char *name; enum op op; const char *arg; } ops[] = {
            {"accept", OP_ACCEPT, NULL}, {"reject", OP_REJECT, NULL}, {"done", OP_DONE, NULL},
            {"transfer", OP_TRANSFER, "queue"}, {"reply", OP_REPLY, "text"},
            {"callback", OP_CALLBACK, "phone"}, {"typing", OP_TYPING, NULL},
        };
        size_t i;
        for (i = 0; i < CTX_ARRAY_LEN(ops) && strcmp(ops[i].name, type); i++)
            ;
        if (i == CTX_ARRAY_LEN(ops)) {
            err(s, "unknown_type", "unknown message type");
        } else if (!task || !*task || strlen(task) > 200) {
            err(s, "missing_field", "\"task\" is required");
        } else {
            const char *arg = ops[i].arg ? json_string_value(json_object_get(m, ops[i].arg)) : NULL;
            if (ops[i].arg && (!arg || !*arg || strlen(arg) > 10000)) {
                char msg[64];
                snprintf(msg, sizeof msg, "\"%s\" is required", ops[i].arg);
                err(s, "missing_field", msg);
            } else if (ops[i].op == OP_TRANSFER) {
                start_op(s, OP_TRANSFER, task, arg, NULL);
            } else {
                start_op(s, ops[i].op, task, NULL, arg);
            }
        }
    }
    json_decref(m);
}

int agent_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    struct asess *s = user;
    struct serve *sv = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        char uri[64];
        if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 ||
            strcmp(uri, "/ws/agent") != 0)
            return 1;
        return serve_origin_ok(sv, wsi) ? 0 : 1;
    }
    case LWS_CALLBACK_ESTABLISHED:
        memset(s, 0, sizeof *s);
        s->wsi = wsi;
        s->ag = sv->agents;
        s->q.max = 1024;
        s->rx.max = MAX_RX;
        s->ref = wref_new(s);
        if (!s->ref)
            return -1;
        s->next = s->ag->sessions;
        if (s->next)
            s->next->prev = s;
        s->ag->sessions = s;
        s->ag->n++;
        return 0;
    case LWS_CALLBACK_RECEIVE: {
        if (!s->ag)
            return -1;
        int r = rx_take(&s->rx, &s->rx_too_big, wsi, in, len);
        if (r == 1)
            handle(s, buf_str(&s->rx), s->rx.len);
        else if (r < 0)
            err(s, "too_large", "messages are limited to 64 KiB");
        if (r) {
            buf_reset(&s->rx);
            s->rx_too_big = false;
        }
        return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return s->ag ? outq_write(&s->q, wsi) : -1;
    case LWS_CALLBACK_TIMER:     /* an auth refusal's close is due */
        return s->ag ? outq_close_due(&s->q) : -1;
    case LWS_CALLBACK_CLOSED:
        if (!s->ag)
            return 0;
        if (s->authed && !s->watching)     /* grace starts when the last connection goes */
            presence(s, "disconnect");
        if (s->prev)
            s->prev->next = s->next;
        else
            s->ag->sessions = s->next;
        if (s->next)
            s->next->prev = s->prev;
        s->ag->n--;
        wref_close(s->ref);
        strlist_clear(&s->early);
        outq_clear(&s->q);
        buf_free(&s->rx);
        s->ag = NULL;
        return 0;
    default:
        break;
    }
    return 0;
}
