/* prefilter.c -- which rules can match a text, and where, without running them.
 *
 * Running every rule's PCRE2 patterns over every text costs time in
 * proportion to the number of rules. Most patterns name words: a match of
 * \b(outage|downtime)\b contains "outage" or "downtime", a match of
 * \bподдержк\w* contains "поддержк". This file finds, for each pattern, such
 * a set of required literals (any match contains at least one of them),
 * indexes every literal of every pattern in one table, and for a text looks
 * up each word (the literals are words or word prefixes, see "the index").
 * A pattern is a candidate when one of its literals is in the text, or when
 * it has none (then it always runs). Only candidates are matched with PCRE2,
 * so the cost grows with the text, not with the number of rules.
 *
 * Two more things make the matching itself cheap:
 *
 *   - Leads. Many patterns not only contain but start with one of a few
 *     words (\bbattery\s+life\b starts with "battery"). Those leading
 *     literals are indexed too, and the scan reports every word start where
 *     one is (analyzer_prefilter_scan_hits()): rules.c then tries such a
 *     pattern only there, anchored, instead of searching the whole text.
 *   - Decisions. A pattern that is just a set of words, or of word
 *     beginnings (\b(refund|refunds)\b, \bдоставк\w*, \b(член|друз)\w{0,3}\b),
 *     is matched here from the word at a hit, exactly as PCRE2 would, when
 *     the word is bounded by ASCII or the ends of the text
 *     (analyzer_prefilter_decide()); PCRE2 decides the other cases. So is
 *     a phrase, words and white space (\bbattery\s+life\b,
 *     \bnot\s+(the|a)?\s*working\b, \bdouble[\s-]+charged\b): tried in
 *     PCRE2's order (alternatives as written, runs longest first) over
 *     characters whose caseless matching is known here, white space in ASCII
 *     and letters of two bytes; any other character it meets hands the
 *     decision to PCRE2.
 *
 * The prefilter may let a rule through that then does not match, never the
 * reverse. What keeps it honest:
 *
 *   - Case. Patterns are caseless (and case-sensitive ones are a subset), so
 *     literals and texts are compared folded: lower case, plus the few
 *     characters PCRE2 treats as another letter's case (the Kelvin sign is
 *     a "k", long s an "s", "ς" a "σ"...). A pattern character whose case
 *     partners this file does not know (outside ASCII, Latin-1, Latin
 *     Extended-A and Cyrillic) ends a literal, as if it were a wildcard.
 *     For the word characters of those blocks, folded equality is exactly
 *     PCRE2's caseless equality, against every code point (checked).
 *   - Where literals start. A literal found right after \b, a non-word
 *     character or a class of them (\s, [@#], \W) starts a word, so it is
 *     looked for at word starts only: after any character that is not
 *     certainly a word character (ASCII letters, digits and "_", and the
 *     cased letters of the scripts above, all \w for PCRE2 with UCP). Other
 *     literals are looked for anywhere (memmem), which is slower and rare.
 *     A lead is a literal that starts a word at the start of every match,
 *     after nothing but anchors (\b, ^); a lookaround or \G before it, an
 *     optional or empty alternative, and the pattern has no leads.
 *   - Syntax. The pattern is read by a small parser of the PCRE2 syntax
 *     that rules use; anything it does not understand (\Q..\E, (?x), back
 *     references, conditionals, verbs, unicode properties) makes the part
 *     it is in, or the whole pattern, "no requirement".
 *
 * Words known beforehand. The sentiment tokenizer looks every token up in
 * the lexicon's tables; with rules loaded, every key there (the rules' own
 * words and the commonest English words are added for this) carries what
 * the walk below would find at a word start of it (analyzer_prefilter_word(),
 * computed at load: candidates, leads, and the leads decide() settles on
 * the word alone), and the walk takes that list at a token that is a whole
 * word instead of folding the word and looking up its first bytes
 * (analyzer_prefilter_scan_known()).
 *
 * The parser computes for each piece of a pattern either a small set of
 * exact strings it can match ("exact": "bill", {"is","are","was"}) or a set
 * of literals one of which every match contains ("required"), and picks for
 * a concatenation the best required set of its parts (longest shortest
 * literal, then fewest literals). Alongside, it tracks how the piece's
 * matches begin (its leads). */
#define _GNU_SOURCE         /* memmem */
#include <stdlib.h>
#include <string.h>
#include "analyzer/analyzer_internal.h"

#define MAX_EXACT   16     /* strings in an exact set */
#define MAX_LIT     64     /* bytes in a literal */
#define MAX_REQ     64     /* literals in a required set */
#define MAX_LEAD    16     /* literals in a leading set */

/* ---- folding ------------------------------------------------------------ */

/* Case partners PCRE2 knows that a plain lower-case mapping misses. */
static uint32_t special_fold(uint32_t c)
{
    switch (c) {
    case 0x17F: return 's';
    case 0x212A: return 'k';
    case 0x212B: return 0xE5;
    case 0xB5: return 0x3BC;
    case 0x1E9E: return 0xDF;
    case 0x3C2: return 0x3C3;
    case 0x1C80: return 0x432;
    case 0x1C81: return 0x434;
    case 0x1C82: return 0x43E;
    case 0x1C83: return 0x441;
    case 0x1C84: case 0x1C85: return 0x442;
    case 0x1C86: return 0x44A;
    case 0x1C87: return 0x463;
    case 0x1C88: return 0xA64B;
    default: return 0;
    }
}

static uint32_t fold_cp(uint32_t c)
{
    uint32_t s = special_fold(c);
    if (s)
        return s;
    return analyzer_uc_lower(c);
}

/* Characters whose caseless partners fold_cp() maps together. */
static int foldable(uint32_t c)
{
    if (c < 0x80)
        return 1;
    if (c == 0x130 || c == 0x131)           /* dotted/dotless i */
        return 0;
    if (c <= 0x17F)
        return 1;
    if (c >= 0x400 && c <= 0x4FF)
        return 1;
    return 0;
}

/* Certainly \w for PCRE2 with UCP. */
static int sure_word(uint32_t c)
{
    if (c < 0x80)
        return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_';
    return analyzer_uc_case(c) != UC_NONE;
}

