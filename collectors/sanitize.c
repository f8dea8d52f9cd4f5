/* sanitize.c -- HTML as Python feedparser's sanitizer leaves it
 * (html_sanitize), and its test for text that is really HTML
 * (html_looks_like).
 *
 * Python's feedparser hands every HTML value (summary, content, an HTML
 * title...) through two passes of an SGML parser: one resolves relative URIs
 * against the element's base, one drops what is not on its whitelists
 * (elements, attributes, CSS properties, URI schemes) and re-serialises the
 * rest: lower-case names, sorted double-quoted attributes, "<br />" for void
 * elements, comments kept, script/style/applet dropped with their content.
 * Feed readers and feedparser's test suite expect exactly that output, so
 * this reproduces it in one pass: the same input rewrites (the "<br/>" and
 * "<!x" fixes), the same tokenizer rules (a tag that never ends makes the
 * rest plain text; '&' and '<' that start nothing stay as they are), the
 * same whitelists. One deliberate difference: a URI attribute (src, cite...)
 * with a scheme we do not accept is emptied even when there is no base to
 * resolve against (feedparser then checks only href). SVG and MathML islands
 * are not supported: they are dropped like any unknown element, their text
 * kept.
 *
 * Every step moves forward through the input; the look-aheads for a closing
 * quote remember where they failed, so the whole is linear.
 *
 * It has its own tokenizer (not html.c's, not xml.c's) because the output
 * must match sgmllib's reading of broken markup, quirks included, and its
 * own CSS filter (feedparser's sanitize_style). URIs are resolved and
 * checked by url.c; entities come from entities.c. */
#define _GNU_SOURCE      /* memmem, qsort_r */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "collectors/collectors_internal.h"

static const char *const san_elements[] = {
    "a", "abbr", "acronym", "address", "area", "article", "aside", "audio", "b", "big",
    "blockquote", "br", "button", "canvas", "caption", "center", "cite", "code", "col",
    "colgroup", "command", "datagrid", "datalist", "dd", "del", "details", "dfn", "dialog",
    "dir", "div", "dl", "dt", "em", "event-source", "fieldset", "figcaption", "figure", "font",
    "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img", "input",
    "ins", "kbd", "keygen", "label", "legend", "li", "m", "map", "menu", "meter", "multicol",
    "nav", "nextid", "noscript", "ol", "optgroup", "option", "output", "p", "pre", "progress",
    "q", "s", "samp", "section", "select", "small", "sound", "source", "spacer", "span",
    "strike", "strong", "sub", "sup", "table", "tbody", "td", "textarea", "tfoot", "th",
    "thead", "time", "tr", "tt", "u", "ul", "var", "video",
};

static const char *const san_attributes[] = {
    "abbr", "accept", "accept-charset", "accesskey", "action", "align", "alt", "autocomplete",
    "autofocus", "axis", "background", "balance", "bgcolor", "bgproperties", "border",
    "bordercolor", "bordercolordark", "bordercolorlight", "bottompadding", "cellpadding",
    "cellspacing", "ch", "challenge", "char", "charoff", "charset", "checked", "choff", "cite",
    "class", "clear", "color", "cols", "colspan", "compact", "contenteditable", "controls",
    "coords", "data", "datafld", "datapagesize", "datasrc", "datetime", "default", "delay",
    "dir", "disabled", "draggable", "dynsrc", "enctype", "end", "face", "for", "form", "frame",
    "galleryimg", "gutter", "headers", "height", "hidden", "hidefocus", "high", "href",
    "hreflang", "hspace", "icon", "id", "inputmode", "ismap", "keytype", "label", "lang",
    "leftspacing", "list", "longdesc", "loop", "loopcount", "loopend", "loopstart", "low",
    "lowsrc", "max", "maxlength", "media", "method", "min", "multiple", "name", "nohref",
    "noshade", "nowrap", "open", "optimum", "pattern", "ping", "point-size", "poster", "pqg",
    "preload", "prompt", "radiogroup", "readonly", "rel", "repeat-max", "repeat-min",
    "replace", "required", "rev", "rightspacing", "rows", "rowspan", "rules", "scope",
    "selected", "shape", "size", "span", "src", "start", "step", "style", "summary",
    "suppress", "tabindex", "target", "template", "title", "toppadding", "type",
    "unselectable", "urn", "usemap", "valign", "value", "variable", "volume", "vrml", "vspace",
    "width", "wrap", "xml:lang",
};

static const char *const san_css_properties[] = {
    "azimuth", "background-color", "border-bottom-color", "border-collapse", "border-color",
    "border-left-color", "border-right-color", "border-top-color", "clear", "color", "cursor",
    "direction", "display", "elevation", "float", "font", "font-family", "font-size",
    "font-style", "font-variant", "font-weight", "height", "letter-spacing", "line-height",
    "overflow", "pause", "pause-after", "pause-before", "pitch", "pitch-range", "richness",
    "speak", "speak-header", "speak-numeral", "speak-punctuation", "speech-rate", "stress",
    "text-align", "text-decoration", "text-indent", "unicode-bidi", "vertical-align",
    "voice-family", "volume", "white-space", "width",
};

