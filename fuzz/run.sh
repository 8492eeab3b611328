#!/usr/bin/env bash
# Builds the libFuzzer targets in a separate clang build directory and runs each one for
# SECONDS (default 60), starting from the seeds in fuzz/seeds. Exits non-zero if any
# target finds a crash; reproducers land in $FUZZ_BUILD_DIR/artifacts.
#
#   fuzz/run.sh 60                       # what CI runs
#   FUZZ_BUILD_DIR=/tmp/f fuzz/run.sh 10
#   build-fuzz/fuzz_dns_message build-fuzz/artifacts/crash-...   # replay a finding
#
# Needs clang 16 and its libFuzzer runtime (apt-get install clang-16 libclang-rt-16-dev):
# clang 14 cannot compile libstdc++ 12's std::expected. Set CXX to use another clang.
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
targets=(fuzz_http_proxy_request fuzz_dns_message fuzz_tls_client_hello fuzz_lockfiles
         fuzz_project_configs)

compiler="${CXX:-}"
if [[ -z "$compiler" || "$compiler" != *clang* ]]; then
  compiler="$(command -v clang++-16 || true)"
fi
if [[ -z "$compiler" ]]; then
  echo "fuzz/run.sh: clang++-16 not found; apt-get install clang-16 libclang-rt-16-dev" >&2
  exit 2
fi

cmake -S "$root/fuzz" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$compiler" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" "${targets[@]}"

mkdir -p "$build/artifacts"
status=0
for target in "${targets[@]}"; do
  corpus="$build/corpus/$target"
  mkdir -p "$corpus"
  cp -n "$root/fuzz/seeds/$target/"* "$corpus/" 2>/dev/null || true
  options=(-max_total_time="$seconds" -max_len=20000 -timeout=10 -rss_limit_mb=2048
           -print_final_stats=1 -artifact_prefix="$build/artifacts/$target-")
  if [[ "$target" == fuzz_http_proxy_request ]]; then
    options+=(-dict="$root/fuzz/http.dict")
  fi
  echo "== $target for ${seconds}s"
  if ! "$build/$target" "${options[@]}" "$corpus" >"$build/$target.log" 2>&1; then
    echo "!! $target failed; see $build/$target.log and $build/artifacts/" >&2
    tail -n 40 "$build/$target.log" >&2
    status=1
  fi
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)|Done [0-9]+ runs" "$build/$target.log" || true
  echo "   corpus: $(find "$corpus" -type f | wc -l) inputs"
done
exit "$status"
