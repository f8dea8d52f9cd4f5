/* trends.c -- GET /api/trends and GET /api/trends/top: the trend counters
 * (store/trends.c, store/KEYS.md "Trend counters") as time series.
 *
 * A query is planned first (pure: trends_plan_make()): the buckets of
 * [from, to) aligned to the bucket size in the asked time zone, and which
 * counters make them (minutes, hours, UTC days; a local day in another zone
 * is its hours, since UTC days do not align with it). Then, after the
 * pending trend records are counted (store_trend_flush(), on the same
 * connection, so the reads see them), one HGETALL per series and key period
 * (a UTC day of minutes held as a field per hour, a month of hours as a
 * field per day, a year of days), pipelined on the serve connection, each
 * reply folded into the buckets as it comes; the answer is written when the
 * last is in. The number of points (series x buckets) is bounded by
 * trends.max_points, so a request cannot make the daemon build an answer of
 * any size.
 *
 * Zones are read from /usr/share/zoneinfo (core/tz.c) the first time they
 * are asked and kept (a few KB each, at most TZ_CACHE of them). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/clock.h"
#include "core/date.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/tz.h"
#include "store/store.h"
#include "ws/ws_internal.h"

#define MAX_SERIES 200
#define SERIES_ARG 8192
#define TZ_CACHE 32
#define TOP_CANDIDATES 2000

enum { F_COUNT, F_POS, F_NEG, F_NEU, F_COMPLAINT, NF };

/* ---- pure parts ---- */

int trends_parse_time(const char *s, long long *out)
{
    if (!s || !*s)
        return -1;
    size_t i = 0;
    if (s[0] == '-')
        i = 1;
    bool digits = s[i] != '\0';
    for (const char *p = s + i; *p; p++)
        if (*p < '0' || *p > '9')
            digits = false;
    if (digits && strlen(s) <= 12) {
        *out = strtoll(s, NULL, 10);
        return 0;
    }
    return ctx_date_parse(s, out);
}

static const char *const dims[] = {"brand", "topic", "reason", "complaint", "network", "source",
                                    "lang"};

static bool dim_ok(const char *d, size_t n)
{
    for (size_t i = 0; i < CTX_ARRAY_LEN(dims); i++)
        if (strlen(dims[i]) == n && strncmp(d, dims[i], n) == 0)
            return true;
    return false;
}

bool trends_series_ok(const char *s)
{
    if (strcmp(s, "all") == 0)
        return true;
    const char *colon = strchr(s, ':');
    if (!colon || !dim_ok(s, (size_t)(colon - s)))
        return false;
    size_t n = strlen(colon + 1);
    if (n == 0 || n > 190)
        return false;
    for (const unsigned char *p = (const unsigned char *)colon + 1; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == ',')
            return false;
    return true;
}

int trends_bucket_parse(const char *s, enum trends_bucket *out)
{
    static const char *const names[] = {"minute", "hour", "day"};
    static const char *const alias[] = {"1m", "1h", "1d"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0 || strcmp(s, alias[i]) == 0) {
            *out = (enum trends_bucket)i;
            return 0;
        }
    return -1;
}

static const char *bucket_name(enum trends_bucket b)
{
    return b == TRENDS_MINUTE ? "minute" : b == TRENDS_HOUR ? "hour" : "day";
}

