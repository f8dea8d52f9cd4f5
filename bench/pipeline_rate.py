#!/usr/bin/python3
"""pipeline_rate.py -- items/s through collect -> analyze -> stored.

A loopback feed server serves feeds of E entries each (texts of the VADER
and Russian corpora, every entry new), generated before the clock starts.
One `ctxd --roles collect` process polls them (every 0.5 s; a lease per
source) and adds each entry to the raw stream (add_raw.lua), and 1 or 2
`ctxd --roles analyze` processes tag and store them (tag.lua). The clock
runs from the processes' start to the moment every entry is in
ctx:{i}:items:tagged. Beside the rate: ctxd's CPU time (all processes)
and Redis' (all nodes), per item, since on this shared 2-core machine the
wall clock mostly says how much CPU we were given.

  bench/pipeline_rate.py [--cluster] [N] [ANALYZERS...]   default 20000 1 2

--cluster: a Redis Cluster of 3 masters (REPLICAS=1 adds a replica each),
with "item_shards": 3 (SHARDS=N sets it for either setup; analyze_rate.py).
Each process's CPU seconds are printed as well.
"""
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from xml.sax.saxutils import escape

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from analyze_rate import (cpu_report, proc_cpu, redis_cpu, redis_servers, shards,  # noqa: E402
                          tagged_len, texts)
from feedserver import FeedServer  # noqa: E402
from harness import free_port, wait_for  # noqa: E402

CTXD = os.environ.get("CTXD_BENCH", os.path.join(ROOT, "bin", "ctxd"))
PER_FEED = 500


def feed(k, n0, n1, pool):
    out = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
           '<title>bench %d</title><link>http://127.0.0.1/</link><description>b</description>' % k]
    for i in range(n0, n1):
        out.append("<item><title>post %d</title><link>http://127.0.0.1/%d/%d</link>"
                   "<guid isPermaLink=\"false\">p-%d</guid>"
                   "<pubDate>Sun, 22 Nov 2026 10:00:00 GMT</pubDate>"
                   "<description>%s</description></item>"
                   % (i, k, i, i, escape(pool[i % len(pool)])))
    out.append("</channel></rss>")
    return "".join(out).encode()


def run(n, analyzers, pool, cluster):
    wd = tempfile.mkdtemp(prefix="ctx-bench-pipeline-")
    node_of, servers, redis_cfg = redis_servers(wd, cluster)
    n_shards = shards(cluster)
    feeds = (n + PER_FEED - 1) // PER_FEED
    docs = {"/f%d.xml" % k: feed(k, k * PER_FEED, min(n, (k + 1) * PER_FEED), pool)
            for k in range(feeds)}
    fs = FeedServer(wd)
    fs.generate = lambda path: docs.get(path)
    fs.start()
    procs = []
    try:
        cfg = os.path.join(wd, "ctxd.json")
        with open(cfg, "w") as f:
            json.dump({"listen": "127.0.0.1:%d" % free_port(), "redis": redis_cfg,
                       "rules": os.path.join(ROOT, "bench", "data", "rules-1000"),
                       "lexicons": os.path.join(ROOT, "etc", "lexicons"),
                       "www": os.path.join(ROOT, "ws", "www"), "log_level": "warn",
                       "retention": {"items": "3650d"}, "item_shards": n_shards,
                       "sources": [{"name": "f%d" % k, "kind": "feed", "every": "0.5s",
                                    "url": fs.url("f%d.xml" % k)} for k in range(feeds)]}, f)
        cpu0 = {x.port: redis_cpu(x) for x in servers}
        t0 = time.monotonic()
        roles = ["collect"] + ["analyze"] * analyzers
        for role in roles:
            procs.append(subprocess.Popen([CTXD, "-c", cfg, "--roles", role],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(lambda: tagged_len(node_of, n_shards) >= n, timeout=900, step=0.05,
                 what="every entry tagged")
        dt = time.monotonic() - t0
        rcpu = sum(redis_cpu(x) - cpu0[x.port] for x in servers)
        per_proc = [(role, proc_cpu(p.pid)) for role, p in zip(roles, procs)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        for p in procs:
            p.terminate()
            p.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        ccpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        label = "one Redis"
        if cluster:
            label = "cluster of 3 masters" + (" + replicas" if os.environ.get("REPLICAS", "0")
                                              != "0" else "")
        print("  %s, item_shards %d, collect x1 + analyze x%d: %d items in %.2f s = %.0f items/s "
              "(ctxd CPU %.1f s = %.0f µs/item, redis-server CPU %.1f s = %.0f µs/item)"
              % (label, n_shards, analyzers, n, dt, n / dt, ccpu, 1e6 * ccpu / n, rcpu,
                 1e6 * rcpu / n))
        print(cpu_report(per_proc, servers, node_of, n_shards, cpu0))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        fs.stop()
        for x in servers:
            x.stop()
        shutil.rmtree(wd, ignore_errors=True)


def main():
    args = sys.argv[1:]
    cluster = "--cluster" in args
    args = [a for a in args if a != "--cluster"]
    n = int(args[0]) if args else 20000
    analyzers = [int(x) for x in args[1:]] or [1, 2]
    pool = texts()
    for a in analyzers:
        run(n, a, pool, cluster)


if __name__ == "__main__":
    main()
