/* test_plain.c -- the sentiment pass as it builds where neither SSE2 nor
 * little-endian eight-byte words are: analyzer/sentiment.c is compiled here
 * with __SSE2__ and __BYTE_ORDER__ undefined (its analyzer_sentiment()
 * stands in for the library's), so that its plain paths are built and run on
 * every unit run, over the tables of test_sentiment.c (VADER's compounds) and
 * test_russian.c's labels. On this machine the plain build was also checked
 * against the library's byte for byte on every corpus and on random texts.
 * Run from the repository root. */
#undef __SSE2__
#undef __BYTE_ORDER__
#include "analyzer/sentiment.c"

#include <math.h>
#include "tests/analyzer/analyzer_fixture.h"

_Static_assert(!SWAR, "the eight-byte paths are off");

static void test_vader_table(void **state)
{
    (void)state;
    analyzer *a = fixture_analyzer(DATA "/vader-only", NULL);
    assert_int_equal(tsv_cases("sentiment.tsv", 2, 17, fixture_score_case, a), 0);
    analyzer_free(a);
}

/* russian.tsv's labels (its comparisons are test_russian.c's) */
static int label_case(const struct tsv_row *r, void *a)
{
    const char *e = r->f[1];
    double s = analyzer_score(a, r->f[0]);
    int ok = fixture_label_ok(e, s) != 0;       /* (comparisons: -1, passed) */
    if (!ok)
        print_error("russian.tsv:%d: \"%s\" scored %.4f, want %s\n", r->line, r->f[0], s, e);
    return !ok;
}

static void test_russian_labels(void **state)
{
    (void)state;
    analyzer *a = fixture_analyzer(LEXICONS, NULL);
    assert_int_equal(tsv_cases("russian.tsv", 2, 10, label_case, a), 0);
    analyzer_free(a);
}

/* What the SSE2 and eight-byte paths decide, by the plain ones: glued
 * sentence ends, ellipses, "!" and "?" past sixteen bytes, words at a
 * text's end and longer than sixteen bytes, control characters. */
static void test_edges(void **state)
{
    (void)state;
    analyzer *a = fixture_analyzer(DATA "/vader-only", NULL);
    /* "joke.Boston" is two tokens: "joke" scores as a word of its own */
    assert_true(analyzer_score(a, "it was a joke.Boston had one agent") ==
                analyzer_score(a, "it was a joke. Boston had one agent"));
    assert_true(analyzer_score(a, "what a great day...ridiculous") ==
                analyzer_score(a, "what a great day... ridiculous"));
    /* the "!" count: the same whatever the text's length before them (an
     * unknown filler word puts them past the first sixteen bytes) */
    double s1 = analyzer_score(a, "good!!!"), s2 = analyzer_score(a, "xxxxxxxxxxxxxxxxxxxx good!!!");
    assert_true(s1 > analyzer_score(a, "good") && fabs(s1 - s2) < 1e-12);
    assert_true(analyzer_score(a, "is it good??") != analyzer_score(a, "is it good"));
    /* a word at the end of a text of sixteen bytes or more, and one longer
     * than sixteen bytes */
    assert_true(analyzer_score(a, "this was really GOOD") > analyzer_score(a, "this was really good"));
    assert_true(analyzer_score(a, "good goodgoodgoodgoodgood") == analyzer_score(a, "good"));
    /* a control character is part of a word, not white space */
    assert_true(analyzer_score(a, "so\001good and more words here") == 0.0);
    assert_true(analyzer_score(a, "so\tgood and more words here") > 0.0);
    analyzer_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vader_table),
        cmocka_unit_test(test_russian_labels),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
