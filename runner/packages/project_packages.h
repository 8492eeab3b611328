#pragma once
// A project's locked packages: every lockfile at its top level and, for workspaces and
// monorepos that keep one per member (Cargo, Go, Composer), a few directories below it, each
// read with the manifest beside it.

#include <cstddef>
#include <string>
#include <string_view>

#include "runner/packages/package_set.h"

namespace safeinstall::runner {

// Trees a project walk never enters: installed packages, VCS data, virtualenvs, build output.
bool skipped_in_project_walk(std::string_view name);

// How far below the top level lockfiles are looked for, outside skipped trees and symlinks,
// and in how many directories at most (the staged tree is the command's: never unbounded).
inline constexpr int kNestedLockfileDepth = 3;
inline constexpr std::size_t kMaxDirsForLockfiles = 2000;

// Every lockfile in `project_dir` and up to `depth` directories below it (0: only directly
// in it), sources named project-relative ("crates/a/Cargo.lock"); unreadable ones are listed
// in `errors`.
PackageSet read_project_packages(const std::string& project_dir, int depth = kNestedLockfileDepth);

// The project as a run left it, before promotion: a file the run wrote is in `upper` (the
// overlay's upper dir; a whiteout there, on the file or a directory above it, means the run
// deleted it), any other in the project. With `before` (read_project_packages as the run
// began), a lockfile the run left as it was, its manifest too, is taken from there rather
// than read and parsed again: `npm ci` leaves a lockfile of megabytes that is otherwise
// parsed twice, the second time while the change list is held.
PackageSet read_staged_packages(const std::string& upper, const std::string& project_dir,
                                const PackageSet* before = nullptr);

// Lockfiles larger than this are refused (an error, not a crash or a stall).
inline constexpr std::size_t kMaxLockfileBytes = 256u << 20;

}  // namespace safeinstall::runner
