/* tz.c -- a small TZif reader (RFC 8536) and the local-time arithmetic the
 * trends API needs: the offset in force at an instant, where a local day
 * starts, and RFC 3339 with an offset.
 *
 * A zone is its transitions (instants, ascending) with the offset each one
 * starts, the offset before the first, and the footer's POSIX TZ rule
 * ("CET-1CEST,M3.5.0,M10.5.0/3") for instants after the last transition.
 * Version 1 files are read from their 32-bit block; later versions from
 * the 64-bit block that follows it. Nothing here reads the clock or the
 * process's TZ; tz_load() is the only function that opens a file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/mem.h"
#include "core/tz.h"

struct rule_time {              /* one end of the POSIX rule's DST period */
    char kind;                  /* 'M' month.week.day, 'J' Julian 1..365 (no Feb 29), 'D' 0..365 */
    int m, w, d;                /* M: month, week 1..5, weekday 0..6; J/D: day in d */
    long secs;                  /* local time of day of the change (may be < 0 or > 24 h) */
};

struct tz {
    size_t n;                   /* transitions */
    long long *at;              /* instants */
    int *off;                   /* offset from at[i] on */
    int off0;                   /* before the first transition */
    bool has_rule;              /* a footer rule applies after the last transition */
    int std_off, dst_off;       /* east of UTC */
    bool dst;                   /* the rule has a DST period */
    struct rule_time start, end;
};

bool tz_name_ok(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > TZ_NAME_MAX)
        return false;
    bool part_start = true;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (c == '/') {
            if (part_start)
                return false;       /* leading '/', or "//" */
            part_start = true;
            continue;
        }
        if (part_start && (c == '.' || c == '-'))
            return false;           /* "..", ".hidden", "-option" */
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-' || c == '.'))
            return false;
        part_start = false;
    }
    return !part_start;             /* no trailing '/' */
}

/* ---- civil dates (Howard Hinnant's algorithms) ---- */

long long tz_days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

