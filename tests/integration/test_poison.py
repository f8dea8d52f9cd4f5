"""Items that once stalled the analyze role for good (issue 11, point 1):
one that matches 200 rules needs 200-odd script arguments; it is tagged
like any other, and the items after it too."""
import calendar
import json
import os
import socket
import time

from harness import (CTXD, Ctxd, Redis, Workdir, _read_reply, index_keys, lua_source, resp,
                     store_tagged, wait_for)
from test_complaints import tagged


def test_an_item_with_200_tags_is_tagged_and_the_stream_goes_on():
    wd = Workdir("poison")
    r = Redis(wd.path).start()
    rules = os.path.join(wd.path, "rules")
    os.makedirs(rules)
    with open(os.path.join(rules, "many.rules"), "w") as f:
        for i in range(200):
            f.write("topic t%03d\n  match \\bpoison\\b\n\n" % i)
    ctxd = Ctxd(wd.path, r.port, [], extra={"rules": rules})
    try:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        for i, text in enumerate(["poison everywhere", "a plain item", "another one"]):
            it = {"id": "p:%d" % i, "source": "p", "kind": "feed", "text": text,
                  "published": now, "fetched": now}
            r.cmd("XADD", "ctx:{i}:items:raw", "*", "id", it["id"], "item", json.dumps(it))
        ctxd.start()
        wait_for(lambda: r.cmd("XLEN", "ctx:{i}:items:tagged") == 3, timeout=15,
                 what="three items tagged")
        tagged = json.loads(r.cmd("HGET", "ctx:{i}:item:p:0", "json") or "{}")
        assert len(tagged.get("tags", {}).get("topics", [])) == 200, tagged.get("tags")
        assert r.cmd("ZCARD", "ctx:{i}:idx:topic:t199") == 1
        pending = r.cmd("XPENDING", "ctx:{i}:items:raw", "analyze")
        assert pending[0] == 0, pending
    finally:
        ctxd.stop()
        r.stop()
        wd.cleanup()


def test_dead_consumers_entries_are_claimed_and_poison_is_dead_lettered():
    """A consumer that died left two entries pending: one read once (it is
    claimed after claim_idle and tagged, with no new traffic to wake the
    reader), one read max_deliveries times already (a poison entry: it is
    moved to the dead stream with its fields, not read again)."""
    wd = Workdir("poison-claim")
    r = Redis(wd.path).start()
    ctxd = Ctxd(wd.path, r.port, [], extra={"claim_idle": "1s", "max_deliveries": 3})
    try:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        r.cmd("XGROUP", "CREATE", "ctx:{i}:items:raw", "analyze", "0", "MKSTREAM")
        for iid in ("left", "poison"):
            it = {"id": iid, "source": "p", "kind": "feed", "text": "text of " + iid,
                  "published": now, "fetched": now}
            r.cmd("XADD", "ctx:{i}:items:raw", "*", "id", iid, "item", json.dumps(it))
        # the ghost reads both, then reads the second again and again
        got = r.cmd("XREADGROUP", "GROUP", "analyze", "ghost", "COUNT", "2", "STREAMS",
                    "ctx:{i}:items:raw", ">")
        left_id, poison_id = got[0][1][0][0], got[0][1][1][0]
        for _ in range(3):          # its pending entries after left_id: the poison one
            r.cmd("XREADGROUP", "GROUP", "analyze", "ghost", "COUNT", "1", "STREAMS",
                  "ctx:{i}:items:raw", left_id)
        pend = {p[0]: p[3] for p in r.cmd("XPENDING", "ctx:{i}:items:raw", "analyze", "-", "+",
                                         "10")}
        assert pend[poison_id] >= 3, pend
        time.sleep(1.1)             # both idle past claim_idle
        ctxd.start()
        wait_for(lambda: r.cmd("HGET", "ctx:{i}:item:left", "json"), timeout=10,
                 what="the dead consumer's entry claimed and tagged")
        wait_for(lambda: r.cmd("XLEN", "ctx:{i}:items:dead") == 1, timeout=10,
                 what="the poison entry dead-lettered")
        dead = r.cmd("XRANGE", "ctx:{i}:items:dead", "-", "+")
        fields = dict(zip(dead[0][1][::2], dead[0][1][1::2]))
        assert fields["dead_from"] == "ctx:{i}:items:raw" and fields["id"] == "poison", fields
        assert fields["dead_id"] == poison_id and int(fields["dead_deliveries"]) >= 3, fields
        assert r.cmd("EXISTS", "ctx:{i}:item:poison") == 0
        wait_for(lambda: r.cmd("XPENDING", "ctx:{i}:items:raw", "analyze")[0] == 0,
                 what="nothing pending")
    finally:
        ctxd.stop()
        r.stop()
        wd.cleanup()


