/* analyzer_fixture.h -- what the analyzer's test runners share, so that each
 * states only its cases: the folders they read, an analyzer built for one
 * test or for a whole group of them, and the walk over a case table of
 * tests/data/analyzer (tsv.h). Header-only, as tsv.h. Run the tests from the
 * repository root. */
#ifndef CTX_TESTS_ANALYZER_FIXTURE_H
#define CTX_TESTS_ANALYZER_FIXTURE_H

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "analyzer/analyzer.h"
#include "tests/analyzer/tsv.h"

#define LEXICONS "etc/lexicons"           /* the shipped lexicons and cues */
#define DATA     "tests/data/analyzer"    /* the case tables and test folders */

/* An analyzer of these folders (rules NULL: none), or NULL with the error
 * printed. */
static inline analyzer *fixture_new(const char *lexicons, const char *rules)
{
    char err[512];
    analyzer *a = analyzer_new(lexicons, rules, err, sizeof err);
    if (!a)
        print_error("analyzer_new(%s, %s): %s\n", lexicons, rules ? rules : "no rules", err);
    return a;
}

/* The same inside a test, which fails when it cannot be built. */
static inline analyzer *fixture_analyzer(const char *lexicons, const char *rules)
{
    analyzer *a = fixture_new(lexicons, rules);
    if (!a)
        fail();
    return a;
}

/* ---- one analyzer for a group of tests ----------------------------------
 * run_with_analyzer(tests, lexicons, rules) runs the array of tests with an
 * analyzer of those folders in *state, built before the first and freed
 * after the last. */

static const char *fixture_dirs[2];

static inline int fixture_setup(void **state)
{
    *state = fixture_new(fixture_dirs[0], fixture_dirs[1]);
    return *state ? 0 : -1;
}

static inline int fixture_teardown(void **state)
{
    analyzer_free(*state);
    return 0;
}

#define run_with_analyzer(tests, lexicons, rules)                                                  \
    (fixture_dirs[0] = (lexicons), fixture_dirs[1] = (rules),                                      \
     cmocka_run_group_tests(tests, fixture_setup, fixture_teardown))

/* ---- case tables ---------------------------------------------------------
 * Every row of the table DATA/name goes to check(r, ud), which returns 0
 * when the case holds and 1 when it does not, after saying why with
 * print_error("name:line: ..."). A row without nfields fields is a failed
 * case, and so is a table of fewer than min_rows (cut short, it would check
 * little). Returns the number of failed cases: assert it is 0. */
static inline int tsv_cases(const char *name, int nfields, size_t min_rows,
                            int (*check)(const struct tsv_row *r, void *ud), void *ud)
{
    char path[512];
    snprintf(path, sizeof path, DATA "/%s", name);
    struct tsv t = tsv_read(path);
    int failed = 0;
    if (t.n < min_rows) {
        print_error("%s: %zu cases, want %zu or more\n", name, t.n, min_rows);
        failed++;
    }
    for (size_t i = 0; i < t.n; i++) {
        const struct tsv_row *r = &t.rows[i];
        if (r->n != nfields) {
            print_error("%s:%d: expected %d fields, got %d\n", name, r->line, nfields, r->n);
            failed++;
        } else {
            failed += check(r, ud) != 0;
        }
    }
    tsv_free(&t);
    return failed;
}

/* One row of sentiment.tsv (text, VADER's compound): 0 when analyzer_score()
 * of the analyzer in `a` agrees to 0.001, else 1 with the row printed. For
 * tsv_cases(); test_sentiment.c and test_plain.c both walk that table. */
static inline int fixture_score_case(const struct tsv_row *r, void *a)
{
    double want = strtod(r->f[1], NULL), got = analyzer_score(a, r->f[0]);
    if (fabs(got - want) <= 0.001)
        return 0;
    print_error("sentiment.tsv:%d: \"%s\": want %.4f, got %.4f\n", r->line, r->f[0], want, got);
    return 1;
}

/* Whether score s has the label want of russian.tsv and the other label
 * tables: "pos" (s >= 0.05), "neg" (s <= -0.05), "neu" (|s| < 0.05); -1 for
 * any other (a comparison of two rows, which the caller reads). */
static inline int fixture_label_ok(const char *want, double s)
{
    if (strcmp(want, "pos") == 0)
        return s >= 0.05;
    if (strcmp(want, "neg") == 0)
        return s <= -0.05;
    if (strcmp(want, "neu") == 0)
        return fabs(s) < 0.05;
    return -1;
}

#endif
