/* cmd_trends.c -- ctxctl trends and ctxctl trends top: the trend counters
 * from ctxd's HTTP API (GET /api/trends, GET /api/trends/top), as a table
 * in the terminal with a sparkline per series, or as the API's own CSV or
 * JSON.
 *
 * The options become the API's query arguments and ctxd checks them: a 400
 * is printed as its message ("ctxctl: bad_tz: ..."), exit status 1. The
 * range is --since DURATION (default 24h, ending now) or --from/--to
 * (RFC 3339 or epoch seconds). With "auth": true in ctxd's config the
 * token is taken from the CTX_TOKEN environment variable (cli_http.c).
 *
 * The table is made by pure functions (trends_spark(), print_series())
 * from the parsed answer; only cli_api() does I/O. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <jansson.h>
#include "cli/cli.h"
#include "core/buf.h"
#include "core/mem.h"

#define SPARK_MAX 60            /* columns of a sparkline; more buckets are summed */

/* "&name=value", the value URL-escaped. */
static void add_arg(struct buf *q, const char *name, const char *value)
{
    char *v = curl_easy_escape(NULL, value, 0);
    if (!v)
        ctx_oom(3 * strlen(value) + 1);
    char last = buf_len(q) ? buf_str(q)[buf_len(q) - 1] : '?';
    buf_printf(q, "%s%s=%s", last == '?' ? "" : "&", name, v);
    curl_free(v);
}

/* The range options shared by both commands: --since D | --from T [--to T]. */
struct range {
    const char *since, *from, *to;
};

/* Takes option o with its value v if it is one of the range's; says so. */
static bool range_option(struct range *r, const char *o, const char *v)
{
    if (strcmp(o, "--since") == 0)
        r->since = v;
    else if (strcmp(o, "--from") == 0)
        r->from = v;
    else if (strcmp(o, "--to") == 0)
        r->to = v;
    else
        return false;
    return true;
}

/* Adds from= and to= to q (default: the last `def` seconds). Returns 0, or
 * -1 after printing what is wrong. */
static int add_range(struct buf *q, const struct range *r, double def)
{
    const char *since = r->since, *from = r->from, *to = r->to;
    if (since && (from || to)) {
        fprintf(stderr, "ctxctl: --since or --from/--to, not both\n");
        return -1;
    }
    if (from || to) {
        if (from)
            add_arg(q, "from", from);
        if (to)
            add_arg(q, "to", to);
        return 0;
    }
    double d = def;
    if (since && (config_parse_duration(since, &d) || d < 60)) {
        fprintf(stderr, "ctxctl: --since %s: expected a duration such as 30m, 24h or 7d\n",
                since);
        return -1;
    }
    long long now = (long long)time(NULL);
    buf_printf(q, "&from=%lld&to=%lld", now - (long long)d, now + 1);
    return 0;
}

/* "1h" and "hour" alike; NULL for anything else. */
static const char *bucket_name(const char *s)
{
    static const char *const names[][3] = {
        {"minute", "1m", "min"}, {"hour", "1h", "h"}, {"day", "1d", "d"}};
    for (size_t i = 0; i < CTX_ARRAY_LEN(names); i++)
        for (size_t k = 0; k < 3; k++)
            if (strcmp(s, names[i][k]) == 0)
                return names[i][0];
    return NULL;
}

/* The sparkline of v[0..n) into out (UTF-8, at most SPARK_MAX columns: more
 * values are summed in groups): ▁ for 0, █ for the largest, any other count
 * at least ▂. Returns the number of columns. */
static size_t spark_group(size_t n)
{
    return n > SPARK_MAX ? (n + SPARK_MAX - 1) / SPARK_MAX : 1;
}

static int spark_cols(size_t n)
{
    return (int)((n + spark_group(n) - 1) / spark_group(n));
}

static int trends_spark(const double *v, size_t n, struct buf *out)
{
    static const char *const bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    size_t group = spark_group(n), cols = (size_t)spark_cols(n);
    double *s = ctx_calloc(cols ? cols : 1, sizeof *s), max = 0;
    for (size_t i = 0; i < n; i++)
        s[i / group] += v[i];
    for (size_t c = 0; c < cols; c++)
        if (s[c] > max)
            max = s[c];
    for (size_t c = 0; c < cols; c++) {
        int lvl = s[c] <= 0 || max <= 0 ? 0 : 1 + (int)((s[c] / max) * 6.999);
        buf_puts(out, bars[lvl > 7 ? 7 : lvl]);
    }
    free(s);
    return (int)cols;
}

