"""Redis Cluster is a configuration: every script and multi-key command of
ctxd keeps its keys in one slot (the hash tags of store/KEYS.md). The proof
runs ctxd against a one-node Redis Cluster owning all 16384 slots
(harness.Redis(cluster=True)): such a node refuses a command or a script
whose keys are in different slots, and, since store/*.lua start with
#!lua, a script touching a key of another slot than its first, even one it
builds inside. First, that the node does refuse (so the flow below could
fail); then a flow through every role: a Mastodon mention collected,
tagged, escalated, offered, accepted, answered (posted through the outbox)
and done; a Telegram conversation and a web chat both ways; a callback;
ctxctl agent add, agents, agent del; /api/items and /api/queues; and the
retention sweeper all along."""
import asyncio
import json
import os
import re
import subprocess

from harness import ROOT, Ctxd, Redis, Workdir, lua_source, wait_for
from mastodon_server import MastodonServer
from telegram_server import TelegramServer
from test_collect import CTXCTL
from test_replies import post
from test_routing import Client, add_agent, login, typ

TG_TOKEN = "123456:SLOTS-token"
# what Redis says when keys are in different slots (commands, scripts)
SLOT_ERRORS = ("CROSSSLOT", "same slot", "non local key")


def load(redis, name):
    return redis.cmd("SCRIPT", "LOAD", lua_source(name))


def refused(redis, *args):
    try:
        redis.cmd(*args)
    except RuntimeError as e:
        return str(e)
    return None


def test_cluster_refuses_keys_of_two_slots():
    wd = Workdir("slots-refuse")
    r = Redis(wd.path, cluster=True).start()
    try:
        assert "cluster_enabled:1" in r.cmd("INFO", "cluster")
        offer = load(r, "offer")
        args = [1000, 2000, 0, "t1", "ann"]
        # the layout before hash tags: a task and an agent in two slots
        old = ["ctx:queue:q:waiting", "ctx:offers", "ctx:routing:events", "ctx:agent-events",
               "ctx:agents:ready", "ctx:queues:live", "ctx:queue:q:arrivals",
               "ctx:task:t1", "ctx:agent:ann", "ctx:agent:ann:tasks"]
        err = refused(r, "EVALSHA", offer, len(old), *old, *args)
        assert err and err.startswith("CROSSSLOT"), err
        # the same call with the keys of now runs (no such task)
        new = ["ctx:{r}:" + k[4:] for k in old]
        assert r.cmd("EVALSHA", offer, len(new), *new, *args) == [[0, "task is false"]]
        # a key built inside the script, in another slot than those passed
        snap = load(r, "route_snapshot")
        r.cmd("ZADD", "ctx:{r}:queue:q:waiting", 1, "t1")
        # (the line is read only when an agent is ready)
        r.cmd("HSET", "ctx:{r}:agent:ann", "state", "available", "offers", 0)
        r.cmd("SADD", "ctx:{r}:agents:ready", "ann")
        keys = ["ctx:{r}:queue:q:waiting", "ctx:{r}:agents:ready", "ctx:{r}:agents:ready:log",
                "ctx:{r}:agents:ready:changes"]
        err = refused(r, "EVALSHA", snap, 4, *keys, 10, "ctx:{i}:task:", "ctx:{r}:agent:", 0, 0)
        assert err and "same slot" in err, err
        # {tasks, agents (their fields in order, the id first, joined by NULs), gone,
        # version, full, ready}
        assert r.cmd("EVALSHA", snap, 4, *keys, 10, "ctx:{r}:task:", "ctx:{r}:agent:", 0, 0) == \
            [[], ["\0".join(["ann", "available", "0"] + [""] * 12)], [], 0, 1, 1]
        # a multi-key command across domains
        err = refused(r, "DEL", "ctx:{r}:agents", "ctx:{i}:idx:all")
        assert err and err.startswith("CROSSSLOT"), err
    finally:
        r.stop()
        wd.cleanup()


