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

/* escalate.c: follow the tagged stream (group "route"). */
ctx_err escalate_start(struct route_role *r);
void escalate_stop(struct route_role *r);

/* route_timers.c: the 250 ms housekeeping tick. */
void route_timers_start(struct route_role *r);
void route_timers_stop(struct route_role *r);
/* Run a routing pass in ms milliseconds (once, however often asked). */
void route_pass_later(struct route_role *r, uint64_t ms);

#endif
