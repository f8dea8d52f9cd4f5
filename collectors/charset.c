/* charset.c -- bytes to UTF-8 text: a feed body in whatever encoding it
 * came in (charset_decode), and base64 content (base64_text).
 *
 * charset_decode() follows feedparser's order (RFC 3023 as the web bends
 * it): a BOM (or UTF-16/32 seen in the first bytes) decides; else the first
 * candidate that decodes the bytes without error wins -- the HTTP charset
 * (text/ types without one: us-ascii; JSON: UTF-8), the XML declaration, a
 * guess for undeclared Russian (windows-1251, KOI8-R), UTF-8, windows-1252,
 * ISO-8859-2 -- and needing any but the first makes the document bozo.
 * Latin-1 is read as windows-1252 (what it means on the web); the rest goes
 * through iconv. Bytes that decode nowhere become U+FFFD, so everything
 * downstream may assume valid UTF-8.
 *
 * It is its own file because it is the only part of the feed parser that
 * looks at bytes rather than characters, and the only user of iconv; it
 * knows nothing of XML beyond the declaration's encoding="...". Each
 * candidate is one pass over the body, so the cost is linear. */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "collectors/collectors_internal.h"

#define ci_bozo(ci, ...) first_problem(&(ci)->bozo, (ci)->error, sizeof (ci)->error, __VA_ARGS__)

bool media_token(const char *s, size_t n, char *out, size_t cap)
{
    while (n && (ascii_space((unsigned char)*s) || *s == '"' || *s == '\''))
        s++, n--;
    while (n && (ascii_space((unsigned char)s[n - 1]) || s[n - 1] == '"' || s[n - 1] == '\''))
        n--;
    if (!n || n >= cap)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!(((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9')
              || c == '-' || c == '_' || c == '.' || c == ':' || c == '+' || c == '/'))
            return false;
        out[i] = (char)((c >= 'A' && c <= 'Z') ? c | 0x20 : c);
    }
    out[n] = '\0';
    return true;
}

void http_content_type(const char *ct, char *mime, size_t mcap, char *cs, size_t ccap)
{
    mime[0] = cs[0] = '\0';
    if (!ct)
        return;
    size_t n = strcspn(ct, ";");
    if (!media_token(ct, n, mime, mcap))
        mime[0] = '\0';
    for (const char *p = ct + n; *p;) {
        p++;
        while (ascii_space((unsigned char)*p))
            p++;
        size_t k = strcspn(p, "=;");
        if (p[k] == '=' && k >= 7 && !strncasecmp(p, "charset", 7)
            && strspn(p + 7, " \t") == k - 7) {
            const char *v = p + k + 1;
            size_t vn = strcspn(v, ";");
            if (!media_token(v, vn, cs, ccap) || strchr(cs, '/'))
                cs[0] = '\0';      /* no iconv "//IGNORE"-style suffixes */
            return;
        }
        p += strcspn(p, ";");
    }
}

static bool xml_mime(const char *m)
{
    size_t n = strlen(m);
    if (!strncmp(m, "application/", 12) || !strncmp(m, "text/", 5))
        return (n > 4 && !strcmp(m + n - 4, "+xml")) || !strcmp(m, "application/xml")
            || !strcmp(m, "text/xml") || !strcmp(m, "application/xml-dtd")
            || !strcmp(m, "application/xml-external-parsed-entity")
            || !strcmp(m, "text/xml-external-parsed-entity");
    return false;
}

/* The encoding named by an XML declaration at the start of s. */
static void xml_decl_encoding(const char *s, size_t len, char *out, size_t cap)
{
    out[0] = '\0';
    if (len < 6 || memcmp(s, "<?xml", 5))
        return;
    size_t lim = len < 512 ? len : 512;
    const char *end = memchr(s, '>', lim);
    if (!end)
        return;
    for (const char *p = s + 5; p + 8 < end; p++) {
        if (memcmp(p, "encoding", 8))
            continue;
        const char *q = p + 8;
        while (q < end && ascii_space((unsigned char)*q))
            q++;
        if (q >= end || *q != '=')
            return;
        q++;
        while (q < end && ascii_space((unsigned char)*q))
            q++;
        if (q >= end || (*q != '"' && *q != '\''))
            return;
        const char *v = q + 1, *ve = memchr(v, *q, (size_t)(end - v));
        if (ve && (!media_token(v, (size_t)(ve - v), out, cap) || strchr(out, '/')))
            out[0] = '\0';
        return;
    }
}

