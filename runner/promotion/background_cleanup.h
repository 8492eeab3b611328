#pragma once
// After a large promotion the old trees (a whole previous node_modules) and the spent
// staging are removed by a detached process at idle priority, so the command returns as soon
// as the project is new. The journal says "committed" until that process is done; if it is
// killed, the next safeinstall's start-up recovery (or gc) finishes the removal. The cleaner
// holds the run dir's lock (lock_run_dir) while it works.

#include "runner/store/run_store.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

// Starts the removal and returns once it runs on its own.
Result<void> finish_cleanup_in_background(const RunDir& run);

}  // namespace safeinstall::runner
