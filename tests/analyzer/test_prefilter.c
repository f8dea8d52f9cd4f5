/* test_prefilter.c -- the rules prefilter never changes what rules find.
 *
 * prefilter.tsv: patterns and the literals the prefilter requires of them.
 * Then the property: for texts of the corpora (VADER's snippets and the
 * Russian sentences, every 16th, and the same in upper case) and for texts
 * made to trip case folding and word starts, analyzer_tag() with the
 * prefilter gives exactly the tags of analyzer_tag_unfiltered(), which runs
 * every rule, with bench/data/rules-1000 (the benchmark's 1,000 rules),
 * tests/data/analyzer/rules/prefilter (odd patterns), and random patterns
 * built from pieces that stress the pattern reader (groups, lookaheads,
 * quantifiers, anchors, classes, case folds) on random texts of the same
 * pieces. bench/bench_analyzer --verify checks every corpus text. Run from
 * the repository root. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <ctype.h>
#include <unistd.h>
#include "analyzer/analyzer_internal.h"
#include "tests/analyzer/analyzer_fixture.h"

#define CORPORA  "../shared/corpora"

/* a pattern, and its required literals ("^" before those that start a
 * word; "-": none) */
static int required_case(const struct tsv_row *r, void *ud)
{
    (void)ud;
    char lits[16][MAX_PF_LIT + 1], got[1024];
    int anch[16];
    int n = analyzer_prefilter_required(r->f[0], strlen(r->f[0]), lits, anch, 16);
    size_t o = 0;
    got[0] = '\0';
    if (n < 0)
        snprintf(got, sizeof got, "-");
    for (int k = 0; k < n && o < sizeof got; k++)
        o += (size_t)snprintf(got + o, sizeof got - o, "%s%s%s", k ? " " : "",
                              anch[k] ? "^" : "", lits[k]);
    if (strcmp(got, r->f[1]) == 0)
        return 0;
    print_error("prefilter.tsv:%d: %s: want \"%s\", got \"%s\"\n", r->line, r->f[0], r->f[1],
                got);
    return 1;
}

static void test_required_table(void **state)
{
    (void)state;
    assert_int_equal(tsv_cases("prefilter.tsv", 2, 11, required_case, NULL), 0);
}

static void joined(const struct tags *t, char *out, size_t n)
{
    size_t o = (size_t)snprintf(out, n, "%s|", t->urgent ? "U" : "-");
    for (size_t i = 0; i < t->brands.n && o < n; i++)
        o += (size_t)snprintf(out + o, n - o, "%s,", t->brands.v[i]);
    if (o < n)
        o += (size_t)snprintf(out + o, n - o, "|");
    for (size_t i = 0; i < t->topics.n && o < n; i++)
        o += (size_t)snprintf(out + o, n - o, "%s,", t->topics.v[i]);
}

/* 1 when both ways agree on text. */
static int agree(const analyzer *a, const char *text, size_t *tags)
{
    struct item it;
    item_init(&it);
    it.text = (char *)text;
    struct tags x = {0}, y = {0};
    assert_int_equal(analyzer_tag(a, &it, &x), CTX_OK);
    assert_int_equal(analyzer_tag_unfiltered(a, &it, &y), CTX_OK);
    static char bx[65536], by[65536];
    joined(&x, bx, sizeof bx);
    joined(&y, by, sizeof by);
    *tags += x.topics.n + x.brands.n;
    int ok = strcmp(bx, by) == 0;
    if (!ok)
        print_error("prefilter disagrees on \"%s\":\n  prefiltered %s\n  every rule  %s\n", text,
                    bx, by);
    tags_clear(&x);
    tags_clear(&y);
    return ok;
}

static int each_text(const analyzer *a, const char *path, int column, size_t every, size_t *n,
                     size_t *tags)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s: cannot open (the corpora live in ../shared/corpora)", path);
    char *line = NULL;
    size_t cap = 0, k = 0;
    ssize_t len;
    int bad = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        if (k++ % every)
            continue;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        char *text = line;
        for (int c = 0; c < column && text; c++) {
            text = strchr(text, c == 0 && column == 9 ? ',' : '\t');
            text = text ? text + 1 : NULL;
        }
        if (!text)
            continue;
        bad += !agree(a, text, tags);
        for (char *p = text; *p; p++)   /* and shouted */
            *p = (char)toupper((unsigned char)*p);
        bad += !agree(a, text, tags);
        (*n) += 2;
    }
    free(line);
    fclose(f);
    return bad;
}