/* One of the names windows-1252 goes by on the web (Latin-1 included). */
static bool is_cp1252(const char *cs)
{
    static const char *const names[] = {
        "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819",
        "ibm819", "iso-ir-100", "windows-1252", "cp1252", "x-cp1252", "iso_8859-1:1987",
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(names); i++)
        if (!strcmp(cs, names[i]))
            return true;
    return false;
}

static bool is_utf8(const char *cs)
{
    return !strcmp(cs, "utf-8") || !strcmp(cs, "utf8");
}

static bool is_ascii(const char *cs)
{
    return !strcmp(cs, "us-ascii") || !strcmp(cs, "ascii") || !strcmp(cs, "ansi_x3.4-1968");
}

/* UTF-16/32, UCS-2/4 under any spelling. */
static bool is_wide(const char *cs)
{
    if (strncmp(cs, "utf", 3) && strncmp(cs, "ucs", 3))
        return false;
    return strstr(cs, "16") || strstr(cs, "32") || !strcmp(cs + 3, "2") || !strcmp(cs + 3, "-2")
        || !strcmp(cs + 3, "4") || !strcmp(cs + 3, "-4");
}

static void decode_cp1252(const char *s, size_t len, struct buf *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        if (u[i] && u[i] < 0x80)
            continue;
        buf_append(out, s + run, i - run);
        ctx_utf8_put(out, charref_fixup(u[i]));
        run = i + 1;
    }
    buf_append(out, s + run, len - run);
}

/* Convert with iconv; undecodable input becomes U+FFFD (one per `unit`
 * bytes skipped). CTX_EINVAL when iconv does not know the charset. */
static ctx_err decode_iconv(const char *cs, const char *s, size_t len, size_t unit,
                            struct buf *out, bool *lossy)
{
    iconv_t cd = iconv_open("UTF-8", cs);
    if (cd == (iconv_t)-1)
        return CTX_EINVAL;
    char tmp[8192];
    char *ip = (char *)s;
    size_t il = len;
    while (il > 0) {
        char *op = tmp;
        size_t ol = sizeof tmp;
        size_t rc = iconv(cd, &ip, &il, &op, &ol);
        int err = errno;
        buf_append(out, tmp, (size_t)(op - tmp));
        if (rc != (size_t)-1 || err == E2BIG)
            continue;
        /* EILSEQ, EINVAL (truncated at the end), or anything else */
        *lossy = true;
        ctx_utf8_put(out, CTX_UTF8_REPLACEMENT);
        size_t skip = unit < il ? unit : il;
        ip += skip;
        il -= skip;
        iconv(cd, NULL, NULL, NULL, NULL);
    }
    char *op = tmp;
    size_t ol = sizeof tmp;
    iconv(cd, NULL, NULL, &op, &ol);
    buf_append(out, tmp, (size_t)(op - tmp));
    iconv_close(cd);
    return CTX_OK;
}

/* Whether s is entirely valid UTF-8 (NUL bytes allowed: they are repaired
 * later like any other problem). */
static bool valid_utf8(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        bool bad;
        i += utf8_decode(u + i, len - i, &cp, &bad);
        if (bad)
            return false;
    }
    return true;
}

/* A stand-in for the charset detector feedparser consults when nothing
 * declared works: Russian text in windows-1251 or KOI8-R, told apart by
 * where the ten commonest Russian letters fall (lower case dominates real
 * text, and the two encodings put the lower-case alphabet in opposite
 * halves of 0xC0-0xFF). Returns NULL unless the bytes clearly look so. */
static const char *guess_cyrillic(const char *s, size_t len)
{
    /* о е а и н т с р в л */
    static const unsigned char cp1251[] = {0xEE, 0xE5, 0xE0, 0xE8, 0xED, 0xF2, 0xF1, 0xF0,
                                           0xE2, 0xEB};
    static const unsigned char koi8r[] = {0xCF, 0xC5, 0xC1, 0xC9, 0xCE, 0xD4, 0xD3, 0xD2,
                                          0xD7, 0xCC};
    bool in1251[256] = {false}, inkoi[256] = {false};
    for (size_t i = 0; i < sizeof cp1251; i++) {
        in1251[cp1251[i]] = true;
        inkoi[koi8r[i]] = true;
    }
    size_t ascii_letters = 0, high = 0, a = 0, k = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = u[i];
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
            ascii_letters++;
        else if (c >= 0xC0) {
            high++;
            a += in1251[c];
            k += inkoi[c];
        }
    }
    if (high < 8 || high * 5 < ascii_letters)
        return NULL;
    if (a * 10 >= high * 4 && a >= 2 * k)
        return "windows-1251";
    if (k * 10 >= high * 4 && k >= 2 * a)
        return "koi8-r";
    return NULL;
}

