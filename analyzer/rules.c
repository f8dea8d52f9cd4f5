/* rules.c -- the .rules language (docs/rules.md) and its PCRE2 matcher.
 *
 * A rules file is a list of blocks. A header line names a rule, directive
 * lines below it give its patterns and options:
 *
 *     brand acme
 *       match   \bacme(corp)?\b
 *       exclude \bacme\s+acres\b
 *       lang    en, ru
 *       weight  2
 *
 * Patterns are compiled once, with PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS
 * (so \b and \w know Cyrillic and case does not matter unless the pattern
 * says (?-i)), and JIT-compiled when the platform allows. Matching shares one
 * match context that bounds the work of a single match (match, depth and
 * heap limits); a match that hits a limit is abandoned, counted, and treated
 * as no match, so one pathological pattern cannot stall the analyzer.
 *
 * A rule fires when one of its "match" patterns matches somewhere that no
 * "exclude" pattern covers (an exclude cancels the occurrences it overlaps,
 * not the whole text), and no "veto" pattern matches anywhere. The text is
 * valid UTF-8 by contract: analyzer.c checks or repairs it once per item and
 * every match here runs with PCRE2_NO_UTF_CHECK.
 *
 * With many rules, the prefilter (prefilter.c) does most of the work: one
 * pass over the words of the text says which patterns (match, exclude and
 * veto) can match at all, and for most of them where a match can start.
 * Only the rules with a candidate match pattern run; a pattern is tried at
 * its reported starts only (PCRE2_ANCHORED), or decided by the prefilter
 * without PCRE2 when it is a plain set of words or a phrase of such sets
 * and white space; excludes and vetoes that cannot match are not run. The
 * results are those of searching every
 * pattern over the whole text (RULES_NO_PREFILTER does that, for tests).
 * One match data per thread is kept between calls; it carries nothing from
 * one call to the next.
 *
 * Errors name the place: "file:line:col: message", where col is the 1-based
 * byte column in the line (for a bad pattern, where PCRE2 stopped). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analyzer/analyzer_internal.h"

#define MATCH_LIMIT     200000     /* backtracking steps per match call */
#define DEPTH_LIMIT     10000      /* interpreter only; JIT uses its stack */
#define HEAP_LIMIT_KIB  8192
#define MAX_OCCURRENCES 256        /* per pattern and text */
#define MAX_LANGS       8
#define MAX_WEIGHT      1000000.0
#define LOCAL_HITS      256        /* prefilter hits kept on the stack */
#define UNSORTED_HITS   64         /* more hits than this are sorted */
#define HIT_BUCKETS     256        /* chains of unsorted hits by pattern id */
#define HIT_BUCKETS_MASK (HIT_BUCKETS - 1)

enum rule_kind { RK_BRAND, RK_TOPIC, RK_URGENT };
static const char *const kind_names[] = {"brand", "topic", "urgent"};

/* The fields matching reads come first (in struct rule too): a candidate
 * rule then costs one cache line before its patterns. */
struct pat_list {
    pcre2_code **v;
    size_t n;
    uint32_t first_id;         /* prefilter id of v[0]; the others follow */
    char **src;                /* the pattern as written */
    int *line;                 /* where */
    size_t cap;
};

struct rule {                  /* what a text's rules read first, first */
    enum rule_kind kind;
    int shared;                /* another rule adds the same name to the same list */
    double weight;
    unsigned nlangs;
    int has_weight;
    int plain;                 /* no exclude, no veto: rule_fires()'s short path, known
                                  without reading the lists (another cache line) */
    char *name;
    struct pat_list match;
    struct pat_list exclude, veto;
    char langs[MAX_LANGS][4];
    size_t seq;                /* definition order, for a stable sort */
    int line;                  /* header line */
    size_t file;               /* index into analyzer_rules.files */
};

struct analyzer_rules {
    struct rule *v;
    size_t n, cap;
    char **files;              /* the files read, NULL-terminated */
    struct analyzer_prefilter *pf;   /* ids: the match patterns, numbered rule by
                                        rule, then the excludes and vetoes */
    uint32_t npats, nmatch;
    uint32_t *pat_rule;        /* match pattern id -> index into v */
    uint8_t *lead;             /* per pattern id: the prefilter reports where its
                                  matches can start */
    pcre2_match_context *mctx;
    uint32_t ovec;             /* largest ovector any pattern needs */
    unsigned long aborts;      /* updated atomically by const callers */
};

/* ---- building ----------------------------------------------------------- */

static void pat_list_free(struct pat_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        pcre2_code_free(l->v[i]);
        free(l->src[i]);
    }
    free(l->v);
    free(l->src);
    free(l->line);
    memset(l, 0, sizeof *l);
}

static void pat_list_add(struct pat_list *l, pcre2_code *re, const char *src, size_t len,
                         int line)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 2;
        l->v = ctx_realloc(l->v, cap * sizeof *l->v);
        l->src = ctx_realloc(l->src, cap * sizeof *l->src);
        l->line = ctx_realloc(l->line, cap * sizeof *l->line);
        l->cap = cap;
    }
    l->src[l->n] = ctx_strndup(src, len);
    l->line[l->n] = line;
    l->v[l->n++] = re;
}

