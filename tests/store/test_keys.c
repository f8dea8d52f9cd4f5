/* test_keys.c -- the key builders of store/keys.c against the names
 * store/KEYS.md gives, from a case table, the hash tags of the domains, the
 * renaming of the layout before them, and the script table the Makefile
 * generates from the .lua files of store/ (every SCRIPT_<NAME> names its own file). */
#include <setjmp.h>
#include <stdbool.h>
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
                             KEY_CHATS_LEFT, KEY_CHATS_LIVE, KEY_OUTBOX, KEY_OUTBOX_DELAYED,
                             KEY_REPLY_EVENTS,
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

/* CRC16 (XMODEM) mod 16384 of a tag: the cluster slot of its keys. */
static unsigned slot_of(const char *tag, size_t len)
{
    unsigned crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (unsigned)(unsigned char)tag[i] << 8;
        for (int b = 0; b < 8; b++)
            crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    return crc % 16384;
}

static unsigned shard_slot(unsigned shard)
{
    const char *d = store_shard_domain(shard), *open = strchr(d, '{'), *close = strchr(d, '}');
    return slot_of(open + 1, (size_t)(close - open - 1));
}

/* The master of a slot when M masters split the slots as redis-cli --cluster
 * create does (16384 / M each, rounded). */
static unsigned master_of(unsigned slot, unsigned m)
{
    double per = 16384.0 / m, cursor = 0;
    unsigned first = 0;
    for (unsigned i = 0; i < m; i++) {
        unsigned last = i == m - 1 ? 16383 : (unsigned)(cursor + per - 1 + 0.5);
        if (slot >= first && slot <= last)
            return i;
        first = last + 1;
        cursor += per;
    }
    return m;
}

static void test_item_shards(void **state)
{
    (void)state;
    char buf[STORE_KEY_LEN];
    /* shard 0 is the items domain itself: a one-shard install keeps its names */
    assert_string_equal(store_shard_domain(0), KEY_ITEMS_DOMAIN);
    assert_null(store_shard_domain(STORE_SHARDS_MAX));
    assert_string_equal(store_key_sharded(buf, sizeof buf, 0, KEYN_RAW), KEY_RAW);
    assert_string_equal(store_key_sharded(buf, sizeof buf, 1, KEYN_RAW), "ctx:{i:1}:items:raw");
    assert_string_equal(store_key_item_in(buf, sizeof buf, 2, "x:1"), "ctx:{i:2.1}:item:x:1");
    assert_string_equal(store_key_seen_in(buf, sizeof buf, 3, "acme"), "ctx:{i:3}:seen:acme");
    assert_string_equal(store_key_index_in(buf, sizeof buf, 1, "brand", "acme"),
                        "ctx:{i:1}:idx:brand:acme");
    assert_string_equal(store_key_trend_in(buf, sizeof buf, 1, STORE_TREND_DAY, "all", 0),
                        "ctx:{i:1}:tr:d:all:1970");
    assert_string_equal(store_key_item_in(buf, sizeof buf, 0, "x"), "ctx:{i}:item:x");
    assert_string_equal(store_key_simhash_in(buf, sizeof buf, 1, 0xab), "ctx:{i:1}:simhash:000000ab");
    /* every shard its own slot; N shards on N evenly split masters: all of them */
    for (unsigned a = 0; a < STORE_SHARDS_MAX; a++)
        for (unsigned b = a + 1; b < STORE_SHARDS_MAX; b++)
            assert_int_not_equal(shard_slot(a), shard_slot(b));
    assert_int_equal(shard_slot(0), 15759);
    for (unsigned m = 2; m <= 8; m++) {
        bool used[8] = {0};
        for (unsigned s = 0; s < m; s++) {
            unsigned at = master_of(shard_slot(s), m);
            if (used[at])
                fail_msg("%u shards on %u masters: shard %u shares master %u", m, m, s, at);
            used[at] = true;
        }
    }
    /* the shard of an id: FNV-1a mod n, the same on every machine and version */
    static const struct {
        const char *id;
        unsigned n, want;
    } cases[] = {
        {"feed:acme:post-1", 3, 1}, {"feed:acme:post-1", 16, 7}, {"mastodon:m.s:1", 3, 0},
        {"a", 16, 12}, {"", 3, 1}, {"anything", 1, 0}, {"anything", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(store_item_shard(cases[i].id, cases[i].n), cases[i].want);
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
        cmocka_unit_test(test_item_shards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
