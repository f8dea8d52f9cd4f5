#!/usr/bin/env bash
# reindex-complaints.sh [HOST:PORT]: index the complaint tags of items stored
# before GET /api/items could filter by complaint (store/KEYS.md,
# ctx:{i}:idx:complaint:*, ctx:{i}:idx:reason:*), so complaint=true|false and
# reason=R find them too. Safe to run while ctxd runs, and more than once.
# Default address 127.0.0.1:6379 (the "redis" of etc/ctxd.json).
set -euo pipefail
addr=${1:-127.0.0.1:6379}
host=${addr%:*}
port=${addr##*:}
lua="$(dirname "$0")/reindex_complaints.lua"
from=0
added=0
while :; do
  out=$(redis-cli -h "$host" -p "$port" --eval "$lua" 'ctx:{i}:idx:all' , "$from" 500 2>&1) || true
  from='' n=''
  { read -r from && read -r n; } <<<"$out" || true   # two lines: next rank, entries added
  [[ $from =~ ^[0-9]+$ && $n =~ ^[0-9]+$ ]] || { echo "reindex-complaints: $out" >&2; exit 1; }
  added=$((added + n))
  [[ $from == 0 ]] && break
done
echo "reindex-complaints: $added index entries added"
