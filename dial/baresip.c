/* baresip.c -- the baresip dialer engine: ctrl_tcp on the uv loop.
 *
 * One TCP connection to baresip's ctrl_tcp (netstring-framed JSON, see
 * netstring.c and baresip_event.c). A leg is placed with
 * {"command":"dial","params":"<uri>;ctxleg=<token>"}; its events name the
 * URI, so the token finds the leg and learns baresip's call id, which a
 * hangup needs: "callfind <id>" makes it the current call, then "hangup"
 * ends it (ringing: CANCEL; talking: BYE). Commands on one connection run
 * in order, so nothing comes between the two.
 *
 * One command is in flight at a time: the next is written when baresip
 * has answered the last (every command is answered). baresip 1.0's
 * ctrl_tcp loses frames when several arrive in one read: 64 "callfind" +
 * "hangup" pairs written at once got 104 answers of 128 and closed 52
 * calls, the others stayed up; written one by one, all 64 closed. A command
 * left unanswered for 2 s is given up on, and the next goes.
 *
 * The connection is retried forever (250 ms doubling to 5 s) and never
 * blocks the loop. When it drops, every leg in progress is reported closed
 * with CAUSE_FAILED ("dialer engine went away"): the calls are lost with the
 * engine, their tasks are not (ctxd/dial.c).
 *
 * Audio. baresip holds both legs of a call; its aubridge module joins the
 * audio player and the audio source that have one device name. A call's
 * first leg plays what it hears into device "<token>.1" and sends what it
 * reads from "<token>.2"; the leg joined to it plays into ".2" and reads
 * ".1": the agent hears the customer and back. baresip 1.0 takes a call's
 * devices from its defaults when the call is made, and its commands
 * "auplay"/"ausrc" set the defaults but also switch every call of the
 * current account (user agent). So on connecting, ctxd reads the accounts
 * ("reginfo"), adds one of its own that never calls (AUDIO_AOR, "uanew"),
 * and reports the engine up only then; each leg is then placed with
 * "uafind AUDIO_AOR", "auplay", "ausrc" (only the defaults change: that
 * account has no calls), "uafind <the calling account>", "dial", written
 * in a row so nothing comes between. The engine's config needs
 * "ringback_disabled yes": the ringback tone is played on the default
 * player's device, which is a leg's bridge device, and when it stops the
 * device loses its pairing: the agent hears nothing (docs/voice.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "dial/dial.h"

#define MAX_FRAME (1 << 20)
#define TOKEN_LEN 96
#define AUDIO_AOR "sip:ctxd-audio@127.0.0.1"    /* ctxd's account that never calls */

struct leg {
    struct leg *next;
    char token[TOKEN_LEN];
    char call_id[64];
    bool hangup_pending;        /* asked before baresip named the call */
    bool closed;
};

struct cmd {
    struct cmd *next;
    size_t len;
    char data[];                /* the netstring */
};

struct dialer {
    uv_loop_t *loop;
    struct cmd *head, *tail;    /* commands not written yet */
    bool waiting;               /* one written, its answer not read yet */
    uv_timer_t *answer;         /* how long we wait for it */
    struct dialer_cb cb;
    char *host;
    int port;
    uv_tcp_t *tcp;              /* NULL while not connected */
    uv_connect_t conn_req;
    uv_timer_t *retry;
    unsigned backoff_ms;
    bool up, stopping, connecting;
    bool ready;                 /* accounts read: dials are taken (bs_up) */
    bool bridge;                /* AUDIO_AOR exists: legs are given their devices */
    char aor[256];              /* the account that calls */
    struct buf rx;
    struct leg *legs;
};

static void connect_now(struct dialer *d);

static struct leg *leg_find(struct dialer *d, const char *token)
{
    for (struct leg *l = d->legs; l; l = l->next)
        if (strcmp(l->token, token) == 0)
            return l;
    return NULL;
}

static void leg_drop(struct dialer *d, struct leg *l)
{
    for (struct leg **p = &d->legs; *p; p = &(*p)->next)
        if (*p == l) {
            *p = l->next;
            free(l);
            return;
        }
}

/* ---- writing ---- */

struct wreq {
    uv_write_t w;
    char data[];
};

static void on_written(uv_write_t *w, int status)
{
    (void)status;               /* a failed write shows up as a read error too */
    free(w->data);
}

static void pump(struct dialer *d);

static void on_no_answer(uv_timer_t *t)
{
    struct dialer *d = t->data;
    log_warn("dial: baresip did not answer a command within 2 s; sending the next");
    d->waiting = false;
    pump(d);
}

