/* collect.c -- the collect role: one timer per source, polite polling.
 *
 * Each source polls every `every` seconds (+-10% jitter so a fleet of
 * sources spreads out), with conditional GET (ETag / Last-Modified, kept in
 * the source's Redis hash so a restart keeps them). A 200 is parsed by the
 * source kind's parser and its items go through the add_raw script, which
 * drops ids already seen: one call per item shard (store/KEYS.md "Item
 * shards": an item's seen set and raw stream are its shard's), up to
 * STORE_ADD_RAW_MAX items each. The validators are saved only once every item of
 * the response is stored: if Redis fails half way, the next poll fetches the
 * whole document again rather than getting a 304 and losing the rest.
 * Errors back off exponentially (capped); 429 and 503 honour Retry-After.
 * At most cfg->per_host fetches run against one host at a time; a source
 * whose host is busy waits in that host's queue, in order, and is fetched
 * as soon as a slot frees, so a thousand feeds on one server are polled
 * politely rather than all at once.
 *
 * Collectors on several processes or hosts split the sources: before each
 * poll a source's lease (ctx:{c}:lease:source:<name>, for 2 polls' time + 5
 * s) is taken or renewed, and a collector that does not hold it skips the
 * poll. When the holder dies its lease expires and the next collector to
 * ask takes the source over, reading its state (validators, cursor) from
 * Redis first, as the holder left it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include "core/clock.h"
#include "collectors/collectors.h"
#include "core/config.h"
#include "core/http.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "ctxd/roles.h"
#include "store/store.h"

struct source;

/* A host being fetched from: slots in use and the sources waiting. */
struct host {
    struct host *next;          /* hash chain */
    unsigned active;
    struct source *wait_head, *wait_tail;
    char name[];
};

#define HOST_BUCKETS 1024

struct collector {
    uv_loop_t *loop;
    const struct config *cfg;
    struct store *st;
    struct http *http;
    struct rconn *rc;
    struct source *sources;
    size_t nsources;
    struct host *hosts[HOST_BUCKETS];
    char owner[128];            /* our name on the sources' leases */
    bool stopping;              /* collector_release(): no more polls */
    int releasing;              /* leases given back, answers awaited */
    void (*released)(void *);
    void *released_arg;
};

struct source {
    struct collector *c;
    const struct config_source *cfg;
    const struct source_ops *ops;
    uv_timer_t *timer;
    struct http_xfer *xfer;     /* the fetch in flight, or NULL */
    struct host *host;          /* the host of the fetch in flight or awaited */
    struct source *wait_next;   /* in host->wait_* while waiting for a slot */
    bool waiting;
    char *etag, *last_modified;
    char *cursor;               /* where the next poll resumes (paged APIs) */
    bool state_loaded;
    bool held;                  /* we held its lease at the last poll */
    unsigned failures;
};

/* One response's worth of Redis writes. */
struct batch {
    struct source *s;
    unsigned pending, failed, added, total;
    char *etag, *last_modified;
    char *cursor;
    long status;
    double seconds;
};

static void poll_source(uv_timer_t *t);
static void host_release(struct source *s);

static double jitter(double secs)
{
    return secs * (0.9 + 0.2 * ((double)rand() / RAND_MAX));
}

static void schedule(struct source *s, double secs)
{
    uint64_t ms = (uint64_t)(secs * 1000);
    uv_timer_start(s->timer, poll_source, ms ? ms : 1, 0);
    if (rconn_up(s->c->rc)) {
        char when[CTX_TIME_LEN];
        ctx_time_format((long long)time(NULL) + (long long)secs, when);
        const char *fv[] = {"next_poll", when};
        store_source_set(s->c->rc, s->c->st, s->cfg->name, fv, CTX_ARRAY_LEN(fv));
    }
}

