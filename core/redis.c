/* redis.c -- a reconnecting hiredis async connection on libuv, to one
 * server or to a Redis Cluster; see redis.h.
 *
 * A node's states: connecting -> up -> (lost) -> waiting for the backoff
 * timer -> connecting ... Each command is formatted once (RESP) and carries
 * a small heap record with that text, so its callback can find the rconn
 * after hiredis calls back, the watchdog can count unanswered commands, and
 * a command can be sent again: to the node a MOVED or ASK names, or after
 * NOSCRIPT once the scripts are loaded.
 *
 * On a cluster the rconn keeps one connection per master and the map of the
 * 16384 slots to them, from CLUSTER SLOTS; a command goes to the master of
 * its first key's slot (all its keys share it: the hash tags). The map is
 * asked for again on a MOVED, on CLUSTERDOWN, every 10 s, and every 500 ms
 * while a master in it is unreachable -- that is how a promoted replica is
 * found after its master dies. Meanwhile commands for the dead master's
 * slots fail at once (CTX_EREDIS, not sent), and the rconn is down, so its
 * owner starts over when it is up again, as after a reconnection. A
 * multi-key command refused with TRYAGAIN (its slot migrating, its keys on
 * both sides) is sent again 100 ms later, up to 20 times. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <async.h>
#include "core/mem.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/redis.h"

/* ---- hiredis on libuv ----
 * Our own adapter rather than hiredis 0.14's adapters/libuv.h, which drops
 * poll errors (status < 0) on the floor: a connect refused while Redis is
 * down then never completes and the connection is stuck "connecting"
 * forever. Here an error is handed to hiredis as readiness, so it reads
 * the socket error and fails the connection, which we then retry. */
struct uvev {
    redisAsyncContext *ac;      /* NULL once hiredis has cleaned up */
    uv_poll_t poll;
    int events;
};

static void uvev_poll(uv_poll_t *h, int status, int events)
{
    struct uvev *p = h->data;
    if (status < 0)
        events = p->events;     /* let hiredis find the error itself */
    if (p->ac && (events & UV_WRITABLE))
        redisAsyncHandleWrite(p->ac);
    if (p->ac && (events & UV_READABLE))
        redisAsyncHandleRead(p->ac);
}

static void uvev_update(struct uvev *p, int add, int del)
{
    p->events = (p->events | add) & ~del;
    if (p->events)
        uv_poll_start(&p->poll, p->events, uvev_poll);
    else
        uv_poll_stop(&p->poll);
}

static void uvev_add_read(void *d) { uvev_update(d, UV_READABLE, 0); }
static void uvev_del_read(void *d) { uvev_update(d, 0, UV_READABLE); }
static void uvev_add_write(void *d) { uvev_update(d, UV_WRITABLE, 0); }
static void uvev_del_write(void *d) { uvev_update(d, 0, UV_WRITABLE); }

static void uvev_closed(uv_handle_t *h)
{
    free(h->data);
}

static void uvev_cleanup(void *d)
{
    struct uvev *p = d;
    p->ac = NULL;
    uv_close((uv_handle_t *)&p->poll, uvev_closed);
}

static int uvev_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    struct uvev *p = ctx_calloc(1, sizeof *p);
    if (uv_poll_init_socket(loop, &p->poll, ac->c.fd)) {
        free(p);
        return -1;
    }
    p->ac = ac;
    p->poll.data = p;
    ac->ev.data = p;
    ac->ev.addRead = uvev_add_read;
    ac->ev.delRead = uvev_del_read;
    ac->ev.addWrite = uvev_add_write;
    ac->ev.delWrite = uvev_del_write;
    ac->ev.cleanup = uvev_cleanup;
    return 0;
}

/* ---- one server ----
 * An rnode is one hiredis connection to one server, reconnecting with
 * backoff. A plain rconn has one; a cluster rconn has one per master it
 * has talked to, and a map of the 16384 slots to them. */
#define SLOTS 16384
#define NO_NODE 0xffff
#define MAX_REDIRECTS 5
#define ROLE_EVERY_MS 10000      /* how often a waiting connection asks a master's replicas */
#define TRYAGAIN_MS 100         /* a slot migrating: a multi-key command again after */
#define TRYAGAIN_TIMES 20
#define USED_MAX 8              /* slots a connection keeps apart (the domains it uses) */

struct rnode {
    struct rconn *rc;
    char *host;
    int port;
    redisAsyncContext *ac;      /* NULL while down */
    bool up;                    /* connected (ac may exist and still be connecting) */
    bool wanted;                /* in the slot map (or the only node): reconnect when lost */
    unsigned backoff_ms;
    uv_timer_t *retry;
    unsigned outstanding;
    uint64_t last_activity;     /* uv_now() of the last reply or send on an idle conn */
    bool logged_down;
    bool logged_auth;           /* a refused AUTH said once */
    int replicas;               /* replicas connected to it (ROLE), -1 not known yet */
    uint64_t role_due;          /* uv_now() when to ask ROLE again */
    bool role_asked;            /* a ROLE in flight */
};

