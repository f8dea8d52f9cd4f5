/* bench_analyzer.c -- how fast the analyzer is, next to VADER's JS port.
 *
 * The corpus is short posts: the human-rated texts of VADER's ground truth
 * (movie and product snippets, English) and the Russian sentences of the
 * open sentiment corpus, repeated to --lines lines (1,000,000 by default)
 * in two files: "en" (the English texts) and "mix" (English and Russian in
 * their natural proportion, one Russian text in six). It prints:
 *
 *   1. analyzer_score() in process, one core: texts/s and MB/s on each file;
 *   2. analyzer_tag() (sentiment, language, UTF-8 check, rules) with 0, 100
 *      and 1,000 rules (bench/data/rules-100, rules-1000 from gen_rules.py);
 *   3. whole runs of `ctxctl analyze --score` and `ctxctl analyze` over the
 *      files (process start, lexicon and rule loading, I/O included), with
 *      the 1,000 rules loaded;
 *   4. the peers on the same texts, through bench/npm/peers.js: the
 *      `vader-sentiment` (VADER's JS port) and `sentiment` (AFINN) packages
 *      (on the unrepeated texts: the JS port takes minutes per million);
 *   5. with --verify, the prefilter's property on every corpus text: tags
 *      with the prefilter equal tags with every rule run (1,000 rules).
 *
 * --tag N prints only analyzer_tag() on mix with 1,000 rules, N runs, and
 * their median CPU figure (the measure; quick, and what to profile).
 *
 * Times are wall-clock, and CPU seconds are printed next to them: on a
 * shared machine the CPU figure is the one that says what one core does.
 *
 *   bench_analyzer [--corpora DIR] [--lexicons DIR] [--lines N] [--ctxctl PATH]
 *                  [--config FILE] [--no-peers] [--verify] [--tag N]
 *   bench_analyzer VADER_DIR [LEXICON_DIR [RULES_DIR]]     (the older form)
 *
 * defaults: ../shared/corpora, etc/lexicons, 1000000, bin/ctxctl,
 * etc/ctxd.json. Run from the repository root. Accuracy against the human
 * ratings is bench/accuracy.py. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "analyzer/analyzer.h"
#include "analyzer/analyzer_internal.h"

struct texts {
    char **v;
    size_t n, cap, bytes;
};

static void push(struct texts *t, char *s)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 4096;
        t->v = realloc(t->v, t->cap * sizeof *t->v);
        if (!t->v) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
    }
    t->v[t->n++] = s;
    t->bytes += strlen(s);
}

/* VADER ground truth: id<TAB>rating<TAB>text, CRLF. */
static int load_vader(const char *path, struct texts *t)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (t2 && t2[1])
            push(t, strdup(t2 + 1));
    }
    free(line);
    fclose(f);
    return 0;
}

/* Sentence,Sentiment CSV with "quoted" fields ("" inside); the sentence. */
static int load_ru(const char *path, struct texts *t)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int first = 1;
    while ((len = getline(&line, &cap, f)) >= 0) {
        if (first) {
            first = 0;
            continue;
        }
        char *out = malloc((size_t)len + 1), *o = out;
        const char *p = line;
        if (*p == '"') {
            for (p++; *p; p++) {
                if (*p == '"') {
                    if (p[1] == '"') {
                        *o++ = '"';
                        p++;
                        continue;
                    }
                    break;
                }
                *o++ = *p == '\n' || *p == '\r' ? ' ' : *p;
            }
        } else {
            while (*p && *p != ',' && *p != '\n')
                *o++ = *p++;
        }
        *o = '\0';
        if (*out)
            push(t, out);
        else
            free(out);
    }
    free(line);
    fclose(f);
    return 0;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double child_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void rate(const char *what, size_t n, size_t bytes, double w, double c)
{
    printf("  %-46s %9.0f texts/s %7.1f MB/s   (cpu: %9.0f texts/s %7.1f MB/s)\n", what,
           (double)n / w, (double)bytes / w / 1e6, (double)n / c, (double)bytes / c / 1e6);
}

/* The repeated corpus: lines of base until n lines. */
static struct texts repeat(const struct texts *base, size_t n)
{
    struct texts r = {0};
    r.v = malloc(n * sizeof *r.v);
    if (!r.v) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        r.v[i] = base->v[i % base->n];
        r.bytes += strlen(r.v[i]);
    }
    r.n = r.cap = n;
    return r;
}

