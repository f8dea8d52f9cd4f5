/* queues.c -- the routing figures over HTTP: GET /api/queues, GET
 * /api/agents, POST /api/callbacks (the phone normalised to E.164, the time
 * it may ring moved into its queue's calling hours).
 *
 * One read-only Lua script (queue_stats.lua) gathers, per configured queue,
 * waiting / offered / assigned counts, the oldest wait and the counters
 * kept by the routing scripts (arrived, answered, answered within the SLA
 * target, total wait, abandoned), from which the average speed of answer
 * and the service level are derived here (queues_json()). Other pages
 * that show them (/metrics, the supervisors' queue_stats) get them through
 * queues_query() with a completion of their own, or queue_stats_eval():
 * this file knows none of them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/date.h"
#include "core/clock.h"
#include "core/id.h"
#include "core/mem.h"
#include "core/tz.h"
#include "dial/dial.h"
#include "store/store.h"
#include "ws/ws_internal.h"

static long long field_ll(const redisReply *h, const char *name)
{
    const char *v = stream_field(h, name);
    return v ? atoll(v) : 0;
}

/* Each queue as JSON, from queue_stats.lua's answer (one entry per queue:
 * [stats hash fields..., "waiting", n, "oldest", ms, "offered", n, "assigned", n]). */
json_t *queues_json(const struct config *cfg, const redisReply *rep)
{
    json_t *arr = json_array();
    long long now = ctx_now_ms();
    for (size_t i = 0; i < cfg->nqueues && rep && i < rep->elements; i++) {
        const redisReply *h = rep->element[i];
        const struct config_queue *qc = &cfg->queues[i];
        long long answered = field_ll(h, "answered"), in_sla = field_ll(h, "answered_in_sla");
        long long wait_ms = field_ll(h, "wait_ms"), oldest = field_ll(h, "oldest");
        json_t *q = json_pack("{s:s,s:s,s:I,s:I,s:I,s:f,s:I,s:I,s:I,s:f}", "name", qc->name,
                              "strategy", qc->strategy, "waiting", field_ll(h, "waiting"),
                              "offered", field_ll(h, "offered"),
                              "assigned", field_ll(h, "assigned"),
                              "oldest_wait", oldest ? (double)(now - oldest) / 1000.0 : 0.0,
                              "arrived", field_ll(h, "arrived"), "answered", answered,
                              "abandoned", field_ll(h, "abandoned"), "sla", qc->sla);
        /* a task that overflowed counts in the queue it moved to: arrived
         * there, overflowed_out here */
        json_object_set_new(q, "overflowed_in", json_integer(field_ll(h, "overflowed_in")));
        json_object_set_new(q, "overflowed_out", json_integer(field_ll(h, "overflowed_out")));
        json_object_set_new(q, "avg_speed_of_answer",
                            answered ? json_real((double)wait_ms / answered / 1000.0)
                                     : json_null());
        json_object_set_new(q, "service_level",
                            answered ? json_real((double)in_sla / answered) : json_null());
        json_array_append_new(arr, q);
    }
    return arr;
}

struct qctx {
    struct api_req *r;
    queues_done_cb done;
};

static void on_stats(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct qctx *c = priv;
    struct api_req *r = c->r;
    queues_done_cb done = c->done;
    free(c);
    if (!api_reply_usable(r, rep, REDIS_REPLY_ARRAY))
        return;
    json_t *qs = queues_json(r->s->cfg, rep);
    done(r, qs);
    json_decref(qs);
}

ctx_err queue_stats_eval(struct serve *s, rconn_reply_cb cb, void *priv)
{
    const struct config *cfg = s->cfg;
    size_t n = cfg->nqueues < 256 ? cfg->nqueues : 256;
    const char *names[256];
    for (size_t i = 0; i < n; i++)
        names[i] = cfg->queues[i].name;
    return store_queue_stats(s->cmd, s->st, names, n, cb, priv);
}

ctx_err queues_query(struct api_req *r, queues_done_cb done)
{
    struct qctx *c = ctx_malloc(sizeof *c);
    c->r = r;
    c->done = done;
    r->waiting = true;
    if (queue_stats_eval(r->s, on_stats, c)) {
        r->waiting = false;
        free(c);
        return CTX_EREDIS;
    }
    return CTX_OK;
}

static void queues_answer(struct api_req *r, json_t *queues)
{
    respond_json(r, 200, json_pack("{s:O}", "queues", queues));
}

void queues_get(struct api_req *r)
{
    if (queues_query(r, queues_answer))
        respond_error(r, 503, "redis", "redis is away");
}

