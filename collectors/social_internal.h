/* social_internal.h -- what the JSON-API source kinds share (mastodon.c,
 * reddit.c, bluesky.c, hn.c, vk.c, discourse.c, telegram.c).
 *
 * Those kinds all read JSON over HTTPS, build URLs with query strings, keep a
 * small paging state as the source's cursor and normalise dates, so the
 * helpers live here once. They are static inline: a kind uses what it needs
 * and nothing else lands in the library. Everything is pure: no I/O, no clock.
 *
 * Conventions:
 *  - sj_*: reading jansson values leniently (an id may be a number or a
 *    string; a missing or mistyped member reads as absent, never as an error);
 *  - su_*: URLs (percent-encoding, query parameters, base URL, host);
 *  - sc_*: cursor strings that carry more than one value, written like a
 *    query string ("since=1700000000&page=25"), values percent-encoded;
 *  - si_*: filling items;
 *  - so_*: reply outcomes. */
#ifndef CTX_SOCIAL_INTERNAL_H
#define CTX_SOCIAL_INTERNAL_H

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "collectors/collectors.h"
#include "collectors/collectors_internal.h"

/* The kinds (each defined in its own file, listed in sources.c). */
extern const struct source_ops mastodon_source_ops;
extern const struct source_ops reddit_source_ops;
extern const struct source_ops bluesky_source_ops;
extern const struct source_ops hn_source_ops;
extern const struct source_ops vk_source_ops;
extern const struct source_ops discourse_source_ops;
extern const struct source_ops telegram_source_ops;

#define SOCIAL_MAX_ITEMS 1000   /* entries read from one response (pages are 25-200);
                                   also bounds the lookups in side tables */
#define SOCIAL_MAX_TIME  253402300799LL  /* 9999-12-31T23:59:59Z */

/* ---- reading JSON --------------------------------------------------------- */

/* Parse a response body. Invalid UTF-8 and NUL bytes are replaced first (the
 * result is then bozo), so one bad byte never loses a whole page. On failure
 * returns NULL with r->error set ("<kind>: not JSON: ..."). */
static inline json_t *sj_load(const char *kind, const struct http_response *resp,
                              struct parse_result *r)
{
    if (!resp->body || resp->len == 0) {
        snprintf(r->error, sizeof r->error, "%s: empty response body", kind);
        return NULL;
    }
    struct buf clean = {0};
    bool bad = false;
    ctx_utf8_sanitize(resp->body, resp->len, &clean, &bad);
    json_error_t je;
    json_t *root = json_loadb(buf_str(&clean), buf_len(&clean), JSON_ALLOW_NUL, &je);
    buf_free(&clean);
    if (!root) {
        snprintf(r->error, sizeof r->error, "%s: not JSON: line %d, column %d: %s", kind,
                 je.line, je.column, je.text);
        return NULL;
    }
    if (bad) {
        r->bozo = true;
        snprintf(r->error, sizeof r->error, "%s: invalid UTF-8 replaced", kind);
    }
    return root;
}

/* A member's string value, NULL when absent or not a string. */
static inline const char *sj_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* A non-empty string member, else NULL. */
static inline const char *sj_nstr(const json_t *o, const char *key)
{
    const char *s = sj_str(o, key);
    return s && *s ? s : NULL;
}

/* A member that is a number (integer or real) or a numeric string, as a
 * double. false when absent, not numeric or not finite. */
static inline bool sj_num(const json_t *o, const char *key, double *out)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_integer(v)) {
        *out = (double)json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        *out = json_real_value(v);
        return isfinite(*out);
    }
    const char *s = json_string_value(v);
    if (s && *s) {
        char *end;
        double d = strtod(s, &end);
        if (*end == '\0' && isfinite(d)) {
            *out = d;
            return true;
        }
    }
    return false;
}

/* A member that is an integer (or an integral real or decimal string) within
 * long long. false otherwise. */
static inline bool sj_int(const json_t *o, const char *key, long long *out)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    double d;
    if (!sj_num(o, key, &d) || d != floor(d) || d < -9.2e18 || d > 9.2e18)
        return false;
    *out = (long long)d;
    return true;
}

/* An identifier member, string or integer, written into buf (NUL-terminated).
 * NULL when absent, empty, not a string/integer, too long, or holding bytes
 * that have no place in an id (controls, spaces). */
static inline const char *sj_id(const json_t *o, const char *key, char *buf, size_t len)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_integer(v)) {
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) >= len)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return NULL;
    memcpy(buf, s, strlen(s) + 1);
    return buf;
}