static inline size_t put_utf8(uint32_t c, unsigned char *o)
{
    if (c < 0x80) {
        o[0] = (unsigned char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (unsigned char)(0xC0 | (c >> 6));
        o[1] = (unsigned char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (c >> 12));
        o[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (c >> 18));
    o[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (c & 0x3F));
    return 4;
}

/* ---- literal sets ------------------------------------------------------- */

struct lit {
    unsigned char s[MAX_LIT];
    uint8_t len;
    uint8_t anchored;      /* starts at a word start */
};

/* How a piece's matches begin. L_SET: every match starts at a word start
 * with one of v[] (word characters, folded); L_EMPTY: every match is empty
 * (an anchor, a lookaround), so what follows decides; L_NONE: unknown. */
enum { L_NONE, L_EMPTY, L_SET };
struct leads {
    int kind;
    unsigned n;
    struct lit v[MAX_LEAD];
};

/* One piece's summary. kind EXACT: the piece matches exactly one of ex[];
 * kind REQ: every match contains one of req[]; kind ANY: nothing known.
 * lead: how its matches begin (for EXACT pieces computed from ex[] by
 * lead_fix(), for the others kept as the parser goes). */
enum { P_ANY, P_EXACT, P_REQ };
struct piece {
    int kind;
    struct lit ex[MAX_EXACT];
    unsigned nex;
    struct lit req[MAX_REQ];
    unsigned nreq;
    struct leads lead;
    int opaque;            /* (exact) an empty match that is not a mere anchor came
                              first: a lookaround or \G, which makes leads unknown */
};

/* The word-character parts of an exact string become required literals: the
 * first part keeps the string's anchoring, later parts follow a non-word
 * character and are anchored. Returns the longest part (0 length when none). */
static struct lit best_part(const struct lit *x)
{
    struct lit best = {.len = 0};
    size_t i = 0;
    int anchored = x->anchored;
    while (i < x->len) {
        size_t a = i;
        while (i < x->len) {
            size_t adv;
            uint32_t c = ctx_utf8_decode(x->s + i, x->len - i, &adv);
            if (!sure_word(c))
                break;
            i += adv;
        }
        if (i > a && i - a > best.len) {
            memcpy(best.s, x->s + a, i - a);
            best.len = (uint8_t)(i - a);
            best.anchored = (uint8_t)anchored;
        }
        if (i < x->len) {
            size_t adv;
            ctx_utf8_decode(x->s + i, x->len - i, &adv);
            i += adv;
        }
        anchored = 1;
    }
    return best;
}

/* The leads of an exact piece: the first word of each string, when every
 * string starts a word with a word character; L_EMPTY when all are empty. */
static void lead_fix(struct piece *p)
{
    if (p->kind != P_EXACT)
        return;
    struct leads *ld = &p->lead;
    unsigned empty = 0;
    ld->kind = p->opaque ? L_NONE : L_SET;
    ld->n = 0;
    if (p->opaque)
        return;
    for (unsigned k = 0; k < p->nex; k++) {
        const struct lit *x = &p->ex[k];
        if (x->len == 0) {
            empty++;
            continue;
        }
        size_t i = 0;
        while (i < x->len) {
            size_t adv;
            uint32_t c = ctx_utf8_decode(x->s + i, x->len - i, &adv);
            if (!sure_word(c))
                break;
            i += adv;
        }
        if (i == 0 || !x->anchored || ld->n == MAX_LEAD) {
            ld->kind = L_NONE;
            return;
        }
        int dup = 0;
        for (unsigned j = 0; j < ld->n && !dup; j++)
            dup = ld->v[j].len == i && memcmp(ld->v[j].s, x->s, i) == 0;
        if (!dup) {
            memcpy(ld->v[ld->n].s, x->s, i);
            ld->v[ld->n].len = (uint8_t)i;
            ld->v[ld->n].anchored = 1;
            ld->n++;
        }
    }
    if (empty)
        ld->kind = empty == p->nex ? L_EMPTY : L_NONE;
    else if (ld->n == 0)
        ld->kind = L_NONE;
}

/* The leads of a then b. */
static void lead_concat(struct leads *out, const struct leads *a, const struct leads *b)
{
    *out = a->kind == L_EMPTY ? *b : *a;
}

/* The leads of a or b. */
static void lead_alternate(struct leads *out, const struct leads *a, const struct leads *b)
{
    if (a->kind != L_SET || b->kind != L_SET) {
        out->kind = L_NONE;
        return;
    }
    struct leads u = *a;
    for (unsigned k = 0; k < b->n; k++) {
        int dup = 0;
        for (unsigned j = 0; j < u.n && !dup; j++)
            dup = u.v[j].len == b->v[k].len && memcmp(u.v[j].s, b->v[k].s, b->v[k].len) == 0;
        if (dup)
            continue;
        if (u.n == MAX_LEAD) {
            out->kind = L_NONE;
            return;
        }
        u.v[u.n++] = b->v[k];
    }
    *out = u;
}

/* Turn an exact piece into a required one. */
static void exact_to_req(struct piece *p)
{
    if (p->kind != P_EXACT)
        return;
    lead_fix(p);
    p->nreq = 0;
    for (unsigned k = 0; k < p->nex; k++) {
        struct lit l = best_part(&p->ex[k]);
        if (l.len == 0 || p->nreq == MAX_REQ) {
            p->kind = P_ANY;
            return;
        }
        int dup = 0;
        for (unsigned j = 0; j < p->nreq && !dup; j++)
            dup = p->req[j].len == l.len && p->req[j].anchored == l.anchored &&
                  memcmp(p->req[j].s, l.s, l.len) == 0;
        if (!dup)
            p->req[p->nreq++] = l;
    }
    p->kind = p->nreq ? P_REQ : P_ANY;
}

static unsigned min_len(const struct piece *p)
{
    unsigned m = 1000;
    for (unsigned k = 0; k < p->nreq; k++)
        if (p->req[k].len < m)
            m = p->req[k].len;
    return m;
}

static int all_anchored(const struct piece *p)
{
    for (unsigned k = 0; k < p->nreq; k++)
        if (!p->req[k].anchored)
            return 0;
    return 1;
}

/* Is required set a better filter than b? */
static int better(const struct piece *a, const struct piece *b)
{
    if (b->kind != P_REQ)
        return a->kind == P_REQ;
    if (a->kind != P_REQ)
        return 0;
    /* literals of three bytes or more that start words are looked up in the
     * trie; others fall back to a substring search, so prefer the former */
    unsigned ma = min_len(a), mb = min_len(b);
    if ((ma >= 3) != (mb >= 3))
        return ma >= 3;
    int aa = all_anchored(a), ab = all_anchored(b);
    if (aa != ab)
        return aa;
    if (ma != mb)
        return ma > mb;
    return a->nreq < b->nreq;
}

/* ---- the parser ----------------------------------------------------------- */

struct parser {
    const unsigned char *p, *end;
    int bad;                /* unsupported syntax: the whole pattern is ANY */
};

static void piece_any(struct piece *p)
{
    p->kind = P_ANY;
    p->nex = p->nreq = 0;
    p->lead.kind = L_NONE;
    p->opaque = 0;
}

static void piece_exact1(struct piece *p, const unsigned char *s, size_t n, int anchored)
{
    p->kind = P_EXACT;
    p->nex = 1;
    memcpy(p->ex[0].s, s, n);
    p->ex[0].len = (uint8_t)n;
    p->ex[0].anchored = (uint8_t)anchored;
    p->nreq = 0;
    p->lead.kind = L_NONE;  /* exact: see lead_fix() */
    p->opaque = 0;
}

/* a then b (concatenation), into a. */
static void concat(struct piece *a, struct piece *b)
{
    if (a->kind == P_EXACT && b->kind == P_EXACT && a->nex * b->nex <= MAX_EXACT) {
        struct lit out[MAX_EXACT];
        unsigned n = 0;
        int ok = 1;
        for (unsigned i = 0; i < a->nex && ok; i++)
            for (unsigned j = 0; j < b->nex && ok; j++) {
                if (a->ex[i].len + b->ex[j].len > MAX_LIT) {
                    ok = 0;
                    break;
                }
                out[n] = a->ex[i];
                memcpy(out[n].s + a->ex[i].len, b->ex[j].s, b->ex[j].len);
                out[n].len = (uint8_t)(a->ex[i].len + b->ex[j].len);
                /* an empty left part (an anchor) lends its right part's anchoring */
                if (a->ex[i].len == 0)
                    out[n].anchored = b->ex[j].anchored || a->ex[i].anchored;
                n++;
            }
        if (ok) {
            int empty = 1;
            for (unsigned i = 0; i < a->nex; i++)
                empty &= a->ex[i].len == 0;
            if (empty && b->opaque)
                a->opaque = 1;
            memcpy(a->ex, out, n * sizeof *out);
            a->nex = n;
            return;
        }
    }
    exact_to_req(a);
    exact_to_req(b);
    struct leads ld;
    lead_concat(&ld, &a->lead, &b->lead);
    if (better(b, a))
        *a = *b;
    a->lead = ld;
}

static void alternate(struct piece *a, struct piece *b)
{
    if (a->kind == P_EXACT && b->kind == P_EXACT && a->nex + b->nex <= MAX_EXACT) {
        memcpy(a->ex + a->nex, b->ex, b->nex * sizeof *b->ex);
        a->nex += b->nex;
        a->opaque |= b->opaque;
        return;
    }
    exact_to_req(a);
    exact_to_req(b);
    struct leads ld;
    lead_alternate(&ld, &a->lead, &b->lead);
    if (a->kind != P_REQ || b->kind != P_REQ || a->nreq + b->nreq > MAX_REQ) {
        piece_any(a);
    } else {
        memcpy(a->req + a->nreq, b->req, b->nreq * sizeof *b->req);
        a->nreq += b->nreq;
    }
    a->lead = ld;
}

static void parse_alt(struct parser *ps, struct piece *out, int anchored);

/* Read a quantifier at ps->p if there is one: min count into *min, 1 if a
 * quantifier was read. */
static int quantifier(struct parser *ps, unsigned *min)
{
    const unsigned char *p = ps->p;
    if (p >= ps->end)
        return 0;
    if (*p == '?' || *p == '*' || *p == '+') {
        *min = *p == '+' ? 1 : 0;
        p++;
    } else if (*p == '{') {
        const unsigned char *q = p + 1;
        unsigned n = 0;
        int digits = 0;
        while (q < ps->end && *q == ' ')
            q++;
        while (q < ps->end && *q >= '0' && *q <= '9') {
            n = n * 10 + (*q - '0');
            if (n > 100000)
                n = 100000;
            q++;
            digits++;
        }
        while (q < ps->end && *q == ' ')
            q++;
        if (q < ps->end && *q == ',') {
            q++;
            while (q < ps->end && ((*q >= '0' && *q <= '9') || *q == ' '))
                q++;
        }
        if (q >= ps->end || *q != '}')
            return 0;            /* a literal "{" */
        if (!digits) {
            /* PCRE2 10.43+ reads {,n} as {0,n}; older ones as a literal:
             * either way nothing is required */
            n = 0;
        }
        *min = n;
        p = q + 1;
    } else {
        return 0;
    }
    if (p < ps->end && (*p == '?' || *p == '+'))
        p++;                     /* lazy, possessive */
    ps->p = p;
    return 1;
}

/* An escape after the backslash at ps->p. Fills a literal character (*cp)
 * and returns 1, or sets out (assertion or class) and returns 0. */
static int escape(struct parser *ps, uint32_t *cp, struct piece *out, int *nonword_only)
{
    const unsigned char *p = ps->p;
    *nonword_only = 0;
    if (p >= ps->end) {
        ps->bad = 1;
        return 0;
    }
    unsigned c = *p++;
    ps->p = p;
    switch (c) {
    case 'b': case 'B': case 'A': case 'z': case 'Z': case 'G':
        piece_exact1(out, (const unsigned char *)"", 0, c == 'b');
        out->opaque = c == 'G';   /* "where the search started" */
        return 0;
    case 's': case 'W': case 'h': case 'v': case 'R': case 'N':
        *nonword_only = c != 'N';
        piece_any(out);
        return 0;
    case 'w': case 'd': case 'S': case 'D': case 'H': case 'V': case 'X': case 'C':
        piece_any(out);
        return 0;
    case 'n': *cp = '\n'; return 1;
    case 't': *cp = '\t'; return 1;
    case 'r': *cp = '\r'; return 1;
    case 'f': *cp = '\f'; return 1;
    case 'e': *cp = 0x1B; return 1;
    case 'a': *cp = 7; return 1;
    case 'x': {
        uint32_t v = 0;
        if (p < ps->end && *p == '{') {
            p++;
            int n = 0;
            while (p < ps->end && *p != '}') {
                unsigned h = *p;
                unsigned d = h >= '0' && h <= '9' ? h - '0'
                           : (h | 0x20) >= 'a' && (h | 0x20) <= 'f' ? (h | 0x20) - 'a' + 10
                                                                     : 99;
                if (d == 99 || ++n > 6) {
                    ps->bad = 1;
                    return 0;
                }
                v = v * 16 + d;
                p++;
            }
            if (p >= ps->end) {
                ps->bad = 1;
                return 0;
            }
            p++;
        } else {
            for (int n = 0; n < 2 && p < ps->end; n++) {
                unsigned h = *p;
                unsigned d = h >= '0' && h <= '9' ? h - '0'
                           : (h | 0x20) >= 'a' && (h | 0x20) <= 'f' ? (h | 0x20) - 'a' + 10
                                                                     : 99;
                if (d == 99)
                    break;
                v = v * 16 + d;
                p++;
            }
        }
        ps->p = p;
        if (v > 0x10FFFF) {
            ps->bad = 1;
            return 0;
        }
        *cp = v;
        return 1;
    }
    default:
        /* an escaped punctuation character is itself */
        if (c < 0x80 && !((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))) {
            *cp = c;
            return 1;
        }
        if (c >= 0x80) {        /* an escaped non-ASCII character: itself */
            ps->p--;
            size_t adv;
            *cp = ctx_utf8_decode(ps->p, (size_t)(ps->end - ps->p), &adv);
            ps->p += adv;
            return 1;
        }
        ps->bad = 1;            /* \p, \g, \k, \Q, digits (back references), \K... */
        return 0;
    }
}

/* A character class at ps->p (after "["): small sets of single literal
 * characters become exact sets, anything else ANY. *nonword_only when it
 * only holds characters that are never \w (white space, punctuation). */
static void char_class(struct parser *ps, struct piece *out, int *nonword_only)
{
    const unsigned char *p = ps->p;
    uint32_t chars[MAX_EXACT];
    unsigned n = 0;
    int simple = 1, negated = 0, nonword = 1;
    if (p < ps->end && *p == '^') {
        negated = 1;
        p++;
    }
    int first = 1;
    while (p < ps->end && (*p != ']' || first)) {
        first = 0;
        uint32_t c;
        if (*p == '[' && p + 1 < ps->end && p[1] == ':') {     /* [:alpha:] */
            const unsigned char *q = p + 2;
            while (q + 1 < ps->end && !(q[0] == ':' && q[1] == ']'))
                q++;
            if (q + 1 >= ps->end) {
                ps->bad = 1;
                return;
            }
            p = q + 2;
            simple = 0;
            nonword = 0;
            continue;
        }
        if (*p == '\\') {
            p++;
            if (p >= ps->end) {
                ps->bad = 1;
                return;
            }
            if (*p == 's' || *p == 'h' || *p == 'v' || *p == 'W') {
                p++;
                simple = 0;
                continue;
            }
            if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z' && *p != 'x' && *p != 'n' &&
                *p != 't' && *p != 'r') {
                p++;            /* \w \d \p{..} ...: could be a word character */
                if (p[-1] == 'p' || p[-1] == 'P') {
                    if (p < ps->end && *p == '{') {
                        while (p < ps->end && *p != '}')
                            p++;
                        if (p < ps->end)
                            p++;
                    } else if (p < ps->end) {
                        p++;
                    }
                }
                simple = 0;
                nonword = 0;
                continue;
            }
            struct parser sub = {.p = p, .end = ps->end};
            struct piece dummy;
            int nw;
            if (!escape(&sub, &c, &dummy, &nw)) {
                ps->bad |= sub.bad;
                simple = 0;
                nonword = 0;
                p = sub.p;
                continue;
            }
            p = sub.p;
        } else {
            size_t adv;
            c = ctx_utf8_decode(p, (size_t)(ps->end - p), &adv);
            p += adv;
        }
        if (p + 1 < ps->end && *p == '-' && p[1] != ']') {     /* a range */
            simple = 0;
            nonword = 0;
            p++;
            if (*p == '\\')
                p++;
            if (p < ps->end) {
                size_t adv;
                ctx_utf8_decode(p, (size_t)(ps->end - p), &adv);
                p += adv;
            }
            continue;
        }
        if (sure_word(c) || c >= 0x80)
            nonword = 0;
        if (!foldable(c))
            simple = 0;
        if (n < MAX_EXACT)
            chars[n++] = fold_cp(c);
        else
            simple = 0;
    }
    if (p >= ps->end) {
        ps->bad = 1;
        return;
    }
    ps->p = p + 1;
    *nonword_only = nonword && !negated;
    if (!simple || negated || n == 0) {
        piece_any(out);
        return;
    }
    out->kind = P_EXACT;
    out->nex = 0;
    out->nreq = 0;
    for (unsigned k = 0; k < n; k++) {
        struct lit *l = &out->ex[out->nex++];
        l->len = (uint8_t)put_utf8(chars[k], l->s);
        l->anchored = 0;
    }
}

/* One atom (with its quantifier) at ps->p. *nonword_only tells the next
 * atom whether it starts a word. */
static void parse_atom(struct parser *ps, struct piece *out, int anchored, int *nonword_only)
{
    unsigned c = *ps->p;
    *nonword_only = 0;
    if (c == '(') {
        ps->p++;
        int capture = 1, look = 0;
        if (ps->p < ps->end && *ps->p == '?') {
            ps->p++;
            capture = 0;
            if (ps->p >= ps->end) {
                ps->bad = 1;
                return;
            }
            unsigned d = *ps->p;
            if (d == ':' || d == '>' || d == '|') {
                if (d == '|') {
                    ps->bad = 1;     /* branch reset: fine, but rare; keep it simple */
                    return;
                }
                ps->p++;
            } else if (d == '=' || d == '!') {
                look = 1;
                ps->p++;
            } else if (d == '<' && ps->p + 1 < ps->end && (ps->p[1] == '=' || ps->p[1] == '!')) {
                look = 1;
                ps->p += 2;
            } else if (d == '<' || d == '\'' || d == 'P') {
                /* named group (?<n>...) (?'n'...) (?P<n>...); (?P=n) (?P>n) are references */
                if (d == 'P') {
                    ps->p++;
                    if (ps->p >= ps->end || *ps->p != '<') {
                        ps->bad = 1;
                        return;
                    }
                }
                unsigned close = *ps->p == '\'' ? '\'' : '>';
                while (ps->p < ps->end && *ps->p != close)
                    ps->p++;
                if (ps->p >= ps->end) {
                    ps->bad = 1;
                    return;
                }
                ps->p++;
            } else {
                /* inline options: (?i) (?-i) (?i: ...) with i, m, s, U, J only */
                const unsigned char *q = ps->p;
                while (q < ps->end && (*q == 'i' || *q == 'm' || *q == 's' || *q == 'U' ||
                                       *q == 'J' || *q == '-' || *q == '^'))
                    q++;
                if (q >= ps->end || (*q != ')' && *q != ':')) {
                    ps->bad = 1;     /* (?x), (?R), (?(, (?C, ... */
                    return;
                }
                ps->p = q + 1;
                if (*q == ')') {
                    piece_exact1(out, (const unsigned char *)"", 0, anchored);
                    *nonword_only = anchored;   /* transparent */
                    return;
                }
            }
        } else if (ps->p < ps->end && *ps->p == '*') {
            ps->bad = 1;             /* (*VERB) */
            return;
        }
        (void)capture;
        struct piece inner;
        parse_alt(ps, &inner, anchored);
        if (ps->bad)
            return;
        if (ps->p >= ps->end || *ps->p != ')') {
            ps->bad = 1;
            return;
        }
        ps->p++;
        if (look) {
            piece_exact1(out, (const unsigned char *)"", 0, 0);
            out->opaque = 1;
        } else
            *out = inner;
    } else if (c == '[') {
        ps->p++;
        char_class(ps, out, nonword_only);
        if (ps->bad)
            return;
    } else if (c == '\\') {
        ps->p++;
        uint32_t cp;
        if (escape(ps, &cp, out, nonword_only)) {
            if (!foldable(cp)) {
                piece_any(out);
            } else {
                unsigned char b[4];
                size_t n = put_utf8(fold_cp(cp), b);
                piece_exact1(out, b, n, anchored);
                *nonword_only = !sure_word(cp) && cp < 0x80;
            }
        } else if (ps->bad) {
            return;
        }
    } else if (c == '.') {
        ps->p++;
        piece_any(out);
    } else if (c == '^' || c == '$') {
        ps->p++;
        piece_exact1(out, (const unsigned char *)"", 0, c == '^');
        *nonword_only = c == '^';
    } else {
        size_t adv;
        uint32_t cp = ctx_utf8_decode(ps->p, (size_t)(ps->end - ps->p), &adv);
        ps->p += adv;
        if (!foldable(cp)) {
            piece_any(out);
        } else {
            unsigned char b[4];
            size_t n = put_utf8(fold_cp(cp), b);
            piece_exact1(out, b, n, anchored);
            *nonword_only = !sure_word(cp) && cp < 0x80;
        }
    }
    unsigned min;
    if (quantifier(ps, &min)) {
        if (min == 0)
            *nonword_only = 0;   /* \s+ still ends in white space, \s* may be empty */
        if (min == 0) {
            piece_any(out);
        } else {
            /* x{2,} contains x at least once; exact only for exactly one */
            exact_to_req(out);
        }
    }
}

/* A concatenation: exact atoms accumulate into a run ("d" "o" "w" "n" is
 * "down"); a run ends at an atom that is not exact, and the best required
 * set of the runs and the other atoms is the sequence's requirement. A
 * sequence that is one run stays exact. Its leads are those of the first
 * run or atom that is not empty. */
static void parse_seq(struct parser *ps, struct piece *out, int anchored)
{
    struct piece *cur = ctx_malloc(sizeof *cur), *best = ctx_malloc(sizeof *best);
    piece_exact1(cur, (const unsigned char *)"", 0, anchored);
    piece_any(best);
    int next_anchored = anchored, broken = 0;
    struct leads lead = {.kind = L_EMPTY};
    while (ps->p < ps->end && *ps->p != '|' && *ps->p != ')' && !ps->bad) {
        struct piece a;
        int nonword_only;
        parse_atom(ps, &a, next_anchored, &nonword_only);
        if (ps->bad)
            break;
        /* an empty exact piece marked anchored is \b or ^: the next literal starts a word */
        if (a.kind == P_EXACT && a.nex == 1 && a.ex[0].len == 0)
            next_anchored = a.ex[0].anchored || next_anchored;
        else
            next_anchored = nonword_only;
        if (a.kind == P_EXACT && cur->kind == P_EXACT) {
            concat(cur, &a);            /* stays exact unless it grows too big */
            if (cur->kind == P_EXACT)
                continue;
        }
        /* the run ends: keep the better of it and what came before */
        broken = 1;
        exact_to_req(cur);
        if (lead.kind == L_EMPTY)
            lead = cur->lead;
        if (better(cur, best))
            *best = *cur;
        exact_to_req(&a);
        if (lead.kind == L_EMPTY)
            lead = a.lead;
        if (a.kind == P_REQ) {
            if (better(&a, best))
                *best = a;
            piece_exact1(cur, (const unsigned char *)"", 0, next_anchored);
        } else if (a.kind == P_ANY) {
            piece_exact1(cur, (const unsigned char *)"", 0, next_anchored);
        }
    }
    if (!broken) {
        *out = *cur;
    } else {
        exact_to_req(cur);
        if (lead.kind == L_EMPTY)
            lead = cur->lead;
        if (better(cur, best))
            *best = *cur;
        *out = *best;
        out->lead = lead;
    }
    free(cur);
    free(best);
}

static void parse_alt(struct parser *ps, struct piece *out, int anchored)
{
    parse_seq(ps, out, anchored);
    while (!ps->bad && ps->p < ps->end && *ps->p == '|') {
        ps->p++;
        struct piece b;
        parse_seq(ps, &b, anchored);
        alternate(out, &b);
    }
}

/* ---- the index ------------------------------------------------------------ */

/* Every literal of this file is a run of word characters (best_part() and
 * lead_fix() cut them at the first other character), so a literal that
 * starts a word lies inside that word: it is found at a word start exactly
 * when it is a prefix of the word. The scan therefore goes word by word, not
 * byte by byte: the folded word's first bytes pick the few literals that can
 * be prefixes of it, and those are compared.
 *
 * Literals are keyed by their first four bytes (all of them when shorter;
 * the bytes of a literal are never 0, so "ab" and "ab\0\0" cannot collide)
 * in an open-addressing table whose slots chain the literals of one key,
 * those of six bytes or more by their first six in a second such table. A
 * word is looked up under its first 1, 2, 3, 4 and 6 bytes; a bitmap of the
 * keys' hashes (8 KB, in the L1 cache) turns most of those lookups away
 * before they touch the table. Each
 * literal lists the patterns it serves: as a required literal (the pattern
 * becomes a candidate) and/or as a leading one (the word start is a place
 * where the pattern may match, reported to analyzer_prefilter_scan_hits()). */

#define NONE32     UINT32_MAX
#define A_CAND     0x80000000u  /* assoc: a required literal of the pattern */
#define A_LEAD     0x40000000u  /* assoc: a leading literal of the pattern */
#define A_PAT      0x3FFFFFFFu
#define KEY_BITS   65536        /* bits of the bitmap of keys */

#define LIT_TAIL 16
struct pf_lit {              /* 32 bytes, the array on a 64-byte boundary (grow_lit):
                                one never straddles two cache lines */
    uint32_t off;          /* its bytes, in pf->bytes */
    uint32_t len;
    uint32_t next;         /* the next literal of the same key */
    uint32_t assoc;        /* its first pattern, index into pf->assoc */
    unsigned char tail[LIT_TAIL];  /* bytes 4.. (the ones after the key), zero-padded:
                                      most literals compare here, without pf->bytes */
};

struct pf_assoc {
    uint32_t pat;          /* pattern id | A_CAND | A_LEAD */
    uint32_t next;
};

struct pf_slot {
    uint32_t key;          /* 0: empty */
    uint32_t lit;
};

/* Literals of six bytes or more are keyed by their first six: with four, the
 * chains of the commonest word beginnings (Russian "пр", "по": two letters)
 * held dozens of literals, most of them read for nothing. */
struct pf_slot6 {
    uint32_t key;          /* the first four bytes */
    uint32_t ext;          /* the next two; 0: empty */
    uint32_t lit;
};

/* A pattern decided here, without PCRE2 (see decide()). */
enum { D_NONE, D_WORD, D_STEM, D_BOUNDED, D_SEQ };   /* (the word kinds together) */
struct pf_decide {
    uint8_t kind;
    uint8_t more;          /* D_BOUNDED: at most this many characters after a string;
                              D_SEQ: elements, at pf->delem[first...] */
    uint16_t n;            /* strings, at pf->dstr[first...] (D_SEQ: in the elements) */
    uint32_t first;
};

/* An element of a D_SEQ pattern, \b w (s w)* \b: a set of strings (w, in
 * the order PCRE2 tries them, perhaps "") or a run of white space (s: \s or
 * [\s-], with ?, *, + or once). */
struct pf_delem {
    uint8_t sep;           /* 0: strings; 1: \s; 2: [\s-] */
    uint8_t min, max;      /* a run's bounds in characters, max 0: no bound */
    uint16_t n;            /* strings, at pf->dstr[first...] */
    uint32_t first;
};
#define MAX_DELEM 8

struct pf_dstr {
    uint32_t off;          /* folded bytes, in pf->bytes */
    uint8_t len, chars;
    uint64_t head;         /* the first (up to) eight of them, zero-padded: most
                              strings compare here, without pf->bytes */
};

struct analyzer_prefilter {
    struct pf_slot *slot;
    uint32_t smask, nkeys;
    struct pf_slot6 *slot6;
    uint32_t s6mask, nkeys6;
    uint32_t keylens;      /* bit k: a key of k bytes (2, 3, 4) is in slot[];
                              bit 1: a literal of one byte is in first1[] */
    uint32_t first1[256];  /* 1-byte literals: index + 1, 0 none */
    uint64_t *keybits;     /* KEY_BITS bits: a key may be in slot[] */
    struct pf_lit *lit;
    uint32_t nlit, caplit;
    uint32_t nlaid;        /* lit[0..nlaid) was laid out chain by chain (lay_chains()) */
    unsigned char *bytes;
    uint32_t nbytes, capbytes;
    struct pf_assoc *assoc;
    uint32_t nassoc, capassoc;
    /* literals not anchored: looked for with memmem */
    struct lit *loose;
    uint32_t *loose_rule;
    uint32_t nloose, caploose;
    uint32_t *always;      /* patterns that always run */
    uint32_t nalways, capalways;
    uint8_t *has_lead;     /* per pattern: its leads are indexed */
    uint32_t caplead;
    struct pf_decide *decide;   /* per pattern (up to ndecide) */
    uint32_t ndecide, capdecide;
    struct pf_dstr *dstr;
    uint32_t ndstr, capdstr;
    struct pf_delem *delem;
    uint32_t ndelem, capdelem;
    uint32_t nrules;
    uint32_t *known;       /* the lists of analyzer_prefilter_word() */
    uint32_t nknown, capknown;
    uint32_t *klist;       /* where list id + 1 starts in known */
    uint32_t nklist, capklist;
    uint16_t fold2[0x800]; /* code points below U+0800: folded | 0x8000 if a word char */
    uint8_t ascii[128];    /* ASCII: the folded word character, 0 for the others */
};

/* Eight bytes at a time on little-endian machines; -DPREFILTER_NO_SWAR
 * builds the plain byte loops instead (to check that they build and
 * agree: test_prefilter linked with such an object). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
    !defined(PREFILTER_NO_SWAR)
#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
/* Bit 7 of each byte of w (ASCII bytes only) that is in lo..hi: a byte plus
 * at most 0x80 never carries into the next. */
static inline uint64_t in_range(uint64_t w, unsigned lo, unsigned hi)
{
    return (w + ONES * (0x80 - lo)) & ~(w + ONES * (0x80 - hi - 1)) & HIGHS;
}

/* Eight ASCII bytes at s of a word: how many of them are word characters
 * (before the first that is not), their folded forms written to out (all
 * eight bytes written). -1 when a byte is outside ASCII. */
static inline int word_ascii8(const unsigned char *s, unsigned char *out)
{
    uint64_t w;
    memcpy(&w, s, 8);
    if (w & HIGHS)
        return -1;
    /* letters of either case: with 0x20 set only 'A'..'Z' and 'a'..'z'
     * land in 'a'..'z'; setting 0x20 in them is their folding */
    uint64_t letter = in_range(w | ONES * 0x20, 'a', 'z');
    uint64_t word = letter | in_range(w, '0', '9') | in_range(w, '_', '_');
    w |= letter >> 2;
    memcpy(out, &w, 8);
    uint64_t stop = ~word & HIGHS;
    return stop ? __builtin_ctzll(stop) >> 3 : 8;
}

/* Four two-byte letters at s of a Russian word, А..Я and а..я (U+0410 to
 * U+044F: all but ё): how many of them there are before the first other
 * character, their lower case (fold_cp()'s) written to out (all eight bytes
 * written). In each 16-bit lane (lead byte low) the letter's number from
 * U+0400, (lead & 1) << 6 | (continuation & 0x3F), is 0x10..0x4F when the
 * lead is D0 or D1; capitals (0x10..0x2F) fold by adding 0x20. */
static inline int cyr_letters4(const unsigned char *s, unsigned char *out)
{
    const uint64_t lanes = 0x0001000100010001ull, tops = 0x8000800080008000ull;
    uint64_t w;
    memcpy(&w, s, 8);
    uint64_t x = (w & 0xC0FEC0FEC0FEC0FEull) ^ 0x80D080D080D080D0ull;     /* 0: D0/D1 80..BF */
    uint64_t other = (((x & ~tops) + ~tops) | x) & tops;
    uint64_t num = (w & lanes) << 6 | ((w >> 8) & 0x3F * lanes);
    uint64_t letter = in_range(num, 0x10, 0x4F) << 8;
    uint64_t low = num + (in_range(num, 0x10, 0x2F) >> 2);
    uint64_t o = 0x80D0 * lanes | ((low >> 6) & lanes) | (low & 0x3F * lanes) << 8;
    memcpy(out, &o, 8);
    uint64_t stop = (other | ~letter) & tops;
    return stop ? __builtin_ctzll(stop) >> 4 : 4;
}

/* The lanes (bit 15 of each 16-bit lane) of w that are the two bytes ё or Ё. */
static inline uint64_t yo_lanes(uint64_t w)
{
    const uint64_t lanes = 0x0001000100010001ull, tops = 0x8000800080008000ull;
    uint64_t x1 = w ^ 0x91D1 * lanes, x2 = w ^ 0x81D0 * lanes;
    return ~((((x1 & ~tops) + ~tops) | x1) & (((x2 & ~tops) + ~tops) | x2)) & tops;
}

/* The first k bytes of a 64-bit word: low_bytes[k], k <= 8. */
static const uint64_t low_bytes[9] = {
    0, 0xFFull, 0xFFFFull, 0xFFFFFFull, 0xFFFFFFFFull, 0xFFFFFFFFFFull,
    0xFFFFFFFFFFFFull, 0xFFFFFFFFFFFFFFull, ~0ull,
};

#define WORD_SWAR 1
#else
#define WORD_SWAR 0
#endif

static uint32_t key_of(const unsigned char *s, size_t len)
{
    uint32_t k = 0;
    for (size_t i = 0; i < len && i < 4; i++)
        k |= (uint32_t)s[i] << (8 * i);
    return k;
}

/* The high bits of a 64-bit product: each depends on every byte of the key
 * (a 32-bit product's low bits see only the first bytes, and keys sharing
 * them, "refu", "refr", crowd into one run of slots). */
static inline uint32_t slot_of(uint32_t key, uint32_t mask)
{
    return (uint32_t)(((uint64_t)key * 0x9E3779B97F4A7C15ull) >> 40) & mask;
}

static inline int key_maybe(const struct analyzer_prefilter *pf, uint32_t key)
{
    uint32_t h = (key * 0x85EBCA77u) >> 16;
    return (pf->keybits[h >> 6] >> (h & 63)) & 1;
}

static uint32_t key_find(const struct analyzer_prefilter *pf, uint32_t key)
{
    if (!pf->slot)
        return NONE32;
    for (uint32_t i = slot_of(key, pf->smask);; i = (i + 1) & pf->smask) {
        if (pf->slot[i].key == key)
            return pf->slot[i].lit;
        if (pf->slot[i].key == 0)
            return NONE32;
    }
}

static inline uint32_t slot6_of(uint32_t key, uint32_t ext, uint32_t mask)
{
    return (uint32_t)((((uint64_t)ext << 32 | key) * 0x9E3779B97F4A7C15ull) >> 40) & mask;
}

static inline uint32_t key6_bit(uint32_t key, uint32_t ext)
{
    return (uint32_t)((((uint64_t)ext << 32 | key) * 0xC2B2AE3D27D4EB4Full) >> 48);
}

static uint32_t key6_find(const struct analyzer_prefilter *pf, uint32_t key, uint32_t ext)
{
    for (uint32_t i = slot6_of(key, ext, pf->s6mask);; i = (i + 1) & pf->s6mask) {
        if (pf->slot6[i].key == key && pf->slot6[i].ext == ext)
            return pf->slot6[i].lit;
        if (pf->slot6[i].ext == 0)
            return NONE32;
    }
}

static void grow(void **v, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return;
    uint32_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    *v = ctx_realloc(*v, (size_t)c * elem);
    *cap = c;
}

/* grow() for pf->lit, keeping it on 64-byte boundaries. */
static void grow_lit(struct analyzer_prefilter *pf, uint32_t need)
{
    if (need <= pf->caplit)
        return;
    uint32_t c = pf->caplit ? pf->caplit : 64;
    while (c < need)
        c *= 2;
    size_t bytes = ((size_t)c * sizeof *pf->lit + 63) & ~(size_t)63;
    struct pf_lit *v = aligned_alloc(64, bytes);
    if (!v)
        ctx_oom(bytes);
    if (pf->nlit)
        memcpy(v, pf->lit, (size_t)pf->nlit * sizeof *v);
    free(pf->lit);
    pf->lit = v;
    pf->caplit = c;
}

static void slots_grow(struct analyzer_prefilter *pf)
{
    uint32_t size = pf->slot ? (pf->smask + 1) * 2 : 1024;
    struct pf_slot *v = ctx_calloc(size, sizeof *v);
    for (uint32_t k = 0; pf->slot && k <= pf->smask; k++) {
        if (!pf->slot[k].key)
            continue;
        uint32_t i = slot_of(pf->slot[k].key, size - 1);
        while (v[i].key)
            i = (i + 1) & (size - 1);
        v[i] = pf->slot[k];
    }
    free(pf->slot);
    pf->slot = v;
    pf->smask = size - 1;
}

static void slots6_grow(struct analyzer_prefilter *pf)
{
    uint32_t size = pf->slot6 ? (pf->s6mask + 1) * 2 : 1024;
    struct pf_slot6 *v = ctx_calloc(size, sizeof *v);
    for (uint32_t k = 0; pf->slot6 && k <= pf->s6mask; k++) {
        if (!pf->slot6[k].ext)
            continue;
        uint32_t i = slot6_of(pf->slot6[k].key, pf->slot6[k].ext, size - 1);
        while (v[i].ext)
            i = (i + 1) & (size - 1);
        v[i] = pf->slot6[k];
    }
    free(pf->slot6);
    pf->slot6 = v;
    pf->s6mask = size - 1;
}

/* Index an anchored literal for pattern rule with flags A_CAND / A_LEAD. */
static void add_anchored(struct analyzer_prefilter *pf, const struct lit *l, uint32_t rule,
                        uint32_t flags)
{
    int six = l->len >= 6;
    uint32_t key = key_of(l->s, l->len), ext = six ? l->s[4] | (uint32_t)l->s[5] << 8 : 0;
    uint32_t head = l->len == 1 ? pf->first1[l->s[0]] - 1
                    : six       ? key6_find(pf, key, ext)
                                : key_find(pf, key);
    uint32_t id = head;
    while (id != NONE32 && !(pf->lit[id].len == l->len &&
                             memcmp(pf->bytes + pf->lit[id].off, l->s, l->len) == 0))
        id = pf->lit[id].next;
    if (id == NONE32) {
        grow_lit(pf, pf->nlit + 1);
        grow((void **)&pf->bytes, &pf->capbytes, pf->nbytes + l->len, 1);
        if (l->len > 1 && !six && head == NONE32 &&
            (uint64_t)(pf->nkeys + 1) * 2 > (uint64_t)pf->smask + 1)
            slots_grow(pf);
        if (six && head == NONE32 && (uint64_t)(pf->nkeys6 + 1) * 2 > (uint64_t)pf->s6mask + 1)
            slots6_grow(pf);
        id = pf->nlit++;
        pf->lit[id] = (struct pf_lit){.off = pf->nbytes, .len = l->len, .next = head,
                                      .assoc = NONE32};
        for (uint32_t k = 4; k < l->len && k < 4 + LIT_TAIL; k++)
            pf->lit[id].tail[k - 4] = l->s[k];
        memcpy(pf->bytes + pf->nbytes, l->s, l->len);
        pf->nbytes += l->len;
        if (l->len == 1) {
            pf->first1[l->s[0]] = id + 1;
            pf->keylens |= 2;
        } else if (six) {
            uint32_t i = slot6_of(key, ext, pf->s6mask);
            while (pf->slot6[i].ext && !(pf->slot6[i].key == key && pf->slot6[i].ext == ext))
                i = (i + 1) & pf->s6mask;
            if (!pf->slot6[i].ext)
                pf->nkeys6++;
            pf->slot6[i] = (struct pf_slot6){.key = key, .ext = ext, .lit = id};
            uint32_t h = key6_bit(key, ext);
            pf->keybits[h >> 6] |= 1ull << (h & 63);
        } else {
            uint32_t i = slot_of(key, pf->smask);
            while (pf->slot[i].key && pf->slot[i].key != key)
                i = (i + 1) & pf->smask;
            if (!pf->slot[i].key)
                pf->nkeys++;
            pf->slot[i].key = key;
            pf->slot[i].lit = id;
            pf->keylens |= 1u << (l->len < 4 ? l->len : 4);
            uint32_t h = (key * 0x85EBCA77u) >> 16;
            pf->keybits[h >> 6] |= 1ull << (h & 63);
        }
    }
    for (uint32_t a = pf->lit[id].assoc; a != NONE32; a = pf->assoc[a].next)
        if ((pf->assoc[a].pat & A_PAT) == rule) {
            pf->assoc[a].pat |= flags;
            return;
        }
    grow((void **)&pf->assoc, &pf->capassoc, pf->nassoc + 1, sizeof *pf->assoc);
    pf->assoc[pf->nassoc] = (struct pf_assoc){.pat = rule | flags, .next = pf->lit[id].assoc};
    pf->lit[id].assoc = pf->nassoc++;
}

struct analyzer_prefilter *analyzer_prefilter_new(void)
{
    struct analyzer_prefilter *pf = ctx_calloc(1, sizeof *pf);
    pf->keybits = ctx_calloc(KEY_BITS / 64, sizeof *pf->keybits);
    slots_grow(pf);
    slots6_grow(pf);
    for (uint32_t c = 0; c < 0x800; c++) {
        uint32_t f = c < 0x80 ? (c - 'A' < 26u ? c + 32 : c) : fold_cp(c);
        pf->fold2[c] = (uint16_t)(f | (sure_word(f) ? 0x8000 : 0));
        if (c < 0x80)
            pf->ascii[c] = sure_word(f) ? (uint8_t)f : 0;
    }
    return pf;
}

void analyzer_prefilter_free(struct analyzer_prefilter *pf)
{
    if (!pf)
        return;
    free(pf->slot);
    free(pf->slot6);
    free(pf->keybits);
    free(pf->lit);
    free(pf->bytes);
    free(pf->assoc);
    free(pf->loose);
    free(pf->loose_rule);
    free(pf->always);
    free(pf->has_lead);
    free(pf->decide);
    free(pf->dstr);
    free(pf->delem);
    free(pf->known);
    free(pf->klist);
    free(pf);
}

/* Parse a whole pattern; NULL when it is not understood. */
static struct piece *parse_pattern(const char *pattern, size_t len)
{
    struct parser ps = {.p = (const unsigned char *)pattern,
                        .end = (const unsigned char *)pattern + len};
    struct piece *pc = ctx_malloc(sizeof *pc);
    parse_alt(&ps, pc, 0);
    if (ps.bad || ps.p != ps.end) {
        free(pc);
        return NULL;
    }
    exact_to_req(pc);
    return pc;
}

int analyzer_prefilter_required(const char *pattern, size_t len, char (*lits)[MAX_PF_LIT + 1],
                                int *anchored, unsigned max)
{
    struct piece *pc = parse_pattern(pattern, len);
    int n = -1;
    if (pc && pc->kind == P_REQ && pc->nreq <= max) {
        n = (int)pc->nreq;
        for (unsigned k = 0; k < pc->nreq; k++) {
            memcpy(lits[k], pc->req[k].s, pc->req[k].len);
            lits[k][pc->req[k].len] = '\0';
            anchored[k] = pc->req[k].anchored;
        }
    }
    free(pc);
    return n;     /* -1: no requirement */
}

/* ---- patterns decided without PCRE2 ------------------------------------ */

/* Some patterns are simple enough to be matched here, exactly as PCRE2
 * would, from the word at a hit:
 *
 *     \b SEQ \b           the word is one of the strings of SEQ
 *     \b SEQ \w*          the word starts with one of them
 *     \b SEQ \w{0,k}\b    ... and has at most k more characters
 *
 * where SEQ is made of word characters (letters, digits, "_") that fold()
 * knows, groups ( ) (?: ), "|" inside groups and "?" after a character or
 * a group: a finite set of strings, none empty. A match starts at a word
 * start (\b before a word character) and, the strings being words, ends at
 * the end of the word (\b after one, or \w* / \w{0,k}\b eating the rest),
 * so it is unique: at most one string fits, and the span is the word.
 * Caseless equality is equality of the folded text: checked for every
 * character these strings may hold against every code point (PCRE2 10.42).
 * What remains uncertain is where the word ends for PCRE2: a character
 * outside the scripts fold() knows may be \w (a letter of another script,
 * a combining mark in newer PCRE2). So the word must be bounded by ASCII or
 * the ends of the text on both sides; otherwise PCRE2 decides. */

#define MAX_DSTR 64        /* strings of a decided pattern */

static inline uint32_t word_char(const struct analyzer_prefilter *pf, const unsigned char *s,
                                 size_t len, size_t i, size_t *adv);

struct dset {
    unsigned n;
    struct lit v[MAX_DSTR];
};

static int d_alt(const unsigned char **p, const unsigned char *end, struct dset *out, int top);

/* One item: a word character or a group, and an optional "?". */
static int d_item(const unsigned char **pp, const unsigned char *end, struct dset *out)
{
    const unsigned char *p = *pp;
    if (*p == '(') {
        p++;
        if (p + 1 < end && p[0] == '?' && p[1] == ':')
            p += 2;
        else if (p < end && *p == '?')
            return -1;
        if (d_alt(&p, end, out, 0) < 0 || p >= end || *p != ')')
            return -1;
        p++;
    } else {
        size_t adv;
        uint32_t c = ctx_utf8_decode(p, (size_t)(end - p), &adv);
        if (!foldable(c) || !sure_word(c) || (c >= 0x80 && adv < 2))
            return -1;
        out->n = 1;
        out->v[0].len = (uint8_t)put_utf8(fold_cp(c), out->v[0].s);
        out->v[0].anchored = 1;            /* here: the number of characters */
        p += adv;
    }
    if (p < end && *p == '?') {
        p++;
        if (p < end && (*p == '?' || *p == '+'))
            return -1;
        if (out->n == MAX_DSTR)
            return -1;
        out->v[out->n].len = 0;
        out->v[out->n].anchored = 0;
        out->n++;
    }
    if (p < end && (*p == '*' || *p == '+' || *p == '{'))
        return -1;
    *pp = p;
    return 0;
}

/* A sequence of items: every string of each, one after the other. */
static int d_seq(const unsigned char **pp, const unsigned char *end, struct dset *out)
{
    struct dset *item = ctx_malloc(sizeof *item), *next = ctx_malloc(sizeof *next);
    int rc = 0;
    out->n = 1;
    out->v[0].len = 0;
    out->v[0].anchored = 0;
    while (rc == 0 && *pp < end && **pp != '|' && **pp != ')' && **pp != '\\' &&
           **pp != '[') {
        if ((rc = d_item(pp, end, item)) < 0)
            break;
        next->n = 0;
        for (unsigned a = 0; a < out->n && rc == 0; a++)
            for (unsigned b = 0; b < item->n && rc == 0; b++) {
                if (next->n == MAX_DSTR || out->v[a].len + item->v[b].len > MAX_LIT) {
                    rc = -1;
                    break;
                }
                struct lit *l = &next->v[next->n++];
                *l = out->v[a];
                memcpy(l->s + l->len, item->v[b].s, item->v[b].len);
                l->len = (uint8_t)(l->len + item->v[b].len);
                l->anchored = (uint8_t)(l->anchored + item->v[b].anchored);
            }
        if (rc == 0)
            memcpy(out, next, sizeof *out);
    }
    free(item);
    free(next);
    return rc;
}

static int d_alt(const unsigned char **pp, const unsigned char *end, struct dset *out, int top)
{
    if (d_seq(pp, end, out) < 0)
        return -1;
    while (*pp < end && **pp == '|') {
        if (top)
            return -1;                     /* \ba|b\b is (\ba)|(b\b) */
        (*pp)++;
        struct dset *b = ctx_malloc(sizeof *b);
        if (d_seq(pp, end, b) < 0 || out->n + b->n > MAX_DSTR) {
            free(b);
            return -1;
        }
        memcpy(out->v + out->n, b->v, b->n * sizeof *b->v);
        out->n += b->n;
        free(b);
    }
    return 0;
}

/* The decision record of a pattern, or kind D_NONE. */
static int decidable(const char *pattern, size_t len, struct dset *set, int *kind, unsigned *more)
{
    const unsigned char *p = (const unsigned char *)pattern, *end = p + len;
    *kind = D_NONE;
    if (len < 4 || memcmp(p, "\\b", 2) != 0)
        return 0;
    p += 2;
    if (d_alt(&p, end, set, 1) < 0 || set->n == 0)
        return 0;
    for (unsigned k = 0; k < set->n; k++)
        if (set->v[k].len == 0)
            return 0;
    size_t rest = (size_t)(end - p);
    if (rest == 2 && memcmp(p, "\\b", 2) == 0) {
        *kind = D_WORD;
    } else if (rest == 3 && memcmp(p, "\\w*", 3) == 0) {
        *kind = D_STEM;
    } else if (rest == 9 && memcmp(p, "\\w{0,", 5) == 0 && p[5] >= '0' && p[5] <= '9' &&
               memcmp(p + 6, "}\\b", 3) == 0) {
        *kind = D_BOUNDED;
        *more = (unsigned)(p[5] - '0');
    }
    return *kind != D_NONE;
}

/* A D_SEQ pattern: \b, then elements (strings and runs of white space, the
 * first and last strings without ""), then \b at the end. Its strings go to
 * set (each element's after the previous one's), the elements to el. The
 * number of elements, 0 when the pattern is not such. */
static unsigned seq_decidable(const char *pattern, size_t len, struct dset *set,
                              struct pf_delem *el)
{
    const unsigned char *p = (const unsigned char *)pattern, *end = p + len;
    unsigned n = 0;
    set->n = 0;
    if (len < 4 || memcmp(p, "\\b", 2) != 0)
        return 0;
    p += 2;
    struct dset *w = ctx_malloc(sizeof *w);
    while (p < end) {
        if (end - p == 2 && memcmp(p, "\\b", 2) == 0)
            break;
        if (n == MAX_DELEM)
            goto no;
        struct pf_delem *e = &el[n];
        if (end - p >= 2 && memcmp(p, "\\s", 2) == 0) {
            e->sep = 1;
            p += 2;
        } else if (end - p >= 5 && memcmp(p, "[\\s-]", 5) == 0) {
            e->sep = 2;
            p += 5;
        } else {
            e->sep = 0;
        }
        if (e->sep) {
            if (n == 0 || el[n - 1].sep)
                goto no;                    /* a run after a string only */
            e->min = 1;
            e->max = 1;
            if (p < end && (*p == '+' || *p == '*' || *p == '?')) {
                e->min = *p == '+';
                e->max = *p == '?';
                p++;
            }
            if (p < end && (*p == '?' || *p == '+' || *p == '{' || *p == '*'))
                goto no;                    /* lazy, possessive, counted */
            e->n = 0;
            n++;
            continue;
        }
        const unsigned char *q = p;
        if (d_seq(&p, end, w) < 0 || p == q || (p < end && (*p == '|' || *p == ')')) ||
            set->n + w->n > MAX_DSTR)
            goto no;
        e->n = (uint16_t)w->n;
        e->first = set->n;
        for (unsigned k = 0; k < w->n; k++) {
            if ((n == 0 || p == end - 2) && w->v[k].len == 0)
                goto no;                    /* the first and last strings are words */
            set->v[set->n++] = w->v[k];
        }
        n++;
    }
    if (p != end - 2 || n < 3 || el[n - 1].sep)
        goto no;
    free(w);
    return n;
no:
    free(w);
    return 0;
}

static void add_decide(struct analyzer_prefilter *pf, uint32_t rule, const char *pattern,
                       size_t len)
{
    struct dset *set = ctx_malloc(sizeof *set);
    int kind;
    unsigned more = 0;
    struct pf_delem el[MAX_DELEM];
    unsigned nel = 0;
    if (!decidable(pattern, len, set, &kind, &more) &&
        (nel = seq_decidable(pattern, len, set, el)) > 0) {
        kind = D_SEQ;
        more = (unsigned)nel;
    }
    if (kind != D_NONE) {
        uint32_t bytes = 0;
        for (unsigned k = 0; k < set->n; k++)
            bytes += set->v[k].len;
        uint32_t cap = pf->capdecide;
        grow((void **)&pf->decide, &cap, rule + 1, sizeof *pf->decide);
        grow((void **)&pf->dstr, &pf->capdstr, pf->ndstr + set->n, sizeof *pf->dstr);
        grow((void **)&pf->bytes, &pf->capbytes, pf->nbytes + bytes, 1);
        if (cap != pf->capdecide) {
            memset(pf->decide + pf->capdecide, 0, (cap - pf->capdecide) * sizeof *pf->decide);
            pf->capdecide = cap;
        }
        pf->decide[rule] = (struct pf_decide){.kind = (uint8_t)kind, .more = (uint8_t)more,
                                              .n = (uint16_t)set->n, .first = pf->ndstr};
        if (kind == D_SEQ) {
            grow((void **)&pf->delem, &pf->capdelem, pf->ndelem + nel, sizeof *pf->delem);
            pf->decide[rule].first = pf->ndelem;
            for (unsigned k = 0; k < nel; k++) {
                el[k].first += pf->ndstr;     /* into pf->dstr */
                pf->delem[pf->ndelem++] = el[k];
            }
        }
        for (unsigned k = 0; k < set->n; k++) {
            struct pf_dstr *x = &pf->dstr[pf->ndstr++];
            *x = (struct pf_dstr){.off = pf->nbytes, .len = set->v[k].len,
                                  .chars = set->v[k].anchored};
            memcpy(&x->head, set->v[k].s, set->v[k].len < 8 ? set->v[k].len : 8);
            memcpy(pf->bytes + pf->nbytes, set->v[k].s, set->v[k].len);
            pf->nbytes += set->v[k].len;
        }
        if (rule + 1 > pf->ndecide)
            pf->ndecide = rule + 1;
    }
    free(set);
}

/* ---- sequences (D_SEQ) --------------------------------------------------- */

/* The folded character at s[i] when it is one whose caseless matching this
 * file knows (ASCII; two bytes, in the blocks of foldable()), its length in
 * *adv; -1 for the others. */
static inline long seq_char(const struct analyzer_prefilter *pf, const unsigned char *s,
                            size_t len, size_t i, size_t *adv)
{
    unsigned c = s[i];
    *adv = 1;
    if (c < 0x80)
        return (long)(c - 'A' < 26u ? c + 32 : c);
    if (c >= 0xC2 && c < 0xE0 && i + 1 < len && (s[i + 1] & 0xC0) == 0x80) {
        uint32_t cp = (c & 0x1Fu) << 6 | (s[i + 1] & 0x3Fu);
        if (!foldable(cp))
            return -1;
        *adv = 2;
        return (long)(pf->fold2[cp] & 0x7FFF);
    }
    return -1;
}

/* Is the character at s[i] \w for PCRE2 (1), not (0), or not known here
 * (-1)? i == len: not. */
static inline int seq_word_at(const struct analyzer_prefilter *pf, const unsigned char *s,
                              size_t len, size_t i)
{
    if (i >= len)
        return 0;
    if (s[i] < 0x80)
        return pf->ascii[s[i]] != 0;
    if (s[i] >= 0xC2 && s[i] < 0xE0 && i + 1 < len && (s[i + 1] & 0xC0) == 0x80 &&
        (pf->fold2[(s[i] & 0x1Fu) << 6 | (s[i + 1] & 0x3Fu)] & 0x8000))
        return 1;
    return -1;
}

/* The same for the character that ends at s[i - 1] (i > 0). */
static inline int seq_word_before(const struct analyzer_prefilter *pf, const unsigned char *s,
                                  size_t len, size_t i)
{
    if (s[i - 1] < 0x80)
        return pf->ascii[s[i - 1]] != 0;
    if (i >= 2 && s[i - 2] >= 0xC2 && s[i - 2] < 0xE0)
        return seq_word_at(pf, s, len, i - 2);
    return -1;
}

/* Does the string x (folded, pattern characters only) match s at i? 1 and
 * its end in *e, 0, or -1 when a character of s is not known here. */
static int seq_str(const struct analyzer_prefilter *pf, const struct pf_dstr *x,
                   const unsigned char *s, size_t len, size_t i, size_t *e)
{
    const unsigned char *b = pf->bytes + x->off;
    size_t k = 0;
#if WORD_SWAR
    if (i + 8 <= len) {
        /* ASCII text: folded eight bytes at a time (letters with 0x20 set)
         * and compared with the string's head (its first eight bytes);
         * anything else, and a longer string's rest, byte by byte */
        uint64_t t, mask = x->len >= 8 ? ~0ull : (1ull << (8 * x->len)) - 1;
        memcpy(&t, s + i, 8);
        if (!(t & mask & HIGHS)) {
            t |= in_range(t | ONES * 0x20, 'a', 'z') >> 2;
            if ((t & mask) != x->head)
                return 0;
            if (x->len <= 8) {
                *e = i + x->len;
                return 1;
            }
            k = 8;          /* the head is ASCII: eight characters */
            i += 8;
        }
    }
#endif
    while (k < x->len) {
        if (i >= len)
            return 0;
        size_t adv, padv = 1;
        long c = seq_char(pf, s, len, i, &adv);
        if (c < 0)
            return -1;
        uint32_t pc = b[k] < 0x80 ? b[k] : ctx_utf8_decode(b + k, x->len - k, &padv);
        if ((uint32_t)c != pc)
            return 0;
        i += adv;
        k += padv;
    }
    *e = i;
    return 1;
}

#define SEQ_STEPS 4096         /* tries before PCRE2 is asked instead */

/* Elements k.. of d from s[i] on, in PCRE2's order (strings as listed,
 * runs longest first), then \b: 1 with the match's end, 0, -1 not known. */
static int seq_from(const struct analyzer_prefilter *pf, const struct pf_delem *el,
                    unsigned k, unsigned nel, const unsigned char *s, size_t len, size_t i,
                    size_t *end, unsigned *steps)
{
    if (++*steps > SEQ_STEPS)
        return -1;
    if (k == nel) {
        int a = seq_word_before(pf, s, len, i), b = seq_word_at(pf, s, len, i);
        if (a < 0 || b < 0)
            return -1;
        if (a == b)
            return 0;
        *end = i;
        return 1;
    }
    const struct pf_delem *e = &el[k];
    if (!e->sep) {
        for (unsigned j = 0; j < e->n; j++) {
            size_t to;
            int r = seq_str(pf, &pf->dstr[e->first + j], s, len, i, &to);
            if (r == 1)
                r = seq_from(pf, el, k + 1, nel, s, len, to, end, steps);
            if (r != 0)
                return r;
        }
        return 0;
    }
    /* the run: ASCII white space (and "-"); a letter of two bytes ends it,
     * any other character outside ASCII may be white space: not known */
    size_t run = 0, j = i;
    while (j < len && (e->max == 0 || run < e->max)) {
        unsigned c = s[j];
        if (c >= 0x80) {
            if (seq_word_at(pf, s, len, j) == 1)
                break;
            return -1;
        }
        if (!(c == ' ' || (c >= 9 && c <= 13) || (c == '-' && e->sep == 2)))
            break;
        run++;
        j++;
    }
    if (run < e->min)
        return 0;
    for (;; run--) {            /* ASCII: a character is a byte */
        int r = seq_from(pf, el, k + 1, nel, s, len, i + run, end, steps);
        if (r != 0)
            return r;
        if (run == e->min)
            return 0;
    }
}

/* Whether a pattern d of a word kind (D_WORD, D_STEM, D_BOUNDED) matches
 * the word w (folded, n bytes, chars characters; the first min(n, MAX_LIT)
 * in w, the bytes past n in w[0..8) anything) bounded by ASCII that is not
 * \w or the ends of the text on both sides: 1 or 0. */
static int decide_word(const struct analyzer_prefilter *pf, const struct pf_decide *d,
                       const unsigned char *w, size_t n, size_t chars)
{
#if WORD_SWAR
    /* a string is a prefix of the word when its head is equal to the
     * word's first bytes, the word's bytes past n taken as 0 (a string's
     * are not 0): no test of its length against the word's for the short
     * ones. That and whether the rest of the word fits the kind are one
     * branch a string. */
    uint64_t w8;
    memcpy(&w8, w, 8);
    w8 &= low_bytes[n < 8 ? n : 8];
    int whole = d->kind == D_WORD, bounded = d->kind == D_BOUNDED;
    for (unsigned k = 0; k < d->n; k++) {
        const struct pf_dstr *x = &pf->dstr[d->first + k];
        int eq = (w8 & low_bytes[x->len < 8 ? x->len : 8]) == x->head;
        int fits = (!whole | (x->len == n)) & (!bounded | (chars - x->chars <= d->more));
        if (eq & fits) {
            if (x->len <= 8 ||
                (x->len <= n && memcmp(pf->bytes + x->off + 8, w + 8, x->len - 8u) == 0))
                return 1;
        }
    }
#else
    for (unsigned k = 0; k < d->n; k++) {
        const struct pf_dstr *x = &pf->dstr[d->first + k];
        if (x->len > n || memcmp(pf->bytes + x->off, w, x->len) != 0)
            continue;
        if (d->kind == D_STEM || (d->kind == D_WORD && x->len == n) ||
            (d->kind == D_BOUNDED && chars - x->chars <= d->more))
            return 1;
    }
#endif
    return 0;
}

int analyzer_prefilter_decide(const struct analyzer_prefilter *pf, uint32_t rule,
                              const char *text, size_t len, size_t at, size_t *end)
{
    if (!pf || rule >= pf->ndecide || pf->decide[rule].kind == D_NONE || at >= len)
        return -1;
    const struct pf_decide *d = &pf->decide[rule];
    const unsigned char *s = (const unsigned char *)text;
    if (at > 0 && (s[at - 1] >= 0x80 || pf->ascii[s[at - 1]]))
        return -1;                         /* not after ASCII that is not \w */
    if (d->kind == D_SEQ) {
        unsigned steps = 0;
        return seq_from(pf, pf->delem + d->first, 0, d->more, s, len, at, end, &steps);
    }
    unsigned char w[MAX_LIT + 4];
    memset(w, 0, 8);                       /* (decide_word() reads eight) */
    size_t i = at, n = 0, chars = 0, adv;
    uint32_t f;
    while (i < len) {
#if WORD_SWAR
        int k;
        if (i + 8 <= len && n + 8 <= MAX_LIT && (k = word_ascii8(s + i, w + n)) >= 0) {
            /* ...or past the strings compared with them (x->len <= n) */
            n += (size_t)k;
            chars += (size_t)k;
            i += (size_t)k;
            if (k < 8)
                break;                     /* an ASCII character that is not \w */
            continue;
        }
#endif
        if (s[i] < 0x80) {
            if (!(f = pf->ascii[s[i]]))
                break;
            adv = 1;
        } else {
#if WORD_SWAR
            if ((s[i] == 0xD0 || s[i] == 0xD1) && i + 8 <= len && n + 8 <= MAX_LIT) {
                /* up to four letters of a Russian word at a time, not one
                 * at a time through word_char(); after fewer, the next
                 * character is most often the ASCII that ends the word,
                 * taken here (the loop's first tests would miss) */
                int k = cyr_letters4(s + i, w + n);
                n += 2 * (size_t)k;
                chars += (size_t)k;
                i += 2 * (size_t)k;
                if (k == 4)
                    continue;
                if (s[i] < 0x80) {
                    if (!pf->ascii[s[i]])
                        break;
                    continue;
                }
            }
#endif
            if (!(f = word_char(pf, s, len, i, &adv)))
                return -1;                 /* a character that may be \w */
        }
        if (n < MAX_LIT)
            put_utf8(f, w + n);
        n += f < 0x800 ? 2 - (f < 0x80) : f < 0x10000 ? 3 : 4;
        chars++;
        i += adv;
    }
    if (chars == 0)
        return 0;
    *end = i;
    return decide_word(pf, d, w, n, chars);
}

int analyzer_prefilter_add(struct analyzer_prefilter *pf, uint32_t rule, const char *pattern,
                           size_t len)
{
    if (rule > A_PAT)
        return -1;
    if (rule + 1 > pf->nrules)
        pf->nrules = rule + 1;
    struct piece *pc = parse_pattern(pattern, len);
    if (!pc || pc->kind != P_REQ || pc->nreq == 0) {
        if (!(pf->nalways && pf->always[pf->nalways - 1] == rule)) {
            grow((void **)&pf->always, &pf->capalways, pf->nalways + 1, sizeof *pf->always);
            pf->always[pf->nalways++] = rule;
        }
    } else {
        for (unsigned k = 0; k < pc->nreq; k++) {
            const struct lit *l = &pc->req[k];
            if (l->anchored) {
                add_anchored(pf, l, rule, A_CAND);
                continue;
            }
            /* the two arrays share one capacity */
            uint32_t cap = pf->caploose;
            grow((void **)&pf->loose, &cap, pf->nloose + 1, sizeof *pf->loose);
            cap = pf->caploose;
            grow((void **)&pf->loose_rule, &cap, pf->nloose + 1, sizeof *pf->loose_rule);
            pf->caploose = cap;
            pf->loose[pf->nloose] = *l;
            pf->loose_rule[pf->nloose++] = rule;
        }
    }
    if (pc && pc->lead.kind == L_SET) {
        uint32_t cap = pf->caplead;
        grow((void **)&pf->has_lead, &cap, rule + 1, 1);
        memset(pf->has_lead + pf->caplead, 0, cap - pf->caplead);
        pf->caplead = cap;
        for (unsigned k = 0; k < pc->lead.n; k++)
            add_anchored(pf, &pc->lead.v[k], rule, A_LEAD);
        pf->has_lead[rule] = 1;
        add_decide(pf, rule, pattern, len);
    }
    free(pc);
    return 0;
}

int analyzer_prefilter_leads(const struct analyzer_prefilter *pf, uint32_t rule)
{
    return pf && rule < pf->caplead && pf->has_lead[rule];
}

/* ---- scanning ------------------------------------------------------------ */

struct scan {
    const unsigned char *s;  /* the text (for the words' decisions in chain_hits()) */
    size_t len;
    uint64_t *bits;
    uint64_t words;        /* bit w & 63: bits[w] may have a bit set (each
                              word that has one has its bit here) */
    uint64_t *hits;
    size_t *ends;          /* per hit (scan_known()): where its match ends when
                              decided here, PF_NOT_SURE when not */
    size_t nhits, max;
};

static inline void mark(struct scan *sc, uint32_t r)
{
    sc->bits[r >> 6] |= 1ull << (r & 63);
    sc->words |= 1ull << ((r >> 6) & 63);
}

/* Fold s into out (at most 4 bytes per input character... in practice at
 * most the same length plus what special folds add; out has room for
 * 2 * len + 4). Returns the folded length. */
static size_t fold_text(const struct analyzer_prefilter *pf, const unsigned char *s, size_t len,
                        unsigned char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned c = s[i];
        if (c < 0x80) {
            out[o++] = (unsigned char)(c - 'A' < 26u ? c + 32 : c);
            i++;
            continue;
        }
        if (c >= 0xC2 && c < 0xE0 && i + 1 < len && (s[i + 1] & 0xC0) == 0x80) {
            /* two bytes: fold_cp() from the table */
            o += put_utf8(pf->fold2[(c & 0x1F) << 6 | (s[i + 1] & 0x3F)] & 0x7FFFu, out + o);
            i += 2;
            continue;
        }
        size_t adv;
        uint32_t cp = ctx_utf8_decode(s + i, len - i, &adv);
        o += put_utf8(fold_cp(cp), out + o);
        i += adv;
    }
    return o;
}

