/* config.c -- loading ctxd.json through a declarative table.
 *
 * As in Redis' config.c, each key is one row: its name, type, where it
 * lands in the struct, whether it is required, its default, its bounds and
 * its validator. One generic loop walks a JSON object against a table, so
 * adding a key is adding a row. An array of objects (sources, queues,
 * escalation) is a row whose elements have a table of their own, and so is
 * a nested object (health, retention: one struct embedded in struct config,
 * its rows' defaults when it is absent); a table may add a check for what
 * no single row can say (a source's kind-specific keys). Rows that name a
 * queue are checked once everything is read.
 * config_free() walks the same tables, so every string the loader stores is
 * a row (the derived ones, such as listen_host, are rows marked DERIVED).
 *
 * The validators of "kind" and "strategy" ask the registries of collectors/
 * and routing/, so ctxd and ctxctl refuse the same files. Allocation
 * failure aborts (core/mem.h): the only errors are the file's. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "collectors/collectors.h"
#include "core/config.h"
#include "core/log.h"
#include "core/tz.h"
#include "dial/dial.h"
#include "core/mem.h"
#include "routing/routing.h"

enum ftype {
    F_STRING,   /* a string, checked by the row's validator (none: not empty) */
    F_PATH,     /* a string; a relative path is resolved against the file's folder */
    F_DURATION, /* "30s", "5m", ... or a number of seconds, as a double */
    F_SIZE,     /* "512KB", "5MB", ... or a number of bytes, as a long long */
    F_INT,      /* a whole number, as an int */
    F_NUMBER,   /* any number, as a double */
    F_BOOL,     /* true or false, as an int */
    F_STRLIST,  /* an array of non-empty strings, each checked by the validator */
    F_ARRAY,    /* an array of objects, each read against the row's table */
    F_OBJECT,   /* an object read against the row's table into a struct at off; when
                   absent, its defaults */
};

/* A validator: true when s is acceptable; otherwise it says why in `why`,
 * which follows "file: key: " in the error. */
typedef bool validator(const char *s, char *why, size_t whylen);

enum {
    UNIQUE = 1,      /* no two elements of the array have the same value */
    REF_QUEUE = 2,   /* the name of one of the config's queues */
    DERIVED = 4,     /* set by the loader, not a key of the file (freed like one) */
    ONE_OR_MANY = 8, /* F_STRLIST: a single string is read as a list of one */
};

struct table;

struct field {
    const char *key;
    enum ftype type;
    size_t off;                 /* where the value lands */
    bool required;
    const char *def;            /* the default, written as a JSON string; NULL = none */
    double min, max;            /* bounds of numbers, durations and sizes */
    validator *valid;           /* strings and list elements; NULL = any */
    unsigned flags;
    const struct table *elem;   /* F_ARRAY: the table of its elements; F_OBJECT: its table */
    size_t count_off;           /* F_ARRAY: where the number of elements lands */
};

struct ctx;

struct table {
    const struct field *fields;
    size_t nfields;
    size_t size;                /* bytes of one element (arrays) */
    void (*init)(void *elem);   /* before an element's keys are read */
    ctx_err (*check)(struct ctx *c, void *elem, const char *prefix); /* after them */
};

struct ctx {
    const char *file;
    char *err;
    size_t errlen;
    char dir[PATH_MAX];
    struct config *cfg;         /* being loaded */
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
    *host = ctx_strndup(h, hl);
    *port = (int)p;
    return 0;
}

/* ---- validators ------------------------------------------------------- */

static bool valid_mode(const char *s, char *why, size_t whylen)
{
    if (strcmp(s, "progressive") == 0 || strcmp(s, "preview") == 0)
        return true;
    snprintf(why, whylen, "\"%s\" is not progressive or preview", s);
    return false;
}

static bool valid_hours(const char *s, char *why, size_t whylen)
{
    int o, c;
    if (dial_hours_parse(s, &o, &c) == 0)
        return true;
    snprintf(why, whylen, "\"%s\" is not a daily window such as 09:00-20:00", s);
    return false;
}

static bool valid_tz(const char *s, char *why, size_t whylen)
{
    struct tz *tz;
    if (tz_load(NULL, s, &tz) == CTX_OK) {
        tz_free(tz);
        return true;
    }
    snprintf(why, whylen, "\"%s\" is not a time zone of %s", s, TZ_DIR);
    return false;
}

static bool valid_engine(const char *s, char *why, size_t whylen)
{
    if (dialer_ops_find(s))
        return true;
    snprintf(why, whylen, "\"%s\" is not a dialer engine (baresip)", s);
    return false;
}

static bool valid_sip_template(const char *s, char *why, size_t whylen)
{
    if ((strncmp(s, "sip:", 4) == 0 || strncmp(s, "sips:", 5) == 0) &&
        (strstr(s, "{digits}") || strstr(s, "{e164}")))
        return true;
    snprintf(why, whylen, "\"%s\" is not a SIP URI template with {digits} or {e164} "
             "(sip:{digits}@pbx.example.com)", s);
    return false;
}

