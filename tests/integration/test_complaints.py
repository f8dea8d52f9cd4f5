"""Complaints are findable: GET /api/items?complaint=true|false and
?reason=R (a complaint reason), alone and with the other filters, limit and
since; 400 for bad values; the analyze role's own indexes; ctxctl items
--complaint / --no-complaint / --reason; scripts/reindex-complaints.sh for
items stored before the complaint indexes."""
import calendar
import json
import os
import subprocess
import time

from harness import CTXD, ROOT, Ctxd, close_rig, Redis, Workdir, free_port, index_keys, store_tagged, wait_for

CTXCTL = os.path.join(ROOT, "bin-san/ctxctl" if "bin-san" in CTXD else "bin/ctxctl")


def tagged(n, sec, complaint=None, reasons=(), brands=("acme",), label="neutral"):
    """A tagged item published at 2026-11-22 10:00:00 + sec. complaint None:
    an item tagged before complaints were (no tags.complaint)."""
    tags = {"sentiment": {"score": {"negative": -0.5, "positive": 0.5}.get(label, 0.0),
                          "label": label},
            "topics": [], "brands": list(brands), "urgent": False}
    if complaint is not None:
        tags["complaint"] = {"score": 0.9 if complaint else 0.1, "label": complaint,
                             "reasons": list(reasons) if complaint else []}
    t = time.gmtime(calendar.timegm((2026, 11, 22, 10, 0, 0)) + sec)
    return {"id": "test:c:%d" % n, "source": "test", "kind": "social",
            "url": "https://example.com/%d" % n, "author": {"handle": "@u%d" % n},
            "title": None, "text": "post %d" % n, "lang": "en",
            "published": time.strftime("%Y-%m-%dT%H:%M:%SZ", t),
            "fetched": time.strftime("%Y-%m-%dT%H:%M:%SZ", t), "tags": tags}


class Rig:
    def __init__(self, name):
        self.wd = Workdir(name)
        self.redis = Redis(self.wd.path).start()
        self.ctxd = Ctxd(self.wd.path, self.redis.port, [])

    def start(self):
        self.ctxd.start()
        wait_for(lambda: "analyze" in json.dumps(self.groups()), what="group analyze")

    def groups(self):
        try:
            return self.redis.cmd("XINFO", "GROUPS", "ctx:{i}:items:raw")
        except RuntimeError:
            return []

    def ids(self, query):
        return [i["id"] for i in self.ctxd.http("/api/items" + query)[1]["items"]]

    def close(self):
        close_rig(self.ctxd, self.redis, self.wd)


def test_analyzed_items_are_indexed_by_complaint_and_reason():
    """The analyze role itself writes ctx:{i}:idx:complaint:* and ctx:{i}:idx:reason:*."""
    rig = Rig("complaint-analyze")
    try:
        rig.start()
        posts = {"test:a:1": "@acme my bag never arrived, third week now",
                 "test:a:2": "thanks @acme for the quick help, love the new app"}
        for n, (iid, text) in enumerate(posts.items()):
            item = {"id": iid, "source": "test", "kind": "social", "text": text,
                    "lang": "en", "published": "2026-11-22T10:0%d:00Z" % n,
                    "fetched": "2026-11-22T10:0%d:00Z" % n}
            rig.redis.cmd("XADD", "ctx:{i}:items:raw", "*", "id", iid, "item", json.dumps(item))
        wait_for(lambda: len(rig.ids("")) == 2, what="2 tagged items")
        yes = rig.ctxd.http("/api/items?complaint=true")[1]["items"]
        assert [i["id"] for i in yes] == ["test:a:1"], yes
        reasons = yes[0]["tags"]["complaint"]["reasons"]
        assert reasons, yes[0]["tags"]
        assert rig.ids("?complaint=false") == ["test:a:2"]
        for r in reasons:
            assert rig.ids("?reason=" + r) == ["test:a:1"], r
            assert rig.redis.cmd("ZSCORE", "ctx:{i}:idx:reason:" + r, "test:a:1") is not None
        assert rig.redis.cmd("ZSCORE", "ctx:{i}:idx:complaint:true", "test:a:1") is not None
        assert rig.redis.cmd("ZSCORE", "ctx:{i}:idx:complaint:false", "test:a:2") is not None
        assert rig.redis.cmd("ZCARD", "ctx:{i}:idx:complaint:true") == 1
    finally:
        rig.close()


