/* api.c -- the dynamic HTTP routes: /api/items, /api/sources, /api/analyze,
 * and the table of every route (/healthz and /metrics are ws/metrics.c's).
 *
 * An answer that needs Redis is sent asynchronously: LWS_CALLBACK_HTTP
 * starts the query and returns; the reply fills the request's body, which
 * is written at once (send_answer()). JSON is produced with jansson, or by
 * joining item JSON exactly as stored (it was produced by jansson when the
 * item was tagged).
 *
 * A connection reads no further request while one is unanswered, so
 * pipelined requests are answered in order: lws 4.1.6 would parse the
 * next one at once, rebind the protocol and free the session data, this
 * request's included. Holding reading off (rx flow control) also holds off
 * writeable callbacks of an HTTP/1 connection in lws 4.1.6, so the answer
 * is written in one go when it is ready, not a chunk per writeable
 * callback: lws keeps what the socket does not take and sends it on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "core/date.h"
#include "core/hash.h"
#include "core/item.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/store.h"
#include "ws/ws_internal.h"

#define CHUNK 16384

static void send_answer(struct api_req *r);

static struct serve *serve_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

/* The requests connections hold, found by their wsi. lws 4.1.6 calls
 * LWS_CALLBACK_HTTP of a keep-alive connection's next request before it
 * binds the protocol, and binding zeroes the session data: a request kept
 * only in the session data was lost there (and leaked with every request
 * answered at once, a 404 say). pss->req is the quick way, checked. */
static void live_add(struct api_req *r)
{
    r->live_next = r->s->live;
    if (r->live_next)
        r->live_next->live_pprev = &r->live_next;
    r->live_pprev = &r->s->live;
    r->s->live = r;
}

static void live_del(struct api_req *r)
{
    if (!r->live_pprev)
        return;
    *r->live_pprev = r->live_next;
    if (r->live_next)
        r->live_next->live_pprev = r->live_pprev;
    r->live_next = NULL;
    r->live_pprev = NULL;
}

static struct api_req *req_of(struct serve *s, struct http_pss *pss, struct lws *wsi)
{
    if (pss && pss->req && pss->req->wsi == wsi && pss->req->live_pprev)
        return pss->req;
    for (struct api_req *r = s->live; r; r = r->live_next)
        if (r->wsi == wsi)
            return r;
    return NULL;
}

void req_free(struct api_req *r)
{
    live_del(r);
    buf_free(&r->body);
    buf_free(&r->req_body);
    free(r);
}

void respond(struct api_req *r, int status, const char *ctype)
{
    r->status = status;
    r->ctype = ctype;
    if (status >= 400)
        r->s->http_errors++;
    if (r->wsi)
        send_answer(r);         /* r may be freed by then */
}

void respond_json(struct api_req *r, int status, json_t *j)
{
    char *txt = j ? json_dumps(j, CTX_JSON_FLAGS) : NULL;
    json_decref(j);
    buf_reset(&r->body);
    if (!txt || buf_puts(&r->body, txt) || buf_putc(&r->body, '\n')) {   /* over the cap */
        free(txt);
        buf_reset(&r->body);
        buf_puts(&r->body, "{\"error\":\"out of memory\"}\n");
        respond(r, 500, "application/json");
        return;
    }
    free(txt);
    respond(r, status, "application/json");
}

void respond_error(struct api_req *r, int status, const char *code, const char *msg)
{
    respond_json(r, status, json_pack("{s:s,s:s}", "error", code, "message", msg));
}

bool api_reply_usable(struct api_req *r, const redisReply *rep, int want_type)
{
    r->waiting = false;
    if (!r->wsi) {                   /* the client went away meanwhile */
        req_free(r);
        return false;
    }
    if (!rep || rep->type != want_type) {
        respond_error(r, 503, "redis", rep && rep->type == REDIS_REPLY_ERROR ? rep->str
                                                                            : "redis is away");
        return false;
    }
    return true;
}

