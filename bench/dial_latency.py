"""Voice callbacks on real parts: ctxd (bin/ctxd), baresip as the dialer
engine over ctrl_tcp, SIPp as the agents' softphone and as the customers'
phone (`sipp -sn uas`, answering at once), all on 127.0.0.1.

1. Latency, one call at a time (N calls, default 50): the agent accepts
   over /ws/agent at t0; the agent's phone (SIPp) receives its INVITE at
   t1; it answers at once; the customer's phone receives its INVITE at t2.
   Printed: t1 - t0 (accept -> agent's phone rings), t2 - t1 (agent's
   leg to customer's leg: the agent's 200 OK, the CALL_ESTABLISHED event,
   the Redis step, the dial), t2 - t0; p50 / p99 / max. SIPp stamps its
   messages (-trace_msg) on the same clock as this script.
2. Calls in parallel: K agents accept K callbacks at once; how many reach
   "talking" (both legs up) and how long the last took; K ramps up
   (8, 16, 32, 64, 128: bounded) and stops at the first level with a
   failure.

Usage: bench/dial_latency.py [N]  (ctxd from CTXD, default bin/ctxd)"""
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import sip  # noqa: E402
from harness import ROOT, Ctxd, Redis, Workdir, wait_for  # noqa: E402

CTXCTL = os.path.join(ROOT, "bin", "ctxctl")


def post(port, phone, queue):
    body = json.dumps({"phone": phone, "queue": queue}).encode()
    req = urllib.request.Request("http://127.0.0.1:%d/api/callbacks" % port, data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())["task"]["id"]


