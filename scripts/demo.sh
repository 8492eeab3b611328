#!/usr/bin/env bash
# The demo: a package whose postinstall script behaves like install-time malware
# (examples/hostile-postinstall) is installed with `safeinstall -- npm install`, then the host
# side is checked: the attacker's listener, the fake home, the system directories, the process
# table. Exits non-zero if anything leaked or the host changed. Re-runnable: everything it
# creates lives in one temp dir, removed on exit together with the listener.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT
readonly EXAMPLE="$REPO_ROOT/examples/hostile-postinstall"
readonly BUILD_DIR="${SAFEINSTALL_BUILD_DIR:-$REPO_ROOT/build}" # overridable for a scratch build
readonly SAFEINSTALL="$BUILD_DIR/safeinstall"
readonly PYTHON=/usr/bin/python3 # Debian's, stdlib only: not whatever pyenv puts first on PATH
readonly EXFIL_PORT=8765         # steal.js falls back to this when $DEMO_EXFIL_PORT is withheld
readonly MINER_MARK=safeinstall-demo-miner # in the miner's command line, for pgrep
readonly DROPPED_FILES=(/usr/local/bin/evil /etc/cron.d/evil)
readonly DEMO_SOCKET=/run/safeinstall-demo.sock # a host daemon's socket, as steal.js expects
readonly FAKE_SECRET_VARS=(GITHUB_TOKEN NPM_TOKEN AWS_SECRET_ACCESS_KEY DEMO_EXFIL_PORT)

work=""
listener_pid=""
problems=0

if [ -t 1 ]; then bold=$'\e[1m' red=$'\e[31m' green=$'\e[32m' plain=$'\e[0m'; else bold="" red="" green="" plain=""; fi

heading() { printf '\n%s== %s ==%s\n' "$bold" "$*" "$plain"; }
ok() { printf '  %sok%s    %s\n' "$green" "$plain" "$*"; }
problem() { printf '  %sFAIL%s  %s\n' "$red" "$plain" "$*"; problems=$((problems + 1)); }
die() { printf '%sdemo: %s%s\n' "$red" "$*" "$plain" >&2; exit 1; }

cleanup() {
  if [ -n "$listener_pid" ]; then kill "$listener_pid" 2>/dev/null || true; fi
  rm -f -- "$DEMO_SOCKET"
  if [ -n "$work" ]; then rm -rf -- "$work"; fi
}
trap cleanup EXIT

# "absent", or the file's checksum and mtime: rewriting a file with the same bytes still shows.
fingerprint() {
  if [ -e "$1" ]; then
    printf '%s %s\n' "$(sha256sum <"$1" | cut -c1-16)" "$(stat -c %y "$1")"
  else
    echo absent
  fi
}

# Names, sizes and mtimes of everything in a directory tree, as one checksum.
tree_fingerprint() {
  (cd "$1" && find . -printf '%p %s %T@\n' | LC_ALL=C sort | sha256sum | cut -c1-16)
}

demo_miner_pids() { pgrep -f "$MINER_MARK" || true; }

build_safeinstall() {
  local log="$work/build.log" started=$SECONDS
  # Configure only a fresh tree: an existing build/ keeps its own settings (other targets, tests).
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    cmake -S "$REPO_ROOT" -B "$BUILD_DIR" -G Ninja -DSAFEINSTALL_TESTS=OFF >"$log" 2>&1 ||
      { cat "$log"; die "cmake configure failed"; }
  fi
  cmake --build "$BUILD_DIR" --target safeinstall >>"$log" 2>&1 || { cat "$log"; die "build failed"; }
  echo "  built $SAFEINSTALL in $((SECONDS - started)) s"
}

make_fake_home() {
  local home=$1
  mkdir -p "$home/.ssh"
  chmod 700 "$home/.ssh"
  printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nRkFLRSBERU1PIEtFWSwgTk9UIEEgUkVBTCBLRVk=\n-----END OPENSSH PRIVATE KEY-----\n' \
    >"$home/.ssh/id_ed25519"
  chmod 600 "$home/.ssh/id_ed25519"
  echo '//registry.npmjs.org/:_authToken=npm_DEMO0000000000000000000000000000fake' >"$home/.npmrc"
  printf '# ~/.bashrc of the safeinstall demo'"'"'s fake home\nalias ll="ls -l"\n' >"$home/.bashrc"
}