static void on_items(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct api_req *r = priv;
    if (!api_reply_usable(r, rep, REDIS_REPLY_ARRAY))
        return;
    if (rep->elements < 1) {
        respond_error(r, 503, "redis", "redis is away");
        return;
    }
    struct buf *b = &r->body;
    buf_reset(b);
    buf_puts(b, "{\"items\":[");
    for (size_t i = 1; i < rep->elements; i++) {
        if (i > 1)
            buf_putc(b, ',');
        buf_append(b, rep->element[i]->str, rep->element[i]->len);
    }
    json_t *last = json_string(rep->element[0]->str ? rep->element[0]->str : "0-0");
    char *lt = json_dumps(last, JSON_ENCODE_ANY);
    buf_printf(b, "],\"last_id\":%s}\n", lt ? lt : "\"0-0\"");
    free(lt);
    json_decref(last);
    respond(r, 200, "application/json");
}

/* Copy query argument `name` into out ("" when absent). Returns 0, 1 when
 * it is there but does not fit (lws_get_urlarg_by_name() would call it
 * absent, and stop looking at the arguments after it)). */
int query_arg(struct lws *wsi, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    out[0] = '\0';
    for (int n = 0;; n++) {
        int len = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, n);
        char *frag = ctx_malloc((size_t)(len > 0 ? len : 0) + 1);
        if (lws_hdr_copy_fragment(wsi, frag, len + 1, WSI_TOKEN_HTTP_URI_ARGS, n) < 0) {
            free(frag);
            return 0;                   /* no fragment n: not given */
        }
        if (strncmp(frag, name, nl) == 0 && frag[nl] == '=') {
            size_t vl = strlen(frag + nl + 1);
            if (vl >= outlen) {
                free(frag);
                return 1;
            }
            memcpy(out, frag + nl + 1, vl + 1);
            free(frag);
            return 0;
        }
        free(frag);
    }
}

/* A complaint reason as the cue files spell it: one word of a-z, 0-9, -
 * and _ (docs/rules.md, "Complaint cues"). */
static bool reason_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
            return false;
    return true;
}

/* GET /api/items: every filter given names an index sorted set
 * (store/KEYS.md); query.lua walks the smallest and checks the others on
 * each item. */
static void items(struct api_req *r, struct lws *wsi)
{
    char brand[128], topic[128], sentiment[32], limit_s[16], since[64], complaint[16],
        reason[65];
    const struct {
        const char *name;
        char *v;
        size_t size;
    } args[] = {
        {"brand", brand, sizeof brand},       {"topic", topic, sizeof topic},
        {"sentiment", sentiment, sizeof sentiment}, {"limit", limit_s, sizeof limit_s},
        {"since", since, sizeof since},       {"complaint", complaint, sizeof complaint},
        {"reason", reason, sizeof reason},
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(args); i++) {
        if (query_arg(wsi, args[i].name, args[i].v, args[i].size)) {
            char code[32], msg[96];
            snprintf(code, sizeof code, "bad_%s", args[i].name);
            snprintf(msg, sizeof msg, "%s is too long (at most %zu bytes)", args[i].name,
                     args[i].size - 1);
            respond_error(r, 400, code, msg);
            return;
        }
    }
    long limit = 50;
    if (limit_s[0]) {
        char *end;
        limit = strtol(limit_s, &end, 10);
        if (*end || limit < 1 || limit > 1000) {
            respond_error(r, 400, "bad_limit", "limit must be a number from 1 to 1000");
            return;
        }
    }
    enum sentiment_label lbl;
    if (sentiment[0] && sentiment_label_parse(sentiment, &lbl)) {
        respond_error(r, 400, "bad_sentiment", "sentiment must be positive, negative or neutral");
        return;
    }
    if (complaint[0] && strcmp(complaint, "true") != 0 && strcmp(complaint, "false") != 0) {
        respond_error(r, 400, "bad_complaint", "complaint must be true or false");
        return;
    }
    if (reason[0] && !reason_ok(reason)) {
        respond_error(r, 400, "bad_reason",
                      "reason must be a complaint reason: one word of a-z, 0-9, - and _");
        return;
    }
    char min[32] = "-inf";
    if (since[0]) {
        long long t;
        if (ctx_date_parse(since, &t)) {
            respond_error(r, 400, "bad_since", "since must be an RFC 3339 time");
            return;
        }
        snprintf(min, sizeof min, "%lld", t * 1000);
    }
    struct store_query sq = {.brand = brand, .topic = topic, .sentiment = sentiment,
                             .complaint = complaint, .reason = reason, .min = min,
                             .limit = limit};
    r->waiting = true;
    if (store_query(r->s->cmd, r->s->st, &sq, on_items, r)) {
        r->waiting = false;
        respond_error(r, 503, "redis", "redis is away");
    }
}

