#!/usr/bin/env bash
# Figure P6: what profile resolution and configuration layering add to a run.
# `safeinstall --profile npm -- true` with one layer (the built-in profiles only) against the
# same command with every layer present: /etc/safeinstall (base.toml + npm.toml), the user's
# ~/.config/safeinstall (base.toml + npm.toml), the project's .safeinstall.toml, and
# configuration for registry discovery and carry-over (project and user .npmrc with tokens).
# Both in one hyperfine run, alternating, so they see the same machine.
# Goal: many layers − one layer <= 1 ms.
#
# Usage: bench/p6-profiles.sh          (from any directory)
# Environment: P6_RUNS (30), SAFEINSTALL_BUILD_DIR (<repo>/build).
set -euo pipefail

BENCH_NAME=p6-profiles
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
readonly RUNS="${P6_RUNS:-30}"
readonly SAFEINSTALL="$BUILD_DIR/safeinstall"

require_tools hyperfine
[ -x "$SAFEINSTALL" ] || die "$SAFEINSTALL not built (cmake --build $BUILD_DIR)"

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

# One layer: empty system and user directories, a project without .safeinstall.toml.
mkdir -p "$work/one/etc" "$work/one/home/.config" "$work/one/project"

# Many layers.
many="$work/many"
mkdir -p "$many/etc" "$many/home/.config/safeinstall" "$many/project"
cat >"$many/etc/base.toml" <<'TOML'
[env]
allow = ["CORP_*"]
[filesystem]
hide = ["/srv/corp-secrets"]
TOML
cat >"$many/etc/npm.toml" <<'TOML'
[network]
allow = ["npm.corp.example"]
[env.set]
npm_config_strict_ssl = "true"
TOML
cat >"$many/home/.config/safeinstall/base.toml" <<'TOML'
[limits]
processes = 2048
TOML
cat >"$many/home/.config/safeinstall/npm.toml" <<'TOML'
scripts = "none"
[files]
expected = ["dist/**"]
TOML
cat >"$many/project/.safeinstall.toml" <<'TOML'
[network]
allow = ["mirror.corp.example"]
[files]
expected = ["packages/*/node_modules/**"]
TOML
printf 'registry=https://npm.corp.example/\n@acme:registry=https://acme.example/\n' >"$many/project/.npmrc"
printf 'registry=https://npm.corp.example/\n//npm.corp.example/:_authToken=npm_bench\n' >"$many/home/.npmrc"

run_in() { # dir → the command hyperfine runs
  printf 'env -C %q SAFEINSTALL_SYSTEM_DIR=%q HOME=%q XDG_CONFIG_HOME= CI=true %q -q --profile npm -- true' \
    "$1/project" "$1/etc" "$1/home" "$SAFEINSTALL"
}

# Both must work before they are timed.
for layout in one many; do
  eval "$(run_in "$work/$layout")" || die "the $layout-layer run failed"
done

# Resolution and layering alone, without the sandbox's own variance: `profiles show npm`.
show_in() {
  printf 'env -C %q SAFEINSTALL_SYSTEM_DIR=%q HOME=%q XDG_CONFIG_HOME= %q profiles show npm' \
    "$1/project" "$1/etc" "$1/home" "$SAFEINSTALL"
}

json="$work/p6.json"
hyperfine --warmup 3 --runs "$RUNS" --export-json "$json" \
  -n "one layer" "$(run_in "$work/one")" \
  -n "many layers" "$(run_in "$many")" \
  -n "show, one layer" "$(show_in "$work/one")" \
  -n "show, many layers" "$(show_in "$many")" >&2

/usr/bin/python3 - "$json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
def line(label, one, many):
    print(f"{label}: one layer median {one['median']*1000:.2f} ms (mean {one['mean']*1000:.2f}), "
          f"many layers median {many['median']*1000:.2f} ms (mean {many['mean']*1000:.2f}); "
          f"added {(many['median']-one['median'])*1000:+.2f} ms median "
          f"({(many['mean']-one['mean'])*1000:+.2f} ms mean), ratio {many['median']/one['median']:.3f}")
line("P6 safeinstall --profile npm -- true", results["one layer"], results["many layers"])
line("P6 profiles show npm (resolution only)", results["show, one layer"], results["show, many layers"])
print("goal: <= 1 ms added")
PY
