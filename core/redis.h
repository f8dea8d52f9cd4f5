/* redis.h -- one reconnecting asynchronous Redis connection on the uv loop.
 *
 * the hiredis-on-libuv glue lives here and nowhere else. A connection
 * that drops, or never comes up, is retried with exponential backoff (100 ms
 * doubling to 5 s); while it is down rconn_cmd() fails at once with
 * CTX_EREDIS and no callback, so callers can tell "not sent" from "sent and
 * lost". A command whose connection drops gets its callback with r == NULL.
 * hiredis has no timeouts: a watchdog drops a connection that leaves a
 * command unanswered for longer than its timeout (set it above any BLOCK).
 * On a Redis Cluster the same calls route each command to its slot's
 * master, follow MOVED and ASK, and find a promoted replica by themselves. */
#ifndef CTX_REDIS_H
#define CTX_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <hiredis.h>
#include <uv.h>
#include "core/ctx.h"

struct rconn;

/* r is NULL when the connection was lost before the reply. */
typedef void (*rconn_reply_cb)(struct rconn *rc, redisReply *r, void *priv);
/* Called on every transition, up or down. */
typedef void (*rconn_state_cb)(struct rconn *rc, bool up, void *priv);

/* A Lua script, loaded on every (re)connection and called by its SHA1. */
struct rscript {
    const char *name;
    const char *body;
    char sha[41];        /* filled by rscript_init() */
};
void rscript_init(struct rscript *s);

ctx_err rconn_new(uv_loop_t *loop, const char *host, int port, const char *name,
                  double timeout, rconn_state_cb state_cb, void *priv, struct rconn **out);
/* The same on "host:port" nodes: several, or cluster set, make it follow a
 * Redis Cluster's slot map (the nodes are where it first asks for it). A
 * plain connection answered MOVED becomes a cluster one by itself. Up means:
 * the masters of the slots it has sent commands to are connected (every
 * master before its first command), so a connection that uses one domain
 * carries on while another domain's master fails over. */
ctx_err rconn_new_nodes(uv_loop_t *loop, const char *const *nodes, size_t nnodes, bool cluster,
                        const char *name, double timeout, rconn_state_cb state_cb, void *priv,
                        struct rconn **out);
/* Drops the connection: pending commands are called back with NULL. */
void rconn_free(struct rconn *rc);

bool rconn_up(const struct rconn *rc);
bool rconn_cluster(const struct rconn *rc);
/* The cluster slot (0..16383) of a key, by its {hash tag} if it has one. */
unsigned rconn_key_slot(const char *key, size_t len);
const char *rconn_name(const struct rconn *rc);
/* Scripts to load on each connection (the array must outlive rc). */
void rconn_set_scripts(struct rconn *rc, struct rscript *scripts, size_t n);
/* AUTH [user] password on every connection before anything else (call it
 * right after rconn_new*(), before the loop runs); NULL or "": none. A
 * refused password is logged and retried like a connection that failed. */
void rconn_set_auth(struct rconn *rc, const char *user, const char *password);

ctx_err rconn_cmd(struct rconn *rc, rconn_reply_cb cb, void *priv, const char *fmt, ...);
ctx_err rconn_cmdargv(struct rconn *rc, rconn_reply_cb cb, void *priv, int argc,
                      const char **argv, const size_t *argvlen);
/* After every script (rconn_eval), WAIT for `replicas` replicas (at most
 * timeout_ms) on the same connection, and only then give the script's reply
 * to its callback: what ctxd acknowledges is on a replica too, and survives
 * its master's failover. NULL when the connection is lost before WAIT
 * answers; a reply all the same when fewer replicas answered in time. It
 * waits for no more replicas than the master has connected (ROLE, asked
 * every 10 s): none after a failover, until the old master is back. */
void rconn_set_wait(struct rconn *rc, int replicas, int timeout_ms);

/* EVALSHA script with nkeys keys followed by args (argv holds keys, then args). */
ctx_err rconn_eval(struct rconn *rc, const struct rscript *s, rconn_reply_cb cb, void *priv,
                   int nkeys, int argc, const char **argv, const size_t *argvlen);

/* The same AUTH on a blocking connection (ctxctl, start-up checks). */
ctx_err rsync_auth(redisContext *c, const char *user, const char *password, char *err,
                   size_t errlen);

#endif