/* The call figures (ctx:{r}:calls:stats HGETALL) as {placed, answered,
 * talk_s, failed: {outcome: n}}. */
json_t *calls_json(const redisReply *rep)
{
    long long placed = 0, answered = 0, talk_ms = 0;
    json_t *failed = json_object();
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2) {
        const char *k = rep->element[i]->str, *v = rep->element[i + 1]->str;
        if (!k || !v)
            continue;
        if (strcmp(k, "placed") == 0)
            placed = atoll(v);
        else if (strcmp(k, "answered") == 0)
            answered = atoll(v);
        else if (strcmp(k, "talk_ms") == 0)
            talk_ms = atoll(v);
        else if (strncmp(k, "failed:", 7) == 0)
            json_object_set_new(failed, k + 7, json_integer(atoll(v)));
    }
    return json_pack("{s:I,s:I,s:f,s:o}", "placed", placed, "answered", answered, "talk_s",
                     (double)talk_ms / 1000.0, "failed", failed);
}

/* ---- GET /api/agents ---- */

/* Every agent as JSON, from agents_list.lua's answer. */
json_t *agents_json(const redisReply *rep)
{
    json_t *arr = json_array();
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
        const redisReply *h = rep->element[i];
        json_t *a = json_object();
        static const char *const keys[] = {"id", "name", "state", "role"};
        for (size_t k = 0; k < CTX_ARRAY_LEN(keys); k++) {
            const char *v = stream_field(h, keys[k]);
            json_object_set_new(a, keys[k], v ? json_string(v) : json_null());
        }
        json_t *load = json_object(), *cap = json_object();
        static const char *const ch[] = {"social", "chat", "callback"};
        for (size_t k = 0; k < 3; k++) {
            char lk[32], ck[32];
            snprintf(lk, sizeof lk, "load:%s", ch[k]);
            snprintf(ck, sizeof ck, "cap:%s", ch[k]);
            json_object_set_new(load, ch[k], json_integer(field_ll(h, lk)));
            json_object_set_new(cap, ch[k], json_integer(field_ll(h, ck)));
        }
        json_object_set_new(a, "load", load);
        json_object_set_new(a, "capacity", cap);
        json_object_set_new(a, "connected", json_boolean(field_ll(h, "conns") > 0));
        json_object_set_new(a, "handled", json_integer(field_ll(h, "handled")));
        const char *sk = stream_field(h, "skills");
        json_t *skills = sk ? json_loads(sk, 0, NULL) : NULL;
        json_object_set_new(a, "skills", skills ? skills : json_object());
        const char *tasks = stream_field(h, "tasks");
        json_t *tj = tasks ? json_loads(tasks, 0, NULL) : NULL;
        json_object_set_new(a, "tasks", tj ? tj : json_array());
        json_array_append_new(arr, a);
    }
    return arr;
}

static void on_agents(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct api_req *r = priv;
    if (!api_reply_usable(r, rep, REDIS_REPLY_ARRAY))
        return;
    respond_json(r, 200, json_pack("{s:o}", "agents", agents_json(rep)));
}

void agents_get(struct api_req *r)
{
    r->waiting = true;
    if (store_agents_list(r->s->cmd, r->s->st, on_agents, r)) {
        r->waiting = false;
        respond_error(r, 503, "redis", "redis is away");
    }
}

/* ---- POST /api/callbacks ---- */

struct cbctx {
    struct api_req *r;
    char id[128];
};

static void on_task(struct rconn *rc, redisReply *rep, void *priv);

static void on_callback(struct rconn *rc, redisReply *rep, void *priv)
{
    struct cbctx *c = priv;
    struct api_req *r = c->r;
    if (!r->wsi || !rep || rep->type == REDIS_REPLY_ERROR) {
        r->waiting = false;
        if (!r->wsi)
            req_free(r);
        else if (rep && strncmp(rep->str, "QUEUE_FULL", 10) == 0)
            respond_error(r, 503, "queue_full", "the queue is full; try again later");
        else
            respond_error(r, 503, "redis", rep ? rep->str : "redis is away");
        free(c);
        return;
    }
    if (store_read(rc, r->s->st, STORE_TASK, c->id, on_task, c)) {
        r->waiting = false;
        respond_error(r, 503, "redis", "redis is away");
        free(c);
    }
}

static void on_task(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct cbctx *c = priv;
    struct api_req *r = c->r;
    r->waiting = false;
    free(c);
    if (!r->wsi) {
        req_free(r);
        return;
    }
    json_t *t = json_object();
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2)
        if (rep->element[i]->str && rep->element[i + 1]->str &&
            strcmp(rep->element[i]->str, "refused"))
            json_object_set_new(t, rep->element[i]->str, json_string(rep->element[i + 1]->str));
    respond_json(r, 201, json_pack("{s:o}", "task", t));
}

