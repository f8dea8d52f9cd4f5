"""Routing end to end on real parts: an escalated mention, a web chat and a
callback reach agents over /ws/agent; accept, reject, chat both ways,
done, disconnect with grace and re-queue; errors for bad frames."""
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time

import websockets

from harness import ROOT, wait_for
from test_collect import CTXCTL
from test_pipeline import E1, E2, Rig, write_feed

QUEUES = {
    "queues": [{"name": "support", "offer_timeout": "3s", "sla": "30s",
                "channels": ["social", "chat", "callback"]}],
    "escalation": [{"name": "angry", "queue": "support", "sentiment": "negative",
                    "priority": 5}],
    "presence_grace": "1s",
}


def routing_rig(name):
    rig = Rig(name)
    with open(rig.ctxd.config) as f:
        cfg = json.load(f)
    cfg.update(QUEUES)
    with open(rig.ctxd.config, "w") as f:
        json.dump(cfg, f)
    return rig


def add_agent(rig, agent_id, *extra):
    """ctxctl agent add on the config of rig (a Rig or a Ctxd); returns the token."""
    config = getattr(rig, "ctxd", rig).config
    p = subprocess.run([CTXCTL, "-c", config, "agent", "add", agent_id, "--name",
                        agent_id.title(), "--skills", "billing:80,en"] + list(extra),
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip().splitlines()[-1]


class Client:
    """A websocket client that keeps every frame it gets."""

    def __init__(self, ws):
        self.ws = ws
        self.frames = []

    @classmethod
    async def connect(cls, port, path, proto):
        ws = await websockets.connect("ws://127.0.0.1:%d%s" % (port, path), subprotocols=[proto])
        return cls(ws)

    async def send(self, **msg):
        await self.ws.send(json.dumps(msg))

    async def expect(self, pred, timeout=10.0, what="frame"):
        for f in self.frames:
            if pred(f):
                self.frames.remove(f)
                return f
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s within %.0f s; got %r" % (what, timeout, self.frames))
            f = json.loads(await asyncio.wait_for(self.ws.recv(), left))
            if pred(f):
                return f
            self.frames.append(f)


def typ(t, **kw):
    return lambda f: f.get("type") == t and all(f.get(k) == v for k, v in kw.items())


async def login(port, token):
    a = await Client.connect(port, "/ws/agent", "ctx.agent.v1")
    await a.send(type="hello", token=token)
    w = await a.expect(typ("welcome"), what="welcome")
    await a.send(type="state", state="available")
    await a.expect(typ("state", state="available"), what="state available")
    return a, w


def test_social_task_offered_accepted_done():
    rig = routing_rig("route-social")
    try:
        t1 = add_agent(rig, "ann")
        rig.ctxd.start()
        port = rig.ctxd.port

        async def scenario():
            a, w = await login(port, t1)
            assert w["agent"]["id"] == "ann" and w["agent"]["skills"]["billing"] == 80, w
            assert "token_sha" not in w["agent"]
            # E1 is negative: escalated to support and offered to ann
            offer = await a.expect(typ("offer"), 15, "offer of the angry mention")
            assert offer["task"]["channel"] == "social", offer
            assert offer["item"]["id"] == "feed:acme:post-1", offer
            assert 0 < offer["expires_in"] <= 3, offer
            tid = offer["task"]["id"]
            await a.send(type="accept", task=tid)
            await a.expect(typ("assigned"), what="assigned")
            # a reply to a feed item: this network takes no replies
            await a.send(type="reply", task=tid, text="Sorry!")
            e = await a.expect(typ("error"), what="no-replies error")
            assert e["code"] == "noreply", e
            await a.send(type="done", task=tid)
            # the positive E2 is not escalated
            write_feed(rig.feed, [E2, E1])
            await asyncio.sleep(1.5)
            assert not [f for f in a.frames if f.get("type") == "offer"], a.frames
            # bad frames get errors, the connection stays
            for raw, code in [("nope", "bad_json"), ("{}", "bad_message"),
                              ('{"type":"fly"}', "unknown_type"),
                              ('{"type":"accept"}', "missing_field"),
                              ('{"type":"accept","task":"social:nothing"}', "no_task"),
                              ('{"type":"done","task":"%s"}' % tid, "not_assigned")]:
                await a.ws.send(raw)
                f = await a.expect(typ("error"), what="error for " + raw)
                assert f["code"] == code, (raw, f)
            await a.send(type="ping")
            await a.expect(typ("pong"))
            await a.ws.close()
        asyncio.run(scenario())
        st = rig.redis.cmd("HGETALL", "ctx:{r}:task:social:feed:acme:post-1")
        st = dict(zip(st[::2], st[1::2]))
        assert st["state"] == "done" and st["agent"] == "ann", st
        stats = dict(zip(*[iter(rig.redis.cmd("HGETALL", "ctx:{r}:queue:support:stats"))] * 2))
        assert stats["answered"] == "1" and stats["answered_in_sla"] == "1", stats
    finally:
        rig.close()


def test_bad_token_is_refused():
    rig = routing_rig("route-auth")
    try:
        rig.ctxd.start()

        async def scenario():
            a = await Client.connect(rig.ctxd.port, "/ws/agent", "ctx.agent.v1")
            await a.send(type="accept", task="x")
            f = await a.expect(typ("error"))
            assert f["code"] == "auth", f
            try:
                await asyncio.wait_for(a.ws.recv(), 5)
            except websockets.ConnectionClosed:
                return "closed"
            return "open"
        assert asyncio.run(scenario()) == "closed"

        async def bad_token():
            a = await Client.connect(rig.ctxd.port, "/ws/agent", "ctx.agent.v1")
            await a.send(type="hello", token="0" * 32)
            return await a.expect(typ("error"))
        assert asyncio.run(bad_token())["code"] == "auth"
    finally:
        rig.close()


def test_chat_both_ways_reject_and_requeue_on_disconnect():
    rig = routing_rig("route-chat")
    write_feed(rig.feed, [E2])      # nothing to escalate
    try:
        t1 = add_agent(rig, "ann")
        t2 = add_agent(rig, "bob")
        rig.ctxd.start()
        port = rig.ctxd.port

        async def scenario():
            ann, _ = await login(port, t1)
            cust = await Client.connect(port, "/ws/chat", "ctx.chat.v1")
            await cust.send(type="start", name="Carol", lang="en")
            started = await cust.expect(typ("started"))
            tid = started["task"]
            await cust.send(type="message", text="Hello, my order is late")
            offer = await ann.expect(typ("offer"), what="chat offer")
            assert offer["task"]["id"] == tid and offer["task"]["channel"] == "chat"
            assert offer["history"][0]["text"] == "Hello, my order is late", offer
            # ann rejects: bob gets it once he is there
            await ann.send(type="reject", task=tid)
            bob, _ = await login(port, t2)
            offer = await bob.expect(typ("offer"), what="offer to bob after reject")
            assert offer["task"]["id"] == tid
            await bob.send(type="accept", task=tid)
            j = await cust.expect(typ("agent_joined"))
            assert j["name"] == "Bob", j
            await bob.send(type="typing", task=tid)
            t = await cust.expect(typ("typing"))
            assert t["name"] == "Bob", t
            await bob.send(type="reply", task=tid, text="Sorry <b>Carol</b>, checking")
            m = await cust.expect(typ("message"))
            assert m["message"]["text"] == "Sorry <b>Carol</b>, checking"
            await cust.send(type="message", text="Thanks")
            m = await bob.expect(typ("chat_message"))
            assert m["message"]["text"] == "Thanks" and m["task"] == tid
            # bob's connection drops: after the grace the chat goes back
            # to the queue, history intact, and ann (available) gets it
            await bob.ws.close()
            offer = await ann.expect(typ("offer"), 15, "re-queued chat offered to ann")
            assert offer["task"]["id"] == tid
            assert [h["text"] for h in offer["history"]] == \
                ["Hello, my order is late", "Sorry <b>Carol</b>, checking", "Thanks"]
            await ann.send(type="accept", task=tid)
            await ann.expect(typ("assigned"))
            await ann.send(type="done", task=tid)
            await cust.expect(typ("closed"))
            await ann.ws.close()
            await cust.ws.close()
        asyncio.run(scenario())
    finally:
        rig.close()


def test_chat_is_offered_with_its_first_message():
    """A web chat enters its queue with the customer's first message, never
    before: an available agent is not offered a chat with nothing in it,
    and the offer's history has that message. The wait is counted from it.
    A chat left before anything was written is closed, not counted."""
    rig = routing_rig("route-chat-first")
    write_feed(rig.feed, [E2])
    try:
        t1 = add_agent(rig, "ann")
        rig.ctxd.start()
        port = rig.ctxd.port

        def task(tid):
            h = rig.redis.cmd("HGETALL", "ctx:{r}:task:" + tid)
            return dict(zip(h[::2], h[1::2]))

        async def scenario():
            ann, _ = await login(port, t1)
            cust = await Client.connect(port, "/ws/chat", "ctx.chat.v1")
            await cust.send(type="start", name="Carol", lang="en")
            tid = (await cust.expect(typ("started")))["task"]
            held = task(tid)
            assert held["state"] == "new", held
            assert rig.redis.cmd("ZSCORE", "ctx:{r}:queue:support:waiting", tid) is None
            # ann is available all along: the silent chat is not offered
            await asyncio.sleep(1.0)
            assert not [f for f in ann.frames if f.get("type") == "offer"], ann.frames
            await cust.send(type="message", text="Hello, my order is late")
            offer = await ann.expect(typ("offer"), what="chat offer")
            assert offer["task"]["id"] == tid, offer
            assert [h["text"] for h in offer["history"]] == ["Hello, my order is late"], offer
            queued = task(tid)
            held_ms = int(queued["arrived"]) - int(held["arrived"])
            assert held_ms >= 1000, (held, queued)
            assert int(queued["sla_due"]) - int(held["sla_due"]) == held_ms, (held, queued)
            assert abs(float(queued["order"]) - float(held["order"]) - held_ms) < 1, (held, queued)
            # a second customer starts and leaves without a word
            c2 = await Client.connect(port, "/ws/chat", "ctx.chat.v1")
            await c2.send(type="start", name="Dan", lang="en")
            t2 = (await c2.expect(typ("started")))["task"]
            await c2.send(type="end")
            await c2.expect(typ("ended"))
            wait_for(lambda: task(t2).get("state") == "abandoned", what="silent chat closed")
            await ann.ws.close()
            await cust.ws.close()
            await c2.ws.close()
        asyncio.run(scenario())
        stats = dict(zip(*[iter(rig.redis.cmd("HGETALL", "ctx:{r}:queue:support:stats"))] * 2))
        assert stats.get("arrived") == "1" and stats.get("abandoned", "0") == "0", stats
    finally:
        rig.close()


def test_callbacks_timeouts_wrapup_transfer_and_figures():
    rig = routing_rig("route-figures")
    write_feed(rig.feed, [E2])
    with open(rig.ctxd.config) as f:
        cfg = json.load(f)
    cfg["queues"][0].update({"offer_timeout": "1s", "max_no_answer": 2, "wrapup": "1s"})
    cfg["queues"].append({"name": "billing", "channels": ["social", "chat", "callback"]})
    with open(rig.ctxd.config, "w") as f:
        json.dump(cfg, f)
    from test_replies import post
    try:
        t1 = add_agent(rig, "ann")
        rig.ctxd.start()
        port = rig.ctxd.port
        for bad, code in [({"phone": "call me"}, "bad_phone"),
                          ({"phone": "+7 495 123-45-67", "queue": "nope"}, "bad_queue"),
                          ({"phone": "+74951234567", "not_before": "soon"}, "bad_not_before")]:
            st, body = post(port, "/api/callbacks", bad)
            assert st == 400 and body["error"] == code, (bad, st, body)
        cbs = []
        for phone in ["+7 495 123-45-67", "+7 495 765-43-21"]:
            st, body = post(port, "/api/callbacks", {"phone": phone, "name": "Dan"})
            assert st == 201 and body["task"]["channel"] == "callback", body
            assert body["task"]["queue"] == "support" and body["task"]["state"] == "queued"
            cbs.append(body["task"]["id"])

        async def scenario():
            ann, _ = await login(port, t1)
            # two offers time out in a row: ann is set away
            for want in cbs:
                o = await ann.expect(typ("offer"), what="callback offer")
                # stored in E.164 (docs/voice.md)
                assert o["task"]["id"] == want and o["task"]["phone"].startswith("+7495"), o
                await ann.expect(typ("revoked", task=want), 5, "offer timed out")
            await ann.expect(typ("state", state="away"), 5, "set away after 2 timeouts")
            await ann.send(type="state", state="available")
            # the refusals are forgotten after a while: offered again
            o = await ann.expect(typ("offer"), 20, "offer again")
            cb = o["task"]["id"]
            await ann.send(type="accept", task=cb)
            await ann.expect(typ("assigned"))
            # a callback from the task: a new callback task linked to it
            await ann.send(type="callback", task=cb, phone="+7 495 000-00-00")
            q = await ann.expect(typ("callback_queued"))
            assert q["parent"] == cb
            # transfer the first one to billing; then done with wrap-up
            await ann.send(type="transfer", task=cb, queue="billing")
            await ann.expect(typ("revoked", task=cb, reason="transferred"))
            o = await ann.expect(typ("offer"), 20, "next offer")
            await ann.send(type="accept", task=o["task"]["id"])
            await ann.expect(typ("assigned"))
            await ann.send(type="done", task=o["task"]["id"])
            await ann.expect(typ("state", state="wrapup"), 5, "wrap-up")
            await ann.expect(typ("state", state="available"), 5, "end of wrap-up")
            await ann.ws.close()
        asyncio.run(scenario())
        status, qs = rig.ctxd.http("/api/queues")
        qs = {q["name"]: q for q in qs["queues"]}
        assert qs["support"]["answered"] == 2 and qs["support"]["arrived"] == 3, qs
        assert qs["billing"]["waiting"] == 0 or qs["billing"]["waiting"] == 1, qs
        assert 0 <= qs["support"]["service_level"] <= 1, qs
        _, ags = rig.ctxd.http("/api/agents")
        ann = ags["agents"][0]
        assert ann["id"] == "ann" and ann["handled"] == 1 and "token_sha" not in ann, ann
        _, text = rig.ctxd.http("/metrics")
        assert 'ctx_queue_answered_total{queue="support"} 2' in text, text
        p = subprocess.run([CTXCTL, "-c", rig.ctxd.config, "queues"], capture_output=True,
                           text=True, timeout=10)
        assert p.returncode == 0 and "support" in p.stdout and "billing" in p.stdout, p
        p = subprocess.run([CTXCTL, "-c", rig.ctxd.config, "agents"], capture_output=True,
                           text=True, timeout=10)
        assert p.returncode == 0 and "ann" in p.stdout, p
        ev = rig.redis.cmd("XRANGE", "ctx:{r}:routing:events", "-", "+")
        types = {dict(zip(e[1][::2], e[1][1::2]))["type"] for e in ev}
        for t in ["queued", "offered", "accepted", "timed_out", "transferred", "done"]:
            assert t in types, (t, types)
    finally:
        rig.close()


def test_overflow_moves_or_raises():
    rig = routing_rig("route-overflow")
    write_feed(rig.feed, [E2])
    with open(rig.ctxd.config) as f:
        cfg = json.load(f)
    cfg["queues"] = [
        {"name": "first", "overflow_after": "1s", "overflow_queue": "second"},
        {"name": "second"},
        {"name": "boost", "overflow_after": "1s", "overflow_priority": 5},
    ]
    cfg["escalation"] = []
    with open(rig.ctxd.config, "w") as f:
        json.dump(cfg, f)
    from test_replies import post
    try:
        rig.ctxd.start()
        port = rig.ctxd.port
        a = post(port, "/api/callbacks", {"phone": "+74950000001", "queue": "first"})[1]["task"]
        b = post(port, "/api/callbacks", {"phone": "+74950000002", "queue": "boost"})[1]["task"]
        wait_for(lambda: rig.redis.cmd("HGET", "ctx:{r}:task:" + a["id"], "queue") == "second",
                 10, 0.1, "overflow to the second queue")
        assert rig.redis.cmd("ZSCORE", "ctx:{r}:queue:second:waiting", a["id"]) is not None
        assert rig.redis.cmd("ZSCORE", "ctx:{r}:queue:first:waiting", a["id"]) is None
        # counted where it went: arrived (overflowed in) there, overflowed out here
        qs = {q["name"]: q for q in rig.ctxd.http("/api/queues")[1]["queues"]}
        assert qs["first"]["arrived"] == 1 and qs["first"]["overflowed_out"] == 1, qs
        assert qs["second"]["arrived"] == 1 and qs["second"]["overflowed_in"] == 1, qs
        wait_for(lambda: rig.redis.cmd("HGET", "ctx:{r}:task:" + b["id"], "priority") == "5",
                 10, 0.1, "priority raised")
        c = post(port, "/api/callbacks", {"phone": "+74950000003", "queue": "boost"})[1]["task"]
        # the raised task is ahead of a newer one of priority 0, and stays so
        head = rig.redis.cmd("ZRANGE", "ctx:{r}:queue:boost:waiting", 0, -1)
        assert head[0] == b["id"], head
        time.sleep(1.5)
        assert rig.redis.cmd("HGET", "ctx:{r}:task:" + b["id"], "priority") == "5", "raised twice"
        assert rig.redis.cmd("HGET", "ctx:{r}:task:" + c["id"], "priority") == "5"
    finally:
        rig.close()


@contextlib.contextmanager
def two_nodes(name, extra):
    """Two ctxd (every role) on one Redis, for tests that kill one: yields
    (redis, nodes); stops what is left, by PID, and cleans up."""
    from harness import Ctxd, Redis, Workdir
    wd = Workdir(name)
    redis = Redis(wd.path).start()
    nodes = []
    try:
        for i in range(2):
            d = os.path.join(wd.path, "n%d" % i)
            os.makedirs(d)
            nodes.append(Ctxd(d, redis.port, [], extra=extra))
        for n in nodes:
            n.start()
        yield redis, nodes
    finally:
        for n in nodes:
            if n.alive():
                n.stop(signal.SIGKILL)
        redis.stop()
        wd.cleanup()


def test_tasks_of_a_dead_node_are_requeued():
    """ctxd killed (SIGKILL) with an agent connected to it holding a task: the
    other node's router sees the node's heartbeats stop, and after the grace
    the task goes to an agent connected elsewhere."""
    from test_replies import post
    extra = {"queues": [{"name": "support"}], "presence_grace": "1s", "presence_timeout": "3s"}
    with two_nodes("dead-node", extra) as (redis, nodes):
        t1, t2 = add_agent(nodes[0], "ann"), add_agent(nodes[0], "bob")

        async def scenario():
            ann, _ = await login(nodes[0].port, t1)
            st, body = post(nodes[1].port, "/api/callbacks", {"phone": "+74951112233"})
            tid = body["task"]["id"]
            o = await ann.expect(typ("offer"), what="offer to ann")
            await ann.send(type="accept", task=tid)
            await ann.expect(typ("assigned"))
            bob, _ = await login(nodes[1].port, t2)
            nodes[0].proc.kill()            # the node ann is connected to dies
            nodes[0].proc.wait()
            o = await bob.expect(typ("offer"), 20, "the dead node's task offered to bob")
            assert o["task"]["id"] == tid, o
            await bob.ws.close()
        asyncio.run(scenario())
        assert nodes[1].stop() == 0


def test_chats_of_a_dead_node_end_unless_resumed():
    """ctxd killed (SIGKILL) while it holds three customers: one whose chat
    was held (started, nothing written), one that had written and does not
    come back, one that had written and resumes on the other node. The
    node's beats stop; after presence_timeout and presence_grace the first
    two are abandoned (before, a held chat stayed "new" and the other
    "queued" for ever: only a live node recorded a dropped customer), and
    the resumed one stays queued, live on the other node."""
    extra = {"queues": [{"name": "support", "channels": ["chat"]}], "chat_queue": "support",
             "presence_grace": "1s", "presence_timeout": "3s"}
    with two_nodes("dead-chat-node", extra) as (redis, nodes):
        async def customer(text):
            c = await Client.connect(nodes[0].port, "/ws/chat", "ctx.chat.v1")
            await c.send(type="start", name="Eve", lang="en")
            st = await c.expect(typ("started"))
            if text:
                await c.send(type="message", text=text)
                await wait_for_async(lambda: redis.cmd("HGET", "ctx:{r}:task:" + st["task"],
                                                       "state") == "queued")
            return c, st

        async def scenario():
            held, hst = await customer(None)
            gone, gst = await customer("Where is my order?")
            back, bst = await customer("My bill is wrong")
            assert redis.cmd("HGET", "ctx:{r}:task:" + hst["task"], "state") == "new"
            live = redis.cmd("ZRANGE", "ctx:{r}:chats:live", 0, -1)
            assert len(live) == 3, live
            nodes[0].proc.kill()            # the node the three customers are on dies
            nodes[0].proc.wait()
            c = await Client.connect(nodes[1].port, "/ws/chat", "ctx.chat.v1")
            await c.send(type="resume", task=bst["task"], key=bst["key"])
            r = await c.expect(typ("resumed"))
            assert r["state"] == "queued", r
            others = [t for t in live if t != bst["task"]]
            await wait_for_async(lambda: all(
                redis.cmd("HGET", "ctx:{r}:task:" + t, "state") == "abandoned" for t in others),
                20)     # presence_timeout + grace, and a sweep's second
            await asyncio.sleep(2)          # past another timeout + grace of the resumed one
            assert redis.cmd("HGET", "ctx:{r}:task:" + bst["task"], "state") == "queued"
            assert redis.cmd("ZRANGE", "ctx:{r}:chats:live", 0, -1) == [bst["task"]]
            assert redis.cmd("ZRANGE", "ctx:{r}:chats:left", 0, -1) == []
            await c.send(type="end")
            await c.expect(typ("ended"))
            await wait_for_async(lambda: redis.cmd("ZCARD", "ctx:{r}:chats:live") == 0)
            await c.ws.close()
        asyncio.run(scenario())
        assert nodes[1].stop() == 0


async def wait_for_async(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "condition not met within %.0f s" % timeout
        await asyncio.sleep(0.05)


def test_chat_resume_and_grace():
    """A customer's page that reloads resumes its chat (history back, same
    task); one that drops and does not come back within the grace is
    abandoned; a wrong key resumes nothing."""
    rig = routing_rig("chat-resume")
    write_feed(rig.feed, [E2])
    try:
        rig.ctxd.start()
        port = rig.ctxd.port

        async def scenario():
            c = await Client.connect(port, "/ws/chat", "ctx.chat.v1")
            await c.send(type="start", name="Eve", lang="en")
            st = await c.expect(typ("started"))
            assert len(st["key"]) == 32, st
            await c.send(type="message", text="Is anyone there?")
            await asyncio.sleep(0.2)
            await c.ws.close()                      # the page reloads
            c = await Client.connect(port, "/ws/chat", "ctx.chat.v1")
            await c.send(type="resume", task=st["task"], key="0" * 32)
            f = await c.expect(typ("error"))
            assert f["code"] == "no_chat", f
            await c.ws.close()
            c = await Client.connect(port, "/ws/chat", "ctx.chat.v1")
            await c.send(type="resume", task=st["task"], key=st["key"])
            r = await c.expect(typ("resumed"))
            assert r["task"] == st["task"] and r["state"] == "queued", r
            assert [m["text"] for m in r["history"]] == ["Is anyone there?"], r
            await c.send(type="message", text="Still here")
            await asyncio.sleep(0.2)
            await c.ws.close()                      # gone for good this time
            return st["task"]
        task = asyncio.run(scenario())
        # presence_grace is 1 s in routing_rig: then the chat is abandoned
        wait_for(lambda: rig.redis.cmd("HGET", "ctx:{r}:task:" + task, "state") == "abandoned",
                 10, 0.1, "abandoned after the grace")
        msgs = rig.redis.cmd("LRANGE", "ctx:{r}:chat:%s:messages" % task, 0, -1)
        assert [json.loads(m)["text"] for m in msgs] == ["Is anyone there?", "Still here"], msgs
    finally:
        rig.close()


def test_done_sent_right_before_close_is_kept():
    """A console that sends done and closes at once (the agent logs out
    after the last task): the operation still runs, though the session is
    gone by the time the task's fields are read. It used to be dropped, the
    task left assigned and held."""
    from test_replies import post
    rig = routing_rig("route-done-close")
    try:
        t1 = add_agent(rig, "ann")
        rig.ctxd.start()
        port = rig.ctxd.port
        tasks = [post(port, "/api/callbacks", {"phone": "+7495000000%d" % i})[1]["task"]["id"]
                 for i in range(3)]

        async def scenario():
            for tid in tasks:
                ann, _ = await login(port, t1)
                # offered while she was away (the presence grace): resumed on login
                offer = await ann.expect(
                    lambda f: f.get("type") == "offer" or (
                        f.get("type") == "resume" and f.get("task", {}).get("state") == "offered"),
                    30, "offer of " + tid)
                got = offer["task"]["id"]
                await ann.send(type="accept", task=got)
                await ann.expect(typ("assigned"))
                await ann.send(type="done", task=got)
                await ann.ws.close()
                await asyncio.to_thread(
                    wait_for, lambda: rig.redis.cmd("HGET", "ctx:{r}:task:" + got, "state") == "done",
                    10, 0.05, got + " done")
                assert rig.redis.cmd("SISMEMBER", "ctx:{r}:agent:ann:tasks", got) == 0, got
        asyncio.run(scenario())
    finally:
        rig.close()
