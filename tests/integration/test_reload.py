"""Rules reload on `ctxctl rules reload` and on SIGHUP, without a restart
and without dropping an item; a broken rules folder is refused with its
line and column and the daemon keeps the rules it has."""
import os
import shutil
import signal
import subprocess

from harness import CTXD, ROOT, wait_for
from test_collect import CTXCTL
from test_pipeline import E1, Rig, entry, write_feed


def test_rules_reload():
    rig = Rig("reload")
    rules = os.path.join(rig.wd.path, "rules")
    shutil.copytree(os.path.join(ROOT, "etc", "rules"), rules)
    import json
    with open(rig.ctxd.config) as f:
        cfg = json.load(f)
    cfg["rules"] = rules
    with open(rig.ctxd.config, "w") as f:
        json.dump(cfg, f)
    ctl = lambda *a: subprocess.run([CTXCTL, "-c", rig.ctxd.config] + list(a),
                                    capture_output=True, text=True, timeout=20)
    try:
        rig.ctxd.start()
        wait_for(lambda: len(rig.items()) == 1, what="first item")
        # a broken rule is reported with file:line:col and not sent
        with open(os.path.join(rules, "zorg.rules"), "w") as f:
            f.write("# test\nbrand zorg\n  match \\bzorg(\\b\n")
        p = ctl("rules", "reload")
        assert p.returncode == 1 and "zorg.rules:3:" in p.stderr, (p.returncode, p.stderr)
        # fixed: reloaded by every ctxd, and new items get the new brand
        with open(os.path.join(rules, "zorg.rules"), "w") as f:
            f.write("# test\nbrand zorg\n  match \\bzorg\\b\n")
        p = ctl("rules", "reload")
        assert p.returncode == 0, p.stderr
        wait_for(lambda: "rules reloaded" in rig.ctxd.logtext(), what="reload logged")
        write_feed(rig.feed, [entry(7, "Zorg news", "I love my new Zorg phone"), E1])
        wait_for(lambda: len(rig.items()) == 2, what="new item")
        it = [i for i in rig.items() if i["id"] == "feed:acme:post-7"][0]
        assert "zorg" in it["tags"]["brands"], it["tags"]
        # SIGHUP does the same; a broken folder keeps the old rules
        with open(os.path.join(rules, "zorg.rules"), "w") as f:
            f.write("brand zorg\n  match (\n")
        rig.ctxd.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "keeping the rules in use" in rig.ctxd.logtext(), what="refused reload")
        write_feed(rig.feed, [entry(8, "Zorg again", "zorg zorg"),
                              entry(7, "Zorg news", "I love my new Zorg phone"), E1])
        wait_for(lambda: len(rig.items()) == 3, what="third item")
        it = [i for i in rig.items() if i["id"] == "feed:acme:post-8"][0]
        assert "zorg" in it["tags"]["brands"], "old rules were dropped: %r" % it["tags"]
        assert rig.ctxd.alive()
    finally:
        rig.close()