/* Compare two decimal (or equal-length sortable) id strings: by length, then
 * bytes. Mastodon ids, Discourse ids and Telegram update ids sort this way. */
static inline int sj_idcmp(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(a, b);
}

/* ---- URLs ------------------------------------------------------------------ */

/* Append s percent-encoded (everything but RFC 3986 unreserved characters). */
static inline ctx_err su_escape(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        ctx_err e;
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            e = buf_putc(b, (char)*p);
        } else {
            char t[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            e = buf_append(b, t, 3);
        }
        if (e)
            return e;
    }
    return CTX_OK;
}

/* Append "?k=v" or "&k=v" (v percent-encoded), whichever fits the URL in b. */
static inline ctx_err su_param(struct buf *b, const char *k, const char *v)
{
    ctx_err e = buf_putc(b, strchr(buf_str(b), '?') ? '&' : '?');
    if (!e)
        e = buf_puts(b, k);
    if (!e)
        e = buf_putc(b, '=');
    return e ? e : su_escape(b, v);
}

static inline ctx_err su_paramf(struct buf *b, const char *k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline ctx_err su_paramf(struct buf *b, const char *k, const char *fmt, ...)
{
    char v[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof v)
        return CTX_EINVAL;
    return su_param(b, k, v);
}

/* Append "k=v" to a form body, with '&' before it when not the first. */
static inline ctx_err su_form(struct buf *b, const char *k, const char *v)
{
    ctx_err e = buf_len(b) ? buf_putc(b, '&') : CTX_OK;
    if (!e)
        e = buf_puts(b, k);
    if (!e)
        e = buf_putc(b, '=');
    return e ? e : su_escape(b, v);
}

/* Whether s is an absolute http(s) URL with a host. */
static inline bool su_is_http(const char *s)
{
    const char *p = NULL;
    if (strncasecmp(s, "https://", 8) == 0)
        p = s + 8;
    else if (strncasecmp(s, "http://", 7) == 0)
        p = s + 7;
    return p && *p && *p != '/' && *p != '?' && *p != '#';
}

/* The base URL of the API: the source's url when set, else def; without
 * trailing slashes. */
static inline ctx_err su_base(const struct config_source *src, const char *def, struct buf *b)
{
    const char *u = src->url && *src->url ? src->url : def;
    size_t n = strlen(u);
    while (n > 0 && u[n - 1] == '/')
        n--;
    return buf_append(b, u, n);
}

/* The host name (lower-case, without port or user info) of an http(s) URL
 * into out. false when url is not http(s) or the host does not fit. */
static inline bool su_host(const char *url, char *out, size_t len)
{
    return url && su_is_http(url) && url_host(url, false, out, len);
}

/* The instance host naming a source's items: the host of the configured url,
 * else of the URL the response came from, else "unknown" (ctxctl parse on a
 * local file). */
static inline void su_source_host(const struct config_source *src,
                                  const struct http_response *resp, char *out, size_t len)
{
    if (!su_host(src->url, out, len) && !su_host(resp->url, out, len))
        snprintf(out, len, "unknown");
}

/* ---- cursors: "k=v&k=v" ------------------------------------------------------ */

/* The decoded value of key in cursor into out; false when absent or too long. */
static inline bool sc_get(const char *cursor, const char *key, char *out, size_t len)
{
    if (!cursor)
        return false;
    size_t kl = strlen(key);
    for (const char *p = cursor; p && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, kl) != 0 || p[kl] != '=')
            continue;
        const char *v = p + kl + 1;
        size_t o = 0;
        for (; *v && *v != '&'; v++) {
            int c = (unsigned char)*v;
            if (c == '%' && isxdigit((unsigned char)v[1]) && isxdigit((unsigned char)v[2])) {
                char h[3] = {v[1], v[2], 0};
                c = (int)strtol(h, NULL, 16);
                v += 2;
            }
            if (o + 1 >= len || c == 0)
                return false;
            out[o++] = (char)c;
        }
        out[o] = '\0';
        return true;
    }
    return false;
}

/* A key of the cursor holding a whole number (epoch seconds, an id). */
static inline bool sc_get_ll(const char *cursor, const char *key, long long *out)
{
    char v[32];
    if (!sc_get(cursor, key, v, sizeof v) || !*v)
        return false;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (*end)
        return false;
    *out = n;
    return true;
}

/* Append "k=v" to a cursor being built (with '&' when not the first). */
static inline ctx_err sc_put(struct buf *b, const char *key, const char *val)
{
    return su_form(b, key, val);
}

static inline ctx_err sc_put_ll(struct buf *b, const char *key, long long v)
{
    char s[32];
    snprintf(s, sizeof s, "%lld", v);
    return su_form(b, key, s);
}