static bool valid_country_code(const char *s, char *why, size_t whylen)
{
    size_t n = strlen(s);
    if (n >= 1 && n <= 3 && strspn(s, "0123456789") == n && s[0] != '0')
        return true;
    snprintf(why, whylen, "\"%s\" is not a country code (1 to 3 digits: \"7\", \"44\")", s);
    return false;
}

static bool valid_duration(const char *s, char *why, size_t whylen)
{
    double d;
    if (config_parse_duration(s, &d) == 0 && d >= 0 && d <= 7 * 86400)
        return true;
    snprintf(why, whylen, "\"%s\" is not a duration up to 7d (30s, 5m, 1h)", s);
    return false;
}

static bool valid_name(const char *s, char *why, size_t whylen)
{
    size_t n = strlen(s);
    bool ok = n >= 1 && n <= 64;
    for (const char *p = s; ok && *p; p++)
        ok = isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.';
    if (!ok)
        snprintf(why, whylen, "\"%s\" is not a name (1-64 of letters, digits, '-', '_', '.')", s);
    return ok;
}

static bool valid_hostport(const char *s, char *why, size_t whylen)
{
    char *host;
    int port;
    if (config_parse_hostport(s, &host, &port)) {
        snprintf(why, whylen, "\"%s\" is not host:port", s);
        return false;
    }
    free(host);
    return true;
}

static bool valid_log_level(const char *s, char *why, size_t whylen)
{
    enum log_level lvl;
    if (log_level_parse(s, &lvl) == 0)
        return true;
    snprintf(why, whylen, "\"%s\" is not one of debug, info, warn, error", s);
    return false;
}

static bool valid_label(const char *s, char *why, size_t whylen)
{
    enum sentiment_label lbl;
    if (sentiment_label_parse(s, &lbl) == 0)
        return true;
    snprintf(why, whylen, "expected positive, negative or neutral");
    return false;
}

static bool valid_channel(const char *s, char *why, size_t whylen)
{
    enum channel ch;
    if (channel_parse(s, &ch) == 0)
        return true;
    snprintf(why, whylen, "\"%s\" is not a channel (social, chat, callback)", s);
    return false;
}

static bool valid_kind(const char *s, char *why, size_t whylen)
{
    if (source_ops_find(s))
        return true;
    snprintf(why, whylen, "unknown kind \"%s\"", s);
    return false;
}

static bool valid_strategy(const char *s, char *why, size_t whylen)
{
    if (strategy_find(s))
        return true;
    snprintf(why, whylen, "unknown strategy \"%s\" "
             "(longest-idle, round-robin, fewest-tasks, best-skill)", s);
    return false;
}

static bool valid_on(const char *s, char *why, size_t whylen)
{
    if (strcmp(s, "item") == 0 || strcmp(s, "alert") == 0)
        return true;
    snprintf(why, whylen, "\"%s\" is not item or alert", s);
    return false;
}

/* A trend series ("brand:acme") or a prefix of them ("reason:*", "*"). */
static bool valid_series(const char *s, char *why, size_t whylen)
{
    size_t n = strlen(s);
    bool ok = n >= 1 && n <= 200;
    for (const char *p = s; ok && *p; p++)
        ok = (unsigned char)*p > ' ' && *p != '"' && *p != '\\' && (*p != '*' || !p[1]);
    if (!ok)
        snprintf(why, whylen, "\"%s\" is not a series (\"brand:acme\", or a prefix and '*')",
                 s);
    return ok;
}

/* ---- the tables ------------------------------------------------------- */

#define ROW(S, k, t, m, ...) {.key = k, .type = t, .off = offsetof(S, m), __VA_ARGS__}
#define ARRAY(S, k, m, n, table) \
    ROW(S, k, F_ARRAY, m, .elem = &table, .count_off = offsetof(S, n))
#define OBJECT(S, k, m, table) ROW(S, k, F_OBJECT, m, .elem = &table)
#define GB (1024.0 * 1024 * 1024)
#define WEEK (7 * 86400)
#define TEN_YEARS (3650 * 86400.0)

#define SRC(...) ROW(struct config_source, __VA_ARGS__)
static const struct field source_fields[] = {
    SRC("name",        F_STRING,   name,        .required = true, .valid = valid_name,
        .flags = UNIQUE),
    SRC("kind",        F_STRING,   kind,        .required = true, .valid = valid_kind),
    SRC("url",         F_STRING,   url),
    SRC("query",       F_STRING,   query),
    SRC("tag",         F_STRING,   tag),
    SRC("subreddit",   F_STRING,   subreddit),
    SRC("mode",        F_STRING,   mode,        .valid = valid_name),
    SRC("token",       F_STRING,   token),
    SRC("token_env",   F_STRING,   token_env,   .valid = valid_name),
    SRC("api_version", F_STRING,   api_version),
    SRC("every",       F_DURATION, every,       .required = true, .min = 0.1, .max = WEEK),
    SRC("timeout",     F_DURATION, timeout,     .def = "30s", .min = 0.1, .max = 600),
    SRC("max_bytes",   F_SIZE,     max_bytes,   .min = 1024, .max = GB),
};

