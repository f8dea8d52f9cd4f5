/* fuzz_feed.c -- libFuzzer harness for the feed parser (XML and JSON Feed)
 * and its helpers.
 * Built and run by `make fuzz-smoke` (seeds, then 5 s; part of `make test`)
 * and `make fuzz` (FUZZ_SECONDS each); seeds: tests/data/feeds and
 * ../shared/corpora/feedparser/tests (scripts/fuzz.sh lists them).
 *
 * The first byte picks how the body is served (Content-Type, URL and
 * Content-Location), the rest is the body; JSON content types send it to the
 * JSON Feed parser. Each input also goes through html_to_text(),
 * html_sanitize() and, cut to a line, ctx_date_parse(). Beyond the sanitizers,
 * it checks the result's invariants: items serialise (valid UTF-8) and
 * CTX_EPARSE leaves nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/date.h"
#include "collectors/collectors.h"
#include "collectors/collectors_internal.h"

static const char *const content_types[] = {
    NULL, "application/rss+xml", "application/atom+xml; charset=utf-8",
    "text/xml", "text/xml; charset=windows-1251", "application/xml; charset=koi8-r",
    "text/html", "application/xml; charset=utf-16", "text/plain; charset=iso-8859-1",
    "application/xml; charset=\"bogus\"", "application/feed+json",
    "application/json; charset=utf-8", "text/plain",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    struct http_response resp = {
        .status = 200, .body = body, .len = len,
        .content_type = content_types[sel % (sizeof content_types / sizeof content_types[0])],
        .url = (sel & 0x80) ? "https://example.com/blog/feed/" : NULL,
        .content_location = (sel & 0x40) ? "../other/" : NULL,
    };
    struct parse_result r;
    memset(&r, 0, sizeof r);
    ctx_err rc = feed_parse("fuzz", &resp, "2026-11-22T12:00:00Z", &r);
    if (rc == CTX_EPARSE) {
        if (r.nitems || r.extra)
            abort();
    } else if (rc == CTX_OK) {
        if (!r.extra || json_array_size(json_object_get(r.extra, "entries")) != r.nitems)
            abort();
        for (size_t i = 0; i < r.nitems; i++) {
            json_t *j = item_to_json(&r.items[i], NULL);
            if (!j || !r.items[i].id || !r.items[i].published)
                abort();
            json_decref(j);
        }
    } else if (rc != CTX_ENOMEM) {
        abort();
    }
    parse_result_clear(&r);

    char *text = html_to_text(body, len);
    if (!text)
        abort();
    free(text);
    text = html_sanitize(body, len, (sel & 0x80) ? "https://example.com/a/" : NULL);
    if (!text)
        abort();
    free(text);

    char line[128];
    size_t n = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, body, n);
    line[n] = '\0';
    long long t;
    (void)ctx_date_parse(line, &t);
    return 0;
}
