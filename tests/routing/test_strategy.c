/* test_strategy.c -- the four strategies on the crafted agent sets of
 * tests/data/routing/strategy.cases (see tests/routing/cases.h for the
 * format), plus strategy_find(). Run from the repository root. */
#include "tests/routing/cases.h"

#define DATA "tests/data/routing"

static void test_cases(void **state)
{
    (void)state;
    int ncases = 0, nchecks = 0;
    int failed = cs_run_file(DATA "/strategy.cases", &ncases, &nchecks);
    assert_true(ncases >= 20);
    assert_true(nchecks >= 40);
    assert_int_equal(failed, 0);
}

static void test_find(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const struct strategy_ops *ops;
    } cases[] = {
        {"longest-idle", &strategy_longest_idle}, {"round-robin", &strategy_round_robin},
        {"fewest-tasks", &strategy_fewest_tasks}, {"best-skill", &strategy_best_skill},
        {"Longest-Idle", NULL}, {"longest_idle", NULL}, {"", NULL}, {"random", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_ptr_equal(strategy_find(cases[i].name), cases[i].ops);
        if (cases[i].ops)
            assert_string_equal(cases[i].ops->name, cases[i].name);
    }
    assert_null(strategy_find(NULL));
}

/* Ranks are exact integers: one millisecond, one task handled or one skill
 * level apart is always a different rank, at realistic magnitudes. */
static void test_resolution(void **state)
{
    (void)state;
    struct rt_queue q = {.name = "q", .skills = {{"s", 1}}, .nskills = 1};
    struct rt_task t = {.id = "t", .channel = CH_CHAT};
    struct rt_agent a = {.id = "a", .state = AG_AVAILABLE, .skills = {{"s", 100}}, .nskills = 1},
                    b = a;
    long long now = 1764000000000LL + 5LL * 365 * 86400000;   /* about 2030 */
    a.idle_since = now - 1000;
    b.idle_since = now - 999;
    assert_true(strategy_longest_idle.rank(&q, &t, &a, now) <
                strategy_longest_idle.rank(&q, &t, &b, now));
    assert_true(strategy_best_skill.rank(&q, &t, &a, now) <
                strategy_best_skill.rank(&q, &t, &b, now));
    b.idle_since = a.idle_since;
    b.skills[0].level = 99;                 /* a level beats any idle time */
    b.idle_since = now - 86400000LL * 365;
    assert_true(strategy_best_skill.rank(&q, &t, &a, now) <
                strategy_best_skill.rank(&q, &t, &b, now));
    a.last_offer = now;
    b.last_offer = now - 1;
    assert_true(strategy_round_robin.rank(&q, &t, &b, now) <
                strategy_round_robin.rank(&q, &t, &a, now));
    a.handled = 4000000000LL;
    b.handled = 3999999999LL;
    assert_true(strategy_fewest_tasks.rank(&q, &t, &b, now) <
                strategy_fewest_tasks.rank(&q, &t, &a, now));
    b.load[CH_SOCIAL] = 1;                  /* one task held beats any count handled */
    a.handled = 1LL << 40;
    assert_true(strategy_fewest_tasks.rank(&q, &t, &a, now) <
                strategy_fewest_tasks.rank(&q, &t, &b, now));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_resolution),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