/* Write the next command if none is waiting for its answer. */
static void pump(struct dialer *d)
{
    if (d->waiting || !d->head || !d->up)
        return;
    struct cmd *c = d->head;
    d->head = c->next;
    if (!d->head)
        d->tail = NULL;
    struct wreq *r = ctx_malloc(sizeof *r + c->len);
    memcpy(r->data, c->data, c->len);
    uv_buf_t ub = uv_buf_init(r->data, (unsigned)c->len);
    free(c);
    r->w.data = r;
    if (uv_write(&r->w, (uv_stream_t *)d->tcp, &ub, 1, on_written)) {
        free(r);                /* the read side sees the connection go */
        return;
    }
    d->waiting = true;
    uv_timer_start(d->answer, on_no_answer, 2000, 0);
}

static void drop_commands(struct dialer *d)
{
    while (d->head) {
        struct cmd *c = d->head;
        d->head = c->next;
        free(c);
    }
    d->tail = NULL;
    d->waiting = false;
    if (d->answer)
        uv_timer_stop(d->answer);
}

static ctx_err send_json(struct dialer *d, json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!text)
        return CTX_ENOMEM;
    if (!d->up) {
        free(text);
        return CTX_EIO;
    }
    struct buf b = {0};
    dial_netstring_put(&b, text, strlen(text));
    free(text);
    struct cmd *c = ctx_malloc(sizeof *c + buf_len(&b));
    c->next = NULL;
    c->len = buf_len(&b);
    memcpy(c->data, buf_str(&b), c->len);
    buf_free(&b);
    if (d->tail)
        d->tail->next = c;
    else
        d->head = c;
    d->tail = c;
    pump(d);
    return CTX_OK;
}

static ctx_err command(struct dialer *d, const char *cmd, const char *params, const char *token)
{
    return send_json(d, json_pack("{s:s,s:s,s:s}", "command", cmd, "params", params ? params : "",
                                  "token", token ? token : ""));
}

static void hangup_call(struct dialer *d, struct leg *l)
{
    command(d, "callfind", l->call_id, NULL);
    command(d, "hangup", "", NULL);
}

/* ---- reading ---- */

static void report(struct dialer *d, struct leg *l, enum dial_leg_state st,
                   enum dial_cause cause, const char *reason)
{
    char token[TOKEN_LEN];
    snprintf(token, sizeof token, "%s", l->token);
    if (st == LEG_CLOSED)
        leg_drop(d, l);         /* before the callback: it may dial a new leg */
    if (d->cb.leg)
        d->cb.leg(token, st, cause, reason, d->cb.priv);
}

/* The answer to "reginfo" (at connect) or "uanew": learn the calling
 * account, add AUDIO_AOR if missing, then take dials. */
static void on_accounts(struct dialer *d, bool after_uanew, const char *text)
{
    if (d->ready)
        return;
    d->bridge = dial_bs_accounts(text ? text : "", AUDIO_AOR, d->aor, sizeof d->aor);
    if (!d->bridge && !after_uanew) {
        command(d, "uanew", "<" AUDIO_AOR ">;regint=0", "s:uanew");
        return;
    }
    if (!d->bridge)
        log_warn("dial: baresip did not add the account " AUDIO_AOR ": calls are placed, "
                 "but the two legs of a call will not hear each other");
    if (!d->aor[0])
        log_warn("dial: baresip lists no account to call from (its accounts file)");
    d->ready = true;
    if (d->aor[0])              /* current again, if a ctxd stopped mid-dial */
        command(d, "uafind", d->aor, NULL);
    log_info("dial: baresip calls from %s%s", d->aor[0] ? d->aor : "(none)",
             d->bridge ? ", the two legs of a call bridged (aubridge)" : "");
    if (d->cb.engine)
        d->cb.engine(true, d->cb.priv);
}

static void on_message(struct dialer *d, const char *p, size_t n)
{
    struct dial_bs_msg m;
    json_t *root;
    if (dial_bs_decode(p, n, &m, &root)) {
        log_warn("dial: baresip sent something that is not JSON (%zu bytes)", n);
        return;
    }
    if (m.kind == BS_RESPONSE) {
        d->waiting = false;
        uv_timer_stop(d->answer);
    }
    if (m.kind == BS_RESPONSE && !m.ok)
        log_debug("dial: baresip refused a command: %s", m.data ? m.data : "");
    if (m.kind == BS_RESPONSE && m.token && strncmp(m.token, "s:", 2) == 0)
        on_accounts(d, strcmp(m.token, "s:uanew") == 0, m.data);
    if (m.kind == BS_RESPONSE && m.token && strncmp(m.token, "d:", 2) == 0 && !m.ok) {
        struct leg *l = leg_find(d, m.token + 2);
        if (l)
            report(d, l, LEG_CLOSED, CAUSE_FAILED, m.data && *m.data ? m.data : "dial refused");
    } else if (m.kind == BS_EVENT && m.call_event) {
        char token[TOKEN_LEN];
        struct leg *l = dial_leg_token(m.peer, token, sizeof token) ? leg_find(d, token) : NULL;
        if (l && !l->closed) {
            if (m.call_id && !l->call_id[0]) {
                snprintf(l->call_id, sizeof l->call_id, "%s", m.call_id);
                if (l->hangup_pending && m.state != LEG_CLOSED)
                    hangup_call(d, l);
            }
            if (m.state == LEG_CLOSED)
                report(d, l, LEG_CLOSED, dial_cause_parse(m.param), m.param ? m.param : "");
            else
                report(d, l, m.state, CAUSE_NORMAL, "");
        }
    }
    json_decref(root);
}

