/* fuzz_config.c -- libFuzzer harness for config_load() (core/config.c): the
 * JSON, the table of keys with their types, bounds and validators, each
 * source kind's validate(), queue and escalation references.
 * Built and run by `make fuzz-smoke` (seeds, then 5 s; part of `make test`)
 * and `make fuzz` (FUZZ_SECONDS each); seeds: tests/fuzz/seeds/config/ (cases
 * of tests/data/core/config.tsv), etc/ctxd.json and etc/ctxd.production.json.
 *
 * config_load() reads a path, so each input is written to a memfd and loaded
 * as /proc/self/fd/N (no disk I/O per input). Beyond the sanitizers it
 * checks the API's contract: CTX_OK with a config, or CTX_ECONFIG with a
 * message and *out NULL; and a loaded config's "listen" and "redis" split
 * into host and port. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "core/config.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fd < 0) {
        fd = memfd_create("fuzz_config", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    struct config *cfg = (struct config *)1;
    char err[512] = "";
    ctx_err rc = config_load(path, &cfg, err, sizeof err);
    if (rc == CTX_OK) {
        if (!cfg || !cfg->listen_host || cfg->listen_port <= 0 || !cfg->redis_host ||
            cfg->redis_port <= 0)
            abort();
        for (size_t i = 0; i < cfg->nsources; i++)
            if (!cfg->sources[i].name || !cfg->sources[i].kind)
                abort();
        config_free(cfg);
    } else if (rc != CTX_ECONFIG || cfg || !err[0]) {
        abort();
    }
    return 0;
}
