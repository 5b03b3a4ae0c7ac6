#!/usr/bin/env bash
# The systemd unit passes `systemd-analyze verify` cleanly and
# `systemd-analyze security` rates it 2.0 or lower ("OK" or better). Run by
# ctest as: check_systemd_unit.sh UNIT STSYNC_BINARY. Exit 77 (skipped)
# where systemd-analyze is missing or too old for --offline.
set -uo pipefail
unit=$1 binary=$2
command -v systemd-analyze >/dev/null || { echo "skipped: no systemd-analyze"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# verify checks that ExecStart exists: point it at the binary just built.
sed "s|/usr/bin/stsync|$binary|" "$unit" > "$work/stsync.service"

verify=$(systemd-analyze verify "$work/stsync.service" 2>&1)
if [ $? -ne 0 ] || [ -n "$verify" ]; then
  echo "systemd-analyze verify is not clean:"
  echo "$verify"
  exit 1
fi

security=$(systemd-analyze security --offline=true "$work/stsync.service" 2>&1)
if echo "$security" | grep -q "unrecognized option"; then
  echo "skipped: systemd-analyze has no --offline (systemd < 252)"
  exit 77
fi
score=$(echo "$security" | sed -n 's/.*Overall exposure level for stsync.service: \([0-9.]*\).*/\1/p')
if [ -z "$score" ]; then
  echo "cannot read the exposure level:"
  echo "$security"
  exit 1
fi
echo "systemd-analyze security: $score (at most 2.0 allowed)"
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || {
  echo "$security" | grep "✗"
  exit 1
}
