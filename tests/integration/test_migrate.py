"""An installation from before the hash tags (store/KEYS.md): an agent with
its token, a queued callback, a tagged item with its indexes, the raw
stream with its consumer group, all under the old names (seeded with
redis-cli). ctxd refuses to start on it and names ctxctl migrate-keys;
migrate-keys --dry-run renames nothing; migrate-keys renames every key
(idempotent: a second run finds nothing), refuses to overwrite, and ctxd
then serves what was there: the agent logs in with its old token and is
offered the old task, /api/items finds the item by its indexes."""
import asyncio
import hashlib
import json
import re
import subprocess
import time

from harness import Ctxd, Redis, Workdir, wait_for
from test_collect import CTXCTL
from test_routing import login, typ

TOKEN = "0123456789abcdef0123456789abcdef"
ITEM = {"id": "feed:acme:old-1", "source": "acme-blog", "kind": "blog",
        "url": "http://127.0.0.1/p/old-1", "author": {"handle": "ann"}, "title": None,
        "text": "Acme lost my parcel again", "lang": "en",
        "published": "2026-11-20T10:00:00Z", "fetched": "2026-11-20T10:00:03Z",
        "tags": {"sentiment": {"score": -0.6, "label": "negative"}, "topics": ["delivery"],
                 "brands": ["acme"], "urgent": False,
                 "complaint": {"score": 0.9, "label": True, "reasons": ["lost"]}}}


