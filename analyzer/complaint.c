/* complaint.c -- complaint cues: the *.cues language and its token matcher.
 *
 * A complaint is a post that says reality fell short of what its writer
 * expected (Preotiuc-Pietro et al., ACL 2019): "my bag never arrived", "on
 * hold for 40 minutes", "списали деньги дважды". Most of them hold no
 * sentiment word, so they are found by cues: short token patterns, grouped
 * by reason, each with a weight saying how sure it makes us alone. A cues
 * file looks like a rules file (docs/rules.md, "Complaint cues"):
 *
 *     complaint delay
 *       weight 0.7
 *       lang   en
 *       cue    (flight|train) (is|was) delayed|late
 *       cue    still waiting
 *       cue    waiting .. #n hours|days
 *
 * A cue is a sequence of elements, each matching one token of the text
 * (lower case, within one sentence): a word, a word beginning ("cancel*"),
 * alternatives joined by "|" ("is|was", or "(is|was)"), "_" any token, "#n" a number
 * (digits or a number word), "NEG" a negation (not, n't, never, no, не...),
 * ".." up to three tokens of any kind, and any of these followed by "?" is
 * optional. A cue that does not itself begin with NEG is cancelled by a
 * negation in the two tokens before it: "not delayed", "no problem". A
 * block of negative weight holds counter-evidence: its cues make a complaint
 * less likely ("no worries", "can't wait") and name no reason.
 *
 * Matching is cheap because it never looks at text: the tokenizer asks
 * analyzer_cues_word() which cue words each token is (one walk of a byte trie
 * holding only the cue words, which most tokens leave after a byte or two;
 * its nodes are the slots of one hash, looked up by parent and byte),
 * and analyzer_cues_match() tries only the cues whose first element one of
 * the token's words can start. A text with no cue word costs nothing more.
 * In the analyzer the walk is rarer still: every whole cue word is a key of
 * the lexicon's tables (analyzer_cues_each_word()), whose entries carry their
 * cue words, so a token found there needs no walk and one that is not can
 * only be word beginnings ("cancel*"), walked in a second trie of those
 * alone (analyzer_cues_prefixes(); most tokens are rejected before it by a
 * bit test on their first bytes, and the others' walk starts at the node
 * of those bytes). The words a cue can start with have ids below 0x8000,
 * the others above, so one test of a token's four ids says whether any
 * cue starts there (renumber_words()). A cue tried at a token first looks
 * for up to three of its plain words where a match would put them (struct
 * anchor), which most tries fail, before the full match. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analyzer/analyzer_internal.h"

#define MAX_ELEMS   10
#define MAX_ALTS    64
#define GAP_MAX     3
#define MAX_LANGS   8
#define MAX_WORDS   65000      /* ids are uint16 */

enum { E_ANY = 1, E_NUM = 2, E_NEG = 4, E_OPT = 8, E_GAP = 16 };

struct elem {
    uint16_t flags;
    uint16_t nids;
    uint32_t ids;              /* index of the first id in cues->idpool */
    uint64_t idbits;           /* bit (id & 63) of each of its ids: a token none
                                  of whose words has one of these bits is not it */
};

/* A plain word element after the first (no #n, NEG, _ or "?"), which a match
 * from token i puts on one of the tokens i + lo .. i + hi: when none of them
 * is one of its words the cue cannot match there, which is cheaper to see
 * than what match_from() would try first (its gaps and optional elements). */
struct anchor {
    uint64_t idbits;           /* the element's */
    uint8_t lo, hi;
    uint8_t el;                /* its index in the cue */
};
#define MAX_ANCHORS 3

struct cue {
    /* what a try reads first, then its first elements */
    float weight;
    uint16_t reason;
    uint8_t lang_slow;         /* langmask cannot say: compare the codes */
    uint8_t nanch;
    unsigned nel;
    unsigned nlangs;
    uint64_t langmask;         /* bit k: analyzer_cues.codes[k] is one of langs */
    struct anchor anch[MAX_ANCHORS];   /* the first ones, nearest first */
    char langs[MAX_LANGS][4];
    struct elem el[MAX_ELEMS];
    size_t file;
    int line;
    char *src;
};

struct node {
    uint32_t child;            /* first child, 0 none (node 0 is the root) */
    uint32_t sib;              /* next sibling, 0 none */
    uint16_t exact;            /* id + 1 of the word ending here, 0 none */
    uint16_t prefix;           /* id + 1 of "word*" ending here, 0 none */
    uint8_t c;
    uint8_t num;               /* a number word ends here */
};

/* The trie as matching reads it: every node but the root is a slot of one
 * hash, found by its parent's slot and its byte; eight bytes a node, so
 * that the part of the trie tokens walk stays in the cache. */
struct tslot {
    uint32_t key;              /* T_KEY bits: ((parent's slot + 1, 0 for the
                                  root) << 8 | byte) + 1; 0 empty */
    uint16_t exact, prefix;    /* as in struct node */
};
#define T_KEY  0x3FFFFFFFu
#define T_NUM  0x80000000u     /* a number word ends here */
#define T_KIDS 0x40000000u     /* the node has children */
#define T_MAX_SLOTS (1u << 22) /* so that keys fit T_KEY */
#define T_MAX_NODES (T_MAX_SLOTS / 2 - 1)   /* the root included: a table of
                                               T_MAX_SLOTS holds them at most half full */

#define PFIRST_LOG  13
#define PFIRST_BITS (1u << PFIRST_LOG)

struct analyzer_cues {
    struct cue *v;
    size_t n, cap;
    char **reasons;
    size_t nreasons;
    char **files;              /* NULL-terminated */
    size_t nfiles;
    struct node *nodes;
    uint32_t nnodes, capnodes;
    uint32_t root[256];        /* child of the root by first byte */
    /* the same trie for matching (the nodes and their sibling lists are for
     * building only) */
    struct tslot *tslots;
    uint32_t tmask;
    /* the same for the nodes on the way to a word beginning ("word*") only:
     * what a token that is no whole cue word can still be */
    struct tslot *pslots;
    uint32_t pmask;
    uint32_t proot[256];       /* pslots' nodes below the root by byte: slot + 1, 0 none */
    /* a token's first pk bytes (the shortest word beginning's length pmin,
     * at most 4), hashed to a bit of pfirst that is set when a word
     * beginning starts so: most tokens that are no whole cue word begin as
     * none does, and one test says it without walking */
    uint32_t pmin;             /* UINT32_MAX: there are none */
    uint32_t pk, pkmask;
    uint64_t pfirst[PFIRST_BITS / 64];
    /* the node those pk bytes lead to, by the same hash (its top plog
     * bits, then the next entries): a walk starts there, pk bytes in */
    struct pdeep {
        uint32_t key;          /* the bytes, pkmask applied; 0 empty */
        uint32_t slot;         /* in pslots */
    } *pdeep;
    uint32_t plog, pdmask, npdeep;
    uint16_t nwords;
    /* the words a cue can start with have the ids below nstarts
     * (renumber_words()) */
    uint32_t nstarts;
    uint32_t idend;            /* one past the largest id */
    int split;                 /* and the others' are from 0x8000 */
    uint16_t *idpool;
    size_t nidpool, capidpool;
    /* cues by what their first element can be: start[w]..start[w + 1] in
     * byid for word id w; neg and num lists for NEG and #n starts */
    uint32_t *start, *byid;
    /* per cue: the idbits of the words its next token must be one of
     * (next_bits()), else 0; a try whose next token has none of these
     * bits is not made */
    uint64_t *second;
    /* per word that starts a cue (id below nstarts): its cues in byid,
     * and the union of their second[], all bits when one has none (a
     * token whose next token has none of these bits tries none of them) */
    struct first_word {
        uint64_t second;
        uint32_t from, to;
    } *firsts;
    uint32_t *negstart, nneg, *numstart, nnum;
    /* the same lists by the text's language (codes[k] for k below ncodes,
     * then texts of none of them), without the cues lang_ok() always
     * refuses there or of weight 0, which try_cue() refuses */
    struct lang_starts {
        uint32_t *neg, nneg, *num, nnum;
    } bylang[65];
    char codes[64][4];         /* the language codes the cues name (langmask bits) */
    unsigned ncodes;
};

