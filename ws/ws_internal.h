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
    struct monitor *mon;
    unsigned long long http_requests, http_errors;
};

/* --- api.c: dynamic HTTP (/healthz, /metrics, /api/...) --- */

/* One HTTP request answered asynchronously. When the connection closes
 * before the answer, wsi is set to NULL and the request is freed once its
 * Redis reply arrives. */
struct api_req {
    struct serve *s;
    struct lws *wsi;
    bool waiting;               /* a Redis reply is outstanding */
    int status;
    const char *ctype;
    struct buf body;            /* the answer */
    size_t sent;
    bool headers_sent;
    bool post;                  /* a POST: answered once its body is complete */
    bool req_too_big;
    char uri[256];
    struct buf req_body;        /* a POST's body, capped */
};

/* Answer helpers (api.c); the answer is sent when the wsi is writeable. */
void respond_json(struct api_req *r, int status, json_t *j);   /* steals j */
void respond_error(struct api_req *r, int status, const char *code, const char *msg);
void req_free(struct api_req *r);

/* --- replies.c: POST /api/replies, GET /api/replies/<id> --- */
void replies_post(struct api_req *r);
void replies_get(struct api_req *r, const char *id);

/* Per-session data of the "http" protocol. */
struct http_pss {
    struct api_req *req;
};

int api_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len);

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