struct rconn {
    uv_loop_t *loop;
    char *name;
    double timeout;
    bool cluster;               /* follow the slot map, MOVED and ASK */
    bool up, closing;
    struct rnode **nodes;       /* never shrinks: slots hold indexes */
    size_t nnodes;
    uint16_t *slots;            /* cluster: node index per slot, NO_NODE unknown */
    bool mapped;                /* a CLUSTER SLOTS answer covered every slot */
    bool refreshing;            /* a CLUSTER SLOTS is in flight */
    size_t next_ask;            /* round robin over the nodes asked for the map */
    uv_timer_t *refresh;
    uint64_t refresh_due;       /* uv_now() when the refresh timer fires */
    uv_timer_t *watchdog;
    rconn_state_cb state_cb;
    void *priv;
    struct rscript *scripts;
    size_t nscripts;
    int wait_replicas;          /* 0: scripts are not followed by WAIT */
    int wait_ms;
    bool logged_unreplicated;
    bool logged_ask;            /* a slot migrating: said once */
    struct pending *delayed;    /* TRYAGAIN: commands waiting to be sent again */
    char *auth_user, *auth_pass; /* AUTH on every connection, before anything else */
    /* cluster: the slots this connection has sent to; it is up while their
     * masters are, so a follower of one stream does not stop while the
     * master of another domain fails over. Past USED_MAX slots (or before
     * the first command) every master counts. */
    uint16_t used[USED_MAX];
    unsigned nused;
    bool used_all;
};

struct pending {
    struct rconn *rc;
    struct rnode *node;
    rconn_reply_cb cb;
    void *priv;
    char *cmd;                  /* the command as sent, to send again after a redirection */
    size_t len;
    int redirects;
    bool reloaded;              /* NOSCRIPT: sent again once after loading the scripts */
    /* WAIT after a script (rconn_set_wait): its reply is held until the
     * WAIT of the same send answers */
    bool wait;                  /* a script, on an rconn that waits for replicas */
    bool waited;                /* the current send is followed by a WAIT */
    unsigned gen;               /* sends so far: a WAIT of an earlier one is ignored */
    unsigned refs;              /* hiredis callbacks still to come for it */
    bool finished;              /* cb called */
    redisReply *held;           /* the script's reply, until its WAIT answers */
    int tryagain;               /* TRYAGAIN answers so far */
    uv_timer_t *later;          /* while in rc->delayed */
    struct pending *next_delayed, **prev_delayed;
};

/* The WAIT that follows one send of a script. */
struct waiter {
    struct pending *p;
    unsigned gen;
};

static void node_connect(struct rnode *n);
static void refresh_soon(struct rconn *rc, uint64_t ms);
static ctx_err send_pending(struct rconn *rc, struct rnode *n, struct pending *p, bool asking);
static void undelay(struct pending *p);
static void ask_role(struct rnode *n);
static void finish(struct pending *p, redisReply *r);
static void pending_done(struct pending *p);

void rscript_init(struct rscript *s)
{
    ctx_sha1_hex(s->body, strlen(s->body), s->sha);
}

/* Up: a plain connection is connected; a cluster has the masters of the
 * slots it sends to connected (every master, until it has sent to one, or
 * when it sends to more than USED_MAX slots). */
static void update_state(struct rconn *rc)
{
    bool up;
    if (!rc->cluster) {
        up = rc->nodes[0]->up;
    } else if (rc->used_all || rc->nused == 0) {
        up = rc->mapped;
        for (size_t i = 0; up && i < rc->nnodes; i++)
            if (rc->nodes[i]->wanted && !rc->nodes[i]->up)
                up = false;
    } else {
        up = rc->slots != NULL;
        for (unsigned i = 0; up && i < rc->nused; i++) {
            uint16_t n = rc->slots[rc->used[i]];
            up = n != NO_NODE && rc->nodes[n]->up;
        }
    }
    if (rc->closing || rc->up == up)
        return;
    rc->up = up;
    if (rc->cluster)
        log_info("redis %s: cluster %s", rc->name, up ? "up, every master connected"
                                                        : "degraded, waiting for a master");
    if (rc->state_cb)
        rc->state_cb(rc, up, rc->priv);
}

static void retry_fire(uv_timer_t *t)
{
    node_connect(t->data);
}

static void schedule_retry(struct rnode *n)
{
    if (n->rc->closing || !n->wanted)
        return;
    n->backoff_ms = n->backoff_ms ? n->backoff_ms * 2 : 100;
    if (n->backoff_ms > 5000)
        n->backoff_ms = 5000;
    if (n->rc->cluster && n->backoff_ms > 1000)
        n->backoff_ms = 1000;   /* a restarted node comes back as a replica soon */
    uv_timer_start(n->retry, retry_fire, n->backoff_ms, 0);
}

static void on_load(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    redisReply *r = reply;
    struct rscript *s = privdata;
    if (r && r->type == REDIS_REPLY_ERROR)
        log_error("redis: loading script %s: %s", s->name, r->str);
}

static void load_scripts(struct rnode *n)
{
    struct rconn *rc = n->rc;
    for (size_t i = 0; n->ac && i < rc->nscripts; i++)
        redisAsyncCommand(n->ac, on_load, &rc->scripts[i], "SCRIPT LOAD %s",
                          rc->scripts[i].body);
}

static void node_ready(struct rnode *n);

static void on_auth(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct rnode *n = privdata;
    redisReply *r = reply;
    if (!r || n->rc->closing)
        return;                 /* lost meanwhile: on_disconnect retries */
    if (r->type == REDIS_REPLY_ERROR) {
        if (!n->logged_auth)
            log_error("redis %s: %s:%d refused the password (redis_password, "
                      "CTX_REDIS_PASSWORD): %s; retrying", n->rc->name, n->host, n->port,
                      r->str);
        n->logged_auth = true;
        n->logged_down = true;  /* the disconnection that follows says nothing more */
        redisAsyncDisconnect(ac);
        return;
    }
    n->logged_auth = false;
    node_ready(n);
}