static long long fdiv(long long a, long long b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

ctx_err trends_plan_make(struct trends_plan *p, enum trends_bucket b, const struct tz *tz,
                         long long from, long long to, size_t max)
{
    memset(p, 0, sizeof *p);
    if (from >= to)
        return CTX_EINVAL;
    p->bucket = b;
    if (b == TRENDS_DAY && tz) {
        /* local days, from their hours: at most (to - from) / 22 h + 2 of them */
        p->level = STORE_TREND_HOUR;
        long long t = tz_day_start(tz, from);
        size_t cap = (size_t)((to - t) / (22 * 3600)) + 2;
        if (cap > max + 1) {
            long long days = (to - t + 86399) / 86400;
            if (days > (long long)max)
                return CTX_ETOOBIG;
            cap = max + 1;
        }
        p->start = ctx_malloc((cap + 1) * sizeof *p->start);
        while (t < to) {
            if (p->n >= max) {
                trends_plan_free(p);
                return CTX_ETOOBIG;
            }
            p->start[p->n++] = t;
            t = tz_day_next(tz, t);
        }
        p->start[p->n] = t;
        return CTX_OK;
    }
    long long step = b == TRENDS_MINUTE ? 60 : b == TRENDS_HOUR ? 3600 : 86400;
    p->level = b == TRENDS_MINUTE ? STORE_TREND_MINUTE
               : b == TRENDS_HOUR ? STORE_TREND_HOUR : STORE_TREND_DAY;
    long long first = fdiv(from, step) * step, end = fdiv(to - 1, step) * step + step;
    long long n = (end - first) / step;
    if (n > (long long)max)
        return CTX_ETOOBIG;
    p->n = (size_t)n;
    p->start = ctx_malloc(((size_t)n + 1) * sizeof *p->start);
    for (long long i = 0; i <= n; i++)
        p->start[i] = first + i * step;
    return CTX_OK;
}

void trends_plan_free(struct trends_plan *p)
{
    free(p->start);
    p->start = NULL;
    p->n = 0;
}

long trends_plan_index(const struct trends_plan *p, long long t)
{
    if (p->n == 0 || t < p->start[0] || t >= p->start[p->n])
        return -1;
    long long step = p->start[1] - p->start[0];
    if (p->bucket != TRENDS_DAY || step == 86400) {
        /* uniform: minutes, hours, UTC days (a local day of 24 h is checked below) */
        long i = (long)((t - p->start[0]) / step);
        if (i < (long)p->n && p->start[i] <= t && t < p->start[i + 1])
            return i;
    }
    size_t lo = 0, hi = p->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->start[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return (long)lo;
}

void trends_csv_cell(struct buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        buf_puts(b, s);
        return;
    }
    buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            buf_putc(b, '"');
        buf_putc(b, *s);
    }
    buf_putc(b, '"');
}

/* ---- zones ---- */

static struct {
    char name[TZ_NAME_MAX + 8];
    struct tz *tz;
} tz_cache[TZ_CACHE];

/* The zone `name` ("" or "UTC": NULL, UTC). 0 ok, -1 unknown or bad name. */
static int zone(const char *name, const struct tz **out)
{
    *out = NULL;
    if (!*name || strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0 ||
        strcmp(name, "Z") == 0)
        return 0;
    size_t i;
    for (i = 0; i < TZ_CACHE && tz_cache[i].tz; i++)
        if (strcmp(tz_cache[i].name, name) == 0) {
            *out = tz_cache[i].tz;
            return 0;
        }
    struct tz *tz;
    if (tz_load(NULL, name, &tz))
        return -1;
    if (i == TZ_CACHE) {                    /* full: replace the last */
        i = TZ_CACHE - 1;
        tz_free(tz_cache[i].tz);
    }
    snprintf(tz_cache[i].name, sizeof tz_cache[i].name, "%s", name);
    tz_cache[i].tz = tz;
    *out = tz;
    return 0;
}

/* ---- GET /api/trends ---- */

struct tquery {
    struct api_req *r;
    struct trends_plan plan;
    const struct tz *tz;
    char tzname[TZ_NAME_MAX + 8];
    long long from, to;         /* s, as asked */
    bool legacy;                /* ?topic=T: the contract's first shape */
    bool csv;
    size_t nseries;
    char **series;
    long long *counts;          /* [series][bucket][NF] */
    size_t pending;
    bool failed;                /* a reply was an error or Redis went away */
    /* top: the previous period, per series */
    bool top;
    char dim[16];
    long limit;
    long long pfrom;            /* s: start of the previous period */
    long long *prev;            /* [series] */
    struct tslot *slots;
};

struct tslot {
    struct tquery *q;
    size_t series;
};

static void tquery_free(struct tquery *q)
{
    for (size_t i = 0; i < q->nseries; i++)
        free(q->series[i]);
    free(q->series);
    free(q->counts);
    free(q->prev);
    free(q->slots);
    trends_plan_free(&q->plan);
    free(q);
}

