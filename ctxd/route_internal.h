/* route_internal.h -- what the files of the route role share.
 *
 * route.c owns the role (start, stop, wake-ups, the routing pass);
 * escalate.c turns tagged items into tasks; route_timers.c runs the
 * housekeeping tick. They share the role's state and these few calls;
 * nothing here is seen outside ctxd/route*.c and ctxd/escalate.c. */
#ifndef CTX_ROUTE_INTERNAL_H
#define CTX_ROUTE_INTERNAL_H

#include <stdbool.h>
#include <uv.h>
#include "ctxd/roles.h"
#include "routing/routing.h"

struct route_role {
    uv_loop_t *loop;
    const struct config *cfg;
    struct store *st;
    struct rconn *cmd, *wake;
    struct group_reader *tagged;   /* ctx:{i}:items:tagged, group "route" */
    struct escalate_lane *lanes;   /* escalate.c: one per item shard (lanes[0] reads tagged) */
    uv_timer_t *tick;
    uv_timer_t *again;          /* the next pass, a few ms on, after offers were lost */
    bool pass_running, pass_again, pass_lost;
    unsigned lost_streak;       /* passes in a row that lost offers to another router */
    unsigned pass_pending;      /* snapshots or offers in flight */
    uint64_t pass_t0;           /* uv_hrtime() when the pass started */
    struct route_agents *ready; /* our copy of the ready agents (route_agents.c) */
    char wake_last[48];
    bool wake_reading, stopping;
    unsigned inflight;          /* escalate.c: tasks of the batch being created */
    unsigned long long offers_made, offers_lost, tasks_created;
    unsigned long long ticks;
};

/* route.c */
const struct config_queue *route_queue_cfg(const struct config *cfg, const char *name);
/* Run a routing pass now, or once more after the one running. */
void route_pass(struct route_role *r);

/* route_agents.c: the router's copy of the ready agents, kept from the
 * snapshots (route_snapshot.lua) so that a pass reads what changed only. */
struct route_agents;
struct route_agents *route_agents_new(void);
void route_agents_free(struct route_agents *c);
/* Read every ready agent at the next snapshot (a reconnection: Redis may
 * be another one). */
void route_agents_forget(struct route_agents *c);
/* The version of the change log to pass to the next snapshot: 0 for a
 * full read. now: ms. */
long long route_agents_since(const struct route_agents *c, long long now);
/* Take in one snapshot's agents (the whole reply of route_snapshot.lua).
 * false, and a full read next time, when the reply is not one. */
bool route_agents_apply(struct route_agents *c, const redisReply *snap, long long now);
/* Copy at most `most` of the agents into out for one decision (which
 * changes its copy); they point into c until the next apply. */
size_t route_agents_copy(struct route_agents *c, struct rt_agent *out, size_t most);

/* route_snapshot.lua gives a task or an agent as one string, its fields
 * joined by NUL bytes: point f[0..n-1] at the n fields of s (a missing one
 * is ""; they live as long as s). Returns n, or 0 when s is not n fields. */
size_t route_fields(const redisReply *s, const char **f, size_t n);

/* escalate.c: follow the tagged stream (group "route"); stop reading, and
 * free what the task scripts in flight refer to once r->cmd is freed. */
ctx_err escalate_start(struct route_role *r);
void escalate_stop(struct route_role *r);
void escalate_free(struct route_role *r);

/* route_timers.c: the 250 ms housekeeping tick. */
void route_timers_start(struct route_role *r);
void route_timers_stop(struct route_role *r);
/* Run a routing pass in ms milliseconds (once, however often asked). */
void route_pass_later(struct route_role *r, uint64_t ms);

#endif
