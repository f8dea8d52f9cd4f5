/* sim.c -- the routing core checked against queueing theory: a discrete-event
 * simulation of one queue, one channel and N agents that runs the real
 * routing logic on a virtual clock.
 *
 * Events (an arrival, an agent finishing a task) sit in a binary min-heap
 * ordered by time, then by the order they were scheduled, so a run is a
 * pure function of its parameters and seed. Arrivals are Poisson
 * (exponential gaps), handling times exponential, both drawn by inverse
 * transform from our own xoshiro256** seeded through splitmix64 -- no libc
 * rand(), so results are the same on every machine.
 *
 * Nothing about routing is re-implemented here: waiting tasks are kept in
 * routing_order(), and at every arrival and every completion (with a task
 * waiting) the simulator calls routing_decide() on the waiting tasks and the
 * agents, exactly as the route role does on a snapshot. Offers are accepted at once (zero think
 * time, so the model is M/M/n and Erlang C applies). The first tenth of the
 * arrivals is a warm-up: their waits are not counted and occupancy is
 * measured from the first counted arrival to the last arrival.
 *
 * Times are seconds (doubles) inside; routing sees milliseconds, as in the
 * daemon. Waits are measured on the exact double clock. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/mem.h"
#include "routing/routing.h"
#include "routing/routing_internal.h"

#define SIM_MAX_AGENTS 100000
#define SIM_CHANNEL CH_CHAT

/* ---- random numbers ---------------------------------------------------- */

struct rng {
    uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)   /* xoshiro256** */
{
    uint64_t *s = r->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Exponential with the given rate: -ln(1 - U) / rate, U uniform in [0, 1)
 * on 53 bits, so 1 - U is in (0, 1] and the log is finite. */
static double rng_exp(struct rng *r, double rate)
{
    double u = (double)(rng_next(r) >> 11) * 0x1.0p-53;
    return -log1p(-u) / rate;
}

/* ---- the event heap ----------------------------------------------------- */

enum { EV_ARRIVAL, EV_DONE };

struct event {
    double t;
    long long seq;      /* scheduling order: equal times pop first-in first-out */
    int kind;
    int agent;          /* EV_DONE */
};

struct heap {
    struct event *e;
    size_t n, cap;
};

static bool ev_less(const struct event *a, const struct event *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

/* The heap never holds more than one arrival and one completion per agent,
 * so it is sized once and push cannot fail. */
static void heap_push(struct heap *h, struct event ev)
{
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!ev_less(&ev, &h->e[parent]))
            break;
        h->e[i] = h->e[parent];
        i = parent;
    }
    h->e[i] = ev;
}

static struct event heap_pop(struct heap *h)
{
    struct event top = h->e[0], last = h->e[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && ev_less(&h->e[c + 1], &h->e[c]))
            c++;
        if (!ev_less(&h->e[c], &last))
            break;
        h->e[i] = h->e[c];
        i = c;
    }
    if (h->n > 0)
        h->e[i] = last;
    return top;
}

/* ---- the line of waiting tasks ------------------------------------------ */

/* Waiting tasks in routing_order, as routing_decide() wants them, with what
 * the simulator needs alongside: exact arrival time and arrival number.
 * The live part is [head, head + n) of each array, so taking tasks off the
 * front (the usual case) moves nothing. */
struct line {
    struct rt_task *task;
    double *order, *arrived;
    long long *index;
    size_t head, n, cap;
};

static void line_free(struct line *l)
{
    free(l->task);
    free(l->order);
    free(l->arrived);
    free(l->index);
    memset(l, 0, sizeof *l);
}

/* Room for one more at the back: slide the live part down if the front has
 * room, else grow. */
static void line_reserve(struct line *l)
{
    if (l->head + l->n < l->cap)
        return;
    if (l->head > 0) {
        memmove(l->task, l->task + l->head, l->n * sizeof *l->task);
        memmove(l->order, l->order + l->head, l->n * sizeof *l->order);
        memmove(l->arrived, l->arrived + l->head, l->n * sizeof *l->arrived);
        memmove(l->index, l->index + l->head, l->n * sizeof *l->index);
        l->head = 0;
        if (l->n < l->cap)
            return;
    }
    size_t cap = l->cap ? l->cap * 2 : 256;
    l->task = ctx_realloc(l->task, cap * sizeof *l->task);
    l->order = ctx_realloc(l->order, cap * sizeof *l->order);
    l->arrived = ctx_realloc(l->arrived, cap * sizeof *l->arrived);
    l->index = ctx_realloc(l->index, cap * sizeof *l->index);
    l->cap = cap;
}

/* Insert in routing_order, after any task with the same order (first come
 * first served among equals). */
static void line_insert(struct line *l, const struct rt_queue *q, const struct rt_task *t,
                        double arrived, long long index)
{
    line_reserve(l);
    double ord = routing_order(q, t);
    size_t lo = 0, hi = l->n, b = l->head;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->order[b + mid] <= ord)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t at = b + lo, tail = l->n - lo;
    memmove(l->task + at + 1, l->task + at, tail * sizeof *l->task);
    memmove(l->order + at + 1, l->order + at, tail * sizeof *l->order);
    memmove(l->arrived + at + 1, l->arrived + at, tail * sizeof *l->arrived);
    memmove(l->index + at + 1, l->index + at, tail * sizeof *l->index);
    l->task[at] = *t;
    l->order[at] = ord;
    l->arrived[at] = arrived;
    l->index[at] = index;
    l->n++;
}

