"""Roles, with "auth": true: the API wants a token and checks its role,
the monitor wants a hello first, viewers cannot take tasks, supervisors get
queue_stats on their websocket. /healthz, /metrics and callbacks stay open."""
import asyncio
import json
import urllib.error
import urllib.request

import websockets

from harness import wait_for
from test_pipeline import Rig
from test_routing import Client, add_agent, typ


def get(port, path, token=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path))
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def auth_rig(name):
    """A pipeline rig with "auth": true and one queue."""
    rig = Rig(name)
    with open(rig.ctxd.config) as f:
        cfg = json.load(f)
    cfg.update({"auth": True, "queues": [{"name": "support"}]})
    with open(rig.ctxd.config, "w") as f:
        json.dump(cfg, f)
    return rig


def test_roles_and_tokens():
    rig = auth_rig("auth")
    try:
        viewer = add_agent(rig, "vic", "--role", "viewer")
        agent = add_agent(rig, "ann")
        boss = add_agent(rig, "sue", "--role", "supervisor")
        rig.ctxd.start()
        port = rig.ctxd.port
        wait_for(lambda: get(port, "/api/items?limit=5", viewer)[1]["items"], what="an item")
        assert get(port, "/api/items")[0] == 401
        assert get(port, "/api/items", "not-a-token")[0] == 401
        assert get(port, "/api/queues", viewer)[0] == 403
        assert get(port, "/api/queues", agent)[0] == 403
        st, body = get(port, "/api/queues", boss)
        assert st == 200 and body["queues"][0]["name"] == "support", body
        assert get(port, "/api/agents", boss)[0] == 200
        assert get(port, "/healthz")[0] == 200 and get(port, "/api/sources", viewer)[0] == 200
        req = urllib.request.Request("http://127.0.0.1:%d/api/replies" % port,
                                     data=b'{"item":"x","text":"y"}',
                                     headers={"Authorization": "Bearer " + viewer})
        try:
            urllib.request.urlopen(req, timeout=5)
            raise AssertionError("a viewer posted a reply")
        except urllib.error.HTTPError as e:
            assert e.code == 403

        async def sockets():
            # the monitor: nothing before hello; a viewer's hello lets items through
            m = await Client.connect(port, "/ws/monitor", "ctx.monitor.v1")
            await m.send(type="filter", since="0-0")
            f = await m.expect(typ("error"))
            assert f["code"] == "auth", f
            m = await Client.connect(port, "/ws/monitor", "ctx.monitor.v1")
            await m.send(type="hello", token=viewer)
            await m.send(type="filter", since="0-0")
            w = await m.expect(typ("welcome"))
            assert w["role"] == "viewer", w
            it = await m.expect(typ("item"))
            assert it["item"]["id"].startswith("feed:acme:"), it
            await m.ws.close()
            # a viewer cannot take tasks
            a = await Client.connect(port, "/ws/agent", "ctx.agent.v1")
            await a.send(type="hello", token=viewer)
            f = await a.expect(typ("error"))
            assert f["code"] == "auth", f
            # a supervisor gets queue_stats
            s = await Client.connect(port, "/ws/agent", "ctx.agent.v1")
            await s.send(type="hello", token=boss)
            w = await s.expect(typ("welcome"))
            assert w["agent"]["role"] == "supervisor", w
            q = await s.expect(typ("queue_stats"), 6, "queue_stats")
            assert q["queues"][0]["name"] == "support" and \
                {a["id"] for a in q["agents"]} == {"ann", "sue"}, q
            await s.ws.close()
            # the supervisor view watches: no agent connection counted, no tasks
            a = await Client.connect(port, "/ws/agent", "ctx.agent.v1")
            await a.send(type="hello", token=agent, **{"as": "supervisor"})
            f = await a.expect(typ("error"))
            assert f["code"] == "auth", f
            s = await Client.connect(port, "/ws/agent", "ctx.agent.v1")
            await s.send(type="hello", token=boss, **{"as": "supervisor"})
            w = await s.expect(typ("welcome"))
            assert w.get("watching") is True, w
            await s.send(type="state", state="available")
            f = await s.expect(typ("error"))
            assert f["code"] == "watching", f
            await s.expect(typ("queue_stats"), 6, "queue_stats while watching")
            conns = rig.redis.cmd("HGET", "ctx:{r}:agent:sue", "conns")
            assert conns in ("0", None), conns
            await s.ws.close()
        asyncio.run(sockets())
    finally:
        rig.close()


