# What every benchmark script needs before it measures: sourced by bench/pN-*.sh right after
# `set -euo pipefail`, with BENCH_NAME set (the prefix of its messages). Sets REPO_ROOT and
# BUILD_DIR (SAFEINSTALL_BUILD_DIR, else <repo>/build), PYTHON (Debian's, stdlib only) and
# FIXTURE (the npm-axios-1.7.9 project).
# shellcheck shell=bash disable=SC2034 # the variables are for the scripts that source this

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT
readonly BUILD_DIR="${SAFEINSTALL_BUILD_DIR:-$REPO_ROOT/build}"
readonly PYTHON=/usr/bin/python3
readonly FIXTURE="$REPO_ROOT/../shared/fixtures/npm-axios-1.7.9"

die() {
  echo "$BENCH_NAME: $*" >&2
  exit 1
}

require_tools() { # TOOL...
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "$tool not found; run scripts/setup.sh"
  done
}

# build_targets TARGET... — configures BUILD_DIR when needed (BENCH_CMAKE_FLAGS added) and
# builds the targets. When the build fails but every file in the array BENCH_BINARIES exists,
# those are measured after a warning that says how old they are; otherwise the script stops.
build_targets() {
  local log binary
  log=$(mktemp)
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    # shellcheck disable=SC2086 # BENCH_CMAKE_FLAGS is a list of words
    cmake -S "$REPO_ROOT" -B "$BUILD_DIR" -G Ninja ${BENCH_CMAKE_FLAGS:-} >"$log" 2>&1 ||
      { cat "$log"; rm -f "$log"; die "cmake configure failed"; }
  fi
  if cmake --build "$BUILD_DIR" --target "$@" >>"$log" 2>&1; then
    rm -f "$log"
    return 0
  fi
  if [ "${#BENCH_BINARIES[@]}" -eq 0 ]; then
    tail -n 5 "$log" >&2
    rm -f "$log"
    die "could not build $*"
  fi
  for binary in "${BENCH_BINARIES[@]}"; do
    if [ ! -x "$binary" ]; then
      tail -n 5 "$log" >&2
      rm -f "$log"
      die "could not build $*"
    fi
  done
  echo "$BENCH_NAME: WARNING: the build failed; measuring the existing binaries" >&2
  for binary in "${BENCH_BINARIES[@]}"; do
    echo "$BENCH_NAME:   $binary built $(stat -c %y "$binary")" >&2
  done
  tail -n 5 "$log" | sed 's/^/  /' >&2
  rm -f "$log"
}

# A work directory under DIR removed when the script exits; its path in $work.
work=""
remove_work_dir() {
  if [ -n "$work" ] && [ -d "$work" ]; then
    echo "$BENCH_NAME: removing $work" >&2
    # safeinstall's detached remover may still be emptying the state dir's trash: it moves
    # and deletes entries under rm's feet, so try again until nothing is left.
    local tries
    for tries in 1 2 3 4 5 6 7 8 9 10; do
      rm -rf -- "$work" 2>/dev/null
      [ -e "$work" ] || return 0
      sleep 1
    done
    echo "$BENCH_NAME: WARNING: $work could not be removed" >&2
  fi
}
make_work_dir() { # DIR PREFIX
  mkdir -p "$1"
  work=$(mktemp -d "$1/$2.XXXXXX")
  trap remove_work_dir EXIT
}

# A project holding the fixture's package.json and package-lock.json, writable.
make_fixture_project() { # DIR
  mkdir -p "$1"
  cp "$FIXTURE/package.json" "$FIXTURE/package-lock.json" "$1/"
  chmod u+w "$1"/package*.json
}
