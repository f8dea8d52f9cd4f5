"""Items that once stalled the analyze role for good (issue 11, point 1):
one that matches 200 rules needs 200-odd script arguments; it is tagged
like any other, and the items after it too."""
import json
import os
import time

from harness import CTXD, Ctxd, Redis, Workdir, wait_for


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
            r.cmd("XADD", "ctx:items:raw", "*", "id", it["id"], "item", json.dumps(it))
        ctxd.start()
        wait_for(lambda: r.cmd("XLEN", "ctx:items:tagged") == 3, timeout=15,
                 what="three items tagged")
        tagged = json.loads(r.cmd("HGET", "ctx:item:p:0", "json") or "{}")
        assert len(tagged.get("tags", {}).get("topics", [])) == 200, tagged.get("tags")
        assert r.cmd("ZCARD", "ctx:idx:topic:t199") == 1
        pending = r.cmd("XPENDING", "ctx:items:raw", "analyze")
        assert pending[0] == 0, pending
    finally:
        ctxd.stop()
        r.stop()
        wd.cleanup()