static void on_closed(uv_handle_t *h)
{
    free(h);
}

static void on_retry(uv_timer_t *t)
{
    connect_now(t->data);
}

static void retry_later(struct dialer *d)
{
    if (d->stopping)
        return;
    uv_timer_start(d->retry, on_retry, d->backoff_ms, 0);
    d->backoff_ms = d->backoff_ms * 2 > 5000 ? 5000 : d->backoff_ms * 2;
}

static void went_down(struct dialer *d, const char *why)
{
    bool was_up = d->up, was_ready = d->ready;
    d->up = false;
    d->ready = false;
    if (d->tcp) {
        uv_close((uv_handle_t *)d->tcp, on_closed);
        d->tcp = NULL;
    }
    buf_reset(&d->rx);
    drop_commands(d);
    if (was_up)
        log_warn("dial: baresip at %s:%d went away (%s); reconnecting", d->host, d->port, why);
    while (d->legs)
        report(d, d->legs, LEG_CLOSED, CAUSE_FAILED, "dialer engine went away");
    if (was_ready && d->cb.engine)
        d->cb.engine(false, d->cb.priv);
    retry_later(d);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)h;
    (void)hint;
    static char slab[65536];    /* one loop, one read at a time: consumed before the next */
    *b = uv_buf_init(slab, sizeof slab);
}

/* baresip writes each event on its own (Nagle on): the second of two
 * back-to-back events waits for our ACK of the first, which Linux delays up
 * to 40 ms. Acking at once keeps an answered agent leg from waiting 40 ms
 * before the customer is dialled (bench/dial_latency.py). */
static void quick_ack(uv_stream_t *s)
{
#ifdef TCP_QUICKACK
    uv_os_fd_t fd;
    int one = 1;
    if (uv_fileno((uv_handle_t *)s, &fd) == 0)
        setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#else
    (void)s;
#endif
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct dialer *d = s->data;
    if (nread > 0)
        quick_ack(s);
    if (nread < 0) {
        went_down(d, nread == UV_EOF ? "closed" : uv_strerror((int)nread));
        return;
    }
    if (buf_append(&d->rx, b->base, (size_t)nread)) {
        went_down(d, "a message over 1 MB");
        return;
    }
    size_t off = 0;
    for (;;) {
        const char *p;
        size_t n, used;
        int r = dial_netstring_get(buf_str(&d->rx) + off, buf_len(&d->rx) - off, MAX_FRAME,
                                   &p, &n, &used);
        if (r < 0) {
            went_down(d, "not netstring framing");
            return;
        }
        if (r == 0)
            break;
        off += used;
        on_message(d, p, n);
        if (!d->up)
            return;             /* a callback stopped us */
    }
    pump(d);
    if (off) {
        size_t rest = buf_len(&d->rx) - off;
        memmove(d->rx.p, d->rx.p + off, rest);
        buf_truncate(&d->rx, rest);
    }
}

static void on_connect(uv_connect_t *req, int status)
{
    struct dialer *d = req->data;
    d->connecting = false;
    if (d->stopping) {
        return;
    }
    if (status) {
        log_debug("dial: baresip at %s:%d: %s", d->host, d->port, uv_strerror(status));
        uv_close((uv_handle_t *)d->tcp, on_closed);
        d->tcp = NULL;
        retry_later(d);
        return;
    }
    d->up = true;
    d->backoff_ms = 250;
    d->tcp->data = d;
    uv_tcp_nodelay(d->tcp, 1);
    uv_read_start((uv_stream_t *)d->tcp, on_alloc, on_read);
    log_info("dial: connected to baresip at %s:%d", d->host, d->port);
    command(d, "reginfo", "", "s:reginfo");      /* then on_accounts */
}

