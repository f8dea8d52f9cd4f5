"""Real parts for integration tests: redis-server, the feed server, ctxd.

Every process is started on a free loopback port in a temporary folder and
stopped by PID when the test ends (also on failure).
"""
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CTXD = os.path.join(ROOT, os.environ.get("CTXD", "bin/ctxd"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout=10.0, step=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))


def trend_count(v):
    """The count of a trend field: "count[,positive,negative,complaint]", or the sum of
    "<minute or hour>=count[,...];..." (store/KEYS.md)."""
    return sum(int(e.split("=")[-1].split(",")[0]) for e in str(v).split(";") if e)


def trends_counted(redis, timeout=20):
    """Wait until the analyzers have counted every pending trend record (each second)."""
    wait_for(lambda: redis.cmd("LLEN", "ctx:{i}:tr:pending") == 0, timeout,
             what="the pending trend records counted")


def cluster_default():
    """CTX_TEST_REDIS_CLUSTER=1 runs every test's Redis as a one-node cluster."""
    return os.environ.get("CTX_TEST_REDIS_CLUSTER", "") not in ("", "0")


def resp(*args):
    """One command in RESP2, as redis-cli sends it (str, bytes or numbers)."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Redis:
    """redis-server on a free port. cluster=True (default: the environment's
    CTX_TEST_REDIS_CLUSTER) makes it a one-node Redis Cluster that owns all
    16384 slots: ctxd talks to it as to a plain Redis, but Redis refuses a
    command or script whose keys are in different slots (CROSSSLOT), and a
    script (store/*.lua start with #!lua) that touches a key of another slot
    than its first, passed or built inside: what runs here keeps to the hash
    tags of store/KEYS.md."""

    EXTRA = []      # further redis-server arguments (a subclass's)

    def __init__(self, workdir, port=None, cluster=None):
        self.dir = os.path.join(workdir, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.port = port or free_port()
        self.cluster = cluster_default() if cluster is None else cluster
        self.proc = None

    def start(self):
        args = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                "--dir", self.dir, "--save", "", "--appendonly", "yes",
                "--logfile", os.path.join(self.dir, "redis.log")] + self.EXTRA
        if self.cluster:
            self.bus_port = getattr(self, "bus_port", None) or free_port()
            args += ["--cluster-enabled", "yes", "--cluster-port", str(self.bus_port),
                     "--cluster-config-file", os.path.join(self.dir, "nodes.conf")]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.ping(), 20, what="redis-server to answer")
        if self.cluster:
            # a restart keeps its slots (nodes.conf): add them the first time only
            if "cluster_slots_assigned:16384" not in self.cmd("CLUSTER", "INFO"):
                self.cmd("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
            wait_for(lambda: "cluster_state:ok" in self.cmd("CLUSTER", "INFO"),
                     what="the one-node cluster to be ok")
        return self

    def ping(self):
        try:
            return self.cmd("PING") == "PONG"
        except OSError:
            return False

    def cmd(self, *args):
        """One command over a fresh connection (RESP2), returns the decoded reply."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(resp(*args))
            f = s.makefile("rb")
            return _read_reply(f)

    def info(self, section):
        """INFO section as a dict of strings."""
        text = self.cmd("INFO", section)
        return dict(l.split(":", 1) for l in text.split("\r\n") if ":" in l)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def index_keys(item):
    """The index sorted sets the analyze role puts a tagged item in
    (ctxd/analyze.c, store/KEYS.md). An item without tags.complaint (tagged
    before complaints were) is in no complaint index."""
    tags = item.get("tags") or {}
    keys = ["ctx:{i}:idx:all",
            "ctx:{i}:idx:sentiment:%s" % ((tags.get("sentiment") or {}).get("label") or "neutral")]
    c = tags.get("complaint")
    if c is not None:
        keys.append("ctx:{i}:idx:complaint:%s" % ("true" if c.get("label") is True else "false"))
    keys += ["ctx:{i}:idx:brand:%s" % b for b in tags.get("brands") or []]
    keys += ["ctx:{i}:idx:topic:%s" % t for t in tags.get("topics") or []]
    if c is not None and c.get("label") is True:
        keys += ["ctx:{i}:idx:reason:%s" % r for r in c.get("reasons") or []]
    return keys


def store_tagged(redis, items, index=index_keys):
    """Store already tagged items as the analyze role does, with
    store/tag.lua (item hash, tagged stream, indexes), pipelined on one
    connection, so what is a complaint is up to the test, not to the
    analyzer's cues. The raw stream's group "analyze" must exist (tag.lua
    acknowledges there): start ctxd first. index(item) gives the index keys
    (an older ctxd's, say). Returns the tagged stream ids."""
    with open(os.path.join(ROOT, "store", "tag.lua"), "rb") as f:
        sha = redis.cmd("SCRIPT", "LOAD", f.read())
    out = bytearray()
    for it in items:
        ms = int(datetime.datetime.strptime(it["published"], "%Y-%m-%dT%H:%M:%SZ")
                 .replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
        keys = ["ctx:{i}:items:raw", "ctx:{i}:item:" + it["id"], "ctx:{i}:items:tagged"] + index(it)
        args = ["EVALSHA", sha, len(keys)] + keys + [
            "analyze", "0-0", it["id"], json.dumps(it), ms, 100000]
        out += resp(*args)
    with socket.create_connection(("127.0.0.1", redis.port), timeout=30) as s:
        s.sendall(out)
        f = s.makefile("rb")
        return [_read_reply(f) for _ in items]


def _read_reply(f):
    line = f.readline()
    if not line:
        raise OSError("connection closed")
    t, rest = line[:1], line[1:-2]
    if t == b"+":
        return rest.decode()
    if t == b"-":
        raise RuntimeError(rest.decode())
    if t == b":":
        return int(rest)
    if t == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode("utf-8", "replace")
    if t == b"*":
        n = int(rest)
        if n < 0:
            return None
        return [_read_reply(f) for _ in range(n)]
    raise OSError("bad reply %r" % line)


class Ctxd:
    def __init__(self, workdir, redis_port, sources, listen_port=None, extra=None):
        self.workdir = workdir
        self.port = listen_port or free_port()
        self.config = os.path.join(workdir, "ctxd.json")
        cfg = {
            "listen": "127.0.0.1:%d" % self.port,
            "redis": "127.0.0.1:%d" % redis_port,
            "rules": os.path.join(ROOT, "etc", "rules"),
            "lexicons": os.path.join(ROOT, "etc", "lexicons"),
            "www": os.path.join(ROOT, "ws", "www"),
            "log_level": "debug",
            "sources": sources,
            # the fixtures are dated (2026-11-22...): with the default 30 days the
            # indexes would drop them once the clock is that far past; test_retention
            # sets its own
            "retention": {"items": "3650d"},
        }
        cfg.update(extra or {})
        with open(self.config, "w") as f:
            json.dump(cfg, f, indent=2)
        self.proc = None
        self.log_path = None
        self.started_at = None
        self.runs = 0

    def start(self, wait=True, args=()):
        """args: further ctxd arguments (--roles collect,serve)."""
        self.runs += 1
        self.log_path = os.path.join(self.workdir, "ctxd.%d.log" % self.runs)
        self.log = open(self.log_path, "wb")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen([CTXD, "-c", self.config, *args], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        if wait:
            wait_for(lambda: self.http("/healthz", ok_only=False) is not None,
                     what="ctxd to serve /healthz")
        return self

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def http(self, path, ok_only=True):
        """(status, parsed JSON or text), or None when nothing answers."""
        try:
            with urllib.request.urlopen(self.url(path), timeout=5) as r:
                body = r.read().decode()
                status = r.status
        except urllib.error.HTTPError as e:
            body = e.read().decode()
            status = e.code
        except OSError:
            return None
        if ok_only and status != 200:
            raise AssertionError("GET %s: HTTP %d: %s" % (path, status, body))
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if not self.alive():
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("ctxd did not stop within %d s of signal %d" % (timeout, sig))
        finally:
            self.log.close()
        text = self.logtext()
        for bad in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if bad in text:
                raise AssertionError("ctxd reported %r:\n%s" % (bad, text[text.index(bad) - 200:]))
        return rc

    def logtext(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def close_rig(ctxd, redis, wd, *servers):
    """Take a test's rig down: ctxd by SIGTERM, which it must exit 0 from,
    then Redis, the servers (each with a stop()) and the workdir, even when
    ctxd failed."""
    try:
        if ctxd.alive():
            assert ctxd.stop(signal.SIGTERM) == 0, "ctxd exit status"
    finally:
        redis.stop()
        for s in servers:
            s.stop()
        wd.cleanup()


class Workdir:
    def __init__(self, name):
        self.path = tempfile.mkdtemp(prefix="ctx-%s-" % name)

    def cleanup(self):
        if os.environ.get("CTX_KEEP"):       # keep logs and data to look at a failure
            print("    kept %s" % self.path)
            return
        shutil.rmtree(self.path, ignore_errors=True)
