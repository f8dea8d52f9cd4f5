/* test_social.c -- the social, forum and messenger source kinds
 * (collectors/mastodon.c, reddit.c, bluesky.c, hn.c, vk.c, discourse.c,
 * telegram.c), table-driven.
 *
 * Each kind has tests/data/api/<kind>/cases.json; its sections are tables:
 *  - "validate":     a source config and the error it gives (null: none);
 *  - "request":      next_request from a source and a cursor: URL, method,
 *                    headers, timeout;
 *  - "parse":        a saved response (recorded real responses from
 *                    ../shared/corpora/api/, each case naming its origin, or
 *                    fixtures of ours next to cases.json, written from the
 *                    API's documentation) and what parse must make of it: the
 *                    return code, the error, ids, items (compared as subsets
 *                    of item_to_json), the next cursor, r->extra;
 *  - "steps":        polls in a row, the cursor carried from one to the next:
 *                    at each step the request URL and then the items and
 *                    cursor that page gives, so paging is checked for gaps
 *                    (every expected id appears) and repeats (an id seen on
 *                    an earlier step must be listed as an expected repeat);
 *  - "reply":        reply_request: URL, method, headers, body;
 *  - "reply_result": an answer to a reply and its classification.
 * A "file" without a slash is in the kind's folder; with one it is relative
 * to the repository root. Then every file of every kind's folder and every
 * corpus file a case names is parsed truncated at many lengths and with
 * bytes changed (fixed seed): a clear error or consistent items, never a
 * crash (ASan and UBSan watch). Run from the repository root. */
#define _GNU_SOURCE
#include <dirent.h>
#include "core/date.h"
#include "tests/collectors/testutil.h"
#include "collectors/collectors.h"
#include "collectors/collectors_internal.h"

#define DATA    "tests/data/api"
#define FETCHED "2026-11-22T12:00:00Z"

static const char *const kinds[] = {"mastodon", "reddit", "bluesky", "hn", "vk", "discourse",
                                    "telegram"};

/* ---- helpers ---------------------------------------------------------------- */

static json_t *load_cases(const char *kind)
{
    char path[256];
    snprintf(path, sizeof path, DATA "/%s/cases.json", kind);
    json_error_t je;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        fail_msg("%s:%d:%d: %s", path, je.line, je.column, je.text);
    return j;
}

static void file_path(const char *kind, const char *file, char *out, size_t len)
{
    if (strchr(file, '/'))
        snprintf(out, len, "%s", file);
    else
        snprintf(out, len, DATA "/%s/%s", kind, file);
}

/* The body a case names: "file" or an inline "body". Caller frees. */
static char *case_body(const char *kind, const json_t *c, size_t *len)
{
    const char *body = json_string_value(json_object_get(c, "body"));
    if (body) {
        *len = strlen(body);
        return strdup(body);
    }
    const char *file = json_string_value(json_object_get(c, "file"));
    if (!file)
        fail_msg("%s: a case has neither file nor body", kind);
    char path[512];
    file_path(kind, file, path, sizeof path);
    char *b = tu_read(path, len);
    if (!b)
        fail_msg("cannot read %s", path);
    return b;
}

static char *jstr(const json_t *o, const char *key)
{
    return (char *)json_string_value(json_object_get(o, key));
}

/* Case i of a section: a label for messages ("mastodon parse #3 a name")
 * into what, and the source its "source" object describes (strings point
 * into the JSON). */
static void case_open(const char *kind, const char *section, const json_t *c, size_t i,
                      char *what, size_t wlen, struct config_source *src)
{
    const char *n = jstr(c, "name") ? jstr(c, "name") : jstr(c, "file");
    snprintf(what, wlen, "%s %s #%zu %s", kind, section, i, n ? n : "");
    const json_t *s = json_object_get(c, "source");
    memset(src, 0, sizeof *src);
    src->name = jstr(s, "name") ? jstr(s, "name") : (char *)"test";
    src->kind = (char *)kind;
    src->url = jstr(s, "url");
    src->query = jstr(s, "query");
    src->tag = jstr(s, "tag");
    src->subreddit = jstr(s, "subreddit");
    src->mode = jstr(s, "mode");
    src->token = jstr(s, "token");
    src->api_version = jstr(s, "api_version");
    src->every = 60;
    src->timeout = 30;
    src->max_bytes = 5 << 20;
}

