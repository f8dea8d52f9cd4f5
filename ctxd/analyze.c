/* analyze.c -- the analyze role: the I/O edge around the pure analyzer.
 *
 * It reads ctx:items:raw through the consumer group "analyze" on a
 * connection of its own (XREADGROUP blocks), tags each item with
 * analyzer_tag(), and stores it with the tag script, which writes the item
 * hash, the tagged stream and the indexes and acknowledges the raw entry in
 * one step. A batch is finished before the next is read. After every
 * (re)connection it first re-reads its own pending entries (id 0), so an
 * entry read but not stored before a crash or a Redis restart is tagged
 * again; the script's idempotence makes that harmless. Entries left pending
 * by a consumer that died are claimed with XAUTOCLAIM after a minute.
 * An entry that cannot be read as an item goes to ctx:items:dead with the
 * reason, so nothing is silently dropped. */
#define _GNU_SOURCE     /* asprintf */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "collectors/collectors.h"
#include "core/log.h"
#include "ctxd/roles.h"

#define KEY_DEAD "ctx:items:dead"
#define BATCH 64

struct analyze_role {
    uv_loop_t *loop;
    struct store *st;
    analyzer *const *an;        /* *an may be replaced by a reload */
    struct rconn *blk;          /* blocking reads only */
    struct rconn *cmd;          /* scripts and acks */
    char consumer[128];
    bool pending_phase;         /* reading our own pending entries (id 0) */
    bool reading;               /* a read or a batch is in flight */
    bool stopping;
    unsigned inflight;          /* tag scripts of the current batch */
    uv_timer_t *claim_timer;
    uv_timer_t *retry_timer;
    unsigned long long tagged;
};

static void read_next(struct analyze_role *r);

static void batch_step(struct analyze_role *r)
{
    if (--r->inflight == 0) {
        r->reading = false;
        if (!r->stopping)
            read_next(r);
    }
}

static void on_tagged(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct analyze_role *r = priv;
    if (!rep)
        log_warn("analyze: connection lost while storing; the entry stays pending");
    else if (rep->type == REDIS_REPLY_ERROR)
        log_error("analyze: tag script: %s", rep->str);
    else if (rep->type == REDIS_REPLY_STRING)
        r->tagged++;
    batch_step(r);
}

static void dead_letter(struct analyze_role *r, const char *sid, const char *payload,
                        const char *why)
{
    log_error("analyze: raw entry %s is not an item (%s); moved to %s", sid, why, KEY_DEAD);
    /* in order on one connection: the ack only follows a stored dead letter */
    rconn_cmd(r->cmd, NULL, NULL, "XADD %s MAXLEN ~ 10000 * raw_id %s reason %s payload %s",
              KEY_DEAD, sid, why, payload ? payload : "");
    rconn_cmd(r->cmd, NULL, NULL, "XACK %s %s %s", KEY_RAW, GROUP_ANALYZE, sid);
    rconn_cmd(r->cmd, NULL, NULL, "XDEL %s %s", KEY_RAW, sid);
}

static long long published_ms(const struct item *it)
{
    long long t;
    if (it->published && date_parse(it->published, &t) == 0)
        return t * 1000;
    if (it->fetched && date_parse(it->fetched, &t) == 0)
        return t * 1000;
    return 0;
}

