#!/usr/bin/env bash
# Figure P10: safeinstall's own memory and time on a very large staged tree. A synthetic
# project whose command (a short Python generator, run inside the sandbox) writes
# P10_ENTRIES entries under out/: P10_ENTRIES / 100 directories of 99 empty files each. Run as
#
#   safeinstall --files <2 x entries> --expect 'out/**' -q -- python3 -c <generator>
#
# it is promoted (every change expected), so the change list of all the entries, the verdict,
# the report and the promotion all run. Measured, in rounds that alternate with the same
# generator run bare (the baseline):
#
# 1. safeinstall's peak RSS: VmHWM of the safeinstall process (the supervisor, which lists,
#    judges and promotes the changes after the command), sampled every 10 ms until it exits.
#    The sandbox's processes are separate processes and not counted. Goal <= 64 MiB; the
#    change list is most of it (32 bytes a change, and each path's text once in the list's
#    arena: 45 MiB of the 57 MiB measured for a million entries of 14 characters).
#    /usr/bin/time -v's "Maximum resident set size" is printed too: it is the largest of
#    safeinstall and every process it waited for (the sandbox's init, the generator).
# 2. the time after the command: from the generator's last write (it prints the time) to
#    safeinstall's exit — change list, verdict, report and promotion.
# 3. the whole run's wall time against the bare generator's.
#
# Usage: bench/p10-large-tree.sh
# Environment: P10_ENTRIES (1000000), P10_ROUNDS (3), P10_DIR (a directory on the filesystem
# to measure, /tmp), SAFEINSTALL_BUILD_DIR (<repo>/build).
set -euo pipefail

BENCH_NAME=p10-large-tree
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
readonly SAFEINSTALL="${P10_SAFEINSTALL:-$BUILD_DIR/safeinstall}"
readonly ENTRIES="${P10_ENTRIES:-1000000}"
readonly ROUNDS="${P10_ROUNDS:-3}"
readonly FILES_PER_DIR=99

# Makes out/dNNNNN/fNN; prints the wall-clock time of its last write, as seconds since the
# epoch (the sandbox shares the host's clock).
readonly GENERATOR='
import os, sys, time
dirs, per_dir = int(sys.argv[1]), int(sys.argv[2])
os.mkdir("out")
for d in range(dirs):
    base = f"out/d{d:05d}"
    os.mkdir(base)
    for f in range(per_dir):
        os.close(os.open(f"{base}/f{f:02d}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
print(f"{time.time():.6f}")
'

require_tools /usr/bin/time python3 "$PYTHON"
BENCH_BINARIES=("$SAFEINSTALL")
build_targets safeinstall
make_work_dir "${P10_DIR:-/tmp}" si-p10
readonly DIRS=$((ENTRIES / (FILES_PER_DIR + 1)))

# Runs "$@" (/usr/bin/time -v running safeinstall) in the background, its output into OUT,
# sampling the VmHWM of its child safeinstall every 10 ms; prints "<peak KiB>".
sampled_peak() { # OUT COMMAND...
  local out=$1
  shift
  (exec "$@" >"$out") &
  local pid=$! peak=0 hwm child=""
  while kill -0 "$pid" 2>/dev/null; do
    if [ -z "$child" ]; then child=$(pgrep -P "$pid" -x "$(basename "$SAFEINSTALL" | cut -c1-15)" || true); fi
    if [ -n "$child" ]; then
      hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$child/status" 2>/dev/null || true)
      if [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ]; then peak=$hwm; fi
    fi
    sleep 0.01
  done
  wait "$pid" || die "'$*' failed"
  echo "$peak"
}

# One run in a fresh project: prints "<wall s> <after-command s> <peak KiB> <time -v KiB>".
run_once() {
  local way=$1 project="$work/project" started ended last peak=0 time_rss
  rm -rf "$project"
  mkdir "$project"
  cd "$project"
  started=$(date +%s.%N)
  case "$way" in
    bare) /usr/bin/time -v -o "$work/time.txt" python3 -c "$GENERATOR" "$DIRS" "$FILES_PER_DIR" \
      >"$work/generator.out" ;;
    safeinstall)
      peak=$(sampled_peak "$work/generator.out" /usr/bin/time -v -o "$work/time.txt" \
        "$SAFEINSTALL" -q --files $((ENTRIES * 2)) --report "$work/report.json" \
        --expect 'out/**' -- python3 -c "$GENERATOR" "$DIRS" "$FILES_PER_DIR")
      ;;
  esac
  ended=$(date +%s.%N)
  cd "$work"
  last=$(tail -n 1 "$work/generator.out")
  local made
  made=$(find "$project/out" | wc -l)
  [ "$made" -eq $((DIRS * (FILES_PER_DIR + 1) + 1)) ] ||
    die "$way: $made entries in out/, expected $((DIRS * (FILES_PER_DIR + 1) + 1))"
  time_rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  echo "$(echo "$ended - $started" | bc) $(echo "$ended - $last" | bc) $peak $time_rss"
  # The promoted tree is removed outside the timed part.
  rm -rf "$project"
}

rows="$work/rows"
: >"$rows"
echo "$BENCH_NAME: $DIRS directories of $FILES_PER_DIR files, $ROUNDS rounds" >&2
for round in $(seq 1 "$ROUNDS"); do
  for way in bare safeinstall; do
    result=$(run_once "$way")
    echo "$round $way $result" >>"$rows"
    echo "$BENCH_NAME: round $round/$ROUNDS $way: $result" >&2
  done
done

"$PYTHON" - "$rows" "$ENTRIES" "$(uptime | sed 's/.*load average: //')" <<'PY'
import statistics, sys
rows, entries, load = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = {}
for line in open(rows):
    rnd, way, wall, after, peak, time_rss = line.split()
    data.setdefault(way, {})[int(rnd)] = (float(wall), float(after), int(peak), int(time_rss))
si, bare = data["safeinstall"], data["bare"]
ratios = [si[r][0] / bare[r][0] for r in sorted(si)]
median = lambda xs: statistics.median(xs)
peak = max(v[2] for v in si.values())
after = median([v[1] for v in si.values()])
print(f"P10 detail: wall safeinstall {median([v[0] for v in si.values()]):.1f} s, bare "
      f"{median([v[0] for v in bare.values()]):.1f} s; rounds {', '.join(f'{r:.2f}' for r in ratios)}; "
      f"time -v max RSS {max(v[3] for v in si.values()) / 1024:.1f} MiB; load {load}")
print(f"P10 {entries:,} staged entries: safeinstall peak RSS {peak / 1024:.1f} MiB "
      f"(goal <= 64 MiB, {'met' if peak <= 64 * 1024 else 'missed'}); after the command "
      f"(change list, verdict, report, promotion) {after:.2f} s; whole run "
      f"{median(ratios):.2f}x bare")
PY
