/* routing.h -- the routing core's pure logic: which task goes to which
 * agent, in which order, and what queueing theory says it should cost.
 *
 * Everything here is a pure function of its arguments and a `now` in
 * milliseconds: no Redis, no sockets, no clock reads. The route role
 * (ctxd/route.c) loads a snapshot of a queue and its agents from Redis,
 * asks routing_decide() for offers, and commits each with a Lua script
 * that re-checks the agent's state and capacity atomically, so two
 * routers deciding from the same snapshot can never over-assign. The
 * simulator (routing/sim.c) drives the same functions with a virtual clock.
 *
 * Ownership: the structs only borrow their strings; the caller keeps them
 * alive for the duration of the call. */
#ifndef CTX_ROUTING_H
#define CTX_ROUTING_H

#include <stdbool.h>
#include <stddef.h>
#include "core/ctx.h"

enum channel { CH_SOCIAL = 0, CH_CHAT, CH_CALLBACK, CH_COUNT };
const char *channel_name(enum channel c);
int channel_parse(const char *s, enum channel *out);        /* 0 ok, -1 unknown */

#define RT_MAX_SKILLS 16
#define RT_MAX_LANGS 8

struct rt_skill {
    const char *name;
    int level;                  /* agents: 1..100 (proficiency); requirements: minimum, 0 = any */
};

enum rt_agent_state { AG_OFFLINE = 0, AG_AVAILABLE, AG_AWAY, AG_WRAPUP };
const char *agent_state_name(enum rt_agent_state s);

struct rt_agent {
    const char *id;
    enum rt_agent_state state;
    struct rt_skill skills[RT_MAX_SKILLS];
    int nskills;
    const char *langs[RT_MAX_LANGS];    /* none = speaks any language */
    int nlangs;
    int capacity[CH_COUNT];     /* tasks at once per channel; 0 = never this channel */
    int load[CH_COUNT];         /* tasks offered or assigned now, per channel */
    bool callback_blocks_chat;  /* a callback in progress blocks new chats */
    int offers;                 /* offers outstanding (at most one at a time) */
    long long idle_since;       /* ms: when the agent last had no task at all */
    long long last_offer;       /* ms: when the agent was last offered a task (round robin) */
    long long handled;          /* tasks handled so far (fewest tasks breaks ties by it) */
};

struct rt_task {
    const char *id;
    enum channel channel;
    int priority;               /* higher first; 0 = normal */
    long long enqueued;         /* ms: its place in line, kept when it is re-queued */
    const char *lang;           /* NULL = any agent */
    struct rt_skill need[RT_MAX_SKILLS];  /* task-specific requirements, besides the queue's */
    int nneed;
    const char **refused;       /* agents that rejected it or let the offer time out */
    int nrefused;
};

struct strategy_ops;

struct rt_queue {
    const char *name;
    const struct strategy_ops *strategy;
    struct rt_skill skills[RT_MAX_SKILLS];  /* required of every agent */
    int nskills;
    const char *lang;           /* NULL = any */
    double offer_timeout;       /* s */
    double wrapup;              /* s */
    double sla;                 /* s: answer within this target */
    double aging;               /* s of waiting worth one priority level; 0 = strict priority */
};

/* A strategy ranks the eligible agents for a task: lower rank is better.
 * Ties are broken by agent id, so a decision is deterministic. */
struct strategy_ops {
    const char *name;           /* longest-idle, round-robin, fewest-tasks, best-skill */
    double (*rank)(const struct rt_queue *q, const struct rt_task *t,
                   const struct rt_agent *a, long long now);
};

extern const struct strategy_ops strategy_longest_idle, strategy_round_robin,
    strategy_fewest_tasks, strategy_best_skill;
const struct strategy_ops *strategy_find(const char *name);   /* NULL when unknown */

/* The task's place in its queue: smaller goes first. With aging A (ms per
 * priority level) this is enqueued - priority * A, which orders tasks by
 * effective priority = priority + waited / A at any common `now`, so it
 * can be stored once as a sorted-set score. With no aging, strict
 * priority, then first come first served. */
double routing_order(const struct rt_queue *q, const struct rt_task *t);

/* May `a` be offered `t` from `q` now? (state, refusals, capacity, skills,
 * language, outstanding offers, callback blocking chats) */
bool routing_eligible(const struct rt_queue *q, const struct rt_task *t,
                      const struct rt_agent *a);

struct rt_offer {
    size_t task;                /* index into the tasks given */
    size_t agent;               /* index into the agents given */
};

/* Offers for the waiting tasks of one queue, tasks in queue order (sort
 * them by routing_order first). Each offer is applied to the local copy of
 * the agents (load, offers) before the next task is considered, so one
 * call never over-assigns. A task no agent can take does not block the
 * tasks behind it. Returns the number of offers written to out. */
size_t routing_decide(const struct rt_queue *q, const struct rt_task *tasks, size_t ntasks,
                      struct rt_agent *agents, size_t nagents, long long now,
                      struct rt_offer *out, size_t max);

/* --- escalation (routing/escalate.c) --- */
struct config;
struct config_queue;
struct tags;
/* The first escalation rule of cfg that the tagged item matches (its
 * index), or -1: the item is monitored only. followers < 0 = unknown;
 * duplicate = the item is a near-duplicate of an earlier one. */
int escalation_match(const struct config *cfg, const struct tags *tags, const char *lang,
                     long followers, bool duplicate);
/* The first rule with "on": "alert" whose series (a name, or a prefix
 * ending in '*') takes a spike alert of `series`, or -1. */
int escalation_match_alert(const struct config *cfg, const char *series);
/* A queue config as the pure routing sees it; skill strings ("billing:50")
 * are parsed into q->skills, borrowing names from qc. */
void routing_queue_from_config(const struct config_queue *qc, struct rt_queue *q,
                               char names[RT_MAX_SKILLS][64]);

/* --- queueing theory (routing/erlang.c) --- */
/* Probability that an arrival waits, M/M/n with offered load a = lambda/mu
 * Erlangs (a < n). */
double erlang_c(int n, double a);
/* Average speed of answer (s) and service level (share answered within
 * target seconds), M/M/n, rates per second. */
double erlang_asa(int n, double lambda, double mu);
double erlang_service_level(int n, double lambda, double mu, double target);

/* --- the simulator (routing/sim.c) --- */
struct sim_params {
    int agents;
    double lambda;              /* arrivals per second (Poisson) */
    double mu;                  /* completions per second per agent (exponential) */
    double sla;                 /* target answer time, s */
    long long tasks;            /* how many arrivals to simulate */
    unsigned long long seed;
    const char *strategy;       /* a strategy_ops name */
};
struct sim_result {
    double asa;                 /* average speed of answer, s */
    double service_level;       /* share answered within sla */
    double p_wait;              /* share that waited at all */
    double occupancy;
    long long decisions;        /* routing_decide() calls */
};
/* Run the real routing logic with a virtual clock. CTX_EINVAL for parameters
 * out of range (or an unknown strategy), else CTX_OK. */
ctx_err routing_simulate(const struct sim_params *p, struct sim_result *out);

#endif
