/* utf8.c -- the little Unicode the analyzer needs, without a locale.
 *
 * Texts arrive from the network and may be anything. The rules matcher
 * wants valid UTF-8 (PCRE2 is called with PCRE2_NO_UTF_CHECK, so the text is
 * checked once here instead of once per match call), and the tokenizer needs
 * letter case for VADER's ALL-CAPS rule. Case is taken from a small table
 * of the scripts that matter here rather than from towlower(), whose answer
 * depends on the process locale. */
#include <stdlib.h>
#include <string.h>
#include "analyzer/analyzer_internal.h"

/* Length of the valid sequence starting at s, or 0 when it is invalid. */
static size_t seq_len(const unsigned char *s, size_t len)
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

size_t analyzer_utf8_valid_prefix(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        /* ASCII runs eight bytes at a time */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        /* two-byte letters (Cyrillic, Latin-1...) without the call, four
         * Cyrillic letters (D0 or D1, then a continuation byte) at a time */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if ((w & 0xC0FEC0FEC0FEC0FEull) != 0x80D080D080D080D0ull)
                break;
            i += 8;
        }
        if (i >= len)
            break;
#endif
        if (s[i] >= 0xC2 && s[i] < 0xE0 && i + 1 < len && (s[i + 1] & 0xC0) == 0x80) {
            i += 2;
            continue;
        }
        size_t n = seq_len(s + i, len - i);
        if (!n)
            return i;
        i += n;
    }
    return len;
}

char *analyzer_utf8_repair(const char *str, size_t len, size_t *outlen)
{
    const unsigned char *s = (const unsigned char *)str;
    /* at worst every byte becomes three */
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = seq_len(s + i, len - i);
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

uint32_t analyzer_utf8_decode(const unsigned char *s, size_t len, size_t *adv)
{
    size_t n = seq_len(s, len);
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

int analyzer_uc_case(uint32_t c)
{
    if (c < 0x80) {
        if (c >= 'A' && c <= 'Z')
            return UC_UPPER;
        if (c >= 'a' && c <= 'z')
            return UC_LOWER;
        return UC_NONE;
    }
    if (c < 0xC0)
        return (c == 0xAA || c == 0xB5 || c == 0xBA) ? UC_LOWER : UC_NONE;
    if (c <= 0xDE)
        return c == 0xD7 ? UC_NONE : UC_UPPER;
    if (c <= 0xFF)
        return c == 0xF7 ? UC_NONE : UC_LOWER;
    if (c <= 0x17F) {                         /* Latin Extended-A: pairs */
        if (c == 0x138 || c == 0x149 || c == 0x17F)
            return UC_LOWER;
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
            return (c & 1) ? UC_UPPER : UC_LOWER;
        if (c == 0x178)
            return UC_UPPER;
        return (c & 1) ? UC_LOWER : UC_UPPER;
    }
    if (c >= 0x391 && c <= 0x3AB)              /* Greek */
        return c == 0x3A2 ? UC_NONE : UC_UPPER;
    if (c >= 0x3AC && c <= 0x3CE)
        return UC_LOWER;
    if (c >= 0x400 && c <= 0x42F)              /* Cyrillic */
        return UC_UPPER;
    if (c >= 0x430 && c <= 0x45F)
        return UC_LOWER;
    if (c >= 0x460 && c <= 0x4FF) {            /* Cyrillic pairs */
        if (c >= 0x482 && c <= 0x489)
            return UC_NONE;
        if (c == 0x4C0)
            return UC_UPPER;
        if (c == 0x4CF)
            return UC_LOWER;
        if (c >= 0x4C1 && c <= 0x4CE)
            return (c & 1) ? UC_UPPER : UC_LOWER;
        return (c & 1) ? UC_LOWER : UC_UPPER;
    }
    return UC_NONE;
}

uint32_t analyzer_uc_lower(uint32_t c)
{
    if (c < 0x80)
        return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (analyzer_uc_case(c) != UC_UPPER)
        return c;
    if (c >= 0xC0 && c <= 0xDE)
        return c + 0x20;
    if (c == 0x178)
        return 0xFF;
    if (c == 0x130)                            /* İ lowers to two characters */
        return c;
    if (c >= 0x100 && c <= 0x17F)
        return c + 1;
    if (c >= 0x391 && c <= 0x3AB)
        return c + 0x20;
    if (c >= 0x400 && c <= 0x40F)
        return c + 0x50;
    if (c >= 0x410 && c <= 0x42F)
        return c + 0x20;
    if (c == 0x4C0)
        return 0x4CF;
    if (c >= 0x460 && c <= 0x4FF)
        return c + 1;
    return c;
}
