"""A loopback server that answers like a Mastodon instance, as far as the
tests need: the hashtag timeline with min_id paging (newest first, at most
`limit`), and POST /api/v1/statuses for replies with Idempotency-Key (a
repeated key returns the status made before, as Mastodon does). It can be
told to fail the next posts (503, 429 with Retry-After, 422), and to hold
its answers to posts until the test lets them go (gate)."""
import json
import threading
import http.server
import urllib.parse

BIND = "127.0.0.1"


class MastodonServer:
    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = []            # newest last
        self.posts = []               # (headers dict, form) of every POST /api/v1/statuses
        self.made = {}                # Idempotency-Key -> status
        self.fail_posts = []          # (status, headers, body) to answer next
        self.gate = threading.Event() # cleared: posts wait until it is set again
        self.gate.set()
        self.next_id = 110000000000000000
        self.httpd = None
        self.port = 0

    def add(self, text, acct="ann", followers=1200):
        with self.lock:
            self.next_id += 1
            s = {"id": str(self.next_id), "created_at": "2026-11-22T10:00:00.000Z",
                 "content": "<p>%s</p>" % text, "language": "en", "visibility": "public",
                 "url": "https://mastodon.example/@%s/%d" % (acct, self.next_id),
                 "uri": "https://mastodon.example/users/%s/statuses/%d" % (acct, self.next_id),
                 "reblog": None, "in_reply_to_id": None,
                 "account": {"id": "7", "username": acct, "acct": acct, "display_name": acct.title(),
                             "followers_count": followers, "url": "https://mastodon.example/@" + acct}}
            self.statuses.append(s)
            return s

    def start(self):
        srv = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *a):
                pass

            def reply(self, status, obj, headers=None):
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                u = urllib.parse.urlparse(self.path)
                q = urllib.parse.parse_qs(u.query)
                if not u.path.startswith("/api/v1/timelines/tag/"):
                    return self.reply(404, {"error": "Record not found"})
                limit = int(q.get("limit", ["20"])[0])
                with srv.lock:
                    newer = [s for s in srv.statuses
                             if "min_id" not in q or int(s["id"]) > int(q["min_id"][0])]
                # min_id: the page right after it (oldest first), given newest first
                page = newer[:limit] if "min_id" in q else newer[-limit:]
                self.reply(200, list(reversed(page)))

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    form = json.loads(raw)
                else:
                    form = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
                key = self.headers.get("Idempotency-Key")
                with srv.lock:
                    srv.posts.append((dict(self.headers), form))
                srv.gate.wait(60)             # a slow answer, as long as the test holds it
                with srv.lock:
                    fail = srv.fail_posts.pop(0) if srv.fail_posts else None
                    made = srv.made.get(key)
                if self.path != "/api/v1/statuses":
                    return self.reply(404, {"error": "Record not found"})
                if fail:
                    return self.reply(fail[0], fail[2], fail[1])
                if made:
                    return self.reply(200, made)
                with srv.lock:
                    srv.next_id += 1
                    st = {"id": str(srv.next_id), "content": form.get("status"),
                          "in_reply_to_id": form.get("in_reply_to_id")}
                    srv.made[key] = st
                self.reply(200, st)

        class S(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass

        self.httpd = S((BIND, 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self.port

    def url(self):
        return "http://%s:%d" % (BIND, self.port)

    def replies(self):
        """The reply posts that made a status (not failed ones, not repeats)."""
        with self.lock:
            return list(self.made.values())

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
