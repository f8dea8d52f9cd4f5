"""Soak: SOAK_MINUTES (default 60) of steady traffic through one ctxd with
every retention period short (SOAK_RETENTION, default 2m), to show that what
Redis and ctxd hold stops growing once retention catches up.

Traffic, on real parts (tests/integration/harness.py): a feed that gains a
new entry every second, a Mastodon hashtag that gains a toot every two
seconds (one in three angry: escalated to the support queue), two agents on
/ws/agent who accept every offer, answer toots (the reply is posted back to
the loopback Mastodon through the outbox) and finish, and a web-chat
customer every 15 s whom an agent answers and closes. An agent whose
connection drops connects again (the count is printed; presence_grace is
5 s, so its tasks are offered again).

Every minute it prints Redis used_memory, the key count (and how many keys
carry a TTL) and ctxd's RSS; at the end it compares the last third of the
run with the middle third and says whether memory is flat (grew by no more
than 10 %). Exit status 1 when it is not.

    make soak SOAK_MINUTES=10          # or: SOAK_MINUTES=10 python3 bench/soak.py
"""
import asyncio
import collections
import email.utils
import json
import os
import random
import subprocess
import sys
import threading
import time

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from feedserver import FeedServer  # noqa: E402
from harness import CTXD, ROOT, Ctxd, Redis, Workdir  # noqa: E402
from mastodon_server import MastodonServer  # noqa: E402

MINUTES = float(os.environ.get("SOAK_MINUTES", "60"))
RETENTION = os.environ.get("SOAK_RETENTION", "2m")
SAMPLE = float(os.environ.get("SOAK_SAMPLE_SECONDS", "60"))
CTXCTL = os.path.join(ROOT, "bin-san/ctxctl" if "bin-san" in CTXD else "bin/ctxctl")

WORDS = ("delivery parcel invoice refund router modem kettle app update login password "
         "outage billing courier warehouse screen battery charger support manager store "
         "weekend morning evening tariff contract discount coupon").split()
ANGRY = ["terrible service, I am furious", "awful, never again", "worst support ever, so angry",
         "a disgrace, I want my money back"]
HAPPY = ["great work, thank you", "love it, wonderful", "works nicely now, thanks",
         "happy with the quick answer"]


def words(n):
    return " ".join(random.choice(WORDS) for _ in range(n))


class Traffic:
    """The feed and the Mastodon hashtag, growing on their own threads."""

    def __init__(self, fs, masto):
        self.fs, self.masto = fs, masto
        self.entries = collections.deque(maxlen=20)
        self.lock = threading.Lock()
        self.n = 0
        self.made = 0
        self.stop = threading.Event()
        fs.generate = self.feed

    def feed(self, path):
        if path != "/acme.xml":
            return None
        with self.lock:
            items = "".join(reversed(self.entries))
        return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                '<title>Acme watch</title><link>http://127.0.0.1/</link>'
                '<description>soak</description><language>en</language>%s</channel></rss>\n'
                % items).encode()

    def run(self):
        while not self.stop.wait(1.0):
            with self.lock:
                self.n += 1
                n = self.n
                self.entries.append(
                    "<item><title>Acme %s</title><link>http://127.0.0.1/p/%d</link>"
                    "<guid isPermaLink=\"false\">soak-%d</guid><pubDate>%s</pubDate>"
                    "<description>The Acme %s: %s</description></item>"
                    % (words(2), n, n, email.utils.formatdate(usegmt=True), words(6),
                       random.choice(HAPPY)))
            self.made += 1
            if n % 2 == 0:
                angry = n % 6 == 0
                text = "My @acme %s %s, %s" % (words(3), n, random.choice(ANGRY if angry else HAPPY))
                s = self.masto.add(text, acct="user%d" % (n % 97))
                with self.masto.lock:
                    s["created_at"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
                    del self.masto.statuses[:-50]
                self.made += 1


async def agent_session(port, token, counts, stop):
    """One connection of an agent: accept every offer, answer and finish."""
    ws = await websockets.connect("ws://127.0.0.1:%d/ws/agent" % port,
                                  subprotocols=["ctx.agent.v1"], max_size=None)
    jobs = set()
    try:
        await ws.send(json.dumps({"type": "hello", "token": token}))
        while json.loads(await ws.recv()).get("type") != "welcome":
            pass
        await ws.send(json.dumps({"type": "state", "state": "available"}))

        async def finish(task, channel, item):
            await asyncio.sleep(random.uniform(0.5, 2.0))
            if channel == "chat" or ((item or {}).get("reply_to") or {}).get("network"):
                await ws.send(json.dumps({"type": "reply", "task": task,
                                          "text": "Sorry! " + words(4)}))
                counts["replies"] += 1
                await asyncio.sleep(0.3)
            await ws.send(json.dumps({"type": "done", "task": task}))
            counts["done"] += 1

        while not stop.is_set():
            try:
                f = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
            except asyncio.TimeoutError:
                continue
            if f.get("type") == "offer":
                await ws.send(json.dumps({"type": "accept", "task": f["task"]["id"]}))
            elif f.get("type") == "assigned":     # the task and its item, as in the offer
                t = f["task"]
                job = asyncio.ensure_future(finish(t["id"], t.get("channel"), f.get("item")))
                jobs.add(job)
                job.add_done_callback(jobs.discard)
    finally:
        for j in list(jobs):
            j.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)
        await ws.close()