static void rule_free(struct rule *r)
{
    free(r->name);
    pat_list_free(&r->match);
    pat_list_free(&r->exclude);
    pat_list_free(&r->veto);
}

void analyzer_rules_free(struct analyzer_rules *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n; i++)
        rule_free(&rs->v[i]);
    free(rs->v);
    for (size_t i = 0; rs->files && rs->files[i]; i++)
        free(rs->files[i]);
    free(rs->files);
    free(rs->pat_rule);
    free(rs->lead);
    analyzer_prefilter_free(rs->pf);
    pcre2_match_context_free(rs->mctx);
    free(rs);
}

unsigned long analyzer_rules_aborts(const struct analyzer_rules *rs)
{
    return rs ? __atomic_load_n(&rs->aborts, __ATOMIC_RELAXED) : 0;
}

size_t analyzer_rules_count(const struct analyzer_rules *rs)
{
    return rs ? rs->n : 0;
}

/* ---- parsing ------------------------------------------------------------ */

struct parser {
    struct analyzer_rules *rs;
    pcre2_compile_context *cctx;
    const char *path;
    size_t file;
    int line;
    struct rule *cur;          /* rs->v[rs->n - 1] while a block is open */
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int perr(struct parser *p, size_t col, const char *fmt, ...)
{
    int n = snprintf(p->err, p->errlen, "%s:%d:%zu: ", p->path, p->line, col);
    if (n >= 0 && (size_t)n < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.';
}

/* Close the open block: it must have a match pattern. */
static int finish_rule(struct parser *p)
{
    struct rule *r = p->cur;
    p->cur = NULL;
    if (r && r->match.n == 0) {
        int line = p->line;
        p->line = r->line;
        perr(p, 1, "%s '%s' has no 'match' pattern", kind_names[r->kind], r->name);
        p->line = line;
        return -1;
    }
    return 0;
}

static int start_rule(struct parser *p, enum rule_kind kind, const char *line, const char *arg,
                      size_t arglen)
{
    if (finish_rule(p) < 0)
        return -1;
    size_t col = (size_t)(arg - line) + 1;
    if (arglen == 0)
        return perr(p, col, "%s needs a name", kind_names[kind]);
    for (size_t i = 0; i < arglen; i++)
        if (!name_char(arg[i]))
            return perr(p, col + i,
                        "bad character in name (use letters, digits, '-', '_' and '.')");
    struct analyzer_rules *rs = p->rs;
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 16;
        rs->v = ctx_realloc(rs->v, rs->cap * sizeof *rs->v);
    }
    struct rule *r = &rs->v[rs->n];
    memset(r, 0, sizeof *r);
    r->name = ctx_strndup(arg, arglen);
    r->kind = kind;
    r->weight = 1.0;
    r->seq = rs->n;
    r->line = p->line;
    r->file = p->file;
    rs->n++;
    p->cur = r;
    return 0;
}

static int add_pattern(struct parser *p, struct pat_list *l, const char *line, const char *pat,
                       size_t patlen)
{
    size_t col = (size_t)(pat - line) + 1;
    if (patlen == 0)
        return perr(p, col, "empty pattern");
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, patlen,
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS |
                                       PCRE2_NEVER_BACKSLASH_C,
                                   &code, &off, p->cctx);
    if (!re) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(code, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "PCRE2 error %d", code);
        return perr(p, col + off, "%s", (const char *)msg);
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);   /* the interpreter if JIT is missing */
    uint32_t captures = 0;
    pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &captures);
    if (captures + 1 > p->rs->ovec)
        p->rs->ovec = captures + 1;
    pat_list_add(l, re, pat, patlen, p->line);
    return 0;
}

static int set_weight(struct parser *p, const char *line, const char *arg, size_t arglen)
{
    size_t col = (size_t)(arg - line) + 1;
    if (p->cur->has_weight)
        return perr(p, col, "weight given twice");
    char tmp[64];
    if (arglen == 0 || arglen >= sizeof tmp)
        return perr(p, col, "weight needs a number");
    memcpy(tmp, arg, arglen);
    tmp[arglen] = '\0';
    char *end;
    errno = 0;
    double w = strtod(tmp, &end);
    if (errno || end == tmp || *end || !isfinite(w) || w < 0 || w > MAX_WEIGHT)
        return perr(p, col, "weight must be a number from 0 to %g", MAX_WEIGHT);
    p->cur->weight = w;
    p->cur->has_weight = 1;
    return 0;
}

static int add_langs(struct parser *p, const char *line, const char *arg, size_t arglen)
{
    struct rule *r = p->cur;
    const char *s = arg, *end = arg + arglen;
    if (arglen == 0)
        return perr(p, (size_t)(arg - line) + 1, "lang needs language codes");
    while (s < end) {
        while (s < end && (is_blank(*s) || *s == ','))
            s++;
        if (s == end)
            break;
        const char *w = s;
        while (s < end && !is_blank(*s) && *s != ',')
            s++;
        size_t n = (size_t)(s - w), col = (size_t)(w - line) + 1;
        for (size_t i = 0; i < n; i++)
            if (w[i] < 'a' || w[i] > 'z')
                return perr(p, col + i, "language codes are 2 or 3 lower-case letters");
        if (n < 2 || n > 3)
            return perr(p, col, "language codes are 2 or 3 lower-case letters");
        if (r->nlangs == MAX_LANGS)
            return perr(p, col, "more than %d languages", MAX_LANGS);
        memcpy(r->langs[r->nlangs], w, n);
        r->langs[r->nlangs][n] = '\0';
        r->nlangs++;
    }
    return 0;
}

