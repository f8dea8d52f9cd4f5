/* html.c -- HTML fragments to plain text, plus the character helpers the
 * feed parser shares (UTF-8 encode/decode/repair, entity table).
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
 * The entity table holds all of HTML 4 (the 252 that feeds actually use,
 * with HTML 4's code points, as Python's feedparser does) plus common HTML5
 * additions: punctuation names and Central European letters. It is sorted
 * by byte order for bsearch; tests/collectors/test_html.c checks that. */
#define _GNU_SOURCE      /* memmem */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "collectors/collectors.h"
#include "collectors/collectors_internal.h"

/* ---- entity table ------------------------------------------------------- */

struct entity {
    const char *name;
    uint32_t cp;
};

static const struct entity entities[] = {
    {"AElig", 198},
    {"AMP", 38},
    {"Aacute", 193},
    {"Acirc", 194},
    {"Agrave", 192},
    {"Alpha", 913},
    {"Amacr", 256},
    {"Aogon", 260},
    {"Aring", 197},
    {"Atilde", 195},
    {"Auml", 196},
    {"Beta", 914},
    {"COPY", 169},
    {"Cacute", 262},
    {"Ccaron", 268},
    {"Ccedil", 199},
    {"Chi", 935},
    {"Dagger", 8225},
    {"Dcaron", 270},
    {"Delta", 916},
    {"Dstrok", 272},
    {"ETH", 208},
    {"Eacute", 201},
    {"Ecaron", 282},
    {"Ecirc", 202},
    {"Egrave", 200},
    {"Emacr", 274},
    {"Eogon", 280},
    {"Epsilon", 917},
    {"Eta", 919},
    {"Euml", 203},
    {"GT", 62},
    {"Gamma", 915},
    {"Gbreve", 286},
    {"Hat", 94},
    {"Iacute", 205},
    {"Icirc", 206},
    {"Idot", 304},
    {"Igrave", 204},
    {"Imacr", 298},
    {"Iota", 921},
    {"Iuml", 207},
    {"Kappa", 922},
    {"LT", 60},
    {"Lambda", 923},
    {"Lstrok", 321},
    {"Mu", 924},
    {"Nacute", 323},
    {"Ncaron", 327},
    {"NewLine", 10},
    {"NoBreak", 8288},
    {"NonBreakingSpace", 160},
    {"Ntilde", 209},
    {"Nu", 925},
    {"OElig", 338},
    {"Oacute", 211},
    {"Ocirc", 212},
    {"Odblac", 336},
    {"Ograve", 210},
    {"Omacr", 332},
    {"Omega", 937},
    {"Omicron", 927},
    {"Oslash", 216},
    {"Otilde", 213},
    {"Ouml", 214},
    {"Phi", 934},
    {"Pi", 928},
    {"Prime", 8243},
    {"Psi", 936},
    {"QUOT", 34},
    {"REG", 174},
    {"Rcaron", 344},
    {"Rho", 929},
    {"Sacute", 346},
    {"Scaron", 352},
    {"Scedil", 350},
    {"Sigma", 931},
    {"THORN", 222},
    {"TRADE", 8482},
    {"Tab", 9},
    {"Tau", 932},
    {"Tcaron", 356},
    {"Theta", 920},
    {"Uacute", 218},
    {"Ucirc", 219},
    {"Udblac", 368},
    {"Ugrave", 217},
    {"Umacr", 362},
    {"Upsilon", 933},
    {"Uring", 366},
    {"Uuml", 220},
    {"Xi", 926},
    {"Yacute", 221},
    {"Yuml", 376},
    {"Zacute", 377},
    {"Zcaron", 381},
    {"Zdot", 379},
    {"ZeroWidthSpace", 8203},
    {"Zeta", 918},
    {"aacute", 225},
    {"acirc", 226},
    {"acute", 180},
    {"aelig", 230},
    {"agrave", 224},
    {"alefsym", 8501},
    {"alpha", 945},
    {"amacr", 257},
    {"amp", 38},
    {"and", 8743},
    {"ang", 8736},
    {"angst", 197},
    {"aogon", 261},
    {"apos", 39},
    {"aring", 229},
    {"ast", 42},
    {"asymp", 8776},
    {"atilde", 227},
    {"auml", 228},
    {"bdquo", 8222},
    {"beta", 946},
    {"brvbar", 166},
    {"bsol", 92},
    {"bull", 8226},
    {"bullet", 8226},
    {"cacute", 263},
    {"cap", 8745},
    {"ccaron", 269},
    {"ccedil", 231},
    {"cedil", 184},
    {"cent", 162},
    {"centerdot", 183},
    {"check", 10003},
    {"checkmark", 10003},
    {"chi", 967},
    {"circ", 710},
    {"clubs", 9827},
    {"colon", 58},
    {"comma", 44},
    {"commat", 64},
    {"cong", 8773},
    {"copy", 169},
    {"crarr", 8629},
    {"cross", 10007},
    {"cup", 8746},
    {"curren", 164},
    {"dArr", 8659},
    {"dagger", 8224},
    {"darr", 8595},
    {"dcaron", 271},
    {"deg", 176},
    {"delta", 948},
    {"diams", 9830},
    {"divide", 247},
    {"dollar", 36},
    {"dstrok", 273},
    {"eacute", 233},
    {"ecaron", 283},
    {"ecirc", 234},
    {"egrave", 232},
    {"emacr", 275},
    {"empty", 8709},
    {"emsp", 8195},
    {"ensp", 8194},
    {"eogon", 281},
    {"epsilon", 949},
    {"equals", 61},
    {"equiv", 8801},
    {"eta", 951},
    {"eth", 240},
    {"euml", 235},
    {"euro", 8364},
    {"excl", 33},
    {"exist", 8707},
    {"female", 9792},
    {"flat", 9837},
    {"fnof", 402},
    {"forall", 8704},
    {"frac12", 189},
    {"frac14", 188},
    {"frac34", 190},
    {"frasl", 8260},
    {"gamma", 947},
    {"gbreve", 287},
    {"ge", 8805},
    {"grave", 96},
    {"gt", 62},
    {"hArr", 8660},
    {"hairsp", 8202},
    {"half", 189},
    {"harr", 8596},
    {"hearts", 9829},
    {"hellip", 8230},
    {"horbar", 8213},
    {"hyphen", 8208},
    {"iacute", 237},
    {"icirc", 238},
    {"iexcl", 161},
    {"igrave", 236},
    {"imacr", 299},
    {"image", 8465},
    {"imath", 305},
    {"infin", 8734},
    {"inodot", 305},
    {"int", 8747},
    {"iota", 953},
    {"iquest", 191},
    {"isin", 8712},
    {"iuml", 239},
    {"kappa", 954},
    {"lArr", 8656},
    {"lambda", 955},
    {"lang", 9001},
    {"laquo", 171},
    {"larr", 8592},
    {"lceil", 8968},
    {"lcub", 123},
    {"ldquo", 8220},
    {"ldquor", 8222},
    {"le", 8804},
    {"lfloor", 8970},
    {"lowast", 8727},
    {"lowbar", 95},
    {"loz", 9674},
    {"lpar", 40},
    {"lrm", 8206},
    {"lsaquo", 8249},
    {"lsqb", 91},
    {"lsquo", 8216},
    {"lsquor", 8218},
    {"lstrok", 322},
    {"lt", 60},
    {"macr", 175},
    {"male", 9794},
    {"mdash", 8212},
    {"micro", 181},
    {"middot", 183},
    {"minus", 8722},
    {"mldr", 8230},
    {"mu", 956},
    {"nabla", 8711},
    {"nacute", 324},
    {"natural", 9838},
    {"nbsp", 160},
    {"ncaron", 328},
    {"ndash", 8211},
    {"ne", 8800},
    {"ni", 8715},
    {"nldr", 8229},
    {"not", 172},
    {"notin", 8713},
    {"nsub", 8836},
    {"ntilde", 241},
    {"nu", 957},
    {"num", 35},
    {"numsp", 8199},
    {"oacute", 243},
    {"ocirc", 244},
    {"odblac", 337},
    {"oelig", 339},
    {"ograve", 242},
    {"ohm", 937},
    {"oline", 8254},
    {"omacr", 333},
    {"omega", 969},
    {"omicron", 959},
    {"oplus", 8853},
    {"or", 8744},
    {"ordf", 170},
    {"ordm", 186},
    {"oslash", 248},
    {"otilde", 245},
    {"otimes", 8855},
    {"ouml", 246},
    {"para", 182},
    {"part", 8706},
    {"percnt", 37},
    {"period", 46},
    {"permil", 8240},
    {"perp", 8869},
    {"phi", 966},
    {"phone", 9742},
    {"pi", 960},
    {"piv", 982},
    {"plus", 43},
    {"plusmn", 177},
    {"pound", 163},
    {"prime", 8242},
    {"prod", 8719},
    {"prop", 8733},
    {"psi", 968},
    {"puncsp", 8200},
    {"quest", 63},
    {"quot", 34},
    {"rArr", 8658},
    {"radic", 8730},
    {"rang", 9002},
    {"raquo", 187},
    {"rarr", 8594},
    {"rcaron", 345},
    {"rceil", 8969},
    {"rcub", 125},
    {"rdquo", 8221},
    {"rdquor", 8221},
    {"real", 8476},
    {"reg", 174},
    {"rfloor", 8971},
    {"rho", 961},
    {"rlm", 8207},
    {"rpar", 41},
    {"rsaquo", 8250},
    {"rsqb", 93},
    {"rsquo", 8217},
    {"rsquor", 8217},
    {"sacute", 347},
    {"sbquo", 8218},
    {"scaron", 353},
    {"scedil", 351},
    {"sdot", 8901},
    {"sect", 167},
    {"semi", 59},
    {"sharp", 9839},
    {"shy", 173},
    {"sigma", 963},
    {"sigmaf", 962},
    {"sim", 8764},
    {"sol", 47},
    {"spades", 9824},
    {"star", 9734},
    {"starf", 9733},
    {"sub", 8834},
    {"sube", 8838},
    {"sum", 8721},
    {"sup", 8835},
    {"sup1", 185},
    {"sup2", 178},
    {"sup3", 179},
    {"supe", 8839},
    {"szlig", 223},
    {"tau", 964},
    {"tcaron", 357},
    {"there4", 8756},
    {"theta", 952},
    {"thetasym", 977},
    {"thinsp", 8201},
    {"thorn", 254},
    {"tilde", 732},
    {"times", 215},
    {"trade", 8482},
    {"uArr", 8657},
    {"uacute", 250},
    {"uarr", 8593},
    {"ucirc", 251},
    {"udblac", 369},
    {"ugrave", 249},
    {"umacr", 363},
    {"uml", 168},
    {"upsih", 978},
    {"upsilon", 965},
    {"uring", 367},
    {"uuml", 252},
    {"verbar", 124},
    {"vert", 124},
    {"weierp", 8472},
    {"xi", 958},
    {"yacute", 253},
    {"yen", 165},
    {"yuml", 255},
    {"zacute", 378},
    {"zcaron", 382},
    {"zdot", 380},
    {"zeta", 950},
    {"zwj", 8205},
    {"zwnj", 8204},
};

