/* test_tz.c -- core/tz.c: zone names (path traversal refused), the TZif
 * reader against tests/data/core/tz.tsv (offsets, local day starts across
 * DST changes, the footer rule past 2037, a southern zone, a :30 zone), and
 * against the C library's localtime_r() (TZ set in this test process only)
 * every few hours of 1900..2050 for a few zones. */
#include "tests/collectors/testutil.h"
#include <time.h>
#include "core/tz.h"

static void test_names(void **state)
{
    (void)state;
    const char *good[] = {"Europe/Moscow", "UTC", "Etc/GMT+3", "America/Argentina/Buenos_Aires",
                          "America/Port-au-Prince", "Etc/GMT-14"};
    const char *bad[] = {"", "/etc/passwd", "../etc/passwd", "Europe/../../etc/passwd", "..",
                         ".", "Europe//Moscow", "Europe/", "Europe/.hidden", "Europe/Mos cow",
                         "Europe\\Moscow", "-rf", "Europe/Moscow\n",
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < CTX_ARRAY_LEN(good); i++)
        assert_true(tz_name_ok(good[i]));
    for (size_t i = 0; i < CTX_ARRAY_LEN(bad); i++)
        if (tz_name_ok(bad[i]))
            fail_msg("'%s' taken as a zone name", bad[i]);
    struct tz *tz = (struct tz *)1;
    assert_int_equal(tz_load(NULL, "../../etc/passwd", &tz), CTX_EINVAL);
    assert_null(tz);
    assert_int_equal(tz_load(NULL, "Europe", &tz), CTX_EINVAL);       /* a folder */
    assert_int_equal(tz_load(NULL, "No/Such_Zone", &tz), CTX_ENOTFOUND);
}

static void test_bad_bytes(void **state)
{
    (void)state;
    struct tz *tz;
    assert_int_equal(tz_parse((const unsigned char *)"hello", 5, &tz), CTX_EINVAL);
    size_t n = 0;
    char *f = tu_read("/usr/share/zoneinfo/Europe/Moscow", &n);
    assert_non_null(f);
    for (size_t cut = 0; cut < n; cut += 7) {       /* truncated anywhere: refused or read */
        if (tz_parse((const unsigned char *)f, cut, &tz) == CTX_OK)
            tz_free(tz);
    }
    assert_int_equal(tz_parse((const unsigned char *)f, n, &tz), CTX_OK);
    tz_free(tz);
    free(f);
}

static void check(const struct tu_row *r, void *arg)
{
    int *failures = arg;
    struct tz *tz;
    long long t, start, next;
    if (tz_load(NULL, r->col[0], &tz) || ctx_date_parse(r->col[1], &t) ||
        ctx_date_parse(r->col[3], &start) || ctx_date_parse(r->col[4], &next)) {
        print_error("tz.tsv:%d: cannot load or parse\n", r->line);
        (*failures)++;
        return;
    }
    char got[CTX_TIME_LEN], gs[CTX_TIME_LEN], gn[CTX_TIME_LEN];
    tz_format(tz, t, got);
    ctx_time_format(tz_day_start(tz, t), gs);
    ctx_time_format(tz_day_next(tz, t), gn);
    if (strcmp(got, r->col[2]) || strcmp(gs, r->col[3]) || strcmp(gn, r->col[4])) {
        print_error("tz.tsv:%d: %s %s -> %s, day %s .. %s; want %s, %s .. %s\n", r->line,
                    r->col[0], r->col[1], got, gs, gn, r->col[2], r->col[3], r->col[4]);
        (*failures)++;
    }
    tz_free(tz);
}

static void test_table(void **state)
{
    (void)state;
    int failures = 0;
    assert_true(tu_tsv("tests/data/core/tz.tsv", 5, check, &failures) >= 15);
    assert_int_equal(failures, 0);
}

/* Against the C library, which reads the same files. */
static void test_against_libc(void **state)
{
    (void)state;
    const char *zones[] = {"Europe/Moscow", "Europe/Berlin", "America/New_York",
                           "Australia/Sydney", "Asia/Kolkata", "America/Santiago",
                           "Pacific/Chatham", "Africa/Casablanca"};
    for (size_t z = 0; z < CTX_ARRAY_LEN(zones); z++) {
        struct tz *tz;
        assert_int_equal(tz_load(NULL, zones[z], &tz), CTX_OK);
        setenv("TZ", zones[z], 1);
        tzset();
        int bad = 0;
        for (long long t = -2208988800LL; t < 2524608000LL && bad < 5; t += 3 * 3600 + 17) {
            time_t tt = (time_t)t;
            struct tm tm;
            localtime_r(&tt, &tm);
            if (tm.tm_gmtoff != tz_offset(tz, t)) {
                char s[CTX_TIME_LEN];
                ctx_time_format(t, s);
                print_error("%s at %s: libc %ld, tz %d\n", zones[z], s, (long)tm.tm_gmtoff,
                            tz_offset(tz, t));
                bad++;
            }
        }
        assert_int_equal(bad, 0);
        /* every local day start is a local midnight (or the first instant of the date) */
        for (long long t = 1577836800LL; t < 1893456000LL; t += 86400 / 3) {
            long long s = tz_day_start(tz, t), n = tz_day_next(tz, t);
            assert_true(s <= t && t < n);
            assert_true(n - s >= 22 * 3600 && n - s <= 26 * 3600);
            assert_int_equal(tz_day_start(tz, n), n);
        }
        tz_free(tz);
    }
    unsetenv("TZ");
}

static void test_utc_null(void **state)
{
    (void)state;
    char s[CTX_TIME_LEN];
    tz_format(NULL, 1796256000LL, s);
    assert_string_equal(s, "2026-12-03T00:00:00Z");
    assert_int_equal(tz_day_start(NULL, 1796256000LL + 5), 1796256000LL);
    assert_int_equal(tz_day_next(NULL, 1796256000LL), 1796256000LL + 86400);
    assert_int_equal(tz_offset(NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),      cmocka_unit_test(test_bad_bytes),
        cmocka_unit_test(test_table),      cmocka_unit_test(test_against_libc),
        cmocka_unit_test(test_utc_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
