/* social_internal.h -- what the JSON-API source kinds share (mastodon.c,
 * reddit.c, bluesky.c, hn.c, vk.c, discourse.c, telegram.c); the code is in
 * social.c.
 *
 * Those kinds all read JSON over HTTPS, build URLs with query strings, keep a
 * small paging state as the source's cursor, normalise dates and fill items
 * the same way, so the helpers live here once. Everything is pure: no I/O, no
 * clock. Memory follows core/mem.h (running out aborts), so what only
 * allocates returns void; what returns ctx_err fails on bad input alone.
 *
 * Conventions:
 *  - sj_*: reading jansson values leniently (an id may be a number or a
 *    string; a missing or mistyped member reads as absent, never as an error);
 *  - su_*: URLs (percent-encoding, query parameters, base URL, host);
 *  - sc_*: cursor strings that carry more than one value, written like a
 *    query string ("since=1700000000&page=25"), values percent-encoded;
 *  - si_*: filling items;
 *  - sq_*: requests;
 *  - sv_*: validating a source's config;
 *  - so_*: reply outcomes. */
#ifndef CTX_SOCIAL_INTERNAL_H
#define CTX_SOCIAL_INTERNAL_H

#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
json_t *sj_load(const char *kind, const struct http_response *resp, struct parse_result *r);

/* A response that is JSON but not what the kind reads: r->error from fmt,
 * root released, rc returned (CTX_EHTTP when the API says why, else
 * CTX_EPARSE). */
