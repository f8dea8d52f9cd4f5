/* test_explain.c -- analyzer_explain() and the near-duplicate fingerprints.
 *
 * explain.tsv: a text and JSON paths into its explanation with the value
 * each must have; simhash.tsv: pairs of texts that must be near-duplicates
 * or must not. Plus the band keys and reloading (two analyzers side by
 * side). Run from the repository root. */
#include <math.h>
#include "tests/analyzer/analyzer_fixture.h"

/* Follow a path like "sentiment.words.1.negated_by" (numbers index arrays). */
static json_t *at_path(json_t *j, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && j;
         k = strtok_r(NULL, ".", &save)) {
        if (json_is_array(j))
            j = json_array_get(j, strtoul(k, NULL, 10));
        else
            j = json_object_get(j, k);
    }
    return j;
}

/* The value at a path as text: strings bare, numbers to 4 decimals,
 * arrays and objects as their length ("#3"). */
static void value_text(json_t *v, char *out, size_t n)
{
    if (!v)
        snprintf(out, n, "(absent)");
    else if (json_is_string(v))
        snprintf(out, n, "%s", json_string_value(v));
    else if (json_is_number(v))
        snprintf(out, n, "%.4f", json_number_value(v));
    else if (json_is_true(v))
        snprintf(out, n, "true");
    else if (json_is_false(v))
        snprintf(out, n, "false");
    else if (json_is_null(v))
        snprintf(out, n, "null");
    else if (json_is_array(v))
        snprintf(out, n, "#%zu", json_array_size(v));
    else
        snprintf(out, n, "#%zu", json_object_size(v));
}

static int explain_case(const struct tsv_row *r, void *a)
{
    struct item it;
    item_init(&it);
    it.text = r->f[0];
    json_t *ex = NULL;
    assert_int_equal(analyzer_explain(a, &it, &ex), CTX_OK);
    char got[512];
    value_text(at_path(ex, r->f[1]), got, sizeof got);
    int bad = strcmp(got, r->f[2]) != 0;
    if (bad) {
        char *dump = json_dumps(ex, JSON_COMPACT);
        print_error("explain.tsv:%d: %s: want %s, got %s\n  %s\n", r->line, r->f[1], r->f[2],
                    got, dump);
        free(dump);
    }
    /* the explanation's tags are analyzer_tag()'s */
    struct tags tg = {0};
    assert_int_equal(analyzer_tag(a, &it, &tg), CTX_OK);
    json_t *tj = json_object_get(ex, "tags");
    assert_true(fabs(json_number_value(at_path(tj, "sentiment.score")) -
                     round(tg.score * 10000) / 10000) < 1e-9);
    assert_int_equal(json_array_size(json_object_get(tj, "topics")), tg.topics.n);
    tags_clear(&tg);
    json_decref(ex);
    return bad;
}

static void test_explain_table(void **state)
{
    assert_int_equal(tsv_cases("explain.tsv", 3, 6, explain_case, *state), 0);
}

static int simhash_case(const struct tsv_row *r, void *a)
{
    uint64_t x = analyzer_simhash(a, r->f[0]), y = analyzer_simhash(a, r->f[1]);
    unsigned d = analyzer_simhash_distance(x, y);
    int near = strcmp(r->f[2], "near") == 0;
    if (near ? !analyzer_simhash_near(x, y, ANALYZER_SIMHASH_K) : d <= 2 * ANALYZER_SIMHASH_K) {
        print_error("simhash.tsv:%d: %u bits apart, want %s\n", r->line, d, r->f[2]);
        return 1;
    }
    if (near) {   /* near fingerprints share a band key */
        uint32_t kx[ANALYZER_SIMHASH_BANDS], ky[ANALYZER_SIMHASH_BANDS];
        analyzer_simhash_bands(x, kx);
        analyzer_simhash_bands(y, ky);
        int shared = 0;
        for (int b = 0; b < ANALYZER_SIMHASH_BANDS; b++)
            shared |= kx[b] == ky[b];
        if (!shared) {
            print_error("simhash.tsv:%d: near but no band in common\n", r->line);
            return 1;
        }
    }
    return 0;
}

static void test_simhash_table(void **state)
{
    assert_int_equal(tsv_cases("simhash.tsv", 3, 6, simhash_case, *state), 0);
}

static void test_simhash_edges(void **state)
{
    (void)state;
    assert_true(analyzer_simhash(NULL, NULL) == 0);
    assert_true(analyzer_simhash(NULL, "") == 0);
    assert_true(analyzer_simhash(NULL, "!!! ... ???") == 0);
    assert_true(analyzer_simhash(NULL, "same text here") == analyzer_simhash(NULL, "same text here"));
    assert_true(analyzer_simhash(NULL, "one") != 0);
    assert_true(analyzer_simhash(NULL, "\xff\xfe broken \xc3") != 0);
    uint32_t k[ANALYZER_SIMHASH_BANDS];
    analyzer_simhash_bands(0x0123456789ABCDEFull, k);
    assert_int_equal(k[0], 0x0000CDEF);
    assert_int_equal(k[1], 0x000189AB);
    assert_int_equal(k[2], 0x00024567);
    assert_int_equal(k[3], 0x00030123);
    assert_int_equal(analyzer_simhash_distance(0, ~0ull), 64);
    assert_true(analyzer_simhash_near(5, 4, 1));
    assert_false(analyzer_simhash_near(7, 0, 2));
}

/* Reloading is building another analyzer: both work side by side and each
 * is freed on its own. */
static void test_two_analyzers(void **state)
{
    const analyzer *a = *state;
    analyzer *b = fixture_analyzer(LEXICONS, DATA "/rules/good");
    struct item it;
    item_init(&it);
    it.text = "Acme is down, lawsuit coming";
    struct tags ta = {0}, tb = {0};
    assert_int_equal(analyzer_tag(a, &it, &ta), CTX_OK);
    assert_int_equal(analyzer_tag(b, &it, &tb), CTX_OK);
    assert_true(ta.urgent);
    assert_true(strlist_has(&tb.brands, "acme"));
    tags_clear(&tb);
    analyzer_free(b);
    assert_int_equal(analyzer_tag(a, &it, &tb), CTX_OK);
    assert_int_equal(ta.topics.n, tb.topics.n);
    tags_clear(&ta);
    tags_clear(&tb);
    json_t *ex = NULL;
    assert_int_equal(analyzer_explain(NULL, &it, &ex), CTX_EINVAL);
    assert_null(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_explain_table),
        cmocka_unit_test(test_simhash_table),
        cmocka_unit_test(test_simhash_edges),
        cmocka_unit_test(test_two_analyzers),
    };
    return run_with_analyzer(tests, LEXICONS, "etc/rules");
}
