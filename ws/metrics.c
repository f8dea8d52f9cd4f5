/* metrics.c -- GET /healthz and GET /metrics (docs/operations.md).
 *
 * Both read how far each consumer group of the pipeline is behind
 * (store_group_figures(), one script call per stream, all sent at once);
 * /metrics also reads every queue's figures. A scrape holds one count per
 * reply it waits for and answers when the last arrives, or frees itself if
 * the client left meanwhile.
 *
 * /healthz answers 503 only when this node cannot work: Redis is away. A
 * group that lags, or an entry waiting too long (config "health"), makes it
 * "degraded" with HTTP 200 and the failing checks named: a load balancer or
 * a Kubernetes probe looking at the status code keeps a serve node that
 * has nothing to do with a stalled analyzer, and a person or an alert
 * looking at the body sees the stall. */
#include <stdlib.h>
#include <string.h>
#include "core/mem.h"
#include "core/metrics.h"
#include "store/store.h"
#include "ws/ws_internal.h"

struct scrape;

struct slot {
    struct scrape *sc;
    enum store_pipe pipe;
    int shard;                  /* -1: every shard, summed */
};

struct scrape {
    struct api_req *r;
    bool health;                /* /healthz, else /metrics */
    unsigned left;              /* replies awaited, and one held while sending */
    bool lost;                  /* a read was not sent or its connection dropped */
    char error[128];            /* a read answered with an error */
    bool have[STORE_PIPE_COUNT];
    struct store_group_figures fig[STORE_PIPE_COUNT];
    struct slot slots[STORE_PIPE_COUNT];
    /* /metrics with item shards: each shard's stream on a line of its own */
    unsigned nshard[STORE_PIPE_COUNT];
    bool shard_have[STORE_PIPE_COUNT][STORE_SHARDS_MAX];
    struct store_group_figures shard_fig[STORE_PIPE_COUNT][STORE_SHARDS_MAX];
    struct slot shard_slots[STORE_PIPE_COUNT][STORE_SHARDS_MAX];
    json_t *queues;             /* /metrics: queues_json(), or NULL */
    json_t *alerts;             /* /metrics: series -> spike alerts raised, or NULL */
    json_t *calls;              /* /metrics: the call figures (ctx:{r}:calls:stats), or NULL */
};

static void health_answer(struct scrape *sc);
static void metrics_answer(struct scrape *sc);

static void scrape_step(struct scrape *sc)
{
    if (--sc->left)
        return;
    struct api_req *r = sc->r;
    r->waiting = false;
    if (!r->wsi)
        req_free(r);            /* the client went away */
    else if (sc->health)
        health_answer(sc);
    else
        metrics_answer(sc);
    json_decref(sc->queues);
    json_decref(sc->alerts);
    json_decref(sc->calls);
    free(sc);
}

static void on_figures(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct slot *sl = priv;
    struct scrape *sc = sl->sc;
    if (sl->shard >= 0) {
        sc->shard_have[sl->pipe][sl->shard] =
            store_group_figures_read(rep, &sc->shard_fig[sl->pipe][sl->shard]) == CTX_OK;
        scrape_step(sc);
        return;
    }
    if (store_group_figures_read(rep, &sc->fig[sl->pipe]) == CTX_OK)
        sc->have[sl->pipe] = true;
    else if (!rep)
        sc->lost = true;
    else
        snprintf(sc->error, sizeof sc->error, "%s",
                 rep->type == REDIS_REPLY_ERROR && rep->str ? rep->str : "unexpected reply");
    scrape_step(sc);
}

static void on_queues(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct scrape *sc = priv;
    if (rep && rep->type == REDIS_REPLY_ARRAY)
        sc->queues = queues_json(sc->r->s->cfg, rep);
    scrape_step(sc);
}

static void on_alert_counts(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct scrape *sc = priv;
    sc->alerts = json_object();
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2)
        if (rep->element[i]->str && rep->element[i + 1]->str)
            json_object_set_new(sc->alerts, rep->element[i]->str,
                                json_integer(atoll(rep->element[i + 1]->str)));
    scrape_step(sc);
}

static void on_call_stats(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct scrape *sc = priv;
    sc->calls = calls_json(rep);
    scrape_step(sc);
}