static void record_error(struct source *s, long status, const char *why, double retry_after)
{
    s->failures++;
    double delay = s->cfg->every;
    for (unsigned i = 0; i < s->failures && i < 10; i++)
        delay *= 2;
    double cap = s->cfg->every > 900 ? s->cfg->every : 900;
    if (delay > cap)
        delay = cap;
    if (retry_after > 0)
        delay = retry_after > s->cfg->every ? retry_after : s->cfg->every;
    log_warn("collect: %s: %s; next try in %.1f s", s->cfg->name, why, delay);
    if (rconn_up(s->c->rc)) {
        char now[CTX_TIME_LEN], st[24], fails[24];
        ctx_time_format(time(NULL), now);
        snprintf(st, sizeof st, "%ld", status);
        snprintf(fails, sizeof fails, "%u", s->failures);
        const char *fv[] = {"last_error", why, "last_error_at", now, "last_status", st,
                            "failures", fails};
        store_source_set(s->c->rc, s->c->st, s->cfg->name, fv, CTX_ARRAY_LEN(fv));
    }
    schedule(s, retry_after > 0 ? delay : jitter(delay));
}

static void record_ok(struct source *s, long status)
{
    s->failures = 0;
    char now[CTX_TIME_LEN], st[24];
    ctx_time_format(time(NULL), now);
    snprintf(st, sizeof st, "%ld", status);
    const char *fv[] = {"last_ok", now, "last_status", st, "failures", "0"};
    store_source_set(s->c->rc, s->c->st, s->cfg->name, fv, CTX_ARRAY_LEN(fv));
    store_source_incr(s->c->rc, s->c->st, s->cfg->name, "polls", 1);
    schedule(s, jitter(s->cfg->every));
}

static void count_error(struct source *s, const char *error)
{
    metrics_add(METRIC_FETCH_ERRORS, s->cfg->kind, error, 1);
}

static void batch_done(struct batch *b)
{
    struct source *s = b->s;
    if (b->failed) {
        count_error(s, METRIC_ERR_STORE);
        char why[128];
        snprintf(why, sizeof why, "%u of %u items could not be stored", b->failed, b->total);
        record_error(s, b->status, why, 0);
    } else {
        /* everything is stored: now the validators may be trusted */
        free(s->etag);
        free(s->last_modified);
        s->etag = b->etag;
        s->last_modified = b->last_modified;
        b->etag = b->last_modified = NULL;
        if (b->cursor) {        /* the next poll resumes after what is now stored */
            free(s->cursor);
            s->cursor = b->cursor;
            b->cursor = NULL;
            const char *fv[] = {"cursor", s->cursor};
            store_source_set(s->c->rc, s->c->st, s->cfg->name, fv, CTX_ARRAY_LEN(fv));
        }
        if (s->etag) {
            const char *fv[] = {"etag", s->etag};
            store_source_set(s->c->rc, s->c->st, s->cfg->name, fv, CTX_ARRAY_LEN(fv));
        }
        if (s->last_modified) {
            const char *fv[] = {"last_modified", s->last_modified};
            store_source_set(s->c->rc, s->c->st, s->cfg->name, fv, CTX_ARRAY_LEN(fv));
        }
        if (b->added)
            store_source_incr(s->c->rc, s->c->st, s->cfg->name, "items_seen", b->added);
        log_info("collect: %s: %ld, %u items, %u new (%.3f s)", s->cfg->name, b->status,
                 b->total, b->added, b->seconds);
        record_ok(s, b->status);
    }
    free(b->etag);
    free(b->last_modified);
    free(b->cursor);
    free(b);
}

/* One add_raw.lua call of the fetch (a shard's items, store_add_raw_in()):
 * its one item's stream id or nil, or a list of those; lost or an error,
 * its `items` are counted failed. */
struct add_call {
    struct batch *b;
    size_t items;
};