static const char *const san_css_keywords[] = {
    "!important", "aqua", "auto", "black", "block", "blue", "bold", "both", "bottom", "brown",
    "center", "collapse", "dashed", "dotted", "fuchsia", "gray", "green", "italic", "left",
    "lime", "maroon", "medium", "navy", "none", "normal", "nowrap", "olive", "pointer",
    "purple", "red", "right", "silver", "solid", "teal", "top", "transparent", "underline",
    "white", "yellow",
};

static const char *const san_void[] = {
    "area", "base", "basefont", "br", "col", "command", "embed", "frame", "hr", "img", "input",
    "isindex", "keygen", "link", "meta", "param", "source", "track", "wbr",
};

/* (tag, attribute) pairs holding a URI that is resolved against the base */
static const struct { const char *tag, *attr; } san_uri_attrs[] = {
    {"a", "href"}, {"applet", "codebase"}, {"area", "href"}, {"audio", "src"},
    {"blockquote", "cite"}, {"body", "background"}, {"del", "cite"}, {"form", "action"},
    {"frame", "longdesc"}, {"frame", "src"}, {"iframe", "longdesc"}, {"iframe", "src"},
    {"head", "profile"}, {"img", "longdesc"}, {"img", "src"}, {"img", "usemap"},
    {"input", "src"}, {"input", "usemap"}, {"ins", "cite"}, {"link", "href"},
    {"object", "classid"}, {"object", "codebase"}, {"object", "data"}, {"object", "usemap"},
    {"q", "cite"}, {"script", "src"}, {"source", "src"}, {"video", "poster"}, {"video", "src"},
};

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

#define IN_SET(set, s) (bsearch(&(const char *){s}, set, CTX_ARRAY_LEN(set), sizeof *set, \
                                str_cmp) != NULL)

bool html_sanitizer_tables_sorted(void)
{
    const char *const *sets[] = {san_elements, san_attributes, san_css_properties,
                                 san_css_keywords, san_void};
    const size_t lens[] = {CTX_ARRAY_LEN(san_elements), CTX_ARRAY_LEN(san_attributes),
                           CTX_ARRAY_LEN(san_css_properties), CTX_ARRAY_LEN(san_css_keywords),
                           CTX_ARRAY_LEN(san_void)};
    for (size_t s = 0; s < CTX_ARRAY_LEN(sets); s++)
        for (size_t i = 1; i < lens[s]; i++)
            if (strcmp(sets[s][i - 1], sets[s][i]) >= 0)
                return false;
    return true;
}

/* Python's \s and \w on one byte; bytes of multi-byte UTF-8 count as word
 * characters (they are letters far more often than not). */
static bool dig_c(char c)
{
    return c >= '0' && c <= '9';
}

static bool py_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1C && c <= 0x1F);
}

static bool py_word(unsigned char c)
{
    return ascii_alnum(c) || c == '_' || c >= 0x80;
}

static void lower_ascii(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s | 0x20);
}

/* ---- CSS ---- */

/* Past the digits and an optional '%' at w[i]. */
static size_t css_number(const char *w, size_t n, size_t i)
{
    while (i < n && dig_c(w[i]))
        i++;
    return i < n && w[i] == '%' ? i + 1 : i;
}

/* A whitespace-separated word of a border/margin/padding value that
 * feedparser accepts: a keyword, #hex, rgb(...) or a short length. */
static bool css_value_ok(const char *w, size_t n)
{
    char kw[16];
    if (n < sizeof kw) {
        memcpy(kw, w, n);
        kw[n] = '\0';
        if (IN_SET(san_css_keywords, kw))
            return true;
    }
    size_t i = 0;
    if (n && w[0] == '#') {
        for (i = 1; i < n; i++)
            if (!((w[i] >= '0' && w[i] <= '9') || (w[i] >= 'a' && w[i] <= 'f')))
                return false;
        return n > 1;
    }
    if (n >= 4 && !memcmp(w, "rgb(", 4)) {
        /* feedparser's rgb\(\d+%?,\d*%?,?\d*%?\)? */
        if (n == 4 || !dig_c(w[4]))
            return false;
        i = css_number(w, n, 4);
        if (i >= n || w[i] != ',')
            return false;
        i = css_number(w, n, i + 1);
        if (i < n && w[i] == ',')
            i++;
        i = css_number(w, n, i);
        if (i < n && w[i] == ')')
            i++;
        return i == n;
    }
    for (int k = 0; k < 2 && i < n && dig_c(w[i]); k++)
        i++;
    if (i < n && w[i] == '.')
        i++;
    for (int k = 0; k < 2 && i < n && dig_c(w[i]); k++)
        i++;
    static const char *const units[] = {"cm", "em", "ex", "in", "mm", "pc", "pt", "px",
                                        "%", ",", ")"};
    for (size_t u = 0; u < CTX_ARRAY_LEN(units) && i < n; u++) {
        size_t ul = strlen(units[u]);
        if (n - i == ul && !memcmp(w + i, units[u], ul))
            return true;
    }
    return i == n;
}

