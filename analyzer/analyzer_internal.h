/* analyzer_internal.h -- what the files of analyzer/ share; private to the
 * module and its unit tests.
 *
 *   utf8.c       UTF-8 validation, repair, decoding, a small case table
 *   lang.c       language guess from scripts, letters and stop words
 *   stem_ru.c    the Snowball Russian stemmer (inflected forms)
 *   lexicon.c    the VADER lexicons, the Russian lexicon and the word lists
 *                of every language in open-addressing hash tables
 *   sentiment.c  the VADER algorithm over a lexicon, Russian included
 *   rules.c      the .rules language, compiled to PCRE2, and its matcher
 *   prefilter.c  required words of patterns: which rules can match a text
 *   complaint.c  the complaint cues (*.cues files): a word trie, token
 *                patterns, and the complaint score
 *   simhash.c    64-bit SimHash of word shingles, for near-duplicates
 *   analyzer.c   the public API gluing these together
 *
 * Every symbol here carries the analyzer_ prefix so that the module can
 * share libctx.a with the rest of the tree without collisions. */
#ifndef CTX_ANALYZER_INTERNAL_H
#define CTX_ANALYZER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "analyzer/analyzer.h"
#include "core/mem.h"
#include "core/utf8.h"

/* ---- utf8.c ------------------------------------------------------------ */

/* The codec is core/utf8.h; utf8.c holds letter case only. */
/* Letter case of a code point, for the scripts this module cares about
 * (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic); others are uncased. */
enum { UC_NONE = 0, UC_LOWER, UC_UPPER };
int analyzer_uc_case(uint32_t cp);
/* Lower-case mapping that keeps the UTF-8 length of the character. */
uint32_t analyzer_uc_lower(uint32_t cp);

/* Byte ranges [v[i][0], v[i][1]) of a text; a few without allocating. */
struct analyzer_spans {
    size_t (*v)[2];
    size_t n, cap;
    size_t local[32][2];
};

static inline void analyzer_spans_init(struct analyzer_spans *sp)
{
    sp->v = sp->local;
    sp->n = 0;
    sp->cap = sizeof sp->local / sizeof sp->local[0];
}

static inline void analyzer_spans_free(struct analyzer_spans *sp)
{
    if (sp->v != sp->local)
        free(sp->v);
    analyzer_spans_init(sp);
}

/* Append [a, b). */
void analyzer_spans_add(struct analyzer_spans *sp, size_t a, size_t b);

/* ---- lang.c ------------------------------------------------------------ */

/* The languages told apart. Latin-script text is English unless German,
 * French or Spanish stop words or letters say otherwise; Cyrillic text is
 * Russian unless Ukrainian ones do. */
enum lang_id { LANG_NONE = 0, LANG_EN, LANG_RU, LANG_UK, LANG_DE, LANG_FR, LANG_ES,
               LANG__COUNT };

/* Evidence gathered while tokenizing: letters by script, and per language
 * the stop words seen and the letters only that language uses. */
struct lang_votes {
    uint32_t latin, cyrillic, other;
    uint32_t stop[LANG__COUNT];
    uint32_t letter[LANG__COUNT];
    uint32_t rare;              /* characters (or bytes not UTF-8) other than
                                   ASCII and U+0400..U+047F */
};

/* Count the letters of s[0..len) into v (scripts and telltale letters, and
 * the characters that are neither ASCII nor U+0400..U+047F: v->rare). */
void analyzer_lang_letters(const unsigned char *s, size_t len, struct lang_votes *v);
/* The decision, pure. */
enum lang_id analyzer_lang_decide(const struct lang_votes *v);
/* "en", "ru", ... or NULL for LANG_NONE. A static string. */
const char *analyzer_lang_code(enum lang_id l);

/* Stop-word lists, for lexicon.c to flag entries with: NULL-terminated. */
extern const char *const *const analyzer_lang_stopwords[LANG__COUNT];

/* ---- stem_ru.c --------------------------------------------------------- */

/* Length in bytes of the stem of a lower-case Russian word (UTF-8, "ё"
 * written "е"): the Snowball algorithm only removes endings, so the stem is
 * word[0..result). */