/* The fetch time a case parses with. */
static const char *case_fetched(const json_t *c)
{
    return jstr(c, "fetched") ? jstr(c, "fetched") : FETCHED;
}

static void expect_subset(const json_t *want, const json_t *got, const char *what)
{
    char path[512] = "";
    if (!tu_json_subset(want, got, path, sizeof path)) {
        char *w = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
        char *g = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        print_error("%s: mismatch at %s\n  want %s\n  got  %s\n", what, path, w, g ? g : "(null)");
        free(w);
        free(g);
        fail();
    }
}

static const char *rc_name(ctx_err e)
{
    switch (e) {
    case CTX_OK: return "ok";
    case CTX_EPARSE: return "EPARSE";
    case CTX_EHTTP: return "EHTTP";
    case CTX_EINVAL: return "EINVAL";
    case CTX_ECONFIG: return "ECONFIG";
    case CTX_ENOMEM: return "ENOMEM";
    default: return ctx_strerror(e);
    }
}

static void expect_rc(ctx_err e, const json_t *c, const char *what)
{
    const char *want = json_string_value(json_object_get(c, "rc"));
    if (!want)
        want = "ok";
    if (strcmp(want, rc_name(e)) != 0)
        fail_msg("%s: returned %s, want %s", what, rc_name(e), want);
}

static void expect_contains(const char *got, const char *want, const char *what)
{
    if (!got || !strstr(got, want))
        fail_msg("%s: \"%s\" does not contain \"%s\"", what, got ? got : "(null)", want);
}

/* What must hold for any input. */
static void check_result(const char *kind, ctx_err rc, const struct parse_result *r,
                         const char *what)
{
    if (rc != CTX_OK) {
        if ((rc != CTX_EPARSE && rc != CTX_EHTTP) || r->nitems || r->cursor || !r->error[0])
            fail_msg("%s: %s must come with a reason, no items and no cursor", what,
                     rc_name(rc));
        return;
    }
    if (r->bozo && !r->error[0])
        fail_msg("%s: bozo without a reason", what);
    size_t kl = strlen(kind);
    for (size_t i = 0; i < r->nitems; i++) {
        const struct item *it = &r->items[i];
        if (!it->id || strncmp(it->id, kind, kl) != 0 || it->id[kl] != ':')
            fail_msg("%s: item %zu id \"%s\" is not \"%s:...\"", what, i,
                     it->id ? it->id : "(null)", kind);
        if (!it->source || !it->kind || !it->fetched || !it->published)
            fail_msg("%s: item %zu lacks source, kind, fetched or published", what, i);
        long long t;
        if (ctx_date_parse(it->published, &t) != 0)
            fail_msg("%s: item %zu published \"%s\" is not a date", what, i, it->published);
        if (it->author.followers < -1)
            fail_msg("%s: item %zu followers %ld", what, i, it->author.followers);
        if ((it->reply_network == NULL) != (it->reply_ref == NULL))
            fail_msg("%s: item %zu has half a reply_to", what, i);
        const char *fields[] = {it->id, it->url, it->author.handle, it->author.name, it->title,
                                it->text, it->lang, it->published, it->reply_ref};
        for (size_t k = 0; k < CTX_ARRAY_LEN(fields); k++)
            if (fields[k] && !tu_valid_utf8(fields[k], strlen(fields[k])))
                fail_msg("%s: item %zu field %zu is not UTF-8", what, i, k);
        for (size_t j = 0; j < i; j++)
            if (strcmp(r->items[j].id, it->id) == 0)
                fail_msg("%s: id %s twice in one result", what, it->id);
    }
}

static json_t *items_json(const struct parse_result *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->nitems; i++)
        json_array_append_new(a, item_to_json(&r->items[i], NULL));
    return a;
}

static ctx_err do_parse(const struct source_ops *ops, const struct config_source *src,
                        const char *cursor, const char *body, size_t len, const char *url,
                        const char *fetched, struct parse_result *r)
{
    struct http_response resp = {.status = 200, .body = body, .len = len,
                                 .content_type = "application/json", .url = url};
    memset(r, 0, sizeof *r);
    return ops->parse(src, cursor, &resp, fetched, r);
}

/* ---- the tables -------------------------------------------------------------------- */

