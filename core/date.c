/* date.c -- dates as feeds write them, to seconds since the epoch (UTC),
 * and the one way we write them (RFC 3339 UTC, ctx_time_format).
 *
 * Two parsers, tried in order:
 *  - ISO 8601 / RFC 3339 / W3C-DTF: "2003-12-31T10:14:55.12Z", "2003-12-31",
 *    "2003-12", "2003", "20031231T101455Z", "2004-02-28 18:14:55 -0800";
 *  - RFC 822 and everything feeds do to it: the date is split into words
 *    and each word is recognised by its shape (a month name, a weekday, a
 *    time with colons, a number, a zone), so "Thu, 01 Jan 2004 19:48:21 GMT",
 *    "01 jan 04 19:48 EST", "Thu 1 January 2004 19:48:21+01:00" and asctime's
 *    "Thu Jan  1 19:48:21 2004" all work, and so do what Russian sites
 *    write: "Пн, 23 ноя 2026 12:00:00 +0300", "23 ноября 2026 г.",
 *    "23.11.2026 12:00". Comments in parentheses are skipped. Unknown words
 *    make it fail rather than guess.
 * Arithmetic is our own (days_from_civil), so neither TZ nor the C
 * library's time zone handling is involved. No state, no locale. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <time.h>
#include "core/ctx.h"
#include "core/date.h"

static long long days_from_civil(long long y, int m, int d)
{
    /* Count days in 400-year eras starting on March 1st, so that the leap
     * day is the last day of the (shifted) year. */
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;                           /* [0, 399] */
    long long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;   /* [0, 146096] */
    return era * 146097 + doe - 719468;                      /* 1970-01-01 = 0 */
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

struct when {
    int y, mo, d, h, mi, s;
    int off;           /* seconds east of UTC */
};

static int finish(const struct when *w, long long *out)
{
    if (w->y < 1 || w->y > 9999 || w->mo < 1 || w->mo > 12 || w->d < 1
        || w->d > days_in_month(w->y, w->mo) || w->h < 0 || w->mi < 0 || w->mi > 59
        || w->s < 0 || w->s > 60 || w->h > 24 || (w->h == 24 && (w->mi || w->s)))
        return -1;
    *out = days_from_civil(w->y, w->mo, w->d) * 86400LL + w->h * 3600LL
         + w->mi * 60LL + w->s - w->off;
    return 0;
}

static bool dig(char c)
{
    return c >= '0' && c <= '9';
}

static bool alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* n digits at *p into *v; advances. */
static bool digits(const char **p, const char *e, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (*p + i >= e || !dig((*p)[i]))
            return false;
        x = x * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return true;
}

/* ---- zones -------------------------------------------------------------- */

/* "+hh", "+hhmm", "+hh:mm", "+hmm", "+h:mm" at p..e (the whole token). */
static bool numeric_zone(const char *p, const char *e, int *off)
{
    int h = 0, m = 0;
    char d[4];
    size_t nd = 0;
    const char *colon = NULL;
    if (e - p < 2 || (*p != '+' && *p != '-'))
        return false;
    for (const char *q = p + 1; q < e; q++) {
        if (*q == ':' && !colon && nd >= 1 && nd <= 2)
            colon = q;
        else if (dig(*q) && nd < 4)
            d[nd++] = (char)(*q - '0');
        else
            return false;
    }
    if (colon) {
        size_t hd = (size_t)(colon - p - 1);
        if (nd - hd != 2)
            return false;
        h = hd == 2 ? d[0] * 10 + d[1] : d[0];
        m = d[hd] * 10 + d[hd + 1];
    } else if (nd == 2) {
        h = d[0] * 10 + d[1];
    } else if (nd == 3) {
        h = d[0];
        m = d[1] * 10 + d[2];
    } else if (nd == 4) {
        h = d[0] * 10 + d[1];
        m = d[2] * 10 + d[3];
    } else {
        return false;
    }
    if (h > 23 || m > 59)
        return false;
    *off = (*p == '-' ? -1 : 1) * (h * 3600 + m * 60);
    return true;
}

