"""A loopback HTTP server that behaves like a real feed host.

Serves files from a folder with ETag (If-None-Match -> 304) and
Last-Modified (If-Modified-Since -> 304), and can be told to misbehave:
answer 429/503 with Retry-After, 500, or answer slowly. Counts requests per
path and records the conditional headers it saw, so tests can assert that
a client polled politely.

As a library: FeedServer(folder).start() -> port.  As a command (the demo
feed of `make run`): python3 feedserver.py --dir etc/demo --port 8099
"""
import argparse
import email.utils
import gzip
import hashlib
import http.server
import os
import threading
import time

BIND = "127.0.0.1"


class FeedServer:
    def __init__(self, folder, port=0):
        self.folder = os.path.abspath(folder)
        self.port = port
        self.lock = threading.Lock()
        self.requests = {}        # path -> count
        self.responses = []       # (path, status, if_none_match, if_modified_since)
        self.fail_next = []       # list of (status, headers) to answer next
        self.delay = 0.0
        self.gzip = False         # compress bodies when the client accepts gzip
        self.redirects = {}       # path -> location (301)
        self.active = 0
        self.max_active = 0       # most requests in progress at once
        self.user_agents = set()
        self.gzipped = 0          # bodies sent compressed
        self.generate = None      # callable(path) -> bytes or None: generated documents
        self.httpd = None

    def start(self):
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in separate writes: without this,
            # Nagle and delayed ACKs cap a keep-alive client at ~25 req/s
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                srv._handle(self)

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass        # a client that hangs up (ctxd stopping) is not news

        self.httpd = Server((BIND, self.port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self.port

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()

    def url(self, name):
        return "http://%s:%d/%s" % (BIND, self.port, name)

    def count(self, name):
        with self.lock:
            return self.requests.get("/" + name, 0)

    def statuses(self, name):
        with self.lock:
            return [r[1] for r in self.responses if r[0] == "/" + name]

    def _send(self, h, status, body=b"", headers=None):
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if body and h.command != "HEAD":
            h.wfile.write(body)

    def _handle(self, h):
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            self._handle1(h)
        finally:
            with self.lock:
                self.active -= 1

    def _handle1(self, h):
        path = h.path.split("?", 1)[0]
        with self.lock:
            self.user_agents.add(h.headers.get("User-Agent", ""))
        if path in self.redirects:
            with self.lock:
                self.requests[path] = self.requests.get(path, 0) + 1
            self._record(path, 301, None, None)
            return self._send(h, 301, b"", {"Location": self.redirects[path]})
        inm = h.headers.get("If-None-Match")
        ims = h.headers.get("If-Modified-Since")
        with self.lock:
            self.requests[path] = self.requests.get(path, 0) + 1
            fail = self.fail_next.pop(0) if self.fail_next else None
        if self.delay:
            time.sleep(self.delay)
        if fail:
            status, headers = fail
            self._record(path, status, inm, ims)
            return self._send(h, status, b"error\n", headers)
        name = os.path.normpath(path.lstrip("/"))
        full = os.path.join(self.folder, name)
        body = self.generate(path) if self.generate else None
        mtime = 1700000000
        if body is None:
            if name.startswith("..") or not os.path.isfile(full):
                self._record(path, 404, inm, ims)
                return self._send(h, 404, b"not found\n")
            with open(full, "rb") as f:
                body = f.read()
            mtime = int(os.stat(full).st_mtime)
        etag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
        lm = email.utils.formatdate(mtime, usegmt=True)
        ctype = "application/rss+xml; charset=utf-8"
        if name.endswith(".atom"):
            ctype = "application/atom+xml; charset=utf-8"
        headers = {"ETag": etag, "Last-Modified": lm, "Content-Type": ctype}
        not_modified = False
        if inm is not None:
            not_modified = etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
        elif ims is not None:
            try:
                not_modified = email.utils.parsedate_to_datetime(ims).timestamp() >= mtime
            except (TypeError, ValueError):
                pass
        if not_modified:
            self._record(path, 304, inm, ims)
            return self._send(h, 304, b"", {"ETag": etag, "Last-Modified": lm})
        self._record(path, 200, inm, ims)
        if self.gzip and "gzip" in h.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
            with self.lock:
                self.gzipped += 1
        self._send(h, 200, body, headers)

    def _record(self, path, status, inm, ims):
        with self.lock:
            self.responses.append((path, status, inm, ims))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=8099)
    a = ap.parse_args()
    s = FeedServer(a.dir, a.port)
    s.start()
    print("feedserver: http://%s:%d/ serving %s" % (BIND, s.port, s.folder), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
