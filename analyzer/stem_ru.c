/* stem_ru.c -- the Snowball Russian stemmer, for matching inflected forms.
 *
 * Russian words change their endings with case, number, gender and tense
 * ("хороший", "хорошая", "хорошего", "хорошо"); the sentiment lexicon lists
 * one form of each word. Both the lexicon's words (at load) and the text's
 * words (while scoring) are reduced to a stem by the algorithm published by
 * the Snowball project (snowballstem.org/algorithms/russian), implemented here
 * from its description, and looked up by stem.
 *
 * Why not link libstemmer: its stemmer objects keep state and are not safe to
 * share between threads, while analyzer_tag() must be callable from any
 * number of threads on one const analyzer; and the algorithm only ever
 * removes endings, so it fits in a pure function returning a length, with no
 * allocation. The results agree with Debian's libstemmer 2.2 (checked on every
 * word of the Russian lexicon and test corpus; see docs/analyzer.md). The
 * ending tables are indexed by their last letter once per process
 * (pthread_once; read-only afterwards), so that a word is compared with the
 * few endings of its own last letter.
 *
 * Input is a lower-case word in UTF-8 with "ё" already written "е" (the
 * caller's normalisation). Every Cyrillic letter is two bytes in UTF-8, and
 * each ending is a string of Cyrillic letters, so endings are compared as
 * bytes; the regions RV and R2 are byte offsets. Other characters in a word
 * count as non-vowels, as in the reference. */
#include <pthread.h>
#include <string.h>
#include "analyzer/analyzer_internal.h"

struct sfx {
    char s[14];            /* the bytes, here rather than behind a pointer: the
                              endings tried for a word sit in a few cache lines */
    unsigned char len;     /* bytes */
    unsigned char after_a; /* must follow "а" or "я" (which stays) */
};

#define S(x) {x, sizeof(x) - 1, 0}
#define A(x) {x, sizeof(x) - 1, 1}

static const struct sfx gerund[] = {
    A("в"), A("вши"), A("вшись"),
    S("ив"), S("ивши"), S("ившись"), S("ыв"), S("ывши"), S("ывшись"),
};
static const struct sfx adjective[] = {
    S("ее"), S("ие"), S("ые"), S("ое"), S("ими"), S("ыми"), S("ей"), S("ий"), S("ый"),
    S("ой"), S("ем"), S("им"), S("ым"), S("ом"), S("его"), S("ого"), S("ему"), S("ому"),
    S("их"), S("ых"), S("ую"), S("юю"), S("ая"), S("яя"), S("ою"), S("ею"),
};
static const struct sfx participle[] = {
    A("ем"), A("нн"), A("вш"), A("ющ"), A("щ"),
    S("ивш"), S("ывш"), S("ующ"),
};
static const struct sfx reflexive[] = {S("ся"), S("сь")};
static const struct sfx verb[] = {
    A("ла"), A("на"), A("ете"), A("йте"), A("ли"), A("й"), A("л"), A("ем"), A("н"),
    A("ло"), A("но"), A("ет"), A("ют"), A("ны"), A("ть"), A("ешь"), A("нно"),
    S("ила"), S("ыла"), S("ена"), S("ейте"), S("уйте"), S("ите"), S("или"), S("ыли"),
    S("ей"), S("уй"), S("ил"), S("ыл"), S("им"), S("ым"), S("ен"), S("ило"), S("ыло"),
    S("ено"), S("ят"), S("ует"), S("уют"), S("ит"), S("ыт"), S("ены"), S("ить"), S("ыть"),
    S("ишь"), S("ую"), S("ю"),
};
static const struct sfx noun[] = {
    S("а"), S("ев"), S("ов"), S("ие"), S("ье"), S("е"), S("иями"), S("ями"), S("ами"),
    S("еи"), S("ии"), S("и"), S("ией"), S("ей"), S("ой"), S("ий"), S("й"), S("иям"),
    S("ям"), S("ием"), S("ем"), S("ам"), S("ом"), S("о"), S("у"), S("ах"), S("иях"),
    S("ях"), S("ы"), S("ь"), S("ию"), S("ью"), S("ю"), S("ия"), S("ья"), S("я"),
};

#undef S
#undef A