/* AUTH, queued as soon as the connection is made, so it goes before anything
 * sent while connecting (a cluster routes to a connecting master). */
static void send_auth(struct rnode *n)
{
    struct rconn *rc = n->rc;
    const char *argv[3] = {"AUTH", rc->auth_user ? rc->auth_user : rc->auth_pass,
                           rc->auth_pass};
    redisAsyncCommandArgv(n->ac, on_auth, n, rc->auth_user ? 3 : 2, argv, NULL);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct rnode *n = ac->data;
    struct rconn *rc = n->rc;
    if (status != REDIS_OK) {
        if (!n->logged_down)
            log_warn("redis %s: cannot connect to %s:%d: %s; retrying", rc->name, n->host,
                     n->port, ac->errstr);
        n->logged_down = true;
        n->ac = NULL;           /* hiredis frees it */
        n->up = false;
        if (rc->cluster)
            refresh_soon(rc, 200);
        update_state(rc);
        schedule_retry(n);
        return;
    }
    if (rc->auth_pass)
        return;                 /* node_connect() sent AUTH first: on_auth() goes on */
    node_ready(n);
}

/* Connected (and authenticated): load the scripts, and take commands. */
static void node_ready(struct rnode *n)
{
    struct rconn *rc = n->rc;
    log_info("redis %s: connected to %s:%d", rc->name, n->host, n->port);
    n->logged_down = false;
    n->backoff_ms = 0;
    n->last_activity = uv_now(rc->loop);
    load_scripts(n);
    n->up = true;
    if (rc->cluster && !rc->mapped)
        refresh_soon(rc, 0);
    update_state(rc);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct rnode *n = ac->data;
    struct rconn *rc = n->rc;
    n->ac = NULL;
    n->up = false;
    n->outstanding = 0;
    if (!rc->closing && !n->logged_auth)
        log_warn("redis %s: connection to %s:%d lost%s%s", rc->name, n->host, n->port,
                 status == REDIS_OK ? "" : ": ", status == REDIS_OK ? "" : ac->errstr);
    n->logged_down = true;
    if (rc->closing)
        return;
    if (rc->cluster)
        refresh_soon(rc, 200);  /* a master gone: its replica may take over */
    update_state(rc);
    schedule_retry(n);
}

static void node_connect(struct rnode *n)
{
    struct rconn *rc = n->rc;
    if (n->ac || rc->closing)
        return;
    redisAsyncContext *ac = redisAsyncConnect(n->host, n->port);
    if (!ac || ac->err) {
        if (!n->logged_down)
            log_warn("redis %s: cannot connect to %s:%d: %s", rc->name, n->host, n->port,
                     ac ? ac->errstr : "out of memory");
        n->logged_down = true;
        if (ac)
            redisAsyncFree(ac);
        schedule_retry(n);
        return;
    }
    ac->data = n;
    if (uvev_attach(ac, rc->loop)) {
        redisAsyncFree(ac);
        schedule_retry(n);
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    n->ac = ac;
    n->outstanding = 0;
    if (rc->auth_pass)
        send_auth(n);
}

/* The node for host:port, made (and connecting) if new. */
static size_t node_get(struct rconn *rc, const char *host, size_t hostlen, int port)
{
    for (size_t i = 0; i < rc->nnodes; i++)
        if (rc->nodes[i]->port == port && strlen(rc->nodes[i]->host) == hostlen &&
            memcmp(rc->nodes[i]->host, host, hostlen) == 0) {
            struct rnode *n = rc->nodes[i];
            if (!n->wanted) {
                n->wanted = true;
                if (!n->ac && !uv_is_active((uv_handle_t *)n->retry))
                    node_connect(n);
            }
            return i;
        }
    struct rnode *n = ctx_calloc(1, sizeof *n);
    n->rc = rc;
    n->host = ctx_malloc(hostlen + 1);
    memcpy(n->host, host, hostlen);
    n->host[hostlen] = '\0';
    n->port = port;
    n->wanted = true;
    n->replicas = -1;
    n->retry = ctx_malloc(sizeof *n->retry);
    uv_timer_init(rc->loop, n->retry);
    n->retry->data = n;
    rc->nodes = ctx_realloc(rc->nodes, (rc->nnodes + 1) * sizeof *rc->nodes);
    rc->nodes[rc->nnodes] = n;
    node_connect(n);
    return rc->nnodes++;
}

/* ---- the slot map ---- */

/* CRC16-CCITT (XMODEM), the cluster's key hash. */
static unsigned crc16(const char *buf, size_t len)
{
    unsigned crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (unsigned)(unsigned char)buf[i] << 8;
        for (int b = 0; b < 8; b++)
            crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    return crc;
}

/* The slot of a key: of its {hash tag} if it has a non-empty one. */
static unsigned key_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t rest = len - (size_t)(open - key) - 1;
        const char *close = memchr(open + 1, '}', rest);
        if (close && close > open + 1)
            return crc16(open + 1, (size_t)(close - open - 1)) & (SLOTS - 1);
    }
    return crc16(key, len) & (SLOTS - 1);
}

