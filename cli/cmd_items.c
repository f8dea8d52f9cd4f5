/* cmd_items.c -- ctxctl items: the newest tagged items, from ctxd's HTTP
 * API (the same filters as GET /api/items). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <jansson.h>
#include "cli/cli.h"
#include "core/buf.h"
#include "core/item.h"

static size_t collect(char *d, size_t sz, size_t n, void *userp)
{
    return buf_append(userp, d, sz * n) ? 0 : sz * n;
}

int cmd_items(int argc, char **argv)
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