def test_entries_refused_for_a_while_are_stored_when_redis_takes_them_again():
    """tag.lua refused (Redis over maxmemory: OOM) while the raw stream is
    still read: the analyzer reads its unstored entries again by itself, with
    a back-off, once Redis takes writes again -- not claim_idle later (an
    hour here: without the retry they would wait that long)."""
    wd = Workdir("refused")
    r = Redis(wd.path).start()
    ctxd = Ctxd(wd.path, r.port, [], extra={"claim_idle": "1h", "log_level": "info"})
    try:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        for i in range(3):
            it = {"id": "oom:%d" % i, "source": "p", "kind": "feed", "text": "item %d" % i,
                  "published": now, "fetched": now}
            r.cmd("XADD", "ctx:{i}:items:raw", "*", "id", it["id"], "item", json.dumps(it))
        r.cmd("XGROUP", "CREATE", "ctx:{i}:items:raw", "analyze", "0")
        r.cmd("CONFIG", "SET", "maxmemory", "1")     # writes refused, reads go on
        ctxd.start()
        wait_for(lambda: "left pending; reading them again" in ctxd.logtext(), timeout=15,
                 what="the refused entries to be scheduled again")
        assert "OOM" in ctxd.logtext()
        r.cmd("CONFIG", "SET", "maxmemory", "0")
        wait_for(lambda: (r.cmd("XLEN", "ctx:{i}:items:tagged") or 0) == 3, timeout=40,
                 what="the three entries stored once Redis takes writes")
        assert r.cmd("XPENDING", "ctx:{i}:items:raw", "analyze")[0] == 0
        assert r.cmd("XLEN", "ctx:{i}:items:dead") == 0, "none dead-lettered"
    finally:
        ctxd.stop()
        r.stop()
        wd.cleanup()


def test_an_escalation_refused_for_a_while_is_made_later_not_lost():
    """The route role's task script refused (OOM) for a tagged item that
    should escalate: the entry is not acknowledged until a task is made, and
    is read again by itself (claim_idle 1h) -- it used to be acknowledged
    with the task script merely queued, and the escalation lost."""
    wd = Workdir("refused-escalation")
    r = Redis(wd.path).start()
    extra = {"claim_idle": "1h", "log_level": "info",
             "queues": [{"name": "support"}],
             "escalation": [{"name": "angry", "queue": "support", "sentiment": "negative"}]}
    ctxd = Ctxd(wd.path, r.port, [], extra=extra)
    try:
        r.cmd("XGROUP", "CREATE", "ctx:{i}:items:raw", "analyze", "$", "MKSTREAM")
        r.cmd("XGROUP", "CREATE", "ctx:{i}:items:tagged", "route", "0", "MKSTREAM")
        item = tagged(1, 0, True, ["delay"], label="negative")
        assert all(store_tagged(r, [item]))
        r.cmd("CONFIG", "SET", "maxmemory", "1")     # task_new.lua refused
        ctxd.start(wait=False, args=("--roles", "route"))
        wait_for(lambda: "left pending; reading them again" in ctxd.logtext(), timeout=15,
                 what="the refused escalation to be scheduled again")
        assert r.cmd("XPENDING", "ctx:{i}:items:tagged", "route")[0] == 1, "not acknowledged"
        r.cmd("CONFIG", "SET", "maxmemory", "0")
        task = "ctx:{r}:task:social:" + item["id"]
        wait_for(lambda: r.cmd("HGET", task, "state") == "queued", timeout=40,
                 what="the task made once Redis takes writes")
        wait_for(lambda: r.cmd("XPENDING", "ctx:{i}:items:tagged", "route")[0] == 0,
                 what="the entry acknowledged")
    finally:
        ctxd.stop()
        r.stop()
        wd.cleanup()



def pipelined(redis, commands):
    """Commands sent on one connection, their replies read after (a load
    written faster than one connection a command allows)."""
    with socket.create_connection(("127.0.0.1", redis.port), timeout=30) as s:
        s.sendall(b"".join(resp(*c) for c in commands))
        f = s.makefile("rb")
        return [_read_reply(f) for _ in commands]


