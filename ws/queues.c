/* queues.c -- the routing figures over HTTP: GET /api/queues, GET
 * /api/agents, POST /api/callbacks.
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

static bool valid_phone(const char *p)
{
    size_t digits = 0;
    if (*p == '+')
        p++;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (*p != ' ' && *p != '-' && *p != '(' && *p != ')')
            return false;
    }
    return digits >= 5 && digits <= 15;         /* E.164 has at most 15 digits */
}

void callbacks_post(struct api_req *r)
{
    const struct config *cfg = r->s->cfg;
    json_error_t je;
    json_t *j = json_loadb(buf_str(&r->req_body), buf_len(&r->req_body), 0, &je);
    const char *phone = json_string_value(json_object_get(j, "phone"));
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *queue = json_string_value(json_object_get(j, "queue"));
    const char *nb = json_string_value(json_object_get(j, "not_before"));
    long long not_before = 0;
    const char *q = queue ? queue : cfg->callback_queue;
    for (size_t i = 0; !q && i < cfg->nqueues; i++)
        if (cfg->queues[i].channels.n == 0 || strlist_has(&cfg->queues[i].channels, "callback"))
            q = cfg->queues[i].name;
    bool known = false;
    for (size_t i = 0; q && i < cfg->nqueues; i++)
        known |= strcmp(cfg->queues[i].name, q) == 0;
    if (!j) {
        respond_error(r, 400, "bad_json", je.text);
    } else if (!phone || !valid_phone(phone)) {
        respond_error(r, 400, "bad_phone", "\"phone\" must be a phone number such as +7 495 123-45-67");
    } else if (name && strlen(name) > 100) {
        respond_error(r, 400, "bad_name", "\"name\" is at most 100 bytes");
    } else if (!q || !known) {
        respond_error(r, 400, "bad_queue", "no such queue takes callbacks");
    } else if (nb && ctx_date_parse(nb, &not_before)) {
        respond_error(r, 400, "bad_not_before", "\"not_before\" must be an RFC 3339 time");
    } else {
        struct cbctx *c = ctx_calloc(1, sizeof *c);
        c->r = r;
        /* random, not rand(): a serve process that runs no collector never
         * seeds rand(), and two such nodes made the same ids in the same
         * millisecond -- task_new.lua, idempotent on the id, then merged
         * two customers' callbacks into one */
        char prefix[48], rnd[16];
        snprintf(prefix, sizeof prefix, "callback:%lld:", ctx_now_ms());
        if (ctx_random_id("", 6, rnd, sizeof rnd))
            snprintf(rnd, sizeof rnd, "%d", rand());
        snprintf(c->id, sizeof c->id, "%s%s", prefix, rnd);
        char nbs[32];
        snprintf(nbs, sizeof nbs, "%lld", not_before * 1000);
        json_t *extra = json_pack("{s:s,s:s?,s:s}", "phone", phone, "name", name,
                                  "not_before", nbs);
        r->waiting = true;
        if (store_task_new(r->s->cmd, r->s->st, cfg, c->id, "callback", q, 0, extra,
                           on_callback, c)) {
            r->waiting = false;
            free(c);
            respond_error(r, 503, "redis", "redis is away");
        }
        json_decref(extra);
    }
    json_decref(j);
}
