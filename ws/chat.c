/* chat.c -- /ws/chat (subprotocol ctx.chat.v1): the customer's side of a
 * web chat.
 *
 * {"type":"start","name":…,"lang":…} creates a chat task for the chat queue
 * (config chat_queue, else the first queue taking chats) and answers
 * {"type":"started","task":…}; then each {"type":"message","text":…} is
 * kept with the task and reaches the agent once one has accepted. The task
 * is held out of the queue (state "new") until the first message, which
 * queues it in the same script that keeps it (chat_message.lua): were it
 * queued at start, an agent could be offered the chat between `started`
 * and that message, with an empty history (the widget sends its "How can
 * we help?" text right after `started`). Frames that come while start or
 * resume is in flight wait for its answer and are then taken in order, so
 * a message sent right after start (not waiting for `started`) lands. The
 * agent's side reaches the customer through the ctx:{r}:chat-events stream
 * every serve node follows: agent_joined, message, closed.
 *
 * `started` carries a key (only its SHA-1 is kept with the task): a page
 * that reloads or loses its connection sends {"type":"resume","task","key"}
 * and gets the chat back with its history. A connection that drops without
 * {"type":"end"} leaves the chat waiting for that (ctx:{r}:chats:left); the
 * router abandons it after presence_grace; the node beats its customers'
 * chats (ctx:{r}:chats:live), so one that dies leaves them to the same
 * grace once its beats go stale. {"type":"end"} ends it at once:
 * abandoned if no agent had it, else the agent hears the customer left.
 * {"type":"callback","phone":…,"not_before":…} asks to be called back: a
 * callback task linked to the chat ({"type":"callback_queued"} or an error
 * saying what is wrong with the number). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/hash.h"
#include "core/clock.h"
#include "core/id.h"
#include "core/mem.h"
#include "core/redis.h"
#include "store/store.h"
#include "ws/ws_internal.h"

#define MAX_RX 16384

struct csess {
    struct lws *wsi;
    struct chats *ch;
    struct csess *prev, *next;
    struct wref *ref;           /* for async steps that may outlive the session */
    struct outq q;
    struct buf rx;
    bool rx_too_big, starting, closed, resuming;
    struct strlist early;       /* frames that came while start or resume was in flight */
    char task[64];
    char name[128];
    char key[40];               /* the resume key, sent once in `started` */
    char state[16];             /* the task's state when resumed */
    char queue[128];            /* the chat's queue (from start, or the task when resumed) */
};

struct chats {
    struct serve *s;
    struct follower *events;
    struct csess *sessions;
    uv_timer_t *beat;           /* the customers' presence (ctx:{r}:chats:live) */
};

size_t chat_pss_size(void)
{
    return sizeof(struct csess);
}

static void on_event(const char *id, const redisReply *f, void *priv)
{
    (void)id;
    struct chats *ch = priv;
    const char *task = stream_field(f, "task"), *type = stream_field(f, "type");
    if (!task || !type)
        return;
    for (struct csess *s = ch->sessions; s; s = s->next) {
        if (strcmp(s->task, task) != 0)
            continue;
        json_t *fr = json_pack("{s:s}", "type", type);
        const char *name = stream_field(f, "name"), *msg = stream_field(f, "message");
        if (name)
            json_object_set_new(fr, "name", json_string(name));
        json_t *m = msg ? json_loads(msg, 0, NULL) : NULL;
        if (m)
            json_object_set_new(fr, "message", m);
        if (strcmp(type, "closed") == 0)
            s->closed = true;
        outq_json(&s->q, s->wsi, fr);
    }
}

/* The chats whose customers this node holds, beaten in one ZADD: were the
 * node to die, they go stale and the router takes their customers as gone
 * (chats_live_sweep.lua), as it does an agent's connections. */