/* The decimal integer at s (an optional '-', then digits); *end is set
 * past it. Counters are written by HINCRBY, so no spaces, no '+'. */
static long long parse_lld(const char *s, const char **end)
{
    bool neg = *s == '-';
    unsigned long long v = 0;
    s += neg;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (unsigned)(*s++ - '0');
    *end = s;
    return neg ? -(long long)v : (long long)v;
}

/* Add counts n of the bucket starting at t (s) to series s; which: a field
 * of the first layout holding one counter, or F_COUNT for packed counts. */
static void add_counts(struct tquery *q, size_t s, long long t, int which, const long long n[4])
{
    if (q->top) {
        if (which != F_COUNT)
            return;
        if (t >= q->from && t < q->to)
            q->counts[s * NF] += n[0];
        else if (t >= q->pfrom && t < q->from)
            q->prev[s] += n[0];
        return;
    }
    long k = trends_plan_index(&q->plan, t);
    if (k < 0)
        return;
    long long *c = &q->counts[(s * q->plan.n + (size_t)k) * NF];
    if (which != F_COUNT) {
        c[which] += n[0];
    } else {
        c[F_COUNT] += n[0];
        c[F_POS] += n[1];
        c[F_NEG] += n[2];
        c[F_COMPLAINT] += n[3];
    }
}

/* "count[,positive,negative,complaint]" at v; *end past it. */
static void parse_counts(const char *v, long long n[4], const char **end)
{
    n[0] = parse_lld(v, end);
    n[1] = n[2] = n[3] = 0;
    for (int j = 1; j < 4 && **end == ','; j++)
        n[j] = parse_lld(*end + 1, end);
}

/* A day bucket is a field (its number) holding
 * "count,positive,negative,complaint" (a series split by sentiment) or
 * "count"; the minutes of an hour are one field (the epoch hour) holding
 * "<minute>=<counts>;...", the hours of a UTC day one field (the epoch day)
 * holding "<hour>=<counts>;..." (store/KEYS.md). A key of the first layout has a
 * bare count per bucket with ":p", ":n", ":u", ":c" fields beside it. All
 * add up; neutral is count - positive - negative, so ":u" is not read. */
static void fold(struct tquery *q, size_t s, const redisReply *rep)
{
    long long len = store_trend_bucket_ms((enum store_trend_level)q->plan.level) / 1000;
    long long per = q->plan.level == STORE_TREND_MINUTE ? 60 : 24;     /* buckets a field */
    for (size_t i = 0; i + 1 < rep->elements; i += 2) {
        const char *f = rep->element[i]->str, *v = rep->element[i + 1]->str, *end, *rest;
        if (!f || !v)
            continue;
        long long b = parse_lld(f, &end), n[4];
        int which = F_COUNT;
        if (*end == ':')
            which = end[1] == 'p' ? F_POS : end[1] == 'n' ? F_NEG
                    : end[1] == 'c' ? F_COMPLAINT : -1;
        else if (*end)
            which = -1;
        if (which < 0)
            continue;
        long long o = parse_lld(v, &rest);
        if (*rest != '=') {                 /* one bucket */
            parse_counts(v, n, &rest);
            add_counts(q, s, b * len, which, n);
            continue;
        }
        for (;;) {                          /* the minutes of hour b, the hours of day b */
            parse_counts(rest + 1, n, &rest);
            add_counts(q, s, (b * per + o) * len, F_COUNT, n);
            if (*rest != ';')
                break;
            o = parse_lld(rest + 1, &rest);
            if (*rest != '=')
                break;
        }
    }
    if (!q->top && store_trend_split(q->series[s]))
        for (size_t k = 0; k < q->plan.n; k++) {
            long long *c = &q->counts[(s * q->plan.n + k) * NF];
            c[F_NEU] = c[F_COUNT] - c[F_POS] - c[F_NEG];
        }
}

static void answer(struct tquery *q);
static void answer_top(struct tquery *q);