def test_tokens_are_sha256_and_old_sha1_tokens_move():
    """Tokens are kept as their SHA-256; a token kept as SHA-1 (made before)
    still logs in, on the API and on the agent's websocket, and is moved."""
    import hashlib
    rig = auth_rig("auth-sha")
    try:
        boss = add_agent(rig, "sue", "--role", "supervisor")
        ann = add_agent(rig, "ann")
        s256 = hashlib.sha256(boss.encode()).hexdigest()
        assert rig.redis.cmd("GET", "ctx:{r}:agent-token:" + s256) == "sue"
        assert rig.redis.cmd("HGET", "ctx:{r}:agent:sue", "token_sha") == s256
        # make both tokens look as an older ctxctl left them
        for who, tok in (("sue", boss), ("ann", ann)):
            new = hashlib.sha256(tok.encode()).hexdigest()
            old = hashlib.sha1(tok.encode()).hexdigest()
            rig.redis.cmd("RENAME", "ctx:{r}:agent-token:" + new, "ctx:{r}:agent-token:" + old)
            rig.redis.cmd("HSET", "ctx:{r}:agent:" + who, "token_sha", old)
        rig.ctxd.start()
        port = rig.ctxd.port
        assert get(port, "/api/queues", boss)[0] == 200
        assert rig.redis.cmd("GET", "ctx:{r}:agent-token:" + s256) == "sue"
        assert rig.redis.cmd("EXISTS", "ctx:{r}:agent-token:" +
                             hashlib.sha1(boss.encode()).hexdigest()) == 0
        assert rig.redis.cmd("HGET", "ctx:{r}:agent:sue", "token_sha") == s256

        async def sockets():
            a = await Client.connect(port, "/ws/agent", "ctx.agent.v1")
            await a.send(type="hello", token=ann)
            w = await a.expect(typ("welcome"))
            assert w["agent"]["id"] == "ann", w
            await a.ws.close()
            b = await Client.connect(port, "/ws/agent", "ctx.agent.v1")
            await b.send(type="hello", token="not-" + ann)
            f = await b.expect(typ("error"))
            assert f["code"] == "auth", f
        asyncio.run(sockets())
        assert rig.redis.cmd("GET", "ctx:{r}:agent-token:" +
                             hashlib.sha256(ann.encode()).hexdigest()) == "ann"
    finally:
        rig.close()


def test_agent_add_twice_capacity_and_del():
    """agent add refuses an id that exists (--replace rewrites it with a new
    token), --capacity changes only the channels it names and refuses what is
    not a number, agent del deletes a logged-out agent and its token."""
    import subprocess
    from test_collect import CTXCTL
    rig = Rig("agent-cli")
    try:
        cfg = rig.ctxd.config

        def ctl(*args):
            return subprocess.run([CTXCTL, "-c", cfg] + list(args), capture_output=True,
                                  text=True, timeout=10)
        p = ctl("agent", "add", "ann", "--capacity", "chat=2")
        assert p.returncode == 0, p.stderr
        tok1 = p.stdout.strip().splitlines()[-1]
        caps = [rig.redis.cmd("HGET", "ctx:{r}:agent:ann", "cap:" + c)
                for c in ("chat", "social", "callback")]
        assert caps == ["2", "5", "1"], caps
        p = ctl("agent", "add", "ann")
        assert p.returncode == 1 and "exists" in p.stderr and "--replace" in p.stderr, p
        p = ctl("agent", "add", "ann", "--capacity", "chat=x")
        assert p.returncode == 2 and "chat=x" in p.stderr, p
        p = ctl("agent", "add", "ann", "--capacity", "chat=3,social=-1")
        assert p.returncode == 2, p
        rig.redis.cmd("HSET", "ctx:{r}:agent:ann", "handled", "7")
        p = ctl("agent", "add", "ann", "--replace", "--name", "Ann Lee")
        assert p.returncode == 0, p.stderr
        tok2 = p.stdout.strip().splitlines()[-1]
        assert tok2 != tok1
        assert rig.redis.cmd("HGET", "ctx:{r}:agent:ann", "handled") == "7"
        assert rig.redis.cmd("HGET", "ctx:{r}:agent:ann", "name") == "Ann Lee"
        import hashlib
        assert rig.redis.cmd("EXISTS", "ctx:{r}:agent-token:" +
                             hashlib.sha256(tok1.encode()).hexdigest()) == 0
        # busy: refused; logged out and idle: deleted with its token
        rig.redis.cmd("HSET", "ctx:{r}:agent:ann", "load:chat", "1")
        p = ctl("agent", "del", "ann")
        assert p.returncode == 1 and "logged out" in p.stderr, p
        rig.redis.cmd("HSET", "ctx:{r}:agent:ann", "load:chat", "0")
        p = ctl("agent", "del", "ann")
        assert p.returncode == 0, p.stderr
        assert rig.redis.cmd("EXISTS", "ctx:{r}:agent:ann") == 0
        assert rig.redis.cmd("SISMEMBER", "ctx:{r}:agents", "ann") == 0
        assert rig.redis.cmd("EXISTS", "ctx:{r}:agent-token:" +
                             hashlib.sha256(tok2.encode()).hexdigest()) == 0
        p = ctl("agent", "del", "ann")
        assert p.returncode == 1 and "no agent" in p.stderr, p
    finally:
        rig.close()
