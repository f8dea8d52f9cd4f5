/* test_prefilter_where.c -- where the prefilter says patterns match.
 *
 * Two claims of prefilter.c that rules.c relies on, checked against PCRE2
 * itself at every character position of every text:
 *
 *   - leads: a pattern with leads matches (anchored) only at offsets that
 *     analyzer_prefilter_scan_hits() reports for it;
 *   - decisions: where analyzer_prefilter_decide() answers, PCRE2 anchored
 *     there gives the same answer and the same end.
 *
 * The patterns are the rules of tests/data/analyzer/rules/prefilter and
 * random ones (word sets with groups, "?" and the suffixes the decider
 * knows, and the odd atoms of test_prefilter.c); the texts are random words
 * with the characters folding gets wrong most easily (Kelvin sign, long s,
 * sharp s, dotted I, combining marks, other scripts). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "analyzer/analyzer_internal.h"

#define MAX_PATS 1200

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

static void cat(char *o, size_t cap, const char *s)
{
    strncat(o, s, cap - strlen(o) - 1);
}

/* A word set: letters, groups, "|" in groups, "?". */
static const char *const letters[] = {"a", "b", "k", "s", "x", "é", "ß", "и", "й", "ё", "е",
                                      "_", "1", "ÿ", "ĸ", "ae", "ss", "ки", "st", "K", "É", "Ж"};

static void gen_words(char *o, size_t cap, int depth)
{
    unsigned n = 1 + rnd(3);
    for (unsigned i = 0; i < n; i++) {
        if (rnd(100) < 25 && depth < 2) {
            cat(o, cap, rnd(2) ? "(" : "(?:");
            unsigned alts = 1 + rnd(3);
            for (unsigned k = 0; k < alts; k++) {
                if (k)
                    cat(o, cap, "|");
                gen_words(o, cap, depth + 1);
            }
            cat(o, cap, ")");
        } else {
            cat(o, cap, letters[rnd(sizeof letters / sizeof *letters)]);
        }
        if (rnd(100) < 20)
            cat(o, cap, "?");
    }
}

/* Anything: the atoms of test_prefilter.c and a few more. */
static const char *const atoms[] = {
    "acme", "down", "поддержк", "ок", "ß", "é", "s", "k", "\\s", "\\s+", "\\s*", "\\w", "\\w*",
    "\\w+", "\\b", "\\B", ".", "[@#]", "[ck]", "[^a]", "-", "(?-i)", "(?i)", "^", "$", "\\d",
    "\xe2\x84\xaa", "(?=a)", "(?<=b)", "(?!x)", "\\G", "a|", "\\bab",
};
static const char *const quants[] = {"?", "*", "+", "{2}", "{1,3}", "{0,2}", "+?", "{2,}"};

static void gen_any(char *o, size_t cap, int depth)
{
    unsigned n = 1 + rnd(4);
    for (unsigned i = 0; i < n; i++) {
        if (rnd(100) < 20 && depth < 3) {
            static const char *const open[] = {"(", "(?:", "(?=", "(?!", "(?>"};
            cat(o, cap, open[rnd(5)]);
            unsigned alts = 1 + rnd(3);
            for (unsigned k = 0; k < alts; k++) {
                if (k)
                    cat(o, cap, "|");
                gen_any(o, cap, depth + 1);
            }
            cat(o, cap, ")");
        } else {
            cat(o, cap, atoms[rnd(sizeof atoms / sizeof *atoms)]);
        }
        if (rnd(100) < 30)
            cat(o, cap, quants[rnd(sizeof quants / sizeof *quants)]);
    }
}

static const char *const pieces[] = {
    "a", "b", "k", "K", "s", "x", "é", "É", "ß", "ẞ", "SS", "и", "И", "й", "ё", "Ё", "е", "_",
    "1", "ÿ", "Ÿ", "ĸ", "ae", "ss", "ки", "КИ", "st", "\xe2\x84\xaa", "\xc5\xbf", "Ж", "acme",
    "ACME", "down", "поддержка", " ", ", ", "-", "\n", "'", "中", "\xcc\x81", "İ", "ı",
    "\xe1\xb2\x80", "\xef\xbf\xbd", "١", "ǅ", "@", "#",
};

struct set {
    char *src[MAX_PATS];
    pcre2_code *re[MAX_PATS];
    unsigned n;
    struct analyzer_prefilter *pf;
};

static void add(struct set *s, const char *pat)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, strlen(pat),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS |
                                       PCRE2_NEVER_BACKSLASH_C,
                                   &ec, &eo, NULL);
    if (!re || s->n == MAX_PATS) {
        pcre2_code_free(re);
        return;
    }
    s->src[s->n] = strdup(pat);
    s->re[s->n] = re;
    assert_int_equal(analyzer_prefilter_add(s->pf, s->n, pat, strlen(pat)), 0);
    s->n++;
}