size_t analyzer_stem_ru(const char *word, size_t len);
/* The same, and the kind of ending step 1 of the algorithm removed: verbal
 * (verb, gerund, participle, reflexive), nominal (noun, adjective) or none. */
enum { RU_ANY = 0, RU_VERBAL = 1, RU_NOMINAL = 2 };
size_t analyzer_stem_ru_class(const char *word, size_t len, int *cls);

/* ---- lexicon.c --------------------------------------------------------- */

#define LEX_VALENCE  0x1u  /* the word has a valence (a lexicon lists it as polar) */
#define LEX_NEGATE   0x2u  /* a negation: VADER's list, or не, нет, ни, без */
#define LEX_CONTRAST 0x4u  /* "but" and the contrast words that act like it */
#define LEX_RU       0x8u  /* from the Russian lexicon or word lists */
#define LEX_FUNC     0x10u /* a function word: never a valence, never stemmed */
#define LEX_STEM     0x20u /* an entry of the stem table (Russian) */
#define LEX_CONCESSIVE 0x40u /* "although", "though", "whereas": a clause that concedes */
#define LEX_IRREALIS 0x80u /* "would", "could", "if"...: what follows is not so */
#define LEX_PHRASE   0x100u /* a word of an idiom or a multi-word dampener */
#define LEX_KNOWN    0x200u /* a word of the language (for cutting #hashtags into words):
                               VADER's, en_extra.tsv's */
#define LEX_GRATITUDE 0x400u /* "thanks", "appreciate", "спасибо" */
#define LEX_SARCASM  0x800u /* "#sarcasm", "/s": the praise around it is not meant */
#define LEX_REQUEST  0x1000u /* "please", "kindly", "dm": the post asks for something */
#define LEX_LIKE_SUBJ 0x2000u /* before "like", makes it the verb: "I like" */
#define LEX_GREETING 0x4000u /* after "good", a greeting: "good morning" */
#define LEX_REMEDY   0x10000u /* "finding", "fixed", "rebooked", "нашли": what undoes a
                               failure ("thanks for finding my lost bag") */
#define LEX_WISH     0x20000u /* "love", "appreciate": after "would", a request */
#define LEX_WOULD    0x40000u /* "would", "i'd": what makes "love" a wish */
#define LEX_LAUGH    0x80000u /* "lol", "haha": tone in a post to someone, not praise */
#define LEX_UNSURE   0x100000u /* VADER's raters disagree: the mean of their marks is
                                less than one standard deviation from 0 */
#define LEX_LITOTES  0x200000u /* "bad": negated, mild praise ("not bad"), no denial */
#define LEX_CUE      0x8000u /* only a whole word of a complaint cue: there so that
                               the token's one lookup finds its cue words
                               (analyzer_lex_add_cue_word); not an entry for
                               the sentiment, whose token has none */

struct lex_entry {
    const char *key;     /* len bytes, as in the file (lookups are made with
                            lower-cased tokens, so only lower case is reachable) */
    uint32_t len;
    uint32_t flags;      /* LEX_* */
    double valence;      /* when LEX_VALENCE */
    double booster;      /* +B_INCR, B_DECR or 0 */
    const char *desc;    /* emoji table: the description */
    uint32_t desc_len;
    uint32_t langs;      /* bit (1 << lang_id): a stop word of that language */
    char head[16];       /* the first 16 bytes of key (zero-padded): most keys
                            compare here, without fetching the key itself */
};

#define LEX_IDX_BITS 20   /* a table holds fewer than 2^20 entries */
#define LEX_MAX_ENTRIES ((1u << LEX_IDX_BITS) - 1)   /* index + 1 fits its bits of a slot */
#define LEX_TAG_BITS 12
struct lex_table {
    uint32_t *slot;      /* (hash's top LEX_TAG_BITS bits << LEX_IDX_BITS) | (index + 1);
                            0 empty */
    uint32_t mask;
    struct lex_entry *v;
    uint32_t n, cap;
    uint32_t maxlen;     /* longest key in bytes */
};

/* Words the algorithm tests by identity. */
enum lex_word {
    LW_BUT, LW_NO, LW_KIND, LW_OF, LW_LEAST, LW_AT, LW_VERY, LW_NEVER,
    LW_SO, LW_THIS, LW_WITHOUT, LW_DOUBT, LW_OR, LW_NOR, LW_LIKE, LW__COUNT
};

