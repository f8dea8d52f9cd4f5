/* test_mem.c -- core/mem.h: the wrappers copy what they should, and a
 * failed allocation aborts with a message naming the size (run in a child
 * process, from a table of allocations too big to succeed). */
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "core/mem.h"

/* Under ASan a huge malloc() must return NULL, as it does without it. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

static void test_copies(void **state)
{
    (void)state;
    char *s = ctx_strdup("acme");
    assert_string_equal(s, "acme");
    free(s);
    s = ctx_strndup("acme cloud", 4);
    assert_string_equal(s, "acme");
    free(s);
    s = ctx_strndup("ac", 10);
    assert_string_equal(s, "ac");
    free(s);
    int *z = ctx_calloc(8, sizeof *z);
    for (int i = 0; i < 8; i++)
        assert_int_equal(z[i], 0);
    z = ctx_realloc(z, 1000 * sizeof *z);
    z[999] = 1;
    free(z);
    free(ctx_malloc(0));        /* a valid pointer, never NULL */
}

enum which { MALLOC, CALLOC, REALLOC };

/* Run one allocation in a child; returns what it wrote on stderr, and
 * whether it died of SIGABRT. */
static bool dies(enum which w, size_t a, size_t b, char *out, size_t outlen)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd[1], STDERR_FILENO);
        void *p = w == MALLOC ? ctx_malloc(a) : w == CALLOC ? ctx_calloc(a, b)
                                                            : ctx_realloc(NULL, a);
        free(p);
        _exit(0);
    }
    close(fd[1]);
    size_t len = 0;
    ssize_t n;
    while (len < outlen - 1 && (n = read(fd[0], out + len, outlen - 1 - len)) > 0)
        len += (size_t)n;
    out[len] = '\0';
    close(fd[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
}

static void test_out_of_memory_aborts(void **state)
{
    (void)state;
    static const struct {
        enum which w;
        size_t a, b;
        const char *want;
    } cases[] = {
        {MALLOC, SIZE_MAX - 4096, 0, "ctx: out of memory allocating 18446744073709547519 bytes\n"},
        {CALLOC, SIZE_MAX / 2, 4, "ctx: out of memory allocating 18446744073709551615 bytes\n"},
        {CALLOC, 1UL << 40, 1UL << 20, "ctx: out of memory allocating 1152921504606846976 bytes\n"},
        {REALLOC, SIZE_MAX - 1, 0, "ctx: out of memory allocating 18446744073709551614 bytes\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[1024];
        if (!dies(cases[i].w, cases[i].a, cases[i].b, out, sizeof out))
            fail_msg("case %zu did not abort (stderr: %s)", i, out);
        if (!strstr(out, cases[i].want))
            fail_msg("case %zu: expected '%s' in '%s'", i, cases[i].want, out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copies),
        cmocka_unit_test(test_out_of_memory_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
