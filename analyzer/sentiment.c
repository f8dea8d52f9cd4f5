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
 * pass skipped outright for ASCII text. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "analyzer/analyzer_internal.h"
#include "core/buf.h"

#define C_INCR   0.733
#define N_SCALAR (-0.74)
#define ALPHA    15.0

#define TOK_STACK 512
#define LOW_MAX   128       /* longest token looked up (longer: never a key) */

struct tok {
    const struct lex_entry *e;  /* the lower-cased token's entry, or NULL */
    uint8_t upper;              /* Python's str.isupper() */
    uint8_t nt;                 /* contains "n't" */
};

/* ---- characters --------------------------------------------------------- */

/* Python's string.punctuation */
static inline int is_punct(unsigned c)
{
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
           (c >= 123 && c <= 126);
}

/* Byte length of the white space character at s[i] (what Python's
 * str.split() splits at), or 0. */
static inline size_t ws_at(const unsigned char *s, size_t i, size_t len)
{
    unsigned c = s[i];
    if (c < 0x80)
        return (c == ' ' || (c >= 9 && c <= 13) || (c >= 28 && c <= 31)) ? 1 : 0;
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

/* ---- step 1: emoji ------------------------------------------------------ */

static inline int emoji_first(const struct analyzer_lexicon *lx, uint32_t cp)
{
    return lx->emoji_first[cp >> 3] & (1u << (cp & 7));
}

/* The longest emoji key at s, its length in *mlen. */
static const struct lex_entry *emoji_at(const struct analyzer_lexicon *lx,
                                        const unsigned char *s, size_t len, size_t *mlen)
{
    size_t ends[32], k = 0, off = 0;
    uint32_t maxcp = lx->emoji_max_cp < 32 ? lx->emoji_max_cp : 32;
    while (k < maxcp && off < len && off <= lx->emoji.maxlen) {
        size_t adv;
        analyzer_utf8_decode(s + off, len - off, &adv);
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
 * description unless the previous character was a space, none after).
 * Returns 1 with the new text in out, 0 when the text has no emoji, -1 when
 * out of memory. */
static int emoji_expand(const struct analyzer_lexicon *lx, const unsigned char *s, size_t len,
                        struct buf *out)
{
    size_t run = 0;            /* start of the bytes not yet copied */
    int prev_space = 1, found = 0;
    for (size_t i = 0; i < len;) {
        size_t adv = 1;
        uint32_t cp = s[i];
        if (cp < 0x80) {
            /* keycaps start with an ASCII character and go on outside it */
            if (!emoji_first(lx, cp) || i + 1 >= len || s[i + 1] < 0x80) {
                i++;
                continue;
            }
        } else {
            cp = analyzer_utf8_decode(s + i, len - i, &adv);
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
            if (buf_append(out, s + run, i - run) != CTX_OK)
                return -1;
            prev_space = s[i - 1] == ' ';
        }
        if (!prev_space && buf_putc(out, ' ') != CTX_OK)
            return -1;
        if (buf_append(out, e->desc, e->desc_len) != CTX_OK)
            return -1;
        prev_space = 0;
        found = 1;
        i += mlen;
        /* a variation selector (U+FE0E, U+FE0F) the key did not include */
        while (i + 2 < len && s[i] == 0xEF && s[i + 1] == 0xB8 &&
               (s[i + 2] == 0x8E || s[i + 2] == 0x8F))
            i += 3;
        run = i;
    }
    if (found && run < len && buf_append(out, s + run, len - run) != CTX_OK)
        return -1;
    return found;
}

/* ---- step 2: tokens ----------------------------------------------------- */

static void classify(const struct analyzer_lexicon *lx, const unsigned char *p, size_t n,
                     struct tok *t)
{
    char low[LOW_MAX];
    int fits = n <= lx->words.maxlen && n <= sizeof low;
    int has_up = 0, has_lo = 0;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        if (c < 0x80) {
            if (c - 'A' < 26u) {
                has_up = 1;
                c += 32;
            } else if (c - 'a' < 26u) {
                has_lo = 1;
            }
            if (fits)
                low[i] = (char)c;
            i++;
            continue;
        }
        size_t adv;
        uint32_t cp = analyzer_utf8_decode(p + i, n - i, &adv);
        int cs = analyzer_uc_case(cp);
        if (cs == UC_UPPER) {
            has_up = 1;
            cp = analyzer_uc_lower(cp);
        } else if (cs == UC_LOWER) {
            has_lo = 1;
        }
        if (fits) {
            if (cs == UC_UPPER && adv == 2) {   /* the case table stays in 2 bytes */
                low[i] = (char)(0xC0 | (cp >> 6));
                low[i + 1] = (char)(0x80 | (cp & 0x3F));
            } else {
                memcpy(low + i, p + i, adv);
            }
        }
        i += adv;
    }
    t->upper = has_up && !has_lo;
    t->e = fits ? analyzer_lex_find(&lx->words, low, n) : NULL;
    t->nt = 0;
    for (const unsigned char *q = p; (q = memchr(q, '\'', n - (size_t)(q - p)));
         q++) {
        if (q > p && q + 1 < p + n && (q[-1] | 0x20) == 'n' && (q[1] | 0x20) == 't') {
            t->nt = 1;
            break;
        }
    }
}

static size_t tokenize(const struct analyzer_lexicon *lx, const unsigned char *s, size_t len,
                       struct tok *toks)
{
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t w = ws_at(s, i, len);
        if (w) {
            i += w;
            continue;
        }
        size_t a = i;
        while (i < len && !ws_at(s, i, len))
            i++;
        size_t b = i, x = a, y = b;
        while (x < y && is_punct(s[x]))
            x++;
        while (y > x && is_punct(s[y - 1]))
            y--;
        if (count_cp(s + x, y - x) <= 2) {   /* probably an emoticon: keep it whole */
            x = a;
            y = b;
        }
        classify(lx, s + x, y - x, &toks[n++]);
    }
    return n;
}

