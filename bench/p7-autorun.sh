#!/usr/bin/env bash
# Figure P7: what checking the auto-run points adds to the verdict. Two staged trees, each as
# a run's upper dir over an empty project, so every file in them is a change the check sees:
#   - the npm-axios-1.7.9 fixture's node_modules (about 40k files; `npm ci --ignore-scripts`
#     from the real registry, once, cached; 40k synthetic files when that is not possible),
#     judged with profiles/npm.toml;
#   - a venv with 300 installed distributions (dist-info with RECORD, modules, a console
#     script each, a few path-only .pth files), synthesized, judged with profiles/pip.toml.
# Goal: the check adds <= 10 ms to the verdict on each.
#
# The check is si-autorun-driver (tests/tools): it lists and categorizes the changes as the
# verdict does, then times auto_run_findings() alone, P7_REPEAT times in one process; the
# figure is the median of those, in wall and in CPU time (the thread's: on a loaded machine
# wall time measures the load as well). hyperfine also times the whole driver with and
# without the check, and the difference of the medians is printed as a cross-check.
#
# Usage: bench/p7-autorun.sh          (from any directory)
# Environment: P7_RUNS (10), P7_REPEAT (21), P7_CACHE_DIR (${XDG_CACHE_HOME:-~/.cache}/
# safeinstall-bench, shared with P3), SAFEINSTALL_BUILD_DIR (<repo>/build).
set -euo pipefail

BENCH_NAME=p7-autorun
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
readonly RUNS="${P7_RUNS:-10}"
readonly REPEAT="${P7_REPEAT:-21}"
readonly CACHE_ROOT="${P7_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/safeinstall-bench}"
readonly NPM_TREE="$CACHE_ROOT/npm-axios-1.7.9"
readonly VENV_TREE="$CACHE_ROOT/venv-300"
# The project the venv's upper dir stages into: its launchers' shebangs name this path, as
# those of a venv installed in a project name the project's.
readonly VENV_PROJECT="$CACHE_ROOT/venv-300-project"
readonly RESULT_DIR="$BUILD_DIR/bench"

work=""
cleanup() { if [ -n "$work" ] && [ -d "$work" ]; then rm -rf -- "$work"; fi; }
trap cleanup EXIT

# si-autorun-driver is defined in tests/tools/CMakeLists.txt.
build_driver() {
  BENCH_BINARIES=()
  build_targets si-autorun-driver
  driver=$(find "$BUILD_DIR" -name si-autorun-driver -type f -perm -u+x -print -quit)
  [ -n "$driver" ] || die "si-autorun-driver not found under $BUILD_DIR"
}

# The fixture's node_modules, installed once with the real npm (the same cache as P3).
npm_tree() {
  if [ -d "$NPM_TREE/node_modules" ] && [ -f "$NPM_TREE/.complete" ]; then
    npm_source="npm ci of the fixture (cached in $NPM_TREE)"
    return 0
  fi
  rm -rf -- "$NPM_TREE"
  mkdir -p "$NPM_TREE"
  cp "$FIXTURE/package.json" "$FIXTURE/package-lock.json" "$NPM_TREE/"
  chmod u+w "$NPM_TREE"/package*.json
  echo "p7-autorun: npm ci --ignore-scripts of the fixture into $NPM_TREE (once)..." >&2
  if command -v npm >/dev/null &&
    (cd "$NPM_TREE" && npm ci --ignore-scripts --no-audit --no-fund >npm-ci.log 2>&1); then
    touch "$NPM_TREE/.complete"
    npm_source="npm ci of the fixture (cached in $NPM_TREE)"
    return 0
  fi
  echo "p7-autorun: npm ci failed (see $NPM_TREE/npm-ci.log); synthesizing a tree" >&2
  "$PYTHON" - "$NPM_TREE/node_modules" <<'PY'
import os, random, sys
root = sys.argv[1]
random.seed(1779)
os.makedirs(os.path.join(root, ".bin"))
for p in range(2107):
    pkg = os.path.join(root, f"pkg{p}")
    for d in range(random.randint(1, 4)):
        sub = os.path.join(pkg, *[f"d{d}"] * (d > 0))
        os.makedirs(sub, exist_ok=True)
        for f in range(random.randint(2, 8)):
            with open(os.path.join(sub, f"f{f}.js"), "w") as out:
                out.write("module.exports = 1;\n")
    bin = {"pkg%d" % p: "d0/f0.js"} if p % 20 == 0 else {}
    with open(os.path.join(pkg, "package.json"), "w") as out:
        out.write('{"name": "pkg%d", "version": "1.0.0", "bin": %s}' % (p, str(bin).replace("'", '"')))
    for name in bin:
        os.symlink(f"../pkg{p}/d0/f0.js", os.path.join(root, ".bin", name))
PY
  touch "$NPM_TREE/.complete"
  npm_source="synthetic tree (npm ci was not possible)"
}

