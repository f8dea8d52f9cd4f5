/* sentiment.c -- VADER (Hutto & Gilbert, ICWSM 2014), rule for rule.
 *
 * The reference is vaderSentiment 3.3.x (the version whose README gives
 * "Today only kinda sux! But I'll get by, lol" 0.5249); compounds agree with
 * it to rounding. The steps, in its order:
 *
 *   1. emoji are replaced by their descriptions from the emoji lexicon
 *      ("💘" -> "heart with arrow"), so that words of the description score;
 *   2. the text is split at white space, and each token stripped of leading
 *      and trailing ASCII punctuation unless that leaves two characters or
 *      fewer (":)" and ":D" survive, and so does "ok.", as in the reference);
 *   3. each lexicon word gets its valence, then: "no" before a lexicon word
 *      negates it, ALL-CAPS adds 0.733 when some but not all tokens are
 *      capitals, the three preceding tokens may boost or dampen (0.293,
 *      scaled by 1, 0.95, 0.9 with distance) and negate (x -0.74), idioms
 *      ("the bomb", "kind of") apply, and "least" negates unless "at least";
 *   4. before the first "but" valences are halved, after it raised by half;
 *   5. the sum gains 0.292 per "!" (at most 4) and 0.18 per "?" (2 or 3,
 *      0.96 beyond), away from zero, and is normalised by x / sqrt(x^2 + 15).
 *
 * Where the reference has a quirk that changes scores, it is kept and
 * marked "as the reference" so that numbers match what people compare
 * against. Deliberate differences, all about emoji (step 1): the reference
 * looks emoji up one code point at a time, so multi-code-point emoji (flags,
 * skin tones, "❤️" with its variation selector) never matched whole; here the
 * longest key that matches wins, and a variation selector left over after a
 * match is dropped instead of being glued to the last word.
 *
 * Speed: one hash lookup per token with the lower-cased token built in a
 * stack buffer, no allocation for texts up to TOK_STACK tokens, and the emoji
 * pass skipped outright for ASCII text. ASCII is read eight bytes at a time
 * where it can be (word ends, short tokens' case and lower case), a token
 * found in the lexicon takes its complaint cue words from the analyzer's
 * table by entry (sentiment_opts.cue_words) instead of walking the cue trie
 * (the tables hold every whole cue word, so a token not found there walks
 * the small trie of word beginnings only), and a Russian word is stemmed
 * only when its first letters start a stem. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "analyzer/analyzer_internal.h"
#include "core/buf.h"
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define C_INCR   0.733
#define N_SCALAR (-0.74)
#define ALPHA    15.0

#define TOK_STACK 512
#define LOW_MAX   128       /* longest token looked up (longer: never a key) */


/* Where each emoji's description went: bytes [e0, e1) of the expanded text
 * (the space put before it included) stand for bytes [o0, o1) of the text
 * as given; shift is how much longer the expanded text is after it. */
struct desc {
    size_t e0, e1, o0, o1;
    long shift;
    const struct lex_entry *emoji;
};

struct descv {
    struct desc *v;
    size_t n, cap;
};

static void descv_add(struct descv *s, const struct desc *d)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->v = ctx_realloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = *d;
}

/* Byte classes for the tokenizer: ASCII white space (what Python's
 * str.split() splits at), Python's string.punctuation, the lead bytes of
 * the white space characters outside ASCII (checked in full by ws_at), and
 * the punctuation that can end a sentence typed without its space
 * (glued_end). */
enum { B_SPACE = 1, B_PUNCT = 2, B_MAYBE_SPACE = 4, B_GLUE = 8 };
static const uint8_t byte_class[256] = {
    [' '] = B_SPACE, [9] = B_SPACE, [10] = B_SPACE, [11] = B_SPACE, [12] = B_SPACE,
    [13] = B_SPACE, [28] = B_SPACE, [29] = B_SPACE, [30] = B_SPACE, [31] = B_SPACE,
    ['"'] = B_PUNCT, ['#'] = B_PUNCT, ['$'] = B_PUNCT, ['%'] = B_PUNCT, ['&'] = B_PUNCT,
    ['\''] = B_PUNCT, ['('] = B_PUNCT, [')'] = B_PUNCT, ['*'] = B_PUNCT, ['+'] = B_PUNCT,
    ['-'] = B_PUNCT, ['/'] = B_PUNCT, [':'] = B_PUNCT, [';'] = B_PUNCT, ['<'] = B_PUNCT,
    ['='] = B_PUNCT, ['>'] = B_PUNCT, ['@'] = B_PUNCT, ['['] = B_PUNCT, ['\\'] = B_PUNCT,
    [']'] = B_PUNCT, ['^'] = B_PUNCT, ['_'] = B_PUNCT, ['`'] = B_PUNCT, ['{'] = B_PUNCT,
    ['|'] = B_PUNCT, ['}'] = B_PUNCT, ['~'] = B_PUNCT,
    ['!'] = B_PUNCT | B_GLUE, [','] = B_PUNCT | B_GLUE, ['.'] = B_PUNCT | B_GLUE,
    ['?'] = B_PUNCT | B_GLUE,
    [0xC2] = B_MAYBE_SPACE, [0xE1] = B_MAYBE_SPACE, [0xE2] = B_MAYBE_SPACE,
    [0xE3] = B_MAYBE_SPACE,
};

/* Python's string.punctuation */
static inline int is_punct(unsigned c)
{
    return byte_class[c & 0xFF] & B_PUNCT;
}

/* Byte length of the white space character at s[i] (what Python's
 * str.split() splits at), or 0. */
static const uint8_t ascii_space[128] = {
    [' '] = 1, [9] = 1, [10] = 1, [11] = 1, [12] = 1, [13] = 1,
    [28] = 1, [29] = 1, [30] = 1, [31] = 1,
};

static inline size_t ws_at(const unsigned char *s, size_t i, size_t len)
{
    unsigned c = s[i];
    if (c < 0x80)
        return ascii_space[c];
    if (c == 0xC2)
        return (i + 1 < len && (s[i + 1] == 0x85 || s[i + 1] == 0xA0)) ? 2 : 0;
    if (i + 2 >= len)
        return 0;
    unsigned c1 = s[i + 1], c2 = s[i + 2];
    if (c == 0xE1)
        return (c1 == 0x9A && c2 == 0x80) ? 3 : 0;                  /* U+1680 */
    if (c == 0xE2) {
        if (c1 == 0x80 && ((c2 >= 0x80 && c2 <= 0x8A) || c2 == 0xA8 || c2 == 0xA9 ||
                           c2 == 0xAF))
            return 3;                                               /* U+2000.. */
        return (c1 == 0x81 && c2 == 0x9F) ? 3 : 0;                  /* U+205F */
    }
    if (c == 0xE3)
        return (c1 == 0x80 && c2 == 0x80) ? 3 : 0;                  /* U+3000 */
    return 0;
}

static size_t count_cp(const unsigned char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += (s[i] & 0xC0) != 0x80;
    return k;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR 1
#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
#else
#define SWAR 0
#endif

/* count_cp(s + x, n) for n <= 8, one word at a time when eight bytes can
 * be read from s + x (s[0..len)). */
static inline size_t count_cp8(const unsigned char *s, size_t x, size_t n, size_t len)
{
#if SWAR
    if (x + 8 <= len) {
        uint64_t w;
        memcpy(&w, s + x, 8);
        uint64_t cont = w & ~(w << 1) & HIGHS;     /* 10xxxxxx: continuation bytes */
        if (n < 8)
            cont &= (1ull << (8 * n)) - 1;
        /* one bit per byte at most: their sum lands in the top byte */
        return n - (size_t)(((cont >> 7) * ONES) >> 56);
    }
#endif
    (void)len;
    return count_cp(s + x, n);
}

/* The first i' >= i where s[i'] may end a word: white space or a byte
 * outside ASCII (that byte still has to be looked at); the bytes before it
 * are 0x21..0x7F, none of them white space. */
static inline size_t skip_word_ascii(const unsigned char *s, size_t i, size_t len)
{
#if SWAR
    while (i + 8 <= len) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        /* bytes below 0x21 (the lowest set bit is exact) or from 0x80 */
        uint64_t m = ((w - ONES * 0x21) & ~w & HIGHS) | (w & HIGHS);
        if (m)
            return i + (size_t)(__builtin_ctzll(m) >> 3);
        i += 8;
    }
    if (i < len && len >= 8) {
        /* the text's last bytes: its last eight, the ones before i shifted
         * out and zero bytes (below 0x21) shifted in past the end */
        uint64_t w;
        memcpy(&w, s + len - 8, 8);
        w >>= 8 * (i + 8 - len);
        uint64_t m = ((w - ONES * 0x21) & ~w & HIGHS) | (w & HIGHS);
        return i + (size_t)(__builtin_ctzll(m) >> 3);
    }
#endif
    (void)s;
    (void)len;
    return i;
}

/* ---- step 1: emoji ------------------------------------------------------ */

static inline int emoji_first(const struct analyzer_lexicon *lx, uint32_t cp)
{
    return lx->emoji_first[cp >> 3] & (1u << (cp & 7));
}

/* Eight bytes at p are four letters of U+0400..U+047F (D0 or D1, then a
 * continuation byte). */
static inline int cyr4(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return (w & 0xC0FEC0FEC0FEC0FEull) == 0x80D080D080D080D0ull;
}

/* The longest emoji key at s, its length in *mlen. */
static const struct lex_entry *emoji_at(const struct analyzer_lexicon *lx,
                                        const unsigned char *s, size_t len, size_t *mlen)
{
    size_t ends[32], k = 0, off = 0;
    uint32_t maxcp = lx->emoji_max_cp < 32 ? lx->emoji_max_cp : 32;
    while (k < maxcp && off < len && off <= lx->emoji.maxlen) {
        size_t adv;
        ctx_utf8_decode(s + off, len - off, &adv);
        off += adv;
        ends[k++] = off;
    }
    while (k > 0) {
        const struct lex_entry *e = analyzer_lex_find(&lx->emoji, (const char *)s, ends[k - 1]);
        if (e) {
            *mlen = ends[k - 1];
            return e;
        }
        k--;
    }
    return NULL;
}

/* Replace emoji by " description" as the reference does (a space before the
 * description unless the previous character was a space, none after), and
 * note where each description went in descs (out is uncapped: its appends
 * cannot fail). Returns 1 with the new text in out, 0 when the text has no
 * emoji. */
