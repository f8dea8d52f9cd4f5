/* trends.c -- the trend counters in Redis (store/KEYS.md "Trend counters").
 *
 * An item is counted in two steps, each one atomic. tag.lua, in the step
 * that stores the item (so a redelivered item, already stored, is not
 * counted again), pushes one record to ctx:{i}:tr:pending: the item's
 * minute, its UTC day, the expiries of its keys, its sentiment and
 * complaint, and its series. trends_flush.lua then takes up to
 * STORE_TREND_FLUSH_MAX records and, in the same step that removes them,
 * adds them to the minute, hour and day buckets, once per bucket however
 * many items it got (HMGET, HSET). So an item costs tag.lua one RPUSH, not
 * an HINCRBY per series, level and counter. The analyze role flushes every
 * second; a read of the counters (the API, the spike detector) flushes
 * first on its own connection, so it sees every item stored before it.
 *
 * Here: the bucket arithmetic, which instant an item is counted at, the
 * series of an item and its record (store_trend_args(), used by
 * store_tag()), and the reads the API makes. Keys expire by themselves: a
 * key's EXPIREAT is the end of its period (UTC day, month, year) plus the
 * level's retention, set when a bucket is added to it. */
#include <stdlib.h>
#include <string.h>
#include "core/buf.h"
#include "core/mem.h"
#include "core/tz.h"
#include "store/store_internal.h"

static const long long bucket_ms[STORE_TREND_LEVELS] = {60000LL, 3600000LL, 86400000LL};

static long long floordiv(long long a, long long b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

long long store_trend_bucket(enum store_trend_level lv, long long ms)
{
    return floordiv(ms, bucket_ms[lv]);
}

long long store_trend_bucket_ms(enum store_trend_level lv)
{
    return bucket_ms[lv];
}

long long store_trend_key_end(enum store_trend_level lv, long long ms)
{
    long long days = floordiv(ms, 86400000LL), y;
    unsigned m, d;
    tz_civil_from_days(days, &y, &m, &d);
    if (lv == STORE_TREND_MINUTE)
        return (days + 1) * 86400000LL;
    if (lv == STORE_TREND_HOUR)
        return tz_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * 86400000LL;
    return tz_days_from_civil(y + 1, 1, 1) * 86400000LL;
}

long long store_trend_when(long long published, long long fetched, long long now,
                           long long lateness_ms, long long skew_ms)
{
    if (published > 0 && published >= now - lateness_ms && published <= now + skew_ms)
        return published;
    if (fetched > 0 && fetched <= now + skew_ms)
        return fetched;
    return now;
}

/* "<dim>:<value>" once each; all first. A value with a control character
 * is not counted: the API could not name it, and a newline would cut the
 * record. */
static void add_series(struct store_trend_args *a, const char *dim, const char *value,
                       bool split)
{
    if (!value || !*value || a->n >= STORE_TREND_MAX_SERIES)
        return;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return;
    char name[STORE_SERIES_LEN];
    snprintf(name, sizeof name, "%s%s%s", dim, *dim ? ":" : "", value);
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->series[i], name) == 0)
            return;
    memcpy(a->series[a->n], name, sizeof name);
    a->split[a->n++] = split;
}

bool store_trend_split(const char *series)
{
    return strcmp(series, "all") == 0 || strncmp(series, "brand:", 6) == 0 ||
           strncmp(series, "topic:", 6) == 0;
}