/* One read less to wait for; after the last, answer and free q. */
static void step(struct tquery *q)
{
    if (--q->pending)
        return;
    struct api_req *r = q->r;
    r->waiting = false;
    if (!r->wsi)
        req_free(r);
    else if (q->failed)
        respond_error(r, 503, "redis", "redis is away");
    else if (q->top)
        answer_top(q);
    else
        answer(q);
    tquery_free(q);
}

static void on_counts(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct tslot *slot = priv;
    struct tquery *q = slot->q;
    if (!rep || rep->type == REDIS_REPLY_ERROR) {
        if (rep)
            log_warn("trends: %s", rep->str);
        q->failed = true;
    } else if (rep->type == REDIS_REPLY_ARRAY) {
        fold(q, slot->series, rep);
    }
    step(q);
}

/* One HGETALL per series and key period over [from, to) (s) at the plan's
 * level; q is answered and freed when the last reply is in (503 if Redis
 * was away for any). */
static void send_reads(struct tquery *q, long long from, long long to)
{
    enum store_trend_level lv = (enum store_trend_level)q->plan.level;
    struct serve *s = q->r->s;
    q->slots = ctx_calloc(q->nseries, sizeof *q->slots);
    q->pending = 1;                         /* held while sending */
    q->r->waiting = true;
    /* count what is pending first, on this connection: the reads see it */
    store_trend_flush(s->cmd, s->st, NULL, NULL);
    for (size_t i = 0; i < q->nseries; i++) {
        q->slots[i] = (struct tslot){q, i};
        for (long long ms = from * 1000; ms < to * 1000; ms = store_trend_key_end(lv, ms)) {
            q->pending++;
            if (store_trend_read(s->cmd, s->st, lv, q->series[i], ms, on_counts, &q->slots[i])) {
                q->pending--;
                q->failed = true;
            }
        }
    }
    step(q);
}

static bool want_csv(struct api_req *r, const char *format)
{
    if (strcmp(format, "csv") == 0)
        return true;
    if (*format)
        return false;
    char acc[256];
    if (lws_hdr_copy(r->wsi, acc, sizeof acc, WSI_TOKEN_HTTP_ACCEPT) <= 0)
        return false;
    return strstr(acc, "text/csv") != NULL;
}

/* ---- writing an answer: 72,000 points are 8 MB of JSON, so numbers are
 * put by hand, not through printf ---- */

