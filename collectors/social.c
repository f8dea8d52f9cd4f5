/* social.c -- the helpers the JSON-API source kinds share (mastodon.c,
 * reddit.c, bluesky.c, hn.c, vk.c, discourse.c, telegram.c): reading JSON
 * leniently, building URLs, cursors, requests and items, classifying reply
 * outcomes. One home for each, declared and documented in social_internal.h,
 * so that a kind's file holds only what is its network's own. */
#include <math.h>
#include <stdarg.h>
#include <strings.h>
#include "collectors/social_internal.h"

/* ---- reading JSON --------------------------------------------------------- */

json_t *sj_load(const char *kind, const struct http_response *resp, struct parse_result *r)
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

ctx_err sj_fail(struct parse_result *r, json_t *root, ctx_err rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    json_decref(root);
    return rc;
}

const json_t *sj_next(struct parse_result *r, const json_t *list, size_t *i, const char *kind,
                      const char *plural, const char *array)
{
    for (; *i < json_array_size(list); ++*i) {
        if (*i >= SOCIAL_MAX_ITEMS) {
            si_skip(r, "%s: more than %d %s, the rest skipped", kind, SOCIAL_MAX_ITEMS, plural);
            return NULL;
        }
        const json_t *o = json_array_get(list, *i);
        if (json_is_object(o)) {
            ++*i;
            return o;
        }
        si_skip(r, "%s: %s[%zu] is not an object", kind, array, *i);
    }
    return NULL;
}

bool sj_num(const json_t *o, const char *key, double *out)
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

bool sj_int(const json_t *o, const char *key, long long *out)
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

const char *sj_id(const json_t *o, const char *key, char *buf, size_t len)
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

int sj_idcmp(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(a, b);
}

/* ---- URLs ------------------------------------------------------------------ */

void su_escape(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            buf_putc(b, (char)*p);
        } else {
            char t[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            buf_append(b, t, 3);
        }
    }
}

void su_param(struct buf *b, const char *k, const char *v)
{
    buf_putc(b, strchr(buf_str(b), '?') ? '&' : '?');
    buf_puts(b, k);
    buf_putc(b, '=');
    su_escape(b, v);
}

void su_paramf(struct buf *b, const char *k, const char *fmt, ...)
{
    struct buf v = {0};
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&v, fmt, ap);
    va_end(ap);
    su_param(b, k, buf_str(&v));
    buf_free(&v);
}

void su_form(struct buf *b, const char *k, const char *v)
{
    if (buf_len(b))
        buf_putc(b, '&');
    buf_puts(b, k);
    buf_putc(b, '=');
    su_escape(b, v);
}

bool su_is_http(const char *s)
{
    const char *p = NULL;
    if (strncasecmp(s, "https://", 8) == 0)
        p = s + 8;
    else if (strncasecmp(s, "http://", 7) == 0)
        p = s + 7;
    return p && *p && *p != '/' && *p != '?' && *p != '#';
}

void su_base(const struct config_source *src, const char *def, struct buf *b)
{
    const char *u = src->url && *src->url ? src->url : def;
    size_t n = strlen(u);
    while (n > 0 && u[n - 1] == '/')
        n--;
    buf_append(b, u, n);
}

static bool su_host(const char *url, char *out, size_t len)
{
    return url && su_is_http(url) && url_host(url, false, out, len);
}

void su_source_host(const struct config_source *src, const struct http_response *resp,
                    char *out, size_t len)
{
    if (!su_host(src->url, out, len) && !su_host(resp->url, out, len))
        snprintf(out, len, "unknown");
}

/* ---- cursors ------------------------------------------------------------------ */

bool sc_get(const char *cursor, const char *key, char *out, size_t len)
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

bool sc_get_ll(const char *cursor, const char *key, long long *out)
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

void sc_put_ll(struct buf *b, const char *key, long long v)
{
    char s[32];
    snprintf(s, sizeof s, "%lld", v);
    su_form(b, key, s);
}

void sc_finish(struct buf *b, struct parse_result *r)
{
    if (!buf_len(b))
        return;
    free(r->cursor);
    r->cursor = buf_detach(b);
}

bool sc_window_read(const char *cursor, const char *key, long long *base, long long *top)
{
    long long t;
    *base = *top = -1;
    bool have = sc_get_ll(cursor, key, base);
    if (have)
        *top = *base;
    if (sc_get_ll(cursor, "top", &t) && t > *top)
        *top = t;
    return have;
}

void sc_window(struct parse_result *r, bool more, const char *key, long long base,
               long long top, const char *page_key, const char *page)
{
    struct buf c = {0};
    if (more) {
        sc_put_ll(&c, key, base);
        sc_put_ll(&c, "top", top);
        sc_put(&c, page_key, page);
    } else if (top >= 0) {
        sc_put_ll(&c, key, top);
    }
    sc_finish(&c, r);
    buf_free(&c);
}

/* ---- items -------------------------------------------------------------------- */

static bool si_epoch_ok(double t)
{
    return isfinite(t) && t >= 0 && t <= (double)SOCIAL_MAX_TIME;
}

bool si_date(const char *s, long long *out)
{
    long long t;
    if (!s || ctx_date_parse(s, &t) != 0 || !si_epoch_ok((double)t))
        return false;
    *out = t;
    return true;
}

long long si_cap(const char *fetched)
{
    long long cap = SOCIAL_MAX_TIME;
    si_date(fetched, &cap);
    return cap;
}

static void si_vsetf(char **field, const char *fmt, va_list ap)
{
    struct buf b = {0};
    buf_vprintf(&b, fmt, ap);
    free(*field);
    *field = buf_detach(&b);
}

