/* test_russian.c -- Russian sentiment and the language guess.
 *
 * Tables: russian.tsv (labels and comparisons of scores: negation,
 * intensifiers, inflected forms, names, function words, contrast) and
 * lang.tsv (texts and the language they must be read as). Plus the stemmer
 * on words whose Snowball stems are known. Run from the repository root. */
#include <math.h>
#include "analyzer/analyzer_internal.h"
#include "tests/analyzer/analyzer_fixture.h"

/* Cases compare with other cases ("8>1": the 8th scores above the 1st), so
 * every score is known before any is checked. */
static void test_sentiment_table(void **state)
{
    const analyzer *a = *state;
    struct tsv t = tsv_read(DATA "/russian.tsv");
    double score[256];
    int failed = 0;
    assert_true(t.n > 10 && t.n < 256);
    for (size_t i = 0; i < t.n; i++)
        score[i] = analyzer_score(a, t.rows[i].f[0]);
    for (size_t i = 0; i < t.n; i++) {
        const struct tsv_row *r = &t.rows[i];
        const char *e = r->f[1];
        int ok = fixture_label_ok(e, score[i]);
        if (ok < 0) {
            int x, y;
            char op;
            assert_int_equal(sscanf(e, "%d%c%d", &x, &op, &y), 3);
            assert_true(x >= 1 && y >= 1 && (size_t)x <= t.n && (size_t)y <= t.n);
            double sx = score[x - 1], sy = score[y - 1];
            ok = op == '<' ? sx < sy : op == '>' ? sx > sy : fabs(sx - sy) < 1e-9;
        }
        if (!ok) {
            print_error("russian.tsv:%d: \"%s\" scored %.4f, want %s\n", r->line, r->f[0],
                        score[i], e);
            failed++;
        }
    }
    tsv_free(&t);
    assert_int_equal(failed, 0);
}

static int lang_case(const struct tsv_row *r, void *a)
{
    const char *text = strcmp(r->f[0], "-") ? r->f[0] : "";
    const char *got = analyzer_lang(a, text);
    /* the same through analyzer_tag() */
    struct item it;
    struct tags tg = {0};
    item_init(&it);
    it.text = (char *)text;
    assert_int_equal(analyzer_tag(a, &it, &tg), CTX_OK);
    const char *want = strcmp(r->f[1], "-") ? r->f[1] : NULL;
    int bad = (want == NULL) != (got == NULL) || (want && strcmp(want, got)) ||
              (want == NULL) != (tg.lang == NULL) || (want && strcmp(want, tg.lang));
    if (bad)
        print_error("lang.tsv:%d: \"%s\": want %s, got %s (tag: %s)\n", r->line, text, r->f[1],
                    got ? got : "-", tg.lang ? tg.lang : "-");
    tags_clear(&tg);
    return bad;
}

static void test_lang_table(void **state)
{
    assert_int_equal(tsv_cases("lang.tsv", 2, 15, lang_case, *state), 0);
}

/* Stems from the Snowball Russian algorithm (as libstemmer gives them). */
static void test_stemmer(void **state)
{
    (void)state;
    static const struct { const char *w, *stem; } cases[] = {
        {"хороший", "хорош"},      {"хорошая", "хорош"},   {"хорошего", "хорош"},
        {"поддержка", "поддержк"}, {"поддержку", "поддержк"},
        {"работает", "работа"},    {"отвечают", "отвеча"}, {"ужасно", "ужасн"},
        {"красивейший", "красив"}, {"длинный", "длин"},     {"вечер", "вечер"},
        {"улыбаясь", "улыб"},     {"сделавшись", "сдела"}, {"радость", "радост"},
        {"ключ", "ключ"},          {"", ""},                {"ы", "ы"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t n = analyzer_stem_ru(cases[i].w, strlen(cases[i].w));
        if (n != strlen(cases[i].stem) || memcmp(cases[i].w, cases[i].stem, n) != 0)
            fail_msg("stem(%s) = %.*s, want %s", cases[i].w, (int)n, cases[i].w,
                     cases[i].stem);
    }
}

/* The Russian lexicon is optional: without it Russian words have no valence.
 * An error in the hand-written supplement names its file and line. */
static void test_without_russian(void **state)
{
    (void)state;
    char err[512];
    analyzer *a = fixture_analyzer(DATA "/lexicon-en-only", NULL);
    assert_true(analyzer_score(a, "хороший сервис") == 0.0);
    assert_true(analyzer_score(a, "good service") > 0.05);
    assert_string_equal(analyzer_lang(a, "Поддержка не отвечает"), "ru");
    analyzer_free(a);
    assert_null(analyzer_new(DATA "/lexicon-bad-ru", NULL, err, sizeof err));
    assert_non_null(strstr(err, "ru_polsentilex.tsv:4: bad mean"));
    assert_null(analyzer_new(DATA "/lexicon-bad-ru-extra", NULL, err, sizeof err));
    assert_non_null(strstr(err, "ru_extra.tsv:3: bad mean"));
}

/* Russian text (ASCII and U+0400..U+047F alone) is not looked at for emoji
 * when no emoji key can begin in it, the shipped lexicon's case; a lexicon
 * whose keys can (lexicon-emoji-cyrillic: "Ж" described as "good sign", and
 * "good" with its rating from VADER's lexicon) still has them found there. */
static void test_emoji_in_cyrillic(void **state)
{
    const analyzer *shipped = *state;
    analyzer *a = fixture_analyzer(DATA "/lexicon-emoji-cyrillic", NULL);
    assert_true(analyzer_score(a, "сервис Ж") > 0.4);
    assert_true(analyzer_score(a, "сервис") == 0.0);
    assert_true(analyzer_score(shipped, "сервис Ж") == 0.0);
    analyzer_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sentiment_table),
        cmocka_unit_test(test_lang_table),
        cmocka_unit_test(test_stemmer),
        cmocka_unit_test(test_without_russian),
        cmocka_unit_test(test_emoji_in_cyrillic),
    };
    return run_with_analyzer(tests, LEXICONS, NULL);
}