/* GET /api/sources: each configured source with its poll state from
 * Redis (ctx:source:<name>), one pipelined HGETALL per source. */
struct sources_q;
struct source_slot {
    struct sources_q *q;
    json_t *obj;                /* borrowed from q->arr */
};
struct sources_q {
    struct api_req *r;
    json_t *arr;
    size_t left;
    struct source_slot slots[];
};

static void sources_done(struct sources_q *q)
{
    struct api_req *r = q->r;
    r->waiting = false;
    if (!r->wsi)
        req_free(r);
    else if (!rconn_up(r->s->cmd))
        respond_error(r, 503, "redis", "redis is away");
    else
        respond_json(r, 200, json_pack("{s:O}", "sources", q->arr));
    json_decref(q->arr);
    free(q);
}

static void on_source_state(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct source_slot *slot = priv;
    json_t *state = json_object();
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2) {
        const char *k = rep->element[i]->str, *v = rep->element[i + 1]->str;
        if (!k || !v || strcmp(k, "etag") == 0 || strcmp(k, "last_modified") == 0 ||
            strcmp(k, "cursor") == 0)
            continue;           /* protocol details, not state a person reads */
        char *end;
        long long n = strtoll(v, &end, 10);
        json_object_set_new(state, k, *v && !*end ? json_integer(n) : json_string(v));
    }
    json_object_set_new(slot->obj, "state", state);
    if (--slot->q->left == 0)
        sources_done(slot->q);
}

static void sources(struct api_req *r)
{
    const struct config *cfg = r->s->cfg;
    struct sources_q *q = ctx_calloc(1, sizeof *q + cfg->nsources * sizeof q->slots[0]);
    q->r = r;
    q->arr = json_array();
    q->left = 1;                /* held while sending */
    r->waiting = true;
    for (size_t i = 0; i < cfg->nsources; i++) {
        const struct config_source *src = &cfg->sources[i];
        json_t *o = json_pack("{s:s,s:s,s:s?,s:f}", "name", src->name, "kind", src->kind,
                              "url", src->url, "every", src->every);
        json_array_append_new(q->arr, o);
        q->slots[i] = (struct source_slot){q, o};
        q->left++;
        if (store_read(r->s->cmd, r->s->st, STORE_SOURCE, src->name, on_source_state, &q->slots[i]))
            q->left--;          /* Redis away: answered 503 below */
    }
    if (--q->left == 0)
        sources_done(q);
}

/* ---- routes and who may use them ----
 * With "auth": true in the config, a request names its token in
 * `Authorization: Bearer <token>`; each route says which roles it takes.
 * Without auth every route is open (a development set-up). */

enum need { OPEN, ANY_ROLE, AGENT_ROLE, SUPERVISOR_ROLE };

struct route {
    const char *method, *path;
    bool prefix;                /* path is a prefix (the rest is an argument) */
    enum need need;
    void (*handle)(struct api_req *r, const char *arg);
};

static void h_health(struct api_req *r, const char *a) { (void)a; health_get(r); }
static void h_metrics(struct api_req *r, const char *a) { (void)a; metrics_get(r); }
static void h_items(struct api_req *r, const char *a) { (void)a; items(r, r->wsi); }
static void h_sources(struct api_req *r, const char *a) { (void)a; sources(r); }
static void h_queues(struct api_req *r, const char *a) { (void)a; queues_get(r); }
static void h_agents(struct api_req *r, const char *a) { (void)a; agents_get(r); }
static void h_reply_get(struct api_req *r, const char *a) { replies_get(r, a); }
static void h_reply_post(struct api_req *r, const char *a) { (void)a; replies_post(r); }
static void h_callback(struct api_req *r, const char *a) { (void)a; callbacks_post(r); }
static void h_trends(struct api_req *r, const char *a) { (void)a; trends_get(r); }
static void h_trends_top(struct api_req *r, const char *a) { (void)a; trends_top_get(r); }
static void h_alerts(struct api_req *r, const char *a) { (void)a; alerts_get(r); }

/* POST /api/analyze {"text": "...", "title": "...", "lang": "..."} -> the tags object:
 * the analyzer the daemon tags with, on any text, at once (no Redis). */
