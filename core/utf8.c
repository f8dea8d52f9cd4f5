/* utf8.c -- the one UTF-8 codec of the tree (see utf8.h). Valid means what
 * PCRE2 accepts: shortest forms, no surrogates, nothing past U+10FFFF. When
 * checking, eight bytes of ASCII and Cyrillic letters in any mix are stepped
 * over at a time, since most text is one or the other or words of one with
 * the spaces of the other; so are the last bytes, as the text's last eight
 * shifted down (a byte loop there missed some 2 branches a text). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/mem.h"
#include "core/utf8.h"

size_t ctx_utf8_seq_len(const unsigned char *s, size_t len)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0;
    if (c < 0xE0) {
        if (len < 2 || (s[1] & 0xC0) != 0x80)
            return 0;
        return 2;
    }
    if (c < 0xF0) {
        if (len < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && s[1] < 0xA0)
            return 0;                          /* overlong */
        if (c == 0xED && s[1] >= 0xA0)
            return 0;                          /* surrogate */
        return 3;
    }
    if (c < 0xF5) {
        if (len < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
            (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90)
            return 0;                          /* overlong */
        if (c == 0xF4 && s[1] >= 0x90)
            return 0;                          /* past U+10FFFF */
        return 4;
    }
    return 0;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* How many of the eight bytes w, from a character boundary, are whole
 * characters of ASCII and of U+0400..U+047F: 8 (all), 7 (all, but the last
 * is a lead whose continuation is the next byte), or 0 (something else: the
 * caller looks byte by byte). Text mixing ASCII and Cyrillic -- Russian
 * words and the spaces and punctuation between them -- passes eight bytes at
 * a time, with no branch on which byte is which. */
static inline size_t ascii_cyr8(uint64_t w)
{
    uint64_t high = w & HIGHS;
    if (!high)
        return 8;
    uint64_t up = w << 1;
    uint64_t cont = high & ~up, lead = high & up;          /* 10xxxxxx, 11xxxxxx */
    /* a lead other than D0 and D1 differs from D0 in bits 1..5; each
     * continuation right after a lead, each lead before one (a lead in the
     * last lane: its continuation is not here) */
    uint64_t other = (((w ^ ONES * 0xD0) & ONES * 0x3E) + ONES * 0x7E) & lead;
    if (other | (cont ^ (lead << 8)))
        return 0;
    return 8 - (size_t)(lead >> 63);
}
#define ASCII_CYR8 1
#else
#define ASCII_CYR8 0
#endif

size_t ctx_utf8_valid_prefix(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
#if ASCII_CYR8
        /* ASCII and Cyrillic letters eight bytes at a time */
        size_t k;
        uint64_t w;
        while (i + 8 <= len && (memcpy(&w, s + i, 8), k = ascii_cyr8(w)))
            i += k;
        if (i >= len)
            break;
        if (i + 8 > len && len >= 8) {
            /* the last bytes: the text's last eight shifted down, after
             * them zeros (ASCII, and no continuation for a lead) */
            memcpy(&w, s + len - 8, 8);
            if (ascii_cyr8(w >> 8 * (8 - (len - i))))
                break;
        }
#endif
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        if (s[i] >= 0xC2 && s[i] < 0xE0 && i + 1 < len && (s[i + 1] & 0xC0) == 0x80) {
            i += 2;
            continue;
        }
        size_t n = ctx_utf8_seq_len(s + i, len - i);
        if (!n)
            return i;
        i += n;
    }
    return len;
}

char *ctx_utf8_repair(const char *str, size_t len, size_t *outlen)
{
    const unsigned char *s = (const unsigned char *)str;
    /* at worst every byte becomes three */
    if (len > (SIZE_MAX - 1) / 3)
        ctx_oom(SIZE_MAX);
    char *out = ctx_malloc(len * 3 + 1);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = ctx_utf8_seq_len(s + i, len - i);
        if (n) {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

uint32_t ctx_utf8_decode(const unsigned char *s, size_t len, size_t *adv)
{
    size_t n = ctx_utf8_seq_len(s, len);
    switch (n) {
    case 1:
        *adv = 1;
        return s[0];
    case 2:
        *adv = 2;
        return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    case 3:
        *adv = 3;
        return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) |
               (s[2] & 0x3F);
    case 4:
        *adv = 4;
        return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
               ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
    default:
        *adv = 1;
        return 0xFFFD;
    }
}

ctx_err ctx_utf8_put(struct buf *b, uint32_t cp)
{
    unsigned char o[4];
    size_t n;
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        cp = CTX_UTF8_REPLACEMENT;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        o[0] = (unsigned char)(0xF0 | (cp >> 18));
        o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return buf_append(b, o, n);
}

ctx_err ctx_utf8_sanitize(const char *s, size_t len, struct buf *out, bool *bad)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    ctx_err e = CTX_OK;
    *bad = false;
    while (i < len) {
        if (u[i] >= 0x01 && u[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = u[i] ? ctx_utf8_seq_len(u + i, len - i) : 0;
        if (n) {
            i += n;
            continue;
        }
        *bad = true;
        if ((e = buf_append(out, s + run, i - run)) || (e = ctx_utf8_put(out, CTX_UTF8_REPLACEMENT)))
            return e;
        i += 1;
        run = i;
    }
    return buf_append(out, s + run, len - run);
}