unsigned rconn_key_slot(const char *key, size_t len)
{
    return key_slot(key, len);
}

static void on_slots(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct rconn *rc = privdata;
    struct rnode *asked = ac->data;
    redisReply *r = reply;
    rc->refreshing = false;
    if (rc->closing)
        return;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        if (r && r->type == REDIS_REPLY_ERROR)
            log_warn("redis %s: CLUSTER SLOTS: %s", rc->name, r->str);
        refresh_soon(rc, 300);
        return;
    }
    uint16_t *map = ctx_malloc(SLOTS * sizeof *map);
    for (size_t i = 0; i < SLOTS; i++)
        map[i] = NO_NODE;
    /* [[start, end, [host, port, id...], replicas...], ...] */
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
            e->element[0]->type != REDIS_REPLY_INTEGER ||
            e->element[1]->type != REDIS_REPLY_INTEGER ||
            e->element[2]->type != REDIS_REPLY_ARRAY || e->element[2]->elements < 2)
            continue;
        const redisReply *m = e->element[2];
        if (m->element[0]->type != REDIS_REPLY_STRING || m->element[1]->type != REDIS_REPLY_INTEGER)
            continue;
        const char *host = m->element[0]->str;
        size_t hostlen = m->element[0]->len;
        if (hostlen == 0) {     /* "the node you asked" */
            host = asked->host;
            hostlen = strlen(host);
        }
        size_t idx = node_get(rc, host, hostlen, (int)m->element[1]->integer);
        for (long long s = e->element[0]->integer; s <= e->element[1]->integer; s++)
            if (s >= 0 && s < SLOTS)
                map[s] = (uint16_t)idx;
    }
    size_t unknown = 0;
    for (size_t i = 0; i < SLOTS; i++)
        unknown += map[i] == NO_NODE;
    /* a master that holds no slot any more is not reconnected to */
    for (size_t i = 0; i < rc->nnodes; i++) {
        bool used = false;
        for (size_t s = 0; s < SLOTS && !used; s++)
            used = map[s] == i;
        if (!used && rc->nodes[i]->wanted) {
            rc->nodes[i]->wanted = false;
            uv_timer_stop(rc->nodes[i]->retry);
        }
    }
    bool changed = !rc->slots || memcmp(map, rc->slots, SLOTS * sizeof *map) != 0;
    free(rc->slots);
    rc->slots = map;
    rc->mapped = unknown == 0;
    if (changed)
        log_info("redis %s: slot map from %s:%d: %zu ranges%s", rc->name, asked->host,
                 asked->port, r->elements, unknown ? ", some slots unassigned" : "");
    bool all_up = rc->mapped;
    for (size_t i = 0; i < rc->nnodes; i++)
        if (rc->nodes[i]->wanted && !rc->nodes[i]->up)
            all_up = false;
    /* a failover under way: ask again until it settles; else now and then,
     * to see the cluster change (a master added) before a MOVED says so */
    refresh_soon(rc, all_up ? 10000 : 500);
    update_state(rc);
}

static void refresh_fire(uv_timer_t *t)
{
    struct rconn *rc = t->data;
    if (rc->refreshing || rc->closing)
        return;
    /* ask a connected node, another one each time */
    for (size_t k = 0; k < rc->nnodes; k++) {
        struct rnode *n = rc->nodes[(rc->next_ask + k) % rc->nnodes];
        if (!n->up || !n->ac)
            continue;
        rc->next_ask = (rc->next_ask + k + 1) % rc->nnodes;
        if (redisAsyncCommand(n->ac, on_slots, rc, "CLUSTER SLOTS") == REDIS_OK) {
            rc->refreshing = true;
            return;
        }
    }
    /* none connected: every node known, seeds included, is tried again */
    for (size_t i = 0; i < rc->nnodes; i++) {
        struct rnode *n = rc->nodes[i];
        if (!n->ac && !uv_is_active((uv_handle_t *)n->retry)) {
            n->wanted = true;
            node_connect(n);
        }
    }
    refresh_soon(rc, 500);
}

static void refresh_soon(struct rconn *rc, uint64_t ms)
{
    if (rc->closing || rc->refreshing)
        return;
    uint64_t due = uv_now(rc->loop) + ms;
    if (uv_is_active((uv_handle_t *)rc->refresh) && rc->refresh_due <= due)
        return;                 /* one already due as soon */
    rc->refresh_due = due;
    uv_timer_start(rc->refresh, refresh_fire, ms, 0);
}

/* ---- which node a command goes to ---- */

/* The arguments of a RESP command array, up to max of them. */
static size_t resp_args(const char *cmd, size_t len, const char **arg, size_t *alen, size_t max)
{
    const char *p = cmd, *end = cmd + len;
    if (p >= end || *p != '*')
        return 0;
    size_t n = (size_t)strtoul(p + 1, NULL, 10), got = 0;
    p = memchr(p, '\n', (size_t)(end - p));
    for (size_t i = 0; p && i < n && got < max; i++) {
        p++;
        if (p >= end || *p != '$')
            break;
        size_t l = (size_t)strtoul(p + 1, NULL, 10);
        p = memchr(p, '\n', (size_t)(end - p));
        if (!p || p + 1 + l > end)
            break;
        arg[got] = p + 1;
        alen[got++] = l;
        p += 1 + l + 1;         /* the data and its \r; p sits on \n */
    }
    return got;
}

