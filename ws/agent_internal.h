/* agent_internal.h -- what ws/agent.c and ws/agent_ops.c share.
 *
 * agent.c speaks ctx.agent.v1 (sessions, hello, frames in and out,
 * heartbeats); agent_ops.c does what the frames ask (the operations, the
 * task frames, the supervisors' queue_stats). A session is reached from an
 * async step only through its weak reference (s->ref, see ws_internal.h). */
#ifndef CTX_AGENT_INTERNAL_H
#define CTX_AGENT_INTERNAL_H

#include "core/item.h"
#include "ws/ws_internal.h"

struct asess {
    struct lws *wsi;
    struct agents *ag;
    struct asess *prev, *next;
    struct wref *ref;
    struct outq q;
    struct buf rx;
    bool rx_too_big;
    bool authed, authing;
    struct strlist early;       /* frames that arrived while hello was being checked */
    char agent[72];
    char name[128];
    bool supervisor;
    bool watching;              /* hello "as":"supervisor": watches, takes no tasks */
    char conn[160];             /* this connection's id in the agent's conns zset */
};

struct agents {
    struct serve *s;
    struct follower *events;
    struct asess *sessions;
    unsigned n;
    uv_timer_t *stats_timer;    /* queue_stats for supervisors, every 2 s */
    uv_timer_t *beat_timer;     /* presence heartbeats for the agents connected here */
    char node[128];             /* this process, in connection ids */
    unsigned long long conn_seq;
    json_t *queues;             /* the last queue figures, waiting for the agents' */
    json_t *agents_seen;        /* and the agents', waiting for the calls' */
    bool stats_running;
};

/* agent.c */
void agent_err(struct asess *s, const char *code, const char *msg);
json_t *agent_hash_json(const redisReply *h);    /* a hash's fields as a JSON object */

/* agent_ops.c: what an agent asks, once decoded; each is one store script. */
enum agent_op { OP_STATE, OP_ACCEPT, OP_REJECT, OP_DONE, OP_TRANSFER, OP_REPLY, OP_CALLBACK,
                OP_TYPING, OP_CALL, OP_HANGUP };
void agent_op_start(struct asess *s, enum agent_op op, const char *task, const char *arg,
                    const char *text);
/* Send a frame of `type` with the task, its item or chat history, and the
 * fields of extra (stolen; NULL for none). */
void agent_send_task(struct asess *s, const char *type, const char *task, json_t *extra);
/* The stats timer: queue_stats to the supervisors connected here. */
void agent_stats_fire(uv_timer_t *t);

#endif
