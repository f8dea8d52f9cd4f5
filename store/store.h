/* store.h -- Redis as the system of record: key layout, Lua scripts and
 * connections (store/KEYS.md documents every key).
 *
 * A store owns one command connection shared by every role of the process;
 * a role that issues blocking reads (XREADGROUP/XREAD ... BLOCK) asks for a
 * connection of its own with store_conn_new(), since a blocked connection
 * answers nothing else. Scripts are loaded on each connection as it comes
 * up and called by SHA.
 *
 * The roles never name a key nor count a script's arguments: each script has
 * a typed function here (store_offer(), store_reply_enqueue()...) that builds
 * its keys (store/keys.c) and its argument list; plain keyed reads go through
 * store_read(). */
#ifndef CTX_STORE_H
#define CTX_STORE_H

#include <stdbool.h>
#include <uv.h>
#include "core/config.h"
#include "core/redis.h"
#include <jansson.h>

/* Every key is ctx:{<domain>}:<name>. The part in braces is the key's Redis
 * Cluster hash tag: the keys one script or one multi-key command touches
 * share a domain, so they share a slot (store/KEYS.md says which and why).
 * These three prefixes are the only place the tags are written. */
#define KEY_ROUTING_DOMAIN "ctx:{r}:"   /* tasks, queues, agents, chats, replies */
#define KEY_ITEMS_DOMAIN   "ctx:{i}:"   /* raw and tagged items, indexes, sources */
#define KEY_CONTROL_DOMAIN "ctx:{c}:"   /* commands to every ctxd, leases between them */

/* items. The item pipeline is cut into `item_shards` shards, an item's by its
 * id (store_item_shard()); shard 0 is the domain above, shard s >= 1 its own
 * tag (store_shard_domain(); store/KEYS.md "Item shards"). A KEYN_ name is
 * the part after the domain, for store_key_sharded(); the KEY_ name beside it
 * is shard 0's key (what a one-shard install has always used). */
#define KEYN_RAW          "items:raw"                     /* stream: collected, untagged */
#define KEYN_TAGGED       "items:tagged"                  /* stream: tagged items, in order */
#define KEYN_ITEM_PREFIX  "item:"                         /* hash per item: json, sid */
#define KEYN_SEEN_PREFIX  "seen:"                         /* zset per source: ids served */
#define KEYN_IDX_ALL      "idx:all"                       /* zset: item ids by published ms */
#define KEYN_IDX_PREFIX   "idx:"                          /* zsets: sentiment:<l>, brand:<b>,
                                                             topic:<t>, complaint:true|false,
                                                             reason:<r> */
#define KEYN_DEAD         "items:dead"                    /* stream: raw entries that were not
                                                             items, or read too often */
#define KEYN_TAGGED_DEAD  "items:tagged:dead"             /* stream: the route group's dead */
#define KEYN_TREND_PREFIX "tr:"                           /* hashes m:|h:|d:<series>:<period>
                                                             (store/trends.c) */
#define KEYN_TREND_SERIES "tr:series"                     /* zset: series -> last counted ms */
#define KEYN_TREND_PENDING "tr:pending"                   /* list: records not yet counted
                                                             (tag.lua -> trends_flush.lua) */
#define KEY_RAW          KEY_ITEMS_DOMAIN KEYN_RAW
#define KEY_TAGGED       KEY_ITEMS_DOMAIN KEYN_TAGGED
#define KEY_ITEM_PREFIX  KEY_ITEMS_DOMAIN KEYN_ITEM_PREFIX
#define KEY_SEEN_PREFIX  KEY_ITEMS_DOMAIN KEYN_SEEN_PREFIX
#define KEY_SOURCE_PREFIX KEY_ITEMS_DOMAIN "source:"      /* hash per source: poll state
                                                             (shard 0 only) */
#define KEY_IDX_ALL      KEY_ITEMS_DOMAIN KEYN_IDX_ALL
#define KEY_IDX_PREFIX   KEY_ITEMS_DOMAIN KEYN_IDX_PREFIX
#define KEY_DEAD         KEY_ITEMS_DOMAIN KEYN_DEAD
#define GROUP_ANALYZE    "analyze"
#define KEYN_SIMHASH_PREFIX "simhash:"                    /* list per band key: "<hex simhash>
                                                             <item id>" (in shard band mod N) */
#define KEY_SIMHASH_PREFIX KEY_ITEMS_DOMAIN KEYN_SIMHASH_PREFIX
#define KEY_TREND_PREFIX KEY_ITEMS_DOMAIN KEYN_TREND_PREFIX
#define KEY_TREND_SERIES KEY_ITEMS_DOMAIN KEYN_TREND_SERIES
#define KEY_TREND_PENDING KEY_ITEMS_DOMAIN KEYN_TREND_PENDING
#define KEY_ITEM_SHARDS  KEY_ITEMS_DOMAIN "item_shards"   /* string: the count the first
                                                             analyzer ran with */

struct store;
/* The item shards (store/keys.c). At most STORE_SHARDS_MAX. */
#define STORE_SHARDS_MAX 16
/* "ctx:{i}:" for shard 0, "ctx:{i:1}:"... for the others (NULL past the
 * last): tags picked so that N shards on N masters of an evenly split
 * cluster (redis-cli --cluster create) are on N different masters, N <= 8. */
const char *store_shard_domain(unsigned shard);
/* Pure: the shard of an item id among n (FNV-1a of the id, mod n). */
unsigned store_item_shard(const char *id, unsigned n);
/* The config's item_shards (1 without a config). */
unsigned store_shards(const struct store *st);
/* The shard's domain + name (a KEYN_ name, or a builder's "<prefix><id>"). */
char *store_key_sharded(char *buf, size_t len, unsigned shard, const char *name);

/* replies (in the routing domain: their scripts tell the agent events stream) */
#define KEY_REPLY_PREFIX KEY_ROUTING_DOMAIN "reply:"      /* hash per reply: text, status... */
#define KEY_OUTBOX       KEY_ROUTING_DOMAIN "outbox"      /* stream: replies to post (id) */
#define KEY_OUTBOX_DELAYED KEY_ROUTING_DOMAIN "outbox:delayed" /* zset: reply ids by retry
                                                                  due ms */
