"""Chaos: the whole pipeline under steady load while its processes die.

A loopback Mastodon publishes a steady stream of toots about acme, angry and
happy; seven ctxd processes share one Redis, by role: collect (polling and
posting replies), analyze x2, route x2, serve x2. Agents on the serve nodes
accept what they are offered, answer each escalated toot once (a reply
posted back to Mastodon) and each web chat, and finish; customers open web
chats and resume them when their node goes. Meanwhile a killer sends
SIGKILL to a random role process every ~1 s (CTX_CHAOS_KILLS, at least 20)
and starts it again (which one and when: a new schedule each run, printed
as CTX_CHAOS_SEED to replay it); once, half way, it kills Redis itself and starts it on
its append-only file (appendfsync always: what Redis acknowledged is on
disk). Then the load stops, the processes are left alone, and once the
pipeline is quiet the test checks, from Redis and from what Mastodon
received:

- every toot is an item, tagged once (one entry in the tagged stream, one
  member of the all-items index) and counted once (the trend counters);
- every angry toot (the escalation rule: negative) has exactly one task,
  a happy one none;
- every task is in exactly one state, done, in no queue and held by no
  agent, and no agent holds load;
- every escalated toot got exactly one reply on Mastodon, in reply to it;
- every chat the customer opened ended, with the customer's first message
  kept once;
- nothing is left pending in any consumer group, nothing dead-lettered.
"""
import asyncio
import json
import os
import random
import signal
import subprocess
import time

import websockets

from harness import (CTXD, ROOT, Redis, Workdir, free_port, trend_count, trends_counted,
                     wait_for)
from mastodon_server import MastodonServer
from test_routing import add_agent

SECONDS = 33   # run.py starts the longest first

KILLS = int(os.environ.get("CTX_CHAOS_KILLS", "24"))
N_TOOTS = int(os.environ.get("CTX_CHAOS_TOOTS", "120"))
N_CHATS = 12
N_AGENTS = 4
ROLES = ["collect", "analyze", "analyze", "route", "route", "serve", "serve"]


class DurableRedis(Redis):
    """Redis with every write fsynced before it is acknowledged (a cluster
    too with CTX_TEST_REDIS_CLUSTER=1)."""
    EXTRA = ["--appendfsync", "always"]

    def ping(self):
        try:
            return super().ping()
        except RuntimeError:        # LOADING: reading its append-only file
            return False


