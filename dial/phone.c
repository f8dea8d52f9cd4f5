/* phone.c -- phone numbers as people write them, to E.164, and the SIP
 * URI a number is dialled at.
 *
 * E.164 is "+", a country code and the subscriber number: 15 digits at
 * most. People write spaces, dashes, dots and parentheses, "00" for "+",
 * and national numbers with a trunk prefix ("8 495 ..." in Russia, "030 ..."
 * in Germany). Anything else (letters, a second "+") is refused with a
 * sentence that says what is wrong, since it is shown to the customer who
 * typed it. Pure: no locale, no allocation. */
#include <stdio.h>
#include <string.h>
#include "dial/dial.h"

#define MIN_DIGITS 8            /* a country code and a short subscriber number */
#define MAX_DIGITS 15

ctx_err dial_phone_e164(const char *in, const char *country_code, char out[DIAL_E164_LEN],
                        char *why, size_t whylen)
{
    char d[64];
    size_t n = 0, pos = 0;
    bool plus = false, any = false;
    out[0] = 0;
    for (const char *p = in ? in : ""; *p; p++, pos++) {
        unsigned char c = (unsigned char)*p;
        if (c >= '0' && c <= '9') {
            if (n + 1 >= sizeof d) {
                snprintf(why, whylen, "the number is too long; a full number has at most %d "
                         "digits", MAX_DIGITS);
                return CTX_EINVAL;
            }
            d[n++] = (char)c;
            any = true;
        } else if (c == '+' && !any && !plus) {
            plus = true;
        } else if (c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')' ||
                   c == '\t') {
            continue;
        } else {
            if (c >= 0x20 && c < 0x7f)
                snprintf(why, whylen, "'%c' at position %zu is not part of a phone number",
                         c, pos + 1);
            else
                snprintf(why, whylen, "the character at position %zu is not part of a phone "
                         "number", pos + 1);
            return CTX_EINVAL;
        }
    }
    d[n] = 0;
    if (n == 0) {
        snprintf(why, whylen, "the phone number is empty");
        return CTX_EINVAL;
    }
    const char *num = d;
    char full[80];
    if (!plus && n > 2 && d[0] == '0' && d[1] == '0') {
        num = d + 2;                        /* "00" is the international prefix */
    } else if (!plus) {
        if (!country_code || !*country_code) {
            snprintf(why, whylen, "the number must start with + and the country code "
                     "(+7 495 123-45-67)");
            return CTX_EINVAL;
        }
        const char *nat = d;
        if (nat[0] == '0' || (nat[0] == '8' && strcmp(country_code, "7") == 0))
            nat++;                          /* the national trunk prefix */
        snprintf(full, sizeof full, "%s%s", country_code, nat);
        num = full;
    }
    size_t len = strlen(num);
    if (num[0] == '0') {
        snprintf(why, whylen, "a country code does not start with 0");
        return CTX_EINVAL;
    }
    if (len < MIN_DIGITS) {
        snprintf(why, whylen, "the number has %zu digits; a full number with its country code "
                 "has %d to %d", len, MIN_DIGITS, MAX_DIGITS);
        return CTX_EINVAL;
    }
    if (len > MAX_DIGITS) {
        snprintf(why, whylen, "the number has %zu digits; a full number has at most %d", len,
                 MAX_DIGITS);
        return CTX_EINVAL;
    }
    out[0] = '+';
    memcpy(out + 1, num, len + 1);
    return CTX_OK;
}

ctx_err dial_uri(const char *tmpl, const char *e164, char *out, size_t outlen)
{
    size_t o = 0;
    const char *digits = e164[0] == '+' ? e164 + 1 : e164;
    for (const char *p = tmpl; *p;) {
        const char *put = NULL;
        size_t skip = 1, plen = 1;
        if (strncmp(p, "{digits}", 8) == 0) {
            put = digits;
            skip = 8;
        } else if (strncmp(p, "{e164}", 6) == 0) {
            put = e164;
            skip = 6;
        }
        if (put)
            plen = strlen(put);
        else
            put = p;
        if (o + plen + 1 > outlen)
            return CTX_ETOOBIG;
        memcpy(out + o, put, plen);
        o += plen;
        p += skip;
    }
    if (o + 1 > outlen)
        return CTX_ETOOBIG;
    out[o] = 0;
    return CTX_OK;
}
