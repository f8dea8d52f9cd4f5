/* config.c -- loading ctxd.json through a declarative table.
 *
 * As in Redis' config.c, each key is one row: its name, type, where it
 * lands in the struct, whether it is required, its default and bounds. One
 * generic loop walks a JSON object against a table, so adding a key is
 * adding a row. Arrays of objects (sources) have a table of their own. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "core/config.h"

enum ftype {
    F_STRING, F_PATH, F_HOSTPORT, F_DURATION, F_SIZE, F_INT, F_NUMBER, F_BOOL, F_LOGLEVEL,
    F_NAME, F_STRLIST, F_CHANNELS, F_LABEL
};

struct field {
    const char *key;
    enum ftype type;
    size_t off;
    bool required;
    const char *def;       /* default, as it would be written in JSON strings */
    double min, max;       /* bounds for durations and sizes */
};

#define CFG(k, t, m, req, def, lo, hi) {k, t, offsetof(struct config, m), req, def, lo, hi}
static const struct field config_fields[] = {
    CFG("listen",     F_HOSTPORT, listen,     false, "127.0.0.1:8080", 0, 0),
    CFG("redis",      F_HOSTPORT, redis,      false, "127.0.0.1:6379", 0, 0),
    CFG("rules",      F_PATH,     rules,      false, "rules", 0, 0),
    CFG("lexicons",   F_PATH,     lexicons,   false, "lexicons", 0, 0),
    CFG("www",        F_PATH,     www,        false, "../ws/www", 0, 0),
    CFG("log_level",  F_LOGLEVEL, log_level,  false, "info", 0, 0),
    CFG("user_agent", F_STRING,   user_agent, false,
        "ContextCenter/0.1 (+https://github.com/context-center/ctx; brand monitoring)", 0, 0),
    CFG("consumer",   F_NAME,     consumer,   false, NULL, 0, 0),
    CFG("max_body",   F_SIZE,     max_body,   false, "5MB", 1024, 1024.0 * 1024 * 1024),
    CFG("per_host",   F_INT,      per_host,   false, "4", 1, 64),
    CFG("chat_queue", F_NAME,     chat_queue, false, NULL, 0, 0),
    CFG("callback_queue", F_NAME, callback_queue, false, NULL, 0, 0),
    CFG("presence_grace", F_DURATION, presence_grace, false, "20s", 0, 3600),
    CFG("presence_timeout", F_DURATION, presence_timeout, false, "30s", 3, 3600),
    CFG("allowed_origins", F_STRING, allowed_origins, false, NULL, 0, 0),
    CFG("auth",       F_BOOL,     auth,       false, "false", 0, 0),
};

#define SRC(k, t, m, req, def, lo, hi) {k, t, offsetof(struct config_source, m), req, def, lo, hi}
static const struct field source_fields[] = {
    SRC("name",      F_NAME,     name,      true,  NULL, 0, 0),
    SRC("kind",      F_NAME,     kind,      true,  NULL, 0, 0),
    SRC("url",       F_STRING,   url,       false, NULL, 0, 0),
    SRC("query",     F_STRING,   query,     false, NULL, 0, 0),
    SRC("tag",       F_STRING,   tag,       false, NULL, 0, 0),
    SRC("subreddit", F_STRING,   subreddit, false, NULL, 0, 0),
    SRC("mode",      F_NAME,     mode,      false, NULL, 0, 0),
    SRC("token",     F_STRING,   token,     false, NULL, 0, 0),
    SRC("token_env", F_NAME,     token_env, false, NULL, 0, 0),
    SRC("api_version", F_STRING, api_version, false, NULL, 0, 0),
    SRC("every",     F_DURATION, every,     true,  NULL, 0.1, 7 * 86400),
    SRC("timeout",   F_DURATION, timeout,   false, "30s", 0.1, 600),
    SRC("max_bytes", F_SIZE,     max_bytes, false, NULL, 1024, 1024.0 * 1024 * 1024),
};

