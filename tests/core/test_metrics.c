/* test_metrics.c -- the process's counters in the Prometheus text format:
 * series by label values, label escaping, histogram buckets, and the error
 * class of a fetch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "core/metrics.h"

static char *formatted(void)
{
    struct buf b = {0};
    metrics_format(&b);
    return buf_detach(&b);
}

static void assert_has(const char *text, const char *line)
{
    if (!strstr(text, line))
        fail_msg("missing \"%s\" in:\n%s", line, text);
}

static void test_counters_by_label(void **state)
{
    (void)state;
    metrics_reset();
    metrics_add(METRIC_POLLS, "feed", NULL, 0);
    metrics_add(METRIC_POLLS, "feed", NULL, 2);
    metrics_add(METRIC_POLLS, "mastodon", "ignored", 1);
    metrics_add(METRIC_FETCH_ERRORS, "feed", "http_5xx", 1);
    metrics_add(METRIC_FETCH_ERRORS, "feed", "timeout", 3);
    metrics_add(METRIC_FETCH_ERRORS, "feed", "http_5xx", 1);
    metrics_add(METRIC_ITEMS_TAGGED, NULL, NULL, 5);
    char *t = formatted();
    static const char *const want[] = {
        "# HELP ctx_polls_total ",
        "# TYPE ctx_polls_total counter\n",
        "ctx_polls_total{kind=\"feed\"} 2\n",
        "ctx_polls_total{kind=\"mastodon\"} 1\n",
        "ctx_fetch_errors_total{kind=\"feed\",error=\"http_5xx\"} 2\n",
        "ctx_fetch_errors_total{kind=\"feed\",error=\"timeout\"} 3\n",
        "ctx_items_tagged_total 5\n",
        "# TYPE ctx_items_collected_total counter\n",     /* no series yet: header only */
        "ctx_replies_posted_total",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_has(t, want[i]);
    assert_null(strstr(t, "ignored"));
    free(t);
}

static void test_label_escaping(void **state)
{
    (void)state;
    metrics_reset();
    metrics_add(METRIC_DEAD_LETTERS, "a\"b", "c\\d\ne", 1);
    char *t = formatted();
    assert_has(t, "ctx_dead_letters_total{group=\"a\\\"b\",reason=\"c\\\\d\\ne\"} 1\n");
    free(t);
}

static void test_histogram(void **state)
{
    (void)state;
    metrics_reset();
    metrics_observe(TIMING_ANALYZE_PASS, 0.003);
    metrics_observe(TIMING_ANALYZE_PASS, 0.2);
    metrics_observe(TIMING_ANALYZE_PASS, 30);
    char *t = formatted();
    static const char *const want[] = {
        "# TYPE ctx_analyze_pass_seconds histogram\n",
        "ctx_analyze_pass_seconds_bucket{le=\"0.001\"} 0\n",
        "ctx_analyze_pass_seconds_bucket{le=\"0.005\"} 1\n",
        "ctx_analyze_pass_seconds_bucket{le=\"0.25\"} 2\n",
        "ctx_analyze_pass_seconds_bucket{le=\"10\"} 2\n",
        "ctx_analyze_pass_seconds_bucket{le=\"+Inf\"} 3\n",
        "ctx_analyze_pass_seconds_sum 30.203\n",
        "ctx_analyze_pass_seconds_count 3\n",
        "# TYPE ctx_analyze_pass_seconds_max gauge\n",
        "ctx_analyze_pass_seconds_max 30\n",
        "ctx_route_pass_seconds_count 0\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_has(t, want[i]);
    free(t);
}

static void test_fetch_error_class(void **state)
{
    (void)state;
    static const struct { ctx_err err; bool timed_out; long status; const char *want; } cases[] = {
        {CTX_EHTTP, true, 0, "timeout"},
        {CTX_EHTTP, false, 0, "network"},
        {CTX_ETOOBIG, false, 200, "too_big"},
        {CTX_OK, false, 404, "http_4xx"},
        {CTX_OK, false, 429, "http_4xx"},
        {CTX_OK, false, 503, "http_5xx"},
        {CTX_OK, false, 302, "http_other"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(metrics_fetch_error(cases[i].err, cases[i].timed_out,
                                                cases[i].status), cases[i].want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_by_label),
        cmocka_unit_test(test_label_escaping),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_fetch_error_class),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
