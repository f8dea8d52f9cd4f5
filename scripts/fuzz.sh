#!/usr/bin/env bash
# make fuzz-smoke / make fuzz: run the libFuzzer targets of tests/fuzz/.
#
#   scripts/fuzz.sh smoke SECONDS BIN...   replay each target's seeds, then
#                                          fuzz SECONDS from a fresh copy of
#                                          them (fixed -seed), in build-fuzz/smoke/
#   scripts/fuzz.sh long SECONDS BIN...    fuzz SECONDS each; the corpus grows
#                                          in var/fuzz/<target>/ across runs
#
# A target's seeds are the folders and files listed below (folders are read
# recursively; ../shared/corpora is the shared corpus checkout, skipped when
# absent). Any crash, leak or timeout fails the run; the reproducer is named
# (run it again with `BIN REPRODUCER`).
set -uo pipefail
cd "$(dirname "$0")/.."
mode=$1 secs=$2
shift 2

seeds() {
  case $1 in
    fuzz_feed)     echo tests/data/feeds ../shared/corpora/feedparser/tests ;;
    fuzz_analyzer) echo tests/fuzz/seeds/analyzer ;;
    fuzz_social)   echo tests/fuzz/seeds/social tests/data/api ../shared/corpora/api ;;
    fuzz_config)   echo tests/fuzz/seeds/config etc/ctxd.json etc/ctxd.production.json ;;
    fuzz_rules)    echo tests/fuzz/seeds/rules etc/rules tests/data/analyzer/rules \
                        tests/data/analyzer/rules-complaint/brands.rules ;;
    fuzz_cues)     echo tests/fuzz/seeds/cues etc/lexicons/complaints.cues \
                        tests/data/analyzer/rules-complaint/acme.cues ;;
    fuzz_ws)       echo tests/fuzz/seeds/ws ;;
    *)             echo "tests/fuzz/seeds/${1#fuzz_}" ;;
  esac
}

# per-target options: the longest input worth trying, and the target's
# dictionary (tests/fuzz/<target>.dict: words libFuzzer splices in) if any
opts() {
  case $1 in
    fuzz_feed|fuzz_social) echo -max_len=65536 ;;
    *)                     echo -max_len=8192 ;;
  esac
  [ -f "tests/fuzz/$1.dict" ] && echo "-dict=tests/fuzz/$1.dict"
}

# copy a target's seeds (files of at most 1 MB) into folder $2
fill() {
  local t=$1 dst=$2 s
  mkdir -p "$dst"
  for s in $(seeds "$t"); do
    [ -e "$s" ] || { echo "  ($s absent, skipped)"; continue; }
    find "$s" -type f -size -1024k ! -name COMMIT ! -name LICENSE -print0 |
      while IFS= read -r -d '' f; do
        cp "$f" "$dst/$(echo "$f" | md5sum | cut -c1-16)-$(basename "$f")"
      done
  done
}

# one target: its seeds, then $secs seconds of new inputs; prints one line
one() {
  local bin=$1 t work n log start end runs cov extra
  t=$(basename "$bin")
  if [ "$mode" = smoke ]; then
    work=build-fuzz/smoke/$t
    rm -rf "$work"
  else
    work=var/fuzz/$t
  fi
  mkdir -p "$work/corpus" "$work/crashes"
  fill "$t" "$work/seeds"
  n=$(find "$work/seeds" -type f | wc -l)
  log=$work/log
  start=$(date +%s.%N)
  # 1. the seeds, each once
  if ! "$bin" -runs=0 -timeout=10 -rss_limit_mb=4096 $(opts "$t") \
       -artifact_prefix="$work/crashes/" "$work/seeds" >"$log" 2>&1; then
    echo "FAIL $t: a seed fails; see $log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' "$log" | head -5
    return 1
  fi
  # 2. new inputs for $secs seconds
  extra=()
  [ "$mode" = smoke ] && extra=(-seed=1)
  if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 $(opts "$t") \
       -print_final_stats=1 "${extra[@]}" -artifact_prefix="$work/crashes/" \
       "$work/corpus" "$work/seeds" >>"$log" 2>&1; then
    echo "FAIL $t: see $log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|Test unit written)' "$log" | head -5
    return 1
  fi
  end=$(date +%s.%N)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
  printf 'ok   %-14s %5d seeds, %9s runs in %ss (%s, %s s wall)\n' "$t" "$n" "$runs" \
    "$secs" "$cov" "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')"
}

# the targets run side by side, FUZZ_JOBS (the number of cores) at a time;
# each one's lines are printed when it ends
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
out=$(mktemp -d)
pids=() fail=0
for bin in "$@"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  one "$bin" >"$out/$(basename "$bin")" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail=1; done
for bin in "$@"; do cat "$out/$(basename "$bin")"; done
rm -rf "$out"
exit $fail