def test_flow_on_a_cluster():
    wd = Workdir("slots-flow")
    redis = Redis(wd.path, cluster=True).start()
    m = MastodonServer()
    m.start()
    angry = m.add("My @acme order never arrived, terrible service, I am furious")
    m.add("Lovely day with my acme kettle, great kettle", acct="bob")
    tg = TelegramServer(TG_TOKEN)
    tg.start()
    c = Ctxd(wd.path, redis.port,
             [{"name": "acme-masto", "kind": "mastodon", "url": m.url(), "tag": "acme",
               "every": "0.3s", "token": "t0k3n"},
              {"name": "acme-bot", "kind": "telegram", "url": tg.url(), "token": TG_TOKEN,
               "every": "0.2s"}],
             extra={"queues": [{"name": "support", "offer_timeout": "20s",
                                "channels": ["social", "chat", "callback"]}],
                    "escalation": [{"queue": "support", "sentiment": "negative"}],
                    "presence_grace": "1s",
                    # the sweeper runs through the flow (its lease, the open tasks'
                    # items read in {r} and extended in {i}, the scans, the trims)
                    "retention": {"items": "3650d", "sweep_every": "0.2s"}})

    def ctxctl(*args):
        p = subprocess.run([CTXCTL, "-c", c.config] + list(args), capture_output=True,
                           text=True, timeout=10)
        assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p.stdout

    try:
        token = add_agent(c, "ann")
        bob_token = add_agent(c, "bob")
        c.start()
        port = c.port

        async def scenario():
            ann, _ = await login(port, token)
            # a mention: collected, tagged, escalated, offered, answered, done
            offer = await ann.expect(typ("offer"), 15, "offer of the angry toot")
            item = offer["item"]
            assert item["id"] == "mastodon:127.0.0.1:%s" % angry["id"], item
            tid = offer["task"]["id"]
            await ann.send(type="accept", task=tid)
            await ann.expect(typ("assigned"))
            await ann.send(type="reply", task=tid, text="Sorry! DM us your order number.")
            await ann.expect(typ("reply_status", status="queued"), what="reply queued")
            await ann.expect(typ("reply_status", status="posted"), 15, "reply posted")
            await ann.send(type="done", task=tid)
            # a Telegram conversation: one chat task, messages both ways
            tg.user_says(42, "Hi, where is my Acme order?")
            offer = await ann.expect(typ("offer"), 15, "Telegram chat offer")
            chat = offer["task"]["id"]
            await ann.send(type="accept", task=chat)
            await ann.expect(typ("assigned"))
            tg.user_says(42, "It was due Monday")
            msg = await ann.expect(typ("chat_message"), 15, "second Telegram message")
            assert msg["task"] == chat, msg
            await ann.send(type="reply", task=chat, text="Checking, Carol")
            await ann.expect(typ("reply_status", status="posted"), 15, "sent to Telegram")
            await ann.send(type="done", task=chat)
            # a web chat, both ways
            cust = await Client.connect(port, "/ws/chat", "ctx.chat.v1")
            await cust.send(type="start", name="Carol", lang="en")
            web = (await cust.expect(typ("started")))["task"]
            await cust.send(type="message", text="Hello, my order is late")
            offer = await ann.expect(typ("offer"), 15, "web chat offer")
            assert offer["task"]["id"] == web, offer
            await ann.send(type="accept", task=web)
            await cust.expect(typ("agent_joined"))
            await ann.send(type="reply", task=web, text="On it")
            await cust.expect(typ("message"))
            await cust.send(type="message", text="Thanks")
            await ann.expect(typ("chat_message", task=web))
            await ann.send(type="done", task=web)
            await cust.expect(typ("closed"))
            await cust.ws.close()
            # a callback
            st, body = await asyncio.to_thread(
                post, port, "/api/callbacks", {"phone": "+7 495 123-45-67", "name": "Dan"})
            assert st == 201, (st, body)
            cb = body["task"]["id"]
            offer = await ann.expect(typ("offer"), 15, "callback offer")
            assert offer["task"]["id"] == cb, offer
            await ann.send(type="reject", task=cb)
            await ann.ws.close()
            bob, _ = await login(port, bob_token)
            offer = await bob.expect(typ("offer"), 15, "callback offered to bob")
            assert offer["task"]["id"] == cb, offer
            await bob.send(type="accept", task=cb)
            await bob.expect(typ("assigned"))
            await bob.send(type="done", task=cb)
            await bob.ws.close()
            return item["id"]
        item_id = asyncio.run(scenario())

        # reads that build keys inside their scripts
        _, items = c.http("/api/items?topic=delivery&sentiment=negative")
        assert [i["id"] for i in items["items"]] == [item_id], items
        _, items = c.http("/api/items?limit=10")
        assert len(items["items"]) == 4, items      # two toots, two Telegram messages
        _, qs = c.http("/api/queues")
        sup = {q["name"]: q for q in qs["queues"]}["support"]
        assert sup["answered"] == 4 and sup["waiting"] == 0, sup
        out = ctxctl("agents")
        assert "ann" in out and "bob" in out, out

        def del_bob():      # refused while bob's connection is still counted
            return subprocess.run([CTXCTL, "-c", c.config, "agent", "del", "bob"],
                                  capture_output=True, timeout=10).returncode == 0
        wait_for(del_bob, what="ctxctl agent del bob")
        assert "bob" not in ctxctl("agents")
        assert m.replies() and len(tg.sent) == 1, (m.replies(), tg.sent)

        # every key carries its domain's tag
        keys = redis.cmd("KEYS", "*")
        bad = [k for k in keys if not re.match(r"ctx:\{[ric]\}:", k)]
        assert not bad, bad
        for want in ("ctx:{i}:items:raw", "ctx:{i}:idx:all", "ctx:{r}:outbox",
                     "ctx:{r}:routing:events", "ctx:{r}:agent:ann"):
            assert want in keys, (want, sorted(keys))
        assert c.stop() == 0
        log = c.logtext()
        for e in SLOT_ERRORS:
            assert e not in log, "ctxd met %r:\n%s" % (e, log[log.index(e) - 300:][:600])
        assert "retention: sweep" in log and "some steps failed" not in log, log[-2000:]
    finally:
        if c.alive():
            c.stop()
        tg.stop()
        m.stop()
        redis.stop()
        wd.cleanup()
