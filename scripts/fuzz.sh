#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) into build-fuzz and
# runs each for SECONDS (default 60) from the seed corpus in fuzz/corpus.
# Fails on any crash; prints the number of executions per target.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
scripts/install-deps.sh clang libclang-rt-14-dev
CXX=clang++ scripts/build.sh build-fuzz -DSTSYNC_FUZZ=ON -DSTSYNC_TESTS=OFF -DSTSYNC_FAKE=OFF \
  -DSTSYNC_WERROR=ON
for target in page_fuzzer config_fuzzer; do
  corpus=$(mktemp -d)
  cp fuzz/corpus/"${target%_fuzzer}"/* "$corpus"/
  log=build-fuzz/$target.log
  if ! build-fuzz/fuzz/$target -max_total_time="$seconds" -max_len=65536 \
       -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix=build-fuzz/"$target"- "$corpus" >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz: $target FAILED (crash input saved as build-fuzz/$target-*)" >&2
    exit 1
  fi
  runs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  echo "fuzz: $target ok, $runs executions in ${seconds}s"
  rm -rf "$corpus"
done
