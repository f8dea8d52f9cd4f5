/* roles.h -- the roles ctxd runs besides collect (collectors/) and serve
 * (ws/): each starts on the shared loop and store and stops cleanly. */
#ifndef CTX_ROLES_H
#define CTX_ROLES_H

#include <uv.h>
#include "analyzer/analyzer.h"
#include "core/config.h"
#include "store/store.h"

struct analyze_role;
ctx_err analyze_role_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
                           const analyzer *an, struct analyze_role **out);
void analyze_role_stop(struct analyze_role *r);

#endif
