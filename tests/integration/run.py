"""Runs every integration test (functions named test_* in test_*.py beside
this file), each in its own Python process with its own Redis and ctxd, and
prints 'N passed, M failed'.

Usage: run.py [-k SUBSTRING] [-j JOBS]

Tests run JOBS at a time (default: CTX_TEST_JOBS, else twice the number of
cores, at most 4): most of a test's time is spent waiting on a daemon (on 2
busy cores the suite took 112 s two at a time, 81 s four at a time; each
test has its own Redis and ctxd on free ports and its own folder). A module
may say how long its tests take (SECONDS = 40); the longest start first, so
that the run does not end on one slow test. Each test's output is printed
in one piece when it ends."""
import importlib
import os
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def collect(pattern):
    tests = []
    for fn in sorted(os.listdir(HERE)):
        if fn.startswith("test_") and fn.endswith(".py"):
            mod = importlib.import_module(fn[:-3])
            cost = getattr(mod, "SECONDS", 5)
            for name in sorted(dir(mod)):
                if name.startswith("test_") and pattern in "%s.%s" % (fn, name):
                    tests.append(("%s.%s" % (fn[:-3], name), cost))
    return tests


def run_one(name):
    """In the child: run one test, exit 0 if it passed."""
    modname, fn = name.split(".", 1)
    try:
        getattr(importlib.import_module(modname), fn)()
    except Exception:
        traceback.print_exc()
        return 1
    return 0


def main():
    argv = sys.argv[1:]
    if argv[:1] == ["--one"]:
        return run_one(argv[1])
    pattern = argv[argv.index("-k") + 1] if "-k" in argv else ""
    jobs = int(argv[argv.index("-j") + 1] if "-j" in argv else
               os.environ.get("CTX_TEST_JOBS") or min(2 * (os.cpu_count() or 1), 4))
    tests = collect(pattern)
    # longest first (stable: alphabetical among equals)
    queue = [n for n, _ in sorted(tests, key=lambda t: -t[1])]
    running = {}                        # Popen -> (name, start, log file)
    passed = failed = 0
    t_all = time.monotonic()
    while queue or running:
        while queue and len(running) < max(jobs, 1):
            name = queue.pop(0)
            log = tempfile.TemporaryFile()   # not a pipe: a chatty test never blocks
            p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--one", name],
                                 stdout=log, stderr=subprocess.STDOUT)
            running[p] = (name, time.monotonic(), log)
        done = None
        while done is None:
            for p in running:
                if p.poll() is not None:
                    done = p
                    break
            else:
                time.sleep(0.05)
        name, t0, log = running.pop(done)
        log.seek(0)
        out = log.read().decode("utf-8", "replace")
        log.close()
        dt = time.monotonic() - t0
        if done.returncode == 0:
            passed += 1
            print("ok   %s (%.1f s)" % (name, dt), flush=True)
        else:
            failed += 1
            print("FAIL %s (%.1f s)" % (name, dt), flush=True)
        if out.strip() and (done.returncode != 0 or os.environ.get("CTX_TEST_VERBOSE")):
            sys.stdout.write(out if out.endswith("\n") else out + "\n")
            sys.stdout.flush()
    print("integration: %d passed, %d failed (%d at a time, %.0f s)"
          % (passed, failed, jobs, time.monotonic() - t_all))
    return 1 if failed or not tests else 0


if __name__ == "__main__":
    sys.exit(main())
