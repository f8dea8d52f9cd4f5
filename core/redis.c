/* redis.c -- a reconnecting hiredis async connection on libuv; see redis.h.
 *
 * States: connecting -> up -> (lost) -> waiting for the backoff timer ->
 * connecting ... Each command carries a small heap record so its callback
 * can find the rconn after hiredis calls back, and so the watchdog can count
 * unanswered commands. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <async.h>
#include "core/mem.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/redis.h"

/* ---- hiredis on libuv ----
 * Our own adapter rather than hiredis 0.14's adapters/libuv.h, which drops
 * poll errors (status < 0) on the floor: a connect refused while Redis is
 * down then never completes and the connection is stuck "connecting"
 * forever. Here an error is handed to hiredis as readiness, so it reads
 * the socket error and fails the connection, which we then retry. */
struct uvev {
    redisAsyncContext *ac;      /* NULL once hiredis has cleaned up */
    uv_poll_t poll;
    int events;
};

static void uvev_poll(uv_poll_t *h, int status, int events)
{
    struct uvev *p = h->data;
    if (status < 0)
        events = p->events;     /* let hiredis find the error itself */
    if (p->ac && (events & UV_WRITABLE))
        redisAsyncHandleWrite(p->ac);
    if (p->ac && (events & UV_READABLE))
        redisAsyncHandleRead(p->ac);
}

static void uvev_update(struct uvev *p, int add, int del)
{
    p->events = (p->events | add) & ~del;
    if (p->events)
        uv_poll_start(&p->poll, p->events, uvev_poll);
    else
        uv_poll_stop(&p->poll);
}

static void uvev_add_read(void *d) { uvev_update(d, UV_READABLE, 0); }
static void uvev_del_read(void *d) { uvev_update(d, 0, UV_READABLE); }
static void uvev_add_write(void *d) { uvev_update(d, UV_WRITABLE, 0); }
static void uvev_del_write(void *d) { uvev_update(d, 0, UV_WRITABLE); }

static void uvev_closed(uv_handle_t *h)
{
    free(h->data);
}

static void uvev_cleanup(void *d)
{
    struct uvev *p = d;
    p->ac = NULL;
    uv_close((uv_handle_t *)&p->poll, uvev_closed);
}

static int uvev_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    struct uvev *p = ctx_calloc(1, sizeof *p);
    if (uv_poll_init_socket(loop, &p->poll, ac->c.fd)) {
        free(p);
        return -1;
    }
    p->ac = ac;
    p->poll.data = p;
    ac->ev.data = p;
    ac->ev.addRead = uvev_add_read;
    ac->ev.delRead = uvev_del_read;
    ac->ev.addWrite = uvev_add_write;
    ac->ev.delWrite = uvev_del_write;
    ac->ev.cleanup = uvev_cleanup;
    return 0;
}

struct rconn {
    uv_loop_t *loop;
    char *host, *name;
    int port;
    double timeout;
    redisAsyncContext *ac;      /* NULL while down */
    bool up, closing;
    unsigned backoff_ms;
    uv_timer_t *retry;          /* reconnect backoff */
    uv_timer_t *watchdog;
    unsigned outstanding;
    uint64_t last_activity;     /* uv_now() of the last reply or send on an idle conn */
    rconn_state_cb state_cb;
    void *priv;
    struct rscript *scripts;
    size_t nscripts;
    bool logged_down;
};

struct pending {
    struct rconn *rc;
    rconn_reply_cb cb;
    void *priv;
};

static void connect_now(struct rconn *rc);

void rscript_init(struct rscript *s)
{
    ctx_sha1_hex(s->body, strlen(s->body), s->sha);
}

static void set_state(struct rconn *rc, bool up)
{
    if (rc->up == up)
        return;
    rc->up = up;
    if (rc->state_cb)
        rc->state_cb(rc, up, rc->priv);
}

static void retry_fire(uv_timer_t *t)
{
    connect_now(t->data);
}

