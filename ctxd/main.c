/* main.c -- ctxd: the daemon. Loads the config, starts the roles it was
 * asked for on one libuv loop, and stops them cleanly on SIGINT/SIGTERM:
 * each role frees its Redis connections first (pending replies are called
 * back while the role still exists), then its handles; the loop then runs
 * until every handle has closed. */
#include <stdbool.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>
#include <jansson.h>
#include "analyzer/analyzer.h"
#include "collectors/collectors.h"
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "ctxd/roles.h"
#include "store/store.h"
#include "ws/ws.h"

enum { ROLE_COLLECT = 1, ROLE_ANALYZE = 2, ROLE_ROUTE = 4, ROLE_SERVE = 8, ROLE_DIAL = 16 };

/* Open files up to the hard limit: a serve node holds one descriptor per
 * websocket, and libwebsockets sizes its connection table from the limit
 * when the context is made, so under a default soft limit of 1024 the
 * 1,000th monitor or agent would be refused while the hard limit allows
 * far more (bench/ws_fanout.py runs 10,000). */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max)
        return;
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
        log_info("ctxd: open files limit raised from %llu to %llu", (unsigned long long)was,
                 (unsigned long long)rl.rlim_max);
}

static int parse_roles(const char *s, unsigned *out)
{
    static const struct { const char *name; unsigned bit; } names[] = {
        {"collect", ROLE_COLLECT}, {"analyze", ROLE_ANALYZE},
        {"route", ROLE_ROUTE}, {"serve", ROLE_SERVE}, {"dial", ROLE_DIAL},
    };
    *out = 0;
    char *copy = ctx_strdup(s), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        size_t i;
        for (i = 0; i < CTX_ARRAY_LEN(names); i++)
            if (strcmp(t, names[i].name) == 0)
                break;
        if (i == CTX_ARRAY_LEN(names)) {
            fprintf(stderr, "ctxd: --roles: unknown role \"%s\" (collect, analyze, route, serve, "
                            "dial)\n",
                    t);
            free(copy);
            return -1;
        }
        *out |= names[i].bit;
    }
    free(copy);
    return *out ? 0 : -1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: ctxd [-c FILE] [--roles collect,analyze,route,serve,dial] "
               "[--redis HOST:PORT]\n"
               "  -c, --config FILE   config file (default etc/ctxd.json)\n"
               "  --roles LIST        roles to run (default: all; dial places calls only with a "
               "dialer.engine)\n"
               "  --redis HOST:PORT   Redis address, overriding the config\n"
               "  --check             validate the config and rules, then exit\n");
}

struct daemon {
    const struct config *cfg;
    uv_loop_t *loop;
    analyzer *an;               /* the analyze role's; replaced by a reload */
    bool reloading, again, stopping;
    const char *why;            /* what asked for the reload in flight */
    uv_work_t work;
    analyzer *next;             /* built by the worker */
    char err[512];
};

/* A reload compiles every rule with PCRE2 and reads the lexicons: seconds
 * with many rules, so it runs on libuv's thread pool (the analyzer is
 * immutable once built) and the new one replaces the old on the loop, between
 * two batches. On any error the old one stays. One at a time: a reload asked
 * for meanwhile runs right after. */
static void reload_work(uv_work_t *w)
{
    struct daemon *d = w->data;
    d->next = analyzer_new(d->cfg->lexicons, d->cfg->rules, d->err, sizeof d->err);
}

static void reload_rules(struct daemon *d, const char *why);

static void reload_done(uv_work_t *w, int status)
{
    struct daemon *d = w->data;
    d->reloading = false;
    if (d->stopping || status != 0) {
        analyzer_free(d->next);
    } else if (!d->next) {
        log_error("ctxd: rules reload (%s) failed, keeping the rules in use: %s", d->why,
                  d->err);
    } else {
        analyzer_free(d->an);
        d->an = d->next;
        log_info("ctxd: rules reloaded from %s (%s)", d->cfg->rules, d->why);
    }
    d->next = NULL;
    if (d->again && !d->stopping) {
        d->again = false;
        reload_rules(d, d->why);
    }
}

static void reload_rules(struct daemon *d, const char *why)
{
    if (!d->an || d->stopping)
        return;                 /* this process does not tag */
    if (d->reloading) {
        d->again = true;
        d->why = why;
        return;
    }
    d->why = why;
    d->work.data = d;
    if (uv_queue_work(d->loop, &d->work, reload_work, reload_done) == 0)
        d->reloading = true;
    else
        log_error("ctxd: rules reload (%s): no worker thread", why);
}

static void on_sighup(uv_signal_t *h, int signum)
{
    (void)signum;
    reload_rules(h->data, "SIGHUP");
}

static void on_control(const char *cmd, void *priv)
{
    if (strcmp(cmd, "reload-rules") == 0)
        reload_rules(priv, "ctxctl rules reload");
    else
        log_warn("ctxd: unknown control command \"%s\" ignored", cmd);
}