/* feedparser's "gauntlet": the style is made only of harmless pieces. The
 * regex is a starred alternation, so reachability over positions decides
 * it in one pass. */
static bool css_gauntlet(const char *s, size_t n)
{
    bool *ok = ctx_calloc(n + 1, 1);
    ok[0] = true;
    for (size_t i = 0; i < n; i++) {
        if (!ok[i])
            continue;
        unsigned char c = (unsigned char)s[i];
        if (strchr(":,;#%.!", c) ? c != 0 : (py_space(c) || ascii_alnum(c)))
            ok[i + 1] = true;
        if (i + 2 < n && py_word(c) && s[i + 1] == '-' && py_word((unsigned char)s[i + 2]))
            ok[i + 3] = true;
        if (c == '\'' || c == '"') {
            size_t j = i + 1;
            while (j < n && (py_word((unsigned char)s[j]) || py_space((unsigned char)s[j])))
                j++;
            if (j > i + 1 && j < n && s[j] == (char)c)
                ok[j + 1] = true;
        } else if (c == '(') {
            size_t j = i + 1;
            while (j < n && (dig_c(s[j]) || s[j] == ',' || py_space((unsigned char)s[j])))
                j++;
            if (j > i + 1 && j < n && s[j] == ')')
                ok[j + 1] = true;
        }
    }
    bool r = ok[n];
    free(ok);
    return r;
}

/* One "prop: value;" at s[i]: returns its end (value in *v..*ve), or 0. */
static size_t css_decl(const char *s, size_t n, size_t i, size_t *p, size_t *pe, size_t *v,
                       size_t *ve)
{
    while (i < n && py_space((unsigned char)s[i]))
        i++;
    *p = i;
    while (i < n && (py_word((unsigned char)s[i]) || s[i] == '-'))
        i++;
    if (i == *p)
        return 0;
    *pe = i;
    while (i < n && py_space((unsigned char)s[i]))
        i++;
    if (i >= n || s[i] != ':')
        return 0;
    i++;
    while (i < n && py_space((unsigned char)s[i]))
        i++;
    *v = i;
    while (i < n && s[i] != ':' && s[i] != ';')
        i++;
    *ve = i;
    if (i < n && s[i] == ';')
        i++;
    return i;
}

/* feedparser's sanitize_style(): url(...) removed, then only whitelisted
 * properties (and border/margin/padding/background ones with harmless
 * values) kept, each as "prop: value;". Appends to out. */
static void css_sanitize(const char *style, struct buf *out)
{
    struct buf s = {0};
    size_t n = strlen(style), i = 0;
    /* url\s*\(\s*[^\s)]+?\s*\)\s* -> ' ' */
    while (i < n) {
        if (n - i >= 3 && !memcmp(style + i, "url", 3)) {
            size_t j = i + 3;
            while (j < n && py_space((unsigned char)style[j]))
                j++;
            if (j < n && style[j] == '(') {
                j++;
                while (j < n && py_space((unsigned char)style[j]))
                    j++;
                size_t a = j;
                while (j < n && !py_space((unsigned char)style[j]) && style[j] != ')')
                    j++;
                size_t b = j;
                while (j < n && py_space((unsigned char)style[j]))
                    j++;
                if (b > a && j < n && style[j] == ')') {
                    j++;
                    while (j < n && py_space((unsigned char)style[j]))
                        j++;
                    buf_putc(&s, ' ');
                    i = j;
                    continue;
                }
            }
        }
        buf_putc(&s, style[i++]);
    }
    const char *t = buf_str(&s);
    n = buf_len(&s);
    if (!css_gauntlet(t, n))
        goto done;
    /* nothing but declarations (what re.sub leaves must be blank) */
    for (i = 0; i < n;) {
        size_t p, pe, v, ve, end = css_decl(t, n, i, &p, &pe, &v, &ve);
        if (end > i) {
            i = end;
        } else if (py_space((unsigned char)t[i])) {
            i++;
        } else {
            goto done;
        }
    }
    bool first = true;
    for (i = 0; i < n;) {
        size_t p, pe, v, ve, end = css_decl(t, n, i, &p, &pe, &v, &ve);
        if (end <= i) {
            i++;
            continue;
        }
        i = end;
        if (ve == v)
            continue;
        char prop[64];
        size_t pl = pe - p;
        if (pl >= sizeof prop)
            continue;
        memcpy(prop, t + p, pl);
        prop[pl] = '\0';
        lower_ascii(prop);
        bool keep = IN_SET(san_css_properties, prop);
        size_t dash = strcspn(prop, "-");
        if (!keep && ((dash == 10 && !strncmp(prop, "background", 10))
                      || (dash == 6 && !strncmp(prop, "border", 6))
                      || (dash == 6 && !strncmp(prop, "margin", 6))
                      || (dash == 7 && !strncmp(prop, "padding", 7)))) {
            keep = true;
            for (size_t w = v; w < ve && keep;) {
                while (w < ve && py_space((unsigned char)t[w]))
                    w++;
                size_t we = w;
                while (we < ve && !py_space((unsigned char)t[we]))
                    we++;
                if (we > w && !css_value_ok(t + w, we - w))
                    keep = false;
                w = we;
            }
        }
        if (!keep)
            continue;
        if (!first)
            buf_putc(out, ' ');
        first = false;
        buf_printf(out, "%.*s: %.*s;", (int)pl, t + p, (int)(ve - v), t + v);
    }
done:
    buf_free(&s);
}

