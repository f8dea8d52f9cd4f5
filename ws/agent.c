/* agent.c -- /ws/agent (subprotocol ctx.agent.v1): the agent console's
 * connection.
 *
 * The first frame must be {"type":"hello","token":…}; the token's SHA-256
 * finds the agent (token_role.lua: ctx:{r}:agent-token:<sha256>, or <sha1> for
 * a token made before tokens were hashed so). Then the agent sends state,
 * accept, reject, reply, transfer, callback, typing and done: each is
 * decoded and checked here, then handed to agent_ops.c, which runs it.
 * Frames to agents come from the ctx:{r}:agent-events stream, which every
 * serve node follows, so an offer made by a router anywhere reaches the
 * agent wherever it is connected; offers and assignments go out through
 * agent_send_task() (agent_ops.c), with the task and its item or the chat
 * so far. On hello the agent also gets back every task it holds, so a
 * reconnecting console picks up where it was. Each connection beats its
 * presence (presence.lua) three times per presence_timeout; a supervisor's
 * view ("as":"supervisor") takes no tasks and has no presence. Bad frames
 * get an error and the connection stays. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "core/mem.h"
#include "store/store.h"
#include "ws/agent_internal.h"

#define MAX_RX 65536

size_t agent_pss_size(void)
{
    return sizeof(struct asess);
}

unsigned agents_connected(const struct agents *a)
{
    return a ? a->n : 0;
}

void agent_err(struct asess *s, const char *code, const char *msg)
{
    outq_error(&s->q, s->wsi, code, msg);
}

json_t *agent_hash_json(const redisReply *h)
{
    json_t *o = json_object();
    for (size_t i = 0; h && h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
        if (h->element[i]->str && h->element[i + 1]->str)
            json_object_set_new(o, h->element[i]->str, json_string(h->element[i + 1]->str));
    return o;
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
            agent_send_task(s, type, task, extra);
            continue;
        }
        json_t *fr = json_pack("{s:s}", "type", type);
        static const char *const keys[] = {"task", "reason", "state", "until", "reply",
                                           "item", "status", "error", "ref", "leg", "outcome",
                                           "talk_s"};
        for (size_t k = 0; k < CTX_ARRAY_LEN(keys); k++) {
            const char *v = stream_field(f, keys[k]);
            if (v && *v)
                json_object_set_new(fr, keys[k], json_string(v));
        }
        static const char *const nums[] = {"since", "attempt"};   /* calls: ms, a count */
        for (size_t k = 0; k < CTX_ARRAY_LEN(nums); k++) {
            const char *v = stream_field(f, nums[k]);
            if (v && *v)
                json_object_set_new(fr, nums[k], json_integer(atoll(v)));
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

ctx_err agents_new(struct serve *s, struct agents **out)
{
    struct agents *ag = ctx_calloc(1, sizeof *ag);
    ag->s = s;
    ag->stats_timer = ctx_malloc(sizeof *ag->stats_timer);
    uv_timer_init(s->loop, ag->stats_timer);
    ag->stats_timer->data = ag;
    uv_timer_start(ag->stats_timer, agent_stats_fire, 2000, 2000);
    store_consumer_name(s->cfg, ag->node, sizeof ag->node);
    ag->beat_timer = ctx_malloc(sizeof *ag->beat_timer);
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
    uv_close((uv_handle_t *)ag->beat_timer, handle_free);
    json_decref(ag->queues);
    json_decref(ag->agents_seen);
    free(ag);
}

/* ---- hello ---- */

static void handle(struct asess *s, const char *text, size_t len);

static void on_tasks_back(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct asess *s = wref_drop(priv);
    if (!s || !rep || rep->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i < rep->elements; i++)
        if (rep->element[i]->str)
            agent_send_task(s, "resume", rep->element[i]->str, NULL);
}

static void on_agent(struct rconn *rc, redisReply *rep, void *priv)
{
    struct asess *s = wref_drop(priv);
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
    json_t *a = agent_hash_json(rep);
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
        store_read(rc, s->ag->s->st, STORE_AGENT_TASKS, s->agent, on_tasks_back, wref_take(s->ref));
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
    struct asess *s = wref_drop(priv);
    if (!s)
        return;
    /* token_role.lua: {id, role, name} or nil */
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
        rep->element[0]->type != REDIS_REPLY_STRING) {
        on_agent(rc, NULL, wref_take(s->ref));
        return;
    }
    if (store_read(rc, s->ag->s->st, STORE_AGENT, rep->element[0]->str, on_agent, wref_take(s->ref))) {
        wref_drop(s->ref);
        s->authing = false;     /* or every later frame would wait for it */
        strlist_clear(&s->early);
        agent_err(s, "unavailable", "redis is away; try again");
    }
}

