/* cases.h -- the case files of the routing tests (the .cases files of tests/data/routing)
 * and a reader for their plain tables. Header-only: each test program is one
 * .c file linked against libctx.a.
 *
 * A .cases file describes small routing situations and what must come of
 * them, one directive a line; '#' starts a comment (at the start of a line
 * or after a blank). Words are separated by blanks; lists by commas;
 * a skill is name:level, a capacity or load channel:count.
 *
 *   case TITLE...                     a new situation (everything resets)
 *   queue KEY=VALUE...                strategy= skills= lang= aging=(s)
 *   agent ID KEY=VALUE...             state= skills= langs= cap= load= offers=
 *                                     cbchat=yes|no idle= last= handled=
 *                                     (defaults: available, cap=social:1,chat:1,
 *                                     callback:1, everything else 0 or none)
 *   task ID KEY=VALUE...              chan= prio= enq=(ms) lang= need= refused=
 *                                     (defaults: chat, priority 0, enqueued 0)
 *   now MS                            the clock for ranks and offers (default 0)
 *   max N                             offers at most (default: as many as tasks)
 *
 *   expect-eligible TASK ID...|-      exactly these agents may take TASK
 *   expect-rank TASK ID...|-          the eligible agents, best first, by the
 *                                     strategy's rank then id; routing_decide()
 *                                     given TASK alone must pick the first
 *   expect-order TASK...              all tasks in queue order (routing_order,
 *                                     ties in the order they were declared)
 *   expect-offers TASK:AGENT...|-     routing_decide() on all tasks in queue
 *                                     order; applied to a copy of the agents
 *   expect-agent ID KEY=VALUE...      that copy after the last expect-offers
 *                                     (load= offers= last=)
 *
 * Every expect-offers also checks the invariants of a decision: each offer
 * went to an agent eligible at that point, no capacity is exceeded, no
 * agent holds two offers, no task is offered twice, at most max offers. */
#ifndef CTX_TESTS_ROUTING_CASES_H
#define CTX_TESTS_ROUTING_CASES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "routing/routing.h"

#define CS_MAX_AGENTS 64
#define CS_MAX_TASKS 64
#define CS_MAX_REFUSED 16
#define CS_MAX_WORDS 80

struct cs {
    const char *file;
    int line;
    char title[200];
    struct rt_queue q;
    struct rt_agent agents[CS_MAX_AGENTS], after[CS_MAX_AGENTS];
    struct rt_task tasks[CS_MAX_TASKS];
    const char *refused[CS_MAX_TASKS][CS_MAX_REFUSED];
    int nagents, ntasks;
    long long now;
    long long max;              /* -1: as many as tasks */
    bool decided;
    char **strs;                /* strdup'd strings the structs point to */
    size_t nstrs, capstrs;
    int failures, checks, cases;
};

static inline void cs_fail(struct cs *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_error("%s:%d: [%s] %s\n", c->file, c->line, c->title, msg);
    c->failures++;
}

static inline const char *cs_str(struct cs *c, const char *s, size_t n)
{
    if (c->nstrs == c->capstrs) {
        c->capstrs = c->capstrs ? c->capstrs * 2 : 64;
        c->strs = realloc(c->strs, c->capstrs * sizeof *c->strs);
        if (!c->strs)
            exit(2);
    }
    char *d = strndup(s, n);
    if (!d)
        exit(2);
    return c->strs[c->nstrs++] = d;
}

static inline void cs_reset(struct cs *c, const char *title)
{
    for (size_t i = 0; i < c->nstrs; i++)
        free(c->strs[i]);
    c->nstrs = 0;
    memset(&c->q, 0, sizeof c->q);
    c->q.name = "test";
    c->q.strategy = &strategy_longest_idle;
    memset(c->agents, 0, sizeof c->agents);
    memset(c->after, 0, sizeof c->after);
    memset(c->tasks, 0, sizeof c->tasks);
    c->nagents = c->ntasks = 0;
    c->now = 0;
    c->max = -1;
    c->decided = false;
    snprintf(c->title, sizeof c->title, "%s", title);
}

