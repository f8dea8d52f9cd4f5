/* cmd_dead.c -- ctxctl dead: the entries the pipeline gave up on
 * (docs/operations.md, "Dead letters").
 *
 * `dead` lists the letters of the three dead-letter streams with their age
 * and reason, `dead show ID` prints one whole, `dead replay STREAM` puts
 * letters back on the stream they came from (once their cause is fixed),
 * `dead drop STREAM` deletes them. STREAM is a dead-letter stream, the
 * stream its letters came from, or that stream's group (analyze, route,
 * post). With --all, replay and drop walk the letters present when they
 * start, a page at a time, so letters arriving meanwhile wait for the next
 * run. Ages are taken on Redis' clock, the one the ids were made on.
 *
 * With item_shards each shard has its raw and tagged dead letters
 * (ctx:{i:1}:items:dead...): listing and show walk every shard; a group's
 * name or shard 0's stream names every shard for replay and drop, another
 * shard's stream name that shard only. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis.h>
#include <jansson.h>
#include "cli/cli.h"
#include "core/item.h"
#include "core/mem.h"
#include "store/store.h"

#define PAGE 100
#define STREAM_HINT "(name a dead-letter stream, the stream it is for, or its group: " \
    "analyze, route, post)"

/* The clock of Redis, in ms; -1 if it does not answer. */
static long long redis_now_ms(redisContext *c)
{
    redisReply *r = redisCommand(c, "TIME");
    long long ms = -1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->str &&
        r->element[1]->str)
        ms = atoll(r->element[0]->str) * 1000 + atoll(r->element[1]->str) / 1000;
    if (r)
        freeReplyObject(r);
    return ms;
}

/* A stream id: digits, or digits-digits. */
static bool stream_id_ok(const char *s)
{
    size_t n = strspn(s, "0123456789");
    if (n == 0 || n > 20)
        return false;
    if (!s[n])
        return true;
    size_t m = strspn(s + n + 1, "0123456789");
    return s[n] == '-' && m > 0 && m <= 20 && !s[n + 1 + m];
}

static double age_of(const char *id, long long now)
{
    long long ms = atoll(id);
    return now > ms ? (double)(now - ms) / 1000 : 0;
}

static void format_age(double s, char *out, size_t len)
{
    long long t = (long long)s;
    if (t < 60)
        snprintf(out, len, "%llds", t);
    else if (t < 3600)
        snprintf(out, len, "%lldm%02llds", t / 60, t % 60);
    else if (t < 86400)
        snprintf(out, len, "%lldh%02lldm", t / 3600, t % 3600 / 60);
    else
        snprintf(out, len, "%lldd%02lldh", t / 86400, t % 86400 / 3600);
}

/* The id of the item a raw letter carried, from its payload. */
static json_t *payload_id(const char *payload)
{
    json_t *j = payload ? json_loads(payload, 0, NULL) : NULL;
    json_t *id = json_incref(json_object_get(j, "id"));
    json_decref(j);
    return json_is_string(id) ? id : (json_decref(id), json_null());
}

/* One letter as JSON: its stream, id, age, where it came from and why. */
static json_t *letter_json(enum store_pipe p, unsigned shard, const redisReply *e,
                          long long now)
{
    char stream[STORE_KEY_LEN], dead[STORE_KEY_LEN];
    store_pipe_keys(p, shard, stream, dead);
    struct store_dead_letter d;
    store_dead_letter_read(p, shard, e->element[1], &d);
    char why[64];
    if (!d.reason)
        snprintf(why, sizeof why, "read %lld times without being finished", d.deliveries);
    json_t *o = json_pack("{s:s,s:s,s:f,s:s?,s:s?,s:s}", "stream", dead, "letter",
                          e->element[0]->str, "age", age_of(e->element[0]->str, now), "from",
                          d.from, "entry", d.entry_id, "reason", d.reason ? d.reason : why);
    json_object_set_new(o, "id", d.id ? json_string(d.id) : payload_id(d.payload));
    if (d.deliveries)
        json_object_set_new(o, "deliveries", json_integer(d.deliveries));
    return o;
}

static bool entry_ok(const redisReply *e)
{
    return e->type == REDIS_REPLY_ARRAY && e->elements == 2 && e->element[0]->str &&
           e->element[1]->type == REDIS_REPLY_ARRAY;
}

