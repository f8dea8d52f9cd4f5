#!/usr/bin/env bash
# make run: start what the system needs, then ctxd in the foreground.
# - Redis: if nothing answers at the config's "redis" address, a Redis of
#   our own is started there with its data under var/redis (AOF on), and
#   stopped again when ctxd exits.
# - The demo feed (etc/demo) is served on 127.0.0.1:8099 for the sample
#   config's "acme-forum" source, from a copy in var/demo whose dates are
#   moved so that its newest post is 10 minutes old: the posts are then
#   counted at their own times (within trends.lateness) and show on
#   /trends/ in the last hours, each under the bar of its hour.
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-etc/ctxd.json}
py=/usr/bin/python3
read -r rhost rport listen < <($py -c '
import json,sys
c=json.load(open(sys.argv[1]))
h,p=c.get("redis","127.0.0.1:6379").rsplit(":",1)
print(h,p,c.get("listen","127.0.0.1:8080"))' "$config")

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

if redis-cli -h "$rhost" -p "$rport" ping >/dev/null 2>&1; then
  echo "run: using the Redis at $rhost:$rport"
else
  mkdir -p var/redis
  echo "run: starting a Redis of our own on $rhost:$rport (data in var/redis)"
  redis-server --bind "$rhost" --port "$rport" --dir "$PWD/var/redis" --appendonly yes \
    --save "" --logfile "$PWD/var/redis/redis.log" &
  pids+=($!)
  for _ in $(seq 50); do
    redis-cli -h "$rhost" -p "$rport" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
fi

if grep -q '127.0.0.1:8099' "$config" && ! (exec 3<>/dev/tcp/127.0.0.1/8099) 2>/dev/null; then
  mkdir -p var/demo
  $py - etc/demo var/demo <<'EOF'
import email.utils, os, re, sys, time
src, dst = sys.argv[1], sys.argv[2]
for name in os.listdir(src):
    text = open(os.path.join(src, name), encoding="utf-8").read()
    when = lambda d: email.utils.parsedate_to_datetime(d).timestamp()
    dates = [when(d) for d in re.findall(r"<pubDate>(.*?)</pubDate>", text)]
    shift = time.time() - 600 - max(dates) if dates else 0
    text = re.sub(r"<pubDate>(.*?)</pubDate>", lambda m: "<pubDate>%s</pubDate>"
                  % email.utils.formatdate(when(m.group(1)) + shift, usegmt=True), text)
    open(os.path.join(dst, name), "w", encoding="utf-8").write(text)
EOF
  $py tests/integration/feedserver.py --dir var/demo --port 8099 &
  pids+=($!)
  for _ in $(seq 50); do         # ctxd's first poll must find it, or waits a minute
    (exec 3<>/dev/tcp/127.0.0.1/8099) 2>/dev/null && break
    sleep 0.1
  done
fi

echo "run: open http://$listen/monitor/ for the live monitor (Ctrl-C stops everything)"
bin/ctxd -c "$config" &
ctxd=$!
pids=("$ctxd" "${pids[@]}")
wait "$ctxd"
