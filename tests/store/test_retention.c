/* test_retention.c -- the pure parts of retention (store/retention.c): stream
 * ids, the MINID a stream may be trimmed to given its consumer groups, the
 * streams trimmed and their periods, the keys it names or scans for, from
 * case tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "store/store.h"

static void test_stream_ids(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        unsigned long long ms, seq;
    } cases[] = {
        {"1764750000000-0", 0, 1764750000000ULL, 0},
        {"5-3", 0, 5, 3},
        {"123", 0, 123, 0},
        {"0-0", 0, 0, 0},
        {"18446744073709551615-18446744073709551615", 0, ~0ULL, ~0ULL},
        {"18446744073709551616-0", -1, 0, 0},   /* one past 64 bits */
        {"", -1, 0, 0},
        {"-5", -1, 0, 0},
        {"5-", -1, 0, 0},
        {"5-3-1", -1, 0, 0},
        {" 5-3", -1, 0, 0},
        {"5-+3", -1, 0, 0},
        {"abc", -1, 0, 0},
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(cases); i++) {
        unsigned long long ms = 7, seq = 7;
        int rc = store_stream_id_parse(cases[i].in, &ms, &seq);
        if (rc != cases[i].rc)
            fail_msg("\"%s\": %d, want %d", cases[i].in, rc, cases[i].rc);
        if (rc == 0 && (ms != cases[i].ms || seq != cases[i].seq))
            fail_msg("\"%s\": %llu-%llu", cases[i].in, ms, seq);
    }
    unsigned long long ms, seq;
    assert_int_equal(store_stream_id_parse(NULL, &ms, &seq), -1);
}

/* Up to three groups per case: {last delivered, oldest pending or NULL}. */
static void test_minid(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        long long cutoff;
        size_t n;
        struct store_group_state g[3];
        const char *want;   /* NULL: -1 */
    } cases[] = {
        {"no group: the cutoff's first id", 1000, 0, {{0}}, "1000-0"},
        {"a group behind the cutoff keeps what it was not delivered", 1000, 1,
         {{"500-3", NULL}}, "500-4"},
        {"a group past the cutoff, nothing pending", 1000, 1, {{"2000-0", NULL}}, "1000-0"},
        {"a group past the cutoff keeps its oldest pending entry", 1000, 1,
         {{"2000-0", "800-1"}}, "800-1"},
        {"\"\" is nothing pending", 1000, 1, {{"2000-0", ""}}, "1000-0"},
        {"pending past the cutoff changes nothing", 1000, 1, {{"3000-0", "1500-0"}}, "1000-0"},
        {"the laggard of several groups wins", 1000, 3,
         {{"2000-0", NULL}, {"900-0", NULL}, {"2500-0", "950-2"}}, "900-1"},
        {"the oldest pending of several groups wins", 1000, 3,
         {{"2000-0", "990-0"}, {"1900-0", NULL}, {"2500-0", "700-9"}}, "700-9"},
        {"a group that never read keeps everything", 1000, 1, {{"0-0", NULL}}, "0-1"},
        {"the last sequence of a millisecond", 1000, 1, {{"5-18446744073709551615", NULL}},
         "6-0"},
        {"a cutoff before the epoch trims nothing", -5, 0, {{0}}, "0-0"},
        {"a last delivered id that is not one", 1000, 1, {{"soon", NULL}}, NULL},
        {"a pending id that is not one", 1000, 1, {{"2000-0", "1-x"}}, NULL},
        {"no last delivered id", 1000, 1, {{NULL, NULL}}, NULL},
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(cases); i++) {
        char out[STORE_ID_LEN] = "unset";
        int rc = store_retain_minid(cases[i].cutoff, cases[i].g, cases[i].n, out);
        if (!cases[i].want) {
            if (rc != -1)
                fail_msg("%s: got %s, want -1", cases[i].what, out);
            continue;
        }
        if (rc != 0 || strcmp(out, cases[i].want) != 0)
            fail_msg("%s: got %d %s, want %s", cases[i].what, rc, out, cases[i].want);
    }
}

/* The streams trimmed, their names and which retention each follows. */
static void test_streams(void **state)
{
    (void)state;
    struct config cfg = {0};
    cfg.retention = (struct config_retention){.items = 30, .tasks = 40, .replies = 50,
                                              .seen = 60, .simhash = 70, .events = 0.5,
                                              .dead = 0};
    struct store st = {.cfg = &cfg};
    static const struct {
        const char *name;
        long long ms;
    } want[] = {
        {"ctx:{i}:items:raw", 30000}, {"ctx:{i}:items:tagged", 30000},
        {"ctx:{r}:outbox", 50000}, {"ctx:{r}:routing:events", 500},
        {"ctx:{r}:agent-events", 500}, {"ctx:{r}:chat-events", 500},
        {"ctx:{r}:replies:events", 500}, {"ctx:{c}:control", 500}, {"ctx:{i}:items:dead", 0},
        {"ctx:{i}:items:tagged:dead", 0}, {"ctx:{r}:outbox:dead", 0},
    };
    assert_int_equal(store_retain_nstreams(), CTX_ARRAY_LEN(want));
    for (size_t i = 0; i < CTX_ARRAY_LEN(want); i++) {
        assert_string_equal(store_retain_stream_name(i), want[i].name);
        assert_int_equal(store_retain_stream_ms(&st, i), want[i].ms);
    }
    assert_null(store_retain_stream_name(CTX_ARRAY_LEN(want)));
    assert_int_equal(store_retain_stream_ms(&st, CTX_ARRAY_LEN(want)), 0);
}

/* The keys the sweeper names or finds: tagged, each in its domain. The SCAN
 * patterns are matched by Redis' glob, where braces are plain characters. */
static void test_keys(void **state)
{
    (void)state;
    char buf[STORE_KEY_LEN];
    assert_string_equal(store_key_lease(buf, sizeof buf, "retention"),
                        "ctx:{c}:lease:retention");
    assert_string_equal(store_retain_pattern(STORE_SCAN_INDEXES, buf, sizeof buf),
                        "ctx:{i}:idx:*:*");
    assert_string_equal(store_retain_pattern(STORE_SCAN_SEEN, buf, sizeof buf),
                        "ctx:{i}:seen:*");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_ids),
        cmocka_unit_test(test_minid),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
