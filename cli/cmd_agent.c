/* cmd_agent.c -- ctxctl agent add | agent del.
 *
 * `agent add` creates an agent in Redis and prints its login token once.
 * Only the token's SHA-256 is stored (the token is 128 random bits, so a
 * fast hash is enough to make the stored form useless for logging in). An
 * id that exists is refused unless --replace is given: then the profile is
 * rewritten, a new token replaces the old one, and the agent's state and
 * counters are kept. `agent del` removes an agent that holds no task and
 * has no connection (its token stops working at once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis.h>
#include <jansson.h>
#include "core/hash.h"
#include "core/id.h"
#include "cli/cli.h"
#include "core/mem.h"
#include "core/redis.h"
#include "routing/routing.h"
#include "store/store.h"

static int valid_id(const char *s)
{
    if (!*s || strlen(s) > 64)
        return 0;
    for (; *s; s++)
        if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
            *s != '-' && *s != '_' && *s != '.')
            return 0;
    return 1;
}

int cmd_agent_add(int argc, char **argv)
{
    if (argc < 1 || !valid_id(argv[0]))
        return cli_usage("agent add");
    const char *id = argv[0], *name = id, *skills = "", *capacity = "chat=3,social=5,callback=1",
               *langs = "";
    const char *role = "agent", *sip = NULL;
    int cbc = 0, replace = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--replace") == 0) {
            replace = 1;
            continue;
        }
        if (strcmp(argv[i], "--supervisor") == 0)   /* the old spelling of --role supervisor */
            role = "supervisor";
        else if (i + 1 < argc && strcmp(argv[i], "--role") == 0) {
            role = argv[++i];
            if (strcmp(role, "agent") && strcmp(role, "supervisor") && strcmp(role, "viewer")) {
                fprintf(stderr, "ctxctl agent add: --role is agent, supervisor or viewer\n");
                return 2;
            }
        }
        else if (strcmp(argv[i], "--callback-blocks-chat") == 0)
            cbc = 1;
        else if (i + 1 < argc && strcmp(argv[i], "--name") == 0)
            name = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--skills") == 0)
            skills = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--capacity") == 0)
            capacity = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--langs") == 0)
            langs = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--sip") == 0) {
            sip = argv[++i];      /* the phone the dialer calls first (docs/voice.md) */
            if ((strncmp(sip, "sip:", 4) && strncmp(sip, "sips:", 5)) || strlen(sip) > 256 ||
                strpbrk(sip, " \t\r\n<>\"")) {
                fprintf(stderr, "ctxctl agent add: --sip %s: expected a SIP URI such as "
                                "sip:ann@pbx.example.com\n", sip);
                return 2;
            }
        }
        else
            return cli_usage("agent add");
    }
    /* skills "billing:80,en" -> {"billing":80,"en":50}: level 1..100, default 50 */
    json_t *sk = json_object(), *lg = json_array();
    char *copy = ctx_strdup(skills), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(t, ':');
        int level = 50;
        if (colon) {
            *colon = '\0';
            level = atoi(colon + 1);
            if (level < 1 || level > 100) {
                fprintf(stderr, "ctxctl agent add: --skills %s: levels are 1 to 100\n", t);
                free(copy);
                json_decref(sk);
                json_decref(lg);
                return 2;
            }
        }
        json_object_set_new(sk, t, json_integer(level));
    }
    free(copy);
    copy = ctx_strdup(langs);
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        json_array_append_new(lg, json_string(t));
    free(copy);
    /* --capacity chat=2 changes chat only: the other channels keep their
     * defaults */
    int cap[CH_COUNT] = {[CH_SOCIAL] = 5, [CH_CHAT] = 3, [CH_CALLBACK] = 1};
    copy = ctx_strdup(capacity);
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '='), *end = NULL;
        enum channel ch;
        long n = eq ? strtol(eq + 1, &end, 10) : -1;
        if (!eq || (*eq = '\0', channel_parse(t, &ch)) || end == eq + 1 || *end || n < 0 ||
            n > 1000) {
            fprintf(stderr, "ctxctl agent add: --capacity: \"%s%s%s\" is not CHANNEL=N "
                            "(social, chat, callback; N from 0 to 1000)\n", t, eq ? "=" : "",
                    eq ? eq + 1 : "");
            free(copy);
            json_decref(sk);
            json_decref(lg);
            return 2;
        }
        cap[ch] = (int)n;
    }
    free(copy);

    char token[40], sha[65];
    if (ctx_random_id("", 16, token, sizeof token) != CTX_OK) {
        fprintf(stderr, "ctxctl: no randomness for a token (getrandom failed)\n");
        return 1;
    }
    ctx_sha256_hex(token, strlen(token), sha);

    struct config *cfg = load_config();
    if (!cfg)
        return 2;
    redisContext *rc = cli_redis(cfg, KEY_AGENTS);
    int status = 0;
    char *skj = json_dumps(sk, JSON_COMPACT), *lgj = json_dumps(lg, JSON_COMPACT);
    if (!skj || !lgj)
        ctx_oom(strlen(skills) + strlen(langs) + 64);   /* what the two JSON texts need */
    if (!rc) {
        status = 1;
    } else {
        char akey[STORE_KEY_LEN], tkey[STORE_KEY_LEN];
        store_key_agent(akey, sizeof akey, id);
        redisReply *ex = redisCommand(rc, "EXISTS %s", akey);
        int exists = ex && ex->type == REDIS_REPLY_INTEGER && ex->integer == 1;
        if (ex)
            freeReplyObject(ex);
        if (exists && !replace) {
            fprintf(stderr, "ctxctl agent add: agent %s exists; --replace rewrites it and "
                            "issues a new token (its old token stops working)\n", id);
            status = 1;
            goto out;
        }
        redisReply *old = redisCommand(rc, "HGET %s token_sha", akey);
        if (old && old->type == REDIS_REPLY_STRING)
            freeReplyObject(redisCommand(rc, "DEL %s",
                                         store_key_agent_token(tkey, sizeof tkey, old->str)));
        if (old)
            freeReplyObject(old);
        redisReply *r = redisCommand(
            rc, "HSET %s id %s name %s token_sha %s skills %s langs %s cap:social %d "
                "cap:chat %d cap:callback %d role %s callback_blocks_chat %d",
            akey, id, name, sha, skj, lgj, cap[CH_SOCIAL], cap[CH_CHAT], cap[CH_CALLBACK],
            role, cbc);
        if (r && r->type != REDIS_REPLY_ERROR) {
            freeReplyObject(r);
            /* state and counters only when new: re-adding keeps them */
            const char *init[] = {"state", "offline", "offers", "0", "load:social", "0",
                                  "load:chat", "0", "load:callback", "0",
                                  "handled", "0", "idle_since", "0", "last_offer", "0"};
            for (size_t i = 0; i < sizeof init / sizeof init[0]; i += 2)
                freeReplyObject(redisCommand(rc, "HSETNX %s %s %s", akey, init[i],
                                             init[i + 1]));
            /* viewers only watch: they are not in the set routing offers tasks to */
            freeReplyObject(sip ? redisCommand(rc, "HSET %s sip %s", akey, sip)
                                : redisCommand(rc, "HDEL %s sip", akey));
            if (strcmp(role, "viewer") == 0) {
                freeReplyObject(redisCommand(rc, "SREM %s %s", KEY_AGENTS, id));
                freeReplyObject(redisCommand(rc, "SREM %s %s", KEY_AGENTS_READY, id));
            } else {
                freeReplyObject(redisCommand(rc, "SADD %s %s", KEY_AGENTS, id));
                /* re-added while available, maybe with more capacity: ready
                 * again (the snapshot and offer.lua check the rest) */
                redisReply *st = redisCommand(rc, "HGET %s state", akey);
                if (st && st->type == REDIS_REPLY_STRING && strcmp(st->str, "available") == 0)
                    freeReplyObject(redisCommand(rc, "SADD %s %s", KEY_AGENTS_READY, id));
                if (st)
                    freeReplyObject(st);
            }
            r = redisCommand(rc, "SET %s %s", store_key_agent_token(tkey, sizeof tkey, sha), id);
        }
        if (!r || r->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "ctxctl: redis: %s\n", r ? r->str : rc->errstr);
            status = 1;
        } else {
            printf("agent %s (%s) saved; login token (shown once, keep it):\n%s\n", id, name,
                   token);
        }
        if (r)
            freeReplyObject(r);
    }