#define KEY_REPLY_EVENTS KEY_ROUTING_DOMAIN "replies:events" /* stream: reply status changes */
#define GROUP_POST       "post"

/* routing (docs/routing.md) */
#define KEY_TASK_PREFIX   KEY_ROUTING_DOMAIN "task:"      /* hash per task */
#define KEY_QUEUE_PREFIX  KEY_ROUTING_DOMAIN "queue:"     /* <q>:waiting zset (order score),
                                                             <q>:stats hash */
#define KEY_AGENT_PREFIX  KEY_ROUTING_DOMAIN "agent:"     /* hash per agent; <id>:tasks set,
                                                             <id>:conns zset */
#define KEY_AGENTS        KEY_ROUTING_DOMAIN "agents"     /* set of agent ids */
#define KEY_AGENTS_READY  KEY_ROUTING_DOMAIN "agents:ready" /* set: agents free for an offer
                                                             (kept by the scripts) */
/* the ready set's change log: the scripts name it after the ready set they are passed
 * (store/lib/ready_sync.lua), so these two are that name and a suffix */
#define KEY_AGENTS_LOG     KEY_AGENTS_READY ":log"     /* hash: version, reset */
#define KEY_AGENTS_CHANGES KEY_AGENTS_READY ":changes" /* zset: agent -> version */
#define KEY_QUEUES_LIVE   KEY_ROUTING_DOMAIN "queues:live" /* hash: <q>:offered, <q>:assigned
                                                             (kept by the scripts) */
#define KEY_AGENT_TOKEN   KEY_ROUTING_DOMAIN "agent-token:" /* <sha256 of token> -> agent id */
#define KEY_OFFERS        KEY_ROUTING_DOMAIN "offers"     /* zset: task id -> offer expiry ms */
#define KEY_WRAPUPS       KEY_ROUTING_DOMAIN "wrapups"    /* zset: agent id -> wrap-up end ms */
#define KEY_DISCONNECTED  KEY_ROUTING_DOMAIN "agents:disconnected" /* zset: agent -> since ms */
#define KEY_ROUTING_EVENTS KEY_ROUTING_DOMAIN "routing:events" /* stream: queued, offered... */
#define KEY_AGENT_EVENTS  KEY_ROUTING_DOMAIN "agent-events" /* stream: frames for agents */
#define KEY_CHAT_EVENTS   KEY_ROUTING_DOMAIN "chat-events"  /* stream: frames for customers */
#define KEY_CHAT_PREFIX   KEY_ROUTING_DOMAIN "chat:"      /* <task>:messages list */
#define KEY_CHATS_LEFT    KEY_ROUTING_DOMAIN "chats:left" /* zset: web chats whose customer
                                                             dropped -> ms */
#define KEY_CHATS_LIVE    KEY_ROUTING_DOMAIN "chats:live" /* zset: web chats whose customer is
                                                             connected -> last beat ms */
#define KEY_CONVERSATION_PREFIX KEY_ROUTING_DOMAIN "conversation:" /* <network>:<chat> -> open
                                                                      chat task */
#define GROUP_ROUTE       "route"              /* on the tagged stream: escalation */
#define KEY_CALLS         KEY_ROUTING_DOMAIN "calls"      /* stream: call and hangup requests
                                                             for the dialers */
#define KEY_CALL_STATS    KEY_ROUTING_DOMAIN "calls:stats" /* hash: placed, answered, talk_ms,
                                                              failed:<outcome> */

#define KEY_CONTROL       KEY_CONTROL_DOMAIN "control"  /* stream: commands to every ctxd */
#define KEY_LEASE_PREFIX  KEY_CONTROL_DOMAIN "lease:"   /* string per lease: its holder (a
                                                           job one process at a time does) */

/* spike alerts (store/alerts.c) on the trend counters (KEY_TREND_* above) */
#define KEY_ALERTS        KEY_ITEMS_DOMAIN "alerts"       /* stream: alerts (alert JSON) */
#define KEY_ALERTS_STATE  KEY_ITEMS_DOMAIN "alerts:state" /* hash: series -> detector state */
#define KEY_ALERTS_COUNT  KEY_ITEMS_DOMAIN "alerts:count" /* hash: series -> alerts raised */
#define KEY_ALERTS_LEASE  KEY_ITEMS_DOMAIN "alerts:lease" /* string: the process judging */
#define ALERTS_STREAM_CAP "10000"

#define RAW_STREAM_CAP    "1000000"
#define TAGGED_STREAM_CAP "100000"
#define OUTBOX_STREAM_CAP "100000"

/* Where store/group.c puts the entries of the route and post groups that
 * were read max_deliveries times ("<stream>:dead"). */
#define KEY_TAGGED_DEAD   KEY_ITEMS_DOMAIN KEYN_TAGGED_DEAD
#define KEY_OUTBOX_DEAD   KEY_OUTBOX ":dead"

/* Keys with a variable part (store/keys.c): each builder writes the key into
 * buf (at most len bytes, truncated as snprintf does) and returns buf.
 * STORE_KEY_LEN is enough for any id this project makes. */
#define STORE_KEY_LEN 640
char *store_key_task(char *buf, size_t len, const char *task);          /* ctx:{r}:task:<id> */
char *store_key_agent(char *buf, size_t len, const char *agent);        /* ctx:{r}:agent:<id> */
char *store_key_agent_tasks(char *buf, size_t len, const char *agent);  /* ...:<id>:tasks */
char *store_key_agent_conns(char *buf, size_t len, const char *agent);  /* ...:<id>:conns */
char *store_key_agent_token(char *buf, size_t len, const char *digest); /* ...agent-token:<h> */
/* ctx:{r}:queue:<q>:waiting and ctx:{r}:queue:<q>:stats (queue NULL: "") */
char *store_key_queue_waiting(char *buf, size_t len, const char *queue);
char *store_key_queue_stats(char *buf, size_t len, const char *queue);
/* ctx:{r}:queue:<q>:arrivals: its waiting tasks by arrival ms (the oldest wait) */
char *store_key_queue_arrivals(char *buf, size_t len, const char *queue);
char *store_key_chat_messages(char *buf, size_t len, const char *task); /* ...chat:<t>:messages */
/* ctx:{r}:conversation:<network>:<chat>, chat being chat_len bytes */
char *store_key_conversation(char *buf, size_t len, const char *network, const char *chat,
                             size_t chat_len);
