/* test_keys.c -- the key builders of store/keys.c against the names
 * store/KEYS.md gives, from a case table, and the script table the Makefile
 * generates from the .lua files of store/ (every SCRIPT_<NAME> names its own file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "store/store.h"

static void test_builders(void **state)
{
    (void)state;
    static const struct {
        char *(*build)(char *buf, size_t len, const char *id);
        const char *id, *want;
    } cases[] = {
        {store_key_task, "task:1", "ctx:task:task:1"},
        {store_key_agent, "ann", "ctx:agent:ann"},
        {store_key_agent_tasks, "ann", "ctx:agent:ann:tasks"},
        {store_key_agent_conns, "ann", "ctx:agent:ann:conns"},
        {store_key_agent_token, "ab12", "ctx:agent-token:ab12"},
        {store_key_queue_waiting, "support-en", "ctx:queue:support-en:waiting"},
        {store_key_queue_waiting, NULL, "ctx:queue::waiting"},
        {store_key_queue_stats, "support-en", "ctx:queue:support-en:stats"},
        {store_key_chat_messages, "chat:9", "ctx:chat:chat:9:messages"},
        {store_key_reply, "rep-00", "ctx:reply:rep-00"},
        {store_key_item, "mastodon:m.s:1", "ctx:item:mastodon:m.s:1"},
        {store_key_seen, "feed", "ctx:seen:feed"},
        {store_key_source, "feed", "ctx:source:feed"},
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(cases); i++) {
        char buf[STORE_KEY_LEN];
        assert_ptr_equal(cases[i].build(buf, sizeof buf, cases[i].id), buf);
        assert_string_equal(buf, cases[i].want);
    }
    char buf[STORE_KEY_LEN];
    assert_string_equal(store_key_conversation(buf, sizeof buf, "telegram", "42:7", 2),
                        "ctx:conversation:telegram:42");
    assert_string_equal(store_key_index(buf, sizeof buf, "brand", "acme"), "ctx:idx:brand:acme");
    assert_string_equal(store_key_simhash(buf, sizeof buf, 0xbeefu), "ctx:simhash:0000beef");
    char small[12];     /* truncated as snprintf truncates, never overrun */
    assert_string_equal(store_key_task(small, sizeof small, "abcdef"), "ctx:task:ab");
}

static void test_script_table(void **state)
{
    (void)state;
    assert_string_equal(store_scripts[SCRIPT_OFFER].name, "offer");
    assert_string_equal(store_scripts[SCRIPT_TOKEN_ROLE].name, "token_role");
    for (int i = 0; i < SCRIPT_COUNT; i++) {
        assert_non_null(store_scripts[i].name);
        assert_non_null(store_scripts[i].body);
        char path[128];
        snprintf(path, sizeof path, "store/%s.lua", store_scripts[i].name);
        FILE *f = fopen(path, "r");
        if (!f)
            fail_msg("%s: no such script file", path);
        char head[256] = "";
        size_t n = fread(head, 1, sizeof head - 1, f);
        fclose(f);
        head[n] = '\0';
        if (strncmp(store_scripts[i].body, head, n) != 0)
            fail_msg("%s: the embedded source differs from the file", path);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(store_scripts[i].name, store_scripts[j].name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builders),
        cmocka_unit_test(test_script_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