void si_setf(char **field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    si_vsetf(field, fmt, ap);
    va_end(ap);
}

bool si_new(struct parse_result *r, struct item *it, const char *fmt, ...)
{
    item_init(it);
    va_list ap;
    va_start(ap, fmt);
    si_vsetf(&it->id, fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < r->nitems; i++)      /* pages are small: a scan is enough */
        if (strcmp(r->items[i].id, it->id) == 0) {
            item_clear(it);
            return false;
        }
    return true;
}

void si_published_epoch(struct item *it, double t, const char *fetched)
{
    if (!si_epoch_ok(t)) {
        item_set(&it->published, fetched);
        return;
    }
    char s[CTX_TIME_LEN];
    ctx_time_format((long long)t, s);
    item_set(&it->published, s);
}

void si_published_str(struct item *it, const char *date, const char *fetched)
{
    long long t;
    si_published_epoch(it, si_date(date, &t) ? (double)t : -1, fetched);
}

void si_published_num(struct item *it, const json_t *o, const char *key, const char *fetched)
{
    double t;
    si_published_epoch(it, sj_num(o, key, &t) ? t : -1, fetched);
}

void si_html(char **field, const char *html)
{
    char *t = html ? html_to_text(html, strlen(html)) : NULL;
    item_set(field, t && *t ? t : NULL);
    free(t);
}

void si_plain(char **field, const char *s)
{
    struct buf b = {0};
    for (const char *p = s; p && *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= ' ' || c == '\n' || c == '\t')
            buf_putc(&b, (char)c);
    }
    const char *t = buf_str(&b);
    size_t n = buf_len(&b), i = 0;
    while (i < n && isspace((unsigned char)t[i]))
        i++;
    while (n > i && isspace((unsigned char)t[n - 1]))
        n--;
    free(*field);
    *field = n > i ? ctx_strndup(t + i, n - i) : NULL;
    buf_free(&b);
}

void si_author(struct item *it, const char *prefix, const char *handle, const char *name,
               long long followers)
{
    if (handle)
        si_setf(&it->author.handle, "%s%s", prefix, handle);
    si_plain(&it->author.name, name);
    si_followers(it, followers);
}

void si_full_name(struct item *it, const char *first, const char *last)
{
    si_setf(&it->author.name, "%s%s%s", first ? first : "",
            first && last && *first && *last ? " " : "", last ? last : "");
    si_plain(&it->author.name, it->author.name);
}

void si_reply(struct item *it, const char *network, const char *fmt, ...)
{
    item_set(&it->reply_network, network);
    va_list ap;
    va_start(ap, fmt);
    si_vsetf(&it->reply_ref, fmt, ap);
    va_end(ap);
}

void si_take(struct parse_result *r, struct item *it, const struct config_source *src,
             const char *kind, const char *fetched)
{
    item_set(&it->source, src->name);
    item_set(&it->kind, kind);
    item_set(&it->fetched, fetched);
    if (!it->published)
        item_set(&it->published, fetched);
    parse_result_take(r, it);
    item_clear(it);
}

void si_skip(struct parse_result *r, const char *fmt, ...)
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

ctx_err sq_json_body(struct source_request *q, json_t *json)
{
    if (!json)
        return CTX_EINVAL;
    char *s = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    if (!s)
        ctx_oom(0);     /* an object always dumps: only memory can fail it */
    buf_reset(&q->body);
    buf_puts(&q->body, s);
    free(s);
    return CTX_OK;
}

ctx_err sq_finish(struct source_request *q, const char *method, struct buf *url,
                  const char *body_type, const char *bearer)
{
    free(q->url);
    q->url = buf_detach(url);
    q->method = method;
    if (buf_len(&q->body))
        source_request_header(q, "Content-Type: %s", body_type);
    source_request_header(q, "Accept: application/json");
    if (bearer && source_request_header(q, "Authorization: Bearer %s", bearer)) {
        source_request_clear(q);
        return CTX_EINVAL;
    }
    return CTX_OK;
}

/* ---- validation ------------------------------------------------------------------ */

ctx_err sv_keys(const struct config_source *src, const char *kind, unsigned allowed,
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

ctx_err sv_missing(const char *key, const char *why, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: missing (%s)", key, why);
    return CTX_ECONFIG;
}

/* ---- reply outcomes ----------------------------------------------------------------- */

json_t *so_load(const struct http_response *resp, struct reply_outcome *o)
{
    memset(o, 0, sizeof *o);
    json_error_t je;
    return resp->body && resp->len ? json_loadb(resp->body, resp->len, 0, &je) : NULL;
}

void so_set(struct reply_outcome *o, enum reply_status st, const char *fmt, ...)
{
    o->status = st;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(o->error, sizeof o->error, fmt, ap);
        va_end(ap);
    }
}

enum reply_status so_by_status(long status)
{
    if (status == 429 || status == 408 || status >= 500 || status == 0)
        return REPLY_RETRY;
    return REPLY_FAILED;
}

void so_snippet(const struct http_response *resp, char *out, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; resp->body && i < resp->len && o + 1 < len && i < 120; i++) {
        unsigned char c = (unsigned char)resp->body[i];
        out[o++] = c < ' ' || c == 0x7f ? ' ' : (char)c;
    }
    out[o] = '\0';
}

void so_http(struct reply_outcome *o, const char *kind, const struct http_response *resp,
             const char *why)
{
    char snip[128];
    so_snippet(resp, snip, sizeof snip);
    so_set(o, so_by_status(resp->status), "%s: HTTP %ld: %s", kind, resp->status,
           why ? why : snip);
}