static inline bool cs_int(const char *s, long long *out)
{
    char *end;
    if (!*s)
        return false;
    *out = strtoll(s, &end, 10);
    return *end == '\0';
}

/* "a:1,b:2" into skills; a missing level is an error. */
static inline bool cs_skills(struct cs *c, const char *v, struct rt_skill *out, int *n)
{
    *n = 0;
    while (*v) {
        const char *comma = strchr(v, ',');
        size_t len = comma ? (size_t)(comma - v) : strlen(v);
        const char *colon = memchr(v, ':', len);
        long long lvl;
        char num[32];
        if (!colon || *n >= RT_MAX_SKILLS || (size_t)(v + len - colon) >= sizeof num)
            return false;
        snprintf(num, sizeof num, "%.*s", (int)(v + len - colon - 1), colon + 1);
        if (!cs_int(num, &lvl))
            return false;
        out[*n].name = cs_str(c, v, (size_t)(colon - v));
        out[*n].level = (int)lvl;
        (*n)++;
        v += len + (comma ? 1 : 0);
    }
    return true;
}

/* "a,b,c" into up to max strings. */
static inline bool cs_list(struct cs *c, const char *v, const char **out, int *n, int max)
{
    *n = 0;
    while (*v) {
        const char *comma = strchr(v, ',');
        size_t len = comma ? (size_t)(comma - v) : strlen(v);
        if (*n >= max)
            return false;
        out[(*n)++] = cs_str(c, v, len);
        v += len + (comma ? 1 : 0);
    }
    return true;
}

/* "chat:3,social:5" into a per-channel array (unnamed channels untouched). */
static inline bool cs_per_channel(const char *v, int *out)
{
    while (*v) {
        const char *comma = strchr(v, ',');
        size_t len = comma ? (size_t)(comma - v) : strlen(v);
        char item[64], *colon;
        enum channel ch;
        long long x;
        if (len >= sizeof item)
            return false;
        memcpy(item, v, len);
        item[len] = '\0';
        if (!(colon = strchr(item, ':')))
            return false;
        *colon = '\0';
        if (channel_parse(item, &ch) != 0 || !cs_int(colon + 1, &x))
            return false;
        out[ch] = (int)x;
        v += len + (comma ? 1 : 0);
    }
    return true;
}

static inline int cs_agent_index(const struct cs *c, const char *id)
{
    for (int i = 0; i < c->nagents; i++)
        if (strcmp(c->agents[i].id, id) == 0)
            return i;
    return -1;
}

static inline int cs_task_index(const struct cs *c, const char *id)
{
    for (int i = 0; i < c->ntasks; i++)
        if (strcmp(c->tasks[i].id, id) == 0)
            return i;
    return -1;
}

static inline bool cs_state(const char *v, enum rt_agent_state *out)
{
    for (int s = AG_OFFLINE; s <= AG_WRAPUP; s++)
        if (strcmp(v, agent_state_name((enum rt_agent_state)s)) == 0) {
            *out = (enum rt_agent_state)s;
            return true;
        }
    return false;
}

static inline void cs_queue(struct cs *c, char **w, int nw)
{
    for (int i = 1; i < nw; i++) {
        char *eq = strchr(w[i], '=');
        bool ok = eq != NULL;
        if (ok) {
            *eq = '\0';
            const char *k = w[i], *v = eq + 1;
            if (strcmp(k, "strategy") == 0)
                ok = (c->q.strategy = strategy_find(v)) != NULL;
            else if (strcmp(k, "skills") == 0)
                ok = cs_skills(c, v, c->q.skills, &c->q.nskills);
            else if (strcmp(k, "lang") == 0)
                c->q.lang = cs_str(c, v, strlen(v));
            else if (strcmp(k, "aging") == 0)
                c->q.aging = strtod(v, NULL);
            else
                ok = false;
        }
        if (!ok)
            cs_fail(c, "queue: bad %s", w[i]);
    }
}

