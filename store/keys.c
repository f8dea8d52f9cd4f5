/* keys.c -- the names of the keys that have a variable part, built here and
 * nowhere else (store/KEYS.md is the map; the fixed names are the KEY_
 * constants of store.h, and the hash tag of each domain is written once
 * there). Each builder writes into the caller's buffer, truncating as
 * snprintf does (STORE_KEY_LEN holds any id this project makes), and returns
 * it, so a key can be built where it is passed.
 *
 * Also here: the item shards' tags and an item's shard (store/KEYS.md "Item
 * shards"), and what a key of the layout before hash tags is called now, for
 * ctxctl migrate-keys and ctxd's start-up check. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "core/tz.h"
#include "store/store.h"

static char *key(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static char *key(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return buf;
}

/* The builders of keys named by one id: "<prefix><id><suffix>". */
#define KEY_OF_ID(name, prefix, suffix)                          \
    char *name(char *buf, size_t len, const char *id)            \
    {                                                            \
        return key(buf, len, prefix "%s" suffix, id ? id : "");  \
    }

KEY_OF_ID(store_key_task, KEY_TASK_PREFIX, "")
KEY_OF_ID(store_key_agent, KEY_AGENT_PREFIX, "")
KEY_OF_ID(store_key_agent_tasks, KEY_AGENT_PREFIX, ":tasks")
KEY_OF_ID(store_key_agent_conns, KEY_AGENT_PREFIX, ":conns")
KEY_OF_ID(store_key_agent_token, KEY_AGENT_TOKEN, "")
KEY_OF_ID(store_key_queue_waiting, KEY_QUEUE_PREFIX, ":waiting")
KEY_OF_ID(store_key_queue_stats, KEY_QUEUE_PREFIX, ":stats")
KEY_OF_ID(store_key_queue_arrivals, KEY_QUEUE_PREFIX, ":arrivals")
KEY_OF_ID(store_key_chat_messages, KEY_CHAT_PREFIX, ":messages")
KEY_OF_ID(store_key_reply, KEY_REPLY_PREFIX, "")
KEY_OF_ID(store_key_item, KEY_ITEM_PREFIX, "")
KEY_OF_ID(store_key_seen, KEY_SEEN_PREFIX, "")
KEY_OF_ID(store_key_source, KEY_SOURCE_PREFIX, "")
KEY_OF_ID(store_key_lease, KEY_LEASE_PREFIX, "")

/* The item shards' hash tags. Shard 0 keeps the items domain's own tag, so a
 * one-shard install has the key names it always had. The others are "i:<s>",
 * or "i:<s>.<k>" with the smallest k that puts shard s, for every cluster of
 * M = s+1..8 masters splitting the slots evenly, on a master none of shards
 * 0..s-1 is on: N shards on N such masters use them all (N <= 8). The slots
 * (CRC16 mod 16384): 15759, 2518, 7612, 10644, 4995, 12388, 380, 9961, then
 * 6399, 2270, 10294, 14359, 2164, 6229, 10418, 14483 (all different).
 * tests/integration/test_shards.py checks the three of a 3-master cluster. */
static const char *const shard_domains[STORE_SHARDS_MAX] = {
    KEY_ITEMS_DOMAIN, "ctx:{i:1}:", "ctx:{i:2.1}:", "ctx:{i:3}:", "ctx:{i:4.22}:",
    "ctx:{i:5.12}:", "ctx:{i:6.1}:", "ctx:{i:7.4}:", "ctx:{i:8}:", "ctx:{i:9}:",
    "ctx:{i:10}:", "ctx:{i:11}:", "ctx:{i:12}:", "ctx:{i:13}:", "ctx:{i:14}:", "ctx:{i:15}:",
};

const char *store_shard_domain(unsigned shard)
{
    return shard < STORE_SHARDS_MAX ? shard_domains[shard] : NULL;
}

unsigned store_item_shard(const char *id, unsigned n)
{
    /* FNV-1a: stable across versions and machines (never the process's hash seed) */
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)(id ? id : ""); *p; p++)
        h = (h ^ *p) * 16777619u;
    return n > 1 ? h % n : 0;
}

unsigned store_shards(const struct store *st)
{
    int n = st && st->cfg ? st->cfg->item_shards : 1;
    return n >= 1 && n <= STORE_SHARDS_MAX ? (unsigned)n : 1;
}

char *store_key_sharded(char *buf, size_t len, unsigned shard, const char *name)
{
    const char *d = store_shard_domain(shard);
    return key(buf, len, "%s%s", d ? d : KEY_ITEMS_DOMAIN, name);
}

char *store_key_item_in(char *buf, size_t len, unsigned shard, const char *item)
{
    const char *d = store_shard_domain(shard);
    return key(buf, len, "%s" KEYN_ITEM_PREFIX "%s", d ? d : KEY_ITEMS_DOMAIN, item ? item : "");
}

char *store_key_seen_in(char *buf, size_t len, unsigned shard, const char *source)
{
    const char *d = store_shard_domain(shard);
    return key(buf, len, "%s" KEYN_SEEN_PREFIX "%s", d ? d : KEY_ITEMS_DOMAIN,
               source ? source : "");
}