/* Which bytes of a tail a literal of len bytes has: tail_mask[min(len, 20)]. */
static const uint64_t tail_mask[4 + LIT_TAIL + 1][2] = {
    {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0},
    {0xFFull, 0}, {0xFFFFull, 0}, {0xFFFFFFull, 0}, {0xFFFFFFFFull, 0},
    {0xFFFFFFFFFFull, 0}, {0xFFFFFFFFFFFFull, 0}, {0xFFFFFFFFFFFFFFull, 0},
    {~0ull, 0}, {~0ull, 0xFFull}, {~0ull, 0xFFFFull}, {~0ull, 0xFFFFFFull},
    {~0ull, 0xFFFFFFFFull}, {~0ull, 0xFFFFFFFFFFull}, {~0ull, 0xFFFFFFFFFFFFull},
    {~0ull, 0xFFFFFFFFFFFFFFull}, {~0ull, ~0ull},
};

/* A lead of pattern p (a word kind of decide(): D_WORD, D_STEM, D_BOUNDED)
 * at the folded word w of n bytes, bounded as decide() needs: 1 when it
 * matches there, 0 when it cannot, -1 when the word is too long to say. */
static int lead_decided(const struct analyzer_prefilter *pf, uint32_t p, const unsigned char *w,
                        size_t n)
{
    const struct pf_decide *d = &pf->decide[p];
    if (n > MAX_LIT)
        return -1;
    size_t chars = n;           /* less the continuation bytes, for D_BOUNDED */
#if WORD_SWAR
    if (d->kind == D_BOUNDED) {
        for (size_t k = 0; k < n; k += 8) {     /* (w has MAX_LIT + 4 bytes) */
            uint64_t x;
            memcpy(&x, w + k, 8);
            x &= low_bytes[n - k < 8 ? n - k : 8];
            chars -= (size_t)__builtin_popcountll(x & ~(x << 1) & HIGHS);
        }
    }
#else
    if (d->kind == D_BOUNDED)
        for (size_t k = 0; k < n; k++)
            chars -= (w[k] & 0xC0) == 0x80;
#endif
    return decide_word(pf, d, w, n, chars);
}

