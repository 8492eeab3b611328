#!/usr/bin/env bash
# Figure P2b: the everyday commands on a project that already has its node_modules (the
# npm-axios-1.7.9 fixture: about 2,100 packages, 40k files) and a warm cache, bare against
# safeinstall, in one alternating run so both see the same machine:
#   npm ci           over the existing tree: npm removes and rewrites every package;
#   npm install PKG  one new package (P2B_PACKAGE, default dayjs@1.11.13) added to the tree.
# Goal: safeinstall / bare <= 1.05 for both.
#
# Both sides run with `--prefer-offline --ignore-scripts --no-audit --no-fund
# --no-update-notifier` (see bench/p2-warm-install.sh for why) and their own warm npm cache.
# Before every timed `npm install PKG` the project is put back as it was (package.json, both
# lockfiles, the package's directory removed; not timed), so each run adds the package again.
# The last safeinstall run of each command must end `promoted`, or its figure is refused; the
# steps of the last safeinstall `npm install` (its report's timings) are printed as well.
# Each safeinstall `npm install` follows a safeinstall `npm ci` whose old trees a detached
# process may still be removing (their names shared with the project only under its lock).
# One run per command and round: on a loaded machine single rounds vary by ±30 %, so quote
# the median of P2B_ROUNDS=5 or more with the load (README's P2b row).
#
# Usage: bench/p2b-existing-tree.sh      (from any directory; needs registry.npmjs.org)
# Environment: P2B_ROUNDS (3), P2B_PACKAGE, P2_CACHE_DIR (${XDG_CACHE_HOME:-~/.cache}/
# safeinstall-bench), SAFEINSTALL_BUILD_DIR (<repo>/build).
set -euo pipefail

BENCH_NAME=p2b-existing-tree
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
readonly ROUNDS="${P2B_ROUNDS:-3}"
readonly PACKAGE="${P2B_PACKAGE:-dayjs@1.11.13}"
readonly PACKAGE_DIR="node_modules/${PACKAGE%@*}"
readonly CACHE_ROOT="${P2_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/safeinstall-bench}"
readonly RESULT_JSON="$BUILD_DIR/bench/p2b-existing-tree.json" # per command and round
readonly NPM_FLAGS="--prefer-offline --ignore-scripts --no-audit --no-fund --no-update-notifier"

# The shell command that puts PROJECT's package.json and lockfile back as the fixture has
# them (not timed): `npm install PKG` may re-resolve other entries of the lockfile, after
# which `npm ci` refuses it.
restore_manifests() { # PROJECT
  echo "cp '$work/pristine/package.json' '$work/pristine/package-lock.json' '$1/' && sync"
}

# The same, and the tree as it was before `npm install PKG` (not timed). The package goes
# first and npm's hidden lockfile (node_modules/.package-lock.json) last: npm trusts that file
# only while no directory in node_modules is newer, as npm itself leaves it. Removed after
# it, the package would make node_modules newer and send both sides through npm's slow path
# (every package.json read), which is not the everyday case.
restore_before_install() { # PROJECT
  echo "rm -rf '$1/$PACKAGE_DIR' &&" \
    "cp '$work/pristine/package.json' '$work/pristine/package-lock.json' '$1/' &&" \
    "cp '$work/pristine/hidden-lock.json' '$1/node_modules/.package-lock.json' && sync"
}

verdict_of() { # REPORT
  "$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r.get("verdict"))' "$1"
}