/* When a callback in queue qc may ring, asked for at nb (ms; 0: now): the
 * first instant inside the queue's calling hours from then on. */
static long long callback_due(const struct config_queue *qc, long long nb, long long now)
{
    int open, close;
    if (!qc || dial_hours_parse(qc->calling_hours, &open, &close) || (open == 0 && close == 1440))
        return nb;
    struct tz *tz = NULL;
    if (qc->calling_tz && tz_load(NULL, qc->calling_tz, &tz))
        tz = NULL;              /* checked at load: gone since, hours in UTC */
    long long from = nb > now ? nb : now, due = dial_hours_next(open, close, tz, from);
    tz_free(tz);
    return due == now ? nb : due;
}

ctx_err callback_request(const struct config *cfg, const char *phone, const char *name,
                         const char *queue, const char *not_before, const char *parent,
                         long long now, struct callback_req *out)
{
    memset(out, 0, sizeof *out);
    const char *q = queue ? queue : cfg->callback_queue;
    for (size_t i = 0; !q && i < cfg->nqueues; i++)
        if (cfg->queues[i].channels.n == 0 || strlist_has(&cfg->queues[i].channels, "callback"))
            q = cfg->queues[i].name;
    const struct config_queue *qc = NULL;
    for (size_t i = 0; q && i < cfg->nqueues; i++)
        if (strcmp(cfg->queues[i].name, q) == 0)
            qc = &cfg->queues[i];
    long long nb = 0;
    char why[200];
    out->code = "bad_phone";
    if (!phone) {
        snprintf(out->message, sizeof out->message, "\"phone\" is required: a phone number such "
                 "as +7 495 123-45-67");
    } else if (dial_phone_e164(phone, cfg->dialer.country_code, out->e164, why, sizeof why)) {
        snprintf(out->message, sizeof out->message, "%s", why);
    } else if (name && strlen(name) > 100) {
        out->code = "bad_name";
        snprintf(out->message, sizeof out->message, "\"name\" is at most 100 bytes");
    } else if (!q || !qc) {
        out->code = "bad_queue";
        snprintf(out->message, sizeof out->message, "no such queue takes callbacks");
    } else if (not_before && ctx_date_parse(not_before, &nb)) {
        out->code = "bad_not_before";
        snprintf(out->message, sizeof out->message, "\"not_before\" must be an RFC 3339 time");
    } else {
        out->code = NULL;
        out->queue = qc->name;
        out->not_before = callback_due(qc, nb * 1000, now);
        /* random, not rand(): a serve process that runs no collector never
         * seeds rand(), and two such nodes made the same ids in the same
         * millisecond -- task_new.lua, idempotent on the id, then merged
         * two customers' callbacks into one */
        char rnd[16];
        if (ctx_random_id("", 6, rnd, sizeof rnd) != CTX_OK)
            snprintf(rnd, sizeof rnd, "%d", rand());
        snprintf(out->id, sizeof out->id, "callback:%lld:%s", now, rnd);
        char nbs[32];
        snprintf(nbs, sizeof nbs, "%lld", out->not_before);
        out->extra = json_pack("{s:s,s:s?,s:s,s:s?}", "phone", out->e164, "name", name,
                               "not_before", nbs, "parent", parent);
        return CTX_OK;
    }
    return CTX_EINVAL;
}

void callbacks_post(struct api_req *r)
{
    const struct config *cfg = r->s->cfg;
    json_error_t je;
    json_t *j = json_loadb(buf_str(&r->req_body), buf_len(&r->req_body), 0, &je);
    struct callback_req cr;
    if (!j) {
        respond_error(r, 400, "bad_json", je.text);
    } else if (callback_request(cfg, json_string_value(json_object_get(j, "phone")),
                                json_string_value(json_object_get(j, "name")),
                                json_string_value(json_object_get(j, "queue")),
                                json_string_value(json_object_get(j, "not_before")), NULL,
                                ctx_now_ms(), &cr)) {
        respond_error(r, 400, cr.code, cr.message);
    } else {
        struct cbctx *c = ctx_calloc(1, sizeof *c);
        c->r = r;
        snprintf(c->id, sizeof c->id, "%s", cr.id);
        r->waiting = true;
        if (store_task_new(r->s->cmd, r->s->st, cfg, c->id, "callback", cr.queue, 0, cr.extra,
                           on_callback, c)) {
            r->waiting = false;
            free(c);
            respond_error(r, 503, "redis", "redis is away");
        }
        json_decref(cr.extra);
    }
    json_decref(j);
}
