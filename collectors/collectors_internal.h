/* collectors_internal.h -- what the collectors' files share and nobody else
 * needs: the tolerant XML tokenizer (xml.c), the HTML entity table and UTF-8
 * helpers (entities.c), HTML to text (html.c), feedparser's sanitizer
 * (sanitize.c), URLs (url.c), decoding bytes to text (charset.c), and what
 * feed.c hands jsonfeed.c. Not part of the module's public interface. */
#ifndef CTX_COLLECTORS_INTERNAL_H
#define CTX_COLLECTORS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/utf8.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/ctx.h"
#include "collectors/collectors.h"

/* ---- problems (result.c) ------------------------------------------------ */

/* Note a problem with a document: sets *bozo and writes the message into
 * err[0..cap), unless *bozo is already set -- the first problem found is
 * the one reported. */
void first_problem(bool *bozo, char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- ASCII classes the scanners share ----------------------------------- */

static inline bool ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static inline bool ascii_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool ascii_alnum(unsigned char c)
{
    return ascii_alpha(c) || (c >= '0' && c <= '9');
}

/* ---- UTF-8 and entities (entities.c) ------------------------------------ */

/* The codec is core/utf8.h. The collectors' way of asking it: the length
 * consumed (>= 1), the code point, and whether the sequence was invalid. */
static inline size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp, bool *bad)
{
    size_t adv;
    *cp = ctx_utf8_decode(s, len, &adv);
    *bad = s[0] >= 0x80 && adv == 1;
    return adv;
}

/* Text that is UTF-8 read as Latin-1 (or windows-1252) and encoded again,
 * decoded once more ("\u00c3\u00a9" -> "\u00e9"): only when every character fits
 * a byte and the bytes are valid UTF-8 with a multi-byte sequence, as
 * feedparser checks. Malloc'd; NULL when that does not apply. */
char *utf8_undouble(const char *s);

/* A numeric character reference's code point as browsers read it: 128-159
 * through windows-1252, NUL, surrogates and out-of-range values to U+FFFD. */
uint32_t charref_fixup(uint32_t cp);

/* HTML named entity (without '&' and ';', case-sensitive) to a code point.
 * Returns true when known. */
bool html_entity_lookup(const char *name, size_t len, uint32_t *cp);

/* Whitespace as Unicode has it (ASCII's, no-break and the typographic
 * spaces), for trimming and collapsing text. */
bool cp_is_space(uint32_t cp);

/* ---- HTML (html.c, sanitize.c) ------------------------------------------ */

/* Plain text to normalized text: whitespace runs collapsed to one space,
 * trimmed, invalid UTF-8 replaced. Malloc'd, never NULL. */
char *text_collapse(const char *s, size_t len);

/* HTML as Python feedparser's sanitizer leaves it (sanitize.c): whitelisted
 * elements, attributes, CSS properties and URI schemes only, script/style
 * and their content dropped, relative URIs resolved against base (NULL:
 * left relative), re-serialised the way feedparser does. Malloc'd, never
 * NULL. */
char *html_sanitize(const char *html, size_t len, const char *base);

/* feedparser's test for "plain text" that is really HTML: a close tag or an
 * entity reference, whitelisted element names only, known entities only. */
bool html_looks_like(const char *s);

/* Whether sanitize.c's tables are sorted (they are searched with
 * bsearch); for the unit tests. */
bool html_sanitizer_tables_sorted(void);

/* ---- URLs (url.c) ------------------------------------------------------- */

/* ref resolved against base (RFC 3986 section 5.2, through libcurl's URL
 * API; either may be NULL). An absolute ref is returned as written, and so
 * is any ref when base is missing, relative or not a URL curl can parse.
 * Malloc'd; NULL only when ref is NULL. */
char *url_resolve(const char *base, const char *ref);


/* Whether u is relative or has a scheme feedparser accepts (http, https,
 * ftp, mailto... not javascript or data). */
bool url_safe(const char *u);

/* feedparser's make_safe_absolute_uri(base, ref): ref resolved against
 * base, or "" when the result's scheme is not one it accepts (without a
 * base, ref alone is checked by url_safe). Malloc'd, never NULL. */
char *url_safe_absolute(const char *base, const char *ref);

/* ---- bytes to text (charset.c) ------------------------------------------ */

/* What charset_decode() found: the encoding it used, and the first problem
 * (bozo) -- a non-XML media type, a declared charset that did not fit, bytes
 * that decode nowhere. */
struct charset_info {
    char encoding[64];
    bool bozo;
    char error[200];
};

/* A feed body (served with content_type, which may be NULL) as UTF-8 into
 * out: BOM, HTTP charset, XML declaration (not when json), then guesses, in
 * feedparser's order. The result is valid UTF-8 without NULs. CTX_OK, or
 * CTX_EINVAL when a UTF-16/32 body finds iconv without that codec. */
ctx_err charset_decode(const char *s, size_t len, const char *content_type, bool json,
                       struct buf *out, struct charset_info *ci);

/* A Content-Type header's media type (lower-cased) and charset parameter,
 * each "" when absent or unusable. */
void http_content_type(const char *ct, char *mime, size_t mcap, char *cs, size_t ccap);

/* s[0..n) as a media type or charset token: quotes and spaces trimmed,
 * lower-cased, into out. false when empty, too long or not a token. */
bool media_token(const char *s, size_t n, char *out, size_t cap);

/* Base64 (standard or URL-safe alphabet) decoded to text; malloc'd, NULL
 * when it is not base64 of valid UTF-8. */
char *base64_text(const char *s, size_t n);

/* ---- what feed.c shares with jsonfeed.c -------------------------------- */