/* C1 control characters (U+0080-U+009F) in decoded text are windows-1252
 * bytes someone decoded as Latin-1: map them to what they meant, as
 * feedparser does. */
static void c1_fixup(struct buf *b)
{
    const char *s = buf_str(b);
    size_t n = buf_len(b);
    const char *p = memchr(s, '\xC2', n);
    bool any = false;
    for (; p && !any; p = memchr(p + 1, '\xC2', n - (size_t)(p + 1 - s)))
        any = (size_t)(p - s) + 1 < n && (unsigned char)p[1] >= 0x80
              && (unsigned char)p[1] <= 0x9F;
    if (!any)
        return;
    struct buf o = {0};
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80
            && (unsigned char)s[i + 1] <= 0x9F) {
            ctx_utf8_put(&o, charref_fixup((unsigned char)s[i + 1]));
            i += 2;
        } else {
            size_t j = i + 1;
            while (j < n && (unsigned char)s[j] != 0xC2)
                j++;
            buf_append(&o, s + i, j - i);
            i = j;
        }
    }
    buf_free(b);
    *b = o;
}

/* Decode s[0..len) from cs into out, strictly: false (out untouched) when
 * cs is unknown or some bytes are not valid in it. */
static bool try_decode(const char *cs, const char *s, size_t len, struct buf *out)
{
    const unsigned char *u = (const unsigned char *)s;
    if (is_utf8(cs)) {
        if (!valid_utf8(s, len))
            return false;
        buf_append(out, s, len);
        return true;
    }
    if (is_ascii(cs)) {
        for (size_t k = 0; k < len; k++)
            if (u[k] >= 0x80)
                return false;
        buf_append(out, s, len);
        return true;
    }
    if (is_cp1252(cs)) {
        /* as Python's strict codec: five bytes have no character */
        if (!strcmp(cs, "windows-1252") || !strcmp(cs, "cp1252") || !strcmp(cs, "x-cp1252"))
            for (size_t k = 0; k < len; k++)
                if (u[k] == 0x81 || u[k] == 0x8D || u[k] == 0x8F || u[k] == 0x90 || u[k] == 0x9D)
                    return false;
        decode_cp1252(s, len, out);
        return true;
    }
    if (is_wide(cs))
        return false;      /* we read the declaration as ASCII, so it is wrong */
    struct buf tmp = {0};
    bool lossy = false;
    if (decode_iconv(cs, s, len, 1, &tmp, &lossy) || lossy) {
        buf_free(&tmp);
        return false;
    }
    /* iconv's output is UTF-8 but may hold NULs */
    ctx_utf8_sanitize(buf_str(&tmp), buf_len(&tmp), out, &(bool){false});
    buf_free(&tmp);
    return true;
}

ctx_err charset_decode(const char *s, size_t len, const char *content_type, bool json,
                       struct buf *out, struct charset_info *ci)
{
    const unsigned char *u = (const unsigned char *)s;
    const char *wide = NULL;
    size_t unit = 1, skip = 0;
    char mime[128], http_cs[64], decl_cs[64] = "";
    bool lossy = false;

    http_content_type(content_type, mime, sizeof mime, http_cs, sizeof http_cs);
    if (mime[0] && !json && !xml_mime(mime))
        ci_bozo(ci, "served as %s, not an XML media type", mime);

