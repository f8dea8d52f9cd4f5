"""Polling like a good citizen, against a loopback server that behaves like
a real feed host: 429 with Retry-After, errors and backoff, per-host
concurrency, redirects, gzip, body size cap, the User-Agent, and the
source state in /api/sources and `ctxctl sources`."""
import json
import os
import subprocess
import time

from feedserver import FeedServer
from harness import CTXD, ROOT, Ctxd, Redis, Workdir, wait_for
from test_pipeline import E1, E2, write_feed

CTXCTL = os.path.join(ROOT, "bin-san/ctxctl" if "bin-san" in CTXD else "bin/ctxctl")


class Rig:
    def __init__(self, name, sources, extra=None, nfeeds=1):
        self.wd = Workdir(name)
        self.feeds = os.path.join(self.wd.path, "feeds")
        os.makedirs(self.feeds)
        for i in range(nfeeds):
            write_feed(os.path.join(self.feeds, "f%d.xml" % i), [E2, E1])
        self.redis = Redis(self.wd.path).start()
        self.fs = FeedServer(self.feeds)
        self.fs.start()
        self.ctxd = Ctxd(self.wd.path, self.redis.port, sources(self.fs), extra=extra)

    def close(self):
        try:
            if self.ctxd.alive():
                assert self.ctxd.stop() == 0, "ctxd exit status"
        finally:
            self.redis.stop()
            self.fs.stop()
            self.wd.cleanup()

    def state(self, name):
        for s in self.ctxd.http("/api/sources")[1]["sources"]:
            if s["name"] == name:
                return s
        raise AssertionError("no source %s" % name)


def feed(fs, name="a", path="f0.xml", every="0.2s", **kw):
    d = {"name": name, "kind": "feed", "url": fs.url(path), "every": every}
    d.update(kw)
    return d


def test_retry_after_and_backoff_and_state():
    rig = Rig("politeness", lambda fs: [feed(fs)])
    try:
        # first two answers: 429 with Retry-After: 2, then 500 twice
        rig.fs.fail_next = [(429, {"Retry-After": "2"}), (500, {}), (500, {})]
        rig.ctxd.start()
        wait_for(lambda: rig.fs.count("f0.xml") >= 1, what="first poll")
        t429 = time.monotonic()
        wait_for(lambda: rig.fs.count("f0.xml") >= 2, timeout=10, what="poll after 429")
        waited = time.monotonic() - t429
        # every is 0.2 s: only Retry-After explains a wait this long
        assert waited >= 1.5, "polled again %.2f s after a 429 with Retry-After: 2" % waited
        wait_for(lambda: rig.fs.count("f0.xml") >= 3, timeout=10, what="retry after 500")
        st = rig.state("a")["state"]
        assert st.get("failures", 0) >= 1 and st.get("last_error") == "HTTP 500", st
        # the two 500s back off: 0.4 s then 0.8 s (x0.9-1.1): still fewer polls than every 0.2 s
        wait_for(lambda: rig.fs.count("f0.xml") >= 5, timeout=15, what="recovery")
        wait_for(lambda: len(rig.ctxd.http("/api/items")[1]["items"]) == 2, what="items")
        wait_for(lambda: rig.state("a")["state"].get("failures") == 0, what="failures reset")
        st = rig.state("a")["state"]
        assert st["items_seen"] == 2 and st["last_status"] in (200, 304), st
        assert "last_ok" in st and "next_poll" in st, st
        assert "etag" not in st and "cursor" not in st, "protocol details leaked: %r" % st
        # ctxctl sources prints the same
        out = subprocess.run([CTXCTL, "-c", rig.ctxd.config, "sources"], capture_output=True,
                             text=True, timeout=10)
        assert out.returncode == 0, out.stderr
        line = [l for l in out.stdout.splitlines() if l.startswith("a ")]
        assert line and " feed " in line[0] and " 2 " in line[0], out.stdout
        assert any("ContextCenter/" in ua for ua in rig.fs.user_agents), rig.fs.user_agents
    finally:
        rig.close()


def test_retry_after_as_an_http_date():
    """Retry-After may be an HTTP-date (RFC 9110): read as curl reads dates."""
    import email.utils
    rig = Rig("retry-date", lambda fs: [feed(fs)])
    try:
        when = email.utils.formatdate(time.time() + 4, usegmt=True)
        rig.fs.fail_next = [(503, {"Retry-After": when})]
        rig.ctxd.start()
        wait_for(lambda: rig.fs.count("f0.xml") >= 1, what="first poll")
        t503 = time.monotonic()
        wait_for(lambda: rig.fs.count("f0.xml") >= 2, timeout=10, what="poll after 503")
        waited = time.monotonic() - t503
        assert waited >= 1.5, "polled again %.2f s after Retry-After: %s" % (waited, when)
    finally:
        rig.close()


def test_per_host_limit_redirect_gzip_and_size_cap():
    n = 12

    def sources(fs):
        out = [feed(fs, "s%d" % i, "f%d.xml" % i, every="0.5s") for i in range(n)]
        out.append(feed(fs, "moved", "old.xml", every="1s"))
        out.append(feed(fs, "big", "big.xml", every="1s", max_bytes="2KB"))
        return out
    rig = Rig("per-host", sources, extra={"per_host": 2}, nfeeds=n)
    try:
        rig.fs.delay = 0.1
        rig.fs.gzip = True
        rig.fs.redirects["/old.xml"] = rig.fs.url("f0.xml")
        with open(os.path.join(rig.feeds, "big.xml"), "w") as f:
            f.write("<rss><channel>" + "<item><title>x</title></item>" * 500 + "</channel></rss>")
        rig.ctxd.start()
        wait_for(lambda: all(rig.fs.count("f%d.xml" % i) >= 2 for i in range(n)), timeout=30,
                 what="every feed polled twice")
        assert rig.fs.max_active <= 2, "%d requests at once to one host" % rig.fs.max_active
        # the redirected source got the items of f0.xml (ids are per source)
        wait_for(lambda: rig.state("moved")["state"].get("items_seen") == 2, what="redirect")
        # gzip was used and decoded
        assert rig.fs.gzipped > 0, "no compressed response was asked for"
        ids = {i["id"] for i in rig.ctxd.http("/api/items?limit=200")[1]["items"]}
        assert "feed:s3:post-2" in ids and "feed:moved:post-1" in ids, sorted(ids)[:5]
        # the body over its cap is refused with a clear error
        wait_for(lambda: "body over" in str(rig.state("big")["state"].get("last_error")),
                 what="size cap error")
        assert not any(i.startswith("feed:big:") for i in ids)
    finally:
        rig.close()
