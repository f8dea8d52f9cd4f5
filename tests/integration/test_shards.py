"""The item pipeline cut into shards ("item_shards": 3, store/KEYS.md "Item
shards"), on a 3-master Redis Cluster and on one Redis (every shard on one
node): a feed of 30 entries is collected, each entry stored once in the shard
of its id (its hash, one tagged stream entry), /api/items answers them merged
newest first (and its limit takes the newest of all shards), /ws/monitor
catches up on every shard from `since` and then gets new items live, the
trend counters count each item once, and escalation makes one task per
negative item (a route group per shard); an item of any shard is found by id
(a reply to it), a shard's dead letters are listed and dropped by ctxctl,
/metrics and /healthz add the shards up, and the retention sweep runs in
every shard without an error; an analyzer with another item_shards logs an
error. On the cluster the three shards' tags are on
three different masters, each of which ran tag.lua and the sweeper's SCAN."""
import asyncio
import json
import os
import subprocess
import time

from feedserver import FeedServer
from harness import Cluster, Ctxd, Redis, Workdir, key_slot, wait_for
from test_collect import CTXCTL
from test_pipeline import entry, write_feed, ws_items
from test_replies import post

SHARDS = 3
# store/keys.c: the shards' domains (tags picked to spread over masters)
DOMAINS = ["ctx:{i}:", "ctx:{i:1}:", "ctx:{i:2.1}:"]
N = 30
ESCALATION = {
    "queues": [{"name": "support", "offer_timeout": "3s", "sla": "30s",
                "channels": ["social", "chat", "callback"]}],
    "escalation": [{"name": "angry", "queue": "support", "sentiment": "negative",
                    "priority": 5}],
}


def shard_of(item_id, n=SHARDS):
    """store_item_shard(): FNV-1a 32 of the id, mod n."""
    h = 2166136261
    for b in item_id.encode():
        h = ((h ^ b) * 16777619) & 0xffffffff
    return h % n


def entries(n0, n1):
    out = []
    for n in range(n0, n1):
        if n % 3 == 0:
            title, text = "Acme is down again", "Acme outage, terrible service, I am angry"
        else:
            title, text = "Love Acme", "Great work, the new Acme app is wonderful"
        out.append(entry(n, "%s %d" % (title, n), text))     # published 10:<n> (n < 60)
    return out


