/* collectors.h -- the collect role: sources, their kinds, the poll scheduler.
 *
 * A source kind (feed, mastodon, ...) is a const struct source_ops: how to
 * build the next request from the source and its saved cursor, and how to
 * turn a response into items. Parsing is pure (no I/O, no clock: the fetch
 * time is passed in), so `ctxctl parse` and the unit tests run exactly the
 * code the daemon runs. Adding a network is one file and one table entry in
 * collectors/sources.c. */
#ifndef CTX_COLLECTORS_H
#define CTX_COLLECTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "core/buf.h"
#include "core/config.h"
#include "core/ctx.h"
#include "core/item.h"

struct store;
typedef struct uv_loop_s uv_loop_t;

/* What the fetcher got, handed to a parser. Header values may be NULL. */
struct http_response {
    long status;
    const char *body;
    size_t len;
    const char *content_type;   /* Content-Type header */
    const char *url;            /* effective URL after redirects */
    const char *content_location; /* Content-Location header: the body's own URI
                                   (RFC 9110 8.7), relative to url; feeds resolve
                                   relative links against it, as feedparser does */
};

/* What a parser produced. Owned by the caller; parse_result_clear() frees. */
struct parse_result {
    struct item *items;
    size_t nitems, cap;
    char *cursor;        /* new paging cursor to persist, or NULL */
    json_t *extra;       /* kind-specific detail for `ctxctl parse`, or NULL
                            (feed: {"feed":{...},"entries":[...],"bozo":bool}) */
    bool bozo;           /* input was not well-formed; items are what was recovered */
    char error[256];     /* why, when bozo or when parse failed */
};

void parse_result_clear(struct parse_result *r);
/* Append an item, taking ownership of its fields (*it is left cleared). */
void parse_result_take(struct parse_result *r, struct item *it);

/* A request a source kind wants made: built by next_request() and
 * reply_request(), sent by the fetcher. Owned; source_request_clear() frees. */
struct source_request {
    char *url;
    const char *method;         /* static string; NULL = GET */
    struct buf body;            /* request body (POST), empty for none */
    struct strlist headers;     /* "Name: value" */
    double timeout;             /* 0 = the source's timeout (long polls set more) */
};
void source_request_clear(struct source_request *q);
ctx_err source_request_header(struct source_request *q, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* An agent's reply to an item, to be posted where the item came from. */
struct reply {
    const char *id;             /* reply id: the idempotency key */
    const char *item_id;        /* the item answered */
    const char *ref;            /* the item's reply_to.ref */
    const char *text;
    const char *created;        /* RFC 3339 UTC, when the agent wrote it; the
                                   same on every retry (Bluesky's record needs a
                                   createdAt, and no kind may read the clock) */
};

/* What posting a reply came to. */
enum reply_status { REPLY_POSTED, REPLY_RETRY, REPLY_FAILED };
struct reply_outcome {
    enum reply_status status;
    char ref[256];              /* the posted reply's id on the network, when posted */
    char error[256];            /* the network's error, when not posted */
    double retry_after;         /* seconds, when the network said (429) */
};

struct source_ops {
    const char *kind;        /* the config's "kind" */
    const char *item_kind;   /* the items' kind: blog, forum, social, messaging */
    /* Check the kind-specific keys of a source (which are required, which
     * make no sense); write "key: problem" into err. NULL = nothing to check. */
    ctx_err (*validate)(const struct config_source *src, char *err, size_t errlen);
    /* The next poll's request, from the source and its saved cursor (NULL
     * on the very first poll). NULL = GET src->url. */
    ctx_err (*next_request)(const struct config_source *src, const char *cursor,
                            struct source_request *q);
    /* Parse one response fetched at `fetched` (RFC 3339). Returns CTX_OK with
     * what could be recovered (r->bozo says whether the input was
     * ill-formed) and r->cursor set to where the next poll resumes, or
     * CTX_EPARSE when nothing could be read. `cursor` is the cursor the
     * request was built from (NULL on the first poll). */
    ctx_err (*parse)(const struct config_source *src, const char *cursor,
                     const struct http_response *resp, const char *fetched,
                     struct parse_result *r);
    /* Build the request posting a reply; NULL = replies impossible here. */
    ctx_err (*reply_request)(const struct config_source *src, const struct reply *rep,
                             struct source_request *q);
    /* Read the network's answer to a reply request. */
    void (*reply_result)(const struct http_response *resp, struct reply_outcome *out);
};

const struct source_ops *source_ops_find(const char *kind);

/* The feed kind: RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 (collectors/feed.c). */
extern const struct source_ops feed_source_ops;
ctx_err feed_parse(const char *name, const struct http_response *resp,
                   const char *fetched, struct parse_result *r);

/* HTML (a fragment) to plain text: tags dropped, block elements become line
 * breaks, script/style dropped with their content, entities decoded (HTML5
 * named entities and numeric references), whitespace collapsed, trimmed.
 * Returns a malloc'd string, never NULL. */
char *html_to_text(const char *html, size_t len);

/* The host of an absolute URL (curl's CURLUPART_HOST: without user info,
 * IPv6 in brackets), lower-cased, with ":port" when port is set and the URL
 * names one, into out. false when url is NULL, not a URL curl can parse, or
 * the host does not fit. */
bool url_host(const char *url, bool port, char *out, size_t len);

#endif