/* A table of endings indexed by last letter: every ending ends with a
 * two-byte letter (D0 or D1, then 80..BF: 128 of them), and the endings of
 * one letter are listed longest first, so the first that fits is the
 * longest. Built once (index_build) from the tables above. */
#define MAX_AMONG 64
_Static_assert(sizeof verb / sizeof verb[0] <= MAX_AMONG &&
                   sizeof noun / sizeof noun[0] <= MAX_AMONG &&
                   sizeof adjective / sizeof adjective[0] <= MAX_AMONG,
               "an ending table longer than MAX_AMONG");
struct among {
    const struct sfx *t;
    size_t nt;
    uint8_t start[129];        /* endings of letter k: order[start[k]..start[k + 1]) */
    uint8_t order[MAX_AMONG];
    /* for order[k]'s ending of len <= TAIL_MAX bytes: its bytes before the
     * last letter as they stand in the eight bytes of a word that end where
     * its last letter starts (so the high lanes), and their mask; longest()
     * compares them in one test, not in a loop whose exit (at a length and
     * a mismatch no predictor knows) missed some 30 times a Russian text */
    uint64_t tail[MAX_AMONG], tmask[MAX_AMONG];
};
#define TAIL_MAX 10

#define AMONG_OF(x) {x, sizeof(x) / sizeof(x[0]), {0}, {0}, {0}, {0}}
static struct among a_gerund = AMONG_OF(gerund), a_adjective = AMONG_OF(adjective),
                    a_participle = AMONG_OF(participle), a_reflexive = AMONG_OF(reflexive),
                    a_verb = AMONG_OF(verb), a_noun = AMONG_OF(noun);
#undef AMONG_OF
#define AMONG(t) (&a_##t)

static inline unsigned letter_key(unsigned char z2, unsigned char z1)
{
    return (unsigned)(z2 & 1) << 6 | (z1 & 0x3Fu);
}

static void among_build(struct among *a)
{
    size_t k = 0;
    for (unsigned key = 0; key < 128; key++) {
        a->start[key] = (uint8_t)k;
        /* longest first; among equal lengths, table order */
        for (unsigned l = 255; l > 0; l--)
            for (size_t i = 0; i < a->nt; i++) {
                const unsigned char *e = (const unsigned char *)a->t[i].s;
                size_t n = a->t[i].len;
                if (n == l && letter_key(e[n - 2], e[n - 1]) == key) {
                    a->tail[k] = a->tmask[k] = 0;
                    for (size_t b = 0; n <= TAIL_MAX && b + 2 < n; b++) {
                        unsigned lane = (unsigned)(TAIL_MAX - n + b);
                        a->tail[k] |= (uint64_t)e[b] << (8 * lane);
                        a->tmask[k] |= (uint64_t)0xFF << (8 * lane);
                    }
                    a->order[k++] = (uint8_t)i;
                }
            }
    }
    a->start[128] = (uint8_t)k;
}

static pthread_once_t index_once = PTHREAD_ONCE_INIT;
/* set when the tables are built: a word then asks no pthread_once(), a
 * call through the PLT */
static int index_built;

static void index_build(void)
{
    struct among *all[] = {&a_gerund, &a_adjective, &a_participle, &a_reflexive,
                           &a_verb, &a_noun};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        among_build(all[i]);
    __atomic_store_n(&index_built, 1, __ATOMIC_RELEASE);
}

/* Vowels by table, two loads and an AND a character: lead[] gives a
 * character's first byte its byte length (the high six bits; UTF-8,
 * possibly not valid: 1 below C0, 2 for C0..DF, 3 for E0..EF, 4 above) and
 * a bit for D0 (1) or D1 (2); vowel_after[] gives a continuation byte the
 * bit of each of those leads it makes a vowel with: а е и о (D0 B0 B5 B8
 * BE) and у ы э ю я ё (D1 83 8B 8D 8E 8F 91). No branch on a letter: a
 * chain of compares there mispredicted 91 -> 70 times a Russian text, and
 * the bit test with char_len()'s compares that this replaces ran some 29
 * instructions a character. */
