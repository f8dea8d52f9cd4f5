/* feed.c -- the `feed` source kind: RSS 0.9x/1.0/2.0, Atom 0.3/1.0, CDF and
 * (handed to jsonfeed.c once decoded) JSON Feed 1.0/1.1.
 *
 * feed_parse() is pure: bytes in, items and a JSON summary out. Three steps:
 *
 *  1. Decode. charset.c makes the body UTF-8 (BOM, HTTP charset, XML
 *     declaration, guesses, in feedparser's order) and says which encoding
 *     it used and whether that took any guessing (bozo). A body that is JSON
 *     (by Content-Type, or a '{' naming a jsonfeed.org version) goes to
 *     jsonfeed.c from here.
 *  2. Walk. The XML tokenizer (xml.c) hands us events; a small state machine
 *     knows whether it is at feed level or inside an entry, and skips the
 *     subtrees that only look like entry data (image, textinput, source,
 *     contributor). Elements are recognised by namespace URI and local name,
 *     never by prefix. An element whose text we want opens a "capture" that
 *     collects everything up to its end tag: plain text, or for a text
 *     construct with markup inside (Atom type="xhtml", or HTML someone forgot
 *     to escape) the markup re-serialised as HTML. HTML values (and RSS
 *     "text" that looks like HTML) go through html_sanitize() (sanitize.c),
 *     which also resolves their relative links against xml:base /
 *     Content-Location / the document URL (url.c).
 *  3. Build. Each entry becomes a struct item; the raw values go to
 *     r->extra as JSON whose field meanings follow Python's feedparser
 *     (title/summary/content as feedparser leaves them, author as
 *     "name (email)", link resolved, "links" as feedparser lists them), so
 *     that feedparser's own test suite can check them
 *     (tests/conformance/feedparser.py).
 *
 * This file is the walk and the build: what each element means. Bytes
 * (charset.c), URLs (url.c) and markup (sanitize.c, html.c) are each a file
 * of their own, so that the mapping from elements to fields reads in one
 * place. Everything is linear in the input: one pass to decode, one to
 * tokenize, values accumulate in struct bufs. */
#define _GNU_SOURCE      /* memmem */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/date.h"
#include "collectors/collectors.h"
#include "collectors/collectors_internal.h"

#define FEED_MAX_ENTRIES 10000
#define FEED_MAX_KEY     200
#define FEED_MAX_BASE    2048   /* longer base URIs are ignored: resolving
                                   against them would copy them into every
                                   link, a cheap way to blow up memory */

/* ---- namespaces and elements -------------------------------------------- */

enum nsclass { NS_OTHER, NS_CORE, NS_RDF, NS_DC, NS_DCTERMS, NS_CONTENT, NS_XHTML, NS_ITUNES,
               NS_MEDIA };

#define NS_ATOM10   "http://www.w3.org/2005/Atom"
#define NS_RSS10    "http://purl.org/rss/1.0/"
#define NS_RSS090   "http://my.netscape.com/rdf/simple/0.9/"
#define NS_RDF_URI  "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

static const struct { const char *uri; enum nsclass cls; } known_ns[] = {
    {NS_ATOM10, NS_CORE},
    {"http://purl.org/atom/ns#", NS_CORE},
    {NS_RSS10, NS_CORE},
    {NS_RSS090, NS_CORE},
    {"http://backend.userland.com/rss", NS_CORE},
    {"http://backend.userland.com/rss2", NS_CORE},
    {"http://blogs.law.harvard.edu/tech/rss", NS_CORE},
    {"http://purl.org/rss/1.0/modules/rss091#", NS_CORE},
    {"http://example.com/newformat#", NS_CORE},
    {"http://example.com/necho", NS_CORE},
    {"http://purl.org/echo/", NS_CORE},
    {"uri/of/echo/namespace#", NS_CORE},
    {"http://purl.org/pie/", NS_CORE},
    {NS_RDF_URI, NS_RDF},
    {"http://purl.org/dc/elements/1.1/", NS_DC},
    {"http://purl.org/dc/terms/", NS_DCTERMS},
    {"http://purl.org/rss/1.0/modules/content/", NS_CONTENT},
    {"http://www.w3.org/1999/xhtml", NS_XHTML},
    {"http://www.itunes.com/dtds/podcast-1.0.dtd", NS_ITUNES},
    {"http://example.com/dtds/podcast-1.0.dtd", NS_ITUNES},
    {"http://search.yahoo.com/mrss", NS_MEDIA},
    {"http://search.yahoo.com/mrss/", NS_MEDIA},
};

/* What an undeclared prefix most likely meant. */
static const struct { const char *prefix; enum nsclass cls; } known_prefix[] = {
    {"atom", NS_CORE}, {"rdf", NS_RDF}, {"dc", NS_DC}, {"dcterms", NS_DCTERMS},
    {"content", NS_CONTENT}, {"xhtml", NS_XHTML}, {"itunes", NS_ITUNES}, {"media", NS_MEDIA},
};

enum el {
    E_NONE, E_RSS, E_FEED, E_RDF, E_CHANNEL, E_ITEM, E_SKIP, E_AUTHOR, E_TITLE,
    E_LINK, E_ID, E_DESCRIPTION, E_SUMMARY, E_SUBTITLE, E_CONTENT, E_ENCODED,
    E_BODY, E_PUBLISHED, E_UPDATED, E_LANGUAGE, E_MEDIA_TITLE, E_ENCLOSURE, E_CREATED,
    E_ABSTRACT,
};

