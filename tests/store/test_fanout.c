/* test_fanout.c -- store/fanout.c: the shards' replies merged into the one
 * reply a single shard gives, fed by hand (no Redis): query.lua's answers
 * newest first with the limit, added counts, the series registry's union,
 * alerts_read.lua's runs added bucket by bucket, the group figures, and a lost
 * or failed shard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "store/store_internal.h"

/* Replies built on the stack: strings and integers, arrays of them. */
static redisReply str(const char *s)
{
    return (redisReply){.type = REDIS_REPLY_STRING, .str = (char *)s, .len = strlen(s)};
}

static redisReply num(long long v)
{
    return (redisReply){.type = REDIS_REPLY_INTEGER, .integer = v};
}

static redisReply arr(redisReply **e, size_t n)
{
    return (redisReply){.type = REDIS_REPLY_ARRAY, .element = e, .elements = n};
}

static const char *got_strs[16];
static long long got_ints[16];
static size_t got_n;
static int got_type;
static bool called;

static void on_merged(struct rconn *rc, redisReply *r, void *priv)
{
    (void)rc;
    (void)priv;
    called = true;
    got_type = r ? r->type : -1;
    got_n = 0;
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements && i < 16; i++) {
        got_strs[i] = r->element[i]->str ? strdup(r->element[i]->str) : NULL;
        got_ints[i] = r->element[i]->integer;
        got_n++;
    }
    if (r && r->type == REDIS_REPLY_INTEGER)
        got_ints[0] = r->integer;
}

static void reset(void)
{
    for (size_t i = 0; i < got_n; i++)
        free((char *)got_strs[i]);
    got_n = 0;
    called = false;
}

/* Feed the replies (NULL: lost) to a fan-out as its shards' answers. */
static void feed(enum store_merge how, long limit, redisReply **reps, size_t n)
{
    reset();
    struct store_fanout *f = store_fanout_new((unsigned)n, how, limit, on_merged, NULL);
    void *priv[8];
    for (size_t i = 0; i < n; i++) {
        priv[i] = store_fanout_arm(f);
        store_fanout_sent(f, CTX_OK);
    }
    assert_int_equal(store_fanout_end(NULL, f), CTX_OK);
    for (size_t i = 0; i < n; i++) {
        assert_false(called);
        store_fanout_reply(NULL, reps[i], priv[i]);
    }
    assert_true(called);
}

static void test_query(void **state)
{
    (void)state;
    /* two shards: {last id, json, score...}, each newest first */
    redisReply a0 = str("1700000000005-0"), a1 = str("A3"), a2 = str("3000"), a3 = str("A1"),
               a4 = str("1000");
    redisReply b0 = str("1700000000009-1"), b1 = str("B2"), b2 = str("2000"), b3 = str("B0"),
               b4 = str("500");
    redisReply *ae[] = {&a0, &a1, &a2, &a3, &a4}, *be[] = {&b0, &b1, &b2, &b3, &b4};
    redisReply a = arr(ae, 5), b = arr(be, 5);
    redisReply *reps[] = {&a, &b};
    feed(STORE_MERGE_QUERY, 3, reps, 2);
    assert_int_equal(got_type, REDIS_REPLY_ARRAY);
    assert_int_equal(got_n, 4);
    assert_string_equal(got_strs[0], "1700000000009-1");   /* the newest last id */
    assert_string_equal(got_strs[1], "A3");
    assert_string_equal(got_strs[2], "B2");
    assert_string_equal(got_strs[3], "A1");
    /* nothing anywhere */
    redisReply e0 = str("0-0"), *ee[] = {&e0}, e = arr(ee, 1), *empties[] = {&e, &e};
    feed(STORE_MERGE_QUERY, 10, empties, 2);
    assert_int_equal(got_n, 1);
    assert_string_equal(got_strs[0], "0-0");
    reset();
}

static void test_sum_union(void **state)
{
    (void)state;
    redisReply x = num(3), y = num(4), *ints[] = {&x, &y};
    feed(STORE_MERGE_SUM, 0, ints, 2);
    assert_int_equal(got_type, REDIS_REPLY_INTEGER);
    assert_int_equal(got_ints[0], 7);
    /* the registry: each series once, its newest score, ascending */
    redisReply m1 = str("all"), s1 = str("600"), m2 = str("brand:a"), s2 = str("100");
    redisReply n1 = str("all"), t1 = str("900"), n2 = str("topic:t"), t2 = str("300");
    redisReply *ue[] = {&m1, &s1, &m2, &s2}, *ve[] = {&n1, &t1, &n2, &t2};
    redisReply u = arr(ue, 4), v = arr(ve, 4), *sets[] = {&u, &v};
    feed(STORE_MERGE_SCORES_UP, 0, sets, 2);
    assert_int_equal(got_n, 6);
    assert_string_equal(got_strs[0], "brand:a");
    assert_string_equal(got_strs[2], "topic:t");
    assert_string_equal(got_strs[4], "all");
    assert_string_equal(got_strs[5], "900");
    feed(STORE_MERGE_TOP, 2, sets, 2);
    assert_int_equal(got_n, 2);
    assert_string_equal(got_strs[0], "all");
    assert_string_equal(got_strs[1], "topic:t");
    reset();
}