    if (len >= 4 && !memcmp(u, "\xFF\xFE\0\0", 4))
        wide = "UTF-32LE", unit = 4, skip = 4;
    else if (len >= 4 && !memcmp(u, "\0\0\xFE\xFF", 4))
        wide = "UTF-32BE", unit = 4, skip = 4;
    else if (len >= 2 && u[0] == 0xFF && u[1] == 0xFE)
        wide = "UTF-16LE", unit = 2, skip = 2;
    else if (len >= 2 && u[0] == 0xFE && u[1] == 0xFF)
        wide = "UTF-16BE", unit = 2, skip = 2;
    else if (len >= 4 && u[0] == '<' && !u[1] && !u[2] && !u[3])
        wide = "UTF-32LE", unit = 4;
    else if (len >= 4 && !u[0] && !u[1] && !u[2] && u[3] == '<')
        wide = "UTF-32BE", unit = 4;
    else if (len >= 4 && u[0] == '<' && !u[1] && u[2] && !u[3])
        wide = "UTF-16LE", unit = 2;
    else if (len >= 4 && !u[0] && u[1] == '<' && !u[2] && u[3])
        wide = "UTF-16BE", unit = 2;

    if (wide) {
        struct buf tmp = {0};
        snprintf(ci->encoding, sizeof ci->encoding, "%s", wide);
        ctx_err e = decode_iconv(wide, s + skip, len - skip, unit, &tmp, &lossy);
        if (!e)
            ctx_utf8_sanitize(buf_str(&tmp), buf_len(&tmp), out, &(bool){false});
        buf_free(&tmp);
        if (lossy)
            ci_bozo(ci, "invalid %s data", wide);
        return e;
    }
    if (len >= 3 && !memcmp(u, "\xEF\xBB\xBF", 3)) {
        snprintf(ci->encoding, sizeof ci->encoding, "%s", "utf-8");
        s += 3;
        len -= 3;
        bool bad;
        ctx_utf8_sanitize(s, len, out, &bad);
        if (bad)
            ci_bozo(ci, "invalid UTF-8 replaced with U+FFFD");
        return CTX_OK;
    }
    if (!json)
        xml_decl_encoding(s, len, decl_cs, sizeof decl_cs);
    /* RFC 3023: text/xml without a charset is us-ascii */
    const char *first = http_cs[0] ? http_cs
                      : json ? "utf-8"
                      : !strncmp(mime, "text/", 5) ? "us-ascii"
                      : decl_cs[0] ? decl_cs : "utf-8";
    const char *why = http_cs[0] ? "by the HTTP charset"
                    : json ? "by default for JSON"
                    : !strncmp(mime, "text/", 5) ? "by text/ without a charset"
                    : decl_cs[0] ? "by the XML declaration" : "by default";
    const char *cands[] = {first, decl_cs[0] ? decl_cs : NULL,
                           valid_utf8(s, len) ? NULL : guess_cyrillic(s, len),
                           "utf-8", "windows-1252", "iso-8859-2"};
    for (size_t i = 0; i < CTX_ARRAY_LEN(cands); i++) {
        const char *cs = cands[i];
        if (!cs)
            continue;
        if (try_decode(cs, s, len, out)) {
            if (memchr(buf_str(out), '\0', buf_len(out))) {
                struct buf clean = {0};
                ctx_utf8_sanitize(buf_str(out), buf_len(out), &clean, &(bool){false});
                buf_free(out);
                *out = clean;
                ci_bozo(ci, "NUL characters replaced with U+FFFD");
            }
            c1_fixup(out);
            snprintf(ci->encoding, sizeof ci->encoding, "%s", cs);
            if (i > 0 && strcmp(cs, first))
                ci_bozo(ci, "%s %s, but parsed as %s", first, why, cs);
            return CTX_OK;
        }
        buf_reset(out);
    }
    snprintf(ci->encoding, sizeof ci->encoding, "%s", "utf-8");
    bool bad;
    ctx_utf8_sanitize(s, len, out, &bad);
    if (bad)
        ci_bozo(ci, "invalid UTF-8 replaced with U+FFFD");
    return CTX_OK;
}


/* ---- base64 ------------------------------------------------------------- */

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

char *base64_text(const char *s, size_t n)
{
    struct buf b = {0};
    uint32_t acc = 0;
    int bits = 0;
    bool pad = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (ascii_space(c))
            continue;
        if (c == '=') {
            pad = true;
            continue;
        }
        int v = b64val(c);
        if (v < 0 || pad) {
            buf_free(&b);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf_putc(&b, (char)((acc >> bits) & 0xFF));
        }
    }
    struct buf clean = {0};
    bool bad = true;
    if (buf_len(&b))
        ctx_utf8_sanitize(buf_str(&b), buf_len(&b), &clean, &bad);
    if (!bad) {
        buf_free(&b);
        return buf_detach(&clean);
    }
    buf_free(&b);
    buf_free(&clean);
    return NULL;
}
