"""An angry Mastodon mention, served by a loopback Mastodon, is escalated,
offered to a logged-in agent over /ws/agent, accepted and answered; the
reply goes through the outbox and reaches the server as a status with the
right in_reply_to_id and an Idempotency-Key, surviving a 503 and a 429 with
retries; the agent hears reply_status. A reply the network refuses (422)
ends failed with the network's error."""
import asyncio
import json
import os

from harness import Ctxd, Redis, Workdir, wait_for
from mastodon_server import MastodonServer
from test_routing import Client, add_agent, login, typ


def test_mastodon_mention_to_reply():
    wd = Workdir("mastodon")
    redis = Redis(wd.path).start()
    m = MastodonServer()
    m.start()
    angry = m.add("My @acme order never arrived, terrible service, I am furious")
    m.add("Lovely day with my acme kettle, great kettle", acct="bob")
    c = Ctxd(wd.path, redis.port,
             [{"name": "acme-masto", "kind": "mastodon", "url": m.url(), "tag": "acme",
               "every": "0.3s", "token": "t0k3n-for-tests"}],
             extra={"queues": [{"name": "social", "offer_timeout": "20s"}],
                    "escalation": [{"queue": "social", "sentiment": "negative"}]})
    try:
        token = add_agent(c, "ann")
        c.start()

        async def scenario():
            ann, _ = await login(c.port, token)
            offer = await ann.expect(typ("offer"), 15, "offer of the angry toot")
            item = offer["item"]
            assert item["id"] == "mastodon:127.0.0.1:%s" % angry["id"], item["id"]
            assert item["author"]["followers"] == 1200 and item["reply_to"]["network"] == "mastodon"
            tid = offer["task"]["id"]
            await ann.send(type="accept", task=tid)
            await ann.expect(typ("assigned"))
            m.fail_posts = [(503, {}, {"error": "busy"}), (429, {"Retry-After": "1"},
                                                            {"error": "Too many requests"})]
            await ann.send(type="reply", task=tid, text="We are sorry! DM us your order number.")
            q = await ann.expect(typ("reply_status", status="queued"), what="queued")
            await ann.expect(typ("reply_status", status="retrying"), 10, "retry after 503")
            posted = await ann.expect(typ("reply_status", status="posted"), 20, "posted")
            assert posted["reply"] == q["reply"] and posted["ref"], posted
            await ann.send(type="done", task=tid)
            # a reply the network refuses: failed, with its words
            m.fail_posts = [(422, {}, {"error": "Validation failed: Text character limit of 500 exceeded"})]
            st = await asyncio.to_thread(
                lambda: __import__("test_replies").post(
                    c.port, "/api/replies", {"item": item["id"], "text": "x" * 600, "id": "r-long"}))
            assert st[0] == 202 and st[1]["reply"]["status"] == "queued", st
            await asyncio.to_thread(
                wait_for, lambda: c.http("/api/replies/r-long")[1]["reply"]["status"] == "failed",
                15, 0.1, "failed reply")
            await ann.ws.close()
        asyncio.run(scenario())
        made = m.replies()
        assert len(made) == 1, made            # retried twice, posted once
        assert made[0]["in_reply_to_id"] == angry["id"], made
        assert all(h.get("Authorization") == "Bearer t0k3n-for-tests" for h, f in m.posts)
        keys = [h.get("Idempotency-Key") for h, f in m.posts[:3]]
        assert keys[0] and keys == [keys[0]] * 3, "same key on every retry: %r" % keys
        r = c.http("/api/replies/r-long")[1]["reply"]
        assert "character limit" in r["error"], r
        assert c.stop() == 0
        assert "t0k3n" not in c.logtext(), "the token was logged"
    finally:
        if c.alive():
            c.stop()
        m.stop()
        redis.stop()
        wd.cleanup()


def test_a_reply_whose_status_redis_refused_is_posted_soon_after():
    """Redis refuses writes (maxmemory) while a reply is on its way: the
    outbox cannot record the network's answer, and the reply's entry stays
    pending. It is read again by itself, with a back-off, and posted once
    Redis takes writes again -- not claim_idle later (an hour here)."""
    wd = Workdir("mastodon-oom")
    redis = Redis(wd.path).start()
    m = MastodonServer()
    m.start()
    toot = m.add("My @acme order never arrived")
    c = Ctxd(wd.path, redis.port,
             [{"name": "acme-masto", "kind": "mastodon", "url": m.url(), "tag": "acme",
               "every": "0.3s", "token": "t0k3n-for-tests"}],
             extra={"claim_idle": "1h", "log_level": "info"})
    try:
        c.start()
        item = "mastodon:127.0.0.1:%s" % toot["id"]
        wait_for(lambda: any(i["id"] == item for i in c.http("/api/items?limit=5")[1]["items"]),
                 15, 0.1, "the toot stored")
        m.gate.clear()                                  # the network holds its answer
        m.fail_posts = [(503, {}, {"error": "busy"})]
        st = __import__("test_replies").post(c.port, "/api/replies",
                                              {"item": item, "text": "Sorry!", "id": "r-oom"})
        assert st[0] == 202, st
        wait_for(lambda: len(m.posts) == 1, 15, 0.05, "the reply posted, its answer held")
        redis.cmd("CONFIG", "SET", "maxmemory", "1")    # writes refused from here
        m.gate.set()                                    # 503: "retrying" cannot be written
        wait_for(lambda: "outbox" in c.logtext() and "left pending; reading them again"
                 in c.logtext(), 15, 0.1, "the reply's entry to be read again")
        redis.cmd("CONFIG", "SET", "maxmemory", "0")
        wait_for(lambda: c.http("/api/replies/r-oom")[1]["reply"]["status"] == "posted",
                 40, 0.2, "the reply posted once Redis takes writes")
        made = m.replies()
        assert len(made) == 1 and made[0]["in_reply_to_id"] == toot["id"], made
        assert redis.cmd("XPENDING", "ctx:{r}:outbox", "post")[0] == 0
    finally:
        m.gate.set()
        if c.alive():
            c.stop()
        m.stop()
        redis.stop()
        wd.cleanup()
