#!/usr/bin/env bash
# Quick start 2: install what is missing, build, and run the whole test suite
# through ctest.
#   --sanitize  build into build-asan with AddressSanitizer and UBSan
#   --tsan      build into build-tsan with ThreadSanitizer
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
case "${1:-}" in
  --sanitize)
    dir=build-asan
    scripts/build.sh "$dir" -DSTSYNC_SANITIZE=ON
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    ;;
  --tsan)
    dir=build-tsan
    scripts/build.sh "$dir" -DSTSYNC_TSAN=ON
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
    ;;
  "")
    dir=build
    scripts/build.sh "$dir"
    ;;
  *)
    echo "usage: scripts/test.sh [--sanitize | --tsan]" >&2
    exit 2
    ;;
esac
ctest --test-dir "$dir" -j 2 --output-on-failure --timeout 180
