/* test_html.c -- html_to_text() against tests/data/collectors/html.tsv, the
 * entity table against tests/data/collectors/entities.tsv, the sanitizer and
 * its helpers against tests/data/collectors/sanitize.tsv, and the UTF-8
 * helpers the feed parser relies on. */
#include "tests/collectors/testutil.h"
#include "collectors/collectors.h"
#include "collectors/collectors_internal.h"

static void check_html(const struct tu_row *r, void *arg)
{
    int *failures = arg;
    const char *want = r->ncols > 1 ? r->col[1] : "";
    char *got = html_to_text(r->col[0], r->len[0]);
    assert_non_null(got);
    if (strcmp(got, want)) {
        print_error("html.tsv:%d: got '%s', want '%s'\n", r->line, got, want);
        (*failures)++;
    }
    if (!tu_valid_utf8(got, strlen(got))) {
        print_error("html.tsv:%d: output is not valid UTF-8\n", r->line);
        (*failures)++;
    }
    free(got);
}

static void test_html_table(void **state)
{
    (void)state;
    int failures = 0;
    int rows = tu_tsv("tests/data/collectors/html.tsv", 1, check_html, &failures);
    assert_true(rows > 60);
    assert_int_equal(failures, 0);
}

static void check_entity(const struct tu_row *r, void *arg)
{
    int *n = arg;
    uint32_t cp = 0;
    if (!html_entity_lookup(r->col[0], r->len[0], &cp))
        fail_msg("entities.tsv:%d: &%s; unknown", r->line, r->col[0]);
    if (cp != (uint32_t)strtoul(r->col[1], NULL, 16))
        fail_msg("entities.tsv:%d: &%s; = U+%04X, want U+%s", r->line, r->col[0], cp, r->col[1]);
    (*n)++;
}

/* Every entity of the table is found: this also proves the table is sorted,
 * since the lookup is a binary search. */
static void test_entity_table(void **state)
{
    (void)state;
    int n = 0;
    tu_tsv("tests/data/collectors/entities.tsv", 2, check_entity, &n);
    assert_true(n >= 252 + 100);
    uint32_t cp;
    assert_false(html_entity_lookup("AMP2", 4, &cp));
    assert_false(html_entity_lookup("", 0, &cp));
    assert_false(html_entity_lookup("nbs", 3, &cp));
    assert_false(html_entity_lookup("nbspx", 5, &cp));
    assert_false(html_entity_lookup("Nbsp", 4, &cp));     /* case matters */
}

/* One row of sanitize.tsv: the first column names the function. */
static void check_helper(const struct tu_row *r, void *arg)
{
    int *failures = arg;
    const char *fn = r->col[0], *in = r->col[1];
    const char *want = r->ncols > 2 ? r->col[2] : "";
    char *got = NULL;
    char flag[2] = "0";
    if (!strcmp(fn, "sanitize")) {
        const char *base = strcmp(want, "-") ? want : NULL;
        want = r->ncols > 3 ? r->col[3] : "";
        got = html_sanitize(in, r->len[1], base);
        assert_non_null(got);
    } else if (!strcmp(fn, "looks_like")) {
        flag[0] = html_looks_like(in) ? '1' : '0';
    } else if (!strcmp(fn, "url_safe")) {
        flag[0] = url_safe(in) ? '1' : '0';
    } else if (!strcmp(fn, "resolve")) {
        want = r->ncols > 3 ? r->col[3] : "";
        got = url_resolve(strcmp(in, "-") ? in : NULL, r->ncols > 2 ? r->col[2] : "");
        assert_non_null(got);
    } else if (!strcmp(fn, "host") || !strcmp(fn, "host_port")) {
        char h[64];
        got = strdup(url_host(in, fn[4] == '_', h, sizeof h) ? h : "-");
    } else if (!strcmp(fn, "undouble")) {
        got = utf8_undouble(in);
        if (!got)
            got = strdup("-");
    } else {
        fail_msg("sanitize.tsv:%d: unknown function '%s'", r->line, fn);
    }
    const char *g = got ? got : flag;
    if (strcmp(g, want)) {
        print_error("sanitize.tsv:%d: %s('%s') = '%s', want '%s'\n", r->line, fn, in, g, want);
        (*failures)++;
    }
    free(got);
}

static void test_sanitize_table(void **state)
{
    (void)state;
    int failures = 0;
    int rows = tu_tsv("tests/data/collectors/sanitize.tsv", 2, check_helper, &failures);
    assert_true(rows > 75);
    assert_int_equal(failures, 0);
    assert_true(html_sanitizer_tables_sorted());
}

/* Whatever goes in, the sanitizer finishes, in linear time, and what comes
 * out of valid UTF-8 is valid UTF-8 with no script element left in it. */
