#!/usr/bin/env bash
# Installs the Debian 12 packages safeinstall needs to build, test and benchmark.
# Idempotent: packages already present are skipped by apt-get.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libseccomp-dev libcap-dev libboost1.81-dev libtomlplusplus-dev catch2
  nlohmann-json3-dev libcli11-dev libfmt-dev libssl-dev libyaml-cpp-dev libzip-dev libpugixml-dev
  clang libclang-rt-14-dev clang-16 libclang-rt-16-dev clang-format
  iproute2 util-linux procps curl ca-certificates
  nodejs npm bubblewrap hyperfine python3 python3-jsonschema
  # The package managers the tests run against registries they serve themselves
  # (tests/support/npm_registry.h, ecosystem_registries.h), and the archivers that build them.
  python3-pip python3-venv ruby ruby-bundler cargo golang-go composer php-cli php-zip yarnpkg
  zip unzip
  # Shells whose rc files `safeinstall setup` writes aliases into (bash is always there).
  zsh fish
  # The Public Suffix List: host patterns such as *.co.uk are refused as too broad.
  publicsuffix
  # Packaging: the man page is help2man's rendering of --help; `cpack -G DEB` reads the shared
  # library dependencies with dpkg-shlibdeps (dpkg-dev); the completion tests run zsh and fish.
  help2man dpkg-dev zsh fish
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come from another source (the machine's own Node.js): accept a working npm binary.
if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
filtered=()
for p in "${missing[@]}"; do [ -n "$p" ] && filtered+=("$p"); done

if [ "${#filtered[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to install: ${filtered[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${filtered[@]}"
fi

# The SARIF 2.1.0 JSON schema (OASIS), which the tests validate --sarif output against. Debian
# does not package it; the npm registry has it inside @microsoft/jest-sarif. Pinned by hash.
readonly SARIF_SCHEMA=/usr/local/share/safeinstall-tests/sarif-2.1.0.json
readonly SARIF_SCHEMA_SHA256=2d99159ae54a3eea97f81781cff48780548657c35949f4b7f25e99a2ba4de4f8
fetch_sarif_schema() {
  local tmp
  tmp=$(mktemp -d)
  if (cd "$tmp" && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null 2>&1 &&
    tar xzf microsoft-jest-sarif-1.0.0-beta.0.tgz package/lib/schemas/sarif-2.1.0-rtm.5.json) &&
    echo "$SARIF_SCHEMA_SHA256  $tmp/package/lib/schemas/sarif-2.1.0-rtm.5.json" | sha256sum -c --quiet -; then
    mkdir -p "$(dirname "$SARIF_SCHEMA")"
    install -m 0644 "$tmp/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$SARIF_SCHEMA"
  else
    echo "setup: could not fetch the SARIF schema from the npm registry; the SARIF tests will say so" >&2
  fi
  rm -rf -- "$tmp"
}
if [ ! -s "$SARIF_SCHEMA" ] && [ "$(id -u)" -eq 0 ]; then fetch_sarif_schema; fi