static int parse_line(struct parser *p, const char *line, size_t len)
{
    const char *s = line, *end = line + len;
    while (s < end && is_blank(*s))
        s++;
    if (s == end || *s == '#')
        return 0;
    const char *kw = s;
    while (s < end && !is_blank(*s))
        s++;
    size_t kwlen = (size_t)(s - kw);
    while (s < end && is_blank(*s))
        s++;
    const char *arg = s, *ae = end;
    while (ae > arg && is_blank(ae[-1]))
        ae--;
    size_t arglen = (size_t)(ae - arg), kwcol = (size_t)(kw - line) + 1;

#define KW(x) (kwlen == sizeof(x) - 1 && memcmp(kw, x, kwlen) == 0)
    for (int k = RK_BRAND; k <= RK_URGENT; k++)
        if (kwlen == strlen(kind_names[k]) && memcmp(kw, kind_names[k], kwlen) == 0) {
            const char *sp = memchr(arg, ' ', arglen), *tb = memchr(arg, '\t', arglen);
            if (sp || tb) {
                const char *x = sp && (!tb || sp < tb) ? sp : tb;
                return perr(p, (size_t)(x - line) + 1, "a name is one word");
            }
            return start_rule(p, (enum rule_kind)k, line, arg, arglen);
        }

    int known = KW("match") || KW("exclude") || KW("veto") || KW("weight") || KW("lang");
    if (!known)
        return perr(p, kwcol,
                    "unknown keyword '%.*s' (expected brand, topic, urgent, match, exclude, "
                    "veto, weight or lang)",
                    (int)(kwlen > 40 ? 40 : kwlen), kw);
    if (!p->cur)
        return perr(p, kwcol, "'%.*s' outside a rule (start one with brand, topic or urgent)",
                    (int)kwlen, kw);
    if (KW("match"))
        return add_pattern(p, &p->cur->match, line, arg, arglen);
    if (KW("exclude"))
        return add_pattern(p, &p->cur->exclude, line, arg, arglen);
    if (KW("veto"))
        return add_pattern(p, &p->cur->veto, line, arg, arglen);
    if (KW("weight"))
        return set_weight(p, line, arg, arglen);
    return add_langs(p, line, arg, arglen);
#undef KW
}

static int parse_file(struct parser *p, const char *path)
{
    FILE *f = fopen(path, "rb");
    p->path = path;
    p->line = 0;
    p->cur = NULL;
    if (!f) {
        snprintf(p->err, p->errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        p->line++;
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        const char *s = line;
        if (p->line == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            /* a byte order mark: skip it, keep columns honest */
            memset(line, ' ', 3);
        }
        if (memchr(s, '\0', len)) {
            rc = perr(p, (size_t)((const char *)memchr(s, '\0', len) - s) + 1,
                      "NUL byte in rules file");
            break;
        }
        if ((rc = parse_line(p, s, len)) < 0)
            break;
    }
    if (rc == 0 && ferror(f)) {
        snprintf(p->err, p->errlen, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc == 0) {
        p->line++;
        rc = finish_rule(p);
    }
    free(line);
    fclose(f);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_rule(const void *a, const void *b)
{
    const struct rule *x = a, *y = b;
    if (x->weight != y->weight)
        return x->weight > y->weight ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

char **analyzer_list_files(const char *dir, const char *ext, char *err, size_t errlen)
{
    size_t elen = strlen(ext);
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return NULL;
    }
    char **v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len <= elen || strcmp(de->d_name + len - elen, ext) != 0)
            continue;
        if (n + 2 > cap) {
            cap = cap ? cap * 2 : 8;
            v = ctx_realloc(v, cap * sizeof *v);
        }
        size_t plen = strlen(dir) + 1 + len + 1;
        v[n] = ctx_malloc(plen);
        snprintf(v[n], plen, "%s/%s", dir, de->d_name);
        v[++n] = NULL;
    }
    closedir(d);
    if (!v)
        v = ctx_calloc(1, sizeof *v);
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_str);
    return v;
}

static int cmp_dst_name(const void *a, const void *b)
{
    const struct rule *x = *(const struct rule *const *)a, *y = *(const struct rule *const *)b;
    if (x->kind != y->kind)             /* a kind is a list: brands, topics, urgent */
        return (int)x->kind - (int)y->kind;
    return strcmp(x->name, y->name);
}

/* Number the patterns for the prefilter: the match patterns first, rule by
 * rule, so that a candidate's id leads to its rule (pat_rule); then the
 * excludes and vetoes. Index them all, and note the patterns whose match
 * starts the prefilter reports. Then mark the rules whose tag another rule
 * may add too. -1 when there are more patterns than the prefilter numbers. */