static void on_added(struct rconn *rc, redisReply *r, void *priv)
{
    (void)rc;
    struct add_call *c = priv;
    struct batch *b = c->b;
    if (!r || r->type == REDIS_REPLY_ERROR) {
        if (r)
            log_error("collect: %s: add_raw: %s", b->s->cfg->name, r->str);
        b->failed += (unsigned)c->items;
    } else {
        size_t n = r->type == REDIS_REPLY_ARRAY ? r->elements : 1;
        for (size_t i = 0; i < n; i++) {
            const redisReply *x = r->type == REDIS_REPLY_ARRAY ? r->element[i] : r;
            if (x->type == REDIS_REPLY_STRING) {
                b->added++;
                metrics_add(METRIC_ITEMS_COLLECTED, b->s->cfg->kind, NULL, 1);
            }
        }
    }
    free(c);
    if (--b->pending == 0)
        batch_done(b);
}

/* Send the items' add_raw.lua calls: the items grouped by shard (in their
 * order), STORE_ADD_RAW_MAX a call; each call holds the batch once, and a
 * lost one fails exactly its items. */
static void add_items(struct source *s, struct batch *b, const char *const *ids,
                      const char *const *jsons, size_t n)
{
    unsigned shards = store_shards(s->c->st);
    for (unsigned sh = 0; sh < shards; sh++) {
        const char **sid = ctx_calloc(n + 1, sizeof *sid), **sjs = ctx_calloc(n + 1, sizeof *sjs);
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (store_item_shard(ids[i], shards) == sh) {
                sid[m] = ids[i];
                sjs[m++] = jsons[i];
            }
        for (size_t at = 0; at < m; at += STORE_ADD_RAW_MAX) {
            size_t k = m - at < STORE_ADD_RAW_MAX ? m - at : STORE_ADD_RAW_MAX;
            struct add_call *c = ctx_malloc(sizeof *c);
            *c = (struct add_call){b, k};
            b->pending++;
            if (store_add_raw_in(s->c->rc, s->c->st, sh, s->cfg->name, sid + at, sjs + at, k,
                                 on_added, c)) {
                b->pending--;
                b->failed += (unsigned)k;
                free(c);
            }
        }
        free(sid);
        free(sjs);
    }
}

static void store_items(struct source *s, struct parse_result *pr, struct http_res *res)
{
    struct batch *b = ctx_calloc(1, sizeof *b);
    b->s = s;
    b->status = res->status;
    b->seconds = res->seconds;
    b->total = (unsigned)pr->nitems;
    b->etag = res->etag ? ctx_strdup(res->etag) : NULL;
    b->last_modified = res->last_modified ? ctx_strdup(res->last_modified) : NULL;
    b->cursor = pr->cursor ? ctx_strdup(pr->cursor) : NULL;
    b->pending = 1;   /* held until every command is sent */
    /* feeds list newest first: store oldest first so streams read in time order */
    const char **ids = ctx_calloc(pr->nitems + 1, sizeof *ids);
    char **jsons = ctx_calloc(pr->nitems + 1, sizeof *jsons);
    size_t n = 0;
    for (size_t i = pr->nitems; i-- > 0;) {
        struct item *it = &pr->items[i];
        json_t *j = item_to_json(it, NULL);
        char *json = j ? json_dumps(j, CTX_JSON_FLAGS) : NULL;
        if (j && !json)
            ctx_oom(0);     /* an object always dumps: only memory can fail it */
        json_decref(j);
        if (!json) {        /* a string jansson refused (not expected from a parser) */
            b->failed++;
            continue;
        }
        ids[n] = it->id;
        jsons[n++] = json;
    }
    /* one add_raw.lua per shard (and per STORE_ADD_RAW_MAX items), not per item */
    add_items(s, b, ids, (const char *const *)jsons, n);
    for (size_t i = 0; i < n; i++)
        free(jsons[i]);
    free(ids);
    free(jsons);
    if (--b->pending == 0)
        batch_done(b);
}