static const struct { const char *name; int min; } zones[] = {
    {"ut", 0}, {"utc", 0}, {"gmt", 0}, {"z", 0}, {"wet", 0},
    {"est", -300}, {"edt", -240}, {"cst", -360}, {"cdt", -300},
    {"mst", -420}, {"mdt", -360}, {"pst", -480}, {"pdt", -420},
    {"et", -300}, {"ct", -360}, {"mt", -420}, {"pt", -480},
    {"ast", -240}, {"adt", -180}, {"nst", -210}, {"ndt", -150},
    {"akst", -540}, {"akdt", -480}, {"hst", -600},
    {"bst", 60}, {"ist", 330}, {"west", 60}, {"cet", 60}, {"cest", 120},
    {"met", 60}, {"mest", 120}, {"eet", 120}, {"eest", 180}, {"msk", 180},
    {"msd", 240}, {"jst", 540}, {"kst", 540}, {"hkt", 480}, {"sgt", 480},
    {"awst", 480}, {"acst", 570}, {"aest", 600}, {"aedt", 660},
    {"nzst", 720}, {"nzdt", 780},
};

/* A named zone (the whole token p..e). Single letters are RFC 822's
 * military zones as RFC 822 wrote them (A = -1 ... M = -12, N = +1 ...
 * Y = +12, Z = 0); RFC 1123 notes the signs are doubtful, but this is what
 * feed readers, feedparser included, have always done. */
static bool named_zone(const char *p, const char *e, int *off)
{
    size_t n = (size_t)(e - p);
    char lc[8];
    if (n == 0 || n >= sizeof lc)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!alpha(p[i]))
            return false;
        lc[i] = (char)(p[i] | 0x20);
    }
    lc[n] = '\0';
    if (n == 1 && lc[0] != 'j') {
        char c = lc[0];
        int h = c == 'z' ? 0 : c <= 'i' ? -(c - 'a' + 1) : c <= 'm' ? -(c - 'a') : (c - 'n' + 1);
        *off = h * 3600;
        return true;
    }
    for (size_t i = 0; i < CTX_ARRAY_LEN(zones); i++)
        if (!strcmp(lc, zones[i].name)) {
            *off = zones[i].min * 60;
            return true;
        }
    return false;
}

/* A zone, possibly "GMT+01:00" / "UTC-5": named part then numeric part. */
static bool zone(const char *p, const char *e, int *off)
{
    const char *q = p;
    int base = 0, num = 0;
    while (q < e && alpha(*q))
        q++;
    if (q == e)
        return named_zone(p, e, off);
    if (q > p && !named_zone(p, q, &base))
        return false;
    if (q > p && base != 0)
        return false;            /* "EST+05" makes no sense */
    if (!numeric_zone(q, e, &num)) {
        /* "+5", "-10" after GMT */
        const char *r = q + 1;
        int h;
        if (q == p || e - r < 1 || e - r > 2 || (*q != '+' && *q != '-')
            || !digits(&r, e, (int)(e - r), &h) || h > 14)
            return false;
        num = (*q == '-' ? -1 : 1) * h * 3600;
    }
    *off = num;
    return true;
}

/* ---- ISO 8601 ----------------------------------------------------------- */

/* hh[:mm[:ss[.frac]]] or hhmm[ss[.frac]]; advances *pp. */
static bool iso_time(const char **pp, const char *e, struct when *w)
{
    const char *p = *pp;
    if (!digits(&p, e, 2, &w->h))
        return false;
    bool colon = p < e && *p == ':';
    if (colon)
        p++;
    if (p < e && dig(*p)) {
        if (!digits(&p, e, 2, &w->mi))
            return false;
        if (p < e && (colon ? *p == ':' : dig(*p))) {
            if (colon)
                p++;
            if (!digits(&p, e, 2, &w->s))
                return false;
            if (p < e && (*p == '.' || *p == ',')) {
                p++;
                if (p >= e || !dig(*p))
                    return false;
                while (p < e && dig(*p))
                    p++;
            }
        }
    } else if (colon) {
        return false;
    }
    *pp = p;
    return true;
}

