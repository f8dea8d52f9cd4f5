/* ws.h -- the serve role: HTTP API, static pages and websockets on one
 * port, libwebsockets running on the shared uv loop. */
#ifndef CTX_WS_H
#define CTX_WS_H

#include <uv.h>
#include "analyzer/analyzer.h"
#include "core/config.h"
#include "store/store.h"

struct serve;

/* an: the process's analyzer, for POST /api/analyze (*an may be replaced
 * by a rules reload between two requests). */
ctx_err serve_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
                    analyzer *const *an, struct serve **out);
/* Closes every connection; then run the loop so lws' handles can close,
 * and call serve_free(). */
void serve_stop(struct serve *s);
void serve_free(struct serve *s);

#endif