static void test_corpus_1000(void **state)
{
    (void)state;
    analyzer *a = fixture_analyzer(LEXICONS, "bench/data/rules-1000");
    size_t n = 0, tags = 0;
    int bad = 0;
    bad += each_text(a, CORPORA "/vader/movieReviewSnippets_GroundTruth.txt", 2, 16, &n, &tags);
    bad += each_text(a, CORPORA "/vader/amazonReviewSnippets_GroundTruth.txt", 2, 16, &n, &tags);
    bad += each_text(a, CORPORA "/ru/opensentimentcorpus-dev.csv", 0, 16, &n, &tags);
    print_message("%zu texts, %zu tags, %d disagreements\n", n, tags, bad);
    assert_true(n > 1500);
    assert_true(tags > n / 2);       /* the rules do fire */
    assert_int_equal(bad, 0);
    analyzer_free(a);
}

/* Long texts (corpus lines joined, 1 to 300 of them): with 1,000 rules
 * they have more hits than rules.c looks through in text order (64, then
 * sorted) and than it keeps on the stack (256, then scanned again). */
static void test_long_texts_1000(void **state)
{
    (void)state;
    analyzer *a = fixture_analyzer(LEXICONS, "bench/data/rules-1000");
    FILE *f = fopen(CORPORA "/vader/movieReviewSnippets_GroundTruth.txt", "rb");
    if (!f)
        fail_msg("cannot open the movie snippets (the corpora live in ../shared/corpora)");
    static const unsigned sizes[] = {1, 10, 30, 60, 100, 200, 300};
    size_t cap = 1 << 20, tags = 0;
    char *text = malloc(cap), *line = NULL;
    size_t lcap = 0;
    int bad = 0;
    assert_non_null(text);
    for (size_t k = 0; k < CTX_ARRAY_LEN(sizes); k++) {
        for (int round = 0; round < 3; round++) {
            size_t o = 0;
            for (unsigned j = 0; j < sizes[k]; j++) {
                ssize_t len = getline(&line, &lcap, f);
                if (len < 0) {
                    rewind(f);
                    len = getline(&line, &lcap, f);
                }
                char *t = strrchr(line, '\t');
                t = t ? t + 1 : line;
                size_t n = strcspn(t, "\r\n");
                assert_true(o + n + 2 < cap);
                memcpy(text + o, t, n);
                o += n;
                text[o++] = ' ';
            }
            text[o] = '\0';
            bad += !agree(a, text, &tags);
        }
    }
    print_message("21 long texts, %zu tags\n", tags);
    assert_int_equal(bad, 0);
    assert_true(tags > 100);
    free(line);
    free(text);
    fclose(f);
    analyzer_free(a);
}

static void test_odd_patterns(void **state)
{
    (void)state;
    analyzer *a = fixture_analyzer(LEXICONS, DATA "/rules/prefilter");
    struct tsv t = tsv_read(DATA "/prefilter_texts.tsv");
    size_t tags = 0;
    int bad = 0;
    for (size_t i = 0; i < t.n; i++)
        bad += !agree(a, t.rows[i].f[0], &tags);
    print_message("%zu texts, %zu tags\n", t.n, tags);
    assert_true(tags > t.n / 2);
    tsv_free(&t);
    assert_int_equal(bad, 0);
    analyzer_free(a);
}

/* ---- random patterns ---------------------------------------------------- */

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

static const char *const atoms[] = {
    "acme", "cloud", "down", "поддержк", "Акме", "ок", "ß", "é", "s", "k", "x", "\\s", "\\s+",
    "\\s*", "\\w", "\\w*", "\\w+", "\\b", "\\B", ".", "[@#]", "[ck]", "[a-z]", "[^a]",
    "\\.", "-", "'", "\\x{41}", "(?-i)", "(?i)", "^", "$", "\\d", "\xe2\x84\xaa",
};
static const char *const quants[] = {"?", "*", "+", "{2}", "{1,3}", "{0,2}", "+?", "*+"};

