/* fuzz_cues.c -- libFuzzer harness for the complaint cues language (*.cues,
 * analyzer/complaint.c): the parser and the word trie it builds.
 * Built and run by `make fuzz-smoke` (seeds, then 5 s; part of `make test`)
 * and `make fuzz` (FUZZ_SECONDS each); seeds: etc/lexicons/complaints.cues,
 * tests/data/analyzer/rules-complaint/acme.cues and tests/fuzz/seeds/cues/.
 *
 * analyzer_cues_load() takes folders: the input is written as the one .cues
 * file of a temporary folder made once per process (under /dev/shm when
 * there is one) and removed at exit. When it loads, every word of the input
 * (lower-cased ASCII, split at spaces and punctuation) is looked up in the
 * trie, and every cue's reason and origin are read. A failed load must come
 * with "file:line:col: message" and nothing allocated. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "analyzer/analyzer_internal.h"
#include "tests/fuzz/fuzz_folder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_folder("fuzz.cues");
    FILE *f = fopen(file, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f))
        abort();
    const char *const dirs[] = {dir, NULL};
    struct analyzer_cues *c = (struct analyzer_cues *)1;
    char err[512] = "";
    ctx_err rc = analyzer_cues_load(dirs, &c, err, sizeof err);
    if (rc != CTX_OK) {
        if (c || (rc != CTX_EPARSE && rc != CTX_ENOMEM) || strncmp(err, file, strlen(file)))
            abort();
        return 0;
    }
    if (!c)
        abort();
    char word[64];
    size_t n = 0;
    for (size_t i = 0; i <= size; i++) {
        unsigned char ch = i < size ? data[i] : ' ';
        if (ch >= 0x80 || isalnum(ch) || ch == '\'' || ch == '-') {
            if (n < sizeof word)
                word[n++] = (char)tolower(ch);
            continue;
        }
        if (n && n < sizeof word) {
            uint16_t ids[TOK_CUE_IDS];
            uint8_t num = 0;
            unsigned k = analyzer_cues_word(c, word, n, ids, &num);
            if (k > TOK_CUE_IDS)
                abort();
            (void)analyzer_cues_is_word(c, word, n);
        }
        n = 0;
    }
    size_t count = analyzer_cues_count(c);
    for (size_t i = 0; i < count; i++) {
        const char *where = NULL, *src = NULL;
        int line = 0;
        analyzer_cues_where(c, (uint32_t)i, &where, &line, &src);
        if (!where || !src || line < 1)
            abort();
    }
    analyzer_cues_free(c);
    return 0;
}