class Agent:
    def __init__(self, ws):
        self.ws = ws

    @classmethod
    async def login(cls, port, token):
        ws = await websockets.connect("ws://127.0.0.1:%d/ws/agent" % port,
                                      subprotocols=["ctx.agent.v1"], max_queue=None)
        a = cls(ws)
        await a.send(type="hello", token=token)
        await a.wait("welcome")
        await a.send(type="state", state="available")
        await a.wait("state")
        return a

    async def send(self, **m):
        await self.ws.send(json.dumps(m))

    async def wait(self, typ, timeout=20, **kw):
        deadline = time.monotonic() + timeout
        while True:
            f = json.loads(await asyncio.wait_for(self.ws.recv(), deadline - time.monotonic()))
            if f.get("type") == typ and all(f.get(k) == v for k, v in kw.items()):
                return f


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def show(name, xs):
    xs = [x * 1000 for x in xs]
    print("  %-42s p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms  (n=%d)"
          % (name, pct(xs, 50), pct(xs, 99), max(xs), len(xs)))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    wd = Workdir("bench-dial")
    redis = Redis(wd.path, cluster=False).start()
    engine = sip.Baresip(wd.path, max_calls=512)
    agents_phone = sip.Sipp(wd.path, "agents").start()
    cust = sip.Sipp(wd.path, "customers").start()
    ramp = [8, 16, 32, 64, 128]
    ctxd = Ctxd(wd.path, redis.port, [], extra={
        "log_level": "info",
        "queues": [{"name": "one", "channels": ["callback"], "skills": ["one"]},
                   {"name": "many", "channels": ["callback"], "skills": ["many"]}],
        "dialer": {"engine": "baresip", "address": "127.0.0.1:%d" % engine.ctrl_port,
                   "uri": "sip:{digits}@127.0.0.1:%d" % cust.port, "ring_timeout": "10s",
                   "agent_ring_timeout": "10s"}})
    try:
        engine.start()

        def agent(aid, skill):
            p = subprocess.run([CTXCTL, "-c", ctxd.config, "agent", "add", aid, "--skills", skill,
                                "--capacity", "callback=1", "--sip", agents_phone.uri(aid)],
                               capture_output=True, text=True, check=True)
            return p.stdout.strip().splitlines()[-1]
        solo = agent("solo", "one")
        crowd = [agent("a%03d" % i, "many") for i in range(max(ramp))]
        ctxd.start()
        wait_for(lambda: "dial: connected to baresip" in ctxd.logtext(), what="dialer up")
        port = ctxd.port

        async def one_at_a_time():
            a = await Agent.login(port, solo)
            t0s = []
            for i in range(n):
                post(port, "+7495%07d" % i, "one")
                o = await a.wait("offer")
                tid = o["task"]["id"]
                t0s.append(time.time())
                await a.send(type="accept", task=tid)
                await a.wait("call", task=tid, state="talking")
                await a.send(type="hangup", task=tid)
                await a.wait("call", task=tid, state="ended")
                await a.send(type="done", task=tid)
                await a.wait("ok", op="done")
            await a.ws.close()
            return t0s

        print("== voice callbacks: ctxd -> baresip (ctrl_tcp) -> SIPp, 127.0.0.1, %s"
              % os.path.basename(os.environ.get("CTXD", "bin/ctxd")))
        t0s = asyncio.run(one_at_a_time())
        ag = [t for t, line in agents_phone.invites() if "sip:solo@" in line]
        cu = [t for t, line in cust.invites()]
        if len(ag) != n or len(cu) != n:
            raise SystemExit("INVITEs seen: agent %d, customer %d, want %d" % (len(ag), len(cu), n))
        print("1. one call at a time, %d calls (agent answers at once, customer too):" % n)
        if n:
            show("accept -> agent's phone gets INVITE", [b - a for a, b in zip(t0s, ag)])
            show("agent's INVITE -> customer's INVITE", [b - a for a, b in zip(ag, cu)])
            show("accept -> customer's phone gets INVITE", [b - a for a, b in zip(t0s, cu)])

        async def parallel(k, base):
            clients = await asyncio.gather(*[Agent.login(port, t) for t in crowd[:k]])
            for i in range(k):
                post(port, "+7496%07d" % (base + i), "many")
            offers = await asyncio.gather(*[c.wait("offer", 30) for c in clients])
            t0 = time.monotonic()
            ids = [o["task"]["id"] for o in offers]
            await asyncio.gather(*[c.send(type="accept", task=t) for c, t in zip(clients, ids)])

            async def outcome(c, tid):
                while True:
                    f = await c.wait("call", 40, task=tid)
                    if f["state"] == "talking":
                        return "talking", time.monotonic() - t0
                    if f["state"] == "ended":
                        return f.get("outcome", "?") + ": " + f.get("reason", ""), None
            res = await asyncio.gather(*[outcome(c, t) for c, t in zip(clients, ids)],
                                       return_exceptions=True)
            ok = [r[1] for r in res if not isinstance(r, Exception) and r[0] == "talking"]
            bad = [r if isinstance(r, Exception) else r[0] for r in res
                   if isinstance(r, Exception) or r[0] != "talking"]
            for c, t in zip(clients, ids):
                await c.send(type="hangup", task=t)
            await asyncio.gather(*[c.wait("call", 20, task=t, state="ended")
                                   for c, t in zip(clients, ids)], return_exceptions=True)
            for c, t in zip(clients, ids):
                await c.send(type="done", task=t)
            await asyncio.sleep(0.5)
            for c in clients:
                await c.ws.close()
            return ok, bad

        print("2. calls in parallel through one dialer (agents accept at once; both legs up):")
        base = 0
        for k in ramp:
            ok, bad = asyncio.run(parallel(k, base))
            base += k
            print("  %3d at once: %3d talking, last after %6.0f ms; failed %d%s"
                  % (k, len(ok), max(ok) * 1000 if ok else 0, len(bad),
                     (" (" + "; ".join(map(str, bad[:3])) + ")") if bad else ""))
            if bad:
                break
    finally:
        try:
            ctxd.stop()
        finally:
            for p in (engine, agents_phone, cust):
                p.stop()
            redis.stop()
            wd.cleanup()


if __name__ == "__main__":
    main()
