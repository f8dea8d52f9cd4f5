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
 * Errors name the place: "file:line:col: message", where col is the 1-based
 * byte column in the line (for a bad pattern, where PCRE2 stopped). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
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

enum rule_kind { RK_BRAND, RK_TOPIC, RK_URGENT };
static const char *const kind_names[] = {"brand", "topic", "urgent"};

struct pat_list {
    pcre2_code **v;
    char **src;                /* the pattern as written */
    int *line;                 /* where */
    size_t n, cap;
};

struct rule {
    enum rule_kind kind;
    char *name;
    double weight;
    int has_weight;
    char langs[MAX_LANGS][4];
    unsigned nlangs;
    struct pat_list match, exclude, veto;
    size_t seq;                /* definition order, for a stable sort */
    int line;                  /* header line */
    size_t file;               /* index into analyzer_rules.files */
    uint32_t first_pat;        /* prefilter id of match.v[0]; the others follow */
};

struct analyzer_rules {
    struct rule *v;
    size_t n, cap;
    char **files;              /* the files read, NULL-terminated */
    struct analyzer_prefilter *pf;   /* ids: match patterns, numbered rule by rule */
    uint32_t npats;
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

static int pat_list_add(struct pat_list *l, pcre2_code *re, const char *src, size_t len,
                        int line)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 2;
        pcre2_code **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        char **sv = realloc(l->src, cap * sizeof *sv);
        if (!sv)
            return -1;
        l->src = sv;
        int *lv = realloc(l->line, cap * sizeof *lv);
        if (!lv)
            return -1;
        l->line = lv;
        l->cap = cap;
    }
    char *copy = strndup(src, len);
    if (!copy)
        return -1;
    l->src[l->n] = copy;
    l->line[l->n] = line;
    l->v[l->n++] = re;
    return 0;
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
        size_t cap = rs->cap ? rs->cap * 2 : 16;
        struct rule *v = realloc(rs->v, cap * sizeof *v);
        if (!v)
            return perr(p, 1, "out of memory");
        rs->v = v;
        rs->cap = cap;
    }
    struct rule *r = &rs->v[rs->n];
    memset(r, 0, sizeof *r);
    r->name = strndup(arg, arglen);
    if (!r->name)
        return perr(p, 1, "out of memory");
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
    if (pat_list_add(l, re, pat, patlen, p->line) < 0) {
        pcre2_code_free(re);
        return perr(p, col, "out of memory");
    }
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

/* The *.rules files of dir, sorted, as a NULL-terminated malloc'd array. */
static char **list_rules(const char *dir, char *err, size_t errlen, ctx_err *why)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        *why = CTX_EIO;
        return NULL;
    }
    char **v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len <= 6 || strcmp(de->d_name + len - 6, ".rules") != 0)
            continue;
        if (n + 2 > cap) {
            cap = cap ? cap * 2 : 8;
            char **nv = realloc(v, cap * sizeof *nv);
            if (!nv)
                goto oom;
            v = nv;
        }
        size_t plen = strlen(dir) + 1 + len + 1;
        if (!(v[n] = malloc(plen)))
            goto oom;
        snprintf(v[n], plen, "%s/%s", dir, de->d_name);
        v[++n] = NULL;
    }
    closedir(d);
    if (!v && !(v = calloc(1, sizeof *v)))
        goto oom_closed;
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_str);
    return v;
oom:
    closedir(d);
oom_closed:
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    snprintf(err, errlen, "%s: out of memory", dir);
    *why = CTX_ENOMEM;
    return NULL;
}

