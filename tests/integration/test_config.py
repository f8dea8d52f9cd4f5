"""ctxd and ctxctl refuse a bad config (exit 2) with a message naming the file
and the key."""
import json
import os
import subprocess

from harness import CTXD, ROOT, Workdir
from test_collect import CTXCTL


def run_with(cfg, cmd=None):
    """Run ctxd --check (or cmd, a ctxctl command) on the config cfg."""
    wd = Workdir("config")
    try:
        path = os.path.join(wd.path, "bad.json")
        with open(path, "w") as f:
            f.write(cfg if isinstance(cfg, str) else json.dumps(cfg))
        argv = [CTXCTL, "-c", path] + cmd if cmd else [CTXD, "-c", path, "--check"]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=20,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stderr + p.stdout, path
    finally:
        wd.cleanup()


BASE = {"rules": os.path.join(ROOT, "etc/rules"), "lexicons": os.path.join(ROOT, "etc/lexicons")}


def case(extra):
    c = dict(BASE)
    c.update(extra)
    return c


def test_bad_configs_name_the_key():
    src = {"name": "a", "kind": "feed", "url": "http://127.0.0.1:1/x", "every": "1m"}
    cases = [
        (case({"listne": "127.0.0.1:1"}), "listne: unknown key"),
        (case({"listen": "nowhere"}), "listen:"),
        (case({"sources": [dict(src, every="often")]}), "sources[0].every:"),
        (case({"sources": [dict(src, evry="1m")]}), "sources[0].evry: unknown key"),
        (case({"sources": [dict(src, kind="carrier-pigeon")]}), "sources[0].kind"),
        (case({"sources": [src, src]}), "sources[1].name"),
        (case({"sources": [{"name": "a", "kind": "feed", "every": "1m"}]}), "sources[0].url"),
        (case({"log_level": "loud"}), "log_level:"),
        ('{"listen": ', "bad.json:1:"),
        # the validators: a kind, the keys of a kind, a strategy, a queue named
        (case({"sources": [dict(src, kind="carrier-pigeon")]}),
         'sources[0].kind: unknown kind "carrier-pigeon"'),
        (case({"sources": [dict(src, tag="acme")]}), "sources[0].tag: not used by kind feed"),
        (case({"sources": [{"name": "m", "kind": "mastodon", "tag": "acme", "every": "1m"}]}),
         "sources[0].url: missing"),
        (case({"queues": [{"name": "q", "strategy": "random"}]}),
         'queues[0].strategy: unknown strategy "random"'),
        (case({"queues": [{"name": "q"}], "escalation": [{"queue": "nowhere"}]}),
         'escalation[0].queue: no queue is named "nowhere"'),
        # the nested objects, one mechanism (health, retention, trends, alerts)
        (case({"health": {"max_lag": 0}}), "health.max_lag: must be between 1 and"),
        (case({"retention": "30d"}), "retention: expected an object"),
        (case({"retention": {"itmes": "30d"}}), "retention.itmes: unknown key"),
        (case({"health": {"max_lag": 5}, "retention": {"sweep_every": 0}}),
         "retention.sweep_every: must be between 0.1 and 86400"),
    ]
    # ctxd, and ctxctl (which reads the same config through the same table)
    for cmd in (None, ["analyze"], ["rules", "reload"]):
        for cfg, want in cases:
            rc, out, path = run_with(cfg, cmd)
            assert rc == 2, (cmd, cfg, rc, out)
            assert want in out, "%s: expected %r in %r" % (cmd, want, out)
            assert "bad.json" in out, out


def test_sample_config_is_valid():
    p = subprocess.run([CTXD, "-c", os.path.join(ROOT, "etc/ctxd.json"), "--check"],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stderr


def test_production_config_is_valid():
    env = dict(os.environ, CTX_MASTODON_TOKEN="token-from-the-environment")
    p = subprocess.run([CTXD, "-c", os.path.join(ROOT, "etc/ctxd.production.json"), "--check"],
                       capture_output=True, text=True, timeout=20, env=env)
    assert p.returncode == 0, p.stderr
    p = subprocess.run([CTXD, "-c", os.path.join(ROOT, "etc/ctxd.production.json"), "--check"],
                       capture_output=True, text=True, timeout=20,
                       env={k: v for k, v in os.environ.items() if k != "CTX_MASTODON_TOKEN"})
    assert p.returncode != 0 and "CTX_MASTODON_TOKEN" in p.stderr, p.stderr
