/* bench_analyzer.c -- speed and agreement of analyzer_score().
 *
 * Reads VADER's human-rated snippets (id<TAB>mean rating -4..4<TAB>text,
 * CRLF), scores every text, and prints:
 *   - throughput over the movie snippets (texts/s, MB/s, one core), taking
 *     the best of several passes of at least half a second each;
 *   - Pearson r of compound against the human mean, per file (the VADER
 *     JavaScript port is quoted at 0.418 on movies, 0.572 on Amazon);
 *   - 3-class macro F1: humans split at +-0.5, compound at +-0.05.
 *
 *   - the same for analyzer_tag() with the sample rules (sentiment, language
 *     guess, UTF-8 check and every rule's patterns).
 *
 *   bench_analyzer [CORPUS_DIR [LEXICON_DIR [RULES_DIR]]]
 *   defaults: ../shared/corpora/vader, etc/lexicons, etc/rules */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "analyzer/analyzer.h"

struct corpus {
    char **text;
    double *human;
    size_t n, bytes;
};

static int load(const char *path, struct corpus *c)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, vcap = 0;
    ssize_t len;
    memset(c, 0, sizeof *c);
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2)
            continue;
        if (c->n == vcap) {
            vcap = vcap ? vcap * 2 : 1024;
            c->text = realloc(c->text, vcap * sizeof *c->text);
            c->human = realloc(c->human, vcap * sizeof *c->human);
            if (!c->text || !c->human) {
                fprintf(stderr, "out of memory\n");
                exit(1);
            }
        }
        c->human[c->n] = strtod(t1 + 1, NULL);
        c->text[c->n] = strdup(t2 + 1);
        c->bytes += strlen(t2 + 1);
        c->n++;
    }
    free(line);
    fclose(f);
    return 0;
}

static void corpus_free(struct corpus *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->text[i]);
    free(c->text);
    free(c->human);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cls(double x, double t)
{
    return x >= t ? 0 : x <= -t ? 1 : 2;      /* positive, negative, neutral */
}

static void agreement(const analyzer *a, const char *name, const struct corpus *c)
{
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    size_t conf[3][3] = {{0}};                /* [human][ours] */
    for (size_t i = 0; i < c->n; i++) {
        double x = analyzer_score(a, c->text[i]), y = c->human[i];
        sx += x;
        sy += y;
        sxx += x * x;
        syy += y * y;
        sxy += x * y;
        conf[cls(y, 0.5)][cls(x, 0.05)]++;
    }
    double n = (double)c->n;
    double r = (n * sxy - sx * sy) / sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
    double f1sum = 0;
    for (int k = 0; k < 3; k++) {
        double tp = (double)conf[k][k], fp = 0, fn = 0;
        for (int j = 0; j < 3; j++)
            if (j != k) {
                fp += (double)conf[j][k];
                fn += (double)conf[k][j];
            }
        double p = tp + fp > 0 ? tp / (tp + fp) : 0, rc = tp + fn > 0 ? tp / (tp + fn) : 0;
        f1sum += p + rc > 0 ? 2 * p * rc / (p + rc) : 0;
    }
    printf("%-8s n=%-6zu pearson_r=%.3f  macro_f1=%.3f  (peer: VADER JS port r=%s)\n", name,
           c->n, r, f1sum / 3, strcmp(name, "movie") == 0 ? "0.418" : "0.572");
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared/corpora/vader";
    const char *lex = argc > 2 ? argv[2] : "etc/lexicons";
    const char *rules = argc > 3 ? argv[3] : "etc/rules";
    char err[512], path[4096];
    double t0 = now();
    analyzer *a = analyzer_new(lex, NULL, err, sizeof err);
    if (!a) {
        fprintf(stderr, "bench_analyzer: %s\n", err);
        return 1;
    }
    printf("analyzer_new: %.1f ms\n", (now() - t0) * 1e3);

    struct corpus movie, amazon;
    snprintf(path, sizeof path, "%s/movieReviewSnippets_GroundTruth.txt", dir);
    if (load(path, &movie) < 0)
        return 1;
    snprintf(path, sizeof path, "%s/amazonReviewSnippets_GroundTruth.txt", dir);
    if (load(path, &amazon) < 0)
        return 1;

    double best = 1e30, sink = 0;
    for (int pass = 0; pass < 5; pass++) {
        size_t rounds = 0;
        double start = now(), el;
        do {
            for (size_t i = 0; i < movie.n; i++)
                sink += analyzer_score(a, movie.text[i]);
            rounds++;
        } while ((el = now() - start) < 0.5);
        if (el / (double)rounds < best)
            best = el / (double)rounds;
    }
    printf("analyzer_score on %zu movie snippets (%.1f bytes avg): %.0f texts/s, %.1f MB/s"
           " (checksum %.3f)\n",
           movie.n, (double)movie.bytes / (double)movie.n, (double)movie.n / best,
           (double)movie.bytes / best / 1e6, sink);

    analyzer *ar = analyzer_new(lex, rules, err, sizeof err);
    if (!ar) {
        fprintf(stderr, "bench_analyzer: %s\n", err);
        return 1;
    }
    best = 1e30;
    size_t tagged = 0;
    for (int pass = 0; pass < 3; pass++) {
        size_t rounds = 0;
        double start = now(), el;
        do {
            for (size_t i = 0; i < movie.n; i++) {
                struct item it;
                struct tags t = {0};
                item_init(&it);
                it.text = movie.text[i];
                if (analyzer_tag(ar, &it, &t) == CTX_OK)
                    tagged += t.topics.n + t.brands.n + t.urgent;
                tags_clear(&t);
            }
            rounds++;
        } while ((el = now() - start) < 0.5);
        if (el / (double)rounds < best)
            best = el / (double)rounds;
    }
    printf("analyzer_tag with %s: %.0f texts/s, %.1f MB/s (tags %zu)\n", rules,
           (double)movie.n / best, (double)movie.bytes / best / 1e6, tagged);
    analyzer_free(ar);

    agreement(a, "movie", &movie);
    agreement(a, "amazon", &amazon);

    corpus_free(&movie);
    corpus_free(&amazon);
    analyzer_free(a);
    return 0;
}
