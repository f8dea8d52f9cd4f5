/* test_hash.c -- SHA-1 and SHA-256 against FIPS 180 / NIST example vectors,
 * including the lengths around the padding's block edge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "core/ctx.h"
#include "core/hash.h"

static const struct { const char *in; size_t repeat; const char *sha1, *sha256; } cases[] = {
    {"", 1, "da39a3ee5e6b4b0d3255bfef95601890afd80709",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", 1, "a9993e364706816aba3e25717850c26c9cd0d89d",
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
     "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"a", 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
};

static void test_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < CTX_ARRAY_LEN(cases); i++) {
        size_t n = strlen(cases[i].in), len = n * cases[i].repeat;
        char *buf = test_malloc(len + 1);
        for (size_t k = 0; k < cases[i].repeat; k++)
            memcpy(buf + k * n, cases[i].in, n);
        char h1[41], h2[65];
        ctx_sha1_hex(buf, len, h1);
        ctx_sha256_hex(buf, len, h2);
        assert_string_equal(h1, cases[i].sha1);
        assert_string_equal(h2, cases[i].sha256);
        test_free(buf);
    }
}

/* 55, 56, 63, 64 bytes: the length field in the same block or the next */
static void test_padding_edges(void **state)
{
    (void)state;
    static const struct { size_t n; const char *sha256; } edges[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
    };
    char buf[64], h[65];
    memset(buf, 'a', sizeof buf);
    for (size_t i = 0; i < CTX_ARRAY_LEN(edges); i++) {
        ctx_sha256_hex(buf, edges[i].n, h);
        assert_string_equal(h, edges[i].sha256);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_padding_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
