#!/usr/bin/env bash
# Figure P1: what the sandbox costs before the command even starts. Median wall time of
# `safeinstall -- true` against bubblewrap building a comparable sandbox (all namespaces,
# read-only root, /dev, /proc, tmpfs /tmp) around `true`, in one hyperfine run so both see the
# same machine state. Goal: safeinstall no slower than bwrap (ratio <= 1.0).
#
# Usage: bench/p1-startup.sh          (from any directory)
# Environment: P1_WARMUP (10), P1_RUNS per round (40), P1_ROUNDS (7),
# SAFEINSTALL_BUILD_DIR (<repo>/build).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT
readonly BUILD_DIR="${SAFEINSTALL_BUILD_DIR:-$REPO_ROOT/build}"
readonly SAFEINSTALL="$BUILD_DIR/safeinstall"
readonly PYTHON=/usr/bin/python3 # Debian's, stdlib only
readonly WARMUP="${P1_WARMUP:-10}"
readonly RUNS="${P1_RUNS:-40}"
readonly ROUNDS="${P1_ROUNDS:-7}"
readonly RESULT_JSON="$BUILD_DIR/bench/p1-startup.json"
readonly BWRAP_ARGS=(--unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp)

project=""
cleanup() { if [ -n "$project" ]; then rm -rf -- "$project"; fi; }
trap cleanup EXIT

die() { echo "p1-startup: $*" >&2; exit 1; }

require_tools() {
  local tool
  for tool in hyperfine bwrap cmake "$PYTHON"; do
    command -v "$tool" >/dev/null || die "$tool not found; run scripts/setup.sh"
  done
}

# Builds only when the binary is stale or missing. A build that fails while an older binary
# exists (e.g. someone else's half-finished tests break the configure step) is reported, and the
# existing binary is measured, so the figure is never silently of a different build.
build_if_needed() {
  local log
  log=$(mktemp)
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    cmake -S "$REPO_ROOT" -B "$BUILD_DIR" -G Ninja -DSAFEINSTALL_TESTS=OFF >"$log" 2>&1 ||
      { cat "$log"; rm -f "$log"; die "cmake configure failed"; }
  fi
  if ! cmake --build "$BUILD_DIR" --target safeinstall >>"$log" 2>&1; then
    if [ -x "$SAFEINSTALL" ]; then
      echo "p1-startup: WARNING: build failed; measuring the existing $SAFEINSTALL" >&2
      echo "p1-startup: built $(stat -c %y "$SAFEINSTALL"); last lines of the build:" >&2
      tail -n 5 "$log" | sed 's/^/  /' >&2
    else
      cat "$log"; rm -f "$log"; die "build failed"
    fi
  fi
  rm -f "$log"
}

# -N (no intermediate shell) arrived in hyperfine 1.13; older ones measure through a shell and
# subtract its spawn time, which is noisier at this scale.
no_shell_flag() {
  local version major minor
  version=$(hyperfine --version | awk '{print $2}')
  IFS=. read -r major minor _ <<<"$version"
  if [ "$major" -gt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -ge 13 ]; }; then
    echo "-N"
  else
    echo "p1-startup: hyperfine $version has no -N; measuring through a shell" >&2
  fi
}

main() {
  require_tools
  build_if_needed
  # safeinstall refuses / and the home as a project: measure inside a throwaway project dir.
  project=$(mktemp -d "${TMPDIR:-/tmp}/p1-startup.XXXXXX")
  cd "$project"
  local safeinstall_cmd="$SAFEINSTALL -- true"
  local bwrap_cmd="bwrap ${BWRAP_ARGS[*]} true"
  # One plain run each first, so a broken sandbox fails here with its own message.
  "$SAFEINSTALL" -q -- true || die "'$safeinstall_cmd' failed"
  bwrap "${BWRAP_ARGS[@]}" true || die "'$bwrap_cmd' failed"

  mkdir -p "$(dirname "$RESULT_JSON")"
  local flags=()
  read -r -a flags <<<"$(no_shell_flag)"
  # Several short rounds, alternating the two commands: on a small shared machine the load
  # drifts over a minute, and one long block per command would charge that drift to one side.
  local round
  for round in $(seq 1 "$ROUNDS"); do
    hyperfine "${flags[@]}" --style none --warmup "$WARMUP" --runs "$RUNS" \
      --export-json "${RESULT_JSON%.json}-round$round.json" \
      --command-name safeinstall "$safeinstall_cmd" \
      --command-name bwrap "$bwrap_cmd" >/dev/null
  done

  "$PYTHON" - "$RESULT_JSON" "$ROUNDS" <<'PY'
import json, statistics, sys

base, rounds = sys.argv[1], int(sys.argv[2])
si_all, bw_all, ratios = [], [], []
for r in range(1, rounds + 1):
    results = {x["command"]: x for x in json.load(open(base[:-5] + f"-round{r}.json"))["results"]}
    si_all += results["safeinstall"]["times"]
    bw_all += results["bwrap"]["times"]
    ratios.append(results["safeinstall"]["median"] / results["bwrap"]["median"])
si, bw = statistics.median(si_all), statistics.median(bw_all)
ratio = statistics.median(ratios)
json.dump({"safeinstall_median_s": si, "bwrap_median_s": bw, "round_ratios": ratios,
           "ratio": ratio}, open(base, "w"), indent=2)
verdict = "met" if ratio <= 1.0 else "missed"
print(f"P1 startup: safeinstall {si * 1e3:.2f} ms, bwrap {bw * 1e3:.2f} ms (medians of "
      f"{len(si_all)} runs each); median of {rounds} per-round ratios {ratio:.2f} "
      f"(goal <= 1.0, {verdict}); rounds: {', '.join(f'{x:.2f}' for x in ratios)}")
PY
  echo "raw results: $RESULT_JSON"
}

main "$@"
