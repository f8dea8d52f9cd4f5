"""Trend counters and GET /api/trends, /api/trends/top: items with known
published times go through the real analyze role (raw stream -> tag.lua)
and the API answers their counts per minute, hour and day, per series, with
sentiment, complaint and share; exactly once with two analyzers and a
kill -9 of one; backfills land at their published minute within
trends.lateness and at fetch time beyond; local days of Europe/Moscow start
at 21:00Z; CSV; the keys' TTLs; 400 for bad parameters."""
import calendar
import json
import os
import signal
import subprocess
import time
import urllib.request

from harness import (CTXD, Ctxd, close_rig, Redis, Workdir, free_port, trend_count,
                     trends_counted, wait_for)

NEG = "Acme outage: the service is down and it is terrible"     # acme, outage, complaint
POS = "I love Acme, great product"                              # acme, praise, positive
CLOUD = "Acme Cloud is great, I love it"                        # acme-cloud, praise
PLAIN = "nice weather today"                                    # no brand, no topic


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def item(n, text, published, fetched=None, kind="social"):
    return {"id": "test:tr:%d" % n, "source": "test", "kind": kind,
            "url": "https://example.com/%d" % n, "author": {"handle": "@u%d" % n},
            "title": None, "text": text, "lang": "en", "published": iso(published),
            "fetched": iso(fetched if fetched is not None else time.time())}


def push(redis, items):
    for it in items:
        redis.cmd("XADD", "ctx:{i}:items:raw", "*", "id", it["id"], "item", json.dumps(it))


class Rig:
    def __init__(self, name, trends=None):
        self.wd = Workdir(name)
        self.redis = Redis(self.wd.path).start()
        extra = {"trends": trends} if trends else {}
        self.ctxd = Ctxd(self.wd.path, self.redis.port, [], extra=extra)

    def start(self):
        self.ctxd.start()
        return self

    def tagged(self, n):
        wait_for(lambda: self.redis.cmd("XLEN", "ctx:{i}:items:tagged") >= n, timeout=30,
                 what="%d items tagged" % n)

    def get(self, path, accept=None):
        req = urllib.request.Request(self.ctxd.url(path))
        if accept:
            req.add_header("Accept", accept)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers.get("Content-Type"), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type"), e.read().decode()

    def trends(self, query):
        st, _, body = self.get("/api/trends?" + query)
        assert st == 200, (query, st, body)
        return json.loads(body)

    def close(self):
        close_rig(self.ctxd, self.redis, self.wd)


def seed_hours(rig, now, plain=False):
    """Items in the three whole hours before now's, through the analyze role:
    3 NEG in the first, 2 POS and 4 CLOUD in the second and, with plain, one
    PLAIN in the third. Returns the start of the first hour."""
    base = now // 3600 * 3600 - 3 * 3600
    items = [item(i, NEG, base + 600 + i) for i in range(3)]
    items += [item(10 + i, POS, base + 3600 + 600 + i) for i in range(2)]
    items += [item(20 + i, CLOUD, base + 3600 + 900 + i) for i in range(4)]
    if plain:
        items += [item(30, PLAIN, base + 7200 + 5)]
    push(rig.redis, items)
    rig.tagged(len(items))
    return base


def points(answer, series):
    for s in answer["series"]:
        if s["series"] == series:
            return s["points"]
    raise AssertionError("no series %s in %s" % (series, answer))


