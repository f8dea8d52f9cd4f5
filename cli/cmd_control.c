/* cmd_control.c -- ctxctl rules reload: check the rules here first (so a
 * mistake is reported with its file, line and column and never reaches a
 * daemon), then ask every running ctxd to reload through the ctx:{c}:control
 * stream. Each daemon logs the outcome and keeps its old rules on error. */
#include <stdio.h>
#include <string.h>
#include <hiredis.h>
#include "analyzer/analyzer.h"
#include "cli/cli.h"
#include "store/store.h"

int cmd_rules_reload(int argc, char **argv)
{
    (void)argv;
    if (argc)
        return cli_usage("rules reload");
    struct config *cfg = load_config();
    if (!cfg)
        return 2;
    char err[512];
    if (analyzer_rules_check(cfg->rules, err, sizeof err)) {
        fprintf(stderr, "%s\nnothing reloaded\n", err);
        config_free(cfg);
        return 1;
    }
    redisContext *rc = cli_redis(cfg, KEY_CONTROL);
    int status = 0;
    if (!rc) {
        status = 1;
    } else {
        redisReply *r = redisCommand(rc, "XADD %s MAXLEN ~ 1000 * cmd reload-rules", KEY_CONTROL);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "ctxctl: redis: %s\n", r ? r->str : rc->errstr);
            status = 1;
        } else {
            printf("%s: ok; reload sent to every ctxd (each logs the outcome)\n", cfg->rules);
        }
        if (r)
            freeReplyObject(r);
    }
    if (rc)
        redisFree(rc);
    config_free(cfg);
    return status;
}