char *store_key_reply(char *buf, size_t len, const char *reply);        /* ctx:{r}:reply:<id> */
char *store_key_item(char *buf, size_t len, const char *item);          /* ctx:{i}:item:<id> */
char *store_key_seen(char *buf, size_t len, const char *source);        /* ctx:{i}:seen:<s> */
/* The same in an item shard (shard 0: the two above). */
char *store_key_item_in(char *buf, size_t len, unsigned shard, const char *item);
char *store_key_seen_in(char *buf, size_t len, unsigned shard, const char *source);
char *store_key_source(char *buf, size_t len, const char *source);      /* ctx:{i}:source:<s> */
char *store_key_lease(char *buf, size_t len, const char *what);         /* ctx:{c}:lease:<w> */
/* ctx:{i}:idx:<dim>:<value>: dim is sentiment, brand, topic, complaint or reason */
char *store_key_index(char *buf, size_t len, const char *dim, const char *value);
char *store_key_index_in(char *buf, size_t len, unsigned shard, const char *dim,
                         const char *value);
char *store_key_simhash(char *buf, size_t len, unsigned band);          /* ...simhash:<%08x> */
char *store_key_simhash_in(char *buf, size_t len, unsigned shard, unsigned band);
/* The trend counters of `series` ("all", "brand:acme"...) at a level that
 * hold the bucket of instant ms: ctx:{i}:tr:m:<series>:<yyyymmdd>,
 * ...tr:h:<series>:<yyyymm>, ...tr:d:<series>:<yyyy> (UTC). */
enum store_trend_level { STORE_TREND_MINUTE, STORE_TREND_HOUR, STORE_TREND_DAY,
                         STORE_TREND_LEVELS };
char *store_key_trend(char *buf, size_t len, enum store_trend_level lv, const char *series,
                      long long ms);
char *store_key_trend_in(char *buf, size_t len, unsigned shard, enum store_trend_level lv,
                         const char *series, long long ms);

/* The layout before hash tags named keys ctx:<name> ("ctx:agents",
 * "ctx:task:<id>"). The name such a key has now ("ctx:{r}:agents") in buf,
 * or CTX_ENOTFOUND when old is not a key of that layout (already tagged, or
 * not one of ctxd's). ctxctl migrate-keys renames with it. */
ctx_err store_key_untagged(char *buf, size_t len, const char *old);
/* Fixed names of that layout, NULL-terminated: an installation that ran
 * ctxd before has at least one of them (ctxd refuses to start if it does). */
extern const char *const store_untagged_names[];

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
/* rc's scripts tell a client that something happened (an API answer, an
 * agent's "assigned"): with redis_wait_replicas, each waits for that many
 * replicas first (rconn_set_wait), so a failover cannot undo it. The
 * pipeline's and the router's connections do not wait: what a failover
 * takes of their last writes is a consistent earlier state they redo. */
void store_conn_acknowledging(struct store *st, struct rconn *rc);

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

/* ---- the typed store API: one function per script or read ----
 * Each builds its keys and arguments; rc is the caller's connection, cb and
 * priv get the reply as rconn_cmd() does. A non-zero return means nothing
 * was sent (and cb will not be called). */

/* Plain reads of one keyed thing (store/store.c), named by its id. */
enum store_read {
    STORE_TASK,             /* HGETALL of the task */
    STORE_CHAT_HISTORY,     /* the chat task's messages (JSON), oldest first */
    STORE_AGENT,            /* HGETALL of the agent */
    STORE_AGENT_TASKS,      /* the ids of the tasks offered or assigned to the agent */
    STORE_REPLY,            /* HGETALL of the reply */
    STORE_ITEM_JSON,        /* the stored item's JSON */
    STORE_SOURCE,           /* HGETALL of the source's poll state */
};
ctx_err store_read(struct rconn *rc, struct store *st, enum store_read what, const char *id,
                   rconn_reply_cb cb, void *priv);

/* Record item_shards in Redis if none is (ctx:{i}:item_shards), and log an
 * error when another count is recorded (the analyze role, on each connection). */
void store_shards_check(struct rconn *rc, struct store *st);
/* The JSON of a stored item (HGET, nil: none) in its shard, else in the others
 * (store/items.c); store_read(STORE_ITEM_JSON) with item shards. */
ctx_err store_item_json(struct rconn *rc, struct store *st, const char *id, rconn_reply_cb cb,
                        void *priv);

/* routing tasks (store/tasks.c) */
/* A message of a network conversation (chat_inbound.lua): it joins the
 * conversation's open chat task or opens `task` in `queue`. Reply: {task id,
 * 1 if opened now else 0}. */
struct store_inbound {
    const char *network, *chat;     /* the conversation: chat is chat_len bytes */
    size_t chat_len;
    const char *task, *queue;       /* the task opened if none is open */
    long long now, sla_due;         /* ms */
    double order;                   /* its order score (routing_order) */
    const char *created, *item;     /* RFC 3339; the item id of the message */
    const char *message;            /* the message as JSON */
    const char *name, *lang;        /* the customer's; NULL: none */
};
ctx_err store_chat_inbound(struct rconn *rc, struct store *st, const struct store_inbound *m,
                           rconn_reply_cb cb, void *priv);
/* The head of a queue's line (at most `head` tasks) and the agents free to
 * take work changed since version `since` of the ready set's change log, or
 * all of them when since is 0 (at most most_agents of them, picked at random
 * when more are) (route_snapshot.lua). */
