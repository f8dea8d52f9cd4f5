/* test_trends.c -- the pure parts of ws/trends.c and store/trends.c: bucket
 * plans (UTC minutes and hours, UTC days, Moscow and Berlin local days
 * across a DST change), the bucket of an instant, the point bound, the
 * instant an item is counted at, bucket and key-period arithmetic, trend
 * key names, CSV cells, series names and times. */
#include "tests/collectors/testutil.h"
#include "core/tz.h"
#include "store/store.h"
#include "ws/ws_internal.h"

static long long T(const char *s)
{
    long long t;
    assert_int_equal(ctx_date_parse(s, &t), 0);
    return t;
}

static void test_plan_utc(void **state)
{
    (void)state;
    struct trends_plan p;
    assert_int_equal(trends_plan_make(&p, TRENDS_HOUR, NULL, T("2026-12-03T10:30:00Z"),
                                      T("2026-12-03T13:00:00Z"), 100), CTX_OK);
    assert_int_equal(p.n, 3);                           /* 10:00, 11:00, 12:00 */
    assert_true(p.start[0] == T("2026-12-03T10:00:00Z"));
    assert_int_equal(p.level, STORE_TREND_HOUR);
    assert_int_equal(trends_plan_index(&p, T("2026-12-03T11:59:59Z")), 1);
    assert_int_equal(trends_plan_index(&p, T("2026-12-03T13:00:00Z")), -1);
    assert_int_equal(trends_plan_index(&p, T("2026-12-03T09:59:59Z")), -1);
    trends_plan_free(&p);
    assert_int_equal(trends_plan_make(&p, TRENDS_MINUTE, NULL, 0, 86400 * 365, 100000),
                     CTX_ETOOBIG);
    assert_int_equal(trends_plan_make(&p, TRENDS_MINUTE, NULL, 100, 100, 10), CTX_EINVAL);
    assert_int_equal(trends_plan_make(&p, TRENDS_DAY, NULL, T("2026-12-03T10:30:00Z"),
                                      T("2026-12-05T00:00:01Z"), 10), CTX_OK);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.level, STORE_TREND_DAY);
    trends_plan_free(&p);
}

static void test_plan_local_days(void **state)
{
    (void)state;
    struct tz *msk, *ber;
    assert_int_equal(tz_load(NULL, "Europe/Moscow", &msk), CTX_OK);
    assert_int_equal(tz_load(NULL, "Europe/Berlin", &ber), CTX_OK);
    struct trends_plan p;
    assert_int_equal(trends_plan_make(&p, TRENDS_DAY, msk, T("2026-12-02T22:00:00Z"),
                                      T("2026-12-04T21:00:00Z"), 10), CTX_OK);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.level, STORE_TREND_HOUR);        /* composed of hours */
    assert_true(p.start[0] == T("2026-12-02T21:00:00Z"));
    assert_true(p.start[1] == T("2026-12-03T21:00:00Z"));
    assert_int_equal(trends_plan_index(&p, T("2026-12-03T20:59:59Z")), 0);
    assert_int_equal(trends_plan_index(&p, T("2026-12-03T21:00:00Z")), 1);
    trends_plan_free(&p);
    /* Berlin, 29 March 2026: a 23-hour day */
    assert_int_equal(trends_plan_make(&p, TRENDS_DAY, ber, T("2026-03-28T23:00:00Z"),
                                      T("2026-03-30T22:00:00Z"), 10), CTX_OK);
    assert_int_equal(p.n, 2);
    assert_true(p.start[1] - p.start[0] == 23 * 3600);
    assert_int_equal(trends_plan_index(&p, T("2026-03-29T21:59:59Z")), 0);
    assert_int_equal(trends_plan_index(&p, T("2026-03-29T22:00:00Z")), 1);
    trends_plan_free(&p);
    assert_int_equal(trends_plan_make(&p, TRENDS_DAY, msk, 0, 86400LL * 400, 365), CTX_ETOOBIG);
    tz_free(msk);
    tz_free(ber);
}

