"""Routing with Redis in the loop, on real parts.

1. Latency: agents connected over /ws/agent, always free; callbacks arrive
   one at a time; the time from the task being queued (its `arrived`,
   stamped in Redis) to the offer frame reaching the agent: p50 / p99.
2. (--throughput) Decisions per second: a backlog of tasks, then agents with
   plenty of capacity become available and accept at once; offers per second
   until the backlog is gone, with one router and with two. The 20 Python
   agents bound it; bench/routing_load.py is the routers' figure.
"""
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from harness import ROOT, Ctxd, Redis, Workdir, wait_for  # noqa: E402

CTXCTL = os.path.join(ROOT, "bin", "ctxctl")


def add_agent(cfg, aid, cap):
    p = subprocess.run([CTXCTL, "-c", cfg, "agent", "add", aid, "--capacity",
                        "callback=%d" % cap], capture_output=True, text=True, check=True)
    return p.stdout.strip().splitlines()[-1]


def post(port, i):
    body = json.dumps({"phone": "+7495%07d" % i}).encode()
    req = urllib.request.Request("http://127.0.0.1:%d/api/callbacks" % port, data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())["task"]


async def agent_loop(port, token, on_offer, stop):
    async with websockets.connect("ws://127.0.0.1:%d/ws/agent" % port,
                                  subprotocols=["ctx.agent.v1"], max_queue=None) as ws:
        await ws.send(json.dumps({"type": "hello", "token": token}))
        await ws.send(json.dumps({"type": "state", "state": "available"}))
        while not stop.is_set():
            try:
                f = json.loads(await asyncio.wait_for(ws.recv(), 0.2))
            except asyncio.TimeoutError:
                continue
            if f["type"] == "offer":
                on_offer(f, time.time())
                await ws.send(json.dumps({"type": "accept", "task": f["task"]["id"]}))
            elif f["type"] == "assigned":
                await ws.send(json.dumps({"type": "done", "task": f["task"]["id"]}))


def latency(n=200):
    wd = Workdir("bench-route-lat")
    redis = Redis(wd.path).start()
    c = Ctxd(wd.path, redis.port, [], extra={"queues": [{"name": "q"}], "log_level": "warn"})
    try:
        c.start()
        tokens = [add_agent(c.config, "a%d" % i, 1) for i in range(4)]
        lat = []

        def on_offer(f, t):
            lat.append(t * 1000 - int(f["task"]["arrived"]))

        async def run():
            stop = asyncio.Event()
            ags = [asyncio.ensure_future(agent_loop(c.port, t, on_offer, stop)) for t in tokens]
            await asyncio.sleep(0.5)
            for i in range(n):
                await asyncio.to_thread(post, c.port, i)
                await asyncio.sleep(0.02)
            await asyncio.to_thread(wait_for, lambda: len(lat) >= n, 30, 0.05, "offers")
            stop.set()
            await asyncio.gather(*ags, return_exceptions=True)
        try:
            asyncio.run(run())
        except Exception:
            print(c.logtext()[-3000:])
            raise
        lat.sort()
        print("queued -> offer frame at the agent, %d tasks: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
              % (len(lat), statistics.median(lat), lat[int(len(lat) * 0.99) - 1], lat[-1]))
    finally:
        c.stop(signal.SIGTERM)
        redis.stop()
        wd.cleanup()


def throughput(routers, backlog=5000, agents=20, cap=400):
    wd = Workdir("bench-route-tput")
    redis = Redis(wd.path).start()
    nodes = []
    try:
        for i in range(routers):
            d = os.path.join(wd.path, "n%d" % i)
            os.makedirs(d)
            nodes.append(Ctxd(d, redis.port, [], extra={"queues": [{"name": "q"}],
                                                        "log_level": "warn"}))
            nodes[-1].start()
        tokens = [add_agent(nodes[0].config, "a%d" % i, cap) for i in range(agents)]
        for i in range(backlog):
            post(nodes[i % routers].port, i)
        got = []

        async def run():
            stop = asyncio.Event()
            t0 = time.time()
            ags = [asyncio.ensure_future(agent_loop(nodes[i % routers].port, t,
                                                    lambda f, t: got.append(t), stop))
                   for i, t in enumerate(tokens)]
            await asyncio.to_thread(wait_for, lambda: len(got) >= backlog, 120, 0.05, "offers")
            dt = max(got) - t0
            stop.set()
            await asyncio.gather(*ags, return_exceptions=True)
            return dt
        try:
            dt = asyncio.run(run())
        except Exception:
            print("got %d offers; waiting %s" % (len(got), redis.cmd("ZCARD", "ctx:{r}:queue:q:waiting")))
            print(nodes[0].logtext()[-2000:])
            raise
        print("%d router%s: %d offers accepted and done in %.2f s = %.0f decisions/s "
              "(Redis in the loop, %d agents over websockets)"
              % (routers, "s" if routers > 1 else "", backlog, dt, backlog / dt, agents))
    finally:
        for n in nodes:
            n.stop(signal.SIGTERM)
        redis.stop()
        wd.cleanup()


if __name__ == "__main__":
    latency()
    # decisions/s with 20 Python agents measures the agents (about 2,000/s with
    # one router, less with two): bench/routing_load.py measures the routers;
    # --throughput still runs this one
    if "--throughput" in sys.argv:
        throughput(1)
        throughput(2)