static void on_fetched(void *priv, struct http_res *res)
{
    struct source *s = priv;
    s->xfer = NULL;
    host_release(s);
    metrics_add(METRIC_POLLS, s->cfg->kind, NULL, 1);
    if (res->err) {
        count_error(s, metrics_fetch_error(res->err, res->timed_out, 0));
        record_error(s, 0, res->error, 0);
        return;
    }
    if (res->status == 304) {
        log_debug("collect: %s: 304 not modified (%.3f s)", s->cfg->name, res->seconds);
        record_ok(s, 304);
        return;
    }
    if (res->status != 200)
        count_error(s, metrics_fetch_error(CTX_OK, false, res->status));
    if (res->status == 429 || res->status == 503) {
        double ra = 0;
        if (res->retry_after) {
            /* delay-seconds or an HTTP-date (RFC 9110 10.2.3): the date as
             * curl reads HTTP dates */
            char *end;
            ra = strtod(res->retry_after, &end);
            time_t when;
            if (*end && (when = curl_getdate(res->retry_after, NULL)) != (time_t)-1)
                ra = (double)((long long)when - ctx_now_s());
            if (ra < 0 || ra > 86400)
                ra = 0;
        }
        char why[64];
        snprintf(why, sizeof why, "HTTP %ld", res->status);
        record_error(s, res->status, why, ra > 0 ? ra : 0);
        return;
    }
    if (res->status != 200) {
        char why[64];
        snprintf(why, sizeof why, "HTTP %ld", res->status);
        record_error(s, res->status, why, 0);
        return;
    }
    char fetched[CTX_TIME_LEN];
    ctx_time_format(time(NULL), fetched);
    struct http_response resp = {
        .status = res->status, .body = buf_str(&res->body), .len = buf_len(&res->body),
        .content_type = res->content_type, .content_location = res->content_location,
        .url = res->effective_url ? res->effective_url : s->cfg->url,
    };
    struct parse_result pr = {0};
    ctx_err e = s->ops->parse(s->cfg, s->cursor, &resp, fetched, &pr);
    if (e) {
        char why[300];
        snprintf(why, sizeof why, "cannot parse: %s", pr.error[0] ? pr.error : ctx_strerror(e));
        parse_result_clear(&pr);
        count_error(s, METRIC_ERR_PARSE);
        record_error(s, res->status, why, 0);
        return;
    }
    if (pr.bozo)
        log_warn("collect: %s: not well-formed (%s); %zu items recovered", s->cfg->name,
                 pr.error, pr.nitems);
    if (!rconn_up(s->c->rc)) {
        parse_result_clear(&pr);
        count_error(s, METRIC_ERR_STORE);
        record_error(s, res->status, "redis is down", 0);
        return;
    }
    store_items(s, &pr, res);
    parse_result_clear(&pr);
}

static struct host *host_get(struct collector *c, const char *name)
{
    uint32_t h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    struct host **slot = &c->hosts[h % HOST_BUCKETS];
    for (struct host *x = *slot; x; x = x->next)
        if (strcmp(x->name, name) == 0)
            return x;
    struct host *x = ctx_calloc(1, sizeof *x + strlen(name) + 1);
    strcpy(x->name, name);
    x->next = *slot;
    *slot = x;
    return x;
}

static void fetch(struct source *s);

/* A fetch to s->host ended: free its slot for the next waiting source. */
static void host_release(struct source *s)
{
    struct host *h = s->host;
    s->host = NULL;
    if (!h)
        return;
    h->active--;
    struct source *next = h->wait_head;
    if (next) {
        h->wait_head = next->wait_next;
        if (!h->wait_head)
            h->wait_tail = NULL;
        next->wait_next = NULL;
        next->waiting = false;
        fetch(next);
    }
}

