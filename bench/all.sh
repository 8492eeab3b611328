#!/usr/bin/env bash
# Every figure in one go: runs each bench/pN-*.sh in turn (each builds what it needs and
# pairs safeinstall with its baseline in one alternating run), keeps each one's whole output
# in $BUILD_DIR/bench/<script>.log, and ends with one table: the figure lines each script
# printed (its verdict against the goal included) and how long the script took.
#
# Usage: bench/all.sh [SCRIPT...]     (default: every bench/p*.sh; e.g. bench/all.sh p1 p2b)
# Takes about 60-80 minutes on a 2-core machine with a warm npm cache, most of it P2, P2b and
# P3 (the axios fixture installed, removed and promoted many times), P4 (1 GiB transfers) and
# P10 (a million files made, listed, promoted and removed, three times each way).
# P2 and P2b need registry.npmjs.org; a script that fails is listed as failed, and the others
# still run.
set -uo pipefail

BENCH_NAME=all
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

scripts_to_run() {
  local name
  if [ "$#" -eq 0 ]; then
    ls "$REPO_ROOT"/bench/p*.sh
    return
  fi
  for name in "$@"; do
    compgen -G "$REPO_ROOT/bench/$name-*.sh" || die "no bench/$name-*.sh"
  done
}

main() {
  local logs="$BUILD_DIR/bench"
  mkdir -p "$logs"
  local table=() script name log started seconds status
  while read -r script; do
    name=$(basename "$script" .sh)
    log="$logs/$name.log"
    echo "== $name (log: $log)" >&2
    started=$(date +%s)
    "$script" >"$log.out" 2>"$log"
    status=$?
    seconds=$(($(date +%s) - started))
    cat "$log.out" >>"$log"
    if [ "$status" -ne 0 ]; then
      table+=("$name|FAILED (exit $status): $(tail -n 1 "$log" | cut -c1-100)|${seconds}s")
    else
      while IFS= read -r line; do
        table+=("$name|$line|${seconds}s")
      done < <(grep -E '^P[0-9]' "$log.out")
    fi
    rm -f "$log.out"
  done < <(scripts_to_run "$@")
  echo
  printf '%-20s %-8s %s\n' script took figure
  local row
  for row in "${table[@]}"; do
    IFS='|' read -r name line seconds <<<"$row"
    printf '%-20s %-8s %s\n' "$name" "$seconds" "$line"
  done
}

main "$@"