ctx_err store_route_snapshot(struct rconn *rc, struct store *st, const char *queue, int head,
                             int most_agents, long long since, rconn_reply_cb cb, void *priv);
/* Offer n queued tasks of `queue` to agents, tasks[i] to agents[i], in one
 * call (offer.lua): each offer expires at `expires` (ms); a refusal holds for
 * refusal_hold ms. The reply has one {1 or 0, reason} per pair. */
ctx_err store_offers(struct rconn *rc, struct store *st, const char *queue,
                     const char *const *tasks, const char *const *agents, size_t n,
                     long long now, long long expires, long long refusal_hold,
                     rconn_reply_cb cb, void *priv);
/* Make the ready agents set again from every agent, and, on a Redis written
 * before them, the queues' live counts and arrivals for the n queues named
 * (route_index.lua): once, when a router starts. */
ctx_err store_route_index(struct rconn *rc, struct store *st, const char *const *queues,
                          size_t n, rconn_reply_cb cb, void *priv);
/* An offer ends without an accept (refuse.lua): why is "rejected" or
 * "timed_out"; max_no_answer timeouts in a row set the agent away. */
ctx_err store_refuse(struct rconn *rc, struct store *st, const char *task, const char *agent,
                     const char *queue, long long now, const char *why, int max_no_answer,
                     rconn_reply_cb cb, void *priv);
/* The agent (display name `name`) accepts the task offered (accept.lua). */
ctx_err store_accept(struct rconn *rc, struct store *st, const char *task, const char *agent,
                     const char *queue, long long now, const char *name, rconn_reply_cb cb,
                     void *priv);
/* The agent is done with a task, wrapping up for `wrapup` seconds, or, with
 * to_queue, transfers it there at order score `order` (finish.lua). */
ctx_err store_finish(struct rconn *rc, struct store *st, const char *task, const char *agent,
                     long long now, double wrapup, const char *to_queue, double order,
                     rconn_reply_cb cb, void *priv);
/* ---- voice callbacks' calls (store/calls.c, docs/voice.md) ---- */
/* A dialer takes the call of an assigned callback task (call_start.lua):
 * agent NULL takes it whoever holds the task. Reply {attempt, agent, queue,
 * phone} or the errors NOT_ASSIGNED, IN_CALL, NO_PHONE. */
ctx_err store_call_start(struct rconn *rc, struct store *st, const char *task, long long now,
                         const char *call_id, const char *dialer, const char *agent,
                         rconn_reply_cb cb, void *priv);
/* The call's state (dialing, ringing, talking) on leg agent or customer
 * (call_event.lua). Reply 1, or 0 for an event of a call that is over. */
ctx_err store_call_event(struct rconn *rc, struct store *st, const char *task,
                         const char *call_id, const char *state, const char *leg, long long now,
                         rconn_reply_cb cb, void *priv);
struct store_call_end {
    const char *task, *call_id, *agent, *queue;     /* agent and queue as call_start said */
    long long now;
    const char *outcome, *reason;
    const char *action;         /* keep, retry, abandon */
    long long not_before;       /* retry: when it may be called again (ms) */
    long long talk_ms;          /* answered */
    bool uncounted;             /* the customer was never called: no attempt spent */
};
/* The call ended (call_end.lua). Reply: the task's state after, 0 for a
 * call that is over already, or the error STALE (the task changed queue). */
ctx_err store_call_end(struct rconn *rc, struct store *st, const struct store_call_end *c,
                       rconn_reply_cb cb, void *priv);
/* Ask the dialers for a call or a hang-up of `task` (type "call" or
 * "hangup"), on the ctx:{r}:calls stream. */
ctx_err store_call_request(struct rconn *rc, struct store *st, const char *type,
                           const char *task, const char *agent, rconn_reply_cb cb, void *priv);
/* Tell the agent a call was not placed (outcome, reason), without a call
 * on the task: a "call" frame with state "ended". */
ctx_err store_call_notice(struct rconn *rc, struct store *st, const char *agent, const char *task,
                          const char *outcome, const char *reason, long long now);
/* HGETALL of the call figures (ctx:{r}:calls:stats). */
ctx_err store_call_stats(struct rconn *rc, struct store *st, rconn_reply_cb cb, void *priv);

/* The customer left the chat `task` of `queue` (abandon.lua); it is no
 * longer among the chats whose customer dropped. */
ctx_err store_abandon(struct rconn *rc, struct store *st, const char *task, const char *queue,
                      long long now, rconn_reply_cb cb, void *priv);
/* Tasks of `queue` that arrived before `before` (ms) move to to_queue, or,
 * with to_queue NULL, up by `boost` priority levels worth `unit` in order
 * score each (overflow.lua). */
ctx_err store_overflow(struct rconn *rc, struct store *st, const char *queue,
                       const char *to_queue, long long before, int boost, double unit,
                       long long now, rconn_reply_cb cb, void *priv);
/* A chat message (JSON) from the agent `agent`, or with agent NULL from the
 * customer (chat_message.lua). queue is the chat's: a held web chat's first
 * customer message queues it there (the error QUEUE if it is not). */
ctx_err store_chat_message(struct rconn *rc, struct store *st, const char *task,
                           const char *queue, const char *agent, const char *message,
                           long long now, rconn_reply_cb cb, void *priv);
ctx_err store_task_fields(struct rconn *rc, struct store *st, const char *task,
                          const char *const *fields, size_t n, rconn_reply_cb cb,
                          void *priv);                          /* HMGET, n <= 16 */

/* agents (store/agents.c) */
/* Who a login token belongs to (token_role.lua): the reply is {id, role,
 * name} or nil. Tokens are kept as the SHA-256 of the token; one kept as its
 * SHA-1 (made before) is found too, and moved. */
ctx_err store_token_role(struct rconn *rc, struct store *st, const char *token,
                         rconn_reply_cb cb, void *priv);

/* An agent sets its state ("available", "away"), or its wrap-up ends
 * ("wrapup-end") (agent_state.lua). */
