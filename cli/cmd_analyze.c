/* cmd_analyze.c -- ctxctl analyze and ctxctl rules: the analyzer run
 * locally on the config's lexicons and rules, no daemon needed.
 *
 *   ctxctl analyze [--score | --explain] [--lexicons DIR] [--rules DIR]
 *       texts on stdin, one per line; one JSON tags object per line, or with
 *       --score the compound alone ("%.4f"), or with --explain one JSON
 *       object per line saying which words and rules gave the tags
 *       (analyzer_explain(), docs/analyzer.md)
 *   ctxctl rules check DIR   the first error as file:line:col: message
 *
 * --score is the throughput path of the benchmarks: stdin is read in large
 * blocks and scores are formatted by hand into one output buffer, so the
 * command costs little more than analyzer_score() itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <jansson.h>
#include "analyzer/analyzer.h"
#include "cli/cli.h"
#include "core/mem.h"

/* "%.4f" of x in [-1, 1], without printf. */
static size_t fmt_score(double x, char *o)
{
    size_t n = 0;
    long v = lround(x * 10000.0);
    if (v < 0) {
        o[n++] = '-';
        v = -v;
    }
    o[n++] = (char)('0' + v / 10000);
    o[n++] = '.';
    o[n++] = (char)('0' + v / 1000 % 10);
    o[n++] = (char)('0' + v / 100 % 10);
    o[n++] = (char)('0' + v / 10 % 10);
    o[n++] = (char)('0' + v % 10);
    o[n++] = '\n';
    return n;
}

/* Score every line of stdin; lines end with LF (a CR before it is dropped). */
static int score_stream(const analyzer *an)
{
    size_t cap = 1 << 20, len = 0;
    char *in = ctx_malloc(cap + 1);
    size_t ocap = 1 << 16, on = 0;
    char *out = ctx_malloc(ocap);
    for (;;) {
        size_t got = fread(in + len, 1, cap - len, stdin);
        len += got;
        int eof = got == 0;
        size_t start = 0;
        for (;;) {
            char *nl = memchr(in + start, '\n', len - start);
            if (!nl && !(eof && start < len))
                break;
            size_t end = nl ? (size_t)(nl - in) : len;
            size_t e = end;
            if (e > start && in[e - 1] == '\r')
                e--;
            char saved = in[e];
            in[e] = '\0';
            double x = analyzer_score(an, in + start);
            in[e] = saved;
            if (on + 16 > ocap) {
                fwrite(out, 1, on, stdout);
                on = 0;
            }
            on += fmt_score(x, out + on);
            start = nl ? end + 1 : len;
        }
        memmove(in, in + start, len - start);
        len -= start;
        if (eof)
            break;
        if (len == cap) {           /* a line longer than the buffer */
            in = ctx_realloc(in, cap * 2 + 1);
            cap *= 2;
        }
    }
    fwrite(out, 1, on, stdout);
    free(in);
    free(out);
    return 0;
}

int cmd_analyze(int argc, char **argv)
{
    bool score_only = false, explain = false;
    const char *lexicons = NULL, *rules = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--score") == 0) {
            score_only = true;
        } else if (strcmp(argv[i], "--explain") == 0) {
            explain = true;
        } else if (strcmp(argv[i], "--lexicons") == 0 && i + 1 < argc) {
            lexicons = argv[++i];
        } else if (strcmp(argv[i], "--rules") == 0 && i + 1 < argc) {
            rules = argv[++i];
        } else {
            fprintf(stderr, "ctxctl analyze: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (score_only && explain) {
        fprintf(stderr, "ctxctl analyze: --score and --explain do not go together\n");
        return 2;
    }
    char err[512];
    analyzer *an;
    if (lexicons && rules) {
        an = analyzer_new(lexicons, rules, err, sizeof err);
    } else {
        struct config *cfg = load_config();
        if (!cfg)
            return 2;
        an = analyzer_new(lexicons ? lexicons : cfg->lexicons, rules ? rules : cfg->rules, err,
                          sizeof err);
        config_free(cfg);
    }
    if (!an) {
        fprintf(stderr, "ctxctl: %s\n", err);
        return 2;
    }
    if (score_only) {
        int rc = score_stream(an);
        analyzer_free(an);
        return rc;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    struct item it;
    item_init(&it);
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        it.text = line;
        json_t *j = NULL;
        if (explain) {
            if (analyzer_explain(an, &it, &j) != CTX_OK) {
                printf("{\"error\":\"cannot tag\"}\n");
                continue;
            }
            json_t *tx = json_string(line);   /* NULL when not UTF-8 */
            json_object_set_new(j, "text", tx ? tx : json_null());
        } else {
            struct tags tags = {0};
            if (analyzer_tag(an, &it, &tags)) {
                printf("{\"error\":\"cannot tag\"}\n");
                continue;
            }
            j = tags_to_json(&tags);
            json_object_set_new(j, "lang", tags.lang ? json_string(tags.lang) : json_null());
            tags_clear(&tags);
        }
        char *s = json_dumps(j, CTX_JSON_FLAGS);
        puts(s ? s : "{}");
        free(s);
        json_decref(j);
    }
    it.text = NULL;
    free(line);
    unsigned long aborts = analyzer_match_aborts(an);
    if (aborts)
        fprintf(stderr, "ctxctl: %lu rule matches abandoned at a PCRE2 limit\n", aborts);
    analyzer_free(an);
    return 0;
}

int cmd_rules_check(int argc, char **argv)
{
    if (argc != 1)
        return cli_usage("rules check");
    char err[512];
    if (analyzer_rules_check(argv[0], err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("%s: ok\n", argv[0]);
    return 0;
}