void store_trend_args(struct store_trend_args *a, const struct store_tagged *t,
                      const struct config_trends *cfg, long long now)
{
    memset(a, 0, sizeof *a);
    if (!cfg || !cfg->enabled || t->counted <= 0)
        return;
    add_series(a, "", "all", true);
    for (size_t i = 0; i < t->nbrands; i++)
        add_series(a, "brand", t->brands[i], true);
    for (size_t i = 0; i < t->ntopics; i++)
        add_series(a, "topic", t->topics[i], true);
    for (size_t i = 0; i < t->nreasons && t->complaint; i++)
        add_series(a, "reason", t->reasons[i], false);
    /* complaint:<brand>/<reason>: "outage complaints about acme-cloud" */
    for (size_t b = 0; b < t->nbrands && t->complaint; b++)
        for (size_t i = 0; i < t->nreasons; i++) {
            char v[STORE_SERIES_LEN];
            if ((size_t)snprintf(v, sizeof v, "%s/%s", t->brands[b], t->reasons[i]) < 190)
                add_series(a, "complaint", v, false);
        }
    add_series(a, "network", t->network, false);
    add_series(a, "source", t->source, false);
    add_series(a, "lang", t->lang, false);
    const double keep[STORE_TREND_LEVELS] = {cfg->minute_retention, cfg->hour_retention,
                                             cfg->day_retention};
    long long days = floordiv(t->counted, 86400000LL), y;
    unsigned m, d;
    tz_civil_from_days(days, &y, &m, &d);
    char exp[STORE_TREND_LEVELS][STORE_NUM_LEN];
    for (int lv = 0; lv < STORE_TREND_LEVELS; lv++) {
        long long end = store_trend_key_end((enum store_trend_level)lv, t->counted);
        long long exp_s = (end + (long long)(keep[lv] * 1000)) / 1000;
        store_lld(exp[lv], exp_s * 1000 > now ? exp_s : 0);
    }
    const char *label = t->sentiment ? t->sentiment : "neutral";
    char sent = label[0] == 'p' ? 'p' : label[0] == 'n' && label[1] == 'e' ? 'n' : 'u';
    /* the record trends_flush.lua reads (store/KEYS.md "Trend counters") */
    buf_printf(&a->record, "%lld %04lld%02u%02u %s %s %s %c%c",
               store_trend_bucket(STORE_TREND_MINUTE, t->counted), y, m, d, exp[0], exp[1],
               exp[2], sent, t->complaint ? '1' : '0');
    for (size_t i = 0; i < a->n; i++)
        buf_printf(&a->record, "\n%c%s", a->split[i] ? 'S' : 'U', a->series[i]);
}

ctx_err store_trend_flush_in(struct rconn *rc, struct store *st, unsigned shard,
                             rconn_reply_cb cb, void *priv)
{
    char pending[STORE_KEY_LEN], series[STORE_KEY_LEN], prefix[STORE_KEY_LEN];
    const char *keys[] = {store_key_sharded(pending, sizeof pending, shard, KEYN_TREND_PENDING),
                          store_key_sharded(series, sizeof series, shard, KEYN_TREND_SERIES)};
    char max[STORE_NUM_LEN];
    const char *args[] = {store_key_sharded(prefix, sizeof prefix, shard, KEYN_TREND_PREFIX),
                          store_lld(max, STORE_TREND_FLUSH_MAX)};
    return STORE_EVAL(rc, st, SCRIPT_TRENDS_FLUSH, cb, priv, keys, args);
}

ctx_err store_trend_flush(struct rconn *rc, struct store *st, rconn_reply_cb cb, void *priv)
{
    unsigned n = store_shards(st);
    if (n == 1)
        return store_trend_flush_in(rc, st, 0, cb, priv);
    struct store_fanout *f = store_fanout_new(n, STORE_MERGE_SUM, 0, cb, priv);
    for (unsigned s = 0; s < n; s++)
        store_fanout_sent(f, store_trend_flush_in(rc, st, s, store_fanout_reply,
                                                  store_fanout_arm(f)));
    return store_fanout_end(rc, f);
}

/* Bucket hashes and the registry are per shard: a read adds them up
 * (store/fanout.c), so a reader sees one shard's shape. */
ctx_err store_trend_read(struct rconn *rc, struct store *st, enum store_trend_level lv,
                         const char *series, long long ms, rconn_reply_cb cb, void *priv)
{
    char key[STORE_KEY_LEN];
    unsigned n = store_shards(st);
    if (n == 1)
        return rconn_cmd(rc, cb, priv, "HGETALL %s",
                         store_key_trend(key, sizeof key, lv, series, ms));
    struct store_fanout *f = store_fanout_new(n, STORE_MERGE_CONCAT, 0, cb, priv);
    for (unsigned s = 0; s < n; s++)
        store_fanout_sent(f, rconn_cmd(rc, store_fanout_reply, store_fanout_arm(f), "HGETALL %s",
                                       store_key_trend_in(key, sizeof key, s, lv, series, ms)));
    return store_fanout_end(rc, f);
}

ctx_err store_trend_series(struct rconn *rc, struct store *st, long long min_ms,
                           rconn_reply_cb cb, void *priv)
{
    unsigned n = store_shards(st);
    if (n == 1)
        return rconn_cmd(rc, cb, priv, "ZRANGEBYSCORE %s %lld +inf WITHSCORES",
                         KEY_TREND_SERIES, min_ms);
    struct store_fanout *f = store_fanout_new(n, STORE_MERGE_SCORES_UP, 0, cb, priv);
    char key[STORE_KEY_LEN];
    for (unsigned s = 0; s < n; s++)
        store_fanout_sent(f, rconn_cmd(rc, store_fanout_reply, store_fanout_arm(f),
                                       "ZRANGEBYSCORE %s %lld +inf WITHSCORES",
                                       store_key_sharded(key, sizeof key, s, KEYN_TREND_SERIES),
                                       min_ms));
    return store_fanout_end(rc, f);
}