def test_trends_counts_buckets_share_csv_ttl():
    rig = Rig("trends-counts").start()
    try:
        now = int(time.time())
        base = seed_hours(rig, now, plain=True)
        rng = "from=%d&to=%d" % (base, base + 3 * 3600)
        a = rig.trends("series=all,brand:acme,brand:acme-cloud&bucket=hour&" + rng)
        assert a["bucket"] == "hour" and a["tz"] == "UTC"
        assert [p["count"] for p in points(a, "all")] == [3, 6, 1]
        acme = points(a, "brand:acme")
        assert [p["count"] for p in acme] == [3, 2, 0]
        assert acme[0]["negative"] == 3 and acme[0]["complaint"] == 3
        assert acme[1]["positive"] == 2 and acme[1]["complaint"] == 0
        assert acme[0]["t"] == iso(base)
        b = rig.trends("series=brand:acme,brand:acme-cloud&bucket=hour&" + rng)
        assert abs(points(b, "brand:acme")[1]["share"] - 2 / 6) < 1e-3
        assert abs(points(b, "brand:acme-cloud")[1]["share"] - 4 / 6) < 1e-3
        # the other series: topic, complaint reason, network (the kind), source, language
        # (and complaints by brand and reason: "outage complaints about acme")
        c = rig.trends("series=topic:outage,reason:outage,network:social,source:test,lang:en,"
                       "topic:praise,complaint:acme/outage&bucket=hour&" + rng)
        assert [p["count"] for p in points(c, "topic:outage")] == [3, 0, 0]
        assert [p["count"] for p in points(c, "reason:outage")] == [3, 0, 0]
        assert [p["count"] for p in points(c, "complaint:acme/outage")] == [3, 0, 0]
        assert [p["count"] for p in points(c, "topic:praise")] == [0, 6, 0]
        for s in ("network:social", "source:test", "lang:en"):
            assert sum(p["count"] for p in points(c, s)) == 10, s
        # minutes: the published minute; their sum is the hour's and the day's
        m = rig.trends("series=all&bucket=minute&" + rng)
        mp = points(m, "all")
        assert len(mp) == 180
        assert mp[10]["count"] == 3 and mp[70]["count"] == 2 and mp[75]["count"] == 4
        assert sum(p["count"] for p in mp) == 10
        day0 = base // 86400 * 86400
        d = rig.trends("series=all&bucket=day&from=%d&to=%d" % (day0, day0 + 2 * 86400))
        assert sum(p["count"] for p in points(d, "all")) == 10
        # the contract's first shape
        legacy = rig.trends("topic=outage&bucket=hour&" + rng)
        assert legacy["topic"] == "outage" and legacy["bucket"] == "hour"
        assert [p["count"] for p in legacy["points"]] == [3, 0, 0]
        assert legacy["points"][0]["negative"] == 3 and "share" not in legacy["points"][0]
        # CSV, by format=csv and by Accept
        st, ctype, body = rig.get("/api/trends?series=brand:acme,brand:acme-cloud&bucket=hour&"
                                  + rng + "&format=csv")
        assert st == 200 and ctype.startswith("text/csv"), (st, ctype)
        rows = body.strip().split("\r\n")
        assert rows[0] == "series,t,count,positive,negative,neutral,complaint,share"
        assert rows[1].startswith("brand:acme,%s,3,0,3,0,3," % iso(base)), rows[1]
        assert len(rows) == 1 + 2 * 3
        st, ctype, body2 = rig.get("/api/trends?series=all&bucket=hour&" + rng,
                                   accept="text/csv")
        assert ctype.startswith("text/csv") and body2.startswith("series,t,count,")
        # top topics against the previous period
        st, _, body = rig.get("/api/trends/top?dim=topic&from=%d&to=%d" % (base, base + 3 * 3600))
        top = json.loads(body)
        assert st == 200 and top["dim"] == "topic"
        assert [(e["name"], e["count"], e["previous"]) for e in top["by_volume"]] == \
            [("praise", 6, 0), ("outage", 3, 0)]
        assert top["by_growth"][0]["name"] == "praise"
        # keys expire by themselves: minute keys at their UTC day's end + 2 days...
        ymd = time.strftime("%Y%m%d", time.gmtime(base))
        ttl = rig.redis.cmd("TTL", "ctx:{i}:tr:m:all:" + ymd)
        day_end = base // 86400 * 86400 + 86400
        assert day_end + 2 * 86400 - now - 5 <= ttl <= day_end + 2 * 86400 - now + 5, ttl
        ttl = rig.redis.cmd("TTL", "ctx:{i}:tr:h:brand:acme:" + ymd[:6])
        assert 90 * 86400 < ttl <= 122 * 86400, ttl
        ttl = rig.redis.cmd("TTL", "ctx:{i}:tr:d:topic:outage:" + ymd[:4])
        assert 3 * 365 * 86400 < ttl <= 4 * 366 * 86400, ttl
        for k in rig.redis.cmd("KEYS", "ctx:{i}:tr:*"):
            assert k == "ctx:{i}:tr:series" or rig.redis.cmd("TTL", k) > 0, k
        reg = rig.redis.cmd("ZRANGE", "ctx:{i}:tr:series", "0", "-1")
        assert {"all", "brand:acme", "topic:outage", "reason:outage", "network:social",
                "source:test", "lang:en"} <= set(reg), reg
    finally:
        rig.close()