ctx_err store_agent_state(struct rconn *rc, struct store *st, const char *agent,
                          const char *state, long long now, rconn_reply_cb cb, void *priv);
/* One connection `conn` of the agent: what is "connect", "beat" or
 * "disconnect"; one silent for stale_ms is gone (presence.lua). */
ctx_err store_presence(struct rconn *rc, struct store *st, const char *agent, const char *what,
                       const char *conn, long long now, long long stale_ms, rconn_reply_cb cb,
                       void *priv);
ctx_err store_presence_sweep(struct rconn *rc, struct store *st, long long now,
                             long long stale_ms, rconn_reply_cb cb, void *priv);
/* The agent stayed away past grace_ms: its tasks go back (requeue_agent.lua). */
ctx_err store_requeue_agent(struct rconn *rc, struct store *st, const char *agent,
                            long long now, long long grace_ms, rconn_reply_cb cb, void *priv);
ctx_err store_agents_list(struct rconn *rc, struct store *st, rconn_reply_cb cb, void *priv);
/* queue_stats.lua for the n queues named */
ctx_err store_queue_stats(struct rconn *rc, struct store *st, const char *const *queues,
                          size_t n, rconn_reply_cb cb, void *priv);

/* replies to items (store/replies.c) */
ctx_err store_reply_id(char *buf, size_t len);  /* a new random reply id, "rep-..." */
/* Queue `text` by agent (NULL: none) as reply `reply` to `item`
 * (reply_enqueue.lua; idempotent on the reply id). */
ctx_err store_reply_enqueue(struct rconn *rc, struct store *st, const char *reply,
                            const char *item, const char *text, const char *agent,
                            rconn_reply_cb cb, void *priv);
/* What posting came to (reply_settle.lua): status posted (ref), retrying
 * (error, due ms) or failed (error); sid is its outbox entry. */
ctx_err store_reply_settle(struct rconn *rc, struct store *st, const char *sid,
                           const char *reply, const char *status, const char *ref,
                           const char *error, long long due, rconn_reply_cb cb, void *priv);
ctx_err store_reply_due(struct rconn *rc, struct store *st, long long now, rconn_reply_cb cb,
                        void *priv);                            /* retries due back to the outbox */
/* Mark a reply as being posted and count the attempt; cb gets the count. */
ctx_err store_reply_posting(struct rconn *rc, struct store *st, const char *reply,
                            rconn_reply_cb cb, void *priv);

/* items (store/items.c) */
/* Add collected items (ids[i], their JSON jsons[i]; 1 <= n <= STORE_ADD_RAW_MAX)
 * of `source` to `shard`'s raw stream, each unless seen (add_raw.lua). All
 * are of that shard (store_item_shard() of each id): a fetch's items take
 * one call per shard rather than one per item. The reply is the one
 * item's stream id or nil (seen before), or with n > 1 a list of those. */
#define STORE_ADD_RAW_MAX 100
ctx_err store_add_raw_in(struct rconn *rc, struct store *st, unsigned shard, const char *source,
                         const char *const *ids, const char *const *jsons, size_t n,
                         rconn_reply_cb cb, void *priv);
/* A tagged item to store, with the indexes it belongs to (tag.lua), and,
 * when the config's trends.enabled, counted in the trend counters of its
 * series at time `counted` (store_trend_when()) in the same step. */
struct store_tagged {
    unsigned shard;                 /* the shard of the raw stream it was read from */
    const char *sid;                /* its raw stream entry, acknowledged */
    const char *id, *json;          /* item id, tagged item JSON */
    long long published;            /* ms: its index score */
    const char *sentiment;          /* label */
    bool complaint;
    const char *const *brands, *const *topics, *const *reasons;  /* reasons: complaints only */
    size_t nbrands, ntopics, nreasons;
    const char *network, *source, *lang;    /* series network:, source:, lang: (NULL: none) */
    long long counted;              /* ms: the instant counted at; <= 0: not counted */
};
ctx_err store_tag(struct rconn *rc, struct store *st, const struct store_tagged *t,
                  rconn_reply_cb cb, void *priv);
/* ---- trend counters (store/trends.c; store/KEYS.md "Trend counters") ---- */
/* The bucket number of instant ms at a level: floor(ms / 60000), / 3600000,
 * / 86400000; and a bucket's length in ms. */
long long store_trend_bucket(enum store_trend_level lv, long long ms);
long long store_trend_bucket_ms(enum store_trend_level lv);
/* The first ms after the key period (UTC day, month, year) holding ms. */
long long store_trend_key_end(enum store_trend_level lv, long long ms);
/* The instant an item is counted at (pure): its published time if that is
 * at most lateness_ms old and at most skew_ms ahead of now, else its fetch
 * time (else now). Times <= 0 are absent. */
long long store_trend_when(long long published, long long fetched, long long now,
                           long long lateness_ms, long long skew_ms);
#define STORE_TREND_FLUSH_MAX 1000
/* Count the pending records (trends_flush.lua: at most STORE_TREND_FLUSH_MAX of
 * them, the oldest; the reply is how many it took). Run by the analyze role
 * every second and before every read of the counters, on the connection
 * that then reads, so a read sees every item stored before it. */
ctx_err store_trend_flush(struct rconn *rc, struct store *st, rconn_reply_cb cb, void *priv);
/* The same for one shard only (each shard's records, buckets and registry are its own;
 * store_trend_flush() does every shard, cb getting the records counted in all). */
ctx_err store_trend_flush_in(struct rconn *rc, struct store *st, unsigned shard,
                             rconn_reply_cb cb, void *priv);
/* Whether a series' buckets hold the sentiment and complaint split (all,
 * brand:, topic:) or only the count. */
bool store_trend_split(const char *series);
/* HGETALL of the counters of `series` at level lv held by the key of the
 * period of instant ms (store_key_trend()). */
ctx_err store_trend_read(struct rconn *rc, struct store *st, enum store_trend_level lv,
                         const char *series, long long ms, rconn_reply_cb cb, void *priv);
/* The series registry: every series counted since min_ms (its newest
 * counted instant at or after it), as ZRANGEBYSCORE ... WITHSCORES. */
