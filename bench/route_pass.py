"""The cost of one routing pass, and of the queue figures, by the size of the center.

For 100 / 1,000 / 10,000 agents x 1,000 / 10,000 / 100,000 waiting tasks in one
queue, a Redis is filled directly (pipelined writes, as the scripts would
leave it): all but 10 agents busy (each holding an offered task), 10 ready,
and the tasks waiting; then once with every agent ready (a shift starts). Then route_index.lua builds what the scripts keep (the
ready set, the live counts, the arrivals), and these are called many times:

- route_snapshot.lua: what a routing pass reads (the head it reads: 64
  tasks before; now 64 and 4 per agent ready, here 104);
- queue_stats.lua for the queue: what /api/queues, /metrics and the
  supervisors' queue_stats (every 2 s per supervisor) read;
- and once, route_index.lua, what a router's start costs Redis (the first
  start on a Redis from before the kept figures builds them from every task).

Each is reported as Redis CPU time per call (used_cpu_user + used_cpu_sys of
INFO cpu over the calls, so other processes on the machine do not count), and
wall time per call. BEFORE=<git ref> runs the scripts of that commit instead,
with the keys they took (the agents set; the offers zset and every agent's
tasks), for the figures before the change.

    route_pass.py [--quick]       --quick: up to 1,000 agents x 10,000 tasks
"""
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from harness import ROOT, Redis, Workdir, _read_reply, lua_source, resp  # noqa: E402

R = "ctx:{r}:"
READY_LEFT = 10


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    def pipe(self, cmds):
        out = []
        for i in range(0, len(cmds), 5000):
            chunk = cmds[i:i + 5000]
            self.s.sendall(b"".join(resp(*c) for c in chunk))
            for _ in chunk:
                try:
                    out.append(_read_reply(self.f))
                except RuntimeError as e:     # an error reply
                    out.append(e)
        return out

    def cmd(self, *c):
        r = self.pipe([c])[0]
        if isinstance(r, Exception):
            raise r
        return r


def script(name, ref):
    if ref:
        return lua_source(name, subprocess.run(["git", "show", "%s:store/%s.lua" % (ref, name)],
                                               cwd=ROOT, capture_output=True, check=True).stdout)
    return lua_source(name)


def fill(c, agents, tasks, now, ready):
    cmds = []
    for i in range(agents):
        a = "a%d" % i
        busy = i >= ready
        cmds.append(("HSET", R + "agent:" + a, "id", a, "name", a, "skills", "{}", "langs", "[]",
                     "cap:social", 5, "cap:chat", 0, "cap:callback", 0, "role", "agent",
                     "callback_blocks_chat", 0, "state", "available", "offers", 1 if busy else 0,
                     "load:social", 1 if busy else 0, "load:chat", 0, "load:callback", 0,
                     "handled", 0, "idle_since", 0, "last_offer", 0))
        cmds.append(("SADD", R + "agents", a))
        if busy:
            t = "o%d" % i
            cmds.append(("HSET", R + "task:" + t, "id", t, "channel", "social", "queue", "q",
                         "state", "offered", "agent", a, "arrived", now, "order", now))
            cmds.append(("ZADD", R + "offers", now + 60000, t))
            cmds.append(("SADD", R + "agent:" + a + ":tasks", t))
    for i in range(tasks):
        t = "t%07d" % i
        cmds.append(("HSET", R + "task:" + t, "id", t, "channel", "social", "queue", "q",
                     "priority", 0, "state", "queued", "agent", "", "arrived", now + i,
                     "order", now + i, "refused", "{}", "attempts", 0))
        cmds.append(("ZADD", R + "queue:q:waiting", now + i, t))
    for r in c.pipe(cmds):
        if isinstance(r, Exception):
            raise r


def cpu(c):
    info = dict(l.split(":", 1) for l in c.cmd("INFO", "cpu").split("\r\n") if ":" in l)
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def measure(c, calls):
    """Redis CPU and wall ms per call of the EVALSHA calls given."""
    c0, t0 = cpu(c), time.monotonic()
    for call in calls:
        r = c.pipe([call])[0]
        if isinstance(r, Exception):
            raise r
    t1, c1 = time.monotonic(), cpu(c)
    return (c1 - c0) * 1000 / len(calls), (t1 - t0) * 1000 / len(calls)


