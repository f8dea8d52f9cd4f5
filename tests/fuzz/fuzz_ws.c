/* fuzz_ws.c -- libFuzzer harness for what ctxd decodes from websocket
 * messages and HTTP request bodies, as far as it can be reached without a
 * connection.
 * Built and run by `make fuzz-smoke` (seeds, then 5 s; part of `make test`)
 * and `make fuzz` (FUZZ_SECONDS each); seeds: tests/fuzz/seeds/ws/ (frames
 * of ctx.monitor.v1, ctx.agent.v1, ctx.chat.v1 and bodies of the POST API: replies, callbacks, analyze).
 *
 * The handlers in ws/ (monitor.c handle_message, agent.c handle, chat.c,
 * replies.c replies_post, queues.c callbacks_post, api.c h_analyze) load a
 * frame or body with json_loadb(), read its members and act on the session,
 * Redis and lws in the same function; their decoding is not a function of
 * its own. This harness does the same loading and then runs the decoders
 * they call that are: sid_parse() for the monitor's "since" (a stream id),
 * sentiment_label_parse() for its "sentiment", ctx_date_parse() for a
 * callback's "not_before", and item_from_json()/tags_from_json() for the
 * items the monitor and the agent console receive (from the stream, whose
 * producers are other processes). Invariants: a parsed stream id prints and
 * parses back to itself; an item or tags that decode serialise and decode
 * back to the same JSON. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/date.h"
#include "core/item.h"
#include "ws/ws_internal.h"

static void check_sid(const json_t *v)
{
    const char *s = json_string_value(v);
    struct sid a, b;
    if (!s || sid_parse(s, &a))
        return;
    char again[48];
    snprintf(again, sizeof again, "%llu-%llu", a.ms, a.seq);
    if (sid_parse(again, &b) || sid_cmp(a, b) != 0)
        abort();
}

static void check_item(const json_t *j)
{
    struct item it;
    item_init(&it);
    if (item_from_json(j, &it) != CTX_OK)
        return;
    struct tags t = {0};
    tags_from_json(json_object_get(j, "tags"), &t);
    json_t *j1 = item_to_json(&it, &t);
    struct item it2;
    item_init(&it2);
    struct tags t2 = {0};
    if (!j1 || item_from_json(j1, &it2) != CTX_OK)
        abort();
    tags_from_json(json_object_get(j1, "tags"), &t2);
    json_t *j2 = item_to_json(&it2, &t2);
    if (!json_equal(j1, j2)) {
        char *a = json_dumps(j1, JSON_SORT_KEYS), *b = json_dumps(j2, JSON_SORT_KEYS);
        fprintf(stderr, "item round trip differs:\n%s\n%s\n", a, b);
        abort();
    }
    json_decref(j1);
    json_decref(j2);
    item_clear(&it);
    item_clear(&it2);
    tags_clear(&t);
    tags_clear(&t2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *m = json_loadb((const char *)data, size, 0, &je);
    if (!m)
        return 0;
    if (json_is_object(m)) {
        check_sid(json_object_get(m, "since"));
        enum sentiment_label l;
        const char *sent = json_string_value(json_object_get(m, "sentiment"));
        if (sent && sentiment_label_parse(sent, &l) == 0 &&
            strcmp(sentiment_label_name(l), sent) != 0)
            abort();
        long long t;
        const char *nb = json_string_value(json_object_get(m, "not_before"));
        if (nb)
            (void)ctx_date_parse(nb, &t);
        check_item(m);
        check_item(json_object_get(m, "item"));
    }
    json_decref(m);
    return 0;
}
