/* test_feed.c -- the feed source kind (collectors/feed.c) and its XML
 * tokenizer (collectors/xml.c).
 *
 * Data, not code, says what is expected:
 *  - tests/data/collectors/xml.tsv: documents and the token stream they give;
 *  - tests/data/feeds/<case>.json: one of our recorded feeds (named by
 *    "file"), how it was served, and the items and r->extra it must give
 *    (objects compared as subsets: what the case names must match);
 *  - tests/data/collectors/feedparser.tsv: expectations from Python
 *    feedparser's own test suite, checked against r->extra;
 *  - every file of ../shared/corpora/feedparser/tests/ must parse without a
 *    crash (ASan/UBSan watch), then truncated and byte-flipped copies with a
 *    fixed seed, then generated hostile documents.
 * Run from the repository root. */
#define _GNU_SOURCE      /* nftw */
#include <dirent.h>
#include <ftw.h>
#include <iconv.h>
#include <stdint.h>
#include <time.h>
#include "core/date.h"
#include "tests/collectors/testutil.h"
#include "collectors/collectors.h"
#include "collectors/collectors_internal.h"

#define CORPUS  "../shared/corpora/feedparser/tests"
#define FEEDS   "tests/data/feeds"
#define NAME    "acme"
#define FETCHED "2026-11-22T12:00:00Z"

/* ---- helpers ------------------------------------------------------------ */

static ctx_err parse(const char *body, size_t len, const char *ct, const char *url,
                     struct parse_result *r)
{
    struct http_response resp = {.status = 200, .body = body, .len = len, .content_type = ct,
                                 .url = url};
    memset(r, 0, sizeof *r);
    return feed_parse(NAME, &resp, FETCHED, r);
}

/* What must hold for any input: CTX_OK with consistent items and extra, or
 * CTX_EPARSE with a reason and nothing else. */
static void check_result(ctx_err rc, const struct parse_result *r, const char *what)
{
    if (rc == CTX_EPARSE) {
        if (r->nitems || r->extra || !r->error[0])
            fail_msg("%s: CTX_EPARSE must come with a reason and no items", what);
        return;
    }
    if (rc != CTX_OK)
        fail_msg("%s: feed_parse returned %s", what, ctx_strerror(rc));
    if (!json_is_object(r->extra))
        fail_msg("%s: no extra", what);
    json_t *entries = json_object_get(r->extra, "entries");
    if (!json_is_array(entries) || json_array_size(entries) != r->nitems
        || !json_is_object(json_object_get(r->extra, "feed"))
        || json_is_true(json_object_get(r->extra, "bozo")) != r->bozo)
        fail_msg("%s: extra does not match the items", what);
    if (r->bozo && !r->error[0])
        fail_msg("%s: bozo without a reason", what);
    assert_true(r->nitems <= 10000);
    for (size_t i = 0; i < r->nitems; i++) {
        const struct item *it = &r->items[i];
        const char *fields[] = {it->id, it->source, it->kind, it->url, it->author.handle,
                                it->title, it->text, it->lang, it->published, it->fetched};
        for (size_t k = 0; k < CTX_ARRAY_LEN(fields); k++)
            if (fields[k] && !tu_valid_utf8(fields[k], strlen(fields[k])))
                fail_msg("%s: item %zu field %zu is not UTF-8", what, i, k);
        long long t;
        if (!it->id || strncmp(it->id, "feed:" NAME ":", 10) || strlen(it->id) > 10 + 200
            || strlen(it->id) == 10 || strcmp(it->source, NAME) || strcmp(it->kind, "blog")
            || !it->published || ctx_date_parse(it->published, &t) || strcmp(it->fetched, FETCHED)
            || it->author.name || it->reply_network || it->reply_ref)
            fail_msg("%s: item %zu is malformed (id %s, published %s)", what, i,
                     it->id ? it->id : "NULL", it->published ? it->published : "NULL");
        json_t *j = item_to_json(it, NULL);
        if (!j)
            fail_msg("%s: item %zu does not serialise", what, i);
        json_decref(j);
    }
    char *dump = json_dumps(r->extra, 0);
    if (!dump)
        fail_msg("%s: extra does not serialise", what);
    free(dump);
}

static uint64_t rng = 0x2545F4914F6CDD1DULL;

