/* decide.c -- the routing decision: a task's place in line, whether an agent
 * may be offered it, and which offers to make for a queue's waiting tasks.
 *
 * routing_decide() is greedy in queue order, as an ACD is: the first task in
 * line gets the best eligible agent (by the queue's strategy, ties by agent
 * id), that offer is applied to the caller's copy of the agents at once
 * (load, outstanding offers, last_offer), then the next task is considered.
 * A task nobody can take is skipped, never waited on, so one unservable task
 * at the head does not starve the line. Since an agent takes one offer at a
 * time, one call makes at most one offer per agent, and it stops as soon as
 * no agent is left who could take anything.
 *
 * Everything is pure: the route role commits the offers through a Redis
 * script that re-checks state and capacity, and the simulator calls the
 * same function with a virtual clock. */
#include <strings.h>
#include <math.h>
#include <string.h>
#include "routing/routing.h"
#include "routing/routing_internal.h"

static const char *const channel_names[CH_COUNT] = {"social", "chat", "callback"};

const char *channel_name(enum channel c)
{
    return (unsigned)c < CH_COUNT ? channel_names[c] : "unknown";
}

int channel_parse(const char *s, enum channel *out)
{
    if (!s)
        return -1;
    for (int c = 0; c < CH_COUNT; c++)
        if (strcmp(s, channel_names[c]) == 0) {
            if (out)
                *out = (enum channel)c;
            return 0;
        }
    return -1;
}

const char *agent_state_name(enum rt_agent_state s)
{
    switch (s) {
    case AG_OFFLINE: return "offline";
    case AG_AVAILABLE: return "available";
    case AG_AWAY: return "away";
    case AG_WRAPUP: return "wrapup";
    }
    return "unknown";
}

/* ---- order ------------------------------------------------------------ */

double routing_order(const struct rt_queue *q, const struct rt_task *t)
{
    int p = t->priority;
    if (p > RT_PRIORITY_MAX)
        p = RT_PRIORITY_MAX;
    if (p < -RT_PRIORITY_MAX)
        p = -RT_PRIORITY_MAX;
    /* aging: seconds of waiting worth one level; 0 (or nonsense) = strict.
     * Aging slower than the strict constant is strict anyway. */
    double per = RT_STRICT_MS;
    if (q && q->aging > 0 && q->aging * 1000.0 < RT_STRICT_MS)
        per = q->aging * 1000.0;
    return (double)t->enqueued - (double)p * per;
}

/* ---- eligibility ------------------------------------------------------ */

static bool refused_by(const struct rt_task *t, const char *agent)
{
    if (!agent || !t->refused)
        return false;
    for (int i = 0; i < t->nrefused; i++)
        if (t->refused[i] && strcmp(t->refused[i], agent) == 0)
            return true;
    return false;
}

static bool has_skills(const struct rt_agent *a, const struct rt_skill *req, int n)
{
    n = rt_clampn(n, RT_MAX_SKILLS);
    for (int i = 0; i < n; i++) {
        if (!req[i].name)
            continue;
        const struct rt_skill *s = rt_agent_skill(a, req[i].name);
        if (!s || s->level < req[i].level)
            return false;
    }
    return true;
}

/* Length of a language tag's primary subtag: "en" of "en-US" or "en_GB". */
static size_t primary_len(const char *tag)
{
    size_t n = 0;
    while (tag[n] && tag[n] != '-' && tag[n] != '_')
        n++;
    return n;
}

static bool lang_match(const char *want, const char *have)
{
    size_t n = primary_len(want);
    if (n == 0 || primary_len(have) != n)
        return false;
    return strncasecmp(want, have, n) == 0;
}

static bool speaks(const struct rt_agent *a, const char *lang)
{
    int n = rt_clampn(a->nlangs, RT_MAX_LANGS);
    bool any = false;
    if (!lang || !*lang)
        return true;
    for (int i = 0; i < n; i++) {
        if (!a->langs[i] || !*a->langs[i])
            continue;
        any = true;
        if (lang_match(lang, a->langs[i]))
            return true;
    }
    return !any;    /* an agent with no languages listed speaks any */
}

/* Whether the agent could take some task at all: available, no offer
 * outstanding, room on some channel. The cheap prefilter of decide. */
static bool open_for_offers(const struct rt_agent *a)
{
    if (a->state != AG_AVAILABLE || a->offers != 0)
        return false;
    for (int c = 0; c < CH_COUNT; c++)
        if (a->capacity[c] > a->load[c])
            return true;
    return false;
}

bool routing_eligible(const struct rt_queue *q, const struct rt_task *t,
                      const struct rt_agent *a)
{
    if (!q || !t || !a || (unsigned)t->channel >= CH_COUNT)
        return false;
    enum channel ch = t->channel;
    if (a->state != AG_AVAILABLE || a->offers != 0)
        return false;
    if (a->capacity[ch] <= a->load[ch])
        return false;
    if (ch == CH_CHAT && a->callback_blocks_chat && a->load[CH_CALLBACK] > 0)
        return false;
    if (refused_by(t, a->id))
        return false;
    if (!has_skills(a, q->skills, q->nskills) || !has_skills(a, t->need, t->nneed))
        return false;
    return speaks(a, t->lang && *t->lang ? t->lang : q->lang);
}

/* ---- decide ----------------------------------------------------------- */

/* Is (rank, id) better than (best, best_id)? */
static bool better(double rank, const char *id, double best, const char *best_id)
{
    if (rank != best)
        return rank < best;
    return strcmp(id ? id : "", best_id ? best_id : "") < 0;
}

size_t routing_decide(const struct rt_queue *q, const struct rt_task *tasks, size_t ntasks,
                      struct rt_agent *agents, size_t nagents, long long now,
                      struct rt_offer *out, size_t max)
{
    if (!q || !tasks || !agents || !out || max == 0 || nagents == 0)
        return 0;
    const struct strategy_ops *st = q->strategy ? q->strategy : &strategy_longest_idle;

    /* Agents still open for an offer: an offer takes one out (one offer
     * at a time), so once none is left the rest of the line can wait. */
    size_t nopen = 0;
    for (size_t i = 0; i < nagents; i++)
        nopen += open_for_offers(&agents[i]);

    size_t n = 0;
    for (size_t ti = 0; ti < ntasks && n < max && nopen > 0; ti++) {
        const struct rt_task *t = &tasks[ti];
        size_t best = 0;
        double best_rank = INFINITY;
        bool found = false;
        for (size_t i = 0; i < nagents; i++) {
            const struct rt_agent *a = &agents[i];
            if (!routing_eligible(q, t, a))
                continue;
            double r = st->rank(q, t, a, now);
            if (isnan(r))
                r = INFINITY;
            if (!found || better(r, a->id, best_rank, agents[best].id)) {
                found = true;
                best = i;
                best_rank = r;
            }
        }
        if (!found)
            continue;   /* nobody can take it now: the tasks behind it may */
        struct rt_agent *a = &agents[best];
        a->load[t->channel]++;
        a->offers++;
        a->last_offer = now;
        out[n].task = ti;
        out[n].agent = best;
        n++;
        nopen--;
    }
    return n;
}
