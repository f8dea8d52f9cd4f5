/* chunked.c -- the chunked transfer coding of a request body (RFC 9112 7.1).
 *
 * libwebsockets 4.1.6 does not decode chunked request bodies: it hands a
 * POST without Content-Length to LWS_CALLBACK_HTTP_BODY as it comes,
 * framing and all, and expects 100 MB of it. api.c feeds those bytes here.
 * A state machine, bytes in and data out, no I/O: chunk extensions and
 * trailer fields are read and dropped; line ends are CRLF, strictly (a
 * lenient parser is how requests get smuggled past a proxy). */
#include "ws/ws_internal.h"

enum {
    CH_SIZE,            /* the first hex digit of a chunk size */
    CH_SIZE_MORE,       /* more digits, or what ends the size */
    CH_EXT,             /* a chunk extension, up to CR */
    CH_SIZE_LF,
    CH_DATA,
    CH_DATA_CR,
    CH_DATA_LF,
    CH_TRAILER,         /* the start of a trailer line, or the final CRLF */
    CH_TRAILER_LINE,
    CH_TRAILER_LF,
    CH_FINAL_LF,
    CH_DONE,
    CH_BAD,
};

#define MAX_SIZE_DIGITS 15      /* 60 bits: no overflow */
#define MAX_TRAILER 8192

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int chunked_feed(struct chunked *c, const char *in, size_t len, struct buf *out, size_t *used)
{
    size_t i = 0;
    while (i < len && c->state != CH_DONE && c->state != CH_BAD) {
        char ch = in[i];
        int h;
        switch (c->state) {
        case CH_SIZE:
        case CH_SIZE_MORE:
            if ((h = hexval(ch)) >= 0) {
                if (c->digits == MAX_SIZE_DIGITS && (c->left || h)) {
                    c->state = CH_BAD;          /* leading zeros are fine */
                    break;
                }
                if (c->left || h)
                    c->digits++;
                c->left = c->left * 16 + (unsigned)h;
                c->state = CH_SIZE_MORE;
            } else if (c->state == CH_SIZE) {
                c->state = CH_BAD;
            } else if (ch == ';' || ch == ' ' || ch == '\t') {
                c->state = CH_EXT;
            } else if (ch == '\r') {
                c->state = CH_SIZE_LF;
            } else {
                c->state = CH_BAD;
            }
            i++;
            break;
        case CH_EXT:
            if (ch == '\r')
                c->state = CH_SIZE_LF;
            else if (ch == '\n')
                c->state = CH_BAD;
            i++;
            break;
        case CH_SIZE_LF:
            c->state = ch != '\n' ? CH_BAD : c->left ? CH_DATA : CH_TRAILER;
            c->digits = 0;
            i++;
            break;
        case CH_DATA: {
            size_t n = len - i < c->left ? len - i : (size_t)c->left;
            if (buf_append(out, in + i, n)) {
                *used = i;
                return CHUNKED_TOO_BIG;
            }
            c->left -= n;
            i += n;
            if (!c->left)
                c->state = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
            c->state = ch == '\r' ? CH_DATA_LF : CH_BAD;
            i++;
            break;
        case CH_DATA_LF:
            c->state = ch == '\n' ? CH_SIZE : CH_BAD;
            i++;
            break;
        case CH_TRAILER:
            c->state = ch == '\r' ? CH_FINAL_LF : ch == '\n' ? CH_BAD : CH_TRAILER_LINE;
            c->trailer++;
            i++;
            break;
        case CH_TRAILER_LINE:
            if (ch == '\r')
                c->state = CH_TRAILER_LF;
            else if (ch == '\n')
                c->state = CH_BAD;
            if (++c->trailer > MAX_TRAILER)
                c->state = CH_BAD;
            i++;
            break;
        case CH_TRAILER_LF:
            c->state = ch == '\n' ? CH_TRAILER : CH_BAD;
            i++;
            break;
        case CH_FINAL_LF:
            c->state = ch == '\n' ? CH_DONE : CH_BAD;
            i++;
            break;
        }
    }
    *used = i;
    return c->state == CH_DONE ? CHUNKED_DONE : c->state == CH_BAD ? CHUNKED_BAD : CHUNKED_MORE;
}