static int parse_iso(const char *p, const char *e, long long *out)
{
    struct when w = {.mo = 1, .d = 1};
    if (!digits(&p, e, 4, &w.y))
        return -1;
    if (p < e && *p == '-') {
        p++;
        const char *q = p;
        while (q < e && dig(*q) && q - p < 3)
            q++;
        if (q - p < 1 || q - p > 2 || !digits(&p, e, (int)(q - p), &w.mo))
            return -1;
        if (p < e && *p == '-') {
            p++;
            q = p;
            while (q < e && dig(*q) && q - p < 3)
                q++;
            if (q - p < 1 || q - p > 2 || !digits(&p, e, (int)(q - p), &w.d))
                return -1;
        }
    } else if (p < e && dig(*p)) {
        if (!digits(&p, e, 2, &w.mo) || !digits(&p, e, 2, &w.d))
            return -1;
    }
    if (p < e && (*p == 'T' || *p == 't' || *p == ' ')) {
        const char *q = p + 1;
        while (q < e && *q == ' ')
            q++;
        if (q < e && dig(*q)) {
            if (!iso_time(&q, e, &w))
                return -1;
            p = q;
        } else if (*p != ' ') {
            return -1;
        }
    }
    while (p < e && *p == ' ')
        p++;
    if (p < e) {
        const char *z = p;
        while (z < e && !space(*z))
            z++;
        if (!zone(p, z, &w.off))
            return -1;
        p = z;
        while (p < e && space(*p))
            p++;
        if (p < e)
            return -1;
    }
    return finish(&w, out);
}

/* ---- RFC 822 and friends ------------------------------------------------ */

static const char *const months[12] = {
    "january", "february", "march", "april", "may", "june", "july",
    "august", "september", "october", "november", "december",
};
static const char *const weekdays[7] = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
};

/* Whether p..e (letters) is a prefix of word of at least 3 letters. */
static bool abbrev_of(const char *p, const char *e, const char *word)
{
    size_t n = (size_t)(e - p);
    if (n < 3 || n > strlen(word))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((p[i] | 0x20) != word[i])
            return false;
    return true;
}

static int month_of(const char *p, const char *e)
{
    for (int i = 0; i < 12; i++)
        if (abbrev_of(p, e, months[i]))
            return i + 1;
    return 0;
}

/* Russian dates ("23 ноября 2026", "Пн, 23 ноя 2026 12:00:00 +0300"):
 * month stems, weekday stems, lower-case Cyrillic as UTF-8 bytes. */
static const char *const ru_months[] = {
    "янв", "фев", "мар", "апр", "ма", "июн", "июл", "авг", "сен", "окт", "ноя", "дек",
};
static const char *const ru_weekdays[] = {
    "пн", "вт", "ср", "чт", "пт", "сб", "вс", "пон", "вто", "сре", "чет", "пят", "суб", "вос",
};

/* A word of Cyrillic letters lower-cased into out (UTF-8); false when it
 * holds anything else or is too long. */
static bool ru_lower(const char *p, const char *e, char *out, size_t cap)
{
    size_t n = 0;
    while (p < e) {
        unsigned char a = (unsigned char)p[0], b = p + 1 < e ? (unsigned char)p[1] : 0;
        if (n + 3 > cap || (a != 0xD0 && a != 0xD1) || (b & 0xC0) != 0x80)
            return false;
        unsigned cp = ((a & 0x1Fu) << 6) | (b & 0x3Fu);
        if (cp >= 0x410 && cp <= 0x42F)
            cp += 0x20;                  /* А-Я -> а-я */
        else if (cp == 0x401)
            cp = 0x451;                  /* Ё -> ё */
        if (cp < 0x430 || cp > 0x45F)
            return false;
        out[n++] = (char)(0xC0 | (cp >> 6));
        out[n++] = (char)(0x80 | (cp & 0x3F));
        p += 2;
    }
    out[n] = '\0';
    return n > 0;
}

static bool ru_starts(const char *w, const char *stem)
{
    return !strncmp(w, stem, strlen(stem));
}

struct rfc {
    struct when w;
    bool have_day, have_year, have_time, have_zone;
    int year_digits;
    int ampm;          /* 0 none, 1 am, 2 pm */
};