static void beat_fire(uv_timer_t *t)
{
    struct chats *ch = t->data;
    size_t n = 0, cap = 0;
    const char **tasks = NULL;
    for (struct csess *s = ch->sessions; s; s = s->next) {
        if (!s->task[0] || s->closed || s->resuming)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            tasks = ctx_realloc(tasks, cap * sizeof *tasks);
        }
        tasks[n++] = s->task;
    }
    store_chats_beat(ch->s->cmd, ch->s->st, tasks, n, ctx_now_ms());
    free(tasks);
}

ctx_err chats_new(struct serve *s, struct chats **out)
{
    struct chats *ch = ctx_calloc(1, sizeof *ch);
    ch->s = s;
    ch->beat = ctx_malloc(sizeof *ch->beat);
    uv_timer_init(s->loop, ch->beat);
    ch->beat->data = ch;
    /* three beats per presence_timeout, as agents' connections have */
    uint64_t beat = (uint64_t)(s->cfg->presence_timeout * 1000 / 3);
    uv_timer_start(ch->beat, beat_fire, beat, beat);
    ctx_err e = follower_start(s->st, KEY_CHAT_EVENTS, on_event, ch, &ch->events);
    if (e) {
        chats_free(ch);
        return e;
    }
    *out = ch;
    return CTX_OK;
}

static void handle_free(uv_handle_t *h)
{
    free(h);
}

void chats_free(struct chats *ch)
{
    if (!ch)
        return;
    follower_stop(ch->events);
    uv_close((uv_handle_t *)ch->beat, handle_free);
    free(ch);
}

static void handle(struct csess *s, const char *text, size_t len);

/* start or resume has its answer: the frames that came meanwhile, in order */
static void replay_early(struct csess *s)
{
    struct strlist early = s->early;
    memset(&s->early, 0, sizeof s->early);
    for (size_t i = 0; i < early.n; i++)
        handle(s, early.v[i], strlen(early.v[i]));
    strlist_clear(&early);
}

static void on_started(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct csess *s = wref_drop(priv);
    if (!s)
        return;
    s->starting = false;
    if (!rep || rep->type == REDIS_REPLY_ERROR) {
        s->task[0] = '\0';
        outq_error(&s->q, s->wsi, rep ? "queue_full" : "unavailable",
                   rep ? "all our agents are busy; please try again later"
                       : "please try again in a moment");
    } else {
        outq_json(&s->q, s->wsi, json_pack("{s:s,s:s,s:s}", "type", "started", "task",
                                           s->task, "key", s->key));
    }
    replay_early(s);
}

static void start(struct csess *s, const char *name, const char *lang)
{
    struct serve *sv = s->ch->s;
    const char *queue = config_chat_queue(sv->cfg);
    if (!queue) {
        outq_error(&s->q, s->wsi, "no_queue", "chat is not available");
        return;
    }
    if (ctx_random_id("chat:", 10, s->task, sizeof s->task) != CTX_OK ||
        ctx_random_id("", 16, s->key, sizeof s->key) != CTX_OK) {
        outq_error(&s->q, s->wsi, "unavailable", "please try again in a moment");
        s->task[0] = '\0';
        return;
    }
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->queue, sizeof s->queue, "%s", queue);
    char sha[65];
    ctx_sha256_hex(s->key, strlen(s->key), sha);
    json_t *extra = json_pack("{s:s,s:s?,s:s}", "name", name, "lang", lang, "customer_key", sha);
    s->starting = true;
    if (store_chat_open(sv->cmd, sv->st, sv->cfg, s->task, queue, extra, on_started,
                        wref_take(s->ref))) {
        wref_drop(s->ref);
        s->starting = false;
        s->task[0] = '\0';
        outq_error(&s->q, s->wsi, "unavailable", "please try again in a moment");
    }
    json_decref(extra);
}

static void on_sent(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct csess *s = wref_drop(priv);
    if (!s || !rep || rep->type != REDIS_REPLY_ERROR)
        return;
    outq_error(&s->q, s->wsi, "closed", "this chat is closed");
}

