/* id.c -- random ids (see id.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include "core/id.h"

ctx_err ctx_random_id(const char *prefix, size_t nbytes, char *out, size_t outlen)
{
    unsigned char rnd[CTX_ID_MAX_BYTES];
    size_t plen = strlen(prefix);
    if (nbytes == 0 || nbytes > sizeof rnd || plen + 2 * nbytes + 1 > outlen)
        return CTX_EINVAL;
    size_t got = 0;
    while (got < nbytes) {
        ssize_t r = getrandom(rnd + got, nbytes - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return CTX_EIO;
        got += (size_t)r;
    }
    memcpy(out, prefix, plen);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < nbytes; i++) {
        out[plen + 2 * i] = hex[rnd[i] >> 4];
        out[plen + 2 * i + 1] = hex[rnd[i] & 15];
    }
    out[plen + 2 * nbytes] = '\0';
    return CTX_OK;
}
