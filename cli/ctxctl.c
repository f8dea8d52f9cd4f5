/* ctxctl.c -- the command-line tool. It reads the same config as ctxd to
 * find the lexicons, the rules and ctxd's HTTP API, and either runs the
 * pure code itself (analyze, parse, rules check) or asks the daemon
 * (items). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <jansson.h>
#include "analyzer/analyzer.h"
#include "collectors/collectors.h"
#include "core/buf.h"
#include "core/config.h"

static const char *config_path = "etc/ctxd.json";

static void usage(FILE *f)
{
    fprintf(f,
        "usage: ctxctl [-c FILE] COMMAND [ARGS]\n"
        "  analyze [--score]           texts on stdin, one per line -> tags as JSON per line\n"
        "                              (--score: only the sentiment compound)\n"
        "  items [--brand B] [--topic T] [--sentiment L] [--since TIME] [--limit N] [--json]\n"
        "                              newest tagged items, from ctxd's API\n"
        "  parse KIND FILE [--header 'Name: value']...\n"
        "                              parse a saved response as the collector would\n"
        "  rules check DIR             check every *.rules file of DIR\n");
}

static struct config *load_config(void)
{
    char err[512];
    struct config *cfg;
    if (config_load(config_path, &cfg, err, sizeof err)) {
        fprintf(stderr, "ctxctl: %s\n", err);
        return NULL;
    }
    return cfg;
}

static int cmd_analyze(int argc, char **argv)
{
    bool score_only = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--score") == 0)
            score_only = true;
        else {
            fprintf(stderr, "ctxctl analyze: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    struct config *cfg = load_config();
    if (!cfg)
        return 2;
    char err[512];
    analyzer *an = analyzer_new(cfg->lexicons, cfg->rules, err, sizeof err);
    config_free(cfg);
    if (!an) {
        fprintf(stderr, "ctxctl: %s\n", err);
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    struct item it;
    item_init(&it);
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (score_only) {
            printf("%.4f\n", analyzer_score(an, line));
            continue;
        }
        it.text = line;
        struct tags tags = {0};
        if (analyzer_tag(an, &it, &tags)) {
            printf("{\"error\":\"cannot tag\"}\n");
            continue;
        }
        json_t *j = tags_to_json(&tags);
        json_object_set_new(j, "lang", tags.lang ? json_string(tags.lang) : json_null());
        char *s = json_dumps(j, CTX_JSON_FLAGS);
        puts(s ? s : "{}");
        free(s);
        json_decref(j);
        tags_clear(&tags);
    }
    it.text = NULL;
    free(line);
    analyzer_free(an);
    return 0;
}

static size_t collect(char *d, size_t sz, size_t n, void *userp)
{
    return buf_append(userp, d, sz * n) ? 0 : sz * n;
}

static int cmd_items(int argc, char **argv)
{
    static const char *const params[] = {"brand", "topic", "sentiment", "since", "limit"};
    bool raw = false;
    struct config *cfg = load_config();
    if (!cfg)
        return 2;
    CURL *e = curl_easy_init();
    struct buf url = {0}, body = {0};
    buf_printf(&url, "http://%s/api/items?", cfg->listen);
    config_free(cfg);
    int rc = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            raw = true;
            continue;
        }
        size_t p;
        for (p = 0; p < CTX_ARRAY_LEN(params); p++)
            if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, params[p]) == 0)
                break;
        if (p == CTX_ARRAY_LEN(params) || i + 1 >= argc) {
            fprintf(stderr, "ctxctl items: bad option %s\n", argv[i]);
            rc = 2;
            goto out;
        }
        char *v = curl_easy_escape(e, argv[++i], 0);
        buf_printf(&url, "%s=%s&", params[p], v);
        curl_free(v);
    }
    curl_easy_setopt(e, CURLOPT_URL, buf_str(&url));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
    CURLcode cc = curl_easy_perform(e);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        fprintf(stderr, "ctxctl: %s: %s (is ctxd running?)\n", buf_str(&url),
                curl_easy_strerror(cc));
        rc = 1;
        goto out;
    }
    json_t *j = json_loads(buf_str(&body), 0, NULL);
    if (status != 200 || !j) {
        fprintf(stderr, "ctxctl: HTTP %ld: %s", status, buf_str(&body));
        json_decref(j);
        rc = 1;
        goto out;
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
            printf("%-20s %-8s %+.3f %-16s brands=%s topics=%s  %.100s\n",
                   json_string_value(json_object_get(it, "published")) ?: "-",
                   json_string_value(json_object_get(sent, "label")) ?: "-",
                   json_number_value(json_object_get(sent, "score")),
                   json_string_value(json_object_get(it, "source")) ?: "-",
                   brands ? brands : "[]", topics ? topics : "[]",
                   title && *title ? title : (text ? text : ""));
            free(brands);
            free(topics);
        }
    }
    json_decref(j);
out:
    curl_easy_cleanup(e);
    buf_free(&url);
    buf_free(&body);
    return rc;
}

static int cmd_parse(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const struct source_ops *ops = source_ops_find(argv[0]);
    if (!ops) {
        fprintf(stderr, "ctxctl parse: unknown kind \"%s\"\n", argv[0]);
        return 2;
    }
    char *ctype = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--header") == 0 && i + 1 < argc) {
            const char *h = argv[++i];
            if (strncasecmp(h, "Content-Type:", 13) == 0) {
                h += 13;
                while (*h == ' ')
                    h++;
                free(ctype);
                ctype = strdup(h);
            }
        } else {
            fprintf(stderr, "ctxctl parse: bad option %s\n", argv[i]);
            free(ctype);
            return 2;
        }
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        free(ctype);
        return 1;
    }
    struct buf body = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&body, chunk, n);
    fclose(f);
    char url[4200];
    snprintf(url, sizeof url, "file://%s", argv[1]);
    struct http_response resp = {.status = 200, .body = buf_str(&body), .len = body.len,
                                 .content_type = ctype, .url = url};
    struct parse_result r = {0};
    char fetched[CTX_TIME_LEN];
    ctx_time_format((long long)time(NULL), fetched);
    struct config_source src = {.name = "cli", .kind = (char *)ops->kind, .url = url};
    ctx_err e = ops->parse(&src, NULL, &resp, fetched, &r);
    int rc = 0;
    if (e) {
        fprintf(stderr, "ctxctl parse: %s\n", r.error[0] ? r.error : ctx_strerror(e));
        rc = 1;
    } else {
        json_t *out = r.extra ? json_deep_copy(r.extra) : json_object();
        json_t *items = json_array();
        for (size_t i = 0; i < r.nitems; i++)
            json_array_append_new(items, item_to_json(&r.items[i], NULL));
        json_object_set_new(out, "items", items);
        json_object_set_new(out, "cursor", r.cursor ? json_string(r.cursor) : json_null());
        if (!json_object_get(out, "bozo"))
            json_object_set_new(out, "bozo", json_boolean(r.bozo));
        if (r.bozo)
            json_object_set_new(out, "bozo_exception", json_string(r.error));
        char *s = json_dumps(out, JSON_INDENT(2));
        puts(s ? s : "{}");
        free(s);
        json_decref(out);
    }
    parse_result_clear(&r);
    buf_free(&body);
    free(ctype);
    return rc;
}

static int cmd_rules(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[0], "check") != 0) {
        usage(stderr);
        return 2;
    }
    char err[512];
    if (analyzer_rules_check(argv[1], err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("%s: ok\n", argv[1]);
    return 0;
}

int main(int argc, char **argv)
{
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
        config_path = argv[i + 1];
        i += 2;
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[i++];
    int rest = argc - i;
    char **rargv = argv + i;
    if (strcmp(cmd, "analyze") == 0)
        return cmd_analyze(rest, rargv);
    if (strcmp(cmd, "items") == 0)
        return cmd_items(rest, rargv);
    if (strcmp(cmd, "parse") == 0)
        return cmd_parse(rest, rargv);
    if (strcmp(cmd, "rules") == 0)
        return cmd_rules(rest, rargv);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "ctxctl: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return 2;
}
