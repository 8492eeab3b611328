#pragma once
// After a large promotion the old trees (a whole previous node_modules) and the spent
// staging are removed by a detached process at idle priority, so the command returns as soon
// as the project is new. The journal says "committed" until that process is done; if it is
// killed, the next safeinstall's start-up recovery (or gc) finishes the removal.

#include <optional>

#include "runner/store/run_store.h"
#include "sandbox/base/error.h"
#include "sandbox/base/fd.h"

namespace safeinstall::runner {

// Starts the removal and returns once it runs on its own.
Result<void> finish_cleanup_in_background(const RunDir& run);

// Held by whoever removes a run's old trees; nullopt when another process holds it.
Result<std::optional<sandbox::UniqueFd>> lock_run_cleanup(const RunDir& run);

}  // namespace safeinstall::runner