# A venv with 300 distributions as pip would leave them, built once.
venv_tree() {
  if [ -f "$VENV_TREE/.complete" ] && [ -d "$VENV_PROJECT" ]; then return 0; fi
  rm -rf -- "$VENV_PROJECT"
  mkdir -p "$VENV_PROJECT"
  rm -rf -- "$VENV_TREE"
  mkdir -p "$VENV_TREE"
  "$PYTHON" -m venv --without-pip "$VENV_TREE/.venv"
  "$PYTHON" - "$VENV_TREE/.venv" "$VENV_PROJECT/.venv" <<'PY'
import glob, hashlib, os, sys
venv = os.path.abspath(sys.argv[1])
site = glob.glob(os.path.join(venv, "lib", "python*", "site-packages"))[0]
python = os.path.join(sys.argv[2], "bin", "python3")
launcher = ("#!{python}\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom {mod}.cli import main\n"
            "if __name__ == '__main__':\n"
            "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
            "    sys.exit(main())\n")
for p in range(300):
    name, mod = f"si-pkg{p}", f"si_pkg{p}"
    record = []
    def put(rel, text, mode=0o644):
        path = os.path.normpath(os.path.join(site, rel))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as out:
            out.write(text)
        os.chmod(path, mode)
        digest = hashlib.sha256(text.encode()).hexdigest()
        record.append(f"{rel},sha256={digest},{len(text)}")
    for sub in ("", "sub/", "tests/"):
        for m in ("__init__", "core", "util", "cli"):
            put(f"{mod}/{sub}{m}.py", f"# {name} {m}\nVALUE = {p}\n" * 40)
    put(f"../../../bin/{name}", launcher.format(python=python, mod=mod), 0o755)
    if p % 30 == 0:
        put(f"{mod}-paths.pth", f"{site}/{mod}/sub\n")
    info = f"{mod}-1.0.dist-info"
    for meta in ("METADATA", "WHEEL", "INSTALLER", "entry_points.txt", "top_level.txt"):
        put(f"{info}/{meta}", f"Name: {name}\nVersion: 1.0\n")
    record.append(f"{info}/RECORD,,")
    with open(os.path.join(site, info, "RECORD"), "w") as out:
        out.write("\n".join(record) + "\n")
PY
  touch "$VENV_TREE/.complete"
}

# measure LABEL TREE PROJECT PROFILE: the driver once with the check repeated in-process (its
# medians in WORK/LABEL.log), then hyperfine of the driver with one check and without.
measure() {
  local label="$1" tree="$2" project="$3" profile="$4"
  mkdir -p "$project"
  local common="'$driver' --upper '$tree' --project '$project' --profile '$profile'"
  "$driver" --upper "$tree" --project "$project" --profile "$profile" --repeat "$REPEAT" \
    --log "$work/$label.log" >/dev/null
  hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$RESULT_DIR/p7-$label.json" \
    --command-name "$label without check" "$common --skip-check" \
    --command-name "$label with check" "$common" >&2
}

main() {
  require_tools hyperfine cmake "$PYTHON"
  build_driver
  npm_tree
  venv_tree
  work=$(mktemp -d "${TMPDIR:-/tmp}/p7-work.XXXXXX")
  mkdir -p "$RESULT_DIR"
  echo "p7-autorun: npm tree: $npm_source; $RUNS runs each, the check $REPEAT times per run;" \
    "load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs" >&2
  measure npm "$NPM_TREE" "$work/npm-project" "$REPO_ROOT/profiles/npm.toml"
  measure venv "$VENV_TREE" "$VENV_PROJECT" "$REPO_ROOT/profiles/pip.toml"

  "$PYTHON" - "$work" "$RESULT_DIR" <<'PY'
import json, statistics, sys
work, results = sys.argv[1], sys.argv[2]
summary, worst, worst_cpu = {}, 0.0, 0.0
for label, name in (("npm", "npm-axios-1.7.9 node_modules"), ("venv", "venv, 300 distributions")):
    line = json.loads(open(f"{work}/{label}.log").read().splitlines()[-1])
    runs = {r["command"]: statistics.median(r["times"])
            for r in json.load(open(f"{results}/p7-{label}.json"))["results"]}
    delta = (runs[f"{label} with check"] - runs[f"{label} without check"]) * 1e3
    check, cpu = line["check_ms_median"], line["check_cpu_ms_median"]
    worst, worst_cpu = max(worst, check), max(worst_cpu, cpu)
    summary[label] = {"changes": line["changes"], "findings": line["findings"],
                      "check_ms_median": check, "check_cpu_ms_median": cpu,
                      "check_ms_max": line["check_ms_max"], "list_ms": line["list_ms"],
                      "whole_process_delta_ms": delta}
    print(f"P7 auto-run check, {name}: {check:.2f} ms wall, {cpu:.2f} ms CPU (medians; wall max "
          f"{line['check_ms_max']:.2f}) over {line['changes']} changes, {line['findings']} "
          f"findings; listing them took {line['list_ms']:.0f} ms")
    print(f"  whole driver with one check - without (hyperfine medians; the listing's own spread "
          f"is larger under load): {delta:+.1f} ms")
def met(ms):
    return "met" if ms <= 10 else "missed"
print(f"P7: the auto-run check adds at most {worst:.2f} ms wall, {worst_cpu:.2f} ms CPU to the "
      f"verdict (goal <= 10 ms: {met(worst)} in wall time, {met(worst_cpu)} in CPU time; wall "
      f"time grows with the machine's load)")
json.dump(summary, open(f"{results}/p7-autorun-summary.json", "w"), indent=2)
PY
  echo "raw results: $RESULT_DIR/p7-npm.json $RESULT_DIR/p7-venv.json"
}

main "$@"
