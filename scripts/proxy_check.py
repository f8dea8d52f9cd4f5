#!/usr/bin/python3
"""proxy_check.py -- etc/nginx/ctxd.conf, for real: Debian's nginx (not a
dependency of the tests: `apt-get install nginx-light`) on loopback ports
with a throwaway self-signed certificate, in front of two `ctxd --roles
serve` on one redis-server. Checks `nginx -t`, GET /healthz over HTTPS,
the redirect from HTTP, and agent websockets over wss (upgrade through the
proxy, ctxd's answer to a bad token) spread over both nodes.

  scripts/proxy_check.py        (from the repository, after make all)
"""
import asyncio
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import Ctxd, Redis, Workdir, free_port  # noqa: E402
import websockets  # noqa: E402


def main():
    wd = Workdir("proxy")
    tmp = tempfile.mkdtemp(prefix="ctx-nginx-")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "1", "-subj", "/CN=ctx.example.com"], check=True,
                   capture_output=True)
    r = Redis(wd.path).start()
    nodes, ng = [], None
    try:
        for i in range(2):
            os.makedirs(os.path.join(wd.path, "n%d" % i))
            nodes.append(Ctxd(os.path.join(wd.path, "n%d" % i), r.port, [],
                              extra={"log_level": "info"}).start(args=["--roles", "serve"]))
        https, http = free_port(), free_port()
        with open(os.path.join(ROOT, "etc", "nginx", "ctxd.conf")) as f:
            conf = f.read()
        for a, b in [("server 10.0.0.21:8080", "server 127.0.0.1:%d" % nodes[0].port),
                     ("server 10.0.0.22:8080", "server 127.0.0.1:%d" % nodes[1].port),
                     ("listen 443 ssl http2;", "listen 127.0.0.1:%d ssl http2;" % https),
                     ("listen [::]:443 ssl http2;", ""),
                     ("listen 80;", "listen 127.0.0.1:%d;" % http), ("listen [::]:80;", ""),
                     ("/etc/ssl/ctx.example.com/fullchain.pem", cert),
                     ("/etc/ssl/ctx.example.com/privkey.pem", key)]:
            assert a in conf, a
            conf = conf.replace(a, b)
        with open(os.path.join(tmp, "ctxd.conf"), "w") as f:
            f.write(conf)
        main_conf = os.path.join(tmp, "nginx.conf")
        with open(main_conf, "w") as f:
            f.write("pid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\n"
                    "http { access_log off; include %s/ctxd.conf; }\n" % (tmp, tmp, tmp))
        args = ["nginx", "-c", main_conf, "-e", os.path.join(tmp, "error.log")]
        subprocess.run(args + ["-t"], check=True, capture_output=True)
        print("nginx -t: ok")
        ng = subprocess.Popen(args + ["-g", "daemon off;"])
        time.sleep(1)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        req = urllib.request.Request("https://127.0.0.1:%d/healthz" % https,
                                     headers={"Host": "ctx.example.com"})
        body = json.loads(urllib.request.urlopen(req, context=ctx, timeout=5).read())
        assert body["status"] == "ok", body
        print("GET /healthz over https: %s" % body["status"])
        try:
            urllib.request.urlopen(urllib.request.Request(
                "http://127.0.0.1:%d/" % http, headers={"Host": "ctx.example.com"}), timeout=5)
        except urllib.error.URLError as e:    # the redirect's target is not resolvable here
            print("http -> https redirect: %s" % getattr(e, "reason", e))

        async def agents(n):
            frames = []
            for _ in range(n):
                async with websockets.connect("wss://127.0.0.1:%d/ws/agent" % https, ssl=ctx,
                                              subprotocols=["ctx.agent.v1"],
                                              server_hostname="ctx.example.com") as w:
                    await w.send(json.dumps({"type": "hello", "token": "nope"}))
                    frames.append(json.loads(await w.recv()))
            return frames
        frames = asyncio.run(agents(4))
        assert all(f.get("code") == "auth" for f in frames), frames
        print("4 agent websockets over wss, answered by ctxd: %r" % frames[0])
    finally:
        if ng:
            ng.terminate()
            ng.wait()
        for n in nodes:
            n.stop()
        r.stop()
        wd.cleanup()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