/* The literals of chain id that are prefixes of the folded word w (n bytes,
 * the first min(n, MAX_LIT) of them in w; w[4..4 + LIT_TAIL) can be read).
 * The key (a literal's first four bytes, or all) is equal; a literal of at
 * most 4 + LIT_TAIL bytes is a prefix when its tail is equal to the word's
 * bytes 4..len: one masked compare, without a test of its length against
 * the word's (the word's bytes past n are taken as 0, which a longer
 * literal's are not: no literal has a 0 byte).
 *
 * When the scan keeps sure hits (sc->ends), the word starts at
 * sc->s[at] and the walk stopped at sc->s[past] (past the ASCII character
 * that is not \w which ended it, at another character that ended it, or at
 * the end of the text), a lead of a pattern decide() takes word by word is
 * decided here, on the folded word at hand, as analyzer_prefilter_word()
 * does for known words, when the word is bounded as decide() needs (ASCII
 * that is not \w or the ends of the text on both sides): no hit when it
 * cannot match, a sure one when it does (decide() would fold the word
 * again for each such hit). */
static void chain_hits(const struct analyzer_prefilter *pf, uint32_t id, const unsigned char *w,
                       size_t n, uint32_t at, size_t past, struct scan *sc)
{
    _Static_assert(LIT_TAIL == 16, "a tail is two 64-bit words");
    uint64_t w0, w1;
    memcpy(&w0, w + 4, 8);
    memcpy(&w1, w + 12, 8);
    const uint64_t *wm = tail_mask[n < 4 + LIT_TAIL ? n : 4 + LIT_TAIL];
    w0 &= wm[0];
    w1 &= wm[1];
    for (; id != NONE32; id = pf->lit[id].next) {
        const struct pf_lit *l = &pf->lit[id];
        uint64_t t0, t1;
        memcpy(&t0, l->tail, 8);
        memcpy(&t1, l->tail + 8, 8);
        const uint64_t *m = tail_mask[l->len < 4 + LIT_TAIL ? l->len : 4 + LIT_TAIL];
        if (((w0 & m[0]) ^ t0) | ((w1 & m[1]) ^ t1))
            continue;
        if (l->len > 4 + LIT_TAIL) {
            if (l->len > n)
                continue;
            const unsigned char *b = pf->bytes + l->off;
            uint32_t i = 4 + LIT_TAIL;
            while (i < l->len && b[i] == w[i])
                i++;
            if (i < l->len)
                continue;
        }
        for (uint32_t a = l->assoc; a != NONE32; a = pf->assoc[a].next) {
            uint32_t p = pf->assoc[a].pat;
            if (p & A_CAND)
                mark(sc, p & A_PAT);
            if (p & A_LEAD) {
                uint32_t q = p & A_PAT;
                uint64_t hit = (uint64_t)q << 32 | at;
                int r = -1;
                size_t end = 0;
                if (sc->ends && q < pf->ndecide &&
                    (unsigned)pf->decide[q].kind - D_WORD <= D_BOUNDED - D_WORD &&
                    (at == 0 || sc->s[at - 1] < 0x80)) {
                    unsigned c = sc->s[past - 1];
                    if (c < 0x80 && !pf->ascii[c])
                        end = past - 1;     /* ended by ASCII that is not \w */
                    else if (past == sc->len)
                        end = past;
                    if (end)
                        r = lead_decided(pf, q, w, n);
                }
                if (r == 0)
                    continue;           /* no match starts here */
                if (sc->nhits < sc->max) {
                    sc->hits[sc->nhits] = hit;
                    if (sc->ends)
                        sc->ends[sc->nhits] = r == 1 ? end : PF_NOT_SURE;
                }
                sc->nhits++;
            }
        }
    }
}

