#pragma once
// The project must take the run's changes: a project the invoker cannot write (its
// permissions, a read-only mount, an immutable directory) is refused before the sandbox is
// built, not found out after the whole install ran.

#include <string>

#include "sandbox/base/error.h"

namespace safeinstall::runner {

Result<> check_project_writable(const std::string& project);

}  // namespace safeinstall::runner
