/* ctxctl.c -- the command-line tool. It reads the same config as ctxd to
 * find the lexicons, the rules and ctxd's HTTP API, and either runs the
 * pure code itself (analyze, parse, rules check) or asks the daemon
 * (items). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/cli.h"
#include "core/config.h"

const char *config_path = "etc/ctxd.json";

void usage(FILE *f)
{
    fprintf(f,
        "usage: ctxctl [-c FILE] COMMAND [ARGS]\n"
        "  analyze [--score]           texts on stdin, one per line -> tags as JSON per line\n"
        "                              (--score: only the sentiment compound)\n"
        "  items [--brand B] [--topic T] [--sentiment L] [--complaint | --no-complaint]\n"
        "        [--reason R] [--since TIME] [--limit N] [--json]\n"
        "                              newest tagged items, from ctxd's API (--reason: a\n"
        "                              complaint reason, e.g. delay)\n"
        "  simulate [--agents N] [--per-hour T] [--aht S] [--sla S]\n"
        "                              the routing logic on a virtual clock vs Erlang C\n"
        "  queues [--json]             waiting, offered, assigned, oldest wait, ASA, service level\n"
        "  agents [--json]             agents: state, load per channel, tasks\n"
        "  agent add ID --name N --skills a,b:80 [--capacity chat=3,social=5,callback=1]\n"
        "        [--langs en,ru] [--supervisor]  create an agent; prints its login token once\n"
        "  reply ITEM TEXT [--id ID]   queue a reply to an item, posted back to its network\n"
        "  sources [--json]            each source's poll state (last ok, errors, next poll)\n"
        "  parse KIND FILE [--header 'Name: value']...\n"
        "                              parse a saved response as the collector would\n"
        "  rules check DIR             check every *.rules file of DIR\n"
        "  rules reload                check the config's rules, then make every ctxd reload them\n");
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
    if (strcmp(cmd, "simulate") == 0)
        return cmd_simulate(rest, rargv);
    if (strcmp(cmd, "queues") == 0)
        return cmd_queues(rest, rargv);
    if (strcmp(cmd, "agents") == 0)
        return cmd_agents(rest, rargv);
    if (strcmp(cmd, "agent") == 0)
        return cmd_agent(rest, rargv);
    if (strcmp(cmd, "reply") == 0)
        return cmd_reply(rest, rargv);
    if (strcmp(cmd, "sources") == 0)
        return cmd_sources(rest, rargv);
    if (strcmp(cmd, "parse") == 0)
        return cmd_parse(rest, rargv);
    if (strcmp(cmd, "rules") == 0 && rest == 1 && strcmp(rargv[0], "reload") == 0)
        return cmd_rules_reload();
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
