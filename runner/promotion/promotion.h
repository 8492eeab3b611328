#pragma once
// Atomic promotion of a staged run into the real project.
//
// The unit is the project's top-level entry: at any instant, even under kill -9, each one is
// wholly old or wholly new, and the project as a whole is as it was or, once recovered,
// fully promoted. The parts, each with its share of that contract at its top:
//   plan.h     which entries are swapped, built, removed or skipped, and which changes
//              are promoted at all;
//   prepare.h  new versions made beside the targets; what is never trusted;
//   commit.h   the journal, the renames into the project and recovery: crash safety;
//   places.h   where scratch lives, and the copy-based fallback across mounts;
//   interrupted.cpp  start-up recovery of every interrupted promotion of the store.
//
// The caller holds the project lock (RunStore::lock_project) and nothing writes to the
// upper dir any more (the sandbox is gone).

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "runner/staging/change_list.h"
#include "runner/store/run_store.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

struct ConflictCheck;
class ProjectSnapshot;

struct PromotionOptions {
  // Expected changes are always promoted; the others only when allowed.
  bool allow_unexpected = false;  // --yes (or a yes on a terminal)
  bool allow_protected = false;   // --allow-protected
  // Leave old trees in trash for remove_trash() (or recovery, or gc) so promote() returns as
  // soon as the project is new; removing a large old node_modules takes seconds. Not for a
  // copy-based promotion, whose scratch is inside the project.
  bool defer_cleanup = false;
  // Otherwise, remove now only the names the spent trees share with the project (under the
  // project's lock the caller holds: no run reads their removal as an edit) and leave the
  // rest in the run dir for the slimming of promoted runs (RunStore::prune_after_run), which
  // moves it into the store's trash with one rename and removes it in the background. On a
  // disk mounted with `discard` every freed file costs milliseconds. Not copy-based either.
  bool leave_spent_trees = false;
  bool force_copy = false;  // copy-based even on one filesystem (tests)
  // The project checked against the run's snapshot (find_conflicts) by the caller, under the
  // lock it holds: when set and not clean, nothing is promoted. The caller checks once and
  // uses the same result for what it tells the user.
  const ConflictCheck* conflicts = nullptr;
  // The project as the run began: a large real directory the run changed only in a few
  // places (`npm install PKG` in an existing node_modules) is then promoted entry by entry
  // below it instead of being rebuilt whole (plan.h).
  const ProjectSnapshot* snapshot = nullptr;
  // Test hook: called after each step's rename into the project.
  std::function<void(const std::string& entry)> after_step;
};

struct SkippedChange {
  std::string path;
  std::string reason;  // "unexpected (promoted with --yes)", "special file: never promoted"...
};

struct PromotionResult {
  std::vector<std::string> promoted;  // top-level entries now new (or removed)
  std::vector<SkippedChange> skipped;
  std::vector<std::string> notes;   // entries found changed at the last moment and left alone
  std::size_t modes_clamped = 0;    // set-id or world-write bits cleared
  std::size_t xattrs_stripped = 0;  // entries whose foreign xattrs were removed
  std::size_t hardlinks_copied = 0;
  bool copy_based = false;
  std::string copy_reason;  // why, when copy_based
  bool cleanup_deferred = false;
  std::chrono::microseconds prepare_time{0};  // building new versions
  std::chrono::microseconds commit_time{0};   // journal and renames into the project
  std::chrono::microseconds cleanup_time{0};  // removing old trees
};

// Promotes `changes` (listed from run.upper() against `project`, and categorized) into
// `project` (absolute, canonical). Fails with a message naming the entry and the step; if
// it fails after the commit point the journal stays "committing" and recover() finishes.
Result<PromotionResult> promote(const RunDir& run, const std::string& project,
                                const ChangeList& changes, const PromotionOptions& options = {});

enum class RecoveryOutcome {
  nothing_to_do,   // no journal, or the last promotion finished
  rolled_back,     // interrupted while preparing: scratch removed, project untouched
  rolled_forward,  // interrupted while committing: finished, the project is new
  cleaned_up,      // the project was new already; trash removed
};
std::string_view to_string(RecoveryOutcome outcome);

struct RecoveryResult {
  RecoveryOutcome outcome = RecoveryOutcome::nothing_to_do;
  // Entries that changed after the interruption and were left as they are, and the like.
  std::vector<std::string> notes;
};

// Finishes (or, before the commit point, undoes) an interrupted promotion of `run`. Safe to
// call any number of times, and after any crash inside it. The caller holds the lock.
Result<RecoveryResult> recover(const RunDir& run);

// True when run's journal says a promotion is preparing or committing.
Result<bool> has_unfinished_promotion(const RunDir& run);

// Removes the trash a promote(defer_cleanup) left.
Result<void> remove_trash(const RunDir& run);

struct RecoveredRun {
  std::string run_id;
  std::string project;
  RecoveryResult result;
};

// Start-up: recovers every run of the store with an unfinished journal whose project lock
// is free (a locked one is being promoted right now), and marks rolled-forward runs
// promoted in their meta.json.
Result<std::vector<RecoveredRun>> recover_interrupted_promotions(const RunStore& store);

}  // namespace safeinstall::runner