static void message(struct csess *s, const char *text)
{
    struct serve *sv = s->ch->s;
    char at[CTX_TIME_LEN];
    ctx_time_format(ctx_now_ms() / 1000, at);
    json_t *m = json_pack("{s:s,s:s,s:s,s:s}", "from", "customer", "name", s->name, "text", text,
                          "at", at);
    char *mj = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    if (store_chat_message(sv->cmd, sv->st, s->task, s->queue, NULL, mj ? mj : "{}",
                           ctx_now_ms(), on_sent, wref_take(s->ref))) {
        wref_drop(s->ref);
        outq_error(&s->q, s->wsi, "unavailable", "not sent; please try again");
    }
    free(mj);
}

/* ---- "call me back": a callback task linked to this chat ---- */

struct cb_ask {
    struct wref *ref;
    char id[128], phone[20];
    long long not_before;
};

static void on_callback_task(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct cb_ask *a = priv;
    struct csess *s = wref_drop(a->ref);
    if (s && (!rep || rep->type == REDIS_REPLY_ERROR)) {
        bool full = rep && rep->str && strncmp(rep->str, "QUEUE_FULL", 10) == 0;
        outq_error(&s->q, s->wsi, full ? "queue_full" : "unavailable",
                   full ? "we cannot take more callbacks now; please try again later"
                        : "please try again in a moment");
    } else if (s) {
        json_t *f = json_pack("{s:s,s:s,s:s}", "type", "callback_queued", "task", a->id,
                              "phone", a->phone);
        if (a->not_before) {
            char at[CTX_TIME_LEN];
            ctx_time_format(a->not_before / 1000, at);
            json_object_set_new(f, "not_before", json_string(at));
        }
        outq_json(&s->q, s->wsi, f);
    }
    free(a);
}

/* The customer asks to be called at `phone` (not before `nb`, RFC 3339 or
 * NULL): a callback task whose parent is this chat, so the agent who calls
 * sees the chat so far (docs/voice.md). */
static void ask_callback(struct csess *s, const char *phone, const char *nb)
{
    struct serve *sv = s->ch->s;
    struct callback_req cr;
    if (callback_request(sv->cfg, phone, s->name, NULL, nb, s->task, ctx_now_ms(), &cr)) {
        outq_error(&s->q, s->wsi, cr.code, cr.message);
        return;
    }
    struct cb_ask *a = ctx_calloc(1, sizeof *a);
    snprintf(a->id, sizeof a->id, "%s", cr.id);
    snprintf(a->phone, sizeof a->phone, "%s", cr.e164);
    a->not_before = cr.not_before;
    a->ref = wref_take(s->ref);
    if (store_task_new(sv->cmd, sv->st, sv->cfg, cr.id, "callback", cr.queue, 0, cr.extra,
                       on_callback_task, a)) {
        wref_drop(a->ref);
        free(a);
        outq_error(&s->q, s->wsi, "unavailable", "please try again in a moment");
    }
    json_decref(cr.extra);
}

/* ---- resume and end ---- */

static void on_history(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct csess *s = wref_drop(priv);
    if (!s)
        return;
    json_t *h = json_array();
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
        json_t *m = rep->element[i]->str ? json_loads(rep->element[i]->str, 0, NULL) : NULL;
        if (m)
            json_array_append_new(h, m);
    }
    outq_json(&s->q, s->wsi, json_pack("{s:s,s:s,s:s,s:o}", "type", "resumed", "task", s->task,
                                       "state", s->state, "history", h));
}

static void resumed(struct rconn *rc, redisReply *rep, struct csess *s);

static void on_resume_task(struct rconn *rc, redisReply *rep, void *priv)
{
    struct csess *s = wref_drop(priv);
    if (!s)
        return;
    s->resuming = false;
    resumed(rc, rep, s);
    replay_early(s);
}