static const struct { enum nsclass ns; const char *local; enum el el; } elements[] = {
    {NS_CORE, "rss", E_RSS}, {NS_CORE, "feed", E_FEED}, {NS_RDF, "rdf", E_RDF},
    {NS_CORE, "channel", E_CHANNEL}, {NS_CORE, "item", E_ITEM}, {NS_CORE, "entry", E_ITEM},
    {NS_CORE, "image", E_SKIP}, {NS_CORE, "textinput", E_SKIP},
    {NS_CORE, "source", E_SKIP}, {NS_CORE, "contributor", E_SKIP},
    {NS_CORE, "author", E_AUTHOR}, {NS_CORE, "managingeditor", E_AUTHOR},
    {NS_DC, "creator", E_AUTHOR}, {NS_DC, "author", E_AUTHOR},
    {NS_CORE, "title", E_TITLE}, {NS_DC, "title", E_TITLE},
    {NS_CORE, "link", E_LINK},
    {NS_CORE, "guid", E_ID}, {NS_CORE, "id", E_ID},
    {NS_CORE, "description", E_DESCRIPTION}, {NS_DC, "description", E_DESCRIPTION},
    {NS_CORE, "summary", E_SUMMARY},
    {NS_CORE, "subtitle", E_SUBTITLE}, {NS_CORE, "tagline", E_SUBTITLE},
    {NS_CORE, "content", E_CONTENT}, {NS_CONTENT, "encoded", E_ENCODED},
    {NS_CORE, "fullitem", E_ENCODED},
    {NS_XHTML, "body", E_BODY}, {NS_CORE, "body", E_BODY},
    {NS_CORE, "pubdate", E_PUBLISHED}, {NS_CORE, "published", E_PUBLISHED},
    {NS_CORE, "issued", E_PUBLISHED}, {NS_DCTERMS, "issued", E_PUBLISHED},
    {NS_CORE, "updated", E_UPDATED}, {NS_CORE, "modified", E_UPDATED},
    {NS_CORE, "lastbuilddate", E_UPDATED}, {NS_DC, "date", E_UPDATED},
    {NS_DCTERMS, "modified", E_UPDATED},
    {NS_CORE, "created", E_CREATED}, {NS_DCTERMS, "created", E_CREATED},
    {NS_CORE, "language", E_LANGUAGE}, {NS_DC, "language", E_LANGUAGE},
    {NS_ITUNES, "author", E_AUTHOR}, {NS_ITUNES, "subtitle", E_SUBTITLE},
    {NS_ITUNES, "summary", E_SUMMARY}, {NS_MEDIA, "title", E_MEDIA_TITLE},
    {NS_CORE, "enclosure", E_ENCLOSURE}, {NS_CORE, "abstract", E_ABSTRACT},
};

/* ---- per-entry and per-feed values -------------------------------------- */

enum field { F_TITLE, F_LINK, F_ID, F_AUTHOR, F_PUBLISHED, F_UPDATED, F_SUMMARY,
             F_CONTENT, F_SUBTITLE, F_LANGUAGE, F_CREATED, NFIELDS };

enum ctype { CT_TEXT, CT_HTML, CT_XHTML, CT_XML };

struct fields {
    char *v[NFIELDS];
    int depth[NFIELDS];
    unsigned char type[NFIELDS];
    char *first_href;      /* first link of any kind: the url of last resort */
    json_t *links;         /* feedparser's "links": [{rel, type, href, title...}] */
    bool link_from_id;     /* link was copied from a permalink guid / id */
    bool has_content;      /* feedparser's hasContent: a content element was
                              seen, so a second summary is a summary again */
    char content_type[64]; /* the content's and the summary's media types, */
    char summary_type[64]; /* as feedparser names them */
};

struct capture {
    bool on, construct, author, permalink, base64, declared_xhtml;
    enum el el;
    enum field field;
    int target;            /* entry index, -1 for the feed */
    int depth;
    enum ctype type;
    char mime[64];         /* the declared type, as feedparser names it */
    struct buf b, name, email;
    int sub, sub_depth;    /* reading an author's <name> (1) or <email> (2) */
    int nchild;
    bool direct_text, first_div;
    size_t inner_start, inner_end;
    json_t *link;          /* a <link> without href: its "links" entry (borrowed) */
    bool alternate;        /* ... and whether it is the alternate one */
};

struct base {
    int depth;
    char *uri;
};

struct feedp {
    const char *name;
    char *docbase;         /* the base URI outside any xml:base (doc_base()) */
    struct xml_parser x;
    struct fields feed;
    struct fields *entries;
    size_t nentries, capentries;
    int cur;               /* entry being read, -1 when at feed level */
    int entry_depth, skip_depth;
    struct capture cap;
    struct base *bases;
    size_t nbases, capbases;
    char version[16];
    char encoding[64];
    bool feedlike;
    bool bozo;
    char error[200];
};

static void fields_clear(struct fields *f)
{
    for (int i = 0; i < NFIELDS; i++)
        free(f->v[i]);
    free(f->first_href);
    json_decref(f->links);
    memset(f, 0, sizeof *f);
}

static struct fields *target(struct feedp *fp, int t)
{
    return t < 0 ? &fp->feed : &fp->entries[t];
}

static char *dup_trim(const char *s, size_t n)
{
    while (n && ascii_space((unsigned char)*s))
        s++, n--;
    while (n && ascii_space((unsigned char)s[n - 1]))
        n--;
    return ctx_strndup(s, n);
}


static const char *cur_base(const struct feedp *fp)
{
    if (fp->nbases)
        return fp->bases[fp->nbases - 1].uri;
    return fp->docbase;
}

/* The document's base URI, as feedparser takes it: Content-Location
 * resolved against the URL when that gives an acceptable URI, else the URL.
 * Malloc'd, or NULL when there is none (or it is absurdly long). */
static char *doc_base(const struct http_response *resp)
{
    const char *url = resp->url, *loc = resp->content_location;
    char *b = NULL;
    if (url && strnlen(url, FEED_MAX_BASE + 1) > FEED_MAX_BASE)
        url = NULL;
    if (loc && *loc && strnlen(loc, FEED_MAX_BASE + 1) <= FEED_MAX_BASE) {
        b = url_resolve(url, loc);
        if (b && (!url_safe(b) || strlen(b) > FEED_MAX_BASE)) {
            free(b);
            b = NULL;
        }
    }
    return b ? b : url ? ctx_strdup(url) : NULL;
}

static void push_base(struct feedp *fp, const char *uri, int depth)
{
    if (fp->nbases == fp->capbases) {
        size_t cap = fp->capbases ? fp->capbases * 2 : 8;
        fp->bases = ctx_realloc(fp->bases, cap * sizeof *fp->bases);
        fp->capbases = cap;
    }
    if (strnlen(uri, FEED_MAX_BASE + 1) > FEED_MAX_BASE)
        return;
    char *u = url_resolve(cur_base(fp), uri);
    if (strlen(u) > FEED_MAX_BASE) {
        free(u);
        return;
    }
    fp->bases[fp->nbases].depth = depth;
    fp->bases[fp->nbases].uri = u;
    fp->nbases++;
}

/* ---- links --------------------------------------------------------------- */

static bool ieq(const char *a, const char *b)
{
    return !strcasecmp(a, b);
}

/* A new entry of f's "links" (feedparser's list of every <link>, with its
 * attributes); borrowed. */