static bool arg_is(const char *a, size_t l, const char *word)
{
    return strlen(word) == l && strncasecmp(a, word, l) == 0;
}

/* The slot of a command's first key, or -1 when it has none (PING, SCRIPT,
 * INFO...). Its keys all share one slot: that is what the hash tags are for.
 * SCAN ... MATCH pattern goes where the pattern's {tag} lives. */
static int cmd_slot(const char *cmd, size_t len)
{
    const char *a[64];
    size_t l[64];
    size_t n = resp_args(cmd, len, a, l, 64);
    if (n < 2)
        return -1;
    if (arg_is(a[0], l[0], "EVALSHA") || arg_is(a[0], l[0], "EVAL"))
        return n > 3 && strtol(a[2], NULL, 10) > 0 ? (int)key_slot(a[3], l[3]) : -1;
    if (arg_is(a[0], l[0], "XREAD") || arg_is(a[0], l[0], "XREADGROUP")) {
        for (size_t i = 1; i + 1 < n; i++)
            if (arg_is(a[i], l[i], "STREAMS"))
                return (int)key_slot(a[i + 1], l[i + 1]);
        return -1;
    }
    if (arg_is(a[0], l[0], "XGROUP") || arg_is(a[0], l[0], "XINFO"))
        return n > 2 ? (int)key_slot(a[2], l[2]) : -1;
    if (arg_is(a[0], l[0], "SCAN")) {
        for (size_t i = 2; i + 1 < n; i++)
            if (arg_is(a[i], l[i], "MATCH") && memchr(a[i + 1], '{', l[i + 1]))
                return (int)key_slot(a[i + 1], l[i + 1]);
        return -1;
    }
    static const char *const keyless[] = {"PING", "SCRIPT", "INFO", "CLUSTER", "DBSIZE",
                                          "TIME", "CONFIG", "ECHO", "CLIENT", "WAIT"};
    for (size_t i = 0; i < CTX_ARRAY_LEN(keyless); i++)
        if (arg_is(a[0], l[0], keyless[i]))
            return -1;
    return (int)key_slot(a[1], l[1]);
}

/* Counts slot among those this connection depends on. Its state is not
 * recomputed here (the caller is sending): the next map refresh or node
 * transition does, and a command to a master that is away fails anyway. */
static void use_slot(struct rconn *rc, uint16_t slot)
{
    for (unsigned i = 0; i < rc->nused; i++)
        if (rc->used[i] == slot)
            return;
    if (rc->nused < USED_MAX)
        rc->used[rc->nused++] = slot;
    else
        rc->used_all = true;
}

/* The node a command goes to: a plain rconn's one; the slot's master; any
 * connected master for a command without a key. NULL: none to send to. */
static struct rnode *route(struct rconn *rc, const char *cmd, size_t len)
{
    if (!rc->cluster)
        return rc->nodes[0]->up ? rc->nodes[0] : NULL;
    int slot = cmd_slot(cmd, len);
    if (slot >= 0) {
        use_slot(rc, (uint16_t)slot);
        if (!rc->slots || rc->slots[slot] == NO_NODE)
            return NULL;
        struct rnode *n = rc->nodes[rc->slots[slot]];
        return n->ac ? n : NULL;    /* connecting: hiredis sends it once connected */
    }
    for (size_t i = 0; i < rc->nnodes; i++)
        if (rc->nodes[i]->up && rc->nodes[i]->wanted)
            return rc->nodes[i];
    return NULL;
}

/* ---- the connection ---- */

static void watchdog_fire(uv_timer_t *t)
{
    struct rconn *rc = t->data;
    uint64_t now = uv_now(rc->loop);
    for (size_t i = 0; i < rc->nnodes; i++) {
        struct rnode *n = rc->nodes[i];
        if (!n->ac || !n->up || n->outstanding == 0)
            continue;
        if (now - n->last_activity > (uint64_t)(rc->timeout * 1000)) {
            log_warn("redis %s: no answer from %s:%d for %.0f s, dropping the connection",
                     rc->name, n->host, n->port, rc->timeout);
            redisAsyncFree(n->ac);  /* pending callbacks get NULL; on_disconnect runs */
        }
    }
}

ctx_err rconn_new_nodes(uv_loop_t *loop, const char *const *nodes, size_t nnodes, bool cluster,
                        const char *name, double timeout, rconn_state_cb state_cb, void *priv,
                        struct rconn **out)
{
    if (nnodes == 0)
        return CTX_EINVAL;
    struct rconn *rc = ctx_calloc(1, sizeof *rc);
    rc->loop = loop;
    rc->name = ctx_strdup(name);
    rc->timeout = timeout > 0 ? timeout : 10;
    rc->cluster = cluster || nnodes > 1;
    rc->state_cb = state_cb;
    rc->priv = priv;
    rc->refresh = ctx_malloc(sizeof *rc->refresh);
    rc->watchdog = ctx_malloc(sizeof *rc->watchdog);
    uv_timer_init(loop, rc->refresh);
    uv_timer_init(loop, rc->watchdog);
    rc->refresh->data = rc->watchdog->data = rc;
    uv_timer_start(rc->watchdog, watchdog_fire, 1000, 1000);
    *out = rc;
    for (size_t i = 0; i < nnodes; i++) {
        const char *colon = strrchr(nodes[i], ':');
        if (!colon) {
            node_get(rc, nodes[i], strlen(nodes[i]), 6379);
            continue;
        }
        node_get(rc, nodes[i], (size_t)(colon - nodes[i]), atoi(colon + 1));
    }
    return CTX_OK;
}

