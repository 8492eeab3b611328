#!/bin/sh
# Writes data/popular/npm.txt and data/popular/pypi.txt: the most downloaded package names of
# each registry, which the typosquat check compares new direct dependencies with
# (docs/policy.md). Not run by the build or CI: run it by hand when the lists should be
# refreshed, and commit what it writes.
#
#   scripts/popular-packages.sh NPM_TSV PYPI_TSV [COUNT]
#
# NPM_TSV:  a registry listing with a header line and the columns
#           name, version, downloads_a_month, ... (tab-separated);
# PYPI_TSV: the same for PyPI with the columns name, version, month, rank, ... where rank is
#           the package's place among the most downloaded (empty for the others).
# COUNT:    how many names to keep per registry (default 3000).
#
# data/popular/crates.txt and rubygems.txt are kept by hand (see their headers).
set -eu

npm_tsv=$1
pypi_tsv=$2
count=${3:-3000}
out=$(cd "$(dirname "$0")/.." && pwd)/data/popular
mkdir -p "$out"

{
  echo "# The $count most downloaded npm packages in a month, most downloaded first."
  echo "# Written by scripts/popular-packages.sh; one name per line, '#' starts a comment."
  awk -F'\t' 'NR > 1 && $3 ~ /^[0-9]+$/ { print $3 "\t" $1 }' "$npm_tsv" |
    sort -t "$(printf '\t')" -k1,1nr | head -n "$count" | cut -f2
} >"$out/npm.txt"

{
  echo "# The $count most downloaded PyPI projects, most downloaded first."
  echo "# Written by scripts/popular-packages.sh; one name per line, '#' starts a comment."
  awk -F'\t' 'NR > 1 && $4 ~ /^[0-9]+$/ { print $4 "\t" $1 }' "$pypi_tsv" |
    sort -t "$(printf '\t')" -k1,1n | head -n "$count" | cut -f2
} >"$out/pypi.txt"

wc -l "$out/npm.txt" "$out/pypi.txt"
