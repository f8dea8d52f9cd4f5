#!/usr/bin/python3
"""analyze_rate.py -- items/s through the analyze role, Redis in the loop.

N raw items (texts of the VADER and Russian corpora, repeated) are written
to ctx:{i}:items:raw before ctxd starts, with redis-cli --pipe, so the load
generator is done before the clock starts and cannot be the bottleneck.
Then `ctxd --roles analyze` (1 or 2 processes, the release build) tags
them: each read batch goes through the analyzer and each item through
tag.lua (store, indexes, counters and the ack in one script). The clock
runs from ctxd's start to the moment every item is in ctx:{i}:items:tagged;
ctxd's own user+system CPU time and Redis' are printed beside it, to say
which of the two bounds the figure on this 2-core machine.

  bench/analyze_rate.py [--cluster] [N] [PROCESSES...]     default 100000 1 2

--cluster runs it on a Redis Cluster of 3 masters (REPLICAS=1 in the
environment adds a replica to each) given to ctxd as "redis": [...]: the
raw and tagged streams, the item hashes and indexes are all in {i}, so one
master does the pipeline's Redis work; the figure shows what the cluster
costs (a connection per master, the slot routing) rather than a gain. The
Redis CPU printed is the sum over the nodes.

With TRENDS=off in the environment the trend counters are switched off
(config trends.enabled false), for the figure next to them on; with
ALERTS=off the spike detector (which runs in the analyze role, a pass a
minute over every series counted) is off, to tell its cost from the
counters'. With trends on, Redis' CPU is read once the records tag.lua left
pending are counted, and the day buckets of `all` must add up to N.
"""
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import Cluster, Redis, free_port, resp, wait_for  # noqa: E402

CTXD = os.environ.get("CTXD_BENCH", os.path.join(ROOT, "bin", "ctxd"))


def texts():
    out = []
    corpora = os.path.join(ROOT, "..", "shared", "corpora")
    for name in ("movieReviewSnippets_GroundTruth.txt", "amazonReviewSnippets_GroundTruth.txt"):
        with open(os.path.join(corpora, "vader", name), encoding="utf-8", errors="replace") as f:
            out += [l.rstrip("\r\n").split("\t", 2)[-1] for l in f if l.count("\t") >= 2]
    import csv
    with open(os.path.join(corpora, "ru", "opensentimentcorpus-dev.csv"), encoding="utf-8") as f:
        out += [r["Sentence"] for r in csv.DictReader(f)]
    return out



def redis_cpu(r):
    f = r.info("cpu")
    return float(f["used_cpu_user"]) + float(f["used_cpu_sys"])


def redis_servers(wd, cluster):
    """One Redis, or a Redis Cluster of 3 masters (REPLICAS=1 adds a replica
    each), without AOF: (the node holding {i}, every node, ctxd's "redis")."""
    if cluster:
        c = Cluster(wd, masters=3, replicas=int(os.environ.get("REPLICAS", "0"))).start()
        for node in c.nodes:
            node.cmd("CONFIG", "SET", "appendonly", "no")
        # where the whole pipeline lives
        return c.node("ctx:{i}:items:raw"), c.nodes, c.addresses()
    r = Redis(wd).start()
    r.cmd("CONFIG", "SET", "appendonly", "no")
    return r, [r], "127.0.0.1:%d" % r.port


