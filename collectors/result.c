/* result.c -- struct parse_result and struct source_request, shared by
 * every source kind. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "collectors/collectors.h"
#include "collectors/collectors_internal.h"

void parse_result_clear(struct parse_result *r)
{
    for (size_t i = 0; i < r->nitems; i++)
        item_clear(&r->items[i]);
    free(r->items);
    free(r->cursor);
    json_decref(r->extra);
    memset(r, 0, sizeof *r);
}

void parse_result_take(struct parse_result *r, struct item *it)
{
    if (r->nitems == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        r->items = ctx_realloc(r->items, cap * sizeof *r->items);
        r->cap = cap;
    }
    r->items[r->nitems++] = *it;
    item_init(it);
}

void source_request_clear(struct source_request *q)
{
    free(q->url);
    buf_free(&q->body);
    strlist_clear(&q->headers);
    memset(q, 0, sizeof *q);
}

ctx_err source_request_header(struct source_request *q, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line)
        return CTX_EINVAL;
    strlist_add(&q->headers, line);
    return CTX_OK;
}

void first_problem(bool *bozo, char *err, size_t cap, const char *fmt, ...)
{
    if (*bozo)
        return;
    *bozo = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}
