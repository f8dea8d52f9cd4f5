/* jsonfeed.c -- JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1),
 * reached from the `feed` source kind: feed.c sniffs the body (served as
 * JSON, or a '{' that names a jsonfeed.org version), decodes it to UTF-8 and
 * works out the base URI; this file turns the JSON into the same items and
 * the same r->extra as the XML formats give, so a JSON Feed and an RSS feed
 * of one blog produce the same ids, urls and texts.
 *
 * Field meanings follow feedparser's JSON support: home_page_url is the
 * feed's link, description its subtitle, an item's url its link,
 * date_published/date_modified its published/updated, content_html (else
 * content_text) its content, which also stands in for a missing summary.
 * Authors: 1.1's "authors" array or 1.0's "author" object, the feed's
 * applying to items without their own (as the spec says).
 *
 * Ill-formed input: JSON cut short (a truncated download) is repaired by
 * cutting back to the last complete value and closing what is open; junk
 * after the object is ignored; values of the wrong type are skipped. Each of
 * these makes the document bozo with the first problem as the reason. A body
 * that is JSON but no feed (no items array, no jsonfeed version) is
 * CTX_EPARSE. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "collectors/collectors.h"
#include "collectors/collectors_internal.h"

#define JSONFEED_MAX_ITEMS   10000     /* as for XML feeds */
#define JSONFEED_MAX_REPAIRS 8         /* attempts at cutting back a broken body */
#define JSONFEED_MAX_DEPTH   2048      /* jansson's own nesting limit */

struct jf {
    const struct feed_doc *d;
    bool bozo;
    char error[200];
};

#define jf_bozo(j, ...) first_problem(&(j)->bozo, (j)->error, sizeof (j)->error, __VA_ARGS__)

/* ---- reading broken JSON ------------------------------------------------ */

/* The last place before `stop` where the text could be cut and closed to
 * give valid JSON: just after '[' or '{', just before ',', just after ']' or
 * '}' (outside strings). The brackets open there are the ones open at the
 * end of the scan, since every bracket and comma is such a place; their
 * closers go to `close`. Returns the cut offset, or 0 when there is none. */
static size_t cut_point(const char *s, size_t stop, struct buf *close)
{
    char stack[JSONFEED_MAX_DEPTH];
    size_t sp = 0, cut = 0;
    bool str = false, esc = false;
    for (size_t i = 0; i < stop; i++) {
        char c = s[i];
        if (str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                str = false;
            continue;
        }
        if (c == '"') {
            str = true;
        } else if (c == '[' || c == '{') {
            if (sp == sizeof stack)
                break;
            stack[sp++] = c == '[' ? ']' : '}';
            cut = i + 1;
        } else if (c == ']' || c == '}') {
            if (!sp || stack[sp - 1] != c)
                break;           /* a mismatched closer is where it broke */
            sp--;
            cut = i + 1;
            if (!sp)
                break;           /* the root is complete: junk follows */
        } else if (c == ',') {
            cut = i;
        }
    }
    /* the stack at `cut` is the stack now: nothing structural came after */
    buf_reset(close);
    while (sp)
        buf_putc(close, stack[--sp]);
    return cut;
}

/* Parse, repairing what a truncated or damaged body breaks. */
static json_t *load(struct jf *j)
{
    const char *s = j->d->text;
    size_t len = j->d->len;
    json_error_t err;
    json_t *root = json_loadb(s, len, 0, &err);
    if (root)
        return root;
    jf_bozo(j, "invalid JSON: line %d: %s", err.line, err.text);
    root = json_loadb(s, len, JSON_DISABLE_EOF_CHECK, &err);
    if (root)
        return root;             /* junk after the object */
    struct buf fixed = {0}, close = {0};
    size_t stop = err.position >= 0 && (size_t)err.position <= len ? (size_t)err.position : len;
    for (int attempt = 0; attempt < JSONFEED_MAX_REPAIRS && !root; attempt++) {
        size_t cut = cut_point(s, stop, &close);
        if (!cut)
            break;
        buf_reset(&fixed);
        buf_append(&fixed, s, cut);
        buf_append(&fixed, buf_str(&close), buf_len(&close));
        root = json_loadb(buf_str(&fixed), buf_len(&fixed), 0, &err);
        if (!root)
            stop = cut > 0 ? cut - 1 : 0;    /* cut further back */
    }
    buf_free(&fixed);
    buf_free(&close);
    return root;
}

/* ---- values ------------------------------------------------------------- */

/* A string member, or NULL (bozo when present with another type). Numbers
 * are accepted where the spec wants a string id. */