/* A multi-word phrase (VADER's special cases and booster n-grams). */
struct lex_phrase {
    const struct lex_entry *w[3];
    unsigned n;
    double value;
};

#define LEX_MAX_PHRASES 16
#define RU_MIN_STEM     8   /* bytes: stems shorter than 4 letters are too
                               ambiguous to match by ("до", "бол", "люб") */

struct analyzer_lexicon {
    struct lex_table words;
    struct lex_table emoji;
    struct lex_table ru;                   /* Cyrillic words: lexicon and lists */
    struct lex_table ru_stems;             /* Snowball stem -> mean valence, of
                                              nouns and adjectives */
    struct lex_table ru_vstems;            /* the same, of verbs */
    size_t ru_words;                       /* polar words read from the Russian files */
    uint32_t emoji_max_cp;                 /* longest emoji key, code points */
    uint8_t *emoji_first;                  /* bitmap of first code points */
    bool emoji_cyrillic;                   /* some emoji key could match in text
                                              of ASCII and U+0400..U+047F alone
                                              (lang_votes.rare 0) */
    const struct lex_entry *w[LW__COUNT];
    struct lex_phrase special[LEX_MAX_PHRASES];
    unsigned nspecial;
    struct lex_phrase ngram[LEX_MAX_PHRASES];   /* "kind of", ... */
    unsigned nngram;
    char *files[6];                        /* the file contents keys point into */
    char **cue_keys;                       /* the keys of LEX_CUE entries */
    size_t ncue_keys;
    uint64_t *stem_heads;                  /* STEM_HEAD_BITS bits: bit lex_stem_head()
                                              of every key of ru_stems and ru_vstems
                                              (of RU_MIN_STEM bytes or more) */
};

#define STEM_HEAD_BITS 65536
/* Stem lookups are made with keys of RU_MIN_STEM bytes or more that start
 * with the word's first RU_MIN_STEM bytes: when their bit is not set in
 * lx->stem_heads, no stem of the word can be found. */
static inline uint32_t lex_stem_head(const char *w)
{
    uint64_t x;
    memcpy(&x, w, sizeof x);
    _Static_assert(RU_MIN_STEM == sizeof x, "a stem head is one 64-bit word");
    return (uint32_t)((x * 0x9E3779B97F4A7C15ull) >> 48);
}

/* Load vader_lexicon.txt and emoji_utf8_lexicon.txt from dir, and
 * ru_polsentilex.tsv when the folder has it (without it Russian words have
 * no valence). On failure returns NULL with "file:line: message" in err. */
struct analyzer_lexicon *analyzer_lexicon_load(const char *dir, char *err, size_t errlen);
void analyzer_lexicon_free(struct analyzer_lexicon *lx);

const struct lex_entry *analyzer_lex_find(const struct lex_table *t, const char *key,
                                          size_t len);

/* The hash of a key of up to 16 bytes, given as two 64-bit words (the
 * bytes past len zero): a few multiplications, no loop. */
static inline uint64_t analyzer_lex_hash16(uint64_t k0, uint64_t k1, size_t len)
{
    uint64_t h = (k0 * 0x9E3779B97F4A7C15ull) ^ (k1 * 0xC2B2AE3D27D4EB4Full) ^ len;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return h;
}

/* The hash of a key of 17 to 32 bytes given as its first sixteen (k0,
 * k1) and its last sixteen (k2, k3), which overlap unless len is 32: no
 * loop, and no branch on the length (a Russian word of nine to sixteen
 * letters). */
static inline uint64_t analyzer_lex_hash32(uint64_t k0, uint64_t k1, uint64_t k2, uint64_t k3,
                                           size_t len)
{
    return analyzer_lex_hash16(k0 ^ (k2 * 0xD6E8FEB86659FD93ull),
                               k1 ^ (k3 * 0xA0761D6478BD642Full), len);
}

/* The hash of any key, for the tables' slots: analyzer_lex_hash16() for
 * the short ones, analyzer_lex_hash32() for those up to 32 bytes. */
