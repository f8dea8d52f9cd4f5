/* ctxctl.c -- the command-line tool. It reads the same config as ctxd to
 * find the lexicons, the rules and ctxd's HTTP API, and either runs the
 * pure code itself (analyze, parse, rules check) or asks the daemon
 * (items, trends).
 *
 * The commands are one table: name (one or two words), handler, usage
 * line, help. `ctxctl --help` is printed from it, a command's usage error
 * prints its own rows (cli_usage()), and tests/integration/test_ctxctl_help.py
 * checks every ctxctl line of the README and docs/ against --help, so the
 * three cannot drift apart. A command with two forms has two rows. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis.h>
#include <jansson.h>
#include "cli/cli.h"
#include "core/config.h"
#include "core/mem.h"
#include "core/redis.h"

const char *config_path = "etc/ctxd.json";

static int cmd_help(int argc, char **argv);

static const struct command {
    const char *name;                   /* "analyze", "agent add" */
    int (*run)(int argc, char **argv);  /* gets the arguments after the name */
    const char *usage;                  /* after the name; '\n' continues it */
    const char *help;                   /* what it does; '\n' continues it */
} commands[] = {
    {"analyze", cmd_analyze, "[--score | --explain] [--lexicons DIR] [--rules DIR]",
     "texts on stdin, one per line -> tags as JSON per line (--score: only the\n"
     "sentiment compound; --explain: which words and rules gave the tags)"},
    {"items", cmd_items, "[--brand B] [--topic T] [--sentiment L] [--complaint | --no-complaint]\n"
     "[--reason R] [--since TIME] [--limit N] [--json]",
     "newest tagged items, from ctxd's API (--reason: a complaint reason, e.g. delay)"},
    {"trends top", cmd_trends_top, "[--dim brand|topic|reason|network|source|lang]\n"
     "[--since 7d | --from TIME --to TIME] [--limit N] [--json]",
     "the most mentioned and the fastest growing names of a dimension (default\n"
     "topic), against the period of the same length before"},
    {"trends", cmd_trends, "[--since 24h | --from TIME --to TIME] [--bucket minute|hour|day]\n"
     "[--brand B]... [--topic T]... [--series S]... [--tz ZONE] [--csv | --json]",
     "mentions over time from ctxd's API: per series a sparkline and the totals\n"
     "(positive, negative, neutral, complaints, share of voice); --series as\n"
     "GET /api/trends names them (brand:acme, reason:delay, all); CTX_TOKEN: the\n"
     "token when ctxd asks for one"},
    {"simulate", cmd_simulate, "[--agents N] [--per-hour TASKS] [--aht SECONDS] [--sla SECONDS]\n"
     "[--tasks N] [--strategy NAME] [--seed N]",
     "the routing logic on a virtual clock vs Erlang C"},
    {"queues", cmd_queues, "[--json]",
     "waiting, offered, assigned, oldest wait, ASA, service level"},
    {"agents", cmd_agents, "[--json]", "agents: state, load per channel, tasks"},
    {"agent add", cmd_agent_add, "ID [--name NAME] [--skills a,b:80] [--langs en,ru]\n"
     "[--capacity chat=3,social=5,callback=1]\n"
     "[--role agent|supervisor|viewer] [--callback-blocks-chat] [--sip URI] [--replace]",
     "create an agent and print its login token once (an existing id: only with\n"
     "--replace, which rewrites it and issues a new token, state kept)"},
    {"agent del", cmd_agent_del, "ID", "delete an agent that holds no task and is logged out"},
    {"reply", cmd_reply, "ITEM TEXT [--id ID]",
     "queue a reply to an item, posted back to its network"},
    {"sources", cmd_sources, "[--json]",
     "each source's poll state (last ok, errors, next poll)"},
    {"parse", cmd_parse, "KIND FILE [--header 'Name: value']... [--url URL] [--cursor C]\n"
     "[--fetched TIME] [--source NAME]",
     "parse a saved response as the collector would, print it as JSON"},
    {"parse", cmd_parse, "KIND --many [--fetched TIME] [--source NAME]",
     "the same for many files: stdin has one JSON request per line,\n"
     "{\"file\":F,\"headers\":[\"Name: value\"],\"url\":U,\"cursor\":C}"},
    {"rules check", cmd_rules_check, "DIR", "check every *.rules file of DIR"},
    {"rules reload", cmd_rules_reload, "",
     "check the config's rules, then make every ctxd reload them"},
    /* the two-word forms first: "dead" alone would take "dead show ..." */
    {"dead show", cmd_dead_show, "ID", "one dead letter whole, its item decoded, as JSON"},
    {"dead replay", cmd_dead_replay, "STREAM ID... | STREAM --all",
     "put dead letters back on the stream they came from (once their cause is\n"
     "fixed); STREAM: the dead-letter stream, its source or its group"},
    {"dead drop", cmd_dead_drop, "STREAM ID... | STREAM --all", "delete dead letters"},
    {"dead", cmd_dead, "[STREAM] [--limit N] [--json]",
     "dead letters (entries the pipeline gave up on), with their age and reason"},
    {"migrate-keys", cmd_migrate_keys, "[--dry-run]",
     "rename the keys of the layout before hash tags (ctx:agents...) to their\n"
     "names now (ctx:{r}:agents...), with every ctxd stopped; idempotent"},
    {"help", cmd_help, "", "this list (also --help, -h)"},
};