static char *put_lld(char *p, long long v)
{
    char tmp[24];
    size_t n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        tmp[n++] = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *p++ = '-';
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *put_str(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define PUT_LIT(p, lit) put_str(p, lit, sizeof lit - 1)

/* c / total as printf's "%.4g" writes it (0 when total is 0). The common
 * case, 0.0001 <= c / total < 1, is worked out in integers: the 4
 * significant digits, rounded; the double printf rounds can fall on the
 * other side of a rounding boundary only when c / total is within a hair of
 * it, and such a share (and any other case) is left to snprintf. */
static char *put_share(char *p, long long c, long long total)
{
    static const long long pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
    if (total == 0 || (c == 0 && total > 0))
        return PUT_LIT(p, "0");
    if (c > 0 && c < total && c < 100000000000LL && total < 1000000000000LL) {
        int e = 1;                              /* c / total >= 10^-e */
        while (e <= 4 && c * pow10[e] < total)
            e++;
        if (e <= 4) {
            int d = 3 + e;                      /* decimals */
            long long num = c * pow10[d], q = num / total, rem = num - q * total;
            long long gap = 2 * rem - total;    /* < 0: round down, > 0: up */
            double margin = (double)total * (double)pow10[d] * 1e-15;
            if ((double)(gap < 0 ? -gap : gap) > margin + 1) {
                q += gap > 0;
                if (q >= pow10[d])
                    return PUT_LIT(p, "1");
                char dig[8];
                for (int i = d - 1; i >= 0; i--, q /= 10)
                    dig[i] = (char)('0' + q % 10);
                int last = d;
                while (last > 0 && dig[last - 1] == '0')
                    last--;
                p = PUT_LIT(p, "0.");
                return put_str(p, dig, (size_t)last);
            }
        }
    }
    return p + snprintf(p, 32, "%.4g", (double)c / (double)total);
}

static void answer(struct tquery *q)
{
    struct api_req *r = q->r;
    struct buf *b = &r->body;
    buf_reset(b);
    size_t nb = q->plan.n;
    bool share = q->nseries > 1 && !q->legacy;
    long long *total = NULL;
    if (share) {
        total = ctx_calloc(nb ? nb : 1, sizeof *total);
        for (size_t s = 0; s < q->nseries; s++)
            for (size_t k = 0; k < nb; k++)
                total[k] += q->counts[(s * nb + k) * NF];
    }
    char (*ts)[CTX_TIME_LEN] = ctx_malloc((nb ? nb : 1) * sizeof *ts);
    for (size_t k = 0; k < nb; k++)
        tz_format(q->tz, q->plan.start[k], ts[k]);
    if (q->csv) {
        buf_puts(b, share ? "series,t,count,positive,negative,neutral,complaint,share\r\n"
                          : "series,t,count,positive,negative,neutral,complaint\r\n");
        for (size_t s = 0; s < q->nseries; s++)
            for (size_t k = 0; k < nb; k++) {
                const long long *c = &q->counts[(s * nb + k) * NF];
                trends_csv_cell(b, q->series[s]);
                buf_printf(b, ",%s,%lld,%lld,%lld,%lld,%lld", ts[k], c[F_COUNT], c[F_POS],
                           c[F_NEG], c[F_NEU], c[F_COMPLAINT]);
                if (share)
                    buf_printf(b, ",%.4g", total[k] ? (double)c[F_COUNT] / total[k] : 0.0);
                buf_puts(b, "\r\n");
            }
    } else {
        /* one allocation for the points (a month of 100 series: ~8 MB), not ~20 */
        buf_reserve(b, q->nseries * nb * (strlen(nb ? ts[0] : "") + 110) + 1024);
        char from[CTX_TIME_LEN], to[CTX_TIME_LEN];
        tz_format(q->tz, q->from, from);
        tz_format(q->tz, q->to, to);
        if (q->legacy) {
            json_t *js = json_string(q->series[0] + 6);
            char *name = json_dumps(js, JSON_ENCODE_ANY);
            json_decref(js);
            buf_printf(b, "{\"topic\":%s,\"bucket\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",", name,
                       bucket_name(q->plan.bucket), from, to);
            free(name);
        } else {
            buf_printf(b, "{\"bucket\":\"%s\",\"tz\":\"%s\",\"from\":\"%s\",\"to\":\"%s\","
                       "\"series\":[", bucket_name(q->plan.bucket),
                       q->tz ? q->tzname : "UTC", from, to);
        }
        for (size_t s = 0; s < q->nseries; s++) {
            if (!q->legacy) {
                json_t *js = json_string(q->series[s]);
                char *name = json_dumps(js, JSON_ENCODE_ANY);
                json_decref(js);
                buf_printf(b, "%s{\"series\":%s,", s ? "," : "", name);
                free(name);
            }
            buf_puts(b, "\"points\":[");
            for (size_t k = 0; k < nb; k++) {
                const long long *c = &q->counts[(s * nb + k) * NF];
                char pt[sizeof ts[k] + 5 * 24 + 128], *p = pt;
                if (k)
                    *p++ = ',';
                p = PUT_LIT(p, "{\"t\":\"");
                p = put_str(p, ts[k], strlen(ts[k]));
                p = PUT_LIT(p, "\",\"count\":");
                p = put_lld(p, c[F_COUNT]);
                p = PUT_LIT(p, ",\"positive\":");
                p = put_lld(p, c[F_POS]);
                p = PUT_LIT(p, ",\"negative\":");
                p = put_lld(p, c[F_NEG]);
                p = PUT_LIT(p, ",\"neutral\":");
                p = put_lld(p, c[F_NEU]);
                p = PUT_LIT(p, ",\"complaint\":");
                p = put_lld(p, c[F_COMPLAINT]);
                if (share) {
                    p = PUT_LIT(p, ",\"share\":");
                    p = put_share(p, c[F_COUNT], total[k]);
                }
                *p++ = '}';
                buf_append(b, pt, (size_t)(p - pt));
            }
            buf_puts(b, q->legacy ? "]" : "]}");
        }
        buf_puts(b, q->legacy ? "}\n" : "]}\n");
    }
    free(ts);
    free(total);
    if (!b->len || b->p[b->len - 1] != '\n') {     /* over the body's cap */
        respond_error(r, 500, "too_large", "the answer is over the size cap");
        return;
    }
    respond(r, 200, q->csv ? "text/csv; charset=utf-8" : "application/json");
}

/* The arguments both routes share. 0 ok; otherwise answered 400. */
struct targs {
    char series[SERIES_ARG], topic[200], from[64], to[64], bucket[16], tz[TZ_NAME_MAX + 8],
        format[16], dim[16], limit[16];
};

static int read_args(struct api_req *r, struct targs *a)
{
    const struct {
        const char *name;
        char *v;
        size_t size;
    } args[] = {
        {"series", a->series, sizeof a->series}, {"topic", a->topic, sizeof a->topic},
        {"from", a->from, sizeof a->from},       {"to", a->to, sizeof a->to},
        {"bucket", a->bucket, sizeof a->bucket}, {"tz", a->tz, sizeof a->tz},
        {"format", a->format, sizeof a->format}, {"dim", a->dim, sizeof a->dim},
        {"limit", a->limit, sizeof a->limit},
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(args); i++) {
        int e = query_arg(r->wsi, args[i].name, args[i].v, args[i].size);
        if (e) {
            char code[32], msg[96];
            snprintf(code, sizeof code, "bad_%s", args[i].name);
            snprintf(msg, sizeof msg, "%s is too long (at most %zu bytes)", args[i].name,
                     args[i].size - 1);
            respond_error(r, e < 0 ? 500 : 400, code, msg);
            return -1;
        }
    }
    return 0;
}

/* from, to (defaults: the last 24 h up to now) and tz. 0 ok; else answered. */
static int read_range(struct api_req *r, const struct targs *a, long long *from, long long *to,
                      const struct tz **tz)
{
    long long now = ctx_now_s();
    *to = now;
    if (a->to[0] && trends_parse_time(a->to, to)) {
        respond_error(r, 400, "bad_to", "to must be an RFC 3339 time or epoch seconds");
        return -1;
    }
    *from = *to - 86400;
    if (a->from[0] && trends_parse_time(a->from, from)) {
        respond_error(r, 400, "bad_from", "from must be an RFC 3339 time or epoch seconds");
        return -1;
    }
    if (*from >= *to) {
        respond_error(r, 400, "bad_range", "from must be before to");
        return -1;
    }
    if (zone(a->tz, tz)) {
        respond_error(r, 400, "bad_tz",
                      "tz must be a time zone name such as Europe/Moscow or UTC");
        return -1;
    }
    return 0;
}

void trends_get(struct api_req *r)
{
    struct targs a;
    if (read_args(r, &a))
        return;
    struct tquery *q = ctx_calloc(1, sizeof *q);
    q->r = r;
    q->csv = want_csv(r, a.format);
    if (a.format[0] && strcmp(a.format, "csv") && strcmp(a.format, "json")) {
        respond_error(r, 400, "bad_format", "format must be json or csv");
        goto out;
    }
    if (a.topic[0] && a.series[0]) {
        respond_error(r, 400, "bad_series", "give series or topic, not both");
        goto out;
    }
    q->series = ctx_calloc(MAX_SERIES, sizeof *q->series);
    if (a.topic[0]) {
        q->legacy = true;
        size_t n = strlen(a.topic) + 7;
        q->series[0] = ctx_malloc(n);
        snprintf(q->series[0], n, "topic:%s", a.topic);
        q->nseries = 1;
        if (!trends_series_ok(q->series[0])) {
            respond_error(r, 400, "bad_topic", "topic must be 1 to 190 bytes, no commas");
            goto out;
        }
    } else if (a.series[0]) {
        for (char *save = NULL, *t = strtok_r(a.series, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
            if (!trends_series_ok(t)) {
                char msg[300];
                snprintf(msg, sizeof msg, "bad series '%.200s': all, or <dim>:<value> with dim "
                         "brand, topic, reason, network, source or lang", t);
                respond_error(r, 400, "bad_series", msg);
                goto out;
            }
            if (q->nseries == MAX_SERIES) {
                respond_error(r, 400, "bad_series", "at most 200 series per request");
                goto out;
            }
            bool dup = false;
            for (size_t i = 0; i < q->nseries; i++)
                dup = dup || strcmp(q->series[i], t) == 0;
            if (!dup)
                q->series[q->nseries++] = ctx_strdup(t);
        }
    }
    if (q->nseries == 0) {
        respond_error(r, 400, "bad_series", "series (brand:acme,topic:outage...) or topic is "
                      "required");
        goto out;
    }
    enum trends_bucket bucket = TRENDS_HOUR;
    if (a.bucket[0] && trends_bucket_parse(a.bucket, &bucket)) {
        respond_error(r, 400, "bad_bucket", "bucket must be minute, hour or day");
        goto out;
    }
    if (read_range(r, &a, &q->from, &q->to, &q->tz))
        goto out;
    snprintf(q->tzname, sizeof q->tzname, "%s", a.tz);
    size_t max = (size_t)r->s->cfg->trends.max_points / q->nseries;
    ctx_err e = trends_plan_make(&q->plan, bucket, q->tz, q->from, q->to, max ? max : 1);
    if (e) {
        char msg[200];
        snprintf(msg, sizeof msg, "%zu series x the buckets of this range is over %d points: "
                 "ask a shorter range, a larger bucket or fewer series", q->nseries,
                 r->s->cfg->trends.max_points);
        respond_error(r, 400, "too_many_points", msg);
        goto out;
    }
    q->counts = ctx_calloc(q->nseries * q->plan.n * NF, sizeof *q->counts);
    send_reads(q, q->plan.start[0], q->plan.start[q->plan.n]);
    return;
out:
    tquery_free(q);
}

/* ---- GET /api/trends/top ---- */

struct ranked {
    const char *series;
    long long count, prev;
    double growth;
};

static int by_volume(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->series, y->series);
}

static int by_growth(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->growth != y->growth)
        return x->growth < y->growth ? 1 : -1;
    return by_volume(a, b);
}

static json_t *ranked_json(const struct ranked *v, size_t n, long limit, size_t dimlen)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n && (long)i < limit; i++)
        json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:I,s:f}", "series", v[i].series,
                                             "name", v[i].series + dimlen + 1, "count",
                                             (json_int_t)v[i].count, "previous",
                                             (json_int_t)v[i].prev, "growth", v[i].growth));
    return arr;
}

