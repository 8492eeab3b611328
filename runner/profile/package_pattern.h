#pragma once
// Package patterns of the package policy ([policy] allow_packages, min_release_age_exclude,
// [scripts] allow): a name or name glob, and optionally a version after `@`:
//   "lodash", "@myorg/*", "react@^18", "sharp@0.33", "@scope/tool@~1.2"
// `*` matches any run of characters ('/' included); names compare case-blind.
// A version is "^X[.Y[.Z]]" (major X, at least X.Y.Z), "~X.Y[.Z]" (X.Y, at least X.Y.Z) or a
// prefix of whole components ("0.33" takes 0.33.0 and 0.33.7, not 0.330.0).

#include <string>
#include <string_view>
#include <vector>

#include "sandbox/base/error.h"

namespace safeinstall::runner {

struct PackagePattern {
  std::string name;     // lowercase glob
  std::string version;  // as written after '@'; empty for any version
  std::string text;     // as written

  bool matches(std::string_view package_name, std::string_view package_version) const;
  bool matches_name(std::string_view package_name) const;
};

Result<PackagePattern> parse_package_pattern(std::string_view text);

// True when some pattern matches; patterns are few, so a scan is enough.
bool any_matches(const std::vector<PackagePattern>& patterns, std::string_view name,
                 std::string_view version);

// "^18" / "~1.2" / "0.33" against an exact version, as described above.
bool version_matches(std::string_view range, std::string_view version);

}  // namespace safeinstall::runner
