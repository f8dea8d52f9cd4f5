"""A Redis that asks for a password (requirepass, and a Redis 6 ACL user):
ctxd sends AUTH on every connection before anything else, ctxctl too, the
pipeline and the API work as without one; the password can come from
CTX_REDIS_PASSWORD instead of the config file; a wrong one is said clearly
in the log, /healthz reports Redis down, and ctxd keeps retrying (it does
not crash, nor spin)."""
import os
import socket
import subprocess

from feedserver import FeedServer
from harness import CTXD, ROOT, Ctxd, Redis, Workdir, _read_reply, resp, wait_for
from test_pipeline import entry, write_feed

CTXCTL = os.path.join(ROOT, "bin-san/ctxctl" if "bin-san" in CTXD else "bin/ctxctl")

PASSWORD = "s3cret pass"        # a space: sent as one argument, not formatted


class AuthRedis(Redis):
    EXTRA = ["--requirepass", PASSWORD]

    def cmd(self, *args):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(resp("AUTH", PASSWORD) + resp(*args))
            f = s.makefile("rb")
            try:
                _read_reply(f)
            except RuntimeError:
                pass                # LOADING: the next reply says it too
            return _read_reply(f)


def test_redis_with_a_password():
    wd = Workdir("redis-auth")
    feeds = os.path.join(wd.path, "feeds")
    os.makedirs(feeds)
    write_feed(os.path.join(feeds, "acme.xml"), [entry(1, "Acme down", "Acme is down again")])
    redis = AuthRedis(wd.path).start()
    # an ACL user with the rights ctxd needs, next to the default user's password
    assert redis.cmd("ACL", "SETUSER", "ctxd", "on", ">ctxd-pw", "~ctx:*", "&*",
                     "+@all") == "OK"
    fs = FeedServer(feeds)
    fs.start()
    src = [{"name": "acme", "kind": "feed", "url": fs.url("acme.xml"), "every": "0.5s"}]
    nodes = []
    try:
        for name in ("user", "env", "wrong"):
            os.makedirs(os.path.join(wd.path, name))
        good = Ctxd(os.path.join(wd.path, "user"), redis.port, src,
                    extra={"redis_user": "ctxd", "redis_password": "ctxd-pw",
                           "log_level": "info"})
        nodes.append(good.start())
        wait_for(lambda: len(good.http("/api/items")[1]["items"]) == 1, 20,
                 what="the entry stored through an ACL user")
        assert good.http("/healthz")[1]["redis"] == "up"
        # ctxctl with the password from the environment only
        env = dict(os.environ, CTX_REDIS_PASSWORD=PASSWORD)
        bare = Ctxd(os.path.join(wd.path, "env"), redis.port, [], extra={"log_level": "info"})
        p = subprocess.run([CTXCTL, "-c", bare.config, "agent", "add", "ag1", "--name", "Ag"],
                           capture_output=True, text=True, timeout=10, env=env)
        assert p.returncode == 0, p.stderr
        assert redis.cmd("SISMEMBER", "ctx:{r}:agents", "ag1") == 1
        # without it, ctxctl says what was refused
        p = subprocess.run([CTXCTL, "-c", bare.config, "agent", "add", "ag2", "--name", "Ag"],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode != 0 and "AUTH" in p.stderr, p.stderr
        # and ctxd with it from the environment
        nodes.append(bare.start(env=env))
        assert bare.http("/healthz")[1]["redis"] == "up"
        # a wrong password: said once, Redis down, retried, ctxd alive
        wrong = Ctxd(os.path.join(wd.path, "wrong"), redis.port, [],
                     extra={"redis_password": "nope", "log_level": "info"})
        nodes.append(wrong.start())
        wait_for(lambda: "refused the password" in wrong.logtext(), 10,
                 what="the refused password in the log")
        assert wrong.http("/healthz", ok_only=False)[1]["redis"] == "down"

        def refused_conns():
            return {l.split("redis ")[1].split(":")[0] for l in wrong.logtext().splitlines()
                    if "refused the password" in l}

        def refused_auths():
            """AUTHs Redis refused (its ACL LOG counts repeats in one entry)"""
            entries = [dict(zip(e[::2], e[1::2])) for e in redis.cmd("ACL", "LOG", "128")]
            return sum(int(e["count"]) for e in entries if e.get("reason") == "auth")

        # one line per connection, not one per retry: once Redis has refused
        # each connection a few times
        wait_for(lambda: refused_auths() >= 3 * len(refused_conns()), 15,
                 what="the connections to be retried")
        log = wrong.logtext()
        assert "WRONGPASS" in log, log[-2000:]
        conns = refused_conns()
        lines = log.count("refused the password")
        assert lines <= 2 * len(conns), "%d lines for %d connections" % (lines, len(conns))
        assert wrong.alive()
    finally:
        for n in nodes:
            if n.alive():
                assert n.stop() == 0, "ctxd exit status:\n" + n.logtext()[-2000:]
        fs.stop()
        redis.stop()
        wd.cleanup()
