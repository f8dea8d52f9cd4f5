"""Real SIP peers for the voice tests, on 127.0.0.1 only: baresip as ctxd's
dialer engine (ctrl_tcp) and SIPp as the phones. Ports are picked free;
every process is started here and stopped by its PID.

baresip 1.0 (Debian baresip-core) needs, as checked on this machine:
module_path, menu.so (else "dial" is "command not found"), account.so
(else every dial is "Invalid argument"), ctrl_tcp.so with
ctrl_tcp_listen, an accounts line with regint=0, and aubridge for audio
(ausine at 8 kHz closes the call at once with "Operation not supported").
The engine also needs "ringback_disabled yes": the ringback tone plays on
a leg's bridge device and, when it stops, aubridge forgets that device's
source (the agent would never hear the customer).

A phone with tone=Hz sends a sine of that pitch (aufile) and dumps what it
hears (sndfile): heard() says how loud each pitch is, so a test can tell
the far party's tone from silence or its own echo."""
import glob
import json
import math
import struct
import wave
import os
import shutil
import signal
import socket
import subprocess
import time

from harness import free_port, stop_process, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = os.path.join(HERE, "sip")
BARESIP = shutil.which("baresip")
SIPP = shutil.which("sipp")


def missing():
    """Why the SIP tests cannot run here, or None."""
    if not BARESIP or not os.path.exists("/usr/lib/baresip/modules/ctrl_tcp.so"):
        return "baresip (with ctrl_tcp) is not installed: make deps installs baresip-core"
    if not SIPP:
        return "SIPp is not installed: make deps installs sip-tester"
    return None


def free_udp_port():
    return free_port()          # free for UDP and TCP (harness)


def free_pair():
    """A port p free for UDP and TCP, with p + 1 free for TCP too: baresip
    listens for SIP on UDP and TCP at p, and for SIP over TLS at p + 1."""
    while True:
        p = free_udp_port()
        socks = []
        try:
            for port, kind in [(p, socket.SOCK_STREAM), (p + 1, socket.SOCK_STREAM),
                               (p + 1, socket.SOCK_DGRAM)]:
                s = socket.socket(socket.AF_INET, kind)
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return p
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()