#define QUE(k, t, m, req, def, lo, hi) {k, t, offsetof(struct config_queue, m), req, def, lo, hi}
static const struct field queue_fields[] = {
    QUE("name",           F_NAME,     name,           true,  NULL, 0, 0),
    QUE("strategy",       F_NAME,     strategy,       false, "longest-idle", 0, 0),
    QUE("skills",         F_STRLIST,  skills,         false, NULL, 0, 0),
    QUE("lang",           F_NAME,     lang,           false, NULL, 0, 0),
    QUE("channels",       F_CHANNELS, channels,       false, NULL, 0, 0),
    QUE("offer_timeout",  F_DURATION, offer_timeout,  false, "20s", 1, 3600),
    QUE("wrapup",         F_DURATION, wrapup,         false, "0s", 0, 3600),
    QUE("sla",            F_DURATION, sla,            false, "60s", 1, 7 * 86400),
    QUE("aging",          F_DURATION, aging,          false, "0s", 0, 7 * 86400),
    QUE("overflow_after", F_DURATION, overflow_after, false, "0s", 0, 7 * 86400),
    QUE("overflow_queue", F_NAME,     overflow_queue, false, NULL, 0, 0),
    QUE("overflow_priority", F_INT,   overflow_priority, false, "0", 0, 100),
    QUE("max_length",     F_INT,      max_length,     false, "0", 0, 10000000),
    QUE("max_no_answer",  F_INT,      max_no_answer,  false, "3", 1, 100),
};

#define ESC(k, t, m, req, def, lo, hi) {k, t, offsetof(struct config_escalation, m), req, def, lo, hi}
static const struct field escalation_fields[] = {
    ESC("name",          F_NAME,    name,          false, NULL, 0, 0),
    ESC("queue",         F_NAME,    queue,         true,  NULL, 0, 0),
    ESC("priority",      F_INT,     priority,      false, "0", 0, 100),
    ESC("sentiment",     F_LABEL,   sentiment,     false, NULL, 0, 0),
    ESC("max_score",     F_NUMBER,  max_score,     false, "2", -1, 2),
    ESC("topics",        F_STRLIST, topics,        false, NULL, 0, 0),
    ESC("brands",        F_STRLIST, brands,        false, NULL, 0, 0),
    ESC("urgent",        F_BOOL,    urgent,        false, NULL, 0, 0),
    ESC("complaint",     F_BOOL,    complaint,     false, NULL, 0, 0),
    ESC("reasons",       F_STRLIST, reasons,       false, NULL, 0, 0),
    ESC("lang",          F_NAME,    lang,          false, NULL, 0, 0),
    ESC("min_followers", F_INT,     min_followers, false, "0", 0, 2000000000),
    ESC("duplicates",    F_BOOL,    duplicates,    false, "false", 0, 0),
};

struct ctx {
    const char *file;
    char *err;
    size_t errlen;
    char dir[PATH_MAX];
};

static ctx_err fail(struct ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static ctx_err fail(struct ctx *c, const char *path, const char *fmt, ...)
{
    int n = snprintf(c->err, c->errlen, "%s: %s%s", c->file, path, *path ? ": " : "");
    if (n >= 0 && (size_t)n < c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return CTX_ECONFIG;
}

int config_parse_duration(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return -1;
    while (*end == ' ')
        end++;
    static const struct { const char *unit; double mult; } units[] = {
        {"", 1}, {"ms", 0.001}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400},
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(units); i++)
        if (strcmp(end, units[i].unit) == 0) {
            *out = v * units[i].mult;
            return 0;
        }
    return -1;
}

static int parse_size(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return -1;
    static const struct { const char *unit; double mult; } units[] = {
        {"", 1}, {"B", 1}, {"KB", 1024}, {"MB", 1024 * 1024}, {"GB", 1024.0 * 1024 * 1024},
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(units); i++)
        if (strcasecmp(end, units[i].unit) == 0) {
            *out = v * units[i].mult;
            return 0;
        }
    return -1;
}

int config_parse_hostport(const char *s, char **host, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return -1;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || p < 1 || p > 65535)
        return -1;
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (h[0] == '[' && hl > 2 && h[hl - 1] == ']') { /* [::1]:8080 */
        h++;
        hl -= 2;
    }
    *host = strndup(h, hl);
    if (!*host)
        return -1;
    *port = (int)p;
    return 0;
}

