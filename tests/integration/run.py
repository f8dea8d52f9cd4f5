"""Runs every integration test (functions named test_* in test_*.py beside
this file), each with its own processes, and prints 'N passed, M failed'.
Usage: run.py [-k SUBSTRING]"""
import importlib
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main():
    pattern = sys.argv[sys.argv.index("-k") + 1] if "-k" in sys.argv else ""
    tests = []
    for fn in sorted(os.listdir(HERE)):
        if fn.startswith("test_") and fn.endswith(".py"):
            mod = importlib.import_module(fn[:-3])
            for name in sorted(dir(mod)):
                if name.startswith("test_") and pattern in "%s.%s" % (fn, name):
                    tests.append(("%s.%s" % (fn[:-3], name), getattr(mod, name)))
    passed = failed = 0
    for name, fn in tests:
        t0 = time.monotonic()
        try:
            fn()
        except Exception:
            failed += 1
            print("FAIL %s (%.1f s)" % (name, time.monotonic() - t0), flush=True)
            traceback.print_exc()
        else:
            passed += 1
            print("ok   %s (%.1f s)" % (name, time.monotonic() - t0), flush=True)
    print("integration: %d passed, %d failed" % (passed, failed))
    return 1 if failed or not tests else 0


if __name__ == "__main__":
    sys.exit(main())
