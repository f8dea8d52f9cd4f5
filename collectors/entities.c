/* entities.c -- characters: the HTML entity table, numeric character
 * references as browsers read them, and the UTF-8 helpers every collector's
 * parser shares (encode, decode, repair, undo double encoding).
 *
 * These are the few places where bytes become code points, so that the XML
 * tokenizer (xml.c), html_to_text() (html.c), the sanitizer (sanitize.c) and
 * the charset decoder (charset.c) agree on what is valid and what becomes
 * U+FFFD. Everything here is pure and works on one buffer in one pass.
 *
 * The entity table holds all of HTML 4 (the 252 that feeds actually use,
 * with HTML 4's code points, as Python's feedparser does) plus common HTML5
 * additions: punctuation names and Central European letters. It is sorted
 * by byte order for a binary search; tests/collectors/test_html.c checks
 * that. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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
        return CTX_UTF8_REPLACEMENT;
    if (cp >= 0x80 && cp <= 0x9F && cp1252_c1[cp - 0x80])
        return cp1252_c1[cp - 0x80];
    return cp;
}

char *utf8_undouble(const char *s)
{
    struct buf b = {0};
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0;
    bool high = false;
    /* quick refusals: plain ASCII, or a lead byte no Latin-1 or windows-1252
     * character has (Cyrillic, CJK...) */
    for (; u[n]; n++) {
        unsigned char c = u[n];
        if (c < 0xC0)
            continue;
        if (c != 0xC2 && c != 0xC3 && c != 0xC5 && c != 0xC6 && c != 0xCB && c != 0xE2)
            return NULL;
        high = true;
    }
    if (!high)
        return NULL;
    high = false;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        bool bad;
        i += utf8_decode(u + i, n - i, &cp, &bad);
        int byte = -1;
        if (cp < 0x100 && !bad) {
            byte = (int)cp;
        } else {
            for (int k = 0; k < 32 && byte < 0; k++)
                if (cp1252_c1[k] == cp)
                    byte = 0x80 + k;
        }
        if (byte < 0) {
            buf_free(&b);
            return NULL;
        }
        buf_putc(&b, (char)byte);
        high |= byte >= 0x80;
    }
    bool bad = true;
    struct buf out = {0};
    if (high)
        ctx_utf8_sanitize(buf_str(&b), buf_len(&b), &out, &bad);
    if (!bad) {
        buf_free(&b);
        return buf_detach(&out);
    }
    buf_free(&b);
    buf_free(&out);
    return NULL;
}

bool cp_is_space(uint32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f'
        || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A)
        || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}
