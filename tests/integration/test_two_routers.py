"""Correctness under concurrency: two ctxd processes (route + serve) share
one Redis while simulated agents, connected to either at random, accept,
reject, ignore (time out), finish, transfer and drop their connections,
and callbacks arrive through both nodes. Invariants are checked from Redis
atomically (one Lua script) while it runs and at the end: no task held by
two agents, no capacity exceeded, loads agree with the tasks held, at most
one offer per agent, every task in exactly one place, and none lost; and
what the scripts keep for routing at scale (the ready agents set, the
queues' live counts and arrivals) agrees with the tasks and agents."""
import asyncio
import json
import os
import random
import signal
import time
import urllib.request

import websockets

from harness import Ctxd, Redis, Workdir, wait_for
from test_routing import add_agent

SECONDS = 45   # run.py starts the longest first

N_TASKS = int(os.environ.get("CTX_STRESS_TASKS", "1500"))
N_AGENTS = 12

CHECK = r"""
local errs = {}
local owner = {}
for _, a in ipairs(redis.call('SMEMBERS', 'ctx:{r}:agents')) do
  local load, offers = 0, 0
  for _, t in ipairs(redis.call('SMEMBERS', 'ctx:{r}:agent:' .. a .. ':tasks')) do
    local f = redis.call('HMGET', 'ctx:{r}:task:' .. t, 'state', 'agent')
    if owner[t] then errs[#errs + 1] = t .. ' held by ' .. owner[t] .. ' and ' .. a end
    owner[t] = a
    if f[2] ~= a then errs[#errs + 1] = t .. ' in the set of ' .. a .. ' but agent=' .. tostring(f[2]) end
    if f[1] ~= 'offered' and f[1] ~= 'assigned' then
      errs[#errs + 1] = t .. ' is ' .. tostring(f[1]) .. ' in the set of ' .. a
    end
    load = load + 1
    if f[1] == 'offered' then offers = offers + 1 end
  end
  local h = redis.call('HMGET', 'ctx:{r}:agent:' .. a, 'load:callback', 'cap:callback', 'offers')
  if tonumber(h[1]) ~= load then errs[#errs + 1] = a .. ' load ' .. tostring(h[1]) .. ' holds ' .. load end
  if load > tonumber(h[2]) then errs[#errs + 1] = a .. ' over capacity: ' .. load end
  if offers > 1 then errs[#errs + 1] = a .. ' holds ' .. offers .. ' offers' end
  if (tonumber(h[3]) or 0) ~= offers then errs[#errs + 1] = a .. ' offers=' .. tostring(h[3]) .. ' holds ' .. offers end
  -- the ready set the scripts keep agrees with the agent (store/KEYS.md)
  local g = redis.call('HMGET', 'ctx:{r}:agent:' .. a, 'state', 'cap:social', 'load:social',
                       'cap:chat', 'load:chat')
  local st = g[1]
  local room = load < tonumber(h[2]) or (tonumber(g[2]) or 0) > (tonumber(g[3]) or 0) or
               (tonumber(g[4]) or 0) > (tonumber(g[5]) or 0)
  local ready = st == 'available' and offers == 0 and room
  if ready ~= (redis.call('SISMEMBER', 'ctx:{r}:agents:ready', a) == 1) then
    errs[#errs + 1] = a .. ' is ' .. tostring(st) .. ' with ' .. load .. ' tasks, ready set says otherwise'
  end
end
local live = {}
local counts = {}
for _, t in ipairs(ARGV) do
  local f = redis.call('HMGET', 'ctx:{r}:task:' .. t, 'state', 'agent', 'queue')
  local st = f[1]
  if not st then errs[#errs + 1] = t .. ' lost' else
    counts[st] = (counts[st] or 0) + 1
    if st == 'offered' or st == 'assigned' then
      live[f[3] .. ':' .. st] = (live[f[3] .. ':' .. st] or 0) + 1
    end
    local arr = redis.call('ZSCORE', 'ctx:{r}:queue:' .. f[3] .. ':arrivals', t)
    if (st == 'queued') ~= (arr ~= false) then
      errs[#errs + 1] = t .. ' is ' .. st .. ' and ' .. (arr and '' or 'not ') .. 'in the arrivals'
    end
    local inq = redis.call('ZSCORE', 'ctx:{r}:queue:' .. f[3] .. ':waiting', t)
    if st == 'queued' then
      if not inq then errs[#errs + 1] = t .. ' queued but not waiting in ' .. f[3] end
      if owner[t] then errs[#errs + 1] = t .. ' queued but held by ' .. owner[t] end
    else
      if inq then errs[#errs + 1] = t .. ' is ' .. st .. ' and waiting too' end
      if (st == 'offered' or st == 'assigned') and owner[t] ~= f[2] then
        errs[#errs + 1] = t .. ' ' .. st .. ' to ' .. tostring(f[2]) .. ' but held by ' .. tostring(owner[t])
      end
    end
  end
end
-- the live counts the scripts keep agree with the tasks
for _, q in ipairs({'a', 'b'}) do
  for _, s in ipairs({'offered', 'assigned'}) do
    local kept = tonumber(redis.call('HGET', 'ctx:{r}:queues:live', q .. ':' .. s) or '0')
    if kept ~= (live[q .. ':' .. s] or 0) then
      errs[#errs + 1] = 'queue ' .. q .. ' ' .. s .. ': kept ' .. kept .. ', counted ' .. (live[q .. ':' .. s] or 0)
    end
  end
end
return {errs, cjson.encode(counts)}
"""


