#pragma once
// After a large promotion the old trees (a whole previous node_modules) and the spent
// staging are removed by a detached process at idle priority, so the command returns as soon
// as the project is new. The journal says "committed" until that process is done; if it is
// killed, the next safeinstall's start-up recovery (or gc) finishes the removal. The cleaner
// holds the run dir's lock (lock_run_dir) while it works.
//
// The old trees and the staged tree share inodes with the project: a directory promotion
// rebuilds links every entry it kept and every staged file it places (prepare.cpp), and
// removing the other name of such an entry moves its ctime in the project. A run on the project
// reads a ctime after its start as the user's edit (project_snapshot.h), so those names go only
// while the cleaner holds the project's lock, in short batches: never while a run is between its
// start and its promotion.

#include <cstddef>
#include <functional>

#include "runner/store/run_store.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

// Takes the project's lock, waiting while a run holds it.
using ProjectLocker = std::function<Result<ProjectLock>()>;

// Starts the removal and returns once it runs on its own.
Result<void> finish_cleanup_in_background(const RunDir& run, ProjectLocker lock_project);

// Removes the names in the run's old trees, build dir and upper dir of every non-directory
// that has another link (in the project, most likely), each batch under the project's lock;
// what is left of them shares nothing. Returns how many it removed.
Result<std::size_t> remove_shared_links(const RunDir& run, const ProjectLocker& lock_project);

}  // namespace safeinstall::runner
