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

char *store_key_task(char *buf, size_t len, const char *task)
{
    return key(buf, len, KEY_TASK_PREFIX "%s", task);
}

char *store_key_agent(char *buf, size_t len, const char *agent)
{
    return key(buf, len, KEY_AGENT_PREFIX "%s", agent);
}

char *store_key_agent_tasks(char *buf, size_t len, const char *agent)
{
    return key(buf, len, KEY_AGENT_PREFIX "%s:tasks", agent);
}

char *store_key_agent_conns(char *buf, size_t len, const char *agent)
{
    return key(buf, len, KEY_AGENT_PREFIX "%s:conns", agent);
}

char *store_key_agent_token(char *buf, size_t len, const char *digest)
{
    return key(buf, len, KEY_AGENT_TOKEN "%s", digest);
}

char *store_key_queue_waiting(char *buf, size_t len, const char *queue)
{
    return key(buf, len, KEY_QUEUE_PREFIX "%s:waiting", queue ? queue : "");
}

char *store_key_queue_stats(char *buf, size_t len, const char *queue)
{
    return key(buf, len, KEY_QUEUE_PREFIX "%s:stats", queue ? queue : "");
}

char *store_key_chat_messages(char *buf, size_t len, const char *task)
{
    return key(buf, len, KEY_CHAT_PREFIX "%s:messages", task);
}

char *store_key_conversation(char *buf, size_t len, const char *network, const char *chat,
                             size_t chat_len)
{
    return key(buf, len, KEY_CONVERSATION_PREFIX "%s:%.*s", network, (int)chat_len, chat);
}

char *store_key_reply(char *buf, size_t len, const char *reply)
{
    return key(buf, len, KEY_REPLY_PREFIX "%s", reply);
}

char *store_key_item(char *buf, size_t len, const char *item)
{
    return key(buf, len, KEY_ITEM_PREFIX "%s", item);
}

char *store_key_seen(char *buf, size_t len, const char *source)
{
    return key(buf, len, KEY_SEEN_PREFIX "%s", source);
}

char *store_key_source(char *buf, size_t len, const char *source)
{
    return key(buf, len, KEY_SOURCE_PREFIX "%s", source);
}

char *store_key_index(char *buf, size_t len, const char *dim, const char *value)
{
    return key(buf, len, KEY_IDX_PREFIX "%s:%s", dim, value);
}

char *store_key_simhash(char *buf, size_t len, unsigned band)
{
    return key(buf, len, KEY_SIMHASH_PREFIX "%08x", band);
}