static redisReply *alerts_got;
static void on_alerts(struct rconn *rc, redisReply *r, void *priv)
{
    (void)rc;
    (void)priv;
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 3);
    assert_string_equal(r->element[0]->str, "1 0 5 0");
    assert_int_equal(r->element[1]->element[0]->integer, 11);
    assert_int_equal(r->element[1]->element[1]->integer, 22);
    assert_int_equal(r->element[2]->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->element[2]->element[1]->integer, 6);
    alerts_got = r;
}

static void test_alerts(void **state)
{
    (void)state;
    redisReply st = str("1 0 5 0"), nil = {.type = REDIS_REPLY_NIL};
    redisReply c1 = num(1), c2 = num(2), d1 = num(10), d2 = num(20), e1 = num(5), e2 = num(6);
    redisReply *r1e[] = {&c1, &c2}, *r2e[] = {&d1, &d2}, *r3e[] = {&e1, &e2};
    redisReply r1 = arr(r1e, 2), r2 = arr(r2e, 2), r3 = arr(r3e, 2);
    redisReply *s0e[] = {&st, &r1, &nil}, *s1e[] = {&nil, &r2, &r3};
    redisReply sh0 = arr(s0e, 3), sh1 = arr(s1e, 3);
    alerts_got = NULL;
    struct store_fanout *f = store_fanout_new(2, STORE_MERGE_ALERTS, 0, on_alerts, NULL);
    void *p0 = store_fanout_arm(f), *p1 = store_fanout_arm(f);
    store_fanout_sent(f, CTX_OK);
    store_fanout_sent(f, CTX_OK);
    assert_int_equal(store_fanout_end(NULL, f), CTX_OK);
    store_fanout_reply(NULL, &sh1, p1);     /* shard 1 first: the state still shard 0's */
    store_fanout_reply(NULL, &sh0, p0);
    assert_non_null(alerts_got);
}

static void test_figures_lost_error(void **state)
{
    (void)state;
    /* {exists, length, dead, lag, pending, consumers, oldest pending, oldest unread} */
    redisReply a[8] = {num(1), num(10), num(1), num(2), num(3), num(2), num(500), num(-1)};
    redisReply b[8] = {num(0), num(0), num(0), num(-1), num(0), num(0), num(-1), num(-1)};
    redisReply c[8] = {num(1), num(5), num(0), num(1), num(1), num(1), num(900), num(40)};
    redisReply *ae[8], *be[8], *ce[8];
    for (int i = 0; i < 8; i++)
        ae[i] = &a[i], be[i] = &b[i], ce[i] = &c[i];
    redisReply ra = arr(ae, 8), rb = arr(be, 8), rc = arr(ce, 8), *reps[] = {&ra, &rb, &rc};
    feed(STORE_MERGE_FIGURES, 0, reps, 3);
    assert_int_equal(got_n, 8);
    const long long want[8] = {1, 15, 1, 3, 4, 2, 900, 40};
    for (int i = 0; i < 8; i++)
        assert_int_equal(got_ints[i], want[i]);
    /* a lost shard: the whole answer is lost */
    redisReply *lost[] = {&ra, NULL};
    feed(STORE_MERGE_FIGURES, 0, lost, 2);
    assert_int_equal(got_type, -1);
    /* an error: the first error */
    redisReply err = {.type = REDIS_REPLY_ERROR, .str = (char *)"ERR no", .len = 6};
    redisReply *bad[] = {&ra, &err};
    feed(STORE_MERGE_FIGURES, 0, bad, 2);
    assert_int_equal(got_type, REDIS_REPLY_ERROR);
    /* nothing sent: the caller is told, cb is never called */
    reset();
    struct store_fanout *f = store_fanout_new(2, STORE_MERGE_SUM, 0, on_merged, NULL);
    (void)store_fanout_arm(f);
    store_fanout_sent(f, CTX_EREDIS);
    assert_int_not_equal(store_fanout_end(NULL, f), CTX_OK);
    assert_false(called);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_sum_union),
        cmocka_unit_test(test_alerts),
        cmocka_unit_test(test_figures_lost_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
