/* analyzer.h -- tagging: sentiment, brands, topics, urgency, language.
 *
 * Pure: an analyzer is built once from a lexicon folder and a rules folder,
 * is immutable afterwards, and analyzer_tag() reads nothing but its
 * arguments, so one analyzer may be shared by any number of callers. */
#ifndef CTX_ANALYZER_H
#define CTX_ANALYZER_H

#include <stddef.h>
#include "core/ctx.h"
#include "core/item.h"

typedef struct analyzer analyzer;

/* Load lexicons from lexicon_dir (vader_lexicon.txt, emoji_utf8_lexicon.txt)
 * and every *.rules file of rules_dir. On failure returns NULL and writes a
 * message naming the file, line and column into err. */
analyzer *analyzer_new(const char *lexicon_dir, const char *rules_dir,
                       char *err, size_t errlen);
void analyzer_free(analyzer *a);

/* Tag an item (title and text). *out must be zeroed or cleared; the caller
 * frees it with tags_clear(). */
ctx_err analyzer_tag(const analyzer *a, const struct item *it, struct tags *out);

/* Sentiment compound of one text in [-1, 1]. */
double analyzer_score(const analyzer *a, const char *text);

/* Check every *.rules file of dir; on error write "file:line:col: message"
 * into err and return CTX_EPARSE. */
ctx_err analyzer_rules_check(const char *dir, char *err, size_t errlen);

#endif
