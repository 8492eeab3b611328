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

BENCH_NAME=p1-startup
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
readonly SAFEINSTALL="$BUILD_DIR/safeinstall"
readonly WARMUP="${P1_WARMUP:-10}"
readonly RUNS="${P1_RUNS:-40}"
readonly ROUNDS="${P1_ROUNDS:-7}"
readonly RESULT_JSON="$BUILD_DIR/bench/p1-startup.json"
readonly BWRAP_ARGS=(--unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp)

project=""
cleanup() { if [ -n "$project" ]; then rm -rf -- "$project"; fi; }
trap cleanup EXIT

# Builds only when the binary is stale or missing. A build that fails while an older binary
# exists (e.g. someone else's half-finished tests break the configure step) is reported, and the
# existing binary is measured, so the figure is never silently of a different build.
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
  require_tools hyperfine bwrap cmake "$PYTHON"
  BENCH_CMAKE_FLAGS="-DSAFEINSTALL_TESTS=OFF"
  BENCH_BINARIES=("$SAFEINSTALL")
  build_targets safeinstall
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
