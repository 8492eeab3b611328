#!/usr/bin/env bash
# Figure P5b: what recording writes into local dependencies costs. With a local dependency
# outside the project (`"sib": "file:../sib"`), the seccomp filter also notifies every write
# by path (an open for writing, mkdir, unlink, rename…), so that one aimed into the read-only
# dependency is recorded; without one it does not, and nothing changes.
#
# 3,000 file creations by one shell (builtins only: no exec, one open each) in a project whose
# package.json names a local dependency vs the same in a project that names none, in one
# alternating hyperfine run (--no-promote: nothing is promoted). Reported as a ratio and as
# the cost per write.
#
# Usage: bench/p5b-local-dep-writes.sh      (needs hyperfine)
# Environment: P5B_RUNS (7), SAFEINSTALL_BUILD_DIR (<repo>/build).
set -euo pipefail

BENCH_NAME=p5b-local-dep-writes
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
readonly SAFEINSTALL="$BUILD_DIR/safeinstall"
readonly RUNS="${P5B_RUNS:-7}"
readonly WRITES=3000

require_tools hyperfine "$PYTHON"
BENCH_BINARIES=("$SAFEINSTALL")
build_targets safeinstall

work="$(mktemp -d /tmp/si-p5b.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# The staged runs (--no-promote) are kept in a state dir of the work dir, removed with it.
export SAFEINSTALL_STATE_DIR="$work/state"
mkdir -p "$work/sib" "$work/with" "$work/without"
echo '{"name":"sib","version":"1.0.0"}' >"$work/sib/package.json"
echo '{"name":"with","dependencies":{"sib":"file:../sib"}}' >"$work/with/package.json"
echo '{"name":"without","dependencies":{}}' >"$work/without/package.json"

loop="mkdir -p out && i=0; while [ \$i -lt $WRITES ]; do echo x > out/f\$i; i=\$((i+1)); done"
run_in() { # PROJECT
  echo "$SAFEINSTALL -q --no-promote --expect 'out/**' --project $work/$1 -- /bin/sh -c '$loop'"
}
hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$work/writes.json" \
  -n local-dependency "$(run_in with)" -n none "$(run_in without)" >&2

"$PYTHON" - "$work/writes.json" "$WRITES" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
writes = int(sys.argv[2])
a, b = r["local-dependency"]["median"], r["none"]["median"]
print(f"P5b {writes:,} file creations: with a local dependency {a:.2f} s, without {b:.2f} s, "
      f"ratio {a / b:.2f}; {(a - b) / writes * 1e6:.0f} us per recorded write "
      f"(runs without local dependencies notify no writes)")
PY
