#pragma once
// Where runs live and how they are found again.
//
// State directory: $SAFEINSTALL_STATE_DIR, else $XDG_STATE_HOME/safeinstall, else
// $HOME/.local/state/safeinstall. It holds
//   runs/<run_id>/meta.json      what the run was (project, command, verdict, promoted...)
//   runs/<run_id>/report.json    the report, written by the runner
//   runs/<run_id>/journal.json   promotion journal (promotion.h)
//   runs/<run_id>/snapshot.bin   the project's state at run start (project_snapshot.h)
//   locks/<hash>.lock            one per project (hash of its canonical path)
//   trash/                       what pruning, slimming and discarding took away, until a
//                                detached process removes it (runner/fs/trash.h)
// and, when staging is in the state dir, the staging dirs next to meta.json:
//   runs/<run_id>/{upper,work,build,trash}
//
// Where staging goes (the overlay's upper and work dirs), in this order:
//   1. the run dir in the state dir, when it is on the same mount as the project: promotion
//      is then rename(2) only;
//   2. <parent of project>/.safeinstall-staging/<run_id> (parent dir 0700, ours), when the
//      state dir is elsewhere but the project's parent is writable and on the project's mount:
//      outside the project tree (an overlay's upper dir must not be inside its lower dir)
//      and still rename-only;
//   3. the state dir anyway, with copy-based promotion (promotion.h says so in its result).
// "Same mount" is compared with statx's mount id, not just st_dev: a bind mount of the same
// filesystem still makes rename fail with EXDEV.
//
// Everything is created 0700 and must be owned by the invoking user; a state or staging dir
// owned by someone else is refused, never used.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runner/fs/trash.h"
#include "sandbox/base/error.h"
#include "sandbox/base/fd.h"

namespace safeinstall::runner {

// The directories of one run.
struct RunDir {
  std::string id;
  std::string path;     // <state>/runs/<id>: meta, report, journal, snapshot
  std::string staging;  // where upper/work/build/trash live (== path unless staged elsewhere)

  std::string upper() const { return staging + "/upper"; }
  std::string work() const { return staging + "/work"; }
  std::string build() const { return staging + "/build"; }  // promotion's scratch space
  std::string trash() const { return staging + "/trash"; }  // old trees until removed
  std::string meta_file() const { return path + "/meta.json"; }
  std::string report_file() const { return path + "/report.json"; }
  std::string receipt_file() const { return path + "/receipt.txt"; }
  std::string journal_file() const { return path + "/journal.json"; }
  std::string snapshot_file() const { return path + "/snapshot.bin"; }
  std::string caches() const { return path + "/caches"; }  // package caches' upper/work dirs

  // A run dir that is its own staging dir (tests, the promotion driver).
  static RunDir at(const std::string& dir);
};

// How a run judged its project changes, kept so that `promote RUN_ID` judges them the same
// way later: the expected globs in force (the profile's [files] expected, a build command's
// outputs, the project's .safeinstall.toml additions, --expect), the protected globs (the
// built-in ones and the profile's additions) and the manifests whose dependency edits count
// as expected (an install command's).
struct RunJudging {
  std::vector<std::string> expected;
  std::vector<std::string> protected_paths;
  std::vector<std::string> dependency_manifests;
};

struct RunMeta {
  std::string run_id;
  std::string project;  // canonical absolute path
  std::vector<std::string> command;
  std::chrono::system_clock::time_point created_at;
  std::string staging;          // where upper/work live
  bool copy_promotion = false;  // staging is on another mount than the project
  std::string staging_note;     // why staging is where it is, for the receipt
  std::string verdict;          // promoted | held | rejected | failed | staged ("" while running)
  bool promoted = false;
  bool discarded = false;
  // Top-level names staged through a plain bind, not the overlay (change_list.h).
  std::vector<std::string> direct_dirs;
  // Directories outside the project its manifests named (RunPlan::local_dependencies): links
  // into them are not symlink escapes when the run is promoted later.
  std::vector<std::string> local_dependencies;
  // The command's exit status as the report has it; -1 until known (and in runs kept by
  // older versions). Cache additions kept with a held run merge only after an exit of 0.
  int exit_code = -1;
  // Unset in runs kept by older versions: promotion then judges with the tool's built-in
  // expected writes (expected_writes_for).
  std::optional<RunJudging> judging;
  // When the run began by the project's filesystem (began_by_filesystem), in nanoseconds; unset
  // where the whole project was recorded before the command. A run kept without its snapshot
  // (the time ran out before the paths it touched were recorded) is checked against it when
  // promoted later.
  std::optional<std::int64_t> began_ns;
};

struct RunSummary {
  std::string id;
  std::string project;
  std::string verdict;
  std::chrono::system_clock::time_point created_at;
  std::chrono::seconds age{0};
  bool promoted = false;
  bool discarded = false;
  bool promotion_unfinished = false;  // a journal says a promotion was interrupted
};

struct StoredRun {
  RunDir dir;
  RunMeta meta;
};

// Which finished runs automatic pruning and `safeinstall runs prune` remove ([runs] in the
// profiles; flags of `runs prune`). Unset: that rule does not apply.
struct PrunePolicy {
  std::optional<std::size_t> keep;              // runs (of any state) newer than it kept
  std::optional<std::chrono::seconds> max_age;  // finished runs older than this removed
};

struct PruneResult {
  std::vector<std::string> removed;  // whole runs
  std::vector<std::string> slimmed;  // promoted runs reduced to their report and receipt
  std::vector<std::string> problems;
};

struct GcResult {
  std::vector<std::string> removed_runs;
  std::size_t trash_dirs_removed = 0;
  std::vector<std::string> problems;  // runs that could not be removed, and why
};

// Held for as long as it lives: no other safeinstall run touches the same project.
class ProjectLock {
 public:
  ProjectLock() = default;
  explicit ProjectLock(sandbox::UniqueFd fd) : fd_(std::move(fd)) {}
  bool held() const { return fd_.valid(); }

