/* ws_internal.h -- what the files of ws/ share. */
#ifndef CTX_WS_INTERNAL_H
#define CTX_WS_INTERNAL_H

#include <stdbool.h>
#include <jansson.h>
#include <libwebsockets.h>
#include "core/buf.h"
#include "core/redis.h"
#include "ws/ws.h"

struct monitor;

struct serve {
    uv_loop_t *loop;
    const struct config *cfg;
    struct store *st;
    struct lws_context *lws;
    struct rconn *cmd;          /* API queries, monitor catch-up */
    analyzer *const *an;        /* POST /api/analyze */
    struct monitor *mon;
    struct agents *agents;
    struct chats *chats;
    unsigned long long http_requests, http_errors;
    struct api_req *live;       /* requests a connection holds (api.c) */
};

bool serve_origin_ok(const struct serve *s, struct lws *wsi);
/* Admission (server.c), for the "http" protocol's callback: 0 = go on,
 * 1 = refused and answered, -1 = hang up. */
int serve_http_admit(struct lws *wsi);                  /* FILTER_HTTP_CONNECTION */
int serve_ws_admit(struct serve *s, struct lws *wsi);   /* HTTP_CONFIRM_UPGRADE */

/* --- chunked.c: a chunked request body, decoded as it comes --- */
struct chunked {
    int state;                  /* starts zeroed */
    unsigned long long left;    /* the chunk's size, then its bytes still to come */
    unsigned digits;
    size_t trailer;
};
enum { CHUNKED_MORE = 0, CHUNKED_DONE = 1, CHUNKED_BAD = -1, CHUNKED_TOO_BIG = -2 };
/* Decode in[0..len) into out (bounded by its cap: buf_set_max()); *used =
 * the bytes taken (on DONE, up to the end of the body: the rest is not the body's). */
int chunked_feed(struct chunked *c, const char *in, size_t len, struct buf *out, size_t *used);

/* --- api.c: dynamic HTTP (/healthz, /metrics, /api/...) --- */

/* One HTTP request answered asynchronously. When the connection closes
 * before the answer, wsi is set to NULL and the request is freed once its
 * Redis reply arrives. */
struct api_req {
    struct serve *s;
    struct lws *wsi;
    struct api_req *live_next, **live_pprev;   /* in s->live while its connection holds it */
    bool waiting;               /* a Redis reply is outstanding */
    bool answered;              /* its answer is written */
    int status;
    const char *ctype;
    struct buf body;            /* the answer */
    bool post;                  /* a POST: answered once its body is complete */
    bool req_too_big;
    bool chunked;               /* the body comes chunked (decoded by ch) */
    bool body_started;
    bool body_done;             /* the whole body is in: what follows is not its */
    bool close;                 /* close the connection after the answer */
    char uri[256];
    struct buf req_body;        /* a POST's body, capped */
    struct chunked ch;
};

/* Answer helpers (api.c); the answer is written at once, and r may be freed
 * by the time they return: the caller touches r no more. */
void respond(struct api_req *r, int status, const char *ctype);   /* r->body as it is */
void respond_json(struct api_req *r, int status, json_t *j);   /* steals j */
void respond_error(struct api_req *r, int status, const char *code, const char *msg);
void req_free(struct api_req *r);
/* The prologue of a Redis reply callback: marks r answered-to, frees r if
 * its client left, answers 503 (Redis' error text, or "redis is away") if
 * rep is missing or not of want_type. True only when the caller goes on
 * with r and rep; on false r is gone or answered. */
bool api_reply_usable(struct api_req *r, const redisReply *rep, int want_type);

/* --- queues.c: GET /api/queues, GET /api/agents, POST /api/callbacks --- */
void queues_get(struct api_req *r);
void agents_get(struct api_req *r);
void callbacks_post(struct api_req *r);
/* Read every queue's figures (queues_json()), then done(r, queues) answers
 * r (queues is borrowed). A Redis error is answered 503 here and a request
 * whose client left is freed; done is not called then. Not CTX_OK: nothing
 * was asked, done is never called. */
typedef void (*queues_done_cb)(struct api_req *r, json_t *queues);
ctx_err queues_query(struct api_req *r, queues_done_cb done);
json_t *queues_json(const struct config *cfg, const redisReply *rep);
json_t *agents_json(const redisReply *rep);
/* A callback request checked (queues.c): the phone in E.164, the queue
 * (the one named, callback_queue, or the first taking callbacks), when it
 * may ring (not_before, RFC 3339, moved into the queue's calling hours; ms,
 * 0: now), a new task id and the task's fields (extra: json_decref it).
 * CTX_EINVAL with code ("bad_phone", "bad_name", "bad_queue",
 * "bad_not_before") and a message for the person who asked. */
struct callback_req {
    const char *code;
    char message[256];
    char e164[20];
    const char *queue;
    long long not_before;
    char id[128];
    json_t *extra;
};
ctx_err callback_request(const struct config *cfg, const char *phone, const char *name,
                         const char *queue, const char *not_before, const char *parent,
                         long long now, struct callback_req *out);
/* The call figures of ctx:{r}:calls:stats: {placed, answered, talk_s, failed{}}. */
json_t *calls_json(const redisReply *rep);
ctx_err queue_stats_eval(struct serve *s, rconn_reply_cb cb, void *priv);

/* Copy query argument `name` (URL-decoded by lws) into out ("" when
 * absent): 0, or 1 when it does not fit (api.c). */
int query_arg(struct lws *wsi, const char *name, char *out, size_t outlen);

