/* test_lang_letters.c -- analyzer_lang_letters(), which reads eight bytes
 * at a time whatever their mix of ASCII and Cyrillic letters, against a
 * reference that takes one character at a time: ASCII and U+0400..U+047F
 * counted here from the rules (lang.c's header), any other character or
 * byte not UTF-8 counted by the function on that character alone. On fixed
 * cases at the edges of its eight-byte steps and on random texts, short
 * and long (its counts add up in blocks), made of the pieces that meet
 * there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "analyzer/analyzer_internal.h"

/* The telltale letter of U+0400..U+047F, by cp - 0x400: ы э ъ ё for
 * Russian, і ї є for Ukrainian, both cases. */
static enum lang_id cyrillic_telltale(unsigned k)
{
    switch (k) {
    case 0x4B: case 0x2B: case 0x4D: case 0x2D: case 0x4A: case 0x2A: case 0x51: case 0x01:
        return LANG_RU;
    case 0x56: case 0x06: case 0x57: case 0x07: case 0x54: case 0x04:
        return LANG_UK;
    default:
        return LANG_NONE;
    }
}

static void reference(const unsigned char *s, size_t len, struct lang_votes *v)
{
    for (size_t i = 0; i < len;) {
        unsigned c = s[i];
        if (c < 0x80) {
            v->latin += ((c | 0x20) - 'a') < 26u;
            i++;
            continue;
        }
        if ((c == 0xD0 || c == 0xD1) && i + 1 < len && (s[i + 1] & 0xC0) == 0x80) {
            v->cyrillic++;
            v->letter[cyrillic_telltale((c & 1u) << 6 | (s[i + 1] & 0x3Fu))]++;
            i += 2;
            continue;
        }
        size_t n = ctx_utf8_seq_len(s + i, len - i);
        if (!n)
            n = 1;
        analyzer_lang_letters(s + i, n, v);
        i += n;
    }
}

static void check(const char *s, size_t len)
{
    /* a copy of exactly len bytes, so that ASan sees any read past it */
    unsigned char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, s, len);
    struct lang_votes got = {0}, want = {0};
    analyzer_lang_letters(copy, len, &got);
    reference(copy, len, &want);
    got.letter[LANG_NONE] = want.letter[LANG_NONE] = 0;   /* never read */
    assert_memory_equal(&got, &want, sizeof got);
    free(copy);
}

static void test_fixed(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "", "plain ascii text, longer than eight bytes",
        "Это объявление: съешь же ещё этих мягких французских булок",
        "Їжак і єнот, Ґанок", "ЁЁЁЁ ыыыы ЪЪ ЭЭ іІ їЇ єЄ",
        "abcdefg\xd1\x8b", "abcdefg\xd0", "abcdef\xd0\xd0\xbf",
        "\xbf\xd1\x8b\xd1\x8b\xd1\x8b\xd1\x8b",           /* starts with a continuation */
        "\xd1\x8b\xd1\x8b\xd1\x8b\xd0\x41 tail",           /* lead then ASCII */
        "\xd1\x8b\xd1\x8b\xd1\x8b\xd1", "\xd1\x80\xd1\x8f\xd2\x91\xd0\xb0",   /* ґ */
        "«Ёлка» — это ёлка…", "stra\xc3\x9f" "e \xc3\xa7" "a \xc3\xb1" "o \xc2\xbf" "qu\xc3\xa9?",
        "\xf0\x9f\x98\x80\xd1\x8b\xd1\x8b\xd1\x8b", "日本語 Ελληνικά عربي", "\xff\xfe\xc0\xaf",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i]);
        for (size_t k = 0; k <= n; k++)     /* every prefix: every alignment of the end */
            check(cases[i], k);
    }
}

/* Runs of one piece, long enough that a lane of the eight-byte counts
 * would pass 255 if the blocks were too long: seven-byte steps too
 * ("ab ы" and "aaaaaaы" end a word with a lead). */
static void test_long(void **state)
{
    (void)state;
    static const char *const runs[] = {"a", "\xd1\x8b", "ab \xd1\x8b", "aaaaaa\xd1\x8b", "\xd1\x96" "a"};
    static char buf[8000];
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        size_t n = strlen(runs[r]), len = 0;
        while (len + n <= sizeof buf) {
            memcpy(buf + len, runs[r], n);
            len += n;
        }
        for (size_t k = len - 64; k <= len; k++)
            check(buf, k);
        for (size_t k = 1700; k <= 1900; k++)
            check(buf, k);
    }
}

static void test_random(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "a", "Z", " ", ".", "7", "\xd0\xb0", "\xd1\x8f", "\xd1\x8b", "\xd0\xad", "\xd1\x91",
        "\xd0\x81", "\xd1\x96", "\xd0\x87", "\xd1\x94", "\xd0\xaa",
        "\xc3\xa9", "\xc3\x9f", "\xe2\x80\x94", "\xf0\x9f\x98\x80", "\xd2\x91", "\xce\xb1",
        "\xd0", "\xd1", "\x80", "\xbf", "\xc2", "\xe2\x80", "\xff",
    };
    const size_t np = sizeof pieces / sizeof pieces[0];
    static char buf[6000];
    srand(7);
    for (int round = 0; round < 100000; round++) {
        /* mostly short texts, now and then one over a block (1,778 bytes) */
        size_t len = 0, want = round % 100 ? (size_t)rand() % 48 : (size_t)rand() % sizeof buf;
        /* ASCII and Cyrillic, with now and then another character or a bad byte */
        int other = rand() % 4 == 0;
        while (len < want) {
            size_t k = (size_t)rand() % (other ? np : 15);
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
        cmocka_unit_test(test_long),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
