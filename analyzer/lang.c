/* lang.c -- a placeholder language guess by script.
 *
 * Counts letters by script and calls a text English when most letters are
 * Latin and Russian when most are Cyrillic; anything else (no letters, mixed,
 * other scripts) is unknown. This is deliberately crude: it only has to keep
 * Russian text away from the English sentiment lexicon and let rules say
 * "lang ru" until real detection arrives. */
#include "analyzer/analyzer_internal.h"

enum script { SC_NONE, SC_LATIN, SC_CYRILLIC, SC_OTHER };

static enum script script_of(uint32_t c)
{
    if (c < 0x80)
        return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ? SC_LATIN : SC_NONE;
    if (c < 0xC0)
        return SC_NONE;
    if (c <= 0x24F)
        return (c == 0xD7 || c == 0xF7) ? SC_NONE : SC_LATIN;
    if (c < 0x370)
        return SC_NONE;              /* IPA, modifiers, combining marks */
    if (c >= 0x400 && c <= 0x52F)
        return SC_CYRILLIC;
    if (c >= 0x1E00 && c <= 0x1EFF)
        return SC_LATIN;             /* Latin Extended Additional */
    if (c < 0x2000)
        return SC_OTHER;             /* Greek, Armenian, Hebrew, Arabic, Indic... */
    if ((c >= 0x3040 && c <= 0x30FF) || (c >= 0x3400 && c <= 0x9FFF) ||
        (c >= 0xAC00 && c <= 0xD7A3))
        return SC_OTHER;             /* kana, CJK, Hangul */
    return SC_NONE;                  /* punctuation, symbols, emoji */
}

const char *analyzer_lang_guess(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < len;) {
        if (s[i] < 0x80) {
            n[script_of(s[i])]++;
            i++;
            continue;
        }
        size_t adv;
        uint32_t c = analyzer_utf8_decode(s + i, len - i, &adv);
        n[script_of(c)]++;
        i += adv;
    }
    size_t letters = n[SC_LATIN] + n[SC_CYRILLIC] + n[SC_OTHER];
    if (letters == 0)
        return NULL;
    if (n[SC_LATIN] * 2 > letters)
        return "en";
    if (n[SC_CYRILLIC] * 2 > letters)
        return "ru";
    return NULL;
}
