/* cmd_parse.c -- ctxctl parse KIND FILE: a saved response parsed exactly
 * as the collector would parse it, printed as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "cli/cli.h"
#include "collectors/collectors.h"

int cmd_parse(int argc, char **argv)
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