/* ---- the word trie ------------------------------------------------------ */

static uint32_t node_new(struct analyzer_cues *c, uint8_t ch)
{
    if (c->nnodes == c->capnodes) {
        c->capnodes = c->capnodes ? c->capnodes * 2 : 256;
        c->nodes = ctx_realloc(c->nodes, c->capnodes * sizeof *c->nodes);
    }
    memset(&c->nodes[c->nnodes], 0, sizeof c->nodes[0]);
    c->nodes[c->nnodes].c = ch;
    return c->nnodes++;
}

/* The node spelling w[0..n), created on the way. */
static uint32_t trie_put(struct analyzer_cues *c, const unsigned char *w, size_t n)
{
    if (c->nnodes == 0)
        node_new(c, 0);
    uint32_t cur = c->root[w[0]];
    if (!cur)
        cur = c->root[w[0]] = node_new(c, w[0]);
    for (size_t i = 1; i < n; i++) {
        uint32_t ch = c->nodes[cur].child, prev = 0;
        while (ch && c->nodes[ch].c != w[i]) {
            prev = ch;
            ch = c->nodes[ch].sib;
        }
        if (!ch) {
            ch = node_new(c, w[i]);
            if (prev)
                c->nodes[prev].sib = ch;
            else
                c->nodes[cur].child = ch;
        }
        cur = ch;
    }
    return cur;
}

static inline uint32_t tslot_hash(uint32_t key, uint32_t mask)
{
    return (key * 0x9E3779B1u >> 8) & mask;
}

/* The node below the one in slot parent - 1 (0: the root) by byte b, NULL none. */
static inline const struct tslot *slot_find(const struct tslot *slots, uint32_t mask,
                                            uint32_t parent, unsigned char b)
{
    uint32_t key = (parent << 8 | b) + 1;
    for (uint32_t i = tslot_hash(key, mask);; i = (i + 1) & mask) {
        uint32_t k = slots[i].key;
        if ((k & T_KEY) == key)
            return &slots[i];
        if (!k)
            return NULL;
    }
}

static uint32_t tslot_put(struct tslot *slots, uint32_t mask, uint32_t parent,
                          const struct node *nd, int kids)
{
    uint32_t key = (parent << 8 | nd->c) + 1, i = tslot_hash(key, mask);
    while (slots[i].key)
        i = (i + 1) & mask;
    slots[i] = (struct tslot){.key = key | (nd->num ? T_NUM : 0) | (kids ? T_KIDS : 0),
                              .exact = nd->exact, .prefix = nd->prefix};
    return i;
}

/* Does a word beginning end at node k or below it? keep[] is filled in. */
static int mark_prefixes(const struct analyzer_cues *c, uint32_t k, uint8_t *keep)
{
    int any = c->nodes[k].prefix != 0;
    for (uint32_t ch = c->nodes[k].child; ch; ch = c->nodes[ch].sib)
        any |= mark_prefixes(c, ch, keep);
    keep[k] = (uint8_t)any;
    return any;
}

/* A slot table of the nodes (after the last trie_put), breadth first: a
 * node's slot is known before its children's keys are made from it. With
 * keep, only the nodes it marks (the others are left out with their
 * subtrees). The trie has T_MAX_NODES nodes at most (word_id() sees to
 * it), so the table has T_MAX_SLOTS at most. */
static void slots_build(const struct analyzer_cues *c, const uint8_t *keep,
                        struct tslot **out, uint32_t *mask)
{
    uint32_t size = 16, nodes = c->nnodes;
    if (keep)
        for (uint32_t k = nodes = 0; k < c->nnodes; k++)
            nodes += keep[k];
    while (size < 2 * (uint64_t)nodes + 2)
        size *= 2;
    *out = ctx_calloc(size, sizeof **out);
    *mask = size - 1;
    uint32_t *q = ctx_malloc(2 * (c->nnodes + 1) * sizeof *q), head = 0, tail = 0;
    for (unsigned b = 0; b < 256; b++)
        if (c->root[b] && (!keep || keep[c->root[b]]))
            q[tail++] = c->root[b], q[tail++] = 0;
    /* each node's slot is put when it leaves the queue: its children are
     * known then (a node has kids when one of them is kept) */
    while (head < tail) {
        uint32_t nd = q[head++], parent = q[head++], kids = 0;
        for (uint32_t ch = c->nodes[nd].child; ch; ch = c->nodes[ch].sib)
            kids |= !keep || keep[ch];
        uint32_t slot = tslot_put(*out, *mask, parent, &c->nodes[nd], (int)kids);
        for (uint32_t ch = c->nodes[nd].child; ch; ch = c->nodes[ch].sib)
            if (!keep || keep[ch])
                q[tail++] = ch, q[tail++] = slot + 1;
    }
    free(q);
}

/* The length of the shortest word beginning at or below node k, at depth d;
 * UINT32_MAX none. */
static uint32_t shortest_prefix(const struct analyzer_cues *c, uint32_t k, uint32_t d)
{
    uint32_t best = c->nodes[k].prefix ? d : UINT32_MAX;
    for (uint32_t ch = c->nodes[k].child; ch; ch = c->nodes[ch].sib) {
        uint32_t b = shortest_prefix(c, ch, d + 1);
        if (b < best)
            best = b;
    }
    return best;
}

/* The hash of the 4 bytes at w (the first pk counted): its top
 * PFIRST_LOG bits are pfirst's bit, its top plog bits pdeep's entry. */
static inline uint32_t pfirst_hash(uint32_t x)
{
    return x * 0x9E3779B1u;
}

/* Set pfirst's bits of the word beginnings at or below node k, at depth d,
 * whose bytes so far are path[0..d), and put the nodes at depth pk in
 * pdeep (when it is there: the second pass). */
static void pfirst_mark(struct analyzer_cues *c, const uint8_t *keep, uint32_t k, char path[4],
                        uint32_t d)
{
    path[d - 1] = (char)c->nodes[k].c;
    if (d == c->pk) {
        uint32_t x;
        memcpy(&x, path, 4);
        uint32_t h = pfirst_hash(x), b = h >> (32 - PFIRST_LOG);
        c->pfirst[b / 64] |= 1ull << (b % 64);
        if (!c->pdeep) {
            c->npdeep++;
            return;
        }
        const struct tslot *t = &c->pslots[c->proot[(unsigned char)path[0]] - 1];
        for (uint32_t j = 1; j < d; j++)
            t = slot_find(c->pslots, c->pmask, (uint32_t)(t - c->pslots) + 1,
                          (unsigned char)path[j]);
        uint32_t i = h >> (32 - c->plog);
        while (c->pdeep[i].key)
            i = (i + 1) & c->pdmask;
        c->pdeep[i] = (struct pdeep){.key = x, .slot = (uint32_t)(t - c->pslots)};
        return;
    }
    for (uint32_t ch = c->nodes[k].child; ch; ch = c->nodes[ch].sib)
        if (keep[ch])
            pfirst_mark(c, keep, ch, path, d + 1);
}