ctx_err rconn_new(uv_loop_t *loop, const char *host, int port, const char *name,
                  double timeout, rconn_state_cb state_cb, void *priv, struct rconn **out)
{
    char addr[300];
    snprintf(addr, sizeof addr, "%s:%d", host, port);
    const char *nodes[] = {addr};
    return rconn_new_nodes(loop, nodes, 1, false, name, timeout, state_cb, priv, out);
}

static void handle_free(uv_handle_t *h)
{
    free(h);
}

void rconn_free(struct rconn *rc)
{
    if (!rc)
        return;
    rc->closing = true;
    rc->state_cb = NULL;
    rc->up = false;             /* callbacks run below must not send more */
    while (rc->delayed) {       /* waiting to be sent again: lost */
        struct pending *p = rc->delayed;
        undelay(p);
        finish(p, NULL);
        pending_done(p);
    }
    for (size_t i = 0; i < rc->nnodes; i++) {
        struct rnode *n = rc->nodes[i];
        n->up = false;
        if (n->ac)
            redisAsyncFree(n->ac);
        uv_close((uv_handle_t *)n->retry, handle_free);
        free(n->host);
        free(n);
    }
    free(rc->nodes);
    free(rc->slots);
    uv_close((uv_handle_t *)rc->refresh, handle_free);
    uv_close((uv_handle_t *)rc->watchdog, handle_free);
    free(rc->name);
    free(rc->auth_user);
    free(rc->auth_pass);
    free(rc);
}

bool rconn_up(const struct rconn *rc)
{
    return rc->up;
}

bool rconn_cluster(const struct rconn *rc)
{
    return rc->cluster;
}

const char *rconn_name(const struct rconn *rc)
{
    return rc->name;
}

void rconn_set_scripts(struct rconn *rc, struct rscript *scripts, size_t n)
{
    rc->scripts = scripts;
    rc->nscripts = n;
}

void rconn_set_auth(struct rconn *rc, const char *user, const char *password)
{
    if (!password || !*password)
        return;
    rc->auth_user = user && *user ? ctx_strdup(user) : NULL;
    rc->auth_pass = ctx_strdup(password);
    /* the connections rconn_new*() started are still connecting: nothing
     * is queued on them yet */
    for (size_t i = 0; i < rc->nnodes; i++)
        if (rc->nodes[i]->ac && !rc->nodes[i]->up)
            send_auth(rc->nodes[i]);
}

static void pending_free(struct pending *p)
{
    free(p->cmd);
    free(p);
}

static void pending_done(struct pending *p)
{
    if (p->finished && p->refs == 0)
        pending_free(p);
}

/* A deep copy of a reply, freed by freeReplyObject() (hiredis frees its
 * own once the callback returns; a held reply must outlive it). */
static redisReply *reply_clone(const redisReply *r)
{
    redisReply *c = ctx_calloc(1, sizeof *c);
    c->type = r->type;
    c->integer = r->integer;
    if (r->type == REDIS_REPLY_ARRAY) {
        c->elements = r->elements;
        c->element = r->elements ? ctx_calloc(r->elements, sizeof *c->element) : NULL;
        for (size_t i = 0; i < r->elements; i++)
            c->element[i] = reply_clone(r->element[i]);
    } else if (r->str) {
        c->len = r->len;
        c->str = ctx_malloc(r->len + 1);
        memcpy(c->str, r->str, r->len);
        c->str[r->len] = '\0';
    }
    return c;
}

static void finish(struct pending *p, redisReply *r)
{
    p->finished = true;
    if (p->cb)
        p->cb(p->rc, r, p->priv);
}

/* WAIT's answer: the script's reply goes to its owner now -- or NULL when
 * the connection was lost before WAIT answered: applied perhaps, but not
 * known to be on a replica. Fewer replicas than asked within the timeout
 * (one is down) still delivers: the master has it. */
/* ROLE of a master: ["master", offset, [[ip, port, offset]...]] -- the
 * replicas connected to it now, so that WAIT asks for no more than exist
 * (none after a failover, until the old master comes back as a replica):
 * a replica that is only slow is still waited for. */
static void on_role(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    struct rnode *n = privdata;
    redisReply *r = reply;
    n->role_asked = false;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
        r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "master") != 0 ||
        r->element[2]->type != REDIS_REPLY_ARRAY)
        return;
    int was = n->replicas;
    n->replicas = (int)r->element[2]->elements;
    if (was >= 0 && was != n->replicas)
        log_info("redis %s: %s:%d has %d replica%s connected", n->rc->name, n->host, n->port,
                 n->replicas, n->replicas == 1 ? "" : "s");
}

static void ask_role(struct rnode *n)
{
    if (n->role_asked || !n->ac)
        return;
    n->role_due = uv_now(n->rc->loop) + ROLE_EVERY_MS;
    if (redisAsyncCommand(n->ac, on_role, n, "ROLE") == REDIS_OK)
        n->role_asked = true;
}

