"""Websocket fan-out: SOCKETS /ws/monitor sockets on one serve node.

Starts a Redis and one ctxd --roles serve, raises the open-files limit (soft
to hard) for both ctxd and the client, and runs bench/ws_fanout.c: one
process, one epoll, all the sockets. It XADDs tagged items itself and
reports the p50/p99 from XADD to the frame at the last socket (20 items/s),
frames and items per second to all sockets in a burst of 200 items, and
ctxd's memory per socket. CPU time (user+sys) of ctxd, redis-server and the
client is printed next to the wall clock.

    ws_fanout.py [SOCKETS...]        (default 10000)
"""
import os
import resource
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from harness import ROOT, Ctxd, Redis, Workdir, wait_for  # noqa: E402
from routing_load import cpu  # noqa: E402


def build(tmp):
    exe = os.path.join(tmp, "ws_fanout")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "hiredis"], capture_output=True,
                           text=True, check=True).stdout.split()
    subprocess.run(["cc", "-O2", "-std=gnu11", "bench/ws_fanout.c", *flags, "-o", exe], cwd=ROOT,
                   check=True)
    return exe


def run(exe, sockets):
    wd = Workdir("bench-fanout")
    redis = Redis(wd.path, cluster=False).start()
    c = Ctxd(wd.path, redis.port, [], extra={"log_level": "warn"})
    try:
        c.start(args=("--roles", "serve"))
        wait_for(lambda: c.http("/healthz", ok_only=False)[0] == 200, 10, what="healthz")
        c0, r0 = cpu(c.proc.pid), cpu(redis.proc.pid)
        # the latency phase under the node's capacity (some tens of thousands of
        # frames a second here): 20,000 frames a second to all, for 10 s
        rate = max(2.0, min(20.0, 20000.0 / sockets))
        lat_items = int(rate * 10)
        burst = max(20, min(200, 400000 // sockets))
        p = subprocess.run([exe, str(c.port), str(redis.port), str(sockets), str(c.proc.pid),
                            str(lat_items), "%g" % rate, str(burst)],
                           capture_output=True, text=True, timeout=170)
        c1, r1 = cpu(c.proc.pid), cpu(redis.proc.pid)
        out = dict(zip(p.stdout.split()[0::2], p.stdout.split()[1::2]))
        if p.returncode or not out:
            print("  %d sockets: client exit %d: %s %s" % (sockets, p.returncode, p.stdout,
                                                            p.stderr[-800:]))
            print(c.logtext()[-1500:])
        if out:
            print("  %s sockets (%s open, %s refused or dropped, opened in %s s): "
                  "ctxd RSS %s -> %s kB = %s kB/socket" % (
                      out["sockets"], out["open"], out["dead"], out["open_s"], out["rss0_kb"],
                      out["rss1_kb"], out["per_socket_kb"]))
            print("    XADD -> frame at the last socket, %s items at %s/s: p50 %s ms, p99 %s ms,"
                  " max %s ms" % (out["lat_items"], out["lat_rate"], out["lat_p50_ms"],
                                  out["lat_p99_ms"], out["lat_max_ms"]))
            print("    burst of %s items: all sockets had all of them in %s s = %s frames/s, "
                  "%s items/s to every socket (fewest got by one item: %s)" % (
                      out["burst_items"], out["burst_s"], out["frames_per_s"],
                      out["items_per_s"], out["burst_min_got"]))
            print("    CPU s over the run: ctxd %.2f, redis-server %.2f, client %s"
                  % (c1 - c0, r1 - r0, out["client_cpu_s"]))
    finally:
        c.stop(signal.SIGTERM)
        redis.stop()
        wd.cleanup()


if __name__ == "__main__":
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))   # ctxd inherits it
    counts = [int(a) for a in sys.argv[1:]] or [10000]
    with tempfile.TemporaryDirectory() as tmp:
        exe = build(tmp)
        for n in counts:
            run(exe, n)