static inline __attribute__((always_inline)) void
word_hits(const struct analyzer_prefilter *pf, const unsigned char *w, size_t n, uint32_t at,
          size_t past, struct scan *sc)
{
    static const uint32_t first_bytes[5] = {0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF};
    uint32_t k3 = (uint32_t)w[0] | (uint32_t)w[1] << 8 | (uint32_t)w[2] << 16;
    uint32_t k4 = k3 | (uint32_t)w[3] << 24;
    if (pf->keylens & 14) {
        /* literals shorter than four bytes: rare, asked once */
        if (pf->first1[w[0]])
            chain_hits(pf, pf->first1[w[0]] - 1, w, n, at, past, sc);
        if (n < 2)
            return;
        uint32_t k2 = k3 & 0xFFFF;
        if ((pf->keylens & 4) && key_maybe(pf, k2))
            chain_hits(pf, key_find(pf, k2), w, n, at, past, sc);
        if (n < 3)
            return;
        if ((pf->keylens & 8) && key_maybe(pf, k3))
            chain_hits(pf, key_find(pf, k3), w, n, at, past, sc);
        if (n < 4)
            return;
    }
    /* without those, a word shorter than four bytes needs no test of its
     * own: its bytes past n as 0 make a key that no literal has (its bytes
     * are not 0), which key_find() does not find */
    k4 &= first_bytes[n < 4 ? n : 4];
    if (key_maybe(pf, k4))
        chain_hits(pf, key_find(pf, k4), w, n, at, past, sc);
    /* the literals of six bytes or more; a shorter word's two bytes past
     * the fourth as 0, which no literal has */
    static const uint32_t ext_bytes[7] = {0, 0, 0, 0, 0, 0, 0xFFFF};
    /* (the mask from a table: as a conditional, a branch on the word's
     * length that the data decides) */
    uint32_t ext = ((uint32_t)w[4] | (uint32_t)w[5] << 8) & ext_bytes[n < 6 ? n : 6];
    uint32_t h = key6_bit(k4, ext);
    if ((pf->keybits[h >> 6] >> (h & 63)) & 1)
        chain_hits(pf, key6_find(pf, k4, ext), w, n, at, past, sc);
}

