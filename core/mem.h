/* mem.h -- allocation that never returns NULL.
 *
 * One memory policy, as Redis' zmalloc and h2o's h2o_mem_alloc: running out
 * of memory is not an error a caller can do anything useful about, so these
 * wrappers print "ctx: out of memory allocating N bytes" on stderr and
 * abort(). What they return is the caller's, freed with free(). Code written
 * before this header still checks malloc() and returns CTX_ENOMEM; it is
 * converted file by file. */
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
 * for code that allocates through another library, e.g. json_dumps). */
void ctx_oom(size_t size) __attribute__((noreturn));

#endif
