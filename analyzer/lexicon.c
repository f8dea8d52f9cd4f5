/* lexicon.c -- VADER's word and emoji lexicons, and its fixed word lists.
 *
 * Both lexicon files are read whole; keys and descriptions stay in those
 * buffers (NUL-terminated in place) and an open-addressing table with
 * linear probing indexes them. A slot (32 bits, so that the slots of all
 * the tables stay small in the cache) packs the top 12 bits of the key's
 * hash with the entry's index, so most misses are settled without touching
 * the entry. The table is built once and only read afterwards, so lookups are
 * safe from any number of threads.
 *
 * VADER's own lists (negations, boosters/dampeners, special-case idioms) go
 * into the same word table as flags on the entries, so the sentiment code
 * does one lookup per token and then compares entry pointers: two tokens are
 * the same word exactly when they resolve to the same entry.
 *
 * As in the reference implementation, a key that appears twice keeps its last
 * value, and lookups are made with the lower-cased token, so keys written with
 * capitals (":D" next to ":d") are unreachable. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>
#include "analyzer/analyzer_internal.h"

#define B_INCR 0.293
#define B_DECR (-0.293)

/* VADER's negation words (besides any word containing "n't"). */
static const char *const negate_words[] = {
    "aint", "arent", "cannot", "cant", "couldnt", "darent", "didnt", "doesnt",
    "ain't", "aren't", "can't", "couldn't", "daren't", "didn't", "doesn't",
    "dont", "hadnt", "hasnt", "havent", "isnt", "mightnt", "mustnt", "neither",
    "don't", "hadn't", "hasn't", "haven't", "isn't", "mightn't", "mustn't",
    "neednt", "needn't", "never", "none", "nope", "nor", "not", "nothing", "nowhere",
    "oughtnt", "shant", "shouldnt", "uhuh", "wasnt", "werent",
    "oughtn't", "shan't", "shouldn't", "uh-uh", "wasn't", "weren't",
    "without", "wont", "wouldnt", "won't", "wouldn't", "rarely", "seldom", "despite",
};

/* Degree adverbs: intensity boosters and dampeners (single tokens). */
static const char *const boosters_up[] = {
    "absolutely", "amazingly", "awfully", "completely", "considerable", "considerably",
    "decidedly", "deeply", "effing", "enormous", "enormously", "entirely", "especially",
    "exceptional", "exceptionally", "extreme", "extremely", "fabulously", "flipping",
    "flippin", "frackin", "fracking", "fricking", "frickin", "frigging", "friggin",
    "fully", "fuckin", "fucking", "fuggin", "fugging", "greatly", "hella", "highly",
    "hugely", "incredible", "incredibly", "intensely", "major", "majorly", "more",
    "most", "particularly", "purely", "quite", "really", "remarkably", "so",
    "substantially", "thoroughly", "total", "totally", "tremendous", "tremendously",
    "uber", "unbelievably", "unusually", "utter", "utterly", "very",
};
static const char *const boosters_down[] = {
    "almost", "barely", "hardly", "kinda", "kindof", "kind-of", "less", "little",
    "marginal", "marginally", "occasional", "occasionally", "partly", "scarce",
    "scarcely", "slight", "slightly", "somewhat", "sorta", "sortof", "sort-of",
};

/* Idioms whose value replaces the word's own ("the bomb" is not -2.2).
 * VADER also lists the single word "badass", which its two- and three-word
 * comparisons can never reach, so it is left out. */
static const struct { const char *p; double v; } special_cases[] = {
    {"the shit", 3.0}, {"the bomb", 3.0}, {"bad ass", 1.5}, {"bus stop", 0.0},
    {"yeah right", -2.0}, {"kiss of death", -1.5}, {"to die for", 3.0},
    {"beating heart", 3.1}, {"broken heart", -2.9},
};

/* Multi-word dampeners, found only by the idiom check. */
static const struct { const char *p; double v; } booster_ngrams[] = {
    {"just enough", B_DECR}, {"kind of", B_DECR}, {"sort of", B_DECR},
};

/* Russian: negations, degree adverbs, contrast conjunctions. */
static const char *const ru_negate[] = {"не", "нет", "ни", "без", "никогда"};
static const char *const ru_up[] = {
    "очень", "совсем", "крайне", "слишком", "абсолютно", "весьма", "чрезвычайно",
    "невероятно", "совершенно", "полностью", "настолько", "особенно", "максимально",
    "безумно", "самый", "самая", "самое", "самые", "наиболее", "гораздо", "намного",
};
static const char *const ru_down[] = {
    "немного", "слегка", "чуть", "чуть-чуть", "едва", "почти", "отчасти", "частично",
    "несколько", "довольно", "относительно", "маловато",
};
static const char *const ru_contrast[] = {"но", "однако", "зато"};

