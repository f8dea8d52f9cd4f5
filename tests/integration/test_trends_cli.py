"""ctxctl trends and ctxctl trends top against a real ctxd: items with known
published times go through the analyze role (tests/integration/test_trends.py's
texts and rig), then the table has the totals, shares and sparklines of the
counts per hour, --csv is the API's own CSV, --tz reaches the API, trends top
ranks the topics, and the errors are clear: a zone ctxd refuses (its
message, status 1), a bad option (usage, 2), ctxd down (1)."""
import os
import subprocess
import time

from harness import CTXD, ROOT
from test_trends import Rig, seed_hours

CTXCTL = os.path.join(ROOT, "bin-san/ctxctl" if "bin-san" in CTXD else "bin/ctxctl")


def ctl(rig, *args):
    return subprocess.run([CTXCTL, "-c", rig.ctxd.config, *args], capture_output=True, text=True,
                          timeout=20)


def row(out, series):
    for line in out.splitlines():
        if line.split()[:1] == [series]:
            return line.split()
    raise AssertionError("no row %s in\n%s" % (series, out))


def test_trends_cli_table_csv_top_errors():
    rig = Rig("trends-cli").start()
    try:
        base = seed_hours(rig, int(time.time()))
        rng = ["--from", str(base), "--to", str(base + 3 * 3600)]

        # the table: per series a sparkline of [3, 2, 0] etc., totals and share of voice
        p = ctl(rig, "trends", *rng, "--bucket", "1h", "--brand", "acme", "--series",
                "brand:acme-cloud", "--topic", "outage")
        assert p.returncode == 0, p.stderr
        assert "hour buckets, UTC" in p.stdout.splitlines()[0], p.stdout
        acme = row(p.stdout, "brand:acme")
        assert acme[1:] == ["█▆▁", "5", "2", "3", "0", "3", "41.7%"], acme
        assert row(p.stdout, "brand:acme-cloud")[1:] == ["▁█▁", "4", "4", "0", "0", "0", "33.3%"]
        assert row(p.stdout, "topic:outage")[1:] == ["█▁▁", "3", "0", "3", "0", "3", "25.0%"]
        # one series: no share; the default series is all
        p = ctl(rig, "trends", *rng)
        assert p.returncode == 0, p.stderr
        assert row(p.stdout, "all")[2:] == ["9", "6", "3", "0", "3", "-"], p.stdout
        # --since: the last 24 hours hold them all
        p = ctl(rig, "trends", "--since", "24h", "--brand", "acme")
        assert p.returncode == 0 and row(p.stdout, "brand:acme")[2] == "5", p

        # --csv is the API's CSV, byte for byte
        q = "series=brand:acme,topic:outage&from=%d&to=%d&bucket=hour&format=csv" % (
            base, base + 3 * 3600)
        st, ctype, body = rig.get("/api/trends?" + q)
        assert st == 200 and ctype.startswith("text/csv"), (st, ctype)
        p = subprocess.run([CTXCTL, "-c", rig.ctxd.config, "trends", *rng, "--brand", "acme",
                            "--topic", "outage", "--csv"], capture_output=True, timeout=20)
        assert p.returncode == 0, p.stderr
        assert p.stdout.decode() == body, (p.stdout, body)
        assert p.stdout.decode().splitlines()[0].startswith("series,t,count,positive,negative"), p.stdout

        # --tz reaches the API: Moscow days, local times in the header
        p = ctl(rig, "trends", "--since", "24h", "--bucket", "day", "--tz", "Europe/Moscow")
        assert p.returncode == 0, p.stderr
        assert "day buckets, Europe/Moscow" in p.stdout and "+03:00" in p.stdout, p.stdout

        # trends top: by volume and by growth
        p = ctl(rig, "trends", "top", "--dim", "topic", "--since", "7d", "--limit", "5")
        assert p.returncode == 0, p.stderr
        vol = p.stdout.split("BY VOLUME")[1].split("BY GROWTH")[0]
        names = [ln.split()[0] for ln in vol.strip().splitlines()[1:]]
        assert names == ["praise", "outage"], p.stdout
        assert row(vol, "praise")[1:3] == ["6", "0"], vol
        p = ctl(rig, "trends", "top", "--dim", "brand", "--since", "7d", "--json")
        assert p.returncode == 0 and '"by_growth"' in p.stdout, p

        # errors: ctxd's message, usage, ctxd down
        p = ctl(rig, "trends", "--tz", "Mars/Olympus")
        assert p.returncode == 1 and "bad_tz" in p.stderr and "time zone" in p.stderr, p
        p = ctl(rig, "trends", "top", "--dim", "colour")
        assert p.returncode == 1 and "bad_dim" in p.stderr, p
        p = ctl(rig, "trends", "--bucket", "week")
        assert p.returncode == 2 and "minute, hour or day" in p.stderr, p
        p = ctl(rig, "trends", "--since", "24h", "--from", "0")
        assert p.returncode == 2, p
        p = ctl(rig, "trends", "--nonsense")
        assert p.returncode == 2 and "usage: ctxctl trends" in p.stderr, p
        rig.ctxd.stop()
        p = ctl(rig, "trends")
        assert p.returncode == 1 and "is ctxd running?" in p.stderr, p
    finally:
        rig.close()