static json_t *new_link(struct fields *f)
{
    json_t *l = json_object();
    if (!f->links)
        f->links = json_array();
    json_array_append_new(f->links, l);
    return l;
}

/* The text is UTF-8 (charset_decode() made it so), so json_string() takes it. */
static void link_set(json_t *l, const char *key, const char *v)
{
    if (v)
        json_object_set_new(l, key, json_string(v));
}

/* An attribute value lower-cased (rel, type), into out. */
static const char *lower_attr(const char *v, char *out, size_t cap)
{
    if (!v)
        return NULL;
    size_t i = 0;
    for (; v[i] && i < cap - 1; i++)
        out[i] = (char)((v[i] >= 'A' && v[i] <= 'Z') ? v[i] | 0x20 : v[i]);
    out[i] = '\0';
    return out;
}

/* ---- capturing text ----------------------------------------------------- */

static bool void_element(const struct xml_name *n)
{
    static const char *const v[] = {
        "br", "hr", "img", "input", "meta", "link", "area", "base", "col",
        "embed", "param", "source", "track", "wbr",
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(v); i++)
        if (xml_name_is(n, v[i]))
            return true;
    return false;
}

/* Escape for HTML text (and attribute values when attr). */
static void escape(struct buf *b, const char *s, size_t n, bool attr)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *r = s[i] == '&' ? "&amp;" : s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;"
                      : (attr && s[i] == '"') ? "&quot;" : NULL;
        if (!r)
            continue;
        buf_append(b, s + run, i - run);
        buf_puts(b, r);
        run = i + 1;
    }
    buf_append(b, s + run, n - run);
}

/* A content type's name as feedparser gives it (its map_content_type). */
static const char *ctype_name(enum ctype t)
{
    return t == CT_HTML ? "text/html" : t == CT_XHTML ? "application/xhtml+xml"
         : t == CT_XML ? "application/xml" : "text/plain";
}

/* A content type attribute's meaning, as feedparser maps it: the short
 * names, then XML types (text/xml too: any type ending in "xml"), then
 * text; anything else is base64-encoded (its _is_base64). The type's name,
 * as feedparser keeps it, goes to mime when that is not NULL. */
static enum ctype map_type(const char *t, enum ctype deflt, bool *base64, char *mime)
{
    char m[64];
    enum ctype r = CT_TEXT;
    *base64 = false;
    if (!t || !media_token(t, strcspn(t, ";"), m, sizeof m)) {
        r = deflt;
        snprintf(m, sizeof m, "%s", ctype_name(deflt));
    } else if (!strcmp(m, "text") || !strcmp(m, "plain") || !strcmp(m, "text/plain")) {
        snprintf(m, sizeof m, "text/plain");
    } else if (!strcmp(m, "html") || !strcmp(m, "text/html")) {
        r = CT_HTML;
        snprintf(m, sizeof m, "text/html");
    } else if (!strcmp(m, "xhtml") || !strcmp(m, "application/xhtml+xml")) {
        r = CT_XHTML;
        snprintf(m, sizeof m, "application/xhtml+xml");
    } else if (strlen(m) > 3 && !strcmp(m + strlen(m) - 3, "xml")) {
        r = CT_XML;
    } else if (strncmp(m, "text/", 5)) {
        *base64 = true;
    }
    if (mime)
        memcpy(mime, m, sizeof m);
    return r;
}

/* Whether content of this type doubles as the summary (feedparser copies
 * text/plain and the HTML types only). */
static bool summary_like(const char *mime)
{
    return !strcmp(mime, "text/plain") || !strcmp(mime, "text/html")
        || !strcmp(mime, "application/xhtml+xml");
}

static void cap_begin(struct feedp *fp, enum el el, enum field f, bool construct,
                      enum ctype deflt)
{
    struct capture *c = &fp->cap;
    c->on = true;
    c->el = el;
    c->field = f;
    c->construct = construct;
    c->author = el == E_AUTHOR;
    c->target = fp->cur;
    c->depth = fp->x.depth;
    c->sub = 0;
    c->nchild = 0;
    c->direct_text = c->first_div = false;
    c->inner_start = c->inner_end = 0;
    c->base64 = false;
    c->permalink = false;
    c->link = NULL;
    c->alternate = false;
    c->type = deflt;
    snprintf(c->mime, sizeof c->mime, "%s", ctype_name(deflt));
    if (construct) {
        c->type = map_type(xml_attr_get(&fp->x, NULL, "type"), deflt, &c->base64, c->mime);
        const char *mode = xml_attr_get(&fp->x, NULL, "mode");
        if (mode && ieq(mode, "base64"))
            c->base64 = true;
    }
    c->declared_xhtml = c->type == CT_XHTML;
    buf_reset(&c->b);
    buf_reset(&c->name);
    buf_reset(&c->email);
}

static void cap_start(struct feedp *fp)
{
    struct capture *c = &fp->cap;
    const struct xml_parser *x = &fp->x;
    if (c->author) {
        if (x->depth == c->depth + 1 && !c->sub) {
            c->sub = xml_name_is(&x->name, "name") ? 1 : xml_name_is(&x->name, "email") ? 2 : 0;
            c->sub_depth = x->depth;
        }
        return;
    }
    /* XML content keeps only its own text: feedparser reads child elements
     * of an XML type as elements of the entry, not as content */
    if (!c->construct || c->type == CT_XML)
        return;
    if (c->type == CT_TEXT || c->type == CT_HTML) {
        if (xml_name_is(&x->name, "div"))
            return;              /* escaped content wrapped in a div: keep escaped */
        c->type = CT_XHTML;      /* "escaped" markup that was not escaped */
        snprintf(c->mime, sizeof c->mime, "%s", ctype_name(CT_XHTML));
    }
    bool direct = x->depth == c->depth + 1;
    if (direct && ++c->nchild == 1)
        c->first_div = xml_name_is(&x->name, "div");
    buf_putc(&c->b, '<');
    buf_append(&c->b, x->name.local, x->name.llen);
    for (size_t i = 0; i < x->nattrs; i++) {
        const struct xml_attr *a = &x->attrs[i];
        if (a->xmlns)
            continue;
        buf_putc(&c->b, ' ');
        buf_append(&c->b, a->name.q, a->name.qlen);
        buf_puts(&c->b, "=\"");
        escape(&c->b, a->value, a->vlen, true);
        buf_putc(&c->b, '"');
    }
    buf_puts(&c->b, void_element(&x->name) ? " />" : ">");
    if (direct && c->nchild == 1)
        c->inner_start = buf_len(&c->b);
}