static bool valid_name(const char *s)
{
    if (!*s || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
            return false;
    return true;
}

static ctx_err set_value(struct ctx *c, const struct field *f, void *base, const json_t *v,
                         const char *path)
{
    char *p = (char *)base + f->off;
    const char *s = json_string_value(v);
    switch (f->type) {
    case F_BOOL:
        if (json_is_boolean(v))
            *(int *)p = json_is_true(v);
        else if (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0))
            *(int *)p = strcmp(s, "true") == 0;       /* defaults are written as strings */
        else
            return fail(c, path, "expected true or false");
        return CTX_OK;
    case F_NUMBER: {
        double d;
        char *end = NULL;
        if (json_is_number(v))
            d = json_number_value(v);
        else if (s && (d = strtod(s, &end), end != s && !*end))
            ;
        else
            return fail(c, path, "expected a number");
        if (d < f->min || d > f->max)
            return fail(c, path, "must be between %g and %g", f->min, f->max);
        *(double *)p = d;
        return CTX_OK;
    }
    case F_STRLIST:
    case F_CHANNELS: {
        struct strlist *l = (struct strlist *)p;
        strlist_clear(l);
        if (!json_is_array(v))
            return fail(c, path, "expected an array of strings");
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            const char *xs = json_string_value(x);
            if (!xs || !*xs)
                return fail(c, path, "expected an array of strings");
            if (f->type == F_CHANNELS && strcmp(xs, "social") && strcmp(xs, "chat") &&
                strcmp(xs, "callback"))
                return fail(c, path, "\"%s\" is not a channel (social, chat, callback)", xs);
            if (strlist_add(l, xs))
                return CTX_ENOMEM;
        }
        return CTX_OK;
    }
    case F_LABEL: {
        enum sentiment_label lbl;
        if (!s || sentiment_label_parse(s, &lbl))
            return fail(c, path, "expected positive, negative or neutral");
        break;
    }
    case F_INT: {
        double d;
        if (json_is_integer(v))
            d = (double)json_integer_value(v);
        else if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
            return fail(c, path, "expected a whole number");
        else
            d = atof(s);
        if (d < f->min || d > f->max)
            return fail(c, path, "must be between %g and %g", f->min, f->max);
        *(int *)p = (int)d;
        return CTX_OK;
    }
    case F_DURATION:
    case F_SIZE: {
        double d;
        if (json_is_number(v))
            d = json_number_value(v);
        else if (!s || (f->type == F_DURATION ? config_parse_duration(s, &d) : parse_size(s, &d)))
            return fail(c, path, f->type == F_DURATION
                        ? "expected a duration such as 30s, 5m, 1h or a number of seconds"
                        : "expected a size such as 512KB, 5MB or a number of bytes");
        if (d < f->min || d > f->max)
            return fail(c, path, "must be between %g and %g%s", f->min, f->max,
                        f->type == F_DURATION ? " seconds" : " bytes");
        if (f->type == F_DURATION)
            *(double *)p = d;
        else
            *(long long *)p = (long long)d;
        return CTX_OK;
    }
    default:
        break;
    }
    if (!s)
        return fail(c, path, "expected a string");
    if (f->type == F_NAME && !valid_name(s))
        return fail(c, path, "\"%s\" is not a name (1-64 of letters, digits, '-', '_', '.')", s);
    if (f->type == F_LOGLEVEL && strcmp(s, "debug") && strcmp(s, "info") &&
        strcmp(s, "warn") && strcmp(s, "error"))
        return fail(c, path, "\"%s\" is not one of debug, info, warn, error", s);
    if (f->type == F_HOSTPORT) {
        char *host;
        int port;
        if (config_parse_hostport(s, &host, &port))
            return fail(c, path, "\"%s\" is not host:port", s);
        free(host);
    }
    if (f->type == F_STRING && !*s)
        return fail(c, path, "must not be empty");
    char *val;
    if (f->type == F_PATH && s[0] != '/') {
        size_t n = strlen(c->dir) + strlen(s) + 2;
        val = malloc(n);
        if (val)
            snprintf(val, n, "%s/%s", c->dir, s);
    } else {
        val = strdup(s);
    }
    if (!val)
        return CTX_ENOMEM;
    free(*(char **)p);
    *(char **)p = val;
    return CTX_OK;
}

/* Walk one JSON object against a table: unknown keys, required keys,
 * defaults. */
static ctx_err load_object(struct ctx *c, const struct field *fields, size_t nfields,
                           void *base, const json_t *obj, const char *prefix)
{
    char path[256];
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        snprintf(path, sizeof path, "%s%s", prefix, key);
        size_t i;
        for (i = 0; i < nfields; i++)
            if (strcmp(fields[i].key, key) == 0)
                break;
        if (i == nfields)
            return fail(c, path, "unknown key");
        ctx_err e = set_value(c, &fields[i], base, v, path);
        if (e)
            return e;
    }
    for (size_t i = 0; i < nfields; i++) {
        if (json_object_get(obj, fields[i].key))
            continue;
        snprintf(path, sizeof path, "%s%s", prefix, fields[i].key);
        if (fields[i].required)
            return fail(c, path, "missing (required)");
        if (fields[i].def) {
            json_t *d = json_string(fields[i].def);
            ctx_err e = set_value(c, &fields[i], base, d, path);
            json_decref(d);
            if (e)
                return e;
        }
    }
    return CTX_OK;
}

