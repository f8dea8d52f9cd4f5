/* outbox.c -- posting agents' replies back to the networks.
 *
 * Replies are queued in Redis (reply_enqueue.lua: a hash per reply and an
 * entry in the ctx:{r}:outbox stream) and posted here, with the collect role:
 * the consumer group "post" hands each entry to one process. For an entry
 * the poster reads the reply, marks it "posting" (attempts + 1), builds the
 * request with the source kind's reply_request(), sends it, classifies the
 * answer with reply_result(), and settles it with reply_settle.lua, which
 * acks the entry in the same step: posted, failed, or retrying -- a retry
 * waits in a delayed set (exponential backoff, or the network's
 * Retry-After) and a 1 s timer moves due retries back into the stream.
 * A crash mid-post leaves the entry pending; it is posted again after a
 * restart (own pending entries) or by another process (XAUTOCLAIM after a
 * minute), with the same reply id as the idempotency key, so a network
 * that honours one (Mastodon's Idempotency-Key, VK's guid) never shows it
 * twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/clock.h"
#include "collectors/collectors.h"
#include "core/http.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "ctxd/roles.h"
#include "store/store.h"

#define BATCH 16
#define MAX_ATTEMPTS 8
#define MAX_BACKOFF 300.0

struct outbox {
    uv_loop_t *loop;
    const struct config *cfg;
    struct store *st;
    struct http *http;
    struct group_reader *rd;    /* ctx:{r}:outbox, group "post" */
    struct rconn *cmd;
    bool stopping;
    unsigned inflight;
    uv_timer_t *due_timer;
    struct post *posts;         /* every post in progress, to free on stop */
};

/* One outbox entry being posted. */
struct post {
    struct outbox *ob;
    char sid[48];               /* outbox stream entry id */
    char id[128];               /* reply id */
    char *item, *text, *ref, *source, *created;
    unsigned attempts;
    struct http_xfer *xfer;
    const struct config_source *src;
    struct post *prev, *next;
};


static void post_free(struct post *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        p->ob->posts = p->next;
    if (p->next)
        p->next->prev = p->prev;
    free(p->item);
    free(p->text);
    free(p->ref);
    free(p->source);
    free(p->created);
    free(p);
}

static void batch_step(struct outbox *ob)
{
    if (--ob->inflight == 0 && !ob->stopping)
        group_reader_done(ob->rd);
}

/* p could not go on because Redis refused or lost a command (an error
 * reply, a failover, maxmemory): its entry stays pending, and is read again
 * after the reader's back-off (2 s, doubling), not claim_idle later. */
static void leave_pending(struct post *p)
{
    struct outbox *ob = p->ob;
    if (!ob->stopping)          /* stopping: the reader is gone, the entry stays pending */
        group_reader_left_pending(ob->rd);
    post_free(p);
    batch_step(ob);
}

static void on_settled(struct rconn *rc, redisReply *r, void *priv)
{
    (void)rc;
    struct post *p = priv;
    if (!r || r->type == REDIS_REPLY_ERROR) {
        log_error("outbox: reply %s: cannot record its status (%s); it stays pending",
                  p->id, r ? r->str : "connection lost");
        leave_pending(p);
        return;
    }
    struct outbox *ob = p->ob;
    post_free(p);
    batch_step(ob);
}

static void settle(struct post *p, const char *status, const char *ref, const char *error,
                   double retry_in)
{
    struct outbox *ob = p->ob;
    const char *kind = p->src ? p->src->kind : "unknown";
    if (strcmp(status, "posted") == 0) {
        log_info("outbox: reply %s to %s posted (%s)", p->id, p->item ? p->item : "?", ref);
        metrics_add(METRIC_REPLIES_POSTED, kind, NULL, 1);
    } else if (strcmp(status, "failed") == 0) {
        log_warn("outbox: reply %s to %s failed: %s", p->id, p->item ? p->item : "?", error);
        metrics_add(METRIC_REPLIES_FAILED, kind, NULL, 1);
    } else {
        log_warn("outbox: reply %s: %s; retrying in %.0f s", p->id, error, retry_in);
        metrics_add(METRIC_REPLY_RETRIES, kind, NULL, 1);
    }
    if (store_reply_settle(ob->cmd, ob->st, p->sid, p->id, status, ref, error,
                           ctx_now_ms() + (long long)(retry_in * 1000), on_settled, p))
        leave_pending(p);       /* Redis away: the entry stays pending, posted again */
}

