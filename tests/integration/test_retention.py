"""Retention on real parts, with every period a few seconds: items, tasks,
replies, simhash lists expire by TTL; the sweeper trims the indexes, the
seen-sets and the streams by age -- never past what a consumer group has not
been delivered or still has pending -- while an open task and its item stay.
A seen-set from before retention (a SET) is read and converted, losing
nothing; an item stored before retention (no TTL) is forgotten with its
index entry; an old item backfilled now is stored but not indexed."""
import asyncio
import email.utils
import json
import os
import subprocess
import time

from feedserver import FeedServer
from harness import ROOT, Ctxd, Redis, Workdir, store_tagged, wait_for
from mastodon_server import MastodonServer
from test_pipeline import entry, write_feed
from test_routing import Client, add_agent, login, routing_rig, typ

RETENTION = {"items": "5s", "tasks": "3s", "replies": "3s", "seen": "3s", "simhash": "3s",
             "events": "3s", "dead": "3s", "sweep_every": "0.5s"}


def rfc822(t):
    return email.utils.formatdate(t, usegmt=True)


def now_entry(n, title, text):
    """A feed entry published now, as test_pipeline.entry() makes them."""
    return ("<item><title>%s</title><link>http://127.0.0.1/p/%d</link>"
            "<guid isPermaLink=\"false\">post-%d</guid><pubDate>%s</pubDate>"
            "<description>%s</description></item>\n" % (title, n, n, rfc822(time.time()), text))


def keys(redis, pattern):
    return sorted(redis.cmd("KEYS", pattern))


def with_ttl(redis, ks):
    return [k for k in ks if redis.cmd("PTTL", k) > 0]


