/* analyzer.c -- the public face of the analyzer: build once, tag many.
 *
 * An analyzer owns a lexicon (sentiment.c's data) and a rule set (rules.c).
 * analyzer_tag() joins an item's title and text with a newline, makes sure
 * the result is valid UTF-8 once (a copy with U+FFFD for bad bytes when it is
 * not), and hands that one buffer to the sentiment scorer, the language
 * guess and the rules. Nothing here reads a clock, a file or a global after
 * analyzer_new(), so one analyzer serves any number of threads. */
#define _GNU_SOURCE         /* memmem */
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "analyzer/analyzer_internal.h"

struct analyzer {
    struct analyzer_lexicon *lx;
    struct analyzer_rules *rules;   /* NULL when built without a rules folder */
    struct analyzer_cues *cues;     /* the *.cues of both folders */
    char **brands;                  /* brand names, lower case, without - _ . */
    size_t nbrands;
    struct cue_word *cue_words[2];  /* the cue words of lx->words' and lx->ru's keys */
    unsigned refs;                  /* analyzer_ref() and analyzer_free() */
};

/* What analyzer_cues_word() says of every key of t, by entry index. */
static struct cue_word *cue_words_of(const struct analyzer_cues *c, const struct lex_table *t)
{
    struct cue_word *v = ctx_calloc(t->n, sizeof *v);
    for (uint32_t i = 0; i < t->n; i++)
        v[i].ncue = (uint8_t)analyzer_cues_word(c, t->v[i].key, t->v[i].len, v[i].cue,
                                                &v[i].num);
    return v;
}

/* What the rules' prefilter finds at a word that is a key of t, by entry
 * index (cue_word.pf; see run_rules()). A word whose list is past the
 * numbers cue_word.pf holds is left to the prefilter. */
static void pf_words_of(struct analyzer_rules *rs, const struct lex_table *t,
                        struct cue_word *v)
{
    for (uint32_t i = 0; i < t->n; i++) {
        const struct lex_entry *e = &t->v[i];
        uint32_t list = analyzer_rules_word(rs, e->key, e->len);
        v[i].pf = list < LEX_PF_LIST ? (uint16_t)(list + 1) : 0;
        if (v[i].pf && memmem(e->key, e->len, "\xD0\xB5", 2)) {
            /* the text may have had ё there: the token's letters are checked
             * for it, two bytes a letter, so all of them must be Cyrillic */
            for (uint32_t c = 0; c < e->len; c++)
                if ((unsigned char)e->key[c] < 0x80)
                    v[i].pf = 0;
            if (v[i].pf)
                v[i].pf |= LEX_PF_YO;
        }
    }
}

static int add_cue_word(void *lx, const char *w, size_t n)
{
    return analyzer_lex_add_cue_word(lx, w, n);
}

/* The commonest English words (of general frequency lists): a token found
 * in the lexicon's tables skips the rules' prefilter's lookups. */
static const char *const common_words[] = {
    "the", "be", "to", "of", "and", "a", "in", "that", "have", "i", "it", "for", "not", "on",
    "with", "he", "as", "you", "do", "at", "this", "but", "his", "by", "from", "they", "we",
    "say", "her", "she", "or", "an", "will", "my", "one", "all", "would", "there", "their",
    "what", "so", "up", "out", "if", "about", "who", "get", "which", "go", "me", "when",
    "make", "can", "like", "time", "no", "just", "him", "know", "take", "people", "into",
    "year", "your", "good", "some", "could", "them", "see", "other", "than", "then", "now",
    "look", "only", "come", "its", "over", "think", "also", "back", "after", "use", "two",
    "how", "our", "work", "first", "well", "way", "even", "new", "want", "because", "any",
    "these", "give", "day", "most", "us", "is", "are", "was", "were", "been", "has", "had",
    "did", "does", "much", "too", "very", "more", "many", "such", "through", "where", "why",
    "here", "off", "own", "same", "still", "should", "may", "might", "must", "being", "those",
    "every", "never", "made", "got", "going", "really", "thing", "things", "little", "long",
    "great", "while", "before", "down", "man", "life", "world", "last", "old", "again",
};

#define MAX_BRAND_NAMES 4096

/* The brand rules' names as they would be written in a hashtag. */
static void brand_names(analyzer *a)
{
    const char **names = ctx_malloc(MAX_BRAND_NAMES * sizeof *names);
    size_t n = analyzer_rules_brands(a->rules, names, MAX_BRAND_NAMES);
    a->brands = ctx_calloc(n, sizeof *a->brands);
    for (size_t i = 0; i < n; i++) {
        char *b = ctx_malloc(strlen(names[i]) + 1), *o = b;
        for (const char *p = names[i]; *p; p++)
            if (*p != '-' && *p != '_' && *p != '.')
                *o++ = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        *o = '\0';
        a->brands[a->nbrands++] = b;
    }
    free(names);
}