static void test_sanitize_hostile(void **state)
{
    (void)state;
    static const char *const parts[] = {
        "<", ">", "&", "\"", "'", "<a href=\"", "<!--", "-->", "--", "<script>", "</script>",
        "<!", "<?", "<![CDATA[", "]]>", "&#146;", "&amp", "<br/>", "style=\"color: red\"",
        "<p ", "=", " ", "\n", "\xD0\x96", "/", "<b>", "</b>", "url(", ")", "javascript:",
    };
    uint64_t x = 88172645463325252ULL;
    struct buf b = {0};
    for (int round = 0; round < 3000; round++) {
        buf_reset(&b);
        int n = 1 + (int)(x % 40);
        for (int k = 0; k < n; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf_puts(&b, parts[x % CTX_ARRAY_LEN(parts)]);
        }
        char *out = html_sanitize(buf_str(&b), buf_len(&b), round % 2 ? "http://e.example/a/" : NULL);
        assert_non_null(out);
        if (!tu_valid_utf8(out, strlen(out)))
            fail_msg("not UTF-8 from '%s'", buf_str(&b));
        free(out);
    }
    /* big inputs of one repeated piece: each must finish quickly */
    for (size_t p = 0; p < CTX_ARRAY_LEN(parts); p++) {
        buf_reset(&b);
        while (buf_len(&b) < (1u << 20))
            buf_puts(&b, parts[p]);
        char *out = html_sanitize(buf_str(&b), buf_len(&b), "http://e.example/");
        assert_non_null(out);
        free(out);
    }
    buf_free(&b);
}

static void test_utf8_helpers(void **state)
{
    (void)state;
    struct buf b = {0};
    bool bad;
    assert_int_equal(ctx_utf8_sanitize("ok \xD0\x96", 5, &b, &bad), CTX_OK);
    assert_false(bad);
    assert_string_equal(buf_str(&b), "ok \xD0\x96");
    buf_reset(&b);
    /* NUL, overlong, surrogate, truncated, past U+10FFFF */
    assert_int_equal(ctx_utf8_sanitize("a\0b\xC0\xAF\xED\xA0\x80\xE2\x82\xF4\x90\x80\x80", 14, &b, &bad),
                     CTX_OK);
    assert_true(bad);
    assert_true(tu_valid_utf8(buf_str(&b), buf_len(&b)));
    assert_null(memchr(buf_str(&b), '\0', buf_len(&b)));
    assert_int_equal(strncmp(buf_str(&b), "a\xEF\xBF\xBD" "b", 5), 0);
    buf_reset(&b);
    assert_int_equal(ctx_utf8_put(&b, 0x10FFFF), CTX_OK);
    assert_int_equal(ctx_utf8_put(&b, 0xDC00), CTX_OK);     /* surrogate -> U+FFFD */
    assert_memory_equal(buf_str(&b), "\xF4\x8F\xBF\xBF\xEF\xBF\xBD", 7);
    buf_free(&b);
    assert_int_equal(charref_fixup(0x92), 0x2019);
    assert_int_equal(charref_fixup(0x81), 0x81);          /* undefined in windows-1252 */
    assert_int_equal(charref_fixup(0), 0xFFFD);
    assert_int_equal(charref_fixup(0x41), 0x41);
}

static void test_text_collapse(void **state)
{
    (void)state;
    char *s = text_collapse("  a <b>\n\t c &amp;\xFF ", 19);
    assert_string_equal(s, "a <b> c &amp;\xEF\xBF\xBD");
    free(s);
    s = text_collapse("", 0);
    assert_string_equal(s, "");
    free(s);
}

/* Random bytes never crash html_to_text and always give valid UTF-8. */
static void test_random_input(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    static const char alphabet[] = "<>&;#x/!-[]\"'= abcpscriptstyle\n\xC3\xA9\xFF\xE2\x80";
    char in[512];
    for (int round = 0; round < 20000; round++) {
        size_t n = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t len = x % sizeof in;
        for (; n < len; n++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            in[n] = alphabet[x % (sizeof alphabet - 1)];
        }
        char *out = html_to_text(in, n);
        assert_non_null(out);
        assert_true(tu_valid_utf8(out, strlen(out)));
        free(out);
    }
}

/* Linear time: big inputs of the shapes that make naive code quadratic. */
static void test_big_inputs(void **state)
{
    (void)state;
    const size_t n = 4u << 20;
    char *in = malloc(n);
    assert_non_null(in);
    static const char *const fills[] = {"<", "&", "<a ", "<!--", "<script>", "&#", "<p>", " ",
                                        "<a href=\"", "&amp"};
    for (size_t f = 0; f < CTX_ARRAY_LEN(fills); f++) {
        size_t k = strlen(fills[f]);
        for (size_t i = 0; i < n; i++)
            in[i] = fills[f][i % k];
        char *out = html_to_text(in, n);
        assert_non_null(out);
        free(out);
    }
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_table),
        cmocka_unit_test(test_entity_table),
        cmocka_unit_test(test_sanitize_table),
        cmocka_unit_test(test_sanitize_hostile),
        cmocka_unit_test(test_utf8_helpers),
        cmocka_unit_test(test_text_collapse),
        cmocka_unit_test(test_random_input),
        cmocka_unit_test(test_big_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