static double backoff(unsigned attempts)
{
    double d = 2;
    for (unsigned i = 1; i < attempts && d < MAX_BACKOFF; i++)
        d *= 2;
    return d > MAX_BACKOFF ? MAX_BACKOFF : d;
}

static void on_posted(void *priv, struct http_res *res)
{
    struct post *p = priv;
    p->xfer = NULL;
    const struct source_ops *ops = source_ops_find(p->src->kind);
    struct reply_outcome out = {0};
    if (res->err) {
        out.status = REPLY_RETRY;
        snprintf(out.error, sizeof out.error, "%s", res->error);
    } else {
        struct http_response resp = {
            .status = res->status, .body = buf_str(&res->body), .len = buf_len(&res->body),
            .content_type = res->content_type, .url = res->effective_url,
        };
        ops->reply_result(&resp, &out);
        if (out.status == REPLY_RETRY && res->retry_after && out.retry_after <= 0)
            out.retry_after = atof(res->retry_after);
    }
    if (out.status == REPLY_POSTED) {
        settle(p, "posted", out.ref, NULL, 0);
    } else if (out.status == REPLY_FAILED || p->attempts >= MAX_ATTEMPTS) {
        char why[400];
        snprintf(why, sizeof why, "%s%s", out.error[0] ? out.error : "rejected",
                 out.status == REPLY_RETRY ? " (gave up after retries)" : "");
        settle(p, "failed", NULL, why, 0);
    } else {
        double in = out.retry_after > 0 ? out.retry_after : backoff(p->attempts);
        if (in > 3600)
            in = 3600;
        settle(p, "retrying", NULL, out.error[0] ? out.error : "temporary error", in);
    }
}

static void send_post(struct post *p)
{
    struct outbox *ob = p->ob;
    const struct source_ops *ops = source_ops_find(p->src->kind);
    struct reply rep = {.id = p->id, .item_id = p->item, .ref = p->ref, .text = p->text,
                        .created = p->created};
    struct source_request q = {0};
    ctx_err e = ops->reply_request(p->src, &rep, &q);
    if (e) {
        source_request_clear(&q);
        settle(p, "failed", NULL, "cannot build the reply request", 0);
        return;
    }
    const char *headers[q.headers.n + 1];
    for (size_t i = 0; i < q.headers.n; i++)
        headers[i] = q.headers.v[i];
    headers[q.headers.n] = NULL;
    struct http_req req = {
        .url = q.url, .method = q.method ? q.method : "POST", .headers = headers,
        .body = buf_str(&q.body), .body_len = buf_len(&q.body),
        .timeout = q.timeout > 0 ? q.timeout : p->src->timeout, .max_bytes = 1024 * 1024,
        .user_agent = ob->cfg->user_agent, .max_redirects = 1,
    };
    if (http_fetch(ob->http, &req, on_posted, p, &p->xfer)) {
        source_request_clear(&q);
        settle(p, "retrying", NULL, "cannot start the transfer", backoff(p->attempts));
        return;
    }
    source_request_clear(&q);
}

static void on_marked(struct rconn *rc, redisReply *r, void *priv)
{
    (void)rc;
    struct post *p = priv;
    if (!r || r->type != REDIS_REPLY_INTEGER) {
        leave_pending(p);       /* not marked */
        return;
    }
    p->attempts = (unsigned)r->integer;
    send_post(p);
}

static const char *field(const redisReply *r, const char *name)
{
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2)
        if (r->element[i]->str && strcmp(r->element[i]->str, name) == 0)
            return r->element[i + 1]->str;
    return NULL;
}

