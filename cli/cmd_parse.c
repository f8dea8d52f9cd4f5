/* cmd_parse.c -- ctxctl parse: a saved response parsed exactly as the
 * collector would parse it, printed as JSON.
 *
 *   ctxctl parse KIND FILE [--header 'Name: value']... [--url URL]
 *                [--cursor C] [--fetched TIME] [--source NAME]
 *   ctxctl parse KIND --many [--fetched TIME] [--source NAME]
 *
 * The headers a response came with matter to the parser as they do to the
 * daemon: Content-Type (the charset, and JSON Feed vs XML) and
 * Content-Location (the base URI of relative links); --url is the URL the
 * document was fetched from. Other headers are accepted and ignored.
 * --source names the source, as item ids include it (default "cli");
 * --fetched fixes the fetch time (default now), for reproducible output.
 *
 * --many is the batch form for tests and benchmarks: stdin holds one JSON
 * object per line, {"file": F, "headers": ["Name: value", ...], "url": U,
 * "cursor": C} (all but "file" optional), and stdout gets one compact JSON
 * result per line, in order; a file that cannot be parsed gives
 * {"file": F, "error": "..."}. One process for a whole corpus keeps process
 * start-up out of the measurement. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <jansson.h>
#include "core/date.h"
#include "cli/cli.h"
#include "collectors/collectors.h"
#include "core/utf8.h"

struct parse_req {
    const char *source;
    const char *file;
    const char *url;
    const char *cursor;
    const char *content_type;    /* into headers' storage */
    const char *content_location;
};

/* Take one "Name: value" header; false when it is not one. */
static bool take_header(struct parse_req *q, const char *h)
{
    const char *colon = strchr(h, ':');
    if (!colon || colon == h)
        return false;
    size_t n = (size_t)(colon - h);
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (n == 12 && !strncasecmp(h, "Content-Type", n))
        q->content_type = v;
    else if (n == 16 && !strncasecmp(h, "Content-Location", n))
        q->content_location = v;
    return true;
}

/* s as a JSON string, cut to its valid UTF-8 (r.error is cut at a byte
 * count); null when s is NULL. */
static json_t *text_json(const char *s)
{
    return s ? json_stringn(s, ctx_utf8_valid_prefix(s, strlen(s))) : json_null();
}

static ctx_err read_file(const char *path, struct buf *body, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return CTX_EIO;
    }
    char chunk[65536];
    size_t n;
    ctx_err e = CTX_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(body, chunk, n);     /* uncapped: the user's own file */
    if (ferror(f))
        e = CTX_EIO;
    fclose(f);
    if (e)
        snprintf(err, errlen, "%s: %s", path, ctx_strerror(e));
    return e;
}

/* Parse one saved response; *out is the JSON to print (new reference). */
static ctx_err parse_one(const struct source_ops *ops, const struct parse_req *q,
                         const char *fetched, json_t **out, char *err, size_t errlen)
{
    struct buf body = {0};
    ctx_err e = read_file(q->file, &body, err, errlen);
    if (e) {
        buf_free(&body);
        return e;
    }
    /* the source the collector would have had: without --url, the file */
    char file_url[4200];
    snprintf(file_url, sizeof file_url, "file://%s", q->file);
    struct config_source src = {.name = (char *)q->source, .kind = (char *)ops->kind,
                                .url = (char *)(q->url ? q->url : file_url)};
    struct http_response resp = {.status = 200, .body = buf_str(&body), .len = buf_len(&body),
                                 .content_type = q->content_type, .url = q->url,
                                 .content_location = q->content_location};
    struct parse_result r = {0};
    e = ops->parse(&src, q->cursor, &resp, fetched, &r);
    if (e) {
        snprintf(err, errlen, "%s", r.error[0] ? r.error : ctx_strerror(e));
    } else {
        json_t *o = r.extra ? r.extra : json_object();    /* taken over from r */
        r.extra = NULL;
        json_t *items = json_array();
        for (size_t i = 0; i < r.nitems; i++)
            json_array_append_new(items, item_to_json(&r.items[i], NULL));
        json_object_set_new(o, "items", items);
        json_object_set_new(o, "cursor", text_json(r.cursor));
        if (!json_object_get(o, "bozo"))
            json_object_set_new(o, "bozo", json_boolean(r.bozo));
        if (r.bozo && !json_is_string(json_object_get(o, "bozo_exception")))
            json_object_set_new(o, "bozo_exception", text_json(r.error));
        *out = o;
    }
    parse_result_clear(&r);
    buf_free(&body);
    return e;
}

