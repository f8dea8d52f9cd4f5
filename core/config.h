/* config.h -- ctxd.json, loaded and validated from a declarative table.
 *
 * config_load() parses the file, checks every key against the table in
 * config.c (type, bounds, required, default, validator) and fails on the
 * first unknown key or bad value with a message naming the file and the key
 * path ("etc/ctxd.json: sources[0].every: expected a duration such as 30s").
 * The validators include a source's kind (and its kind-specific keys) and a
 * queue's strategy, so whatever loads a config (ctxd, ctxctl, the tests)
 * refuses the same files. Relative paths (rules, lexicons, www) are
 * resolved against the config file's folder. The returned config is
 * immutable; config_free() frees it. Allocation failure aborts (core/mem.h). */
#ifndef CTX_CONFIG_H
#define CTX_CONFIG_H

#include <stddef.h>
#include "core/ctx.h"
#include "core/item.h"

struct config_source {
    char *name;
    char *kind;
    char *url;             /* feed URL, or the network's base URL (kind-specific) */
    char *query;           /* search terms (social kinds) */
    char *tag;             /* a hashtag (mastodon) */
    char *subreddit;       /* reddit */
    char *mode;            /* what to read, kind-specific: "search", "tag", "new", ... */
    char *token;           /* credential; never logged */
    char *token_env;       /* or the name of the environment variable holding it */
    char *api_version;     /* VK */
    double every;          /* seconds between polls */
    double timeout;        /* seconds for one fetch */
    long long max_bytes;   /* body size cap */
};

/* An agent queue (routing). */
struct config_queue {
    char *name;
    char *strategy;        /* longest-idle (default), round-robin, fewest-tasks, best-skill */
    struct strlist skills; /* required skills: "billing" or "billing:50" (minimum level) */
    char *lang;            /* required language, or NULL */
    struct strlist channels; /* social, chat, callback: what the queue takes (default all) */
    double offer_timeout;  /* s an offer waits for accept */
    double wrapup;         /* s of wrap-up after a task */
    double sla;            /* s: the answer target */
    double aging;          /* s of waiting worth one priority level; 0 = strict priority */
    double overflow_after; /* s waiting before overflow applies; 0 = never */
    char *overflow_queue;  /* also offer in this queue after overflow_after */
    int overflow_priority; /* or raise the priority by this much */
    int max_length;        /* tasks waiting at most; 0 = unbounded */
    int max_no_answer;     /* offers timed out in a row before the agent is set away */
    char *callback_mode;   /* progressive (dial on accept, the default) or preview (the
                              agent presses Call) */
    char *calling_hours;   /* "09:00-20:00" local: when its callbacks may ring; NULL: always */
    char *calling_tz;      /* the zone of calling_hours ("Europe/Moscow"); NULL: UTC */
    char *dial_uri;        /* its customers' SIP URI template (a trunk of its own); NULL:
                              dialer.uri */
};

/* Voice callbacks (docs/voice.md): the dialer engine and how it calls. */
struct config_dialer {
    char *engine;          /* "baresip"; NULL: no calls are placed */
    char *address;         /* the engine's control address (baresip ctrl_tcp) */
    char *uri;             /* a number's SIP URI: {digits} / {e164} ("sip:{digits}@pbx") */
    char *country_code;    /* for numbers written without one ("7"); NULL: they are refused */
    double ring_timeout;   /* s the customer's phone rings before "no answer" */
    double agent_ring_timeout; /* s the agent's phone rings */
    int attempts;          /* calls to a customer at most (busy, no answer) */
    struct strlist retry_delays; /* durations before retry 1, 2...; the last repeats */
};

/* A rule turning a tagged item into a social task: every condition given
 * must hold. Rules are tried in order; the first that matches wins. */
struct config_escalation {
    char *name;
    char *queue;
    int priority;
    char *sentiment;       /* label required, or NULL */
    double max_score;      /* compound at most this (2 = no condition) */
    struct strlist topics; /* any of these, if given */
    struct strlist brands; /* any of these, if given */
    int urgent;            /* -1 any, 0 must not be urgent, 1 must be urgent */
    int complaint;         /* -1 any, 0 must not be a complaint, 1 must be one */
    struct strlist reasons; /* any of these complaint reasons, if given */
    char *lang;
    int min_followers;
    int duplicates;        /* -1 any, 0 skip near-duplicates (default), 1 only duplicates */
    char *on;              /* "item" (default) or "alert": a rule for spike alerts */
    struct strlist series; /* on "alert": the series it takes ("reason:outage", "brand:*") */
};

/* Spike alert thresholds (docs/alerts.md) for the series a row matches:
 * a name ("brand:acme") or a prefix ending in '*' ("reason:*"); the first
 * row that matches wins. -1: the value of "alerts". */
struct config_alert_series {
    char *match;
    double min_count, min_ratio, raise, clear, spread, clear_after;
};

struct config_alerts {
    int enabled;
    double delay;          /* s after a minute ends before it is judged (late counts) */
    int max_series;        /* series judged each minute at most (the most recently counted) */
    double min_count, min_ratio, raise, clear, spread;
    double clear_after;    /* s under `clear` before an alert clears */
    struct config_alert_series *series;
    size_t nseries;
};

