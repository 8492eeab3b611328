#pragma once
// A minimal /dev: the handful of device nodes build tools need, a private devpts and shm.

#include <string>

#include "sandbox/base/error.h"

namespace safeinstall::sandbox {

// `target` is the /dev mount point in the tree being built; `host_root` is where the
// host's own tree is reachable, to bind its device nodes (mknod is not allowed in a
// user namespace, binding an existing node is).
Result<> build_dev(const std::string& target, const std::string& host_root);

}  // namespace safeinstall::sandbox
