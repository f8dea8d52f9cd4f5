/* calls.c -- the voice callbacks' calls in Redis (docs/voice.md): a dialer
 * takes a task's call (call_start.lua), its states flow to the agent
 * (call_event.lua), and its end keeps the outcome and keeps the task with
 * its agent, puts it back in its queue at its place, or abandons it
 * (call_end.lua). Agents and supervisors ask for calls and hang-ups on
 * the ctx:{r}:calls stream, which every dialer follows. All in {r}: the
 * scripts join the task, the agent and the queue's line. */
#include <stdio.h>
#include <string.h>
#include "store/store_internal.h"

ctx_err store_call_start(struct rconn *rc, struct store *st, const char *task, long long now,
                         const char *call_id, const char *dialer, const char *agent,
                         rconn_reply_cb cb, void *priv)
{
    char tkey[STORE_KEY_LEN], nows[STORE_NUM_LEN];
    const char *keys[] = {store_key_task(tkey, sizeof tkey, task), KEY_AGENT_EVENTS,
                          KEY_CALL_STATS};
    const char *args[] = {task, store_lld(nows, now), call_id, dialer, agent ? agent : ""};
    return STORE_EVAL(rc, st, SCRIPT_CALL_START, cb, priv, keys, args);
}

ctx_err store_call_event(struct rconn *rc, struct store *st, const char *task,
                         const char *call_id, const char *state, const char *leg, long long now,
                         rconn_reply_cb cb, void *priv)
{
    char tkey[STORE_KEY_LEN], nows[STORE_NUM_LEN];
    const char *keys[] = {store_key_task(tkey, sizeof tkey, task), KEY_AGENT_EVENTS};
    const char *args[] = {task, call_id, state, leg, store_lld(nows, now)};
    return STORE_EVAL(rc, st, SCRIPT_CALL_EVENT, cb, priv, keys, args);
}

ctx_err store_call_end(struct rconn *rc, struct store *st, const struct store_call_end *c,
                       rconn_reply_cb cb, void *priv)
{
    char tkey[STORE_KEY_LEN], akey[STORE_KEY_LEN], atkey[STORE_KEY_LEN], wkey[STORE_KEY_LEN];
    char skey[STORE_KEY_LEN], nows[STORE_NUM_LEN], nb[STORE_NUM_LEN], talk[STORE_NUM_LEN];
    char arkey[STORE_KEY_LEN];
    char keep[STORE_NUM_LEN];
    const char *keys[] = {store_key_task(tkey, sizeof tkey, c->task),
                          store_key_agent(akey, sizeof akey, c->agent),
                          store_key_agent_tasks(atkey, sizeof atkey, c->agent),
                          store_key_queue_waiting(wkey, sizeof wkey, c->queue), KEY_ROUTING_EVENTS,
                          KEY_AGENT_EVENTS, store_key_queue_stats(skey, sizeof skey, c->queue),
                          KEY_CALL_STATS, KEY_AGENTS_READY, KEY_AGENTS, KEY_QUEUES_LIVE,
                          store_key_queue_arrivals(arkey, sizeof arkey, c->queue)};
    const char *args[] = {c->task, c->call_id, store_lld(nows, c->now), c->outcome,
                          c->reason ? c->reason : "", c->action, store_lld(nb, c->not_before),
                          store_lld(talk, c->talk_ms),
                          store_lld(keep, (long long)(st->cfg->retention.tasks * 1000)),
                          c->queue, c->uncounted ? "1" : "0"};
    return STORE_EVAL(rc, st, SCRIPT_CALL_END, cb, priv, keys, args);
}

ctx_err store_call_request(struct rconn *rc, struct store *st, const char *type,
                           const char *task, const char *agent, rconn_reply_cb cb, void *priv)
{
    (void)st;
    return rconn_cmd(rc, cb, priv, "XADD %s MAXLEN ~ 100000 * type %s task %s agent %s",
                     KEY_CALLS, type, task, agent ? agent : "");
}

ctx_err store_call_stats(struct rconn *rc, struct store *st, rconn_reply_cb cb, void *priv)
{
    (void)st;
    return rconn_cmd(rc, cb, priv, "HGETALL %s", KEY_CALL_STATS);
}

ctx_err store_call_notice(struct rconn *rc, struct store *st, const char *agent, const char *task,
                          const char *outcome, const char *reason, long long now)
{
    (void)st;
    char nows[STORE_NUM_LEN];
    return rconn_cmd(rc, NULL, NULL,
                     "XADD %s MAXLEN ~ 100000 * agent %s type call task %s state ended "
                     "outcome %s reason %s since %s",
                     KEY_AGENT_EVENTS, agent, task, outcome, reason, store_lld(nows, now));
}
