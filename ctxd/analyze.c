/* analyze.c -- the analyze role: the I/O edge around the pure analyzer.
 *
 * It reads ctx:{i}:items:raw through the consumer group "analyze" (a group
 * reader, store/group.c; with item_shards, one reader per shard's raw stream,
 * each on its own connection since a cluster refuses an XREADGROUP across
 * slots, and each item stored in its shard), tags each item with
 * analyzer_tag(), and stores it with the tag script, which writes the item
 * hash, the tagged stream, the indexes and the item's trend record (counted
 * at the item's published time when it is within trends.lateness, else at
 * its fetch time: store_trend_when()) and acknowledges the raw entry in one
 * step; each second it adds the pending trend records to the counters
 * (store_trend_flush()). Read-ahead: a lane's reader has a window of two
 * batches (store/group.c), so the next batch is read and tagged while the
 * previous one's scripts run in Redis -- ctxd's CPU and Redis' overlap instead
 * of taking turns (bench/analyze_rate.py, docs/analyzer.md: 6,300 to 8,800
 * items/s in the quietest of three alternated runs on a shared 2-core machine).
 * Each batch counts its own entries in flight and is done when they are; its
 * entries point to it. A pending re-read waits until both batches are done,
 * so in normal operation no entry is delivered twice. After every
 * (re)connection it first re-reads its own pending entries (id 0), so an
 * entry read but not stored before a crash or a Redis restart is tagged
 * again; the script's idempotence makes that harmless. Entries left pending
 * by a consumer that died are claimed with XAUTOCLAIM after a minute.
 * An entry that cannot be read as an item goes to ctx:{i}:items:dead with the
 * reason, so nothing is silently dropped. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/clock.h"
#include "core/date.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/log.h"
#include "core/metrics.h"
#include "ctxd/roles.h"

#define BATCH 64
#define WINDOW 2                /* batches a lane has read and not finished */

struct analyze_role;

/* One shard's raw stream: its reader. */
struct lane {
    struct analyze_role *r;
    unsigned shard;
    struct group_reader *raw;   /* the shard's raw stream, group "analyze" */
    bool flushing;              /* its trend records are being counted */
    char stream[STORE_KEY_LEN], dead[STORE_KEY_LEN];
};

/* A batch read from a lane, until every entry of it is stored or left
 * pending; up to WINDOW of them per lane. */
struct batch {
    struct lane *lane;
    unsigned inflight;          /* its entries being looked up or stored */
    uint64_t t0;                /* uv_hrtime() when it was read */
};

struct analyze_role {
    uv_loop_t *loop;
    struct store *st;
    analyzer *const *an;        /* *an may be replaced by a reload */
    struct lane *lanes;         /* one per item shard */
    unsigned nlanes;
    struct rconn *cmd;          /* scripts and acks */
    bool stopping;
    uv_timer_t *aborts_timer;
    uv_timer_t *flush_timer;    /* counts the pending trend records each second */
    unsigned long long tagged;
    bool routing;               /* queues are configured: the route group must exist */
    const analyzer *aborts_of;  /* the analyzer aborts_seen counts for */
    const struct config_trends *trends; /* lateness and skew of the trend counters */
    unsigned long aborts_seen;
};

/* One entry of b done (stored or left pending); the batch with the last.
 * While stopping, the readers are gone: the batch is only freed. */
static void batch_step(struct batch *b)
{
    if (--b->inflight)
        return;
    struct lane *l = b->lane;
    if (!l->r->stopping) {
        metrics_observe(TIMING_ANALYZE_PASS, (double)(uv_hrtime() - b->t0) / 1e9);
        group_reader_done(l->raw);
    }
    free(b);
}

/* An entry of b left pending, to be read again (store/group.c). */
static void leave_pending(struct batch *b)
{
    if (!b->lane->r->stopping)
        group_reader_left_pending(b->lane->raw);
}

static void on_tagged(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct batch *b = priv;
    struct analyze_role *r = b->lane->r;
    if (!rep) {
        if (!r->stopping)
            log_warn("analyze: connection lost while storing; the entry stays pending");
        leave_pending(b);
    } else if (rep->type == REDIS_REPLY_ERROR) {
        log_error("analyze: tag script: %s", rep->str);
        leave_pending(b);
    } else if (rep->type == REDIS_REPLY_STRING) {
        r->tagged++;
        metrics_add(METRIC_ITEMS_TAGGED, NULL, NULL, 1);
    }
    batch_step(b);
}