static int write_lines(const char *path, const struct texts *t)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return -1;
    }
    for (size_t i = 0; i < t->n; i++) {
        fputs(t->v[i], f);
        fputc('\n', f);
    }
    return fclose(f);
}

static void bench_score(const analyzer *a, const char *name, const struct texts *t)
{
    double sink = 0, w0 = wall(), c0 = cpu();
    for (size_t i = 0; i < t->n; i++)
        sink += analyzer_score(a, t->v[i]);
    char what[128];
    snprintf(what, sizeof what, "analyzer_score, %s (%zu lines)", name, t->n);
    rate(what, t->n, t->bytes, wall() - w0, cpu() - c0);
    if (sink == 12345.678)
        puts("");
}

static double bench_tag(const analyzer *a, const char *name, const struct texts *t, size_t limit)
{
    size_t n = t->n < limit ? t->n : limit, bytes = 0, tags = 0;
    for (size_t i = 0; i < n; i++)      /* outside the timed loop */
        bytes += strlen(t->v[i]);
    double w0 = wall(), c0 = cpu();
    for (size_t i = 0; i < n; i++) {
        struct item it;
        struct tags tg = {0};
        item_init(&it);
        it.text = t->v[i];
        if (analyzer_tag(a, &it, &tg) == CTX_OK)
            tags += tg.topics.n + tg.brands.n + tg.urgent;
        tags_clear(&tg);
    }
    char what[128];
    snprintf(what, sizeof what, "analyzer_tag, %s (%zu lines, %.2f tags/text)", name, n,
             (double)tags / (double)n);
    double c = cpu() - c0;
    rate(what, n, bytes, wall() - w0, c);
    return (double)n / c;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void run_cmd(const char *what, const char *cmd, size_t n, size_t bytes)
{
    double w0 = wall(), c0 = child_cpu();
    int rc = system(cmd);
    double w = wall() - w0, c = child_cpu() - c0;
    if (rc != 0) {
        printf("  %-46s failed (%d): %s\n", what, rc, cmd);
        return;
    }
    rate(what, n, bytes, w, c);
}

static void run_peer(const char *which, const char *file)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "node bench/npm/peers.js speed %s %s", which, file);
    FILE *p = popen(cmd, "r");
    size_t n = 0, bytes = 0;
    double s = 0;
    if (!p || fscanf(p, "%zu %zu %lf", &n, &bytes, &s) != 3 || s <= 0) {
        printf("  %-46s could not run (npm ci in bench/npm?)\n", which);
        if (p)
            pclose(p);
        return;
    }
    pclose(p);
    char what[128];
    snprintf(what, sizeof what, "%s (node, %zu lines)",
             strcmp(which, "vader") == 0 ? "vader-sentiment, VADER's JS port" : "sentiment (AFINN)",
             n);
    printf("  %-46s %9.0f texts/s %7.1f MB/s\n", what, (double)n / s, (double)bytes / s / 1e6);
}

static analyzer *must_new(const char *lex, const char *rules)
{
    char err[512];
    analyzer *a = analyzer_new(lex, rules, err, sizeof err);
    if (!a) {
        fprintf(stderr, "bench_analyzer: %s\n", err);
        exit(1);
    }
    return a;
}

static int same_tags(const struct tags *x, const struct tags *y)
{
    if (x->urgent != y->urgent || x->topics.n != y->topics.n || x->brands.n != y->brands.n)
        return 0;
    for (size_t i = 0; i < x->topics.n; i++)
        if (strcmp(x->topics.v[i], y->topics.v[i]))
            return 0;
    for (size_t i = 0; i < x->brands.n; i++)
        if (strcmp(x->brands.v[i], y->brands.v[i]))
            return 0;
    return 1;
}