/* Take off the tasks at the given (ascending) positions of the live part. */
static void line_remove(struct line *l, const struct rt_offer *o, size_t k)
{
    size_t prefix = 0;
    while (prefix < k && o[prefix].task == prefix)
        prefix++;
    if (prefix == k) {          /* the front of the line: just move the head */
        l->head += k;
        l->n -= k;
        if (l->n == 0)
            l->head = 0;
        return;
    }
    size_t b = l->head, j = 0, next = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (next < k && o[next].task == i) {
            next++;
            continue;
        }
        l->task[b + j] = l->task[b + i];
        l->order[b + j] = l->order[b + i];
        l->arrived[b + j] = l->arrived[b + i];
        l->index[b + j] = l->index[b + i];
        j++;
    }
    l->n = j;
}

/* ---- the simulation ------------------------------------------------------ */

static long long to_ms(double t)
{
    return (long long)llround(t * 1000.0);
}

ctx_err routing_simulate(const struct sim_params *p, struct sim_result *out)
{
    if (!p || !out || p->agents < 1 || p->agents > SIM_MAX_AGENTS || !(p->lambda > 0) ||
        !isfinite(p->lambda) || !(p->mu > 0) || !isfinite(p->mu) || p->tasks < 1 ||
        !(p->sla >= 0))
        return CTX_EINVAL;
    const struct strategy_ops *st = p->strategy ? strategy_find(p->strategy)
                                                : &strategy_longest_idle;
    if (!st)
        return CTX_EINVAL;

    int n = p->agents;
    struct rt_queue q = {.name = "sim", .strategy = st, .sla = p->sla};
    struct rt_agent *agents = ctx_calloc((size_t)n, sizeof *agents);
    char(*ids)[16] = ctx_calloc((size_t)n, sizeof *ids);
    struct rt_offer *offers = ctx_calloc((size_t)n, sizeof *offers);
    struct heap h = {.e = ctx_calloc((size_t)n + 1, sizeof(struct event)), .cap = (size_t)n + 1};
    struct line l = {0};
    for (int i = 0; i < n; i++) {
        snprintf(ids[i], sizeof ids[i], "a%06d", i);
        agents[i].id = ids[i];
        agents[i].state = AG_AVAILABLE;
        agents[i].capacity[SIM_CHANNEL] = 1;
    }

    struct rng rng;
    rng_seed(&rng, p->seed);
    long long seq = 0, arrivals = 0, warm = p->tasks / 10;
    long long counted = 0, answered_in_sla = 0, waited = 0, decisions = 0;
    double wait_sum = 0, busy_area = 0, start = 0, end = 0, last = 0;
    int busy = 0;
    bool measuring = false;

    heap_push(&h, (struct event){rng_exp(&rng, p->lambda), seq++, EV_ARRIVAL, -1});
    while (h.n > 0) {
        struct event ev = heap_pop(&h);
        double now = ev.t;
        if (measuring)
            busy_area += busy * (now - last);
        last = now;
        long long now_ms = to_ms(now);

        if (ev.kind == EV_ARRIVAL) {
            struct rt_task t = {.id = "sim", .channel = SIM_CHANNEL, .enqueued = now_ms};
            line_insert(&l, &q, &t, now, arrivals);
            if (arrivals == warm) {
                measuring = true;
                start = now;
            }
            if (++arrivals < p->tasks) {
                heap_push(&h, (struct event){now + rng_exp(&rng, p->lambda), seq++, EV_ARRIVAL,
                                             -1});
            } else {
                measuring = false;
                end = now;
            }
        } else {
            struct rt_agent *a = &agents[ev.agent];
            a->load[SIM_CHANNEL] = 0;
            a->handled++;
            a->idle_since = now_ms;
            busy--;
        }

        if (l.n == 0)
            continue;
        size_t k = routing_decide(&q, l.task + l.head, l.n, agents, (size_t)n, now_ms, offers,
                                  (size_t)n);
        decisions++;
        for (size_t i = 0; i < k; i++) {
            size_t ti = l.head + offers[i].task;
            struct rt_agent *a = &agents[offers[i].agent];
            a->offers = 0;      /* accepted at once */
            busy++;
            if (l.index[ti] >= warm) {
                double w = now - l.arrived[ti];
                counted++;
                wait_sum += w;
                answered_in_sla += w <= p->sla;
                waited += w > 0;
            }
            heap_push(&h, (struct event){now + rng_exp(&rng, p->mu), seq++, EV_DONE,
                                         (int)offers[i].agent});
        }
        line_remove(&l, offers, k);
    }

    memset(out, 0, sizeof *out);
    if (counted > 0) {
        out->asa = wait_sum / (double)counted;
        out->service_level = (double)answered_in_sla / (double)counted;
        out->p_wait = (double)waited / (double)counted;
    }
    if (end > start)
        out->occupancy = busy_area / ((double)n * (end - start));
    out->decisions = decisions;
    free(agents);
    free(ids);
    free(offers);
    free(h.e);
    line_free(&l);
    return CTX_OK;
}
