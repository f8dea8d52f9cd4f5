/* group.c -- one consumer of a stream's consumer group, on a connection of
 * its own (XREADGROUP blocks it), shared by the analyze role (raw items),
 * the route role (tagged items) and the outbox (replies).
 *
 * After every (re)connection it creates the group if needed and first
 * re-reads its own pending entries: entries read but not finished before a
 * crash or a Redis restart are handed over again. That pass walks forward
 * (each read starts after the last entry it got), so an entry its owner
 * cannot finish is read once per pass, never in a loop. Then it blocks for
 * new ones (">"). The owner gets the entries a batch at a time and calls
 * group_reader_done() once it has finished with all of a batch's entries
 * (acked, or left pending to be read again), once per batch it got.
 *
 * The window (group_opts.window, 1 by default) is how many batches the owner
 * may hold at once: with 2, the next batch is read while the owner is still
 * storing the previous one, so the owner's CPU and Redis' overlap instead of
 * taking turns. It applies to new entries only. A pending read is sent only
 * while the owner holds no batch, one batch at a time: read from the start
 * of our pending entries, it would hand over again the entries the owner is
 * still working on (a second delivery, counted toward max_deliveries), and a
 * second read of the pass cannot start before the first has said where the
 * pass goes on. So a pass after a reconnection, a claim or a left-pending
 * batch waits until the owner has finished every batch it holds; the count
 * of batches held survives a reconnection (the owner still calls done for
 * each). In normal operation no entry is delivered twice.
 *
 * An owner that could not finish an entry of a batch for a passing reason
 * (an error reply, a script not sent) says so with group_reader_left_pending()
 * before its done: the pending entries are then read again after a delay,
 * not claim_idle later; each such read counts as a delivery, so the delay
 * doubles (a failover's CLUSTERDOWN must not dead-letter good entries).
 * Left-pending is kept for the reader, not for the batch it concerns: no new
 * batch is read from then on, and once the owner has finished every batch it
 * holds, the delay starts and then the pending pass. A per-batch mark would
 * change nothing -- the pass re-reads every pending entry of the consumer,
 * whichever batch it came from, and may not start while a batch is held --
 * and would need a batch handle in the owners' calls.
 *
 * Every claim_idle / 2 it takes over the group's entries that have been
 * pending for claim_idle -- a dead consumer's, and its own unfinished ones
 * -- with XAUTOCLAIM, and starts a pending pass (at once, when the owner
 * holds no batch; a blocked read returns within 2 s). Before each pending
 * pass, entries delivered max_deliveries times or more are dead-lettered:
 * copied with their fields, the group and the delivery count to the dead
 * stream, then acked, so a poison entry costs a few reads and never stalls
 * its group; that sweep too waits until the owner holds no batch, so it never
 * takes an entry the owner is working on. Consumers of the group idle for an
 * hour with nothing pending are deleted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "store/store.h"

#define DEAD_CONSUMER_MS (3600 * 1000LL)

struct group_reader {
    struct rconn *rc;
    struct group_opts o;
    char consumer[128];
    char dead[200];             /* the dead-letter stream */
    int max_deliveries;
    long long claim_idle_ms;
    group_batch_cb cb;
    void *priv;
    int window;                 /* batches the owner may hold at once (new entries) */
    bool pending_phase;         /* reading our own pending entries */
    bool read_was_pending;      /* the read in flight is of the pending phase */
    bool sweep_due;             /* dead letters to sweep before the pending pass */
    char pending_from[64];      /* the pending pass goes on after this id */
    bool read_inflight;         /* an XREADGROUP is in flight */
    int held;                   /* batches handed to the owner and not done yet */
    bool holding;               /* the retry timer holds the next read */
    bool left_pending;          /* the owner left an entry of a batch it holds pending */
    unsigned again_ms;          /* the last delay before reading them again, 0 after a
                                   batch finished whole */
    bool stopping;
    uv_timer_t *retry, *claim;
};

static void read_next(struct group_reader *g);
static void sweep_dead(struct group_reader *g);

static void retry_fire(uv_timer_t *t)
{
    struct group_reader *g = t->data;
    g->holding = false;
    read_next(g);
}

/* No read until delay_ms from now; a reconnection, which reads at once,
 * stops the timer. */
