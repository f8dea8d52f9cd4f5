/* test_rules.c -- the .rules language through the public API.
 *
 * Tables: rules.tsv (items tagged with tests/data/analyzer/rules/good),
 * sample_rules.tsv (the same with etc/rules, the sample a newcomer starts
 * from), rules_errors.tsv (bad folders and the "file:line:col: message" they
 * give). Plus the match limit on a catastrophic pattern and odd inputs.
 * Run from the repository root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>
#include "analyzer/analyzer.h"
#include "analyzer/analyzer_internal.h"
#include "tests/analyzer/tsv.h"

#define LEXICONS "etc/lexicons"
#define DATA     "tests/data/analyzer"
#define RULES    DATA "/rules"

static analyzer *must_new(const char *rules)
{
    char err[512];
    analyzer *a = analyzer_new(LEXICONS, rules, err, sizeof err);
    if (!a)
        fail_msg("analyzer_new(%s): %s", rules, err);
    return a;
}

static void join(const struct strlist *l, char *out, size_t outlen)
{
    size_t o = 0;
    out[0] = '\0';
    if (l->n == 0) {
        snprintf(out, outlen, "-");
        return;
    }
    for (size_t i = 0; i < l->n && o < outlen; i++)
        o += (size_t)snprintf(out + o, outlen - o, "%s%s", i ? "," : "", l->v[i]);
}

/* Tag every row of a table and compare brands, topics, urgent and lang. */
static int run_table(const char *table, const char *rules)
{
    analyzer *a = must_new(rules);
    struct tsv t = tsv_read(table);
    int failed = 0;
    assert_true(t.n > 0);
    for (size_t i = 0; i < t.n; i++) {
        const struct tsv_row *r = &t.rows[i];
        if (r->n != 6) {
            print_error("%s:%d: expected 6 fields, got %d\n", table, r->line, r->n);
            failed++;
            continue;
        }
        struct item it;
        struct tags tg = {0};
        item_init(&it);
        it.title = strcmp(r->f[0], "-") ? r->f[0] : NULL;
        it.text = strcmp(r->f[1], "-") ? r->f[1] : NULL;
        assert_int_equal(analyzer_tag(a, &it, &tg), CTX_OK);
        char brands[512], topics[512];
        join(&tg.brands, brands, sizeof brands);
        join(&tg.topics, topics, sizeof topics);
        const char *urgent = tg.urgent ? "yes" : "no", *lang = tg.lang ? tg.lang : "-";
        if (strcmp(brands, r->f[2]) || strcmp(topics, r->f[3]) || strcmp(urgent, r->f[4]) ||
            strcmp(lang, r->f[5])) {
            print_error("%s:%d: want brands=%s topics=%s urgent=%s lang=%s\n"
                        "%*s got  brands=%s topics=%s urgent=%s lang=%s\n",
                        table, r->line, r->f[2], r->f[3], r->f[4], r->f[5],
                        (int)strlen(table), "", brands, topics, urgent, lang);
            failed++;
        }
        tags_clear(&tg);
    }
    tsv_free(&t);
    analyzer_free(a);
    return failed;
}

static void test_table(void **state)
{
    (void)state;
    assert_int_equal(run_table(DATA "/rules.tsv", RULES "/good"), 0);
}

static void test_sample_rules(void **state)
{
    (void)state;
    char err[512];
    ctx_err rc = analyzer_rules_check("etc/rules", err, sizeof err);
    if (rc != CTX_OK)
        fail_msg("etc/rules: %s", err);
    assert_int_equal(run_table(DATA "/sample_rules.tsv", "etc/rules"), 0);
}