/* c->tslots, and c->pslots: the nodes on the way to word beginnings. */
static void tslots_build(struct analyzer_cues *c)
{
    slots_build(c, NULL, &c->tslots, &c->tmask);
    uint8_t *keep = ctx_calloc(c->nnodes + 1, 1);
    for (unsigned b = 0; b < 256; b++)
        if (c->root[b])
            mark_prefixes(c, c->root[b], keep);
    slots_build(c, keep, &c->pslots, &c->pmask);
    uint32_t pk = UINT32_MAX;
    for (unsigned b = 0; b < 256; b++)
        if (c->root[b] && keep[c->root[b]]) {
            uint32_t d = shortest_prefix(c, c->root[b], 1);
            if (d < pk)
                pk = d;
        }
    c->pmin = pk;
    c->pk = pk == UINT32_MAX ? 0 : pk < 4 ? pk : 4;
    unsigned char m[4] = {0};
    memset(m, 0xFF, c->pk);
    memcpy(&c->pkmask, m, 4);
    for (unsigned b = 0; b < 256; b++) {
        const struct tslot *t = slot_find(c->pslots, c->pmask, 0, (unsigned char)b);
        c->proot[b] = t ? (uint32_t)(t - c->pslots) + 1 : 0;
    }
    /* counted first, then put in a table at most half full */
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned b = 0; c->pk && b < 256; b++)
            if (c->root[b] && keep[c->root[b]]) {
                char path[4] = {0};
                pfirst_mark(c, keep, c->root[b], path, 1);
            }
        if (pass == 0) {
            c->plog = 4;
            while ((1u << c->plog) < 2 * c->npdeep)
                c->plog++;
            c->pdmask = (1u << c->plog) - 1;
            c->pdeep = ctx_calloc(c->pdmask + 1, sizeof *c->pdeep);
        }
    }
    free(keep);
}

static inline const struct tslot *tslot_find(const struct analyzer_cues *c, uint32_t parent,
                                             unsigned char b)
{
    return slot_find(c->tslots, c->tmask, parent, b);
}

/* Lower case (ASCII, Latin-1, Cyrillic; ё as е) into out; 0 when too long. */
static size_t fold(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t adv;
        uint32_t cp = ctx_utf8_decode((const unsigned char *)s + i, n - i, &adv);
        if (analyzer_uc_case(cp) == UC_UPPER)
            cp = analyzer_uc_lower(cp);
        if (cp == 0x451)
            cp = 0x435;
        if (cp == 0x2019)
            cp = '\'';
        if (o + 4 > cap)
            return 0;
        if (cp < 0x80) {
            out[o++] = (char)cp;
        } else if (cp < 0x800) {
            out[o++] = (char)(0xC0 | (cp >> 6));
            out[o++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out[o++] = (char)(0xE0 | (cp >> 12));
            out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (cp & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | (cp >> 18));
            out[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (cp & 0x3F));
        }
        i += adv;
    }
    return o;
}

/* Number words: how long a wait was, how often it happened. */
static const char *const number_words[] = {
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "fifteen", "twenty", "thirty", "forty", "fifty", "sixty", "ninety", "hundred",
    "several", "many", "multiple", "countless", "numerous",
    "два", "две", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять", "десять",
    "двадцать", "тридцать", "сорок", "пятьдесят", "сто", "несколько", "много",
};

/* ids[] past a token's words are NO_ID: analyzer_cues_match() reads all
 * four at once and takes none of them for a word that starts a cue. */
#define NO_ID 0xFFFFu
/* four ids as the 16-bit lanes of 64 bits: 1 in each lane, and their
 * high bits */
#define LANES      0x0001000100010001ull
#define HIGH_LANES (LANES << 15)
_Static_assert(TOK_CUE_IDS == 4, "analyzer_cues_match() reads a token's ids as 64 bits");

static inline void no_ids(uint16_t ids[TOK_CUE_IDS])
{
    memset(ids, 0xFF, TOK_CUE_IDS * sizeof *ids);
}

unsigned analyzer_cues_word(const struct analyzer_cues *c, const char *low, size_t n,
                            uint16_t ids[TOK_CUE_IDS], uint8_t *num)
{
    unsigned k = 0;
    if (!c)
        return 0;
    no_ids(ids);
    if (n == 0 || !c->root[(unsigned char)low[0]])
        return 0;
    const struct tslot *t = tslot_find(c, 0, (unsigned char)low[0]);
    for (size_t i = 1; t; i++) {
        if (t->prefix && k < TOK_CUE_IDS)
            ids[k++] = (uint16_t)(t->prefix - 1);
        if (i == n) {
            if (t->exact && k < TOK_CUE_IDS)
                ids[k++] = (uint16_t)(t->exact - 1);
            if (t->key & T_NUM)
                *num = 1;
            return k;
        }
        unsigned char b = (unsigned char)low[i];
        /* a typographic apostrophe is read as ' */
        size_t skip = 0;
        if (b == 0xE2 && i + 2 < n && (unsigned char)low[i + 1] == 0x80 &&
            (unsigned char)low[i + 2] == 0x99) {
            b = '\'';
            skip = 2;
        }
        t = t->key & T_KIDS ? tslot_find(c, (uint32_t)(t - c->tslots) + 1, b) : NULL;
        i += skip;
    }
    return k;
}

/* The walk of analyzer_cues_prefixes() from node t, i bytes in. */
static inline unsigned prefixes_walk(const struct analyzer_cues *c, const char *low, size_t n,
                                     uint16_t ids[TOK_CUE_IDS], const struct tslot *t, size_t i)
{
    unsigned k = 0;
    for (;; i++) {
        if (t->prefix && k < TOK_CUE_IDS)
            ids[k++] = (uint16_t)(t->prefix - 1);
        if (i == n || !(t->key & T_KIDS))
            break;
        t = slot_find(c->pslots, c->pmask, (uint32_t)(t - c->pslots) + 1, (unsigned char)low[i]);
        if (!t)
            break;
    }
    return k;
}

/* The walks of analyzer_cues_prefixes(), apart so that the calls it
 * rejects first (most) do not save and restore the registers they need:
 * of a token shorter than 4 bytes from the root, of another from the node
 * its first pk bytes lead to (x, with its hash h), found in pdeep. */
static __attribute__((noinline)) unsigned prefixes_short(const struct analyzer_cues *c,
                                                         const char *low, size_t n,
                                                         uint16_t ids[TOK_CUE_IDS])
{
    uint32_t r = c->proot[(unsigned char)low[0]];
    return r ? prefixes_walk(c, low, n, ids, &c->pslots[r - 1], 1) : 0;
}

static __attribute__((noinline)) unsigned prefixes_deep(const struct analyzer_cues *c,
                                                        const char *low, size_t n,
                                                        uint16_t ids[TOK_CUE_IDS], uint32_t x,
                                                        uint32_t h)
{
    for (uint32_t i = h >> (32 - c->plog);; i = (i + 1) & c->pdmask) {
        if (!c->pdeep[i].key)
            return 0;
        if (c->pdeep[i].key == x)
            return prefixes_walk(c, low, n, ids, &c->pslots[c->pdeep[i].slot], c->pk);
    }
}