static inline uint64_t analyzer_lex_hash(const char *s, size_t n)
{
    if (n <= 16) {
        uint64_t k[2] = {0, 0};
        memcpy(k, s, n);
        return analyzer_lex_hash16(k[0], k[1], n);
    }
    if (n <= 32) {
        uint64_t k[4];
        memcpy(k, s, 16);
        memcpy(k + 2, s + n - 16, 16);
        return analyzer_lex_hash32(k[0], k[1], k[2], k[3], n);
    }
    uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)n * 0xFF51AFD7ED558CCDull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
        s += 8;
        n -= 8;
    }
    /* the last 0..7 bytes as one word without a variable-length copy: two
     * overlapping loads cover them all (n is in h, so this is one-to-one) */
    uint64_t w = 0;
    if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, s + n - 4, 4);
        w = (uint64_t)hi << 32 | lo;
    } else if (n) {
        const unsigned char *u = (const unsigned char *)s;
        w = (uint64_t)u[0] | (uint64_t)u[n / 2] << 8 | (uint64_t)u[n - 1] << 16;
    }
    h = (h ^ w) * 0x94D049BB133111EBull;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return h;
}

/* The entry of the key of len bytes (1..16) given as two 64-bit words,
 * the bytes past len zero, or NULL. For callers that have the key in
 * registers already. */
static inline __attribute__((always_inline)) const struct lex_entry *
analyzer_lex_find_words(const struct lex_table *t, uint64_t k0, uint64_t k1, size_t len)
{
    uint64_t h = analyzer_lex_hash16(k0, k1, len);
    uint32_t tag = (uint32_t)(h >> (64 - LEX_TAG_BITS));
    for (uint32_t i = (uint32_t)h & t->mask;; i = (i + 1) & t->mask) {
        uint32_t s = t->slot[i];
        if (!s)
            return NULL;
        if ((s >> LEX_IDX_BITS) == tag) {
            const struct lex_entry *e = &t->v[(s & ((1u << LEX_IDX_BITS) - 1)) - 1];
            uint64_t e0, e1;
            memcpy(&e0, e->head, 8);
            memcpy(&e1, e->head + 8, 8);
            /* the head is zero-padded: equal heads and lengths, equal keys */
            if (e->len == len && e0 == k0 && e1 == k1)
                return e;
        }
    }
}

/* analyzer_lex_find() for a key with 16 bytes readable at key (whatever is
 * past len): keys of up to 16 bytes compare with the entry's head in two
 * 64-bit words, without a loop. Inline, for the tokenizer. */
static inline __attribute__((always_inline)) const struct lex_entry *
analyzer_lex_find16(const struct lex_table *t, const char *key, size_t len)
{
    if (len > t->maxlen || !t->slot)
        return NULL;
    if (len > sizeof t->v->head)
        return analyzer_lex_find(t, key, len);
    uint64_t k0, k1;
    memcpy(&k0, key, 8);
    memcpy(&k1, key + 8, 8);
    k0 &= len >= 8 ? ~0ull : (1ull << (8 * len)) - 1;
    k1 &= len >= 16 ? ~0ull : len <= 8 ? 0 : (1ull << (8 * (len - 8))) - 1;
    return analyzer_lex_find_words(t, k0, k1, len);
}
/* Make the lower-case word key[0..len) an entry of its table (lx->ru or
 * lx->words), flagged LEX_CUE when it was none, unless it is longer than
 * every key there (tokens that long are not looked up). Entries may move:
 * pointers into the tables taken before are stale, lx's own are kept up
 * to date. -1 when the table is full. */
int analyzer_lex_add_cue_word(struct analyzer_lexicon *lx, const char *key, size_t len);

/* Are the eight bytes at p four small letters а..я (D0 B0..BF, D1 80..8F),
 * letters that are their own lower case and fold to themselves? Most of a
 * Russian text is such runs; the tokenizer and the prefilter take them four
 * at a time. In each 16-bit lane (lead byte low), with the continuation's
 * low nibble masked off, x = lane ^ B0D0 is 0 for D0 Bx, and 3001 for D1 8x
 * (B0D0 ^ 80D1): bits 0, 12 and 13 all set or all clear, nothing else. */
