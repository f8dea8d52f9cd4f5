/* buf.h -- a growable byte buffer, always NUL-terminated (as curl's dynbuf).
 *
 * A struct buf starts zeroed ({0}) and owns its memory; buf_free() releases
 * it and leaves the buffer empty and reusable. buf_detach() hands the memory
 * to the caller (free() it) and resets the buffer.
 *
 * Memory follows core/mem.h: running out of it aborts, so an append never
 * fails for want of memory. The one failure is the cap: set it with
 * buf_set_max() (once, when the buffer is set up) and an append that would
 * make the length exceed it fails with CTX_ETOOBIG and leaves the buffer as
 * it was. Every buffer that collects bytes from the network has one (HTTP
 * bodies, websocket messages); an uncapped buffer's appends always return
 * CTX_OK.
 *
 * The fields are the buffer's own: nothing outside buf.c reads or writes
 * them. Read the contents through buf_str() and buf_len(), as curl reads a
 * dynbuf through Curl_dyn_ptr()/Curl_dyn_len(), and set the cap through
 * buf_set_max(). */
#ifndef CTX_BUF_H
#define CTX_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include "core/ctx.h"

struct buf {
    char *p;       /* NUL-terminated contents, NULL while empty and unallocated */
    size_t len;
    size_t cap;    /* allocated bytes */
    size_t max;    /* 0 = unbounded, else the largest len allowed */
};

ctx_err buf_append(struct buf *b, const void *data, size_t len);
/* Room for `extra` more bytes without growing again (as buf_append() of
 * that many would make: CTX_ETOOBIG over the cap, the buffer as it was). */
ctx_err buf_reserve(struct buf *b, size_t extra);
ctx_err buf_puts(struct buf *b, const char *s);
ctx_err buf_putc(struct buf *b, char c);
ctx_err buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
ctx_err buf_vprintf(struct buf *b, const char *fmt, va_list ap);
const char *buf_str(const struct buf *b);   /* "" while empty, never NULL */
static inline size_t buf_len(const struct buf *b) { return b->len; }
void buf_reset(struct buf *b);              /* len = 0, keeps the memory */
char *buf_detach(struct buf *b);            /* caller frees; never NULL ("" when empty) */
void buf_free(struct buf *b);
void buf_truncate(struct buf *b, size_t len);   /* to len bytes, if longer; keeps the memory */
/* The cap: appends that would make the length exceed max fail with
 * CTX_ETOOBIG (0: unbounded, the default). Kept by buf_reset(),
 * buf_truncate(), buf_detach() and buf_free(). */
void buf_set_max(struct buf *b, size_t max);

#endif