static void scrape_start(struct api_req *r, bool health)
{
    struct serve *s = r->s;
    struct scrape *sc = ctx_calloc(1, sizeof *sc);
    sc->r = r;
    sc->health = health;
    sc->left = 1;
    r->waiting = true;
    for (int p = 0; p < STORE_PIPE_COUNT; p++) {
        sc->slots[p] = (struct slot){sc, (enum store_pipe)p, -1};
        sc->left++;
        if (store_group_figures(s->cmd, s->st, (enum store_pipe)p, on_figures, &sc->slots[p])) {
            sc->left--;
            sc->lost = true;
        }
        unsigned n = store_pipe_shards((enum store_pipe)p, store_shards(s->st));
        if (health || n < 2 || n > STORE_SHARDS_MAX)
            continue;
        sc->nshard[p] = n;
        for (unsigned k = 0; k < n; k++) {
            sc->shard_slots[p][k] = (struct slot){sc, (enum store_pipe)p, (int)k};
            sc->left++;
            if (store_group_figures_shard(s->cmd, s->st, (enum store_pipe)p, k, on_figures,
                                          &sc->shard_slots[p][k]))
                sc->left--;
        }
    }
    if (!health) {
        sc->left++;
        if (queue_stats_eval(s, on_queues, sc))
            sc->left--;
        sc->left++;
        if (store_alerts_counts(s->cmd, s->st, on_alert_counts, sc))
            sc->left--;
        sc->left++;
        if (store_call_stats(s->cmd, s->st, on_call_stats, sc))
            sc->left--;
    }
    scrape_step(sc);
}

/* ---- /healthz ---- */

static json_t *seconds_or_null(double s)
{
    return s < 0 ? json_null() : json_real(s);
}

static void health_answer(struct scrape *sc)
{
    struct api_req *r = sc->r;
    if (sc->lost || !rconn_up(r->s->cmd)) {
        respond_json(r, 503, json_pack("{s:s,s:s}", "status", "down", "redis", "down"));
        return;
    }
    const struct config_health *lim = &r->s->cfg->health;
    json_t *groups = json_object(), *failing = json_array();
    for (int p = 0; p < STORE_PIPE_COUNT; p++) {
        const struct store_pipe_info *pi = store_pipe_info((enum store_pipe)p);
        const struct store_group_figures *f = &sc->fig[p];
        /* the tagged stream is read by routers only when queues are configured */
        bool required = p != STORE_PIPE_TAGGED || r->s->cfg->nqueues > 0;
        if (!sc->have[p] || (!f->group && !required))
            continue;
        json_object_set_new(groups, pi->group, json_pack(
            "{s:s,s:b,s:o,s:I,s:I,s:o,s:o,s:I}", "stream", pi->stream, "exists", f->group,
            "lag", f->lag < 0 ? json_null() : json_integer(f->lag), "pending",
            (json_int_t)f->pending, "consumers", (json_int_t)f->consumers, "oldest_pending",
            seconds_or_null(f->oldest_pending), "oldest_unread",
            seconds_or_null(f->oldest_unread), "dead_letters", (json_int_t)f->dead));
        unsigned bad = store_health_check(f, lim, required);
        for (int c = 0; c < STORE_HEALTH_COUNT; c++) {
            if (!(bad & (1u << c)))
                continue;
            json_t *value = c == STORE_HEALTH_LAG ? json_integer(f->lag)
                            : json_real(c == STORE_HEALTH_PENDING_AGE ? f->oldest_pending
                                                                      : f->oldest_unread);
            json_t *limit = c == STORE_HEALTH_LAG ? json_integer(lim->max_lag)
                                                  : json_real(lim->max_pending_age);
            json_array_append_new(failing, json_pack(
                "{s:s,s:s,s:o,s:o}", "group", pi->group,
                "check", store_health_check_name((enum store_health_check)c), "value", value,
                "limit", limit));
        }
    }
    if (sc->error[0])
        json_array_append_new(failing, json_pack("{s:s,s:s}", "check", "figures", "error",
                                                 sc->error));
    bool ok = json_array_size(failing) == 0;
    respond_json(r, 200, json_pack("{s:s,s:s,s:o,s:o}", "status", ok ? "ok" : "degraded",
                                   "redis", "up", "groups", groups, "failing", failing));
}

void health_get(struct api_req *r)
{
    if (!rconn_up(r->s->cmd)) {
        respond_json(r, 503, json_pack("{s:s,s:s}", "status", "down", "redis", "down"));
        return;
    }
    scrape_start(r, true);
}

