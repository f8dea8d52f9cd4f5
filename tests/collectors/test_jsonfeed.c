/* test_jsonfeed.c -- JSON Feed 1.0/1.1 (collectors/jsonfeed.c), reached
 * through feed_parse() as the daemon reaches it.
 *
 * The recorded cases (tests/data/feeds/jsonfeed_*.json) run in test_feed.c
 * with the XML ones; here:
 *  - tests/data/collectors/jsonfeed.tsv: how a body is served and what it
 *    must be read as (JSON Feed version, an XML format, or not a feed);
 *  - every prefix of a JSON Feed (a download cut anywhere) parses, and what
 *    is recovered is the start of what the whole feed gives;
 *  - documents written to hurt: deep nesting, many items, odd types.
 * Run from the repository root. */
#include <stdint.h>
#include "core/date.h"
#include "tests/collectors/testutil.h"
#include "collectors/collectors.h"
#include "collectors/collectors_internal.h"

#define FETCHED "2026-11-22T12:00:00Z"

static ctx_err parse(const char *body, size_t len, const char *ct, struct parse_result *r)
{
    struct http_response resp = {.status = 200, .body = body, .len = len, .content_type = ct,
                                 .url = "https://blog.acme.example/feed.json"};
    memset(r, 0, sizeof *r);
    return feed_parse("acme", &resp, FETCHED, r);
}

/* The invariants of any result (as test_feed.c's check_result). */
static void check(ctx_err rc, const struct parse_result *r, const char *what)
{
    if (rc == CTX_EPARSE) {
        if (r->nitems || r->extra || !r->error[0])
            fail_msg("%s: CTX_EPARSE must come with a reason and nothing else", what);
        return;
    }
    if (rc != CTX_OK)
        fail_msg("%s: %s", what, ctx_strerror(rc));
    json_t *entries = json_object_get(r->extra, "entries");
    if (!json_is_array(entries) || json_array_size(entries) != r->nitems
        || json_is_true(json_object_get(r->extra, "bozo")) != r->bozo || (r->bozo && !r->error[0]))
        fail_msg("%s: extra does not match the items", what);
    for (size_t i = 0; i < r->nitems; i++) {
        const struct item *it = &r->items[i];
        long long t;
        if (!it->id || strncmp(it->id, "feed:acme:", 10) || strlen(it->id) > 10 + 200
            || !it->published || ctx_date_parse(it->published, &t) || strcmp(it->kind, "blog"))
            fail_msg("%s: item %zu is malformed", what, i);
        json_t *j = item_to_json(it, NULL);
        if (!j)
            fail_msg("%s: item %zu does not serialise (not UTF-8?)", what, i);
        json_decref(j);
    }
}

/* ---- how bodies are recognised ------------------------------------------ */

static void sniff_row(const struct tu_row *row, void *arg)
{
    int *failures = arg;
    const char *ct = strcmp(row->col[0], "-") ? row->col[0] : NULL;
    const char *want = row->col[2];
    struct parse_result r;
    ctx_err rc = parse(row->col[1], row->len[1], ct, &r);
    check(rc, &r, row->col[1]);
    const char *got = rc == CTX_EPARSE ? "eparse"
                    : json_string_value(json_object_get(r.extra, "version"));
    char gotb[64];
    snprintf(gotb, sizeof gotb, "%s%s", got ? got : "null", rc == CTX_OK && r.bozo ? " bozo" : "");
    if (strcmp(gotb, want)) {
        print_error("jsonfeed.tsv:%d: got '%s' (%s), want '%s'\n", row->line, gotb, r.error, want);
        (*failures)++;
    }
    parse_result_clear(&r);
}

static void test_sniffing_table(void **state)
{
    (void)state;
    int failures = 0;
    int rows = tu_tsv("tests/data/collectors/jsonfeed.tsv", 3, sniff_row, &failures);
    assert_true(rows >= 20);
    assert_int_equal(failures, 0);
}

/* ---- truncation ---------------------------------------------------------- */