static void fetch(struct source *s)
{
    struct source_request q = {0};
    ctx_err e = CTX_OK;
    if (s->ops->next_request) {
        e = s->ops->next_request(s->cfg, s->cursor, &q);
    } else {
        q.url = ctx_strdup(s->cfg->url);
        e = source_request_header(&q, "Accept: application/rss+xml, "
                                  "application/atom+xml, application/rdf+xml;q=0.9, "
                                  "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5");
    }
    if (!e && s->etag)
        e = source_request_header(&q, "If-None-Match: %s", s->etag);
    if (!e && s->last_modified)
        e = source_request_header(&q, "If-Modified-Since: %s", s->last_modified);
    const char *headers[q.headers.n + 1];
    for (size_t i = 0; i < q.headers.n; i++)
        headers[i] = q.headers.v[i];
    headers[q.headers.n] = NULL;
    struct http_req req = {
        .url = q.url, .method = q.method, .headers = headers,
        .body = buf_len(&q.body) ? buf_str(&q.body) : NULL, .body_len = buf_len(&q.body),
        .timeout = q.timeout > 0 ? q.timeout : s->cfg->timeout,
        .max_bytes = s->cfg->max_bytes, .user_agent = s->c->cfg->user_agent,
    };
    if (e) {
        record_error(s, 0, "cannot build the request", 0);
        source_request_clear(&q);
        return;
    }
    char hn[256];               /* "http://user@Host:8080/path" -> "host:8080" */
    if (!url_host(q.url, true, hn, sizeof hn))
        snprintf(hn, sizeof hn, "%s", q.url);

    struct host *h = host_get(s->c, hn);
    if (h->active >= (unsigned)s->c->cfg->per_host) {
        s->host = h;            /* wait for a slot; host_release() calls fetch() again */
        s->waiting = true;
        if (h->wait_tail)
            h->wait_tail->wait_next = s;
        else
            h->wait_head = s;
        h->wait_tail = s;
        source_request_clear(&q);
        return;
    }
    h->active++;
    s->host = h;
    if (http_fetch(s->c->http, &req, on_fetched, s, &s->xfer)) {
        host_release(s);
        record_error(s, 0, "cannot start the transfer", 0);
    }
    source_request_clear(&q);
}

static void on_state(struct rconn *rc, redisReply *r, void *priv)
{
    (void)rc;
    struct source *s = priv;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        schedule(s, 1);
        return;
    }
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const char *k = r->element[i]->str, *v = r->element[i + 1]->str;
        if (!k || !v)
            continue;
        if (strcmp(k, "etag") == 0)
            item_set(&s->etag, v);
        else if (strcmp(k, "last_modified") == 0)
            item_set(&s->last_modified, v);
        else if (strcmp(k, "cursor") == 0)
            item_set(&s->cursor, v);
    }
    s->state_loaded = true;
    fetch(s);
}

static void on_lease(struct rconn *rc, redisReply *r, void *priv)
{
    (void)rc;
    struct source *s = priv;
    if (!r || r->type != REDIS_REPLY_INTEGER) {
        if (r && r->type == REDIS_REPLY_ERROR)
            log_warn("collect: %s: lease: %s", s->cfg->name, r->str);
        uv_timer_start(s->timer, poll_source, 1000, 0);
        return;
    }
    if (r->integer != 1) {      /* another collector polls it */
        if (s->held)
            log_info("collect: %s: polled by another collector now", s->cfg->name);
        s->held = false;
        uv_timer_start(s->timer, poll_source, (uint64_t)(jitter(s->cfg->every) * 1000) + 1, 0);
        return;
    }
    if (!s->held) {             /* taken (over): its state as the last holder left it */
        log_info("collect: %s: lease taken by %s", s->cfg->name, s->c->owner);
        s->held = true;
        s->state_loaded = false;
    }
    if (!s->state_loaded) {
        if (store_read(s->c->rc, s->c->st, STORE_SOURCE, s->cfg->name, on_state, s))
            uv_timer_start(s->timer, poll_source, 1000, 0);
        return;
    }
    fetch(s);
}