static void on_wait(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    struct waiter *w = privdata;
    struct pending *p = w->p;
    redisReply *r = reply;
    p->refs--;
    if (!p->finished && w->gen == p->gen && p->held) {
        struct rconn *rc = p->rc;
        int want = p->node->replicas >= 0 && p->node->replicas < rc->wait_replicas
                       ? p->node->replicas : rc->wait_replicas;
        if (r && r->type == REDIS_REPLY_INTEGER && r->integer < want) {
            /* a replica slow, or gone: ROLE tells which */
            ask_role(p->node);
            if (!rc->logged_unreplicated)
                log_warn("redis %s: %s:%d: a script's writes reached %lld replicas of %d within "
                         "%d ms", rc->name, p->node->host, p->node->port, r->integer, want,
                         rc->wait_ms);
            rc->logged_unreplicated = true;
        } else if (r && r->type == REDIS_REPLY_INTEGER) {
            rc->logged_unreplicated = false;
        }
        redisReply *held = p->held;
        p->held = NULL;
        finish(p, r ? held : NULL);
        freeReplyObject(held);
    }
    free(w);
    pending_done(p);
}

void rconn_set_wait(struct rconn *rc, int replicas, int timeout_ms)
{
    rc->wait_replicas = replicas > 0 ? replicas : 0;
    rc->wait_ms = timeout_ms > 0 ? timeout_ms : 100;
}

/* "MOVED 3999 127.0.0.1:6381" / "ASK ...": the slot and the node's index. */
static bool redirection(struct rconn *rc, const char *err, bool *ask, unsigned *slot,
                        size_t *node)
{
    *ask = strncmp(err, "ASK ", 4) == 0;
    if (!*ask && strncmp(err, "MOVED ", 6) != 0)
        return false;
    const char *p = err + (*ask ? 4 : 6);
    char *end;
    unsigned long s = strtoul(p, &end, 10);
    if (end == p || *end != ' ' || s >= SLOTS)
        return false;
    const char *addr = end + 1, *colon = strrchr(addr, ':');
    if (!colon)
        return false;
    *slot = (unsigned)s;
    *node = node_get(rc, addr, (size_t)(colon - addr), atoi(colon + 1));
    return true;
}

static void undelay(struct pending *p)
{
    *p->prev_delayed = p->next_delayed;
    if (p->next_delayed)
        p->next_delayed->prev_delayed = p->prev_delayed;
    uv_close((uv_handle_t *)p->later, handle_free);
    p->later = NULL;
}

static void later_fire(uv_timer_t *t)
{
    struct pending *p = t->data;
    struct rconn *rc = p->rc;
    undelay(p);
    struct rnode *n = route(rc, p->cmd, p->len);
    if (!n || send_pending(rc, n, p, false) != CTX_OK) {
        finish(p, NULL);        /* nowhere to send it now: as if lost */
        pending_done(p);
    }
}

static void delay(struct rconn *rc, struct pending *p)
{
    p->later = ctx_malloc(sizeof *p->later);
    uv_timer_init(rc->loop, p->later);
    p->later->data = p;
    uv_timer_start(p->later, later_fire, TRYAGAIN_MS, 0);
    p->next_delayed = rc->delayed;
    p->prev_delayed = &rc->delayed;
    if (rc->delayed)
        rc->delayed->prev_delayed = &p->next_delayed;
    rc->delayed = p;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    struct pending *p = privdata;
    struct rconn *rc = p->rc;
    struct rnode *n = p->node;
    p->refs--;
    if (n->outstanding)
        n->outstanding--;
    n->last_activity = uv_now(rc->loop);
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_ERROR && !rc->closing) {
        bool ask;
        unsigned slot;
        size_t to;
        if (strncmp(r->str, "NOSCRIPT", 8) == 0 && n->ac) {
            load_scripts(n);    /* SCRIPT FLUSH, or a node new to us: load, then again */
            if (!p->reloaded) {
                p->reloaded = true;
                if (send_pending(rc, n, p, false) == CTX_OK)
                    return;
            }
        } else if (p->redirects < MAX_REDIRECTS && redirection(rc, r->str, &ask, &slot, &to)) {
            if (!rc->cluster) {
                log_info("redis %s: %s:%d is a cluster node: following its slot map",
                         rc->name, n->host, n->port);
                rc->cluster = true;
            }
            if (!ask) {
                if (!rc->slots) {
                    rc->slots = ctx_malloc(SLOTS * sizeof *rc->slots);
                    for (size_t i = 0; i < SLOTS; i++)
                        rc->slots[i] = NO_NODE;
                }
                rc->slots[slot] = (uint16_t)to;
                refresh_soon(rc, 100);
            }
            p->redirects++;
            struct rnode *t = rc->nodes[to];
            if (ask && !rc->logged_ask)
                log_info("redis %s: slot %u migrating to %s:%d: following ASK", rc->name, slot,
                         t->host, t->port);
            rc->logged_ask |= ask;
            if (t->ac && send_pending(rc, t, p, ask) == CTX_OK)
                return;
        } else if (strncmp(r->str, "TRYAGAIN", 8) == 0 && p->tryagain < TRYAGAIN_TIMES) {
            /* a multi-key command while its slot migrates, its keys on both
             * sides: again in a moment, by then on one side */
            p->tryagain++;
            delay(rc, p);
            return;
        } else if (strncmp(r->str, "CLUSTERDOWN", 11) == 0 ||
                   strncmp(r->str, "TRYAGAIN", 8) == 0) {
            refresh_soon(rc, 200);
        }
    }
    if (p->waited && r && r->type != REDIS_REPLY_ERROR && !rc->closing) {
        p->held = reply_clone(r);   /* until the WAIT that follows answers */
        return;
    }
    finish(p, r);
    pending_done(p);
}