static inline void cs_agent(struct cs *c, char **w, int nw)
{
    if (nw < 2 || c->nagents >= CS_MAX_AGENTS) {
        cs_fail(c, "agent: no id, or too many agents");
        return;
    }
    struct rt_agent *a = &c->agents[c->nagents++];
    a->id = cs_str(c, w[1], strlen(w[1]));
    a->state = AG_AVAILABLE;
    for (int ch = 0; ch < CH_COUNT; ch++)
        a->capacity[ch] = 1;
    for (int i = 2; i < nw; i++) {
        char *eq = strchr(w[i], '=');
        bool ok = eq != NULL;
        long long x = 0;
        if (ok) {
            *eq = '\0';
            const char *k = w[i], *v = eq + 1;
            if (strcmp(k, "state") == 0)
                ok = cs_state(v, &a->state);
            else if (strcmp(k, "skills") == 0)
                ok = cs_skills(c, v, a->skills, &a->nskills);
            else if (strcmp(k, "langs") == 0)
                ok = cs_list(c, v, a->langs, &a->nlangs, RT_MAX_LANGS);
            else if (strcmp(k, "cap") == 0) {
                memset(a->capacity, 0, sizeof a->capacity);
                ok = cs_per_channel(v, a->capacity);
            } else if (strcmp(k, "load") == 0)
                ok = cs_per_channel(v, a->load);
            else if (strcmp(k, "cbchat") == 0)
                a->callback_blocks_chat = strcmp(v, "yes") == 0;
            else if ((ok = cs_int(v, &x))) {
                if (strcmp(k, "offers") == 0)
                    a->offers = (int)x;
                else if (strcmp(k, "idle") == 0)
                    a->idle_since = x;
                else if (strcmp(k, "last") == 0)
                    a->last_offer = x;
                else if (strcmp(k, "handled") == 0)
                    a->handled = x;
                else
                    ok = false;
            }
        }
        if (!ok)
            cs_fail(c, "agent %s: bad %s", a->id, w[i]);
    }
}

static inline void cs_task(struct cs *c, char **w, int nw)
{
    if (nw < 2 || c->ntasks >= CS_MAX_TASKS) {
        cs_fail(c, "task: no id, or too many tasks");
        return;
    }
    int ti = c->ntasks++;
    struct rt_task *t = &c->tasks[ti];
    t->id = cs_str(c, w[1], strlen(w[1]));
    t->channel = CH_CHAT;
    for (int i = 2; i < nw; i++) {
        char *eq = strchr(w[i], '=');
        bool ok = eq != NULL;
        long long x = 0;
        if (ok) {
            *eq = '\0';
            const char *k = w[i], *v = eq + 1;
            if (strcmp(k, "chan") == 0)
                ok = channel_parse(v, &t->channel) == 0;
            else if (strcmp(k, "prio") == 0) {
                ok = cs_int(v, &x);
                t->priority = (int)x;
            } else if (strcmp(k, "enq") == 0) {
                ok = cs_int(v, &x);
                t->enqueued = x;
            } else if (strcmp(k, "lang") == 0)
                t->lang = cs_str(c, v, strlen(v));
            else if (strcmp(k, "need") == 0)
                ok = cs_skills(c, v, t->need, &t->nneed);
            else if (strcmp(k, "refused") == 0) {
                ok = cs_list(c, v, c->refused[ti], &t->nrefused, CS_MAX_REFUSED);
                t->refused = c->refused[ti];
            } else
                ok = false;
        }
        if (!ok)
            cs_fail(c, "task %s: bad %s", t->id, w[i]);
    }
}

/* Task indices in queue order: routing_order, then declaration order. */
static inline void cs_queue_order(const struct cs *c, int *idx)
{
    for (int i = 0; i < c->ntasks; i++)
        idx[i] = i;
    for (int i = 1; i < c->ntasks; i++) {       /* insertion sort: stable */
        int x = idx[i], j = i;
        double ox = routing_order(&c->q, &c->tasks[x]);
        while (j > 0 && routing_order(&c->q, &c->tasks[idx[j - 1]]) > ox) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = x;
    }
}