static void hold(struct group_reader *g, unsigned delay_ms)
{
    g->holding = true;
    uv_timer_start(g->retry, retry_fire, delay_ms, 0);
}

/* A new pending pass: from the start of our pending entries, after a sweep
 * of the dead ones. */
static void pending_pass(struct group_reader *g)
{
    g->pending_phase = true;
    g->sweep_due = true;
    snprintf(g->pending_from, sizeof g->pending_from, "0");
}

static void on_read(struct rconn *rc, redisReply *rep, void *priv)
{
    struct group_reader *g = priv;
    g->read_inflight = false;
    if (!rep)                   /* connection lost: on_state starts again */
        return;
    if (rep->type == REDIS_REPLY_ERROR) {
        if (strncmp(rep->str, "NOGROUP", 7) == 0)   /* the stream was deleted */
            rconn_cmd(rc, NULL, NULL, "XGROUP CREATE %s %s %s MKSTREAM", g->o.stream,
                      g->o.group, g->o.start_id);
        else
            log_error("%s: XREADGROUP: %s", g->o.name, rep->str);
        hold(g, 500);
        return;
    }
    /* reply: [[stream, [entries...]]], or nil when BLOCK timed out */
    const redisReply *entries = NULL;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
        rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 2)
        entries = rep->element[0]->element[1];
    if (!entries || entries->elements == 0) {
        /* only an empty pending read ends the pending pass: an empty ">"
         * read says nothing of entries a claim made ours meanwhile */
        if (g->read_was_pending)
            g->pending_phase = false;
        read_next(g);
        return;
    }
    if (g->read_was_pending) {
        const redisReply *last = entries->element[entries->elements - 1];
        if (last->type == REDIS_REPLY_ARRAY && last->elements >= 1 &&
            last->element[0]->type == REDIS_REPLY_STRING)
            snprintf(g->pending_from, sizeof g->pending_from, "%s", last->element[0]->str);
    }
    g->held++;
    g->cb(entries, g->priv);    /* the owner calls group_reader_done() */
    read_next(g);               /* the next batch while the owner works on this one */
}

static void read_next(struct group_reader *g)
{
    if (g->read_inflight || g->holding || g->left_pending || g->stopping || !rconn_up(g->rc))
        return;
    /* a pending read only while the owner holds nothing (see the top) */
    if (g->held >= (g->pending_phase ? 1 : g->window))
        return;
    if (g->pending_phase && g->sweep_due) {
        g->sweep_due = false;
        sweep_dead(g);          /* before the pass, on the same connection */
    }
    g->read_inflight = true;
    g->read_was_pending = g->pending_phase;
    ctx_err e = g->pending_phase
        ? rconn_cmd(g->rc, on_read, g, "XREADGROUP GROUP %s %s COUNT %d STREAMS %s %s",
                    g->o.group, g->consumer, g->o.count, g->o.stream, g->pending_from)
        : rconn_cmd(g->rc, on_read, g, "XREADGROUP GROUP %s %s COUNT %d BLOCK 2000 STREAMS %s >",
                    g->o.group, g->consumer, g->o.count, g->o.stream);
    if (e)
        g->read_inflight = false;
}

static void read_again(struct group_reader *g);

void group_reader_done(struct group_reader *g)
{
    if (g->held > 0)
        g->held--;
    if (g->left_pending) {      /* no new batch meanwhile: the others come to an end */
        if (g->held == 0) {
            g->left_pending = false;
            read_again(g);
        }
        return;
    }
    /* a batch finished whole; one read before the hold says nothing of the
     * entries the hold waits to read again */
    if (!g->holding)
        g->again_ms = 0;
    read_next(g);
}

void group_reader_left_pending(struct group_reader *g)
{
    g->left_pending = true;
    if (g->held == 0) {         /* no batch whose done would act on it: at once */
        g->left_pending = false;
        read_again(g);
    }
}

void group_reader_poke(struct group_reader *g)
{
    read_next(g);
}

static void read_again(struct group_reader *g)
{
    /* 2 s, doubling to 30 s: each pass is a delivery, so max_deliveries of
     * them take longer than a failover (CLUSTERDOWN until it is over) */
    g->again_ms = g->again_ms ? g->again_ms * 2 : 2000;
    if (g->again_ms > 30000)
        g->again_ms = 30000;
    log_warn("%s: entries of %s left pending; reading them again in %.0f s", g->o.name,
             g->o.stream, g->again_ms / 1000.0);
    pending_pass(g);
    g->sweep_due = false;       /* now, well before the pass: the owner holds nothing */
    sweep_dead(g);
    hold(g, g->again_ms);
}