static void check_request(const json_t *c, const struct source_request *q, const char *what)
{
    const char *url = json_string_value(json_object_get(c, "url"));
    if (url && (!q->url || strcmp(url, q->url) != 0))
        fail_msg("%s: url\n  want %s\n  got  %s", what, url, q->url ? q->url : "(null)");
    const json_t *m = json_object_get(c, "method");
    const char *method = json_string_value(m);
    if (m && strcmp(method, q->method ? q->method : "GET") != 0)
        fail_msg("%s: method %s, want %s", what, q->method ? q->method : "GET", method);
    const json_t *h = json_object_get(c, "headers");
    if (h) {
        json_t *got = json_array();
        for (size_t i = 0; i < q->headers.n; i++)
            json_array_append_new(got, json_string(q->headers.v[i]));
        expect_subset(h, got, what);
        json_decref(got);
    }
    double t;
    const json_t *tj = json_object_get(c, "timeout");
    if (tj && (t = json_number_value(tj)) != q->timeout)
        fail_msg("%s: timeout %g, want %g", what, q->timeout, t);
}

static void case_validate(const char *kind, const struct source_ops *ops, const json_t *c,
                          const struct config_source *src, const char *what)
{
    (void)kind;
    char err[256] = "";
    ctx_err e = ops->validate(src, err, sizeof err);
    const char *want = json_string_value(json_object_get(c, "error"));
    if (!want && e)
        fail_msg("%s: unexpected error \"%s\"", what, err);
    if (want && (e != CTX_ECONFIG || !strstr(err, want)))
        fail_msg("%s: got \"%s\", want \"%s\"", what, e ? err : "ok", want);
}

static void case_request(const char *kind, const struct source_ops *ops, const json_t *c,
                         const struct config_source *src, const char *what)
{
    (void)kind;
    struct source_request q = {0};
    ctx_err e = ops->next_request(src, jstr(c, "cursor"), &q);
    expect_rc(e, c, what);
    if (!e)
        check_request(c, &q, what);
    source_request_clear(&q);
}

static void check_parse(const char *kind, const json_t *c, ctx_err e,
                        const struct parse_result *r, const char *what)
{
    check_result(kind, e, r, what);
    expect_rc(e, c, what);
    const char *err = json_string_value(json_object_get(c, "error"));
    if (err)
        expect_contains(r->error, err, what);
    const json_t *bozo = json_object_get(c, "bozo");
    if (bozo && json_is_true(bozo) != r->bozo)
        fail_msg("%s: bozo %d (%s)", what, r->bozo, r->error);
    const json_t *n = json_object_get(c, "nitems");
    if (n && (size_t)json_integer_value(n) != r->nitems)
        fail_msg("%s: %zu items, want %lld", what, r->nitems, (long long)json_integer_value(n));
    const json_t *cur = json_object_get(c, "cursor_out");
    if (cur) {
        const char *want = json_string_value(cur);
        if ((want == NULL) != (r->cursor == NULL) || (want && strcmp(want, r->cursor) != 0))
            fail_msg("%s: cursor \"%s\", want \"%s\"", what, r->cursor ? r->cursor : "(null)",
                     want ? want : "(null)");
    }
    json_t *items = items_json(r);
    const json_t *ids = json_object_get(c, "ids");
    if (ids) {
        json_t *got = json_array();
        for (size_t i = 0; i < r->nitems; i++)
            json_array_append_new(got, json_string(r->items[i].id));
        expect_subset(ids, got, what);
        json_decref(got);
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(c, "item"), k, v) {
        long idx = strtol(k, NULL, 10);
        if (idx < 0)
            idx += (long)r->nitems;
        if (idx < 0 || (size_t)idx >= r->nitems)
            fail_msg("%s: no item %s", what, k);
        char w[400];
        snprintf(w, sizeof w, "%s item %s", what, k);
        expect_subset(v, json_array_get(items, (size_t)idx), w);
    }
    json_decref(items);
    const json_t *extra = json_object_get(c, "extra");
    if (extra)
        expect_subset(extra, r->extra, what);
}

static void case_parse(const char *kind, const struct source_ops *ops, const json_t *c,
                       const struct config_source *src, const char *what)
{
    size_t len;
    char *body = case_body(kind, c, &len);
    struct parse_result r;
    ctx_err e = do_parse(ops, src, jstr(c, "cursor"), body, len, jstr(c, "resp_url"),
                         case_fetched(c), &r);
    check_parse(kind, c, e, &r, what);
    parse_result_clear(&r);
    free(body);
}

