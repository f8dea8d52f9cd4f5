"""Voice callbacks that really dial, with real SIP peers on 127.0.0.1:
baresip as ctxd's dialer engine (ctrl_tcp), SIPp as the phones: the
agents' softphone (`sipp -sn uas`), and per queue a customer phone that
answers, is busy once, or never answers. Four agents work at once:

- ann: POST /api/callbacks -> offer -> accept -> the agent's phone, then
  the customer's (INVITE to the queue's URI with the E.164 digits) ->
  talking -> Hang up -> ended "answered" with talk_s -> done; then a
  customer in the chat asks "call me back" (a bad number gets the reason):
  the callback, due 2 s later (not_before), is offered no sooner, with the
  chat that led to it, and called;
- bob: busy -> back in the queue at its old order score, due after the
  retry delay -> offered again -> answered the second time;
- cid: no answer twice (ring timeout) -> abandoned with the reason,
  counted in /api/queues and `ctxctl queues`;
- eve: both phones are baresip answering by themselves, the agent's sending
  a 440 Hz tone and the customer's 880 Hz: each hears the other's tone
  through the engine's bridge (and not its own); the customer hangs up: the
  agent's leg is hung up too, ended "answered", reason "the customer hung
  up";
- fay: a callback due in a queue outside its calling hours is not called,
  and the console is told why;
- then dan, preview mode: nothing is dialled until Call; mid-call baresip is
  killed (-9): the call ends "failed", the task stays with dan, the dialer
  reconnects when baresip is back and Call works again; a supervisor hangs
  that call up, and sees the call figures in queue_stats.

Skips with a clear message where baresip or SIPp is missing."""
import asyncio
import json
import subprocess
import time

import sip
from harness import Ctxd, Redis, Workdir, check_kept_figures, close_rig, wait_for
from test_collect import CTXCTL
from test_replies import post
from test_routing import Client, add_agent, login, typ


def call(state=None, **kw):
    return lambda f: f.get("type") == "call" and (state is None or f.get("state") == state) \
        and all(f.get(k) == v for k, v in kw.items())


def task_hash(redis, tid):
    h = redis.cmd("HGETALL", "ctx:{r}:task:" + tid)
    return dict(zip(h[::2], h[1::2]))


async def offered(cl, timeout=15):
    o = await cl.expect(typ("offer"), timeout, "callback offer")
    assert o["task"]["channel"] == "callback", o
    await cl.send(type="accept", task=o["task"]["id"])
    await cl.expect(typ("assigned"), what="assigned")
    return o["task"]


async def talk_and_hang_up(cl, tid, talk=0.6):
    d = await cl.expect(call("dialing", leg="agent", task=tid), 10, "dialing the agent")
    assert d["attempt"] >= 1, d
    await cl.expect(call("dialing", leg="customer", task=tid), 10, "dialing the customer")
    t = await cl.expect(call("talking", task=tid), 10, "talking")
    assert t["since"] > 0, t
    await asyncio.sleep(talk)
    await cl.send(type="hangup", task=tid)
    e = await cl.expect(call("ended", task=tid), 10, "call ended")
    assert e["outcome"] == "answered" and float(e["talk_s"]) >= talk - 0.1, e
    return e


