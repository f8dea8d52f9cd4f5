/* test_sentiment.c -- VADER compounds against tests/data/analyzer/sentiment.tsv
 * (text<TAB>expected, to +-0.001), plus the edges of analyzer_score() and
 * the sentiment half of analyzer_tag(). The analyzer here has VADER's two
 * lexicons only (tests/data/analyzer/vader-only links to them): VADER's own
 * examples must give VADER's numbers; what the shipped supplements and
 * complaint cues change is test_complaint.c's. Run from the repository root. */
#include <math.h>
#include "tests/analyzer/analyzer_fixture.h"

#define VADER_ONLY DATA "/vader-only"

static void test_table(void **state)
{
    assert_int_equal(tsv_cases("sentiment.tsv", 2, 17, fixture_score_case, *state), 0);
}

static void test_null_and_blank(void **state)
{
    const analyzer *a = *state;
    assert_true(analyzer_score(a, NULL) == 0.0);
    assert_true(analyzer_score(NULL, "good") == 0.0);
    assert_true(analyzer_score(a, "   \t\n ") == 0.0);
    assert_true(analyzer_score(a, "!!!???") == 0.0);   /* punctuation alone has no sign */
}

/* Past the stack scratch space (512 tokens) the scorer allocates. */
static void test_long_text(void **state)
{
    const analyzer *a = *state;
    size_t n = 5000;
    char *s = malloc(n * 5 + 16);
    assert_non_null(s);
    char *p = s;
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s ", i == n / 2 ? "but" : i % 2 ? "bad" : "good");
    *p = '\0';
    double x = analyzer_score(a, s);
    /* 1250 "good" and 1250 "bad" before "but" (halved), 1249 and 1250 after
     * (raised by half): the sum is about -1503 */
    assert_true(x < -0.999 && x >= -1.0);
    free(s);
}

/* Bytes that are not UTF-8 and lone emoji parts must not upset the scorer. */
static void test_garbage(void **state)
{
    const analyzer *a = *state;
    const char *texts[] = {"\xff\xfe good \xf0\x9f", "\xf0\x9f\x98", "\xe2\x9d\xa4\xef\xb8",
                           "#\xef\xb8\x8f", "\xc0\xaf bad \xed\xa0\x80"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        double x = analyzer_score(a, texts[i]);
        assert_true(x >= -1.0 && x <= 1.0);
    }
    assert_true(analyzer_score(a, "\xff\xfe good") > 0.4);
}

static void test_tag(void **state)
{
    const analyzer *a = *state;
    struct item it;
    struct tags t = {0};
    item_init(&it);
    it.title = "Terrible";
    it.text = "Support was horrible and slow!";
    assert_int_equal(analyzer_tag(a, &it, &t), CTX_OK);
    assert_true(t.score <= -0.05);
    assert_int_equal(t.label, SENT_NEGATIVE);
    assert_string_equal(t.lang, "en");
    assert_int_equal(t.brands.n, 0);
    assert_false(t.urgent);
    tags_clear(&t);

    /* the title alone, and the title next to the text, both count */
    it.text = NULL;
    it.title = "Great service";
    assert_int_equal(analyzer_tag(a, &it, &t), CTX_OK);
    assert_int_equal(t.label, SENT_POSITIVE);
    tags_clear(&t);

    /* "спасибо" is positive in the Russian lexicon (0.6 x 2): n(1.2) */
    it.title = NULL;
    it.text = "Всё работает, спасибо";
    assert_int_equal(analyzer_tag(a, &it, &t), CTX_OK);
    assert_int_equal(t.label, SENT_POSITIVE);
    assert_string_equal(t.lang, "ru");
    tags_clear(&t);

    it.text = "12345 ... :-)";
    assert_int_equal(analyzer_tag(a, &it, &t), CTX_OK);
    assert_null(t.lang);
    assert_int_equal(t.label, SENT_POSITIVE);
    tags_clear(&t);

    it.text = NULL;
    assert_int_equal(analyzer_tag(a, &it, &t), CTX_OK);
    assert_true(t.score == 0.0);
    assert_int_equal(t.label, SENT_NEUTRAL);
    assert_null(t.lang);
    tags_clear(&t);

    assert_int_equal(analyzer_tag(NULL, &it, &t), CTX_EINVAL);
}

static void test_bad_lexicons(void **state)
{
    (void)state;
    char err[512];
    assert_null(analyzer_new(DATA "/no-such-dir", NULL, err, sizeof err));
    assert_non_null(strstr(err, "vader_lexicon.txt"));
    assert_null(analyzer_new(DATA "/lexicon-bad", NULL, err, sizeof err));
    assert_string_equal(err, DATA "/lexicon-bad/vader_lexicon.txt:4: bad valence 'great'");
    assert_null(analyzer_new(NULL, NULL, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_null_and_blank),
        cmocka_unit_test(test_long_text),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_tag),
        cmocka_unit_test(test_bad_lexicons),
    };
    return run_with_analyzer(tests, VADER_ONLY, NULL);
}