static void case_steps(const char *kind, const struct source_ops *ops, const json_t *c,
                       const struct config_source *src, const char *what)
{
    char *cursor = jstr(c, "cursor") ? strdup(jstr(c, "cursor")) : NULL;
    json_t *seen = json_object();
    size_t s;
    json_t *step;
    json_array_foreach(json_object_get(c, "pages"), s, step) {
        char page[400];
        snprintf(page, sizeof page, "%s, page %zu", what, s + 1);
        struct source_request q = {0};
        ctx_err e = ops->next_request(src, cursor, &q);
        if (e)
            fail_msg("%s: next_request: %s", page, ctx_strerror(e));
        check_request(step, &q, page);
        source_request_clear(&q);
        size_t len;
        char *body = case_body(kind, step, &len);
        struct parse_result r;
        e = do_parse(ops, src, cursor, body, len, NULL, case_fetched(c), &r);
        if (!json_object_get(step, "cursor_out"))
            fail_msg("%s: a step must say its cursor_out", page);
        check_parse(kind, step, e, &r, page);
        const json_t *repeats = json_object_get(step, "repeats");
        for (size_t k = 0; k < r.nitems; k++) {
            const char *id = r.items[k].id;
            bool allowed = false;
            size_t x;
            json_t *rv;
            json_array_foreach(repeats, x, rv)
                allowed = allowed || strcmp(json_string_value(rv), id) == 0;
            if (json_object_get(seen, id) && !allowed)
                fail_msg("%s: %s read again (a repeat not expected)", page, id);
            json_object_set_new(seen, id, json_true());
        }
        if (e == CTX_OK && r.cursor) {   /* as collect.c: keep the old one when NULL */
            free(cursor);
            cursor = strdup(r.cursor);
        }
        parse_result_clear(&r);
        free(body);
    }
    json_decref(seen);
    free(cursor);
}

static void case_reply(const char *kind, const struct source_ops *ops, const json_t *c,
                       const struct config_source *src, const char *what)
{
    (void)kind;
    const json_t *rj = json_object_get(c, "reply");
    struct reply rep = {jstr(rj, "id"), jstr(rj, "item_id"), jstr(rj, "ref"), jstr(rj, "text"),
                        jstr(rj, "created")};
    struct source_request q = {0};
    if (!ops->reply_request) {
        if (!json_is_null(json_object_get(c, "rc")))
            fail_msg("%s: this kind has no reply_request: say \"rc\": null", what);
        return;
    }
    ctx_err e = ops->reply_request(src, &rep, &q);
    expect_rc(e, c, what);
    if (e) {
        if (q.url || buf_len(&q.body) || q.headers.n)
            fail_msg("%s: a failed reply_request left a half-built request", what);
        return;
    }
    check_request(c, &q, what);
    const char *body = jstr(c, "body");
    if (body && strcmp(body, buf_str(&q.body)) != 0)
        fail_msg("%s: body\n  want %s\n  got  %s", what, body, buf_str(&q.body));
    const json_t *jb = json_object_get(c, "json");
    if (jb) {
        json_error_t je;
        json_t *got = json_loadb(buf_str(&q.body), buf_len(&q.body), 0, &je);
        if (!got || !json_equal((json_t *)jb, got)) {
            char *w = json_dumps(jb, JSON_COMPACT | JSON_SORT_KEYS);
            fail_msg("%s: JSON body\n  want %s\n  got  %s", what, w, buf_str(&q.body));
        }
        json_decref(got);
    }
    source_request_clear(&q);
}

