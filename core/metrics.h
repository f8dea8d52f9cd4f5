/* metrics.h -- the process's own counters, for /metrics (docs/operations.md).
 *
 * One set per process, as Redis keeps its server.stat_* fields: the roles
 * count what they did here (polls, fetch errors, items collected and tagged,
 * dead letters, replies) and time their passes, and the serve role prints
 * them in the Prometheus text format. The loop is single-threaded, so the
 * counters need no locks; nothing else may touch them from a worker thread.
 * Figures that live in Redis (consumer groups, queues) are read there when
 * scraped, not counted here. */
#ifndef CTX_METRICS_H
#define CTX_METRICS_H

#include <stdbool.h>
#include "core/buf.h"
#include "core/ctx.h"

/* Counters; the labels each takes are in the table of metrics.c. */
enum metric {
    METRIC_POLLS,               /* ctx_polls_total{kind} */
    METRIC_FETCH_ERRORS,        /* ctx_fetch_errors_total{kind,error} */
    METRIC_ITEMS_COLLECTED,     /* ctx_items_collected_total{kind} */
    METRIC_ITEMS_TAGGED,        /* ctx_items_tagged_total */
    METRIC_DEAD_LETTERS,        /* ctx_dead_letters_total{group,reason} */
    METRIC_REPLIES_POSTED,      /* ctx_replies_posted_total{kind} */
    METRIC_REPLIES_FAILED,      /* ctx_replies_failed_total{kind} */
    METRIC_REPLY_RETRIES,       /* ctx_reply_retries_total{kind} */
    METRIC_COUNT
};

/* Durations, kept as histograms with their maximum. */
enum metric_timing {
    TIMING_ANALYZE_PASS,        /* ctx_analyze_pass_seconds: a batch read to stored */
    TIMING_ROUTE_PASS,          /* ctx_route_pass_seconds: a routing pass over the queues */
    TIMING_COUNT
};

/* Add `by` to the series of m with these label values (NULL for a label
 * the metric does not take). by = 0 makes the series appear at 0, so that
 * rates work from the start. Values past 63 bytes are cut; past 128 series
 * of one metric, new series are not kept. */
void metrics_add(enum metric m, const char *l1, const char *l2, unsigned long long by);
void metrics_observe(enum metric_timing t, double seconds);

/* The "error" label of a fetch that ended with err (CTX_OK: an HTTP answer
 * with this status arrived): timeout, network, too_big, http_4xx, http_5xx
 * or http_other. Parse and store failures are named by METRIC_ERR_*. */
const char *metrics_fetch_error(ctx_err err, bool timed_out, long status);
#define METRIC_ERR_PARSE "parse"        /* the response could not be parsed */
#define METRIC_ERR_STORE "store"        /* its items could not be stored */

/* Append every counter and timing, with HELP and TYPE, in the Prometheus
 * text format (version 0.0.4). */
void metrics_format(struct buf *out);
/* Print one HELP and TYPE header (for the figures the serve role adds). */
void metrics_header(struct buf *out, const char *name, const char *type, const char *help);
/* Append `v` to out as a label value, escaped as the text format wants. */
void metrics_label(struct buf *out, const char *v);

void metrics_reset(void);       /* every counter and timing back to nothing (tests) */

#endif