/* ---- the tokenizer ---- */

#define SAN_MAX_ATTRS 128

struct san_attr {
    size_t name, value;   /* offsets in the scratch buffer */
};

struct san {
    struct buf *out;
    const char *base;
    const char *s;
    size_t n;
    int unacceptable;           /* inside script/style/applet (can go negative) */
    char lasttag[64];
    size_t noquote[2];          /* no ' (0) or " (1) at or after this offset */
    struct buf scratch, tmp;
    struct san_attr attrs[SAN_MAX_ATTRS];
    size_t nattrs;
};

static void san_put(struct san *z, const char *s, size_t n)
{
    buf_append(z->out, s, n);
}

static void san_data(struct san *z, const char *s, size_t n)
{
    if (z->unacceptable == 0)
        san_put(z, s, n);
}

/* Offset of the next q at or after i, or n. */
static size_t san_quote(struct san *z, size_t i, char q)
{
    int k = q == '"';
    if (i >= z->noquote[k])
        return z->n;
    const char *r = memchr(z->s + i, q, z->n - i);
    if (!r) {
        z->noquote[k] = i;
        return z->n;
    }
    return (size_t)(r - z->s);
}

/* feedparser's end-bracket search from i: the first '<' or '>' outside
 * properly quoted attribute values, else the first one on the same line.
 * Returns its offset, or n when there is none. */
static size_t san_endbracket(struct san *z, size_t i)
{
    const char *s = z->s;
    size_t n = z->n, p = i;
    while (p < n) {
        char c = s[p];
        if (c == '<' || c == '>')
            return p;
        if (c == '"' || c == '\'') {
            size_t r = san_quote(z, p + 1, c);
            if (r >= n)
                break;
            size_t a = r + 1;
            bool ok = a < n && (s[a] == '>' || s[a] == '/' || py_space((unsigned char)s[a]));
            if (!ok && a < n && py_word((unsigned char)s[a])) {
                while (a < n && py_word((unsigned char)s[a]))
                    a++;
                ok = a < n && s[a] == '=';
            }
            if (!ok)
                break;
            p = r + 1;
            continue;
        }
        p++;
    }
    for (p = i; p < n && s[p] != '\n'; p++)
        if (s[p] == '<' || s[p] == '>')
            return p;
    return n;
}

/* An attribute value as sgmllib leaves it: quotes stripped, the XML
 * entities and ASCII character references decoded. */
