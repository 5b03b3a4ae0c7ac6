#!/usr/bin/env bash
# Quick start 2: install what is missing, build, and run the whole test suite
# through ctest. With --sanitize, builds into build-asan with AddressSanitizer
# and UndefinedBehaviorSanitizer and runs the suite there.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  scripts/build.sh "$dir" -DSTSYNC_SANITIZE=ON
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  dir=build
  scripts/build.sh "$dir"
fi
ctest --test-dir "$dir" -j 2 --output-on-failure --timeout 120