static int emoji_expand(const struct analyzer_lexicon *lx, const unsigned char *s, size_t len,
                        struct buf *out, struct descv *descs)
{
    size_t run = 0;            /* start of the bytes not yet copied */
    int prev_space = 1, found = 0;
#if SWAR
    /* no emoji starts in U+0400..U+047F (lead bytes D0, D1): four such
     * letters are stepped over at a time */
    uint64_t b0, b1;
    memcpy(&b0, lx->emoji_first + (0x10u << 3), 8);
    memcpy(&b1, lx->emoji_first + (0x11u << 3), 8);
    int cyr_free = !b0 && !b1;
#endif
#if SWAR && defined(__SSE2__)
    /* ... nor with an ASCII letter or a space: then a run of those and of
     * such letters is stepped over sixteen bytes at a time (the letters'
     * loop above missed some ten times a Russian text, stopping at every
     * space) */
    uint64_t ascii_hi;
    memcpy(&ascii_hi, lx->emoji_first + 8, 8);     /* U+0040..U+007F */
    int words_free = cyr_free && !(lx->emoji_first[4] & 1) &&
                     !(ascii_hi & (((1ull << 26) - 1) << 1 | ((1ull << 26) - 1) << 33));
#endif
    for (size_t i = 0; i < len;) {
        size_t adv = 1;
        uint32_t cp = s[i];
#if SWAR
        if (cyr_free && (cp == 0xD0 || cp == 0xD1)) {
#if SWAR && defined(__SSE2__)
            if (words_free) {
                while (i + 16 <= len) {
                    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
                    __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
                    __m128i cyr = _mm_or_si128(     /* D0, D1, 80..BF (signed: below C0) */
                        _mm_cmpeq_epi8(_mm_and_si128(v, _mm_set1_epi8((char)0xFE)),
                                       _mm_set1_epi8((char)0xD0)),
                        _mm_cmplt_epi8(v, _mm_set1_epi8((char)0xC0)));
                    __m128i word = _mm_or_si128(
                        _mm_and_si128(_mm_cmpgt_epi8(lower, _mm_set1_epi8('a' - 1)),
                                      _mm_cmplt_epi8(lower, _mm_set1_epi8('z' + 1))),
                        _mm_cmpeq_epi8(v, _mm_set1_epi8(' ')));
                    unsigned other =
                        ~(unsigned)_mm_movemask_epi8(_mm_or_si128(cyr, word)) & 0xFFFF;
                    if (other) {
                        i += (size_t)__builtin_ctz(other);  /* a character's start */
                        break;
                    }
                    i += 16;
                }
                /* sixteen bytes stepped over may end inside a letter */
                if (i < len && (s[i] & 0xC0) == 0x80)
                    i++;
            }
#endif
            while (i + 8 <= len && cyr4(s + i))
                i += 8;
            if (i >= len)
                break;
            cp = s[i];
        }
#endif
        if (cp < 0x80) {
            /* keycaps start with an ASCII character and go on outside it */
            if (!emoji_first(lx, cp) || i + 1 >= len || s[i + 1] < 0x80) {
                i++;
                continue;
            }
        } else {
            if (cp >= 0xC2 && cp < 0xE0 && i + 1 < len && (s[i + 1] & 0xC0) == 0x80) {
                /* Cyrillic and the like: the 64 code points of this lead
                 * byte are eight bytes of the bitmap; most blocks have no
                 * emoji at all */
                uint64_t block;
                memcpy(&block, lx->emoji_first + ((cp & 0x1Fu) << 3), 8);
                if (!block) {
                    i += 2;
                    continue;
                }
                cp = ((cp & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu);
                adv = 2;
            } else {
                cp = ctx_utf8_decode(s + i, len - i, &adv);
            }
            if (!emoji_first(lx, cp)) {
                i += adv;
                continue;
            }
        }
        size_t mlen;
        const struct lex_entry *e = emoji_at(lx, s + i, len - i, &mlen);
        if (!e) {
            i += adv;
            continue;
        }
        if (i > run) {
            buf_append(out, s + run, i - run);
            prev_space = s[i - 1] == ' ';
        }
        struct desc d = {.e0 = buf_len(out), .o0 = i, .emoji = e};
        if (!prev_space)
            buf_putc(out, ' ');
        buf_append(out, e->desc, e->desc_len);
        prev_space = 0;
        found = 1;
        i += mlen;
        /* a variation selector (U+FE0E, U+FE0F) the key did not include */
        while (i + 2 < len && s[i] == 0xEF && s[i + 1] == 0xB8 &&
               (s[i + 2] == 0x8E || s[i + 2] == 0x8F))
            i += 3;
        d.e1 = buf_len(out);
        d.o1 = i;
        d.shift = (descs->n ? descs->v[descs->n - 1].shift : 0) + (long)(d.e1 - d.e0) -
                  (long)(d.o1 - d.o0);
        descv_add(descs, &d);
        run = i;
    }
    if (found && run < len)
        buf_append(out, s + run, len - run);
    return found;
}

/* ---- step 2: tokens ----------------------------------------------------- */

/* Punctuation outside ASCII that people put around words: « » “ ” „ ‘ ’ …
 * and dashes. Byte length at s[i], or 0. */
static inline size_t upunct_at(const unsigned char *s, size_t i, size_t len)
{
    if (s[i] == 0xC2 && i + 1 < len && (s[i + 1] == 0xAB || s[i + 1] == 0xBB))
        return 2;                                           /* « » */
    if (s[i] == 0xE2 && i + 2 < len && s[i + 1] == 0x80) {
        unsigned c = s[i + 2];
        if ((c >= 0x93 && c <= 0x94) || (c >= 0x98 && c <= 0x9F) || c == 0xA6)
            return 3;                                       /* – — ‘ ’ ‚ ‛ “ ” „ ‟ … */
    }
    return 0;
}

/* The punctuation of upunct_at() that ends at s[e - 1] (and starts at or
 * after a): its byte length, or 0. The text is valid UTF-8, so a lead byte
 * two or three bytes back starts the last character. */
static inline size_t upunct_before(const unsigned char *s, size_t a, size_t e)
{
    if (s[e - 1] < 0x80)
        return 0;
    if (e - a >= 2 && s[e - 2] == 0xC2)
        return upunct_at(s, e - 2, e);
    if (e - a >= 3 && s[e - 3] == 0xE2)
        return upunct_at(s, e - 3, e);
    return 0;
}

struct tokctx {
    const struct analyzer_lexicon *lx;
    const struct sentiment_opts *opt;
    struct lang_votes *votes;
    int at_start;               /* the next token starts a sentence */
    int ascii;                  /* the text is ASCII: a character is a byte */
    int glue;                   /* the text may have a glued sentence end: somewhere
                                   . , ! or ? right before a capital (text_marks()) */
    int at;                     /* the text may have an "@" (text_marks()) */
    int qm;                     /* the text has a "?" (ASCII text: text_marks()) */
    const uint8_t *ws;          /* bit i: s[i] is white space, and every bit from
                                   len on (text_marks()); or NULL */
    int wide;                   /* an ASCII text of sixteen bytes or more, whose
                                   last sixteen, then sixteen zero bytes, are a
                                   copy to_tail bytes after its end (classify_ascii8()) */
    uintptr_t to_tail;
    uint32_t seen;              /* LEX_* flags of the entries met */
    uint32_t skips;             /* bit 1 << tok_skip of each token's skip */
    size_t caps;                /* tokens in ALL CAPS */
    uint64_t stops;             /* stop words seen, byte l for language l, not yet
                                   added to votes->stop[] (stops_flush()) */
};

/* Bit l of langs (lex_entry.langs: 1 << lang_id) as byte l: the copies of
 * langs shifted by 7k do not overlap, and byte k holds bit k of the k-th. */
static inline uint64_t stop_lanes(uint32_t langs)
{
    _Static_assert(LANG__COUNT <= 8, "a language's count is a byte");
    return ((uint64_t)(langs & ((1u << LANG__COUNT) - 2)) * 0x0002040810204081ull) &
           0x0101010101010101ull;
}

static inline void stops_flush(struct tokctx *tc)
{
    for (unsigned l = 1; l < LANG__COUNT; l++)
        tc->votes->stop[l] += (uint32_t)(tc->stops >> (8 * l)) & 0xFF;
    tc->stops = 0;
}

/* A word of at most eight ASCII bytes without an apostrophe, when eight
 * bytes can be read at p: its lower case into low (eight bytes written) and
 * into *k0 (the bytes past n zero, as a lexicon key; *k1 zero), and what
 * classify() finds in it, one 64-bit word at a time. With wide (where SSE2
 * is and the text has sixteen bytes: tokctx.wide), a word of up to sixteen
 * bytes, sixteen at a time, *k1 its bytes 8..15 and sixteen bytes written
 * to low: one path for (nearly) every word, where the tests of the length
 * and of the bytes left missed some six times a text. 0 when the word is
 * not such a word (nothing written to the flags then). */
static inline int classify_ascii8(const unsigned char *p, size_t n, size_t avail, char *low,
                                  uint64_t *k0, uint64_t *k1, int *has_up, int *has_lo,
                                  int *first_up, int wide, uintptr_t to_tail)
{
    (void)wide, (void)to_tail;          /* SSE2 only */
#if SWAR && defined(__SSE2__)
    if (wide && n <= 16) {
        /* the sixteen bytes from p, or near the text's end the same bytes
         * in its copy of the last sixteen, to_tail bytes away: by a mask
         * (as a ?: it was a branch, missed at about every text's end) */
        const unsigned char *q = (const unsigned char *)(
            (uintptr_t)p + (to_tail & -(uintptr_t)(avail < 16)));
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
        /* lanes below n all ones: sixteen bytes from ones + 16 - n */
        static const uint8_t ones[32] = {
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        };
        v = _mm_and_si128(v, _mm_loadu_si128((const __m128i *)(const void *)(ones + 16 - n)));
        /* a byte outside ASCII, or an apostrophe ("n't" is looked for
         * byte by byte) */
        if (_mm_movemask_epi8(_mm_or_si128(v, _mm_cmpeq_epi8(v, _mm_set1_epi8('\'')))))
            return 0;
        /* 'A'..'Z' and 'a'..'z' moved to the lowest signed bytes */
        __m128i up = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - 'A'))),
                                    _mm_set1_epi8((char)(-128 + 26)));
        __m128i lo = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - 'a'))),
                                    _mm_set1_epi8((char)(-128 + 26)));
        v = _mm_or_si128(v, _mm_and_si128(up, _mm_set1_epi8(0x20)));
        _mm_storeu_si128((__m128i *)(void *)low, v);
        *k0 = (uint64_t)_mm_cvtsi128_si64(v);
        *k1 = (uint64_t)_mm_cvtsi128_si64(_mm_srli_si128(v, 8));
        unsigned mu = (unsigned)_mm_movemask_epi8(up);
        *has_up = mu != 0;
        *has_lo = _mm_movemask_epi8(lo) != 0;
        *first_up = (int)(mu & 1);
        return 1;
    }
#endif
#if SWAR
    if (n > 8 || avail < 8)
        return 0;
    uint64_t w;
    memcpy(&w, p, 8);
    if (n < 8)
        w &= (1ull << (8 * n)) - 1;     /* zero bytes: neither letters nor ' */
    if (w & HIGHS)
        return 0;
    uint64_t q = w ^ (ONES * '\'');
    if ((q - ONES) & ~q & HIGHS)
        return 0;                       /* an apostrophe: "n't" is looked for byte by byte */
    /* bytes below 0x80 plus a constant never carry into the next byte */
    uint64_t up = (w + ONES * (0x80 - 'A')) & ~(w + ONES * (0x80 - 'Z' - 1)) & HIGHS;
    uint64_t lo = (w + ONES * (0x80 - 'a')) & ~(w + ONES * (0x80 - 'z' - 1)) & HIGHS;
    w |= up >> 2;                       /* 'A'..'Z' + 0x20 */
    memcpy(low, &w, 8);
    *k0 = w;
    *k1 = 0;
    *has_up = up != 0;
    *has_lo = lo != 0;
    *first_up = (up & 0x80) != 0;
    return 1;
#else
    (void)p, (void)n, (void)avail, (void)low, (void)k0, (void)k1, (void)has_up, (void)has_lo;
    (void)first_up;
    return 0;
#endif
}

/* A word of small letters а..я (what analyzer_cyr_small4() takes four at
 * a time), perhaps after a capital А..Я, when eight bytes can be read at
 * p: its lower case into low and, as a lexicon key of up to 16 bytes, into
 * *k0 and *k1 (the bytes past n zero); *cap says whether the first letter
 * was a capital. Most words of a Russian text are such words, and the byte
 * loop of classify() took every letter past a multiple of four, and every
 * letter of a capitalised word, one at a time. 0 when the word is not such
 * a word (nothing written to *cap then). */
static inline int cyr_small_word(const unsigned char *p, size_t n, size_t avail, char *low,
                                 uint64_t *k0, uint64_t *k1, int *cap)
{
#if SWAR
    if ((n & 1) || n - 2 > LOW_MAX - 2 || avail < 8)    /* n: 2..LOW_MAX */
        return 0;
    uint64_t w0, w1 = 0;
    memcpy(&w0, p, 8);
    /* А..П (D0 90..9F) lower to D0 B0..BF, Р..Я (D0 A0..AF) to D1 80..8F */
    unsigned c1 = p[1];
    int up = (p[0] == 0xD0) & (c1 - 0x90u < 0x20u);
    w0 += (c1 >= 0xA0 ? (uint64_t)1 - 0x2000 : 0x2000) & -(uint64_t)up;     /* no branch */
    if (n <= 8) {
        w0 &= ~0ull >> (64 - 8 * n);
        if (!analyzer_cyr_small_lanes(analyzer_cyr_small_x(w0) & (~0ull >> (64 - 8 * n))))
            return 0;
    } else {
        if (!analyzer_cyr_small_lanes(analyzer_cyr_small_x(w0)))
            return 0;
        /* the eight bytes from 8 on, then the last eight (a letter's
         * start: n is even), which may overlap them */
        for (size_t j = 8; j + 8 < n; j += 8) {
            uint64_t w;
            memcpy(&w, p + j, 8);
            if (!analyzer_cyr_small_lanes(analyzer_cyr_small_x(w)))
                return 0;
            memcpy(low + j, &w, 8);
        }
        memcpy(&w1, p + n - 8, 8);
        if (!analyzer_cyr_small_lanes(analyzer_cyr_small_x(w1)))
            return 0;
        memcpy(low + n - 8, &w1, 8);
        w1 = n <= 16 ? w1 >> (8 * (16 - n)) : 0;     /* bytes 8..n of a short key */
    }
    memcpy(low, &w0, 8);
    if (n <= 16)
        memcpy(low + 8, &w1, 8);
    *k0 = w0;
    *k1 = w1;
    *cap = up;
    return 1;
#else
    (void)p, (void)n, (void)avail, (void)low, (void)k0, (void)k1, (void)cap;
    return 0;
#endif
}

static inline int stem_head_maybe(const struct analyzer_lexicon *lx, const char *low)
{
    uint32_t h = lex_stem_head(low);
    return (lx->stem_heads[h >> 6] >> (h & 63)) & 1;
}

/* Token p[0..n) (avail bytes can be read from p): its flags, its lexicon
 * entry and its cue words. */