static void gen(char *o, size_t cap, int depth)
{
    unsigned n = 1 + rnd(5);
    for (unsigned i = 0; i < n; i++) {
        size_t len = strlen(o);
        if (rnd(100) < 15 && depth < 3) {
            static const char *const open[] = {"(", "(?:", "(?=", "(?!"};
            snprintf(o + len, cap - len, "%s", open[rnd(4)]);
            unsigned alts = 1 + rnd(3);
            for (unsigned k = 0; k < alts; k++) {
                if (k)
                    strncat(o, "|", cap - strlen(o) - 1);
                gen(o, cap, depth + 1);
            }
            strncat(o, ")", cap - strlen(o) - 1);
        } else {
            strncat(o, atoms[rnd(sizeof atoms / sizeof *atoms)], cap - strlen(o) - 1);
        }
        if (rnd(100) < 30)
            strncat(o, quants[rnd(sizeof quants / sizeof *quants)], cap - strlen(o) - 1);
    }
}

static const char *const pieces[] = {
    "acme", "Acme", "ACME", "cloud", "acmecloud", "down", "Down", "поддержка", "АКМЕ", "акме",
    "k", "K", "\xe2\x84\xaa" "elvin", "s", "\xc5\xbf", "ß", "SS", "x", "xx", "@acme", "#cloud",
    "a.b", "é", "É", "A", "41", "-", "'", "ОК", "ок",
};

static void test_random_patterns(void **state)
{
    (void)state;
    char dir[] = "/tmp/ctx-prefilter-XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/random.rules", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    int kept = 0;
    for (int i = 0; i < 400; i++) {
        char pat[2048] = "";
        gen(pat, sizeof pat, 0);
        int ec;
        PCRE2_SIZE eo;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, strlen(pat),
                                       PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, &ec, &eo, NULL);
        if (!re)
            continue;               /* "\\b?" and the like */
        pcre2_code_free(re);
        fprintf(f, "topic r%d\n  match %s\n", kept++, pat);
    }
    fclose(f);
    assert_true(kept > 200);
    analyzer *a = fixture_analyzer(LEXICONS, dir);
    size_t tags = 0;
    int bad = 0;
    for (int i = 0; i < 300; i++) {
        char text[1024] = "";
        unsigned words = 1 + rnd(8);
        for (unsigned w = 0; w < words; w++) {
            if (w)
                strncat(text, rnd(4) ? " " : ", ", sizeof text - strlen(text) - 1);
            unsigned parts = 1 + rnd(2);
            for (unsigned k = 0; k < parts; k++)
                strncat(text, pieces[rnd(sizeof pieces / sizeof *pieces)],
                        sizeof text - strlen(text) - 1);
        }
        bad += !agree(a, text, &tags);
    }
    print_message("%d random patterns, 300 texts, %zu tags\n", kept, tags);
    assert_int_equal(bad, 0);
    analyzer_free(a);
    unlink(path);
    rmdir(dir);
}

/* ---- decisions without PCRE2 ---------------------------------------------- */

static const char *const seq_words[] = {
    "pops", "the", "a", "my", "so", "trilogy", "cat", "cats", "dog", "не", "работает", "s",
    "double", "charged", "sign", "in",
};
static const char *const seq_seps[] = {"\\s+", "\\s*", "\\s?", "\\s", "[\\s-]+", "[\\s-]*"};
static const char *const seq_text[] = {
    "pops", "POPS", "Pops", "the", "THE", "a", "my", "so", "trilogy", "trilogyx", "cat", "cats",
    "dog", "dogs", "не", "НЕ", "работает", "работаетx", "\xc5\xbfo", "s", "double", "charged",
    "sign", "in", "signin", "é", "x", "_", "1",
};
static const char *const seq_gaps[] = {
    " ", "  ", "\t", "-", " - ", "\xc2\xa0", ",", ".", "\xe2\x80\xa6", "",
};

/* A word set: one word, or (a|b|...) with perhaps "?", or a word and (s)?;
 * the words used go to used[] (for texts that can match). */
