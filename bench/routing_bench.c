/* routing_bench.c -- the routing core measured: the simulator next to
 * Erlang C, and how many routing decisions one core makes per second.
 *
 * 1. For several (agents, rho), the simulation (routing_simulate(): the real
 *    routing_decide() on a virtual clock, Poisson arrivals, exponential
 *    handling of 3 minutes on average, 20 s answer target) is run as R
 *    independent replications of T tasks each (own seed, own warm-up); the
 *    table shows their mean with a 95% confidence half-width next to Erlang
 *    C's average speed of answer, service level and P(wait), and the
 *    difference in percent. A mean wait converges slowly in a busy queue,
 *    which is why the half-width is printed: the difference should be
 *    within it about 19 times in 20.
 * 2. routing_decide() on one snapshot of a queue -- 1,000 waiting tasks and
 *    200 agents, pure, no Redis -- per strategy: calls per second and
 *    offers per call; then the worst case (every task scans every agent and
 *    none fits) and the cheapest (nobody open). Each call gets a fresh copy
 *    of the agents (the route role decides on a snapshot copy too); the copy
 *    is included in the time.
 *
 *   routing_bench [-q]        -q: fewer replications (a quick look)
 *
 * Build (after make):
 *   cc -O2 -std=gnu11 -I. bench/routing_bench.c build/libctx.a \
 *      $(pkg-config --cflags --libs libcurl jansson libwebsockets libpcre2-8 hiredis libuv) -lm */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "routing/routing.h"

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Student's t, 97.5th percentile, for R - 1 degrees of freedom. */
static double t975(int df)
{
    static const double t[] = {0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                               2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                               2.110, 2.101, 2.093, 2.086};
    return df < 1 ? NAN : df <= 20 ? t[df] : 1.96;
}

struct stat {
    double sum, sum2;
    int n;
};

static void stat_add(struct stat *s, double x)
{
    s->sum += x;
    s->sum2 += x * x;
    s->n++;
}

static double stat_mean(const struct stat *s)
{
    return s->sum / s->n;
}

static double stat_half(const struct stat *s)    /* 95% confidence half-width */
{
    double m = stat_mean(s), var = (s->sum2 - s->n * m * m) / (s->n - 1);
    return t975(s->n - 1) * sqrt(var > 0 ? var : 0) / sqrt(s->n);
}

static int erlang_table(int reps, long long tasks)
{
    static const struct {
        int n;
        double rho;
    } loads[] = {{1, 0.5}, {10, 0.8}, {10, 0.9}, {50, 0.9}, {100, 0.95}, {200, 0.9}};
    const double aht = 180, sla = 20, mu = 1 / aht;
    printf("Erlang C vs simulation: AHT %.0f s, SLA %.0f s, %d runs x %lld tasks each "
           "(10%% warm-up), mean +- 95%% CI\n",
           aht, sla, reps, tasks);
    printf("%5s %5s | %8s %16s %7s | %7s %15s %7s | %7s %15s %7s | %6s %8s\n", "n", "rho",
           "ASA", "sim ASA", "diff", "SL", "sim SL", "diff", "P(wait)", "sim P(wait)", "diff",
           "occ", "s/run");
    for (size_t i = 0; i < sizeof loads / sizeof loads[0]; i++) {
        int n = loads[i].n;
        double rho = loads[i].rho, lambda = rho * n * mu;
        struct stat asa = {0}, sl = {0}, pw = {0}, occ = {0};
        double t0 = seconds();
        for (int r = 0; r < reps; r++) {
            struct sim_params p = {.agents = n, .lambda = lambda, .mu = mu, .sla = sla,
                                   .tasks = tasks, .seed = 1000003ULL * (unsigned)r + 17,
                                   .strategy = "longest-idle"};
            struct sim_result res;
            if (routing_simulate(&p, &res) != CTX_OK) {
                fprintf(stderr, "routing_simulate failed\n");
                return 1;
            }
            stat_add(&asa, res.asa);
            stat_add(&sl, res.service_level);
            stat_add(&pw, res.p_wait);
            stat_add(&occ, res.occupancy);
        }
        double per_run = (seconds() - t0) / reps;
        double ea = erlang_asa(n, lambda, mu), es = erlang_service_level(n, lambda, mu, sla);
        double ec = erlang_c(n, lambda / mu);
        printf("%5d %5.2f | %7.2fs %7.2f+-%6.2f %+6.1f%% | %7.4f %6.4f+-%6.4f %+6.1f%% | "
               "%7.4f %6.4f+-%6.4f %+6.1f%% | %6.4f %8.3f\n",
               n, rho, ea, stat_mean(&asa), stat_half(&asa), 100 * (stat_mean(&asa) / ea - 1),
               es, stat_mean(&sl), stat_half(&sl), 100 * (stat_mean(&sl) / es - 1), ec,
               stat_mean(&pw), stat_half(&pw), 100 * (stat_mean(&pw) / ec - 1),
               stat_mean(&occ), per_run);
    }
    return 0;
}

/* ---- decisions per second ------------------------------------------------- */

#define NAGENTS 200
#define NTASKS 1000

static uint64_t rs = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (unsigned)(rs % n);
}

