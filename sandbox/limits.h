#pragma once
// Resource limits applied to the sandbox's processes.

#include "sandbox/error.h"
#include "sandbox/spec.h"

namespace safeinstall::sandbox {

// Never raises a limit above what the invoker already has.
Result<> apply_limits(const Limits& limits);

}  // namespace safeinstall::sandbox