static void answer_top(struct tquery *q)
{
    struct ranked *v = ctx_calloc(q->nseries ? q->nseries : 1, sizeof *v);
    size_t n = 0;
    for (size_t s = 0; s < q->nseries; s++) {
        long long c = q->counts[s * NF], p = q->prev[s];
        if (!c && !p)
            continue;
        v[n++] = (struct ranked){q->series[s], c, p, (double)(c - p) / (double)(p > 0 ? p : 1)};
    }
    char from[CTX_TIME_LEN], to[CTX_TIME_LEN];
    tz_format(NULL, q->from, from);
    tz_format(NULL, q->to, to);
    size_t dl = strlen(q->dim);
    qsort(v, n, sizeof *v, by_volume);
    json_t *vol = ranked_json(v, n, q->limit, dl);
    qsort(v, n, sizeof *v, by_growth);
    json_t *gro = ranked_json(v, n, q->limit, dl);
    free(v);
    if (q->csv) {
        struct buf *b = &q->r->body;
        buf_reset(b);
        buf_puts(b, "ranking,series,name,count,previous,growth\r\n");
        json_t *lists[] = {vol, gro};
        const char *names[] = {"by_volume", "by_growth"};
        for (int l = 0; l < 2; l++) {
            size_t i;
            json_t *e;
            json_array_foreach(lists[l], i, e) {
                buf_printf(b, "%s,", names[l]);
                trends_csv_cell(b, json_string_value(json_object_get(e, "series")));
                buf_putc(b, ',');
                trends_csv_cell(b, json_string_value(json_object_get(e, "name")));
                buf_printf(b, ",%lld,%lld,%.4g\r\n",
                           (long long)json_integer_value(json_object_get(e, "count")),
                           (long long)json_integer_value(json_object_get(e, "previous")),
                           json_real_value(json_object_get(e, "growth")));
            }
        }
        json_decref(vol);
        json_decref(gro);
        respond(q->r, 200, "text/csv; charset=utf-8");
        return;
    }
    respond_json(q->r, 200, json_pack("{s:s,s:s,s:s,s:o,s:o}", "dim", q->dim, "from", from, "to",
                                      to, "by_volume", vol, "by_growth", gro));
}