/* Print s, its continuation lines indented by `indent`. */
static void print_lines(FILE *f, const char *s, int indent)
{
    for (const char *nl; (nl = strchr(s, '\n')); s = nl + 1)
        fprintf(f, "%.*s\n%*s", (int)(nl - s), s, indent, "");
    fprintf(f, "%s\n", s);
}

static void print_command(FILE *f, const char *prefix, const struct command *c)
{
    int n = fprintf(f, "%s%s%s", prefix, c->name, *c->usage ? " " : "");
    print_lines(f, c->usage, n);
}

static void usage_all(FILE *f)
{
    fprintf(f, "usage: ctxctl [-c FILE] COMMAND [ARGS]\n"
               "  -c FILE   the config (default etc/ctxd.json), as ctxd's\n\n");
    for (size_t i = 0; i < CTX_ARRAY_LEN(commands); i++) {
        print_command(f, "  ", &commands[i]);
        fprintf(f, "      ");
        print_lines(f, commands[i].help, 6);
    }
}

/* The rows named `name`, or with whole_word, the rows whose name starts
 * with the word `name` ("rules": rules check, rules reload); 2 if any. */
static int usage_rows(const char *name, bool whole_word)
{
    const char *prefix = "usage: ctxctl ";
    size_t len = strlen(name);
    for (size_t i = 0; i < CTX_ARRAY_LEN(commands); i++) {
        const char *n = commands[i].name;
        if (whole_word ? strncmp(n, name, len) == 0 && (n[len] == ' ' || !n[len])
                       : strcmp(n, name) == 0) {
            print_command(stderr, prefix, &commands[i]);
            prefix = "       ctxctl ";
        }
    }
    return *prefix == 'u' ? 0 : 2;
}

int cli_usage(const char *name)
{
    usage_rows(name, false);
    return 2;
}

static int cmd_help(int argc, char **argv)
{
    (void)argv;
    if (argc)
        return cli_usage("help");
    usage_all(stdout);
    return 0;
}

struct config *load_config(void)
{
    char err[512];
    struct config *cfg;
    if (config_load(config_path, &cfg, err, sizeof err)) {
        fprintf(stderr, "ctxctl: %s\n", err);
        return NULL;
    }
    return cfg;
}