static void dead_letter(struct lane *l, const char *sid, const char *payload, const char *why)
{
    log_error("analyze: raw entry %s is not an item (%s); moved to %s", sid, why, l->dead);
    store_raw_dead(l->r->cmd, l->r->st, l->shard, sid, why, payload);
    char reason[32];            /* "not JSON" -> not_json */
    size_t i;
    for (i = 0; why[i] && i + 1 < sizeof reason; i++)
        reason[i] = why[i] == ' ' ? '_' : (char)tolower((unsigned char)why[i]);
    reason[i] = '\0';
    metrics_add(METRIC_DEAD_LETTERS, GROUP_ANALYZE, reason, 1);
}

static long long published_ms(const struct item *it)
{
    long long t;
    if (it->published && ctx_date_parse(it->published, &t) == 0)
        return t * 1000;
    if (it->fetched && ctx_date_parse(it->fetched, &t) == 0)
        return t * 1000;
    return 0;
}

/* A time field in ms, or 0 when absent or unreadable. */
static long long time_ms(const char *s)
{
    long long t;
    return s && ctx_date_parse(s, &t) == 0 ? t * 1000 : 0;
}

#define SIMHASH_KEEP 200        /* fingerprints kept per band key */

/* One entry between tagging and storing: the near-duplicate lookups (one
 * LRANGE per band key) run first, then the tag script. */
struct tagging {
    struct analyze_role *r;
    struct lane *lane;
    struct batch *batch;        /* the batch it was read in */
    char sid[48];
    struct item it;
    struct tags tags;
    uint64_t simhash;
    uint32_t bands[ANALYZER_SIMHASH_BANDS];
    int lookups;
};

static void tagging_free(struct tagging *tg)
{
    item_clear(&tg->it);
    tags_clear(&tg->tags);
    free(tg);
}

static void on_tagged(struct rconn *rc, redisReply *rep, void *priv);

static void on_tag_stored(struct rconn *rc, redisReply *rep, void *priv)
{
    struct tagging *tg = priv;
    if (rep && rep->type == REDIS_REPLY_STRING && tg->simhash) {
        /* stored for the first time: later items may be its near-duplicates */
        char entry[600];    /* one list element: "<hex fingerprint> <item id>" */
        snprintf(entry, sizeof entry, "%016llx %s", (unsigned long long)tg->simhash, tg->it.id);
        for (int b = 0; b < ANALYZER_SIMHASH_BANDS; b++)
            store_simhash_add(rc, tg->r->st, (unsigned)tg->bands[b], entry, SIMHASH_KEEP);
    }
    on_tagged(rc, rep, tg->batch);
    tagging_free(tg);
}

static void store_tagged(struct tagging *tg);

static void on_band(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct tagging *tg = priv;
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
        const char *v = rep->element[i]->str;
        char *sp;
        if (!v || tg->tags.duplicate_of)
            continue;
        unsigned long long h = strtoull(v, &sp, 16);
        if (*sp != ' ' || strcmp(sp + 1, tg->it.id) == 0)
            continue;           /* malformed, or the item itself (redelivered) */
        if (analyzer_simhash_near(tg->simhash, h, ANALYZER_SIMHASH_K))
            item_set(&tg->tags.duplicate_of, sp + 1);
    }
    if (--tg->lookups == 0)
        store_tagged(tg);
}

/* Store a tagged entry with the tag script (item hash, tagged stream,
 * indexes and the ack, in one step). The entry was counted in its batch's
 * inflight when it was read; on_tagged() (or the failure here) counts it done. */
static void store_tagged(struct tagging *tg)
{
    struct analyze_role *r = tg->r;
    struct item *it = &tg->it;
    struct tags *tags = &tg->tags;
    json_t *tj = item_to_json(it, tags);
    char *json = tj ? json_dumps(tj, CTX_JSON_FLAGS) : NULL;
    if (tj && !json)
        ctx_oom(0);     /* an object always dumps: only memory can fail it */
    json_decref(tj);
    size_t nreasons = tags->complaint ? tags->reasons.n : 0;
    struct store_tagged t = {
        .shard = tg->lane->shard, .sid = tg->sid, .id = it->id, .json = json, .published = published_ms(it),
        .sentiment = sentiment_label_name(tags->label), .complaint = tags->complaint,
        .brands = (const char *const *)tags->brands.v, .nbrands = tags->brands.n,
        .topics = (const char *const *)tags->topics.v, .ntopics = tags->topics.n,
        .reasons = (const char *const *)tags->reasons.v, .nreasons = nreasons,
        .network = it->reply_network ? it->reply_network : it->kind, .source = it->source,
        .lang = it->lang,
        .counted = store_trend_when(time_ms(it->published), time_ms(it->fetched), ctx_now_ms(),
                                    (long long)(r->trends->lateness * 1000),
                                    (long long)(r->trends->skew * 1000))};
    /* Redis away: the entry stays pending and is read again later. No
     * JSON: item_to_json() met a string jansson refuses (never expected,
     * item_from_json() took them from JSON); the entry stays pending too. */
    ctx_err e = json ? store_tag(r->cmd, r->st, &t, on_tag_stored, tg) : CTX_EINVAL;
    bool sent = e == CTX_OK;
    if (!json)
        log_error("analyze: %s does not serialise as JSON", tg->sid);
    free(json);
    if (!sent) {
        struct batch *b = tg->batch;
        /* the connection for scripts not ready, the shard's master away:
         * read again soon -- the reader's own connection may never drop */
        leave_pending(b);
        tagging_free(tg);
        batch_step(b);
    }
}