static void case_reply_result(const char *kind, const struct source_ops *ops, const json_t *c,
                              const struct config_source *src, const char *what)
{
    (void)src;
    static const char *const names[] = {"posted", "retry", "failed"};
    size_t len = 0;
    char *body = json_object_get(c, "file") || json_object_get(c, "body")
                     ? case_body(kind, c, &len) : NULL;
    struct http_response resp = {.status = json_integer_value(json_object_get(c, "status")),
                                 .body = body, .len = len, .content_type = "application/json"};
    struct reply_outcome out;
    memset(&out, 0x5a, sizeof out);
    ops->reply_result(&resp, &out);
    const char *want = jstr(c, "outcome");
    if (!want || (unsigned)out.status > 2 || strcmp(names[out.status], want) != 0)
        fail_msg("%s: %s (%s), want %s", what, (unsigned)out.status <= 2 ? names[out.status]
                 : "?", out.error, want ? want : "(none)");
    if (jstr(c, "ref") && strcmp(jstr(c, "ref"), out.ref) != 0)
        fail_msg("%s: ref \"%s\", want \"%s\"", what, out.ref, jstr(c, "ref"));
    if (jstr(c, "error"))
        expect_contains(out.error, jstr(c, "error"), what);
    if (out.status != REPLY_POSTED && !out.error[0])
        fail_msg("%s: not posted without a reason", what);
    const json_t *ra = json_object_get(c, "retry_after");
    if (json_number_value(ra) != out.retry_after)
        fail_msg("%s: retry_after %g, want %g", what, out.retry_after, json_number_value(ra));
    if (!memchr(out.ref, 0, sizeof out.ref) || !memchr(out.error, 0, sizeof out.error))
        fail_msg("%s: outcome strings not terminated", what);
    free(body);
}

/* The sections of cases.json and what checks one case of each. */
static const struct {
    const char *name;
    void (*run)(const char *kind, const struct source_ops *ops, const json_t *c,
                const struct config_source *src, const char *what);
} sections[] = {
    {"validate", case_validate}, {"request", case_request}, {"parse", case_parse},
    {"steps", case_steps}, {"reply", case_reply}, {"reply_result", case_reply_result},
};

static void test_kind(void **state)
{
    const char *kind = *state;
    const struct source_ops *ops = source_ops_find(kind);
    assert_non_null(ops);
    assert_string_equal(ops->kind, kind);
    json_t *cases = load_cases(kind);
    const char *sec;
    json_t *v;
    json_object_foreach(cases, sec, v) {
        size_t k = 0;
        while (k < CTX_ARRAY_LEN(sections) && strcmp(sections[k].name, sec) != 0)
            k++;
        if (k == CTX_ARRAY_LEN(sections)) {
            if (sec[0] != '_')          /* "_comment" and the like */
                fail_msg("%s/cases.json: unknown section \"%s\"", kind, sec);
            continue;
        }
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) {
            char what[300];
            struct config_source src;
            case_open(kind, sec, c, i, what, sizeof what, &src);
            sections[k].run(kind, ops, c, &src, what);
        }
    }
    json_decref(cases);
}

/* ---- hostile input --------------------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static const char *const odd_cursors[] = {
    NULL, "", "0", "-1", "99999999999999999999999", "714859",
    "since=1&top=9999999999&page=%ZZ&after=5&until=3&id=7&before=t3_x&empty=99&from=a%26b",
    "since=&top=&page=&after=&until=&id=&before=&empty=&from=&offset=",
};

static void hostile_one(const char *kind, const struct source_ops *ops, const char *body,
                        size_t len, const char *what)
{
    struct config_source src = {.name = "fuzz", .kind = (char *)kind,
                                .url = "https://fuzz.example", .query = "acme", .tag = "acme",
                                .subreddit = "acme", .token = "123:tok"};
    static size_t turn;
    const char *cursors[2] = {NULL, odd_cursors[1 + turn++ % (CTX_ARRAY_LEN(odd_cursors) - 1)]};
    for (size_t k = 0; k < 2; k++) {
        struct parse_result r;
        ctx_err e = do_parse(ops, &src, cursors[k], body, len, NULL, FETCHED, &r);
        check_result(kind, e, &r, what);
        parse_result_clear(&r);
    }
    /* answers to replies are read from the same kind of bodies */
    if (ops->reply_result) {
        static const long statuses[] = {200, 429, 500, 400};
        struct http_response resp = {.status = statuses[len % 4], .body = body, .len = len};
        struct reply_outcome out;
        ops->reply_result(&resp, &out);
        if ((unsigned)out.status > 2 || !memchr(out.error, 0, sizeof out.error)
            || !memchr(out.ref, 0, sizeof out.ref)
            || (out.status != REPLY_POSTED && !out.error[0]))
            fail_msg("%s: reply_result gave an inconsistent outcome", what);
    }
}

