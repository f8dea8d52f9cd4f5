/* http.c -- libcurl multi on libuv.
 *
 * curl tells us which sockets to watch (sock_cb) and when to wake it
 * (timer_cb); uv tells us when a socket is ready (poll_cb) or the timer
 * fires. After each action, finished transfers are collected from
 * curl_multi_info_read() and handed to their callbacks. Each socket gets a
 * heap-allocated uv_poll_t freed in its close callback, so curl may close
 * and reuse a descriptor number while the old handle is still closing. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "core/http.h"
#include "core/mem.h"

struct http {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t *timer;
    struct http_xfer *xfers;     /* doubly linked list of running transfers */
};

struct http_xfer {
    struct http *h;
    CURL *easy;
    struct curl_slist *headers;
    http_cb cb;
    void *priv;
    struct http_res res;
    long long max_bytes;
    struct http_xfer *prev, *next;
};

struct sock_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    struct http *h;
};

static void check_done(struct http *h);

static void poll_closed(uv_handle_t *handle)
{
    free(handle->data);
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
    struct sock_ctx *sc = p->data;
    int flags = 0, running;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    struct http *h = sc->h;
    curl_multi_socket_action(h->multi, sc->fd, flags, &running);
    check_done(h);
}

static int sock_cb(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp)
{
    (void)easy;
    struct http *h = userp;
    struct sock_ctx *sc = socketp;
    if (action == CURL_POLL_REMOVE) {
        if (sc) {
            uv_poll_stop(&sc->poll);
            uv_close((uv_handle_t *)&sc->poll, poll_closed);
            curl_multi_assign(h->multi, fd, NULL);
        }
        return 0;
    }
    if (!sc) {
        sc = ctx_calloc(1, sizeof *sc);
        sc->fd = fd;
        sc->h = h;
        if (uv_poll_init_socket(h->loop, &sc->poll, fd)) {
            free(sc);
            return -1;
        }
        sc->poll.data = sc;
        curl_multi_assign(h->multi, fd, sc);
    }
    int events = 0;
    if (action == CURL_POLL_IN || action == CURL_POLL_INOUT)
        events |= UV_READABLE;
    if (action == CURL_POLL_OUT || action == CURL_POLL_INOUT)
        events |= UV_WRITABLE;
    uv_poll_start(&sc->poll, events, poll_cb);
    return 0;
}

static void timer_fire(uv_timer_t *t)
{
    struct http *h = t->data;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct http *h = userp;
    if (timeout_ms < 0)
        uv_timer_stop(h->timer);
    else
        uv_timer_start(h->timer, timer_fire, (uint64_t)timeout_ms, 0);
    return 0;
}

static void xfer_unlink(struct http_xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        x->h->xfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
}

static void xfer_free(struct http_xfer *x)
{
    curl_multi_remove_handle(x->h->multi, x->easy);
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    buf_free(&x->res.body);
    free(x->res.etag);
    free(x->res.last_modified);
    free(x->res.content_type);
    free(x->res.content_location);
    free(x->res.retry_after);
    free(x->res.effective_url);
    free(x);
}

static void check_done(struct http *h)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct http_xfer *x;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        CURLcode rc = m->data.result;
        struct http_res *r = &x->res;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r->status);
        curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &r->seconds);
        char *eff = NULL;
        curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &eff);
        if (eff)
            r->effective_url = ctx_strdup(eff);
        if ((rc == CURLE_WRITE_ERROR && r->err == CTX_ETOOBIG) ||
            rc == CURLE_FILESIZE_EXCEEDED) {
            r->err = CTX_ETOOBIG;
            snprintf(r->error, sizeof r->error, "body over %lld bytes", x->max_bytes);
        } else if (rc != CURLE_OK) {
            r->err = CTX_EHTTP;
            r->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
            if (!r->error[0])
                snprintf(r->error, sizeof r->error, "%s", curl_easy_strerror(rc));
        }
        xfer_unlink(x);
        x->cb(x->priv, r);
        xfer_free(x);
    }
}