def run(redis_for, redis_cfg, wd):
    """The pipeline with item_shards 3; redis_for(key) is the harness.Redis
    holding key."""
    feeds = os.path.join(wd.path, "feeds")
    os.makedirs(feeds)
    feed = os.path.join(feeds, "acme.xml")
    write_feed(feed, entries(0, N))
    fs = FeedServer(feeds)
    fs.start()
    src = [{"name": "acme", "kind": "feed", "url": fs.url("acme.xml"), "every": "0.3s"}]
    extra = dict(ESCALATION, item_shards=SHARDS, log_level="info",
                 retention={"items": "3650d", "sweep_every": "1s"}, **redis_cfg)
    ctxd = Ctxd(wd.path, 0, src, extra=extra)
    try:
        ctxd.start()

        def items(limit=500):
            st, body = ctxd.http("/api/items?limit=%d" % limit, ok_only=False)
            return body["items"] if st == 200 else []
        wait_for(lambda: len(items()) == N, 30, what="%d items through 3 shards" % N)
        got = items()
        ids = [i["id"] for i in got]
        assert sorted(ids) == sorted("feed:acme:post-%d" % n for n in range(N)), ids
        pub = [i["published"] for i in got]
        assert pub == sorted(pub, reverse=True), "merged newest first: %r" % pub
        assert [i["id"] for i in items(5)] == ids[:5], "the limit takes the newest of all"
        # each stored once, in its shard, and every shard used
        per = [0] * SHARDS
        for i in ids:
            s = shard_of(i)
            per[s] += 1
            for t in range(SHARDS):
                key = DOMAINS[t] + "item:" + i
                assert bool(redis_for(key).cmd("EXISTS", key)) == (t == s), (key, s)
        assert all(per), "every shard holds items: %r" % per
        tagged = []
        for d in DOMAINS:
            key = d + "items:tagged"
            for _, f in redis_for(key).cmd("XRANGE", key, "-", "+"):
                tagged.append(dict(zip(f[::2], f[1::2]))["id"])
        assert sorted(tagged) == sorted(ids), "one tagged entry per item"
        # the monitor: every shard caught up from since=0, each item once
        frames = asyncio.run(ws_items(ctxd.port, N, since="0", timeout=15))
        seen = [f["item"]["id"] for f in frames if f.get("type") == "item"]
        assert sorted(seen) == sorted(ids), "monitor catch-up: %d of %d" % (len(seen), N)

        # then live: a monitor connected before 6 new entries gets them all
        async def live():
            task = asyncio.ensure_future(ws_items(ctxd.port, 6, timeout=15))
            await asyncio.sleep(1.0)
            write_feed(feed, entries(0, N + 6))
            return await task
        frames = asyncio.run(live())
        seen = sorted(f["item"]["id"] for f in frames if f.get("type") == "item")
        assert seen == sorted("feed:acme:post-%d" % n for n in range(N, N + 6)), seen
        # resume: since = /api/items' last_id (the newest of the shards'), then 3 more:
        # all 3 come, each once (and the last 5 s of every shard may come again)
        st, body = ctxd.http("/api/items?limit=1")
        last = body["last_id"]
        write_feed(feed, entries(0, N + 9))
        wait_for(lambda: len(items()) == N + 9, 20, what="%d items" % (N + 9))
        frames = asyncio.run(ws_items(ctxd.port, 100, since=last, timeout=3))
        seen = [f["item"]["id"] for f in frames if f.get("type") == "item"]
        assert len(seen) == len(set(seen)), "an item sent twice: %r" % seen
        assert {"feed:acme:post-%d" % n for n in range(N + 6, N + 9)} <= set(seen), seen
        total = N + 9
        wait_for(lambda: len(items()) == total, 20, what="%d items" % total)
        # trends: each item counted once (at its fetch time: the fixtures are old)
        for d in DOMAINS:
            key = d + "tr:pending"
            wait_for(lambda: redis_for(key).cmd("LLEN", key) == 0, 20,
                     what="the pending trend records of %s counted" % d)
        day = int(time.time()) // 86400 * 86400
        span = "from=%d&to=%d" % (day - 86400, day + 2 * 86400)
        st, body = ctxd.http("/api/trends?series=all&bucket=day&" + span)
        counts = sum(p["count"] for s in body["series"] if s["series"] == "all"
                     for p in s["points"])
        assert counts == total, "trend count %d, items %d" % (counts, total)
        st, body = ctxd.http("/api/trends/top?dim=brand&" + span)
        assert st == 200, body
        # escalation: a task per negative item, from every shard's route group
        negative = {i["id"] for i in items() if i["tags"]["sentiment"]["label"] == "negative"}
        assert negative, "some items are negative"
        tkey = lambda i: "ctx:{r}:task:social:" + i
        wait_for(lambda: all(redis_for(tkey(i)).cmd("EXISTS", tkey(i)) for i in negative), 20,
                 what="a task per negative item")
        others = [i for i in ids if i not in negative]
        assert not any(redis_for(tkey(i)).cmd("EXISTS", tkey(i)) for i in others)
        # an item's JSON by id, in every shard: a reply to it finds it (and is
        # refused: a feed takes no replies), an unknown id is not found
        for s in range(SHARDS):
            i = next(i for i in ids if shard_of(i) == s)
            st, body = post(ctxd.port, "/api/replies", {"item": i, "text": "Sorry!"})
            assert st == 409 and body["error"] == "no_replies", (i, st, body)
        st, body = post(ctxd.port, "/api/replies", {"item": "nope", "text": "x"})
        assert st == 404, (st, body)
        # a shard's dead letters: junk in shard 1's raw stream, listed, dropped
        raw1, dead1 = DOMAINS[1] + "items:raw", DOMAINS[1] + "items:dead"
        redis_for(raw1).cmd("XADD", raw1, "*", "id", "junk", "item", "{not json")
        wait_for(lambda: redis_for(dead1).cmd("XLEN", dead1) == 1, 10, what="junk dead-lettered")

        def ctxctl(*args):
            return subprocess.run([CTXCTL, "-c", ctxd.config, *args], capture_output=True,
                                  text=True, timeout=20)
        p = ctxctl("dead", "--json")
        letters = [json.loads(line) for line in p.stdout.splitlines()]
        assert p.returncode == 0 and len(letters) == 1, (p.stdout, p.stderr)
        assert letters[0]["stream"] == dead1 and letters[0]["from"] == raw1, letters
        p = ctxctl("dead", "drop", "analyze", letters[0]["letter"])
        assert p.returncode == 0 and "1 dropped" in p.stdout, (p.stdout, p.stderr)
        assert redis_for(dead1).cmd("XLEN", dead1) == 0
        # a letter in no shard is said to be missing once, not once a shard
        p = ctxctl("dead", "replay", "analyze", letters[0]["letter"])
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 1 and len(lines) == 1 and "missing in all 3 shards" in lines[0], \
            (p.stdout, p.stderr)
        assert "not found" not in p.stdout, p.stdout
        # the group figures add up the shards
        st, health = ctxd.http("/healthz", ok_only=False)
        assert health["groups"]["analyze"]["exists"], health
        assert health["groups"]["analyze"]["pending"] == 0, health
        assert health["groups"]["analyze"]["dead_letters"] == 0, health
        st, metrics = ctxd.http("/metrics", ok_only=False)
        assert st == 200 and "ctx_stream_entries" in metrics, (st, metrics[:300])
        # each shard's streams on lines of their own, by their key names
        for d in DOMAINS:
            for line in ('ctx_stream_entries{stream="%sitems:raw"}' % d,
                         'ctx_group_pending{stream="%sitems:raw",group="analyze"}' % d,
                         'ctx_dead_letter_entries{stream="%sitems:dead"}' % d):
                assert line in metrics, (line, metrics)
        # the sweeper went through every shard (sweep_every 1s)
        time.sleep(2.5)
        assert ctxd.stop() == 0
        log = ctxd.logtext()
        errors = [l for l in log.splitlines() if "ERROR" in l and "is not an item" not in l]
        assert not errors, errors[:5]
        assert "some steps failed" not in log, log[-2000:]
    finally:
        if ctxd.alive():
            ctxd.stop()
        fs.stop()


