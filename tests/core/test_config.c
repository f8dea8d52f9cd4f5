/* test_config.c -- config validation, table-driven from
 * tests/data/core/config.tsv: each line is the expected outcome ("ok" or a
 * piece of the error message) and a config document. */
#define _GNU_SOURCE     /* mkstemps */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "core/config.h"

static void test_table(void **state)
{
    (void)state;
    FILE *f = fopen("tests/data/core/config.tsv", "r");
    assert_non_null(f);
    char line[4096];
    int cases = 0;
    char path[] = "/tmp/ctx-config-XXXXXX.json";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    close(fd);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || !line[0])
            continue;
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = '\0';
        const char *want = line, *doc = tab + 1;
        FILE *c = fopen(path, "w");
        fputs(doc, c);
        fclose(c);
        struct config *cfg = NULL;
        char err[512] = "";
        ctx_err e = config_load(path, &cfg, err, sizeof err);
        if (strcmp(want, "ok") == 0) {
            if (e)
                fail_msg("%s: expected ok, got: %s", doc, err);
            assert_non_null(cfg);
        } else {
            if (!e)
                fail_msg("%s: expected an error containing '%s'", doc, want);
            assert_null(cfg);
            if (!strstr(err, want))
                fail_msg("%s: expected '%s' in '%s'", doc, want, err);
            if (!strstr(err, path))
                fail_msg("error does not name the file: %s", err);
        }
        config_free(cfg);
        cases++;
    }
    fclose(f);
    unlink(path);
    assert_true(cases >= 20);
}

static void test_defaults_and_paths(void **state)
{
    (void)state;
    char dir[] = "/tmp/ctx-cfgdir-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/ctxd.json", dir);
    FILE *c = fopen(path, "w");
    fputs("{\"rules\":\"my-rules\",\"lexicons\":\"/abs/lex\","
          "\"sources\":[{\"name\":\"s\",\"kind\":\"feed\",\"url\":\"http://x/\",\"every\":\"1.5m\"}]}",
          c);
    fclose(c);
    struct config *cfg;
    char err[256];
    assert_int_equal(config_load(path, &cfg, err, sizeof err), CTX_OK);
    assert_string_equal(cfg->listen_host, "127.0.0.1");
    assert_int_equal(cfg->listen_port, 8080);
    assert_int_equal(cfg->redis_port, 6379);
    char want[300];
    snprintf(want, sizeof want, "%s/my-rules", dir);
    assert_string_equal(cfg->rules, want);
    assert_string_equal(cfg->lexicons, "/abs/lex");
    assert_int_equal(cfg->nsources, 1);
    assert_true(cfg->sources[0].every == 90.0);
    assert_true(cfg->sources[0].timeout == 30.0);
    assert_int_equal(cfg->sources[0].max_bytes, 5 * 1024 * 1024);
    assert_int_equal(cfg->health.max_lag, 10000);       /* "health" absent: its defaults */
    assert_true(cfg->health.max_pending_age == 300);
    /* retention, absent: every row's default */
    assert_true(cfg->retention.items == 30 * 86400.0);
    assert_true(cfg->retention.tasks == 90 * 86400.0);
    assert_true(cfg->retention.replies == 30 * 86400.0);
    assert_true(cfg->retention.seen == 30 * 86400.0);
    assert_true(cfg->retention.simhash == 7 * 86400.0);
    assert_true(cfg->retention.events == 7 * 86400.0);
    assert_true(cfg->retention.dead == 30 * 86400.0);
    assert_true(cfg->retention.sweep_every == 60);
    assert_int_equal(config_set_redis(cfg, "10.0.0.1:7000", err, sizeof err), CTX_OK);
    assert_int_equal(cfg->redis_port, 7000);
    assert_false(cfg->redis_cluster);
    assert_int_equal(cfg->redis_wait_replicas, 0);      /* no WAIT unless asked */
    assert_true(cfg->redis_wait_timeout == 0.1);
    assert_int_not_equal(config_set_redis(cfg, "nope", err, sizeof err), CTX_OK);
    assert_int_not_equal(config_set_redis(cfg, "10.0.0.1:7000,nope", err, sizeof err), CTX_OK);
    assert_int_equal(cfg->redis_port, 7000);            /* a refused override changes nothing */
    /* several nodes: a Redis Cluster, found from the first */
    assert_int_equal(config_set_redis(cfg, "10.0.0.2:7001,10.0.0.3:7002", err, sizeof err),
                     CTX_OK);
    assert_true(cfg->redis_cluster);
    assert_int_equal(cfg->redis_nodes.n, 2);
    assert_string_equal(cfg->redis, "10.0.0.2:7001");
    assert_int_equal(cfg->redis_port, 7001);
    config_free(cfg);
    c = fopen(path, "w");
    fputs("{\"redis\":[\"127.0.0.1:7000\",\"127.0.0.1:7001\",\"127.0.0.1:7002\"]}", c);
    fclose(c);
    assert_int_equal(config_load(path, &cfg, err, sizeof err), CTX_OK);
    assert_true(cfg->redis_cluster);
    assert_int_equal(cfg->redis_nodes.n, 3);
    assert_string_equal(cfg->redis_nodes.v[2], "127.0.0.1:7002");
    assert_string_equal(cfg->redis_host, "127.0.0.1");
    assert_int_equal(cfg->redis_port, 7000);
    config_free(cfg);
    c = fopen(path, "w");
    fputs("{\"redis\":\"127.0.0.1:7000\",\"redis_cluster\":true}", c);
    fclose(c);
    assert_int_equal(config_load(path, &cfg, err, sizeof err), CTX_OK);
    assert_true(cfg->redis_cluster);
    assert_int_equal(cfg->redis_nodes.n, 1);
    config_free(cfg);
    c = fopen(path, "w");
    fputs("{\"redis\":[\"127.0.0.1:7000\",\"seven\"]}", c);
    fclose(c);
    assert_int_not_equal(config_load(path, &cfg, err, sizeof err), CTX_OK);
    assert_non_null(strstr(err, "redis"));
    c = fopen(path, "w");
    fputs("{\"redis\":[]}", c);
    fclose(c);
    assert_int_not_equal(config_load(path, &cfg, err, sizeof err), CTX_OK);
    unlink(path);
    rmdir(dir);
}