static size_t write_cb(char *data, size_t size, size_t n, void *userp)
{
    struct http_xfer *x = userp;
    size_t len = size * n;
    if ((x->res.err = buf_append(&x->res.body, data, len)))
        return 0;               /* CTX_ETOOBIG: over the body's cap */
    return len;
}

/* Keep the value of a header if its name matches; trims whitespace. */
static void grab(char **dst, const char *line, size_t len, const char *name)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    const char *v = line + nl + 1, *end = line + len;
    while (v < end && isspace((unsigned char)*v))
        v++;
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    free(*dst);
    *dst = ctx_strndup(v, (size_t)(end - v));
}

static size_t header_cb(char *line, size_t size, size_t n, void *userp)
{
    struct http_xfer *x = userp;
    size_t len = size * n;
    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* a new response (after a redirect or 100-continue): forget the old */
        char **all[] = {&x->res.etag, &x->res.last_modified, &x->res.content_type,
                        &x->res.content_location, &x->res.retry_after};
        for (size_t i = 0; i < CTX_ARRAY_LEN(all); i++) {
            free(*all[i]);
            *all[i] = NULL;
        }
        return len;
    }
    grab(&x->res.etag, line, len, "ETag");
    grab(&x->res.last_modified, line, len, "Last-Modified");
    grab(&x->res.content_type, line, len, "Content-Type");
    grab(&x->res.content_location, line, len, "Content-Location");
    grab(&x->res.retry_after, line, len, "Retry-After");
    return len;
}

struct http *http_new(uv_loop_t *loop)
{
    static int global_done;
    if (!global_done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        global_done = 1;
    }
    struct http *h = ctx_calloc(1, sizeof *h);
    h->loop = loop;
    if (!(h->multi = curl_multi_init()))
        ctx_oom(0);             /* libcurl's own allocation failed: as ours do */
    h->timer = ctx_malloc(sizeof *h->timer);
    uv_timer_init(loop, h->timer);
    h->timer->data = h;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h;
}

static void timer_closed(uv_handle_t *t)
{
    free(t);
}

void http_free(struct http *h)
{
    if (!h)
        return;
    while (h->xfers) {
        struct http_xfer *x = h->xfers;
        xfer_unlink(x);
        xfer_free(x);   /* removing the handle closes its sockets via sock_cb */
    }
    curl_multi_cleanup(h->multi);
    uv_close((uv_handle_t *)h->timer, timer_closed);
    free(h);
}

ctx_err http_fetch(struct http *h, const struct http_req *req, http_cb cb, void *priv,
                   struct http_xfer **out)
{
    struct http_xfer *x = ctx_calloc(1, sizeof *x);
    x->h = h;
    x->cb = cb;
    x->priv = priv;
    x->max_bytes = req->max_bytes > 0 ? req->max_bytes : 5LL * 1024 * 1024;
    buf_set_max(&x->res.body, (size_t)x->max_bytes);
    if (!(x->easy = curl_easy_init()))
        ctx_oom(0);
    for (const char *const *hd = req->headers; hd && *hd; hd++)
        if (!(x->headers = curl_slist_append(x->headers, *hd)))
            ctx_oom(0);
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)(req->max_redirects > 0 ? req->max_redirects : 5));
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)((req->timeout > 0 ? req->timeout : 30) * 1000));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_bytes);
    if (req->user_agent)
        curl_easy_setopt(e, CURLOPT_USERAGENT, req->user_agent);
    if (x->headers)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    if (req->method)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body);
    }
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        curl_slist_free_all(x->headers);
        curl_easy_cleanup(e);
        free(x);
        return CTX_EHTTP;
    }
    x->next = h->xfers;
    if (h->xfers)
        h->xfers->prev = x;
    h->xfers = x;
    if (out)
        *out = x;
    return CTX_OK;
}

void http_cancel(struct http_xfer *x)
{
    xfer_unlink(x);
    xfer_free(x);
}