/* "got" as a space-separated list for messages. */
static inline void cs_join(char *buf, size_t cap, const char *const *names, int n)
{
    size_t o = 0;
    buf[0] = '\0';
    if (n == 0)
        snprintf(buf, cap, "-");
    for (int i = 0; i < n && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? " " : "", names[i]);
}

static inline void cs_expect_list(struct cs *c, const char *what, char **want, int nwant,
                           const char *const *got, int ngot)
{
    bool same = nwant == ngot;
    if (nwant == 1 && strcmp(want[0], "-") == 0)
        same = ngot == 0;
    for (int i = 0; same && i < ngot; i++)
        same = strcmp(want[i], got[i]) == 0;
    c->checks++;
    if (!same) {
        char g[1024], w[1024];
        cs_join(g, sizeof g, got, ngot);
        cs_join(w, sizeof w, (const char *const *)want, nwant);
        cs_fail(c, "%s: want %s, got %s", what, w, g);
    }
}

static inline void cs_expect_eligible(struct cs *c, char **w, int nw)
{
    int ti = nw > 1 ? cs_task_index(c, w[1]) : -1;
    if (ti < 0 || nw < 3) {
        cs_fail(c, "expect-eligible: unknown task or no list");
        return;
    }
    const char *got[CS_MAX_AGENTS];
    int n = 0;
    for (int i = 0; i < c->nagents; i++)
        if (routing_eligible(&c->q, &c->tasks[ti], &c->agents[i]))
            got[n++] = c->agents[i].id;
    cs_expect_list(c, "eligible", w + 2, nw - 2, got, n);
}

static inline void cs_expect_rank(struct cs *c, char **w, int nw)
{
    int ti = nw > 1 ? cs_task_index(c, w[1]) : -1;
    if (ti < 0 || nw < 3) {
        cs_fail(c, "expect-rank: unknown task or no list");
        return;
    }
    const struct rt_task *t = &c->tasks[ti];
    int idx[CS_MAX_AGENTS], n = 0;
    double r[CS_MAX_AGENTS];
    for (int i = 0; i < c->nagents; i++)
        if (routing_eligible(&c->q, t, &c->agents[i])) {
            r[n] = c->q.strategy->rank(&c->q, t, &c->agents[i], c->now);
            idx[n++] = i;
        }
    for (int i = 1; i < n; i++) {
        int x = idx[i], j = i;
        double rx = r[i];
        while (j > 0 && (r[j - 1] > rx || (r[j - 1] == rx &&
                                             strcmp(c->agents[idx[j - 1]].id,
                                                    c->agents[x].id) > 0))) {
            idx[j] = idx[j - 1];
            r[j] = r[j - 1];
            j--;
        }
        idx[j] = x;
        r[j] = rx;
    }
    const char *got[CS_MAX_AGENTS];
    for (int i = 0; i < n; i++)
        got[i] = c->agents[idx[i]].id;
    cs_expect_list(c, "rank", w + 2, nw - 2, got, n);

    /* the decision for this task alone agrees with the ranking */
    struct rt_agent copy[CS_MAX_AGENTS];
    struct rt_offer o[1];
    memcpy(copy, c->agents, sizeof copy);
    size_t k = routing_decide(&c->q, t, 1, copy, (size_t)c->nagents, c->now, o, 1);
    c->checks++;
    if (k != (n > 0 ? 1u : 0u) || (k == 1 && (int)o[0].agent != idx[0]))
        cs_fail(c, "routing_decide on %s alone chose %s, rank says %s", t->id,
                k ? c->agents[o[0].agent].id : "nobody", n ? got[0] : "nobody");
}

static inline void cs_expect_order(struct cs *c, char **w, int nw)
{
    int idx[CS_MAX_TASKS];
    const char *got[CS_MAX_TASKS];
    cs_queue_order(c, idx);
    for (int i = 0; i < c->ntasks; i++)
        got[i] = c->tasks[idx[i]].id;
    cs_expect_list(c, "order", w + 1, nw - 1, got, c->ntasks);
}