async def agent(port, token, counts, stop):
    """An agent that connects again when its connection drops (its tasks go
    back to the queue after presence_grace and are offered again)."""
    while not stop.is_set():
        try:
            await agent_session(port, token, counts, stop)
        except (OSError, websockets.WebSocketException) as e:
            counts["drops"] += 1
            print("soak: an agent's connection dropped (%s); connecting again" % e, flush=True)
            await asyncio.sleep(1)


async def customers(port, counts, stop):
    while not stop.is_set():
        try:
            ws = await websockets.connect("ws://127.0.0.1:%d/ws/chat" % port,
                                          subprotocols=["ctx.chat.v1"])
            await ws.send(json.dumps({"type": "start", "name": "Carol", "lang": "en"}))
            while json.loads(await asyncio.wait_for(ws.recv(), 10)).get("type") != "started":
                pass
            await ws.send(json.dumps({"type": "message", "text": "Where is my %s?" % words(2)}))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                f = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
                if f.get("type") == "closed":
                    counts["chats"] += 1
                    break
            await ws.close()
        except (asyncio.TimeoutError, OSError, websockets.WebSocketException):
            pass
        for _ in range(15):
            if stop.is_set():
                break
            await asyncio.sleep(1)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sample(redis, ctxd, t0, traffic, counts):
    mem = int(redis.info("memory")["used_memory"])
    ks = redis.info("keyspace").get("db0", "keys=0,expires=0")
    kv = dict(x.split("=") for x in ks.split(","))
    return {"min": (time.monotonic() - t0) / 60, "used_memory": mem, "keys": int(kv["keys"]),
            "expires": int(kv["expires"]), "rss_kb": rss_kb(ctxd.proc.pid),
            "made": traffic.made, "done": counts["done"], "chats": counts["chats"]}


FAMILIES = [("item hash", "ctx:{i}:item:*"), ("task hash", "ctx:{r}:task:*"),
            ("chat messages", "ctx:{r}:chat:*"), ("reply hash", "ctx:{r}:reply:*"),
            ("simhash band", "ctx:{i}:simhash:*"), ("seen-set", "ctx:{i}:seen:*"),
            ("index", "ctx:{i}:idx:*"), ("tagged stream", "ctx:{i}:items:tagged"),
            ("event streams", "ctx:{r}:*events")]


def census(redis):
    """What each kind of key costs now (MEMORY USAGE ... SAMPLES 0: exact),
    and per entry for the sets, indexes and streams."""
    rows = []
    for name, pattern in FAMILIES:
        ks = redis.cmd("KEYS", pattern)
        size = sum(redis.cmd("MEMORY", "USAGE", k, "SAMPLES", "0") or 0 for k in ks)
        entries = 0
        for k in ks:
            t = redis.cmd("TYPE", k)
            entries += redis.cmd({"zset": "ZCARD", "stream": "XLEN", "list": "LLEN",
                                  "set": "SCARD"}.get(t, "EXISTS"), k)
        rows.append((name, len(ks), size, entries))
    return rows


