/* test_sim.c -- the simulator against Erlang C on the loads of
 * tests/data/routing/sim.tsv (fixed seeds, tolerances derived in the file),
 * plus what must hold whatever the statistics: the same seed gives the same
 * run, the strategy cannot change an M/M/n queue of identical agents, bad
 * parameters are refused. Run from the repository root. */
#include <math.h>
#include "tests/routing/cases.h"

#define DATA "tests/data/routing"

static void test_against_erlang(void **state)
{
    (void)state;
    const char *path = DATA "/sim.tsv";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *line = NULL, *w[12];
    size_t cap = 0;
    int lineno = 0, n, rows = 0, failed = 0;
    while ((n = cs_table_row(f, &line, &cap, &lineno, w, 12)) > 0) {
        if (n != 11) {
            print_error("%s:%d: expected 11 columns, got %d\n", path, lineno, n);
            failed++;
            continue;
        }
        rows++;
        int agents = atoi(w[0]);
        double rho = strtod(w[1], NULL), aht = strtod(w[2], NULL), sla = strtod(w[3], NULL);
        double mu = 1 / aht, lambda = rho * agents * mu;
        struct sim_params p = {
            .agents = agents, .lambda = lambda, .mu = mu, .sla = sla,
            .tasks = atoll(w[4]), .seed = strtoull(w[5], NULL, 10), .strategy = w[6],
        };
        double tol_asa = strtod(w[7], NULL), tol_sl = strtod(w[8], NULL);
        double tol_pw = strtod(w[9], NULL), tol_occ = strtod(w[10], NULL);
        struct sim_result r;
        assert_int_equal(routing_simulate(&p, &r), CTX_OK);
        double asa = erlang_asa(agents, lambda, mu);
        double sl = erlang_service_level(agents, lambda, mu, sla);
        double pw = erlang_c(agents, lambda / mu);
        print_message("n=%d rho=%.2f: ASA %.2f s (Erlang %.2f, %+.1f%%), SL %.4f (%.4f), "
                      "P(wait) %.4f (%.4f), occupancy %.4f\n",
                      agents, rho, r.asa, asa, 100 * (r.asa / asa - 1), r.service_level, sl,
                      r.p_wait, pw, r.occupancy);
        if (fabs(r.asa / asa - 1) > tol_asa || fabs(r.service_level - sl) > tol_sl ||
            fabs(r.p_wait - pw) > tol_pw || fabs(r.occupancy - rho) > tol_occ) {
            print_error("%s:%d: outside the tolerances\n", path, lineno);
            failed++;
        }
        /* one decision per arrival and per completion at most */
        if (r.decisions < p.tasks || r.decisions > 2 * p.tasks) {
            print_error("%s:%d: %lld decisions for %lld tasks\n", path, lineno, r.decisions,
                        p.tasks);
            failed++;
        }
    }
    free(line);
    fclose(f);
    assert_true(rows >= 3);
    assert_int_equal(failed, 0);
}

/* Agents are identical and handling times are drawn when a task is
 * offered, so which agent takes a task changes nothing measurable: every
 * strategy must give exactly the same figures. And a run is a function of
 * its seed. */
static void test_deterministic(void **state)
{
    (void)state;
    static const char *const names[] = {"longest-idle", "round-robin", "fewest-tasks",
                                        "best-skill", NULL};
    struct sim_params p = {.agents = 7, .lambda = 0.6, .mu = 0.1, .sla = 5,
                           .tasks = 20000, .seed = 99};
    struct sim_result first, r;
    assert_int_equal(routing_simulate(&p, &first), CTX_OK);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        p.strategy = names[i];
        assert_int_equal(routing_simulate(&p, &r), CTX_OK);
        assert_memory_equal(&r, &first, sizeof r);
    }
    p.seed = 100;
    assert_int_equal(routing_simulate(&p, &r), CTX_OK);
    assert_true(r.asa != first.asa);
}

/* An unstable queue still ends (the run is finite) and waits grow. */
static void test_overload(void **state)
{
    (void)state;
    struct sim_params p = {.agents = 2, .lambda = 3, .mu = 1, .sla = 1, .tasks = 20000,
                           .seed = 5};
    struct sim_result r;
    assert_int_equal(routing_simulate(&p, &r), CTX_OK);
    assert_true(r.asa > 100);           /* about a third of a task per second piles up */
    assert_true(r.occupancy > 0.99);
    assert_true(r.p_wait > 0.99);
}

static void test_bad_params(void **state)
{
    (void)state;
    const struct sim_params good = {.agents = 2, .lambda = 1, .mu = 1, .sla = 1, .tasks = 10,
                                    .seed = 1};
    struct sim_result r = {.asa = 42}, ok;
    struct sim_params p;
    assert_int_equal(routing_simulate(&good, &ok), CTX_OK);
    assert_int_equal(routing_simulate(NULL, &r), CTX_EINVAL);
    assert_int_equal(routing_simulate(&good, NULL), CTX_EINVAL);
    p = good, p.agents = 0;
    assert_int_equal(routing_simulate(&p, &r), CTX_EINVAL);
    p = good, p.lambda = 0;
    assert_int_equal(routing_simulate(&p, &r), CTX_EINVAL);
    p = good, p.lambda = INFINITY;
    assert_int_equal(routing_simulate(&p, &r), CTX_EINVAL);
    p = good, p.mu = -1;
    assert_int_equal(routing_simulate(&p, &r), CTX_EINVAL);
    p = good, p.mu = NAN;
    assert_int_equal(routing_simulate(&p, &r), CTX_EINVAL);
    p = good, p.tasks = 0;
    assert_int_equal(routing_simulate(&p, &r), CTX_EINVAL);
    p = good, p.sla = -1;
    assert_int_equal(routing_simulate(&p, &r), CTX_EINVAL);
    p = good, p.strategy = "fastest";
    assert_int_equal(routing_simulate(&p, &r), CTX_EINVAL);
    assert_true(r.asa == 42);           /* a failed call leaves the result alone */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_erlang),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_overload),
        cmocka_unit_test(test_bad_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