#define QUE(...) ROW(struct config_queue, __VA_ARGS__)
static const struct field queue_fields[] = {
    QUE("name",              F_STRING,   name,           .required = true, .valid = valid_name,
        .flags = UNIQUE),
    QUE("strategy",          F_STRING,   strategy,       .def = "longest-idle",
        .valid = valid_strategy),
    QUE("skills",            F_STRLIST,  skills),
    QUE("lang",              F_STRING,   lang,           .valid = valid_name),
    QUE("channels",          F_STRLIST,  channels,       .valid = valid_channel),
    QUE("offer_timeout",     F_DURATION, offer_timeout,  .def = "20s", .min = 1, .max = 3600),
    QUE("wrapup",            F_DURATION, wrapup,         .def = "0s", .min = 0, .max = 3600),
    QUE("sla",               F_DURATION, sla,            .def = "60s", .min = 1, .max = WEEK),
    QUE("aging",             F_DURATION, aging,          .def = "0s", .min = 0, .max = WEEK),
    QUE("overflow_after",    F_DURATION, overflow_after, .def = "0s", .min = 0, .max = WEEK),
    QUE("overflow_queue",    F_STRING,   overflow_queue, .valid = valid_name,
        .flags = REF_QUEUE),
    QUE("overflow_priority", F_INT,      overflow_priority, .def = "0", .min = 0, .max = 100),
    QUE("max_length",        F_INT,      max_length,     .def = "0", .min = 0, .max = 10000000),
    QUE("max_no_answer",     F_INT,      max_no_answer,  .def = "3", .min = 1, .max = 100),
    QUE("callback_mode",     F_STRING,   callback_mode,  .def = "progressive",
        .valid = valid_mode),
    QUE("calling_hours",     F_STRING,   calling_hours,  .valid = valid_hours),
    QUE("calling_tz",        F_STRING,   calling_tz,     .valid = valid_tz),
    QUE("dial_uri",          F_STRING,   dial_uri,       .valid = valid_sip_template),
};

#define DIAL(...) ROW(struct config_dialer, __VA_ARGS__)
static const struct field dialer_fields[] = {
    DIAL("engine",             F_STRING,   engine,       .valid = valid_engine),
    DIAL("address",            F_STRING,   address,      .def = "127.0.0.1:4444",
         .valid = valid_hostport),
    DIAL("uri",                F_STRING,   uri,          .def = "sip:{digits}@127.0.0.1",
         .valid = valid_sip_template),
    DIAL("country_code",       F_STRING,   country_code, .valid = valid_country_code),
    DIAL("ring_timeout",       F_DURATION, ring_timeout, .def = "30s", .min = 1, .max = 600),
    DIAL("agent_ring_timeout", F_DURATION, agent_ring_timeout, .def = "20s", .min = 1,
         .max = 600),
    DIAL("attempts",           F_INT,      attempts,     .def = "3", .min = 1, .max = 20),
    DIAL("retry_delays",       F_STRLIST,  retry_delays, .valid = valid_duration),
};

#define ESC(...) ROW(struct config_escalation, __VA_ARGS__)
static const struct field escalation_fields[] = {
    ESC("name",          F_STRING,  name,          .valid = valid_name),
    ESC("queue",         F_STRING,  queue,         .required = true, .valid = valid_name,
        .flags = REF_QUEUE),
    ESC("priority",      F_INT,     priority,      .def = "0", .min = 0, .max = 100),
    ESC("sentiment",     F_STRING,  sentiment,     .valid = valid_label),
    ESC("max_score",     F_NUMBER,  max_score,     .def = "2", .min = -1, .max = 2),
    ESC("topics",        F_STRLIST, topics),
    ESC("brands",        F_STRLIST, brands),
    ESC("urgent",        F_BOOL,    urgent),          /* -1 (any) when absent */
    ESC("complaint",     F_BOOL,    complaint),       /* -1 (any) when absent */
    ESC("reasons",       F_STRLIST, reasons),
    ESC("lang",          F_STRING,  lang,          .valid = valid_name),
    ESC("min_followers", F_INT,     min_followers, .def = "0", .min = 0, .max = 2000000000),
    ESC("duplicates",    F_BOOL,    duplicates,    .def = "false"),
    ESC("on",            F_STRING,  on,            .def = "item", .valid = valid_on),
    ESC("series",        F_STRLIST, series,        .valid = valid_series),
};

