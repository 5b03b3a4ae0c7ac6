#!/usr/bin/env bash
# Quick start 2: install what is missing, build, and run the whole test suite
# through ctest. Warnings are errors here (STSYNC_WERROR).
#   --sanitize  build into build-asan with AddressSanitizer and UBSan
#   --tsan      build into build-tsan with ThreadSanitizer
set -euo pipefail
cd "$(dirname "$0")/.."
# The PostgreSQL sink's tests start a throwaway server of their own, and
# one of them a PgBouncer in front of it.
scripts/install-deps.sh postgresql pgbouncer
sanitizer=""
case "${1:-}" in
  --sanitize)
    dir=build-asan
    sanitizer=-fsanitize=address,undefined
    scripts/build.sh "$dir" -DSTSYNC_WERROR=ON -DSTSYNC_SANITIZE=ON
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    ;;
  --tsan)
    dir=build-tsan
    sanitizer=-fsanitize=thread
    scripts/build.sh "$dir" -DSTSYNC_WERROR=ON -DSTSYNC_TSAN=ON
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
    ;;
  "")
    dir=build
    scripts/build.sh "$dir" -DSTSYNC_WERROR=ON
    ;;
  *)
    echo "usage: scripts/test.sh [--sanitize | --tsan]" >&2
    exit 2
    ;;
esac
# A sanitizer stage must really be one: every compile command carries it.
if [ -n "$sanitizer" ]; then
  total=$(grep -c '"command"' "$dir/compile_commands.json")
  with=$(grep '"command"' "$dir/compile_commands.json" | grep -c -- "$sanitizer" || true)
  if [ "$total" -eq 0 ] || [ "$with" -ne "$total" ]; then
    echo "error: only $with of $total compile commands in $dir carry $sanitizer" >&2
    exit 1
  fi
  echo "test.sh: all $total compile commands in $dir carry $sanitizer"
fi
ctest --test-dir "$dir" -j 2 --output-on-failure --timeout 180