static int verify(const analyzer *a, const struct texts *t)
{
    size_t bad = 0, tags = 0;
    for (size_t i = 0; i < t->n; i++) {
        struct item it;
        struct tags x = {0}, y = {0};
        item_init(&it);
        it.text = t->v[i];
        analyzer_tag(a, &it, &x);
        analyzer_tag_unfiltered(a, &it, &y);
        tags += x.topics.n + x.brands.n;
        if (!same_tags(&x, &y)) {
            if (bad++ < 5)
                printf("  prefilter disagrees: %s\n", t->v[i]);
        }
        tags_clear(&x);
        tags_clear(&y);
    }
    printf("  prefilter vs every rule: %zu texts, %zu tags, %zu disagreements\n", t->n, tags,
           bad);
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *corpora = "../shared/corpora", *lex = "etc/lexicons", *ctxctl = "bin/ctxctl",
               *config = "etc/ctxd.json";
    size_t lines = 1000000;
    int peers = 1, do_verify = 0, npos = 0, tag_runs = 0, rc = 0;
    const char *pos[3] = {NULL, NULL, NULL};
    char vader_parent[4096];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--corpora") == 0 && i + 1 < argc)
            corpora = argv[++i];
        else if (strcmp(argv[i], "--lexicons") == 0 && i + 1 < argc)
            lex = argv[++i];
        else if (strcmp(argv[i], "--lines") == 0 && i + 1 < argc)
            lines = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--ctxctl") == 0 && i + 1 < argc)
            ctxctl = argv[++i];
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[++i];
        else if (strcmp(argv[i], "--no-peers") == 0)
            peers = 0;
        else if (strcmp(argv[i], "--verify") == 0)
            do_verify = 1;
        else if (strcmp(argv[i], "--tag") == 0 && i + 1 < argc)
            tag_runs = atoi(argv[++i]);
        else if (argv[i][0] != '-' && npos < 3)
            pos[npos++] = argv[i];     /* the old form: VADER_DIR [LEXICON_DIR [RULES_DIR]] */
        else {
            fprintf(stderr, "usage: bench_analyzer [--corpora DIR] [--lexicons DIR] [--lines N] "
                            "[--ctxctl PATH] [--config FILE] [--no-peers] [--verify] "
                            "[--tag N]\n");
            return 2;
        }
    }
    if (npos > 0) {
        snprintf(vader_parent, sizeof vader_parent, "%s/..", pos[0]);
        corpora = vader_parent;
    }
    if (npos > 1)
        lex = pos[1];
    if (lines < 1000)
        lines = 1000;
    char path[4096];
    struct texts en = {0}, ru = {0}, mixb = {0};
    snprintf(path, sizeof path, "%.3000s/vader/movieReviewSnippets_GroundTruth.txt", corpora);
    if (load_vader(path, &en) < 0)
        return 1;
    snprintf(path, sizeof path, "%.3000s/vader/amazonReviewSnippets_GroundTruth.txt", corpora);
    if (load_vader(path, &en) < 0)
        return 1;
    snprintf(path, sizeof path, "%.3000s/ru/opensentimentcorpus-dev.csv", corpora);
    if (load_ru(path, &ru) < 0)
        return 1;
    /* one Russian text after every five English ones, as long as they last */
    for (size_t i = 0, r = 0; i < en.n; i++) {
        push(&mixb, en.v[i]);
        if (i % 5 == 4 && r < ru.n)
            push(&mixb, ru.v[r++]);
    }
    printf("corpus: %zu English texts (%.1f bytes avg), %zu Russian (%.1f bytes avg); "
           "repeated to %zu lines\n",
           en.n, (double)en.bytes / (double)en.n, ru.n, (double)ru.bytes / (double)ru.n, lines);

    char dir[] = "/tmp/ctx-bench-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    struct texts ren = repeat(&en, lines), rmix = repeat(&mixb, lines);
    char fen[4200], fmix[4200], fbase[4200], fbase_en[4200];
    snprintf(fen, sizeof fen, "%s/en.txt", dir);
    snprintf(fmix, sizeof fmix, "%s/mix.txt", dir);
    snprintf(fbase, sizeof fbase, "%s/base.txt", dir);
    snprintf(fbase_en, sizeof fbase_en, "%s/base-en.txt", dir);
    if (write_lines(fen, &ren) || write_lines(fmix, &rmix) || write_lines(fbase, &mixb) ||
        write_lines(fbase_en, &en))
        return 1;

    double t0 = wall();
    analyzer *a0 = must_new(lex, NULL);
    printf("analyzer_new, lexicons only: %.1f ms\n", (wall() - t0) * 1e3);
    t0 = wall();
    analyzer *a1000 = must_new(lex, "bench/data/rules-1000");
    printf("analyzer_new, lexicons and 1,000 rules: %.1f ms\n", (wall() - t0) * 1e3);
    analyzer *a100 = must_new(lex, "bench/data/rules-100");

    if (tag_runs > 0) {
        size_t tl = lines < 300000 ? lines : 300000;
        double *r = malloc((size_t)tag_runs * sizeof *r);
        for (int k = 0; k < tag_runs; k++)
            r[k] = bench_tag(a1000, "mix, 1,000 rules", &rmix, tl);
        qsort(r, (size_t)tag_runs, sizeof *r, cmp_double);
        printf("analyzer_tag, mix, 1,000 rules: median of %d runs %.0f texts/s (cpu)\n",
               tag_runs, r[tag_runs / 2]);
        free(r);
        goto done;
    }

    printf("== in process, one core\n");
    bench_score(a0, "English", &ren);
    bench_score(a0, "mix", &rmix);
    bench_score(a0, "Russian only", &ru);
    size_t tag_lines = lines < 300000 ? lines : 300000;
    bench_tag(a0, "mix, 0 rules", &rmix, tag_lines);
    bench_tag(a100, "mix, 100 rules", &rmix, tag_lines);
    bench_tag(a1000, "mix, 1,000 rules", &rmix, tag_lines);
    bench_tag(a1000, "English, 1,000 rules", &ren, tag_lines);

    printf("== whole ctxctl runs (start, loading, I/O included), 1,000 rules loaded\n");
    char cmd[16384], what[128];
    if (access(ctxctl, X_OK) != 0) {
        printf("  %s missing: make it first\n", ctxctl);
    } else {
        const char *files[2] = {fen, fmix}, *names[2] = {"English", "mix"};
        const struct texts *tx[2] = {&ren, &rmix};
        for (int k = 0; k < 2; k++) {
            snprintf(cmd, sizeof cmd,
                     "%s -c %s analyze --score --lexicons %s --rules bench/data/rules-1000 "
                     "< %s > /dev/null",
                     ctxctl, config, lex, files[k]);
            snprintf(what, sizeof what, "ctxctl analyze --score, %s", names[k]);
            run_cmd(what, cmd, tx[k]->n, tx[k]->bytes);
        }
        static const char *const rsets[] = {NULL, "bench/data/rules-100", "bench/data/rules-1000"};
        static const char *const rnames[] = {"0 rules", "100 rules", "1,000 rules"};
        char small[4200];
        snprintf(small, sizeof small, "%s/mix-small.txt", dir);
        struct texts sm = rmix;
        sm.n = tag_lines;
        sm.bytes = 0;
        for (size_t i = 0; i < sm.n; i++)
            sm.bytes += strlen(sm.v[i]);
        write_lines(small, &sm);
        for (int k = 0; k < 3; k++) {
            snprintf(cmd, sizeof cmd, "%s -c %s analyze --lexicons %s --rules %s < %s > /dev/null",
                     ctxctl, config, lex, rsets[k] ? rsets[k] : dir, small);
            snprintf(what, sizeof what, "ctxctl analyze (JSON tags), mix, %s", rnames[k]);
            run_cmd(what, cmd, sm.n, sm.bytes);
        }
    }

    if (peers) {
        printf("== peers on the %zu unrepeated texts of mix\n", mixb.n);
        if (access("bench/npm/node_modules/vader-sentiment", F_OK) != 0 &&
            system("cd bench/npm && npm ci --no-audit --no-fund --silent >/dev/null 2>&1") != 0)
            printf("  (npm ci in bench/npm failed: peers skipped)\n");
        run_peer("vader", fbase);
        run_peer("afinn", fbase);
        bench_score(a0, "the same texts, once", &mixb);
        printf("== peers on the %zu English texts\n", en.n);
        run_peer("vader", fbase_en);
        run_peer("afinn", fbase_en);
        bench_score(a0, "the same texts, once", &en);
    }
    rc = 0;
    if (do_verify) {
        printf("== prefilter property, 1,000 rules\n");
        struct texts all = {0};
        for (size_t i = 0; i < en.n; i++)
            push(&all, en.v[i]);
        for (size_t i = 0; i < ru.n; i++)
            push(&all, ru.v[i]);
        rc = verify(a1000, &all);
        free(all.v);
    }

done:
    unlink(fen);
    unlink(fmix);
    unlink(fbase);
    unlink(fbase_en);
    snprintf(path, sizeof path, "%s/mix-small.txt", dir);
    unlink(path);
    rmdir(dir);
    analyzer_free(a0);
    analyzer_free(a100);
    analyzer_free(a1000);
    free(ren.v);
    free(rmix.v);
    free(mixb.v);
    for (size_t i = 0; i < en.n; i++)
        free(en.v[i]);
    for (size_t i = 0; i < ru.n; i++)
        free(ru.v[i]);
    free(en.v);
    free(ru.v);
    return rc;
}