/* The non-ASCII character at s[i]: folded if a word character (its length
 * in *adv), else 0. */
static inline uint32_t word_char(const struct analyzer_prefilter *pf, const unsigned char *s,
                                 size_t len, size_t i, size_t *adv)
{
    unsigned c = s[i];
    if (c >= 0xC2 && c < 0xE0 && i + 1 < len && (s[i + 1] & 0xC0) == 0x80) {
        uint32_t e = pf->fold2[(c & 0x1F) << 6 | (s[i + 1] & 0x3F)];
        *adv = 2;
        return e & 0x8000 ? e & 0x7FFF : 0;
    }
    uint32_t f = fold_cp(ctx_utf8_decode(s + i, len - i, adv));
    return sure_word(f) ? f : 0;
}

/* ---- words known beforehand ------------------------------------------- */

/* A word looked up before the scan (the sentiment tokenizer looks every
 * token up in the lexicon's tables): what word_hits() would find at its
 * start, kept at load as a list in pf->known (numbered from 1 in order,
 * pf->klist), so that the scan takes the list instead of folding the word
 * and looking up its first bytes. A list is { n, words (two 32-bit
 * halves: struct scan's words of the bits it marks), n entries }, each a
 * pattern id and what the word is to it (K_*): the bits the word marks,
 * then the patterns it gives a hit (a lead twice over gives it twice, as
 * word_hits() does), the sure ones last. */
