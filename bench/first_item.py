"""Time from starting ctxd to the first tagged item on /ws/monitor, on real
parts (redis-server, a loopback feed server, bin/ctxd), over several runs.
Prints min / median / max."""
import asyncio
import os
import signal
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from harness import wait_for  # noqa: E402
from test_pipeline import Rig, ws_items  # noqa: E402


def once():
    rig = Rig("bench-first")
    try:
        rig.ctxd.start(wait=False)
        t0 = rig.ctxd.started_at
        wait_for(lambda: rig.ctxd.http("/healthz", ok_only=False), step=0.005, what="ctxd up")
        got = asyncio.run(ws_items(rig.ctxd.port, 1, since="0-0"))
        assert got, "no item"
        return time.monotonic() - t0
    finally:
        rig.ctxd.stop(signal.SIGTERM)
        rig.close()


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    ts = [once() for _ in range(runs)]
    print("ctxd start -> first item on /ws/monitor over %d runs: min %.3f s, median %.3f s, "
          "max %.3f s (first poll is spread over 0.01-0.5 s after start)"
          % (runs, min(ts), statistics.median(ts), max(ts)))


if __name__ == "__main__":
    main()
