"""Watching the pipeline (issue 11; docs/operations.md): /metrics counts what
the feed server served as collected and tagged, and shows every group's
lag; /healthz says degraded while no analyzer reads the raw stream (never
started, then stopped) and ok once one has caught up; a poison entry is
dead-lettered, listed by `ctxctl dead`, and tagged once replayed."""
import json
import os
import subprocess
import time

from feedserver import FeedServer
from harness import Ctxd, Redis, Workdir, wait_for
from test_collect import CTXCTL
from test_pipeline import entry, write_feed

DOCUMENTED = [
    "ctx_polls_total", "ctx_fetch_errors_total", "ctx_items_collected_total",
    "ctx_items_tagged_total", "ctx_dead_letters_total", "ctx_replies_posted_total",
    "ctx_replies_failed_total", "ctx_reply_retries_total", "ctx_analyze_pass_seconds",
    "ctx_analyze_pass_seconds_max", "ctx_route_pass_seconds", "ctx_stream_entries",
    "ctx_dead_letter_entries", "ctx_group_lag", "ctx_group_pending", "ctx_group_consumers",
    "ctx_group_oldest_pending_seconds", "ctx_group_oldest_unread_seconds", "ctx_redis_up",
]
RAW = 'stream="ctx:{i}:items:raw",group="analyze"'


def entries(first, n):
    return [entry(i, "Acme post %d" % i, "Acme is fine today, post number %d." % i)
            for i in range(first, first + n)]


def scrape(ctxd):
    """{'name{labels}': value} of every sample of /metrics."""
    status, text = ctxd.http("/metrics")
    assert status == 200, text
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def health(ctxd):
    got = ctxd.http("/healthz", ok_only=False)
    assert got is not None, "ctxd does not answer"
    return got


class Rig:
    def __init__(self, name, extra=None):
        self.wd = Workdir(name)
        self.feeds = os.path.join(self.wd.path, "feeds")
        os.makedirs(self.feeds)
        self.feed = os.path.join(self.feeds, "acme.xml")
        self.redis = Redis(self.wd.path).start()
        self.fs = FeedServer(self.feeds)
        self.fs.start()
        src = [{"name": "acme", "kind": "feed", "url": self.fs.url("acme.xml"),
                "every": "0.3s"}]
        self.ctxd = Ctxd(self.wd.path, self.redis.port, src, extra=extra)
        self.others = []

    def analyzer(self):
        """A second ctxd that only analyzes (no HTTP), in a folder of its own."""
        d = os.path.join(self.wd.path, "analyzer%d" % len(self.others))
        os.makedirs(d)
        a = Ctxd(d, self.redis.port, [], extra={"consumer": "an%d" % len(self.others)})
        self.others.append(a)
        return a.start(wait=False, args=["--roles", "analyze"])

    def ctxctl(self, *args):
        return subprocess.run([CTXCTL, "-c", self.ctxd.config] + list(args),
                              capture_output=True, text=True, timeout=20)

    def close(self):
        try:
            for c in [self.ctxd] + self.others:
                if c.alive():
                    assert c.stop() == 0, "ctxd exit status"
        finally:
            self.redis.stop()
            self.fs.stop()
            self.wd.cleanup()


