#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, a format check, a normal build with every test,
# the libFuzzer targets for a minute each, then a build with AddressSanitizer +
# UndefinedBehaviorSanitizer running the same tests again.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

jobs=$(nproc 2>/dev/null || echo 2)

build_and_test() {
  local dir=$1; shift
  echo "== configure and build: $dir $*"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  echo "== test: $dir"
  # Unprivileged variants switch to uid 65534: the build tree must be readable by it.
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 300
}

bash scripts/setup.sh
echo "== format: every C++ file as .clang-format says"
git ls-files -z '*.cpp' '*.h' | xargs -0 clang-format --dry-run --Werror
build_and_test build
if [ "${SAFEINSTALL_FUZZ_SECONDS:-60}" != 0 ]; then
  echo "== fuzz: each target for ${SAFEINSTALL_FUZZ_SECONDS:-60} s"
  ./fuzz/run.sh "${SAFEINSTALL_FUZZ_SECONDS:-60}"
fi
if [ "${SAFEINSTALL_SKIP_SANITIZERS:-0}" != 1 ]; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
    build_and_test build-sanitize -DSAFEINSTALL_SANITIZE=ON
fi
