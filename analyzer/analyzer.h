/* analyzer.h -- tagging: sentiment, brands, topics, urgency, language,
 * explanations and near-duplicate fingerprints.
 *
 * Pure: an analyzer is built once from a lexicon folder and a rules folder,
 * is immutable afterwards, and analyzer_tag() reads nothing but its
 * arguments, so one analyzer may be shared by any number of callers. There
 * is no global state: several analyzers may live side by side, which is how
 * rules are reloaded (build a new one with analyzer_new() on the folders,
 * swap it in between items, analyzer_free() the old one once nothing uses
 * it). See docs/analyzer.md. */
#ifndef CTX_ANALYZER_H
#define CTX_ANALYZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/ctx.h"
#include "core/item.h"

typedef struct analyzer analyzer;

/* Load lexicons from lexicon_dir (vader_lexicon.txt, emoji_utf8_lexicon.txt,
 * and the optional Russian, English and emoji supplements), every *.rules
 * file of rules_dir, and the complaint cues of every *.cues file of both. On failure returns NULL and writes a
 * message naming the file, line and column into err. */
analyzer *analyzer_new(const char *lexicon_dir, const char *rules_dir,
                       char *err, size_t errlen);
/* One more holder: analyzer_free() frees it when the last one lets go, so
 * an analyzer lent to a worker thread outlives a reload that replaces it.
 * The count is not atomic: take and drop references on one thread (ctxd's
 * loop); tagging itself may run on any thread. */
analyzer *analyzer_ref(analyzer *a);
void analyzer_free(analyzer *a);

/* Tag an item (title and text). *out must be zeroed or cleared; the caller
 * frees it with tags_clear(). */
ctx_err analyzer_tag(const analyzer *a, const struct item *it, struct tags *out);

/* Sentiment compound of one text in [-1, 1]. */
double analyzer_score(const analyzer *a, const char *text);

/* Check every *.rules and *.cues file of dir; on error write
 * "file:line:col: message" into err and return CTX_EPARSE. */
ctx_err analyzer_rules_check(const char *dir, char *err, size_t errlen);

/* Every match abandoned because a PCRE2 limit was hit (a careless or hostile
 * pattern), since analyzer_new(). The daemon logs increases. */
unsigned long analyzer_match_aborts(const analyzer *a);

/* The language analyzer_tag() would set for this text: "en", "ru", "uk",
 * "de", "fr", "es", or NULL when unknown. A static string. */
const char *analyzer_lang(const analyzer *a, const char *text);

/* Why an item got its tags, as JSON (new reference in *out, the caller
 * decrefs): the tags, the language, every word that moved the sentiment
 * (with its lexicon valence, its final score, and the modifiers that
 * applied: negated_by, boost, caps, weight for contrast and irrealis,
 * idiom...), and every rule that fired (kind, name, weight, the pattern,
 * "file:line" and what it matched). Format in docs/analyzer.md. */
ctx_err analyzer_explain(const analyzer *a, const struct item *it, json_t **out);

/* ---- near-duplicates ----------------------------------------------------
 * A 64-bit SimHash of the text's word 3-shingles (lower case, links,
 * @handles, "RT" and "via" left out). Texts that differ in a few words get
 * fingerprints that differ in a few bits: near-duplicates are within k = 3
 * bits (ANALYZER_SIMHASH_K). To find candidates among many stored
 * fingerprints, store each under its four band keys and look the four keys of
 * a new one up: fingerprints within 3 bits share at least one band.
 * a may be NULL (the fingerprint depends on the text only). 0 for a text
 * without words. */
#define ANALYZER_SIMHASH_K     3
#define ANALYZER_SIMHASH_BANDS 4
uint64_t analyzer_simhash(const analyzer *a, const char *text);
/* Bits that differ. */
unsigned analyzer_simhash_distance(uint64_t x, uint64_t y);
/* Near-duplicates: at most k bits differ. */
bool analyzer_simhash_near(uint64_t x, uint64_t y, unsigned k);
/* The band keys: keys[b] = b << 16 | bits 16b..16b+15 of h (so keys of
 * different bands never collide). */
void analyzer_simhash_bands(uint64_t h, uint32_t keys[ANALYZER_SIMHASH_BANDS]);

#endif
