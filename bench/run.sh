#!/usr/bin/env bash
# The benchmark: installs what is missing, builds stsync into build/ (as the
# quick start does), and runs bench/bench.py. It takes about 15 minutes on
# two cores and needs ~4 GB of RAM and ~5 GB of disk (in $TMPDIR) for the
# 1M-record run. Arguments go to bench.py, e.g. --sizes 100000 for a quick
# run or --output results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh python3 time
scripts/build.sh build
exec python3 bench/bench.py --build build "$@"
