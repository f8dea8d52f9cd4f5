/* test_date.c -- ctx_date_parse() against tests/data/core/dates.tsv.
 * Each row: a date as found in a feed, and the UTC time it means (RFC 3339)
 * or "-" when parsing must fail. */
#include "tests/collectors/testutil.h"
#include "core/date.h"

static void check(const struct tu_row *r, void *arg)
{
    int *failures = arg;
    long long t = 0;
    int rc = ctx_date_parse(r->col[0], &t);
    char got[CTX_TIME_LEN] = "-";
    if (rc == 0)
        ctx_time_format(t, got);
    if (strcmp(got, r->col[1])) {
        print_error("dates.tsv:%d: '%s' -> %s, want %s\n", r->line, r->col[0], got, r->col[1]);
        (*failures)++;
    }
}

static void test_dates_table(void **state)
{
    (void)state;
    int failures = 0;
    int rows = tu_tsv("tests/data/core/dates.tsv", 2, check, &failures);
    assert_true(rows > 50);
    assert_int_equal(failures, 0);
}

static void test_null_and_huge(void **state)
{
    (void)state;
    long long t = 42;
    assert_int_equal(ctx_date_parse(NULL, &t), -1);
    char big[4096];
    memset(big, '9', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(ctx_date_parse(big, &t), -1);
    memcpy(big, "Thu, 01 Jan 2004 ", 17);
    assert_int_equal(ctx_date_parse(big, &t), -1);
}

/* The calendar arithmetic against the C library's for every day of a few
 * centuries (gmtime_r is fine here: it ignores TZ). */
static void test_days_exhaustive(void **state)
{
    (void)state;
    for (long long day = -800000; day < 800000; day += 1) {
        long long t = day * 86400 + 3723;   /* 01:02:03 */
        if (t < -62135596800LL || t > 253402300799LL)
            continue;                        /* outside 0001-9999: formatting clamps */
        char s[CTX_TIME_LEN], back[CTX_TIME_LEN];
        ctx_time_format(t, s);
        long long u;
        assert_int_equal(ctx_date_parse(s, &u), 0);
        ctx_time_format(u, back);
        assert_string_equal(s, back);
        assert_true(u == t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates_table),
        cmocka_unit_test(test_null_and_huge),
        cmocka_unit_test(test_days_exhaustive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