static void schedule_retry(struct rconn *rc)
{
    if (rc->closing)
        return;
    rc->backoff_ms = rc->backoff_ms ? rc->backoff_ms * 2 : 100;
    if (rc->backoff_ms > 5000)
        rc->backoff_ms = 5000;
    uv_timer_start(rc->retry, retry_fire, rc->backoff_ms, 0);
}

static void on_load(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    redisReply *r = reply;
    struct rscript *s = privdata;
    if (r && r->type == REDIS_REPLY_ERROR)
        log_error("redis: loading script %s: %s", s->name, r->str);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct rconn *rc = ac->data;
    if (status != REDIS_OK) {
        if (!rc->logged_down)
            log_warn("redis %s: cannot connect to %s:%d: %s; retrying", rc->name, rc->host,
                     rc->port, ac->errstr);
        rc->logged_down = true;
        rc->ac = NULL;          /* hiredis frees it */
        set_state(rc, false);
        schedule_retry(rc);
        return;
    }
    log_info("redis %s: connected to %s:%d", rc->name, rc->host, rc->port);
    rc->logged_down = false;
    rc->backoff_ms = 0;
    rc->outstanding = 0;
    rc->last_activity = uv_now(rc->loop);
    for (size_t i = 0; i < rc->nscripts; i++)
        redisAsyncCommand(rc->ac, on_load, &rc->scripts[i], "SCRIPT LOAD %s",
                          rc->scripts[i].body);
    set_state(rc, true);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct rconn *rc = ac->data;
    rc->ac = NULL;
    if (!rc->closing)
        log_warn("redis %s: connection lost%s%s", rc->name, status == REDIS_OK ? "" : ": ",
                 status == REDIS_OK ? "" : ac->errstr);
    rc->logged_down = true;
    set_state(rc, false);
    schedule_retry(rc);
}

static void connect_now(struct rconn *rc)
{
    redisAsyncContext *ac = redisAsyncConnect(rc->host, rc->port);
    if (!ac || ac->err) {
        if (!rc->logged_down)
            log_warn("redis %s: cannot connect to %s:%d: %s", rc->name, rc->host, rc->port,
                     ac ? ac->errstr : "out of memory");
        rc->logged_down = true;
        if (ac)
            redisAsyncFree(ac);
        schedule_retry(rc);
        return;
    }
    ac->data = rc;
    if (uvev_attach(ac, rc->loop)) {
        redisAsyncFree(ac);
        schedule_retry(rc);
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    rc->ac = ac;
}

static void watchdog_fire(uv_timer_t *t)
{
    struct rconn *rc = t->data;
    if (!rc->ac || !rc->up || rc->outstanding == 0)
        return;
    if (uv_now(rc->loop) - rc->last_activity > (uint64_t)(rc->timeout * 1000)) {
        log_warn("redis %s: no answer for %.0f s, dropping the connection", rc->name,
                 rc->timeout);
        redisAsyncContext *ac = rc->ac;
        redisAsyncFree(ac);     /* pending callbacks get NULL; on_disconnect runs */
    }
}

ctx_err rconn_new(uv_loop_t *loop, const char *host, int port, const char *name,
                  double timeout, rconn_state_cb state_cb, void *priv, struct rconn **out)
{
    struct rconn *rc = ctx_calloc(1, sizeof *rc);
    rc->loop = loop;
    rc->host = ctx_strdup(host);
    rc->name = ctx_strdup(name);
    rc->port = port;
    rc->timeout = timeout > 0 ? timeout : 10;
    rc->state_cb = state_cb;
    rc->priv = priv;
    rc->retry = ctx_malloc(sizeof *rc->retry);
    rc->watchdog = ctx_malloc(sizeof *rc->watchdog);
    uv_timer_init(loop, rc->retry);
    uv_timer_init(loop, rc->watchdog);
    rc->retry->data = rc->watchdog->data = rc;
    uv_timer_start(rc->watchdog, watchdog_fire, 1000, 1000);
    *out = rc;
    connect_now(rc);
    return CTX_OK;
}

static void handle_free(uv_handle_t *h)
{
    free(h);
}

void rconn_free(struct rconn *rc)
{
    if (!rc)
        return;
    rc->closing = true;
    rc->state_cb = NULL;
    rc->up = false;             /* callbacks run below must not send more */
    if (rc->ac)
        redisAsyncFree(rc->ac);
    uv_close((uv_handle_t *)rc->retry, handle_free);
    uv_close((uv_handle_t *)rc->watchdog, handle_free);
    free(rc->host);
    free(rc->name);
    free(rc);
}

bool rconn_up(const struct rconn *rc)
{
    return rc->up && rc->ac;
}

const char *rconn_name(const struct rconn *rc)
{
    return rc->name;
}

void rconn_set_scripts(struct rconn *rc, struct rscript *scripts, size_t n)
{
    rc->scripts = scripts;
    rc->nscripts = n;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    struct pending *p = privdata;
    struct rconn *rc = p->rc;
    if (rc->outstanding)
        rc->outstanding--;
    rc->last_activity = uv_now(rc->loop);
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0 && rc->ac)
        for (size_t i = 0; i < rc->nscripts; i++)  /* SCRIPT FLUSH happened: reload */
            redisAsyncCommand(rc->ac, on_load, &rc->scripts[i], "SCRIPT LOAD %s",
                              rc->scripts[i].body);
    if (p->cb)
        p->cb(rc, r, p->priv);
    free(p);
}