static const char *str(struct jf *j, json_t *o, const char *key, const char *where,
                       char *num, size_t numlen)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return NULL;
    if (json_is_string(v))
        return json_string_value(v);
    if (num && json_is_integer(v)) {
        snprintf(num, numlen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return num;
    }
    if (num && json_is_real(v)) {
        snprintf(num, numlen, "%.17g", json_real_value(v));
        return num;
    }
    jf_bozo(j, "%s.%s: not a string", where, key);
    return NULL;
}

/* The first author's name (else url) from 1.1's "authors" or 1.0's
 * "author". */
static const char *author_of(struct jf *j, json_t *o, const char *where)
{
    json_t *a = json_object_get(o, "authors");
    if (json_is_array(a) && json_array_size(a))
        a = json_array_get(a, 0);
    else
        a = json_object_get(o, "author");
    if (!a || json_is_null(a))
        return NULL;
    if (!json_is_object(a)) {
        jf_bozo(j, "%s.author: not an object", where);
        return NULL;
    }
    const char *n = str(j, a, "name", where, NULL, 0);
    return n && *n ? n : str(j, a, "url", where, NULL, 0);
}

static char *resolve(struct jf *j, const char *u)
{
    return url_resolve(j->d->base, u);     /* NULL when u is */
}

/* o[key] = v as a JSON string, null when v is NULL (or, never expected, not
 * UTF-8). */
static void set(json_t *o, const char *key, const char *v)
{
    json_t *s = v ? json_string(v) : NULL;
    json_object_set_new(o, key, s ? s : json_null());
}

static void add_link(json_t *links, const char *rel, const char *type, const char *href,
                     const char *title, json_t *length)
{
    json_t *l = json_object();
    json_array_append_new(links, l);
    set(l, "rel", rel);
    if (type)
        set(l, "type", type);
    set(l, "href", href);
    if (title)
        set(l, "title", title);
    if (json_is_integer(length)) {
        char n[32];
        snprintf(n, sizeof n, "%" JSON_INTEGER_FORMAT, json_integer_value(length));
        set(l, "length", n);
    }
}

/* ---- items -------------------------------------------------------------- */

static void one_item(struct jf *j, json_t *it, size_t idx, const char *feed_author,
                     const char *feed_lang, json_t *entries, struct parse_result *r)
{
    char where[32], idnum[64];
    snprintf(where, sizeof where, "items[%zu]", idx);
    if (!json_is_object(it)) {
        jf_bozo(j, "%s: not an object", where);
        return;
    }
    const char *id = str(j, it, "id", where, idnum, sizeof idnum);
    const char *title = str(j, it, "title", where, NULL, 0);
    const char *summary = str(j, it, "summary", where, NULL, 0);
    const char *html = str(j, it, "content_html", where, NULL, 0);
    const char *text = str(j, it, "content_text", where, NULL, 0);
    const char *published = str(j, it, "date_published", where, NULL, 0);
    const char *updated = str(j, it, "date_modified", where, NULL, 0);
    const char *lang = str(j, it, "language", where, NULL, 0);
    const char *author = author_of(j, it, where);
    char *url = resolve(j, str(j, it, "url", where, NULL, 0));
    char *external = resolve(j, str(j, it, "external_url", where, NULL, 0));
    char *content = html ? html_sanitize(html, strlen(html), j->d->base) : NULL;
    if (!id)
        jf_bozo(j, "%s: no id", where);

    json_t *e = json_object(), *links = json_array();
    json_array_append_new(entries, e);
    set(e, "title", title);
    set(e, "link", url);
    set(e, "id", id);
    set(e, "author", author);
    set(e, "published", published);
    set(e, "updated", updated);
    set(e, "summary", summary ? summary : content ? content : text);
    set(e, "content", content ? content : text);
    set(e, "subtitle", NULL);
    set(e, "content_type", content ? "text/html" : text ? "text/plain" : NULL);
    set(e, "summary_type", summary || (!content && text) ? "text/plain"
                           : content ? "text/html" : NULL);
    if (url)
        add_link(links, "alternate", "text/html", url, NULL, NULL);
    if (external)
        add_link(links, "related", "text/html", external, NULL, NULL);
    json_t *att = json_object_get(it, "attachments"), *a;
    size_t k;
    json_array_foreach(att, k, a) {
        const char *au = json_is_object(a) ? str(j, a, "url", where, NULL, 0) : NULL;
        char *href = resolve(j, au);
        if (href)
            add_link(links, "enclosure", str(j, a, "mime_type", where, NULL, 0), href,
                     str(j, a, "title", where, NULL, 0), json_object_get(a, "size_in_bytes"));
        free(href);
    }
    json_object_set_new(e, "links", links);

    /* the item */
    struct item item;
    item_init(&item);
    char date[CTX_TIME_LEN];
    const char *item_url = url && *url && url_safe(url) ? url
                         : external && *external && url_safe(external) ? external : NULL;
    char *primary = feed_lang_primary(lang ? lang : feed_lang);
    feed_item_date(published, updated, j->d->fetched, date);
    const char *who = author ? author : feed_author;
    item.id = feed_item_id(j->d->source, id, url, title, summary ? summary : text);
    item_set(&item.source, j->d->source);
    item_set(&item.kind, "blog");
    item_set(&item.url, item_url);
    item_set(&item.published, date);
    item_set(&item.fetched, j->d->fetched);
    item_set(&item.lang, primary);
    if (who && *who)
        item_set(&item.author.handle, who);
    if (title)
        item.title = text_collapse(title, strlen(title));
    if (item.title && !*item.title) {
        free(item.title);
        item.title = NULL;
    }
    item.text = content ? html_to_text(content, strlen(content))
              : text ? text_collapse(text, strlen(text))
              : summary ? text_collapse(summary, strlen(summary)) : NULL;
    parse_result_take(r, &item);
    free(primary);
    free(url);
    free(external);
    free(content);
}

