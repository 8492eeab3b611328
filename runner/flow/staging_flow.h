#pragma once
// The steps around the sandbox that keep the real project untouched until a run is judged:
// the run store (with recovery of interrupted promotions), the project lock, the snapshot
// and staging dirs before; the change list, verdict and promotion after.

#include <cstdint>
#include <future>
#include <optional>
#include <string>

#include "runner/options.h"
#include "runner/packages/package_set.h"
#include "runner/promotion/promotion.h"
#include "runner/record/run_record.h"
#include "runner/staging/project_snapshot.h"
#include "runner/staging/staging_usage.h"
#include "runner/staging/verdict.h"
#include "runner/store/run_store.h"
#include "sandbox/base/error.h"

namespace safeinstall::runner {

// The state dir opened, and every interrupted promotion whose project is free finished or
// rolled back (said on stderr).
Result<RunStore> open_run_store();

// The project's lock, waiting while another run holds it and saying so on stderr.
Result<ProjectLock> lock_project_waiting(const RunStore& store, const std::string& project);

// The project as the run began, recorded before the command where its filesystem cannot
// tell when the run began.
struct ProjectAtStart {
  ProjectSnapshot snapshot;
  PackageSet packages;  // the project's lockfiles
};

// Everything a staged run holds on to while the command runs.
struct StagedRun {
  ProjectLock lock;  // released last: nothing else touches the project meanwhile
  StoredRun run;
  // When the run began by the project's filesystem (began_by_filesystem), under the lock
  // before the sandbox starts: the paths the run touched are recorded after the command, and
  // what changed since this moment is marked so (project_snapshot.h: snapshot_touched).
  // Unset when the filesystem cannot tell: the whole project was then recorded by stage_run.
  std::optional<std::int64_t> began;
  std::future<PackageSet> reading_packages;  // record_project_beside
  std::future<Result<void>> making_durable;  // record_project_beside: the run's meta.json
  // Filled by stage_run, or by await_project_record and record_touched_paths.
  ProjectSnapshot snapshot;
  PackageSet packages_before;
};

// Locks the project (waiting, and saying so, while another run holds it), creates the run's
// staging dirs, notes when the run began by the project's filesystem (or, where that cannot
// be told, records the project at once) and turns the plan's project mount into an overlay
// on the staging dirs.
Result<StagedRun> stage_run(RunStore& store, RunRecord& record, const Options& options);

// Starts, in threads of their own beside the command, reading the project's lockfiles as the
// run began and making the run's first meta.json durable (its fsyncs wait for the disk, which
// would otherwise delay the command's start). Only after sandbox::launch: the sandbox is
// cloned with a raw clone, which must not copy a lock another thread holds.
void record_project_beside(StagedRun& staged, const std::string& project);

// Waits for both and keeps the reading in `staged`. Before anything after the command: the
// run's record is durable before any step that a power cut could interrupt halfway.
Result<void> await_project_record(StagedRun& staged, RunRecord& record);

// After the change list: the project at the paths the run touched (snapshot_touched), saved
// in the run dir for a later `safeinstall promote`, and kept in `staged` for promotion.
Result<void> record_touched_paths(StagedRun& staged, RunRecord& record);

// files.project from the upper dir, categorized, and the verdict on it. Listing stops with
// an error once `deadline` has passed. A run that staged more than `budget` (while it ran, or
// in the list: sparse files count their apparent size) is rejected.
Result<Verdict> judge_changes(RunRecord& record, const StagedRun& staged, const Options& options,
                              const Deadline& deadline, const StagingBudget& budget);

// What the user decided about a held run, or what the flags decided.
enum class Decision { promote, keep };

// Promotes, holds or rejects per the verdict (asking on a terminal when held), records the
// outcome in `record` and the run's meta, and returns safeinstall's exit code.
int settle(RunRecord& record, StagedRun& staged, const Verdict& verdict, const RunStore& store,
           const Options& options);

// The command never ran or its changes could not be judged: the run is kept with the verdict
// already in `record`, nothing promoted.
void settle_unrun(RunRecord& record, StagedRun& staged, const RunStore& store);

// --timeout expired before (or while) `step` ran after the command: nothing is promoted and
// the run is kept with what is known — `failed` when the timeout stopped the command itself,
// `held` when only what came after it overran (the changes may be promoted by hand).
// Returns safeinstall's exit code, kTimedOut.
int settle_past_deadline(RunRecord& record, StagedRun& staged, const RunStore& store,
                         const std::string& step);

// Promotion of a stored run's staged changes with conflict detection: on a conflict nothing
// is promoted and the run stays as it was. Fills record.staging (promoted entries, skipped).
struct PromotionAttempt {
  bool promoted = false;
  bool conflict = false;
  std::string message;  // why not, when not promoted
};
PromotionAttempt promote_stored_run(const RunStore& store, const StoredRun& run,
                                    ChangeList& changes, const ProjectSnapshot* snapshot,
                                    bool allow_unexpected, bool allow_protected,
                                    StagingRecord& staging);

// stdin and stderr are terminals and CI is not set: a held run may be asked about.
bool can_ask();

}  // namespace safeinstall::runner