/* The Content-Type a corpus file asks for in its "Header:" comment. */
static char *corpus_content_type(const char *doc)
{
    const char *h = strstr(doc, "Header:");
    if (!h || h - doc > 2000)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    if (strncasecmp(h, "Content-type:", 13))
        return NULL;
    h += 13;
    while (*h == ' ')
        h++;
    return strndup(h, strcspn(h, "\r\n"));
}

/* ---- the tokenizer ------------------------------------------------------ */

static void xml_row(const struct tu_row *r, void *arg)
{
    int *failures = arg;
    struct xml_parser x;
    struct buf out = {0};
    xml_init(&x, r->col[0], r->len[0]);
    enum xml_event ev;
    int guard = 0;
    while ((ev = xml_next(&x)) != XML_EOF && guard++ < 10000) {
        if (ev == XML_START) {
            buf_putc(&out, '<');
            if (x.ns)
                buf_printf(&out, "{%s}", x.ns);
            buf_append(&out, x.name.local, x.name.llen);
            for (size_t i = 0; i < x.nattrs; i++)
                if (!x.attrs[i].xmlns)
                    buf_printf(&out, " %.*s=%s", (int)x.attrs[i].name.qlen, x.attrs[i].name.q,
                               x.attrs[i].value);
            buf_putc(&out, '>');
        } else if (ev == XML_END) {
            buf_printf(&out, "</%.*s>", (int)x.name.llen, x.name.local);
        } else {
            buf_append(&out, x.text, x.text_len);
        }
    }
    const char *want = r->ncols > 1 ? r->col[1] : "";
    bool bozo = r->ncols > 2 && r->col[2][0] == '1';
    if (strcmp(buf_str(&out), want) || x.bozo != bozo) {
        print_error("xml.tsv:%d: got '%s' bozo=%d (%s), want '%s' bozo=%d\n", r->line,
                    buf_str(&out), x.bozo, x.error, want, bozo);
        (*failures)++;
    }
    buf_free(&out);
    xml_free(&x);
}

static void test_xml_table(void **state)
{
    (void)state;
    int failures = 0;
    assert_true(tu_tsv("tests/data/collectors/xml.tsv", 1, xml_row, &failures) > 40);
    assert_int_equal(failures, 0);
}

static void test_xml_attr_lookup(void **state)
{
    (void)state;
    static const char doc[] = "<a xmlns:x='urn:x' xml:base='b' HREF='h' x:rel='r' rel='plain'/>";
    struct xml_parser x;
    xml_init(&x, doc, sizeof doc - 1);
    assert_int_equal(xml_next(&x), XML_START);
    assert_string_equal(xml_attr_get(&x, NULL, "href"), "h");
    assert_string_equal(xml_attr_get(&x, NULL, "rel"), "plain");
    assert_string_equal(xml_attr_get(&x, "urn:x", "rel"), "r");
    assert_string_equal(xml_attr_get(&x, XML_NS_XML, "base"), "b");
    assert_null(xml_attr_get(&x, NULL, "base"));
    assert_null(xml_attr_get(&x, NULL, "x"));
    assert_int_equal(xml_next(&x), XML_END);
    assert_int_equal(xml_next(&x), XML_EOF);
    assert_int_equal(xml_next(&x), XML_EOF);
    assert_false(x.bozo);
    xml_free(&x);
}

/* ---- recorded feeds ----------------------------------------------------- */