def test_api_items_complaint_and_reason_filters():
    rig = Rig("complaint-api")
    try:
        rig.start()
        items = []
        for n in range(40):                      # published one minute apart
            complaint = n % 3 == 0
            reasons = ["delay"] if n % 2 == 0 else ["money", "delay"]
            items.append(tagged(n, n * 60, complaint, reasons,
                                brands=["acme"] if n % 4 < 2 else ["other"],
                                label=["negative", "neutral", "positive"][n % 5 % 3]))
        items.append(tagged(100, 50 * 60, None))      # tagged before complaints were
        assert all(store_tagged(rig.redis, items))
        wait_for(lambda: len(rig.ids("?limit=100")) == 41, what="41 items")

        def want(pred, limit=50, since=""):
            m = [i for i in items if pred(i["tags"]) and i["published"] >= since]
            m.sort(key=lambda i: i["published"], reverse=True)
            return [i["id"] for i in m][:limit]

        def c(t):
            return t.get("complaint") or {}
        cases = {
            "?complaint=true": lambda t: c(t).get("label") is True,
            "?complaint=false": lambda t: c(t).get("label") is False,
            "?reason=delay": lambda t: "delay" in c(t).get("reasons", []),
            "?reason=money": lambda t: "money" in c(t).get("reasons", []),
            "?reason=money&brand=acme":
                lambda t: "money" in c(t).get("reasons", []) and "acme" in t["brands"],
            "?complaint=true&sentiment=negative":
                lambda t: c(t).get("label") is True and t["sentiment"]["label"] == "negative",
            "?brand=other&complaint=false":
                lambda t: c(t).get("label") is False and "other" in t["brands"],
            "?complaint=false&reason=delay": lambda t: False,   # contradictory: nothing
            "?reason=lost": lambda t: False,                   # no such complaint stored
        }
        for q, pred in cases.items():
            assert rig.ids(q) == want(pred), (q, rig.ids(q), want(pred))
        assert want(cases["?complaint=true"]), "the test stores complaints"
        # paging as for the other filters: limit takes the newest, since cuts
        assert rig.ids("?complaint=true&limit=3") == want(cases["?complaint=true"], 3)
        since = "2026-11-22T10:20:00Z"
        assert rig.ids("?reason=delay&since=" + since) == \
            want(cases["?reason=delay"], since=since)
        assert want(cases["?reason=delay"], since=since) != want(cases["?reason=delay"])
        # the item without a complaint tag is in neither, but is an item
        assert "test:c:100" in rig.ids("?limit=100")
        assert "test:c:100" not in rig.ids("?complaint=true&limit=100") + \
            rig.ids("?complaint=false&limit=100")

        for bad, code in [("?complaint=yes", "bad_complaint"), ("?complaint=1", "bad_complaint"),
                          ("?complaint=TRUE", "bad_complaint"), ("?reason=Delay", "bad_reason"),
                          ("?reason=no%20response", "bad_reason"),
                          ("?reason=" + "x" * 65, "bad_reason"),
                          ("?reason=delay&complaint=maybe", "bad_complaint"),
                          # too long for ctxd: an error, not an ignored filter
                          ("?brand=%s&complaint=true" % ("b" * 300), "bad_brand")]:
            status, body = rig.ctxd.http("/api/items" + bad, ok_only=False)
            assert status == 400 and body["error"] == code and body["message"], \
                (bad, status, body)

        # ctxctl items passes the same filters
        def ctl(*args):
            return subprocess.run([CTXCTL, "-c", rig.ctxd.config, "items"] + list(args),
                                  capture_output=True, text=True, timeout=20)
        p = ctl("--complaint", "--json")
        assert p.returncode == 0, p.stderr
        assert [i["id"] for i in json.loads(p.stdout)["items"]] == want(cases["?complaint=true"])
        p = ctl("--no-complaint", "--brand", "other", "--json")
        assert p.returncode == 0, p.stderr
        assert [i["id"] for i in json.loads(p.stdout)["items"]] == \
            want(cases["?brand=other&complaint=false"])
        p = ctl("--reason", "money", "--limit", "2")
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        assert len(lines) == 2 and all('complaint=["money","delay"]' in x for x in lines), lines
        p = ctl("--reason", "Money")
        assert p.returncode == 1 and "400" in p.stderr and "reason" in p.stderr, p.stderr
        assert ctl("--reason").returncode == 2
    finally:
        rig.close()


def test_complaints_beyond_what_other_indexes_examine():
    """query.lua examines at most 5,000 index entries. Old complaints under
    thousands of newer posts of the same brand are still found: the
    smallest of the filters' indexes is walked."""
    rig = Rig("complaint-deep")
    try:
        rig.start()
        old = [tagged(n, n, True, ["outage"]) for n in range(3)]
        new = [tagged(1000 + n, 60 + n, False) for n in range(5100)]
        assert all(store_tagged(rig.redis, old + new))
        want = ["test:c:2", "test:c:1", "test:c:0"]
        assert rig.ids("?complaint=true&brand=acme") == want
        assert rig.ids("?brand=acme&reason=outage&limit=2") == want[:2]
        assert rig.ids("?brand=acme&limit=1") == ["test:c:6099"]
    finally:
        rig.close()


def test_reindex_complaints_script():
    """Items stored by a ctxd that tagged complaints but did not index them
    are found after scripts/reindex-complaints.sh (run twice: idempotent)."""
    rig = Rig("complaint-reindex")
    try:
        rig.start()

        def before(it):                 # the indexes of the ctxd before this one
            return [k for k in index_keys(it) if not k.startswith(("ctx:{i}:idx:complaint:",
                                                                   "ctx:{i}:idx:reason:"))]
        items = [tagged(n, n, n % 2 == 0, ["delay", "money"][n % 4 // 2:]) for n in range(1203)]
        items.append(tagged(5000, 5000, None))
        assert all(store_tagged(rig.redis, items, index=before))
        assert rig.ids("?complaint=true") == []
        script = os.path.join(ROOT, "scripts", "reindex-complaints.sh")
        for run in range(2):
            p = subprocess.run([script, "127.0.0.1:%d" % rig.redis.port],
                               capture_output=True, text=True, timeout=60)
            assert p.returncode == 0, p.stderr
            added = int(p.stdout.split()[1])
            # 1,203 complaint labels; 602 complaints with money, 301 of them with delay too
            assert added == (1203 + 602 + 301 if run == 0 else 0), p.stdout
        want = [i["id"] for i in sorted(items, key=lambda i: i["published"], reverse=True)
                if (i["tags"].get("complaint") or {}).get("label") is True
                and "money" in i["tags"]["complaint"]["reasons"]][:10]
        assert rig.ids("?reason=money&limit=10") == want
        assert rig.redis.cmd("ZCARD", "ctx:{i}:idx:complaint:false") == 601
        assert rig.redis.cmd("ZCARD", "ctx:{i}:idx:reason:delay") == 301
        p = subprocess.run([script, "127.0.0.1:%d" % free_port()], capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 1 and "reindex-complaints" in p.stderr, (p.returncode, p.stderr)
    finally:
        rig.close()