static void cap_end(struct feedp *fp)
{
    struct capture *c = &fp->cap;
    const struct xml_parser *x = &fp->x;
    if (c->author) {
        if (c->sub && x->depth == c->sub_depth)
            c->sub = 0;
        return;
    }
    if (!c->construct || c->type == CT_TEXT || c->type == CT_HTML || c->type == CT_XML)
        return;
    if (x->depth == c->depth + 1 && c->nchild == 1)
        c->inner_end = buf_len(&c->b);
    if (void_element(&x->name))
        return;
    buf_puts(&c->b, "</");
    buf_append(&c->b, x->name.local, x->name.llen);
    buf_putc(&c->b, '>');
}

static void cap_text(struct feedp *fp)
{
    struct capture *c = &fp->cap;
    const struct xml_parser *x = &fp->x;
    if (c->author) {
        struct buf *b = c->sub == 1 ? &c->name : c->sub == 2 ? &c->email
                      : x->depth == c->depth ? &c->b : NULL;
        if (b)
            buf_append(b, x->text, x->text_len);
    } else if (!c->construct) {
        if (x->depth == c->depth)
            buf_append(&c->b, x->text, x->text_len);
    } else if (c->type == CT_XML) {
        if (x->depth == c->depth)
            buf_append(&c->b, x->text, x->text_len);
    } else if (c->type == CT_XHTML) {
        if (x->depth == c->depth) {
            for (size_t i = 0; i < x->text_len; i++)
                if (!ascii_space((unsigned char)x->text[i])) {
                    c->direct_text = true;
                    break;
                }
        }
        escape(&c->b, x->text, x->text_len, false);
    } else {
        buf_append(&c->b, x->text, x->text_len);
    }
}

/* Store val (owned) into f's field per feedparser's precedence rules;
 * mime names the type of a content or summary. */
static void set_field(struct fields *f, enum field k, char *val, int depth, enum ctype type,
                      const char *mime, bool entry)
{
    bool take;
    if (k == F_CONTENT)
        take = !f->v[k];
    else if (k == F_TITLE)
        take = !f->v[k] || depth < f->depth[k];
    else
        take = !entry || !f->v[k] || depth <= f->depth[k];
    if (!take) {
        free(val);
        return;
    }
    free(f->v[k]);
    f->v[k] = val;
    f->depth[k] = depth;
    f->type[k] = (unsigned char)type;
    if (k == F_CONTENT || k == F_SUMMARY)
        snprintf(k == F_CONTENT ? f->content_type : f->summary_type, sizeof f->content_type,
                 "%s", mime ? mime : ctype_name(type));
}

static void cap_finish(struct feedp *fp)
{
    struct capture *c = &fp->cap;
    struct fields *f = target(fp, c->target);
    bool entry = c->target >= 0;
    char *val;
    c->on = false;

    if (c->author) {
        char *name = dup_trim(buf_str(&c->name), buf_len(&c->name));
        char *email = dup_trim(buf_str(&c->email), buf_len(&c->email));
        if (*name && *email) {
            struct buf b = {0};
            buf_printf(&b, "%s (%s)", name, email);
            val = buf_detach(&b);
        } else if (*name || *email) {
            val = ctx_strdup(*name ? name : email);
        } else {
            val = dup_trim(buf_str(&c->b), buf_len(&c->b));
        }
        free(name);
        free(email);
        set_field(f, F_AUTHOR, val, c->depth, CT_TEXT, NULL, entry);
        return;
    }

    const char *s = buf_str(&c->b);
    size_t n = buf_len(&c->b);
    if (c->declared_xhtml && c->nchild == 1 && c->first_div && !c->direct_text
        && c->inner_end >= c->inner_start && !strcmp(fp->version, "atom10")) {
        s += c->inner_start;
        n = c->inner_end - c->inner_start;
    }
    val = dup_trim(s, n);
    if (c->base64) {
        char *d = base64_text(val, strlen(val));
        if (d) {
            free(val);
            val = dup_trim(d, strlen(d));
            free(d);
        }
    }
    /* UTF-8 that went through Latin-1 once too often (feedparser's fix,
     * for documents that are UTF-8) */
    if (!strcmp(fp->encoding, "utf-8")) {
        char *once = utf8_undouble(val);
        if (once) {
            free(val);
            val = once;
        }
    }
    if (c->construct) {
        /* RSS "plain text" that is really HTML is HTML (feedparser's
         * lookslikehtml), and HTML goes through its sanitizer */
        if (c->type == CT_TEXT && !strcmp(c->mime, "text/plain") && strncmp(fp->version, "atom", 4)
            && html_looks_like(val)) {
            c->type = CT_HTML;
            snprintf(c->mime, sizeof c->mime, "%s", ctype_name(CT_HTML));
        }
        if (c->type == CT_HTML || c->type == CT_XHTML) {
            char *clean = html_sanitize(val, strlen(val), cur_base(fp));
            free(val);
            val = clean;
        }
    }
    if (c->field == F_LINK) {
        char *abs = url_resolve(cur_base(fp), val);
        free(val);
        if (c->link && *abs)
            link_set(c->link, "href", abs);
        if (!c->alternate) {
            free(abs);
            return;
        }
        if (!f->first_href && *abs)
            f->first_href = ctx_strdup(abs);
        free(f->v[F_LINK]);
        f->v[F_LINK] = abs;
        f->link_from_id = false;
        return;
    }
    if (c->field == F_ID) {
        if (c->permalink && *val) {
            char *abs = url_resolve(cur_base(fp), val);
            free(val);
            val = abs;
        }
        if (c->permalink && *val && !f->v[F_LINK]) {
            f->v[F_LINK] = ctx_strdup(val);
            f->link_from_id = true;
        }
        free(f->v[F_ID]);
        f->v[F_ID] = val;
        return;
    }
    /* media:title only stands in for a missing title: any real one wins */
    set_field(f, c->field, val, c->el == E_MEDIA_TITLE ? INT_MAX : c->depth, c->type, c->mime,
              entry);
    /* content that is text or HTML doubles as the summary until a real one
     * comes (feedparser) */
    if (entry && c->field == F_CONTENT && f->v[F_CONTENT] == val && !f->v[F_SUMMARY]
        && summary_like(c->mime)) {
        f->v[F_SUMMARY] = ctx_strdup(val);
        f->depth[F_SUMMARY] = INT_MAX;
        f->type[F_SUMMARY] = (unsigned char)c->type;
        snprintf(f->summary_type, sizeof f->summary_type, "%s", c->mime);
    }
}