ctx_err store_trend_series(struct rconn *rc, struct store *st, long long min_ms,
                           rconn_reply_cb cb, void *priv);

/* Newest items matching the filters ("" or NULL: any), scored above min
 * ("-inf" or ms), at most limit (query.lua): {last tagged id, json...}. With
 * item shards, query.lua runs in each and the answers are merged by score
 * (the last id is then the newest of the shards'). */
struct store_query {
    const char *brand, *topic, *sentiment, *complaint, *reason;
    const char *min;
    long limit;
};
ctx_err store_query(struct rconn *rc, struct store *st, const struct store_query *q,
                    rconn_reply_cb cb, void *priv);
/* The near-duplicate fingerprint list of a band: read its last `keep`
 * entries, or add one and keep `keep`. */
ctx_err store_simhash_band(struct rconn *rc, struct store *st, unsigned band, int keep,
                           rconn_reply_cb cb, void *priv);
void store_simhash_add(struct rconn *rc, struct store *st, unsigned band, const char *entry,
                       int keep);
/* Poll state fields of a source: fv holds n strings, field and value in
 * turn (n even, at most 16); or one counter moved by `by`. No reply. */
ctx_err store_source_set(struct rconn *rc, struct store *st, const char *source,
                         const char *const *fv, size_t n);
ctx_err store_source_incr(struct rconn *rc, struct store *st, const char *source,
                          const char *field, long long by);
/* A raw entry that is not an item: kept in ctx:{i}:items:dead, acked, deleted. */
void store_raw_dead(struct rconn *rc, struct store *st, unsigned shard, const char *sid,
                    const char *why, const char *payload);

/* the fixed streams and sorted sets (store/streams.c) */
/* acks in a shard's raw stream (group analyze) and tagged stream (group route) */
void store_raw_ack(struct rconn *rc, struct store *st, unsigned shard, const char *sid);
void store_tagged_ack(struct rconn *rc, struct store *st, unsigned shard, const char *sid);
void store_route_group_create(struct rconn *rc, struct store *st);  /* on every tagged stream */
void store_outbox_drop(struct rconn *rc, struct store *st, const char *sid);  /* ack, delete */
/* Tagged items of a shard after stream id `after` ("(" for exclusive), at most count. */
ctx_err store_tagged_page(struct rconn *rc, struct store *st, unsigned shard, const char *after,
                          int count, rconn_reply_cb cb, void *priv);
/* Block (5 s at most) for routing events after stream id `after`. */
ctx_err store_routing_wait(struct rconn *rc, struct store *st, const char *after,
                           rconn_reply_cb cb, void *priv);
/* The agent named `name` is typing in chat `task`. */
ctx_err store_chat_typing(struct rconn *rc, struct store *st, const char *task,
                          const char *name, rconn_reply_cb cb, void *priv);
/* The first 100 members of a time-ordered set scored up to `until` (ms). */
enum store_due {
    STORE_DUE_OFFERS,           /* tasks whose offer expired */
    STORE_DUE_WRAPUPS,          /* agents whose wrap-up is over */
    STORE_DUE_DISCONNECTED,     /* agents disconnected since */
    STORE_DUE_CHATS_LEFT,       /* web chats whose customer dropped since */
};
ctx_err store_due(struct rconn *rc, struct store *st, enum store_due which, long long until,
                  rconn_reply_cb cb, void *priv);
void store_offer_forget(struct rconn *rc, struct store *st, const char *task);  /* stale */
/* A web chat's customer dropped (kept from the first drop), came back
 * (resumed: connected again, as of now), or is done with (ended). */
void store_chat_left(struct rconn *rc, struct store *st, const char *task, long long now);
void store_chat_back(struct rconn *rc, struct store *st, const char *task, long long now);
void store_chat_gone(struct rconn *rc, struct store *st, const char *task);
/* The node still holds the connections of these n chats' customers: their
 * beat in chats:live (only chats still there: an ended one is not put back). */
ctx_err store_chats_beat(struct rconn *rc, struct store *st, const char *const *tasks, size_t n,
                         long long now);
/* Chats whose node stopped beating for stale_ms count as left since their
 * last beat (chats_live_sweep.lua). */
ctx_err store_chats_live_sweep(struct rconn *rc, struct store *st, long long now,
                               long long stale_ms, rconn_reply_cb cb, void *priv);

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
    int window;                 /* batches of new entries the owner may hold at once
                                   (0: 1, one at a time); pending passes take one */
    const char *dead;           /* where entries read max_deliveries times without being
                                   finished go (NULL: "<stream>:dead") */
    void (*on_up)(struct rconn *rc, void *priv);   /* on each connection, before reading */
};
/* entries: the batch (an array of [id, [field, value...]]), valid during the
 * call only; the owner calls group_reader_done() once it is finished with it,
 * once for each batch it got (with a window above 1, in any order). */
typedef void (*group_batch_cb)(const redisReply *entries, void *priv);
struct group_reader;
ctx_err group_reader_start(struct store *st, const struct group_opts *o, group_batch_cb cb,
                           void *priv, struct group_reader **out);
void group_reader_done(struct group_reader *g);
void group_reader_poke(struct group_reader *g);   /* read now, if not reading */
/* Before group_reader_done(): an entry of the batch was left pending for a
 * passing reason (an error reply, a script not sent) and can be finished
 * later; no new batch is read, and once every batch the owner holds is done,
 * our pending entries are read again in 2 s, doubling to 30 s while batches
 * keep ending so, not claim_idle later. It marks the reader, not the batch. */
void group_reader_left_pending(struct group_reader *g);
void group_reader_stop(struct group_reader *g);   /* batches in flight are abandoned */

/* ---- the pipeline's streams, their groups and dead letters (store/health.c) ---- */