unsigned analyzer_cues_prefixes(const struct analyzer_cues *c, const char *low, size_t n,
                                uint16_t ids[TOK_CUE_IDS])
{
    if (!c)
        return 0;
    no_ids(ids);
    if (n < c->pmin)
        return 0;
    if (n < 4)
        return prefixes_short(c, low, n, ids);
    /* the first pk bytes: most tokens start as no word beginning does
     * (one bit says so), the others' walk starts pk bytes in */
    uint32_t x;
    memcpy(&x, low, 4);
    x &= c->pkmask;
    uint32_t h = pfirst_hash(x), b = h >> (32 - PFIRST_LOG);
    if (!(c->pfirst[b / 64] >> (b % 64) & 1))
        return 0;
    return prefixes_deep(c, low, n, ids, x, h);
}

/* Depth first below node k, whose word is w[0..n). */
static int each_word(const struct analyzer_cues *c, uint32_t k, char *w, size_t n,
                     int (*fn)(void *ud, const char *w, size_t n), void *ud)
{
    w[n++] = (char)c->nodes[k].c;
    if ((c->nodes[k].exact || c->nodes[k].num) && fn(ud, w, n) < 0)
        return -1;
    for (uint32_t ch = c->nodes[k].child; ch; ch = c->nodes[ch].sib)
        if (each_word(c, ch, w, n, fn, ud) < 0)
            return -1;
    return 0;
}

int analyzer_cues_each_word(const struct analyzer_cues *c,
                            int (*fn)(void *ud, const char *w, size_t n), void *ud)
{
    char w[256];            /* word_id() keeps words shorter */
    for (unsigned b = 0; c && b < 256; b++)
        if (c->root[b] && each_word(c, c->root[b], w, 0, fn, ud) < 0)
            return -1;
    return 0;
}

int analyzer_cues_is_word(const struct analyzer_cues *c, const char *low, size_t n)
{
    if (!c || n == 0 || !c->root[(unsigned char)low[0]])
        return 0;
    const struct tslot *t = tslot_find(c, 0, (unsigned char)low[0]);
    for (size_t i = 1; t && i < n; i++)
        t = t->key & T_KIDS ? tslot_find(c, (uint32_t)(t - c->tslots) + 1, (unsigned char)low[i])
                            : NULL;
    return t && (t->exact || (t->key & T_NUM));
}

/* ---- parsing ------------------------------------------------------------ */

struct parser {
    struct analyzer_cues *c;
    const char *path;
    int line;
    char *err;
    size_t errlen;
    long reason;               /* current block's reason, -1 before the first */
    double weight;
    char langs[MAX_LANGS][4];
    unsigned nlangs;
    int has_weight;
};