static void test_errors(void **state)
{
    (void)state;
    struct tsv t = tsv_read(DATA "/rules_errors.tsv");
    int failed = 0;
    assert_true(t.n > 0);
    for (size_t i = 0; i < t.n; i++) {
        const struct tsv_row *r = &t.rows[i];
        assert_int_equal(r->n, 3);
        char dir[256], want[512], err[512], err2[512];
        snprintf(dir, sizeof dir, RULES "/%s", r->f[0]);
        snprintf(want, sizeof want, "%s/%s", dir, r->f[1]);
        ctx_err rc = analyzer_rules_check(dir, err, sizeof err);
        analyzer *a = analyzer_new(LEXICONS, dir, err2, sizeof err2);
        if (rc != CTX_EPARSE || strncmp(err, want, strlen(want)) != 0 ||
            !strstr(err, r->f[2]) || a || strcmp(err, err2) != 0) {
            print_error("rules_errors.tsv:%d: want %s ... %s\n"
                        "  rules_check gave %d \"%s\", analyzer_new \"%s\"\n",
                        r->line, want, r->f[2], rc, err, a ? "(built)" : err2);
            failed++;
        }
        analyzer_free(a);
    }
    tsv_free(&t);
    assert_int_equal(failed, 0);
}

static void test_folders(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(analyzer_rules_check(RULES "/good", err, sizeof err), CTX_OK);
    assert_int_equal(analyzer_rules_check(RULES "/empty", err, sizeof err), CTX_OK);
    assert_int_not_equal(analyzer_rules_check(RULES "/no-such-folder", err, sizeof err), CTX_OK);
    assert_non_null(strstr(err, RULES "/no-such-folder: "));
    assert_int_not_equal(analyzer_rules_check(NULL, err, sizeof err), CTX_OK);
    /* a short error buffer truncates, never overflows */
    char tiny[8];
    assert_int_equal(analyzer_rules_check(RULES "/bad-paren", tiny, sizeof tiny), CTX_EPARSE);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
    assert_int_equal(analyzer_rules_check(RULES "/bad-paren", NULL, 0), CTX_EPARSE);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* (a+)+$ on a's ending in b takes 2^n steps; the match limit ends it. */
static void test_catastrophic(void **state)
{
    (void)state;
    analyzer *a = must_new(RULES "/catastrophic");
    struct item it;
    struct tags tg = {0};
    item_init(&it);
    it.text = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab";
    assert_int_equal(analyzer_match_aborts(a), 0);
    double t0 = now();
    assert_int_equal(analyzer_tag(a, &it, &tg), CTX_OK);
    double took = now() - t0;
    assert_true(took < 2.0);                 /* milliseconds in practice, even sanitized */
    assert_false(strlist_has(&tg.topics, "slow"));
    assert_true(strlist_has(&tg.topics, "fine"));   /* the other rules still run */
    assert_int_equal(analyzer_match_aborts(a), 1);
    tags_clear(&tg);

    it.text = "aaaa";                        /* short input: a plain match */
    assert_int_equal(analyzer_tag(a, &it, &tg), CTX_OK);
    assert_true(strlist_has(&tg.topics, "slow"));
    assert_int_equal(analyzer_match_aborts(a), 1);
    tags_clear(&tg);
    analyzer_free(a);
}

/* Every byte value, long texts, and repeated tagging on one analyzer. */
static void test_odd_inputs(void **state)
{
    (void)state;
    analyzer *a = must_new(RULES "/good");
    struct item it;
    struct tags tg = {0};
    item_init(&it);

    char all[256];
    for (int i = 1; i < 256; i++)
        all[i - 1] = (char)i;
    all[255] = '\0';
    it.text = all;
    assert_int_equal(analyzer_tag(a, &it, &tg), CTX_OK);
    tags_clear(&tg);

    size_t n = 200000;
    char *big = malloc(n + 64);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = "acme \xd0\xb0\xff !?"[i % 11];
    strcpy(big + n, " and then acme acres was down");
    it.text = big;
    assert_int_equal(analyzer_tag(a, &it, &tg), CTX_OK);
    assert_true(strlist_has(&tg.brands, "acme"));
    assert_true(strlist_has(&tg.topics, "outage"));
    tags_clear(&tg);
    free(big);
    analyzer_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_sample_rules),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_folders),
        cmocka_unit_test(test_catastrophic),
        cmocka_unit_test(test_odd_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
