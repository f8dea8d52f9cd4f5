"""The audio of voice callbacks, on real parts: ctxd (bin/ctxd), baresip as
the dialer engine, and per callback two baresip phones answering by
themselves, the agent's sending one tone and the customer's another (K
pairs, K*2 distinct pitches), all on 127.0.0.1.

K agents accept K callbacks at once; each call talks 2 s and is hung up.
Then:
1. Who heard whom: each phone's sndfile dump of what it decoded, the level
   of every pitch in it (Goertzel). Each phone must hear its own partner's
   tone, and no other pair's (nor its own looped back).
2. How soon: the RTP on lo captured (AF_PACKET, needs root): from the
   customer's phone sending its 200 OK (answer) to the first RTP packet
   the engine sends that phone, and to the first one carrying sound (the
   agent's tone, not silence).

Usage: bench/dial_audio.py [K]  (default 4; ctxd from CTXD, default bin/ctxd)"""
import asyncio
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import sip  # noqa: E402
from dial_latency import CTXCTL, Agent, post  # noqa: E402
from harness import Ctxd, Redis, Workdir, wait_for  # noqa: E402
import subprocess  # noqa: E402


def ulaw(b):
    """G.711 mu-law byte to a 16-bit sample."""
    b = ~b & 0xFF
    t = ((b & 0x0F) << 3) + 0x84
    t <<= (b & 0x70) >> 4
    return (0x84 - t) if b & 0x80 else (t - 0x84)


class Capture(threading.Thread):
    """Every UDP packet on lo as it arrives: (time, src port, dst port, payload)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(3))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("lo", 0))
        self.sock.settimeout(0.2)
        self.packets = []
        self.run_flag = True

    def run(self):
        while self.run_flag:
            try:
                data, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            t = time.time()
            if addr[2] != socket.PACKET_HOST or len(data) < 42 or data[23] != 17:
                continue
            ihl = (data[14] & 0x0F) * 4
            sport, dport = struct.unpack("!HH", data[14 + ihl:18 + ihl])
            self.packets.append((t, sport, dport, data[22 + ihl:]))

    def stop(self):
        self.run_flag = False
        self.join()
        self.sock.close()


def main():
    k = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    wd = Workdir("bench-dial-audio")
    redis = Redis(wd.path, cluster=False).start()
    agent_hz = [500 + 200 * i for i in range(k)]
    cust_hz = [600 + 200 * i for i in range(k)]
    # each started before the next picks its ports, so no two pick the same
    engine = sip.Baresip(wd.path, max_calls=4 * k).start()
    aph = [sip.Baresip(wd.path, phone="a%d" % i, tone=agent_hz[i]).start() for i in range(k)]
    cph = [sip.Baresip(wd.path, phone="7495000000%d" % i, tone=cust_hz[i]).start()
           for i in range(k)]
    ctxd = Ctxd(wd.path, redis.port, [], extra={
        "log_level": "info",
        "queues": [{"name": "q%d" % i, "channels": ["callback"], "skills": ["q%d" % i],
                    "dial_uri": "sip:{digits}@127.0.0.1:%d" % cph[i].sip_port}
                   for i in range(k)],
        "dialer": {"engine": "baresip", "address": "127.0.0.1:%d" % engine.ctrl_port,
                   "ring_timeout": "10s", "agent_ring_timeout": "10s"}})
    cap = Capture()
    try:
        tokens = []
        for i in range(k):
            out = subprocess.run([CTXCTL, "-c", ctxd.config, "agent", "add", "a%d" % i,
                                  "--skills", "q%d" % i, "--capacity", "callback=1", "--sip",
                                  "sip:a%d@127.0.0.1:%d" % (i, aph[i].sip_port)],
                                 capture_output=True, text=True, check=True)
            tokens.append(out.stdout.strip().splitlines()[-1])
        ctxd.start()
        wait_for(lambda: "dial: the baresip engine is up" in ctxd.logtext(), what="dialer up")
        cap.start()

        async def pairs():
            clients = await asyncio.gather(*[Agent.login(ctxd.port, t) for t in tokens])
            for i in range(k):
                post(ctxd.port, "+7495000000%d" % i, "q%d" % i)
            offers = await asyncio.gather(*[c.wait("offer", 30) for c in clients])
            ids = [o["task"]["id"] for o in offers]
            await asyncio.gather(*[c.send(type="accept", task=t) for c, t in zip(clients, ids)])
            await asyncio.gather(*[c.wait("call", 30, task=t, state="talking")
                                   for c, t in zip(clients, ids)])
            await asyncio.sleep(2)
            for c, t in zip(clients, ids):
                await c.send(type="hangup", task=t)
            await asyncio.gather(*[c.wait("call", 20, task=t, state="ended")
                                   for c, t in zip(clients, ids)])
            for c in clients:
                await c.ws.close()
        asyncio.run(pairs())
        time.sleep(0.5)
        cap.stop()

        print("== bridged audio: ctxd -> baresip (aubridge) -> baresip phones, %d calls at once, %s"
              % (k, os.path.basename(os.environ.get("CTXD", "bin/ctxd"))))
        every = agent_hz + cust_hz
        wrong = 0
        print("1. who heard whom (level of each pitch; a sine of 8000 reads ~8000):")
        for i in range(k):
            for who, ph, want in (("agent", aph[i], cust_hz[i]), ("customer", cph[i], agent_hz[i])):
                lv = ph.heard(*every)
                others = max(v for hz, v in lv.items() if hz != want)
                ok = lv[want] > 2000 and others < 400
                wrong += not ok
                print("  call %d %-8s hears %4d Hz at %5.0f, loudest other pitch %5.0f  %s"
                      % (i, who, want, lv[want], others, "ok" if ok else "WRONG"))
        print("2. customer answers (its 200 OK) -> engine's RTP to that phone:")
        for i in range(k):
            sport = cph[i].sip_port
            ans = [(t, p) for t, s, d, p in cap.packets
                   if s == sport and p.startswith(b"SIP/2.0 200") and b"INVITE" in p
                   and b"m=audio" in p]
            if not ans:
                print("  call %d: its 200 OK was not captured" % i)
                continue
            t_ans, body = ans[0]
            rtp_port = int(body.split(b"m=audio ")[1].split()[0])
            rtp = [(t, p) for t, s, d, p in cap.packets if d == rtp_port and t >= t_ans
                   and len(p) > 12 and p[0] & 0xC0 == 0x80]
            loud = [t for t, p in rtp
                    if sum(abs(ulaw(b)) for b in p[12:]) / max(1, len(p) - 12) > 1000]
            print("  call %d: first RTP packet after %6.1f ms, first with the agent's tone after"
                  " %6.1f ms (%d packets)" % (i, (rtp[0][0] - t_ans) * 1000 if rtp else -1,
                                             (loud[0] - t_ans) * 1000 if loud else -1, len(rtp)))
        if wrong:
            raise SystemExit("%d phones did not hear their partner" % wrong)
    finally:
        try:
            ctxd.stop()
        finally:
            for p in [engine] + aph + cph:
                p.stop()
            redis.stop()
            wd.cleanup()


if __name__ == "__main__":
    main()