analyzer *analyzer_new(const char *lexicon_dir, const char *rules_dir, char *err,
                       size_t errlen)
{
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    if (!lexicon_dir) {
        snprintf(err, errlen, "no lexicon folder given");
        return NULL;
    }
    analyzer *a = ctx_calloc(1, sizeof *a);
    a->refs = 1;
    if (!(a->lx = analyzer_lexicon_load(lexicon_dir, err, errlen)))
        goto fail;
    if (rules_dir && analyzer_rules_load(rules_dir, &a->rules, err, errlen) != CTX_OK)
        goto fail;
    const char *dirs[] = {lexicon_dir, rules_dir, NULL};
    if (analyzer_cues_load(dirs, &a->cues, err, errlen) != CTX_OK)
        goto fail;
    brand_names(a);
    /* the whole cue words into the lexicon's tables first: a token's one
     * lookup then finds them (sentiment_opts.cue_words) */
    if (analyzer_cues_each_word(a->cues, add_cue_word, a->lx) < 0) {
        snprintf(err, errlen, "%s: no room for the cue words (a lexicon table holds %u entries)",
                 lexicon_dir, LEX_MAX_ENTRIES);
        goto fail;
    }
    /* with rules, the words their prefilter looks for, and the commonest
     * English words, into the tables too (as cue words: entries with no
     * meaning for the scorer), so that their tokens are found, and with
     * them what the prefilter finds there (pf_words_of()) */
    if (a->rules) {
        int rc = analyzer_rules_each_word(a->rules, add_cue_word, a->lx);
        for (size_t i = 0; rc == 0 && i < CTX_ARRAY_LEN(common_words); i++)
            rc = add_cue_word(a->lx, common_words[i], strlen(common_words[i]));
        if (rc < 0) {
            snprintf(err, errlen, "%s: no room for the rules' words (a lexicon table holds "
                     "%u entries)", lexicon_dir, LEX_MAX_ENTRIES);
            goto fail;
        }
    }
    a->cue_words[0] = cue_words_of(a->cues, &a->lx->words);
    a->cue_words[1] = cue_words_of(a->cues, &a->lx->ru);
    if (a->rules) {
        pf_words_of(a->rules, &a->lx->words, a->cue_words[0]);
        pf_words_of(a->rules, &a->lx->ru, a->cue_words[1]);
    }
    return a;
fail:
    analyzer_free(a);
    return NULL;
}

analyzer *analyzer_ref(analyzer *a)
{
    if (a)
        a->refs++;
    return a;
}

void analyzer_free(analyzer *a)
{
    if (!a || --a->refs > 0)
        return;
    analyzer_lexicon_free(a->lx);
    analyzer_rules_free(a->rules);
    analyzer_cues_free(a->cues);
    for (size_t i = 0; i < a->nbrands; i++)
        free(a->brands[i]);
    free(a->brands);
    free(a->cue_words[0]);
    free(a->cue_words[1]);
    free(a);
}

/* The rules run between the tokenizer and the scorer: they need the
 * language, and the scorer needs the spans of the brands they found. */
#define COMPLAINT_SURE 0.5    /* a complaint score this high decides the sentiment... */
#define COMPLAINT_WARM 0.3    /* ...unless the words' compound is this positive */
#define COMPLAINT_FLOOR 0.4   /* its sentiment is then at most FLOOR - score: -0.1 .. -0.6 */

struct rules_run {
    const analyzer *a;
    const char *s, *declared;
    size_t len;
    struct tags *out;
    json_t *explain;
    int flags;
};

/* The tokens whose lower case is a key of the lexicon's tables are words
 * whose prefilter literals are known from load (cue_word.pf, kept in
 * analyzer_tok.pf): the rules get the tokens, so that the prefilter does
 * not fold and look them up again. Only when the tokens are in the text
 * the rules read (no emoji replaced). */
static void run_rules(void *ud, const char *lang, const struct analyzer_tok *t, size_t n,
                      const char *ts, struct analyzer_spans *mask)
{
    struct rules_run *r = ud;
    if (!r->a->rules)
        return;
    if (ts != r->s)
        t = NULL, n = 0;
    /* rules restricted to languages go by the guess, else by what the
     * source declared */
    analyzer_rules_apply_known(r->a->rules, r->s, r->len, t, n, lang ? lang : r->declared,
                               r->out, mask, r->explain, r->flags);
}

/* analyzer_tag() and analyzer_explain(): ex is NULL when not explaining,
 * else an object that gets "sentiment", "complaint" and "rules". */