def test_callbacks_dial_through_baresip_to_sipp():
    why = sip.missing()
    if why:
        print("    SKIP test_dial: " + why)
        return
    wd = Workdir("dial")
    redis = Redis(wd.path).start()
    engine = sip.Baresip(wd.path)
    agents = sip.Sipp(wd.path, "agents").start()
    ok = sip.Sipp(wd.path, "ok").start()
    busy = sip.Sipp(wd.path, "busy", "busy", calls=1).start()
    none = sip.Sipp(wd.path, "none", "noanswer").start()
    cphone = sip.Baresip(wd.path, phone="74951000011", tone=880)
    aphone = sip.Baresip(wd.path, phone="eve", tone=440)
    peers = [agents, ok, none, cphone, aphone]

    def queue(name, phone, **kw):
        q = {"name": name, "channels": ["callback"], "skills": [name], "offer_timeout": "20s",
             "dial_uri": "sip:{digits}@127.0.0.1:%d" % phone.port}
        q.update(kw)
        return q
    ctxd = Ctxd(wd.path, redis.port, [], extra={
        "queues": [queue("ok", ok), queue("busy", busy), queue("none", none),
                   queue("kill", ok, callback_mode="preview"),
                   {"name": "cust", "channels": ["callback"], "skills": ["cust"],
                    "dial_uri": "sip:{digits}@127.0.0.1:%d" % cphone.sip_port},
                   # closed now: open for the hour that starts 3 hours from now (UTC)
                   queue("late", ok, calling_hours="%02d:00-%02d:00" % (
                       (time.gmtime().tm_hour + 3) % 24, (time.gmtime().tm_hour + 4) % 24)),
                   {"name": "chats", "channels": ["chat"], "skills": ["nobody"]}],
        "callback_queue": "ok", "chat_queue": "chats",
        "dialer": {"engine": "baresip", "address": "127.0.0.1:%d" % engine.ctrl_port,
                   "uri": "sip:{digits}@127.0.0.1:%d" % ok.port, "country_code": "7",
                   "ring_timeout": "1.5s", "agent_ring_timeout": "3s", "attempts": 2,
                   "retry_delays": ["1s"]}})
    try:
        engine.start()
        cphone.start()
        aphone.start()
        eve_sip = "sip:eve@127.0.0.1:%d" % aphone.sip_port
        tokens = {a: add_agent(ctxd, a, "--skills", s, "--capacity", "callback=1", "--sip",
                               eve_sip if a == "eve" else agents.uri(a))
                  for a, s in [("ann", "ok"), ("bob", "busy"), ("cid", "none"), ("dan", "kill"),
                                             ("eve", "cust"), ("fay", "late")]}
        sue = add_agent(ctxd, "sue", "--role", "supervisor")
        ctxd.start()
        port = ctxd.port
        wait_for(lambda: "dial: connected to baresip" in ctxd.logtext(), what="dialer up")

        # phone numbers: E.164, or a sentence saying what is wrong
        for phone, words in [("call me", "'c' at position 1"), ("+7 495 12", "digits"),
                             ("", "empty"), ("+7 495 123-45-67 ext 5", "'e' at position")]:
            st, body = post(port, "/api/callbacks", {"phone": phone, "queue": "ok"})
            assert st == 400 and body["error"] == "bad_phone" and words in body["message"], \
                (phone, body)
        tasks = {}
        for q, phone, want in [("ok", "+7 (495) 100-00-01", "+74951000001"),
                               ("busy", "8 495 100-00-02", "+74951000002"),
                               ("none", "00 7 495 100 00 03", "+74951000003")]:
            st, body = post(port, "/api/callbacks", {"phone": phone, "name": q, "queue": q})
            assert st == 201 and body["task"]["phone"] == want, body
            tasks[q] = body["task"]["id"]
        # outside the queue's calling hours: due at its next opening
        st, body = post(port, "/api/callbacks", {"phone": "+74951000010", "queue": "late"})
        opens = (int(time.time()) // 3600 + 3) * 3600 * 1000
        assert st == 201 and int(body["task"]["not_before"]) == opens, (body, opens)
        late = body["task"]["id"]

        async def ann():
            cl, _ = await login(port, tokens["ann"])
            t = await offered(cl)
            await talk_and_hang_up(cl, t["id"])
            await cl.send(type="done", task=t["id"])
            await cl.expect(typ("ok", op="done"))
            # "call me back" from a chat, not before 2 s from now
            cu = await Client.connect(port, "/ws/chat", "ctx.chat.v1")
            await cu.send(type="start", name="Eve")
            await cu.expect(typ("started"))
            await cu.send(type="message", text="my router is dead, please call me")
            await cu.send(type="callback", phone="+7 495 CALL")
            e = await cu.expect(typ("error"), what="bad phone")
            assert e["code"] == "bad_phone" and "'C' at position 8" in e["message"], e
            due = time.time() + 2
            await cu.send(type="callback", phone="+7 495 100-00-09", not_before=time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(due)))
            q = await cu.expect(typ("callback_queued"))
            assert q["phone"] == "+74951000009" and q["not_before"], q
            o = await cl.expect(typ("offer"), 10, "the chat's callback")
            assert time.time() >= int(due), "offered before not_before"
            assert o["task"]["parent"].startswith("chat:"), o
            assert [m["text"] for m in o["history"]] == ["my router is dead, please call me"], o
            await cl.send(type="accept", task=o["task"]["id"])
            await talk_and_hang_up(cl, o["task"]["id"], 0.2)
            await cl.send(type="done", task=o["task"]["id"])
            await cl.expect(typ("ok", op="done"))
            await cu.ws.close()
            await cl.ws.close()

        async def bob():
            cl, _ = await login(port, tokens["bob"])
            t = await offered(cl)
            tid = t["id"]
            order = task_hash(redis, tid)["order"]
            e = await cl.expect(call("ended", task=tid), 10, "busy")
            assert e["outcome"] == "busy" and "486" in e.get("reason", ""), e
            r = await cl.expect(typ("revoked", task=tid), 5, "revoked for the retry")
            assert r["reason"] == "retry", r
            h = task_hash(redis, tid)
            # back at its place: the same order score, due after the delay
            assert h["state"] == "queued" and h["outcome"] == "busy", h
            assert float(redis.cmd("ZSCORE", "ctx:{r}:queue:busy:waiting", tid)) == float(order)
            due = int(h["not_before"])
            assert 800 <= due - int(time.time() * 1000) <= 1100, h
            # the phone answers now
            busy.wait_exit()
            busy.scenario, busy.calls = "uas", None
            busy.start()
            peers.append(busy)
            t2 = await offered(cl)
            assert t2["id"] == tid and int(time.time() * 1000) >= due, t2
            assert t2["outcome"] == "busy" and t2["call_attempts"] == "1", t2
            await talk_and_hang_up(cl, tid, 0.3)
            await cl.send(type="done", task=tid)
            await cl.expect(typ("ok", op="done"))
            await cl.ws.close()

        async def cid():
            cl, _ = await login(port, tokens["cid"])
            for attempt in (1, 2):
                t = await offered(cl)
                await cl.expect(call("ringing", leg="customer", task=t["id"]), 10, "ringing")
                e = await cl.expect(call("ended", task=t["id"]), 10, "no answer")
                assert e["outcome"] == "no_answer", e
                r = await cl.expect(typ("revoked", task=t["id"]), 5, "revoked")
                assert r["reason"] == ("retry" if attempt == 1 else "no_answer"), r
            await cl.ws.close()

        async def eve():
            cl, _ = await login(port, tokens["eve"])
            st, body = post(port, "/api/callbacks", {"phone": "+74951000011", "queue": "cust"})
            t = await offered(cl)
            await cl.expect(call("talking", task=t["id"]), 10, "talking")
            await asyncio.sleep(1.0)                 # they talk
            cphone.command("hangup")                 # the customer hangs up
            e = await cl.expect(call("ended", task=t["id"]), 10, "the customer hung up")
            assert e["outcome"] == "answered" and e["reason"] == "the customer hung up", e
            wait_for(lambda: "Active calls (0)" in aphone.command("listcalls"), 5,
                     what="the agent's leg hung up too")
            # each heard the other through the bridge, not its own tone looped back
            agent_heard, customer_heard = aphone.heard(880, 440), cphone.heard(440, 880)
            assert agent_heard[880] > 2000 and agent_heard[440] < 400, agent_heard
            assert customer_heard[440] > 2000 and customer_heard[880] < 400, customer_heard
            await cl.send(type="done", task=t["id"])
            await cl.expect(typ("ok", op="done"))
            await cl.ws.close()

        async def fay():
            # a callback due now in a queue closed now (its hours changed, say): offered,
            # accepted, and not called, the agent told why
            cl, _ = await login(port, tokens["fay"])
            redis.cmd("HSET", "ctx:{r}:task:" + late, "not_before", 0)
            t = await offered(cl)
            e = await cl.expect(call("ended", task=t["id"]), 10, "not called")
            assert e["outcome"] == "not_called" and "outside the calling hours" in e["reason"], e
            assert not [f for f in cl.frames if f.get("type") == "call"], cl.frames
            await cl.send(type="done", task=t["id"])
            await cl.expect(typ("ok", op="done"))
            await cl.ws.close()

        async def dan():
            cl, _ = await login(port, tokens["dan"])
            st, body = post(port, "/api/callbacks", {"phone": "+74951000004", "queue": "kill"})
            t = await offered(cl)
            tid = t["id"]
            await asyncio.sleep(0.5)        # preview: nothing is dialled before Call
            assert not [f for f in cl.frames if f.get("type") == "call"], cl.frames
            await cl.send(type="call", task=tid)
            await cl.expect(typ("ok", op="call"))
            await cl.expect(call("talking", task=tid), 10, "talking")
            engine.kill()
            e = await cl.expect(call("ended", task=tid), 10, "the call fails with baresip")
            assert e["outcome"] == "failed" and "went away" in e["reason"], e
            h = task_hash(redis, tid)
            assert h["state"] == "assigned" and h["agent"] == "dan", h
            engine.start()
            wait_for(lambda: ctxd.logtext().count("dial: connected to baresip") >= 2, 10,
                     what="the dialer to reconnect")
            await cl.send(type="call", task=tid)
            await cl.expect(call("talking", task=tid), 10, "talking again")
            # the supervisor sees it and hangs it up
            sv = await Client.connect(port, "/ws/agent", "ctx.agent.v1")
            await sv.send(type="hello", token=sue, **{"as": "supervisor"})
            await sv.expect(typ("welcome"))
            qs = await sv.expect(lambda f: f.get("type") == "queue_stats" and any(
                t.get("call") == "talking" for a in f["agents"] for t in a["tasks"]), 10,
                "queue_stats with dan's call talking")
            assert qs["calls"]["placed"] >= 6 and qs["calls"]["failed"]["busy"] == 1, qs["calls"]
            await sv.send(type="hangup", task=tid)
            await sv.expect(typ("ok", op="hangup"))
            e = await cl.expect(call("ended", task=tid), 10, "hung up by the supervisor")
            assert e["outcome"] == "answered", e
            await sv.ws.close()
            await cl.send(type="done", task=tid)
            await cl.expect(typ("ok", op="done"))
            await cl.ws.close()

        async def scenario():
            await asyncio.gather(ann(), bob(), cid(), eve(), fay())
            await dan()
        asyncio.run(scenario())

        # every leg was hung up: baresip holds no call. The customer's leg of the last
        # call ends a few ms after the agent's, which ended it on the console: wait for
        # its BYE (every call to `ok` gets one but the one baresip was killed in) before
        # asking baresip, whose ctrl_tcp takes one client: asking drops ctxd's connection.
        wait_for(lambda: len(ok.requests("BYE")) >= len(ok.invites()) - 1, 5,
                 what="the BYE of every customer's leg")
        calls = engine.command("listcalls")
        assert "Active calls (0)" in calls, calls
        h = task_hash(redis, tasks["ok"])
        assert h["state"] == "done" and h["outcome"] == "answered", h
        assert float(h["talk_s"]) >= 0.5 and h["call_attempts"] == "1", h
        h = task_hash(redis, tasks["busy"])
        assert h["state"] == "done" and h["outcome"] == "answered", h
        assert h["call_attempts"] == "2", h
        h = task_hash(redis, tasks["none"])
        assert h["state"] == "abandoned" and h["abandon_reason"] == "no_answer", h
        assert h["call_attempts"] == "2", h
        # the customers' phones got the E.164 digits at their queue's URI
        assert [i[1].split()[1].split(";")[0] for i in ok.invites()][:1] == \
            ["sip:74951000001@127.0.0.1:%d" % ok.port], ok.invites()
        assert len(none.invites()) == 2, none.invites()
        qs = {q["name"]: q for q in ctxd.http("/api/queues")[1]["queues"]}
        assert qs["none"]["abandoned"] == 1 and qs["ok"]["abandoned"] == 0, qs
        out = subprocess.run([CTXCTL, "-c", ctxd.config, "queues", "--json"],
                             capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, out.stderr
        cq = {q["name"]: q for q in json.loads(out.stdout)["queues"]}
        assert cq["none"]["abandoned"] == 1, cq
        metrics = ctxd.http("/metrics")[1]
        for line in ["ctx_calls_placed_total 9", "ctx_calls_answered_total 5",
                     'ctx_calls_failed_total{outcome="busy"} 1',
                     'ctx_calls_failed_total{outcome="no_answer"} 2',
                     'ctx_calls_failed_total{outcome="failed"} 1']:
            assert line + "\n" in metrics, (line, metrics[metrics.find("ctx_calls"):])
        # retries and abandons kept the routing figures (ready set, live counts)
        check_kept_figures(redis)
    finally:
        try:
            close_rig(ctxd, redis, wd, engine, *peers, busy)
        finally:
            for p in peers + [busy, engine]:
                p.stop()
