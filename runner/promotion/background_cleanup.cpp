#include "runner/promotion/background_cleanup.h"

#include "runner/fs/trash.h"
#include "runner/promotion/promotion.h"

namespace safeinstall::runner {

Result<void> finish_cleanup_in_background(const RunDir& run) {
  auto started = run_detached("si-cleanup", [run] {
    auto lock = lock_run_dir(run);
    return lock && *lock && remove_trash(run).has_value();
  });
  if (!started)
    return plain_error("start removing the old trees of run " + run.id + ": " +
                       started.error().message());
  return {};
}

}  // namespace safeinstall::runner