/* ---- the walk ----------------------------------------------------------- */

static enum nsclass ns_class(const struct xml_parser *x)
{
    if (x->ns_unbound) {
        for (size_t i = 0; i < CTX_ARRAY_LEN(known_prefix); i++)
            if (x->name.plen == strlen(known_prefix[i].prefix)
                && !strncasecmp(x->name.q, known_prefix[i].prefix, x->name.plen))
                return known_prefix[i].cls;
        return NS_OTHER;
    }
    if (!x->ns || !*x->ns)
        return NS_CORE;
    for (size_t i = 0; i < CTX_ARRAY_LEN(known_ns); i++)
        if (ieq(x->ns, known_ns[i].uri))
            return known_ns[i].cls;
    if (strstr(x->ns, "backend.userland.com/rss"))
        return NS_CORE;
    return NS_OTHER;
}

static enum el classify(const struct xml_parser *x)
{
    enum nsclass ns = ns_class(x);
    if (ns == NS_OTHER)
        return E_NONE;
    for (size_t i = 0; i < CTX_ARRAY_LEN(elements); i++)
        if (elements[i].ns == ns && xml_name_is(&x->name, elements[i].local))
            return elements[i].el;
    return E_NONE;
}

static void set_version(struct feedp *fp, const char *v)
{
    if (!fp->version[0])
        snprintf(fp->version, sizeof fp->version, "%s", v);
}

static void root_lang(struct feedp *fp)
{
    const char *lang = xml_attr_get(&fp->x, XML_NS_XML, "lang");
    if (lang && *lang && !fp->feed.v[F_LANGUAGE])
        set_field(&fp->feed, F_LANGUAGE, dup_trim(lang, strlen(lang)), fp->x.depth, CT_TEXT,
                  NULL, false);
}

static void begin_entry(struct feedp *fp)
{
    if (fp->nentries >= FEED_MAX_ENTRIES) {
        fp->skip_depth = fp->x.depth;
        return;
    }
    if (fp->nentries == fp->capentries) {
        size_t cap = fp->capentries ? fp->capentries * 2 : 16;
        fp->entries = ctx_realloc(fp->entries, cap * sizeof *fp->entries);
        fp->capentries = cap;
    }
    struct fields *f = &fp->entries[fp->nentries];
    memset(f, 0, sizeof *f);
    fp->cur = (int)fp->nentries++;
    fp->entry_depth = fp->x.depth;
    const char *about = xml_attr_get(&fp->x, NS_RDF_URI, "about");
    if (about && *about)
        f->v[F_ID] = ctx_strdup(about);
}

/* A <link>: its "links" entry (rel defaults to alternate, type to
 * text/html, or Atom's own type for rel="self"), and the feed's or entry's
 * link when it is the alternate HTML one. Without an href the text is the
 * href (RSS), read by a capture. */
static void link_start(struct feedp *fp)
{
    struct fields *f = target(fp, fp->cur);
    const struct xml_parser *x = &fp->x;
    char relb[256], typeb[256];
    const char *href = xml_attr_get(x, NULL, "href");
    if (!href)
        href = xml_attr_get(x, NULL, "url");
    if (!href)
        href = xml_attr_get(x, NULL, "uri");
    const char *rel = lower_attr(xml_attr_get(x, NULL, "rel"), relb, sizeof relb);
    const char *type = lower_attr(xml_attr_get(x, NULL, "type"), typeb, sizeof typeb);
    json_t *l = new_link(f);
    link_set(l, "rel", rel ? rel : "alternate");
    link_set(l, "type", type ? type : rel && !strcmp(rel, "self") ? "application/atom+xml"
                                                                  : "text/html");
    link_set(l, "title", xml_attr_get(x, NULL, "title"));
    link_set(l, "hreflang", xml_attr_get(x, NULL, "hreflang"));
    link_set(l, "length", xml_attr_get(x, NULL, "length"));
    if (!href) {
        cap_begin(fp, E_LINK, F_LINK, false, CT_TEXT);
        fp->cap.link = l;
        /* a text link counts only as the alternate one */
        fp->cap.alternate = !rel || !strcmp(rel, "alternate");
        return;
    }
    bool b64;
    char *abs = url_resolve(cur_base(fp), href);
    link_set(l, "href", abs);
    if (!f->first_href && *abs)
        f->first_href = ctx_strdup(abs);
    enum ctype t = map_type(type, CT_HTML, &b64, NULL);
    if ((!rel || !strcmp(rel, "alternate")) && (t == CT_HTML || t == CT_XHTML) && !b64) {
        free(f->v[F_LINK]);
        f->v[F_LINK] = abs;
        f->link_from_id = false;
        return;
    }
    free(abs);
}

/* RSS <enclosure url= length= type=>: a "links" entry with rel enclosure. */
static void enclosure(struct feedp *fp)
{
    const char *url = xml_attr_get(&fp->x, NULL, "url");
    if (!url)
        url = xml_attr_get(&fp->x, NULL, "href");
    char *abs = url_resolve(cur_base(fp), url);
    json_t *l = new_link(target(fp, fp->cur));
    link_set(l, "rel", "enclosure");
    link_set(l, "href", abs);
    link_set(l, "type", xml_attr_get(&fp->x, NULL, "type"));
    link_set(l, "length", xml_attr_get(&fp->x, NULL, "length"));
    free(abs);
}

/* CDF's <CHANNEL>/<ITEM HREF= LASTMOD=>: a link and an update time. */
static void cdf_attrs(struct feedp *fp)
{
    struct fields *f = target(fp, fp->cur);
    const char *href = xml_attr_get(&fp->x, NULL, "href");
    const char *lastmod = xml_attr_get(&fp->x, NULL, "lastmod");
    if (lastmod && !f->v[F_UPDATED])
        f->v[F_UPDATED] = dup_trim(lastmod, strlen(lastmod));
    if (href && !f->v[F_LINK]) {
        char *abs = url_resolve(cur_base(fp), href);
        json_t *l = new_link(f);
        link_set(l, "rel", "alternate");
        link_set(l, "type", "text/html");
        link_set(l, "href", abs);
        if (!f->first_href)
            f->first_href = ctx_strdup(abs);
        f->v[F_LINK] = abs;
    }
}

/* The namespaces a document declares say which format it is, before any
 * element does (feedparser's rule). */