static int index_patterns(struct analyzer_rules *rs)
{
    rs->pf = analyzer_prefilter_new();
    for (size_t i = 0; i < rs->n; i++) {
        rs->v[i].match.first_id = rs->npats;
        rs->npats += (uint32_t)rs->v[i].match.n;
    }
    rs->nmatch = rs->npats;
    rs->pat_rule = ctx_malloc(rs->nmatch * sizeof *rs->pat_rule);
    for (size_t i = 0; i < rs->n; i++) {
        for (size_t m = 0; m < rs->v[i].match.n; m++)
            rs->pat_rule[rs->v[i].match.first_id + m] = (uint32_t)i;
        rs->v[i].exclude.first_id = rs->npats;
        rs->npats += (uint32_t)rs->v[i].exclude.n;
        rs->v[i].veto.first_id = rs->npats;
        rs->npats += (uint32_t)rs->v[i].veto.n;
        rs->v[i].plain = rs->v[i].exclude.n == 0 && rs->v[i].veto.n == 0;
    }
    rs->lead = ctx_calloc(rs->npats, 1);
    for (size_t i = 0; i < rs->n; i++) {
        struct pat_list *lists[3] = {&rs->v[i].match, &rs->v[i].exclude, &rs->v[i].veto};
        for (int k = 0; k < 3; k++) {
            struct pat_list *l = lists[k];
            for (size_t m = 0; m < l->n; m++) {
                uint32_t id = l->first_id + (uint32_t)m;
                if (analyzer_prefilter_add(rs->pf, id, l->src[m], strlen(l->src[m])) < 0)
                    return -1;
                rs->lead[id] = (uint8_t)analyzer_prefilter_leads(rs->pf, id);
            }
        }
    }
    const struct rule **by = ctx_malloc(rs->n * sizeof *by);
    for (size_t i = 0; i < rs->n; i++)
        by[i] = &rs->v[i];
    qsort(by, rs->n, sizeof *by, cmp_dst_name);
    for (size_t i = 1; i < rs->n; i++)
        if (cmp_dst_name(&by[i - 1], &by[i]) == 0)
            ((struct rule *)by[i - 1])->shared = ((struct rule *)by[i])->shared = 1;
    free(by);
    return 0;
}

ctx_err analyzer_rules_load(const char *dir, struct analyzer_rules **out, char *err,
                            size_t errlen)
{
    *out = NULL;
    ctx_err why = CTX_EPARSE;
    struct analyzer_rules *rs = ctx_calloc(1, sizeof *rs);
    pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
    if (!cctx || !(rs->mctx = pcre2_match_context_create(NULL)))
        ctx_oom(0);
    rs->ovec = 1;
    pcre2_set_match_limit(rs->mctx, MATCH_LIMIT);
    pcre2_set_depth_limit(rs->mctx, DEPTH_LIMIT);
    pcre2_set_heap_limit(rs->mctx, HEAP_LIMIT_KIB);

    char **files = analyzer_list_files(dir, ".rules", err, errlen);
    if (!files) {
        why = CTX_EIO;
        goto fail;
    }
    struct parser p = {.rs = rs, .cctx = cctx, .err = err, .errlen = errlen};
    for (size_t i = 0; files[i]; i++) {
        p.file = i;
        if (parse_file(&p, files[i]) < 0)
            goto fail;
    }
    if (rs->n > 1)
        qsort(rs->v, rs->n, sizeof *rs->v, cmp_rule);
    rs->files = files;
    files = NULL;
    if (index_patterns(rs) < 0) {
        snprintf(err, errlen, "%s: too many patterns", dir);
        why = CTX_ETOOBIG;
        goto fail;
    }
    pcre2_compile_context_free(cctx);
    *out = rs;
    return CTX_OK;
fail:
    if (files) {
        for (size_t i = 0; files[i]; i++)
            free(files[i]);
        free(files);
    }
    pcre2_compile_context_free(cctx);
    analyzer_rules_free(rs);
    return why;
}

/* ---- matching ----------------------------------------------------------- */

void analyzer_spans_add(struct analyzer_spans *sp, size_t a, size_t b)
{
    if (sp->n == sp->cap) {
        size_t cap = sp->cap * 2;
        size_t(*v)[2] = ctx_malloc(cap * sizeof *v);
        memcpy(v, sp->v, sp->n * sizeof *v);
        if (sp->v != sp->local)
            free(sp->v);
        sp->v = v;
        sp->cap = cap;
    }
    sp->v[sp->n][0] = a;
    sp->v[sp->n][1] = b;
    sp->n++;
}

static int overlaps(const struct analyzer_spans *sp, size_t a, size_t b)
{
    if (b == a)
        b = a + 1;
    for (size_t i = 0; i < sp->n; i++) {
        size_t x = sp->v[i][0], y = sp->v[i][1];
        if (y == x)
            y = x + 1;
        if (a < y && x < b)
            return 1;
    }
    return 0;
}

/* What the prefilter said about a text: the candidate patterns (bits), and
 * the hits (id << 32 | offset, in text order or sorted) of the patterns with
 * leads, when complete (ok). Zeroed (bits NULL, not ok) without the
 * prefilter: every pattern runs, from every start. */