/* An item id: "feed:<source>:<key>", the key being the entry's id, else its
 * link, else a hash of title and summary; keys over 200 bytes are hashed.
 * Malloc'd, never NULL. */
char *feed_item_id(const char *source, const char *id, const char *link, const char *title,
                   const char *summary);

/* An item's time: published, else updated, else fetched, as RFC 3339 UTC
 * (dates with implausible years count as missing). */
void feed_item_date(const char *published, const char *updated, const char *fetched,
                    char out[CTX_TIME_LEN]);

/* A language tag's primary subtag ("en-US" -> "en"), malloc'd; NULL when l
 * does not look like a language tag. */
char *feed_lang_primary(const char *l);

/* A JSON Feed body as feed.c hands it to jsonfeed.c: already decoded to
 * UTF-8 (BOM and HTTP charset honoured) and its base URI worked out. */
struct feed_doc {
    const char *source;     /* the source's name, for item ids */
    const char *text;       /* UTF-8, NUL-terminated */
    size_t len;
    const char *base;       /* base URI of relative links, or NULL */
    const char *encoding;   /* what the body was decoded from */
    bool bozo;              /* decoding already found a problem ... */
    const char *error;      /* ... this one */
    const char *fetched;    /* RFC 3339: the time of items without a date */
};

/* JSON Feed 1.0 and 1.1 (jsonfeed.c): items and r->extra in the same shape
 * as the XML formats give. CTX_OK (r->bozo when the JSON had to be repaired
 * or broke the spec), CTX_EPARSE when it is not a JSON Feed. */
ctx_err jsonfeed_parse(const struct feed_doc *d, struct parse_result *r);

/* ---- the XML tokenizer (xml.c) ------------------------------------------
 *
 * Pull-style: xml_next() returns one event at a time. Every pointer in the
 * current event (names, namespace URIs, attribute values, text) stays valid
 * only until the next xml_next() call. Names point into the document, which
 * must outlive the parser and be valid UTF-8 (feed.c guarantees that).
 *
 * Ill-formed input never stops the tokenizer: mismatched end tags close the
 * matching ancestor (or are dropped), open elements are closed at the end,
 * undefined entities are decoded from the HTML table or kept literally, and
 * every such repair sets `bozo` with the first problem in `error`. Nesting
 * deeper than XML_MAX_DEPTH is flattened (the too-deep tags are dropped, their
 * text kept). Each call consumes input or closes an element, so a document of
 * n bytes yields O(n) events in O(n) total time. */

#define XML_MAX_DEPTH    256
#define XML_MAX_ATTRS    64
#define XML_MAX_BINDINGS 128   /* namespace declarations in scope */
#define XML_MAX_ENTITIES 64    /* <!ENTITY> declarations kept from a DOCTYPE */

#define XML_NS_XML   "http://www.w3.org/XML/1998/namespace"
#define XML_NS_XMLNS "http://www.w3.org/2000/xmlns/"

enum xml_event {
    XML_EOF = 0,
    XML_START,      /* a start tag (an empty element gives START then END) */
    XML_END,
    XML_TEXT,       /* character data, entities decoded; CDATA raw */
};

struct xml_name {
    const char *q;       /* qualified name as written: "dc:creator" */
    size_t qlen;
    const char *local;   /* after the prefix: "creator" */
    size_t llen;
    size_t plen;         /* prefix length (0: none); the prefix is q[0..plen) */
};

struct xml_attr {
    struct xml_name name;
    const char *ns;      /* namespace URI, NULL for unprefixed or unbound */
    const char *value;   /* decoded, NUL-terminated */
    size_t vlen;
    bool xmlns;          /* a namespace declaration (xmlns, xmlns:p) */
};

struct xml_elem;         /* an open element (xml.c) */
struct xml_binding;      /* a namespace declaration in scope (xml.c) */
struct xml_entity;       /* an <!ENTITY> from the DOCTYPE (xml.c) */

struct xml_parser {
    /* ---- the current event, read-only for callers ---- */
    enum xml_event ev;
    struct xml_name name;        /* START, END */
    const char *ns;              /* START, END: namespace URI, NULL if none */
    bool ns_unbound;             /* the element's prefix was never declared */
    const struct xml_attr *attrs; /* START */
    size_t nattrs;
    const char *text;            /* TEXT (not NUL-terminated) */
    size_t text_len;
    bool cdata;                  /* TEXT came from a CDATA section */
    int depth;                   /* START/END: 1 for the root element; TEXT: parent's */

    /* ---- diagnostics ---- */
    bool bozo;                   /* the document is not well-formed */
    char error[200];             /* the first problem, "line N: ..." */

    /* ---- private ---- */
    const char *doc, *cur, *end;
    struct xml_elem *stack;
    int sp, close_to, overflow;
    bool closing, pop_pending, end_pending, root_seen, root_closed, junk_noted;
    struct xml_binding *binds;
    size_t nbinds, capbinds;
    struct xml_entity *ents;
    size_t nents;
    size_t expanded;             /* bytes produced by <!ENTITY> expansion */
    struct buf nsstore, textbuf, attrbuf;
    struct xml_attr *attrv;
    size_t *attroff;
};

/* Start tokenizing doc[0..len); free with xml_free. */
void xml_init(struct xml_parser *p, const char *doc, size_t len);
enum xml_event xml_next(struct xml_parser *p);
void xml_free(struct xml_parser *p);

/* Local-name comparison, ASCII case-insensitive ("pubDate" == "pubdate"). */
bool xml_name_is(const struct xml_name *n, const char *local);
/* The value of an unprefixed attribute (ASCII case-insensitive), or of one
 * in namespace ns when ns is not NULL; NULL when absent. */
const char *xml_attr_get(const struct xml_parser *p, const char *ns, const char *local);

#endif