static int perr(struct parser *p, size_t col, const char *fmt, ...)
{
    int n = snprintf(p->err, p->errlen, "%s:%d:%zu: ", p->path, p->line, col);
    if (n >= 0 && (size_t)n < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static long reason_id(struct analyzer_cues *c, const char *name, size_t n)
{
    for (size_t i = 0; i < c->nreasons; i++)
        if (strlen(c->reasons[i]) == n && memcmp(c->reasons[i], name, n) == 0)
            return (long)i;
    c->reasons = ctx_realloc(c->reasons, (c->nreasons + 1) * sizeof *c->reasons);
    c->reasons[c->nreasons] = ctx_strndup(name, n);
    return (long)c->nreasons++;
}

/* The id of a cue word ("word", or "word*" when prefix). */
static long word_id(struct parser *p, const char *w, size_t n, int prefix, size_t col)
{
    char low[256];
    size_t ln = fold(w, n, low, sizeof low);
    if (ln == 0)
        return perr(p, col, "word too long");
    uint32_t k = trie_put(p->c, (const unsigned char *)low, ln);
    if (p->c->nnodes > T_MAX_NODES)
        return perr(p, col, "too many letters in the cue words (over %u trie nodes)",
                    T_MAX_NODES);
    struct node *nd = &p->c->nodes[k];
    uint16_t *slot = prefix ? &nd->prefix : &nd->exact;
    if (!*slot) {
        if (p->c->nwords >= MAX_WORDS)
            return perr(p, col, "too many cue words");
        *slot = (uint16_t)(++p->c->nwords);
    }
    return *slot - 1;
}

static void pool_add(struct analyzer_cues *c, uint16_t id)
{
    if (c->nidpool == c->capidpool) {
        c->capidpool = c->capidpool ? c->capidpool * 2 : 256;
        c->idpool = ctx_realloc(c->idpool, c->capidpool * sizeof *c->idpool);
    }
    c->idpool[c->nidpool++] = id;
}

static int word_char(unsigned char ch)
{
    /* letters of any script, digits, ' and - inside words */
    return ch >= 0x80 || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '\'' || ch == '-' || ch == '&' || ch == '.';
}

/* One element: "a|b*|c", "_", "#n", "NEG", "..", with an optional "?". */
static int parse_elem(struct parser *p, const char *s, size_t n, size_t col, struct elem *e)
{
    memset(e, 0, sizeof *e);
    if (n > 1 && s[n - 1] == '?') {
        e->flags |= E_OPT;
        n--;
    }
    if (n > 2 && s[0] == '(' && s[n - 1] == ')') {   /* "(a|b)" reads as "a|b" */
        s++;
        col++;
        n -= 2;
    }
    if (n == 2 && memcmp(s, "..", 2) == 0) {
        if (e->flags & E_OPT)
            return perr(p, col, "'..' is optional already");
        e->flags |= E_GAP;
        return 0;
    }
    if (n == 1 && s[0] == '_') {
        e->flags |= E_ANY;
        return 0;
    }
    if (n == 2 && memcmp(s, "#n", 2) == 0) {
        e->flags |= E_NUM;
        return 0;
    }
    if (n == 3 && memcmp(s, "NEG", 3) == 0) {
        e->flags |= E_NEG;
        return 0;
    }
    e->ids = (uint32_t)p->c->nidpool;
    for (size_t a = 0; a <= n;) {
        size_t b = a;
        while (b < n && s[b] != '|')
            b++;
        size_t wl = b - a;
        int prefix = wl > 1 && s[a + wl - 1] == '*';
        if (prefix)
            wl--;
        if (wl == 0)
            return perr(p, col + a, "empty word in '%.*s'", (int)n, s);
        for (size_t k = 0; k < wl; k++)
            if (!word_char((unsigned char)s[a + k]))
                return perr(p, col + a + k, "'%c' in a cue word (words are letters, digits, "
                            "' - & and .)", s[a + k]);
        if (e->nids >= MAX_ALTS)
            return perr(p, col + a, "more than %d alternatives", MAX_ALTS);
        long id = word_id(p, s + a, wl, prefix, col + a);
        if (id < 0)
            return -1;
        pool_add(p->c, (uint16_t)id);
        e->nids++;
        a = b + 1;
    }
    /* each element's ids from a multiple of four, the rest of the last four
     * NO_ID: word_ok() compares them four at a time */
    while (p->c->nidpool % 4)
        pool_add(p->c, NO_ID);
    return 0;
}

static int parse_cue(struct parser *p, const char *s, size_t n, size_t col)
{
    if (p->reason < 0)
        return perr(p, col, "'cue' outside a complaint block (start one with 'complaint REASON')");
    struct analyzer_cues *c = p->c;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->v = ctx_realloc(c->v, c->cap * sizeof *c->v);
    }
    struct cue *q = &c->v[c->n];
    memset(q, 0, sizeof *q);
    for (size_t i = 0; i < n;) {
        while (i < n && is_blank(s[i]))
            i++;
        if (i == n)
            break;
        size_t j = i;
        while (j < n && !is_blank(s[j]))
            j++;
        if (q->nel == MAX_ELEMS)
            return perr(p, col + i, "a cue has at most %d elements", MAX_ELEMS);
        if (parse_elem(p, s + i, j - i, col + i, &q->el[q->nel]) < 0)
            return -1;
        q->nel++;
        i = j;
    }
    if (q->nel == 0)
        return perr(p, col, "empty cue");
    const struct elem *f = &q->el[0];
    if (f->flags & (E_ANY | E_GAP | E_OPT))
        return perr(p, col, "a cue starts with a word, #n or NEG (not _, .. or an optional element)");
    const struct elem *l = &q->el[q->nel - 1];
    if (l->flags & E_GAP)
        return perr(p, col, "a cue does not end with '..'");
    q->src = ctx_strndup(s, n);
    q->reason = (uint16_t)p->reason;
    q->weight = (float)p->weight;
    memcpy(q->langs, p->langs, sizeof q->langs);
    q->nlangs = p->nlangs;
    q->file = c->nfiles - 1;
    q->line = p->line;
    c->n++;
    return 0;
}

static int parse_line(struct parser *p, char *s, size_t n)
{
    size_t i = 0;
    while (i < n && is_blank(s[i]))
        i++;
    if (i == n || s[i] == '#')
        return 0;
    size_t k = i;
    while (k < n && !is_blank(s[k]))
        k++;
    const char *kw = s + i;
    size_t kwlen = k - i;
    while (k < n && is_blank(s[k]))
        k++;
    size_t e = n;
    while (e > k && is_blank(s[e - 1]))
        e--;
    const char *arg = s + k;
    size_t alen = e - k, acol = k + 1;

    if (kwlen == 9 && memcmp(kw, "complaint", 9) == 0) {
        if (alen == 0)
            return perr(p, acol, "complaint needs a reason");
        for (size_t j = 0; j < alen; j++) {
            char ch = arg[j];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
                return perr(p, acol + j, "a reason is one word of a-z, 0-9, - and _");
        }
        p->reason = reason_id(p->c, arg, alen);
        p->weight = 0.6;
        p->has_weight = 0;
        p->nlangs = 0;
        return 0;
    }
    if (p->reason < 0 && !(kwlen == 3 && memcmp(kw, "cue", 3) == 0))
        return perr(p, i + 1, "'%.*s' outside a complaint block", (int)kwlen, kw);
    if (kwlen == 3 && memcmp(kw, "cue", 3) == 0)
        return parse_cue(p, arg, alen, acol);
    if (kwlen == 6 && memcmp(kw, "weight", 6) == 0) {
        if (p->has_weight)
            return perr(p, i + 1, "weight given twice");
        char buf[64], *end;
        if (alen == 0 || alen >= sizeof buf)
            return perr(p, acol, "weight must be a number from -1 to 1");
        memcpy(buf, arg, alen);
        buf[alen] = '\0';
        errno = 0;
        double w = strtod(buf, &end);
        if (errno || *end || !(w >= -1.0 && w <= 1.0))
            return perr(p, acol, "weight must be a number from -1 to 1");
        p->weight = w;
        p->has_weight = 1;
        return 0;
    }
    if (kwlen == 4 && memcmp(kw, "lang", 4) == 0) {
        for (size_t j = 0; j < alen;) {
            while (j < alen && (is_blank(arg[j]) || arg[j] == ','))
                j++;
            if (j == alen)
                break;
            size_t b = j;
            while (b < alen && arg[b] >= 'a' && arg[b] <= 'z')
                b++;
            if (b - j < 2 || b - j > 3 || (b < alen && !is_blank(arg[b]) && arg[b] != ','))
                return perr(p, acol + j, "language codes are 2 or 3 lower-case letters");
            if (p->nlangs == MAX_LANGS)
                return perr(p, acol + j, "more than %d languages", MAX_LANGS);
            memcpy(p->langs[p->nlangs], arg + j, b - j);
            p->langs[p->nlangs][b - j] = '\0';
            p->nlangs++;
            j = b;
        }
        if (p->nlangs == 0)
            return perr(p, acol, "lang needs a code");
        return 0;
    }
    return perr(p, i + 1, "unknown keyword '%.*s' (complaint, cue, weight, lang)", (int)kwlen, kw);
}

static ctx_err parse_file(struct analyzer_cues *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return CTX_EIO;
    }
    struct parser p = {.c = c, .path = path, .err = err, .errlen = errlen, .reason = -1};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    ctx_err rc = CTX_OK;
    while ((len = getline(&line, &cap, f)) >= 0) {
        p.line++;
        size_t n = (size_t)len;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        char *s = line;
        if (p.line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            s += 3;
            n -= 3;
        }
        if (ctx_utf8_valid_prefix(s, n) != n) {
            perr(&p, ctx_utf8_valid_prefix(s, n) + 1, "not UTF-8");
            rc = CTX_EPARSE;
            break;
        }
        if (parse_line(&p, s, n) < 0) {
            rc = CTX_EPARSE;
            break;
        }
    }
    free(line);
    fclose(f);
    return rc;
}

/* The bit of code in c->codes, 0 when it is none of them. */
static uint64_t code_bit(const struct analyzer_cues *c, const char *code)
{
    for (unsigned k = 0; k < c->ncodes; k++)
        if (strcmp(c->codes[k], code) == 0)
            return 1ull << k;
    return 0;
}

/* The same, code added when absent; 0 when there are 64 codes already. */
static uint64_t code_add(struct analyzer_cues *c, const char *code)
{
    uint64_t b = code_bit(c, code);
    if (b || c->ncodes == CTX_ARRAY_LEN(c->codes))
        return b;
    snprintf(c->codes[c->ncodes], sizeof c->codes[0], "%s", code);
    return 1ull << c->ncodes++;
}

/* The ids of one pass of renumber_words() from first: those of the words
 * w whose starts[w] is pass, leaving out ids of NO_ID's bit (id & 63) when
 * skip. The id after the last returned. */
static uint32_t number_pass(const uint8_t *starts, uint32_t nw, int pass, uint32_t first,
                            int skip, uint16_t *to)
{
    uint32_t next = first;
    for (uint32_t w = 0; w < nw; w++)
        if (starts[w] == pass) {
            if (skip && (next & 63) == (NO_ID & 63))
                next++;
            to[w] = (uint16_t)next++;
        }
    return next;
}

/* Give the words a cue can start with the ids below 0x8000 and the others
 * those from 0x8000, so that analyzer_cues_match() tells a token that can
 * start one by a high bit clear among its ids (c->split): most cue words
 * are only ever later words of their cues ("for", "hours"), and half the
 * tokens are one. When either group is too large for its half, the words
 * that start cues still get the lowest ids (below nstarts). No id shares
 * NO_ID's bit in an element's idbits when there is room to leave those
 * out. Ids are only names, so no match changes: a token's ids stay in the
 * order its trie walk finds them. */
