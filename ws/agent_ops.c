/* agent_ops.c -- what an agent's frames ask for, and the frames that
 * carry a task.
 *
 * Operations: state, accept, reject, done, transfer, reply, callback,
 * typing, call and hangup each look the task up (its hash) and then run one Lua script of
 * store/ that checks the task is really offered or assigned to this agent,
 * so a stale or forged frame gets {"type":"error"} naming the task and
 * changes nothing. A reply to a network item, or to a chat held on a
 * network (Telegram), is queued on the outbox; a callback is a new task in
 * the queue that takes callbacks (its phone normalised to E.164); call and
 * hangup ask the dialers (ctx:{r}:calls, ctxd/dial.c) to call the customer
 * of an assigned callback, or to end its call. What went through is acknowledged
 * ({"type":"ok","op":…}), except state and accept, answered by their own
 * frames (state, assigned), and typing.
 *
 * Task frames (offer, assigned, resume) carry the task hash with its item,
 * or the chat so far. Supervisors get queue_stats every 2 s: the figures
 * of /api/queues and /api/agents (queues.c) and of the calls.
 *
 * Nothing here decodes a frame or knows the connection: agent.c does, and
 * calls agent_op_start() with what it read. Every step is asynchronous and
 * holds the session by its weak reference, so a console that closes
 * meanwhile is simply no longer answered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "core/mem.h"
#include "dial/dial.h"
#include "routing/routing.h"
#include "store/store.h"
#include "ws/agent_internal.h"

/* An error about one task names it, so a console can show it in the right tab. */
/* s may be NULL: the session closed while its request ran (nobody to tell). */
static void err_task(struct asess *s, const char *code, const char *msg, const char *task)
{
    if (!s)
        return;
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

static void task_frame_send(struct task_frame *tf, json_t *item, json_t *history)
{
    struct asess *s = wref_drop(tf->ref);
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
        wref_drop(tf->ref);
        json_decref(tf->extra);
        free(tf);
        return;
    }
    tf->task = agent_hash_json(rep);
    json_object_del(tf->task, "refused");
    const char *ch = json_string_value(json_object_get(tf->task, "channel"));
    const char *item = json_string_value(json_object_get(tf->task, "item"));
    const char *id = json_string_value(json_object_get(tf->task, "id"));
    ctx_err e = CTX_EINVAL;
    const char *parent = json_string_value(json_object_get(tf->task, "parent"));
    if (ch && strcmp(ch, "chat") == 0 && id)
        e = store_read(rc, tf->st, STORE_CHAT_HISTORY, id, on_task_history, tf);
    else if (ch && strcmp(ch, "callback") == 0 && !item && parent)
        /* a callback asked for in a chat: the chat that led to it */
        e = store_read(rc, tf->st, STORE_CHAT_HISTORY, parent, on_task_history, tf);
    else if (item)
        e = store_read(rc, tf->st, STORE_ITEM_JSON, item, on_task_item, tf);
    if (e)
        task_frame_send(tf, NULL, NULL);
}

void agent_send_task(struct asess *s, const char *type, const char *task, json_t *extra)
{
    struct task_frame *tf = ctx_calloc(1, sizeof *tf);
    tf->ref = wref_take(s->ref);
    tf->st = s->ag->s->st;
    snprintf(tf->type, sizeof tf->type, "%s", type);
    tf->extra = extra ? extra : json_object();
    if (store_read(s->ag->s->cmd, s->ag->s->st, STORE_TASK, task, on_task_hash, tf)) {
        wref_drop(tf->ref);
        json_decref(tf->extra);
        free(tf);
    }
}

/* ---- queue_stats for supervisors: the figures of /api/queues and
 * /api/agents pushed every 2 s while a supervisor is connected ---- */

static void on_stats_calls(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct agents *ag = priv;
    ag->stats_running = false;
    if (!ag->queues || !ag->agents_seen)
        return;
    json_t *frame = json_pack("{s:s,s:O,s:O,s:o}", "type", "queue_stats", "queues", ag->queues,
                              "agents", ag->agents_seen, "calls", calls_json(rep));
    char *text = json_dumps(frame, CTX_JSON_FLAGS);
    json_decref(frame);
    json_decref(ag->queues);
    json_decref(ag->agents_seen);
    ag->queues = ag->agents_seen = NULL;
    for (struct asess *s = ag->sessions; text && s; s = s->next)
        if (s->authed && s->supervisor)
            outq_text(&s->q, s->wsi, text, strlen(text));
    free(text);
}