def check(redis, tasks):
    errs, counts = redis.cmd("EVAL", CHECK, 0, *tasks)
    assert not errs, "invariants broken:\n" + "\n".join(errs[:20])
    return json.loads(counts)


class Agent:
    def __init__(self, name, token, nodes, rng, stats):
        self.name, self.token, self.nodes, self.rng, self.stats = name, token, nodes, rng, stats
        self.ws = None
        self.stop = False

    async def run(self):
        while not self.stop:
            port = self.rng.choice(self.nodes)
            try:
                self.ws = await websockets.connect("ws://127.0.0.1:%d/ws/agent" % port,
                                                   subprotocols=["ctx.agent.v1"])
                await self.ws.send(json.dumps({"type": "hello", "token": self.token}))
                await self.ws.send(json.dumps({"type": "state", "state": "available"}))
                life = time.monotonic() + self.rng.uniform(2, 8)
                while not self.stop and time.monotonic() < life:
                    try:
                        raw = await asyncio.wait_for(self.ws.recv(), 0.5)
                    except asyncio.TimeoutError:
                        continue
                    await self.handle(json.loads(raw))
                await self.ws.close()
                self.stats["disconnects"] += 1
                await asyncio.sleep(self.rng.uniform(0, 1.5))   # sometimes past the grace
            except (OSError, websockets.WebSocketException):
                await asyncio.sleep(0.2)

    async def send(self, **m):
        try:
            await self.ws.send(json.dumps(m))
        except websockets.WebSocketException:
            pass

    async def later(self, delay, **m):
        await asyncio.sleep(delay)
        await self.send(**m)

    async def handle(self, f):
        t = f.get("type")
        task = (f.get("task") or {}).get("id") if isinstance(f.get("task"), dict) else None
        state = (f.get("task") or {}).get("state") if isinstance(f.get("task"), dict) else None
        if t == "state" and f.get("state") == "away":
            await self.send(type="state", state="available")
        if t == "offer" or (t == "resume" and state == "offered"):
            x = self.rng.random()
            if x < 0.7:
                self.stats["accepts"] += 1
                asyncio.ensure_future(self.later(self.rng.uniform(0, 0.05), type="accept", task=task))
            elif x < 0.9:
                self.stats["rejects"] += 1
                await self.send(type="reject", task=task)
            else:
                self.stats["ignored"] += 1          # let it time out
        elif t == "assigned" or (t == "resume" and state == "assigned"):
            if self.rng.random() < 0.1:
                self.stats["transfers"] += 1
                await self.send(type="transfer", task=task, queue=self.rng.choice(["a", "b"]))
            else:
                self.stats["dones"] += 1
                asyncio.ensure_future(self.later(self.rng.uniform(0, 0.2), type="done", task=task))


def test_two_routers_keep_the_invariants():
    wd = Workdir("two-routers")
    redis = Redis(wd.path).start()
    queues = {"queues": [{"name": "a", "offer_timeout": "1s", "max_no_answer": 3},
                         {"name": "b", "offer_timeout": "1s", "strategy": "round-robin"}],
              "presence_grace": "0.5s"}
    nodes = []
    for i in range(2):
        os.makedirs(os.path.join(wd.path, "n%d" % i))
        nodes.append(Ctxd(os.path.join(wd.path, "n%d" % i), redis.port, [],
                          extra=dict(queues, log_level="info")))
    rng = random.Random(20261122)
    try:
        for n in nodes:
            n.start()
        tokens = [add_agent(nodes[0], "ag%02d" % i, "--capacity", "callback=2")
                  for i in range(N_AGENTS)]
        stats = {k: 0 for k in ["accepts", "rejects", "ignored", "dones", "transfers",
                                "disconnects"]}
        tasks = []

        def create(i):
            port = nodes[i % 2].port
            body = json.dumps({"phone": "+7495%07d" % i, "queue": "a" if i % 3 else "b"}).encode()
            req = urllib.request.Request("http://127.0.0.1:%d/api/callbacks" % port, data=body,
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read())["task"]["id"]

        async def main():
            agents = [Agent("ag%02d" % i, tokens[i], [n.port for n in nodes], random.Random(i),
                            stats) for i in range(N_AGENTS)]
            runners = [asyncio.ensure_future(a.run()) for a in agents]
            checks = 0
            for i in range(N_TASKS):
                tasks.append(await asyncio.to_thread(create, i))
                if i % 250 == 249:
                    await asyncio.to_thread(check, redis, tasks)
                    checks += 1
                if i % 20 == 0:
                    await asyncio.sleep(0.05)
            # let the agents finish everything
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                counts = await asyncio.to_thread(check, redis, tasks)
                checks += 1
                if counts.get("done", 0) == len(tasks):
                    break
                await asyncio.sleep(0.5)
            for a in agents:
                a.stop = True
            await asyncio.gather(*runners, return_exceptions=True)
            return counts, checks
        counts, checks = asyncio.run(main())
        assert counts.get("done", 0) == len(tasks), "not all done: %r" % counts
        print("    %d tasks through 2 routers and %d agents: %r; %d invariant checks"
              % (len(tasks), N_AGENTS, stats, checks))
        for n in nodes:
            assert n.stop() == 0
    finally:
        for n in nodes:
            if n.alive():
                n.stop(signal.SIGKILL)
        redis.stop()
        wd.cleanup()
