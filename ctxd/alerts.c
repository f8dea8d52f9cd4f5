/* alerts.c -- spike alerts: each minute, every trend series is judged by the
 * detector (trends/spike.c) and a new spike becomes an alert.
 *
 * Runs with the analyze role; several processes may run it, one judges at a
 * time: it holds ctx:{i}:alerts:lease (lease.lua, renewed each
 * minute, 3 minutes to live), so when it dies another takes over. A second
 * tick checks whether a minute that ended at least alerts.delay ago (posts
 * counted late by their publication time) has not been judged yet; then:
 * 1. the series counted in the last 29 days, the most recent first
 *    (alerts.max_series at most), from the trends registry;
 * 2. per series, one read (alerts_read.lua) of its detector state and of
 *    the buckets the detector needs: the last 60 minute buckets, and on
 *    each reference day (1..7, 14, 21, 28 days back) the same clock window
 *    -75..+20 min, from the minute buckets when they are still kept (days 1
 *    and 2), else from the hour buckets; the day bucket says whether the
 *    series had posts that day (a day without is not a reference);
 * 3. spike_step() with the series' thresholds (config "alerts"), then
 *    alerts_apply.lua keeps the state and, on a new alert, adds it to the
 *    ctx:{i}:alerts stream (which every serve node follows for
 *    /ws/monitor) and counts it; a minute judged already is not judged
 *    again, so a restart or a second process never repeats an alert;
 * 4. an alert a rule with "on": "alert" takes becomes a task of that
 *    rule's queue (task "alert:<stream id>", idempotent).
 * All series are pipelined on one connection; the minute is done when the
 * last reply is in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "core/clock.h"
#include "core/date.h"
#include "core/log.h"
#include "core/mem.h"
#include "ctxd/roles.h"
#include "routing/routing.h"
#include "trends/spike.h"

#define LEASE_MS (3 * 60000LL)
#define HISTORY_MS (29 * 86400000LL)
#define MAX_SEGS 64

struct alerts {
    uv_loop_t *loop;
    const struct config *cfg;
    struct store *st;
    struct rconn *cmd;
    uv_timer_t *tick;
    char owner[128];
    long long judged;           /* the last minute this process judged */
    long long minute;           /* the one being judged */
    bool busy;
    unsigned pending;           /* series in flight */
    unsigned long long raised;
};

/* Where a run of counts goes. */
enum dest { D_CUR, D_MIN, D_HOUR, D_DAY };
struct seg {
    struct store_trend_seg s;
    enum dest d;
    int day;                    /* reference day index */
};

struct job {
    struct alerts *a;
    long long minute;
    struct seg segs[MAX_SEGS];
    size_t nsegs;
    char series[];
};

static void add_range(struct job *j, enum store_trend_level b, long long first, long long last,
                      enum dest d, int day)
{
    /* one run per key: minutes of one UTC day, hours of one UTC month, days of a year */
    while (first <= last && j->nsegs < MAX_SEGS) {
        long long end = last;
        if (b == STORE_TREND_MINUTE) {
            long long day_end = (first / 1440 + 1) * 1440 - 1;
            end = day_end < last ? day_end : last;
        } else if (b == STORE_TREND_HOUR) {
            for (end = first; end < last; end++) {
                char k1[STORE_KEY_LEN], k2[STORE_KEY_LEN];
                store_key_trend(k1, sizeof k1, STORE_TREND_HOUR, "", first * 3600000LL);
                store_key_trend(k2, sizeof k2, STORE_TREND_HOUR, "", (end + 1) * 3600000LL);
                if (strcmp(k1, k2) != 0)
                    break;
            }
        }
        j->segs[j->nsegs++] = (struct seg){{b, first, end}, d, day};
        first = end + 1;
    }
}

static void plan(struct job *j)
{
    long long m = j->minute;
    add_range(j, STORE_TREND_MINUTE, m - SPIKE_CUR + 1, m, D_CUR, 0);
    for (int d = 0; d < SPIKE_REF_DAYS; d++) {
        long long c = m - spike_ref_days[d] * 1440LL;
        long long lo = c - SPIKE_REF_BEFORE, hi = c + SPIKE_REF_AFTER;
        if (spike_ref_days[d] <= 2)
            add_range(j, STORE_TREND_MINUTE, lo, hi, D_MIN, d);
        add_range(j, STORE_TREND_HOUR, lo / 60, hi / 60, D_HOUR, d);
        add_range(j, STORE_TREND_DAY, c / 1440, c / 1440, D_DAY, d);
    }
}