struct scan {
    const uint64_t *bits;
    const uint64_t *hits;
    size_t nhits;
    int ok;
    int sorted;                /* hits sorted (pattern, then offset), not in text order */
    int in_order;              /* ok and not sorted: find_inline() follows the chains */
    const size_t *ends;        /* per hit: where its match ends when the prefilter
                                  decided it already (a sure hit), NOT_SURE when not */
    /* unsorted: the hits of the patterns of one bucket (id & HIT_BUCKETS_MASK),
     * in text order, as a chain of hit numbers from 1 (0 ends it) */
    const uint8_t *first;      /* per bucket */
    const uint8_t *next;       /* per hit */
};

#define NOT_SURE PF_NOT_SURE

static inline int bit(const uint64_t *bits, uint32_t k)
{
    return (bits[k >> 6] >> (k & 63)) & 1;
}

/* 1 and the span on a match, 0 on none, -1 when a limit abandoned it. */
static int match_at(const struct analyzer_rules *rs, const pcre2_code *re, const char *s,
                    size_t len, size_t off, uint32_t opts, pcre2_match_data *md, size_t *ms,
                    size_t *me)
{
    int rc = pcre2_match(re, (PCRE2_SPTR)s, len, off, PCRE2_NO_UTF_CHECK | opts, md, rs->mctx);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0) {
        /* limits (match, depth, heap, JIT stack) and anything else */
        __atomic_fetch_add((unsigned long *)&rs->aborts, 1, __ATOMIC_RELAXED);
        return -1;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    *ms = ov[0] < ov[1] ? ov[0] : ov[1];     /* \K can put the start after the end */
    *me = ov[0] < ov[1] ? ov[1] : ov[0];
    return 1;
}

/* What every rule of one call reads and adds to: set once, so that a rule,
 * and each search for its patterns, costs a pointer to it instead of a
 * dozen arguments. */
struct apply {
    const struct analyzer_rules *rs;
    const char *s;
    size_t len;
    const char *lang;
    pcre2_match_data *md;
    const struct scan *sc;
    struct tags *out;
    struct strlist *urgent;
    size_t had[2];
    double urgency;
    struct analyzer_spans *brand_at;
    json_t *explain;
};

/* Whether pattern k of l matches at hit h (at its offset), as match_at()
 * anchored there: decided by the prefilter when it can (a sure hit, whose
 * match ends at sure_end, is decided already). */
static inline int try_hit(const struct analyzer_rules *rs, const struct pat_list *l, size_t k,
                          uint64_t h, size_t sure_end, const char *s, size_t len,
                          pcre2_match_data *md, size_t *ms, size_t *me)
{
    size_t at = (uint32_t)h, end = sure_end;
    int rc = 1;
    if (sure_end == NOT_SURE)
        rc = analyzer_prefilter_decide(rs->pf, (uint32_t)(h >> 32), s, len, at, &end);
    if (rc == 1) {
        *ms = at;
        *me = end;
        return 1;
    }
    if (rc < 0)
        rc = match_at(rs, l->v[k], s, len, at, PCRE2_ANCHORED, md, ms, me);
    return rc;
}

/* find() without a list of hits in text order to follow: every start, or
 * the sorted hits searched. */
static __attribute__((noinline)) int find_other(const struct apply *a, const struct pat_list *l,
                                                size_t k, size_t off, size_t *ms, size_t *me)
{
    const struct analyzer_rules *rs = a->rs;
    const struct scan *sc = a->sc;
    const char *s = a->s;
    size_t len = a->len;
    pcre2_match_data *md = a->md;
    if (!sc->ok || !rs->lead[l->first_id + (uint32_t)k])
        return match_at(rs, l->v[k], s, len, off, 0, md, ms, me);
    uint32_t p = l->first_id + (uint32_t)k, from = off > UINT32_MAX ? UINT32_MAX : (uint32_t)off;
    int rc;
    uint64_t x = (uint64_t)p << 32 | from;
    size_t lo = 0, hi = sc->nhits;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sc->hits[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < sc->nhits && sc->hits[lo] >> 32 == p; lo++)
        if ((rc = try_hit(rs, l, k, sc->hits[lo], sc->ends[lo], s, len, md, ms, me)) != 0)
            return rc;
    return 0;
}

/* The first match of pattern k of l at or after off, as match_at(). The
 * search for it tries every start from off on, in order, and stops at the
 * first that matches (or hits a limit: limits count per start). When the
 * prefilter reported every place where this pattern can start, it is tried
 * at those places only (PCRE2_ANCHORED), in order: the same first match.
 * That also runs the interpreter, not the JIT code: the JIT code of a
 * pattern out of a thousand is cold in the cache, and one attempt at a
 * known start costs less in the interpreter than the JIT's cache misses.
 * The places come in text order, where a pattern's two leads in one word
 * are there twice (tried twice, the same answer), or sorted without
 * repeats when there are many. The common case (a few hits in text order)
 * is inlined where the rules without excludes look for a match. */