static void hello(struct asess *s, const char *token)
{
    s->authing = true;
    if (store_token_role(s->ag->s->cmd, s->ag->s->st, token, on_token, wref_take(s->ref))) {
        wref_drop(s->ref);
        s->authing = false;
        agent_err(s, "unavailable", "redis is away; try again");
    }
}

/* ---- the protocol ---- */

static void handle(struct asess *s, const char *text, size_t len)
{
    if (s->authing) {           /* hello is being checked: keep the frame for after */
        if (s->early.n < 32 && memchr(text, '\0', len) == NULL)
            strlist_add(&s->early, text);
        else
            agent_err(s, "too_early", "wait for the welcome");
        return;
    }
    json_error_t je;
    json_t *m = json_loadb(text, len, 0, &je);
    const char *type = json_string_value(json_object_get(m, "type"));
    const char *task = json_string_value(json_object_get(m, "task"));
    if (!m) {
        agent_err(s, "bad_json", je.text);
    } else if (!json_is_object(m) || !type) {
        agent_err(s, "bad_message", "a message is a JSON object with a \"type\"");
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
    } else if (s->watching && s->supervisor && strcmp(type, "hangup") == 0 && task && *task &&
               strlen(task) <= 200) {
        agent_op_start(s, OP_HANGUP, task, NULL, NULL);     /* a supervisor ends a call */
    } else if (s->watching) {
        agent_err(s, "watching", "a supervisor's view takes no tasks; log in to the console for that");
    } else if (strcmp(type, "state") == 0) {
        const char *st = json_string_value(json_object_get(m, "state"));
        if (!st || (strcmp(st, "available") && strcmp(st, "away")))
            agent_err(s, "bad_state", "state is available or away");
        else
            agent_op_start(s, OP_STATE, NULL, st, NULL);
    } else {
        static const struct { const char *name; enum agent_op op; const char *arg; } ops[] = {
            {"accept", OP_ACCEPT, NULL}, {"reject", OP_REJECT, NULL}, {"done", OP_DONE, NULL},
            {"transfer", OP_TRANSFER, "queue"}, {"reply", OP_REPLY, "text"},
            {"callback", OP_CALLBACK, "phone"}, {"typing", OP_TYPING, NULL},
            {"call", OP_CALL, NULL}, {"hangup", OP_HANGUP, NULL},
        };
        size_t i;
        for (i = 0; i < CTX_ARRAY_LEN(ops) && strcmp(ops[i].name, type); i++)
            ;
        if (i == CTX_ARRAY_LEN(ops)) {
            agent_err(s, "unknown_type", "unknown message type");
        } else if (!task || !*task || strlen(task) > 200) {
            agent_err(s, "missing_field", "\"task\" is required");
        } else {
            const char *arg = ops[i].arg ? json_string_value(json_object_get(m, ops[i].arg)) : NULL;
            if (ops[i].arg && (!arg || !*arg || strlen(arg) > 10000)) {
                char msg[64];
                snprintf(msg, sizeof msg, "\"%s\" is required", ops[i].arg);
                agent_err(s, "missing_field", msg);
            } else if (ops[i].op == OP_TRANSFER) {
                agent_op_start(s, OP_TRANSFER, task, arg, NULL);
            } else {
                agent_op_start(s, ops[i].op, task, NULL, arg);
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
        buf_set_max(&s->rx, MAX_RX);
        s->ref = wref_new(s);
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
            handle(s, buf_str(&s->rx), buf_len(&s->rx));
        else if (r < 0)
            agent_err(s, "too_large", "messages are limited to 64 KiB");
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