ctx_err analyzer_rules_load(const char *dir, struct analyzer_rules **out, char *err,
                            size_t errlen)
{
    *out = NULL;
    ctx_err why = CTX_EPARSE;
    struct analyzer_rules *rs = calloc(1, sizeof *rs);
    pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
    char **files = NULL;
    if (!rs || !cctx || !(rs->mctx = pcre2_match_context_create(NULL))) {
        snprintf(err, errlen, "%s: out of memory", dir);
        why = CTX_ENOMEM;
        goto fail;
    }
    rs->ovec = 1;
    pcre2_set_match_limit(rs->mctx, MATCH_LIMIT);
    pcre2_set_depth_limit(rs->mctx, DEPTH_LIMIT);
    pcre2_set_heap_limit(rs->mctx, HEAP_LIMIT_KIB);

    if (!(files = list_rules(dir, err, errlen, &why)))
        goto fail;
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
    if (!(rs->pf = analyzer_prefilter_new()))
        goto oom;
    for (size_t i = 0; i < rs->n; i++) {
        rs->v[i].first_pat = rs->npats;
        for (size_t m = 0; m < rs->v[i].match.n; m++, rs->npats++)
            if (analyzer_prefilter_add(rs->pf, rs->npats, rs->v[i].match.src[m],
                                       strlen(rs->v[i].match.src[m])) < 0)
                goto oom;
    }
    pcre2_compile_context_free(cctx);
    *out = rs;
    return CTX_OK;
oom:
    snprintf(err, errlen, "%s: out of memory", dir);
    why = CTX_ENOMEM;
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

int analyzer_spans_add(struct analyzer_spans *sp, size_t a, size_t b)
{
    if (sp->n == sp->cap) {
        size_t cap = sp->cap * 2;
        size_t(*v)[2] = malloc(cap * sizeof *v);
        if (!v)
            return -1;
        memcpy(v, sp->v, sp->n * sizeof *v);
        if (sp->v != sp->local)
            free(sp->v);
        sp->v = v;
        sp->cap = cap;
    }
    sp->v[sp->n][0] = a;
    sp->v[sp->n][1] = b;
    sp->n++;
    return 0;
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

/* 1 and the span on a match, 0 on none, -1 when a limit abandoned it. */
static int find(const struct analyzer_rules *rs, const pcre2_code *re, const char *s,
                size_t len, size_t off, pcre2_match_data *md, size_t *ms, size_t *me)
{
    int rc = pcre2_match(re, (PCRE2_SPTR)s, len, off, PCRE2_NO_UTF_CHECK, md, rs->mctx);
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

/* 1 if the rule fires, 0 if not, -1 when out of memory. On a hit, the
 * pattern and the span of the occurrence that counted go to *which, *at. */
static inline int bit(const uint64_t *bits, uint32_t k)
{
    return (bits[k >> 6] >> (k & 63)) & 1;
}

/* With all not NULL, every occurrence that counts (of every match pattern)
 * is added to it, not only the first. */
static int rule_fires(const struct analyzer_rules *rs, const struct rule *r, const char *s,
                      size_t len, pcre2_match_data *md, const uint64_t *cand, size_t *which,
                      size_t at[2], struct analyzer_spans *all)
{
    struct analyzer_spans ex;
    analyzer_spans_init(&ex);
    int excludes_done = 0, hit = 0;
    size_t ms, me, all0 = all ? all->n : 0;

    for (size_t m = 0; m < r->match.n && (!hit || all); m++) {
        if (cand && !bit(cand, r->first_pat + (uint32_t)m))
            continue;           /* its required words are not in the text */
        size_t off = 0;
        for (int k = 0; k < MAX_OCCURRENCES && off <= len; k++) {
            if (find(rs, r->match.v[m], s, len, off, md, &ms, &me) <= 0)
                break;
            if (!excludes_done) {
                for (size_t x = 0; x < r->exclude.n; x++) {
                    size_t xo = 0, xs, xe;
                    for (int j = 0; j < MAX_OCCURRENCES && xo <= len; j++) {
                        if (find(rs, r->exclude.v[x], s, len, xo, md, &xs, &xe) <= 0)
                            break;
                        if (analyzer_spans_add(&ex, xs, xe) < 0) {
                            hit = -1;
                            goto done;
                        }
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
                if (analyzer_spans_add(all, ms, me) < 0) {
                    hit = -1;
                    goto done;
                }
            }
            off = next_offset(s, len, off, me);
        }
    }
    for (size_t v = 0; hit == 1 && v < r->veto.n; v++)
        if (find(rs, r->veto.v[v], s, len, 0, md, &ms, &me) == 1)
            hit = 0;
done:
    if (all && hit != 1)
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

ctx_err analyzer_rules_apply(const struct analyzer_rules *rs, const char *s, size_t len,
                             const char *lang, struct tags *out, struct analyzer_spans *brand_at,
                             json_t *explain, int flags)
{
    if (!rs || rs->n == 0)
        return CTX_OK;
    uint64_t bstack[64], *bits = NULL;
    size_t words = ((size_t)rs->npats + 63) / 64;
    if (!(flags & RULES_NO_PREFILTER) && rs->pf) {
        bits = words <= 64 ? bstack : calloc(words, sizeof *bits);
        if (!bits)
            return CTX_ENOMEM;
        memset(bits, 0, words * sizeof *bits);
        analyzer_prefilter_scan(rs->pf, s, len, bits);
    }
    pcre2_match_data *md = pcre2_match_data_create(rs->ovec, NULL);
    if (!md) {
        if (bits != bstack)
            free(bits);
        return CTX_ENOMEM;
    }
    ctx_err rc = CTX_OK;
    struct strlist urgent = {0};
    double urgency = 0.0;
    size_t i = 0;
    while (rc == CTX_OK) {
        if (bits) {
            /* the next rule with a candidate pattern: walk the set bits */
            size_t w = 0, k = 0;
            int found = 0;
            while (i < rs->n) {
                uint32_t p0 = rs->v[i].first_pat, p1 = p0 + (uint32_t)rs->v[i].match.n;
                for (uint32_t p = p0; p < p1; p++)
                    if (bit(bits, p)) {
                        found = 1;
                        break;
                    }
                if (found)
                    break;
                /* skip ahead to the rule owning the next set bit */
                w = p1 >> 6;
                uint64_t rest = w < words ? bits[w] & (~0ull << (p1 & 63)) : 0;
                while (!rest && ++w < words)
                    rest = bits[w];
                if (!rest) {
                    i = rs->n;
                    break;
                }
                k = w * 64 + (size_t)__builtin_ctzll(rest);
                /* rules are in pattern order: find the one holding pattern k */
                size_t lo = i + 1, hi = rs->n;
                while (lo + 1 < hi) {
                    size_t mid = (lo + hi) / 2;
                    if (rs->v[mid].first_pat <= k)
                        lo = mid;
                    else
                        hi = mid;
                }
                i = lo;
            }
        }
        if (i >= rs->n)
            break;
        const struct rule *r = &rs->v[i++];
        if (r->weight <= 0 || !lang_ok(r, lang))
            continue;
        struct strlist *dst = r->kind == RK_BRAND ? &out->brands
                              : r->kind == RK_TOPIC ? &out->topics
                                                    : &urgent;
        if (strlist_has(dst, r->name))
            continue;        /* another block of the same name already fired */
        size_t which = 0, at[2] = {0, 0};
        int hit = rule_fires(rs, r, s, len, md, bits, &which, at,
                             r->kind == RK_BRAND ? brand_at : NULL);
        if (hit < 0) {
            rc = CTX_ENOMEM;
        } else if (hit) {
            rc = strlist_add(dst, r->name);
            if (r->kind == RK_URGENT)
                urgency += r->weight;
            if (explain && rc == CTX_OK)
                json_array_append_new(explain, explain_rule(rs, r, which, at, s));
        }
    }
    if (urgency >= 1.0)
        out->urgent = true;
    strlist_clear(&urgent);
    pcre2_match_data_free(md);
    if (bits != bstack)
        free(bits);
    return rc;
}