/* POST /api/analyze: tagging compiles nothing but runs every rule over the
 * text (tens of microseconds, more for a long text), so it runs on libuv's
 * thread pool, not on the loop that serves every other connection. The job
 * holds a reference to the analyzer (a rules reload meanwhile frees the old
 * one only after the job is done) and the request waits like one waiting
 * for Redis: a client gone meanwhile frees it when the job comes back. */
struct analyze_job {
    uv_work_t w;
    struct api_req *r;
    analyzer *an;
    struct item it;
    struct tags tags;
    ctx_err e;
};

static void analyze_work(uv_work_t *w)
{
    struct analyze_job *j = w->data;
    j->e = analyzer_tag(j->an, &j->it, &j->tags);
}

static void analyze_done(uv_work_t *w, int status)
{
    struct analyze_job *j = w->data;
    struct api_req *r = j->r;
    r->waiting = false;
    if (!r->wsi) {
        req_free(r);
    } else if (status != 0 || j->e) {
        respond_error(r, 500, "analyzer", status ? uv_strerror(status) : ctx_strerror(j->e));
    } else {
        json_t *t = tags_to_json(&j->tags);
        json_object_set_new(t, "lang", j->tags.lang ? json_string(j->tags.lang) : json_null());
        respond_json(r, 200, t);
    }
    analyzer_free(j->an);
    item_clear(&j->it);
    tags_clear(&j->tags);
    free(j);
}

static void h_analyze(struct api_req *r, const char *a)
{
    (void)a;
    json_error_t je;
    json_t *j = json_loadb(buf_str(&r->req_body), buf_len(&r->req_body), 0, &je);
    const char *text = json_string_value(json_object_get(j, "text"));
    if (!j) {
        respond_error(r, 400, "bad_json", je.text);
    } else if (!text) {
        respond_error(r, 400, "bad_text", "\"text\" is required");
    } else if (!r->s->an || !*r->s->an) {
        respond_error(r, 503, "no_analyzer", "this ctxd does not analyze");
    } else {
        struct analyze_job *job = ctx_calloc(1, sizeof *job);
        job->w.data = job;
        job->r = r;
        item_init(&job->it);
        item_set(&job->it.text, text);
        item_set(&job->it.title, json_string_value(json_object_get(j, "title")));
        item_set(&job->it.lang, json_string_value(json_object_get(j, "lang")));
        job->an = analyzer_ref(*r->s->an);
        r->waiting = true;
        int rc = uv_queue_work(r->s->loop, &job->w, analyze_work, analyze_done);
        if (rc) {
            r->waiting = false;
            analyzer_free(job->an);
            item_clear(&job->it);
            free(job);
            respond_error(r, 503, "busy", uv_strerror(rc));
        }
    }
    json_decref(j);
}

static const struct route routes[] = {
    {"GET", "/healthz", false, OPEN, h_health},
    {"GET", "/metrics", false, OPEN, h_metrics},
    {"GET", "/api/items", false, ANY_ROLE, h_items},
    {"GET", "/api/sources", false, ANY_ROLE, h_sources},
    {"GET", "/api/trends", false, ANY_ROLE, h_trends},
    {"GET", "/api/trends/top", false, ANY_ROLE, h_trends_top},
    {"GET", "/api/alerts", false, ANY_ROLE, h_alerts},
    {"GET", "/api/queues", false, SUPERVISOR_ROLE, h_queues},
    {"GET", "/api/agents", false, SUPERVISOR_ROLE, h_agents},
    {"GET", "/api/replies/", true, ANY_ROLE, h_reply_get},
    {"POST", "/api/replies", false, AGENT_ROLE, h_reply_post},
    {"POST", "/api/callbacks", false, OPEN, h_callback},   /* customers ask for calls */
    {"POST", "/api/analyze", false, ANY_ROLE, h_analyze},
};

struct authq {
    struct api_req *r;
    const struct route *rt;
    char arg[256];
};

static bool role_ok(enum need need, const char *role)
{
    if (need == ANY_ROLE)
        return true;
    if (need == SUPERVISOR_ROLE)
        return strcmp(role, "supervisor") == 0;
    return strcmp(role, "agent") == 0 || strcmp(role, "supervisor") == 0;
}

