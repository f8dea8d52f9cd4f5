/* test_complaint.c -- the complaint tag and what carries no sentiment, case
 * by case from tests/data/analyzer/complaint.tsv (text, complaint label,
 * reasons it must include, sentiment label, words it must skip with why),
 * with the shipped lexicons and cues and the brand rules and operator cues
 * of tests/data/analyzer/rules-complaint; and the errors of the cue
 * language from cues_errors.tsv (a file's text, the message it must give);
 * the shortcut the tokenizer takes to a token's cue words; and the quick
 * rejections before a cue's full match and a word beginnings' walk.
 * Run from the repository root. */
#include <unistd.h>
#include "analyzer/analyzer_internal.h"
#include "tests/analyzer/analyzer_fixture.h"

/* Is every comma-separated name of want in the array of strings have? */
static int has_all(const char *want, const json_t *have, char *missing, size_t n)
{
    if (strcmp(want, "-") == 0)
        return 1;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", want);
    for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        int found = 0;
        size_t i;
        json_t *v;
        json_array_foreach(have, i, v)
            found |= json_is_string(v) && strcmp(json_string_value(v), w) == 0;
        if (!found) {
            snprintf(missing, n, "%s", w);
            return 0;
        }
    }
    return 1;
}

static int complaint_case(const struct tsv_row *r, void *a)
{
    struct item it;
    item_init(&it);
    it.text = r->f[0];
    json_t *ex = NULL;
    assert_int_equal(analyzer_explain(a, &it, &ex), CTX_OK);
    const json_t *tags = json_object_get(ex, "tags");
    const json_t *c = json_object_get(tags, "complaint");
    int label = json_is_true(json_object_get(c, "label"));
    const char *sent =
        json_string_value(json_object_get(json_object_get(tags, "sentiment"), "label"));
    /* the skipped words as "word=as" */
    json_t *skipped = json_array();
    size_t k;
    json_t *v;
    json_array_foreach(json_object_get(json_object_get(ex, "sentiment"), "skipped"), k, v) {
        char w[512];
        snprintf(w, sizeof w, "%s=%s", json_string_value(json_object_get(v, "word")),
                 json_string_value(json_object_get(v, "as")));
        json_array_append_new(skipped, json_string(w));
    }
    char missing[512] = "";
    const char *why = NULL;
    if (label != (strcmp(r->f[1], "true") == 0))
        why = "complaint label";
    else if (!has_all(r->f[2], json_object_get(c, "reasons"), missing, sizeof missing))
        why = "reason";
    else if (strcmp(r->f[3], "*") != 0 && strcmp(r->f[3], sent) != 0)
        why = "sentiment label";
    else if (!has_all(r->f[4], skipped, missing, sizeof missing))
        why = "skipped word";
    if (why) {
        char *tj = json_dumps(tags, JSON_COMPACT), *sj = json_dumps(skipped, JSON_COMPACT);
        print_error("complaint.tsv:%d: \"%s\": wrong %s %s: tags %s skipped %s\n", r->line,
                    r->f[0], why, missing, tj, sj);
        free(tj);
        free(sj);
    }
    json_decref(skipped);
    json_decref(ex);
    return why != NULL;
}

static void test_cases(void **state)
{
    assert_int_equal(tsv_cases("complaint.tsv", 5, 30, complaint_case, *state), 0);
}

/* The one cue file of a folder: each case is written to it and checked. */
struct cue_file {
    char dir[32], path[64];
};

/* A new folder in /tmp for one cue file, x.cues (not yet written). */
static void cue_file_make(struct cue_file *cf)
{
    snprintf(cf->dir, sizeof cf->dir, "/tmp/ctx-cues-XXXXXX");
    assert_non_null(mkdtemp(cf->dir));
    snprintf(cf->path, sizeof cf->path, "%s/x.cues", cf->dir);
}

static void cue_file_remove(const struct cue_file *cf)
{
    unlink(cf->path);
    rmdir(cf->dir);
}

static int cue_error_case(const struct tsv_row *r, void *ud)
{
    const struct cue_file *cf = ud;
    FILE *f = fopen(cf->path, "wb");
    assert_non_null(f);
    fwrite(r->f[0], 1, r->len[0], f);
    fclose(f);
    char err[512] = "";
    ctx_err rc = analyzer_rules_check(cf->dir, err, sizeof err);
    if (rc != CTX_OK && strstr(err, r->f[1]))
        return 0;
    print_error("cues_errors.tsv:%d: want \"%s\", got %d \"%s\"\n", r->line, r->f[1], rc, err);
    return 1;
}

/* A cue file with an error is refused by analyzer_rules_check() (and so by
 * `ctxctl rules check`, ctxd's start and its reloads) with file:line:col. */
static void test_errors(void **state)
{
    (void)state;
    struct cue_file cf;
    cue_file_make(&cf);
    int failed = tsv_cases("cues_errors.tsv", 2, 8, cue_error_case, &cf);
    cue_file_remove(&cf);
    assert_int_equal(failed, 0);
}

