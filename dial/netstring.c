/* netstring.c -- the framing of baresip's ctrl_tcp: "<len>:<bytes>,"
 * (D. J. Bernstein's netstrings), both ways.
 *
 * The reader is given whatever has arrived and takes one frame at a time
 * from its front, so a frame split across reads, or several in one read,
 * need nothing special from the caller. Anything that is not a netstring
 * (a length that is not digits, a leading zero, a length over the cap, a
 * missing ',') is an error and the caller drops the connection: there is
 * no way to find the next frame in a broken stream. */
#include <stdio.h>
#include "dial/dial.h"

void dial_netstring_put(struct buf *out, const char *data, size_t len)
{
    buf_printf(out, "%zu:", len);
    buf_append(out, data, len);
    buf_putc(out, ',');
}

int dial_netstring_get(const char *in, size_t len, size_t max, const char **payload,
                       size_t *plen, size_t *used)
{
    size_t i = 0, n = 0;
    while (i < len && in[i] >= '0' && in[i] <= '9') {
        if (i > 0 && in[0] == '0')
            return -1;                  /* "01:" is not a netstring */
        n = n * 10 + (size_t)(in[i] - '0');
        if (n > max)
            return -1;
        i++;
    }
    if (i == len)
        return i > 20 ? -1 : 0;         /* the length is still arriving */
    if (i == 0 || in[i] != ':')
        return -1;
    i++;
    if (len - i < n + 1)
        return 0;
    if (in[i + n] != ',')
        return -1;
    *payload = in + i;
    *plen = n;
    *used = i + n + 1;
    return 1;
}
