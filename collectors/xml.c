/* xml.c -- a tolerant pull tokenizer for the XML that feeds are made of.
 *
 * Feeds are XML written by people who never ran a validator, so this is not
 * a validating parser: it reads what is there, repairs what it must, and
 * reports the first repair (bozo, as Python's feedparser calls it). What it
 * does understand: elements and attributes, namespace prefixes resolved to
 * URIs through xmlns declarations in scope, the five XML entities, numeric
 * references, <!ENTITY> declarations in an internal DTD subset (no
 * recursion, and a cap on the bytes they produce), CDATA, comments,
 * processing instructions, DOCTYPE. HTML's named entities, which feeds use
 * without declaring, are decoded anyway (and make the document bozo).
 *
 * Shape: one cursor moves forward through the document; every event either
 * consumes input or closes an open element, so the total work is linear.
 * Names are pointers into the document. Decoded text and attribute values go
 * to per-parser scratch buffers that are reused on each call; namespace URIs
 * live in a stack-like buffer that is truncated when their element closes.
 * The pop of a closed element is deferred to the next call so that the END
 * event's name and namespace stay readable until then. */
#define _GNU_SOURCE      /* memmem */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "collectors/collectors_internal.h"

#define XML_MAX_EXPANSION (8u << 20)   /* bytes from <!ENTITY> references */
#define XML_MAX_ENTITY_VALUE 4096

struct xml_elem {
    struct xml_name name;
    size_t nbinds;       /* namespace bindings in scope before this element's */
    size_t nsmark;       /* nsstore length before them */
    const char *ns_fixed;  /* a namespace URI that is not in nsstore */
    size_t ns_off;       /* else its offset in nsstore ... */
    bool has_ns;         /* ... when this is set */
    bool unbound;
};

struct xml_binding {
    const char *prefix;  /* into the document; plen 0 = default namespace */
    size_t plen;
    size_t off, len;     /* the URI in nsstore; len 0 = no namespace */
};

struct xml_entity {
    const char *name, *val;   /* into the document */
    size_t nlen, vlen;
};

/* ---- small helpers ------------------------------------------------------ */

static void bozo(struct xml_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void bozo(struct xml_parser *p, const char *fmt, ...)
{
    if (p->bozo)
        return;
    p->bozo = true;
    size_t line = 1;
    for (const char *s = p->doc; s < p->cur && s < p->end; s++)
        line += *s == '\n';
    int n = snprintf(p->error, sizeof p->error, "line %zu: ", line);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof p->error)
        vsnprintf(p->error + n, sizeof p->error - (size_t)n, fmt, ap);
    va_end(ap);
}

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool all_ws(const char *s, const char *e)
{
    for (; s < e; s++)
        if (!is_ws((unsigned char)*s))
            return false;
    return true;
}

static bool name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || c >= 0x80;
}