/* ---- /metrics ---- */

/* The process's own figures, its counters, then every queue's figures. */
static void write_process(struct api_req *r, json_t *queues)
{
    struct serve *s = r->s;
    buf_reset(&r->body);
    buf_printf(&r->body,
               "# HELP ctx_redis_up Whether the serve role's Redis connection is up.\n"
               "# TYPE ctx_redis_up gauge\nctx_redis_up %d\n"
               "# HELP ctx_monitor_clients Connected /ws/monitor clients.\n"
               "# TYPE ctx_monitor_clients gauge\nctx_monitor_clients %u\n"
               "# HELP ctx_agent_connections Connected /ws/agent clients on this node.\n"
               "# TYPE ctx_agent_connections gauge\nctx_agent_connections %u\n"
               "# HELP ctx_http_requests_total HTTP API requests served.\n"
               "# TYPE ctx_http_requests_total counter\nctx_http_requests_total %llu\n"
               "# HELP ctx_http_errors_total HTTP API answers with status >= 400.\n"
               "# TYPE ctx_http_errors_total counter\nctx_http_errors_total %llu\n",
               rconn_up(s->cmd) ? 1 : 0, monitor_clients(s->mon), agents_connected(s->agents),
               s->http_requests, s->http_errors);
    metrics_format(&r->body);
    static const struct { const char *key, *name, *type, *help; } qm[] = {
        {"waiting", "ctx_queue_waiting", "gauge", "Tasks waiting in the queue."},
        {"offered", "ctx_queue_offered", "gauge", "Tasks offered to an agent, not yet accepted."},
        {"assigned", "ctx_queue_assigned", "gauge", "Tasks assigned to agents."},
        {"oldest_wait", "ctx_queue_oldest_wait_seconds", "gauge", "Wait of the oldest task."},
        {"arrived", "ctx_queue_arrived_total", "counter", "Tasks that entered the queue."},
        {"answered", "ctx_queue_answered_total", "counter", "Tasks accepted by an agent."},
        {"abandoned", "ctx_queue_abandoned_total", "counter", "Tasks abandoned while waiting."},
        {"avg_speed_of_answer", "ctx_queue_avg_speed_of_answer_seconds", "gauge",
         "Average wait until accepted."},
        {"service_level", "ctx_queue_service_level", "gauge",
         "Share of answered tasks answered within the SLA target."},
    };
    for (size_t m = 0; m < CTX_ARRAY_LEN(qm); m++) {
        metrics_header(&r->body, qm[m].name, qm[m].type, qm[m].help);
        size_t i;
        json_t *q;
        json_array_foreach(queues, i, q) {
            json_t *v = json_object_get(q, qm[m].key);
            if (json_is_number(v))
                buf_printf(&r->body, "%s{queue=\"%s\"} %g\n", qm[m].name,
                           json_string_value(json_object_get(q, "name")), json_number_value(v));
        }
    }
}

