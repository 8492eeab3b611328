#!/usr/bin/env bash
# Figure P8: what the package policy's known-bad check costs a run. A synthetic but
# realistic OSV database of 200,000 entries (mostly npm and PyPI, a share of them MAL-
# entries, every name of the axios fixture's lockfile among the npm ones, with versions and
# SEMVER/ECOSYSTEM ranges) is generated as OSV's all.zip, imported with `safeinstall db
# import`, and `safeinstall db check` checks the axios lockfile (package-lock.json v2, 2,107
# entries, 1,672 distinct versions) against it and against an empty database. The difference
# is what the lookups cost; the lockfile is read in both.
# Goal: big − empty <= 50 ms wall time and <= 8 MiB peak RSS.
#
# Usage: bench/p8-policy.sh          (from any directory)
# Environment: P8_ENTRIES (200000), P8_RUNS (20), SAFEINSTALL_BUILD_DIR (<repo>/build).
set -euo pipefail

BENCH_NAME=p8-policy
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
readonly ENTRIES="${P8_ENTRIES:-200000}"
readonly RUNS="${P8_RUNS:-20}"
readonly SAFEINSTALL="$BUILD_DIR/safeinstall"
readonly LOCKFILE="$FIXTURE/package-lock.json"

require_tools hyperfine /usr/bin/time
[ -x "$SAFEINSTALL" ] || die "$SAFEINSTALL not built (cmake --build $BUILD_DIR --target safeinstall)"
[ -f "$LOCKFILE" ] || die "$LOCKFILE missing"

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
# No imported database of the invoker's joins in.
export SAFEINSTALL_STATE_DIR="$work/state"

echo "$BENCH_NAME: generating $ENTRIES OSV entries"
"$PYTHON" - "$LOCKFILE" "$ENTRIES" "$work/all.zip" <<'PY'
import json, random, sys, zipfile
lockfile, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
random.seed(8)
lock = json.load(open(lockfile))
fixture_names = sorted({k.split("node_modules/")[-1] for k in lock["packages"] if k})
syll = ["re", "act", "lo", "dash", "ex", "press", "web", "pack", "es", "lint", "ba", "bel",
        "vue", "type", "script", "node", "fetch", "axi", "os", "core", "util", "json", "yaml",
        "py", "django", "flask", "num", "req", "uests", "boto", "aws", "cli", "test", "mock"]
def name(eco):
    n = "".join(random.choice(syll) for _ in range(random.randint(2, 4)))
    if eco == "npm" and random.random() < 0.2:
        n = "@" + random.choice(syll) + random.choice(syll) + "/" + n
    if eco == "PyPI" and random.random() < 0.3:
        n = n.capitalize() + random.choice(["_", "-", "."]) + random.choice(syll)
    if eco == "Go":
        n = "github.com/" + random.choice(syll) + "/" + n
    if eco == "Packagist":
        n = random.choice(syll) + "/" + n
    return n
def version():
    return f"{random.randint(0, 12)}.{random.randint(0, 30)}.{random.randint(0, 20)}"