def test_metrics_count_what_was_served_and_show_the_lag():
    rig = Rig("metrics")
    try:
        write_feed(rig.feed, entries(1, 5))
        rig.fs.fail_next = [(500, {}), (404, {})]      # two failed polls first
        rig.ctxd.start()
        wait_for(lambda: scrape(rig.ctxd).get("ctx_items_tagged_total") == 5, timeout=20,
                 what="the five items served counted as tagged")
        m = scrape(rig.ctxd)
        assert m['ctx_items_collected_total{kind="feed"}'] == 5, m
        assert m['ctx_fetch_errors_total{kind="feed",error="http_5xx"}'] == 1, m
        assert m['ctx_fetch_errors_total{kind="feed",error="http_4xx"}'] == 1, m
        assert m["ctx_analyze_pass_seconds_count"] >= 1, m
        assert m['ctx_analyze_pass_seconds_bucket{le="+Inf"}'] == \
            m["ctx_analyze_pass_seconds_count"], m
        assert m["ctx_analyze_pass_seconds_max"] > 0, m
        assert m["ctx_group_lag{%s}" % RAW] == 0 and m["ctx_group_pending{%s}" % RAW] == 0, m
        assert m["ctx_group_consumers{%s}" % RAW] == 1, m
        assert m['ctx_stream_entries{stream="ctx:{i}:items:raw"}'] == 0, m   # tagged, deleted
        assert m['ctx_stream_entries{stream="ctx:{i}:items:tagged"}'] == 5, m
        polls = m['ctx_polls_total{kind="feed"}']
        assert polls >= 3, m
        wait_for(lambda: scrape(rig.ctxd)['ctx_polls_total{kind="feed"}'] > polls,
                 what="polls moving")
        _, text = rig.ctxd.http("/metrics")
        for name in DOCUMENTED:
            assert "# TYPE %s " % name in text and "# HELP %s " % name in text, name
        # three more served: eight in all, each once
        write_feed(rig.feed, entries(1, 8))
        wait_for(lambda: scrape(rig.ctxd).get("ctx_items_tagged_total") == 8, timeout=20,
                 what="eight items tagged")
        m = scrape(rig.ctxd)
        assert m['ctx_items_collected_total{kind="feed"}'] == 8, m
        # an entry that is not an item: dead-lettered, counted by reason
        rig.redis.cmd("XADD", "ctx:{i}:items:raw", "*", "id", "junk", "item", "{not json")
        wait_for(lambda: scrape(rig.ctxd).get(
            'ctx_dead_letters_total{group="analyze",reason="not_json"}') == 1,
            what="the junk entry counted as a dead letter")
        assert scrape(rig.ctxd)['ctx_dead_letter_entries{stream="ctx:{i}:items:dead"}'] == 1
        status, body = health(rig.ctxd)
        assert status == 200 and body["status"] == "ok", body
        assert body["groups"]["analyze"]["dead_letters"] == 1, body
    finally:
        rig.close()


def test_healthz_degraded_while_nobody_analyzes_and_ok_once_caught_up():
    rig = Rig("stall", extra={"health": {"max_lag": 3, "max_pending_age": "2s"}})
    try:
        write_feed(rig.feed, entries(1, 6))
        rig.ctxd.start(args=["--roles", "collect,serve"])
        wait_for(lambda: rig.redis.cmd("XLEN", "ctx:{i}:items:raw") == 6, timeout=15,
                 what="six raw items, nobody to tag them")
        # never analyzed: the group does not even exist, its items wait all the same
        status, body = health(rig.ctxd)
        assert status == 200 and body["status"] == "degraded", body
        assert {"group": "analyze", "check": "lag", "value": 6, "limit": 3} in \
            body["failing"], body
        assert body["groups"]["analyze"]["exists"] is False, body
        wait_for(lambda: any(f["check"] == "oldest_unread" for f in health(rig.ctxd)[1]
                             ["failing"]), timeout=5, what="the oldest unread past 2 s")
        an = rig.analyzer()
        wait_for(lambda: health(rig.ctxd)[1]["status"] == "ok", timeout=20,
                 what="ok once an analyzer caught up")
        assert rig.redis.cmd("XLEN", "ctx:{i}:items:tagged") == 6
        # a total stall of the analyze group: its only analyzer stops, items arrive
        assert an.stop() == 0
        write_feed(rig.feed, entries(1, 11))
        wait_for(lambda: rig.redis.cmd("XLEN", "ctx:{i}:items:raw") == 5, timeout=15,
                 what="five more raw items")
        status, body = health(rig.ctxd)
        assert status == 200 and body["status"] == "degraded", body
        assert body["groups"]["analyze"]["exists"] is True, body
        assert body["groups"]["analyze"]["lag"] == 5, body
        assert scrape(rig.ctxd)["ctx_group_lag{%s}" % RAW] == 5
        wait_for(lambda: [f["check"] for f in health(rig.ctxd)[1]["failing"]] ==
                 ["lag", "oldest_unread"], timeout=5, what="lag and the oldest unread failing")
        rig.analyzer()
        wait_for(lambda: health(rig.ctxd)[1]["status"] == "ok", timeout=20,
                 what="ok again once caught up")
        assert rig.redis.cmd("XLEN", "ctx:{i}:items:tagged") == 11
        rig.redis.kill()            # Redis away: not ok, and 503
        wait_for(lambda: health(rig.ctxd)[0] == 503, timeout=10, what="503 with Redis away")
        assert health(rig.ctxd)[1] == {"status": "down", "redis": "down"}
    finally:
        rig.close()


