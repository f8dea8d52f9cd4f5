#!/usr/bin/env bash
# make run: start what the system needs, then ctxd in the foreground.
# - Redis: if nothing answers at the config's "redis" address, a Redis of
#   our own is started there with its data under var/redis (AOF on), and
#   stopped again when ctxd exits.
# - The demo feed (etc/demo) is served on 127.0.0.1:8099 for the sample
#   config's "acme-forum" source.
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
  $py tests/integration/feedserver.py --dir etc/demo --port 8099 &
  pids+=($!)
fi

echo "run: open http://$listen/monitor/ for the live monitor (Ctrl-C stops everything)"
bin/ctxd -c "$config" &
ctxd=$!
pids=("$ctxd" "${pids[@]}")
wait "$ctxd"