#define ALS(...) ROW(struct config_alert_series, __VA_ARGS__)
static const struct field alert_series_fields[] = {
    ALS("match",       F_STRING,   match,       .required = true, .valid = valid_series),
    ALS("min_count",   F_NUMBER,   min_count,   .def = "-1", .min = -1, .max = 1e9),
    ALS("min_ratio",   F_NUMBER,   min_ratio,   .def = "-1", .min = -1, .max = 1000),
    ALS("raise",       F_NUMBER,   raise,       .def = "-1", .min = -1, .max = 1000),
    ALS("clear",       F_NUMBER,   clear,       .def = "-1", .min = -1, .max = 1000),
    ALS("spread",      F_NUMBER,   spread,      .def = "-1", .min = -1, .max = 10),
    ALS("clear_after", F_NUMBER,   clear_after, .def = "-1", .min = -1, .max = 86400),
};
static const struct table alert_series_table = {
    alert_series_fields, CTX_ARRAY_LEN(alert_series_fields),
    sizeof(struct config_alert_series), NULL, NULL,
};

#define ALR(...) ROW(struct config_alerts, __VA_ARGS__)
static const struct field alerts_fields[] = {
    ALR("enabled",     F_BOOL,     enabled,     .def = "true"),
    ALR("delay",       F_DURATION, delay,       .def = "5s", .min = 0, .max = 50),
    ALR("max_series",  F_INT,      max_series,  .def = "2000", .min = 1, .max = 1000000),
    ALR("min_count",   F_NUMBER,   min_count,   .def = "10", .min = 1, .max = 1e9),
    ALR("min_ratio",   F_NUMBER,   min_ratio,   .def = "2", .min = 1, .max = 1000),
    ALR("raise",       F_NUMBER,   raise,       .def = "5", .min = 0.5, .max = 1000),
    ALR("clear",       F_NUMBER,   clear,       .def = "2", .min = 0, .max = 1000),
    ALR("spread",      F_NUMBER,   spread,      .def = "0.25", .min = 0, .max = 10),
    ALR("clear_after", F_DURATION, clear_after, .def = "15m", .min = 60, .max = 86400),
    ARRAY(struct config_alerts, "series", series, nseries, alert_series_table),
};

#define HEALTH(...) ROW(struct config_health, __VA_ARGS__)
static const struct field health_fields[] = {
    HEALTH("max_lag",         F_INT,      max_lag,         .def = "10000", .min = 1,
           .max = 1000000000),
    HEALTH("max_pending_age", F_DURATION, max_pending_age, .def = "300s", .min = 1,
           .max = WEEK),
};

/* Each 0 (keep for ever) or a duration; see docs/operations.md. */
#define RET(...) ROW(struct config_retention, __VA_ARGS__)
static const struct field retention_fields[] = {
    RET("items",       F_DURATION, items,       .def = "30d", .min = 0, .max = TEN_YEARS),
    RET("tasks",       F_DURATION, tasks,       .def = "90d", .min = 0, .max = TEN_YEARS),
    RET("replies",     F_DURATION, replies,     .def = "30d", .min = 0, .max = TEN_YEARS),
    RET("seen",        F_DURATION, seen,        .def = "30d", .min = 0, .max = TEN_YEARS),
    RET("simhash",     F_DURATION, simhash,     .def = "7d",  .min = 0, .max = TEN_YEARS),
    RET("events",      F_DURATION, events,      .def = "7d",  .min = 0, .max = TEN_YEARS),
    RET("dead",        F_DURATION, dead,        .def = "30d", .min = 0, .max = TEN_YEARS),
    RET("sweep_every", F_DURATION, sweep_every, .def = "60s", .min = 0.1, .max = 86400),
};

#define TRENDS(...) ROW(struct config_trends, __VA_ARGS__)
static const struct field trends_fields[] = {
    TRENDS("enabled",          F_BOOL,     enabled,          .def = "true"),
    TRENDS("lateness",         F_DURATION, lateness,         .def = "48h", .min = 0,
           .max = 10 * 366 * 86400.0),
    TRENDS("skew",             F_DURATION, skew,             .def = "5m", .min = 0, .max = 86400),
    TRENDS("minute_retention", F_DURATION, minute_retention, .def = "2d", .min = 3600,
           .max = 366 * 86400.0),
    TRENDS("hour_retention",   F_DURATION, hour_retention,   .def = "90d", .min = 86400,
           .max = 10 * 366 * 86400.0),
    TRENDS("day_retention",    F_DURATION, day_retention,    .def = "1095d", .min = 86400,
           .max = 100 * 366 * 86400.0),
    TRENDS("max_points",       F_INT,      max_points,       .def = "100000", .min = 10,
           .max = 10000000),
};

static ctx_err source_check(struct ctx *c, void *elem, const char *prefix);
static void escalation_init(void *elem);
static ctx_err config_check(struct ctx *c, void *elem, const char *prefix);