static redisContext *connect_redis(struct config **cfg, const char *key)
{
    if (!(*cfg = load_config()))
        return NULL;
    redisContext *c = cli_redis(*cfg, key);
    if (!c)
        config_free(*cfg);
    return c;
}

/* On a cluster the dead-letter streams live on several masters ({i} and
 * the item shards' tags, {r} outbox): *c becomes a connection to the one of
 * pipe p in shard `shard`. */
static bool pipe_conn(const struct config *cfg, redisContext **c, enum store_pipe p,
                      unsigned shard)
{
    if (!cfg->redis_cluster)
        return true;
    char stream[STORE_KEY_LEN], dead[STORE_KEY_LEN];
    store_pipe_keys(p, shard, stream, dead);
    redisContext *n = cli_redis(cfg, dead);
    if (!n)
        return false;
    redisFree(*c);
    *c = n;
    return true;
}

static void disconnect(redisContext *c, struct config *cfg)
{
    redisFree(c);
    config_free(cfg);
}

static int redis_failed(redisContext *c, const redisReply *r)
{
    fprintf(stderr, "ctxctl: redis: %s\n", r ? r->str : c->errstr);
    return 1;
}

/* ctxctl dead [STREAM] [--limit N] [--json] */
int cmd_dead(int argc, char **argv)
{
    long limit = 20;
    bool as_json = false;
    int only = -1, only_shard = -1;
    for (int i = 0; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--json") == 0) {
            as_json = true;
        } else if (i + 1 < argc && strcmp(argv[i], "--limit") == 0) {
            limit = strtol(argv[++i], &end, 10);
            if (*end || limit < 1 || limit > 10000)
                return cli_usage("dead");
        } else if (argv[i][0] == '-' || only >= 0) {
            return cli_usage("dead");
        } else if ((only = store_pipe_find_shard(argv[i], STORE_SHARDS_MAX, &only_shard)) ==
                   STORE_PIPE_COUNT) {
            fprintf(stderr, "ctxctl dead: no dead letters are kept for \"%s\" %s\n", argv[i],
                    STREAM_HINT);
            return 2;
        }
    }
    struct config *cfg;
    redisContext *c = connect_redis(&cfg, KEY_DEAD);
    if (!c)
        return 1;
    long long now = redis_now_ms(c);
    int status = 0;
    for (int p = 0; p < STORE_PIPE_COUNT && !status; p++)
    for (unsigned sh = 0; sh < store_pipe_shards((enum store_pipe)p, (unsigned)cfg->item_shards) &&
                          !status; sh++) {
        if ((only >= 0 && p != only) || (only_shard >= 0 && sh != (unsigned)only_shard))
            continue;
        if (!pipe_conn(cfg, &c, (enum store_pipe)p, sh)) {
            status = 1;
            break;
        }
        const struct store_pipe_info *pi = store_pipe_info((enum store_pipe)p);
        char stream[STORE_KEY_LEN], dead[STORE_KEY_LEN];
        store_pipe_keys((enum store_pipe)p, sh, stream, dead);
        redisReply *len = redisCommand(c, "XLEN %s", dead);
        redisReply *r = store_dead_range(c, (enum store_pipe)p, sh, "-", "+", limit);
        if (!len || len->type != REDIS_REPLY_INTEGER || !r || r->type != REDIS_REPLY_ARRAY) {
            status = redis_failed(c, r && r->type == REDIS_REPLY_ERROR ? r : NULL);
        } else {
            if (!as_json)
                printf("%s (from %s, group %s): %lld\n", dead, stream, pi->group,
                       len->integer);
            for (size_t i = 0; i < r->elements; i++) {
                if (!entry_ok(r->element[i]))
                    continue;
                json_t *o = letter_json((enum store_pipe)p, sh, r->element[i], now);
                if (as_json) {
                    char *t = json_dumps(o, CTX_JSON_FLAGS);
                    printf("%s\n", t ? t : "{}");
                    free(t);
                } else {
                    char age[32];
                    format_age(json_real_value(json_object_get(o, "age")), age, sizeof age);
                    const char *id = json_string_value(json_object_get(o, "id"));
                    printf("  %-22s %8s  %-40s %s\n", r->element[i]->element[0]->str, age,
                           json_string_value(json_object_get(o, "reason")), id ? id : "-");
                }
                json_decref(o);
            }
            if (!as_json && len->integer > (long long)r->elements)
                printf("  ... %lld more (--limit)\n", len->integer - (long long)r->elements);
        }
        if (len)
            freeReplyObject(len);
        if (r)
            freeReplyObject(r);
    }
    disconnect(c, cfg);
    return status;
}

