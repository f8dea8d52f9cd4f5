#!/usr/bin/env bash
# retention-upgrade.sh [HOST:PORT] [TASKS REPLIES SIMHASH]: give the keys written
# before retention existed the TTL ctxd now sets as it writes them: done and
# abandoned tasks (from their end) with their chat messages, settled replies,
# simhash band lists and conversations (from now). Periods in seconds, by default
# the config's defaults (90d, 30d, 7d): pass the "retention" values of your
# ctxd.json if they differ. Items, indexes, seen-sets and streams need nothing:
# the sweeper trims them. Safe to run while ctxd runs, and more than once.
# One pass per hash-tag domain (routing, then items), so that each call touches
# one slot (store/KEYS.md).
# Default address 127.0.0.1:6379 (the "redis" of etc/ctxd.json).
set -euo pipefail
addr=${1:-127.0.0.1:6379}
tasks=${2:-7776000} replies=${3:-2592000} simhash=${4:-604800}
host=${addr%:*}
port=${addr##*:}
lua="$(dirname "$0")/retention_upgrade.lua"
given=0
for domain in 'ctx:{r}:' 'ctx:{i}:'; do
  cursor=0
  while :; do
    now=$(($(date +%s%N) / 1000000))
    out=$(redis-cli -h "$host" -p "$port" --eval "$lua" "$domain" , "$cursor" 1000 "$now" \
          $((tasks * 1000)) $((replies * 1000)) $((simhash * 1000)) 2>&1) || true
    cursor='' n=''
    { read -r cursor && read -r n; } <<<"$out" || true   # two lines: next cursor, keys given a TTL
    [[ $cursor =~ ^[0-9]+$ && $n =~ ^[0-9]+$ ]] || { echo "retention-upgrade: $out" >&2; exit 1; }
    given=$((given + n))
    [[ $cursor == 0 ]] && break
  done
done
echo "retention-upgrade: $given keys given a TTL"