static const struct table source_table = {
    source_fields, CTX_ARRAY_LEN(source_fields), sizeof(struct config_source), NULL,
    source_check,
};
static const struct table queue_table = {
    queue_fields, CTX_ARRAY_LEN(queue_fields), sizeof(struct config_queue), NULL, NULL,
};
static const struct table health_table = {
    health_fields, CTX_ARRAY_LEN(health_fields), sizeof(struct config_health), NULL, NULL,
};
static const struct table retention_table = {
    retention_fields, CTX_ARRAY_LEN(retention_fields), sizeof(struct config_retention), NULL,
    NULL,
};
static const struct table trends_table = {
    trends_fields, CTX_ARRAY_LEN(trends_fields), sizeof(struct config_trends), NULL, NULL,
};
static ctx_err escalation_check(struct ctx *c, void *elem, const char *prefix);
static const struct table escalation_table = {
    escalation_fields, CTX_ARRAY_LEN(escalation_fields), sizeof(struct config_escalation),
    escalation_init, escalation_check,
};
static const struct table dialer_table = {
    dialer_fields, CTX_ARRAY_LEN(dialer_fields), sizeof(struct config_dialer), NULL, NULL,
};
static const struct table alerts_table = {
    alerts_fields, CTX_ARRAY_LEN(alerts_fields), sizeof(struct config_alerts), NULL, NULL,
};

/* Arrays come after the keys they depend on: a source's max_bytes defaults
 * to max_body. */
#define CFG(...) ROW(struct config, __VA_ARGS__)
static const struct field config_fields[] = {
    CFG("listen",           F_STRING,   listen,     .def = "127.0.0.1:8080",
        .valid = valid_hostport),
    CFG("redis",            F_STRLIST,  redis_nodes, .def = "127.0.0.1:6379",
        .valid = valid_hostport, .flags = ONE_OR_MANY),
    CFG("redis_cluster",    F_BOOL,     redis_cluster, .def = "false"),
    CFG("redis_user",       F_STRING,   redis_user),
    CFG("redis_password",   F_STRING,   redis_password),
    CFG("redis_wait_replicas", F_INT,   redis_wait_replicas, .def = "0", .min = 0, .max = 16),
    CFG("redis_wait_timeout", F_DURATION, redis_wait_timeout, .def = "100ms", .min = 0.001,
        .max = 10),
    CFG("item_shards",      F_INT,      item_shards, .def = "1", .min = 1, .max = 16),
    CFG("rules",            F_PATH,     rules,      .def = "rules"),
    CFG("lexicons",         F_PATH,     lexicons,   .def = "lexicons"),
    CFG("www",              F_PATH,     www,        .def = "../ws/www"),
    CFG("log_level",        F_STRING,   log_level,  .def = "info", .valid = valid_log_level),
    CFG("user_agent",       F_STRING,   user_agent,
        .def = "ContextCenter/0.1 (+https://github.com/context-center/ctx; brand monitoring)"),
    CFG("consumer",         F_STRING,   consumer,   .valid = valid_name),
    CFG("max_body",         F_SIZE,     max_body,   .def = "5MB", .min = 1024, .max = GB),
    CFG("per_host",         F_INT,      per_host,   .def = "4", .min = 1, .max = 64),
    CFG("chat_queue",       F_STRING,   chat_queue, .valid = valid_name, .flags = REF_QUEUE),
    CFG("callback_queue",   F_STRING,   callback_queue, .valid = valid_name,
        .flags = REF_QUEUE),
    CFG("presence_grace",   F_DURATION, presence_grace, .def = "20s", .min = 0, .max = 3600),
    CFG("presence_timeout", F_DURATION, presence_timeout, .def = "30s", .min = 3, .max = 3600),
    CFG("allowed_origins",  F_STRING,   allowed_origins),
    CFG("claim_idle",       F_DURATION, claim_idle, .def = "60s", .min = 1, .max = 86400),
    CFG("max_deliveries",   F_INT,      max_deliveries, .def = "5", .min = 1, .max = 1000),
    CFG("auth",             F_BOOL,     auth,       .def = "false"),
    OBJECT(struct config, "health",    health,    health_table),
    OBJECT(struct config, "retention", retention, retention_table),
    OBJECT(struct config, "trends",    trends,    trends_table),
    OBJECT(struct config, "alerts",    alerts,    alerts_table),
    OBJECT(struct config, "dialer",    dialer,    dialer_table),
    ARRAY(struct config, "sources",    sources,    nsources,    source_table),
    ARRAY(struct config, "queues",     queues,     nqueues,     queue_table),
    ARRAY(struct config, "escalation", escalation, nescalation, escalation_table),
    CFG("path",             F_STRING,   path,        .flags = DERIVED),
    CFG("listen_host",      F_STRING,   listen_host, .flags = DERIVED),
    CFG("redis_host",       F_STRING,   redis_host,  .flags = DERIVED),
    CFG("redis_first",      F_STRING,   redis,       .flags = DERIVED),
};

static const struct table config_table = {
    config_fields, CTX_ARRAY_LEN(config_fields), sizeof(struct config), NULL, config_check,
};

/* ---- the generic loop ------------------------------------------------- */

static ctx_err load_object(struct ctx *c, const struct table *t, void *base, const json_t *obj,
                           const char *prefix);