static void renumber_words(struct analyzer_cues *c)
{
    uint32_t nw = c->nwords;
    uint8_t *starts = ctx_calloc(nw + 1, 1);
    for (size_t i = 0; i < c->n; i++) {
        const struct elem *e = &c->v[i].el[0];
        for (unsigned k = 0; k < e->nids; k++)
            starts[c->idpool[e->ids + k]] = 1;
    }
    uint16_t *to = ctx_malloc((nw + 1) * sizeof *to);
    c->nstarts = number_pass(starts, nw, 1, 0, 1, to);
    c->split = c->nstarts <= 0x8000;
    if (c->split) {
        c->idend = number_pass(starts, nw, 0, 0x8000, 1, to);
        c->split = c->idend <= NO_ID;
    }
    if (!c->split) {
        int skip = nw + nw / 63 + 1 < NO_ID;
        c->nstarts = number_pass(starts, nw, 1, 0, skip, to);
        c->idend = number_pass(starts, nw, 0, c->nstarts, skip, to);
    }
    for (size_t k = 0; k < c->nidpool; k++)
        if (c->idpool[k] != NO_ID)
            c->idpool[k] = to[c->idpool[k]];
    for (uint32_t k = 0; k < c->nnodes; k++) {
        struct node *nd = &c->nodes[k];
        if (nd->exact)
            nd->exact = (uint16_t)(to[nd->exact - 1] + 1);
        if (nd->prefix)
            nd->prefix = (uint16_t)(to[nd->prefix - 1] + 1);
    }
    free(to);
    free(starts);
}

/* Can try_cue() take cue q for a text whose language is codes[k] (none of
 * them when k is ncodes)? */
static int lang_may(const struct cue *q, unsigned k, unsigned ncodes)
{
    if (q->weight == 0)
        return 0;
    return q->nlangs == 0 || q->lang_slow || (k < ncodes && (q->langmask >> k & 1));
}

/* The idbits of the words that a match of q from token i puts on token
 * i + 1: its plain word elements up to the first that is not optional,
 * when that one is a plain word too ("on (the)? (phone|line)": "the",
 * "phone" or "line"); 0 when the next token may be anything or none (a
 * gap, _, #n, NEG, or only optional elements left). The first element is
 * never optional nor a gap (parse_cue()). */
static uint64_t next_bits(const struct cue *q)
{
    uint64_t bits = 0;
    for (unsigned k = 1; k < q->nel; k++) {
        const struct elem *e = &q->el[k];
        if ((e->flags & ~E_OPT) != 0)
            return 0;
        bits |= e->idbits;
        if (!(e->flags & E_OPT))
            return bits;
    }
    return 0;
}

/* Index the cues by what their first element can be, and their languages
 * as bits. */
static void build_index(struct analyzer_cues *c)
{
    renumber_words(c);
    for (size_t i = 0; i < c->n; i++) {
        struct cue *q = &c->v[i];
        for (unsigned k = 0; k < q->nlangs; k++) {
            uint64_t b = code_add(c, q->langs[k]);
            q->langmask |= b;
            q->lang_slow |= !b;
        }
    }
    uint32_t nw = c->idend;
    for (size_t i = 0; i < c->n; i++)
        for (unsigned k = 0; k < c->v[i].nel; k++) {
            struct elem *e = &c->v[i].el[k];
            e->idbits = 0;
            for (unsigned j = 0; j < e->nids; j++)
                e->idbits |= 1ull << (c->idpool[e->ids + j] & 63);
        }
    c->second = ctx_calloc(c->n + 1, sizeof *c->second);
    for (size_t i = 0; i < c->n; i++) {
        struct cue *q = &c->v[i];
        c->second[i] = next_bits(q);
        /* where each element can be from the first token: a word, _, #n or
         * NEG takes one token, "x?" none or one, ".." none to GAP_MAX */
        unsigned lo = 0, hi = 0;
        q->nanch = 0;
        for (unsigned k = 0; k < q->nel && q->nanch < MAX_ANCHORS; k++) {
            const struct elem *e = &q->el[k];
            if (k > 0 && e->flags == 0)
                q->anch[q->nanch++] = (struct anchor){.idbits = e->idbits, .lo = (uint8_t)lo,
                                                      .hi = (uint8_t)hi, .el = (uint8_t)k};
            lo += !(e->flags & (E_OPT | E_GAP));
            hi += e->flags & E_GAP ? GAP_MAX : 1;
        }
    }
    c->start = ctx_calloc(nw + 2, sizeof *c->start);
    size_t total = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct elem *e = &c->v[i].el[0];
        if (e->flags & E_NEG)
            c->nneg++;
        else if (e->flags & E_NUM)
            c->nnum++;
        for (unsigned k = 0; k < e->nids; k++)
            c->start[c->idpool[e->ids + k] + 1]++;
        total += e->nids;
    }
    for (uint32_t w = 0; w < nw; w++)
        c->start[w + 1] += c->start[w];
    c->byid = ctx_malloc((total + 1) * sizeof *c->byid);
    c->negstart = ctx_malloc((c->nneg + 1) * sizeof *c->negstart);
    c->numstart = ctx_malloc((c->nnum + 1) * sizeof *c->numstart);
    uint32_t *fill = ctx_calloc(nw + 1, sizeof *fill);
    uint32_t ng = 0, nu = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct elem *e = &c->v[i].el[0];
        if (e->flags & E_NEG)
            c->negstart[ng++] = (uint32_t)i;
        else if (e->flags & E_NUM)
            c->numstart[nu++] = (uint32_t)i;
        for (unsigned k = 0; k < e->nids; k++) {
            uint16_t w = c->idpool[e->ids + k];
            c->byid[c->start[w] + fill[w]++] = (uint32_t)i;
        }
    }
    free(fill);
    c->firsts = ctx_calloc(c->nstarts + 1, sizeof *c->firsts);
    for (uint32_t w = 0; w < c->nstarts && w < nw; w++) {
        struct first_word *f = &c->firsts[w];
        f->from = c->start[w];
        f->to = c->start[w + 1];
        for (uint32_t k = f->from; k < f->to; k++)
            f->second |= c->second[c->byid[k]] ? c->second[c->byid[k]] : ~0ull;
    }
    free(c->start);             /* by id, up to 0xFFFF of them: firsts is all matching reads */
    c->start = NULL;
    for (unsigned k = 0; k <= c->ncodes; k++) {
        struct lang_starts *l = &c->bylang[k];
        l->neg = ctx_malloc((c->nneg + 1) * sizeof *l->neg);
        l->num = ctx_malloc((c->nnum + 1) * sizeof *l->num);
        for (uint32_t j = 0; j < c->nneg; j++)
            if (lang_may(&c->v[c->negstart[j]], k, c->ncodes))
                l->neg[l->nneg++] = c->negstart[j];
        for (uint32_t j = 0; j < c->nnum; j++)
            if (lang_may(&c->v[c->numstart[j]], k, c->ncodes))
                l->num[l->nnum++] = c->numstart[j];
    }
}

static void add_number_words(struct analyzer_cues *c)
{
    for (size_t i = 0; i < CTX_ARRAY_LEN(number_words); i++) {
        uint32_t k = trie_put(c, (const unsigned char *)number_words[i], strlen(number_words[i]));
        c->nodes[k].num = 1;
    }
}

