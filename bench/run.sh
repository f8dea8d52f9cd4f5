#!/usr/bin/env bash
# make bench: every figure the issues ask for, measured on this machine.
# BENCH_QUICK=1 skips the long runs (10,000 sources, the routing tables).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=../shared/corpora/vader
movie=$corpus/movieReviewSnippets_GroundTruth.txt
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

echo "== ctxctl analyze --score on $(basename "$movie")"
cut -f3 "$movie" | tr -d '\r' > "$tmp/movie.txt"
n=$(wc -l < "$tmp/movie.txt")
bytes=$(wc -c < "$tmp/movie.txt")
# whole command, lexicon and rules loading included
for i in 1 2 3; do
  s=$(date +%s.%N); bin/ctxctl analyze --score < "$tmp/movie.txt" > "$tmp/scores.txt"; e=$(date +%s.%N)
  awk -v n="$n" -v b="$bytes" -v s="$s" -v e="$e" 'BEGIN { t = e - s;
    printf "  run %d: %d texts in %.3f s = %.0f texts/s, %.2f MB/s (process start and lexicon load included)\n", '"$i"', n, t, n / t, b / t / 1e6 }'
done
s=$(date +%s.%N); bin/ctxctl analyze < "$tmp/movie.txt" > /dev/null; e=$(date +%s.%N)
awk -v n="$n" -v s="$s" -v e="$e" 'BEGIN { printf "  full tags (sentiment + rules + JSON): %.0f texts/s\n", n / (e - s) }'

if [ -f bench/bench_analyzer.c ]; then
  echo "== analyzer in-process (bench/bench_analyzer.c)"
  cc -O2 -std=gnu11 -I. bench/bench_analyzer.c build/libctx.a \
     $(pkg-config --cflags --libs libcurl jansson libwebsockets libpcre2-8 hiredis libuv) -lm \
     -o "$tmp/bench_analyzer"
  "$tmp/bench_analyzer" "$corpus" etc/lexicons etc/rules
fi

echo "== the analyze role: items/s through ctxd --roles analyze with Redis in the loop"
/usr/bin/python3 bench/analyze_rate.py ${BENCH_QUICK:+20000} ${BENCH_QUICK:+1} || echo "  (analyze rate bench could not run)"

echo "== the same on a Redis Cluster of 3 masters (item_shards 3: a shard on each master)"
/usr/bin/python3 bench/analyze_rate.py --cluster ${BENCH_QUICK:+20000} ${BENCH_QUICK:+1} || echo "  (analyze rate bench on a cluster could not run)"

echo "== collect -> analyze -> stored, 1 and 2 analyzers, on one Redis and on a 3-master cluster"
/usr/bin/python3 bench/pipeline_rate.py ${BENCH_QUICK:+10000} ${BENCH_QUICK:+1} || echo "  (pipeline rate bench could not run)"
/usr/bin/python3 bench/pipeline_rate.py --cluster ${BENCH_QUICK:+10000} ${BENCH_QUICK:+1} || echo "  (pipeline rate bench on a cluster could not run)"

echo "== trend counters: the analyze role with counters off (next to the figure above, on)"
TRENDS=off /usr/bin/python3 bench/analyze_rate.py ${BENCH_QUICK:+20000} ${BENCH_QUICK:+1} || echo "  (analyze rate bench could not run)"

echo "== trends: a month x 100 series in Redis, GET /api/trends 30 days x 100 series hourly"
/usr/bin/python3 bench/trends_bench.py || echo "  (trends bench could not run)"

echo "== sentiment accuracy next to vader-sentiment and sentiment (npm)"
/usr/bin/python3 bench/accuracy.py || echo "  (accuracy bench could not run)"

echo "== ctxctl parse rate"
bash bench/parse_rate.sh ${BENCH_QUICK:+--quick} || echo "  (parse rate bench could not run)"

echo "== ctxd start to first item on the live monitor"
/usr/bin/python3 bench/first_item.py 5

echo "== routing: Erlang C next to the simulation; routing_decide() calls/s"
cc -O2 -std=gnu11 -I. bench/routing_bench.c build/libctx.a \
   $(pkg-config --cflags --libs libcurl jansson libwebsockets libpcre2-8 hiredis libuv) -lm \
   -o "$tmp/routing_bench"
"$tmp/routing_bench" ${BENCH_QUICK:+-q}

echo "== spike alerts: the detector on a synthetic month (bench/spikes.c; seed 1 reported, 2..6 held out)"
cc -O2 -std=gnu11 -I. bench/spikes.c build/libctx.a -lm -o "$tmp/spikes"
"$tmp/spikes" ${BENCH_QUICK:+-q}

echo "== routing with Redis in the loop: queued -> offer frame at an agent's websocket"
/usr/bin/python3 bench/routing_live.py

echo "== routing decisions/s with Redis in the loop, the load generator out of the way (1 and 2 routers)"
/usr/bin/python3 bench/routing_load.py ${BENCH_QUICK:+10000} || echo "  (routing load bench could not run)"
echo "== the same on a Redis Cluster of 3 masters (routing is one slot, {r}: one master)"
/usr/bin/python3 bench/routing_load.py --cluster ${BENCH_QUICK:+10000} || echo "  (routing load bench on a cluster could not run)"

echo "== one routing pass and the queue figures by the size of the center (Redis CPU per call)"
/usr/bin/python3 bench/route_pass.py ${BENCH_QUICK:+--quick} || echo "  (route pass bench could not run)"

echo "== websocket fan-out: monitor sockets on one serve node (one C client process, epoll)"
/usr/bin/python3 bench/ws_fanout.py ${BENCH_QUICK:+2000} || echo "  (fan-out bench could not run)"

echo "== the monitor page in Chromium: frame times under 1,000 items/minute and a burst"
(cd tests/browser && { [ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null; })
if [ -n "${BENCH_QUICK:-}" ]; then
  node bench/monitor_frames.js --steady-seconds 15 --per-minute 1000 --burst 2000 --burst-seconds 5
else
  node bench/monitor_frames.js
fi
[ -f bench/console_latency.js ] && { echo "== mention to offer in the agent console"; node bench/console_latency.js; }

if command -v baresip >/dev/null && command -v sipp >/dev/null; then
  /usr/bin/python3 bench/dial_latency.py 50      # prints its own heading
else
  echo "== voice callbacks: skipped (baresip or SIPp missing: make deps)"
fi

if [ -z "${BENCH_QUICK:-}" ]; then
  echo "== 10,000 feeds on one ctxd"
  /usr/bin/python3 bench/many_sources.py 10000 60 60
fi
