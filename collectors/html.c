/* html.c -- HTML fragments to plain text (html_to_text) and plain text
 * normalised the same way (text_collapse): what an item's "text" is.
 *
 * html_to_text() is one forward pass over the input: tags are recognised
 * just well enough to drop them (quotes in attribute values are honoured),
 * script and style are skipped up to their end tag, and everything else is
 * text. Output goes through a small "emitter" that holds back separators:
 * whitespace becomes a pending space and block elements a pending line or
 * paragraph break, written only when more visible text follows. That one
 * rule collapses whitespace, trims both ends and keeps breaks from stacking.
 * Nothing scans backwards, so the cost is linear in the input.
 *
 * This is deliberately not the sanitizer (sanitize.c): that one keeps markup
 * and must match feedparser byte for byte; this one throws markup away and
 * only has to read the way a person would. Entities and UTF-8 come from
 * entities.c. */
#define _GNU_SOURCE      /* memmem */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "collectors/collectors.h"
#include "collectors/collectors_internal.h"

/* ---- the emitter -------------------------------------------------------- */

struct emit {
    struct buf *b;
    int nl;        /* pending line breaks (0-2) */
    bool sp;       /* pending space */
};

static void emit_sep(struct emit *e)
{
    if (buf_len(e->b)) {
        if (e->nl)
            buf_append(e->b, "\n\n", (size_t)e->nl);
        else if (e->sp)
            buf_putc(e->b, ' ');
    }
    e->nl = 0;
    e->sp = false;
}

static void emit_bytes(struct emit *e, const char *s, size_t n)
{
    emit_sep(e);
    buf_append(e->b, s, n);
}

static void emit_cp(struct emit *e, uint32_t cp)
{
    if (cp_is_space(cp)) {
        e->sp = true;
        return;
    }
    /* invisible characters that only break words apart */
    if (cp < 0x20 || cp == 0x7F || cp == 0xAD || cp == 0x200B || cp == 0xFEFF)
        return;
    emit_sep(e);
    ctx_utf8_put(e->b, cp);
}

/* Plain text (no markup) from s[0..len) through the emitter. */
static void emit_text(struct emit *e, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = u[i];
        if (ascii_space(c)) {
            e->sp = true;
            i++;
        } else if (c >= 0x20 && c < 0x7F) {
            size_t j = i + 1;
            while (j < len && u[j] > 0x20 && u[j] < 0x7F)
                j++;
            emit_bytes(e, s + i, j - i);
            i = j;
        } else {
            uint32_t cp;
            bool bad;
            i += utf8_decode(u + i, len - i, &cp, &bad);
            emit_cp(e, cp);
        }
    }
}

char *text_collapse(const char *s, size_t len)
{
    struct buf b = {0};
    struct emit e = {.b = &b};
    emit_text(&e, s, len);
    return buf_detach(&b);
}

/* ---- html_to_text ------------------------------------------------------- */

static const char *find(const char *s, size_t len, size_t from, const char *needle)
{
    if (from >= len)
        return NULL;
    return memmem(s + from, len - from, needle, strlen(needle));
}

/* Break weight of a tag: 0 none, 1 line, 2 paragraph, -1 space (cells),
 * 3 for <br>, which adds a line instead of merging. */
static int tag_break(const char *name)
{
    static const char *const para[] = {
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol",
        "dl", "table", "hr", "section", "article", "header", "footer", "aside",
        "nav", "figure", "address", "main", "form", "fieldset", "details",
    };
    static const char *const line[] = {
        "div", "li", "tr", "dt", "dd", "caption", "figcaption", "summary",
        "option", "legend", "center",
    };
    if (!strcmp(name, "br"))
        return 3;
    if (!strcmp(name, "td") || !strcmp(name, "th"))
        return -1;
    for (size_t i = 0; i < CTX_ARRAY_LEN(para); i++)
        if (!strcmp(name, para[i]))
            return 2;
    for (size_t i = 0; i < CTX_ARRAY_LEN(line); i++)
        if (!strcmp(name, line[i]))
            return 1;
    return 0;
}

static void apply_break(struct emit *e, int w)
{
    if (w == 3)
        e->nl = e->nl < 2 ? e->nl + 1 : 2;
    else if (w == -1)
        e->sp = true;
    else if (w > e->nl)
        e->nl = w;
}

/* Skip a raw-text element's content: returns the index after "</name ...>",
 * or len when it never ends. */
static size_t skip_raw(const char *s, size_t len, size_t i, const char *name)
{
    size_t nlen = strlen(name);
    while (i < len) {
        const char *lt = memchr(s + i, '<', len - i);
        if (!lt)
            return len;
        size_t k = (size_t)(lt - s);
        if (k + 2 + nlen <= len && s[k + 1] == '/' && !strncasecmp(s + k + 2, name, nlen)
            && (k + 2 + nlen == len || !ascii_alnum((unsigned char)s[k + 2 + nlen]))) {
            const char *gt = memchr(s + k, '>', len - k);
            return gt ? (size_t)(gt - s) + 1 : len;
        }
        i = k + 1;
    }
    return len;
}

/* At s[i] == '<'. Handles one tag, comment or declaration; returns the
 * index after it. */
