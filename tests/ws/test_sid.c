/* test_sid.c -- the monitor's stream ids ("since"), from a case table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "core/ctx.h"
#include "ws/ws_internal.h"

static const struct { const char *in; int ok; unsigned long long ms, seq; } cases[] = {
    {"0", 1, 0, 0},
    {"0-0", 1, 0, 0},
    {"1764750000000-3", 1, 1764750000000ULL, 3},
    {"18446744073709551615-18446744073709551615", 1, 18446744073709551615ULL,
     18446744073709551615ULL},
    {"18446744073709551616", 0, 0, 0},     /* past 64 bits */
    {"5-18446744073709551616", 0, 0, 0},
    {"", 0, 0, 0},
    {" 5", 0, 0, 0},                        /* strtoull would skip the space */
    {"5- -3", 0, 0, 0},                     /* and wrap a negative sequence */
    {"5--3", 0, 0, 0},
    {"-5", 0, 0, 0},
    {"+5", 0, 0, 0},
    {"5-", 0, 0, 0},
    {"5-+3", 0, 0, 0},
    {"5-3x", 0, 0, 0},
    {"5x", 0, 0, 0},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < CTX_ARRAY_LEN(cases); i++) {
        struct sid s = {0};
        int rc = sid_parse(cases[i].in, &s);
        if ((rc == 0) != cases[i].ok)
            fail_msg("sid_parse(\"%s\") = %d, want %s", cases[i].in, rc,
                     cases[i].ok ? "ok" : "an error");
        if (cases[i].ok) {
            assert_int_equal(s.ms, cases[i].ms);
            assert_int_equal(s.seq, cases[i].seq);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_cases)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
