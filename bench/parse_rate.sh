#!/usr/bin/env bash
# bench/parse_rate.sh -- how fast `ctxctl parse feed` reads recorded responses,
# in MB of response body per second, whole command included (reading the file,
# decoding, parsing, sanitizing, building items, printing the JSON).
#
#   bench/parse_rate.sh [--quick]      (CTXCTL=path to use another binary)
#
# Measured on:
#  - big feeds made from real text (VADER's movie-review snippets, the Russian
#    open sentiment corpus): RSS 2.0 in UTF-8 with HTML descriptions and
#    content:encoded, the same items as Atom 1.0, as JSON Feed 1.1, and a
#    Russian RSS in windows-1251 (decoded through iconv); 9,000 items each
#    (under the 10,000-entry cap, so every byte is parsed into an item);
#  - every file of feedparser's test suite and our recorded feeds, through
#    one `ctxctl parse feed --many` (small documents: per-document costs).
# Best of 3 runs. Next to each, Python feedparser on the same bytes, in
# process (no start-up counted), when python3-feedparser is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
CTXCTL=${CTXCTL:-bin/ctxctl}
QUICK=${1:-}
[ -x "$CTXCTL" ] || { echo "parse_rate: $CTXCTL not built (make)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

/usr/bin/python3 - "$CTXCTL" "$tmp" "$QUICK" <<'EOF'
import csv, html, json, os, subprocess, sys, time

ctxctl, tmp, quick = sys.argv[1], sys.argv[2], sys.argv[3] == "--quick"
corpora = "../shared/corpora"
N = 1500 if quick else 9000
runs = 1 if quick else 3

en = [l.split("\t", 2)[2].strip() for l in open(corpora + "/vader/movieReviewSnippets_GroundTruth.txt",
                                                encoding="utf-8", errors="replace") if l.count("\t") >= 2]
ru = [r[0] for r in csv.reader(open(corpora + "/ru/opensentimentcorpus-dev.csv", encoding="utf-8"))][1:]

def items(texts):
    for i in range(N):
        a, b, c = (texts[(i * 3 + k) % len(texts)] for k in range(3))
        yield i, " ".join(a.split()[:8]), a, b, c

def rss(texts, enc):
    out = ['<?xml version="1.0" encoding="%s"?>\n<rss version="2.0" '
           'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
           'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Bench</title>'
           '<link>https://blog.example/</link><description>recorded</description>' % enc]
    for i, title, a, b, c in items(texts):
        e = html.escape
        out.append('<item><title>%s</title><link>/%d/post</link><guid isPermaLink="false">p%d</guid>'
                   '<pubDate>Sun, 22 Nov 2026 10:%02d:00 +0100</pubDate><dc:creator>Ann %d</dc:creator>'
                   '<description>%s</description><content:encoded><![CDATA[<p>%s</p><p><b>%s</b> '
                   '<a href="/more/%d" onclick="x()">more</a></p><script>t(%d)</script>]]>'
                   '</content:encoded></item>\n' % (e(title), i, i, i % 60, i % 7,
                   e("<p>%s</p>" % e(a)), e(a), e(b) + " &mdash; " + e(c), i, i))
    out.append("</channel></rss>\n")
    return "".join(out).encode(enc, "replace")

def atom(texts):
    out = ['<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
           'xml:base="https://blog.example/"><title>Bench</title><id>urn:bench</id>'
           '<updated>2026-11-22T10:00:00Z</updated>']
    for i, title, a, b, c in items(texts):
        e = html.escape
        out.append('<entry><title type="html">%s</title><link href="%d/post"/><id>urn:p%d</id>'
                   '<updated>2026-11-22T10:%02d:00+01:00</updated><author><name>Ann %d</name></author>'
                   '<summary>%s</summary><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
                   '<p>%s</p><p><b>%s</b> <a href="more/%d">more</a></p></div></content></entry>\n'
                   % (e(title), i, i, i % 60, i % 7, e(a), e(a), e(b + " - " + c), i))
    out.append("</feed>\n")
    return "".join(out).encode("utf-8")

def jsonfeed(texts):
    its = [{"id": "p%d" % i, "url": "/%d/post" % i, "title": title, "summary": a,
            "content_html": "<p>%s</p><p><b>%s</b> <a href=\"/more/%d\">more</a></p>"
                            % (html.escape(a), html.escape(b + " - " + c), i),
            "date_published": "2026-11-22T10:%02d:00+01:00" % (i % 60),
            "authors": [{"name": "Ann %d" % (i % 7)}]} for i, title, a, b, c in items(texts)]
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Bench",
                       "home_page_url": "https://blog.example/", "items": its},
                      ensure_ascii=False).encode("utf-8")

