#!/usr/bin/env bash
# Figure P5: what recording costs. Recording sends every exec, connect and addressed send
# through a seccomp user-notification to the supervisor, answered by a thread of its own that
# waits in the receive ioctl (an exec also keeps a pidfd, for its exit). SAFEINSTALL_RECORD=off
# installs the plain filter instead (refusals in the kernel, nothing recorded), which exists
# for this measurement only.
#
# 1. warm-cache `npm ci` of the npm-axios-1.7.9 fixture under safeinstall, recording on vs
#    off (hyperfine, alternating names, few runs). The npm cache lives inside the project
#    copy (read through the overlay, so warm for every run); --no-promote keeps the project
#    as it was. Goal: ratio <= 1.02.
# 2. 1,000 execve of /bin/true in one shell: under safeinstall (recording on) vs under bwrap
#    (--unshare-all, read-only root), and recording off for reference. Reported as ratios.
# 3. safeinstall's own peak RSS over a recorded axios install, from the start to the end of
#    promotion (with --ignore-scripts, so the run is promoted): VmHWM of the safeinstall
#    process, sampled every 10 ms until it exits. Goal <= 16 MiB.
#
# Usage: bench/p5-recording.sh      (needs npm, hyperfine, bwrap; reaches registry.npmjs.org
# once to warm the cache)
# Environment: P5_RUNS (3), SAFEINSTALL_BUILD_DIR (<repo>/build).
set -euo pipefail

BENCH_NAME=p5-recording
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
readonly SAFEINSTALL="$BUILD_DIR/safeinstall"
readonly RUNS="${P5_RUNS:-3}"

require_tools hyperfine bwrap npm "$PYTHON"
BENCH_BINARIES=("$SAFEINSTALL")
build_targets safeinstall

work="$(mktemp -d /tmp/si-p5.XXXXXX)"
trap 'rm -rf "$work"' EXIT
project="$work/axios"
mkdir -p "$project"
cp "$FIXTURE/package.json" "$FIXTURE/package-lock.json" "$project/"

echo "p5: warming the npm cache in $project/.npm-cache..." >&2
(cd "$project" && npm_config_cache="$project/.npm-cache" npm ci --ignore-scripts --no-audit \
  --no-fund >"$work/warm.log" 2>&1 && rm -rf node_modules)

npm_ci="cd $project && $SAFEINSTALL -q --no-promote --allow-host registry.npmjs.org \
--pass-env npm_config_cache -- npm ci --prefer-offline --no-audit --no-fund"
export npm_config_cache="$project/.npm-cache"

# npm ci exits 1 in both variants: the fixture's own `prepare` (husky install) fails in a
# checkout without .git; the work up to it is the same either way.
hyperfine --style basic -i --runs "$RUNS" --export-json "$work/npm.json" \
  -n recording "$npm_ci" -n off "SAFEINSTALL_RECORD=off $npm_ci" >&2

loop='i=0; while [ $i -lt 1000 ]; do /bin/true; i=$((i+1)); done'
hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$work/exec.json" \
  -n safeinstall "cd $work && $SAFEINSTALL -q --no-promote -- /bin/sh -c '$loop'" \
  -n safeinstall-off "cd $work && SAFEINSTALL_RECORD=off $SAFEINSTALL -q --no-promote -- /bin/sh -c '$loop'" \
  -n bwrap "bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp /bin/sh -c '$loop'" >&2

# Peak RSS of safeinstall itself over one recorded install, promotion included.
(cd "$project" && exec "$SAFEINSTALL" -q --allow-host registry.npmjs.org \
  --pass-env npm_config_cache -- npm ci --prefer-offline --ignore-scripts --no-audit \
  --no-fund >/dev/null 2>&1) &
pid=$!
peak=0
while kill -0 "$pid" 2>/dev/null; do
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
  [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
  sleep 0.01
done
wait "$pid" || true
[ -d "$project/node_modules" ] || die "the install measured for RSS was not promoted"

"$PYTHON" - "$work/npm.json" "$work/exec.json" "$peak" <<'PY'
import json, sys
npm = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
ex = {r["command"]: r for r in json.load(open(sys.argv[2]))["results"]}
peak_kib = int(sys.argv[3])
ratio = npm["recording"]["median"] / npm["off"]["median"]
print(f"P5 npm ci (axios, warm cache): recording {npm['recording']['median']:.2f} s, "
      f"off {npm['off']['median']:.2f} s, ratio {ratio:.3f} (goal <= 1.02)")
s, off, b = ex["safeinstall"]["median"], ex["safeinstall-off"]["median"], ex["bwrap"]["median"]
print(f"P5 1,000 execve of /bin/true: safeinstall {s:.3f} s, recording off {off:.3f} s, "
      f"bwrap {b:.3f} s; safeinstall/bwrap {s / b:.2f}, recording on/off {s / off:.2f}")
print(f"P5 safeinstall peak RSS over the axios install and its promotion: {peak_kib / 1024:.1f} MiB (goal <= 16 MiB)")
PY