static struct pending *pending_new(struct rconn *rc, rconn_reply_cb cb, void *priv)
{
    struct pending *p = ctx_malloc(sizeof *p);
    p->rc = rc;
    p->cb = cb;
    p->priv = priv;
    if (rc->outstanding++ == 0)
        rc->last_activity = uv_now(rc->loop);
    return p;
}

ctx_err rconn_cmd(struct rconn *rc, rconn_reply_cb cb, void *priv, const char *fmt, ...)
{
    if (!rconn_up(rc))
        return CTX_EREDIS;
    struct pending *p = pending_new(rc, cb, priv);
    va_list ap;
    va_start(ap, fmt);
    int rv = redisvAsyncCommand(rc->ac, on_reply, p, fmt, ap);
    va_end(ap);
    if (rv != REDIS_OK) {
        rc->outstanding--;
        free(p);
        return CTX_EREDIS;
    }
    return CTX_OK;
}

ctx_err rconn_cmdargv(struct rconn *rc, rconn_reply_cb cb, void *priv, int argc,
                      const char **argv, const size_t *argvlen)
{
    if (!rconn_up(rc))
        return CTX_EREDIS;
    struct pending *p = pending_new(rc, cb, priv);
    if (redisAsyncCommandArgv(rc->ac, on_reply, p, argc, argv, argvlen) != REDIS_OK) {
        rc->outstanding--;
        free(p);
        return CTX_EREDIS;
    }
    return CTX_OK;
}

ctx_err rconn_eval(struct rconn *rc, const struct rscript *s, rconn_reply_cb cb, void *priv,
                   int nkeys, int argc, const char **argv, const size_t *argvlen)
{
    /* a few arguments on the stack; an item with 200 tags takes the heap
     * (no limit: a script call that cannot be sent would stall its stream) */
    enum { STACK_ARGS = 64 };
    if (argc < 0 || nkeys < 0 || nkeys > argc)
        return CTX_EINVAL;
    const char *avs[STACK_ARGS], **av = avs;
    size_t als[STACK_ARGS], *al = als;
    if (argc + 3 > STACK_ARGS) {
        av = ctx_malloc((size_t)(argc + 3) * sizeof *av);
        al = ctx_malloc((size_t)(argc + 3) * sizeof *al);
    }
    char nk[16];
    snprintf(nk, sizeof nk, "%d", nkeys);
    av[0] = "EVALSHA";
    av[1] = s->sha;
    av[2] = nk;
    al[0] = 7;
    al[1] = 40;
    al[2] = strlen(nk);
    for (int i = 0; i < argc; i++) {
        av[3 + i] = argv[i];
        al[3 + i] = argvlen ? argvlen[i] : strlen(argv[i]);
    }
    ctx_err e = rconn_cmdargv(rc, cb, priv, argc + 3, av, al);
    if (av != avs) {
        free(av);
        free(al);
    }
    return e;
}
