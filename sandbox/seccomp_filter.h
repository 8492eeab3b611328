#pragma once
// The seccomp filter: refuses the syscalls that let sandboxed code escape, spy on others or
// reach the kernel's rarely-hardened corners. Loaded last, just before the command runs.

#include <string>
#include <vector>

#include "sandbox/error.h"

namespace safeinstall::sandbox {

// The names the filter refuses with EPERM for every architecture this kernel can run
// (native, x32, ia32). Exposed for tests and the documentation.
const std::vector<std::string>& refused_syscalls();

// Builds and loads the filter into the calling process (needs no_new_privs first).
Result<> install_seccomp_filter();

}  // namespace safeinstall::sandbox
