#pragma once
// The sandbox's filesystem view: an empty read-only root holding only what the spec binds
// onto it (the allow-listed host paths, read-only, with paths inside hidden), fresh tmpfs
// for home and /tmp, a minimal /dev, a new /proc, and the project.

#include <vector>

#include "sandbox/base/error.h"
#include "sandbox/base/spec.h"

namespace safeinstall::sandbox {

// Runs inside the new user+mount namespace (as its pid 1, before exec). On success the
// process's root is the new tree and the host's tree is no longer reachable from it.
Result<> build_filesystem(const std::vector<MountSpec>& mounts);

}  // namespace safeinstall::sandbox
