/* test_keys.c -- the key builders of store/keys.c against the names
 * store/KEYS.md gives, from a case table, the hash tags of the domains, the
 * renaming of the layout before them, and the script table the Makefile
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
        {store_key_task, "task:1", "ctx:{r}:task:task:1"},
        {store_key_agent, "ann", "ctx:{r}:agent:ann"},
        {store_key_agent_tasks, "ann", "ctx:{r}:agent:ann:tasks"},
        {store_key_agent_conns, "ann", "ctx:{r}:agent:ann:conns"},
        {store_key_agent_token, "ab12", "ctx:{r}:agent-token:ab12"},
        {store_key_queue_waiting, "support-en", "ctx:{r}:queue:support-en:waiting"},
        {store_key_queue_waiting, NULL, "ctx:{r}:queue::waiting"},
        {store_key_queue_stats, "support-en", "ctx:{r}:queue:support-en:stats"},
        {store_key_chat_messages, "chat:9", "ctx:{r}:chat:chat:9:messages"},
        {store_key_reply, "rep-00", "ctx:{r}:reply:rep-00"},
        {store_key_item, "mastodon:m.s:1", "ctx:{i}:item:mastodon:m.s:1"},
        {store_key_seen, "feed", "ctx:{i}:seen:feed"},
        {store_key_source, "feed", "ctx:{i}:source:feed"},
        {store_key_lease, "retention", "ctx:{c}:lease:retention"},
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(cases); i++) {
        char buf[STORE_KEY_LEN];
        assert_ptr_equal(cases[i].build(buf, sizeof buf, cases[i].id), buf);
        assert_string_equal(buf, cases[i].want);
    }
    char buf[STORE_KEY_LEN];
    assert_string_equal(store_key_conversation(buf, sizeof buf, "telegram", "42:7", 2),
                        "ctx:{r}:conversation:telegram:42");
    assert_string_equal(store_key_index(buf, sizeof buf, "brand", "acme"), "ctx:{i}:idx:brand:acme");
    assert_string_equal(store_key_simhash(buf, sizeof buf, 0xbeefu), "ctx:{i}:simhash:0000beef");
    char small[16];     /* truncated as snprintf truncates, never overrun */
    assert_string_equal(store_key_task(small, sizeof small, "abcdef"), "ctx:{r}:task:ab");
}

/* The scripts that build keys inside (route_snapshot, queue_stats,
 * agents_list, requeue_agent, query: store/KEYS.md) are given a prefix and
 * add the id and the suffix themselves: prefix .. id .. suffix must be what
 * the builder makes. */
static void test_script_forms(void **state)
{
    (void)state;
    static const struct {
        char *(*build)(char *buf, size_t len, const char *id);
        const char *prefix, *suffix;
    } cases[] = {
        {store_key_task, KEY_TASK_PREFIX, ""},
        {store_key_agent, KEY_AGENT_PREFIX, ""},
        {store_key_agent_tasks, KEY_AGENT_PREFIX, ":tasks"},
        {store_key_agent_conns, KEY_AGENT_PREFIX, ":conns"},
        {store_key_queue_waiting, KEY_QUEUE_PREFIX, ":waiting"},
        {store_key_queue_arrivals, KEY_QUEUE_PREFIX, ":arrivals"},
        {store_key_item, KEY_ITEM_PREFIX, ""},
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(cases); i++) {
        char buf[STORE_KEY_LEN], want[STORE_KEY_LEN];
        snprintf(want, sizeof want, "%s%s%s", cases[i].prefix, "x:1", cases[i].suffix);
        assert_string_equal(cases[i].build(buf, sizeof buf, "x:1"), want);
    }
}

/* Every key of a domain carries its tag, and the tag is the first '{...}'
 * of the name, so an id with braces in it cannot move a key to another slot. */