def run(n, procs, pool, cluster=False):
    wd = tempfile.mkdtemp(prefix="ctx-bench-analyze-")
    r, servers, redis_cfg = redis_servers(wd, cluster)
    try:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        path = os.path.join(wd, "load.resp")
        with open(path, "wb") as f:
            for i in range(n):
                it = {"id": "bench:%d" % i, "source": "bench", "kind": "feed",
                      "text": pool[i % len(pool)], "published": now, "fetched": now}
                f.write(resp("XADD", "ctx:{i}:items:raw", "*", "id", it["id"], "item",
                             json.dumps(it, ensure_ascii=False)))
        with open(path, "rb") as f:
            subprocess.run(["redis-cli", "-p", str(r.port), "--pipe"], stdin=f, check=True,
                           stdout=subprocess.DEVNULL)
        assert r.cmd("XLEN", "ctx:{i}:items:raw") == n
        cfg = os.path.join(wd, "ctxd.json")
        with open(cfg, "w") as f:
            json.dump({"listen": "127.0.0.1:%d" % free_port(),
                       "redis": redis_cfg,
                       "rules": os.path.join(ROOT, "bench", "data", "rules-1000"),
                       "lexicons": os.path.join(ROOT, "etc", "lexicons"),
                       "www": os.path.join(ROOT, "ws", "www"), "log_level": "warn",
                       "sources": [],
                       "trends": {"enabled": os.environ.get("TRENDS", "on") != "off"},
                       "alerts": {"enabled": os.environ.get("ALERTS", "on") != "off"}}, f)
        r.cmd("CONFIG", "RESETSTAT")
        cpu0 = sum(redis_cpu(x) for x in servers)
        t0 = time.monotonic()
        ps = [subprocess.Popen([CTXD, "-c", cfg, "--roles", "analyze"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
              for _ in range(procs)]
        wait_for(lambda: r.cmd("XLEN", "ctx:{i}:items:tagged") >= min(n, 100000), timeout=600,
                 step=0.02, what="all items tagged")
        dt = time.monotonic() - t0
        counted = ""
        if os.environ.get("TRENDS", "on") != "off":
            # the records tag.lua left pending are counted within a second or two: that
            # work is the counters' too, so Redis' CPU is read after it
            wait_for(lambda: r.cmd("LLEN", "ctx:{i}:tr:pending") == 0, timeout=120,
                     what="trend records counted")
            day = sum(int(v.split(",")[0]) for k in r.cmd("KEYS", "ctx:{i}:tr:d:all:*")
                      for v in r.cmd("HGETALL", k)[1::2])
            assert day == n, (day, n)
            counted = ", all %d counted once" % day
        rcpu = sum(redis_cpu(x) for x in servers) - cpu0
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        for p in ps:
            p.terminate()
            p.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        ccpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        # on a shared machine the wall clock says how much CPU we were given;
        # the CPU per item says what each side could do with a core of its own
        print("  %s, analyze role x%d, 1,000 rules, trends %s%s: %d items in %.2f s = %.0f items/s "
              "(ctxd CPU %.1f s = %.0f items/s per core, redis-server CPU %.1f s = %.0f items/s "
              "per core, %.0f us/item%s)"
              % (("cluster of 3 masters" + (" + %s replicas each" % os.environ["REPLICAS"]
                                            if os.environ.get("REPLICAS", "0") != "0" else ""))
                 if cluster else "one Redis", procs,
                 os.environ.get("TRENDS", "on"),
                 ", alerts off" if os.environ.get("ALERTS") == "off" else "", n, dt, n / dt, ccpu,
                 n / max(ccpu, 1e-9), rcpu, n / max(rcpu, 1e-9), rcpu / n * 1e6, counted))
        # where the {i} master's time goes: the raw stream's part (what one raw
        # stream per shard would move elsewhere) against tag.lua's
        stats = sorted(((int(v.split("usec=")[1].split(",")[0]), k.split("_", 1)[1])
                        for k, v in r.info("commandstats").items()), reverse=True)
        total = sum(u for u, _ in stats) or 1
        print("    redis time by command on the {i} master: " + ", ".join(
            "%s %.0f%%" % (name, 100.0 * u / total) for u, name in stats[:9]))
    finally:
        for x in servers:
            x.stop()
        shutil.rmtree(wd, ignore_errors=True)


def main():
    args = sys.argv[1:]
    cluster = "--cluster" in args
    args = [a for a in args if a != "--cluster"]
    n = int(args[0]) if args else 100000
    procs = [int(x) for x in args[1:]] or [1, 2]
    pool = texts()
    for p in procs:
        run(n, p, pool, cluster)


if __name__ == "__main__":
    main()
