#pragma once
// A project's locked packages: every lockfile at its top level, read with the manifest
// beside it.

#include <string>

#include "runner/packages/package_set.h"

namespace safeinstall::runner {

// Every lockfile directly in `project_dir`; unreadable ones are listed in `errors`.
PackageSet read_project_packages(const std::string& project_dir);

// The project as a run left it, before promotion: a file the run wrote is in `upper` (the
// overlay's upper dir; a whiteout there means the run deleted it), any other in the project.
PackageSet read_staged_packages(const std::string& upper, const std::string& project_dir);

// Lockfiles larger than this are refused (an error, not a crash or a stall).
inline constexpr std::size_t kMaxLockfileBytes = 256u << 20;

}  // namespace safeinstall::runner