static size_t html_tag(struct emit *e, const char *s, size_t len, size_t i)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t j = i + 1;
    if (j >= len) {
        emit_bytes(e, "<", 1);
        return len;
    }
    if (u[j] == '!') {
        const char *end;
        if (len - i >= 4 && !memcmp(s + i, "<!--", 4)) {
            end = find(s, len, i + 4, "-->");
            return end ? (size_t)(end - s) + 3 : len;
        }
        if (len - i >= 9 && !memcmp(s + i, "<![CDATA[", 9)) {
            end = find(s, len, i + 9, "]]>");
            size_t stop = end ? (size_t)(end - s) : len;
            emit_text(e, s + i + 9, stop - (i + 9));
            return end ? stop + 3 : len;
        }
        end = memchr(s + j, '>', len - j);
        return end ? (size_t)(end - s) + 1 : len;
    }
    if (u[j] == '?' || (u[j] == '/' && (j + 1 >= len || !ascii_alpha(u[j + 1])))) {
        const char *end = memchr(s + j, '>', len - j);
        return end ? (size_t)(end - s) + 1 : len;
    }
    bool closing = u[j] == '/';
    if (closing)
        j++;
    if (!ascii_alpha(u[j])) {
        emit_bytes(e, "<", 1);
        return i + 1;
    }
    char name[16];
    size_t n = 0;
    bool toolong = false;
    while (j < len && ascii_alnum(u[j])) {
        if (n < sizeof name - 1)
            name[n++] = (char)(u[j] | 0x20);
        else
            toolong = true;      /* longer than any tag we care about */
        j++;
    }
    name[toolong ? 0 : n] = '\0';
    /* find the end of the tag, honouring quoted attribute values */
    bool after_eq = false;
    while (j < len && u[j] != '>') {
        if (after_eq && (u[j] == '"' || u[j] == '\'')) {
            const char *q = memchr(s + j + 1, u[j], len - j - 1);
            if (!q)
                return len;      /* truncated inside a value: drop the rest */
            j = (size_t)(q - s) + 1;
            after_eq = false;
            continue;
        }
        if (u[j] == '=')
            after_eq = true;
        else if (!ascii_space(u[j]))
            after_eq = false;
        j++;
    }
    if (j >= len)
        return len;              /* truncated tag */
    j++;
    apply_break(e, tag_break(name));
    if (!closing && (!strcmp(name, "script") || !strcmp(name, "style")))
        return skip_raw(s, len, j, name);
    return j;
}

/* At s[i] == '&'. Decodes one reference or writes a literal '&'. */
static size_t html_ref(struct emit *e, const char *s, size_t len, size_t i)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t j = i + 1;
    if (j < len && u[j] == '#') {
        bool hex = j + 1 < len && (u[j + 1] == 'x' || u[j + 1] == 'X');
        size_t k = j + 1 + hex, start = k;
        uint32_t v = 0;
        while (k < len) {
            unsigned d;
            if (u[k] >= '0' && u[k] <= '9')
                d = u[k] - '0';
            else if (hex && (u[k] | 0x20) >= 'a' && (u[k] | 0x20) <= 'f')
                d = (u[k] | 0x20) - 'a' + 10;
            else
                break;
            v = v * (hex ? 16 : 10) + d;
            if (v > 0x10FFFF)
                v = 0x110000;
            k++;
        }
        if (k == start) {
            emit_bytes(e, "&", 1);
            return i + 1;
        }
        if (k < len && u[k] == ';')
            k++;
        emit_cp(e, charref_fixup(v));
        return k;
    }
    size_t k = j;
    while (k < len && k - j <= 32 && ascii_alnum(u[k]))
        k++;
    uint32_t cp;
    if (k < len && u[k] == ';' && html_entity_lookup(s + j, k - j, &cp)) {
        emit_cp(e, cp);
        return k + 1;
    }
    /* HTML's commonest legacy references work without the semicolon, and
     * in text they match as a prefix: "&copy2026" is "(c)2026". */
    static const char *const legacy[] = {"amp", "lt", "gt", "quot", "nbsp", "copy", "reg"};
    for (size_t l = 0; l < CTX_ARRAY_LEN(legacy); l++) {
        size_t ln = strlen(legacy[l]);
        if (k - j >= ln && !memcmp(s + j, legacy[l], ln) && (k - j > ln || k == len || u[k] != ';')
            && html_entity_lookup(s + j, ln, &cp)) {
            emit_cp(e, cp);
            return j + ln;
        }
    }
    emit_bytes(e, "&", 1);
    return i + 1;
}

char *html_to_text(const char *html, size_t len)
{
    struct buf b = {0};
    struct emit e = {.b = &b};
    const unsigned char *u = (const unsigned char *)html;
    size_t i = 0;
    while (i < len) {
        unsigned char c = u[i];
        if (c == '<') {
            i = html_tag(&e, html, len, i);
        } else if (c == '&') {
            i = html_ref(&e, html, len, i);
        } else {
            size_t j = i + 1;
            while (j < len && u[j] != '<' && u[j] != '&')
                j++;
            emit_text(&e, html + i, j - i);
            i = j;
        }
    }
    return buf_detach(&b);
}
