#!/usr/bin/env bash
# Fails if a file of the daemon includes a header from a layer above its
# own, or from a sibling layer: the layers are, lowest first,
#   base < model < config < {api, sink} < {engine, ops} < cli
# (docs/ARCHITECTURE.md). Interfaces (model/) thus stay below their
# implementations, and nothing in daemon/ includes the fake or the tests.
set -euo pipefail
daemon=${1:-$(dirname "$0")/../daemon}
declare -A rank=([base]=0 [model]=1 [config]=2 [api]=3 [sink]=3 [engine]=4 [ops]=4 [cli]=5)
bad=0
files=0
while IFS= read -r f; do
  files=$((files + 1))
  layer=$(basename "$(dirname "$f")")
  if [ -z "${rank[$layer]+x}" ]; then
    echo "$f: not in a known layer folder" >&2
    bad=1
    continue
  fi
  while IFS= read -r inc; do
    target=${inc%%/*}
    if [ -z "${rank[$target]+x}" ]; then
      echo "$f: includes \"$inc\", which is not a daemon layer" >&2
      bad=1
    elif [ "$target" != "$layer" ] &&
         [ "${rank[$target]}" -ge "${rank[$layer]}" ]; then
      echo "$f: $layer includes \"$inc\" from layer $target, above or beside it" >&2
      bad=1
    fi
  done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done < <(find "$daemon" -name '*.h' -o -name '*.cc')
if [ "$files" -eq 0 ]; then
  echo "no sources found under $daemon" >&2
  exit 1
fi
[ "$bad" -eq 0 ] && echo "layers: $files files, every include points down"
exit "$bad"
