/* fuzz_rules.c -- libFuzzer harness for the .rules language (analyzer/rules.c):
 * the parser, the PCRE2 compile, the prefilter built from the patterns
 * (analyzer/prefilter.c) and the matcher.
 * Built and run by `make fuzz-smoke` (seeds, then 5 s; part of `make test`)
 * and `make fuzz` (FUZZ_SECONDS each); seeds: etc/rules,
 * tests/data/analyzer/rules and tests/fuzz/seeds/rules/.
 *
 * An input is a rules file, then optionally a NUL byte and a text (a rules
 * file with a NUL is an error anyway). analyzer_rules_load() takes a folder:
 * the file is written into a temporary folder made once per process (under
 * /dev/shm when there is one) and removed at exit. When it loads, the rules
 * are applied to the text (made valid UTF-8), or without one to a few fixed
 * texts and to the rules file itself, twice: with the prefilter and with
 * every pattern run over the whole text (RULES_NO_PREFILTER). rules.c
 * promises the same tags both ways; they must be equal unless a match hit a
 * PCRE2 limit. A failed load must come with "file:line:col: message". */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "analyzer/analyzer_internal.h"
#include "tests/fuzz/fuzz_folder.h"

static bool same_list(const struct strlist *a, const struct strlist *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return false;
    return true;
}

static void apply(const struct analyzer_rules *rs, const char *s, size_t len, const char *lang)
{
    size_t n;
    char *text = ctx_utf8_repair(s, len, &n);
    if (!text)
        abort();
    struct tags a = {0}, b = {0};
    unsigned long before = analyzer_rules_aborts(rs);
    ctx_err ea = analyzer_rules_apply(rs, text, n, lang, &a, NULL, NULL, 0);
    ctx_err eb = analyzer_rules_apply(rs, text, n, lang, &b, NULL, NULL, RULES_NO_PREFILTER);
    if (ea != eb)
        abort();
    if (analyzer_rules_aborts(rs) == before &&
        (!same_list(&a.brands, &b.brands) || !same_list(&a.topics, &b.topics) ||
         a.urgent != b.urgent)) {
        fprintf(stderr, "prefilter and full scan disagree on \"%s\"\n", text);
        abort();
    }
    tags_clear(&a);
    tags_clear(&b);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_folder("fuzz.rules");
    const uint8_t *nul = memchr(data, 0, size);
    size_t rlen = nul ? (size_t)(nul - data) : size;
    FILE *f = fopen(file, "wb");
    if (!f || fwrite(data, 1, rlen, f) != rlen || fclose(f))
        abort();
    struct analyzer_rules *rs = (struct analyzer_rules *)1;
    char err[512] = "";
    ctx_err rc = analyzer_rules_load(dir, &rs, err, sizeof err);
    if (rc != CTX_OK) {
        if (rs || (rc != CTX_EPARSE && rc != CTX_ENOMEM) || strncmp(err, file, strlen(file)))
            abort();
        return 0;
    }
    if (!rs)
        abort();
    if (nul) {
        apply(rs, (const char *)nul + 1, size - rlen - 1, NULL);
        apply(rs, (const char *)nul + 1, size - rlen - 1, "ru");
    } else {
        static const char *const texts[][2] = {
            {"Acme Corp is down again!!! #acme outage, refund please @AcmeSupport", "en"},
            {"Акме опять не работает, верните деньги", "ru"},
            {"the acme of perfection at Acme Acres; acme-cloud 500 error", NULL},
        };
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
            apply(rs, texts[i][0], strlen(texts[i][0]), texts[i][1]);
        apply(rs, (const char *)data, rlen, "en");
    }
    analyzer_rules_free(rs);
    return 0;
}
