/* test_erlang.c -- Erlang C, average speed of answer and service level
 * against tests/data/routing/erlang.tsv (values computed independently; the
 * file says how), and the edges: no load, overload, large n. Run from the
 * repository root. */
#include <math.h>
#include "tests/routing/cases.h"

#define DATA "tests/data/routing"

static bool close_to(double got, double want, double reltol)
{
    return fabs(got - want) <= reltol * fabs(want);
}

static void test_table(void **state)
{
    (void)state;
    const char *path = DATA "/erlang.tsv";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *line = NULL, *w[8];
    size_t cap = 0;
    int lineno = 0, n, rows = 0, failed = 0;
    while ((n = cs_table_row(f, &line, &cap, &lineno, w, 8)) > 0) {
        double got, want, tol;
        rows++;
        if (strcmp(w[0], "c") == 0 && n == 5) {
            got = erlang_c(atoi(w[1]), strtod(w[2], NULL));
            want = strtod(w[3], NULL);
            tol = strtod(w[4], NULL);
        } else if (strcmp(w[0], "asa") == 0 && n == 6) {
            got = erlang_asa(atoi(w[1]), strtod(w[2], NULL), strtod(w[3], NULL));
            want = strtod(w[4], NULL);
            tol = strtod(w[5], NULL);
        } else if (strcmp(w[0], "sl") == 0 && n == 7) {
            got = erlang_service_level(atoi(w[1]), strtod(w[2], NULL), strtod(w[3], NULL),
                                       strtod(w[4], NULL));
            want = strtod(w[5], NULL);
            tol = strtod(w[6], NULL);
        } else {
            print_error("%s:%d: bad row\n", path, lineno);
            failed++;
            continue;
        }
        if (!close_to(got, want, tol)) {
            print_error("%s:%d: %s %s %s: want %.17g, got %.17g\n", path, lineno, w[0], w[1],
                        w[2], want, got);
            failed++;
        }
    }
    free(line);
    fclose(f);
    assert_true(rows >= 15);
    assert_int_equal(failed, 0);
}

static void test_edges(void **state)
{
    (void)state;
    assert_true(erlang_c(10, 0) == 0.0);
    assert_true(erlang_c(10, -1) == 0.0);
    assert_true(erlang_c(10, 10) == 1.0);       /* at capacity: everyone waits */
    assert_true(erlang_c(10, 12.5) == 1.0);
    assert_true(erlang_c(0, 0.5) == 1.0);
    assert_true(isnan(erlang_c(10, NAN)));
    assert_true(erlang_asa(10, 0, 1) == 0.0);
    assert_true(isinf(erlang_asa(10, 10, 1)));
    assert_true(isinf(erlang_asa(10, 5, 0)));
    assert_true(erlang_service_level(10, 0, 1, 20) == 1.0);
    assert_true(erlang_service_level(10, 11, 1, 20) == 0.0);
    assert_true(erlang_service_level(10, 5, 1, -1) == 0.0);
    /* service level at t = 0 is the share that does not wait */
    assert_true(close_to(erlang_service_level(10, 8, 1, 0), 1 - erlang_c(10, 8), 1e-12));
}

/* Past where a^n/n! overflows a double (n ~ 170), and monotone: more agents
 * for the same load never wait more, more load never less. */
static void test_large_and_monotone(void **state)
{
    (void)state;
    double c = erlang_c(20000, 19800);
    assert_true(c > 0 && c < 1);
    for (int n = 2; n <= 1200; n += 7) {
        double a = 0.9 * n;
        double here = erlang_c(n, a);
        assert_true(here > 0 && here < 1);
        assert_true(erlang_c(n + 1, a) < here);
        assert_true(erlang_c(n, a * 1.01) > here);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_large_and_monotone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
