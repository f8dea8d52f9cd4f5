"""Routing decisions/s with Redis in the loop, the load generator out of the way.

A backlog of TASKS social tasks and AGENTS available agents is written into
Redis (bench/route_load.c populate: the real task_new.lua), then 1 or 2
routers (ctxd --roles route) are started and bench/route_load.c accepts every
offer through Redis with the real accept.lua, pipelined. Decisions/s is the
offers made over the span from the first offer to the last (the stream ids,
Redis's clock). CPU time (user+sys) of each process over the run is printed
next to the wall clock: on this 2-core machine it says who bounded it.

    routing_load.py [--profile] [--cluster] [TASKS] [AGENTS]   (defaults 30000, 1000)

--cluster runs the same on a Redis Cluster of 3 masters (no replicas, AOF
everysec as the one Redis): the routers follow the cluster, the generator
talks to the master of {r}, where every routing key is; the CPU figures are
that master's (the two others hold none of routing's keys).

After each run the Redis commands per decision are printed (INFO
commandstats: calls and microseconds, the scripts' inner commands counted
apart from the EVALSHA that ran them). --profile also logs every command
(SLOWLOG with a threshold of 0, which costs Redis about a quarter more) and
prints the Redis time of each script per call and per decision.
"""
import glob
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from harness import ROOT, Cluster, Ctxd, Redis, Workdir, lua_source  # noqa: E402

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


def script_names():
    """EVALSHA digest -> script name, for the scripts as ctxd embeds them"""
    names = {}
    for path in glob.glob(os.path.join(ROOT, "store", "*.lua")):
        name = os.path.basename(path)[:-4]
        names[hashlib.sha1(lua_source(name)).hexdigest()] = name
    return names


def commandstats(redis, decisions, cpu0):
    """the commands Redis ran since CONFIG RESETSTAT, per decision; its CPU
    since cpu0 (INFO cpu then) as user and system (the AOF writes, the sockets)"""
    cpu = redis.info("cpu")
    print("    redis-server CPU a decision: user %.0f us, sys %.0f us" % tuple(
        (float(cpu[k]) - float(cpu0[k])) * 1e6 / decisions
        for k in ("used_cpu_user", "used_cpu_sys")))
    rows = []
    for k, v in redis.info("commandstats").items():
        f = dict(x.split("=") for x in v.split(","))
        rows.append((float(f["usec"]), int(f["calls"]), k[len("cmdstat_"):]))
    rows.sort(reverse=True)
    print("    commands per decision (calls, us): " + ", ".join(
        "%s %.2f %.1f" % (name, calls / decisions, usec / decisions)
        for usec, calls, name in rows if calls >= decisions / 100))


def slowlog(redis, decisions, names):
    """what each script (and each other command) cost Redis, from SLOWLOG"""
    per = {}
    for entry in redis.cmd("SLOWLOG", "GET", "-1"):
        args = entry[3]
        name = args[0].lower()
        if name == "evalsha" and len(args) > 1:
            name = names.get(args[1], args[1][:8])
        n, us = per.get(name, (0, 0))
        per[name] = (n + 1, us + entry[2])
    for name, (n, us) in sorted(per.items(), key=lambda x: -x[1][1]):
        if us >= decisions / 10:
            print("    %-16s %7d calls %9.1f us a call %7.1f us a decision"
                  % (name, n, us / n, us / decisions))


def run(exe, routers, tasks, agents, profile, cluster=False):
    wd = Workdir("bench-route-load")
    servers = []
    nodes = []
    try:
        if cluster:
            c = Cluster(wd.path, masters=3, replicas=0)
            servers = c.nodes
            c.start()
            redis = c.node("ctx:{r}:agents")
            redis_cfg = c.addresses()
        else:
            redis = Redis(wd.path, cluster=False)
            servers = [redis]
            redis.start()
            redis_cfg = "127.0.0.1:%d" % redis.port
        cap = tasks // agents + 1
        subprocess.run([exe, "populate", str(redis.port), str(agents), str(cap), str(tasks)],
                       check=True)
        redis.cmd("CONFIG", "RESETSTAT")
        if profile:
            redis.cmd("CONFIG", "SET", "slowlog-log-slower-than", "0")
            redis.cmd("CONFIG", "SET", "slowlog-max-len", "1000000")
            redis.cmd("SLOWLOG", "RESET")
        r0 = cpu(redis.proc.pid)
        cpu0 = redis.info("cpu")
        t0 = time.monotonic()
        for i in range(routers):
            d = os.path.join(wd.path, "n%d" % i)
            os.makedirs(d)
            n = Ctxd(d, redis.port, [], extra={"queues": [{"name": "q"}], "log_level": "warn",
                                               "redis": redis_cfg})
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
        print("  %s%d router%s, %d tasks, %d agents: %s offers in %s s = %s decisions/s; "
              "CPU s: ctxd %s, redis-server %.2f (%.0f us a decision: offer + accept + the "
              "passes' reads), generator %s (run wall %.1f s)"
              % ("3-master cluster, " if cluster else "", routers, "s" if routers > 1 else " ",
                 tasks, agents, out.get("offers"),
                 out.get("span_s"), out.get("decisions_per_s"),
                 "+".join("%.2f" % c for c in c_cpu), r_cpu, per, out.get("gen_cpu_s"), wall))
        decisions = max(1, int(out.get("offers", 0)))
        commandstats(redis, decisions, cpu0)
        if profile:
            redis.cmd("CONFIG", "SET", "slowlog-log-slower-than", "10000")
            slowlog(redis, decisions, script_names())
    finally:
        for n in nodes:
            n.stop(signal.SIGTERM)
        for x in servers:
            x.stop()
        wd.cleanup()


if __name__ == "__main__":
    argv = [a for a in sys.argv[1:] if a not in ("--profile", "--cluster")]
    profile = "--profile" in sys.argv
    cluster = "--cluster" in sys.argv
    tasks = int(argv[0]) if len(argv) > 0 else 30000
    agents = int(argv[1]) if len(argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        exe = build(tmp)
        for routers in (1, 2):
            run(exe, routers, tasks, agents, profile, cluster)