/* ---- the feed ----------------------------------------------------------- */

ctx_err jsonfeed_parse(const struct feed_doc *d, struct parse_result *r)
{
    struct jf j = {.d = d};
    if (d->bozo)
        jf_bozo(&j, "%s", d->error);
    json_t *root = load(&j);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        snprintf(r->error, sizeof r->error, "not a JSON Feed: %s",
                 root ? "not a JSON object" : j.error);
        return CTX_EPARSE;
    }
    const char *version = json_string_value(json_object_get(root, "version"));
    json_t *items = json_object_get(root, "items");
    bool known = version && !strncmp(version, "https://jsonfeed.org/version/", 29);
    if (!known && !json_is_array(items)) {
        json_decref(root);
        snprintf(r->error, sizeof r->error, "not a JSON Feed: no version and no items");
        return CTX_EPARSE;
    }
    if (!known)
        jf_bozo(&j, "version: missing or not a jsonfeed.org version");
    if (!json_is_array(items))
        jf_bozo(&j, "items: missing or not an array");

    json_t *extra = json_object(), *feed = json_object(), *entries = json_array(),
           *links = json_array();
    json_object_set_new(extra, "feed", feed);
    json_object_set_new(extra, "entries", entries);
    const char *lang = str(&j, root, "language", "feed", NULL, 0);
    const char *feed_author = author_of(&j, root, "feed");
    char *home = resolve(&j, str(&j, root, "home_page_url", "feed", NULL, 0));
    char *self = resolve(&j, str(&j, root, "feed_url", "feed", NULL, 0));
    char *next = resolve(&j, str(&j, root, "next_url", "feed", NULL, 0));
    set(feed, "title", str(&j, root, "title", "feed", NULL, 0));
    set(feed, "link", home);
    set(feed, "subtitle", str(&j, root, "description", "feed", NULL, 0));
    set(feed, "language", lang);
    set(feed, "author", feed_author);
    set(feed, "id", NULL);
    set(feed, "published", NULL);
    set(feed, "updated", NULL);
    if (home)
        add_link(links, "alternate", "text/html", home, NULL, NULL);
    if (self)
        add_link(links, "self", "application/feed+json", self, NULL, NULL);
    if (next)
        add_link(links, "next", "application/feed+json", next, NULL, NULL);
    free(home);
    free(self);
    free(next);
    json_object_set_new(feed, "links", links);

    json_t *it;
    size_t i;
    json_array_foreach(items, i, it) {
        if (i >= JSONFEED_MAX_ITEMS)
            break;
        one_item(&j, it, i, feed_author, lang, entries, r);
    }
    const char *v = !known ? NULL : !strcmp(version + 29, "1") ? "json1"
                  : !strcmp(version + 29, "1.1") ? "json11" : "json";
    json_object_set_new(extra, "bozo", json_boolean(j.bozo));
    set(extra, "bozo_exception", j.bozo ? j.error : NULL);
    set(extra, "version", v);
    set(extra, "encoding", d->encoding);
    json_decref(root);
    json_decref(r->extra);
    r->extra = extra;
    r->bozo = j.bozo;
    if (j.bozo)
        snprintf(r->error, sizeof r->error, "%s", j.error);
    return CTX_OK;
}