static inline __attribute__((always_inline)) void
classify(struct tokctx *tc, const unsigned char *p, size_t n, size_t avail,
         struct analyzer_tok *t, const int ascii)
{
    const struct analyzer_lexicon *lx = tc->lx;
    char low[LOW_MAX];
    const struct lex_table *table =
        !ascii && n && (p[0] & 0xFE) == 0xD0 ? &lx->ru : &lx->words;
    int lowfits = n <= sizeof low;
    int fits = n <= table->maxlen && lowfits;
    int has_up = 0, has_lo = 0, cyr = 0, first_up = 0, nt = 0, e2 = 0;
    /* the lexicon key in two words (the bytes past n zero), from the
     * register of classify_ascii8() or from low */
    uint64_t k0 = 0, k1 = 0;
    /* a Cyrillic word is no word of classify_ascii8(), whose length test
     * missed some seven times a Russian text */
    if (!(!ascii && table == &lx->ru) &&
        classify_ascii8(p, n, avail, low, &k0, &k1, &has_up, &has_lo, &first_up,
                        ascii && tc->wide, tc->to_tail)) {
    } else if (!ascii && table == &lx->ru &&
               cyr_small_word(p, n, avail, low, &k0, &k1, &first_up)) {
        has_up = first_up;
        has_lo = !first_up || n > 2;
        cyr = 1;
    } else {
        /* zeroed first, the key's padding needs no mask by length (a
         * branch on it missed three times a text) */
        memset(low, 0, 16);
        for (size_t i = 0; i < n;) {
            unsigned c = p[i];
            if (ascii || c < 0x80) {
                if (c - 'A' < 26u) {
                    has_up = 1;
                    first_up |= i == 0;
                    c += 32;
                } else if (c - 'a' < 26u) {
                    has_lo = 1;
                } else if (c == '\'' && i > 0 && i + 1 < n && (p[i - 1] | 0x20) == 'n' &&
                           (p[i + 1] | 0x20) == 't') {
                    nt = 1;                          /* contains "n't" */
                }
                if (lowfits)
                    low[i] = (char)c;
                i++;
                continue;
            }
            size_t adv;
            uint32_t cp;
            int cs;
    #if SWAR
            if (i + 8 <= n && (c == 0xD0 || c == 0xD1)) {
                /* four small letters а..я (D0 B0..BF, D1 80..8F) at once: their
                 * own lower case (ё, D1 91, is not among them: it becomes е) */
                if (analyzer_cyr_small4(p + i)) {
                    if (lowfits)
                        memcpy(low + i, p + i, 8);
                    has_lo = 1;
                    cyr = 1;
                    i += 8;
                    continue;
                }
            }
    #endif
            if ((c == 0xD0 || c == 0xD1) && i + 1 < n && (p[i + 1] & 0xC0) == 0x80) {
                /* U+0400..U+047F, most letters of Russian texts: the case of
                 * analyzer_uc_case() without the call */
                adv = 2;
                cp = (c & 0x1Fu) << 6 | (p[i + 1] & 0x3Fu);
                cs = cp < 0x430 ? UC_UPPER : cp < 0x460 ? UC_LOWER : (cp & 1) ? UC_LOWER : UC_UPPER;
            } else {
                e2 |= c == 0xE2;    /* perhaps a typographic apostrophe (cues) */
                cp = ctx_utf8_decode(p + i, n - i, &adv);
                cs = analyzer_uc_case(cp);
            }
            if (cs == UC_UPPER) {
                has_up = 1;
                first_up |= i == 0;
                cp = analyzer_uc_lower(cp);
            } else if (cs == UC_LOWER) {
                has_lo = 1;
            }
            if (cp >= 0x400 && cp <= 0x4FF) {
                cyr = 1;
                if (cp == 0x451)
                    cp = 0x435;                      /* ё is looked up as е */
            }
            if (lowfits) {
                if (adv == 2) {     /* the case table stays in 2 bytes */
                    low[i] = (char)(0xC0 | (cp >> 6));
                    low[i + 1] = (char)(0x80 | (cp & 0x3F));
                } else {
                    for (size_t k = 0; k < adv; k++)
                        low[i + k] = (char)p[i + k];
                }
            }
            i += adv;
        }
        memcpy(&k0, low, 8);
        memcpy(&k1, low + 8, 8);
    }
    t->upper = has_up && !has_lo;
    t->letters = has_up || has_lo;
    t->cyr = (uint8_t)cyr;
    t->proper = cyr && first_up && has_lo && !tc->at_start;
    /* the token itself is this key; a LEX_CUE entry is there for the cues only */
    const struct lex_entry *direct = NULL;
    if (fits)   /* n >= 1 keys fit: the table has slots */
        direct = n <= sizeof table->v->head ? analyzer_lex_find_words(table, k0, k1, n)
                                            : analyzer_lex_find(table, low, n);
    t->e = direct && !(direct->flags & LEX_CUE) ? direct : NULL;
    /* a word shorter than a stem, or whose first letters start no stem,
     * has none to be found by */
    if (!t->e && cyr && fits && lx->ru_stems.n && n >= RU_MIN_STEM &&
        stem_head_maybe(lx, low)) {
        /* by stem; then the word itself as a stem: forms without an ending
         * ("проблем", genitive plural) are their lemma's stem ("проблема"),
         * though the stemmer cuts them further */
        int cls;
        size_t sn = analyzer_stem_ru_class(low, n, &cls);
        if (sn >= RU_MIN_STEM) {
            if (cls != RU_VERBAL)
                t->e = analyzer_lex_find16(&lx->ru_stems, low, sn);
            if (!t->e && cls != RU_NOMINAL)
                t->e = analyzer_lex_find16(&lx->ru_vstems, low, sn);
        }
        if (!t->e && sn < n && n >= RU_MIN_STEM)
            t->e = analyzer_lex_find16(&lx->ru_stems, low, n);
    }
    /* the entry's flags and stop-word languages counted without a branch
     * on whether the token has an entry (a coin toss): a missing one reads
     * a zeroed entry, and each language's count is a byte of tc->stops */
    static const struct lex_entry none;
    const struct lex_entry *ve = t->e ? t->e : &none;
    tc->seen |= ve->flags;
    tc->stops += stop_lanes(ve->langs);
    t->nt = (uint8_t)nt;
    t->neg = nt || (t->e && ((t->e->flags & LEX_NEGATE) || t->e == lx->w[LW_NO]));
    t->num = n && (unsigned)(p[0] - '0') < 10u;
    t->ncue = 0;
    t->pf = 0;
    if (lowfits && tc->opt && tc->opt->cues) {
        const struct cue_word *cw = tc->opt->cue_words[table == &lx->ru];
        if (direct && cw) {
            cw += direct - table->v;
            t->ncue = cw->ncue;
            memcpy(t->cue, cw->cue, sizeof t->cue);
            t->pf = cw->pf;         /* for the rules' prefilter */
            if (cw->num)
                t->num = 1;
        } else if (cw && fits && !e2) {
            /* no whole cue word (the table would hold it): word beginnings
             * only; the trie reads a typographic apostrophe as ', so a
             * token with one (e2) is walked in full */
            t->ncue = (uint8_t)analyzer_cues_prefixes(tc->opt->cues, low, n, t->cue);
        } else {
            t->ncue = (uint8_t)analyzer_cues_word(tc->opt->cues, low, n, t->cue, &t->num);
        }
    }
}

#if SWAR
/* In the 64-bit word w, the lanes (bit 7 of each byte) that are . , ! or ?
 * and those that are 'A'..'Z', for text_marks(). The high bits are cleared
 * first, so no lane carries into the next: a byte from 0x80 may be taken
 * for its ASCII half, a yes that costs only a look with glued_end(). The
 * zero-byte test's borrow may say yes above a lane that really is a glue
 * byte; it never misses one. */
static inline uint64_t glue_lanes(uint64_t w)
{
    uint64_t x1 = (w | ONES * 0x02) ^ (ONES * '.');     /* '.' 2E and ',' 2C */
    uint64_t x2 = w ^ (ONES * '!'), x3 = w ^ (ONES * '?');
    return (((x1 - ONES) & ~x1) | ((x2 - ONES) & ~x2) | ((x3 - ONES) & ~x3)) & HIGHS;
}

static inline uint64_t upper_lanes(uint64_t w)
{
    w &= ~HIGHS;
    return (w + ONES * (0x80 - 'A')) & ~(w + ONES * (0x80 - 'Z' - 1)) & HIGHS;
}
#endif

static inline int ends_sentence(unsigned c)
{
    return c == '.' || c == '!' || c == '?' || c == ';';
}

/* ends_sentence() and a clause's end (, and :) as bits of the byte's
 * value, for bytes below 64 */
#define SENT_END (1ull << '.' | 1ull << '!' | 1ull << '?' | 1ull << ';')
#define CLAUSE_END (1ull << ',' | 1ull << ':')

static int ascii_prefix(const unsigned char *s, size_t n, const char *p)
{
    size_t k = strlen(p);
    if (n < k)
        return 0;
    for (size_t i = 0; i < k; i++)
        if ((s[i] | 0x20) != (unsigned char)p[i] && s[i] != (unsigned char)p[i])
            return 0;
    return 1;
}

/* Not opinion: a link, an e-mail address, a @handle or a $cashtag. The raw
 * token is s[a..b), its word s[x..y); has_at: the word holds an "@". */
static int skip_kind(const unsigned char *s, size_t a, size_t b, size_t x, size_t y,
                     int has_at)
{
    unsigned c0 = x < y ? s[x] | 0x20 : 0;  /* what ascii_prefix() takes for 'h', 'w' */
    if ((c0 == 'h' || c0 == 'w') &&
        (ascii_prefix(s + x, y - x, "http://") || ascii_prefix(s + x, y - x, "https://") ||
         ascii_prefix(s + x, y - x, "www.")))
        return SKIP_URL;
    if (x > a && s[x - 1] == '@')
        return SKIP_HANDLE;
    if (x > a && s[x - 1] == '$' && (unsigned)((s[x] | 0x20) - 'a') < 26u)
        return SKIP_CASHTAG;
    const unsigned char *at = has_at ? memchr(s + x, '@', y - x) : NULL;
    if (at && at > s + x && memchr(at, '.', (size_t)(s + y - at)))
        return SKIP_EMAIL;
    (void)b;
    return SKIP_NONE;
}

/* Token t is no opinion: no sentiment, no cue, no negation. */
static inline void mute(struct analyzer_tok *t)
{
    t->e = NULL;
    t->ncue = 0;
    t->neg = 0;
}

static int brand_word(const struct sentiment_opts *opt, const char *w, size_t n)
{
    for (size_t i = 0; opt && i < opt->nbrands; i++)
        if (strlen(opt->brands[i]) == n && memcmp(opt->brands[i], w, n) == 0)
            return 1;
    return 0;
}

/* A word of the language, for cutting hashtags into words: a lexicon word,
 * an English function word, a cue word or a brand. */
static int known_word(const struct tokctx *tc, const char *w, size_t n)
{
    const struct lex_entry *e = analyzer_lex_find(&tc->lx->words, w, n);
    if (e && ((e->flags & (LEX_VALENCE | LEX_NEGATE | LEX_KNOWN)) || e->booster != 0.0 ||
              (e->langs & (1u << LANG_EN))))
        return 1;
    return (tc->opt && analyzer_cues_is_word(tc->opt->cues, w, n)) || brand_word(tc->opt, w, n);
}

#define HASHTAG_MAX 48          /* longer hashtags are not cut */
#define SEG_WORD_MAX 20

/* Cut the hashtag body s[x..y) (ASCII letters) into words: the cut that
 * maximises the sum of the squared lengths of its known words (long words
 * win: "worstflightever" is worst|flight|ever, not wor|st...), letters
 * outside known words left over. Writes the cut's words as [start, end)
 * offsets into cut and returns how many, or 0 when known words do not
 * cover all of the body (a name, not words). A body written
 * in camel case is cut where the writer put its capitals instead, known
 * words or not. */
static size_t hashtag_cut(const struct tokctx *tc, const unsigned char *s, size_t x, size_t y,
                          uint8_t (*cut)[2])
{
    size_t n = y - x;
    char low[HASHTAG_MAX];
    if (n < 4 || n > HASHTAG_MAX)
        return 0;
    size_t k = 0, covered = 0, start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = s[x + i] | 0x20;
        if (c - 'a' >= 26u)
            return 0;
        low[i] = (char)c;
        /* the writer's own cut: a capital after a small letter
         * ("DestinationDragons", "NeverFlyAgain") */
        if (i > 0 && (unsigned)(s[x + i] - 'A') < 26u && (unsigned)(s[x + i - 1] - 'a') < 26u) {
            if (k + 2 > HASHTAG_MAX / 2)
                return 0;       /* "aBcDeF...": not words */
            cut[k][0] = (uint8_t)start;
            cut[k][1] = (uint8_t)i;
            k++;
            start = i;
        }
    }
    if (k > 0) {
        cut[k][0] = (uint8_t)start;
        cut[k][1] = (uint8_t)n;
        return k + 1;
    }
    int best[HASHTAG_MAX + 1], from[HASHTAG_MAX + 1], word[HASHTAG_MAX + 1];
    best[0] = 0;
    for (size_t i = 1; i <= n; i++) {
        best[i] = best[i - 1];          /* a letter outside any word */
        from[i] = (int)i - 1;
        word[i] = 0;
        for (size_t j = i >= SEG_WORD_MAX ? i - SEG_WORD_MAX : 0; j + 2 <= i; j++) {
            int sc = best[j] + (int)((i - j) * (i - j));
            if (sc > best[i] && known_word(tc, low + j, i - j)) {
                best[i] = sc;
                from[i] = (int)j;
                word[i] = 1;
            }
        }
    }
    uint8_t tmp[HASHTAG_MAX / 2][2];
    for (size_t i = n; i > 0; i = (size_t)from[i])
        if (word[i]) {
            tmp[k][0] = (uint8_t)from[i];
            tmp[k][1] = (uint8_t)i;
            covered += i - (size_t)from[i];
            k++;
        }
    /* only a hashtag that is words throughout: a name or an acronym is
     * partly words by chance ("#SOBEWFF" is not sob|ew|ff, and
     * "#glassslipperchallenge", with "glass" and "slipper" unknown, not
     * gl|ass|challenge) */
    if (covered < n)
        return 0;
    for (size_t i = 0; i < k; i++) {
        cut[i][0] = tmp[k - 1 - i][0];
        cut[i][1] = tmp[k - 1 - i][1];
    }
    return k;
}