def test_shards_on_three_masters():
    wd = Workdir("shards-cluster")
    cluster = Cluster(wd.path, masters=3, replicas=0, timeout=2000)
    try:
        cluster.start()
        masters = ["127.0.0.1:%d" % p for p in {p for _, _, p in cluster.slots()}]
        ports = {cluster.node(d + "items:raw").port for d in DOMAINS}
        assert len(ports) == 3, "the shards' tags on 3 masters: slots %r" % [
            key_slot(d + "x") for d in DOMAINS]
        run(cluster.node, {"redis": masters}, wd)
        # the tag scripts and the sweeper's SCANs ran on every master
        for d in DOMAINS:
            stats = cluster.node(d + "items:raw").info("commandstats")
            assert "cmdstat_evalsha" in stats and "cmdstat_scan" in stats, (d, stats)
    finally:
        cluster.stop()
        wd.cleanup()


def test_shards_on_one_redis():
    wd = Workdir("shards-one")
    redis = Redis(wd.path).start()
    try:
        run(lambda key: redis, {"redis": "127.0.0.1:%d" % redis.port}, wd)
        # the count is recorded; an analyzer cutting items otherwise says so
        assert redis.cmd("GET", "ctx:{i}:item_shards") == str(SHARDS)
        os.makedirs(os.path.join(wd.path, "other"))
        other = Ctxd(os.path.join(wd.path, "other"), redis.port, [], extra={"item_shards": 2})
        other.start(wait=False, args=["--roles", "analyze"])
        try:
            wait_for(lambda: "item_shards is 2 here but 3" in other.logtext(), 10,
                     what="the mismatch logged")
        finally:
            assert other.stop() == 0
    finally:
        redis.stop()
        wd.cleanup()
