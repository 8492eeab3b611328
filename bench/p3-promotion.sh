#!/usr/bin/env bash
# Figure P3: what promotion costs. The npm-axios-1.7.9 fixture's node_modules (about 40k
# files, 340 MB) staged in a run dir is promoted into a project that has none, against
# `cp -a` of the same tree to the same filesystem, both in one hyperfine run so they see the
# same machine. Goal: promotion / cp -a <= 0.01.
#
# The promotion is si-promote-driver (tests/tools): it lists the staged changes, then
# promote()s them; the figure is promote()'s own time, which the driver logs per run. The
# driver process's whole wall time (exec + listing 40k changes + promotion) is printed too.
#
# The tree: `npm ci --ignore-scripts` of the fixture from the real npm registry into a cache
# dir, once; if that fails, 40k synthetic files with a similar size distribution.
#
# Between runs nothing is re-copied: the promoted node_modules is moved back into the next
# run's upper dir (one rename), and cp -a's copies are moved aside and removed at the end,
# because deleting 40k files can take longer here than copying them.
#
# Usage: bench/p3-promotion.sh          (from any directory)
# Environment: P3_RUNS (5), P3_CACHE_DIR (${XDG_CACHE_HOME:-~/.cache}/safeinstall-bench),
# SAFEINSTALL_BUILD_DIR (<repo>/build).
set -euo pipefail

BENCH_NAME=p3-promotion
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
readonly RUNS="${P3_RUNS:-5}"
readonly CACHE_ROOT="${P3_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/safeinstall-bench}"
readonly TREE_DIR="$CACHE_ROOT/npm-axios-1.7.9"
readonly RESULT_JSON="$BUILD_DIR/bench/p3-promotion.json"

work=""
cleanup() {
  if [ -n "$work" ] && [ -d "$work" ]; then
    echo "p3-promotion: removing $work (deleting the copies takes a while)" >&2
    rm -rf -- "$work"
  fi
}
trap cleanup EXIT

# si-promote-driver is defined in tests/tools/CMakeLists.txt.
build_driver() {
  BENCH_BINARIES=()
  build_targets si-promote-driver
  driver=$(find "$BUILD_DIR" -name si-promote-driver -type f -perm -u+x -print -quit)
  [ -n "$driver" ] || die "si-promote-driver not found under $BUILD_DIR"
}

# node_modules of the fixture, installed once from the real registry.
install_tree() {
  if [ -d "$TREE_DIR/node_modules" ] && [ -f "$TREE_DIR/.complete" ]; then
    tree_source="npm ci of the fixture (cached in $TREE_DIR)"
    return 0
  fi
  command -v npm >/dev/null || return 1
  rm -rf -- "$TREE_DIR"
  mkdir -p "$TREE_DIR"
  cp "$FIXTURE/package.json" "$FIXTURE/package-lock.json" "$TREE_DIR/"
  chmod u+w "$TREE_DIR"/package*.json
  echo "p3-promotion: npm ci --ignore-scripts of the fixture into $TREE_DIR (once)..." >&2
  if (cd "$TREE_DIR" && npm ci --ignore-scripts --no-audit --no-fund >npm-ci.log 2>&1); then
    touch "$TREE_DIR/.complete"
    tree_source="npm ci of the fixture (cached in $TREE_DIR)"
    return 0
  fi
  echo "p3-promotion: npm ci failed (see $TREE_DIR/npm-ci.log); synthesizing a tree" >&2
  return 1
}

# ~40k files in ~2.1k package directories, sizes log-normal around the fixture's mean of
# about 8.5 KiB per file (median 2 KiB: many small .js/.d.ts/.map files, a few large ones).
synthesize_tree() {
  rm -rf -- "$TREE_DIR"
  mkdir -p "$TREE_DIR"
  cp "$FIXTURE/package.json" "$FIXTURE/package-lock.json" "$TREE_DIR/"
  "$PYTHON" - "$TREE_DIR/node_modules" <<'PY'
import os, random, sys
root = sys.argv[1]
random.seed(1779)
files = 0
for p in range(2107):
    pkg = os.path.join(root, f"pkg{p}")
    for d in range(random.randint(1, 4)):
        sub = os.path.join(pkg, *[f"d{d}"] * (d > 0))
        os.makedirs(sub, exist_ok=True)
        for f in range(random.randint(2, 8)):
            size = min(int(random.lognormvariate(7.6, 1.7)), 4 << 20)
            with open(os.path.join(sub, f"f{f}.js"), "wb") as out:
                out.write(os.urandom(size))
            files += 1
print(f"synthesized {files} files", file=sys.stderr)
PY
  touch "$TREE_DIR/.complete"
  tree_source="synthetic tree (npm ci was not possible)"
}