static inline uint64_t analyzer_cyr_small_x(uint64_t w)
{
    return (w & 0xF0FFF0FFF0FFF0FFull) ^ 0xB0D0B0D0B0D0B0D0ull;
}

/* The test of analyzer_cyr_small4() on x = analyzer_cyr_small_x() of the
 * eight bytes; a lane of x that is 0 passes (a caller masks the lanes past
 * a shorter word to 0). */
static inline int analyzer_cyr_small_lanes(uint64_t x)
{
    if (x & ~0x3001300130013001ull)
        return 0;
    uint64_t b0 = x & 0x0001000100010001ull;
    return ((b0 ^ (x >> 12)) & 0x0001000100010001ull) == 0 &&
           ((b0 ^ (x >> 13)) & 0x0001000100010001ull) == 0;
}

static inline int analyzer_cyr_small4(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return analyzer_cyr_small_lanes(analyzer_cyr_small_x(w));
}

/* Which table a (lower-case) key belongs to: Cyrillic keys (first byte of
 * U+0400..U+047F) go to lx->ru, the rest to lx->words. */
static inline int analyzer_lex_is_ru(const char *key)
{
    unsigned char c = (unsigned char)key[0];
    return c == 0xD0 || c == 0xD1;
}

/* ---- tokens (sentiment.c makes them, complaint.c reads them) ----------- */

#define TOK_CUE_IDS 4          /* cue words one token can be at once */

/* Why a token carries no sentiment: it names someone or something. */
enum tok_skip { SKIP_NONE = 0, SKIP_HANDLE, SKIP_URL, SKIP_EMAIL, SKIP_CASHTAG, SKIP_BRAND,
                SKIP_HASHTAG_BRAND };

struct analyzer_tok {
    const struct lex_entry *e;  /* the lower-cased token's entry, or NULL */
    uint32_t off, len;          /* where the token is in the scored text */
    uint32_t orig;              /* where it starts in the text as given (before emoji
                                   were replaced by their descriptions) */
    uint32_t sent;              /* sentence number */
    uint8_t upper;              /* Python's str.isupper() */
    uint8_t nt;                 /* contains "n't" */
    uint8_t eos;                /* ends a sentence: . ! ? ; or an ellipsis after it */
    uint8_t clause;             /* ends a clause: , : or eos */
    uint8_t letters;            /* has letters */
    uint8_t cyr;                /* Cyrillic letters */
    uint8_t proper;             /* a capitalised Russian word inside a sentence */
    uint8_t emoji;              /* a word of an emoji's description */
    uint8_t skip;               /* enum tok_skip */
    uint8_t hashtag;            /* a word found inside a #hashtag */
    uint8_t question;           /* in a sentence that ends with "?" */
    uint8_t neg;                /* a negation: not, n't, never, no, не, нет... */
    uint8_t num;                /* a number: digits, or a number word of the cues */
    uint8_t ncue;               /* cue word ids in cue[] */
    uint16_t cue[TOK_CUE_IDS];
    uint16_t pf;                /* cue_word.pf of the entry whose key the lower-cased
                                   token is, whatever it is for (LEX_CUE ones too) */
};

/* ---- complaint.c ------------------------------------------------------- */

struct analyzer_cues;

/* Parse the *.cues files of each folder of dirs (NULL-terminated; a folder
 * without any is fine, one that cannot be read is an error). On failure
 * CTX_EPARSE with "file:line:col: message" in err, or CTX_EIO with
 * "path: reason" for a folder or file that cannot be read. */
ctx_err analyzer_cues_load(const char *const *dirs, struct analyzer_cues **out, char *err,
                           size_t errlen);
void analyzer_cues_free(struct analyzer_cues *c);
size_t analyzer_cues_count(const struct analyzer_cues *c);

/* The cue words the lower-cased token low[0..n) is (whole words and word
 * beginnings written "word*"): their ids into ids[], the count returned;
 * *num is set when it is a number word. c may be NULL (no cues). */
unsigned analyzer_cues_word(const struct analyzer_cues *c, const char *low, size_t n,
                            uint16_t ids[TOK_CUE_IDS], uint8_t *num);
/* The same for a word that is no whole cue word (nor number word): only
 * the word beginnings ("word*") it starts with can be among its ids. */