static void on_signal(uv_signal_t *h, int signum)
{
    log_info("ctxd: %s received, stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
    uv_stop(h->loop);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void leases_given_back(void *loop)
{
    uv_stop(loop);
}

static void leases_timeout(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* A clean stop gives the sources' leases back, so another collector polls
 * them at once: the loop runs on until Redis answered, 500 ms at most. */
static void give_back_leases(uv_loop_t *loop, struct collector *col)
{
    static uv_timer_t timer;    /* closed below; the last loop runs close it */
    if (!col || collector_release(col, leases_given_back, loop) == 0)
        return;
    uv_timer_init(loop, &timer);
    uv_timer_start(&timer, leases_timeout, 500, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&timer, NULL);
}

int main(int argc, char **argv)
{
    json_set_alloc_funcs(ctx_malloc, free);     /* jansson too aborts on OOM (core/mem.h) */
    const char *path = "etc/ctxd.json", *roles_s = NULL, *redis = NULL;
    bool check = false;
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"roles", required_argument, NULL, 'r'},
        {"redis", required_argument, NULL, 'R'}, {"check", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'r': roles_s = optarg; break;
        case 'R': redis = optarg; break;
        case 'k': check = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }
    unsigned roles = ROLE_COLLECT | ROLE_ANALYZE | ROLE_ROUTE | ROLE_SERVE | ROLE_DIAL;
    if (roles_s && parse_roles(roles_s, &roles))
        return 2;

    char err[512];
    struct config *cfg;
    if (config_load(path, &cfg, err, sizeof err)) {
        fprintf(stderr, "ctxd: %s\n", err);
        return 2;
    }
    if (redis && config_set_redis(cfg, redis, err, sizeof err)) {
        fprintf(stderr, "ctxd: %s\n", err);
        config_free(cfg);
        return 2;
    }
    enum log_level lvl;
    if (log_level_parse(cfg->log_level, &lvl) == 0)
        log_set_level(lvl);

    struct daemon d = {.cfg = cfg};
    analyzer *an = NULL;
    if ((roles & (ROLE_ANALYZE | ROLE_SERVE)) || check) {   /* serve: POST /api/analyze */
        an = analyzer_new(cfg->lexicons, cfg->rules, err, sizeof err);
        if (!an) {
            fprintf(stderr, "ctxd: %s\n", err);
            config_free(cfg);
            return 2;
        }
    }
    if (check) {
        printf("%s: ok\n", path);
        analyzer_free(an);
        config_free(cfg);
        return 0;
    }

    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    uv_loop_t *loop = uv_default_loop();
    d.loop = loop;
    d.an = an;
    uv_signal_t sigint, sigterm, sighup;
    uv_signal_init(loop, &sigint);
    uv_signal_init(loop, &sigterm);
    uv_signal_init(loop, &sighup);
    sighup.data = &d;
    uv_signal_start(&sigint, on_signal, SIGINT);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    uv_signal_start(&sighup, on_sighup, SIGHUP);

    int rc = 0;
    struct store *st = NULL;
    struct collector *col = NULL;
    struct analyze_role *ana = NULL;
    struct serve *srv = NULL;
    struct control *ctl = NULL;
    struct outbox *obx = NULL;
    struct route_role *rte = NULL;
    struct retention *ret = NULL;
    struct alerts *alr = NULL;
    struct dial_role *dia = NULL;
    ctx_err e = store_new(loop, cfg, &st);
    if (!e)
        e = control_start(st, on_control, &d, &ctl);
    if (!e && (roles & ROLE_SERVE) && (e = serve_start(loop, cfg, st, &d.an, &srv)))
        log_error("ctxd: serve: %s", ctx_strerror(e));
    if (!e && (roles & ROLE_ANALYZE) && (e = analyze_role_start(loop, cfg, st, &d.an, &ana)))
        log_error("ctxd: analyze: %s", ctx_strerror(e));
    if (!e && (roles & ROLE_ANALYZE) && (e = alerts_start(loop, cfg, st, &alr)))
        log_error("ctxd: alerts: %s", ctx_strerror(e));
    if (!e && (roles & ROLE_COLLECT) && (e = collector_start(loop, cfg, st, &col)))
        log_error("ctxd: collect: %s", ctx_strerror(e));
    if (!e && (roles & ROLE_COLLECT) && (e = outbox_start(loop, cfg, st, &obx)))
        log_error("ctxd: outbox: %s", ctx_strerror(e));
    if (!e && (roles & ROLE_ROUTE) && cfg->nqueues && (e = route_role_start(loop, cfg, st, &rte)))
        log_error("ctxd: route: %s", ctx_strerror(e));
    if (!e && (roles & ROLE_DIAL) && cfg->dialer.engine &&
        (e = dial_role_start(loop, cfg, st, &dia)))
        log_error("ctxd: dial: %s", ctx_strerror(e));
    if (!e && (roles & (ROLE_ANALYZE | ROLE_ROUTE)) && (e = retention_start(loop, cfg, st, &ret)))
        log_error("ctxd: retention: %s", ctx_strerror(e));
    if (!e) {
        log_info("ctxd: started (config %s, redis %s)", path, cfg->redis);
        uv_run(loop, UV_RUN_DEFAULT);
    } else {
        rc = 1;
    }

    d.stopping = true;          /* a reload still in flight is dropped when it ends */
    give_back_leases(loop, col);
    control_stop(ctl);
    dial_role_stop(dia);
    retention_stop(ret);
    route_role_stop(rte);
    alerts_stop(alr);
    outbox_stop(obx);
    collector_stop(col);
    analyze_role_stop(ana);
    serve_stop(srv);
    store_free(st);
    uv_close((uv_handle_t *)&sigint, NULL);
    uv_close((uv_handle_t *)&sigterm, NULL);
    uv_close((uv_handle_t *)&sighup, NULL);
    uv_run(loop, UV_RUN_DEFAULT);   /* lws and the roles finish closing their handles */
    serve_free(srv);
    uv_run(loop, UV_RUN_DEFAULT);
    if (uv_loop_close(loop)) {      /* inactive handles someone forgot: close them */
        log_warn("ctxd: handles left open at exit; closing them");
        uv_walk(loop, close_walk, NULL);
        uv_run(loop, UV_RUN_DEFAULT);
        uv_loop_close(loop);
    }
    analyzer_free(d.an);
    config_free(cfg);
    log_info("ctxd: stopped");
    return rc;
}
