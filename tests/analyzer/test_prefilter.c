/* test_prefilter.c -- the rules prefilter never changes what rules find.
 *
 * prefilter.tsv: patterns and the literals the prefilter requires of them.
 * Then the property: for texts of the corpora (VADER's snippets and the
 * Russian sentences, every 16th, and the same in upper case) and for texts
 * made to trip case folding and word starts, analyzer_tag() with the
 * prefilter gives exactly the tags of analyzer_tag_unfiltered(), which runs
 * every rule, with bench/data/rules-1000 (the benchmark's 1,000 rules) and
 * tests/data/analyzer/rules/prefilter (odd patterns). bench/bench_analyzer
 * --verify checks every corpus text. Run from the repository root. */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "analyzer/analyzer.h"
#include "analyzer/analyzer_internal.h"
#include "tests/analyzer/tsv.h"

#define LEXICONS "etc/lexicons"
#define DATA     "tests/data/analyzer"
#define CORPORA  "../shared/corpora"

static void test_required_table(void **state)
{
    (void)state;
    struct tsv t = tsv_read(DATA "/prefilter.tsv");
    int failed = 0;
    assert_true(t.n > 10);
    for (size_t i = 0; i < t.n; i++) {
        const struct tsv_row *r = &t.rows[i];
        char lits[16][MAX_PF_LIT + 1], got[1024];
        int anch[16];
        int n = analyzer_prefilter_required(r->f[0], strlen(r->f[0]), lits, anch, 16);
        size_t o = 0;
        got[0] = '\0';
        if (n < 0)
            snprintf(got, sizeof got, "-");
        for (int k = 0; k < n && o < sizeof got; k++)
            o += (size_t)snprintf(got + o, sizeof got - o, "%s%s%s", k ? " " : "",
                                  anch[k] ? "^" : "", lits[k]);
        if (strcmp(got, r->f[1]) != 0) {
            print_error("prefilter.tsv:%d: %s: want \"%s\", got \"%s\"\n", r->line, r->f[0],
                        r->f[1], got);
            failed++;
        }
    }
    tsv_free(&t);
    assert_int_equal(failed, 0);
}

static void joined(const struct tags *t, char *out, size_t n)
{
    size_t o = (size_t)snprintf(out, n, "%s|", t->urgent ? "U" : "-");
    for (size_t i = 0; i < t->brands.n && o < n; i++)
        o += (size_t)snprintf(out + o, n - o, "%s,", t->brands.v[i]);
    if (o < n)
        o += (size_t)snprintf(out + o, n - o, "|");
    for (size_t i = 0; i < t->topics.n && o < n; i++)
        o += (size_t)snprintf(out + o, n - o, "%s,", t->topics.v[i]);
}

/* 1 when both ways agree on text. */
static int agree(const analyzer *a, const char *text, size_t *tags)
{
    struct item it;
    item_init(&it);
    it.text = (char *)text;
    struct tags x = {0}, y = {0};
    assert_int_equal(analyzer_tag(a, &it, &x), CTX_OK);
    assert_int_equal(analyzer_tag_unfiltered(a, &it, &y), CTX_OK);
    static char bx[65536], by[65536];
    joined(&x, bx, sizeof bx);
    joined(&y, by, sizeof by);
    *tags += x.topics.n + x.brands.n;
    int ok = strcmp(bx, by) == 0;
    if (!ok)
        print_error("prefilter disagrees on \"%s\":\n  prefiltered %s\n  every rule  %s\n", text,
                    bx, by);
    tags_clear(&x);
    tags_clear(&y);
    return ok;
}

static int each_text(const analyzer *a, const char *path, int column, size_t every, size_t *n,
                     size_t *tags)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s: cannot open (the corpora live in ../shared/corpora)", path);
    char *line = NULL;
    size_t cap = 0, k = 0;
    ssize_t len;
    int bad = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        if (k++ % every)
            continue;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        char *text = line;
        for (int c = 0; c < column && text; c++) {
            text = strchr(text, c == 0 && column == 9 ? ',' : '\t');
            text = text ? text + 1 : NULL;
        }
        if (!text)
            continue;
        bad += !agree(a, text, tags);
        for (char *p = text; *p; p++)   /* and shouted */
            *p = (char)toupper((unsigned char)*p);
        bad += !agree(a, text, tags);
        (*n) += 2;
    }
    free(line);
    fclose(f);
    return bad;
}

static void test_corpus_1000(void **state)
{
    (void)state;
    char err[512];
    analyzer *a = analyzer_new(LEXICONS, "bench/data/rules-1000", err, sizeof err);
    if (!a)
        fail_msg("analyzer_new: %s", err);
    size_t n = 0, tags = 0;
    int bad = 0;
    bad += each_text(a, CORPORA "/vader/movieReviewSnippets_GroundTruth.txt", 2, 16, &n, &tags);
    bad += each_text(a, CORPORA "/vader/amazonReviewSnippets_GroundTruth.txt", 2, 16, &n, &tags);
    bad += each_text(a, CORPORA "/ru/opensentimentcorpus-dev.csv", 0, 16, &n, &tags);
    print_message("%zu texts, %zu tags, %d disagreements\n", n, tags, bad);
    assert_true(n > 1500);
    assert_true(tags > n / 2);       /* the rules do fire */
    assert_int_equal(bad, 0);
    analyzer_free(a);
}

static void test_odd_patterns(void **state)
{
    (void)state;
    char err[512];
    analyzer *a = analyzer_new(LEXICONS, DATA "/rules/prefilter", err, sizeof err);
    if (!a)
        fail_msg("analyzer_new: %s", err);
    struct tsv t = tsv_read(DATA "/prefilter_texts.tsv");
    size_t tags = 0;
    int bad = 0;
    for (size_t i = 0; i < t.n; i++)
        bad += !agree(a, t.rows[i].f[0], &tags);
    print_message("%zu texts, %zu tags\n", t.n, tags);
    assert_true(tags > t.n / 2);
    tsv_free(&t);
    assert_int_equal(bad, 0);
    analyzer_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_required_table),
        cmocka_unit_test(test_odd_patterns),
        cmocka_unit_test(test_corpus_1000),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