def test_poison_is_dead_lettered_listed_and_replayed():
    """A consumer that died reading an entry again and again (its cause,
    gone once it is dead) left it pending past max_deliveries: it is moved
    to the dead letters, `ctxctl dead` lists it with its reason, and `dead
    replay` puts it back on the raw stream, where it is tagged."""
    rig = Rig("dead", extra={"claim_idle": "1s", "max_deliveries": 2, "sources": []})
    try:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        it = {"id": "poison", "source": "p", "kind": "feed", "text": "Acme is down again",
              "published": now, "fetched": now}
        r = rig.redis
        r.cmd("XGROUP", "CREATE", "ctx:{i}:items:raw", "analyze", "0", "MKSTREAM")
        sid = r.cmd("XADD", "ctx:{i}:items:raw", "*", "id", "poison", "item", json.dumps(it))
        for _ in range(2):          # the ghost reads it, and reads it again
            r.cmd("XREADGROUP", "GROUP", "analyze", "ghost", "STREAMS", "ctx:{i}:items:raw",
                  "0" if _ else ">")
        rig.ctxd.start()
        wait_for(lambda: r.cmd("XLEN", "ctx:{i}:items:dead") == 1, timeout=10,
                 what="the poison entry dead-lettered")
        assert r.cmd("EXISTS", "ctx:{i}:item:poison") == 0
        m = scrape(rig.ctxd)
        assert m['ctx_dead_letters_total{group="analyze",reason="max_deliveries"}'] == 1, m
        assert m['ctx_dead_letter_entries{stream="ctx:{i}:items:dead"}'] == 1, m

        p = rig.ctxctl("dead")
        assert p.returncode == 0, p.stderr
        assert "ctx:{i}:items:dead (from ctx:{i}:items:raw, group analyze): 1" in p.stdout, p.stdout
        assert "read 2 times without being finished" in p.stdout and "poison" in p.stdout, \
            p.stdout
        p = rig.ctxctl("dead", "analyze", "--json")
        letters = [json.loads(line) for line in p.stdout.splitlines()]
        assert len(letters) == 1, p.stdout
        d = letters[0]
        assert d["id"] == "poison" and d["entry"] == sid and d["deliveries"] == 2, d
        assert d["from"] == "ctx:{i}:items:raw" and d["age"] >= 0, d
        p = rig.ctxctl("dead", "show", d["letter"])
        assert p.returncode == 0, p.stderr
        shown = json.loads(p.stdout)
        assert shown["fields"]["item"]["text"] == "Acme is down again", shown

        p = rig.ctxctl("dead", "replay", "ctx:{i}:items:dead", d["letter"])
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert "1 replayed" in p.stdout, p.stdout
        assert r.cmd("XLEN", "ctx:{i}:items:dead") == 0
        wait_for(lambda: r.cmd("HGET", "ctx:{i}:item:poison", "json"), timeout=10,
                 what="the replayed entry tagged")
        wait_for(lambda: scrape(rig.ctxd)["ctx_items_tagged_total"] == 1, what="counted")
        # a letter already replayed is not there any more
        p = rig.ctxctl("dead", "replay", "analyze", d["letter"])
        assert p.returncode == 1 and "missing" in p.stderr, (p.stdout, p.stderr)

        # junk stays junk: replayed, it comes back; dropped, it is gone
        r.cmd("XADD", "ctx:{i}:items:raw", "*", "id", "junk", "item", "{not json")
        wait_for(lambda: r.cmd("XLEN", "ctx:{i}:items:dead") == 1, what="junk dead-lettered")
        p = rig.ctxctl("dead", "--json")
        assert json.loads(p.stdout)["reason"] == "not JSON", p.stdout
        p = rig.ctxctl("dead", "replay", "analyze", "--all")
        assert p.returncode == 0 and "1 replayed" in p.stdout, (p.stdout, p.stderr)
        wait_for(lambda: r.cmd("XLEN", "ctx:{i}:items:dead") == 1, what="junk dead again")
        p = rig.ctxctl("dead", "drop", "ctx:{i}:items:dead", "--all")
        assert p.returncode == 0 and "1 dropped" in p.stdout, (p.stdout, p.stderr)
        assert r.cmd("XLEN", "ctx:{i}:items:dead") == 0
        p = rig.ctxctl("dead", "nowhere")
        assert p.returncode == 2 and "analyze, route, post" in p.stderr, p.stderr
    finally:
        rig.close()