static int entity_cmp(const char *name, size_t len, const char *ename)
{
    size_t elen = strlen(ename);
    int c = memcmp(name, ename, len < elen ? len : elen);
    if (c)
        return c;
    return len < elen ? -1 : len > elen;
}

bool html_entity_lookup(const char *name, size_t len, uint32_t *cp)
{
    size_t lo = 0, hi = CTX_ARRAY_LEN(entities);
    if (len == 0 || len > 32)
        return false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = entity_cmp(name, len, entities[mid].name);
        if (c == 0) {
            *cp = entities[mid].cp;
            return true;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

/* ---- UTF-8 -------------------------------------------------------------- */

ctx_err utf8_put(struct buf *b, uint32_t cp)
{
    unsigned char o[4];
    size_t n;
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        cp = UTF8_REPLACEMENT;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        o[0] = (unsigned char)(0xF0 | (cp >> 18));
        o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return buf_append(b, o, n);
}

static bool cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp, bool *bad)
{
    unsigned char c = s[0];
    *bad = false;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF && len >= 2 && cont(s[1])) {
        *cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF && len >= 3 && cont(s[1]) && cont(s[2])
        && !(c == 0xE0 && s[1] < 0xA0) && !(c == 0xED && s[1] >= 0xA0)) {
        *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4 && len >= 4 && cont(s[1]) && cont(s[2]) && cont(s[3])
        && !(c == 0xF0 && s[1] < 0x90) && !(c == 0xF4 && s[1] >= 0x90)) {
        *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12)
            | ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        return 4;
    }
    *cp = UTF8_REPLACEMENT;
    *bad = true;
    return 1;
}