def test_retention_everywhere():
    wd = Workdir("retention")
    redis = Redis(wd.path).start()
    feeds = os.path.join(wd.path, "feeds")
    os.makedirs(feeds)
    feed = os.path.join(feeds, "acme.xml")
    angry_feed = now_entry(1, "Acme Cloud is down", "Acme is down again, this outage is "
                           "terrible and I am angry.")
    happy = now_entry(2, "Love the new Acme app", "Great work, the new Acme app is wonderful!")
    old = entry(3, "Acme in 2020", "An old post about the Acme app, backfilled.",
                date="Mon, 06 Jan 2020 10:%02d:00 GMT")
    preseen = now_entry(9, "Seen before the upgrade", "Acme app review from last year.")
    write_feed(feed, [angry_feed, happy, old, preseen])
    fs = FeedServer(feeds)
    fs.start()
    masto = MastodonServer()
    masto.start()
    toot = masto.add("My @acme order never arrived, terrible service, I am furious")
    toot["created_at"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    c = Ctxd(wd.path, redis.port,
             [{"name": "acme", "kind": "feed", "url": fs.url("acme.xml"), "every": "0.3s"},
              {"name": "acme-masto", "kind": "mastodon", "url": masto.url(), "tag": "acme",
               "every": "0.3s", "token": "t0k3n"}],
             extra={"queues": [{"name": "support", "offer_timeout": "20s"}],
                    "escalation": [{"queue": "support", "sentiment": "negative"}],
                    "presence_grace": "1h",
                    "retention": RETENTION})
    try:
        # before ctxd: a seen-set as an older ctxd kept it (a SET), and two groups
        # that lag: one that never reads the routing events, one that will leave
        # an agent event pending
        redis.cmd("SADD", "ctx:{i}:seen:acme", "feed:acme:post-9")
        redis.cmd("XGROUP", "CREATE", "ctx:{r}:routing:events", "laggard", "$", "MKSTREAM")
        redis.cmd("XGROUP", "CREATE", "ctx:{r}:agent-events", "slow", "$", "MKSTREAM")
        token = add_agent(c, "ann")
        c.start()
        masto_item = "mastodon:127.0.0.1:%s" % toot["id"]
        feed_item = "feed:acme:post-1"

        async def scenario():
            ann, _ = await login(c.port, token)
            tasks = {}
            for _ in range(2):
                offer = await ann.expect(typ("offer"), 20, "offers of the two angry items")
                tasks[offer["item"]["id"]] = offer["task"]["id"]
                await ann.send(type="accept", task=offer["task"]["id"])
                await ann.expect(typ("assigned"), what="assigned")
            assert set(tasks) == {feed_item, masto_item}, tasks
            # the feed's task is done; the Mastodon one is answered and stays open
            await ann.send(type="done", task=tasks[feed_item])
            await ann.send(type="reply", task=tasks[masto_item], text="Sorry! DM us.")
            posted = await ann.expect(typ("reply_status", status="posted"), 20, "posted")
            await ann.ws.close()    # its tasks stay with it: presence_grace is an hour
            return tasks, posted["reply"]
        tasks, reply = asyncio.run(scenario())

        # everything written with an end has a TTL
        wait_for(lambda: redis.cmd("EXISTS", "ctx:{i}:item:feed:acme:post-2"), what="item 2")
        items = keys(redis, "ctx:{i}:item:*")
        assert set(items) >= {"ctx:{i}:item:" + feed_item, "ctx:{i}:item:" + masto_item,
                              "ctx:{i}:item:feed:acme:post-2",
                              "ctx:{i}:item:feed:acme:post-3"}, items
        assert with_ttl(redis, items) == items, "items without a TTL: %r" % items
        assert redis.cmd("PTTL", "ctx:{r}:task:" + tasks[feed_item]) > 0, "done task without TTL"
        assert redis.cmd("PTTL", "ctx:{r}:task:" + tasks[masto_item]) == -1, "open task with a TTL"
        wait_for(lambda: redis.cmd("PTTL", "ctx:{r}:reply:" + reply) > 0, what="settled reply TTL")
        bands = keys(redis, "ctx:{i}:simhash:*")
        assert bands and with_ttl(redis, bands) == bands, bands
        census = {"keys": redis.cmd("DBSIZE"),
                  "with_ttl": sum(1 for k in redis.cmd("KEYS", "*") if redis.cmd("PTTL", k) > 0)}
        # the pre-upgrade seen-set was read (post-9 never collected) and converted
        assert redis.cmd("TYPE", "ctx:{i}:seen:acme") == "zset"
        assert redis.cmd("ZSCORE", "ctx:{i}:seen:acme", "feed:acme:post-9") is not None
        assert not redis.cmd("EXISTS", "ctx:{i}:item:feed:acme:post-9")
        # the backfilled 2020 item is stored and tagged, not indexed
        assert redis.cmd("ZSCORE", "ctx:{i}:idx:all", "feed:acme:post-3") is None
        assert redis.cmd("ZSCORE", "ctx:{i}:idx:all", "feed:acme:post-2") is not None
        # an item stored before retention (no TTL), long past `items`: forgotten
        old_item = {"id": "feed:acme:old-1", "source": "acme", "kind": "blog",
                    "text": "from an older ctxd", "lang": "en",
                    "published": "2026-11-22T10:00:00Z", "fetched": "2026-11-22T10:00:03Z",
                    "tags": {"sentiment": {"score": 0.0, "label": "neutral"}, "topics": [],
                             "brands": ["acme"], "urgent": False,
                             "complaint": {"score": 0.0, "label": False, "reasons": []}}}
        store_tagged(redis, [old_item])
        # the open task's item as if stored before retention too (no TTL): the
        # sweeper gives it one (read in {r}, extended in {i}) before it forgets
        # the items without one
        redis.cmd("PERSIST", "ctx:{i}:item:" + masto_item)
        # the slow group reads every agent event and acks all but the third
        got = redis.cmd("XREADGROUP", "GROUP", "slow", "c1", "COUNT", "10000", "STREAMS",
                        "ctx:{r}:agent-events", ">")[0][1]
        assert len(got) >= 4, got
        ids = [e[0] for e in got]
        redis.cmd("XACK", "ctx:{r}:agent-events", "slow", *(ids[:2] + ids[3:]))
        routing_first = redis.cmd("XRANGE", "ctx:{r}:routing:events", "-", "+", "COUNT", "1")[0][0]
        routing_len = redis.cmd("XLEN", "ctx:{r}:routing:events")
        # the feed drops post-2: the seen-set forgets it `seen` after the feed's next change
        time.sleep(3.5)
        write_feed(feed, [angry_feed, old, preseen])

        # after the retention periods (and a few sweeps)
        def settled():
            return (not redis.cmd("EXISTS", "ctx:{i}:item:" + feed_item) and
                    not redis.cmd("EXISTS", "ctx:{r}:task:" + tasks[feed_item]) and
                    not redis.cmd("EXISTS", "ctx:{r}:reply:" + reply) and
                    not keys(redis, "ctx:{i}:idx:*") and not keys(redis, "ctx:{i}:simhash:*") and
                    redis.cmd("ZSCORE", "ctx:{i}:seen:acme", "feed:acme:post-2") is None and
                    redis.cmd("XLEN", "ctx:{i}:items:tagged") == 0 and
                    redis.cmd("XLEN", "ctx:{r}:replies:events") == 0 and
                    not redis.cmd("EXISTS", "ctx:{i}:item:feed:acme:old-1"))
        wait_for(settled, timeout=30, step=0.25, what="retention to remove what expired: %r"
                 % sorted(redis.cmd("KEYS", "*")))
        # the open task and its item stay (the item kept alive by the sweeper)
        t = redis.cmd("HGETALL", "ctx:{r}:task:" + tasks[masto_item])
        t = dict(zip(t[::2], t[1::2]))
        assert t.get("state") == "assigned" and t.get("item") == masto_item, t
        assert redis.cmd("EXISTS", "ctx:{i}:item:" + masto_item), "an open task's item vanished"
        assert redis.cmd("PTTL", "ctx:{i}:item:" + masto_item) > 0
        # the other items went with their TTL
        assert keys(redis, "ctx:{i}:item:*") == ["ctx:{i}:item:" + masto_item], \
            keys(redis, "ctx:{i}:item:*")
        # seen ids the sources still serve are remembered, so nothing comes back
        seen = redis.cmd("ZRANGE", "ctx:{i}:seen:acme", 0, -1)
        assert set(seen) == {"feed:acme:post-1", "feed:acme:post-3", "feed:acme:post-9"}, seen
        # streams: the laggard's undelivered routing events are all there
        assert redis.cmd("XRANGE", "ctx:{r}:routing:events", "-", "+", "COUNT", "1")[0][0] == \
            routing_first
        assert redis.cmd("XLEN", "ctx:{r}:routing:events") >= routing_len
        # the agent events go up to the slow group's pending entry, not past it
        first = redis.cmd("XRANGE", "ctx:{r}:agent-events", "-", "+", "COUNT", "1")[0][0]
        assert first == ids[2], (first, ids[:4])
        left = sorted(redis.cmd("KEYS", "*"))
        # the sweep's lease is control's, and nothing retention wrote is untagged
        assert redis.cmd("GET", "ctx:{c}:lease:retention")
        assert redis.cmd("PTTL", "ctx:{c}:lease:retention") > 0
        assert all(k.startswith(("ctx:{i}:", "ctx:{r}:", "ctx:{c}:")) for k in left), left
        print("    keys: %d (%d with a TTL) after the flow; %d after retention: %s"
              % (census["keys"], census["with_ttl"], len(left), " ".join(left)))
        assert c.stop() == 0
        assert "retention: sweep" in c.logtext()
    finally:
        if c.alive():
            c.stop()
        masto.stop()
        fs.stop()
        redis.stop()
        wd.cleanup()


def test_chats_expire_when_they_end():
    """A web chat abandoned by its customer and one an agent finished both
    expire `tasks` after they end, with their messages; the chat events
    stream, with no group, is trimmed by age."""
    rig = routing_rig("retention-chats")
    with open(rig.ctxd.config) as f:
        cfg = json.load(f)
    cfg["retention"] = {"tasks": "2s", "events": "2s", "sweep_every": "0.5s"}
    with open(rig.ctxd.config, "w") as f:
        json.dump(cfg, f)
    write_feed(rig.feed, [])
    redis = rig.redis
    try:
        token = add_agent(rig, "ann")
        rig.ctxd.start()
        port = rig.ctxd.port

        async def scenario():
            ann, _ = await login(port, token)
            left = await Client.connect(port, "/ws/chat", "ctx.chat.v1")
            await left.send(type="start", name="Dan", lang="en")
            t1 = (await left.expect(typ("started")))["task"]
            # ann is offered Dan's chat but does not answer before Dan leaves
            await left.send(type="message", text="Hello?")
            await ann.expect(typ("offer"), what="offer of Dan's chat")
            await left.send(type="end")
            await left.expect(typ("ended"))
            cust = await Client.connect(port, "/ws/chat", "ctx.chat.v1")
            await cust.send(type="start", name="Carol", lang="en")
            t2 = (await cust.expect(typ("started")))["task"]
            await cust.send(type="message", text="My order is late")
            offer = await ann.expect(typ("offer"), 15, "offer of Carol's chat")
            while offer["task"]["id"] != t2:
                offer = await ann.expect(typ("offer"), 15, "offer of Carol's chat")
            await ann.send(type="accept", task=t2)
            await ann.expect(typ("assigned"))
            await ann.send(type="reply", task=t2, text="Checking")
            await cust.expect(typ("message"))
            # while it is open, nothing of it expires
            assert redis.cmd("PTTL", "ctx:{r}:task:" + t2) == -1
            assert redis.cmd("PTTL", "ctx:{r}:chat:%s:messages" % t2) == -1
            await ann.send(type="done", task=t2)
            await cust.expect(typ("closed"))
            for c in (ann, cust, left):
                await c.ws.close()
            return t1, t2
        t1, t2 = asyncio.run(scenario())
        wait_for(lambda: redis.cmd("HGET", "ctx:{r}:task:" + t1, "state") == "abandoned",
                 what="Dan's chat abandoned")
        for t in (t1, t2):
            assert redis.cmd("PTTL", "ctx:{r}:task:" + t) > 0, t
            assert redis.cmd("PTTL", "ctx:{r}:chat:%s:messages" % t) > 0, t
        assert redis.cmd("XLEN", "ctx:{r}:chat-events") > 0
        wait_for(lambda: not keys(redis, "ctx:{r}:task:*") and
                 not keys(redis, "ctx:{r}:chat:*") and
                 redis.cmd("XLEN", "ctx:{r}:chat-events") == 0, 15, 0.2,
                 "chats and their events gone: %r" % sorted(redis.cmd("KEYS", "*")))
    finally:
        rig.close()


def test_upgrade_script_gives_old_keys_their_ttl():
    """scripts/retention-upgrade.sh: keys an older ctxd wrote without a TTL get
    the one ctxd now sets as it writes; open tasks and queued replies keep none."""
    wd = Workdir("retention-upgrade")
    redis = Redis(wd.path).start()
    try:
        now = int(time.time() * 1000)
        redis.cmd("HSET", "ctx:{r}:task:t1", "state", "done", "finished", now - 1000)
        redis.cmd("RPUSH", "ctx:{r}:chat:t1:messages", "{}")
        redis.cmd("HSET", "ctx:{r}:task:t2", "state", "assigned")
        redis.cmd("RPUSH", "ctx:{r}:chat:t2:messages", "{}")
        redis.cmd("HSET", "ctx:{r}:reply:r1", "status", "posted")
        redis.cmd("HSET", "ctx:{r}:reply:r2", "status", "retrying")
        redis.cmd("RPUSH", "ctx:{i}:simhash:0001abcd", "x")
        redis.cmd("SET", "ctx:{r}:conversation:telegram:42", "t2")
        redis.cmd("HSET", "ctx:{i}:item:i1", "json", "{}")
        p = subprocess.run([os.path.join(ROOT, "scripts", "retention-upgrade.sh"),
                            "127.0.0.1:%d" % redis.port, "100", "200", "300"],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0 and "5 keys given a TTL" in p.stdout, (p.stdout, p.stderr)
        ttl = {k: redis.cmd("PTTL", k) for k in redis.cmd("KEYS", "*")}
        assert 98000 < ttl["ctx:{r}:task:t1"] <= 99000, ttl
        assert ttl["ctx:{r}:chat:t1:messages"] > 98000, ttl
        assert 190000 < ttl["ctx:{r}:reply:r1"] <= 200000, ttl
        assert 290000 < ttl["ctx:{i}:simhash:0001abcd"] <= 300000, ttl
        assert 90000 < ttl["ctx:{r}:conversation:telegram:42"] <= 100000, ttl
        for k in ("ctx:{r}:task:t2", "ctx:{r}:chat:t2:messages", "ctx:{r}:reply:r2",
                  "ctx:{i}:item:i1"):
            assert ttl[k] == -1, (k, ttl)
        p = subprocess.run([os.path.join(ROOT, "scripts", "retention-upgrade.sh"),
                            "127.0.0.1:%d" % redis.port], capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 0 and "0 keys given a TTL" in p.stdout, p.stdout
    finally:
        redis.stop()
        wd.cleanup()