static inline __attribute__((always_inline)) int
find_inline(const struct apply *a, const struct pat_list *l, size_t k, size_t off, size_t *ms,
            size_t *me)
{
    const struct analyzer_rules *rs = a->rs;
    const struct scan *sc = a->sc;
    if (!sc->in_order || !rs->lead[l->first_id + (uint32_t)k])
        return find_other(a, l, k, off, ms, me);
    uint32_t p = l->first_id + (uint32_t)k, from = off > UINT32_MAX ? UINT32_MAX : (uint32_t)off;
    int rc;
    /* a few hits in text order: this pattern's (those of its bucket that
     * are its), from off on */
    for (unsigned i = sc->first[p & HIT_BUCKETS_MASK]; i; i = sc->next[i - 1]) {
        uint64_t h = sc->hits[i - 1];
        if ((uint32_t)(h >> 32) == p && (uint32_t)h >= from &&
            (rc = try_hit(rs, l, k, h, sc->ends[i - 1], a->s, a->len, a->md, ms, me)) != 0)
            return rc;
    }
    return 0;
}

static int find(const struct apply *a, const struct pat_list *l, size_t k, size_t off,
                size_t *ms, size_t *me)
{
    return find_inline(a, l, k, off, ms, me);
}

/* Where to look next after a match ending at me, searched from off. */
static size_t next_offset(const char *s, size_t len, size_t off, size_t me)
{
    if (me > off)
        return me;
    if (off >= len)
        return len + 1;
    off++;
    while (off < len && ((unsigned char)s[off] & 0xC0) == 0x80)
        off++;
    return off;
}

/* 1 if the rule fires, 0 if not. On a hit, the
 * pattern and the span of the occurrence that counted go to *which, *at.
 * With all not NULL, every occurrence that counts (of every match pattern)
 * is added to it, not only the first. A pattern the prefilter ruled out
 * (sc->bits) has no occurrence: it is not run; k0 is the id of the first
 * match pattern it did not rule out (the first one's without the
 * prefilter), where the search starts. */
static int rule_fires(const struct apply *a, const struct rule *r, uint32_t k0, size_t *which,
                      size_t at[2], struct analyzer_spans *all)
{
    const struct scan *sc = a->sc;
    const char *s = a->s;
    size_t len = a->len;
    size_t ms, me;
    const uint64_t *cand = sc->bits;
    size_t m0 = k0 - r->match.first_id;

    if (!all && r->plain) {
        /* most rules: the first match of the first candidate pattern that
         * has one (below, nothing to exclude or veto, no spans to keep) */
        for (size_t m = m0; m < r->match.n;) {
            /* (m is a candidate: m0 is, and so is each m the loop below
             * stops at before the end) */
            if (find_inline(a, &r->match, m, 0, &ms, &me) > 0) {
                *which = m;
                at[0] = ms;
                at[1] = me;
                return 1;
            }
            while (++m < r->match.n && cand && !bit(cand, r->match.first_id + (uint32_t)m))
                ;
        }
        return 0;
    }
    struct analyzer_spans ex;
    analyzer_spans_init(&ex);
    int excludes_done = 0, hit = 0;
    size_t all0 = all ? all->n : 0;

    for (size_t m = m0; m < r->match.n && (!hit || all); m++) {
        if (cand && !bit(cand, r->match.first_id + (uint32_t)m))
            continue;           /* its required words are not in the text */
        size_t off = 0;
        for (int k = 0; k < MAX_OCCURRENCES && off <= len; k++) {
            if (find(a, &r->match, m, off, &ms, &me) <= 0)
                break;
            if (!excludes_done) {
                for (size_t x = 0; x < r->exclude.n; x++) {
                    if (cand && !bit(cand, r->exclude.first_id + (uint32_t)x))
                        continue;
                    size_t xo = 0, xs, xe;
                    for (int j = 0; j < MAX_OCCURRENCES && xo <= len; j++) {
                        if (find(a, &r->exclude, x, xo, &xs, &xe) <= 0)
                            break;
                        analyzer_spans_add(&ex, xs, xe);
                        xo = next_offset(s, len, xo, xe);
                    }
                }
                excludes_done = 1;
            }
            if (!overlaps(&ex, ms, me)) {
                if (!hit) {
                    *which = m;
                    at[0] = ms;
                    at[1] = me;
                }
                hit = 1;
                if (!all)
                    break;
                analyzer_spans_add(all, ms, me);
            }
            off = next_offset(s, len, off, me);
        }
    }
    for (size_t v = 0; hit == 1 && v < r->veto.n; v++)
        if ((!cand || bit(cand, r->veto.first_id + (uint32_t)v)) &&
            find(a, &r->veto, v, 0, &ms, &me) == 1)
            hit = 0;
    if (all && !hit)
        all->n = all0;
    analyzer_spans_free(&ex);
    return hit;
}

static int lang_ok(const struct rule *r, const char *lang)
{
    if (r->nlangs == 0)
        return 1;
    if (!lang)
        return 0;
    for (unsigned i = 0; i < r->nlangs; i++)
        if (strcmp(r->langs[i], lang) == 0)
            return 1;
    return 0;
}

static json_t *explain_rule(const struct analyzer_rules *rs, const struct rule *r, size_t m,
                            const size_t at[2], const char *s)
{
    char where[4200];
    snprintf(where, sizeof where, "%s:%d", rs->files[r->file], r->match.line[m]);
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(kind_names[r->kind]));
    json_object_set_new(o, "name", json_string(r->name));
    json_object_set_new(o, "weight", json_real(r->weight));
    json_object_set_new(o, "pattern", json_string(r->match.src[m]));
    json_object_set_new(o, "at", json_string(where));
    json_object_set_new(o, "match", json_stringn(s + at[0], at[1] - at[0]));
    json_object_set_new(o, "span", json_pack("[I,I]", (json_int_t)at[0], (json_int_t)at[1]));
    return o;
}