static void poll_source(uv_timer_t *t)
{
    struct source *s = t->data;
    if (s->xfer || s->waiting || s->c->stopping)
        return;                 /* still fetching or queued: never two at once */
    if (!rconn_up(s->c->rc)) {  /* nowhere to put items: wait for Redis */
        uv_timer_start(s->timer, poll_source, 1000, 0);
        return;
    }
    long long ms = (long long)(s->cfg->every * 2000) + 5000;
    if (store_source_lease(s->c->rc, s->c->st, s->cfg->name, s->c->owner, ms, on_lease, s))
        uv_timer_start(s->timer, poll_source, 1000, 0);
}

ctx_err collector_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
                        struct collector **out)
{
    struct collector *c = ctx_calloc(1, sizeof *c);
    c->loop = loop;
    c->cfg = cfg;
    c->st = st;
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    c->http = http_new(loop);
    store_consumer_name(cfg, c->owner, sizeof c->owner);
    ctx_err e = store_conn_new(st, "collect", NULL, NULL, &c->rc);
    if (!e && cfg->nsources)
        c->sources = ctx_calloc(cfg->nsources, sizeof *c->sources);
    for (size_t i = 0; !e && i < cfg->nsources; i++) {
        struct source *s = &c->sources[i];
        s->c = c;
        s->cfg = &cfg->sources[i];
        s->ops = source_ops_find(s->cfg->kind);
        if (!s->ops) {
            e = CTX_ECONFIG;
            break;
        }
        s->timer = ctx_malloc(sizeof *s->timer);
        c->nsources = i + 1;
        metrics_add(METRIC_POLLS, s->cfg->kind, NULL, 0);   /* the series exist from now */
        metrics_add(METRIC_ITEMS_COLLECTED, s->cfg->kind, NULL, 0);
        uv_timer_init(loop, s->timer);
        s->timer->data = s;
        /* first poll soon, spread over the first half second */
        uv_timer_start(s->timer, poll_source, 10 + (uint64_t)(rand() % 500), 0);
        log_info("collect: %s (%s) every %.1f s: %s", s->cfg->name, s->cfg->kind,
                 s->cfg->every, s->cfg->url);
    }
    if (e) {
        collector_stop(c);
        return e;
    }
    *out = c;
    return CTX_OK;
}

static void on_released(struct rconn *rc, redisReply *r, void *priv)
{
    (void)rc;
    (void)r;                    /* an error or a lost answer: the lease expires by itself */
    struct collector *c = priv;
    if (--c->releasing == 0 && c->released)
        c->released(c->released_arg);
}

int collector_release(struct collector *c, void (*done)(void *), void *arg)
{
    if (!c)
        return 0;
    c->stopping = true;
    c->released = done;
    c->released_arg = arg;
    int n = 0;
    for (size_t i = 0; i < c->nsources; i++) {
        struct source *s = &c->sources[i];
        uv_timer_stop(s->timer);
        if (s->held && rconn_up(c->rc) &&
            store_source_lease_release(c->rc, c->st, s->cfg->name, c->owner, on_released,
                                       c) == CTX_OK)
            n++;
    }
    c->releasing = n;
    if (n)
        log_info("collect: giving %d source lease%s back", n, n == 1 ? "" : "s");
    return n;
}

static void timer_closed(uv_handle_t *h)
{
    free(h);
}

void collector_stop(struct collector *c)
{
    if (!c)
        return;
    c->released = NULL;     /* the release answers called back below: nobody waits */
    rconn_free(c->rc);      /* pending writes are called back now, sources alive */
    for (size_t i = 0; i < c->nsources; i++) {
        struct source *s = &c->sources[i];
        if (s->xfer)
            http_cancel(s->xfer);
        uv_close((uv_handle_t *)s->timer, timer_closed);
        free(s->etag);
        free(s->last_modified);
        free(s->cursor);
    }
    http_free(c->http);
    for (size_t i = 0; i < HOST_BUCKETS; i++)
        for (struct host *h = c->hosts[i], *next; h; h = next) {
            next = h->next;
            free(h);
        }
    free(c->sources);
    free(c);
}