#define K_CAND  0x40000000u     /* a candidate */
#define K_LEAD  0x80000000u     /* a hit */
#define K_SURE  0xC0000000u     /* a hit that decide() says matches, to the word's end */
/* Lower-case ASCII word characters, and а..я: what only a word of the
 * same characters folds to (ё does not: the tokenizer looks it up as е,
 * the caller keeps words that had one out). */
static int plain_word(const struct analyzer_prefilter *pf, const unsigned char *k, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (k[i] < 0x80) {
            if (pf->ascii[k[i]] != k[i])
                return 0;
        } else if (i + 1 < len && ((k[i] == 0xD0 && (k[i + 1] & 0xF0) == 0xB0) ||
                                   (k[i] == 0xD1 && (k[i + 1] & 0xF0) == 0x80))) {
            i++;
        } else {
            return 0;
        }
    }
    return 1;
}

/* Renumber the literals so that each chain's are next to one another, in
 * chain order: a chain of two or three literals is then read from one or
 * two cache lines, not from as many as it has (the table is some 100 KB
 * with 1,000 rules, more than the first-level cache holds). Done once the
 * patterns are in, when the words known beforehand are looked up. */
static void lay_chains(struct analyzer_prefilter *pf)
{
    if (pf->nlaid == pf->nlit)
        return;
    uint32_t *to = ctx_malloc((size_t)pf->nlit * sizeof *to);
    size_t bytes = ((size_t)pf->caplit * sizeof *pf->lit + 63) & ~(size_t)63;
    struct pf_lit *v = aligned_alloc(64, bytes);
    if (!v)
        ctx_oom(bytes);
    uint32_t n = 0;
    for (uint32_t k = 0; k < 256 + pf->smask + 1 + pf->s6mask + 1; k++) {
        uint32_t s = k - 256, s6 = k - 256 - (pf->smask + 1);
        uint32_t id = k < 256                  ? pf->first1[k] - 1
                      : s <= pf->smask         ? (pf->slot[s].key ? pf->slot[s].lit : NONE32)
                      : pf->slot6[s6].ext      ? pf->slot6[s6].lit
                                               : NONE32;
        for (; id != NONE32; id = pf->lit[id].next) {
            to[id] = n;
            v[n++] = pf->lit[id];
        }
    }
    for (uint32_t k = 0; k < n; k++)
        if (v[k].next != NONE32)
            v[k].next = to[v[k].next];
    for (uint32_t k = 0; k < 256; k++)
        if (pf->first1[k])
            pf->first1[k] = to[pf->first1[k] - 1] + 1;
    for (uint32_t k = 0; k <= pf->smask; k++)
        if (pf->slot[k].key)
            pf->slot[k].lit = to[pf->slot[k].lit];
    for (uint32_t k = 0; k <= pf->s6mask; k++)
        if (pf->slot6[k].ext)
            pf->slot6[k].lit = to[pf->slot6[k].lit];
    free(to);
    free(pf->lit);
    pf->lit = v;
    pf->nlaid = pf->nlit;
}