/* An array of objects against a table: elements of elem_size bytes,
 * init() (if given) run on each before its keys are read. */
static ctx_err load_array(struct ctx *c, const char *key, const json_t *arr,
                          const struct field *fields, size_t nfields, size_t elem_size,
                          void (*init)(void *), void **out, size_t *n_out)
{
    if (!json_is_array(arr))
        return fail(c, key, "expected an array of objects");
    size_t n = json_array_size(arr);
    if (n == 0)
        return CTX_OK;
    char *v = calloc(n, elem_size);
    if (!v)
        return CTX_ENOMEM;
    *out = v;
    for (size_t i = 0; i < n; i++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "%s[%zu].", key, i);
        const json_t *o = json_array_get(arr, i);
        *n_out = i + 1;
        if (init)
            init(v + i * elem_size);
        if (!json_is_object(o)) {
            prefix[strlen(prefix) - 1] = '\0';
            return fail(c, prefix, "expected an object");
        }
        ctx_err e = load_object(c, fields, nfields, v + i * elem_size, o, prefix);
        if (e)
            return e;
    }
    return CTX_OK;
}

static void escalation_init(void *p)
{
    struct config_escalation *r = p;
    r->urgent = -1;
    r->complaint = -1;
}

static bool queue_exists(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nqueues; i++)
        if (strcmp(cfg->queues[i].name, name) == 0)
            return true;
    return false;
}

static ctx_err load_routing(struct ctx *c, struct config *cfg, const json_t *queues,
                            const json_t *escalation)
{
    ctx_err e = CTX_OK;
    if (queues)
        e = load_array(c, "queues", queues, queue_fields, CTX_ARRAY_LEN(queue_fields),
                       sizeof *cfg->queues, NULL, (void **)&cfg->queues, &cfg->nqueues);
    for (size_t i = 0; !e && i < cfg->nqueues; i++) {
        char path[64];
        for (size_t j = 0; j < i; j++)
            if (strcmp(cfg->queues[j].name, cfg->queues[i].name) == 0) {
                snprintf(path, sizeof path, "queues[%zu].name", i);
                return fail(c, path, "\"%s\" is already the name of queues[%zu]",
                            cfg->queues[i].name, j);
            }
    }
    if (!e && escalation)
        e = load_array(c, "escalation", escalation, escalation_fields,
                       CTX_ARRAY_LEN(escalation_fields), sizeof *cfg->escalation,
                       escalation_init, (void **)&cfg->escalation, &cfg->nescalation);
    /* every queue a rule or setting names must exist */
    if (!e && cfg->chat_queue && !queue_exists(cfg, cfg->chat_queue))
        e = fail(c, "chat_queue", "no queue is named \"%s\"", cfg->chat_queue);
    if (!e && cfg->callback_queue && !queue_exists(cfg, cfg->callback_queue))
        e = fail(c, "callback_queue", "no queue is named \"%s\"", cfg->callback_queue);
    for (size_t i = 0; !e && i < cfg->nqueues; i++) {
        const char *o = cfg->queues[i].overflow_queue;
        char path[64];
        snprintf(path, sizeof path, "queues[%zu].overflow_queue", i);
        if (o && !queue_exists(cfg, o))
            e = fail(c, path, "no queue is named \"%s\"", o);
    }
    for (size_t i = 0; !e && i < cfg->nescalation; i++) {
        char path[64];
        snprintf(path, sizeof path, "escalation[%zu].queue", i);
        if (!queue_exists(cfg, cfg->escalation[i].queue))
            e = fail(c, path, "no queue is named \"%s\"", cfg->escalation[i].queue);
    }
    return e;
}

static ctx_err load_sources(struct ctx *c, struct config *cfg, const json_t *arr)
{
    if (!json_is_array(arr))
        return fail(c, "sources", "expected an array of sources");
    size_t n = json_array_size(arr);
    if (n == 0)
        return CTX_OK;
    cfg->sources = calloc(n, sizeof *cfg->sources);
    if (!cfg->sources)
        return CTX_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "sources[%zu].", i);
        const json_t *o = json_array_get(arr, i);
        cfg->nsources = i + 1;
        if (!json_is_object(o)) {
            prefix[strlen(prefix) - 1] = '\0';
            return fail(c, prefix, "expected an object");
        }
        struct config_source *s = &cfg->sources[i];
        ctx_err e = load_object(c, source_fields, CTX_ARRAY_LEN(source_fields), s, o, prefix);
        if (e)
            return e;
        if (!s->max_bytes)
            s->max_bytes = cfg->max_body;
        if (s->token_env && !s->token) {
            const char *v = getenv(s->token_env);
            if (!v || !*v) {
                snprintf(prefix, sizeof prefix, "sources[%zu].token_env", i);
                return fail(c, prefix, "environment variable %s is not set", s->token_env);
            }
            if (!(s->token = strdup(v)))
                return CTX_ENOMEM;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(cfg->sources[j].name, s->name) == 0) {
                snprintf(prefix, sizeof prefix, "sources[%zu].name", i);
                return fail(c, prefix, "\"%s\" is already the name of sources[%zu]", s->name, j);
            }
    }
    return CTX_OK;
}