/* The match data, one per thread, kept between calls (creating it is a
 * malloc and a free per text). It holds no result from one call to the
 * next: each match overwrites it. Freed when the thread ends. */
static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static int md_key_ok;
static __thread pcre2_match_data *md_cached;
static __thread uint32_t md_cached_pairs;

static void md_destroy(void *md)
{
    pcre2_match_data_free(md);
}

static void md_key_create(void)
{
    md_key_ok = pthread_key_create(&md_key, md_destroy) == 0;
}

/* A match data of at least pairs pairs: the thread's (*own 0) or, when it
 * cannot be kept, a new one for the caller to free (*own 1). */
static pcre2_match_data *md_get(uint32_t pairs, int *own)
{
    *own = 0;
    if (md_cached && md_cached_pairs >= pairs)
        return md_cached;
    pthread_once(&md_once, md_key_create);
    pcre2_match_data *md = pcre2_match_data_create(pairs, NULL);
    if (!md)
        ctx_oom(0);
    if (!md_key_ok || pthread_setspecific(md_key, md) != 0) {
        *own = 1;
        return md;
    }
    pcre2_match_data_free(md_cached);
    md_cached = md;
    md_cached_pairs = pairs;
    return md;
}

struct hit_end {
    uint64_t hit;
    size_t end;
};

static int cmp_hit_end(const void *a, const void *b)
{
    const struct hit_end *x = a, *y = b;
    if (x->hit != y->hit)
        return x->hit < y->hit ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Sort the hits, their ends beside them, and drop repeats (two leads of a
 * pattern in one word), keeping a sure one's end (repeats are decided
 * alike: this is for safety). */
static size_t sort_hits(uint64_t *h, size_t *e, size_t n)
{
    struct hit_end *v = ctx_malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = (struct hit_end){h[i], e[i]};
    qsort(v, n, sizeof *v, cmp_hit_end);
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (o == 0 || h[o - 1] != v[i].hit) {
            h[o] = v[i].hit;
            e[o++] = v[i].end;
        }
    free(v);
    return o;
}

/* Run rule r (k0, which, at: see rule_fires) and record what it found. */
static void apply_rule(struct apply *a, const struct rule *r, uint32_t k0)
{
    if (r->weight <= 0 || !lang_ok(r, a->lang))
        return;
    struct strlist *dst = r->kind == RK_BRAND ? &a->out->brands
                          : r->kind == RK_TOPIC ? &a->out->topics
                                                : a->urgent;
    /* another block of the same name may have fired already (or the caller
     * may have put the name there): only then is the list searched */
    if ((r->shared || (r->kind != RK_URGENT && a->had[r->kind])) && strlist_has(dst, r->name))
        return;
    size_t which = 0, at[2] = {0, 0};
    if (!rule_fires(a, r, k0, &which, at, r->kind == RK_BRAND ? a->brand_at : NULL))
        return;
    strlist_add(dst, r->name);
    if (r->kind == RK_URGENT)
        a->urgency += r->weight;
    if (a->explain)
        json_array_append_new(a->explain, explain_rule(a->rs, r, which, at, a->s));
}

ctx_err analyzer_rules_apply(const struct analyzer_rules *rs, const char *s, size_t len,
                             const char *lang, struct tags *out, struct analyzer_spans *brand_at,
                             json_t *explain, int flags)
{
    return analyzer_rules_apply_known(rs, s, len, NULL, 0, lang, out, brand_at, explain, flags);
}

uint32_t analyzer_rules_word(struct analyzer_rules *rs, const char *key, size_t len)
{
    return rs && rs->pf ? analyzer_prefilter_word(rs->pf, key, len) : PF_WORD_NONE;
}

int analyzer_rules_each_word(const struct analyzer_rules *rs,
                             int (*fn)(void *ud, const char *w, size_t n), void *ud)
{
    return rs ? analyzer_prefilter_each_word(rs->pf, fn, ud) : 0;
}

/* Whether pattern p has a hit (hits in text order, chained). */
static inline int has_hit(const struct scan *sc, uint32_t p)
{
    for (unsigned i = sc->first[p & HIT_BUCKETS_MASK]; i; i = sc->next[i - 1])
        if ((uint32_t)(sc->hits[i - 1] >> 32) == p)
            return 1;
    return 0;
}

/* The rules of the candidate match patterns in word w of the bits (in
 * order, each once: *next is the first rule not run yet). A pattern whose
 * matches start at its hits alone and that has none (its required words
 * are in the text, its leads are not, or the scan decided that none of
 * them starts a match) is passed over: the rule runs from its next
 * candidate pattern, or not at all (some 0.6 rules a text ran only to find
 * no hit to try). */