static redisContext *connect_to(const struct config *cfg, const char *host, int port,
                                const char *what)
{
    struct timeval tv = {5, 0};
    char err[256];
    redisContext *rc = redisConnectWithTimeout(host, port, tv);
    if (!rc || rc->err) {
        fprintf(stderr, "ctxctl: redis %s: %s\n", what, rc ? rc->errstr : "out of memory");
        if (rc)
            redisFree(rc);
        return NULL;
    }
    redisSetTimeout(rc, tv);
    if (rsync_auth(rc, cfg->redis_user, cfg->redis_password, err, sizeof err)) {
        fprintf(stderr, "ctxctl: redis %s: %s (redis_password, CTX_REDIS_PASSWORD)\n", what,
                err);
        redisFree(rc);
        return NULL;
    }
    return rc;
}

/* On a cluster: the master of key's slot, from the first node that answers
 * CLUSTER SLOTS (its keys of one domain all live there: the hash tags). */
static redisContext *cluster_master(const struct config *cfg, const char *key)
{
    unsigned slot = rconn_key_slot(key, strlen(key));
    for (size_t i = 0; i < cfg->redis_nodes.n; i++) {
        char *host;
        int port;
        if (config_parse_hostport(cfg->redis_nodes.v[i], &host, &port))
            continue;
        redisContext *rc = connect_to(cfg, host, port, cfg->redis_nodes.v[i]);
        free(host);
        redisReply *r = rc ? redisCommand(rc, "CLUSTER SLOTS") : NULL;
        for (size_t k = 0; r && r->type == REDIS_REPLY_ARRAY && k < r->elements; k++) {
            const redisReply *e = r->element[k];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
                e->element[2]->type != REDIS_REPLY_ARRAY || e->element[2]->elements < 2 ||
                slot < (unsigned long long)e->element[0]->integer ||
                slot > (unsigned long long)e->element[1]->integer)
                continue;
            const redisReply *m = e->element[2];
            char addr[300];
            snprintf(addr, sizeof addr, "%s:%lld", m->element[0]->len ? m->element[0]->str
                                                                     : rc->tcp.host,
                     m->element[1]->integer);
            redisContext *master = connect_to(cfg, m->element[0]->len ? m->element[0]->str
                                                                 : rc->tcp.host,
                                              (int)m->element[1]->integer, addr);
            freeReplyObject(r);
            redisFree(rc);
            return master;
        }
        if (r)
            freeReplyObject(r);
        if (rc)
            redisFree(rc);
    }
    fprintf(stderr, "ctxctl: redis %s: no cluster node tells where %s lives\n", cfg->redis,
            key);
    return NULL;
}

struct redisContext *cli_redis(const struct config *cfg, const char *key)
{
    if (cfg->redis_cluster && key)
        return cluster_master(cfg, key);
    return connect_to(cfg, cfg->redis_host, cfg->redis_port, cfg->redis);
}

/* How many of argv's words a command's name takes (0: not this command). */
static int name_words(const char *name, int argc, char **argv)
{
    int n = 0;
    for (const char *w = name; *w; n++) {
        size_t len = strcspn(w, " ");
        if (n >= argc || strlen(argv[n]) != len || strncmp(argv[n], w, len) != 0)
            return 0;
        w += len + (w[len] == ' ');
    }
    return n;
}

int main(int argc, char **argv)
{
    json_set_alloc_funcs(ctx_malloc, free);     /* jansson too aborts on OOM (core/mem.h) */
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
        config_path = argv[i + 1];
        i += 2;
    }
    if (i >= argc) {
        usage_all(stderr);
        return 2;
    }
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
        argv[i] = "help";
    for (size_t c = 0; c < CTX_ARRAY_LEN(commands); c++) {
        int n = name_words(commands[c].name, argc - i, argv + i);
        if (n)
            return commands[c].run(argc - i - n, argv + i + n);
    }
    /* "rules" alone, "agent remove": the forms that start with that word */
    if (usage_rows(argv[i], true))
        return 2;
    fprintf(stderr, "ctxctl: unknown command \"%s\"\n", argv[i]);
    usage_all(stderr);
    return 2;
}