def one(agents, tasks, ref, ready=READY_LEFT):
    wd = Workdir("bench-route-pass")
    redis = Redis(wd.path, cluster=False).start()
    try:
        c = Conn(redis.port)
        now = int(time.time() * 1000)
        fill(c, agents, tasks, now, ready)
        snap = c.cmd("SCRIPT", "LOAD", script("route_snapshot", ref))
        stats = c.cmd("SCRIPT", "LOAD", script("queue_stats", ref))
        if ref:
            # the head it read then: 64 tasks a pass
            snap_call = ("EVALSHA", snap, 2, R + "queue:q:waiting", R + "agents", 64,
                         R + "task:", R + "agent:")
            stats_call = ("EVALSHA", stats, 4, R + "offers", R + "agents", R + "queue:q:stats",
                          R + "queue:q:waiting", R + "task:", R + "agent:", "q")
        else:
            index = c.cmd("SCRIPT", "LOAD", script("route_index", None))
            index_call = ("EVALSHA", index, 4, R + "agents", R + "agents:ready",
                          R + "queues:live", R + "offers", R + "agent:", R + "task:",
                          R + "queue:", "q")
            # the first start on a Redis from before the kept figures builds them all;
            # every later router start makes the ready set again
            first_ms = measure(c, [index_call])[0]
            again_ms = measure(c, [index_call])[0]
            # as ctxd/route.c calls it: at most 256 tasks and 1,024 agents; with no
            # copy of the agents (0: a router's first pass, and every 5 s) it reads
            # every ready agent, else the agents changed since its copy's version
            snap_keys = (4, R + "queue:q:waiting", R + "agents:ready", R + "agents:ready:log",
                         R + "agents:ready:changes", 256, R + "task:", R + "agent:", 1024)
            snap_call = ("EVALSHA", snap) + snap_keys + (0,)
            stats_call = ("EVALSHA", stats, 4, R + "queues:live", R + "queue:q:stats",
                          R + "queue:q:waiting", R + "queue:q:arrivals", "q")
        # the head and the ready agents (now at most 1,024 of them); the oldest arrival
        got = c.cmd(*snap_call)
        n_agents = ready if ref else min(ready, 1024)
        assert len(got[0]) == min(64 if ref else min(256, 64 + 4 * n_agents), tasks) and \
            len(got[1]) == n_agents, (len(got[0]), len(got[1]))
        q = c.cmd(*stats_call)[0]
        qd = dict(zip(q[0::2], q[1::2]))
        assert int(qd["waiting"]) == tasks and int(float(qd["oldest"])) == now, qd
        assert int(qd["offered"]) == agents - ready, qd
        n = max(3, min(200, 2000000 // (agents + tasks)))
        s_cpu, s_wall = measure(c, [snap_call] * n)
        inc = ""
        if not ref:             # the copy up to date: nothing changed since
            since_call = ("EVALSHA", snap) + snap_keys + (got[3],)
            assert len(c.cmd(*since_call)[1]) == 0
            inc = ", with a copy %8.3f ms CPU" % measure(c, [since_call] * n)[0]
        q_cpu, q_wall = measure(c, [stats_call] * max(3, n // 4))
        print("  %6d agents %7d tasks%s: snapshot %8.3f ms CPU (%8.3f wall)%s, "
              "queue_stats %8.3f ms CPU (%8.3f wall)%s" % (
                  agents, tasks, "" if ready == READY_LEFT else " (all ready)", s_cpu, s_wall,
                  inc, q_cpu, q_wall,
                  "" if ref else "; route_index at a router's start %.0f ms (the first "
                  "ever %.0f ms)" % (again_ms, first_ms)))
    finally:
        redis.stop()
        wd.cleanup()


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    ref = os.environ.get("BEFORE")
    print("  (scripts of %s)" % (ref or "this tree"))
    for agents in (100, 1000) if quick else (100, 1000, 10000):
        for tasks in (1000, 10000) if quick else (1000, 10000, 100000):
            one(agents, tasks, ref)
    # a shift starts: every agent available at once
    one(1000 if quick else 10000, 10000, ref, ready=1000 if quick else 10000)
