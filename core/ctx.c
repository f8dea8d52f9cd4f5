/* ctx.c -- messages for ctx_err codes. */
#include "core/ctx.h"

static const char *const messages[CTX_ERR_COUNT] = {
    [CTX_OK] = "ok",
    [CTX_ENOMEM] = "out of memory",
    [CTX_EINVAL] = "invalid argument",
    [CTX_EPARSE] = "cannot parse input",
    [CTX_EIO] = "input/output error",
    [CTX_ETOOBIG] = "input too large",
    [CTX_ENOTFOUND] = "not found",
    [CTX_ECONFIG] = "configuration error",
    [CTX_EREDIS] = "redis error",
    [CTX_EHTTP] = "http error",
};

const char *ctx_strerror(ctx_err e)
{
    if ((unsigned)e >= CTX_ERR_COUNT)
        return "unknown error";
    return messages[e];
}