void tz_civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long yy = (long long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static long long floordiv(long long a, long long b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* ---- the POSIX TZ rule of the footer ---- */

static const char *rule_name(const char *p)
{
    if (*p == '<') {
        const char *q = strchr(p, '>');
        return q && q > p + 1 ? q + 1 : NULL;
    }
    const char *q = p;
    while ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z'))
        q++;
    return q - p >= 3 ? q : NULL;
}

/* [+-]hh[:mm[:ss]] (hours up to 167) into seconds. */
static const char *rule_hms(const char *p, long *out)
{
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    long v[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (*p < '0' || *p > '9')
            return i == 0 ? NULL : p - 1;   /* a ':' with no digits after it */
        char *end;
        v[i] = strtol(p, &end, 10);
        if (end - p > 3 || v[i] > (i ? 59 : 167))
            return NULL;
        p = end;
        if (*p != ':' || i == 2)
            break;
        p++;
    }
    *out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
    return p;
}

static const char *rule_date(const char *p, struct rule_time *rt)
{
    char *end;
    rt->secs = 7200;                        /* 02:00 unless said */
    if (*p == 'M') {
        rt->kind = 'M';
        rt->m = (int)strtol(p + 1, &end, 10);
        if (*end != '.' || rt->m < 1 || rt->m > 12)
            return NULL;
        rt->w = (int)strtol(end + 1, &end, 10);
        if (*end != '.' || rt->w < 1 || rt->w > 5)
            return NULL;
        rt->d = (int)strtol(end + 1, &end, 10);
        if (rt->d < 0 || rt->d > 6)
            return NULL;
    } else {
        rt->kind = *p == 'J' ? 'J' : 'D';
        if (*p == 'J')
            p++;
        if (*p < '0' || *p > '9')
            return NULL;
        rt->d = (int)strtol(p, &end, 10);
        if (rt->d > 365 || (rt->kind == 'J' && rt->d < 1))
            return NULL;
    }
    p = end;
    if (*p == '/' && !(p = rule_hms(p + 1, &rt->secs)))
        return NULL;
    return p;
}

static bool parse_rule(struct tz *tz, const char *s)
{
    long std, dst;
    const char *p = rule_name(s);
    if (!p || !(p = rule_hms(p, &std)))
        return false;
    tz->std_off = (int)-std;                /* POSIX counts west of UTC */
    tz->has_rule = true;
    if (!*p)
        return true;
    if (!(p = rule_name(p)))
        return false;
    dst = std - 3600;
    if (*p && *p != ',' && !(p = rule_hms(p, &dst)))
        return false;
    tz->dst_off = (int)-dst;
    if (*p != ',' || !(p = rule_date(p + 1, &tz->start)) || *p != ',' ||
        !(p = rule_date(p + 1, &tz->end)) || *p)
        return false;
    tz->dst = true;
    return true;
}

/* The local seconds since the epoch at which rule time rt falls in year y. */
static long long rule_local(const struct rule_time *rt, long long y)
{
    long long day;
    if (rt->kind == 'M') {
        long long first = tz_days_from_civil(y, (unsigned)rt->m, 1);
        int wd = (int)((first % 7 + 7 + 4) % 7);        /* 1970-01-01 was a Thursday */
        long long d = first + (rt->d - wd + 7) % 7 + 7LL * (rt->w - 1);
        unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        long long last = first + mdays[rt->m - 1] + (rt->m == 2 && leap) - 1;
        while (d > last)
            d -= 7;
        day = d;
    } else if (rt->kind == 'J') {
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        day = tz_days_from_civil(y, 1, 1) + rt->d - 1 + (leap && rt->d >= 60);
    } else {
        day = tz_days_from_civil(y, 1, 1) + rt->d;
    }
    return day * 86400 + rt->secs;
}

static int rule_offset(const struct tz *tz, long long t)
{
    if (!tz->dst)
        return tz->std_off;
    long long y;
    unsigned m, d;
    tz_civil_from_days(floordiv(t + tz->std_off, 86400), &y, &m, &d);
    long long start = rule_local(&tz->start, y) - tz->std_off;  /* said in standard time */
    long long end = rule_local(&tz->end, y) - tz->dst_off;      /* said in DST */
    bool in = start < end ? t >= start && t < end : t < end || t >= start;
    return in ? tz->dst_off : tz->std_off;
}

/* ---- TZif ---- */

static long long be(const unsigned char *p, int bytes)
{
    unsigned long long v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    if (bytes == 4)
        return (long long)(int32_t)(uint32_t)v;
    return (long long)v;
}

struct tzhead {
    unsigned long isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static bool head(const unsigned char *p, size_t len, struct tzhead *h)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return false;
    h->isutcnt = (unsigned long)be(p + 20, 4);
    h->isstdcnt = (unsigned long)be(p + 24, 4);
    h->leapcnt = (unsigned long)be(p + 28, 4);
    h->timecnt = (unsigned long)be(p + 32, 4);
    h->typecnt = (unsigned long)be(p + 36, 4);
    h->charcnt = (unsigned long)be(p + 40, 4);
    return h->typecnt >= 1 && h->typecnt <= 256 && h->timecnt <= 100000 &&
           h->leapcnt <= 100000 && h->charcnt <= 65536 && h->isutcnt <= h->typecnt &&
           h->isstdcnt <= h->typecnt;
}

static size_t block_len(const struct tzhead *h, int tb)
{
    return h->timecnt * (size_t)tb + h->timecnt + h->typecnt * 6 + h->charcnt +
           h->leapcnt * (size_t)(tb + 4) + h->isstdcnt + h->isutcnt;
}

ctx_err tz_parse(const unsigned char *data, size_t len, struct tz **out)
{
    *out = NULL;
    struct tzhead h;
    if (!head(data, len, &h))
        return CTX_EINVAL;
    int tb = 4;
    const unsigned char *p = data + 44, *end = data + len;
    if (data[4] >= '2') {                   /* skip the 32-bit block */
        size_t skip = block_len(&h, 4);
        if ((size_t)(end - p) < skip)
            return CTX_EINVAL;
        p += skip;
        if (!head(p, (size_t)(end - p), &h))
            return CTX_EINVAL;
        p += 44;
        tb = 8;
    }
    if ((size_t)(end - p) < block_len(&h, tb))
        return CTX_EINVAL;
    const unsigned char *times = p, *idx = p + h.timecnt * (size_t)tb,
                        *types = idx + h.timecnt;
    struct tz *tz = ctx_calloc(1, sizeof *tz);
    tz->n = h.timecnt;
    tz->at = ctx_calloc(h.timecnt ? h.timecnt : 1, sizeof *tz->at);
    tz->off = ctx_calloc(h.timecnt ? h.timecnt : 1, sizeof *tz->off);
    for (size_t i = 0; i < h.timecnt; i++) {
        unsigned ti = idx[i];
        if (ti >= h.typecnt || (i && be(times + i * tb, tb) <= tz->at[i - 1])) {
            tz_free(tz);
            return CTX_EINVAL;
        }
        tz->at[i] = be(times + i * tb, tb);
        tz->off[i] = (int)be(types + ti * 6, 4);
    }
    /* before the first transition: the first non-DST type (RFC 8536 3.2), else type 0 */
    tz->off0 = (int)be(types, 4);
    for (unsigned long i = 0; i < h.typecnt; i++)
        if (!types[i * 6 + 4]) {
            tz->off0 = (int)be(types + i * 6, 4);
            break;
        }
    if (tb == 8) {                          /* the footer: "\n<rule>\n" */
        const unsigned char *f = p + block_len(&h, 8);
        if (f < end && *f == '\n') {
            const unsigned char *nl = memchr(f + 1, '\n', (size_t)(end - f - 1));
            if (nl && nl > f + 1 && nl - f < 128) {
                char rule[128];
                memcpy(rule, f + 1, (size_t)(nl - f - 1));
                rule[nl - f - 1] = '\0';
                if (!parse_rule(tz, rule)) {
                    tz->has_rule = tz->dst = false;     /* keep the last transition's */
                }
            }
        }
    }
    *out = tz;
    return CTX_OK;
}

ctx_err tz_load(const char *dir, const char *name, struct tz **out)
{
    *out = NULL;
    if (!tz_name_ok(name))
        return CTX_EINVAL;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : TZ_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return CTX_ENOTFOUND;
    unsigned char buf[1 << 17];             /* the largest zone file is under 4 KB */
    size_t n = fread(buf, 1, sizeof buf, f);
    bool more = !feof(f);
    fclose(f);
    if (more || n == 0)
        return CTX_EINVAL;                  /* a folder, or not a zone file */
    return tz_parse(buf, n, out);
}

void tz_free(struct tz *tz)
{
    if (!tz)
        return;
    free(tz->at);
    free(tz->off);
    free(tz);
}

int tz_offset(const struct tz *tz, long long t)
{
    if (!tz)
        return 0;
    if (tz->n == 0 || t < tz->at[0])
        return tz->n == 0 && tz->has_rule ? rule_offset(tz, t) : tz->off0;
    if (t >= tz->at[tz->n - 1] && tz->has_rule)
        return rule_offset(tz, t);
    size_t lo = 0, hi = tz->n;              /* the last transition at or before t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return tz->off[lo];
}

/* The instant at which local time `local` (s) is first reached. */
static long long local_to_utc(const struct tz *tz, long long local)
{
    long long u = local - tz_offset(tz, local);
    int o = tz_offset(tz, u);
    long long u2 = local - o;
    if (tz_offset(tz, u2) == o)
        return u2;
    /* local falls in a gap (skipped) or the guess crossed a change: try
     * both offsets around it and keep the earliest instant at or after local */
    int a = tz_offset(tz, local - 86400), b = tz_offset(tz, local + 86400);
    long long ua = local - a, ub = local - b;
    bool oka = tz_offset(tz, ua) == a, okb = tz_offset(tz, ub) == b;
    if (oka && okb)
        return ua < ub ? ua : ub;
    if (oka)
        return ua;
    if (okb)
        return ub;
    /* a gap: the change itself is the first instant of what follows */
    return ua < ub ? ub : ua;
}

long long tz_day_start(const struct tz *tz, long long t)
{
    long long local = t + tz_offset(tz, t);
    long long start = floordiv(local, 86400) * 86400;
    long long u = local_to_utc(tz, start);
    return u > t ? local_to_utc(tz, start - 86400) : u;
}

long long tz_day_next(const struct tz *tz, long long t)
{
    long long local = t + tz_offset(tz, t);
    long long u = local_to_utc(tz, floordiv(local, 86400) * 86400 + 86400);
    return u <= t ? local_to_utc(tz, floordiv(local, 86400) * 86400 + 2 * 86400) : u;
}

void tz_format(const struct tz *tz, long long t, char out[CTX_TIME_LEN])
{
    int off = tz_offset(tz, t);
    long long local = t + off, days = floordiv(local, 86400), secs = local - days * 86400;
    long long y;
    unsigned m, d;
    tz_civil_from_days(days, &y, &m, &d);
    if (y < 0)
        y = 0;
    if (y > 9999)
        y = 9999;
    int n = snprintf(out, CTX_TIME_LEN, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", y, m, d,
                     secs / 3600, secs / 60 % 60, secs % 60);
    if (!tz) {
        snprintf(out + n, (size_t)(CTX_TIME_LEN - n), "Z");
        return;
    }
    int a = off < 0 ? -off : off;
    snprintf(out + n, (size_t)(CTX_TIME_LEN - n), "%c%02d:%02d", off < 0 ? '-' : '+',
             a / 3600, a / 60 % 60);
}
