"""Redis Cluster for real: 3 masters and 3 replicas (harness.Cluster, Debian's
redis-server with --cluster-enabled yes joined by redis-cli --cluster
create, cluster-node-timeout 1 s, AOF everysec) and four ctxd processes,
the roles apart: two `--roles serve,route` (one given the masters'
addresses as "redis": [...], the other a single master's address: it
follows the first MOVED) and two `--roles collect,analyze`, the items cut
into 3 shards ("item_shards": 3), one on each master.

While a feed grows and simulated agents take callbacks through either web
node (test_two_routers' agents and invariants), the master of the routing slot
({r}, with {c} and the item shard {i:2.1} beside it) is killed with
SIGKILL -- no CLUSTER FAILOVER: its
replica is promoted by the cluster and every ctxd finds it by itself.
ctxd WAITs for a replica after each script ("redis_wait_replicas": 1), so
what it acknowledged is on the replica that takes over (and stops waiting
once the promoted replica has none: the cluster map lists none).
Then: every acknowledged task is there and finished, in exactly one place,
no capacity exceeded (the invariants, checked on the {r} master before and
after the kill); every feed entry is stored and tagged once (item hashes,
the tagged stream without duplicate ids), including those published after
the kill, in every shard (the two collectors share the one source through its lease, in
{c} on the killed master); the retention sweeper's SCANs reached the {i}
master without an error. Then the {i} master is killed as well while the
feed grows: its replica takes over and every entry is still stored once.
Every ctxd exits 0 on SIGTERM."""
import asyncio
import json
import os
import random
import signal
import subprocess
import time
import urllib.error
import urllib.request

from feedserver import FeedServer
from harness import Cluster, Ctxd, Workdir, wait_for
from test_collect import CTXCTL
from test_pipeline import entry, write_feed
from test_routing import add_agent
from test_shards import DOMAINS as SHARD_DOMAINS
from test_two_routers import CHECK, Agent

N_TASKS = int(os.environ.get("CTX_CLUSTER_TASKS", "240"))
N_AGENTS = 8
KILL_AT = N_TASKS // 3


def check(cluster, tasks):
    errs, counts = cluster.node("ctx:{r}:agents").cmd("EVAL", CHECK, 0, *tasks)
    assert not errs, "invariants broken:\n" + "\n".join(errs[:20])
    return json.loads(counts)


def waits(redis):
    """WAIT commands a node has run."""
    stat = redis.info("commandstats").get("cmdstat_wait", "calls=0")
    return int(stat.split("calls=")[1].split(",")[0])


def entries(n0, n1):
    return [entry(n, "Acme note %d" % n, "Acme support answered ticket %d, thanks" % n,
                  "Sun, 22 Nov 2026 10:%02d:00 GMT") for n in range(n0, n1)]


def create(port, i):
    """A callback through a node's API: its task id, or None when the node
    did not take it (Redis away for a moment: not acknowledged)."""
    body = json.dumps({"phone": "+7495%07d" % i, "queue": "a" if i % 3 else "b"}).encode()
    req = urllib.request.Request("http://127.0.0.1:%d/api/callbacks" % port, data=body,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())["task"]["id"]
    except (urllib.error.HTTPError, OSError):
        return None


def tagged_ids(cluster):
    """the item ids of every shard's tagged stream, each from its master now"""
    ids = []
    for d in SHARD_DOMAINS:
        for _, f in cluster.node(d + "items:tagged").cmd("XRANGE", d + "items:tagged", "-", "+"):
            ids.append(dict(zip(f[::2], f[1::2])).get("id"))
    return ids