static int parse_many(const struct source_ops *ops, const char *source, const char *fetched)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        json_error_t jerr;
        json_t *in = json_loadb(line, (size_t)n, 0, &jerr);
        json_t *out = NULL;
        char err[512] = "";
        struct parse_req q = {.source = source};
        if (!in && strspn(line, " \t\r\n") == (size_t)n)
            continue;
        q.file = json_string_value(json_object_get(in, "file"));
        q.url = json_string_value(json_object_get(in, "url"));
        q.cursor = json_string_value(json_object_get(in, "cursor"));
        json_t *hs = json_object_get(in, "headers"), *h;
        size_t i;
        bool ok = q.file != NULL;
        json_array_foreach(hs, i, h)
            ok = ok && json_is_string(h) && take_header(&q, json_string_value(h));
        if (!ok)
            snprintf(err, sizeof err, "bad request line (want {\"file\": ..., \"headers\": "
                     "[\"Name: value\"], \"url\": ...})");
        else
            parse_one(ops, &q, fetched, &out, err, sizeof err);
        if (!out) {
            out = json_object();
            json_object_set_new(out, "file", q.file ? json_string(q.file) : json_null());
            json_object_set_new(out, "error", json_string(err));
            rc = 1;
        }
        if (json_dumpf(out, stdout, JSON_COMPACT) || putchar('\n') == EOF)
            rc = 1;
        json_decref(out);
        json_decref(in);
    }
    free(line);
    return rc;
}

int cmd_parse(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("parse");
    const struct source_ops *ops = source_ops_find(argv[0]);
    if (!ops || !ops->parse) {
        fprintf(stderr, "ctxctl parse: unknown kind \"%s\"\n", argv[0]);
        return 2;
    }
    struct parse_req q = {.source = "cli"};
    bool many = false;
    char fetched[CTX_TIME_LEN];
    ctx_time_format((long long)time(NULL), fetched);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_arg = i + 1 < argc;
        if (!strcmp(a, "--header") && has_arg) {
            if (!take_header(&q, argv[++i])) {
                fprintf(stderr, "ctxctl parse: --header wants 'Name: value', not '%s'\n",
                        argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--url") && has_arg) {
            q.url = argv[++i];
        } else if (!strcmp(a, "--source") && has_arg) {
            q.source = argv[++i];
        } else if (!strcmp(a, "--cursor") && has_arg) {
            q.cursor = argv[++i];
        } else if (!strcmp(a, "--fetched") && has_arg) {
            long long t;
            if (ctx_date_parse(argv[++i], &t)) {
                fprintf(stderr, "ctxctl parse: --fetched: not a date: %s\n", argv[i]);
                return 2;
            }
            ctx_time_format(t, fetched);
        } else if (!strcmp(a, "--many")) {
            many = true;
        } else if (a[0] != '-' && !q.file) {
            q.file = a;
        } else {
            fprintf(stderr, "ctxctl parse: bad option %s\n", a);
            return cli_usage("parse");
        }
    }
    if (many)
        return q.file ? cli_usage("parse") : parse_many(ops, q.source, fetched);
    if (!q.file)
        return cli_usage("parse");
    json_t *out = NULL;
    char err[512];
    if (parse_one(ops, &q, fetched, &out, err, sizeof err)) {
        fprintf(stderr, "ctxctl parse: %s\n", err);
        return 1;
    }
    /* streamed: a big feed's JSON is never held in memory twice */
    int rc = json_dumpf(out, stdout, JSON_INDENT(2)) || putchar('\n') == EOF ? 1 : 0;
    json_decref(out);
    return rc;
}