ctx_err config_load(const char *path, struct config **out, char *err, size_t errlen)
{
    *out = NULL;
    struct ctx c = {.file = path, .err = err, .errlen = errlen};
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(c.dir, sizeof c.dir, "%.*s", (int)(slash - path), path);
    else
        strcpy(c.dir, ".");
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        return CTX_ECONFIG;
    }
    struct config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        json_decref(root);
        return CTX_ENOMEM;
    }
    ctx_err e = CTX_OK;
    cfg->path = strdup(path);
    if (!json_is_object(root)) {
        e = fail(&c, "", "expected a JSON object at the top");
        goto done;
    }
    /* arrays of objects have tables of their own */
    json_t *sources = json_object_get(root, "sources"), *queues = json_object_get(root, "queues"),
           *escalation = json_object_get(root, "escalation");
    json_incref(sources);
    json_incref(queues);
    json_incref(escalation);
    json_object_del(root, "sources");
    json_object_del(root, "queues");
    json_object_del(root, "escalation");
    e = load_object(&c, config_fields, CTX_ARRAY_LEN(config_fields), cfg, root, "");
    if (!e && sources)
        e = load_sources(&c, cfg, sources);
    if (!e)
        e = load_routing(&c, cfg, queues, escalation);
    json_decref(sources);
    json_decref(queues);
    json_decref(escalation);
    if (!e && config_parse_hostport(cfg->listen, &cfg->listen_host, &cfg->listen_port))
        e = CTX_ENOMEM;
    if (!e && config_parse_hostport(cfg->redis, &cfg->redis_host, &cfg->redis_port))
        e = CTX_ENOMEM;
done:
    json_decref(root);
    if (e) {
        config_free(cfg);
        return e;
    }
    *out = cfg;
    return CTX_OK;
}

ctx_err config_set_redis(struct config *cfg, const char *hostport, char *err, size_t errlen)
{
    char *host;
    int port;
    if (config_parse_hostport(hostport, &host, &port)) {
        snprintf(err, errlen, "--redis: \"%s\" is not host:port", hostport);
        return CTX_ECONFIG;
    }
    char *copy = strdup(hostport);
    if (!copy) {
        free(host);
        return CTX_ENOMEM;
    }
    free(cfg->redis);
    free(cfg->redis_host);
    cfg->redis = copy;
    cfg->redis_host = host;
    cfg->redis_port = port;
    return CTX_OK;
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->nsources; i++) {
        struct config_source *s = &cfg->sources[i];
        char *strs[] = {s->name, s->kind, s->url, s->query, s->tag, s->subreddit, s->mode,
                        s->token, s->token_env, s->api_version};
        for (size_t j = 0; j < CTX_ARRAY_LEN(strs); j++)
            free(strs[j]);
    }
    free(cfg->sources);
    for (size_t i = 0; i < cfg->nqueues; i++) {
        struct config_queue *q = &cfg->queues[i];
        free(q->name);
        free(q->strategy);
        free(q->lang);
        free(q->overflow_queue);
        strlist_clear(&q->skills);
        strlist_clear(&q->channels);
    }
    free(cfg->queues);
    for (size_t i = 0; i < cfg->nescalation; i++) {
        struct config_escalation *r = &cfg->escalation[i];
        free(r->name);
        free(r->queue);
        free(r->sentiment);
        free(r->lang);
        strlist_clear(&r->topics);
        strlist_clear(&r->brands);
        strlist_clear(&r->reasons);
    }
    free(cfg->escalation);
    char *strs[] = {cfg->chat_queue, cfg->callback_queue, cfg->allowed_origins, cfg->path, cfg->listen, cfg->listen_host, cfg->redis, cfg->redis_host,
                    cfg->rules, cfg->lexicons, cfg->www, cfg->log_level, cfg->user_agent,
                    cfg->consumer};
    for (size_t i = 0; i < CTX_ARRAY_LEN(strs); i++)
        free(strs[i]);
    free(cfg);
}