static int feed_case(const char *jsonpath)
{
    json_error_t jerr;
    json_t *c = json_load_file(jsonpath, 0, &jerr);
    if (!c)
        fail_msg("%s: %s", jsonpath, jerr.text);
    char path[512];
    snprintf(path, sizeof path, FEEDS "/%s", json_string_value(json_object_get(c, "file")));
    size_t len;
    char *body = tu_read(path, &len);
    if (!body)
        fail_msg("%s: cannot read %s", jsonpath, path);
    struct parse_result r;
    ctx_err rc = parse(body, len, json_string_value(json_object_get(c, "content_type")),
                       json_string_value(json_object_get(c, "url")), &r);
    check_result(rc, &r, jsonpath);
    int failures = 0;
    const char *want_rc = json_string_value(json_object_get(c, "rc"));
    if (strcmp(want_rc, rc == CTX_OK ? "ok" : "parse")) {
        print_error("%s: rc %s, want %s (%s)\n", jsonpath, ctx_strerror(rc), want_rc, r.error);
        failures++;
    }
    const char *prefix = json_string_value(json_object_get(c, "error_prefix"));
    if (prefix && strncmp(r.error, prefix, strlen(prefix))) {
        print_error("%s: error '%s', want '%s...'\n", jsonpath, r.error, prefix);
        failures++;
    }
    json_t *want_bozo = json_object_get(c, "bozo");
    if (want_bozo && json_is_true(want_bozo) != r.bozo) {
        print_error("%s: bozo %d (%s)\n", jsonpath, r.bozo, r.error);
        failures++;
    }
    char where[256] = "extra";
    json_t *want_extra = json_object_get(c, "extra");
    if (want_extra && !tu_json_subset(want_extra, r.extra, where, sizeof where)) {
        print_error("%s: mismatch at %s\n", jsonpath, where);
        failures++;
    }
    json_t *want_items = json_object_get(c, "items");
    if (want_items) {
        json_t *got = json_array();
        for (size_t i = 0; i < r.nitems; i++)
            json_array_append_new(got, item_to_json(&r.items[i], NULL));
        snprintf(where, sizeof where, "items");
        if (!tu_json_subset(want_items, got, where, sizeof where)) {
            char *s = json_dumps(got, JSON_INDENT(1));
            print_error("%s: mismatch at %s; got %s\n", jsonpath, where, s);
            free(s);
            failures++;
        }
        json_decref(got);
    }
    parse_result_clear(&r);
    free(body);
    json_decref(c);
    return failures;
}

static void test_recorded_feeds(void **state)
{
    (void)state;
    DIR *d = opendir(FEEDS);
    assert_non_null(d);
    struct dirent *de;
    int cases = 0, failures = 0;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json"))
            continue;
        char path[512];
        snprintf(path, sizeof path, FEEDS "/%s", de->d_name);
        failures += feed_case(path);
        cases++;
    }
    closedir(d);
    assert_true(cases >= 8);
    assert_int_equal(failures, 0);
}

/* ---- feedparser's expectations ------------------------------------------ */

struct fp_state {
    char file[512];
    struct parse_result r;
    bool have;
    int failures, rows;
};

static const json_t *lookup(const json_t *extra, const char *key)
{
    char k[128];
    snprintf(k, sizeof k, "%s", key);
    const json_t *o = extra;
    for (char *save, *part = strtok_r(k, ".", &save); part && o; part = strtok_r(NULL, ".", &save))
        o = json_is_array(o) ? json_array_get(o, strtoul(part, NULL, 10)) : json_object_get(o, part);
    return o;
}

static void fp_row(const struct tu_row *row, void *arg)
{
    struct fp_state *s = arg;
    if (!s->have || strcmp(s->file, row->col[0])) {
        if (s->have)
            parse_result_clear(&s->r);
        snprintf(s->file, sizeof s->file, "%s", row->col[0]);
        char path[600];
        snprintf(path, sizeof path, CORPUS "/%s", row->col[0]);
        size_t len;
        char *body = tu_read(path, &len);
        if (!body)
            fail_msg("cannot read %s", path);
        char *ct = corpus_content_type(body);
        ctx_err rc = parse(body, len, ct, NULL, &s->r);
        check_result(rc, &s->r, path);
        free(ct);
        free(body);
        s->have = true;
    }
    s->rows++;
    const char *key = row->col[1], *want = row->col[2];
    const json_t *got = lookup(s->r.extra, key);
    const char *g = json_is_string(got) ? json_string_value(got)
                  : json_is_true(got) ? "true" : json_is_false(got) ? "false" : NULL;
    if (!g || strcmp(g, want)) {
        print_error("feedparser.tsv:%d: %s %s = '%s', want '%s'\n", row->line, row->col[0], key,
                    g ? g : "(null)", want);
        s->failures++;
    }
}

static void test_feedparser_expectations(void **state)
{
    (void)state;
    DIR *d = opendir(CORPUS);
    if (!d)
        skip();
    closedir(d);
    struct fp_state s = {0};
    tu_tsv("tests/data/collectors/feedparser.tsv", 3, fp_row, &s);
    if (s.have)
        parse_result_clear(&s.r);
    print_message("feedparser expectations: %d checked, %d failed\n", s.rows, s.failures);
    assert_true(s.rows > 400);
    assert_int_equal(s.failures, 0);
}

/* ---- robustness --------------------------------------------------------- */

static int corpus_files, corpus_ok, corpus_eparse, corpus_bozo;

