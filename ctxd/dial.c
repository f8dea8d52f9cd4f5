/* dial.c -- the dial role: voice callbacks that really call (docs/voice.md).
 *
 * Agent first, as contact centers do it: when an agent accepts a callback
 * task (a routing event "accepted"; in a queue with callback_mode
 * "preview", when the agent presses Call: a "call" request on
 * ctx:{r}:calls), the role takes the task's call (call_start.lua, so one
 * dialer places it however many run), calls the agent's SIP URI (the
 * agent's `sip`, from `ctxctl agent add --sip`), and once the agent
 * answers, calls the customer at the queue's URI template, the customer's
 * leg joined to the agent's (dialer_ops.dial's join: they hear each other).
 * The engine holds both legs; either side hanging up ends both. Each change
 * goes to the agent's console
 * (call_event.lua): dialing, ringing, talking, ended with the outcome.
 *
 * The end of a call (call_end.lua) keeps its outcome and talk time on the
 * task, and by the outcome (dial/policy.c): answered, rejected or failed
 * calls stay with the agent, who finishes them (done) or calls again;
 * busy and no answer go back to the task's queue at their old place (the
 * order score it had), due again after the retry delay and inside the
 * calling hours, until the attempts are spent: then the task is abandoned.
 *
 * The engine is a `const struct dialer_ops` (dial/dial.h). When it goes
 * away every call in progress ends "failed" and stays with its agent: the
 * task is not lost, and the engine is reconnected by the backend. The role
 * only keeps in memory what a call in progress needs; what outlives a call
 * is in Redis. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "core/id.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/tz.h"
#include "ctxd/roles.h"
#include "dial/dial.h"

#define TOKEN_LEN 64

enum phase { PH_CLAIMING, PH_AGENT, PH_CUSTOMER, PH_TALKING, PH_ENDING };

struct call {
    struct call *next;
    struct dial_role *r;
    char task[256], id[TOKEN_LEN], agent[80], queue[80], phone[DIAL_E164_LEN];
    char req_agent[80];         /* the agent who asked (call requests), or "" */
    enum phase phase;
    int attempt;
    bool agent_leg, cust_leg;   /* placed and not closed yet */
    bool agent_timeout, cust_timeout;
    bool customer_called;       /* the customer's leg was placed: an attempt spent */
    long long talk_start;       /* ms */
    uv_timer_t *timer;          /* the ring timeout of the leg ringing */
};

struct queue_policy {
    const char *uri;            /* its customers' SIP URI template */
    int open, close;
    struct tz *tz;
    bool preview;
};

struct dial_role {
    uv_loop_t *loop;
    const struct config *cfg;
    struct store *st;
    const struct dialer_ops *ops;
    struct dialer *eng;
    struct rconn *cmd;
    struct follower *routing, *requests;
    struct call *calls;
    struct queue_policy *qp;    /* per configured queue */
    double *delays;
    size_t ndelays;
    char name[128];             /* this process (consumer name): the call's owner */
    unsigned long long seq;
    bool stopping;
};

static const struct queue_policy *policy_of(struct dial_role *r, const char *queue, size_t *idx)
{
    for (size_t i = 0; i < r->cfg->nqueues; i++)
        if (strcmp(r->cfg->queues[i].name, queue) == 0) {
            if (idx)
                *idx = i;
            return &r->qp[i];
        }
    return NULL;
}

static struct call *call_by_task(struct dial_role *r, const char *task)
{
    for (struct call *c = r->calls; c; c = c->next)
        if (strcmp(c->task, task) == 0)
            return c;
    return NULL;
}

static struct call *call_by_id(struct dial_role *r, const char *id)
{
    for (struct call *c = r->calls; c; c = c->next)
        if (strcmp(c->id, id) == 0)
            return c;
    return NULL;
}

static void timer_freed(uv_handle_t *h)
{
    free(h);
}