out:
    if (rc)
        redisFree(rc);
    free(skj);
    free(lgj);
    json_decref(sk);
    json_decref(lg);
    config_free(cfg);
    return status;
}

/* ctxctl agent del ID */
int cmd_agent_del(int argc, char **argv)
{
    if (argc != 1 || !valid_id(argv[0]))
        return cli_usage("agent del");
    const char *id = argv[0];
    struct config *cfg = load_config();
    if (!cfg)
        return 2;
    redisContext *rc = cli_redis(cfg, KEY_AGENTS);
    int status = 0;
    if (!rc) {
        status = 1;
        goto out;
    }
    char akey[STORE_KEY_LEN], ckey[STORE_KEY_LEN], tkey[STORE_KEY_LEN];
    store_key_agent(akey, sizeof akey, id);
    store_key_agent_conns(ckey, sizeof ckey, id);
    redisReply *h = redisCommand(rc, "HMGET %s token_sha load:social load:chat load:callback id",
                                 akey);
    redisReply *c = redisCommand(rc, "ZCARD %s", ckey);
    long conns = c && c->type == REDIS_REPLY_INTEGER ? (long)c->integer : 0;
    if (c)
        freeReplyObject(c);
    if (!h || h->type != REDIS_REPLY_ARRAY || h->elements != 5) {
        fprintf(stderr, "ctxctl: redis: %s\n", h && h->type == REDIS_REPLY_ERROR ? h->str
                                                                                : rc->errstr);
        status = 1;
    } else if (h->element[4]->type != REDIS_REPLY_STRING) {
        fprintf(stderr, "ctxctl agent del: no agent %s\n", id);
        status = 1;
    } else {
        long busy = conns;
        for (size_t i = 1; i <= 3; i++)
            if (h->element[i]->type == REDIS_REPLY_STRING)
                busy += atol(h->element[i]->str);
        if (busy > 0) {
            fprintf(stderr, "ctxctl agent del: agent %s holds tasks or is connected; it can "
                            "be deleted once it has logged out\n", id);
            status = 1;
        } else {
            if (h->element[0]->type == REDIS_REPLY_STRING)
                freeReplyObject(redisCommand(rc, "DEL %s", store_key_agent_token(
                                                         tkey, sizeof tkey, h->element[0]->str)));
            freeReplyObject(redisCommand(rc, "SREM %s %s", KEY_AGENTS, id));
            freeReplyObject(redisCommand(rc, "SREM %s %s", KEY_AGENTS_READY, id));
            freeReplyObject(redisCommand(rc, "DEL %s %s", akey, ckey));
            printf("agent %s deleted\n", id);
        }
    }
    if (h)
        freeReplyObject(h);
out:
    if (rc)
        redisFree(rc);
    config_free(cfg);
    return status;
}