/* The streams read through a consumer group, in the order items flow. */
enum store_pipe {
    STORE_PIPE_RAW,             /* ctx:items:raw, group analyze, ctx:items:dead */
    STORE_PIPE_TAGGED,          /* ctx:items:tagged, group route, ctx:items:tagged:dead */
    STORE_PIPE_OUTBOX,          /* ctx:outbox, group post, ctx:outbox:dead */
    STORE_PIPE_COUNT
};
struct store_pipe_info {
    const char *stream, *group, *dead;
    const char *cap;            /* the stream's MAXLEN ~ */
};
const struct store_pipe_info *store_pipe_info(enum store_pipe p);
/* The pipe whose stream, dead-letter stream or group is `name`, or
 * STORE_PIPE_COUNT. */
enum store_pipe store_pipe_find(const char *name);
/* With item shards the raw and tagged pipes are one per shard (the table
 * names shard 0's): how many of pipe p there are among n shards, the stream
 * and dead-letter stream of one (STORE_KEY_LEN bytes each), and the pipe a
 * name of any shard's stream or dead letters names (*shard: its shard, or -1
 * for a group's name or shard 0's names: every shard). */
unsigned store_pipe_shards(enum store_pipe p, unsigned n);
void store_pipe_keys(enum store_pipe p, unsigned shard, char *stream, char *dead);
enum store_pipe store_pipe_find_shard(const char *name, unsigned n, int *shard);

/* How far a group is behind its stream (group_figures.lua), global: read
 * from Redis, whoever the consumers are. */
struct store_group_figures {
    bool group;                 /* the group exists (without it, nothing was read: lag is
                                   the length and the oldest unread entry the first) */
    long long length, dead;     /* entries in the stream, in its dead letters */
    long long lag;              /* entries the group has not read yet; -1: Redis cannot tell
                                   (entries were deleted after its last read) */
    long long pending;          /* read, not acknowledged */
    long long consumers;
    double oldest_pending;      /* s since the oldest pending entry was added; -1: none */
    double oldest_unread;       /* s since the oldest entry not read yet was added; -1: none */
};
ctx_err store_group_figures(struct rconn *rc, struct store *st, enum store_pipe p,
                            rconn_reply_cb cb, void *priv);
/* The same for one shard's stream of pipe p alone (shard < store_pipe_shards()). */
ctx_err store_group_figures_shard(struct rconn *rc, struct store *st, enum store_pipe p,
                                  unsigned shard, rconn_reply_cb cb, void *priv);
/* The script's reply into out: CTX_OK, or CTX_EREDIS for an error or a reply
 * of another shape (out is then zeroed). */
ctx_err store_group_figures_read(const redisReply *rep, struct store_group_figures *out);

/* What /healthz checks (pure): a bit (1 << check) for each figure of f past
 * its limit. The ages are checked against max_pending_age, the lag (when
 * known) against max_lag. A group that does not exist passes unless it is
 * `required` (some role is meant to read the stream): then its unread
 * entries count. */
enum store_health_check {
    STORE_HEALTH_LAG,           /* "lag" */
    STORE_HEALTH_PENDING_AGE,   /* "oldest_pending" */
    STORE_HEALTH_UNREAD_AGE,    /* "oldest_unread" */
    STORE_HEALTH_COUNT
};
unsigned store_health_check(const struct store_group_figures *f,
                            const struct config_health *limits, bool required);
const char *store_health_check_name(enum store_health_check c);

/* ---- dead letters, for ctxctl (store/dead.c) ----
 * Blocking calls on a hiredis context: each returns the reply (the caller
 * frees it), NULL when the connection failed. */
/* Letters of pipe p's dead-letter stream from `from` to `to` (XRANGE ids). */
redisReply *store_dead_range(redisContext *c, enum store_pipe p, unsigned shard, const char *from,
                             const char *to, long count);
/* Put letters back on the pipe's stream with their original fields, each
 * copied and deleted in one step (dead_replay.lua). Reply: per id {id, the
 * new entry's id | "missing" | "other_stream" | "unknown_shape"}. */
redisReply *store_dead_replay(redisContext *c, enum store_pipe p, unsigned shard,
                              const char *const *ids,
                              size_t n);
/* Delete letters (XDEL). */
redisReply *store_dead_drop(redisContext *c, enum store_pipe p, unsigned shard,
                            const char *const *ids,
                            size_t n);
/* What a letter of pipe p says; the strings point into fields. */
struct store_dead_letter {
    const char *from;           /* the stream it came from */
    const char *entry_id;       /* its id there */
    const char *reason;         /* why, when the letter says (a raw entry that was not an
                                   item); NULL: it was read dead_deliveries times */
    long long deliveries;       /* reads before it was moved; 0: not said */
    const char *id;             /* the entry's id field (item or reply id), or NULL */
    const char *payload;        /* the item JSON it carried, or NULL */
    char from_buf[STORE_KEY_LEN];   /* where `from` may point */
};
void store_dead_letter_read(enum store_pipe p, unsigned shard, const redisReply *fields,
                            struct store_dead_letter *out);

/* ---- spike alerts (store/alerts.c; ctxd/alerts.c, ws/alerts.c) ---- */
/* Take or renew the lease of the judging process (lease.lua): 1 held, 0 not. */
ctx_err store_alerts_lease(struct rconn *rc, struct store *st, const char *owner,
                           long long ttl_ms, rconn_reply_cb cb, void *priv);
/* The series counted since since_ms, the most recent first, at most limit. */
ctx_err store_alerts_series(struct rconn *rc, struct store *st, long long since_ms, int limit,
                            rconn_reply_cb cb, void *priv);
/* A run of buckets of one key: epoch minutes of one UTC day, hours of one
 * UTC month, or days of one UTC year, first..last. */
struct store_trend_seg {
    enum store_trend_level bucket;
    long long first, last;
};
/* The series' detector state and the counts of each run (alerts_read.lua):
 * {state or nil, then per run nil (no such key) or its counts}. */
ctx_err store_alerts_read(struct rconn *rc, struct store *st, const char *series,
                          const struct store_trend_seg *segs, size_t n, rconn_reply_cb cb,
                          void *priv);