/* Tag one raw entry of batch b; look its fingerprint up; then store it. */
static void process_entry(struct batch *b, const redisReply *e)
{
    struct lane *l = b->lane;
    struct analyze_role *r = l->r;
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || !e->element[0]->str)
        return;
    const char *sid = e->element[0]->str;
    const redisReply *fields = e->element[1];
    const char *payload = NULL;
    if (fields->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i + 1 < fields->elements; i += 2)
            if (fields->element[i]->str && strcmp(fields->element[i]->str, "item") == 0)
                payload = fields->element[i + 1]->str;
    if (fields->type != REDIS_REPLY_ARRAY) {
        /* deleted after it was read but before the ack: nothing to tag */
        store_raw_ack(r->cmd, r->st, l->shard, sid);
        return;
    }
    json_error_t je;
    json_t *j = payload ? json_loads(payload, 0, &je) : NULL;
    struct item it;
    if (!j || item_from_json(j, &it)) {
        json_decref(j);
        dead_letter(l, sid, payload, j ? "not an item" : "not JSON");
        return;
    }
    json_decref(j);
    struct tagging *tg = ctx_calloc(1, sizeof *tg);
    tg->r = r;
    tg->lane = l;
    tg->batch = b;
    tg->it = it;
    snprintf(tg->sid, sizeof tg->sid, "%s", sid);
    if (analyzer_tag(*r->an, &tg->it, &tg->tags)) {
        dead_letter(l, sid, payload, "analyzer failed");
        tagging_free(tg);
        return;
    }
    if (!tg->it.lang && tg->tags.lang)
        item_set(&tg->it.lang, tg->tags.lang);
    /* near-duplicates: look the fingerprint's band keys up first */
    struct buf text = {0};
    if (tg->it.title)
        buf_printf(&text, "%s\n", tg->it.title);
    if (tg->it.text)
        buf_puts(&text, tg->it.text);
    tg->simhash = analyzer_simhash(*r->an, buf_str(&text));
    buf_free(&text);
    b->inflight++;
    if (tg->simhash == 0) {     /* nothing to fingerprint */
        store_tagged(tg);
        return;
    }
    analyzer_simhash_bands(tg->simhash, tg->bands);
    log_debug("analyze: %s simhash %016llx", tg->it.id, (unsigned long long)tg->simhash);
    tg->lookups = ANALYZER_SIMHASH_BANDS;
    for (int b = 0; b < ANALYZER_SIMHASH_BANDS; b++)
        if (store_simhash_band(r->cmd, r->st, (unsigned)tg->bands[b], SIMHASH_KEEP, on_band, tg))
            tg->lookups--;
    if (tg->lookups == 0)
        store_tagged(tg);
}

/* A batch of raw entries: tag and store each; group_reader_done() when
 * every one is stored (or left pending). The lane's previous batch may still
 * be in flight. */
static void on_batch(const redisReply *entries, void *priv)
{
    struct batch *b = ctx_calloc(1, sizeof *b);
    b->lane = priv;
    b->t0 = uv_hrtime();
    b->inflight = 1;    /* held while the batch is being sent */
    for (size_t i = 0; i < entries->elements; i++)
        process_entry(b, entries->element[i]);
    batch_step(b);
}

/* With routing configured, make sure the router's group on the tagged
 * stream exists before we add to it: a router that starts later must not
 * miss what was tagged in between. ("$": it exists from now on.) */
