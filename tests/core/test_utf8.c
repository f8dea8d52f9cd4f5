/* test_utf8.c -- ctx_utf8_valid_prefix() against a byte-by-byte reference
 * (ctx_utf8_seq_len() one character at a time), on fixed cases at the edges
 * of its eight-byte steps and on random texts made of the pieces that meet
 * there: ASCII, Cyrillic letters, other two-, three- and four-byte
 * characters, stray continuation bytes, truncated and overlong sequences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "core/utf8.h"

static size_t reference(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < len;) {
        size_t n = ctx_utf8_seq_len(s + i, len - i);
        if (!n)
            return i;
        i += n;
    }
    return len;
}

static void check(const char *s, size_t len)
{
    /* a copy of exactly len bytes, so that ASan sees any read past it */
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, s, len);
    assert_int_equal(ctx_utf8_valid_prefix(copy, len), reference(copy, len));
    free(copy);
}

static void test_fixed(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "", "plain ascii text, longer than eight bytes",
        "привет, мир: как дела?", "ёЁ ъЪ ыЫ іІ ї",
        "abcdefg\xd0\xbf", "abcdefg\xd0", "abcdef\xd0\xd0\xbf",
        "\xbf\xd0\xbf\xd0\xbf\xd0\xbf\xd0\xbf",              /* starts with a continuation */
        "\xd0\xbf\xd0\xbf\xd0\xbf\xd0\x41 tail",             /* lead then ASCII */
        "\xd0\xbf\xd0\xbf\xd0\xbf\xd0", "\xd1\x80\xd1\x8f\xd2\x91\xd0\xb0",   /* ґ */
        "\xc3\xa9t\xc3\xa9 \xd0\xbf\xd0\xbe", "\xe2\x80\x94 \xd0\xb4\xd0\xb0 \xe2\x80",
        "\xf0\x9f\x98\x80\xd0\xbf\xd0\xbf\xd0\xbf", "\xed\xa0\x80 surrogate",
        "\xc0\xaf overlong", "\xe0\x80\xaf", "\xf4\x90\x80\x80 past", "\xff\xfe",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i]);
        for (size_t k = 0; k <= n; k++)     /* every prefix: every alignment of the end */
            check(cases[i], k);
    }
}

static void test_random(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "a", "Z", " ", ".", "7", "\xd0\xb0", "\xd1\x8f", "\xd0\x81", "\xd1\x91", "\xd0\x96",
        "\xc3\xa9", "\xe2\x80\x94", "\xf0\x9f\x98\x80", "\xd0", "\xd1", "\x80", "\xbf",
        "\xc2", "\xe2\x80", "\xc0\x80", "\xed\xa0\x80", "\xf5", "\xff",
    };
    const size_t np = sizeof pieces / sizeof pieces[0];
    char buf[256];
    srand(42);
    for (int round = 0; round < 200000; round++) {
        size_t len = 0, want = (size_t)rand() % 40;
        /* mostly valid text with now and then a bad piece */
        int bad = rand() % 4 == 0;
        while (len < want) {
            size_t k = (size_t)rand() % (bad ? np : 13);
            size_t n = strlen(pieces[k]);
            if (len + n > sizeof buf)
                break;
            memcpy(buf + len, pieces[k], n);
            len += n;
        }
        check(buf, len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