static void seq_set(char *o, size_t cap, int optional, const char **used, unsigned *nused)
{
    size_t n = strlen(o);
    unsigned k = rnd(3);
    const char *w = seq_words[rnd(CTX_ARRAY_LEN(seq_words))];
    if (k == 0 && !optional) {
        snprintf(o + n, cap - n, "%s", w);
        used[(*nused)++] = w;
    } else if (k == 1 || optional) {
        snprintf(o + n, cap - n, "(");
        unsigned alts = 1 + rnd(4);
        for (unsigned i = 0; i < alts; i++) {
            if (i)
                strncat(o, "|", cap - strlen(o) - 1);
            w = seq_words[rnd(CTX_ARRAY_LEN(seq_words))];
            strncat(o, w, cap - strlen(o) - 1);
            used[(*nused)++] = w;
        }
        strncat(o, optional ? ")?" : ")", cap - strlen(o) - 1);
    } else {
        snprintf(o + n, cap - n, "%s(s)?", w);
        used[(*nused)++] = w;
    }
}

/* Whatever the prefilter decides without PCRE2 (a match and its end, or
 * none) is what PCRE2 finds anchored at the same start: random sequences of
 * words and white space (\b w (s w)* \b) on random texts of their words,
 * shouted or not, other words and gaps (white space inside and outside
 * ASCII, dashes, punctuation). */
static void test_decide_vs_pcre(void **state)
{
    (void)state;
    size_t decided = 0, matched = 0, asked = 0, bad = 0;
    pcre2_match_data *md = pcre2_match_data_create(16, NULL);
    for (int i = 0; i < 300; i++) {
        char pat[512] = "\\b";
        const char *used[32];
        unsigned nused = 0, words = 2 + rnd(3);
        seq_set(pat, sizeof pat, 0, used, &nused);
        for (unsigned w = 1; w < words; w++) {
            strncat(pat, seq_seps[rnd(CTX_ARRAY_LEN(seq_seps))], sizeof pat - strlen(pat) - 1);
            seq_set(pat, sizeof pat, w + 1 < words && rnd(3) == 0, used, &nused);
            if (w + 1 < words && rnd(4) == 0)
                strncat(pat, "\\s*", sizeof pat - strlen(pat) - 1);
        }
        strncat(pat, "\\b", sizeof pat - strlen(pat) - 1);
        int ec;
        PCRE2_SIZE eo;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, strlen(pat),
                                       PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, &ec, &eo, NULL);
        assert_non_null(re);
        struct analyzer_prefilter *pf = analyzer_prefilter_new();
        assert_int_equal(analyzer_prefilter_add(pf, 0, pat, strlen(pat)), 0);
        for (int t = 0; t < 40; t++) {
            char text[1024] = "";
            unsigned parts = 2 + rnd(10);
            for (unsigned k = 0; k < parts; k++) {
                /* the pattern's own words (half of them shouted) or any piece */
                char up[64];
                const char *piece = seq_text[rnd(CTX_ARRAY_LEN(seq_text))];
                if (rnd(2)) {
                    piece = used[rnd(nused)];
                    if (rnd(2) && piece[0] >= 'a' && piece[0] <= 'z') {
                        snprintf(up, sizeof up, "%s", piece);
                        for (char *c = up; *c; c++)
                            *c = (char)toupper((unsigned char)*c);
                        piece = up;
                    }
                }
                strncat(text, piece, sizeof text - strlen(text) - 1);
                strncat(text, rnd(2) ? " " : seq_gaps[rnd(CTX_ARRAY_LEN(seq_gaps))],
                        sizeof text - strlen(text) - 1);
            }
            size_t len = strlen(text);
            uint64_t bits = 0, hits[64];
            size_t nh = analyzer_prefilter_scan_hits(pf, text, len, &bits, hits, 64);
            for (size_t h = 0; h < nh && h < 64; h++) {
                size_t at = (uint32_t)hits[h], end = 0;
                int r = analyzer_prefilter_decide(pf, 0, text, len, at, &end);
                if (r < 0) {
                    asked++;
                    continue;
                }
                decided++;
                matched += r == 1;
                int rc = pcre2_match(re, (PCRE2_SPTR)text, len, at, PCRE2_ANCHORED, md, NULL);
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
                if ((rc > 0) != (r == 1) || (r == 1 && ov[1] != end)) {
                    print_error("decided %d (end %zu), PCRE2 %d (end %zu): %s on \"%s\" at %zu\n",
                                r, end, rc, rc > 0 ? (size_t)ov[1] : 0, pat, text, at);
                    bad++;
                }
            }
        }
        analyzer_prefilter_free(pf);
        pcre2_code_free(re);
    }
    pcre2_match_data_free(md);
    print_message("%zu decided (%zu matches), %zu left to PCRE2\n", decided, matched, asked);
    assert_true(decided > 1000 && matched > 100);
    assert_int_equal(bad, 0);
}