static void tag(const analyzer *a, const struct item *it, struct tags *out, json_t *ex,
                int flags)
{
    const char *title = it->title ? it->title : "";
    const char *text = it->text ? it->text : "";
    size_t tl = strlen(title), xl = strlen(text);
    char *joined = NULL, *repaired = NULL;
    const char *s;
    size_t len;

    if (tl && xl) {
        joined = ctx_malloc(tl + 1 + xl + 1);
        memcpy(joined, title, tl);
        joined[tl] = '\n';
        memcpy(joined + tl + 1, text, xl + 1);
        s = joined;
        len = tl + 1 + xl;
    } else {
        s = tl ? title : text;
        len = tl ? tl : xl;
    }
    if (ctx_utf8_valid_prefix(s, len) != len)
        s = repaired = ctx_utf8_repair(s, len, &len);

    json_t *sj = ex ? json_object() : NULL, *rj = ex ? json_array() : NULL;
    if (ex) {
        json_object_set_new(ex, "sentiment", sj);
        json_object_set_new(ex, "rules", rj);
    }
    struct rules_run run = {.a = a, .s = s, .len = len, .declared = it->lang, .out = out,
                            .explain = rj, .flags = flags};
    struct sentiment_opts opt = {.cues = a->cues, .cue_words = {a->cue_words[0], a->cue_words[1]},
                                 .brands = (const char *const *)a->brands,
                                 .nbrands = a->nbrands, .mask = run_rules, .ud = &run};
    struct sentiment st;
    analyzer_sentiment(a->lx, &opt, s, len, &st, sj);
    out->score = st.score;
    out->label = sentiment_label_of(out->score);
    const char *lang = analyzer_lang_code(st.lang);
    if (lang)
        tags_set_lang(out, lang);
    struct complaint cp;
    analyzer_complaint(&st, &cp);
    out->complaint_score = cp.score;
    out->complaint = cp.label;
    /* A post that is surely a complaint is negative about its company,
     * however politely put, unless its words are clearly warm: "my bag never
     * arrived, thanks" reads negative, "thanks for rebooking my cancelled
     * flight so fast, you are wonderful" stays positive. */
    if (cp.score >= COMPLAINT_SURE && out->score < COMPLAINT_WARM) {
        double cap = COMPLAINT_FLOOR - cp.score;
        if (out->score > cap)
            out->score = round(cap * 10000.0) / 10000.0;
        out->label = sentiment_label_of(out->score);
    }
    for (size_t i = 0; i < cp.nreasons; i++)
        strlist_add(&out->reasons, cp.reasons[i] == COMPLAINT_NEGATIVE
                                       ? "negative"
                                       : analyzer_cues_reason(a->cues, cp.reasons[i]));
    free(joined);
    free(repaired);
}

double analyzer_score(const analyzer *a, const char *text)
{
    struct tags t = {0};
    struct item it = {.text = (char *)text};
    if (!a || !text)
        return 0.0;
    tag(a, &it, &t, NULL, 0);
    double x = t.score;
    tags_clear(&t);
    return x;
}

ctx_err analyzer_tag(const analyzer *a, const struct item *it, struct tags *out)
{
    if (!a || !it || !out)
        return CTX_EINVAL;
    tag(a, it, out, NULL, 0);
    return CTX_OK;
}

/* For the prefilter's property test: every rule matched, no prefilter. */
ctx_err analyzer_tag_unfiltered(const analyzer *a, const struct item *it, struct tags *out)
{
    if (!a || !it || !out)
        return CTX_EINVAL;
    tag(a, it, out, NULL, RULES_NO_PREFILTER);
    return CTX_OK;
}

ctx_err analyzer_explain(const analyzer *a, const struct item *it, json_t **out)
{
    if (!a || !it || !out)
        return CTX_EINVAL;
    *out = NULL;
    json_t *ex = json_object();
    struct tags t = {0};
    tag(a, it, &t, ex, 0);
    json_t *tj = tags_to_json(&t);
    json_object_set_new(tj, "lang", t.lang ? json_string(t.lang) : json_null());
    json_object_set_new(ex, "tags", tj);
    tags_clear(&t);
    *out = ex;
    return CTX_OK;
}

const char *analyzer_lang(const analyzer *a, const char *text)
{
    struct sentiment st = {0};
    if (!a || !text)
        return NULL;
    size_t len = strlen(text);
    if (ctx_utf8_valid_prefix(text, len) != len) {
        char *r = ctx_utf8_repair(text, len, &len);
        analyzer_sentiment(a->lx, NULL, r, len, &st, NULL);
        free(r);
    } else {
        analyzer_sentiment(a->lx, NULL, text, len, &st, NULL);
    }
    return analyzer_lang_code(st.lang);
}

ctx_err analyzer_rules_check(const char *dir, char *err, size_t errlen)
{
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    if (!dir) {
        snprintf(err, errlen, "no rules folder given");
        return CTX_EINVAL;
    }
    struct analyzer_rules *rs;
    ctx_err rc = analyzer_rules_load(dir, &rs, err, errlen);
    analyzer_rules_free(rs);
    if (rc != CTX_OK)
        return rc;
    /* and the operator's complaint cues beside the rules */
    const char *dirs[] = {dir, NULL};
    struct analyzer_cues *cues;
    rc = analyzer_cues_load(dirs, &cues, err, errlen);
    analyzer_cues_free(cues);
    return rc;
}

unsigned long analyzer_match_aborts(const analyzer *a)
{
    return a ? analyzer_rules_aborts(a->rules) : 0;
}