static inline int ascii_lower(unsigned c)
{
    return c - 'a' < 26u;
}

static inline int ascii_upper(unsigned c)
{
    return c - 'A' < 26u;
}

static inline int ascii_letter(unsigned c)
{
    return (c | 0x20) - 'a' < 26u;
}

/* Two dots in a row somewhere (an ellipsis the tokenizer may find glued
 * between two words). memchr() is vectorised, and most texts have a dot or
 * two; memmem() is not, and cost 970 instructions a text. */
static int has_ellipsis(const unsigned char *s, size_t len)
{
    const unsigned char *end = s + len;
    for (const unsigned char *q = s; (q = memchr(q, '.', (size_t)(end - q))) && q + 1 < end;
         q++)
        if (q[1] == '.')
            return 1;
    return 0;
}

/* A sentence end typed without its space: "was a joke.Boston had one
 * agent", "for my child.Ridiculous!" -- a lower-case word, then . ! ? or ,
 * (B_GLUE) right before a capital; or an ellipsis between two words, of
 * either case ("on our phone...ridiculous"). Links and addresses (a / or @
 * so far) are left whole. The caller has checked that s[i] is B_GLUE.
 * Returns where the next token starts, or 0. */
static size_t glued_end(const unsigned char *s, size_t a, size_t i, size_t len)
{
    size_t e = i + 1;
    if (s[i] == '.')
        while (e < len && s[e] == '.')
            e++;
    if (e >= len || i < a + 2)
        return 0;
    if (e - i >= 2) {           /* an ellipsis: letters of either case around it */
        if (!ascii_letter(s[i - 2]) || !ascii_letter(s[i - 1]) || !ascii_letter(s[e]))
            return 0;
    } else if (!ascii_lower(s[i - 2]) || !ascii_lower(s[i - 1]) || !ascii_upper(s[e])) {
        return 0;
    }
    for (size_t k = a; k < i; k++)
        if (s[k] == '/' || s[k] == '@')
            return 0;
    return e;
}

/* Where the word that starts at s[a] ends: at the first white space, or
 * after a sentence end glued to the next word (glued_end()). Read eight
 * bytes at a time: the lanes that may stop the word are ASCII bytes below
 * 0x21 (white space; also the zero bytes shifted in past the text's end,
 * where the last word is read from the text's last eight bytes), the lead
 * bytes of white space outside ASCII (C2, E1..E3: tested for C0..C3 and
 * E0..E3) and, in a text that may have a glued end (tc->glue, which
 * glued_end() needs to find one), . , ! and ?. Each test's lowest lane is
 * exact, so only the first lane found is looked at byte by byte; the
 * letters between (Cyrillic ones too) are stepped over eight bytes at a
 * time instead of one. */
static inline __attribute__((always_inline)) size_t
word_end(const unsigned char *s, size_t a, size_t len, int glue)
{
    size_t i = a, e;
    while (i < len) {
#ifdef __SSE2__
        if (len >= 16) {
            /* sixteen bytes at a time where SSE2 is: most words of a
             * Russian text end within them, so the loop's exit is predicted
             * (eight at a time, it missed some twelve times a text) */
            __m128i v = _mm_loadu_si128(
                (const __m128i *)(const void *)(s + (i + 16 <= len ? i : len - 16)));
            __m128i m = _mm_or_si128(
                _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x20)), v),
                _mm_cmpeq_epi8(_mm_and_si128(v, _mm_set1_epi8((char)0xDC)),
                               _mm_set1_epi8((char)0xC0)));
            if (glue)
                m = _mm_or_si128(
                    m, _mm_or_si128(_mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(2)),
                                                   _mm_set1_epi8('.')),
                                    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('!')),
                                                 _mm_cmpeq_epi8(v, _mm_set1_epi8('?')))));
            unsigned bits = (unsigned)_mm_movemask_epi8(m);
            if (i + 16 > len)       /* the last sixteen bytes: from i on, and the end */
                bits = (bits | 0x10000u) >> (i + 16 - len);
            if (!bits) {
                i += 16;
                continue;
            }
            i += (size_t)__builtin_ctz(bits);
            if (i >= len)
                break;
        } else
#endif
        {
#if SWAR
        uint64_t w = 0;             /* a text under eight bytes: byte by byte */
        if (i + 8 <= len) {
            memcpy(&w, s + i, 8);
        } else if (len >= 8) {
            memcpy(&w, s + len - 8, 8);
            w >>= 8 * (i + 8 - len);
        }
        uint64_t l = (w & (ONES * 0xDC)) ^ (ONES * 0xC0);
        uint64_t m = ((w - ONES * 0x21) & ~w & HIGHS) | ((l - ONES) & ~l & HIGHS);
        if (glue)
            m |= glue_lanes(w);
        if (!m) {
            i += 8;
            continue;
        }
        i += (size_t)(__builtin_ctzll(m) >> 3);
        if (i >= len)
            break;
#endif
        }
        unsigned bc = byte_class[s[i]];
        if ((bc & B_SPACE) || ((bc & B_MAYBE_SPACE) && ws_at(s, i, len)))
            break;
        if ((bc & B_GLUE) && (e = glued_end(s, a, i, len)))
            return e;               /* "a joke.Boston": two tokens, two sentences */
        i++;
    }
    (void)glue;                     /* byte by byte, glued_end() decides alone */
    return i;
}

/* The tokenizer's body. ascii is tc->ascii, given apart so that the two
 * callers below get a copy each: for ASCII text (no emoji, so no
 * descriptions either) the compiler drops the paths of other characters. */
static inline __attribute__((always_inline)) size_t
tokenize_body(struct tokctx *tc, const unsigned char *s, size_t len, struct analyzer_tok *toks,
              const struct descv *descs, const int ascii)
{
    size_t n = 0, d = 0;
    uint32_t sent = 0;
    long last_desc = -1;
    tc->at_start = 1;
    /* the next "@" at or after the token (len when none), so that most
     * tokens need no search for one */
    const unsigned char *atp = tc->at ? memchr(s, '@', len) : NULL;
    size_t next_at = atp ? (size_t)(atp - s) : len;
    for (size_t i = 0; i < len;) {
        /* outside ASCII, only a lead byte of B_MAYBE_SPACE is looked at
         * in full (most are a Cyrillic letter's) */
        size_t w = ascii || s[i] < 0x80                   ? ascii_space[s[i]]
                   : (byte_class[s[i]] & B_MAYBE_SPACE) ? ws_at(s, i, len)
                                                        : 0;
        if (w) {
            i += w;
            continue;
        }
        size_t a = i;
        if (!ascii || tc->glue) {
            i = word_end(s, a, len, tc->glue);
        } else {
            /* no glued end in the text: the word ends at white space (a
             * control character is part of it). From the text's map of
             * white space where there is one: one shift and one ctz (eight
             * bytes at a time, the loop's exit missed at every word of
             * eight bytes or more) */
#if SWAR && defined(__SSE2__)
            uint64_t m = 0;
            if (tc->ws) {
                memcpy(&m, tc->ws + (i >> 3), 8);
                m >>= i & 7;
            }
            if (m) {
                i += (size_t)__builtin_ctzll(m);
            } else
#endif
            {
                /* the run stops at a control character too */
                i = skip_word_ascii(s, i, len);
                while (i < len && !(byte_class[s[i]] & B_SPACE))
                    i++;
            }
        }
        size_t b = i, x = a, y = b, k;
        if (ascii) {            /* strip punctuation: ASCII only */
            while (x < y && is_punct(s[x]))
                x++;
            while (y > x && is_punct(s[y - 1]))
                y--;
        } else {
            for (;;) {          /* strip punctuation, ASCII and typographic */
                if (x < y && is_punct(s[x]))
                    x++;
                else if (x < y && (k = upunct_at(s, x, y)))
                    x += k;
                else
                    break;
            }
            for (;;) {
                if (y > x && is_punct(s[y - 1]))
                    y--;
                else if (y > x && (k = upunct_before(s, x, y)))
                    y -= k;
                else
                    break;
            }
        }
        /* probably an emoticon: keep it whole (a short word is as
         * common as a long one: chosen without a branch) */
        int whole = y - x <= 2;
        if (!ascii && !whole && y - x <= 8)
            whole = count_cp8(s, x, y - x, len) <= 2;
        size_t keep = (size_t)whole - 1;    /* all ones: the stripped word */
        x = a + ((x - a) & keep);
        y = b - ((b - y) & keep);
        while (d < descs->n && descs->v[d].e1 <= a)
            d++;
        int emoji = d < descs->n && descs->v[d].e0 <= a;
        long shift = d > 0 ? descs->v[d - 1].shift : 0;
        uint8_t cut[HASHTAG_MAX / 2][2];
        size_t ncut = 0;
        if (next_at < x) {
            atp = memchr(s + x, '@', len - x);
            next_at = atp ? (size_t)(atp - s) : len;
        }
        /* most words are none of skip_kind()'s and no hashtag: nothing
         * stripped before them (no "@", "$", "#"), no "@" in them, and too
         * short for a link or not starting with h or w; one test, without
         * a branch a condition, says so */
        unsigned c0 = s[x] | 0x20;
        int rare = (x > a) | (next_at < y) | ((y - x >= 4) & ((c0 == 'h') | (c0 == 'w')));
        int skip = SKIP_NONE;
        if (!emoji && rare) {
            skip = skip_kind(s, a, b, x, y, next_at < y);
            if (!skip && x > a && s[x - 1] == '#')
                ncut = hashtag_cut(tc, s, x, y, cut);
        }
        for (size_t p = 0; p < (ncut ? ncut : 1); p++) {
            size_t wx = ncut ? x + cut[p][0] : x, wy = ncut ? x + cut[p][1] : y;
            struct analyzer_tok *t = &toks[n++];
            t->emoji = (uint8_t)emoji;
            classify(tc, s + wx, wy - wx, len - wx, t, ascii);
            if ((emoji || ncut) && t->e)    /* emoji descriptions are English whatever */
                tc->stops -= stop_lanes(t->e->langs);   /* the text: taken back */
            if ((n & 127) == 0)
                stops_flush(tc);    /* before a byte can overflow */
            t->off = (uint32_t)wx;
            t->len = (uint32_t)(wy - wx);
            t->orig = (uint32_t)(emoji ? descs->v[d].o0 : (size_t)((long)wx - shift));
            t->sent = sent;
            t->skip = (uint8_t)skip;
            t->hashtag = x > a && s[x - 1] == '#';
            t->question = 0;
            t->eos = t->clause = 0;
            if (t->hashtag && t->letters && wy - wx <= SEG_WORD_MAX) {
                char low[SEG_WORD_MAX];
                size_t m = wy - wx;
                for (size_t q = 0; q < m; q++)
                    low[q] = (char)(s[wx + q] | ((unsigned)(s[wx + q] - 'A') < 26u ? 0x20 : 0));
                if (brand_word(tc->opt, low, m))
                    t->skip = SKIP_HASHTAG_BRAND;
            }
            if (t->skip)
                mute(t);
            tc->skips |= 1u << t->skip;
            tc->caps += t->upper;
            if (emoji && descs->v[d].emoji && (descs->v[d].emoji->flags & LEX_VALENCE)) {
                /* an emoji the lexicon weighs: its first word carries it */
                t->e = last_desc == (long)d ? NULL : descs->v[d].emoji;
                last_desc = (long)d;
                if (t->e)
                    tc->seen |= t->e->flags;
            }
        }
        struct analyzer_tok *t = &toks[n - 1];
        /* the punctuation after the word: "bad." "bad!!" "bad..." "bad?!" "bad," */
        unsigned last = s[b - 1];
        if (ascii) {
            t->eos = ends_sentence(last);
            t->clause = t->eos || last == ',' || last == ':';
            /* a "?" among the punctuation: looked for only in a text that
             * has one (memchr() missed about once a text) */
            if (t->eos && tc->qm && memchr(s + y, '?', b - y))
                for (size_t q = n; q-- > 0 && toks[q].sent == sent;)
                    toks[q].question = 1;
            if (t->eos)
                sent++;
        } else {
            /* whether a word ends a sentence is as likely as not: bit tests
             * and a count (in the ASCII copy the same change cost more
             * than it saved) */
            int eos = (last < 64) & (int)(SENT_END >> (last & 63));
            if (last == 0xA6 && b - a >= 3 && s[b - 3] == 0xE2 && s[b - 2] == 0x80)
                eos = 1;                                    /* "…" */
            t->eos = (uint8_t)eos;
            t->clause = (uint8_t)(eos | ((last < 64) & (int)(CLAUSE_END >> (last & 63))));
            if (eos && memchr(s + y, '?', b - y))
                for (size_t q = n; q-- > 0 && toks[q].sent == sent;)
                    toks[q].question = 1;
            sent += (uint32_t)eos;
        }
        tc->at_start = t->eos;
    }
    stops_flush(tc);
    return n;
}