static void hostile_file(const char *kind, const struct source_ops *ops, const char *path)
{
    size_t len;
    char *doc = tu_read(path, &len);
    if (!doc)
        fail_msg("cannot read %s", path);
    char what[600];
    char *buf = malloc(len + 1);
    assert_non_null(buf);
    /* truncations: every length of small files, a sample of big ones (about
     * 1 MB of input per file and way, so the suite stays fast under ASan) */
    size_t sample = len ? 1000000 / len : 1;
    sample = sample < 8 ? 8 : sample > 160 ? 160 : sample;
    size_t cuts = len <= 2000 ? len + 1 : sample;
    for (size_t i = 0; i < cuts; i++) {
        size_t n = len <= 2000 ? i : (size_t)(tu_rand(&rng) % (len + 1));
        memcpy(buf, doc, n);
        buf[n] = '\0';
        snprintf(what, sizeof what, "%s: %s cut at %zu", kind, path, n);
        hostile_one(kind, ops, buf, n, what);
    }
    /* changed bytes: structure characters, quotes, escapes, high bytes */
    static const char pool[] = "{}[]\":,\\0-9e.ntfu\x80\xff\xc3 ";
    for (size_t i = 0; i < (sample < 120 ? sample : 120) && len; i++) {
        memcpy(buf, doc, len);
        buf[len] = '\0';
        int flips = 1 + (int)(tu_rand(&rng) % 4);
        for (int f = 0; f < flips; f++)
            buf[tu_rand(&rng) % len] = pool[tu_rand(&rng) % (sizeof pool - 1)];
        snprintf(what, sizeof what, "%s: %s with bytes changed (round %zu)", kind, path, i);
        hostile_one(kind, ops, buf, len, what);
    }
    free(buf);
    free(doc);
}

/* Every file of the kind's folder, and every corpus file its cases name. */
static void test_hostile(void **state)
{
    const char *kind = *state;
    const struct source_ops *ops = source_ops_find(kind);
    assert_non_null(ops);
    char dir[256], path[512];
    snprintf(dir, sizeof dir, DATA "/%s", kind);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "cases.json") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        hostile_file(kind, ops, path);
        files++;
    }
    closedir(d);
    json_t *cases = load_cases(kind);
    json_t *done = json_object();
    const char *sec;
    json_t *v;
    json_object_foreach(cases, sec, v) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) {
            json_t *pages = json_object_get(c, "pages");
            json_t *one = json_pack("[O]", c);
            size_t k;
            json_t *p;
            json_array_foreach(pages ? pages : one, k, p) {
                const char *f = json_string_value(json_object_get(p, "file"));
                if (f && strncmp(f, "../", 3) == 0 && !json_object_get(done, f)) {
                    json_object_set_new(done, f, json_true());
                    hostile_file(kind, ops, f);
                    files++;
                }
            }
            json_decref(one);
        }
    }
    json_decref(done);
    json_decref(cases);
    assert_true(files > 3);
    /* deep nesting and junk */
    struct buf deep = {0};
    for (int i = 0; i < 100000; i++)
        buf_putc(&deep, i < 50000 ? '[' : ']');
    hostile_one(kind, ops, buf_str(&deep), buf_len(&deep), "deeply nested arrays");
    buf_reset(&deep);
    for (int i = 0; i < 20000; i++)
        buf_puts(&deep, "{\"a\":");
    hostile_one(kind, ops, buf_str(&deep), buf_len(&deep), "deeply nested objects, cut");
    buf_free(&deep);
    hostile_one(kind, ops, "", 0, "empty body");
    hostile_one(kind, ops, "null", 4, "null");
    hostile_one(kind, ops, "\xef\xbb\xbf{}", 5, "BOM and an empty object");
}

/* The Telegram token is in every URL the kind builds: it must never reach an
 * error message, an item or r->extra, whatever the answer. */
static void test_telegram_token_stays_secret(void **state)
{
    (void)state;
    const struct source_ops *ops = source_ops_find("telegram");
    static const char token[] = "7000000001:AAHsecretSECRETsecret_-x";
    struct config_source src = {.name = "bot", .kind = "telegram", .token = (char *)token};
    DIR *d = opendir(DATA "/telegram");
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, DATA "/telegram/%s", de->d_name);
        size_t len;
        char *body = tu_read(path, &len);
        assert_non_null(body);
        struct parse_result r;
        ctx_err e = do_parse(ops, &src, "1", body, len, NULL, FETCHED, &r);
        (void)e;
        json_t *all = json_pack("{s:o, s:O?, s:s}", "items", items_json(&r), "extra", r.extra,
                                "error", r.error);
        char *dump = json_dumps(all, JSON_COMPACT);
        if (strstr(dump, "AAHsecret"))
            fail_msg("%s: the token leaked: %s", path, dump);
        free(dump);
        json_decref(all);
        parse_result_clear(&r);
        for (long st = 200; st <= 502; st += 101) {
            struct http_response resp = {.status = st, .body = body, .len = len};
            struct reply_outcome out;
            ops->reply_result(&resp, &out);
            if (strstr(out.error, "AAHsecret") || strstr(out.ref, "AAHsecret"))
                fail_msg("%s: the token leaked into a reply outcome", path);
        }
        free(body);
    }
    closedir(d);
    char err[256] = "";
    struct config_source bad = src;
    bad.token = "123:abc def";
    assert_int_equal(ops->validate(&bad, err, sizeof err), CTX_ECONFIG);
    assert_null(strstr(err, "abc def"));
}

