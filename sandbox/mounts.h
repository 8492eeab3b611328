#pragma once
// The sandbox's filesystem view: a read-only copy of the host tree with paths hidden,
// fresh tmpfs for home and /tmp, a minimal /dev, a new /proc, and chosen binds.

#include <vector>

#include "sandbox/error.h"
#include "sandbox/spec.h"

namespace safeinstall::sandbox {

// Runs inside the new user+mount namespace (as its pid 1, before exec). On success the
// process's root is the new tree and the host's tree is no longer reachable from it.
Result<> build_filesystem(const std::vector<MountSpec>& mounts);

}  // namespace safeinstall::sandbox