def entry(i, eco, pkg, real):
    # A real package (one the fixture locks) has advisories, mostly for older versions.
    mal = not real and random.random() < (0.35 if eco in ("npm", "PyPI") else 0.02)
    doc = {"schema_version": "1.6.0", "modified": "2025-01-01T00:00:00Z",
           "published": "2024-06-01T00:00:00Z"}
    if mal:
        doc["id"] = f"MAL-2025-{i}"
        doc["summary"] = f"Malicious code in {pkg} ({eco})"
        doc["details"] = "This package contains code that exfiltrates credentials on install."
        aff = {"package": {"ecosystem": eco, "name": pkg}}
        if random.random() < 0.5:
            aff["versions"] = [version() for _ in range(random.randint(1, 4))]
        else:
            aff["ranges"] = [{"type": "SEMVER" if eco == "npm" else "ECOSYSTEM",
                              "events": [{"introduced": "0"}]}]
        doc["affected"] = [aff]
        doc["database_specific"] = {"malicious-packages-origins": [{"source": "ghsa-malware"}]}
    else:
        doc["id"] = f"GHSA-{i:04x}-{random.randint(0, 65535):04x}-{random.randint(0, 65535):04x}"
        doc["aliases"] = [f"CVE-2024-{i}"]
        doc["summary"] = f"A vulnerability in {pkg}"
        doc["details"] = "An attacker can do something bad under some conditions. " * 4
        lo = version(); hi = version()
        lo, hi = sorted([lo, hi], key=lambda v: tuple(map(int, v.split("."))))
        if real and random.random() < 0.95:
            lo, hi = "0.0.1", "0.0.2"
        rtype = "SEMVER" if eco in ("npm", "crates.io", "Go") else "ECOSYSTEM"
        doc["affected"] = [{"package": {"ecosystem": eco, "name": pkg},
                            "ranges": [{"type": rtype, "events": [{"introduced": lo}, {"fixed": hi}]}],
                            "versions": [lo]}]
        doc["severity"] = [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}]
        doc["database_specific"] = {"severity": random.choice(["LOW", "MODERATE", "HIGH", "CRITICAL"]),
                                    "github_reviewed": True, "cwe_ids": ["CWE-79"]}
        doc["references"] = [{"type": "ADVISORY", "url": f"https://github.com/advisories/{doc['id']}"}]
    return doc
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
    for i in range(count):
        r = random.random()
        real = i < len(fixture_names) * 2
        if real:
            eco, pkg = "npm", fixture_names[i % len(fixture_names)]
        elif r < 0.55:
            eco, pkg = "npm", name("npm")
        elif r < 0.85:
            eco, pkg = "PyPI", name("PyPI")
        else:
            eco = random.choice(["crates.io", "Go", "RubyGems", "Packagist"]); pkg = name(eco)
        doc = entry(i, eco, pkg, real)
        z.writestr(f"{doc['id']}.json", json.dumps(doc, indent=2))
PY
echo "$BENCH_NAME: all.zip $(du -h "$work/all.zip" | cut -f1)"

mkdir -p "$work/empty-json"
echo '{"id": "GHSA-none", "affected": []}' >"$work/empty-json/none.json"
"$SAFEINSTALL" db import --into "$work/empty" "$work/empty-json" 2>/dev/null
start=$(date +%s.%N)
"$SAFEINSTALL" db import --into "$work/big" "$work/all.zip"
end=$(date +%s.%N)
echo "$BENCH_NAME: import took $("$PYTHON" -c "print(f'{$end - $start:.1f}')") s;" \
  "index $(du -h "$work/big/osv-index.tsv" | cut -f1), sparse table" \
  "$(du -h "$work/big/osv-index.sparse" | cut -f1)"

echo "$BENCH_NAME: findings on the fixture: $("$SAFEINSTALL" db check --db "$work/big" \
  --vuln-severity critical "$LOCKFILE" | tail -n 1 || true)"

hyperfine --warmup 3 --runs "$RUNS" -N --export-json "$work/hyperfine.json" \
  -i -n empty "$SAFEINSTALL db check --db $work/empty $LOCKFILE" \
  -n big "$SAFEINSTALL db check --db $work/big $LOCKFILE" >/dev/null

peak_rss() { # DB → KiB, the least of 5 runs
  local best=0 kib i
  for i in 1 2 3 4 5; do
    kib=$( { /usr/bin/time -v "$SAFEINSTALL" db check --db "$1" "$LOCKFILE" >/dev/null; } 2>&1 |
      awk '/Maximum resident set size/ {print $6}')
    if [ "$best" -eq 0 ] || [ "$kib" -lt "$best" ]; then best=$kib; fi
  done
  echo "$best"
}
rss_empty=$(peak_rss "$work/empty")
rss_big=$(peak_rss "$work/big")

"$PYTHON" - "$work/hyperfine.json" "$rss_empty" "$rss_big" "$ENTRIES" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
empty, big = results["empty"], results["big"]
rss_empty, rss_big, entries = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ms = lambda s: s * 1000
extra_ms = ms(big["median"] - empty["median"])
extra_mib = (rss_big - rss_empty) / 1024
print(f"P8 policy check, axios lockfile against {entries} OSV entries")
print(f"  empty database: median {ms(empty['median']):.1f} ms (min {ms(empty['min']):.1f}), peak RSS {rss_empty / 1024:.1f} MiB")
print(f"  big database:   median {ms(big['median']):.1f} ms (min {ms(big['min']):.1f}), peak RSS {rss_big / 1024:.1f} MiB")
cpu = lambda r: ms(r["user"] + r["system"])
print(f"  CPU time (user+sys, mean): {cpu(empty):.1f} ms vs {cpu(big):.1f} ms: {cpu(big) - cpu(empty):.1f} ms for the check")
print(f"  the check costs {extra_ms:.1f} ms wall (goal <= 50) and {extra_mib:.1f} MiB extra RSS (goal <= 8)")
PY