char *store_key_conversation(char *buf, size_t len, const char *network, const char *chat,
                             size_t chat_len)
{
    return key(buf, len, KEY_CONVERSATION_PREFIX "%s:%.*s", network, (int)chat_len, chat);
}

char *store_key_index(char *buf, size_t len, const char *dim, const char *value)
{
    return store_key_index_in(buf, len, 0, dim, value);
}

char *store_key_index_in(char *buf, size_t len, unsigned shard, const char *dim,
                         const char *value)
{
    const char *d = store_shard_domain(shard);
    return key(buf, len, "%s" KEYN_IDX_PREFIX "%s:%s", d ? d : KEY_ITEMS_DOMAIN, dim, value);
}

char *store_key_simhash(char *buf, size_t len, unsigned band)
{
    return store_key_simhash_in(buf, len, 0, band);
}

char *store_key_simhash_in(char *buf, size_t len, unsigned shard, unsigned band)
{
    const char *d = store_shard_domain(shard);
    return key(buf, len, "%s" KEYN_SIMHASH_PREFIX "%08x", d ? d : KEY_ITEMS_DOMAIN, band);
}

char *store_key_trend(char *buf, size_t len, enum store_trend_level lv, const char *series,
                      long long ms)
{
    return store_key_trend_in(buf, len, 0, lv, series, ms);
}

char *store_key_trend_in(char *buf, size_t len, unsigned shard, enum store_trend_level lv,
                         const char *series, long long ms)
{
    const char *dom = store_shard_domain(shard);
    if (!dom)
        dom = KEY_ITEMS_DOMAIN;
    long long days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    long long y;
    unsigned m, d;
    tz_civil_from_days(days, &y, &m, &d);
    if (lv == STORE_TREND_MINUTE)
        return key(buf, len, "%s" KEYN_TREND_PREFIX "m:%s:%04lld%02u%02u", dom, series, y, m,
                   d);
    if (lv == STORE_TREND_HOUR)
        return key(buf, len, "%s" KEYN_TREND_PREFIX "h:%s:%04lld%02u", dom, series, y, m);
    return key(buf, len, "%s" KEYN_TREND_PREFIX "d:%s:%04lld", dom, series, y);
}

/* The layout before hash tags: ctx:<first word>..., the domain by that first
 * word. The new name is the old one with the domain's tag after "ctx:". */
static const struct {
    const char *word;       /* up to the first ':' (or the whole name) */
    const char *domain;     /* KEY_*_DOMAIN */
} untagged[] = {
    {"items", KEY_ITEMS_DOMAIN},   {"item", KEY_ITEMS_DOMAIN},
    {"seen", KEY_ITEMS_DOMAIN},    {"source", KEY_ITEMS_DOMAIN},
    {"idx", KEY_ITEMS_DOMAIN},     {"simhash", KEY_ITEMS_DOMAIN},
    {"task", KEY_ROUTING_DOMAIN},  {"queue", KEY_ROUTING_DOMAIN},
    {"agent", KEY_ROUTING_DOMAIN}, {"agents", KEY_ROUTING_DOMAIN},
    {"agent-token", KEY_ROUTING_DOMAIN}, {"agent-events", KEY_ROUTING_DOMAIN},
    {"offers", KEY_ROUTING_DOMAIN}, {"wrapups", KEY_ROUTING_DOMAIN},
    {"routing", KEY_ROUTING_DOMAIN}, {"chat", KEY_ROUTING_DOMAIN},
    {"chats", KEY_ROUTING_DOMAIN}, {"chat-events", KEY_ROUTING_DOMAIN},
    {"conversation", KEY_ROUTING_DOMAIN}, {"reply", KEY_ROUTING_DOMAIN},
    {"outbox", KEY_ROUTING_DOMAIN}, {"replies", KEY_ROUTING_DOMAIN},
    {"control", KEY_CONTROL_DOMAIN},
};

const char *const store_untagged_names[] = {
    "ctx:items:raw", "ctx:items:tagged", "ctx:idx:all", "ctx:agents", "ctx:offers",
    "ctx:routing:events", "ctx:agent-events", "ctx:chat-events", "ctx:outbox",
    "ctx:replies:events", "ctx:control", NULL,
};

ctx_err store_key_untagged(char *buf, size_t len, const char *old)
{
    if (strncmp(old, "ctx:", 4) != 0)
        return CTX_ENOTFOUND;
    const char *rest = old + 4;
    size_t n = strcspn(rest, ":");
    for (size_t i = 0; i < CTX_ARRAY_LEN(untagged); i++)
        if (strlen(untagged[i].word) == n && strncmp(rest, untagged[i].word, n) == 0) {
            int w = snprintf(buf, len, "%s%s", untagged[i].domain, rest);
            return w >= 0 && (size_t)w < len ? CTX_OK : CTX_ETOOBIG;
        }
    return CTX_ENOTFOUND;
}