 private:
  sandbox::UniqueFd fd_;  // flock(LOCK_EX) on it; closing releases
};

// $SAFEINSTALL_STATE_DIR, $XDG_STATE_HOME/safeinstall or $HOME/.local/state/safeinstall.
Result<std::string> default_state_dir();

// Run ids are safeinstall's own (new_run_id); anything else given on a command line is
// refused before it becomes a path.
bool valid_run_id(std::string_view id);

class RunStore {
 public:
  // Creates <state>/{runs,locks} (0700) as needed and checks they are ours.
  static Result<RunStore> open(const std::string& state_dir);

  const std::string& state_dir() const { return state_dir_; }

  // Makes the run's directories (staging chosen as above) and writes meta.json. `meta`
  // supplies project, command and created_at; id and staging fields are filled in. The
  // upper dir gets the project root's permission bits, since the overlay's root shows them.
  // meta.json is not yet durable: the caller makes it so (make_durable) while the sandbox
  // starts, and before anything after the command, rather than waiting for the disk first.
  Result<StoredRun> create_run(const std::string& run_id, RunMeta meta);

  Result<StoredRun> load_run(const std::string& run_id) const;
  Result<void> save_meta(const RunDir& run, const RunMeta& meta, bool durable = true) const;
  // Newest first. Runs whose meta.json cannot be read are skipped.
  Result<std::vector<RunSummary>> list_runs() const;

  // Removes the staged changes (upper, work, build, trash) and marks the run discarded;
  // meta.json and report.json stay until gc. Refused while a promotion is unfinished.
  Result<void> discard(const std::string& run_id) const;

  // Removes runs older than `max_age` that are finished with: promoted, discarded, rejected
  // or failed (held and staged ones too when `include_kept`), and every run's trash and
  // build leftovers. Runs with an unfinished promotion are left for recovery.
  Result<GcResult> gc(std::chrono::seconds max_age, bool include_kept = false) const;

  // Promoted runs keep only meta.json, report.json and receipt.txt (their staged trees,
  // snapshot, decoys and logs go); then runs that are finished with — promoted, discarded,
  // rejected or failed — are removed when more than `policy.keep` runs are newer or they are
  // older than `policy.max_age`. Held and staged runs are never pruned: only the user's
  // `discard` or `gc --all` removes them. Runs whose project is locked (a run or promotion
  // in progress) and runs with an unfinished promotion are left alone.
  Result<PruneResult> prune(const PrunePolicy& policy) const;
  // After each run: the newest run is slimmed; past `keep`, only the runs the run ids (which
  // start with their creation time) put at or past the boundary are read and pruned; the whole
  // prune only when an id says a run is past `max_age` or has no time. Spares every run a read
  // of every kept run's metadata.
  Result<PruneResult> prune_after_run(const PrunePolicy& policy) const;

  // Blocking per-project lock; `on_wait` is called once if another run holds it (the runner
  // prints "waiting for another safeinstall run on <project>").
  Result<ProjectLock> lock_project(const std::string& project,
                                   const std::function<void()>& on_wait = {}) const;
  // nullopt when another run holds it.
  Result<std::optional<ProjectLock>> try_lock_project(const std::string& project) const;

  std::string runs_dir() const { return state_dir_ + "/runs"; }
  std::string lock_file_for(const std::string& project) const;
  // Where removed runs and staged data go until they are deleted: pruning, slimming and
  // discarding return after a rename; gc empties it; callers start its emptying in the
  // background (Trash::empty_in_background) once they are done.
  Trash trash() const { return Trash(state_dir_ + "/trash"); }

 private:
  explicit RunStore(std::string state_dir) : state_dir_(std::move(state_dir)) {}
  RunDir run_dir(const std::string& id, const std::string& staging) const;
  // Newest first; runs whose meta.json cannot be read are skipped.
  std::vector<RunSummary> summaries_of(const std::vector<std::string>& names) const;
  // prune() over `runs` (newest first), `newer` other runs being newer than all of them.
  Result<PruneResult> prune_listed(const std::vector<RunSummary>& runs, std::size_t newer,
                                   const PrunePolicy& policy) const;
  std::string state_dir_;
};

// Reads meta.json of a run dir.
Result<RunMeta> load_meta(const RunDir& run);

// Where staging for a project should go; see the header comment. `run_path` is the run's
// dir in the state dir.
struct StagingChoice {
  std::string staging;
  bool copy_promotion = false;
  std::string note;
};
Result<StagingChoice> choose_staging(const std::string& run_path, const std::string& project);

// Held by whoever removes a promoted run's old trees (the detached cleaner of a large
// promotion, start-up recovery); nullopt when another process holds it.
Result<std::optional<sandbox::UniqueFd>> lock_run_dir(const RunDir& run);

// The run's promotion is committed but its old trees are not removed yet: pruning waits.
bool cleanup_pending(const RunDir& run);

}  // namespace safeinstall::runner
