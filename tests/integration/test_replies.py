"""Replies through the outbox: POST /api/replies queues, the collect role
posts to the item's network, retries with backoff, never loses or doubles
one. Here: the API's answers for items whose network takes no replies,
unknown items and bad requests."""
import json
import urllib.error
import urllib.request

from harness import wait_for
from test_pipeline import Rig


def post(port, path, body, raw=False):
    data = body if raw else json.dumps(body).encode()
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=data,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_reply_api_errors():
    rig = Rig("replies-api")
    try:
        rig.ctxd.start()
        wait_for(lambda: len(rig.items()) == 1, what="first item")
        port = rig.ctxd.port
        st, body = post(port, "/api/replies", {"item": "feed:acme:post-1", "text": "Sorry!"})
        assert st == 409 and body["error"] == "no_replies", (st, body)
        assert body["link"] == "http://127.0.0.1/p/1", body
        st, body = post(port, "/api/replies", {"item": "nope", "text": "x"})
        assert st == 404 and body["error"] == "no_item", (st, body)
        for bad, code in [(b"{not json", "bad_json"), (b'{"text":"x"}', "bad_item"),
                          (b'{"item":"a"}', "bad_text"),
                          (b'{"item":"a","text":"x","id":"white space"}', "bad_id")]:
            st, body = post(port, "/api/replies", bad, raw=True)
            assert st == 400 and body["error"] == code, (bad, st, body)
        st, body = post(port, "/api/replies", b"x" * 70000, raw=True)
        assert st == 413, (st, body)
        status, body = rig.ctxd.http("/api/replies/nope", ok_only=False)
        assert status == 404
        assert rig.redis.cmd("XLEN", "ctx:{r}:outbox") == 0
    finally:
        rig.close()


def test_api_analyze():
    rig = Rig("analyze-api")
    try:
        rig.ctxd.start()
        port = rig.ctxd.port
        st, body = post(port, "/api/analyze", {"text": "Acme support is great, thanks!"})
        assert st == 200 and body["sentiment"]["label"] == "positive", body
        assert "acme" in body["brands"] and body["lang"] == "en", body
        st, body = post(port, "/api/analyze", {"text": "Ужасный сервис, никогда больше"})
        assert st == 200 and body["sentiment"]["label"] == "negative" and body["lang"] == "ru", body
        st, body = post(port, "/api/analyze", {"title": "no text"})
        assert st == 400 and body["error"] == "bad_text", body
        st, body = post(port, "/api/analyze", b"[", raw=True)
        assert st == 400 and body["error"] == "bad_json", body
    finally:
        rig.close()