static int corpus_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag != FTW_F)
        return 0;
    size_t len;
    char *body = tu_read(path, &len);
    assert_non_null(body);
    char *ct = corpus_content_type(body);
    struct parse_result r;
    ctx_err rc = parse(body, len, ct, "http://127.0.0.1:8097/tests/feed.xml", &r);
    check_result(rc, &r, path);
    corpus_files++;
    corpus_ok += rc == CTX_OK;
    corpus_eparse += rc == CTX_EPARSE;
    corpus_bozo += rc == CTX_OK && r.bozo;
    parse_result_clear(&r);
    free(ct);
    free(body);
    return 0;
}

static void test_corpus_never_crashes(void **state)
{
    (void)state;
    DIR *d = opendir(CORPUS);
    if (!d)
        skip();
    closedir(d);
    assert_int_equal(nftw(CORPUS, corpus_one, 16, FTW_PHYS), 0);
    print_message("feedparser corpus: %d files, %d parsed (%d bozo), %d not feeds\n",
                  corpus_files, corpus_ok, corpus_bozo, corpus_eparse);
    assert_true(corpus_files > 1000);
}

static const char *const mutated[] = {
    FEEDS "/brand_rss2.xml", FEEDS "/brand_atom.xml", FEEDS "/cp1251_ru.xml",
    FEEDS "/truncated.xml", FEEDS "/latin1.xml",
    CORPUS "/wellformed/rss/item_guid.xml",
    CORPUS "/wellformed/atom10/entry_content_inline_markup.xml",
    CORPUS "/wellformed/rdf/rss090_item_title.xml",
    CORPUS "/encoding/utf-16le-bom.xml",
    CORPUS "/entities/hellip.xml",
};

static void mutate_parse(const char *what, const char *buf, size_t len, const char *ct)
{
    struct parse_result r;
    ctx_err rc = parse(buf, len, ct, "http://x.example/a/b", &r);
    check_result(rc, &r, what);
    parse_result_clear(&r);
}

static void test_truncations_and_flips(void **state)
{
    (void)state;
    static const char hot[] = "<>&;/!?[]\"'=#x: \n\0\xFF\xC3\xE2";
    static const char *const cts[] = {NULL, "application/xml", "text/xml; charset=koi8-r",
                                      "text/html", "application/rss+xml; charset=utf-16"};
    rng = 0x2545F4914F6CDD1DULL;
    int runs = 0;
    for (size_t f = 0; f < CTX_ARRAY_LEN(mutated); f++) {
        size_t len;
        char *orig = tu_read(mutated[f], &len);
        if (!orig)
            continue;                    /* corpus missing */
        char *m = malloc(len + 64);
        assert_non_null(m);
        for (int i = 0; i < 300; i++) {
            const char *ct = cts[tu_rand(&rng) % CTX_ARRAY_LEN(cts)];
            /* truncation: the copy is exactly as long as the prefix */
            size_t cut = len ? tu_rand(&rng) % len : 0;
            char *t = malloc(cut ? cut : 1);
            memcpy(t, orig, cut);
            mutate_parse(mutated[f], t, cut, ct);
            free(t);
            /* flips */
            memcpy(m, orig, len);
            int nflip = 1 + (int)(tu_rand(&rng) % 8);
            for (int k = 0; k < nflip && len; k++) {
                size_t at = tu_rand(&rng) % len;
                m[at] = tu_rand(&rng) % 2 ? hot[tu_rand(&rng) % (sizeof hot - 1)]
                                          : (char)tu_rand(&rng);
            }
            mutate_parse(mutated[f], m, len, ct);
            /* a cut-out range */
            if (len > 2) {
                size_t a = tu_rand(&rng) % len, b = a + tu_rand(&rng) % (len - a);
                memcpy(m, orig, a);
                memcpy(m + a, orig + b, len - b);
                mutate_parse(mutated[f], m, len - (b - a), ct);
            }
            runs += 3;
        }
        free(m);
        free(orig);
    }
    print_message("mutations: %d parses\n", runs);
    assert_true(runs >= 1500);
}

/* Documents written to hurt: each must finish (quickly: the suite would
 * time out on anything quadratic at these sizes) without a crash. */
