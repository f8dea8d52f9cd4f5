"""Real parts for integration tests: redis-server, the feed server, ctxd.

Every process is started on a free loopback port in a temporary folder and
stopped by PID when the test ends (also on failure).
"""
import datetime
import json
import os
import random
import re
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


# Listening ports are picked at random below the kernel's ephemeral range
# (32768-60999 here): a port the kernel handed out with bind(0) may be taken,
# before the daemon binds it, by another test's outgoing connection (tests run
# side by side). 10000-29999; a Redis Cluster node's bus port is port + 10000.
PORT_LO, PORT_HI = 10000, 30000
_given = set()
_rng = random.SystemRandom()     # not the random module's: a test may seed that


def free_port(lo=PORT_LO, hi=PORT_HI):
    """A port free on 127.0.0.1 for TCP and UDP, not handed out before by
    this process."""
    while True:
        p = _rng.randrange(lo, hi)
        if p in _given:
            continue
        socks = []
        try:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                s = socket.socket(socket.AF_INET, kind)
                socks.append(s)
                s.bind(("127.0.0.1", p))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        _given.add(p)
        return p


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
        except RuntimeError:        # LOADING: still reading its AOF
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

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        stop_process(self.proc)


def stop_process(proc, timeout=5):
    """SIGTERM, then SIGKILL if it has not exited within timeout s."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def lua_source(name, text=None):
    """store/<name>.lua as ctxd embeds it: each line `--!include NAME`
    replaced by store/lib/NAME.lua (the Makefile does the same). text: the
    script's own text, when it comes from elsewhere (git show)."""
    if text is None:
        with open(os.path.join(ROOT, "store", name + ".lua"), "rb") as f:
            text = f.read()
    out = []
    for line in text.splitlines(keepends=True):
        m = re.match(rb"--!include ([a-z_]+)\s*$", line)
        if m:
            with open(os.path.join(ROOT, "store", "lib", m.group(1).decode() + ".lua"), "rb") as f:
                line = f.read()
        out.append(line)
    return b"".join(out)


KEPT_FIGURES = """
local errs = {}
local function num(x) return tonumber(x) or 0 end
for _, a in ipairs(redis.call('SMEMBERS', 'ctx:{r}:agents')) do
  local g = redis.call('HMGET', 'ctx:{r}:agent:' .. a, 'state', 'offers', 'cap:social',
                       'load:social', 'cap:chat', 'load:chat', 'cap:callback', 'load:callback')
  local room = num(g[3]) > num(g[4]) or num(g[5]) > num(g[6]) or num(g[7]) > num(g[8])
  local ready = g[1] == 'available' and num(g[2]) == 0 and room
  if ready ~= (redis.call('SISMEMBER', 'ctx:{r}:agents:ready', a) == 1) then
    errs[#errs + 1] = 'agent ' .. a .. ' (' .. tostring(g[1]) .. '): the ready set disagrees'
  end
end
local live, cursor = {}, '0'
repeat
  local r = redis.call('SCAN', cursor, 'MATCH', 'ctx:{r}:task:*', 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do
    if redis.call('TYPE', k).ok == 'hash' then
      local id = string.sub(k, #'ctx:{r}:task:' + 1)
      local f = redis.call('HMGET', k, 'state', 'queue')
      if f[1] == 'offered' or f[1] == 'assigned' then
        live[f[2] .. ':' .. f[1]] = (live[f[2] .. ':' .. f[1]] or 0) + 1
      end
      if f[2] then
        local arr = redis.call('ZSCORE', 'ctx:{r}:queue:' .. f[2] .. ':arrivals', id)
        if (f[1] == 'queued') ~= (arr ~= false) then
          errs[#errs + 1] = id .. ' is ' .. tostring(f[1]) .. ', arrivals disagree'
        end
      end
    end
  end
until cursor == '0'
local kept = redis.call('HGETALL', 'ctx:{r}:queues:live')
local seen = {}
for i = 1, #kept, 2 do
  local k = kept[i]
  if k:match(':offered$') or k:match(':assigned$') then
    seen[k] = true
    if num(kept[i + 1]) ~= (live[k] or 0) then
      errs[#errs + 1] = k .. ': kept ' .. kept[i + 1] .. ', counted ' .. (live[k] or 0)
    end
  end
end
for k, n in pairs(live) do
  if not seen[k] then errs[#errs + 1] = k .. ': not kept, counted ' .. n end
end
return errs
"""