static inline bool cs_channel_ok(const struct rt_agent *a)
{
    for (int ch = 0; ch < CH_COUNT; ch++)
        if (a->load[ch] > a->capacity[ch] && a->load[ch] > 0)
            return false;
    return true;
}

static inline void cs_expect_offers(struct cs *c, char **w, int nw)
{
    int idx[CS_MAX_TASKS];
    struct rt_task ordered[CS_MAX_TASKS];
    struct rt_offer o[CS_MAX_TASKS + 1];
    cs_queue_order(c, idx);
    for (int i = 0; i < c->ntasks; i++)
        ordered[i] = c->tasks[idx[i]];
    memcpy(c->after, c->agents, sizeof c->after);
    size_t max = c->max < 0 ? (size_t)c->ntasks : (size_t)c->max;
    if (max > CS_MAX_TASKS)
        max = CS_MAX_TASKS;
    size_t k = routing_decide(&c->q, ordered, (size_t)c->ntasks, c->after,
                              (size_t)c->nagents, c->now, o, max);
    c->decided = true;

    /* invariants: replay the offers on a fresh copy */
    struct rt_agent replay[CS_MAX_AGENTS];
    bool taken[CS_MAX_TASKS] = {0};
    memcpy(replay, c->agents, sizeof replay);
    c->checks++;
    if (k > max)
        cs_fail(c, "%zu offers, max %zu", k, max);
    for (size_t i = 0; i < k; i++) {
        const struct rt_task *t = &ordered[o[i].task];
        struct rt_agent *a = &replay[o[i].agent];
        if (o[i].task >= (size_t)c->ntasks || o[i].agent >= (size_t)c->nagents) {
            cs_fail(c, "offer %zu out of range", i);
            continue;
        }
        if (taken[o[i].task])
            cs_fail(c, "task %s offered twice", t->id);
        taken[o[i].task] = true;
        if (i > 0 && o[i].task <= o[i - 1].task)
            cs_fail(c, "offers not in queue order");
        if (!routing_eligible(&c->q, t, a))
            cs_fail(c, "%s offered to %s, who could not take it", t->id, a->id);
        a->load[t->channel]++;
        a->offers++;
        a->last_offer = c->now;
        if (a->offers > 1 || !cs_channel_ok(a))
            cs_fail(c, "%s over capacity or with two offers", a->id);
    }
    if (k <= max && memcmp(replay, c->after, sizeof replay) != 0)
        cs_fail(c, "the agents routing_decide() returned differ from its offers applied");

    char names[CS_MAX_TASKS][128];
    const char *got[CS_MAX_TASKS];
    for (size_t i = 0; i < k && i < CS_MAX_TASKS; i++) {
        snprintf(names[i], sizeof names[i], "%s:%s", ordered[o[i].task].id,
                 c->agents[o[i].agent].id);
        got[i] = names[i];
    }
    cs_expect_list(c, "offers", w + 1, nw - 1, got, (int)(k < CS_MAX_TASKS ? k : CS_MAX_TASKS));
}

static inline void cs_expect_agent(struct cs *c, char **w, int nw)
{
    int ai = nw > 1 ? cs_agent_index(c, w[1]) : -1;
    if (ai < 0 || !c->decided) {
        cs_fail(c, "expect-agent: unknown agent or no expect-offers before");
        return;
    }
    const struct rt_agent *a = &c->after[ai];
    for (int i = 2; i < nw; i++) {
        char *eq = strchr(w[i], '=');
        long long x;
        c->checks++;
        if (!eq) {
            cs_fail(c, "expect-agent: bad %s", w[i]);
            continue;
        }
        *eq = '\0';
        const char *k = w[i], *v = eq + 1;
        if (strcmp(k, "load") == 0) {
            int want[CH_COUNT] = {0};
            if (!cs_per_channel(v, want))
                cs_fail(c, "expect-agent: bad load %s", v);
            else if (memcmp(want, a->load, sizeof want) != 0)
                cs_fail(c, "%s: load social:%d,chat:%d,callback:%d, want %s", a->id,
                        a->load[CH_SOCIAL], a->load[CH_CHAT], a->load[CH_CALLBACK], v);
        } else if (strcmp(k, "offers") == 0 && cs_int(v, &x)) {
            if (a->offers != x)
                cs_fail(c, "%s: offers %d, want %lld", a->id, a->offers, x);
        } else if (strcmp(k, "last") == 0 && cs_int(v, &x)) {
            if (a->last_offer != x)
                cs_fail(c, "%s: last_offer %lld, want %lld", a->id, a->last_offer, x);
        } else {
            cs_fail(c, "expect-agent: bad %s=%s", k, v);
        }
    }
}