static bool name_char(unsigned char c)
{
    return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static const char *scan_name(const char *s, const char *e)
{
    while (s < e && name_char((unsigned char)*s))
        s++;
    return s;
}

static void split_name(struct xml_name *n, const char *q, size_t qlen)
{
    const char *c = memchr(q, ':', qlen);
    n->q = q;
    n->qlen = qlen;
    if (c && c > q && c < q + qlen - 1) {
        n->plen = (size_t)(c - q);
        n->local = c + 1;
        n->llen = qlen - n->plen - 1;
    } else {
        n->plen = 0;
        n->local = q;
        n->llen = qlen;
    }
}

static bool same(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && !memcmp(a, b, alen);
}

bool xml_name_is(const struct xml_name *n, const char *local)
{
    size_t l = strlen(local);
    return n->llen == l && !strncasecmp(n->local, local, l);
}

const char *xml_attr_get(const struct xml_parser *p, const char *ns, const char *local)
{
    for (size_t i = 0; i < p->nattrs; i++) {
        const struct xml_attr *a = &p->attrs[i];
        if (a->xmlns || !xml_name_is(&a->name, local))
            continue;
        if (ns ? (a->ns && !strcmp(a->ns, ns)) : a->name.plen == 0)
            return a->value;
    }
    return NULL;
}

/* ---- references --------------------------------------------------------- */

/* At *a == '&'. Decodes one reference into out; returns where to go on. */
static const char *decode_ref(struct xml_parser *p, struct buf *out, const char *a, const char *e)
{
    const char *q = a + 1;
    if (q < e && *q == '#') {
        bool hex = q + 1 < e && (q[1] == 'x' || q[1] == 'X');
        const char *d = q + 1 + hex, *s = d;
        uint32_t v = 0;
        for (; d < e; d++) {
            unsigned c = (unsigned char)*d, x;
            if (c >= '0' && c <= '9')
                x = c - '0';
            else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                x = (c | 0x20) - 'a' + 10;
            else
                break;
            v = v * (hex ? 16 : 10) + x;
            if (v > 0x10FFFF)
                v = 0x110000;
        }
        if (d == s) {
            bozo(p, "'&' not starting a reference");
            buf_append(out, "&", 1);
            return a + 1;
        }
        if (d < e && *d == ';')
            d++;
        else
            bozo(p, "character reference without ';'");
        if (v == 0 || (v < 0x20 && v != 9 && v != 10 && v != 13)
            || (v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF)
            bozo(p, "reference to an invalid character");
        ctx_utf8_put(out, charref_fixup(v));
        return d;
    }
    const char *n = q;
    while (n < e && n - q <= 64 && name_char((unsigned char)*n))
        n++;
    if (n == q || n >= e || *n != ';') {
        bozo(p, "'&' not starting a reference");
        buf_append(out, "&", 1);
        return a + 1;
    }
    size_t len = (size_t)(n - q);
    static const struct { const char *name; char c; } xml5[] = {
        {"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''},
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(xml5); i++)
        if (same(q, len, xml5[i].name, strlen(xml5[i].name))) {
            buf_append(out, &xml5[i].c, 1);
            return n + 1;
        }
    for (size_t i = 0; i < p->nents; i++)
        if (same(q, len, p->ents[i].name, p->ents[i].nlen)) {
            if (p->expanded + p->ents[i].vlen > XML_MAX_EXPANSION) {
                bozo(p, "entity expansion limit reached");
                break;
            }
            p->expanded += p->ents[i].vlen;
            buf_append(out, p->ents[i].val, p->ents[i].vlen);
            return n + 1;
        }
    uint32_t cp;
    if (html_entity_lookup(q, len, &cp)) {
        bozo(p, "undefined entity &%.*s;", (int)len, q);
        ctx_utf8_put(out, cp);
        return n + 1;
    }
    bozo(p, "undefined entity &%.*s;", (int)len, q);
    buf_append(out, a, len + 2);
    return n + 1;
}

/* Decode s..e into out. Attribute values also get their literal tabs and
 * line ends turned into spaces, as XML says. */
static void decode(struct xml_parser *p, struct buf *out, const char *s, const char *e, bool attr)
{
    while (s < e) {
        const char *amp = memchr(s, '&', (size_t)(e - s));
        const char *stop = amp ? amp : e;
        const char *run = s;
        for (; attr && s < stop; s++)
            if (*s == '\t' || *s == '\n' || *s == '\r') {
                buf_append(out, run, (size_t)(s - run));
                buf_append(out, " ", 1);
                run = s + 1;
            }
        buf_append(out, run, (size_t)(stop - run));
        if (!amp)
            break;
        s = decode_ref(p, out, amp, e);
    }
}

/* ---- namespaces --------------------------------------------------------- */

static void bind(struct xml_parser *p, const char *prefix, size_t plen, const char *uri, size_t ulen)
{
    if (p->nbinds >= XML_MAX_BINDINGS) {
        bozo(p, "too many namespace declarations");
        return;
    }
    if (p->nbinds == p->capbinds) {
        size_t cap = p->capbinds ? p->capbinds * 2 : 16;
        p->binds = ctx_realloc(p->binds, cap * sizeof *p->binds);
        p->capbinds = cap;
    }
    struct xml_binding *b = &p->binds[p->nbinds];
    b->prefix = prefix;
    b->plen = plen;
    b->off = buf_len(&p->nsstore);
    b->len = ulen;
    buf_append(&p->nsstore, uri, ulen);
    buf_append(&p->nsstore, "", 1);   /* keep each URI NUL-terminated */
    p->nbinds++;
}

/* Resolve a prefix: *fixed set for xml/xmlns, else *off into nsstore.
 * Returns false when there is no namespace (or the prefix is unbound,
 * which also sets *unbound). */
static bool resolve(struct xml_parser *p, const char *prefix, size_t plen,
                    const char **fixed, size_t *off, bool *unbound)
{
    *fixed = NULL;
    *unbound = false;
    if (same(prefix, plen, "xml", 3)) {
        *fixed = XML_NS_XML;
        return true;
    }
    if (same(prefix, plen, "xmlns", 5)) {
        *fixed = XML_NS_XMLNS;
        return true;
    }
    for (size_t i = p->nbinds; i-- > 0;)
        if (same(p->binds[i].prefix, p->binds[i].plen, prefix, plen)) {
            *off = p->binds[i].off;
            return p->binds[i].len > 0;
        }
    if (plen) {
        *unbound = true;
        bozo(p, "undeclared namespace prefix '%.*s'", (int)plen, prefix);
    }
    return false;
}

static const char *elem_ns(const struct xml_parser *p, const struct xml_elem *el)
{
    if (el->ns_fixed)
        return el->ns_fixed;
    return el->has_ns ? buf_str(&p->nsstore) + el->ns_off : NULL;
}

/* ---- events ------------------------------------------------------------- */

static enum xml_event emit_end(struct xml_parser *p)
{
    const struct xml_elem *el = &p->stack[p->sp - 1];
    p->ev = XML_END;
    p->name = el->name;
    p->ns = elem_ns(p, el);
    p->ns_unbound = el->unbound;
    p->attrs = NULL;
    p->nattrs = 0;
    p->depth = p->sp;
    p->pop_pending = true;
    return XML_END;
}

static void pop(struct xml_parser *p)
{
    const struct xml_elem *el = &p->stack[--p->sp];
    p->nbinds = el->nbinds;
    buf_truncate(&p->nsstore, el->nsmark);
    if (p->sp == 0)
        p->root_closed = true;
}

static enum xml_event text_event(struct xml_parser *p, const char *s, const char *e)
{
    p->ev = XML_TEXT;
    p->cdata = false;
    p->depth = p->sp;
    if (!memchr(s, '&', (size_t)(e - s))) {
        p->text = s;
        p->text_len = (size_t)(e - s);
        return XML_TEXT;
    }
    buf_reset(&p->textbuf);
    decode(p, &p->textbuf, s, e, false);
    p->text = buf_str(&p->textbuf);
    p->text_len = buf_len(&p->textbuf);
    return XML_TEXT;
}

/* Outside the root element only whitespace belongs. */
static void outside(struct xml_parser *p, const char *s, const char *e)
{
    if (!all_ws(s, e))
        bozo(p, p->root_closed ? "junk after the document element"
                               : "text before the document element");
}

/* ---- tags --------------------------------------------------------------- */

/* At "<name". Returns XML_START, or 0 when the tag is dropped. */
static int start_tag(struct xml_parser *p)
{
    const char *s = p->cur + 1, *e = p->end;
    const char *ne = scan_name(s, e);
    bool empty = false, done = false;
    p->cur = ne;
    p->nattrs = 0;
    buf_reset(&p->attrbuf);
    for (;;) {
        while (p->cur < e && is_ws((unsigned char)*p->cur))
            p->cur++;
        if (p->cur >= e)
            break;
        unsigned char c = (unsigned char)*p->cur;
        if (c == '>') {
            p->cur++;
            done = true;
            break;
        }
        if (c == '/') {
            if (p->cur + 1 < e && p->cur[1] == '>') {
                p->cur += 2;
                empty = done = true;
                break;
            }
            p->cur++;
            bozo(p, "stray '/' in a tag");
            continue;
        }
        if (c == '<')
            break;
        if (!name_start(c)) {
            bozo(p, "unexpected character in a tag");
            p->cur++;
            continue;
        }
        const char *an = p->cur;
        p->cur = scan_name(p->cur, e);
        size_t anlen = (size_t)(p->cur - an);
        while (p->cur < e && is_ws((unsigned char)*p->cur))
            p->cur++;
        size_t voff = buf_len(&p->attrbuf);
        if (p->cur < e && *p->cur == '=') {
            p->cur++;
            while (p->cur < e && is_ws((unsigned char)*p->cur))
                p->cur++;
            if (p->cur < e && (*p->cur == '"' || *p->cur == '\'')) {
                const char *vs = p->cur + 1;
                const char *ve = memchr(vs, *p->cur, (size_t)(e - vs));
                if (!ve) {
                    bozo(p, "unterminated attribute value");
                    ve = memchr(vs, '>', (size_t)(e - vs));
                    if (!ve)
                        ve = e;
                    p->cur = ve;
                } else {
                    p->cur = ve + 1;
                }
                if (memchr(vs, '<', (size_t)(ve - vs)))
                    bozo(p, "'<' in an attribute value");
                decode(p, &p->attrbuf, vs, ve, true);
            } else {
                const char *vs = p->cur;
                while (p->cur < e && !is_ws((unsigned char)*p->cur) && *p->cur != '>')
                    p->cur++;
                bozo(p, "unquoted attribute value");
                decode(p, &p->attrbuf, vs, p->cur, true);
            }
        } else {
            bozo(p, "attribute without a value");
        }
        buf_append(&p->attrbuf, "", 1);
        if (p->nattrs >= XML_MAX_ATTRS) {
            bozo(p, "too many attributes");
            continue;
        }
        struct xml_attr *a = &p->attrv[p->nattrs];
        split_name(&a->name, an, anlen);
        p->attroff[p->nattrs] = voff;
        a->vlen = buf_len(&p->attrbuf) - 1 - voff;
        p->nattrs++;
    }
    if (!done)
        bozo(p, "unterminated start tag <%.*s>", (int)(ne - s), s);
    if (p->root_closed && !p->junk_noted) {
        p->junk_noted = true;
        bozo(p, "junk after the document element");
    }
    if (p->overflow || p->sp >= XML_MAX_DEPTH) {
        bozo(p, "elements nested deeper than %d", XML_MAX_DEPTH);
        if (!empty)
            p->overflow++;
        return 0;
    }

    struct xml_elem *el = &p->stack[p->sp];
    split_name(&el->name, s, (size_t)(ne - s));
    el->nbinds = p->nbinds;
    el->nsmark = buf_len(&p->nsstore);
    for (size_t i = 0; i < p->nattrs; i++) {
        struct xml_attr *a = &p->attrv[i];
        const char *v = buf_str(&p->attrbuf) + p->attroff[i];
        a->xmlns = false;
        if (same(a->name.q, a->name.qlen, "xmlns", 5)) {
            a->xmlns = true;
            bind(p, "", 0, v, a->vlen);
        } else if (a->name.plen == 5 && !memcmp(a->name.q, "xmlns", 5)) {
            a->xmlns = true;
            bind(p, a->name.local, a->name.llen, v, a->vlen);
        }
    }
    el->has_ns = resolve(p, el->name.q, el->name.plen, &el->ns_fixed, &el->ns_off, &el->unbound);
    for (size_t i = 0; i < p->nattrs; i++) {
        struct xml_attr *a = &p->attrv[i];
        const char *fixed;
        size_t off;
        bool unbound;
        a->value = buf_str(&p->attrbuf) + p->attroff[i];
        a->ns = NULL;
        if (a->xmlns)
            a->ns = XML_NS_XMLNS;
        else if (a->name.plen && resolve(p, a->name.q, a->name.plen, &fixed, &off, &unbound))
            a->ns = fixed ? fixed : buf_str(&p->nsstore) + off;
    }
    p->sp++;
    p->root_seen = true;
    p->ev = XML_START;
    p->name = el->name;
    p->ns = elem_ns(p, el);
    p->ns_unbound = el->unbound;
    p->attrs = p->attrv;
    p->depth = p->sp;
    p->end_pending = empty;
    return XML_START;
}

/* At "</". Returns XML_END, or 0 when the tag is dropped. */
static int end_tag(struct xml_parser *p)
{
    const char *s = p->cur + 2, *e = p->end;
    const char *ne = scan_name(s, e), *q = ne;
    size_t nlen = (size_t)(ne - s);
    while (q < e && is_ws((unsigned char)*q))
        q++;
    if (q < e && *q == '>') {
        p->cur = q + 1;
    } else {
        const char *gt = memchr(q, '>', (size_t)(e - q));
        p->cur = gt ? gt + 1 : e;
        bozo(p, gt ? "junk in an end tag" : "unterminated end tag");
    }
    if (!nlen) {
        bozo(p, "end tag without a name");
        return 0;
    }
    if (p->overflow) {
        p->overflow--;
        return 0;
    }
    if (p->sp == 0) {
        bozo(p, "end tag </%.*s> outside any element", (int)nlen, s);
        return 0;
    }
    const struct xml_elem *top = &p->stack[p->sp - 1];
    if (same(top->name.q, top->name.qlen, s, nlen))
        return emit_end(p);
    for (int k = p->sp - 2; k >= 0; k--)
        if (same(p->stack[k].name.q, p->stack[k].name.qlen, s, nlen)) {
            bozo(p, "</%.*s> closes unclosed <%.*s>", (int)nlen, s,
                 (int)top->name.qlen, top->name.q);
            p->closing = true;
            p->close_to = k;
            return emit_end(p);
        }
    if (top->name.qlen == nlen && !strncasecmp(top->name.q, s, nlen)) {
        bozo(p, "</%.*s> closes <%.*s>", (int)nlen, s, (int)top->name.qlen, top->name.q);
        return emit_end(p);
    }
    bozo(p, "unexpected end tag </%.*s>", (int)nlen, s);
    return 0;
}

/* Skip to the '>' ending a markup declaration, stepping over quoted
 * strings; returns the position after it, or e. */
static const char *skip_decl(const char *q, const char *e)
{
    while (q < e) {
        if (*q == '"' || *q == '\'') {
            const char *r = memchr(q + 1, *q, (size_t)(e - q - 1));
            if (!r)
                return e;
            q = r + 1;
        } else if (*q == '>') {
            return q + 1;
        } else {
            q++;
        }
    }
    return e;
}

/* At "<!ENTITY" inside the internal subset: keep a general entity with a
 * literal value. Returns the position after the declaration. */
static const char *entity_decl(struct xml_parser *p, const char *q, const char *e)
{
    const char *r = q + 8, *n, *ne;
    while (r < e && is_ws((unsigned char)*r))
        r++;
    n = r;
    ne = scan_name(n, e);
    r = ne;
    while (r < e && is_ws((unsigned char)*r))
        r++;
    if (ne > n && r < e && (*r == '"' || *r == '\'')) {
        const char *ve = memchr(r + 1, *r, (size_t)(e - r - 1));
        if (ve && p->nents < XML_MAX_ENTITIES && (size_t)(ve - r - 1) <= XML_MAX_ENTITY_VALUE
            && !memchr(r + 1, '<', (size_t)(ve - r - 1))) {
            struct xml_entity *x = &p->ents[p->nents++];
            x->name = n;
            x->nlen = (size_t)(ne - n);
            x->val = r + 1;
            x->vlen = (size_t)(ve - r - 1);
        }
    }
    return skip_decl(q + 2, e);
}

/* At "<!DOCTYPE": skip it, collecting entity declarations. */
static void doctype(struct xml_parser *p)
{
    const char *q = p->cur + 9, *e = p->end;
    bool subset = false;
    while (q < e) {
        char c = *q;
        if (c == '"' || c == '\'') {
            const char *r = memchr(q + 1, c, (size_t)(e - q - 1));
            q = r ? r + 1 : e;
        } else if (c == '[') {
            subset = true;
            q++;
        } else if (c == ']') {
            subset = false;
            q++;
        } else if (c == '>' && !subset) {
            p->cur = q + 1;
            return;
        } else if (subset && c == '<') {
            if (e - q >= 4 && !memcmp(q, "<!--", 4)) {
                const char *r = memmem(q + 4, (size_t)(e - q - 4), "-->", 3);
                q = r ? r + 3 : e;
            } else if (e - q >= 8 && !memcmp(q, "<!ENTITY", 8)) {
                q = entity_decl(p, q, e);
            } else {
                q = skip_decl(q + 1, e);
            }
        } else {
            q++;
        }
    }
    p->cur = e;
    bozo(p, "unterminated DOCTYPE");
}

/* At "<!". Returns XML_TEXT for a CDATA section inside the root, else 0. */
static int markup_decl(struct xml_parser *p)
{
    const char *s = p->cur, *e = p->end;
    size_t left = (size_t)(e - s);
    if (left >= 4 && !memcmp(s, "<!--", 4)) {
        const char *r = memmem(s + 4, left - 4, "-->", 3);
        if (!r)
            bozo(p, "unterminated comment");
        p->cur = r ? r + 3 : e;
        return 0;
    }
    if (left >= 9 && !memcmp(s, "<![CDATA[", 9)) {
        const char *r = memmem(s + 9, left - 9, "]]>", 3);
        const char *stop = r ? r : e;
        if (!r)
            bozo(p, "unterminated CDATA section");
        p->cur = r ? r + 3 : e;
        if (p->sp == 0) {
            outside(p, s + 9, stop);
            return 0;
        }
        if (stop == s + 9)
            return 0;
        p->ev = XML_TEXT;
        p->text = s + 9;
        p->text_len = (size_t)(stop - (s + 9));
        p->cdata = true;
        p->depth = p->sp;
        return XML_TEXT;
    }
    if (left >= 9 && !strncasecmp(s, "<!DOCTYPE", 9)) {
        if (p->root_seen)
            bozo(p, "DOCTYPE inside the document");
        doctype(p);
        return 0;
    }
    bozo(p, "unknown markup declaration");
    p->cur = skip_decl(s + 2, e);
    return 0;
}

/* ---- the pull loop ------------------------------------------------------ */

enum xml_event xml_next(struct xml_parser *p)
{
    if (p->pop_pending) {
        p->pop_pending = false;
        pop(p);
    }
    if (p->end_pending) {
        p->end_pending = false;
        return emit_end(p);
    }
    if (p->closing) {
        if (p->sp > p->close_to)
            return emit_end(p);
        p->closing = false;
    }
    for (;;) {
        const char *s = p->cur, *e = p->end;
        if (s >= e) {
            if (p->sp > 0) {
                bozo(p, "document ends inside <%.*s>", (int)p->stack[p->sp - 1].name.qlen,
                     p->stack[p->sp - 1].name.q);
                p->closing = true;
                p->close_to = 0;
                return emit_end(p);
            }
            if (!p->root_seen)
                bozo(p, "no document element");
            return p->ev = XML_EOF;
        }
        if (*s != '<') {
            const char *lt = memchr(s, '<', (size_t)(e - s));
            const char *stop = lt ? lt : e;
            p->cur = stop;
            if (p->sp == 0) {
                outside(p, s, stop);
                continue;
            }
            return text_event(p, s, stop);
        }
        int ev = 0;
        unsigned char c = s + 1 < e ? (unsigned char)s[1] : 0;
        if (c == '/') {
            ev = end_tag(p);
        } else if (c == '!') {
            ev = markup_decl(p);
        } else if (c == '?') {
            const char *r = s + 2 <= e ? memmem(s + 2, (size_t)(e - s - 2), "?>", 2) : NULL;
            if (!r)
                bozo(p, "unterminated processing instruction");
            p->cur = r ? r + 2 : e;
        } else if (name_start(c)) {
            ev = start_tag(p);
        } else {
            /* a '<' that starts nothing: keep it as text */
            bozo(p, "'<' not starting a tag");
            const char *lt = s + 1 < e ? memchr(s + 1, '<', (size_t)(e - s - 1)) : NULL;
            const char *stop = lt ? lt : e;
            p->cur = stop;
            if (p->sp == 0) {
                outside(p, s, stop);
                continue;
            }
            return text_event(p, s, stop);
        }
        if (ev)
            return (enum xml_event)ev;
    }
}

void xml_init(struct xml_parser *p, const char *doc, size_t len)
{
    memset(p, 0, sizeof *p);
    p->stack = ctx_calloc(XML_MAX_DEPTH, sizeof *p->stack);
    p->attrv = ctx_calloc(XML_MAX_ATTRS, sizeof *p->attrv);
    p->attroff = ctx_calloc(XML_MAX_ATTRS, sizeof *p->attroff);
    p->ents = ctx_calloc(XML_MAX_ENTITIES, sizeof *p->ents);
    p->doc = p->cur = doc;
    p->end = doc + len;
    if (len >= 3 && !memcmp(doc, "\xEF\xBB\xBF", 3))
        p->cur += 3;
}

void xml_free(struct xml_parser *p)
{
    free(p->stack);
    free(p->attrv);
    free(p->attroff);
    free(p->ents);
    free(p->binds);
    buf_free(&p->nsstore);
    buf_free(&p->textbuf);
    buf_free(&p->attrbuf);
    memset(p, 0, sizeof *p);
}
