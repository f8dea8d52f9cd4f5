/* routing_internal.h -- helpers shared by the routing core's pure files
 * (strategy.c, decide.c, sim.c). Not part of the module's interface: the
 * route role and the tests use routing.h only. */
#ifndef CTX_ROUTING_INTERNAL_H
#define CTX_ROUTING_INTERNAL_H

#include <string.h>
#include "routing/routing.h"

/* Counts as given, clamped to the arrays they index (a snapshot read from
 * Redis is data, not a promise). */
static inline int rt_clampn(int n, int max)
{
    return n < 0 ? 0 : n > max ? max : n;
}

/* The agent's entry for skill `name`, NULL when it has none. Skill names
 * compare exactly (they are config keys, like queue names). */
static inline const struct rt_skill *rt_agent_skill(const struct rt_agent *a, const char *name)
{
    int n = rt_clampn(a->nskills, RT_MAX_SKILLS);
    if (!name)
        return NULL;
    for (int i = 0; i < n; i++)
        if (a->skills[i].name && strcmp(a->skills[i].name, name) == 0)
            return &a->skills[i];
    return NULL;
}

/* Tasks the agent holds now (offered or assigned), all channels. */
static inline long long rt_total_load(const struct rt_agent *a)
{
    long long s = 0;
    for (int c = 0; c < CH_COUNT; c++)
        s += a->load[c] > 0 ? a->load[c] : 0;
    return s;
}

/* Strict priority without aging: one priority level is worth this many
 * milliseconds of waiting (2^40 ms, about 34.8 years), far more than the
 * spread of enqueue times within one queue, so priority always dominates
 * and arrival order only breaks ties. Priorities are clamped to
 * +-RT_PRIORITY_MAX so that every order stays an exact integer in a double
 * (|order| < 2^53 for epoch-millisecond enqueue times). */
#define RT_STRICT_MS 1099511627776.0
#define RT_PRIORITY_MAX 4095

#endif
