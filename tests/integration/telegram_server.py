"""A loopback server answering like the Telegram Bot API, as far as the
tests need: getUpdates with offset and long polling (it waits up to a
short time for a new update), and sendMessage (recorded)."""
import json
import threading
import time
import http.server
import urllib.parse

BIND = "127.0.0.1"


class TelegramServer:
    def __init__(self, token):
        self.token = token
        self.cond = threading.Condition()
        self.updates = []
        self.sent = []
        self.next_update = 1000
        self.next_message = 500
        self.httpd = None
        self.port = 0

    def user_says(self, chat_id, text, first="Carol", username="carol"):
        with self.cond:
            self.next_update += 1
            self.next_message += 1
            self.updates.append({"update_id": self.next_update, "message": {
                "message_id": self.next_message, "date": int(time.time()), "text": text,
                "from": {"id": chat_id, "is_bot": False, "first_name": first,
                         "username": username, "language_code": "en"},
                "chat": {"id": chat_id, "type": "private", "first_name": first,
                         "username": username}}})
            self.cond.notify_all()
            return self.next_message

    def start(self):
        srv = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *a):
                pass

            def reply(self, status, obj):
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                u = urllib.parse.urlparse(self.path)
                if u.path != "/bot%s/getUpdates" % srv.token:
                    return self.reply(401, {"ok": False, "error_code": 401,
                                            "description": "Unauthorized"})
                q = urllib.parse.parse_qs(u.query)
                offset = int(q.get("offset", ["0"])[0])
                deadline = time.monotonic() + 0.5      # a short long poll for tests
                with srv.cond:
                    while True:
                        got = [x for x in srv.updates if x["update_id"] >= offset]
                        left = deadline - time.monotonic()
                        if got or left <= 0:
                            break
                        srv.cond.wait(left)
                self.reply(200, {"ok": True, "result": got})

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(n) or b"{}")
                if self.path != "/bot%s/sendMessage" % srv.token:
                    return self.reply(404, {"ok": False, "description": "Not Found"})
                with srv.cond:
                    srv.sent.append(body)
                    srv.next_message += 1
                    mid = srv.next_message
                self.reply(200, {"ok": True, "result": {"message_id": mid,
                                                        "chat": {"id": body.get("chat_id")},
                                                        "text": body.get("text")}})

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

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