/* English: "but" (VADER), concessive conjunctions and irrealis markers. */
static const char *const en_contrast[] = {"but"};
static const char *const en_concessive[] = {"although", "though", "whereas"};
static const char *const en_irrealis[] = {"would", "could", "should", "might", "if", "wish",
                                          "hope", "wouldn't", "couldn't", "shouldn't"};

/* The pragmatics of posts to a company (sentiment.c, step 3b): gratitude
 * formulas, which close a request or a complaint as often as they thank;
 * explicit sarcasm markers ("#sarcasm", "/s"), which turn the praise around
 * them; request markers, which make a post a request; and the words that,
 * right before "like", make it the verb ("I like", "really like") rather
 * than the preposition or filler ("looks like", "like 3 hours"); and the
 * times of day that make "good" a greeting ("good morning"). */
static const char *const pr_gratitude[] = {
    "thanks", "thank", "thx", "thnx", "thanx", "tks", "ty", "tysm", "thankyou", "appreciate",
    "appreciated", "grateful", "спасибо", "благодарю", "спс", "благодарим"};
static const char *const pr_sarcasm[] = {"sarcasm", "sarcastic", "irony", "ironic", "/s",
                                         "сарказм", "ирония"};
static const char *const pr_request[] = {"please", "pls", "plz", "pleas", "kindly", "dm",
                                         "пожалуйста", "подскажите", "помогите"};
/* a wish put to a company is a request, not praise: "I would love a
 * refund", "we'd appreciate a call back" */
static const char *const pr_wish[] = {"love", "appreciate", "enjoy", "prefer", "adore"};
static const char *const pr_would[] = {"would", "i'd", "we'd", "wud", "wld"};
/* negated, these say something is good, if mildly (litotes: "not bad",
 * "not too shabby"), unlike "not my fault", which only denies a failure */
static const char *const pr_litotes[] = {"bad", "shabby", "terrible", "awful", "horrible"};
/* laughter and a wink in a post to a company are tone, as often at a
 * failure ("lol my bag is in Denver") as at a joke: they praise nothing */
static const char *const pr_laugh[] = {"lol", "lolz", "lmao", "lmfao", "rofl", "roflmao",
                                       "haha", "hahaha", "hahah", "hehe", "hahahaha",
                                       ";)", ";-)", ";d", ";-d"};
static const char *const pr_laugh_emoji[] = {"\xF0\x9F\x98\x82", "\xF0\x9F\xA4\xA3"}; /* 😂 🤣 */
static const char *const pr_greeting[] = {"morning", "afternoon", "evening", "night"};
/* what a company does to undo a failure: after "thanks for", the failure
 * named next is remedied, not complained about ("thanks for finding my lost
 * bag", "спасибо, что нашли потерянный багаж") */
static const char *const pr_remedy[] = {
    "find", "found", "finding", "fix", "fixed", "fixing", "rebook", "rebooked", "rebooking",
    "refund", "refunded", "refunding", "resolve", "resolved", "resolving", "sort", "sorted",
    "sorting", "replace", "replaced", "replacing", "return", "returned", "returning",
    "recover", "recovered", "recovering", "locate", "located", "locating", "reschedule",
    "rescheduled", "rescheduling", "reimburse", "reimbursed", "reimbursing", "restore",
    "restored", "restoring", "retrieve", "retrieved", "retrieving", "track", "tracked",
    "tracking",
    "нашли", "нашел", "нашла", "вернули", "вернул", "вернула", "исправили", "исправил",
    "исправила", "решили", "решил", "решила", "починили", "починил", "починила",
    "восстановили", "восстановил", "восстановила"};
static const char *const pr_like_subject[] = {
    "i", "we", "you", "they", "u", "ya", "really", "also", "do", "does", "did", "don't",
    "didn't", "doesn't", "dont", "didnt", "doesnt", "just", "actually", "totally",
    "definitely", "still", "always", "we'd", "to", "i'll", "we'll", "not"};

static const char *const lw_names[LW__COUNT] = {
    [LW_BUT] = "but", [LW_NO] = "no", [LW_KIND] = "kind", [LW_OF] = "of",
    [LW_LEAST] = "least", [LW_AT] = "at", [LW_VERY] = "very", [LW_NEVER] = "never",
    [LW_SO] = "so", [LW_THIS] = "this", [LW_WITHOUT] = "without", [LW_DOUBT] = "doubt",
    [LW_OR] = "or", [LW_NOR] = "nor", [LW_LIKE] = "like",
};

/* ---- the hash table ----------------------------------------------------- */

/* memcmp() == 0 for the short keys of the tables, without a library call. */
static inline int same(const char *a, const char *b, size_t n)
{
    while (n >= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y)
            return 0;
        a += 8;
        b += 8;
        n -= 8;
    }
    while (n--)
        if (*a++ != *b++)
            return 0;
    return 1;
}