static inline __attribute__((always_inline)) size_t tokenize_ascii(struct tokctx *tc, const unsigned char *s, size_t len,
                             struct analyzer_tok *toks)
{
    static const struct descv none;
    return tokenize_body(tc, s, len, toks, &none, 1);
}

static size_t tokenize_utf8(struct tokctx *tc, const unsigned char *s, size_t len,
                            struct analyzer_tok *toks, const struct descv *descs)
{
    return tokenize_body(tc, s, len, toks, descs, 0);
}

/* ---- step 3: valence of each token -------------------------------------- */

/* What moved one word's valence, for analyzer_explain(). */
struct why {
    double base;                /* the lexicon's valence */
    double boost;               /* added by boosters and dampeners before it */
    double caps;                /* added for ALL CAPS */
    int negated;                /* token index of the negation, or -1 */
    int no;                     /* "no" before it negated it */
    int never_so;               /* "never so/this" x1.25 */
    int idiom;                  /* an idiom replaced or shifted the valence */
    int least;                  /* "least" negated it */
    int irrealis;               /* after would/could/if...: halved */
    double contrast;            /* the weight from contrast and irrealis (1 when none) */
    const char *prag;           /* why step 3b changed it, or NULL */
};

struct ctx_s {
    const struct analyzer_lexicon *lx;
    const struct analyzer_tok *t;
    size_t n;
    int cap_diff;
    size_t qm;                  /* question marks in the text */
    int addressed;              /* a @handle or a brand name: a post to someone */
    uint32_t seen;              /* LEX_* flags met in the text */
    struct why *why;            /* per token, when explaining; else NULL */
    const uint32_t *lexical;    /* the tokens with a lexicon valence, in order
                                   (score_sum()): every other token scores 0 */
    size_t nlexical;
};

/* t's entry, or an entry of no flags, valence or booster when it has none;
 * without a branch on the entry, whether a token has one being as likely as
 * not: what follows is a test of a flag that is seldom set, which the
 * predictor gets right. */
static inline const struct lex_entry *tok_entry(const struct analyzer_tok *t)
{
    static const struct lex_entry no_entry;
    const struct lex_entry *e = t->e ? t->e : &no_entry;
    __asm__("" : "+r"(e));      /* a conditional move: GCC would branch on t->e */
    return e;
}

static inline uint32_t tok_flags(const struct analyzer_tok *t)
{
    return tok_entry(t)->flags;
}

static inline int in_lex(const struct analyzer_tok *t)
{
    return t->e && (t->e->flags & LEX_VALENCE);
}

static inline int is_w(const struct ctx_s *c, size_t i, enum lex_word w)
{
    return c->t[i].e == c->lx->w[w];
}

static inline int negated(const struct analyzer_tok *t)
{
    return t->nt || (tok_flags(t) & LEX_NEGATE);
}

/* Does the negation at token j reach the word at i? VADER's (English) reach
 * three words; Russian "не", "ни", "без" bind to the next word, or to the one
 * after a degree adverb ("не очень хороший"). */
static inline int neg_reaches(const struct ctx_s *c, size_t j, size_t i)
{
    const struct analyzer_tok *n = &c->t[j];
    if (!n->e || !(n->e->flags & LEX_RU))
        return 1;
    return j + 1 == i || (j + 2 == i && c->t[i - 1].e && c->t[i - 1].e->booster != 0.0);
}

/* Token j can modify token i: same sentence (a negation or booster never
 * reaches over a full stop). */
static inline int near(const struct ctx_s *c, size_t j, size_t i)
{
    /* a #hashtag is a comment of its own: "did nothing #shameful" */
    return c->t[j].sent == c->t[i].sent && c->t[j].hashtag == c->t[i].hashtag;
}

static double scalar_inc_dec(const struct ctx_s *c, const struct analyzer_tok *t, double valence)
{
    double s = tok_entry(t)->booster;
    if (s == 0.0)
        return 0.0;
    if (valence < 0)
        s = -s;
    if (t->upper && c->cap_diff)
        s += valence > 0 ? C_INCR : -C_INCR;
    return s;
}

/* Token j negates what follows, unless "but" comes right after it: "nothing
 * but trouble", "none but the best" say "only", not "not". */
static inline int negates(const struct ctx_s *c, size_t j)
{
    return negated(&c->t[j]) && !(j + 1 < c->n && is_w(c, j + 1, LW_BUT));
}

static inline __attribute__((always_inline)) double negation_check(const struct ctx_s *c,
                                                                   double v, int start,
                                                                   size_t i, struct why *why)
{
    long neg = -1;
    double v0 = v;
    switch (start) {
    case 0:
        if (negated(&c->t[i - 1]))
            v *= N_SCALAR, neg = (long)i - 1;
        break;
    case 1:
        if (is_w(c, i - 2, LW_NEVER) && (is_w(c, i - 1, LW_SO) || is_w(c, i - 1, LW_THIS)))
            v *= 1.25;
        else if (is_w(c, i - 2, LW_WITHOUT) && is_w(c, i - 1, LW_DOUBT))
            ;
        else if (negates(c, i - 2) && neg_reaches(c, i - 2, i))
            v *= N_SCALAR, neg = (long)i - 2;
        break;
    case 2:
        /* As the reference, whose operator precedence makes a "so" or "this"
         * right before the word enough for the 1.25, with or without a
         * "never" three back. */
        if ((is_w(c, i - 3, LW_NEVER) && (is_w(c, i - 2, LW_SO) || is_w(c, i - 2, LW_THIS))) ||
            is_w(c, i - 1, LW_SO) || is_w(c, i - 1, LW_THIS))
            v *= 1.25;
        else if (is_w(c, i - 3, LW_WITHOUT) &&
                 (is_w(c, i - 2, LW_DOUBT) || is_w(c, i - 1, LW_DOUBT)))
            ;
        else if (negates(c, i - 3) && neg_reaches(c, i - 3, i))
            v *= N_SCALAR, neg = (long)i - 3;
        break;
    }
    if (why && v != v0) {
        if (neg >= 0)
            why->negated = (int)neg;
        else
            why->never_so = 1;
    }
    return v;
}


/* Do tokens [from, from + n) spell phrase p? */
static int seq_is(const struct ctx_s *c, size_t from, unsigned n, const struct lex_phrase *p)
{
    if (p->n != n)
        return 0;
    for (unsigned k = 0; k < n; k++)
        if (c->t[from + k].e != p->w[k])
            return 0;
    return 1;
}

/* The phrase of v that tokens [from, from + n) spell, or NULL; words has bit
 * k set when token from + k is a phrase word (LEX_PHRASE: every word of
 * every phrase is one). */
static const struct lex_phrase *find_phrase(const struct ctx_s *c, size_t from, unsigned n,
                                            const struct lex_phrase *v, unsigned nv,
                                            unsigned words)
{
    unsigned all = (1u << n) - 1;
    if ((words & all) != all)
        return NULL;
    for (unsigned k = 0; k < nv; k++)
        if (seq_is(c, from, n, &v[k]))
            return &v[k];
    return NULL;
}

/* Whether t is a word of a phrase. */
static inline unsigned phrase_word(const struct analyzer_tok *t)
{
    return (tok_flags(t) & LEX_PHRASE) != 0;
}

/* Called for i > 2 only. */
static double special_idioms(const struct ctx_s *c, double v, size_t i)
{
    const struct analyzer_lexicon *lx = c->lx;
    if (!(c->seen & LEX_PHRASE))
        return v;               /* no phrase word in the whole text (most texts) */
    /* every phrase looked at lies in tokens i-3 .. i+2: which of them are
     * phrase words, bit k for token i-3+k, without a branch a token; the
     * ones after the word only matter when it is one itself */
    size_t from = i - 3;
    unsigned m = 0;
    for (unsigned k = 0; k < 4; k++)
        m |= phrase_word(&c->t[from + k]) << k;
    if ((m & 8) && i + 1 < c->n)
        m |= phrase_word(&c->t[i + 1]) << 4;
    if ((m & 16) && i + 2 < c->n)
        m |= phrase_word(&c->t[i + 2]) << 5;
    if (!(m & (m >> 1)))
        return v;               /* a phrase is two phrase words in a row or more */
    /* the reference's order: "w-1 w", "w-2 w-1 w", "w-2 w-1", "w-3 w-2 w-1",
     * "w-3 w-2"; the first hit replaces the valence */
    static const struct { unsigned back, n; } seqs[] = {{1, 2}, {2, 3}, {2, 2}, {3, 3}, {3, 2}};
    for (size_t k = 0; k < CTX_ARRAY_LEN(seqs); k++) {
        const struct lex_phrase *p = find_phrase(c, i - seqs[k].back, seqs[k].n, lx->special,
                                                 lx->nspecial, m >> (3 - seqs[k].back));
        if (p) {
            v = p->value;
            break;
        }
    }
    /* then "w w+1" and "w w+1 w+2", each replacing */
    const struct lex_phrase *p;
    if (c->n - 1 > i && (p = find_phrase(c, i, 2, lx->special, lx->nspecial, m >> 3)))
        v = p->value;
    if (c->n - 1 > i + 1 && (p = find_phrase(c, i, 3, lx->special, lx->nspecial, m >> 3)))
        v = p->value;
    /* multi-word dampeners before the word add up, unsigned (as the
     * reference: "kind of bad" comes out worse than "bad") */
    static const struct { unsigned back, n; } grams[] = {{3, 3}, {3, 2}, {2, 2}};
    for (size_t k = 0; k < CTX_ARRAY_LEN(grams); k++)
        if ((p = find_phrase(c, i - grams[k].back, grams[k].n, lx->ngram, lx->nngram,
                             m >> (3 - grams[k].back))))
            v += p->value;
    return v;
}

static inline __attribute__((always_inline)) double least_check(const struct ctx_s *c, double v,
                                                                size_t i, struct why *why)
{
    double v0 = v;
    if (i > 0 && is_w(c, i - 1, LW_LEAST) && !in_lex(&c->t[i - 1]) && near(c, i - 1, i) &&
        (i == 1 || (!is_w(c, i - 2, LW_AT) && !is_w(c, i - 2, LW_VERY))))
        v *= N_SCALAR;
    if (why && v != v0)
        why->least = 1;
    return v;
}

/* The word start + 1 before word i boosts or dampens it, negates it, and
 * (three before) may make an idiom of it; 0 where VADER's look back stops,
 * at the sentence's start. */
static inline __attribute__((always_inline)) int look_back(const struct ctx_s *c, size_t i,
                                                           int start, double *v, struct why *why)
{
    size_t j = i - (size_t)start - 1;
    if (i <= (size_t)start || !near(c, j, i))
        return 0;
    if (tok_flags(&c->t[j]) & LEX_VALENCE)
        return 1;
    double s = scalar_inc_dec(c, &c->t[j], *v);
    if (start == 1 && s != 0)
        s *= 0.95;
    if (start == 2 && s != 0)
        s *= 0.9;
    *v += s;
    if (why)
        why->boost += s;
    *v = negation_check(c, *v, start, i, why);
    if (start == 2) {
        double v0 = *v;
        *v = special_idioms(c, *v, i);
        if (why && *v != v0)
            why->idiom = 1;
    }
    return 1;
}

/* The valence of token i, one with an entry of LEX_VALENCE
 * (lexical_tokens() lists no other); what moved it into *why when why is
 * not NULL. Inlined in two loops, one with why a constant NULL: scoring
 * without explaining asks none of its questions. */
static inline __attribute__((always_inline)) double valence_at(const struct ctx_s *c, size_t i,
                                                               struct why *why)
{
    const struct analyzer_tok *t = c->t;
    const struct analyzer_tok *tk = &t[i];
    if (tk->e->booster != 0.0)
        return 0.0;                       /* boosters only modify */
    if (i + 1 < c->n && is_w(c, i, LW_KIND) && is_w(c, i + 1, LW_OF))
        return 0.0;                       /* "kind of" is a dampener, not "kind" */
    if (tk->proper)
        return 0.0;                       /* a capitalised Russian word mid-sentence is a name */
    if (i + 1 < c->n && (tok_flags(&t[i + 1]) & LEX_GREETING) && near(c, i, i + 1) &&
        tk->e->valence > 0) {
        if (why)
            why->prag = "a greeting: \"good morning\"";
        return 0.0;
    }
    if (is_w(c, i, LW_LIKE) && !(i > 0 && near(c, i - 1, i) && t[i - 1].e &&
                                 (t[i - 1].e->flags & LEX_LIKE_SUBJ))) {
        if (why)
            why->prag = "not the verb: \"looks like\", \"like 3 hours\"";
        return 0.0;                       /* "like" the verb needs a subject or an adverb */
    }

    double base = tk->e->valence, v = base;
    if (why)
        why->base = base;
    /* "no" right before a lexicon word negates it instead of scoring */
    if (is_w(c, i, LW_NO) && i != c->n - 1 && in_lex(&t[i + 1]) && near(c, i, i + 1))
        v = 0.0;
    if ((i > 0 && is_w(c, i - 1, LW_NO) && near(c, i - 1, i)) ||
        (i > 1 && is_w(c, i - 2, LW_NO) && near(c, i - 2, i)) ||
        (i > 2 && is_w(c, i - 3, LW_NO) && near(c, i - 3, i) &&
         (is_w(c, i - 1, LW_OR) || is_w(c, i - 1, LW_NOR)))) {
        v = base * N_SCALAR;
        if (why)
            why->no = 1;
    }