static void san_attr_value(struct san *z, const char *v, size_t n)
{
    struct buf *b = &z->scratch;
    if (n && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
        v++;
        n = n >= 2 ? n - 2 : 0;
    }
    size_t i = 0;
    while (i < n) {
        const char *amp = memchr(v + i, '&', n - i);
        size_t stop = amp ? (size_t)(amp - v) : n;
        buf_append(b, v + i, stop - i);
        if (!amp)
            break;
        size_t j = stop + 1;
        if (j < n && v[j] == '#' && j + 1 < n && dig_c(v[j + 1])) {
            size_t k = j + 1;
            unsigned long cp = 0;
            while (k < n && dig_c(v[k])) {
                cp = cp < 1000 ? cp * 10 + (unsigned long)(v[k] - '0') : 1000;
                k++;
            }
            bool semi = k < n && v[k] == ';';
            if (cp <= 127) {
                buf_putc(b, (char)cp);
            } else {
                buf_append(b, v + stop, k - stop);
                if (semi)
                    buf_putc(b, ';');
            }
            i = k + semi;
        } else if (j < n && ascii_alpha((unsigned char)v[j])) {
            size_t k = j;
            while (k < n && (ascii_alnum((unsigned char)v[k]) || v[k] == '-' || v[k] == '.'))
                k++;
            bool semi = k < n && v[k] == ';';
            static const struct { const char *name; char c; } xml5[] = {
                {"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''},
            };
            size_t x = CTX_ARRAY_LEN(xml5);
            if (semi)
                for (x = 0; x < CTX_ARRAY_LEN(xml5); x++)
                    if (k - j == strlen(xml5[x].name) && !memcmp(v + j, xml5[x].name, k - j))
                        break;
            if (x < CTX_ARRAY_LEN(xml5))
                buf_putc(b, xml5[x].c);
            else
                buf_append(b, v + stop, k - stop + semi);
            i = k + semi;
        } else {
            buf_putc(b, '&');
            i = j;
        }
    }
    buf_putc(b, '\0');
}

/* An attribute value escaped for output: <, >, " and bare & as entities. */
static void san_put_escaped(struct san *z, const char *v)
{
    for (const char *p = v; *p; p++) {
        switch (*p) {
        case '<': san_put(z, "&lt;", 4); break;
        case '>': san_put(z, "&gt;", 4); break;
        case '"': san_put(z, "&quot;", 6); break;
        case '&': {
            const char *q = p + 1;
            bool ref = false;
            if (*q == '#' && q[1] == 'x') {
                size_t h = strspn(q + 2, "0123456789abcdefABCDEF");
                ref = h && q[2 + h] == ';';
            } else if (*q == '#') {
                size_t d = strspn(q + 1, "0123456789");
                ref = d && q[1 + d] == ';';
            } else {
                size_t w = 0;
                while (py_word((unsigned char)q[w]))
                    w++;
                ref = w && q[w] == ';';
            }
            san_put(z, ref ? "&" : "&amp;", ref ? 1 : 5);
            break;
        }
        default:
            san_put(z, p, 1);
        }
    }
}

static int san_attr_cmp(const void *a, const void *b, void *arg)
{
    const char *s = arg;
    return strcmp(s + ((const struct san_attr *)a)->name, s + ((const struct san_attr *)b)->name);
}

/* A start tag with its attributes (in z->attrs), through the whitelists. */
static void san_start(struct san *z, const char *tag)
{
    if (!IN_SET(san_elements, tag)) {
        if (!strcmp(tag, "script") || !strcmp(tag, "style") || !strcmp(tag, "applet"))
            z->unacceptable++;
        return;
    }
    /* the attributes, NUL-separated, in a copy this function may edit */
    size_t sclen = buf_len(&z->scratch);
    char *sc = memcpy(ctx_malloc(sclen + 1), buf_str(&z->scratch), sclen + 1);
    /* duplicates: the last value wins (feedparser builds a dict) */
    size_t n = 0;
    for (size_t i = 0; i < z->nattrs; i++) {
        size_t k;
        for (k = 0; k < n; k++)
            if (!strcmp(sc + z->attrs[k].name, sc + z->attrs[i].name))
                break;
        z->attrs[k] = z->attrs[i];
        if (k == n)
            n++;
    }
    qsort_r(z->attrs, n, sizeof z->attrs[0], san_attr_cmp, sc);
    san_put(z, "<", 1);
    san_put(z, tag, strlen(tag));
    for (size_t i = 0; i < n; i++) {
        const char *key = sc + z->attrs[i].name;
        char *val = sc + z->attrs[i].value;
        if (!strcmp(key, "rel") || !strcmp(key, "type"))
            lower_ascii(val);
        char *owned = NULL;
        for (size_t u = 0; u < CTX_ARRAY_LEN(san_uri_attrs); u++)
            if (!strcmp(tag, san_uri_attrs[u].tag) && !strcmp(key, san_uri_attrs[u].attr)) {
                size_t a = 0, b = strlen(val);
                while (a < b && py_space((unsigned char)val[a]))
                    a++;
                while (b > a && py_space((unsigned char)val[b - 1]))
                    b--;
                val[b] = '\0';
                val = owned = url_safe_absolute(z->base, val + a);
                break;
            }
        if (!strcmp(key, "style")) {
            buf_reset(&z->tmp);
            css_sanitize(val, &z->tmp);
            if (buf_len(&z->tmp)) {
                san_put(z, " style=\"", 8);
                san_put_escaped(z, buf_str(&z->tmp));
                san_put(z, "\"", 1);
            }
        } else if (IN_SET(san_attributes, key)) {
            if (!strcmp(key, "href")) {
                char *safe = url_safe_absolute(NULL, val);
                free(owned);
                val = owned = safe;
            }
            san_put(z, " ", 1);
            san_put(z, key, strlen(key));
            san_put(z, "=\"", 2);
            san_put_escaped(z, val);
            san_put(z, "\"", 1);
        }
        free(owned);
    }
    free(sc);
    san_put(z, IN_SET(san_void, tag) ? " />" : ">", IN_SET(san_void, tag) ? 3 : 1);
}

/* At "<" + letter or "<>". Returns where to go on, or n when the tag never
 * ends (the caller then keeps the rest as text). */
static size_t san_starttag(struct san *z, size_t i, bool *incomplete)
{
    const char *s = z->s;
    size_t n = z->n, j = san_endbracket(z, i + 1), k;
    char tag[64];
    if (j >= n) {
        *incomplete = true;
        return i;
    }
    if (s[i + 1] == '>') {
        snprintf(tag, sizeof tag, "%s", z->lasttag);
        k = j;
    } else {
        k = i + 2;
        while (k < n && (ascii_alnum((unsigned char)s[k]) || strchr("-_.:", s[k]) ? s[k] : 0))
            k++;
        size_t tl = k - i - 1;
        if (tl >= sizeof tag)
            tl = sizeof tag - 1;   /* longer than any name on the whitelist */
        memcpy(tag, s + i + 1, tl);
        tag[tl] = '\0';
        lower_ascii(tag);
        snprintf(z->lasttag, sizeof z->lasttag, "%s", tag);
    }
    buf_reset(&z->scratch);
    z->nattrs = 0;
    while (k < j) {
        size_t a = k;
        while (a < n && py_space((unsigned char)s[a]))
            a++;
        if (a >= n || !(ascii_alpha((unsigned char)s[a]) || s[a] == '_'))
            break;
        size_t ne = a + 1;
        while (ne < n && (ascii_alnum((unsigned char)s[ne]) || strchr("-:._", s[ne]) ? s[ne] : 0))
            ne++;
        size_t end = ne, v = ne, ve = ne;
        bool has_value = false;
        size_t q = ne;
        while (q < n && py_space((unsigned char)s[q]))
            q++;
        if (q < n && s[q] == '=') {
            q++;
            while (q < n && py_space((unsigned char)s[q]))
                q++;
            has_value = true;
            v = q;
            size_t close = (q < n && (s[q] == '\'' || s[q] == '"')) ? san_quote(z, q + 1, s[q]) : n;
            if (close < n) {
                ve = close + 1;
            } else {
                ve = q;
                while (ve < n && (ascii_alnum((unsigned char)s[ve])
                                  || (strchr("][-./,:;+*%?!&$()_#=~'\"@", s[ve]) && s[ve])))
                    ve++;
            }
            end = ve;
        }
        if (z->nattrs < SAN_MAX_ATTRS) {
            struct san_attr *at = &z->attrs[z->nattrs++];
            at->name = buf_len(&z->scratch);
            for (size_t c = a; c < ne; c++)       /* lower-cased */
                buf_putc(&z->scratch, (char)((s[c] >= 'A' && s[c] <= 'Z') ? s[c] | 0x20 : s[c]));
            buf_putc(&z->scratch, '\0');
            at->value = buf_len(&z->scratch);
            if (has_value) {
                san_attr_value(z, s + v, ve - v);
            } else {
                buf_append(&z->scratch, s + a, ne - a);
                buf_putc(&z->scratch, '\0');
            }
        }
        k = end;
    }
    san_start(z, tag);
    return s[j] == '>' ? j + 1 : j;
}

static size_t san_endtag(struct san *z, size_t i, bool *incomplete)
{
    size_t j = san_endbracket(z, i + 1);
    if (j >= z->n) {
        *incomplete = true;
        return i;
    }
    size_t a = i + 2, b = j;
    while (a < b && py_space((unsigned char)z->s[a]))
        a++;
    while (b > a && py_space((unsigned char)z->s[b - 1]))
        b--;
    char tag[64];
    size_t tl = b - a < sizeof tag ? b - a : sizeof tag - 1;
    memcpy(tag, z->s + a, tl);
    tag[tl] = '\0';
    lower_ascii(tag);
    if (!IN_SET(san_elements, tag)) {
        if (!strcmp(tag, "script") || !strcmp(tag, "style") || !strcmp(tag, "applet"))
            z->unacceptable--;
    } else if (!IN_SET(san_void, tag)) {
        san_put(z, "</", 2);
        san_put(z, tag, strlen(tag));
        san_put(z, ">", 1);
    }
    return z->s[j] == '>' ? j + 1 : j;
}

/* At "&": a character or entity reference (re-serialised), else SIZE_MAX
 * when it is not one (the caller decides what the '&' is). */
static size_t san_ref(struct san *z, size_t i)
{
    const char *s = z->s;
    size_t n = z->n, j = i + 1;
    if (j < n && s[j] == '#') {
        bool hex = j + 1 < n && (s[j + 1] == 'x' || s[j + 1] == 'X');
        size_t k = j + 1 + hex, d = k;
        unsigned long v = 0;
        while (k < n && (dig_c(s[k]) || (hex && strchr("abcdefABCDEF", s[k]) && s[k]))) {
            unsigned x = dig_c(s[k]) ? (unsigned)(s[k] - '0') : (unsigned)((s[k] | 0x20) - 'a' + 10);
            v = v < 0x1000000 ? v * (hex ? 16 : 10) + x : v;
            k++;
        }
        if (k == d || k >= n || s[k] != ';')
            return SIZE_MAX;
        if (z->unacceptable == 0) {
            uint32_t fixed = v >= 0x80 && v <= 0x9F ? charref_fixup((uint32_t)v) : 0;
            if (fixed && fixed != v) {
                char t[16];
                int tn = snprintf(t, sizeof t, "&#x%x;", (unsigned)fixed);
                san_put(z, t, (size_t)tn);
            } else {
                san_put(z, "&#", 2);
                if (hex)
                    san_put(z, "x", 1);
                for (size_t c = d; c < k; c++) {
                    char l = (char)((s[c] >= 'A' && s[c] <= 'F') ? s[c] | 0x20 : s[c]);
                    san_put(z, &l, 1);
                }
                san_put(z, ";", 1);
            }
        }
        return k + 1;
    }
    if (j >= n || !ascii_alpha((unsigned char)s[j]))
        return SIZE_MAX;
    size_t k = j + 1;
    while (k < n && (ascii_alnum((unsigned char)s[k]) || s[k] == '-' || s[k] == '.'))
        k++;
    if (k >= n) {
        /* the name must be followed by a non-alphanumeric character: at the
         * end of the text, a '-' or '.' inside it can be that character */
        while (k > j + 1 && s[k - 1] != '-' && s[k - 1] != '.')
            k--;
        if (k == j + 1)
            return SIZE_MAX;
        k--;
    }
    uint32_t cp;
    if (z->unacceptable == 0) {
        if (html_entity_lookup(s + j, k - j, &cp) || (k - j == 4 && !memcmp(s + j, "apos", 4))) {
            san_put(z, s + i, k - i);
            san_put(z, ";", 1);
        } else {
            san_put(z, "&amp;", 5);
            san_put(z, s + j, k - j);
        }
    }
    return s[k] == ';' ? k + 1 : k;
}

/* At "<!--": a comment is kept; one that never closes is dropped up to the
 * next "--...>", or to the end. */
static size_t san_comment(struct san *z, size_t i)
{
    const char *s = z->s;
    size_t n = z->n;
    for (size_t p = i + 4; p + 1 < n; p++) {
        if (s[p] != '-' || s[p + 1] != '-')
            continue;
        size_t q = p + 2;
        while (q < n && py_space((unsigned char)s[q]))
            q++;
        if (q < n && s[q] == '>') {
            san_put(z, s + i, p - i);
            san_put(z, "-->", 3);
            return q + 1;
        }
    }
    for (size_t p = i + 4; p + 1 < n; p++)
        if (s[p] == '-' && s[p + 1] == '-') {
            const char *gt = memchr(s + p + 2, '>', n - p - 2);
            if (gt)
                return (size_t)(gt - s) + 1;
            break;
        }
    return n;
}

/* The input rewrites feedparser makes before parsing: "<![CDATA[" and "<!"
 * not starting a DOCTYPE, comment or marked section are escaped; "&#39;"
 * and "&#34;" become quotes; then "<tag/>" (no attributes) becomes
 * "<tag />" for void elements and "<tag></tag>" for the rest. */
static void san_prepare(const char *s, size_t n, struct buf *out)
{
    struct buf a = {0};
    for (size_t i = 0; i < n;) {
        if (s[i] == '<' && i + 1 < n && s[i + 1] == '!') {
            bool keep = (n - i >= 9 && !strncasecmp(s + i + 2, "DOCTYPE", 7))
                     || (n - i >= 4 && s[i + 2] == '-' && s[i + 3] == '-')
                     || (n - i >= 3 && s[i + 2] == '[' && !(n - i >= 9 && !memcmp(s + i, "<![CDATA[", 9)));
            if (keep)
                buf_append(&a, "<!", 2);
            else
                buf_append(&a, "&lt;!", 5);
            i += 2;
        } else if (s[i] == '&' && n - i >= 5 && (!memcmp(s + i, "&#39;", 5) || !memcmp(s + i, "&#34;", 5))) {
            buf_putc(&a, s[i + 3] == '9' ? '\'' : '"');
            i += 5;
        } else {
            size_t j = i + 1;
            while (j < n && s[j] != '<' && s[j] != '&')
                j++;
            buf_append(&a, s + i, j - i);
            i = j;
        }
    }
    const char *t = buf_str(&a);
    n = buf_len(&a);
    for (size_t i = 0; i < n;) {
        if (t[i] != '<') {
            const char *lt = memchr(t + i + 1, '<', n - i - 1);
            size_t j = lt ? (size_t)(lt - t) : n;
            buf_append(out, t + i, j - i);
            i = j;
            continue;
        }
        size_t k = i + 1;
        while (k < n && t[k] != '<' && t[k] != '>' && !py_space((unsigned char)t[k]))
            k++;
        size_t name = i + 1, nlen = 0, end = 0;
        if (k - name >= 2 && t[k - 1] == '/' && k < n && t[k] == '>') {
            nlen = k - 1 - name;
            end = k + 1;
        } else if (k > name) {
            size_t m = k;
            while (m < n && py_space((unsigned char)t[m]))
                m++;
            if (m + 1 < n && t[m] == '/' && t[m + 1] == '>') {
                nlen = k - name;
                end = m + 2;
            }
        }
        if (!end) {
            buf_putc(out, '<');
            i++;
            continue;
        }
        char tag[32];
        bool isvoid = false;
        if (nlen < sizeof tag) {
            memcpy(tag, t + name, nlen);
            tag[nlen] = '\0';
            isvoid = IN_SET(san_void, tag);
        }
        if (isvoid)
            buf_printf(out, "<%.*s />", (int)nlen, t + name);
        else
            buf_printf(out, "<%.*s></%.*s>", (int)nlen, t + name, (int)nlen, t + name);
        i = end;
    }
    buf_free(&a);
}

/* Python's str.strip() whitespace, for the characters feeds use. */
static size_t strip_lead(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        bool bad;
        size_t k = utf8_decode((const unsigned char *)s + i, n - i, &cp, &bad);
        if (!(py_space((unsigned char)s[i]) && k == 1) && !(cp == 0x85 || cp_is_space(cp)))
            break;
        i += k;
    }
    return i;
}

