#!/usr/bin/python3
"""trends_bench.py -- the trend counters with a month of data loaded.

Loads 30 days x 100 series of hour buckets straight into Redis in the
layout of store/KEYS.md (ctx:{i}:tr:h:<series>:<yyyymm>, a field per day
holding its hours' "count,positive,negative,complaint": 50 brands and 50 topics, the
series split by sentiment; BENCH_LAYOUT=old: the first layout, a count
field and :p :n :u :c fields an hour), with redis-cli --pipe. Then:
  - Redis memory for the month: MEMORY USAGE of every key (and per series),
    and used_memory before and after;
  - `ctxd --roles serve` (the release build) answers 100 queries of
    30 days x 100 series hourly (72,000 points, ~7 MB of JSON) through
    GET /api/trends: p50 and p99 of the whole request, body read included
    (the target is < 50 ms), and the same for 30 days x 10 series.
Analyze-role throughput with the counters on and off is
bench/analyze_rate.py's (TRENDS=off).

  bench/trends_bench.py [QUERIES]      default 100
  BENCH_HOLD=1 bench/trends_bench.py   load, start ctxd, print the query's URL
                                       and wait (for perf, curl, redis-cli)
"""
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import Redis, free_port, resp, wait_for  # noqa: E402

CTXD = os.environ.get("CTXD_BENCH", os.path.join(ROOT, "bin", "ctxd"))
OLD = os.environ.get("BENCH_LAYOUT") == "old"   # the first layout: 5 fields an hour



def used_memory(r):
    return int(r.info("memory")["used_memory"])


def proc_cpu(pid):
    """user+system CPU seconds of a process (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        st = f.read().rsplit(")", 1)[1].split()
    return (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")


def redis_cpu(r):
    f = r.info("cpu")
    return float(f["used_cpu_user"]) + float(f["used_cpu_sys"])


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main():
    queries = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    series = ["brand:b%02d" % i for i in range(50)] + ["topic:t%02d" % i for i in range(50)]
    now = int(time.time())
    to = now // 3600 * 3600
    frm = to - 30 * 86400
    wd = tempfile.mkdtemp(prefix="ctx-bench-trends-")
    r = Redis(wd).start()
    ctxd = None
    try:
        r.cmd("CONFIG", "SET", "appendonly", "no")
        mem0 = used_memory(r)
        path = os.path.join(wd, "load.resp")
        keys = set()
        with open(path, "wb") as f:
            for si, s in enumerate(series):
                for day in range(frm // 86400 * 86400, to, 86400):     # UTC days
                    args, hours = [], []
                    for h in range(max(day, frm), min(day + 86400, to), 3600):
                        hb = h // 3600
                        n = 5 + (hb * 7 + si * 13) % 40
                        p, neg = n // 3, n // 4
                        if OLD:
                            args += [str(hb), str(n), "%d:p" % hb, str(p), "%d:n" % hb, str(neg),
                                     "%d:u" % hb, str(n - p - neg), "%d:c" % hb, str(neg // 2)]
                        else:
                            hours.append("%d=%d,%d,%d,%d" % (hb % 24, n, p, neg, neg // 2))
                    if not OLD:
                        args = [str(day // 86400), ";".join(hours)]
                    key = "ctx:{i}:tr:h:%s:%s" % (s, time.strftime("%Y%m", time.gmtime(day)))
                    keys.add(key)
                    f.write(resp("HSET", key, *args))
            for k in keys:
                f.write(resp("EXPIRE", k, str(120 * 86400)))
            for s in series:
                f.write(resp("ZADD", "ctx:{i}:tr:series", str(to * 1000), s))
        with open(path, "rb") as f:
            subprocess.run(["redis-cli", "-p", str(r.port), "--pipe"], stdin=f, check=True,
                           stdout=subprocess.DEVNULL)
        mem1 = used_memory(r)
        usage = sum(r.cmd("MEMORY", "USAGE", k, "SAMPLES", "0") for k in keys)
        enc = {r.cmd("OBJECT", "ENCODING", k) for k in keys}
        print("  a month of hour buckets, 100 series x 720 hours, %s: %d keys (%s), "
              "MEMORY USAGE %.1f MB = %.0f KB per series-month (used_memory +%.1f MB)"
              % ("5 fields an hour (BENCH_LAYOUT=old)" if OLD else "a field a day holding its 24 hours",
                 len(keys), ",".join(sorted(enc)), usage / 1e6, usage / 1e3 / len(series),
                 (mem1 - mem0) / 1e6))
        port = free_port()
        cfg = os.path.join(wd, "ctxd.json")
        with open(cfg, "w") as f:
            json.dump({"listen": "127.0.0.1:%d" % port, "redis": "127.0.0.1:%d" % r.port,
                       "rules": os.path.join(ROOT, "etc", "rules"),
                       "lexicons": os.path.join(ROOT, "etc", "lexicons"),
                       "www": os.path.join(ROOT, "ws", "www"), "log_level": "warn",
                       "sources": []}, f)
        ctxd = subprocess.Popen([CTXD, "-c", cfg, "--roles", "serve"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/healthz")
                return c.getresponse().status in (200, 503)
            except OSError:
                return False
        wait_for(up, what="ctxd serving")
        if os.environ.get("BENCH_HOLD"):
            print("  ctxd pid %d, redis port %d; query:\n  http://127.0.0.1:%d"
                  "/api/trends?series=%s&from=%d&to=%d&bucket=hour"
                  % (ctxd.pid, r.port, port, ",".join(series), frm, to), flush=True)
            input("  enter to stop\n")
            return
        for nseries in (100, 10):
            q = "/api/trends?series=%s&from=%d&to=%d&bucket=hour" % (
                ",".join(series[:nseries]), frm, to)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            times, size = [], 0
            for i in range(queries + 3):
                if i == 3:
                    c0, r0 = proc_cpu(ctxd.pid), redis_cpu(r)
                t0 = time.perf_counter()
                conn.request("GET", q)
                res = conn.getresponse()
                body = res.read()
                dt = time.perf_counter() - t0
                assert res.status == 200, (res.status, body[:200])
                if i >= 3:                      # the first ones warm up
                    times.append(dt * 1000)
                size = len(body)
            cq, rq = (proc_cpu(ctxd.pid) - c0) / queries, (redis_cpu(r) - r0) / queries
            j = json.loads(body)
            pts = sum(len(s["points"]) for s in j["series"])
            total = sum(p["count"] for s in j["series"] for p in s["points"])
            print("  GET /api/trends, 30 days x %d series hourly (%d points, %.1f MB JSON, "
                  "total count %d): p50 %.1f ms, p99 %.1f ms over %d queries (target < 50 ms); "
                  "CPU per query: ctxd %.1f ms, redis-server %.1f ms"
                  % (nseries, pts, size / 1e6, total, pct(times, 50), pct(times, 99), queries,
                     cq * 1000, rq * 1000))
    finally:
        if ctxd:
            ctxd.terminate()
            ctxd.wait()
        r.stop()


if __name__ == "__main__":
    main()