    if (tk->upper && c->cap_diff) {
        v += v > 0 ? C_INCR : -C_INCR;
        if (why)
            why->caps = v > 0 ? C_INCR : -C_INCR;
    }

    /* the three words before it, each step written out (start a constant) */
    if (look_back(c, i, 0, &v, why) && look_back(c, i, 1, &v, why))
        look_back(c, i, 2, &v, why);
    return least_check(c, v, i, why);
}

/* ---- step 3b: what a post to a company means by its words --------------- */

/* Where VADER reads words, a post to a company is also a speech act. Three
 * readings that hold across brands and languages:
 *
 *   - gratitude in a post that asks something ("?", "please", "dm") or
 *     reports a problem (a complaint cue of weight >= CUE_VALENCE_MIN) is a
 *     formula -- "thanks in advance", "thanks for nothing" -- not praise;
 *   - the words a complaint cue spans are read by the cue, not one by one:
 *     "do better", "thanks for nothing" weigh as the cue says;
 *   - praise right before a failure in the same sentence is sarcasm ("love
 *     being on hold", "great job ruining my trip": Riloff et al., EMNLP 2013,
 *     positive sentiment next to a negative situation), and an explicit
 *     marker ("#sarcasm", "/s") turns the praise of its whole post around;
 *     both as a negation would;
 *   - a positive word in a question to a company is asked about, not said:
 *     "is the wifi good on this flight?", "any chance of a free upgrade?"
 *     praise nothing (a question presupposes no answer; rhetorical ones,
 *     "how great is that?", are the price). Negative words keep their
 *     weight there: "why is my bag always lost?" still complains.
 *
 * And for the cues' own weight (score_sum): a failure asked about ("why was
 * my flight cancelled?") is a question before it is a grievance, and weighs
 * half. */
#define NEG_NEG 0.0      /* a negated negative word, in a post to a company */
#define PRAISE_REACH 4   /* "love being stuck", "great job ruining", "thanks for making me miss" */

static int sarcasm_marker(const struct analyzer_tok *t, const unsigned char *s)
{
    if (!t->e || !(t->e->flags & LEX_SARCASM))
        return 0;
    return t->hashtag || (t->len == 2 && s[t->off] == '/');
}

#define REMEDY_REACH 4   /* "finding my lost bag" */
#define THANKS_REACH 6   /* "thank you so much for finding" */

/* Token f names a failure that a remedy before it undid, for which someone
 * is thanked: "thanks for finding my lost bag", "thank you so much for
 * rebooking my cancelled flight", "thanks for the refund" (f itself or a word
 * at most REMEDY_REACH tokens before it is a remedy, gratitude is at most
 * THANKS_REACH before that, all in one sentence). */
static int remedied(const struct analyzer_tok *t, size_t f)
{
    for (size_t r = f + 1; r-- > 0 && f - r <= REMEDY_REACH && t[r].sent == t[f].sent;) {
        if (!t[r].e || !(t[r].e->flags & LEX_REMEDY))
            continue;
        for (size_t g = r; g-- > 0 && r - g <= THANKS_REACH && t[g].sent == t[r].sent;)
            if (t[g].e && (t[g].e->flags & LEX_GRATITUDE))
                return 1;
    }
    return 0;
}

/* The cue hits that name a remedied failure are dropped: they are what the
 * writer is grateful about, not a complaint. */
static size_t drop_remedied(const struct analyzer_tok *t, struct cue_hit *h, size_t nh)
{
    size_t kept = 0;
    for (size_t k = 0; k < nh; k++)
        if (!remedied(t, h[k].first))
            h[kept++] = h[k];
    return kept;
}

/* "would love", "I'd really appreciate": token i a wish, after "would" and
 * at most one word between (an adverb), in its sentence. */
static int wish(const struct analyzer_tok *t, size_t i)
{
    if (!t[i].e || !(t[i].e->flags & LEX_WISH))
        return 0;
    for (size_t k = i; k-- > 0 && i - k <= 2 && t[k].sent == t[i].sent;)
        if (t[k].e && (t[k].e->flags & LEX_WOULD))
            return 1;
    return 0;
}

static void pragmatics(const struct ctx_s *c, const unsigned char *s, double *sent,
                       const struct sentiment *st)
{
    if (!c->addressed && !(c->seen & (LEX_GRATITUDE | LEX_SARCASM)) && st->nhits == 0)
        return;
    int request = c->qm > 0 || (c->seen & LEX_REQUEST), problem = 0, sarcasm = 0;
    int remedy = (c->seen & (LEX_REMEDY | LEX_GRATITUDE)) == (LEX_REMEDY | LEX_GRATITUDE);
    uint8_t cstack[TOK_STACK], *covered = NULL;
    for (size_t h = 0; h < st->nhits; h++) {
        const struct cue_hit *x = &st->hits[h];
        if (x->weight < CUE_VALENCE_MIN)
            continue;
        problem = 1;
        if (!covered) {
            covered = c->n <= TOK_STACK ? cstack : ctx_malloc(c->n);
            memset(covered, 0, c->n);
        }
        for (uint32_t k = x->first; k <= x->last && k < c->n; k++)
            covered[k] = 1;
    }
    if (c->seen & LEX_SARCASM)
        for (size_t i = 0; i < c->n && !sarcasm; i++)
            sarcasm = sarcasm_marker(&c->t[i], s);
    /* a token off the list scores 0: nothing below changes it */
    for (size_t k = 0; k < c->nlexical; k++) {
        size_t i = c->lexical[k];
        const struct lex_entry *e = c->t[i].e;   /* a listed token has one */
        if ((e->flags & LEX_UNSURE) && c->addressed && sent[i] != 0.0) {
            sent[i] = 0.0;      /* "extend", "play", "miss": see LEX_UNSURE */
            if (c->why)
                c->why[i].prag = "its raters disagree: not counted in a post to someone";
            continue;
        }
        if (sent[i] < 0.0 && remedy && remedied(c->t, i)) {
            sent[i] = 0.0;      /* "lost" in "thanks for finding my lost bag" */
            if (c->why)
                c->why[i].prag = "a failure remedied, with thanks";
        }
        if (sent[i] <= 0.0)
            continue;
        const struct analyzer_tok *t = &c->t[i];
        const char *why = NULL;
        if (e->valence < 0.0 && !(e->flags & LEX_LITOTES)) {
            /* a negative word turned positive by a negation: "not my fault",
             * "no lies", "didn't miss" deny a failure, they praise nothing */
            if (c->addressed) {
                sent[i] *= NEG_NEG;
                if (c->why)
                    c->why[i].prag = "a failure denied: no praise";
            }
            continue;
        }
        int praise_of_failure = 0;
        for (size_t h = 0; h < st->nhits && !praise_of_failure; h++) {
            const struct cue_hit *x = &st->hits[h];
            praise_of_failure = x->weight >= CUE_VALENCE_MIN && x->first > i &&
                                x->first <= i + PRAISE_REACH && c->t[x->first].sent == t->sent;
        }
        if ((e->flags & LEX_LAUGH) && c->addressed) {
            sent[i] = 0.0;      /* before sarcasm: "lol my bag is in Denver" */
            why = "laughter or a wink: tone, not praise";
        } else if (praise_of_failure) {
            sent[i] *= N_SCALAR;
            why = "praise of a failure: sarcasm";
        } else if (covered && covered[i]) {
            sent[i] = 0.0;
            why = "read by the complaint cue it is part of";
        } else if ((e->flags & LEX_GRATITUDE) && (request || problem)) {
            sent[i] = 0.0;
            why = request ? "gratitude closing a request" : "gratitude in a complaint";
        } else if (sarcasm) {
            sent[i] *= N_SCALAR;
            why = "sarcasm marker";
        } else if (c->addressed && t->question) {
            sent[i] = 0.0;
            why = "asked about: a question praises nothing";
        } else if (c->addressed && wish(c->t, i)) {
            sent[i] = 0.0;
            why = "a wish: a request, not praise";
        }
        if (why && c->why)
            c->why[i].prag = why;
    }
    if (covered && covered != cstack)
        free(covered);
}

/* ---- step 4: contrast and irrealis ------------------------------------- */

/* "X but Y": Y counts more, X less (x1.5, x0.5, VADER's weights). As the
 * reference, the first contrast word of the text decides; unlike it, its
 * reach stops at sentence ends: X is the part of its sentence before it (or,
 * when the sentence starts with it, everything before), Y the rest of its
 * sentence. "But" alone in one sentence gives the reference's result.
 *
 * "Although X, Y" and "Y, though X": the concessive clause X (up to the next
 * comma or the sentence end) counts half, and when the sentence opens with
 * it, the main clause Y after it counts x1.5, as after "but". */
static void contrast_weights(const struct ctx_s *c, double *w)
{
    for (size_t i = 0; i < c->n; i++)
        w[i] = 1.0;
    for (size_t k = 0; (c->seen & LEX_CONCESSIVE) && k < c->n; k++) {
        if (!(tok_flags(&c->t[k]) & LEX_CONCESSIVE) || c->t[k].clause)
            continue;           /* "good, though." concedes nothing after it */
        uint32_t s = c->t[k].sent;
        int initial = k == 0 || c->t[k - 1].sent != s;
        size_t j = k + 1;
        for (; j < c->n && c->t[j].sent == s; j++) {
            w[j] = 0.5;
            if (c->t[j].clause) {
                j++;
                break;
            }
        }
        for (; initial && j < c->n && c->t[j].sent == s; j++)
            w[j] = 1.5;
    }
    if (!(c->seen & LEX_CONTRAST))
        return;
    size_t k = 0;
    while (k < c->n && !(tok_flags(&c->t[k]) & LEX_CONTRAST))
        k++;
    if (k == c->n)
        return;
    uint32_t s = c->t[k].sent;
    int initial = k == 0 || c->t[k - 1].sent != s;
    for (size_t i = 0; i < k; i++)
        if (initial || c->t[i].sent == s)
            w[i] *= 0.5;
    for (size_t i = k + 1; i < c->n && c->t[i].sent == s; i++)
        w[i] *= 1.5;
}

/* Irrealis (SO-CAL, Taboada et al. 2011): a word after "would", "could",
 * "should", "might", "if", "wish" or "hope" in the same clause describes
 * what is not (yet) so, "it would be great if it worked", and counts half. */
static int irrealis(const struct ctx_s *c, size_t i)
{
    if (!(c->seen & LEX_IRREALIS))
        return 0;
    for (size_t k = i; k-- > 0 && c->t[k].sent == c->t[i].sent && !c->t[k].clause;)
        if (tok_flags(&c->t[k]) & LEX_IRREALIS)
            return 1;
    return 0;
}

/* ---- step 5 ------------------------------------------------------------- */

static double punct_emphasis(size_t ep, size_t qm)
{
    if (ep > 4)
        ep = 4;
    double amp = (double)ep * 0.292;
    if (qm > 1)
        amp += qm <= 3 ? (double)qm * 0.18 : 0.96;
    return amp;
}

static double normalize(double sum)
{
    double x = sum / sqrt(sum * sum + ALPHA);
    return x < -1.0 ? -1.0 : x > 1.0 ? 1.0 : x;
}

static void explain_words(const struct ctx_s *c, const double *sent, const unsigned char *s,
                          json_t *arr)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct analyzer_tok *t = &c->t[i];
        const struct why *why = &c->why[i];
        if (!in_lex(t) || (sent[i] == 0.0 && !t->proper && why->base == 0.0))
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "word", json_stringn((const char *)s + t->off, t->len));
        json_object_set_new(o, "lexicon", json_string(t->e->flags & LEX_STEM ? "ru-stem"
                                                      : t->e->flags & LEX_RU  ? "ru"
                                                      : t->emoji              ? "emoji"
                                                                              : "en"));
        if (t->e->flags & LEX_STEM)
            json_object_set_new(o, "stem", json_stringn(t->e->key, t->e->len));
        json_object_set_new(o, "valence", json_real(t->e->valence));
        json_object_set_new(o, "score", json_real(round(sent[i] * 10000.0) / 10000.0));
        if (t->proper)
            json_object_set_new(o, "ignored", json_string("capitalised inside a sentence: a name"));
        if (why->negated >= 0) {
            const struct analyzer_tok *n = &c->t[why->negated];
            json_object_set_new(o, "negated_by", json_stringn((const char *)s + n->off, n->len));
        }
        if (why->no)
            json_object_set_new(o, "negated_by", json_string("no"));
        if (why->boost != 0.0)
            json_object_set_new(o, "boost", json_real(round(why->boost * 10000.0) / 10000.0));
        if (why->caps != 0.0)
            json_object_set_new(o, "caps", json_real(why->caps));
        if (why->never_so)
            json_object_set_new(o, "emphasis", json_string("never so/this: x1.25"));
        if (why->idiom)
            json_object_set_new(o, "idiom", json_true());
        if (why->least)
            json_object_set_new(o, "negated_by", json_string("least"));
        if (why->irrealis)
            json_object_set_new(o, "irrealis", json_true());
        if (why->contrast != 1.0)
            json_object_set_new(o, "weight", json_real(why->contrast));
        if (why->prag)
            json_object_set_new(o, "reading", json_string(why->prag));
        json_array_append_new(arr, o);
    }
}