/* Hand a built cursor to the result. */
static inline ctx_err sc_finish(struct buf *b, struct parse_result *r)
{
    free(r->cursor);
    r->cursor = buf_detach(b);
    return CTX_OK;
}

/* The cursor of a kind that reads new posts as a time window: while older
 * pages of the window are still to read (more), "since=<since>&top=<top>&
 * <page_key>=<page>" continues it; once it is read, "since=<top>" opens the
 * next one. top < 0 = nothing seen yet: no cursor. */
static inline ctx_err sc_window(struct parse_result *r, bool more, long long since,
                                long long top, const char *page_key, const char *page)
{
    struct buf c = {0};
    ctx_err e = CTX_OK;
    if (more) {
        e = sc_put_ll(&c, "since", since);
        if (!e)
            e = sc_put_ll(&c, "top", top);
        if (!e)
            e = sc_put(&c, page_key, page);
    } else if (top >= 0) {
        e = sc_put_ll(&c, "since", top);
    }
    if (!e && buf_len(&c))
        e = sc_finish(&c, r);
    buf_free(&c);
    return e;
}

/* ---- items -------------------------------------------------------------------- */

/* Epoch seconds within years 1970-9999 from a date string (ISO 8601, RFC
 * 3339, RFC 822) or a number; false when neither. */
static inline bool si_epoch_ok(double t)
{
    return isfinite(t) && t >= 0 && t <= (double)SOCIAL_MAX_TIME;
}

static inline bool si_date(const char *s, long long *out)
{
    long long t;
    if (!s || ctx_date_parse(s, &t) != 0 || !si_epoch_ok((double)t))
        return false;
    *out = t;
    return true;
}

/* it->published from epoch seconds, or the fetch time when t is unusable. */
static inline ctx_err si_published_epoch(struct item *it, double t, const char *fetched)
{
    if (!si_epoch_ok(t))
        return item_set(&it->published, fetched);
    char s[CTX_TIME_LEN];
    ctx_time_format((long long)t, s);
    return item_set(&it->published, s);
}

/* it->published from a date string, or the fetch time. */
static inline ctx_err si_published_str(struct item *it, const char *date, const char *fetched)
{
    long long t;
    if (!si_date(date, &t))
        return item_set(&it->published, fetched);
    return si_published_epoch(it, (double)t, fetched);
}

/* Set *field to HTML turned into plain text (NULL when it comes out empty). */
static inline ctx_err si_html(char **field, const char *html)
{
    if (!html)
        return item_set(field, NULL);
    char *t = html_to_text(html, strlen(html));
    ctx_err e = item_set(field, *t ? t : NULL);
    free(t);
    return e;
}

/* Set *field to plain text as the network gave it: line breaks kept, "\r\n"
 * made "\n", other control characters dropped, trimmed; NULL when empty. */
static inline ctx_err si_plain(char **field, const char *s)
{
    if (!s)
        return item_set(field, NULL);
    struct buf b = {0};
    ctx_err e = CTX_OK;
    for (const char *p = s; *p && !e; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\r')
            continue;
        if (c < ' ' && c != '\n' && c != '\t')
            continue;
        e = buf_putc(&b, (char)c);
    }
    const char *t = buf_str(&b);
    size_t n = buf_len(&b), i = 0;
    while (i < n && isspace((unsigned char)t[i]))
        i++;
    while (n > i && isspace((unsigned char)t[n - 1]))
        n--;
    if (!e && n > i) {
        free(*field);
        *field = ctx_strndup(t + i, n - i);
    } else if (!e) {
        e = item_set(field, NULL);
    }
    buf_free(&b);
    return e;
}