/* ---- step 3: valence of each token -------------------------------------- */

struct ctx_s {
    const struct analyzer_lexicon *lx;
    const struct tok *t;
    size_t n;
    int cap_diff;
};

static inline int in_lex(const struct tok *t)
{
    return t->e && (t->e->flags & LEX_VALENCE);
}

static inline int is_w(const struct ctx_s *c, size_t i, enum lex_word w)
{
    return c->t[i].e == c->lx->w[w];
}

static inline int negated(const struct tok *t)
{
    return t->nt || (t->e && (t->e->flags & LEX_NEGATE));
}

static double scalar_inc_dec(const struct ctx_s *c, const struct tok *t, double valence)
{
    if (!t->e || t->e->booster == 0.0)
        return 0.0;
    double s = t->e->booster;
    if (valence < 0)
        s = -s;
    if (t->upper && c->cap_diff)
        s += valence > 0 ? C_INCR : -C_INCR;
    return s;
}

static double negation_check(const struct ctx_s *c, double v, int start, size_t i)
{
    switch (start) {
    case 0:
        if (negated(&c->t[i - 1]))
            v *= N_SCALAR;
        break;
    case 1:
        if (is_w(c, i - 2, LW_NEVER) && (is_w(c, i - 1, LW_SO) || is_w(c, i - 1, LW_THIS)))
            v *= 1.25;
        else if (is_w(c, i - 2, LW_WITHOUT) && is_w(c, i - 1, LW_DOUBT))
            ;
        else if (negated(&c->t[i - 2]))
            v *= N_SCALAR;
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
        else if (negated(&c->t[i - 3]))
            v *= N_SCALAR;
        break;
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

static const struct lex_phrase *find_phrase(const struct ctx_s *c, size_t from, unsigned n,
                                            const struct lex_phrase *v, unsigned nv)
{
    for (unsigned k = 0; k < nv; k++)
        if (seq_is(c, from, n, &v[k]))
            return &v[k];
    return NULL;
}

/* Called for i > 2 only. */
static double special_idioms(const struct ctx_s *c, double v, size_t i)
{
    const struct analyzer_lexicon *lx = c->lx;
    /* the reference's order: "w-1 w", "w-2 w-1 w", "w-2 w-1", "w-3 w-2 w-1",
     * "w-3 w-2"; the first hit replaces the valence */
    static const struct { unsigned back, n; } seqs[] = {{1, 2}, {2, 3}, {2, 2}, {3, 3}, {3, 2}};
    for (size_t k = 0; k < CTX_ARRAY_LEN(seqs); k++) {
        const struct lex_phrase *p =
            find_phrase(c, i - seqs[k].back, seqs[k].n, lx->special, lx->nspecial);
        if (p) {
            v = p->value;
            break;
        }
    }
    /* then "w w+1" and "w w+1 w+2", each replacing */
    const struct lex_phrase *p;
    if (c->n - 1 > i && (p = find_phrase(c, i, 2, lx->special, lx->nspecial)))
        v = p->value;
    if (c->n - 1 > i + 1 && (p = find_phrase(c, i, 3, lx->special, lx->nspecial)))
        v = p->value;
    /* multi-word dampeners before the word add up, unsigned (as the
     * reference: "kind of bad" comes out worse than "bad") */
    static const struct { unsigned back, n; } grams[] = {{3, 3}, {3, 2}, {2, 2}};
    for (size_t k = 0; k < CTX_ARRAY_LEN(grams); k++)
        if ((p = find_phrase(c, i - grams[k].back, grams[k].n, lx->ngram, lx->nngram)))
            v += p->value;
    return v;
}

static double least_check(const struct ctx_s *c, double v, size_t i)
{
    if (i > 1 && !in_lex(&c->t[i - 1]) && is_w(c, i - 1, LW_LEAST)) {
        if (!is_w(c, i - 2, LW_AT) && !is_w(c, i - 2, LW_VERY))
            v *= N_SCALAR;
    } else if (i > 0 && !in_lex(&c->t[i - 1]) && is_w(c, i - 1, LW_LEAST)) {
        v *= N_SCALAR;
    }
    return v;
}

static double valence_at(const struct ctx_s *c, size_t i)
{
    const struct tok *t = c->t;
    const struct tok *tk = &t[i];
    if (tk->e && tk->e->booster != 0.0)
        return 0.0;                       /* boosters only modify */
    if (i + 1 < c->n && is_w(c, i, LW_KIND) && is_w(c, i + 1, LW_OF))
        return 0.0;                       /* "kind of" is a dampener, not "kind" */
    if (!in_lex(tk))
        return 0.0;

    double base = tk->e->valence, v = base;
    /* "no" right before a lexicon word negates it instead of scoring */
    if (is_w(c, i, LW_NO) && i != c->n - 1 && in_lex(&t[i + 1]))
        v = 0.0;
    if ((i > 0 && is_w(c, i - 1, LW_NO)) || (i > 1 && is_w(c, i - 2, LW_NO)) ||
        (i > 2 && is_w(c, i - 3, LW_NO) && (is_w(c, i - 1, LW_OR) || is_w(c, i - 1, LW_NOR))))
        v = base * N_SCALAR;

    if (tk->upper && c->cap_diff)
        v += v > 0 ? C_INCR : -C_INCR;

    for (int start = 0; start < 3; start++) {
        if (i <= (size_t)start || in_lex(&t[i - start - 1]))
            continue;
        double s = scalar_inc_dec(c, &t[i - start - 1], v);
        if (start == 1 && s != 0)
            s *= 0.95;
        if (start == 2 && s != 0)
            s *= 0.9;
        v += s;
        v = negation_check(c, v, start, i);
        if (start == 2)
            v = special_idioms(c, v, i);
    }
    return least_check(c, v, i);
}

/* ---- steps 4 and 5 ------------------------------------------------------ */

static double punct_emphasis(const unsigned char *s, size_t len)
{
    size_t ep = 0, qm = 0;
    for (size_t i = 0; i < len; i++) {
        ep += s[i] == '!';
        qm += s[i] == '?';
    }
    if (ep > 4)
        ep = 4;
    double amp = (double)ep * 0.292;
    if (qm > 1)
        amp += qm <= 3 ? (double)qm * 0.18 : 0.96;
    return amp;
}

static double score_tokens(const struct ctx_s *c, double *sent, const unsigned char *s,
                           size_t len)
{
    if (c->n == 0)
        return 0.0;
    size_t but = c->n;
    for (size_t i = 0; i < c->n; i++) {
        sent[i] = valence_at(c, i);
        if (but == c->n && is_w(c, i, LW_BUT))
            but = i;
    }
    /* The reference finds each valence's position with list.index(), which
     * misplaces equal values; that only matters when a halved value before
     * "but" equals one after it exactly, so positions are used here. */
    double sum = 0.0;
    for (size_t i = 0; i < c->n; i++) {
        if (but < c->n)
            sent[i] *= i < but ? 0.5 : i > but ? 1.5 : 1.0;
        sum += sent[i];
    }
    double amp = punct_emphasis(s, len);
    if (sum > 0)
        sum += amp;
    else if (sum < 0)
        sum -= amp;
    double x = sum / sqrt(sum * sum + ALPHA);
    return x < -1.0 ? -1.0 : x > 1.0 ? 1.0 : x;
}

ctx_err analyzer_sentiment(const struct analyzer_lexicon *lx, const char *text, size_t len,
                           double *out)
{
    const unsigned char *s = (const unsigned char *)text;
    struct buf ebuf = {0};
    *out = 0.0;

    /* emoji only exist outside ASCII */
    int ascii = 1;
    for (size_t i = 0; i < len; i++)
        if (s[i] >= 0x80) {
            ascii = 0;
            break;
        }
    if (!ascii) {
        int r = emoji_expand(lx, s, len, &ebuf);
        if (r < 0) {
            buf_free(&ebuf);
            return CTX_ENOMEM;
        }
        if (r > 0) {
            s = (const unsigned char *)ebuf.p;
            len = ebuf.len;
        }
    }

    struct tok tstack[TOK_STACK];
    double sstack[TOK_STACK];
    struct tok *toks = tstack;
    double *sent = sstack;
    size_t most = len / 2 + 1;           /* tokens are separated by white space */
    if (most > TOK_STACK) {
        toks = malloc(most * sizeof *toks);
        sent = malloc(most * sizeof *sent);
        if (!toks || !sent) {
            free(toks);
            free(sent);
            buf_free(&ebuf);
            return CTX_ENOMEM;
        }
    }

    struct ctx_s c = {.lx = lx, .t = toks};
    c.n = tokenize(lx, s, len, toks);
    size_t caps = 0;
    for (size_t i = 0; i < c.n; i++)
        caps += toks[i].upper;
    c.cap_diff = caps > 0 && caps < c.n;
    *out = score_tokens(&c, sent, s, len);

    if (toks != tstack) {
        free(toks);
        free(sent);
    }
    buf_free(&ebuf);
    return CTX_OK;
}