static const char *const skip_names[] = {
    [SKIP_HANDLE] = "handle", [SKIP_URL] = "link", [SKIP_EMAIL] = "e-mail",
    [SKIP_CASHTAG] = "cashtag", [SKIP_BRAND] = "brand", [SKIP_HASHTAG_BRAND] = "brand in a hashtag",
};

/* The words that were not read as opinion, and the words found in hashtags. */
static void explain_skipped(const struct ctx_s *c, const unsigned char *s, json_t *explain)
{
    json_t *skipped = json_array(), *tags = json_array();
    for (size_t i = 0; i < c->n; i++) {
        const struct analyzer_tok *t = &c->t[i];
        json_t *w = json_stringn((const char *)s + t->off, t->len);
        if (t->skip)
            json_array_append_new(skipped, json_pack("{s:o,s:s}", "word", w, "as",
                                                     skip_names[t->skip]));
        else if (t->hashtag)
            json_array_append_new(tags, w);
        else
            json_decref(w);
    }
    json_object_set_new(explain, "skipped", skipped);
    json_object_set_new(explain, "hashtag_words", tags);
}

/* The sum of the words' valences and, in *cues, of the complaint cues' (each
 * reason once, at its strongest cue, where that cue starts); both weighed by
 * contrast ("but"), the words also by irrealis. */
#define NEG_DOMINANT 0.5

/* The tokens with a lexicon valence (valence_at() scores no other), in one
 * pass without a branch a token: whether a token has an entry is as hard to
 * predict as a coin. Only their sent[] are ever set or read (explain_words()
 * too skips the others). Not inlined: in score_sum() the loop's pointers
 * live on the stack. */
static __attribute__((noinline)) size_t lexical_tokens(const struct analyzer_tok *t, size_t n,
                                                       uint32_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        out[k] = (uint32_t)i;
        k += tok_flags(&t[i]) & LEX_VALENCE;
    }
    return k;
}

/* v when keep, else +0.0; by its bits, as GCC would branch on a
 * conditional of doubles. */
static inline double value_if(double v, int keep)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    b &= -(uint64_t)(keep != 0);
    memcpy(&v, &b, sizeof v);
    return v;
}

/* Not inlined: inside analyzer_sentiment() its loops took registers from the
 * inlined tokenizer (some 200 instructions a text). */
static __attribute__((noinline)) double score_sum(struct ctx_s *c, const unsigned char *s,
                                                  double *sent, const struct sentiment *st,
                                                  double *cues)
{
    /* the cues' valences: the strongest cue of each reason counts, where it
     * starts, so at most one sum a hit; added up in token order below */
    struct {
        uint32_t at;
        double v;
    } cv[SENT_MAX_HITS];
    size_t ncv = 0;
    uint32_t lstack[TOK_STACK], *lexical = c->n <= TOK_STACK ? lstack
                                                              : ctx_malloc(c->n * sizeof *lexical);
    *cues = 0.0;
    /* seen: the flags of every entry the tokenizer gave a token */
    c->nlexical = c->seen & LEX_VALENCE ? lexical_tokens(c->t, c->n, lexical) : 0;
    c->lexical = lexical;
    if (c->why)
        for (size_t k = 0; k < c->nlexical; k++)
            sent[lexical[k]] = valence_at(c, lexical[k], &c->why[lexical[k]]);
    else
        for (size_t k = 0; k < c->nlexical; k++)
            sent[lexical[k]] = valence_at(c, lexical[k], NULL);
    pragmatics(c, s, sent, st);
    if (st->nhits) {
        for (size_t h = 0; h < st->nhits; h++) {
            const struct cue_hit *x = &st->hits[h];
            if (x->weight < CUE_VALENCE_MIN)
                continue;   /* weak cues and counter-evidence say nothing of
                               how the writer feels */
            int strongest = 1;
            for (size_t k = 0; k < st->nhits && strongest; k++)
                if (k != h && st->hits[k].reason == x->reason &&
                    (st->hits[k].weight > x->weight ||
                     (st->hits[k].weight == x->weight && k < h)))
                    strongest = 0;
            if (!strongest)
                continue;
            size_t k = 0;
            while (k < ncv && cv[k].at != x->first)
                k++;
            if (k == ncv) {
                /* token order (the hits are in it already, as a rule) */
                while (k > 0 && cv[k - 1].at > x->first) {
                    cv[k] = cv[k - 1];
                    k--;
                }
                cv[k].at = x->first;
                cv[k].v = 0.0;
                ncv++;
            }
            cv[k].v += CUE_VALENCE * x->weight * (c->t[x->first].question ? 0.5 : 1.0);
        }
    }
    if (c->seen & (LEX_CONTRAST | LEX_CONCESSIVE | LEX_IRREALIS)) {
        /* The reference finds each valence's position with list.index(),
         * which misplaces equal values; that only matters when a halved
         * value before "but" equals one after it exactly, so positions are
         * used here. */
        double wstack[TOK_STACK], *w = c->n <= TOK_STACK ? wstack : ctx_malloc(c->n * sizeof *w);
        contrast_weights(c, w);
        for (size_t k = 0; k < ncv; k++)
            cv[k].v *= w[cv[k].at];
        for (size_t k = 0; k < c->nlexical; k++) {
            size_t i = lexical[k];
            if (sent[i] != 0.0 && irrealis(c, i)) {
                w[i] *= 0.5;
                if (c->why)
                    c->why[i].irrealis = 1;
            }
            sent[i] *= w[i];
        }
        for (size_t i = 0; c->why && i < c->n; i++)
            c->why[i].contrast = w[i];
        if (w != wstack)
            free(w);
    }
    double sum = 0.0, pos = 0.0;
    for (size_t k = 0; k < c->nlexical; k++) {
        /* each value added to one and +0.0 to the other, which changes
         * neither (sum is never -0.0): no branch on the sign */
        double v = sent[lexical[k]];
        int positive = v > 0.0;
        pos += value_if(v, positive);
        sum += value_if(v, !positive);
    }
    for (size_t k = 0; k < ncv; k++)
        *cues += cv[k].v;
    /* Negativity dominance: in a post to a company (it has a @handle or
     * names a brand) that reports something bad (negative
     * words or complaint cues worth a mild "bad" or more), its pleasantries
     * and praise of parts count half -- "the crew was nice but I missed my
     * connection" is a complaint. */
    if (c->addressed && sum + *cues <= -NEG_DOMINANT) {
        pos *= 0.5;
        for (size_t k = 0; k < c->nlexical; k++) {
            size_t i = lexical[k];
            if (sent[i] > 0.0) {
                sent[i] *= 0.5;
                if (c->why)
                    c->why[i].contrast *= 0.5;
            }
        }
    }
    sum += pos;
    if (lexical != lstack)
        free(lexical);
    return sum;
}

static double emphasize(double sum, double amp)
{
    /* sum - amp is sum + -amp: one addition, no branch on sum's sign */
    double e = sum + copysign(amp, sum);
    return sum != 0.0 ? e : sum;
}

static void explain_cues(const struct analyzer_lexicon *lx, const struct sentiment_opts *opt,
                         const struct ctx_s *c, const struct sentiment *st,
                         const unsigned char *s, json_t *explain)
{
    (void)lx;
    json_t *arr = json_array();
    for (size_t h = 0; h < st->nhits; h++) {
        const struct cue_hit *x = &st->hits[h];
        const char *file, *src;
        int line;
        analyzer_cues_where(opt->cues, x->cue, &file, &line, &src);
        const struct analyzer_tok *f = &c->t[x->first], *l = &c->t[x->last];
        char at[4200];
        snprintf(at, sizeof at, "%s:%d", file, line);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s%,s:f}", "reason",
                                             analyzer_cues_reason(opt->cues, x->reason),
                                             "cue", src, "at", at, "words",
                                             (const char *)s + f->off,
                                             (size_t)(l->off + l->len - f->off),
                                             "weight", round(x->weight * 100.0) / 100.0));
    }
    json_object_set_new(explain, "cues", arr);
}

/* Tokens whose text overlaps a span of mask: brand names, not opinion. */
static int same_word(const unsigned char *a, const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned x = a[i], y = b[i];
        if (x - 'A' < 26u)
            x += 32;
        if (y - 'A' < 26u)
            y += 32;
        if (x != y)
            return 0;
    }
    return 1;
}

/* Does token t overlap a span of m? A word cut from a #hashtag other than
 * its first does not: a rule such as [@#]united\w* matches the whole of
 * "#unitedfail" or "#jetbluesucks", but only the hashtag's first word names
 * the brand (the others are the writer's words about it; a brand name
 * elsewhere in the hashtag is skipped by name, SKIP_HASHTAG_BRAND). */
static int in_mask(const unsigned char *s, const struct analyzer_tok *t,
                   const struct analyzer_spans *m)
{
    if (t->hashtag && s[t->off - 1] != '#')
        return 0;
    size_t a = t->orig, b = a + t->len;
    for (size_t k = 0; k < m->n; k++)
        if (a < m->v[k][1] && m->v[k][0] < b)
            return 1;
    return 0;
}

/* A shared article: "JetBlue to add flights to Cuba - Travel Weekly
 * http://...", a headline, a dash or a bar, its source in a few words, and
 * the link last. The words are the publisher's; the post says nothing of
 * how its writer feels. */
#define HEADLINE_MIN 4          /* tokens of a headline, at least */
#define SOURCE_MAX 6            /* tokens of its source, at most */

static int separator(const unsigned char *s, const struct analyzer_tok *t)
{
    const unsigned char *w = s + t->off;
    return (t->len == 1 && (w[0] == '-' || w[0] == '|')) ||
           (t->len == 3 && w[0] == 0xE2 && w[1] == 0x80 && (w[2] == 0x93 || w[2] == 0x94));
}

/* A headline is in the third person: "I", "my", "we"... are the writer's. */
static int first_person(const unsigned char *s, const struct analyzer_tok *t)
{
    static const char *const w[] = {"i", "me", "my", "mine", "we", "us", "our", "ours", "i'm",
                                    "im", "i've", "i'll", "i'd", "we're", "we've", "we'll",
                                    "я", "мне", "меня", "мой", "моя", "мои", "мы", "нас", "наш"};
    for (size_t k = 0; k < CTX_ARRAY_LEN(w); k++)
        if (strlen(w[k]) == t->len && same_word(s + t->off, (const unsigned char *)w[k], t->len))
            return 1;
    return 0;
}

static int shared_headline(const unsigned char *s, const struct analyzer_tok *t, size_t n)
{
    size_t end = n;
    while (end > 0 && t[end - 1].skip == SKIP_URL)
        end--;
    if (end == n || end == 0)
        return 0;
    /* the separator: the last one before the link, its source after it */
    for (size_t k = end; k-- > 0 && end - k <= SOURCE_MAX + 1;) {
        if (!separator(s, &t[k]))
            continue;
        if (k + 1 == end || k < HEADLINE_MIN)
            return 0;           /* no source, or no headline */
        for (size_t i = 0; i < k; i++)
            if (first_person(s, &t[i]))
                return 0;
        return 1;
    }
    return 0;
}

/* Returns whether a token became SKIP_BRAND. */
static int apply_mask(struct ctx_s *c, const unsigned char *s, struct analyzer_tok *t,
                      const struct analyzer_spans *m)
{
    int branded = 0;
    /* the words a brand rule matched name the brand wherever else they
     * stand in the post: "@united ... my united app" */
    size_t named[8];
    size_t nnamed = 0;
    for (size_t i = 0; i < c->n && nnamed < CTX_ARRAY_LEN(named); i++)
        if (t[i].letters && in_mask(s, &t[i], m))
            named[nnamed++] = i;
    for (size_t i = 0; i < c->n && nnamed; i++)
        for (size_t k = 0; k < nnamed; k++) {
            const struct analyzer_tok *o = &t[named[k]];
            if (i != named[k] && t[i].len == o->len && !t[i].skip &&
                same_word(s + t[i].off, s + o->off, o->len)) {
                t[i].skip = SKIP_BRAND;
                mute(&t[i]);
                branded = 1;
                break;
            }
        }
    for (size_t i = 0; i < c->n; i++)
        if (in_mask(s, &t[i], m)) {
            if (!t[i].skip) {
                t[i].skip = SKIP_BRAND;   /* "@united" stays a handle */
                branded = 1;
            }
            mute(&t[i]);
        }
    return branded;
}

/* What the whole text says before it is tokenized, in one pass: its "!"
 * and "?" (step 5), whether it is ASCII (emoji only exist outside it), and
 * whether it may have a glued sentence end, which the tokenizer cuts (a . ,
 * ! or ? right before a capital, or two dots in a row: glued_end()): most
 * texts have none, and the tokenizer then does not look for one in every
 * token. More yeses than there are are fine, fewer are not. */
struct text_marks {
    size_t ep, qm;              /* "!" and "?" */
    int ascii;
    int glue;
    int at;                     /* an "@" may be there */
    int ws;                     /* the map of white space was made */
};

#ifdef __SSE2__
/* In v, the lanes that are . , ! or ? (*g), '.' (*dot), 'A'..'Z' (*up),
 * '!' (*ex) and '?' (*q), as lanes of all ones. */