static void on_stats_agents(struct rconn *rc, redisReply *rep, void *priv)
{
    struct agents *ag = priv;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || !ag->queues) {
        ag->stats_running = false;
        return;
    }
    json_decref(ag->agents_seen);
    ag->agents_seen = agents_json(rep);
    /* the call figures (placed, answered, failed by outcome, talk time) */
    if (store_call_stats(rc, ag->s->st, on_stats_calls, ag))
        ag->stats_running = false;
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

void agent_stats_fire(uv_timer_t *t)
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

/* ---- requests: look the task up, then run its script ---- */

struct req {
    struct wref *ref;
    struct serve *sv;           /* outlives the session: an operation sent
                                 * right before the connection closes still runs */
    enum agent_op op;
    bool supervisor;            /* may hang up any agent's call */
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
    wref_drop(q->ref);
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
        [OP_TYPING] = "typing", [OP_CALL] = "call", [OP_HANGUP] = "hangup",
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
    struct serve *sv = q->sv;
    const char *queue = stream_field(t, "queue"), *channel = stream_field(t, "channel");
    const struct config_queue *qc = queue_cfg(sv->cfg, queue);
    long long now = ctx_now_ms();
    ctx_err e = CTX_OK;
    if (!channel) {
        err_task(req_sess(q), "no_task", "no such task", q->task);
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
        char id[300], e164[DIAL_E164_LEN], why[160];
        if (dial_phone_e164(q->text, sv->cfg->dialer.country_code, e164, why, sizeof why)) {
            err_task(req_sess(q), "bad_phone", why, q->task);
            req_end(q);
            return;
        }
        snprintf(id, sizeof id, "callback:%s:%lld", q->task, ctx_now_ms());
        json_t *extra = json_pack("{s:s,s:s,s:s?}", "phone", e164, "parent", q->task,
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
    case OP_CALL:
    case OP_HANGUP: {
        const char *st = stream_field(t, "state"), *ag = stream_field(t, "agent");
        bool mine = st && strcmp(st, "assigned") == 0 && ag && strcmp(ag, q->agent) == 0;
        if (strcmp(channel, "callback") || !(mine || (q->op == OP_HANGUP && q->supervisor))) {
            err_task(req_sess(q), "not_assigned", "this callback is not assigned to you",
                     q->task);
            req_end(q);
            return;
        }
        if (!sv->cfg->dialer.engine) {
            err_task(req_sess(q), "no_dialer", "no dialer is configured: call the number yourself",
                     q->task);
            req_end(q);
            return;
        }
        e = store_call_request(rc, sv->st, q->op == OP_CALL ? "call" : "hangup", q->task,
                               q->agent, on_script, q);
        break;
    }
    case OP_STATE:
        break;
    }
    if (e) {
        err_task(req_sess(q), "unavailable", "redis is away; try again", q->task);
        req_end(q);
    }
}

static void on_task_fields(struct rconn *rc, redisReply *rep, void *priv)
{
    struct req *q = priv;
    if (!rep || rep->type != REDIS_REPLY_ARRAY) {
        err_task(req_sess(q), "unavailable", "redis is away; try again", q->task);
        req_end(q);
        return;
    }
    run_op(rc, q, rep);
}

void agent_op_start(struct asess *s, enum agent_op op, const char *task, const char *arg,
                    const char *text)
{
    struct req *q = ctx_calloc(1, sizeof *q);
    q->ref = wref_take(s->ref);
    q->sv = s->ag->s;
    q->op = op;
    q->supervisor = s->supervisor;
    snprintf(q->agent, sizeof q->agent, "%s", s->agent);
    snprintf(q->name, sizeof q->name, "%s", s->name);
    snprintf(q->task, sizeof q->task, "%s", task ? task : "");
    snprintf(q->arg, sizeof q->arg, "%s", arg ? arg : "");
    q->text = text ? ctx_strdup(text) : NULL;
    struct rconn *rc = s->ag->s->cmd;
    ctx_err e;
    if (op == OP_STATE) {
        e = store_agent_state(rc, s->ag->s->st, s->agent, q->arg, ctx_now_ms(), on_script, q);
    } else {
        e = store_read(rc, s->ag->s->st, STORE_TASK, q->task, on_task_fields, q);
    }
    if (e) {
        agent_err(s, "unavailable", "redis is away; try again");
        req_end(q);
    }
}