main() {
  require_tools hyperfine cmake npm "$PYTHON"
  [ -f "$FIXTURE/package-lock.json" ] || die "no fixture at $FIXTURE"
  BENCH_BINARIES=()
  build_targets safeinstall
  local safeinstall="$BUILD_DIR/safeinstall"
  mkdir -p "$(dirname "$RESULT_JSON")"
  make_work_dir "$CACHE_ROOT" p2b-work
  make_fixture_project "$work/bare"
  make_fixture_project "$work/sandboxed"
  local report="$work/report.json"
  local bare_npm="npm --cache '$work/bare-npm-cache'"
  local si="env CI=true SAFEINSTALL_CACHE_DIR='$work/si-caches' SAFEINSTALL_STATE_DIR='$work/si-state' \
'$safeinstall' -q --report '$report' --allow-host registry.npmjs.org --"

  echo "$BENCH_NAME: first installs of the fixture (fill both caches and both trees; not timed)" >&2
  (cd "$work/bare" && eval "$bare_npm ci $NPM_FLAGS" >/dev/null 2>&1) || die "bare npm ci failed"
  (cd "$work/sandboxed" && eval "$si npm ci $NPM_FLAGS" >/dev/null 2>&1) ||
    die "safeinstall npm ci failed (report: $report)"
  mkdir -p "$work/pristine"
  cp "$work/bare/package.json" "$work/bare/package-lock.json" "$work/pristine/"
  cp "$work/bare/node_modules/.package-lock.json" "$work/pristine/hidden-lock.json"

  local ci_bare="cd '$work/bare' && $bare_npm ci $NPM_FLAGS >/dev/null 2>&1"
  local ci_si="cd '$work/sandboxed' && $si npm ci $NPM_FLAGS >/dev/null 2>&1"
  local add_bare="cd '$work/bare' && $bare_npm install $PACKAGE $NPM_FLAGS >/dev/null 2>&1"
  local add_si="cd '$work/sandboxed' && $si npm install $PACKAGE $NPM_FLAGS >/dev/null 2>&1"

  local round
  for round in $(seq 0 "$ROUNDS"); do
    local out=(--export-json /dev/null) # round 0 warms up, not counted
    [ "$round" -gt 0 ] && out=(--export-json "${RESULT_JSON%.json}-ci-round$round.json")
    hyperfine --style basic --runs 1 "${out[@]}" \
      --prepare "$(restore_manifests "$work/bare")" --command-name "npm ci" "$ci_bare" \
      --prepare "$(restore_manifests "$work/sandboxed")" \
      --command-name "safeinstall npm ci" "$ci_si" >&2
    [ "$(verdict_of "$report")" = promoted ] || die "safeinstall npm ci was not promoted ($report)"
    [ "$round" -gt 0 ] && out=(--export-json "${RESULT_JSON%.json}-install-round$round.json")
    hyperfine --style basic --runs 1 "${out[@]}" \
      --prepare "$(restore_before_install "$work/bare")" --command-name "npm install" "$add_bare" \
      --prepare "$(restore_before_install "$work/sandboxed")" \
      --command-name "safeinstall npm install" "$add_si" >&2
    [ "$(verdict_of "$report")" = promoted ] ||
      die "safeinstall npm install $PACKAGE was not promoted ($report)"
    [ -d "$work/sandboxed/$PACKAGE_DIR" ] || die "$PACKAGE_DIR was not promoted"
  done

  # Where the last safeinstall `npm install` spent its time (the report's timings).
  "$PYTHON" - "$report" <<'PY' >&2
import json, sys
steps = json.load(open(sys.argv[1])).get("timings", [])
print("last safeinstall npm install, steps of 10 ms or more: " +
      ", ".join(f"{s['step']} {s['ms']:.0f} ms" for s in steps if s["ms"] >= 10))
PY
  "$PYTHON" - "$RESULT_JSON" "$ROUNDS" "$PACKAGE" <<'PY'
import json, statistics, sys

result_file, rounds, package = sys.argv[1], int(sys.argv[2]), sys.argv[3]
summary = {}
for key, bare_name, label in (("ci", "npm ci", "npm ci over the existing tree"),
                              ("install", "npm install", f"npm install {package}")):
    bare, sandboxed, ratios = [], [], []
    for r in range(1, rounds + 1):
        res = {x["command"]: x["times"][0]
               for x in json.load(open(result_file[:-5] + f"-{key}-round{r}.json"))["results"]}
        bare.append(res[bare_name])
        sandboxed.append(res["safeinstall " + bare_name])
        ratios.append(sandboxed[-1] / bare[-1])
    ratio = statistics.median(ratios)
    summary[key] = {"bare_s": bare, "safeinstall_s": sandboxed, "ratios": ratios, "ratio": ratio}
    verdict = "met" if ratio <= 1.05 else "missed"
    print(f"P2b {label}: safeinstall {statistics.median(sandboxed):.2f} s, bare "
          f"{statistics.median(bare):.2f} s (medians); median of {rounds} per-round ratios "
          f"{ratio:.3f} (goal <= 1.05, {verdict}); rounds: {', '.join(f'{x:.2f}' for x in ratios)}")
json.dump(summary, open(result_file[:-5] + "-summary.json", "w"), indent=2)
PY
}

main "$@"