static ctx_err send_pending(struct rconn *rc, struct rnode *n, struct pending *p, bool asking)
{
    if (asking && redisAsyncCommand(n->ac, NULL, NULL, "ASKING") != REDIS_OK)
        return CTX_EREDIS;
    if (redisAsyncFormattedCommand(n->ac, on_reply, p, p->cmd, p->len) != REDIS_OK)
        return CTX_EREDIS;
    p->node = n;
    p->refs++;
    p->gen++;
    p->waited = false;
    if (n->outstanding++ == 0)
        n->last_activity = uv_now(n->rc->loop);
    /* on the same connection, so it covers the script's writes; for no more
     * replicas than are connected (ROLE, asked every 10 s and after a WAIT
     * that came back short) */
    if (p->wait && uv_now(rc->loop) >= n->role_due)
        ask_role(n);
    int want = n->replicas >= 0 && n->replicas < rc->wait_replicas ? n->replicas
                                                                    : rc->wait_replicas;
    if (p->wait && want > 0) {
        struct waiter *w = ctx_malloc(sizeof *w);
        *w = (struct waiter){p, p->gen};
        if (redisAsyncCommand(n->ac, on_wait, w, "WAIT %d %d", want, rc->wait_ms) == REDIS_OK) {
            p->refs++;
            p->waited = true;
        } else {
            free(w);
        }
    }
    return CTX_OK;
}

/* Sends the formatted command cmd (owned from here on). */
static ctx_err send_formatted(struct rconn *rc, rconn_reply_cb cb, void *priv, char *cmd,
                              size_t len, bool wait)
{
    struct rnode *n = rc->closing ? NULL : route(rc, cmd, len);
    if (!n) {
        free(cmd);
        if (rc->cluster && !rc->closing)
            refresh_soon(rc, 200);
        return CTX_EREDIS;
    }
    struct pending *p = ctx_calloc(1, sizeof *p);
    p->rc = rc;
    p->cb = cb;
    p->priv = priv;
    p->cmd = cmd;
    p->len = len;
    p->wait = wait;
    if (send_pending(rc, n, p, false) != CTX_OK) {
        pending_free(p);
        return CTX_EREDIS;
    }
    return CTX_OK;
}

ctx_err rconn_cmd(struct rconn *rc, rconn_reply_cb cb, void *priv, const char *fmt, ...)
{
    char *cmd = NULL;
    va_list ap;
    va_start(ap, fmt);
    int len = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    if (len < 0)
        return CTX_EINVAL;
    return send_formatted(rc, cb, priv, cmd, (size_t)len, false);
}

ctx_err rconn_cmdargv(struct rconn *rc, rconn_reply_cb cb, void *priv, int argc,
                      const char **argv, const size_t *argvlen)
{
    char *cmd = NULL;
    int len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
    if (len < 0)
        return CTX_EINVAL;
    return send_formatted(rc, cb, priv, cmd, (size_t)len, false);
}

ctx_err rconn_eval(struct rconn *rc, const struct rscript *s, rconn_reply_cb cb, void *priv,
                   int nkeys, int argc, const char **argv, const size_t *argvlen)
{
    /* a few arguments on the stack; an item with 200 tags takes the heap
     * (no limit: a script call that cannot be sent would stall its stream) */
    enum { STACK_ARGS = 64 };
    if (argc < 0 || nkeys < 0 || nkeys > argc)
        return CTX_EINVAL;
    const char *avs[STACK_ARGS], **av = avs;
    size_t als[STACK_ARGS], *al = als;
    if (argc + 3 > STACK_ARGS) {
        av = ctx_malloc((size_t)(argc + 3) * sizeof *av);
        al = ctx_malloc((size_t)(argc + 3) * sizeof *al);
    }
    char nk[16];
    snprintf(nk, sizeof nk, "%d", nkeys);
    av[0] = "EVALSHA";
    av[1] = s->sha;
    av[2] = nk;
    al[0] = 7;
    al[1] = 40;
    al[2] = strlen(nk);
    for (int i = 0; i < argc; i++) {
        av[3 + i] = argv[i];
        al[3 + i] = argvlen ? argvlen[i] : strlen(argv[i]);
    }
    char *cmd = NULL;
    int len = redisFormatCommandArgv(&cmd, argc + 3, av, al);
    ctx_err e = len < 0 ? CTX_EINVAL
                        : send_formatted(rc, cb, priv, cmd, (size_t)len, rc->wait_replicas > 0);
    if (av != avs) {
        free(av);
        free(al);
    }
    return e;
}

ctx_err rsync_auth(redisContext *c, const char *user, const char *password, char *err,
                   size_t errlen)
{
    /* without a password, a PING tells a Redis that wants one (NOAUTH)
     * before a long command is refused with a puzzling protocol error */
    bool auth = password && *password;
    redisReply *r = !auth ? redisCommand(c, "PING")
                    : user && *user ? redisCommand(c, "AUTH %s %s", user, password)
                                    : redisCommand(c, "AUTH %s", password);
    ctx_err e = CTX_OK;
    if (!r || r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "%s: %s", auth ? "AUTH refused" : "Redis asks for a password",
                 r ? r->str : c->errstr);
        e = CTX_EREDIS;
    }
    freeReplyObject(r);
    return e;
}