static void on_registry(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct tquery *q = priv;
    struct api_req *r = q->r;
    if (!api_reply_usable(r, rep, REDIS_REPLY_ARRAY)) {
        tquery_free(q);
        return;
    }
    size_t dl = strlen(q->dim), cap = rep->elements / 2;
    q->series = ctx_calloc(cap ? cap : 1, sizeof *q->series);
    for (size_t i = 0; i + 1 < rep->elements && q->nseries < TOP_CANDIDATES; i += 2) {
        const char *m = rep->element[i]->str;
        if (m && strncmp(m, q->dim, dl) == 0 && m[dl] == ':')
            q->series[q->nseries++] = ctx_strdup(m);
    }
    q->counts = ctx_calloc((q->nseries ? q->nseries : 1) * NF, sizeof *q->counts);
    q->prev = ctx_calloc(q->nseries ? q->nseries : 1, sizeof *q->prev);
    send_reads(q, q->pfrom, q->to);
}

void trends_top_get(struct api_req *r)
{
    struct targs a;
    if (read_args(r, &a))
        return;
    struct tquery *q = ctx_calloc(1, sizeof *q);
    q->r = r;
    q->top = true;
    q->csv = want_csv(r, a.format);
    if (!dim_ok(a.dim, strlen(a.dim))) {
        respond_error(r, 400, "bad_dim", "dim must be brand, topic, reason, network, source "
                      "or lang");
        goto out;
    }
    snprintf(q->dim, sizeof q->dim, "%s", a.dim);
    q->limit = 10;
    if (a.limit[0]) {
        char *end;
        q->limit = strtol(a.limit, &end, 10);
        if (*end || q->limit < 1 || q->limit > 100) {
            respond_error(r, 400, "bad_limit", "limit must be a number from 1 to 100");
            goto out;
        }
    }
    if (read_range(r, &a, &q->from, &q->to, &q->tz))
        goto out;
    /* hours while the previous period is within the hour retention, else days */
    q->pfrom = q->from - (q->to - q->from);
    long long now = ctx_now_s();
    bool hours = q->pfrom >= now - (long long)r->s->cfg->trends.hour_retention;
    q->plan.level = hours ? STORE_TREND_HOUR : STORE_TREND_DAY;
    long long step = hours ? 3600 : 86400;
    if ((q->to - q->pfrom) / step > 20000) {
        respond_error(r, 400, "too_many_points", "the range is too long (at most 10,000 "
                      "buckets of the period and as many before it)");
        goto out;
    }
    /* align to the level's buckets: a bucket counts in the period its start is in */
    q->from = fdiv(q->from, step) * step;
    q->to = fdiv(q->to + step - 1, step) * step;
    q->pfrom = q->from - (q->to - q->from);
    r->waiting = true;
    store_trend_flush(r->s->cmd, r->s->st, NULL, NULL);    /* the registry read sees it */
    if (store_trend_series(r->s->cmd, r->s->st, q->pfrom * 1000, on_registry, q)) {
        r->waiting = false;
        respond_error(r, 503, "redis", "redis is away");
        goto out;
    }
    return;
out:
    tquery_free(q);
}