unsigned analyzer_cues_prefixes(const struct analyzer_cues *c, const char *low, size_t n,
                                uint16_t ids[TOK_CUE_IDS]);
/* fn(ud, word, len) for every whole cue word and number word, lower case
 * as the trie holds it; stops at the first -1 of fn and returns it. */
int analyzer_cues_each_word(const struct analyzer_cues *c,
                            int (*fn)(void *ud, const char *w, size_t n), void *ud);
/* Is this a whole word of some cue (for hashtag segmentation)? */
int analyzer_cues_is_word(const struct analyzer_cues *c, const char *low, size_t n);

struct cue_hit {
    uint32_t cue;               /* index, for analyzer_cues_explain */
    uint16_t reason;
    float weight;
    uint32_t first, last;       /* tokens [first, last] */
};

/* Every cue that matches tokens t[0..n) of a text in language lang (NULL:
 * unknown, cues restricted to languages are skipped), at most max, in token
 * order. A cue not written with a negation is cancelled by one of the two
 * tokens before it ("not delayed", "no problem"). */
size_t analyzer_cues_match(const struct analyzer_cues *c, const struct analyzer_tok *t,
                           size_t n, const char *lang, struct cue_hit *hits, size_t max);
const char *analyzer_cues_reason(const struct analyzer_cues *c, unsigned reason);
/* "file:line" and the cue as written, for explanations. */
void analyzer_cues_where(const struct analyzer_cues *c, uint32_t cue, const char **file,
                         int *line, const char **src);

/* The complaint tag from what the scorer found: the cues, and the words'
 * compound. Reasons are cue reason ids, strongest first, or
 * COMPLAINT_NEGATIVE when nothing but the words' sentiment made it one. */
#define COMPLAINT_NEGATIVE 0xFFFFu
#define COMPLAINT_MAX_REASONS 8
struct sentiment;
struct complaint {
    double score;          /* 0..1 */
    bool label;            /* score >= 0.5 */
    uint16_t reasons[COMPLAINT_MAX_REASONS];
    size_t nreasons;
};
void analyzer_complaint(const struct sentiment *st, struct complaint *out);

/* ---- sentiment.c ------------------------------------------------------- */

/* What analyzer_cues_word() says of one word, kept for every key of a
 * lexicon table so that a token found in it needs no walk of the cue trie. */
struct cue_word {
    uint16_t cue[TOK_CUE_IDS];
    uint16_t pf;           /* with rules, what their prefilter finds at a word
                              that is this key: analyzer_tok.pf (cue_word is
                              the table the token reads anyway) */
    uint8_t ncue;
    uint8_t num;
};

/* analyzer_tok.pf and cue_word.pf: 1 + the word's analyzer_prefilter_word()
 * list, 0 when the prefilter must look at the word itself, and whether the
 * key has е, which a text's ё is looked up as (such a word is known only
 * where it has no ё: the prefilter does not fold ё to е) */
#define LEX_PF_YO    0x8000u
#define LEX_PF_LIST  0x7FFFu

/* What the scorer needs besides the lexicon; every field may be 0. */
struct sentiment_opts {
    const struct analyzer_cues *cues;   /* complaint cues (they also weigh as
                                           negative words), or NULL */
    /* analyzer_cues_word() of cues for each entry of lx->words ([0]) and
     * lx->ru ([1]), by index; NULL: ask it. When set, the tables hold every
     * whole cue word they can (analyzer_lex_add_cue_word), so that a token
     * that is not a key has only word beginnings to look for */
    const struct cue_word *cue_words[2];
    const char *const *brands;          /* lower-case brand names: inside a
                                           #hashtag they are not opinion */
    size_t nbrands;
    /* Called once the language is known ("en", or NULL), before scoring:
     * adds the byte spans of the text as given that name a brand (a brand
     * rule matched them) to mask; their words carry no sentiment. The
     * tokens t[0..n) are there to be read: their offsets are in s, which
     * is the text as given unless emoji were replaced. */
    void (*mask)(void *ud, const char *lang, const struct analyzer_tok *t, size_t n,
                 const char *s, struct analyzer_spans *mask);
    void *ud;
};

