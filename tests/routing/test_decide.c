/* test_decide.c -- eligibility, queue order and decisions on the cases of
 * tests/data/routing/{eligible,order,decide}.cases (format in
 * tests/routing/cases.h), the names of channels and states, and a
 * randomized check of routing_decide() against a slow oracle. Run from the
 * repository root. */
#include <math.h>
#include <stdint.h>
#include "tests/routing/cases.h"

#define DATA "tests/data/routing"

static void run_cases(const char *path, int min_cases)
{
    int ncases = 0, nchecks = 0;
    int failed = cs_run_file(path, &ncases, &nchecks);
    assert_true(ncases >= min_cases);
    assert_true(nchecks >= ncases);
    assert_int_equal(failed, 0);
}

static void test_eligible(void **state)
{
    (void)state;
    run_cases(DATA "/eligible.cases", 11);
}

static void test_order(void **state)
{
    (void)state;
    run_cases(DATA "/order.cases", 8);
}

static void test_decide_cases(void **state)
{
    (void)state;
    run_cases(DATA "/decide.cases", 12);
}

static void test_names(void **state)
{
    (void)state;
    static const char *const channels[] = {"social", "chat", "callback"};
    for (int c = 0; c < CH_COUNT; c++) {
        enum channel got = CH_COUNT;
        assert_string_equal(channel_name((enum channel)c), channels[c]);
        assert_int_equal(channel_parse(channels[c], &got), 0);
        assert_int_equal(got, c);
    }
    enum channel keep = CH_CHAT;
    assert_int_equal(channel_parse("Chat", &keep), -1);
    assert_int_equal(channel_parse("", &keep), -1);
    assert_int_equal(channel_parse(NULL, &keep), -1);
    assert_int_equal(keep, CH_CHAT);
    assert_string_equal(channel_name(CH_COUNT), "unknown");
    assert_string_equal(agent_state_name(AG_OFFLINE), "offline");
    assert_string_equal(agent_state_name(AG_AVAILABLE), "available");
    assert_string_equal(agent_state_name(AG_AWAY), "away");
    assert_string_equal(agent_state_name(AG_WRAPUP), "wrapup");
    assert_string_equal(agent_state_name((enum rt_agent_state)42), "unknown");
}

/* The exact boundary of aging: a priority-0 task that has waited exactly
 * priority * aging longer than a priority-p one stands level with it. */
static void test_order_boundary(void **state)
{
    (void)state;
    struct rt_queue q = {.name = "q", .aging = 60};
    struct rt_task low = {.id = "low", .priority = 0, .enqueued = 1764000000000LL};
    struct rt_task high = {.id = "high", .priority = 2, .enqueued = 1764000120000LL};
    assert_true(routing_order(&q, &low) == routing_order(&q, &high));
    high.enqueued++;
    assert_true(routing_order(&q, &low) < routing_order(&q, &high));
    high.enqueued -= 2;
    assert_true(routing_order(&q, &high) < routing_order(&q, &low));
    /* no aging, negative or NaN aging: strict */
    double bad[] = {0, -5, NAN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        q.aging = bad[i];
        high.enqueued = low.enqueued + 86400000LL * 365 * 30;   /* 30 years later */
        high.priority = 1;
        assert_true(routing_order(&q, &high) < routing_order(&q, &low));
        high.priority = 0;
        assert_true(routing_order(&q, &low) < routing_order(&q, &high));
    }
    assert_true(routing_order(NULL, &low) == (double)low.enqueued);
}

static void test_null_and_bounds(void **state)
{
    (void)state;
    struct rt_queue q = {.name = "q"};
    struct rt_task t = {.id = "t", .channel = CH_CHAT};
    struct rt_agent a = {.id = "a", .state = AG_AVAILABLE, .capacity = {1, 1, 1}};
    struct rt_offer o[2];
    assert_true(routing_eligible(&q, &t, &a));
    assert_false(routing_eligible(NULL, &t, &a));
    assert_false(routing_eligible(&q, NULL, &a));
    assert_false(routing_eligible(&q, &t, NULL));
    t.channel = CH_COUNT;
    assert_false(routing_eligible(&q, &t, &a));
    t.channel = (enum channel)-1;
    assert_false(routing_eligible(&q, &t, &a));
    t.channel = CH_CHAT;
    a.nskills = -3;             /* nonsense counts are clamped, not trusted */
    t.nneed = -1;
    q.nskills = 1000;           /* clamped to RT_MAX_SKILLS entries, all unnamed */
    assert_true(routing_eligible(&q, &t, &a));
    q.nskills = 0;
    assert_int_equal(routing_decide(NULL, &t, 1, &a, 1, 0, o, 2), 0);
    assert_int_equal(routing_decide(&q, NULL, 1, &a, 1, 0, o, 2), 0);
    assert_int_equal(routing_decide(&q, &t, 1, NULL, 1, 0, o, 2), 0);
    assert_int_equal(routing_decide(&q, &t, 1, &a, 1, 0, NULL, 2), 0);
    assert_int_equal(routing_decide(&q, &t, 0, &a, 1, 0, o, 2), 0);
    assert_int_equal(routing_decide(&q, &t, 1, &a, 0, 0, o, 2), 0);
    assert_int_equal(a.offers, 0);
    assert_int_equal(routing_decide(&q, &t, 1, &a, 1, 7, o, 2), 1);
    assert_int_equal(a.offers, 1);
    assert_int_equal(a.load[CH_CHAT], 1);
    assert_int_equal(a.last_offer, 7);
}

/* ---- randomized: routing_decide() against a slow oracle ----------------- */

static uint64_t rnd_state = 0x2545f4914f6cdd1dULL;