ctx_err utf8_sanitize(const char *s, size_t len, struct buf *out, bool *bad)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    ctx_err e = CTX_OK;
    *bad = false;
    while (i < len) {
        if (u[i] >= 0x01 && u[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        bool b;
        size_t n = u[i] ? utf8_decode(u + i, len - i, &cp, &b) : 1;
        if (u[i] && !b) {
            i += n;
            continue;
        }
        *bad = true;
        if ((e = buf_append(out, s + run, i - run)) || (e = utf8_put(out, UTF8_REPLACEMENT)))
            return e;
        i += n;
        run = i;
    }
    return buf_append(out, s + run, len - run);
}

/* windows-1252's printable characters in 0x80-0x9F; 0 where it has none. */
static const uint16_t cp1252_c1[32] = {
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
    0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

uint32_t charref_fixup(uint32_t cp)
{
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return UTF8_REPLACEMENT;
    if (cp >= 0x80 && cp <= 0x9F && cp1252_c1[cp - 0x80])
        return cp1252_c1[cp - 0x80];
    return cp;
}

/* ---- the emitter -------------------------------------------------------- */

struct emit {
    struct buf *b;
    int nl;        /* pending line breaks (0-2) */
    bool sp;       /* pending space */
    ctx_err err;
};

static void emit_sep(struct emit *e)
{
    if (e->b->len) {
        if (e->nl)
            e->err = e->err ? e->err : buf_append(e->b, "\n\n", (size_t)e->nl);
        else if (e->sp)
            e->err = e->err ? e->err : buf_putc(e->b, ' ');
    }
    e->nl = 0;
    e->sp = false;
}

static void emit_bytes(struct emit *e, const char *s, size_t n)
{
    emit_sep(e);
    if (!e->err)
        e->err = buf_append(e->b, s, n);
}

static bool is_space_cp(uint32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f'
        || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A)
        || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

static void emit_cp(struct emit *e, uint32_t cp)
{
    if (is_space_cp(cp)) {
        e->sp = true;
        return;
    }
    /* invisible characters that only break words apart */
    if (cp < 0x20 || cp == 0x7F || cp == 0xAD || cp == 0x200B || cp == 0xFEFF)
        return;
    emit_sep(e);
    if (!e->err)
        e->err = utf8_put(e->b, cp);
}

static bool ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Plain text (no markup) from s[0..len) through the emitter. */
static void emit_text(struct emit *e, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len && !e->err) {
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
    if (e.err) {
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b);
}

/* ---- html_to_text ------------------------------------------------------- */

static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(unsigned char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9');
}

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
            && (k + 2 + nlen == len || !is_alnum((unsigned char)s[k + 2 + nlen]))) {
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
    if (u[j] == '?' || (u[j] == '/' && (j + 1 >= len || !is_alpha(u[j + 1])))) {
        const char *end = memchr(s + j, '>', len - j);
        return end ? (size_t)(end - s) + 1 : len;
    }
    bool closing = u[j] == '/';
    if (closing)
        j++;
    if (!is_alpha(u[j])) {
        emit_bytes(e, "<", 1);
        return i + 1;
    }
    char name[16];
    size_t n = 0;
    bool toolong = false;
    while (j < len && is_alnum(u[j])) {
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
    while (k < len && k - j <= 32 && is_alnum(u[k]))
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
    while (i < len && !e.err) {
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
    if (e.err) {
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b);
}