static const char *const skills[] = {"support", "billing", "sales", "vip", "legal", "tech"};
static const char *const langs[] = {"en", "ru", "de", "fr", "es"};

/* A plausible snapshot: most agents available with room, a few away or
 * with an offer out; three channels; tasks of mixed priority, some asking
 * a skill or a language. */
static void snapshot(struct rt_agent *agents, char (*ids)[16], struct rt_task *tasks,
                     char (*tids)[16], bool nobody_fits)
{
    long long now = 1764000000000LL;
    for (int i = 0; i < NAGENTS; i++) {
        struct rt_agent *a = &agents[i];
        memset(a, 0, sizeof *a);
        snprintf(ids[i], sizeof ids[i], "agent%03d", i);
        a->id = ids[i];
        a->state = rnd(10) < 8 ? AG_AVAILABLE : rnd(2) ? AG_AWAY : AG_WRAPUP;
        a->skills[a->nskills++] = (struct rt_skill){"support", 20 + (int)rnd(81)};
        for (int s = 1; s < 6; s++)
            if (rnd(2))
                a->skills[a->nskills++] = (struct rt_skill){skills[s], 1 + (int)rnd(100)};
        a->langs[a->nlangs++] = "en";
        if (rnd(2))
            a->langs[a->nlangs++] = langs[1 + rnd(4)];
        a->capacity[CH_SOCIAL] = 5;
        a->capacity[CH_CHAT] = 3;
        a->capacity[CH_CALLBACK] = 1;
        a->load[CH_SOCIAL] = (int)rnd(3);
        a->load[CH_CHAT] = (int)rnd(3);
        a->callback_blocks_chat = true;
        a->offers = rnd(10) == 0;
        a->idle_since = now - rnd(600000);
        a->last_offer = now - rnd(600000);
        a->handled = rnd(100);
    }
    for (int i = 0; i < NTASKS; i++) {
        struct rt_task *t = &tasks[i];
        memset(t, 0, sizeof *t);
        snprintf(tids[i], sizeof tids[i], "task%04d", i);
        t->id = tids[i];
        t->channel = (enum channel)rnd(CH_COUNT);
        t->priority = rnd(10) == 0 ? 5 : 0;
        t->enqueued = now - 300000 + i * 300;
        t->lang = rnd(4) == 0 ? langs[rnd(5)] : NULL;
        if (nobody_fits)
            t->need[t->nneed++] = (struct rt_skill){"legal", 101};
        else if (rnd(3) == 0)
            t->need[t->nneed++] = (struct rt_skill){skills[1 + rnd(5)], (int)rnd(50)};
    }
}

static const struct rt_queue *sort_queue;

static int by_order(const void *a, const void *b)
{
    double x = routing_order(sort_queue, a), y = routing_order(sort_queue, b);
    return x < y ? -1 : x > y;
}

static void decide_rate(const char *label, const char *strategy, bool nobody_fits,
                        bool all_busy)
{
    static struct rt_agent agents[NAGENTS], copy[NAGENTS];
    static struct rt_task tasks[NTASKS];
    static struct rt_offer out[NTASKS];
    static char ids[NAGENTS][16], tids[NTASKS][16];
    struct rt_queue q = {.name = "support", .strategy = strategy_find(strategy),
                         .skills = {{"support", 10}}, .nskills = 1, .aging = 60};
    rs = 0x9e3779b97f4a7c15ULL;
    snapshot(agents, ids, tasks, tids, nobody_fits);
    if (all_busy)
        for (int i = 0; i < NAGENTS; i++)
            agents[i].offers = 1;
    sort_queue = &q;
    qsort(tasks, NTASKS, sizeof tasks[0], by_order);
    long long now = 1764000000000LL;
    double best = INFINITY;
    size_t offers = 0;
    for (int pass = 0; pass < 3; pass++) {
        long long calls = 0;
        double t0 = seconds(), t;
        do {
            for (int k = 0; k < 50; k++) {
                memcpy(copy, agents, sizeof copy);
                offers = routing_decide(&q, tasks, NTASKS, copy, NAGENTS, now, out, NTASKS);
                calls++;
            }
            t = seconds() - t0;
        } while (t < 0.4);
        if (t / calls < best)
            best = t / calls;
    }
    size_t open = 0;
    for (int i = 0; i < NAGENTS; i++)
        open += agents[i].state == AG_AVAILABLE && agents[i].offers == 0;
    printf("  %-28s %-13s %10.0f calls/s %8.1f us/call %5zu offers/call (%3zu agents open) "
           "%8.0f offers/s\n",
           label, strategy, 1 / best, best * 1e6, offers, open, offers / best);
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "-q") == 0;
    if (erlang_table(quick ? 3 : 10, 200000) != 0)
        return 1;
    printf("\nrouting_decide() on one snapshot: %d waiting tasks, %d agents, pure (no Redis), "
           "one core\n",
           NTASKS, NAGENTS);
    static const char *const names[] = {"longest-idle", "round-robin", "fewest-tasks",
                                        "best-skill"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        decide_rate("mixed queue", names[i], false, false);
    decide_rate("nobody fits (full scan)", "longest-idle", true, false);
    decide_rate("every agent has an offer", "longest-idle", false, true);
    return 0;
}
