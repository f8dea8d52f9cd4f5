"""Routing decisions/s with Redis in the loop, the load generator out of the way.

A backlog of TASKS social tasks and AGENTS available agents is written into
Redis (bench/route_load.c populate: the real task_new.lua), then 1 or 2
routers (ctxd --roles route) are started and bench/route_load.c accepts every
offer through Redis with the real accept.lua, pipelined. Decisions/s is the
offers made over the span from the first offer to the last (the stream ids,
Redis's clock). CPU time (user+sys) of each process over the run is printed
next to the wall clock: on this 2-core machine it says who bounded it.

    routing_load.py [TASKS] [AGENTS]      (defaults 30000, 1000)
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from harness import ROOT, Ctxd, Redis, Workdir  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu(pid):
    """user+sys seconds of a live process"""
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / TICK


def build(tmp):
    exe = os.path.join(tmp, "route_load")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libcurl", "jansson",
                            "libwebsockets", "libpcre2-8", "hiredis", "libuv"],
                           capture_output=True, text=True, check=True).stdout.split()
    subprocess.run(["cc", "-O2", "-std=gnu11", "-I.", "-Ibuild/gen", "bench/route_load.c",
                    "build/libctx.a", *flags, "-lm", "-o", exe], cwd=ROOT, check=True)
    return exe


def run(exe, routers, tasks, agents):
    wd = Workdir("bench-route-load")
    redis = Redis(wd.path, cluster=False).start()
    nodes = []
    try:
        cap = tasks // agents + 1
        subprocess.run([exe, "populate", str(redis.port), str(agents), str(cap), str(tasks)],
                       check=True)
        r0 = cpu(redis.proc.pid)
        t0 = time.monotonic()
        for i in range(routers):
            d = os.path.join(wd.path, "n%d" % i)
            os.makedirs(d)
            n = Ctxd(d, redis.port, [], extra={"queues": [{"name": "q"}], "log_level": "warn"})
            n.start(wait=False, args=("--roles", "route"))
            nodes.append(n)
        p = subprocess.run([exe, "accept", str(redis.port), str(tasks), "10"],
                           capture_output=True, text=True)
        wall = time.monotonic() - t0
        c_cpu = [cpu(n.proc.pid) for n in nodes]
        r_cpu = cpu(redis.proc.pid) - r0
        out = dict(zip(p.stdout.split()[0::2], p.stdout.split()[1::2]))
        if p.returncode or not out:
            print("  %d router(s): generator failed (%d): %s %s" % (routers, p.returncode,
                                                                 p.stdout, p.stderr[-500:]))
            for n in nodes:
                print(n.logtext()[-1500:])
        per = r_cpu * 1e6 / max(1, int(out.get("offers", 0)))
        print("  %d router%s, %d tasks, %d agents: %s offers in %s s = %s decisions/s; "
              "CPU s: ctxd %s, redis-server %.2f (%.0f us a decision: offer + accept + the "
              "passes' reads), generator %s (run wall %.1f s)"
              % (routers, "s" if routers > 1 else " ", tasks, agents, out.get("offers"),
                 out.get("span_s"), out.get("decisions_per_s"),
                 "+".join("%.2f" % c for c in c_cpu), r_cpu, per, out.get("gen_cpu_s"), wall))
    finally:
        for n in nodes:
            n.stop(signal.SIGTERM)
        redis.stop()
        wd.cleanup()


if __name__ == "__main__":
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 30000
    agents = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        exe = build(tmp)
        for routers in (1, 2):
            run(exe, routers, tasks, agents)
