/* store.h -- Redis as the system of record: key layout, Lua scripts and
 * connections (store/KEYS.md documents every key).
 *
 * A store owns one command connection shared by every role of the process;
 * a role that issues blocking reads (XREADGROUP/XREAD ... BLOCK) asks for a
 * connection of its own with store_conn_new(), since a blocked connection
 * answers nothing else. Scripts are loaded on each connection as it comes
 * up and called by SHA. */
#ifndef CTX_STORE_H
#define CTX_STORE_H

#include <stdbool.h>
#include <uv.h>
#include "core/config.h"
#include "core/redis.h"
#include <jansson.h>

#define KEY_RAW          "ctx:items:raw"      /* stream: collected, untagged */
#define KEY_TAGGED       "ctx:items:tagged"   /* stream: tagged items, in order */
#define KEY_ITEM_PREFIX  "ctx:item:"          /* hash per item: json, sid */
#define KEY_SEEN_PREFIX  "ctx:seen:"          /* set per source: item ids seen */
#define KEY_SOURCE_PREFIX "ctx:source:"       /* hash per source: poll state */
#define KEY_IDX_ALL      "ctx:idx:all"        /* zset: item ids by published ms */
#define KEY_IDX_PREFIX   "ctx:idx:"           /* zsets: sentiment:<l>, brand:<b>, topic:<t>,
                                                 complaint:true|false, reason:<r> */
#define KEY_DEAD         "ctx:items:dead"     /* stream: raw entries that were not items */
#define GROUP_ANALYZE    "analyze"
#define KEY_SIMHASH_PREFIX "ctx:simhash:"     /* list per band key: "<hex simhash> <item id>" */

#define KEY_REPLY_PREFIX "ctx:reply:"         /* hash per reply: text, status, attempts... */
#define KEY_OUTBOX       "ctx:outbox"         /* stream: replies to post (id) */
#define KEY_OUTBOX_DELAYED "ctx:outbox:delayed" /* zset: reply ids by retry due ms */
#define KEY_REPLY_EVENTS "ctx:replies:events" /* stream: reply status changes */
#define GROUP_POST       "post"

/* routing (docs/routing.md) */
#define KEY_TASK_PREFIX   "ctx:task:"          /* hash per task */
#define KEY_QUEUE_PREFIX  "ctx:queue:"         /* <q>:waiting zset (order score), <q>:stats hash */
#define KEY_AGENT_PREFIX  "ctx:agent:"         /* hash per agent; <id>:tasks set, <id>:conns zset */
#define KEY_AGENTS        "ctx:agents"         /* set of agent ids */
#define KEY_AGENT_TOKEN   "ctx:agent-token:"   /* <sha256 of token> -> agent id */
#define KEY_OFFERS        "ctx:offers"         /* zset: task id -> offer expiry ms */
#define KEY_WRAPUPS       "ctx:wrapups"        /* zset: agent id -> wrap-up end ms */
#define KEY_DISCONNECTED  "ctx:agents:disconnected" /* zset: agent id -> since ms */
#define KEY_ROUTING_EVENTS "ctx:routing:events" /* stream: queued, offered, accepted... */
#define KEY_AGENT_EVENTS  "ctx:agent-events"   /* stream: frames for agent connections */
#define KEY_CHAT_EVENTS   "ctx:chat-events"    /* stream: frames for customer connections */
#define KEY_CHAT_PREFIX   "ctx:chat:"          /* <task>:messages list */
#define KEY_CHATS_LEFT    "ctx:chats:left"     /* zset: web chats whose customer dropped -> ms */
#define KEY_CONVERSATION_PREFIX "ctx:conversation:" /* <network>:<chat> -> open chat task */
#define GROUP_ROUTE       "route"              /* on ctx:items:tagged: escalation */
#define KEY_CONTROL       "ctx:control"        /* stream: commands to every ctxd (cmd) */

#define RAW_STREAM_CAP    "1000000"
#define TAGGED_STREAM_CAP "100000"

/* Keys with a variable part (store/keys.c): each builder writes the key into
 * buf (at most len bytes, truncated as snprintf does) and returns buf.
 * STORE_KEY_LEN is enough for any id this project makes. */
#define STORE_KEY_LEN 640
char *store_key_task(char *buf, size_t len, const char *task);          /* ctx:task:<id> */
char *store_key_agent(char *buf, size_t len, const char *agent);        /* ctx:agent:<id> */
char *store_key_agent_tasks(char *buf, size_t len, const char *agent);  /* ...:<id>:tasks */
char *store_key_agent_conns(char *buf, size_t len, const char *agent);  /* ...:<id>:conns */
char *store_key_agent_token(char *buf, size_t len, const char *digest); /* ctx:agent-token:<h> */
/* ctx:queue:<q>:waiting and ctx:queue:<q>:stats (queue NULL: "") */
char *store_key_queue_waiting(char *buf, size_t len, const char *queue);
char *store_key_queue_stats(char *buf, size_t len, const char *queue);
char *store_key_chat_messages(char *buf, size_t len, const char *task); /* ctx:chat:<t>:messages */
/* ctx:conversation:<network>:<chat>, chat being chat_len bytes */
char *store_key_conversation(char *buf, size_t len, const char *network, const char *chat,
                             size_t chat_len);
