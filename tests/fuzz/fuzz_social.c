/* fuzz_social.c -- libFuzzer harness for the parsers of the JSON-API source
 * kinds (collectors/mastodon.c, reddit.c, bluesky.c, hn.c, vk.c,
 * discourse.c, telegram.c), through their const struct source_ops: parse()
 * on a fetched page and reply_result() on the answer to a posted reply.
 * Built and run by `make fuzz-smoke` (seeds, then 5 s; part of `make test`)
 * and `make fuzz` (FUZZ_SECONDS each); seeds: tests/data/api and
 * ../shared/corpora/api (scripts/fuzz.sh lists them). Run from the
 * repository root.
 *
 * Every kind parses every input, so a recorded response of one network is
 * also hostile input for the others, and the seeds are the recorded files as
 * they are. A first byte below 0x20 that JSON would not accept (not \t \n \r)
 * is taken off the body and picks the paging cursor the page was asked with
 * (bits 0-2) and the source's mode (bit 3: each kind's other mode); without
 * it there is no cursor and the default mode.
 *
 * Beyond the sanitizers it checks what check_result() in
 * tests/collectors/test_social.c checks: a failure comes with a reason and
 * leaves nothing (no items, cursor or extra); items have "<kind>:" ids, unique in the page, and the
 * fields every item has, published is a date; items serialise to JSON that
 * jansson reads back into the same item; reply outcomes are consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/date.h"
#include "collectors/collectors.h"

#define FETCHED "2026-11-22T12:00:00Z"

static const char *const kinds[] = {"mastodon", "reddit", "bluesky", "hn", "vk", "discourse",
                                    "telegram"};
/* the mode bit 3 of the selector asks for, per kind (NULL: the default) */
static const char *const other_mode[] = {"tag", "search", "search", "comment", "search",
                                         "latest", NULL};
static const char *const cursors[8] = {
    NULL, "", "714859", "99999999999999999999999",
    "since=1700000000&top=1700000500&page=2&after=t3_abc&cursor=x%26y",
    "since=&top=&page=&after=&until=&id=&before=&from=&offset=",
    "since=1&top=9999999999&page=%ZZ&after=5&until=3&id=7&before=t3_x&empty=99&from=a%26b",
    "offset=-5&id=-1&page=-3&top=-1",
};

static void check_item(const char *kind, const struct item *it)
{
    size_t kl = strlen(kind);
    if (!it->id || strncmp(it->id, kind, kl) != 0 || it->id[kl] != ':')
        abort();
    if (!it->source || !it->kind || !it->fetched || !it->published)
        abort();
    long long t;
    if (ctx_date_parse(it->published, &t) != 0)
        abort();
    if (it->author.followers < -1 || (it->reply_network == NULL) != (it->reply_ref == NULL))
        abort();
    /* on the wire and back: the same item */
    json_t *j = item_to_json(it, NULL);
    char *s = j ? json_dumps(j, CTX_JSON_FLAGS) : NULL;
    json_error_t je;
    json_t *back = s ? json_loads(s, 0, &je) : NULL;
    struct item again;
    item_init(&again);
    if (!back || item_from_json(back, &again) != CTX_OK)
        abort();
    json_t *j2 = item_to_json(&again, NULL);
    if (!json_equal(j, j2))
        abort();
    json_decref(j2);
    item_clear(&again);
    json_decref(back);
    free(s);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned sel = 0;
    if (size && data[0] < 0x20 && data[0] != '\t' && data[0] != '\n' && data[0] != '\r') {
        sel = data[0];
        data++;
        size--;
    }
    const char *body = (const char *)data;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        const struct source_ops *ops = source_ops_find(kinds[k]);
        if (!ops)
            abort();
        struct config_source src = {
            .name = "fuzz", .kind = (char *)kinds[k], .url = "https://fuzz.example",
            .query = "acme", .tag = "acme", .subreddit = "acme", .token = "123:tok",
            .mode = (sel & 8) ? (char *)other_mode[k] : NULL,
        };
        struct http_response resp = {.status = 200, .body = body, .len = size,
                                     .content_type = "application/json"};
        struct parse_result r;
        memset(&r, 0, sizeof r);
        ctx_err rc = ops->parse(&src, cursors[sel & 7], &resp, FETCHED, &r);
        if (rc != CTX_OK) {
            if ((rc != CTX_EPARSE && rc != CTX_EHTTP && rc != CTX_ENOMEM) || r.nitems ||
                r.cursor || r.extra || !r.error[0])
                abort();
        } else {
            if (r.bozo && !r.error[0])
                abort();
            for (size_t i = 0; i < r.nitems; i++) {
                check_item(kinds[k], &r.items[i]);
                for (size_t j = 0; j < i; j++)
                    if (strcmp(r.items[j].id, r.items[i].id) == 0)
                        abort();
            }
        }
        parse_result_clear(&r);

        if (ops->reply_result) {
            static const long statuses[] = {200, 429, 500, 400};
            struct http_response ans = {.status = statuses[(sel >> 3) & 3], .body = body,
                                        .len = size};
            struct reply_outcome out;
            memset(&out, 0, sizeof out);
            ops->reply_result(&ans, &out);
            if ((unsigned)out.status > REPLY_FAILED || !memchr(out.error, 0, sizeof out.error) ||
                !memchr(out.ref, 0, sizeof out.ref) ||
                (out.status != REPLY_POSTED && !out.error[0]))
                abort();
        }
    }
    return 0;
}