#define SENT_MAX_HITS 32
#define CUE_VALENCE   (-2.0)   /* a cue of weight 1 weighs as "bad" (-2.5) nearly */
#define CUE_VALENCE_MIN 0.5    /* weaker cues are evidence of a complaint only */

/* The sentiment of a text and the language it was read as. */
struct sentiment {
    double score;          /* compound in [-1, 1], complaint cues included */
    double words;          /* the compound of the words alone, without cues */
    enum lang_id lang;
    struct cue_hit hits[SENT_MAX_HITS];   /* the complaint cues found */
    size_t nhits;
};

/* Score s[0..len) into *out. When explain is not NULL, one object per
 * scored word, the cues, the skipped words and the totals are added to it
 * (see analyzer_explain()). opt may be NULL. */
void analyzer_sentiment(const struct analyzer_lexicon *lx, const struct sentiment_opts *opt,
                        const char *s, size_t len, struct sentiment *out, json_t *explain);

/* ---- rules.c ----------------------------------------------------------- */

struct analyzer_rules;

/* Parse and compile every *.rules file of dir (in name order). On failure
 * returns CTX_EPARSE with "file:line:col: message" in err and *out NULL
 * (CTX_EIO when dir cannot be read, CTX_ETOOBIG past 2^30 patterns, with
 * "dir: message"). */
ctx_err analyzer_rules_load(const char *dir, struct analyzer_rules **out, char *err,
                            size_t errlen);
/* The files of dir whose names end in ext, sorted, as a NULL-terminated
 * malloc'd array of malloc'd "dir/name" paths; NULL with "dir: reason" in
 * err when dir cannot be read. */
char **analyzer_list_files(const char *dir, const char *ext, char *err, size_t errlen);
/* The names of the brand rules, one each, in rule order (pointers into rs). */
size_t analyzer_rules_brands(const struct analyzer_rules *rs, const char **names, size_t max);
void analyzer_rules_free(struct analyzer_rules *rs);

/* Apply the rules to s[0..len), which must be valid UTF-8 (it is matched
 * with PCRE2_NO_UTF_CHECK). lang restricts rules that name languages; NULL
 * means unknown (such rules are skipped). Adds to out->brands, out->topics
 * and sets out->urgent (when the weights of the urgent rules that fired add
 * up to 1 or more). When brand_at is not NULL, the span of every occurrence
 * of a brand that counted is added to it (those words name the brand: they
 * carry no sentiment). When explain is not NULL, an object per rule that fired
 * is appended to it. flags: RULES_NO_PREFILTER runs every rule (tests).
 * Always CTX_OK. */
#define RULES_NO_PREFILTER 0x1
ctx_err analyzer_rules_apply(const struct analyzer_rules *rs, const char *s, size_t len,
                             const char *lang, struct tags *out, struct analyzer_spans *brand_at,
                             json_t *explain, int flags);

/* analyzer_rules_apply(), with the tokens of s (see
 * analyzer_prefilter_scan_known(); t may be NULL). */
ctx_err analyzer_rules_apply_known(const struct analyzer_rules *rs, const char *s, size_t len,
                                   const struct analyzer_tok *t, size_t nt,
                                   const char *lang, struct tags *out,
                                   struct analyzer_spans *brand_at, json_t *explain, int flags);
/* analyzer_prefilter_word() of rs's patterns (PF_WORD_NONE without rules). */
uint32_t analyzer_rules_word(struct analyzer_rules *rs, const char *key, size_t len);
/* analyzer_prefilter_each_word() of rs's patterns. */
int analyzer_rules_each_word(const struct analyzer_rules *rs,
                             int (*fn)(void *ud, const char *w, size_t n), void *ud);

/* Matches abandoned because a PCRE2 limit (match, depth, heap, JIT stack)
 * was hit, since load. */
unsigned long analyzer_rules_aborts(const struct analyzer_rules *rs);
size_t analyzer_rules_count(const struct analyzer_rules *rs);

/* ---- prefilter.c ------------------------------------------------------- */

#define MAX_PF_LIT 64

struct analyzer_prefilter;
struct analyzer_prefilter *analyzer_prefilter_new(void);
void analyzer_prefilter_free(struct analyzer_prefilter *pf);
/* Add match pattern of rule number rule. -1 when rule is past the numbers
 * the prefilter holds (2^30 - 1). */
