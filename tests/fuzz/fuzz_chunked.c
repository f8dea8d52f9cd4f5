/* fuzz_chunked.c -- libFuzzer harness for the chunked request-body decoder
 * (ws/chunked.c), which reads bytes straight off a client's connection.
 * Built and run by `make fuzz-smoke` and `make fuzz`; seeds:
 * tests/fuzz/seeds/chunked/.
 *
 * The first input byte picks where the rest is cut into pieces (lws hands
 * a body over in pieces of any size). Invariants: the decoder's answer, and
 * (unless it is "too big") the bytes it took and the data it wrote, do
 * not depend on the cut; it never
 * takes more than it was given; the data is never longer than the input;
 * the cap (out->max) holds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/buf.h"
#include "ws/ws_internal.h"

#define CAP 4096

struct run {
    int rc;
    size_t used;
    struct buf out;
};

/* Feed in[0..len) in pieces of `step` bytes (0: all at once). */
static void decode(const uint8_t *in, size_t len, size_t step, struct run *r)
{
    struct chunked c = {0};
    memset(r, 0, sizeof *r);
    buf_set_max(&r->out, CAP);
    size_t off = 0;
    r->rc = CHUNKED_MORE;
    while (r->rc == CHUNKED_MORE && off < len) {
        size_t n = step && len - off > step ? step : len - off, used = 0;
        r->rc = chunked_feed(&c, (const char *)in + off, n, &r->out, &used);
        if (used > n)
            abort();
        off += used;
        if (r->rc == CHUNKED_MORE && used != n)
            abort();                    /* wanting more, it takes all it got */
    }
    r->used = off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] % 17;
    struct run whole, cut;
    decode(data + 1, size - 1, 0, &whole);
    decode(data + 1, size - 1, step ? step : 1, &cut);
    /* over the cap the request is refused (413): what was written by then
     * depends on the pieces, the answer does not */
    if (whole.rc != cut.rc)
        abort();
    if (whole.rc != CHUNKED_TOO_BIG &&
        (whole.used != cut.used || buf_len(&whole.out) != buf_len(&cut.out) ||
         memcmp(buf_str(&whole.out), buf_str(&cut.out), buf_len(&whole.out)) != 0))
        abort();
    if (buf_len(&whole.out) > size - 1 || buf_len(&whole.out) > CAP)
        abort();
    buf_free(&whole.out);
    buf_free(&cut.out);
    return 0;
}