/* The reply of alerts_read.lua into the detector's input. */
static void decode(const struct job *j, const redisReply *rep, struct spike_input *in)
{
    memset(in, 0, sizeof *in);
    long long m = j->minute;
    bool min_ok[SPIKE_REF_DAYS], any[SPIKE_REF_DAYS] = {0};
    double hours[SPIKE_REF_DAYS][4] = {{0}};
    for (int d = 0; d < SPIKE_REF_DAYS; d++)
        min_ok[d] = spike_ref_days[d] <= 2;
    for (size_t i = 0; i < j->nsegs && i + 1 < rep->elements; i++) {
        const struct seg *s = &j->segs[i];
        const redisReply *r = rep->element[i + 1];
        bool have = r->type == REDIS_REPLY_ARRAY;
        if (!have && s->d == D_MIN)
            min_ok[s->day] = false;
        for (long long f = s->s.first; have && f <= s->s.last; f++) {
            size_t k = (size_t)(f - s->s.first);
            double v = k < r->elements && r->element[k]->type == REDIS_REPLY_INTEGER
                           ? (double)r->element[k]->integer : 0;
            long long c = m - spike_ref_days[s->day] * 1440LL;
            if (v > 0 && s->d != D_CUR)
                any[s->day] = true;
            if (s->d == D_CUR)
                in->cur[f - (m - SPIKE_CUR + 1)] = v;
            else if (s->d == D_MIN)
                in->ref[s->day][f - (c - SPIKE_REF_BEFORE)] = v;
            else if (s->d == D_HOUR && f - (c - SPIKE_REF_BEFORE) / 60 < 4)
                hours[s->day][f - (c - SPIKE_REF_BEFORE) / 60] = v;
        }
    }
    for (int d = 0; d < SPIKE_REF_DAYS; d++) {
        in->have[d] = any[d];
        if (min_ok[d])
            continue;
        long long c = m - spike_ref_days[d] * 1440LL, h0 = (c - SPIKE_REF_BEFORE) / 60;
        for (int k = 0; k < SPIKE_REF_LEN; k++)
            in->ref[d][k] = hours[d][(c - SPIKE_REF_BEFORE + k) / 60 - h0] / 60;
    }
}

static void params_for(const struct config_alerts *ca, const char *series,
                       struct spike_params *p)
{
    spike_params_default(p);
    p->min_count = ca->min_count;
    p->min_ratio = ca->min_ratio;
    p->raise = ca->raise;
    p->clear = ca->clear;
    p->spread = ca->spread;
    p->clear_minutes = (int)(ca->clear_after / 60 + 0.5);
    for (size_t i = 0; i < ca->nseries; i++) {
        const struct config_alert_series *r = &ca->series[i];
        size_t n = strlen(r->match);
        if (r->match[n - 1] == '*' ? strncmp(series, r->match, n - 1) != 0
                                   : strcmp(series, r->match) != 0)
            continue;
        if (r->min_count >= 0) p->min_count = r->min_count;
        if (r->min_ratio >= 0) p->min_ratio = r->min_ratio;
        if (r->raise >= 0) p->raise = r->raise;
        if (r->clear >= 0) p->clear = r->clear;
        if (r->spread >= 0) p->spread = r->spread;
        if (r->clear_after >= 0) p->clear_minutes = (int)(r->clear_after / 60 + 0.5);
        break;
    }
}

/* "spike of outage complaints: 48 in 5 min, baseline 6"; the series
 * complaint:acme-cloud/outage: "spike of outage complaints about acme-cloud: ..." */
