/* ctx.h -- the one error convention of Context Center.
 *
 * As in curl's CURLcode: every fallible function returns a ctx_err, results
 * travel through out-parameters, and ctx_strerror() turns a code into words.
 * A function that fails leaves no half-built state behind: whatever it
 * allocated into an out-parameter is freed and the out-parameter reset. */
#ifndef CTX_CTX_H
#define CTX_CTX_H

#include <stddef.h>

typedef enum {
    CTX_OK = 0,
    CTX_ENOMEM,      /* allocation failed */
    CTX_EINVAL,      /* bad argument or bad value */
    CTX_EPARSE,      /* input could not be parsed at all */
    CTX_EIO,         /* file or socket error */
    CTX_ETOOBIG,     /* input over a configured size cap */
    CTX_ENOTFOUND,   /* no such thing */
    CTX_ECONFIG,     /* configuration error */
    CTX_EREDIS,      /* Redis answered with an error or is away */
    CTX_EHTTP,       /* HTTP transfer failed */
    CTX_ERR_COUNT
} ctx_err;

const char *ctx_strerror(ctx_err e);

#define CTX_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