ctx_err sj_fail(struct parse_result *r, json_t *root, ctx_err rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The entries of a page, for
 *     for (size_t i = 0; (o = sj_next(r, list, &i, "hn", "hits", "hits"));)
 * the next object of the array from *i on (NULL at the end). Entries that are
 * not objects are noted ("hn: hits[3] is not an object") and passed over;
 * after SOCIAL_MAX_ITEMS entries the rest are noted ("hn: more than 1000
 * hits, the rest skipped") and left. */
const json_t *sj_next(struct parse_result *r, const json_t *list, size_t *i, const char *kind,
                      const char *plural, const char *array);

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
bool sj_num(const json_t *o, const char *key, double *out);

/* A member that is an integer (or an integral real or decimal string) within
 * long long. false otherwise. */
bool sj_int(const json_t *o, const char *key, long long *out);

/* An identifier member, string or integer, written into buf (NUL-terminated).
 * NULL when absent, empty, not a string/integer, too long, or holding bytes
 * that have no place in an id (controls, spaces). */
const char *sj_id(const json_t *o, const char *key, char *buf, size_t len);

/* Compare two decimal (or equal-length sortable) id strings: by length, then
 * bytes. Mastodon ids, Discourse ids and Telegram update ids sort this way. */
int sj_idcmp(const char *a, const char *b);

/* ---- URLs ------------------------------------------------------------------ */

/* Append s percent-encoded (everything but RFC 3986 unreserved characters). */
void su_escape(struct buf *b, const char *s);

/* Append "?k=v" or "&k=v" (v percent-encoded), whichever fits the URL in b. */
void su_param(struct buf *b, const char *k, const char *v);
void su_paramf(struct buf *b, const char *k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Append "k=v" to a form body, with '&' before it when not the first. */
void su_form(struct buf *b, const char *k, const char *v);

/* Whether s is an absolute http(s) URL with a host. */
bool su_is_http(const char *s);

/* The base URL of the API: the source's url when set, else def; without
 * trailing slashes. */
void su_base(const struct config_source *src, const char *def, struct buf *b);

/* The instance host naming a source's items: the host (lower-case, without
 * port or user info) of the configured url, else of the URL the response
 * came from, else "unknown" (ctxctl parse on a local file). */
void su_source_host(const struct config_source *src, const struct http_response *resp,
                    char *out, size_t len);

/* ---- cursors: "k=v&k=v" ------------------------------------------------------ */

/* The decoded value of key in cursor into out; false when absent or too long. */
bool sc_get(const char *cursor, const char *key, char *out, size_t len);

/* A key of the cursor holding a whole number (epoch seconds, an id). */
bool sc_get_ll(const char *cursor, const char *key, long long *out);

/* Append "k=v" to a cursor being built (with '&' when not the first). */
static inline void sc_put(struct buf *b, const char *key, const char *val)
{
    su_form(b, key, val);
}

void sc_put_ll(struct buf *b, const char *key, long long v);

/* Hand a built cursor to the result (b is left empty); none when b is. */
void sc_finish(struct buf *b, struct parse_result *r);

/* The cursor of a kind that reads new posts as a window (bluesky, vk,
 * discourse): "<key>=<N>" says everything up to N (a time, an id) is read;
 * "<key>=<N>&top=<M>&<page_key>=<page>" says a catch-up is under way, older
 * pages down to N still to read, M the newest seen.
 *
 * sc_window_read: N into *base (false when the cursor has none, *base then
 * -1) and the newest seen so far, max(N, M), into *top (-1: nothing yet).
 * sc_window: while older pages are still to read (more) the catch-up cursor,
 * else "<key>=<top>"; no cursor when top < 0. */
bool sc_window_read(const char *cursor, const char *key, long long *base, long long *top);
void sc_window(struct parse_result *r, bool more, const char *key, long long base,
               long long top, const char *page_key, const char *page);

/* ---- items -------------------------------------------------------------------- */

/* Epoch seconds within years 1970-9999 from a date string (ISO 8601, RFC
 * 3339, RFC 822); false when not one. */
bool si_date(const char *s, long long *out);

/* The time a kind caps post times at: the fetch time (a post dated in the
 * future must not make a source skip everything up to that date). */
long long si_cap(const char *fetched);

/* Start an item whose id fmt makes. false, and *it left clear, when the
 * result has that id already (reblogs, repeated updates, overlapping
 * pages): the caller then passes the entry over. */
bool si_new(struct parse_result *r, struct item *it, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* it->published from epoch seconds, or the fetch time when t is unusable. */
void si_published_epoch(struct item *it, double t, const char *fetched);

/* it->published from a date string, or the fetch time. */
void si_published_str(struct item *it, const char *date, const char *fetched);

/* it->published from a numeric member (epoch seconds), or the fetch time. */
void si_published_num(struct item *it, const json_t *o, const char *key, const char *fetched);

/* Set *field to HTML turned into plain text (NULL when it comes out empty). */
void si_html(char **field, const char *html);

/* Set *field to plain text as the network gave it: line breaks kept, "\r\n"
 * made "\n", other control characters dropped, trimmed; NULL when empty. */
void si_plain(char **field, const char *s);

/* Set *field to printf output. */
void si_setf(char **field, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A follower count as the network gives it: negative means unknown. */
static inline void si_followers(struct item *it, long long n)
{
    if (n >= 0)
        it->author.followers = n > LONG_MAX ? LONG_MAX : (long)n;
}

/* The author: handle "<prefix><handle>" (unset when handle is NULL), the
 * display name as plain text, the follower count as the network gives it
 * (negative: unknown). */
void si_author(struct item *it, const char *prefix, const char *handle, const char *name,
               long long followers);

/* The author's name from a first and a last name (either may be NULL or
 * empty), as plain text. */
void si_full_name(struct item *it, const char *first, const char *last);

/* reply_to: the network and the ref (made by fmt) a reply needs. */
void si_reply(struct item *it, const char *network, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fill the fields every item has (source, kind, fetched; published when
 * still unset), then hand the item to the result; *it is left clear. */
void si_take(struct parse_result *r, struct item *it, const struct config_source *src,
             const char *kind, const char *fetched);

/* Note something skipped on the way (bozo, first reason kept). */
void si_skip(struct parse_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- requests ------------------------------------------------------------------ */

#define SQ_JSON "application/json"
#define SQ_FORM "application/x-www-form-urlencoded"

/* A JSON request body (json is consumed). CTX_EINVAL when json is NULL: the
 * json_pack() that built it was given a string that is not UTF-8. */
ctx_err sq_json_body(struct source_request *q, json_t *json);

/* Finish a request to a JSON API: the URL (taken from url, left empty), the
 * method (NULL: GET), "Content-Type: <body_type>" when the request has a
 * body, "Accept: application/json", and "Authorization: Bearer <bearer>"
 * when bearer is set. CTX_EINVAL, and q cleared, when the token does not fit
 * a header line. */
ctx_err sq_finish(struct source_request *q, const char *method, struct buf *url,
                  const char *body_type, const char *bearer);

/* ---- validation ------------------------------------------------------------------ */

enum {
    SV_URL = 1 << 0, SV_QUERY = 1 << 1, SV_TAG = 1 << 2, SV_SUBREDDIT = 1 << 3,
    SV_MODE = 1 << 4, SV_TOKEN = 1 << 5, SV_API_VERSION = 1 << 6,
};

/* Reject the kind-specific keys a kind has no use for, and a url that is not
 * http(s). Returns CTX_ECONFIG with "key: problem" in err. */
ctx_err sv_keys(const struct config_source *src, const char *kind, unsigned allowed,
                char *err, size_t errlen);

/* CTX_ECONFIG with "<key>: missing (<why>)" in err. */
ctx_err sv_missing(const char *key, const char *why, char *err, size_t errlen);

/* ---- reply outcomes ----------------------------------------------------------------- */

/* Start reading the answer to a reply: *o zeroed, the body as JSON (NULL
 * when it is not JSON; release it with json_decref). */
json_t *so_load(const struct http_response *resp, struct reply_outcome *o);

void so_set(struct reply_outcome *o, enum reply_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The outcome an HTTP status alone says: 429 and 5xx are worth another try
 * later; other failures will not get better by themselves. */
enum reply_status so_by_status(long status);

/* The first bytes of a body as printable text, for error messages. */
void so_snippet(const struct http_response *resp, char *out, size_t len);

/* A reply refused with an HTTP error status: "<kind>: HTTP <status>: <why>",
 * why being the network's message, else the first bytes of the body. */
void so_http(struct reply_outcome *o, const char *kind, const struct http_response *resp,
             const char *why);

#endif
