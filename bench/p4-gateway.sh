#!/usr/bin/env bash
# Figure P4: what the egress gateway costs. In a network namespace of its own (loopback only,
# so nothing here touches the host's network), si-registry serves HTTP on 127.0.0.1:80 and
# si-fake-dns answers bench.test -> 127.0.0.1 for the gateway's resolver. Then, in rounds
# that alternate the three ways so load drift on a shared machine is not charged to one side:
#
#   direct       curl http://127.0.0.1/blob/N          outside the sandbox
#   proxy        safeinstall -- curl http://bench.test/blob/N          (HTTP_PROXY -> gateway)
#   transparent  safeinstall -- curl --noproxy '*' http://bench.test/blob/N   (DNS stub ->
#                fake address -> transparent relay)
#
# 1. throughput of one 1 GiB download (curl's own speed_download, so sandbox set-up is not
#    counted): the median of the per-round gateway/direct ratios, and the lowest round.
#    Goal >= 0.95 in every round.
#    On bare loopback this is a CPU race: direct is two processes copying, the gateway path
#    adds a third and a second TCP connection on a machine with few cores. So it is measured
#    twice: on bare loopback (the worst case), and with the server behind a link of
#    P4_LINK_RATE (tc tbf on the namespace's loopback: direct and the gateway's upstream side
#    are shaped alike, the sandbox's own loopback is not), as a registry on a network is.
# 2. connection set-up: 1,000 sequential requests for an empty body, each on a new connection
#    (Connection: close) in one curl process; the median of curl's time_total, gateway/direct.
#    Goal <= 1.5. Also the supervisor's CPU time per request: each request waits for all of it
#    (the recorded connect, the accept, the second connection, both relays), so it is the
#    floor of the difference between the two.
# 3. the gateway's peak RSS during the 1 GiB runs: VmHWM of the safeinstall process (the
#    supervisor, which serves the gateway; `ip netns exec` execs it, so $! is its pid), sampled
#    until it exits. The sandbox's processes (curl) are separate processes and not counted.
#    Goal <= 16 MiB. Also its CPU time (utime + stime of that process) per GiB, and how long
#    it waited, runnable, for a CPU (/proc/<pid>/schedstat): on a loaded machine the relay is
#    rarely waiting on a socket, it is waiting for its turn.
#
# The sandbox reaches 127.0.0.1 only because it is allowed exactly: --allow-host bench.test:80
# --allow-host 127.0.0.1:80 (loopback is refused as private-address otherwise).
#
# Usage: sudo bench/p4-gateway.sh      (root: it creates a network namespace)
# Environment: P4_BYTES (1073741824), P4_ROUNDS (5), P4_REQUESTS (1000), P4_LINK_RATE (4gbit,
# a tc rate; empty: no shaped run), P4_LINK_ROUNDS (3), P4_SAFEINSTALL (a binary to measure
# instead of the build's, for A/B comparisons), SAFEINSTALL_BUILD_DIR (<repo>/build).
set -euo pipefail

BENCH_NAME=p4-gateway
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
readonly SAFEINSTALL="${P4_SAFEINSTALL:-$BUILD_DIR/safeinstall}"
readonly REGISTRY="$BUILD_DIR/tests/support/si-registry"
readonly FAKE_DNS="$BUILD_DIR/tests/support/si-fake-dns"
# What /proc/<pid>/comm says for the supervisor: the binary's name, cut to 15 characters.
SUPERVISOR_COMM="$(basename "$SAFEINSTALL" | cut -c1-15)"
readonly SUPERVISOR_COMM
readonly BYTES="${P4_BYTES:-1073741824}"
readonly ROUNDS="${P4_ROUNDS:-5}"
readonly REQUESTS="${P4_REQUESTS:-1000}"
readonly LINK_RATE="${P4_LINK_RATE-4gbit}"
readonly LINK_ROUNDS="${P4_LINK_ROUNDS:-3}"
readonly RESULT_JSON="$BUILD_DIR/bench/p4-gateway.json"
readonly NS="si-p4-$$"
readonly DNS_ADDRESS=127.0.0.53

