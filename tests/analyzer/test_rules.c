/* test_rules.c -- the .rules language through the public API.
 *
 * Tables: rules.tsv (items tagged with tests/data/analyzer/rules/good),
 * sample_rules.tsv (the same with etc/rules, the sample a newcomer starts
 * from), rules_errors.tsv (bad folders and the "file:line:col: message" they
 * give). Plus the match limit on a catastrophic pattern and odd inputs.
 * Run from the repository root. */
#include <time.h>
#include "analyzer/analyzer_internal.h"
#include "tests/analyzer/analyzer_fixture.h"

#define RULES    DATA "/rules"

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

struct tag_run {
    analyzer *a;
    const char *table;
};

/* title, text, then the brands, topics, urgent and lang it must be tagged
 * with ("-": none) */
static int tag_case(const struct tsv_row *r, void *ud)
{
    const struct tag_run *run = ud;
    struct item it;
    struct tags tg = {0};
    item_init(&it);
    it.title = strcmp(r->f[0], "-") ? r->f[0] : NULL;
    it.text = strcmp(r->f[1], "-") ? r->f[1] : NULL;
    assert_int_equal(analyzer_tag(run->a, &it, &tg), CTX_OK);
    char brands[512], topics[512];
    join(&tg.brands, brands, sizeof brands);
    join(&tg.topics, topics, sizeof topics);
    const char *urgent = tg.urgent ? "yes" : "no", *lang = tg.lang ? tg.lang : "-";
    int bad = strcmp(brands, r->f[2]) || strcmp(topics, r->f[3]) || strcmp(urgent, r->f[4]) ||
              strcmp(lang, r->f[5]);
    if (bad)
        print_error("%s:%d: want brands=%s topics=%s urgent=%s lang=%s\n"
                    "%*s got  brands=%s topics=%s urgent=%s lang=%s\n",
                    run->table, r->line, r->f[2], r->f[3], r->f[4], r->f[5],
                    (int)strlen(run->table), "", brands, topics, urgent, lang);
    tags_clear(&tg);
    return bad;
}

/* Tag every row of a table with the rules of a folder. */
static int run_table(const char *table, const char *rules)
{
    struct tag_run run = {fixture_analyzer(LEXICONS, rules), table};
    int failed = tsv_cases(table, 6, 1, tag_case, &run);
    analyzer_free(run.a);
    return failed;
}

static void test_table(void **state)
{
    (void)state;
    assert_int_equal(run_table("rules.tsv", RULES "/good"), 0);
}

static void test_sample_rules(void **state)
{
    (void)state;
    char err[512];
    ctx_err rc = analyzer_rules_check("etc/rules", err, sizeof err);
    if (rc != CTX_OK)
        fail_msg("etc/rules: %s", err);
    assert_int_equal(run_table("sample_rules.tsv", "etc/rules"), 0);
}

/* folder, file, message: the error the folder's rules give, from
 * analyzer_rules_check() and analyzer_new() alike */
static int error_case(const struct tsv_row *r, void *ud)
{
    (void)ud;
    char dir[256], want[512], err[512], err2[512];
    snprintf(dir, sizeof dir, RULES "/%s", r->f[0]);
    snprintf(want, sizeof want, "%s/%s", dir, r->f[1]);
    ctx_err rc = analyzer_rules_check(dir, err, sizeof err);
    analyzer *a = analyzer_new(LEXICONS, dir, err2, sizeof err2);
    int bad = rc != CTX_EPARSE || strncmp(err, want, strlen(want)) != 0 ||
              !strstr(err, r->f[2]) || a || strcmp(err, err2) != 0;
    if (bad)
        print_error("rules_errors.tsv:%d: want %s ... %s\n"
                    "  rules_check gave %d \"%s\", analyzer_new \"%s\"\n",
                    r->line, want, r->f[2], rc, err, a ? "(built)" : err2);
    analyzer_free(a);
    return bad;
}

static void test_errors(void **state)
{
    (void)state;
    assert_int_equal(tsv_cases("rules_errors.tsv", 3, 1, error_case, NULL), 0);
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
    analyzer *a = fixture_analyzer(LEXICONS, RULES "/catastrophic");
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
    analyzer *a = fixture_analyzer(LEXICONS, RULES "/good");
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