def test_read_ahead_stores_every_raw_entry_once():
    """The analyze role reads a batch ahead (a window of two, store/group.c):
    while one batch is stored the next is read and tagged. It must still
    hand each raw entry over once. 2,000 entries, the first 200 left pending
    by this consumer before a crash (its pending pass reads them, walking
    forward); halfway, the reader's connection is killed with batches in
    flight (its pending pass waits until they are done); at three quarters,
    the connection for scripts is killed, so the entries being stored are
    left pending and read again 2 s later while new entries keep coming (the
    window must not read new batches meanwhile: the pass would hand over
    their entries a second time). Each stored entry runs tag.lua's XDEL once,
    so Redis' XDEL count says how many times raw entries were stored: exactly
    once each. More entries pending at once than a batch holds shows the
    read-ahead at work; with max_deliveries 2, an entry read a second time
    while in flight would be near the dead-letter limit."""
    n, crashed, batch, fed = 2000, 200, 64, 40 * 60
    wd = Workdir("read-ahead")
    r = Redis(wd.path).start()
    ctxd = Ctxd(wd.path, r.port, [], extra={"claim_idle": "1h", "max_deliveries": 2,
                                              "consumer": "c1", "log_level": "info"})
    raw = "ctx:{i}:items:raw"
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def add(first, count):
        pipelined(r, [("XADD", raw, "*", "id", "ra:%d" % i, "item", json.dumps(
            {"id": "ra:%d" % i, "source": "p", "kind": "feed", "published": now,
             "fetched": now, "text": "item number %d about the weather in town %d" % (i, i)}))
            for i in range(first, first + count)])

    def tagged_count():
        return r.cmd("XLEN", "ctx:{i}:items:tagged") or 0

    def kill(last_cmds):
        ids = [c.split()[0].split("=")[1] for c in r.cmd("CLIENT", "LIST").splitlines()
               if any(" cmd=%s " % k in c for k in last_cmds)]
        for i in ids:
            r.cmd("CLIENT", "KILL", "ID", i)
        return bool(ids)

    try:
        r.cmd("XGROUP", "CREATE", raw, "analyze", "0", "MKSTREAM")
        add(0, n)
        # this consumer read the first 200 and crashed before storing them
        got = r.cmd("XREADGROUP", "GROUP", "analyze", "c1", "COUNT", crashed, "STREAMS", raw, ">")
        last_crashed = got[0][1][-1][0]
        assert r.cmd("XPENDING", raw, "analyze")[0] == crashed
        r.cmd("CONFIG", "RESETSTAT")
        ctxd.start(wait=False, args=("--roles", "analyze"))
        most_in_flight, deadline = 0, time.monotonic() + 60
        while tagged_count() < n // 2:
            assert time.monotonic() < deadline, "stalled at %d of %d" % (tagged_count(), n)
            # entries read past the crashed ones and not stored yet
            pending = r.cmd("XPENDING", raw, "analyze", "(" + last_crashed, "+", 1000)
            most_in_flight = max(most_in_flight, len(pending))
        assert most_in_flight > batch, "never more than a batch in flight: no read-ahead"
        assert kill(["xreadgroup"]), "the reader's connection was not found"
        wait_for(lambda: tagged_count() >= n * 3 // 4, timeout=30, what="three quarters")
        for k in range(fed // 40):      # 3 s of new entries, past the 2 s hold
            add(n + 40 * k, 40)
            # until a kill finds stores in flight (the log says when)
            if "left pending; reading them again" not in ctxd.logtext():
                kill(["evalsha", "lrange", "lpush", "ltrim", "pexpire"])
            time.sleep(0.05)
        n += fed
        wait_for(lambda: tagged_count() == n, timeout=60, what="every entry tagged")
        wait_for(lambda: r.cmd("XPENDING", raw, "analyze")[0] == 0, what="nothing pending")
        assert "left pending; reading them again" in ctxd.logtext(), "no store was cut"
        stats = r.info("commandstats")
        xdel = int(stats["cmdstat_xdel"].split(",")[0].split("=")[1])
        assert xdel == n, "raw entries stored %d times for %d entries" % (xdel, n)
        assert r.cmd("XLEN", "ctx:{i}:items:dead") == 0, "none dead-lettered"
        assert "claimed" not in ctxd.logtext()
    finally:
        ctxd.stop()
        r.stop()
        wd.cleanup()


def test_route_stops_cleanly_with_task_scripts_in_flight():
    """SIGTERM while the route role's task scripts are in flight (Redis
    paused: they wait for their answers). Freeing the command connection
    calls them back with no reply, and they used to find their lane freed
    already (a use after free that ASan, in make test's ctxd, reports as a
    crash). Now ctxd exits 0, and the entries left pending are routed by
    the next start: one task each, nothing pending."""
    wd = Workdir("route-stop")
    r = Redis(wd.path).start()
    extra = {"claim_idle": "1s", "log_level": "info", "consumer": "c1",
             "queues": [{"name": "support"}],
             "escalation": [{"name": "angry", "queue": "support", "sentiment": "negative"}]}
    ctxd = Ctxd(wd.path, r.port, [], extra=extra)
    items = [tagged(100 + i, i, True, ["delay"], label="negative") for i in range(40)]
    try:
        r.cmd("XGROUP", "CREATE", "ctx:{i}:items:raw", "analyze", "$", "MKSTREAM")
        r.cmd("XGROUP", "CREATE", "ctx:{i}:items:tagged", "route", "0", "MKSTREAM")
        ctxd.start(wait=False, args=("--roles", "route"))
        wait_for(lambda: any("cmd=xreadgroup" in c for c in r.cmd("CLIENT", "LIST").splitlines()),
                 what="the route role reading the tagged stream")
        # the items and, right behind them on the same connection, a pause:
        # the route role reads the items and its task scripts wait
        sha = r.cmd("SCRIPT", "LOAD", lua_source("tag"))
        cmds = []
        for it in items:
            keys = ["ctx:{i}:items:raw", "ctx:{i}:item:" + it["id"], "ctx:{i}:items:tagged"] + \
                index_keys(it)
            ms = calendar.timegm(time.strptime(it["published"], "%Y-%m-%dT%H:%M:%SZ")) * 1000
            cmds.append(["EVALSHA", sha, len(keys)] + keys + ["analyze", "0-0", it["id"],
                                                             json.dumps(it), ms, 100000])
        cmds.append(["CLIENT", "PAUSE", "3000", "ALL"])
        pipelined(r, cmds)
        time.sleep(0.5)
        assert ctxd.stop() == 0, "ctxd did not stop cleanly:\n" + ctxd.logtext()[-3000:]
        assert "AddressSanitizer" not in ctxd.logtext()
        ctxd.start(wait=False, args=("--roles", "route"))
        wait_for(lambda: r.cmd("XPENDING", "ctx:{i}:items:tagged", "route")[0] == 0, timeout=30,
                 what="every entry routed and acknowledged")
        for it in items:
            assert r.cmd("HGET", "ctx:{r}:task:social:" + it["id"], "state") == "queued", it["id"]
        assert r.cmd("ZCARD", "ctx:{r}:queue:support:waiting") == len(items)
    finally:
        ctxd.stop()
        r.stop()
        wd.cleanup()


def test_outbox_stops_cleanly_with_reads_in_flight():
    """The same for the outbox (collect role): SIGTERM while a reply it read
    waits on Redis (paused). Freeing the command connection calls the read
    back with no reply; it used to tell the reader, freed just before, to
    read the entry again. Now ctxd exits 0 and the entry stays pending."""
    wd = Workdir("outbox-stop")
    r = Redis(wd.path).start()
    ctxd = Ctxd(wd.path, r.port, [], extra={"claim_idle": "1h", "consumer": "c1"})
    try:
        ctxd.start(wait=False, args=("--roles", "collect"))
        wait_for(lambda: any("cmd=xreadgroup" in c for c in r.cmd("CLIENT", "LIST").splitlines()),
                 what="the outbox reading its stream")
        pipelined(r, [["XADD", "ctx:{r}:outbox", "*", "id", "r-stop"],
                      ["CLIENT", "PAUSE", "3000", "ALL"]])
        time.sleep(0.5)
        assert ctxd.stop() == 0, "ctxd did not stop cleanly:\n" + ctxd.logtext()[-3000:]
        assert "AddressSanitizer" not in ctxd.logtext()
        assert r.cmd("XPENDING", "ctx:{r}:outbox", "post")[0] == 1, "the entry stays pending"
    finally:
        ctxd.stop()
        r.stop()
        wd.cleanup()