static void connect_now(struct dialer *d)
{
    if (d->stopping || d->tcp)
        return;
    struct sockaddr_in sa;
    if (uv_ip4_addr(d->host, d->port, &sa)) {
        log_error("dial: \"%s\" is not an IPv4 address", d->host);
        return;
    }
    d->tcp = ctx_malloc(sizeof *d->tcp);
    uv_tcp_init(d->loop, d->tcp);
    d->conn_req.data = d;
    d->connecting = true;
    if (uv_tcp_connect(&d->conn_req, d->tcp, (const struct sockaddr *)&sa, on_connect)) {
        d->connecting = false;
        uv_close((uv_handle_t *)d->tcp, on_closed);
        d->tcp = NULL;
        retry_later(d);
    }
}

/* ---- the ops ---- */

static ctx_err bs_start(uv_loop_t *loop, const struct dialer_opts *o, const struct dialer_cb *cb,
                        struct dialer **out)
{
    struct dialer *d = ctx_calloc(1, sizeof *d);
    if (config_parse_hostport(o->address, &d->host, &d->port)) {
        free(d);
        return CTX_EINVAL;
    }
    d->loop = loop;
    d->cb = *cb;
    d->backoff_ms = 250;
    buf_set_max(&d->rx, MAX_FRAME + 32);
    d->retry = ctx_malloc(sizeof *d->retry);
    uv_timer_init(loop, d->retry);
    d->retry->data = d;
    d->answer = ctx_malloc(sizeof *d->answer);
    uv_timer_init(loop, d->answer);
    d->answer->data = d;
    connect_now(d);
    *out = d;
    return CTX_OK;
}

static bool bs_up(const struct dialer *d)
{
    return d && d->up && d->ready;
}

/* Give the next call the devices name.1/name.2 (side 0) or the reverse
 * (side 1): see the head of this file. */
static void set_devices(struct dialer *d, const char *name, int side)
{
    char play[TOKEN_LEN + 16], src[TOKEN_LEN + 16];
    snprintf(play, sizeof play, "aubridge,%s.%d", name, side ? 2 : 1);
    snprintf(src, sizeof src, "aubridge,%s.%d", name, side ? 1 : 2);
    command(d, "uafind", AUDIO_AOR, NULL);
    command(d, "auplay", play, NULL);
    command(d, "ausrc", src, NULL);
    command(d, "uafind", d->aor, NULL);
}

static ctx_err bs_dial(struct dialer *d, const char *token, const char *uri, const char *join)
{
    if (!bs_up(d))
        return CTX_EIO;
    if (strlen(token) >= TOKEN_LEN || leg_find(d, token))
        return CTX_EINVAL;
    char params[1024], tk[TOKEN_LEN + 2];
    if ((size_t)snprintf(params, sizeof params, "%s;ctxleg=%s", uri, token) >= sizeof params)
        return CTX_ETOOBIG;
    snprintf(tk, sizeof tk, "d:%s", token);
    struct leg *l = ctx_calloc(1, sizeof *l);
    snprintf(l->token, sizeof l->token, "%s", token);
    l->next = d->legs;
    d->legs = l;
    if (d->bridge && d->aor[0])
        set_devices(d, join ? join : token, join != NULL);
    ctx_err e = command(d, "dial", params, tk);
    if (e)
        leg_drop(d, l);
    return e;
}

static void bs_hangup(struct dialer *d, const char *token)
{
    struct leg *l = leg_find(d, token);
    if (!l || l->closed)
        return;
    if (l->call_id[0])
        hangup_call(d, l);
    else
        l->hangup_pending = true;
}

static void timer_freed(uv_handle_t *h)
{
    free(h);
}

static void dialer_free(struct dialer *d)
{
    buf_free(&d->rx);
    free(d->host);
    free(d);
}

/* A connect in flight is called back (cancelled) before its handle's close
 * callback: the dialer lives until then. */
static void on_stop_closed(uv_handle_t *h)
{
    struct dialer *d = h->data;
    free(h);
    dialer_free(d);
}

static void bs_stop(struct dialer *d)
{
    if (!d)
        return;
    d->stopping = true;
    while (d->legs)
        leg_drop(d, d->legs);
    drop_commands(d);
    uv_close((uv_handle_t *)d->retry, timer_freed);
    uv_close((uv_handle_t *)d->answer, timer_freed);
    if (d->tcp) {
        d->tcp->data = d;
        uv_close((uv_handle_t *)d->tcp, on_stop_closed);
    } else {
        dialer_free(d);
    }
}

const struct dialer_ops dialer_baresip = {
    .name = "baresip",
    .start = bs_start,
    .up = bs_up,
    .dial = bs_dial,
    .hangup = bs_hangup,
    .stop = bs_stop,
};

static const struct dialer_ops *const dialer_engines[] = {&dialer_baresip};

const struct dialer_ops *dialer_ops_find(const char *name)
{
    for (size_t i = 0; i < CTX_ARRAY_LEN(dialer_engines); i++)
        if (strcmp(dialer_engines[i]->name, name) == 0)
            return dialer_engines[i];
    return NULL;
}
