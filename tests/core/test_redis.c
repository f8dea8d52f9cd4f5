/* test_redis.c -- the cluster key slot of core/redis.c against the values
 * Redis' CLUSTER KEYSLOT gives (its documentation's examples and the CRC16
 * check value of "123456789", 0x31C3), with hash tags: the first {...} that
 * is not empty decides, an empty {} does not count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "core/ctx.h"
#include "core/redis.h"

static const struct { const char *key; unsigned slot; } cases[] = {
    {"somekey", 11058},
    {"foo{hash_tag}", 2515},
    {"123456789", 0x31C3},
    {"{user1000}.following", 3443},
    {"{user1000}.followers", 3443},
    {"user1000", 3443},
    {"foo{}{bar}", 8363},               /* {} empty: the whole key */
    {"foo{{bar}}zap", 4015},            /* the tag is "{bar" */
    {"foo{bar}{zap}", 5061},            /* the first tag only: "bar" */
    {"ctx:{r}:agents", 7893},
    {"ctx:{r}:task:t1", 7893},
    {"ctx:{i}:items:raw", 15759},
    {"ctx:{c}:control", 7365},
};

static void test_key_slots(void **state)
{
    (void)state;
    for (size_t i = 0; i < CTX_ARRAY_LEN(cases); i++) {
        unsigned got = rconn_key_slot(cases[i].key, strlen(cases[i].key));
        if (got != cases[i].slot)
            fail_msg("%s: slot %u, want %u", cases[i].key, got, cases[i].slot);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