static inline void candidates(struct apply *a, uint32_t w, size_t *next)
{
    const struct analyzer_rules *rs = a->rs;
    const struct scan *sc = a->sc;
    uint64_t x = sc->bits[w];
    if (rs->nmatch - w * 64 < 64)
        x &= (1ull << (rs->nmatch - w * 64)) - 1;
    while (x) {
        uint32_t k = w * 64 + (uint32_t)__builtin_ctzll(x);
        x &= x - 1;
        size_t i = rs->pat_rule[k];
        if (i < *next)
            continue;       /* its other candidate patterns */
        if (sc->in_order && rs->lead[k] && !has_hit(sc, k))
            continue;       /* no match of this one: the rule's next, if any */
        *next = i + 1;
        /* (the rule's match patterns before k have no bit, or one without
         * a hit where a match must start at one: none can match) */
        apply_rule(a, &rs->v[i], k);
    }
}

ctx_err analyzer_rules_apply_known(const struct analyzer_rules *rs, const char *s, size_t len,
                                   const struct analyzer_tok *t, size_t nt,
                                   const char *lang, struct tags *out,
                                   struct analyzer_spans *brand_at, json_t *explain, int flags)
{
    if (!rs || rs->n == 0)
        return CTX_OK;
    uint64_t bstack[64], hstack[LOCAL_HITS], *bits = NULL, *hits = hstack;
    size_t estack[LOCAL_HITS], *ends = estack;
    uint8_t first[HIT_BUCKETS] = {0}, next[UNSORTED_HITS];
    size_t words = ((size_t)rs->npats + 63) / 64;
    uint64_t nonzero = 0;          /* bit w & 63: bits[w] may not be 0 */
    struct scan scan = {0};
    if (!(flags & RULES_NO_PREFILTER) && rs->pf) {
        bits = words <= 64 ? bstack : ctx_calloc(words, sizeof *bits);
        memset(bits, 0, words * sizeof *bits);
        size_t n = analyzer_prefilter_scan_known(rs->pf, s, len, t, nt, bits, &nonzero, hits,
                                                 ends, LOCAL_HITS);
        scan.ok = n <= LOCAL_HITS;
        if (!scan.ok && n < SIZE_MAX / sizeof *hits) {
            /* again, keeping every hit (the bits come out the same) */
            hits = ctx_malloc(n * sizeof *hits);
            ends = ctx_malloc(n * sizeof *ends);
            size_t again = analyzer_prefilter_scan_known(rs->pf, s, len, t, nt, bits, NULL,
                                                         hits, ends, n);
            scan.ok = again <= n;
            n = again;
        }
        /* without every hit, the patterns are tried at every start */
        scan.bits = bits;
        scan.hits = hits;
        scan.ends = ends;
        /* a few hits are looked through, many sorted and searched */
        scan.sorted = scan.ok && n > UNSORTED_HITS;
        scan.in_order = scan.ok && !scan.sorted;
        scan.nhits = !scan.ok ? 0 : scan.sorted ? sort_hits(hits, ends, n) : n;
        if (!scan.sorted) {
            /* each hit leads to the next of its bucket: a pattern's hits
             * are found without looking through the others */
            for (size_t i = scan.nhits; i-- > 0;) {
                uint32_t b = (uint32_t)(hits[i] >> 32) & HIT_BUCKETS_MASK;
                next[i] = first[b];
                first[b] = (uint8_t)(i + 1);
            }
            scan.first = first;
            scan.next = next;
        }
    }
    int own = 0;
    pcre2_match_data *md = md_get(rs->ovec, &own);
    struct strlist urgent = {0};
    struct apply a = {.rs = rs, .s = s, .len = len, .lang = lang, .md = md, .sc = &scan,
                      .out = out, .urgent = &urgent, .had = {out->brands.n, out->topics.n},
                      .brand_at = brand_at, .explain = explain};
    if (!bits) {
        for (size_t i = 0; i < rs->n; i++)
            apply_rule(&a, &rs->v[i], rs->v[i].match.first_id);
    } else {
        /* the rules that have a candidate match pattern, in order: the set
         * bits of the match ids lead to them (a rule's ids are together) */
        size_t next = 0;
        uint32_t nw = (rs->nmatch + 63) / 64;
        if (nw <= 64) {
            /* the words the scan marked bits in, from its summary: most of
             * the words have none, and a test of each missed its answer
             * some 3.5 times a text */
            uint64_t y = nonzero & (nw < 64 ? (1ull << nw) - 1 : ~0ull);
            for (; y; y &= y - 1)
                candidates(&a, (uint32_t)__builtin_ctzll(y), &next);
        } else {
            for (uint32_t w = 0; w < nw; w++)
                if (bits[w])
                    candidates(&a, w, &next);
        }
    }
    if (a.urgency >= 1.0)
        out->urgent = true;
    strlist_clear(&urgent);
    if (own)
        pcre2_match_data_free(md);
    if (bits != bstack)
        free(bits);
    if (hits != hstack)
        free(hits);
    if (ends != estack)
        free(ends);
    return CTX_OK;
}

size_t analyzer_rules_brands(const struct analyzer_rules *rs, const char **names, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; rs && i < rs->n; i++) {
        if (rs->v[i].kind != RK_BRAND || rs->v[i].weight <= 0)
            continue;
        size_t k = 0;
        while (k < n && strcmp(names[k], rs->v[i].name) != 0)
            k++;
        if (k == n && n < max)
            names[n++] = rs->v[i].name;
    }
    return n;
}