main() {
  require_tools hyperfine cmake "$PYTHON"
  build_driver
  install_tree || synthesize_tree
  local files size
  files=$(find "$TREE_DIR/node_modules" | wc -l)
  size=$(du -sm "$TREE_DIR/node_modules" | cut -f1)

  # Project, run dir and cp -a's destination on the tree's filesystem: promotion is rename.
  work=$(mktemp -d "$CACHE_ROOT/p3-work.XXXXXX")
  mkdir -p "$work/project" "$work/graveyard"
  cp "$TREE_DIR/package.json" "$TREE_DIR/package-lock.json" "$work/project/"
  local log="$work/driver.log"
  local prepare_promotion="set -e; rm -rf '$work/run'; mkdir -p '$work/run/upper';
    if [ -d '$work/project/node_modules' ]; then mv '$work/project/node_modules' '$work/run/upper/';
    else cp -a '$TREE_DIR/node_modules' '$work/run/upper/node_modules'; fi;
    cp '$TREE_DIR/package-lock.json' '$work/run/upper/package-lock.json'; sync"
  local promotion="'$driver' --run-dir '$work/run' --project '$work/project' --log '$log'"
  local prepare_copy="set -e; if [ -e '$work/cp-dst' ]; then mv '$work/cp-dst' '$work/graveyard/'\$(date +%s%N); fi; sync"
  local copy="cp -a '$TREE_DIR/node_modules' '$work/cp-dst'"

  mkdir -p "$(dirname "$RESULT_JSON")"
  echo "p3-promotion: $files entries, $size MiB: $tree_source; $RUNS runs each" >&2
  hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$RESULT_JSON" \
    --prepare "$prepare_promotion" --command-name promotion "$promotion" \
    --prepare "$prepare_copy" --command-name "cp -a" "$copy" >&2

  "$PYTHON" - "$RESULT_JSON" "$log" "$RUNS" "$files" <<'PY'
import json, statistics, sys

result_file, log_file, runs, files = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
results = {r["command"]: r for r in json.load(open(result_file))["results"]}
driver_s = statistics.median(results["promotion"]["times"])
copy_s = statistics.median(results["cp -a"]["times"])
lines = [json.loads(line) for line in open(log_file) if line.strip()][-runs:]  # skip the warm-up
promote_ms = statistics.median(x["promote_ms"] for x in lines)
list_ms = statistics.median(x["list_ms"] for x in lines)
phase = {k: statistics.median(x[k] for x in lines) for k in ("prepare_ms", "commit_ms", "cleanup_ms")}
ratio = promote_ms / (copy_s * 1e3)
whole = driver_s / copy_s
json.dump({"promote_ms_median": promote_ms, "list_ms_median": list_ms, "phases_ms": phase,
           "driver_wall_s_median": driver_s, "cp_a_s_median": copy_s, "ratio": ratio,
           "ratio_driver_process": whole, "entries": files, "driver_runs": lines},
          open(result_file[:-5] + "-summary.json", "w"), indent=2)
verdict = "met" if ratio <= 0.01 else "missed"
print(f"P3 promotion: {promote_ms:.1f} ms, cp -a: {copy_s * 1e3:.0f} ms, ratio {ratio:.4f} "
      f"(goal <= 0.01, {verdict})")
print(f"  promotion phases (medians): prepare {phase['prepare_ms']:.1f} ms, commit "
      f"{phase['commit_ms']:.1f} ms (journal fsync + renames), clean-up {phase['cleanup_ms']:.1f} ms")
print(f"  whole driver process (exec + listing {files} entries in {list_ms:.0f} ms + promotion): "
      f"{driver_s * 1e3:.0f} ms, ratio {whole:.3f}")
PY
  echo "raw results: $RESULT_JSON"
}

main "$@"
