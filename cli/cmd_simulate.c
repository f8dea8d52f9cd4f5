/* cmd_simulate.c -- ctxctl simulate: the real routing logic on a virtual
 * clock (routing_simulate()), next to what Erlang C predicts for the same
 * queue: a quick way to size a team before a campaign. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "routing/routing.h"

int cmd_simulate(int argc, char **argv)
{
    struct sim_params p = {.agents = 10, .lambda = 0.05, .mu = 1.0 / 180, .sla = 20,
                           .tasks = 200000, .seed = 1, .strategy = "longest-idle"};
    double aht = 180;
    for (int i = 0; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            goto usage;
        if (strcmp(argv[i], "--agents") == 0)
            p.agents = atoi(v);
        else if (strcmp(argv[i], "--per-hour") == 0)
            p.lambda = atof(v) / 3600.0;
        else if (strcmp(argv[i], "--aht") == 0)
            aht = atof(v);
        else if (strcmp(argv[i], "--sla") == 0)
            p.sla = atof(v);
        else if (strcmp(argv[i], "--tasks") == 0)
            p.tasks = atoll(v);
        else if (strcmp(argv[i], "--seed") == 0)
            p.seed = strtoull(v, NULL, 10);
        else if (strcmp(argv[i], "--strategy") == 0)
            p.strategy = v;
        else
            goto usage;
        i++;
    }
    if (aht <= 0 || p.agents < 1 || p.lambda <= 0)
        goto usage;
    p.mu = 1.0 / aht;
    double a = p.lambda / p.mu;
    if (a >= p.agents) {
        fprintf(stderr, "ctxctl simulate: %.1f Erlangs of work for %d agents: the queue grows "
                        "without end (need more than %.0f agents)\n", a, p.agents, a);
        return 1;
    }
    struct sim_result r;
    ctx_err e = routing_simulate(&p, &r);
    if (e) {
        fprintf(stderr, "ctxctl simulate: %s\n", ctx_strerror(e));
        return 1;
    }
    printf("%d agents, %.0f tasks/hour, %.0f s handling, target %.0f s, %lld tasks (%s)\n",
           p.agents, p.lambda * 3600, aht, p.sla, p.tasks, p.strategy);
    printf("%-22s %12s %12s\n", "", "Erlang C", "simulated");
    printf("%-22s %11.1fs %11.1fs\n", "average speed of answer", erlang_asa(p.agents, p.lambda, p.mu),
           r.asa);
    printf("%-22s %11.1f%% %11.1f%%\n", "service level", 100 * erlang_service_level(
               p.agents, p.lambda, p.mu, p.sla), 100 * r.service_level);
    printf("%-22s %11.1f%% %11.1f%%\n", "waited at all", 100 * erlang_c(p.agents, a),
           100 * r.p_wait);
    printf("%-22s %11.1f%% %11.1f%%\n", "occupancy", 100 * a / p.agents, 100 * r.occupancy);
    return 0;
usage:
    return cli_usage("simulate");
}
