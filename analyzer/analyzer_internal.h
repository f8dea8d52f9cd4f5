/* analyzer_internal.h -- what the files of analyzer/ share; private to the
 * module and its unit tests.
 *
 *   utf8.c       UTF-8 validation, repair, decoding, a small case table
 *   lang.c       script-based language guess ("en", "ru" or none)
 *   lexicon.c    the VADER lexicons in open-addressing hash tables
 *   sentiment.c  the VADER algorithm over a lexicon
 *   rules.c      the .rules language, compiled to PCRE2, and its matcher
 *   analyzer.c   the public API gluing these together
 *
 * Every symbol here carries the analyzer_ prefix so that the module can
 * share libctx.a with the rest of the tree without collisions. */
#ifndef CTX_ANALYZER_INTERNAL_H
#define CTX_ANALYZER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "analyzer/analyzer.h"

/* ---- utf8.c ------------------------------------------------------------ */

/* Length of the longest valid UTF-8 prefix of s (== len when all valid).
 * Valid means what PCRE2 accepts: no overlongs, surrogates or values past
 * U+10FFFF. */
size_t analyzer_utf8_valid_prefix(const char *s, size_t len);

/* A malloc'd, NUL-terminated copy of s in which every byte that is not part
 * of a valid sequence is replaced by U+FFFD; its length goes to *outlen.
 * NULL when out of memory. */
char *analyzer_utf8_repair(const char *s, size_t len, size_t *outlen);

/* Decode one code point at s (len > 0). Invalid input decodes as U+FFFD and
 * consumes one byte. The number of bytes consumed goes to *adv. */
uint32_t analyzer_utf8_decode(const unsigned char *s, size_t len, size_t *adv);

/* Letter case of a code point, for the scripts this module cares about
 * (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic); others are uncased. */
enum { UC_NONE = 0, UC_LOWER, UC_UPPER };
int analyzer_uc_case(uint32_t cp);
/* Lower-case mapping that keeps the UTF-8 length of the character. */
uint32_t analyzer_uc_lower(uint32_t cp);

/* ---- lang.c ------------------------------------------------------------ */

/* "en" when most letters of s are Latin, "ru" when most are Cyrillic,
 * else NULL. A static string. */
const char *analyzer_lang_guess(const char *s, size_t len);

/* ---- lexicon.c --------------------------------------------------------- */

#define LEX_VALENCE 0x1u  /* the word is in vader_lexicon.txt */
#define LEX_NEGATE  0x2u  /* the word is in VADER's negation list */

struct lex_entry {
    const char *key;     /* len bytes, as in the file (lookups are made with
                            lower-cased tokens, so only lower case is reachable) */
    uint32_t len;
    uint32_t flags;      /* LEX_* */
    double valence;      /* when LEX_VALENCE */
    double booster;      /* +B_INCR, B_DECR or 0 */
    const char *desc;    /* emoji table: the description */
    uint32_t desc_len;
};

struct lex_table {
    uint64_t *slot;      /* (hash high 32 bits << 32) | (index + 1); 0 empty */
    uint32_t mask;
    struct lex_entry *v;
    uint32_t n, cap;
    uint32_t maxlen;     /* longest key in bytes */
};

/* Words the algorithm tests by identity. */
enum lex_word {
    LW_BUT, LW_NO, LW_KIND, LW_OF, LW_LEAST, LW_AT, LW_VERY, LW_NEVER,
    LW_SO, LW_THIS, LW_WITHOUT, LW_DOUBT, LW_OR, LW_NOR, LW__COUNT
};

/* A multi-word phrase (VADER's special cases and booster n-grams). */
struct lex_phrase {
    const struct lex_entry *w[3];
    unsigned n;
    double value;
};

#define LEX_MAX_PHRASES 16

struct analyzer_lexicon {
    struct lex_table words;
    struct lex_table emoji;
    uint32_t emoji_max_cp;                 /* longest emoji key, code points */
    uint8_t *emoji_first;                  /* bitmap of first code points */
    const struct lex_entry *w[LW__COUNT];
    struct lex_phrase special[LEX_MAX_PHRASES];
    unsigned nspecial;
    struct lex_phrase ngram[LEX_MAX_PHRASES];   /* "kind of", ... */
    unsigned nngram;
    char *files[2];                        /* the file contents keys point into */
};

/* Load vader_lexicon.txt and emoji_utf8_lexicon.txt from dir. On failure
 * returns NULL with "file:line: message" in err. */
struct analyzer_lexicon *analyzer_lexicon_load(const char *dir, char *err, size_t errlen);
void analyzer_lexicon_free(struct analyzer_lexicon *lx);

const struct lex_entry *analyzer_lex_find(const struct lex_table *t, const char *key,
                                          size_t len);

/* ---- sentiment.c ------------------------------------------------------- */

/* VADER compound of s[0..len) into *out. CTX_ENOMEM only for texts too
 * long for the stack scratch space when malloc fails. */
ctx_err analyzer_sentiment(const struct analyzer_lexicon *lx, const char *s, size_t len,
                           double *out);

/* ---- rules.c ----------------------------------------------------------- */

struct analyzer_rules;

/* Parse and compile every *.rules file of dir (in name order). On failure
 * returns CTX_EPARSE (or CTX_EIO, CTX_ENOMEM) with "file:line:col: message"
 * in err and *out NULL. */
ctx_err analyzer_rules_load(const char *dir, struct analyzer_rules **out, char *err,
                            size_t errlen);
void analyzer_rules_free(struct analyzer_rules *rs);

/* Apply the rules to s[0..len), which must be valid UTF-8 (it is matched
 * with PCRE2_NO_UTF_CHECK). lang restricts rules that name languages; NULL
 * means unknown (such rules are skipped). Adds to out->brands, out->topics
 * and sets out->urgent. */
ctx_err analyzer_rules_apply(const struct analyzer_rules *rs, const char *s, size_t len,
                             const char *lang, struct tags *out);

/* Matches abandoned because a PCRE2 limit (match, depth, heap, JIT stack)
 * was hit, since load. */
unsigned long analyzer_rules_aborts(const struct analyzer_rules *rs);
size_t analyzer_rules_count(const struct analyzer_rules *rs);

/* ---- analyzer.c -------------------------------------------------------- */

unsigned long analyzer_match_aborts(const analyzer *a);

#endif