#define LEN4(b, l) [b] = (l) << 2, [b + 1] = (l) << 2, [b + 2] = (l) << 2, [b + 3] = (l) << 2
#define LEN16(b, l) LEN4(b, l), LEN4(b + 4, l), LEN4(b + 8, l), LEN4(b + 12, l)
#define LEN64(b, l) LEN16(b, l), LEN16(b + 16, l), LEN16(b + 32, l), LEN16(b + 48, l)
static const unsigned char lead[256] = {
    LEN64(0x00, 1), LEN64(0x40, 1), LEN64(0x80, 1), LEN16(0xC0, 2),
    [0xD0] = 2 << 2 | 1, [0xD1] = 2 << 2 | 2, [0xD2] = 2 << 2, [0xD3] = 2 << 2,
    LEN4(0xD4, 2), LEN4(0xD8, 2), LEN4(0xDC, 2), LEN16(0xE0, 3), LEN16(0xF0, 4),
};
#undef LEN4
#undef LEN16
#undef LEN64
static const unsigned char vowel_after[256] = {
    [0xB0] = 1, [0xB5] = 1, [0xB8] = 1, [0xBE] = 1,
    [0x83] = 2, [0x8B] = 2, [0x8D] = 2, [0x8E] = 2, [0x8F] = 2, [0x91] = 2,
};

/* The character at w[i] (i < n): its byte length (not clamped to the word;
 * the loops below stop at its end) in *len, and whether it is a vowel. The
 * byte after it is read at w[i + 1] when there is one, else at w[i] again
 * (a lead byte, so no vowel): a select, not a branch on the word's end. */
static inline int vowel_at(const unsigned char *w, size_t i, size_t n, size_t *len)
{
    unsigned l = lead[w[i]];
    *len = l >> 2;
    return (l & vowel_after[w[i + (i + 1 < n)]]) != 0;
}

/* Offset just past the first vowel at or after i, or n. (A vowel is two
 * bytes within the word, so the offset past it is at most n.) */
static size_t past_vowel(const unsigned char *w, size_t i, size_t n)
{
    while (i < n) {
        size_t k;
        int v = vowel_at(w, i, n, &k);
        i += k;
        if (v)
            return i;
    }
    return n;
}

/* Offset just past the first non-vowel at or after i, or n (a character
 * cut short by the word's end ends at n). */
static size_t past_nonvowel(const unsigned char *w, size_t i, size_t n)
{
    while (i < n) {
        size_t k;
        int v = vowel_at(w, i, n, &k);
        i += k;
        if (!v)
            return i < n ? i : n;
    }
    return n;
}

/* Which of the letters U+0400..U+047F are vowels, by cp - 0x400: а е и о
 * у ы э ю я ё, as vowel_after[] says. */
static const unsigned char vowel_key[0x80] = {
    [0x30] = 1, [0x35] = 1, [0x38] = 1, [0x3E] = 1, [0x43] = 1, [0x4B] = 1,
    [0x4D] = 1, [0x4E] = 1, [0x4F] = 1, [0x51] = 1,
};

/* RV and R1 of a word of eight bytes or more from its first four letters
 * when they are U+0400..U+047F, with a vowel among them and a non-vowel
 * after it, as bits: the loops of past_vowel() and past_nonvowel() stop at
 * a letter no predictor knows (some 1.5 mispredicts a word). 0 when it
 * cannot tell. */
static inline int head_regions(const unsigned char *w, size_t *rv, size_t *r1)
{
    uint64_t x;
    memcpy(&x, w, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x);          /* the first byte in the low lane */
#endif
    if ((x & 0xC0FEC0FEC0FEC0FEull) != 0x80D080D080D080D0ull)
        return 0;
    /* each letter's cp - 0x400 in a 16-bit lane */
    uint64_t k = (x & 0x0001000100010001ull) << 6 | ((x >> 8) & 0x003F003F003F003Full);
    unsigned v = vowel_key[k & 0x7F] | vowel_key[(k >> 16) & 0x7F] << 1 |
                 vowel_key[(k >> 32) & 0x7F] << 2 | vowel_key[(k >> 48) & 0x7F] << 3;
    unsigned first = (unsigned)__builtin_ctz(v | 16);
    unsigned after = ~v & 15 & (~0u << (first + 1));
    if (!after)
        return 0;
    *rv = 2 * (first + 1);
    *r1 = 2 * ((unsigned)__builtin_ctz(after) + 1);
    return 1;
}