/* The cue words' trie has room for 2^21 - 1 nodes: words enough to need
 * more are refused where the first that does not fit is written. */
static void test_too_many_letters(void **state)
{
    (void)state;
    struct cue_file cf;
    cue_file_make(&cf);
    FILE *f = fopen(cf.path, "wb");
    assert_non_null(f);
    /* 9,000 words of 250 letters, the same but for their first three: each
     * takes 247 nodes of its own, 2.2 million in all */
    fprintf(f, "complaint big\n");
    for (unsigned w = 0; w < 9000; w++)
        fprintf(f, "%s%c%c%c%.247s", w % 64 ? "|" : w ? "\ncue " : "cue ", 'a' + w % 26,
                'a' + w / 26 % 26, 'a' + w / 676 % 26,
                "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
                "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
                "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
                "zzzzzzz");
    fputc('\n', f);
    fclose(f);
    char err[512] = "";
    ctx_err rc = analyzer_rules_check(cf.dir, err, sizeof err);
    cue_file_remove(&cf);
    assert_int_equal(rc, CTX_EPARSE);
    assert_true(strncmp(err, cf.path, strlen(cf.path)) == 0);
    assert_non_null(strstr(err, ": too many letters in the cue words (over 2097151 trie nodes)"));
}

/* What analyzer_cues_word() says of w, and what the tokenizer takes for it:
 * the table entry's (a key, cue words precomputed from it), else word
 * beginnings only (analyzer_cues_prefixes). */
static int same_cue_words(const struct analyzer_lexicon *lx, const struct analyzer_cues *c,
                          const char *w, size_t n)
{
    uint16_t a[TOK_CUE_IDS], b[TOK_CUE_IDS];
    uint8_t num = 0;
    unsigned na = analyzer_cues_word(c, w, n, a, &num);
    const struct lex_table *t = analyzer_lex_is_ru(w) ? &lx->ru : &lx->words;
    if (n > t->maxlen || analyzer_lex_find(t, w, n))
        return 1;       /* looked up whole, or too long to be looked up */
    unsigned nb = analyzer_cues_prefixes(c, w, n, b);
    if (na != nb || num || memcmp(a, b, na * sizeof *a) != 0) {
        print_error("\"%.*s\": %u cue words (num %d), %u beginnings\n", (int)n, w, na, num, nb);
        return 0;
    }
    return 1;
}

static int add_word(void *lx, const char *w, size_t n)
{
    return analyzer_lex_add_cue_word(lx, w, n);
}

/* A token that is no key of the lexicon's tables can only be word
 * beginnings of the cues once their whole words are keys: checked on every
 * word of the shipped cues, cut short and lengthened. */
static void test_cue_word_shortcut(void **state)
{
    (void)state;
    char err[512];
    struct analyzer_lexicon *lx = analyzer_lexicon_load(LEXICONS, err, sizeof err);
    struct analyzer_cues *c;
    const char *dirs[] = {LEXICONS, DATA "/rules-complaint", NULL};
    assert_non_null(lx);
    assert_int_equal(analyzer_cues_load(dirs, &c, err, sizeof err), CTX_OK);
    assert_int_equal(analyzer_cues_each_word(c, add_word, lx), 0);
    /* the entries moved: the lexicon's pointers to them followed */
    assert_true(lx->w[LW_BUT] >= lx->words.v && lx->w[LW_BUT] < lx->words.v + lx->words.n);
    assert_true(lx->w[LW_BUT]->len == 3 && memcmp(lx->w[LW_BUT]->key, "but", 3) == 0);
    assert_true(lx->special[0].w[0] >= lx->words.v &&
                lx->special[0].w[0] < lx->words.v + lx->words.n);
    FILE *f = fopen(LEXICONS "/complaints.cues", "rb");
    assert_non_null(f);
    char line[1024];
    static const char *const ends[] = {"", "s", "ed", "ing", "x", "а", "ение", "ой"};
    size_t words = 0, failed = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (*p == ' ')
            p++;
        if (strncmp(p, "cue ", 4) != 0)
            continue;
        for (char *save = NULL, *w = strtok_r(p + 4, " ()|?*\n", &save); w;
             w = strtok_r(NULL, " ()|?*\n", &save)) {
            size_t n = strlen(w);
            char buf[300];
            for (size_t cut = 0; cut < n && cut < 4; cut++)
                for (size_t e = 0; e < CTX_ARRAY_LEN(ends); e++) {
                    int k = snprintf(buf, sizeof buf, "%.*s%s", (int)(n - cut), w, ends[e]);
                    words++;
                    failed += !same_cue_words(lx, c, buf, (size_t)k);
                }
        }
    }
    fclose(f);
    assert_true(words > 1000);
    assert_int_equal(failed, 0);
    analyzer_cues_free(c);
    analyzer_lexicon_free(lx);
}

/* Tokens of text for analyzer_cues_match(): each word's cue words, digits
 * as numbers, "not" as a negation; "|" ends a sentence. */
