/* route_agents.c -- the router's copy of the ready agents.
 *
 * A routing pass used to read every ready agent's hash (route_snapshot.lua),
 * about a thousand while it decided on two hundred. The router now keeps
 * what it read, and each snapshot brings only the agents changed since the
 * version of the change log the copy is at (store/KEYS.md: the scripts that
 * change an agent log it in the step that changes it): the changed agents
 * still ready replace their old copy, the others leave it.
 *
 * The copy is read in full again (version 0 is passed) when there is none,
 * after a reconnection (Redis may be another one, or one that went back),
 * when a snapshot said it was not complete (more agents ready than one pass
 * reads), when the count of agents it holds differs from the ready set's
 * (something changed the set without logging it: `ctxctl agent add`), and
 * every FULL_EVERY_MS anyway. A stale copy is never unsafe: offer.lua
 * re-checks every pair, so it can only cost a pair skipped or an agent
 * offered nothing until the next full read.
 *
 * An entry owns its id and the JSON its skills and languages point into;
 * struct rt_agent points into them, so the agents handed to a decision
 * stay valid until the next route_agents_apply(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "core/log.h"
#include "core/mem.h"
#include "ctxd/route_internal.h"

#define FULL_EVERY_MS 5000      /* a full read at least this often */

struct entry {
    struct rt_agent a;          /* a.id is id */
    char *id;
    json_t *skills, *langs;
};

struct route_agents {
    struct entry *e;
    size_t n, cap;
    json_t *index;              /* id -> its place in e, as an integer */
    long long version;          /* of the change log; 0: no copy */
    bool complete;              /* every ready agent was read, then every change */
    long long full_at;          /* ms, when it was read in full last */
    size_t turn;                /* where the next decision's agents start, when too many */
};

struct route_agents *route_agents_new(void)
{
    struct route_agents *c = ctx_calloc(1, sizeof *c);
    c->index = json_object();
    return c;
}

static void entry_clear(struct entry *e)
{
    free(e->id);
    json_decref(e->skills);
    json_decref(e->langs);
}

static void drop_all(struct route_agents *c)
{
    for (size_t i = 0; i < c->n; i++)
        entry_clear(&c->e[i]);
    c->n = 0;
    json_object_clear(c->index);
}

void route_agents_free(struct route_agents *c)
{
    if (!c)
        return;
    drop_all(c);
    free(c->e);
    json_decref(c->index);
    free(c);
}

void route_agents_forget(struct route_agents *c)
{
    c->complete = false;
    c->version = 0;
}

long long route_agents_since(const struct route_agents *c, long long now)
{
    return c->complete && now - c->full_at < FULL_EVERY_MS ? c->version : 0;
}

static void drop(struct route_agents *c, const char *id)
{
    json_t *at = json_object_get(c->index, id);
    if (!at)
        return;
    size_t i = (size_t)json_integer_value(at);
    json_object_del(c->index, id);
    entry_clear(&c->e[i]);
    if (i != --c->n) {
        c->e[i] = c->e[c->n];
        c->e[i].a.id = c->e[i].id;
        json_integer_set(json_object_get(c->index, c->e[i].id), (json_int_t)i);
    }
}

/* What route_snapshot.lua gives of an agent, in its order (AGENT_FIELDS). */
enum {
    F_ID, F_STATE, F_OFFERS, F_CAP_SOCIAL, F_LOAD_SOCIAL, F_CAP_CHAT, F_LOAD_CHAT,
    F_CAP_CALLBACK, F_LOAD_CALLBACK, F_CALLBACK_BLOCKS_CHAT, F_IDLE_SINCE, F_LAST_OFFER,
    F_HANDLED, F_SKILLS, F_LANGS, F_COUNT
};

size_t route_fields(const redisReply *s, const char **f, size_t n)
{
    if (s->type != REDIS_REPLY_STRING)
        return 0;
    const char *p = s->str, *end = s->str + s->len;
    size_t i = 0;
    while (i < n) {
        f[i++] = p;
        p += strlen(p) + 1;     /* the reply ends with a NUL of hiredis' */
        if (p > end)
            break;
    }
    return p > end ? i : 0;
}

static const char *field(const char *const *v, int f)
{
    return *v[f] ? v[f] : NULL;
}

static long long num(const char *const *v, int f)
{
    return atoll(v[f]);
}