static void version_from_ns(struct feedp *fp)
{
    for (size_t i = 0; i < fp->x.nattrs && !fp->version[0]; i++) {
        const struct xml_attr *a = &fp->x.attrs[i];
        if (!a->xmlns)
            continue;
        if (a->name.plen == 0 && ieq(a->value, NS_RSS090))
            set_version(fp, "rss090");
        else if (ieq(a->value, NS_RSS10))
            set_version(fp, "rss10");
        else if (ieq(a->value, NS_ATOM10))
            set_version(fp, "atom10");
    }
}

static void on_start(struct feedp *fp)
{
    struct xml_parser *x = &fp->x;
    if (!fp->version[0])
        version_from_ns(fp);
    const char *xb = xml_attr_get(x, XML_NS_XML, "base");
    if (xb)
        push_base(fp, xb, x->depth);
    if (fp->cap.on) {
        cap_start(fp);
        return;
    }
    if (fp->skip_depth)
        return;
    bool in_entry = fp->cur >= 0;
    struct fields *f = target(fp, fp->cur);
    const char *v;
    enum el el = classify(x);
    switch (el) {
    case E_RSS:
        fp->feedlike = true;
        v = xml_attr_get(x, NULL, "version");
        if (!v)
            v = "";
        if (strncmp(fp->version, "rss", 3))
            fp->version[0] = '\0';   /* <rss> wins over namespace guesses */
        set_version(fp, !strcmp(v, "0.91") ? "rss091u" : !strcmp(v, "0.92") ? "rss092"
                        : !strcmp(v, "0.93") ? "rss093" : !strcmp(v, "0.94") ? "rss094"
                        : !strncmp(v, "2.", 2) ? "rss20" : "rss");
        if (x->depth == 1)
            root_lang(fp);
        break;
    case E_FEED:
        fp->feedlike = true;
        v = xml_attr_get(x, NULL, "version");
        if (x->ns && ieq(x->ns, NS_ATOM10))
            set_version(fp, "atom10");
        else
            set_version(fp, !v ? "atom" : !strcmp(v, "0.3") ? "atom03"
                            : !strcmp(v, "0.2") ? "atom02" : !strcmp(v, "0.1") ? "atom01" : "atom");
        if (x->depth == 1)
            root_lang(fp);
        break;
    case E_RDF:
        fp->feedlike = true;
        if (x->depth == 1)
            root_lang(fp);
        break;
    case E_CHANNEL:
    case E_ITEM:
        fp->feedlike = true;
        if (x->ns && ieq(x->ns, NS_RSS10))
            set_version(fp, "rss10");
        else if (x->ns && ieq(x->ns, NS_RSS090))
            set_version(fp, "rss090");
        if (el == E_ITEM)
            begin_entry(fp);
        cdf_attrs(fp);
        break;
    case E_SKIP:
        fp->skip_depth = x->depth;
        break;
    case E_AUTHOR:
        cap_begin(fp, E_AUTHOR, F_AUTHOR, false, CT_TEXT);
        break;
    case E_TITLE:
    case E_MEDIA_TITLE:
        cap_begin(fp, el, F_TITLE, true, CT_TEXT);
        break;
    case E_LINK:
        link_start(fp);
        break;
    case E_ENCLOSURE:
        if (in_entry)
            enclosure(fp);
        break;
    case E_ID:
        cap_begin(fp, E_ID, F_ID, false, CT_TEXT);
        v = xml_attr_get(x, NULL, "ispermalink");
        fp->cap.permalink = !v || !strcmp(v, "true");
        break;
    case E_DESCRIPTION:
    case E_SUMMARY:
        /* feedparser: a description or summary after a summary, before any
         * content element, is the content (at feed level: dropped, as we
         * keep no feed content); else a description is the feed's subtitle
         * or the entry's summary, a summary (iTunes') the summary */
        if (f->v[F_SUMMARY] && !f->has_content) {
            if (in_entry) {
                f->has_content = true;
                cap_begin(fp, E_CONTENT, F_CONTENT, true, CT_TEXT);
            }
        } else if (!in_entry && el == E_DESCRIPTION) {
            cap_begin(fp, E_DESCRIPTION, F_SUBTITLE, true, CT_HTML);
        } else {
            cap_begin(fp, E_SUMMARY, F_SUMMARY, true,
                      el == E_DESCRIPTION ? CT_HTML : CT_TEXT);
        }
        break;
    case E_ABSTRACT:
        /* CDF: the description, as plain text (which may look like HTML) */
        cap_begin(fp, E_ABSTRACT, in_entry ? F_SUMMARY : F_SUBTITLE, true, CT_TEXT);
        break;
    case E_SUBTITLE:
        cap_begin(fp, E_SUBTITLE, F_SUBTITLE, true, CT_TEXT);
        break;
    case E_CONTENT:
    case E_ENCODED:
    case E_BODY:
        if (in_entry) {
            f->has_content |= el != E_BODY;      /* as feedparser: not for a body */
            cap_begin(fp, el, F_CONTENT, true,
                      el == E_CONTENT ? CT_TEXT : el == E_ENCODED ? CT_HTML : CT_XHTML);
        }
        break;
    case E_PUBLISHED:
        cap_begin(fp, E_PUBLISHED, F_PUBLISHED, false, CT_TEXT);
        break;
    case E_UPDATED:
        cap_begin(fp, E_UPDATED, F_UPDATED, false, CT_TEXT);
        break;
    case E_CREATED:
        cap_begin(fp, E_CREATED, F_CREATED, false, CT_TEXT);
        break;
    case E_LANGUAGE:
        if (!in_entry)
            cap_begin(fp, E_LANGUAGE, F_LANGUAGE, false, CT_TEXT);
        break;
    case E_NONE:
        break;
    }
}

static void on_end(struct feedp *fp)
{
    struct xml_parser *x = &fp->x;
    if (fp->cap.on) {
        if (x->depth == fp->cap.depth)
            cap_finish(fp);
        else
            cap_end(fp);
    }
    if (fp->skip_depth == x->depth)
        fp->skip_depth = 0;
    if (fp->cur >= 0 && fp->entry_depth == x->depth)
        fp->cur = -1;
    while (fp->nbases && fp->bases[fp->nbases - 1].depth >= x->depth)
        free(fp->bases[--fp->nbases].uri);
}

/* ---- building the result ------------------------------------------------ */

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

#define FNV_OFFSET 0xcbf29ce484222325ULL