static void on_up(struct rconn *rc, void *priv)
{
    struct lane *l = priv;
    if (l->shard == 0)
        store_shards_check(rc, l->r->st);       /* every ctxd cuts items alike */
    if (l->r->routing)
        store_route_group_create(rc, l->r->st);
}

/* Matches abandoned at PCRE2's limits (a careless or hostile pattern). */
static void aborts_fire(uv_timer_t *t)
{
    struct analyze_role *r = t->data;
    unsigned long aborts = analyzer_match_aborts(*r->an);
    if (*r->an != r->aborts_of) {
        r->aborts_of = *r->an;
        r->aborts_seen = 0;
    }
    if (aborts > r->aborts_seen)
        log_warn("analyze: %lu rule matches abandoned at the match limit (%lu in all); "
                 "ctxctl analyze --explain shows which rules fire", aborts - r->aborts_seen,
                 aborts);
    r->aborts_seen = aborts;
}

/* The trend records tag.lua left pending (store_trend_flush()): each
 * second, and again at once while a flush takes a full load. Several
 * analyzers may flush together: each record is taken by one of them. */
static void flush_fire(uv_timer_t *t);

static void on_flushed(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct lane *l = priv;
    l->flushing = false;
    if (rep && rep->type == REDIS_REPLY_ERROR)
        log_error("analyze: trends flush: %s", rep->str);
    else if (rep && rep->type == REDIS_REPLY_INTEGER && rep->integer >= STORE_TREND_FLUSH_MAX &&
             !l->r->stopping)
        flush_fire(l->r->flush_timer);
}

/* Each shard's records are counted into that shard's buckets (one script
 * in one slot); a reader adds the shards up. */
static void flush_fire(uv_timer_t *t)
{
    struct analyze_role *r = t->data;
    if (r->stopping || !rconn_up(r->cmd))
        return;
    for (unsigned i = 0; i < r->nlanes; i++) {
        struct lane *l = &r->lanes[i];
        if (!l->flushing)
            l->flushing = !store_trend_flush_in(r->cmd, r->st, l->shard, on_flushed, l);
    }
}

ctx_err analyze_role_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
                           analyzer *const *an, struct analyze_role **out)
{
    struct analyze_role *r = ctx_calloc(1, sizeof *r);
    r->loop = loop;
    r->st = st;
    r->an = an;
    r->routing = cfg->nqueues > 0;
    r->trends = &cfg->trends;
    r->aborts_timer = ctx_malloc(sizeof *r->aborts_timer);
    uv_timer_init(loop, r->aborts_timer);
    r->aborts_timer->data = r;
    uv_timer_start(r->aborts_timer, aborts_fire, 30000, 30000);
    r->flush_timer = ctx_malloc(sizeof *r->flush_timer);
    uv_timer_init(loop, r->flush_timer);
    r->flush_timer->data = r;
    uv_timer_start(r->flush_timer, flush_fire, 1000, 1000);
    metrics_add(METRIC_ITEMS_TAGGED, NULL, NULL, 0);
    r->nlanes = store_shards(st);
    r->lanes = ctx_calloc(r->nlanes, sizeof *r->lanes);
    ctx_err e = store_conn_new(st, "analyze", NULL, NULL, &r->cmd);
    for (unsigned i = 0; !e && i < r->nlanes; i++) {
        struct lane *l = &r->lanes[i];
        l->r = r;
        l->shard = i;
        store_key_sharded(l->stream, sizeof l->stream, i, KEYN_RAW);
        store_key_sharded(l->dead, sizeof l->dead, i, KEYN_DEAD);
        /* "0": a new group reads everything already in the stream */
        const struct group_opts o = {
            .name = "analyze", .stream = l->stream, .group = GROUP_ANALYZE, .start_id = "0",
            .count = BATCH, .window = WINDOW, .on_up = on_up, .dead = l->dead,
        };
        e = group_reader_start(st, &o, on_batch, l, &l->raw);
    }
    if (e) {
        analyze_role_stop(r);
        return e;
    }
    *out = r;
    return CTX_OK;
}

static void handle_free(uv_handle_t *h)
{
    free(h);
}

void analyze_role_stop(struct analyze_role *r)
{
    if (!r)
        return;
    r->stopping = true;
    for (unsigned i = 0; i < r->nlanes; i++)
        group_reader_stop(r->lanes[i].raw);
    rconn_free(r->cmd);     /* in-flight scripts are called back with NULL */
    uv_close((uv_handle_t *)r->aborts_timer, handle_free);
    uv_close((uv_handle_t *)r->flush_timer, handle_free);
    free(r->lanes);
    free(r);
}