static void test_hostile_documents(void **state)
{
    (void)state;
    const size_t big = 2u << 20;
    struct buf b = {0};
    struct parse_result r;
    ctx_err rc;

    /* 200k nested elements inside an item */
    buf_puts(&b, "<rss><channel><item><title>deep</title><description>");
    for (int i = 0; i < 200000; i++)
        buf_puts(&b, "<a>");
    buf_puts(&b, "x");
    rc = parse(buf_str(&b), buf_len(&b), NULL, NULL, &r);
    check_result(rc, &r, "deep nesting");
    assert_int_equal(rc, CTX_OK);
    assert_true(r.bozo);
    assert_int_equal(r.nitems, 1);
    parse_result_clear(&r);

    /* many attributes, long names, many namespace declarations */
    static const char *const parts[] = {" a=\"1\"", "x", " xmlns:p=\"urn:p\"", "&#65;", "&amp;",
                                        "<", "&", "<!--", "<![CDATA[", "]]>", "</a>", "<a>",
                                        "<?", "<!DOCTYPE [", "\"", "\xFF", "<item>", "&eacute;"};
    for (size_t p = 0; p < CTX_ARRAY_LEN(parts); p++) {
        buf_reset(&b);
        buf_puts(&b, "<rss><channel><item><title a");
        while (buf_len(&b) < big)
            buf_puts(&b, parts[p]);
        rc = parse(buf_str(&b), buf_len(&b), NULL, NULL, &r);
        check_result(rc, &r, parts[p]);
        parse_result_clear(&r);
    }

    /* entity expansion: 64 entities of 4 KiB, referenced a million times */
    buf_reset(&b);
    buf_puts(&b, "<!DOCTYPE rss [");
    for (int i = 0; i < 64; i++) {
        buf_printf(&b, "<!ENTITY e%d \"", i);
        for (int k = 0; k < 4096; k++)
            buf_putc(&b, 'x');
        buf_puts(&b, "\">");
    }
    buf_puts(&b, "]><rss><channel><item><title>");
    for (int i = 0; i < 1000000; i++)
        buf_printf(&b, "&e%d;", i % 64);
    buf_puts(&b, "</title></item></channel></rss>");
    rc = parse(buf_str(&b), buf_len(&b), NULL, NULL, &r);
    check_result(rc, &r, "entity expansion");
    assert_true(r.bozo);
    assert_non_null(strstr(r.error, "expansion"));
    parse_result_clear(&r);

    /* a 1 MB xml:base inherited by 20k entries: must not be copied into
     * every link */
    buf_reset(&b);
    buf_puts(&b, "<rss><channel xml:base=\"http://x.example/");
    for (int i = 0; i < (1 << 20); i++)
        buf_putc(&b, 'a');
    buf_puts(&b, "/\">");
    for (int i = 0; i < 20000; i++)
        buf_puts(&b, "<item xml:base=\"x/\"><link>l</link></item>");
    buf_puts(&b, "</channel></rss>");
    rc = parse(buf_str(&b), buf_len(&b), NULL, NULL, &r);
    check_result(rc, &r, "xml:base bomb");
    assert_int_equal(r.nitems, 10000);
    assert_true(strlen(r.items[0].url) < 4096);
    parse_result_clear(&r);

    /* 128 namespace declarations in scope, thousands of unbound prefixes */
    buf_reset(&b);
    buf_puts(&b, "<rss>");
    for (int d = 0; d < 4; d++) {
        buf_puts(&b, "<x");
        for (int i = 0; i < 40; i++)
            buf_printf(&b, " xmlns:%c%c=\"urn:%d:%d\"", 'a' + d, 'a' + i % 26, d, i);
        buf_puts(&b, ">");
    }
    while (buf_len(&b) < big) {
        buf_puts(&b, "<zz:e");
        for (int i = 0; i < 64; i++)
            buf_printf(&b, " zz:a%d=\"\"", i);
        buf_puts(&b, "/>");
    }
    rc = parse(buf_str(&b), buf_len(&b), NULL, NULL, &r);
    check_result(rc, &r, "namespace lookups");
    parse_result_clear(&r);

    /* NUL bytes and odd-length UTF-16 */
    static const char nul[] = "<rss><channel><item><title>a\0b</title></item></channel></rss>";
    rc = parse(nul, sizeof nul - 1, NULL, NULL, &r);
    check_result(rc, &r, "NUL");
    assert_int_equal(rc, CTX_OK);
    assert_string_equal(r.items[0].title, "a\xEF\xBF\xBD" "b");
    parse_result_clear(&r);
    static const char odd[] = "\xFF\xFE<\0r\0s\0s\0>\0x";
    rc = parse(odd, sizeof odd - 1, NULL, NULL, &r);
    check_result(rc, &r, "odd UTF-16");
    parse_result_clear(&r);
    buf_free(&b);
}