static void test_tags(void **state)
{
    (void)state;
    char buf[STORE_KEY_LEN];
    const char *routing[] = {KEY_AGENTS, KEY_OFFERS, KEY_WRAPUPS, KEY_DISCONNECTED,
                             KEY_ROUTING_EVENTS, KEY_AGENT_EVENTS, KEY_CHAT_EVENTS,
                             KEY_CHATS_LEFT, KEY_OUTBOX, KEY_OUTBOX_DELAYED, KEY_REPLY_EVENTS,
                             store_key_task(buf, sizeof buf, "{i}x")};
    for (size_t i = 0; i < CTX_ARRAY_LEN(routing); i++)
        assert_int_equal(strncmp(routing[i], "ctx:{r}:", 8), 0);
    const char *items[] = {KEY_RAW, KEY_TAGGED, KEY_IDX_ALL, KEY_DEAD};
    for (size_t i = 0; i < CTX_ARRAY_LEN(items); i++)
        assert_int_equal(strncmp(items[i], "ctx:{i}:", 8), 0);
    assert_string_equal(KEY_CONTROL, "ctx:{c}:control");
}

/* ctxctl migrate-keys: the layout before hash tags, name by name. */
static void test_untagged(void **state)
{
    (void)state;
    static const struct {
        const char *old, *now;      /* now NULL: not a key of the old layout */
    } cases[] = {
        {"ctx:agents", "ctx:{r}:agents"},
        {"ctx:agents:disconnected", "ctx:{r}:agents:disconnected"},
        {"ctx:agent:ann:tasks", "ctx:{r}:agent:ann:tasks"},
        {"ctx:agent-token:ab12", "ctx:{r}:agent-token:ab12"},
        {"ctx:agent-events", "ctx:{r}:agent-events"},
        {"ctx:task:social:feed:a:1", "ctx:{r}:task:social:feed:a:1"},
        {"ctx:queue:support:waiting", "ctx:{r}:queue:support:waiting"},
        {"ctx:chat:web:1:messages", "ctx:{r}:chat:web:1:messages"},
        {"ctx:chats:left", "ctx:{r}:chats:left"},
        {"ctx:chat-events", "ctx:{r}:chat-events"},
        {"ctx:conversation:telegram:42", "ctx:{r}:conversation:telegram:42"},
        {"ctx:offers", "ctx:{r}:offers"},
        {"ctx:wrapups", "ctx:{r}:wrapups"},
        {"ctx:routing:events", "ctx:{r}:routing:events"},
        {"ctx:reply:rep-1", "ctx:{r}:reply:rep-1"},
        {"ctx:outbox", "ctx:{r}:outbox"},
        {"ctx:outbox:dead", "ctx:{r}:outbox:dead"},
        {"ctx:replies:events", "ctx:{r}:replies:events"},
        {"ctx:items:raw", "ctx:{i}:items:raw"},
        {"ctx:items:tagged:dead", "ctx:{i}:items:tagged:dead"},
        {"ctx:item:feed:a:{x}", "ctx:{i}:item:feed:a:{x}"},
        {"ctx:idx:all", "ctx:{i}:idx:all"},
        {"ctx:idx:brand:acme", "ctx:{i}:idx:brand:acme"},
        {"ctx:seen:feed", "ctx:{i}:seen:feed"},
        {"ctx:source:feed", "ctx:{i}:source:feed"},
        {"ctx:simhash:0000beef", "ctx:{i}:simhash:0000beef"},
        {"ctx:control", "ctx:{c}:control"},
        {"ctx:{r}:agents", NULL},
        {"ctx:{i}:item:x", NULL},
        {"ctx:itemz:x", NULL},
        {"ctx:", NULL},
        {"other:agents", NULL},
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(cases); i++) {
        char buf[STORE_KEY_LEN] = "";
        ctx_err e = store_key_untagged(buf, sizeof buf, cases[i].old);
        if (!cases[i].now) {
            if (e != CTX_ENOTFOUND)
                fail_msg("%s: taken as old (%s)", cases[i].old, buf);
            continue;
        }
        if (e)
            fail_msg("%s: %s", cases[i].old, ctx_strerror(e));
        assert_string_equal(buf, cases[i].now);
    }
    for (size_t i = 0; store_untagged_names[i]; i++) {
        char buf[STORE_KEY_LEN];
        assert_int_equal(store_key_untagged(buf, sizeof buf, store_untagged_names[i]), CTX_OK);
    }
    char small[10];
    assert_int_equal(store_key_untagged(small, sizeof small, "ctx:agents"), CTX_ETOOBIG);
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
        cmocka_unit_test(test_script_forms),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_untagged),
        cmocka_unit_test(test_script_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
