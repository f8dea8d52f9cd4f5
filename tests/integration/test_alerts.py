"""Spike alerts (issue 12, point 6; docs/alerts.md): trend counters seeded
straight into Redis in the counters' layout -- four weeks of a steady
baseline and a spike in the last minutes -- and a ctxd that analyzes: the
alert is pushed on /ws/monitor, listed by GET /api/alerts, counted in
/metrics, opens a task in the urgent queue (a rule "on": "alert"), and is
not raised again on the next minute. A steady series raises nothing."""
import asyncio
import json
import os
import time

import websockets

from harness import Ctxd, Redis, Workdir, wait_for

SECONDS = 43   # run.py starts the longest first

DAY_MS = 86400000


def utc(ms, fmt):
    return time.strftime(fmt, time.gmtime(ms // 1000))


def seed(redis, series, now_ms, rate, spike=None):
    """rate posts a minute over the past 29 days (minute buckets for the last
    three days, hour and day buckets for all, in store/KEYS.md's layout);
    spike: posts a minute in the minutes around now."""
    now_min = now_ms // 60000
    minute, hour, day = {}, {}, {}
    for m in range(now_min - 3 * 1440, now_min + 3):
        minute.setdefault(utc(m * 60000, "%Y%m%d"), {})[m] = rate
    for h in range(now_min // 60 - 29 * 24, now_min // 60 + 1):     # a field a day
        f = hour.setdefault(utc(h * 3600000, "%Y%m"), {})
        f[h // 24] = (f[h // 24] + ";" if h // 24 in f else "") + "%d=%d" % (h % 24, rate * 60)
    for d in range(now_min // 1440 - 29, now_min // 1440 + 1):
        day.setdefault(utc(d * DAY_MS, "%Y"), {})[d] = rate * 1440
    if spike:
        for m in range(now_min - 3, now_min + 3):
            minute[utc(m * 60000, "%Y%m%d")][m] = spike
    for date, fields in minute.items():         # a field an hour holding its minutes
        hours = {}
        for m, v in sorted(fields.items()):
            hours[m // 60] = (hours[m // 60] + ";" if m // 60 in hours else "") + \
                "%d=%d" % (m % 60, v)
        minute[date] = hours
    for name, buckets in (("m", minute), ("h", hour), ("d", day)):
        for date, fields in buckets.items():
            args = []
            for f, v in fields.items():
                args += [f, v]
            redis.cmd("HSET", "ctx:{i}:tr:%s:%s:%s" % (name, series, date), *args)
    redis.cmd("ZADD", "ctx:{i}:tr:series", now_ms, series)


async def monitor_alerts(port, frames, stop):
    async with websockets.connect("ws://127.0.0.1:%d/ws/monitor" % port,
                                  subprotocols=["ctx.monitor.v1"]) as ws:
        await ws.send(json.dumps({"type": "filter"}))
        while not stop.is_set():
            try:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
            except asyncio.TimeoutError:
                continue
            if msg.get("type") == "alert":
                frames.append(msg)


def test_alert_raised_pushed_listed_escalated_once():
    wd = Workdir("alerts")
    redis = Redis(wd.path).start()
    extra = {"queues": [{"name": "urgent"}],
             "escalation": [{"name": "spikes", "on": "alert", "series": ["complaint:*"],
                             "queue": "urgent", "priority": 9}],
             "alerts": {"delay": "0s"}}
    serve = Ctxd(wd.path, redis.port, [], extra=extra)
    judge = None
    try:
        serve.start(args=["--roles", "serve"])
        frames = []

        async def run():
            stop = asyncio.Event()
            task = asyncio.ensure_future(monitor_alerts(serve.port, frames, stop))
            await asyncio.sleep(1.0)            # the monitor follows the alerts stream
            now = int(time.time() * 1000)
            seed(redis, "complaint:acme-cloud/outage", now, 1, spike=40)
            seed(redis, "brand:steady", now, 5)
            nonlocal judge
            d = os.path.join(wd.path, "judge")
            os.makedirs(d)
            judge = Ctxd(d, redis.port, [], extra=dict(extra, consumer="judge"))
            judge.start(wait=False, args=["--roles", "analyze,route"])
            for _ in range(100):
                if frames:
                    break
                await asyncio.sleep(0.1)
            stop.set()
            await task
        asyncio.get_event_loop().run_until_complete(run())
        assert len(frames) == 1, frames
        a = frames[0]["alert"]
        assert a["series"] == "complaint:acme-cloud/outage" and a["dimension"] == "complaint", a
        assert a["value"] == "acme-cloud/outage" and a["count"] >= 40, a
        assert a["expected"] < a["count"] / 3, a
        assert a["text"].startswith("spike of outage complaints about acme-cloud: "), a
        assert frames[0]["id"] == a["id"]

        status, got = serve.http("/api/alerts?limit=10")
        assert [x["id"] for x in got["alerts"]] == [a["id"]], got
        status, got = serve.http("/api/alerts?since=2999-01-01T00:00:00Z")
        assert got["alerts"] == [], got
        assert serve.http("/api/alerts?limit=0", ok_only=False)[0] == 400

        status, text = serve.http("/metrics")
        assert 'ctx_alerts_total{series="complaint:acme-cloud/outage"} 1' in text, text
        assert 'series="brand:steady"' not in text

        task = "ctx:{r}:task:alert:%s" % a["id"]
        wait_for(lambda: redis.cmd("HGET", task, "queue") == "urgent", what="the alert's task")
        assert redis.cmd("HGET", task, "text") == a["text"]
        assert redis.cmd("HGET", task, "series") == "complaint:acme-cloud/outage"

        # the next minute is judged (the spike goes on) and raises nothing new
        def judged_after():
            st = redis.cmd("HGET", "ctx:{i}:alerts:state", "complaint:acme-cloud/outage") or ""
            return int(st.split()[3]) > a["minute"] if st else False
        wait_for(judged_after, timeout=75, step=0.5, what="the next minute to be judged")
        assert redis.cmd("XLEN", "ctx:{i}:alerts") == 1
        assert redis.cmd("HGET", "ctx:{i}:alerts:state", "brand:steady").startswith("0 ")
    finally:
        for c in (judge, serve):
            if c and c.alive():
                assert c.stop() == 0, "ctxd exit status"
        redis.stop()
        wd.cleanup()
