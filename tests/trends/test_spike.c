/* test_spike.c -- the spike detector (trends/spike.c) on small hand-made
 * series: one series is a steady rate with a known daily shape, fed minute
 * by minute as ctxd feeds it; each case adds what it is about (a spike, a
 * peak seen every day, a jump of a few posts) and says how many alerts it
 * must give. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "trends/spike.h"

#define DAY 1440
#define DAYS 30

/* Expected counts (no noise: the detector must not need any), at minute t. */
struct scenario {
    const char *name;
    double rate;                /* posts/min */
    int spike_at, spike_len;    /* on the last day, minute of day; 0 len: none */
    double spike_factor;
    int peak_at, peak_len;      /* every day; 0 len: none */
    double peak_factor;
    int want_alerts;            /* raised on the last day */
};

static double count_at(const struct scenario *s, int t)
{
    int tod = t % DAY;
    double c = s->rate * (1 + 0.5 * sin(2 * M_PI * tod / DAY));   /* a daily shape */
    if (s->peak_len && tod >= s->peak_at && tod < s->peak_at + s->peak_len)
        c *= s->peak_factor;
    if (s->spike_len && t >= (DAYS - 1) * DAY + s->spike_at &&
        t < (DAYS - 1) * DAY + s->spike_at + s->spike_len)
        c *= s->spike_factor;
    return floor(c + 0.5);
}

static int run(const struct scenario *s, long long *first_alert)
{
    struct spike_params p;
    spike_params_default(&p);
    struct spike_state st;
    spike_state_init(&st);
    static struct spike_input in;
    int alerts = 0;
    *first_alert = -1;
    for (int t = (DAYS - 1) * DAY; t < DAYS * DAY; t++) {
        for (int m = 0; m < SPIKE_CUR; m++)
            in.cur[m] = count_at(s, t - SPIKE_CUR + 1 + m);
        for (int j = 0; j < SPIKE_REF_DAYS; j++) {
            in.have[j] = true;
            for (int k = 0; k < SPIKE_REF_LEN; k++)
                in.ref[j][k] = count_at(s, t - spike_ref_days[j] * DAY - SPIKE_REF_BEFORE + k);
        }
        struct spike_eval ev;
        if (spike_step(&p, &st, &in, t, &ev) == SPIKE_RAISE) {
            if (alerts++ == 0)
                *first_alert = t - (DAYS - 1) * DAY;
        }
    }
    return alerts;
}

static const struct scenario cases[] = {
    {"steady", 5, 0, 0, 0, 0, 0, 0, 0},
    {"a 5x spike of 60 min alerts once", 5, 600, 60, 5, 0, 0, 0, 1},
    {"a 10x spike on a big series alerts once", 40, 300, 120, 10, 0, 0, 0, 1},
    {"a 3x spike of 30 min alerts once", 8, 900, 30, 3, 0, 0, 0, 1},
    {"a daily peak does not alert", 5, 0, 0, 0, 720, 45, 4, 0},
    {"a spike on top of the daily peak still alerts", 5, 730, 30, 6, 720, 45, 3, 1},
    {"3 -> 9 posts (a small brand, 3x for 3 min) does not alert", 0.75, 600, 3, 3, 0, 0, 0, 0},
    {"a small brand at 10x for 20 min alerts", 0.75, 600, 20, 10, 0, 0, 0, 1},
    {"a 1.5x rise does not alert", 20, 600, 120, 1.5, 0, 0, 0, 0},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long long first;
        int got = run(&cases[i], &first);
        if (got != cases[i].want_alerts)
            fail_msg("%s: %d alerts, want %d", cases[i].name, got, cases[i].want_alerts);
        if (got && (first < cases[i].spike_at || first > cases[i].spike_at + 5))
            fail_msg("%s: alert at minute %lld of the day, the spike began at %d",
                     cases[i].name, first, cases[i].spike_at);
    }
}

static void test_few_reference_days(void **state)
{
    (void)state;
    struct spike_params p;
    spike_params_default(&p);
    static struct spike_input in;
    memset(&in, 0, sizeof in);
    for (int m = 0; m < SPIKE_CUR; m++)
        in.cur[m] = 100;
    in.have[0] = in.have[1] = true;     /* two days of history: not judged */
    struct spike_eval ev;
    spike_score(&p, &in, &ev);
    assert_true(ev.score == 0);
    assert_int_equal(ev.ref_days, 2);
}

static void test_state_text(void **state)
{
    (void)state;
    struct spike_state s = {true, 3, 29000000, 29000042, 12.5}, back;
    char buf[128];
    spike_state_format(&s, buf, sizeof buf);
    assert_int_equal(spike_state_parse(buf, &back), 0);
    assert_true(back.active && back.below == 3 && back.since == 29000000 &&
                back.last == 29000042 && back.peak == 12.5);
    assert_int_equal(spike_state_parse("1 2 3", &back), -1);
    assert_int_equal(spike_state_parse("2 0 0 0 0", &back), -1);
    assert_int_equal(spike_state_parse("0 0 0 0 0 junk", &back), -1);
    assert_int_equal(spike_state_parse(NULL, &back), -1);
    assert_int_equal(back.last, -1);
}

static void test_minute_judged_once(void **state)
{
    (void)state;
    struct spike_params p;
    spike_params_default(&p);
    static struct spike_input in;
    memset(&in, 0, sizeof in);
    for (int j = 0; j < SPIKE_REF_DAYS; j++) {
        in.have[j] = true;
        for (int k = 0; k < SPIKE_REF_LEN; k++)
            in.ref[j][k] = 2;
    }
    for (int m = 0; m < SPIKE_CUR; m++)
        in.cur[m] = m >= SPIKE_CUR - 3 ? 40 : 2;
    struct spike_state st;
    spike_state_init(&st);
    struct spike_eval ev;
    assert_int_equal(spike_step(&p, &st, &in, 100, &ev), SPIKE_RAISE);
    assert_int_equal(spike_step(&p, &st, &in, 100, &ev), SPIKE_NONE);   /* again: ignored */
    assert_int_equal(spike_step(&p, &st, &in, 101, &ev), SPIKE_NONE);   /* still on: once */
    for (int m = 0; m < SPIKE_CUR; m++)
        in.cur[m] = 2;
    enum spike_event e = SPIKE_NONE;
    for (int t = 102; t < 102 + p.clear_minutes && e == SPIKE_NONE; t++)
        e = spike_step(&p, &st, &in, t, &ev);
    assert_int_equal(e, SPIKE_CLEAR);
    assert_false(st.active);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_few_reference_days),
        cmocka_unit_test(test_state_text),
        cmocka_unit_test(test_minute_judged_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
