/* cmd_items.c -- commands that ask ctxd's HTTP API: ctxctl items (the same
 * filters as GET /api/items) and ctxctl sources (GET /api/sources). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "cli/cli.h"
#include "core/buf.h"
#include "core/item.h"
#include "core/mem.h"

/* ctxctl reply ITEM TEXT [--id ID]: queue a reply to an item. */
int cmd_reply(int argc, char **argv)
{
    if (argc != 2 && !(argc == 4 && strcmp(argv[2], "--id") == 0))
        return cli_usage("reply");
    json_t *j = json_pack("{s:s,s:s}", "item", argv[0], "text", argv[1]);
    if (argc == 4)
        json_object_set_new(j, "id", json_string(argv[3]));
    char *body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    json_t *answer = NULL;
    struct buf raw = {0};
    int rc = body ? cli_api("/api/replies", body, &raw, &answer) : 1;
    if (!rc)
        fputs(buf_str(&raw), stdout);
    json_decref(answer);
    buf_free(&raw);
    free(body);
    return rc;
}

/* ctxctl items [--brand B] [--topic T] [--sentiment L] [--complaint |
 * --no-complaint] [--reason R] [--since TIME] [--limit N] [--json]: the
 * options are GET /api/items' query arguments (ctxd checks their values). */
int cmd_items(int argc, char **argv)
{
    static const char *const params[] = {"brand", "topic", "sentiment", "reason", "since",
                                         "limit"};
    bool raw = false;
    struct buf q = {0};
    buf_puts(&q, "/api/items?");
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            raw = true;
            continue;
        }
        if (strcmp(argv[i], "--complaint") == 0 || strcmp(argv[i], "--no-complaint") == 0) {
            buf_printf(&q, "complaint=%s&", argv[i][2] == 'n' ? "false" : "true");
            continue;
        }
        size_t p;
        for (p = 0; p < CTX_ARRAY_LEN(params); p++)
            if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, params[p]) == 0)
                break;
        if (p == CTX_ARRAY_LEN(params) || i + 1 >= argc) {
            fprintf(stderr, "ctxctl items: bad option %s\n", argv[i]);
            buf_free(&q);
            return 2;
        }
        char *v = curl_easy_escape(NULL, argv[++i], 0);
        if (!v)
            ctx_oom(3 * strlen(argv[i]) + 1);
        buf_printf(&q, "%s=%s&", params[p], v);
        curl_free(v);
    }
    json_t *j;
    struct buf body = {0};
    int rc = cli_api(buf_str(&q), NULL, &body, &j);
    buf_free(&q);
    if (rc) {
        buf_free(&body);
        return rc;
    }
    if (raw) {
        fputs(buf_str(&body), stdout);
    } else {
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(j, "items"), i, it) {
            json_t *tags = json_object_get(it, "tags");
            json_t *sent = json_object_get(tags, "sentiment");
            const char *title = json_string_value(json_object_get(it, "title"));
            const char *text = json_string_value(json_object_get(it, "text"));
            char *brands = json_dumps(json_object_get(tags, "brands"), CTX_JSON_FLAGS);
            char *topics = json_dumps(json_object_get(tags, "topics"), CTX_JSON_FLAGS);
            json_t *c = json_object_get(tags, "complaint");
            char *reasons = json_is_true(json_object_get(c, "label"))
                                ? json_dumps(json_object_get(c, "reasons"), CTX_JSON_FLAGS)
                                : NULL;
            printf("%-20s %-8s %+.3f %-16s brands=%s topics=%s%s%s  %.100s\n",
                   json_string_value(json_object_get(it, "published")) ?: "-",
                   json_string_value(json_object_get(sent, "label")) ?: "-",
                   json_number_value(json_object_get(sent, "score")),
                   json_string_value(json_object_get(it, "source")) ?: "-",
                   brands ? brands : "[]", topics ? topics : "[]",
                   reasons ? " complaint=" : "", reasons ? reasons : "",
                   title && *title ? title : (text ? text : ""));
            free(brands);
            free(topics);
            free(reasons);
        }
    }
    json_decref(j);
    buf_free(&body);
    return 0;
}

/* A state value as text into out ("-" when absent); returns out. */
static const char *state_str(const json_t *state, const char *key, char *out, size_t outlen)
{
    const json_t *v = json_object_get(state, key);
    if (json_is_string(v))
        snprintf(out, outlen, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, outlen, "%lld", (long long)json_integer_value(v));
    else
        snprintf(out, outlen, "-");
    return out;
}

/* The shell of a table command (`ctxctl sources|queues|agents [--json]`):
 * GET path, then print the answer as it came (--json) or as a table. */