/* A field's value as JSON: parsed when it is a JSON object (an item). */
static json_t *field_value(const char *v)
{
    json_t *j = v && v[0] == '{' ? json_loads(v, 0, NULL) : NULL;
    return j ? j : json_string(v ? v : "");
}

/* ctxctl dead show ID */
int cmd_dead_show(int argc, char **argv)
{
    if (argc != 1 || !stream_id_ok(argv[0]))
        return cli_usage("dead show");
    struct config *cfg;
    redisContext *c = connect_redis(&cfg, KEY_DEAD);
    if (!c)
        return 1;
    long long now = redis_now_ms(c);
    int found = 0, status = 0;
    for (int p = 0; p < STORE_PIPE_COUNT && !status; p++)
    for (unsigned sh = 0; sh < store_pipe_shards((enum store_pipe)p, (unsigned)cfg->item_shards) &&
                          !status; sh++) {
        if (!pipe_conn(cfg, &c, (enum store_pipe)p, sh)) {
            status = 1;
            break;
        }
        redisReply *r = store_dead_range(c, (enum store_pipe)p, sh, argv[0], argv[0], 1);
        if (!r || r->type != REDIS_REPLY_ARRAY) {
            status = redis_failed(c, r && r->type == REDIS_REPLY_ERROR ? r : NULL);
        } else if (r->elements == 1 && entry_ok(r->element[0])) {
            const redisReply *e = r->element[0], *f = e->element[1];
            json_t *o = letter_json((enum store_pipe)p, sh, e, now), *fields = json_object();
            for (size_t k = 0; k + 1 < f->elements; k += 2)
                if (f->element[k]->str)
                    json_object_set_new(fields, f->element[k]->str,
                                        field_value(f->element[k + 1]->str));
            json_object_set_new(o, "fields", fields);
            char *t = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
            printf("%s\n", t ? t : "{}");
            free(t);
            json_decref(o);
            found++;
        }
        if (r)
            freeReplyObject(r);
    }
    disconnect(c, cfg);
    if (!found && !status) {
        fprintf(stderr, "ctxctl dead show: no dead letter %s\n", argv[0]);
        return 1;
    }
    return status;
}

/* replay or drop in one shard's dead letters of pipe p; found (NULL, or one
 * flag per id named) marks the ids replayed here, and then a letter missing
 * here is not reported: it may be in another shard */
static int move_in(bool replay, enum store_pipe p, unsigned shard, struct config *cfg, int argc,
                   char **argv, long *done_all, bool *found);

/* replay or drop: the letters named, or with --all every letter there now. */
static int move_letters(const char *name, bool replay, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage(name);
    int only_shard;
    enum store_pipe p = store_pipe_find_shard(argv[0], STORE_SHARDS_MAX, &only_shard);
    if (p == STORE_PIPE_COUNT) {
        fprintf(stderr, "ctxctl %s: no dead letters are kept for \"%s\" %s\n", name, argv[0],
                STREAM_HINT);
        return 2;
    }
    bool all = argc == 2 && strcmp(argv[1], "--all") == 0;
    for (int i = 1; i < argc && !all; i++)
        if (!stream_id_ok(argv[i]))
            return cli_usage(name);
    struct config *cfg = load_config();
    if (!cfg)
        return 1;
    int status = 0;
    long done = 0;
    unsigned n = store_pipe_shards(p, (unsigned)cfg->item_shards);
    /* ids named, several shards to look in: say once which were in none */
    bool *found = !all && n > 1 && only_shard < 0 ? ctx_calloc((size_t)argc, sizeof *found)
                                                    : NULL;
    for (unsigned sh = 0; sh < n && status != 1; sh++)
        if (only_shard < 0 || sh == (unsigned)only_shard) {
            int st = move_in(replay, p, sh, cfg, argc, argv, &done, found);
            status = st > status ? st : status;
        }
    config_free(cfg);
    if (found && status != 1) {
        if (replay) {
            for (int i = 1; i < argc; i++)
                if (!found[i])
                    fprintf(stderr, "%s: not replayed (missing in all %u shards)\n", argv[i], n);
        } else if (done < argc - 1) {
            fprintf(stderr, "%ld of %d not found in any of the %u shards\n", argc - 1 - done,
                    argc - 1, n);
        }
    }
    free(found);
    if (status == 2)            /* ids named: some in no shard */
        status = done < argc - 1 ? 1 : 0;
    return status;
}