uint32_t analyzer_prefilter_word(struct analyzer_prefilter *pf, const char *key, size_t len)
{
    const unsigned char *k = (const unsigned char *)key;
    lay_chains(pf);
    if (!plain_word(pf, k, len))
        return PF_WORD_NONE;
    if (!pf->nlit)
        return 0;
    unsigned char w[MAX_LIT + 4];
    memset(w, 0, sizeof w);
    memcpy(w, k, len < MAX_LIT ? len : MAX_LIT);
    size_t nbits = ((size_t)pf->nrules + 63) / 64;
    uint64_t *bits = ctx_calloc(nbits ? nbits : 1, sizeof *bits);
    uint64_t hits[256];
    struct scan sc = {.bits = bits, .hits = hits, .max = sizeof hits / sizeof *hits};
    word_hits(pf, w, len, 0, len, &sc);        /* (no sc.ends: nothing decided) */
    uint32_t nc = 0, nl = 0, ns = 0, list = 0;
    for (size_t b = 0; b < nbits; b++)
        nc += (uint32_t)__builtin_popcountll(bits[b]);
    /* a lead of a pattern analyzer_prefilter_decide() takes word by word
     * is decided here, the key standing for the text: its characters are
     * all known to it, and both its ends are ASCII that is not \w, or
     * ends of the text, there and in a text where the key is a whole word */
    int8_t r[256];
    for (size_t h = 0; h < sc.nhits && h < 256; h++) {
        uint32_t p = (uint32_t)(hits[h] >> 32);
        size_t end;
        r[h] = -1;
        if (p < pf->ndecide && pf->decide[p].kind != D_NONE && pf->decide[p].kind != D_SEQ)
            r[h] = (int8_t)analyzer_prefilter_decide(pf, p, key, len, 0, &end);
        if (r[h] == 1 && end != len)
            r[h] = -1;
        nl += r[h] < 0;
        ns += r[h] == 1;
    }
    if (sc.nhits > sc.max) {
        list = PF_WORD_NONE;        /* too many: the scan does it */
    } else if (nc || nl || ns) {
        grow((void **)&pf->known, &pf->capknown, pf->nknown + 3 + nc + nl + ns,
             sizeof *pf->known);
        grow((void **)&pf->klist, &pf->capklist, pf->nklist + 1, sizeof *pf->klist);
        pf->klist[pf->nklist++] = pf->nknown;
        list = pf->nklist;
        uint32_t *o = pf->known + pf->nknown;
        *o++ = nc + nl + ns;
        uint64_t words = 0;
        for (size_t b = 0; b < nbits; b++)
            words |= (uint64_t)(bits[b] != 0) << (b & 63);
        *o++ = (uint32_t)words;
        *o++ = (uint32_t)(words >> 32);
        for (size_t b = 0; b < nbits; b++)
            for (uint64_t x = bits[b]; x; x &= x - 1)
                *o++ = (uint32_t)(b * 64 + (size_t)__builtin_ctzll(x)) | K_CAND;
        for (size_t h = 0; h < sc.nhits; h++)
            if (r[h] < 0)
                *o++ = (uint32_t)(hits[h] >> 32) | K_LEAD;
        for (size_t h = 0; h < sc.nhits; h++)
            if (r[h] == 1)
                *o++ = (uint32_t)(hits[h] >> 32) | K_SURE;
        pf->nknown = (uint32_t)(o - pf->known);
    }
    free(bits);
    return list;
}

int analyzer_prefilter_each_word(const struct analyzer_prefilter *pf,
                                 int (*fn)(void *ud, const char *w, size_t n), void *ud)
{
    for (uint32_t id = 0; pf && id < pf->nlit; id++) {
        const char *w = (const char *)pf->bytes + pf->lit[id].off;
        int rc = plain_word(pf, (const unsigned char *)w, pf->lit[id].len)
                     ? fn(ud, w, pf->lit[id].len)
                     : 0;
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* What list (analyzer_prefilter_word(), not 0) says of a word at
 * s[at..end): the candidates, the leads the word may start a match of,
 * and those it starts one of, to end (which analyzer_prefilter_decide()
 * would say too, when the word is after ASCII or at the start: sure).
 * The leads it starts no match of are none of its hits. */
static inline void known_hits(const struct analyzer_prefilter *pf, uint32_t list,
                              const unsigned char *s, uint32_t at, uint32_t end,
                              struct scan *sc)
{
    if (!list)
        return;
    const uint32_t *l = pf->known + pf->klist[list - 1];
    uint32_t n = l[0];
    sc->words |= (uint64_t)l[2] << 32 | l[1];
    l += 2;
    /* a sure hit is one only after ASCII or at the start */
    unsigned sure = (at == 0) | (s[at - (at != 0)] < 0x80);
    /* one loop, without a branch on what each entry is: a candidate's bit
     * is or-ed, 0 for the others; a hit's slot and its end (end for a sure
     * hit, PF_NOT_SURE for the others) are written for each entry (while
     * there is room: sc->ends is there, the walk has tokens only in
     * scan_known()) and counted for the hits */
    for (uint32_t k = 1; k <= n; k++) {
        uint32_t e = l[k], p = e & A_PAT;
        size_t keep = (size_t)0 - (((e >> 30) == 3) & sure);
        sc->bits[p >> 6] |= (uint64_t)((e >> 30) == 1) << (p & 63);
        if (sc->nhits < sc->max) {
            sc->hits[sc->nhits] = (uint64_t)p << 32 | at;
            sc->ends[sc->nhits] = (end & keep) | ~keep;     /* (PF_NOT_SURE: all ones) */
        }
        sc->nhits += e >> 31;
    }
}

/* Does the Cyrillic word s[at..end) (two bytes a letter) have ё or Ё?
 * Four letters at a time, the last four read as the eight bytes before end
 * (a word of fewer letters masks the lanes before it off): a loop over the
 * letters missed its exit about once a word. */
static int has_yo(const unsigned char *s, size_t at, size_t end)
{
    size_t n = end - at;
#if WORD_SWAR
    if (end >= 8) {
        uint64_t w, yo = 0;
        for (size_t k = at; k + 8 < end; k += 8) {
            memcpy(&w, s + k, 8);
            yo |= yo_lanes(w);
        }
        memcpy(&w, s + end - 8, 8);
        yo |= yo_lanes(w) & (n >= 8 ? ~0ull : ~0ull << (64 - 8 * n));
        return yo != 0;
    }
#endif
    const unsigned char *p = s + at;
    for (size_t i = 0; i + 1 < n; i += 2)
        if ((p[i] == 0xD1 && p[i + 1] == 0x91) || (p[i] == 0xD0 && p[i + 1] == 0x81))
            return 1;
    return 0;
}

/* Past the last token (see walk()). */
static const struct analyzer_tok no_token = {.off = UINT32_MAX};

/* The words of s[i..len) (maximal runs of word characters, folded as they
 * go into w, which has MAX_LIT + 4 bytes, zeroed by the caller: chain_hits()
 * reads the first 20 bytes of the shortest), and their literals. A word
 * that is a token of t[0..nt) (in text order) with a list (tok.pf, see
 * analyzer_prefilter_scan_known()) is taken from its list instead. */
static inline __attribute__((always_inline)) void
walk(const struct analyzer_prefilter *pf, const unsigned char *s, size_t len, size_t i,
     unsigned char *w, const struct analyzer_tok *t, size_t nt, struct scan *sc)
{
    /* next is read, past the last token, from a stand-in that starts at
     * UINT32_MAX (a select, not a branch: the branch missed once a text, at
     * the last token). Only a text longer than that has such a word start,
     * and scan() gives it no tokens: t then stands for a token without a
     * list, read there once */
    const struct analyzer_tok *tend = t + nt;
    size_t next = (t < tend ? t : &no_token)->off;
    while (i < len) {
        uint32_t f;
        size_t adv;
        if (s[i] < 0x80) {
            if (!pf->ascii[s[i]]) {
                i++;
                continue;
            }
        } else if (!(f = word_char(pf, s, len, i, &adv))) {
            i += adv;
            continue;
        }
        if (i >= next) {
            /* a token starts here (those that did not start a word are
             * behind: passed; next is where t starts, UINT32_MAX past the
             * last): its list, when it has one and is the whole word, its
             * end no word character */
            while (next < i) {
                t++;
                next = (t < tend ? t : &no_token)->off;
            }
            if (next == i) {
                size_t end = i + t->len;
                unsigned list = t->pf;
                t++;
                next = (t < tend ? t : &no_token)->off;
                if (list && end <= len && (end == len || (s[end] < 0x80 && !pf->ascii[s[end]])) &&
                    !((list & LEX_PF_YO) && has_yo(s, i, end))) {
                    known_hits(pf, (list & LEX_PF_LIST) - 1, s, (uint32_t)i, (uint32_t)end, sc);
                    i = end + 1;        /* past the character that ends it */
                    continue;
                }
            }
        }
        size_t start = i, n = 0;
        while (i < len) {
#if WORD_SWAR
            int k;
            if (i + 8 <= len && n + 8 <= MAX_LIT && (k = word_ascii8(s + i, w + n)) >= 0) {
                n += (size_t)k;
                i += (size_t)k;
                if (k < 8) {
                    i++;            /* past an ASCII character that is not \w */
                    break;
                }
                continue;
            }
#endif
            unsigned c = s[i];
            if (c < 0x80) {
                if (!(c = pf->ascii[c])) {
                    i++;
                    break;
                }
                if (n < MAX_LIT)
                    w[n] = (unsigned char)c;
                n++;
                i++;
                continue;
            }
#if WORD_SWAR
            if ((c == 0xD0 || c == 0xD1) && i + 8 <= len && n + 8 <= MAX_LIT &&
                analyzer_cyr_small4(s + i)) {
                memcpy(w + n, s + i, 8);    /* folded already, word characters */
                n += 8;
                i += 8;
                continue;
            }
#endif
            if (c >= 0xC2 && c < 0xE0 && i + 1 < len && (s[i + 1] & 0xC0) == 0x80) {
                /* two bytes (Cyrillic...), as word_char() and put_utf8()
                 * would take them, when the folded letter is two bytes too */
                uint32_t e = pf->fold2[(c & 0x1F) << 6 | (s[i + 1] & 0x3F)];
                if (!(e & 0x8000))
                    break;
                if ((e & 0x7FFF) >= 0x80) {
                    if (n < MAX_LIT) {
                        w[n] = (unsigned char)(0xC0 | (e & 0x7FFF) >> 6);
                        w[n + 1] = (unsigned char)(0x80 | (e & 0x3F));
                    }
                    n += 2;
                    i += 2;
                    continue;
                }
            }
            if (!(f = word_char(pf, s, len, i, &adv)))
                break;
            if (n < MAX_LIT)
                put_utf8(f, w + n);
            n += f < 0x800 ? 2 - (f < 0x80) : f < 0x10000 ? 3 : 4;
            i += adv;
        }
        word_hits(pf, w, n, (uint32_t)start, i, sc);
    }
}

static void scan(const struct analyzer_prefilter *pf, const char *text, size_t len,
                 const struct analyzer_tok *t, size_t nt, struct scan *sc)
{
    for (uint32_t k = 0; k < pf->nalways; k++)
        mark(sc, pf->always[k]);
    if (len > UINT32_MAX)
        sc->nhits = sc->max + 1;     /* offsets do not fit: no hits to rely on */
    const unsigned char *s = (const unsigned char *)text;
    if (pf->nlit) {
        unsigned char w[MAX_LIT + 4];
        memset(w, 0, sizeof w);
        if (!t || len > UINT32_MAX) {
            t = &no_token;          /* (no tokens: see walk()) */
            nt = 0;
        }
        walk(pf, s, len, 0, w, t, nt, sc);
    }
    if (pf->nloose == 0)
        return;
    unsigned char stack[2048];
    unsigned char *f = len * 2 + 4 <= sizeof stack ? stack : ctx_malloc(len * 2 + 4);
    size_t n = fold_text(pf, s, len, f);
    for (uint32_t k = 0; k < pf->nloose; k++)
        if (memmem(f, n, pf->loose[k].s, pf->loose[k].len))
            mark(sc, pf->loose_rule[k]);
    if (f != stack)
        free(f);
}

void analyzer_prefilter_scan(const struct analyzer_prefilter *pf, const char *text, size_t len,
                             uint64_t *bits)
{
    struct scan sc = {.bits = bits};
    scan(pf, text, len, NULL, 0, &sc);
}

size_t analyzer_prefilter_scan_hits(const struct analyzer_prefilter *pf, const char *text,
                                    size_t len, uint64_t *bits, uint64_t *hits, size_t max)
{
    struct scan sc = {.bits = bits, .hits = hits, .max = max};
    scan(pf, text, len, NULL, 0, &sc);
    return sc.nhits;
}

size_t analyzer_prefilter_always(const struct analyzer_prefilter *pf)
{
    return pf ? pf->nalways : 0;
}

size_t analyzer_prefilter_scan_known(const struct analyzer_prefilter *pf, const char *text,
                                     size_t len, const struct analyzer_tok *t, size_t nt,
                                     uint64_t *bits, uint64_t *words, uint64_t *hits,
                                     size_t *ends, size_t max)
{
    struct scan sc = {.s = (const unsigned char *)text, .len = len, .bits = bits, .hits = hits,
                      .ends = ends, .max = max};
    scan(pf, text, len, t, nt, &sc);
    if (words)
        *words = sc.words;
    return sc.nhits;
}