ctx_err analyzer_cues_load(const char *const *dirs, struct analyzer_cues **out, char *err,
                           size_t errlen)
{
    *out = NULL;
    struct analyzer_cues *c = ctx_calloc(1, sizeof *c);
    ctx_err rc = CTX_OK;
    add_number_words(c);
    for (size_t d = 0; dirs[d]; d++) {
        char **files = analyzer_list_files(dirs[d], ".cues", err, errlen);
        if (!files) {
            rc = CTX_EIO;
            goto fail;
        }
        for (size_t i = 0; files[i]; i++) {
            c->files = ctx_realloc(c->files, (c->nfiles + 2) * sizeof *c->files);
            c->files[c->nfiles++] = files[i];
            c->files[c->nfiles] = NULL;
            if ((rc = parse_file(c, files[i], err, errlen)) != CTX_OK) {
                for (size_t k = i + 1; files[k]; k++)
                    free(files[k]);
                free(files);
                goto fail;
            }
        }
        free(files);
    }
    build_index(c);
    tslots_build(c);
    *out = c;
    return CTX_OK;
fail:
    analyzer_cues_free(c);
    return rc;
}

void analyzer_cues_free(struct analyzer_cues *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].src);
    free(c->v);
    for (size_t i = 0; i < c->nreasons; i++)
        free(c->reasons[i]);
    free(c->reasons);
    for (size_t i = 0; i < c->nfiles; i++)
        free(c->files[i]);
    free(c->files);
    free(c->nodes);
    free(c->tslots);
    free(c->pslots);
    free(c->pdeep);
    free(c->idpool);
    free(c->start);
    free(c->byid);
    free(c->second);
    free(c->firsts);
    for (unsigned k = 0; k <= c->ncodes; k++) {
        free(c->bylang[k].neg);
        free(c->bylang[k].num);
    }
    free(c->negstart);
    free(c->numstart);
    free(c);
}

size_t analyzer_cues_count(const struct analyzer_cues *c)
{
    return c ? c->n : 0;
}

const char *analyzer_cues_reason(const struct analyzer_cues *c, unsigned reason)
{
    return c && reason < c->nreasons ? c->reasons[reason] : NULL;
}

void analyzer_cues_where(const struct analyzer_cues *c, uint32_t cue, const char **file,
                         int *line, const char **src)
{
    *file = c->files[c->v[cue].file];
    *line = c->v[cue].line;
    *src = c->v[cue].src;
}

/* ---- matching ----------------------------------------------------------- */

/* The bits (id & 63) of the token's ids, as in elem.idbits: those past
 * ncue are NO_ID, whose bit no word has (renumber_words()), and most
 * tokens have one id or none. */
static inline uint64_t id_bits(const struct analyzer_tok *t)
{
    uint64_t ids;
    memcpy(&ids, t->cue, sizeof ids);
    uint64_t tb = 1ull << (ids & 63);
    if (__builtin_expect(ids >> 16 != NO_ID * (LANES >> 16), 0))
        tb |= 1ull << (ids >> 16 & 63) | 1ull << (ids >> 32 & 63) | 1ull << (ids >> 48 & 63);
    return tb;
}

/* Is one of the token's cue words among the element's (a plain one)? */
static int word_ok(const struct analyzer_cues *c, const struct elem *e,
                   const struct analyzer_tok *t)
{
    if (!(id_bits(t) & e->idbits))
        return 0;
    /* each id against four of the element's at a time (a zero lane of
     * their xor) */
    const uint16_t *pool = c->idpool + e->ids;
    for (unsigned j = 0; j < t->ncue; j++) {
        uint64_t w = t->cue[j] * LANES;
        for (unsigned k = 0; k < e->nids; k += 4) {
            uint64_t x;
            memcpy(&x, pool + k, sizeof x);
            x ^= w;
            if ((x - LANES) & ~x & HIGH_LANES)
                return 1;
        }
    }
    return 0;
}

static int elem_ok(const struct analyzer_cues *c, const struct elem *e,
                   const struct analyzer_tok *t)
{
    if (e->flags & E_ANY)
        return 1;
    if (e->flags & E_NUM)
        return t->num;
    if (e->flags & E_NEG)
        return t->neg;
    return word_ok(c, e, t);
}

/* Is the anchor's element one of tokens i + lo .. i + hi of i's sentence?
 * (A match steps over every token between, all of that sentence.) */
static int anchor_ok(const struct analyzer_cues *c, const struct cue *q, const struct anchor *a,
                     const struct analyzer_tok *t, size_t n, size_t i)
{
    uint32_t sent = t[i].sent;
    for (size_t j = i + a->lo; j <= i + a->hi && j < n && t[j].sent == sent; j++)
        if (word_ok(c, &q->el[a->el], &t[j]))
            return 1;
    return 0;
}

/* Do elements k.. of q match from token i on? The last token matched goes
 * to *last. Tokens of other sentences never match. */
static int match_from(const struct analyzer_cues *c, const struct cue *q, unsigned k,
                      const struct analyzer_tok *t, size_t n, size_t i, uint32_t sent,
                      size_t *last)
{
    if (k == q->nel)
        return 1;
    const struct elem *e = &q->el[k];
    if (e->flags & E_GAP) {
        for (size_t g = 0; g <= GAP_MAX; g++) {
            if (match_from(c, q, k + 1, t, n, i + g, sent, last))
                return 1;
            if (i + g >= n || t[i + g].sent != sent)
                break;
        }
        return 0;
    }
    if (i < n && t[i].sent == sent && elem_ok(c, e, &t[i])) {
        size_t save = *last;
        *last = i;
        if (match_from(c, q, k + 1, t, n, i + 1, sent, last))
            return 1;
        *last = save;
    }
    return (e->flags & E_OPT) && match_from(c, q, k + 1, t, n, i, sent, last);
}

/* Is the cue for texts in lang, whose bit among the cues' codes is lbit? */
static int lang_ok(const struct cue *q, const char *lang, uint64_t lbit)
{
    if (q->nlangs == 0)
        return 1;
    if (!q->lang_slow)
        return (q->langmask & lbit) != 0;
    if (!lang)
        return 0;
    for (unsigned i = 0; i < q->nlangs; i++)
        if (strcmp(q->langs[i], lang) == 0)
            return 1;
    return 0;
}

/* A negation in the two tokens before i, in its clause: "thanks for
 * nothing, still waiting" is still waiting. */
static int negated_before(const struct analyzer_tok *t, size_t i)
{
    for (size_t k = 1; k <= 2 && k <= i; k++) {
        if (t[i - k].sent != t[i].sent || t[i - k].clause)
            return 0;
        if (t[i - k].neg)
            return 1;
    }
    return 0;
}

/* What every try on one text reads, given as one pointer: nine arguments
 * were three pushed on the stack for every try. */
struct text_cues {
    const struct analyzer_cues *c;
    const struct analyzer_tok *t;
    size_t n;
    const char *lang;
    uint64_t lbit;
    const struct lang_starts *starts;   /* c->bylang[] of lbit */
    struct cue_hit *hits;
};

/* Does cue qi match from token i? Then its hit is hits[nh] (1 returned),
 * unless there is one for it there already; nh < max. (nh is passed and
 * not its address so that the caller keeps it in a register.) */
static int try_cue(const struct text_cues *x, uint32_t qi, size_t i, size_t nh)
{
    const struct analyzer_cues *c = x->c;
    const struct analyzer_tok *t = x->t;
    size_t n = x->n;
    struct cue_hit *hits = x->hits;
    const struct cue *q = &c->v[qi];
    if (q->weight == 0 || !lang_ok(q, x->lang, x->lbit))
        return 0;
    /* most tries fail at the next word or two: when the first two elements
     * are plain words, what match_from() would find out first, and the
     * same for words past a gap or an optional element, which it would
     * find out after trying every way through them */
    for (unsigned a = 0; a < q->nanch; a++)
        if (!anchor_ok(c, q, &q->anch[a], t, n, i))
            return 0;
    size_t last = i;
    if (!match_from(c, q, 0, t, n, i, t[i].sent, &last))
        return 0;
    if (!(q->el[0].flags & E_NEG) && negated_before(t, i))
        return 0;
    /* one hit per cue and place */
    for (size_t k = 0; k < nh; k++)
        if (hits[k].cue == qi && hits[k].first == i)
            return 0;
    hits[nh] = (struct cue_hit){.cue = qi, .reason = q->reason, .weight = q->weight,
                                .first = (uint32_t)i, .last = (uint32_t)last};
    return 1;
}

