/* simhash.c -- near-duplicate fingerprints: 64-bit SimHash of word shingles.
 *
 * A retweet, a quote with "RT @someone:" in front, a complaint pasted into
 * three forums with a word changed: the same voice, and it should count
 * once. SimHash (Charikar 2002; Manku et al. 2007 for web pages) gives texts
 * 64-bit fingerprints that differ in few bits when the texts share most of
 * their word sequences:
 *
 *   1. normalise: lower case (the analyzer's case table), words are runs of
 *      letters and digits (anything else separates), and the words a repost
 *      adds or a link changes are dropped: "rt", "via", @handles, #tags keep
 *      their word, URLs (http..., www....) go;
 *   2. shingles: every run of 3 consecutive words (texts of 1 or 2 words
 *      use what they have), each hashed to 64 bits;
 *   3. for each bit position, count the shingles with the bit set against
 *      those without; the fingerprint has a 1 where the set ones win.
 *
 * Two texts are near-duplicates when their fingerprints differ in at most k
 * bits (analyzer_simhash_near; k = 3 is a good default for posts).
 * For lookups, analyzer_simhash_bands() cuts the fingerprint into four 16-bit
 * bands: two fingerprints within 3 bits agree on at least one band
 * (pigeonhole), so storing each fingerprint under its four band keys finds
 * every candidate with four exact lookups. Pure functions, no allocation. */
#include <string.h>
#include "analyzer/analyzer_internal.h"

#define SHINGLE 3

static uint64_t fnv_mix(uint64_t h, const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001B3ull;
    }
    return h;
}

static uint64_t finish(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x;
}

static int is_word_cp(uint32_t c)
{
    if (c < 0x80)
        return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
    if (analyzer_uc_case(c) != UC_NONE)
        return 1;
    /* scripts without case: count as letters, one word per run */
    return (c >= 0x590 && c <= 0x1FFF) || (c >= 0x3040 && c <= 0x9FFF) ||
           (c >= 0xAC00 && c <= 0xD7A3);
}

static void add_shingle(int32_t *v, uint64_t h)
{
    h = finish(h);
    for (int b = 0; b < 64; b++)
        v[b] += (h >> b) & 1 ? 1 : -1;
}

uint64_t analyzer_simhash(const analyzer *a, const char *text)
{
    (void)a;   /* the fingerprint does not depend on lexicons or rules */
    if (!text)
        return 0;
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text);
    int32_t v[64] = {0};
    uint64_t win[SHINGLE];      /* hashes of the last words */
    size_t nwords = 0;
    unsigned char w[256];
    size_t i = 0;
    while (i < len) {
        /* skip to the next token: a run of non-space bytes */
        while (i < len && (s[i] == ' ' || (s[i] >= 9 && s[i] <= 13)))
            i++;
        size_t a0 = i;
        while (i < len && !(s[i] == ' ' || (s[i] >= 9 && s[i] <= 13)))
            i++;
        size_t tl = i - a0;
        if (tl == 0)
            break;
        const unsigned char *t = s + a0;
        if ((tl >= 4 && (memcmp(t, "http", 4) == 0 || memcmp(t, "www.", 4) == 0)) ||
            t[0] == '@')
            continue;           /* links and handles change between copies */
        /* the words of the token */
        size_t k = 0;
        while (k < tl) {
            size_t wl = 0;
            while (k < tl) {
                size_t adv;
                uint32_t c = ctx_utf8_decode(t + k, tl - k, &adv);
                if (!is_word_cp(c)) {
                    k += adv;
                    if (wl)
                        break;
                    continue;
                }
                c = analyzer_uc_lower(c);
                if (c == 0x451)
                    c = 0x435;
                if (wl + 4 <= sizeof w) {
                    if (c < 0x80) {
                        w[wl++] = (unsigned char)c;
                    } else if (adv == 2 && c < 0x800) {
                        w[wl++] = (unsigned char)(0xC0 | (c >> 6));
                        w[wl++] = (unsigned char)(0x80 | (c & 0x3F));
                    } else {
                        memcpy(w + wl, t + k, adv);
                        wl += adv;
                    }
                }
                k += adv;
            }
            if (wl == 0)
                continue;
            if ((wl == 2 && memcmp(w, "rt", 2) == 0) || (wl == 3 && memcmp(w, "via", 3) == 0))
                continue;
            win[nwords % SHINGLE] = fnv_mix(0xCBF29CE484222325ull, w, wl);
            nwords++;
            if (nwords >= SHINGLE) {
                uint64_t h = 0;
                for (size_t j = nwords - SHINGLE; j < nwords; j++)
                    h = finish(h ^ win[j % SHINGLE]) + j - (nwords - SHINGLE);
                add_shingle(v, h);
            }
        }
    }
    if (nwords == 0)
        return 0;
    if (nwords < SHINGLE) {     /* a short text: the words it has, in order */
        uint64_t h = 0;
        for (size_t j = 0; j < nwords; j++)
            h = finish(h ^ win[j]) + j;
        add_shingle(v, h);
    }
    uint64_t out = 0;
    for (int b = 0; b < 64; b++)
        if (v[b] > 0)
            out |= 1ull << b;
    return out;
}

unsigned analyzer_simhash_distance(uint64_t x, uint64_t y)
{
    return (unsigned)__builtin_popcountll(x ^ y);
}

bool analyzer_simhash_near(uint64_t x, uint64_t y, unsigned k)
{
    return analyzer_simhash_distance(x, y) <= k;
}

void analyzer_simhash_bands(uint64_t h, uint32_t keys[ANALYZER_SIMHASH_BANDS])
{
    for (unsigned b = 0; b < ANALYZER_SIMHASH_BANDS; b++)
        keys[b] = (uint32_t)b << 16 | (uint32_t)((h >> (16 * b)) & 0xFFFF);
}