def seed(port):
    """The old layout, written as an older ctxd and ctxctl did."""
    now = int(time.time() * 1000)
    sha = hashlib.sha256(TOKEN.encode()).hexdigest()
    ms = 1795687200000        # ITEM's published time
    cmds = [
        ["HSET", "ctx:agent:ann", "id", "ann", "name", "Ann", "token_sha", sha,
         "skills", '{"billing":80}', "langs", "[]", "cap:social", 5, "cap:chat", 3,
         "cap:callback", 1, "role", "agent", "callback_blocks_chat", 0, "state", "offline",
         "offers", 0, "load:social", 0, "load:chat", 0, "load:callback", 0, "handled", 7,
         "idle_since", 0, "last_offer", 0],
        ["SADD", "ctx:agents", "ann"],
        ["SET", "ctx:agent-token:" + sha, "ann"],
        ["HSET", "ctx:task:callback:old-1", "id", "callback:old-1", "channel", "callback",
         "queue", "support", "priority", 0, "state", "queued", "agent", "", "arrived", now,
         "order", now, "sla_due", now + 60000, "created", "2026-11-20T10:00:00Z",
         "attempts", 0, "refused", "{}", "phone", "+74951234567", "name", "Dan"],
        ["ZADD", "ctx:queue:support:waiting", now, "callback:old-1"],
        ["HSET", "ctx:queue:support:stats", "arrived", 1],
        ["XADD", "ctx:items:tagged", "*", "id", ITEM["id"], "item", json.dumps(ITEM)],
        ["HSET", "ctx:item:" + ITEM["id"], "json", json.dumps(ITEM), "sid", "1-0"],
        ["ZADD", "ctx:idx:all", ms, ITEM["id"]],
        ["ZADD", "ctx:idx:brand:acme", ms, ITEM["id"]],
        ["ZADD", "ctx:idx:topic:delivery", ms, ITEM["id"]],
        ["ZADD", "ctx:idx:sentiment:negative", ms, ITEM["id"]],
        ["ZADD", "ctx:idx:complaint:true", ms, ITEM["id"]],
        ["SADD", "ctx:seen:acme-blog", ITEM["id"]],
        ["XGROUP", "CREATE", "ctx:items:raw", "analyze", "$", "MKSTREAM"],
        ["SET", "other:thing", "1"],           # not ours: left alone, not reported
        ["SET", "ctx:mystery", "1"],           # ctx: but not ctxd's: reported, left
    ]
    for c in cmds:
        p = subprocess.run(["redis-cli", "-p", str(port)] + [str(a) for a in c],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 0 and "ERR" not in p.stdout, (c, p.stdout, p.stderr)
    return sha


def migrate(config, *args):
    p = subprocess.run([CTXCTL, "-c", config, "migrate-keys"] + list(args),
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def test_migrate_keys_and_serve_the_old_data():
    wd = Workdir("migrate")
    redis = Redis(wd.path, cluster=False).start()
    c = Ctxd(wd.path, redis.port, [],
             extra={"queues": [{"name": "support", "channels": ["social", "chat", "callback"]}]})
    try:
        sha = seed(redis.port)
        before = sorted(redis.cmd("KEYS", "*"))

        # ctxd refuses to start, and says what to do
        c.start(wait=False)
        rc = c.proc.wait(20)
        c.log.close()
        assert rc == 1, (rc, c.logtext())
        assert "ctxctl migrate-keys" in c.logtext() and "docs/operations.md" in c.logtext(), \
            c.logtext()

        rc, out = migrate(c.config, "--dry-run")
        assert rc == 0, out
        assert re.search(r"15 keys to rename \(routing 6, items 9, control 0\); 0 conflicts; "
                         r"1 other ctx: keys", out), out
        assert sorted(redis.cmd("KEYS", "*")) == before, "a dry run renamed something"

        rc, out = migrate(c.config)
        assert rc == 0, out
        assert "15 keys renamed (routing 6, items 9, control 0)" in out, out
        assert "ctx:mystery" in out, out
        keys = set(redis.cmd("KEYS", "*"))
        assert keys == {"other:thing", "ctx:mystery"} | {
            re.sub(r"^ctx:", "ctx:{r}:" if not re.match(r"ctx:(items?|idx|seen):", k)
                   else "ctx:{i}:", k) for k in before if k.startswith("ctx:") and
            k != "ctx:mystery"}, sorted(keys)
        groups = redis.cmd("XINFO", "GROUPS", "ctx:{i}:items:raw")
        assert groups and groups[0][1] == "analyze", groups      # the group moved with it
        rc, out = migrate(c.config)
        assert rc == 0 and "0 keys renamed" in out, out           # idempotent

        # never overwritten: both names taken is a conflict, reported, left
        redis.cmd("ZADD", "ctx:wrapups", 1, "ann")
        redis.cmd("ZADD", "ctx:{r}:wrapups", 2, "bob")
        rc, out = migrate(c.config)
        assert rc == 1 and "conflict: ctx:wrapups and ctx:{r}:wrapups" in out, out
        assert redis.cmd("ZRANGE", "ctx:{r}:wrapups", 0, -1) == ["bob"]
        redis.cmd("DEL", "ctx:wrapups")
        rc, out = migrate(c.config)
        assert rc == 0 and "0 keys renamed" in out, out
        # bob is no agent: the router drops him from the wrap-ups (agent_state.lua)

        # ctxd serves the old data under the new names
        c.start()
        _, items = c.http("/api/items?brand=acme&topic=delivery")
        assert [i["id"] for i in items["items"]] == [ITEM["id"]], items
        _, items = c.http("/api/items?complaint=true")
        assert [i["id"] for i in items["items"]] == [ITEM["id"]], items
        _, qs = c.http("/api/queues")
        assert {q["name"]: q for q in qs["queues"]}["support"]["waiting"] == 1, qs

        async def scenario():
            ann, w = await login(c.port, TOKEN)
            assert w["agent"]["id"] == "ann" and w["agent"]["name"] == "Ann", w
            offer = await ann.expect(typ("offer"), 15, "the old callback offered")
            assert offer["task"]["id"] == "callback:old-1", offer
            await ann.send(type="accept", task="callback:old-1")
            await ann.expect(typ("assigned"))
            await ann.send(type="done", task="callback:old-1")
            await asyncio.to_thread(    # before the connection closes
                wait_for, lambda: redis.cmd("HGET", "ctx:{r}:task:callback:old-1", "state")
                == "done", 10, 0.05, "the old task done")
            await ann.ws.close()
        asyncio.run(scenario())
        assert redis.cmd("HGET", "ctx:{r}:agent:ann", "token_sha") == sha
        wait_for(lambda: redis.cmd("ZCARD", "ctx:{r}:wrapups") == 0, what="bob out of wrap-ups")
        assert c.stop() == 0
        assert c.logtext().count("NOAGENT") <= 1, c.logtext()
    finally:
        if c.alive():
            c.stop()
        redis.stop()
        wd.cleanup()