static size_t cue_tokens(const struct analyzer_cues *c, const char *text,
                         struct analyzer_tok *t, size_t max)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    size_t n = 0;
    uint32_t sent = 0;
    for (char *save = NULL, *w = strtok_r(buf, " ", &save); w && n < max;
         w = strtok_r(NULL, " ", &save)) {
        if (strcmp(w, "|") == 0) {
            sent++;
            continue;
        }
        memset(&t[n], 0, sizeof t[n]);
        t[n].sent = sent;
        t[n].ncue = (uint8_t)analyzer_cues_word(c, w, strlen(w), t[n].cue, &t[n].num);
        t[n].num |= w[0] >= '0' && w[0] <= '9';
        t[n].neg = strcmp(w, "not") == 0;
        n++;
    }
    return n;
}

/* The cue that matches text (NULL: none) and its tokens. */
static void one_match(const struct analyzer_cues *c, const char *text, const char *cue,
                      uint32_t first, uint32_t last)
{
    struct analyzer_tok t[32];
    struct cue_hit h[8];
    size_t n = cue_tokens(c, text, t, 32), nh = analyzer_cues_match(c, t, n, NULL, h, 8);
    if (!cue) {
        if (nh)
            print_error("\"%s\": %zu hits, none expected\n", text, nh);
        assert_int_equal(nh, 0);
        return;
    }
    const char *file, *src;
    int line;
    assert_int_equal(nh, 1);
    analyzer_cues_where(c, h[0].cue, &file, &line, &src);
    if (strcmp(src, cue) != 0 || h[0].first != first || h[0].last != last)
        print_error("\"%s\": \"%s\" at %u..%u\n", text, src, h[0].first, h[0].last);
    assert_string_equal(src, cue);
    assert_int_equal(h[0].first, first);
    assert_int_equal(h[0].last, last);
}

/* A try first looks for the cue's plain words where a match would put
 * them (past gaps and optional elements), and a token that is no whole cue
 * word is first asked whether its first bytes begin a word beginning: with
 * a word beginning of one letter, past gaps and sentence ends. */
static void test_quick_rejects(void **state)
{
    (void)state;
    struct cue_file cf;
    cue_file_make(&cf);
    FILE *f = fopen(cf.path, "wb");
    assert_non_null(f);
    fputs("complaint short\n"
          "  cue ab* .. zz\n"
          "  cue q* yy? (xx|ww)\n"
          "  cue wait* .. (for|over) #n (hours|days)\n", f);
    fclose(f);
    const char *dirs[] = {cf.dir, NULL};
    struct analyzer_cues *c;
    char err[512];
    assert_int_equal(analyzer_cues_load(dirs, &c, err, sizeof err), CTX_OK);
    cue_file_remove(&cf);
    static const char *const words[] = {"a", "ab", "abc", "abcd", "abcde", "b", "q", "qa",
                                        "qabcd", "wai", "wait", "waits", "waitress", "x",
                                        "zzz", "fo", "forr", "ho"};
    for (size_t i = 0; i < CTX_ARRAY_LEN(words); i++) {
        uint16_t a[TOK_CUE_IDS], b[TOK_CUE_IDS];
        uint8_t num = 0;
        size_t n = strlen(words[i]);
        unsigned na = analyzer_cues_word(c, words[i], n, a, &num);
        unsigned nb = analyzer_cues_prefixes(c, words[i], n, b);
        assert_false(analyzer_cues_is_word(c, words[i], n));
        if (na != nb || memcmp(a, b, na * sizeof *a) != 0)
            print_error("\"%s\": %u cue words, %u beginnings\n", words[i], na, nb);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na * sizeof *a);
    }
    one_match(c, "abc 1 2 3 zz", "ab* .. zz", 0, 4);
    one_match(c, "x abc zz", "ab* .. zz", 1, 2);
    one_match(c, "abc 1 2 3 4 zz", NULL, 0, 0);
    one_match(c, "abc 1 | zz", NULL, 0, 0);
    one_match(c, "not abc zz", NULL, 0, 0);
    one_match(c, "q xx", "q* yy? (xx|ww)", 0, 1);
    one_match(c, "qu yy ww", "q* yy? (xx|ww)", 0, 2);
    one_match(c, "qu zz ww", NULL, 0, 0);
    one_match(c, "qu yy | ww", NULL, 0, 0);
    one_match(c, "waiting 1 2 for 3 hours", "wait* .. (for|over) #n (hours|days)", 0, 5);
    one_match(c, "waits over 2 days", "wait* .. (for|over) #n (hours|days)", 0, 3);
    one_match(c, "waiting for hours", NULL, 0, 0);
    one_match(c, "waiting 1 2 3 4 for 3 hours", NULL, 0, 0);
    analyzer_cues_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_too_many_letters),
        cmocka_unit_test(test_cue_word_shortcut),
        cmocka_unit_test(test_quick_rejects),
    };
    return run_with_analyzer(tests, LEXICONS, DATA "/rules-complaint");
}
