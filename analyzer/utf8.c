/* utf8.c -- the little Unicode the analyzer needs beyond the codec, without
 * a locale: letter case for VADER's ALL-CAPS rule and for lower-casing
 * tokens, from a small table of the scripts that matter here rather than
 * from towlower(), whose answer depends on the process locale. The codec
 * itself (validation, repair, decoding) is core/utf8.c, shared with the
 * collectors. */
#include <stdlib.h>
#include <string.h>
#include "analyzer/analyzer_internal.h"

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
