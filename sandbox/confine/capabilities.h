#pragma once
// Privilege drop: no capability in any set, locked securebits, no_new_privs.

#include "sandbox/base/error.h"

namespace safeinstall::sandbox {

// After this, neither this process nor anything it executes can regain a capability:
// the bounding and ambient sets are empty, root gets no special treatment on exec, setuid
// and file capabilities are ignored (no_new_privs).
Result<> drop_all_privileges();

}  // namespace safeinstall::sandbox