def test_cluster_failover_under_load():
    t0 = time.monotonic()
    wd = Workdir("cluster")
    cluster = Cluster(wd.path, masters=3, timeout=1000)
    feeds = os.path.join(wd.path, "feeds")
    os.makedirs(feeds)
    feed = os.path.join(feeds, "acme.xml")
    write_feed(feed, entries(0, 20))
    fs = FeedServer(feeds)
    nodes = []
    try:
        cluster.start()
        fs.start()
        masters = [a for a in cluster.addresses()
                   if int(a.split(":")[1]) in {p for _, _, p in cluster.slots()}]
        # every script's writes on a replica before ctxd acknowledges them
        # the items in 3 shards, one per master: the {r} master killed below
        # holds one of them too (docs/deploy.md)
        extra = {"redis": masters, "item_shards": 3,
                 "redis_wait_replicas": 1, "redis_wait_timeout": "200ms",
                 "log_level": "info", "presence_grace": "0.5s",
                 "retention": {"items": "3650d", "sweep_every": "1s"},
                 "queues": [{"name": "a", "offer_timeout": "1s", "max_no_answer": 3},
                            {"name": "b", "offer_timeout": "1s", "strategy": "round-robin"}]}
        src = [{"name": "acme", "kind": "feed", "url": fs.url("acme.xml"), "every": "0.3s"}]
        # n1 is given one master, one that holds none of the domains, and no
        # "redis_cluster": its first MOVED makes it follow the cluster
        r_i = {cluster.node("ctx:{r}:agents").port, cluster.node("ctx:{i}:items:raw").port}
        other = next(a for a in masters if int(a.split(":")[1]) not in r_i)
        # the roles apart: two web+routing nodes, two collect+analyze nodes
        for i in range(4):
            os.makedirs(os.path.join(wd.path, "n%d" % i))
            nodes.append(Ctxd(os.path.join(wd.path, "n%d" % i), 0, src,
                              extra=dict(extra, redis=other) if i == 1 else extra))
        for i, n in enumerate(nodes):
            n.start(wait=False, args=["--roles", "serve,route" if i < 2 else "collect,analyze"])
        for n in nodes[:2]:
            wait_for(lambda: n.http("/healthz", ok_only=False), 20, what="ctxd up")
        for n in nodes[2:]:
            wait_for(lambda: "cluster up" in n.logtext(), 20, what="a pipeline node up")
        started = time.monotonic() - t0
        tokens = [add_agent(nodes[0], "ag%02d" % i, "--capacity", "callback=2")
                  for i in range(N_AGENTS)]
        # the pipeline on the cluster: the first 20 entries stored and tagged
        def items():
            st, body = nodes[1].http("/api/items?limit=500", ok_only=False)
            return {i["id"] for i in body["items"]} if st == 200 else set()
        wait_for(lambda: len(items()) == 20, 20, what="20 items through the cluster")

        victim = cluster.node("ctx:{r}:agents")
        assert victim is cluster.node("ctx:{c}:control"), "{r} and {c} share a master"
        assert victim is cluster.node(SHARD_DOMAINS[2] + "items:raw"), "and an item shard"
        assert len({cluster.node(d + "items:raw").port for d in SHARD_DOMAINS}) == 3
        items_master = cluster.node("ctx:{i}:items:raw")
        stats = {k: 0 for k in ["accepts", "rejects", "ignored", "dones", "transfers",
                                "disconnects"]}
        tasks, refused, info = [], [0], {}

        async def main():
            agents = [Agent("ag%02d" % i, tokens[i], [n.port for n in nodes[:2]], random.Random(i),
                            stats) for i in range(N_AGENTS)]
            runners = [asyncio.ensure_future(a.run()) for a in agents]
            i = 0
            while len(tasks) < N_TASKS:
                tid = await asyncio.to_thread(create, nodes[i % 2].port, i)
                i += 1
                if tid is None:
                    refused[0] += 1
                    await asyncio.sleep(0.1)
                    continue
                tasks.append(tid)
                if len(tasks) == KILL_AT:
                    await asyncio.to_thread(check, cluster, tasks)
                    info["waits"] = waits(victim)
                    info["killed"] = time.monotonic()
                    victim.kill()       # SIGKILL: no goodbye, no CLUSTER FAILOVER
                    write_feed(feed, entries(0, 30))
                if "killed" in info and "promoted" not in info:
                    new = cluster.node("ctx:{r}:agents")
                    if new is not victim:
                        info["promoted"] = time.monotonic() - info["killed"]
                        info["first_task_after"] = len(tasks)
                if len(tasks) % 10 == 0:
                    await asyncio.sleep(0.05)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                counts = await asyncio.to_thread(check, cluster, tasks)
                if counts.get("done", 0) == len(tasks):
                    break
                await asyncio.sleep(0.5)
            for a in agents:
                a.stop = True
            await asyncio.gather(*runners, return_exceptions=True)
            return counts

        counts = asyncio.run(main())
        new = cluster.node("ctx:{r}:agents")
        assert new is not victim and new.alive(), "a replica took the routing slot over"
        assert info["waits"] > KILL_AT, "scripts followed by WAIT: %d" % info["waits"]
        assert counts.get("done", 0) == len(tasks), "not all done: %r" % counts
        assert len(set(tasks)) == len(tasks), "a task id acknowledged twice"
        # items: the 30 entries, each stored once, those after the kill too
        wait_for(lambda: len(items()) == 30, 20, what="30 items after the failover")
        assert items() == {"feed:acme:post-%d" % n for n in range(30)}
        ids = tagged_ids(cluster)
        assert len(ids) == len(set(ids)) == 30, "tagged streams: %d entries, %d ids" % (
            len(ids), len(set(ids)))
        for n in nodes:
            assert n.alive(), "ctxd died:\n" + n.logtext()[-3000:]
        logs = [n.logtext() for n in nodes]
        assert all("slot map" in t for t in logs), "each ctxd read the slot map"
        assert "cluster up" in logs[0], logs[0][-2000:]
        assert "is a cluster node: following its slot map" in logs[1], logs[1][-2000:]
        # the retention sweeper's SCANs went where their {tag} lives
        assert not [l for t in logs for l in t.splitlines() if "ERROR retention" in l]
        scans = int(items_master.info("commandstats").get("cmdstat_scan", "calls=0")
                    .split("calls=")[1].split(",")[0])
        assert scans > 0, "no SCAN on the {i} master"
        held = [t.count("collect: acme: lease taken") for t in logs[2:]]
        assert 1 <= sum(held) <= 3, "the source's lease taken %r times" % held
        # then the items' master dies while the feed grows: its replica
        # takes over and the pipeline carries on, every entry stored once
        t1 = time.monotonic()
        marks = [len(n.logtext()) for n in nodes]
        items_master.kill()
        write_feed(feed, entries(0, 40))
        wait_for(lambda: cluster.node("ctx:{i}:items:raw") is not items_master, 20,
                 what="a replica promoted for {i}")
        items_promoted = time.monotonic() - t1
        wait_for(lambda: len(items()) == 40, 30, what="40 items after the second failover")
        assert items() == {"feed:acme:post-%d" % n for n in range(40)}
        ids = tagged_ids(cluster)
        assert len(ids) == len(set(ids)) == 40, "tagged streams: %d entries, %d ids" % (
            len(ids), len(set(ids)))
        items_back = time.monotonic() - t1
        # a connection waits only for the masters of the slots it uses: the
        # {i} pipeline's stopped for the failover, the web nodes' followers
        # of the routing streams ({r}, alive) did not
        after = [n.logtext()[m:] for n, m in zip(nodes, marks)]
        assert any("cluster degraded" in t for t in after[2:]), after[2][-2000:]
        for t in after[:2]:
            stalled = [l for l in t.splitlines()
                       if "cluster degraded" in l and "redis ctx:{r}:" in l]
            assert not stalled, "a {r} follower waited for the {i} master: %r" % stalled
        print("    cluster of 6 up and 4 ctxd serving in %.1f s; %d tasks (%d refused while "
              "the {r} master was away), {r} master killed after %d, replica promoted "
              "after %.1f s; %d WAITs on the {r} master before; %r; then the {i} master "
              "killed: promoted after %.1f s, 10 new entries stored after %.1f s"
              % (started, len(tasks), refused[0], KILL_AT, info.get("promoted", -1),
                 info["waits"], stats, items_promoted, items_back))
        for n in nodes:
            assert n.stop() == 0, "ctxd exit status"
        print("    whole test %.1f s" % (time.monotonic() - t0))
    finally:
        for n in nodes:
            if n.alive():
                n.stop(signal.SIGKILL)
        fs.stop()
        cluster.stop()
        wd.cleanup()


