#pragma once
// npm only, and only until the lockfile readers of runner/packages land: the packages of a
// package-lock.json (lockfile v2/v3 `packages`) and what changed between two of them, so the
// package policy has real changes to judge. Replace with the general reader and diff.

#include <set>
#include <string>
#include <string_view>

#include "runner/packages/package_set.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

struct NpmLock {
  PackageSet packages;
  std::set<std::string> install_scripts;  // name@version with `hasInstallScript: true`
};

// `source` is the lockfile's project-relative path, kept in each PackageVersion.
Result<NpmLock> read_npm_lock(std::string_view text, const std::string& source);

// What moved from `before` to `after` (by name; a name locked at several versions compares its
// set of versions).
PackageChanges npm_lock_changes(const PackageSet& before, const PackageSet& after);

}  // namespace safeinstall::runner