/* Split a line into blank-separated words, dropping a '#' comment. */
static inline int cs_words(char *s, char **w, int max)
{
    int n = 0;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s || *s == '#')
            break;
        if (n == max)
            return -1;
        w[n++] = s;
        while (*s && *s != ' ' && *s != '\t')
            s++;
        if (*s)
            *s++ = '\0';
    }
    return n;
}

/* Run every case of a .cases file; returns the number of failures (a file
 * that cannot be read exits the program: a broken test, not a failed case). */
static inline int cs_run_file(const char *path, int *ncases, int *nchecks)
{
    struct cs *c = calloc(1, sizeof *c);
    FILE *f = fopen(path, "r");
    if (!c || !f) {
        perror(path);
        exit(2);
    }
    c->file = path;
    cs_reset(c, "(before the first case)");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        c->line++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        char *w[CS_MAX_WORDS];
        if (strncmp(line, "case ", 5) == 0) {
            cs_reset(c, line + 5);
            c->cases++;
            continue;
        }
        int nw = cs_words(line, w, CS_MAX_WORDS);
        long long x;
        if (nw == 0)
            continue;
        if (nw < 0)
            cs_fail(c, "too many words");
        else if (strcmp(w[0], "queue") == 0)
            cs_queue(c, w, nw);
        else if (strcmp(w[0], "agent") == 0)
            cs_agent(c, w, nw);
        else if (strcmp(w[0], "task") == 0)
            cs_task(c, w, nw);
        else if (strcmp(w[0], "now") == 0 && nw == 2 && cs_int(w[1], &x))
            c->now = x;
        else if (strcmp(w[0], "max") == 0 && nw == 2 && cs_int(w[1], &x) && x >= 0)
            c->max = x;
        else if (strcmp(w[0], "expect-eligible") == 0)
            cs_expect_eligible(c, w, nw);
        else if (strcmp(w[0], "expect-rank") == 0)
            cs_expect_rank(c, w, nw);
        else if (strcmp(w[0], "expect-order") == 0)
            cs_expect_order(c, w, nw);
        else if (strcmp(w[0], "expect-offers") == 0)
            cs_expect_offers(c, w, nw);
        else if (strcmp(w[0], "expect-agent") == 0)
            cs_expect_agent(c, w, nw);
        else
            cs_fail(c, "unknown directive %s", w[0]);
    }
    free(line);
    fclose(f);
    cs_reset(c, "");
    free(c->strs);
    int failures = c->failures;
    if (ncases)
        *ncases = c->cases;
    if (nchecks)
        *nchecks = c->checks;
    free(c);
    return failures;
}

/* ---- plain tables (erlang.tsv, sim.tsv) --------------------------------- */

/* The next non-comment line of f split into up to max blank- or
 * tab-separated words; returns the count, 0 at the end of the file. `line`
 * and `cap` are getline's buffer; *lineno counts lines. */
static inline int cs_table_row(FILE *f, char **line, size_t *cap, int *lineno, char **w, int max)
{
    ssize_t len;
    while ((len = getline(line, cap, f)) >= 0) {
        (*lineno)++;
        while (len && ((*line)[len - 1] == '\n' || (*line)[len - 1] == '\r'))
            (*line)[--len] = '\0';
        int n = cs_words(*line, w, max);
        if (n != 0)
            return n;
    }
    return 0;
}

#endif