/* --- trends.c: GET /api/trends, GET /api/trends/top --- */
void trends_get(struct api_req *r);
void trends_top_get(struct api_req *r);
/* The pure parts, for the tests. */
struct tz;
/* RFC 3339 (or what ctx_date_parse() reads) or whole epoch seconds: 0 ok. */
int trends_parse_time(const char *s, long long *out);
/* "all" or "<dim>:<value>", dim one of brand topic reason network source
 * lang, value 1..190 bytes without control characters or commas. */
bool trends_series_ok(const char *s);
enum trends_bucket { TRENDS_MINUTE, TRENDS_HOUR, TRENDS_DAY };
int trends_bucket_parse(const char *s, enum trends_bucket *out);   /* 0 ok */
/* The buckets of [from, to) (s): their starts, aligned to the bucket in
 * zone tz (NULL: UTC): minutes and hours on UTC minutes and hours, days on
 * local midnights. The counters read are `level`'s (days in a zone other
 * than UTC are composed of hours). */
struct trends_plan {
    enum trends_bucket bucket;
    int level;                  /* enum store_trend_level */
    long long *start;           /* n + 1 instants (s): bucket i is [start[i], start[i+1]) */
    size_t n;
};
/* CTX_ETOOBIG when there would be more than max buckets, CTX_EINVAL when
 * from >= to. */
ctx_err trends_plan_make(struct trends_plan *p, enum trends_bucket b, const struct tz *tz,
                         long long from, long long to, size_t max);
void trends_plan_free(struct trends_plan *p);
/* The bucket holding instant t (s), or -1. */
long trends_plan_index(const struct trends_plan *p, long long t);
/* One CSV cell (RFC 4180: quoted when it holds a comma, quote, CR or LF). */
void trends_csv_cell(struct buf *b, const char *s);
/* --- alerts.c: GET /api/alerts; the alert of an alerts stream entry --- */
void alerts_get(struct api_req *r);
json_t *alert_json(const char *id, const redisReply *fields);   /* NULL: not an alert */

/* --- metrics.c: GET /healthz, GET /metrics --- */
void health_get(struct api_req *r);
void metrics_get(struct api_req *r);

/* --- replies.c: POST /api/replies, GET /api/replies/<id> --- */
void replies_post(struct api_req *r);
void replies_get(struct api_req *r, const char *id);

/* Per-session data of the "http" protocol. */
struct http_pss {
    struct api_req *req;
    bool close;                 /* close at the next writeable callback */
};

int api_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len);

/* --- outq.c: a websocket session's outgoing frames --- */
struct frame;
struct outq {
    struct frame *head, *tail;
    unsigned n, max;
    bool overflow;              /* too far behind: close on the next write */
    bool close_when_sent;       /* close once the queued frames are out (auth errors) */
    bool closing;               /* closing with a close frame: nothing more is sent */
};
void outq_text(struct outq *q, struct lws *wsi, const char *text, size_t len);
/* A text to queue on many sessions: made once (one reference, the caller's),
 * queued with outq_shared() (each queued frame holds a reference), dropped
 * with outq_text_unref(). */
struct outq_text_buf;
struct outq_text_buf *outq_text_new(const char *text, size_t len);
void outq_shared(struct outq *q, struct lws *wsi, struct outq_text_buf *b);
void outq_text_unref(struct outq_text_buf *b);
void outq_json(struct outq *q, struct lws *wsi, json_t *j);     /* steals j */
void outq_error(struct outq *q, struct lws *wsi, const char *code, const char *msg);
int outq_write(struct outq *q, struct lws *wsi);   /* at SERVER_WRITEABLE; -1 = close */
/* At LWS_CALLBACK_TIMER: -1 when the session is to close (lws then sends
 * the close frame outq_write() set up), else 0. */
int outq_close_due(const struct outq *q);
void outq_clear(struct outq *q);
/* Collect a message's fragments in rx (capped: buf_set_max()): 0 = more to
 * come, 1 = complete, -1 = complete but too large (then reset rx, *too_big). */
int rx_take(struct buf *rx, bool *too_big, struct lws *wsi, const void *in, size_t len);

/* A weak reference to a session, for async steps (Redis replies) that may
 * outlive it: the session holds one reference and clears p when it closes;
 * each step takes one and drops it when done. */
struct wref {
    void *p;
    unsigned refs;
};
struct wref *wref_new(void *p);                 /* refs = 1: the session's; never NULL */
struct wref *wref_take(struct wref *w);
void *wref_drop(struct wref *w);                /* p (NULL once closed); frees at 0 */
void wref_close(struct wref *w);                /* the session closes: p = NULL, drop */

/* --- agent.c: /ws/agent, ctx.agent.v1; chat.c: /ws/chat, ctx.chat.v1 --- */
struct agents;
ctx_err agents_new(struct serve *s, struct agents **out);
void agents_free(struct agents *a);
unsigned agents_connected(const struct agents *a);
int agent_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len);
size_t agent_pss_size(void);
struct chats;
ctx_err chats_new(struct serve *s, struct chats **out);
void chats_free(struct chats *c);
int chat_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len);
size_t chat_pss_size(void);

/* --- monitor.c: /ws/monitor, ctx.monitor.v1 --- */
ctx_err monitor_new(struct serve *s, struct monitor **out);
void monitor_free(struct monitor *m);
unsigned monitor_clients(const struct monitor *m);
int monitor_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len);
size_t monitor_pss_size(void);

/* Stream ids "ms-seq": parse (0 ok, -1 bad) and compare. */
struct sid { unsigned long long ms, seq; };
int sid_parse(const char *s, struct sid *out);
int sid_cmp(struct sid a, struct sid b);

#endif