/* When /healthz calls the pipeline degraded (docs/operations.md). */
struct config_health {
    int max_lag;           /* entries a consumer group may have left unread */
    double max_pending_age; /* s an entry may wait for its group, read (pending) or not */
};

/* How long what Redis holds is kept (docs/operations.md, "Retention"), in
 * seconds; 0 keeps it for ever. */
struct config_retention {
    double items;          /* an item after it is tagged (or published, if later), and its
                              index entries, by publication time */
    double tasks;          /* a task after it is done or abandoned, with its chat messages */
    double replies;        /* a reply after it is posted or has failed; the outbox stream */
    double seen;           /* an id a source stopped serving, in the source's seen-set */
    double simhash;        /* a near-duplicate band list after its last push */
    double events;         /* entries of the event streams (routing, agent, chat, replies,
                              control) */
    double dead;           /* entries of the dead-letter streams */
    double sweep_every;    /* how often the sweeper trims indexes, seen-sets and streams */
};

/* Trend counters (docs/trends.md, store/KEYS.md "trends"). */
struct config_trends {
    int enabled;           /* tag.lua counts each item (false: no counters are written) */
    double lateness;       /* s: an item published at most this long ago is counted at its
                              published time, an older one at its fetch time */
    double skew;           /* s: a published time at most this far in the future is taken */
    double minute_retention; /* s a minute bucket is kept (its key: a UTC day) */
    double hour_retention;   /* s an hour bucket is kept (its key: a UTC month) */
    double day_retention;    /* s a day bucket is kept (its key: a UTC year) */
    int max_points;        /* points one GET /api/trends may answer (series x buckets) */
};

struct config {
    char *path;            /* the file it came from */
    char *listen;          /* "127.0.0.1:8080" */
    char *listen_host;
    int listen_port;
    struct strlist redis_nodes; /* "127.0.0.1:6379", or a Redis Cluster's nodes */
    int redis_cluster;     /* follow a cluster's slot map (set when there are several nodes) */
    char *redis_user;      /* AUTH user (Redis 6 ACL); NULL: the default user */
    char *redis_password;  /* AUTH password, or $CTX_REDIS_PASSWORD; NULL: no AUTH */
    int redis_wait_replicas; /* WAIT for this many replicas after each script of the web
                              nodes (what clients are told happened; 0: don't) */
    double redis_wait_timeout; /* s WAIT waits at most */
    int item_shards;       /* the item pipeline's shards (store/KEYS.md "Item shards"), 1..16 */
    char *redis;           /* the first node, "127.0.0.1:6379" */
    char *redis_host;
    int redis_port;
    char *rules;           /* folder of *.rules */
    char *lexicons;        /* folder of lexicons */
    char *www;             /* static pages */
    char *log_level;
    char *user_agent;
    char *consumer;        /* consumer name in stream groups; NULL = host-pid */
    long long max_body;    /* default body cap for sources */
    int per_host;          /* fetches in flight to one host at most */
    struct config_source *sources;
    size_t nsources;
    struct config_queue *queues;
    size_t nqueues;
    struct config_escalation *escalation;
    size_t nescalation;
    char *chat_queue;      /* queue of web and Telegram chats (default: the first taking chats) */
    char *callback_queue;  /* queue of callback requests (default: the first taking callbacks) */
    double presence_grace; /* s an agent may be disconnected before its tasks are re-queued */
    double presence_timeout; /* s without a heartbeat before a connection counts as gone */
    char *allowed_origins; /* websocket Origin check: comma-separated, NULL = same host only */
    double claim_idle;     /* s a stream entry stays pending before another read takes it over */
    int max_deliveries;    /* reads of one stream entry before it is dead-lettered */
    int auth;              /* tokens required for the API and the monitor (roles: docs/web.md) */
    struct config_health health;
    struct config_retention retention;
    struct config_trends trends;
    struct config_alerts alerts;
    struct config_dialer dialer;
};

/* On failure returns CTX_ECONFIG with a message in err ("FILE: KEY: why",
 * or "FILE:LINE:COL: why" for bad JSON); *out is NULL. */
ctx_err config_load(const char *path, struct config **out, char *err, size_t errlen);
void config_free(struct config *cfg);

/* Override "host:port" of Redis, or "h:p,h:p,..." of a cluster (ctxd --redis). */
ctx_err config_set_redis(struct config *cfg, const char *hostport, char *err, size_t errlen);

/* The queue that takes chats: "chat_queue", else the first queue that takes
 * the chat channel (or every channel); NULL when none does. */
const char *config_chat_queue(const struct config *cfg);

/* "30s", "5m", "1h", "250ms", "1d" or a bare number of seconds. 0 ok, -1 bad. */
int config_parse_duration(const char *s, double *out);
/* "host:port" -> parts; 0 ok, -1 bad. host is malloc'd (the caller frees it). */
int config_parse_hostport(const char *s, char **host, int *port);

#endif