/* A string (or list element) through the row's validator. */
static ctx_err check_string(struct ctx *c, const struct field *f, const char *s,
                            const char *path)
{
    char why[256];
    if (f->valid && !f->valid(s, why, sizeof why))
        return fail(c, path, "%s", why);
    if (!f->valid && f->type == F_STRING && !*s)
        return fail(c, path, "must not be empty");
    return CTX_OK;
}

/* Rows marked UNIQUE of element i against the elements before it. */
static ctx_err check_unique(struct ctx *c, const struct table *t, const char *v, size_t i,
                            const char *path)
{
    for (size_t k = 0; k < t->nfields; k++) {
        const struct field *u = &t->fields[k];
        const char *s = u->flags & UNIQUE ? *(char *const *)(v + i * t->size + u->off) : NULL;
        for (size_t j = 0; s && j < i; j++) {
            const char *other = *(char *const *)(v + j * t->size + u->off);
            if (other && strcmp(other, s) == 0) {
                char where[300];
                snprintf(where, sizeof where, "%s[%zu].%s", path, i, u->key);
                return fail(c, where, "\"%s\" is already the %s of %s[%zu]", s, u->key, path, j);
            }
        }
    }
    return CTX_OK;
}

/* An array of objects against the row's table: elements are counted as
 * they are read, so config_free() frees exactly what was loaded. */
static ctx_err load_array(struct ctx *c, const struct field *f, void *base, const json_t *arr,
                          const char *path)
{
    const struct table *t = f->elem;
    if (!json_is_array(arr))
        return fail(c, path, "expected an array of objects");
    size_t n = json_array_size(arr), *count = (size_t *)((char *)base + f->count_off);
    if (n == 0)
        return CTX_OK;
    char *v = ctx_calloc(n, t->size);
    *(char **)((char *)base + f->off) = v;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        char prefix[300];
        *count = i + 1;
        if (t->init)
            t->init(v + i * t->size);
        snprintf(prefix, sizeof prefix, "%s[%zu]%s", path, i, json_is_object(o) ? "." : "");
        ctx_err e = json_is_object(o) ? load_object(c, t, v + i * t->size, o, prefix)
                                      : fail(c, prefix, "expected an object");
        if (!e)
            e = check_unique(c, t, v, i, path);
        if (e)
            return e;
    }
    return CTX_OK;
}

static int parse_number(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return end != s && !*end ? 0 : -1;
}

static int parse_whole(const char *s, double *out)
{
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
        return -1;
    *out = atof(s);
    return 0;
}

/* How each numeric type reads a string (defaults, "5m") and what its
 * errors say. */
static const struct numeric {
    int (*parse)(const char *s, double *out);   /* 0 ok, -1 bad */
    const char *expected;
    const char *unit;                           /* after the bounds */
} numerics[] = {
    [F_NUMBER] = {parse_number, "expected a number", ""},
    [F_INT] = {parse_whole, "expected a whole number", ""},
    [F_DURATION] = {config_parse_duration,
                    "expected a duration such as 30s, 5m, 1h or a number of seconds", " seconds"},
    [F_SIZE] = {parse_size, "expected a size such as 512KB, 5MB or a number of bytes", " bytes"},
};

static ctx_err set_value(struct ctx *c, const struct field *f, void *base, const json_t *v,
                         const char *path)
{
    char *p = (char *)base + f->off;
    const char *s = json_string_value(v);
    double d;
    ctx_err e;
    switch (f->type) {
    case F_ARRAY:
        return load_array(c, f, base, v, path);
    case F_OBJECT: {
        char prefix[300];
        snprintf(prefix, sizeof prefix, "%s.", path);
        return json_is_object(v) ? load_object(c, f->elem, p, v, prefix)
                                 : fail(c, path, "expected an object");
    }
    case F_BOOL:
        if (json_is_boolean(v))
            *(int *)p = json_is_true(v);
        else if (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0))
            *(int *)p = strcmp(s, "true") == 0;       /* defaults are written as strings */
        else
            return fail(c, path, "expected true or false");
        return CTX_OK;
    case F_NUMBER:
    case F_INT:
    case F_DURATION:
    case F_SIZE: {
        const struct numeric *n = &numerics[f->type];
        if (f->type == F_INT ? json_is_integer(v) : json_is_number(v))
            d = json_number_value(v);
        else if (!s || n->parse(s, &d))
            return fail(c, path, "%s", n->expected);
        if (d < f->min || d > f->max)
            return fail(c, path, "must be between %g and %g%s", f->min, f->max, n->unit);
        if (f->type == F_INT)
            *(int *)p = (int)d;
        else if (f->type == F_SIZE)
            *(long long *)p = (long long)d;
        else
            *(double *)p = d;
        return CTX_OK;
    }
    case F_STRLIST: {
        struct strlist *l = (struct strlist *)p;
        strlist_clear(l);
        if (s && (f->flags & ONE_OR_MANY)) {
            if ((e = check_string(c, f, s, path)))
                return e;
            strlist_add(l, s);
            return CTX_OK;
        }
        if (!json_is_array(v))
            return fail(c, path, "expected an array of strings");
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            const char *xs = json_string_value(x);
            if (!xs || !*xs)
                return fail(c, path, "expected an array of strings");
            if ((e = check_string(c, f, xs, path)))
                return e;
            strlist_add(l, xs);
        }
        return CTX_OK;
    }
    case F_STRING:
    case F_PATH:
        break;
    }
    if (!s)
        return fail(c, path, "expected a string");
    if ((e = check_string(c, f, s, path)))
        return e;
    char *val;
    if (f->type == F_PATH && s[0] != '/') {
        size_t n = strlen(c->dir) + strlen(s) + 2;
        val = ctx_malloc(n);
        snprintf(val, n, "%s/%s", c->dir, s);
    } else {
        val = ctx_strdup(s);
    }
    free(*(char **)p);
    *(char **)p = val;
    return CTX_OK;
}