/* analyzer_prefilter_scan_known() against analyzer_prefilter_scan_hits():
 * the words handed over as known (as the tokenizer would: a piece of the
 * text, lower-cased, ё looked up as е, whether or not it is a whole word
 * there) change nothing but the hits of patterns that cannot match at a
 * known word (left out) and those that surely do (sure[], as decide()). */
static const char *const known_pats[] = {
    "\\b(refund|refunds)\\b", "\\bдоставк\\w*", "\\b(член|друз)\\w{0,3}\\b",
    "\\bbattery\\s+life\\b", "\\bsubpl\\w*", "\\bнет\\b", "\\bеда\\b", "\\bёлк\\w*",
    "\\bnot\\s+(the|a)?\\s*working\\b", "\\bcat\\b", "cat", "\\b(a|an)\\b", "\\bли\\w{0,2}\\b",
    "\\bел\\w*", "\\bworking\\b", "\\brefund\\w{0,2}\\b",
};
static const char *const known_pieces[] = {
    "refund", "Refunds", "REFUND", "refunded", "доставка", "Доставку", "член", "членами",
    "друзья", "battery", "life", "subplot", "subpl", "нет", "Нет", "еда", "ёлка", "елка",
    "Еда", "ЁЛКА", "not", "the", "working", "cat", "cats", "a", "An", "_cat", "it's",
    "#nothappy", "\xc3\xa9", "na\xc3\xafve", "x", "лиса", "ли", "Working",
};
static const char *const known_seps[] = {
    " ", ", ", "-", "'", "_", "\xe2\x80\x94", "\xc2\xab", "\xcc\x81", "", "\n", ".",
};

/* The tokenizer's lower case of p[0..n): ASCII and Cyrillic, ё as е. */
static size_t known_key(const unsigned char *p, size_t n, char *o)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = p[i];
        if (c - 'A' < 26u) {
            o[k++] = (char)(c + 32);
        } else if ((c == 0xD0 || c == 0xD1) && i + 1 < n) {
            uint32_t cp = (c & 0x1Fu) << 6 | (p[i + 1] & 0x3Fu);
            if (cp >= 0x410 && cp < 0x430)
                cp += 32;
            if (cp == 0x401 || cp == 0x451)
                cp = 0x435;
            o[k++] = (char)(0xC0 | cp >> 6);
            o[k++] = (char)(0x80 | (cp & 0x3F));
            i++;
        } else {
            o[k++] = (char)c;
        }
    }
    return k;
}

