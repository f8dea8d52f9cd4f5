/* config.h -- ctxd.json, loaded and validated from a declarative table.
 *
 * config_load() parses the file, checks every key against the table in
 * config.c (type, bounds, required, default) and fails on the first unknown
 * key or bad value with a message naming the file and the key path
 * ("etc/ctxd.json: sources[0].every: expected a duration such as 30s").
 * Relative paths (rules, lexicons, www) are resolved against the config
 * file's folder. The returned config is immutable; config_free() frees it. */
#ifndef CTX_CONFIG_H
#define CTX_CONFIG_H

#include <stddef.h>
#include "core/ctx.h"

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

struct config {
    char *path;            /* the file it came from */
    char *listen;          /* "127.0.0.1:8080" */
    char *listen_host;
    int listen_port;
    char *redis;           /* "127.0.0.1:6379" */
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
};

/* On failure returns CTX_ECONFIG (or CTX_EIO, CTX_ENOMEM) with a message in
 * err; *out is NULL. */
ctx_err config_load(const char *path, struct config **out, char *err, size_t errlen);
void config_free(struct config *cfg);

/* Override "host:port" of Redis (ctxd --redis). */
ctx_err config_set_redis(struct config *cfg, const char *hostport, char *err, size_t errlen);

/* "30s", "5m", "1h", "250ms", "1d" or a bare number of seconds. 0 ok, -1 bad. */
int config_parse_duration(const char *s, double *out);
/* "host:port" -> parts; 0 ok, -1 bad. host is malloc'd. */
int config_parse_hostport(const char *s, char **host, int *port);

#endif