const struct lex_entry *analyzer_lex_find(const struct lex_table *t, const char *key,
                                          size_t len)
{
    if (len > t->maxlen || !t->slot)
        return NULL;
    if (len > sizeof t->v->head && len <= 32) {
        /* the key's first and last sixteen bytes, kept for the hash and
         * compared with the entry's in one test */
        uint64_t k[4];
        memcpy(k, key, 16);
        memcpy(k + 2, key + len - 16, 16);
        uint64_t h = analyzer_lex_hash32(k[0], k[1], k[2], k[3], len);
        uint32_t tag = (uint32_t)(h >> (64 - LEX_TAG_BITS));
        for (uint32_t i = (uint32_t)h & t->mask;; i = (i + 1) & t->mask) {
            uint32_t s = t->slot[i];
            if (!s)
                return NULL;
            if ((s >> LEX_IDX_BITS) == tag) {
                const struct lex_entry *e = &t->v[(s & ((1u << LEX_IDX_BITS) - 1)) - 1];
                if (e->len == len) {
                    uint64_t x[4];
                    memcpy(x, e->key, 16);
                    memcpy(x + 2, e->key + len - 16, 16);
                    if (!((x[0] ^ k[0]) | (x[1] ^ k[1]) | (x[2] ^ k[2]) | (x[3] ^ k[3])))
                        return e;
                }
            }
        }
    }
    uint64_t h = analyzer_lex_hash(key, len);
    uint32_t tag = (uint32_t)(h >> (64 - LEX_TAG_BITS));
    for (uint32_t i = (uint32_t)h & t->mask;; i = (i + 1) & t->mask) {
        uint32_t s = t->slot[i];
        if (!s)
            return NULL;
        if ((s >> LEX_IDX_BITS) == tag) {
            const struct lex_entry *e = &t->v[(s & ((1u << LEX_IDX_BITS) - 1)) - 1];
            if (e->len == len &&
                (len <= sizeof e->head ? same(e->head, key, len) : same(e->key, key, len)))
                return e;
        }
    }
}

static void slot_put(uint32_t *slot, uint32_t mask, uint64_t h, uint32_t idx)
{
    uint32_t i = (uint32_t)h & mask;
    while (slot[i])
        i = (i + 1) & mask;
    slot[i] = (uint32_t)(h >> (64 - LEX_TAG_BITS)) << LEX_IDX_BITS | (idx + 1);
}

static void table_grow(struct lex_table *t)
{
    uint32_t size = t->slot ? (t->mask + 1) * 2 : 1024;
    uint32_t *slot = ctx_calloc(size, sizeof *slot);
    for (uint32_t i = 0; i < t->n; i++)
        slot_put(slot, size - 1, analyzer_lex_hash(t->v[i].key, t->v[i].len), i);
    free(t->slot);
    t->slot = slot;
    t->mask = size - 1;
}

/* The entry for key, created (zeroed) if absent. Returns an index, -1 when
 * the table is full (or the key longer than 4 GiB); entry pointers move
 * while the table grows. */
static long table_intern(struct lex_table *t, const char *key, size_t len)
{
    if (len > UINT32_MAX)
        return -1;
    if (t->slot && len <= t->maxlen) {
        const struct lex_entry *e = analyzer_lex_find(t, key, len);
        if (e)
            return e - t->v;
    }
    if (t->n >= LEX_MAX_ENTRIES)
        return -1;
    /* at most a quarter full: most lookups are of words that are not
     * there, and a miss ends at the first empty slot; at half full the
     * probe went past the first slot often enough to miss the loop's exit
     * some seven times a text (the slots, 320 KB, are 640 KB now) */
    if (!t->slot || (uint64_t)(t->n + 1) * 4 > (uint64_t)t->mask + 1)
        table_grow(t);
    if (t->n == t->cap) {
        /* entries start on a cache line (64 bytes each: a lookup reads one
         * line, not two); ctx_realloc() would not keep that */
        uint32_t cap = t->cap ? t->cap * 2 : 1024;
        size_t bytes = ((size_t)cap * sizeof *t->v + 63) & ~(size_t)63;
        struct lex_entry *v = aligned_alloc(64, bytes);
        if (!v)
            ctx_oom(bytes);
        if (t->n)
            memcpy(v, t->v, (size_t)t->n * sizeof *v);
        free(t->v);
        t->v = v;
        t->cap = cap;
    }
    uint32_t idx = t->n++;
    memset(&t->v[idx], 0, sizeof t->v[idx]);
    t->v[idx].key = key;
    t->v[idx].len = (uint32_t)len;
    memcpy(t->v[idx].head, key, len < sizeof t->v[idx].head ? len : sizeof t->v[idx].head);
    slot_put(t->slot, t->mask, analyzer_lex_hash(key, len), idx);
    if (len > t->maxlen)
        t->maxlen = (uint32_t)len;
    return idx;
}

