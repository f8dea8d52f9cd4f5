/* test_health.c -- what /healthz calls degraded (store_health_check) from a
 * case table, the reading of group_figures.lua's reply, and the pipe table
 * (each stream, group and dead-letter stream names its pipe). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "store/store.h"

#define LAG (1u << STORE_HEALTH_LAG)
#define PENDING (1u << STORE_HEALTH_PENDING_AGE)
#define UNREAD (1u << STORE_HEALTH_UNREAD_AGE)

static void test_checks(void **state)
{
    (void)state;
    const struct config_health lim = {.max_lag = 100, .max_pending_age = 30};
    static const struct {
        const char *what;
        struct store_group_figures f;
        unsigned want;
        bool required;
    } cases[] = {
        {"idle group",
         {.group = true, .lag = 0, .oldest_pending = -1, .oldest_unread = -1}, 0, true},
        {"busy, within limits",
         {.group = true, .lag = 100, .pending = 64, .oldest_pending = 30, .oldest_unread = 2},
         0, true},
        {"lag past max_lag", {.group = true, .lag = 101, .oldest_pending = -1,
                              .oldest_unread = 1}, LAG, true},
        {"lag unknown is not a failure", {.group = true, .lag = -1, .oldest_pending = -1,
                                          .oldest_unread = -1}, 0, true},
        {"stalled: nothing read for long, lag unknown",
         {.group = true, .lag = -1, .oldest_pending = -1, .oldest_unread = 31}, UNREAD, true},
        {"stuck pending entry", {.group = true, .lag = 0, .pending = 1, .oldest_pending = 300,
                                 .oldest_unread = -1}, PENDING, true},
        {"everything at once", {.group = true, .lag = 5000, .pending = 3, .oldest_pending = 60,
                                .oldest_unread = 60}, LAG | PENDING | UNREAD, true},
        {"no group, none meant to read: nothing to say",
         {.group = false, .length = 9999, .lag = 9999, .oldest_pending = -1,
          .oldest_unread = 900}, 0, false},
        {"no group but one is meant to read: its entries wait",
         {.group = false, .length = 9999, .lag = 9999, .oldest_pending = -1,
          .oldest_unread = 900}, LAG | UNREAD, true},
        {"no group, meant to, nothing waiting", {.group = false, .lag = 0,
                                                 .oldest_pending = -1, .oldest_unread = -1},
         0, true},
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(cases); i++) {
        unsigned got = store_health_check(&cases[i].f, &lim, cases[i].required);
        if (got != cases[i].want)
            fail_msg("%s: got %#x, want %#x", cases[i].what, got, cases[i].want);
    }
    assert_string_equal(store_health_check_name(STORE_HEALTH_LAG), "lag");
    assert_string_equal(store_health_check_name(STORE_HEALTH_UNREAD_AGE), "oldest_unread");
}

static void test_read_reply(void **state)
{
    (void)state;
    long long v[8] = {1, 12, 2, 7, 3, 2, 1500, -1};
    redisReply el[8], *els[8];
    for (int i = 0; i < 8; i++) {
        el[i] = (redisReply){.type = REDIS_REPLY_INTEGER, .integer = v[i]};
        els[i] = &el[i];
    }
    redisReply arr = {.type = REDIS_REPLY_ARRAY, .elements = 8, .element = els};
    struct store_group_figures f;
    assert_int_equal(store_group_figures_read(&arr, &f), CTX_OK);
    assert_true(f.group);
    assert_int_equal(f.length, 12);
    assert_int_equal(f.dead, 2);
    assert_int_equal(f.lag, 7);
    assert_int_equal(f.pending, 3);
    assert_int_equal(f.consumers, 2);
    assert_true(f.oldest_pending == 1.5);
    assert_true(f.oldest_unread == -1);
    arr.elements = 7;               /* another shape: refused, zeroed */
    assert_int_equal(store_group_figures_read(&arr, &f), CTX_EREDIS);
    assert_int_equal(f.length, 0);
    redisReply err = {.type = REDIS_REPLY_ERROR, .str = "NOSCRIPT"};
    assert_int_equal(store_group_figures_read(&err, &f), CTX_EREDIS);
    assert_int_equal(store_group_figures_read(NULL, &f), CTX_EREDIS);
}

static void test_pipes(void **state)
{
    (void)state;
    static const struct { const char *name; enum store_pipe want; } cases[] = {
        {"ctx:{i}:items:raw", STORE_PIPE_RAW},    {"analyze", STORE_PIPE_RAW},
        {"ctx:{i}:items:dead", STORE_PIPE_RAW},   {"ctx:{i}:items:tagged", STORE_PIPE_TAGGED},
        {"ctx:{i}:items:tagged:dead", STORE_PIPE_TAGGED}, {"route", STORE_PIPE_TAGGED},
        {"ctx:{r}:outbox", STORE_PIPE_OUTBOX},    {"ctx:{r}:outbox:dead", STORE_PIPE_OUTBOX},
        {"post", STORE_PIPE_OUTBOX},              {"ctx:{i}:items", STORE_PIPE_COUNT},
        {"ctx:items:raw", STORE_PIPE_COUNT},      /* the names before hash tags */
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(cases); i++)
        if (store_pipe_find(cases[i].name) != cases[i].want)
            fail_msg("%s: got %d", cases[i].name, store_pipe_find(cases[i].name));
    assert_string_equal(store_pipe_info(STORE_PIPE_OUTBOX)->group, GROUP_POST);
    assert_null(store_pipe_info(STORE_PIPE_COUNT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_read_reply),
        cmocka_unit_test(test_pipes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