static void on_token_role(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct authq *a = priv;
    struct api_req *r = a->r;
    r->waiting = false;
    if (!r->wsi)
        req_free(r);
    else if (!rep)
        respond_error(r, 503, "redis", "redis is away");
    else if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 2 || !rep->element[1]->str)
        respond_error(r, 401, "auth", "unknown token");
    else if (!role_ok(a->rt->need, rep->element[1]->str))
        respond_error(r, 403, "forbidden", "this token's role may not do that");
    else
        a->rt->handle(r, a->arg);
    free(a);
}

static void dispatch(struct api_req *r, const char *method, const char *uri)
{
    for (size_t i = 0; i < CTX_ARRAY_LEN(routes); i++) {
        const struct route *rt = &routes[i];
        size_t n = strlen(rt->path);
        if (strcmp(method, rt->method) != 0 ||
            (rt->prefix ? strncmp(uri, rt->path, n) != 0 || !uri[n] : strcmp(uri, rt->path)))
            continue;
        const char *arg = rt->prefix ? uri + n : "";
        if (!r->s->cfg->auth || rt->need == OPEN) {
            rt->handle(r, arg);
            return;
        }
        char hdr[512];
        if (lws_hdr_copy(r->wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_AUTHORIZATION) <= 0 ||
            strncasecmp(hdr, "Bearer ", 7) != 0 || !hdr[7]) {
            respond_error(r, 401, "auth", "send Authorization: Bearer <token>");
            return;
        }
        struct authq *a = ctx_calloc(1, sizeof *a);
        a->r = r;
        a->rt = rt;
        snprintf(a->arg, sizeof a->arg, "%s", arg);
        r->waiting = true;
        if (store_token_role(r->s->cmd, r->s->st, hdr + 7, on_token_role, a)) {
            r->waiting = false;
            free(a);
            respond_error(r, 503, "redis", "redis is away");
        }
        return;
    }
    respond_error(r, 404, "not_found", "no such route");
}

static void route_post(struct api_req *r)
{
    if (r->req_too_big)
        respond_error(r, 413, "too_large", "request bodies are limited to 64 KiB");
    else
        dispatch(r, "POST", r->uri);
}

static void route(struct api_req *r, struct lws *wsi)
{
    char uri[512];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0) {
        r->post = true;          /* answered once the body is complete */
        lws_hdr_copy(wsi, r->uri, sizeof r->uri, WSI_TOKEN_POST_URI);
        buf_set_max(&r->req_body, 64 * 1024);
        /* chunked (serve_http_admit() let no other coding through): lws
         * 4.1.6 hands over the framing and waits for 100 MB, so the body
         * is decoded here and the connection cannot be reused after it */
        r->chunked = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
        r->close = r->chunked;
        return;
    }
    lws_rx_flow_control(wsi, 0);    /* a pipelined request waits for the answer */
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0) {
        respond_error(r, 405, "method", "GET and POST are served here");
        return;
    }
    dispatch(r, "GET", uri);
}