/* hh:mm[:ss[.frac]] with an optional zone glued on ("19:48:21Z"). */
static bool rfc_time(struct rfc *r, const char *p, const char *e)
{
    const char *q = p;
    int hl = (q + 1 < e && dig(q[1])) ? 2 : 1;
    if (r->have_time || !digits(&q, e, hl, &r->w.h) || q >= e || *q != ':')
        return false;
    q++;
    if (!digits(&q, e, 2, &r->w.mi))
        return false;
    if (q < e && *q == ':') {
        q++;
        if (!digits(&q, e, 2, &r->w.s))
            return false;
        if (q < e && (*q == '.' || *q == ',')) {
            q++;
            while (q < e && dig(*q))
                q++;
        }
    }
    r->have_time = true;
    if (q < e) {
        if (!zone(q, e, &r->w.off))
            return false;
        r->have_zone = true;
    }
    return true;
}

static bool rfc_word(struct rfc *r, const char *p, const char *e)
{
    size_t n = (size_t)(e - p);
    if (memchr(p, ':', n) && dig(*p))
        return rfc_time(r, p, e);
    /* "23.11.2026", "23.11.26": the European numeric date */
    if (dig(*p) && memchr(p, '.', n)) {
        const char *q = p;
        int d, m, y, yl;
        if (r->have_day || r->w.mo || r->have_year)
            return false;
        if (!digits(&q, e, (q + 1 < e && dig(q[1])) ? 2 : 1, &d) || q >= e || *q++ != '.'
            || !digits(&q, e, (q + 1 < e && dig(q[1])) ? 2 : 1, &m) || q >= e || *q++ != '.')
            return false;
        yl = (int)(e - q);
        if ((yl != 2 && yl != 4) || !digits(&q, e, yl, &y) || m < 1 || m > 12)
            return false;
        r->w.d = d;
        r->w.mo = m;
        r->w.y = y;
        r->year_digits = yl;
        r->have_day = r->have_year = true;
        return true;
    }
    if ((unsigned char)*p >= 0x80) {
        char w[64];
        if (n > 1 && e[-1] == '.')
            n--, e--;
        if (!ru_lower(p, e, w, sizeof w))
            return false;
        for (int i = 0; i < 12; i++)
            if (ru_starts(w, ru_months[i]) && !r->w.mo) {
                r->w.mo = i + 1;
                return true;
            }
        for (size_t i = 0; i < CTX_ARRAY_LEN(ru_weekdays); i++)
            if (ru_starts(w, ru_weekdays[i]))
                return true;
        return !strcmp(w, "г") && r->have_year;   /* "2026 г." */
    }
    if ((*p == '+' || *p == '-') && n > 1 && dig(p[1])) {
        if (!r->have_time || !numeric_zone(p, e, &r->w.off))
            return false;
        r->have_zone = true;
        return true;
    }
    if (dig(*p)) {
        const char *q = p;
        while (q < e && dig(*q))
            q++;
        /* ordinals: "1st", "22nd" */
        if (q < e) {
            if (e - q == 2 && (!strncasecmp(q, "st", 2) || !strncasecmp(q, "nd", 2)
                               || !strncasecmp(q, "rd", 2) || !strncasecmp(q, "th", 2))
                && !r->have_day && q - p <= 2 && digits(&p, q, (int)(q - p), &r->w.d)) {
                r->have_day = true;
                return true;
            }
            return false;
        }
        int v;
        if (n > 4 || !digits(&p, e, (int)n, &v))
            return false;
        if (n >= 3 && !r->have_year) {
            r->w.y = v;
            r->year_digits = (int)n;
            r->have_year = true;
        } else if (!r->have_day && n <= 2) {
            r->w.d = v;
            r->have_day = true;
        } else if (!r->have_year && n <= 2) {
            r->w.y = v;
            r->year_digits = (int)n;
            r->have_year = true;
        } else {
            return false;
        }
        return true;
    }
    if (alpha(*p)) {
        int m;
        if (n > 1 && e[-1] == '.')   /* "Sept.", "Thu." */
            n--, e--;
        const char *q = p;
        while (q < e && alpha(*q))
            q++;
        if (q < e) {                 /* "GMT+0100" */
            if (r->have_zone || !zone(p, e, &r->w.off))
                return false;
            r->have_zone = true;
            return true;
        }
        if (!r->w.mo && (m = month_of(p, e))) {
            r->w.mo = m;
            return true;
        }
        for (int i = 0; i < 7; i++)
            if (abbrev_of(p, e, weekdays[i]) || (n == 4 && abbrev_of(p, p + 3, weekdays[i])
                                                 && (p[3] | 0x20) == 's'))
                return true;     /* "Thu", "Thursday", "Tues" */
        if (n == 2 && ((p[0] | 0x20) == 'a' || (p[0] | 0x20) == 'p') && (p[1] | 0x20) == 'm') {
            r->ampm = (p[0] | 0x20) == 'a' ? 1 : 2;
            return true;
        }
        if (!r->have_zone && named_zone(p, e, &r->w.off)) {
            r->have_zone = true;
            return true;
        }
        return false;
    }
    return false;
}