/* Tag one raw entry and send it to the tag script. */
static void process_entry(struct analyze_role *r, const redisReply *e)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || !e->element[0]->str)
        return;
    const char *sid = e->element[0]->str;
    const redisReply *fields = e->element[1];
    const char *payload = NULL;
    if (fields->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i + 1 < fields->elements; i += 2)
            if (fields->element[i]->str && strcmp(fields->element[i]->str, "item") == 0)
                payload = fields->element[i + 1]->str;
    if (fields->type != REDIS_REPLY_ARRAY) {
        /* deleted after it was read but before the ack: nothing to tag */
        rconn_cmd(r->cmd, NULL, NULL, "XACK %s %s %s", KEY_RAW, GROUP_ANALYZE, sid);
        return;
    }
    json_error_t je;
    json_t *j = payload ? json_loads(payload, 0, &je) : NULL;
    struct item it;
    if (!j || item_from_json(j, &it)) {
        json_decref(j);
        dead_letter(r, sid, payload, j ? "not an item" : "not JSON");
        return;
    }
    json_decref(j);
    struct tags tags = {0};
    if (analyzer_tag(*r->an, &it, &tags)) {
        item_clear(&it);
        tags_clear(&tags);
        dead_letter(r, sid, payload, "analyzer failed");
        return;
    }
    if (!it.lang && tags.lang)
        item_set(&it.lang, tags.lang);
    json_t *tj = item_to_json(&it, &tags);
    char *json = tj ? json_dumps(tj, CTX_JSON_FLAGS) : NULL;
    json_decref(tj);

    /* keys: raw, item hash, tagged, index all, sentiment, brands..., topics... */
    size_t nk = 5 + tags.brands.n + tags.topics.n;
    char **keys = calloc(nk, sizeof *keys);
    const char **argv = calloc(nk + 6, sizeof *argv);
    char score[32];
    snprintf(score, sizeof score, "%lld", published_ms(&it));
    bool ok = json && keys && argv;
    if (ok) {
        size_t k = 0;
        ok = asprintf(&keys[k++], "%s", KEY_RAW) > 0 &&
             asprintf(&keys[k++], KEY_ITEM_PREFIX "%s", it.id) > 0 &&
             asprintf(&keys[k++], "%s", KEY_TAGGED) > 0 &&
             asprintf(&keys[k++], "%s", KEY_IDX_ALL) > 0 &&
             asprintf(&keys[k++], KEY_IDX_PREFIX "sentiment:%s",
                      sentiment_label_name(tags.label)) > 0;
        for (size_t i = 0; ok && i < tags.brands.n; i++)
            ok = asprintf(&keys[k++], KEY_IDX_PREFIX "brand:%s", tags.brands.v[i]) > 0;
        for (size_t i = 0; ok && i < tags.topics.n; i++)
            ok = asprintf(&keys[k++], KEY_IDX_PREFIX "topic:%s", tags.topics.v[i]) > 0;
    }
    if (ok) {
        for (size_t i = 0; i < nk; i++)
            argv[i] = keys[i];
        argv[nk] = GROUP_ANALYZE;
        argv[nk + 1] = sid;
        argv[nk + 2] = it.id;
        argv[nk + 3] = json;
        argv[nk + 4] = score;
        argv[nk + 5] = TAGGED_STREAM_CAP;
        r->inflight++;
        if (rconn_eval(r->cmd, &r->st->scripts[SCRIPT_TAG], on_tagged, r, (int)nk,
                       (int)nk + 6, argv, NULL))
            r->inflight--;  /* Redis away: the entry stays pending, re-read later */
    } else {
        log_error("analyze: out of memory tagging %s", sid);
    }
    for (size_t i = 0; keys && i < nk; i++)
        free(keys[i]);
    free(keys);
    free(argv);
    free(json);
    item_clear(&it);
    tags_clear(&tags);
}

/* XREADGROUP / XAUTOCLAIM reply: process the entries of the raw stream. */
static void process_entries(struct analyze_role *r, const redisReply *entries)
{
    r->inflight = 1;    /* held while the batch is being sent */
    for (size_t i = 0; entries && i < entries->elements; i++)
        process_entry(r, entries->element[i]);
    batch_step(r);
}

static void retry_fire(uv_timer_t *t)
{
    struct analyze_role *r = t->data;
    r->reading = false;
    read_next(r);
}

static void on_read(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct analyze_role *r = priv;
    if (!rep) {                  /* connection lost; on_state restarts reading */
        r->reading = false;
        return;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        if (strncmp(rep->str, "NOGROUP", 7) == 0)
            rconn_cmd(r->blk, NULL, NULL, "XGROUP CREATE %s %s 0 MKSTREAM", KEY_RAW,
                      GROUP_ANALYZE);
        else
            log_error("analyze: XREADGROUP: %s", rep->str);
        uv_timer_start(r->retry_timer, retry_fire, 500, 0);
        return;
    }
    const redisReply *entries = NULL;
    /* reply: [[stream, [entries...]]] or nil on timeout */
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
        rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 2)
        entries = rep->element[0]->element[1];
    if (r->pending_phase && (!entries || entries->elements == 0))
        r->pending_phase = false;    /* our backlog is done: now new entries */
    if (!entries || entries->elements == 0) {
        r->reading = false;
        if (!r->stopping)
            read_next(r);
        return;
    }
    process_entries(r, entries);
}