/* The cues tried at token i, which has a word that can start one, a
 * negation or a number: hits[nh..] get their hits, the new count
 * returned. */
static inline __attribute__((always_inline)) size_t cues_at(const struct text_cues *x, size_t i,
                                                            size_t nh, size_t max)
{
    const struct analyzer_cues *c = x->c;
    const struct analyzer_tok *t = x->t, *tk = &t[i];
    size_t n = x->n;
    /* the bits of the next token's words (none past the sentence): a cue
     * whose next word it cannot be (second[]) is not tried, as try_cue()
     * would find first, nor a word whose cues all are such. NO_ID's bit,
     * which no word has, is always there: a word with a cue that has no
     * second[] has all bits (first_word). */
    uint64_t next = i + 1 < n && t[i + 1].sent == tk->sent ? id_bits(&t[i + 1]) : 0;
    next |= 1ull << (NO_ID & 63);
#define TRY(qi)                                                                 \
    do {                                                                        \
        uint32_t q_ = (qi);                                                     \
        uint64_t s_ = c->second[q_];                                            \
        if ((!s_ || (s_ & next)) && nh < max)                                   \
            nh += (size_t)try_cue(x, q_, i, nh);                                \
    } while (0)
    for (unsigned j = 0; j < tk->ncue; j++) {
        uint16_t w = tk->cue[j];
        if (w >= c->nstarts || !(c->firsts[w].second & next))
            continue;
        for (uint32_t k = c->firsts[w].from; k < c->firsts[w].to; k++)
            TRY(c->byid[k]);
    }
    if (tk->neg)
        for (uint32_t k = 0; k < x->starts->nneg; k++)
            TRY(x->starts->neg[k]);
    if (tk->num)
        for (uint32_t k = 0; k < x->starts->nnum; k++)
            TRY(x->starts->num[k]);
#undef TRY
    return nh;
}

/* The tokens of a text whose cue words do not fit renumber_words()'s two
 * halves (c->split): every token with a word is tried. */
static __attribute__((noinline)) size_t cues_wide(const struct text_cues *x, size_t max)
{
    size_t nh = 0;
    for (size_t i = 0; i < x->n; i++)
        if (x->t[i].ncue || x->t[i].neg || x->t[i].num)
            nh = cues_at(x, i, nh, max);
    return nh;
}

size_t analyzer_cues_match(const struct analyzer_cues *c, const struct analyzer_tok *t,
                           size_t n, const char *lang, struct cue_hit *hits, size_t max)
{
    size_t nh = 0;
    if (!c || c->n == 0)
        return 0;
    uint64_t lbit = lang ? code_bit(c, lang) : 0;
    const struct text_cues x = {
        .c = c, .t = t, .n = n, .lang = lang, .lbit = lbit, .hits = hits,
        .starts = &c->bylang[lbit ? (unsigned)__builtin_ctzll(lbit) : c->ncodes]};
    /* a token's four ids as 16-bit lanes: one that starts a cue has its
     * high bit clear (renumber_words()). Ids past ncue are NO_ID; a token
     * muted after its lookup keeps its ids with ncue 0 and is stepped
     * through for nothing. Half the tokens have a word, a sixth one that
     * starts a cue: this test is far easier to predict. */
    if (!c->split) {
        nh = cues_wide(&x, max);
    } else {
        for (const struct analyzer_tok *tk = t, *end = t + n; tk < end; tk++) {
            uint64_t ids;
            memcpy(&ids, tk->cue, sizeof ids);
            if ((~ids & HIGH_LANES) | tk->neg | tk->num)
                nh = cues_at(&x, (size_t)(tk - t), nh, max);
        }
    }
    /* counter-evidence cancels the cues it overlaps: "no problem" is not
     * the "NEG _" it also is */
    size_t kept = 0;
    for (size_t h = 0; h < nh; h++) {
        int cancelled = 0;
        for (size_t k = 0; k < nh && !cancelled && hits[h].weight > 0; k++)
            cancelled = hits[k].weight < 0 && hits[k].first <= hits[h].last &&
                        hits[h].first <= hits[k].last;
        if (!cancelled)
            hits[kept++] = hits[h];
    }
    return kept;
}

/* ---- the complaint score ------------------------------------------------- */

/* How the evidence adds up. Cues of one reason count once, at their
 * strongest; cues of different reasons are independent evidence (a noisy
 * OR). The words' own sentiment is evidence too: a post to a company that is
 * clearly negative is a complaint even without a cue ("you are the worst"),
 * and a clearly positive one is less likely to be ("thanks for rebooking my
 * delayed flight so fast"). */
#define NEG_FULL   0.4      /* a words' compound this negative is, alone, a complaint
                               (score COMPLAINT_AT) */
#define COMPLAINT_AT 0.4
#define POS_DAMP   0.5      /* a compound of +1 halves the score */
#define AGAINST    0.5      /* counter-evidence elsewhere in the post counts half */

void analyzer_complaint(const struct sentiment *st, struct complaint *out)
{
    memset(out, 0, sizeof *out);
    float best[COMPLAINT_MAX_REASONS];
    double against = 1.0;       /* cues of weight < 0: "no problem", "can't wait" */
    for (size_t h = 0; h < st->nhits; h++) {
        const struct cue_hit *x = &st->hits[h];
        if (x->weight < 0) {
            against *= 1.0 + AGAINST * x->weight;
            continue;
        }
        size_t k = 0;
        while (k < out->nreasons && out->reasons[k] != x->reason)
            k++;
        if (k == out->nreasons) {
            if (k == COMPLAINT_MAX_REASONS)
                continue;
            out->reasons[k] = x->reason;
            best[k] = 0.0f;
            out->nreasons++;
        }
        if (x->weight > best[k])
            best[k] = x->weight;
    }
    /* strongest first (insertion sort: a handful) */
    for (size_t i = 1; i < out->nreasons; i++)
        for (size_t j = i; j > 0 && best[j] > best[j - 1]; j--) {
            float w = best[j];
            best[j] = best[j - 1];
            best[j - 1] = w;
            uint16_t r = out->reasons[j];
            out->reasons[j] = out->reasons[j - 1];
            out->reasons[j - 1] = r;
        }
    double none = 1.0;
    for (size_t k = 0; k < out->nreasons; k++)
        none *= 1.0 - best[k];
    double neg = st->words < 0 ? -st->words / NEG_FULL : 0.0;
    if (neg > 1.0)
        neg = 1.0;
    none *= 1.0 - COMPLAINT_AT * neg;
    double score = (1.0 - none) * against;
    if (st->words > 0)
        score *= 1.0 - POS_DAMP * st->words;
    out->score = score < 0 ? 0 : score > 1 ? 1 : score;
    out->label = out->score >= COMPLAINT_AT;
    if (!out->label)
        out->nreasons = 0;      /* reasons say why it is one */
    if (out->label && out->nreasons == 0) {
        out->reasons[0] = COMPLAINT_NEGATIVE;
        out->nreasons = 1;
    }
}