static void on_reply_loaded(struct rconn *rc, redisReply *r, void *priv)
{
    (void)rc;
    struct post *p = priv;
    struct outbox *ob = p->ob;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        leave_pending(p);
        return;
    }
    const char *status = field(r, "status");
    if (!status) {
        settle(p, "failed", NULL, "no such reply", 0);
        return;
    }
    if (strcmp(status, "posted") == 0 || strcmp(status, "failed") == 0) {
        /* already settled (a duplicate entry): only acknowledge it */
        store_outbox_drop(ob->cmd, ob->st, p->sid);
        post_free(p);
        batch_step(ob);
        return;
    }
    const char *src = field(r, "source"), *item = field(r, "item"), *text = field(r, "text"),
               *ref = field(r, "ref");
    p->item = item ? ctx_strdup(item) : NULL;
    p->text = ctx_strdup(text ? text : "");
    p->ref = ctx_strdup(ref ? ref : "");
    p->source = src ? ctx_strdup(src) : NULL;
    const char *created = field(r, "created");
    p->created = created ? ctx_strdup(created) : NULL;
    for (size_t i = 0; src && i < ob->cfg->nsources; i++)
        if (strcmp(ob->cfg->sources[i].name, src) == 0)
            p->src = &ob->cfg->sources[i];
    const struct source_ops *ops = p->src ? source_ops_find(p->src->kind) : NULL;
    if (!p->src) {
        settle(p, "failed", NULL, "its source is no longer configured", 0);
        return;
    }
    if (!ops || !ops->reply_request || !ops->reply_result) {
        settle(p, "failed", NULL, "this network takes no replies", 0);
        return;
    }
    /* posting, attempt n: a crash from here on posts it again, same id */
    if (store_reply_posting(ob->cmd, ob->st, p->id, on_marked, p))
        leave_pending(p);
}

static void process_entry(struct outbox *ob, const redisReply *e)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || !e->element[0]->str)
        return;
    const char *sid = e->element[0]->str, *id = field(e->element[1], "id");
    if (!id) {                  /* deleted or malformed: nothing to post */
        store_outbox_drop(ob->cmd, ob->st, sid);
        return;
    }
    struct post *p = ctx_calloc(1, sizeof *p);
    p->ob = ob;
    p->next = ob->posts;
    if (ob->posts)
        ob->posts->prev = p;
    ob->posts = p;
    snprintf(p->sid, sizeof p->sid, "%s", sid);
    snprintf(p->id, sizeof p->id, "%s", id);
    ob->inflight++;
    if (store_read(ob->cmd, ob->st, STORE_REPLY, id, on_reply_loaded, p)) {
        post_free(p);
        ob->inflight--;
        group_reader_left_pending(ob->rd);
    }
}

static void on_batch(const redisReply *entries, void *priv)
{
    struct outbox *ob = priv;
    ob->inflight = 1;           /* held while the batch is being sent */
    for (size_t i = 0; i < entries->elements; i++)
        process_entry(ob, entries->element[i]);
    batch_step(ob);
}

static void due_fire(uv_timer_t *t)
{
    struct outbox *ob = t->data;
    store_reply_due(ob->cmd, ob->st, ctx_now_ms(), NULL, NULL);
    group_reader_poke(ob->rd);  /* in case a read was refused while Redis was away */
}

ctx_err outbox_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
                     struct outbox **out)
{
    struct outbox *ob = ctx_calloc(1, sizeof *ob);
    ob->loop = loop;
    ob->cfg = cfg;
    ob->st = st;
    ob->http = http_new(loop);
    ob->due_timer = ctx_malloc(sizeof *ob->due_timer);
    uv_timer_init(loop, ob->due_timer);
    ob->due_timer->data = ob;
    uv_timer_start(ob->due_timer, due_fire, 1000, 1000);
    static const struct group_opts o = {
        .name = "outbox", .stream = KEY_OUTBOX, .group = GROUP_POST, .start_id = "0",
        .count = BATCH,
    };
    ctx_err e = store_conn_new(st, "outbox", NULL, NULL, &ob->cmd);
    if (!e)
        e = group_reader_start(st, &o, on_batch, ob, &ob->rd);
    if (e) {
        outbox_stop(ob);
        return e;
    }
    *out = ob;
    return CTX_OK;
}

static void handle_free(uv_handle_t *h)
{
    free(h);
}

void outbox_stop(struct outbox *ob)
{
    if (!ob)
        return;
    ob->stopping = true;
    http_free(ob->http);        /* posts in flight are abandoned: they stay pending */
    group_reader_stop(ob->rd);
    ob->rd = NULL;
    rconn_free(ob->cmd);        /* posts waiting on Redis are called back and freed */
    while (ob->posts)           /* posts that were waiting on the network */
        post_free(ob->posts);
    uv_close((uv_handle_t *)ob->due_timer, handle_free);
    free(ob);
}
