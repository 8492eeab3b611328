#pragma once
// Versions compared the way each ecosystem orders them, and OSV's affected ranges
// (https://ossf.github.io/osv-schema/#affectedranges-field) matched against a version.

#include <string>
#include <string_view>
#include <vector>

#include "runner/packages/package_set.h"

namespace safeinstall::runner {

// SemVer 2.0 precedence (a leading "v" and build metadata ignored); versions that are not
// SemVer fall back to compare_loose.
int compare_semver(std::string_view a, std::string_view b);
// PEP 440: epoch, release (trailing zeros ignored), dev < pre (a < b < rc) < final < post,
// local version labels ignored.
int compare_pep440(std::string_view a, std::string_view b);
// RubyGems: segments split at '.' and at letter/digit boundaries; a letter segment is a
// prerelease and sorts before any number; trailing zero segments ignored.
int compare_rubygems(std::string_view a, std::string_view b);
// Composer (PHP version_compare): dev < alpha < beta < RC < release < patch; a leading "v"
// ignored.
int compare_composer(std::string_view a, std::string_view b);
// Digit runs as numbers, everything else as text: "1.10" > "1.9".
int compare_loose(std::string_view a, std::string_view b);

// The ecosystem's own order (npm, crates.io and Go: SemVer).
int compare_versions(Ecosystem ecosystem, std::string_view a, std::string_view b);

// Two spellings of one version ("v1.2.3" in go.sum, "1.2.3" in OSV; "1.0" and "1.0.0" in
// PyPI) are the same version.
bool same_version(Ecosystem ecosystem, std::string_view a, std::string_view b);

struct RangeEvent {
  enum class Kind { introduced, fixed, last_affected, limit };
  Kind kind = Kind::introduced;
  std::string version;  // "0" for introduced: every version
};

struct AffectedRange {
  bool semver = false;  // type SEMVER; else ECOSYSTEM (GIT ranges are never kept)
  std::vector<RangeEvent> events;
};

// Whether `version` falls in `range`: in a span opened by an `introduced` at or below it and
// not closed by a `fixed` at or below it or a `last_affected` below it.
bool in_range(Ecosystem ecosystem, std::string_view version, const AffectedRange& range);

}  // namespace safeinstall::runner