static inline void marks16(__m128i v, __m128i *g, __m128i *dot, __m128i *up, __m128i *ex,
                           __m128i *q)
{
    __m128i e = _mm_cmpeq_epi8(v, _mm_set1_epi8('!')), k = _mm_cmpeq_epi8(v, _mm_set1_epi8('?'));
    __m128i dc = _mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(2)), _mm_set1_epi8('.'));
    *g = _mm_or_si128(_mm_or_si128(e, k), dc);                       /* '.' 2E, ',' 2C */
    *dot = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
    /* 'A'..'Z' moved to -128..-103, the lowest signed bytes: one compare */
    *up = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - 'A'))),
                         _mm_set1_epi8((char)(-128 + 26)));
    *ex = e;                    /* written last: the caller may not want all */
    *q = k;
}

/* The lanes of v that are white space (B_SPACE), as bits. */
static inline unsigned space16(__m128i v)
{
    /* 9..13 and 28..31 moved to the lowest signed bytes: a compare each */
    __m128i r1 = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - 9))),
                                _mm_set1_epi8((char)(-128 + 5)));
    __m128i r2 = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - 28))),
                                _mm_set1_epi8((char)(-128 + 4)));
    __m128i sp = _mm_cmpeq_epi8(v, _mm_set1_epi8(' '));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(r1, r2), sp));
}

/* The sum of the 16 byte counters c. */
static inline size_t sum16(__m128i c)
{
    __m128i s = _mm_sad_epu8(c, _mm_setzero_si128());
    return (size_t)_mm_cvtsi128_si32(s) + (size_t)_mm_cvtsi128_si32(_mm_srli_si128(s, 8));
}
#endif

/* Where SSE2 is and len >= 16, ws (when not NULL, WS_UNITS(len) of them)
 * gets bit i of the text's white space (B_SPACE) and every bit from len on:
 * tokctx.ws. */
#define WS_UNITS(len) ((len) / 16 + 7)

static inline void text_marks(const unsigned char *s, size_t len, struct text_marks *tm,
                              uint16_t *ws)
{
#ifdef __SSE2__
    if (len >= 16) {
        /* sixteen bytes at a time: the "!" and "?" counted in byte lanes
         * (at most 255 blocks a round), a glue byte or a dot carried into
         * the next block's lanes by a shift of one lane (memchr() for "!",
         * "?" and ".." missed some four times a text, and the eight-byte
         * pass below cost twice the instructions) */
        __m128i high = _mm_setzero_si128(), hit = high, pg = high, pd = high, at = high;
        size_t ep = 0, qm = 0, i = 0;
        /* the map is for ASCII text alone: not made for one that starts
         * outside it (a Russian text, which it cost 170 instructions) */
        if (ws && _mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)s)))
            ws = NULL;
        while (i + 16 <= len) {
            size_t stop = len - i > 255 * 16 ? i + 255 * 16 : len;
            __m128i cex = _mm_setzero_si128(), cq = cex;
            for (; i + 16 <= stop; i += 16) {
                __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
                __m128i g, dot, up, ex, q;
                marks16(v, &g, &dot, &up, &ex, &q);
                high = _mm_or_si128(high, v);
                at = _mm_or_si128(at, _mm_cmpeq_epi8(v, _mm_set1_epi8('@')));
                if (ws)
                    ws[i / 16] = (uint16_t)space16(v);
                cex = _mm_sub_epi8(cex, ex);
                cq = _mm_sub_epi8(cq, q);
                /* each lane's byte before it: this block's, shifted, and
                 * the last of the block before */
                __m128i bg = _mm_or_si128(_mm_slli_si128(g, 1), _mm_srli_si128(pg, 15));
                __m128i bd = _mm_or_si128(_mm_slli_si128(dot, 1), _mm_srli_si128(pd, 15));
                hit = _mm_or_si128(hit, _mm_or_si128(_mm_and_si128(bg, up), _mm_and_si128(bd, dot)));
                pg = g;
                pd = dot;
            }
            ep += sum16(cex);
            qm += sum16(cq);
        }
        if (i < len) {
            /* the last bytes, in the sixteen that end the text: the lanes
             * before i were seen (their pairs too), only the counts need
             * them out; the byte before each lane is read from s[len - 17] */
            static const uint8_t from[32] = {
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            };
            __m128i keep = _mm_loadu_si128((const __m128i *)(const void *)(from + 16 - (i + 16 - len)));
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + len - 16));
            __m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(s + len - 17));
            __m128i g, dot, up, ex, q, bg, bd, bup, bex, bq;
            marks16(v, &g, &dot, &up, &ex, &q);
            marks16(v1, &bg, &bd, &bup, &bex, &bq);
            high = _mm_or_si128(high, v);
            at = _mm_or_si128(at, _mm_cmpeq_epi8(v, _mm_set1_epi8('@')));
            if (ws) {
                /* lanes i - (len - 16) on are bytes i.. */
                unsigned b = space16(v);
                ws[i / 16] = (uint16_t)((b >> (i + 16 - len)) | (0xFFFFu << (len - i)));
            }
            ep += sum16(_mm_and_si128(keep, _mm_and_si128(ex, _mm_set1_epi8(1))));
            qm += sum16(_mm_and_si128(keep, _mm_and_si128(q, _mm_set1_epi8(1))));
            hit = _mm_or_si128(hit, _mm_or_si128(_mm_and_si128(bg, up), _mm_and_si128(bd, dot)));
        }
        tm->ep = ep;
        tm->qm = qm;
        tm->ascii = !_mm_movemask_epi8(high);
        tm->glue = _mm_movemask_epi8(hit) != 0;
        tm->at = _mm_movemask_epi8(at) != 0;
        if (ws) {
            /* from len on, where eight bytes can be read (a loop here
             * became an indirect jump, mispredicted once a text) */
            static const uint16_t ones[6] = {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF};
            memcpy(ws + (len + 15) / 16, ones, sizeof ones);
        }
        tm->ws = ws != NULL;
        return;
    }
#endif
    /* eight bytes at a time, where the lanes are little-endian */
    uint64_t high = 0, pairs = 0;
#if SWAR
    uint64_t carry = 0;
#endif
    size_t i8 = 0;
    for (; i8 + 8 <= len; i8 += 8) {
        uint64_t w;
        memcpy(&w, s + i8, 8);
        high |= w;
#if SWAR
        uint64_t g = glue_lanes(w), u = upper_lanes(w);
        pairs |= (g & (u >> 8)) | (carry & u);
        carry = g >> 56;                /* lane 7 before the next word's lane 0 */
#else
        pairs = 1;
#endif
    }
    if (len >= 8) {
        /* the last bytes in a word that overlaps the one before: no loop */
        uint64_t w;
        memcpy(&w, s + len - 8, 8);
        high |= w;
#if SWAR
        uint64_t g = glue_lanes(w), u = upper_lanes(w);
        pairs |= (g & (u >> 8)) | (carry & u);
#endif
    } else {
        for (; i8 < len; i8++) {
            high |= s[i8];
            pairs |= i8 > 0 && (byte_class[s[i8 - 1]] & B_GLUE) && (unsigned)(s[i8] - 'A') < 26u;
        }
    }
    tm->ep = tm->qm = 0;
    for (const unsigned char *q = s, *end = s + len; (q = memchr(q, '!', (size_t)(end - q)));
         q++)
        tm->ep++;
    for (const unsigned char *q = s, *end = s + len; (q = memchr(q, '?', (size_t)(end - q)));
         q++)
        tm->qm++;
    tm->ascii = !(high & 0x8080808080808080ull);
    tm->glue = pairs != 0 || has_ellipsis(s, len);
    tm->at = 1;
    tm->ws = 0;
    (void)ws;
}

void analyzer_sentiment(const struct analyzer_lexicon *lx, const struct sentiment_opts *opt,
                        const char *text, size_t len, struct sentiment *out, json_t *explain)
{
    const unsigned char *s = (const unsigned char *)text;
    struct buf ebuf = {0};
    struct descv descs = {0};
    struct lang_votes votes = {0};
    out->score = out->words = 0.0;
    out->lang = LANG_NONE;
    out->nhits = 0;

    struct text_marks tm;
    /* a map of the white space of texts up to 2 KB, for the tokenizer */
    uint16_t wsmap[WS_UNITS(2048)];
    text_marks(s, len, &tm, len <= 2048 ? wsmap : NULL);
    size_t ep = tm.ep, qm = tm.qm;
    int ascii = tm.ascii;
    if (!ascii) {
        analyzer_lang_letters(s, len, &votes);
        /* text of ASCII and U+0400..U+047F alone (most Russian text: the
         * letters' pass above says) holds no emoji unless the lexicon has
         * keys that begin there */
        if ((votes.rare || lx->emoji_cyrillic) && emoji_expand(lx, s, len, &ebuf, &descs)) {
            s = (const unsigned char *)buf_str(&ebuf);
            len = buf_len(&ebuf);
        }
    }

    struct analyzer_tok tstack[TOK_STACK];
    double sstack[TOK_STACK];
    struct analyzer_tok *toks = tstack;
    double *sent = sstack;
    size_t most = len / 2 + 1;           /* tokens are separated by white space */
    if (most > TOK_STACK) {
        toks = ctx_malloc(most * sizeof *toks);
        sent = ctx_malloc(most * sizeof *sent);
    }

    /* the emoji's descriptions are new text: looked at by the tokenizer */
    struct tokctx tc = {.lx = lx, .opt = opt, .votes = &votes, .ascii = ascii,
                        .glue = tm.glue || s != (const unsigned char *)text,
                        .at = tm.at || s != (const unsigned char *)text,
                        .qm = tm.qm != 0,
                        .ws = tm.ws ? (const uint8_t *)wsmap : NULL};
    unsigned char tail[32] = {0};
    if (ascii && len >= 16) {
        memcpy(tail, s + len - 16, 16);
        tc.wide = 1;
        tc.to_tail = (uintptr_t)(tail + 16) - (uintptr_t)(s + len);
    }
    struct ctx_s c = {.lx = lx, .t = toks};
    c.n = ascii ? tokenize_ascii(&tc, s, len, toks) : tokenize_utf8(&tc, s, len, toks, &descs);
    if (ascii)                 /* all letters are Latin: whether there is one */
        for (size_t i = 0; i < c.n && !votes.latin; i++)
            votes.latin = toks[i].letters;
    out->lang = analyzer_lang_decide(&votes);
    const char *code = analyzer_lang_code(out->lang);
    /* Lexicons exist for English and Russian. Text in another language keeps
     * only what needs none: emoticons and emoji. */
    int foreign = out->lang != LANG_NONE && out->lang != LANG_EN && out->lang != LANG_RU;
    for (size_t i = 0; foreign && i < c.n; i++)
        if (toks[i].letters && !toks[i].emoji)
            toks[i].e = NULL;
    c.cap_diff = tc.caps > 0 && tc.caps < c.n;
    /* a post to someone: a @handle, a brand in a hashtag, or (below) a
     * brand rule's span */
    c.addressed = (tc.skips & (1u << SKIP_HANDLE | 1u << SKIP_HASHTAG_BRAND)) != 0;
    if (opt && opt->mask) {
        struct analyzer_spans mask;
        analyzer_spans_init(&mask);
        opt->mask(opt->ud, code, toks, c.n, (const char *)s, &mask);
        if (mask.n && apply_mask(&c, s, toks, &mask))
            c.addressed = 1;
        analyzer_spans_free(&mask);
    }
    int headline = shared_headline(s, toks, c.n);
    for (size_t i = 0; headline && i < c.n; i++)
        mute(&toks[i]);         /* the publisher's words, not the writer's */
    if (opt && opt->cues)
        out->nhits = analyzer_cues_match(opt->cues, toks, c.n, code, out->hits, SENT_MAX_HITS);
    if (out->nhits && (tc.seen & (LEX_REMEDY | LEX_GRATITUDE)) == (LEX_REMEDY | LEX_GRATITUDE))
        out->nhits = drop_remedied(toks, out->hits, out->nhits);
    if (explain && c.n)
        c.why = ctx_calloc(c.n, sizeof *c.why);
    for (size_t i = 0; c.why && i < c.n; i++) {
        c.why[i].negated = -1;
        c.why[i].contrast = 1.0;
    }
    c.seen = tc.seen;
    c.qm = qm;
    double amp = punct_emphasis(ep, qm), cues = 0.0;
    double sum = c.n ? score_sum(&c, s, sent, out, &cues) : 0.0;
    out->words = normalize(emphasize(sum, amp));
    out->score = normalize(emphasize(sum + cues, amp));
    if (explain) {
        json_t *arr = json_array();
        explain_words(&c, sent, s, arr);
        json_object_set_new(explain, "words", arr);
        json_object_set_new(explain, "sum", json_real(round(sum * 10000.0) / 10000.0));
        if (sum + cues != 0.0 && amp != 0.0)
            json_object_set_new(explain, "punctuation", json_real(amp));
        if (opt && opt->cues) {
            explain_cues(lx, opt, &c, out, s, explain);
            json_object_set_new(explain, "cue_sum", json_real(round(cues * 10000.0) / 10000.0));
        }
        explain_skipped(&c, s, explain);
        if (headline)
            json_object_set_new(explain, "headline", json_true());
        json_object_set_new(explain, "lang", code ? json_string(code) : json_null());
        json_object_set_new(explain, "lexicon",
                            json_string(foreign ? "none (emoticons and emoji only)" : "en+ru"));
    }
    free(c.why);
    if (toks != tstack) {
        free(toks);
        free(sent);
    }
    buf_free(&ebuf);
    free(descs.v);
}
