/* test_buf.c -- core/buf.h: the cap is honoured by every way of appending
 * (a refused append leaves the buffer as it was), the length and contents
 * are read through buf_len()/buf_str(), and truncating and detaching keep
 * the string NUL-terminated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "core/buf.h"

enum op { APPEND, PUTS, PUTC, PRINTF };

/* A buffer capped at `max` holding `before`; one more append of `add`. */
static const struct {
    size_t max;
    const char *before, *add;
    enum op op;
    ctx_err want;
    const char *after;
} cases[] = {
    {0, "", "abc", APPEND, CTX_OK, "abc"},               /* uncapped */
    {4, "", "abcd", APPEND, CTX_OK, "abcd"},             /* exactly the cap */
    {4, "ab", "cde", APPEND, CTX_ETOOBIG, "ab"},         /* one over: unchanged */
    {4, "abcd", "", APPEND, CTX_OK, "abcd"},             /* nothing, at the cap */
    {4, "ab", "cd", PUTS, CTX_OK, "abcd"},
    {4, "abcd", "e", PUTS, CTX_ETOOBIG, "abcd"},
    {4, "abc", "d", PUTC, CTX_OK, "abcd"},
    {4, "abcd", "e", PUTC, CTX_ETOOBIG, "abcd"},
    {4, "a", "bcd", PRINTF, CTX_OK, "abcd"},
    {4, "a", "bcde", PRINTF, CTX_ETOOBIG, "a"},
    {1, "", "ab", APPEND, CTX_ETOOBIG, ""},
};

static void test_cap(void **state)
{
    (void)state;
    for (size_t i = 0; i < CTX_ARRAY_LEN(cases); i++) {
        struct buf b = {0};
        buf_set_max(&b, cases[i].max);
        assert_int_equal(buf_puts(&b, cases[i].before), CTX_OK);
        const char *s = cases[i].add;
        ctx_err e = cases[i].op == APPEND ? buf_append(&b, s, strlen(s))
                  : cases[i].op == PUTS   ? buf_puts(&b, s)
                  : cases[i].op == PUTC   ? buf_putc(&b, s[0])
                                          : buf_printf(&b, "%s", s);
        if (e != cases[i].want || strcmp(buf_str(&b), cases[i].after)
            || buf_len(&b) != strlen(cases[i].after))
            fail_msg("case %zu: got %d '%s' (%zu), want %d '%s'", i, e, buf_str(&b),
                     buf_len(&b), cases[i].want, cases[i].after);
        buf_free(&b);
    }
}

static void test_empty_truncate_detach(void **state)
{
    (void)state;
    struct buf b = {0};
    assert_string_equal(buf_str(&b), "");       /* never NULL, even unallocated */
    assert_int_equal(buf_len(&b), 0);
    buf_truncate(&b, 3);                        /* nothing to cut: no-op */
    assert_int_equal(buf_len(&b), 0);
    char *d = buf_detach(&b);
    assert_string_equal(d, "");
    free(d);

    for (int i = 0; i < 1000; i++)              /* growth: many small appends */
        assert_int_equal(buf_putc(&b, (char)('a' + i % 26)), CTX_OK);
    assert_int_equal(buf_len(&b), 1000);
    buf_truncate(&b, 2000);                     /* longer than it is: no-op */
    assert_int_equal(buf_len(&b), 1000);
    buf_truncate(&b, 3);
    assert_int_equal(buf_len(&b), 3);
    assert_string_equal(buf_str(&b), "abc");
    assert_int_equal(buf_puts(&b, "x"), CTX_OK);
    assert_string_equal(buf_str(&b), "abcx");
    d = buf_detach(&b);
    assert_string_equal(d, "abcx");
    assert_int_equal(buf_len(&b), 0);           /* reset, reusable */
    free(d);
    buf_reset(&b);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_empty_truncate_detach),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
