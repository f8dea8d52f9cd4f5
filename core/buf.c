/* buf.c -- growable NUL-terminated byte buffer; see buf.h.
 * Growth doubles the allocation so appending n bytes one at a time costs
 * O(n) overall. Out of memory aborts (core/mem.h); the only failure left is
 * the cap, and a capped append leaves the buffer unchanged. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/buf.h"
#include "core/mem.h"

static ctx_err buf_grow(struct buf *b, size_t extra)
{
    if (b->max && (extra > b->max || b->len > b->max - extra))
        return CTX_ETOOBIG;
    if (extra >= SIZE_MAX - b->len)
        ctx_oom(SIZE_MAX);      /* no size_t can say how much */
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return CTX_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    b->p = ctx_realloc(b->p, cap);
    b->cap = cap;
    return CTX_OK;
}

ctx_err buf_reserve(struct buf *b, size_t extra)
{
    return buf_grow(b, extra);
}

ctx_err buf_append(struct buf *b, const void *data, size_t len)
{
    ctx_err e = buf_grow(b, len);
    if (e)
        return e;
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
    return CTX_OK;
}

ctx_err buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

ctx_err buf_putc(struct buf *b, char c)
{
    return buf_append(b, &c, 1);
}

ctx_err buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return CTX_EINVAL;
    ctx_err e = buf_grow(b, (size_t)n);
    if (e)
        return e;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return CTX_OK;
}

ctx_err buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ctx_err e = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return e;
}

const char *buf_str(const struct buf *b)
{
    return b->p ? b->p : "";
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

char *buf_detach(struct buf *b)
{
    char *p = b->p ? b->p : ctx_strdup("");
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void buf_truncate(struct buf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->p[len] = '\0';
    }
}

void buf_set_max(struct buf *b, size_t max)
{
    b->max = max;
}

void buf_free(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