static size_t strip_trail(const char *s, size_t n, size_t from)
{
    while (n > from) {
        size_t k = n - 1;
        while (k > from && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
        uint32_t cp;
        bool bad;
        utf8_decode((const unsigned char *)s + k, n - k, &cp, &bad);
        if (!(cp < 0x80 ? py_space((unsigned char)cp) : (cp == 0x85 || cp_is_space(cp))))
            break;
        n = k;
    }
    return n;
}

char *html_sanitize(const char *html, size_t len, const char *base)
{
    struct buf pre = {0}, out = {0};
    struct san z = {.out = &out, .base = base, .lasttag = "???"};
    san_prepare(html, len, &pre);
    z.s = buf_str(&pre);
    z.n = buf_len(&pre);
    z.noquote[0] = z.noquote[1] = z.n;
    const char *s = z.s;
    size_t n = z.n, i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '<' && s[j] != '&')
            j++;
        if (j > i)
            san_data(&z, s + i, j - i);
        i = j;
        if (i >= n)
            break;
        bool incomplete = false;
        unsigned char c1 = i + 1 < n ? (unsigned char)s[i + 1] : 0;
        if (s[i] == '<') {
            if (c1 == '>' || ascii_alpha(c1)) {
                i = san_starttag(&z, i, &incomplete);
            } else if (c1 == '/') {
                i = san_endtag(&z, i, &incomplete);
            } else if (n - i >= 4 && !memcmp(s + i, "<!--", 4)) {
                i = san_comment(&z, i);
            } else if (c1 == '?') {
                const char *gt = memchr(s + i + 2, '>', n - i - 2);
                if (gt)
                    i = (size_t)(gt - s) + 1;
                else
                    incomplete = true;
            } else if (c1 == '!') {
                /* a DOCTYPE or marked section: dropped up to its '>' */
                size_t q = i + 2;
                while (q < n && s[q] != '>') {
                    if (s[q] == '"' || s[q] == '\'') {
                        size_t r = san_quote(&z, q + 1, s[q]);
                        if (r >= n)
                            break;
                        q = r;
                    }
                    q++;
                }
                if (q < n)
                    i = q + 1;
                else
                    incomplete = true;
            } else {
                san_data(&z, "<", 1);
                i++;
            }
        } else {
            size_t k = san_ref(&z, i);
            if (k != SIZE_MAX) {
                i = k;
            } else {
                /* sgmllib's "incomplete" reference: kept as text, unless it
                 * runs to the end (then the rest is text anyway) */
                size_t d = i + 1;
                if (c1 == '#')
                    for (d = i + 2; d < n && dig_c(s[d]);)
                        d++;
                else if (ascii_alpha(c1))
                    for (d = i + 2; d < n && ascii_alnum((unsigned char)s[d]);)
                        d++;
                if (d >= n) {
                    incomplete = true;
                } else {
                    san_data(&z, s + i, d - i);
                    i = d;
                }
            }
        }
        if (incomplete) {
            san_data(&z, s + i, n - i);
            break;
        }
    }
    buf_free(&pre);
    buf_free(&z.scratch);
    buf_free(&z.tmp);
    /* strip, and CRLF -> LF */
    const char *o = buf_str(&out);
    size_t a = strip_lead(o, buf_len(&out)), b = strip_trail(o, buf_len(&out), a);
    struct buf r = {0};
    for (size_t p = a; p < b;) {
        const char *cr = memmem(o + p, b - p, "\r\n", 2);
        size_t q = cr ? (size_t)(cr - o) : b;
        buf_append(&r, o + p, q - p);
        p = cr ? q + 1 : b;
    }
    buf_free(&out);
    return buf_detach(&r);
}

/* feedparser's lookslikehtml(): a close tag or an entity reference, only
 * whitelisted element names, only known entities. */
bool html_looks_like(const char *s)
{
    bool marker = false;
    for (const char *p = s; (p = strpbrk(p, "<&")); p++) {
        if (*p == '<') {
            const char *q = p + 1 + (p[1] == '/');
            size_t w = 0;
            while (py_word((unsigned char)q[w]))
                w++;
            if (!w)
                continue;
            if (p[1] == '/' && q[w] == '>')
                marker = true;
            char tag[64];
            if (w >= sizeof tag)
                return false;
            memcpy(tag, q, w);
            tag[w] = '\0';
            lower_ascii(tag);
            if (!IN_SET(san_elements, tag))
                return false;
        } else {
            const char *q = p + 1 + (p[1] == '#');
            size_t w = 0;
            while (py_word((unsigned char)q[w]))
                w++;
            if (!w || q[w] != ';')
                continue;
            marker = true;
            uint32_t cp;
            if (p[1] != '#' && !html_entity_lookup(q, w, &cp))
                return false;
        }
    }
    return marker;
}