class Baresip:
    """baresip as the dialer engine: SIP on sip_port, ctrl_tcp on ctrl_port.
    With phone="74951000011" it is instead a customer's phone that answers
    by itself (answermode=auto) calls to that number; command("hangup")
    then hangs up from the customer's side."""

    def __init__(self, workdir, max_calls=64, phone=None, tone=None):
        self.dir = os.path.join(workdir, "baresip-" + phone if phone else "baresip")
        os.makedirs(self.dir, exist_ok=True)
        source = ["audio_source aubridge,nil"]
        if tone:
            wav = os.path.join(self.dir, "tone.wav")
            write_tone(wav, tone, 30)
            source = ["module aufile.so", "module sndfile.so", "snd_path " + self.dir,
                      "audio_source aufile," + wav]
        self.sip_port = free_pair()
        self.ctrl_port = free_port()
        while self.ctrl_port in (self.sip_port, self.sip_port + 1):
            self.ctrl_port = free_port()
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write("\n".join([
                "poll_method epoll",
                "sip_listen 127.0.0.1:%d" % self.sip_port,
                "net_interface 127.0.0.1",
                "module_path /usr/lib/baresip/modules",
                "module g711.so",
                "module aubridge.so",
                "module menu.so",
                "module_app account.so",
                "module_app ctrl_tcp.so",
                "ctrl_tcp_listen 127.0.0.1:%d" % self.ctrl_port,
                "audio_player aubridge,nil",
                *source,
                "audio_alert aubridge,nil",
                "ringback_disabled yes",
                "call_max_calls %d" % max_calls,
                "rtp_ports 30000-39999",
                ""]))
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            if phone:
                f.write("<sip:%s@127.0.0.1:%d>;regint=0;answermode=auto\n" % (phone, self.sip_port))
            else:
                f.write("<sip:ctxd@127.0.0.1:%d>;regint=0\n" % self.sip_port)
        open(os.path.join(self.dir, "contacts"), "w").close()
        self.proc = None
        self.runs = 0

    def start(self):
        self.runs += 1
        self.log = open(os.path.join(self.dir, "baresip.%d.log" % self.runs), "wb")
        self.proc = subprocess.Popen([BARESIP, "-f", self.dir], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.ctrl_port), 0.2).close()
                return True
            except OSError:
                return self.proc.poll() is not None
        wait_for(up, 10, what="baresip's ctrl_tcp")
        assert self.proc.poll() is None, self.logtext()
        return self

    def command(self, cmd, params=""):
        """One ctrl_tcp command on a connection of its own: its answer's data."""
        with socket.create_connection(("127.0.0.1", self.ctrl_port), 5) as c:
            msg = json.dumps({"command": cmd, "params": params, "token": "test"}).encode()
            c.sendall(b"%d:%s," % (len(msg), msg))
            got = b""
            while True:
                n, _, rest = got.partition(b":")
                if n.isdigit() and len(rest) > int(n):     # a whole frame: take it
                    reply = json.loads(rest[:int(n)])
                    if reply.get("response"):
                        return reply.get("data", "")
                    got = rest[int(n) + 1:]                 # an event: next frame
                    continue
                got += c.recv(65536)

    def heard(self, *pitches):
        """How loud each pitch (Hz) is in what this phone heard (its sndfile
        dumps of decoded audio): the amplitude of a sine of that pitch,
        about 8000 for the tones the phones send, near 0 when absent.

        baresip writes a dump's length into its header when it closes the
        file, after the call has gone from `listcalls`; on a loaded machine
        that can come later, so this waits (up to 5 s) for the dumps to be
        closed and to stop growing, and reads what is there either way."""
        def frames():
            got = []
            for path in sorted(glob.glob(os.path.join(self.dir, "dump-*-dec.wav"))):
                with wave.open(path) as w:
                    got.append((path, w.getnframes(), os.path.getsize(path)))
            return got
        last, deadline = None, time.monotonic() + 5
        while time.monotonic() < deadline:
            now = frames()
            if now and now == last and all(n > 0 for _, n, _ in now):
                break
            last = now
            time.sleep(0.1)
        samples = []
        for path, n, size in frames():
            with wave.open(path) as w:
                data = w.readframes(n)
            if not n:       # never closed: the samples written so far, after the header
                with open(path, "rb") as f:
                    raw = f.read()
                at = raw.find(b"data", 12, 1024)
                data = raw[at + 8:] if at >= 0 else b""
                data = data[:len(data) // 2 * 2]
            samples += struct.unpack("<%dh" % (len(data) // 2), data)
        return {hz: tone_level(samples, hz) for hz in pitches}

    def kill(self):
        """kill -9: the engine goes away mid-call."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            stop_process(self.proc)
            self.log.close()

    def logtext(self):
        with open(self.log.name, "rb") as f:
            return f.read().decode("utf-8", "replace")


def write_tone(path, hz, seconds, rate=8000):
    """A mono 16-bit wav: a sine of hz at amplitude 8000."""
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / rate)))
                               for i in range(rate * seconds)))


def tone_level(samples, hz, rate=8000):
    """The amplitude of the sine of pitch hz in samples (Goertzel)."""
    if not samples:
        return 0.0
    k = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    return 2 * math.sqrt(max(0.0, s1 * s1 + s2 * s2 - k * s1 * s2)) / len(samples)


class Sipp:
    """A phone: SIPp as a UAS, `sipp -sn uas` (answers) or a scenario of
    sip/ (busy.xml, noanswer.xml). Every message is logged with its time
    (messages(): the INVITEs received, for latency figures)."""

    def __init__(self, workdir, name, scenario="uas", port=None, calls=None):
        self.dir = workdir
        self.name = name
        self.scenario = scenario
        self.port = port or free_udp_port()
        self.calls = calls
        self.proc = None
        self.msg_log = os.path.join(workdir, "sipp-%s-%d.msg" % (name, self.port))

    def start(self):
        args = [SIPP, "-i", "127.0.0.1", "-p", str(self.port), "-nostdin", "-trace_msg",
                "-message_file", self.msg_log, "-max_recv_loops", "1000"]
        if self.scenario == "uas":
            args += ["-sn", "uas"]
        else:
            args += ["-sf", os.path.join(SCENARIOS, self.scenario + ".xml")]
        if self.calls:
            args += ["-m", str(self.calls)]
        self.out = open(os.path.join(self.dir, "sipp-%s.out" % self.name), "ab")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT, cwd=self.dir)
        time.sleep(0.05)
        assert self.proc.poll() is None, "sipp %s exited at once" % self.name
        return self

    def uri(self, user):
        return "sip:%s@127.0.0.1:%d" % (user, self.port)

    def invites(self):
        """(time, request line) of each INVITE received, in order (SIPp's
        -trace_msg: a dashed line with the local time, "UDP message received",
        the message)."""
        out = []
        try:
            with open(self.msg_log, errors="replace") as f:
                text = f.read()
        except OSError:
            return out
        for block in text.split("\n-----------------------------------------------")[0:]:
            head, _, rest = block.lstrip("-").partition("\n")
            if "UDP message received" not in rest.split("\n", 1)[0]:
                continue
            req = [l for l in rest.split("\n")[1:] if l.strip()][:1]
            if req and req[0].startswith("INVITE "):
                out.append((_sipp_time(head.strip()), req[0].strip()))
        return out

    def requests(self, method):
        """The request lines of every `method` request received, in order."""
        try:
            with open(self.msg_log, errors="replace") as f:
                text = f.read()
        except OSError:
            return []
        out = []
        for block in text.split("\n-----------------------------------------------"):
            _, _, rest = block.lstrip("-").partition("\n")
            if "message received" not in rest.split("\n", 1)[0]:
                continue
            req = [l for l in rest.split("\n")[1:] if l.strip()][:1]
            if req and req[0].startswith(method + " "):
                out.append(req[0].strip())
        return out

    def wait_exit(self, timeout=10):
        self.proc.wait(timeout)

    def stop(self):
        stop_process(self.proc)
        if self.proc:
            self.out.close()


def _sipp_time(stamp):
    """ "2026-12-03 11:30:00.123456" (local time) as seconds since the epoch."""
    day, _, frac = stamp.partition(".")
    try:
        return time.mktime(time.strptime(day.strip(), "%Y-%m-%d %H:%M:%S")) + float("0." + frac)
    except ValueError:
        return 0.0