/* Set *field to printf output. */
static inline ctx_err si_setf(char **field, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline ctx_err si_setf(char **field, const char *fmt, ...)
{
    struct buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    ctx_err e = buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (e) {
        buf_free(&b);
        return e;
    }
    free(*field);
    *field = buf_detach(&b);
    return CTX_OK;
}

/* A follower count as the network gives it: negative means unknown. */
static inline void si_followers(struct item *it, long long n)
{
    if (n >= 0)
        it->author.followers = n > LONG_MAX ? LONG_MAX : (long)n;
}

/* Whether an item with this id is already in the result (reblogs, repeated
 * updates): pages are small, a scan is enough. */
static inline bool si_seen(const struct parse_result *r, const char *id)
{
    for (size_t i = 0; i < r->nitems; i++)
        if (strcmp(r->items[i].id, id) == 0)
            return true;
    return false;
}

/* Fill the fields every item has, then hand the item to the result. The item
 * is cleared either way. */
static inline ctx_err si_take(struct parse_result *r, struct item *it,
                              const struct config_source *src, const char *kind,
                              const char *fetched)
{
    item_set(&it->source, src->name);
    item_set(&it->kind, kind);
    item_set(&it->fetched, fetched);
    if (!it->published)
        item_set(&it->published, fetched);
    parse_result_take(r, it);
    item_clear(it);
    return CTX_OK;
}

/* Note something skipped on the way (bozo, first reason kept). */
static inline void si_skip(struct parse_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void si_skip(struct parse_result *r, const char *fmt, ...)
{
    if (r->bozo && r->error[0])
        return;
    r->bozo = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
}

/* ---- requests ------------------------------------------------------------------ */

/* Hand a built URL to the request. */
static inline ctx_err sq_url(struct source_request *q, struct buf *url)
{
    free(q->url);
    q->url = buf_detach(url);
    return CTX_OK;
}

/* A JSON request body (json is consumed). CTX_EINVAL when json is NULL: the
 * json_pack() that built it was given a string that is not UTF-8. */
static inline ctx_err sq_json_body(struct source_request *q, json_t *json)
{
    if (!json)
        return CTX_EINVAL;
    char *s = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    if (!s)
        ctx_oom(0);     /* an object always dumps: only memory can fail it */
    buf_reset(&q->body);
    ctx_err e = buf_puts(&q->body, s);
    free(s);
    if (!e)
        e = source_request_header(q, "Content-Type: application/json");
    return e;
}

/* ---- validation ------------------------------------------------------------------ */

enum {
    SV_URL = 1 << 0, SV_QUERY = 1 << 1, SV_TAG = 1 << 2, SV_SUBREDDIT = 1 << 3,
    SV_MODE = 1 << 4, SV_TOKEN = 1 << 5, SV_API_VERSION = 1 << 6,
};

/* Reject the kind-specific keys a kind has no use for, and a url that is not
 * http(s). Returns CTX_ECONFIG with "key: problem" in err. */
static inline ctx_err sv_keys(const struct config_source *src, const char *kind, unsigned allowed,
                              char *err, size_t errlen)
{
    static const struct { unsigned bit; const char *key; size_t off; } keys[] = {
        {SV_URL, "url", offsetof(struct config_source, url)},
        {SV_QUERY, "query", offsetof(struct config_source, query)},
        {SV_TAG, "tag", offsetof(struct config_source, tag)},
        {SV_SUBREDDIT, "subreddit", offsetof(struct config_source, subreddit)},
        {SV_MODE, "mode", offsetof(struct config_source, mode)},
        {SV_TOKEN, "token", offsetof(struct config_source, token)},
        {SV_API_VERSION, "api_version", offsetof(struct config_source, api_version)},
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(keys); i++) {
        const char *v = *(char *const *)((const char *)src + keys[i].off);
        if (v && !(allowed & keys[i].bit)) {
            snprintf(err, errlen, "%s: not used by kind %s", keys[i].key, kind);
            return CTX_ECONFIG;
        }
    }
    if (src->url && !su_is_http(src->url)) {
        snprintf(err, errlen, "url: expected an http:// or https:// URL (the %s base URL)", kind);
        return CTX_ECONFIG;
    }
    if (src->token && strpbrk(src->token, "\r\n")) {
        snprintf(err, errlen, "token: must not contain line breaks");
        return CTX_ECONFIG;
    }
    return CTX_OK;
}

static inline ctx_err sv_missing(const char *key, const char *why, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: missing (%s)", key, why);
    return CTX_ECONFIG;
}

/* ---- reply outcomes ----------------------------------------------------------------- */

static inline void so_set(struct reply_outcome *o, enum reply_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void so_set(struct reply_outcome *o, enum reply_status st, const char *fmt, ...)
{
    o->status = st;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(o->error, sizeof o->error, fmt, ap);
        va_end(ap);
    }
}

/* The outcome an HTTP status alone says: 429 and 5xx are worth another try
 * later; other failures will not get better by themselves. */
static inline enum reply_status so_by_status(long status)
{
    if (status == 429 || status == 408 || status >= 500 || status == 0)
        return REPLY_RETRY;
    return REPLY_FAILED;
}

/* The first bytes of a body as printable text, for error messages. */
static inline void so_snippet(const struct http_response *resp, char *out, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; resp->body && i < resp->len && o + 1 < len && i < 120; i++) {
        unsigned char c = (unsigned char)resp->body[i];
        out[o++] = c < ' ' || c == 0x7f ? ' ' : (char)c;
    }
    out[o] = '\0';
}

#endif