# The attacker: an HTTP server on the host's loopback that logs every connection and request.
start_listener() {
  local log=$1
  # shellcheck disable=SC2016 # the ${...} are JavaScript template literals
  node -e '
    const [log, port, socket] = process.argv.slice(1);
    const fs = require("node:fs"), http = require("node:http");
    const note = (line) => fs.appendFileSync(log, `${new Date().toISOString()} ${line}\n`);
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => { body += chunk; });
      req.on("end", () => { note(`${req.method} ${req.url} ${body.slice(0, 300)}`); res.end("thanks\n"); });
    });
    server.on("connection", (s) => note(`connection from ${s.remoteAddress}:${s.remotePort}`));
    server.listen(Number(port), "127.0.0.1", () => note("listening"));
    // A host daemon'"'"'s unix socket, as dbus or a database would have one under /run.
    const daemon = require("node:net").createServer((s) => note("unix socket connection"));
    try { fs.unlinkSync(socket); } catch {}
    daemon.listen(socket, () => fs.chmodSync(socket, 0o777));
  ' "$log" "$EXFIL_PORT" "$DEMO_SOCKET" 2>"$work/listener.err" &
  listener_pid=$!
  for _ in $(seq 50); do
    grep -q listening "$log" 2>/dev/null && break
    kill -0 "$listener_pid" 2>/dev/null || die "listener failed on 127.0.0.1:$EXFIL_PORT: $(cat "$work/listener.err")"
    sleep 0.1
  done
  grep -q listening "$log" 2>/dev/null || die "listener on 127.0.0.1:$EXFIL_PORT did not come up"
  # A probe from the host proves the log works, so an empty log later means nothing arrived.
  curl -sS -o /dev/null -X POST --data host-probe "http://127.0.0.1:$EXFIL_PORT/host-probe"
  grep -q host-probe "$log" || die "the listener did not log the host's probe"
}

# True if the report lists NAME among the DNS queries it refused.
dns_refused_in_report() {
  [ -s "$1" ] || return 1
  "$PYTHON" - "$1" "$2" <<'PY'
import json, sys
dns = json.load(open(sys.argv[1])).get("network", {}).get("dns", [])
sys.exit(0 if any(q.get("name", "").rstrip(".") == sys.argv[2] and not q.get("allowed") for q in dns) else 1)
PY
}

print_report_fields() {
  "$PYTHON" - "$1" "${FAKE_SECRET_VARS[*]}" <<'PY'
import json, sys, textwrap

report = json.load(open(sys.argv[1]))
planted = set(sys.argv[2].split())
dropped = report.get("env_dropped", [])
ours = sorted(planted & set(dropped))
others = len(dropped) - len(ours)
print(f"  verdict      {report.get('verdict')} (the command's exit code {report.get('exit_code')})")
for reason in report.get("verdict_reasons", []):
    print("  why          " + "\n               ".join(textwrap.wrap(reason, 84)))
for change in report.get("files", {}).get("project", []):
    if change.get("category") != "expected":
        print(f"  project      {change.get('category'):10} {change.get('change'):8} {change.get('path')}")
for change in report.get("files", {}).get("home", []):
    if "persistence" in change.get("flags", []):
        print(f"  home         persistence {change.get('path')}")
print(f"  env_dropped  {', '.join(ours) or 'none of the planted secrets!'} + {others} more of this host's")
survivors = [p for p in report.get("processes", []) if p.get("survived")]
for p in survivors:
    print(f"  survivor     pid {p['pid']}: {' '.join(p.get('argv', []))}")
if not survivors:
    print("  survivor     none reported")
network = report.get("network", {})
refused = sorted({q.get("name", "") for q in network.get("dns", []) if not q.get("allowed")})
print(f"  dns refused  {', '.join(refused) or 'none recorded'}")
violations = report.get("violations", [])
for v in violations:
    lines = textwrap.wrap(f"{v.get('kind')}: {v.get('detail')}", 84)
    print("  violation    " + "\n               ".join(lines))
if not violations:
    print("  violations   none")
PY
}