/* 0 done, 1 Redis failed, 2 some ids named were not found here. */
static int move_in(bool replay, enum store_pipe p, unsigned shard, struct config *cfg, int argc,
                   char **argv, long *done_all, bool *found)
{
    bool all = argc == 2 && strcmp(argv[1], "--all") == 0;
    const struct store_pipe_info *pi = store_pipe_info(p);
    char stream[STORE_KEY_LEN], dead[STORE_KEY_LEN];
    store_pipe_keys(p, shard, stream, dead);
    redisContext *c = cli_redis(cfg, dead);
    if (!c)
        return 1;
    int status = 0;
    long done = 0, failed = 0;
    char from[64] = "-", end[64] = "+";
    bool more = true;
    if (all) {                  /* the letters there now: up to the newest */
        redisReply *last = redisCommand(c, "XREVRANGE %s + - COUNT 1", dead);
        if (!last || last->type != REDIS_REPLY_ARRAY)
            status = redis_failed(c, last && last->type == REDIS_REPLY_ERROR ? last : NULL);
        else if (last->elements == 1 && entry_ok(last->element[0]))
            snprintf(end, sizeof end, "%s", last->element[0]->element[0]->str);
        else
            more = false;       /* none */
        if (last)
            freeReplyObject(last);
    }
    const char **ids = ctx_calloc((size_t)argc + PAGE, sizeof *ids);
    while (more && !status) {
        size_t n = 0;
        redisReply *page = NULL;
        if (all) {
            page = store_dead_range(c, p, shard, from, end, PAGE);
            if (!page || page->type != REDIS_REPLY_ARRAY) {
                status = redis_failed(c, page && page->type == REDIS_REPLY_ERROR ? page : NULL);
                if (page)
                    freeReplyObject(page);
                break;
            }
            for (size_t i = 0; i < page->elements; i++)
                if (entry_ok(page->element[i]))
                    ids[n++] = page->element[i]->element[0]->str;
            more = n == PAGE;
            if (n)
                snprintf(from, sizeof from, "(%s", ids[n - 1]);
        } else {
            for (int i = 1; i < argc; i++)
                ids[n++] = argv[i];
            more = false;
        }
        redisReply *r = n == 0 ? NULL : replay ? store_dead_replay(c, p, shard, ids, n)
                                               : store_dead_drop(c, p, shard, ids, n);
        if (n && (!r || r->type == REDIS_REPLY_ERROR)) {
            status = redis_failed(c, r);
        } else if (replay && r && r->type == REDIS_REPLY_ARRAY) {
            for (size_t i = 0; i < r->elements; i++) {
                const redisReply *x = r->element[i];
                if (x->type != REDIS_REPLY_ARRAY || x->elements != 2 || !x->element[1]->str)
                    continue;
                const char *got = x->element[1]->str;
                if (isdigit((unsigned char)got[0])) {
                    printf("%s -> %s %s\n", x->element[0]->str, stream, got);
                    done++;
                    if (found)
                        found[i + 1] = true;    /* ids[i] is argv[i + 1] */
                } else if (found && strcmp(got, "missing") == 0) {
                    failed++;           /* perhaps in another shard: said at the end */
                } else {
                    fprintf(stderr, "%s: not replayed (%s)\n", x->element[0]->str, got);
                    failed++;
                }
            }
        } else if (r && r->type == REDIS_REPLY_INTEGER) {
            done += r->integer;
            failed += (long)n - r->integer;
        }
        if (r)
            freeReplyObject(r);
        if (page)
            freeReplyObject(page);
    }
    free(ids);
    if (!status && (!found || done))
        printf("%s: %ld %s, %ld not found or left\n", dead, done,
               replay ? "replayed" : "dropped", failed);
    redisFree(c);
    (void)pi;
    *done_all += done;
    return status ? status : failed && !all ? 2 : 0;
}

/* ctxctl dead replay STREAM ID...|--all */
int cmd_dead_replay(int argc, char **argv)
{
    return move_letters("dead replay", true, argc, argv);
}

/* ctxctl dead drop STREAM ID...|--all */
int cmd_dead_drop(int argc, char **argv)
{
    return move_letters("dead drop", false, argc, argv);
}