/* One agent as route_snapshot.lua gives it. Skills and languages are
 * stored as JSON: {"billing":80} and ["en","ru"]. */
static void entry_from_fields(const char *const *v, struct entry *e)
{
    static const int cap[CH_COUNT] = {[CH_SOCIAL] = F_CAP_SOCIAL, [CH_CHAT] = F_CAP_CHAT,
                                      [CH_CALLBACK] = F_CAP_CALLBACK};
    static const int load[CH_COUNT] = {[CH_SOCIAL] = F_LOAD_SOCIAL, [CH_CHAT] = F_LOAD_CHAT,
                                       [CH_CALLBACK] = F_LOAD_CALLBACK};
    memset(e, 0, sizeof *e);
    struct rt_agent *a = &e->a;
    e->id = ctx_strdup(field(v, F_ID));
    a->id = e->id;
    a->state = AG_AVAILABLE;    /* the snapshot gives available agents only */
    for (int c = 0; c < CH_COUNT; c++) {
        a->capacity[c] = (int)num(v, cap[c]);
        a->load[c] = (int)num(v, load[c]);
    }
    a->callback_blocks_chat = num(v, F_CALLBACK_BLOCKS_CHAT) != 0;
    a->offers = (int)num(v, F_OFFERS);
    a->idle_since = num(v, F_IDLE_SINCE);
    a->last_offer = num(v, F_LAST_OFFER);
    a->handled = num(v, F_HANDLED);
    const char *sk = field(v, F_SKILLS), *lg = field(v, F_LANGS);
    e->skills = sk ? json_loads(sk, 0, NULL) : NULL;
    e->langs = lg ? json_loads(lg, 0, NULL) : NULL;
    const char *k;
    json_t *j;
    json_object_foreach(e->skills, k, j) {
        if (a->nskills == RT_MAX_SKILLS)
            break;
        a->skills[a->nskills].name = k;
        a->skills[a->nskills++].level = (int)json_integer_value(j);
    }
    size_t i;
    json_array_foreach(e->langs, i, j) {
        if (a->nlangs < RT_MAX_LANGS && json_is_string(j))
            a->langs[a->nlangs++] = json_string_value(j);
    }
}

static void put(struct route_agents *c, const redisReply *s)
{
    const char *v[F_COUNT];
    if (route_fields(s, v, F_COUNT) != F_COUNT || !field(v, F_ID))
        return;
    drop(c, field(v, F_ID));
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 256;
        c->e = ctx_realloc(c->e, c->cap * sizeof *c->e);
    }
    entry_from_fields(v, &c->e[c->n]);
    json_object_set_new(c->index, c->e[c->n].id, json_integer((json_int_t)c->n));
    c->n++;
}

static long long reply_int(const redisReply *r)
{
    return r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
}

bool route_agents_apply(struct route_agents *c, const redisReply *snap, long long now)
{
    if (snap->type != REDIS_REPLY_ARRAY || snap->elements != 6 ||
        snap->element[1]->type != REDIS_REPLY_ARRAY ||
        snap->element[2]->type != REDIS_REPLY_ARRAY) {
        route_agents_forget(c);
        return false;
    }
    const redisReply *agents = snap->element[1], *gone = snap->element[2];
    long long full = reply_int(snap->element[4]);
    if (full) {
        drop_all(c);
        c->complete = full == 1;
        c->full_at = now;
    }
    for (size_t i = 0; i < gone->elements; i++)
        if (gone->element[i]->str)
            drop(c, gone->element[i]->str);
    for (size_t i = 0; i < agents->elements; i++)
        put(c, agents->element[i]);
    c->version = reply_int(snap->element[3]);
    long long ready = reply_int(snap->element[5]);
    if (c->complete && (long long)c->n != ready) {
        /* the set changed without a word in the log: read it all next time */
        log_debug("route: %zu agents copied, %lld ready: reading them all again", c->n, ready);
        c->complete = false;
    }
    return true;
}

size_t route_agents_copy(struct route_agents *c, struct rt_agent *out, size_t most)
{
    if (c->n <= most) {
        for (size_t i = 0; i < c->n; i++)
            out[i] = c->e[i].a;
        return c->n;
    }
    /* more than one decision looks at: a different part of them each time */
    size_t start = c->turn++ * most % c->n;
    for (size_t i = 0; i < most; i++)
        out[i] = c->e[(start + i) % c->n].a;
    return most;
}
