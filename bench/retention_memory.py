"""What one retained item costs in Redis, measured with MEMORY USAGE: N real
posts (the airline tweets of ../shared/corpora, or generated ones) go
through ctxd (collect, analyze, route: the negative ones become tasks) with
the default retention, then every key is measured and summed by kind.
Prints bytes per item for each kind (the item hash, its index entries, its
tagged stream entry, its simhash band entries, its seen entry) and per task.
The numbers feed docs/operations.md, "Retention".

    python3 bench/retention_memory.py [N]        (default 1000)
"""
import csv
import email.utils
import os
import sys
import time
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from feedserver import FeedServer  # noqa: E402
from harness import ROOT, Ctxd, Redis, Workdir, wait_for  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
TWEETS = os.path.join(ROOT, "..", "shared", "corpora", "airline", "airline-tweets-dev.csv")


def posts(n):
    out = []
    if os.path.exists(TWEETS):
        with open(TWEETS, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                out.append(row["text"])
                if len(out) == n:
                    break
    while len(out) < n:
        out.append("Acme parcel %d never arrived, terrible service, I want a refund" % len(out))
    return out


def main():
    wd = Workdir("retention-memory")
    redis = Redis(wd.path).start()
    feeds = os.path.join(wd.path, "feeds")
    os.makedirs(feeds)
    now = email.utils.formatdate(time.time(), usegmt=True)
    items = "".join("<item><title>post %d</title><link>http://127.0.0.1/p/%d</link>"
                    "<guid isPermaLink=\"false\">p-%d</guid><pubDate>%s</pubDate>"
                    "<description>%s</description></item>" % (i, i, i, now, escape(t))
                    for i, t in enumerate(posts(N)))
    with open(os.path.join(feeds, "f.xml"), "w") as f:
        f.write('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                "<title>t</title><link>http://127.0.0.1/</link><description>d</description>"
                "%s</channel></rss>" % items)
    fs = FeedServer(feeds)
    fs.start()
    before = int(redis.info("memory")["used_memory"])
    c = Ctxd(wd.path, redis.port,
             [{"name": "f", "kind": "feed", "url": fs.url("f.xml"), "every": "1h",
               "max_bytes": "64MB"}],
             extra={"queues": [{"name": "support"}], "log_level": "info",
                    "escalation": [{"queue": "support", "sentiment": "negative"}],
                    "retention": {}})
    try:
        c.start()
        wait_for(lambda: redis.cmd("XLEN", "ctx:{i}:items:tagged") == N, 120, 0.5, "items tagged")
        time.sleep(2)   # the route group's escalations
        sizes = {}
        for k in redis.cmd("KEYS", "*"):
            kind = ("item hash" if k.startswith("ctx:{i}:item:") else
                    "index entries" if k.startswith("ctx:{i}:idx:") else
                    "simhash bands" if k.startswith("ctx:{i}:simhash:") else
                    "seen entry" if k.startswith("ctx:{i}:seen:") else
                    "tagged entry" if k == "ctx:{i}:items:tagged" else
                    "task hash" if k.startswith("ctx:{r}:task:") else
                    "queue (waiting)" if k.startswith("ctx:{r}:queue:") else "other")
            sizes[kind] = sizes.get(kind, 0) + redis.cmd("MEMORY", "USAGE", k, "SAMPLES", "0")
        tasks = len(redis.cmd("KEYS", "ctx:{r}:task:*"))
        after = int(redis.info("memory")["used_memory"])
        print("retention memory: %d items (%s), %d tasks" % (
            N, "airline tweets" if os.path.exists(TWEETS) else "generated", tasks))
        per_item = 0
        for kind in ("item hash", "index entries", "tagged entry", "simhash bands", "seen entry"):
            per_item += sizes.get(kind, 0) / N
            print("  %-16s %7.0f bytes per item" % (kind, sizes.get(kind, 0) / N))
        print("  %-16s %7.0f bytes per item (used_memory grew %.0f per item)"
              % ("all", per_item, (after - before) / N))
        if tasks:
            print("  %-16s %7.0f bytes per task (+ %.0f in its queue's waiting zset)"
                  % ("task hash", sizes["task hash"] / tasks,
                     sizes.get("queue (waiting)", 0) / tasks))
    finally:
        c.stop()
        fs.stop()
        redis.stop()
        wd.cleanup()


if __name__ == "__main__":
    main()