static void call_free(struct call *c)
{
    struct dial_role *r = c->r;
    for (struct call **p = &r->calls; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    uv_close((uv_handle_t *)c->timer, timer_freed);
    free(c);
}

static void leg_token(const struct call *c, char leg, char *out, size_t len)
{
    snprintf(out, len, "%s%c", c->id, leg);
}

/* ---- Redis replies ---- */

static void on_logged(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    const char *what = priv;
    if (rep && rep->type == REDIS_REPLY_ERROR)
        log_warn("dial: %s: %s", what, rep->str);
}

static void on_ended(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct call *c = priv;
    if (!rep)
        log_error("dial: task %s: the end of call %s was not stored (redis away)", c->task,
                  c->id);
    else if (rep->type == REDIS_REPLY_ERROR)
        log_error("dial: task %s: call end: %s", c->task, rep->str);
    call_free(c);
}

static void call_state(struct call *c, const char *state, const char *leg)
{
    store_call_event(c->r->cmd, c->r->st, c->task, c->id, state, leg, ctx_now_ms(), on_logged,
                     "call state");
}

/* The call is over: hang up what is left, keep the outcome, and let the
 * policy say where the task goes. */
static void call_end(struct call *c, enum dial_outcome o, const char *reason)
{
    struct dial_role *r = c->r;
    if (c->phase == PH_ENDING)
        return;
    if (r->stopping) {
        call_free(c);
        return;
    }
    bool claimed = c->phase != PH_CLAIMING;
    c->phase = PH_ENDING;
    uv_timer_stop(c->timer);
    char tk[TOKEN_LEN + 2];
    if (c->agent_leg) {
        leg_token(c, 'a', tk, sizeof tk);
        r->ops->hangup(r->eng, tk);
    }
    if (c->cust_leg) {
        leg_token(c, 'c', tk, sizeof tk);
        r->ops->hangup(r->eng, tk);
    }
    if (!claimed) {
        call_free(c);
        return;
    }
    long long now = ctx_now_ms(), nb = 0;
    const struct queue_policy *qp = policy_of(r, c->queue, NULL);
    struct dial_policy p = {
        .attempts = r->cfg->dialer.attempts, .delays = r->delays, .ndelays = r->ndelays,
        .open = qp ? qp->open : 0, .close = qp ? qp->close : 1440, .tz = qp ? qp->tz : NULL,
    };
    enum dial_action a = dial_next(&p, o, c->customer_called ? c->attempt : c->attempt - 1, now,
                                   &nb);
    static const char *const actions[] = {"keep", "retry", "abandon"};
    struct store_call_end e = {
        .task = c->task, .call_id = c->id, .agent = c->agent, .queue = c->queue, .now = now,
        .outcome = dial_outcome_name(o), .reason = reason, .action = actions[a],
        .not_before = nb, .talk_ms = o == OUT_ANSWERED && c->talk_start ? now - c->talk_start : 0,
        .uncounted = !c->customer_called,
    };
    log_info("dial: task %s: call %s attempt %d ended: %s (%s); %s", c->task, c->id, c->attempt,
             e.outcome, reason ? reason : "", e.action);
    if (store_call_end(r->cmd, r->st, &e, on_ended, c)) {
        log_error("dial: task %s: the end of call %s was not stored (redis away)", c->task, c->id);
        call_free(c);
    }
}

/* ---- legs ---- */

static void on_ring_timeout(uv_timer_t *t)
{
    struct call *c = t->data;
    struct dial_role *r = c->r;
    char tk[TOKEN_LEN + 2];
    if (c->phase == PH_AGENT) {
        c->agent_timeout = true;
        leg_token(c, 'a', tk, sizeof tk);
    } else if (c->phase == PH_CUSTOMER) {
        c->cust_timeout = true;
        leg_token(c, 'c', tk, sizeof tk);
    } else {
        return;
    }
    r->ops->hangup(r->eng, tk);     /* its LEG_CLOSED ends the call */
}

static void dial_customer(struct call *c)
{
    struct dial_role *r = c->r;
    char uri[512], tk[TOKEN_LEN + 2];
    const struct queue_policy *qp = policy_of(r, c->queue, NULL);
    if (dial_uri(qp ? qp->uri : r->cfg->dialer.uri, c->phone, uri, sizeof uri)) {
        call_end(c, OUT_FAILED, "the customer's SIP URI is too long");
        return;
    }
    char agent_tk[TOKEN_LEN + 2];
    leg_token(c, 'c', tk, sizeof tk);
    leg_token(c, 'a', agent_tk, sizeof agent_tk);
    c->phase = PH_CUSTOMER;
    if (r->ops->dial(r->eng, tk, uri, agent_tk)) {     /* joined to the agent's leg */
        call_end(c, OUT_FAILED, "the dialer engine is not connected");
        return;
    }
    c->cust_leg = true;
    c->customer_called = true;
    call_state(c, "dialing", "customer");
    uv_timer_start(c->timer, on_ring_timeout, (uint64_t)(r->cfg->dialer.ring_timeout * 1000), 0);
}

static void on_leg(const char *token, enum dial_leg_state st, enum dial_cause cause,
                   const char *reason, void *priv)
{
    struct dial_role *r = priv;
    size_t n = strlen(token);
    char id[TOKEN_LEN];
    if (n < 2 || n > sizeof id)
        return;
    char leg = token[n - 1];
    snprintf(id, sizeof id, "%.*s", (int)(n - 1), token);
    struct call *c = call_by_id(r, id);
    if (!c || c->phase == PH_ENDING)
        return;                 /* a leg we hung up while ending */
    if (leg == 'a') {
        if (st == LEG_RINGING && c->phase == PH_AGENT) {
            call_state(c, "ringing", "agent");
        } else if (st == LEG_ANSWERED && c->phase == PH_AGENT) {
            uv_timer_stop(c->timer);
            dial_customer(c);
        } else if (st == LEG_CLOSED) {
            c->agent_leg = false;
            if (cause == CAUSE_FAILED)
                call_end(c, c->phase == PH_AGENT ? OUT_AGENT_FAILED : OUT_FAILED, reason);
            else if (c->phase == PH_TALKING)
                call_end(c, OUT_ANSWERED, "the agent hung up");
            else if (c->phase == PH_CUSTOMER)
                call_end(c, OUT_CANCELLED, "the agent hung up before the customer answered");
            else
                call_end(c, OUT_AGENT_FAILED, c->agent_timeout ? "the agent's phone did not answer"
                                                               : reason);
        }
        return;
    }
    if (st == LEG_RINGING && c->phase == PH_CUSTOMER) {
        call_state(c, "ringing", "customer");
    } else if (st == LEG_ANSWERED && c->phase == PH_CUSTOMER) {
        uv_timer_stop(c->timer);
        c->phase = PH_TALKING;
        c->talk_start = ctx_now_ms();
        call_state(c, "talking", "customer");
    } else if (st == LEG_CLOSED) {
        c->cust_leg = false;
        if (cause == CAUSE_FAILED)
            call_end(c, OUT_FAILED, reason);
        else if (c->phase == PH_TALKING)
            call_end(c, OUT_ANSWERED, "the customer hung up");
        else if (c->cust_timeout)
            call_end(c, OUT_NO_ANSWER, "no answer");
        else
            call_end(c, dial_outcome_of(cause), reason);
    }
}

static void on_engine(bool up, void *priv)
{
    struct dial_role *r = priv;
    log_info("dial: the %s engine is %s", r->ops->name, up ? "up" : "down");
}

/* ---- starting a call ---- */

static void on_agent_sip(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct call *c = priv;
    struct dial_role *r = c->r;
    if (c->phase == PH_ENDING)
        return;
    if (r->stopping) {
        call_free(c);
        return;
    }
    if (!rep || rep->type != REDIS_REPLY_STRING || !rep->len) {
        call_end(c, OUT_AGENT_FAILED, rep ? "the agent has no SIP address (ctxctl agent add "
                                            "ID --sip sip:...)" : "redis is away");
        return;
    }
    char tk[TOKEN_LEN + 2];
    leg_token(c, 'a', tk, sizeof tk);
    c->phase = PH_AGENT;
    if (r->ops->dial(r->eng, tk, rep->str, NULL)) {
        call_end(c, OUT_FAILED, "the dialer engine is not connected");
        return;
    }
    c->agent_leg = true;
    uv_timer_start(c->timer, on_ring_timeout,
                   (uint64_t)(r->cfg->dialer.agent_ring_timeout * 1000), 0);
}

static void on_claimed(struct rconn *rc, redisReply *rep, void *priv)
{
    struct call *c = priv;
    struct dial_role *r = c->r;
    if (r->stopping || !rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 4 ||
        rep->element[0]->type != REDIS_REPLY_INTEGER) {
        if (rep && rep->type == REDIS_REPLY_ERROR)
            log_info("dial: task %s: no call: %s", c->task, rep->str);
        call_free(c);
        return;
    }
    c->attempt = (int)rep->element[0]->integer;
    snprintf(c->agent, sizeof c->agent, "%s", rep->element[1]->str ? rep->element[1]->str : "");
    snprintf(c->queue, sizeof c->queue, "%s", rep->element[2]->str ? rep->element[2]->str : "");
    snprintf(c->phone, sizeof c->phone, "%s", rep->element[3]->str ? rep->element[3]->str : "");
    c->phase = PH_AGENT;
    log_info("dial: task %s: call %s attempt %d: agent %s, then %s", c->task, c->id, c->attempt,
             c->agent, c->phone);
    if (!r->ops->up(r->eng)) {
        call_end(c, OUT_FAILED, "the dialer engine is not connected");
        return;
    }
    char akey[STORE_KEY_LEN];
    if (rconn_cmd(rc, on_agent_sip, c, "HGET %s sip", store_key_agent(akey, sizeof akey, c->agent)))
        call_end(c, OUT_FAILED, "redis is away");
}

/* The task's channel, queue and state are read first: only an assigned
 * callback is called, and only inside its queue's calling hours. */
static void on_task(struct rconn *rc, redisReply *rep, void *priv)
{
    struct call *c = priv;
    struct dial_role *r = c->r;
    if (r->stopping || !rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 4 ||
        !rep->element[0]->str || strcmp(rep->element[0]->str, "callback") ||
        !rep->element[1]->str ||
        !rep->element[2]->str || strcmp(rep->element[2]->str, "assigned")) {
        call_free(c);
        return;
    }
    size_t qi;
    const struct queue_policy *qp = policy_of(r, rep->element[1]->str, &qi);
    if (!qp || (c->req_agent[0] == 0 && qp->preview)) {
        call_free(c);           /* preview: the agent presses Call */
        return;
    }
    long long now = ctx_now_ms();
    if (dial_hours_next(qp->open, qp->close, qp->tz, now) != now) {
        const struct config_queue *q = &r->cfg->queues[qi];
        char why[160];
        snprintf(why, sizeof why, "outside the calling hours (%s%s%s)", q->calling_hours,
                 q->calling_tz ? " " : "", q->calling_tz ? q->calling_tz : " UTC");
        log_info("dial: task %s: %s of %s; not called", c->task, why, q->name);
        if (rep->element[3]->str && *rep->element[3]->str)
            store_call_notice(rc, r->st, rep->element[3]->str, c->task, "not_called", why, now);
        call_free(c);
        return;
    }
    if (store_call_start(rc, r->st, c->task, now, c->id, r->name,
                         c->req_agent[0] ? c->req_agent : NULL, on_claimed, c))
        call_free(c);
}

static void call_task(struct dial_role *r, const char *task, const char *agent)
{
    if (!task || strlen(task) >= sizeof ((struct call *)0)->task || call_by_task(r, task))
        return;
    struct call *c = ctx_calloc(1, sizeof *c);
    c->r = r;
    snprintf(c->task, sizeof c->task, "%s", task);
    snprintf(c->req_agent, sizeof c->req_agent, "%s", agent ? agent : "");
    char rnd[16];                       /* two ctxd may share one engine */
    if (ctx_random_id("", 4, rnd, sizeof rnd) != CTX_OK)
        snprintf(rnd, sizeof rnd, "%04x", (unsigned)(rand() & 0xffff));
    snprintf(c->id, sizeof c->id, "%llx%llx%s", (unsigned long long)ctx_now_ms(), ++r->seq, rnd);
    c->timer = ctx_malloc(sizeof *c->timer);
    uv_timer_init(r->loop, c->timer);
    c->timer->data = c;
    c->next = r->calls;
    r->calls = c;
    char tkey[STORE_KEY_LEN];
    if (rconn_cmd(r->cmd, on_task, c, "HMGET %s channel queue state agent",
                  store_key_task(tkey, sizeof tkey, task)))
        call_free(c);
}

/* A hang-up asked by the agent: whatever the call had reached. */
static void hangup_task(struct dial_role *r, const char *task, const char *why)
{
    struct call *c = call_by_task(r, task);
    if (!c || c->phase == PH_ENDING || c->phase == PH_CLAIMING)
        return;
    if (c->phase == PH_TALKING)
        call_end(c, OUT_ANSWERED, why);
    else
        call_end(c, OUT_CANCELLED, why);
}

/* ---- what the role follows ---- */

static void on_routing(const char *id, const redisReply *f, void *priv)
{
    (void)id;
    struct dial_role *r = priv;
    const char *type = stream_field(f, "type"), *task = stream_field(f, "task");
    if (!type || !task)
        return;
    if (strcmp(type, "accepted") == 0)
        call_task(r, task, NULL);
    else if (strcmp(type, "done") == 0 || strcmp(type, "transferred") == 0 ||
             strcmp(type, "requeued") == 0 || strcmp(type, "abandoned") == 0)
        hangup_task(r, task, "the task left the agent");
}

static void on_request(const char *id, const redisReply *f, void *priv)
{
    (void)id;
    struct dial_role *r = priv;
    const char *type = stream_field(f, "type"), *task = stream_field(f, "task"),
               *agent = stream_field(f, "agent");
    if (!type || !task)
        return;
    if (strcmp(type, "call") == 0 && agent && *agent)
        call_task(r, task, agent);
    else if (strcmp(type, "hangup") == 0)
        hangup_task(r, task, agent && *agent ? "hung up from the console" : "hung up");
}

/* ---- the role ---- */

ctx_err dial_role_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
                        struct dial_role **out)
{
    *out = NULL;
    const struct config_dialer *dc = &cfg->dialer;
    struct dial_role *r = ctx_calloc(1, sizeof *r);
    r->loop = loop;
    r->cfg = cfg;
    r->st = st;
    r->ops = dialer_ops_find(dc->engine);
    store_consumer_name(cfg, r->name, sizeof r->name);
    r->qp = ctx_calloc(cfg->nqueues ? cfg->nqueues : 1, sizeof *r->qp);
    for (size_t i = 0; i < cfg->nqueues; i++) {
        const struct config_queue *q = &cfg->queues[i];
        dial_hours_parse(q->calling_hours, &r->qp[i].open, &r->qp[i].close);
        if (q->calling_tz && tz_load(NULL, q->calling_tz, &r->qp[i].tz))
            log_warn("dial: queue %s: zone %s unreadable; calling hours in UTC", q->name,
                     q->calling_tz);
        r->qp[i].uri = q->dial_uri ? q->dial_uri : dc->uri;
        r->qp[i].preview = q->callback_mode && strcmp(q->callback_mode, "preview") == 0;
    }
    r->ndelays = dc->retry_delays.n ? dc->retry_delays.n : 1;
    r->delays = ctx_calloc(r->ndelays, sizeof *r->delays);
    r->delays[0] = 120;
    for (size_t i = 0; i < dc->retry_delays.n; i++)
        config_parse_duration(dc->retry_delays.v[i], &r->delays[i]);
    struct dialer_opts o = {.address = dc->address};
    struct dialer_cb cb = {.leg = on_leg, .engine = on_engine, .priv = r};
    ctx_err e = r->ops ? CTX_OK : CTX_ECONFIG;
    if (!e)
        e = r->ops->start(loop, &o, &cb, &r->eng);
    if (!e)
        e = store_conn_new(st, "dial", NULL, NULL, &r->cmd);
    if (!e)
        e = follower_start(st, KEY_ROUTING_EVENTS, on_routing, r, &r->routing);
    if (!e)
        e = follower_start(st, KEY_CALLS, on_request, r, &r->requests);
    if (e) {
        dial_role_stop(r);
        return e;
    }
    log_info("dial: %s at %s, customers at %s", r->ops->name, dc->address, dc->uri);
    *out = r;
    return CTX_OK;
}

void dial_role_stop(struct dial_role *r)
{
    if (!r)
        return;
    r->stopping = true;
    follower_stop(r->routing);
    follower_stop(r->requests);
    if (r->calls)
        log_warn("dial: stopping with calls in progress; their tasks stay with their agents");
    if (r->ops && r->eng)
        r->ops->stop(r->eng);   /* drops the legs: no callbacks */
    r->eng = NULL;
    rconn_free(r->cmd);         /* replies in flight are called back now, with NULL */
    while (r->calls)
        call_free(r->calls);
    for (size_t i = 0; i < r->cfg->nqueues; i++)
        tz_free(r->qp[i].tz);
    free(r->qp);
    free(r->delays);
    free(r);
}