static void load_rules(struct set *s, const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, "match", 5) != 0 || (p[5] != ' ' && p[5] != '\t'))
            continue;
        for (p += 5; *p == ' ' || *p == '\t'; p++)
            ;
        add(s, p);
    }
    fclose(f);
}

static void test_where(void **state)
{
    (void)state;
    static struct set s;
    memset(&s, 0, sizeof s);
    assert_non_null(s.pf = analyzer_prefilter_new());
    load_rules(&s, "tests/data/analyzer/rules/prefilter/odd.rules");
    static const char *const suffix[] = {"\\b", "\\w*", "\\w{0,3}\\b", "\\w{0,0}\\b", "\\w+",
                                         "\\w*\\b", "\\b|x"};
    for (int i = 0; i < 500; i++) {
        char pat[512] = "\\b";
        gen_words(pat, sizeof pat, 0);
        cat(pat, sizeof pat, suffix[rnd(sizeof suffix / sizeof *suffix)]);
        add(&s, pat);
    }
    for (int i = 0; i < 400; i++) {
        char pat[512] = "";
        gen_any(pat, sizeof pat, 0);
        add(&s, pat);
    }
    unsigned leads = 0, decidable = 0;
    for (unsigned p = 0; p < s.n; p++) {
        size_t e;
        leads += (unsigned)analyzer_prefilter_leads(s.pf, p);
        decidable += analyzer_prefilter_decide(s.pf, p, "x", 1, 0, &e) >= 0 ||
                     analyzer_prefilter_decide(s.pf, p, "и", 2, 0, &e) >= 0;
    }
    print_message("%u patterns, %u with leads, %u decided\n", s.n, leads, decidable);
    assert_true(leads > s.n / 3);
    assert_true(decidable > 100);

    pcre2_match_data *md = pcre2_match_data_create(32, NULL);
    size_t words = (s.n + 63) / 64;
    uint64_t *bits = calloc(words, sizeof *bits), hits[4096];
    unsigned long matches = 0, decisions = 0, bad = 0;
    for (int t = 0; t < 150; t++) {
        char text[256] = "";
        unsigned nw = 1 + rnd(6);
        for (unsigned w = 0; w < nw; w++)
            for (unsigned k = 1 + rnd(3); k > 0; k--)
                cat(text, sizeof text, pieces[rnd(sizeof pieces / sizeof *pieces)]);
        size_t len = strlen(text);
        memset(bits, 0, words * sizeof *bits);
        size_t nh = analyzer_prefilter_scan_hits(s.pf, text, len, bits, hits, 4096);
        assert_true(nh <= 4096);
        for (unsigned p = 0; p < s.n; p++) {
            int has_leads = analyzer_prefilter_leads(s.pf, p);
            for (size_t at = 0; at <= len; at++) {
                if (at < len && ((unsigned char)text[at] & 0xC0) == 0x80)
                    continue;
                int rc = pcre2_match(s.re[p], (PCRE2_SPTR)text, len, at,
                                     PCRE2_NO_UTF_CHECK | PCRE2_ANCHORED, md, NULL);
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
                if (rc > 0 && has_leads) {
                    matches++;
                    int found = 0;
                    for (size_t h = 0; h < nh && !found; h++)
                        found = hits[h] == ((uint64_t)p << 32 | at);
                    if (!found && bad++ < 10)
                        print_error("no hit for %s in \"%s\" at %zu\n", s.src[p], text, at);
                }
                size_t end = 0;
                int d = analyzer_prefilter_decide(s.pf, p, text, len, at, &end);
                if (d < 0)
                    continue;
                decisions++;
                int same = d == 1 ? rc > 0 && ov[0] == at && ov[1] == end
                                  : rc == PCRE2_ERROR_NOMATCH;
                if (!same && bad++ < 10)
                    print_error("decide(%s, \"%s\", %zu) = %d (end %zu), PCRE2 %d\n", s.src[p],
                                text, at, d, end, rc);
            }
        }
    }
    print_message("%u patterns (%u with leads, %u decided here), %lu matches at hits, "
                  "%lu decisions\n",
                  s.n, leads, decidable, matches, decisions);
    assert_true(matches > 100);
    assert_true(decisions > 1000);
    assert_int_equal(bad, 0);
    free(bits);
    pcre2_match_data_free(md);
    for (unsigned p = 0; p < s.n; p++) {
        free(s.src[p]);
        pcre2_code_free(s.re[p]);
    }
    analyzer_prefilter_free(s.pf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_where),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