main() {
  heading "1/5 Set up and build"
  bash "$REPO_ROOT/scripts/setup.sh"
  work=$(mktemp -d "${TMPDIR:-/tmp}/safeinstall-demo.XXXXXX")
  build_safeinstall

  heading "2/5 Stage: a hostile package, a fake home full of secrets, an attacker"
  local project="$work/project" home="$work/home" attacker_log="$work/attacker.log"
  local report="$work/report.json" run_log="$work/run.log"
  cp -r "$EXAMPLE" "$project"
  rm -rf "$project/node_modules"
  touch "$project/ARMED" # steal.js's safety catch: it only runs in an armed copy
  make_fake_home "$home"
  start_listener "$attacker_log"
  echo "  project    $project (copy of examples/hostile-postinstall, postinstall: node steal.js)"
  echo "  fake home  $home: ~/.ssh/id_ed25519, ~/.npmrc (npm_DEMO… token), ~/.bashrc"
  echo "  fake env   ${FAKE_SECRET_VARS[*]}"
  echo "  attacker   listening on 127.0.0.1:$EXFIL_PORT and $DEMO_SOCKET on the host, logging to attacker.log"
  echo "  open fd    9 on the fake ~/.ssh/id_ed25519, as a careless shell leaves one"

  # What the host looks like before; compared after the run.
  local bashrc_before home_before miners_before attacker_lines_before
  bashrc_before=$(fingerprint "$home/.bashrc")
  home_before=$(tree_fingerprint "$home")
  miners_before=$(demo_miner_pids)
  attacker_lines_before=$(wc -l <"$attacker_log")
  local project_before
  project_before=$(tree_fingerprint "$project")
  local -A dropped_before
  for f in "${DROPPED_FILES[@]}"; do dropped_before[$f]=$(fingerprint "$f"); done

  heading "3/5 Run: safeinstall --report report.json -- npm install --no-audit --no-fund"
  local rc=0
  # Runs are kept (and staged), and the package cache lives, in dirs of the demo's own, not in
  # the fake home.
  (cd "$project" && env HOME="$home" SAFEINSTALL_STATE_DIR="$work/state" SAFEINSTALL_CACHE_DIR="$work/cache" \
    GITHUB_TOKEN=ghp_DEMO000000000000000000000000000fake \
    NPM_TOKEN=npm_DEMO0000000000000000000000000000fake \
    AWS_SECRET_ACCESS_KEY=DEMO/fake/wJalrXUtnFEMIK7MDENGbPxRfiCY \
    DEMO_EXFIL_PORT="$EXFIL_PORT" \
    "$SAFEINSTALL" --report "$report" -- npm install --no-audit --no-fund 9<"$home/.ssh/id_ed25519") 2>&1 |
    tee "$run_log" || rc=$?
  echo "  (safeinstall exited $rc; 121 means held as suspicious: nothing promoted, a human decides)"

  heading "4/5 What the host saw"
  if grep -q '^steal.js: done' "$run_log"; then
    ok "steal.js ran to the end"
  else
    problem "steal.js did not finish: nothing was shown"
  fi
  local leaks decoy file
  leaks=$(grep -c '^ *LEAKED' "$run_log" || true)
  # A credential file the sandbox planted as a decoy holds a fake made for this run, never the
  # host's: steal.js cannot tell, so its "LEAKED" there is the trap working, if the report
  # recorded the read.
  while read -r decoy; do
    [ -n "$decoy" ] || continue
    grep -q "^ *LEAKED *read $decoy " "$run_log" || continue
    file=${decoy/#\~/$home}
    if grep -q 'credential-read' "$report" && ! grep -qF "$(cat "$file" 2>/dev/null || echo none)" "$report"; then
      ok "steal.js read the decoy $decoy: a fake made for this run, not the host's; recorded as credential-read"
      leaks=$((leaks - 1))
    fi
  done < <("$PYTHON" -c 'import json, sys; print("\n".join(json.load(open(sys.argv[1]))["sandbox"].get("decoys", [])))' "$report")
  if [ "$leaks" -eq 0 ]; then ok "steal.js reported no LEAKED attempt"; else problem "steal.js reported $leaks LEAKED attempt(s)"; fi

  # An NXDOMAIN is fine only if safeinstall's DNS stub gave it (and so recorded the name).
  if grep -q '^ *ANSWERED .*exfil.example.invalid' "$run_log"; then
    if dns_refused_in_report "$report" exfil.example.invalid; then
      ok "the NXDOMAIN for exfil.example.invalid came from safeinstall's DNS stub (in the report)"
    else
      problem "a resolver answered exfil.example.invalid and the report does not show it refused"
    fi
  fi

  local arrived
  arrived=$(tail -n +"$((attacker_lines_before + 1))" "$attacker_log")
  if [ -z "$arrived" ]; then
    ok "attacker on 127.0.0.1:$EXFIL_PORT received nothing (its host probe was logged, so it was listening)"
  else
    problem "attacker received:"
    while IFS= read -r line; do printf '          %s\n' "$line"; done <<<"$arrived"
  fi

  local bashrc_after
  bashrc_after=$(fingerprint "$home/.bashrc")
  if [ "$bashrc_after" = "$bashrc_before" ]; then
    ok "fake home's ~/.bashrc unchanged (sha256 ${bashrc_after%% *}…); steal.js wrote to a throwaway copy"
  else
    problem "fake home's ~/.bashrc changed: $bashrc_before -> $bashrc_after"
  fi
  if [ "$(tree_fingerprint "$home")" = "$home_before" ]; then
    ok "nothing else in the fake home changed"
  else
    problem "the fake home changed"
  fi

  if [ "$(tree_fingerprint "$project")" = "$project_before" ]; then
    ok "the project is untouched: the run's writes (.github/workflows too) stayed in its staging dir"
  else
    problem "the project changed before anyone approved it"
  fi
  if [ "$rc" -eq 121 ]; then
    ok "the run was held as suspicious (exit 121): \`safeinstall promote RUN_ID\` or \`discard\` decides"
  else
    problem "expected the run to be held as suspicious (exit 121), got exit $rc"
  fi

  for f in "${DROPPED_FILES[@]}"; do
    local after
    after=$(fingerprint "$f")
    if [ "$after" = "${dropped_before[$f]}" ]; then
      ok "$f: ${after%% *}, as before"
    else
      problem "$f changed: ${dropped_before[$f]} -> $after"
      # Put the host back the way the demo found it.
      [ "${dropped_before[$f]}" = absent ] && rm -f -- "$f" && echo "          removed it again"
    fi
  done

  local new_miners=()
  for pid in $(demo_miner_pids); do
    grep -qxF "$pid" <<<"$miners_before" || new_miners+=("$pid")
  done
  if [ "${#new_miners[@]}" -eq 0 ]; then
    ok "no miner process left on the host (pgrep -f $MINER_MARK)"
  else
    problem "miner still running on the host: pid ${new_miners[*]}; killing it"
    kill "${new_miners[@]}" 2>/dev/null || true
  fi

  heading "5/5 From the report ($(basename "$report")), and the run kept for a human"
  if [ -s "$report" ]; then print_report_fields "$report"; else problem "no report written"; fi
  echo "  \$ safeinstall runs"
  SAFEINSTALL_STATE_DIR="$work/state" "$SAFEINSTALL" runs | sed 's/^/  /'

  echo
  if [ "$problems" -eq 0 ]; then
    printf '%s%sContained: nothing leaked, the host is unchanged, and the project waits for a human.%s\n' "$bold" "$green" "$plain"
  else
    printf '%s%s%d problem(s): see FAIL above.%s\n' "$bold" "$red" "$problems" "$plain"
    exit 1
  fi
}

main "$@"
