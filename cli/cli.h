/* cli.h -- what the files of ctxctl share: one file per group of commands,
 * each command a `int cmd_NAME(int argc, char **argv)` that gets the
 * arguments after its name and returns the exit status (0 ok, 1 failed,
 * 2 usage). The table of commands, their usage lines and help is in
 * ctxctl.c. Allocation failure aborts (core/mem.h). */
#ifndef CTX_CLI_H
#define CTX_CLI_H

#include <stdio.h>
#include <jansson.h>
#include "core/buf.h"
#include "core/config.h"

extern const char *config_path;
struct config *load_config(void);   /* prints the error and returns NULL on failure */
/* A blocking connection to the config's Redis (5 s timeout); on a cluster,
 * to the master of key's slot (key names the domain: KEY_AGENTS for
 * ctx:{r}:..., NULL: the first node). On failure the error is printed and
 * NULL returned. */
struct redisContext *cli_redis(const struct config *cfg, const char *key);
/* Ask ctxd's API (cli_http.c): GET path, or POST the JSON text `post` when
 * it is not NULL. The body of the answer is appended to `answer` (the
 * caller's to free) and, when json is not NULL, parsed into *json (the
 * caller's to decref). Returns 0 on a 2xx answer (that is JSON, if json was
 * asked for); otherwise prints why and returns 1 (2: the config did not
 * load), *json NULL. */
int cli_api(const char *path, const char *post, struct buf *answer, json_t **json);
/* Print the command's usage rows from the table on stderr; returns 2. */
int cli_usage(const char *name);

int cmd_analyze(int argc, char **argv);
int cmd_rules_check(int argc, char **argv);
int cmd_items(int argc, char **argv);
int cmd_sources(int argc, char **argv);
int cmd_reply(int argc, char **argv);
int cmd_queues(int argc, char **argv);
int cmd_agents(int argc, char **argv);
int cmd_parse(int argc, char **argv);
int cmd_rules_reload(int argc, char **argv);
int cmd_agent_add(int argc, char **argv);
int cmd_agent_del(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_dead(int argc, char **argv);
int cmd_dead_show(int argc, char **argv);
int cmd_dead_replay(int argc, char **argv);
int cmd_dead_drop(int argc, char **argv);
int cmd_migrate_keys(int argc, char **argv);
int cmd_trends(int argc, char **argv);
int cmd_trends_top(int argc, char **argv);

#endif
