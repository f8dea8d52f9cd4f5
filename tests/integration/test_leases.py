"""Collectors on several processes split the sources: two ctxd with the
collect role share six feeds through one Redis. Each source's lease
(ctx:{c}:lease:source:<name>) names one of them at a time and only that one
polls it; when a collector is killed (SIGKILL: its leases are not given
back), the other takes its sources over once they expire (2 polls + 5 s),
and every entry is stored once all along; a collector that stops cleanly
(SIGTERM) gives its leases back before it exits."""
import os
import signal
import time

from feedserver import FeedServer
from harness import Ctxd, Redis, Workdir, wait_for
from test_pipeline import entry, write_feed

N = 6


def holders(redis):
    return {i: redis.cmd("GET", "ctx:{c}:lease:source:f%d" % i) for i in range(N)}


def test_collectors_split_sources_and_take_over():
    wd = Workdir("leases")
    feeds = os.path.join(wd.path, "feeds")
    os.makedirs(feeds)
    for i in range(N):
        write_feed(os.path.join(feeds, "f%d.xml" % i), [entry(i * 10, "Acme %d" % i,
                                                              "Acme is fine %d" % i)])
    redis = Redis(wd.path).start()
    fs = FeedServer(feeds)
    fs.start()
    src = [{"name": "f%d" % i, "kind": "feed", "url": fs.url("f%d.xml" % i), "every": "0.5s"}
           for i in range(N)]
    nodes = []
    try:
        for k in range(2):
            os.makedirs(os.path.join(wd.path, "c%d" % k))
            nodes.append(Ctxd(os.path.join(wd.path, "c%d" % k), redis.port, src,
                              extra={"log_level": "info", "consumer": "col%d" % k}))
        for n in nodes:
            n.start()
        wait_for(lambda: all(holders(redis).values()), what="every source leased")
        # each source polled by its holder only: no "lease taken" twice
        time.sleep(1)
        first = holders(redis)
        taken = [n.logtext().count("lease taken by") for n in nodes]
        assert sum(taken) == N, "leases taken %r (holders %r)" % (taken, first)
        for i in range(N):
            who = int(first[i][-1])
            assert "collect: f%d: lease taken" % i in nodes[who].logtext()
            assert "collect: f%d: lease taken" % i not in nodes[1 - who].logtext()
        polls = {i: fs.count("f%d.xml" % i) for i in range(N)}
        time.sleep(2)
        for i in range(N):      # ~4 polls in 2 s at 0.5 s (+-10%), not ~8
            got = fs.count("f%d.xml" % i) - polls[i]
            assert 2 <= got <= 6, "f%d polled %d times in 2 s" % (i, got)
        # the holder of f0 dies; the other takes everything over
        victim = int(first[0][-1])
        nodes[victim].stop(signal.SIGKILL)
        t0 = time.monotonic()
        survivor = "col%d" % (1 - victim)
        wait_for(lambda: all(h == survivor for h in holders(redis).values()), 15,
                 what="the survivor holding every lease")
        took = time.monotonic() - t0
        for i in range(N):
            write_feed(os.path.join(feeds, "f%d.xml" % i),
                       [entry(i * 10 + 1, "Acme %d b" % i, "Acme is great %d" % i),
                        entry(i * 10, "Acme %d" % i, "Acme is fine %d" % i)])
        wait_for(lambda: redis.cmd("XLEN", "ctx:{i}:items:tagged") == 2 * N, 15,
                 what="the new entries stored")
        ids = [dict(zip(f[::2], f[1::2]))["id"]
               for _, f in redis.cmd("XRANGE", "ctx:{i}:items:tagged", "-", "+")]
        assert len(ids) == len(set(ids)) == 2 * N, ids
        print("    %d sources split %r between 2 collectors; the survivor took all over "
              "%.1f s after the other's SIGKILL" % (N, taken, took))
        # a clean stop gives the leases back at once (not 2 polls + 5 s later)
        assert nodes[1 - victim].stop() == 0
        left = {i: h for i, h in holders(redis).items() if h}
        assert not left, "leases still held after a clean stop: %r" % left
        assert "giving %d source leases back" % N in nodes[1 - victim].logtext()
    finally:
        for n in nodes:
            if n.alive():
                n.stop(signal.SIGKILL)
        fs.stop()
        redis.stop()
        wd.cleanup()
