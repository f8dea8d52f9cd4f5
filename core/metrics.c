/* metrics.c -- the process's counters and timings, printed in the
 * Prometheus text format.
 *
 * Each metric is a row of one table (name, type, help, label names), as
 * the config keys are: adding one is adding a row and its enum value. A
 * series is found by its label values with a linear search: a metric has a
 * handful of series (source kinds, groups, error classes), and a counter
 * is bumped a few times per poll or batch, not per byte. The storage is
 * static and fixed, so counting never allocates nor fails. */
#include <stdio.h>
#include <string.h>
#include "core/metrics.h"

#define MAX_SERIES 128
#define LABEL_LEN 64

static const struct metric_row {
    const char *name, *help;
    const char *labels[2];      /* NULL: not taken */
} rows[METRIC_COUNT] = {
    [METRIC_POLLS] = {"ctx_polls_total",
                      "Source polls that finished, whatever their outcome, by source kind.",
                      {"kind", NULL}},
    [METRIC_FETCH_ERRORS] = {"ctx_fetch_errors_total",
                             "Polls that failed, by source kind and error: timeout, network, "
                             "too_big, http_4xx, http_5xx, http_other, parse, store.",
                             {"kind", "error"}},
    [METRIC_ITEMS_COLLECTED] = {"ctx_items_collected_total",
                                "New items added to the raw stream (ids seen before are not "
                                "counted), by source kind.",
                                {"kind", NULL}},
    [METRIC_ITEMS_TAGGED] = {"ctx_items_tagged_total",
                             "Items tagged and stored by the analyze role.", {NULL, NULL}},
    [METRIC_DEAD_LETTERS] = {"ctx_dead_letters_total",
                             "Stream entries moved to dead letters, by consumer group and "
                             "reason (max_deliveries, not_json, not_an_item, analyzer_failed).",
                             {"group", "reason"}},
    [METRIC_REPLIES_POSTED] = {"ctx_replies_posted_total",
                               "Replies posted to their network, by source kind.",
                               {"kind", NULL}},
    [METRIC_REPLIES_FAILED] = {"ctx_replies_failed_total",
                               "Replies given up on (refused, or out of retries), by source kind.",
                               {"kind", NULL}},
    [METRIC_REPLY_RETRIES] = {"ctx_reply_retries_total",
                              "Reply posts that failed for now and wait for a retry, by "
                              "source kind.",
                              {"kind", NULL}},
};

static const struct timing_row {
    const char *name, *help;
} timing_rows[TIMING_COUNT] = {
    [TIMING_ANALYZE_PASS] = {"ctx_analyze_pass_seconds",
                             "Analyze passes: from reading a batch of raw entries to having "
                             "stored (or left pending) every one."},
    [TIMING_ROUTE_PASS] = {"ctx_route_pass_seconds",
                           "Routing passes: from the first queue's snapshot to the last "
                           "offer's answer."},
};

static const double bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NBOUNDS (sizeof bounds / sizeof bounds[0])

struct series {
    char l[2][LABEL_LEN];
    unsigned long long v;
};

struct timing {
    unsigned long long count, buckets[NBOUNDS];
    double sum, max;
};

static struct {
    struct series s[METRIC_COUNT][MAX_SERIES];
    size_t n[METRIC_COUNT];
    struct timing t[TIMING_COUNT];
} M;

static bool label_is(const char *have, const char *want)
{
    return strncmp(have, want ? want : "", LABEL_LEN - 1) == 0;
}

void metrics_add(enum metric m, const char *l1, const char *l2, unsigned long long by)
{
    if ((unsigned)m >= METRIC_COUNT)
        return;
    const char *l[2] = {rows[m].labels[0] ? l1 : NULL, rows[m].labels[1] ? l2 : NULL};
    for (size_t i = 0; i < M.n[m]; i++) {
        struct series *s = &M.s[m][i];
        if (label_is(s->l[0], l[0]) && label_is(s->l[1], l[1])) {
            s->v += by;
            return;
        }
    }
    if (M.n[m] == MAX_SERIES)
        return;
    struct series *s = &M.s[m][M.n[m]++];
    for (int k = 0; k < 2; k++)
        snprintf(s->l[k], LABEL_LEN, "%s", l[k] ? l[k] : "");
    s->v = by;
}

void metrics_observe(enum metric_timing t, double seconds)
{
    if ((unsigned)t >= TIMING_COUNT)
        return;
    struct timing *x = &M.t[t];
    if (seconds < 0)
        seconds = 0;
    x->count++;
    x->sum += seconds;
    if (seconds > x->max)
        x->max = seconds;
    for (size_t i = 0; i < NBOUNDS; i++)
        if (seconds <= bounds[i])
            x->buckets[i]++;
}

const char *metrics_fetch_error(ctx_err err, bool timed_out, long status)
{
    if (timed_out)
        return "timeout";
    if (err == CTX_ETOOBIG)
        return "too_big";
    if (err)
        return "network";
    if (status >= 400 && status < 500)
        return "http_4xx";
    if (status >= 500 && status < 600)
        return "http_5xx";
    return "http_other";
}

void metrics_label(struct buf *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            buf_puts(out, "\\\\");
        else if (*v == '"')
            buf_puts(out, "\\\"");
        else if (*v == '\n')
            buf_puts(out, "\\n");
        else
            buf_putc(out, *v);
    }
}

void metrics_header(struct buf *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void format_counter(struct buf *out, enum metric m)
{
    const struct metric_row *r = &rows[m];
    metrics_header(out, r->name, "counter", r->help);
    if (!r->labels[0]) {                /* no labels: always one series */
        buf_printf(out, "%s %llu\n", r->name, M.n[m] ? M.s[m][0].v : 0ULL);
        return;
    }
    for (size_t i = 0; i < M.n[m]; i++) {
        const struct series *s = &M.s[m][i];
        buf_printf(out, "%s{", r->name);
        for (int k = 0; k < 2 && r->labels[k]; k++) {
            buf_printf(out, "%s%s=\"", k ? "," : "", r->labels[k]);
            metrics_label(out, s->l[k]);
            buf_putc(out, '"');
        }
        buf_printf(out, "} %llu\n", s->v);
    }
}

static void format_timing(struct buf *out, enum metric_timing t)
{
    const struct timing_row *r = &timing_rows[t];
    const struct timing *x = &M.t[t];
    metrics_header(out, r->name, "histogram", r->help);
    for (size_t i = 0; i < NBOUNDS; i++)
        buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", r->name, bounds[i], x->buckets[i]);
    buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9g\n%s_count %llu\n", r->name,
               x->count, r->name, x->sum, r->name, x->count);
    char max_name[96], max_help[96];
    snprintf(max_name, sizeof max_name, "%s_max", r->name);
    snprintf(max_help, sizeof max_help, "The longest of %s since this process started.",
             r->name);
    metrics_header(out, max_name, "gauge", max_help);
    buf_printf(out, "%s %.9g\n", max_name, x->max);
}

void metrics_format(struct buf *out)
{
    for (int m = 0; m < METRIC_COUNT; m++)
        format_counter(out, (enum metric)m);
    for (int t = 0; t < TIMING_COUNT; t++)
        format_timing(out, (enum metric_timing)t);
}

void metrics_reset(void)
{
    memset(&M, 0, sizeof M);
}
