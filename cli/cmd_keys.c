/* cmd_keys.c -- ctxctl migrate-keys: the keys of the layout before hash tags
 * (ctx:agents, ctx:task:<id>, ctx:item:<id>...) get the names they have now
 * (ctx:{r}:agents...; store/KEYS.md), so that an installation keeps its
 * agents, tasks, items and indexes. ctxd refuses to start on a Redis that
 * still has them (store/store.c).
 *
 * One SCAN and one RENAMENX per old key: a key is never overwritten
 * (both names taken is a conflict, reported and left), a stream keeps its
 * consumer groups, and a second run finds nothing to do. It runs on one
 * Redis with every ctxd stopped: on a cluster, RENAME cannot move a key to
 * another slot, so the migration is done before the data moves there. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <hiredis.h>
#include "cli/cli.h"
#include "store/store.h"

#define SHOW_MAX 10             /* conflicts and unknown keys named */

struct tally {
    long renamed[3];            /* routing, items, control */
    long conflicts, unknown, failed;
};

/* 0 routing, 1 items, 2 control (the new name of an old key is in one). */
static int domain_of(const char *key)
{
    static const char *const domains[] = {KEY_ROUTING_DOMAIN, KEY_ITEMS_DOMAIN,
                                          KEY_CONTROL_DOMAIN};
    for (int i = 0; i < 3; i++)
        if (strncmp(key, domains[i], strlen(domains[i])) == 0)
            return i;
    return -1;
}

/* One key of a SCAN page. */
static void migrate_one(redisContext *rc, const redisReply *k, bool dry, struct tally *t)
{
    char now[STORE_KEY_LEN];
    if (strlen(k->str) != k->len || store_key_untagged(now, sizeof now, k->str) != CTX_OK) {
        if (t->unknown++ < SHOW_MAX)
            printf("left as it is (not a key ctxd names): %s\n", k->str);
        return;
    }
    int d = domain_of(now);
    if (dry) {
        redisReply *r = redisCommand(rc, "EXISTS %s", now);
        if (r && r->type == REDIS_REPLY_INTEGER && r->integer) {
            if (t->conflicts++ < SHOW_MAX)
                printf("conflict: %s and %s both exist\n", k->str, now);
        } else {
            t->renamed[d]++;
        }
        if (r)
            freeReplyObject(r);
        return;
    }
    redisReply *r = redisCommand(rc, "RENAMENX %b %s", k->str, k->len, now);
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
        t->renamed[d]++;
    } else if (r && r->type == REDIS_REPLY_INTEGER) {
        if (t->conflicts++ < SHOW_MAX)
            printf("conflict: %s and %s both exist; left as they are\n", k->str, now);
    } else {
        t->failed++;
        fprintf(stderr, "ctxctl migrate-keys: RENAMENX %s %s: %s\n", k->str, now,
                r ? (r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply") : rc->errstr);
    }
    if (r)
        freeReplyObject(r);
}

/* One SCAN of the keys named ctx: but not ctx:{ (the names of now, and
 * those renamed meanwhile, are not walked); -1 when Redis failed. */
static int migrate_pass(redisContext *rc, bool dry, struct tally *t)
{
    char cursor[32] = "0";
    do {
        redisReply *r = redisCommand(rc, "SCAN %s MATCH ctx:[^{]* COUNT 1000", cursor);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            fprintf(stderr, "ctxctl migrate-keys: SCAN: %s\n",
                    r && r->type == REDIS_REPLY_ERROR ? r->str : rc->errstr);
            if (r)
                freeReplyObject(r);
            return -1;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++)
            if (r->element[1]->element[i]->type == REDIS_REPLY_STRING)
                migrate_one(rc, r->element[1]->element[i], dry, t);
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

int cmd_migrate_keys(int argc, char **argv)
{
    bool dry = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0)
            dry = true;
        else
            return cli_usage("migrate-keys");
    }
    struct config *cfg = load_config();
    if (!cfg)
        return 2;
    redisContext *rc = cli_redis(cfg, NULL);
    int status = 1;
    if (rc) {
        struct tally t = {.conflicts = 0};
        if (migrate_pass(rc, dry, &t) == 0) {
            long n = t.renamed[0] + t.renamed[1] + t.renamed[2];
            printf("%s: %ld keys %s (routing %ld, items %ld, control %ld); %ld conflicts; "
                   "%ld other ctx: keys left as they are\n",
                   cfg->redis, n, dry ? "to rename" : "renamed", t.renamed[0], t.renamed[1],
                   t.renamed[2], t.conflicts, t.unknown);
            status = t.conflicts || t.failed ? 1 : 0;
        }
        redisFree(rc);
    }
    config_free(cfg);
    return status;
}