/* Keep the judgement of `minute` (alerts_apply.lua): the state, and the
 * alert JSON (NULL: none) in the alerts stream. Reply: the alert's stream
 * id, 1 (no alert) or 0 (that minute was judged already). */
ctx_err store_alerts_apply(struct rconn *rc, struct store *st, const char *series,
                           long long minute, const char *state, const char *alert,
                           rconn_reply_cb cb, void *priv);
/* Alerts newest first from the stream, raised at since_ms or later. */
ctx_err store_alerts_list(struct rconn *rc, struct store *st, long long since_ms, int limit,
                          rconn_reply_cb cb, void *priv);
ctx_err store_alerts_counts(struct rconn *rc, struct store *st, rconn_reply_cb cb,
                            void *priv);    /* HGETALL: series -> alerts raised */

/* This process's consumer name in stream groups: the config's "consumer",
 * else <host>-<pid>. */
void store_consumer_name(const struct config *cfg, char *out, size_t outlen);

/* ---- retention (store/retention.c; docs/operations.md, "Retention") ----
 * What cannot expire by key is trimmed by a sweeper (ctxd/retention.c) with
 * these: each step is idempotent, and a lease lets one process at a time do
 * them. `now` is ms since the epoch; the retention periods are the config's.
 * No call touches two domains: store/KEYS.md, "Keys a script touches...". */

/* Pure: a stream id "<ms>-<seq>" (or "<ms>") as its two numbers; 0, or -1
 * when s is not one. */
#define STORE_ID_LEN 48
int store_stream_id_parse(const char *s, unsigned long long *ms, unsigned long long *seq);
/* What a consumer group of a stream has not finished with: entries after its
 * last delivered id, and its pending entries from the oldest on. */
struct store_group_state {
    const char *last_delivered;     /* XINFO GROUPS last-delivered-id */
    const char *oldest_pending;     /* NULL or "": nothing pending */
};
/* Pure: the MINID a stream may be trimmed to (XTRIM MINID = out drops the
 * entries before it): the first id of cutoff_ms, lowered so that no entry a
 * group of g[0..n) has not been delivered, or still has pending, goes.
 * 0, or -1 when an id cannot be read (then nothing is to be trimmed). */
int store_retain_minid(long long cutoff_ms, const struct store_group_state *g, size_t n,
                       char out[STORE_ID_LEN]);

/* Hold (take or renew) the lease `what` (ctx:{c}:lease:<what>, lease.lua) for
 * ms as `owner`: the reply is 1 when owner holds it. */
ctx_err store_source_lease(struct rconn *rc, struct store *st, const char *source,
                           const char *owner, long long ms, rconn_reply_cb cb, void *priv);
/* Give the lease of a source back (lease_release.lua) if owner holds it: the
 * reply is 1 when it did. */
ctx_err store_source_lease_release(struct rconn *rc, struct store *st, const char *source,
                                   const char *owner, rconn_reply_cb cb, void *priv);
/* The same for the retention sweep's jobs. */
ctx_err store_retain_lease(struct rconn *rc, struct store *st, const char *what,
                           const char *owner, long long ms, rconn_reply_cb cb, void *priv);
/* The items of open tasks (queued, offered, assigned) live at least `items`
 * from now: their ids are read in routing (retain_open.lua), then their
 * hashes extended (retain_extend.lua); the reply is how many had their
 * expiry moved, NULL if either step failed. */
ctx_err store_retain_open(struct rconn *rc, struct store *st, long long now, rconn_reply_cb cb,
                          void *priv);
/* Up to limit entries of ctx:{i}:idx:all published more than `items` ago leave it,
 * and their hashes if they have no expiry (stored before retention): the
 * reply is how many left (retain_items.lua). */
ctx_err store_retain_items(struct rconn *rc, struct store *st, unsigned shard, long long now,
                           int limit, rconn_reply_cb cb, void *priv);   /* in one item shard */
/* The keys the sweeper finds by SCAN: the other indexes (brand, topic,
 * sentiment, complaint, reason) and the seen-sets. */
enum store_retain_scan { STORE_SCAN_INDEXES, STORE_SCAN_SEEN };
/* Pure: the MATCH pattern of those keys (ctx:{i}:idx:*:*, ctx:{i}:seen:*),
 * made by their builders, in buf. */
const char *store_retain_pattern(enum store_retain_scan what, char *buf, size_t len);
/* The same in an item shard (ctx:{i:1}:idx:*:*...). */
const char *store_retain_pattern_in(enum store_retain_scan what, unsigned shard, char *buf,
                                    size_t len);
/* One SCAN step of a shard's keys from cursor ("0" to start): the reply is SCAN's. */
ctx_err store_retain_scan(struct rconn *rc, struct store *st, enum store_retain_scan what,
                          unsigned shard, const char *cursor, rconn_reply_cb cb, void *priv);
/* Trim one key a scan found: an index by publication (`items`), a seen-set by
 * last served (`seen`, counted back from its source's newest id). The reply
 * is how many entries went. */
ctx_err store_retain_key(struct rconn *rc, struct store *st, enum store_retain_scan what,
                         const char *key, long long now, rconn_reply_cb cb, void *priv);
/* The streams trimmed by age, i in [0, store_retain_nstreams()): its name
 * (NULL past the end) and its retention in ms (0: kept). */
size_t store_retain_nstreams(void);
const char *store_retain_stream_name(size_t i);
long long store_retain_stream_ms(const struct store *st, size_t i);
/* Stream i is an item stream: there is one per item shard (the name above is shard 0's). */
bool store_retain_stream_sharded(size_t i);
/* Trim stream i to MINID (store_retain_minid), never past an entry one of
 * its groups has not been delivered or has pending, nor at all while a
 * group its consumers need (the analyze, route, post groups) does not exist.
 * cb gets the entries trimmed, or -1 (not done: lost, or an error logged). */
typedef void (*store_trim_cb)(long long trimmed, void *priv);
ctx_err store_retain_stream(struct rconn *rc, struct store *st, size_t i, unsigned shard,
                            long long now, store_trim_cb cb, void *priv);   /* shard: of an
                                                                               item stream */

#endif