static void alert_text(const char *series, const struct spike_eval *ev, char *out, size_t len)
{
    const char *colon = strchr(series, ':'), *v = colon ? colon + 1 : series;
    size_t dl = colon ? (size_t)(colon - series) : strlen(series);
    char what[300];
    if (dl == 5 && strncmp(series, "brand", 5) == 0)
        snprintf(what, sizeof what, "mentions of %s", v);
    else if (dl == 5 && strncmp(series, "topic", 5) == 0)
        snprintf(what, sizeof what, "mentions about %s", v);
    else if (dl == 6 && strncmp(series, "reason", 6) == 0)
        snprintf(what, sizeof what, "%s complaints", v);
    else if (dl == 9 && strncmp(series, "complaint", 9) == 0 && strrchr(v, '/'))
        snprintf(what, sizeof what, "%s complaints about %.*s", strrchr(v, '/') + 1,
                 (int)(strrchr(v, '/') - v), v);
    else if (dl == 7 && strncmp(series, "network", 7) == 0)
        snprintf(what, sizeof what, "mentions on %s", v);
    else if (dl == 6 && strncmp(series, "source", 6) == 0)
        snprintf(what, sizeof what, "mentions from %s", v);
    else if (dl == 4 && strncmp(series, "lang", 4) == 0)
        snprintf(what, sizeof what, "mentions in %s", v);
    else
        snprintf(what, sizeof what, "mentions");
    snprintf(out, len, "spike of %s: %.0f in %d min, baseline %.*f", what, ev->count, ev->window,
             ev->expected < 10 ? 1 : 0, ev->expected);
}

static void minute_done(struct alerts *a)
{
    if (--a->pending)
        return;
    a->busy = false;
    a->judged = a->minute;
}

struct raised {
    struct alerts *a;
    json_t *alert;
};

static void on_task(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    (void)priv;
    if (rep && rep->type == REDIS_REPLY_ERROR)
        log_warn("alerts: task not created: %s", rep->str);
}

static void on_applied(struct rconn *rc, redisReply *rep, void *priv)
{
    struct raised *r = priv;
    struct alerts *a = r->a;
    if (rep && rep->type == REDIS_REPLY_STRING && r->alert) {
        const char *series = json_string_value(json_object_get(r->alert, "series"));
        const char *text = json_string_value(json_object_get(r->alert, "text"));
        a->raised++;
        log_info("alerts: %s (%s)", text, rep->str);
        int rule = escalation_match_alert(a->cfg, series);
        if (rule >= 0) {
            const struct config_escalation *esc = &a->cfg->escalation[rule];
            char id[160];
            snprintf(id, sizeof id, "alert:%s", rep->str);
            json_t *extra = json_pack("{s:s,s:s,s:s,s:s?}", "alert", rep->str, "series", series,
                                      "text", text, "rule", esc->name);
            store_task_new(rc, a->st, a->cfg, id, "social", esc->queue, esc->priority, extra,
                           on_task, NULL);
            json_decref(extra);
        }
    } else if (rep && rep->type == REDIS_REPLY_ERROR) {
        log_warn("alerts: %s", rep->str);
    }
    json_decref(r->alert);
    free(r);
    minute_done(a);
}

static void on_read(struct rconn *rc, redisReply *rep, void *priv)
{
    struct job *j = priv;
    struct alerts *a = j->a;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != j->nsegs + 1) {
        if (rep && rep->type == REDIS_REPLY_ERROR)
            log_warn("alerts: reading %s: %s", j->series, rep->str);
        free(j);
        minute_done(a);
        return;
    }
    static struct spike_input in;      /* the loop is single-threaded */
    decode(j, rep, &in);
    struct spike_state st;
    const redisReply *sr = rep->element[0];
    if (sr->type != REDIS_REPLY_STRING || spike_state_parse(sr->str, &st))
        spike_state_init(&st);
    struct spike_params p;
    params_for(&a->cfg->alerts, j->series, &p);
    struct spike_eval ev;
    enum spike_event what = spike_step(&p, &st, &in, j->minute, &ev);
    if (st.last != j->minute) {         /* judged already */
        free(j);
        minute_done(a);
        return;
    }
    char state[128];
    spike_state_format(&st, state, sizeof state);
    struct raised *r = ctx_calloc(1, sizeof *r);
    r->a = a;
    char *aj = NULL;
    if (what == SPIKE_RAISE) {
        char text[512], at[CTX_TIME_LEN];
        alert_text(j->series, &ev, text, sizeof text);
        ctx_time_format(j->minute * 60, at);
        const char *colon = strchr(j->series, ':');
        r->alert = json_pack("{s:s,s:s%,s:s,s:s,s:I,s:i,s:f,s:f,s:f,s:s}", "series", j->series,
                             "dimension", j->series,
                             colon ? (size_t)(colon - j->series) : strlen(j->series), "value",
                             colon ? colon + 1 : "", "at", at, "minute", (json_int_t)j->minute,
                             "window", ev.window, "count", ev.count,
                             "expected", ((long long)(ev.expected * 10 + 0.5)) / 10.0,
                             "score", ((long long)(ev.score * 100 + 0.5)) / 100.0, "text", text);
        aj = r->alert ? json_dumps(r->alert, JSON_COMPACT) : NULL;
    }
    if (store_alerts_apply(rc, a->st, j->series, j->minute, state, aj, on_applied, r)) {
        json_decref(r->alert);
        free(r);
        minute_done(a);
    }
    free(aj);
    free(j);
}

