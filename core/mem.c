/* mem.c -- allocation that aborts on failure (see mem.h). The message is
 * formatted on the stack and written with one write(), so reporting the
 * failure needs no memory. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/mem.h"

void ctx_oom(size_t size)
{
    char msg[96];
    int n = size ? snprintf(msg, sizeof msg, "ctx: out of memory allocating %zu bytes\n", size)
                 : snprintf(msg, sizeof msg, "ctx: out of memory\n");
    if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) < 0)
        n = 0;                  /* nothing more to do: we abort either way */
    abort();
}

void *ctx_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        ctx_oom(size);
    return p;
}

void *ctx_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        ctx_oom(size && n > SIZE_MAX / size ? SIZE_MAX : n * size);
    return p;
}

void *ctx_realloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        ctx_oom(size);
    return q;
}

char *ctx_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(ctx_malloc(n), s, n);
}

char *ctx_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = ctx_malloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
