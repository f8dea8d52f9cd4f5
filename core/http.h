/* http.h -- asynchronous HTTP client: libcurl multi driven by the uv loop.
 *
 * The loop glue (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION on uv_poll and
 * uv_timer, as in curl's multi-event example) lives here and nowhere else.
 * A request runs on the loop; its callback gets the whole response once,
 * then the response is freed when the callback returns. */
#ifndef CTX_HTTP_H
#define CTX_HTTP_H

#include <stddef.h>
#include <uv.h>
#include "core/buf.h"
#include "core/ctx.h"

struct http_req {
    const char *url;
    const char *method;              /* NULL = GET */
    const char *body;                /* request body, or NULL */
    size_t body_len;
    const char *const *headers;      /* NULL-terminated "Name: value" list, or NULL */
    double timeout;                  /* seconds for the whole transfer; 0 = 30 */
    long long max_bytes;             /* body cap; 0 = 5 MiB */
    const char *user_agent;
    int max_redirects;               /* 0 = 5 */
};

struct http_res {
    ctx_err err;                     /* CTX_OK when an HTTP answer arrived */
    char error[256];                 /* why not, in words */
    long status;
    struct buf body;                 /* capped (its max) at the request's max_bytes */
    char *etag;                      /* response headers of interest, or NULL */
    char *last_modified;
    char *content_type;
    char *content_location;
    char *retry_after;
    char *effective_url;
    double seconds;                  /* total transfer time */
};

typedef void (*http_cb)(void *priv, struct http_res *res);

struct http;
struct http_xfer;

struct http *http_new(uv_loop_t *loop);      /* never NULL: out of memory aborts */
/* Cancels every transfer without calling back; handles close on the loop. */
void http_free(struct http *h);

/* CTX_EHTTP when curl refuses the transfer; else the callback runs later. */
ctx_err http_fetch(struct http *h, const struct http_req *req, http_cb cb, void *priv,
                   struct http_xfer **out);
/* Abandon a transfer; its callback will not run. */
void http_cancel(struct http_xfer *x);

#endif
