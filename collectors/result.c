/* result.c -- struct parse_result, shared by every source kind's parser. */
#include <stdlib.h>
#include <string.h>
#include "collectors/collectors.h"

void parse_result_clear(struct parse_result *r)
{
    for (size_t i = 0; i < r->nitems; i++)
        item_clear(&r->items[i]);
    free(r->items);
    free(r->cursor);
    json_decref(r->extra);
    memset(r, 0, sizeof *r);
}

ctx_err parse_result_take(struct parse_result *r, struct item *it)
{
    if (r->nitems == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct item *v = realloc(r->items, cap * sizeof *v);
        if (!v)
            return CTX_ENOMEM;
        r->items = v;
        r->cap = cap;
    }
    r->items[r->nitems++] = *it;
    item_init(it);
    return CTX_OK;
}
