/* keys.c -- the names of the keys that have a variable part, built here and
 * nowhere else (store/KEYS.md is the map; the fixed names are the KEY_
 * constants of store.h). Each builder writes into the caller's buffer,
 * truncating as snprintf does (STORE_KEY_LEN holds any id this project
 * makes), and returns it, so a key can be built where it is passed. */
#include <stdarg.h>
#include <stdio.h>
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
KEY_OF_ID(store_key_chat_messages, KEY_CHAT_PREFIX, ":messages")
KEY_OF_ID(store_key_reply, KEY_REPLY_PREFIX, "")
KEY_OF_ID(store_key_item, KEY_ITEM_PREFIX, "")
KEY_OF_ID(store_key_seen, KEY_SEEN_PREFIX, "")
KEY_OF_ID(store_key_source, KEY_SOURCE_PREFIX, "")

char *store_key_conversation(char *buf, size_t len, const char *network, const char *chat,
                             size_t chat_len)
{
    return key(buf, len, KEY_CONVERSATION_PREFIX "%s:%.*s", network, (int)chat_len, chat);
}

char *store_key_index(char *buf, size_t len, const char *dim, const char *value)
{
    return key(buf, len, KEY_IDX_PREFIX "%s:%s", dim, value);
}

char *store_key_simhash(char *buf, size_t len, unsigned band)
{
    return key(buf, len, KEY_SIMHASH_PREFIX "%08x", band);
}

/* retention (store/retention.c) */
KEY_OF_ID(store_key_lease, KEY_LEASE_PREFIX, "")

char *store_key_dead(char *buf, size_t len, const char *stream)
{
    return key(buf, len, "%s:dead", stream);
}