static int parse_rfc822(const char *p, const char *e, long long *out)
{
    struct rfc r = {0};
    /* a weekday in another language ("Пн,", "Mo.") before the day: skip */
    const char *w = p;
    while (w < e && ((unsigned char)*w >= 0x80 || alpha(*w)))
        w++;
    if (w > p && w < e && (*w == ',' || *w == '.') && ((unsigned char)*p >= 0x80 || w - p <= 2))
        p = w + 1;
    while (p < e) {
        while (p < e && (space(*p) || *p == ','))
            p++;
        if (p >= e)
            break;
        /* RFC 822 comments: "+0300 (MSK)" */
        if (*p == '(') {
            int depth = 0;
            while (p < e) {
                depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
                p++;
                if (!depth)
                    break;
            }
            if (depth)
                return -1;
            continue;
        }
        const char *q = p;
        while (q < e && !space(*q) && *q != ',' && *q != '(')
            q++;
        /* "26-Jan-2004" / "26/Jan/2004": split on the separators, but not
         * a leading sign ("-0500") */
        const char *s = p;
        bool split = dig(*p) && !memchr(p, ':', (size_t)(q - p));
        for (const char *t = p + 1; split && t < q; t++)
            if (*t == '-' || *t == '/') {
                if (!rfc_word(&r, s, t))
                    return -1;
                s = t + 1;
            }
        if (s < q && !rfc_word(&r, s, q))
            return -1;
        if (s == q)
            return -1;
        p = q;
    }
    if (!r.have_day || !r.w.mo || !r.have_year)
        return -1;
    if (r.year_digits == 2)
        r.w.y += r.w.y < 50 ? 2000 : 1900;
    else if (r.year_digits == 3)
        r.w.y += 1900;
    if (r.ampm) {
        if (r.w.h < 1 || r.w.h > 12)
            return -1;
        if (r.ampm == 1 && r.w.h == 12)
            r.w.h = 0;
        else if (r.ampm == 2 && r.w.h != 12)
            r.w.h += 12;
    }
    return finish(&r.w, out);
}

int ctx_date_parse(const char *s, long long *out)
{
    if (!s)
        return -1;
    const char *p = s, *e = s + strlen(s);
    while (p < e && space(*p))
        p++;
    while (e > p && space(e[-1]))
        e--;
    if (e - p < 4 || e - p > 100)
        return -1;
    if (dig(p[0]) && dig(p[1]) && dig(p[2]) && dig(p[3]) && parse_iso(p, e, out) == 0)
        return 0;
    return parse_rfc822(p, e, out);
}

void ctx_time_format(long long t, char out[CTX_TIME_LEN])
{
    /* RFC 3339 has four-digit years: clamp to 0000-01-01 .. 9999-12-31 */
    if (t < -62167219200LL)
        t = -62167219200LL;
    if (t > 253402300799LL)
        t = 253402300799LL;
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    /* the modulos only tell the compiler the widths; the values are in range */
    snprintf(out, CTX_TIME_LEN, "%04u-%02u-%02uT%02u:%02u:%02uZ",
             (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
             (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
             (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
}