/* ---- rules for items ---------------------------------------------------- */

static void test_entry_cap(void **state)
{
    (void)state;
    struct buf b = {0};
    buf_puts(&b, "<rss version='2.0'><channel><title>many</title>");
    for (int i = 0; i < 10050; i++)
        buf_printf(&b, "<item><guid>g%d</guid><title>t%d</title></item>", i, i);
    buf_puts(&b, "</channel></rss>");
    struct parse_result r;
    ctx_err rc = parse(buf_str(&b), buf_len(&b), NULL, NULL, &r);
    check_result(rc, &r, "cap");
    assert_int_equal(rc, CTX_OK);
    assert_int_equal(r.nitems, 10000);
    assert_string_equal(r.items[9999].id, "feed:" NAME ":g9999");
    assert_false(r.bozo);
    parse_result_clear(&r);
    buf_free(&b);
}

static void test_item_ids(void **state)
{
    (void)state;
    char guid[400];
    memset(guid, 'g', sizeof guid - 1);
    guid[sizeof guid - 1] = '\0';
    struct buf b = {0};
    buf_printf(&b, "<rss><channel>"
                   "<item><guid>%s</guid></item>"
                   "<item><link>http://x.example/only-link</link></item>"
                   "<item><title>same</title><description>body</description></item>"
                   "<item><title>same</title><description>body</description></item>"
                   "<item><title>other</title><description>body</description></item>"
                   "<item><guid isPermaLink='false'>  spaced  </guid><link>http://x/l</link></item>"
                   "</channel></rss>", guid);
    struct parse_result r, r2;
    assert_int_equal(parse(buf_str(&b), buf_len(&b), NULL, NULL, &r), CTX_OK);
    check_result(CTX_OK, &r, "ids");
    assert_int_equal(r.nitems, 6);
    /* over 200 bytes: "h" + FNV-1a-64 of the guid */
    assert_int_equal(strlen(r.items[0].id), strlen("feed:" NAME ":h") + 16);
    assert_int_equal(strncmp(r.items[0].id, "feed:" NAME ":h", 11), 0);
    assert_string_equal(r.items[1].id, "feed:" NAME ":http://x.example/only-link");
    assert_string_equal(r.items[1].url, "http://x.example/only-link");
    /* no guid, no link: a hash of title + summary, the same for the same entry */
    assert_string_equal(r.items[2].id, r.items[3].id);
    assert_string_not_equal(r.items[2].id, r.items[4].id);
    assert_int_equal(strlen(r.items[2].id), strlen("feed:" NAME ":") + 16);
    assert_string_equal(r.items[5].id, "feed:" NAME ":spaced");
    assert_string_equal(r.items[5].url, "http://x/l");
    /* stable across parses */
    assert_int_equal(parse(buf_str(&b), buf_len(&b), NULL, NULL, &r2), CTX_OK);
    for (size_t i = 0; i < r.nitems; i++)
        assert_string_equal(r.items[i].id, r2.items[i].id);
    parse_result_clear(&r);
    parse_result_clear(&r2);
    buf_free(&b);
}

static void test_not_feeds(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "", "   \n", "just some text", "{\"items\": []}",
        "<html><head><title>x</title></head><body><p>hi</p></body></html>",
        "<?xml version='1.0'?><!-- nothing -->", "<svg xmlns='http://www.w3.org/2000/svg'/>",
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(bodies); i++) {
        struct parse_result r;
        ctx_err rc = parse(bodies[i], strlen(bodies[i]), "text/html", NULL, &r);
        check_result(rc, &r, bodies[i]);
        assert_int_equal(rc, CTX_EPARSE);
    }
    struct parse_result r;
    struct http_response resp = {.status = 200};
    memset(&r, 0, sizeof r);
    assert_int_equal(feed_parse(NAME, &resp, FETCHED, &r), CTX_EPARSE);
    assert_string_equal(r.error, "empty body");
    assert_non_null(feed_source_ops.parse);
    assert_string_equal(feed_source_ops.kind, "feed");
    assert_string_equal(feed_source_ops.item_kind, "blog");
}

/* The same feed as UTF-16 (with and without BOM) and UTF-32 gives the same
 * items as the UTF-8 original. */