static unsigned rnd(unsigned n)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return (unsigned)(rnd_state % n);
}

static const char *const skill_names[] = {"billing", "sales", "vip", "legal"};
static const char *const lang_names[] = {"en", "ru", "de-AT", "EN-us"};
static const char *const strategy_names[] = {"longest-idle", "round-robin", "fewest-tasks",
                                             "best-skill"};

static void random_agent(struct rt_agent *a, char *id)
{
    memset(a, 0, sizeof *a);
    a->id = id;
    a->state = rnd(5) ? AG_AVAILABLE : (enum rt_agent_state)rnd(4);
    for (int s = 0; s < 4; s++)
        if (rnd(3))
            a->skills[a->nskills++] = (struct rt_skill){skill_names[s], 1 + (int)rnd(100)};
    for (int l = 0; l < 4; l++)
        if (!rnd(3))
            a->langs[a->nlangs++] = lang_names[l];
    for (int c = 0; c < CH_COUNT; c++) {
        a->capacity[c] = (int)rnd(4);
        a->load[c] = a->capacity[c] ? (int)rnd((unsigned)a->capacity[c] + 1) : 0;
    }
    a->callback_blocks_chat = rnd(2);
    a->offers = !rnd(6);
    a->idle_since = rnd(5);             /* small ranges: many ties, broken by id */
    a->last_offer = rnd(5);
    a->handled = rnd(4);
}

static void random_task(struct rt_task *t, const char **refused, char *const *agent_ids,
                        int nagents)
{
    memset(t, 0, sizeof *t);
    t->id = "t";
    t->channel = (enum channel)rnd(CH_COUNT);
    t->priority = (int)rnd(3);
    t->enqueued = rnd(1000);
    t->lang = rnd(3) ? NULL : lang_names[rnd(4)];
    for (int s = 0; s < 4; s++)
        if (!rnd(4))
            t->need[t->nneed++] = (struct rt_skill){skill_names[s], (int)rnd(60)};
    t->refused = refused;
    for (int i = 0; i < 3; i++)
        if (!rnd(3))
            refused[t->nrefused++] = agent_ids[rnd((unsigned)nagents)];
}

/* The best eligible agent by (rank, id), or -1: the definition, slowly. */
static int oracle_best(const struct rt_queue *q, const struct rt_task *t,
                       const struct rt_agent *agents, int n, long long now)
{
    int best = -1;
    double br = 0;
    for (int i = 0; i < n; i++) {
        if (!routing_eligible(q, t, &agents[i]))
            continue;
        double r = q->strategy->rank(q, t, &agents[i], now);
        if (best < 0 || r < br || (r == br && strcmp(agents[i].id, agents[best].id) < 0)) {
            best = i;
            br = r;
        }
    }
    return best;
}

static void test_random(void **state)
{
    (void)state;
    enum { NA = 24, NT = 40, ROUNDS = 3000 };
    char ids[NA][8];
    char *idp[NA];
    for (int i = 0; i < NA; i++) {
        snprintf(ids[i], sizeof ids[i], "a%02d", (i * 7) % NA);   /* ids not in index order */
        idp[i] = ids[i];
    }
    long long offers_made = 0, skipped = 0, capped = 0;
    for (int round = 0; round < ROUNDS; round++) {
        struct rt_queue q = {.name = "q", .aging = rnd(2) ? 0 : 30};
        q.strategy = strategy_find(strategy_names[rnd(4)]);
        if (rnd(2))
            q.skills[q.nskills++] = (struct rt_skill){skill_names[rnd(4)], (int)rnd(30)};
        q.lang = rnd(4) ? NULL : lang_names[rnd(4)];
        int na = 1 + (int)rnd(NA), nt = 1 + (int)rnd(NT);
        struct rt_agent agents[NA], got[NA], want[NA];
        struct rt_task tasks[NT];
        const char *refused[NT][3];
        for (int i = 0; i < na; i++)
            random_agent(&agents[i], idp[i]);
        for (int i = 0; i < nt; i++)
            random_task(&tasks[i], refused[i], idp, na);
        size_t max = rnd(4) ? (size_t)nt : rnd((unsigned)nt + 1);
        long long now = 1000 + rnd(1000);
        struct rt_offer o[NT];
        memcpy(got, agents, sizeof agents);
        size_t k = routing_decide(&q, tasks, (size_t)nt, got, (size_t)na, now, o, max);

        /* replay: every task in turn gets the oracle's agent, or is skipped */
        memcpy(want, agents, sizeof agents);
        size_t j = 0;
        for (int ti = 0; ti < nt && j < max; ti++) {
            int b = oracle_best(&q, &tasks[ti], want, na, now);
            if (b < 0) {
                skipped++;
                assert_true(j == k || o[j].task != (size_t)ti);
                continue;
            }
            assert_true(j < k);
            assert_int_equal(o[j].task, ti);
            assert_int_equal(o[j].agent, b);
            want[b].load[tasks[ti].channel]++;
            want[b].offers++;
            want[b].last_offer = now;
            assert_true(want[b].load[tasks[ti].channel] <= want[b].capacity[tasks[ti].channel]);
            assert_int_equal(want[b].offers, 1);
            j++;
        }
        assert_int_equal(k, j);
        assert_true(k <= max);
        capped += k == max && max < (size_t)nt;
        assert_memory_equal(got, want, sizeof(struct rt_agent) * (size_t)na);
        offers_made += (long long)k;
    }
    /* the generator exercised both outcomes plenty */
    assert_true(offers_made > ROUNDS);
    assert_true(skipped > ROUNDS);
    assert_true(capped > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eligible),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_decide_cases),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_order_boundary),
        cmocka_unit_test(test_null_and_bounds),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
