/* cmd_analyze.c -- ctxctl analyze and ctxctl rules: the analyzer run
 * locally on the config's lexicons and rules, no daemon needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "analyzer/analyzer.h"
#include "cli/cli.h"

int cmd_analyze(int argc, char **argv)
{
    bool score_only = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--score") == 0)
            score_only = true;
        else {
            fprintf(stderr, "ctxctl analyze: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    struct config *cfg = load_config();
    if (!cfg)
        return 2;
    char err[512];
    analyzer *an = analyzer_new(cfg->lexicons, cfg->rules, err, sizeof err);
    config_free(cfg);
    if (!an) {
        fprintf(stderr, "ctxctl: %s\n", err);
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    struct item it;
    item_init(&it);
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (score_only) {
            printf("%.4f\n", analyzer_score(an, line));
            continue;
        }
        it.text = line;
        struct tags tags = {0};
        if (analyzer_tag(an, &it, &tags)) {
            printf("{\"error\":\"cannot tag\"}\n");
            continue;
        }
        json_t *j = tags_to_json(&tags);
        json_object_set_new(j, "lang", tags.lang ? json_string(tags.lang) : json_null());
        char *s = json_dumps(j, CTX_JSON_FLAGS);
        puts(s ? s : "{}");
        free(s);
        json_decref(j);
        tags_clear(&tags);
    }
    it.text = NULL;
    free(line);
    analyzer_free(an);
    return 0;
}

int cmd_rules(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[0], "check") != 0) {
        usage(stderr);
        return 2;
    }
    char err[512];
    if (analyzer_rules_check(argv[1], err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("%s: ok\n", argv[1]);
    return 0;
}