def test_trends_bad_parameters_are_400():
    rig = Rig("trends-400").start()
    try:
        bad = ["series=all&bucket=week", "series=all&tz=../../etc/passwd",
               "series=all&tz=Mars/Olympus", "series=all&from=yesterday",
               "series=all&from=2000&to=1000", "series=foo:bar", "series=brand:",
               "", "series=all&topic=outage", "series=all&bucket=minute&from=0&to=31536000",
               "series=all&format=xml"]
        for q in bad:
            st, ctype, body = rig.get("/api/trends?" + q)
            assert st == 400, (q, st, body)
            j = json.loads(body)
            assert j["error"].startswith("bad_") or j["error"] == "too_many_points", j
            assert j["message"], j
        for q in ["dim=colour", "dim=topic&limit=0", "dim=topic&from=x"]:
            st, _, body = rig.get("/api/trends/top?" + q)
            assert st == 400, (q, st, body)
        # defaults: the last 24 hours, hour buckets
        a = rig.trends("series=all")
        assert a["bucket"] == "hour" and len(points(a, "all")) in (24, 25)
    finally:
        rig.close()


def test_trends_backfill_late_and_future():
    rig = Rig("trends-backfill").start()
    try:
        now = int(time.time())
        five_h = now - 5 * 3600
        three_d = now - 72 * 3600
        push(rig.redis, [item(1, PLAIN, five_h, fetched=now),        # within 48 h: published
                         item(2, PLAIN, three_d, fetched=now),       # too late: fetch time
                         item(3, PLAIN, now + 7200, fetched=now)])   # the future: fetch time
        rig.tagged(3)
        m = five_h // 60 * 60
        a = rig.trends("series=all&bucket=minute&from=%d&to=%d" % (m, m + 60))
        assert points(a, "all")[0]["count"] == 1
        n = now // 60 * 60
        a = rig.trends("series=all&bucket=minute&from=%d&to=%d" % (n - 120, n + 180))
        assert sum(p["count"] for p in points(a, "all")) == 2
        h = three_d // 3600 * 3600
        a = rig.trends("series=all&bucket=hour&from=%d&to=%d" % (h, h + 3600))
        assert points(a, "all")[0]["count"] == 0
    finally:
        rig.close()