static void resumed(struct rconn *rc, redisReply *rep, struct csess *s)
{
    /* HMGET customer_key state name queue */
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 4 || !rep->element[0]->str) {
        s->task[0] = '\0';
        outq_error(&s->q, s->wsi, rep ? "no_chat" : "unavailable",
                   rep ? "no such chat" : "please try again in a moment");
        return;
    }
    /* the key's SHA-256; a chat started before keys were hashed so has
     * its SHA-1 (40 digits) */
    char sha[65];
    if (strlen(rep->element[0]->str) == 40)
        ctx_sha1_hex(s->key, strlen(s->key), sha);
    else
        ctx_sha256_hex(s->key, strlen(s->key), sha);
    if (strcmp(sha, rep->element[0]->str) != 0) {
        s->task[0] = '\0';
        outq_error(&s->q, s->wsi, "no_chat", "no such chat");
        return;
    }
    const char *st = rep->element[1]->str ? rep->element[1]->str : "";
    snprintf(s->state, sizeof s->state, "%s", st);
    snprintf(s->name, sizeof s->name, "%s", rep->element[2]->str ? rep->element[2]->str : "");
    snprintf(s->queue, sizeof s->queue, "%s", rep->element[3]->str ? rep->element[3]->str : "");
    if (strcmp(st, "done") == 0 || strcmp(st, "abandoned") == 0) {
        s->closed = true;
        outq_json(&s->q, s->wsi, json_pack("{s:s}", "type", "closed"));
        return;
    }
    store_chat_back(rc, s->ch->s->st, s->task, ctx_now_ms());   /* back in time */
    if (store_read(rc, s->ch->s->st, STORE_CHAT_HISTORY, s->task, on_history, wref_take(s->ref)))
        wref_drop(s->ref);
}

static void resume(struct csess *s, const char *task, const char *key)
{
    snprintf(s->task, sizeof s->task, "%s", task);
    snprintf(s->key, sizeof s->key, "%s", key);
    s->resuming = true;
    static const char *const fields[] = {"customer_key", "state", "name", "queue"};
    if (store_task_fields(s->ch->s->cmd, s->ch->s->st, task, fields, CTX_ARRAY_LEN(fields),
                          on_resume_task, wref_take(s->ref))) {
        wref_drop(s->ref);
        s->resuming = false;
        s->task[0] = '\0';
        outq_error(&s->q, s->wsi, "unavailable", "please try again in a moment");
    }
}

/* The customer leaves for good: abandon.lua (abandoned if no agent had the
 * chat, else the agent hears the customer left). */
static void end_chat(struct serve *sv, const char *task)
{
    store_abandon(sv->cmd, sv->st, task, config_chat_queue(sv->cfg), ctx_now_ms(), NULL, NULL);
}