/* ---- dead letters ---- */

struct dead_entry {
    struct group_reader *g;
    char id[64];
    long long deliveries;
};

static void on_dead_range(struct rconn *rc, redisReply *rep, void *priv)
{
    struct dead_entry *d = priv;
    struct group_reader *g = d->g;
    if (rep && rep->type == REDIS_REPLY_ARRAY) {
        /* [[id, [field, value...]]] or [] when the entry was trimmed away */
        const redisReply *fields = rep->elements == 1 && rep->element[0]->elements == 2
                                       ? rep->element[0]->element[1] : NULL;
        size_t nf = fields && fields->type == REDIS_REPLY_ARRAY ? fields->elements : 0;
        size_t argc = 12 + nf;
        const char **argv = ctx_calloc(argc, sizeof *argv);
        char dl[32];
        snprintf(dl, sizeof dl, "%lld", d->deliveries);
        size_t k = 0;
        argv[k++] = "XADD";
        argv[k++] = g->dead;
        argv[k++] = "MAXLEN";
        argv[k++] = "~";
        argv[k++] = "10000";
        argv[k++] = "*";
        argv[k++] = "dead_from";
        argv[k++] = g->o.stream;
        argv[k++] = "dead_id";
        argv[k++] = d->id;
        argv[k++] = "dead_deliveries";
        argv[k++] = dl;
        for (size_t i = 0; i < nf; i++)
            argv[k++] = fields->element[i]->str ? fields->element[i]->str : "";
        /* in order on one connection: the ack only follows a stored copy */
        rconn_cmdargv(rc, NULL, NULL, (int)k, argv, NULL);
        rconn_cmd(rc, NULL, NULL, "XACK %s %s %s", g->o.stream, g->o.group, d->id);
        log_error("%s: entry %s of %s read %lld times without being finished: moved to %s",
                  g->o.name, d->id, g->o.stream, d->deliveries, g->dead);
        metrics_add(METRIC_DEAD_LETTERS, g->o.group, "max_deliveries", 1);
        free(argv);
    }
    free(d);
}

/* XPENDING stream group - + 100: [[id, consumer, idle ms, deliveries]...] */
static void on_pending_list(struct rconn *rc, redisReply *rep, void *priv)
{
    struct group_reader *g = priv;
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
        const redisReply *e = rep->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 4 ||
            e->element[0]->type != REDIS_REPLY_STRING ||
            e->element[3]->type != REDIS_REPLY_INTEGER ||
            e->element[3]->integer < g->max_deliveries)
            continue;
        struct dead_entry *d = ctx_calloc(1, sizeof *d);
        d->g = g;
        d->deliveries = e->element[3]->integer;
        snprintf(d->id, sizeof d->id, "%s", e->element[0]->str);
        if (rconn_cmd(rc, on_dead_range, d, "XRANGE %s %s %s", g->o.stream, d->id, d->id))
            free(d);
    }
}

static void sweep_dead(struct group_reader *g)
{
    rconn_cmd(g->rc, on_pending_list, g, "XPENDING %s %s - + 100", g->o.stream, g->o.group);
}

/* ---- the group, claims, dead consumers ---- */

static void on_group(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct group_reader *g = priv;
    if (rep && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "BUSYGROUP", 9) != 0)
        log_error("%s: XGROUP CREATE: %s", g->o.name, rep->str);
    pending_pass(g);            /* when the owner holds no batch (a read lost with the
                                   connection is not one: held counts what it got) */
    uv_timer_stop(g->retry);    /* a read held for later: now instead, once */
    g->holding = false;
    read_next(g);
}

static void on_state(struct rconn *rc, bool up, void *priv)
{
    struct group_reader *g = priv;
    if (!up || g->stopping)
        return;
    if (g->o.on_up)
        g->o.on_up(rc, g->priv);
    rconn_cmd(rc, on_group, g, "XGROUP CREATE %s %s %s MKSTREAM", g->o.stream, g->o.group,
              g->o.start_id);
}