/* Headers, then the body; 0 ok. */
static int write_answer(struct api_req *r, struct lws *wsi)
{
    unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *p = start,
                  *end = hdr + sizeof hdr - 1;
    if (lws_add_http_common_headers(wsi, (unsigned)r->status, r->ctype,
                                    (lws_filepos_t)buf_len(&r->body), &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                     (const unsigned char *)"no-store", 8, &p, end) ||
        (r->close && lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                                  (const unsigned char *)"close", 5, &p, end)) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    size_t len = buf_len(&r->body);
    for (size_t sent = 0; sent < len;) {
        unsigned char chunk[LWS_PRE + CHUNK];
        size_t left = len - sent, n = left > CHUNK ? CHUNK : left;
        memcpy(chunk + LWS_PRE, buf_str(&r->body) + sent, n);
        sent += n;
        if (lws_write(wsi, chunk + LWS_PRE, n,
                      sent == len ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
            return -1;
    }
    return 0;
}

/* Write the answer and end the transaction; the connection reads again.
 * lws_http_transaction_completed() rebinds the protocol, which frees the
 * session data and r (LWS_CALLBACK_HTTP_DROP_PROTOCOL); until then r stays
 * with the session. A connection to close is closed at its next
 * writeable callback, once lws has sent what it keeps. */
static void send_answer(struct api_req *r)
{
    struct lws *wsi = r->wsi;
    bool close = r->close;
    r->answered = true;
    lws_rx_flow_control(wsi, 1);
    int rc = write_answer(r, wsi);
    if (!rc && !close)
        rc = lws_http_transaction_completed(wsi);   /* r may be freed now */
    if (rc || close) {
        struct http_pss *pss = lws_wsi_user(wsi);
        if (pss)
            pss->close = true;
        lws_callback_on_writable(wsi);
    }
}

/* The connection is done with its request (closed, or lws rebinds the
 * protocol and frees the session data). */
static void release(struct serve *s, struct http_pss *pss, struct lws *wsi)
{
    struct api_req *r = req_of(s, pss, wsi);
    if (pss)
        pss->req = NULL;
    if (!r)
        return;
    live_del(r);
    if (r->waiting)
        r->wsi = NULL;          /* freed when Redis (or the worker) answers */
    else
        req_free(r);
}

/* The whole body is in: answer it, and read no further request until then. */
static void body_done(struct api_req *r, struct lws *wsi)
{
    r->body_done = true;
    lws_rx_flow_control(wsi, 0);
    route_post(r);
}

/* lws 4.1.6 hands a request with a body that was pipelined behind
 * another (so parsed from lws' own buffer) the request's first bytes, its
 * request line, as the body, and loops for ever in lws_http_action() once
 * that "body" is taken. No body of this API starts so (they are JSON, or
 * chunk sizes): such a request is refused and the connection closed. */
static bool misread_body(const char *in, size_t len)
{
    while (len && (*in == '\r' || *in == '\n')) {
        in++;
        len--;
    }
    return len >= 5 && memcmp(in, "POST ", 5) == 0;
}

/* A chunked body's bytes, framing and all. */
static void chunked_body(struct api_req *r, struct lws *wsi, const char *in, size_t len)
{
    size_t used;
    switch (chunked_feed(&r->ch, in, len, &r->req_body, &used)) {
    case CHUNKED_MORE:
        return;
    case CHUNKED_TOO_BIG:
        r->req_too_big = true;
        /* fall through */
    case CHUNKED_DONE:
        body_done(r, wsi);
        return;
    default:
        r->body_done = true;
        lws_rx_flow_control(wsi, 0);
        respond_error(r, 400, "bad_chunked", "the chunked body is malformed");
    }
}

int api_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len)
{
    struct http_pss *pss = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_HTTP_CONNECTION: {
        /* a request before the last is answered: lws 4.1.6 went on reading
         * while that answer drained; close once it is out */
        struct api_req *prev = req_of(serve_of(wsi), pss, wsi);
        if (prev && !prev->answered)
            return 1;
        }
        return serve_http_admit(wsi);
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return in && strcasecmp(in, "websocket") == 0 ? serve_ws_admit(serve_of(wsi), wsi) : 0;
    case LWS_CALLBACK_HTTP: {
        struct serve *s = serve_of(wsi);
        release(s, pss, wsi);    /* keep-alive: a new transaction on the same wsi */
        struct api_req *r = ctx_calloc(1, sizeof *r);
        r->s = s;
        r->wsi = wsi;
        live_add(r);
        buf_set_max(&r->body, 64 * 1024 * 1024);
        pss->req = r;
        s->http_requests++;
        route(r, wsi);           /* r may be answered and freed by then */
        return 0;
    }
    case LWS_CALLBACK_HTTP_BODY: {
        struct api_req *r = req_of(serve_of(wsi), pss, wsi);
        if (!r || !r->post || r->body_done)
            return 0;
        bool first = !r->body_started;
        r->body_started = true;
        if (first && misread_body(in, len)) {
            r->body_done = r->close = true;
            respond_error(r, 501, "pipelined",
                          "a request with a body right behind another on one connection is "
                          "not taken: send it once the answer before it is in");
            return -1;
        }
        if (r->chunked)
            chunked_body(r, wsi, in, len);
        else if (!r->req_too_big && buf_append(&r->req_body, in, len))
            r->req_too_big = true;
        return 0;
    }
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
        struct api_req *r = req_of(serve_of(wsi), pss, wsi);
        if (r && r->post && !r->body_done)
            body_done(r, wsi);
        return 0;
    }
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return pss && pss->close ? -1 : 0;
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        release(serve_of(wsi), pss, wsi);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}