/* A response with more entries than any real page is read up to a cap; for
 * Telegram the cursor then stops where reading stopped, so nothing is lost. */
static void test_caps(void **state)
{
    (void)state;
    struct buf b = {0};
    buf_putc(&b, '[');
    for (int i = 1; i <= 1500; i++)
        buf_printf(&b, "%s{\"id\":\"%d\",\"content\":\"x\"}", i > 1 ? "," : "", i);
    buf_putc(&b, ']');
    struct config_source src = {.name = "cap", .kind = "mastodon", .url = "https://m.example",
                                .tag = "x"};
    struct parse_result r;
    ctx_err e = do_parse(source_ops_find("mastodon"), &src, NULL, buf_str(&b), buf_len(&b), NULL, FETCHED, &r);
    assert_int_equal(e, CTX_OK);
    assert_int_equal(r.nitems, 1000);
    assert_true(r.bozo);
    assert_non_null(strstr(r.error, "more than 1000"));
    parse_result_clear(&r);
    buf_reset(&b);
    buf_puts(&b, "{\"ok\":true,\"result\":[");
    for (int i = 1; i <= 1500; i++)
        buf_printf(&b, "%s{\"update_id\":%d,\"message\":{\"message_id\":%d,\"chat\":{\"id\":1,"
                   "\"type\":\"private\"},\"date\":1,\"text\":\"m\"}}", i > 1 ? "," : "",
                   500 + i, i);
    buf_puts(&b, "]}");
    struct config_source bot = {.name = "bot", .kind = "telegram", .token = "1:a"};
    e = do_parse(source_ops_find("telegram"), &bot, NULL, buf_str(&b), buf_len(&b), NULL, FETCHED, &r);
    assert_int_equal(e, CTX_OK);
    assert_int_equal(r.nitems, 1000);
    assert_string_equal(r.cursor, "1501");   /* update 1500 (the 1000th) + 1 */
    assert_string_equal(r.items[0].id, "telegram:1:1000");
    parse_result_clear(&r);
    buf_free(&b);
}

/* Every kind is in the table, once, and ids of different kinds never meet. */
static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < CTX_ARRAY_LEN(kinds); i++) {
        const struct source_ops *ops = source_ops_find(kinds[i]);
        assert_non_null(ops);
        assert_non_null(ops->validate);
        assert_non_null(ops->next_request);
        assert_non_null(ops->parse);
        assert_true((ops->reply_request == NULL) == (ops->reply_result == NULL));
        assert_true(strcmp(ops->item_kind, "social") == 0 || strcmp(ops->item_kind, "forum") == 0
                    || strcmp(ops->item_kind, "messaging") == 0);
    }
    assert_non_null(source_ops_find("feed"));
    assert_null(source_ops_find("myspace"));
    assert_null(source_ops_find(""));
}

int main(void)
{
    struct CMUnitTest tests[2 * CTX_ARRAY_LEN(kinds) + 3];
    size_t n = 0;
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_table);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_caps);
    for (size_t i = 0; i < CTX_ARRAY_LEN(kinds); i++) {
        tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(test_kind, (void *)kinds[i]);
        tests[n++].name = kinds[i];
    }
    for (size_t i = 0; i < CTX_ARRAY_LEN(kinds); i++) {
        static char names[CTX_ARRAY_LEN(kinds)][40];
        snprintf(names[i], sizeof names[i], "%s hostile input", kinds[i]);
        tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(test_hostile, (void *)kinds[i]);
        tests[n++].name = names[i];
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_telegram_token_stays_secret);
    return _cmocka_run_group_tests("social", tests, n, NULL, NULL);
}