static int table_command(const char *name, const char *path, int argc, char **argv,
                         void (*print)(const json_t *j))
{
    bool raw = argc == 1 && strcmp(argv[0], "--json") == 0;
    if (argc && !raw)
        return cli_usage(name);
    json_t *j;
    struct buf body = {0};
    int rc = cli_api(path, NULL, &body, &j);
    if (!rc && raw)
        fputs(buf_str(&body), stdout);
    else if (!rc)
        print(j);
    if (!rc)
        json_decref(j);
    buf_free(&body);
    return rc;
}

static void print_sources(const json_t *j)
{
    printf("%-20s %-10s %6s %8s %5s %-20s %-20s %s\n", "NAME", "KIND", "EVERY", "ITEMS",
           "FAILS", "LAST OK", "NEXT POLL", "LAST ERROR");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(j, "sources"), i, s) {
        const json_t *st = json_object_get(s, "state");
        char items[32], fails[32], ok[32], next[32], err[256];
        state_str(st, "items_seen", items, sizeof items);
        state_str(st, "failures", fails, sizeof fails);
        state_str(st, "last_ok", ok, sizeof ok);
        state_str(st, "next_poll", next, sizeof next);
        if (strcmp(fails, "0") && strcmp(fails, "-"))
            state_str(st, "last_error", err, sizeof err);
        else
            err[0] = '\0';
        printf("%-20s %-10s %5.0fs %8s %5s %-20s %-20s %s\n",
               json_string_value(json_object_get(s, "name")),
               json_string_value(json_object_get(s, "kind")),
               json_number_value(json_object_get(s, "every")), items, fails, ok, next, err);
    }
}

/* ctxctl queues [--json] and ctxctl agents [--json]: the routing figures. */
static double num(const json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static void print_queues(const json_t *j)
{
    printf("%-16s %-13s %7s %7s %8s %9s %8s %8s %9s %6s %8s\n", "QUEUE", "STRATEGY",
           "WAITING", "OFFERED", "ASSIGNED", "OLDEST", "ARRIVED", "ANSWERED", "ABANDONED",
           "ASA", "SERVICE");
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(j, "queues"), i, q) {
        char asa[16] = "-", sl[16] = "-";
        if (json_is_number(json_object_get(q, "avg_speed_of_answer")))
            snprintf(asa, sizeof asa, "%.1fs", num(q, "avg_speed_of_answer"));
        if (json_is_number(json_object_get(q, "service_level")))
            snprintf(sl, sizeof sl, "%.1f%%", 100 * num(q, "service_level"));
        printf("%-16s %-13s %7.0f %7.0f %8.0f %8.1fs %8.0f %8.0f %9.0f %6s %8s\n",
               json_string_value(json_object_get(q, "name")),
               json_string_value(json_object_get(q, "strategy")), num(q, "waiting"),
               num(q, "offered"), num(q, "assigned"), num(q, "oldest_wait"),
               num(q, "arrived"), num(q, "answered"), num(q, "abandoned"), asa, sl);
    }
}

static void print_agents(const json_t *j)
{
    printf("%-16s %-20s %-10s %-9s %-22s %7s  %s\n", "AGENT", "NAME", "STATE", "ONLINE",
           "LOAD social/chat/cb", "HANDLED", "TASKS");
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(j, "agents"), i, a) {
        json_t *l = json_object_get(a, "load"), *c = json_object_get(a, "capacity");
        char load[64];
        snprintf(load, sizeof load, "%.0f/%.0f %.0f/%.0f %.0f/%.0f", num(l, "social"),
                 num(c, "social"), num(l, "chat"), num(c, "chat"), num(l, "callback"),
                 num(c, "callback"));
        char *tasks = json_dumps(json_object_get(a, "tasks"), JSON_COMPACT);
        printf("%-16s %-20s %-10s %-9s %-22s %7.0f  %s\n",
               json_string_value(json_object_get(a, "id")),
               json_string_value(json_object_get(a, "name")) ?: "",
               json_string_value(json_object_get(a, "state")) ?: "",
               json_is_true(json_object_get(a, "connected")) ? "yes" : "no", load,
               num(a, "handled"), tasks ? tasks : "[]");
        free(tasks);
    }
}

int cmd_sources(int argc, char **argv)
{
    return table_command("sources", "/api/sources", argc, argv, print_sources);
}

int cmd_queues(int argc, char **argv)
{
    return table_command("queues", "/api/queues", argc, argv, print_queues);
}

int cmd_agents(int argc, char **argv)
{
    return table_command("agents", "/api/agents", argc, argv, print_agents);
}
