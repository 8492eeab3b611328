#pragma once
// Resource limits applied to the sandbox's processes.

#include "sandbox/base/error.h"
#include "sandbox/base/spec.h"

namespace safeinstall::sandbox {

// The limits of the whole sandbox (core dumps, open files, processes), set in pid 1 and
// inherited by all. Never raises a limit above what the invoker already has.
Result<> apply_limits(const Limits& limits);

// The per-process limits only the command and its descendants get (data size, CPU time):
// called between clone and exec, so it allocates nothing and returns 0 or an errno.
int apply_command_limits(const Limits& limits);

}  // namespace safeinstall::sandbox
