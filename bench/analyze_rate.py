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
environment adds a replica to each) given to ctxd as "redis": [...], with
"item_shards": 3 (store/KEYS.md "Item shards"): each shard's raw and tagged
streams, item hashes, indexes and trend counters on its own master, the
items preloaded into the raw stream of their id's shard. SHARDS=N in the
environment sets item_shards (1..3) for either setup (default: 3 on the
cluster, 1 on one Redis). The Redis CPU printed is the sum over the nodes,
and each process's CPU time (every ctxd, every redis-server) is printed too,
to show which one bounds the rate when they share 2 cores.

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
from test_shards import DOMAINS, shard_of  # noqa: E402

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


def shards(cluster):
    """item_shards for the run: SHARDS, else 3 on the cluster and 1 on one Redis."""
    n = int(os.environ.get("SHARDS", "3" if cluster else "1"))
    assert 1 <= n <= len(DOMAINS), "SHARDS is 1..%d here" % len(DOMAINS)
    return n


def redis_servers(wd, cluster):
    """One Redis, or a Redis Cluster of 3 masters (REPLICAS=1 adds a replica
    each), without AOF: (node_of(key): the node holding a key, every node,
    ctxd's "redis")."""
    if cluster:
        c = Cluster(wd, masters=3, replicas=int(os.environ.get("REPLICAS", "0"))).start()
        for node in c.nodes:
            node.cmd("CONFIG", "SET", "appendonly", "no")
        return c.node, c.nodes, c.addresses()
    r = Redis(wd).start()
    r.cmd("CONFIG", "SET", "appendonly", "no")
    return (lambda key: r), [r], "127.0.0.1:%d" % r.port


def tagged_len(node_of, n_shards):
    """Entries in every shard's tagged stream."""
    return sum(node_of(d + "items:tagged").cmd("XLEN", d + "items:tagged")
               for d in DOMAINS[:n_shards])


def proc_cpu(pid):
    """user + system CPU seconds of a live process (/proc/<pid>/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_report(ctxds, servers, node_of, n_shards, cpu0):
    """Each process's CPU seconds during the run: the ctxd processes (by role)
    and every redis-server (with the shards it masters)."""
    parts = ["%s %.1f s" % (role, cpu) for role, cpu in ctxds]
    for x in servers:
        held = [str(s) for s, d in enumerate(DOMAINS[:n_shards]) if node_of(d + "x") is x]
        parts.append("redis :%d%s %.1f s" % (x.port, " (shard %s)" % ",".join(held)
                                            if held else "", redis_cpu(x) - cpu0[x.port]))
    return "    CPU per process: " + ", ".join(parts)


def run(n, procs, pool, cluster=False):
    wd = tempfile.mkdtemp(prefix="ctx-bench-analyze-")
    node_of, servers, redis_cfg = redis_servers(wd, cluster)
    n_shards = shards(cluster)
    r = node_of("ctx:{i}:items:raw")            # shard 0's master
    try:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        files = [open(os.path.join(wd, "load%d.resp" % s), "wb") for s in range(n_shards)]
        for i in range(n):
            it = {"id": "bench:%d" % i, "source": "bench", "kind": "feed",
                  "text": pool[i % len(pool)], "published": now, "fetched": now}
            s = shard_of(it["id"], n_shards)
            files[s].write(resp("XADD", DOMAINS[s] + "items:raw", "*", "id", it["id"], "item",
                                json.dumps(it, ensure_ascii=False)))
        for s, f in enumerate(files):
            f.close()
            with open(f.name, "rb") as f:
                subprocess.run(["redis-cli", "-p", str(node_of(DOMAINS[s] + "x").port),
                                "--pipe"], stdin=f, check=True, stdout=subprocess.DEVNULL)
        assert sum(node_of(d + "items:raw").cmd("XLEN", d + "items:raw")
                   for d in DOMAINS[:n_shards]) == n
        cfg = os.path.join(wd, "ctxd.json")
        with open(cfg, "w") as f:
            json.dump({"listen": "127.0.0.1:%d" % free_port(),
                       "redis": redis_cfg,
                       "rules": os.path.join(ROOT, "bench", "data", "rules-1000"),
                       "lexicons": os.path.join(ROOT, "etc", "lexicons"),
                       "www": os.path.join(ROOT, "ws", "www"), "log_level": "warn",
                       "sources": [], "item_shards": n_shards,
                       "trends": {"enabled": os.environ.get("TRENDS", "on") != "off"},
                       "alerts": {"enabled": os.environ.get("ALERTS", "on") != "off"}}, f)
        for x in servers:
            x.cmd("CONFIG", "RESETSTAT")
        cpu0 = {x.port: redis_cpu(x) for x in servers}
        t0 = time.monotonic()
        ps = [subprocess.Popen([CTXD, "-c", cfg, "--roles", "analyze"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
              for _ in range(procs)]
        wait_for(lambda: tagged_len(node_of, n_shards) >= min(n, 100000), timeout=600,
                 step=0.02, what="all items tagged")
        dt = time.monotonic() - t0
        counted = ""
        if os.environ.get("TRENDS", "on") != "off":
            # the records tag.lua left pending are counted within a second or two: that
            # work is the counters' too, so Redis' CPU is read after it
            for d in DOMAINS[:n_shards]:
                node = node_of(d + "x")
                wait_for(lambda: node.cmd("LLEN", d + "tr:pending") == 0, timeout=120,
                         what="trend records counted")
            day = sum(int(v.split(",")[0]) for d in DOMAINS[:n_shards]
                      for k in node_of(d + "x").cmd("KEYS", d + "tr:d:all:*")
                      for v in node_of(d + "x").cmd("HGETALL", k)[1::2])
            assert day == n, (day, n)
            counted = ", all %d counted once" % day
        rcpu = sum(redis_cpu(x) - cpu0[x.port] for x in servers)
        per_proc = [("analyze", proc_cpu(p.pid)) for p in ps]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        for p in ps:
            p.terminate()
            p.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        ccpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        # on a shared machine the wall clock says how much CPU we were given;
        # the CPU per item says what each side could do with a core of its own
        print("  %s, item_shards %d, analyze role x%d, 1,000 rules, trends %s%s: %d items in "
              "%.2f s = %.0f items/s "
              "(ctxd CPU %.1f s = %.0f items/s per core, redis-server CPU %.1f s = %.0f items/s "
              "per core, %.0f us/item%s)"
              % (("cluster of 3 masters" + (" + %s replicas each" % os.environ["REPLICAS"]
                                            if os.environ.get("REPLICAS", "0") != "0" else ""))
                 if cluster else "one Redis", n_shards, procs,
                 os.environ.get("TRENDS", "on"),
                 ", alerts off" if os.environ.get("ALERTS") == "off" else "", n, dt, n / dt, ccpu,
                 n / max(ccpu, 1e-9), rcpu, n / max(rcpu, 1e-9), rcpu / n * 1e6, counted))
        print(cpu_report(per_proc, servers, node_of, n_shards, cpu0))
        # where shard 0's master's time goes: tag.lua against the rest
        stats = sorted(((int(v.split("usec=")[1].split(",")[0]), k.split("_", 1)[1])
                        for k, v in r.info("commandstats").items()), reverse=True)
        total = sum(u for u, _ in stats) or 1
        print("    redis time by command on shard 0's master: " + ", ".join(
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
