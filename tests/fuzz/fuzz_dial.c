/* fuzz_dial.c -- libFuzzer harness for what ctxd reads from a dialer engine
 * and from customers: baresip's ctrl_tcp stream (netstring frames, each a
 * JSON message: dial/netstring.c, dial/baresip_event.c) and phone numbers
 * (dial/phone.c). Built and run by `make fuzz-smoke` and `make fuzz`;
 * seeds: tests/fuzz/seeds/dial/.
 *
 * The stream is read as the backend reads it, frame by frame from the
 * front; invariants: a frame never reaches past the input, a frame's
 * length is what its header says, every decoded message's leg token fits
 * its buffer. The whole input is also a phone number: an accepted one is
 * "+" and 8 to 15 digits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dial/dial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    size_t off = 0;
    for (;;) {
        const char *p;
        size_t n, used;
        int r = dial_netstring_get(in + off, size - off, 1 << 20, &p, &n, &used);
        if (r <= 0)
            break;
        if (used > size - off || p < in + off || p + n > in + size || n >= used)
            abort();
        off += used;
        struct dial_bs_msg m;
        json_t *root;
        if (dial_bs_decode(p, n, &m, &root) == CTX_OK) {
            char tok[64];
            if (m.peer && dial_leg_token(m.peer, tok, sizeof tok) && strlen(tok) >= sizeof tok)
                abort();
            dial_cause_parse(m.param);
            json_decref(root);
        }
    }
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    char out[DIAL_E164_LEN], why[200];
    if (dial_phone_e164(s, size & 1 ? "7" : NULL, out, why, sizeof why) == CTX_OK) {
        size_t len = strlen(out);
        if (out[0] != '+' || len < 9 || len > 16 || strspn(out + 1, "0123456789") != len - 1)
            abort();
    }
    free(s);
    return 0;
}