static void table_free(struct lex_table *t)
{
    free(t->slot);
    free(t->v);
    memset(t, 0, sizeof *t);
}

/* ---- loading ------------------------------------------------------------ */

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *p = ctx_malloc(cap);
    for (;;) {
        n += fread(p + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        cap *= 2;
        p = ctx_realloc(p, cap);
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(p);
        fclose(f);
        return NULL;
    }
    fclose(f);
    p[n] = '\0';
    *len = n;
    return p;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Split buf into lines; for each non-blank line, stripped of surrounding
 * white space and cut at tabs, call fn with the first two fields (the
 * second may be NULL) and the rest of the line after them (NULL when there
 * is none). Fields are NUL-terminated in place. */
typedef int (*line_fn)(struct analyzer_lexicon *lx, char *f1, char *f2, const char *rest,
                       const char *path, int line, char *err, size_t errlen);

static int each_line(struct analyzer_lexicon *lx, char *buf, size_t len, line_fn fn,
                     const char *path, char *err, size_t errlen)
{
    char *end = buf + len;
    int line = 0;
    for (char *p = buf; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        line++;
        char *a = p, *b = e;
        while (a < b && is_space(*a))
            a++;
        while (b > a && is_space(b[-1]))
            b--;
        p = nl ? nl + 1 : end;
        if (a == b)
            continue;
        *b = '\0';
        char *f2 = NULL, *rest = NULL;
        char *tab = memchr(a, '\t', (size_t)(b - a));
        if (tab) {
            *tab = '\0';
            f2 = tab + 1;
            char *tab2 = strchr(f2, '\t');
            if (tab2) {
                *tab2 = '\0';
                rest = tab2 + 1;
            }
        }
        if (fn(lx, a, f2, rest, path, line, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* table_intern() of the key a line of path gives, with the message when
 * the table is full. */
static long intern_line(struct lex_table *t, const char *key, const char *path, int line,
                        char *err, size_t errlen)
{
    long i = table_intern(t, key, strlen(key));
    if (i < 0)
        snprintf(err, errlen, "%s:%d: no room for this entry (a table holds %u)", path, line,
                 LEX_MAX_ENTRIES);
    return i;
}

static int word_line(struct analyzer_lexicon *lx, char *word, char *val, const char *rest,
                     const char *path, int line, char *err, size_t errlen)
{
    char *end;
    if (!val || !*val) {
        snprintf(err, errlen, "%s:%d: expected word<TAB>valence", path, line);
        return -1;
    }
    errno = 0;
    double v = strtod(val, &end);
    if (errno || *end || end == val) {
        snprintf(err, errlen, "%s:%d: bad valence '%s'", path, line, val);
        return -1;
    }
    long i = intern_line(&lx->words, word, path, line, err, errlen);
    if (i < 0)
        return -1;
    lx->words.v[i].valence = v;
    lx->words.v[i].flags |= LEX_VALENCE | LEX_KNOWN;
    /* VADER's third field: the standard deviation of the ten raters' marks */
    double sd = rest ? strtod(rest, &end) : 0.0;
    if (rest && end != rest && fabs(v) < sd)
        lx->words.v[i].flags |= LEX_UNSURE;
    else
        lx->words.v[i].flags &= ~LEX_UNSURE;
    return 0;
}

/* en_extra.tsv: word<TAB>valence, read after VADER's lexicon; the value
 * given here wins, and 0 makes a word known and neutral (a word of the
 * language for cutting hashtags, or a VADER word that is not opinion in
 * posts to a company). */
static int en_line(struct analyzer_lexicon *lx, char *word, char *val, const char *rest,
                   const char *path, int line, char *err, size_t errlen)
{
    if (word[0] == '#')
        return 0;
    for (char *p = word; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    if (word_line(lx, word, val, rest, path, line, err, errlen) < 0)
        return -1;
    struct lex_entry *e = (struct lex_entry *)analyzer_lex_find(&lx->words, word, strlen(word));
    if (e && e->valence == 0.0)
        e->flags &= ~LEX_VALENCE;
    return 0;
}

/* emoji_valence.tsv: emoji<TAB>valence, for the emoji people use to say how
 * they feel (their descriptions, "thumbs down", hold no lexicon word). */
static int emoji_valence_line(struct analyzer_lexicon *lx, char *emoji, char *val,
                              const char *rest, const char *path, int line, char *err,
                              size_t errlen)
{
    (void)rest;
    if (emoji[0] == '#')
        return 0;
    char *end;
    errno = 0;
    double v = val ? strtod(val, &end) : 0.0;
    if (!val || errno || *end || end == val || v < -4.0 || v > 4.0) {
        snprintf(err, errlen, "%s:%d: expected emoji<TAB>valence (-4..4)", path, line);
        return -1;
    }
    struct lex_entry *e =
        (struct lex_entry *)analyzer_lex_find(&lx->emoji, emoji, strlen(emoji));
    if (!e) {
        snprintf(err, errlen, "%s:%d: '%s' is not in emoji_utf8_lexicon.txt", path, line, emoji);
        return -1;
    }
    e->valence = v;
    e->flags |= LEX_VALENCE;
    return 0;
}

/* The Russian lexicon (ru_polsentilex.tsv, built by build_ru_lexicon.py):
 * word<TAB>mean mark -2..2<TAB>marks. How a mean becomes a valence: */
#define RU_MIN_MEAN   0.5   /* below, in absolute value: a known, neutral word */
#define RU_SCALE      2.0   /* marks -2..2 onto VADER's -4..4 */
#define RU_NEG_WEIGHT 1.5   /* negative words weigh more (SO-CAL, Taboada et al.
                               2011: lexicons lean positive; here too) */

static int ru_line(struct analyzer_lexicon *lx, char *word, char *val, const char *rest,
                   const char *path, int line, char *err, size_t errlen)
{
    (void)rest;             /* the marks: build_ru_lexicon.py's, not read */
    if (word[0] == '#')
        return 0;
    char *end;
    if (!val || !*val) {
        snprintf(err, errlen, "%s:%d: expected word<TAB>mean", path, line);
        return -1;
    }
    errno = 0;
    double m = strtod(val, &end);
    if (errno || *end || end == val || m < -2.0 || m > 2.0) {
        snprintf(err, errlen, "%s:%d: bad mean '%s'", path, line, val);
        return -1;
    }
    long i = intern_line(&lx->ru, word, path, line, err, errlen);
    if (i < 0)
        return -1;
    struct lex_entry *e = &lx->ru.v[i];
    e->flags |= LEX_RU;
    if (fabs(m) >= RU_MIN_MEAN) {
        if (!(e->flags & LEX_VALENCE))
            lx->ru_words++;
        e->valence = m * RU_SCALE * (m < 0 ? RU_NEG_WEIGHT : 1.0);
        e->flags |= LEX_VALENCE;
    } else {
        if (e->flags & LEX_VALENCE)
            lx->ru_words--;
        e->valence = 0.0;
        e->flags &= ~LEX_VALENCE;
    }
    return 0;
}

/* The stem tables: each Russian word's Snowball stem with the mean valence
 * of the words that share it (a neutral word counts as 0, so a stem shared by
 * "месть" and a neutral "место" is weaker than either alone). Verbs and the
 * rest go to separate tables, so that "права" (a noun form) does not match
 * "править" (a verb): a word is looked up in the table of the kind of ending
 * it had. */
static int build_one(struct analyzer_lexicon *lx, struct lex_table *t, int want)
{
    struct lex_table *w = &lx->ru;
    double *sum = NULL;
    uint32_t *cnt = NULL, cap = 0;
    int rc = -1;
    for (uint32_t k = 0; k < w->n; k++) {
        const struct lex_entry *e = &w->v[k];
        if (!(e->flags & LEX_RU))
            continue;
        int cls;
        size_t n = analyzer_stem_ru_class(e->key, e->len, &cls);
        if (n < RU_MIN_STEM || (cls != RU_ANY && cls != want))
            continue;
        long i = table_intern(t, e->key, n);
        if (i < 0)
            goto out;
        if ((uint32_t)i >= cap) {
            uint32_t nc = cap ? cap * 2 : 1024;
            sum = ctx_realloc(sum, nc * sizeof *sum);
            cnt = ctx_realloc(cnt, nc * sizeof *cnt);
            memset(sum + cap, 0, (nc - cap) * sizeof *sum);
            memset(cnt + cap, 0, (nc - cap) * sizeof *cnt);
            cap = nc;
        }
        sum[i] += e->valence;
        cnt[i]++;
    }
    for (uint32_t i = 0; i < t->n; i++) {
        t->v[i].valence = sum[i] / cnt[i];
        t->v[i].flags = LEX_RU | LEX_STEM | (t->v[i].valence != 0.0 ? LEX_VALENCE : 0);
    }
    rc = 0;
out:
    free(sum);
    free(cnt);
    return rc;
}

static int build_stems(struct analyzer_lexicon *lx)
{
    return build_one(lx, &lx->ru_stems, RU_NOMINAL) < 0 ||
                   build_one(lx, &lx->ru_vstems, RU_VERBAL) < 0
               ? -1
               : 0;
}

static int emoji_line(struct analyzer_lexicon *lx, char *emoji, char *desc, const char *rest,
                      const char *path, int line, char *err, size_t errlen)
{
    (void)rest;
    if (!desc || !*desc) {
        snprintf(err, errlen, "%s:%d: expected emoji<TAB>description", path, line);
        return -1;
    }
    size_t len = strlen(emoji);
    long i = intern_line(&lx->emoji, emoji, path, line, err, errlen);
    if (i < 0)
        return -1;
    lx->emoji.v[i].desc = desc;
    lx->emoji.v[i].desc_len = (uint32_t)strlen(desc);

    const unsigned char *s = (const unsigned char *)emoji;
    uint32_t ncp = 0;
    size_t adv;
    uint32_t first = ctx_utf8_decode(s, len, &adv), second = 0;
    for (size_t k = 0; k < len; k += adv, ncp++) {
        uint32_t cp = ctx_utf8_decode(s + k, len - k, &adv);
        if (ncp == 1)
            second = cp;
    }
    /* Where the scorer would look for emoji in text of ASCII and
     * U+0400..U+047F alone (emoji_expand()): at its Cyrillic letters, and at
     * an ASCII character followed by one (a keycap's start). Unless a key
     * can begin there, such text (most Russian text) is not looked at at
     * all (analyzer_sentiment(), lang_votes.rare). */
    if ((first >= 0x400 && first < 0x480) ||
        (first < 0x80 && (ncp == 1 || (second >= 0x400 && second < 0x480))))
        lx->emoji_cyrillic = true;
    if (ncp > lx->emoji_max_cp)
        lx->emoji_max_cp = ncp;
    if (first >= 0x110000)
        first = 0x10FFFF;
    lx->emoji_first[first >> 3] |= (uint8_t)(1u << (first & 7));
    return 0;
}

/* Intern the words of a space-separated phrase into p. */
static int phrase_add(struct lex_table *t, const char *text, long idx[3], unsigned *n)
{
    *n = 0;
    for (const char *s = text; *s;) {
        const char *e = strchr(s, ' ');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (*n == 3)
            return -1;
        idx[*n] = table_intern(t, s, len);
        if (idx[*n] < 0)
            return -1;
        (*n)++;
        s += len;
        while (*s == ' ')
            s++;
    }
    return 0;
}

/* Cyrillic words live in their own table (lx->ru), so that the English one
 * stays small and in cache; a key goes by its first byte, at load and at
 * lookup alike. */
static struct lex_table *table_for(struct analyzer_lexicon *lx, const char *key)
{
    return analyzer_lex_is_ru(key) ? &lx->ru : &lx->words;
}

int analyzer_lex_add_cue_word(struct analyzer_lexicon *lx, const char *key, size_t len)
{
    struct lex_table *t = table_for(lx, key);
    if (len == 0 || len > t->maxlen || analyzer_lex_find(t, key, len))
        return 0;
    lx->cue_keys = ctx_realloc(lx->cue_keys, (lx->ncue_keys + 1) * sizeof *lx->cue_keys);
    char *k = ctx_malloc(len + 1);
    memcpy(k, key, len);
    k[len] = '\0';
    lx->cue_keys[lx->ncue_keys++] = k;
    /* the entries may move: lx->w and the phrases point into lx->words */
    const struct lex_entry *old = lx->words.v;
    long i = table_intern(t, k, len);
    if (i < 0)
        return -1;
    t->v[i].flags = LEX_CUE;
    if (lx->words.v != old) {
        for (size_t w = 0; w < LW__COUNT; w++)
            lx->w[w] = lx->words.v + (lx->w[w] - old);
        struct lex_phrase *ph[2] = {lx->special, lx->ngram};
        unsigned nph[2] = {lx->nspecial, lx->nngram};
        for (int p = 0; p < 2; p++)
            for (unsigned q = 0; q < nph[p]; q++)
                for (unsigned j = 0; j < ph[p][q].n; j++)
                    ph[p][q].w[j] = lx->words.v + (ph[p][q].w[j] - old);
    }
    return 0;
}

static int add_flags(struct analyzer_lexicon *lx, const char *const *w, size_t n,
                     uint32_t flags, double booster)
{
    for (size_t k = 0; k < n; k++) {
        struct lex_table *t = table_for(lx, w[k]);
        long i = table_intern(t, w[k], strlen(w[k]));
        if (i < 0)
            return -1;
        t->v[i].flags |= flags;
        if (booster != 0.0)
            t->v[i].booster = booster;
        if (flags & LEX_FUNC)
            t->v[i].flags &= ~LEX_VALENCE;
    }
    return 0;
}

static int add_lists(struct analyzer_lexicon *lx)
{
    struct lex_table *t = &lx->words;
    long i;
    /* stop words vote for their languages; Russian ones are also function
     * words, never scored and never stemmed */
    for (int l = 0; l < LANG__COUNT; l++) {
        const char *const *w = analyzer_lang_stopwords[l];
        for (size_t k = 0; w && w[k]; k++) {
            struct lex_table *st = table_for(lx, w[k]);
            if ((i = table_intern(st, w[k], strlen(w[k]))) < 0)
                return -1;
            st->v[i].langs |= 1u << l;
            if (l == LANG_RU)
                st->v[i].flags = (st->v[i].flags | LEX_FUNC | LEX_RU) & ~LEX_VALENCE;
        }
    }
    if (add_flags(lx, ru_negate, CTX_ARRAY_LEN(ru_negate), LEX_NEGATE | LEX_FUNC | LEX_RU, 0) < 0 ||
        add_flags(lx, ru_up, CTX_ARRAY_LEN(ru_up), LEX_FUNC | LEX_RU, B_INCR) < 0 ||
        add_flags(lx, ru_down, CTX_ARRAY_LEN(ru_down), LEX_FUNC | LEX_RU, B_DECR) < 0 ||
        add_flags(lx, ru_contrast, CTX_ARRAY_LEN(ru_contrast), LEX_CONTRAST | LEX_FUNC | LEX_RU,
                  0) < 0 ||
        add_flags(lx, en_contrast, CTX_ARRAY_LEN(en_contrast), LEX_CONTRAST, 0) < 0 ||
        add_flags(lx, en_concessive, CTX_ARRAY_LEN(en_concessive), LEX_CONCESSIVE, 0) < 0 ||
        add_flags(lx, en_irrealis, CTX_ARRAY_LEN(en_irrealis), LEX_IRREALIS, 0) < 0 ||
        add_flags(lx, pr_gratitude, CTX_ARRAY_LEN(pr_gratitude), LEX_GRATITUDE, 0) < 0 ||
        add_flags(lx, pr_sarcasm, CTX_ARRAY_LEN(pr_sarcasm), LEX_SARCASM, 0) < 0 ||
        add_flags(lx, pr_request, CTX_ARRAY_LEN(pr_request), LEX_REQUEST, 0) < 0 ||
        add_flags(lx, pr_like_subject, CTX_ARRAY_LEN(pr_like_subject), LEX_LIKE_SUBJ, 0) < 0 ||
        add_flags(lx, pr_greeting, CTX_ARRAY_LEN(pr_greeting), LEX_GREETING, 0) < 0 ||
        add_flags(lx, pr_remedy, CTX_ARRAY_LEN(pr_remedy), LEX_REMEDY, 0) < 0 ||
        add_flags(lx, pr_wish, CTX_ARRAY_LEN(pr_wish), LEX_WISH, 0) < 0 ||
        add_flags(lx, pr_would, CTX_ARRAY_LEN(pr_would), LEX_WOULD, 0) < 0 ||
        add_flags(lx, pr_laugh, CTX_ARRAY_LEN(pr_laugh), LEX_LAUGH, 0) < 0 ||
        add_flags(lx, pr_litotes, CTX_ARRAY_LEN(pr_litotes), LEX_LITOTES, 0) < 0)
        return -1;
    for (size_t k = 0; k < CTX_ARRAY_LEN(negate_words); k++) {
        if ((i = table_intern(t, negate_words[k], strlen(negate_words[k]))) < 0)
            return -1;
        t->v[i].flags |= LEX_NEGATE;
    }
    for (size_t k = 0; k < CTX_ARRAY_LEN(boosters_up); k++) {
        if ((i = table_intern(t, boosters_up[k], strlen(boosters_up[k]))) < 0)
            return -1;
        t->v[i].booster = B_INCR;
    }
    for (size_t k = 0; k < CTX_ARRAY_LEN(boosters_down); k++) {
        if ((i = table_intern(t, boosters_down[k], strlen(boosters_down[k]))) < 0)
            return -1;
        t->v[i].booster = B_DECR;
    }
    long lw[LW__COUNT];
    for (size_t k = 0; k < LW__COUNT; k++)
        if ((lw[k] = table_intern(t, lw_names[k], strlen(lw_names[k]))) < 0)
            return -1;

    /* Phrases: intern every word first, take pointers once the table is final. */
    long sp[LEX_MAX_PHRASES][3], ng[LEX_MAX_PHRASES][3];
    _Static_assert(CTX_ARRAY_LEN(special_cases) <= LEX_MAX_PHRASES, "special cases");
    _Static_assert(CTX_ARRAY_LEN(booster_ngrams) <= LEX_MAX_PHRASES, "booster n-grams");
    for (size_t k = 0; k < CTX_ARRAY_LEN(special_cases); k++) {
        if (phrase_add(t, special_cases[k].p, sp[k], &lx->special[k].n) < 0)
            return -1;
        lx->special[k].value = special_cases[k].v;
    }
    lx->nspecial = CTX_ARRAY_LEN(special_cases);
    for (size_t k = 0; k < CTX_ARRAY_LEN(booster_ngrams); k++) {
        if (phrase_add(t, booster_ngrams[k].p, ng[k], &lx->ngram[k].n) < 0)
            return -1;
        lx->ngram[k].value = booster_ngrams[k].v;
    }
    lx->nngram = CTX_ARRAY_LEN(booster_ngrams);

    for (size_t k = 0; k < LW__COUNT; k++)
        lx->w[k] = &t->v[lw[k]];
    for (unsigned k = 0; k < lx->nspecial; k++)
        for (unsigned j = 0; j < lx->special[k].n; j++)
            t->v[sp[k][j]].flags |= LEX_PHRASE;
    for (unsigned k = 0; k < lx->nngram; k++)
        for (unsigned j = 0; j < lx->ngram[k].n; j++)
            t->v[ng[k][j]].flags |= LEX_PHRASE;
    for (unsigned k = 0; k < lx->nspecial; k++)
        for (unsigned j = 0; j < lx->special[k].n; j++)
            lx->special[k].w[j] = &t->v[sp[k][j]];
    for (unsigned k = 0; k < lx->nngram; k++)
        for (unsigned j = 0; j < lx->ngram[k].n; j++)
            lx->ngram[k].w[j] = &t->v[ng[k][j]];
    return 0;
}

static int load_one(struct analyzer_lexicon *lx, const char *dir, const char *name, int which,
                    line_fn fn, char *err, size_t errlen)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
        snprintf(err, errlen, "%s: path too long", dir);
        return -1;
    }
    size_t len;
    lx->files[which] = read_file(path, &len, err, errlen);
    if (!lx->files[which])
        return -1;
    return each_line(lx, lx->files[which], len, fn, path, err, errlen);
}

/* lx->stem_heads, once the stem tables are complete. */
static void build_stem_heads(struct analyzer_lexicon *lx)
{
    lx->stem_heads = ctx_calloc(STEM_HEAD_BITS / 64, sizeof *lx->stem_heads);
    const struct lex_table *t[] = {&lx->ru_stems, &lx->ru_vstems};
    for (size_t k = 0; k < 2; k++)
        for (uint32_t i = 0; i < t[k]->n; i++)
            if (t[k]->v[i].len >= RU_MIN_STEM) {
                uint32_t h = lex_stem_head(t[k]->v[i].key);
                lx->stem_heads[h >> 6] |= 1ull << (h & 63);
            }
}

struct analyzer_lexicon *analyzer_lexicon_load(const char *dir, char *err, size_t errlen)
{
    struct analyzer_lexicon *lx = ctx_calloc(1, sizeof *lx);
    lx->emoji_first = ctx_calloc(0x110000 / 8, 1);
    if (load_one(lx, dir, "vader_lexicon.txt", 0, word_line, err, errlen) < 0)
        goto fail;
    if (load_one(lx, dir, "emoji_utf8_lexicon.txt", 1, emoji_line, err, errlen) < 0)
        goto fail;
    /* Russian: PolSentiLex, then the hand-written supplement (a word in
     * both takes the supplement's value); each optional */
    static const char *const ru_files[] = {"ru_polsentilex.tsv", "ru_extra.tsv"};
    for (int k = 0; k < 2; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, ru_files[k]);
        if (access(path, F_OK) == 0 &&
            load_one(lx, dir, ru_files[k], 2 + k, ru_line, err, errlen) < 0)
            goto fail;
    }
    /* English supplement and emoji weights, each optional */
    static const struct { const char *name; line_fn fn; } extra[] = {
        {"en_extra.tsv", en_line}, {"emoji_valence.tsv", emoji_valence_line}};
    for (int k = 0; k < 2; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, extra[k].name);
        if (access(path, F_OK) == 0 &&
            load_one(lx, dir, extra[k].name, 4 + k, extra[k].fn, err, errlen) < 0)
            goto fail;
    }
    if (build_stems(lx) < 0 || add_lists(lx) < 0) {
        snprintf(err, errlen, "%s: no room for the word lists (a table holds %u entries)", dir,
                 LEX_MAX_ENTRIES);
        goto fail;
    }
    for (size_t k = 0; k < CTX_ARRAY_LEN(pr_laugh_emoji); k++) {
        struct lex_entry *e = (struct lex_entry *)analyzer_lex_find(
            &lx->emoji, pr_laugh_emoji[k], strlen(pr_laugh_emoji[k]));
        if (e)
            e->flags |= LEX_LAUGH;
    }
    build_stem_heads(lx);
    return lx;
fail:
    analyzer_lexicon_free(lx);
    return NULL;
}

void analyzer_lexicon_free(struct analyzer_lexicon *lx)
{
    if (!lx)
        return;
    table_free(&lx->words);
    table_free(&lx->emoji);
    free(lx->stem_heads);
    table_free(&lx->ru_stems);
    table_free(&lx->ru_vstems);
    table_free(&lx->ru);
    free(lx->emoji_first);
    for (size_t i = 0; i < CTX_ARRAY_LEN(lx->files); i++)
        free(lx->files[i]);
    for (size_t i = 0; i < lx->ncue_keys; i++)
        free(lx->cue_keys[i]);
    free(lx->cue_keys);
    free(lx);
}