work=""
server_pids=()
cleanup() {
  local pid
  for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${server_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "/etc/netns/$NS"
  if [ -n "$work" ]; then rm -rf -- "$work"; fi
}
trap cleanup EXIT

require_root_and_tools() {
  [ "$(id -u)" -eq 0 ] || die "needs root (it builds a network namespace with ip netns)"
  require_tools ip tc curl cmake "$PYTHON"
}

# Builds only what is stale or missing; a failed build with binaries present measures those,
# and says so.
in_ns() { ip netns exec "$NS" "$@"; }

# Starts a server in the namespace and waits for its "ready".
start_server() {
  local name=$1
  shift
  # exec: $! is then the server itself (`ip netns exec` execs it too), for cleanup to stop.
  (exec ip netns exec "$NS" "$@" >"$work/$name.out" 2>"$work/$name.err") &
  server_pids+=($!)
  local waited=0
  until grep -q '^ready$' "$work/$name.out" 2>/dev/null; do
    kill -0 "${server_pids[-1]}" 2>/dev/null || die "$name did not start: $(cat "$work/$name.err")"
    [ "$waited" -lt 200 ] || die "$name not ready after 10 s"
    sleep 0.05
    waited=$((waited + 1))
  done
}

setup_namespace() {
  ip netns add "$NS"
  ip -n "$NS" link set lo up
  # `ip netns exec` bind-mounts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf: the
  # gateway (in the namespace) resolves bench.test with the fake DNS server there.
  mkdir -p "/etc/netns/$NS"
  echo "nameserver $DNS_ADDRESS" >"/etc/netns/$NS/resolv.conf"
  start_server registry "$REGISTRY" --log "$work/registry.log" --bind 127.0.0.1 --http 80
  start_server dns "$FAKE_DNS" --log "$work/dns.log" --bind "$DNS_ADDRESS" \
    --answer bench.test=127.0.0.1
}

# safeinstall with the gateway allowing the benchmark host, its report in $work/report.json:
# "${GATEWAY[@]}" COMMAND...
GATEWAY=()
gateway() { "${GATEWAY[@]}" "$@"; }

# Runs "$@" (which must exec safeinstall: `ip netns exec` does) in the background, sampling
# that process every 20 ms until it exits; prints "<peak VmHWM KiB> <CPU ticks used> <ms
# waited for a CPU>" (the last samples of utime + stime and of schedstat's run-queue wait).
# Its stdout goes to $work/sampled.out. Fails when it does.
run_sampled() {
  (exec "$@" >"$work/sampled.out") &
  local pid=$! peak=0 ticks=0 waited=0 hwm now queued comm seen=""
  while kill -0 "$pid" 2>/dev/null; do
    comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
    if [ "$comm" = "$SUPERVISOR_COMM" ]; then
      seen=yes
      hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
      if [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ]; then peak=$hwm; fi
      # Fields after "pid (comm) ": state is the 1st, utime the 12th, stime the 13th.
      now=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12 + $13}' || true)
      if [ -n "$now" ]; then ticks=$now; fi
      queued=$(awk '{printf "%d", $2 / 1e6}' "/proc/$pid/schedstat" 2>/dev/null || true)
      if [ -n "$queued" ]; then waited=$queued; fi
    fi
    sleep 0.02
  done
  wait "$pid" || die "'$*' failed"
  [ -n "$seen" ] || die "never saw process $pid as $SUPERVISOR_COMM"
  echo "$peak $ticks $waited"
}

