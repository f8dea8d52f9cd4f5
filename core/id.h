/* id.h -- random ids: task ids, reply ids (the networks' idempotency keys),
 * chat resume keys, login tokens.
 *
 * An id is a prefix and 2 * nbytes lower-case hex digits from getrandom().
 * There is no fallback: an id that is not random (all zeros, a counter)
 * would make two replies one, so when the kernel cannot give randomness the
 * caller gets CTX_EIO and refuses the request. */
#ifndef CTX_ID_H
#define CTX_ID_H

#include <stddef.h>
#include "core/ctx.h"

#define CTX_ID_MAX_BYTES 32

/* prefix + hex of nbytes (<= CTX_ID_MAX_BYTES) random bytes into out;
 * CTX_EINVAL when it does not fit in outlen, CTX_EIO when getrandom fails. */
ctx_err ctx_random_id(const char *prefix, size_t nbytes, char *out, size_t outlen);

#endif