def check_kept_figures(redis):
    """The figures the routing scripts keep (store/KEYS.md: the ready agents
    set, the queues' live offered/assigned counts, the arrivals sets) agree
    with the agents and tasks themselves, on a plain Redis."""
    errs = redis.cmd("EVAL", KEPT_FIGURES, 0)
    assert not errs, "kept figures disagree:\n" + "\n".join(errs[:20])


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
    sha = redis.cmd("SCRIPT", "LOAD", lua_source("tag"))
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

    def start(self, wait=True, args=(), env=None):
        """args: further ctxd arguments (--roles collect,serve); env: its
        environment, if not this one."""
        self.runs += 1
        self.log_path = os.path.join(self.workdir, "ctxd.%d.log" % self.runs)
        self.log = open(self.log_path, "wb")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen([CTXD, "-c", self.config, *args], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)
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


def _free_pair():
    """A free port whose cluster bus port (port + 10000) is free too."""
    while True:
        p = free_port(PORT_LO, PORT_LO + 10000)     # bus: 20000-29999
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p + 10000))
        except OSError:
            continue
        finally:
            s.close()
        return p


def key_slot(key):
    """The cluster slot of a key (CRC16 of its {hash tag})."""
    b = key.encode() if isinstance(key, str) else key
    i = b.find(b"{")
    if i >= 0:
        j = b.find(b"}", i + 1)
        if j > i + 1:
            b = b[i + 1:j]
    crc = 0
    for x in b:
        crc ^= x << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xffff if crc & 0x8000 else (crc << 1) & 0xffff
    return crc % 16384


class Cluster:
    """A Redis Cluster of `masters` masters with `replicas` replicas each, started in
    parallel on loopback ports (AOF everysec, cluster-node-timeout `timeout`
    ms) and joined by `redis-cli --cluster create`. node(key) is the Redis
    (harness.Redis, for cmd()) that masters the key's slot now."""

    def __init__(self, workdir, masters=3, timeout=1000, replicas=1):
        self.nodes = []
        self.replicas = replicas
        for i in range(masters * (1 + replicas)):
            r = Redis(os.path.join(workdir, "node%d" % i), port=_free_pair(), cluster=False)
            r.EXTRA = ["--cluster-enabled", "yes", "--cluster-node-timeout", str(timeout),
                       "--cluster-config-file", os.path.join(r.dir, "nodes.conf"),
                       "--appendfsync", "everysec",
                       # a replica's first sync at once, not after 5 s
                       "--repl-diskless-sync-delay", "0"]
            self.nodes.append(r)
        self.masters = masters

    def addresses(self):
        return ["127.0.0.1:%d" % r.port for r in self.nodes]

    def start(self):
        for r in self.nodes:        # all at once, then wait for each
            args = ["redis-server", "--bind", "127.0.0.1", "--port", str(r.port),
                    "--dir", r.dir, "--save", "", "--appendonly", "yes",
                    "--logfile", os.path.join(r.dir, "redis.log")] + r.EXTRA
            r.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
        for r in self.nodes:
            wait_for(r.ping, 20, what="redis-server %d to answer" % r.port)
        out = subprocess.run(["redis-cli", "--cluster", "create", *self.addresses(),
                              "--cluster-replicas", str(self.replicas), "--cluster-yes"],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise AssertionError("redis-cli --cluster create: %s%s" % (out.stdout, out.stderr))
        for r in self.nodes:
            wait_for(lambda: "cluster_state:ok" in r.cmd("CLUSTER", "INFO"), 20,
                     what="cluster_state:ok on %d" % r.port)
        try:
            wait_for(lambda: all(self.replicas_synced()), 30, what="the replicas to sync")
        except AssertionError:
            states = []
            for r in self.nodes:
                info = r.info("replication") if r.alive() else {}
                states.append("%d %s link %s" % (r.port, info.get("role"),
                                                  info.get("master_link_status", "-")))
            raise AssertionError("the replicas did not sync in 30 s: " + "; ".join(states))
        return self

    def replicas_synced(self):
        for r in self.nodes:
            if r.alive():
                info = r.info("replication")
                if info.get("role") == "slave":
                    yield info.get("master_link_status") == "up"

    def slots(self, via=None):
        """[(start, end, port of its master)] as a live node sees it."""
        for r in ([via] if via else []) + [n for n in self.nodes if n.alive()]:
            try:
                return [(s[0], s[1], int(s[2][1])) for s in r.cmd("CLUSTER", "SLOTS")]
            except OSError:
                continue
        raise AssertionError("no cluster node answers")

    def node(self, key):
        slot = key_slot(key)
        for start, end, port in self.slots():
            if start <= slot <= end:
                return next(r for r in self.nodes if r.port == port)
        raise AssertionError("slot %d of %s has no master" % (slot, key))

    def stop(self):
        for r in self.nodes:
            r.stop()
