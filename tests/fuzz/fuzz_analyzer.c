/* fuzz_analyzer.c -- libFuzzer harness for analyzer_tag() and
 * analyzer_explain(): the tokenizer (handles, links, hashtag cutting, emoji
 * with their offsets), the complaint cues and the brand masks on any bytes.
 * Built and run by `make fuzz-smoke` (seeds, then 5 s; part of `make test`)
 * and `make fuzz` (FUZZ_SECONDS each); seeds in tests/fuzz/seeds/analyzer/.
 * Run from the repository root.
 *
 * Lexicons from etc/lexicons, rules and operator cues from
 * tests/data/analyzer/rules-complaint. Beyond the sanitizers it checks the
 * tags' invariants: scores in range, the label matching the score, reasons
 * only on complaints. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analyzer/analyzer.h"

static analyzer *an;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!an) {
        char err[512];
        an = analyzer_new("etc/lexicons", "tests/data/analyzer/rules-complaint", err, sizeof err);
        if (!an) {
            fprintf(stderr, "analyzer_new: %s\n", err);
            abort();
        }
    }
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct item it;
    item_init(&it);
    it.text = text;
    struct tags t = {0};
    if (analyzer_tag(an, &it, &t) == CTX_OK) {
        if (!(t.score >= -1.0 && t.score <= 1.0) || !(t.complaint_score >= 0.0 &&
                                                      t.complaint_score <= 1.0))
            abort();
        if (t.label != sentiment_label_of(t.score) || (!t.complaint && t.reasons.n))
            abort();
        tags_clear(&t);
    }
    json_t *ex = NULL;
    if (analyzer_explain(an, &it, &ex) == CTX_OK)
        json_decref(ex);
    free(text);
    return 0;
}