static void on_claimed(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct group_reader *g = priv;
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2 &&
        rep->element[1]->type == REDIS_REPLY_ARRAY && rep->element[1]->elements > 0) {
        log_info("%s: claimed %zu entries pending for %.0f s or more", g->o.name,
                 rep->element[1]->elements, (double)g->claim_idle_ms / 1000.0);
        pending_pass(g);        /* they are ours now: the next read takes them */
        read_next(g);           /* at once when no read is in flight and no batch held */
    }
}

/* XINFO CONSUMERS: [[name, n, pending, p, idle, ms, ...]...] */
static void on_consumers(struct rconn *rc, redisReply *rep, void *priv)
{
    struct group_reader *g = priv;
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
        const redisReply *c = rep->element[i];
        const char *name = NULL;
        long long pending = -1, idle = -1;
        for (size_t k = 0; c->type == REDIS_REPLY_ARRAY && k + 1 < c->elements; k += 2) {
            const char *f = c->element[k]->str;
            const redisReply *v = c->element[k + 1];
            if (!f)
                continue;
            if (strcmp(f, "name") == 0 && v->type == REDIS_REPLY_STRING)
                name = v->str;
            else if (strcmp(f, "pending") == 0 && v->type == REDIS_REPLY_INTEGER)
                pending = v->integer;
            else if (strcmp(f, "idle") == 0 && v->type == REDIS_REPLY_INTEGER)
                idle = v->integer;
        }
        if (name && strcmp(name, g->consumer) != 0 && pending == 0 && idle > DEAD_CONSUMER_MS) {
            log_info("%s: consumer %s idle for %lld s with nothing pending: deleted",
                     g->o.name, name, idle / 1000);
            rconn_cmd(rc, NULL, NULL, "XGROUP DELCONSUMER %s %s %s", g->o.stream, g->o.group,
                      name);
        }
    }
}

static void claim_fire(uv_timer_t *t)
{
    struct group_reader *g = t->data;
    rconn_cmd(g->rc, on_claimed, g, "XAUTOCLAIM %s %s %s %lld 0-0 COUNT 100 JUSTID",
              g->o.stream, g->o.group, g->consumer, g->claim_idle_ms);
    rconn_cmd(g->rc, on_consumers, g, "XINFO CONSUMERS %s %s", g->o.stream, g->o.group);
}

static void handle_free(uv_handle_t *h)
{
    free(h);
}

ctx_err group_reader_start(struct store *st, const struct group_opts *o, group_batch_cb cb,
                           void *priv, struct group_reader **out)
{
    struct group_reader *g = ctx_calloc(1, sizeof *g);
    g->o = *o;
    g->window = o->window > 0 ? o->window : 1;
    g->cb = cb;
    g->priv = priv;
    g->max_deliveries = st->cfg->max_deliveries > 0 ? st->cfg->max_deliveries : 5;
    g->claim_idle_ms = (long long)((st->cfg->claim_idle > 0 ? st->cfg->claim_idle : 60) * 1000);
    snprintf(g->dead, sizeof g->dead, "%s%s", o->dead ? o->dead : o->stream,
             o->dead ? "" : ":dead");
    store_consumer_name(st->cfg, g->consumer, sizeof g->consumer);
    g->retry = ctx_malloc(sizeof *g->retry);
    g->claim = ctx_malloc(sizeof *g->claim);
    uv_timer_init(st->loop, g->retry);
    uv_timer_init(st->loop, g->claim);
    g->retry->data = g->claim->data = g;
    uint64_t every = (uint64_t)(g->claim_idle_ms / 2 > 500 ? g->claim_idle_ms / 2 : 500);
    uv_timer_start(g->claim, claim_fire, every, every);
    ctx_err e = store_conn_new(st, o->name, on_state, g, &g->rc);
    if (e) {
        group_reader_stop(g);
        return e;
    }
    log_info("%s: consumer %s in group %s of %s", o->name, g->consumer, o->group, o->stream);
    *out = g;
    return CTX_OK;
}

void group_reader_stop(struct group_reader *g)
{
    if (!g)
        return;
    g->stopping = true;
    rconn_free(g->rc);          /* an in-flight read is called back with NULL */
    uv_close((uv_handle_t *)g->retry, handle_free);
    uv_close((uv_handle_t *)g->claim, handle_free);
    free(g);
}
