/* strategy.c -- the four ways a queue picks among the agents that may take a
 * task: longest-idle (the default), round-robin, fewest-tasks, best-skill.
 *
 * A strategy is a const struct strategy_ops with one function, rank(): a
 * number for an eligible agent, lower is better. routing_decide() takes the
 * lowest rank and breaks ties by agent id, so the strategies only say what
 * matters to them and every decision is deterministic. Ranks are built to be
 * exact integers in a double (below 2^53): a lexicographic pair of keys is
 * packed as hi * 2^k + lo with lo clamped below 2^k, so no tie is ever
 * created or broken by rounding. Like everything in routing/, these are
 * pure functions of their arguments and `now`. Adding a strategy is one
 * function, one table entry below. */
#include <stddef.h>
#include <string.h>
#include "routing/routing.h"
#include "routing/routing_internal.h"

#define P2(k) ((double)(1ULL << (k)))

static long long clampll(long long v, long long lo, long long hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* longest-idle: the agent with no task at all for the longest time, i.e.
 * the smallest idle_since. An agent that already holds a task on some
 * channel (it may still have room: 3 chats at once) ranks after every fully
 * idle agent, and among such agents the same rule applies. Ranks: idle
 * agents in [-2^50, 2^50], busy ones 2^52 above. */
static double rank_longest_idle(const struct rt_queue *q, const struct rt_task *t,
                                const struct rt_agent *a, long long now)
{
    (void)q, (void)t, (void)now;
    double since = (double)clampll(a->idle_since, -(1LL << 50), 1LL << 50);
    return rt_total_load(a) > 0 ? P2(52) + since : since;
}

/* round-robin: the agent offered a task least recently (smallest
 * last_offer; never offered = 0 or less goes first). Offering does not
 * depend on load or idle time, so work rotates evenly through the team. */
static double rank_round_robin(const struct rt_queue *q, const struct rt_task *t,
                               const struct rt_agent *a, long long now)
{
    (void)q, (void)t, (void)now;
    return (double)clampll(a->last_offer, -(1LL << 52), 1LL << 52);
}

/* fewest-tasks: the least load now, summed over all channels, then the
 * fewest tasks handled so far. rank = load * 2^32 + handled. */
static double rank_fewest_tasks(const struct rt_queue *q, const struct rt_task *t,
                                const struct rt_agent *a, long long now)
{
    (void)q, (void)t, (void)now;
    long long load = clampll(rt_total_load(a), 0, 1LL << 20);
    long long handled = clampll(a->handled, 0, (1LL << 32) - 1);
    return (double)load * P2(32) + (double)handled;
}

/* best-skill: skill levels as weights (Asterisk's penalties turned round:
 * a higher level is a better match). The score is the sum of the agent's
 * levels over the distinct skills required by the queue and by the task
 * (a skill named by both counts once), each level clamped to 0..1000. The
 * highest score wins; equal scores go to the agent idle longest (now -
 * idle_since, 0 for an agent holding a task, clamped below 2^38 ms ~ 8.7
 * years). With no required skills every score is 0 and this is
 * longest-idle measured from now. At most 32 skills * 1000, so
 * score * 2^38 + idle < 2^53. */
#define BS_IDLE_BITS 38
#define BS_LEVEL_MAX 1000

static int skill_counted(const struct rt_skill *s, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (s[i].name && strcmp(s[i].name, name) == 0)
            return 1;
    return 0;
}

static long long skill_score(const struct rt_queue *q, const struct rt_task *t,
                             const struct rt_agent *a)
{
    long long score = 0;
    int nq = rt_clampn(q->nskills, RT_MAX_SKILLS), nt = rt_clampn(t->nneed, RT_MAX_SKILLS);
    for (int i = 0; i < nq + nt; i++) {
        const struct rt_skill *req = i < nq ? &q->skills[i] : &t->need[i - nq];
        if (!req->name)
            continue;
        /* a name seen earlier in the queue's list, or in the task's list
         * before this one, was already counted */
        if (i < nq ? skill_counted(q->skills, i, req->name)
                   : skill_counted(q->skills, nq, req->name) ||
                         skill_counted(t->need, i - nq, req->name))
            continue;
        const struct rt_skill *have = rt_agent_skill(a, req->name);
        if (have)
            score += clampll(have->level, 0, BS_LEVEL_MAX);
    }
    return score;
}

static double rank_best_skill(const struct rt_queue *q, const struct rt_task *t,
                              const struct rt_agent *a, long long now)
{
    long long idle = 0;
    if (rt_total_load(a) == 0 && now > a->idle_since)
        idle = clampll(now - a->idle_since, 0, (1LL << BS_IDLE_BITS) - 1);
    return -((double)skill_score(q, t, a) * P2(BS_IDLE_BITS) + (double)idle);
}

const struct strategy_ops strategy_longest_idle = {"longest-idle", rank_longest_idle};
const struct strategy_ops strategy_round_robin = {"round-robin", rank_round_robin};
const struct strategy_ops strategy_fewest_tasks = {"fewest-tasks", rank_fewest_tasks};
const struct strategy_ops strategy_best_skill = {"best-skill", rank_best_skill};

static const struct strategy_ops *const strategies[] = {
    &strategy_longest_idle, &strategy_round_robin, &strategy_fewest_tasks, &strategy_best_skill,
};

const struct strategy_ops *strategy_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof strategies / sizeof strategies[0]; i++)
        if (strcmp(strategies[i]->name, name) == 0)
            return strategies[i];
    return NULL;
}