static void test_known_words(void **state)
{
    (void)state;
    struct analyzer_prefilter *pf = analyzer_prefilter_new();
    pcre2_code *re[CTX_ARRAY_LEN(known_pats)];
    pcre2_match_data *md = pcre2_match_data_create(16, NULL);
    for (uint32_t p = 0; p < CTX_ARRAY_LEN(known_pats); p++) {
        int ec;
        PCRE2_SIZE eo;
        re[p] = pcre2_compile((PCRE2_SPTR)known_pats[p], strlen(known_pats[p]),
                              PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, &ec, &eo, NULL);
        assert_non_null(re[p]);
        assert_int_equal(analyzer_prefilter_add(pf, p, known_pats[p], strlen(known_pats[p])), 0);
    }
    /* each piece's token.pf, as analyzer_new() and the tokenizer make it:
     * a key with е flagged (the token may have had ё), one with е and ASCII
     * none */
    unsigned tpfs[CTX_ARRAY_LEN(known_pieces)];
    for (size_t i = 0; i < CTX_ARRAY_LEN(known_pieces); i++) {
        char key[64];
        size_t kn = known_key((const unsigned char *)known_pieces[i], strlen(known_pieces[i]),
                              key);
        uint32_t list = analyzer_prefilter_word(pf, key, kn);
        tpfs[i] = list < LEX_PF_LIST ? list + 1 : 0;
        key[kn] = '\0';
        if (tpfs[i] && strstr(key, "\xd0\xb5")) {
            tpfs[i] |= LEX_PF_YO;
            for (size_t c = 0; c < kn; c++)
                if ((unsigned char)key[c] < 0x80)
                    tpfs[i] = 0;
        }
    }
    size_t known = 0, dropped = 0, sure = 0;
    for (int t = 0; t < 20000; t++) {
        char text[1024] = "";
        struct analyzer_tok kw[64];
        size_t nkw = 0, len = 0;
        unsigned parts = 1 + rnd(12);
        for (unsigned k = 0; k < parts; k++) {
            unsigned pi = rnd(CTX_ARRAY_LEN(known_pieces));
            const char *piece = known_pieces[pi];
            size_t n = strlen(piece);
            unsigned tpf = tpfs[pi];
            known += tpf != 0;
            if (rnd(4)) {
                memset(&kw[nkw], 0, sizeof kw[nkw]);
                kw[nkw].off = (uint32_t)len;
                kw[nkw].len = (uint32_t)n;
                kw[nkw++].pf = rnd(8) ? (uint16_t)tpf : 0;
            }
            memcpy(text + len, piece, n);
            len += n;
            const char *sep = k + 1 < parts || rnd(2) ? known_seps[rnd(CTX_ARRAY_LEN(known_seps))] : "";
            memcpy(text + len, sep, strlen(sep));
            len += strlen(sep);
        }
        text[len] = '\0';
        uint64_t bits = 0, kbits = 0, kwords = 0, hits[256], khits[256], kept[256];
        size_t kends[256];
        size_t nh = analyzer_prefilter_scan_hits(pf, text, len, &bits, hits, 256);
        size_t nk = analyzer_prefilter_scan_known(pf, text, len, kw, nkw, &kbits, &kwords, khits,
                                                  kends, 256);
        assert_true(nh <= 256 && nk <= nh);
        assert_int_equal(bits, kbits);
        assert_true(!kbits || (kwords & 1));     /* the one word of bits is listed */
        /* each hit left out cannot match; each kept is one of scan_hits()' */
        memcpy(kept, khits, nk * sizeof *kept);
        for (size_t h = 0; h < nh; h++) {
            size_t k = 0;
            while (k < nk && khits[k] != hits[h])
                k++;
            if (k < nk) {
                khits[k] = UINT64_MAX;       /* counted once */
                continue;
            }
            /* decide() asks PCRE2 after a character outside ASCII: so
             * does this test */
            size_t end;
            uint32_t p = (uint32_t)(hits[h] >> 32);
            int r = analyzer_prefilter_decide(pf, p, text, len, (uint32_t)hits[h], &end);
            if (r < 0)
                r = pcre2_match(re[p], (PCRE2_SPTR)text, len, (uint32_t)hits[h],
                                PCRE2_ANCHORED, md, NULL) > 0;
            if (r != 0)
                print_error("hit %u at %u left out, matches: \"%s\"\n", p,
                            (unsigned)hits[h], text);
            assert_int_equal(r, 0);
            dropped++;
        }
        for (size_t k = 0; k < nk; k++)
            assert_true(khits[k] == UINT64_MAX);
        /* each sure hit matches, to its end */
        for (size_t k = 0; k < nk; k++) {
            if (kends[k] == PF_NOT_SURE)
                continue;
            size_t end = 0;
            int r = analyzer_prefilter_decide(pf, (uint32_t)(kept[k] >> 32), text, len,
                                              (uint32_t)kept[k], &end);
            assert_int_equal(r, 1);
            assert_int_equal(end, kends[k]);
            sure++;
        }
    }
    print_message("%zu words with lists, %zu hits left out, %zu decided\n", known, dropped, sure);
    assert_true(known > 10000 && dropped > 100 && sure > 1000);
    for (size_t p = 0; p < CTX_ARRAY_LEN(known_pats); p++)
        pcre2_code_free(re[p]);
    pcre2_match_data_free(md);
    analyzer_prefilter_free(pf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_required_table),
        cmocka_unit_test(test_odd_patterns),
        cmocka_unit_test(test_random_patterns),
        cmocka_unit_test(test_decide_vs_pcre),
        cmocka_unit_test(test_known_words),
        cmocka_unit_test(test_corpus_1000),
        cmocka_unit_test(test_long_texts_1000),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