char *store_key_reply(char *buf, size_t len, const char *reply);        /* ctx:reply:<id> */
char *store_key_item(char *buf, size_t len, const char *item);          /* ctx:item:<id> */
char *store_key_seen(char *buf, size_t len, const char *source);        /* ctx:seen:<source> */
char *store_key_source(char *buf, size_t len, const char *source);      /* ctx:source:<source> */
/* ctx:idx:<dim>:<value>: dim is sentiment, brand, topic, complaint or reason */
char *store_key_index(char *buf, size_t len, const char *dim, const char *value);
char *store_key_simhash(char *buf, size_t len, unsigned band);          /* ctx:simhash:<%08x> */

/* enum store_script (SCRIPT_<NAME>, one per store/<name>.lua) and the table
 * store_scripts[] of names and sources are generated by the Makefile. */
#include "store_scripts.h"

struct store {
    uv_loop_t *loop;
    const struct config *cfg;
    struct rscript scripts[SCRIPT_COUNT];
};

ctx_err store_new(uv_loop_t *loop, const struct config *cfg, struct store **out);
void store_free(struct store *st);

/* A further connection (for blocking reads), with the scripts loaded. */
ctx_err store_conn_new(struct store *st, const char *name, rconn_state_cb cb, void *priv,
                       struct rconn **out);

/* Create and queue a task (task_new.lua): its order score from the queue's
 * aging and the priority, its SLA due time from the queue's target. extra
 * holds further string fields (item, lang, name, phone, not_before...).
 * The reply is 1 (queued), 0 (existed: idempotent) or an error. */
ctx_err store_task_new(struct rconn *rc, struct store *st, const struct config *cfg,
                       const char *id, const char *channel, const char *queue, int priority,
                       json_t *extra, rconn_reply_cb cb, void *priv);

/* Create a web chat's task (task_new.lua) held out of its queue, in state
 * "new": the customer's first message queues it (chat_message.lua), so an
 * offer of the chat always has that message in its history. Same replies
 * as store_task_new (QUEUE_FULL is checked now, when the customer starts). */
ctx_err store_chat_open(struct rconn *rc, struct store *st, const struct config *cfg,
                        const char *id, const char *queue, json_t *extra, rconn_reply_cb cb,
                        void *priv);

/* Who a login token belongs to (token_role.lua): the reply is {id, role,
 * name} or nil. Tokens are kept as the SHA-256 of the token; one kept as its
 * SHA-1 (made before) is found too, and moved. */
ctx_err store_token_role(struct rconn *rc, struct store *st, const char *token,
                         rconn_reply_cb cb, void *priv);

/* Follow a stream from now on (store/follow.c): cb gets each new entry's
 * id and its field list, in order, across reconnections. */
typedef void (*follow_cb)(const char *id, const redisReply *fields, void *priv);
struct follower;
ctx_err follower_start(struct store *st, const char *key, follow_cb cb, void *priv,
                       struct follower **out);
bool follower_ready(const struct follower *f);   /* it knows where "now" is */
const char *follower_last(const struct follower *f);  /* the last id seen (when ready) */
void follower_stop(struct follower *f);
/* The value of field `name` in a stream entry's field list, or NULL. */
const char *stream_field(const redisReply *fields, const char *name);

/* A consumer of a stream's consumer group (store/group.c). */
struct group_opts {
    const char *name;           /* for the log and the connection */
    const char *stream, *group;
    const char *start_id;       /* where a new group starts: "0" (all) or "$" (from now) */
    int count;                  /* entries per batch */
    bool claim;                 /* take over entries other consumers left pending */
    void (*on_up)(struct rconn *rc, void *priv);   /* on each connection, before reading */
};
/* entries: the batch (an array of [id, [field, value...]]), valid during the
 * call only; the owner calls group_reader_done() once it is finished with it. */
typedef void (*group_batch_cb)(const redisReply *entries, void *priv);
struct group_reader;
ctx_err group_reader_start(struct store *st, const struct group_opts *o, group_batch_cb cb,
                           void *priv, struct group_reader **out);
void group_reader_done(struct group_reader *g);
void group_reader_poke(struct group_reader *g);   /* read now, if not reading */
void group_reader_stop(struct group_reader *g);   /* an in-flight batch is abandoned */

/* This process's consumer name in stream groups: the config's "consumer",
 * else <host>-<pid>. */
void store_consumer_name(const struct config *cfg, char *out, size_t outlen);

#endif