static void handle(struct csess *s, const char *text, size_t len)
{
    if (s->starting || s->resuming) {   /* a message right after start waits for it */
        if (s->early.n < 32 && !memchr(text, '\0', len)) {
            strlist_add(&s->early, text);
            return;
        }
        outq_error(&s->q, s->wsi, "too_early", "wait for the answer to start or resume");
        return;
    }
    json_error_t je;
    json_t *m = json_loadb(text, len, 0, &je);
    const char *type = json_string_value(json_object_get(m, "type"));
    if (!m) {
        outq_error(&s->q, s->wsi, "bad_json", je.text);
    } else if (!json_is_object(m) || !type) {
        outq_error(&s->q, s->wsi, "bad_message", "a message is a JSON object with a \"type\"");
    } else if (strcmp(type, "start") == 0) {
        const char *name = json_string_value(json_object_get(m, "name"));
        const char *lang = json_string_value(json_object_get(m, "lang"));
        if (s->task[0])
            outq_error(&s->q, s->wsi, "started", "this chat has started already");
        else if (!name || !*name || strlen(name) > 100)
            outq_error(&s->q, s->wsi, "missing_field", "\"name\" is required (1-100 bytes)");
        else
            start(s, name, lang && strlen(lang) < 16 ? lang : NULL);
    } else if (strcmp(type, "resume") == 0) {
        const char *task = json_string_value(json_object_get(m, "task"));
        const char *key = json_string_value(json_object_get(m, "key"));
        if (s->task[0])
            outq_error(&s->q, s->wsi, "started", "this connection has a chat already");
        else if (!task || !key || strlen(task) >= sizeof s->task || strlen(key) != 32 ||
                 strncmp(task, "chat:", 5) != 0)
            outq_error(&s->q, s->wsi, "no_chat", "no such chat");
        else
            resume(s, task, key);
    } else if (strcmp(type, "end") == 0) {
        if (s->task[0] && !s->closed && !s->starting && !s->resuming) {
            end_chat(s->ch->s, s->task);
            s->closed = true;
            outq_json(&s->q, s->wsi, json_pack("{s:s}", "type", "ended"));
        }
    } else if (strcmp(type, "message") == 0) {
        const char *t = json_string_value(json_object_get(m, "text"));
        if (!s->task[0] || s->starting || s->resuming)
            outq_error(&s->q, s->wsi, "not_started", "start the chat first");
        else if (!t || !*t || strlen(t) > 4000)
            outq_error(&s->q, s->wsi, "missing_field", "\"text\" is required (1-4000 bytes)");
        else
            message(s, t);
    } else if (strcmp(type, "callback") == 0) {
        if (!s->task[0] || s->starting || s->resuming)
            outq_error(&s->q, s->wsi, "not_started", "start the chat first");
        else
            ask_callback(s, json_string_value(json_object_get(m, "phone")),
                         json_string_value(json_object_get(m, "not_before")));
    } else if (strcmp(type, "ping") == 0) {
        outq_json(&s->q, s->wsi, json_pack("{s:s}", "type", "pong"));
    } else {
        outq_error(&s->q, s->wsi, "unknown_type",
                   "this protocol knows start, resume, message, callback and end");
    }
    json_decref(m);
}

int chat_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len)
{
    struct csess *s = user;
    struct serve *sv = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        char uri[64];
        if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 ||
            strcmp(uri, "/ws/chat") != 0)
            return 1;
        return serve_origin_ok(sv, wsi) ? 0 : 1;
    }
    case LWS_CALLBACK_ESTABLISHED:
        memset(s, 0, sizeof *s);
        s->wsi = wsi;
        s->ch = sv->chats;
        s->q.max = 1024;
        buf_set_max(&s->rx, MAX_RX);
        s->ref = wref_new(s);
        s->next = s->ch->sessions;
        if (s->next)
            s->next->prev = s;
        s->ch->sessions = s;
        return 0;
    case LWS_CALLBACK_RECEIVE: {
        if (!s->ch)
            return -1;
        if (s->q.closing)       /* our close frame is out: nothing more is taken */
            return 0;
        int r = rx_take(&s->rx, &s->rx_too_big, wsi, in, len);
        if (r == 1)
            handle(s, buf_str(&s->rx), buf_len(&s->rx));
        else if (r < 0)
            outq_error(&s->q, wsi, "too_large", "messages are limited to 16 KiB");
        if (r) {
            buf_reset(&s->rx);
            s->rx_too_big = false;
        }
        return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return s->ch ? outq_write(&s->q, wsi) : -1;
    case LWS_CALLBACK_TIMER:
        return s->ch ? outq_close_due(&s->q) : -1;
    case LWS_CALLBACK_CLOSED:
        if (!s->ch)
            return 0;
        if (s->task[0] && !s->closed && !s->resuming) {
            /* gone without "end": it may come back (resume) before the grace is over */
            store_chat_left(sv->cmd, sv->st, s->task, ctx_now_ms());
        }
        if (s->prev)
            s->prev->next = s->next;
        else
            s->ch->sessions = s->next;
        if (s->next)
            s->next->prev = s->prev;
        wref_close(s->ref);
        outq_clear(&s->q);
        buf_free(&s->rx);
        strlist_clear(&s->early);
        s->ch = NULL;
        return 0;
    default:
        break;
    }
    return 0;
}