def migrate_slot(cluster, slot, src, dst, pause=0.05):
    """Move one slot from src to dst as redis-cli --cluster reshard does:
    IMPORTING/MIGRATING, MIGRATE its keys a few at a time (meanwhile a
    client asking src for a moved key gets ASK), then the slot's new owner
    told to every master (then MOVED)."""
    src_id, dst_id = src.cmd("CLUSTER", "MYID"), dst.cmd("CLUSTER", "MYID")
    dst.cmd("CLUSTER", "SETSLOT", slot, "IMPORTING", src_id)
    src.cmd("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id)
    moved = 0
    while True:
        keys = src.cmd("CLUSTER", "GETKEYSINSLOT", slot, 10)
        if not keys:
            break
        src.cmd("MIGRATE", "127.0.0.1", dst.port, "", 0, 5000, "KEYS", *keys)
        moved += len(keys)
        time.sleep(pause)
    for r in cluster.nodes:
        if r.alive():
            r.cmd("CLUSTER", "SETSLOT", slot, "NODE", dst_id)
    return moved


def test_items_flow_while_their_slot_migrates():
    """The slot of {i} (every item key) moves to another master while a feed
    grows and ctxd stores what it collects: ctxd follows ASK during the move
    and MOVED after it; a script whose keys are split between the two
    masters meanwhile is refused (TRYAGAIN) and sent again by ctxd 100 ms
    later, so no caller sees the error. Every entry is stored once, on the
    new master. Then ctxctl dead lists the dead letters of two masters."""
    wd = Workdir("cluster-migrate")
    cluster = Cluster(wd.path, masters=3, replicas=0)
    feeds = os.path.join(wd.path, "feeds")
    os.makedirs(feeds)
    feed = os.path.join(feeds, "acme.xml")
    write_feed(feed, entries(0, 10))
    fs = FeedServer(feeds)
    ctxd = None
    try:
        cluster.start()
        fs.start()
        src = [{"name": "acme", "kind": "feed", "url": fs.url("acme.xml"), "every": "0.2s"}]
        ctxd = Ctxd(wd.path, 0, src, extra={"redis": cluster.addresses(), "log_level": "info"})
        ctxd.start(args=["--roles", "collect,analyze,serve"])
        def items():
            st, body = ctxd.http("/api/items?limit=500", ok_only=False)
            return {i["id"] for i in body["items"]} if st == 200 else set()
        wait_for(lambda: len(items()) == 10, 20, what="10 items")
        old = cluster.node("ctx:{i}:items:raw")
        r_master = cluster.node("ctx:{r}:agents")
        new = next(r for r in cluster.nodes if r is not old and r is not r_master)
        slot = 15759                            # of "i"
        done = []

        import threading
        mover = threading.Thread(target=lambda: done.append(migrate_slot(cluster, slot, old, new)))
        mover.start()
        for n in range(12, 60, 4):              # the feed grows during the move
            write_feed(feed, entries(0, n))
            time.sleep(0.1)
        mover.join(60)
        assert done and done[0] > 10, "keys migrated: %r" % done
        write_feed(feed, entries(0, 60))
        assert cluster.node("ctx:{i}:items:raw") is new
        wait_for(lambda: len(items()) == 60, 30, what="60 items after the move")
        assert items() == {"feed:acme:post-%d" % n for n in range(60)}
        tagged = new.cmd("XRANGE", "ctx:{i}:items:tagged", "-", "+")
        ids = [dict(zip(f[::2], f[1::2])).get("id") for _, f in tagged]
        assert len(ids) == len(set(ids)) == 60, "tagged: %d entries, %d ids" % (
            len(ids), len(set(ids)))
        assert old.cmd("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
        log = ctxd.logtext()
        assert "following ASK" in log or "slot map" in log
        assert "TRYAGAIN" not in log, [l for l in log.splitlines() if "TRYAGAIN" in l][:3]
        tryagain = sum(int(r.info("errorstats").get("errorstat_TRYAGAIN", "count=0")
                           .split("count=")[1]) for r in (old, new))
        print("    %d keys of slot %d moved under load; ASK followed: %s; %d TRYAGAIN answers "
              "sent again; 60 items once" % (done[0], slot, "following ASK" in log, tryagain))
        # ctxctl on the cluster: the dead letters of two masters
        assert cluster.node("ctx:{i}:items:dead") is not cluster.node("ctx:{r}:outbox:dead")
        for key in ("ctx:{i}:items:dead", "ctx:{r}:outbox:dead"):
            cluster.node(key).cmd("XADD", key, "*", "dead_from", key[:-5], "dead_id", "1-0",
                                  "reason", "test")
        out = subprocess.run([CTXCTL, "-c", ctxd.config, "dead"], capture_output=True,
                             text=True, timeout=20)
        assert out.returncode == 0, out.stderr
        assert "ctx:{i}:items:dead (from" in out.stdout and "ctx:{r}:outbox:dead (from" in out.stdout
        assert out.stdout.count("): 1") == 2, out.stdout
        assert ctxd.stop() == 0
    finally:
        if ctxd and ctxd.alive():
            ctxd.stop(signal.SIGKILL)
        fs.stop()
        cluster.stop()
        wd.cleanup()
