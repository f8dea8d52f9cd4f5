/* mem.h -- allocation that never returns NULL.
 *
 * One memory policy, as Redis' zmalloc and h2o's h2o_mem_alloc: running out
 * of memory is not an error a caller can do anything useful about, so these
 * wrappers print "ctx: out of memory allocating N bytes" on stderr and
 * abort(). What they return is the caller's, freed with free(). The daemon
 * and ctxctl allocate through these and nothing else (jansson too: both call
 * json_set_alloc_funcs(ctx_malloc, free) first thing), so no caller checks
 * for NULL and no function fails with CTX_ENOMEM for want of memory; a size
 * limit on input is a cap (struct buf's max, CTX_ETOOBIG), not an allocation
 * failure. Libraries that allocate on their own (libcurl, libwebsockets,
 * PCRE2, hiredis) report failure their own way. */
#ifndef CTX_MEM_H
#define CTX_MEM_H

#include <stddef.h>

void *ctx_malloc(size_t size) __attribute__((malloc, returns_nonnull));
void *ctx_calloc(size_t n, size_t size) __attribute__((malloc, returns_nonnull));
/* As realloc(p, size); p stays valid only on success, which is always. */
void *ctx_realloc(void *p, size_t size) __attribute__((returns_nonnull));
char *ctx_strdup(const char *s) __attribute__((malloc, returns_nonnull));
char *ctx_strndup(const char *s, size_t n) __attribute__((malloc, returns_nonnull));

/* Print the message naming the size and abort (the wrappers' failure path;
 * for code that allocates through another library and is told it ran out,
 * e.g. json_dumps() or curl_url_get(): size 0 when the size is not known,
 * and the message then names none). */
void ctx_oom(size_t size) __attribute__((noreturn));

#endif