int analyzer_prefilter_add(struct analyzer_prefilter *pf, uint32_t rule, const char *pattern,
                           size_t len);
/* Set bit r of bits (nrules bits, zeroed by the caller) for every rule that
 * may match text (valid UTF-8). */
void analyzer_prefilter_scan(const struct analyzer_prefilter *pf, const char *text, size_t len,
                             uint64_t *bits);
/* Rules that run on every text (a pattern without required literals). */
size_t analyzer_prefilter_always(const struct analyzer_prefilter *pf);
/* analyzer_prefilter_scan(), and where the patterns with leads (below) may
 * match: for every word start of text where a leading literal of pattern p
 * is, (uint64_t)p << 32 | offset goes to hits, in text order, at most max of
 * them. Returns how many there were; more than max: do not rely on them. */
size_t analyzer_prefilter_scan_hits(const struct analyzer_prefilter *pf, const char *text,
                                    size_t len, uint64_t *bits, uint64_t *hits, size_t max);
#define PF_WORD_NONE UINT32_MAX
/* What the scan would find at a word start of the folded word key[0..len)
 * (lower-case ASCII word characters and а..я alone, else PF_WORD_NONE): a
 * list for analyzer_prefilter_scan_known(), numbered from 1 in the order
 * made; 0 when it finds nothing. PF_WORD_NONE when the word must be
 * scanned. Not thread-safe: at load. */
uint32_t analyzer_prefilter_word(struct analyzer_prefilter *pf, const char *key, size_t len);
/* fn(ud, w, n) for each literal the scan looks for at word starts that
 * analyzer_prefilter_word() takes (folded); stops at the first -1 of fn
 * and returns it. */
int analyzer_prefilter_each_word(const struct analyzer_prefilter *pf,
                                 int (*fn)(void *ud, const char *w, size_t n), void *ud);
#define PF_NOT_SURE SIZE_MAX
/* analyzer_prefilter_scan_hits(), the same results, with the tokens t[0..nt)
 * (in text order) that have a list (tok.pf: 1 + analyzer_prefilter_word()
 * of their lower case, with LEX_PF_YO when it has е) taken from their list
 * wherever the token is a whole word of text (its ends not word
 * characters) and, with LEX_PF_YO, has no ё; but the hits of patterns that
 * the lists, or the words the scan folds, say cannot match there are left
 * out, and for each hit k kept (k < max), ends[k] is where its match ends
 * when they say it matches (analyzer_prefilter_decide()'s answer, 1, and
 * its end), PF_NOT_SURE when they do not say. *words (when words is not
 * NULL) has bit w & 63 set for every w where bits[w] is not zero (and
 * perhaps others): with 64 words of bits or fewer, the words to look at. */
size_t analyzer_prefilter_scan_known(const struct analyzer_prefilter *pf, const char *text,
                                     size_t len, const struct analyzer_tok *t, size_t nt,
                                     uint64_t *bits, uint64_t *words, uint64_t *hits,
                                     size_t *ends, size_t max);
/* 1 when every match of pattern p starts where scan_hits() reports a hit of p
 * (its matches begin with one of a few words, or word prefixes). */
int analyzer_prefilter_leads(const struct analyzer_prefilter *pf, uint32_t p);
/* Whether pattern p (with leads) matches text at hit offset at, decided
 * without PCRE2, exactly as PCRE2 would: 1 (the match ends at *end), 0 (no
 * match starts there), -1 (not decided here: ask PCRE2). */
int analyzer_prefilter_decide(const struct analyzer_prefilter *pf, uint32_t p, const char *text,
                              size_t len, size_t at, size_t *end);
/* The required literals of one pattern (folded, NUL-terminated, at most max)
 * and whether each starts a word; -1 when the pattern requires none. For
 * tests and `ctxctl rules check -v`. */
int analyzer_prefilter_required(const char *pattern, size_t len, char (*lits)[MAX_PF_LIT + 1],
                                int *anchored, unsigned max);

/* ---- analyzer.c -------------------------------------------------------- */

/* analyzer_tag() with every rule run, no prefilter (for its property test). */
ctx_err analyzer_tag_unfiltered(const analyzer *a, const struct item *it, struct tags *out);


#endif