class Proc:
    """One ctxd with some roles, its own config (its own listen port)."""

    def __init__(self, wd, n, role, cfg):
        self.role = role
        self.dir = os.path.join(wd, "p%d-%s" % (n, role))
        os.makedirs(self.dir)
        self.port = free_port()
        self.config = os.path.join(self.dir, "ctxd.json")
        with open(self.config, "w") as f:
            json.dump(dict(cfg, listen="127.0.0.1:%d" % self.port), f, indent=2)
        self.proc = None
        self.runs = 0
        self.logs = []

    def start(self):
        self.runs += 1
        path = os.path.join(self.dir, "ctxd.%d.log" % self.runs)
        self.logs.append(path)
        self.log = open(path, "wb")
        self.proc = subprocess.Popen([CTXD, "-c", self.config,
                                      "--roles", self.role], stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        if self.proc:
            self.log.close()

    def stop(self):
        """SIGTERM; returns the exit code. Only the last run must exit clean
        and say nothing of memory errors: the others were killed."""
        if not self.alive():
            return self.proc.returncode
        self.proc.terminate()
        try:
            rc = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "hung"
        self.log.close()
        return rc

    def sanitizer_errors(self):
        out = []
        for path in self.logs:
            with open(path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            for bad in ("ERROR: AddressSanitizer", "runtime error:"):
                if bad in text:
                    out.append("%s: %s" % (path, text[text.index(bad) - 200:][:1500]))
        return out


def serve_ports(procs):
    return [p.port for p in procs if p.role == "serve"]


class Agent:
    """Accepts every offer; answers a social task once (a reply to the
    toot) and a chat once (a chat message); then done. Reconnects to any
    serve node when its own goes."""

    def __init__(self, token, ports, rng, replied, stats):
        self.token, self.ports, self.rng = token, ports, rng
        self.replied, self.stats = replied, stats
        self.stop = False
        self.last = {}          # task -> the last accept or done sent for it

    async def run(self):
        while not self.stop:
            try:
                async with websockets.connect(
                        "ws://127.0.0.1:%d/ws/agent" % self.rng.choice(self.ports),
                        subprotocols=["ctx.agent.v1"], open_timeout=3) as ws:
                    await ws.send(json.dumps({"type": "hello", "token": self.token}))
                    await ws.send(json.dumps({"type": "state", "state": "available"}))
                    while not self.stop:
                        try:
                            raw = await asyncio.wait_for(ws.recv(), 0.5)
                        except asyncio.TimeoutError:
                            continue
                        await self.handle(ws, json.loads(raw))
            except (OSError, asyncio.TimeoutError, websockets.WebSocketException):
                self.stats["agent_reconnects"] += 1
                await asyncio.sleep(0.2)

    async def handle(self, ws, f):
        t = f.get("type")
        task = f.get("task") if isinstance(f.get("task"), dict) else {}
        tid, state = task.get("id"), task.get("state")
        if t == "error" and f.get("code") == "unavailable" and isinstance(f.get("task"), str):
            # Redis was away when the node ran it: the frame said so, and a
            # person would click again; nothing was changed, so send it again
            last = self.last.get(f["task"])
            if last:
                await asyncio.sleep(0.3)
                await ws.send(last)
            return
        if t == "state" and f.get("state") == "away":
            await ws.send(json.dumps({"type": "state", "state": "available"}))
        elif t == "offer" or (t == "resume" and state == "offered"):
            await self.send(ws, tid, {"type": "accept", "task": tid})
        elif t == "assigned" or (t == "resume" and state == "assigned"):
            if tid not in self.replied:
                self.replied.add(tid)
                text = "Sorry about that, we are on it (%s)" % tid
                await ws.send(json.dumps({"type": "reply", "task": tid, "text": text}))
                self.stats["replies_sent"] += 1
            await self.send(ws, tid, {"type": "done", "task": tid})

    async def send(self, ws, tid, frame):
        self.last[tid] = json.dumps(frame)
        await ws.send(self.last[tid])


async def customer(n, ports, rng, chats, stats):
    """Opens a chat, says one thing, and waits for an answer or the end,
    resuming the chat on another node when its connection goes."""
    task = key = None
    said = False
    await asyncio.sleep(n * 1.4)         # chats spread over the kills
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            async with websockets.connect("ws://127.0.0.1:%d/ws/chat" % rng.choice(ports),
                                          subprotocols=["ctx.chat.v1"], open_timeout=3) as ws:
                if task is None:
                    await ws.send(json.dumps({"type": "start", "name": "Cust%d" % n, "lang": "en"}))
                else:
                    await ws.send(json.dumps({"type": "resume", "task": task, "key": key}))
                while True:
                    f = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if f.get("type") == "started":
                        task, key = f["task"], f["key"]
                        chats[task] = "chat %d: my order is late" % n
                    if f.get("type") in ("started", "resumed") and not said:
                        await ws.send(json.dumps({"type": "message", "text": chats[task]}))
                        said = True
                    if f.get("type") == "error" and task is None:
                        break
                    if f.get("type") == "message" and \
                            (f.get("message") or {}).get("from") == "agent":
                        stats["chats_answered"] += 1
                    if f.get("type") == "closed":
                        stats["chats_closed"] += 1
                        return
        except (OSError, asyncio.TimeoutError, websockets.WebSocketException, KeyError):
            stats["customer_reconnects"] += 1
            await asyncio.sleep(0.3)


CHECK = r"""
local errs = {}
local items, tasks = cjson.decode(ARGV[1]), {}
local stream = {}
for _, e in ipairs(redis.call('XRANGE', 'ctx:{i}:items:tagged', '-', '+')) do
  local f = e[2]
  for i = 1, #f, 2 do if f[i] == 'id' then stream[f[i + 1]] = (stream[f[i + 1]] or 0) + 1 end end
end
for id, angry in pairs(items) do
  if redis.call('EXISTS', 'ctx:{i}:item:' .. id) == 0 then errs[#errs + 1] = id .. ' not an item' end
  if (stream[id] or 0) ~= 1 then errs[#errs + 1] = id .. ' in the tagged stream ' .. (stream[id] or 0) .. ' times' end
  if not redis.call('ZSCORE', 'ctx:{i}:idx:all', id) then errs[#errs + 1] = id .. ' not indexed' end
end
local by_item, n = {}, 0
local cursor = '0'
repeat
  local r = redis.call('SCAN', cursor, 'MATCH', 'ctx:{r}:task:*', 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do
    if redis.call('TYPE', k).ok == 'hash' then
      n = n + 1
      local f = redis.call('HMGET', k, 'state', 'channel', 'item', 'agent', 'queue')
      local id = string.sub(k, 10)
      if f[1] ~= 'done' and f[1] ~= 'abandoned' then errs[#errs + 1] = id .. ' is ' .. tostring(f[1]) end
      if f[5] and redis.call('ZSCORE', 'ctx:{r}:queue:' .. f[5] .. ':waiting', id) then
        errs[#errs + 1] = id .. ' ended but waiting in ' .. f[5]
      end
      if f[3] then by_item[f[3]] = (by_item[f[3]] or 0) + 1 end
      tasks[#tasks + 1] = {id, f[1], f[2], f[3]}
    end
  end
until cursor == '0'
for id, angry in pairs(items) do
  local want = angry and 1 or 0
  if (by_item[id] or 0) ~= want then
    errs[#errs + 1] = id .. (angry and ' (angry)' or ' (happy)') .. ' has ' .. (by_item[id] or 0) .. ' tasks'
  end
end
for _, a in ipairs(redis.call('SMEMBERS', 'ctx:{r}:agents')) do
  local held = redis.call('SMEMBERS', 'ctx:{r}:agent:' .. a .. ':tasks')
  if #held > 0 then errs[#errs + 1] = a .. ' still holds ' .. table.concat(held, ',') end
  for _, ch in ipairs({'social', 'chat', 'callback'}) do
    local l = tonumber(redis.call('HGET', 'ctx:{r}:agent:' .. a, 'load:' .. ch) or '0')
    if l ~= 0 then errs[#errs + 1] = a .. ' load:' .. ch .. '=' .. l end
  end
end
local pending = {}
for _, g in ipairs({{'ctx:{i}:items:raw', 'analyze'}, {'ctx:{i}:items:tagged', 'route'}, {'ctx:{r}:outbox', 'post'}}) do
  if redis.call('EXISTS', g[1]) == 1 then
    local p = redis.call('XPENDING', g[1], g[2])
    if p[1] ~= 0 then errs[#errs + 1] = g[2] .. ' has ' .. p[1] .. ' pending' end
  end
end
for _, k in ipairs({'ctx:{i}:items:dead', 'ctx:{i}:items:tagged:dead', 'ctx:{r}:outbox:dead'}) do
  if redis.call('EXISTS', k) == 1 and redis.call('XLEN', k) > 0 then
    errs[#errs + 1] = k .. ' holds ' .. redis.call('XLEN', k)
  end
end
return {errs, cjson.encode(tasks), redis.call('XLEN', 'ctx:{i}:items:raw')}
"""


def test_chaos_kills_lose_nothing_and_repeat_nothing():
    wd = Workdir("chaos")
    redis = DurableRedis(wd.path).start()
    masto = MastodonServer()
    masto.start()
    cfg = {
        "redis": "127.0.0.1:%d" % redis.port,
        "rules": os.path.join(ROOT, "etc", "rules"),
        "lexicons": os.path.join(ROOT, "etc", "lexicons"),
        "www": os.path.join(ROOT, "ws", "www"),
        "log_level": "info",
        "claim_idle": "2s",
        "presence_grace": "1s",
        "sources": [{"name": "acme-masto", "kind": "mastodon", "url": masto.url(), "tag": "acme",
                     "every": "0.3s", "token": "chaos-token"}],
        "queues": [{"name": "social", "offer_timeout": "3s"},
                   {"name": "chat", "channels": ["chat"], "offer_timeout": "3s"}],
        "chat_queue": "chat",
        "escalation": [{"queue": "social", "sentiment": "negative"}],
    }
    procs = [Proc(wd.path, i, r, cfg) for i, r in enumerate(ROLES)]
    seed = int(os.environ.get("CTX_CHAOS_SEED") or random.SystemRandom().randrange(1 << 30))
    print("    chaos seed %d (CTX_CHAOS_SEED=%d replays its schedule)" % (seed, seed), flush=True)
    rng = random.Random(seed)
    toots = {}           # toot id -> angry
    chats = {}           # chat task -> the customer's first message
    stats = {k: 0 for k in ["kills", "redis_restarts", "agent_reconnects", "customer_reconnects",
                            "replies_sent", "chats_answered", "chats_closed"]}
    try:
        tokens = [add_agent(procs[0], "ch%d" % i, "--capacity", "social=2,chat=2")
                  for i in range(N_AGENTS)]
        for p in procs:
            p.start()
        wait_for(lambda: all(_healthy(port) for port in serve_ports(procs)), 20,
                 what="serve nodes")

        async def killer():
            await asyncio.sleep(1.0)
            for k in range(KILLS):
                if k == KILLS // 2:
                    await asyncio.to_thread(redis.kill)
                    await asyncio.sleep(0.5)
                    await asyncio.to_thread(redis.start)
                    stats["redis_restarts"] += 1
                p = rng.choice(procs)
                p.kill()
                stats["kills"] += 1
                await asyncio.sleep(rng.uniform(0.1, 0.6))
                p.start()
                await asyncio.sleep(rng.uniform(0.4, 1.2))

        async def publisher():
            for i in range(N_TOOTS):
                angry = i % 3 == 0
                text = ("My @acme order %d never arrived, terrible service, I am furious" % i
                        if angry else "Lovely day with my acme kettle number %d, great kettle" % i)
                s = masto.add(text, acct="user%d" % (i % 17))
                toots["mastodon:127.0.0.1:%s" % s["id"]] = angry
                await asyncio.sleep(0.15)

        async def main():
            ports = serve_ports(procs)
            replied = set()
            agents = [Agent(tokens[i], ports, random.Random(i), replied, stats)
                      for i in range(N_AGENTS)]
            runners = [asyncio.ensure_future(a.run()) for a in agents]
            custs = [asyncio.ensure_future(
                customer(n, ports, random.Random(100 + n), chats, stats)) for n in range(N_CHATS)]
            await asyncio.gather(killer(), publisher())
            # quiet: every process up, let the pipeline drain
            for p in procs:
                if not p.alive():
                    p.start()
            await asyncio.gather(*custs, return_exceptions=True)
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                errs, _, raw = await asyncio.to_thread(
                    redis.cmd, "EVAL", CHECK, 0, json.dumps(toots))
                if not errs and raw == 0 and len(masto.replies()) >= len(replied_social(replied)):
                    break
                await asyncio.sleep(1)
            for a in agents:
                a.stop = True
            await asyncio.gather(*runners, return_exceptions=True)
            return replied

        replied = asyncio.run(main())
        assert stats["kills"] >= 20, stats
        errs, tasks, raw = redis.cmd("EVAL", CHECK, 0, json.dumps(toots))
        assert not errs, "after %r:\n%s" % (stats, "\n".join(errs[:30]))
        assert raw == 0, "%d raw entries left" % raw
        tasks = json.loads(tasks)
        # every escalated toot answered once on Mastodon, in reply to it
        made = masto.replies()
        per_toot = {}
        for s in made:
            per_toot[s["in_reply_to_id"]] = per_toot.get(s["in_reply_to_id"], 0) + 1
        angry_ids = [i.rsplit(":", 1)[1] for i, a in toots.items() if a]
        twice = {t: n for t, n in per_toot.items() if n > 1}
        assert not twice, "replies posted more than once: %r" % twice
        social = [t for t in tasks if t[2] == "social"]
        answered = {t[3] for t in social if t[0] in replied}
        missing = [t for t in angry_ids
                   if "mastodon:127.0.0.1:" + t in answered and t not in per_toot]
        assert not missing, "replies sent by agents but never posted: %r" % missing
        # chats: each ended, the customer's first message kept once
        for tid, first in chats.items():
            msgs = [json.loads(m) for m in redis.cmd("LRANGE", "ctx:{r}:chat:%s:messages" % tid, 0, -1)]
            n = sum(1 for m in msgs if m.get("text") == first)
            assert n == 1, "chat %s: first message kept %d times: %r" % (tid, n, msgs)
        # counted once: the trend counters' day buckets of "all" add up to
        # the items (a redelivered item is acknowledged, not counted again)
        trends_counted(redis)
        counted = 0
        for k in redis.cmd("KEYS", "ctx:{i}:tr:d:all:*"):
            h = redis.cmd("HGETALL", k)
            counted += sum(trend_count(v) for v in h[1::2])
        assert counted == len(toots), "trend counters say %d items, %d toots" % (counted, len(toots))
        bad = [e for p in procs for e in p.sanitizer_errors()]
        assert not bad, "\n".join(bad)
        for p in procs:
            assert p.stop() == 0, "%s did not stop cleanly" % p.role
        print("    %d toots (%d angry), %d chats, %d tasks, %d replies posted; %r"
              % (len(toots), len(angry_ids), len(chats), len(tasks), len(made), stats))
    finally:
        for p in procs:
            p.kill()
        masto.stop()
        redis.stop()
        wd.cleanup()


def replied_social(replied):
    return [t for t in replied if t.startswith("social:")]


def _healthy(port):
    import urllib.request
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False