static double num(const json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static void print_series(const json_t *answer)
{
    const json_t *series = json_object_get(answer, "series");
    double all = 0;
    size_t i, k;
    json_t *s, *p;
    json_array_foreach(series, i, s) {
        json_array_foreach(json_object_get(s, "points"), k, p)
            all += num(p, "count");
    }
    bool several = json_array_size(series) > 1;
    printf("%s .. %s, %s buckets, %s\n", json_string_value(json_object_get(answer, "from")),
           json_string_value(json_object_get(answer, "to")),
           json_string_value(json_object_get(answer, "bucket")),
           json_string_value(json_object_get(answer, "tz")));
    int width = 5;
    json_array_foreach(series, i, s) {
        int w = spark_cols(json_array_size(json_object_get(s, "points")));
        if (w > width)
            width = w;
    }
    printf("%-24s %-*s %8s %8s %8s %8s %9s %6s\n", "SERIES", width, "TREND", "TOTAL",
           "POSITIVE", "NEGATIVE", "NEUTRAL", "COMPLAINT", "SHARE");
    json_array_foreach(series, i, s) {
        const json_t *pts = json_object_get(s, "points");
        size_t n = json_array_size(pts);
        double *v = ctx_calloc(n ? n : 1, sizeof *v), t[5] = {0};
        static const char *const f[] = {"count", "positive", "negative", "neutral",
                                        "complaint"};
        json_array_foreach(pts, k, p) {
            v[k] = num(p, "count");
            for (size_t x = 0; x < 5; x++)
                t[x] += num(p, f[x]);
        }
        struct buf sp = {0};
        int cols = trends_spark(v, n, &sp);
        char share[16] = "-";
        if (several && all > 0)
            snprintf(share, sizeof share, "%.1f%%", 100 * t[0] / all);
        printf("%-24s %s%*s %8.0f %8.0f %8.0f %8.0f %9.0f %6s\n",
               json_string_value(json_object_get(s, "series")), buf_str(&sp), width - cols, "",
               t[0], t[1], t[2], t[3], t[4], share);
        buf_free(&sp);
        free(v);
    }
}

/* ctxctl trends [--since D | --from T --to T] [--bucket B] [--brand B]...
 * [--topic T]... [--series S]... [--tz ZONE] [--csv | --json] */
int cmd_trends(int argc, char **argv)
{
    const char *bucket = "hour", *tz = NULL;
    struct range range = {0};
    enum { TABLE, CSV, JSON } out = TABLE;
    struct buf series = {0}, q = {0};
    int rc = 2;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--csv") == 0 || strcmp(o, "--json") == 0) {
            out = o[2] == 'c' ? CSV : JSON;
            continue;
        }
        if (!v || strncmp(o, "--", 2) != 0)
            goto usage;
        i++;
        if (range_option(&range, o, v))
            continue;
        if (strcmp(o, "--tz") == 0)
            tz = v;
        else if (strcmp(o, "--bucket") == 0) {
            if (!(bucket = bucket_name(v))) {
                fprintf(stderr, "ctxctl: --bucket %s: minute, hour or day (1m, 1h, 1d)\n", v);
                goto done;
            }
        } else if (strcmp(o, "--brand") == 0 || strcmp(o, "--topic") == 0 ||
                   strcmp(o, "--series") == 0) {
            if (buf_len(&series))
                buf_putc(&series, ',');
            if (o[2] != 's')
                buf_printf(&series, "%s:", o + 2);
            buf_puts(&series, v);
        } else {
            goto usage;
        }
    }
    buf_puts(&q, "/api/trends?bucket=");
    buf_puts(&q, bucket);
    add_arg(&q, "series", buf_len(&series) ? buf_str(&series) : "all");
    if (tz)
        add_arg(&q, "tz", tz);
    if (out == CSV)
        buf_puts(&q, "&format=csv");
    if (add_range(&q, &range, 86400)) {
        rc = 2;
        goto done;
    }
    struct buf body = {0};
    json_t *j = NULL;
    rc = cli_api(buf_str(&q), NULL, &body, out == TABLE ? &j : NULL);
    if (!rc && out != TABLE)
        fputs(buf_str(&body), stdout);
    else if (!rc)
        print_series(j);
    json_decref(j);
    buf_free(&body);
    goto done;
usage:
    rc = cli_usage("trends");
done:
    buf_free(&series);
    buf_free(&q);
    return rc;
}

static void print_ranked(const char *title, const json_t *rows)
{
    printf("%s\n%-32s %8s %8s %8s\n", title, "NAME", "COUNT", "PREVIOUS", "GROWTH");
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        printf("%-32s %8.0f %8.0f %+7.0f%%\n", json_string_value(json_object_get(r, "name")),
               num(r, "count"), num(r, "previous"), 100 * num(r, "growth"));
    }
    if (!json_array_size(rows))
        printf("  (nothing counted)\n");
}

/* ctxctl trends top [--dim D] [--since D | --from T --to T] [--limit N] [--json] */
int cmd_trends_top(int argc, char **argv)
{
    const char *dim = "topic", *limit = NULL;
    struct range range = {0};
    bool raw = false;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--json") == 0) {
            raw = true;
            continue;
        }
        if (!v)
            return cli_usage("trends top");
        i++;
        if (range_option(&range, o, v))
            continue;
        if (strcmp(o, "--dim") == 0)
            dim = v;
        else if (strcmp(o, "--limit") == 0)
            limit = v;
        else
            return cli_usage("trends top");
    }
    struct buf q = {0}, body = {0};
    buf_puts(&q, "/api/trends/top?");
    add_arg(&q, "dim", dim);
    if (limit)
        add_arg(&q, "limit", limit);
    if (add_range(&q, &range, 7 * 86400)) {
        buf_free(&q);
        return 2;
    }
    json_t *j = NULL;
    int rc = cli_api(buf_str(&q), NULL, &body, raw ? NULL : &j);
    buf_free(&q);
    if (!rc && raw) {
        fputs(buf_str(&body), stdout);
    } else if (!rc) {
        printf("%s: %s .. %s, against the period of the same length before it\n\n", dim,
               json_string_value(json_object_get(j, "from")),
               json_string_value(json_object_get(j, "to")));
        print_ranked("BY VOLUME", json_object_get(j, "by_volume"));
        printf("\n");
        print_ranked("BY GROWTH", json_object_get(j, "by_growth"));
    }
    json_decref(j);
    buf_free(&body);
    return rc;
}