def verdict(samples):
    """Mean of the last third against the middle third, per measure."""
    n = len(samples)
    mid = samples[n // 3: 2 * n // 3]
    last = samples[2 * n // 3:]
    out = {}
    for k in ("used_memory", "keys", "rss_kb"):
        a = sum(s[k] for s in mid) / len(mid)
        b = sum(s[k] for s in last) / len(last)
        out[k] = (a, b, (b - a) / a if a else 0.0)
    return out


def main():
    wd = Workdir("soak")
    redis = Redis(wd.path).start()
    feeds = os.path.join(wd.path, "feeds")
    os.makedirs(feeds)
    fs = FeedServer(feeds)
    fs.start()
    masto = MastodonServer()
    masto.start()
    traffic = Traffic(fs, masto)
    keep = {k: RETENTION for k in ("items", "tasks", "replies", "seen", "simhash", "events",
                                   "dead")}
    keep["sweep_every"] = "10s"
    ctxd = Ctxd(wd.path, redis.port,
                [{"name": "acme", "kind": "feed", "url": fs.url("acme.xml"), "every": "1s"},
                 {"name": "acme-masto", "kind": "mastodon", "url": masto.url(), "tag": "acme",
                  "every": "1s", "token": "soak"}],
                extra={"queues": [{"name": "support", "offer_timeout": "10s",
                                   "channels": ["social", "chat"]}],
                       "escalation": [{"queue": "support", "sentiment": "negative"}],
                       "presence_grace": "5s", "log_level": os.environ.get("SOAK_LOG", "info"), "retention": keep})
    tokens = []
    for aid in ("ann", "bob"):
        p = subprocess.run([CTXCTL, "-c", ctxd.config, "agent", "add", aid, "--name", aid,
                            "--capacity", "social=5,chat=3"], capture_output=True, text=True,
                           check=True)
        tokens.append(p.stdout.strip().splitlines()[-1])
    ctxd.start()
    gen = threading.Thread(target=traffic.run, daemon=True)
    gen.start()
    counts = collections.Counter()
    samples = []
    print("soak: %g minutes, retention %s, ctxd %s, redis on port %d"
          % (MINUTES, RETENTION, CTXD, redis.port), flush=True)
    print("%6s %12s %7s %8s %9s %7s %6s %6s" % ("min", "used_memory", "keys", "with_ttl",
                                                "ctxd_rss", "items", "tasks", "chats"),
          flush=True)

    async def run():
        stop = asyncio.Event()
        workers = [asyncio.ensure_future(agent(ctxd.port, t, counts, stop)) for t in tokens]
        workers.append(asyncio.ensure_future(customers(ctxd.port, counts, stop)))
        t0 = time.monotonic()
        end = t0 + MINUTES * 60
        next_at = t0
        while True:
            now = time.monotonic()
            if now >= next_at:
                s = sample(redis, ctxd, t0, traffic, counts)
                samples.append(s)
                print("%6.1f %12d %7d %8d %7d kB %7d %6d %6d"
                      % (s["min"], s["used_memory"], s["keys"], s["expires"], s["rss_kb"],
                         s["made"], s["done"], s["chats"]), flush=True)
                next_at += SAMPLE
            if now >= end or not ctxd.alive():
                break
            await asyncio.sleep(min(1.0, max(0.0, next_at - now)))
        stop.set()
        await asyncio.gather(*workers, return_exceptions=True)

    rc = 0
    try:
        asyncio.run(run())
        print("soak: what is held at the end (MEMORY USAGE):")
        for name, n, size, entries in census(redis):
            print("soak:   %-14s %6d keys %10d bytes  %8.0f bytes/key  %8.0f bytes/entry"
                  % (name, n, size, size / n if n else 0, size / entries if entries else 0))
        if not ctxd.alive():
            print("soak: ctxd died; see %s" % ctxd.log_path)
            rc = 1
        elif len(samples) >= 4:
            v = verdict(samples[1:])     # minute 0 is the empty start
            flat = True
            for k, (a, b, g) in v.items():
                ok = g <= 0.10
                flat = flat and ok
                print("soak: %-11s middle third %12.0f, last third %12.0f: %+.1f%% %s"
                      % (k, a, b, 100 * g, "flat" if ok else "GROWING"))
            s0, s1 = samples[0], samples[-1]
            print("soak: start %d bytes, %d keys, ctxd %d kB; end %d bytes, %d keys "
                  "(%d with a TTL), ctxd %d kB; %d items made, %d tasks done, %d chats, %d agent "
                  "connections dropped"
                  % (s0["used_memory"], s0["keys"], s0["rss_kb"], s1["used_memory"], s1["keys"],
                     s1["expires"], s1["rss_kb"], s1["made"], s1["done"], s1["chats"],
                     counts["drops"]))
            print("soak: memory is %s" % ("flat" if flat else "NOT flat"))
            rc = 0 if flat else 1
        else:
            print("soak: too short to judge (%d samples)" % len(samples))
    finally:
        traffic.stop.set()
        if ctxd.alive():
            ctxd.stop()
        masto.stop()
        fs.stop()
        redis.stop()
        wd.cleanup()
    return rc


if __name__ == "__main__":
    sys.exit(main())