static void test_counted_at(void **state)
{
    (void)state;
    long long now = 1796256000000LL, h = 3600000LL, late = 48 * h, skew = 300000;
    assert_true(store_trend_when(now - 5 * h, now - 1, now, late, skew) == now - 5 * h);
    assert_true(store_trend_when(now - 49 * h, now - 1, now, late, skew) == now - 1);
    assert_true(store_trend_when(now + 2 * h, now - 1, now, late, skew) == now - 1);
    assert_true(store_trend_when(now + 60000, now - 1, now, late, skew) == now + 60000);
    assert_true(store_trend_when(0, 0, now, late, skew) == now);
    assert_true(store_trend_when(now - 49 * h, 0, now, late, skew) == now);
}

static void test_buckets_and_keys(void **state)
{
    (void)state;
    long long ms = T("2026-12-31T23:59:59Z") * 1000;
    assert_true(store_trend_bucket(STORE_TREND_MINUTE, ms) == ms / 60000);
    assert_true(store_trend_bucket(STORE_TREND_HOUR, ms) == ms / 3600000);
    assert_true(store_trend_bucket(STORE_TREND_DAY, ms) == ms / 86400000);
    assert_true(store_trend_bucket(STORE_TREND_MINUTE, -1) == -1);
    assert_true(store_trend_key_end(STORE_TREND_MINUTE, ms) == T("2027-01-01T00:00:00Z") * 1000);
    assert_true(store_trend_key_end(STORE_TREND_HOUR, ms) == T("2027-01-01T00:00:00Z") * 1000);
    assert_true(store_trend_key_end(STORE_TREND_DAY, ms) == T("2027-01-01T00:00:00Z") * 1000);
    assert_true(store_trend_key_end(STORE_TREND_HOUR, T("2026-02-10T00:00:00Z") * 1000) ==
                T("2026-03-01T00:00:00Z") * 1000);
    char k[STORE_KEY_LEN];
    assert_string_equal(store_key_trend(k, sizeof k, STORE_TREND_MINUTE, "brand:acme", ms),
                        "ctx:{i}:tr:m:brand:acme:20261231");
    assert_string_equal(store_key_trend(k, sizeof k, STORE_TREND_HOUR, "all", ms),
                        "ctx:{i}:tr:h:all:202612");
    assert_string_equal(store_key_trend(k, sizeof k, STORE_TREND_DAY, "topic:outage", ms),
                        "ctx:{i}:tr:d:topic:outage:2026");
}

static void test_csv_series_times(void **state)
{
    (void)state;
    struct buf b = {0};
    trends_csv_cell(&b, "brand:acme");
    buf_putc(&b, '|');
    trends_csv_cell(&b, "topic:a,b");
    buf_putc(&b, '|');
    trends_csv_cell(&b, "say \"hi\"");
    buf_putc(&b, '|');
    trends_csv_cell(&b, "two\nlines");
    assert_string_equal(buf_str(&b), "brand:acme|\"topic:a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"");
    buf_free(&b);
    assert_true(trends_series_ok("all"));
    assert_true(trends_series_ok("brand:acme-cloud"));
    assert_true(trends_series_ok("topic:доставка"));
    assert_false(trends_series_ok("brand:"));
    assert_false(trends_series_ok("colour:red"));
    assert_false(trends_series_ok("brand"));
    assert_false(trends_series_ok("brand:a\tb"));
    long long t;
    assert_int_equal(trends_parse_time("1796256000", &t), 0);
    assert_true(t == 1796256000LL);
    assert_int_equal(trends_parse_time("2026-12-03T00:00:00+03:00", &t), 0);
    assert_true(t == 1796245200LL);
    assert_int_equal(trends_parse_time("yesterday", &t), -1);
    assert_int_equal(trends_parse_time("", &t), -1);
    enum trends_bucket bk;
    assert_int_equal(trends_bucket_parse("day", &bk), 0);
    assert_int_equal(bk, TRENDS_DAY);
    assert_int_equal(trends_bucket_parse("1h", &bk), 0);
    assert_int_equal(bk, TRENDS_HOUR);
    assert_int_equal(trends_bucket_parse("week", &bk), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_utc),       cmocka_unit_test(test_plan_local_days),
        cmocka_unit_test(test_counted_at),     cmocka_unit_test(test_buckets_and_keys),
        cmocka_unit_test(test_csv_series_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
