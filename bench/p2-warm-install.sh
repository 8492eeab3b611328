#!/usr/bin/env bash
# Figure P2: what safeinstall adds to an install with a warm cache. `safeinstall npm ci` of
# the npm-axios-1.7.9 fixture (real registry allowed) against bare `npm ci` of the same
# fixture, each with its own warm npm cache, both in one hyperfine run so they see the same
# machine. safeinstall's time includes everything: sandbox, gateway, the cache overlay, the
# change list of the staged node_modules, the verdict, promotion into the project and the
# cache review. Goal: safeinstall / bare <= 1.03.
#
# Both sides run `npm ci --prefer-offline --ignore-scripts --no-audit --no-fund
# --no-update-notifier`:
#   --prefer-offline  without it npm re-downloads every tarball whose stored response has no
#                     freshness information, warm cache or not, and the figure would measure
#                     the registry rather than the install;
#   --ignore-scripts  the fixture's own `prepare` runs husky, which needs a git checkout.
# P2_NPM_FLAGS replaces these flags for both sides.
#
# Warm caches: the warm-up round fills both — bare npm's with --cache, safeinstall's
# persistent cache (SAFEINSTALL_CACHE_DIR) by merging the promoted warm-up run's new entries.
# Before every timed run the project's node_modules is moved aside (not timed). After the runs the
# last safeinstall report must say `promoted`, or the figure is refused.
#
# Usage: bench/p2-warm-install.sh          (from any directory; needs network to
#                                           registry.npmjs.org)
# Environment: P2_ROUNDS (3), P2_CACHE_DIR (${XDG_CACHE_HOME:-~/.cache}/safeinstall-bench),
# SAFEINSTALL_BUILD_DIR (<repo>/build), P2_NPM_FLAGS.
set -euo pipefail

BENCH_NAME=p2-warm-install
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
readonly ROUNDS="${P2_ROUNDS:-3}"
readonly CACHE_ROOT="${P2_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/safeinstall-bench}"
readonly RESULT_JSON="$BUILD_DIR/bench/p2-warm-install.json" # per round: -roundN.json
readonly NPM_FLAGS="${P2_NPM_FLAGS:---prefer-offline --ignore-scripts --no-audit --no-fund --no-update-notifier}"

# The command that moves a previous run's tree out of the way before a timed run. Not rm -rf:
# on ext4 without a journal (this kind of VM) the inode allocator skips inodes deleted in the
# last seconds, and 40k fresh deletions next door would slow whichever run comes next by
# seconds, more than everything measured here. The trees are deleted when the script ends.
set_aside() { # DIR
  echo "if [ -d '$1' ]; then mv '$1' \"\$(mktemp -d '$work/discarded.XXXXXX')\"; fi; sync"
}

main() {
  require_tools hyperfine cmake npm "$PYTHON"
  [ -f "$FIXTURE/package-lock.json" ] || die "no fixture at $FIXTURE"
  BENCH_BINARIES=()
  build_targets safeinstall
  local safeinstall="$BUILD_DIR/safeinstall"
  make_work_dir "$CACHE_ROOT" p2-work
  make_fixture_project "$work/bare"
  make_fixture_project "$work/sandboxed"
  mkdir -p "$work/bare-npm-cache"
  local report="$work/report.json"

  local bare="cd '$work/bare' && npm ci --cache '$work/bare-npm-cache' $NPM_FLAGS >/dev/null 2>&1"
  local sandboxed="cd '$work/sandboxed' && env CI=true SAFEINSTALL_CACHE_DIR='$work/si-caches' \
SAFEINSTALL_STATE_DIR='$work/si-state' '$safeinstall' -q --report '$report' \
--allow-host registry.npmjs.org -- npm ci $NPM_FLAGS >/dev/null 2>&1"

  mkdir -p "$(dirname "$RESULT_JSON")"
  echo "p2-warm-install: npm ci of the fixture, bare vs safeinstall: a warm-up of each, then" \
    "$ROUNDS alternating rounds of one run each" >&2
  # Rounds alternate the two commands: on a small shared machine the load drifts by tens of
  # percent within minutes, and one command's runs all in a row would take it all.
  local round
  for round in $(seq 0 "$ROUNDS"); do
    local runs=(--runs 1)
    [ "$round" -eq 0 ] && runs=(--runs 1 --export-json /dev/null)  # the warm-up, not counted
    [ "$round" -gt 0 ] && runs+=(--export-json "${RESULT_JSON%.json}-round$round.json")
    hyperfine --style basic "${runs[@]}" \
      --prepare "$(set_aside "$work/bare/node_modules")" --command-name "npm ci" "$bare" \
      --prepare "$(set_aside "$work/sandboxed/node_modules")" \
      --command-name "safeinstall npm ci" "$sandboxed" >&2
  done

  "$PYTHON" - "$RESULT_JSON" "$ROUNDS" "$report" "$work/sandboxed" "$work/si-caches/npm" <<'PY'
import json, os, statistics, sys

result_file, rounds, report_file, project, cache = sys.argv[1:6]
report = json.load(open(report_file))
if report.get("verdict") != "promoted" or not os.path.isdir(os.path.join(project, "node_modules")):
    sys.exit(f"p2-warm-install: the last safeinstall run was not promoted "
             f"({report.get('verdict')}: {report.get('verdict_reasons')}); no figure")
cache_violations = [v for v in report.get("violations", []) if v.get("kind") == "cache"]
bare_all, si_all, ratios = [], [], []
for r in range(1, int(rounds) + 1):
    results = {x["command"]: x for x in json.load(open(result_file[:-5] + f"-round{r}.json"))["results"]}
    b, s = results["npm ci"]["times"][0], results["safeinstall npm ci"]["times"][0]
    bare_all.append(b)
    si_all.append(s)
    ratios.append(s / b)
bare = statistics.median(bare_all)
sandboxed = statistics.median(si_all)
ratio = statistics.median(ratios)
blobs = sum(len(files) for _, _, files in os.walk(os.path.join(cache, "content-v2")))
contacted = report.get("network", {}).get("contacted", [])
received = sum(c.get("bytes_received", 0) for c in contacted)
changes = len(report.get("files", {}).get("project", []))
json.dump({"bare_s_median": bare, "safeinstall_s_median": sandboxed, "ratio": ratio,
           "round_ratios": ratios, "bare_s": bare_all, "safeinstall_s": si_all,
           "cache_blobs": blobs, "registry_bytes_received_last_run": received,
           "project_changes_last_run": changes, "cache_violations": cache_violations},
          open(result_file[:-5] + "-summary.json", "w"), indent=2)
verdict = "met" if ratio <= 1.03 else "missed"
print(f"P2 warm-cache npm ci: safeinstall {sandboxed:.2f} s, bare {bare:.2f} s (medians); median of "
      f"{len(ratios)} per-round ratios {ratio:.3f} (goal <= 1.03, {verdict}); rounds: "
      f"{', '.join(f'{x:.2f}' for x in ratios)}")
print(f"  last safeinstall run: promoted, {changes} project changes listed, {received} B from "
      f"the registry, persistent cache {blobs} blobs, {len(cache_violations)} cache violations")
PY
  echo "raw results: ${RESULT_JSON%.json}-round*.json"
}

main "$@"