static void on_series(struct rconn *rc, redisReply *rep, void *priv)
{
    struct alerts *a = priv;
    a->pending = 1;                     /* held while sending */
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
        const char *name = rep->element[i]->str;
        if (!name || !*name || strlen(name) > 300)
            continue;
        size_t n = strlen(name);
        struct job *j = ctx_calloc(1, sizeof *j + n + 1);
        memcpy(j->series, name, n + 1);
        j->a = a;
        j->minute = a->minute;
        plan(j);
        struct store_trend_seg segs[MAX_SEGS];
        for (size_t k = 0; k < j->nsegs; k++)
            segs[k] = j->segs[k].s;
        a->pending++;
        if (store_alerts_read(rc, a->st, j->series, segs, j->nsegs, on_read, j)) {
            a->pending--;
            free(j);
        }
    }
    minute_done(a);
}

static void on_lease(struct rconn *rc, redisReply *rep, void *priv)
{
    struct alerts *a = priv;
    if (!rep || rep->type != REDIS_REPLY_INTEGER || rep->integer != 1) {
        a->busy = false;                /* another process judges; try next minute */
        if (rep)
            a->judged = a->minute;
        return;
    }
    store_trend_flush(rc, a->st, NULL, NULL);   /* the reads below see every item stored */
    if (store_alerts_series(rc, a->st, a->minute * 60000 - HISTORY_MS,
                            a->cfg->alerts.max_series, on_series, a))
        a->busy = false;
}

static void tick_fire(uv_timer_t *t)
{
    struct alerts *a = t->data;
    if (a->busy || !rconn_up(a->cmd))
        return;
    long long now = ctx_now_ms();
    long long minute = (now - (long long)(a->cfg->alerts.delay * 1000)) / 60000 - 1;
    if (minute <= a->judged)
        return;
    a->minute = minute;
    a->busy = true;
    if (store_alerts_lease(a->cmd, a->st, a->owner, LEASE_MS, on_lease, a))
        a->busy = false;
}

ctx_err alerts_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
                     struct alerts **out)
{
    *out = NULL;
    if (!cfg->alerts.enabled)
        return CTX_OK;
    struct alerts *a = ctx_calloc(1, sizeof *a);
    a->loop = loop;
    a->cfg = cfg;
    a->st = st;
    a->judged = -1;
    store_consumer_name(cfg, a->owner, sizeof a->owner);
    ctx_err e = store_conn_new(st, "alerts", NULL, NULL, &a->cmd);
    if (e) {
        free(a);
        return e;
    }
    a->tick = ctx_malloc(sizeof *a->tick);
    uv_timer_init(loop, a->tick);
    a->tick->data = a;
    uv_timer_start(a->tick, tick_fire, 1000, 1000);
    *out = a;
    return CTX_OK;
}

static void handle_free(uv_handle_t *h)
{
    free(h);
}

void alerts_stop(struct alerts *a)
{
    if (!a)
        return;
    rconn_free(a->cmd);                 /* pending replies are called back (NULL) now */
    uv_close((uv_handle_t *)a->tick, handle_free);
    free(a);
}
