/* test_chunked.c -- chunked request bodies (ws/chunked.c), from a case table:
 * each input fed whole, byte by byte, and split at every point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "core/ctx.h"
#include "ws/ws_internal.h"

static const struct {
    const char *in;
    int want;               /* CHUNKED_DONE, _MORE, _BAD or _TOO_BIG */
    const char *body;       /* when DONE */
    size_t rest;            /* bytes after the body (not taken), when DONE */
} cases[] = {
    {"0\r\n\r\n", CHUNKED_DONE, "", 0},
    {"5\r\nhello\r\n0\r\n\r\n", CHUNKED_DONE, "hello", 0},
    {"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", CHUNKED_DONE, "hello world", 0},
    {"A\r\n0123456789\r\n0\r\n\r\n", CHUNKED_DONE, "0123456789", 0},
    {"a\r\n0123456789\r\n0\r\n\r\n", CHUNKED_DONE, "0123456789", 0},
    {"005\r\nhello\r\n000\r\n\r\n", CHUNKED_DONE, "hello", 0},
    {"5;name=value\r\nhello\r\n0;x\r\n\r\n", CHUNKED_DONE, "hello", 0},
    {"5 ;x\r\nhello\r\n0\r\n\r\n", CHUNKED_DONE, "hello", 0},
    {"5\r\nhello\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n", CHUNKED_DONE, "hello", 0},
    {"3\r\n\r\n\r\r\n0\r\n\r\n", CHUNKED_DONE, "\r\n\r", 0},     /* data is data */
    {"0\r\n\r\nGET / HTTP/1.1\r\n\r\n", CHUNKED_DONE, "", 18},  /* the next request */
    {"000000000000000000005\r\nhello\r\n0\r\n\r\n", CHUNKED_DONE, "hello", 0},
    {"5\r\nhel", CHUNKED_MORE, NULL, 0},
    {"5\r\nhello\r\n", CHUNKED_MORE, NULL, 0},
    {"5\r\nhello\r\n0\r\n", CHUNKED_MORE, NULL, 0},
    {"5\r\nhello\r\n0\r\nX: 1\r\n", CHUNKED_MORE, NULL, 0},
    {"", CHUNKED_MORE, NULL, 0},
    {"\r\n", CHUNKED_BAD, NULL, 0},                 /* no size */
    {"x\r\n", CHUNKED_BAD, NULL, 0},
    {"-1\r\n", CHUNKED_BAD, NULL, 0},
    {"+1\r\n", CHUNKED_BAD, NULL, 0},
    {"5x\r\nhello\r\n0\r\n\r\n", CHUNKED_BAD, NULL, 0},
    {"5\nhello\n0\n\n", CHUNKED_BAD, NULL, 0},      /* bare LF */
    {"5\r\nhelloX\r\n0\r\n\r\n", CHUNKED_BAD, NULL, 0},  /* longer than said */
    {"5\r\nhell\r\n0\r\n\r\n", CHUNKED_BAD, NULL, 0},    /* shorter */
    {"5;x\nhello\r\n0\r\n\r\n", CHUNKED_BAD, NULL, 0},
    {"0\r\nX: 1\n\r\n", CHUNKED_BAD, NULL, 0},
    {"0\r\n\n", CHUNKED_BAD, NULL, 0},
    {"0\r\n\r\r", CHUNKED_BAD, NULL, 0},
    {"1000000000000000\r\n", CHUNKED_BAD, NULL, 0},     /* 16 digits: past 60 bits */
    {"fffffffffffffff\r\n", CHUNKED_MORE, NULL, 0},     /* 15 are taken */
    {"21\r\n0123456789012345678901234567890123\r\n0\r\n\r\n", CHUNKED_TOO_BIG, NULL, 0},
};

#define MAX_BODY 32     /* the output's cap, for the TOO_BIG case */

/* Feed in[] in pieces of at most `step` bytes (0: split once at `at`). */
static int feed(const char *in, size_t len, size_t step, size_t at, struct buf *out,
                size_t *taken)
{
    struct chunked c = {0};
    size_t off = 0;
    int rc = CHUNKED_MORE;
    while (off < len || (off == 0 && len == 0)) {
        size_t n = step ? step : off < at ? at - off : len - off;
        if (n > len - off)
            n = len - off;
        size_t used = 0;
        rc = chunked_feed(&c, in + off, n, out, &used);
        assert_true(used <= n);
        off += used;
        if (rc != CHUNKED_MORE || len == 0)
            break;
        assert_int_equal(used, n);      /* MORE takes everything it is given */
    }
    *taken = off;
    return rc;
}

static void check(size_t i, size_t step, size_t at)
{
    const char *in = cases[i].in;
    size_t len = strlen(in), taken;
    struct buf out = {0};
    buf_set_max(&out, MAX_BODY);
    int rc = feed(in, len, step, at, &out, &taken);
    if (rc != cases[i].want)
        fail_msg("case %zu (step %zu, split %zu): %d, want %d", i, step, at, rc, cases[i].want);
    if (rc == CHUNKED_DONE) {
        assert_string_equal(buf_str(&out), cases[i].body);
        assert_int_equal(len - taken, cases[i].rest);
    }
    buf_free(&out);
}

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < CTX_ARRAY_LEN(cases); i++) {
        size_t len = strlen(cases[i].in);
        check(i, 0, len);
        check(i, 1, 0);
        for (size_t at = 1; at < len; at++)
            check(i, 0, at);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_cases)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