docs = [("RSS 2.0, UTF-8, HTML content", "rss.xml", rss(en, "utf-8"), "application/rss+xml"),
        ("Atom 1.0, xhtml content, xml:base", "atom.xml", atom(en), "application/atom+xml"),
        ("JSON Feed 1.1", "feed.json", jsonfeed(en), "application/feed+json"),
        ("RSS 2.0, Russian, windows-1251", "ru.xml", rss(ru, "windows-1251"),
         "application/rss+xml; charset=windows-1251")]

try:
    import feedparser
except ImportError:
    feedparser = None

def best(fn):
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return min(t)

def ctx(path, ct):
    def run():
        p = subprocess.run([ctxctl, "parse", "feed", path, "--header", "Content-Type: " + ct,
                            "--url", "https://blog.example/feed"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if p.returncode:
            sys.exit("parse_rate: ctxctl failed on %s: %s" % (path, p.stderr.decode()))
    return run

print("== ctxctl parse feed: MB of response body per second (best of %d; whole command)" % runs)
if not feedparser:
    print("   (python3-feedparser is not installed: no peer figures; apt-get install python3-feedparser)")
for what, name, body, ct in docs:
    path = os.path.join(tmp, name)
    open(path, "wb").write(body)
    mb = len(body) / 1e6
    t = best(ctx(path, ct))
    line = "  %-36s %6.1f MB, %5d items: %6.3f s = %6.1f MB/s" % (what, mb, N, t, mb / t)
    if feedparser:
        t0 = time.perf_counter()
        r = feedparser.parse(body, response_headers={"content-type": ct,
                                                     "content-location": "https://blog.example/feed"})
        tp = time.perf_counter() - t0
        line += "   | feedparser %s: %6.2f MB/s (%.0fx)" % (feedparser.__version__, mb / tp, tp / t)
    print(line, flush=True)

# the recorded corpora: one process for all the files
files = []
for root in ("../shared/corpora/feedparser/tests", "tests/data/feeds"):
    for d, _, names in os.walk(root):
        files += [os.path.join(d, n) for n in names
                  if not (root == "tests/data/feeds" and d == root and n.endswith(".json"))]
total = sum(os.path.getsize(f) for f in files)
inp = "".join(json.dumps({"file": f}) + "\n" for f in files).encode()
def many():
    subprocess.run([ctxctl, "parse", "feed", "--many"], input=inp,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t = best(many)
line = "  %-36s %6.1f MB, %5d files: %6.3f s = %6.1f MB/s, %.0f files/s" % (
    "recorded corpora (--many)", total / 1e6, len(files), t, total / 1e6 / t, len(files) / t)
if feedparser:
    import warnings
    warnings.simplefilter("ignore")
    blobs = [open(f, "rb").read() for f in files]
    t0 = time.perf_counter()
    for b in blobs:
        feedparser.parse(b)
    tp = time.perf_counter() - t0
    line += "   | feedparser: %6.2f MB/s (%.0fx)" % (total / 1e6 / tp, tp / t)
print(line)
EOF