# One download of $BYTES: prints "<bytes/s> <peak KiB> <supervisor CPU ticks> <supervisor ms
# waited for a CPU>" (0 0 0 direct).
download() {
  local way=$1 url_direct="http://127.0.0.1/blob/$BYTES" url="http://bench.test/blob/$BYTES"
  local curl_args=(-sS -o /dev/null -w '%{speed_download} %{size_download}\n')
  local sampled="0 0 0" speed size
  case "$way" in
    direct) in_ns curl "${curl_args[@]}" "$url_direct" >"$work/sampled.out" ;;
    proxy) sampled=$(run_sampled "${GATEWAY[@]}" curl "${curl_args[@]}" "$url") ;;
    transparent) sampled=$(run_sampled "${GATEWAY[@]}" curl --noproxy '*' "${curl_args[@]}" "$url") ;;
  esac
  read -r speed size <"$work/sampled.out"
  [ "$size" = "$BYTES" ] || die "$way: downloaded $size bytes, not $BYTES"
  echo "$speed $sampled"
}

# $REQUESTS requests on fresh connections: prints the median of curl's time_total per request
# (s) -- the median, because on a shared machine a few requests stall for a scheduler tick --
# then "<peak KiB> <supervisor CPU ticks> <supervisor ms waited for a CPU>" (0 0 0 direct).
setup_cost() {
  local way=$1
  local curl_args=(-sS -H 'Connection: close' -w '%{time_total}\n')
  local range="[1-$REQUESTS]" sampled="0 0 0"
  case "$way" in
    direct) in_ns curl "${curl_args[@]}" "http://127.0.0.1/blob/0?$range" >"$work/sampled.out" ;;
    proxy)
      sampled=$(run_sampled "${GATEWAY[@]}" curl "${curl_args[@]}" \
        "http://bench.test/blob/0?$range")
      ;;
    transparent)
      sampled=$(run_sampled "${GATEWAY[@]}" curl --noproxy '*' "${curl_args[@]}" \
        "http://bench.test/blob/0?$range")
      ;;
  esac
  local count median
  count=$(wc -l <"$work/sampled.out")
  [ "$count" -eq "$REQUESTS" ] || die "$way: $count of $REQUESTS requests answered"
  median=$(sort -g "$work/sampled.out" |
    awk '{v[NR] = $1} END {printf "%.6f", v[int((NR + 1) / 2)]}')
  echo "$median $sampled"
}

# The gateway's own record of a set-up run: one outbound connection per request.
check_connections() {
  "$PYTHON" - "$work/report.json" "$REQUESTS" "$1" <<'PY'
import json, sys
report, requests, way = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
entries = [c for c in report["network"]["contacted"] if c["host"] == "bench.test"]
connections = sum(c["connections"] for c in entries)
if connections != requests or any(c["via"] != way for c in entries):
    sys.exit(f"p4-gateway: {way}: the report shows {entries}, expected {requests} connections")
PY
}