/* A stored value as plain text. */
static char *plain(const struct feedp *fp, const struct fields *f, enum field k)
{
    const char *v = f->v[k];
    if (!v)
        return NULL;
    (void)fp;
    bool html = f->type[k] == CT_HTML || f->type[k] == CT_XHTML;
    return html ? html_to_text(v, strlen(v)) : text_collapse(v, strlen(v));
}

static bool http_url(const char *u)
{
    return u && (!strncasecmp(u, "http://", 7) || !strncasecmp(u, "https://", 8));
}

static bool unsafe_url(const char *u)
{
    return !strncasecmp(u, "javascript:", 11) || !strncasecmp(u, "vbscript:", 9)
        || !strncasecmp(u, "data:", 5);
}

static json_t *jstr(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

/* "en-US" -> "en"; NULL when it does not look like a language tag. */
char *feed_lang_primary(const char *l)
{
    char out[9];
    size_t n = 0;
    if (!l)
        return NULL;
    while (*l == ' ')
        l++;
    for (; *l && *l != '-' && *l != '_' && *l != ' '; l++) {
        if (n >= 8 || !((*l | 0x20) >= 'a' && (*l | 0x20) <= 'z'))
            return NULL;
        out[n++] = (char)(*l | 0x20);
    }
    if (n < 2)
        return NULL;
    out[n] = '\0';
    return ctx_strdup(out);
}

static bool plausible(long long t)
{
    return t >= -2208988800LL && t < 253402300800LL;   /* 1900-01-01 .. 10000-01-01 */
}

char *feed_item_id(const char *source, const char *id, const char *link, const char *title,
                   const char *summary)
{
    struct buf key = {0};
    const char *k = id && *id ? id : link && *link ? link : NULL;
    if (k) {
        buf_puts(&key, k);
    } else {
        uint64_t h = fnv1a(fnv1a(FNV_OFFSET, title), summary);
        buf_printf(&key, "%016llx", (unsigned long long)h);
    }
    if (buf_len(&key) > FEED_MAX_KEY) {
        uint64_t h = fnv1a(FNV_OFFSET, buf_str(&key));
        buf_reset(&key);
        buf_printf(&key, "h%016llx", (unsigned long long)h);
    }
    struct buf idb = {0};
    buf_printf(&idb, "feed:%s:%s", source ? source : "", buf_str(&key));
    buf_free(&key);
    return buf_detach(&idb);
}

void feed_item_date(const char *published, const char *updated, const char *fetched,
                    char out[CTX_TIME_LEN])
{
    /* years outside 1900-9999 are typos (and would not print as RFC 3339) */
    long long t;
    if ((ctx_date_parse(published, &t) == 0 && plausible(t))
        || (ctx_date_parse(updated, &t) == 0 && plausible(t)))
        ctx_time_format(t, out);
    else
        snprintf(out, CTX_TIME_LEN, "%s", fetched ? fetched : "");
}

static void build_item(const struct feedp *fp, const struct fields *f, const char *fetched,
                       const char *lang, struct item *it)
{
    char date[CTX_TIME_LEN];

    it->id = feed_item_id(fp->name, f->v[F_ID], f->v[F_LINK], f->v[F_TITLE], f->v[F_SUMMARY]);
    const char *url = f->v[F_LINK];
    if (url && (!*url || (f->link_from_id && !http_url(url))))
        url = NULL;
    if (!url)
        url = f->first_href;
    if (url && unsafe_url(url))
        url = NULL;
    /* published, else updated, else created (Atom 0.3, dcterms), else when
     * we fetched it */
    feed_item_date(f->v[F_PUBLISHED], f->v[F_UPDATED], NULL, date);
    if (!*date)
        feed_item_date(f->v[F_CREATED], NULL, fetched, date);
    enum field body = f->v[F_CONTENT] && *f->v[F_CONTENT] ? F_CONTENT : F_SUMMARY;
    item_set(&it->source, fp->name);
    item_set(&it->kind, "blog");
    item_set(&it->url, url);
    item_set(&it->published, date);
    item_set(&it->fetched, fetched);
    item_set(&it->lang, lang);
    /* Atom: an entry without an author has the feed's (RFC 4287 4.2.1) */
    const char *author = f->v[F_AUTHOR];
    if ((!author || !*author) && !strncmp(fp->version, "atom", 4))
        author = fp->feed.v[F_AUTHOR];
    if (author && *author)
        item_set(&it->author.handle, author);
    it->title = plain(fp, f, F_TITLE);
    if (it->title && !*it->title) {
        free(it->title);
        it->title = NULL;
    }
    it->text = plain(fp, f, body);
}

static json_t *fields_json(const struct fields *f, const enum field *keys, const char *const *names,
                           size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(o, names[i], jstr(f->v[keys[i]]));
    json_object_set_new(o, "links", f->links ? json_incref(f->links) : json_array());
    return o;
}

static void build(struct feedp *fp, const char *fetched, struct parse_result *r)
{
    static const enum field fkeys[] = {F_TITLE, F_LINK, F_SUBTITLE, F_SUMMARY, F_LANGUAGE,
                                       F_AUTHOR, F_ID, F_PUBLISHED, F_UPDATED};
    static const char *const fnames[] = {"title", "link", "subtitle", "summary", "language",
                                         "author", "id", "published", "updated"};
    static const enum field ekeys[] = {F_TITLE, F_LINK, F_ID, F_AUTHOR, F_PUBLISHED,
                                       F_UPDATED, F_SUMMARY, F_CONTENT, F_SUBTITLE};
    static const char *const enames[] = {"title", "link", "id", "author", "published",
                                         "updated", "summary", "content", "subtitle"};
    char *lang = feed_lang_primary(fp->feed.v[F_LANGUAGE]);
    json_t *extra = json_object(), *entries = json_array();
    bool bozo = fp->bozo || fp->x.bozo;
    const char *msg = fp->bozo ? fp->error : fp->x.error;

    json_object_set_new(extra, "feed", fields_json(&fp->feed, fkeys, fnames, CTX_ARRAY_LEN(fkeys)));
    for (size_t i = 0; i < fp->nentries; i++) {
        const struct fields *f = &fp->entries[i];
        json_t *ej = fields_json(f, ekeys, enames, CTX_ARRAY_LEN(ekeys));
        json_object_set_new(ej, "content_type",
                            f->v[F_CONTENT] ? json_string(f->content_type) : json_null());
        json_object_set_new(ej, "summary_type",
                            f->v[F_SUMMARY] ? json_string(f->summary_type) : json_null());
        json_array_append_new(entries, ej);
        struct item it;
        item_init(&it);
        build_item(fp, f, fetched, lang, &it);
        parse_result_take(r, &it);
    }
    json_object_set_new(extra, "entries", entries);
    json_object_set_new(extra, "bozo", json_boolean(bozo));
    json_object_set_new(extra, "bozo_exception", bozo ? jstr(msg) : json_null());
    json_object_set_new(extra, "version", jstr(fp->version[0] ? fp->version : NULL));
    json_object_set_new(extra, "encoding", jstr(fp->encoding[0] ? fp->encoding : NULL));
    json_decref(r->extra);
    r->extra = extra;
    r->bozo = bozo;
    if (bozo)
        snprintf(r->error, sizeof r->error, "%s", msg);
    free(lang);
}

/* ---- entry point -------------------------------------------------------- */

static void feedp_free(struct feedp *fp)
{
    fields_clear(&fp->feed);
    for (size_t i = 0; i < fp->nentries; i++)
        fields_clear(&fp->entries[i]);
    free(fp->entries);
    for (size_t i = 0; i < fp->nbases; i++)
        free(fp->bases[i].uri);
    free(fp->bases);
    buf_free(&fp->cap.b);
    buf_free(&fp->cap.name);
    buf_free(&fp->cap.email);
    free(fp->docbase);
    xml_free(&fp->x);
}

/* JSON Feed rather than XML: served as JSON and starting with '{', or
 * unlabelled and starting with '{' (feedparser's rule), or starting with
 * '{' and naming a jsonfeed.org version whatever the label says. */
static bool sniff_json(const struct http_response *resp)
{
    char mime[128], cs[64];
    const unsigned char *u = (const unsigned char *)resp->body;
    size_t n = resp->len, i = 0;
    size_t step = 1;
    bool be = false;
    http_content_type(resp->content_type, mime, sizeof mime, cs, sizeof cs);
    if (n >= 3 && !memcmp(u, "\xEF\xBB\xBF", 3))
        i = 3;
    else if (n >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
        i = 2, step = 2, be = u[0] == 0xFE;          /* UTF-16 JSON (RFC 7159) */
    unsigned c = 0;
    for (; i + step <= n; i += step) {
        c = step == 1 ? u[i] : be ? (unsigned)(u[i] << 8 | u[i + 1]) : (unsigned)(u[i + 1] << 8 | u[i]);
        if (c > 0x7F || !ascii_space((unsigned char)c))
            break;
    }
    if (i + step > n || c != '{')
        return false;
    size_t ml = strlen(mime);
    if (!mime[0] || !strcmp(mime, "application/json") || !strcmp(mime, "application/feed+json")
        || (ml > 5 && !strcmp(mime + ml - 5, "+json")))
        return true;
    return memmem(u + i, n - i < 4096 ? n - i : 4096, "jsonfeed.org/version/", 21) != NULL;
}

ctx_err feed_parse(const char *name, const struct http_response *resp,
                   const char *fetched, struct parse_result *r)
{
    struct feedp fp;
    struct buf doc = {0};
    ctx_err e;

    memset(&fp, 0, sizeof fp);
    fp.name = name ? name : "";
    fp.cur = -1;
    if (!resp->body || resp->len == 0) {
        snprintf(r->error, sizeof r->error, "empty body");
        return CTX_EPARSE;
    }
    fp.docbase = doc_base(resp);
    bool json = sniff_json(resp);
    struct charset_info ci = {0};
    if ((e = charset_decode(resp->body, resp->len, resp->content_type, json, &doc, &ci))) {
        feedp_free(&fp);
        buf_free(&doc);
        return e;
    }
    snprintf(fp.encoding, sizeof fp.encoding, "%s", ci.encoding);
    fp.bozo = ci.bozo;
    snprintf(fp.error, sizeof fp.error, "%s", ci.error);
    if (json) {
        struct feed_doc d = {.source = fp.name, .text = buf_str(&doc), .len = buf_len(&doc),
                             .base = fp.docbase, .encoding = fp.encoding, .bozo = fp.bozo,
                             .error = fp.error, .fetched = fetched};
        e = jsonfeed_parse(&d, r);
        feedp_free(&fp);
        buf_free(&doc);
        return e;
    }
    xml_init(&fp.x, buf_str(&doc), buf_len(&doc));
    for (;;) {
        enum xml_event ev = xml_next(&fp.x);
        if (ev == XML_EOF)
            break;
        if (ev == XML_START)
            on_start(&fp);
        else if (ev == XML_END)
            on_end(&fp);
        else if (fp.cap.on)
            cap_text(&fp);
    }
    if (!fp.feedlike) {
        snprintf(r->error, sizeof r->error, "not a feed%s%s", fp.x.bozo ? ": " : "",
                 fp.x.bozo ? fp.x.error : "");
        e = CTX_EPARSE;
    } else {
        build(&fp, fetched, r);
    }
    feedp_free(&fp);
    buf_free(&doc);
    return e;
}

static ctx_err feed_validate(const struct config_source *src, char *err, size_t errlen)
{
    const struct { const char *key, *v; } unused[] = {
        {"query", src->query}, {"tag", src->tag}, {"subreddit", src->subreddit},
        {"mode", src->mode}, {"token", src->token}, {"token_env", src->token_env},
        {"api_version", src->api_version},
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(unused); i++)
        if (unused[i].v) {
            snprintf(err, errlen, "%s: not used by kind feed", unused[i].key);
            return CTX_ECONFIG;
        }
    if (!src->url) {
        snprintf(err, errlen, "url: missing (required for kind feed)");
        return CTX_ECONFIG;
    }
    if (strncasecmp(src->url, "http://", 7) && strncasecmp(src->url, "https://", 8)) {
        snprintf(err, errlen, "url: \"%.100s\" is not an http:// or https:// URL", src->url);
        return CTX_ECONFIG;
    }
    return CTX_OK;
}

static ctx_err feed_parse_source(const struct config_source *src, const char *cursor,
                                 const struct http_response *resp, const char *fetched,
                                 struct parse_result *r)
{
    (void)cursor;   /* feeds have no paging: conditional GET does the work */
    return feed_parse(src->name, resp, fetched, r);
}

const struct source_ops feed_source_ops = {
    .kind = "feed",
    .item_kind = "blog",
    .validate = feed_validate,
    .parse = feed_parse_source,
};
