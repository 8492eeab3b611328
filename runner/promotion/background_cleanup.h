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

// Whether such a removal of an earlier run of `project` is under way. Its unlinks move the
// ctime of every file the project still shares with the old trees (a kept package linked
// into the new node_modules), which a run beginning now must not read as the user's edits.
Result<bool> cleanup_under_way(const RunStore& store, const std::string& project);

}  // namespace safeinstall::runner
