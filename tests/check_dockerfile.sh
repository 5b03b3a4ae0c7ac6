#!/usr/bin/env bash
# Static checks of the Dockerfile (no Docker engine runs where the suite
# does): multi-stage on debian:12-slim, the build stage installs through
# scripts/install-deps.sh (one package list), the runtime stage runs as a
# non-root user with an exec-form ENTRYPOINT, a HEALTHCHECK calling
# `stsync health`, the database directory as a VOLUME, and nothing of the
# fake or the tests. Then it runs the runtime stage's binary contract here:
# every library the built binary needs belongs to a package the runtime
# stage installs (or to the base image). Usage: check_dockerfile.sh
# DOCKERFILE STSYNC_BINARY. CI also builds and runs the image's stages for
# real, in chroots (tests/rehearse_dockerfile.py).
set -uo pipefail
file=$1 binary=$2
fail() { echo "Dockerfile: $*"; exit 1; }
from=$(grep -c '^FROM debian:12-slim' "$file")
[ "$from" -eq 2 ] || fail "want two stages FROM debian:12-slim, found $from"
grep -q '^RUN scripts/install-deps.sh' "$file" ||
  fail "the build stage must install with scripts/install-deps.sh"
runtime=$(awk '/^FROM/ {n++} n == 2' "$file")
echo "$runtime" | grep -q '^USER [a-z]' || fail "the runtime stage has no USER"
echo "$runtime" | grep -q '^USER root' && fail "the runtime stage runs as root"
echo "$runtime" | grep -q '^ENTRYPOINT \["' || fail "ENTRYPOINT is not exec form"
echo "$runtime" | grep -q '^HEALTHCHECK' || fail "no HEALTHCHECK"
echo "$runtime" | grep -A1 '^HEALTHCHECK' | grep -q '"health"' ||
  fail "HEALTHCHECK does not run stsync health"
echo "$runtime" | grep -q '^VOLUME /var/lib/stsync' || fail "no VOLUME /var/lib/stsync"
echo "$runtime" | grep -q 'ca-certificates' || fail "no ca-certificates"
echo "$runtime" | grep -qiE 'fake|tests' && fail "the runtime stage names the fake or tests"
grep -qE 'STSYNC_FAKE=OFF' "$file" || fail "the build stage builds the fake"

# The build stage's sources: only what it COPYs, configured with its flags
# in a clean directory (CI compiles it: tests/rehearse_dockerfile.py).
src=$(dirname "$file")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build_stage=$(awk '/^FROM/ {n++} n == 1' "$file")
for item in $(echo "$build_stage" | awk '/^COPY/ && !/--from/ {print $2}'); do
  mkdir -p "$work/$(dirname "$item")"
  cp -r "$src/$item" "$work/$item"
done
flags=$(echo "$build_stage" | tr -d '\\\n' | grep -o -- '-D[A-Z_]*=[A-Za-z]*' | tr '\n' ' ')
cmake -S "$work" -B "$work/build" $flags >"$work/cmake.log" 2>&1 ||
  { cat "$work/cmake.log"; fail "the build stage's sources do not configure"; }

# Every shared library of the binary comes from a package the runtime stage
# installs, or from debian:12-slim itself.
# In debian:12-slim, or pulled in by the packages installed above.
base="libc6 libgcc-s1 libstdc++6 libgcrypt20 liblz4-1 libzstd1 libgpg-error0 liblzma5 libcap2 libbrotli1 zlib1g libsystemd0"
installed=$(echo "$runtime" | tr ' \\' '\n\n' | grep -E '^lib[a-z0-9.+-]+$' | sort -u)
command -v dpkg >/dev/null || { echo "Dockerfile: ok, without the library check (no dpkg)"; exit 0; }
# Their dependencies come with them (apt installs them): the closure over
# this machine's package database.
closure=" $installed $base "
queue="$installed"
while [ -n "$queue" ]; do
  next=""
  for p in $queue; do
    for d in $(dpkg-query -W -f='${Depends},${Pre-Depends}\n' "$p" 2>/dev/null |
      tr ',|' '\n\n' | sed 's/([^)]*)//g; s/:any//g' | awk '{print $1}'); do
      case $closure in *" $d "*) ;; *) closure="$closure$d " next="$next $d" ;; esac
    done
  done
  queue=$next
done
missing=""
for lib in $(ldd "$binary" | awk '/=>/ {print $3}'); do
  pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1)
  [ -n "$pkg" ] || continue
  # A sanitizer build (scripts/test.sh --sanitize, --tsan) links their
  # runtimes; the image's Release build does not.
  case $pkg in libasan* | libubsan* | libtsan*) continue ;; esac
  if ! echo "$closure" | tr ' ' '\n' | grep -qx "$pkg"; then
    missing="$missing $pkg"
  fi
done
[ -z "$missing" ] || fail "the runtime stage lacks packages the binary needs:$missing"
echo "Dockerfile: ok (configured with $flags from its COPY list)"