/* Walk one JSON object against a table: unknown keys, then each row in
 * the table's order (its value, or required, or its default), then the
 * table's own check. */
static ctx_err load_object(struct ctx *c, const struct table *t, void *base, const json_t *obj,
                           const char *prefix)
{
    char path[256];
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        size_t i;
        for (i = 0; i < t->nfields; i++)
            if (!(t->fields[i].flags & DERIVED) && strcmp(t->fields[i].key, key) == 0)
                break;
        if (i == t->nfields) {
            snprintf(path, sizeof path, "%s%s", prefix, key);
            return fail(c, path, "unknown key");
        }
    }
    for (size_t i = 0; i < t->nfields; i++) {
        const struct field *f = &t->fields[i];
        if (f->flags & DERIVED)
            continue;
        snprintf(path, sizeof path, "%s%s", prefix, f->key);
        ctx_err e = CTX_OK;
        if ((v = json_object_get(obj, f->key))) {
            e = set_value(c, f, base, v, path);
        } else if (f->required) {
            e = fail(c, path, "missing (required)");
        } else if (f->type == F_OBJECT) {   /* absent: its keys' defaults */
            json_t *none = json_object();
            e = set_value(c, f, base, none, path);
            json_decref(none);
        } else if (f->def) {
            json_t *d = json_string(f->def);
            e = set_value(c, f, base, d, path);
            json_decref(d);
        }
        if (e)
            return e;
    }
    return t->check ? t->check(c, base, prefix) : CTX_OK;
}

/* Rows marked REF_QUEUE, everywhere, once every queue is known. */
static ctx_err check_refs(struct ctx *c, const struct table *t, const void *base,
                          const char *prefix)
{
    const struct config *cfg = c->cfg;
    char path[256];
    for (size_t i = 0; i < t->nfields; i++) {
        const struct field *f = &t->fields[i];
        const char *p = (const char *)base + f->off;
        snprintf(path, sizeof path, "%s%s", prefix, f->key);
        if (f->type == F_OBJECT) {
            char sub[300];
            snprintf(sub, sizeof sub, "%s.", path);
            ctx_err e = check_refs(c, f->elem, p, sub);
            if (e)
                return e;
        }
        if (f->type == F_ARRAY) {
            const char *v = *(char *const *)p;
            size_t n = *(const size_t *)((const char *)base + f->count_off);
            for (size_t j = 0; j < n; j++) {
                char sub[300];
                snprintf(sub, sizeof sub, "%s[%zu].", path, j);
                ctx_err e = check_refs(c, f->elem, v + j * f->elem->size, sub);
                if (e)
                    return e;
            }
        }
        const char *name = f->flags & REF_QUEUE ? *(char *const *)p : NULL;
        if (!name)
            continue;
        size_t q;
        for (q = 0; q < cfg->nqueues; q++)
            if (strcmp(cfg->queues[q].name, name) == 0)
                break;
        if (q == cfg->nqueues)
            return fail(c, path, "no queue is named \"%s\"", name);
    }
    return CTX_OK;
}

static void free_object(const struct table *t, void *base)
{
    for (size_t i = 0; i < t->nfields; i++) {
        const struct field *f = &t->fields[i];
        char *p = (char *)base + f->off;
        switch (f->type) {
        case F_STRING:
        case F_PATH:
            free(*(char **)p);
            break;
        case F_STRLIST:
            strlist_clear((struct strlist *)p);
            break;
        case F_OBJECT:
            free_object(f->elem, p);
            break;
        case F_ARRAY: {
            char *v = *(char **)p;
            size_t n = *(size_t *)((char *)base + f->count_off);
            for (size_t j = 0; j < n; j++)
                free_object(f->elem, v + j * f->elem->size);
            free(v);
            break;
        }
        default:
            break;
        }
    }
}

/* ---- what no single row can say -------------------------------------- */

static void escalation_init(void *elem)
{
    struct config_escalation *r = elem;
    r->urgent = -1;
    r->complaint = -1;
}

/* A rule "on": "alert" takes alerts by their series and nothing about
 * items; a rule on items names no series. */