main() {
  require_root_and_tools
  BENCH_BINARIES=("$SAFEINSTALL" "$REGISTRY" "$FAKE_DNS")
  build_targets safeinstall si-registry si-fake-dns
  work=$(mktemp -d "${TMPDIR:-/tmp}/p4-gateway.XXXXXX")
  chmod 755 "$work"
  setup_namespace
  GATEWAY=(ip netns exec "$NS" "$SAFEINSTALL" --report "$work/report.json"
           --allow-host bench.test:80 --allow-host 127.0.0.1:80 -q --)
  # safeinstall refuses / and the home as a project: run from a throwaway one.
  mkdir "$work/project"
  cd "$work/project"
  mkdir -p "$(dirname "$RESULT_JSON")"

  # One small fetch each way first, so a broken set-up fails here with its own message.
  in_ns curl -sSf -o /dev/null http://127.0.0.1/blob/10 || die "direct fetch failed"
  gateway curl -sSf -o /dev/null http://bench.test/blob/10 || die "fetch via the proxy failed"
  gateway curl --noproxy '*' -sSf -o /dev/null http://bench.test/blob/10 ||
    die "fetch via the transparent relay failed"

  local rows="$work/rows"
  : >"$rows"
  local round way result
  # A warm-up of each way, not counted: the first runs pay for cold caches.
  for way in direct proxy transparent; do result=$(download "$way"); done
  for round in $(seq 1 "$ROUNDS"); do
    for way in direct proxy transparent; do
      # Assigned first: a failure inside $(...) then stops the script (set -e).
      result=$(download "$way")
      echo "$round throughput $way $result" >>"$rows"
    done
    echo "p4-gateway: round $round/$ROUNDS: throughput done" >&2
  done
  for way in direct proxy transparent; do result=$(setup_cost "$way"); done
  for round in $(seq 1 "$ROUNDS"); do
    for way in direct proxy transparent; do
      result=$(setup_cost "$way")
      echo "$round setup $way $result" >>"$rows"
      if [ "$way" != direct ]; then check_connections "$way"; fi
    done
    echo "p4-gateway: round $round/$ROUNDS: set-up done" >&2
  done
  if [ -n "$LINK_RATE" ]; then
    # The server behind a link: everything on the namespace's loopback is shaped, which is
    # direct's only hop and the gateway's upstream hop.
    ip netns exec "$NS" tc qdisc add dev lo root tbf rate "$LINK_RATE" burst 1mb latency 100ms
    for round in $(seq 1 "$LINK_ROUNDS"); do
      for way in direct proxy transparent; do
        result=$(download "$way")
        echo "$round link $way $result" >>"$rows"
      done
      echo "p4-gateway: round $round/$LINK_ROUNDS: $LINK_RATE link done" >&2
    done
  fi

  "$PYTHON" - "$rows" "$RESULT_JSON" "$BYTES" "$REQUESTS" "$LINK_RATE" <<'PY'
import json, os, statistics, sys

rows_path, out_path = sys.argv[1], sys.argv[2]
size, requests, link_rate = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
data = {}  # (kind, way) -> {round: (value, peak KiB, CPU ticks, ms waited for a CPU)}
for line in open(rows_path):
    rnd, kind, way, value, peak, ticks, waited = line.split()
    data.setdefault((kind, way), {})[int(rnd)] = (float(value), int(peak), int(ticks),
                                                  int(waited))
GATEWAY = ("proxy", "transparent")

def ratios(kind, way):
    """Per round: the gateway's figure over direct's (speed for downloads, time for set-up)."""
    by_round = data[(kind, "direct")]
    return [data[(kind, way)][r][0] / by_round[r][0] for r in sorted(by_round)]

def medians(kind):
    per_round = {w: ratios(kind, w) for w in GATEWAY}
    return {w: statistics.median(v) for w, v in per_round.items()}, per_round

def median_value(kind, way, index=0):
    return statistics.median(v[index] for v in data[(kind, way)].values())

tp_med, tp = medians("throughput")
su_med, su = medians("setup")
has_link = ("link", "direct") in data
link_med, link = medians("link") if has_link else ({}, {})
downloads = [v for (kind, _), by in data.items() if kind in ("throughput", "link")
             for v in by.values()]
peak_kib = max(v[1] for v in downloads)
tick = os.sysconf("SC_CLK_TCK")
cpu_per_gib = {w: median_value("throughput", w, 2) / tick / (size / 2**30) for w in GATEWAY}
wait_per_gib = {w: median_value("throughput", w, 3) / 1e3 / (size / 2**30) for w in GATEWAY}
# Per request, in ms: the supervisor's CPU time, and its time runnable without a CPU.
setup_cpu_ms = {w: median_value("setup", w, 2) / tick * 1e3 / requests for w in GATEWAY}
setup_wait_ms = {w: median_value("setup", w, 3) / requests for w in GATEWAY}
lowest = {w: min(tp[w]) for w in GATEWAY}
speeds = {w: median_value("throughput", w) for w in ("direct",) + GATEWAY}
link_speeds = {w: median_value("link", w) for w in ("direct",) + GATEWAY} if has_link else {}
setup_ms = {w: median_value("setup", w) * 1e3 for w in ("direct",) + GATEWAY}
json.dump({
    "bytes": size, "requests": requests, "rounds": len(data[("throughput", "direct")]),
    "throughput_bytes_per_s": speeds, "throughput_ratio": tp_med, "throughput_round_ratios": tp,
    "link_rate": link_rate if has_link else None, "link_bytes_per_s": link_speeds,
    "link_ratio": link_med, "link_round_ratios": link,
    "setup_ms_per_request": setup_ms, "setup_ratio": su_med, "setup_round_ratios": su,
    "gateway_peak_rss_kib": peak_kib, "gateway_cpu_s_per_gib": cpu_per_gib,
    "gateway_cpu_wait_s_per_gib": wait_per_gib, "setup_gateway_cpu_ms_per_request": setup_cpu_ms,
    "setup_gateway_cpu_wait_ms_per_request": setup_wait_ms,
}, open(out_path, "w"), indent=2)

gib = lambda b: b / 2**30
fmt = lambda xs: ", ".join(f"{x:.2f}" for x in xs)
print(f"P4 detail: loopback direct {gib(speeds['direct']):.2f} GiB/s, proxy "
      f"{gib(speeds['proxy']):.2f}, transparent {gib(speeds['transparent']):.2f} (medians of "
      f"{len(tp['proxy'])} rounds of {gib(size):.2f} GiB); supervisor CPU per GiB: proxy "
      f"{cpu_per_gib['proxy']:.2f} s, transparent {cpu_per_gib['transparent']:.2f} s, and "
      f"waiting for a CPU: proxy {wait_per_gib['proxy']:.2f} s, transparent "
      f"{wait_per_gib['transparent']:.2f} s")
if has_link:
    print(f"P4 detail: {link_rate} link direct {gib(link_speeds['direct']):.2f} GiB/s, proxy "
          f"{gib(link_speeds['proxy']):.2f}, transparent {gib(link_speeds['transparent']):.2f}")
print(f"P4 detail: per request direct {setup_ms['direct']:.3f} ms, proxy "
      f"{setup_ms['proxy']:.3f} ms, transparent {setup_ms['transparent']:.3f} ms; supervisor "
      f"CPU per request: proxy {setup_cpu_ms['proxy']:.3f} ms, transparent "
      f"{setup_cpu_ms['transparent']:.3f} ms, and waiting for a CPU: proxy "
      f"{setup_wait_ms['proxy']:.3f} ms, transparent {setup_wait_ms['transparent']:.3f} ms")
print(f"P4 rounds: loopback proxy {fmt(tp['proxy'])}; transparent {fmt(tp['transparent'])}"
      + (f"; link proxy {fmt(link['proxy'])}; transparent {fmt(link['transparent'])}"
         if has_link else "") +
      f"; set-up proxy {fmt(su['proxy'])}; transparent {fmt(su['transparent'])}")
met = lambda ok: "met" if ok else "missed"
line = (f"P4 throughput: proxy {tp_med['proxy']:.2f}, transparent {tp_med['transparent']:.2f} "
        f"on bare loopback, lowest rounds {lowest['proxy']:.2f} and {lowest['transparent']:.2f} "
        f"(goal >= 0.95 in every round, {met(min(lowest.values()) >= 0.95)})")
if has_link:
    line += (f"; behind a {link_rate} link proxy {link_med['proxy']:.2f}, transparent "
             f"{link_med['transparent']:.2f} ({met(min(link_med.values()) >= 0.95)})")
line += (f"; setup {requests} requests: proxy {su_med['proxy']:.1f}x direct, transparent "
         f"{su_med['transparent']:.1f}x direct (goal <= 1.5, "
         f"{met(max(su_med.values()) <= 1.5)}); gateway peak RSS {peak_kib / 1024:.1f} MiB "
         f"(goal <= 16 MiB, {met(peak_kib <= 16 * 1024)})")
print(line)
PY
  echo "raw results: $RESULT_JSON"
}

main "$@"