static void read_next(struct analyze_role *r)
{
    if (r->reading || r->stopping || !rconn_up(r->blk))
        return;
    r->reading = true;
    ctx_err e;
    if (r->pending_phase)
        e = rconn_cmd(r->blk, on_read, r, "XREADGROUP GROUP %s %s COUNT %d STREAMS %s 0",
                      GROUP_ANALYZE, r->consumer, BATCH, KEY_RAW);
    else
        e = rconn_cmd(r->blk, on_read, r,
                      "XREADGROUP GROUP %s %s COUNT %d BLOCK 2000 STREAMS %s >",
                      GROUP_ANALYZE, r->consumer, BATCH, KEY_RAW);
    if (e)
        r->reading = false;
}

static void on_group(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct analyze_role *r = priv;
    if (rep && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "BUSYGROUP", 9) != 0)
        log_error("analyze: XGROUP CREATE: %s", rep->str);
    r->pending_phase = true;
    r->reading = false;
    read_next(r);
}

static void on_state(struct rconn *rc, bool up, void *priv)
{
    struct analyze_role *r = priv;
    if (!up || r->stopping)
        return;
    /* "0": a new group reads everything already in the stream */
    rconn_cmd(rc, on_group, r, "XGROUP CREATE %s %s 0 MKSTREAM", KEY_RAW, GROUP_ANALYZE);
}

static void on_claimed(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct analyze_role *r = priv;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements < 2)
        return;
    if (rep->element[1]->elements > 0) {
        log_info("analyze: claimed %zu entries left pending by other consumers",
                 rep->element[1]->elements);
        /* they are now ours: the pending phase of the next read picks them up */
        r->pending_phase = true;
    }
}

static void claim_fire(uv_timer_t *t)
{
    struct analyze_role *r = t->data;
    rconn_cmd(r->cmd, on_claimed, r, "XAUTOCLAIM %s %s %s 60000 0-0 COUNT 100 JUSTID",
              KEY_RAW, GROUP_ANALYZE, r->consumer);
}

ctx_err analyze_role_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
                           analyzer *const *an, struct analyze_role **out)
{
    struct analyze_role *r = calloc(1, sizeof *r);
    if (!r)
        return CTX_ENOMEM;
    r->loop = loop;
    r->st = st;
    r->an = an;
    store_consumer_name(cfg, r->consumer, sizeof r->consumer);
    r->claim_timer = malloc(sizeof *r->claim_timer);
    r->retry_timer = malloc(sizeof *r->retry_timer);
    if (!r->claim_timer || !r->retry_timer) {
        free(r->claim_timer);
        free(r->retry_timer);
        free(r);
        return CTX_ENOMEM;
    }
    uv_timer_init(loop, r->claim_timer);
    uv_timer_init(loop, r->retry_timer);
    r->claim_timer->data = r->retry_timer->data = r;
    uv_timer_start(r->claim_timer, claim_fire, 30000, 30000);
    ctx_err e = store_conn_new(st, "analyze-read", on_state, r, &r->blk);
    if (!e)
        e = store_conn_new(st, "analyze", NULL, NULL, &r->cmd);
    if (e) {
        analyze_role_stop(r);
        return e;
    }
    log_info("analyze: consumer %s in group %s of %s", r->consumer, GROUP_ANALYZE, KEY_RAW);
    *out = r;
    return CTX_OK;
}

static void handle_free(uv_handle_t *h)
{
    free(h);
}

void analyze_role_stop(struct analyze_role *r)
{
    if (!r)
        return;
    r->stopping = true;
    rconn_free(r->blk);     /* in-flight commands are called back with NULL */
    rconn_free(r->cmd);
    uv_close((uv_handle_t *)r->claim_timer, handle_free);
    uv_close((uv_handle_t *)r->retry_timer, handle_free);
    free(r);
}