static ctx_err escalation_check(struct ctx *c, void *elem, const char *prefix)
{
    struct config_escalation *r = elem;
    char path[320];
    bool alert = r->on && strcmp(r->on, "alert") == 0;
    if (!alert && r->series.n) {
        snprintf(path, sizeof path, "%sseries", prefix);
        return fail(c, path, "only a rule with \"on\": \"alert\" takes series");
    }
    if (alert && !r->series.n) {
        snprintf(path, sizeof path, "%sseries", prefix);
        return fail(c, path, "a rule on alerts needs the series it takes (\"reason:outage\", "
                    "\"brand:*\")");
    }
    if (alert && (r->sentiment || r->topics.n || r->brands.n || r->reasons.n || r->lang ||
                  r->urgent >= 0 || r->complaint >= 0 || r->min_followers || r->max_score < 2)) {
        snprintf(path, sizeof path, "%son", prefix);
        return fail(c, path, "a rule on alerts takes series only, not conditions on items");
    }
    return CTX_OK;
}

/* A source: max_bytes defaults to the top-level max_body, a token may come
 * from the environment, and its kind checks the kind-specific keys. */
static ctx_err source_check(struct ctx *c, void *elem, const char *prefix)
{
    struct config_source *s = elem;
    char path[256];
    if (!s->max_bytes)
        s->max_bytes = c->cfg->max_body;
    if (s->token_env && !s->token) {
        const char *v = getenv(s->token_env);
        if (!v || !*v) {
            snprintf(path, sizeof path, "%stoken_env", prefix);
            return fail(c, path, "environment variable %s is not set", s->token_env);
        }
        s->token = ctx_strdup(v);
    }
    const struct source_ops *ops = source_ops_find(s->kind);
    char why[256];
    if (ops->validate && ops->validate(s, why, sizeof why)) {
        snprintf(path, sizeof path, "%s%s", prefix, why);   /* why is "key: problem" */
        return fail(c, "", "%s", path);
    }
    return CTX_OK;
}

/* redis, redis_host and redis_port: the first of the nodes; several nodes
 * mean a Redis Cluster. */
static void redis_derive(struct config *cfg)
{
    free(cfg->redis);
    free(cfg->redis_host);
    cfg->redis = ctx_strdup(cfg->redis_nodes.v[0]);
    config_parse_hostport(cfg->redis, &cfg->redis_host, &cfg->redis_port);
    if (cfg->redis_nodes.n > 1)
        cfg->redis_cluster = 1;
    /* the password from the environment (a systemd EnvironmentFile), kept
     * out of a config file that is read by more people than Redis's */
    const char *pw = getenv("CTX_REDIS_PASSWORD");
    if (!cfg->redis_password && pw && *pw)
        cfg->redis_password = ctx_strdup(pw);
}

static ctx_err config_check(struct ctx *c, void *elem, const char *prefix)
{
    (void)prefix;
    struct config *cfg = elem;
    /* both validated as host:port by their rows */
    config_parse_hostport(cfg->listen, &cfg->listen_host, &cfg->listen_port);
    if (cfg->redis_nodes.n == 0)
        return fail(c, "redis", "expected one host:port or a list of a cluster's nodes");
    redis_derive(cfg);
    return check_refs(c, &config_table, cfg, "");
}

/* ---- the API ---------------------------------------------------------- */

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
    struct config *cfg = ctx_calloc(1, sizeof *cfg);
    cfg->path = ctx_strdup(path);
    c.cfg = cfg;
    ctx_err e = json_is_object(root) ? load_object(&c, &config_table, cfg, root, "")
                                     : fail(&c, "", "expected a JSON object at the top");
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
    struct strlist nodes = {0};
    char *copy = ctx_strdup(hostport), *save = NULL;
    for (char *one = strtok_r(copy, ",", &save); one; one = strtok_r(NULL, ",", &save)) {
        char *host;
        int port;
        if (config_parse_hostport(one, &host, &port)) {
            snprintf(err, errlen, "--redis: \"%s\" is not host:port", one);
            free(copy);
            strlist_clear(&nodes);
            return CTX_ECONFIG;
        }
        free(host);
        strlist_add(&nodes, one);
    }
    free(copy);
    if (nodes.n == 0) {
        snprintf(err, errlen, "--redis: \"%s\" is not host:port", hostport);
        return CTX_ECONFIG;
    }
    strlist_clear(&cfg->redis_nodes);
    cfg->redis_nodes = nodes;
    redis_derive(cfg);
    return CTX_OK;
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    free_object(&config_table, cfg);
    free(cfg);
}

const char *config_chat_queue(const struct config *cfg)
{
    if (cfg->chat_queue)
        return cfg->chat_queue;
    for (size_t i = 0; i < cfg->nqueues; i++)
        if (cfg->queues[i].channels.n == 0 || strlist_has(&cfg->queues[i].channels, "chat"))
            return cfg->queues[i].name;
    return NULL;
}