/* Every consumer group's figures (global: from Redis). */
static void write_groups(struct buf *b, const struct scrape *sc)
{
    enum { LENGTH, DEAD, LAG, PENDING, CONSUMERS, OLDEST_PENDING, OLDEST_UNREAD };
    static const struct { const char *name, *help; bool per_group; } gm[] = {
        [LENGTH] = {"ctx_stream_entries", "Entries in a pipeline stream.", false},
        [DEAD] = {"ctx_dead_letter_entries",
                  "Entries in a dead-letter stream (ctxctl dead lists them).", false},
        [LAG] = {"ctx_group_lag",
                 "Entries of the stream the consumer group has not read yet (absent when "
                 "Redis cannot tell).", true},
        [PENDING] = {"ctx_group_pending", "Entries read by the group and not acknowledged.",
                     true},
        [CONSUMERS] = {"ctx_group_consumers", "Consumers known to the group.", true},
        [OLDEST_PENDING] = {"ctx_group_oldest_pending_seconds",
                            "Age of the group's oldest pending entry (0: none).", true},
        [OLDEST_UNREAD] = {"ctx_group_oldest_unread_seconds",
                           "Age of the oldest entry the group has not read yet (0: none).",
                           true},
    };
    for (size_t m = 0; m < CTX_ARRAY_LEN(gm); m++) {
        metrics_header(b, gm[m].name, "gauge", gm[m].help);
        for (int p = 0; p < STORE_PIPE_COUNT; p++) {
            const struct store_pipe_info *pi = store_pipe_info((enum store_pipe)p);
            /* a pipe cut into shards: a line per shard's stream (its own key
             * name), which a query sums; else the one stream */
            unsigned n = sc->nshard[p] ? sc->nshard[p] : 1;
            for (unsigned k = 0; k < n; k++) {
                const struct store_group_figures *f =
                    sc->nshard[p] ? &sc->shard_fig[p][k] : &sc->fig[p];
                bool have = sc->nshard[p] ? sc->shard_have[p][k] : sc->have[p];
                if (!have || (gm[m].per_group && !f->group) || (m == LAG && f->lag < 0))
                    continue;
                char stream[STORE_KEY_LEN], dead[STORE_KEY_LEN];
                store_pipe_keys((enum store_pipe)p, k, stream, dead);   /* shard 0: pi's */
                if (!gm[m].per_group) {
                    buf_printf(b, "%s{stream=\"%s\"} %lld\n", gm[m].name,
                               m == DEAD ? dead : stream, m == DEAD ? f->dead : f->length);
                    continue;
                }
                double v = m == LAG ? (double)f->lag : m == PENDING ? (double)f->pending
                           : m == CONSUMERS ? (double)f->consumers
                           : m == OLDEST_PENDING ? f->oldest_pending : f->oldest_unread;
                buf_printf(b, "%s{stream=\"%s\",group=\"%s\"} %.9g\n", gm[m].name, stream,
                           pi->group, v < 0 ? 0 : v);
            }
        }
    }
}

/* The voice callbacks' calls (global: from Redis; docs/voice.md). */
static void write_calls(struct buf *b, const json_t *calls)
{
    metrics_header(b, "ctx_calls_placed_total", "counter",
                   "Callback calls started (agent leg first), by every dialer.");
    buf_printf(b, "ctx_calls_placed_total %lld\n",
               (long long)json_integer_value(json_object_get(calls, "placed")));
    metrics_header(b, "ctx_calls_answered_total", "counter",
                   "Callback calls the customer answered.");
    buf_printf(b, "ctx_calls_answered_total %lld\n",
               (long long)json_integer_value(json_object_get(calls, "answered")));
    metrics_header(b, "ctx_calls_failed_total", "counter",
                   "Callback calls that ended without a conversation, by outcome: busy, "
                   "no_answer, rejected, failed, agent_failed, cancelled.");
    const json_t *failed = json_object_get(calls, "failed");
    static const char *const outcomes[] = {"busy", "no_answer", "rejected", "failed",
                                           "agent_failed", "cancelled"};
    for (size_t i = 0; i < CTX_ARRAY_LEN(outcomes); i++)
        buf_printf(b, "ctx_calls_failed_total{outcome=\"%s\"} %lld\n", outcomes[i],
                   (long long)json_integer_value(json_object_get(failed, outcomes[i])));
    metrics_header(b, "ctx_calls_talk_seconds_total", "counter",
                   "Seconds customers and agents talked on callback calls.");
    buf_printf(b, "ctx_calls_talk_seconds_total %.3f\n",
               json_number_value(json_object_get(calls, "talk_s")));
}

static void metrics_answer(struct scrape *sc)
{
    struct api_req *r = sc->r;
    json_t *none = sc->queues ? NULL : json_array();
    write_process(r, sc->queues ? sc->queues : none);
    json_decref(none);
    write_groups(&r->body, sc);
    metrics_header(&r->body, "ctx_alerts_total", "counter",
                   "Spike alerts raised, per trend series (global: from Redis).");
    const char *series;
    json_t *n;
    json_object_foreach(sc->alerts, series, n) {
        buf_puts(&r->body, "ctx_alerts_total{series=\"");
        for (const char *p = series; *p; p++) {     /* label value escapes */
            if (*p == '"' || *p == '\\')
                buf_putc(&r->body, '\\');
            if (*p == '\n')
                buf_puts(&r->body, "\\n");
            else
                buf_putc(&r->body, *p);
        }
        buf_printf(&r->body, "\"} %lld\n", (long long)json_integer_value(n));
    }
    write_calls(&r->body, sc->calls);
    respond(r, 200, "text/plain; version=0.0.4");
}

void metrics_get(struct api_req *r)
{
    scrape_start(r, false);
}