/* Values the loader fills in besides the keys: a source's max_bytes from
 * max_body (wherever max_body is written), escalation's "any" (-1) for
 * urgent and complaint, a token from the environment. */
static void test_derived_values(void **state)
{
    (void)state;
    char path[] = "/tmp/ctx-config-XXXXXX.json";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    const char *doc =
        "{\"sources\":[{\"name\":\"s\",\"kind\":\"feed\",\"url\":\"http://x/\",\"every\":\"1m\"},"
        "{\"name\":\"m\",\"kind\":\"mastodon\",\"url\":\"https://x/\",\"tag\":\"acme\","
        "\"every\":\"1m\",\"max_bytes\":\"2KB\",\"token_env\":\"CTX_TEST_TOKEN\"}],"
        "\"queues\":[{\"name\":\"q\"}],\"escalation\":[{\"queue\":\"q\"}],\"max_body\":\"1MB\","
        "\"retention\":{\"items\":\"3s\",\"tasks\":120},\"health\":{\"max_lag\":50}}";
    assert_true(write(fd, doc, strlen(doc)) == (ssize_t)strlen(doc));
    close(fd);
    setenv("CTX_TEST_TOKEN", "from-env", 1);
    struct config *cfg;
    char err[256];
    ctx_err e = config_load(path, &cfg, err, sizeof err);
    if (e)
        fail_msg("%s", err);
    assert_int_equal(cfg->sources[0].max_bytes, 1024 * 1024);
    assert_int_equal(cfg->sources[1].max_bytes, 2048);
    assert_string_equal(cfg->sources[1].token, "from-env");
    assert_string_equal(cfg->queues[0].strategy, "longest-idle");
    assert_int_equal(cfg->queues[0].max_no_answer, 3);
    assert_int_equal(cfg->escalation[0].urgent, -1);
    assert_int_equal(cfg->escalation[0].complaint, -1);
    assert_int_equal(cfg->escalation[0].duplicates, 0);
    assert_true(cfg->escalation[0].max_score == 2);
    assert_string_equal(cfg->path, path);
    /* retention given in part: the rest keeps its defaults */
    assert_true(cfg->retention.items == 3 && cfg->retention.tasks == 120);
    assert_true(cfg->retention.replies == 30 * 86400.0 && cfg->retention.sweep_every == 60);
    /* health given in part, beside it: the same */
    assert_int_equal(cfg->health.max_lag, 50);
    assert_true(cfg->health.max_pending_age == 300);
    config_free(cfg);
    unsetenv("CTX_TEST_TOKEN");
    unlink(path);
}

static void test_durations(void **state)
{
    (void)state;
    static const struct { const char *in; double want; } ok[] = {
        {"30s", 30}, {"5m", 300}, {"1h", 3600}, {"250ms", 0.25}, {"2d", 172800}, {"7", 7},
        {"1.5m", 90}, {"30d", 2592000}, {"12h", 43200}, {"90s", 90}, {"0", 0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        double d;
        assert_int_equal(config_parse_duration(ok[i].in, &d), 0);
        assert_true(d == ok[i].want);
    }
    static const char *const bad[] = {"", "s", "5 minutes", "-1s", "1w", "abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double d;
        assert_int_equal(config_parse_duration(bad[i], &d), -1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_defaults_and_paths),
        cmocka_unit_test(test_derived_values),
        cmocka_unit_test(test_durations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