static void test_wide_encodings(void **state)
{
    (void)state;
    size_t len;
    char *utf8 = tu_read(FEEDS "/brand_atom.xml", &len);
    assert_non_null(utf8);
    struct parse_result want;
    assert_int_equal(parse(utf8, len, NULL, NULL, &want), CTX_OK);
    static const struct { const char *cs; const char *bom; size_t bomlen; } wide[] = {
        {"UTF-16LE", "\xFF\xFE", 2}, {"UTF-16BE", "\xFE\xFF", 2},
        {"UTF-16LE", "", 0}, {"UTF-16BE", "", 0},
        {"UTF-32LE", "\xFF\xFE\0\0", 4}, {"UTF-32BE", "\0\0\xFE\xFF", 4},
    };
    for (size_t w = 0; w < CTX_ARRAY_LEN(wide); w++) {
        iconv_t cd = iconv_open(wide[w].cs, "UTF-8");
        assert_true(cd != (iconv_t)-1);
        size_t cap = len * 4 + 8, ol = cap - wide[w].bomlen, il = len;
        char *out = malloc(cap), *op = out + wide[w].bomlen, *ip = utf8;
        memcpy(out, wide[w].bom, wide[w].bomlen);
        assert_true(iconv(cd, &ip, &il, &op, &ol) != (size_t)-1);
        iconv_close(cd);
        struct parse_result r;
        ctx_err rc = parse(out, (size_t)(op - out), NULL, NULL, &r);
        check_result(rc, &r, wide[w].cs);
        assert_int_equal(rc, CTX_OK);
        assert_false(r.bozo);
        assert_int_equal(r.nitems, want.nitems);
        for (size_t i = 0; i < r.nitems; i++) {
            assert_string_equal(r.items[i].id, want.items[i].id);
            assert_string_equal(r.items[i].title, want.items[i].title);
            assert_string_equal(r.items[i].text, want.items[i].text);
        }
        parse_result_clear(&r);
        free(out);
    }
    parse_result_clear(&want);
    free(utf8);
}

/* A big feed parses in time proportional to its size. */
static void test_throughput(void **state)
{
    (void)state;
    struct buf b = {0};
    buf_puts(&b, "<?xml version='1.0'?><rss version='2.0' "
                 "xmlns:content='http://purl.org/rss/1.0/modules/content/'><channel>");
    int n = 0;
    while (buf_len(&b) < (8u << 20)) {
        buf_printf(&b, "<item><title>Post %d &amp; more</title><link>/p/%d</link>"
                       "<pubDate>Sun, 22 Nov 2026 10:%02d:00 GMT</pubDate>"
                       "<description>&lt;p&gt;Summary %d with &lt;b&gt;bold&lt;/b&gt;&lt;/p&gt;"
                       "</description><content:encoded><![CDATA[<p>Body %d ", n, n, n % 60, n, n);
        for (int k = 0; k < 20; k++)
            buf_puts(&b, "Lorem ipsum dolor sit amet, <i>consectetur</i> &mdash; adipiscing. ");
        buf_puts(&b, "</p>]]></content:encoded></item>");
        n++;
    }
    buf_puts(&b, "</channel></rss>");
    struct timespec t0, t1;
    struct parse_result r;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ctx_err rc = parse(buf_str(&b), buf_len(&b), "application/rss+xml", "https://blog.example/feed", &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_int_equal(rc, CTX_OK);
    assert_int_equal(r.nitems, (size_t)(n < 10000 ? n : 10000));
    print_message("throughput: %.1f MB, %d items in %.3f s (%.1f MB/s, sanitizers on if built so)\n",
                  (double)buf_len(&b) / 1e6, n, s, (double)buf_len(&b) / 1e6 / s);
    parse_result_clear(&r);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xml_table),
        cmocka_unit_test(test_xml_attr_lookup),
        cmocka_unit_test(test_recorded_feeds),
        cmocka_unit_test(test_feedparser_expectations),
        cmocka_unit_test(test_item_ids),
        cmocka_unit_test(test_entry_cap),
        cmocka_unit_test(test_not_feeds),
        cmocka_unit_test(test_wide_encodings),
        cmocka_unit_test(test_corpus_never_crashes),
        cmocka_unit_test(test_truncations_and_flips),
        cmocka_unit_test(test_hostile_documents),
        cmocka_unit_test(test_throughput),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