static void test_every_prefix(void **state)
{
    (void)state;
    size_t len;
    char *body = tu_read("tests/data/feeds/jsonfeed/brand_v11.json", &len);
    assert_non_null(body);
    struct parse_result full;
    assert_int_equal(parse(body, len, "application/feed+json", &full), CTX_OK);
    assert_int_equal(full.nitems, 3);
    int recovered = 0;
    for (size_t cut = 1; cut < len; cut++) {
        char *p = malloc(cut);        /* exactly the prefix: ASan sees overreads */
        memcpy(p, body, cut);
        struct parse_result r;
        ctx_err rc = parse(p, cut, "application/feed+json", &r);
        check(rc, &r, "prefix");
        if (rc == CTX_OK) {
            assert_true(r.bozo);
            assert_true(r.nitems <= full.nitems);
            /* all but the last recovered item are whole */
            for (size_t i = 0; i + 1 < r.nitems; i++)
                assert_string_equal(r.items[i].id, full.items[i].id);
            recovered += r.nitems > 0;
        }
        parse_result_clear(&r);
        free(p);
    }
    print_message("prefixes: %zu, %d with items recovered\n", len - 1, recovered);
    assert_true(recovered > (int)len / 2);
    parse_result_clear(&full);
    free(body);
}

/* ---- hostile documents --------------------------------------------------- */

static void test_hostile(void **state)
{
    (void)state;
    struct buf b = {0};
    struct parse_result r;
    ctx_err rc;

    /* nesting far past jansson's limit, inside an item */
    buf_puts(&b, "{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":[{\"id\":\"a\","
                 "\"x\":");
    for (int i = 0; i < 100000; i++)
        buf_putc(&b, '[');
    rc = parse(buf_str(&b), buf_len(&b), "application/feed+json", &r);
    check(rc, &r, "deep");
    parse_result_clear(&r);

    /* more items than we keep */
    buf_reset(&b);
    buf_puts(&b, "{\"version\":\"https://jsonfeed.org/version/1\",\"items\":[");
    for (int i = 0; i < 10050; i++)
        buf_printf(&b, "%s{\"id\":\"i%d\",\"content_text\":\"t\"}", i ? "," : "", i);
    buf_puts(&b, "]}");
    rc = parse(buf_str(&b), buf_len(&b), "application/feed+json", &r);
    check(rc, &r, "many");
    assert_int_equal(rc, CTX_OK);
    assert_int_equal(r.nitems, 10000);
    assert_string_equal(r.items[9999].id, "feed:acme:i9999");
    parse_result_clear(&r);

    /* every field of the wrong type; ids as numbers; a 300-byte id */
    static const char odd[] =
        "{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":[1],\"home_page_url\":{},"
        "\"authors\":\"me\",\"language\":7,\"items\":[{\"id\":12.5,\"url\":false,\"title\":{},"
        "\"content_html\":3,\"content_text\":null,\"date_published\":[],\"authors\":[1],"
        "\"attachments\":[1,{\"url\":2},{\"url\":\"a.mp3\",\"size_in_bytes\":\"x\"}]},"
        "{\"id\":-9007199254740993},{\"id\":\""
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "\"}]}";
    rc = parse(odd, sizeof odd - 1, NULL, &r);
    check(rc, &r, "odd types");
    assert_int_equal(rc, CTX_OK);
    assert_true(r.bozo);
    assert_int_equal(r.nitems, 3);
    assert_string_equal(r.items[0].id, "feed:acme:12.5");
    assert_string_equal(r.items[1].id, "feed:acme:-9007199254740993");
    assert_int_equal(strlen(r.items[2].id), strlen("feed:acme:h") + 16);
    parse_result_clear(&r);

    /* invalid UTF-8 and NUL inside strings: repaired, never passed on */
    static const char bad[] = "{\"version\":\"https://jsonfeed.org/version/1\",\"items\":"
                              "[{\"id\":\"\xFF\xFE\",\"title\":\"a\\u0000b\",\"content_text\":\"\xC3\"}]}";
    rc = parse(bad, sizeof bad - 1, "application/json", &r);
    check(rc, &r, "bad UTF-8");
    assert_int_equal(rc, CTX_OK);
    assert_true(r.bozo);
    parse_result_clear(&r);

    /* a huge string that never ends, and one unmatched bracket after another */
    buf_reset(&b);
    buf_puts(&b, "{\"version\":\"https://jsonfeed.org/version/1\",\"items\":[{\"id\":\"");
    while (buf_len(&b) < (2u << 20))
        buf_puts(&b, "abc\\\"");
    rc = parse(buf_str(&b), buf_len(&b), "application/feed+json", &r);
    check(rc, &r, "endless string");
    parse_result_clear(&r);
    buf_reset(&b);
    buf_puts(&b, "{\"version\":\"https://jsonfeed.org/version/1\",\"items\":[");
    while (buf_len(&b) < (1u << 20))
        buf_puts(&b, "{\"id\":\"x\"},]}");
    rc = parse(buf_str(&b), buf_len(&b), "application/feed+json", &r);
    check(rc, &r, "unmatched");
    parse_result_clear(&r);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sniffing_table),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