def test_trends_moscow_days_start_at_21z():
    # a long lateness and hour retention, so that items of a fixed past date count
    rig = Rig("trends-tz", trends={"lateness": "3650d", "hour_retention": "3650d"}).start()
    try:
        t1 = calendar.timegm((2025, 12, 2, 20, 30, 0))   # 23:30 in Moscow, 2 Dec
        t2 = calendar.timegm((2025, 12, 2, 21, 30, 0))   # 00:30 in Moscow, 3 Dec
        # two items counted in the first layout (a field per counter; hours a field per
        # hour): read, and added to, with the new ones (store/KEYS.md)
        old = ["2", "1", "1", "0", "1"]
        for key, b in (("h:all:202512", t1 // 3600), ("d:all:2025", t1 // 86400)):
            rig.redis.cmd("HSET", "ctx:{i}:tr:" + key, *[x for f, v in zip(
                ("", ":p", ":n", ":u", ":c"), old) for x in ("%d%s" % (b, f), v)])
        push(rig.redis, [item(1, PLAIN, t1), item(2, PLAIN, t2), item(3, PLAIN, t2 + 60)])
        rig.tagged(3)
        q = "series=all&bucket=day&from=2025-12-01T21:00:00Z&to=2025-12-03T21:00:00Z"
        a = rig.trends(q + "&tz=Europe/Moscow")
        assert a["tz"] == "Europe/Moscow"
        p = points(a, "all")
        assert [(x["t"], x["count"]) for x in p] == [("2025-12-02T00:00:00+03:00", 3),
                                                    ("2025-12-03T00:00:00+03:00", 2)], p
        split = ("positive", "negative", "neutral", "complaint")
        assert [p[0][k] for k in split] == [2, 1, 0, 1], p      # PLAIN is positive
        u = points(rig.trends(q), "all")           # UTC days: both on 2 Dec
        assert [(x["t"], x["count"]) for x in u] == [("2025-12-01T00:00:00Z", 0),
                                                    ("2025-12-02T00:00:00Z", 5),
                                                    ("2025-12-03T00:00:00Z", 0)], u
        assert [u[1][k] for k in split] == [4, 1, 0, 1], u
        # from and to given as epoch seconds mean the same
        e = rig.trends("series=all&bucket=day&tz=Europe/Moscow&from=%d&to=%d"
                       % (calendar.timegm((2025, 12, 1, 21, 0, 0)),
                          calendar.timegm((2025, 12, 3, 21, 0, 0))))
        assert points(e, "all") == p
    finally:
        rig.close()


def test_trends_exactly_once_two_analyzers_kill9():
    wd = Workdir("trends-once")
    redis = Redis(wd.path).start()
    procs = []
    try:
        now = int(time.time())
        n = 2000
        texts = [NEG, POS, CLOUD, PLAIN]
        items = [item(i, texts[i % 4] + " #%d" % i, now - 3600 + i) for i in range(n)]
        # some entries are delivered twice (a collector restart): still one item each
        push(redis, items + items[:200])
        cfgs = []
        for k in range(3):
            c = Ctxd(wd.path, redis.port, [], extra={"claim_idle": "1s", "consumer": "a%d" % k})
            c.config = os.path.join(wd.path, "ctxd%d.json" % k)
            with open(c.config, "w") as f:
                json.dump({"listen": "127.0.0.1:%d" % free_port(),
                           "redis": "127.0.0.1:%d" % redis.port,
                           "rules": os.path.join(os.path.dirname(CTXD), "..", "etc", "rules"),
                           "lexicons": os.path.join(os.path.dirname(CTXD), "..", "etc",
                                                    "lexicons"),
                           "log_level": "warn", "sources": [], "claim_idle": "1s",
                           "consumer": "a%d" % k}, f)
            cfgs.append(c.config)
        for k in range(2):
            procs.append(subprocess.Popen([CTXD, "-c", cfgs[k], "--roles", "analyze"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(lambda: redis.cmd("XLEN", "ctx:{i}:items:tagged") >= 300, timeout=30,
                 step=0.01, what="some items tagged")
        procs[0].send_signal(signal.SIGKILL)         # mid-stream
        procs[0].wait()
        wait_for(lambda: redis.cmd("XLEN", "ctx:{i}:items:raw") == 0, timeout=90,
                 what="every raw entry done")
        stored = len(redis.cmd("KEYS", "ctx:{i}:item:test:tr:*"))
        assert stored == n, stored
        trends_counted(redis)
        h = (now - 3600) // 3600 * 3600
        got = 0
        for hour in (h, h + 3600):
            f = redis.cmd("HGETALL", "ctx:{i}:tr:h:all:" + time.strftime("%Y%m", time.gmtime(hour)))
            day = dict(zip(f[::2], f[1::2])).get(str(hour // 86400), "")
            got += sum(trend_count(e.split("=")[1]) for e in day.split(";")
                       if e and int(e.split("=")[0]) == hour // 3600 % 24)
        assert got == n, (got, n)
        minutes = 0
        for ymd in {time.strftime("%Y%m%d", time.gmtime(t)) for t in (now - 3600, now)}:
            f = redis.cmd("HGETALL", "ctx:{i}:tr:m:all:" + ymd)
            minutes += sum(trend_count(v) for k, v in zip(f[::2], f[1::2]))
        assert minutes == n, (minutes, n)
        acme = 0
        f = redis.cmd("HGETALL", "ctx:{i}:tr:d:brand:acme:" + time.strftime("%Y", time.gmtime(now)))
        acme = sum(trend_count(v) for k, v in zip(f[::2], f[1::2]))
        assert acme == n // 2, acme                  # NEG and POS name acme
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait()
        redis.stop()
        wd.cleanup()