/* The longest ending of a that ends w[0..n) and starts at or after lim;
 * NULL when none. Inlined into each of step 1's six calls (as is
 * remove_among()), so that each table's branches, taken in their own way
 * (the gerunds' loop hardly ever runs, the nouns' often), have their own
 * history: one shared copy mispredicted some 1.2 more a word. */
static inline __attribute__((always_inline)) const struct sfx *longest(const unsigned char *w, size_t n, size_t lim,
                                 const struct among *a)
{
    unsigned char z1 = w[n - 1], z2 = w[n - 2];
    /* every ending ends with a two-byte Cyrillic letter */
    /* one branch: a branch on each byte followed the word's last letter
     * (D0 for а-п, D1 for р-я), unpredictable */
    if (((z2 | 1) != 0xD1) | ((z1 & 0xC0) != 0x80))
        return NULL;
    unsigned key = letter_key(z2, z1);
    /* the word's eight bytes before its last letter (lanes as in a->tail;
     * the bytes before a short word are the caller's zeros, which no
     * ending has) */
    uint64_t tail;
    memcpy(&tail, w + n - TAIL_MAX, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    tail = __builtin_bswap64(tail);    /* the first byte in the low lane */
#endif
    for (unsigned k = a->start[key]; k < a->start[key + 1]; k++) {
        const struct sfx *x = &a->t[a->order[k]];
        size_t l = x->len;
        if (l <= TAIL_MAX) {    /* l > n: a zero byte differs */
            if ((((tail ^ a->tail[k]) & a->tmask[k]) != 0) | (n - l < lim))
                continue;
            return x;
        }
        if (l > n || n - l < lim)
            continue;
        /* the last letter is equal (key): the bytes before it, a handful */
        const unsigned char *p = w + n - l, *q = (const unsigned char *)x->s;
        size_t i = 0;
        while (i + 2 < l && p[i] == q[i])
            i++;
        if (i + 2 >= l)
            return x;
    }
    return NULL;
}

/* w[0..n) ends with the len bytes s, at or after lim. The word has
 * WORD_PAD bytes before it that no ending has (stem_ru_class()), so there is
 * no length test, and no branch between the two tests: a shorter word's
 * n - len wraps, but its bytes differ. */
static inline int ends_with_bytes(const unsigned char *w, size_t n, size_t lim, const char *s,
                                  size_t len)
{
    return (n - len >= lim) & (memcmp(w + n - len, s, len) == 0);
}

/* ... with the three letters s (six bytes), in one eight-byte test, the
 * two bytes before them masked: memcmp() of six bytes is two tests and a
 * branch between them. */
static inline int ends_with3(const unsigned char *w, size_t n, size_t lim, const char *s)
{
    uint64_t x, want = 0, mask;
    memcpy(&x, w + n - 8, 8);
    memcpy((char *)&want + 2, s, 6);
    memcpy(&mask, "\0\0\xff\xff\xff\xff\xff\xff", 8);
    return (n - 6 >= lim) & (((x ^ want) & mask) == 0);
}

/* ... with the letter s (two bytes) */
static inline int ends_with(const unsigned char *w, size_t n, size_t lim, const char *s)
{
    return ends_with_bytes(w, n, lim, s, 2);
}

/* ... with the two letters s (four bytes). */
static inline int ends_with2(const unsigned char *w, size_t n, size_t lim, const char *s)
{
    return ends_with_bytes(w, n, lim, s, 4);
}

/* Remove the longest ending of t found in RV, honouring the "after а or я"
 * condition. Returns 1 and shortens *n when something was removed. */
static inline __attribute__((always_inline)) int remove_among(const unsigned char *w, size_t *n, size_t rv, const struct among *a)
{
    const struct sfx *e = longest(w, *n, rv, a);
    if (!e)
        return 0;
    size_t at = *n - e->len;
    /* one branch, not one on each test */
    if (e->after_a & !(ends_with(w, at, rv, "а") | ends_with(w, at, rv, "я")))
        return 0;
    *n = at;
    return 1;
}

#define WORD_PAD 16
#define WORD_COPY 64
_Static_assert(WORD_PAD >= TAIL_MAX && WORD_COPY - 36 >= WORD_PAD, "the padding before a word");

size_t analyzer_stem_ru(const char *word, size_t n)
{
    return analyzer_stem_ru_class(word, n, NULL);
}

size_t analyzer_stem_ru_class(const char *word, size_t n, int *cls)
{
    const unsigned char *w = (const unsigned char *)word;
    /* a word of up to WORD_COPY bytes is copied after WORD_PAD zeros, so that
     * the endings' tests read the bytes before a short word without testing
     * its length; a longer one stays longer than WORD_PAD through the steps,
     * which remove 36 bytes at most */
    unsigned char copy[WORD_PAD + WORD_COPY];
    if (n - 8 <= 24) {
        /* most words: four eight-byte moves that overlap as the length
         * needs, not memcpy()'s branches on it */
        size_t m = n - 8, b = m < 8 ? m : 8, c = m < 16 ? m : 16;
        uint64_t x0, x1, x2, x3;
        memcpy(&x0, word, 8);
        memcpy(&x1, word + b, 8);
        memcpy(&x2, word + c, 8);
        memcpy(&x3, word + m, 8);
        memset(copy, 0, WORD_PAD);
        memcpy(copy + WORD_PAD, &x0, 8);
        memcpy(copy + WORD_PAD + b, &x1, 8);
        memcpy(copy + WORD_PAD + c, &x2, 8);
        memcpy(copy + WORD_PAD + m, &x3, 8);
        w = copy + WORD_PAD;
    } else if (n <= WORD_COPY) {
        memset(copy, 0, WORD_PAD);
        memcpy(copy + WORD_PAD, word, n);
        w = copy + WORD_PAD;
    }
    if (!__atomic_load_n(&index_built, __ATOMIC_ACQUIRE))
        pthread_once(&index_once, index_build);
    size_t rv, r1;
    if (n < 8 || !head_regions(w, &rv, &r1)) {
        rv = past_vowel(w, 0, n);
        r1 = past_nonvowel(w, rv, n);
    }
    size_t r2 = past_nonvowel(w, past_vowel(w, r1, n), n);
    int c = RU_ANY;
    if (rv >= n) {
        if (cls)
            *cls = c;
        return n;
    }

    /* step 1; which kind of ending went tells verbs from nouns and adjectives */
    if (remove_among(w, &n, rv, AMONG(gerund))) {
        c = RU_VERBAL;
    } else {
        if (remove_among(w, &n, rv, AMONG(reflexive)))
            c = RU_VERBAL;
        if (remove_among(w, &n, rv, AMONG(adjective)))
            c = remove_among(w, &n, rv, AMONG(participle)) || c == RU_VERBAL ? RU_VERBAL
                                                                             : RU_NOMINAL;
        else if (remove_among(w, &n, rv, AMONG(verb)))
            c = RU_VERBAL;
        else if (remove_among(w, &n, rv, AMONG(noun)))
            c = c == RU_VERBAL ? RU_VERBAL : RU_NOMINAL;
    }
    if (cls)
        *cls = c;
    /* Steps 2 to 4 by arithmetic on the tests, not branches on them (they
     * missed some 12 times a Russian text): the endings each step tests end with
     * different letters, so at most one of them is there.
     * step 2 */
    n -= 2 * (size_t)ends_with(w, n, rv, "и");
    /* step 3: a derivational ending wholly inside R2 (R2 lies within RV).
     * Steps 3 and 4 test their few endings directly: each has one ending
     * per last letter, and longest()'s lookup cost them some 190
     * instructions and 2 mispredicts a word */
    n -= 8 * (size_t)ends_with_bytes(w, n, r2, "ость", 8) +
         6 * (size_t)ends_with3(w, n, r2, "ост");
    /* step 4: "ейше" or "ейш" goes, then "нн" loses a letter; else "нн"
     * loses one (a word ending "нн" ends with "н"), else "ь" goes */
    size_t soft = (size_t)ends_with(w, n, rv, "ь");
    n -= 8 * (size_t)ends_with_bytes(w, n, rv, "ейше", 8) +
         6 * (size_t)ends_with3(w, n, rv, "ейш");
    n -= 2 * (size_t)ends_with2(w, n, rv, "нн");
    n -= 2 * soft;
    return n;
}
